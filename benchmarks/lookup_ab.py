"""Compare the single-IRI lookup latency of two revisions, interleaved in one run.

    .venv/bin/python benchmarks/lookup_ab.py REV --store DIR [--rounds 20] [--iris 100]

The lookup overhead is close to its 2 ms target and this machine is shared: between two full
runs of ``endpoint_bench.py`` the background load alone can move it by half a millisecond. To
tell whether a change costs anything, this serves the same store from two servers at once, one
running REV (a ``git worktree`` of it, put first on ``PYTHONPATH``) and one running the working
tree, and sends them the same lookups (``SELECT ?p ?o WHERE { <city> ?p ?o }``, answer cache
off) in alternating rounds, so that the machine's load hits both alike. Prints the p50 and p99
of each and their difference. DIR is a store both revisions can read (``innograph build``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITIES = "SELECT ?c WHERE { ?c a <https://w3id.org/innograph/def/City> } ORDER BY ?c LIMIT %d"


def serve(store: Path, port: int, source: Path | None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "INNOGRAPH_RESULT_CACHE_BYTES": "1"}  # every lookup reaches a worker
    if source is not None:
        env["PYTHONPATH"] = str(source / "src")
    command = [sys.executable, "-m", "innograph", "serve", "--store", str(store)]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ping", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"the server on port {port} did not start")


def lookup(connection: http.client.HTTPConnection, iri: str) -> float:
    """One lookup on a keep-alive connection, in ms."""
    path = "/sparql?query=" + urllib.parse.quote(f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}")
    start = time.perf_counter()
    connection.request("GET", path, headers={"Accept": "application/sparql-results+json"})
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        raise SystemExit(f"lookup of {iri} answered {response.status}")
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the revision to compare the working tree with")
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--iris", type=int, default=100)
    parser.add_argument("--ports", default="18601,18602")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="innograph-ab-") as scratch:
        tree = Path(scratch) / "rev"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(tree), args.rev],
            check=True,
        )
        first, second = (int(p) for p in args.ports.split(","))
        servers = {
            args.rev: serve(args.store, first, tree),
            "working tree": serve(args.store, second, None),
        }
        try:
            ports = {args.rev: first, "working tree": second}
            url = f"http://127.0.0.1:{second}/sparql?query=" + urllib.parse.quote(
                CITIES % args.iris
            )
            request = urllib.request.Request(
                url, headers={"Accept": "application/sparql-results+json"}
            )
            with urllib.request.urlopen(request) as reply:
                iris = [row["c"]["value"] for row in json.load(reply)["results"]["bindings"]]
            connections = {
                name: http.client.HTTPConnection("127.0.0.1", port) for name, port in ports.items()
            }
            times: dict[str, list[float]] = {name: [] for name in ports}
            for name in ports:  # warm both
                for iri in iris[:20]:
                    lookup(connections[name], iri)
            for round_ in range(args.rounds):
                order = list(ports) if round_ % 2 == 0 else list(reversed(ports))
                for name in order:
                    times[name] += [lookup(connections[name], iri) for iri in iris]
        finally:
            for process in servers.values():
                process.terminate()
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False
            )
    p50 = {name: statistics.median(values) for name, values in times.items()}
    print(
        f"{len(iris)} city IRIs x {args.rounds} rounds, alternating;"
        f" load average {os.getloadavg()[0]:.1f}"
    )
    print("| server | p50 ms | p99 ms |\n|---|---:|---:|")
    for name, values in times.items():
        ranked = sorted(values)
        print(f"| {name} | {p50[name]:.3f} | {ranked[int(0.99 * (len(ranked) - 1))]:.3f} |")
    print(f"\nworking tree minus {args.rev} at p50: {p50['working tree'] - p50[args.rev]:+.3f} ms")


if __name__ == "__main__":
    main()
