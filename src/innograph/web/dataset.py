"""The dataset described in VoID and DCAT, at ``/dataset`` (and ``/.well-known/void``): what it
is, its licence and version, its SPARQL endpoint, URI space and dumps with their SHA-256, and the
counts taken when the version was built. The dumps of every version still kept are served at
``/dumps/<version>/<file>`` (immutable) and the served version's at ``/dumps/latest/<file>``."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, send_file

from ..query.served import VersionFacts, dump_file
from ..vocab import IG, PREFIXES
from .rendering import DOCUMENTS, page_links
from .resources import NotFound, absolute, negotiated, public
from .runtime import current as runtime

blueprint = Blueprint("dataset", __name__)

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
SPDX = "http://spdx.org/rdf/terms#"
IANA = "https://www.iana.org/assignments/media-types/"
XSD = "http://www.w3.org/2001/XMLSchema#"
DCMITYPE = "http://purl.org/dc/dcmitype/"
FOAF = "http://xmlns.com/foaf/0.1/"
SOURCE_SITE = "https://cities-innovation-oecd.com/"  # the profiles' own site
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


@dataclass(frozen=True)
class Statistics:
    counts: dict[str, int]  # VoID's name -> count
    by_class: list[tuple[str, int]]  # class -> entities
    by_property: list[tuple[str, int]]  # property -> statements


def statistics(version: VersionFacts) -> Statistics | None:
    """The counts kept with the version (None for a version built before they were kept)."""
    kept = version.statistics
    if kept is None:
        return None
    return Statistics(
        dict(kept["totals"]),
        [(cls, n) for cls, n in kept["classes"]],
        [(prop, n) for prop, n in kept["properties"]],
    )


HOLDS = {  # what each dump holds, for the page
    "innograph.nq.gz": "every named graph, as N-Quads",
    "innograph.trig.gz": "every named graph, as TriG",
    "innograph.ttl.gz": "the merged graph (the default graph), as Turtle",
}


def dump_url(version: VersionFacts, name: str) -> str:
    """Where a version's file stays while the version is kept."""
    return public(f"/dumps/{version.id}/{name}")


def doi_ready(it: ox.NamedNode, version: VersionFacts, built: str) -> list[ox.Triple]:
    """What DataCite asks of a dataset before it mints a DOI (identifier, creator, title,
    publisher, publication year, resource type), with the version and a citation: a DOI, once
    minted, is one more ``dct:identifier``."""
    maker = ox.BlankNode("creator")
    year = built[:4]
    citation = f"innograph contributors ({year}). {TITLE}. Store version {version.id}. {it.value}"
    return [
        ox.Triple(it, ox.NamedNode(f"{DCT}identifier"), ox.Literal(it.value)),
        ox.Triple(it, ox.NamedNode(f"{DCT}type"), ox.NamedNode(f"{DCMITYPE}Dataset")),
        ox.Triple(it, ox.NamedNode(f"{DCAT}version"), ox.Literal(version.id)),
        ox.Triple(
            it,
            ox.NamedNode(f"{DCT}issued"),
            ox.Literal(built, datatype=ox.NamedNode(f"{XSD}dateTime")),
        ),
        ox.Triple(it, ox.NamedNode(f"{DCT}creator"), maker),
        ox.Triple(it, ox.NamedNode(f"{DCT}publisher"), maker),
        ox.Triple(maker, RDF_TYPE, ox.NamedNode(f"{FOAF}Organization")),
        ox.Triple(maker, ox.NamedNode(f"{FOAF}name"), ox.Literal("innograph contributors")),
        ox.Triple(it, ox.NamedNode(f"{DCT}source"), ox.NamedNode(SOURCE_SITE)),
        ox.Triple(it, ox.NamedNode(f"{DCT}bibliographicCitation"), ox.Literal(citation)),
    ]


def description(version: VersionFacts, counted: Statistics | None) -> list[ox.Triple]:
    """The VoID / DCAT triples (partitions, distributions and checksums are blank nodes: they
    exist only in this document)."""
    settings = runtime().settings
    it = ox.NamedNode(dataset_iri(version))

    def void(name: str) -> ox.NamedNode:
        return ox.NamedNode(f"{VOID}{name}")

    def dcat(name: str) -> ox.NamedNode:
        return ox.NamedNode(f"{DCAT}{name}")

    def number(value: int, datatype: str = "integer") -> ox.Literal:
        return ox.Literal(str(value), datatype=ox.NamedNode(f"{XSD}{datatype}"))

    built = parsedate_to_datetime(version.last_modified).isoformat().replace("+00:00", "Z")
    date_time = ox.NamedNode(f"{XSD}dateTime")
    triples = [
        ox.Triple(it, RDF_TYPE, void("Dataset")),
        ox.Triple(it, RDF_TYPE, dcat("Dataset")),
        ox.Triple(it, ox.NamedNode(f"{DCT}title"), ox.Literal(TITLE, language="en")),
        ox.Triple(it, ox.NamedNode(f"{DCT}description"), ox.Literal(DESCRIPTION, language="en")),
        ox.Triple(it, ox.NamedNode(f"{DCT}license"), ox.NamedNode(settings.license)),
        ox.Triple(it, ox.NamedNode(f"{DCT}hasVersion"), ox.Literal(version.id)),
        ox.Triple(it, ox.NamedNode(f"{DCT}modified"), ox.Literal(built, datatype=date_time)),
        ox.Triple(it, void("sparqlEndpoint"), ox.NamedNode(absolute("/sparql"))),
        ox.Triple(it, void("uriSpace"), ox.Literal(f"{version.base_iri}id/")),
        ox.Triple(it, void("vocabulary"), ox.NamedNode(str(IG))),
        *doi_ready(it, version, built),
    ]
    for index, download in enumerate(version.dumps):
        url, part, sum_ = (
            ox.NamedNode(absolute(f"/dumps/{version.id}/{download.name}")),
            ox.BlankNode(f"dump{index}"),
            ox.BlankNode(f"sum{index}"),
        )
        if download.media_type == "application/n-quads":  # VoID: several dumps are parts of one
            triples.append(ox.Triple(it, void("dataDump"), url))
        triples += [
            ox.Triple(it, dcat("distribution"), part),
            ox.Triple(part, RDF_TYPE, dcat("Distribution")),
            ox.Triple(part, ox.NamedNode(f"{DCT}title"), ox.Literal(download.name)),
            ox.Triple(part, dcat("downloadURL"), url),
            ox.Triple(part, dcat("mediaType"), ox.NamedNode(IANA + download.media_type)),
            ox.Triple(part, dcat("compressFormat"), ox.NamedNode(IANA + "application/gzip")),
            ox.Triple(part, dcat("byteSize"), number(download.size, "nonNegativeInteger")),
            ox.Triple(part, ox.NamedNode(f"{SPDX}checksum"), sum_),
            ox.Triple(sum_, RDF_TYPE, ox.NamedNode(f"{SPDX}Checksum")),
            ox.Triple(
                sum_,
                ox.NamedNode(f"{SPDX}algorithm"),
                ox.NamedNode(f"{SPDX}checksumAlgorithm_sha256"),
            ),
            ox.Triple(
                sum_,
                ox.NamedNode(f"{SPDX}checksumValue"),
                ox.Literal(download.sha256, datatype=ox.NamedNode(f"{XSD}hexBinary")),
            ),
        ]
    if counted is None:
        return triples
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
            holds=HOLDS,
            dump_url=lambda name: dump_url(version, name),
            iri=dataset_iri(version),
            title=TITLE,
            description=DESCRIPTION,
            link=page_links(version.base_iri),
            documents=DOCUMENTS,
            license=runtime().settings.license,
        )
        return Response(body, content_type=f"{media}; charset=utf-8", headers=headers)
    prefixes = {**PREFIXES, "void": VOID, "dcat": DCAT, "spdx": SPDX}
    data = ox.serialize(description(version, counted), format=FORMATS[fmt], prefixes=prefixes)
    return Response(data, content_type=f"{media}; charset=utf-8", headers=headers)


@blueprint.route("/dumps/latest/<name>")
def latest_dump(name: str) -> Response:
    """The served version's dump: a redirect to its lasting address (clients follow it; a
    cache keeps the file under the version's name, never under this one)."""
    version = runtime().version()
    if dump_file(runtime().settings.store, version.id, name) is None:
        raise NotFound(f"no dump named {name!r}; see /dataset for the dumps")
    headers = {"Location": public(f"/dumps/{version.id}/{name}"), "Cache-Control": "no-cache"}
    return Response(status=302, headers=headers)


@blueprint.route("/dumps/<version_id>/<name>")
def versioned_dump(version_id: str, name: str) -> Response:
    """A kept version's dump, as it was built: the same bytes for as long as it is kept."""
    found = dump_file(runtime().settings.store, version_id, name)
    if found is None:
        raise NotFound(f"no dump {name!r} of a version {version_id!r} here; see /dataset")
    gzipped = found.path.suffix == ".gz"
    media = "application/gzip" if gzipped else f"{found.media_type}; charset=us-ascii"
    answer = send_file(found.path, mimetype=media, etag=found.sha256, conditional=True)
    answer.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    digest = base64.b64encode(bytes.fromhex(found.sha256)).decode()
    answer.headers["Repr-Digest"] = f"sha-256=:{digest}:"  # RFC 9530: the file's checksum
    return answer
