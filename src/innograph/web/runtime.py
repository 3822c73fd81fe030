"""What the web app holds while it runs: settings, the query workers, the answer cache, and
facts about each store version (read once, since a version never changes)."""

from __future__ import annotations

import threading
from typing import cast

from flask import current_app

from ..query.served import VersionFacts, served_version
from ..query.workers import AnswerCache, QueryWorkers
from ..settings import Settings


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cache = AnswerCache(settings.result_cache_bytes)
        self._workers: QueryWorkers | None = None
        self._lock = threading.Lock()

    @property
    def workers(self) -> QueryWorkers:
        """Started on first use, so that importing the app or serving the page costs nothing."""
        with self._lock:
            if self._workers is None:
                s = self.settings
                self._workers = QueryWorkers(
                    s.store, s.query_workers, s.queue_wait_s, s.test_functions
                )
            return self._workers

    def version(self) -> VersionFacts:
        return served_version(self.settings.store)

    def close(self) -> None:
        with self._lock:
            if self._workers is not None:
                self._workers.close()
                self._workers = None


def current() -> Runtime:
    """The running app's runtime (``create_app`` puts it in the app's extensions)."""
    return cast(Runtime, current_app.extensions["innograph"])
