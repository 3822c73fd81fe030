"""The dumps and counts a version keeps: what they hold is the store's, their sums verify, and a
rebuild links the parts of graphs it did not change."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import SEED, built_store
from innograph import store

NQUADS, TRIG, TURTLE = ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG, ox.RdfFormat.TURTLE


def unzipped(version: store.Version, name: str) -> bytes:
    return gzip.decompress((version.path / "dumps" / name).read_bytes())


def statements(data: bytes, fmt: ox.RdfFormat) -> set[str]:
    return {str(statement) for statement in ox.parse(data, format=fmt)}


@pytest.fixture(scope="module")
def version(seed_store: Path) -> store.Version:
    return store.require_current(seed_store)


def test_the_nquads_dump_is_every_named_graph_sorted(
    version: store.Version, seed_graph: ox.Store
) -> None:
    dumped = unzipped(version, "innograph.nq.gz")
    everything = seed_graph.dump(format=NQUADS)  # pyoxigraph's own dump: the reference
    assert everything is not None
    named = ox.parse(everything, format=NQUADS)
    expected = {str(q) for q in named if not isinstance(q.graph_name, ox.DefaultGraph)}
    assert statements(dumped, NQUADS) == expected
    assert len(dumped.splitlines()) == len(expected)  # no statement twice
    graphs = [line.rsplit(b" ", 2)[1] for line in dumped.splitlines()]
    assert graphs == sorted(graphs)  # graphs in IRI order ...
    for graph in set(graphs):
        lines = [line for line in dumped.splitlines() if line.rsplit(b" ", 2)[1] == graph]
        assert lines == sorted(lines)  # ... and lines sorted within each


def test_trig_holds_the_named_graphs_and_turtle_the_merged_graph(
    version: store.Version, seed_graph: ox.Store
) -> None:
    nquads = statements(unzipped(version, "innograph.nq.gz"), NQUADS)
    assert statements(unzipped(version, "innograph.trig.gz"), TRIG) == nquads
    merged = seed_graph.quads_for_pattern(None, None, None, ox.DefaultGraph())
    assert statements(unzipped(version, "innograph.ttl.gz"), TURTLE) == {
        str(quad.triple) for quad in merged
    }


def test_the_sums_verify_with_sha256sum(version: store.Version, tmp_path: Path) -> None:
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum is missing: apt-get install coreutils")
    folder = version.path / "dumps"
    done = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(b": OK") == 3
    copy = tmp_path / "tampered"
    copy.mkdir()
    for path in folder.iterdir():
        if path.is_file():
            shutil.copy(path, copy / path.name)
    with (copy / "innograph.ttl.gz").open("ab") as stream:
        stream.write(gzip.compress(b"<urn:x> <urn:y> <urn:z> .\n"))
    done = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=copy, capture_output=True)
    assert done.returncode != 0
    assert b"innograph.ttl.gz: FAILED" in done.stdout


def test_the_counts_kept_are_the_stores(version: store.Version, seed_graph: ox.Store) -> None:
    counted = store.statistics.read(version.path)
    assert counted is not None
    merged = list(seed_graph.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    assert counted["totals"]["triples"] == len(merged)
    assert counted["totals"]["distinctSubjects"] == len({q.subject for q in merged})
    classes = dict(counted["classes"])
    assert classes["https://w3id.org/innograph/def/City"] == 1
    assert sum(n for _, n in counted["properties"]) == counted["totals"]["triples"]


def test_a_rebuild_links_the_parts_of_unchanged_graphs(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    shutil.copy(SEED, profiles / SEED.name)
    other = profiles / "other-city.txt"
    other.write_text(SEED.read_text(encoding="utf-8").replace("1,530,000", "1,000,001"))
    root = built_store([profiles], tmp_path / "store")
    first = store.require_current(root)
    other.write_text(other.read_text(encoding="utf-8").replace("1,000,001", "1,000,002"))
    second = store.require_current(built_store([profiles], root))
    parts = {p.name: p for p in (second.path / "dumps" / "parts").iterdir()}
    old = {p.name: p for p in (first.path / "dumps" / "parts").iterdir()}
    assert parts.keys() == old.keys()
    shared = {name for name in parts if parts[name].samefile(old[name])}
    assert len(shared) == len(parts) - 3  # the changed graph's three parts are new, the rest linked
    assert b"1000002" in unzipped(second, "innograph.nq.gz")
    assert b"1000001" not in unzipped(second, "innograph.nq.gz")
