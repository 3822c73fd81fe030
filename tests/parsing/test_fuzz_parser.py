"""A bounded coverage-guided run of the profile parser (atheris, libFuzzer) in a subprocess,
seeded with the shipped profiles and the real fragments in ../shared when present: any bytes
give a record or a ProfileError naming a line. A finding fails the test and its input is kept
under test-artifacts/fuzz-parser/ (re-run it: ``python tests/parsing/fuzz_parser.py FILE``).

``INNOGRAPH_FUZZ_RUNS`` sets the number of inputs (15,000 by default, about 30 s here) and
``INNOGRAPH_FUZZ_SECONDS`` the most time they may take (180 s); CI runs with a fixed libFuzzer
seed, so a run is reproducible. The counts of the last run are in test-artifacts/fuzz-parser.json."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FRAGMENTS, ROOT, SEED, SHARED

pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.skipif(
        importlib.util.find_spec("atheris") is None,
        reason="atheris is not installed: it has wheels for CPython on Linux x86-64 only (elsewhere"
        " pip needs clang and libFuzzer to build it); pip install atheris, or rely on the"
        " hypothesis property tests of tests/parsing/test_parsing_robustness.py",
    ),
]

HARNESS = Path(__file__).with_name("fuzz_parser.py")
ARTIFACTS = ROOT / "test-artifacts" / "fuzz-parser"
RUNS = int(os.environ.get("INNOGRAPH_FUZZ_RUNS", "15000"))
SECONDS = int(os.environ.get("INNOGRAPH_FUZZ_SECONDS", "180"))  # a cap on a slow machine


def fuzz(
    corpus: Path, runs: int, artifacts: Path, env: dict[str, str] | None = None
) -> tuple[int, str, dict[str, int]]:
    """libFuzzer over the parser: ``runs`` inputs (in at most SECONDS), a fixed seed in CI;
    the exit code, the output (a finding's traceback is in it) and libFuzzer's final counts."""
    artifacts.mkdir(parents=True, exist_ok=True)
    flags = [f"-runs={runs}", f"-max_total_time={SECONDS}", "-max_len=16384", "-timeout=10"]
    flags += ["-rss_limit_mb=2048", "-print_final_stats=1", f"-artifact_prefix={artifacts}/"]
    if os.environ.get("CI") == "true":
        flags.append("-seed=1")
    done = subprocess.run(
        [sys.executable, str(HARNESS), str(corpus), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=corpus.parent,
        env={**os.environ, **(env or {})},
        timeout=SECONDS + 120,
        check=False,
    )
    stats = {k: int(v) for k, v in re.findall(r"^stat::(\w+):\s+(\d+)$", done.stdout, re.M)}
    return done.returncode, done.stdout, stats


def seeds(corpus: Path) -> int:
    corpus.mkdir()
    found = [SEED, *sorted(FRAGMENTS.glob("*.txt")), *sorted((SHARED / "profiles").glob("*.txt"))]
    for path in found:
        shutil.copy(path, corpus / f"{path.parent.name}-{path.name}")
    return len(list(corpus.iterdir()))


def test_the_parser_survives_a_coverage_guided_run(tmp_path: Path) -> None:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    seeded = seeds(tmp_path / "corpus")
    code, output, stats = fuzz(tmp_path / "corpus", RUNS, ARTIFACTS)
    found = [str(path) for path in sorted(ARTIFACTS.iterdir())]
    assert not found, f"the parser failed on {found}:\n{output[-4000:]}"
    assert code == 0, output[-4000:]
    (ARTIFACTS.parent / "fuzz-parser.json").write_text(
        json.dumps({"seeds": seeded, "runs": RUNS, **stats}, indent=2) + "\n", encoding="utf-8"
    )
    assert stats["number_of_executed_units"] >= min(RUNS, 1000), output[-2000:]


def test_a_finding_fails_the_run_and_keeps_its_input(tmp_path: Path) -> None:
    """The check above can fail: a planted bug, reached from a seed, is caught and kept."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "planted.txt").write_bytes(b"Mayor\n\nPLANTED\n")
    code, output, _ = fuzz(corpus, 10, tmp_path / "found", {"INNOGRAPH_FUZZ_PLANTED": "1"})
    assert code != 0
    assert "KeyError: 'a planted bug'" in output
    [kept] = (tmp_path / "found").iterdir()
    assert b"PLANTED" in kept.read_bytes()
