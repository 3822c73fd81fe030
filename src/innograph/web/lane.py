"""Plain SPARQL queries, answered by the server's event loop without a thread, gunicorn's
parser, WSGI or Flask.

A cold query to ``/sparql`` spent about as much CPU in the web worker (gunicorn's thread hand-off
and parser, Flask, the headers) as the engine spent answering it. The lane takes the plainest
requests only: a query in a POST body (``application/sparql-query``, or a form of ``query=``
alone) or a GET's ``?query=`` alone, over a kept-alive HTTP/1.1 connection, with no conditional
or forwarding header. It asks them as the view does (``sparql.ask``, the same checks, budgets and
answer cache) and writes the view's response; ``tests/web/test_lane.py`` holds the two to the
same bytes. Anything else, and anything that goes wrong (a query the view would refuse, a reply
that is no answer, a query found long or stopped at its limit), is left to a thread as before;
a query already started goes with it (``sparql.Handed``), settled first so that it holds no
quick place a thread may be waiting for, and none runs twice."""

from __future__ import annotations

import re
import time
import urllib.parse
from dataclasses import dataclass, replace
from typing import Any

from flask import Flask
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from ..query.workers import Answer, QueryRequest, QueryWorkers, Started
from . import throttle
from .http import EXPOSED, accepts_gzip, host_name
from .runtime import Runtime
from .sparql import FORM, SPARQL_QUERY, Asked, answer_headers, ask, endpoint

# A request line the lane takes: the endpoint, with a query string for a GET only, in visible
# ASCII but "#" (gunicorn drops a fragment, and refuses other bytes).
_LINE = re.compile(rb"(GET|POST) (/sparql(?:\?[!\x24-\x7e]*)?) HTTP/1\.1")
_NAME = re.compile(rb"[!#$%&'*+.^`|~0-9A-Za-z-]+")  # no "_": gunicorn drops such headers
_HOST = re.compile(r"[A-Za-z0-9.-]+(?::([1-9][0-9]{0,4}))?")  # a name or IPv4, Werkzeug's port
_INVALID_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")  # gunicorn refuses these (RFC 9110 5.5)
_LENGTH = re.compile(r"[0-9]{1,18}")
_QUERY_ALONE = re.compile(rb"query=([^&;]*)")  # one parameter, whose value the lane decodes
# Headers that make the thread answer: conditions, framing, the connection's end, and what a
# trusted proxy may set to change the request's scheme or path (gunicorn's defaults).
_LEFT_TO_THE_APP = frozenset(
    {
        "if-none-match",
        "if-match",
        "if-modified-since",
        "if-unmodified-since",
        "if-range",
        "range",
        "expect",
        "transfer-encoding",
        "upgrade",
        "x-forwarded-proto",
        "x-forwarded-protocol",
        "x-forwarded-ssl",
        "script-name",
        "path-info",
    }
)


GUNICORN_LIMITS = (8190, 100, 8190)  # what gunicorn takes a limit of 0 for


@dataclass(frozen=True, slots=True)
class Question:
    """A request the lane answers: the query as the view asks it, and what the server writes
    of the request (its access line, the client its budget belongs to)."""

    asked: Asked
    query: QueryRequest  # with the client's gzip
    method: str
    target: str
    headers: dict[str, str]
    client: str | None  # whose budget pays for it; None: nobody's


class Lane:
    """What the event loop asks of the app for a plain query: the question, the cache, a
    worker, the budget and the response's head."""

    def __init__(
        self, app: Flask, runtime: Runtime, workers: QueryWorkers, limits: tuple[int, int, int]
    ) -> None:
        """LIMITS: gunicorn's on the request line, the number of headers and a header's size
        (0: its defaults); a request near them is gunicorn's to refuse."""
        pairs = zip(limits, GUNICORN_LIMITS, strict=True)
        self.limits = tuple(given or default for given, default in pairs)
        self.runtime = runtime
        self.workers = workers
        self.settings = runtime.settings
        self.throttle = throttle.of(app)
        self.trusted = app.config["TRUSTED_HOST_NAMES"]

    def question(self, received: bytes, peer: str) -> Question | None:
        """The request's query, checked as the view checks it; None for a request the lane
        leaves to the thread (which also tells the client what is wrong with it)."""
        try:
            return self._question(received, peer)
        except Exception:  # the view says what it is, with its own status
            return None

    def _question(self, received: bytes, peer: str) -> Question | None:
        head, _, body = received.lstrip(b"\r\n").partition(b"\r\n\r\n")
        line, *fields = head.split(b"\r\n")
        matched = _LINE.fullmatch(line)
        most_line, most_fields, most_field = self.limits
        if matched is None or len(line) + 2 > most_line or len(fields) > most_fields:
            return None
        if any(len(field) + 2 > most_field or _INVALID_VALUE.search(field) for field in fields):
            return None
        method, target = matched[1].decode(), matched[2].decode("ascii")
        headers: dict[str, str] = {}
        for field in fields:
            name, colon, value = field.partition(b":")
            if not colon or not _NAME.fullmatch(name):
                return None  # a folded or malformed line: gunicorn says what is wrong
            key = name.decode().lower()
            if key in headers or key in _LEFT_TO_THE_APP:
                return None
            headers[key] = value.decode("latin-1").strip(" \t")
        if "close" in headers.get("connection", "").lower():
            return None
        text = self._text(method, target, headers, body)
        if text is None or not self._host_answered(headers.get("host", "")):
            return None
        accept = headers.get("accept")
        if method == "GET" and "text/html" in (accept or "").lower():
            return None  # perhaps a browser's permalink: the view shows the query page
        here = endpoint(self.settings.public_base, f"http://{headers['host']}/sparql")
        asked = ask(text, {}, parse_accept_header(accept, MIMEAccept), here, self.runtime)
        client = None
        if self.throttle.on:
            forwarded = headers.get("x-forwarded-for")
            client = self.throttle.client_of(peer, [forwarded] if forwarded else [])
            if client is not None and self.throttle.budgets.spent(client, time.monotonic())[1]:
                return None  # spent: the view answers 429
        gzip = accepts_gzip(headers.get("accept-encoding"))
        query = replace(asked.query, gzip=gzip)
        return Question(asked, query, method, target, headers, client)

    @staticmethod
    def _text(method: str, target: str, headers: dict[str, str], body: bytes) -> str | None:
        """The query text of a GET's ``?query=`` alone, a POST's form of ``query=`` alone, or a
        POST's UTF-8 body; None for any other request."""
        if method == "GET":
            if body or "content-length" in headers:
                return None
            encoded = target.partition("?")[2].encode("ascii")
        elif "?" in target or not _LENGTH.fullmatch(headers.get("content-length", "")):
            return None
        else:
            kind, _, parameters = headers.get("content-type", "").partition(";")
            kind, parameters = kind.strip().lower(), parameters.strip().lower()
            if kind == SPARQL_QUERY and parameters in ("", "charset=utf-8", "charset=utf8"):
                return body.decode("utf-8")
            if kind != FORM or parameters:
                return None
            encoded = body
        matched = _QUERY_ALONE.fullmatch(encoded)
        if matched is None:
            return None
        return urllib.parse.unquote_plus(matched[1].decode("ascii"), errors="strict")

    def _host_answered(self, host: str) -> bool:
        """A Host the view would answer and build the same endpoint from (a port Werkzeug
        takes, not the default one, which it drops)."""
        matched = _HOST.fullmatch(host)
        if matched is None or int(matched[1] or 1) > 65535 or host.endswith((":80", ":443")):
            return False
        return not self.trusted or host_name(host) in self.trusted

    def cached(self, question: Question) -> Answer | None:
        return self.runtime.cache.get(question.query)

    def known_long(self, question: Question) -> bool:
        return self.workers.known_long(question.query, question.asked.timeout_s)

    def start(self, question: Question) -> Started | None:
        return self.workers.start(question.query, question.asked.timeout_s)

    def kept(self, question: Question, answer: Answer) -> bool:
        """A worker's answer paid from the client's budget; whether the answer cache keeps it."""
        if question.client is not None:
            budgets = self.throttle.budgets
            budgets.spend(question.client, answer.seconds, failed=False, now=time.monotonic())
        return self.runtime.cache.put(question.query, answer)

    def head(self, question: Question, answer: Answer) -> bytes:
        """The view's headers of the answer, with those ``http`` adds, and the blank line."""
        headers = answer_headers(question.asked, answer, self.settings)
        headers += [
            ("Content-Length", str(len(answer.body))),
            ("Access-Control-Allow-Origin", "*"),
            ("Access-Control-Expose-Headers", EXPOSED),
            ("X-Content-Type-Options", "nosniff"),
            ("Vary", "Accept, Accept-Encoding"),
        ]
        if question.method == "GET":
            headers.append(("Cache-Control", f"public, max-age={self.settings.cache_max_age_s}"))
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers)
        return lines.encode("latin-1") + b"\r\n"

    @staticmethod
    def environ(question: Question) -> dict[str, Any]:
        """What the access log reads of a request."""
        found = {
            "REQUEST_METHOD": question.method,
            "RAW_URI": question.target,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "PATH_INFO": "/sparql",
        }
        for name in ("referer", "user-agent", "authorization"):
            if name in question.headers:
                found["HTTP_" + name.upper().replace("-", "_")] = question.headers[name]
        return found
