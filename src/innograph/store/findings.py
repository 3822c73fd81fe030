"""What the shapes found in a version, kept beside it (``validation.json``) so that the server
can say of any resource whether its data conforms, with each result's shape, message and source
line, without running the shapes again. A version with a violation is never promoted, so what is
kept are warnings and notes (and the fact that nothing was violated)."""

from __future__ import annotations

import json
from pathlib import Path

from .files import write_atomically

FINDINGS_FILE = "validation.json"
# One result: focus, shape, severity, value, message, source ("file:line"), graph (the profile
# graph whose own rules found it; None for a rule across graphs).
Result = dict[str, str | None]


def write(folder: Path, results: list[Result]) -> None:
    """Keep the results, sorted, so that the same findings give the same bytes."""
    ordered = sorted(results, key=lambda r: tuple(str(r.get(k) or "") for k in sorted(r)))
    data = {"conforms": not any(r["severity"] == "Violation" for r in ordered), "results": ordered}
    write_atomically(folder / FINDINGS_FILE, json.dumps(data, indent=1, sort_keys=True).encode())


def read(folder: Path) -> list[Result] | None:
    """The results kept with a version, or None for a version built before they were kept."""
    path = folder / FINDINGS_FILE
    if not path.is_file():
        return None
    results: list[Result] = json.loads(path.read_bytes())["results"]
    return results
