"""The SPARQL 1.1 Protocol at /sparql: query via GET, POST form and POST sparql-query; the
service description and the query page when there is no query."""

from __future__ import annotations

import hashlib
import urllib.parse
from dataclasses import replace

from flask import Blueprint, Response, render_template, request

from ..errors import UsageError
from ..query.guard import QueryRejected, inspect_query
from ..query.workers import QueryRequest
from . import service
from .http import takes_gzip
from .negotiation import choose, media_type
from .runtime import current as runtime

blueprint = Blueprint("sparql", __name__)

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"


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


def _timeout(params: dict[str, list[str]]) -> float:
    cap = runtime().settings.query_timeout_s
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
    settings = runtime().settings
    if len(text) > settings.max_query_chars:
        raise UsageError(f"query: longer than the limit of {settings.max_query_chars} characters")
    plan = inspect_query(text, base=request.base_url)
    version = runtime().version()
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
    fmt = choose(kind, request.accept_mimetypes, params.get("format", []))
    timeout = _timeout(params)
    query = QueryRequest(
        text,
        fmt,
        settings.max_rows,
        version.id,
        default_graphs,
        named_graphs,
        request.base_url,
        max_bytes=settings.max_result_bytes,
    )
    # Weak: the same answer may travel gzipped or not, which a strong tag would have to tell apart.
    tag = hashlib.sha256(repr(query).encode()).hexdigest()[:32]
    headers = {"ETag": f'W/"{tag}"', "Last-Modified": version.last_modified}
    if request.if_none_match.contains_weak(tag):
        return Response(status=304, headers=headers)
    query = replace(query, gzip=takes_gzip())
    answer = runtime().cache.get(query)
    if answer is None:
        answer = runtime().workers.run(query, timeout)
        runtime().cache.put(query, answer)
    if answer.encoding:
        headers["Content-Encoding"] = answer.encoding
    response = Response(answer.body, content_type=_content_type(fmt), headers=headers)
    response.headers["X-Result-Rows"] = str(answer.rows)
    if answer.truncated:
        response.headers["X-Result-Truncated"] = "true"
        response.headers["X-Result-Row-Limit"] = str(settings.max_rows)
        response.headers["X-Result-Byte-Limit"] = str(settings.max_result_bytes)
    return response


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
    body, media = service.describe(request.base_url, runtime(), best_rdf, fmt)
    return Response(body, content_type=f"{media}; charset=utf-8")
