"""Oxigraph's server (PyPI ``oxigraph``, pinned to the installed pyoxigraph's version) as the
store server slots of ``--backend``: started on free 127.0.0.1 ports, each on its own RocksDB
folder (as a deployed slot; an in-memory one lists unordered answers in another order), and
always stopped by the fixture that started them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import free_port

OXIGRAPH = Path(sys.executable).parent / "oxigraph"
ABSENT = (
    f"{OXIGRAPH} is absent: Oxigraph's server comes with the test extra"
    " (pip install -e '.[test]' installs oxigraph, the same version as pyoxigraph)"
)


@dataclass(frozen=True)
class Slot:
    """One ``oxigraph serve`` process: a slot's SPARQL query endpoint is ``url``."""

    url: str
    process: subprocess.Popen[bytes]
    folder: Path


def start_slot(timeout_s: float = 30) -> Slot:
    """A new, empty Oxigraph server; ``timeout_s`` is its own query time limit."""
    if not OXIGRAPH.is_file():
        pytest.skip(ABSENT)
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="innograph-slot-"))
    process = subprocess.Popen(
        [
            *(str(OXIGRAPH), "serve", "--location", str(folder)),
            *("--bind", f"127.0.0.1:{port}", "--timeout-s", f"{timeout_s:g}"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    slot = Slot(f"http://127.0.0.1:{port}/query", process, folder)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{slot.url}?query=ASK%7B%7D", timeout=1) as response:
                if response.status == 200:
                    return slot
        except OSError:
            time.sleep(0.05)
    stop_slot(slot)
    raise RuntimeError(f"oxigraph serve did not answer on {slot.url}")


def stop_slot(slot: Slot) -> None:
    slot.process.terminate()
    try:
        slot.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        slot.process.kill()
        slot.process.wait(timeout=10)
    shutil.rmtree(slot.folder, ignore_errors=True)


def backend(*slots: Slot) -> str:
    """The ``INNOGRAPH_BACKEND`` value naming these slots (blue first)."""
    return ",".join(slot.url for slot in slots)
