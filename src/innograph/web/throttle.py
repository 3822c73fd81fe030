"""Per-client budgets of query time, WDQS's model: each client may use so many seconds of
engine time per minute (after a burst) and have so many queries time out or fail; past either,
429 with ``Retry-After``. A query is paid for after it ran, by what the engine spent on it, so a
cache hit costs nothing and a client learns its budget is spent on its next query.

``Budgets`` is the pure core (no I/O, the clock passed in); ``run`` is its hook around the query
workers for ``/sparql`` and every view that asks the engine (canned queries, pages).

Budgets live in each web worker process: with N gunicorn workers each holds 1/N of the settings
(``share``), so a client never gets more than the budget, and one that keeps a connection open
(and so one worker) gets 1/N of it. Shared memory across the workers would be exact, at the cost
of a lock between processes on every query; not worth it while a budget is a guard, not a bill.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import cast

from flask import Flask, Response, current_app, jsonify, request

from ..errors import InnographError
from ..query.remote import Executor
from ..query.workers import (
    Answer,
    LongQueriesFull,
    QueryRequest,
    QueryTimeout,
    QueryWorkers,
    ServerBusy,
    Started,
    WorkerLost,
)
from ..settings import Settings

CLIENTS_KEPT = 10_000  # clients whose balance is remembered; the least recently seen go first
EXTENSION = "innograph.throttle"


class Throttled(InnographError):
    """The client's budget is spent: 429, naming the budget and the setting."""

    http_status = 429

    def __init__(self, what: str, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(
            f"this client has used its {what}; retry in {self.retry_after} s (the budget is per"
            " client address; a server's operator sets it)"
        )


@dataclass(slots=True)
class Balance:
    seconds: float  # engine seconds left; below 0 after a query that cost more than was left
    errors: float  # failed or timed-out queries left
    stamp: float  # when both were last brought up to date


class Budgets:
    """Two token buckets per client: engine seconds (``per_minute_s`` a minute, up to
    ``burst_s``) and errors (``errors_per_minute``, up to as many). A client may start a query
    while it is not in debt of seconds and could afford one more error.

    >>> b = Budgets(per_minute_s=60, burst_s=2, errors_per_minute=30)
    >>> b.wait("a", now=0.0)
    0.0
    >>> b.spend("a", seconds=3.0, failed=False, now=0.0)
    >>> round(b.wait("a", now=0.0), 3), b.wait("b", now=0.0)
    (1.0, 0.0)
    >>> b.wait("a", now=1.5)
    0.0
    """

    def __init__(
        self,
        per_minute_s: float,
        burst_s: float,
        errors_per_minute: float,
        kept: int = CLIENTS_KEPT,
    ) -> None:
        self.per_minute_s = per_minute_s
        self.burst_s = burst_s
        self.errors_per_minute = errors_per_minute
        self._kept = kept
        self._balances: OrderedDict[str, Balance] = OrderedDict()
        self._lock = threading.Lock()

    def _balance(self, client: str, now: float) -> Balance:
        """The client's balance, refilled for the time since it was last seen (lock held)."""
        found = self._balances.get(client)
        if found is None:
            found = Balance(self.burst_s, self.errors_per_minute, now)
            self._balances[client] = found
            while len(self._balances) > self._kept:  # a forgotten client starts full again
                self._balances.popitem(last=False)
        else:
            self._balances.move_to_end(client)
            elapsed = max(0.0, now - found.stamp)
            found.seconds = min(self.burst_s, found.seconds + elapsed * self.per_minute_s / 60)
            found.errors = min(
                self.errors_per_minute, found.errors + elapsed * self.errors_per_minute / 60
            )
            found.stamp = now
        return found

    def wait(self, client: str, now: float) -> float:
        """0 if the client may start a query now; else the seconds until it may."""
        return self.spent(client, now)[1]

    def spent(self, client: str, now: float) -> tuple[str, float]:
        """Which budget is spent ("" if none) and the seconds until the client may query."""
        with self._lock:
            balance = self._balance(client, now)
            needed = min(1.0, self.errors_per_minute)  # a share below 1 still refills to full
            if balance.errors < needed:  # one more failure must be affordable
                return "errors", (needed - balance.errors) * 60 / self.errors_per_minute
            if balance.seconds < 0:  # in debt: a query is paid after it ran
                return "seconds", -balance.seconds * 60 / self.per_minute_s
            return "", 0.0

    def spend(self, client: str, seconds: float, failed: bool, now: float) -> None:
        with self._lock:
            balance = self._balance(client, now)
            balance.seconds -= seconds
            balance.errors -= 1 if failed else 0


def init_app(app: Flask, settings: Settings) -> None:
    """Budgets for this process (all of them until ``share`` says how many processes serve),
    and the 429 answer."""
    app.extensions[EXTENSION] = _Throttle(settings, processes=1)
    app.register_error_handler(Throttled, _throttled)


def share(app: Flask, processes: int) -> None:
    """Divide the budgets between ``processes`` web workers (gunicorn's ``--workers``)."""
    app.extensions[EXTENSION] = _Throttle(app.extensions[EXTENSION].settings, processes)


class _Throttle:
    def __init__(self, settings: Settings, processes: int) -> None:
        self.settings = settings
        self.on = settings.query_budget_s_per_min > 0
        self.budgets = Budgets(
            settings.query_budget_s_per_min / processes,
            settings.query_budget_burst_s / processes,
            settings.query_errors_per_min / processes,
        )
        self.proxies = settings.trusted_proxy_list

    def client(self) -> str | None:
        """The address a budget belongs to, or None for a client that has none (loopback,
        outside the production configuration)."""
        return self.client_of(request.remote_addr or "", request.headers.getlist("X-Forwarded-For"))

    def client_of(self, address: str, forwarded_for: list[str]) -> str | None:
        """``client`` from the peer's address and its X-Forwarded-For headers."""
        if address in self.proxies:  # the nearest hop a trusted proxy did not add is the client
            hops = ",".join(forwarded_for).split(",")
            for hop in reversed([h.strip() for h in hops if h.strip()]):
                address = hop
                if hop not in self.proxies:
                    break
        if not self.settings.production and _loopback(address):
            return None
        return address

    def refuse(self, what: str, wait: float) -> Throttled:
        s = self.settings
        if what == "errors":
            budget = (
                f"error budget ({s.query_errors_per_min:g} queries a minute that time out or fail,"
                " INNOGRAPH_QUERY_ERRORS_PER_MIN)"
            )
        else:
            budget = (
                f"query-time budget ({s.query_budget_s_per_min:g} s of query time a minute, a"
                f" burst of {s.query_budget_burst_s:g} s, INNOGRAPH_QUERY_BUDGET_S_PER_MIN and"
                " INNOGRAPH_QUERY_BUDGET_BURST_S)"
            )
        return Throttled(budget, wait)


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def run(
    workers: Executor, query: QueryRequest, timeout_s: float, started: Started | None = None
) -> Answer:
    """``workers.run``, refused with 429 when the asking client's budget is spent, and paid
    from it afterwards: the engine's seconds, or the time limit and an error for a query that
    timed out, an error for one that failed. A 503 for a full pool costs nothing. A query
    STARTED by the server's event loop was admitted there: it is only paid for."""
    throttle = of(current_app)
    client = throttle.client() if throttle.on else None

    def attempt() -> Answer:
        if started is None:
            return workers.run(query, timeout_s)
        return cast(QueryWorkers, workers).run(query, timeout_s, started)

    if client is None:
        return attempt()
    if started is None:
        what, wait = throttle.budgets.spent(client, time.monotonic())
        if wait > 0:
            raise throttle.refuse(what, wait)
    start = time.monotonic()
    try:
        answer = attempt()
    except (WorkerLost, LongQueriesFull):  # it ran, cost a process, then was lost or refused
        throttle.budgets.spend(client, time.monotonic() - start, failed=True, now=time.monotonic())
        raise
    except ServerBusy:  # turned away before it was sent (busy, or known long): no cost
        raise
    except QueryTimeout:
        throttle.budgets.spend(client, timeout_s, failed=True, now=time.monotonic())
        raise
    except InnographError:
        spent = time.monotonic() - start
        throttle.budgets.spend(client, spent, failed=True, now=time.monotonic())
        raise
    throttle.budgets.spend(client, answer.seconds, failed=False, now=time.monotonic())
    return answer


def of(app: Flask) -> _Throttle:
    """The app's budgets (the server's event loop checks and pays them too)."""
    return cast(_Throttle, app.extensions[EXTENSION])


def _throttled(error: Throttled) -> Response:
    response = jsonify({"error": error.public_message, "status": 429})
    response.status_code = 429
    response.headers["Retry-After"] = str(error.retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response
