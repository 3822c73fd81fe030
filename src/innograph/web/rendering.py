"""How a resource's page is written: the paths this server answers for the IRIs the graph mints,
short names, and the page itself from a description (and a city's profiles and charts).

Used at request time (``resources``) and when a version is built (``prerender``): a city's page
rendered at build time leaves two slots, its charts (they count every city in the served version)
and its footer (it names the served version), which ``fill`` completes per request.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import cast
from urllib.parse import quote

import pyoxigraph as ox
from flask import get_template_attribute, render_template
from markupsafe import Markup

from ..query.profiles import Bar, Chart, ProfileView
from ..query.resources import INBOUND_PAGE, Description
from ..query.served import VersionFacts
from ..vocab import IG, PREFIXES, VOCAB

# suffix -> (media type, the writer's format name; None for the HTML page)
DOCUMENTS: dict[str, tuple[str, str | None]] = {
    "html": ("text/html", None),
    "ttl": ("text/turtle", "turtle"),
    "jsonld": ("application/ld+json", "jsonld"),
    "nt": ("application/n-triples", "ntriples"),
    "rdf": ("application/rdf+xml", "rdfxml"),
}
# What a minted IRI's path is made of (slugs, ontology terms): anything else is not ours.
MINTED_PATH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-/.]*")  # the ontology's 0.1.0 has dots
ONTOLOGY_DOCUMENT = "index"  # /def/index.ttl is the document about the namespace IRI …/def/
DISPLAY_PREFIXES = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
# Where a page rendered at build time is completed per request. Comments no escaped text can
# forge: every value on a page is escaped, so "<" from the data never reaches it as such.
CHARTS_SLOT = "<!--innograph:charts-->"
# A page embeds its statements as JSON-LD up to this size (N-Triples bytes); past it the page
# only links the documents (a 290 KB narrative would otherwise be on the page twice).
MAX_EMBEDDED = 100_000
FOOTER_SLOT = "<!--innograph:footer-->"


def external(iri: str) -> str | None:
    """A link to another site, only for http(s) IRIs (never ``javascript:`` and the like)."""
    return iri if re.match(r"https?://", iri) else None


def to_iri(space: str, rest: str, base_iri: str) -> str:
    """The IRI a local path stands for.

    >>> to_iri("id", "city/akron-us", "https://w3id.org/innograph/")
    'https://w3id.org/innograph/id/city/akron-us'
    >>> to_iri("def", "index", "http://localhost/")
    'https://w3id.org/innograph/def/'
    """
    if space == "def":
        return str(IG) + ("" if rest == ONTOLOGY_DOCUMENT else rest)
    if space == "vocab":
        return VOCAB + rest
    return f"{base_iri}{space}/{rest}"


def local_path(iri: str, base_iri: str) -> str | None:
    """Where this server answers for an IRI, or None when the IRI is not one of ours.

    >>> local_path("https://w3id.org/innograph/def/", "https://w3id.org/innograph/")
    '/def/index'
    >>> local_path("http://www.w3.org/ns/org#Post", "https://w3id.org/innograph/") is None
    True
    """
    for space, root in (("id", f"{base_iri}id/"), ("graph", f"{base_iri}graph/")):
        if iri.startswith(root):
            rest = iri[len(root) :]
            return f"/{space}/{rest}" if MINTED_PATH.fullmatch(rest) else None
    if iri == str(IG):
        return f"/def/{ONTOLOGY_DOCUMENT}"
    for space, root in (("def", str(IG)), ("vocab", VOCAB)):
        if iri.startswith(root) and MINTED_PATH.fullmatch(iri[len(root) :]):
            return f"/{space}/{iri[len(root) :]}"
    return None


def page_links(base_iri: str) -> Callable[[str], str | None]:
    """For templates: the page about an IRI on this server (None for other sites' IRIs)."""

    def link(iri: str) -> str | None:
        here = local_path(iri, base_iri)
        return None if here is None else f"{here}.html"

    return link


def prefixed(iri: str) -> str:
    """An IRI as a prefixed name when a known namespace holds it, else as it is."""
    for name, namespace in {**PREFIXES, **DISPLAY_PREFIXES}.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{name}:{iri[len(namespace) :]}"
    return iri


def as_jsonld(ntriples: bytes) -> bytes:
    """The document's statements as JSON-LD, to embed in its page."""
    triples = ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES)
    return ox.serialize(triples, format=ox.RdfFormat.JSON_LD) or b"[]"


@dataclass(frozen=True)
class ShapesStatus:
    """What a page says of its resource's validation, and where the results are."""

    text: str
    link: str


def shapes_status(
    results: Iterable[Mapping[str, str | None]] | None, iri: str, about: Iterable[str] = ()
) -> ShapesStatus | None:
    """The shapes' results about ``iri`` (and ``about``: a city's profiles) in a few words, or
    None when the version kept none. A promoted version has no violation: only warnings and
    notes are counted.

    >>> shapes_status([{"focus": "p", "severity": "Warning"}], "c", ["p"]).text
    'conforms, 1 warning'
    """
    if results is None:
        return None
    focus = {iri, *about}
    counts = Counter(str(r["severity"]).lower() for r in results if r["focus"] in focus)
    words = [f"{n} {kind}{'' if n == 1 else 's'}" for kind, n in sorted(counts.items())]
    return ShapesStatus(", ".join(["conforms", *words]), f"/validate?target={quote(iri, safe='')}")


def page_body(
    found: Description,
    base_iri: str,
    version: VersionFacts | None,
    path: str,
    page: int,
    count: int,
    ntriples: bytes,
    cut: bool,
    profiles: list[ProfileView] | None = None,
    charts: list[Chart] | None = None,
    status: ShapesStatus | None = None,
) -> str:
    """A resource's page; a city's reads like its profiles when ``profiles`` are given. With
    ``version`` None, a city's page keeps its slots for ``fill`` (charts and footer)."""

    link = page_links(base_iri)

    def curie(iri: str) -> str:
        """A short name: the label, a path on this server, or a prefixed name."""
        label = found.label_of(iri)
        if label:
            return label
        here = local_path(iri, base_iri)
        if here is not None and here.startswith(("/id/", "/graph/")):
            return here.removeprefix("/id/")
        return prefixed(iri)

    pages = max(1, -(-count // INBOUND_PAGE))
    query = f"DESCRIBE <{found.iri}>"
    return render_template(
        "resource.html" if profiles is None else "city.html",
        profiles=profiles,
        charts=charts or [],
        slots=version is None,
        found=found,
        path=path,
        link=link,
        curie=curie,
        page=page,
        pages=pages,
        count=count,
        documents=DOCUMENTS,
        version=version,
        sparql_link=f"/sparql?query={quote(query)}",
        jsonld=json.loads(as_jsonld(ntriples)) if len(ntriples) <= MAX_EMBEDDED else None,
        data=lambda iri: f"{local_path(iri, base_iri)}.ttl",
        cut=cut,
        external=external,
        status=status,
        cite=cite_link(found.iri),
    )


@lru_cache(maxsize=4096)
def drawn_bar(bar: Bar, index: int, answered: int) -> Markup:
    """A chart's bar as the ``chart_bar`` macro draws it, drawn once per process: drawing every
    bar of a city page's four charts took two thirds of the page's time."""
    return cast(Markup, get_template_attribute("_document.html", "chart_bar")(bar, index, answered))


def cite_link(iri: str) -> str:
    """Where a resource's citation is (``/cite``)."""
    return f"/cite?iri={quote(iri, safe='')}"


def fill(
    kept: str, iri: str, charts: list[Chart], version: VersionFacts, status: ShapesStatus | None
) -> str:
    """A page rendered at build time, completed with the charts and the footer of ``version``."""
    charts_html: Markup = get_template_attribute("_document.html", "charts")(charts)
    footer = get_template_attribute("_document.html", "footer")
    footer_html: Markup = footer(version, status, cite_link(iri))
    return kept.replace(CHARTS_SLOT, str(charts_html), 1).replace(FOOTER_SLOT, str(footer_html), 1)
