"""Named organisations and initiatives in the graph (issue 12): scoped by the city that names
them, abbreviations as the long name's alternative label, never the city itself, and each
mention with the rule that found it. Graphs come from the real parser and mapper."""

from __future__ import annotations

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from conftest import FRAGMENTS, SEED
from innograph.mapping import SourceDocument, map_profile
from innograph.parsing import parse_profile
from innograph.records import SurveyOptions

BASE = "https://w3id.org/innograph/"
IG = "https://w3id.org/innograph/def/"
FOAF_ORGANIZATION = URIRef("http://xmlns.com/foaf/0.1/Organization")

Triples = set[tuple[object, ...]]


def triples(text: str, name: str, options: SurveyOptions) -> Triples:
    profile = parse_profile(text, name, options).profile
    quads = map_profile(profile, SourceDocument.of(name, text.encode()), BASE, "t")
    return {q[:3] for q in quads}


def fragment(name: str, options: SurveyOptions) -> Triples:
    path = FRAGMENTS / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return triples(path.read_text(encoding="utf-8"), name, options)


def organisations(graph: Triples) -> set[str]:
    return {str(s) for s, p, o in graph if p == RDF.type and o == FOAF_ORGANIZATION}


def test_a_generic_name_of_two_cities_is_two_organisations(options: SurveyOptions) -> None:
    # the seed's spotlight with "Hartree Centre" read as a generic "Innovation Office", and the
    # same page filed as another city's: each city's office is its own
    text = SEED.read_text(encoding="utf-8").replace("The Hartree Centre", "The Innovation Office")
    here = organisations(triples(text, SEED.name, options))
    there = organisations(triples(text, "springfield-us.txt", options))
    assert f"{BASE}id/organisation/liverpool-city-region/innovation-office" in here
    assert f"{BASE}id/organisation/springfield-us/innovation-office" in there
    assert not here & there


def test_every_mention_keeps_its_rule(options: SurveyOptions) -> None:
    graph = triples(SEED.read_text(encoding="utf-8"), SEED.name, options)
    mentions = {s for s, p, o in graph if p == RDF.type and o == URIRef(IG + "EntityMention")}
    rule_of = {s: o for s, p, o in graph if p == URIRef(IG + "foundBy")}
    assert mentions
    assert set(rule_of) == mentions
    named = {s: o for s, p, o in graph if p == URIRef(IG + "mentions")}
    label = {s: str(o) for s, p, o in graph if p == RDFS.label}
    found = {label[named[m]]: str(rule_of[m]).removeprefix(IG) for m in mentions}
    assert found["DCMS"] == "acronymRule"
    assert found["Hartree Centre"] == "headWordRule"
    assert found["IBM Research Global Research Lab"] == "headWordRule"
    assert found["UK government Research & Innovation"] == "headWordRule"
    assert found["Alder play app"] == "definitePhraseRule"
    assert "Research & Innovation" not in found
    assert "Global Research Lab" not in found


def test_an_abbreviation_names_the_long_name(options: SurveyOptions) -> None:
    graph = fragment("mexico-city-mex.txt", options)  # line 37: "... Innovation (ADIP) ..."
    agency = URIRef(f"{BASE}id/organisation/mexico-city-mex/digital-agency-for-public-innovation")
    assert (agency, SKOS.altLabel, Literal("ADIP")) in graph
    assert not [o for o in organisations(graph) if o.endswith("/adip")]
    by_adip = [
        m
        for m, p, o in graph
        if p == URIRef(IG + "foundBy") and o == URIRef(IG + "abbreviationRule")
    ]
    assert by_adip  # "ADIP puts Mexico City's goals ...": a mention of the agency
    assert {o for s, p, o in graph if s in by_adip and p == URIRef(IG + "mentions")} == {agency}


@pytest.mark.parametrize(
    "file", ["cape-town-zaf.txt", "toronto-ca.txt", "paris-fra.txt", "akron-us.txt"]
)
def test_the_city_itself_is_no_organisation(options: SurveyOptions, file: str) -> None:
    # each page's narrative says "City of <its city>"
    graph = fragment(file, options)
    assert not [o for o in organisations(graph) if "/city-of-" in o]


def test_the_seed_names_no_organisation_outside_its_city(options: SurveyOptions) -> None:
    graph = triples(SEED.read_text(encoding="utf-8"), SEED.name, options)
    orgs = organisations(graph)
    assert orgs
    assert all(o.startswith(f"{BASE}id/organisation/liverpool-city-region/") for o in orgs)


def test_a_state_after_the_city_name_is_no_abbreviation_of_the_city() -> None:
    """ "Denver, CO" abbreviates to "D", not "DC": Washington's "DC" is still an organisation,
    while the initials of a city of several words still stand for the city."""
    from innograph.mapping.entities import find_entities

    named = [e.name for e in find_entities("We worked with DC and NASA.", ["Denver, CO"])]
    assert named == ["DC", "NASA"]
    own = [e.name for e in find_entities("We worked with LCR and NASA.", ["Liverpool City Region"])]
    assert own == ["NASA"]
