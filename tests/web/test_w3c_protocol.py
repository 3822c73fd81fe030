"""The W3C SPARQL 1.1 Protocol test suite, run by a runner of our own against the live server.

The manifest (``../shared/conformance/w3c-protocol/manifest.ttl``) models every HTTP request in
RDF. It is read with rdflib; each read-only query test is sent, request by request, byte for
byte over real HTTP (``http.client``: only the headers the test names, plus ``Host`` and
``Content-Length``; no ``Accept``, so the server's default format is judged), and each response
is checked as the test requires: the status class, the media type of ``mf:expectedFormat``
(parsed to prove it is that format) and the answer of ``mf:expectedBoolean``.

Data: each test runs on a store of its own dataset (tests with the same ``ut:graphData`` share
one). A ``ut:graphData`` file is loaded into the named graph its label names and into the
default graph too, since the server's default graph is the union of the named graphs. A graph
the request names in ``default-graph-uri`` / ``named-graph-uri`` without giving data
(``…/data0.rdf``) is created empty, as the suite's README says ("treat it as empty"); the
server refuses dataset IRIs outside its store by design (400, see
``test_dataset_outside_the_store_is_refused``), so the graph must be part of the store.

Updates: the 14 update tests (``UPDATE_TESTS``) do not apply to a read-only endpoint and are
skipped; instead, each of their update requests is sent to a store holding the suite's data and
must be refused (403, or 415 where the request is not recognisable as an operation at all), and
each of their follow-up queries must show the update had no effect.
"""

from __future__ import annotations

import http.client
import io
import json
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import SHARED, SHARED_ABSENT, LiveServer, start_server, stop_server

SUITE = SHARED / "conformance" / "w3c-protocol"
if not (SUITE / "manifest.ttl").is_file():
    pytest.skip(SHARED_ABSENT, allow_module_level=True)

import rdflib  # noqa: E402
from rdflib.collection import Collection  # noqa: E402
from rdflib.namespace import RDF, RDFS  # noqa: E402
from rdflib.query import Result  # noqa: E402

from innograph import store  # noqa: E402

MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
TESTS = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/protocol/manifest#"
PREFIX = "/sparql/"  # every ht:absolutePath starts with it; it stands for the endpoint
BASE_IRI = "http://example.org/"

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
BOOLEAN_TYPES = frozenset({"application/sparql-results+xml", "application/sparql-results+json"})
TABULAR_TYPES = BOOLEAN_TYPES | {"text/csv", "text/tab-separated-values"}
RDF_TYPES = frozenset(
    {
        "text/turtle",
        "application/n-triples",
        "application/n-quads",
        "application/trig",
        "application/ld+json",
        "application/rdf+xml",
    }
)
EXPECTED_TYPES = {"boolean": BOOLEAN_TYPES, "tabular": TABULAR_TYPES, "RDF": RDF_TYPES}

# The tests that do not apply to a read-only endpoint: all of them perform SPARQL Update.
UPDATE_TESTS = frozenset(
    TESTS + name
    for name in (
        "update_dataset_default_graph",
        "update_dataset_default_graphs",
        "update_dataset_named_graphs",
        "update_dataset_full",
        "update_post_form",
        "update_post_direct",
        "update_base_uri",
        "bad_update_get",
        "bad_multiple_updates",
        "bad_update_wrong_media_type",
        "bad_update_missing_form_type",
        "bad_update_non_utf8",
        "bad_update_syntax",
        "bad_update_dataset_conflict",
    )
)
UPDATE_REASON = "update: the endpoint is read-only"

# Read-only tests that fail by a deliberate policy of ours (test IRI -> reason): none.
KNOWN_GAPS: dict[str, str] = {}

# Read-only tests that fail because of a server bug (test IRI -> reason).
SERVER_BUGS: dict[str, str] = {}


# --- reading the manifest ------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # ht:absolutePath after the /sparql/ prefix: "" or "?…", kept byte for byte
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    statuses: frozenset[int]  # status classes allowed: 2, 3, 4
    expected_format: str | None
    expected_boolean: bool | None

    @property
    def content_type(self) -> str | None:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value.split(";")[0].strip().lower()
        return None

    def parameters(self) -> dict[str, list[str]]:
        """The protocol parameters: those of the URL, and of the body of a form POST."""
        found = urllib.parse.parse_qs(self.target.removeprefix("?"))
        if self.content_type == FORM and self.body:
            for name, values in urllib.parse.parse_qs(self.body.decode("utf-8")).items():
                found.setdefault(name, []).extend(values)
        return found


@dataclass(frozen=True)
class ProtocolTest:
    iri: str
    name: str
    requests: tuple[Request, ...]
    graph_data: tuple[tuple[str, Path], ...]  # (graph IRI, N-Triples file)

    @property
    def id(self) -> str:
        return self.iri.removeprefix(TESTS)

    def dataset(self) -> Dataset:
        """The graphs to load: ut:graphData, plus an empty graph for each one named without data."""
        graphs: dict[str, Path | None] = dict(self.graph_data)
        for request in self.requests:
            parameters = request.parameters()
            for name in ("default-graph-uri", "named-graph-uri"):
                for iri in parameters.get(name, []):
                    graphs.setdefault(iri, None)
        return tuple(sorted(graphs.items(), key=lambda item: item[0]))


Dataset = tuple[tuple[str, Path | None], ...]


def _one(graph: rdflib.Graph, subject: Any, predicate: Any) -> Any:
    values = list(graph.objects(subject, predicate))
    assert len(values) <= 1, f"{subject} has {len(values)} {predicate}"
    return values[0] if values else None


def _request(graph: rdflib.Graph, node: Any) -> Request:
    path = str(_one(graph, node, HT.absolutePath))
    assert path.startswith(PREFIX), path
    target = path.removeprefix(PREFIX)
    assert target == "" or target.startswith("?"), path
    headers_node = _one(graph, node, HT.headers)
    headers = tuple(
        (str(_one(graph, h, HT.fieldName)), str(_one(graph, h, HT.fieldValue)))
        for h in (Collection(graph, headers_node) if headers_node is not None else ())
    )
    body_node = _one(graph, node, HT.body)
    body = None
    if body_node is not None:
        encoding = str(_one(graph, body_node, CNT.characterEncoding))
        body = str(_one(graph, body_node, CNT.chars)).encode(encoding)
    response = _one(graph, node, HT.resp)
    statuses = frozenset(
        int(str(s).rpartition("StatusCode")[2][0])
        for s in graph.objects(response, MF.expectedStatus)
    )
    assert statuses, f"a request of {node} expects no status"
    fmt = _one(graph, response, MF.expectedFormat)
    boolean = _one(graph, response, MF.expectedBoolean)
    return Request(
        method=str(_one(graph, node, HT.methodName)),
        target=target,
        headers=headers,
        body=body,
        statuses=statuses,
        expected_format=None if fmt is None else str(fmt),
        expected_boolean=None if boolean is None else bool(boolean.toPython()),
    )


def read_manifest(folder: Path) -> list[ProtocolTest]:
    graph = rdflib.Graph()
    graph.parse(
        folder / "manifest.ttl", format="turtle", publicID=(folder / "manifest.ttl").as_uri()
    )
    manifest = next(graph.subjects(RDF.type, MF.Manifest))
    tests = []
    for test in Collection(graph, _one(graph, manifest, MF.entries)):
        action = _one(graph, test, MF.action)
        requests = tuple(
            _request(graph, r) for r in Collection(graph, _one(graph, action, HT.requests))
        )
        graph_data = tuple(
            (
                str(_one(graph, d, RDFS.label)),
                Path(
                    urllib.request.url2pathname(
                        urllib.parse.urlsplit(_one(graph, d, UT.graph)).path
                    )
                ),
            )
            for d in graph.objects(test, UT.graphData)
        )
        tests.append(ProtocolTest(str(test), str(_one(graph, test, MF.name)), requests, graph_data))
    return tests


MANIFEST_TESTS = read_manifest(SUITE)
READ_ONLY_TESTS = [t for t in MANIFEST_TESTS if t.iri not in UPDATE_TESTS]
UPDATE_CASES = [t for t in MANIFEST_TESTS if t.iri in UPDATE_TESTS]


def _marks(test: ProtocolTest) -> list[pytest.MarkDecorator]:
    if test.iri in UPDATE_TESTS:
        return [pytest.mark.skip(reason=UPDATE_REASON)]
    if test.iri in KNOWN_GAPS:
        return [
            pytest.mark.xfail(
                strict=True, raises=AssertionError, reason=f"known gap: {KNOWN_GAPS[test.iri]}"
            )
        ]
    if test.iri in SERVER_BUGS:
        return [
            pytest.mark.xfail(
                strict=True, raises=AssertionError, reason=f"server bug: {SERVER_BUGS[test.iri]}"
            )
        ]
    return []


# --- the stores and servers ----------------------------------------------------------------------


def build_store(root: Path, dataset: Dataset) -> None:
    """A store version of ``dataset`` made by the store's own draft: each graph named, all of
    them in the default graph (the suite's data are not profiles, so no build gate)."""
    named = [
        store.NamedGraph(iri, source.read_bytes() if source is not None else b"")
        for iri, source in dataset
    ]
    profiles = {f"w3c-{index}": {"graph": g.iri, "sha256": ""} for index, g in enumerate(named)}
    with store.draft(root) as version:
        version.fill(named)
        version.promote({"base_iri": BASE_IRI, "profiles": profiles})


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[Dataset], LiveServer]]:
    """A live server per dataset, started on first use and stopped with the module."""
    running: dict[Dataset, LiveServer] = {}

    def server_for(dataset: Dataset) -> LiveServer:
        if dataset not in running:
            root = tmp_path_factory.mktemp("w3c-protocol") / "store"
            build_store(root, dataset)
            running[dataset] = start_server(root, {"INNOGRAPH_QUERY_WORKERS": "1"})
        return running[dataset]

    yield server_for
    for server in running.values():
        stop_server(server)


def suite_dataset() -> Dataset:
    """Every graph of the suite with its data: the store the update requests are sent to."""
    graphs: dict[str, Path | None] = {}
    for test in MANIFEST_TESTS:
        for iri, source in test.dataset():
            if graphs.get(iri) is None:
                graphs[iri] = source
    return tuple(sorted(graphs.items(), key=lambda item: item[0]))


# --- sending and checking ------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str | None  # the media type alone, lower case
    body: bytes


def send(server: LiveServer, request: Request) -> Response:
    """The request over HTTP/1.1, with only the headers the test names (no Accept)."""
    url = urllib.parse.urlsplit(server.sparql)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        connection.putrequest(request.method, url.path + request.target, skip_accept_encoding=True)
        for name, value in request.headers:
            connection.putheader(name, value)
        body = request.body
        if body is None and request.method in ("POST", "PUT"):
            body = b""
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        answer = connection.getresponse()
        content = answer.read()
        media = answer.getheader("Content-Type")
        return Response(
            answer.status, None if media is None else media.split(";")[0].strip().lower(), content
        )
    finally:
        connection.close()


def parse_results(response: Response) -> Result:
    assert response.content_type in TABULAR_TYPES, response.content_type
    return Result.parse(io.BytesIO(response.body), format=response.content_type)


def check(request: Request, response: Response) -> None:
    """The response as the manifest requires it."""
    shown = f"{response.status} {response.content_type}: {response.body[:300]!r}"
    assert response.status // 100 in request.statuses, shown
    fmt, boolean = request.expected_format, request.expected_boolean
    if fmt is None and boolean is None:
        return
    assert response.status // 100 == 2, f"a result was expected, not a redirect: {shown}"
    if fmt is not None:
        assert response.content_type in EXPECTED_TYPES[fmt], shown
    if fmt == "RDF":
        rdflib.Graph().parse(data=response.body, format=response.content_type)
        return
    result = parse_results(response)
    assert result.type == ("SELECT" if fmt == "tabular" else "ASK"), shown
    if boolean is not None:
        assert result.askAnswer is boolean, shown


# --- the tests -----------------------------------------------------------------------------------


def test_manifest_is_read_whole() -> None:
    """34 tests, every update test listed, and no read-only test sends an update."""
    assert len(MANIFEST_TESTS) == 34
    assert {t.iri for t in UPDATE_CASES} == UPDATE_TESTS
    assert len(READ_ONLY_TESTS) == 20
    assert set(KNOWN_GAPS) | set(SERVER_BUGS) <= {t.iri for t in READ_ONLY_TESTS}
    for test in READ_ONLY_TESTS:
        for request in test.requests:
            assert request.content_type != SPARQL_UPDATE, test.id
            assert "update" not in request.parameters(), test.id
    for test in MANIFEST_TESTS:
        for iri, source in test.graph_data:
            assert source.is_file(), f"{test.id}: {iri} has no data file {source}"


@pytest.mark.parametrize(
    "test", [pytest.param(t, id=t.id, marks=_marks(t)) for t in MANIFEST_TESTS]
)
def test_protocol(test: ProtocolTest, serve: Callable[[Dataset], LiveServer]) -> None:
    server = serve(test.dataset())
    for request in test.requests:
        check(request, send(server, request))


def _refusal(request: Request) -> int:
    """403 for an update the server can recognise; 415 for a body of a media type it refuses."""
    if request.method == "GET" or request.content_type in (FORM, SPARQL_UPDATE):
        return 403
    return 415


def _is_query(request: Request) -> bool:
    return request.content_type == SPARQL_QUERY or "query" in request.parameters()


def _ask(query: str, expected: bool) -> Request:
    return Request(
        method="POST",
        target="",
        headers=(("content-type", SPARQL_QUERY),),
        body=query.encode("utf-8"),
        statuses=frozenset({2}),
        expected_format="boolean",
        expected_boolean=expected,
    )


@pytest.mark.parametrize("test", [pytest.param(t, id=t.id) for t in UPDATE_CASES])
def test_update_is_refused(test: ProtocolTest, serve: Callable[[Dataset], LiveServer]) -> None:
    """Each update request of the suite is refused (never a silent 2xx) and changes nothing."""
    dataset = suite_dataset()
    server = serve(dataset)
    for request in test.requests:
        response = send(server, request)
        shown = f"{response.status}: {response.body[:300]!r}"
        if _is_query(request):  # the test's check of the update's effect: there must be none
            assert request.expected_boolean is not None, test.id
            check(_ask(request.body.decode("utf-8"), not request.expected_boolean), response)
            continue
        assert response.status == _refusal(request), shown
        if 4 in request.statuses:  # a bad_update_* test: its own expectation holds too
            assert response.status // 100 == 4, shown
        assert json.loads(response.body)["status"] == response.status, shown
    documents = " ".join(
        f"GRAPH <{iri}> {{ <{iri}> a <http://xmlns.com/foaf/0.1/Document> }}"
        for iri, source in dataset
        if source is not None
    )
    intact = _ask(f"ASK {{ {documents} }}", True)
    check(intact, send(server, intact))


def test_dataset_outside_the_store_is_refused(serve: Callable[[Dataset], LiveServer]) -> None:
    """Why the stores hold an empty data0.rdf: a dataset IRI the store lacks gets 400 (policy)."""
    server = serve(suite_dataset())
    outside = urllib.parse.quote("http://kasei.us/2009/09/sparql/data/data4.rdf", safe="")
    for name in ("default-graph-uri", "named-graph-uri"):
        request = Request(
            method="GET",
            target=f"?query=ASK%20%7B%7D&{name}={outside}",
            headers=(),
            body=None,
            statuses=frozenset({4}),
            expected_format=None,
            expected_boolean=None,
        )
        response = send(server, request)
        assert response.status == 400, response.body
        assert "is not a graph of this store" in json.loads(response.body)["error"]


# Beyond the manifest: bad_query_non_utf8 passes only because the UTF-16 byte-order mark,
# decoded as UTF-8 with replacement, becomes U+FFFD where no query may start. The same request
# with a body whose bad bytes fall inside a string literal runs a query the client never sent.
CAFE = 'SELECT ("café" AS ?x) {}'
CAFE_LATIN1 = urllib.parse.quote(CAFE, safe="", encoding="latin-1")
NOT_UTF8 = {
    "direct-charset-latin1": ("", "application/sparql-query; charset=ISO-8859-1", CAFE),
    "direct-undeclared": ("", "application/sparql-query", CAFE),
    "form": ("", FORM, f"query={CAFE_LATIN1}"),
    "get": (f"?query={CAFE_LATIN1}", None, None),
}


@pytest.mark.parametrize(("target", "content_type", "body"), NOT_UTF8.values(), ids=NOT_UTF8)
def test_query_not_in_utf8_is_refused(
    target: str,
    content_type: str | None,
    body: str | None,
    serve: Callable[[Dataset], LiveServer],
) -> None:
    request = Request(
        method="GET" if body is None else "POST",
        target=target,
        headers=() if content_type is None else (("content-type", content_type),),
        body=None if body is None else body.encode("latin-1"),
        statuses=frozenset({4}),
        expected_format=None,
        expected_boolean=None,
    )
    check(request, send(serve(()), request))
