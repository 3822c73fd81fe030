"""What the web app holds while it runs: settings, the query workers (or the store server
executor, with --backend), the answer cache, and facts about each store version (read once, since
a version never changes)."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from flask import current_app

from ..query.remote import Executor, remote_executor
from ..query.served import VersionFacts, served_version
from ..query.workers import AnswerCache, QueryWorkers
from ..settings import Settings


class DocumentCache:
    """Finished documents by ETag (the tag names the version, the code, the settings and the
    request), least recently used out first, bounded in bytes: a version never changes, so
    neither do its pages."""

    def __init__(self, capacity_bytes: int) -> None:
        self._capacity = capacity_bytes
        self._size = 0
        self._documents: OrderedDict[str, tuple[bytes, dict[str, str]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, tag: str) -> tuple[bytes, dict[str, str]] | None:
        with self._lock:
            found = self._documents.get(tag)
            if found is not None:
                self._documents.move_to_end(tag)
            return found

    def put(self, tag: str, body: bytes, headers: dict[str, str]) -> None:
        if len(body) > self._capacity // 4:
            return
        with self._lock:
            if tag in self._documents:
                return
            self._documents[tag] = (body, headers)
            self._size += len(body)
            while self._size > self._capacity:
                _, (old, _) = self._documents.popitem(last=False)
                self._size -= len(old)


T = TypeVar("T")
KEPT_VERSIONS = 2


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cache = AnswerCache(settings.result_cache_bytes)
        self.documents = DocumentCache(settings.result_cache_bytes // 4)
        self._workers: Executor | None = None
        self._lock = threading.Lock()
        self._memo: OrderedDict[str, dict[str, Any]] = OrderedDict()  # version -> name -> value
        self._served: tuple[str, VersionFacts] | None = None  # the link's text, its facts
        self._current = str(settings.store / "current")

    @property
    def workers(self) -> Executor:
        """Started on first use, so that importing the app or serving the page costs nothing;
        the store servers' executor instead when the settings name a backend."""
        with self._lock:
            if self._workers is None:
                s = self.settings
                self._workers = remote_executor(s) or QueryWorkers(
                    s.store,
                    s.query_workers_per(1),  # serve gives the number it chose per web worker
                    s.queue_wait_s,
                    s.test_functions,
                    s.long_query_s,
                    s.memory_copy_mb,
                    copy_after_s=s.query_timeout_s,
                )
            return self._workers

    def version(self) -> VersionFacts:
        """The served version, seen anew on every request at the cost of one ``readlink``: the
        facts are read again only when ``current`` names another folder (version ids are never
        reused), rather than resolving and checking the whole path each time."""
        try:
            link: str | None = os.readlink(self._current)  # noqa: PTH115 (a str: no Path made per request)
        except OSError:
            link = None
        served = self._served
        if link is not None and served is not None and served[0] == link:
            return served[1]
        facts = served_version(self.settings.store)  # says what is wrong when there is none
        if link is not None and Path(link).name == facts.id:  # not promoted meanwhile
            self._served = (link, facts)
        return facts

    def per_version(self, version: VersionFacts, name: str, compute: Callable[[], T]) -> T:
        """What a page needs of the whole version (the counts behind the city charts, the
        survey's labels), computed once per version and process, whatever the answer cache:
        a version never changes. The two versions asked last are kept (a request begun before
        a promotion may still ask for the old one)."""
        with self._lock:
            kept = self._memo.get(version.id)
            if kept is not None and name in kept:
                self._memo.move_to_end(version.id)
                return cast(T, kept[name])
        value = compute()  # outside the lock: two first requests may both compute it
        with self._lock:
            self._memo.setdefault(version.id, {})[name] = value
            self._memo.move_to_end(version.id)
            while len(self._memo) > KEPT_VERSIONS:
                self._memo.popitem(last=False)
        return value

    def close(self) -> None:
        with self._lock:
            if self._workers is not None:
                self._workers.close()
                self._workers = None


def current() -> Runtime:
    """The running app's runtime (``create_app`` puts it in the app's extensions)."""
    return cast(Runtime, current_app.extensions["innograph"])
