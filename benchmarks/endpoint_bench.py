"""Benchmark the SPARQL endpoint beside in-process pyoxigraph, on the catalogue queries.

    .venv/bin/python benchmarks/endpoint_bench.py [--quick] [--configs w2q2t8,w1q2t8,...]
        [--profiles 1000] [--requests C1,C8] [--gzip] [--scratch DIR] [--json FILE]

About 12 minutes on 2 cores (--quick: about 4), plus a minute to build the synthetic store
unless ``--scratch`` keeps it from an earlier run.

Two graphs: the seed (``data/profiles``) and a synthetic one (``innograph synth --cities N
--seed 11``), each built into a scratch store. For each graph:

* calibration: every catalogue query (``queries/*.rq``) runs once in-process in a child process;
  one that passes the server's time limit cannot be served and is left out (and reported);
* the floor: the same store opened read-only in this process, each query answered and
  serialised as the server does (``innograph.query.writers``), at concurrency 1 and 8 (a
  thread pool);
* the endpoint: ``innograph serve`` (gunicorn gthread) in each configuration ``wWqQtT`` (web
  workers, query workers per web worker, threads), answer cache off; plus the first
  configuration with the answer cache on, which repeats the same query;
* the load: a fixed number of requests per query and level, from threads of this process over
  keep-alive ``http.client`` connections to 127.0.0.1 (POST ``application/sparql-query``, no
  gzip unless ``--gzip``). Every target runs one query back to back (floor, then each server),
  so a change in the machine's background load hits them alike;
* a single-IRI lookup (``SELECT ?p ?o WHERE { <city> ?p ?o }`` and ``DESCRIBE <city>``, rotating
  over 100 city IRIs) at concurrency 1: p50 over HTTP minus p50 in-process.

Then, on the synthetic graph: where the time of a lookup goes (web app, worker pipe, HTTP), and
how a query worker could hold the promoted version (held open, opened per request, copied into
memory). Prints Markdown tables and the headline ratios; ``--json`` writes the raw numbers.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import math
import os
import queue
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ROOT / "queries"
SEED_PROFILES = ROOT / "data" / "profiles"
GRAPH_TYPES = {"json": "application/sparql-results+json", "ntriples": "application/n-triples"}
LOOKUP_IRIS = 100
HTTP_TIMEOUT_S = 120.0
CACHE_BYTES = 64 * 2**20  # the default INNOGRAPH_RESULT_CACHE_BYTES

# --- what is measured ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    name: str
    text: str
    fmt: str  # "json" (SELECT/ASK) or "ntriples" (CONSTRUCT/DESCRIBE)

    @property
    def accept(self) -> str:
        return GRAPH_TYPES[self.fmt]


@dataclass(frozen=True)
class Config:
    workers: int
    query_workers: int
    threads: int

    @property
    def name(self) -> str:
        return f"w{self.workers}q{self.query_workers}t{self.threads}"

    @classmethod
    def parse(cls, text: str) -> Config:
        values = {"w": 2, "q": 2, "t": 8}
        key = ""
        for char in text.strip().lower():
            if char.isalpha():
                key = char
                values[key] = 0
            else:
                values[key] = values[key] * 10 + int(char)
        return cls(values["w"], values["q"], values["t"])


@dataclass
class Run:
    """One target, one query, one concurrency level."""

    requests: int
    concurrency: int
    wall_s: float
    latencies_s: list[float]
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def qps(self) -> float:
        return len(self.latencies_s) / self.wall_s if self.wall_s > 0 else 0.0

    def percentile(self, p: float) -> float:
        """Nearest rank, in ms (with few requests p99 is the slowest one)."""
        if not self.latencies_s:
            return math.nan
        ordered = sorted(self.latencies_s)
        return 1000 * ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "concurrency": self.concurrency,
            "qps": self.qps,
            "p50_ms": self.percentile(50),
            "p99_ms": self.percentile(99),
            "errors": self.errors,
        }


def geomean(values: list[float]) -> float:
    values = [v for v in values if v > 0 and math.isfinite(v)]
    return math.exp(statistics.fmean(math.log(v) for v in values)) if values else math.nan


def catalogue() -> list[Query]:
    from innograph.query.guard import inspect_query

    found = []
    for path in sorted(QUERIES.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        form = inspect_query(text).form
        found.append(
            Query(path.stem, text, "ntriples" if form in ("CONSTRUCT", "DESCRIBE") else "json")
        )
    return found


def answer(store: Any, text: str, fmt: str, limit: int) -> tuple[bytes, int]:
    """What a query worker does (``innograph.query.workers``): run, then serialise with the row
    limit. Returns (body, rows)."""
    import pyoxigraph as ox

    from innograph.query.writers import write_boolean, write_graph, write_solutions

    result = store.query(text)
    if isinstance(result, ox.QueryBoolean):
        return write_boolean(bool(result), fmt), 1
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        body, rows, _ = write_solutions(
            names, (tuple(s[n] for n in names) for s in result), fmt, limit
        )
        return body, rows
    body, rows, _ = write_graph(iter(result), fmt, limit)
    return body, rows


# --- the load generator -------------------------------------------------------------------------

Call = Callable[[int], str | None]  # request number -> None, or what went wrong


def drive(factory: Callable[[], Call], requests: int, concurrency: int) -> Run:
    """``requests`` calls from ``concurrency`` threads, each with its own ``factory()`` (set up
    before the clock starts). Only answered calls count towards throughput and latency."""
    lock = threading.Lock()
    tickets = iter(range(requests))
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    calls = [factory() for _ in range(concurrency)]
    barrier = threading.Barrier(concurrency + 1)

    def loop(call: Call) -> None:
        barrier.wait()
        while True:
            with lock:
                ticket = next(tickets, None)
            if ticket is None:
                return
            start = time.perf_counter()
            problem = call(ticket)
            elapsed = time.perf_counter() - start
            with lock:
                if problem is None:
                    latencies.append(elapsed)
                else:
                    errors[problem] += 1

    threads = [threading.Thread(target=loop, args=(c,), daemon=True) for c in calls]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    for call in calls:
        close = getattr(call, "close", None)
        if close:
            close()
    return Run(requests, concurrency, wall, latencies, dict(errors))


Request = tuple[str, str, bytes | None, dict[str, str]]  # method, path, body, headers


ACCEPT_ENCODING = {"Accept-Encoding": "identity"}  # --gzip: "gzip", as browsers send


def sparql_requests(queries: list[Query]) -> list[Request]:
    """The protocol's POST with the query as the body, as SPARQL clients send it."""
    return [
        (
            "POST",
            "/sparql",
            q.text.encode(),
            {"Content-Type": "application/sparql-query", "Accept": q.accept, **ACCEPT_ENCODING},
        )
        for q in queries
    ]


PING: list[Request] = [("GET", "/-/ping", None, {})]


class HttpCall:
    """One keep-alive connection to 127.0.0.1."""

    def __init__(self, port: int, requests: list[Request]) -> None:
        self.port = port
        self.requests = requests
        self.connection = self._connect()

    def _connect(self) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT_S)
        connection.connect()
        return connection

    def __call__(self, ticket: int) -> str | None:
        method, path, body, headers = self.requests[ticket % len(self.requests)]
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            response.read()
            if response.will_close:
                self.connection.close()
                self.connection = self._connect()
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()
            self.connection = self._connect()
            return type(error).__name__
        return None if response.status == 200 else f"HTTP {response.status}"

    def close(self) -> None:
        self.connection.close()


def child_echo() -> None:
    """The floor of this client and loopback TCP: a server that reads a request and answers a
    fixed 200 at once (one thread per connection, in its own process)."""
    reply = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"

    def serve(connection: socket.socket) -> None:
        data = b""
        with connection:
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, data = data.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(data) < length:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                data = data[length:]
                connection.sendall(reply)

    listener = socket.create_server(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)
    while True:
        connection, _ = listener.accept()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve, args=(connection,), daemon=True).start()


def client_floor(requests: list[Request], count: int) -> Run:
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", "echo"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        port = int(process.stdout.readline())  # type: ignore[union-attr]
        drive(lambda: HttpCall(port, requests), count // 4, 1)
        return drive(lambda: HttpCall(port, requests), count, 1)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class InProcess:
    """The floor: the same store version, read-only, in this process."""

    def __init__(self, store_root: Path, limit: int) -> None:
        from innograph import store

        self.store = store.open_read_only(store.require_current(store_root))
        self.limit = limit
        self.name = "in-process"

    def warm(self, query: Query) -> None:
        self.run([query], 1, 1)

    def run(self, queries: list[Query], requests: int, concurrency: int) -> Run:
        def factory() -> Call:
            def call(ticket: int) -> str | None:
                query = queries[ticket % len(queries)]
                answer(self.store, query.text, query.fmt, self.limit)
                return None

            return call

        return drive(factory, requests, concurrency)


# --- servers ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """``innograph serve`` in its own process group (so all its processes stop together)."""

    def __init__(
        self, config: Config, store_root: Path, cache_bytes: int, queue_wait_s: float, logs: Path
    ) -> None:
        self.config = config
        self.cache = cache_bytes > 0
        self.name = config.name + (" cache on" if self.cache else "")
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("INNOGRAPH_")}
        env |= {
            "INNOGRAPH_QUERY_WORKERS": str(config.query_workers),
            "INNOGRAPH_RESULT_CACHE_BYTES": str(cache_bytes),
            "INNOGRAPH_QUEUE_WAIT_S": str(queue_wait_s),
        }
        self.log = (logs / f"{self.name.replace(' ', '-')}-{self.port}.log").open("wb")
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "innograph", "serve", "--store", str(store_root)),
                *("--host", "127.0.0.1", "--port", str(self.port)),
                *("--workers", str(config.workers), "--threads", str(config.threads)),
            ],
            env=env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: the server exited; see {self.log.name}")
            with suppress(OSError, http.client.HTTPException):
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/-/ping")
                if connection.getresponse().status == 200:
                    connection.close()
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: not answering after {timeout_s:g} s")

    def run(self, queries: list[Query], requests: int, concurrency: int) -> Run:
        return self.send(sparql_requests(queries), requests, concurrency)

    def send(self, requests: list[Request], count: int, concurrency: int) -> Run:
        return drive(lambda: HttpCall(self.port, requests), count, concurrency)

    def warm(self, query: Query) -> None:
        """One request, or with the answer cache on, enough fresh connections that every web
        worker has most likely answered (and cached) the query once."""
        for _ in range(8 if self.cache else 1):
            self.run([query], 1, 1)

    def stop(self) -> None:
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


@contextmanager
def serving(specs: list[tuple[Any, ...]]) -> Iterator[list[Server]]:
    servers: list[Server] = []
    try:
        for spec in specs:
            servers.append(Server(*spec))
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()


# --- stores -------------------------------------------------------------------------------------


def innograph(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "innograph", *args], cwd=ROOT, check=True, capture_output=True
    )


def profile_count(store_root: Path) -> int | None:
    from innograph import store

    version = store.current(store_root)
    return None if version is None else len(version.manifest().get("profiles", {}))


def seed_store(scratch: Path) -> Path:
    root = scratch / "seed-store"
    if profile_count(root) != len(list(SEED_PROFILES.glob("*.txt"))):
        shutil.rmtree(root, ignore_errors=True)
        innograph("build", str(SEED_PROFILES), "--store", str(root), "--quiet")
    return root


def synthetic_store(scratch: Path, cities: int) -> Path:
    root = scratch / f"synth-{cities}-store"
    if profile_count(root) == cities:
        return root  # kept from an earlier run with --scratch
    profiles = scratch / f"synth-{cities}"
    shutil.rmtree(profiles, ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)
    innograph("synth", "--cities", str(cities), "--seed", "11", "--out", str(profiles))
    start = time.perf_counter()
    innograph("build", str(profiles), "--store", str(root), "--quiet")
    print(f"built {cities:,} synthetic profiles in {time.perf_counter() - start:.0f} s", flush=True)
    return root


def city_iris(store_root: Path, count: int) -> list[str]:
    from innograph import store

    served = store.open_read_only(store.require_current(store_root))
    rows = served.query(
        "SELECT DISTINCT ?c WHERE { ?c a <https://w3id.org/innograph/def/City> }"
        f" ORDER BY ?c LIMIT {count}"
    )
    return [row["c"].value for row in rows]


def lookups(iris: list[str]) -> dict[str, list[Query]]:
    return {
        "SELECT ?p ?o": [
            Query("lookup", f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}", "json") for iri in iris
        ],
        "DESCRIBE": [Query("describe", f"DESCRIBE <{iri}>", "ntriples") for iri in iris],
    }


# --- child processes: calibration, and how a worker holds the version ---------------------------


def child_calibrate(store_root: str, names: list[str], limit: int) -> None:
    """Run each named query once; say when each starts so the parent can stop a runaway."""
    from innograph import store

    served = store.open_read_only(store.require_current(Path(store_root)))
    by_name = {q.name: q for q in catalogue()}
    for name in names:
        query = by_name[name]
        print(json.dumps({"start": name}), flush=True)
        start = time.perf_counter()
        body, rows = answer(served, query.text, query.fmt, limit)
        seconds = time.perf_counter() - start
        size = len(body)
        print(
            json.dumps({"name": name, "seconds": seconds, "bytes": size, "rows": rows}), flush=True
        )


def calibrate(store_root: Path, queries: list[Query], limit_s: float, max_rows: int) -> dict:
    """name -> {"seconds", "bytes", "rows"}, or {"over_limit": True} past the time limit."""
    results: dict[str, dict] = {}
    remaining = [q.name for q in queries]
    while remaining:
        process = subprocess.Popen(
            [
                *(sys.executable, __file__, "--child", "calibrate"),
                *(str(store_root), str(max_rows), *remaining),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        lines: queue.Queue[str | None] = queue.Queue()

        def read(stream: Any = process.stdout, sink: queue.Queue = lines) -> None:
            for line in stream:
                sink.put(line)
            sink.put(None)

        threading.Thread(target=read, daemon=True).start()
        running: str | None = None
        while True:
            try:
                line = lines.get(timeout=limit_s if running else 120)
            except queue.Empty:
                os.killpg(process.pid, signal.SIGKILL)
                if running is None:
                    raise RuntimeError("calibration child stalled") from None
                results[running] = {"over_limit": True}
                print(f"  {running}: over the {limit_s:g} s limit in-process", flush=True)
                break
            if line is None:
                break
            message = json.loads(line)
            if "start" in message:
                running = message["start"]
            else:
                results[message.pop("name")] = message
                running = None
        process.wait()
        left = [n for n in remaining if n not in results]
        if left == remaining:
            raise RuntimeError(f"calibration failed at {left[0]}")
        remaining = left
    return results


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:  # noqa: PTH123 - a /proc file
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child_hold(store_root: str, names: list[str], limit: int, repeats: int) -> None:
    """How a worker could hold the version: the costs of each way, as one JSON line."""
    import pyoxigraph as ox

    from innograph import store

    version = store.require_current(Path(store_root))
    by_name = {q.name: q for q in catalogue()}
    queries = [by_name[n] for n in names]
    iri = city_iris(Path(store_root), 1)[0]
    lookup = f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}"
    out: dict[str, Any] = {"rss_start_mb": rss_mb()}

    def timed(fn: Callable[[], object], n: int) -> float:
        times = []
        for _ in range(n):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    out["open_ms"] = 1000 * timed(lambda: store.open_read_only(version), 5)
    out["open_lookup_ms"] = 1000 * timed(
        lambda: answer(store.open_read_only(version), lookup, "json", limit), 5
    )
    held = store.open_read_only(version)
    answer(held, lookup, "json", limit)
    out["held_lookup_ms"] = 1000 * timed(lambda: answer(held, lookup, "json", limit), 50)
    out["held"] = {
        q.name: timed(lambda q=q: answer(held, q.text, q.fmt, limit), repeats) for q in queries
    }
    out["rss_held_mb"] = rss_mb()
    out["reopen"] = {
        q.name: timed(
            lambda q=q: answer(store.open_read_only(version), q.text, q.fmt, limit), repeats
        )
        for q in queries
    }
    before = rss_mb()
    start = time.perf_counter()
    memory = ox.Store()
    memory.bulk_extend(held.quads_for_pattern(None, None, None, None))
    out["copy_s"] = time.perf_counter() - start
    out["copy_mb"] = rss_mb() - before
    out["memory_lookup_ms"] = 1000 * timed(lambda: answer(memory, lookup, "json", limit), 50)
    out["memory"] = {
        q.name: timed(lambda q=q: answer(memory, q.text, q.fmt, limit), repeats) for q in queries
    }
    print(json.dumps(out), flush=True)


def hold_costs(store_root: Path, names: list[str], limit: int, repeats: int) -> dict:
    result = subprocess.run(
        [
            *(sys.executable, __file__, "--child", "hold"),
            *(str(store_root), str(limit), str(repeats), *names),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# --- where a lookup's time goes -----------------------------------------------------------------


def breakdown(store_root: Path, lookup: Query, big: Query | None, limit: int, n: int) -> dict:
    """p50 of each layer for one lookup, in ms, measured in this process."""
    from innograph import store
    from innograph.query.guard import inspect_query
    from innograph.query.workers import QueryRequest, QueryWorkers
    from innograph.settings import Settings
    from innograph.web import create_app
    from innograph.web.runtime import facts_of

    def p50(fn: Callable[[], object], count: int = n) -> float:
        fn()
        times = []
        for _ in range(count):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return 1000 * statistics.median(times)

    served = store.open_read_only(store.require_current(store_root))
    version = facts_of(store.require_current(store_root))
    out = {
        "answer in-process": p50(lambda: answer(served, lookup.text, lookup.fmt, limit)),
        "sparql_guard.inspect_query": p50(lambda: inspect_query(lookup.text)),
        "current version (readlink+stat)": p50(lambda: facts_of(store.require_current(store_root))),
    }
    if big is not None:
        out[f"inspect_query ({big.name}, {len(big.text):,} chars)"] = p50(
            lambda: inspect_query(big.text)
        )
        body, _ = answer(served, big.text, big.fmt, limit)
        out[
            f"gzip level 5 of its answer ({len(body) / 2**20:.1f} MB; with Accept-Encoding gzip)"
        ] = p50(lambda: gzip.compress(body, compresslevel=5), 3)
    workers = QueryWorkers(store_root, 1, 5.0, False)
    try:
        request = QueryRequest(lookup.text, lookup.fmt, limit, version.id)
        out["query worker round trip (pipe)"] = p50(lambda: workers.run(request, 10.0))
        start = time.perf_counter()
        fresh = QueryWorkers(store_root, 1, 5.0, False)
        fresh.run(request, 30.0)
        out["a new query worker: spawn, open, first answer"] = 1000 * (time.perf_counter() - start)
        fresh.close()
    finally:
        workers.close()
    settings = Settings(store=store_root, result_cache_bytes=0, query_workers=1)
    app = create_app(settings)
    client = app.test_client()
    headers = {"Accept": lookup.accept}

    def flask_request() -> None:
        response = client.post(
            "/sparql", data=lookup.text, content_type="application/sparql-query", headers=headers
        )
        if response.status_code != 200:
            raise RuntimeError(f"the app answered {response.status_code}")

    out["whole app, WSGI test client (no HTTP)"] = p50(flask_request)
    out["GET /-/ping, WSGI test client"] = p50(lambda: client.get("/-/ping"))
    app.extensions["innograph"].close()
    return out


# --- the benchmark ------------------------------------------------------------------------------


@dataclass
class Plan:
    configs: list[Config]
    counts: dict[str, tuple[int, int]]  # graph -> (requests at c1, requests at c8)
    lookup_requests: int
    hold_repeats: int
    queue_wait_s: float
    profiles: int


def bench_graph(
    label: str, store_root: Path, plan: Plan, queries: list[Query], logs: Path
) -> dict[str, Any]:
    from innograph.settings import Settings

    defaults = Settings()
    print(f"\n## {label}: calibrating {len(queries)} catalogue queries", flush=True)
    calibration = calibrate(store_root, queries, defaults.query_timeout_s, defaults.max_rows)
    served = [q for q in queries if not calibration[q.name].get("over_limit")]
    floor = InProcess(store_root, defaults.max_rows)
    c1, c8 = plan.counts[label]
    results: dict[str, dict[str, dict[int, Run]]] = {}
    lookup_runs: dict[str, dict[str, Run]] = {}
    iris = city_iris(store_root, LOOKUP_IRIS)
    specs = [(c, store_root, 0, plan.queue_wait_s, logs) for c in plan.configs]
    specs.append((plan.configs[0], store_root, CACHE_BYTES, plan.queue_wait_s, logs))
    with serving(specs) as servers:
        targets: list[Any] = [floor, *servers]
        for server in servers:  # start every query worker and open the version in it
            for _ in range(4):
                server.run(lookups(iris)["SELECT ?p ?o"], 8, 8)
        for query in served:
            started = time.perf_counter()
            per_target: dict[str, dict[int, Run]] = {t.name: {} for t in targets}
            for target in targets:
                target.warm(query)
            for level, count in ((1, c1), (8, c8)):
                for target in targets:
                    per_target[target.name][level] = target.run([query], count, level)
            results[query.name] = per_target
            line = " ".join(
                f"{t.name}={per_target[t.name][8].qps:.1f}" for t in targets if t is not floor
            )
            print(
                f"  {query.name}: c8 q/s in-process={per_target[floor.name][8].qps:.1f} {line}"
                f" ({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
        for kind, texts in lookups(iris).items():
            lookup_runs[kind] = {}
            for target in targets:
                if getattr(target, "cache", False):
                    continue
                target.run(texts, LOOKUP_IRIS, 1)
                lookup_runs[kind][target.name] = target.run(texts, plan.lookup_requests, 1)
        lookup_runs["GET /-/ping"] = {}
        for server in servers:
            if not server.cache:
                server.send(PING, plan.lookup_requests // 4, 1)
                lookup_runs["GET /-/ping"][server.name] = server.send(PING, plan.lookup_requests, 1)
        lookup_runs["GET /-/ping"]["client + loopback floor"] = client_floor(
            sparql_requests(lookups(iris)["SELECT ?p ?o"]), plan.lookup_requests
        )
    return {
        "calibration": calibration,
        "served": [q.name for q in served],
        "runs": results,
        "lookups": lookup_runs,
        "targets": [floor.name] + [s.name for s in servers],
        "iris": iris,
    }


def ms(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    return f"{value:.2f}" if value < 10 else f"{value:.0f}"


def rate(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def report_graph(label: str, data: dict[str, Any], plan: Plan) -> tuple[list[str], dict]:
    lines = [f"\n### {label}\n"]
    calibration = data["calibration"]
    over = [n for n, c in calibration.items() if c.get("over_limit")]
    if over:
        lines.append(
            f"Not served (in-process past the server's time limit): {', '.join(sorted(over))}.\n"
        )
    floor, *servers = data["targets"]
    headline: dict[str, Any] = {}
    for name in servers:
        cached = name.endswith("cache on")
        versus = name.removesuffix(" cache on") if cached else floor
        title = f"{name}: answer cache on vs off" if cached else f"{name} vs in-process"
        lines += [
            f"\n**{title}** (q/s; p50 / p99 in ms; ratio = q/s over the reference's)\n",
            "| query | rows | KB | ref c1 q/s | ref c1 p50/p99 | c1 q/s | c1 p50/p99 | c1 ratio"
            " | ref c8 q/s | ref c8 p50/p99 | c8 q/s | c8 p50/p99 | c8 ratio | errors |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        ratios: dict[int, list[float]] = {1: [], 8: []}
        p50s: dict[int, list[tuple[float, float]]] = {1: [], 8: []}
        for query, runs in data["runs"].items():
            cells = [query, str(calibration[query].get("rows", "")), ""]
            cells[2] = f"{calibration[query]['bytes'] / 1024:.0f}"
            problems: Counter[str] = Counter()
            for level in (1, 8):
                ref, run = runs[versus][level], runs[name][level]
                ratio = run.qps / ref.qps if ref.qps else math.nan
                ratios[level].append(ratio)
                p50s[level].append((ref.percentile(50), run.percentile(50)))
                problems.update(run.errors)
                cells += [
                    rate(ref.qps),
                    f"{ms(ref.percentile(50))} / {ms(ref.percentile(99))}",
                    rate(run.qps),
                    f"{ms(run.percentile(50))} / {ms(run.percentile(99))}",
                    f"{ratio:.2f}",
                ]
            cells.append(", ".join(f"{k}×{v}" for k, v in problems.items()) or "")
            lines.append("| " + " | ".join(cells) + " |")
        means = {level: geomean(values) for level, values in ratios.items()}
        lines.append(
            f"| **geometric mean** | | | | | | | **{means[1]:.2f}**"
            f" | | | | | **{means[8]:.2f}** | |"
        )
        entry = {"c1": means[1], "c8": means[8]}
        if cached:
            entry["p50_off_ms"] = geomean([a for a, _ in p50s[1]])
            entry["p50_on_ms"] = geomean([b for _, b in p50s[1]])
        headline[name] = entry
    lines += [
        "\n**Single-IRI lookup**, concurrency 1, rotating over"
        f" {len(data['iris'])} city IRIs, {plan.lookup_requests} requests (ms)\n",
        "| lookup | target | p50 | p99 | in-process p50 | added at p50 |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for kind, runs in data["lookups"].items():
        base = runs[floor].percentile(50) if floor in runs else math.nan
        for name, run in runs.items():
            added = run.percentile(50) - base
            lines.append(
                f"| {kind} | {name} | {ms(run.percentile(50))} | {ms(run.percentile(99))}"
                f" | {ms(base)} | {'' if name == floor or math.isnan(added) else f'{added:.2f}'} |"
            )
            if name != floor and floor in runs:
                headline.setdefault(name, {})[f"lookup {kind} added ms"] = added
    return lines, headline


def report_breakdown(parts: dict[str, float], lookups: dict[str, dict[str, Run]]) -> list[str]:
    first = next(iter(lookups["GET /-/ping"]))
    http_p50 = lookups["SELECT ?p ?o"][first].percentile(50)
    ping_p50 = lookups["GET /-/ping"][first].percentile(50)
    floor_p50 = lookups["GET /-/ping"]["client + loopback floor"].percentile(50)
    lines = [
        "\n### Where a lookup's time goes (synthetic graph, p50 in ms)\n",
        "| step | p50 ms |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {value:.3f} |" for name, value in parts.items()]
    lines += [
        f"| lookup over HTTP ({first}, from the lookup run) | {http_p50:.3f} |",
        f"| GET /-/ping over HTTP ({first}) | {ping_p50:.3f} |",
        f"| this client against a raw-socket server answering at once | {floor_p50:.3f} |",
    ]
    inproc = parts["answer in-process"]
    pipe = parts["query worker round trip (pipe)"]
    app = parts["whole app, WSGI test client (no HTTP)"]
    ping = parts["GET /-/ping, WSGI test client"]
    lines += [
        "",
        f"Layers of the {http_p50 - inproc:.2f} ms a lookup adds: query worker pipe and pickling"
        f" {pipe - inproc:.2f}; the SPARQL view around it (guard, version, negotiation, ETag,"
        f" headers, compression check) {app - pipe - ping:.2f}; Flask's request/response"
        f" cycle (test client, /-/ping) {ping:.2f}; gunicorn's HTTP handling (ping over HTTP"
        f" minus ping in-process minus the client floor) {ping_p50 - ping - floor_p50:.2f};"
        f" this client and loopback TCP {floor_p50:.2f}; unexplained (what HTTP adds to the"
        f" lookup beyond ping) {http_p50 - app - (ping_p50 - ping):.2f}.",
    ]
    return lines


def report_hold(hold: dict[str, Any]) -> list[str]:
    held, reopen, memory = hold["held"], hold["reopen"], hold["memory"]
    names = list(held)
    lines = [
        "\n### How a query worker holds the version (synthetic graph, one process)\n",
        "| way | lookup p50 ms | catalogue: geomean time vs held | memory | set-up |",
        "|---|---:|---:|---:|---:|",
        f"| held open read-only (what workers do) | {hold['held_lookup_ms']:.3f} | 1.00"
        f" | process RSS {hold['rss_held_mb']:.0f} MB after the catalogue | open"
        f" {hold['open_ms']:.1f} ms once |",
        f"| opened read-only per request | {hold['open_lookup_ms']:.3f}"
        f" | {geomean([reopen[n] / held[n] for n in names]):.2f} | – | every request |",
        f"| copied into an in-memory store | {hold['memory_lookup_ms']:.3f}"
        f" | {geomean([memory[n] / held[n] for n in names]):.2f}"
        f" | +{hold['copy_mb']:.0f} MB per worker | {hold['copy_s']:.1f} s per worker |",
        "",
        "| query | held ms | per-request open ms | in-memory ms |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {n} | {1000 * held[n]:.0f} | {1000 * reopen[n]:.0f} | {1000 * memory[n]:.0f} |"
        for n in names
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer requests, one configuration")
    parser.add_argument(
        "--configs",
        help="server configurations wWqQtT, comma separated; the first is also run with the"
        " answer cache on (default w2q2t8,w1q2t8,w1q4t8,w2q4t8; --quick: w2q2t8)",
    )
    parser.add_argument("--profiles", type=int, default=1000, help="synthetic profiles")
    parser.add_argument("--requests", help="requests per query at c1,c8 on the synthetic graph")
    parser.add_argument(
        "--queue-wait",
        type=float,
        default=60.0,
        help="INNOGRAPH_QUEUE_WAIT_S for the servers (throughput, not admission, is measured)",
    )
    parser.add_argument("--scratch", type=Path, help="keep stores here and reuse them")
    parser.add_argument("--json", type=Path, help="write the raw numbers here")
    parser.add_argument("--skip-seed", action="store_true")
    parser.add_argument(
        "--gzip", action="store_true", help="ask for gzip (the server compresses answers ≥ 860 B)"
    )
    args = parser.parse_args()
    if args.gzip:
        ACCEPT_ENCODING["Accept-Encoding"] = "gzip"
    configs = args.configs or ("w2q2t8" if args.quick else "w2q2t8,w1q2t8,w1q4t8,w2q4t8")
    synth_counts = (3, 8) if args.quick else (5, 16)
    if args.requests:
        first, second = args.requests.split(",")
        synth_counts = (int(first), int(second))
    plan = Plan(
        configs=[Config.parse(c) for c in configs.split(",")],
        counts={"seed": (20, 40) if args.quick else (50, 200), "synthetic": synth_counts},
        lookup_requests=100 if args.quick else 300,
        hold_repeats=1 if args.quick else 3,
        queue_wait_s=args.queue_wait,
        profiles=args.profiles,
    )
    temporary = None
    if args.scratch:
        scratch = args.scratch.resolve()
        scratch.mkdir(parents=True, exist_ok=True)
    else:
        temporary = tempfile.TemporaryDirectory(prefix="innograph-endpoint-bench-")
        scratch = Path(temporary.name)
    logs = scratch / "logs"
    logs.mkdir(exist_ok=True)
    started = time.perf_counter()
    try:
        queries = catalogue()
        stores = {} if args.skip_seed else {"seed": seed_store(scratch)}
        stores["synthetic"] = synthetic_store(scratch, args.profiles)
        print(
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f};"
            f" configurations {', '.join(c.name for c in plan.configs)};"
            f" requests per query c1/c8: {plan.counts}",
            flush=True,
        )
        data = {
            label: bench_graph(label, root, plan, queries, logs) for label, root in stores.items()
        }
        from innograph.settings import Settings

        limit = Settings().max_rows
        synth = data["synthetic"]
        sizes = {n: c["bytes"] for n, c in synth["calibration"].items() if not c.get("over_limit")}
        big = max(queries, key=lambda q: sizes.get(q.name, -1))
        lookup = lookups(synth["iris"][:1])["SELECT ?p ?o"][0]
        print("\n## breakdown and how workers hold the version", flush=True)
        parts = breakdown(stores["synthetic"], lookup, big, limit, plan.lookup_requests)
        hold = hold_costs(stores["synthetic"], synth["served"], limit, plan.hold_repeats)
    finally:
        if temporary is not None:
            temporary.cleanup()
    lines = [
        f"\n## Endpoint benchmark ({os.cpu_count()} CPUs, load average now"
        f" {os.getloadavg()[0]:.1f}, {time.perf_counter() - started:.0f} s)",
        f"\nRequests per query and level (c1, c8): {plan.counts}; answer cache off unless"
        f" named; Accept-Encoding: {ACCEPT_ENCODING['Accept-Encoding']};"
        " p99 is nearest-rank (with few requests, the slowest).",
    ]
    headlines: dict[str, dict] = {}
    for label in data:
        title = "seed graph" if label == "seed" else f"synthetic graph, {args.profiles:,} profiles"
        section, headline = report_graph(title, data[label], plan)
        lines += section
        headlines[label] = headline
    lines += report_breakdown(parts, data["synthetic"]["lookups"])
    lines += report_hold(hold)
    lines += [
        "\n## Headline\n",
        "| graph | configuration | HTTP/in-process q/s c1 | c8 (target ≥ 0.5)"
        " | lookup added p50 ms (target < 2) | DESCRIBE added p50 ms | targets |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for label, headline in headlines.items():
        for name, entry in headline.items():
            if name.endswith("cache on"):
                continue
            select = entry.get("lookup SELECT ?p ?o added ms", math.nan)
            met = entry["c8"] >= 0.5 and select < 2
            verdict = (
                ("met" if met else "not met") if label == "synthetic" else "(defined on 1,000)"
            )
            lines.append(
                f"| {label} | {name} | {entry['c1']:.2f} | {entry['c8']:.2f} | {select:.2f}"
                f" | {entry.get('lookup DESCRIBE added ms', math.nan):.2f} | {verdict} |"
            )
    for label, headline in headlines.items():
        for name, entry in headline.items():
            if name.endswith("cache on"):
                lines.append(
                    f"\nAnswer cache, {label}, {name}: repeated queries at ×{entry['c1']:.1f} the"
                    f" throughput at c1 and ×{entry['c8']:.1f} at c8 (geometric means over"
                    f" queries); p50 at c1 from {entry['p50_off_ms']:.2f} to"
                    f" {entry['p50_on_ms']:.2f} ms (geometric means)."
                )
    print("\n".join(lines))
    if args.json:
        raw = {
            label: {
                **{k: v for k, v in d.items() if k not in ("runs", "lookups")},
                "runs": {
                    q: {
                        t: {lv: r.summary() for lv, r in levels.items()}
                        for t, levels in per.items()
                    }
                    for q, per in d["runs"].items()
                },
                "lookups": {
                    k: {t: r.summary() for t, r in runs.items()} for k, runs in d["lookups"].items()
                },
            }
            for label, d in data.items()
        }
        raw["plan"] = asdict(plan)
        raw["breakdown_ms"] = parts
        raw["hold"] = hold
        raw["headlines"] = headlines
        args.json.write_text(json.dumps(raw, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        kind, *rest = sys.argv[2:]
        if kind == "echo":
            child_echo()
        elif kind == "calibrate":
            child_calibrate(rest[0], rest[2:], int(rest[1]))
        else:
            child_hold(rest[0], rest[3:], int(rest[1]), int(rest[2]))
    else:
        main()
