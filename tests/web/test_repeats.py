"""Repeated requests answered by the server's event loop (``innograph.web.repeats``), over
real HTTP on 127.0.0.1: the same bytes get the same response, from the served version only,
without a thread, whatever the client does with its socket."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from gunicorn.config import Config

from conftest import SEED, LiveServer, built_store, start_server, stop_server
from innograph import store
from innograph.query.workers import WAIT_FUNCTION
from innograph.web.repeats import Kept, Repeats
from innograph.web.server import ACCESS_FORMATS, AccessLogger

CITIES = "SELECT ?city WHERE { ?city a <https://w3id.org/innograph/def/City> }"
LARGE = "SELECT * WHERE { ?s ?p ?o . ?a ?b ?c } LIMIT 10000"  # megabytes of JSON


def request(query: str, accept: str = "application/sparql-results+json", extra: str = "") -> bytes:
    body = query.encode()
    head = (
        "POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
        f"Accept: {accept}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


class Reply:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


def read_reply(sock: socket.socket, pending: bytearray) -> Reply:
    """One response from SOCK (PENDING: bytes read past the previous one)."""
    while b"\r\n\r\n" not in pending:
        pending += _received(sock)
    head, _, rest = bytes(pending).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    length = int(headers.get("Content-Length", "0"))
    pending[:] = rest
    while len(pending) < length:
        pending += _received(sock)
    body = bytes(pending[:length])
    del pending[:length]
    return Reply(int(lines[0].split()[1]), headers, body)


def _received(sock: socket.socket) -> bytes:
    data = sock.recv(65536)
    if not data:
        raise ConnectionError("the server closed the connection")
    return data


def ask(server: LiveServer, raw: bytes) -> Reply:
    with connection(server) as sock:
        sock.sendall(raw)
        return read_reply(sock, bytearray())


def connection(
    server: LiveServer, receive_buffer: int | None = None, source: str | None = None
) -> socket.socket:
    sock = socket.socket()
    if source:
        sock.bind((source, 0))
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(30)
    sock.connect(("127.0.0.1", int(server.url.rsplit(":", 1)[1])))
    return sock


def kept(server: LiveServer, raw: bytes) -> Reply:
    """Ask RAW until the server keeps its answer (a cheap answer is kept when asked again)."""
    first = ask(server, raw)
    assert first.status == 200
    ask(server, raw)
    return first


def access_lines(log: Path, start: str, expected: int) -> list[str]:
    """The log's lines that start so, once there are EXPECTED of them (a line is written after
    its response is sent) or 10 s have passed."""
    deadline = time.monotonic() + 10
    while True:
        lines = [line for line in log.read_text().splitlines() if line.startswith(start)]
        if len(lines) >= expected or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def without_date(reply: Reply) -> dict[str, str]:
    return {name: value for name, value in reply.headers.items() if name != "Date"}


@pytest.fixture
def two_threads(seed_store: Path, tmp_path: Path) -> Iterator[tuple[LiveServer, Path]]:
    """One web worker with two threads, its access log in a file."""
    log = tmp_path / "serve.log"
    server = start_server(
        seed_store, {"INNOGRAPH_TEST_FUNCTIONS": "true"}, options=("--threads", "2"), log=log
    )
    yield server, log
    stop_server(server)


def test_a_repeat_is_the_same_response_with_a_fresh_date(
    two_threads: tuple[LiveServer, Path],
) -> None:
    server, log = two_threads
    raw = request(CITIES)
    first = kept(server, raw)
    again = [ask(server, raw) for _ in range(3)]
    for reply in again:
        assert reply.status == 200
        assert reply.body == first.body
        assert without_date(reply) == without_date(first)
        assert reply.headers["Connection"] == "keep-alive"
    assert first.body.count(b'"city"') > 1
    assert len(access_lines(log, "POST /sparql 200", 5)) == 5  # the repeats' too


@pytest.mark.parametrize("form", ["full", "short"])
def test_a_repeat_s_access_line_is_the_one_a_thread_writes(
    seed_store: Path, tmp_path: Path, form: str
) -> None:
    """The event loop writes a repeat's line from one made when the answer was kept: what the
    client sent (a ``%`` and a quote in the target, the User-Agent and the Referer, a Basic
    user) reads as in the line gunicorn writes, and only the time and duration differ."""
    log = tmp_path / "serve.log"
    server = start_server(seed_store, {"INNOGRAPH_ACCESS_LOG": form}, log=log)
    try:
        target = "/sparql?query=ASK%7B%7D&note=100%25%22(h)s%(t)s"
        raw = (
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Accept: application/sparql-results+json\r\n"
            'User-Agent: probe "quoted" %(h)s %(M)s 100%\r\n'
            "Referer: http://example.org/%s\r\n"
            "Authorization: Basic YW5hOnNlY3JldA==\r\n\r\n"  # ana:secret
        ).encode()
        replies = [ask(server, raw) for _ in range(4)]
        assert [reply.status for reply in replies] == [200] * 4
        lines = access_lines(log, "127.0.0.1 - ana [" if form == "full" else "GET /sparql", 4)
    finally:
        stop_server(server)
    assert len(lines) == 4
    if form == "full":
        assert "GET /sparql?query=ASK%7B%7D&note=100%25%22(h)s%(t)s HTTP/1.1" in lines[0]
        assert '"probe \\"quoted\\" %(h)s %(M)s 100%" ' in lines[0]
        assert '"http://example.org/%s" ' in lines[0]
    else:
        assert re.fullmatch(r"GET /sparql 200 \d+ ms", lines[0])
    pattern = (r"\[[^]]+\] ", "[time] "), (r"\d+ ms$", "N ms")
    same = [re.sub(pattern[1][0], pattern[1][1], re.sub(*pattern[0], line)) for line in lines]
    assert same == [same[0]] * 4, "the repeats' lines (the last two) differ from the threads'"


def test_a_repeat_line_is_made_only_when_it_can_be_filled_in() -> None:
    """A format's own ``%%`` would leave a bare ``%`` in the template: such an answer is not
    kept (a thread answers it each time, and writes its line), and nothing raises."""
    config = Config()
    config.set("accesslog", "-")
    config.set("access_log_format", ACCESS_FORMATS["full"])
    logger = AccessLogger(config)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/sparql?q=%25(M)s",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_USER_AGENT": 'probe "quoted" 100%',
    }
    line = logger.repeat_line(environ, "200 OK", 5)
    assert line is not None
    filled = line % {"h": "127.0.0.1", "t": "[now]", "M": 3}
    assert filled == (
        '127.0.0.1 - - [now] "GET /sparql?q=%25(M)s HTTP/1.1" 200 5 "-" "probe \\"quoted\\" 100%" 3 ms'
    )
    config.set("access_log_format", "100%% %(m)s")
    assert logger.repeat_line(environ, "200 OK", 5) is None
    config.set("accesslog", None)
    assert AccessLogger(config).repeat_line(environ, "200 OK", 5) == ""


CITY = "/id/city/liverpool-city-region"
HOLD_S = 3  # how long each of the two waiting queries holds its thread


def get(path: str, accept: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {accept}\r\n\r\n".encode()


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (request(CITIES), 200),  # an answer
        (get(f"{CITY}.html", "text/html"), 200),  # a page
        (get(f"{CITY}.ttl", "text/turtle"), 200),  # a document
        (get(CITY, "text/turtle"), 303),  # an IRI dereferenced
    ],
    ids=["answer", "page", "document", "see-other"],
)
def test_a_repeat_is_answered_while_every_thread_is_busy(
    two_threads: tuple[LiveServer, Path], raw: bytes, status: int
) -> None:
    server, _ = two_threads
    assert ask(server, raw).status == status
    assert ask(server, raw).status == status
    statuses: list[int] = []

    def wait(number: int) -> None:
        query = f'SELECT (<{WAIT_FUNCTION}>("{HOLD_S}") AS ?x) {{}} # {number}'
        statuses.append(ask(server, request(query)).status)

    waits = [threading.Thread(target=wait, args=(n,)) for n in range(2)]
    started = time.monotonic()
    for thread in waits:
        thread.start()
    time.sleep(1)  # both threads of the worker now wait for their query (sent, read, running)
    repeat = ask(server, raw)
    repeat_at = time.monotonic() - started
    fresh = ask(server, request(CITIES + " # not asked before"))
    fresh_at = time.monotonic() - started
    for thread in waits:
        thread.join()
    # Nothing that needs a thread (or a query worker) is answered before HOLD_S after the
    # waits were sent: the repeat came back sooner, a query never asked had to wait. (Times,
    # not the order the client threads note their answers in: a wait's thread may note its
    # answer after the query it freed a thread for has been answered.)
    assert statuses == [200, 200]
    assert repeat.status == status
    assert repeat_at < HOLD_S
    assert fresh.status == 200
    assert fresh_at >= HOLD_S


def test_pipelined_requests_are_answered_in_order(two_threads: tuple[LiveServer, Path]) -> None:
    server, _ = two_threads
    raw = request(CITIES)
    first = kept(server, raw)
    other = request("ASK { ?s ?p ?o }")
    with connection(server) as sock:
        sock.sendall(raw + other + raw)
        pending = bytearray()
        replies = [read_reply(sock, pending) for _ in range(3)]
    assert [r.status for r in replies] == [200, 200, 200]
    assert replies[0].body == replies[2].body == first.body
    assert replies[1].body == b'{"head":{},"boolean":true}'


def test_a_client_that_asks_to_close_gets_its_connection_closed(
    two_threads: tuple[LiveServer, Path],
) -> None:
    server, _ = two_threads
    raw = request(CITIES, extra="Connection: close\r\n")
    kept(server, raw)
    with connection(server) as sock:
        sock.sendall(raw)
        reply = read_reply(sock, bytearray())
        assert reply.headers["Connection"] == "close"
        assert sock.recv(1) == b""


def test_an_http_1_0_request_is_answered_and_closed(two_threads: tuple[LiveServer, Path]) -> None:
    server, _ = two_threads
    raw = request(CITIES).replace(b"HTTP/1.1", b"HTTP/1.0", 1)
    first = kept(server, raw)
    with connection(server) as sock:
        sock.sendall(raw)
        reply = read_reply(sock, bytearray())
        assert reply.body == first.body
        assert reply.headers["Connection"] == "close"
        assert sock.recv(1) == b""


def test_a_slow_reader_of_a_large_repeat_holds_up_nobody(
    two_threads: tuple[LiveServer, Path],
) -> None:
    server, _ = two_threads
    large, small = request(LARGE), request(CITIES)
    whole = kept(server, large)
    assert len(whole.body) > 4 * 2**20  # more than the largest send buffer Linux gives by default
    kept(server, small)
    with connection(server, receive_buffer=4096) as slow:
        slow.sendall(large)
        time.sleep(0.5)  # the server could write only the start: the rest waits for the reader
        assert ask(server, small).status == 200  # meanwhile the event loop answers others
        reply = read_reply(slow, bytearray())
        slow.sendall(small)  # and the connection goes on
        after = read_reply(slow, bytearray())
    assert reply.status == 200
    assert reply.body == whole.body
    assert after.status == 200


def test_another_version_served_is_asked_of_the_app(tmp_path: Path) -> None:
    root = built_store([SEED], tmp_path / "store")
    built_store([SEED], root)  # a second version; the first stays as previous
    server = start_server(root)
    try:
        raw = request(CITIES)
        first = kept(server, raw)
        assert ask(server, raw).headers["ETag"] == first.headers["ETag"]
        store.rollback(root)
        again = [ask(server, raw) for _ in range(3)]
        assert {r.headers["ETag"] for r in again} == {again[0].headers["ETag"]}
        assert again[0].headers["ETag"] != first.headers["ETag"]
    finally:
        stop_server(server)
        shutil.rmtree(root, ignore_errors=True)


def test_a_body_sent_after_its_head_is_never_taken_for_the_next_request(
    two_threads: tuple[LiveServer, Path],
) -> None:
    """A chunked body is not in the bytes of its head: the request is neither kept nor answered
    on its head, or the body would be read as the next request on the connection."""
    server, _ = two_threads
    head = (
        f"GET /sparql?query={quote(CITIES)} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Accept: application/sparql-results+json\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    with connection(server) as sock:
        pending = bytearray()
        for _ in range(3):
            sock.sendall(head)
            time.sleep(0.2)  # the head alone first, as a client or proxy may send it
            sock.sendall(b"0\r\n\r\n")
            assert read_reply(sock, pending).status == 200
        sock.sendall(request(CITIES))  # the connection still reads requests where they start
        assert read_reply(sock, pending).status == 200


def test_a_proxy_s_answer_is_never_given_to_a_client_that_may_not_say_it_is_one(
    two_threads: tuple[LiveServer, Path],
) -> None:
    """gunicorn takes X-Forwarded-Proto only from its trusted peers (127.0.0.1 here): the same
    bytes from 127.0.0.2 make another request (http, not https), so another answer."""
    server, _ = two_threads
    raw = request(CITIES, extra="X-Forwarded-Proto: https\r\n")
    proxied = kept(server, raw)
    plain = ask(server, request(CITIES))
    assert proxied.headers["ETag"] != plain.headers["ETag"]  # the endpoint's base differs
    with connection(server, source="127.0.0.2") as sock:
        sock.sendall(raw)
        direct = read_reply(sock, bytearray())
    assert direct.headers["ETag"] == plain.headers["ETag"]


def kept_entry(line: str, body: bytes = b"") -> Kept:
    return Kept("v1", b"HTTP/1.1 304 Not Modified\r\n", b"\r\n", body, line)


def test_what_an_entry_weighs_counts_its_access_line_and_bookkeeping() -> None:
    repeats = Repeats(100_000)
    for n in range(1_000):  # 304s with a long User-Agent: no body, yet each weighs 8 KB
        repeats.put(n.to_bytes(4, "big"), kept_entry("x" * 8000))
    assert repeats.get((999).to_bytes(4, "big")) is not None
    assert repeats.get((0).to_bytes(4, "big")) is None
    assert sum(repeats.get(n.to_bytes(4, "big")) is not None for n in range(1_000)) <= 12
