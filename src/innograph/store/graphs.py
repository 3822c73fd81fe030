"""What a version's pyoxigraph store holds, and how graphs go in and come out.

One named graph per profile document, the ontology and the vocabularies in graphs of their own,
and a default graph that is the RDF merge of them all, materialised at load time: a query without
GRAPH finds every profile, and a triple stated in several graphs counts once (pyoxigraph's own
union view would return it once per graph). Terms are written by pyoxigraph's serialisers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..prefixes import DEF

NQUADS = ox.RdfFormat.N_QUADS
NTRIPLES = ox.RdfFormat.N_TRIPLES
PROFILE_GRAPH = f"{DEF}ProfileGraph"
LOAD_BATCH = 200  # profile graphs per bulk load: fewer, larger SST files


@dataclass(frozen=True, slots=True)
class NamedGraph:
    """A graph of a version (a profile's, the ontology, the vocabularies): its IRI and its
    triples as N-Triples, in memory or in a file."""

    iri: str
    triples: bytes | None = None
    path: Path | None = None

    def ntriples(self) -> bytes:
        if self.triples is not None:
            return self.triples
        assert self.path is not None, "a profile graph is held in memory or in a file"
        return self.path.read_bytes()


def written(data: bytes | None) -> bytes:
    """What a pyoxigraph serialiser returns when it is given no output file: the bytes."""
    assert data is not None, "serialised to memory, not to a file"
    return data


def vocabulary_graphs(base: str) -> list[NamedGraph]:
    """The ontology and the SKOS schemes, each in a graph of its own."""
    from ..vocab import data_dir, vocabulary_files  # rdflib: builds only, never query workers

    files = {
        f"{base}graph/ontology": sorted(data_dir("ontology").glob("*.ttl")),
        f"{base}graph/vocabularies": vocabulary_files(),
    }
    return [
        NamedGraph(name, b"".join(_turtle_as_ntriples(path) for path in paths))
        for name, paths in files.items()
    ]


def _turtle_as_ntriples(path: Path) -> bytes:
    triples = ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)
    return written(ox.serialize(triples, format=NTRIPLES))


def fill(target: ox.Store, graphs: Iterable[NamedGraph]) -> None:
    """Load the graphs into an empty store, each under its name and all in the default graph,
    LOAD_BATCH graphs per bulk load (a bulk load per graph costs RocksDB files: 5x slower)."""
    batch: list[NamedGraph] = []
    for graph in graphs:
        batch.append(graph)
        if len(batch) == LOAD_BATCH:
            _bulk_load(target, batch)
            batch = []
    if batch:
        _bulk_load(target, batch)


def _bulk_load(target: ox.Store, batch: list[NamedGraph]) -> None:
    texts = [graph.ntriples() for graph in batch]
    named = (
        ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph.iri))
        for graph, text in zip(batch, texts, strict=True)
        for t in ox.parse(text, format=NTRIPLES)
    )
    target.bulk_load(written(ox.serialize(named, format=NQUADS)), format=NQUADS)
    target.bulk_load(b"".join(texts), format=NTRIPLES, to_graph=ox.DefaultGraph())
    for graph, text in zip(batch, texts, strict=True):
        if not text.strip():
            target.add_graph(ox.NamedNode(graph.iri))  # a graph exists even when it is empty


def replace_graphs(target: ox.Store, changed: list[NamedGraph], gone: list[str]) -> None:
    """Swap changed profile graphs in and drop gone ones; a triple leaves the default graph only
    when no other graph still states it."""
    for name in gone + [g.iri for g in changed]:
        target.update(
            f"DELETE {{ ?s ?p ?o }} WHERE {{ GRAPH <{name}> {{ ?s ?p ?o }}"
            f" FILTER NOT EXISTS {{ GRAPH ?other {{ ?s ?p ?o }} FILTER (?other != <{name}>) }} }};"
            f" DROP SILENT GRAPH <{name}>"
        )
    for graph in changed:
        target.add_graph(ox.NamedNode(graph.iri))
        target.load(graph.ntriples(), format=NTRIPLES, to_graph=ox.NamedNode(graph.iri))
        target.load(graph.ntriples(), format=NTRIPLES, to_graph=ox.DefaultGraph())


def materialise_union(target: ox.Store) -> None:
    """Make the default graph the RDF merge of the named graphs again, after the named graphs
    were changed in place (``fill`` loads both at once; this is for stores edited by hand)."""
    target.update("DROP SILENT DEFAULT; INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")


def in_memory(graphs: Iterable[NamedGraph]) -> ox.Store:
    """A scratch store of these graphs, laid out as a version is."""
    scratch = ox.Store()
    fill(scratch, graphs)
    return scratch


def count_profile_graphs(source: ox.Store) -> int:
    query = f"SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE {{ GRAPH ?g {{ ?g a <{PROFILE_GRAPH}> }} }}"
    solutions = source.query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    return int(next(iter(solutions))["n"].value)


LOCATE = (
    f"PREFIX ig: <{DEF}> PREFIX dct: <http://purl.org/dc/terms/>"
    " PREFIX prov: <http://www.w3.org/ns/prov#>"
    " SELECT ?focus ?value ?file ?line WHERE { GRAPH ?g { ?focus ?p ?o ."
    " ?g prov:wasDerivedFrom ?doc . ?doc dct:identifier ?file ."
    " OPTIONAL { ?focus ig:sourceLine ?line } } VALUE }"
    " ORDER BY ?file LIMIT 1"
)


def locate(source: ox.Store, focus: str, value: str | None = None) -> str:
    """file:line of a node, from the graph that states it (the first file by name); with a
    value, from a graph that states that value of it first (a share quoted by many pages is
    wrong in the page that says so)."""
    bindings: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = {
        ox.Variable("focus"): ox.NamedNode(focus),
        ox.Variable("value"): ox.Literal(value or ""),
    }
    tries = [LOCATE.replace("VALUE", "")]
    if value is not None:
        tries.insert(0, LOCATE.replace("VALUE", "FILTER (STR(?o) = ?value)"))
    for query in tries:
        given = (
            {**bindings, ox.Variable("value"): ox.Literal(value or "")}
            if "?value" in query
            else bindings
        )
        solutions = source.query(query, substitutions=given)
        assert isinstance(solutions, ox.QuerySolutions)
        for row in solutions:
            file, line = row["file"], row["line"]
            assert file is not None
            return f"{file.value}:{line.value}" if line is not None else file.value
    return "(source unknown)"
