"""The research guide's code runs as written: its Python blocks, in order and in one namespace,
against the production server and store built from the seed (only the server's address and the
store's folder are put in for the ones it names)."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT, LiveServer

GUIDE = ROOT / "docs" / "research-guide.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def run_guide(server: LiveServer) -> dict[str, object]:
    """The guide's code, run as written against ``server`` and its store; its namespace."""
    blocks = BLOCK.findall(GUIDE.read_text(encoding="utf-8"))
    assert len(blocks) >= 10
    code = "\n".join(blocks)
    assert 'BASE = "http://127.0.0.1:8000"' in code
    assert 'STORE = "store"' in code
    code = code.replace('BASE = "http://127.0.0.1:8000"', f"BASE = {server.url!r}", 1)
    code = code.replace('STORE = "store"', f"STORE = {str(server.store)!r}", 1)
    namespace: dict[str, object] = {"__name__": "guide"}
    exec(compile(code, str(GUIDE), "exec"), namespace)  # our own documentation, as written
    return namespace


# rdflib 7.6's Dataset.query uses its own deprecated API (open_graph() returns a Dataset)
@pytest.mark.filterwarnings("ignore:Dataset.default_context is deprecated:DeprecationWarning")
def test_the_guide_runs_on_the_seed(live_server: LiveServer) -> None:
    ran = run_guide(live_server)
    assert ran["by_endpoint"] == ["Liverpool City Region"]
    assert ran["waves"]["cities"] == []  # type: ignore[index]  # one wave in the seed


# rdflib 7.6's Dataset.query uses its own deprecated API (open_graph() returns a Dataset)
@pytest.mark.filterwarnings("ignore:Dataset.default_context is deprecated:DeprecationWarning")
def test_the_guide_runs_on_many_cities(fragments_server: LiveServer) -> None:
    """Here every section has something to say: three cities in two waves, many in health."""
    ran = run_guide(fragments_server)
    assert len(ran["by_endpoint"]) > 1  # type: ignore[arg-type]
    assert len(ran["waves"]["cities"]) == 3  # type: ignore[index]
    assert ran["roles"]["answered"] > 1  # type: ignore[index]
