"""The server's dependencies are locked (requirements/server.lock, ``make lock``) and audited
(``make audit``, .ci/audit.py): the lock cannot drift from pyproject.toml's ranges, every pin
carries hashes, and no pin is below a version named in a known advisory. These last checks are
also the audit's fallback when no advisory service answers (``INNOGRAPH_AUDIT_LOCK`` then names
the lock it checks)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

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


def audit(lock: Path) -> subprocess.CompletedProcess[str]:
    """``make audit`` with every advisory service out of reach (a proxy that refuses)."""
    proxy = f"http://127.0.0.1:{closed_port()}"
    return subprocess.run(
        [sys.executable, str(AUDIT), str(lock)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "HTTPS_PROXY": proxy, "HTTP_PROXY": proxy, "NO_PROXY": ""},
        timeout=300,
        check=False,
    )


def test_an_audit_without_advisories_says_so_and_falls_back() -> None:
    done = audit(LOCK)
    assert "NO ADVISORY SERVICE ANSWERS FROM HERE" in done.stdout, done.stdout + done.stderr
    assert re.search(r"^\d+ passed", done.stdout, re.MULTILINE), done.stdout
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_fallback_fails_on_a_pin_below_an_advisory(tmp_path: Path) -> None:
    text = LOCK.read_text("utf-8")
    assert re.search(r"^flask==", text, re.MULTILINE)
    old = tmp_path / "server.lock"
    old.write_text(re.sub(r"^flask==\S+", "flask==3.1.0", text, flags=re.MULTILINE), "utf-8")
    done = audit(old)
    assert done.returncode != 0, done.stdout
    assert "flask==3.1.0" in done.stdout, done.stdout
