"""Compare and filter cities as the survey's own site did: choose cities by policy area, role,
activity, funding source, partner type, population band, country and survey wave; then, for
each aspect, how many of the chosen cities picked each option, out of those that answer it.

The denominator is said, never implied: of the chosen cities, those whose profile lists
something (they "answer"), those whose page says an explicit no (policy areas: "does not
prioritise policy sectors"), those whose page text stops early (the aspect may be past the cut),
and those whose page does not state it. Whether a wave's questionnaire asked a question at all
cannot be read from the pages, so no share claims it.

A city is counted once: it chose an option if any of its chosen profiles did (with ``wave``, only
that wave's profile is looked at).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

IG = "https://w3id.org/innograph/def/"
PREFIXES = (
    f"PREFIX ig: <{IG}>\n"
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
)


@dataclass(frozen=True)
class Facet:
    """A way to choose cities: the path from a profile to the value, and what it is called."""

    name: str  # the URL parameter
    title: str
    path: str


# Filters whose values are IRIs the store holds (concepts): checked against them before use.
FACETS: tuple[Facet, ...] = (
    Facet("area", "policy area", "ig:policyFocus/ig:concept"),
    Facet("role", "innovation role", "ig:role/ig:concept"),
    Facet("activity", "innovation activity", "ig:activity/ig:concept"),
    Facet("funding", "funding source", "ig:fundingSource/ig:concept"),
    Facet("partner", "partner type", "ig:partnerType/ig:concept"),
    Facet("wave", "survey wave", "ig:surveyWave"),
)
# Population bands: the OECD's size classes of functional urban areas (small urban areas below
# 200,000, medium-sized 200,000-500,000, metropolitan 500,000-1.5 million, large metropolitan
# above), applied to the population the profile states (a city's, not its urban area's).
BANDS: dict[str, tuple[str, int, int | None]] = {
    "small": ("under 200,000", 0, 200_000),
    "medium": ("200,000 to 500,000", 200_000, 500_000),
    "metropolitan": ("500,000 to 1.5 million", 500_000, 1_500_000),
    "large": ("1.5 million or more", 1_500_000, None),
}


@dataclass(frozen=True)
class Aspect:
    title: str
    path: str
    explicit_no: str | None = None  # a pattern on ?profile that says "no" to the whole aspect


ASPECTS: tuple[Aspect, ...] = (
    Aspect(
        "Policy areas",
        "ig:policyFocus/ig:concept",
        "?profile ig:policyPriority/ig:prioritisesPolicyAreas false",
    ),
    Aspect("Critical success factors", "ig:successFactor/ig:concept"),
    Aspect("Innovation roles", "ig:role/ig:concept"),
    Aspect("Innovation activities", "ig:activity/ig:concept"),
    Aspect("Funding sources", "ig:fundingSource/ig:concept"),
    Aspect("Partner types", "ig:partnerType/ig:concept"),
)


def values_query(facet: Facet) -> str:
    """The values a facet can take in the store, with their labels."""
    return (
        PREFIXES + "SELECT DISTINCT ?value ?label WHERE { ?profile a ig:Profile ;"
        f" {facet.path} ?value . OPTIONAL {{ ?value skos:prefLabel ?label }} }}"
        " ORDER BY ?label ?value"
    )


COUNTRIES = PREFIXES + (
    "SELECT DISTINCT ?value WHERE { ?profile a ig:Profile ; ig:countryName ?name"
    " BIND (STR(?name) AS ?value) } ORDER BY ?value"
)


def chosen_pattern(
    concepts: dict[str, str], country: str | None = None, band: str | None = None
) -> str:
    """The graph pattern of the profiles chosen: ``concepts`` is facet name -> an IRI the store
    holds (checked by the caller), ``country`` a country literal written by ``literal``."""
    paths = {facet.name: facet.path for facet in FACETS}
    parts = ["?profile a ig:Profile ; ig:city ?city ."]
    parts += [f"?profile {paths[name]} <{iri}> ." for name, iri in sorted(concepts.items())]
    if country is not None:
        parts.append(f"?profile ig:countryName ?country FILTER (STR(?country) = {country})")
    if band is not None:
        _, low, high = BANDS[band]
        top = f" && ?population < {high}" if high is not None else ""
        parts.append(
            "?profile ig:populationFigure/ig:population ?population"
            f" FILTER (?population >= {low}{top})"
        )
    return "\n  ".join(parts)


def peers_pattern(cities: list[str]) -> str:
    """The profiles of chosen cities (IRIs the store holds, checked by the caller)."""
    listed = " ".join(f"<{iri}>" for iri in cities)
    return f"?profile a ig:Profile ; ig:city ?city . VALUES ?city {{ {listed} }}"


CITIES = PREFIXES + (
    "SELECT DISTINCT ?city ?name WHERE { ?profile a ig:Profile ; ig:city ?city .\n"
    "  OPTIONAL { ?city skos:prefLabel ?preferred } OPTIONAL { ?city rdfs:label ?other }\n"
    "  BIND (COALESCE(?preferred, ?other, STR(?city)) AS ?name) } ORDER BY ?name ?city"
)


def _folded(rows: list[dict[str, str]]) -> tuple[dict[str, set[str]], dict[str, str], set[str]]:
    """``choices_query``'s rows as: city -> the concepts it chose, concept -> its label, and
    the cities whose page says an explicit no."""
    chose: dict[str, set[str]] = defaultdict(set)
    labels: dict[str, str] = {}
    said_no: set[str] = set()
    for row in rows:
        if "concept" in row:
            chose[row["city"]].add(row["concept"])
            labels[row["concept"]] = row.get("label", row["concept"].rsplit("/", 1)[-1])
        if row.get("no") == "true":
            said_no.add(row["city"])
    return chose, labels, said_no


@dataclass
class Side:
    """One aspect for cities side by side: each option any of them chose, and who chose it."""

    title: str
    options: list[tuple[str, str]]  # (concept, label)
    chosen: dict[str, set[str]]  # city -> concepts
    silent: dict[str, str]  # city -> why it lists nothing ("says no", "page stops early" …)


def side_by_side(title: str, cities: list[str], cut: set[str], rows: list[dict[str, str]]) -> Side:
    """``choices_query``'s rows over the peers' profiles, as one row per option."""
    chose, labels, said_no = _folded(rows)
    chosen = {city: chose.get(city, set()) for city in cities}
    silent = {
        city: "says no" if city in said_no else "page stops early" if city in cut else "not stated"
        for city in cities
        if not chosen[city]
    }
    options = sorted(labels.items(), key=lambda pair: pair[1].casefold())
    return Side(title, options, chosen, silent)


def cities_query(pattern: str) -> str:
    """The chosen profiles: city, its name, and whether the page text stops early."""
    return (
        PREFIXES + "SELECT ?city ?name ?profile ?cut WHERE {\n  " + pattern + "\n"
        "  OPTIONAL { ?city skos:prefLabel ?preferred } OPTIONAL { ?city rdfs:label ?other }\n"
        "  BIND (COALESCE(?preferred, ?other, STR(?city)) AS ?name)\n"
        "  BIND (EXISTS { ?profile ig:truncatedAtLine ?line } AS ?cut)\n"
        "} ORDER BY ?name ?profile"
    )


def choices_query(pattern: str, aspect: Aspect) -> str:
    """Each chosen profile's items of one aspect."""
    no = (
        f"BIND (EXISTS {{ {aspect.explicit_no} }} AS ?no)"
        if aspect.explicit_no
        else "BIND (false AS ?no)"
    )
    return (
        PREFIXES + "SELECT ?city ?profile ?concept ?label ?no WHERE {\n  " + pattern + "\n"
        f"  OPTIONAL {{ ?profile {aspect.path} ?concept"
        " OPTIONAL { ?concept skos:prefLabel ?label } }\n"
        f"  {no}\n"
        "} ORDER BY ?city ?concept"
    )


@dataclass
class Share:
    concept: str
    label: str
    cities: int


@dataclass
class AspectShares:
    title: str
    chosen: int  # cities chosen by the filters
    answered: int  # … whose profile lists something here: the denominator of every share
    explicit_no: list[str] = field(default_factory=list)  # city names
    cut: list[str] = field(default_factory=list)  # page text stops early: maybe past the cut
    not_stated: list[str] = field(default_factory=list)
    shares: list[Share] = field(default_factory=list)


def shares(
    title: str, names: dict[str, str], cut: set[str], rows: list[dict[str, str]]
) -> AspectShares:
    """One aspect's shares over the chosen cities (``names``: city -> name; ``cut``: cities
    whose every chosen profile stops early), from ``choices_query``'s rows."""
    chose, labels, said_no = _folded(rows)
    answered = {city for city in names if chose.get(city)}
    result = AspectShares(title, len(names), len(answered))
    for city in sorted(set(names) - answered, key=lambda c: names[c].casefold()):
        kind = (
            result.explicit_no
            if city in said_no
            else result.cut
            if city in cut
            else result.not_stated
        )
        kind.append(names[city])
    counts: dict[str, int] = defaultdict(int)
    for concepts in chose.values():
        for concept in concepts:
            counts[concept] += 1
    result.shares = sorted(
        (Share(c, labels[c], n) for c, n in counts.items()),
        key=lambda s: (-s.cities, s.label.casefold()),
    )
    return result
