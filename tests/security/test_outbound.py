"""THREATS.md §3b, outbound access (S1–S7): nothing innograph does reaches the network or a file it
was not given, whatever a query, a profile, an RDF file or a shapes file says.

A canary (an HTTP server on 127.0.0.1 that records every request) stands in for the network;
``innograph`` runs as a user runs it (``python -m innograph …``); the web checks go to the
production server. The endpoint's own SERVICE / FROM / LOAD canaries are in
tests/web/test_limits.py; these cover the command line, the build and ``validate``.
"""

from __future__ import annotations

import ast
import gzip
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile import Canary, fetch, seed_with

from conftest import ROOT, SEED, LiveServer, innograph

HOSTNAME = Path("/etc/hostname")

# The classic ten-level "billion laughs": a 1 KB file that expands to 10^9 characters.
BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">\n'
        for n in range(1, 10)
    )
    + ']>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
    ' xmlns:ex="http://example.org/">\n'
    ' <rdf:Description rdf:about="http://example.org/s"><ex:p>&lol9;</ex:p></rdf:Description>\n'
    "</rdf:RDF>\n"
)
XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE r [ <!ENTITY xxe SYSTEM "file:///etc/hostname"> ]>\n'
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
    ' xmlns:ex="http://example.org/">\n'
    ' <rdf:Description rdf:about="http://example.org/s"><ex:p>&xxe;</ex:p></rdf:Description>\n'
    "</rdf:RDF>\n"
)


@pytest.fixture
def canary() -> Iterator[Canary]:
    bird = Canary()
    yield bird
    bird.close()


def hostile_inputs(folder: Path, canary: Canary) -> dict[str, Path]:
    """Files that would make a careless reader dial out or blow up, one per way."""
    files = {
        "context": folder / "context.jsonld",
        "imports-ttl": folder / "imports.ttl",
        "imports-rdf": folder / "imports.rdf",
        "bomb-rdf": folder / "bomb.rdf",
        "xxe-rdf": folder / "xxe.rdf",
        "bomb-as-ttl": folder / "bomb.ttl",
    }
    files["context"].write_text(
        f'{{"@context": "{canary.url}/context.jsonld", "@id": "urn:x:s", "p": "o"}}\n'
    )
    owl = "http://www.w3.org/2002/07/owl#"
    files["imports-ttl"].write_text(
        f"<urn:x:ontology> <{owl}imports> <{canary.url}/imported.ttl> .\n"
    )
    files["imports-rdf"].write_text(
        '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        f' xmlns:owl="{owl}">\n <owl:Ontology rdf:about="urn:x:o">'
        f'<owl:imports rdf:resource="{canary.url}/imported.rdf"/></owl:Ontology>\n</rdf:RDF>\n'
    )
    files["bomb-rdf"].write_text(BILLION_LAUGHS)
    files["xxe-rdf"].write_text(XXE)
    files["bomb-as-ttl"].write_text(BILLION_LAUGHS)
    return files


# --- S1, S2: SERVICE, FROM and LOAD from the command line --------------------------------------


def test_s1_s2_the_query_command_never_dials_out_or_reads_a_file(
    seed_store: Path, canary: Canary
) -> None:
    where = "WHERE { ?s ?p ?o } LIMIT 1"
    refused = {
        f"SELECT * WHERE {{ SERVICE <{canary.url}/sparql> {{ ?s ?p ?o }} }}": "SERVICE",
        f"SELECT * FROM <{canary.url}/g.ttl> {where}": "not a graph of this store",
        f"SELECT * FROM NAMED <{canary.url}/g.ttl> {where}": "not a graph of this store",
        f"SELECT * FROM <file://{HOSTNAME}> {where}": "not a graph of this store",
        f"LOAD <{canary.url}/g.ttl>": "read-only",
    }
    secret = HOSTNAME.read_text().strip() if HOSTNAME.exists() else ""
    for query, word in refused.items():
        done = innograph("query", query, "--store", str(seed_store))
        if word.startswith("not a graph") and done.returncode == 0:
            assert "(0 rows)" in done.stdout, query  # pyoxigraph: a graph it does not hold
            continue
        assert done.returncode != 0, query
        assert word.lower() in done.stderr.lower(), (query, done.stderr)
        if len(secret) > 3:
            assert secret not in done.stdout
    assert canary.silent()


# --- S4, S5, S6: the build reads profile texts only ---------------------------------------------


def test_s4_s5_s6_a_build_among_hostile_files_reads_none_of_them(
    tmp_path: Path, canary: Canary
) -> None:
    """A folder holding the seed (whose source line names the canary) beside JSON-LD with a
    remote context, RDF that imports the canary and entity bombs: the build reads the profile
    text, skips the rest by name, and nothing reaches the canary."""
    folder = tmp_path / "profiles"
    folder.mkdir()
    hostile_inputs(folder, canary)
    text = seed_with({}, first_line=f"# source: {canary.url}/cities/liverpool-city-region")
    (folder / SEED.name).write_text(text, encoding="utf-8")
    (folder / "bomb.txt.gz").write_bytes(gzip.compress(b"Liverpool\n" * 10_000_000))
    start = time.monotonic()
    done = innograph("build", str(folder), "--store", str(tmp_path / "store"))
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - start < 60
    assert "= 1 graph(s) out + 0 rejected + 7 skipped" in done.stdout
    for name in ("context.jsonld", "imports.ttl", "imports.rdf", "bomb.rdf", "bomb.txt.gz"):
        assert name in done.stderr  # skipped, and named
    assert canary.silent()


def test_s7_a_compressed_bomb_named_as_a_profile_is_refused_without_inflating_it(
    tmp_path: Path,
) -> None:
    bomb = tmp_path / "bomb.txt"
    bomb.write_bytes(gzip.compress(b"\0" * 200_000_000))  # 200 KB that inflate to 200 MB
    start = time.monotonic()
    done = innograph("build", str(bomb), "--store", str(tmp_path / "store"))
    assert done.returncode == 2, done.stderr
    assert "bomb.txt:1:" in done.stderr
    assert time.monotonic() - start < 30
    assert not (tmp_path / "store" / "current").exists()


# --- S5, S6: validate reads local RDF in line and Turtle syntaxes only --------------------------


def test_s6_validate_refuses_rdf_xml_and_json_ld_at_once_and_never_expands_an_entity(
    tmp_path: Path, canary: Canary
) -> None:
    files = hostile_inputs(tmp_path, canary)
    for name in ("context", "bomb-rdf", "xxe-rdf", "bomb-as-ttl"):
        start = time.monotonic()
        done = innograph("validate", str(files[name]), timeout=60)
        assert done.returncode == 2, (name, done.stdout, done.stderr)
        assert files[name].name in done.stderr
        assert time.monotonic() - start < 20, name  # refused, not parsed for minutes
        assert "lollol" not in done.stdout + done.stderr
    assert canary.silent()


def test_s5_validate_never_follows_owl_imports_in_the_data(tmp_path: Path, canary: Canary) -> None:
    files = hostile_inputs(tmp_path, canary)
    done = innograph("validate", str(files["imports-ttl"]), str(SEED))
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert canary.silent()


def test_s1_s2_s5_shapes_that_import_query_or_federate_reach_nothing(
    tmp_path: Path, canary: Canary
) -> None:
    """``validate --shapes DIR`` with shapes that import the canary and SPARQL constraints that
    read ``FROM`` it: nothing is fetched; one that holds ``SERVICE``, or that rdflib cannot run
    over one graph (``GRAPH``), is refused with a message (exit 2), never a traceback."""
    shapes = tmp_path / "shapes"
    shutil.copytree(ROOT / "shapes", shapes)
    prefixes = (
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "@prefix ig: <https://w3id.org/innograph/def/> .\n"
    )
    extra = (
        f"<urn:x:shapes> owl:imports <{canary.url}/imported-shapes.ttl> .\n"
        '<urn:x:from> a sh:NodeShape ; sh:targetClass ig:Profile ; sh:name "from" ;\n'
        '  sh:sparql [ sh:message "m" ; sh:select """SELECT $this'
        f" FROM <{canary.url}/from.ttl> FROM NAMED <{canary.url}/named.ttl>"
        ' WHERE { ?this ?p ?o }""" ] .\n'
    )
    sparql_shapes = shapes / "profile-sparql.ttl"
    original = sparql_shapes.read_text() + prefixes
    sparql_shapes.write_text(original + extra)
    done = innograph("validate", str(SEED), "--shapes", str(shapes))
    assert done.returncode in (0, 1), (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    sparql_shapes.write_text(
        original + extra.replace("{ ?this ?p ?o }", "{ GRAPH ?g { ?this ?p ?o } }")
    )
    done = innograph("validate", str(SEED), "--shapes", str(shapes))
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert "shapes could not be applied" in done.stderr
    service = (
        '<urn:x:service> a sh:NodeShape ; sh:targetClass ig:Profile ; sh:name "service" ;\n'
        '  sh:sparql [ sh:message "m" ; sh:select """SELECT $this WHERE {'
        f' SERVICE <{canary.url}/sparql> {{ ?this ?p ?o }} }}""" ] .\n'
    )
    sparql_shapes.write_text(original + extra + service)
    done = innograph("validate", str(SEED), "--shapes", str(shapes))
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "SERVICE" in done.stderr
    assert canary.silent()


def test_s2_rdflib_never_loads_a_graph_a_query_names() -> None:
    """pySHACL runs SHACL-SPARQL on rdflib, whose FROM / LOAD fetch by default: off whenever
    the shapes run (the module that runs them imports pySHACL only then)."""
    import rdflib.plugins.sparql
    from rdflib import RDF, Graph, URIRef

    from innograph.validation.reference import validate_graphs
    from innograph.validation.shapes import load_shapes
    from innograph.vocab import IG

    profile = Graph()
    profile.add((URIRef("urn:x:profile"), RDF.type, IG.Profile))
    rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = True  # as rdflib has it
    try:
        validate_graphs([profile], load_shapes())
        assert rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS is False
    finally:
        rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False


# --- S4: a build with no network, reading only its own files -----------------------------------

# Run as ``python -c AUDITED ALLOWED... -- innograph arguments``: an audit hook (PEP 578) that
# refuses every socket, URL, process and any file opened outside the folders allowed (reading
# the interpreter's own library is allowed too), then the innograph command in this process.
AUDITED = r"""
import os, runpy, sys
split = sys.argv.index("--")
allowed = [os.path.realpath(p) for p in sys.argv[1:split]]
library = [os.path.realpath(p) for p in {sys.base_prefix, sys.prefix, sys.base_exec_prefix}]
refused = []
NETWORK = ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.sendto",
           "socket.bind", "urllib.Request", "http.client.connect", "subprocess.Popen",
           "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork")

def inside(path, roots):
    return any(path == root or path.startswith(root + os.sep) for root in roots)

def hook(event, args):
    if event in NETWORK:
        refused.append(event)
        raise PermissionError(f"audit: {event} refused")
    if event == "open" and not isinstance(args[0], int):
        path = os.path.realpath(os.fsdecode(args[0]))
        mode = str(args[1] or "r")
        writes = any(flag in mode for flag in "wax+")
        if path != "/dev/null" and not inside(path, allowed if writes else allowed + library):
            refused.append(f"open {path} {mode}")
            raise PermissionError(f"audit: open {path} refused")

sys.addaudithook(hook)
sys.argv = ["innograph", *sys.argv[split + 1:]]
try:
    runpy.run_module("innograph", run_name="__main__", alter_sys=True)
finally:
    print("AUDIT REFUSED:", refused, file=sys.stderr)
"""


def audited(allowed: list[Path], *args: str) -> tuple[int, str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", AUDITED, *map(str, allowed), "--", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("AUDIT REFUSED:"))
    return (
        done.returncode,
        done.stdout + done.stderr,
        ast.literal_eval(line.split(":", 1)[1].strip()),
    )


def test_s4_a_build_runs_with_no_network_and_opens_only_its_own_files(
    tmp_path: Path, canary: Canary
) -> None:
    """The build (one worker: the audit hook lives in this process), then ``validate`` of the
    version it made, with every socket refused and every file outside the project and the
    test's folder refused; and the hook does refuse (it is not a test that cannot fail)."""
    folder = tmp_path / "profiles"
    folder.mkdir()
    text = seed_with({}, first_line=f"# source: {canary.url}/cities/liverpool-city-region")
    (folder / SEED.name).write_text(text, encoding="utf-8")
    store = tmp_path / "store"
    allowed = [ROOT, tmp_path]
    code, output, refused = audited(
        allowed, "build", str(folder), "--store", str(store), "--workers", "1"
    )
    assert (code, refused) == (0, []), output
    assert "1 graph(s) out" in output
    code, output, refused = audited(allowed, "validate", "--store", str(store))
    assert (code, refused) == (0, []), output
    # The hook refuses a file outside, and a connection to the canary.
    code, output, refused = audited(allowed, "parse", str(HOSTNAME))
    assert code == 2
    assert refused == [f"open {HOSTNAME.resolve()} r"], output
    assert canary.silent()


# --- S7: compressed request bodies are never inflated ------------------------------------------


@pytest.mark.server
def test_s7_a_gzip_request_body_is_refused_not_inflated(live_server: LiveServer) -> None:
    ask = b"ASK { ?s ?p ?o }"
    for body in (gzip.compress(ask), gzip.compress(ask + b" " * 50_000_000)):
        for content_type in ("application/sparql-query", "application/x-www-form-urlencoded"):
            payload = body if content_type.endswith("query") else b"query=" + body
            reply = fetch(
                live_server.sparql,
                "POST",
                payload,
                {"Content-Type": content_type, "Content-Encoding": "gzip"},
            )
            assert reply.status in (400, 413, 415), (reply.status, reply.body[:200])
            assert b"boolean" not in reply.body  # the query was never read out of the gzip
            assert reply.seconds < 5
    assert fetch(f"{live_server.url}/-/ping").status == 200


@pytest.mark.server
def test_s1_s2_no_page_fetches_an_iri_a_client_names(
    live_server: LiveServer, canary: Canary
) -> None:
    """Pages that take an IRI or a graph (cite, validate, compare, canned queries, documents,
    the endpoint's dataset parameters) look it up in the store, never on the network."""
    target = f"{canary.url}/thing"
    paths = [
        f"/cite?iri={target}",
        f"/cite.json?iri={target}",
        f"/validate?target={target}",
        f"/compare?city={target}",
        f"/queries/cities-by-policy-area?city={target}",
        f"/id/city/liverpool-city-region.ttl?format={target}",
        f"/sparql?query=ASK%7B%7D&default-graph-uri={target}",
        f"/sparql?query=ASK%7B%7D&named-graph-uri={target}",
    ]
    for path in paths:
        reply = fetch(live_server.url + path, headers={"Accept": "text/html"})
        assert reply.status < 500, (path, reply.status, reply.body[:200])
    assert canary.silent()
