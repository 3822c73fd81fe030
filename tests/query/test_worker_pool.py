"""The query workers' pool (``innograph.query.workers.QueryWorkers``): a long query's process
rejoins the pool when it ends in time, the surplus it makes takes the next long query's place
instead of a new process and waits in reserve meanwhile, a surplus left idle is stopped, a
worker that fails is replaced, and a query known to be long goes to the long places at once."""

from __future__ import annotations

import dataclasses
import os
import pickle
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from innograph import store
from innograph.query import workers
from innograph.query.guard import inspect_query
from innograph.query.workers import (
    SLEEP_FUNCTION,
    WAIT_FUNCTION,
    KnownLongTurnedAway,
    QueryRequest,
    QueryTimeout,
    QueryWorkers,
    ServerBusy,
)

LONG_S = 0.1
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="a long query's priority is restored only with CAP_SYS_NICE (root)"
)


@pytest.fixture
def pool(seed_store: Path) -> Iterator[QueryWorkers]:
    made = QueryWorkers(seed_store, 1, 5.0, True, long_query_s=LONG_S)
    yield made
    made.close()


def ask(pool: QueryWorkers, root: Path, seconds: float, function: str = SLEEP_FUNCTION) -> None:
    """A query that works (burns CPU) for that long, or with WAIT_FUNCTION waits that long."""
    text = f'SELECT (<{function}>("{seconds}") AS ?x) {{}} # {time.monotonic()}'
    version = store.require_current(root).id
    pool.run(QueryRequest(text, "json", 10, version), 5.0)


def settled(pool: QueryWorkers, count: int, within_s: float = 5.0) -> set[int]:
    """The idle workers once there are COUNT of them (a new or returning worker joins in the
    background)."""
    deadline = time.monotonic() + within_s
    while len(pids := pool.idle_pids()) != count:
        assert time.monotonic() < deadline, pids
        time.sleep(0.02)
    return set(pids)


def test_long_queries_reuse_their_processes(pool: QueryWorkers, seed_store: Path) -> None:
    first = settled(pool, 1)
    ask(pool, seed_store, 3 * LONG_S)
    both = settled(pool, 2)  # the long query's process is back, beside the one that took its place
    assert first < both
    for _ in range(3):
        ask(pool, seed_store, 3 * LONG_S)
        assert settled(pool, 2) == both  # no new process: the surplus took the long one's place


def test_a_surplus_left_idle_is_stopped(
    pool: QueryWorkers, seed_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ask(pool, seed_store, 3 * LONG_S)
    settled(pool, 2)
    monkeypatch.setattr(workers, "SURPLUS_IDLE_S", 0.2)
    time.sleep(0.3)
    ask(pool, seed_store, 0)  # a quick query: its worker's return finds the stale surplus
    settled(pool, 1)


def test_a_surplus_waits_in_reserve_while_quick_queries_take_turns(
    pool: QueryWorkers, seed_store: Path
) -> None:
    """At most as many quick queries run at once as the pool's size, whatever it holds: the
    surplus a long query left does not answer beside the pool's own worker (it stays idle, to
    take the next long query's place or be stopped)."""
    ask(pool, seed_store, 3 * LONG_S)
    settled(pool, 2)  # the pool's worker and a surplus
    answered: list[float] = []

    def wait() -> None:
        ask(pool, seed_store, 0.5, WAIT_FUNCTION)  # hardly any CPU: never long
        answered.append(time.monotonic())

    started = time.monotonic()
    both = [threading.Thread(target=wait) for _ in range(2)]
    for thread in both:
        thread.start()
    for thread in both:
        thread.join()
    assert len(answered) == 2
    assert max(answered) - started >= 2 * 0.5  # one after the other, not side by side


def test_a_worker_that_fails_unexpectedly_is_replaced(
    seed_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever goes wrong while a query waits on its worker (here a reply that cannot be
    read), the worker is replaced: a pool of one left a worker short would turn every later
    query away once its queue wait (1 s here) had passed."""
    pool = QueryWorkers(seed_store, 1, 1.0, True, long_query_s=LONG_S)
    receive = QueryWorkers._receive
    garbled = [True]

    def unreadable(worker: workers._Worker, timeout_s: float) -> tuple[str, Any, float] | None:
        if garbled:
            garbled.clear()
            raise pickle.UnpicklingError("a reply that cannot be read")
        return receive(worker, timeout_s)

    try:
        ask(pool, seed_store, 0)
        monkeypatch.setattr(QueryWorkers, "_receive", staticmethod(unreadable))
        with pytest.raises(pickle.UnpicklingError):
            ask(pool, seed_store, 0)
        ask(pool, seed_store, 0)  # answered: a new worker took the failed one's place
    finally:
        pool.close()


def test_a_query_that_waits_rather_than_works_is_not_long(seed_store: Path) -> None:
    """Long is what used the CPU (a share of ``long_query_s``, ``WORKING``): on a loaded
    machine a cheap query can wait past ``long_query_s`` without working, and must not be
    turned away when the long places are taken (the pool's one long place is held here by a
    query that works). At 0.25 s (25 ms of CPU): CPU time is counted in 10 ms ticks."""
    long_s = 0.25
    pool = QueryWorkers(seed_store, 1, 5.0, True, long_query_s=long_s)
    try:
        working = threading.Thread(target=ask, args=(pool, seed_store, 8 * long_s))
        working.start()
        time.sleep(2 * long_s)  # it is long now, and holds the only long place
        ask(pool, seed_store, 0)  # the new worker has opened the version: not timed here
        started = time.monotonic()
        ask(pool, seed_store, 3 * long_s, WAIT_FUNCTION)  # past long_query_s, hardly any CPU
        assert time.monotonic() - started >= 3 * long_s
        with pytest.raises(ServerBusy):  # while one that works that long is turned away
            ask(pool, seed_store, 3 * long_s)
        working.join()
    finally:
        pool.close()


def shaped(text: str, root: Path) -> QueryRequest:
    """The request /sparql makes of TEXT: with the guard's shape of it."""
    version = store.require_current(root).id
    return QueryRequest(text, "json", 10, version, shape=inspect_query(text).shape)


def test_a_query_known_long_is_turned_away_before_it_takes_a_worker(seed_store: Path) -> None:
    """A query that worked long once on this version is long every time: written again with
    another comment and spacing, it is turned away at once when the long places are full,
    without taking a regular worker's CPU to be found out and that worker's process killed
    (the idle worker is the same process after)."""
    pool = QueryWorkers(seed_store, 1, 5.0, True, long_query_s=LONG_S)
    burn = f'SELECT (<{SLEEP_FUNCTION}>("{10 * LONG_S}") AS ?x) {{}}'
    try:
        with pytest.raises(QueryTimeout):  # long beyond doubt: stopped at its limit
            pool.run(shaped(f"{burn} # first", seed_store), 5 * LONG_S)
        settled(pool, 1)  # its process is stopped, another took its place
        holding = threading.Thread(target=ask, args=(pool, seed_store, 20 * LONG_S))
        holding.start()
        time.sleep(5 * LONG_S)  # it is long now, and holds the only long place
        idle = settled(pool, 1)
        again = burn.replace(" {}", "\n  {}") + "\n# the same query, written again"
        with pytest.raises(KnownLongTurnedAway):
            pool.run(shaped(again, seed_store), 5.0)
        assert set(pool.idle_pids()) == idle
        holding.join()
        pool.run(shaped(again, seed_store), 5.0)  # a long place is free: it runs there
    finally:
        pool.close()


def test_the_work_tells_apart_what_changes_a_querys_cost() -> None:
    """The same text but for comments and spacing is the same work; other variable names
    (which a JSON or XML answer repeats on every row), another format or encoding is not:
    a costly variant must not have the cheap original turned away."""
    text = "SELECT ?s ?p ?o { ?s ?p ?o }"
    one = shaped_request(text)
    assert shaped_request(text.replace(" {", "\n{") + " # again").work == one.work
    assert shaped_request(text.replace("?s", "?" + "s" * 5000)).work != one.work
    assert dataclasses.replace(one, fmt="xml").work != one.work
    assert dataclasses.replace(one, gzip=True).work != one.work


def shaped_request(text: str) -> QueryRequest:
    return QueryRequest(text, "json", 10, "v1", shape=inspect_query(text).shape)


def test_a_query_long_by_chance_is_forgotten_when_it_answers_quickly(seed_store: Path) -> None:
    """Noted long (as a loaded machine may make a cheap query look), a query that answers in
    the long lane having worked less than a regular worker lets one work is forgotten."""
    pool = QueryWorkers(seed_store, 1, 5.0, True, long_query_s=LONG_S)
    request = shaped("SELECT ?s WHERE { ?s ?p ?o } LIMIT 1", seed_store)
    try:
        pool._costs.note(request.work, 1.0)  # as if it had been found long
        pool.run(request, 5.0)  # sent to the long lane, where it answers at once
        assert pool._costs.worked(request.work) == 0
    finally:
        pool.close()
