"""What a linked-data document says about one resource, asked of the query workers like any
SPARQL query (the same time limit, row and size caps, and answer cache).

A document holds the resource's own statements, the types and labels of what it links to, and
one page of the statements that link to it (their count is asked apart), never all of them: a
concept chosen by a thousand profiles would otherwise weigh a thousand selections.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

INBOUND_PAGE = 100
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABELS = (
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://xmlns.com/foaf/0.1/name",
    "http://purl.org/dc/terms/title",
)


# A node's name on a page: its preferred label first (a city named two ways by two pages has one
# skos:prefLabel), then rdfs:label, a person's name, a title; English or untagged first.
LABEL_ORDER = {LABELS[1]: 0, LABELS[0]: 1, LABELS[2]: 2, LABELS[3]: 3}


def document_query(iri: str, page: int) -> str:
    """The CONSTRUCT behind a document: ``iri`` must be a checked IRI (no ``<>"{}|^`\\``)."""
    offset = (page - 1) * INBOUND_PAGE
    label, pref = f"<{LABELS[0]}>", f"<{LABELS[1]}>"
    return (
        f"CONSTRUCT {{ <{iri}> ?p ?o . ?o a ?type . ?o {label} ?label . ?o {pref} ?pref ."
        f" ?s ?q <{iri}> . ?s a ?stype . ?s {label} ?slabel . ?s {pref} ?spref }}\n"
        f"WHERE {{\n  {{ <{iri}> ?p ?o }}\n"
        f"  UNION {{ <{iri}> ?p ?o . ?o a ?type }}\n"
        f"  UNION {{ <{iri}> ?p ?o . ?o {label} ?label }}\n"
        f"  UNION {{ <{iri}> ?p ?o . ?o {pref} ?pref }}\n"
        f"  UNION {{ {{ SELECT ?s ?q WHERE {{ ?s ?q <{iri}> }} ORDER BY ?s ?q"
        f" LIMIT {INBOUND_PAGE} OFFSET {offset} }}\n"
        f"    OPTIONAL {{ ?s a ?stype }} OPTIONAL {{ ?s {label} ?slabel }}"
        f" OPTIONAL {{ ?s {pref} ?spref }} }}\n}}"
    )


def graph_query(graph: str) -> str:
    """Every statement of one named graph (the ontology, for the namespace document)."""
    return f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"


SCHEMES = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?scheme ?name (COUNT(?concept) AS ?concepts) WHERE {
  ?scheme a skos:ConceptScheme ; dct:title ?name .
  OPTIONAL { ?concept skos:inScheme ?scheme
             FILTER NOT EXISTS { ?concept <https://w3id.org/innograph/def/surveyOption> false } }
} GROUP BY ?scheme ?name ORDER BY ?name"""


def inbound_count_query(iri: str) -> str:
    return f"SELECT (COUNT(*) AS ?links) WHERE {{ ?s ?q <{iri}> }}"


@dataclass
class Description:
    """A resource as a page shows it: its statements grouped by property, the links to it,
    and a label for every node that has one."""

    iri: str
    outgoing: dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]] = field(
        default_factory=lambda: defaultdict(list)
    )
    inbound: list[tuple[str, str]] = field(default_factory=list)  # (subject, property)
    labels: dict[str, str] = field(default_factory=dict)
    types: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    @property
    def label(self) -> str | None:
        return self.labels.get(self.iri)

    def label_of(self, node: str) -> str | None:
        return self.labels.get(node)


def description(iri: str, ntriples: bytes) -> Description:
    """The document's N-Triples, grouped for a page."""
    found = Description(iri)
    ranked: dict[str, tuple[int, bool, str]] = {}  # node -> the best label's rank so far
    for triple in ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES):
        subject, predicate, value = triple.subject, triple.predicate.value, triple.object
        if predicate in LABELS and isinstance(value, ox.Literal):
            rank = (LABEL_ORDER[predicate], value.language not in (None, "en"), value.value)
            if subject.value not in ranked or rank < ranked[subject.value]:
                ranked[subject.value] = rank
                found.labels[subject.value] = value.value
        if predicate == RDF_TYPE and isinstance(value, ox.NamedNode):
            found.types[subject.value].append(value.value)
        if subject.value == iri and not isinstance(value, ox.Triple):
            found.outgoing[predicate].append(value)
        if isinstance(value, ox.NamedNode) and value.value == iri:  # a loop is both
            found.inbound.append((subject.value, predicate))
    for values in found.outgoing.values():
        values.sort(key=lambda v: (not isinstance(v, ox.Literal), natural(v.value)))
    found.inbound.sort(key=lambda pair: (natural(pair[0]), pair[1]))
    return found


def natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key that puts ``…/2`` before ``…/10``.

    >>> sorted(["a/10", "a/2", "b"], key=natural)
    ['a/2', 'a/10', 'b']
    """
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text)
    )


CITIES = """PREFIX ig: <https://w3id.org/innograph/def/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT * WHERE {
SELECT ?city (SAMPLE(?preferred) AS ?pref)
       (GROUP_CONCAT(DISTINCT COALESCE(?label, ""); separator=" / ") AS ?name)
       (GROUP_CONCAT(DISTINCT COALESCE(?country, ""); separator="; ") AS ?countries)
       (GROUP_CONCAT(DISTINCT COALESCE(?year, "wave not stated"); separator=", ") AS ?waves)
WHERE {
  ?profile ig:city ?city .
  OPTIONAL { ?city rdfs:label ?label }
  OPTIONAL { ?city skos:prefLabel ?preferred }
  OPTIONAL { ?profile ig:countryName ?country }
  OPTIONAL { ?profile ig:surveyWave ?wave OPTIONAL { ?wave skos:notation ?year } }
} GROUP BY ?city
} ORDER BY COALESCE(?pref, ?name) ?city"""  # unbound would void a GROUP_CONCAT
# (ordered outside the grouping: Virtuoso cannot order by an expression of aggregates' names)

NAMED = """PREFIX ig: <https://w3id.org/innograph/def/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
SELECT ?entity ?name ?kind (COUNT(DISTINCT ?mention) AS ?mentions)
       (GROUP_CONCAT(DISTINCT ?cityName; separator="; ") AS ?cities) WHERE {
  ?mention ig:mentions ?entity .
  ?entity a ?kind .
  VALUES ?kind { foaf:Organization ig:Initiative }
  OPTIONAL { ?entity rdfs:label ?name }
  OPTIONAL { ?profile ig:city ?city ; ?section ?item . ?item ig:mention ?mention .
             { SELECT ?city (COALESCE(SAMPLE(?pref), MIN(?label)) AS ?cityName)
               WHERE { ?city rdfs:label ?label OPTIONAL { ?city skos:prefLabel ?pref } }
               GROUP BY ?city } }
} GROUP BY ?entity ?name ?kind ORDER BY ?kind ?name"""  # a city with two spellings counts once


def citation_query(iri: str) -> str:
    """What a citation of one resource names: its names by preference (``?rank``: preferred
    label, the wording a page printed, a person's name, any label, a fact's text), and the
    profile file and line each graph stating it derives it from (``iri`` must be a checked IRI
    of the dataset)."""
    names = " UNION ".join(
        f"{{ <{iri}> {prop} ?label BIND ({rank} AS ?rank) }}"
        for rank, prop in enumerate(
            ("skos:prefLabel", "ig:wording", "foaf:name", "rdfs:label", "ig:text"), start=1
        )
    )
    return (
        "PREFIX ig: <https://w3id.org/innograph/def/>\n"
        "PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX dct: <http://purl.org/dc/terms/>\n"
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        "PREFIX foaf: <http://xmlns.com/foaf/0.1/>\n"
        f"SELECT ?label ?rank ?file ?line WHERE {{\n  {names}\n"
        f"  UNION {{ GRAPH ?g {{ <{iri}> ?p ?o . ?g prov:wasDerivedFrom/dct:identifier ?file\n"
        f"    OPTIONAL {{ <{iri}> ig:sourceLine ?line }} }} }}\n"
        "} ORDER BY ?rank ?label ?file ?line"
    )
