"""The store: the one owner of the on-disk version format.

Layout of a store folder (default ``store/``)::

    versions/<id>/oxigraph/       the pyoxigraph (RocksDB) store of that version
    versions/<id>/manifest.json   what went in: profiles with their sha256, counts, warnings
    versions/<id>/statistics.json the counts its VoID description states
    versions/<id>/dumps/          its dumps (N-Quads, TriG, Turtle; gzip), SHA256SUMS, and parts
    versions/<id>/documents/      documents rendered at build time (city pages), gzip, by IRI
    versions/<id>/validation.json what the shapes found (warnings, notes), result by result
    versions/<id>/retired.json    IRIs earlier versions published and this one drops (410 Gone)
    versions/<id>/backend.json    the store server slot holding it (``--backend``; ``slots``)
    versions/.building-<id>/      a build in progress (never served; removed by the next build)
    cache/<key>.nt                each profile's mapped graph, by content key (incremental)
    current -> versions/<id>      the served version, switched by an atomic rename
    previous -> versions/<id>     the version before it, for ``innograph rollback``
    slots.json                    what each store server slot holds (``--backend``; ``slots``)

A version folder is never changed once promoted, so a reader that opened one keeps a
consistent view while another version is promoted. A build goes through a ``Draft``::

    with store.draft(root) as version:
        version.fill(named_graphs)          # or version.update(served, changed, gone)
        ...                                 # gate the draft's store
        version.promote(manifest)           # leaving the block without this discards it
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from . import documents, dumps, findings, graphs, retired, slots, statistics, versions, virtuoso
from .cache import ProfileCache
from .files import write_atomically
from .graphs import NamedGraph, vocabulary_graphs
from .versions import (
    MANIFEST,
    VERSION_ID,
    StoreError,
    StoreWriteError,
    Version,
    current,
    finish_version,
    open_read_only,
    previous,
    promote,
    require_current,
    start_version,
    version_at,
)

NQUADS_NAME = "innograph.nq"
TRIG_NAME = "innograph.trig"

__all__ = [
    "MANIFEST",
    "VERSION_ID",
    "Draft",
    "NamedGraph",
    "ProfileCache",
    "StoreError",
    "StoreWriteError",
    "Version",
    "current",
    "documents",
    "draft",
    "dump",
    "dumps",
    "findings",
    "graphs",
    "open_read_only",
    "previous",
    "require_current",
    "retired",
    "rollback",
    "slots",
    "statistics",
    "version_at",
    "virtuoso",
    "vocabulary_graphs",
    "write_dumps",
    "writing",
]


class Draft:
    """A version being built: its own folder and pyoxigraph store, never served until promoted."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder, self.leftovers = start_version(root)
        self.promoted: Version | None = None
        self._store: ox.Store | None = None
        self._changed: set[str] | None = None  # graphs whose dump parts are written anew
        self._served: Version | None = None  # whose parts the others are linked from
        self._gone: set[str] = set()  # graphs the served version has and this one drops

    @property
    def store(self) -> ox.Store:
        assert self._store is not None, "fill or update the draft first"
        return self._store

    def fill(self, named_graphs: Iterable[NamedGraph]) -> None:
        """A new store holding these graphs and their union."""
        self._store = ox.Store(str(self.folder / "oxigraph"))
        graphs.fill(self._store, named_graphs)

    def update(self, served: Version, changed: list[NamedGraph], gone: list[str]) -> None:
        """The served store copied (a RocksDB checkpoint: hard links), then only the changed
        graphs replaced and the gone ones dropped."""
        open_read_only(served).backup(str(self.folder / "oxigraph"))
        self._store = ox.Store(str(self.folder / "oxigraph"))
        graphs.replace_graphs(self._store, changed, gone)
        self._changed, self._served = {graph.iri for graph in changed}, served
        self._gone = set(gone)

    def reusable_documents(self, fingerprint: str) -> dict[str, frozenset[str]]:
        """IRI -> graphs of the served version's documents this draft may keep as they are."""
        served = self._served.path if self._served is not None else None
        return documents.reusable(served, fingerprint, self._changed)

    def keep_documents(self, fingerprint: str, made: documents.Made) -> None:
        """Keep rendered documents with the version (before it is promoted)."""
        served = self._served.path if self._served is not None else None
        documents.write(self.folder, fingerprint, made, served)

    def keep_findings(self, kept: list[findings.Result]) -> None:
        """Keep what the shapes found in this draft: ``kept`` (found by this build) and, on a
        rebuild, the served version's results for the profile graphs that did not change."""
        carried: list[findings.Result] = []
        if self._served is not None and self._changed is not None:
            now = {g.value for g in self.store.named_graphs()}
            before = findings.read(self._served.path) or []
            carried = [r for r in before if r["graph"] in now and r["graph"] not in self._changed]
        findings.write(self.folder, carried + kept)

    def close(self) -> None:
        """Compacted, then closed: a version is read, never written again, and reads from a
        compacted store are 20 to 30% quicker (one graph's CONSTRUCT, a join over the union:
        as quick as Oxigraph's own load of the same dump; 0.3 s at 200 profiles)."""
        if self._store is not None:
            self._store.optimize()
            self._store.flush()
            self._store = None  # pyoxigraph closes the store when the last reference goes

    def promote(
        self, manifest: dict[str, Any], deploy: Callable[[Version], object] | None = None
    ) -> Version:
        """Count and dump the store, write the manifest, give the folder its final name and
        serve it. ``deploy`` (loading a store server slot) runs on the finished version before
        it is served; when it fails, the version is removed and nothing served changes."""
        space = f"{manifest.get('base_iri', '')}id/"
        statistics.write(self.store, self.folder, space)
        self._retire(space)
        served = self._served.path if self._served is not None else None
        dumps.publish(self.store, self.folder, self._changed, served)
        self.close()
        version = finish_version(self.folder, manifest)
        if deploy is not None:
            try:
                deploy(version)
            except BaseException:
                shutil.rmtree(version.path, ignore_errors=True)
                raise
        promote(self.root, version)
        self.promoted = version
        return version

    def _retire(self, space: str) -> None:
        """Record the IRIs the served version publishes and this one drops (for 410 Gone)."""
        served = current(self.root)
        if served is None:
            return
        scope = None if self._changed is None else self._changed | self._gone
        before = retired.read(served.path)
        retired.write(
            self.folder, self.store, open_read_only(served), served.id, before, space, scope
        )

    def discard(self) -> None:
        self._store = None  # not flushed: its folder goes, and the disk may be full
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def draft(root: Path) -> Iterator[Draft]:
    """A draft version that is discarded unless promoted before the block ends."""
    building = Draft(root)
    try:
        yield building
    finally:
        if building.promoted is None:
            building.discard()


def rollback(root: Path) -> Version:
    """Serve the previous version again, when its store server slot (if any) still holds it."""
    slots.check_rollback(root)
    return versions.rollback(root)


@contextmanager
def writing(root: Path) -> Iterator[None]:
    """A write to the store folder that fails (a full disk, a read-only folder) is a
    ``StoreWriteError`` naming the folder and why, not a traceback."""
    try:
        yield
    except OSError as error:
        raise StoreWriteError(root, error) from error


def dump(version: Version, kind: str = "nquads") -> bytes:
    """A dump of the version, uncompressed: ``nquads`` (canonical: lines sorted within each graph,
    graphs in IRI order), ``trig`` or ``turtle`` (the merged graph)."""
    kept = dumps.read(version.path, kind)
    if kept is not None:
        return kept
    source = open_read_only(version)  # a version built before dumps were kept with it
    texts = [dumps.texts(source, g) for g in sorted(g.value for g in source.named_graphs())]
    head = b"" if kind == "nquads" else dumps.HEADER
    return head + b"".join(text[kind] for text in texts)


def write_dumps(version: Version, out: Path) -> None:
    """``innograph.nq`` and ``innograph.trig`` of the version, uncompressed, world-readable."""
    out.mkdir(parents=True, exist_ok=True)
    write_atomically(out / NQUADS_NAME, dump(version, "nquads"))
    write_atomically(out / TRIG_NAME, dump(version, "trig"))
