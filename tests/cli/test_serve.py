"""`innograph serve` as a person starts it: the addresses to open, one short line per request,
a busy port named at once, and Ctrl-C without tracebacks (real gunicorn on 127.0.0.1)."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import free_port
from innograph import store


@dataclass
class Serving:
    """A running ``innograph serve`` whose output is read line by line as it comes."""

    process: subprocess.Popen[str]
    port: int
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    readers: list[threading.Thread] = field(default_factory=list)

    def read_until(self, pattern: str, seconds: float = 30) -> str:
        """The first line (from now on) that matches PATTERN; every line read is kept."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no line matching {pattern!r} in {self.seen}")

    def stop(self) -> str:
        """Ctrl-C as a terminal sends it (to the whole process group); the error output."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        for reader in self.readers:
            reader.join(timeout=10)
        return "".join(self.errors)


def command(store_root: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "innograph", "serve", "--store", str(store_root), *options]


def serve(store_root: Path, *options: str, env: dict[str, str] | None = None) -> Serving:
    port = free_port()
    process = subprocess.Popen(
        command(store_root, "--port", str(port), "--workers", "1", *options),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    serving = Serving(process, port)

    def lines() -> None:
        with process.stdout as stream:  # type: ignore[union-attr]
            for line in stream:
                serving.lines.put(line.rstrip("\n"))

    def errors() -> None:
        with process.stderr as stream:  # type: ignore[union-attr]
            serving.errors.extend(stream)

    serving.readers = [threading.Thread(target=f, daemon=True) for f in (lines, errors)]
    for reader in serving.readers:
        reader.start()
    return serving


@pytest.fixture
def running(seed_store: Path) -> Iterator[Serving]:
    serving = serve(seed_store)
    yield serving
    serving.stop()


def get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as response:
        return int(response.status)


def test_the_addresses_come_first_and_each_answers(running: Serving, seed_store: Path) -> None:
    running.read_until("a city page")
    version = store.require_current(seed_store).id
    url = f"http://127.0.0.1:{running.port}"
    assert running.seen == [
        f"innograph serves version {version} (Ctrl-C stops it). Open:",
        f"  home page     {url}/",
        f"  SPARQL        {url}/sparql",
        f"  a city page   {url}/id/city/liverpool-city-region.html",
    ]
    assert running.read_until("One short line") == (
        "One short line per request follows (--access-log full for complete lines)."
    )
    for address in (f"{url}/", f"{url}/sparql", f"{url}/id/city/liverpool-city-region.html"):
        assert get(address) == 200, address


def test_a_request_is_logged_in_one_short_line(running: Serving) -> None:
    running.read_until("One short line")
    query = "SELECT%20*%20WHERE%20%7B%20?s%20?p%20?o%20%7D%20LIMIT%201"
    assert get(f"http://127.0.0.1:{running.port}/sparql?query={query}&format=json") == 200
    assert re.fullmatch(r"GET /sparql 200 \d+ ms", running.read_until("^GET "))


def test_a_path_cannot_forge_a_log_line_or_reach_the_terminal(running: Serving) -> None:
    """The short line shows the decoded path: a %0A or %1B in it is written as \\x0a, \\x1b."""
    running.read_until("One short line")
    forged = "/id/city/x%0A127.0.0.1%20GET%20/admin%20200%201%20ms%1B%5B31m"
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{running.port}{forged}", timeout=30)
    except urllib.error.HTTPError as error:
        assert error.code == 404
    line = running.read_until("^GET /id/city/")
    assert (
        line
        == "GET /id/city/x\\x0a127.0.0.1 GET /admin 200 1 ms\\x1b[31m 404 "
        + line.split(" 404 ", 1)[1]
    )
    assert "\x1b" not in line


def test_ctrl_c_stops_the_server_without_a_traceback(running: Serving) -> None:
    running.read_until("One short line")
    assert get(f"http://127.0.0.1:{running.port}/sparql?query=ASK%7B%7D") == 200
    errors = running.stop()
    assert running.process.returncode == 0
    assert "Traceback" not in errors
    assert "KeyboardInterrupt" not in errors


def test_the_full_access_log_has_the_query_string(seed_store: Path) -> None:
    serving = serve(seed_store, env={"INNOGRAPH_ACCESS_LOG": "full"})
    try:
        serving.read_until("a city page")
        assert get(f"http://127.0.0.1:{serving.port}/sparql?query=ASK%7B%7D") == 200
        line = serving.read_until("GET /sparql")
        assert re.search(r'"GET /sparql\?query=ASK%7B%7D HTTP/1.1" 200 \d+ "-" ".*" \d+ ms$', line)
    finally:
        serving.stop()


def test_a_busy_port_is_named_at_once_with_how_to_choose_another(seed_store: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = subprocess.run(
            command(seed_store, "--port", str(port)),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        took = time.monotonic() - started
    assert result.returncode == 2
    found = re.fullmatch(
        rf"--port: {port} is already in use on 127\.0\.0\.1 \(another server is listening"
        r" there\); stop it, or choose another port with --port, e\.g\. --port (\d+)\n",
        result.stderr,
    )
    assert found, result.stderr
    assert int(found[1]) != port
    assert took < 4, f"{took:.1f} s: gunicorn would have retried for 5 s"


def test_an_address_not_of_this_machine_is_named(seed_store: Path) -> None:
    result = subprocess.run(
        command(seed_store, "--host", "192.0.2.1"),  # TEST-NET-1: for documentation, never local
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "--host: 192.0.2.1 is not an address of this machine; use 127.0.0.1 (this machine"
        " only) or 0.0.0.0 (every interface)\n"
    )


def test_the_development_server_prints_the_addresses_once_and_answers(seed_store: Path) -> None:
    serving = serve(seed_store, "--dev")
    try:
        serving.read_until("a city page")
        deadline = time.monotonic() + 30  # Flask binds after the addresses are printed
        while True:
            try:
                assert get(f"http://127.0.0.1:{serving.port}/-/ping") == 200
                break
            except OSError:
                assert time.monotonic() < deadline, serving.errors
                time.sleep(0.1)
    finally:
        errors = serving.stop()
    assert sum(line.startswith("innograph serves version") for line in serving.seen) == 1
    assert "already in use" not in errors  # the reloader's second process binds no port anew


def test_an_access_log_nobody_reads_any_more_stops_no_answer(seed_store: Path) -> None:
    """``innograph serve | head -4``: once the reader is gone, writing the access lines fails
    (a broken pipe); the worker says so on its error output and answers on."""
    port = free_port()
    process = subprocess.Popen(
        command(seed_store, "--port", str(port), "--workers", "1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("One short line"):
                break
        process.stdout.close()  # the reader goes: the next access line meets a broken pipe
        deadline = time.monotonic() + 30
        while not _children(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)  # the master prints its banner before it forks the web worker
        (worker,) = _children(process.pid)
        url = f"http://127.0.0.1:{port}/sparql?query=ASK%7B%7D&format=json"
        statuses = []
        for _ in range(5):
            statuses.append(get(url))
            time.sleep(0.1)  # a turn of the worker's loop each, which writes the line
        assert statuses == [200] * 5
        assert _children(process.pid) == [worker], "the web worker was not replaced"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        _, errors = process.communicate(timeout=30)
    assert "access log: cannot write 1 line(s): BrokenPipeError" in errors, errors
    assert "Traceback" not in errors


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
