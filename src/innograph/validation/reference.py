"""The reference engine: profile graphs validated by pySHACL, results with source lines.

Each profile graph is validated on its own with the vocabularies loaded into its data graph (the
DCAT-AP practice for code lists); the rules across profiles (``shapes/dataset.ttl``) run once
on the union of the profile graphs. The compiled gate must agree with what this finds.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, SH, SKOS
from rdflib.term import Node

from ..vocab import IG
from .shapes import SEVERITIES, Shape, Shapes, ShapesError


@dataclass(frozen=True, slots=True)
class SourceRef:
    file: str
    line: int | None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass(frozen=True, slots=True)
class Result:
    focus: str
    path: str | None
    value: str | None
    shape: str
    shape_name: str
    component: str
    severity: str
    message: str
    sources: tuple[SourceRef, ...]


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)
    shapes: tuple[Shape, ...] = ()
    graphs: int = 0

    def failing(self, allow_warnings: bool) -> list[Result]:
        allowed = {"Warning", "Info"} if allow_warnings else {"Info"}
        return [r for r in self.results if r.severity not in allowed]

    def conforms(self, allow_warnings: bool = False) -> bool:
        return not self.failing(allow_warnings)


@contextmanager
def _quiet() -> Iterator[None]:
    """pySHACL drives rdflib APIs that rdflib 7.6 has deprecated; not ours to fix."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        yield


def _run(data: Graph, shapes: Graph) -> Graph:
    # Imported here: pySHACL and rdflib's SPARQL engine weigh 8 MB in every process that
    # imports this module (the command line, and through it each query worker), used only here.
    import pyshacl
    import rdflib.plugins.sparql

    # SHACL-SPARQL constraints run on rdflib's engine, which by default fetches the IRIs that
    # FROM, FROM NAMED and LOAD name (a file or a URL): a shapes file may name them, nothing may
    # fetch them.
    rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False
    try:
        with _quiet():
            _, report, text = pyshacl.validate(
                data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True
            )
    except Exception as error:  # a constraint rdflib cannot run (GRAPH over one graph, say)
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ShapesError(f"shapes could not be applied: {first[:300]}") from None
    if not isinstance(report, Graph):  # pySHACL returns a failure object for broken shapes
        first = str(text).strip().splitlines()[0] if str(text).strip() else "unknown error"
        raise ShapesError(f"shapes could not be applied: {first}")
    return report


def _text(term: Node | None) -> str | None:
    if term is None:
        return None
    if isinstance(term, BNode):
        return "_:" + str(term)
    return str(term)


def _path_text(report: Graph, path: Node | None) -> str | None:
    if path is None or not isinstance(path, BNode):
        return _text(path)
    inverse = report.value(path, SH.inversePath)
    if inverse is not None:
        return f"^{inverse}"
    items = list(report.items(path))
    return " / ".join(str(i) for i in items) if items else _text(path)


def _results(
    report: Graph, shapes: Graph, sources: dict[str, tuple[SourceRef, ...]]
) -> list[Result]:
    results = []
    roots = list(report.subjects(RDF.type, SH.ValidationReport))
    # Only the report's own results: pySHACL nests the results behind sh:node under sh:detail.
    for node in (r for root in roots for r in report.objects(root, SH.result)):
        focus = str(report.value(node, SH.focusNode))
        shape = report.value(node, SH.sourceShape)
        constraint = report.value(node, SH.sourceConstraint)
        messages = sorted(str(m) for m in report.objects(node, SH.resultMessage))
        general = str(shapes.value(shape, SH.message) or "")
        specific = [m for m in messages if m != general] or messages
        name_of = (
            constraint if constraint is not None and shapes.value(constraint, SH.name) else shape
        )
        results.append(
            Result(
                focus=focus,
                path=_path_text(report, report.value(node, SH.resultPath)),
                value=_text(report.value(node, SH.value)),
                shape=_text(shape) or "",
                shape_name=str(
                    shapes.value(name_of, SH.name) or shapes.value(shape, SH.name) or shape
                ),
                component=str(report.value(node, SH.sourceConstraintComponent)).removeprefix(
                    str(SH)
                ),
                severity=SEVERITIES.get(report.value(node, SH.resultSeverity), "Violation"),
                message=(specific or [""])[0],
                sources=_where(report.value(node, SH.value), focus, sources),
            )
        )
    return results


def _where(
    value: Node | None, focus: str, sources: dict[str, tuple[SourceRef, ...]]
) -> tuple[SourceRef, ...]:
    """A result whose value is a stated fact (a duplicated rank's item) points at that fact's
    line; otherwise at the focus node's."""
    if isinstance(value, URIRef):
        refs = sources.get(str(value), ())
        if any(ref.line is not None for ref in refs):
            return refs
    return sources.get(focus, ())


def _is_vocabulary(graph: Graph) -> bool:
    return (None, RDF.type, SKOS.ConceptScheme) in graph or (None, RDF.type, OWL.Ontology) in graph


def _line(graph: Graph, node: Node) -> int | None:
    line = graph.value(node, IG.sourceLine)
    return int(line) if isinstance(line, Literal) and str(line).isdigit() else None


def _source_lines(graph: Graph) -> dict[str, tuple[SourceRef, ...]]:
    """Focus node → where it came from: the file of its graph and its line. A node without a
    line of its own (a profile, a share quoted by a sentence) takes the first line of the facts
    it is linked with."""
    files = sorted(str(f) for f in graph.objects(None, DCTERMS.identifier))
    name = ", ".join(files) if files else "(no source document)"
    where: dict[str, tuple[SourceRef, ...]] = {}
    for subject in set(graph.subjects()):
        number = _line(graph, subject)
        if number is None:
            neighbours = [_line(graph, o) for o in graph.objects(subject)]
            neighbours += [_line(graph, s) for s in graph.subjects(None, subject)]
            number = min((n for n in neighbours if n is not None), default=None)
        where[str(subject)] = (SourceRef(name, number),)
    return where


def validate_graphs(graphs: Iterable[Graph], shapes: Shapes) -> Report:
    """Validate each profile graph, then the cross-graph rules over their union."""
    vocabulary = Graph()
    profiles: list[Graph] = []
    for graph in graphs:
        if _is_vocabulary(graph):
            vocabulary += graph
        elif len(graph):
            profiles.append(graph)
    report = Report(shapes=shapes.catalogue, graphs=len(profiles))
    union = Graph()
    union_sources: dict[str, tuple[SourceRef, ...]] = {}
    for graph in profiles:
        sources = _source_lines(graph)
        data = Graph()
        data += graph
        data += vocabulary
        report.results += _results(_run(data, shapes.per_graph), shapes.per_graph, sources)
        union += graph
        for key, refs in sources.items():
            union_sources[key] = tuple(dict.fromkeys(union_sources.get(key, ()) + refs))
    report.results += _results(_run(union, shapes.dataset), shapes.dataset, union_sources)
    unique = dict.fromkeys(report.results)  # the same result reached by two routes counts once
    report.results = sorted(unique, key=lambda r: (r.focus, r.shape, r.message, r.value or ""))
    return report
