"""Record what one installed innograph gives a user, to diff two revisions after a refactor.

A refactor promises no behaviour change; this shows it. Run it once per revision (each in its
own virtual environment) over the same inputs, then compare the folders::

    python benchmarks/same_output.py --innograph OLD/.venv/bin/innograph --inputs IN --out OLD.out
    python benchmarks/same_output.py --innograph NEW/.venv/bin/innograph --inputs IN --out NEW.out
    python benchmarks/same_output.py --compare OLD.out NEW.out

The first run writes the inputs (the seed, the real fragments split into headed pages and
flattened renderings, and 200 synthetic profiles) unless ``--inputs`` already holds them. For
each data set it records the build's output, ``dump`` (N-Quads and TriG), ``validate``, every
catalogue query in every CLI format, ``parse --json`` / ``--coverage``, and, from ``serve`` over
real HTTP, the catalogue in every answer format, the service description, the query page and
some refusals. Store version ids (timestamps) and the server's port are replaced.

``--compare`` lists the files that differ; for a dump that differs in bytes it also says whether
both hold the same RDF (the same statements in the same graphs).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRAGMENTS = ROOT.parent / "shared" / "profiles" / "fragments"
VERSION_ID = re.compile(rb"\d{8}T\d{6}\.\d{6}Z-\d+")
PORT = re.compile(rb"127\.0\.0\.1:\d+")
SOLUTION_FORMATS = ("json", "xml", "csv", "tsv")
GRAPH_FORMATS = ("ttl", "nt", "nq", "trig", "jsonld", "rdf")
SERVICE_QUERY = "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"
HEADERS = ("Content-Type", "Vary", "Cache-Control", "X-Result-Rows", "X-Result-Truncated")


def prepare_inputs(innograph: str, inputs: Path) -> None:
    if inputs.is_dir():
        return
    seed, headed, flat = inputs / "seed", inputs / "headed", inputs / "flat"
    for folder in (seed, headed, flat):
        folder.mkdir(parents=True)
    shutil.copy(ROOT / "data" / "profiles" / "liverpool-city-region.txt", seed)
    shutil.copy(ROOT / "data" / "profiles" / "liverpool-city-region.txt", headed)
    for path in sorted(FRAGMENTS.glob("*.txt")):
        shutil.copy(path, flat if path.stem.endswith("--flat") else headed)
    run([innograph, "synth", "--cities", "200", "--seed", "7", "--out", str(inputs / "synth")])


def run(command: list[str], stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
    done = subprocess.run(command, input=stdin, capture_output=True, check=False)
    return done.returncode, done.stdout, done.stderr


def record(out: Path, name: str, result: tuple[int, bytes, bytes]) -> None:
    code, stdout, stderr = result
    (out / f"{name}.out").write_bytes(VERSION_ID.sub(b"VERSION", stdout))
    (out / f"{name}.err").write_bytes(
        VERSION_ID.sub(b"VERSION", stderr) + f"exit {code}\n".encode()
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str, headers: dict[str, str], data: bytes | None = None) -> bytes:
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, got, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, got, body = error.code, error.headers, error.read()
    head = [f"status {status}"] + [f"{h}: {got[h]}" for h in HEADERS if got[h] is not None]
    answer = VERSION_ID.sub(b"VERSION", "\n".join(head).encode() + b"\n\n" + body)
    return PORT.sub(b"127.0.0.1:PORT", answer)


def http(innograph: str, store: Path, out: Path) -> None:
    port = free_port()
    env = {**os.environ, "INNOGRAPH_QUERY_WORKERS": "1"}
    command = [innograph, "serve", "--store", str(store), "--port", str(port), "--workers", "1"]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/-/ping", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        folder = out / "http"
        folder.mkdir()
        plain = {"Accept-Encoding": "identity"}
        for path in sorted((ROOT / "queries").glob("*.rq")):
            text = path.read_text(encoding="utf-8")
            graph = re.search(r"^\s*(CONSTRUCT|DESCRIBE)", text, re.MULTILINE | re.IGNORECASE)
            for fmt in GRAPH_FORMATS if graph else SOLUTION_FORMATS:
                query = urllib.parse.urlencode({"query": text, "format": fmt})
                body = fetch(f"{base}/sparql?{query}", plain)
                (folder / f"{path.stem}.{fmt}").write_bytes(body)
        asks = {
            "sd.ttl": ("/sparql", {"Accept": "text/turtle"}),
            "sd.jsonld": ("/sparql", {"Accept": "application/ld+json"}),
            "page.html": ("/sparql", {"Accept": "text/html"}),
            "bad-syntax": ("/sparql?query=SELEKT", {}),
            "update": ("/sparql?update=CLEAR%20ALL", {}),
            "not-acceptable": ("/sparql?query=ASK%7B%7D", {"Accept": "text/csv"}),
            "service": (
                "/sparql?query="
                + urllib.parse.quote("SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"),
                {},
            ),
            "unknown-path": ("/nope", {}),
        }
        for name, (path, headers) in asks.items():
            (folder / name).write_bytes(fetch(base + path, {**plain, **headers}))
    finally:
        server.terminate()
        server.wait(timeout=30)


def statements(path: Path) -> list[str]:
    """A dump's statements as sorted N-Quads lines, whatever the syntax and spacing."""
    import pyoxigraph as ox

    syntax = ox.RdfFormat.TRIG if "trig" in path.name else ox.RdfFormat.N_QUADS
    quads = ox.parse(path.read_bytes(), format=syntax)
    return sorted(str(quad) for quad in quads)


def compare(old: Path, new: Path) -> int:
    """Print each file that differs; 0 when the only differences are dumps of the same RDF."""
    names = sorted({p.relative_to(old) for p in old.rglob("*") if p.is_file()})
    names += sorted({p.relative_to(new) for p in new.rglob("*") if p.is_file()} - set(names))
    worse = 0
    for name in names:
        a, b = old / name, new / name
        if a.is_file() and b.is_file() and a.read_bytes() == b.read_bytes():
            continue
        if a.is_file() and b.is_file() and name.name.startswith("dump-"):
            same = statements(a) == statements(b)
            note = ""
            if name.name.startswith("dump-trig"):  # does each TriG hold its own N-Quads dump?
                faithful = [
                    statements(side / name) == statements(side / name.with_name("dump-nquads.out"))
                    for side in (old, new)
                ]
                note = f" (TriG = N-Quads: old {faithful[0]}, new {faithful[1]})"
            print(f"{name}: bytes differ, {'same' if same else 'DIFFERENT'} RDF{note}")
            worse += not same
        else:
            print(f"{name}: differs")
            worse += 1
    print(f"{len(names)} files, {worse} with a difference that is not a dump of the same RDF")
    return 1 if worse else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("OLD", "NEW"))
    parser.add_argument("--innograph", help="the innograph command to record")
    parser.add_argument("--inputs", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.compare:
        sys.exit(compare(*args.compare))
    if not (args.innograph and args.inputs and args.out):
        parser.error("give --innograph, --inputs and --out (or --compare OLD NEW)")
    innograph = args.innograph
    prepare_inputs(innograph, args.inputs)
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    sets = {name: args.inputs / name for name in ("seed", "headed", "flat", "synth")}
    for name, folder in sets.items():
        out = args.out / name
        out.mkdir()
        store = args.out / f".store-{name}"
        files = sorted(str(p) for p in folder.glob("*.txt"))
        started = time.perf_counter()
        record(
            out,
            "build",
            run(
                [
                    innograph,
                    "build",
                    str(folder),
                    "--store",
                    str(store),
                    "--quiet",
                    "--workers",
                    "2",
                ]
            ),
        )
        print(f"{name}: built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        for fmt in ("nquads", "trig"):
            record(
                out, f"dump-{fmt}", run([innograph, "dump", "--format", fmt, "--store", str(store)])
            )
        if name == "synth":
            continue
        record(out, "parse-json", run([innograph, "parse", "--json", *files]))
        record(out, "parse-coverage", run([innograph, "parse", "--coverage", *files]))
        record(out, "parse-summary", run([innograph, "parse", *files]))
        record(
            out, "validate", run([innograph, "validate", "--store", str(store), "--allow-warnings"])
        )
        record(
            out,
            "validate-json",
            run([innograph, "validate", "--format", "json", "--store", str(store)]),
        )
        for path in sorted((ROOT / "queries").glob("*.rq")):
            for fmt in ("table", "csv", "json"):
                command = [innograph, "query", str(path), "--format", fmt, "--store", str(store)]
                record(out, f"query-{path.stem}-{fmt}", run(command))
        if name == "headed":
            http(innograph, store, out)
    for name in sets:
        shutil.rmtree(args.out / f".store-{name}", ignore_errors=True)
    print(json.dumps({"out": str(args.out)}))


if __name__ == "__main__":
    main()
