"""The build gate (shapes compiled to SPARQL, run by pyoxigraph) agrees with pySHACL on every
shape fixture: same (focus node, source shape, severity) results, nothing more, nothing less."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.namespace import SH
from test_shapes import NAMES, folder, read_rows, valid_expected, valid_update

from innograph import store
from innograph.validation.gate import Check, compile_shapes, run_checks
from innograph.validation.shapes import ShapesError, load_shapes

SHAPES = load_shapes()
CHECKS = compile_shapes(SHAPES.per_graph) + compile_shapes(SHAPES.dataset)


def gate(seed_nquads: bytes, update: str | None) -> set[tuple[str, str, str]]:
    """The gate's findings on the served seed with an update applied to its named graphs."""
    scratch = ox.Store()
    scratch.load(seed_nquads, format=ox.RdfFormat.N_QUADS)
    if update:
        scratch.update(update)
    store.graphs.materialise_union(scratch)
    return {(f.focus, f.shape, f.severity) for f in run_checks(scratch, CHECKS)}


@pytest.mark.parametrize("name", NAMES)
def test_gate_agrees_on_the_invalid_fixture(seed_nquads: bytes, name: str) -> None:
    update = (folder(name) / "invalid.ru").read_text(encoding="utf-8")
    assert gate(seed_nquads, update) == read_rows(folder(name) / "expected.tsv")


@pytest.mark.parametrize("name", [n for n in NAMES if valid_update(n)])
def test_gate_agrees_on_the_valid_fixture(seed_nquads: bytes, name: str) -> None:
    assert gate(seed_nquads, valid_update(name)) == valid_expected(name)


def test_gate_finds_nothing_in_the_seed(seed_nquads: bytes) -> None:
    assert gate(seed_nquads, None) == set()


def test_every_shape_that_can_report_compiles_to_a_check() -> None:
    """Property shapes of targeted node shapes, and node shapes with constraints of their own."""
    reporting: set[str] = set()
    for shapes in (SHAPES.per_graph, SHAPES.dataset):
        for node in set(shapes.subjects(SH.targetClass, None)) | set(
            shapes.subjects(SH.targetSubjectsOf, None)
        ):
            reporting |= {str(p) for p in shapes.objects(node, SH.property)}
            if any((node, c, None) in shapes for c in (SH.nodeKind, SH.pattern, SH.sparql)):
                reporting.add(str(node))
    assert len(reporting) > 75
    assert reporting - {check.shape for check in CHECKS} == set()


def test_unsupported_constraints_are_refused(tmp_path: Path) -> None:
    shapes = Graph().parse(
        data="""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property ex:P .
        ex:P a sh:PropertyShape ; sh:path ex:p ; sh:uniqueLang true .""",
        format="turtle",
    )
    with pytest.raises(ShapesError, match="uniqueLang"):
        compile_shapes(shapes)


def test_checks_are_plain_sparql() -> None:
    assert all(isinstance(check, Check) and "?this" in check.query for check in CHECKS)
