"""The pages as a reader follows them: the home page, and a crawler that starts there and must
reach every IRI the build mints (the seed, the fragments, the flattened renderings), with no
broken link and a title on every page."""

from __future__ import annotations

import http.client
import json
import re
import urllib.parse
from collections import deque
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_resources import request as fetch

from conftest import LiveServer, start_server, stop_server

DATA = "https://w3id.org/innograph/"


class Links(HTMLParser):
    """The hrefs and the title of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [value for name, value in attrs if name == "href" and value]
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False if tag == "title" else self._in_title

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def parse(body: bytes) -> Links:
    links = Links()
    links.feed(body.decode("utf-8"))
    return links


def test_the_home_page_says_what_is_served_and_leads_everywhere(live_server: LiveServer) -> None:
    status, headers, body = fetch(live_server, "/", "text/html")
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    page = parse(body)
    assert page.title.startswith("innograph")
    text = body.decode()
    assert "This server holds 1 profile" in text
    assert re.search(r"store version <code>\d{8}T\d{6}\.\d+Z-\d+</code>", text)
    assert "/id/city/liverpool-city-region.html" in page.hrefs
    assert {"/sparql", "/def/index.html", "/dataset", "/dataset#dumps"} <= set(page.hrefs)
    schemes = [h for h in page.hrefs if h.startswith("/vocab/")]
    assert len(schemes) == 14  # one per file in ontology/vocabularies/


def minted(server: LiveServer) -> set[str]:
    """Every IRI of ours that the served graph says something about."""
    query = (
        "SELECT DISTINCT ?s WHERE { ?s ?p ?o"
        f" FILTER (isIRI(?s) && STRSTARTS(STR(?s), '{DATA}')) }}"
    )
    _, _, body = fetch(
        server, "/sparql?" + urllib.parse.urlencode({"query": query}), "application/json"
    )
    return {row["s"]["value"] for row in json.loads(body)["results"]["bindings"]}


@pytest.fixture(scope="module")
def flat_server(flat_store: Path) -> Iterator[LiveServer]:
    server = start_server(flat_store)
    yield server
    stop_server(server)


@pytest.mark.parametrize("data", ["seed", "seed and headed fragments", "flattened renderings"])
def test_a_crawler_from_the_home_page_reaches_every_minted_iri(
    request: pytest.FixtureRequest, data: str
) -> None:
    fixture = {"seed": "live_server", "seed and headed fragments": "fragments_server"}
    live_server: LiveServer = request.getfixturevalue(fixture.get(data, "flat_server"))
    parts = urllib.parse.urlsplit(live_server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    seen: set[str] = {"/"}
    queue = deque(["/"])
    broken: list[str] = []
    untitled: list[str] = []
    while queue:
        path = queue.popleft()
        connection.request("GET", path, headers={"Accept": "text/html"})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            broken.append(f"{path}: {response.status}")
            continue
        page = parse(body)
        if not page.title.strip():
            untitled.append(path)
        for href in page.hrefs:
            target = urllib.parse.urljoin(path, href)
            if not target.startswith(("/id/", "/graph/", "/def/", "/vocab/")):
                continue  # the SPARQL page and links to other sites
            if urllib.parse.urlsplit(target).path.endswith((".ttl", ".jsonld", ".nt", ".rdf")):
                continue  # the same page as data: test_resources checks those
            if target not in seen:
                seen.add(target)
                queue.append(target)
    connection.close()
    assert broken == []
    assert untitled == []
    reached = {urllib.parse.urlsplit(p).path.removesuffix(".html") for p in seen}
    missing = sorted(
        iri for iri in minted(live_server) if "/" + iri.removeprefix(DATA) not in reached
    )
    missing = [iri for iri in missing if iri != f"{DATA}def/"]  # reached as /def/index
    assert missing == [], f"{len(missing)} minted IRIs no page links to, e.g. {missing[:5]}"


def count(server: LiveServer, query: str) -> int:
    prefixes = (
        "PREFIX ig: <https://w3id.org/innograph/def/>"
        " PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
    )
    url = "/sparql?" + urllib.parse.urlencode({"query": prefixes + query})
    _, _, body = fetch(server, url, "application/json")
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


def rows_of(body: bytes) -> int:
    return body.decode().split("<tbody>", 1)[1].split("</tbody>", 1)[0].count("<tr>")


def test_the_cities_index_filters_by_wave_and_country(fragments_server: LiveServer) -> None:
    every = count(fragments_server, "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?p ig:city ?c }")
    status, _, body = fetch(fragments_server, "/cities")
    assert status == 200
    assert rows_of(body) == every > 15
    in_2018 = count(
        fragments_server,
        "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE"
        " { ?p ig:city ?c ; ig:surveyWave/skos:notation '2018' }",
    )
    assert rows_of(fetch(fragments_server, "/cities?wave=2018")[2]) == in_2018 < every
    american = count(
        fragments_server,
        "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?p ig:city ?c ; ig:countryName 'United States' }",
    )
    body = fetch(fragments_server, "/cities?country=United+States")[2]
    assert rows_of(body) == american > 5
    status, _, body = fetch(fragments_server, "/cities?wave=1999")
    assert status == 400
    assert "2018" in json.loads(body)["error"]


def test_the_organisations_index_lists_every_one_named(fragments_server: LiveServer) -> None:
    named = count(fragments_server, "SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?m ig:mentions ?e }")
    status, _, body = fetch(fragments_server, "/organisations")
    assert status == 200
    assert rows_of(body) == named > 20
    assert "Code for America" in body.decode()


def test_a_city_named_two_ways_goes_by_its_preferred_name(fragments_server: LiveServer) -> None:
    """Denver's 2020 page (the updated site) says "Denver, CO", its 2018 page "Denver": the
    page title and the index lead with the preferred name, the index keeps the other."""
    page = parse(fetch(fragments_server, "/id/city/denver-us.html", "text/html")[2])
    assert page.title.startswith("Denver, CO")
    index = fetch(fragments_server, "/cities", "text/html")[2].decode()
    assert "Denver, CO / Denver<" in index
