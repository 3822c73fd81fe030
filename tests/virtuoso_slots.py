"""OpenLink Virtuoso (Debian ``virtuoso-opensource-7-bin``) as the store server slots of
``--backend``: each slot a ``virtuoso-t`` in the foreground (its own pid; ``+wait`` would
daemonise it) with a new database in a temporary folder, its HTTP and SQL ports free ports on
127.0.0.1, and always stopped by the fixture that started it. The slots of a pair share one
load folder, the only one their bulk loader may read besides their own."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import FIXTURES, free_port
from innograph.settings import Settings
from oxigraph_slots import _listens

VIRTUOSO = shutil.which("virtuoso-t")
ISQL = shutil.which("isql-vt")
ABSENT = (
    "virtuoso-t or isql-vt is absent: OpenLink Virtuoso comes from Debian"
    " (apt-get install virtuoso-opensource-7-bin; .ci/run installs it)"
)
START_S = 90  # a first start builds the database: 4 s here, three times that on a busy machine


@dataclass(frozen=True)
class Slot:
    """One Virtuoso: its SPARQL endpoint ``url`` and its SQL port ``isql`` (HOST:PORT)."""

    url: str
    isql: str
    process: subprocess.Popen[bytes]
    folder: Path


def start_slot(load_dir: Path, timeout_s: float = 30, max_rows: int = 100_000) -> Slot:
    """A new, empty Virtuoso; ``timeout_s`` is its MaxQueryExecutionTime, ``max_rows`` its
    ResultSetMaxRows."""
    if VIRTUOSO is None or ISQL is None:
        pytest.skip(ABSENT)
    template = (FIXTURES / "virtuoso.ini").read_text(encoding="utf-8")
    for _ in range(3):  # a port taken between free_port() and the bind: other ones
        http, sql = free_port(), free_port()
        folder = Path(tempfile.mkdtemp(prefix="innograph-virtuoso-"))
        ini = template.format(
            http_port=http, sql_port=sql, load_dir=load_dir, timeout_s=timeout_s, max_rows=max_rows
        )
        (folder / "virtuoso.ini").write_text(ini, encoding="utf-8")
        with (folder / "foreground.log").open("wb") as log:
            process = subprocess.Popen(
                [VIRTUOSO, "+configfile", "virtuoso.ini", "+foreground"],
                cwd=folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        slot = Slot(f"http://127.0.0.1:{http}/sparql", f"127.0.0.1:{sql}", process, folder)
        if _answers(slot, http):
            return slot
        stop_slot(slot)
    raise RuntimeError("virtuoso-t could not start on free ports")


def _answers(slot: Slot, port: int) -> bool:
    """Whether the slot's own process listens on its HTTP port and answers there (a build
    empties a slot: another server that took the port first must never be one)."""
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline and slot.process.poll() is None:
        if _listens(slot.process.pid, port):
            try:
                with urllib.request.urlopen(f"{slot.url}?query=ASK%7B%7D", timeout=5) as answer:
                    return answer.status == 200
            except OSError:
                pass
        time.sleep(0.1)
    return False


def stop_slot(slot: Slot) -> None:
    """SIGTERM: Virtuoso's quick shutdown (about a second); its database goes with it."""
    slot.process.terminate()
    try:
        slot.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        slot.process.kill()
        slot.process.wait(timeout=10)
    shutil.rmtree(slot.folder, ignore_errors=True)


def settings(slots: list[Slot], load_dir: Path, **more: object) -> Settings:
    """The settings of a build into these slots (blue first)."""
    return Settings(
        backend=",".join(slot.url for slot in slots),
        backend_isql=",".join(slot.isql for slot in slots),
        backend_load_dir=str(load_dir),
        **more,  # type: ignore[arg-type]
    )


def environment(slots: list[Slot], load_dir: Path) -> dict[str, str]:
    """The same, as the environment of an ``innograph`` command."""
    return {
        "INNOGRAPH_BACKEND": ",".join(slot.url for slot in slots),
        "INNOGRAPH_BACKEND_ISQL": ",".join(slot.isql for slot in slots),
        "INNOGRAPH_BACKEND_LOAD_DIR": str(load_dir),
    }
