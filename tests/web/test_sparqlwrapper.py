"""SPARQLWrapper, a widely used Python client, against the live endpoint over real HTTP.

Each answer goes through ``convert()`` (or is parsed with rdflib) and must hold the seed city.
SPARQLWrapper's default (``onlyConneg=False``) also sends ``format=``, ``output=`` and
``results=`` parameters; "conneg" cases switch that off and rely on the Accept header alone.
"""

from __future__ import annotations

import csv
import io
import urllib.error
from typing import Any
from xml.dom.minidom import Document

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF
from SPARQLWrapper import (
    CSV,
    GET,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TSV,
    TURTLE,
    URLENCODED,
    XML,
    SPARQLWrapper,
)
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed
from webcheck import (
    CITY,
    CITY_ASK,
    CITY_CONSTRUCT,
    CITY_DESCRIBE,
    CITY_GRAPH,
    CITY_LABEL,
    CITY_SELECT,
    IG,
)

from conftest import LiveServer

# SPARQLWrapper's RDF/XML and JSON-LD converters build an rdflib ConjunctiveGraph, which rdflib 7
# deprecates: a warning of the client library, not of the server.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")

CITY_TRIPLE = (URIRef(CITY), RDF.type, URIRef(f"{IG}City"))
DUPLICATE_FORMAT = (
    "server bug: SPARQLWrapper's default GET for {fmt} sends format={fmt}&format={media}"
    " (output= and results= alike), and the server answers 400 'format: given 2 times; give it"
    " once' instead of the {fmt} answer{extra}"
)
MEDIA = {
    TSV: "text/tab-separated-values",
    JSONLD: "application/ld+json",
    RDFXML: "application/rdf+xml",
}
EXTRA = {RDFXML: " (and format=rdf+xml alone is refused too: not a format name it knows)"}


def client(server: LiveServer, query: str, fmt: str, *, conneg_only: bool = False) -> SPARQLWrapper:
    wrapper = SPARQLWrapper(server.sparql)
    wrapper.setQuery(query)
    wrapper.setReturnFormat(fmt)
    wrapper.setOnlyConneg(conneg_only)
    wrapper.setTimeout(30)
    return wrapper


def mode(fmt: str, conneg_only: bool) -> Any:
    """A (format, conneg_only) case: SPARQLWrapper's default sends format= twice (a name and a
    media type), which the server accepts; conneg-only sends Accept alone."""
    return pytest.param(fmt, conneg_only, id=f"{fmt}-{'conneg' if conneg_only else 'default'}")


def city_rows_from(converted: Any, fmt: str) -> list[tuple[str, str]]:
    """(city IRI, label) pairs from SPARQLWrapper's converted SELECT answer."""
    if fmt == JSON:
        assert converted["head"]["vars"] == ["city", "label"]
        return [(b["city"]["value"], b["label"]["value"]) for b in converted["results"]["bindings"]]
    if fmt == XML:
        assert isinstance(converted, Document)
        rows = []
        for result in converted.getElementsByTagName("result"):
            values = {}
            for binding in result.getElementsByTagName("binding"):
                node = binding.firstChild
                while node is not None and node.nodeType != node.ELEMENT_NODE:
                    node = node.nextSibling
                assert node is not None
                values[binding.getAttribute("name")] = node.firstChild.data  # type: ignore[union-attr]
            rows.append((values["city"], values["label"]))
        return rows
    assert isinstance(converted, bytes)
    text = converted.decode("utf-8")
    if fmt == CSV:
        table = list(csv.reader(io.StringIO(text)))
        assert table[0] == ["city", "label"]
        return [(row[0], row[1]) for row in table[1:]]
    lines = text.splitlines()
    assert lines[0] == "?city\t?label"
    rows = []
    for line in lines[1:]:
        iri, label = line.split("\t")
        assert iri.startswith("<")
        assert iri.endswith(">")
        assert label.startswith('"')
        assert label.endswith('"')
        rows.append((iri[1:-1], label[1:-1]))
    return rows


@pytest.mark.parametrize(
    ("fmt", "conneg_only"),
    [mode(fmt, conneg) for fmt in (JSON, XML, CSV, TSV) for conneg in (False, True)],
)
def test_select_in_each_results_format(
    live_server: LiveServer, fmt: str, conneg_only: bool
) -> None:
    result = client(live_server, CITY_SELECT, fmt, conneg_only=conneg_only).query()
    assert result.response.status == 200
    rows = city_rows_from(result.convert(), fmt)
    assert rows == [(CITY, CITY_LABEL)]


@pytest.mark.parametrize("conneg_only", [False, True])
def test_ask_in_json(live_server: LiveServer, conneg_only: bool) -> None:
    converted = client(live_server, CITY_ASK, JSON, conneg_only=conneg_only).queryAndConvert()
    assert converted == {"head": {}, "boolean": True}
    missing = f"ASK {{ <{CITY}> a <{IG}NoSuchClass> }}"
    assert client(live_server, missing, JSON).queryAndConvert()["boolean"] is False  # type: ignore[index]


@pytest.mark.parametrize("conneg_only", [False, True])
def test_ask_in_xml(live_server: LiveServer, conneg_only: bool) -> None:
    converted = client(live_server, CITY_ASK, XML, conneg_only=conneg_only).queryAndConvert()
    assert isinstance(converted, Document)
    [boolean] = converted.getElementsByTagName("boolean")
    assert boolean.firstChild.data == "true"  # type: ignore[union-attr]


def parsed(converted: Any, fmt: str) -> Graph:
    """The graph of a CONSTRUCT/DESCRIBE answer: convert() gives a Graph or the raw bytes."""
    if isinstance(converted, Graph):
        return converted
    assert isinstance(converted, bytes)
    return Graph().parse(data=converted, format="turtle" if fmt in (TURTLE, N3) else "nt")


GRAPH_MEDIA = {
    TURTLE: "text/turtle",
    JSONLD: "application/ld+json",
    RDFXML: "application/rdf+xml",
    XML: "application/rdf+xml",
}


@pytest.mark.parametrize("query", [CITY_CONSTRUCT, CITY_DESCRIBE], ids=["construct", "describe"])
@pytest.mark.parametrize(
    ("fmt", "conneg_only"),
    [mode(fmt, conneg) for fmt in (TURTLE, JSONLD, RDFXML, XML) for conneg in (False, True)],
)
def test_graph_answer_in_each_rdf_format(
    live_server: LiveServer, query: str, fmt: str, conneg_only: bool
) -> None:
    result = client(live_server, query, fmt, conneg_only=conneg_only).query()
    assert result.info()["content-type"].split(";")[0] == GRAPH_MEDIA[fmt]
    graph = parsed(result.convert(), fmt)
    assert CITY_TRIPLE in graph
    if query == CITY_DESCRIBE:
        assert (URIRef(CITY), URIRef("http://www.w3.org/2000/01/rdf-schema#label"), None) in graph


@pytest.mark.parametrize("query", [CITY_CONSTRUCT, CITY_DESCRIBE], ids=["construct", "describe"])
def test_graph_answer_in_ntriples(live_server: LiveServer, query: str) -> None:
    """SPARQLWrapper has no N-Triples format name: ask for it by Accept (conneg only)."""
    wrapper = client(live_server, query, N3, conneg_only=True)
    wrapper.addCustomHttpHeader("Accept", "application/n-triples")
    result = wrapper.query()
    assert result.info()["content-type"].split(";")[0] == "application/n-triples"
    body = result.convert()
    assert isinstance(body, bytes)
    assert f"<{CITY}> <{RDF.type}> <{IG}City> .".encode() in body.splitlines()
    assert CITY_TRIPLE in Graph().parse(data=body, format="nt")


METHODS = {
    "get": (GET, None, "GET", None),
    "post": (POST, None, "POST", "application/x-www-form-urlencoded"),
    "post-urlencoded": (POST, URLENCODED, "POST", "application/x-www-form-urlencoded"),
    "post-directly": (POST, POSTDIRECTLY, "POST", "application/sparql-query"),
}


@pytest.mark.parametrize("how", list(METHODS))
def test_get_and_post_forms_give_the_same_answers(live_server: LiveServer, how: str) -> None:
    method, request_method, verb, content_type = METHODS[how]
    answers = []
    for query, fmt in ((CITY_SELECT, JSON), (CITY_CONSTRUCT, TURTLE)):
        wrapper = client(live_server, query, fmt)
        wrapper.setMethod(method)
        if request_method is not None:
            wrapper.setRequestMethod(request_method)
        request = wrapper._createRequest()  # what is sent: the verb and body type
        assert request.get_method() == verb
        assert request.get_header("Content-type") == content_type
        answers.append(wrapper.queryAndConvert())
    select, construct = answers
    assert city_rows_from(select, JSON) == [(CITY, CITY_LABEL)]
    assert CITY_TRIPLE in parsed(construct, TURTLE)


@pytest.mark.parametrize(
    "where",
    [
        "{ ?city a ig:City ; rdfs:label ?label }",
        f"{{ GRAPH <{CITY_GRAPH}> {{ ?city a ig:City ; rdfs:label ?label }} }}",
    ],
    ids=["default-graph", "named-graph"],
)
def test_default_graph_is_the_union_of_the_named_graphs(
    live_server: LiveServer, where: str
) -> None:
    query = CITY_SELECT.split("WHERE")[0] + "WHERE " + where
    converted = client(live_server, query, JSON).queryAndConvert()
    assert city_rows_from(converted, JSON) == [(CITY, CITY_LABEL)]


def test_graph_variable_names_the_city_graph(live_server: LiveServer) -> None:
    query = f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{CITY}> a <{IG}City> }} }}"
    converted = client(live_server, query, JSON).queryAndConvert()
    assert [b["g"]["value"] for b in converted["results"]["bindings"]] == [CITY_GRAPH]  # type: ignore[index]


def test_a_bad_query_is_reported_as_bad_formed(live_server: LiveServer) -> None:
    with pytest.raises(QueryBadFormed, match="expected a SPARQL query"):
        client(live_server, "SELECT * WHERE { ?s ?p ", JSON).query()


def test_an_update_through_the_client_is_forbidden(live_server: LiveServer) -> None:
    wrapper = SPARQLWrapper(live_server.sparql)
    wrapper.setQuery(f"INSERT DATA {{ <{CITY}> <{IG}note> 'x' }}")
    wrapper.setMethod(POST)
    with pytest.raises(urllib.error.HTTPError) as caught:
        wrapper.query()
    with caught.value:
        assert caught.value.code == 403
        assert b"read-only" in caught.value.read()
