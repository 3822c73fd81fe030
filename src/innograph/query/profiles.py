"""A city's profiles as a page reads them: the survey's sections in the template's order, each
fact with the text the page printed and the line it came from, built from the graph alone.

One CONSTRUCT (``city_query``) brings every statement of the city's profile graphs and the labels
of the concepts they choose; ``city_profiles`` arranges them. A section with nothing in it is "not
stated"; an explicit "no" (``ig:hasExplicitStrategy false``…) is a fact like any other.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

IG = "https://w3id.org/innograph/def/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
ORG = "http://www.w3.org/ns/org#"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
FOAF_NAME = "http://xmlns.com/foaf/0.1/name"

# The template's sections, in page order: (title, the profile's properties that fill it).
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Innovation goals", ("goal",)),
    ("Critical success factors", ("successFactor",)),
    ("Spotlight", ("spotlight",)),
    ("Vision and approach", ("strategy", "approach", "visionNote")),
    ("Policy areas", ("policyPriority", "policyFocus", "policyNarrative")),
    ("Innovation roles", ("roleCount", "role")),
    ("Placement of innovation work", ("placement",)),
    ("Terms associated with innovation", ("term",)),
    ("Innovation activities", ("activity",)),
    ("Funding", ("dedicatedFunding", "investsIn", "fundingSource", "fundedActivity")),
    ("Chart text kept verbatim (its pairing is ambiguous)", ("chartResidue",)),
    (
        "Partnerships",
        ("partnershipStatement", "partnerType", "dataPartnershipStatement", "dataPartnerType"),
    ),
    ("Data availability", ("dataAvailabilityCount", "dataAvailability")),
)
# The city's choices set beside all cities in the store: (title, the profile's property).
COMPARED = (
    ("Policy areas", "policyFocus"),
    ("Critical success factors", "successFactor"),
    ("Innovation roles", "role"),
    ("Funding sources", "fundingSource"),
)


# What an explicit yes or no reads as.
ANSWERS = {
    "hasExplicitStrategy": (
        "has an explicit innovation strategy",
        "does not have an explicit innovation strategy",
    ),
    "prioritisesPolicyAreas": ("prioritises policy areas", "does not prioritise policy sectors"),
    "hasDedicatedFunding": ("has dedicated funding for innovation", "no dedicated funding"),
    "hasDedicatedTeam": ("has a dedicated innovation team", "no dedicated innovation team"),
    "sufficientData": ("sufficient data", "insufficient data"),
    "internalToAdministration": (
        "partners within the city administration only",
        "external partners",
    ),
}


def city_query(city: str) -> str:
    """Every statement of the city's profile graphs (they name the people, units and their own
    wordings' concepts; the survey's concepts are labelled by ``labels_query``)."""
    return (
        "PREFIX ig: <https://w3id.org/innograph/def/> PREFIX dct: <http://purl.org/dc/terms/>\n"
        "CONSTRUCT { ?s ?p ?o }\n"
        f"WHERE {{ ?profile ig:city <{city}> . GRAPH ?g {{ ?g dct:subject ?profile . ?s ?p ?o }} }}"
    )


def city_graphs_query() -> str:
    """Each city with the named graphs that say anything of it: those its page is made from."""
    return (
        f"SELECT DISTINCT ?city ?g WHERE {{ ?city a <{IG}City> .\n"
        "  GRAPH ?g { { ?city ?p ?o } UNION { ?s ?p ?city } } }"
    )


def labels_query(vocabularies: str) -> str:
    """The labels of the survey's concepts: the same query for every city, so it is answered
    once per version (labelling each statement's object in ``city_query`` cost it 4x)."""
    return (
        f"CONSTRUCT {{ ?concept <{SKOS}prefLabel> ?label }}\n"
        f"WHERE {{ GRAPH <{vocabularies}> {{ ?concept <{SKOS}prefLabel> ?label }} }}"
    )


@dataclass
class Fact:
    """One thing the page says: its text, where it was printed, and what else is known of it."""

    iri: str
    text: str
    line: int | None = None
    line_end: int | None = None
    rank: int | None = None
    concept: str | None = None
    concept_label: str | None = None
    details: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Section:
    title: str
    facts: list[Fact] = field(default_factory=list)


@dataclass
class ProfileView:
    iri: str
    wave: str
    site_version: str
    source: str
    source_iri: str
    header: list[tuple[str, Fact]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    truncated_at: int | None = None
    chosen: dict[str, set[str]] = field(default_factory=dict)  # property -> concepts chosen


Statements = dict[str, dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]]]


def _statements(ntriples: bytes) -> Statements:
    said: Statements = defaultdict(lambda: defaultdict(list))
    for triple in ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES):
        if not isinstance(triple.object, ox.Triple):
            said[triple.subject.value][triple.predicate.value].append(triple.object)
    return said


def _one(said: Statements, node: str, predicate: str) -> str | None:
    values = said.get(node, {}).get(predicate, [])
    return values[0].value if values else None


def _number(said: Statements, node: str, predicate: str) -> int | None:
    value = _one(said, node, predicate)
    return int(value) if value is not None and re.fullmatch(r"-?\d+", value) else None


def _label(said: Statements, node: str | None) -> str | None:
    if node is None:
        return None
    found = _one(said, node, f"{SKOS}prefLabel") or _one(said, node, FOAF_NAME)
    return found or _one(said, node, LABEL)


def _fact(said: Statements, node: str) -> Fact:
    """What the page printed for a node, in the most specific form the graph has."""
    concept = _one(said, node, f"{IG}concept")
    answers = [
        ANSWERS[key][0 if value == "true" else 1]
        for key in ANSWERS
        if (value := _one(said, node, f"{IG}{key}")) is not None
    ]
    person = _one(said, node, f"{ORG}member")
    population = _number(said, node, f"{IG}population")
    text = (
        _one(said, node, f"{IG}wording")
        or _one(said, node, f"{IG}text")
        or (f"{population:,}" if population is not None else None)
        or _label(said, person)
        or _one(said, node, f"{RDF}object")
        or (f"{stated} stated" if (stated := _one(said, node, f"{IG}statedCount")) else None)
        or "; ".join(answers)
        or _label(said, concept)
        or _label(said, _one(said, node, f"{IG}placementKind"))
        or ""
    )
    found = Fact(
        node,
        text,
        line=_number(said, node, f"{IG}sourceLine"),
        line_end=_number(said, node, f"{IG}sourceLineEnd"),
        rank=_number(said, node, f"{IG}rank"),
        concept=concept,
        concept_label=_label(said, concept),
    )
    if answers and text != "; ".join(answers):
        found.details.append(("answer", "; ".join(answers)))
    for key, shown in (
        ("referenceYear", "year"),
        ("note", "note"),
        ("accountableTo", "accountable to"),
        ("teamSize", "team size"),
        ("position", "position"),
    ):
        value = _one(said, node, f"{IG}{key}")
        if value is not None and value != text:
            found.details.append((shown, value))
    share = _one(said, node, f"{IG}surveyShare")
    if share is not None and (quoted := _one(said, share, f"{IG}shareText")):
        found.details.append(("share of cities surveyed", quoted))
    kind = _label(said, _one(said, node, f"{IG}placementKind"))
    if kind and kind != text:
        found.details.append(("kind", kind))
    for unit in said.get(node, {}).get(f"{IG}unit", []):
        found.details.append(("unit", _label(said, unit.value) or unit.value.rsplit("/", 1)[-1]))
    for team in said.get(node, {}).get(f"{IG}unitTeam", []):  # a unit named with its own staff
        of = _one(said, team.value, f"{IG}teamOf")
        name = _label(said, of) or (of or "").rsplit("/", 1)[-1]
        found.details.append(("team", f"{name}: {_one(said, team.value, f'{IG}staffCount')} staff"))
    return found


def _facts(said: Statements, profile: str, prop: str) -> list[Fact]:
    nodes = [value.value for value in said.get(profile, {}).get(f"{IG}{prop}", [])]
    facts = [_fact(said, node) for node in nodes]
    return sorted(facts, key=lambda f: (f.rank or 0, f.line or 0, f.iri))


HEADER = (
    ("Mayor", "mayor"),
    ("Population", "populationFigure"),
    ("Lead innovation officer", "leadInnovationOfficer"),
)
STATED = {
    "displayName": "Name",
    "countryName": "Country",
    "hasWebsiteLink": "Innovation website",
    "truncatedItem": "Item cut where the page stops",
}


def _stated(said: Statements, profile: str) -> list[tuple[str, Fact]]:
    """The profile's plain attributes, read from their reified statements (which keep the line)."""
    found = []
    for node, props in sorted(said.items()):
        if [v.value for v in props.get(f"{RDF}subject", [])] != [profile]:
            continue
        predicate = _one(said, node, f"{RDF}predicate") or ""
        title = STATED.get(predicate.removeprefix(IG))
        if title is not None:
            fact = _fact(said, node)
            if predicate.endswith("hasWebsiteLink"):
                fact.text = "linked from the page" if fact.text == "true" else "no link"
            found.append((title, fact))
    return sorted(found, key=lambda pair: pair[1].line or 0)


def city_profiles(city: str, ntriples: bytes) -> list[ProfileView]:
    """The city's profiles, newest wave first, each with its header and its sections."""
    said = _statements(ntriples)
    profiles = [
        node
        for node, props in said.items()
        if any(v.value == f"{IG}Profile" for v in props.get(f"{RDF}type", []))
        and any(v.value == city for v in props.get(f"{IG}city", []))
    ]
    views = []
    for profile in profiles:
        source = _one(said, profile, "http://www.w3.org/ns/prov#wasDerivedFrom")
        view = ProfileView(
            profile,
            wave=_label(said, _one(said, profile, f"{IG}surveyWave")) or "survey wave not stated",
            site_version=_label(said, _one(said, profile, f"{IG}siteVersion")) or "",
            source=_one(said, source or "", "http://purl.org/dc/terms/identifier") or "",
            source_iri=source or "",
            truncated_at=_number(said, profile, f"{IG}truncatedAtLine"),
        )
        view.header += _stated(said, profile)
        for title, prop in HEADER:
            view.header += [(title, fact) for fact in _facts(said, profile, prop)]
        for _, prop in COMPARED:
            view.chosen[prop] = {f.concept for f in _facts(said, profile, prop) if f.concept}
        for title, props in SECTIONS:
            view.sections.append(
                Section(title, [f for p in props for f in _facts(said, profile, p)])
            )
        views.append(view)
    return sorted(views, key=_newest_first)


def _newest_first(view: ProfileView) -> tuple[bool, int]:
    year = re.search(r"\d{4}", view.wave)
    return (year is None, -int(year.group()) if year else 0)


def comparison_query(prop: str) -> str:
    """How many cities chose each survey option through ``prop``, and how many answered at all
    (the denominator: cities whose profile lists anything there)."""
    return (
        "PREFIX ig: <https://w3id.org/innograph/def/>\n"
        f"PREFIX skos: <{SKOS}>\n"
        "SELECT ?concept ?label ?cities ?answered WHERE {\n"
        "  { SELECT ?concept (COUNT(DISTINCT ?city) AS ?cities) WHERE {\n"
        f"      ?profile ig:city ?city ; ig:{prop} ?choice . ?choice ig:concept ?concept .\n"
        "      FILTER NOT EXISTS { ?concept ig:surveyOption false } } GROUP BY ?concept }\n"
        "  { SELECT (COUNT(DISTINCT ?city) AS ?answered) WHERE {\n"
        f"      ?profile ig:city ?city ; ig:{prop} ?any }} }}\n"
        "  OPTIONAL { ?concept skos:prefLabel ?label }\n"
        "} ORDER BY DESC(?cities) ?label"
    )


@dataclass(frozen=True)
class Bar:
    concept: str
    label: str
    cities: int
    chosen: bool


@dataclass(frozen=True)
class Chart:
    title: str
    answered: int
    bars: tuple[Bar, ...]


def chart(title: str, rows: list[dict[str, str]], chosen: set[str]) -> Chart:
    """A comparison chart from ``comparison_query``'s rows, marking this city's choices."""
    answered = int(rows[0]["answered"]) if rows else 0
    bars = tuple(
        Bar(
            row["concept"],
            row.get("label") or row["concept"].rsplit("/", 1)[-1],
            int(row["cities"]),
            row["concept"] in chosen,
        )
        for row in rows
    )
    return Chart(title, answered, bars)
