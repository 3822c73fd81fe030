"""OpenLink Virtuoso (Debian ``virtuoso-opensource-7-bin``) as a store server slot: loaded by
its bulk loader through ``isql``, the documented fast path (the issue 16 research measured it
13 times faster than the Graph Store Protocol), and read over the SPARQL protocol with the
dataset pinned in every request.

Virtuoso's own default graph is every graph it holds, its system graphs included, with
duplicates; so the merged default graph is stored as the graph ``MERGED`` and every query
names its dataset: ``MERGED`` (or the query's FROM graphs) as the default graph and the
version's graphs (or the query's FROM NAMED graphs) as the named ones. Virtuoso reads a
dataset with no named graph as all graphs: ``NONE``, a graph no slot holds, stands for none.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .servers import COUNTS, Counts, ServerError

MERGED = "urn:innograph:merged"  # the merged default graph, as the slot stores it
NONE = "urn:innograph:none"  # a graph no slot holds: an empty set of named graphs
ISQL = "isql-vt"  # Debian's name for Virtuoso's isql
# Virtuoso echoes each named-graph-uri as a header of its answer: Python's http.client stops at
# 100 headers (a module global, its only setting), so a version of more graphs needs more.
MAX_HEADERS = 100_000
# How a load is checked: the loader's own record of the file says it is done (ll_state 2)
# without error (the slot's list was emptied first: one row, and this one).
_LOADED = (
    "SELECT COUNT(*) FROM DB.DBA.load_list WHERE ll_file LIKE '%/{name}'"
    " AND ll_state = 2 AND ll_error IS NULL;"
)


def dataset_fields(default: Sequence[str], named: Sequence[str]) -> list[tuple[str, str]]:
    """The protocol fields that pin a request's dataset on Virtuoso (never its own default).

    >>> dataset_fields([MERGED], [])
    [('default-graph-uri', 'urn:innograph:merged'), ('named-graph-uri', 'urn:innograph:none')]
    """
    fields = [("default-graph-uri", g) for g in default or (NONE,)]
    return fields + [("named-graph-uri", g) for g in named or (NONE,)]


class _Response(http.client.HTTPResponse):
    """An answer with as many headers as Virtuoso sends."""

    def begin(self) -> None:
        if http.client._MAXHEADERS < MAX_HEADERS:  # type: ignore[attr-defined]
            http.client._MAXHEADERS = MAX_HEADERS  # type: ignore[attr-defined]
        super().begin()


class Connection(http.client.HTTPConnection):
    """A connection to a Virtuoso slot (its answers may carry hundreds of headers)."""

    response_class = _Response


class SecureConnection(http.client.HTTPSConnection):
    response_class = _Response


def connection(endpoint: str, timeout_s: float) -> http.client.HTTPConnection:
    """A connection to a store server slot, for one request (Oxigraph's too: one client)."""
    where = urllib.parse.urlsplit(endpoint)
    kind = SecureConnection if where.scheme == "https" else Connection
    return kind(where.hostname or "", where.port, timeout=timeout_s)


class Virtuoso:
    """One Virtuoso slot: ``endpoint`` is its ``/sparql``; ``isql`` its SQL port (HOST:PORT),
    reached with the ``dba`` password; ``load_dir`` a folder the builder writes and the server
    reads (listed in its ``DirsAllowed``): the bulk loader reads files on the server's disk."""

    def __init__(
        self, endpoint: str, isql: str, load_dir: Path, password: str, timeout_s: float
    ) -> None:
        self.endpoint = endpoint
        self._isql, self._load_dir, self._password = isql, load_dir, password
        self._timeout_s = timeout_s

    def clear(self) -> None:
        """Every RDF graph gone (Virtuoso makes its system graphs again)."""
        self._sql("RDF_GLOBAL_RESET();\nDELETE FROM DB.DBA.load_list;\n", "empty it")

    def load(self, nquads: bytes) -> None:
        """The version's N-Quads through the bulk loader: the named graphs keep their names,
        the merged default graph (the lines with no graph) goes to ``MERGED``."""
        name = f"innograph-{os.getpid()}-{secrets.token_hex(4)}.nq"
        path = self._load_dir.resolve() / name  # the server reads it: a path from the root
        try:
            path.write_bytes(nquads)
        except OSError as error:
            raise ServerError(
                f"{self.endpoint}: could not write the version for its bulk loader to"
                f" {self._load_dir} ({error.strerror})"
            ) from None
        try:
            folder = str(path.parent).replace("'", "''")
            said = self._sql(
                f"ld_dir('{folder}', '{name}', '{MERGED}');\n"
                "rdf_loader_run();\ncheckpoint;\n" + _LOADED.format(name=name),
                "take the version",
            )
        finally:
            path.unlink(missing_ok=True)
        numbers = re.findall(r"^\s*(\d+)\s*$", said, re.M)
        if not numbers or numbers[-1] != "1":
            raise ServerError(
                f"{self.endpoint}: could not take the version (its bulk loader did not load"
                f" {name}; is {self._load_dir} in the server's DirsAllowed?)"
            )

    def counts(self, graphs: Sequence[str] = ()) -> Counts:
        """The counts over the version's dataset: ``MERGED`` and the version's graphs."""
        found = {}
        for name, text in COUNTS.items():
            answer = self._ask([("query", text), *dataset_fields([MERGED], graphs)])
            try:
                found[name] = int(json.loads(answer)["results"]["bindings"][0]["n"]["value"])
            except (ValueError, KeyError, IndexError, TypeError):
                raise ServerError(f"{self.endpoint}: its count cannot be read") from None
        return Counts(**found)

    def _ask(self, fields: list[tuple[str, str]]) -> bytes:
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/sparql-results+json",
        }
        asked = connection(self.endpoint, self._timeout_s)
        path = urllib.parse.urlsplit(self.endpoint).path or "/"
        reason: Any
        try:
            asked.request("POST", path, urllib.parse.urlencode(fields), headers)
            response = asked.getresponse()
            answer = response.read()
            if response.status == 200:
                return answer
            reason = f"it answered {response.status} {response.reason}"
        except (OSError, http.client.HTTPException) as error:
            reason = error
        finally:
            asked.close()
        raise ServerError(f"{self.endpoint}: could not count ({reason})")

    def _sql(self, script: str, what: str) -> str:
        """Run SQL through isql as dba. isql takes a password only as an argument (none on its
        input, none from its environment), so the build host's process list shows it while
        the load runs: keep the builder's host to the operators (docs/backends.md)."""
        if shutil.which(ISQL) is None:
            raise ServerError(
                f"{self.endpoint}: could not {what} ({ISQL} is absent: Virtuoso's bulk loader"
                " runs through it; apt-get install virtuoso-opensource-7-bin)"
            )
        started = time.monotonic()
        try:
            done = subprocess.run(
                [ISQL, self._isql, "dba", self._password, "PROMPT=OFF", "VERBOSE=OFF"],
                input=script,
                capture_output=True,
                text=True,
                timeout=self._timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ServerError(
                f"{self.endpoint}: could not {what} (no end within"
                f" {time.monotonic() - started:.0f} s)"
            ) from None
        said = done.stdout + done.stderr
        if done.returncode != 0 or re.search(r"^\*\*\* Error|Connect failed", said, re.M):
            # isql's own words may quote the script; only the SQL state is shown
            state = re.search(r"\*\*\* Error (\w+)", said)
            why = f"Virtuoso error {state[1]}" if state else f"isql exit {done.returncode}"
            raise ServerError(f"{self.endpoint}: could not {what} ({why})")
        return said
