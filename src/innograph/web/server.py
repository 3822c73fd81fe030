"""Serving under gunicorn, the production WSGI server, from the ``innograph serve`` command."""

from __future__ import annotations

import json
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.workers.gthread import ThreadWorker

from ..settings import Settings
from . import TOO_LONG_LINE

# what gunicorn refuses before the app sees the request: status, reason, message
_REFUSED: dict[type[BaseException], tuple[int, str, str]] = {
    LimitRequestLine: (414, "URI Too Long", TOO_LONG_LINE),
    LimitRequestHeaders: (431, "Request Header Fields Too Large", "the headers are too large"),
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

    def load(self) -> Any:
        from . import create_app

        return create_app(self.settings)


class Worker(ThreadWorker):
    """gunicorn's threaded worker, except that a request line or headers too large to read get
    the app's JSON error with CORS (a long GET query from a browser or SPARQLWrapper must learn
    to POST) instead of gunicorn's HTML page."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        refused = _REFUSED.get(type(exc))
        if refused is None:
            super().handle_error(req, client, addr, exc)
            return
        status, reason, message = refused
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        body = json.dumps({"error": message, "status": status}).encode()
        head = (
            f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\nAccess-Control-Allow-Origin: *\r\n\r\n"
        )
        try:
            client.sendall(head.encode("latin-1") + body)
        except OSError:
            self.log.debug("Failed to send error message.")


def serve(settings: Settings, host: str, port: int, workers: int, threads: int) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": f"{__name__}.Worker",
        "threads": threads,
        "timeout": int(settings.query_timeout_s) + 30,
        "graceful_timeout": 10,
        "limit_request_line": 8190,
        "accesslog": "-",
        "errorlog": "-",
    }
    Server(settings, options).run()
