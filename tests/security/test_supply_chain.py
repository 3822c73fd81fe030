"""The server's dependencies are locked (requirements/server.lock, ``make lock``) and audited
(``make audit``, .ci/audit.py): the lock cannot drift from pyproject.toml's ranges, every pin
carries hashes, and no pin is below a version named in a known advisory. These last checks are
also the audit's fallback when no advisory service answers (``INNOGRAPH_AUDIT_LOCK`` then names
the lock it checks)."""

from __future__ import annotations

import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from test_html_headers_urls import ADVISED

from conftest import ROOT

LOCK = Path(os.environ.get("INNOGRAPH_AUDIT_LOCK", ROOT / "requirements" / "server.lock"))
AUDIT = ROOT / ".ci" / "audit.py"
# Lowest safe versions of what the server installs, beyond the web stack's (W13): Jinja2's
# sandbox breakouts (GHSA-cpwx-vrp4-4pq7, GHSA-q2x7-8rv6-6q7h).
FLOORS = {**ADVISED, "jinja2": "3.1.6"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", re.MULTILINE)


def pins(lock: Path) -> dict[str, Version]:
    return {canonicalize_name(n): Version(v) for n, v in PIN.findall(lock.read_text("utf-8"))}


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    return [Requirement(line) for line in project["dependencies"]]


def test_the_lock_pins_every_declared_dependency_in_range() -> None:
    locked = pins(LOCK)
    assert len(locked) >= len(declared())
    for requirement in declared():
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is declared in pyproject.toml but not locked: make lock"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"{name}=={locked[name]} is outside pyproject.toml's {requirement.specifier}: make lock"
        )


def test_every_pin_carries_its_hashes() -> None:
    """pip install --require-hashes -r requirements/server.lock installs exactly these files."""
    text = LOCK.read_text("utf-8")
    blocks = [b for b in re.split(r"\n(?=[A-Za-z0-9])", text) if PIN.match(b)]
    assert len(blocks) == len(pins(LOCK)) > 0
    for block in blocks:
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", block), f"no hash: {block.splitlines()[0]}"


def test_the_lock_is_past_the_known_advisories() -> None:
    locked = pins(LOCK)
    for package, floor in FLOORS.items():
        assert locked[package] >= Version(floor), f"{package}=={locked[package]} < {floor}"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class AdvisoryService:
    """A stand-in for OSV's query API on 127.0.0.1 that knows the advisories it is given:
    (package, version) -> advisory id. PyPI's JSON API is out of reach meanwhile, so the audit
    takes its answers from here."""

    def __init__(self, advisories: dict[tuple[str, str], str]) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                name, version = asked["package"]["name"], asked["version"]
                found = advisories.get((name, version))
                events = [{"introduced": "0"}, {"fixed": "99"}]
                affected = {
                    "package": asked["package"],
                    "ranges": [{"type": "ECOSYSTEM", "events": events}],
                }
                vulns = [{"id": found, "summary": "test", "affected": [affected]}] if found else []
                body = json.dumps({"vulns": vulns} if vulns else {}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/query"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def audit(lock: Path, service: AdvisoryService | None = None) -> subprocess.CompletedProcess[str]:
    """``make audit`` with PyPI out of reach (a proxy that refuses), and OSV too unless a
    stand-in ``service`` answers for it."""
    proxy = f"http://127.0.0.1:{closed_port()}"
    env = {"HTTPS_PROXY": proxy, "HTTP_PROXY": proxy, "NO_PROXY": ""}
    if service is not None:
        env = {"HTTPS_PROXY": proxy, "NO_PROXY": "127.0.0.1", "PIP_AUDIT_OSV_URL": service.url}
    return subprocess.run(
        [sys.executable, str(AUDIT), str(lock)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}, **env},
        timeout=300,
        check=False,
    )


PROBED = ("flask", "2.2.4")  # what .ci/audit.py asks first: a release with a known advisory


@pytest.mark.parametrize("advised", [None, "jinja2"])
def test_the_audit_fails_on_an_advisory_and_passes_without(advised: str | None) -> None:
    locked = pins(LOCK)
    advisories = {PROBED: "GHSA-m2qf-hxjv-5gpq"}
    if advised:
        advisories[(advised, str(locked[advised]))] = "TEST-0001"
    service = AdvisoryService(advisories)
    try:
        done = audit(LOCK, service)
    finally:
        service.close()
    if advised is None:
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"{len(locked)} locked packages, no known advisory (osv)" in done.stdout
    else:
        assert done.returncode == 1, done.stdout + done.stderr
        assert f"ADVISORY {advised} {locked[advised]}: TEST-0001" in done.stdout


def test_the_fallback_fails_on_a_pin_below_an_advisory(tmp_path: Path) -> None:
    """Where no service answers, the audit says so and runs the floors (as `make audit` in CI
    does on the real lock, where they pass)."""
    text = LOCK.read_text("utf-8")
    assert re.search(r"^flask==", text, re.MULTILINE)
    old = tmp_path / "server.lock"
    old.write_text(re.sub(r"^flask==\S+", "flask==3.1.0", text, flags=re.MULTILINE), "utf-8")
    done = audit(old)
    assert "NO ADVISORY SERVICE ANSWERS FROM HERE" in done.stdout, done.stdout + done.stderr
    assert "flask==3.1.0" in done.stdout, done.stdout
    assert done.returncode != 0, done.stdout
