"""Faults (issue 15, item 5): a query worker or a gunicorn worker killed, a build killed midway,
the disk full during a build, a read-only store folder, a damaged cached profile graph. Each
leaves the served graph intact and the server answering, with a clear message.

Every test runs the production build (``innograph build`` in a process of its own) and the
production server (``innograph serve``, gunicorn) over HTTP on 127.0.0.1. Figures (requests
lost, seconds until a replacement answers) are printed: ``pytest -s tests/security/test_faults.py``.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hostile import fetch, seed_with
from test_rebuild import count, descendants

from conftest import SEED, LiveServer, innograph, start_server, stop_server

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").is_file(), reason="finds processes in /proc"
)

SLEEP = "SELECT (<urn:innograph:test:sleep>(4) AS ?x) WHERE {}"
CITY_DOCUMENT = "/id/city/liverpool-city-region.ttl"
TRACEBACK = "Traceback"


# --- processes ---------------------------------------------------------------------------------


def children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def query_workers(gunicorn_worker: int) -> set[int]:
    """The query workers of a gunicorn worker: the children of its fork server."""
    servers = [p for p in children(gunicorn_worker) if "forkserver" in command_line(p)]
    return {pid for server in servers for pid in children(server) if alive(pid)}


def wait_for(condition: Callable[[], bool], seconds: float = 30) -> float:
    """Seconds until the condition held; fails after ``seconds``."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, "timed out"
        time.sleep(0.01)
    return time.monotonic() - start


# --- what the server serves --------------------------------------------------------------------


def served(store: Path, server: LiveServer) -> tuple[str, int, str]:
    """The served version's id, the statements counted over SPARQL, and the city's document."""
    reply = fetch(f"{server.url}{CITY_DOCUMENT}")
    assert reply.status == 200, reply.status
    digest = hashlib.sha256(reply.body).hexdigest()
    return (store / "current").resolve().name, count(server), digest


def changed_seed(folder: Path) -> Path:
    """The seed with another population figure, under the seed's name (the same profile)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SEED.name
    path.write_text(seed_with({"1,530,000": "1,600,000"}), encoding="utf-8")
    return path


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[tuple[Path, LiveServer]]:
    """The seed built by ``innograph build`` and served by ``innograph serve``."""
    store = tmp_path / "store"
    done = innograph("build", str(SEED), "--store", str(store))
    assert done.returncode == 0, done.stderr
    server = start_server(store)
    yield store, server
    stop_server(server)


def assert_one_clear_line(stderr: str, *words: str) -> None:
    assert TRACEBACK not in stderr, stderr
    lines = [line for line in stderr.splitlines() if all(w in line.lower() for w in words)]
    assert lines, stderr


# --- a query worker killed while it answers ----------------------------------------------------


@pytest.mark.server
def test_a_query_worker_killed_while_it_answers_is_a_clear_error_and_is_replaced(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store"
    assert innograph("build", str(SEED), "--store", str(store)).returncode == 0
    env = {
        "INNOGRAPH_TEST_FUNCTIONS": "true",
        "INNOGRAPH_QUERY_WORKERS": "1",  # the one query worker is the one answering
        "INNOGRAPH_LONG_QUERY_S": "0",
    }
    server = start_server(store, env)
    try:
        before = served(store, server)
        (worker,) = children(server.process.pid)
        (answering,) = query_workers(worker)
        replies = []
        asking = threading.Thread(
            target=lambda: replies.append(fetch(f"{server.sparql}?{urlencode({'query': SLEEP})}"))
        )
        asking.start()
        time.sleep(1)  # the sleep query runs in the worker
        os.kill(answering, signal.SIGKILL)
        killed = time.monotonic()
        asking.join(timeout=30)
        (reply,) = replies
        told = time.monotonic() - killed
        assert reply.status == 503, reply.status  # a new worker takes its place: retry works
        assert reply.header("Retry-After") == "1"
        error = json.loads(reply.body)
        assert "query worker stopped" in json.dumps(error), error
        assert TRACEBACK not in reply.text
        assert told < 2, told  # at once, not at the time limit
        answered = wait_for(lambda: fetch(f"{server.url}/-/ping").status == 200)
        count(server)  # a real query, on a new query worker
        replaced = time.monotonic() - killed
        (replacement,) = query_workers(worker)
        assert replacement != answering
        assert served(store, server) == before
        print(
            f"\nquery worker killed: the client told in {told:.2f} s ({reply.status});"
            f" the next query answered {replaced:.2f} s after the kill ({answered:.2f} s to ping)"
        )
    finally:
        stop_server(server)


@pytest.mark.server
def test_query_workers_killed_while_idle_cost_no_request(tmp_path: Path) -> None:
    """The OOM killer, or an operator, stops query workers that answer nothing."""
    store = tmp_path / "store"
    assert innograph("build", str(SEED), "--store", str(store)).returncode == 0
    server = start_server(store, {"INNOGRAPH_QUERY_WORKERS": "2"})
    try:
        before = served(store, server)
        (worker,) = children(server.process.pid)
        idle = query_workers(worker)
        assert len(idle) == 2, idle
        for pid in idle:
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not query_workers(worker) & idle)
        statuses = []
        for _ in range(3):
            text = f"ASK {{ ?s ?p ?o }} # {uuid.uuid4().hex}"
            statuses.append(fetch(f"{server.sparql}?{urlencode({'query': text})}").status)
        assert statuses == [200, 200, 200], statuses
        assert served(store, server) == before
    finally:
        stop_server(server)


@pytest.mark.server
def test_by_default_the_web_workers_share_the_cores_among_their_query_workers(
    tmp_path: Path,
) -> None:
    """More query workers than cores only take turns on the CPU, each with a cache of its own."""
    store = tmp_path / "store"
    assert innograph("build", str(SEED), "--store", str(store)).returncode == 0
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, sorted(allowed)[:2])  # the server, started now, may use two cores
    try:
        server = start_server(store, {"INNOGRAPH_QUERY_WORKERS": "0"}, workers=2)
    finally:
        os.sched_setaffinity(0, allowed)
    try:
        web_workers = children(server.process.pid)
        assert len(web_workers) == 2, web_workers
        for worker in web_workers:  # two cores, two web workers: one query worker each
            wait_for(lambda w=worker: len(query_workers(w)) >= 1)
            time.sleep(0.2)  # none more starts meanwhile
            assert len(query_workers(worker)) == 1, worker
    finally:
        stop_server(server)


# --- a gunicorn worker killed under load -------------------------------------------------------


@pytest.mark.server
def test_a_gunicorn_worker_killed_under_load_is_replaced_and_few_requests_are_lost(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store"
    assert innograph("build", str(SEED), "--store", str(store)).returncode == 0
    server = start_server(store, workers=2)
    clients, outcomes, stop = 4, [], threading.Event()
    try:
        before = served(store, server)
        workers = children(server.process.pid)
        assert len(workers) == 2, workers

        def client(index: int) -> None:
            while not stop.is_set():
                if index % 2:
                    text = f"ASK {{ ?s ?p ?o }} # {uuid.uuid4().hex}"
                    url = f"{server.sparql}?{urlencode({'query': text})}"
                else:
                    url = f"{server.url}{CITY_DOCUMENT}"
                try:
                    status = fetch(url, timeout=10).status
                except (OSError, http.client.HTTPException) as error:  # reset, cut short
                    status = type(error).__name__
                outcomes.append((time.monotonic(), status))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for thread in threads:
            thread.start()
        time.sleep(2)
        victim = min(workers)
        orphans = descendants(victim) - {victim}
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        replaced = wait_for(
            lambda: len(children(server.process.pid) - {victim}) == 2 and not alive(victim)
        )
        (new,) = children(server.process.pid) - workers
        ready = wait_for(lambda: len(query_workers(new)) > 0)  # its app and query workers
        time.sleep(3)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        lost = [(t, s) for t, s in outcomes if s != 200]
        after = [s for t, s in outcomes if t > killed + replaced]
        print(
            f"\ngunicorn worker killed under {clients} clients: {len(lost)} of {len(outcomes)}"
            f" requests lost ({sorted({str(s) for _, s in lost})}); a new worker forked after"
            f" {replaced:.2f} s, ready {replaced + ready:.2f} s after the kill;"
            f" {len(after)} answered after the fork, none lost"
        )
        assert len(lost) <= clients, lost  # at most the requests the killed worker held
        assert after, "no request was answered after the kill"
        assert all(s == 200 for s in after), after[:10]
        wait_for(lambda: not any(alive(p) for p in orphans), 15)  # its query workers went too
        assert served(store, server) == before
    finally:
        stop.set()
        stop_server(server)


# --- a build killed midway ---------------------------------------------------------------------


def many_profiles(folder: Path, number: int = 60) -> Path:
    """The seed under other names, each a city of its own: a build of a few seconds."""
    folder.mkdir(parents=True)
    text = SEED.read_text(encoding="utf-8")
    for index in range(number):
        population = f"{1_000_000 + index:,}"
        path = folder / f"city-{index:03d}.txt"
        path.write_text(text.replace("1,530,000", population), encoding="utf-8")
    return folder


def building(store: Path) -> list[Path]:
    return list((store / "versions").glob(".building-*"))


def phase_reached(store: Path, marker: str) -> bool:
    return any((folder / marker).exists() for folder in building(store))


@pytest.mark.server
def test_a_build_killed_in_each_phase_leaves_the_served_version_and_the_next_build_cleans_up(
    serving: tuple[Path, LiveServer], tmp_path: Path
) -> None:
    store, server = serving
    before = served(store, server)
    profiles = many_profiles(tmp_path / "many")
    cached = len(list((store / "cache").iterdir()))
    phases: dict[str, Callable[[], bool]] = {
        "mapping": lambda: len(list((store / "cache").iterdir())) > cached + 2,
        "loading": lambda: phase_reached(store, "oxigraph"),
        "validating": lambda: phase_reached(store, "oxigraph"),  # then 0.3 s more
        "rendering pages": lambda: phase_reached(store, "validation.json"),
        "writing dumps": lambda: phase_reached(store, "dumps"),
    }
    command = [sys.executable, "-m", "innograph", "build", str(profiles), "--store", str(store)]
    for phase, reached in phases.items():
        process = subprocess.Popen(
            [*command, "--workers", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for(lambda: reached() or process.poll() is not None, 120)  # noqa: B023
        if phase == "validating":
            time.sleep(0.3)
        process.kill()
        assert process.wait(timeout=30) == -signal.SIGKILL, f"the build ended before {phase}"
        made = sorted(p.name for folder in building(store) for p in folder.iterdir())
        print(f"\nkilled while {phase}: the leftover holds {made}")
        assert served(store, server) == before, phase
        left = building(store)
        assert len(left) <= 1, left  # each build removes the leftover of the one before
        assert all(not (folder / "manifest.json").exists() for folder in left)
    (leftover,) = building(store)
    done = innograph("build", str(profiles), "--store", str(store))
    assert done.returncode == 0, done.stderr
    assert_one_clear_line(done.stderr, leftover.name.lower(), "interrupted build", "never served")
    print(done.stderr.strip())
    assert not building(store)
    assert (store / "current").resolve().name != before[0]
    assert count(server) > before[1]  # the new version, of 60 cities, serves


# --- the disk full during a build --------------------------------------------------------------


@contextmanager
def small_volume(folder: Path, size_mb: int) -> Iterator[str]:
    """A tmpfs of ``size_mb`` at ``folder`` (needs CAP_SYS_ADMIN: root in most containers)."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}M", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        yield ""
        return
    try:
        yield "tmpfs"
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path, leave_bytes: int) -> None:
    """Fill the file system of ``folder`` but ``leave_bytes``."""
    stat = os.statvfs(folder)
    free = stat.f_bavail * stat.f_frsize
    with (folder / "filler").open("wb") as stream:
        for _ in range(max(0, free - leave_bytes) // 65536):
            stream.write(b"\0" * 65536)


def file_size_limit(limit: int) -> Callable[[], None]:
    """For the build's process: writes past ``limit`` bytes fail (EFBIG), not kill it."""

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limited


@pytest.mark.server
@pytest.mark.parametrize("leave_kb", [16, 400])  # at the cache, or later in the version
def test_a_build_on_a_full_disk_fails_with_a_clear_message_and_the_served_version_stays(
    tmp_path: Path, leave_kb: int
) -> None:
    with small_volume(tmp_path / "volume", 24) as volume:
        store = (tmp_path / "volume" if volume else tmp_path) / "store"
        assert innograph("build", str(SEED), "--store", str(store)).returncode == 0
        server = start_server(store)
        try:
            before = served(store, server)
            changed = changed_seed(tmp_path / "changed")
            build = ["build", str(changed), "--store", str(store)]
            if volume:  # a real full disk: ENOSPC
                fill(store.parent, leave_kb * 1024)
                done = innograph(*build)
                expected = "no space left on device"
            else:  # the fallback: each file at most leave_kb (EFBIG)
                done = subprocess.run(
                    [sys.executable, "-m", "innograph", *build],
                    capture_output=True,
                    text=True,
                    check=False,
                    preexec_fn=file_size_limit(leave_kb * 1024),
                )
                expected = "file too large"
            print(f"\n{volume or 'RLIMIT_FSIZE'}, {leave_kb} KB left: {done.stderr.strip()}")
            assert done.returncode != 0
            assert_one_clear_line(done.stderr, str(store).lower(), expected)
            assert len(done.stderr.strip().splitlines()) == 1, done.stderr
            assert served(store, server) == before
            assert not building(store)
            if volume:  # with room again, the same build succeeds
                (store.parent / "filler").unlink()
                again = innograph(*build)
                assert again.returncode == 0, again.stderr
                assert served(store, server)[0] != before[0]
        finally:
            stop_server(server)


# --- a read-only store folder ------------------------------------------------------------------


@contextmanager
def read_only(folder: Path) -> Iterator[str]:
    """``folder`` made read-only, and how: permissions stop everyone but root; for root, a
    read-only bind mount of the folder over itself."""
    if os.geteuid() != 0:
        modes = {path: path.stat().st_mode for path in (folder, folder / "versions")}
        for path, mode in modes.items():
            path.chmod(mode & ~0o222)
        try:
            yield "chmod a-w"
        finally:
            for path, mode in modes.items():
                path.chmod(mode)
        return
    bind = ["mount", "--bind", str(folder), str(folder)]
    if subprocess.run(bind, capture_output=True, check=False).returncode != 0:
        pytest.skip("running as root, and a read-only bind mount is not allowed here")
    try:
        remount = ["mount", "-o", "remount,bind,ro", str(folder)]
        subprocess.run(remount, capture_output=True, check=True)
        yield "read-only bind mount"
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.server
def test_a_build_into_a_read_only_store_fails_clearly_and_the_server_keeps_serving(
    serving: tuple[Path, LiveServer], tmp_path: Path
) -> None:
    store, server = serving
    before = served(store, server)
    changed = changed_seed(tmp_path / "changed")
    with read_only(store) as how:
        done = innograph("build", str(changed), "--store", str(store))
        print(f"\n{how}: {done.stderr.strip()}")
        assert done.returncode != 0
        assert_one_clear_line(done.stderr, str(store).lower(), "read-only file system")
        assert served(store, server) == before
    assert not building(store)
    assert served(store, server) == before


# --- a damaged cached profile graph ------------------------------------------------------------


def truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def garble(data: bytes) -> bytes:
    """Still N-Triples, but a figure changed: only a checksum can tell."""
    assert b'"1530000"' in data
    return data.replace(b'"1530000"', b'"1530001"')


@pytest.mark.parametrize("damage", [truncate, garble], ids=["truncated", "garbled"])
def test_a_damaged_cached_graph_is_noticed_and_rebuilt_from_its_text(
    tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    """The cache is read when the served version has another graph for the profile: the seed,
    then a changed seed, then the seed again, from a damaged cache."""
    store, clean = tmp_path / "store", tmp_path / "clean"
    assert innograph("build", str(SEED), "--store", str(store)).returncode == 0
    (cached,) = (store / "cache").iterdir()
    changed = changed_seed(tmp_path / "changed")
    assert innograph("build", str(changed), "--store", str(store)).returncode == 0
    cached.write_bytes(damage(cached.read_bytes()))
    done = innograph("build", str(SEED), "--store", str(store))
    assert done.returncode == 0, done.stderr
    print(f"\n{done.stderr.strip()}")
    assert_one_clear_line(done.stderr, SEED.name, "cache", "rebuilt")
    assert innograph("build", str(SEED), "--store", str(clean)).returncode == 0
    dumped = [innograph("dump", "--store", str(s)).stdout for s in (store, clean)]
    assert dumped[0] == dumped[1]
    assert '"1530000"' in dumped[0]
