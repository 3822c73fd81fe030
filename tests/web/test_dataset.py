"""The dataset's VoID / DCAT description: it parses, and its counts are the store's."""

from __future__ import annotations

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
        live_server, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c FILTER isIRI(?s) }"
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
