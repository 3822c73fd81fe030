"""HTTP done right for every response: trusted hosts, CORS for reads, Vary, gzip, cache and
security headers."""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from werkzeug.datastructures import Headers
from werkzeug.http import parse_accept_header

from ..errors import UsageError
from ..query.writers import gzipped

EXPOSED = (
    "ETag, Last-Modified, Retry-After, X-Result-Truncated, X-Result-Row-Limit,"
    " X-Result-Byte-Limit, X-Result-Rows"
)
COMPRESSIBLE = (
    "text/",
    "application/sparql-results",
    "application/json",
    "application/ld+json",
    "application/n-",
    "application/trig",
    "application/rdf+xml",
    "application/xml",
    "application/javascript",
)


# Pages load their own script and style only: no inline code, nothing from elsewhere.
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none';"
    " form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    app.before_request(_check_host)
    app.after_request(_headers)


def host_name(host: str) -> str:
    """A Host header's (or a setting's) name alone: lower case, no port, brackets or final dot."""
    host = host.strip().lower()
    if host.startswith("["):  # an IPv6 literal, with or without a port
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def _check_host() -> None:
    """With trusted hosts set, any other Host header gets 400 before a link could use it. The
    liveness probe answers whatever the Host, so health checks may use an address."""
    trusted = current_app.config["TRUSTED_HOST_NAMES"]
    if not trusted or request.path == "/-/ping":
        return
    if (name := host_name(request.host)) not in trusted:
        raise UsageError(f"Host: {name} is not a name this server answers for")


def _headers(response: Response) -> Response:
    """Every response's headers. Each werkzeug accessor (``vary``, ``mimetype``) parses its
    header again on every use, which cost a cheap query a tenth of its time: here each header
    is read once, and Vary written once."""
    headers = response.headers
    status = response.status_code
    mimetype = response.mimetype or ""
    headers["Access-Control-Allow-Origin"] = "*"
    headers["Access-Control-Expose-Headers"] = EXPOSED
    headers["X-Content-Type-Options"] = "nosniff"
    if mimetype == "text/html":
        headers["Content-Security-Policy"] = PAGE_POLICY
    if request.method == "OPTIONS":
        headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        headers["Access-Control-Allow-Headers"] = "Accept, Content-Type, If-None-Match"
        headers["Access-Control-Max-Age"] = "86400"
    vary = ["Accept"]
    compressible = (
        status == 200 and not response.direct_passthrough and mimetype.startswith(COMPRESSIBLE)
    )
    if request.path == "/sparql" or status == 304 or compressible:
        vary.append("Accept-Encoding")  # a 304 varies as its 200 would
    _vary(headers, vary)
    if (
        status in (200, 304)
        and "Cache-Control" not in headers
        and request.method in ("GET", "HEAD")
    ):
        max_age = current_app.extensions["innograph"].settings.cache_max_age_s
        headers["Cache-Control"] = f"public, max-age={max_age}"
    if compressible:
        _compress(response)
    return response


def _vary(headers: Headers, names: list[str]) -> None:
    """Add NAMES to the Vary header (after those a view set), each once, case aside."""
    given = [n.strip() for n in headers.get("Vary", "").split(",") if n.strip()]
    known = {n.lower() for n in given}
    headers["Vary"] = ", ".join([*given, *(n for n in names if n.lower() not in known)])


def takes_gzip() -> bool:
    """Whether the client accepts gzip (``gzip;q=0`` and ``*;q=0`` refuse it)."""
    return accepts_gzip(request.headers.get("Accept-Encoding"))


def accepts_gzip(accept_encoding: str | None) -> bool:
    """``takes_gzip`` of an Accept-Encoding header's value (None: there is none)."""
    return parse_accept_header(accept_encoding).quality("gzip") > 0


def _compress(response: Response) -> None:
    """Gzip a compressible 200 for a client that takes it."""
    if not takes_gzip() or "Content-Encoding" in response.headers:
        return
    if packed := gzipped(response.get_data()):
        response.set_data(packed)
        response.headers["Content-Encoding"] = "gzip"
