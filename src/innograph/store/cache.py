"""Each profile's mapped graph on disk, by content key, so an unchanged profile is not parsed,
mapped or validated again. A file is ``# graph: <IRI>`` then the graph's N-Triples."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .files import write_atomically
from .graphs import NamedGraph

HEADER = b"# graph: "


class ProfileCache:
    def __init__(self, root: Path) -> None:
        self.folder = root / "cache"
        self.folder.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(name: str, sha256: str, fingerprint: str) -> str:
        """The file name is part of the key: it shapes the IRIs of its graph."""
        return hashlib.sha256(f"{name}|{sha256}|{fingerprint}".encode()).hexdigest()

    def get(self, key: str) -> NamedGraph | None:
        """The cached graph's IRI (its first line); the triples stay on disk until loaded."""
        path = self.folder / f"{key}.nt"
        if not path.is_file():
            return None
        with path.open("rb") as stream:
            header = stream.readline()
        return NamedGraph(header.removeprefix(HEADER).decode().strip(), path=path)

    def put(self, key: str, graph: NamedGraph) -> NamedGraph:
        """Write the graph; keep only its file in memory."""
        path = self.folder / f"{key}.nt"
        write_atomically(path, HEADER + graph.iri.encode() + b"\n" + graph.ntriples())
        return NamedGraph(graph.iri, path=path)
