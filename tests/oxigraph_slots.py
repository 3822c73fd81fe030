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
    timeout_s: float = 30


def start_slot(timeout_s: float = 30) -> Slot:
    """A new, empty Oxigraph server; ``timeout_s`` is its own query time limit."""
    if not OXIGRAPH.is_file():
        pytest.skip(ABSENT)
    for _ in range(5):  # a port taken between free_port() and the bind: another one
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
        slot = Slot(f"http://127.0.0.1:{port}/query", process, folder, timeout_s)
        if _answers(slot, port):
            return slot
        stop_slot(slot)
    raise RuntimeError("oxigraph serve could not start on a free port")


def restart_slot(slot: Slot) -> Slot:
    """The same slot started again, on its folder and port, after its process died (a replica
    that comes back holds what it held: RocksDB recovers its folder)."""
    port = int(slot.url.split(":")[2].split("/")[0])
    process = subprocess.Popen(
        [
            *(str(OXIGRAPH), "serve", "--location", str(slot.folder)),
            *("--bind", f"127.0.0.1:{port}", "--timeout-s", f"{slot.timeout_s:g}"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    again = Slot(slot.url, process, slot.folder, slot.timeout_s)
    if not _answers(again, port):
        process.kill()
        process.wait(timeout=10)
        raise RuntimeError(f"oxigraph serve could not start again on {slot.url}")
    return again


def _answers(slot: Slot, port: int) -> bool:
    """Whether the slot's own process listens on its port and answers there. Tests empty their
    slots (DROP ALL): a server of someone else's that took the port first must never be one."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and slot.process.poll() is None:
        if _listens(slot.process.pid, port):
            try:
                with urllib.request.urlopen(f"{slot.url}?query=ASK%7B%7D", timeout=1) as answer:
                    return answer.status == 200
            except OSError:
                pass
        time.sleep(0.05)
    return False


def _listens(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds the socket listening on 127.0.0.1:``port`` (Linux /proc)."""
    wanted = f"0100007F:{port:04X}"
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == wanted and fields[3] == "0A":  # LISTEN
            inodes.add(f"socket:[{fields[9]}]")
    try:
        held = {str(fd.readlink()) for fd in Path(f"/proc/{pid}/fd").iterdir()}
    except OSError:
        return False
    return bool(inodes & held)


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
