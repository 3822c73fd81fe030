"""The served version as the query layer sees it: its id, date, graphs, profile count, the counts,
dumps and documents kept with it; read once per version (a version never changes)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from email.utils import formatdate
from functools import lru_cache
from pathlib import Path
from typing import Any

from .. import store


@dataclass(frozen=True)
class DumpFile:
    """A file a version publishes: a dump (gzip) or its ``SHA256SUMS``."""

    path: Path
    media_type: str  # of what the file holds (a gzip's content)
    sha256: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def size(self) -> int:
        return self.path.stat().st_size


@dataclass(frozen=True)
class VersionFacts:
    id: str
    last_modified: str
    graphs: frozenset[str]
    profiles: int
    base_iri: str
    statistics: dict[str, Any] | None = field(default=None, compare=False)  # None: not kept
    dumps: tuple[DumpFile, ...] = field(default=(), compare=False)  # the gzipped ones
    folder: Path | None = field(default=None, compare=False)  # where its files are kept


@lru_cache(maxsize=16)
def facts_of(version: store.Version) -> VersionFacts:
    manifest = version.manifest()
    base = manifest.get("base_iri", "")
    graphs = {entry["graph"] for entry in manifest.get("profiles", {}).values()}
    graphs |= {f"{base}graph/ontology", f"{base}graph/vocabularies"}
    stamp = formatdate((version.path / store.MANIFEST).stat().st_mtime, usegmt=True)
    profiles = len(manifest.get("profiles", {}))
    found = (published(version, dump.name) for dump in store.dumps.DUMPS)
    dumps = tuple(dump for dump in found if dump is not None)
    counted = store.statistics.read(version.path)
    return VersionFacts(
        version.id, stamp, frozenset(graphs), profiles, base, counted, dumps, version.path
    )


def served_version(root: Path) -> VersionFacts:
    """The version ``root/current`` points at now (a promotion is seen on the next request)."""
    return facts_of(store.require_current(root))


def published(version: store.Version, name: str) -> DumpFile | None:
    """A file the version publishes, by name, or None (unknown name, or built before dumps)."""
    media = {dump.name: dump.media_type for dump in store.dumps.DUMPS}
    media[store.dumps.SUMS] = "text/plain"
    folder = version.path / store.dumps.FOLDER
    sums = folder / store.dumps.SUMS
    if name not in media or not sums.is_file():
        return None
    digests = store.dumps.checksums(version.path)
    digests[store.dumps.SUMS] = hashlib.sha256(sums.read_bytes()).hexdigest()
    return DumpFile(folder / name, media[name], digests[name])


def dump_file(root: Path, version_id: str, name: str) -> DumpFile | None:
    """A file published by a version still kept in the store (any of the last few, not only
    the served one), or None; ids are checked against the pattern of version ids."""
    if not store.VERSION_ID.fullmatch(version_id):
        return None
    return published(store.version_at(root, version_id), name)


def kept_document(version: VersionFacts, iri: str) -> bytes | None:
    """A document rendered when the version was built (a city's page), or None."""
    return None if version.folder is None else store.documents.read(version.folder, iri)


@lru_cache(maxsize=4)
def _findings(folder: Path) -> tuple[store.findings.Result, ...] | None:
    kept = store.findings.read(folder)
    return None if kept is None else tuple(kept)


def kept_findings(version: VersionFacts) -> tuple[store.findings.Result, ...] | None:
    """What the shapes found when the version was built (read once per version), or None for a
    version built before they were kept."""
    return None if version.folder is None else _findings(version.folder)


@lru_cache(maxsize=4)
def _retired(folder: Path) -> dict[str, str]:
    return store.retired.read(folder)


def retired_from(version: VersionFacts, iri: str) -> str | None:
    """The last version that published ``iri`` when the served one no longer has it, or None."""
    return None if version.folder is None else _retired(version.folder).get(iri)
