"""A bounded load test of ``innograph serve`` on 127.0.0.1 (issue 15 items 2 and 4).

    .venv/bin/python benchmarks/load_test.py                        # seed; 8, 32, 64 clients; 60 s
    .venv/bin/python benchmarks/load_test.py --seconds 20 --clients 64 --long-query 0 0.25
    .venv/bin/python benchmarks/load_test.py --config "" --config "--threads 32"  # two servers
    .venv/bin/python benchmarks/load_test.py --soak 600 --clients 32  # memory over 10 minutes

Serves a store built from the seed (or ``--profiles N`` synthetic ones) as shipped, and drives
it with keep-alive clients (threads of this process) for ``--seconds`` per cell, each request
drawn from a mixed workload:

* ``lookup``: a SELECT about one statement of a city, numbered so no answer cache helps;
* ``page``: the city's page (``/id/city/<c>.html``), and ``document``: a profile's Turtle;
* ``catalogue``: a catalogue query (``queries/*.rq``), repeated: the answer cache helps;
* ``runaway``: with probability ``--runaway`` (3%), a three-way cross join asked with
  ``timeout=2``: the server kills it at 2 s and answers 503 (``QueryTimeout``).

Per cell and kind: answers, statuses, p50 and p99 in ms. An error is any status but 200, except
the intended ones: 503 for a runaway query cut at its limit or turned away when the pool is full,
429 if throttling is on. ``--config`` (repeated) serves once per configuration and runs each
level's cells on every server in turn, so that they are compared in one run; ``--long-query``
is a shorthand for ``INNOGRAPH_LONG_QUERY_S`` (0: a long query holds its worker, as before).
Peak and final PSS of the server's process tree are sampled every 0.5 s (``--soak`` reports them
per minute).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from peer_bench import free_port, pss_mb, wait_for

ROOT = Path(__file__).resolve().parents[1]
INNOGRAPH = [sys.executable, "-m", "innograph"]
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
INTENDED = {"runaway": {503}}  # statuses a kind may get by design (besides 200 and 429)


def build(profiles: int, scratch: Path) -> Path:
    store = scratch / "store"
    if profiles:
        texts = scratch / "profiles"
        subprocess.run(
            [*INNOGRAPH, "synth", "--cities", str(profiles), "--seed", "11", "--out", str(texts)],
            check=True,
            capture_output=True,
        )
        sources = [str(texts)]
    else:
        sources = [str(ROOT / "data" / "profiles")]
    subprocess.run(
        [*INNOGRAPH, "build", *sources, "--store", str(store), "--quiet"],
        check=True,
        capture_output=True,
    )
    return store


class Server:
    def __init__(self, store: Path, config: str) -> None:
        """``innograph serve`` with CONFIG: ``KEY=VALUE`` words are environment variables (e.g.
        ``INNOGRAPH_QUERY_WORKERS=4``, or ``PYTHONPATH=/tmp/before/src`` for another checkout's
        code), the other words arguments of ``serve`` (e.g. ``--threads 32``)."""
        self.config = config
        self.port = free_port()
        words = config.split()
        env = {**os.environ, **dict(w.split("=", 1) for w in words if "=" in w)}
        self.process = subprocess.Popen(
            [
                *INNOGRAPH,
                "serve",
                "--store",
                str(store),
                "--port",
                str(self.port),
                *(w for w in words if "=" not in w),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(f"http://127.0.0.1:{self.port}/-/ping", self.process)
        self.memory: list[tuple[float, float]] = []  # (seconds since start, PSS MB)
        self._stop = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        start = time.monotonic()
        while not self._stop.wait(0.5):
            self.memory.append((time.monotonic() - start, pss_mb(self.process.pid)))

    def stop(self) -> None:
        self._stop.set()
        self.process.terminate()
        self.process.wait(timeout=30)


def get(connection: http.client.HTTPConnection, path: str, accept: str) -> int:
    connection.request("GET", path, headers={"Accept": accept})
    response = connection.getresponse()
    response.read()
    return response.status


def cities_of(port: int) -> list[str]:
    """Each city with a profile, as "<city path> <profile path>" under /id/."""
    query = "SELECT ?c ?p WHERE { ?p <https://w3id.org/innograph/def/city> ?c }"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(
        "GET",
        "/sparql?" + urllib.parse.urlencode({"query": query}),
        headers={"Accept": "application/sparql-results+json"},
    )
    rows = json.loads(connection.getresponse().read())["results"]["bindings"]
    return [
        f"{row['c']['value'].split('/id/', 1)[1]} {row['p']['value'].split('/id/', 1)[1]}"
        for row in rows
    ]


def requests(
    cities: list[str], catalogue: list[str], runaway: float, seed: int
) -> Iterator[tuple[str, str, str]]:
    """An endless stream of (kind, path, Accept), drawn as the module docstring says."""
    rng = random.Random(seed)
    for number in itertools.count():
        city, profile = rng.choice(cities).split(" ")
        if rng.random() < runaway:
            query = {"query": f"{RUNAWAY} # {seed}-{number}", "timeout": "2"}
            yield "runaway", "/sparql?" + urllib.parse.urlencode(query), "application/json"
            continue
        kind = rng.choice(("lookup", "page", "document", "catalogue"))
        if kind == "lookup":
            text = f"ASK {{ <https://w3id.org/innograph/id/{city}> ?p ?o }} # {seed}-{number}"
            path = "/sparql?" + urllib.parse.urlencode({"query": text})
            yield kind, path, "application/sparql-results+json"
        elif kind == "page":
            yield kind, f"/id/{city}.html", "text/html"
        elif kind == "document":
            yield kind, f"/id/{profile}.ttl", "text/turtle"
        else:
            text = rng.choice(catalogue)
            path = "/sparql?" + urllib.parse.urlencode({"query": text})
            yield kind, path, "application/sparql-results+json"


def cell(
    port: int, clients: int, seconds: float, cities: list[str], runaway: float
) -> dict[str, dict[str, Any]]:
    catalogue = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "queries").glob("*.rq"))]
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, Counter[int]] = defaultdict(Counter)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(seed: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for kind, path, accept in requests(cities, catalogue, runaway, seed):
            if time.monotonic() >= deadline:
                return
            start = time.perf_counter()
            try:
                status = get(connection, path, accept)
            except (OSError, http.client.HTTPException):
                status = 0  # a dropped connection: an error
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            with lock:
                latencies[kind].append(time.perf_counter() - start)
                statuses[kind][status] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kinds = {}
    for kind, found in sorted(latencies.items()):
        ordered = sorted(found)
        errors = sum(
            n
            for s, n in statuses[kind].items()
            if s not in (200, 429) and s not in INTENDED.get(kind, set())
        )
        kinds[kind] = {
            "answers": len(ordered),
            "p50_ms": 1000 * statistics.median(ordered),
            "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
            "statuses": dict(statuses[kind]),
            "errors": errors,
        }
    return kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=0, help="synthetic profiles (0: the seed)")
    parser.add_argument("--clients", default="8,32,64")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--runaway", type=float, default=0.03)
    parser.add_argument(
        "--config",
        action="append",
        help="a server to measure, e.g. 'INNOGRAPH_QUERY_WORKERS=4 --threads 16' (repeat it:"
        " the cells of every server are run in turn, so that the machine's load weighs on all"
        " alike); default: the server as shipped",
    )
    parser.add_argument(
        "--long-query",
        type=float,
        nargs="+",
        default=[],
        help="shorthand: one server per INNOGRAPH_LONG_QUERY_S value",
    )
    parser.add_argument("--soak", type=float, default=0, help="seconds of one long cell instead")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    configs = [*(args.config or []), *(f"INNOGRAPH_LONG_QUERY_S={v:g}" for v in args.long_query)]
    levels = [int(c) for c in args.clients.split(",")]
    seconds = args.soak or args.seconds
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        store = build(args.profiles, Path(scratch))
        servers = [Server(store, config) for config in configs or [""]]
        results = []
        try:
            cities = cities_of(servers[0].port)
            for clients in levels:
                for server in servers:
                    kinds = cell(server.port, clients, seconds, cities, args.runaway)
                    results.append(
                        {
                            "config": server.config or "as shipped",
                            "clients": clients,
                            "seconds": seconds,
                            "load": os.getloadavg()[0],
                            "kinds": kinds,
                        }
                    )
                    report(results[-1])
            for server in servers:
                memory = [mb for _, mb in server.memory]
                print(
                    f"{server.config or 'as shipped'}: PSS {max(memory):.0f} MB peak,"
                    f" {memory[-1]:.0f} MB last"
                )
                if args.soak:
                    for minute in range(int(server.memory[-1][0] // 60) + 1):
                        shown = [
                            mb for t, mb in server.memory if minute * 60 <= t < (minute + 1) * 60
                        ]
                        if shown:
                            print(f"  minute {minute}: PSS {max(shown):.0f} MB")
        finally:
            for server in servers:
                server.stop()
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))


def report(result: dict[str, Any]) -> None:
    print(
        f"\n{result['config']}: {result['clients']} clients, {result['seconds']:g} s,"
        f" load average {result['load']:.1f} at the end"
    )
    print("| kind | answers | p50 ms | p99 ms | statuses | unintended errors |")
    print("|---|---:|---:|---:|---|---:|")
    for kind, found in result["kinds"].items():
        shown = ", ".join(f"{s}: {n}" for s, n in sorted(found["statuses"].items()))
        print(
            f"| {kind} | {found['answers']:,} | {found['p50_ms']:.1f} | {found['p99_ms']:.1f}"
            f" | {shown} | {found['errors']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
