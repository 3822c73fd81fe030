"""The build use case: read, parse, map, and write the dataset (TriG and N-Quads) atomically."""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import RDF, SKOS, XSD

from . import __version__
from .errors import InnographError, ProfileError, UsageError
from .mapping import Quad, SourceDocument, map_profile
from .parsing import parse_bytes
from .settings import Settings
from .vocab import data_dir, survey_options, vocabulary_files

NQUADS_NAME = "innograph.nq"
TRIG_NAME = "innograph.trig"


@dataclass
class BuildReport:
    profiles: list[str] = field(default_factory=list)
    rejects: list[InnographError] = field(default_factory=list)
    quads: int = 0


def profile_files(paths: Iterable[Path]) -> list[Path]:
    """The ``.txt`` files named, or found in the folders named, sorted for a stable build."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(path.glob("*.txt")))
        elif path.exists():
            found.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    return sorted(set(found), key=lambda p: (p.name, str(p)))


def vocabulary_quads(base: str) -> list[Quad]:
    """The ontology and the SKOS schemes, each in a named graph of its own."""
    dataset = Dataset()
    ontology = dataset.graph(URIRef(f"{base}graph/ontology"))
    for path in sorted(data_dir("ontology").glob("*.ttl")):
        ontology.parse(path, format="turtle")
    vocabularies = dataset.graph(URIRef(f"{base}graph/vocabularies"))
    for path in vocabulary_files():
        vocabularies.parse(path, format="turtle")
    return [
        (s, p, o, graph.identifier)  # type: ignore[misc]
        for graph in (ontology, vocabularies)
        for s, p, o in graph
    ]


def map_files(files: list[Path], base: str, report: BuildReport) -> list[Quad]:
    options = survey_options()
    quads: list[Quad] = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as error:
            report.rejects.append(
                ProfileError(str(path), 1, f"expected a readable file ({error.strerror})")
            )
            continue
        try:
            parsed = parse_bytes(data, str(path), options)
        except ProfileError as error:
            report.rejects.append(error)
            continue
        quads.extend(
            map_profile(parsed.profile, SourceDocument.of(path.name, data), base, __version__)
        )
        report.profiles.append(path.name)
    return quads


def build(paths: Iterable[Path], out: Path, settings: Settings) -> BuildReport:
    """Build the dataset; writes nothing unless every profile was read."""
    report = BuildReport()
    files = profile_files(paths)
    if not files:
        raise UsageError("no profile files (*.txt) found in the given paths")
    quads = map_files(files, settings.base_iri, report)
    if report.rejects:
        return report
    quads.extend(vocabulary_quads(settings.base_iri))
    dataset = Dataset()
    for s, p, o, g in quads:
        dataset.add((s, p, o, g))
    out.mkdir(parents=True, exist_ok=True)
    nquads = canonical_nquads(quads)
    report.quads = nquads.count(b"\n")
    write_atomically(out / NQUADS_NAME, nquads)
    write_atomically(out / TRIG_NAME, trig(dataset))
    return report


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


def load_dataset(out: Path) -> Dataset:
    """The built dataset, with the default graph as the union of the named graphs."""
    path = out / NQUADS_NAME
    if not path.exists():
        raise UsageError(f"{path}: no built graph here; run 'innograph build' first")
    dataset = Dataset(default_union=True)
    with rdflib_internal_deprecations_silenced():
        dataset.parse(data=path.read_text(encoding="utf-8"), format="nquads")
    return dataset


RDF_FORMATS = {
    ".nq": "nquads",
    ".trig": "trig",
    ".ttl": "turtle",
    ".nt": "nt",
    ".rdf": "xml",
    ".jsonld": "json-ld",
}


def graphs_to_validate(paths: Sequence[Path], out: Path, settings: Settings) -> list[Graph]:
    """The graphs named by PATHs (RDF files or profile texts), or the built graph by default.

    Profile texts are parsed and mapped first; the vocabularies are added when the input
    does not carry them, since code-list shapes need them in the data graph.
    """
    paths = list(paths) or [out / NQUADS_NAME]
    graphs: list[Graph] = []
    texts: list[Path] = []
    for path in paths:
        if path.suffix == ".txt":
            texts.append(path)
            continue
        if path.suffix not in RDF_FORMATS:
            raise UsageError(
                f"{path}: expected a profile text (.txt) or RDF ({', '.join(RDF_FORMATS)})"
            )
        graphs += _read_rdf(path)
    if texts:
        report = BuildReport()
        quads = map_files(texts, settings.base_iri, report)
        if report.rejects:
            raise report.rejects[0]
        graphs += _group(quads)
    if not any((None, RDF.type, SKOS.ConceptScheme) in g for g in graphs):
        graphs += _group(vocabulary_quads(settings.base_iri))
    return graphs


def _read_rdf(path: Path) -> list[Graph]:
    try:
        data = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        detail = error.strerror if isinstance(error, OSError) else "not UTF-8"
        name = "no built graph here; run 'innograph build' first" if not path.exists() else detail
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


def _group(quads: Iterable[Quad]) -> list[Graph]:
    graphs: dict[URIRef, Graph] = {}
    for s, p, o, g in quads:
        graphs.setdefault(g, Graph(identifier=g)).add((s, p, o))
    return [graphs[g] for g in sorted(graphs)]
