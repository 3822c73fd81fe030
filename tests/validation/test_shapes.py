"""Every SHACL shape has a valid and an invalid fixture, and both SHACL engines agree on them.

A shape is every IRI typed sh:NodeShape or sh:PropertyShape in shapes/*.ttl (the catalogue of
``load_shapes()``). Each has a folder ``tests/fixtures/shapes/<local name>/`` holding:

* ``invalid.ru``: a SPARQL 1.1 Update applied to the built seed dataset that makes that shape
  fail, and ``expected.tsv``: every result the broken dataset then gives, one
  ``focus node<TAB>source shape<TAB>Violation|Warning`` a line, side effects included. A shape
  used only through sh:node reports through the property shape that uses it, so its
  expected.tsv names that property shape.
* ``valid.ru`` (optional): when the seed has no focus node with a value for the shape (a snapshot
  note, a team size, a truncated page), an update adding a valid one; otherwise the seed itself
  is the valid fixture. ``valid-expected.tsv`` (optional, warnings of recommended.ttl only)
  lists what a valid fixture still rightly warns about: a truncated page is valid but
  incomplete.

The updates run in pyoxigraph, whose store normalises typed literals ("7"^^xsd:int is stored
as "7"^^xsd:integer, oxigraph/oxigraph#526): an update cannot produce a non-canonical or
derived-datatype literal, so no fixture relies on one.

The engines are compared on the Core shapes (profile.ttl + recommended.ttl) over each profile
graph merged with the vocabularies, the data graph validate_graphs builds. pySHACL runs as
tests/shacl_engines.py runs it, on the parsed graph; rdf-validate-shacl reads the same graph as
N-Triples (which is Turtle) in one Node process that stays warm, since a fresh process per
graph spends most of its time starting. ``test_runners_match_the_adapters`` checks both
against the adapters' ``run_pyshacl`` and ``run_second_engine``.

Speed: each fixture costs one validate_graphs (about 0.45 s, the bulk of the module's time),
one pySHACL run on the Core shapes and one rdf-validate-shacl run. The fixtures are evaluated
once per session in a process pool while Node validates alongside.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyoxigraph
import pyshacl
import pytest
from rdflib import BNode, Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node
from shacl_engines import (
    SHACL_JS_DIR,
    run_pyshacl,
    run_second_engine,
    second_engine_available,
)

from conftest import ROOT, TESTS
from innograph.pipeline import graphs_to_validate
from innograph.settings import Settings
from innograph.validation.reference import _is_vocabulary, validate_graphs
from innograph.validation.shapes import load_shapes

FIXTURES = TESTS / "fixtures" / "shapes"
SHAPES_DIR = ROOT / "shapes"
IGSH = "https://w3id.org/innograph/shapes/"
CORE_FILES = ("profile.ttl", "recommended.ttl")
SEVERITY = {str(SH.Violation): "Violation", str(SH.Warning): "Warning", str(SH.Info): "Info"}
FIXTURE_FILES = {"invalid.ru", "expected.tsv", "valid.ru", "valid-expected.tsv"}
NO_SECOND_ENGINE = "second SHACL engine not installed (needs Node: `apt-get install nodejs npm`, then `npm ci --prefix tests/shacl-js`)"

Row = tuple[str, str, str]  # focus node, source shape, severity

SHAPES = load_shapes(SHAPES_DIR)
CATALOGUE = {shape.iri.removeprefix(IGSH): shape for shape in SHAPES.catalogue}
NAMES = sorted(CATALOGUE)

KNOWN_INVALID_FAILURES: dict[str, str] = {}  # fixture -> reason
KNOWN_ENGINE_DISAGREEMENTS: dict[str, str] = {}  # fixture id -> reason

# A source line that is a string: rdflib's SPARQL evaluates "1" > 196 as true (SPARQL 1.1 §17.3
# makes it a type error), so the line-range rules guard their FILTER with isNumeric(?value).
STRING_SOURCE_LINE = """\
BASE <https://w3id.org/innograph/>
PREFIX ig: <https://w3id.org/innograph/def/>
INSERT DATA { GRAPH <graph/liverpool-city-region> {
    <id/city/liverpool-city-region> ig:sourceLine "1" } }
"""


# --- fixtures on disk -------------------------------------------------------------------------


def read_rows(path: Path) -> set[Row]:
    rows = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        assert len(fields) == 3, f"{path}:{number}: expected focus<TAB>shape<TAB>severity"
        assert fields[2] in {"Violation", "Warning"}, f"{path}:{number}: severity {fields[2]!r}"
        rows.add((fields[0], fields[1], fields[2]))
    return rows


def folder(name: str) -> Path:
    return FIXTURES / name


def valid_update(name: str) -> str | None:
    path = folder(name) / "valid.ru"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def valid_expected(name: str) -> set[Row]:
    path = folder(name) / "valid-expected.tsv"
    return read_rows(path) if path.is_file() else set()


def fixture_ids() -> list[str]:
    """Every data set the engines compare: the seed, each valid.ru, each invalid.ru."""
    valid = [f"{name}/valid" for name in NAMES if (folder(name) / "valid.ru").is_file()]
    return ["seed", *valid, *(f"{name}/invalid" for name in NAMES)]


def valid_id(name: str) -> str:
    return f"{name}/valid" if (folder(name) / "valid.ru").is_file() else "seed"


# --- shapes: targets, focus nodes, reporters --------------------------------------------------


TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)


def shapes_graph(name: str) -> Graph:
    return SHAPES.dataset if CATALOGUE[name].file == "dataset.ttl" else SHAPES.per_graph


def path_values(shapes: Graph, path: Node, data: Graph, focus: Node) -> set[Node]:
    """The value nodes of a SHACL path (predicate, inverse or sequence path) from a focus."""
    if isinstance(path, URIRef):
        return set(data.objects(focus, path))
    inverse = shapes.value(path, SH.inversePath)
    if inverse is not None:
        return set(data.subjects(inverse, focus))
    if shapes.value(path, RDF.first) is not None:
        nodes = {focus}
        for step in Collection(shapes, path):
            nodes = {value for node in nodes for value in path_values(shapes, step, data, node)}
        return nodes
    raise AssertionError(f"path kind not supported by this test: {path}")


def focus_nodes(shapes: Graph, shape: Node, data: Graph, seen: frozenset[Node]) -> set[Node]:
    """Focus nodes of a shape: its own targets (class targets through rdfs:subClassOf in the
    data graph), those of the node shapes that hold it as sh:property, and the values reached
    by the property shapes that use it as sh:node."""
    seen = seen | {shape}
    found: set[Node] = set(shapes.objects(shape, SH.targetNode))
    for cls in shapes.objects(shape, SH.targetClass):
        for sub in data.transitive_subjects(RDFS.subClassOf, cls):
            found |= set(data.subjects(RDF.type, sub))
    for predicate in shapes.objects(shape, SH.targetSubjectsOf):
        found |= set(data.subjects(predicate, None))
    for predicate in shapes.objects(shape, SH.targetObjectsOf):
        found |= set(data.objects(None, predicate))
    for parent in set(shapes.subjects(SH.property, shape)) - seen:
        found |= focus_nodes(shapes, parent, data, seen)
    for user in set(shapes.subjects(SH.node, shape)) - seen:
        path = shapes.value(user, SH.path)
        for node in focus_nodes(shapes, user, data, seen):
            found |= path_values(shapes, path, data, node)
    return found


def exercised_focus_nodes(name: str, data: Graph) -> set[str]:
    """Focus nodes on which the shape is really tried: for a property shape, those with a value
    on its path (a team size, not just a placement), unless the shape asks for no value at all
    (sh:maxCount 0)."""
    shapes, shape = shapes_graph(name), URIRef(CATALOGUE[name].iri)
    nodes = focus_nodes(shapes, shape, data, frozenset())
    path = shapes.value(shape, SH.path)
    if path is not None and str(shapes.value(shape, SH.maxCount)) != "0":
        nodes = {node for node in nodes if path_values(shapes, path, data, node)}
    return {str(node) for node in nodes}


def reporters(shapes: Graph, shape: Node) -> set[str]:
    """Source shapes through which a failure of ``shape`` shows: itself, its sh:property
    shapes, and for a shape used only via sh:node, the property shapes that use it."""
    found = {str(shape)} | {str(p) for p in shapes.objects(shape, SH.property)}
    for user in shapes.subjects(SH.node, shape):
        found |= reporters(shapes, user)
    for parent in shapes.subjects(SH.property, shape):
        if not any((parent, target, None) in shapes for target in TARGETS):
            for user in shapes.subjects(SH.node, parent):
                found |= reporters(shapes, user)
    return found


# --- evaluating the fixtures (in worker processes) --------------------------------------------


@dataclass(frozen=True)
class Context:
    seed: Path
    out: Path
    core_shapes: str  # profile.ttl + recommended.ttl, as one Turtle document


@dataclass(frozen=True)
class Job:
    id: str
    update: str | None  # None: the seed as built
    focus_for: tuple[str, ...] = ()


@dataclass
class Outcome:
    results: set[Row] = field(default_factory=set)
    changed: bool = False
    focus: dict[str, set[str]] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)  # key -> engine data graph (N-Triples)
    pyshacl: dict[str, set[Row]] = field(default_factory=dict)  # key -> top-level results
    as_graphs_to_validate: bool | None = None  # the seed only: read as the CLI reads it
    error: str | None = None

    def check(self) -> None:
        if self.error:
            pytest.fail(f"the fixture could not be evaluated:\n{self.error}")


_CONTEXT: Context | None = None
_PARSED: dict[str, Graph] = {}  # graph IRI -> the seed's graph, in each worker
_SEED_GRAPHS: dict[str, str] = {}  # graph IRI -> sorted N-Triples, in each worker


def _init_worker(context: Context) -> None:
    global _CONTEXT
    _CONTEXT = context


@cache
def core_shapes() -> Graph:
    assert _CONTEXT is not None
    return Graph().parse(data=_CONTEXT.core_shapes, format="turtle")


def read_store(store: pyoxigraph.Store) -> dict[str, str]:
    """Each named graph of the store as sorted N-Triples; nothing may sit in the default graph,
    which `innograph validate` ignores."""
    default = list(store.quads_for_pattern(None, None, None, pyoxigraph.DefaultGraph()))
    assert not default, "the update wrote to the default graph: name the graph (GRAPH <…>)"
    texts = {}
    for name in store.named_graphs():
        dump = store.dump(format=pyoxigraph.RdfFormat.N_TRIPLES, from_graph=name)
        assert dump is not None
        texts[name.value] = "".join(sorted(dump.decode("utf-8").splitlines(keepends=True)))
    return texts


def parsed(iri: str, text: str) -> Graph:
    """The graph read from N-Triples; a graph the update left as the seed has it (the
    vocabularies) is parsed once per worker."""
    if _SEED_GRAPHS.get(iri) != text:
        return Graph(identifier=URIRef(iri)).parse(data=text, format="nt")
    if iri not in _PARSED:
        _PARSED[iri] = Graph(identifier=URIRef(iri)).parse(data=text, format="nt")
    return _PARSED[iri]


def seed_store(context: Context) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    store.load(path=str(context.seed), format=pyoxigraph.RdfFormat.N_QUADS)
    return store


def pyshacl_core(data: Graph) -> set[Row]:
    """tests/shacl_engines.py's run_pyshacl on a parsed graph (it parses Turtle first):
    pySHACL with the Core shapes, no inference, top-level results only."""
    _conforms, report, _text = pyshacl.validate(
        data, shacl_graph=core_shapes(), inference="none", advanced=False
    )
    assert isinstance(report, Graph)
    rows = {
        (
            term(report.value(result, SH.focusNode)),
            term(report.value(result, SH.sourceShape)),
            term(report.value(result, SH.resultSeverity)),
        )
        for validation_report in report.subjects(RDF.type, SH.ValidationReport)
        for result in report.objects(validation_report, SH.result)
    }
    return named_severity(rows)


def evaluate(job: Job) -> Outcome:
    """Apply the job's update to the seed, validate the result as `innograph validate` does,
    and run pySHACL with the Core shapes on each profile graph merged with the vocabularies."""
    context = _CONTEXT
    assert context is not None
    try:
        outcome = Outcome()
        if not _SEED_GRAPHS:
            _SEED_GRAPHS.update(read_store(seed_store(context)))
        store = seed_store(context)
        if job.update is not None:
            store.update(job.update)
            path = context.out / (job.id.replace("/", "--") + ".nq")
            store.dump(output=str(path), format=pyoxigraph.RdfFormat.N_QUADS)  # to inspect
        texts = read_store(store)
        outcome.changed = texts != _SEED_GRAPHS
        graphs = [parsed(iri, text) for iri, text in sorted(texts.items())]
        if job.update is None:
            cli = graphs_to_validate([context.seed], Settings(), served=list)  # never served
            outcome.as_graphs_to_validate = {(str(g.identifier), frozenset(g)) for g in cli} == {
                (str(g.identifier), frozenset(g)) for g in graphs
            }
        report = validate_graphs(graphs, SHAPES)
        outcome.results = {(r.focus, r.shape, r.severity) for r in report.results}
        vocabularies = [g for g in graphs if _is_vocabulary(g)]
        profiles = [g for g in graphs if not _is_vocabulary(g) and len(g)]
        vocabulary, union = Graph(), Graph()
        for graph in vocabularies:
            vocabulary += graph
        merged = []
        for graph in profiles:  # the data graph validate_graphs builds for each profile graph
            union += graph
            data = Graph()
            data += graph
            data += vocabulary
            # The same graph for the second engine: N-Triples, which is Turtle.
            text = "".join(texts[str(g.identifier)] for g in (graph, *vocabularies))
            merged.append((data, text))
        for name in job.focus_for:
            datas = [union] if CATALOGUE[name].file == "dataset.ttl" else [d for d, _ in merged]
            outcome.focus[name] = set().union(*(exercised_focus_nodes(name, d) for d in datas))
        for data, text in merged:
            key = hashlib.sha256(text.encode("utf-8")).hexdigest()
            outcome.data[key] = text
            outcome.pyshacl[key] = pyshacl_core(data)
        return outcome
    except Exception:  # the test that needs this outcome reports it
        return Outcome(error=traceback.format_exc())


def term(node: Node | None) -> str:
    """A node as the adapters write it (a blank node as "_:" and its label)."""
    if node is None:
        return ""
    return f"_:{node}" if isinstance(node, BNode) else str(node)


def named_severity(rows: set[tuple[str, str, str]]) -> set[Row]:
    """An adapter's rows with the severity named as validate_graphs names it."""
    return {(focus, shape, SEVERITY.get(severity, severity)) for focus, shape, severity in rows}


# --- the second engine, in one warm Node process ---------------------------------------------

# tests/shacl_engines.py's script, reading one data graph after another: each line of standard
# input names a key and a file of Turtle; each line of the output file gives that key's rows.
# The shapes are parsed once: SHACLValidator copies them into a dataset of its own.
_NODE_SCRIPT = """
import { Parser, Store } from 'n3';
import SHACLValidator from 'rdf-validate-shacl';
import { appendFileSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [shapesPath, outputPath] = process.argv.slice(1);
const load = (turtle) => {
  const store = new Store();
  store.addQuads(new Parser({ format: 'text/turtle' }).parse(turtle));
  return store;
};
const term = (t) => (t == null ? '' : t.termType === 'BlankNode' ? '_:' + t.value : t.value);
const shapes = load(readFileSync(shapesPath, 'utf8'));
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const { key, path } = JSON.parse(line);
  const validator = new SHACLValidator(shapes);
  const report = await validator.validate(load(readFileSync(path, 'utf8')));
  const rows = report.results.map((r) => [term(r.focusNode), term(r.sourceShape), term(r.severity)]);
  appendFileSync(outputPath, JSON.stringify([key, rows]) + '\\n');
}
"""


NODE = ("node", "--input-type=module", "--eval")


class SecondEngine:
    """rdf-validate-shacl in one Node process that stays warm: a fresh process per data graph
    spends most of its time starting."""

    def __init__(self, shapes: str, where: Path) -> None:
        self.where = where
        self.output = where / "second-engine.jsonl"
        self.output.write_text("", encoding="utf-8")
        (where / "shapes.ttl").write_text(shapes, encoding="utf-8")
        self.stderr = (where / "second-engine.err").open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            [*NODE, _NODE_SCRIPT, "--", str(where / "shapes.ttl"), str(self.output)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
            text=True,
            cwd=SHACL_JS_DIR,
        )
        self.sent: set[str] = set()

    def submit(self, key: str, text: str) -> None:
        if key in self.sent:
            return
        self.sent.add(key)
        path = self.where / f"{key}.nt"
        path.write_text(text, encoding="utf-8")
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # Node has stopped; results() says why
            self.process.stdin.write(json.dumps({"key": key, "path": str(path)}) + "\n")
            self.process.stdin.flush()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.stderr.close()

    def results(self) -> dict[str, set[Row]]:
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.close()
        returncode = self.process.wait(timeout=600)
        self.stderr.close()
        if returncode != 0:
            error = (self.where / "second-engine.err").read_text(encoding="utf-8")
            raise RuntimeError(f"rdf-validate-shacl failed:\n{error.strip()}")
        found = {}
        for line in self.output.read_text(encoding="utf-8").splitlines():
            key, rows = json.loads(line)
            found[key] = named_severity({(f, s, v) for f, s, v in rows})
        assert set(found) == self.sent, "the second engine skipped data graphs"
        return found


# --- the session's evaluation --------------------------------------------------------------------


@dataclass
class Evaluation:
    outcomes: dict[str, Outcome]
    node: dict[str, set[Row]] | None  # None: the second engine is not installed, or failed
    node_error: str | None
    core_shapes: str

    def second_engine(self) -> dict[str, set[Row]]:
        if self.node_error:
            pytest.fail(self.node_error)
        if self.node is None:
            pytest.skip(NO_SECOND_ENGINE)
        return self.node


def jobs() -> Iterator[Job]:
    seed_focus = tuple(name for name in NAMES if valid_update(name) is None)
    yield Job("seed", None, seed_focus)
    for name in NAMES:
        update = valid_update(name)
        if update is not None:
            yield Job(f"{name}/valid", update, (name,))
    for name in NAMES:
        path = folder(name) / "invalid.ru"
        if path.is_file():
            yield Job(f"{name}/invalid", path.read_text(encoding="utf-8"))
    yield Job("extra/string-source-line", STRING_SOURCE_LINE)


def workers() -> int:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(4, cpus or 1))


SINGLE_FIXTURE_TESTS = {
    "test_seed_is_read_as_graphs_to_validate_reads_it": "seed",
    "test_string_source_line_is_not_beyond_the_file": "extra/string-source-line",
}


def needed(items: list[pytest.Item]) -> set[str] | None:
    """The fixture ids the selected tests of this module look at; None: all of them."""
    ids = {"seed"}
    for item in items:
        if getattr(item, "module", None) is not sys.modules[__name__]:
            continue
        if "evaluation" not in getattr(item, "fixturenames", ()):
            continue
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        test = getattr(item, "originalname", "")
        if "name" in params:
            ids |= {valid_id(params["name"]), f"{params['name']}/invalid"}
        elif "fixture_id" in params:
            ids.add(params["fixture_id"])
        elif test in SINGLE_FIXTURE_TESTS:
            ids.add(SINGLE_FIXTURE_TESTS[test])
        else:
            return None
    return ids


@pytest.fixture(scope="session")
def evaluation(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, seed_nquads: bytes
) -> Evaluation:
    """Every fixture the selected tests need, evaluated once per session."""
    seed_file = tmp_path_factory.mktemp("seed") / "seed.nq"
    seed_file.write_bytes(seed_nquads)
    core = Graph()
    for name in CORE_FILES:
        core.parse(SHAPES_DIR / name, format="turtle")
    context = Context(
        seed_file, tmp_path_factory.mktemp("fixtures"), core.serialize(format="turtle")
    )
    engine = None
    if second_engine_available():
        engine = SecondEngine(context.core_shapes, tmp_path_factory.mktemp("second-engine"))
    methods = multiprocessing.get_all_start_methods()
    mp_context = multiprocessing.get_context("fork" if "fork" in methods else None)
    outcomes: dict[str, Outcome] = {}
    wanted = needed(request.session.items)
    todo = [job for job in jobs() if wanted is None or job.id in wanted]
    try:
        with ProcessPoolExecutor(
            workers(), mp_context=mp_context, initializer=_init_worker, initargs=(context,)
        ) as pool:
            for job, outcome in zip(todo, pool.map(evaluate, todo), strict=True):
                outcomes[job.id] = outcome
                for key, text in outcome.data.items():  # Node validates while pySHACL goes on
                    if engine is not None:
                        engine.submit(key, text)
        node, node_error = None, None
        if engine is not None:
            try:
                node = engine.results()
            except (RuntimeError, AssertionError, ValueError) as error:
                node_error = str(error)
    finally:
        if engine is not None:
            engine.stop()
    return Evaluation(outcomes, node, node_error, context.core_shapes)


# --- the tests ---------------------------------------------------------------------------------


def test_every_shape_has_fixtures_and_no_fixture_is_stale() -> None:
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert sorted(folders - set(NAMES)) == [], "fixture folders for no shape"
    assert sorted(set(NAMES) - folders) == [], "shapes without fixtures"
    assert not [p for p in FIXTURES.iterdir() if not p.is_dir()], "files beside the folders"
    for name in NAMES:
        files = {p.name for p in folder(name).iterdir()}
        assert files <= FIXTURE_FILES, f"{name}: unexpected files {files - FIXTURE_FILES}"
        assert {"invalid.ru", "expected.tsv"} <= files, f"{name}: invalid fixture missing"
        if "valid-expected.tsv" in files:
            assert "valid.ru" in files, f"{name}: valid-expected.tsv without valid.ru"


@pytest.mark.parametrize("name", NAMES)
def test_valid_fixture_conforms_and_exercises_the_shape(name: str, evaluation: Evaluation) -> None:
    outcome = evaluation.outcomes[valid_id(name)]
    outcome.check()
    allowed = valid_expected(name)
    for _focus, shape, severity in allowed:
        assert severity == "Warning", f"a valid fixture may only warn: {shape}"
        assert CATALOGUE[shape.removeprefix(IGSH)].file == "recommended.ttl", shape
    assert outcome.results == allowed
    if valid_update(name) is not None:
        assert outcome.changed, "valid.ru changed nothing"
    assert outcome.focus[name], f"{name} has no focus node (with a value) in its valid fixture"


def invalid_params() -> list[object]:
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=reason))
        if (reason := KNOWN_INVALID_FAILURES.get(name))
        else name
        for name in NAMES
    ]


@pytest.mark.parametrize("name", NAMES)
def test_invalid_fixture_breaks_the_shape(name: str, evaluation: Evaluation) -> None:
    """expected.tsv lists a result of the shape (or of the shapes it reports through), and
    invalid.ru changes the seed."""
    expected = read_rows(folder(name) / "expected.tsv")
    assert expected, "an invalid fixture must expect at least one result"
    shown_by = reporters(shapes_graph(name), URIRef(CATALOGUE[name].iri))
    assert {shape for _, shape, _ in expected} & shown_by, f"no expected result shows {name}"
    outcome = evaluation.outcomes[f"{name}/invalid"]
    outcome.check()
    assert outcome.changed, "invalid.ru changed nothing"


@pytest.mark.parametrize("name", invalid_params())
def test_invalid_fixture_gives_exactly_the_expected_results(
    name: str, evaluation: Evaluation
) -> None:
    outcome = evaluation.outcomes[f"{name}/invalid"]
    outcome.check()
    assert outcome.results == read_rows(folder(name) / "expected.tsv")


@pytest.mark.parametrize("name", NAMES)
def test_core_results_of_invalid_fixture(name: str, evaluation: Evaluation) -> None:
    """The expected results of the Core shapes, as pySHACL reports them at top level through
    tests/shacl_engines.py (profile.ttl + recommended.ttl on each profile graph)."""
    outcome = evaluation.outcomes[f"{name}/invalid"]
    outcome.check()
    expected = read_rows(folder(name) / "expected.tsv")
    core = {r for r in expected if CATALOGUE[r[1].removeprefix(IGSH)].file in CORE_FILES}
    assert set().union(*outcome.pyshacl.values()) == core


def engine_params() -> list[object]:
    return [
        pytest.param(i, marks=pytest.mark.xfail(strict=True, reason=reason))
        if (reason := KNOWN_ENGINE_DISAGREEMENTS.get(i))
        else i
        for i in fixture_ids()
    ]


@pytest.mark.parametrize("fixture_id", engine_params())
def test_engines_agree(fixture_id: str, evaluation: Evaluation) -> None:
    """pySHACL and rdf-validate-shacl give the same (focus, source shape, severity) set for
    each profile graph of the fixture, merged with the vocabularies, under the Core shapes."""
    node = evaluation.second_engine()
    outcome = evaluation.outcomes[fixture_id]
    outcome.check()
    assert outcome.pyshacl, "no profile graph to compare"
    for key, first in outcome.pyshacl.items():
        second = node[key]
        assert second == first, (
            f"only pySHACL: {sorted(first - second)}; "
            f"only rdf-validate-shacl: {sorted(second - first)}"
        )


def test_second_engine_finds_results(evaluation: Evaluation) -> None:
    """No vacuous agreement: the second engine reports on the invalid fixtures."""
    node = evaluation.second_engine()
    silent = [
        name
        for name in NAMES
        if CATALOGUE[name].file in CORE_FILES
        and not any(node[key] for key in evaluation.outcomes[f"{name}/invalid"].data)
    ]
    assert len(silent) < len(NAMES), "the second engine reports nothing on any invalid fixture"
    assert silent == [], "invalid fixtures of Core shapes on which the second engine is silent"


def test_seed_is_read_as_graphs_to_validate_reads_it(evaluation: Evaluation) -> None:
    """The fixtures' graphs are read from the pyoxigraph store; on the seed, that gives the
    graphs `innograph validate` reads from the built N-Quads."""
    outcome = evaluation.outcomes["seed"]
    outcome.check()
    assert outcome.as_graphs_to_validate


@pytest.mark.parametrize("fixture_id", ["seed", "Profile-truncated/invalid"])
def test_runners_match_the_adapters(fixture_id: str, evaluation: Evaluation) -> None:
    """pyshacl_core and the warm Node process give what tests/shacl_engines.py gives."""
    outcome = evaluation.outcomes[fixture_id]
    outcome.check()
    for key, text in outcome.data.items():
        assert named_severity(run_pyshacl(text, evaluation.core_shapes)) == outcome.pyshacl[key]
        if evaluation.node is not None:
            second = named_severity(run_second_engine(text, evaluation.core_shapes))
            assert second == evaluation.node[key]


def test_string_source_line_is_not_beyond_the_file(evaluation: Evaluation) -> None:
    outcome = evaluation.outcomes["extra/string-source-line"]
    outcome.check()
    city = "https://w3id.org/innograph/id/city/liverpool-city-region"
    assert outcome.results == {(city, f"{IGSH}Fact-sourceLine", "Violation")}
