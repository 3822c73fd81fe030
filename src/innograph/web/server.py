"""Serving under gunicorn, the production WSGI server, from the ``innograph serve`` command:
its address checked first, its own log kept to warnings, one line per request, and the
addresses to open printed once it listens."""

from __future__ import annotations

import errno
import json
import signal
import socket
import sys
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.workers.gthread import ThreadWorker

from ..errors import UsageError
from ..settings import Settings
from . import TOO_LONG_LINE

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


_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F)}


class AccessLogger(Logger):
    """gunicorn's logger, with control characters in what a client sent written as ``\\xNN``:
    a path with ``%0A`` or ``%1B`` in it would forge a log line or colour the terminal."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> Any:
        found: dict[str, Any]
        if self.cfg.access_log_format == ACCESS_FORMATS["short"]:
            found = _short_atoms(resp, environ, request_time)
        else:
            found = dict(super().atoms(resp, req, environ, request_time))
        for key, value in found.items():
            if isinstance(value, str):
                found[key] = value.translate(_CONTROL)
        return found


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

        return create_app(self.settings)


class Worker(ThreadWorker):
    """gunicorn's threaded worker, except that a request line or headers too large to read get
    the app's JSON error with CORS (a long GET query from a browser or SPARQLWrapper must learn
    to POST) instead of gunicorn's HTML page."""

    def init_signals(self) -> None:
        """Ctrl-C reaches every process of the terminal's group: the master stops the workers
        (SIGQUIT), so a worker and the query workers it spawns (which inherit the ignored
        signal) leave SIGINT to it rather than each printing a KeyboardInterrupt."""
        super().init_signals()
        signal.signal(signal.SIGINT, signal.SIG_IGN)

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


def serve(
    settings: Settings, host: str, port: int, workers: int, threads: int, banner: str = ""
) -> None:
    """Run gunicorn until it is stopped; BANNER is printed once it listens."""

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
    Server(settings, options).run()
