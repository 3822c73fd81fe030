"""City pages rendered when a version is built, kept with it, so that a reader's first request
for one costs a file read instead of the queries and the templates behind it.

The build (``pipeline.build``, given ``city_pages`` by the CLI) calls this with the draft's store
before the version is promoted. A page is rendered with the same templates as at request time,
leaving the slots ``rendering.fill`` completes per request: the charts (they count every city in
the served version) and the footer (it names that version). A city whose graphs did not change
keeps the served version's page.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Mapping
from functools import cached_property
from importlib.metadata import version
from pathlib import Path

import pyoxigraph as ox
from flask import Flask

from ..query.local import run_query
from ..query.profiles import COMPARED, city_graphs_query, city_profiles, city_query, labels_query
from ..query.resources import INBOUND_PAGE, description, document_query, inbound_count_query
from ..query.writers import write_graph
from .rendering import local_path, page_body

# The templates and the static route of the web package, without a server behind them.
_templates = Flask(__package__ or "innograph.web")


class CityPages:
    """``pipeline.PageMaker`` for city pages; its fingerprint names the templates and the
    libraries that render them, so that a page made by other ones is rendered again."""

    @cached_property
    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for package in ("flask", "jinja2", "markupsafe"):
            digest.update(f"{package}={version(package)};".encode())
        folder = Path(__file__).resolve().parent / "templates"
        for path in sorted(folder.glob("*.html")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()

    def __call__(
        self, source: ox.Store, base: str, reusable: Mapping[str, frozenset[str]]
    ) -> dict[str, tuple[frozenset[str], bytes | None]]:
        return render_city_pages(source, base, reusable)


city_pages = CityPages()


def render_city_pages(
    source: ox.Store, base: str, reusable: Mapping[str, frozenset[str]]
) -> dict[str, tuple[frozenset[str], bytes | None]]:
    """Every city's page, as ``store.documents`` keeps it: IRI -> (the graphs it was made from,
    its bytes; None where the served version's page made from the same graphs is kept)."""
    graphs: dict[str, set[str]] = defaultdict(set)
    for row in _solutions(source, city_graphs_query()):
        graphs[row["city"].value].add(row["g"].value)
    labels = _ntriples(source, labels_query(f"{base}graph/vocabularies"))
    made: dict[str, tuple[frozenset[str], bytes | None]] = {}
    with _templates.test_request_context("/"):
        for city in sorted(graphs):
            sources = frozenset(graphs[city])
            kept = reusable.get(city) == sources
            made[city] = (sources, None if kept else city_page(source, base, city, labels))
    return made


def city_page(source: ox.Store, base: str, city: str, labels: bytes) -> bytes:
    """One city's page with its slots, and what filling them needs: the count of links to the
    city (for the ``Link`` header), the concepts it chose in each compared question, and the
    rows and bytes its queries answered (a server with lower limits renders it per request)."""
    described = _ntriples(source, document_query(city, 1))
    found = description(city, described)
    count = len(found.inbound)
    if count >= INBOUND_PAGE:
        count = int(next(iter(_solutions(source, inbound_count_query(city))))["links"].value)
    statements = _ntriples(source, city_query(city))
    profiles = city_profiles(city, statements + labels)
    path = local_path(city, base)
    assert path is not None, f"{city}: not an IRI of this dataset"
    html = page_body(found, base, None, path, 1, count, described, False, profiles)
    chosen = {
        prop: sorted({c for view in profiles for c in view.chosen.get(prop, set())})
        for _, prop in COMPARED
    }
    kept = {"iri": city, "count": count, "chosen": chosen, "html": html}
    kept["profiles"] = [view.iri for view in profiles]  # whose validation the footer tells
    # what a page rendered per request would need of the server's limits to be the same
    answers = (described, statements, labels)
    kept["rows"] = max(answer.count(b"\n") for answer in answers)
    kept["bytes"] = max(len(answer) for answer in answers)
    return json.dumps(kept).encode()


def _solutions(source: ox.Store, text: str) -> ox.QuerySolutions:
    answer = run_query(source, text)
    assert isinstance(answer, ox.QuerySolutions)
    return answer


def _ntriples(source: ox.Store, text: str) -> bytes:
    """A CONSTRUCT's answer as the query workers write it, without the server's caps."""
    answer = run_query(source, text)
    assert isinstance(answer, ox.QueryTriples)
    body, _, _ = write_graph(answer, "ntriples", sys.maxsize - 1)  # no cap: read it all
    return body
