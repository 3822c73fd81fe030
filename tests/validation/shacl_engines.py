"""Run one shapes graph through two independent SHACL engines and reduce their reports alike.

pySHACL is the project's engine. The second, independent engine is Zazuko's
`rdf-validate-shacl` (JavaScript, a descendant of TopQuadrant's shacl-js), parsed with N3.js
and driven by the small Node script below. Its packages live in ``tests/shacl-js``, installed
from the lock file there with ``npm ci --prefix tests/shacl-js``; without them (or without
``node``) :func:`second_engine_available` is false and the tests that need it skip.

Both runners take Turtle text and return one ``(focus node, source shape, severity)`` triple of
strings per validation result of the report, so the two sets can be compared directly. IRIs are
returned as they are; a blank node comes back as ``"_:"`` plus the engine's own label, which is
not comparable between engines: give every shape that can be a source shape an IRI, and
compare reports about IRI focus nodes only.
"""

from __future__ import annotations

import json
import shutil
import subprocess

from pyshacl import validate
from rdflib import BNode, Graph
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from conftest import TESTS

SHACL_JS_DIR = TESTS / "shacl-js"
"""The npm project holding the second engine: ``npm ci --prefix tests/shacl-js`` fills it."""

_NODE_PACKAGES = ("rdf-validate-shacl", "n3")

# Reads {"data": ..., "shapes": ...} (Turtle) on standard input and writes a JSON list of
# [focus node, source shape, severity] for each top-level result of the report.
_NODE_SCRIPT = """
import { Parser, Store } from 'n3';
import SHACLValidator from 'rdf-validate-shacl';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const load = (turtle) => {
  const store = new Store();
  store.addQuads(new Parser({ format: 'text/turtle' }).parse(turtle));
  return store;
};
const term = (t) => (t == null ? '' : t.termType === 'BlankNode' ? '_:' + t.value : t.value);
const validator = new SHACLValidator(load(input.shapes));
const report = await validator.validate(load(input.data));
const rows = report.results.map((r) => [term(r.focusNode), term(r.sourceShape), term(r.severity)]);
process.stdout.write(JSON.stringify(rows));
"""


def second_engine_available() -> bool:
    """Whether ``node`` is on the PATH and ``tests/shacl-js`` has its packages installed."""
    if shutil.which("node") is None:
        return False
    modules = SHACL_JS_DIR / "node_modules"
    return all((modules / name / "package.json").is_file() for name in _NODE_PACKAGES)


def run_second_engine(data_turtle: str, shapes_turtle: str) -> set[tuple[str, str, str]]:
    """Validate with rdf-validate-shacl; one (focus, source shape, severity) per result.

    Raises ``RuntimeError`` when the engine is not installed or the Node script fails (for
    example on Turtle that N3.js cannot parse).
    """
    node = shutil.which("node")
    if node is None or not second_engine_available():
        raise RuntimeError(
            "the second SHACL engine is not installed: run `npm ci --prefix tests/shacl-js`"
        )
    completed = subprocess.run(
        [node, "--input-type=module", "--eval", _NODE_SCRIPT],
        input=json.dumps({"data": data_turtle, "shapes": shapes_turtle}),
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=SHACL_JS_DIR,  # bare imports resolve from tests/shacl-js/node_modules
        timeout=300,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"rdf-validate-shacl failed:\n{completed.stderr.strip()}")
    return {(focus, shape, severity) for focus, shape, severity in json.loads(completed.stdout)}


def _term(node: Node | None) -> str:
    if node is None:
        return ""
    if isinstance(node, BNode):
        return f"_:{node}"
    return str(node)


def run_pyshacl(data_turtle: str, shapes_turtle: str) -> set[tuple[str, str, str]]:
    """Validate with pySHACL (no inference, SHACL Core only); same reduction as the Node side."""
    data = Graph().parse(data=data_turtle, format="turtle")
    shapes = Graph().parse(data=shapes_turtle, format="turtle")
    _conforms, report, _text = validate(data, shacl_graph=shapes, inference="none", advanced=False)
    assert isinstance(report, Graph)
    return {
        (
            _term(report.value(result, SH.focusNode)),
            _term(report.value(result, SH.sourceShape)),
            _term(report.value(result, SH.resultSeverity)),
        )
        for validation_report in report.subjects(RDF.type, SH.ValidationReport)
        for result in report.objects(validation_report, SH.result)
    }
