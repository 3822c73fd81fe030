"""The dumps a version publishes: its named graphs as N-Quads and as TriG, and the merged graph as
Turtle, each gzipped, with their SHA-256 sums in ``SHA256SUMS`` (``sha256sum -c`` reads it).

Each graph is written once, as one gzip member per dump under ``dumps/parts/``, and a dump is the
parts joined in graph-IRI order (a gzip file may hold several members; gunzip and every gzip
library read them as one stream). A rebuild that changed one profile writes that graph's parts
and hard-links the others from the served version, so publishing costs what the change costs.

The bytes depend on the content only: lines sorted within each graph, graphs in IRI order, no time
in the gzip headers. The graphs have no blank nodes, so joined parts never share a label. The
Turtle dump is the merged graph stated graph by graph: a statement made by two profiles is
written twice and parsed once.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import pyoxigraph as ox

from ..prefixes import PREFIXES
from .files import write_atomically
from .graphs import written

FOLDER = "dumps"
PARTS = "parts"
SUMS = "SHA256SUMS"
NQUADS = ox.RdfFormat.N_QUADS


@dataclass(frozen=True)
class Dump:
    kind: str
    name: str
    media_type: str  # of what the gzip holds


DUMPS = (
    Dump("nquads", "innograph.nq.gz", "application/n-quads"),
    Dump("trig", "innograph.trig.gz", "application/trig"),
    Dump("turtle", "innograph.ttl.gz", "text/turtle"),
)
HEADER = "".join(f"@prefix {name}: <{iri}> .\n" for name, iri in PREFIXES.items()).encode()


def canonical_nquads(source: ox.Store, graph: str) -> bytes:
    """One named graph as N-Quads, lines sorted: the same bytes however the store was built."""
    quads = source.quads_for_pattern(None, None, None, ox.NamedNode(graph))
    return b"".join(sorted(written(ox.serialize(quads, format=NQUADS)).splitlines(True)))


def _without_prefixes(text: bytes) -> bytes:
    """A document's statements: the prefixes are declared once, at the head of the dump."""
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith(b"@prefix "):
        lines.pop(0)
    return b"".join(lines)


def texts(source: ox.Store, graph: str) -> dict[str, bytes]:
    """What each dump says of one graph, in the order of its canonical N-Quads."""
    canonical = canonical_nquads(source, graph)
    quads = list(ox.parse(canonical, format=NQUADS))
    trig = ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=PREFIXES)
    turtle = ox.serialize((q.triple for q in quads), format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    return {
        "nquads": canonical,
        "trig": _without_prefixes(written(trig)),
        "turtle": _without_prefixes(written(turtle)),
    }


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def _part(folder: Path, graph: str, dump: Dump) -> Path:
    return folder / f"{hashlib.sha256(graph.encode()).hexdigest()[:32]}.{dump.kind}.gz"


def publish(source: ox.Store, folder: Path, changed: set[str] | None, served: Path | None) -> None:
    """Write the dumps of the store into ``folder/dumps``. Parts of graphs not in ``changed``
    are linked from the served version's folder when it has them (``changed`` None: none is
    reused)."""
    parts = folder / FOLDER / PARTS
    parts.mkdir(parents=True)
    before = served / FOLDER / PARTS if served is not None else None
    graphs = sorted(g.value for g in source.named_graphs())

    def write_parts(graph: str) -> None:
        reusable = [_part(before, graph, d) for d in DUMPS] if before is not None else []
        if changed is not None and graph not in changed and all(p.is_file() for p in reusable):
            for old, dump in zip(reusable, DUMPS, strict=True):
                try:
                    os.link(old, _part(parts, graph, dump))
                except OSError:  # a file system without hard links: the same bytes, copied
                    shutil.copyfile(old, _part(parts, graph, dump))
            return
        made = texts(source, graph)
        for dump in DUMPS:
            write_atomically(_part(parts, graph, dump), _gzip(made[dump.kind]))

    with ThreadPoolExecutor(os.cpu_count()) as pool:  # zlib lets go of the GIL while it works
        list(pool.map(write_parts, graphs))
    sums = []
    for dump in DUMPS:
        head = [] if dump.kind == "nquads" else [_gzip(HEADER)]
        data = b"".join(head + [_part(parts, graph, dump).read_bytes() for graph in graphs])
        write_atomically(folder / FOLDER / dump.name, data)
        sums.append(f"{hashlib.sha256(data).hexdigest()}  {dump.name}\n")
    write_atomically(folder / FOLDER / SUMS, "".join(sums).encode())


def checksums(folder: Path) -> dict[str, str]:
    """File name -> SHA-256 of the version's dumps (none for a version built before dumps)."""
    path = folder / FOLDER / SUMS
    if not path.is_file():
        return {}
    pairs = (line.split("  ", 1) for line in path.read_text(encoding="ascii").splitlines())
    return {name: digest for digest, name in pairs}


# What one statement of a copy held in memory costs, measured with pyoxigraph 0.5 (about 330
# bytes at 900,000 quads), rounded up: the copy's size is estimated before it is made.
BYTES_PER_QUAD_IN_MEMORY = 400


def copy_size_mb(triples: int) -> float:
    """The estimated size of a version in memory: its default graph is the merge of its named
    graphs, so each of its ``triples`` is held about twice."""
    return 2 * triples * BYTES_PER_QUAD_IN_MEMORY / 2**20


def in_memory(folder: Path) -> ox.Store | None:
    """The version as an in-memory store, read from its own dumps (the named graphs from the
    N-Quads, the default graph from the Turtle, the merge): the same statements as its RocksDB
    store, loaded several times faster than copying them out of it. None without dumps.

    ``load``, not ``bulk_load``: into an in-memory store it is as quick (0.5 s for 180,000
    quads), and it never holds more than the copy (``bulk_load`` peaked 40% above it)."""
    named, merged = (folder / FOLDER / dump.name for dump in (DUMPS[0], DUMPS[2]))
    if not (named.is_file() and merged.is_file()):
        return None
    copy = ox.Store()
    with gzip.open(named) as text:  # streamed: the text is never held whole
        copy.load(cast(IO[bytes], text), format=NQUADS)
    with gzip.open(merged) as text:
        copy.load(cast(IO[bytes], text), format=ox.RdfFormat.TURTLE, to_graph=ox.DefaultGraph())
    return copy


def read(folder: Path, kind: str) -> bytes | None:
    """A dump's text, uncompressed, or None when the version has none."""
    dump = next(d for d in DUMPS if d.kind == kind)
    path = folder / FOLDER / dump.name
    return gzip.decompress(path.read_bytes()) if path.is_file() else None
