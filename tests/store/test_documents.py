"""Documents kept with a version: read back by IRI, and offered to a rebuild only when the same
code made them from graphs none of which changed."""

from __future__ import annotations

from pathlib import Path

from innograph.store import documents

CITY = "https://w3id.org/innograph/id/city/a"
OTHER = "https://w3id.org/innograph/id/city/b"
GRAPH_A = "https://w3id.org/innograph/graph/a"
GRAPH_B = "https://w3id.org/innograph/graph/b"


def served(tmp_path: Path) -> Path:
    folder = tmp_path / "served"
    folder.mkdir()
    made = {CITY: (frozenset({GRAPH_A}), b"page a"), OTHER: (frozenset({GRAPH_B}), b"page b")}
    documents.write(folder, "code-1", made, None)
    return folder


def test_a_document_reads_back_by_its_iri(tmp_path: Path) -> None:
    folder = served(tmp_path)
    assert documents.read(folder, CITY) == b"page a"
    assert documents.read(folder, "https://w3id.org/innograph/id/city/none") is None
    assert documents.read(tmp_path, CITY) is None  # a version built before documents


def test_only_documents_of_unchanged_graphs_made_by_the_same_code_are_reusable(
    tmp_path: Path,
) -> None:
    folder = served(tmp_path)
    assert documents.reusable(folder, "code-1", {GRAPH_B}) == {CITY: frozenset({GRAPH_A})}
    assert documents.reusable(folder, "code-1", set()).keys() == {CITY, OTHER}
    assert documents.reusable(folder, "code-2", set()) == {}  # templates or code changed
    assert documents.reusable(folder, "code-1", None) == {}  # a full build
    assert documents.reusable(None, "code-1", set()) == {}  # nothing served yet


def test_a_reused_document_is_the_served_file(tmp_path: Path) -> None:
    before = served(tmp_path)
    after = tmp_path / "next"
    after.mkdir()
    made = {CITY: (frozenset({GRAPH_A}), None), OTHER: (frozenset({GRAPH_B}), b"page b, changed")}
    documents.write(after, "code-1", made, before)
    assert documents.read(after, CITY) == b"page a"
    assert documents.read(after, OTHER) == b"page b, changed"
    assert documents._file(after, CITY).samefile(documents._file(before, CITY))
