"""innograph beside Oxigraph's own server, on one dump: the peer benchmark.

    .venv/bin/pip install oxigraph            # Oxigraph's server (its CLI), once
    .venv/bin/python benchmarks/peer_bench.py [--profiles 200] [--concurrency 1,8,32]
        [--rounds 3] [--requests 240] [--json FILE] [--before DIR] [--workers N]
        [--memory-copy MB]

Every target serves the same data on 127.0.0.1: the named graphs of innograph's N-Quads dump and
their merge as the default graph (innograph's Turtle dump), so a query without GRAPH finds the
same statements everywhere:

* ``innograph``: ``innograph serve`` as shipped (its own defaults: gunicorn workers for the
  cores, in-memory copies for a small store, answer cache on);
* ``innograph-nocache``: the same with the answer cache off (``INNOGRAPH_RESULT_CACHE_BYTES=1``);
* with ``--workers N``, ``innograph-wN`` and ``innograph-wN-nocache``: N gunicorn workers;
* with ``--memory-copy MB``, ``innograph-memMB`` and ``innograph-memMB-nocache`` (and with
  ``--workers N`` ``innograph-wN-memMB-nocache``): ``INNOGRAPH_MEMORY_COPY_MB=MB`` (0: no copy);
* with ``--before DIR``, ``innograph-before`` and ``innograph-before-nocache``: the code of
  another checkout (``git worktree add DIR REV``), so that a change is measured in one run;
* ``oxigraph-rocksdb``: ``oxigraph load`` into a RocksDB folder, then ``oxigraph serve-read-only``;
* ``oxigraph-memory``: ``oxigraph serve`` in memory, loaded over the Graph Store Protocol;
* ``pyoxigraph``: the RocksDB folder opened in this process, answers serialised as a server
  would (JSON results, Turtle graphs), no HTTP: the floor.

Workloads, each at every concurrency (keep-alive connections of wrk, the C load generator,
``apt-get install wrk``; POST ``application/sparql-query``). A client in this process would
spend more CPU than the servers it measures, on the same cores: behind Python's threads,
Oxigraph in memory had answered point queries at 55 to 60% of the rate wrk sees.

* ``catalogue``: the queries in ``queries/*.rq`` in turn, ten times (repeats: an answer cache
  helps);
* ``point-cold``: one city per request, in turn, and six questions about it: its statements,
  its DESCRIBE, its policy areas, its funding sources, the CONSTRUCT of its profile graphs, the
  cities sharing its policy areas. Each text ends in a comment with a request number, so no
  text is asked twice of a server and no answer cache helps;
* ``point-warm``: the same six queries about one city, repeated (five times ``--requests``);
* ``page``: innograph's city page (``/id/city/<c>.html``), a city no earlier request to that
  server named (so ``profiles / (levels x rounds)`` pages per cell); the Oxigraph targets answer
  the same cities' DESCRIBE instead (what a client of theirs would ask).

Every server runs for the whole benchmark, and each round asks every target in turn, so that
other work on a shared machine weighs on all of them alike. Each cell is the median of
``--rounds`` rounds: queries/s, p50 and p99 in ms. Peak memory is the
largest proportional set size (PSS, shared pages split between the processes that map them)
of each server's process tree (every descendant, whichever thread started it), sampled every
0.2 s. Ratios in the summary are innograph's
queries/s over each peer's, from this one run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parents[1]
INNOGRAPH = [sys.executable, "-m", "innograph"]
CITY = "https://w3id.org/innograph/id/city/"
PREFIXES = "PREFIX ig: <https://w3id.org/innograph/def/> PREFIX dct: <http://purl.org/dc/terms/>\n"
POINT = {  # name -> query about one city
    "statements": "SELECT ?p ?o WHERE {{ <{c}> ?p ?o }}",
    "describe": "DESCRIBE <{c}>",
    "areas": "SELECT DISTINCT ?area WHERE {{ ?profile ig:city <{c}> ;"
    " ig:policyFocus/ig:concept ?area }}",
    "funding": "SELECT DISTINCT ?source WHERE {{ ?profile ig:city <{c}> ;"
    " ig:fundingSource/ig:concept ?source }}",
    "profile": "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ ?profile ig:city <{c}> ."
    " GRAPH ?g {{ ?g dct:subject ?profile . ?s ?p ?o }} }}",
    "peers": "SELECT ?other (COUNT(DISTINCT ?area) AS ?shared) WHERE {{"
    " ?profile ig:city <{c}> ; ig:policyFocus/ig:concept ?area ."
    " ?peer ig:policyFocus/ig:concept ?area ; ig:city ?other FILTER (?other != <{c}>) }}"
    " GROUP BY ?other ORDER BY DESC(?shared) ?other LIMIT 10",
}
GRAPH_QUERIES = ("describe", "profile")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


@dataclass
class Target:
    name: str
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    endpoint: str = "/query"  # Oxigraph's; innograph answers at /sparql
    pages: bool = False  # serves /id/city/<c>.html
    peak_pss_mb: float = 0.0
    busy: bool = False  # being driven now
    _sampling: bool = field(default=False, repr=False)

    def sample_memory(self) -> None:
        """Sample the process tree's PSS until stopped (a thread): every 0.2 s while it is
        driven, every 2 s otherwise (reading /proc for every server's tree five times a second
        took half a core from the servers being measured)."""
        self._sampling = True
        last = 0.0
        while self._sampling and self.process is not None:
            if self.busy or time.monotonic() - last >= 2:
                self.peak_pss_mb = max(self.peak_pss_mb, pss_mb(self.process.pid))
                last = time.monotonic()
            time.sleep(0.2)

    def stop(self) -> None:
        self._sampling = False
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def tree(pid: int) -> list[int]:
    """The process and its descendants. Each thread lists the children it started, so every
    thread is asked: innograph's query workers are started by a request thread."""
    found, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        children: list[str] = []
        try:
            tasks = list(Path(f"/proc/{parent}/task").iterdir())
        except OSError:  # the process ended while the tree was read
            continue
        for task in tasks:
            try:
                children += (task / "children").read_text().split()
            except OSError:
                continue
        frontier += map(int, children)
        found += map(int, children)
    return found


def pss_mb(pid: int) -> float:
    total = 0
    for member in tree(pid):
        try:
            rollup = Path(f"/proc/{member}/smaps_rollup").read_text()
        except OSError:
            continue
        total += next(int(line.split()[1]) for line in rollup.splitlines() if line[:4] == "Pss:")
    return total / 1024


def start(target: Target, command: list[str], env: dict[str, str], ready: str) -> Target:
    target.process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_for(f"http://127.0.0.1:{target.port}{ready}", target.process)
    threading.Thread(target=target.sample_memory, daemon=True).start()
    return target


def innograph(
    store: Path,
    cache: bool,
    name: str,
    workers: int | None = None,
    source: Path | None = None,
    memory_copy_mb: float | None = None,
) -> Target:
    """``innograph serve`` from this checkout or from the ``src/`` of another one
    (``--before``), with its own defaults but for ``workers`` gunicorn workers and the
    ``memory_copy_mb`` setting, when given."""
    target = Target(name, free_port(), None, "/sparql")
    target.pages = True
    env = {**os.environ}
    if source is not None:
        env["PYTHONPATH"] = str(source / "src")
    if not cache:
        env["INNOGRAPH_RESULT_CACHE_BYTES"] = "1"
    env.pop("INNOGRAPH_MEMORY_COPY_MB", None)
    if memory_copy_mb is not None:
        env["INNOGRAPH_MEMORY_COPY_MB"] = str(memory_copy_mb)
    command = [*INNOGRAPH, "serve", "--store", str(store), "--port", str(target.port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    return start(target, command, env, "/-/ping")


def oxigraph_binary() -> str:
    """Oxigraph's CLI: on the PATH, or beside this Python (``pip install oxigraph``)."""
    return shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")


def oxigraph(data: Path, location: Path | None) -> Target:
    """Oxigraph's server: read-only over a loaded RocksDB folder, or in memory (loaded by HTTP)."""
    binary = oxigraph_binary()
    target = Target("oxigraph-rocksdb" if location else "oxigraph-memory", free_port())
    bind = ["--bind", f"127.0.0.1:{target.port}"]
    if location is not None:
        command = [binary, "serve-read-only", "--location", str(location), *bind]
        return start(target, command, {**os.environ}, "/query?query=ASK%7B%7D")
    start(target, [binary, "serve", *bind], {**os.environ}, "/query?query=ASK%7B%7D")
    for path, media, graph in (
        (data / "innograph.nq", "application/n-quads", ""),
        (data / "innograph.ttl", "text/turtle", "?default"),
    ):
        request = urllib.request.Request(
            f"http://127.0.0.1:{target.port}/store{graph}",
            data=path.read_bytes(),
            headers={"Content-Type": media},
            method="POST",
        )
        urllib.request.urlopen(request, timeout=600).close()
    return target


def query_text(kind: str, city: str) -> str:
    return PREFIXES + POINT[kind].format(c=CITY + city)


def accept(query: str) -> str:
    graph = any(word in query for word in ("CONSTRUCT", "DESCRIBE"))
    return "text/turtle" if graph else "application/sparql-results+json"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None
    headers: dict[str, str]


def sparql(target: Target, query: str) -> Request:
    headers = {"Content-Type": "application/sparql-query", "Accept": accept(query)}
    return Request("POST", target.endpoint, query.encode(), headers)


TURNED_AWAY: dict[int, int] = {}  # port -> requests answered 503 (busy, or stopped at a limit)


WRK_SCRIPT = Path(__file__).with_name("wrk_requests.lua")


def raw(port: int, sent: Request) -> bytes:
    """The request as it goes on the wire (HTTP/1.1, kept alive)."""
    body = sent.body or b""
    headers = {"Host": f"127.0.0.1:{port}", **sent.headers}
    if sent.body is not None:
        headers["Content-Length"] = str(len(body))
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"{sent.method} {sent.path} HTTP/1.1\r\n{head}\r\n".encode() + body


def run(port: int, requests: list[Request], concurrency: int) -> tuple[float, float, float]:
    """Queries/s, p50 and p99 in ms: every request sent once by ``concurrency`` keep-alive
    connections of wrk (a C client: this process's threads would spend more CPU than the
    servers they measure, on the same two cores). A 503 (the server signals a limit) is
    counted in ``TURNED_AWAY``, any other status but 200 stops the benchmark."""
    threads = min(2, concurrency, len(requests))  # a thread with no share would never finish
    with tempfile.TemporaryDirectory() as scratch:
        listed, finished = Path(scratch) / "requests", Path(scratch) / "finished"
        listed.write_bytes(
            b"".join(b"%d\n%s" % (len(w), w) for w in (raw(port, r) for r in requests))
        )
        finished.touch()
        command = [wrk_binary(), f"-t{threads}", f"-c{concurrency}", "-d3600s", "--timeout", "120s"]
        wrk = subprocess.Popen(
            [*command, "-s", str(WRK_SCRIPT), f"http://127.0.0.1:{port}"],
            env={
                **os.environ,
                "REQUESTS": str(listed),
                "THREADS": str(threads),
                "FINISHED": str(finished),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 1800
        while len(finished.read_text().split()) < threads and wrk.poll() is None:
            if time.monotonic() > deadline:  # an answer that never came: wrk only counts it
                wrk.kill()
                raise RuntimeError(f"port {port}: the requests were not all answered in 30 min")
            time.sleep(0.002)
        wrk.send_signal(signal.SIGINT)  # wrk then stops waiting out -d and reports
        stdout, stderr = wrk.communicate(timeout=60)
    said = dict(line.split(" ", 1) for line in stdout.splitlines() if line[:1].isupper())
    statuses = dict(map(int, part.split("=")) for part in said["STATUSES"].split())
    result = dict(part.split("=") for part in said["RESULT"].split())
    TURNED_AWAY[port] = TURNED_AWAY.get(port, 0) + statuses.pop(503, 0)
    failed = {status: n for status, n in statuses.items() if status != 200}
    if failed:
        raise RuntimeError(f"port {port}: statuses {failed} besides 200 ({stderr[:300]})")
    if int(result["socket_errors"]):  # a request lost on a reset is not sent again
        raise RuntimeError(f"port {port}: {result['socket_errors']} socket errors ({stderr[:300]})")
    seconds = float(result["seconds"])
    return statuses.get(200, 0) / seconds, float(result["p50_ms"]), float(result["p99_ms"])


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is needed (the HTTP client of this benchmark): apt-get install wrk")
    return found


def summary(latencies: list[float], elapsed: float) -> tuple[float, float, float]:
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / elapsed, 1000 * statistics.median(latencies), 1000 * p99


def in_process(
    source: ox.Store, queries: list[str], concurrency: int
) -> tuple[float, float, float]:
    """The floor: the same queries answered and serialised in this process, no HTTP."""
    latencies: list[float] = []
    lock = threading.Lock()

    def answer(chunk: list[str]) -> None:
        mine = []
        for query in chunk:
            began = time.perf_counter()
            result = source.query(query)
            if isinstance(result, ox.QuerySolutions):
                result.serialize(format=ox.QueryResultsFormat.JSON)
            elif isinstance(result, ox.QueryTriples):
                ox.serialize(result, format=ox.RdfFormat.TURTLE)
            mine.append(time.perf_counter() - began)
        with lock:
            latencies.extend(mine)

    threads = [
        threading.Thread(target=answer, args=(queries[i::concurrency],)) for i in range(concurrency)
    ]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return summary(latencies, time.perf_counter() - began)


class Cities:
    """City slugs in turn; a new server starts again from the first (its caches are empty)."""

    def __init__(self, slugs: list[str]) -> None:
        self.slugs, self.next, self.asked = slugs, 0, 0

    def take(self, count: int) -> list[str]:
        taken = [self.slugs[(self.next + i) % len(self.slugs)] for i in range(count)]
        self.next += count
        return taken

    def numbered(self, text: str) -> str:
        """The text made unique to this run (a comment), so that no answer cache holds it."""
        self.asked += 1
        return f"{text}\n# request {self.asked}"


WORKLOADS = ("catalogue", "point-cold", "point-warm", "page")


@dataclass
class Plan:
    """What each workload asks, in SPARQL texts (or page paths for a server with pages)."""

    catalogue: list[str]
    cities: Cities
    requests: int
    pages: int

    def texts(self, workload: str) -> list[str]:
        kinds, cities = list(POINT), self.cities
        if workload == "catalogue":
            return self.catalogue * 10
        if workload == "point-warm":  # more: a cell of repeats is over in no time
            return [query_text(kinds[i % 6], cities.slugs[0]) for i in range(5 * self.requests)]
        if workload == "point-cold":
            chosen = cities.take(self.requests)
            return [cities.numbered(query_text(kinds[i % 6], c)) for i, c in enumerate(chosen)]
        return [query_text("describe", c) for c in cities.take(self.pages)]  # for SPARQL peers

    def requests_for(self, target: Target, workload: str) -> list[Request]:
        if workload == "page" and target.pages:
            accept_html = {"Accept": "text/html"}
            slugs = self.cities.take(self.pages)
            return [Request("GET", f"/id/city/{c}.html", None, accept_html) for c in slugs]
        return [sparql(target, text) for text in self.texts(workload)]


Cell = dict[str, "str | int | float"]


def shape(body: bytes) -> str:
    """What a JSON result says, in short: the number of rows, or the boolean."""
    answer = json.loads(body)
    if "boolean" in answer:
        return str(answer["boolean"])
    if "results" not in answer:  # an error (a limit, on a machine too loaded to answer in time)
        return f"no answer: {body[:200]!r}"
    return f"{len(answer['results']['bindings'])} rows"


def answers(target: Target | None, floor: ox.Store, catalogue: list[str]) -> list[str]:
    """Each catalogue query's answer in short, so that the targets are seen to agree."""
    found = []
    for text in catalogue:
        if target is None:
            result = floor.query(text)
            assert isinstance(result, ox.QuerySolutions | ox.QueryBoolean)
            found.append(shape(result.serialize(format=ox.QueryResultsFormat.JSON) or b""))
            continue
        connection = http.client.HTTPConnection("127.0.0.1", target.port, timeout=600)
        sent = sparql(target, text)
        connection.request(sent.method, sent.path, body=sent.body, headers=sent.headers)
        found.append(shape(connection.getresponse().read()))
        connection.close()
    return found


def measure(
    targets: list[Target | None], floor: ox.Store, plans: list[Plan], levels: list[int], rounds: int
) -> list[Cell]:
    """Every workload at every concurrency against every target (None: in-process pyoxigraph),
    the targets in turn within each round: load from elsewhere on the machine falls on all of
    them alike, and the ratios of one run compare like with like. Each target has its own plan
    (its own cursor over the cities: a new server has been asked nothing)."""
    for target in targets:
        if target is not None:  # its workers start on first use: not measured
            run(target.port, [sparql(target, "ASK {}")] * 32, 8)
    cells: list[Cell] = []
    for workload in WORKLOADS:
        for level in levels:
            results: list[list[tuple[float, float, float]]] = [[] for _ in targets]
            for _ in range(rounds):
                for found, target, plan in zip(results, targets, plans, strict=True):
                    if target is None:
                        found.append(in_process(floor, plan.texts(workload), level))
                        continue
                    target.busy = True
                    found.append(run(target.port, plan.requests_for(target, workload), level))
                    target.busy = False
            for found, target in zip(results, targets, strict=True):
                name = target.name if target is not None else "pyoxigraph"
                rate, p50, p99 = (statistics.median(c) for c in zip(*found, strict=True))
                cells.append(
                    {
                        "target": name,
                        "workload": workload,
                        "concurrency": level,
                        "qps": rate,
                        "p50_ms": p50,
                        "p99_ms": p99,
                    }
                )
                print(
                    f"{name:24} {workload:10} c{level:<3} {rate:8.0f} q/s"
                    f"  p50 {p50:8.2f} ms  p99 {p99:8.2f} ms",
                    flush=True,
                )
    return cells


@contextmanager
def prepared(profiles: int, scratch: Path) -> Iterator[tuple[Path, Path, Path, list[str]]]:
    """The synthetic store built by innograph, its dumps unzipped, and Oxigraph's own load."""
    texts, store, data, rocks = (scratch / n for n in ("profiles", "store", "data", "rocksdb"))
    subprocess.run(
        [*INNOGRAPH, "synth", "--cities", str(profiles), "--seed", "11", "--out", str(texts)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*INNOGRAPH, "build", str(texts), "--store", str(store), "--quiet"],
        check=True,
        capture_output=True,
    )
    data.mkdir()
    dumps = (store / "current" / "dumps").resolve()
    for name in ("innograph.nq", "innograph.ttl"):
        subprocess.run(f"gunzip -c {dumps / name}.gz > {data / name}", shell=True, check=True)
    binary = oxigraph_binary()
    for name in ("innograph.nq", "innograph.ttl"):
        subprocess.run(
            [binary, "load", "--location", str(rocks), "--file", str(data / name)],
            check=True,
            capture_output=True,
        )
    slugs = sorted(p.stem for p in texts.glob("*.txt"))
    yield store, data, rocks, slugs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=200)
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=2000, help="per point cell and round")
    parser.add_argument("--json", type=Path, help="write the raw cells here")
    parser.add_argument(
        "--before",
        type=Path,
        help="also serve, as innograph-before, the code of this other checkout (its src/)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="also serve innograph with N gunicorn workers (innograph-wN)",
    )
    parser.add_argument(
        "--memory-copy",
        type=float,
        metavar="MB",
        help="also serve innograph with INNOGRAPH_MEMORY_COPY_MB=MB (innograph-memMB, and"
        " innograph-wN-memMB-nocache with --workers; 0: no copy)",
    )
    parser.add_argument(
        "--long-query",
        metavar="S",
        help="INNOGRAPH_LONG_QUERY_S of the innograph targets (as shipped when not given; 0: a"
        " long query keeps its worker and the others queue, as Oxigraph's server does)",
    )
    args = parser.parse_args()
    if args.long_query is not None:  # every innograph target inherits this environment
        os.environ["INNOGRAPH_LONG_QUERY_S"] = args.long_query
    levels = [int(c) for c in args.concurrency.split(",")]
    if not Path(oxigraph_binary()).exists():
        raise SystemExit("Oxigraph's server is missing: .venv/bin/pip install oxigraph")
    catalogue = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "queries").glob("*.rq"))]
    cells: list[Cell] = []
    memory: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="innograph-peer-") as folder:
        began = time.perf_counter()
        with prepared(args.profiles, Path(folder)) as (store, data, rocks, slugs):
            print(
                f"built and loaded {args.profiles} profiles in {time.perf_counter() - began:.0f} s"
            )
            pages = max(1, len(slugs) // (len(levels) * args.rounds))
            floor = ox.Store.read_only(str(rocks))
            expected = answers(None, floor, catalogue)
            starters: list[Callable[[], Target]] = [
                lambda: innograph(store, True, "innograph"),
                lambda: innograph(store, False, "innograph-nocache"),
            ]
            n, mb = args.workers, args.memory_copy
            if n is not None:
                starters.append(lambda: innograph(store, True, f"innograph-w{n}", workers=n))
                starters.append(lambda: innograph(store, False, f"innograph-w{n}-nocache", n))
            if mb is not None:
                mem = f"mem{mb:g}"
                starters.append(lambda: innograph(store, True, f"innograph-{mem}", None, None, mb))
                starters.append(
                    lambda: innograph(store, False, f"innograph-{mem}-nocache", memory_copy_mb=mb)
                )
                if n is not None:
                    starters.append(
                        lambda: innograph(
                            store, False, f"innograph-w{n}-{mem}-nocache", n, memory_copy_mb=mb
                        )
                    )
            if args.before is not None:
                before = args.before.resolve()
                starters.append(lambda: innograph(store, True, "innograph-before", source=before))
                starters.append(
                    lambda: innograph(store, False, "innograph-before-nocache", source=before)
                )
            starters += [lambda: oxigraph(data, rocks), lambda: oxigraph(data, None)]
            targets: list[Target | None] = [None]
            try:
                for starter in starters:
                    target = starter()
                    targets.append(target)
                    if answers(target, floor, catalogue) != expected:
                        raise SystemExit(f"{target.name} answers the catalogue otherwise")
                plans = [Plan(catalogue, Cities(slugs), args.requests, pages) for _ in targets]
                cells += measure(targets, floor, plans, levels, args.rounds)
            finally:
                for running in targets:
                    if running is not None:
                        running.stop()
                        memory[running.name] = running.peak_pss_mb
                        if TURNED_AWAY.get(running.port):
                            print(f"{running.name}: {TURNED_AWAY[running.port]} answered 503")
    report(cells, memory, levels)
    if args.json:
        args.json.write_text(json.dumps({"cells": cells, "peak_pss_mb": memory}, indent=1))


def report(cells: list[Cell], memory: dict[str, float], levels: list[int]) -> None:
    targets = list(dict.fromkeys(str(c["target"]) for c in cells))
    loads = list(dict.fromkeys(str(c["workload"]) for c in cells))
    qps = {(c["target"], c["workload"], c["concurrency"]): float(c["qps"]) for c in cells}
    print("\n| workload | concurrency | " + " | ".join(targets) + " |")
    print("|---|---:|" + "---:|" * len(targets))
    for load in loads:
        for level in levels:
            row = [f"{qps[(t, load, level)]:,.0f}" for t in targets]
            print(f"| {load} | {level} | " + " | ".join(row) + " |")
    print(
        "| peak PSS, MB | | "
        + " | ".join(f"{memory[t]:,.0f}" if t in memory else "–" for t in targets)
        + " |"
    )
    ours = [t for t in targets if t.startswith("innograph")]
    print("\nqueries/s of each innograph target over each peer's, same run:")
    for mine in ours:
        for peer in ("oxigraph-rocksdb", "oxigraph-memory"):
            for load in loads:
                ratios = [qps[(mine, load, c)] / qps[(peer, load, c)] for c in levels]
                shown = ", ".join(f"c{c} {r:.2f}x" for c, r in zip(levels, ratios, strict=True))
                print(f"  {mine:24} vs {peer:17} {load:10} {shown}")


if __name__ == "__main__":
    main()
