"""The use cases that cross stages: build a store version (read, parse, map, load, gate,
reconcile, promote), read one profile, and gather the graphs ``innograph validate`` checks.

Everything here is orchestration: each stage's work is done by its own package.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from fnmatch import fnmatch
from functools import cache, partial
from pathlib import Path
from typing import Any, Protocol

import pyoxigraph as ox
from rdflib import Graph
from rdflib.namespace import RDF, SKOS

from . import __version__, store
from .errors import InnographError, ProfileError, UsageError
from .mapping import SourceDocument, map_profile, ntriples
from .parsing import parse_bytes
from .records import ParsedProfile, SurveyOptions
from .settings import Settings
from .store import NamedGraph, ProfileCache
from .validation.causes import by_cause
from .validation.gate import Check, Finding, compile_shapes, run_checks
from .validation.inputs import RDF_FORMATS, group_quads, read_rdf
from .validation.shapes import load_shapes
from .vocab import data_dir, ontology, scheme_labels, vocabularies

DEFAULT_PROFILES = Path("data/profiles")


class PageMaker(Protocol):
    """Renders the documents kept with a version (the web's city pages) from the draft's store,
    given the base IRI and the served version's documents it may keep (IRI -> the graphs each
    was made from). The composition root (the CLI) passes the web's; a build without one keeps
    none. ``fingerprint`` names what its output depends on besides the graphs (its templates,
    the libraries that render them)."""

    @property
    def fingerprint(self) -> str: ...

    def __call__(
        self, source: ox.Store, base: str, reusable: Mapping[str, frozenset[str]]
    ) -> store.documents.Made: ...


@dataclass
class BuildReport:
    """What a build did. The counts add up: ``files_in`` is ``graphs_out`` plus the rejected
    files plus the skipped ones, whether the build passed or failed (then ``graphs_out`` counts
    the graphs that were good, though none was promoted)."""

    files_in: int = 0
    profiles_in: int = 0  # the files read as profiles: files_in less the skipped
    graphs_out: int = 0
    reused: int = 0
    rejected_files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "FILE: skipped: why", one per file
    rejects: list[str] = field(default_factory=list)  # "FILE:LINE: why", one or more per file
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the build repaired on its way
    version: str | None = None
    exit_code: int = 0
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Selection:
    """The files a build reads, and those it leaves out with the reason for each."""

    files: list[Path]
    skipped: list[tuple[Path, str]]


@dataclass(frozen=True, slots=True)
class Outcome:
    """One profile after parse and map: its graph, or why it has none."""

    name: str
    sha256: str
    graph: NamedGraph | None = None
    error: str | None = None


@cache
def survey_options() -> SurveyOptions:
    """The controlled lists the parser matches wording against, from the SKOS schemes."""
    return SurveyOptions.from_labels(scheme_labels())


def select_files(paths: Iterable[Path], exclude: Sequence[str] = ()) -> Selection:
    """The files named, and those in the folders named (not in their sub-folders, not hidden),
    sorted for a stable build. A file that is not ``.txt`` or that matches an ``exclude`` glob
    (on its name or its path) is skipped, alike whether it was named or found in a folder."""
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found.update(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        elif path.exists():
            found.add(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    files: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    for path in sorted(found, key=lambda p: (p.name, str(p))):
        glob = next((g for g in exclude if fnmatch(path.name, g) or fnmatch(str(path), g)), None)
        if glob is not None:
            skipped.append((path, f"--exclude {glob!r}"))
        elif path.suffix != ".txt":
            skipped.append((path, "not a profile text (*.txt)"))
        else:
            files.append(path)
    return Selection(files, skipped)


def profile_files(paths: Iterable[Path], exclude: Sequence[str] = ()) -> list[Path]:
    """The profile texts a build reads (see ``select_files``)."""
    return select_files(paths, exclude).files


def read_bytes(path: Path) -> bytes:
    """A profile file's bytes, or a ProfileError naming it."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise ProfileError(str(path), 1, f"expected a readable file ({error.strerror})") from None


def read_profile(path: Path) -> ParsedProfile:
    """One profile file parsed, or a ProfileError naming the file and line."""
    return parse_bytes(read_bytes(path), str(path), survey_options())


def code_fingerprint(base: str) -> str:
    """What a cached profile graph depends on besides its text: our code, ontology, shapes."""
    # pyoxigraph writes the graphs and zlib the dumps' parts, which a rebuild reuses
    engines = f"{ox.__version__}|{zlib.ZLIB_RUNTIME_VERSION}"
    digest = hashlib.sha256(f"{__version__}|{base}|{engines}".encode())
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
    return Outcome(name, sha, NamedGraph(str(quads[0][3]), ntriples(quads)))


def map_all(
    files: list[Path],
    cache: ProfileCache,
    base: str,
    workers: int,
    progress: Callable[[int], None],
    notes: list[str],
) -> tuple[list[Outcome], int]:
    """Every profile's outcome, from the cache when its text and our code are unchanged and
    its cached graph is whole (else mapped again, and said in ``notes``)."""
    fingerprint = code_fingerprint(base)
    outcomes: dict[int, Outcome] = {}
    jobs: list[tuple[int, str, tuple[str, bytes, str]]] = []
    for index, path in enumerate(files):
        try:
            data = path.read_bytes()
        except OSError as error:
            message = f"{path}:1: expected a readable file ({error.strerror})"
            outcomes[index] = Outcome(path.name, "", error=message)
            continue
        sha = hashlib.sha256(data).hexdigest()
        key = cache.key(path.name, sha, fingerprint)
        hit = cache.get(key)
        if key in cache.damaged:
            notes.append(f"{path}: its cached graph was damaged (checksum); rebuilt from the text")
        if hit is not None:
            outcomes[index] = Outcome(path.name, sha, hit)
            progress(1)
        else:
            jobs.append((index, key, (str(path), data, base)))
    reused = len(outcomes)

    def collect(results: Iterable[Outcome]) -> None:
        for (index, key, _), outcome in zip(jobs, results, strict=True):
            if outcome.graph is not None:
                outcome = Outcome(outcome.name, outcome.sha256, cache.put(key, outcome.graph))
            outcomes[index] = outcome
            progress(1)

    payloads = [job for _, _, job in jobs]
    if workers <= 1 or len(jobs) < 2 * workers:
        collect(map(process_profile, payloads))
    else:
        with ProcessPoolExecutor(workers) as pool:
            chunk = max(1, len(jobs) // (workers * 8))
            collect(pool.map(process_profile, payloads, chunksize=chunk))
    return [outcomes[i] for i in range(len(files))], reused


Mapped = tuple[str, str, NamedGraph]  # file name, sha256 of its bytes, its graph


def load_draft(
    draft: store.Draft, root: Path, mapped: list[Mapped], fingerprint: str, base: str
) -> list[NamedGraph] | None:
    """Fill the draft: a copy of the served version with only the changed graphs replaced when
    it was built by this code, else every graph anew. The graphs to check one by one, or None
    when all of them are new."""
    served = store.current(root)
    manifest = served.manifest() if served is not None else {}
    if served is None or manifest.get("fingerprint") != fingerprint:
        draft.fill([*store.vocabulary_graphs(base), *(graph for _, _, graph in mapped)])
        return None
    before = manifest.get("profiles", {})
    changed = [graph for name, sha, graph in mapped if before.get(name, {}).get("sha256") != sha]
    kept = {name for name, _, _ in mapped}
    gone = [entry["graph"] for name, entry in before.items() if name not in kept]
    draft.update(served, changed, gone)
    return changed


def gate(
    draft: store.Draft, checked: list[NamedGraph] | None, base: str
) -> tuple[list[tuple[Finding, str]], list[tuple[Finding, str]]]:
    """The compiled shapes: per-graph rules on the checked graphs only (a scratch store of them;
    all graphs of the draft when ``checked`` is None), then the rules across graphs on the whole
    draft. The findings of each, with the ``file:line`` each came from."""
    shapes = load_shapes()
    per_graph = compile_shapes(shapes.per_graph)
    if checked is None:
        scope = draft.store
    else:
        scope = store.graphs.in_memory([*store.vocabulary_graphs(base), *checked])
    own = run_checks(scope, per_graph)
    across = run_checks(draft.store, compile_shapes(shapes.dataset))
    return (
        [(f, store.graphs.locate(draft.store, f.focus, f.value)) for f in own],
        [(f, store.graphs.locate(draft.store, f.focus, f.value)) for f in across],
    )


def results_of(
    own: list[tuple[Finding, str]], across: list[tuple[Finding, str]], mapped: list[Mapped]
) -> list[store.findings.Result]:
    """The gate's findings as a version keeps them: each per-graph one with its profile graph
    (named by the file it came from), those across graphs with none."""
    graph_of = {name: graph.iri for name, _, graph in mapped}

    def result(finding: Finding, where: str, graph: str | None) -> store.findings.Result:
        fields = dataclasses.asdict(finding)
        return {**fields, "source": where, "graph": graph}

    return [result(f, w, graph_of.get(w.rsplit(":", 1)[0])) for f, w in own] + [
        result(f, w, None) for f, w in across
    ]


def faults_alone(graph: NamedGraph, base: str, rules: list[Check]) -> set[Finding]:
    """What the per-graph rules find in one graph with the vocabularies and nothing else: a
    fault of its own, not one that another file describing the same profile set off."""
    scope = store.graphs.in_memory([*store.vocabulary_graphs(base), graph])
    return set(run_checks(scope, rules))


def manifest_of(
    report: BuildReport, mapped: list[Mapped], fingerprint: str, base: str
) -> dict[str, Any]:
    """What a version records of its build: inputs, counts, and what its cache depends on."""
    return {
        "fingerprint": fingerprint,
        "base_iri": base,
        "parser_version": __version__,
        "profiles": {name: {"sha256": sha, "graph": g.iri} for name, sha, g in mapped},
        "counts": {
            "files_in": report.files_in,
            "profiles_in": report.profiles_in,
            "graphs_out": report.graphs_out,
            "rejects": 0,
            "skipped": len(report.skipped),
            "reused": report.reused,
            "warnings": len(report.warnings),
        },
    }


class Laps:
    """Seconds spent in each phase, into a report's timings."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.clock = time.perf_counter()

    def __call__(self, phase: str) -> None:
        now = time.perf_counter()
        self.timings[phase], self.clock = now - self.clock, now


def build(
    paths: Iterable[Path],
    root: Path,
    settings: Settings,
    workers: int = 1,
    progress: Callable[[int], None] = lambda _: None,
    exclude: Sequence[str] = (),
    pages: PageMaker | None = None,
) -> BuildReport:
    """Build a new store version; promote it only if every profile was read and no rule is
    violated. The served version is never touched before the final atomic switch. ``pages``
    renders the documents kept with the version (reused from the served one where possible)."""
    selection = select_files(paths, exclude)
    files = selection.files
    report = BuildReport(files_in=len(files) + len(selection.skipped), profiles_in=len(files))
    report.skipped = [f"{path}: skipped: {why}" for path, why in selection.skipped]
    if not files:
        raise UsageError(
            "\n".join(report.skipped)
            + ("\n" if report.skipped else "")
            + f"no profile texts to build: {report.files_in} file(s) in, all skipped;"
            " name profile texts (*.txt) or folders holding them"
        )
    base = settings.base_iri
    backend = store.slots.Backend.from_settings(settings)  # a bad --backend fails before work
    if backend is not None:
        store.slots.idle_slot(root, backend)
    lap = Laps(report.timings)
    with store.writing(root):
        cached = ProfileCache(root)
        outcomes, report.reused = map_all(files, cached, base, workers, progress, report.notes)
    lap("parse+map")
    report.rejects = [o.error for o in outcomes if o.error is not None]
    if report.rejects:
        report.rejected_files = [str(f) for f, o in zip(files, outcomes, strict=True) if o.error]
        report.graphs_out = len(files) - len(report.rejected_files)
        report.exit_code = 2
        return report
    mapped = [(o.name, o.sha256, o.graph) for o in outcomes if o.graph is not None]
    fingerprint = code_fingerprint(base)
    with store.writing(root), store.draft(root) as draft:
        report.notes += [
            f"{leftover}: removed, left by an interrupted build (never served)"
            for leftover in draft.leftovers
        ]
        checked = load_draft(draft, root, mapped, fingerprint, base)
        lap("load")
        own, across = gate(draft, checked, base)
        findings = own + across
        graphs = {graph.iri: graph for _, _, graph in mapped}
        rules = cache(lambda: compile_shapes(load_shapes().per_graph))  # only if asked
        violations, warnings = by_cause(
            draft.store, findings, lambda iri: faults_alone(graphs[iri], base, rules())
        )
        report.rejects = [cause.line for cause in violations]
        report.warnings = [cause.line for cause in warnings]
        violated = {cause.file for cause in violations}
        lap("validate")
        report.graphs_out = store.graphs.count_profile_graphs(draft.store)
        if report.rejects:
            report.rejected_files = [str(f) for f in files if f.name in violated]
            report.graphs_out = len(files) - len(report.rejected_files)
            report.exit_code = 1
            return report
        if report.graphs_out != report.profiles_in:
            raise InnographError(
                f"build: {report.profiles_in} profiles in, {report.graphs_out} profile graphs out"
                " (two files describe the same document?)"
            )
        draft.keep_findings(results_of(own, across, mapped))
        if pages is not None:
            kept = hashlib.sha256(f"{fingerprint}|{pages.fingerprint}".encode()).hexdigest()
            draft.keep_documents(kept, pages(draft.store, base, draft.reusable_documents(kept)))
            lap("pages")
        deploy = None if backend is None else partial(store.slots.deploy, root, backend)
        report.version = draft.promote(manifest_of(report, mapped, fingerprint, base), deploy).id
    lap("promote")
    return report


def graphs_to_validate(
    paths: Sequence[Path], settings: Settings, served: Callable[[], list[Graph]]
) -> list[Graph]:
    """The graphs named by PATHs (RDF files or profile texts), or the served version's.

    Profile texts are parsed and mapped first; the vocabularies are added when the input
    does not carry them, since code-list shapes need them in the data graph.
    """
    graphs: list[Graph] = [] if paths else served()
    texts = [path for path in paths if path.suffix == ".txt"]
    for path in paths:
        if path.suffix not in RDF_FORMATS and path not in texts:
            raise UsageError(
                f"{path}: expected a profile text (.txt) or RDF ({', '.join(RDF_FORMATS)})"
            )
        if path.suffix in RDF_FORMATS:
            graphs += read_rdf(path)
    for path in texts:
        data = read_bytes(path)
        parsed = parse_bytes(data, str(path), survey_options())
        source = SourceDocument.of(path.name, data)
        graphs += group_quads(map_profile(parsed.profile, source, settings.base_iri, __version__))
    if not any((None, RDF.type, SKOS.ConceptScheme) in g for g in graphs):
        graphs += [ontology(), vocabularies()]
    return graphs
