"""Serving under gunicorn, the production WSGI server, from the ``innograph serve`` command:
its address checked first, its own log kept to warnings, one line per request, and the
addresses to open printed once it listens."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import gc
import importlib.util
import json
import logging
import re
import selectors
import signal
import socket
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterable
from email.utils import formatdate
from functools import partial
from ipaddress import ip_address
from typing import Any

from gunicorn import SERVER
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from gunicorn.http import get_parser
from gunicorn.http.errors import (
    InvalidHeader,
    LimitRequestHeaders,
    LimitRequestLine,
    ParseException,
)
from gunicorn.workers.gthread import TConn, ThreadWorker

from ..errors import UsageError
from ..query.workers import Answer, QueryWorkers, Started
from ..settings import Settings
from . import TOO_LONG_LINE, throttle
from .gathered import GatheredSocket, gathered
from .lane import Lane, Question
from .repeats import Environ, Kept, Repeats, StartResponse, WsgiApp, keeping, request_key
from .sparql import HANDED, Handed

# INNOGRAPH_ACCESS_LOG: short is what a person reads while trying the server (a query string
# can be kilobytes of URL-encoded SPARQL); full is gunicorn's usual line, with the time taken.
ACCESS_FORMATS = {
    "short": "%(m)s %(U)s %(s)s %(M)s ms",
    "full": '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)s ms',
}

# what gunicorn refuses before the app sees the request: status, reason, message
_REFUSED: dict[type[BaseException], tuple[int, str, str]] = {
    LimitRequestLine: (414, "URI Too Long", TOO_LONG_LINE),
    LimitRequestHeaders: (431, "Request Header Fields Too Large", "the headers are too large"),
}


def _unparsable(error: BaseException) -> tuple[int, str, str] | None:
    """A request gunicorn cannot parse, as the app's JSON error naming what is wrong (gunicorn
    would answer its own HTML page); None for what is not a parse error.

    >>> _unparsable(InvalidHeader("ACCEPT"))[2]
    'Accept: the value is not allowed in a header (a control character, or a malformed value)'
    """
    if isinstance(error, InvalidHeader):
        name = str(error.hdr).title()
        return 400, "Bad Request", f"{name}: the value is not allowed in a header" + _WHY
    if isinstance(error, ParseException):
        return 400, "Bad Request", f"the request is not valid HTTP/1.1 ({error})"
    return None


_WHY = " (a control character, or a malformed value)"
_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F)}


class AccessLogger(Logger):
    """gunicorn's logger, with control characters in what a client sent written as ``\\xNN``:
    a path with ``%0A`` or ``%1B`` in it would forge a log line or colour the terminal.

    Access lines are kept and written together once per turn of the worker's event loop
    (``write_access_lines``), which turns after every answer: a line still appears as its
    request ends, but a busy worker writes many in one system call. Written one by one through
    ``logging`` (a record, a handler lock, a write and a flush each), they cost a third of what
    answering a repeated request costs."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        self._lines: list[str] = []
        self._lines_lock = threading.Lock()

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> Any:
        found: dict[str, Any]
        if self.cfg.access_log_format == ACCESS_FORMATS["short"]:
            found = _short_atoms(resp, environ, request_time)
        else:
            found = dict(super().atoms(resp, req, environ, request_time))
        return _printable(found)

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        if self.access_log_enabled:
            self._keep(self.atoms(resp, req, environ, request_time))

    def repeat_line(self, environ: dict[str, Any], status: str, length: int) -> str | None:
        """The access line of every answer the event loop gives again to a request (``repeats``),
        written once: the client, time and duration are left as ``%(h)s``, ``%(t)s`` and
        ``%(M)s`` to fill in, and a ``%`` of what the client sent is doubled. "" when there is
        no access log; None when the line cannot be written (the response is then not kept)."""
        if not self.access_log_enabled:
            return ""
        method = environ["REQUEST_METHOD"]
        same = {
            "r": f"{method} {environ.get('RAW_URI', '')} {environ['SERVER_PROTOCOL']}",
            "m": method,
            "U": environ.get("PATH_INFO", ""),
            "s": status.split(None, 1)[0],
            "b": str(length),
            "f": environ.get("HTTP_REFERER", "-"),
            "a": environ.get("HTTP_USER_AGENT", "-"),
            "l": "-",
            "u": self._get_user(environ) or "-",  # type: ignore[attr-defined]  # not in stubs
        }
        atoms = {key: value.replace("%", "%%") for key, value in _printable(same).items()}
        atoms.update(h="%(h)s", t="%(t)s", M="%(M)s")
        try:
            line: str = self.cfg.access_log_format % self.atoms_wrapper_class(atoms)
            line % {"h": "", "t": "", "M": 0}  # a format's own "%%" would leave a bare "%"
        except Exception:  # as gunicorn does: an access line never fails a request
            self.error(traceback.format_exc())
            return None
        return line

    def repeated(self, kept: Kept, client: Any, request_time: float) -> None:
        """The line of a request the event loop answered again (``repeats``)."""
        if not kept.line:
            return
        host = client[0] if isinstance(client, tuple) else str(client).translate(_CONTROL)
        varying = {"h": host, "M": int(request_time * 1000)}
        if "%(t)s" in kept.line:
            varying["t"] = self.now()
        line = kept.line % varying
        with self._lines_lock:
            self._lines.append(line)

    def _keep(self, atoms: dict[str, Any]) -> None:
        try:
            line = self.cfg.access_log_format % self.atoms_wrapper_class(atoms)
        except Exception:  # as gunicorn does: an access line never fails a request
            self.error(traceback.format_exc())
            return
        with self._lines_lock:
            self._lines.append(line)

    def write_access_lines(self) -> None:
        """Write the lines kept since the last call, in one write per handler."""
        with self._lines_lock:
            lines, self._lines = self._lines, []
        if not lines:
            return
        for handler in self.access_log.handlers:
            try:
                if isinstance(handler, logging.StreamHandler):
                    with handler.lock or contextlib.nullcontext():
                        handler.stream.write("\n".join(lines) + "\n")
                        handler.flush()
                    continue
                for line in lines:  # syslog: a record each
                    record = self.access_log.makeRecord(
                        self.access_log.name, logging.INFO, "", 0, line, (), None
                    )
                    handler.handle(record)
            except Exception:  # a closed pipe or terminal: said, and the worker answers on
                self.error("access log: cannot write %d line(s): %s", len(lines), _last_error())


def _last_error() -> str:
    return traceback.format_exc(limit=1).strip().splitlines()[-1]


def _printable(atoms: dict[str, Any]) -> dict[str, Any]:
    for key, value in atoms.items():
        if isinstance(value, str):
            atoms[key] = value.translate(_CONTROL)
    return atoms


def _short_atoms(resp: Any, environ: Any, request_time: Any) -> dict[str, Any]:
    """The four atoms of the short line, as gunicorn computes them. Its own ``atoms`` also
    builds one for every request and response header and every environ variable, which cost
    more than half of what serving a cached answer costs."""
    status = resp.status
    if isinstance(status, str):
        status = status.split(None, 1)[0]
    return {
        "m": environ.get("REQUEST_METHOD"),
        "U": environ.get("PATH_INFO"),
        "s": status,
        "M": request_time.seconds * 1000 + request_time.microseconds // 1000,
    }


class Server(BaseApplication):
    """gunicorn with threaded workers; each worker builds the app (and its query workers)."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:  # gunicorn 25.1+: no gunicornc here
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Any:
        from . import create_app

        app = create_app(self.settings)
        throttle.share(app, self.cfg.workers)  # each worker process holds its share of budgets
        # The query workers start, and open the served version, before this worker takes its
        # first request, which would otherwise wait for them (0.6 s at 200 profiles).
        app.extensions["innograph"].workers  # noqa: B018 - started on first use
        return app


KEEP_ALIVE, CLOSE = b"Connection: keep-alive\r\n", b"Connection: close\r\n"
_OK = f"HTTP/1.1 200 OK\r\nServer: {SERVER}\r\n".encode("latin-1")
HEAD_LIMIT = 64 * 1024  # a request head that has not ended by then is refused (431 or 414)
_LENGTH = re.compile(rb"\r\ncontent-length[ \t]*:[ \t]*(\d+)", re.IGNORECASE)
_CONTINUE = re.compile(
    rb"^[^\r\n]* HTTP/1\.1\r\n(?:.*\r\n)?expect[ \t]*:[ \t]*100-continue[ \t]*\r\n", re.I | re.S
)


def request_complete(received: bytes, max_body: int) -> bool:
    """Whether RECEIVED holds a whole request: its head, and its body when it has a length the
    app accepts (a chunked or too large body is refused before it is read).

    >>> request_complete(b"GET / HTTP/1.1\\r\\nHost: a\\r\\n", 10)
    False
    >>> request_complete(b"POST / HTTP/1.1\\r\\nContent-Length: 3\\r\\n\\r\\nab", 10)
    False
    >>> request_complete(b"POST / HTTP/1.1\\r\\nContent-Length: 3\\r\\n\\r\\nabc", 10)
    True
    >>> huge = b"POST / HTTP/1.1\\r\\nContent-Length: " + b"9" * 5000  # int() refuses it
    >>> request_complete(huge + b"\\r\\n\\r\\n", 10)
    True
    """
    return request_length(received, max_body) is not None


_CHUNKED = re.compile(rb"\r\ntransfer-encoding[ \t]*:", re.IGNORECASE)


def alone(received: bytes, max_body: int) -> bool:
    """Whether RECEIVED is exactly one request with all its bytes: its head, and its body by a
    length the app accepts. A chunked body, or one over the limit, is not in RECEIVED however
    the head ends: keyed or answered on its head, its body would be read as the next request.

    >>> alone(b"POST / HTTP/1.1\\r\\nContent-Length: 3\\r\\n\\r\\nabc", 10)
    True
    >>> alone(b"GET / HTTP/1.1\\r\\nContent-Length: 70\\r\\n\\r\\n", 10)
    False
    >>> alone(b"GET / HTTP/1.1\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n", 10)
    False
    """
    if request_length(received, max_body) != len(received):
        return False
    head = _head(received)
    assert head is not None, "a request of some length has a head"
    if _CHUNKED.search(received, *head):
        return False
    length = _LENGTH.search(received, *head)
    return length is None or (len(length[1]) <= 18 and int(length[1]) <= max_body)


def _head(received: bytes) -> tuple[int, int] | None:
    """Where the first request's head starts (after stray line ends) and ends (its last
    header's CRLF); None while it has not ended."""
    start = len(received) - len(received.lstrip(b"\r\n"))
    end = received.find(b"\r\n\r\n", start)
    return None if end < 0 else (start, end + 2)


def request_length(received: bytes, max_body: int) -> int | None:
    """How many bytes of RECEIVED the first request takes (its head, and its body unless that
    is refused unread); None while it is not whole.

    >>> request_length(b"POST / HTTP/1.1\\r\\nContent-Length: 3\\r\\n\\r\\nabcGET", 10)
    41
    """
    head = _head(received)
    if head is None:
        return None
    ended = head[1] + 2  # after the empty line
    length = _LENGTH.search(received, *head)
    if length is None or len(length[1]) > 18:  # no body, or one longer than any can be (413)
        return ended
    body = int(length[1])
    if body > max_body:
        return ended  # refused whole (413), never awaited
    return ended + body if len(received) - ended >= body else None


class Worker(ThreadWorker):
    """gunicorn's threaded worker, with these changes.

    A request is read by the worker's event loop, not by a thread: a thread takes it once it is
    whole (``request_complete``), so clients that send half a request (slow loris) hold a
    buffer and a socket, never a thread, and are closed with 408 after
    ``INNOGRAPH_CLIENT_READ_S``. gunicorn's own worker hands a connection to a thread as soon
    as its first bytes arrive, and the thread then waits as long as the client likes.

    A request the app answered before, byte for byte the same, while the same version is
    served, is answered again by the event loop itself (``repeats``): no thread, parser, WSGI
    or Flask. A cached answer costs a few tens of microseconds instead of a millisecond.

    An answer's head is written together with its body (``gathered``): a worker killed between
    gunicorn's two writes would leave a load balancer with an answer begun, which it cannot
    retry.

    A request line or headers too large to read get the app's JSON error with CORS (a long GET
    query from a browser or SPARQLWrapper must learn to POST) instead of gunicorn's HTML page."""

    def init_process(self) -> None:
        settings: Settings = self.app.settings  # type: ignore[attr-defined]  # our Server
        self.read_s = settings.client_read_s
        self.max_body = settings.max_body_bytes
        self.repeats: Repeats | None = None
        self.keys = threading.local()  # a thread's request key, for the app's wrapper
        self.dated = (0, b"")  # the second of the last Date header written, and the header
        self.notified = 0.0  # when the arbiter was last told this worker is alive
        self.stopped_at: float | None = None  # when the worker was seen stopping
        self.keepalive_s = float(self.cfg.keepalive)
        self.lane: Lane | None = None
        self.lane_jobs: list[_LaneJob] = []  # lane queries awaiting their worker's reply
        self.lane_waiting: deque[_LaneJob] = deque()  # lane requests awaiting a free worker
        self.lane_wait_s = 0.0
        super().init_process()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        app: Any = self.wsgi  # the Flask app, before the wrappers below
        self.runtime = app.extensions["innograph"]
        capacity = self.runtime.settings.result_cache_bytes
        if capacity > 1:  # 1 turns the caches off
            self.repeats = Repeats(capacity)
            line = self.log.repeat_line  # type: ignore[attr-defined]  # our AccessLogger
            self.wsgi = keeping(self.wsgi, self.repeats, self.keys, SERVER, line)  # type: ignore[assignment]
        if isinstance(workers := self.runtime.workers, QueryWorkers):  # not a store server's
            limits = (
                self.cfg.limit_request_line,
                self.cfg.limit_request_fields,
                self.cfg.limit_request_field_size,
            )
            self.lane = Lane(app, self.runtime, workers, limits)
            self.lane_wait_s = self.runtime.settings.long_query_s
            workers.on_free = self._lane_freed
            self.wsgi = _handing(self.wsgi, self.keys)  # type: ignore[assignment]

    def accept(self, listener: Any) -> None:
        try:
            client, address = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn: Any = TConn(self.cfg, gathered(client), address, listener.getsockname())
        conn.proxied = self._proxied(conn)
        self._read_request(conn)

    def on_client_socket_readable(self, conn: Any, client: Any) -> None:
        """The one callback of a connection the event loop waits on, whether it waits for the
        next request (kept alive: gunicorn's ``finish_request`` registers it too) or for the
        rest of one begun: a connection answered in the loop stays registered as it is, with
        no call to the poller between two requests. Nothing a client sends, and no broken
        bookkeeping, may raise into gunicorn's loop (the worker, every request in flight on it
        and its query workers would go): the connection is answered 400 and closed instead."""
        try:
            if not conn.reading:  # a kept-alive connection starts its next request
                self.keepalived_conns.remove(conn)
                self._read_request(conn, registered=True)
            self._read_more(conn)
        except Exception:
            self.log.exception("Unreadable request from %s", conn.client)
            self._abandon(conn)

    def _read_request(self, conn: Any, registered: bool = False) -> None:
        """Wait for a whole request on CONN, whose socket is non-blocking. Each socket the
        event loop reads is non-blocking (gunicorn's, and ``_keep_alive``): it is not set
        again, and one the loop already waits on is left registered (each of these is a
        system call per request, and a repeat costs a few in all)."""
        conn.reading = True
        conn.received = getattr(conn, "received", b"")  # the start of a pipelined request
        conn.continued = False
        conn.timeout = time.monotonic() + self.read_s
        conn.data_ready = True  # gunicorn's thread must not wait for data: it is all there
        self.pending_conns.append(conn)  # murder_pending closes it at its timeout
        if not registered:
            waiting = partial(self.on_client_socket_readable, conn)
            self.poller.register(conn.sock, selectors.EVENT_READ, waiting)

    def _read_more(self, conn: Any) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn)
            return
        conn.received += data
        if request_complete(conn.received, self.max_body):
            self.pending_conns.remove(conn)
            conn.reading = False
            if not self._answered_again(conn) and not self._in_lane(conn):
                self.poller.unregister(conn.sock)  # a thread reads it now
                self.enqueue_req(conn)
        elif b"\r\n\r\n" in conn.received:
            head = conn.received.lstrip(b"\r\n").split(b"\r\n\r\n", 1)[0] + b"\r\n"
            if not conn.continued and _CONTINUE.match(head):  # curl's POSTs above 1 KiB
                conn.continued = True
                with contextlib.suppress(OSError):
                    conn.sock.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        elif len(conn.received) > HEAD_LIMIT:
            line = conn.received.split(b"\n", 1)
            refused = LimitRequestLine if len(line) == 1 else LimitRequestHeaders
            self._drop(conn, _REFUSED[refused])

    def _answered_again(self, conn: Any) -> bool:
        """Answer a repeated request here, in the event loop; False to leave it to a thread.
        Its socket is registered with the poller and stays so, waiting for the next request,
        unless a slow reader leaves a thread to write the rest."""
        received = conn.received
        if self.repeats is None or not self._may_keep(conn):
            return False  # gunicorn would close it, or restart after it: a thread says so
        # Only the bytes of one whole request alone are ever kept (``handle``): bytes found
        # are such a request, and bytes not alone (pipelined, a body unread) are never found.
        kept = self.repeats.get(request_key(received, conn.proxied))
        if kept is None:
            return False
        try:
            if kept.version != self.runtime.version().id:
                return False
        except Exception:  # no version served: the app says so
            return False
        conn.received = b""
        self._send(conn, kept, time.monotonic(), registered=True)
        return True

    def _send(self, conn: Any, kept: Kept, start: float, registered: bool) -> None:
        """Write a response the event loop made (a repeat, or the lane's answer), log it, and
        wait for the connection's next request; a slow reader leaves a thread to write the
        rest. The connection's socket is REGISTERED with the poller, or not."""
        self.nr += 1
        connection = KEEP_ALIVE if self.alive else CLOSE  # a stopping worker closes it after
        parts = [kept.status_line, self._date(), connection, kept.headers, kept.body]
        try:
            sent = conn.sock.sendmsg(parts)  # gathered by the kernel: the body is not copied
        except BlockingIOError:
            sent = 0
        except OSError:
            if registered:
                self.poller.unregister(conn.sock)
            self._close(conn)
            return
        self.log.repeated(kept, conn.client, time.monotonic() - start)  # type: ignore[attr-defined]
        if sent < sum(map(len, parts)):  # a slow reader: a thread writes the rest
            if registered:
                self.poller.unregister(conn.sock)
            done = self.tpool.submit(_send_rest, conn.sock, b"".join(parts)[sent:])
            done.add_done_callback(lambda fut: self.method_queue.defer(self._keep_alive, conn, fut))
        else:
            self._keep_alive(conn, registered=registered)

    def _in_lane(self, conn: Any) -> bool:
        """Answer a plain query here (``lane``): from the answer cache at once, or from a query
        worker that takes it now, whose reply the event loop awaits; False to leave it to a
        thread. The connection's socket is not read while its query runs."""
        received = conn.received
        if self.lane is None or not self._may_keep(conn) or not alone(received, self.max_body):
            return False
        start = time.monotonic()
        question = self.lane.question(received, _peer(conn.client))
        if question is None:
            return False
        answer = self.lane.cached(question)
        if answer is not None:
            conn.received = b""
            self._lane_answer(conn, question, answer, received, start, registered=True)
            return True
        if self.lane.known_long(question):  # a thread takes it to a long place
            return False
        conn.received = b""
        self.poller.unregister(conn.sock)
        job = _LaneJob(conn, question, received, start)
        if self.lane_waiting or not self._lane_start(job):
            self.lane_waiting.append(job)  # for a worker, in turn
        return True

    def _lane_start(self, job: _LaneJob) -> bool:
        """Send the job's query to a worker free now, and await its reply; False if none is."""
        try:
            started = self.lane.start(job.question)  # type: ignore[union-attr]
        except Exception:  # the request waits its turn, then a thread takes it
            self.log.exception("lane: cannot start the query of %s", job.conn.client)
            return False
        if started is None:
            return False
        try:
            self.poller.register(started, selectors.EVENT_READ, partial(self._lane_replied, job))
        except Exception:  # never awaited here: it ends unread, and the request waits its turn
            self.log.exception("lane: cannot await the query of %s", job.conn.client)
            self.lane.workers.abandon(started)  # type: ignore[union-attr]
            return False
        job.started = started
        self.lane_jobs.append(job)
        return True

    def _lane_next(self) -> None:
        """Start the waiting lane queries that a free worker can take now, in turn."""
        try:
            while self.lane_waiting and self._lane_start(self.lane_waiting[0]):
                self.lane_waiting.popleft()
        except Exception:  # never into the loop: they wait, then a thread takes them
            self.log.exception("lane: cannot start waiting queries")

    def _lane_freed(self) -> None:
        """A thread freed a quick place (from that thread): the loop starts a waiting query."""
        if self.lane_waiting:
            self.method_queue.defer(self._lane_next)

    def _lane_replied(self, job: _LaneJob, _pipe: Any) -> None:
        """A lane query's worker has replied: its answer is written, or the request goes to a
        thread with the query, settled (an error the engine reported, a worker gone, which the
        view raises). Nothing may raise into gunicorn's loop: a fault of the lane's own hands
        the request to a thread too, which answers it again."""
        try:
            started = self._lane_leaves(job)
            answer = self.lane.workers.answered(started)  # type: ignore[union-attr]
            if answer is None:
                self._hand_over(job)
            else:
                job.started = None  # answered: the worker is given back, the place freed
                kept = self.lane.kept(job.question, answer)  # type: ignore[union-attr]
                self._lane_answer(job.conn, job.question, answer, job.received, job.start, kept)
        except Exception:
            self.log.exception("lane: the answer to %s could not be made", job.conn.client)
            held = job.started
            if held is not None and held.outcome is None and not held.long:  # not settled
                self.lane.workers.abandon(held)  # type: ignore[union-attr]
                job.started = None
            self._hand_over(job)
        self._lane_next()

    def _lane_answer(
        self,
        conn: Any,
        question: Question,
        answer: Answer,
        received: bytes,
        start: float,
        kept: bool = True,
        registered: bool = False,
    ) -> None:
        lane: Lane = self.lane  # type: ignore[assignment]
        environ = lane.environ(question)
        line = self.log.repeat_line(environ, "200 OK", len(answer.body))  # type: ignore[attr-defined]
        head = lane.head(question, answer)
        made = Kept(question.query.version, _OK, head, answer.body, line or "")
        if kept and line is not None and self.repeats is not None:
            self.repeats.put(request_key(received, conn.proxied), made)
        self._send(conn, made, start, registered)

    def _lane_leaves(self, job: _LaneJob) -> Started:
        """The job's query, no longer awaited by the loop."""
        started = job.started
        assert started is not None, "a job the loop awaits was started"
        self.lane_jobs.remove(job)
        self.poller.unregister(started)
        return started

    def _hand_over(self, job: _LaneJob) -> None:
        """The request to a thread, with its query if it was started on a worker."""
        job.conn.received = job.received
        job.conn.handed = Handed(job.started) if job.started is not None else None
        self.enqueue_req(job.conn)

    def _lane_due(self) -> float:
        """When the lane next hands a request to a thread, if nothing happens before."""
        due = [job.started.check_at for job in self.lane_jobs if job.started]
        if self.lane_waiting:
            due.append(self.lane_waiting[0].start + self.lane_wait_s)
        return min(due)

    def _lane_checks(self) -> None:
        """Check each lane query still running at its ``check_at``: one that has barely worked
        (a busy machine) is awaited on, one stopped at its deadline or found long goes to a
        thread, settled (with its long place, or what the view raises), never holding a quick
        place that a thread would wait for. Then each request that waited ``lane_wait_s`` for
        a worker goes to a thread (which waits the queue's time, readies a new worker, or
        replaces one gone)."""
        now = time.monotonic()
        workers: QueryWorkers = self.lane.workers  # type: ignore[union-attr]
        due = [(job, job.started) for job in self.lane_jobs if job.started]
        for job, started in due:
            if started.check_at > now:
                continue
            try:
                if workers.check(started):
                    continue
                self._lane_leaves(job)
            except Exception:  # the loop's own fault: the query ends alone, a thread answers
                self.log.exception("lane: cannot check the query of %s", job.conn.client)
                with contextlib.suppress(Exception):
                    self._lane_leaves(job)
                workers.abandon(started)
                job.started = None
            self._hand_over(job)
        self._lane_next()
        while self.lane_waiting and self.lane_waiting[0].start + self.lane_wait_s <= now:
            self._hand_over(self.lane_waiting.popleft())

    def _may_keep(self, conn: Any) -> bool:
        """Whether gunicorn would keep the connection open after this request (the event
        loop's answers say keep-alive): not once the worker stops."""
        if not self.alive or not self.keepalive_s:
            return False
        if len(self.keepalived_conns) >= self.max_keepalived:
            return False
        return not (self.max_requests and self.nr + 1 >= self.max_requests)

    def _proxied(self, conn: Any) -> bool:
        """Whether the peer may set forwarding headers (gunicorn's ``forwarded_allow_ips``):
        the same bytes then make another environ (scheme, script name), so another key."""
        client = conn.client
        if not isinstance(client, tuple):
            return True
        allowed = self.cfg.forwarded_allow_ips
        return (
            "*" in allowed
            or client[0] in allowed
            or any(
                ip_address(client[0]) in network for network in self.cfg.forwarded_allow_networks()
            )
        )

    def _date(self) -> bytes:
        now = int(time.time())
        if self.dated[0] != now:
            self.dated = (now, f"Date: {formatdate(now, usegmt=True)}\r\n".encode())
        return self.dated[1]

    def _keep_alive(self, conn: Any, written: Any = None, registered: bool = False) -> None:
        """Wait for the connection's next request, as gunicorn does after an answer: from a
        thread that wrote the rest of it (WRITTEN), or from the event loop, which left the
        socket REGISTERED with the poller."""
        if written is not None and (written.cancelled() or written.exception() is not None):
            self._close(conn)
            return
        if not self.alive:
            if registered:
                self.poller.unregister(conn.sock)
            self._close(conn)
            return
        conn.timeout = time.monotonic() + self.keepalive_s  # gunicorn's set_timeout
        self.keepalived_conns.append(conn)
        if not registered:
            conn.sock.setblocking(False)  # a thread wrote the rest in blocking mode
            waiting = partial(self.on_client_socket_readable, conn)
            self.poller.register(conn.sock, selectors.EVENT_READ, waiting)

    def _close(self, conn: Any) -> None:
        self.nr_conns -= 1
        conn.close()

    def _abandon(self, conn: Any) -> None:
        """Answer 400 and close, whatever state the connection was left in (each step that
        no longer applies is skipped; the count and the socket are always let go)."""
        with contextlib.suppress(Exception):
            self.poller.unregister(conn.sock)
        with contextlib.suppress(ValueError):
            self.pending_conns.remove(conn)
        self.nr_conns -= 1
        _send_error(conn.sock, 400, "Bad Request", "the request could not be read")
        with contextlib.suppress(Exception):
            conn.close()

    def _drop(self, conn: Any, answer: tuple[int, str, str] | None = None) -> None:
        self.poller.unregister(conn.sock)
        self.pending_conns.remove(conn)
        self.nr_conns -= 1
        if answer is not None:
            _send_error(conn.sock, *answer)
        conn.close()

    def murder_pending(self) -> None:
        """Close the connections whose request did not arrive in time (408 to those that began
        one), and, once the worker stops, those that have not begun one at once and those
        halfway through one after ``STOP_LINGER_S`` (503: retry): waited for until
        ``graceful_timeout``, they held the worker until the arbiter killed it, and their
        clients, with every other connection still open, got a reset instead of an answer."""
        now = time.monotonic()
        if not self.alive and self.stopped_at is None:
            self.stopped_at = now
        stopped = self.stopped_at is not None and now - self.stopped_at >= STOP_LINGER_S
        for conn in list(self.pending_conns):
            late = conn.timeout is not None and conn.timeout <= now
            if getattr(conn, "received", b""):
                if late:
                    self._drop(conn, (408, "Request Timeout", _TOO_SLOW.format(self.read_s)))
                elif stopped:
                    self._drop(conn, (503, "Service Unavailable", _STOPPING))
            elif late or not self.alive:
                self._drop(conn)

    def finish_request(self, conn: Any, fs: Any) -> None:
        """A kept-alive connection with the start of its next request already read waits for
        the rest as a new one does (408 at the deadline), not as an idle one."""
        carried = getattr(conn, "received", b"")
        if carried and self.alive and not fs.cancelled() and fs.exception() is None and fs.result():
            conn.sock.setblocking(False)
            self._read_request(conn)
            return
        super().finish_request(conn, fs)

    def handle_request(self, req: Any, conn: Any) -> Any:
        """gunicorn's, with the answer's head written together with its body (``gathered``)."""
        if getattr(conn, "continued", False):  # the event loop has said 100 Continue already
            req._expected_100_continue = False
        sock: GatheredSocket = conn.sock
        sock.gather()
        try:
            keep = super().handle_request(req, conn)
        except BaseException:
            sock.drop()  # an answer that failed before its body: none of it leaves
            raise
        sock.flush()  # a head with no body (a 304, a HEAD)
        return keep

    def handle(self, conn: Any) -> Any:
        """gunicorn's request handling (in a thread), from the bytes already received."""
        received, conn.received = getattr(conn, "received", b""), b""
        handed, conn.handed = getattr(conn, "handed", None), None
        whole = bool(received) and alone(received, self.max_body)
        self.keys.key = request_key(received, conn.proxied) if whole else None
        self.keys.handed = handed
        if received:
            conn.sock.setblocking(True)
            if conn.parser is None:
                conn.parser = get_parser(self.cfg, conn.sock, conn.client)
            buffered = conn.parser.unreader.buf
            buffered.seek(0, 2)
            buffered.write(received)
        try:
            keep = super().handle(conn)
        finally:
            self.keys.handed = None
            if handed is not None and handed.started is not None:  # the view did not take it
                self.lane.workers.abandon(handed.started)  # type: ignore[union-attr]
        if keep and conn.parser is not None:  # what the client sent after this request
            rest = conn.parser.unreader.take_buffered()
            if request_complete(rest, self.max_body):
                conn.parser.unreader.unread(rest)  # gunicorn hands it to a thread at once
            else:
                conn.received = rest  # the event loop waits for the rest (finish_request)
        return keep

    def run(self) -> None:
        try:
            super().run()
        finally:  # the lines of answers finished after the loop's last turn
            self.log.write_access_lines()  # type: ignore[attr-defined]  # our AccessLogger

    def notify(self) -> None:
        """gunicorn's heartbeat, a ``utime`` of the worker's file, at most once a second rather
        than on every turn of the event loop (a system call per repeat): the arbiter waits
        ``timeout`` seconds, 30 or more, before it takes a silent worker for stuck."""
        now = time.monotonic()
        if now - self.notified >= 1.0:
            self.notified = now
            super().notify()

    def wait_for_and_dispatch_events(self, timeout: float | None) -> None:
        """gunicorn's turn of the event loop, woken in time for the lane's checks, then the
        access lines of the answers it saw."""
        lane = bool(self.lane_jobs or self.lane_waiting)
        if lane:
            due = self._lane_due() - time.monotonic()
            timeout = max(0.0, due if timeout is None else min(timeout, due))
        try:
            super().wait_for_and_dispatch_events(timeout)
            if lane:
                self._lane_checks()
        finally:
            self.log.write_access_lines()  # type: ignore[attr-defined]  # our AccessLogger

    def init_signals(self) -> None:
        """Ctrl-C reaches every process of the terminal's group: the master stops the workers
        (SIGQUIT), so a worker and the query workers it spawns (which inherit the ignored
        signal) leave SIGINT to it rather than each printing a KeyboardInterrupt."""
        super().init_signals()
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        refused = _REFUSED.get(type(exc)) or _unparsable(exc)
        if refused is None:
            super().handle_error(req, client, addr, exc)
            return
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        _send_error(client, *refused)


_TOO_SLOW = "the request did not arrive within {:g} s; send it whole, then wait for the answer"
_STOPPING = "the server is restarting and the request had not arrived whole; send it again"
STOP_LINGER_S = 2.0  # what a request begun gets to arrive once the worker stops (gunicorn's
# linger for kept-alive connections)


@dataclasses.dataclass(slots=True, eq=False)
class _LaneJob:
    conn: Any
    question: Question
    received: bytes
    start: float
    started: Started | None = None


def _handing(app: WsgiApp, keys: threading.local) -> WsgiApp:
    """APP, given the query the lane started for the request (``keys.handed``) in its environ."""

    def wsgi(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        handed = getattr(keys, "handed", None)
        if handed is not None:
            environ[HANDED] = handed
        return app(environ, start_response)

    return wsgi


def _peer(client: Any) -> str:
    return str(client[0]) if isinstance(client, tuple) else ""


def _send_rest(client: socket.socket, rest: bytes) -> bool:
    client.setblocking(True)
    client.sendall(rest)
    return True


def _send_error(client: socket.socket, status: int, reason: str, message: str) -> None:
    """A JSON error and the end of the connection, written by the server, not the app."""
    body = json.dumps({"error": message, "status": status}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\nAccess-Control-Allow-Origin: *\r\n\r\n"
    )
    with contextlib.suppress(OSError):
        client.send(head.encode("latin-1") + body)  # once: a non-blocking socket may take less


def check_address(host: str, port: int) -> None:
    """Refuse at once, saying what to do, an address the server cannot listen on (gunicorn
    would retry for five seconds, then name neither the cause nor the option)."""
    error = _bind_error(host, port)
    if error is None:
        return
    if error.errno == errno.EADDRINUSE:
        other = next((p for p in range(port + 1, min(port + 20, 65536)) if _free(host, p)), None)
        example = f", e.g. --port {other}" if other else ""
        raise UsageError(
            f"--port: {port} is already in use on {host} (another server is listening there);"
            f" stop it, or choose another port with --port{example}"
        )
    if error.errno == errno.EACCES:
        raise UsageError(
            f"--port: {port} needs privileges here; choose a port above 1023, e.g. --port 8000"
        )
    if error.errno in (errno.EADDRNOTAVAIL, None):
        raise UsageError(
            f"--host: {host} is not an address of this machine; use 127.0.0.1 (this machine"
            " only) or 0.0.0.0 (every interface)"
        )
    raise UsageError(f"--host, --port: cannot listen on {host}:{port} ({error.strerror})")


def _bind_error(host: str, port: int) -> OSError | None:
    """Why binding HOST:PORT fails now, as gunicorn binds (SO_REUSEADDR), or None."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        return OSError(None, str(error))
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            return error
    return None


def _free(host: str, port: int) -> bool:
    return _bind_error(host, port) is None


def _query_workers_skip_the_script() -> None:
    """Run as the ``innograph`` script, the main module is that script, and multiprocessing runs
    it again in every query worker it starts, with the command line and all it imports (5 to
    6 MB a worker). Marked as the module ``python -m innograph`` runs, it is skipped there, as
    multiprocessing skips every ``__main__`` module run with -m."""
    main = sys.modules["__main__"]
    if getattr(main, "__spec__", None) is None and hasattr(main, "__file__"):
        main.__spec__ = importlib.util.find_spec("innograph.__main__")


def serve(
    settings: Settings, host: str, port: int, workers: int, threads: int, banner: str = ""
) -> None:
    """Run gunicorn until it is stopped; BANNER is printed once it listens."""
    _query_workers_skip_the_script()
    settings = dataclasses.replace(settings, query_workers=settings.query_workers_per(workers))

    def ready(_arbiter: Any) -> None:
        if banner:
            print(banner, file=sys.stdout, flush=True)

    access = settings.access_log
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": f"{__name__}.Worker",
        "threads": threads,
        "timeout": int(settings.query_timeout_s) + 30,
        "graceful_timeout": 10,
        "limit_request_line": 8190,
        "accesslog": None if access == "off" else "-",
        "access_log_format": ACCESS_FORMATS.get(access, ACCESS_FORMATS["short"]),
        "logger_class": f"{__name__}.AccessLogger",
        "errorlog": "-",
        "loglevel": "info" if access == "full" else "warning",
        "when_ready": ready,
    }
    # The web workers are forked from this process with everything it imported: frozen, those
    # objects are never visited by a collection there, which would write to each and so copy
    # every page of them into each worker (13 MB less in all, with two web workers).
    gc.freeze()
    Server(settings, options).run()
