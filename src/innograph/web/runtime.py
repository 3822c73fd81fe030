"""What the web app holds while it runs: settings, the query workers, the answer cache, and
facts about each store version (read once, since a version never changes)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from email.utils import formatdate
from functools import lru_cache

from .. import store
from ..executor import AnswerCache, QueryWorkers
from ..settings import Settings


@dataclass(frozen=True)
class VersionFacts:
    id: str
    last_modified: str
    graphs: frozenset[str]
    profiles: int


@lru_cache(maxsize=16)
def facts_of(version: store.Version) -> VersionFacts:
    manifest = version.manifest()
    base = manifest.get("base_iri", "")
    graphs = {entry["graph"] for entry in manifest.get("profiles", {}).values()}
    graphs |= {f"{base}graph/ontology", f"{base}graph/vocabularies"}
    stamp = formatdate((version.path / store.MANIFEST).stat().st_mtime, usegmt=True)
    return VersionFacts(version.id, stamp, frozenset(graphs), len(manifest.get("profiles", {})))


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
        return facts_of(store.require_current(self.settings.store))

    def close(self) -> None:
        with self._lock:
            if self._workers is not None:
                self._workers.close()
                self._workers = None
