"""Documents rendered when a version is built and kept with it (a city's page, say), so that a
reader's first request for one costs a file read, not the queries and templates behind it.

The store keeps them as opaque bytes, each under the IRI it is about, with the named graphs it
was made from. A rebuild links a document from the served version, unchanged, when it was made
by the same code (``fingerprint``) from graphs none of which changed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from .files import write_atomically

FOLDER = "documents"
INDEX = "index.json"  # {"fingerprint": …, "documents": {iri: [graph, …]}}

# iri -> (the graphs it was made from, its bytes; None: link the served version's copy)
Made = Mapping[str, tuple[frozenset[str], bytes | None]]


def _file(folder: Path, iri: str) -> Path:
    return folder / FOLDER / f"{hashlib.sha256(iri.encode()).hexdigest()[:32]}.gz"


def _index(folder: Path) -> dict[str, object]:
    path = folder / FOLDER / INDEX
    return json.loads(path.read_bytes()) if path.is_file() else {}


def reusable(
    served: Path | None, fingerprint: str, changed: set[str] | None
) -> dict[str, frozenset[str]]:
    """IRI -> graphs of the served version's documents that a rebuild may keep: made by the same
    code, from graphs none of which is in ``changed`` (None: everything changed)."""
    if served is None or changed is None:
        return {}
    index = _index(served)
    if index.get("fingerprint") != fingerprint:
        return {}
    documents: dict[str, list[str]] = index.get("documents", {})  # type: ignore[assignment]
    return {
        iri: frozenset(graphs)
        for iri, graphs in documents.items()
        if changed.isdisjoint(graphs) and _file(served, iri).is_file()
    }


def write(folder: Path, fingerprint: str, made: Made, served: Path | None) -> None:
    """Keep the documents in ``folder``; those without bytes are linked from ``served``."""
    (folder / FOLDER).mkdir()
    for iri, (_, body) in made.items():
        target = _file(folder, iri)
        if body is not None:
            write_atomically(target, gzip.compress(body, compresslevel=6, mtime=0))
            continue
        assert served is not None, f"{iri}: nothing to reuse without a served version"
        try:
            os.link(_file(served, iri), target)
        except OSError:  # a file system without hard links: the same bytes, copied
            shutil.copyfile(_file(served, iri), target)
    index = {
        "fingerprint": fingerprint,
        "documents": {iri: sorted(graphs) for iri, (graphs, _) in sorted(made.items())},
    }
    write_atomically(folder / FOLDER / INDEX, json.dumps(index, indent=1).encode())


def read(folder: Path, iri: str) -> bytes | None:
    """The document kept about ``iri``, or None (none was made, or the version predates them)."""
    try:
        return gzip.decompress(_file(folder, iri).read_bytes())
    except FileNotFoundError:
        return None
