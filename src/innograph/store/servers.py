"""Store servers a version is loaded into: what a build needs of one slot (empty it, give it a
version, count what it holds), and Oxigraph's server, which does all three over HTTP. Virtuoso,
loaded by its bulk loader, is ``virtuoso.py``, behind the same three calls."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

import pyoxigraph as ox

from ..errors import InnographError

# What a version holds, counted the same way on the local draft and on the server: the merged
# default graph, the quads of the named graphs, and the named graphs.
COUNTS = {
    "default_triples": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "quads": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
    "graphs": "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
}


class ServerError(InnographError):
    """A store server slot did not do what a build asked of it."""


@dataclass(frozen=True)
class Counts:
    default_triples: int
    quads: int
    graphs: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def counts_of(source: ox.Store) -> Counts:
    """The counts of a local store (the version as built and gated)."""
    found = {}
    for name, text in COUNTS.items():
        result = source.query(text)
        assert isinstance(result, ox.QuerySolutions)
        found[name] = int(next(iter(result))["n"].value)
    return Counts(**found)


class Server(Protocol):
    """One slot's server, as a build loads it."""

    endpoint: str

    def clear(self) -> None: ...

    def load(self, nquads: bytes) -> None: ...

    def counts(self, graphs: Sequence[str] = ()) -> Counts:
        """What the slot holds; ``graphs``, the version's, where a server must be told them."""
        ...


class Oxigraph:
    """Oxigraph's server (``oxigraph serve``): SPARQL Update at /update, the Graph Store Protocol
    at /store, queries at /query. One POST of the whole dataset as N-Quads (the named graphs and
    the merged default graph) was the fastest way measured (docs/backends.md)."""

    def __init__(self, endpoint: str, timeout_s: float) -> None:
        self.endpoint = endpoint
        self._base = endpoint.removesuffix("/query")
        self._timeout_s = timeout_s

    def clear(self) -> None:
        body = urllib.parse.urlencode({"update": "DROP ALL"}).encode()
        self._send("/update", body, "application/x-www-form-urlencoded", "empty it")

    def load(self, nquads: bytes) -> None:
        self._send("/store", nquads, "application/n-quads", "take the version")

    def counts(self, graphs: Sequence[str] = ()) -> Counts:
        """Its default graph is the merged graph, and it holds no graph of its own."""
        found = {}
        for name, text in COUNTS.items():
            body = urllib.parse.urlencode({"query": text}).encode()
            answer = self._send("/query", body, "application/x-www-form-urlencoded", "count")
            try:
                found[name] = int(json.loads(answer)["results"]["bindings"][0]["n"]["value"])
            except (ValueError, KeyError, IndexError, TypeError):
                raise ServerError(f"{self.endpoint}: its count cannot be read") from None
        return Counts(**found)

    def _send(self, path: str, body: bytes, media_type: str, what: str) -> bytes:
        headers = {"Content-Type": media_type, "Accept": "application/sparql-results+json"}
        sent = urllib.request.Request(self._base + path, body, headers, method="POST")
        try:
            with urllib.request.urlopen(sent, timeout=self._timeout_s) as response:
                answer: bytes = response.read()
                return answer
        except urllib.error.HTTPError as error:
            reason = f"it answered {error.code} {error.reason}"
        except (urllib.error.URLError, OSError) as error:
            reason = str(getattr(error, "reason", error))
        raise ServerError(f"{self.endpoint}: could not {what} ({reason})")
