"""The ontology's documentation at its namespace (``/def/``): generated from the ontology graph
the store serves and from the shapes shipped with innograph, never written by hand.

Classes with their definitions, superclasses, the properties whose domain they are and the shapes
that target them; object and datatype properties with domains and ranges; individuals; and the
SKOS schemes with their concept counts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

import pyoxigraph as ox
from rdflib import Graph
from rdflib.namespace import RDF, SH

from ..vocab import IG, data_dir

OWL = "http://www.w3.org/2002/07/owl#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
KINDS = {
    f"{OWL}Class": "classes",
    f"{OWL}ObjectProperty": "object_properties",
    f"{OWL}DatatypeProperty": "datatype_properties",
    f"{OWL}NamedIndividual": "individuals",
}


@dataclass
class Term:
    iri: str
    label: str = ""
    definition: str = ""
    parents: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    ranges: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.iri.removeprefix(str(IG))


@dataclass(frozen=True)
class ShapeNote:
    name: str
    description: str
    file: str


@dataclass
class Ontology:
    header: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    terms: dict[str, list[Term]] = field(default_factory=lambda: defaultdict(list))
    by_domain: dict[str, list[Term]] = field(default_factory=lambda: defaultdict(list))


def ontology_of(ntriples: bytes) -> Ontology:
    """The ig: terms of the ontology graph, grouped by kind and sorted by name."""
    statements: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for triple in ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES):
        statements[triple.subject.value][triple.predicate.value].append(triple.object.value)
    found = Ontology()
    found.header.update(statements.get(str(IG), {}))
    for iri, said in sorted(statements.items()):
        if not iri.startswith(str(IG)) or iri == str(IG):
            continue
        term = Term(
            iri,
            label=(said.get(f"{RDFS}label") or [""])[0],
            definition=(said.get(f"{SKOS}definition") or said.get(f"{RDFS}comment") or [""])[0],
            parents=sorted(said.get(f"{RDFS}subClassOf", [])),
            domains=sorted(said.get(f"{RDFS}domain", [])),
            ranges=sorted(said.get(f"{RDFS}range", [])),
            types=sorted(said.get("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", [])),
        )
        for kind_iri, kind in KINDS.items():
            if kind_iri in term.types:
                found.terms[kind].append(term)
                break
        for domain in term.domains:
            found.by_domain[domain].append(term)
    return found


@cache
def shapes_by_class() -> dict[str, tuple[ShapeNote, ...]]:
    """The node shapes shipped with innograph, by the class they target (read once)."""
    notes: dict[str, list[ShapeNote]] = defaultdict(list)
    for path in sorted(data_dir("shapes").glob("*.ttl")):
        graph = Graph().parse(path, format="turtle")
        for shape in sorted(graph.subjects(RDF.type, SH.NodeShape), key=str):
            note = ShapeNote(
                str(graph.value(shape, SH.name) or shape),
                str(graph.value(shape, SH.description) or ""),
                path.name,
            )
            for target in graph.objects(shape, SH.targetClass):
                notes[str(target)].append(note)
    return {target: tuple(found) for target, found in notes.items()}
