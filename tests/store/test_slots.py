"""Versions in store server slots (``innograph.store.slots``), on real Oxigraph servers: a build
loads the idle slot and switches ``current`` only once the slot holds exactly the version; a
failed build (a profile that cannot be read, a slot that is down) changes nothing served; a
rollback switches only to a version its slot still holds."""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph
import pytest

from conftest import SEED, innograph
from innograph import store
from innograph.errors import UsageError
from innograph.pipeline import build
from innograph.settings import Settings
from innograph.store.servers import Counts, Oxigraph, counts_of
from innograph.store.slots import Backend, SlotLoadError
from oxigraph_slots import ABSENT, OXIGRAPH, Slot, backend, start_slot, stop_slot

pytestmark = pytest.mark.server


@pytest.fixture
def pair() -> Iterator[list[Slot]]:
    slots = [start_slot(), start_slot()]
    yield slots
    for slot in slots:
        stop_slot(slot)


def built(root: Path, slots: list[Slot], paths: list[Path] | None = None) -> str:
    return built_on(root, backend(*slots), paths)


def built_on(root: Path, servers: str, paths: list[Path] | None = None) -> str:
    report = build(paths or [SEED], root, Settings(backend=servers))
    assert report.exit_code == 0, report.rejects
    return report.version


def slot_counts(slot: Slot) -> Counts:
    return Oxigraph(slot.url, 10).counts()


def test_a_build_loads_the_idle_slot_then_switches(tmp_path: Path, pair: list[Slot]) -> None:
    root = tmp_path / "store"
    first = built(root, pair)
    local = counts_of(store.open_read_only(store.require_current(root)))
    assert local.quads > 0
    assert slot_counts(pair[0]) == local
    assert slot_counts(pair[1]) == Counts(0, 0, 0)
    record = json.loads((root / "versions" / first / "backend.json").read_text())
    assert record["slot"] == "blue"
    assert record["counts"] == local.as_dict()

    second = built(root, pair)
    assert store.require_current(root).id == second
    assert store.previous(root) == store.version_at(root, first)
    assert slot_counts(pair[1]) == local  # the same profile: the same counts, in green
    assert json.loads((root / "slots.json").read_text()) == {
        "blue": {"version": first, "state": "loaded"},
        "green": {"version": second, "state": "loaded"},
    }


def test_a_build_that_fails_to_read_or_gate_touches_no_slot(
    tmp_path: Path, pair: list[Slot]
) -> None:
    root = tmp_path / "store"
    served = built(root, pair)
    before = (root / "slots.json").read_bytes()
    broken = tmp_path / "broken.txt"
    broken.write_text("This is no profile.\n", encoding="utf-8")
    done = innograph("build", "--store", str(root), "--backend", backend(*pair), str(broken))
    assert done.returncode == 2, done.stderr
    assert "the served version is unchanged" in done.stderr
    assert (root / "slots.json").read_bytes() == before
    assert slot_counts(pair[1]) == Counts(0, 0, 0)  # the idle slot was never touched
    assert store.require_current(root).id == served
    # a profile that reads but violates a shape: the gate stops it on the local draft
    violating = tmp_path / SEED.name
    text = SEED.read_text(encoding="utf-8")
    violating.write_text(text.replace("Along with 50% of", "Along with 150% of"), encoding="utf-8")
    gated = innograph("build", "--store", str(root), "--backend", backend(*pair), str(violating))
    assert gated.returncode == 1, gated.stderr
    assert "A share must be a single decimal percentage from 0 to 100" in gated.stderr
    assert (root / "slots.json").read_bytes() == before
    assert slot_counts(pair[1]) == Counts(0, 0, 0)
    assert store.require_current(root).id == served


def test_a_slot_down_fails_the_build_and_blocks_only_rollback(
    tmp_path: Path, pair: list[Slot]
) -> None:
    root = tmp_path / "store"
    first = built(root, pair)
    second = built(root, pair)
    # rollback and back again, while both slots hold their versions
    assert store.rollback(root).id == first
    assert store.rollback(root).id == second
    stop_slot(pair[0])  # blue, the idle slot, holds the previous version
    done = innograph("build", "--store", str(root), "--backend", backend(*pair), str(SEED))
    assert done.returncode == 1, done.stderr
    assert "store server slot blue" in done.stderr
    assert "the served version is unchanged" in done.stderr
    assert "Traceback" not in done.stderr
    assert store.require_current(root).id == second
    assert slot_counts(pair[1]).quads > 0  # green still serves it
    assert sorted(p.name for p in (root / "versions").iterdir()) == sorted([first, second])
    slots = json.loads((root / "slots.json").read_text())
    assert slots["blue"]["state"].startswith("loading ")
    refused = innograph("rollback", "--store", str(root))
    assert refused.returncode == 2
    assert f"slot blue no longer holds version {first}" in refused.stderr
    assert store.require_current(root).id == second


def test_dump_and_validate_check_the_slot_holds_the_version(
    tmp_path: Path, pair: list[Slot]
) -> None:
    root = tmp_path / "store"
    built(root, pair)
    dumped = innograph("dump", "--store", str(root), "--backend", backend(*pair))
    assert dumped.returncode == 0, dumped.stderr
    assert dumped.stdout == store.dump(store.require_current(root)).decode()
    extra = b"<urn:x:a> <urn:x:b> <urn:x:c> <urn:x:g> .\n"
    sent = urllib.request.Request(
        pair[0].url.removesuffix("/query") + "/store",
        extra,
        {"Content-Type": "application/n-quads"},
        method="POST",
    )
    urllib.request.urlopen(sent, timeout=10).close()
    for command in ("dump", "validate"):
        done = innograph(command, "--store", str(root), "--backend", backend(*pair))
        assert done.returncode == 2, done.stderr
        assert "slot blue holds" in done.stderr, done.stderr


def test_one_endpoint_serves_but_cannot_build(tmp_path: Path, pair: list[Slot]) -> None:
    with pytest.raises(UsageError, match="atomic versions need two store server slots"):
        build([SEED], tmp_path / "store", Settings(backend=pair[0].url))
    assert not (tmp_path / "store" / "current").exists()


def test_the_kind_is_told_by_the_path_or_asked_for() -> None:
    found = Backend.from_settings(Settings(backend="http://127.0.0.1:8890/sparql"))
    assert found is not None
    assert found.kind == "virtuoso"
    with pytest.raises(UsageError, match="the path does not tell the server's kind"):
        Backend.from_settings(Settings(backend="http://127.0.0.1:8890/"))
    done = innograph("query", "ASK {}", "--backend", "http://127.0.0.1:1/q", "--backend-kind", "x")
    assert done.returncode == 2
    assert "--backend-kind" in done.stderr


def test_counts_are_asked_of_the_slot_over_http(pair: list[Slot]) -> None:
    query = urllib.parse.urlencode({"update": "INSERT DATA { <urn:x:a> <urn:x:b> 1 }"})
    urllib.request.urlopen(
        pair[1].url.removesuffix("/query") + "/update", query.encode(), timeout=10
    ).close()
    assert slot_counts(pair[1]) == Counts(1, 0, 0)


def test_the_server_is_the_embedded_engines_version() -> None:
    """Byte-identical answers rest on one engine: the test extra pins oxigraph to pyoxigraph's
    version; a drift between the two fails here, not as a puzzling difference in answers."""
    if not OXIGRAPH.is_file():
        pytest.skip(ABSENT)
    said = subprocess.run([str(OXIGRAPH), "--version"], capture_output=True, text=True, check=True)
    assert said.stdout.split() == ["oxigraph", pyoxigraph.__version__]


def test_query_answers_from_the_slot_as_embedded(tmp_path: Path, pair: list[Slot]) -> None:
    root = tmp_path / "store"
    built(root, pair)
    for args in (
        ("city-overview",),
        ("cities-by-policy-area", "--param", "area=health", "--format", "csv"),
        ("ASK { ?s ?p ?o }", "--format", "json"),
        ("CONSTRUCT WHERE { ?c a <https://w3id.org/innograph/def/City> }",),
    ):
        embedded = innograph("query", *args, "--store", str(root))
        remote = innograph("query", *args, "--store", str(root), "--backend", backend(*pair))
        assert embedded.returncode == 0, embedded.stderr
        assert (remote.returncode, remote.stdout) == (0, embedded.stdout), remote.stderr
    stop_slot(pair[0])  # blue holds the served version
    down = innograph("query", "ASK {}", "--store", str(root), "--backend", backend(*pair))
    assert down.returncode == 1
    assert down.stderr == "the store server is unavailable; retry in a moment\n"


def test_serve_refuses_a_version_in_no_slot(tmp_path: Path, pair: list[Slot]) -> None:
    root = tmp_path / "store"
    assert build([SEED], root, Settings()).exit_code == 0  # embedded only
    done = innograph("serve", "--store", str(root), "--port", "1", "--backend", backend(*pair))
    assert done.returncode == 2
    assert "is in no store server slot; build it with innograph build --backend" in done.stderr


class Liar:
    """An HTTP server on 127.0.0.1 that reads every request, answers each one 200 and every
    count 7: a slot that takes a version and then does not hold it."""

    SEVEN = b'{"head":{"vars":["n"]},"results":{"bindings":[{"n":{"type":"literal","value":"7"}}]}}'

    def __init__(self) -> None:
        hits: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(Liar.SEVEN)))
                self.end_headers()
                self.wfile.write(Liar.SEVEN)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.hits = hits
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/query"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def test_a_slot_that_loses_data_fails_the_count_check(tmp_path: Path, pair: list[Slot]) -> None:
    liar = Liar()
    root = tmp_path / "store"
    try:
        served = build([SEED], root, Settings()).version  # embedded: blue is the idle slot
        with pytest.raises(SlotLoadError, match=r"store server slot blue .* not loaded: it holds"):
            build([SEED], root, Settings(backend=f"{liar.url},{pair[1].url}"))
    finally:
        liar.close()
    assert liar.hits == ["/update", "/store", "/query", "/query", "/query"]
    assert store.require_current(root).id == served
    assert json.loads((root / "slots.json").read_text())["blue"]["state"].startswith("loading ")


def test_a_build_of_a_store_in_slots_must_say_where(tmp_path: Path, pair: list[Slot]) -> None:
    """Once versions live in slots, a build that names no backend would promote a version no
    slot holds, and every front serving from the slots would answer 503: it is refused."""
    root = tmp_path / "store"
    served = built(root, pair)
    unsaid = innograph("build", "--store", str(root), str(SEED))
    assert unsaid.returncode == 2
    assert "live in store server slots (slots.json); give --backend BLUE,GREEN" in unsaid.stderr
    assert store.require_current(root).id == served
    embedded = innograph("build", "--store", str(root), "--backend", "embedded", str(SEED))
    assert embedded.returncode == 0, embedded.stderr
    assert store.slots.held_by(store.require_current(root)) is None


def test_a_build_loads_every_replica_of_the_idle_slot(tmp_path: Path) -> None:
    """A slot given as replicas (``A|B``) is loaded and counted on each; with one replica down
    the build fails, names it, and changes nothing served; a front refuses replicas (it reads
    a slot through one load balancer)."""
    slots = [start_slot() for _ in range(3)]
    blue, green = f"{slots[0].url}|{slots[1].url}", slots[2].url
    root = tmp_path / "store"
    try:
        first = built_on(root, f"{blue},{green}")
        local = counts_of(store.open_read_only(store.require_current(root)))
        assert [slot_counts(slot) for slot in slots] == [local, local, Counts(0, 0, 0)]
        record = json.loads((root / "versions" / first / "backend.json").read_text())
        assert (record["slot"], record["replicas"], record["endpoint"]) == ("blue", 2, blue)
        validated = innograph("validate", "--store", str(root), "--backend", f"{blue},{green}")
        assert validated.returncode == 0, validated.stderr  # each blue replica counted
        second = built_on(root, f"{blue},{green}")  # into green; blue, idle, keeps the first
        stop_slot(slots[1])
        done = innograph("build", "--store", str(root), "--backend", f"{blue},{green}", str(SEED))
        assert done.returncode == 1, done.stderr
        assert f"store server slot blue ({slots[1].url}): version" in done.stderr
        assert "the served version is unchanged" in done.stderr
        assert "Traceback" not in done.stderr
        assert store.require_current(root).id == second
        assert slot_counts(slots[2]) == local  # green still serves it
        assert json.loads((root / "slots.json").read_text())["blue"]["state"].startswith("loading")
        refused = innograph("rollback", "--store", str(root))
        assert refused.returncode == 2
        assert f"slot blue no longer holds version {first}" in refused.stderr
        with pytest.raises(UsageError, match="serve and query read each slot through one"):
            Backend.from_settings(Settings(backend=f"{blue},{green}")).endpoint("blue")
    finally:
        for slot in slots:
            stop_slot(slot)


def test_replicas_must_each_be_an_endpoint() -> None:
    with pytest.raises(ValueError, match="a slot's replicas joined by \\|"):
        Settings(backend="http://127.0.0.1:1/query|nothing,http://127.0.0.1:2/query")
    done = innograph("query", "ASK {}", "--backend", "http://127.0.0.1:1/query||")
    assert done.returncode == 2
    assert "not ''" in done.stderr


def test_replicas_of_a_virtuoso_slot_are_refused_before_any_work(tmp_path: Path) -> None:
    """Virtuoso's bulk loader is reached through one SQL port per slot: a slot of replicas
    could not be loaded whole, so the build says so at once."""
    settings = Settings(
        backend="http://127.0.0.1:1/sparql|http://127.0.0.1:2/sparql,http://127.0.0.1:3/sparql",
        backend_kind="virtuoso",
        backend_isql="127.0.0.1:11,127.0.0.1:13",
        backend_load_dir=str(tmp_path),
    )
    backend = Backend.from_settings(settings)
    assert backend is not None
    with pytest.raises(UsageError, match="replicas of a Virtuoso slot are not supported"):
        backend.check_loadable()
