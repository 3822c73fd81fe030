"""Throughput with one and with two read replicas of the served slot (issue 16, item 5), in the
deployment of docs/deploy.md.

    .venv/bin/python benchmarks/replica_bench.py [--profiles 100] [--concurrency 4,16]
        [--requests 400] [--rounds 3] [--json FILE]

Everything runs on 127.0.0.1: three Oxigraph servers (slot blue: two replicas; slot green: one),
``innograph build --backend 'BLUE1|BLUE2,GREEN'`` of ``--profiles`` synthetic cities (so both
blue replicas hold the version), two ``innograph serve --backend`` fronts behind HAProxy, the
fronts reading blue through a second HAProxy section that balances over its replicas. Each round
measures, with wrk (peer_bench's client and request lists), the point queries of peer_bench
(every text new, so no answer cache helps), at each concurrency:

* ``stack``: through HAProxy to the fronts (what a user sees);
* ``replicas``: at the replicas' section directly (the store servers alone);

first with one replica (the second put in maintenance through HAProxy's runtime API), then with
two. Each cell is the median of ``--rounds`` rounds: queries/s, p50 and p99 in ms. On one
machine the replicas share its cores: a second replica adds servers, not cores, so what this
measures there is the balancing's cost or gain; on separate hosts it adds cores too.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from peer_bench import (
    INNOGRAPH,
    POINT,
    TURNED_AWAY,
    Cities,
    Request,
    accept,
    free_port,
    oxigraph_binary,
    query_text,
    run,
)

CONFIG = """\
global
    tune.bufsize 81920
    maxconn 1000
    stats socket {folder}/admin.sock mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout check 2s
    option http-buffer-request
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response junk-response response-timeout 502
    default-server inter 1s fall 2 rise 2

frontend www
    bind 127.0.0.1:{www}
    default_backend fronts

backend fronts
    balance leastconn
    option httpchk
    http-check send meth GET uri /-/ping
    server front1 127.0.0.1:{front1} check
    server front2 127.0.0.1:{front2} check

frontend slot_blue
    bind 127.0.0.1:{blue}
    default_backend replicas_blue

backend replicas_blue
    balance leastconn
    option httpchk
    http-check send meth GET uri /query?query=ASK%7B%7D ver HTTP/1.1 hdr Host localhost
    server blue1 127.0.0.1:{blue1} check
    server blue2 127.0.0.1:{blue2} check
"""


def started(command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def answering(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def runtime_api(folder: Path, command: str) -> str:
    """One command to HAProxy's runtime API (its admin socket)."""
    with socket.socket(socket.AF_UNIX) as admin:
        admin.connect(str(folder / "admin.sock"))
        admin.sendall(command.encode() + b"\n")
        return admin.recv(65536).decode()


def stopping(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def requests_for(path: str, cities: Cities, count: int) -> list[Request]:
    """``count`` point queries about cities in turn, each text new (a numbered comment)."""
    kinds = list(POINT)
    listed = []
    for index, city in enumerate(cities.take(count)):
        query = cities.numbered(query_text(kinds[index % len(kinds)], city))
        headers = {"Content-Type": "application/sparql-query", "Accept": accept(query)}
        listed.append(Request("POST", path, query.encode(), headers))
    return listed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=100)
    parser.add_argument("--concurrency", default="4,16")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    levels = [int(level) for level in args.concurrency.split(",")]
    haproxy = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/sbin")
    if haproxy is None:
        raise SystemExit("haproxy is needed: apt-get install haproxy")
    with ExitStack() as cleanup:
        folder = Path(tempfile.mkdtemp(prefix="innograph-replica-bench-"))
        cleanup.callback(shutil.rmtree, folder, ignore_errors=True)
        ports = {n: free_port() for n in ("www", "blue", "front1", "front2")}
        endpoints = {}
        for name in ("blue1", "blue2", "green"):
            ports[name] = free_port()
            server = started(
                [
                    *(oxigraph_binary(), "serve", "--location", str(folder / name)),
                    *("--bind", f"127.0.0.1:{ports[name]}", "--timeout-s", "60"),
                ]
            )
            cleanup.callback(stopping, server)
            endpoints[name] = f"http://127.0.0.1:{ports[name]}/query"
            answering(endpoints[name] + "?query=ASK%7B%7D")
        texts, store = folder / "profiles", folder / "store"
        subprocess.run(
            [*INNOGRAPH, "synth", "--cities", str(args.profiles), "--seed", "11", "--out", texts],
            check=True,
            capture_output=True,
        )
        backend = f"{endpoints['blue1']}|{endpoints['blue2']},{endpoints['green']}"
        began = time.monotonic()
        subprocess.run(
            [*INNOGRAPH, "build", str(texts), "--store", str(store), "--backend", backend],
            check=True,
            capture_output=True,
        )
        print(
            f"built {args.profiles} cities into both blue replicas in"
            f" {time.monotonic() - began:.1f} s",
            flush=True,
        )
        slots = f"http://127.0.0.1:{ports['blue']}/query,{endpoints['green']}"
        for name in ("front1", "front2"):
            front = started(
                [
                    *INNOGRAPH,
                    "serve",
                    "--store",
                    str(store),
                    "--port",
                    str(ports[name]),
                    "--workers",
                    "1",
                    "--access-log",
                    "off",
                ],
                {
                    "INNOGRAPH_BACKEND": slots,
                    "INNOGRAPH_QUERY_WORKERS": str(max(levels)),
                    "INNOGRAPH_QUERY_BUDGET_S_PER_MIN": "0",
                },
            )
            cleanup.callback(stopping, front)
            answering(f"http://127.0.0.1:{ports[name]}/-/ping")
        (folder / "haproxy.cfg").write_text(CONFIG.format(folder=folder, **ports))
        balancer = started([haproxy, "-db", "-f", str(folder / "haproxy.cfg")])
        cleanup.callback(stopping, balancer)
        answering(f"http://127.0.0.1:{ports['www']}/-/ping")
        slugs = sorted(p.stem for p in texts.glob("*.txt"))
        cities = Cities(slugs)
        cells: dict[str, list[tuple[float, float, float]]] = {}
        for _ in range(args.rounds):
            for replicas in (1, 2):
                state = "disable" if replicas == 1 else "enable"
                runtime_api(folder, f"{state} server replicas_blue/blue2")
                time.sleep(2.5)  # an enabled server is checked UP again (rise 2, inter 1 s)
                for level in levels:
                    for layer, port, path in (
                        ("stack", ports["www"], "/sparql"),
                        ("replicas", ports["blue"], "/query"),
                    ):
                        listed = requests_for(path, cities, args.requests)
                        key = f"{layer} replicas={replicas} c={level}"
                        cells.setdefault(key, []).append(run(port, listed, level))
                        print(
                            key,
                            "{:.0f} q/s, p50 {:.1f} ms, p99 {:.1f} ms".format(*cells[key][-1]),
                            flush=True,
                        )
        print(
            f"\nmedians of {args.rounds} rounds, {args.requests} point queries per cell"
            f" ({args.profiles} cities):"
        )
        summary = {}
        for key, found in cells.items():
            median = tuple(statistics.median(cell[i] for cell in found) for i in range(3))
            summary[key] = median
            print(
                f"  {key:28} {median[0]:7.0f} q/s  p50 {median[1]:6.1f} ms  p99 {median[2]:7.1f} ms"
            )
        if any(TURNED_AWAY.values()):
            print(f"answered 503 (busy), by port: {TURNED_AWAY}")
        if args.json:
            args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
