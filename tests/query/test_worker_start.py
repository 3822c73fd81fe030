"""When a query worker is new or gone (``innograph.query.workers.QueryWorkers``): workers open the
served version before their first query, and a crowd arriving meanwhile waits for them; a worker
killed while idle is replaced before a query is sent to it, even before it is reaped."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

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


@pytest.mark.parametrize("answered", [False, True], ids=["new", "has-answered"])
def test_a_worker_killed_while_idle_is_replaced_before_its_fork_server_reaps_it(
    seed_store: Path, answered: bool
) -> None:
    """Killed from outside, a worker is a zombie until its fork server reaps it, and the pool's
    process handle says it is alive until then: the query must go to a replacement, not be sent
    to the dead one and lost (503). The fork server is stopped so that the zombie stays. (A new
    worker is checked in /proc, one that has answered by its pipe.)"""
    version = store.require_current(seed_store).id
    pool = QueryWorkers(seed_store, 1, 5.0, False)
    try:
        if answered:
            pool.run(QueryRequest("ASK { ?s ?p ?o } # first", "json", 10, version), 10.0)
        (pid,) = pool.idle_pids()
        fork_server = int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
        os.kill(fork_server, signal.SIGSTOP)
        try:
            os.kill(pid, signal.SIGKILL)
            while Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
                time.sleep(0.01)
        finally:  # the replacement is forked by the fork server: it must run again soon
            threading.Timer(0.5, os.kill, (fork_server, signal.SIGCONT)).start()
        answer = pool.run(QueryRequest("ASK { ?s ?p ?o }", "json", 10, version), 10.0)
        assert answer.body == b'{"head":{},"boolean":true}'
        assert pid not in pool.idle_pids()
    finally:
        pool.close()
