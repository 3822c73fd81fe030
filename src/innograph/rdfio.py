"""Reading and writing RDF files: canonical N-Quads, TriG, atomic writes, tolerant readers."""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import XSD

from .errors import UsageError

PREFIXES = {
    "ig": "https://w3id.org/innograph/def/",
    "org": "http://www.w3.org/ns/org#",
    "qb": "http://purl.org/linked-data/cube#",
    "prov": "http://www.w3.org/ns/prov#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
}
Quad = tuple[URIRef, URIRef, URIRef | Literal, URIRef]  # subject, predicate, object, graph


def canonical_nquads(quads: Iterable[Quad]) -> bytes:
    """N-Quads with lines sorted: byte-identical for the same quads (there are no blank nodes)."""
    lines = sorted({f"{s.n3()} {p.n3()} {nt_term(o)} {g.n3()} .\n" for s, p, o, g in quads})
    return "".join(lines).encode("utf-8")


_NT_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def nt_term(term: URIRef | Literal) -> str:
    """A term in N-Triples syntax (literals always in short quotes, escaped)."""
    if not isinstance(term, Literal):
        return term.n3()
    text = f'"{str(term).translate(_NT_ESCAPES)}"'
    if term.language:
        return f"{text}@{term.language}"
    if term.datatype is not None and str(term.datatype) != str(XSD.string):
        return f"{text}^^<{term.datatype}>"
    return text


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def rdflib_internal_deprecations_silenced() -> Iterator[None]:
    """rdflib 7.6's own TriG serializer and Dataset.parse call APIs it has deprecated; those
    warnings are rdflib's to fix, so they are silenced around these calls only."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="rdflib")
        yield


def trig(dataset: Dataset) -> bytes:
    with rdflib_internal_deprecations_silenced():
        return dataset.serialize(format="trig").encode("utf-8")


# Only line- and Turtle-family syntaxes: RDF/XML invites entity-expansion bombs and JSON-LD
# remote contexts, neither of which a validator of local files needs.
RDF_FORMATS = {".nq": "nquads", ".trig": "trig", ".ttl": "turtle", ".nt": "nt"}


def trig_from_nquads(data: bytes) -> bytes:
    """TriG of canonical N-Quads (rdflib's serializer; fine for the real data's size)."""
    dataset = Dataset()
    for prefix, namespace in PREFIXES.items():
        dataset.bind(prefix, namespace)
    with rdflib_internal_deprecations_silenced():
        dataset.parse(data=data.decode("utf-8"), format="nquads")
    return trig(dataset)


def graphs_from_nquads(data: bytes) -> list[Graph]:
    """Each named graph of an N-Quads document as an rdflib Graph."""
    dataset = Dataset()
    with rdflib_internal_deprecations_silenced():
        dataset.parse(data=data.decode("utf-8"), format="nquads")
        return [
            _copy(g)
            for g in dataset.graphs()
            if len(g) and g.identifier != DATASET_DEFAULT_GRAPH_ID
        ]


def read_rdf(path: Path) -> list[Graph]:
    try:
        data = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        detail = error.strerror if isinstance(error, OSError) else "not UTF-8"
        name = "no such file" if not path.exists() else detail
        raise UsageError(f"{path}: {name}") from None
    fmt = RDF_FORMATS[path.suffix]
    try:
        with rdflib_internal_deprecations_silenced():
            if fmt in {"nquads", "trig"}:
                dataset = Dataset()
                dataset.parse(data=data, format=fmt)
                return [
                    _copy(g)
                    for g in dataset.graphs()
                    if len(g) and g.identifier != DATASET_DEFAULT_GRAPH_ID
                ]
            return [Graph().parse(data=data, format=fmt)]
    except Exception as error:  # rdflib's parsers raise many exception types
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UsageError(f"{path}: expected {fmt} RDF ({first[:200]})") from None


def _copy(graph: Graph) -> Graph:
    copy = Graph(identifier=graph.identifier)
    for triple in graph:
        copy.add(triple)
    return copy


def group_quads(quads: Iterable[Quad]) -> list[Graph]:
    graphs: dict[URIRef, Graph] = {}
    for s, p, o, g in quads:
        graphs.setdefault(g, Graph(identifier=g)).add((s, p, o))
    return [graphs[g] for g in sorted(graphs)]
