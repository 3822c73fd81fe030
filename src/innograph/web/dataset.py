"""The dataset described in VoID and DCAT, at ``/dataset`` (and ``/.well-known/void``): what it
is, its licence and version, its SPARQL endpoint and URI space, and statistics counted on the
served version by the query workers (so they equal the store's, and are cached per version)."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import pyoxigraph as ox
from flask import Blueprint, Response, render_template

from ..query.resources import CLASS_PARTITIONS, ENTITIES, PROPERTY_PARTITIONS, STATISTICS
from ..query.served import VersionFacts
from ..vocab import IG, PREFIXES
from .resources import DOCUMENTS, absolute, negotiated, page_links, public, rows
from .runtime import current as runtime

blueprint = Blueprint("dataset", __name__)

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
FORMATS = {
    "ttl": ox.RdfFormat.TURTLE,
    "jsonld": ox.RdfFormat.JSON_LD,
    "nt": ox.RdfFormat.N_TRIPLES,
    "rdf": ox.RdfFormat.RDF_XML,
}
TITLE = "innograph: how city governments build their capacity to innovate"
DESCRIPTION = (
    "City profiles of the OECD / Bloomberg Philanthropies Survey on Innovation Capacity in Cities"
    " (2018 and 2020), parsed from their page text into RDF; every fact keeps the file and line"
    " it came from."
)


def dataset_iri(version: VersionFacts) -> str:
    return f"{version.base_iri}dataset"


COUNTS = ("triples", "entities", "distinctSubjects", "distinctObjects", "properties", "classes")


@dataclass(frozen=True)
class Statistics:
    counts: dict[str, int]  # VoID's name -> count
    by_class: list[tuple[str, int]]  # class -> entities
    by_property: list[tuple[str, int]]  # property -> statements


def statistics(version: VersionFacts) -> Statistics:
    """The counts VoID states, from the served version."""
    totals = {**rows(version, STATISTICS)[0], **rows(version, ENTITIES)[0]}
    return Statistics(
        {name: int(totals[name]) for name in COUNTS},
        [(r["class"], int(r["entities"])) for r in rows(version, CLASS_PARTITIONS)],
        [(r["property"], int(r["triples"])) for r in rows(version, PROPERTY_PARTITIONS)],
    )


def description(version: VersionFacts, counted: Statistics) -> list[ox.Triple]:
    """The VoID / DCAT triples (partitions are blank nodes: they exist only in this document)."""
    settings = runtime().settings
    it = ox.NamedNode(dataset_iri(version))

    def void(name: str) -> ox.NamedNode:
        return ox.NamedNode(f"{VOID}{name}")

    def number(value: int) -> ox.Literal:
        return ox.Literal(str(value), datatype=ox.NamedNode(f"{XSD}integer"))

    built = parsedate_to_datetime(version.last_modified).isoformat().replace("+00:00", "Z")
    date_time = ox.NamedNode(f"{XSD}dateTime")
    triples = [
        ox.Triple(it, RDF_TYPE, void("Dataset")),
        ox.Triple(it, RDF_TYPE, ox.NamedNode(f"{DCAT}Dataset")),
        ox.Triple(it, ox.NamedNode(f"{DCT}title"), ox.Literal(TITLE, language="en")),
        ox.Triple(it, ox.NamedNode(f"{DCT}description"), ox.Literal(DESCRIPTION, language="en")),
        ox.Triple(it, ox.NamedNode(f"{DCT}license"), ox.NamedNode(settings.license)),
        ox.Triple(it, ox.NamedNode(f"{DCT}hasVersion"), ox.Literal(version.id)),
        ox.Triple(it, ox.NamedNode(f"{DCT}modified"), ox.Literal(built, datatype=date_time)),
        ox.Triple(it, void("sparqlEndpoint"), ox.NamedNode(absolute("/sparql"))),
        ox.Triple(it, void("uriSpace"), ox.Literal(f"{version.base_iri}id/")),
        ox.Triple(it, void("vocabulary"), ox.NamedNode(str(IG))),
    ]
    triples += [ox.Triple(it, void(name), number(n)) for name, n in counted.counts.items()]
    for index, (cls, count) in enumerate(counted.by_class):
        part = ox.BlankNode(f"class{index}")
        triples += [
            ox.Triple(it, void("classPartition"), part),
            ox.Triple(part, void("class"), ox.NamedNode(cls)),
            ox.Triple(part, void("entities"), number(count)),
        ]
    for index, (prop, count) in enumerate(counted.by_property):
        part = ox.BlankNode(f"property{index}")
        triples += [
            ox.Triple(it, void("propertyPartition"), part),
            ox.Triple(part, void("property"), ox.NamedNode(prop)),
            ox.Triple(part, void("triples"), number(count)),
        ]
    return triples


@blueprint.route("/.well-known/void")
def well_known() -> Response:
    """RFC 8615's place for VoID (the VoID note, section 7): the dataset's description."""
    return Response(status=303, headers={"Location": public("/dataset")})


@blueprint.route("/dataset")
@blueprint.route("/dataset.<any(html, ttl, jsonld, nt, rdf):suffix>")
def dataset(suffix: str | None = None) -> Response:
    version = runtime().version()
    fmt = suffix or negotiated()
    counted = statistics(version)
    media, _ = DOCUMENTS[fmt]
    headers = {
        "Content-Location": public(f"/dataset.{fmt}"),
        "Last-Modified": version.last_modified,
        "Link": ", ".join(
            [f'</dataset.{s}>; rel="alternate"; type="{m}"' for s, (m, _) in DOCUMENTS.items()]
            + [f'<{runtime().settings.license}>; rel="license"']
        ),
    }
    if fmt == "html":
        body = render_template(
            "dataset.html",
            version=version,
            counted=counted,
            iri=dataset_iri(version),
            title=TITLE,
            description=DESCRIPTION,
            link=page_links(version.base_iri),
            documents=DOCUMENTS,
            license=runtime().settings.license,
        )
        return Response(body, content_type=f"{media}; charset=utf-8", headers=headers)
    prefixes = {**PREFIXES, "void": VOID, "dcat": DCAT}
    data = ox.serialize(description(version, counted), format=FORMATS[fmt], prefixes=prefixes)
    return Response(data, content_type=f"{media}; charset=utf-8", headers=headers)
