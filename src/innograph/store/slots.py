"""Blue/green slots of store servers: which version each slot holds, loading a new version into
the slot that serves none, and the checks that keep a switch or a rollback atomic for readers.

Graph IRIs are data here (``?g a ig:ProfileGraph``), so two versions cannot share one server
under renamed graphs: each slot is a whole server (or a load balancer over its replicas). The
pointer readers follow stays ``current``; a version's ``backend.json`` names the slot holding
it, and ``slots.json`` (beside ``current``) what each slot holds now::

    slots.json                     {"blue": {"version": id, "state": "loaded"}, "green": {...}}
    versions/<id>/backend.json     {"kind", "slot", "endpoint", "counts", "graphs", "load_s"}

A slot is marked ``loading <id>`` before it is touched, so a failed load can never be taken for
a version it held; ``current`` switches only after the slot's counts equal the local draft's.

A slot may be several read replicas (``BLUE1|BLUE2,GREEN1|GREEN2``, docs/deploy.md): a build
loads and counts every one, and switches only when all hold the version; the fronts read each
slot through one endpoint, a load balancer over its replicas.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyoxigraph as ox

from ..errors import InnographError, UsageError
from ..settings import Settings
from .files import write_atomically
from .servers import Counts, Oxigraph, Server, ServerError, counts_of
from .versions import StoreError, Version, current, open_read_only, previous
from .virtuoso import Virtuoso

SLOT_NAMES = ("blue", "green")
SLOTS = "slots.json"
BACKEND = "backend.json"
LOADED = "loaded"
REPLICAS = "|"  # between the replicas of one slot (no URL holds it unescaped)


class SlotLoadError(InnographError):
    """A version could not be loaded into its slot: the build fails, nothing served changes."""


@dataclass(frozen=True)
class Backend:
    """Store servers, as the settings name them: a kind and one endpoint per slot; for
    Virtuoso's bulk loader also each slot's SQL port, a folder the servers read, and the
    ``dba`` password (from the environment only)."""

    kind: str
    endpoints: tuple[str, ...]
    load_s: float = 600.0
    isql: tuple[str, ...] = ()
    load_dir: Path | None = None
    password: str = field(default="", repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Backend | None:
        """The configured store servers, or None for the embedded store."""
        endpoints = tuple(settings.backend_endpoints)
        if not endpoints:
            return None
        kind = settings.backend_kind or kind_of(endpoints[0])
        isql = tuple(a.strip() for a in settings.backend_isql.split(",") if a.strip())
        if isql and len(isql) != len(endpoints):
            raise UsageError(
                f"INNOGRAPH_BACKEND_ISQL: expected one SQL port per slot ({len(endpoints)},"
                f" as --backend names), got {len(isql)}"
            )
        load_dir = Path(settings.backend_load_dir) if settings.backend_load_dir else None
        password = settings.backend_password or "dba"  # a new Virtuoso database's own
        return cls(kind, endpoints, settings.backend_load_s, isql, load_dir, password)

    @property
    def slots(self) -> tuple[str, ...]:
        return SLOT_NAMES[: len(self.endpoints)]

    def endpoint(self, slot: str) -> str:
        """The endpoint a front reads that slot from; with one endpoint (a reader's load
        balancer), that one. A front never picks among replicas: the load balancer does."""
        named = self._named(slot)
        if REPLICAS in named:
            raise UsageError(
                f"--backend: slot {slot} names {len(self.replicas(slot))} replicas; serve and"
                " query read each slot through one endpoint (a load balancer over its replicas,"
                " docs/deploy.md); only build, validate and dump take the replicas themselves"
            )
        return named

    def replicas(self, slot: str) -> tuple[str, ...]:
        """The endpoints of every replica of that slot (one, unless given as ``A|B``)."""
        return tuple(self._named(slot).split(REPLICAS))

    def servers(self, slot: str) -> list[Server]:
        """Each replica of the slot, as a build loads and counts it."""
        if self.kind == "oxigraph":
            return [Oxigraph(url, self.load_s) for url in self.replicas(slot)]
        isql = ""
        if self.isql:
            isql = self.isql[0] if len(self.isql) == 1 else self.isql[SLOT_NAMES.index(slot)]
        load_dir = self.load_dir or Path()
        return [
            Virtuoso(url, isql, load_dir, self.password, self.load_s) for url in self.replicas(slot)
        ]

    def check_loadable(self) -> None:
        """A build can load these servers' slots (Virtuoso's bulk loader needs its settings,
        and reaches one server per slot through its SQL port)."""
        if self.kind != "virtuoso":
            return
        if not self.isql or self.load_dir is None:
            raise UsageError(
                "--backend-kind virtuoso: a build loads a slot through Virtuoso's bulk loader:"
                " give INNOGRAPH_BACKEND_ISQL (each slot's SQL port, HOST:PORT,HOST:PORT) and"
                " INNOGRAPH_BACKEND_LOAD_DIR (a folder in the servers' DirsAllowed)"
            )
        if any(len(self.replicas(slot)) > 1 for slot in self.slots):
            raise UsageError(
                "--backend: replicas of a Virtuoso slot are not supported (its bulk loader is"
                " reached through one SQL port per slot); give one endpoint per slot"
            )

    def _named(self, slot: str) -> str:
        return (
            self.endpoints[0]
            if len(self.endpoints) == 1
            else self.endpoints[SLOT_NAMES.index(slot)]
        )


def kind_of(endpoint: str) -> str:
    """The server kind an endpoint's path tells, or a usage error asking for --backend-kind.

    >>> kind_of("http://127.0.0.1:7878/query")
    'oxigraph'
    >>> kind_of("http://10.0.0.5:8890/sparql")
    'virtuoso'
    """
    path = urlsplit(endpoint).path.rstrip("/")
    if path.endswith("/query"):
        return "oxigraph"
    if path.endswith("/sparql"):
        return "virtuoso"
    raise UsageError(
        f"--backend {endpoint}: the path does not tell the server's kind; give --backend-kind"
        " oxigraph or virtuoso (env INNOGRAPH_BACKEND_KIND)"
    )


def held_by(version: Version) -> dict[str, Any] | None:
    """The version's ``backend.json``: the slot holding it, or None (built for embedded only)."""
    path = version.path / BACKEND
    if not path.is_file():
        return None
    record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return record


def read_slots(root: Path) -> dict[str, dict[str, Any]]:
    path = root / SLOTS
    if not path.is_file():
        return {}
    slots: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return slots


def _mark(root: Path, slot: str, version: str, state: str) -> None:
    slots = read_slots(root)
    slots[slot] = {"version": version, "state": state}
    write_atomically(root / SLOTS, json.dumps(slots, indent=2, sort_keys=True).encode())


def idle_slot(root: Path, backend: Backend) -> str:
    """The slot that holds neither the served version nor, when it can be spared, the previous
    one (two slots: the one not serving)."""
    if len(backend.slots) < 2:
        raise UsageError(
            "--backend: atomic versions need two store server slots: --backend BLUE,GREEN"
            " (one endpoint is enough for serve and query)"
        )
    backend.check_loadable()
    busy = {(held_by(v) or {}).get("slot") for v in (current(root),) if v is not None}
    return next(slot for slot in backend.slots if slot not in busy)


def deploy(root: Path, backend: Backend, version: Version) -> dict[str, Any]:
    """Load the finished, unserved ``version`` into every replica of the idle slot and check
    each holds exactly what the local draft holds; record it in ``backend.json``. Raises
    ``SlotLoadError`` (and changes nothing served) when any step fails on any replica."""
    slot = idle_slot(root, backend)
    targets = backend.servers(slot)
    _mark(root, slot, version.id, f"loading {version.id}")
    started = time.monotonic()
    source = open_read_only(version)
    local = counts_of(source)
    graphs = sorted(g.value for g in source.named_graphs())
    nquads = source.dump(format=ox.RdfFormat.N_QUADS) or b""
    del source
    with ThreadPoolExecutor(len(targets)) as loading:  # replicas on other hosts load at once
        found = loading.map(
            lambda target: _load(slot, target, version, nquads, local, graphs), targets
        )
        failures = [why for why in found if why is not None]
    if failures:
        raise SlotLoadError("; ".join(failures) + "; the served version is unchanged")
    record = {
        "kind": backend.kind,
        "slot": slot,
        "endpoint": REPLICAS.join(target.endpoint for target in targets),
        "replicas": len(targets),
        "counts": local.as_dict(),
        "load_s": round(time.monotonic() - started, 3),
        "graphs": graphs,  # the dataset a Virtuoso slot is asked about in every query
    }
    write_atomically(version.path / BACKEND, json.dumps(record, indent=2).encode())
    _mark(root, slot, version.id, LOADED)
    return record


def _load(
    slot: str, target: Server, version: Version, nquads: bytes, local: Counts, graphs: list[str]
) -> str | None:
    """Empty one replica, give it the version and count it: why it failed, or None."""
    try:
        target.clear()
        target.load(nquads)
        loaded = target.counts(graphs)
    except ServerError as error:
        return _failed(slot, target, version, str(error))
    if loaded != local:
        return _failed(slot, target, version, f"it holds {loaded.as_dict()}, not {local.as_dict()}")
    return None


def _failed(slot: str, target: Server, version: Version, why: str) -> str:
    return f"store server slot {slot} ({target.endpoint}): version {version.id} not loaded: {why}"


def holds(root: Path, version: Version) -> str | None:
    """Why the slot named in the version's ``backend.json`` does not hold it now, or None."""
    record = held_by(version)
    if record is None:
        return f"version {version.id} was built without --backend: it is in no store server slot"
    slot = record["slot"]
    now = read_slots(root).get(slot, {})
    if now.get("version") != version.id or now.get("state") != LOADED:
        state = now.get("state")
        held = f"it holds {now.get('version')}" if state == LOADED else state or "unknown"
        return f"slot {slot} no longer holds version {version.id} ({held})"
    return None


def check_rollback(root: Path) -> None:
    """A rollback switches only to a version its slot still holds (when versions live in store
    servers at all): a slot reloaded since holds another version, and readers must not see it."""
    served, before = current(root), previous(root)
    if served is None or before is None or held_by(served) is None:
        return
    why = holds(root, before)
    if why is not None:
        raise StoreError(f"{root}: cannot roll back: {why}; build that version again to serve it")


def verify(root: Path, backend: Backend, version: Version) -> None:
    """Check that the version's slot answers with the version's counts (validate, dump): every
    replica the backend names, or the one a load balancer picks."""
    why = holds(root, version)
    record = held_by(version)
    if why is not None or record is None:
        raise StoreError(f"{root}: {why}")
    for target in backend.servers(record["slot"]):
        try:
            found = target.counts(record.get("graphs", ()))
        except ServerError as error:
            raise StoreError(f"{root}: {error}") from None
        if found.as_dict() != record["counts"]:
            raise StoreError(
                f"{root}: slot {record['slot']} holds {found.as_dict()} at {target.endpoint},"
                f" not version {version.id} ({record['counts']})"
            )
