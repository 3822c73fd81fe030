"""Store versions: atomic promotion, failed and killed builds, incremental = full, readers."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pyoxigraph as ox
import pytest

import innograph
from conftest import SEED
from innograph import store
from innograph.pipeline import build as build_store
from innograph.query.local import run_query
from innograph.settings import Settings

POPULATIONS = (
    "PREFIX ig: <https://w3id.org/innograph/def/> SELECT ?p ?n WHERE"
    " { ?p ig:populationFigure/ig:population ?n } ORDER BY ?p"
)


def copies(folder: Path, count: int) -> Path:
    """The seed under other file names: each is a city of its own."""
    folder.mkdir(parents=True, exist_ok=True)
    text = SEED.read_text(encoding="utf-8")
    for index in range(count):
        (folder / f"city-{index:03d}.txt").write_text(
            text.replace("1,530,000", f"{1_000_000 + index:,}"), encoding="utf-8"
        )
    return folder


def populations(root: Path) -> list[tuple[str, str]]:
    served = store.open_read_only(store.require_current(root))
    return [(row["p"].value, row["n"].value) for row in run_query(served, POPULATIONS)]  # type: ignore[union-attr]


def test_a_violation_fails_the_build_and_the_previous_version_serves(tmp_path: Path) -> None:
    root = tmp_path / "store"
    assert build_store([SEED], root, Settings()).exit_code == 0
    served = store.require_current(root).id
    twin = tmp_path / "liverpool-city-region--copy.txt"
    shutil.copy(SEED, twin)
    report = build_store([SEED, twin], root, Settings())
    assert report.exit_code == 1
    assert any("one profile per city per wave" in r or "also by" in r for r in report.rejects), (
        report.rejects
    )
    assert store.require_current(root).id == served
    assert not list((root / "versions").glob(".building-*"))


def test_killing_a_build_midway_leaves_the_served_version_intact(tmp_path: Path) -> None:
    root = tmp_path / "store"
    assert build_store([SEED], root, Settings()).exit_code == 0
    before = store.dump(store.require_current(root))
    profiles = copies(tmp_path / "many", 150)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "innograph",
            "build",
            str(profiles),
            "--store",
            str(root),
            "--workers",
            "1",
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not list((root / "versions").glob(".building-*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert store.dump(store.require_current(root)) == before
    assert populations(root) == [
        ("https://w3id.org/innograph/id/profile/liverpool-city-region/2020", "1530000")
    ]
    assert build_store([SEED], root, Settings()).exit_code == 0
    assert not list((root / "versions").glob(".building-*"))


def cli_build(profiles: Path, root: Path, out: Path, hash_seed: str) -> None:
    """``innograph build --out`` in a process of its own, with its own string hashing."""
    command = [sys.executable, "-m", "innograph", "build", str(profiles), "--store", str(root)]
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([*command, "--out", str(out)], env=env, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr


def test_incremental_build_equals_a_full_build(tmp_path: Path) -> None:
    """Byte for byte, in both dump formats, whatever the order of hashing in each process."""
    profiles = copies(tmp_path / "profiles", 12)
    incremental, full = tmp_path / "incremental", tmp_path / "full"
    cli_build(profiles, incremental, tmp_path / "first", "1")
    changed = profiles / "city-005.txt"
    changed.write_text(changed.read_text(encoding="utf-8").replace("John Whaling", "Jo Other"))
    (profiles / "city-007.txt").unlink()
    report = build_store([profiles], incremental, Settings())
    assert (report.exit_code, report.reused, report.graphs_out) == (0, 10, 11)
    store.write_dumps(store.require_current(incremental), tmp_path / "incremental-out")
    cli_build(profiles, full, tmp_path / "full-out", "2")
    for name in (store.NQUADS_NAME, store.TRIG_NAME):
        dumped = (tmp_path / "incremental-out" / name).read_bytes()
        assert dumped == (tmp_path / "full-out" / name).read_bytes(), name
        assert b"Jo Other" in dumped
    assert store.dump(store.require_current(incremental), "trig") == dumped
    published = [store.require_current(root).path / "dumps" for root in (incremental, full)]
    names = sorted(path.name for path in published[0].iterdir() if path.is_file())
    assert names == ["SHA256SUMS", "innograph.nq.gz", "innograph.trig.gz", "innograph.ttl.gz"]
    for name in names:
        assert (published[0] / name).read_bytes() == (published[1] / name).read_bytes(), name


def test_the_trig_dump_holds_the_same_statements_as_the_nquads_dump(seed_store: Path) -> None:
    """Lexical forms too: rdflib's TriG writer once turned "24"^^xsd:decimal into 24.0."""
    version = store.require_current(seed_store)
    nquads = ox.parse(store.dump(version, "nquads"), format=ox.RdfFormat.N_QUADS)
    trig = ox.parse(store.dump(version, "trig"), format=ox.RdfFormat.TRIG)
    statements = sorted(map(str, nquads))
    assert statements == sorted(map(str, trig))
    assert any('"24"^^<http://www.w3.org/2001/XMLSchema#decimal>' in s for s in statements)


def test_dumps_are_world_readable(tmp_path: Path) -> None:
    cli_build(SEED, tmp_path / "store", tmp_path / "out", "0")
    for name in (store.NQUADS_NAME, store.TRIG_NAME):
        assert stat.S_IMODE((tmp_path / "out" / name).stat().st_mode) == 0o644, name


def test_the_default_graph_is_the_union_of_the_named_graphs(
    seed_graph: ox.Store, seed_nquads: bytes
) -> None:
    """The build loads each graph into the default graph as it goes; the union computed after
    the fact from the dump is the same graph, each triple once."""
    union = ox.Store()
    union.load(seed_nquads, format=ox.RdfFormat.N_QUADS)
    store.graphs.materialise_union(union)

    def default_graph(source: ox.Store) -> list[str]:
        return sorted(str(q) for q in source.quads_for_pattern(None, None, None, ox.DefaultGraph()))

    served = default_graph(seed_graph)
    assert served == default_graph(union)
    assert len(served) == len(set(served)) > 1000


def test_a_reader_keeps_its_version_while_another_is_promoted(tmp_path: Path) -> None:
    root = tmp_path / "store"
    assert build_store([SEED], root, Settings()).exit_code == 0
    reader = store.open_read_only(store.require_current(root))
    changed = tmp_path / "liverpool-city-region.txt"
    changed.write_text(SEED.read_text(encoding="utf-8").replace("1,530,000", "2,000,000"))
    assert build_store([changed], root, Settings()).exit_code == 0
    old = [row["n"].value for row in run_query(reader, POPULATIONS)]  # type: ignore[union-attr]
    assert old == ["1530000"]
    assert [n for _, n in populations(root)] == ["2000000"]
    previous = store.previous(root)
    assert previous is not None
    assert store.rollback(root).id == previous.id


def test_the_python_api_answers_like_the_store(tmp_path: Path) -> None:
    root = tmp_path / "store"
    assert build_store([copies(tmp_path / "p", 3)], root, Settings()).exit_code == 0
    with warnings.catch_warnings():  # rdflib 7.6's Dataset.query uses its own deprecated API
        warnings.simplefilter("ignore", DeprecationWarning)
        rows = [(str(p), str(n)) for p, n in innograph.open_graph(root).query(POPULATIONS)]
    assert rows == populations(root)
    assert len(rows) == 3


def test_no_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(store.StoreError, match="no store version here"):
        innograph.open_graph(tmp_path)
