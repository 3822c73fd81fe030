"""`innograph build` and `innograph query` as a person runs them (real subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import SEED


def innograph(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "innograph", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def test_build_then_query(tmp_path: Path) -> None:
    result = innograph("build", str(SEED), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("built 1 profile(s), ")
    query = (
        "PREFIX ig: <https://w3id.org/innograph/def/> "
        "SELECT ?population WHERE { ?p ig:populationFigure/ig:population ?population }"
    )
    answer = innograph("query", query, "--out", str(tmp_path), "--format", "json")
    assert answer.returncode == 0, answer.stderr
    bindings = json.loads(answer.stdout)["results"]["bindings"]
    assert [b["population"]["value"] for b in bindings] == ["1530000"]
    table = innograph("query", query, "--out", str(tmp_path))
    assert table.stdout.splitlines()[-2:] == ["1530000   ", "(1 row)"]


def test_a_bad_profile_fails_the_build_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert innograph("build", str(SEED), "--out", str(out)).returncode == 0
    before = (out / "innograph.nq").read_bytes()
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe")
    changed = tmp_path / "liverpool-city-region.txt"
    changed.write_text(SEED.read_text(encoding="utf-8").replace("Steve Rotheram", "Someone Else"))
    result = innograph("build", str(changed), str(bad), "--out", str(out))
    assert result.returncode == 2
    assert f"{bad}:1: expected UTF-8 text, found the byte 0xff" in result.stderr
    assert "nothing written" in result.stderr
    assert "Traceback" not in result.stderr
    assert (out / "innograph.nq").read_bytes() == before


def test_query_errors_are_one_line(tmp_path: Path) -> None:
    missing = innograph("query", "ASK {}", "--out", str(tmp_path))
    assert missing.returncode == 2
    assert "no built graph here; run 'innograph build' first" in missing.stderr
    assert innograph("build", str(SEED), "--out", str(tmp_path)).returncode == 0
    syntax = innograph("query", "SELEC ?x WHERE {}", "--out", str(tmp_path))
    assert syntax.returncode == 2
    assert syntax.stderr.startswith("query: expected a SPARQL query")
    assert len(syntax.stderr.strip().splitlines()) == 1


def test_build_defaults_to_data_profiles(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    result = innograph("build", "--out", str(tmp_path / "b"), cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("built 1 profile(s)")


def test_unknown_path_is_a_usage_error(tmp_path: Path) -> None:
    result = innograph("build", str(tmp_path / "nope"), "--out", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip() == f"{tmp_path / 'nope'}: no such file or folder"
