"""What each query worker holds.

Run as the ``innograph`` script, the server's main module is that script, which multiprocessing
would run again in every query worker it starts, importing the whole command line there (5 to
6 MB a worker). ``serve`` marks it as ``python -m innograph``'s module, which multiprocessing
skips. What the fork server preloads leaves rdflib and the web stack out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from innograph.query.workers import PRELOADED

# A script as pip writes ``innograph``: it imports the command line, then runs it; here it
# starts a process as the query workers' pool does, which says whether it imported the CLI.
SCRIPT = """\
import multiprocessing
import sys

from innograph.cli import main  # noqa: F401  (as the console script does)
from innograph.web.server import _query_workers_skip_the_script

if __name__ == "__main__":
    if sys.argv[1] == "serve":
        _query_workers_skip_the_script()
    context = multiprocessing.get_context("forkserver")
    child = context.Process(target=exec, args=("import sys; print('innograph.cli' in sys.modules)",))
    child.start()
    child.join()
"""


@pytest.mark.parametrize(("how", "imported"), [("plain", "True"), ("serve", "False")])
def test_query_workers_do_not_run_the_script_again(tmp_path: Path, how: str, imported: str) -> None:
    script = tmp_path / "innograph-script"
    script.write_text(SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), how], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == imported


def test_serve_marks_the_script_before_gunicorn_starts(
    seed_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test above checks the mark; this one that ``innograph serve`` makes it, first."""
    from innograph.settings import Settings
    from innograph.web import server

    done: list[str] = []
    monkeypatch.setattr(server, "_query_workers_skip_the_script", lambda: done.append("marked"))
    monkeypatch.setattr(server.Server, "run", lambda self: done.append("gunicorn runs"))
    monkeypatch.setattr(server.gc, "freeze", lambda: None)  # not this test process's heap
    server.serve(Settings.from_env(store=seed_store), "127.0.0.1", 0, 1, 1)
    assert done == ["marked", "gunicorn runs"]


def test_query_workers_import_no_rdflib() -> None:
    """What the fork server preloads, and so every query worker holds, leaves rdflib (and the
    web stack) out: the workers need pyoxigraph and the store's files only. With rdflib, each
    fork server and its worker held 9 MB more (``benchmarks/README.md``, 2026-12-05)."""
    heavy = ("rdflib", "flask", "jinja2", "werkzeug", "pyshacl")
    script = (
        "import importlib, sys\n"
        f"for name in {PRELOADED!r}: importlib.import_module(name)\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", f"a query worker imports {done.stdout.strip()}"
