"""The served version as the query layer sees it: its id, date, graphs and profile count, read
once per version (a version never changes)."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formatdate
from functools import lru_cache
from pathlib import Path

from .. import store


@dataclass(frozen=True)
class VersionFacts:
    id: str
    last_modified: str
    graphs: frozenset[str]
    profiles: int
    base_iri: str


@lru_cache(maxsize=16)
def facts_of(version: store.Version) -> VersionFacts:
    manifest = version.manifest()
    base = manifest.get("base_iri", "")
    graphs = {entry["graph"] for entry in manifest.get("profiles", {}).values()}
    graphs |= {f"{base}graph/ontology", f"{base}graph/vocabularies"}
    stamp = formatdate((version.path / store.MANIFEST).stat().st_mtime, usegmt=True)
    profiles = len(manifest.get("profiles", {}))
    return VersionFacts(version.id, stamp, frozenset(graphs), profiles, base)


def served_version(root: Path) -> VersionFacts:
    """The version ``root/current`` points at now (a promotion is seen on the next request)."""
    return facts_of(store.require_current(root))
