"""SECURITY.md maps every row of the threat model to its tests, and every test it names exists
(an xfail where it says so): a renamed test or a new row cannot leave the table behind."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from conftest import ROOT, SHARED

SECURITY = ROOT / "SECURITY.md"
THREATS = SHARED / "reference" / "THREATS.md"
# The rows of THREATS.md §3 when ../shared is absent.
ROWS = [f"Q{n}" for n in range(1, 9)] + [f"S{n}" for n in range(1, 8)]
ROWS += [f"W{n}" for n in range(1, 14)] + [f"D{n}" for n in range(1, 10)]
ROW = re.compile(r"^\| ([QSWD]\d+) \|(.*)\|$", re.MULTILINE)
TEST = re.compile(r"(\*\*xfail\*\* )?`(tests/[\w/]+\.py)::(\w+)`")


def table() -> dict[str, str]:
    return dict(ROW.findall(SECURITY.read_text(encoding="utf-8")))


def threat_rows() -> list[str]:
    if not THREATS.is_file():
        return ROWS
    section = THREATS.read_text(encoding="utf-8").split("## 3.", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| ([QSWD]\d+) \|", section, re.MULTILINE)


def defined_tests(path: Path) -> dict[str, bool]:
    """Test name -> whether it is marked xfail."""
    found = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            marks = [ast.unparse(d) for d in node.decorator_list]
            found[node.name] = any("xfail" in mark for mark in marks)
    return found


def test_every_row_of_the_threat_model_is_in_the_table() -> None:
    rows = threat_rows()
    assert len(rows) >= 36
    assert sorted(table()) == sorted(rows)


@pytest.mark.parametrize("row", ROWS)
def test_every_test_the_table_names_exists(row: str) -> None:
    named = TEST.findall(table()[row])
    assert named, f"{row} names no test"
    for xfail, path, name in named:
        tests = defined_tests(ROOT / path)
        assert name in tests, f"{row}: {path}::{name} does not exist"
        assert tests[name] == bool(xfail), f"{row}: {path}::{name} xfail is {tests[name]}"
