"""IRIs a version no longer has that an earlier one published, kept with the version
(``retired.json``: IRI -> the last version that had it), so that the server can answer
``410 Gone`` for them instead of ``404 Not Found``: a link someone made to our data is told the
thing was withdrawn, not that it never existed. The record is carried from version to version
until an IRI comes back."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox

from .files import write_atomically

RETIRED_FILE = "retired.json"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
SUBJECTS = (
    "SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s ?p ?o }"
    " FILTER (isIRI(?s) && STRSTARTS(STR(?s), SPACE)) GRAPHS }"
)


def read(folder: Path) -> dict[str, str]:
    path = folder / RETIRED_FILE
    return json.loads(path.read_bytes()) if path.is_file() else {}


def _typed(source: ox.Store, space: str) -> set[str]:
    """Every typed resource of ``space`` (every minted IRI has a type): one index scan."""
    return {
        quad.subject.value
        for quad in source.quads_for_pattern(None, RDF_TYPE, None, ox.DefaultGraph())
        if isinstance(quad.subject, ox.NamedNode) and quad.subject.value.startswith(space)
    }


def _subjects(source: ox.Store, space: str, graphs: set[str]) -> set[str]:
    """The IRIs of ``space`` that ``graphs`` state anything of."""
    if not graphs:
        return set()
    scope = "VALUES ?g { " + " ".join(f"<{g}>" for g in sorted(graphs)) + " }"
    text = SUBJECTS.replace("GRAPHS", scope).replace("SPACE", str(ox.Literal(space)))
    found = source.query(text)
    assert isinstance(found, ox.QuerySolutions)
    return {row["s"].value for row in found}


def _present(source: ox.Store, iri: str) -> bool:
    return next(iter(source.quads_for_pattern(ox.NamedNode(iri), None, None)), None) is not None


def write(
    folder: Path,
    draft: ox.Store,
    served: ox.Store,
    served_id: str,
    before: dict[str, str],
    space: str,
    graphs: set[str] | None,
) -> None:
    """Record in ``folder`` the IRIs of ``space`` the served version has that the draft does
    not (looked for in ``graphs`` only, the graphs a rebuild changed or dropped; None: all),
    the named graphs it drops, and those retired before and still absent."""
    kept_graphs = {g.value for g in draft.named_graphs()}
    dropped_graphs = {g.value for g in served.named_graphs()} - kept_graphs
    if graphs is None:  # a full build: compare the two versions' typed resources
        now = _typed(draft, space) | kept_graphs
        retired = {iri: last for iri, last in before.items() if iri not in now}
        retired |= dict.fromkeys(_typed(served, space) - now, served_id)
    else:
        retired = {
            iri: last
            for iri, last in before.items()
            if iri not in kept_graphs and not _present(draft, iri)
        }
        for iri in _subjects(served, space, graphs):
            if not _present(draft, iri):
                retired[iri] = served_id
    retired |= dict.fromkeys(dropped_graphs, served_id)  # a named graph is published too
    write_atomically(folder / RETIRED_FILE, json.dumps(retired, indent=1, sort_keys=True).encode())
