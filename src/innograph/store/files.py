"""Files written whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PUBLISHED = 0o644  # dumps and manifests are for everyone to read; mkstemp alone gives 0600


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        Path(temporary).chmod(PUBLISHED)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
