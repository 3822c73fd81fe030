"""THREATS.md §3a, query cost and availability (Q4, Q6, Q8), against the production server.

Q1–Q3, Q5 and Q7 (time limit, the test-only sleep function, ``timeout=``, row and byte caps,
body, request line and header sizes) are tested in tests/web/test_limits.py and
tests/web/test_http.py; SECURITY.md names each test. These add what runaway queries and slow
clients do to everyone else, a catastrophic regular expression, and a huge literal in the data.
"""

from __future__ import annotations

import html
import http.client
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hostile import Reply, fetch, seed_with

from conftest import LiveServer, built_store, start_server, stop_server

pytestmark = pytest.mark.server

QUERY_WORKERS = 2
QUEUE_WAIT_S = 0.5
LIMIT_S = 3.0
THREADS = 8  # innograph serve's default --threads
CLIENT_READ_S = 2.0
JSON = {"Accept": "application/sparql-results+json"}


def query_path(text: str) -> str:
    """A GET of the query, with a unique comment so that no answer cache holds it."""
    return "/sparql?" + urlencode({"query": f"{text}\n# {uuid.uuid4().hex}"})


def sleeping(seconds: float) -> str:
    return query_path(f"SELECT (<urn:innograph:test:sleep>({seconds}) AS ?x) WHERE {{}}")


@pytest.fixture(scope="module")
def small_pool(seed_store: Path) -> Iterator[LiveServer]:
    """The seed with two query workers, a short queue, a short time to send a request and the
    test-only sleep function."""
    server = start_server(
        seed_store,
        {
            "INNOGRAPH_TEST_FUNCTIONS": "true",
            "INNOGRAPH_QUERY_TIMEOUT_S": str(LIMIT_S),
            "INNOGRAPH_QUERY_WORKERS": str(QUERY_WORKERS),
            "INNOGRAPH_QUEUE_WAIT_S": str(QUEUE_WAIT_S),
            "INNOGRAPH_CLIENT_READ_S": str(CLIENT_READ_S),
        },
    )
    yield server
    stop_server(server)


def in_parallel(server: LiveServer, paths: list[str]) -> list[Reply]:
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        return list(pool.map(lambda p: fetch(server.url + p, headers=JSON), paths))


# --- Q4: concurrency exhaustion ----------------------------------------------------------------


def test_q4_runaway_queries_past_the_pool_are_turned_away_with_retry_after(
    small_pool: LiveServer,
) -> None:
    """Twice as many slow queries as query workers: those that find no worker within the
    queue wait get 503 with Retry-After, never a 500 or a hang; /-/ping answers meanwhile."""
    pings: list[float] = []

    def ping() -> None:
        for _ in range(5):
            time.sleep(0.2)
            pings.append(fetch(f"{small_pool.url}/-/ping").seconds)

    holding = threading.Thread(target=ping)
    holding.start()
    replies = in_parallel(small_pool, [sleeping(1.5) for _ in range(2 * QUERY_WORKERS)])
    holding.join()
    statuses = sorted(r.status for r in replies)
    assert statuses == [200] * QUERY_WORKERS + [503] * QUERY_WORKERS, statuses
    for reply in replies:
        if reply.status == 503:
            assert reply.header("Retry-After")
            assert json.loads(reply.body)["status"] == 503
            assert reply.seconds < QUEUE_WAIT_S + 1.5
    assert max(pings) < 0.5, pings


def test_q4_cheap_requests_keep_their_latency_while_runaway_queries_hold_every_worker(
    small_pool: LiveServer,
) -> None:
    cheap = [
        ("lookup", query_path("ASK { ?s ?p ?o }")),
        ("document", "/id/profile/liverpool-city-region/2020.ttl"),
        ("page", "/id/city/liverpool-city-region.html"),
    ]
    runaway = threading.Thread(
        target=in_parallel, args=(small_pool, [sleeping(2.5) for _ in range(QUERY_WORKERS)])
    )
    runaway.start()
    time.sleep(0.3)  # the sleeping queries now hold every query worker
    try:
        for kind, path in cheap:
            reply = fetch(small_pool.url + path)
            assert reply.status == 200, (kind, reply.status, reply.body[:200])
            assert reply.seconds < 0.5, (kind, reply.seconds)
    finally:
        runaway.join()


PIPELINED = b"GET /-/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /sparql HTTP/1.1\r\nHost: 1"
HALF_SENT = [
    b"GET /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n",  # a head that never ends
    b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n"  # a whole head,
    b"Content-Type: application/sparql-query\r\n\r\nASK {",  # a body that never arrives
    PIPELINED,  # a whole request, and half of the next behind it
]


def test_q4_clients_that_never_finish_their_request_do_not_hold_the_server(
    small_pool: LiveServer,
) -> None:
    """Three times as many half-sent requests (heads, bodies, and behind a whole request) as
    the worker has threads:
    a keep-alive client and new ones are answered meanwhile, and each half-sent request gets
    408 once ``INNOGRAPH_CLIENT_READ_S`` has passed (gunicorn's own threaded worker gave each
    one a thread for as long as the client liked)."""
    port = int(small_pool.url.rsplit(":", 1)[1])
    slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(3 * THREADS)]
    started = time.monotonic()
    try:
        for n, connection in enumerate(slow):
            connection.sendall(HALF_SENT[n % len(HALF_SENT)])
        time.sleep(0.5)
        reply = fetch(f"{small_pool.url}/-/ping", timeout=3)
        assert reply.status == 200
        assert reply.seconds < 0.5, reply.seconds
        kept_alive = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
        for _ in range(3):
            kept_alive.request("GET", query_path("ASK { ?s ?p ?o }"), headers=JSON)
            answer = kept_alive.getresponse()
            assert answer.status == 200
            assert json.loads(answer.read())["boolean"] is True
        kept_alive.close()
        for n, connection in enumerate(slow):
            connection.settimeout(CLIENT_READ_S + 3)
            received = b""
            while chunk := connection.recv(65536):
                received += chunk
            if HALF_SENT[n % len(HALF_SENT)] is PIPELINED:  # the whole request was answered
                assert received.startswith(b"HTTP/1.1 200 "), received[:100]
            else:
                assert received.startswith(b"HTTP/1.1 408 "), received[:100]
            assert b'"status": 408' in received
        assert CLIENT_READ_S <= time.monotonic() - started < CLIENT_READ_S + 3
    finally:
        for connection in slow:
            connection.close()


def test_q4_a_stopping_server_answers_requests_still_half_sent_and_exits(
    seed_store: Path,
) -> None:
    """A server told to stop (SIGTERM, a deploy) while clients are halfway through a request
    answers each 503 after a short linger and exits: before, the worker waited for them until
    ``graceful_timeout`` (10 s), was killed by the arbiter, and every one of them got a reset."""
    server = start_server(seed_store, {"INNOGRAPH_CLIENT_READ_S": "60"})
    port = int(server.url.rsplit(":", 1)[1])
    slow = [socket.create_connection(("127.0.0.1", port)) for _ in HALF_SENT[:2]]
    try:
        for connection, begun in zip(slow, HALF_SENT[:2], strict=True):
            connection.sendall(begun)
        time.sleep(0.5)  # the worker has read them
        stopped = time.monotonic()
        server.process.terminate()
        for connection in slow:
            connection.settimeout(15)
            received = b""
            while chunk := connection.recv(65536):
                received += chunk
            assert received.startswith(b"HTTP/1.1 503 "), received[:100]
            assert b'"status": 503' in received
            assert b"send it again" in received
        server.process.wait(timeout=15)
        assert time.monotonic() - stopped < 6, "the worker waited out graceful_timeout"
    finally:
        for connection in slow:
            connection.close()
        stop_server(server)


def test_q4_a_client_that_expects_100_continue_is_told_once_then_answered(
    small_pool: LiveServer,
) -> None:
    """curl POSTs a body above 1 KiB with ``Expect: 100-continue`` and waits (a second) for the
    go-ahead: the server says it as soon as the head is in, once, though the body is read before
    a thread takes the request."""
    port = int(small_pool.url.rsplit(":", 1)[1])
    body = b"ASK {}" + b"#" * 2000
    with socket.create_connection(("127.0.0.1", port), timeout=3) as connection:
        connection.sendall(
            b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
            b"Content-Type: application/sparql-query\r\nAccept: application/json\r\n"
            b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        start = time.monotonic()
        assert connection.recv(4096) == b"HTTP/1.1 100 Continue\r\n\r\n"
        assert time.monotonic() - start < 0.5
        connection.sendall(body)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 200 "), received[:200]
    assert b'"boolean":true' in received.replace(b" ", b"")


# --- Q6: ReDoS through REGEX -------------------------------------------------------------------


@pytest.mark.parametrize("n", [24, 28, 5000])
def test_q6_a_catastrophic_regex_answers_at_once(live_server: LiveServer, n: int) -> None:
    """``^(a+)+$`` against "a"*n + "!": 17.7 s on rdflib's engine at n=28 (THREATS.md fact
    2); the served engine matches in linear time."""
    text = f'SELECT (REGEX(?s, "^(a+)+$") AS ?m) WHERE {{ BIND(CONCAT("{"a" * n}", "!") AS ?s) }}'
    fetch(live_server.url + query_path("ASK {}"), headers=JSON)  # the workers are up: not timed
    reply = fetch(live_server.url + query_path(text), headers=JSON)
    assert reply.status == 200, reply.body[:200]
    assert json.loads(reply.body)["results"]["bindings"][0]["m"]["value"] == "false"
    assert reply.seconds < 2, reply.seconds  # backtracking: 17.7 s at n=28, doubling per "a"


# --- Q8: a huge literal in the data ------------------------------------------------------------

PARAGRAPH = "Lorem ipsum dolor sit amet, the city tested it. " * 6000  # about 290 KB
HTML_LITERAL_CHARS = 2000  # THREATS.md §5: what a page shows of one literal


@pytest.fixture(scope="module")
def long_literal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, float]]:
    """The seed with a 290 KB spotlight paragraph, built (timed) and served."""
    folder = tmp_path_factory.mktemp("long-literal")
    text = seed_with(
        {
            "extend the network across the region.": f"extend the network across the region. {PARAGRAPH}"
        }
    )
    (folder / "long-city.txt").write_text(text, encoding="utf-8")
    start = time.monotonic()
    store = built_store([folder / "long-city.txt"], folder / "store")
    seconds = time.monotonic() - start
    server = start_server(store)
    yield server, seconds
    stop_server(server)


def holder(server: LiveServer) -> str:
    """The local path of the node that holds the long paragraph."""
    query = "SELECT ?s WHERE { ?s ?p ?o FILTER(isLiteral(?o) && STRLEN(STR(?o)) > 100000) }"
    rows = json.loads(fetch(server.url + query_path(query), headers=JSON).body)["results"]
    iri = rows["bindings"][0]["s"]["value"]
    return iri.replace("https://w3id.org/innograph/", "/")


def test_q8_a_long_narrative_builds_in_time_linear_in_its_length(
    long_literal: tuple[LiveServer, float],
) -> None:
    """Before the sentence splitter read each full stop's word backwards, this build took
    minutes (a 560 KB paragraph: 9 minutes)."""
    _, seconds = long_literal
    assert seconds < 30, seconds


def test_q8_rdf_documents_keep_a_long_literal_whole(long_literal: tuple[LiveServer, float]) -> None:
    server, _ = long_literal
    path = holder(server)
    for suffix in ("ttl", "nt", "jsonld"):
        reply = fetch(f"{server.url}{path}.{suffix}")
        assert reply.status == 200
        assert PARAGRAPH.strip() in reply.text.replace('\\"', '"'), suffix


def test_q8_html_pages_show_the_start_of_a_long_literal_and_link_to_the_rest(
    long_literal: tuple[LiveServer, float],
) -> None:
    server, _ = long_literal
    path = holder(server)
    for page in (f"{path}.html", "/id/city/long-city.html"):
        reply = fetch(f"{server.url}{page}", headers={"Accept": "text/html"})
        assert reply.status == 200
        shown = html.unescape(reply.text)
        assert PARAGRAPH[:HTML_LITERAL_CHARS] in shown or PARAGRAPH[:500] in shown, page
        assert PARAGRAPH.strip() not in shown, page
        assert len(reply.body) < 200_000, (page, len(reply.body))
        assert f'href="{path}.ttl"' in reply.text, page
