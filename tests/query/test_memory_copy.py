"""The in-memory copy of a version that a query worker keeps when it fits its budget
(``INNOGRAPH_MEMORY_COPY_MB``): the same statements as the version's RocksDB store, the same
answers to the catalogue, over real HTTP too, and never made when the estimate exceeds the budget."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import ROOT, start_server, stop_server
from innograph import store
from innograph.query.workers import Answer, QueryRequest, QueryWorkers

CATALOGUE = sorted((ROOT / "queries").glob("*.rq"))
# A query about one city, unordered: the kind whose rows come in the engine's own order.
PROFILE_OF = (
    "CONSTRUCT { ?s ?p ?o } WHERE { ?profile <https://w3id.org/innograph/def/city> ?city ."
    " GRAPH ?g { ?g <http://purl.org/dc/terms/subject> ?profile . ?s ?p ?o } }"
)


@pytest.fixture(scope="module")
def version(synthetic_store: Path) -> store.Version:
    return store.require_current(synthetic_store)


def pool(root: Path, memory_copy_mb: float, after_s: float = 0.0) -> Iterator[QueryWorkers]:
    workers = QueryWorkers(root, 1, 5.0, False, memory_copy_mb=memory_copy_mb, copy_after_s=after_s)
    try:
        yield workers
    finally:
        workers.close()


@pytest.fixture(scope="module")
def on_disk(synthetic_store: Path) -> Iterator[QueryWorkers]:
    yield from pool(synthetic_store, 0)


@pytest.fixture(scope="module")
def in_memory(synthetic_store: Path) -> Iterator[QueryWorkers]:
    yield from pool(synthetic_store, 1024)


def ask(workers: QueryWorkers, version: store.Version, text: str, fmt: str = "json") -> Answer:
    return workers.run(QueryRequest(text, fmt, 100_000, version.id), 30)


def copy_in_use(workers: QueryWorkers, version: store.Version, within_s: float) -> bool:
    """Whether the worker answers from its copy within the time (it loads one in a thread)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if ask(workers, version, f"ASK {{}} # {time.monotonic()}").in_memory:
            return True
        time.sleep(0.05)
    return False


def rows(answer: Answer) -> list[str]:
    """The solutions as a sorted list: the same multiset however the engine orders them."""
    if answer.fmt == "json":
        body = json.loads(answer.body)
        found = body["results"]["bindings"] if "results" in body else [body["boolean"]]
        return sorted(json.dumps(row, sort_keys=True) for row in found)
    return sorted(answer.body.decode().splitlines())


def test_the_copy_holds_the_statements_of_the_version(version: store.Version) -> None:
    copy = store.dumps.in_memory(version.path)
    assert copy is not None
    disk = store.open_read_only(version)
    every: tuple[None, None, None, None] = (None, None, None, None)
    assert len(copy) == len(disk) > 0
    assert set(copy.quads_for_pattern(*every)) == set(disk.quads_for_pattern(*every))
    merged = set(copy.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    assert merged == set(disk.quads_for_pattern(None, None, None, ox.DefaultGraph())) != set()


def test_a_version_without_dumps_has_no_copy(tmp_path: Path) -> None:
    assert store.dumps.in_memory(tmp_path) is None


def test_the_copy_gives_the_catalogue_the_same_answers(
    on_disk: QueryWorkers, in_memory: QueryWorkers, version: store.Version
) -> None:
    assert copy_in_use(in_memory, version, within_s=30)
    assert not ask(on_disk, version, "ASK {}").in_memory
    for path in CATALOGUE:
        text = path.read_text(encoding="utf-8")
        disk, memory = ask(on_disk, version, text), ask(in_memory, version, text)
        assert memory.in_memory
        assert rows(memory) == rows(disk), path.name
    disk, memory = (ask(w, version, PROFILE_OF, "ntriples") for w in (on_disk, in_memory))
    assert rows(memory) == rows(disk) != []


def test_a_version_above_the_budget_stays_on_disk(
    synthetic_store: Path, version: store.Version
) -> None:
    assert store.dumps.copy_size_mb(1000) > 0.01  # the estimate this test relies on
    for workers in pool(synthetic_store, 0.01):
        assert not copy_in_use(workers, version, within_s=3)


def test_a_worker_reads_its_copy_once_it_has_lived_the_time_limit(
    synthetic_store: Path, version: store.Version
) -> None:
    """Not before: the worker that replaces one stopped at the limit is often taken by the next
    runaway query within about a time limit, and its copy would go with it."""
    for workers in pool(synthetic_store, 1024, after_s=2.0):
        started = time.monotonic()
        assert not copy_in_use(workers, version, within_s=1.0)
        assert copy_in_use(workers, version, within_s=30)
        assert time.monotonic() - started >= 2.0


def test_a_server_with_the_copy_answers_the_catalogue_as_from_disk(
    synthetic_store: Path, on_disk: QueryWorkers, version: store.Version
) -> None:
    limit_s = 1  # its workers read their copies once they have lived the time limit
    server = start_server(
        synthetic_store,
        {"INNOGRAPH_MEMORY_COPY_MB": "256", "INNOGRAPH_QUERY_TIMEOUT_S": str(limit_s)},
    )
    try:
        time.sleep(limit_s + 1)  # and a copy of 40 profiles is read in a tenth of a second
        for path in CATALOGUE:
            text = path.read_text(encoding="utf-8")
            url = f"{server.sparql}?{urllib.parse.urlencode({'query': text})}"
            request = urllib.request.Request(
                url, headers={"Accept": "application/sparql-results+json"}
            )
            with urllib.request.urlopen(request, timeout=60) as response:
                served = Answer(response.read(), "json", 0, False, 0.0)
            assert rows(served) == rows(ask(on_disk, version, text)), path.name
    finally:
        stop_server(server)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc_trim")
def test_a_worker_hands_back_what_its_queries_freed(version: store.Version) -> None:
    """After the catalogue over the copy, the worker's trim gives the freed heap back to the
    system (in a process of its own, as a worker is: pytest's heap would blur the figure)."""
    script = f"""
import os
from pathlib import Path
from innograph import store
from innograph.query.workers import _HeapTrim

def rss_mb():
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

copy = store.dumps.in_memory(Path({str(version.path)!r}))
for path in sorted(Path({str(ROOT / "queries")!r}).glob("*.rq")):
    list(copy.query(path.read_text(encoding="utf-8")))
before = rss_mb()
_HeapTrim().now()
print(before - rss_mb())
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) >= 1.0, f"{float(done.stdout):.1f} MB handed back"
