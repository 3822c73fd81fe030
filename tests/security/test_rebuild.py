"""THREATS.md §3d, data safety when rebuilding the store (D3, D4, D6, D7, D8), with the
production build and the production server.

D1, D2, D5 and D9 (a build killed midway, a violation never promoted, counts that add up,
rollback) are tested in tests/store/test_store.py, tests/cli/test_first_ten_minutes.py and
tests/cli/test_cli_build_query.py; SECURITY.md names each test.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hostile import fetch, seed_with

from conftest import SEED, LiveServer, built_store, innograph, start_server, stop_server
from innograph import store as versions

SECOND = "second-city"  # a profile that the second version leaves out
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def snapshot(folder: Path) -> dict[str, tuple[int, int, str]]:
    """Every file under ``folder``: size, modification time and SHA-256."""
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            stat = path.stat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            files[str(path.relative_to(folder))] = (stat.st_size, stat.st_mtime_ns, digest)
    return files


def second_profile(folder: Path) -> Path:
    path = folder / f"{SECOND}.txt"
    text = seed_with(
        {"Liverpool City Region\n": "Second City\n"},
        first_line=f"# source: https://example.org/cities/{SECOND}",
    )
    path.write_text(text, encoding="utf-8")
    return path


# --- D4, D6: a build writes a new version only, and the same input gives the same bytes ---------


def test_d4_a_build_never_touches_the_served_version(tmp_path: Path) -> None:
    store = built_store([SEED], tmp_path / "store")
    served = (store / "current").resolve()
    before = snapshot(served)
    assert before  # the store, its dumps, its documents
    changed = tmp_path / SEED.name
    changed.write_text(SEED.read_text(encoding="utf-8").replace("1,530,000", "1,600,000"))
    done = innograph("build", str(changed), "--store", str(store))
    assert done.returncode == 0, done.stderr
    assert (store / "current").resolve() != served
    assert (store / "previous").resolve() == served
    assert snapshot(served) == before
    assert not [p for p in (store / "versions").iterdir() if p.name.startswith(".building")]


def test_d6_the_same_input_builds_the_same_bytes(tmp_path: Path) -> None:
    first = built_store([SEED], tmp_path / "first")
    second = built_store([SEED], tmp_path / "second")
    dumps = [(store / "current" / "dumps" / "SHA256SUMS").read_text() for store in (first, second)]
    assert dumps[0] == dumps[1]
    assert "innograph.nq.gz" in dumps[0]
    manifests = [json.loads((s / "current" / "manifest.json").read_text()) for s in (first, second)]
    assert manifests[0]["profiles"] == manifests[1]["profiles"]


# --- D3, D7, D8: a served store whose version is switched under load ---------------------------


@dataclass(frozen=True)
class Swapping:
    server: LiveServer
    store: Path
    counts: dict[str, int]  # version id -> statements in the union
    with_second: str  # the version that still has the second city


@pytest.fixture(scope="module")
def swapping(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Swapping]:
    """Two versions (the seed with a second city, then the seed alone), served."""
    folder = tmp_path_factory.mktemp("swapping")
    store = folder / "store"
    built_store([SEED, second_profile(folder)], store)
    first = (store / "current").resolve().name
    built_store([SEED], store)
    server = start_server(store)
    counts = {}
    for _ in range(2):
        version = (store / "current").resolve().name
        counts[version] = count(server)
        versions.rollback(store)  # what innograph rollback does
    assert (store / "current").resolve().name != first  # back to the seed alone
    yield Swapping(server, store, counts, first)
    stop_server(server)


def count(server: LiveServer) -> int:
    text = f"{COUNT} # {uuid.uuid4().hex}"
    reply = fetch(
        f"{server.sparql}?{urlencode({'query': text})}",
        headers={"Accept": "application/sparql-results+json"},
    )
    assert reply.status == 200, reply.body[:300]
    return int(json.loads(reply.body)["results"]["bindings"][0]["n"]["value"])


def descendants(pid: int) -> set[int]:
    children: defaultdict[int, set[int]] = defaultdict(set)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children[parent].add(int(stat.parent.name))
    found, frontier = {pid}, [pid]
    while frontier:
        for child in children[frontier.pop()]:
            found.add(child)
            frontier.append(child)
    return found


def open_files(server: LiveServer) -> int:
    """Descriptors open in ``innograph serve`` and every process under it."""
    total = 0
    for pid in descendants(server.process.pid):
        try:
            total += sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
    return total


@pytest.mark.server
def test_d3_readers_during_swaps_see_one_version_or_the_other(swapping: Swapping) -> None:
    """Four clients count the statements while the served version is switched four times:
    every answer is one version's count, never an error, and both versions are seen."""
    seen: Counter[int] = Counter()
    errors: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                seen[count(swapping.server)] += 1
            except AssertionError as error:
                errors.append(str(error)[:200])

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for thread in readers:
        thread.start()
    try:
        for _ in range(4):
            time.sleep(0.4)
            versions.rollback(swapping.store)
        time.sleep(0.4)
    finally:
        stop.set()
        for thread in readers:
            thread.join(timeout=30)
    assert errors == []
    assert set(seen) <= set(swapping.counts.values()), (seen, swapping.counts)
    assert len(seen) == 2, seen  # the switch was seen by the readers


@pytest.mark.server
@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc")
def test_d8_switching_versions_leaks_no_descriptors(swapping: Swapping) -> None:
    for _ in range(2):  # warm: both versions opened and asked once
        count(swapping.server)
        versions.rollback(swapping.store)
    count(swapping.server)
    baseline = open_files(swapping.server)
    for _ in range(10):
        versions.rollback(swapping.store)
        served = (swapping.store / "current").resolve().name
        assert count(swapping.server) == swapping.counts[served]  # the server switched
        fetch(f"{swapping.server.url}/id/city/liverpool-city-region.ttl")
    after = open_files(swapping.server)
    print(f"descriptors: {baseline} before, {after} after 10 switches")
    assert after <= baseline + 8, (baseline, after)


@pytest.mark.server
def test_d7_an_iri_the_new_version_drops_is_gone_not_missing(swapping: Swapping) -> None:
    if (swapping.store / "current").resolve().name == swapping.with_second:
        versions.rollback(swapping.store)
    reply = fetch(f"{swapping.server.url}/id/city/{SECOND}", headers={"Accept": "text/turtle"})
    assert reply.status == 410, reply.status
