"""HTTP done right on every response of the live server: CORS, Vary, gzip, validators and cache
headers, JSON errors without tracebacks, and the liveness probe."""

from __future__ import annotations

import gzip
import re
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF
from webcheck import (
    CITY,
    CITY_ASK,
    CITY_GRAPH,
    CITY_SELECT,
    IG,
    Reply,
    assert_json_error,
    fetch,
    fresh,
    get,
    post_form,
    post_query,
    query_url,
)

from conftest import LiveServer

ORIGIN = {"Origin": "https://elsewhere.example"}
# Large enough to compress (the whole city graph, ~600 triples) and below the 1000-row cap.
BIG_CONSTRUCT = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{CITY_GRAPH}> {{ ?s ?p ?o }} }}"
BIG_SELECT = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{CITY_GRAPH}> {{ ?s ?p ?o }} }}"


# --- CORS -----------------------------------------------------------------------------------


@pytest.mark.parametrize("query", [CITY_SELECT, "SELECT * WHERE {"], ids=["answer", "error"])
def test_cors_on_get(live_server: LiveServer, query: str) -> None:
    reply = get(live_server, query, ORIGIN)
    assert reply.header("Access-Control-Allow-Origin") == "*"
    assert reply.header("Access-Control-Allow-Credentials") is None
    exposed = {
        h.strip().lower() for h in (reply.header("Access-Control-Expose-Headers") or "").split(",")
    }
    assert {"etag", "x-result-truncated", "x-result-row-limit"} <= exposed


def test_cors_preflight(live_server: LiveServer) -> None:
    reply = fetch(
        live_server.sparql,
        "OPTIONS",
        headers={
            **ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
    )
    assert 200 <= reply.status < 300
    assert reply.header("Access-Control-Allow-Origin") == "*"
    methods = {m.strip() for m in (reply.header("Access-Control-Allow-Methods") or "").split(",")}
    assert {"GET", "POST"} <= methods
    allowed = (reply.header("Access-Control-Allow-Headers") or "").lower()
    assert "content-type" in allowed
    assert reply.header("Access-Control-Allow-Credentials") is None


# --- Vary and gzip --------------------------------------------------------------------------


def test_vary_on_negotiated_answers(live_server: LiveServer) -> None:
    select = get(live_server, CITY_SELECT)
    assert {"accept", "accept-encoding"} <= select.vary()  # JSON is compressible
    description = fetch(live_server.sparql, headers={"Accept": "text/turtle"})
    assert {"accept", "accept-encoding"} <= description.vary()
    refused = get(live_server, CITY_SELECT, {"Accept": "image/png"})
    assert refused.status == 406
    assert "accept" in refused.vary()


def test_gzip_on_a_large_construct(live_server: LiveServer) -> None:
    plain = get(live_server, BIG_CONSTRUCT, {"Accept": "text/turtle"})
    packed = get(live_server, BIG_CONSTRUCT, {"Accept": "text/turtle", "Accept-Encoding": "gzip"})
    assert plain.status == packed.status == 200
    assert plain.header("Content-Encoding") is None
    assert packed.header("Content-Encoding") == "gzip"
    assert "accept-encoding" in packed.vary()
    assert packed.header("X-Result-Truncated") is None
    body = gzip.decompress(packed.body)
    assert body == plain.body
    assert len(packed.body) < len(body) / 3
    graph = Graph().parse(data=body, format="turtle")
    assert (URIRef(CITY), RDF.type, URIRef(f"{IG}City")) in graph
    assert len(graph) > 300


def test_the_answer_cache_keeps_encodings_apart(live_server: LiveServer) -> None:
    query = BIG_CONSTRUCT + "\n# asked for gzipped first"  # a text no other test sends
    gzipped, plain = {"Accept": "text/turtle", "Accept-Encoding": "gzip"}, {"Accept": "text/turtle"}
    # the second of each kind is a cache hit: it must keep its own encoding
    replies = [get(live_server, query, headers) for headers in (gzipped, plain, gzipped, plain)]
    assert [r.status for r in replies] == [200] * 4
    assert [r.header("Content-Encoding") for r in replies] == ["gzip", None, "gzip", None]
    assert len({r.header("ETag") for r in replies}) == 1  # one weak tag for both encodings
    bodies = {gzip.decompress(r.body) if r.header("Content-Encoding") else r.body for r in replies}
    assert len(bodies) == 1


@pytest.mark.parametrize("refusal", ["gzip;q=0", "identity, *;q=0", "br"])
def test_no_gzip_for_a_client_that_refuses_it(live_server: LiveServer, refusal: str) -> None:
    reply = get(live_server, BIG_CONSTRUCT, {"Accept": "text/turtle", "Accept-Encoding": refusal})
    assert reply.status == 200
    assert reply.header("Content-Encoding") is None
    assert len(Graph().parse(data=reply.body, format="turtle")) > 300


def test_head_answers_like_get_without_a_body(live_server: LiveServer) -> None:
    got = get(live_server, CITY_SELECT)
    head = fetch(query_url(live_server, {"query": CITY_SELECT}), "HEAD")
    assert head.status == got.status == 200
    assert head.body == b""
    for name in ("Content-Type", "ETag", "Last-Modified", "Cache-Control", "X-Result-Rows"):
        assert head.header(name) == got.header(name), name


def test_a_small_answer_is_not_compressed(live_server: LiveServer) -> None:
    reply = get(live_server, CITY_ASK, {"Accept-Encoding": "gzip"})
    assert reply.status == 200
    assert reply.header("Content-Encoding") is None
    assert reply.json()["boolean"] is True


# --- validators and cache headers -----------------------------------------------------------


def test_etag_last_modified_and_max_age_on_get(live_server: LiveServer) -> None:
    reply = get(live_server, CITY_SELECT)
    assert reply.status == 200
    assert re.fullmatch(r'(W/)?"[^"]+"', reply.header("ETag") or "")
    parsedate_to_datetime(reply.header("Last-Modified") or "")  # an HTTP date
    cache_control = reply.header("Cache-Control") or ""
    assert re.search(r"\bmax-age=\d+\b", cache_control), cache_control
    assert "no-store" not in cache_control


def test_if_none_match_gives_304_without_a_body(live_server: LiveServer) -> None:
    first = get(live_server, CITY_SELECT)
    etag = first.header("ETag")
    assert etag
    again = get(live_server, CITY_SELECT, {"If-None-Match": etag})
    assert again.status == 304
    assert again.body == b""
    assert again.header("ETag") == etag
    assert etag.startswith('W/"')  # the same answer may travel gzipped or not
    strong_form = get(live_server, CITY_SELECT, {"If-None-Match": etag.removeprefix("W/")})
    assert strong_form.status == 304
    other = get(live_server, CITY_SELECT, {"If-None-Match": '"something-else"'})
    assert other.status == 200
    assert other.body == first.body


def test_the_etag_depends_on_the_format(live_server: LiveServer) -> None:
    json_tag = get(live_server, CITY_SELECT).header("ETag")
    csv_reply = get(
        live_server, CITY_SELECT, {"Accept": "text/csv", "If-None-Match": json_tag or ""}
    )
    assert csv_reply.status == 200
    assert csv_reply.header("ETag") != json_tag


def test_a_304_carries_the_same_vary_as_the_200(live_server: LiveServer) -> None:
    first = get(live_server, CITY_SELECT)
    again = get(live_server, CITY_SELECT, {"If-None-Match": first.header("ETag") or ""})
    assert again.status == 304
    assert again.vary() == first.vary()


def test_the_etag_depends_on_the_limits(seed_store: Path) -> None:
    # Two configurations of one store version, same URL: an answer cut under one size limit
    # must not be revalidated (304) under another.
    from innograph.settings import Settings
    from innograph.web import create_app

    tags = []
    for cap in (2000, 10**6):
        app = create_app(Settings(store=seed_store, max_result_bytes=cap))
        try:
            reply = app.test_client().get("/sparql", query_string={"query": BIG_SELECT})
            assert reply.status_code == 200
            assert (reply.headers.get("X-Result-Truncated") == "true") == (cap == 2000)
            tags.append(reply.headers["ETag"])
        finally:
            app.extensions["innograph"].close()
    assert tags[0] != tags[1]


def test_a_gzipped_answer_has_its_own_strong_etag(live_server: LiveServer) -> None:
    plain = get(live_server, BIG_CONSTRUCT, {"Accept": "text/turtle"})
    packed = get(live_server, BIG_CONSTRUCT, {"Accept": "text/turtle", "Accept-Encoding": "gzip"})
    assert packed.header("Content-Encoding") == "gzip"
    tag = packed.header("ETag") or ""
    assert tag.startswith("W/") or tag != plain.header("ETag")


# --- errors are JSON, never a traceback -----------------------------------------------------


def error_requests(server: LiveServer) -> dict[str, tuple[Reply, int]]:
    big = "ASK {}" + " " * (70 * 1024)  # above the default 64 KiB body limit
    return {
        "syntax": (get(server, "SELECT * WHERE { ?s ?p "), 400),
        "query twice": (post_form(server, [("query", CITY_ASK), ("query", CITY_ASK)]), 400),
        "bad timeout": (get(server, fresh(CITY_SELECT), timeout="soon"), 400),
        "update": (post_query(server, "CLEAR ALL"), 403),
        "not acceptable": (get(server, CITY_SELECT, {"Accept": "image/png"}), 406),
        "body too large": (post_query(server, big), 413),
        "media type": (
            fetch(server.sparql, "POST", b"ASK {}", {"Content-Type": "text/plain"}),
            415,
        ),
        "method": (fetch(server.sparql, "PUT", b"ASK {}", {"Content-Type": "text/plain"}), 405),
        "no such path": (fetch(f"{server.url}/nope"), 404),
        "no such static file": (fetch(f"{server.url}/static/nope.css"), 404),
        "traversal": (fetch(f"{server.url}/static/%2e%2e/%2e%2e/settings.py"), 404),
    }


def test_errors_are_json_without_a_traceback(live_server: LiveServer) -> None:
    for name, (reply, status) in error_requests(live_server).items():
        try:
            assert_json_error(reply, status)
        except AssertionError as failure:
            raise AssertionError(f"{name}: {failure}") from None
        assert reply.header("Cache-Control") == "no-store", name
        assert reply.header("Access-Control-Allow-Origin") == "*", name


def test_a_404_path_is_json(live_server: LiveServer) -> None:
    message = assert_json_error(fetch(f"{live_server.url}/sparql/extra"), 404)
    assert "/sparql/extra" in message


def test_a_405_names_the_allowed_methods(live_server: LiveServer) -> None:
    reply = fetch(live_server.sparql, "PUT", b"ASK {}", {"Content-Type": "text/plain"})
    assert_json_error(reply, 405)
    allowed = {m.strip() for m in (reply.header("Allow") or "").split(",")}
    assert {"GET", "POST"} <= allowed


def test_a_too_long_request_line_is_a_json_error(live_server: LiveServer) -> None:
    # above gunicorn's limit_request_line (8,190 bytes): refused before the app sees it
    reply = get(live_server, "ASK {}" + "#" * 9000)
    assert_json_error(reply, 414, "POST")
    assert reply.header("Access-Control-Allow-Origin") == "*"


def test_too_large_headers_are_a_json_error(live_server: LiveServer) -> None:
    reply = fetch(live_server.sparql, headers={"X-Padding": "x" * 9000})
    assert_json_error(reply, 431)
    assert reply.header("Access-Control-Allow-Origin") == "*"


def test_the_same_query_posted_is_answered(live_server: LiveServer) -> None:
    reply = post_query(live_server, "ASK {}" + "#" * 9000)
    assert reply.status == 200
    assert reply.json() == {"head": {}, "boolean": True}


def test_the_page_may_load_only_its_own_code(live_server: LiveServer) -> None:
    page = fetch(live_server.sparql, headers={"Accept": "text/html"})
    assert page.media_type == "text/html"
    policy = page.header("Content-Security-Policy") or ""
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert page.header("X-Content-Type-Options") == "nosniff"
    answer = get(live_server, CITY_SELECT)
    assert answer.header("X-Content-Type-Options") == "nosniff"
    assert answer.header("Content-Security-Policy") is None  # data, not a page


# --- liveness -------------------------------------------------------------------------------


def test_ping_is_plain_text_and_not_cached(live_server: LiveServer) -> None:
    reply = fetch(f"{live_server.url}/-/ping")
    assert reply.status == 200
    assert reply.media_type == "text/plain"
    assert reply.header("Cache-Control") == "no-cache"
    assert reply.body.strip() == b"ok"
