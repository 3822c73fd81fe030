"""The counts a VoID description states, taken once when a version is built and kept beside it
(``statistics.json``): a version never changes, so neither do its counts, and the dataset page
costs no query."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .files import write_atomically

STATISTICS_FILE = "statistics.json"

# Over the default graph, the merge of every graph: a statement made by two profiles counts once.
TOTALS = """SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?distinctSubjects)
       (COUNT(DISTINCT ?o) AS ?distinctObjects) (COUNT(DISTINCT ?p) AS ?properties)
WHERE { ?s ?p ?o }"""
# VoID's entities are the typed resources in its URI space (<base>id/): not the ontology's terms,
# the vocabularies' concepts or the graphs' names. Classes are counted over every typed resource.
ENTITIES = """SELECT (COUNT(DISTINCT ?e) AS ?entities) (COUNT(DISTINCT ?c) AS ?classes)
WHERE { ?s a ?c FILTER isIRI(?s) BIND (IF(STRSTARTS(STR(?s), "URI_SPACE"), ?s, ?unbound) AS ?e) }"""
CLASS_PARTITIONS = """SELECT ?class (COUNT(DISTINCT ?s) AS ?entities)
WHERE { ?s a ?class } GROUP BY ?class ORDER BY ?class"""
PROPERTY_PARTITIONS = """SELECT ?property (COUNT(*) AS ?triples)
WHERE { ?s ?property ?o } GROUP BY ?property ORDER BY ?property"""


def _rows(source: ox.Store, query: str) -> list[dict[str, str]]:
    solutions = source.query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    names = [variable.value for variable in solutions.variables]
    return [{name: row[name].value for name in names} for row in solutions]


def count(source: ox.Store, uri_space: str) -> dict[str, Any]:
    """VoID's totals by VoID's names, and the class and property partitions, in IRI order."""
    entities = ENTITIES.replace("URI_SPACE", uri_space.replace('"', ""))
    totals = {**_rows(source, TOTALS)[0], **_rows(source, entities)[0]}
    return {
        "totals": {name: int(value) for name, value in totals.items()},
        "classes": [[r["class"], int(r["entities"])] for r in _rows(source, CLASS_PARTITIONS)],
        "properties": [
            [r["property"], int(r["triples"])] for r in _rows(source, PROPERTY_PARTITIONS)
        ],
    }


def write(source: ox.Store, folder: Path, uri_space: str) -> None:
    data = json.dumps(count(source, uri_space), indent=1, sort_keys=True)
    write_atomically(folder / STATISTICS_FILE, data.encode())


def read(folder: Path) -> dict[str, Any] | None:
    """The counts kept with a version, or None for a version built before they were kept."""
    path = folder / STATISTICS_FILE
    if not path.is_file():
        return None
    counted: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return counted
