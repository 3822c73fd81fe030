"""Dereferencing throughput: city documents (HTML and Turtle) beside DESCRIBE over /sparql.

    .venv/bin/python benchmarks/deref_bench.py                  # 1,000 synthetic profiles
    .venv/bin/python benchmarks/deref_bench.py --cities 200     # a quicker look

Builds a store of synthetic profiles (``innograph synth --seed 11``), serves it with
``innograph serve`` as shipped (2 web workers, 2 query workers each), once with the answer
cache on and once with it off (``INNOGRAPH_RESULT_CACHE_BYTES=1``), and fetches, at concurrency
1 and 8 over keep-alive connections:

* ``/id/city/<c>.html`` and ``/id/city/<c>.ttl``: the documents a linked-data client follows;
* ``DESCRIBE <city IRI>`` over ``/sparql`` in Turtle: what a client could ask instead.

"cold" requests name a different city each time (no cache can help); "warm" requests repeat one
city (its first request in the cell's round warms it). Each cell is the median over 3 rounds of
requests/s and of p50 / p99 latency, all in one run, so ratios compare like with like on a shared
machine.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

INNOGRAPH = [sys.executable, "-m", "innograph"]
BASE = "https://w3id.org/innograph/id/city/"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(store: Path, cache: bool) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ} if cache else {**os.environ, "INNOGRAPH_RESULT_CACHE_BYTES": "1"}
    command = [*INNOGRAPH, "serve", "--store", str(store), "--port", str(port)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ping", timeout=1).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("innograph serve did not start")


def paths(kind: str, cities: list[str]) -> list[str]:
    if kind == "describe":
        return [
            "/sparql?" + urllib.parse.urlencode({"query": f"DESCRIBE <{BASE}{c}>", "format": "ttl"})
            for c in cities
        ]
    return [f"/id/city/{c}.{kind}" for c in cities]


def run(port: int, targets: list[str], concurrency: int) -> tuple[float, float, float]:
    """Requests/s, p50 and p99 in ms, for every target fetched once, by ``concurrency`` clients."""
    latencies: list[float] = []
    lock = threading.Lock()
    chunks = [targets[i::concurrency] for i in range(concurrency)]

    def client(chunk: list[str]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for target in chunk:
            start = time.perf_counter()
            connection.request("GET", target, headers={"Accept-Encoding": "identity"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{target}: {response.status}")
            mine.append(time.perf_counter() - start)
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(chunk,)) for chunk in chunks]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / elapsed, 1000 * statistics.median(latencies), 1000 * p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=50, help="per cell and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="innograph-deref-") as folder:
        scratch = Path(folder)
        texts, store = scratch / "profiles", scratch / "store"
        subprocess.run(
            [
                *INNOGRAPH,
                "synth",
                "--cities",
                str(args.cities),
                "--seed",
                "11",
                "--out",
                str(texts),
            ],
            check=True,
            capture_output=True,
        )
        started = time.perf_counter()
        subprocess.run(
            [*INNOGRAPH, "build", str(texts), "--store", str(store), "--quiet"],
            check=True,
            capture_output=True,
        )
        print(f"built {args.cities} profiles in {time.perf_counter() - started:.1f} s")
        cities = sorted(p.stem for p in texts.glob("*.txt"))
        print("| cache | request | kind | concurrency | requests/s | p50 ms | p99 ms |")
        print("|---|---|---|---:|---:|---:|---:|")
        for cache in (False, True):
            process, port = serve(store, cache)
            try:
                # start every web worker's query workers (they start on first use), unmeasured
                warm_up = "/sparql?" + urllib.parse.urlencode({"query": "ASK {}"})
                run(port, [warm_up] * 32, 8)
                for k, kind in enumerate(("html", "ttl", "describe")):
                    for warmth in ("cold", "warm"):
                        for c, concurrency in enumerate((1, 8)):
                            rows = []
                            for round_ in range(args.rounds):
                                # cold: cities no earlier cell of this server has asked for
                                cell = (k * 2 + c) * args.rounds + round_
                                start = cell * args.requests % len(cities)
                                picked = cities[start : start + args.requests]
                                if warmth == "warm":
                                    picked = [cities[0]] * args.requests
                                rows.append(run(port, paths(kind, picked), concurrency))
                            rate, p50, p99 = (statistics.median(c) for c in zip(*rows, strict=True))
                            print(
                                f"| {'on' if cache else 'off'} | {warmth} | {kind} |"
                                f" {concurrency} | {rate:,.0f} | {p50:.2f} | {p99:.2f} |",
                                flush=True,
                            )
            finally:
                process.terminate()
                process.wait(timeout=30)


if __name__ == "__main__":
    main()
