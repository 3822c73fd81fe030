"""Plain queries answered by the server's event loop (``innograph.web.lane``), over real HTTP on
127.0.0.1: they need no thread, and get the bytes the app would have written."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from test_repeats import ask, without_date

from conftest import LiveServer, start_server, stop_server
from innograph.query.workers import WAIT_FUNCTION

CITIES = "SELECT ?city WHERE { ?city a <https://w3id.org/innograph/def/City> } ORDER BY ?city"
PROFILE = "CONSTRUCT { ?s ?p ?o } WHERE { ?s a <https://w3id.org/innograph/def/Profile> ; ?p ?o }"
HOLD_S = 3  # how long the waiting query holds the one thread
THREAD = "timeout=9"  # a parameter the lane leaves to the app (the limit changes no answer)


def post(query: str, target: str = "/sparql", accept: str = "", extra: str = "") -> bytes:
    body = query.encode()
    accepted = f"Accept: {accept}\r\n" if accept else ""
    head = (
        f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
        f"{accepted}{extra}Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def form(query: str, more: str = "", accept: str = "", extra: str = "") -> bytes:
    body = f"query={quote(query, safe='')}{more}".encode()
    head = (
        "POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Accept: {accept}\r\n{extra}Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def get(query: str, more: str = "", accept: str = "") -> bytes:
    accepted = f"Accept: {accept}\r\n" if accept else ""
    target = f"/sparql?query={quote(query, safe='')}{more}"
    return f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{accepted}\r\n".encode()


def serving(store: Path, threads: int, query_workers: int) -> Iterator[LiveServer]:
    """One web worker with so many threads and query workers, and the test functions."""
    env = {"INNOGRAPH_TEST_FUNCTIONS": "true", "INNOGRAPH_QUERY_WORKERS": str(query_workers)}
    server = start_server(store, env, options=("--threads", str(threads)))
    yield server
    stop_server(server)


@pytest.fixture
def one_thread(seed_store: Path) -> Iterator[LiveServer]:
    """One thread and two query workers."""
    yield from serving(seed_store, 1, 2)


@pytest.mark.parametrize("plain", [True, False], ids=["plain", "with-a-timeout"])
def test_a_plain_query_is_answered_while_the_only_thread_is_busy(
    one_thread: LiveServer, plain: bool
) -> None:
    """The waiting query, with a parameter the lane does not read, holds the thread and one
    query worker; a plain query takes the other worker at once, another request the lane
    leaves to the app waits for the thread."""
    held: list[int] = []

    def hold() -> None:
        text = f'SELECT (<{WAIT_FUNCTION}>("{HOLD_S}") AS ?x) {{}} # {time.monotonic()}'
        held.append(ask(one_thread, post(text, f"/sparql?{THREAD}")).status)

    holder = threading.Thread(target=hold)
    began = time.monotonic()
    holder.start()
    time.sleep(1)
    fresh = CITIES + f" # {time.monotonic()}"  # never asked before: no cache helps
    reply = ask(one_thread, post(fresh, "/sparql" if plain else f"/sparql?{THREAD}"))
    answered_at = time.monotonic() - began
    holder.join()
    assert held == [200]
    assert reply.status == 200
    assert reply.body.count(b'"city"') > 1
    if plain:
        assert answered_at < HOLD_S
    else:
        assert answered_at >= HOLD_S


@pytest.fixture(scope="module")
def few_rows(seed_store: Path) -> Iterator[LiveServer]:
    server = start_server(seed_store, {"INNOGRAPH_MAX_ROWS": "3"})
    yield server
    stop_server(server)


ROWS = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"  # more than 3 rows
CITY = "https://w3id.org/innograph/id/city/liverpool-city-region"


@pytest.mark.parametrize(
    ("plain", "truncated"),
    [
        (post(ROWS, accept="application/sparql-results+json"), True),
        (get("ASK { ?s ?p ?o }", accept="application/sparql-results+xml"), False),
        (get(f"DESCRIBE <{CITY}>"), False),
        (form(PROFILE, accept="text/turtle", extra="Accept-Encoding: gzip\r\n"), True),
        (post(CITIES, accept="text/csv", extra="User-Agent: probe\r\n"), False),
    ],
    ids=["post-json-truncated", "get-xml", "get-describe-no-accept", "form-gzip-turtle", "csv"],
)
def test_the_lane_answers_with_the_apps_bytes(
    few_rows: LiveServer, plain: bytes, truncated: bool
) -> None:
    """Each plain request, asked first (the lane, from a worker), then with a parameter that
    only the app reads (a thread, the app's view), then again (the lane or the event loop's
    repeats): the same status, headers in the same order but Date, and body."""
    first = ask(few_rows, plain)
    by_app = ask(few_rows, _with_thread_parameter(plain))
    again = ask(few_rows, plain)
    assert first.status == 200, first.body[:300]
    for reply in (by_app, again):
        assert reply.status == first.status
        assert list(without_date(reply).items()) == list(without_date(first).items())
        assert reply.body == first.body
    assert ("X-Result-Truncated" in first.headers) is truncated


def _with_thread_parameter(raw: bytes) -> bytes:
    """RAW with ``timeout=9`` added: to the URL of a GET or a sparql-query POST, or the form."""
    head, _, body = raw.partition(b"\r\n\r\n")
    line, _, rest = head.partition(b"\r\n")
    method, target, version = line.split(b" ")
    if b"x-www-form-urlencoded" in head:
        body += f"&{THREAD}".encode()
        rest = rest.replace(
            f"Content-Length: {len(body) - len(THREAD) - 1}".encode(),
            f"Content-Length: {len(body)}".encode(),
        )
    else:
        target += (b"&" if b"?" in target else b"?") + THREAD.encode()
    return b" ".join((method, target, version)) + b"\r\n" + rest + b"\r\n\r\n" + body


@pytest.fixture
def one_query_worker(seed_store: Path) -> Iterator[LiveServer]:
    """Two threads and one query worker: plain queries queue in the loop, then in threads."""
    yield from serving(seed_store, 2, 1)


def test_plain_queries_queued_for_one_worker_are_all_answered_in_turn(
    one_query_worker: LiveServer,
) -> None:
    """Six queries of 0.3 s each for one worker: the one running stays with the event loop
    (it only waits, so it is not long) and those waiting longer go to the threads, which wait
    for the worker's quick place in turn. A query handed to a thread while it held that place
    would wait behind threads waiting for it: nothing moved until their 5 s queue wait ran
    out, and then they were turned away."""
    replies: list[int] = []

    def one(number: int) -> None:
        text = f'SELECT (<{WAIT_FUNCTION}>("0.3") AS ?x) {{}} # {number} {time.monotonic()}'
        replies.append(ask(one_query_worker, post(text)).status)

    clients = [threading.Thread(target=one, args=(n,)) for n in range(6)]
    began = time.monotonic()
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    assert replies == [200] * 6
    assert time.monotonic() - began < 4.0  # six turns of 0.3 s, with room for a busy machine


def test_a_fragment_is_no_part_of_the_query(few_rows: LiveServer) -> None:
    """gunicorn drops a target's fragment; so does the lane, by leaving it to the app."""
    plain = ask(few_rows, get(ROWS, accept="application/sparql-results+json"))
    fragment = quote("\nLIMIT 1", safe="")
    with_fragment = ask(
        few_rows, get(ROWS, more=f"#{fragment}", accept="application/sparql-results+json")
    )
    assert with_fragment.status == plain.status == 200
    assert with_fragment.body == plain.body
    assert with_fragment.headers["ETag"] == plain.headers["ETag"]


@pytest.mark.parametrize(
    "extra",
    ["X-Probe: a\x01b\r\n", "X-Probe: a\x7fb\r\n"],
    ids=["control-character", "delete"],
)
def test_a_request_gunicorn_refuses_is_refused_and_never_answered_by_the_lane(
    few_rows: LiveServer, extra: str
) -> None:
    """A header value with a control character is refused with 400: a front proxy and the
    server must never disagree about what a request is."""
    reply = ask(few_rows, post("ASK {}", accept="application/sparql-results+json", extra=extra))
    assert reply.status == 400


def test_a_length_gunicorn_would_not_read_is_refused(few_rows: LiveServer) -> None:
    raw = post("ASK {}", accept="application/sparql-results+json").replace(
        b"Content-Length: 6", b"Content-Length: 6abc"
    )
    assert ask(few_rows, raw).status == 400
