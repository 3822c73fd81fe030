"""`innograph parse` as a person runs it: real subprocess, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import SEED


def innograph(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "innograph", *args], capture_output=True, text=True, check=False
    )


def test_coverage_of_the_seed() -> None:
    result = innograph("parse", "--coverage", str(SEED))
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip().splitlines()[-1] == "liverpool-city-region.txt: 196 lines, 0 unmapped"
    )


def test_json_record_of_the_seed() -> None:
    result = innograph("parse", "--json", str(SEED))
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["header"]["mayor"]["name"] == "Steve Rotheram"
    assert record["header"]["population"]["value"] == 1530000


def test_bad_files_exit_2_and_the_good_ones_are_still_reported(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"Mayor\n\x00\x01\x02")
    missing = tmp_path / "missing.txt"
    result = innograph("parse", "--coverage", str(empty), str(SEED), str(binary), str(missing))
    assert result.returncode == 2
    errors = result.stderr.strip().splitlines()
    assert errors == [
        f"{empty}:1: expected profile text, found an empty file",
        f"{binary}:2: expected UTF-8 text, found binary data (a NUL byte)",
        f"{missing}:1: expected a readable file (No such file or directory)",
    ]
    assert "Traceback" not in result.stderr
    assert "liverpool-city-region.txt: 196 lines, 0 unmapped" in result.stdout


def test_unmapped_lines_are_listed_with_their_numbers(tmp_path: Path) -> None:
    profile = tmp_path / "flat.txt"
    profile.write_text("Improve service delivery\nA line nobody knows\n", encoding="utf-8")
    result = innograph("parse", "--coverage", str(profile))
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "flat.txt:2: unmapped: A line nobody knows",
        "flat.txt: 2 lines, 1 unmapped",
    ]


def test_a_bad_option_is_a_usage_error() -> None:
    result = innograph("parse", "--no-such-option", str(SEED))
    assert result.returncode == 2
    assert "No such option" in result.stderr
