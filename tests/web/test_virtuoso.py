"""``--backend-kind virtuoso`` on real Virtuoso servers (Debian ``virtuoso-opensource-7-bin``):
a build loads the idle slot through the bulk loader and switches only once the slot holds
exactly the version; ``serve --backend`` then answers the whole catalogue as the embedded store
does (the same bytes where the order is defined); a failed build changes nothing served;
Virtuoso's quirks (its own default graph, its functions, 1/0 booleans, its silent row cut, its
partial answers at its time limit) never reach a client; a Virtuoso that is down is a 503."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_backend import CATALOGUE, HEAVY, LIMITS, ask, error_of, same_answer

from conftest import SEED, LiveServer, free_port, innograph, start_server, stop_server
from innograph import store
from innograph.pipeline import build
from innograph.query.remote import BackendTimeout, RemoteExecutor
from innograph.query.workers import QueryRequest
from innograph.store.servers import Counts, counts_of
from innograph.store.slots import Backend
from innograph.store.virtuoso import Virtuoso
from innograph.synth import write_synthetic
from innograph.web.prerender import city_pages
from virtuoso_slots import Slot, environment, settings, start_slot, stop_slot

pytestmark = pytest.mark.server
MAX_ROWS = 2000  # the slots' ResultSetMaxRows: above every catalogue answer, below all triples


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[Slot], Path]]:
    load_dir = tmp_path_factory.mktemp("virtuoso-load")
    slots = [start_slot(load_dir, max_rows=MAX_ROWS)]
    try:
        slots.append(start_slot(load_dir, max_rows=MAX_ROWS))
        yield slots, load_dir
    finally:
        for slot in slots:
            stop_slot(slot)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, pair: tuple[list[Slot], Path]) -> Path:
    """The seed and twelve synthetic profiles, built twice with ``--backend``: the first
    version into blue, the second (served) into green."""
    texts = tmp_path_factory.mktemp("virtuoso-texts")
    write_synthetic(texts, 12, 3)
    root = tmp_path_factory.mktemp("virtuoso") / "store"
    for _ in range(2):
        report = build([SEED, texts], root, settings(*pair), pages=city_pages)
        assert report.exit_code == 0, report.rejects
    return root


@pytest.fixture(scope="module")
def fronts(built: Path, pair: tuple[list[Slot], Path]) -> Iterator[tuple[LiveServer, ...]]:
    """The served version twice: embedded, and from its Virtuoso slot."""
    embedded = start_server(built, LIMITS)
    try:
        remote = start_server(built, {**LIMITS, "INNOGRAPH_BACKEND": settings(*pair).backend})
    except BaseException:
        stop_server(embedded)
        raise
    yield embedded, remote
    stop_server(remote)
    stop_server(embedded)


def held(slot: Slot, version: store.Version) -> Counts:
    record = store.slots.held_by(version)
    assert record is not None
    return Virtuoso(slot.url, slot.isql, Path(), "dba", 30).counts(record["graphs"])


def test_two_builds_fill_both_slots_and_switch(built: Path, pair: tuple[list[Slot], Path]) -> None:
    served, before = store.require_current(built), store.previous(built)
    assert before is not None
    local = counts_of(store.open_read_only(served))
    assert local.graphs > 10
    assert held(pair[0][0], before) == held(pair[0][1], served) == local
    record = store.slots.held_by(served)
    assert record is not None
    assert (record["kind"], record["slot"], record["counts"]) == (
        "virtuoso",
        "green",
        local.as_dict(),
    )
    assert json.loads((built / "slots.json").read_text()) == {
        "blue": {"version": before.id, "state": "loaded"},
        "green": {"version": served.id, "state": "loaded"},
    }


@pytest.mark.parametrize("path", CATALOGUE, ids=[p.stem for p in CATALOGUE])
def test_the_catalogue_answers_as_embedded(fronts: tuple[LiveServer, ...], path: Path) -> None:
    query = path.read_text(encoding="utf-8")
    csv = same_answer(fronts, query, "text/csv")
    same_answer(fronts, query, "application/sparql-results+json")
    assert csv.count(b"\r\n") > 1, f"{path.stem}: no rows to compare"


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        # the dataset: the merged default graph and the version's graphs, never Virtuoso's own
        ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "text/csv"),
        (
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
            "application/sparql-results+json",
        ),
        (
            "SELECT (COUNT(*) AS ?n) FROM <https://w3id.org/innograph/graph/ontology>"
            " WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }",
            "text/csv",
        ),
        (
            "SELECT (COUNT(*) AS ?n) FROM NAMED <https://w3id.org/innograph/graph/ontology>"
            " WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }",
            "text/csv",
        ),
        # booleans as true/false, in every format
        ("ASK { ?s a <https://w3id.org/innograph/def/City> }", "application/sparql-results+xml"),
        (
            "ASK { ?s a <https://w3id.org/innograph/def/Nothing> }",
            "application/sparql-results+json",
        ),
        (
            "SELECT ?s ?b WHERE { ?s <https://w3id.org/innograph/def/hasDedicatedTeam> ?b }"
            " ORDER BY ?s",
            "text/csv",
        ),
        ("CONSTRUCT WHERE { ?s a <https://w3id.org/innograph/def/City> }", "text/turtle"),
        (
            "CONSTRUCT { ?s ?p ?o } WHERE { ?s a <https://w3id.org/innograph/def/City> ; ?p ?o }",
            "application/n-quads",
        ),
    ],
)
def test_datasets_formats_and_booleans_as_embedded(
    fronts: tuple[LiveServer, ...], query: str, accept: str
) -> None:
    same_answer(fronts, query, accept)


def test_the_row_caps_as_embedded(fronts: tuple[LiveServer, ...]) -> None:
    """The front's cap (1,000 rows) as embedded; Virtuoso's own (ResultSetMaxRows, 2,000 here),
    which cuts silently but for a header, is told as a truncated answer, never as a whole one."""
    same_answer(fronts, "SELECT ?s ?p WHERE { ?s ?p ?o } ORDER BY ?s ?p", "text/csv")
    executor = RemoteExecutor(fronts[1].store, Backend("virtuoso", (pair_url(fronts),)), 1, 1)
    version = store.require_current(fronts[1].store).id
    answer = executor.run(QueryRequest("SELECT * WHERE { ?s ?p ?o }", "csv", 10**6, version), 30)
    assert (answer.rows, answer.truncated) == (MAX_ROWS, True)


def pair_url(fronts: tuple[LiveServer, ...]) -> str:
    record = store.slots.held_by(store.require_current(fronts[1].store))
    assert record is not None
    return str(record["endpoint"])


def test_answers_with_a_header_per_named_graph_are_read(built: Path) -> None:
    """Virtuoso echoes each named-graph-uri as a header: a version of more than 100 graphs
    (200 profiles: 202) would otherwise be an unreadable answer (Python's http.client)."""
    version = store.require_current(built)
    record = store.slots.held_by(version)
    assert record is not None
    graphs = tuple(record["graphs"]) * (150 // len(record["graphs"]) + 1)
    assert len(graphs) > 150
    executor = RemoteExecutor(built, Backend("virtuoso", (record["endpoint"],)), 1, 1.0)
    query = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    answer = executor.run(QueryRequest(query, "csv", 10, version.id, (), graphs), 30)
    assert answer.body == f"n\r\n{len(record['graphs'])}\r\n".encode()
    slot = Virtuoso(record["endpoint"], "", Path(), "dba", 30)
    assert slot.counts(graphs) == slot.counts(record["graphs"])


def test_virtuoso_functions_are_refused_before_anything_is_sent(
    fronts: tuple[LiveServer, ...],
) -> None:
    for query in (
        "SELECT * WHERE { BIND(<bif:sys_stat>('st_dbms_ver') AS ?x) }",
        "PREFIX b: <BIF:> SELECT * WHERE { BIND(b:sys_stat('st_dbms_ver') AS ?x) }",
        "SELECT * WHERE { ?s <bif:contains> 'x' }",
    ):
        status, _, body = ask(fronts[1], query, "application/sparql-results+json")
        assert status == 400, body
        assert b"is not supported" in body
        assert b"Virtuoso" not in body
    embedded = [
        ask(f, "SELECT * WHERE { BIND(<bif:sys_stat>(1) AS ?x) }", "text/csv") for f in fronts
    ]
    assert embedded[0][::2] == embedded[1][::2]


def test_a_query_virtuoso_cannot_run_is_a_400_without_its_words(
    fronts: tuple[LiveServer, ...],
) -> None:
    """Virtuoso's messages quote the request (and the dataset the front added): never shown."""
    status, _, body = ask(
        fronts[1], "SELECT * WHERE { ?a <urn:x:p>* ?b }", "application/sparql-results+json"
    )
    assert status in (200, 400), body
    if status == 400:
        assert json.loads(body)["error"] == "query: the store server cannot run this query"


def test_virtuosos_partial_answer_at_its_time_limit_is_a_504(built: Path) -> None:
    """Virtuoso answers ``200 OK`` with what it has at the request's time limit (S1TAT): a
    wrong count, unless the front reads it as the timeout it is. At the same limit it may
    instead cancel the statement (500, HY008): a timeout too."""
    version = store.require_current(built)
    record = store.slots.held_by(version)
    assert record is not None
    executor = RemoteExecutor(built, Backend("virtuoso", (record["endpoint"],)), 1, 1.0)
    start = time.monotonic()
    with pytest.raises(BackendTimeout, match="no whole answer within the time limit of 6 s"):
        executor.run(QueryRequest(HEAVY, "csv", 100, version.id), 6)
    assert time.monotonic() - start < 5.5  # Virtuoso's own answer, before the front's deadline


def test_query_answers_from_the_slot_as_embedded(
    built: Path, pair: tuple[list[Slot], Path]
) -> None:
    env = environment(*pair)
    for args in (
        ("city-overview",),
        ("cities-by-policy-area", "--param", "area=health", "--format", "csv"),
        ("ASK { ?s ?p ?o }", "--format", "json"),
    ):
        embedded = innograph("query", *args, "--store", str(built), "--backend", "embedded")
        remote = innograph("query", *args, "--store", str(built), env=env)
        assert embedded.returncode == 0, embedded.stderr
        assert (remote.returncode, remote.stdout) == (0, embedded.stdout), remote.stderr
    for command in ("dump", "validate"):  # the slot is checked to hold the served version
        embedded = innograph(command, "--store", str(built), "--backend", "embedded")
        remote = innograph(command, "--store", str(built), env=env)
        assert (remote.returncode, remote.stdout) == (embedded.returncode, embedded.stdout)
        assert "slot" not in remote.stderr, remote.stderr


def test_a_virtuoso_that_is_down_is_a_503(built: Path) -> None:
    nobody = f"http://127.0.0.1:{free_port()}/sparql"
    front = start_server(built, {**LIMITS, "INNOGRAPH_BACKEND": nobody})
    try:
        status, headers, body, seconds = error_of(front)
    finally:
        stop_server(front)
    assert status == 503
    assert headers["Retry-After"] == "5"
    assert body == {"error": "the store server is unavailable; retry in a moment", "status": 503}
    assert seconds < 3


# --- failed builds: last, as they leave the idle slot (blue) half loaded ---------------------


def test_a_failed_load_changes_nothing_served(
    built: Path, pair: tuple[list[Slot], Path], fronts: tuple[LiveServer, ...]
) -> None:
    served = store.require_current(built)
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"  # one space more each time: no cache
    before = ask(fronts[1], count, "text/csv")[::2]
    assert before[0] == 200
    # blue's SQL port answers no more (a Virtuoso that is down, to its loader)
    slots, load_dir = pair
    env = {**environment(slots, load_dir)}
    env["INNOGRAPH_BACKEND_ISQL"] = f"127.0.0.1:{free_port()},{slots[1].isql}"
    done = innograph("build", "--store", str(built), str(SEED), env=env)
    assert done.returncode == 1, done.stderr
    assert "store server slot blue" in done.stderr
    assert "the served version is unchanged" in done.stderr
    assert "Traceback" not in done.stderr
    assert "dba" not in done.stderr
    assert store.require_current(built).id == served.id
    assert ask(fronts[1], count + " ", "text/csv")[::2] == before
    refused = innograph("rollback", "--store", str(built))
    assert refused.returncode == 2
    assert "slot blue no longer holds version" in refused.stderr
    # a wrong password: isql refuses, and nothing tells the password (Virtuoso shuts out an
    # address after four failed logins for a minute: one here, and none elsewhere)
    env = {**environment(*pair), "INNOGRAPH_BACKEND_PASSWORD": "not-the-password"}
    done = innograph("build", "--store", str(built), str(SEED), env=env)
    assert done.returncode == 1, done.stderr
    assert "not-the-password" not in done.stderr
    assert "the served version is unchanged" in done.stderr
    assert store.require_current(built).id == served.id
    assert ask(fronts[1], count + "  ", "text/csv")[::2] == before


def test_a_build_without_the_loaders_settings_is_refused_before_any_work(
    tmp_path: Path, pair: tuple[list[Slot], Path]
) -> None:
    slots = ",".join(slot.url for slot in pair[0])
    done = innograph("build", "--store", str(tmp_path / "store"), "--backend", slots, str(SEED))
    assert done.returncode == 2
    assert "INNOGRAPH_BACKEND_ISQL" in done.stderr
    assert not (tmp_path / "store" / "current").exists()
