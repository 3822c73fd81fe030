"""Shared fixtures: the survey options, the seed profile, the read-only ../shared folder, and
every graph a test reads, made by the production build (one session-scoped store per data set:
the seed, the real fragments, their flattened renderings) and served by the production server."""

from __future__ import annotations

import dataclasses
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from innograph import store
from innograph.pipeline import build, survey_options
from innograph.records import Choice, Person, Sourced, SurveyOptions
from innograph.settings import Settings
from innograph.web.prerender import city_pages

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEED = ROOT / "data" / "profiles" / "liverpool-city-region.txt"
TESTS = ROOT / "tests"
FIXTURES = TESTS / "fixtures"
FRAGMENTS = SHARED / "profiles" / "fragments"
# What a skip says when ../shared is missing: it is no part of this repository.
SHARED_ABSENT = (
    f"{SHARED} is absent: the project's shared data (real profile fragments of other cities, the"
    " W3C test suites) lives beside the clone as ../shared, never in it; CI lays a copy there"
)


# The slow groups, by folder or file: `make test-fast` leaves them out, `make test` runs all.
SLOW_GROUPS = {
    "web/test_query_page.py": ("browser", "server"),
    "web/": ("server",),
    "validation/test_shapes.py": ("shapes", "node"),
    "validation/test_gate.py": ("shapes",),
    "validation/test_shacl_engines_smoke.py": ("node",),
    "cli/test_serve.py": ("server",),
    "cli/test_make_run.py": ("server", "clone"),
    "test_ci_hooks.py": ("clone",),
    "test_skip_reasons.py": ("clone",),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not item.path.is_relative_to(TESTS):
            continue  # doctests of src/
        where = item.path.relative_to(TESTS).as_posix()
        for prefix, markers in SLOW_GROUPS.items():
            if where.startswith(prefix):
                for marker in markers:
                    item.add_marker(marker)
        if not SHARED.is_dir() and _has_no_cases(item):
            item.add_marker(pytest.mark.skip(reason=SHARED_ABSENT), append=False)


def _has_no_cases(item: pytest.Item) -> bool:
    """Whether pytest skips the item as "got empty parameter set": its cases are read from
    ../shared, and that skip would name neither the folder nor why it is missing."""
    reasons = (str(mark.kwargs.get("reason", "")) for mark in item.iter_markers("skip"))
    return any(reason.startswith("got empty parameter set") for reason in reasons)


def sourced_values(value: object, path: str = "") -> list[tuple[str, str, int, int]]:
    """(path, text, first, last) for every value in the record that remembers its lines."""
    found: list[tuple[str, str, int, int]] = []
    if isinstance(value, Choice):
        return [(path, value.wording, value.span.first, value.span.last)]
    if isinstance(value, Person):
        return [(path, value.name, value.span.first, value.span.last)]
    if isinstance(value, Sourced):
        text = str(value.value).lower() if isinstance(value.value, bool) else str(value.value)
        return [(path, text, value.span.first, value.span.last)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            found += sourced_values(getattr(value, field.name), f"{path}.{field.name}")
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            found += sourced_values(item, f"{path}[{index}]")
    return found


@pytest.fixture(scope="session")
def options() -> SurveyOptions:
    return survey_options()


@pytest.fixture(scope="session")
def seed_bytes() -> bytes:
    return SEED.read_bytes()


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(SHARED_ABSENT)
    return SHARED


# --- a live server on 127.0.0.1 -------------------------------------------------------------


LIVE_MAX_RESULT_BYTES = 1024 * 1024  # above 1,000 rows of the seed's triples in any format


@dataclass(frozen=True)
class LiveServer:
    """``innograph serve`` (gunicorn) running on a free port over a store built from the seed."""

    url: str
    store: Path
    process: subprocess.Popen[bytes]

    @property
    def sparql(self) -> str:
        return f"{self.url}/sparql"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    store: Path,
    env: dict[str, str] | None = None,
    workers: int = 1,
    options: tuple[str, ...] = (),
    log: Path | None = None,
    port: int | None = None,
) -> LiveServer:
    """``innograph serve`` with OPTIONS besides its store, port (a free one unless given) and
    workers; what it prints goes to LOG (or nowhere)."""
    port = port or free_port()
    environment = {**os.environ, **(env or {})}
    output = log.open("wb") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "innograph", "serve", "--store", str(store)),
            *("--port", str(port), "--workers", str(workers), *options),
        ],
        env=environment,
        stdout=output,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
    )
    if log:
        output.close()  # type: ignore[union-attr]  # the server holds its own descriptor
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/-/ping", timeout=1) as response:
                if response.status == 200:
                    return LiveServer(url, store, process)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"innograph serve did not answer on {url}")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()


# --- graphs from the production build, one store per data set ---------------------------------


def built_store(paths: list[Path], root: Path) -> Path:
    """``innograph build`` of PATHS into a store folder; the build must pass its gate."""
    report = build(paths, root, Settings(), pages=city_pages)
    assert report.exit_code == 0, report.rejects
    return root


def fragment_files(flattened: bool) -> list[Path]:
    """The real fragments of other cities' pages: the headed pages, or the flattened renderings
    (a second rendering of a page is the same profile, so each set is built on its own)."""
    if not FRAGMENTS.is_dir():
        pytest.skip(SHARED_ABSENT if not SHARED.is_dir() else f"{FRAGMENTS} is absent")
    return [p for p in sorted(FRAGMENTS.glob("*.txt")) if p.stem.endswith("--flat") == flattened]


# The HTTP suite runs once more over store servers with INNOGRAPH_TEST_BACKEND=oxigraph (`make
# test-backends`; =virtuoso for Virtuoso's): the seed is built with --backend into two slots of
# that kind, and `live_server` answers from them; every other fixture stays embedded.
TEST_BACKEND = os.environ.get("INNOGRAPH_TEST_BACKEND", "embedded")


@pytest.fixture(scope="session")
def seed_store(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    root = tmp_path_factory.mktemp("served") / "store"
    if TEST_BACKEND == "embedded":
        return built_store([SEED], root)
    report = build([SEED], root, slot_settings(request), pages=city_pages)
    assert report.exit_code == 0, report.rejects
    return root


def slot_settings(request: pytest.FixtureRequest) -> Settings:
    """The settings of a build into the session's slots of INNOGRAPH_TEST_BACKEND's kind."""
    if TEST_BACKEND == "virtuoso":
        from virtuoso_slots import settings

        return settings(*request.getfixturevalue("virtuoso_pair"))
    from oxigraph_slots import backend

    return Settings(backend=backend(*request.getfixturevalue("oxigraph_pair")))


def backend_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """What ``live_server`` adds to serve from the store servers (nothing when embedded)."""
    if TEST_BACKEND == "embedded":
        return {}
    return {"INNOGRAPH_BACKEND": slot_settings(request).backend}


@pytest.fixture(scope="session")
def seed_graph(seed_store: Path) -> ox.Store:
    """The seed's served version, opened read-only."""
    return store.open_read_only(store.require_current(seed_store))


@pytest.fixture(scope="session")
def seed_nquads(seed_store: Path) -> bytes:
    """The seed's served version as canonical N-Quads (``innograph dump``)."""
    return store.dump(store.require_current(seed_store))


@pytest.fixture(scope="session")
def fragments_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed and the headed fragments of 22 other cities' pages, in one store."""
    root = tmp_path_factory.mktemp("fragments") / "store"
    return built_store([SEED, *fragment_files(flattened=False)], root)


@pytest.fixture(scope="session")
def synthetic_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Forty synthetic profiles (``innograph synth --cities 40 --seed 7``), marked as such."""
    from innograph.synth import write_synthetic

    texts = tmp_path_factory.mktemp("synthetic")
    write_synthetic(texts, 40, 7)
    return built_store([texts], tmp_path_factory.mktemp("synthetic-store") / "store")


@pytest.fixture(scope="session")
def flat_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The flattened renderings of six fragments (the same pages, without headings)."""
    return built_store(fragment_files(flattened=True), tmp_path_factory.mktemp("flat") / "store")


@pytest.fixture(scope="session")
def live_server(seed_store: Path, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """The seed served over real HTTP, with the test-only sleep function and small limits."""
    server = start_server(
        seed_store,
        {
            "INNOGRAPH_TEST_FUNCTIONS": "true",
            "INNOGRAPH_QUERY_TIMEOUT_S": "3",
            "INNOGRAPH_MAX_ROWS": "1000",
            "INNOGRAPH_MAX_RESULT_BYTES": str(LIVE_MAX_RESULT_BYTES),
            **backend_env(request),
        },
    )
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def fragments_server(fragments_store: Path) -> Iterator[LiveServer]:
    """The seed and the headed fragments (23 profiles) served over real HTTP."""
    server = start_server(fragments_store)
    yield server
    stop_server(server)


class Canary:
    """An HTTP server on 127.0.0.1 that records every request (method, path) it gets and
    answers each with ``body`` (the outbound-access tests: nothing may reach it)."""

    def __init__(self, body: bytes, media_type: str) -> None:
        hits: list[tuple[str, str]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def _record(self) -> None:
                hits.append((self.command, self.path))
                self.send_response(200)
                self.send_header("Content-Type", media_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_HEAD = _record

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.hits = hits
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def innograph(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The ``innograph`` command, as a user runs it (from the project folder unless ``cwd``)."""
    return subprocess.run(
        [sys.executable, "-m", "innograph", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd or ROOT,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


# --- store server slots (--backend): Oxigraph's server, started here and always stopped ------


@pytest.fixture(scope="session")
def oxigraph_pair() -> Iterator[list[Any]]:
    """Two Oxigraph servers, blue and green, for the session's backend store."""
    from oxigraph_slots import start_slot, stop_slot

    slots = [start_slot()]
    try:
        slots.append(start_slot())
        yield slots
    finally:
        for slot in slots:
            stop_slot(slot)


@pytest.fixture(scope="session")
def backend_store(tmp_path_factory: pytest.TempPathFactory, oxigraph_pair: list[Any]) -> Path:
    """The seed and twelve synthetic profiles, built with ``--backend BLUE,GREEN`` (so both the
    store folder and a slot hold the version: the same version served either way)."""
    from innograph.synth import write_synthetic
    from oxigraph_slots import backend

    texts = tmp_path_factory.mktemp("backend-texts")
    write_synthetic(texts, 12, 3)
    root = tmp_path_factory.mktemp("backend") / "store"
    report = build([SEED, texts], root, Settings(backend=backend(*oxigraph_pair)), pages=city_pages)
    assert report.exit_code == 0, report.rejects
    return root


# --- Virtuoso slots (--backend-kind virtuoso): started here, always stopped (issue 16) ------


@pytest.fixture(scope="session")
def virtuoso_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[Any], Path]]:
    """Two Virtuoso servers, blue and green, and the load folder both may read."""
    from virtuoso_slots import start_slot, stop_slot

    load_dir = tmp_path_factory.mktemp("virtuoso-load")
    slots = [start_slot(load_dir)]
    try:
        slots.append(start_slot(load_dir))
        yield slots, load_dir
    finally:
        for slot in slots:
            stop_slot(slot)
