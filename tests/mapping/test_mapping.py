"""The seed's record in the graph: every value with its line, nothing more, the same every time."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import Literal

from conftest import SEED, sourced_values
from innograph.mapping import SourceDocument, city_key, map_profile
from innograph.parsing import parse_bytes
from innograph.records import ParsedProfile, SurveyOptions

IG = "https://w3id.org/innograph/def/"
PREFIXES = f"PREFIX ig: <{IG}>\nPREFIX org: <http://www.w3.org/ns/org#>\n"


@pytest.fixture(scope="module")
def parsed(seed_bytes: bytes, options: SurveyOptions) -> ParsedProfile:
    return parse_bytes(seed_bytes, SEED.name, options)


@pytest.fixture(scope="module")
def dataset(seed_graph: ox.Store) -> ox.Store:
    """The seed as ``innograph build`` stores it."""
    return seed_graph


def ask(store: ox.Store, query: str) -> bool:
    return bool(store.query(query))


def select(store: ox.Store, query: str) -> list[tuple[str, ...]]:
    solutions = store.query(query)
    names = [v.value for v in solutions.variables]
    return [tuple(s[n].value for n in names) for s in solutions]


def test_every_value_of_the_record_is_in_the_graph_with_its_line(
    parsed: ParsedProfile, dataset: ox.Store
) -> None:
    values = [v for v in sourced_values(parsed.profile) if ".definition" not in v[0]]
    assert len(values) > 70
    missing = []
    for path, text, first, last in values:
        end = "" if first == last else f"?n ig:sourceLineEnd {last} ."
        query = PREFIXES + (
            f"ASK {{ ?n ig:sourceLine {first} . {end}"
            "  { ?n ?p ?v } UNION { ?n ?p ?x . ?x ?q ?v }"
            f"  FILTER(str(?v) = {Literal(text).n3()}) }}"
        )
        if not ask(dataset, query):
            missing.append((path, text, first))
    assert missing == []


def test_funding_definitions_are_vocabulary_facts_with_their_line(
    parsed: ParsedProfile, dataset: ox.Store
) -> None:
    for source in parsed.profile.funding.sources:
        assert source.definition is not None
        query = PREFIXES + (
            "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
            f"ASK {{ ?n ig:wording {Literal(source.choice.wording, lang='en').n3()} ;"
            f" ig:definitionLine {source.definition.span.first} ; ig:concept ?c ."
            f" ?c skos:definition ?d . FILTER(str(?d) = {Literal(source.definition.value).n3()}) }}"
        )
        assert ask(dataset, query), source.choice.wording


def test_statements_and_survey_wave(dataset: ox.Store) -> None:
    query = (
        PREFIXES
        + """
        SELECT ?strategy ?funding ?wave ?share WHERE {
          ?p a ig:Profile ; ig:strategy/ig:hasExplicitStrategy ?strategy ;
             ig:dedicatedFunding/ig:hasDedicatedFunding ?funding ; ig:surveyWave ?wave ;
             ig:strategy/ig:surveyShare/ig:sharePercent ?share .
        }"""
    )
    assert select(dataset, query) == [
        ("true", "true", "https://w3id.org/innograph/vocab/survey-waves/2020", "50")
    ]


def test_every_cited_line_is_a_mapped_line_and_every_mapped_line_is_cited(
    parsed: ParsedProfile, dataset: ox.Store
) -> None:
    """Facts come only from lines the parser mapped; no mapped line is left out of the graph."""
    cited = {
        int(row[0])
        for row in select(
            dataset,
            PREFIXES + "SELECT DISTINCT ?l WHERE { { ?n ig:sourceLine ?l } UNION"
            " { ?n ig:definitionLine ?l } UNION { ?n ig:sourceLineEnd ?l } }",
        )
    }
    mapped = {c.number for c in parsed.lines if c.kind == "mapped"}
    assert cited == mapped


def test_nothing_unsaid_is_asserted(dataset: ox.Store) -> None:
    """The seed states no team size, no 'internal only', no officer notes, no website link."""
    for predicate in (
        "teamSize",
        "internalToAdministration",
        "note",
        "hasWebsiteLink",
        "hasDedicatedTeam",
        "truncatedAtLine",
        "snapshotNote",
    ):
        assert not ask(dataset, PREFIXES + f"ASK {{ ?s ig:{predicate} ?o }}"), predicate
    counts = {
        link: int(
            select(dataset, PREFIXES + f"SELECT (COUNT(?n) AS ?c) WHERE {{ ?p ig:{link} ?n }}")[0][
                0
            ]
        )
        for link in (
            "goal",
            "successFactor",
            "policyFocus",
            "role",
            "term",
            "activity",
            "fundingSource",
            "fundedActivity",
            "partnerType",
            "dataPartnerType",
            "dataAvailability",
            "leadInnovationOfficer",
            "mayor",
        )
    }
    assert counts == {
        "goal": 3,
        "successFactor": 6,
        "policyFocus": 2,
        "role": 3,
        "term": 2,
        "activity": 3,
        "fundingSource": 5,
        "fundedActivity": 2,
        "partnerType": 3,
        "dataPartnerType": 4,
        "dataAvailability": 19,
        "leadInnovationOfficer": 1,
        "mayor": 1,
    }


def test_city_wording_is_its_own_concept_and_variants_keep_their_wording(dataset: ox.Store) -> None:
    query = (
        PREFIXES
        + """
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?wording ?concept ?option WHERE {
          ?p ig:goal ?g . ?g ig:wording ?wording ; ig:concept ?concept .
          ?concept ig:surveyOption ?option ; skos:inScheme <https://w3id.org/innograph/vocab/goals> .
        } ORDER BY ?wording"""
    )
    rows = [(r[0], r[1].rsplit("/goals/", 1)[1], r[2]) for r in select(dataset, query)]
    assert rows == [
        (
            "Deliver approaches/ solutions to industry",
            "own/deliver-approaches-solutions-to-industry",
            "false",
        ),
        ("Improve resident outcomes", "improve-resident-outcomes", "true"),
        (
            "Maximise competitive strengths and lever associated investment",
            "own/maximise-competitive-strengths-and-lever-associated-investment",
            "false",
        ),
    ]
    metro = (
        PREFIXES
        + """ASK { ?n ig:wording "Leadership from Metro Mayor"@en ;
        ig:rank 6 ; ig:concept <https://w3id.org/innograph/vocab/success-factors/leadership-from-mayor> }"""
    )
    assert ask(dataset, metro)


def test_provenance_of_the_profile_graph(dataset: ox.Store) -> None:
    query = (
        PREFIXES
        + """
        PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX dct: <http://purl.org/dc/terms/>
        SELECT ?name ?sha ?version WHERE { GRAPH ?g {
          ?g a ig:ProfileGraph ; prov:wasDerivedFrom ?doc ; ig:parserVersion ?version .
          ?doc dct:identifier ?name ; ig:sha256 ?sha . } }"""
    )
    rows = select(dataset, query)
    assert rows == [
        (
            "liverpool-city-region.txt",
            SourceDocument.of(SEED.name, SEED.read_bytes()).sha256,
            "0.1.0",
        )
    ]
    graphs = {g.value for g in dataset.named_graphs()}
    assert "https://w3id.org/innograph/graph/liverpool-city-region" in graphs


def test_base_iri_is_configurable(parsed: ParsedProfile) -> None:
    quads = map_profile(
        parsed.profile, SourceDocument("x.txt", "0" * 64), "http://localhost:8000/", "t"
    )
    subjects = {str(q[0]) for q in quads if str(q[0]).startswith("http://localhost:8000/")}
    assert "http://localhost:8000/id/city/liverpool-city-region" in subjects
    assert all(not str(q[3]).startswith("https://w3id.org/innograph/graph") for q in quads)


def test_city_key_prefers_the_sites_slug(options: SurveyOptions) -> None:
    text = "# source: https://cities-innovation-oecd.com/cities/denver-us/\nInnovation is helping to:\n  • Improve service delivery\n"
    profile = parse_bytes(text.encode(), "denver-us--2018-version.txt", options).profile
    assert city_key(profile) == "denver-us"
    bare = parse_bytes(
        text.split("\n", 1)[1].encode(), "denver-us--2018-version.txt", options
    ).profile
    assert city_key(bare) == "denver-us"


def test_line_numbers_are_integers(dataset: ox.Store) -> None:
    solutions = dataset.query(PREFIXES + "SELECT ?l WHERE { ?n ig:sourceLine ?l }")
    datatypes = {s["l"].datatype.value for s in solutions}
    assert datatypes == {"http://www.w3.org/2001/XMLSchema#integer"}
