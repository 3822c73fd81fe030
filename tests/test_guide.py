"""The research guide's code runs as written: its Python blocks, in order and in one namespace,
against the production server and store built from the seed (only the server's address and the
store's folder are put in for the ones it names)."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT, LiveServer

GUIDE = ROOT / "docs" / "research-guide.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


# rdflib 7.6's Dataset.query uses its own deprecated API (open_graph() returns a Dataset)
@pytest.mark.filterwarnings("ignore:Dataset.default_context is deprecated:DeprecationWarning")
def test_the_guide_runs(live_server: LiveServer) -> None:
    blocks = BLOCK.findall(GUIDE.read_text(encoding="utf-8"))
    assert len(blocks) >= 10
    code = "\n".join(blocks)
    assert 'BASE = "http://127.0.0.1:8000"' in code
    assert 'STORE = "store"' in code
    code = code.replace('BASE = "http://127.0.0.1:8000"', f"BASE = {live_server.url!r}", 1)
    code = code.replace('STORE = "store"', f"STORE = {str(live_server.store)!r}", 1)
    namespace: dict[str, object] = {"__name__": "guide"}
    exec(compile(code, str(GUIDE), "exec"), namespace)  # our own documentation, as written
