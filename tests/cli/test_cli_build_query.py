"""`innograph build`, `query`, `dump` and `rollback` as a person runs them (real subprocesses)."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import ROOT, SEED, innograph
from innograph.cli import is_loopback

POPULATION = (
    "PREFIX ig: <https://w3id.org/innograph/def/> "
    "SELECT ?population WHERE { ?p ig:populationFigure/ig:population ?population }"
)


def test_build_then_query(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    result = innograph("build", str(SEED), "--store", store, "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("built version ")
    assert "1 file(s) in = 1 graph(s) out + 0 rejected + 0 skipped" in result.stdout
    answer = innograph("query", POPULATION, "--store", store, "--format", "json")
    assert answer.returncode == 0, answer.stderr
    bindings = json.loads(answer.stdout)["results"]["bindings"]
    assert [b["population"]["value"] for b in bindings] == ["1530000"]
    table = innograph("query", POPULATION, "--store", store)
    assert table.stdout.splitlines()[-2:] == ["1530000   ", "(1 row)"]


def test_build_writes_dumps_when_asked(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = innograph("build", str(SEED), "--store", str(tmp_path / "s"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    dumped = innograph("dump", "--store", str(tmp_path / "s"))
    assert (out / "innograph.nq").read_text(encoding="utf-8") == dumped.stdout
    trig = (out / "innograph.trig").read_text(encoding="utf-8")
    assert "<https://w3id.org/innograph/graph/liverpool-city-region> {" in trig
    assert "@prefix ig: <https://w3id.org/innograph/def/> ." in trig
    turtle = innograph("dump", "--format", "turtle", "--store", str(tmp_path / "s"))
    assert turtle.returncode == 0, turtle.stderr
    merged = {str(t) for t in ox.parse(turtle.stdout.encode(), format=ox.RdfFormat.TURTLE)}
    named = ox.parse(dumped.stdout.encode(), format=ox.RdfFormat.N_QUADS)
    assert merged == {str(q.triple) for q in named}  # the merge of the named graphs


def test_a_bad_profile_fails_the_build_and_the_served_version_stays(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    assert innograph("build", str(SEED), "--store", store).returncode == 0
    before = innograph("dump", "--store", store).stdout
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe")
    changed = tmp_path / "liverpool-city-region.txt"
    changed.write_text(SEED.read_text(encoding="utf-8").replace("Steve Rotheram", "Someone Else"))
    result = innograph("build", str(changed), str(bad), "--store", store)
    assert result.returncode == 2
    assert f"{bad}:1: expected UTF-8 text, found the byte 0xff" in result.stderr
    assert "the served version is unchanged" in result.stderr
    assert "Traceback" not in result.stderr
    assert innograph("dump", "--store", store).stdout == before


def test_query_errors_are_one_line(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    missing = innograph("query", "ASK {}", "--store", store)
    assert missing.returncode == 2
    assert "no store version here; run 'innograph build" in missing.stderr
    assert innograph("build", str(SEED), "--store", store).returncode == 0
    syntax = innograph("query", "SELECT ?x WHERE { ?x }", "--store", store)
    assert syntax.returncode == 2
    assert syntax.stderr.startswith("query: expected a SPARQL query")
    assert len(syntax.stderr.strip().splitlines()) == 1
    unfinished = innograph("query", "SELECT ?x WHERE {", "--store", store)
    assert unfinished.stderr == (
        "query: expected a SPARQL query (error at 1:18: expected one of"
        ' "$", "\'", "\'\'\'", "(", "+", "-", ".", ":", "<", "<<", "<<(", "?", "[", "\\"",'
        ' "\\"\\"\\"", "_:", "false", "true", "{", "}", a digit, a letter, "_")\n'
    )


def test_a_graph_the_store_does_not_hold_is_refused_as_the_endpoint_refuses_it(
    tmp_path: Path,
) -> None:
    """FROM <elsewhere> would read as an empty graph and answer nothing, silently."""
    store = str(tmp_path / "store")
    assert innograph("build", str(SEED), "--store", store).returncode == 0
    ours = "https://w3id.org/innograph/graph/liverpool-city-region"
    for graph in ("http://127.0.0.1:9/elsewhere", "file:///etc/passwd"):
        text = f"SELECT * FROM <{graph}> WHERE {{ ?s ?p ?o }} LIMIT 1"
        refused = innograph("query", text, "--store", store)
        assert refused.returncode == 2
        assert refused.stderr == (
            f"dataset: {graph} is not a graph of this store; FROM and FROM NAMED may only"
            " name the store's own graphs\n"
        )
    text = f"SELECT (COUNT(*) AS ?n) FROM <{ours}> WHERE {{ ?s ?p ?o }}"
    answered = innograph("query", text, "--store", store, "--format", "csv")
    assert answered.returncode == 0
    assert int(answered.stdout.split()[-1]) > 0


def test_build_defaults_to_data_profiles(tmp_path: Path) -> None:
    root = ROOT
    result = innograph("build", "--store", str(tmp_path / "s"), cwd=root)
    assert result.returncode == 0, result.stderr
    assert "1 file(s) in" in result.stdout


def test_unknown_path_is_a_usage_error(tmp_path: Path) -> None:
    result = innograph("build", str(tmp_path / "nope"), "--store", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip() == f"{tmp_path / 'nope'}: no such file or folder"


def test_rollback(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    nothing = innograph("rollback", "--store", store)
    assert nothing.returncode == 2
    assert innograph("build", str(SEED), "--store", store).returncode == 0
    only_one = innograph("rollback", "--store", store)
    assert only_one.returncode == 2
    assert "no previous version" in only_one.stderr
    changed = tmp_path / "liverpool-city-region.txt"
    changed.write_text(SEED.read_text(encoding="utf-8").replace("1,530,000", "1,600,000"))
    assert innograph("build", str(changed), "--store", store).returncode == 0
    assert "1600000" in innograph("query", POPULATION, "--store", store).stdout
    assert innograph("rollback", "--store", store).returncode == 0
    assert "1530000" in innograph("query", POPULATION, "--store", store).stdout


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("[::1]", True), ("LocalHost", True),
     ("0.0.0.0", False), ("10.1.2.3", False), ("example.org", False)],
)  # fmt: skip
def test_only_loopback_addresses_count_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_development_server_refuses_a_public_address(tmp_path: Path) -> None:
    assert (
        innograph("build", str(SEED), "--store", str(tmp_path / "store"), "--quiet").returncode == 0
    )
    result = innograph("serve", "--store", str(tmp_path / "store"), "--dev", "--host", "0.0.0.0")
    assert result.returncode == 2
    assert "--host: 0.0.0.0 with --dev" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_trusted_host_that_is_a_url_is_refused(tmp_path: Path) -> None:
    assert (
        innograph("build", str(SEED), "--store", str(tmp_path / "store"), "--quiet").returncode == 0
    )
    result = innograph(
        "serve",
        "--store",
        str(tmp_path / "store"),
        env={"INNOGRAPH_TRUSTED_HOSTS": "https://sparql.example.org"},
    )
    assert result.returncode == 2
    assert "trusted_hosts: expected host names" in result.stderr
    assert "Traceback" not in result.stderr
