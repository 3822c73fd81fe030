"""RDF to validate, as rdflib graphs: files named on the command line, the served dump, quads."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rdflib import Dataset, Graph, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.term import Node

from ..errors import UsageError

# Only line- and Turtle-family syntaxes: RDF/XML invites entity-expansion bombs and JSON-LD
# remote contexts, neither of which a validator of local files needs.
RDF_FORMATS = {".nq": "nquads", ".trig": "trig", ".ttl": "turtle", ".nt": "nt"}


@contextmanager
def rdflib_internal_deprecations_silenced() -> Iterator[None]:
    """rdflib 7.6's Dataset.parse calls APIs it has deprecated; those warnings are rdflib's to
    fix, so they are silenced around these calls only."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="rdflib")
        yield


def _named_graphs(data: str, fmt: str) -> list[Graph]:
    dataset = Dataset()
    with rdflib_internal_deprecations_silenced():
        dataset.parse(data=data, format=fmt)
        named = [g for g in dataset.graphs() if g.identifier != DATASET_DEFAULT_GRAPH_ID]
        return [_copy(g) for g in named if len(g)]


def graphs_from_nquads(data: bytes) -> list[Graph]:
    """Each named graph of an N-Quads document as an rdflib Graph."""
    return _named_graphs(data.decode("utf-8"), "nquads")


def read_rdf(path: Path) -> list[Graph]:
    """The graphs of an RDF file, or a UsageError naming the file and what was expected."""
    try:
        data = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        detail = error.strerror if isinstance(error, OSError) else "not UTF-8"
        name = "no such file" if not path.exists() else detail
        raise UsageError(f"{path}: {name}") from None
    fmt = RDF_FORMATS[path.suffix]
    try:
        if fmt in {"nquads", "trig"}:
            return _named_graphs(data, fmt)
        return [Graph().parse(data=data, format=fmt)]
    except Exception as error:  # rdflib's parsers raise many exception types
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UsageError(f"{path}: expected {fmt} RDF ({first[:200]})") from None


def _copy(graph: Graph) -> Graph:
    copy = Graph(identifier=graph.identifier)
    for triple in graph:
        copy.add(triple)
    return copy


def group_quads(quads: Iterable[tuple[Node, Node, Node, URIRef]]) -> list[Graph]:
    """Quads as one rdflib graph per named graph, in IRI order."""
    graphs: dict[URIRef, Graph] = {}
    for s, p, o, g in quads:
        graphs.setdefault(g, Graph(identifier=g)).add((s, p, o))
    return [graphs[g] for g in sorted(graphs)]
