"""Named settings: each has a type, a default, an environment variable and help text.

Settings are read once, by a composition root (the CLI or ``create_app``); modules receive
values and never read the environment themselves. ``innograph settings`` lists them all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

DEFAULT_STORE = Path("store")
ACCESS_LOGS = ("short", "full", "off")
BACKEND_KINDS = ("oxigraph", "virtuoso")
EMBEDDED = "embedded"
REMOTE_IN_FLIGHT = 2  # queries in flight to a store server per web worker, unless set


def web_workers() -> int:
    """gunicorn workers when ``serve`` is not told: one per two cores, at least one. A web
    worker's event loop answers plain queries and repeats itself (``web.lane``), so the cores
    go to the query workers; at 200 profiles on two cores, one web worker with two query
    workers, each with its in-memory copy, held 214 MB at its peak against two web workers'
    255 MB, answering cold point queries 16% slower and the cold catalogue 16% faster."""
    return max(1, usable_cores() // 2)


def usable_cores(cgroup: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """The cores this process may run on: its CPU affinity, within a container's CPU quota
    (cgroup v2 ``cpu.max``, e.g. ``200000 100000`` for two cores) where one is set."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        quota, period = cgroup.read_text().split()
        if quota != "max":
            cores = min(cores or 1, max(1, -(-int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return cores or 1


def setting(default: Any, env: str, help: str) -> Any:
    return field(default=default, metadata={"env": env, "help": help})


@dataclass(frozen=True)
class Settings:
    base_iri: str = setting(
        "https://w3id.org/innograph/",
        "INNOGRAPH_BASE_IRI",
        "Base under which data IRIs are minted (/id/…, /graph/…); must end with '/'.",
    )
    store: Path = setting(  # noqa: RUF009 - a Path is immutable
        DEFAULT_STORE, "INNOGRAPH_STORE", "Store folder holding versions/, current and previous."
    )
    query_timeout_s: float = setting(
        10.0,
        "INNOGRAPH_QUERY_TIMEOUT_S",
        "Time limit of one query in seconds; a client may lower it with timeout=, never raise it.",
    )
    max_rows: int = setting(
        10_000,
        "INNOGRAPH_MAX_ROWS",
        "Most solutions (or triples) one answer carries; a longer answer is cut and says so.",
    )
    max_result_bytes: int = setting(
        16 * 1024 * 1024,
        "INNOGRAPH_MAX_RESULT_BYTES",
        "Largest answer body before gzip, in any format; a longer one is cut at a row and says so.",
    )
    max_body_bytes: int = setting(
        64 * 1024, "INNOGRAPH_MAX_BODY_BYTES", "Largest request body accepted (413 above)."
    )
    max_query_chars: int = setting(
        20_000, "INNOGRAPH_MAX_QUERY_CHARS", "Longest query text accepted (400 above)."
    )
    query_workers: int = setting(
        0,
        "INNOGRAPH_QUERY_WORKERS",
        "Query worker processes per web worker; a runaway query is stopped by killing one."
        " 0: the cores this server may use shared among the web workers, at least one each"
        " (with a store server: 2 queries in flight per web worker).",
    )
    queue_wait_s: float = setting(
        5.0,
        "INNOGRAPH_QUEUE_WAIT_S",
        "How long a request waits for a free query worker before a 503 with Retry-After.",
    )
    long_query_s: float = setting(
        0.1,
        "INNOGRAPH_LONG_QUERY_S",
        "A query still running after this many seconds, having used 20 ms of CPU (or a tenth of"
        " the setting, when more), is a long one: a new query worker takes its place, so long"
        " queries never hold up the others; at most as many long ones run at once as a web"
        " worker has query workers (one more is a 503). 0 turns this off.",
    )
    memory_copy_mb: float = setting(
        128.0,
        "INNOGRAPH_MEMORY_COPY_MB",
        "Each query worker keeps a copy of the served version in memory when its estimated size"
        " fits in this many MB (a small store: 200 profiles come to 67 MB), read from the"
        " version's dumps once the worker has lived the time limit (it answers from disk"
        " meanwhile; queries then run 1.4 to 2 times as fast). Every worker holds its own copy:"
        " count it times the query workers (one per core by default) and the long queries'"
        " workers. 0 turns this off.",
    )
    cache_max_age_s: int = setting(
        60, "INNOGRAPH_CACHE_MAX_AGE_S", "Cache-Control max-age of answers, in seconds."
    )
    result_cache_bytes: int = setting(
        64 * 1024 * 1024,
        "INNOGRAPH_RESULT_CACHE_BYTES",
        "Memory for answers kept per web worker, by store version, query, format and encoding"
        " (an answer the engine made in under 5 ms is kept when it is asked a second time).",
    )
    trusted_hosts: str = setting(
        "",
        "INNOGRAPH_TRUSTED_HOSTS",
        "Host names the server answers for, comma separated (other Host headers get 400, so no"
        " link is built from a forged one); empty: any host. Set it on a public server.",
    )
    public_base: str = setting(
        "",
        "INNOGRAPH_PUBLIC_BASE",
        "Public address of this server (e.g. https://data.example.org/, no path), for redirects"
        " and Content-Location behind a proxy; empty: paths, resolved against the request.",
    )
    license: str = setting(
        "https://creativecommons.org/licenses/by/4.0/",
        "INNOGRAPH_LICENSE",
        "Licence every linked-data document links to (rel=license); the ontology's own by default.",
    )
    access_log: str = setting(
        "short",
        "INNOGRAPH_ACCESS_LOG",
        "What innograph serve logs per request: short (method, path without the query string,"
        " status, milliseconds), full (gunicorn's complete line with the query string, client,"
        " size, referrer and user agent, and its startup lines) or off.",
    )
    # --- where the graph lives: the embedded store or store servers (issue 16) ---
    backend: str = setting(
        "embedded",
        "INNOGRAPH_BACKEND",
        "Where queries run: embedded (the store folder's own pyoxigraph store), or the SPARQL"
        " query endpoints of two store server slots, BLUE,GREEN (e.g."
        " http://127.0.0.1:7001/query,http://127.0.0.1:7002/query): a build loads the slot"
        " that serves no version and switches to it only once it holds the new version"
        " (docs/backends.md); serve and query also take one endpoint. For build, validate and"
        " dump a slot may name its read replicas, A|B: each is loaded and checked"
        " (docs/deploy.md).",
    )
    backend_kind: str = setting(
        "",
        "INNOGRAPH_BACKEND_KIND",
        "The store servers' kind: oxigraph (Oxigraph's server) or virtuoso (OpenLink"
        " Virtuoso); empty: told from the endpoint's path (/query is Oxigraph's, /sparql"
        " Virtuoso's).",
    )
    backend_isql: str = setting(
        "",
        "INNOGRAPH_BACKEND_ISQL",
        "Virtuoso only, for build: the SQL port of each slot, HOST:PORT,HOST:PORT (blue,green),"
        " which its bulk loader is run through (isql-vt, as dba).",
    )
    backend_load_dir: str = setting(
        "",
        "INNOGRAPH_BACKEND_LOAD_DIR",
        "Virtuoso only, for build: a folder the build writes a version to and the slots read it"
        " from (listed in their DirsAllowed; the same path on the servers' disk).",
    )
    backend_password: str = field(
        default="",
        repr=False,
        metadata={
            "env": "INNOGRAPH_BACKEND_PASSWORD",
            "help": "Virtuoso only, for build: the slots' dba password (empty: dba, a new"
            " database's own). From the environment only, never the command line.",
        },
    )
    backend_load_s: float = setting(
        600.0,
        "INNOGRAPH_BACKEND_LOAD_S",
        "Longest a build waits for a store server slot to answer one step of loading a version"
        " (clearing it, taking the data, counting it); past it the build fails and the served"
        " version stays.",
    )
    # --- clients: slow ones, and each one's budget of query time (issue 15) ---
    client_read_s: float = setting(
        10.0,
        "INNOGRAPH_CLIENT_READ_S",
        "Time a client has to send a whole request (headers and body) once it connects or starts"
        " the next one on a kept-alive connection; a slower one gets 408. Until a request is"
        " complete it holds no thread.",
    )
    query_budget_s_per_min: float = setting(
        60.0,
        "INNOGRAPH_QUERY_BUDGET_S_PER_MIN",
        "Seconds of query (engine) time a client may use per minute, as WDQS allows; past it and"
        " its burst, 429 with Retry-After. Answers from the cache cost nothing. Per web worker"
        " process: each gets this divided by the number of workers. 0 turns throttling off.",
    )
    query_budget_burst_s: float = setting(
        60.0,
        "INNOGRAPH_QUERY_BUDGET_BURST_S",
        "Seconds of query time a client that has been quiet may use at once, before the per-minute"
        " budget applies.",
    )
    query_errors_per_min: float = setting(
        30.0,
        "INNOGRAPH_QUERY_ERRORS_PER_MIN",
        "Queries per minute a client may have time out or fail in the engine (WDQS: 30); past"
        " it, 429 with Retry-After.",
    )
    trusted_proxies: str = setting(
        "",
        "INNOGRAPH_TRUSTED_PROXIES",
        "Addresses of reverse proxies, comma separated, whose X-Forwarded-For names the client a"
        " budget belongs to; empty: a client is the address it connects from.",
    )
    production: bool = setting(
        False,
        "INNOGRAPH_PRODUCTION",
        "The production configuration: query budgets apply to loopback clients too (in"
        " development they are exempt). Set it on a public server.",
    )
    test_functions: bool = setting(
        False,
        "INNOGRAPH_TEST_FUNCTIONS",
        "Register urn:innograph:test:sleep(seconds) for limit tests; never on a public server.",
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then the environment, then explicit overrides (None means 'not given')."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.metadata["env"] in environ:
                values[f.name] = _convert(f.type, environ[f.metadata["env"]], f.metadata["env"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def __post_init__(self) -> None:
        for host in self.trusted_host_list:
            if "/" in host or "@" in host:
                raise ValueError(f"trusted_hosts: expected host names, not {host!r}")
        if self.public_base and not re.fullmatch(r"https?://[^\s/?#]+/", self.public_base):
            raise ValueError(
                f"public_base: expected an http(s) URL ending with '/': {self.public_base!r}"
            )
        if self.access_log not in ACCESS_LOGS:
            raise ValueError(
                f"access_log: expected {', '.join(ACCESS_LOGS)}, got {self.access_log!r}"
            )
        for endpoint in self.backend_endpoints:
            for replica in endpoint.split("|"):  # a slot's replicas (docs/deploy.md)
                if not re.fullmatch(r"https?://[^\s/?#|]+(/[^\s?#|]*)?", replica):
                    raise ValueError(
                        f"backend: expected embedded or one or two http(s) endpoint URLs, comma"
                        f" separated (BLUE,GREEN; a slot's replicas joined by |), not {replica!r}"
                    )
        if len(self.backend_endpoints) > 2:
            raise ValueError("backend: expected at most two endpoints (BLUE,GREEN)")
        if self.backend_kind and self.backend_kind not in BACKEND_KINDS:
            raise ValueError(
                f"backend_kind: expected {' or '.join(BACKEND_KINDS)}, got {self.backend_kind!r}"
            )
        if not self.base_iri.endswith("/"):
            raise ValueError(f"base_iri must end with '/': {self.base_iri!r}")
        for name in (
            "query_timeout_s",
            "max_rows",
            "max_result_bytes",
            "max_body_bytes",
            "max_query_chars",
            "queue_wait_s",
            "client_read_s",
            "query_budget_burst_s",
            "query_errors_per_min",
            "backend_load_s",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be above 0")
        if self.query_budget_s_per_min < 0:
            raise ValueError("query_budget_s_per_min must be 0 (off) or above")
        if self.query_workers < 0:
            raise ValueError("query_workers must be 0 (one per core) or above")

    def query_workers_per(self, web_workers: int) -> int:
        """Query workers for each of WEB_WORKERS: as set, or the cores shared among them. A
        query worker is busy on the CPU while it answers, and more of them than cores only
        take turns, each with a RocksDB cache of its own: at 200 profiles on two cores, two
        web workers with one query worker each answered cold point queries 10 to 20% faster
        than with two each, and held 196 MB at their peak instead of 280. With a store server
        it is the queries in flight to it per web worker."""
        if self.query_workers:
            return self.query_workers
        if self.backend_endpoints:  # the queries wait on the store server, not on these cores
            return REMOTE_IN_FLIGHT
        return max(1, usable_cores() // max(1, web_workers))

    @property
    def trusted_host_list(self) -> list[str]:
        """The entries of ``trusted_hosts``, as written."""
        return [host.strip() for host in self.trusted_hosts.split(",") if host.strip()]

    @property
    def backend_endpoints(self) -> list[str]:
        """The store server endpoints named by ``backend`` (none: embedded)."""
        if self.backend.strip() == EMBEDDED:
            return []
        return [url.strip() for url in self.backend.split(",") if url.strip()] or [self.backend]

    @property
    def trusted_proxy_list(self) -> frozenset[str]:
        return frozenset(p.strip() for p in self.trusted_proxies.split(",") if p.strip())

    @classmethod
    def documented(cls) -> list[tuple[str, str, Any, str]]:
        """(name, environment variable, default, help) for every setting."""
        return [(f.name, f.metadata["env"], f.default, f.metadata["help"]) for f in fields(cls)]


def _convert(kind: Any, text: str, env: str) -> Any:
    kind = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    try:
        if kind == "bool":
            if text.lower() not in {"1", "true", "yes", "0", "false", "no"}:
                raise ValueError(text)
            return text.lower() in {"1", "true", "yes"}
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "Path":
            return Path(text)
        return text
    except ValueError:
        raise ValueError(f"{env}: expected a {kind}, got {text!r}") from None
