"""Linked data over real HTTP: every kind of IRI the seed build mints dereferences with 303 to a
document chosen by Accept, and the documents follow the conventions (Vary, Content-Location,
Link alternates and licence, suffixes, ?format=, HEAD, 404 in the format asked, 406, paging,
ETag). RDF clients (rdflib) parse what comes back."""

from __future__ import annotations

import http.client
import json
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from rdflib.compare import isomorphic

from conftest import ROOT, SEED, LiveServer, built_store, start_server, stop_server

DATA = "https://w3id.org/innograph/"
MEDIA = {
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "nt": "application/n-triples",
    "rdf": "application/rdf+xml",
    "html": "text/html",
}
RDFLIB_FORMATS = {"ttl": "turtle", "jsonld": "json-ld", "nt": "nt", "rdf": "xml"}
# Every kind of thing the seed build mints, found by its type (the first of each, by IRI).
TYPED_KINDS = {
    "city": "https://w3id.org/innograph/def/City",
    "administration": "https://w3id.org/innograph/def/CityAdministration",
    "unit": "http://www.w3.org/ns/org#OrganizationalUnit",
    "post": "http://www.w3.org/ns/org#Post",
    "person": "http://xmlns.com/foaf/0.1/Person",
    "membership": "http://www.w3.org/ns/org#Membership",
    "profile": "https://w3id.org/innograph/def/Profile",
    "goal": "https://w3id.org/innograph/def/GoalSelection",
    "success factor": "https://w3id.org/innograph/def/SuccessFactorSelection",
    "policy narrative": "https://w3id.org/innograph/def/PolicyNarrative",
    "statement": "http://www.w3.org/1999/02/22-rdf-syntax-ns#Statement",
    "organisation": "http://xmlns.com/foaf/0.1/Organization",
    "initiative": "https://w3id.org/innograph/def/Initiative",
    "observation": "http://purl.org/linked-data/cube#Observation",
    "data set": "http://purl.org/linked-data/cube#DataSet",
    "source document": "https://w3id.org/innograph/def/SourceDocument",
    "profile graph": "https://w3id.org/innograph/def/ProfileGraph",
    "concept": "http://www.w3.org/2004/02/skos/core#Concept",
    "scheme": "http://www.w3.org/2004/02/skos/core#ConceptScheme",
    "class": "http://www.w3.org/2002/07/owl#Class",
    "property": "http://www.w3.org/2002/07/owl#ObjectProperty",
}


def request(
    server: LiveServer, path: str, accept: str | None = None, method: str = "GET", **headers: str
) -> tuple[int, dict[str, str], bytes]:
    """One request, redirects not followed; header names in lower case."""
    parts = urllib.parse.urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    sent = {"Accept-Encoding": "identity", **headers}
    if accept is not None:
        sent["Accept"] = accept
    connection.request(method, path, headers=sent)
    response = connection.getresponse()
    found = {name.lower(): value for name, value in response.getheaders()}
    body = response.read()
    connection.close()
    return response.status, found, body


def local(iri: str) -> str:
    return "/" + iri.removeprefix(DATA)


def sample(server: LiveServer, kind: str) -> str:
    query = (
        f"SELECT ?s WHERE {{ ?s a <{TYPED_KINDS[kind]}> FILTER STRSTARTS(STR(?s), '{DATA}') }}"
        " ORDER BY ?s LIMIT 1"
    )
    status, _, body = request(
        server, "/sparql?" + urllib.parse.urlencode({"query": query}), "application/json"
    )
    assert status == 200, body
    bindings = json.loads(body)["results"]["bindings"]
    assert bindings, f"the seed build mints no {kind}"
    return str(bindings[0]["s"]["value"])


@pytest.fixture(scope="module")
def minted(live_server: LiveServer) -> dict[str, str]:
    found = {kind: sample(live_server, kind) for kind in TYPED_KINDS}
    found["ontology"] = "https://w3id.org/innograph/def/"
    return found


def kinds() -> Iterator[str]:
    yield from TYPED_KINDS
    yield "ontology"


PUBLIC_BASE = "https://data.example.org/"


@pytest.fixture(scope="module")
def public_server(seed_store: Path) -> Iterator[LiveServer]:
    """The seed served as a deployment behind a proxy would be: with a public base set."""
    server = start_server(seed_store, {"INNOGRAPH_PUBLIC_BASE": PUBLIC_BASE})
    yield server
    stop_server(server)


@pytest.mark.parametrize("deployment", ["local", "public base"])
@pytest.mark.parametrize("kind", list(kinds()))
def test_every_kind_of_iri_dereferences_to_turtle_with_the_conventions(
    live_server: LiveServer,
    public_server: LiveServer,
    minted: dict[str, str],
    kind: str,
    deployment: str,
) -> None:
    server = live_server if deployment == "local" else public_server
    public = PUBLIC_BASE.rstrip("/") if deployment == "public base" else ""
    iri = minted[kind]
    status, headers, _ = request(server, local(iri), "text/turtle")
    assert status == 303, (kind, iri)
    assert "Accept" in headers["vary"]
    if public:
        assert headers["location"].startswith(public + "/")
    document = urllib.parse.urlsplit(headers["location"]).path
    assert document.endswith(".ttl")
    status, headers, body = request(server, document, "text/turtle")
    assert status == 200
    assert headers["content-type"].startswith("text/turtle")
    assert headers["content-location"] == public + document
    assert "Accept" in headers["vary"]
    links = headers["link"]
    for suffix, media in MEDIA.items():
        assert (
            f'{document.removesuffix(".ttl")}.{suffix}>; rel="alternate"; type="{media}"' in links
        )
    assert 'rel="license"' in links
    graph = rdflib.Graph().parse(data=body, format="turtle")
    node = rdflib.URIRef(iri)
    assert (node, None, None) in graph or (None, None, node) in graph


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")  # rdflib's
@pytest.mark.parametrize("suffix", ["jsonld", "nt", "rdf"])
def test_the_other_rdf_documents_parse_and_say_the_same(
    live_server: LiveServer, minted: dict[str, str], suffix: str
) -> None:
    path = local(minted["city"])
    turtle = rdflib.Graph().parse(data=request(live_server, path + ".ttl")[2], format="turtle")
    status, headers, body = request(live_server, path + "." + suffix)
    assert status == 200
    assert headers["content-type"].startswith(MEDIA[suffix])
    other = rdflib.Graph().parse(data=body, format=RDFLIB_FORMATS[suffix])
    assert isomorphic(turtle, other)


def test_rdflib_follows_the_303_from_the_thing(live_server: LiveServer) -> None:
    iri = local("https://w3id.org/innograph/id/city/liverpool-city-region")
    graph = rdflib.Graph().parse(live_server.url + iri)
    city = rdflib.URIRef("https://w3id.org/innograph/id/city/liverpool-city-region")
    assert (city, rdflib.RDFS.label, rdflib.Literal("Liverpool City Region")) in graph


@pytest.mark.parametrize(
    ("accept", "suffix"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"),
        ("application/ld+json", "jsonld"),
        ("text/n3", "ttl"),
        ("text/turtle;q=0.5, application/rdf+xml", "rdf"),
        ("*/*", "ttl"),
        (None, "ttl"),
    ],
)
def test_accept_with_q_values_chooses_the_document(
    live_server: LiveServer, minted: dict[str, str], accept: str | None, suffix: str
) -> None:
    status, headers, _ = request(live_server, local(minted["concept"]), accept)
    assert status == 303
    assert headers["location"].endswith(f".{suffix}")


def test_format_parameter_beats_accept(live_server: LiveServer, minted: dict[str, str]) -> None:
    path = local(minted["person"])
    status, headers, _ = request(live_server, path + "?format=nt", "text/html")
    assert (status, headers["location"].endswith(".nt")) == (303, True)
    status, headers, _ = request(live_server, path + "?format=png")
    assert status == 400
    assert "format" in json.loads(_)["error"]


def test_a_suffix_is_a_document_whatever_accept_says(
    live_server: LiveServer, minted: dict[str, str]
) -> None:
    status, headers, _ = request(live_server, local(minted["post"]) + ".nt", "text/html")
    assert status == 200
    assert headers["content-type"].startswith("application/n-triples")


def test_head_answers_like_get_without_a_body(
    live_server: LiveServer, minted: dict[str, str]
) -> None:
    path = local(minted["profile"]) + ".ttl"
    got = request(live_server, path)
    head = request(live_server, path, method="HEAD")
    assert head[0] == 200
    assert head[2] == b""
    assert head[1]["etag"] == got[1]["etag"]
    assert head[1]["link"] == got[1]["link"]


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        ("text/turtle", "text/turtle"),
        ("text/html", "text/html"),
        ("application/ld+json", "application/ld+json"),
    ],
)
def test_an_unknown_iri_is_404_in_the_format_asked(
    live_server: LiveServer, accept: str, media: str
) -> None:
    status, headers, body = request(live_server, "/id/city/atlantis", accept)
    assert status == 404
    assert headers["content-type"].startswith(media)
    if media == "text/turtle":
        assert len(rdflib.Graph().parse(data=body, format="turtle")) == 0


@pytest.mark.parametrize("path", ["/id/city/<script>", "/id/city/a%20b", "/def/..%2f..%2fetc"])
def test_a_path_that_no_minted_iri_has_is_404(live_server: LiveServer, path: str) -> None:
    assert request(live_server, path, "text/turtle")[0] == 404


def test_an_unsatisfiable_accept_is_406_naming_the_variants(
    live_server: LiveServer, minted: dict[str, str]
) -> None:
    status, _, body = request(live_server, local(minted["city"]), "image/png")
    assert status == 406
    message = json.loads(body)["error"]
    assert all(media in message for media in MEDIA.values())


def test_inbound_links_are_counted_and_paged(fragments_server: LiveServer) -> None:
    """Every success-factor selection of 23 profiles says it is one: over a hundred links."""
    path = "/def/SuccessFactorSelection"
    iri = rdflib.URIRef(DATA + path.removeprefix("/"))
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p <{iri}> }}"
    answer = request(
        fragments_server, "/sparql?" + urllib.parse.urlencode({"query": query}), "application/json"
    )
    count = int(json.loads(answer[2])["results"]["bindings"][0]["n"]["value"])
    assert count > 100
    pages = -(-count // 100)
    seen: set[rdflib.term.Node] = set()
    for number in range(1, pages + 1):
        status, headers, body = request(fragments_server, f"{path}.ttl?page={number}")
        assert status == 200
        assert ('rel="next"' in headers["link"]) == (number < pages)
        linking = set(rdflib.Graph().parse(data=body, format="turtle").subjects(None, iri))
        assert len(linking) == (100 if number < pages else count - 100 * (pages - 1))
        assert not seen & linking
        seen |= linking
    assert len(seen) == count
    status, _, body = request(fragments_server, f"{path}.html?page=2")
    assert status == 200
    assert f"Page 2 of {pages}".encode() in body
    assert request(fragments_server, f"{path}.ttl?page=0")[0] == 400


def test_the_ontology_namespace_gives_the_whole_ontology_as_data(live_server: LiveServer) -> None:
    status, headers, _ = request(live_server, "/def/", "text/turtle")
    assert status == 303
    assert headers["location"].endswith("/def/index.ttl")
    served = rdflib.Graph().parse(data=request(live_server, "/def/index.ttl")[2], format="turtle")
    shipped = rdflib.Graph().parse(ROOT / "ontology" / "innograph.ttl", format="turtle")
    assert isomorphic(served, shipped)


def test_the_ontology_documentation_covers_every_term_and_the_shapes(
    live_server: LiveServer,
) -> None:
    status, _, body = request(live_server, "/def/index.html")
    assert status == 200
    page = body.decode()
    shipped = rdflib.Graph().parse(ROOT / "ontology" / "innograph.ttl", format="turtle")
    ig = "https://w3id.org/innograph/def/"
    for kind in (rdflib.OWL.Class, rdflib.OWL.ObjectProperty, rdflib.OWL.DatatypeProperty):
        for term in shipped.subjects(rdflib.RDF.type, kind):
            if str(term).startswith(ig):
                assert f'id="{str(term).removeprefix(ig)}"' in page, term
    shapes = rdflib.Graph().parse(ROOT / "shapes" / "profile.ttl", format="turtle")
    profile_shapes = [
        str(shapes.value(s, rdflib.SH.name))
        for s in shapes.subjects(rdflib.SH.targetClass, rdflib.URIRef(ig + "SourceDocument"))
    ]
    assert profile_shapes
    source_document = page.split('id="SourceDocument"', 1)[1].split("</article>", 1)[0]
    assert all(f"<strong>{name}</strong>" in source_document for name in profile_shapes)
    assert page.count('href="/vocab/') == 14


def test_documents_are_cached_per_version(live_server: LiveServer, minted: dict[str, str]) -> None:
    path = local(minted["city"]) + ".ttl"
    _, headers, _ = request(live_server, path)
    assert headers["etag"].startswith('W/"')
    status, again, body = request(live_server, path, **{"If-None-Match": headers["etag"]})
    assert (status, body) == (304, b"")
    assert again["etag"] == headers["etag"]


def test_the_html_page_links_stay_on_this_server(
    live_server: LiveServer, minted: dict[str, str]
) -> None:
    status, headers, body = request(live_server, local(minted["city"]) + ".html")
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    page = body.decode()
    assert "<title>Liverpool City Region · innograph</title>" in page
    assert 'href="/id/' in page
    assert f'href="{DATA}id/' not in page
    for suffix, media in MEDIA.items():
        if suffix != "html":
            assert f'<link rel="alternate" type="{media}"' in page


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The seed with markup in the city's name, built and served like any store."""
    folder = tmp_path_factory.mktemp("hostile")
    text = SEED.read_text(encoding="utf-8").replace(
        "Liverpool City Region\n", 'Liverpool <script>alert("x")</script> & Region\n', 1
    )
    (folder / SEED.name).write_text(text, encoding="utf-8")
    server = start_server(built_store([folder], folder / "store"))
    yield server
    stop_server(server)


def test_text_from_a_profile_is_escaped_on_the_page(hostile_server: LiveServer) -> None:
    status, _, body = request(hostile_server, "/id/city/liverpool-city-region.html")
    assert status == 200
    page = body.decode()
    assert "<script>" not in page
    assert "Liverpool &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Region" in page


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")  # rdflib's
def test_the_page_embeds_its_data_as_json_ld(
    live_server: LiveServer, minted: dict[str, str]
) -> None:
    path = local(minted["city"])
    page = request(live_server, path + ".html")[2].decode()
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.DOTALL)
    assert found is not None
    embedded = rdflib.Graph().parse(data=found.group(1), format="json-ld")
    document = rdflib.Graph().parse(
        data=request(live_server, path + ".jsonld")[2], format="json-ld"
    )
    assert len(embedded) > 5
    assert isomorphic(embedded, document)


# --- regressions found in review ---------------------------------------------------------------


@pytest.mark.parametrize("page", ["%C2%B2", "9" * 5000, "99999999999999999999", "-1", "0", "1.5"])
def test_a_page_that_is_not_a_small_number_is_400(live_server: LiveServer, page: str) -> None:
    status, _, body = request(live_server, f"/id/city/liverpool-city-region.ttl?page={page}")
    assert status == 400
    assert json.loads(body)["error"].startswith("page:")


def test_a_page_past_the_last_is_404(live_server: LiveServer) -> None:
    assert request(live_server, "/id/source/liverpool-city-region.ttl?page=1")[0] == 200
    assert request(live_server, "/id/source/liverpool-city-region.ttl?page=2")[0] == 404


def test_paging_links_keep_the_format_and_go_both_ways(fragments_server: LiveServer) -> None:
    _, first, _ = request(fragments_server, "/def/SuccessFactorSelection.ttl")
    assert '</def/SuccessFactorSelection.ttl?page=2>; rel="next"' in first["link"]
    _, second, _ = request(fragments_server, "/def/SuccessFactorSelection.jsonld?page=2")
    assert '</def/SuccessFactorSelection.jsonld>; rel="prev"' in second["link"]
    assert '</def/SuccessFactorSelection.ttl?page=2>; rel="alternate"' in second["link"]


def test_if_none_match_star_does_not_hide_an_unknown_iri(live_server: LiveServer) -> None:
    status, _, _ = request(live_server, "/id/city/atlantis.ttl", **{"If-None-Match": "*"})
    assert status == 404


def test_a_304_varies_as_its_200(live_server: LiveServer, minted: dict[str, str]) -> None:
    path = local(minted["city"]) + ".ttl"
    _, got, _ = request(live_server, path)
    status, again, _ = request(live_server, path, **{"If-None-Match": got["etag"]})
    assert status == 304
    assert "Accept-Encoding" in again["vary"]


def test_the_generic_view_of_a_city_keeps_its_name(live_server: LiveServer) -> None:
    path = "/id/city/liverpool-city-region"
    status, headers, _ = request(live_server, path + "?view=resource", "text/html")
    assert status == 303
    assert headers["location"].endswith(f"{path}.html?view=resource")
    _, headers, _ = request(live_server, path + ".html?view=resource")
    assert headers["content-location"] == f"{path}.html?view=resource"


def test_every_named_graph_and_the_ontology_version_dereference(live_server: LiveServer) -> None:
    for path in ("/graph/ontology", "/graph/vocabularies", "/def/0.1.0"):
        status, headers, _ = request(live_server, path, "text/turtle")
        assert status == 303, path
        assert request(live_server, urllib.parse.urlsplit(headers["location"]).path)[0] == 200


def test_an_iri_that_is_not_http_is_never_a_link(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("javascript")
    text = "# source: javascript:alert(document.domain)//\n" + SEED.read_text(encoding="utf-8")
    (folder / SEED.name).write_text(text, encoding="utf-8")
    server = start_server(built_store([folder], folder / "store"))
    try:
        status, _, body = request(server, "/id/source/liverpool-city-region.html")
    finally:
        stop_server(server)
    assert status == 200
    page = body.decode()
    assert "javascript:alert" in page  # shown as text
    assert 'href="javascript:' not in page


def test_a_document_cut_at_the_limits_says_so(fragments_store: Path) -> None:
    """Under limits lower than a city page's queries needed, its page kept with the version is
    not used: rendered per request, it says what the limits cut."""
    server = start_server(fragments_store, {"INNOGRAPH_MAX_ROWS": "300"})
    try:
        status, headers, body = request(server, "/def/index.nt")
        city = request(server, "/id/city/toronto-ca.html")
    finally:
        stop_server(server)
    assert status == 200
    assert headers["x-result-truncated"] == "true"
    assert body.count(b"\n") == 300
    assert city[1]["x-result-truncated"] == "true"
    assert b"limits cut the data behind this page short" in city[2]


@pytest.mark.parametrize(
    "path", ["/vocab/policy-areas", "/def/Profile", "/id/city/liverpool-city-region"]
)
def test_the_count_of_links_is_the_stores(live_server: LiveServer, path: str) -> None:
    """Under a page of links the count comes from the document itself; it must be exact."""
    iri = DATA + path.removeprefix("/")
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p <{iri}> }}"
    answer = request(
        live_server, "/sparql?" + urllib.parse.urlencode({"query": query}), "application/json"
    )
    expected = int(json.loads(answer[2])["results"]["bindings"][0]["n"]["value"])
    page = request(live_server, path + ".html?view=resource")[2].decode()
    assert f"Linked from ({expected:,})" in page
