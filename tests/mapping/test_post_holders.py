"""Who held a post when: each membership carries the wave of the profile that states it and the
page's note; a city's name is its preferred label on the updated site's page, an alternative
label elsewhere (``innograph.mapping.city_label_property``)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDFS, SKOS

from conftest import FRAGMENTS, SEED
from innograph.mapping import SourceDocument, map_profile
from innograph.parsing import parse_profile
from innograph.records import SurveyContext, SurveyOptions

BASE = "https://w3id.org/innograph/"
IG = "https://w3id.org/innograph/def/"
WAVE = f"{BASE}vocab/survey-waves/"


def triples(text: str, name: str, options: SurveyOptions) -> set[tuple[object, ...]]:
    profile = parse_profile(text, name, options).profile
    quads = map_profile(profile, SourceDocument.of(name, text.encode()), BASE, "t")
    return {q[:3] for q in quads}


def test_memberships_carry_the_wave_and_the_note(options: SurveyOptions) -> None:
    # the seed's line 15 with a note as other pages print one: "Name (current)"
    text = SEED.read_text(encoding="utf-8").replace(
        "\nJohn Whaling\n", "\nJohn Whaling (at time of 2018 survey)\n", 1
    )
    graph = triples(text, SEED.name, options)
    lead = URIRef(f"{BASE}id/profile/liverpool-city-region/2020/lead-innovation-officer/1")
    mayor = URIRef(f"{BASE}id/profile/liverpool-city-region/2020/mayor/1")
    for membership in (lead, mayor):
        assert (membership, URIRef(IG + "statedInWave"), URIRef(WAVE + "2020")) in graph
    notes = {(s, o) for s, p, o in graph if p == URIRef(IG + "note")}
    assert notes == {(lead, Literal("at time of 2018 survey", lang="en"))}


def test_a_page_without_a_wave_states_no_wave(options: SurveyOptions) -> None:
    # without its survey markers the seed's wave cannot be told: the membership says nothing
    text = SEED.read_text(encoding="utf-8")
    profile = parse_profile(text, SEED.name, options).profile
    assert profile.survey.wave == 2020
    undated = replace(profile, survey=SurveyContext(evidence="no site-version markers"))
    quads = map_profile(undated, SourceDocument.of(SEED.name, text.encode()), BASE, "t")
    assert not [q for q in quads if q[1] == URIRef(IG + "statedInWave")]
    city = URIRef(f"{BASE}id/city/liverpool-city-region")
    stated = {q[:3] for q in quads}
    assert (city, RDFS.label, Literal("Liverpool City Region")) in stated
    assert not [t for t in stated if t[0] == city and t[1] in {SKOS.prefLabel, SKOS.altLabel}]


def test_the_updated_site_names_a_city_preferably(options: SurveyOptions) -> None:
    graph = triples(SEED.read_text(encoding="utf-8"), SEED.name, options)
    city = URIRef(f"{BASE}id/city/liverpool-city-region")
    names = {
        (p, o)
        for s, p, o in graph
        if s == city and p in {RDFS.label, SKOS.prefLabel, SKOS.altLabel}
    }
    name = Literal("Liverpool City Region")
    assert names == {(RDFS.label, name), (SKOS.prefLabel, name)}


@pytest.mark.parametrize(
    ("file", "label", "name"),
    [
        ("denver-us.txt", SKOS.prefLabel, "Denver, CO"),  # line 2, the updated site
        ("denver-us--2018-version.txt", RDFS.label, "Denver"),  # the original site: no prefLabel
    ],
)
def test_a_city_named_two_ways(options: SurveyOptions, file: str, label: URIRef, name: str) -> None:
    path = FRAGMENTS / file
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    graph = triples(path.read_text(encoding="utf-8"), file, options)
    city = URIRef(f"{BASE}id/city/denver-us")
    assert (city, label, Literal(name)) in graph
    assert (city, RDFS.label, Literal(name)) in graph
    others = {SKOS.altLabel} if label == SKOS.prefLabel else {SKOS.prefLabel, SKOS.altLabel}
    assert not [t for t in graph if t[0] == city and t[1] in others]
