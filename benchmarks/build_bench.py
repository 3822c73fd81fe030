"""Benchmark the build pipeline on synthetic profiles: medians of 3 runs per size.

    .venv/bin/python benchmarks/build_bench.py [--sizes 1,100,1000,10000] [--runs 3]

Each run is a fresh process building a fresh store, so caches and memory start cold. Prints a
Markdown table (phases in seconds, per-profile cost, peak memory) and the incremental rebuild
after one profile changed among 1,000; also pySHACL's per-graph cost beside the compiled gate.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, resource, sys, time
from pathlib import Path
from innograph.pipeline import build as build_store
from innograph.settings import Settings
from innograph.web.prerender import city_pages
start = time.perf_counter()
report = build_store([Path(sys.argv[1])], Path(sys.argv[2]), Settings(), workers=int(sys.argv[3]),
                     pages=city_pages)
total = time.perf_counter() - start
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
           resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"exit": report.exit_code, "total": total, "peak_mb": peak / 1024,
                  "reused": report.reused, **report.timings}))
"""


def run_build(profiles: Path, store: Path, workers: int) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(profiles), str(store), str(workers)],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(result.stdout.strip().splitlines()[-1])
    if data["exit"] != 0:
        raise SystemExit(f"build failed on {profiles}: {result.stderr[-2000:]}")
    return data


def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run.get(key, 0.0) for run in runs)


def synth(folder: Path, cities: int) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "innograph",
            "synth",
            "--cities",
            str(cities),
            "--seed",
            "11",
            "--out",
            str(folder),
        ],
        check=True,
        capture_output=True,
    )
    return folder


def full_builds(scratch: Path, sizes: list[int], runs: int, workers: int) -> list[str]:
    rows = [
        "| profiles | parse+map | load | validate (gate) | city pages | promote | total"
        " | per profile | peak memory |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        profiles = synth(scratch / f"p{size}", size)
        results = []
        for run in range(runs):
            store = scratch / f"s{size}-{run}"
            results.append(run_build(profiles, store, workers))
            shutil.rmtree(store)
        total = median(results, "total")
        rows.append(
            f"| {size:,} | {median(results, 'parse+map'):.2f} | {median(results, 'load'):.2f} |"
            f" {median(results, 'validate'):.2f} | {median(results, 'pages'):.2f} |"
            f" {median(results, 'promote'):.2f} |"
            f" {total:.2f} | {1000 * total / size:.1f} ms | {median(results, 'peak_mb'):.0f} MB |"
        )
        print(rows[-1], flush=True)
    return rows


def incremental(scratch: Path, runs: int, workers: int) -> str:
    profiles = synth(scratch / "inc", 1000)
    store = scratch / "inc-store"
    run_build(profiles, store, workers)
    timings = []
    target = sorted(profiles.glob("*.txt"))[0]
    for run in range(runs):
        text = target.read_text(encoding="utf-8")
        target.write_text(
            text.replace("\n\nVision and approach", f"\n\nChange {run}.\n\nVision and approach", 1),
            encoding="utf-8",
        )
        timings.append(run_build(profiles, store, workers))
    return (
        f"incremental rebuild, 1 of 1,000 changed: median total {median(timings, 'total'):.2f} s"
        f" (reused {int(median(timings, 'reused'))}, validate {median(timings, 'validate'):.2f} s,"
        f" load {median(timings, 'load'):.2f} s, pages {median(timings, 'pages'):.2f} s)"
    )


def gate_versus_pyshacl(scratch: Path) -> str:
    """pySHACL per profile graph (the reference) beside the compiled gate on the same graphs."""
    from innograph.pipeline import build as build_store
    from innograph.settings import Settings
    from innograph.store import dump, open_read_only, require_current
    from innograph.validation.gate import compile_shapes, run_checks
    from innograph.validation.inputs import graphs_from_nquads
    from innograph.validation.reference import validate_graphs
    from innograph.validation.shapes import load_shapes

    profiles = synth(scratch / "cmp", 20)
    store = scratch / "cmp-store"
    build_store([profiles], store, Settings())
    shapes = load_shapes()
    graphs = graphs_from_nquads(dump(require_current(store)))
    start = time.perf_counter()
    validate_graphs(graphs, shapes)
    pyshacl = (time.perf_counter() - start) / 20
    served = open_read_only(require_current(store))
    checks = compile_shapes(shapes.per_graph) + compile_shapes(shapes.dataset)
    start = time.perf_counter()
    run_checks(served, checks)
    gate = (time.perf_counter() - start) / 20
    return (
        f"validation per profile on 20 profiles: pySHACL {1000 * pyshacl:.0f} ms,"
        f" compiled gate {1000 * gate:.1f} ms (ratio {pyshacl / gate:.0f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1,100,1000,10000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="innograph-bench-") as folder:
        scratch = Path(folder)
        print(gate_versus_pyshacl(scratch), flush=True)
        print(incremental(scratch, args.runs, args.workers), flush=True)
        rows = full_builds(scratch, sizes, args.runs, args.workers)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
