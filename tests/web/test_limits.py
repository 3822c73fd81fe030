"""Limits of the live server: time (the worker is killed), rows, body and query size, outbound
access (SERVICE, FROM, LOAD never reach a canary) and a little concurrency.

``live_server`` (conftest) has a 3 s limit, 1000 rows and the test-only sleep function; the
module's ``strict_server`` has a 2 s limit, 4096-byte bodies and no sleep function.
"""

from __future__ import annotations

import http.client
import http.server
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph
from webcheck import (
    CITY,
    CITY_GRAPH,
    CITY_SELECT,
    IG,
    Reply,
    assert_json_error,
    bindings,
    fetch,
    fresh,
    get,
    post_form,
    post_query,
)

from conftest import (
    LIVE_MAX_RESULT_BYTES,
    TEST_BACKEND,
    Canary,
    LiveServer,
    start_server,
    stop_server,
)

# The test-only sleep function is the embedded engine's: a store server refuses it as unknown.
EMBEDDED_ONLY = pytest.mark.skipif(
    TEST_BACKEND != "embedded",
    reason="urn:innograph:test:sleep exists in the embedded engine only; a store server's"
    " deadline is tested in tests/web/test_backend.py",
)

LIMIT_S = 3.0  # live_server's INNOGRAPH_QUERY_TIMEOUT_S
STRICT_LIMIT_S = 2.0
SLACK_S = 1.5
MAX_ROWS = 1000
STRICT_BODY_BYTES = 4096
MAX_QUERY_CHARS = 20_000  # the default, on live_server


def sleep_query(seconds: float) -> str:
    return f"SELECT (<urn:innograph:test:sleep>({seconds}) AS ?x) WHERE {{}}"


CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
ALL_TRIPLES = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"


@pytest.fixture(scope="module")
def strict_server(seed_store: Path) -> Iterator[LiveServer]:
    server = start_server(
        seed_store,
        {
            "INNOGRAPH_TEST_FUNCTIONS": "false",
            "INNOGRAPH_QUERY_TIMEOUT_S": str(STRICT_LIMIT_S),
            "INNOGRAPH_MAX_BODY_BYTES": str(STRICT_BODY_BYTES),
            "INNOGRAPH_MAX_ROWS": str(MAX_ROWS),
            "INNOGRAPH_TRUSTED_HOSTS": "127.0.0.1, localhost",
        },
    )
    yield server
    stop_server(server)


def timed(call: Callable[..., Reply], *args: Any, **kwargs: Any) -> tuple[Reply, float]:
    start = time.monotonic()
    reply = call(*args, **kwargs)
    return reply, time.monotonic() - start


def cheap_query_works(server: LiveServer) -> None:
    rows = bindings(get(server, fresh(CITY_SELECT)))
    assert [r["city"]["value"] for r in rows] == [CITY]


def query_workers(server: LiveServer) -> set[int]:
    """Processes under the gunicorn worker of ``innograph serve``, at any depth: the query
    workers (and multiprocessing's fork server and resource tracker)."""
    children: defaultdict[int, set[int]] = defaultdict(set)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        children[int(text.rsplit(")", 1)[1].split()[1])].add(int(stat.parent.name))
    found: set[int] = set()
    frontier = [pid for web in children[server.process.pid] for pid in children[web]]
    while frontier:
        pid = frontier.pop()
        found.add(pid)
        frontier += children[pid]
    return found


# --- (a) the time limit kills the worker; the server keeps answering -------------------------


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table")
@EMBEDDED_ONLY
def test_sleep_query_is_stopped_at_the_limit_while_the_server_answers(
    live_server: LiveServer,
) -> None:
    cheap_query_works(live_server)  # the query workers are up
    before = query_workers(live_server)
    outcome: dict[str, tuple[Reply, float]] = {}
    slow = threading.Thread(
        target=lambda: outcome.setdefault("slow", timed(get, live_server, fresh(sleep_query(30))))
    )
    slow.start()
    time.sleep(0.5)  # the sleep query now holds a worker
    pings = []
    for _ in range(8):
        reply, seconds = timed(fetch, f"{live_server.url}/-/ping")
        assert reply.status == 200
        pings.append(seconds)
        time.sleep(0.05)
    assert max(pings) < 0.2, pings
    cheap_query_works(live_server)  # the other worker still answers
    assert slow.is_alive()
    slow.join(timeout=LIMIT_S + 10)
    reply, seconds = outcome["slow"]
    assert_json_error(reply, 503, "time limit", f"{LIMIT_S:g} s")
    assert LIMIT_S - 0.5 <= seconds <= LIMIT_S + SLACK_S, seconds
    # The sleeping worker was killed (not left running for 30 s) and replaced.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        after = query_workers(live_server)
        if len(before - after) == 1 and len(after) == len(before):
            break
        time.sleep(0.1)
    assert len(before - after) == 1, (before, after)
    assert len(after) == len(before), (before, after)
    for _ in range(3):  # more queries than workers: the replacement answers too
        cheap_query_works(live_server)


# --- (b) a real runaway query ---------------------------------------------------------------


def test_a_cartesian_product_is_cut_off_at_the_limit(strict_server: LiveServer) -> None:
    reply, seconds = timed(get, strict_server, fresh(CARTESIAN))
    assert_json_error(reply, 503, "time limit", f"{STRICT_LIMIT_S:g} s")
    assert seconds <= STRICT_LIMIT_S + SLACK_S, seconds
    cheap_query_works(strict_server)


# --- (c) the client may lower the limit, never raise it -------------------------------------


@EMBEDDED_ONLY
def test_timeout_parameter_lowers_the_limit(live_server: LiveServer) -> None:
    reply, seconds = timed(get, live_server, fresh(sleep_query(5)), timeout="1")
    assert_json_error(reply, 503, "time limit", "1 s")
    assert 0.8 <= seconds <= 1 + SLACK_S, seconds
    cheap_query_works(live_server)


def test_timeout_parameter_within_the_limit_is_accepted(live_server: LiveServer) -> None:
    assert bindings(get(live_server, fresh(CITY_SELECT), timeout="2.5"))


@pytest.mark.parametrize("value", ["99", "3.01", "0", "-1", "abc", "nan", "inf", ""])
def test_a_bad_timeout_parameter_is_400(live_server: LiveServer, value: str) -> None:
    message = assert_json_error(get(live_server, fresh(CITY_SELECT), timeout=value), 400, "timeout")
    if value == "99":
        assert f"{LIMIT_S:g} s" in message  # names the cap


def test_a_timeout_given_twice_is_400(live_server: LiveServer) -> None:
    reply = fetch(f"{live_server.sparql}?query=ASK%7B%7D&timeout=1&timeout=2")
    assert_json_error(reply, 400, "timeout")


@pytest.mark.parametrize("value", ["99", "abc"])
def test_a_bad_timeout_is_400_for_a_cached_answer_too(live_server: LiveServer, value: str) -> None:
    query = fresh(CITY_SELECT)
    assert bindings(get(live_server, query))  # now in the answer cache
    assert_json_error(get(live_server, query, timeout=value), 400, "timeout")


# --- (d) unknown functions are the client's error -------------------------------------------


def test_the_sleep_function_is_unknown_without_test_functions(strict_server: LiveServer) -> None:
    reply = get(strict_server, fresh(sleep_query(1)))
    assert_json_error(reply, 400, "urn:innograph:test:sleep")


def test_an_unknown_function_is_400(live_server: LiveServer) -> None:
    query = fresh("SELECT (<urn:example:no-such-function>(1) AS ?x) WHERE {}")
    assert_json_error(get(live_server, query), 400, "urn:example:no-such-function")


def test_an_unknown_function_never_shows_a_traceback(strict_server: LiveServer) -> None:
    reply = get(strict_server, fresh(sleep_query(1)))
    assert reply.status in (400, 500)
    assert_json_error(reply, reply.status)
    cheap_query_works(strict_server)


# --- (e) no outbound access: SERVICE, FROM, LOAD --------------------------------------------

SPARQL_JSON = "application/sparql-results+json"  # what a SERVICE call would read


@pytest.fixture
def canary() -> Iterator[Canary]:
    bird = Canary(b'{"head":{"vars":[]},"results":{"bindings":[{}]}}', SPARQL_JSON)
    yield bird
    bird.close()


def service_spellings(url: str) -> dict[str, str]:
    endpoint = f"<{url}/sparql>"
    return {
        "plain": f"SELECT * WHERE {{ SERVICE {endpoint} {{ ?s ?p ?o }} }}",
        "lowercase": f"select * where {{ service {endpoint} {{ ?s ?p ?o }} }}",
        "mixed-case": f"SELECT * WHERE {{ SeRvIcE {endpoint} {{ ?s ?p ?o }} }}",
        "silent": f"SELECT * WHERE {{ SERVICE SILENT {endpoint} {{ ?s ?p ?o }} }}",
        "prefixed": f"PREFIX c: <{url}/> SELECT * WHERE {{ SERVICE c:sparql {{ ?s ?p ?o }} }}",
        "empty-prefix": f"PREFIX : <{url}/> SELECT * WHERE {{ SERVICE :sparql {{ ?s ?p ?o }} }}",
        "variable": f"SELECT * WHERE {{ VALUES ?ep {{ {endpoint} }} SERVICE ?ep {{ ?s ?p ?o }} }}",
        "bind": f"SELECT * WHERE {{ BIND({endpoint} AS ?ep) SERVICE ?ep {{ ?s ?p ?o }} }}",
        "glued": f"SELECT * WHERE {{ SERVICE{endpoint}{{ ?s ?p ?o }} }}",
        "comment": f"SELECT * WHERE {{ SERVICE # hidden?\n {endpoint} {{ ?s ?p ?o }} }}",
        "nested": f"SELECT * WHERE {{ OPTIONAL {{ SELECT * WHERE {{ SERVICE {endpoint} {{ ?s ?p ?o }} }} }} }}",
        "exists": f"ASK {{ FILTER EXISTS {{ SERVICE {endpoint} {{ ?s ?p ?o }} }} }}",
        "construct": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE {endpoint} {{ ?s ?p ?o }} }}",
    }


def test_service_is_refused_and_never_dials_out(live_server: LiveServer, canary: Canary) -> None:
    for name, query in service_spellings(canary.url).items():
        for reply in (
            get(live_server, query),
            post_form(live_server, [("query", query)]),
            post_query(live_server, query),
        ):
            try:
                assert_json_error(reply, 400, "SERVICE is not allowed")
            except AssertionError as failure:
                raise AssertionError(f"{name}: {failure}") from None
    time.sleep(0.3)
    assert canary.hits == []
    fetch(f"{canary.url}/self-check")  # the canary does record what reaches it
    assert canary.hits == [("GET", "/self-check")]


def test_from_never_fetches(live_server: LiveServer, canary: Canary) -> None:
    where = "WHERE { ?s ?p ?o } LIMIT 1"
    queries = {
        "from-http": f"SELECT * FROM <{canary.url}/g.ttl> {where}",
        "from-named-http": f"SELECT * FROM NAMED <{canary.url}/g.ttl> {where}",
        "from-file": f"SELECT * FROM <file:///etc/hostname> {where}",
        "from-named-file": f"SELECT * FROM NAMED <file:///etc/hostname> {where}",
        "from-relative": f"BASE <{canary.url}/> SELECT * FROM <g.ttl> {where}",
    }
    hostname = Path("/etc/hostname").read_bytes().strip() if Path("/etc/hostname").exists() else b""
    for name, query in queries.items():
        reply = get(live_server, query)
        try:
            assert_json_error(reply, 400, "not a graph of this store")
        except AssertionError as failure:
            raise AssertionError(f"{name}: {failure}") from None
        if len(hostname) > 3:
            assert hostname not in reply.body.replace(b"file:///etc/hostname", b"")
    for params in (
        {"default_graph_uri": f"{canary.url}/g.ttl"},
        {"named_graph_uri": f"{canary.url}/g.ttl"},
    ):
        assert_json_error(get(live_server, "SELECT * WHERE { ?s ?p ?o } LIMIT 1", **params), 400)
    time.sleep(0.3)
    assert canary.hits == []


def test_load_is_forbidden_and_never_fetches(live_server: LiveServer, canary: Canary) -> None:
    source = f"<{canary.url}/g.ttl>"
    updates = [
        f"LOAD {source}",
        f"LOAD SILENT {source} INTO GRAPH <{CITY_GRAPH}>",
        "LOAD <file:///etc/hostname>",
        f"load {source}",
    ]
    for text in updates:
        for reply in (
            get(live_server, text),
            post_query(live_server, text),
            post_form(live_server, [("update", text)]),
            fetch(
                live_server.sparql,
                "POST",
                text.encode(),
                {"Content-Type": "application/sparql-update"},
            ),
        ):
            assert_json_error(reply, 403, "read-only")
    time.sleep(0.3)
    assert canary.hits == []


# --- (f) the row cap is visible -------------------------------------------------------------


def test_a_long_answer_is_cut_and_says_so(live_server: LiveServer) -> None:
    reply = get(live_server, ALL_TRIPLES)
    rows = bindings(reply)
    assert len(rows) == MAX_ROWS
    assert reply.header("X-Result-Truncated") == "true"
    assert reply.header("X-Result-Row-Limit") == str(MAX_ROWS)
    assert reply.header("X-Result-Rows") == str(MAX_ROWS)


def test_a_cut_csv_answer_has_exactly_the_cap(live_server: LiveServer) -> None:
    reply = get(live_server, ALL_TRIPLES, {"Accept": "text/csv"})
    assert reply.status == 200
    assert reply.header("X-Result-Truncated") == "true"
    assert reply.body.count(b"\r\n") == MAX_ROWS + 1  # the header line and the rows


def test_a_long_graph_answer_is_cut_and_says_so(live_server: LiveServer) -> None:
    reply = get(
        live_server,
        "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
        {"Accept": "application/n-triples"},
    )
    assert reply.status == 200
    assert reply.header("X-Result-Truncated") == "true"
    assert reply.header("X-Result-Row-Limit") == str(MAX_ROWS)
    assert len(Graph().parse(data=reply.body, format="nt")) == MAX_ROWS


def long_rows(count: int, width: int) -> str:
    """A SELECT of ``count`` rows (the seed has more triples), each about ``width`` bytes."""
    return (
        f'SELECT ?s ?long WHERE {{ ?s ?p ?o BIND(CONCAT(STR(?o), "{"x" * width}") AS ?long) }}'
        f" LIMIT {count}"
    )


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "text/csv"])
def test_an_answer_past_the_size_limit_is_cut_at_a_row_and_says_so(
    live_server: LiveServer, accept: str
) -> None:
    reply = get(live_server, long_rows(900, 2000), {"Accept": accept})
    assert reply.status == 200
    assert reply.header("X-Result-Truncated") == "true"
    assert reply.header("X-Result-Byte-Limit") == str(LIVE_MAX_RESULT_BYTES)
    assert reply.header("X-Result-Row-Limit") == str(MAX_ROWS)
    written = int(reply.header("X-Result-Rows") or 0)
    assert 0 < written < 900
    assert LIVE_MAX_RESULT_BYTES - 3000 < len(reply.body) <= LIVE_MAX_RESULT_BYTES
    if accept == "text/csv":
        assert reply.body.count(b"\r\n") == written + 1
    else:
        assert len(bindings(reply)) == written


def test_a_graph_past_the_size_limit_is_cut_and_says_so(live_server: LiveServer) -> None:
    construct = long_rows(900, 2000).replace(
        "SELECT ?s ?long", "CONSTRUCT { ?s <urn:x:long> ?long }"
    )
    reply = get(live_server, construct, {"Accept": "application/n-triples"})
    assert reply.header("X-Result-Truncated") == "true"
    written = int(reply.header("X-Result-Rows") or 0)
    assert 0 < written < 900
    assert len(Graph().parse(data=reply.body, format="nt")) == written
    assert len(reply.body) <= LIVE_MAX_RESULT_BYTES


@pytest.mark.parametrize(("limit", "cut"), [(10, False), (MAX_ROWS, False), (MAX_ROWS + 1, True)])
def test_truncation_is_signalled_exactly_past_the_cap(
    live_server: LiveServer, limit: int, cut: bool
) -> None:
    reply = get(live_server, f"{ALL_TRIPLES} LIMIT {limit}")
    assert len(bindings(reply)) == min(limit, MAX_ROWS)
    if cut:
        assert reply.header("X-Result-Truncated") == "true"
    else:
        assert reply.header("X-Result-Truncated") is None
        assert reply.header("X-Result-Row-Limit") is None


# --- (g) body and query size ----------------------------------------------------------------


def padded(query: str, size: int) -> str:
    """The query followed by a comment, ``size`` characters in all."""
    return query + "\n#" + "x" * (size - len(query) - 2)


def test_a_body_above_the_limit_is_413(strict_server: LiveServer) -> None:
    big = padded(f"ASK {{ <{CITY}> a <{IG}City> }}", STRICT_BODY_BYTES + 500)
    assert_json_error(post_query(strict_server, big), 413)
    assert_json_error(post_form(strict_server, [("query", big)]), 413)
    fitting = padded(f"ASK {{ <{CITY}> a <{IG}City> }}", STRICT_BODY_BYTES - 200)
    assert post_query(strict_server, fitting).json()["boolean"] is True


def test_a_chunked_body_is_refused_before_it_is_read(strict_server: LiveServer) -> None:
    """No Content-Length: the limit still holds while the body is read."""
    big = padded("ASK {}", STRICT_BODY_BYTES * 4).encode()
    connection = http.client.HTTPConnection(
        "127.0.0.1", int(strict_server.url.rsplit(":", 1)[1]), timeout=30
    )
    try:
        connection.request(
            "POST",
            "/sparql",
            body=iter([big[i : i + 1000] for i in range(0, len(big), 1000)]),
            headers={"Content-Type": "application/sparql-query"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        reply = Reply(response.status, response.headers, response.read())
    finally:
        connection.close()
    # A body without a Content-Length cannot be bounded before it is read: 411 asks for one.
    assert_json_error(reply, 411, "Content-Length")


def test_a_query_above_the_character_limit_is_400(live_server: LiveServer) -> None:
    ask = f"ASK {{ <{CITY}> a <{IG}City> }}"
    message = assert_json_error(post_query(live_server, padded(ask, MAX_QUERY_CHARS + 1)), 400)
    assert str(MAX_QUERY_CHARS) in message
    assert post_query(live_server, padded(ask, MAX_QUERY_CHARS)).json()["boolean"] is True


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "[::1]:{port}"])
def test_a_forged_host_header_is_400(strict_server: LiveServer, host: str) -> None:
    port = strict_server.url.rsplit(":", 1)[1]
    headers = {"Host": host.format(port=port), "Accept": "text/turtle"}
    forged = fetch(strict_server.sparql, headers=headers)
    assert_json_error(forged, 400, "host")
    assert b"/sparql" not in forged.body
    ping = fetch(f"{strict_server.url}/-/ping", headers=headers)  # health checks may use any
    assert ping.status == 200


@pytest.mark.parametrize("host", ["localhost:{port}", "LocalHost.:{port}", "127.0.0.1"])
def test_a_trusted_host_in_any_spelling_is_answered(strict_server: LiveServer, host: str) -> None:
    port = strict_server.url.rsplit(":", 1)[1]
    reply = fetch(
        strict_server.sparql, headers={"Host": host.format(port=port), "Accept": "text/turtle"}
    )
    assert reply.status == 200
    assert b"sd:endpoint" in reply.body or b"#endpoint>" in reply.body


# --- (h) a few parallel queries -------------------------------------------------------------


def test_parallel_cheap_queries_all_succeed(live_server: LiveServer) -> None:
    queries = [fresh(CITY_SELECT) for _ in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda q: get(live_server, q), queries))
    for reply in replies:
        assert [r["city"]["value"] for r in bindings(reply)] == [CITY]
