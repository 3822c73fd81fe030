"""The build use case: read, parse, map, and write the dataset (TriG and N-Quads) atomically."""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import RDF, SKOS

from . import __version__, store
from .errors import InnographError, ProfileError, UsageError
from .gate import Finding, compile_shapes, run_checks
from .mapping import SourceDocument, map_profile
from .parsing import parse_bytes
from .rdfio import (
    RDF_FORMATS,
    Quad,
    canonical_nquads,
    group_quads,
    nt_term,
    rdflib_internal_deprecations_silenced,
    read_rdf,
    trig,
    write_atomically,
)
from .settings import Settings
from .validation import load_shapes
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


def load_dataset(out: Path) -> Dataset:
    """The built dataset, with the default graph as the union of the named graphs."""
    path = out / NQUADS_NAME
    if not path.exists():
        raise UsageError(f"{path}: no built graph here; run 'innograph build' first")
    dataset = Dataset(default_union=True)
    with rdflib_internal_deprecations_silenced():
        dataset.parse(data=path.read_text(encoding="utf-8"), format="nquads")
    return dataset


def graphs_to_validate(
    paths: Sequence[Path], settings: Settings, served: Callable[[], list[Graph]]
) -> list[Graph]:
    """The graphs named by PATHs (RDF files or profile texts), or the served version's.

    Profile texts are parsed and mapped first; the vocabularies are added when the input
    does not carry them, since code-list shapes need them in the data graph.
    """
    graphs: list[Graph] = [] if paths else served()
    texts: list[Path] = []
    for path in paths:
        if path.suffix == ".txt":
            texts.append(path)
            continue
        if path.suffix not in RDF_FORMATS:
            raise UsageError(
                f"{path}: expected a profile text (.txt) or RDF ({', '.join(RDF_FORMATS)})"
            )
        graphs += read_rdf(path)
    if texts:
        report = BuildReport()
        quads = map_files(texts, settings.base_iri, report)
        if report.rejects:
            raise report.rejects[0]
        graphs += group_quads(quads)
    if not any((None, RDF.type, SKOS.ConceptScheme) in g for g in graphs):
        graphs += group_quads(vocabulary_quads(settings.base_iri))
    return graphs


# --- store builds -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """One profile after parse and map: its graph as canonical N-Triples (in memory straight
    from a worker, else in the cache file), or why it failed."""

    name: str
    sha256: str
    graph: str | None = None
    triples: bytes | None = None
    error: str | None = None
    cached: Path | None = None

    def load_triples(self) -> bytes:
        if self.triples is not None:
            return self.triples
        assert self.cached is not None
        return self.cached.read_bytes().partition(b"\n")[2]


@dataclass
class StoreReport:
    profiles_in: int = 0
    graphs_out: int = 0
    reused: int = 0
    rejects: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    version: str | None = None
    exit_code: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def code_fingerprint(base: str) -> str:
    """What a cached profile graph depends on besides its text: our code, ontology, shapes."""
    digest = hashlib.sha256(f"{__version__}|{base}".encode())
    package = Path(__file__).resolve().parent
    files = sorted(package.rglob("*.py")) + sorted(data_dir("ontology").rglob("*.ttl"))
    files += sorted(data_dir("shapes").glob("*.ttl"))
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def process_profile(job: tuple[str, bytes, str]) -> Outcome:
    """Parse and map one profile (runs in a worker process)."""
    path, data, base = job
    name = Path(path).name
    sha = hashlib.sha256(data).hexdigest()
    try:
        parsed = parse_bytes(data, path, survey_options())
    except ProfileError as error:
        return Outcome(name, sha, error=error.public_message)
    quads = map_profile(parsed.profile, SourceDocument(name, sha), base, __version__)
    lines = sorted({f"{s.n3()} {p.n3()} {nt_term(o)} .\n" for s, p, o, _ in quads})
    return Outcome(name, sha, str(quads[0][3]), "".join(lines).encode("utf-8"))


def _cached(cache: Path, key: str, name: str, sha: str) -> Outcome | None:
    """The cached graph's name (its first line); the triples stay on disk until loaded."""
    path = cache / f"{key}.nt"
    if not path.is_file():
        return None
    with path.open("rb") as stream:
        header = stream.readline().decode().strip()
    return Outcome(name, sha, header.removeprefix("# graph: "), cached=path)


def _remember(cache: Path, key: str, outcome: Outcome) -> Outcome:
    """Write the graph to the cache; keep only its file name in memory."""
    assert outcome.triples is not None
    path = cache / f"{key}.nt"
    write_atomically(path, f"# graph: {outcome.graph}\n".encode() + outcome.triples)
    return Outcome(outcome.name, outcome.sha256, outcome.graph, cached=path)


def _map_all(
    files: list[Path], root: Path, base: str, workers: int, progress: Callable[[int], None]
) -> tuple[list[Outcome], int]:
    """Every profile's outcome, from the cache when its text and our code are unchanged."""
    cache = store.cache_dir(root)
    fingerprint = code_fingerprint(base)
    outcomes: dict[int, Outcome] = {}
    jobs: list[tuple[int, str, tuple[str, bytes, str]]] = []
    for index, path in enumerate(files):
        try:
            data = path.read_bytes()
        except OSError as error:
            outcomes[index] = Outcome(
                path.name, "", error=f"{path}:1: expected a readable file ({error.strerror})"
            )
            continue
        sha = hashlib.sha256(data).hexdigest()
        # The name is part of the key: the file name shapes the IRIs of its graph.
        key = hashlib.sha256(f"{path.name}|{sha}|{fingerprint}".encode()).hexdigest()
        hit = _cached(cache, key, path.name, sha)
        if hit is not None:
            outcomes[index] = hit
            progress(1)
        else:
            jobs.append((index, key, (str(path), data, base)))
    reused = len(outcomes)
    payloads = [job for _, _, job in jobs]

    def collect(results: Iterable[Outcome]) -> None:
        for (index, key, _), outcome in zip(jobs, results, strict=True):
            outcomes[index] = outcome if outcome.error else _remember(cache, key, outcome)
            progress(1)

    if workers <= 1 or len(jobs) < 2 * workers:
        collect(map(process_profile, payloads))
    else:
        with ProcessPoolExecutor(workers) as pool:
            chunk = max(1, len(jobs) // (workers * 8))
            collect(pool.map(process_profile, payloads, chunksize=chunk))
    return [outcomes[i] for i in range(len(files))], reused


def _as_quads(triples: bytes, graph: str) -> bytes:
    """N-Triples lines placed in ``graph`` and, again, in the default graph (the union)."""
    suffix = f" <{graph}> .\n".encode()
    named = b"".join(
        line[:-2] + suffix for line in triples.splitlines(keepends=True) if line.strip()
    )
    return named + triples


def _vocabulary_load(base: str) -> bytes:
    quads = vocabulary_quads(base)
    named = canonical_nquads(quads)
    default = "".join(sorted({f"{s.n3()} {p.n3()} {nt_term(o)} .\n" for s, p, o, _ in quads}))
    return named + default.encode("utf-8")


def _fill_new_store(path: Path, outcomes: list[Outcome], base: str) -> ox.Store:
    target = ox.Store(str(path))
    target.bulk_load(_vocabulary_load(base), format=ox.RdfFormat.N_QUADS)
    batch: list[bytes] = []
    for outcome in outcomes:
        batch.append(_as_quads(outcome.load_triples(), outcome.graph or ""))
        if len(batch) == 200:
            target.bulk_load(b"".join(batch), format=ox.RdfFormat.N_QUADS)
            batch = []
    if batch:
        target.bulk_load(b"".join(batch), format=ox.RdfFormat.N_QUADS)
    return target


def _update_copy(
    path: Path, served: store.Version, changed: list[Outcome], gone: list[str]
) -> ox.Store:
    """The served store copied (a RocksDB checkpoint: hard links), then only the changed graphs
    replaced; triples leave the default graph only when no other graph still states them."""
    store.open_read_only(served).backup(str(path))
    target = ox.Store(str(path))
    for graph in gone + [o.graph for o in changed if o.graph]:
        target.update(
            f"DELETE {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }}"
            f" FILTER NOT EXISTS {{ GRAPH ?other {{ ?s ?p ?o }} FILTER (?other != <{graph}>) }} }};"
            f" DROP SILENT GRAPH <{graph}>"
        )
    if changed:
        data = b"".join(_as_quads(o.load_triples(), o.graph or "") for o in changed)
        target.load(data, format=ox.RdfFormat.N_QUADS)
    return target


def _locate(target: ox.Store, focus: str) -> str:
    """file:line of a focus node, from the graph that states it."""
    query = (
        "PREFIX ig: <https://w3id.org/innograph/def/> PREFIX dct: <http://purl.org/dc/terms/>"
        " PREFIX prov: <http://www.w3.org/ns/prov#>"
        f" SELECT ?file ?line WHERE {{ GRAPH ?g {{ <{focus}> ?p ?o . ?g prov:wasDerivedFrom ?doc ."
        " ?doc dct:identifier ?file . OPTIONAL { <" + focus + "> ig:sourceLine ?line } } }"
        " ORDER BY ?file LIMIT 1"
    )
    for row in target.query(query):  # type: ignore[union-attr]
        line = row["line"]
        return f"{row['file'].value}:{line.value}" if line is not None else row["file"].value
    return "(source unknown)"


def _gate(target: ox.Store, changed: list[Outcome], everything: bool, base: str) -> list[Finding]:
    """Per-graph rules on the changed graphs only (all of them in a full build), then the rules
    across graphs on the new store."""
    shapes = load_shapes()
    per_graph = compile_shapes(shapes.per_graph)
    if everything:
        findings = run_checks(target, per_graph)
    else:
        scratch = ox.Store()
        scratch.bulk_load(_vocabulary_load(base), format=ox.RdfFormat.N_QUADS)
        scratch.bulk_load(
            b"".join(_as_quads(o.load_triples(), o.graph or "") for o in changed),
            format=ox.RdfFormat.N_QUADS,
        )
        findings = run_checks(scratch, per_graph)
    return findings + run_checks(target, compile_shapes(shapes.dataset))


def build_store(
    paths: Iterable[Path],
    root: Path,
    settings: Settings,
    workers: int = 1,
    progress: Callable[[int], None] = lambda _: None,
) -> StoreReport:
    """Build a new store version; promote it only if every profile was read and no rule is
    violated. The served version is never touched before the final atomic switch."""
    files = profile_files(paths)
    if not files:
        raise UsageError("no profile files (*.txt) found in the given paths")
    report = StoreReport(profiles_in=len(files))
    clock = time.perf_counter()

    def lap(phase: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        report.timings[phase] = now - clock
        clock = now

    outcomes, report.reused = _map_all(files, root, settings.base_iri, workers, progress)
    lap("parse+map")
    report.rejects = [o.error for o in outcomes if o.error is not None]
    if report.rejects:
        report.exit_code = 2
        return report
    served = store.current(root)
    manifest_before = served.manifest() if served else {}
    fingerprint = code_fingerprint(settings.base_iri)
    before = (
        manifest_before.get("profiles", {})
        if manifest_before.get("fingerprint") == fingerprint
        else None
    )
    building = store.start_version(root)
    if served is not None and before is not None:
        changed = [o for o in outcomes if before.get(o.name, {}).get("sha256") != o.sha256]
        kept = {o.name for o in outcomes}
        gone = [entry["graph"] for name, entry in before.items() if name not in kept]
        target = _update_copy(building / "oxigraph", served, changed, gone)
        lap("load")
        findings = _gate(target, changed, everything=False, base=settings.base_iri)
    else:
        target = _fill_new_store(building / "oxigraph", outcomes, settings.base_iri)
        lap("load")
        findings = _gate(target, outcomes, everything=True, base=settings.base_iri)
    lap("validate")
    for finding in findings:
        where = _locate(target, finding.focus)
        line = f"{where}: {finding.severity}: {finding.focus}: {finding.message}"
        (report.rejects if finding.severity == "Violation" else report.warnings).append(line)
    report.graphs_out = _count_profile_graphs(target)
    target.flush()
    del target
    if report.rejects:
        report.exit_code = 1
        shutil.rmtree(building, ignore_errors=True)
        return report
    if report.graphs_out != report.profiles_in:
        shutil.rmtree(building, ignore_errors=True)
        raise InnographError(
            f"build: {report.profiles_in} profiles in, {report.graphs_out} profile graphs out"
            " (two files describe the same document?)"
        )
    manifest = {
        "fingerprint": fingerprint,
        "base_iri": settings.base_iri,
        "parser_version": __version__,
        "profiles": {o.name: {"sha256": o.sha256, "graph": o.graph} for o in outcomes},
        "counts": {
            "profiles_in": report.profiles_in,
            "graphs_out": report.graphs_out,
            "rejects": 0,
            "reused": report.reused,
            "warnings": len(report.warnings),
        },
    }
    version = store.finish_version(building, manifest)
    store.promote(root, version)
    lap("promote")
    report.version = version.id
    return report


def _count_profile_graphs(target: ox.Store) -> int:
    query = (
        "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE"
        " { GRAPH ?g { ?g a <https://w3id.org/innograph/def/ProfileGraph> } }"
    )
    return int(next(iter(target.query(query)))["n"].value)  # type: ignore[index, union-attr]


def dump_nquads(version: store.Version) -> bytes:
    """The version's named graphs as N-Quads, lines sorted within each graph, graphs in IRI
    order: byte-identical for the same content however it was built."""
    source = store.open_read_only(version)
    parts = []
    for graph in sorted(g.value for g in source.named_graphs()):  # type: ignore[union-attr]
        text = source.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))
        suffix = f" <{graph}> .\n".encode()
        lines = sorted(
            line[:-2] + suffix for line in text.splitlines(keepends=True) if line.strip()
        )
        parts.append(b"".join(lines))
    return b"".join(parts)
