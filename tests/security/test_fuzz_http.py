"""Fuzzing the HTTP surface (issue 15, item 6): generated values for every protocol parameter of
/sparql (the query, from a grammar of SPARQL fragments and raw junk; format, timeout, Accept,
default-graph-uri, named-graph-uri), by GET, POST form and POST sparql-query, and generated IRI
paths, sent to the production server over HTTP on 127.0.0.1.

Whatever is sent: never a 5xx but the intended 503 (the time limit, or busy with Retry-After),
never a traceback or a Python exception name the request did not contain, and every 4xx a JSON
error that names the parameter (or the path) it is about. In CI (``CI=true``) the examples are
derandomized, so a run is reproducible; elsewhere each run explores new ones. The number of
requests sent is written to test-artifacts/fuzz-http.json.
"""

from __future__ import annotations

import json
import os
import re
import socket
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile import Reply, fetch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, LiveServer

pytestmark = pytest.mark.fuzz

IN_CI = os.environ.get("CI") == "true"
# Examples per test: about 1,100 requests in all, under a minute on two shared cores.
SCALE = float(os.environ.get("INNOGRAPH_FUZZ_SCALE", "1"))


def budget(examples: int) -> settings:
    return settings(
        max_examples=max(1, round(examples * SCALE)),
        deadline=None,
        derandomize=IN_CI,
        database=None if IN_CI else settings.default.database,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


SENT: Counter[str] = Counter()
STATUSES: Counter[int] = Counter()
ARTIFACT = ROOT / "test-artifacts" / "fuzz-http.json"

# --- what is sent -----------------------------------------------------------------------------

SEED_GRAPHS = [
    "https://w3id.org/innograph/graph/ontology",
    "https://w3id.org/innograph/graph/vocabularies",
    "https://w3id.org/innograph/graph/liverpool-city-region",
]
IRIS = st.sampled_from(
    [
        *SEED_GRAPHS,
        "https://w3id.org/innograph/id/city/liverpool-city-region",
        "https://w3id.org/innograph/def/City",
        "http://127.0.0.1:9/canary",
        "file:///etc/passwd",
        "urn:x",
        "",
        "relative",
        "http://[::1]/",
        "javascript:alert(1)",
        "https://w3id.org/innograph/graph/../../etc",
        "https://w3id.org/innograph/graph/profile/liverpool-city-region",
    ]
)
VARIABLES = st.sampled_from(["?s", "?p", "?o", "?x", "$y", "?né", "?_"])
TERMS = st.one_of(
    VARIABLES,
    IRIS.map(lambda iri: f"<{iri}>"),
    st.sampled_from(
        [
            "ig:City",
            "a",
            "rdfs:label",
            '"x"',
            '"x"@en',
            "'''a\nb'''",
            '"1"^^xsd:integer',
            "1",
            "-0.5e3",
            "true",
            "[]",
            "(1 2)",
            "_:b",
            "<<?s ?p ?o>>",
        ]
    ),
)
EXPRESSIONS = st.one_of(
    TERMS,
    st.builds("STRLEN(STR({}))".format, VARIABLES),
    st.builds('REGEX(STR({}), "{}")'.format, VARIABLES, st.sampled_from(["^a", "(a+)+$", "[", ""])),
    st.builds("{} {} {}".format, TERMS, st.sampled_from(["=", "!=", "<", "&&", "||", "+"]), TERMS),
    st.builds("xsd:integer({})".format, TERMS),
    st.builds("<urn:unknown:function>({})".format, TERMS),
)


def patterns() -> st.SearchStrategy[str]:
    subject = st.one_of(VARIABLES, IRIS.map("<{}>".format), TERMS)
    predicate = st.one_of(VARIABLES, st.sampled_from(["a", "rdfs:label", "ig:city"]), TERMS)
    triple = st.builds("{} {} {} .".format, subject, predicate, TERMS)
    return st.recursive(
        triple,
        lambda inner: st.one_of(
            st.builds("{{ {} }}".format, inner),
            st.builds("{} {}".format, inner, inner),
            st.builds("OPTIONAL {{ {} }}".format, inner),
            st.builds("{{ {} }} UNION {{ {} }}".format, inner, inner),
            st.builds("MINUS {{ {} }}".format, inner),
            st.builds(
                "GRAPH {} {{ {} }}".format, st.one_of(VARIABLES, IRIS.map("<{}>".format)), inner
            ),
            st.builds("FILTER({})".format, EXPRESSIONS),
            st.builds("BIND({} AS {})".format, EXPRESSIONS, VARIABLES),
            st.builds("VALUES {} {{ {} }}".format, VARIABLES, TERMS),
            st.builds("FILTER NOT EXISTS {{ {} }}".format, inner),
        ),
        max_leaves=6,
    )


KNOWN_PREFIXES = (
    "PREFIX ig: <https://w3id.org/innograph/def/>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"
)
PREFIXES = st.sampled_from(
    [KNOWN_PREFIXES] * 6 + ["", "BASE <http://example.org/>\n", "PREFIX : <>\n", "PREFIX ig: <"]
)
FORMS = st.sampled_from(
    [
        "SELECT *",
        "SELECT *",
        "SELECT ?s ?o",
        "SELECT DISTINCT ?s",
        "SELECT (COUNT(*) AS ?n)",
        "ASK",
        "CONSTRUCT { ?s ?p ?o }",
        "CONSTRUCT",
        "DESCRIBE ?s",
        "DESCRIBE <https://w3id.org/innograph/id/city/liverpool-city-region>",
        "INSERT DATA { <a:b> <a:b> <a:b> }",
        "SERVICE <http://127.0.0.1:9/> { }",
        "LOAD <http://127.0.0.1:9/>",
        "select",
        "",
    ]
)
DATASETS = st.lists(
    st.builds("FROM {}<{}>".format, st.sampled_from(["", "NAMED "]), IRIS), max_size=2
).map(" ".join)
MODIFIERS = st.lists(
    st.sampled_from(
        ["GROUP BY ?s", "ORDER BY DESC(?s)", "LIMIT 5", "LIMIT 0", "OFFSET 3", "HAVING (1)"]
    ),
    max_size=2,
).map(" ".join)
# Text a client can send: any character but a lone surrogate, which UTF-8 cannot encode (raw
# bytes of any kind go in body_bytes).
SENDABLE = st.characters(exclude_categories=["Cs"])
JUNK = st.text(
    alphabet=st.one_of(st.sampled_from("{}<>?$\"'#.;,()[]^@\\\n\t*:|/!=%"), SENDABLE),
    max_size=40,
)


@st.composite
def queries(draw: st.DrawFn) -> str:
    """A query built from SPARQL's pieces, sometimes cut or with junk spliced in; or raw text."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(SENDABLE, max_size=200))
    text = " ".join([draw(PREFIXES), draw(FORMS), draw(DATASETS), "WHERE {", draw(patterns()), "}"])
    text += " " + draw(MODIFIERS)
    if draw(st.integers(0, 3)) == 0:
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(JUNK) + text[at + draw(st.integers(0, 5)) :]
    return text


FORMATS = st.one_of(
    st.sampled_from(
        [
            "json",
            "xml",
            "csv",
            "tsv",
            "ttl",
            "nt",
            "nq",
            "trig",
            "jsonld",
            "rdf",
            "html",
            "JSON",
            "text/csv",
        ]
    ),
    st.sampled_from(["application/sparql-results+json", "text/turtle", " csv", ""]),
    st.text(SENDABLE, max_size=20),
)
TIMEOUTS = st.one_of(
    st.sampled_from(
        [
            "1",
            "2.5",
            "3",
            "3.0001",
            "0",
            "-1",
            "1e-300",
            "1e309",
            "nan",
            "inf",
            "-inf",
            "0x10",
            "1_0",
            "１",
            "1,5",
            "None",
        ]
    ),
    st.sampled_from([" 1 ", ""]),
    st.floats(allow_nan=True).map(str),
    st.text(SENDABLE, max_size=10),
)
MEDIA = st.sampled_from(
    [
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "text/csv",
        "text/tab-separated-values",
        "text/turtle",
        "application/n-triples",
        "application/ld+json",
        "application/rdf+xml",
        "text/html",
        "application/xhtml+xml",
        "*/*",
        "text/*",
        "image/png",
        "application/json",
        "",
    ]
)
# Header values go out as Latin-1. Control characters are left to the test of gunicorn's refusal
# below (http.client refuses CR, LF and NUL itself).
HEADER_TEXT = st.text(
    alphabet=st.characters(max_codepoint=255, exclude_categories=["Cc"]), max_size=60
)
ACCEPTS = st.one_of(
    st.lists(
        st.builds(
            "{}{}".format,
            MEDIA,
            st.sampled_from(["", ";q=0", ";q=0.5", ";q=1", ";q=2", ";q=x", ";charset=utf-8"]),
        ),
        max_size=4,
    ).map(", ".join),
    HEADER_TEXT,
)


@st.composite
def parameters(draw: st.DrawFn) -> list[tuple[str, str]]:
    """The protocol's parameters, each absent, once, or (now and then) twice."""
    chosen: list[tuple[str, str]] = []
    for name, values in [
        ("query", queries()),
        ("format", FORMATS),
        ("timeout", TIMEOUTS),
        ("default-graph-uri", st.sampled_from(SEED_GRAPHS) | IRIS),
        ("named-graph-uri", st.sampled_from(SEED_GRAPHS) | IRIS),
    ]:
        count = draw(st.sampled_from([0, 1, 1, 1, 2] if name == "query" else [0, 0, 0, 1, 2]))
        chosen += [(name, draw(values)) for _ in range(count)]
    return draw(st.permutations(chosen))


RAW_QUERY_STRINGS = st.sampled_from(
    ["query=%FF", "query=%", "query=%zz", "&&=&", "query", "query=ASK%7B%7D&timeout=%00", "%C0%80="]
)

# --- what must come back ----------------------------------------------------------------------

EXCEPTION_NAME = re.compile(rb"\b[A-Z][A-Za-z]*(?:Error|Exception|Exit|Interrupt)\b")
TRACEBACK = re.compile(rb'Traceback \(most recent call last\)|File "[^"]+", line \d+')
# What a 4xx from /sparql names: a parameter, a header or the part of the request it is about.
SPARQL_NAMES = re.compile(
    r"^(query|format|timeout|Accept|Content-Type|Content-Length|dataset|URL parameters|form body)"
    r": |^(SERVICE is|updates are) not allowed|^the request (body|line)"
)


def check(reply: Reply, sent: bytes, what: str) -> None:
    """The promises above, for one answer; ``sent`` is everything the request carried."""
    STATUSES[reply.status] += 1
    where = f"{what} -> {reply.status} {reply.body[:400]!r}"
    assert reply.status < 500 or reply.status == 503, where
    leaked = set(EXCEPTION_NAME.findall(reply.body)) - set(EXCEPTION_NAME.findall(sent))
    assert not leaked, where
    if not TRACEBACK.search(sent):
        assert not TRACEBACK.search(reply.body), where
    if reply.status < 400:
        return
    if reply.status in (404, 410) and is_rdf_or_html(reply):
        return  # an IRI of the dataset's shape that names nothing: "not found" in the format asked
    error = json.loads(reply.body)
    assert error["status"] == reply.status, where
    assert isinstance(error["error"], str), where
    assert error["error"], where
    if reply.status == 503:  # the intended ones: the time limit, or busy and when to retry
        assert "time limit" in error["error"] or reply.header("Retry-After"), where


def is_rdf_or_html(reply: Reply) -> bool:
    kind = (reply.header("Content-Type") or "").split(";")[0]
    return kind != "application/json" and kind.startswith(("text/", "application/"))


def encode(pairs: list[tuple[str, str]]) -> str:
    return urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    """Write the counts of what was sent and what came back, for the closing note."""
    yield
    ARTIFACT.parent.mkdir(exist_ok=True)
    summary = {
        "total": sum(SENT.values()),
        "requests": dict(SENT),
        "statuses": {str(k): v for k, v in sorted(STATUSES.items())},
    }
    ARTIFACT.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


# --- /sparql ------------------------------------------------------------------------------------


@budget(400)
@given(params=parameters(), accept=st.one_of(st.none(), ACCEPTS), raw=st.none() | RAW_QUERY_STRINGS)
def test_sparql_get_with_any_parameters(
    live_server: LiveServer, params: list[tuple[str, str]], accept: str | None, raw: str | None
) -> None:
    target = "/sparql?" + "&".join(filter(None, [encode(params), raw]))
    headers = {"Accept": accept} if accept is not None else {}
    reply = fetch(live_server.url, target=target, headers=headers)
    SENT["sparql GET"] += 1
    sent = target.encode() + (accept or "").encode("latin-1")
    check(reply, urllib.parse.unquote_to_bytes(target) + sent, f"GET {target} Accept={accept!r}")
    if 400 <= reply.status < 500:
        message = json.loads(reply.body)["error"]
        assert SPARQL_NAMES.search(message), (target, message)


@budget(300)
@given(
    url_params=parameters(),
    form_params=parameters(),
    accept=st.one_of(st.none(), ACCEPTS),
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=latin-1",
            "application/sparql-query",
            "application/sparql-query; charset=utf-8",
            "application/sparql-query; charset=iso-8859-1",
            "application/sparql-update",
            "text/plain",
            "multipart/form-data; boundary=x",
            "",
        ]
    ),
    body_bytes=st.none() | st.binary(max_size=60),
)
def test_sparql_post_with_any_parameters(
    live_server: LiveServer,
    url_params: list[tuple[str, str]],
    form_params: list[tuple[str, str]],
    accept: str | None,
    content_type: str,
    body_bytes: bytes | None,
) -> None:
    """A form, a query as the body (its parameters in the URL), or bytes of any kind."""
    if body_bytes is not None:
        body = body_bytes
    elif content_type.startswith("application/sparql-"):
        body = next((v for k, v in form_params if k == "query"), "").encode()
    else:
        body = encode(form_params).encode()
    target = "/sparql?" + encode(url_params)
    headers = {"Content-Type": content_type} if content_type else {}
    if accept is not None:
        headers["Accept"] = accept
    reply = fetch(live_server.url, method="POST", target=target, body=body, headers=headers)
    SENT["sparql POST"] += 1
    sent = b" ".join(
        [urllib.parse.unquote_to_bytes(target), urllib.parse.unquote_to_bytes(body), body]
    )
    check(reply, sent + (accept or "").encode("latin-1"), f"POST {target} {content_type} {body!r}")
    if 400 <= reply.status < 500:
        message = json.loads(reply.body)["error"]
        assert SPARQL_NAMES.search(message), (target, body, message)


# --- IRI paths ----------------------------------------------------------------------------------

SEGMENTS = st.one_of(
    st.sampled_from(
        [
            "city",
            "profile",
            "source",
            "liverpool-city-region",
            "City",
            "ontology",
            "profile/liverpool-city-region",
            ".",
            "..",
            "%2e%2e",
            "%2E%2E%2F",
            "..%2f..%2fetc%2fpasswd",
            "%00",
            "%0d%0aX-Evil:%201",
            "%C0%AF",
            "%FF",
            "%",
            "%25",
            "%20",
            "a+b",
            "~",
            "'",
            "%3E%20%3Fp%20%3Fo%20%7D%23",
            "",
        ]
    ),
    st.text(SENDABLE, max_size=12).map(lambda t: urllib.parse.quote(t, safe="")),
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=12).map(
        lambda t: urllib.parse.quote(t, safe="/%.~-_!$&'()*+,;=:@")
    ),
    st.integers(1000, 9000).map(lambda n: "a" * n),
)
SUFFIXES = st.sampled_from(["", ".ttl", ".html", ".jsonld", ".nt", ".rdf", ".json", ".xyz", "."])
PATH_QUERIES = st.sampled_from(
    [
        "?",
        "?page=2",
        "?page=0",
        "?page=-1",
        "?page=99999999999999999999",
        "?page=x",
        "?view=resource",
        "?format=ttl",
        "?x=%FF",
        "?page=1&page=2",
        "?view=resource&page=%E2%82%AC",
        "",
    ]
)


@budget(400)
@given(
    space=st.sampled_from(["/id/", "/def/", "/graph/", "/vocab/", "/id/city/", "/graph/profile/"]),
    segments=st.lists(SEGMENTS, min_size=1, max_size=4),
    suffix=SUFFIXES,
    query=PATH_QUERIES,
    accept=st.one_of(st.none(), ACCEPTS),
    method=st.sampled_from(["GET", "GET", "GET", "HEAD"]),
)
def test_iri_paths_of_any_shape(
    live_server: LiveServer,
    space: str,
    segments: list[str],
    suffix: str,
    query: str,
    accept: str | None,
    method: str,
) -> None:
    target = space + "/".join(segments) + suffix + query
    headers = {"Accept": accept} if accept is not None else {}
    reply = fetch(live_server.url, method=method, target=target, headers=headers)
    SENT[f"path {method}"] += 1
    if method == "HEAD":
        assert reply.status < 500 or reply.status == 503, (target, reply.status)
        return
    sent = urllib.parse.unquote_to_bytes(target) + (accept or "").encode("latin-1")
    check(reply, sent, f"{method} {target} Accept={accept!r}")
    if 400 <= reply.status < 500 and reply.status not in (414, 431) and not is_rdf_or_html(reply):
        message = json.loads(reply.body)["error"]
        path = urllib.parse.urlsplit(target).path
        named = (path, urllib.parse.unquote(path), "page:", "Accept:", "format:", "view:")
        assert any(part in message for part in named), (target, reply.status, message)


# --- found by fuzzing ---------------------------------------------------------------------------


def test_a_control_character_in_a_header_is_a_json_error_naming_it(
    live_server: LiveServer,
) -> None:
    reply = fetch(live_server.url, target="/sparql?query=ASK%7B%7D", headers={"Accept": "\x1f"})
    check(reply, b"\x1f", "GET /sparql Accept='\\x1f'")
    assert reply.status == 400
    assert json.loads(reply.body)["error"].startswith("Accept: ")


def test_a_content_length_of_thousands_of_digits_is_refused_and_kills_nothing(
    live_server: LiveServer,
) -> None:
    """Python's ``int()`` refuses a number of more than 4,300 digits: read in the event loop,
    such a length would end the web worker, and every request on it."""
    host, port = urllib.parse.urlsplit(live_server.url).netloc.split(":")
    workers = sorted(int(pid) for pid in children(live_server.process.pid))
    head = b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + b"9" * 5000
    with socket.create_connection((host, int(port)), timeout=10) as client:
        client.sendall(head + b"\r\nContent-Type: application/sparql-query\r\n\r\nASK {}")
        answer = client.recv(65536)
    assert answer.startswith((b"HTTP/1.1 413 ", b"HTTP/1.1 400 ")), answer[:200]
    assert fetch(live_server.url + "/-/ping").status == 200
    assert sorted(int(pid) for pid in children(live_server.process.pid)) == workers


def children(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
