"""Per-client budgets of query time (issue 15 item 3): the pure core alone, then the production
server with a tight budget, clients told apart by the loopback address they connect from."""

from __future__ import annotations

import http.client
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from conftest import LiveServer, start_server, stop_server
from innograph.web.throttle import Budgets

# --- the core ----------------------------------------------------------------------------------


def test_a_quiet_client_has_its_burst_then_the_budget_refills_at_its_rate() -> None:
    budgets = Budgets(per_minute_s=6, burst_s=1, errors_per_minute=30)  # 0.1 s a second
    budgets.spend("a", seconds=1.5, failed=False, now=0)
    assert budgets.wait("a", now=0) == pytest.approx(5.0)  # 0.5 s in debt at 0.1 s a second
    assert budgets.wait("a", now=4.9) > 0
    assert budgets.wait("a", now=5.1) == 0
    assert budgets.wait("a", now=1000) == 0
    budgets.spend("a", seconds=1.05, failed=False, now=1000)  # the burst, not 100 s saved up
    assert budgets.wait("a", now=1000) > 0


def test_failed_queries_spend_the_error_budget_whatever_their_time() -> None:
    budgets = Budgets(per_minute_s=60, burst_s=60, errors_per_minute=3)
    for _ in range(3):
        assert budgets.spent("a", now=0) == ("", 0)
        budgets.spend("a", seconds=0.0, failed=True, now=0)
    what, wait = budgets.spent("a", now=0)
    assert what == "errors"
    assert wait == pytest.approx(20)  # one error back at 3 a minute
    assert budgets.spent("a", now=19.9)[0] == "errors"
    assert budgets.spent("a", now=20.1) == ("", 0)


def test_each_client_has_its_own_budget_and_forgotten_ones_start_full() -> None:
    budgets = Budgets(per_minute_s=60, burst_s=1, errors_per_minute=30, kept=2)
    budgets.spend("a", seconds=5, failed=False, now=0)
    assert budgets.wait("a", now=0) > 0
    assert budgets.wait("b", now=0) == 0
    budgets.wait("c", now=0)  # three clients in a table of two: "a" is forgotten
    assert budgets.wait("a", now=0) == 0


# --- the server ----------------------------------------------------------------------------------

PER_MINUTE_S = 1.2  # 0.02 s a second: a client 0.1 s in debt waits 5 s
BURST_S = 0.5
ERRORS = 2
SPENDER, OTHER, FAILING, PROXY = "127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"
JSON = {"Accept": "application/sparql-results+json"}


def budget_env(production: bool) -> dict[str, str]:
    return {
        "INNOGRAPH_TEST_FUNCTIONS": "true",
        "INNOGRAPH_QUERY_BUDGET_S_PER_MIN": str(PER_MINUTE_S),
        "INNOGRAPH_QUERY_BUDGET_BURST_S": str(BURST_S),
        "INNOGRAPH_QUERY_ERRORS_PER_MIN": str(ERRORS),
        "INNOGRAPH_TRUSTED_PROXIES": PROXY,
        "INNOGRAPH_PRODUCTION": str(production).lower(),
    }


@pytest.fixture(scope="module")
def production(seed_store: Path) -> Iterator[LiveServer]:
    server = start_server(seed_store, budget_env(production=True))
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def development(seed_store: Path) -> Iterator[LiveServer]:
    server = start_server(seed_store, budget_env(production=False))
    yield server
    stop_server(server)


def get(
    server: LiveServer, path: str, source: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One GET on a new connection from the loopback address SOURCE."""
    port = int(server.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=(source, 0)
    )
    try:
        connection.request("GET", path, headers={**JSON, **(headers or {})})
        response = connection.getresponse()
        return response.status, dict(response.headers), response.read()
    finally:
        connection.close()


def query(text: str) -> str:
    return "/sparql?" + urlencode({"query": f"{text}\n# {uuid.uuid4().hex}"})


SPEND = "SELECT (<urn:innograph:test:sleep>(0.6) AS ?x) WHERE {}"  # 0.6 s of a 0.5 s burst


def test_a_client_that_spends_its_budget_gets_429_with_retry_after_and_others_do_not(
    production: LiveServer,
) -> None:
    spending = query(SPEND)
    status, _, _ = get(production, spending, SPENDER)
    assert status == 200
    status, headers, body = get(production, query("ASK {}"), SPENDER)
    assert status == 429, body[:200]
    assert 1 <= int(headers["Retry-After"]) <= 10, headers["Retry-After"]
    message = json.loads(body)["error"]
    assert "query-time budget" in message
    assert "INNOGRAPH_QUERY_BUDGET_S_PER_MIN" in message
    # canned queries and documents ask the engine through the same budget
    status, _, _ = get(production, "/queries/cities-by-policy-area", SPENDER)
    assert status == 429
    # an answer already made costs nothing: the same request again is answered
    status, _, _ = get(production, spending, SPENDER)
    assert status == 200
    # another client's budget is its own
    for path in (query("ASK {}"), "/queries/cities-by-policy-area"):
        status, _, body = get(production, path, OTHER)
        assert status == 200, body[:200]


def test_queries_that_fail_spend_the_error_budget(production: LiveServer) -> None:
    for _ in range(ERRORS):
        status, _, _ = get(production, query("SELECT (<urn:no:such>(1) AS ?x) WHERE {}"), FAILING)
        assert status == 400
    status, headers, body = get(production, query("ASK {}"), FAILING)
    assert status == 429
    assert int(headers["Retry-After"]) >= 1
    assert "INNOGRAPH_QUERY_ERRORS_PER_MIN" in json.loads(body)["error"]


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(
    production: LiveServer,
) -> None:
    behind = {"X-Forwarded-For": "198.51.100.7"}
    assert get(production, query(SPEND), PROXY, behind)[0] == 200
    assert get(production, query("ASK {}"), PROXY, behind)[0] == 429
    assert get(production, query("ASK {}"), PROXY, {"X-Forwarded-For": "198.51.100.8"})[0] == 200
    # an address that is not a trusted proxy cannot borrow another's name, nor spend for it
    assert get(production, query("ASK {}"), "127.0.0.5", behind)[0] == 200


def test_loopback_clients_are_exempt_in_development(development: LiveServer) -> None:
    for _ in range(2):
        status, _, _ = get(development, query(SPEND), SPENDER)
        assert status == 200
    assert get(development, query("ASK {}"), SPENDER)[0] == 200


def test_an_error_budget_below_one_a_minute_still_lets_queries_start() -> None:
    """Each web worker holds its share of the budgets: 1 error a minute over 2 workers is half
    an error each, which must not refuse every query for ever."""
    budgets = Budgets(30, 30, 0.5)
    assert budgets.spent("a", 0.0) == ("", 0.0)
    budgets.spend("a", 0.1, failed=True, now=0.0)
    assert budgets.spent("a", 1.0)[0] == "errors"
    assert budgets.spent("a", 121.0) == ("", 0.0)  # the debt of half an error, paid back
