"""Queries answered by a store server (``--backend``), behind the same ``run(request,
timeout_s) -> Answer`` as the embedded query workers, so that the web app, the answer cache and
the throttle do not change.

The front keeps its own limits, since neither server enforces one a client can trust (Oxigraph's
``--timeout-s`` cuts a streamed answer after ``200 OK``, and some plans outlive it): every query
is checked by the engine on an empty store first (same messages as embedded), sent to the slot
holding the asked-for version, read under one total deadline, parsed, and written again by
``writers`` with the row and byte caps, so formats, truncation and gzip are the embedded ones.
A server that is down answers 503 (with Retry-After), one that is too slow 504, one that fails
502; never a hang or a traceback.

Virtuoso needs more (docs/backends.md): the dataset named in every request (its own default
graph is every graph it holds), its functions (``bif:``, ``sql:``) refused before anything is
sent, a form POST (it never answers a POST of ``application/sparql-query``), its ``1``/``0``
booleans read as ``true``/``false``, an answer it cut at its time limit (``X-SQL-State:
S1TAT``, after ``200 OK``) or at its ``ResultSetMaxRows`` (``X-SPARQL-MaxRows``) told as such.
"""

from __future__ import annotations

import http.client
import io
import logging
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import urlencode, urlsplit

import pyoxigraph as ox

from .. import store
from ..errors import InnographError
from ..settings import Settings
from .guard import called_iris, engine_syntax_message, first_iri_in, inspect_query
from .workers import (
    Answer,
    QueryFailed,
    QueryRequest,
    QueryTimeout,
    ServerBusy,
    engine_options,
)
from .writers import gzipped, write_boolean, write_graph, write_solutions

RETRY_AFTER_S = 5  # what a client is told to wait when the store server is down
RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
NOTHING = "\nVALUES () {}"  # joined to the query, it makes the engine's check evaluate nothing
UNKNOWN_FUNCTION = re.compile(r"The custom function <[^<>\s]*> is not supported")
MESSAGE_BYTES = 2000  # of a server's refusal, read and shown
TAIL = 256  # bytes of an answer kept to tell a server's own cut ("…cancelled") from damage
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_BOOLEAN = XSD + "boolean"
# Virtuoso runs functions of its own named in a query (``<bif:sys_stat>(…)`` answers): they are
# refused before anything is sent (the engine's check evaluates nothing, so never meets them).
VIRTUOSO_FUNCTIONS = ("bif:", "sql:", "java:", "clr:", "http://www.openlinksw.com/schemas/")
# Virtuoso's "anytime" limit (timeout=, in ms) is set this long before the front's, at least
# 1 s: it then answers what it has, marked S1TAT, and stops its work (it builds a whole answer
# before sending any of it, and works on after a client leaves, up to MaxQueryExecutionTime).
# Measured: its answer comes up to 2 s after the limit (1 s and 2 s both answered at 2.0 s).
VIRTUOSO_EARLY_S = 2.0

log = logging.getLogger(__name__)  # what a store server said, for operators only


class Executor(Protocol):
    """What the web app asks queries of: the embedded workers or a store server."""

    def run(self, request: QueryRequest, timeout_s: float) -> Answer: ...

    def close(self) -> None: ...


class BackendMissing(InnographError):
    """The served version is in no store server slot (built without --backend)."""

    http_status = 503


class BackendUnavailable(ServerBusy):
    """The store server refused or dropped the connection: a client may try again."""

    def __init__(self) -> None:
        InnographError.__init__(self, "the store server is unavailable; retry in a moment")
        self.retry_after = RETRY_AFTER_S


class BackendTimeout(QueryTimeout):
    """No whole answer came from the store server within the query's time limit."""

    http_status = 504

    def __init__(self, seconds: float) -> None:
        InnographError.__init__(
            self, f"the store server gave no whole answer within the time limit of {seconds:g} s"
        )


class BackendFailed(InnographError):
    """The store server answered with an error, or with what cannot be read."""

    http_status = 502


class BackendRefused(QueryFailed):
    """The store server refused a query the engine's own check passed (its text is not echoed:
    a server's message may quote what the front added)."""


class _Body(io.RawIOBase):
    """An answer's body read under the total deadline: each read may wait only what is left."""

    def __init__(self, response: http.client.HTTPResponse, sock: Any, deadline: float) -> None:
        self._response, self._sock, self._deadline = response, sock, deadline
        self.tail = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._response.isclosed():  # all of it read (its socket may be closed now)
            return 0
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline")
        self._sock.settimeout(left)
        count = self._response.readinto(buffer)
        self.tail = (self.tail + bytes(buffer[:count]))[-TAIL:]
        return count


class RemoteExecutor:
    """Queries sent to the store server slot holding each version; at most ``size`` at once
    (a request waits ``queue_wait_s`` for a place, then gets 503, as with the workers)."""

    def __init__(
        self, store_root: Path, backend: store.slots.Backend, size: int, queue_wait_s: float
    ) -> None:
        self._root = store_root
        self._backend = backend
        self._places = threading.BoundedSemaphore(size)
        self._queue_wait_s = queue_wait_s
        self._empty = ox.Store()  # the engine's check: syntax, functions, as embedded
        self._endpoints: dict[str, str] = {}  # version id -> endpoint (a version never moves)
        self._graphs: dict[str, tuple[str, ...]] = {}  # version id -> its named graphs

    def run(self, request: QueryRequest, timeout_s: float) -> Answer:
        if not self._places.acquire(timeout=self._queue_wait_s):
            raise ServerBusy(self._queue_wait_s)
        try:
            return self._run(request, timeout_s)
        finally:
            self._places.release()

    def close(self) -> None:
        """Nothing is held between queries (one connection per query)."""

    def endpoint(self, version_id: str) -> str:
        """The endpoint of the slot holding that version, read once from its backend.json."""
        found = self._endpoints.get(version_id)
        if found is None:
            record = store.slots.held_by(store.version_at(self._root, version_id))
            if record is None:
                raise BackendMissing(
                    f"version {version_id} is in no store server slot; build it with --backend"
                )
            found = self._endpoints[version_id] = self._backend.endpoint(record["slot"])
            self._graphs[version_id] = tuple(record.get("graphs", ()))
        return found

    def _dataset(self, request: QueryRequest) -> list[tuple[str, str]]:
        """The dataset of the request as the embedded engine reads it, named in full for a
        server whose own default differs (Virtuoso): the query's FROM and FROM NAMED (both
        empty when it has only one of them), else the merged graph and every graph of the
        version; a protocol default-graph-uri or named-graph-uri replaces its part."""
        if self._backend.kind == "oxigraph":  # its defaults are the embedded store's
            fields = [("default-graph-uri", g) for g in request.default_graphs]
            return fields + [("named-graph-uri", g) for g in request.named_graphs]
        plan = inspect_query(request.text, request.base_iri)
        default: tuple[str, ...] = (store.virtuoso.MERGED,)
        named = self._graphs[request.version]
        if plan.from_graphs or plan.from_named_graphs:
            default, named = plan.from_graphs, plan.from_named_graphs
        return store.virtuoso.dataset_fields(
            request.default_graphs or default, request.named_graphs or named
        )

    def _refuse_server_functions(self, request: QueryRequest) -> None:
        """Any function but the XSD casts (Virtuoso's own among them) is refused as the embedded
        engine refuses an unknown function, and so is any other mention of Virtuoso's function
        namespaces (a magic predicate). (An IRI before an RDF collection, ``?s <p> (1 2)``,
        reads as a call here: a known gap.)"""
        calls = [i for i in called_iris(request.text, request.base_iri) if not i.startswith(XSD)]
        found = calls[0] if calls else None
        found = found or first_iri_in(request.text, VIRTUOSO_FUNCTIONS, request.base_iri)
        if found is not None:
            raise QueryFailed(
                f"query: the engine refused it (The custom function <{found}> is not supported)"
            )

    def _run(self, request: QueryRequest, timeout_s: float) -> Answer:
        start, deadline = time.perf_counter(), time.monotonic() + timeout_s
        form = self._check(request)
        virtuoso = self._backend.kind == "virtuoso"
        if virtuoso:
            self._refuse_server_functions(request)
        where = urlsplit(self.endpoint(request.version))
        text = f"BASE <{request.base_iri}>\n{request.text}" if request.base_iri else request.text
        fields = [("query", text), *self._dataset(request)]
        left = max(0.001, deadline - time.monotonic())  # the engine's check took some
        if virtuoso:  # its own limit, before the front's, so that it stops its work
            fields.append(("timeout", str(int(max(1.0, left - VIRTUOSO_EARLY_S) * 1000))))
        connection = store.virtuoso.connection(self.endpoint(request.version), left)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": N_TRIPLES if form == "graph" else RESULTS_JSON,
        }
        try:
            try:
                connection.request("POST", where.path or "/", urlencode(fields), headers)
                sock = connection.sock
                response = connection.getresponse()
            except TimeoutError:
                raise BackendTimeout(timeout_s) from None
            except OSError:  # refused, reset, unreachable
                raise BackendUnavailable() from None
            except http.client.HTTPException:
                raise BackendFailed("the store server sent no answer that can be read") from None
            if virtuoso:
                _virtuoso_status(response, timeout_s)
            if response.status == 400:
                raise self._refusal(response.read(MESSAGE_BYTES), based=bool(request.base_iri))
            if response.status == 500 and self._backend.kind == "oxigraph":
                said = response.read(MESSAGE_BYTES).decode("utf-8", "replace").strip()
                if UNKNOWN_FUNCTION.fullmatch(said):  # as embedded: the engine refuses it
                    raise QueryFailed(f"query: the engine refused it ({said})")
            if response.status == 503:
                raise BackendUnavailable()
            if response.status != 200:
                raise BackendFailed(f"the store server failed (it answered {response.status})")
            raw = _Body(response, sock, deadline)
            try:
                written, rows, truncated = _rewrite(form, io.BufferedReader(raw), request, virtuoso)
            except TimeoutError:
                raise BackendTimeout(timeout_s) from None
            except SyntaxError:
                if b"cancelled" in raw.tail:  # the server's own time limit cut it
                    raise BackendTimeout(timeout_s) from None
                raise BackendFailed("the store server's answer cannot be read") from None
            except (OSError, http.client.HTTPException):
                raise BackendFailed("the store server broke off its answer") from None
            except (ValueError, TypeError) as error:  # a format that cannot hold the answer
                raise QueryFailed(f"query: the engine refused it ({error})") from None
            # Virtuoso's ResultSetMaxRows cuts an answer silently but for this header
            truncated = truncated or response.getheader("X-SPARQL-MaxRows") is not None
        finally:
            connection.close()  # also stops a server that streams (past limit + 1 rows)
        packed = gzipped(written) if request.gzip else None
        seconds = time.perf_counter() - start
        encoding = "gzip" if packed else None
        return Answer(packed or written, request.fmt, rows, truncated, seconds, encoding)

    def _refusal(self, said: bytes, based: bool) -> QueryFailed:
        """The server's refusal of a query the check passed (one ending in its own VALUES, or
        with a function the check did not reach): Oxigraph's words are the embedded engine's,
        given as embedded (its lines counted without the BASE line the front added); another
        server's may quote what the front added, and are not shown."""
        if self._backend.kind != "oxigraph":
            return BackendRefused("query: the store server cannot run this query")
        text = " ".join(said.decode("utf-8", "replace").split())[:MESSAGE_BYTES]
        found = re.fullmatch(r"error at (\d+):(\d+)(.*)", text)
        if found is None:
            return QueryFailed(f"query: the engine refused it ({text})")
        line = int(found[1]) - (1 if based else 0)
        return QueryFailed(
            engine_syntax_message(SyntaxError(f"error at {line}:{found[2]}{found[3]}"))
        )

    def _check(self, request: QueryRequest) -> str:
        """The engine's check on an empty store, evaluating nothing (``NOTHING`` is joined to
        the query): a syntax error or an unknown function is answered as embedded, before
        anything is sent. Returns the answer's kind: solutions, boolean or graph."""
        options = engine_options(request)
        try:
            result = self._empty.query(request.text + NOTHING, **options)
        except SyntaxError as error:
            if not _in_suffix(error, request.text):
                raise QueryFailed(engine_syntax_message(error)) from None
            # the query ends (or breaks off) where VALUES cannot follow: the engine parses it
            # alone (a SELECT or CONSTRUCT is not evaluated until read, and is not read here)
            try:
                self._empty.query(request.text, **options)
            except SyntaxError as alone:
                raise QueryFailed(engine_syntax_message(alone)) from None
            except (ValueError, TypeError, NotImplementedError, RuntimeError) as alone:
                raise QueryFailed(f"query: the engine refused it ({alone})") from None
            form = inspect_query(request.text, request.base_iri).form
            return {"ASK": "boolean", "CONSTRUCT": "graph", "DESCRIBE": "graph"}.get(
                form, "solutions"
            )
        except (ValueError, TypeError, NotImplementedError, RuntimeError) as error:
            raise QueryFailed(f"query: the engine refused it ({error})") from None
        if isinstance(result, ox.QueryBoolean):
            return "boolean"
        return "solutions" if isinstance(result, ox.QuerySolutions) else "graph"


def _in_suffix(error: SyntaxError, text: str) -> bool:
    """Whether the engine's syntax error is in ``NOTHING``, past the query's own lines."""
    line = getattr(error, "lineno", None)
    if line is None:
        words = str(error).split("error at ", 1)[-1].split(":", 1)[0]
        line = int(words) if words.isdigit() else None
    return line is not None and line > text.count("\n") + 1


# Virtuoso's SQL states and error codes for a statement it stopped at its time limit: timed out
# (S1T00, SR171), or cancelled (HY008, SR203).
STOPPED_AT_THE_LIMIT = (b"S1T00", b"SR171", b"HY008", b"SR203")


def _virtuoso_status(response: http.client.HTTPResponse, timeout_s: float) -> None:
    """Virtuoso's own signs: an answer it cut at its time limit, after ``200 OK``
    (``X-SQL-State: S1TAT``) or before (500, SQL state S1T00, or HY008 "Async statement killed
    by SQLCancel" when it cancels the statement at the limit instead); a query its compiler
    cannot run (400, or 500 with an SQL state: its text quotes the request, and is never
    shown)."""
    if response.getheader("X-SQL-State") == "S1TAT":
        raise BackendTimeout(timeout_s)
    if response.status == 500:
        said = response.read(MESSAGE_BYTES)
        if any(state in said for state in STOPPED_AT_THE_LIMIT):
            raise BackendTimeout(timeout_s)
        first = said.decode("utf-8", "replace").splitlines()[:1]
        log.warning("the store server answered 500: %s", first[0][:200] if first else "")
        if said.startswith(b"Virtuoso ") and b" Error " in said[:40]:
            raise BackendRefused("query: the store server cannot run this query")
        raise BackendFailed("the store server failed (it answered 500)")


def _canonical(term: Any) -> Any:
    """Virtuoso writes xsd:boolean as 1 or 0: read as true or false, as the embedded store."""
    if isinstance(term, ox.Literal) and term.datatype.value == XSD_BOOLEAN:
        value = {"1": "true", "0": "false"}.get(term.value)
        if value is not None:
            return ox.Literal(value, datatype=term.datatype)
    return term


def _rewrite(
    form: str, body: BinaryIO, request: QueryRequest, virtuoso: bool = False
) -> tuple[bytes, int, bool]:
    """The server's answer parsed as it streams and written by innograph's own writers."""
    if form == "graph":
        quads: Iterator[ox.Quad] = ox.parse(body, ox.RdfFormat.N_TRIPLES)
        triples: Iterator[ox.Triple] = (quad.triple for quad in quads)
        if virtuoso:
            triples = (ox.Triple(t.subject, t.predicate, _canonical(t.object)) for t in triples)
        return write_graph(
            triples,
            request.fmt,
            request.limit,
            prefixes=dict(request.prefixes) or None,
            max_bytes=request.max_bytes,
        )
    result = ox.parse_query_results(body, ox.QueryResultsFormat.JSON)
    if isinstance(result, ox.QueryBoolean):
        return write_boolean(bool(result), request.fmt), 1, False
    names = [v.value for v in result.variables]
    rows: Iterator[tuple[Any, ...]] = map(tuple, result)
    if virtuoso:
        rows = (tuple(map(_canonical, row)) for row in rows)
    return write_solutions(names, rows, request.fmt, request.limit, request.max_bytes)


def remote_executor(settings: Settings) -> RemoteExecutor | None:
    """The executor for the configured store servers, or None for the embedded store."""
    backend = store.slots.Backend.from_settings(settings)
    if backend is None:
        return None
    in_flight = settings.query_workers_per(1)  # serve gives the number it chose per web worker
    return RemoteExecutor(settings.store, backend, in_flight, settings.queue_wait_s)
