"""Canned queries over real HTTP (``innograph serve`` on 127.0.0.1): /queries, each query's form
page, its CSV and JSON, checked against the same SPARQL run through /sparql with SPARQLWrapper;
bad values and values that try an injection are refused with a 400 naming what is allowed.

The allowed values are read from the form's own ``<select>``, never from the code under test.
"""

from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from SPARQLWrapper import JSON, SPARQLWrapper

from conftest import (
    LIVE_MAX_RESULT_BYTES,
    ROOT,
    TEST_BACKEND,
    LiveServer,
    start_server,
    stop_server,
)
from innograph.query import canned

QUERIES = ROOT / "queries"
CATALOGUE = canned.load(QUERIES)
CANNED = sorted(name for name, query in CATALOGUE.items() if query.parameters)
PLAIN = sorted(name for name, query in CATALOGUE.items() if not query.parameters)
SEED_CITY = "liverpool-city-region"
SEED_CITY_LABEL = "Liverpool City Region"
INJECTIONS = (
    "liverpool-city-region> } ; DROP ALL ; #",
    "https://w3id.org/innograph/id/city/liverpool-city-region> } UNION { ?s ?p ?o",
    'health" } ; DROP GRAPH <x> ; #',
    "health' OR '1'='1",
    "<script>alert(1)</script>",
)


# --- helpers -------------------------------------------------------------------------------


def get(server: LiveServer, path: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(f"{server.url}{path}", timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class Page(HTMLParser):
    """What a test reads of a query page: the title, the selects and their options, the SPARQL
    shown, the table's header and cells, and every link."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.selects: dict[str, list[tuple[str, str]]] = {}
        self.code = ""
        self.header: list[str] = []
        self.rows: list[list[str]] = []
        self.links: list[str] = []
        self._open: list[str] = []
        self._select: str | None = None
        self._option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self._open.append(tag)
        if tag == "select":
            self._select = found.get("name") or ""
            self.selects[self._select] = []
        elif tag == "option":
            self._option = found.get("value") or ""
        elif tag == "a" and found.get("href"):
            self.links.append(found["href"] or "")
        elif tag == "tr" and "tbody" in self._open:
            self.rows.append([])
        elif tag == "td" and "tbody" in self._open and self.rows:
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop() != tag:
            pass
        if tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        where = self._open[-1] if self._open else ""
        if where == "title":
            self.title += data
        elif where == "option" and self._select is not None and self._option is not None:
            self.selects[self._select].append((self._option, data.strip()))
            self._option = None
        elif where == "code" and "pre" in self._open:
            self.code += data
        elif where == "th" and "thead" in self._open:
            self.header.append(data)
        elif where == "td" and "tbody" in self._open and self.rows and self.rows[-1]:
            self.rows[-1][-1] += data


def page(server: LiveServer, path: str) -> Page:
    status, headers, body = get(server, path)
    assert status == 200, body[:300]
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    parsed = Page()
    parsed.feed(body.decode("utf-8"))
    return parsed


def sparql_rows(server: LiveServer, text: str) -> list[dict[str, str]]:
    """The query's answer from /sparql, through SPARQLWrapper, as plain values."""
    client = SPARQLWrapper(server.sparql)
    client.setQuery(text)
    client.setReturnFormat(JSON)
    answer: Any = client.query().convert()
    return plain(answer)


def plain(answer: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {name: value["value"] for name, value in row.items()}
        for row in answer["results"]["bindings"]
    ]


def canned_json(server: LiveServer, name: str, **values: str) -> dict[str, Any]:
    path = f"/queries/{name}.json?{urllib.parse.urlencode(values)}"
    status, headers, body = get(server, path)
    assert status == 200, body[:300]
    assert headers["Content-Type"] == "application/sparql-results+json; charset=utf-8"
    answer: dict[str, Any] = json.loads(body)
    return answer


def as_key(row: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(row.items()))


def error_of(status: int, body: bytes) -> str:
    assert status == 400, body[:300]
    found = json.loads(body)
    assert found["status"] == 400
    message: str = found["error"]
    return message


# --- the index -----------------------------------------------------------------------------


def test_the_index_links_every_catalogue_query(live_server: LiveServer) -> None:
    index = page(live_server, "/queries")
    assert index.title == "Canned queries · innograph"
    for name in CATALOGUE:
        assert f"/queries/{name}" in index.links
        assert f"/queries/{name}.csv" in index.links
        assert f"/queries/{name}.json" in index.links
    for link in {link for link in index.links if link.startswith("/queries/")}:
        assert get(live_server, link)[0] == 200, link


def test_the_catalogue_has_canned_queries_for_city_area_and_funding_source() -> None:
    takes = {p.kind + " " + (p.scheme or "") for q in CATALOGUE.values() for p in q.parameters}
    assert "city " in takes
    assert "concept https://w3id.org/innograph/vocab/policy-areas" in takes
    assert "concept https://w3id.org/innograph/vocab/funding-sources" in takes
    assert len(CANNED) >= 10


# --- each canned query: the form, the table, the SPARQL shown ------------------------------


@pytest.mark.parametrize("name", CANNED)
def test_the_form_offers_the_values_the_store_holds(live_server: LiveServer, name: str) -> None:
    query = CATALOGUE[name]
    shown = page(live_server, f"/queries/{name}")
    assert shown.title == f"{query.question} · innograph"
    assert set(shown.selects) == {p.name for p in query.parameters}
    for parameter in query.parameters:
        options = dict(shown.selects[parameter.name])
        assert options[""] == "any"
        if parameter.kind == "city":
            assert options == {"": "any", SEED_CITY: SEED_CITY_LABEL}
        else:  # the scheme's survey options are there, with their labels
            assert len(options) > 3
            assert all(label for label in options.values())
    # the page's SPARQL is the file (escaped on the way: it is full of <IRIs>)
    assert shown.code == (QUERIES / f"{name}.rq").read_text(encoding="utf-8")
    # the table is the answer of that SPARQL through /sparql
    expected = sparql_rows(live_server, shown.code)
    assert shown.rows == [[row.get(n, "") for n in shown.header] for row in expected]


@pytest.mark.parametrize("name", CANNED)
def test_a_chosen_value_gives_the_rows_of_that_value(live_server: LiveServer, name: str) -> None:
    """On the seed, a value's rows are those of the unbound query that name its label."""
    query = CATALOGUE[name]
    every = sparql_rows(live_server, (QUERIES / f"{name}.rq").read_text(encoding="utf-8"))
    options = page(live_server, f"/queries/{name}").selects
    for parameter in query.parameters:
        for key, label in options[parameter.name][1:]:
            chosen = page(live_server, f"/queries/{name}?{parameter.name}={key}")
            selected = canned_json(live_server, name, **{parameter.name: key})
            named = label.removesuffix(" (own wording)")  # how the form marks a city's own words
            expected = [row for row in every if named in row.values()]
            assert plain(selected) == expected, (parameter.name, key)
            # the SPARQL shown binds the value, and /sparql gives the same answer for it
            assert f"# {parameter.name} = {key}" in chosen.code
            assert sparql_rows(live_server, chosen.code) == plain(selected)
            assert len(chosen.rows) == len(expected)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_csv_and_json_are_the_endpoints_answer(live_server: LiveServer, name: str) -> None:
    """Unbound, the answer is the file's, byte for byte what /sparql gives in each format."""
    text = (QUERIES / f"{name}.rq").read_text(encoding="utf-8")
    for fmt, media in (("csv", "text/csv"), ("json", "application/sparql-results+json")):
        status, headers, body = get(live_server, f"/queries/{name}.{fmt}")
        assert status == 200, body[:300]
        assert headers["Content-Type"] == f"{media}; charset=utf-8"
        asked = urllib.parse.urlencode({"query": text, "format": fmt})
        assert body == get(live_server, f"/sparql?{asked}")[2]
        if fmt == "json":
            assert headers["X-Result-Rows"] == str(len(plain(json.loads(body))))


@pytest.mark.skipif(
    TEST_BACKEND == "embedded",
    reason="over store servers only (make test-backends): the embedded answers are the reference",
)
def test_planned_after_the_whole_catalogue_each_query_answers_as_embedded(
    live_server: LiveServer, seed_store: Path
) -> None:
    """A store server plans a query with what it learnt planning others: Virtuoso, planning
    about-partner-type-or-unit after who-held-which-post-when, lost rows (issue 16). Once the
    whole catalogue was asked, each query asked again (a new text, planned again) answers as
    the embedded store does."""
    texts = {name: (QUERIES / f"{name}.rq").read_text(encoding="utf-8") for name in CATALOGUE}
    for text in texts.values():
        get(live_server, "/sparql?" + urllib.parse.urlencode({"query": text, "format": "csv"}))
    again = {
        name: "/sparql?" + urllib.parse.urlencode({"query": f"{text}\n# again\n", "format": "json"})
        for name, text in texts.items()
    }
    limits = {
        "INNOGRAPH_MAX_ROWS": "1000",
        "INNOGRAPH_MAX_RESULT_BYTES": str(LIVE_MAX_RESULT_BYTES),
    }
    embedded = start_server(seed_store, limits)
    try:
        answers = {
            name: (get(embedded, path), get(live_server, path)) for name, path in again.items()
        }
    finally:
        stop_server(embedded)
    assert [name for name, (mine, theirs) in answers.items() if mine[2] != theirs[2]] == []
    assert {mine[0] for mine, _ in answers.values()} == {200}


@pytest.mark.parametrize("name", CANNED)
def test_the_csv_of_a_chosen_value_is_its_json(live_server: LiveServer, name: str) -> None:
    parameter = CATALOGUE[name].parameters[0]
    key = page(live_server, f"/queries/{name}").selects[parameter.name][1][0]
    status, _, body = get(live_server, f"/queries/{name}.csv?{parameter.name}={key}")
    assert status == 200
    table = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    answer = canned_json(live_server, name, **{parameter.name: key})
    names = answer["head"]["vars"]
    assert table[0] == names
    assert table[1:] == [[row.get(n, "") for n in names] for row in plain(answer)]


def test_a_value_may_be_the_full_iri(live_server: LiveServer) -> None:
    iri = f"https://w3id.org/innograph/id/city/{SEED_CITY}"
    by_iri = canned_json(live_server, "city-overview", city=iri)
    assert by_iri == canned_json(live_server, "city-overview", city=SEED_CITY)
    assert plain(by_iri)[0]["city"] == SEED_CITY_LABEL


# --- refused values ------------------------------------------------------------------------


@pytest.mark.parametrize("name", CANNED)
def test_a_bad_value_is_400_naming_the_parameter_and_its_values(
    live_server: LiveServer, name: str
) -> None:
    for parameter in CATALOGUE[name].parameters:
        allowed = [key for key, _ in page(live_server, f"/queries/{name}").selects[parameter.name]]
        for suffix in ("", ".csv", ".json"):
            status, headers, body = get(
                live_server, f"/queries/{name}{suffix}?{parameter.name}=atlantis"
            )
            message = error_of(status, body)
            assert headers["Content-Type"] == "application/json"
            assert message.startswith(f"{parameter.name}: 'atlantis' is not a {parameter.label}")
            assert all(key in message for key in allowed[1:13])  # shortened when many


@pytest.mark.parametrize("value", INJECTIONS)
def test_a_value_that_tries_an_injection_is_refused(live_server: LiveServer, value: str) -> None:
    for name, parameter in (("city-overview", "city"), ("cities-by-policy-area", "area")):
        query = urllib.parse.urlencode({parameter: value})
        status, _, body = get(live_server, f"/queries/{name}.json?{query}")
        message = error_of(status, body)
        assert message.startswith(f"{parameter}: ")
        assert "takes one of" in message
        assert (SEED_CITY if parameter == "city" else "health") in message


def test_other_mistakes_are_named(live_server: LiveServer) -> None:
    status, _, body = get(live_server, "/queries/city-overview?town=x")
    assert error_of(status, body) == "town: not a parameter of city-overview; it takes city"
    status, _, body = get(live_server, "/queries/city-overview?city=a&city=b")
    assert error_of(status, body) == "city: given 2 times; give it once"
    status, _, body = get(live_server, "/queries/no-such-query.csv")
    assert status == 404
    assert "no such canned query" in json.loads(body)["error"]
    status, _, body = get(live_server, f"/queries/{PLAIN[0]}?city={SEED_CITY}")
    assert error_of(status, body) == f"city: not a parameter of {PLAIN[0]}; it takes no parameters"


def test_an_empty_value_is_every_value(live_server: LiveServer) -> None:
    """The form's "any" sends an empty value: the query runs as the file reads."""
    assert canned_json(live_server, "cities-by-policy-area", area="", city="") == canned_json(
        live_server, "cities-by-policy-area"
    )


# --- many cities: each value's answer is a part, and the parts make the whole --------------


def test_the_values_of_a_parameter_split_the_answer(fragments_server: LiveServer) -> None:
    narrowed = 0
    for name in CANNED:
        every = Counter(
            as_key(row)
            for row in sparql_rows(
                fragments_server, (QUERIES / f"{name}.rq").read_text(encoding="utf-8")
            )
        )
        options = page(fragments_server, f"/queries/{name}").selects
        for parameter in CATALOGUE[name].parameters:
            parts: Counter[tuple[tuple[str, str], ...]] = Counter()
            answered = 0
            for key, _ in options[parameter.name][1:]:
                rows = plain(canned_json(fragments_server, name, **{parameter.name: key}))
                parts.update(as_key(row) for row in rows)
                answered += bool(rows)
            assert parts == every, (name, parameter.name)
            narrowed += answered > 1
    assert narrowed >= 10  # most parameters split the answer among several values
