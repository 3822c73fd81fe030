"""Serving under gunicorn, the production WSGI server, from the ``innograph serve`` command."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from ..settings import Settings


class Server(BaseApplication):  # type: ignore[misc]
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


def serve(settings: Settings, host: str, port: int, workers: int, threads: int) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": int(settings.query_timeout_s) + 30,
        "graceful_timeout": 10,
        "limit_request_line": 8190,
        "accesslog": "-",
        "errorlog": "-",
    }
    Server(settings, options).run()
