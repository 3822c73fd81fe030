"""The guarded executor: queries run in worker processes that can be killed at the time limit.

pyoxigraph cannot cancel a query from Python, and a thread cannot be stopped, so each query runs
in a worker process holding the served store version open read-only; a worker that passes the
time limit is killed and replaced while the web process keeps answering. Answers are serialised
in the worker with the row limit (``innograph.results``) and kept in a cache keyed by store
version, query and format: a version never changes, so neither does its answer.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

from ..errors import InnographError, UsageError
from .costs import LongQueries
from .guard import engine_syntax_message
from .writers import gzipped, write_boolean, write_graph, write_solutions

log = logging.getLogger(__name__)
SLEEP_FUNCTION = "urn:innograph:test:sleep"
WAIT_FUNCTION = "urn:innograph:test:wait"
PRELOADED = ["pyoxigraph", "innograph.store", __name__]  # what the forkserver imports once


class QueryTimeout(InnographError):
    http_status = 503

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the query was stopped after its time limit of {seconds:g} s")


class ServerBusy(InnographError):
    http_status = 503

    def __init__(self, seconds: float) -> None:
        self.retry_after = max(1, round(seconds))
        super().__init__("all query workers are busy; retry in a moment")


class WorkerLost(ServerBusy):
    """The worker died while it answered (killed from outside, or out of memory): a new one
    takes its place, so the same request may be sent again, as when all workers are busy."""

    def __init__(self) -> None:
        InnographError.__init__(self, "the query worker stopped unexpectedly; retry in a moment")
        self.retry_after = 1


class LongQueriesFull(ServerBusy):
    """A query that ran until it was long, when as many long queries run as the pool allows:
    stopped, and turned away as when all workers are busy."""


class KnownLongTurnedAway(ServerBusy):
    """A query known to be long on this version, turned away before it was sent because as
    many long queries run as the pool allows: no work was done (a per-client budget charges
    nothing for it)."""


class QueryFailed(UsageError):
    """The engine refused the query (a syntax error, an unknown function)."""


@dataclass(frozen=True, slots=True)
class QueryRequest:
    text: str
    fmt: str
    limit: int
    version: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    base_iri: str | None = None
    gzip: bool = False  # the client takes gzip: the worker compresses, the cache keeps it so
    max_bytes: int | None = None  # the largest answer body (before gzip)
    prefixes: tuple[tuple[str, str], ...] = ()  # for graph answers in Turtle and RDF/XML
    shape: str = field(default="", repr=False, compare=False)  # the guard's QueryPlan.shape

    @property
    def work(self) -> QueryRequest:
        """The request as the guard's shape of its text: all that decides what it costs."""
        return replace(self, text=self.shape or self.text)


@dataclass(frozen=True, slots=True)
class Answer:
    body: bytes
    fmt: str
    rows: int
    truncated: bool
    seconds: float
    encoding: str | None = None  # "gzip" when the body is compressed
    in_memory: bool = False  # answered from the worker's in-memory copy of the version


# --- the worker process -------------------------------------------------------------------------


def _functions(test_functions: bool) -> dict[Any, Any] | None:
    if not test_functions:
        return None
    import pyoxigraph as ox

    def sleep(seconds: ox.Literal) -> ox.Literal:
        """Busy for that long: it burns CPU as a runaway query does, so the pool, which tells
        long queries by the CPU they used, treats it as one."""
        end = time.monotonic() + float(seconds.value)
        while time.monotonic() < end:
            pass
        return ox.Literal("slept")

    def wait(seconds: ox.Literal) -> ox.Literal:
        """Idle for that long, as a query does that waits for the CPU of a loaded machine."""
        time.sleep(float(seconds.value))
        return ox.Literal("waited")

    return {ox.NamedNode(SLEEP_FUNCTION): sleep, ox.NamedNode(WAIT_FUNCTION): wait}


def engine_options(request: QueryRequest) -> dict[str, Any]:
    """What the request tells pyoxigraph's ``query``: its base IRI and its dataset."""
    import pyoxigraph as ox

    options: dict[str, Any] = {}
    if request.base_iri:
        options["base_iri"] = request.base_iri
    if request.default_graphs:
        options["default_graph"] = [ox.NamedNode(g) for g in request.default_graphs]
    if request.named_graphs:
        options["named_graphs"] = [ox.NamedNode(g) for g in request.named_graphs]
    return options


def _answer(store: Any, request: QueryRequest, functions: dict[Any, Any] | None) -> Answer:
    import pyoxigraph as ox

    start = time.perf_counter()
    options = engine_options(request)
    if functions:
        options["custom_functions"] = functions
    result = store.query(request.text, **options)
    if isinstance(result, ox.QueryBoolean):
        body, rows, truncated = write_boolean(bool(result), request.fmt), 1, False
    elif isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        body, rows, truncated = write_solutions(
            names,
            map(tuple, result),  # a solution's values, in the order of its variables
            request.fmt,
            request.limit,
            request.max_bytes,
        )
    else:
        body, rows, truncated = write_graph(
            iter(result),
            request.fmt,
            request.limit,
            prefixes=dict(request.prefixes) or None,
            max_bytes=request.max_bytes,
        )
    packed = gzipped(body) if request.gzip else None
    return Answer(
        packed or body,
        request.fmt,
        rows,
        truncated,
        time.perf_counter() - start,
        "gzip" if packed else None,
    )


class _MemoryCopy:
    """A version's in-memory copy, made by a thread while the worker answers from the RocksDB
    store; queries over it run two to three times as fast. Only when its estimated size fits the
    budget (``INNOGRAPH_MEMORY_COPY_MB``), and once the worker has lived ``after_s``: each
    worker holds a copy of its own."""

    def __init__(self, budget_mb: float, after_s: float) -> None:
        self._budget_mb = budget_mb
        self._ready_at = time.monotonic() + after_s
        self._lock = threading.Lock()
        self._generation = 0  # one more at each start: a loader keeps its copy only if current
        self.made: tuple[str, Any] | None = None  # (version id, its copy), set in one step

    def of(self, version_id: str) -> Any:
        """The copy of that version, or None (not made, not yet, or of another version)."""
        made = self.made
        return made[1] if made is not None and made[0] == version_id else None

    def start(self, version: Any) -> None:
        """Make a copy of VERSION, the one asked for now: a copy of any other, made or being
        made, is dropped (each start is a new generation; a thread finding its own outdated,
        before it reads the dumps or once it has, keeps nothing)."""
        from .. import store

        with self._lock:
            self._generation += 1
            generation = self._generation
            self.made = None
        if self._budget_mb <= 0:  # off (the default): the version's counts are not read
            return
        counted = store.statistics.read(version.path)
        triples = counted["totals"]["triples"] if counted else None
        if triples is None or store.dumps.copy_size_mb(triples) > self._budget_mb:
            return

        def make() -> None:
            time.sleep(max(0.0, self._ready_at - time.monotonic()))
            if self._generation != generation:  # another version was asked for meanwhile
                return
            try:
                made = store.dumps.in_memory(version.path)
            except Exception:  # the worker goes on answering from disk
                log.exception("query worker: no in-memory copy of %s", version.id)
                return
            with self._lock:
                if self._generation == generation:  # still the one asked for (else dropped)
                    self.made = (version.id, made)

        threading.Thread(target=make, daemon=True).start()


class _HeapTrim:
    """Hands the heap's free pages back to the system (glibc's ``malloc_trim``) once the
    engine has worked ``every_s`` since the last time, and when asked. A query's scratch
    memory, freed, stays with the process otherwise: a worker answering from its in-memory copy
    grew from 58 to 73 MB over the catalogue, and to 60 MB again when trimmed. A trim walks the
    whole heap (about 45 µs beside a 60 MB copy), so it waits for enough work to pay for it."""

    def __init__(self, every_s: float = 0.05) -> None:
        self._every_s = every_s
        self._worked_s = 0.0
        try:
            trim = ctypes.CDLL(None).malloc_trim
        except (OSError, AttributeError, TypeError):  # not glibc: nothing to hand back this way
            self._trim: Callable[[int], int] | None = None
        else:
            trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
            self._trim = trim

    def after(self, seconds: float) -> None:
        self._worked_s += seconds
        if self._worked_s >= self._every_s:
            self.now()

    def now(self) -> None:
        self._worked_s = 0.0
        if self._trim is not None:
            self._trim(0)


def _exit_with_parent() -> None:
    """Stop when the process that started this worker is gone (a web worker killed with
    SIGKILL never kills its pool): a runaway query must not run on with nobody to answer."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _serve(
    connection: Connection, store_root: str, test_functions: bool, copy_policy: tuple[float, float]
) -> None:
    """Worker loop: open the requested version read-only, answer, repeat. COPY_POLICY is the
    in-memory copy's budget in MB and the seconds the worker lives before it reads one."""
    from .. import store

    functions = _functions(test_functions)
    _exit_with_parent()
    copy = _MemoryCopy(*copy_policy)
    trim = _HeapTrim()
    opened: tuple[str, Any] | None = None
    try:  # the served version, opened before the first query: its cost is no query's
        served = store.current(Path(store_root))
        if served is not None:
            opened = (served.id, store.open_read_only(served))
            copy.start(served)
    except Exception:  # opened on the first query instead, which reports what fails
        log.exception("query worker: cannot open the served version")
    connection.send(("ready", None, time.thread_time()))
    while True:
        try:
            request: QueryRequest = connection.recv()
        except (EOFError, OSError):
            return
        worked = 0.0
        try:
            if opened is None or opened[0] != request.version:
                version = store.version_at(Path(store_root), request.version)
                opened = (request.version, store.open_read_only(version))
                copy.start(version)
                trim.now()  # the version before, and its copy, go back
            elif (held := copy.of(request.version)) is not None and opened[1] is not held:
                opened = (request.version, held)  # the RocksDB store is closed
                trim.now()  # its caches, and what loading the copy used, go back
            answer = _answer(opened[1], request, functions)
            in_memory = opened[1] is copy.of(request.version)
            reply: tuple[str, Any] = ("ok", replace(answer, in_memory=in_memory))
            worked = answer.seconds
        except SyntaxError as error:
            reply = ("bad", engine_syntax_message(error))
        except (ValueError, TypeError, NotImplementedError, RuntimeError) as error:
            # pyoxigraph raises these for queries it cannot evaluate (an unknown function...)
            reply = ("bad", f"query: the engine refused it ({error})")
        except Exception as error:  # reported once here, never shown raw to a client
            log.exception("query worker failed")
            reply = ("error", type(error).__name__)
        connection.send((*reply, time.thread_time()))  # the pool tells long queries by it
        trim.after(worked)  # once answered: the client does not wait for it


# --- the pool, in the web process ---------------------------------------------------------------


class _Worker:
    def __init__(
        self, context: Any, store_root: Path, test_functions: bool, copy: tuple[float, float]
    ) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child, str(store_root), test_functions, copy), daemon=True
        )
        self.process.start()
        child.close()
        self.cpu_s: float | None = None  # its CPU time when it last answered (it says so)

    def cpu(self) -> float:
        """The CPU time its main thread has used, user and system, the thread that answers (a
        copy loading in another thread is no query's); 0 once it is gone."""
        try:
            stat = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/stat").read_text()
            fields = stat.rpartition(")")[2].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def alive(self) -> bool:
        """Running. Killed from outside, a worker stays a zombie until its fork server reaps it
        (``is_alive()`` says True until then), and its main thread shows as one while its other
        threads still exit, holding its pipe open: so its state is read first (with os calls:
        this runs before every query). A worker that has answered sends nothing unasked, so one
        whose pipe reads as ready is gone (a reaped one's pid may be another process's now); a
        new worker's "ready" may be waiting there, so ``is_alive()`` tells instead."""
        try:
            stat = os.open(f"/proc/{self.process.pid}/stat", os.O_RDONLY)
            try:
                state = os.read(stat, 512).rpartition(b")")[2].split()[0]
            finally:
                os.close(stat)
            if state in (b"Z", b"X"):
                return False
            if self.cpu_s is None:
                return bool(self.process.is_alive())
            return not self.connection.poll(0)
        except (OSError, IndexError):
            return False

    def cpu_since_answer(self) -> float:
        """CPU seconds used since its last answer (or since it took its first query)."""
        return self.cpu() - (self.cpu_s or 0.0)

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


@dataclass(slots=True, eq=False)
class Started:
    """A query ``QueryWorkers.start`` sent to a worker in a quick place, whose reply its
    caller awaits itself (the server's event loop, with no thread held). Once settled
    (``answered``, ``check``) it holds no quick place: it is answered, or has an ``outcome``
    to raise, or runs on in a long place."""

    worker: _Worker
    request: QueryRequest
    timeout_s: float
    deadline: float
    check_at: float  # when to ``check`` it if it has not answered (it may be long)
    outcome: InnographError | None = None  # settled without an answer: what ``run`` raises
    long: bool = False  # settled as long: it runs on in a long place

    def fileno(self) -> int:
        """The worker's pipe: readable once it replies (or is gone)."""
        return int(self.worker.connection.fileno())


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# A query past INNOGRAPH_LONG_QUERY_S is long when its worker used at least this share of that
# time in CPU: a runaway query gets that much even on a crowded machine, while a cheap one that
# merely waited for the CPU has used a few milliseconds in all.
WORKING = 0.1
LONG_QUERY_NICENESS = 19  # a long query's process runs when nothing quicker wants the CPU
SURPLUS_IDLE_S = 30.0  # a worker beyond the pool's size, idle this long, is stopped


class _Idle:
    """The idle workers, the one that last answered first (its caches and copy are warm), each
    with the time it became idle, so that a surplus is stopped oldest first."""

    def __init__(self) -> None:
        self._workers: deque[tuple[float, _Worker]] = deque()
        self._changed = threading.Condition()

    def put(self, worker: _Worker) -> None:
        with self._changed:
            self._workers.append((time.monotonic(), worker))
            self._changed.notify()

    def get(self, timeout_s: float | None) -> _Worker | None:
        """The latest idle worker; None when none became idle in time (0: do not wait)."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._workers, timeout_s):
                return None
            return self._workers.pop()[1]

    def pids(self) -> list[int]:
        with self._changed:
            return [worker.process.pid for _, worker in self._workers]

    def oldest_if_idle_for(self, seconds: float) -> _Worker | None:
        with self._changed:
            if self._workers and self._workers[0][0] < time.monotonic() - seconds:
                return self._workers.popleft()[1]
            return None


class QueryWorkers:
    """Worker processes, forked by multiprocessing's fork server (never by the threaded web
    process itself); one that runs past the limit is killed and replaced.

    ``size`` workers take queries. A query still running after ``long_query_s`` is a long one:
    it keeps its process, and a new worker takes its place, so that however many long queries
    run, ``size`` workers stay for the others (lookups, documents, pages). At most ``size`` long
    queries run at once; one more is stopped and answered 503 (busy). A long query that ends in
    time gives its process back to the pool when its priority can be restored: the pool then
    holds a surplus, which takes the place of the next long query's process instead of a new
    one (no start, no cold cache, no second in-memory copy to load), and is stopped once idle
    for ``SURPLUS_IDLE_S``. It waits in reserve: at most ``size`` quick queries run at once,
    whatever the pool holds (more query workers than cores only take turns, each with caches of
    its own, and a surplus that answered beside the others was never idle long enough to stop).
    A query that was long before on the same version (``costs``) goes to the long places at
    once, or is turned away at once when they are full.

    A worker reads its in-memory copy (``memory_copy_mb``) once it has lived ``copy_after_s``,
    the time limit as served. Each runaway query stopped at its limit costs a worker, and under
    a stream of them the worker that takes its place is taken by the next one within about a
    time limit: read at once, each copy went with its worker (at 200 profiles 0.5 s of CPU and
    55 MB apiece; in the load test, lookups' p99 went from 179 to 354 ms and the peak PSS from
    478 to 691 MB)."""

    def __init__(
        self,
        store_root: Path,
        size: int,
        queue_wait_s: float,
        test_functions: bool,
        long_query_s: float = 0.0,
        memory_copy_mb: float = 0.0,
        copy_after_s: float = 0.0,
    ):
        self._context = multiprocessing.get_context("forkserver")
        # Workers are forked from one clean process that has imported what they run: a new or
        # replacement worker starts in milliseconds, and the workers share those pages.
        self._context.set_forkserver_preload(PRELOADED)
        self._store_root = store_root
        self._test_functions = test_functions
        self._queue_wait_s = queue_wait_s
        self._size = size
        self._long_query_s = long_query_s
        self._copy = (memory_copy_mb, copy_after_s)
        self._long = threading.BoundedSemaphore(size)  # places for long queries
        self._quick = threading.BoundedSemaphore(size)  # places for the others
        self._idle = _Idle()
        self._pooled = size  # workers not running a long query: idle or answering a quick one
        self._counting = threading.Lock()
        self._costs = LongQueries()  # the long queries seen, sent to the long lane at once
        # called (from any thread) when ``run`` frees a quick place: the event loop may have
        # queries waiting for one (``start``)
        self.on_free: Callable[[], None] | None = None
        for _ in range(size):
            self._idle.put(self._new())

    def _new(self) -> _Worker:
        return _Worker(self._context, self._store_root, self._test_functions, self._copy)

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        self._idle.put(self._started())

    def _started(self) -> _Worker:
        """A new worker, tried again until the system lets one start (out of memory or of
        processes just after a worker was lost): the pool never shrinks for good."""
        wait_s = 0.1
        while True:
            try:
                return self._new()
            except OSError:
                log.exception("query worker: cannot start one; trying again in %g s", wait_s)
                time.sleep(wait_s)
                wait_s = min(5.0, wait_s * 2)

    def _take(self, wait_s: float) -> _Worker:
        """An idle worker that is alive, waited for at most WAIT_S (what is left of the queue
        wait; 0: only one that is idle now): one that died while idle (the OOM killer, an
        operator) is replaced here, so that no query is sent to it."""
        worker = self._idle.get(max(0.0, wait_s))
        if worker is None:
            raise ServerBusy(self._queue_wait_s)
        if worker.alive():
            return worker
        worker.kill()  # reaps it
        return self._started()

    def _give_back(self, worker: _Worker) -> None:
        """A worker is idle again; a surplus worker idle for long is stopped."""
        self._idle.put(worker)
        with self._counting:
            if self._pooled <= self._size:
                return
            stale = self._idle.oldest_if_idle_for(SURPLUS_IDLE_S)
            if stale is None:
                return
            self._pooled -= 1
        self._in_background(stale.kill)

    def _pool_shrinks(self) -> None:
        """A pooled worker runs a long query now: a new one takes its place unless the pool
        holds a surplus."""
        with self._counting:
            self._pooled -= 1
            if self._pooled >= self._size:
                return
            self._pooled += 1
        self._in_background(lambda: self._idle.put(self._started()))

    def _after_long(self, worker: _Worker, answered: bool) -> None:
        """A long query's process rejoins the pool when its query ended in time and its
        priority can be restored (lowering niceness needs CAP_SYS_NICE or RLIMIT_NICE);
        otherwise it is stopped."""
        if answered:
            try:
                os.setpriority(os.PRIO_PROCESS, worker.process.pid, 0)
            except OSError:
                answered = False
        if not answered:
            worker.kill()
            return
        with self._counting:
            self._pooled += 1
        self._give_back(worker)

    def run(
        self, request: QueryRequest, timeout_s: float, started: Started | None = None
    ) -> Answer:
        """The answer, from a worker in a quick place; or from a long place for a query that
        works long. STARTED is a query ``start`` sent and its caller settled, holding no quick
        place any more: what it came to is raised, or a long one is waited for."""
        if started is not None:
            if started.outcome is not None:
                raise started.outcome
            assert started.long, "a started query is settled before run takes it"
            return self._long_run(started.worker, request, timeout_s, started.deadline)
        deadline = time.monotonic() + timeout_s
        if self.known_long(request, timeout_s):
            return self._known_long(request, timeout_s, deadline)
        waited_until = time.monotonic() + self._queue_wait_s
        if not self._quick.acquire(timeout=self._queue_wait_s):
            raise ServerBusy(self._queue_wait_s)
        try:
            worker = self._take(waited_until - time.monotonic())
        except BaseException:
            self._quick.release()
            raise
        return self._quick_run(worker, request, timeout_s, deadline)

    def start(self, request: QueryRequest, timeout_s: float) -> Started | None:
        """``run``'s first half, without waiting: the query sent now to an idle worker that is
        ready, in a quick place, or None where ``run`` would wait or look further (no place or
        ready worker free now). A query ``known_long`` is its caller's to send to ``run``.
        The caller waits for the reply on
        ``Started.fileno`` and takes it with ``answered``, and calls ``check`` at
        ``Started.check_at`` until then; each settles the query (its quick place freed, its
        worker given back or replaced, or held in a long place), and a query ``run`` is to end
        goes to it, or to ``abandon``."""
        if not self._quick.acquire(blocking=False):
            return None
        worker = self._ready()
        if worker is None:
            self._quick.release()
            return None
        try:
            worker.connection.send(request)
        except BaseException:  # never sent: the worker is no use, the query runs elsewhere
            self._in_background(self._replace, worker)
            self._quick.release()
            return None
        now = time.monotonic()
        long_s = self._thresholds(timeout_s)[0]
        return Started(worker, request, timeout_s, now + timeout_s, check_at=now + long_s)

    def _ready(self) -> _Worker | None:
        """An idle worker ready now, or None: one not ready yet waits for ``run`` to ready it,
        one gone is replaced."""
        passed: list[_Worker] = []
        found = None
        while found is None and (worker := self._idle.get(0)) is not None:
            try:
                if worker.cpu_s is None and worker.connection.poll(0):
                    self._await_ready(worker, 0)  # a new worker has said it is ready
                alive = worker.alive()
            except (EOFError, OSError):  # gone while it started
                alive = False
            if not alive:
                self._in_background(self._replace, worker)
            elif worker.cpu_s is None:
                passed.append(worker)
            else:
                found = worker
        for worker in reversed(passed):
            self._idle.put(worker)
        return found

    def known_long(self, request: QueryRequest, timeout_s: float) -> bool:
        """Whether the query worked long before on this version: ``run`` sends it to a long
        place at once."""
        long_s, working_s = self._thresholds(timeout_s)
        return long_s < timeout_s and self._costs.worked(request.work) >= working_s

    def answered(self, started: Started) -> Answer | None:
        """The answer of a started query whose worker has replied (its pipe is readable), the
        worker given back; None when the reply is no answer, which ``run(..., started)`` raises
        (an error the engine reported; a worker gone, replaced). The quick place is freed."""
        try:
            reply: tuple[str, Any, float] = started.worker.connection.recv()
        except BaseException as error:  # whatever it was, the worker is no use now
            self._in_background(self._replace, started.worker)
            lost = isinstance(error, EOFError | OSError)
            started.outcome = WorkerLost() if lost else InnographError("the query worker failed")
            self._quick.release()
            return None
        try:
            return self._unpack(started.worker, reply, self._give_back)
        except InnographError as error:
            started.outcome = error
            return None
        finally:
            self._quick.release()

    def check(self, started: Started) -> bool:
        """A started query still running at its ``check_at``: True to go on waiting for it (it
        has barely worked: it waited for the CPU of a busy machine), its next check set;
        False once settled, as ``run`` settles one (stopped at its deadline; long, in a long
        place now or turned away when they are full), its quick place freed."""
        if started.worker.connection.poll(0):
            return True  # it has replied: ``answered`` takes it
        long_s, working_s = self._thresholds(started.timeout_s)
        now, worked = time.monotonic(), started.worker.cpu_since_answer()
        if now < started.deadline and worked < working_s:
            started.check_at = min(started.deadline, now + long_s)
            return True
        if now >= started.deadline:
            if worked >= working_s:
                self._costs.note(started.request.work, worked)
            self._in_background(self._replace, started.worker)
            started.outcome = QueryTimeout(started.timeout_s)
        elif not self._long.acquire(blocking=False):  # as many long queries as workers
            self._costs.note(started.request.work, worked)
            self._in_background(self._replace, started.worker)
            started.outcome = LongQueriesFull(self._queue_wait_s)
        else:
            self._pool_shrinks()  # it keeps its process in a long place; ``run`` waits for it
            started.long = True
        self._quick.release()
        return False

    def abandon(self, started: Started) -> None:
        """Let a started query end as ``run`` would end it, in a thread of its own, its answer
        unread: nobody waits for it any more."""
        if started.outcome is not None:  # settled, and it holds nothing
            return
        worker, request, timeout_s, deadline = (
            started.worker,
            started.request,
            started.timeout_s,
            started.deadline,
        )

        def settle() -> None:
            with contextlib.suppress(Exception):
                if started.long:
                    self._long_run(worker, request, timeout_s, deadline)
                else:  # in its quick place still
                    self._quick_run(worker, request, timeout_s, deadline, sent=True)

        self._in_background(settle)

    def _quick_run(
        self,
        worker: _Worker,
        request: QueryRequest,
        timeout_s: float,
        deadline: float,
        sent: bool = False,
    ) -> Answer:
        """The rest of ``run``, in a quick place taken (released on every way out; a long
        query goes on in a long place), the query SENT already or not."""
        long_s, working_s = self._thresholds(timeout_s)
        try:
            try:
                if worker.cpu_s is None:  # a new worker: what it used to start is no query's
                    self._await_ready(worker, deadline - time.monotonic())
                if not sent:
                    worker.connection.send(request)
                # Long is what has *worked* long: a query that waited for the CPU of a loaded
                # machine is quick yet, and is not made to give its place up (or turned away).
                while True:
                    reply = self._receive(worker, min(long_s, deadline - time.monotonic()))
                    if (
                        reply is not None
                        or time.monotonic() >= deadline
                        or worker.cpu_since_answer() >= working_s
                    ):
                        break
            except BaseException as error:  # whatever it was, the worker is no use now
                self._in_background(self._replace, worker)
                if isinstance(error, EOFError | OSError):
                    raise WorkerLost() from None
                raise
            if reply is not None:
                return self._unpack(worker, reply, self._give_back)
            worked = worker.cpu_since_answer()
            if time.monotonic() >= deadline:
                if worked >= working_s:
                    self._costs.note(request.work, worked)
                self._in_background(self._replace, worker)
                raise QueryTimeout(timeout_s)
            # A long query: it keeps its process, a new worker takes its place in the pool.
            if not self._long.acquire(blocking=False):  # as many long queries as workers
                self._costs.note(request.work, worked)
                self._in_background(self._replace, worker)
                raise LongQueriesFull(self._queue_wait_s)
            self._pool_shrinks()
        finally:
            self._quick.release()  # on every way out; a long query goes on in a long place
            if self.on_free is not None:
                self.on_free()
        return self._long_run(worker, request, timeout_s, deadline)

    def _thresholds(self, timeout_s: float) -> tuple[float, float]:
        """Seconds after which a query may be long, and the CPU seconds it must have used."""
        long_s = self._long_query_s if 0 < self._long_query_s < timeout_s else timeout_s
        return long_s, max(long_s * WORKING, 2 / CLOCK_TICKS)  # CPU time is counted in ticks

    def _known_long(self, request: QueryRequest, timeout_s: float, deadline: float) -> Answer:
        """A query that worked long on this version before goes to the long lane at once: it
        takes no regular worker's CPU to be found out again, and when the long places are full
        it is turned away before any work is done (no worker killed, no start)."""
        if not self._long.acquire(blocking=False):
            raise KnownLongTurnedAway(self._queue_wait_s)
        try:
            worker = self._take(self._queue_wait_s)
        except BaseException:
            self._long.release()
            raise
        self._pool_shrinks()
        try:
            if worker.cpu_s is None:
                self._await_ready(worker, deadline - time.monotonic())
            worker.connection.send(request)
        except BaseException as error:  # whatever it was, the worker is no use now
            self._long.release()
            self._in_background(self._after_long, worker, False)
            if isinstance(error, EOFError | OSError):
                raise WorkerLost() from None
            raise
        return self._long_run(worker, request, timeout_s, deadline)

    def _long_run(
        self, worker: _Worker, request: QueryRequest, timeout_s: float, deadline: float
    ) -> Answer:
        """The rest of a long query, in a long place already taken, at low priority. What it
        cost is remembered when it is long beyond doubt: stopped at its limit, or answered
        after working ``long_query_s``; a query remembered that answers having worked less
        than a regular worker lets one work is forgotten."""
        long_s, working_s = self._thresholds(timeout_s)
        with contextlib.suppress(OSError):  # the CPU goes to the quick ones first
            os.setpriority(os.PRIO_PROCESS, worker.process.pid, LONG_QUERY_NICENESS)
        answered = False
        try:
            reply = self._receive(worker, deadline - time.monotonic())
            if reply is None:
                self._costs.note(request.work, worker.cpu_since_answer())
                raise QueryTimeout(timeout_s)
            answered = True
            worked = reply[2] - (worker.cpu_s or 0.0)  # the CPU this query used
            if worked >= long_s:  # long beyond doubt: sent to the long places next time
                self._costs.note(request.work, worked)
            elif worked < working_s:  # found long by chance (a loaded machine): not any more
                self._costs.forget(request.work)
            return self._unpack(worker, reply, lambda _: None)
        except (EOFError, OSError, BrokenPipeError):
            raise WorkerLost() from None
        finally:
            self._long.release()
            self._in_background(self._after_long, worker, answered)

    @staticmethod
    def _in_background(work: Callable[..., object], *args: object) -> None:
        threading.Thread(target=work, args=args, daemon=True).start()

    @staticmethod
    def _await_ready(worker: _Worker, timeout_s: float) -> None:
        """Wait until a new worker has opened the served version (its first message says so):
        the CPU it spends opening is no query's, and a query that counted it would be taken
        for a long one. Just after a start, with the pool's workers all opening at once, every
        query was, and the cascade of replacements turned clients away for seconds."""
        if worker.connection.poll(max(0.0, timeout_s)):
            reply: tuple[str, Any, float] = worker.connection.recv()  # always "ready" first
            worker.cpu_s = reply[2]
        else:  # still opening at the deadline: counted from now
            worker.cpu_s = worker.cpu()

    @staticmethod
    def _receive(worker: _Worker, timeout_s: float) -> tuple[str, Any, float] | None:
        """The worker's reply to the query it was sent, or None if none came in time. The
        message a new worker sends once it has opened the served version is no reply: only its
        CPU time is kept (the worker is taken before it has sent it)."""
        until = time.monotonic() + max(0.0, timeout_s)
        while worker.connection.poll(max(0.0, until - time.monotonic())):
            reply: tuple[str, Any, float] = worker.connection.recv()
            if reply[0] != "ready":
                return reply
            worker.cpu_s = reply[2]
        return None

    @staticmethod
    def _unpack(
        worker: _Worker, reply: tuple[str, Any, float], then: Callable[[_Worker], None]
    ) -> Answer:
        """The answer in a worker's reply (or its error), once the worker is handed to THEN."""
        status, payload, worker.cpu_s = reply
        then(worker)
        if status == "bad":
            raise QueryFailed(payload)
        if status == "error":
            raise InnographError("the query failed inside the engine")
        return cast(Answer, payload)  # the worker sends an Answer with "ok"

    def idle_pids(self) -> list[int]:
        """The idle workers' process ids (for operators and tests)."""
        return self._idle.pids()

    def close(self) -> None:
        while (worker := self._idle.get(0)) is not None:
            worker.kill()


# An answer that took the engine this long is kept at once; a quicker one only when it is asked
# a second time: a stream of one-off cheap queries (a different city per request) would only
# churn the cache, paying to keep answers nobody asks again and pushing out the ones they do.
COSTLY_S = 0.005


class AnswerCache:
    """Answers by (version, request), least recently used out first, bounded in bytes. An
    answer is kept when it was costly to make (``COSTLY_S``) or asked for the second time; the
    requests seen once are remembered by hash only, as many as the cache could hold answers of
    a kilobyte."""

    def __init__(self, capacity_bytes: int) -> None:
        self._capacity = capacity_bytes
        self._size = 0
        self._answers: OrderedDict[QueryRequest, Answer] = OrderedDict()
        self._seen_once: OrderedDict[int, None] = OrderedDict()
        self._remembered = max(1, capacity_bytes // 1024)
        self._lock = threading.Lock()

    def get(self, request: QueryRequest) -> Answer | None:
        with self._lock:
            answer = self._answers.get(request)
            if answer is not None:
                self._answers.move_to_end(request)
            return answer

    def put(self, request: QueryRequest, answer: Answer) -> bool:
        """Keep the answer if it is worth it; whether the cache now holds it."""
        if len(answer.body) > self._capacity // 4:
            return False
        with self._lock:
            if request in self._answers:
                return True
            if answer.seconds < COSTLY_S and not self._second_time(hash(request)):
                return False
            self._answers[request] = answer
            self._size += len(answer.body)
            while self._size > self._capacity:
                _, old = self._answers.popitem(last=False)
                self._size -= len(old.body)
            return True

    def _second_time(self, key: int) -> bool:
        if key in self._seen_once:
            del self._seen_once[key]
            return True
        self._seen_once[key] = None
        if len(self._seen_once) > self._remembered:
            self._seen_once.popitem(last=False)
        return False
