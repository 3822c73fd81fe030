"""``innograph serve --backend`` over Oxigraph's server answers as the embedded store does: the
whole catalogue (the same bytes where the order is defined, the same rows otherwise), every
format, the row cap, gzip and the truncation headers; and a store server that is down, too slow,
or failing gives a JSON 503 (with Retry-After), 504 or 502, never a hang."""

from __future__ import annotations

import gzip
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from conftest import (
    LIVE_MAX_RESULT_BYTES,
    ROOT,
    Canary,
    LiveServer,
    free_port,
    start_server,
    stop_server,
)
from innograph import store
from innograph.query.remote import BackendTimeout, RemoteExecutor
from innograph.query.workers import QueryRequest
from innograph.store.servers import Oxigraph
from innograph.store.slots import Backend
from oxigraph_slots import backend, start_slot, stop_slot

LIMITS = {
    "INNOGRAPH_QUERY_TIMEOUT_S": "5",
    "INNOGRAPH_MAX_ROWS": "1000",
    "INNOGRAPH_MAX_RESULT_BYTES": str(LIVE_MAX_RESULT_BYTES),
    "INNOGRAPH_QUERY_BUDGET_S_PER_MIN": "0",
}
CATALOGUE = sorted((ROOT / "queries").glob("*.rq"))
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.fixture(scope="module")
def fronts(backend_store: Path, oxigraph_pair: list[Any]) -> Iterator[tuple[LiveServer, ...]]:
    """The same version served twice: embedded, and from its Oxigraph slot."""
    embedded = start_server(backend_store, LIMITS)
    try:
        remote = start_server(
            backend_store, {**LIMITS, "INNOGRAPH_BACKEND": backend(*oxigraph_pair)}
        )
    except BaseException:
        stop_server(embedded)
        raise
    yield embedded, remote
    stop_server(remote)
    stop_server(embedded)


def ask(
    server: LiveServer, query: str, accept: str, gzipped: bool = False
) -> tuple[int, dict[str, str], bytes]:
    headers = {"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"}
    if gzipped:
        headers["Accept-Encoding"] = "gzip"
    body = urllib.parse.urlencode({"query": query}).encode()
    sent = urllib.request.Request(server.sparql, body, headers, method="POST")
    try:
        with urllib.request.urlopen(sent, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


SHOWN = ("Content-Type", "Content-Encoding", "X-Result-Rows", "X-Result-Truncated")
GRAPHS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}


def same_answer(fronts: tuple[LiveServer, ...], query: str, accept: str, **kw: Any) -> bytes:
    """The answer of both fronts, checked equal: status, the headers that describe the answer,
    and the bytes (as a multiset of rows or triples when the query orders nothing)."""
    (status, headers, body), (status2, headers2, body2) = (
        ask(f, query, accept, **kw) for f in fronts
    )
    assert status == 200, body[:300]
    assert status2 == 200, body2[:300]
    assert {h: headers.get(h) for h in SHOWN} == {h: headers2.get(h) for h in SHOWN}
    if body == body2:
        return body
    assert "ORDER BY" not in query.upper(), "an ordered answer differs"
    if accept == "text/csv":
        assert sorted(body.splitlines()) == sorted(body2.splitlines())
    elif accept in GRAPHS:
        assert triples_of(body, accept) == triples_of(body2, accept)
    else:
        assert rows_of(body) == rows_of(body2)
    return body


def rows_of(body: bytes) -> list[str]:
    answer = json.loads(body)
    return sorted(json.dumps(row, sort_keys=True) for row in answer["results"]["bindings"])


def triples_of(body: bytes, accept: str) -> list[str]:
    return sorted(str(quad) for quad in ox.parse(body, GRAPHS[accept]))


@pytest.mark.parametrize("path", CATALOGUE, ids=[p.stem for p in CATALOGUE])
def test_the_catalogue_answers_as_embedded(fronts: tuple[LiveServer, ...], path: Path) -> None:
    query = path.read_text(encoding="utf-8")
    csv = same_answer(fronts, query, "text/csv")
    same_answer(fronts, query, "application/sparql-results+json")
    assert csv.count(b"\r\n") > 1, f"{path.stem}: no rows to compare"


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        ("SELECT * WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o", "text/tab-separated-values"),
        ("SELECT * WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o", "application/sparql-results+xml"),
        (
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
            "application/sparql-results+json",
        ),
        ("ASK { ?s a <https://w3id.org/innograph/def/City> }", "application/sparql-results+xml"),
        ("CONSTRUCT WHERE { ?s a <https://w3id.org/innograph/def/City> }", "text/turtle"),
        ("CONSTRUCT WHERE { ?s a <https://w3id.org/innograph/def/City> }", "application/n-quads"),
        (
            "CONSTRUCT { ?s ?p ?o } WHERE { ?s a <https://w3id.org/innograph/def/City> ; ?p ?o }",
            "application/n-triples",
        ),
        ("DESCRIBE <https://w3id.org/innograph/id/city/liverpool-city-region>", "text/turtle"),
        (
            "SELECT ?l WHERE { ?c <http://www.w3.org/2000/01/rdf-schema#label> ?l } ORDER BY ?l"
            " LIMIT 3",
            "text/csv",
        ),
    ],
)
def test_formats_caps_and_truncation_as_embedded(
    fronts: tuple[LiveServer, ...], query: str, accept: str
) -> None:
    same_answer(fronts, query, accept)


def test_gzip_and_the_row_cap_as_embedded(fronts: tuple[LiveServer, ...]) -> None:
    query = "SELECT * WHERE { ?s ?p ?o } ORDER BY DESC(?s) ?p ?o"
    body = same_answer(fronts, query, "text/csv", gzipped=True)
    assert gzip.decompress(body).count(b"\r\n") == 1001  # the header and the cap's 1,000 rows
    status, headers, _ = ask(fronts[1], query, "text/csv")
    assert status == 200
    assert headers["X-Result-Truncated"] == "true"


def test_pages_and_documents_as_embedded(fronts: tuple[LiveServer, ...]) -> None:
    for path in (
        "/id/city/liverpool-city-region.ttl",
        "/id/city/liverpool-city-region.jsonld",
        "/queries/cities-by-policy-area.csv",
    ):
        bodies = []
        for front in fronts:
            with urllib.request.urlopen(front.url + path, timeout=60) as response:
                bodies.append(response.read())
        assert bodies[0] == bodies[1], path


def test_the_engines_check_runs_before_the_server(fronts: tuple[LiveServer, ...]) -> None:
    for query in ("SELECT ?x WHERE { ?x ?y }", "SELECT * WHERE { BIND(<bif:sys_stat>(1) AS ?x) }"):
        answers = [ask(front, query, "application/sparql-results+json") for front in fronts]
        assert answers[0][0] == answers[1][0] == 400, answers[1][2]
        assert answers[0][2] == answers[1][2]


# --- a store server that is down, too slow, or failing -------------------------------------------


def error_of(front: LiveServer, query: str = "ASK {}") -> tuple[int, dict[str, str], Any, float]:
    start = time.monotonic()
    status, headers, body = ask(front, query, "application/sparql-results+json")
    return status, headers, json.loads(body), time.monotonic() - start


def test_a_server_that_is_down_is_a_503_with_retry_after(backend_store: Path) -> None:
    nobody = f"http://127.0.0.1:{free_port()}/query"
    front = start_server(backend_store, {**LIMITS, "INNOGRAPH_BACKEND": nobody})
    try:
        status, headers, body, seconds = error_of(front)
    finally:
        stop_server(front)
    assert status == 503
    assert headers["Retry-After"] == "5"
    assert body == {"error": "the store server is unavailable; retry in a moment", "status": 503}
    assert seconds < 3


def test_a_server_that_fails_is_a_502(backend_store: Path) -> None:
    canary = Canary(b"<html>not an answer</html>", "application/sparql-results+json")
    front = start_server(backend_store, {**LIMITS, "INNOGRAPH_BACKEND": f"{canary.url}/query"})
    try:
        status, _, body, _ = error_of(front, "SELECT * WHERE { ?s ?p ?o }")
    finally:
        stop_server(front)
        canary.close()
    assert (status, body["error"]) == (502, "the store server's answer cannot be read"), body
    assert canary.hits
    assert canary.hits[0][0] == "POST"


def test_a_slow_server_is_a_504_in_time_and_the_places_are_bounded(
    backend_store: Path,
) -> None:
    slot = start_slot(timeout_s=3)  # its own limit, a backstop; the front's is 1 s
    version = store.require_current(backend_store)
    Oxigraph(slot.url, 60).load(
        store.open_read_only(version).dump(format=ox.RdfFormat.N_QUADS) or b""
    )
    env = {
        **LIMITS,
        "INNOGRAPH_BACKEND": slot.url,
        "INNOGRAPH_QUERY_TIMEOUT_S": "1",
        "INNOGRAPH_QUERY_WORKERS": "1",
        "INNOGRAPH_QUEUE_WAIT_S": "0.3",
    }
    front = start_server(backend_store, env)
    try:
        found: list[tuple[int, dict[str, str], Any, float]] = []
        other = threading.Thread(target=lambda: found.append(error_of(front, HEAVY)))
        other.start()
        time.sleep(0.3)
        busy = error_of(front, HEAVY + " LIMIT 1")
        other.join(timeout=30)
        status, _, body, seconds = found[0]
    finally:
        stop_server(front)
        stop_slot(slot)
    assert (status, body["status"]) == (504, 504), body
    assert body["error"] == "the store server gave no whole answer within the time limit of 1 s"
    assert seconds < 4
    assert busy[0] == 503
    assert busy[1]["Retry-After"] == "1"
    assert busy[2]["error"] == "all query workers are busy; retry in a moment"


def test_an_answer_the_server_cuts_is_a_504_not_a_short_answer(backend_store: Path) -> None:
    """Oxigraph's own time limit ends a streamed answer after ``200 OK`` with a sentence; the
    front reports it as the timeout it is, never as a complete answer."""
    slot = start_slot(timeout_s=1)
    version = store.require_current(backend_store)
    executor = RemoteExecutor(backend_store, Backend("oxigraph", (slot.url,)), 1, 1.0)
    cross = (
        "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f FILTER(?c = ?f && ?a != ?d && STRLEN(STR(?c)) > 40) }"
    )
    try:
        Oxigraph(slot.url, 60).load(
            store.open_read_only(version).dump(format=ox.RdfFormat.N_QUADS) or b""
        )
        start = time.monotonic()
        with pytest.raises(BackendTimeout, match="no whole answer within the time limit of 10 s"):
            executor.run(QueryRequest(cross, "csv", 10**9, version.id), 10)
        assert time.monotonic() - start < 5
    finally:
        stop_slot(slot)
