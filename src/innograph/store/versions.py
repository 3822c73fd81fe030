"""Version folders and the two links that say which one is served: build into a new folder,
promote with one rename, roll back, prune, open read-only."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..errors import InnographError, UsageError
from .files import write_atomically

CURRENT = "current"
PREVIOUS = "previous"
MANIFEST = "manifest.json"
BUILDING_PREFIX = ".building-"


class StoreError(UsageError):
    """No usable store version where one was expected."""


class StoreWriteError(InnographError):
    """The store folder refused a write (full, read-only, not ours): the build stops, and the
    served version, which the build never writes, stays."""

    def __init__(self, root: Path, error: OSError) -> None:
        super().__init__(
            f"{root}: cannot write the new version ({write_failure(error)});"
            " the served version is unchanged"
        )


# What a person can act on, whether Python (errno) or RocksDB (only the text) reported it.
WRITE_FAILURES = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG)


def write_failure(error: OSError) -> str:
    """Why a write failed, in a few words.

    >>> write_failure(OSError(errno.ENOSPC, "No space left on device"))
    'no space left on device'
    >>> write_failure(OSError("IO error: No space left on device: While appending to file: x"))
    'no space left on device'
    """
    text = os.strerror(error.errno) if error.errno else str(error)
    known = (os.strerror(code) for code in WRITE_FAILURES)
    return next((reason for reason in known if reason in text), text.partition("\n")[0]).lower()


@dataclass(frozen=True)
class Version:
    """A promoted, immutable store version."""

    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def oxigraph(self) -> Path:
        return self.path / "oxigraph"

    def manifest(self) -> dict[str, Any]:
        manifest: dict[str, Any] = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
        return manifest


def version_at(root: Path, version_id: str) -> Version:
    """The promoted version of that id (query workers open versions by id)."""
    return Version(root / "versions" / version_id)


VERSION_ID = re.compile(r"[0-9]{8}T[0-9]{6}\.[0-9]{6}Z-[0-9]+")  # what version_id() gives


def version_id() -> str:
    """A sortable, unique id: UTC time to the microsecond plus the process id."""
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
    return f"{stamp}.{int(now * 1e6) % 1_000_000:06d}Z-{os.getpid()}"


def _link(root: Path, name: str) -> Version | None:
    link = root / name
    if not link.is_symlink():
        return None
    target = (root / link.readlink()).resolve()
    return Version(target) if (target / MANIFEST).is_file() else None


def current(root: Path) -> Version | None:
    return _link(root, CURRENT)


def previous(root: Path) -> Version | None:
    return _link(root, PREVIOUS)


def require_current(root: Path) -> Version:
    version = current(root)
    if version is None:
        raise StoreError(
            f"{root}: no store version here; run 'innograph build --store {root}' first"
        )
    return version


def start_version(root: Path) -> tuple[Path, list[Path]]:
    """A fresh folder for a build, and the leftovers of interrupted builds, removed first."""
    versions = root / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    stale = sorted(versions.glob(f"{BUILDING_PREFIX}*"))
    for leftover in stale:
        shutil.rmtree(leftover, ignore_errors=True)
    folder = versions / f"{BUILDING_PREFIX}{version_id()}"
    folder.mkdir()
    return folder, stale


def finish_version(building: Path, manifest: dict[str, Any]) -> Version:
    """Write the manifest and give the folder its final name (still not served)."""
    write_atomically(building / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
    final = building.with_name(building.name.removeprefix(BUILDING_PREFIX))
    building.rename(final)
    return Version(final)


def _switch(root: Path, name: str, target: Version) -> None:
    """Point ``root/name`` at ``target`` with one rename, so readers see old or new, never none."""
    temporary = root / f".{name}.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(Path("versions") / target.id)
    temporary.replace(root / name)


def promote(root: Path, version: Version) -> None:
    """Serve ``version``; the one served so far becomes ``previous``."""
    served = current(root)
    if served is not None:
        _switch(root, PREVIOUS, served)
    _switch(root, CURRENT, version)
    prune(root)


def rollback(root: Path) -> Version:
    """Serve the previous version again (and keep the rolled-back one as previous)."""
    served, before = require_current(root), previous(root)
    if before is None:
        raise StoreError(f"{root}: no previous version to roll back to")
    _switch(root, PREVIOUS, served)
    _switch(root, CURRENT, before)
    return before


def prune(root: Path, keep: int = 3) -> None:
    """Remove old versions beyond the newest ``keep``, never current or previous."""
    protected = {v.id for v in (current(root), previous(root)) if v is not None}
    versions = sorted(
        p for p in (root / "versions").iterdir() if p.is_dir() and not p.name.startswith(".")
    )
    for old in versions[:-keep]:
        if old.name not in protected:
            shutil.rmtree(old, ignore_errors=True)


def open_read_only(version: Version) -> ox.Store:
    """The version's store, read-only (several processes may open it at once)."""
    return ox.Store.read_only(str(version.oxigraph))
