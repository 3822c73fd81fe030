"""IRIs a version drops are recorded for 410 Gone, whether the build compared every resource
(a full build) or only the graphs it changed, and forgotten when they come back."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from innograph.store import retired

SPACE = "https://w3id.org/innograph/id/"
TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
CITY = ox.NamedNode("https://w3id.org/innograph/def/City")


def version(*things: tuple[str, str]) -> ox.Store:
    """A store whose named graphs type the given resources (graph, local name), and their union."""
    store = ox.Store()
    for graph, name in things:
        triple = ox.Triple(ox.NamedNode(SPACE + name), TYPE, CITY)
        store.add(ox.Quad(*triple, ox.NamedNode(graph)))
        store.add(ox.Quad(*triple, ox.DefaultGraph()))
    return store


@pytest.mark.parametrize("graphs", [None, {"urn:g:b"}])
def test_a_dropped_iri_is_recorded_and_one_that_comes_back_is_forgotten(
    tmp_path: Path, graphs: set[str] | None
) -> None:
    served = version(("urn:g:a", "city/a"), ("urn:g:b", "city/b"))
    draft = version(("urn:g:a", "city/a"), ("urn:g:a", "city/c"))
    before = {SPACE + "city/c": "v0", SPACE + "city/d": "v0"}  # c comes back, d stays gone
    retired.write(tmp_path, draft, served, "v1", before, SPACE, graphs)
    assert retired.read(tmp_path) == {
        SPACE + "city/b": "v1",
        SPACE + "city/d": "v0",
        "urn:g:b": "v1",  # the graph itself is gone too
    }


def test_a_version_without_the_record_has_none(tmp_path: Path) -> None:
    assert retired.read(tmp_path) == {}
