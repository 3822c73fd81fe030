"""Raw HTTP helpers for the live-server tests: one request, its status, headers and body.

http.client rather than urllib: it sends only the headers a test names (no Accept, no
Connection: close), so content negotiation is tested exactly as written.
"""

from __future__ import annotations

import http.client
import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from conftest import LiveServer

IG = "https://w3id.org/innograph/def/"
CITY = "https://w3id.org/innograph/id/city/liverpool-city-region"
CITY_GRAPH = "https://w3id.org/innograph/graph/liverpool-city-region"
CITY_LABEL = "Liverpool City Region"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"

CITY_SELECT = (
    f"PREFIX ig: <{IG}> PREFIX rdfs: <{RDFS}>\n"
    "SELECT ?city ?label WHERE { ?city a ig:City ; rdfs:label ?label }"
)
CITY_ASK = f"ASK {{ <{CITY}> a <{IG}City> }}"
CITY_CONSTRUCT = f"PREFIX ig: <{IG}>\nCONSTRUCT {{ ?city a ig:City }} WHERE {{ ?city a ig:City }}"
CITY_DESCRIBE = f"DESCRIBE <{CITY}>"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def media_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    def json(self) -> Any:
        return json.loads(self.body)

    def vary(self) -> set[str]:
        values = self.headers.get_all("Vary") or []
        return {v.strip().lower() for value in values for v in value.split(",") if v.strip()}


def fetch(
    url: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Reply:
    """One request on a new connection; the body is read whole (not decoded)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


def query_url(server: LiveServer, params: dict[str, str] | list[tuple[str, str]]) -> str:
    return f"{server.sparql}?{urlencode(params)}"


def get(
    server: LiveServer,
    query: str | None = None,
    headers: dict[str, str] | None = None,
    **params: str,
) -> Reply:
    """GET /sparql with query= and other parameters (``default_graph_uri`` → default-graph-uri)."""
    pairs = [("query", query)] if query is not None else []
    pairs += [(name.replace("_", "-"), value) for name, value in params.items()]
    return fetch(query_url(server, pairs), headers=headers)


def post_form(
    server: LiveServer,
    pairs: list[tuple[str, str]],
    url_pairs: list[tuple[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    url = query_url(server, url_pairs) if url_pairs else server.sparql
    return fetch(
        url, "POST", urlencode(pairs).encode("ascii"), {"Content-Type": FORM, **(headers or {})}
    )


def post_query(
    server: LiveServer,
    text: str | bytes,
    headers: dict[str, str] | None = None,
    url_pairs: list[tuple[str, str]] | None = None,
) -> Reply:
    url = query_url(server, url_pairs) if url_pairs else server.sparql
    body = text.encode("utf-8") if isinstance(text, str) else text
    return fetch(url, "POST", body, {"Content-Type": SPARQL_QUERY, **(headers or {})})


def fresh(query: str) -> str:
    """The same query with a unique comment: a new cache key, so the engine really runs it."""
    return f"{query}\n# {uuid.uuid4().hex}"


def assert_json_error(reply: Reply, status: int, *words: str) -> str:
    """A JSON error of this status, a readable message (containing ``words``), no traceback."""
    assert reply.status == status, (reply.status, reply.body[:500])
    assert reply.media_type == "application/json", reply.header("Content-Type")
    assert b"Traceback" not in reply.body
    assert b'File "' not in reply.body
    document = reply.json()
    message = document["error"]
    assert isinstance(message, str)
    assert message.strip()
    assert document.get("status") == status
    for word in words:
        assert word.lower() in message.lower(), (word, message)
    return message


def bindings(reply: Reply) -> list[dict[str, Any]]:
    assert reply.status == 200, (reply.status, reply.body[:500])
    assert reply.media_type == "application/sparql-results+json"
    return reply.json()["results"]["bindings"]  # type: ignore[no-any-return]


def count(server: LiveServer, pattern: str = "?s ?p ?o", **params: str) -> int:
    """COUNT(*) of a pattern, run afresh (not from the answer cache)."""
    rows = bindings(get(server, fresh(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}"), **params))
    return int(rows[0]["n"]["value"])
