"""A list item cut where the page ends is in the graph as text with its line, never a concept."""

from __future__ import annotations

from rdflib import Literal, URIRef

from conftest import SEED
from innograph.mapping import SourceDocument, map_profile
from innograph.parsing import parse_profile
from innograph.records import SurveyOptions

IG = "https://w3id.org/innograph/def/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
ROLE = "Economic development advisor"


def test_cut_item_is_a_truncated_item_with_its_line(options: SurveyOptions) -> None:
    text = SEED.read_text(encoding="utf-8")
    head = text.partition(ROLE)[0]
    cut = head + "Economic development adv\n"
    profile = parse_profile(cut, SEED.name, options).profile
    quads = map_profile(
        profile, SourceDocument.of(SEED.name, cut.encode()), "https://w3id.org/innograph/", "t"
    )
    wording = Literal("Economic development adv", lang="en")
    holders = [(str(s), str(p)) for s, p, o, _ in quads if o == wording]
    profile_iri = "https://w3id.org/innograph/id/profile/liverpool-city-region/2020"
    assert (profile_iri, IG + "truncatedItem") in holders
    statement = next(URIRef(s) for s, p in holders if p == RDF + "object")
    line = len(head.splitlines()) + 1
    assert (statement, URIRef(IG + "sourceLine"), Literal(line)) in {q[:3] for q in quads}
    assert {p for _, p in holders} == {IG + "truncatedItem", RDF + "object"}  # no concept label
    roles = [o for _, p, o, _ in quads if str(p) == IG + "role"]
    assert len(roles) == 2
