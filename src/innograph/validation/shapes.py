"""The shapes files: read, checked to define shapes, split into per-graph and dataset rules.

A shapes file that holds no shape (say, a mistyped ``sh:`` namespace) is an error, never a pass:
both engines (the compiled gate and pySHACL) start from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from ..errors import UsageError
from ..vocab import data_dir

PER_GRAPH_SHAPES = ("profile.ttl", "profile-sparql.ttl", "recommended.ttl")
DATASET_SHAPES = ("dataset.ttl",)
SEVERITIES: dict[Node | None, str] = {
    SH.Violation: "Violation",
    SH.Warning: "Warning",
    SH.Info: "Info",
}


class ShapesError(UsageError):
    """Shapes that cannot be trusted: unreadable, or holding no shape at all."""


@dataclass(frozen=True, slots=True)
class Shape:
    iri: str
    name: str
    file: str


@dataclass(frozen=True)
class Shapes:
    per_graph: Graph
    dataset: Graph
    catalogue: tuple[Shape, ...]


def _shapes_in(graph: Graph) -> set[Node]:
    shapes = set(graph.subjects(RDF.type, SH.NodeShape)) | set(
        graph.subjects(RDF.type, SH.PropertyShape)
    )
    return {s for s in shapes if isinstance(s, URIRef)}


def load_shapes(folder: Path | None = None) -> Shapes:
    """Read the shapes files; each must parse and define at least one shape."""
    folder = folder or data_dir("shapes")
    graphs: dict[str, Graph] = {}
    catalogue: list[Shape] = []
    for name in PER_GRAPH_SHAPES + DATASET_SHAPES:
        path = folder / name
        graph = Graph()
        try:
            graph.parse(path, format="turtle")
        except (OSError, SyntaxError, ValueError) as error:
            raise ShapesError(f"{path}: expected a readable Turtle shapes file ({error})") from None
        shapes = _shapes_in(graph)
        if not shapes:
            raise ShapesError(
                f"{path}: holds no SHACL shapes; is the sh: prefix bound to "
                f"<{SH}>? A file without shapes would make every graph conform."
            )
        catalogue += [
            Shape(str(s), str(graph.value(s, SH.name) or s), name) for s in sorted(shapes, key=str)
        ]
        graphs[name] = graph
    per_graph = Graph()
    for name in PER_GRAPH_SHAPES:
        per_graph += graphs[name]
    dataset = Graph()
    for name in DATASET_SHAPES:
        dataset += graphs[name]
    return Shapes(per_graph, dataset, tuple(catalogue))
