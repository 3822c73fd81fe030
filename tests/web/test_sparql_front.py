"""The endpoint's front door (``innograph.web.sparql.answered_first``): a request answered
before gets the same response again without entering Flask, and nothing that could change the
response is answered from it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conftest import SEED, built_store
from innograph import store
from innograph.settings import Settings
from innograph.web import create_app
from innograph.web.sparql import AnsweredRequests

QUERY = "SELECT ?city WHERE { ?city a <https://w3id.org/innograph/def/City> }"
SPARQL_QUERY = {"Content-Type": "application/sparql-query"}


@pytest.fixture
def app(seed_store: Path) -> Iterator[Flask]:
    app = create_app(Settings(store=seed_store))
    yield app
    app.extensions["innograph"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def served_by_flask(app: Flask) -> list[str]:
    """Records each request Flask itself handles (the front door's misses)."""
    seen: list[str] = []

    def note() -> None:
        seen.append("flask")

    app.before_request(note)
    return seen


def test_a_repeat_gets_the_same_response_without_flask(app: Flask, client: FlaskClient) -> None:
    # A cheap answer is kept when it is asked for the second time (the answer cache's rule).
    seen = served_by_flask(app)
    first, second, third = (
        client.post("/sparql", data=QUERY, headers=SPARQL_QUERY) for _ in range(3)
    )
    assert first.status_code == second.status_code == third.status_code == 200
    assert second.data == third.data == first.data
    assert list(third.headers) == list(second.headers) == list(first.headers)
    assert seen == ["flask", "flask"]


def test_get_and_post_form_are_answered_again(app: Flask, client: FlaskClient) -> None:
    seen = served_by_flask(app)
    for _ in range(3):
        assert client.get("/sparql", query_string={"query": QUERY}).status_code == 200
        assert client.post("/sparql", data={"query": QUERY}).status_code == 200
    # One answer asked twice (GET, then the form) is kept; the GET once more through Flask
    # (an answer cache hit), then both from the front door.
    assert seen == ["flask"] * 3


def test_a_one_off_cheap_query_is_not_kept(app: Flask, client: FlaskClient) -> None:
    cache = app.extensions["innograph"].cache
    seen = served_by_flask(app)
    for n in range(3):
        client.post("/sparql", data=f"{QUERY} # {n}", headers=SPARQL_QUERY)
    assert seen == ["flask"] * 3
    assert cache._size == 0


@pytest.mark.parametrize(
    "other",
    [
        {"Accept": "application/sparql-results+xml"},
        {"Accept-Encoding": "gzip"},
        {"Host": "example.org"},
    ],
)
def test_what_changes_the_response_is_asked_of_flask(
    app: Flask, client: FlaskClient, other: dict[str, str]
) -> None:
    seen = served_by_flask(app)
    for _ in range(3):
        client.post("/sparql", data=QUERY, headers=SPARQL_QUERY)
    reply = client.post("/sparql", data=QUERY, headers={**SPARQL_QUERY, **other})
    assert reply.status_code == 200
    assert seen == ["flask"] * 3


def test_a_forged_host_is_refused_after_a_trusted_one_was_answered(seed_store: Path) -> None:
    app = create_app(Settings(store=seed_store, trusted_hosts="localhost"))
    try:
        client = app.test_client()
        for _ in range(3):
            assert client.get("/sparql", query_string={"query": QUERY}).status_code == 200
        forged = client.get(
            "/sparql", query_string={"query": QUERY}, headers={"Host": "evil.example"}
        )
        assert forged.status_code == 400
    finally:
        app.extensions["innograph"].close()


def test_a_conditional_repeat_is_304_from_the_front_door(app: Flask, client: FlaskClient) -> None:
    seen = served_by_flask(app)
    first = client.post("/sparql", data=QUERY, headers=SPARQL_QUERY)
    tag = first.headers["ETag"]
    conditional = {**SPARQL_QUERY, "If-None-Match": tag}
    replies = [client.post("/sparql", data=QUERY, headers=conditional) for _ in range(3)]
    assert [r.status_code for r in replies] == [304, 304, 304]
    assert all(r.data == b"" for r in replies)
    assert list(replies[2].headers) == list(replies[0].headers)
    assert replies[0].headers["Vary"] == first.headers["Vary"]
    assert seen == ["flask", "flask"]  # the 200, then the first 304
    other = client.post("/sparql", data=QUERY, headers={**SPARQL_QUERY, "If-None-Match": 'W/"x"'})
    assert other.status_code == 200


def test_errors_are_never_kept(app: Flask, client: FlaskClient) -> None:
    seen = served_by_flask(app)
    for _ in range(2):
        reply = client.post("/sparql", data="SELECT WHERE {", headers=SPARQL_QUERY)
        assert reply.status_code == 400
    assert seen == ["flask", "flask"]


def test_a_body_over_the_limit_is_still_413(seed_store: Path) -> None:
    app = create_app(Settings(store=seed_store, max_body_bytes=100))
    try:
        reply = app.test_client().post("/sparql", data=QUERY + " " * 200, headers=SPARQL_QUERY)
        assert reply.status_code == 413
    finally:
        app.extensions["innograph"].close()


def test_with_the_cache_off_nothing_is_kept(seed_store: Path) -> None:
    app = create_app(Settings(store=seed_store, result_cache_bytes=1))
    try:
        seen = served_by_flask(app)
        client = app.test_client()
        for _ in range(3):
            assert client.post("/sparql", data=QUERY, headers=SPARQL_QUERY).status_code == 200
        assert seen == ["flask"] * 3
    finally:
        app.extensions["innograph"].close()


def test_another_served_version_is_asked_again(tmp_path: Path) -> None:
    root = built_store([SEED], tmp_path / "store")
    built_store([SEED], root)  # a second version; the first stays as previous
    app = create_app(Settings(store=root))
    try:
        client = app.test_client()
        for _ in range(3):
            first = client.post("/sparql", data=QUERY, headers=SPARQL_QUERY)
        store.rollback(root)
        again = client.post("/sparql", data=QUERY, headers=SPARQL_QUERY)
        assert again.status_code == 200
        assert again.headers["ETag"] != first.headers["ETag"]
    finally:
        app.extensions["innograph"].close()
        shutil.rmtree(root, ignore_errors=True)


def test_bodiless_304s_are_bounded_too() -> None:
    """A 304 has no body; counted as nothing, 304s asked with ever new query strings were
    kept for ever."""
    kept = AnsweredRequests(100_000)
    headers = [
        ("ETag", 'W/"0123456789abcdef0123456789abcdef"'),
        ("Vary", "Accept, Accept-Encoding"),
    ]
    for n in range(10_000):
        kept.put(n.to_bytes(4, "big"), "304 Not Modified", headers, b"")
    assert kept.get((9_999).to_bytes(4, "big")) is not None
    assert sum(kept.get(n.to_bytes(4, "big")) is not None for n in range(10_000)) < 200
