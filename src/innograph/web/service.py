"""The SPARQL Service Description of the endpoint, and the example queries of the page."""

from __future__ import annotations

import hashlib
from functools import cache

import pyoxigraph as ox

from ..errors import UsageError
from ..query.writers import written
from ..vocab import data_dir
from .negotiation import NotAcceptable
from .runtime import Runtime

SD_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
SD_FORMAT_NAMES = {
    "ttl": "text/turtle",
    "turtle": "text/turtle",
    "jsonld": "application/ld+json",
    "json": "application/ld+json",
    "nt": "application/n-triples",
    "rdf": "application/rdf+xml",
    "xml": "application/rdf+xml",
}
RESULT_FORMATS = (
    "SPARQL_Results_JSON",
    "SPARQL_Results_XML",
    "SPARQL_Results_CSV",
    "SPARQL_Results_TSV",
    "Turtle",
    "N-Triples",
    "N-Quads",
    "TriG",
    "JSON-LD",
    "RDF_XML",
)
SD = "http://www.w3.org/ns/sparql-service-description#"
POLICY = (
    "Read-only: SPARQL 1.1 Query only; updates get 403, and SERVICE, LOAD and FROM/FROM NAMED"
    " naming anything outside the store are refused (400). The store holds one named graph per"
    " profile document, plus the ontology and vocabulary graphs; the default graph is the RDF"
    " merge (union) of the named graphs, so a query without GRAPH finds every profile, and"
    " GRAPH ?g selects one profile's graph. Limits: {timeout:g} s per query (lower it with"
    " timeout=, in seconds), {rows} rows and {megabytes} MB per answer (a cut answer carries"
    " the header X-Result-Truncated: true)."
)


def megabytes(size: int) -> str:
    """A byte count in MB (MiB) to three significant digits, as the query page's script shows it."""
    value = float(f"{size / 1024**2:.3g}")
    return f"{value:,.6f}".rstrip("0").rstrip(".")


def sd(name: str) -> ox.NamedNode:
    return ox.NamedNode(SD + name)


def describe(
    endpoint: str, runtime: Runtime, best: str | None, fmt: str | None
) -> tuple[bytes, str]:
    if fmt is not None:
        media = SD_FORMAT_NAMES.get(fmt.lower())
        if media is None:
            raise UsageError(
                f"format: {fmt!r} is not offered; use one of {', '.join(SD_FORMAT_NAMES)}"
            )
    elif best is None:
        raise NotAcceptable(
            "Accept: the service description is available as " + ", ".join(SD_TYPES)
        )
    else:
        media = best
    settings = runtime.settings
    version = runtime.version()
    service, dataset, default = (
        ox.NamedNode(endpoint),
        ox.BlankNode("dataset"),
        ox.BlankNode("default"),
    )
    a = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    triples = [
        ox.Triple(service, a, sd("Service")),
        ox.Triple(service, sd("endpoint"), service),
        ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
        ox.Triple(service, sd("feature"), sd("UnionDefaultGraph")),
        ox.Triple(service, sd("defaultDataset"), dataset),
        ox.Triple(dataset, a, sd("Dataset")),
        ox.Triple(dataset, sd("defaultGraph"), default),
        ox.Triple(default, a, sd("Graph")),
        ox.Triple(
            service,
            ox.NamedNode("http://purl.org/dc/terms/description"),
            ox.Literal(
                POLICY.format(
                    timeout=settings.query_timeout_s,
                    rows=settings.max_rows,
                    megabytes=megabytes(settings.max_result_bytes),
                ),
                language="en",
            ),
        ),
        ox.Triple(
            dataset, ox.NamedNode("http://purl.org/dc/terms/hasVersion"), ox.Literal(version.id)
        ),
    ]
    triples += [
        ox.Triple(service, sd("resultFormat"), ox.NamedNode(f"http://www.w3.org/ns/formats/{name}"))
        for name in RESULT_FORMATS
    ]
    for graph in sorted(version.graphs):
        named = ox.BlankNode("g" + hashlib.sha1(graph.encode()).hexdigest()[:16])
        triples += [
            ox.Triple(dataset, sd("namedGraph"), named),
            ox.Triple(named, a, sd("NamedGraph")),
            ox.Triple(named, sd("name"), ox.NamedNode(graph)),
        ]
    prefixes = {
        "sd": SD,
        "dct": "http://purl.org/dc/terms/",
        "formats": "http://www.w3.org/ns/formats/",
    }
    return written(ox.serialize(triples, format=SD_TYPES[media], prefixes=prefixes)), media


@cache
def examples() -> tuple[tuple[str, str, str], ...]:
    """(file name, one-line question, query) for each catalogue query."""
    found = []
    for path in sorted(data_dir("queries").glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        first = text.splitlines()[0].lstrip("# ").strip() if text.strip() else path.stem
        found.append((path.stem, first, text))
    return tuple(found)
