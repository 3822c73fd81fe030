"""The dataset's VoID / DCAT description: it parses, and its counts are the store's."""

from __future__ import annotations

import gzip
import hashlib
import json
import urllib.parse

import pytest
import rdflib
from rdflib.namespace import Namespace
from test_resources import request

from conftest import LiveServer

VOID = Namespace("http://rdfs.org/ns/void#")
DATASET = rdflib.URIRef("https://w3id.org/innograph/dataset")


def count(server: LiveServer, query: str) -> int:
    url = "/sparql?" + urllib.parse.urlencode({"query": query})
    bindings = json.loads(request(server, url, "application/json")[2])["results"]["bindings"]
    return int(next(iter(bindings[0].values()))["value"])


@pytest.fixture(scope="module")
def void(live_server: LiveServer) -> rdflib.Graph:
    status, headers, _ = request(live_server, "/.well-known/void", "text/turtle")
    assert status == 303
    location = urllib.parse.urlsplit(headers["location"]).path
    assert location == "/dataset"
    status, headers, body = request(live_server, location, "text/turtle")
    assert status == 200
    assert headers["content-type"].startswith("text/turtle")
    assert "Accept" in headers["vary"]
    return rdflib.Graph().parse(data=body, format="turtle")


def test_the_counts_are_the_stores(live_server: LiveServer, void: rdflib.Graph) -> None:
    stated = {name: int(void.value(DATASET, VOID[name])) for name in ("triples", "entities")}
    assert stated["triples"] == count(live_server, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert stated["entities"] == count(
        live_server,
        "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c"
        " FILTER STRSTARTS(STR(?s), 'https://w3id.org/innograph/id/') }",
    )
    city = rdflib.URIRef("https://w3id.org/innograph/def/City")
    part = next(
        p for p in void.objects(DATASET, VOID.classPartition) if (p, VOID["class"], city) in void
    )
    assert int(void.value(part, VOID.entities)) == 1
    partitions = list(void.objects(DATASET, VOID.propertyPartition))
    assert sum(int(void.value(p, VOID.triples)) for p in partitions) == stated["triples"]


def test_the_description_names_the_endpoint_licence_and_version(
    live_server: LiveServer, void: rdflib.Graph
) -> None:
    assert str(void.value(DATASET, VOID.sparqlEndpoint)) == live_server.sparql
    assert void.value(DATASET, rdflib.DCTERMS.license) is not None
    assert str(void.value(DATASET, VOID.uriSpace)) == "https://w3id.org/innograph/id/"
    modified = void.value(DATASET, rdflib.DCTERMS.modified)
    assert modified.datatype == rdflib.XSD.dateTime


def test_the_description_holds_what_a_doi_needs(
    live_server: LiveServer, void: rdflib.Graph
) -> None:
    """DataCite's mandatory properties: identifier, creator, title, publisher, publication year
    and resource type; and the version, to cite the one used."""
    terms = rdflib.DCTERMS
    version = (live_server.store / "current").resolve().name
    assert str(void.value(DATASET, terms.identifier)) == str(DATASET)
    assert void.value(DATASET, terms.type) == rdflib.URIRef("http://purl.org/dc/dcmitype/Dataset")
    assert void.value(DATASET, terms.title) is not None
    for role in (terms.creator, terms.publisher):
        maker = void.value(DATASET, role)
        assert str(void.value(maker, rdflib.FOAF.name)) == "innograph contributors"
    issued = void.value(DATASET, terms.issued)
    assert issued.datatype == rdflib.XSD.dateTime
    assert str(void.value(DATASET, rdflib.URIRef("http://www.w3.org/ns/dcat#version"))) == version
    citation = str(void.value(DATASET, terms.bibliographicCitation))
    assert f"({str(issued)[:4]})" in citation
    assert version in citation


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")  # rdflib's
@pytest.mark.parametrize(
    ("suffix", "syntax"), [("jsonld", "json-ld"), ("nt", "nt"), ("rdf", "xml")]
)
def test_every_format_holds_as_many_statements(
    live_server: LiveServer, void: rdflib.Graph, suffix: str, syntax: str
) -> None:
    body = request(live_server, f"/dataset.{suffix}")[2]
    other = rdflib.Graph().parse(data=body, format=syntax)
    assert len(other) == len(void)


def test_the_page_shows_the_counts(live_server: LiveServer, void: rdflib.Graph) -> None:
    status, _, body = request(live_server, "/dataset", "text/html")
    assert status == 200
    assert f"{int(void.value(DATASET, VOID.triples)):,} in the merged graph" in body.decode()


# --- dumps ------------------------------------------------------------------------------------

SPDX = Namespace("http://spdx.org/rdf/terms#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")


def distributions(void: rdflib.Graph) -> dict[str, tuple[str, str, int]]:
    """Download path -> (media type inside, SHA-256, size), as the description states them."""
    found = {}
    for part in void.objects(DATASET, DCAT.distribution):
        url = str(void.value(part, DCAT.downloadURL))
        digest = str(void.value(void.value(part, SPDX.checksum), SPDX.checksumValue))
        media = str(void.value(part, DCAT.mediaType)).rsplit("media-types/", 1)[1]
        found[urllib.parse.urlsplit(url).path] = (
            media,
            digest,
            int(void.value(part, DCAT.byteSize)),
        )
    return found


@pytest.mark.filterwarnings("ignore:Dataset.default_context is deprecated:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")  # rdflib
def test_every_dump_downloads_and_its_checksum_verifies(
    live_server: LiveServer, void: rdflib.Graph
) -> None:
    stated = distributions(void)
    assert sorted(media for media, _, _ in stated.values()) == [
        "application/n-quads",
        "application/trig",
        "text/turtle",
    ]
    nquads = [path for path, (media, _, _) in stated.items() if media == "application/n-quads"]
    # VoID reads several dumps as parts of one dataset: only the whole N-Quads one is named
    assert {str(o) for o in void.objects(DATASET, VOID.dataDump)} == {live_server.url + nquads[0]}
    counts: dict[str, int] = {}
    merged = -1
    for path, (media, digest, size) in stated.items():
        status, headers, body = request(live_server, path)
        assert status == 200, path
        assert headers["content-type"] == "application/gzip"
        assert hashlib.sha256(body).hexdigest() == digest
        assert len(body) == size
        assert "immutable" in headers["cache-control"]
        assert request(live_server, path, **{"If-None-Match": headers["etag"]})[0] == 304
        fmt = {"application/n-quads": "nquads", "application/trig": "trig"}.get(media, "turtle")
        text = gzip.decompress(body)
        if fmt == "turtle":
            merged = len(rdflib.Graph().parse(data=text, format=fmt))
        else:
            counts[fmt] = len(list(rdflib.Dataset().parse(data=text, format=fmt).quads()))
    assert merged == int(void.value(DATASET, VOID.triples))  # the merged graph VoID counts
    assert counts["nquads"] == counts["trig"] >= merged


def test_latest_is_the_served_versions_dump_and_sums_verify(
    live_server: LiveServer, void: rdflib.Graph
) -> None:
    version = str(void.value(DATASET, rdflib.DCTERMS.hasVersion))
    status, headers, _ = request(live_server, "/dumps/latest/innograph.nq.gz", method="HEAD")
    assert status == 302
    assert headers["location"] == f"/dumps/{version}/innograph.nq.gz"
    status, headers, sums = request(live_server, f"/dumps/{version}/SHA256SUMS")
    assert status == 200
    assert headers["content-type"].startswith("text/plain")
    for line in sums.decode().splitlines():
        digest, name = line.split("  ")
        body = request(live_server, f"/dumps/{version}/{name}")[2]
        assert hashlib.sha256(body).hexdigest() == digest, name


@pytest.mark.parametrize(
    "path",
    [
        "/dumps/latest/innograph.tar.gz",
        "/dumps/20990101T000000.000000Z-1/innograph.nq.gz",
        "/dumps/latest/manifest.json",
        "/dumps/..%2Fmanifest.json/innograph.nq.gz",
        "/dumps/latest/..%2F..%2Fmanifest.json",
    ],
)
def test_no_other_file_is_served_from_the_store(live_server: LiveServer, path: str) -> None:
    status, _, body = request(live_server, path)
    assert status == 404
    assert b"fingerprint" not in body  # what the manifest would show
    assert b"not here" in body or b"see /dataset" in body


def test_the_page_lists_the_dumps_with_their_checksums(
    live_server: LiveServer, void: rdflib.Graph
) -> None:
    page = request(live_server, "/dataset", "text/html")[2].decode()
    for path, (_, digest, _) in distributions(void).items():
        assert f'href="{path}"' in page
        assert digest in page
