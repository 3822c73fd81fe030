"""A query worker pool just started (``innograph.query.workers.QueryWorkers``): its workers open
the served version before their first query, and a crowd arriving meanwhile waits for them."""

from __future__ import annotations

import threading
from pathlib import Path

from innograph import store
from innograph.query.workers import QueryRequest, QueryWorkers


def test_a_pool_just_started_answers_a_crowd_without_taking_anyone_for_long(
    synthetic_store: Path,
) -> None:
    """Queries that reach workers still opening the version wait for them; the CPU spent
    opening is no query's. When it was counted, every first query looked long, each took a new
    process's place, and the crowd was turned away (503) for seconds after a start."""
    version = store.require_current(synthetic_store).id
    pool = QueryWorkers(synthetic_store, 2, 5.0, False, long_query_s=0.05)
    try:
        started = set(pool.idle_pids())
        errors: list[BaseException] = []

        def ask(number: int) -> None:
            try:
                pool.run(QueryRequest(f"ASK {{ ?s ?p ?o }} # {number}", "json", 10, version), 5.0)
            except BaseException as error:  # reported by the assertion
                errors.append(error)

        crowd = [threading.Thread(target=ask, args=(n,)) for n in range(16)]
        for thread in crowd:
            thread.start()
        for thread in crowd:
            thread.join()
        assert errors == []
        assert set(pool.idle_pids()) == started  # no worker was given up to a long query
    finally:
        pool.close()
