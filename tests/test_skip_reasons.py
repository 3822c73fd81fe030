"""Every skip says what is missing and how to get it: a clone of HEAD with no ../shared beside
it, run with no Chromium, rapper or Node on the PATH, skips with reasons a person can act on."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

# test file -> what its skip must say
EXPECTED = {
    "tests/web/test_query_page.py": "apt-get install chromium",
    "tests/web/test_rdf_clients.py": "apt-get install raptor2-utils",
    "tests/web/test_virtuoso.py": "apt-get install virtuoso-opensource-7-bin",
    "tests/validation/test_shacl_engines_smoke.py": "npm ci --prefix tests/shacl-js",
    "tests/query/test_results.py": "../shared",
}


def test_skips_name_what_is_missing_and_how_to_get_it(tmp_path: Path) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip(f"{ROOT} is not a git checkout: the skips are tried in a clone of HEAD")
    clone = tmp_path / "workspace" / "innograph"  # and no workspace/shared beside it
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    nothing = tmp_path / "empty-bin"
    nothing.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "INNOGRAPH_CHROMIUM"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *EXPECTED],
        cwd=clone,
        env={**env, "PATH": str(nothing), "PYTHONPATH": str(clone / "src")},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    skips = re.findall(r"^SKIPPED \[\d+\] (tests/\S+?):\d+: (.*)$", done.stdout, re.MULTILINE)
    assert skips, done.stdout[-3000:]
    assert not [why for _, why in skips if "got empty parameter set" in why]
    for test_file, says in EXPECTED.items():
        reasons = [why for where, why in skips if where == test_file]
        assert reasons, f"{test_file} did not skip"
        assert any(says in why for why in reasons), (test_file, reasons)
