"""``make audit``: the server's locked dependencies (requirements/server.lock) against known
advisories, with pip-audit; exits non-zero on any advisory.

First a probe: pip-audit must report a release with published advisories (Flask 2.2.4). If no
service does (unreachable, or, like a registry mirror without per-release data, answering with
nothing), a silent "no known vulnerabilities" would mean nothing: the audit says so and falls
back to the minimum-version tests, which check that the declared and locked versions are above
those named in known advisories (tests/security/test_supply_chain.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "server.lock"
PROBE = "flask==2.2.4"  # GHSA-m2qf-hxjv-5gpq (CVE-2023-30861), fixed in 2.2.5
SERVICES = ("pypi", "osv")
PIP_AUDIT = (sys.executable, "-m", "pip_audit", "-f", "json", "--timeout", "20")
PIP_AUDIT += ("--progress-spinner", "off")
FALLBACK = [
    "tests/security/test_supply_chain.py::test_the_lock_pins_every_declared_dependency_in_range",
    "tests/security/test_supply_chain.py::test_the_lock_is_past_the_known_advisories",
    "tests/security/test_html_headers_urls.py::test_w13_the_web_stack_is_past_its_known_advisories",
]


def pip_audit(service: str, *args: str) -> tuple[dict[str, Any] | None, str]:
    """pip-audit's JSON report, or None and the last line it wrote about why not. Its cache is
    new each time: advisories are asked afresh, never answered from an earlier run."""
    with tempfile.TemporaryDirectory() as cache:
        done = subprocess.run(
            [*PIP_AUDIT, "-s", service, *args, "--cache-dir", cache],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    try:
        return json.loads(done.stdout), ""
    except ValueError:
        lines = done.stderr.strip().splitlines() or [f"exit code {done.returncode}"]
        return None, lines[-1][:300]


def advisories(report: dict[str, Any]) -> list[str]:
    return [
        f"{dep['name']} {dep['version']}: {vuln['id']} ({', '.join(vuln['aliases']) or 'no alias'})"
        f"; fixed in {', '.join(vuln['fix_versions']) or 'no release yet'}"
        for dep in report["dependencies"]
        for vuln in dep.get("vulns", [])
    ]


def answering_service() -> str | None:
    """The first service that reports the probe's advisories."""
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe.txt"
        probe.write_text(PROBE + "\n", encoding="utf-8")
        for service in SERVICES:
            report, why = pip_audit(service, "-r", str(probe), "--no-deps", "--disable-pip")
            if report is not None and advisories(report):
                return service
            skipped = [
                d["skip_reason"]
                for d in (report or {}).get("dependencies", [])
                if "skip_reason" in d
            ]
            said = (
                why or "; ".join(skipped) or "it answered, without the advisories published for it"
            )
            print(f"audit: {service}: no advisory found for {PROBE}: {said}", flush=True)
    return None


def main(argv: list[str]) -> int:
    lock = Path(argv[0]).resolve() if argv else LOCK
    service = answering_service()
    if service is None:
        print(
            "audit: NO ADVISORY SERVICE ANSWERS FROM HERE, so pip-audit cannot check"
            f" {lock.name}; falling back to the minimum-version tests (declared and locked"
            " versions above those named in known advisories)",
            flush=True,
        )
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *FALLBACK],
            cwd=ROOT,
            env={**os.environ, "INNOGRAPH_AUDIT_LOCK": str(lock)},
            check=False,
        ).returncode
    report, why = pip_audit(service, "-r", str(lock), "--disable-pip", "--require-hashes")
    if report is None:
        print(f"audit: pip-audit could not read {lock}: {why}")
        return 1
    found = advisories(report)
    missed = [
        f"{d['name']}: {d['skip_reason']}" for d in report["dependencies"] if "skip_reason" in d
    ]
    for line in found:
        print(f"audit: ADVISORY {line}")
    for line in missed:
        print(f"audit: NOT AUDITED {line}")
    if found or missed:
        return 1
    print(f"audit: {len(report['dependencies'])} locked packages, no known advisory ({service})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
