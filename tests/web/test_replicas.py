"""The replicated deployment of docs/deploy.md, on real processes on 127.0.0.1: Debian's HAProxy
in front of two stateless ``innograph serve --backend`` fronts, which read the served slot
through a second HAProxy section balancing over two Oxigraph replicas holding the same version.
Under load, one front and one replica are killed (SIGKILL) and then brought back: no request
fails beyond what HAProxy retries, and every answer stays the catalogue's answer. A client never
asks twice: HAProxy holds each request whole, so it can retry any its server left unanswered
(``option http-buffer-request``), and a front writes each answer in one piece, so a kill leaves
none cut (``web/gathered.py``)."""

from __future__ import annotations

import csv
import http.client
import io
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import ROOT, SEED, LiveServer, free_port, start_server, stop_server
from innograph.pipeline import build
from innograph.settings import Settings
from innograph.store.servers import Oxigraph
from innograph.synth import write_synthetic
from innograph.web.prerender import city_pages
from oxigraph_slots import Slot, restart_slot, start_slot, stop_slot

HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/sbin")
ABSENT = (
    "haproxy is absent: the replicated deployment test needs Debian's HAProxy"
    " (apt-get install haproxy; .ci/run installs it)"
)
QUERIES = ("city-overview", "cities-by-role", "cities-by-policy-area", "profile-sources")
LOAD_S = 16.0  # the whole run; the kill at KILL_AT, both back at BACK_AT
KILL_AT, BACK_AT = 4.0, 9.0
CLIENTS = 4
FRONT_ENV = {
    "INNOGRAPH_QUERY_TIMEOUT_S": "10",
    "INNOGRAPH_QUERY_BUDGET_S_PER_MIN": "0",
    "INNOGRAPH_QUERY_WORKERS": "4",
}

# The deployment's HAProxy configuration, as docs/deploy.md gives it (ports filled in).
CONFIG = """\
global
    tune.bufsize 81920
    maxconn 200
    log stderr format short local0 info

defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout check 2s
    option http-buffer-request
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response junk-response response-timeout 502
    default-server inter 1s fall 2 rise 2

frontend www
    bind 127.0.0.1:{www}
    default_backend fronts

backend fronts
    balance leastconn
    option forwardfor
    option httpchk
    http-check send meth GET uri /-/ping
    http-check expect status 200
    server front1 127.0.0.1:{front1} check
    server front2 127.0.0.1:{front2} check

frontend slot_blue
    bind 127.0.0.1:{blue}
    default_backend replicas_blue

backend replicas_blue
    balance leastconn
    option httpchk
    http-check send meth GET uri /query?query=ASK%7B%7D ver HTTP/1.1 hdr Host localhost
    http-check expect status 200
    server blue1 127.0.0.1:{blue1} check
    server blue2 127.0.0.1:{blue2} check

frontend slot_green
    bind 127.0.0.1:{green}
    default_backend replicas_green

backend replicas_green
    balance leastconn
    option httpchk
    http-check send meth GET uri /query?query=ASK%7B%7D ver HTTP/1.1 hdr Host localhost
    http-check expect status 200
    server green1 127.0.0.1:{green1} check
    server green2 127.0.0.1:{green2} check

listen stats
    bind 127.0.0.1:{stats}
    no log
    stats enable
    stats uri /stats
"""


def port_of(url: str) -> int:
    return int(urllib.parse.urlsplit(url).port or 0)


@dataclass
class Deployment:
    """Every process of the deployment, and what the test needs to reach and kill them."""

    folder: Path
    store: Path
    replicas: dict[str, Slot]
    fronts: dict[str, LiveServer]
    haproxy: subprocess.Popen[bytes] | None = None
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def www(self) -> str:
        return f"127.0.0.1:{self.ports['www']}"

    def log(self) -> str:
        path = self.folder / "haproxy.log"
        return path.read_text(errors="replace")[-4000:] if path.is_file() else ""

    def states(self) -> dict[str, str]:
        """Each server's state and its last check, for a message."""
        table = self.stats()
        return {
            name: f"{row['status']} ({row['check_status']} {row['last_chk']})"
            for name, row in table.items()
        }

    def stats(self) -> dict[str, dict[str, str]]:
        """HAProxy's counters and states, by server (``stats;csv``)."""
        url = f"http://127.0.0.1:{self.ports['stats']}/stats;csv"
        with urllib.request.urlopen(url, timeout=5) as answer:
            text = answer.read().decode().lstrip("# ")
        table = csv.DictReader(io.StringIO(text))
        return {r["svname"]: r for r in table if r["svname"] not in ("FRONTEND", "BACKEND")}


def kill_front(front: LiveServer) -> None:
    """SIGKILL the gunicorn master and its workers at once, as a crash of the front's host."""
    pid = front.process.pid
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        with suppress(ProcessLookupError):
            os.kill(int(child), signal.SIGKILL)
    front.process.kill()
    front.process.wait(timeout=10)


def start_front(store: Path, port: int, backend: str) -> LiveServer:
    """``innograph serve --backend`` on that port (a front comes back on its own address)."""
    env = {**FRONT_ENV, "INNOGRAPH_BACKEND": backend}
    return start_server(store, env, 1, ("--access-log", "off"), port=port)


def wait_until(ready: Callable[[], bool], seconds: float, what: str) -> float:
    """Seconds until ``ready()`` holds; fails naming ``what`` past ``seconds``."""
    start = time.monotonic()
    while not ready():
        if time.monotonic() - start > seconds:
            raise AssertionError(f"{what}: not within {seconds:g} s")
        time.sleep(0.1)
    return time.monotonic() - start


def all_up(deployment: Deployment, names: tuple[str, ...]) -> Callable[[], bool]:
    def ready() -> bool:
        states = deployment.stats()
        return all(states[name]["status"] == "UP" for name in names)

    return ready


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    """Two fronts and two replicas per slot behind HAProxy; the seed and six synthetic profiles
    built into the blue replicas (``--backend 'BLUE1|BLUE2,GREEN1|GREEN2'``). Every process is
    stopped and every folder removed, whatever happens."""
    if HAPROXY is None:
        pytest.skip(ABSENT)
    with ExitStack() as cleanup:
        folder = Path(tempfile.mkdtemp(prefix="innograph-deploy-"))
        cleanup.callback(shutil.rmtree, folder, ignore_errors=True)
        replicas: dict[str, Slot] = {}

        def stop_replicas() -> None:
            for slot in replicas.values():
                stop_slot(slot)

        cleanup.callback(stop_replicas)
        for name in ("blue1", "blue2", "green1", "green2"):
            replicas[name] = start_slot()
        texts = folder / "profiles"
        texts.mkdir()
        write_synthetic(texts, 6, 5)
        root = folder / "store"
        each = "|".join(replicas[n].url for n in ("blue1", "blue2"))
        other = "|".join(replicas[n].url for n in ("green1", "green2"))
        report = build([SEED, texts], root, Settings(backend=f"{each},{other}"), pages=city_pages)
        assert report.exit_code == 0, report.rejects
        ports = {name: free_port() for name in ("www", "blue", "green", "stats")}
        ports |= {name: port_of(slot.url) for name, slot in replicas.items()}
        slots = f"http://127.0.0.1:{ports['blue']}/query,http://127.0.0.1:{ports['green']}/query"
        fronts: dict[str, LiveServer] = {}

        def stop_fronts() -> None:
            for front in fronts.values():
                stop_server(front)

        cleanup.callback(stop_fronts)
        for name in ("front1", "front2"):
            ports[name] = free_port()
            fronts[name] = start_front(root, ports[name], slots)
        here = Deployment(folder, root, replicas, fronts, ports=ports)
        (folder / "haproxy.cfg").write_text(CONFIG.format(**ports), encoding="utf-8")
        checked = subprocess.run(
            [HAPROXY, "-c", "-f", str(folder / "haproxy.cfg")], capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        with (folder / "haproxy.log").open("wb") as log:
            here.haproxy = subprocess.Popen(
                [HAPROXY, "-db", "-f", str(folder / "haproxy.cfg")], stdout=log, stderr=log
            )
        cleanup.callback(stop_process, here.haproxy)
        everything = ("front1", "front2", "blue1", "blue2", "green1", "green2")
        try:
            wait_until(lambda: stats_answer(here), 10, "HAProxy's statistics")
            wait_until(all_up(here, everything), 15, "every server UP in HAProxy")
        except AssertionError as error:
            raise AssertionError(f"{error}: {here.states()}\n{here.log()}") from None
        yield here


def stats_answer(deployment: Deployment) -> bool:
    try:
        deployment.stats()
    except OSError:
        return False
    return True


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


# --- the load: catalogue queries, each text new to the answer cache, each answer checked -------


def catalogue_text(name: str) -> str:
    return (ROOT / "queries" / f"{name}.rq").read_text(encoding="utf-8")


def rows(body: bytes) -> list[bytes]:
    """A CSV answer as a multiset of lines (the header first): the catalogue's order aside."""
    lines = body.split(b"\r\n")
    return [lines[0], *sorted(lines[1:])]


@dataclass
class Tally:
    """What the clients saw: requests sent, answers right, and every failure."""

    sent: int = 0
    right: int = 0
    failures: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


def send(connection: http.client.HTTPConnection, query: str) -> http.client.HTTPResponse:
    """POST the query; the response once its status line and headers are in."""
    body = urllib.parse.urlencode({"query": query}).encode()
    headers = {"Accept": "text/csv", "Content-Type": "application/x-www-form-urlencoded"}
    connection.request("POST", "/sparql", body, headers)
    return connection.getresponse()


def ask_once(address: str, query: str) -> tuple[int, bytes]:
    host, port = address.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        response = send(connection, query)
        return response.status, response.read()
    finally:
        connection.close()


def client(
    number: int,
    deployment: Deployment,
    expected: dict[str, list[bytes]],
    until: float,
    tally: Tally,
) -> None:
    """Ask the catalogue's questions through HAProxy on one kept-alive connection until
    ``until``, never twice: a reset, a cut answer or an error status is a failure."""
    host, port = deployment.www.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    sent = 0
    while time.monotonic() < until:
        name = QUERIES[sent % len(QUERIES)]
        sent += 1
        query = f"{catalogue_text(name)}\n# client {number}, request {sent}\n"  # a new text
        try:
            response = send(connection, query)
            status, body = response.status, response.read()
        except (OSError, http.client.HTTPException) as error:
            connection.close()  # the next request opens another
            status, body = 0, repr(error).encode()
        with tally.lock:
            tally.sent += 1
            tally.statuses[status] += 1
            if status == 200 and rows(body) == expected[name]:
                tally.right += 1
            else:
                tally.failures.append(f"{time.strftime('%T')} {name}: {status} {body[:200]!r}")
    connection.close()


def embedded_answers(store: Path) -> dict[str, list[bytes]]:
    """The catalogue's answers from the embedded store: an embedded front on the same folder."""
    embedded = start_server(store, {"INNOGRAPH_BACKEND": "embedded"})
    expected = {}
    try:
        for name in QUERIES:
            status, body = ask_once(embedded.url, catalogue_text(name))
            assert status == 200, body[:300]
            expected[name] = rows(body)
            assert len(expected[name]) > 3, f"{name}: too few rows to tell answers apart"
    finally:
        stop_server(embedded)
    return expected


def sessions(deployment: Deployment) -> dict[str, int]:
    return {name: int(row["stot"]) for name, row in deployment.stats().items()}


def test_a_front_and_a_replica_killed_under_load_lose_no_request(deployment: Deployment) -> None:
    expected = embedded_answers(deployment.store)
    before = deployment.stats()
    tally = Tally()
    start = time.monotonic()
    clients = [
        threading.Thread(target=client, args=(n, deployment, expected, start + LOAD_S, tally))
        for n in range(CLIENTS)
    ]
    for thread in clients:
        thread.start()
    try:
        time.sleep(KILL_AT)
        killed = time.monotonic()
        kill_front(deployment.fronts["front1"])
        deployment.replicas["blue1"].process.kill()  # blue serves: one of its replicas
        deployment.replicas["blue1"].process.wait(timeout=10)
        wait_until(
            lambda: {deployment.stats()[n]["status"] for n in ("front1", "blue1")} == {"DOWN"},
            10,
            "HAProxy marking the killed front and replica DOWN",
        )
        down = time.monotonic() - killed
        time.sleep(max(0.0, start + BACK_AT - time.monotonic()))
        back = time.monotonic()
        deployment.replicas["blue1"] = restart_slot(deployment.replicas["blue1"])
        ports = deployment.ports
        slots = f"http://127.0.0.1:{ports['blue']}/query,http://127.0.0.1:{ports['green']}/query"
        deployment.fronts["front1"] = start_front(deployment.store, ports["front1"], slots)
        wait_until(all_up(deployment, ("front1", "blue1")), 15, "front and replica back UP")
        recovered = time.monotonic() - back
    finally:
        for thread in clients:
            thread.join(timeout=LOAD_S + 60)
    after = deployment.stats()
    retries = sum(int(after[n]["wretr"] or 0) - int(before[n]["wretr"] or 0) for n in after)
    redispatched = sum(int(after[n]["wredis"] or 0) - int(before[n]["wredis"] or 0) for n in after)
    print(
        f"\nreplicated deployment, {LOAD_S:g} s, {CLIENTS} clients: {tally.sent} requests,"
        f" {tally.right} right, {len(tally.failures)} failed; HAProxy: {retries} retries,"
        f" {redispatched} redispatches; both killed"
        f" marked DOWN {down:.1f} s after the kill, both UP {recovered:.1f} s after the restart"
        f" began; statuses {dict(tally.statuses)}"
    )
    assert not tally.failures, "\n".join(tally.failures[:10]) + "\n" + deployment.log()
    assert tally.right == tally.sent > 50
    # both come back whole: the revived replica holds the version (RocksDB kept it) and answers,
    # and the revived front takes its share again
    counts = [Oxigraph(deployment.replicas[n].url, 10).counts() for n in ("blue1", "blue2")]
    assert counts[0] == counts[1]
    assert counts[0].quads > 0
    earlier = sessions(deployment)
    for number in range(8):
        name = QUERIES[number % len(QUERIES)]
        status, body = ask_once(
            f"http://{deployment.www}", f"{catalogue_text(name)}\n# after, {number}\n"
        )
        assert (status, rows(body)) == (200, expected[name])
    now = sessions(deployment)
    assert now["front1"] > earlier["front1"], "the revived front takes no requests"
    assert now["blue1"] > earlier["blue1"], "the revived replica takes no queries"


def test_a_new_version_reaches_every_replica_of_the_idle_slot(deployment: Deployment) -> None:
    """A build names each slot's replicas; the fronts, unchanged, answer the new version from
    the green replicas once both hold it, and blue keeps the previous one for a rollback."""
    replicas = deployment.replicas
    backend = ",".join(
        "|".join(replicas[f"{slot}{n}"].url for n in (1, 2)) for slot in ("blue", "green")
    )
    texts = deployment.folder / "profiles-2"
    texts.mkdir()
    write_synthetic(texts, 9, 5)
    old = [Oxigraph(replicas[f"blue{n}"].url, 10).counts() for n in (1, 2)]
    report = build([SEED, texts], deployment.store, Settings(backend=backend), pages=city_pages)
    assert report.exit_code == 0, report.rejects
    green = [Oxigraph(replicas[f"green{n}"].url, 10).counts() for n in (1, 2)]
    assert green[0] == green[1]
    assert green[0].quads > old[0].quads  # three more cities
    assert [Oxigraph(replicas[f"blue{n}"].url, 10).counts() for n in (1, 2)] == old
    expected = embedded_answers(deployment.store)
    for number in range(6):  # both fronts, each asking through the green section
        name = QUERIES[number % len(QUERIES)]
        status, body = ask_once(f"http://{deployment.www}", f"{catalogue_text(name)}\n# {number}\n")
        assert (status, rows(body)) == (200, expected[name])
    assert sessions(deployment)["green1"] > 0
    assert sessions(deployment)["green2"] > 0
