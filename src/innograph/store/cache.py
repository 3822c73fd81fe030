"""Each profile's mapped graph on disk, by content key, so an unchanged profile is not parsed,
mapped or validated again. A file is ``# graph: <IRI>``, ``# sha256: <digest>`` of the rest,
then the graph's N-Triples: a file cut short or changed is noticed, and the profile mapped again
from its text (a damaged graph would otherwise be served, or stop the build)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .files import write_atomically
from .graphs import NamedGraph

HEADER = b"# graph: "
DIGEST = b"# sha256: "


class ProfileCache:
    def __init__(self, root: Path) -> None:
        self.folder = root / "cache"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.damaged: set[str] = set()  # keys whose file did not match its digest (removed)

    @staticmethod
    def key(name: str, sha256: str, fingerprint: str) -> str:
        """The file name is part of the key: it shapes the IRIs of its graph."""
        return hashlib.sha256(f"{name}|{sha256}|{fingerprint}".encode()).hexdigest()

    def get(self, key: str) -> NamedGraph | None:
        """The cached graph's IRI (its first line), once its digest matches; the triples stay
        on disk until loaded. A damaged file is removed and noted in ``damaged``."""
        path = self.folder / f"{key}.nt"
        if not path.is_file():
            return None
        header, digest, triples = [*path.read_bytes().split(b"\n", 2), b"", b""][:3]
        if not header.startswith(HEADER) or digest != DIGEST + _sha256(triples):
            self.damaged.add(key)
            path.unlink(missing_ok=True)
            return None
        return NamedGraph(header.removeprefix(HEADER).decode().strip(), path=path)

    def put(self, key: str, graph: NamedGraph) -> NamedGraph:
        """Write the graph; keep only its file in memory."""
        path = self.folder / f"{key}.nt"
        triples = graph.ntriples()
        header = HEADER + graph.iri.encode() + b"\n" + DIGEST + _sha256(triples) + b"\n"
        write_atomically(path, header + triples)
        return NamedGraph(graph.iri, path=path)


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).hexdigest().encode()
