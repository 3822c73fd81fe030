"""`make run` as a new user runs it, in a clone of this repository at HEAD: the story fits in
one screenful, then the addresses, and each address answers.

The clone's Makefile, data, queries and code run (its ``src/`` comes first on PYTHONPATH); the
virtual environment is the one running these tests, marked up to date (``make -o``) so that
pip is not run again: in CI that environment was just made by ``make`` from the same commit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, free_port

SCREENFUL = 40


def user_shell() -> dict[str, str]:
    """This environment as a person's shell has it: not inside another make (``make test``
    would otherwise make ours print "Entering directory" lines a person never sees)."""
    return {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}


def test_make_run_prints_the_addresses_within_a_screenful_and_serves_them(tmp_path: Path) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip(f"{ROOT} is not a git checkout: make run is tried in a clone of HEAD")
    clone = tmp_path / "innograph"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    venv = Path(sys.executable).parent.parent
    port = free_port()
    started = time.monotonic()
    process = subprocess.Popen(
        ["make", "-o", f"{venv}/.installed", "run", f"VENV={venv}", f"PORT={port}"],
        cwd=clone,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**user_shell(), "PYTHONPATH": str(clone / "src")},
        start_new_session=True,
    )
    printed: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            printed.append(line.rstrip("\n"))
            if "a city page" in line or len(printed) > 200:
                break
        answered = time.monotonic() - started
        url = f"http://127.0.0.1:{port}"
        assert f"  home page     {url}/" in printed, "\n".join(printed)
        assert printed.index(f"  home page     {url}/") < SCREENFUL, "\n".join(printed)
        assert f"  SPARQL        {url}/sparql" in printed
        assert printed[-1] == f"  a city page   {url}/id/city/liverpool-city-region.html"
        assert printed[:2] == [
            "== innograph parse data/profiles/*.txt   (what each profile says)",
            "liverpool-city-region.txt: Liverpool City Region, 2020 survey: 3 goals,"
            " 6 success factors, 2 policy areas, 3 roles",
        ]
        assert any(" = 1 graph(s) out + 0 rejected + 0 skipped" in line for line in printed)
        assert "(2 rows)" in printed
        for path in ("/", "/sparql", "/id/city/liverpool-city-region.html"):
            with urllib.request.urlopen(url + path, timeout=60) as response:
                assert response.status == 200, path
        print(f"make run: {len(printed)} lines to the addresses, {answered:.1f} s")
    finally:
        os.killpg(process.pid, signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    assert "Traceback" not in "\n".join(printed) + rest
    assert (clone / "store" / "current").is_symlink()
