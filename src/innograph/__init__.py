"""innograph: a linked-data knowledge graph of city innovation-capacity profiles."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from .settings import DEFAULT_STORE

if TYPE_CHECKING:
    from rdflib import Dataset

try:
    __version__ = version("innograph")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"


def open_graph(store: str | Path = DEFAULT_STORE) -> Dataset:
    """The served store version as a read-only rdflib ``Dataset`` (for notebooks).

    Queries run on pyoxigraph through oxrdflib; the default graph is the union of the named
    graphs, so ``open_graph().query(q)`` answers as ``innograph query`` and the endpoint do.
    """
    from oxrdflib import OxigraphStore
    from rdflib import Dataset

    from . import store as versions

    served = versions.open_read_only(versions.require_current(Path(store)))
    return Dataset(store=OxigraphStore(store=served))
