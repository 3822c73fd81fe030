"""A query started without a thread waiting for it (``QueryWorkers.start``, what the server's
event loop uses for plain queries): it takes a quick place only when one is free now, and is
settled without a thread, as ``run`` settles every other: answered, refused, stopped at its
deadline, or moved to a long place (``check``), its quick place freed each time. What it came
to is then ``run``'s to raise or wait for, or it ends alone (``abandon``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from multiprocessing.connection import wait
from pathlib import Path

import pytest

from innograph import store
from innograph.query.workers import (
    SLEEP_FUNCTION,
    WAIT_FUNCTION,
    QueryFailed,
    QueryRequest,
    QueryTimeout,
    QueryWorkers,
    Started,
)


@pytest.fixture
def pool(seed_store: Path) -> Iterator[QueryWorkers]:
    made = QueryWorkers(seed_store, 1, 5.0, True, long_query_s=0.1)
    yield made
    made.close()


def query(root: Path, text: str) -> QueryRequest:
    return QueryRequest(f"{text} # {time.monotonic()}", "json", 10, store.require_current(root).id)


def started(
    pool: QueryWorkers, request: QueryRequest, within_s: float = 10.0, timeout_s: float = 5.0
) -> Started:
    """REQUEST started, once the pool's new worker has opened the store and said so."""
    deadline = time.monotonic() + within_s
    while (begun := pool.start(request, timeout_s)) is None:
        assert time.monotonic() < deadline, "no worker took the query"
        time.sleep(0.02)
    return begun


def replied(begun: Started) -> Started:
    assert wait([begun.worker.connection], timeout=5.0), "the worker did not reply"
    return begun


def test_a_started_query_holds_the_quick_place_until_it_is_answered(
    pool: QueryWorkers, seed_store: Path
) -> None:
    first = started(pool, query(seed_store, "ASK { ?s ?p ?o }"))
    assert pool.start(query(seed_store, "ASK {}"), 5.0) is None  # the one place is taken
    answer = pool.answered(replied(first))
    assert answer is not None
    assert answer.body == b'{"head":{},"boolean":true}'
    again = pool.start(query(seed_store, "ASK {}"), 5.0)
    assert again is not None  # free again
    assert pool.answered(replied(again)) is not None


def test_a_reply_that_is_no_answer_is_left_to_run(pool: QueryWorkers, seed_store: Path) -> None:
    begun = started(pool, query(seed_store, "SELEC nothing"))
    assert pool.answered(replied(begun)) is None
    assert isinstance(begun.outcome, QueryFailed)  # settled: the worker is back, the place free
    with pytest.raises(QueryFailed, match="expected a SPARQL query"):
        pool.run(begun.request, 5.0, begun)
    again = started(pool, query(seed_store, "ASK {}"), within_s=1.0)  # the place was freed
    assert pool.answered(replied(again)) is not None


def test_a_query_nobody_waits_for_ends_and_frees_its_place(
    pool: QueryWorkers, seed_store: Path
) -> None:
    begun = started(pool, query(seed_store, f'SELECT (<{WAIT_FUNCTION}>("0.3") AS ?x) {{}}'))
    pool.abandon(begun)
    assert pool.start(query(seed_store, "ASK {}"), 5.0) is None  # still running
    again = started(pool, query(seed_store, "ASK {}"), within_s=2.0)  # then the place is free
    assert again.worker is begun.worker  # and its worker back in the pool
    assert pool.answered(replied(again)) is not None


def checked(pool: QueryWorkers, begun: Started) -> bool:
    """``check`` at the query's ``check_at``, as the event loop calls it."""
    time.sleep(max(0.0, begun.check_at - time.monotonic()))
    return pool.check(begun)


def test_a_query_that_works_long_moves_to_a_long_place_and_frees_its_quick_one(
    pool: QueryWorkers, seed_store: Path
) -> None:
    begun = started(pool, query(seed_store, f'SELECT (<{SLEEP_FUNCTION}>("0.6") AS ?x) {{}}'))
    assert not checked(pool, begun)  # it has worked its check_at long: settled
    assert begun.long
    assert begun.outcome is None
    other = started(pool, query(seed_store, "ASK {}"), within_s=5.0)  # a new worker, the place
    assert pool.answered(replied(other)) is not None
    answer = pool.run(begun.request, 5.0, begun)  # the long place's answer
    assert b"slept" in answer.body


def test_a_query_that_only_waits_is_checked_again_later(
    pool: QueryWorkers, seed_store: Path
) -> None:
    begun = started(pool, query(seed_store, f'SELECT (<{WAIT_FUNCTION}>("0.4") AS ?x) {{}}'))
    first_check = begun.check_at
    assert checked(pool, begun)  # a busy machine's wait is no work: still quick
    assert begun.check_at > first_check
    assert pool.start(query(seed_store, "ASK {}"), 5.0) is None  # it keeps its quick place
    answer = pool.answered(replied(begun))
    assert answer is not None
    assert b"waited" in answer.body


def test_a_query_at_its_deadline_is_stopped_and_its_worker_replaced(
    pool: QueryWorkers, seed_store: Path
) -> None:
    text = f'SELECT (<{WAIT_FUNCTION}>("3") AS ?x) {{}}'
    begun = started(pool, query(seed_store, text), timeout_s=0.3)
    while checked(pool, begun):
        pass
    assert isinstance(begun.outcome, QueryTimeout)
    with pytest.raises(QueryTimeout):
        pool.run(begun.request, 0.3, begun)
    again = started(pool, query(seed_store, "ASK {}"), within_s=5.0)
    assert again.worker is not begun.worker
    assert pool.answered(replied(again)) is not None
