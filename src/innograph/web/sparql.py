"""The SPARQL 1.1 Protocol at /sparql: query via GET, POST form and POST sparql-query; the
service description and the query page when there is no query."""

from __future__ import annotations

import hashlib
import io
import threading
import urllib.parse
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from flask import Blueprint, Response, render_template, request
from werkzeug.datastructures import MIMEAccept

from ..errors import UsageError
from ..query.guard import QueryRejected, inspect_query
from ..query.workers import Answer, QueryRequest, Started
from ..settings import Settings
from . import service, throttle
from .http import takes_gzip
from .negotiation import choose, media_type
from .repeats import KEEP, OVERHEAD, SERVED, Environ, StartResponse, WsgiApp
from .runtime import Runtime
from .runtime import current as runtime

blueprint = Blueprint("sparql", __name__)
HANDED = "innograph.handed"  # environ: a query the server started already (``Handed``)

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"


def _endpoint() -> str:
    return endpoint(runtime().settings.public_base, request.base_url)


def endpoint(public_base: str, asked_at: str) -> str:
    """The endpoint's own URL: under INNOGRAPH_PUBLIC_BASE when set (behind a proxy, the Host a
    client sent names nothing), else the address the request came to (ASKED_AT). Relative IRIs
    in a query resolve against it (SPARQL 1.1 Query, 4.1.1.1) and the service description
    names it."""
    return f"{public_base.rstrip('/')}/sparql" if public_base else asked_at


def _one(name: str, sources: list[list[str]]) -> str | None:
    values = [v for source in sources for v in source]
    if len(values) > 1:
        raise UsageError(f"{name}: given {len(values)} times; give it once")
    return values[0] if values else None


def _strict_utf8(encoded: bytes, where: str) -> None:
    """SPARQL text is UTF-8: refuse what Werkzeug would quietly replace or leave escaped."""
    try:
        urllib.parse.parse_qsl(encoded.decode("ascii"), encoding="utf-8", errors="strict")
    except UnicodeError:
        raise UsageError(f"{where}: expected UTF-8 (percent-encoded); found other bytes") from None


def _read_request() -> tuple[str | None, dict[str, list[str]]]:
    """The query text and the protocol parameters, from the URL and the body."""
    _strict_utf8(request.query_string, "URL parameters")
    args = {k: request.args.getlist(k) for k in request.args}
    if request.method in ("GET", "HEAD"):
        if request.args.getlist("update"):
            raise QueryRejected("updates are not allowed: this endpoint is read-only", 403)
        return _one("query", [args.get("query", [])]), args
    if request.content_length is None and request.headers.get("Transfer-Encoding"):
        raise LengthRequired("Content-Length: required; send the body with its length")
    kind = request.mimetype
    if kind == SPARQL_UPDATE:
        raise QueryRejected("updates are not allowed: this endpoint is read-only", 403)
    if kind == FORM:
        _strict_utf8(request.get_data(cache=True), "form body")
        form = {k: request.form.getlist(k) for k in request.form}
        if "update" in form or "update" in args:
            raise QueryRejected("updates are not allowed: this endpoint is read-only", 403)
        merged = {k: args.get(k, []) + form.get(k, []) for k in set(args) | set(form)}
        return _one("query", [args.get("query", []), form.get("query", [])]), merged
    if kind == SPARQL_QUERY:
        if "query" in args:
            raise UsageError("query: given in the URL and as the body; give it once")
        charset = request.mimetype_params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(f"Content-Type: {SPARQL_QUERY} is UTF-8 only, not {charset}")
        try:
            return request.get_data().decode("utf-8", errors="strict"), args
        except UnicodeDecodeError:
            raise UsageError("query: the body is not valid UTF-8") from None
    raise UnsupportedMediaType(
        f"Content-Type: {kind or 'none'} is not accepted; POST {FORM} or {SPARQL_QUERY}"
    )


class UnsupportedMediaType(UsageError):
    http_status = 415


class LengthRequired(UsageError):
    http_status = 411


def _timeout(params: dict[str, list[str]], settings: Settings) -> float:
    cap = settings.query_timeout_s
    value = _one("timeout", [params.get("timeout", [])])
    if value is None:
        return cap
    try:
        seconds = float(value)
    except ValueError:
        raise UsageError(f"timeout: expected a number of seconds, got {value!r}") from None
    if not 0 < seconds <= cap:
        raise UsageError(f"timeout: must be above 0 and at most the server's limit of {cap:g} s")
    return seconds


@blueprint.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    text, params = _read_request()
    if text is None:
        if request.method == "POST":
            raise UsageError("query: missing; POST a query (form field query= or the body)")
        return _without_query()
    if request.method in ("GET", "HEAD") and "format" not in params and _prefers_html():
        return _page()  # a permalink opened in a browser: the page runs the query itself
    endpoint = _endpoint()  # werkzeug builds it anew at each call
    asked = ask(text, params, request.accept_mimetypes, endpoint, runtime())
    headers = {"ETag": f'W/"{asked.tag}"', "Last-Modified": asked.last_modified}
    request.environ[SERVED] = asked.query.version
    handed: Handed | None = request.environ.pop(HANDED, None)
    if request.if_none_match.contains_weak(asked.tag):
        request.environ[KEEP] = True  # the same tags asked again get the same 304
        return Response(status=304, headers=headers)
    query = replace(asked.query, gzip=takes_gzip())
    started = handed.take(query) if handed is not None else None
    answer = None if started is not None else runtime().cache.get(query)
    kept = answer is not None
    if answer is None:
        answer = throttle.run(runtime().workers, query, asked.timeout_s, started)
        kept = runtime().cache.put(query, answer)
    response = Response(answer.body, headers=answer_headers(asked, answer, runtime().settings))
    request.environ[KEEP] = kept  # the answer cache holds it: the front door may too
    return response


@dataclass(frozen=True, slots=True)
class Asked:
    """A query as the endpoint runs it (before the client's gzip is known), its time limit,
    and the validator of its answer."""

    query: QueryRequest
    timeout_s: float
    tag: str  # weak: the same answer may travel gzipped or not
    last_modified: str


def ask(
    text: str, params: dict[str, list[str]], accept: MIMEAccept, endpoint: str, runtime: Runtime
) -> Asked:
    """The query a request asks, checked (length, the guard, the dataset, the format, the
    time limit): the view's and the server's fast lane's one way to it. Raises what the
    client must be told."""
    settings = runtime.settings
    if len(text) > settings.max_query_chars:
        raise UsageError(f"query: longer than the limit of {settings.max_query_chars} characters")
    plan = inspect_query(text, base=endpoint)
    version = runtime.version()
    default_graphs = tuple(params.get("default-graph-uri", []))
    named_graphs = tuple(params.get("named-graph-uri", []))
    outside = [
        g
        for g in (*plan.from_graphs, *plan.from_named_graphs, *default_graphs, *named_graphs)
        if g not in version.graphs
    ]
    if outside:
        raise UsageError(
            f"dataset: {outside[0]} is not a graph of this store; FROM, FROM NAMED,"
            " default-graph-uri and named-graph-uri may only name the store's own graphs"
        )
    kind = {"CONSTRUCT": "graph", "DESCRIBE": "graph", "ASK": "boolean"}.get(plan.form, "solutions")
    fmt = choose(kind, accept, params.get("format", []))
    query = QueryRequest(
        text,
        fmt,
        settings.max_rows,
        version.id,
        default_graphs,
        named_graphs,
        endpoint,
        max_bytes=settings.max_result_bytes,
        shape=plan.shape,
    )
    tag = hashlib.sha256(repr(query).encode()).hexdigest()[:32]
    return Asked(query, _timeout(params, settings), tag, version.last_modified)


def answer_headers(asked: Asked, answer: Answer, settings: Settings) -> list[tuple[str, str]]:
    """The view's own headers of an answer, in the order it writes them (``http`` adds the
    rest to every response)."""
    headers = [("ETag", f'W/"{asked.tag}"'), ("Last-Modified", asked.last_modified)]
    if answer.encoding:
        headers.append(("Content-Encoding", answer.encoding))
    headers.append(("Content-Type", _content_type(answer.fmt)))
    headers.append(("X-Result-Rows", str(answer.rows)))
    if answer.truncated:
        headers.append(("X-Result-Truncated", "true"))
        headers.append(("X-Result-Row-Limit", str(settings.max_rows)))
        headers.append(("X-Result-Byte-Limit", str(settings.max_result_bytes)))
    return headers


class Handed:
    """A query the server's event loop started on a query worker and hands, with its request,
    to the app (``HANDED`` in the environ): the view takes it over instead of starting the
    query again. One not taken is abandoned by the server once the request is answered."""

    def __init__(self, started: Started) -> None:
        self.started: Started | None = started

    def take(self, query: QueryRequest) -> Started | None:
        """The started query, if it is QUERY (it always is: the view asks as the loop did)."""
        started, self.started = self.started, None
        if started is not None and started.request != query:
            self.started = started  # abandoned with the request
            return None
        return started


def _content_type(fmt: str) -> str:
    return f"{media_type(fmt)}; charset=utf-8"


def _prefers_html() -> bool:
    """The client names text/html and likes it at least as much as any answer format."""
    accept = request.accept_mimetypes
    if not any(value == "text/html" for value, _ in accept):
        return False
    others = [*service.SD_TYPES, "application/sparql-results+json", "text/csv"]
    return all(accept.quality("text/html") >= accept.quality(t) for t in others)


def _page() -> Response:
    settings = runtime().settings
    page = render_template(
        "sparql.html",
        examples=service.examples(),
        settings=settings,
        megabytes=service.megabytes(settings.max_result_bytes),
    )
    return Response(page, content_type="text/html; charset=utf-8")


def _without_query() -> Response:
    """A browser gets the query page; other clients get the service description."""
    fmt = request.args.get("format")
    if fmt is None and _prefers_html():
        return _page()
    accept = request.accept_mimetypes
    best_rdf = accept.best_match(list(service.SD_TYPES)) if accept else "text/turtle"
    body, media = service.describe(_endpoint(), runtime(), best_rdf, fmt)
    return Response(body, content_type=f"{media}; charset=utf-8")


# --- answered requests, before Flask ------------------------------------------------------------

# What a request to /sparql may differ in and change its answer: everything else Flask reads of
# it (the method, path and URL parameters, the body and its type, Accept, Accept-Encoding, the
# Host that links and base IRIs are made from), and the served version.
KEYED = (
    "REQUEST_METHOD",
    "HTTP_IF_NONE_MATCH",
    "SCRIPT_NAME",
    "QUERY_STRING",
    "CONTENT_TYPE",
    "HTTP_ACCEPT",
    "HTTP_ACCEPT_ENCODING",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "wsgi.url_scheme",
)


class AnsweredRequests:
    """Finished answers of the endpoint by the request that asked for them, so that a repeat
    skips Flask, the guard and negotiation: at most ``capacity_bytes`` of bodies, least
    recently used out first. The bodies are the answer cache's own bytes, shared, not copied.
    Only 200 answers of a query that the answer cache keeps are kept here (so a one-off cheap
    query is not), and the 304s of conditional requests (``If-None-Match`` is part of the key);
    anything else goes through the app."""

    def __init__(self, capacity_bytes: int) -> None:
        self._capacity = capacity_bytes
        self._size = 0
        # key -> (status, headers, body); tuples of str and bytes only: the collector skips them
        self._kept: OrderedDict[bytes, tuple[str, tuple[tuple[str, str], ...], bytes]]
        self._kept = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes) -> tuple[str, tuple[tuple[str, str], ...], bytes] | None:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def put(self, key: bytes, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        if len(body) > self._capacity // 4:
            return
        with self._lock:
            if key in self._kept:
                return
            self._kept[key] = (status, tuple(headers), body)
            self._size += _weight(headers, body)
            while self._size > self._capacity:
                _, (_, old_headers, old) = self._kept.popitem(last=False)
                self._size -= _weight(old_headers, old)


def _weight(headers: Iterable[tuple[str, str]], body: bytes) -> int:
    """What an entry costs: its body, its headers and the bookkeeping (a 304 has no body, yet
    each costs a kilobyte or more: counted as nothing, they were never let go)."""
    return len(body) + sum(len(name) + len(value) for name, value in headers) + OVERHEAD


def answered_first(app: WsgiApp, runtime: Runtime) -> WsgiApp:
    """The WSGI app with a front door for /sparql: a request already answered (the same raw
    request, the same served version) gets the same response again without entering Flask."""
    kept = AnsweredRequests(runtime.settings.result_cache_bytes)
    max_body = runtime.settings.max_body_bytes

    def front(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        keyed = _key(environ, max_body, runtime)
        if keyed is None:
            return app(environ, start_response)
        key, version = keyed
        found = kept.get(key)
        if found is not None:
            status, headers, body = found
            environ[KEEP], environ[SERVED] = True, version  # the server may keep it too
            start_response(status, list(headers))
            return [body]
        caught: list[Any] = []

        def remember(status: str, headers: list[tuple[str, str]], *info: Any) -> Any:
            caught[:] = [status, headers]
            return start_response(status, headers, *info)

        parts = app(environ, remember)
        if not (environ.get(KEEP) and caught and caught[0].startswith(("200 ", "304 "))):
            return parts
        try:
            body = b"".join(parts)
        finally:
            if hasattr(parts, "close"):
                parts.close()
        kept.put(key, caught[0], caught[1], body)
        return [body]

    return front


def _key(environ: Environ, max_body: int, runtime: Runtime) -> tuple[bytes, str] | None:
    """What identifies the request's answer, and the version it is asked of; None for a
    request the front door leaves to the app (another path or method, a body it cannot read
    alone)."""
    if environ.get("PATH_INFO") != "/sparql":
        return None
    method = environ.get("REQUEST_METHOD")
    body = b""
    if method == "POST":
        if "HTTP_TRANSFER_ENCODING" in environ:
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None
        if not 0 <= length <= max_body:
            return None
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # the app reads it again on a miss
        environ["CONTENT_LENGTH"] = str(len(body))
    elif method != "GET":
        return None
    try:
        version = runtime.version().id
    except Exception:  # no store version: the app says what is wrong
        return None
    digest = hashlib.blake2b(body, digest_size=32)
    for name in KEYED:
        digest.update(b"\0" + str(environ.get(name, "")).encode("utf-8", "surrogateescape"))
    digest.update(b"\0" + version.encode())
    return digest.digest(), version
