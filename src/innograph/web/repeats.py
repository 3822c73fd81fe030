"""Repeated requests, answered by the server's event loop before a thread, gunicorn's parser,
WSGI or Flask see them.

A response the app marks as kept (``KEEP``: an answer the answer cache holds, a 304, a finished
document) is remembered with the exact bytes of the request that asked for it and the version
that answered it. The same bytes asked again while that version is served get the same response
at once: a version never changes, and nothing the app could read of a request (method, target,
headers, body) differs between two byte-identical ones. Only responses whose every part is the
app's are kept (a 200 with its length, a 303 or a 304, to an HTTP/1.1 request that keeps the
connection open); the server writes ``Date`` anew each time."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

KEEP = "innograph.keep_response"  # environ: the app may answer this request again as it did
SERVED = "innograph.served_version"  # environ: the version id the app answered from

OVERHEAD = 600  # bytes an entry costs besides its strings: the objects, the key, the dict slot
Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]


@dataclass(frozen=True, slots=True)
class Kept:
    version: str
    status_line: bytes  # b"HTTP/1.1 200 OK\r\nServer: gunicorn\r\n"
    headers: bytes  # the app's headers and the blank line
    body: bytes  # the app's own bytes object (the answer cache's), never a copy
    line: str  # its access line, the client, time and duration left to fill in ("": no log)

    @property
    def size(self) -> int:
        """What it holds, the access line and the bookkeeping too (a 304 has no body, and its
        request line, Referer and User-Agent may weigh kilobytes)."""
        lengths = (self.status_line, self.headers, self.body, self.line)
        return sum(map(len, lengths)) + OVERHEAD


def request_key(received: bytes, proxied: bool) -> bytes:
    """The request's bytes, and whether its peer may set forwarding headers (which change the
    environ gunicorn makes of the same bytes)."""
    return hashlib.blake2b(received, digest_size=32, person=b"proxied" if proxied else b"").digest()


class Repeats:
    """Kept responses by request key, least recently used out first, at most ``capacity_bytes``
    (the bodies are mostly the answer cache's own bytes, shared)."""

    def __init__(self, capacity_bytes: int) -> None:
        self._capacity = capacity_bytes
        self._size = 0
        self._kept: OrderedDict[bytes, Kept] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes) -> Kept | None:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def put(self, key: bytes, kept: Kept) -> None:
        if kept.size > self._capacity // 4:
            return
        with self._lock:
            old = self._kept.pop(key, None)
            self._size += kept.size - (old.size if old else 0)
            self._kept[key] = kept
            while self._size > self._capacity:
                _, gone = self._kept.popitem(last=False)
                self._size -= gone.size


def keeping(
    app: WsgiApp,
    repeats: Repeats,
    keys: threading.local,
    server: str,
    access_line: Callable[[Environ, str, int], str | None],
) -> WsgiApp:
    """APP, with the responses it marks as kept remembered under the key of the request's bytes,
    which the server puts in ``keys.key`` (None: a request it did not read whole and alone).
    ACCESS_LINE writes the line the log will show for each repeat (None: it cannot, and the
    response is not kept)."""

    def wsgi(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        key, keys.key = getattr(keys, "key", None), None
        if key is None or not _keeps_alive(environ):
            return app(environ, start_response)
        caught: list[Any] = []

        def remember(status: str, headers: list[tuple[str, str]], *info: Any) -> Any:
            caught[:] = [status, headers]
            return start_response(status, headers, *info)

        parts = app(environ, remember)
        version = environ.get(SERVED)
        if not (environ.get(KEEP) and version and caught and _whole(*caught)):
            return parts
        try:
            body = b"".join(parts)
        finally:
            if hasattr(parts, "close"):
                parts.close()
        status, headers = caught
        if status.startswith("200 ") and _length(headers) != len(body):
            return [body]
        line = access_line(environ, status, len(body))
        if line is None:
            return [body]
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers)
        kept = Kept(
            version,
            f"HTTP/1.1 {status}\r\nServer: {server}\r\n".encode("latin-1"),
            lines.encode("latin-1") + b"\r\n",
            body,
            line,
        )
        repeats.put(key, kept)
        return [body]

    return wsgi


def _keeps_alive(environ: Environ) -> bool:
    connection = environ.get("HTTP_CONNECTION", "").lower()
    return (
        environ.get("SERVER_PROTOCOL") == "HTTP/1.1"
        and environ.get("REQUEST_METHOD") in ("GET", "POST")
        and "close" not in connection
        and "upgrade" not in connection
    )


def _whole(status: str, headers: list[tuple[str, str]]) -> bool:
    """A response the server adds nothing to but Date and Connection."""
    if not status.startswith(("200 ", "303 ", "304 ")):
        return False
    names = {name.lower() for name, _ in headers}
    return not names & {"connection", "transfer-encoding", "date", "server"}


def _length(headers: list[tuple[str, str]]) -> int | None:
    for name, value in headers:
        if name.lower() == "content-length":
            return int(value) if value.isdigit() else None
    return None
