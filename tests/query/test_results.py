"""innograph.query.writers: SPARQL answer writers, checked against the W3C test suite and by unit tests.

The W3C part runs every query-evaluation test of ../shared/conformance/w3c-sparql11 whose expected
answer is a results document (.srj, .srx, .csv, .tsv): load the data into a pyoxigraph Store,
run the query, write the answer with ``write_solutions`` / ``write_boolean`` in the expected
file's format and compare both documents after parsing them:

* solutions are a multiset unless the query says ORDER BY; blank nodes match up to a consistent
  renaming; for ``SELECT *`` the variable order is not significant (the JSON spec says so);
* RDF 1.1: an expected ``datatype="…#string"`` (SPARQL 1.0 era files) is a simple literal, and
  language tags compare case-insensitively. Our own documents get no such leniency: a JSON term
  with an unknown key or an ``xsd:string`` datatype fails;
* CSV is compared as strings (the format keeps nothing else), row by row after RFC 4180 parsing;
* TSV numbers (xsd:integer, decimal, double, float) compare by datatype and value: the suite's own
  csvtsv03.tsv writes the data's ``"1.0E6"^^xsd:double`` as ``1.0e6``, so it cannot mean lexical
  equality there. Every other TSV term compares as an RDF term.

Each expected answer is also parsed (lexical forms kept) and written back, engine-free: every
KNOWN_GAPS entry passes that way, so the gaps come from pyoxigraph's store, not from the writers.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import count, islice
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.collection import Collection

from conftest import SHARED, SHARED_ABSENT
from innograph.query.writers import (
    BOOLEAN_FORMATS,
    GRAPH_FORMATS,
    SOLUTION_FORMATS,
    gzipped,
    write_boolean,
    write_graph,
    write_solutions,
)

SUITE = SHARED / "conformance" / "w3c-sparql11"
needs_suite = pytest.mark.skipif(not SUITE.is_dir(), reason=SHARED_ABSENT)

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
RESULT_FORMATS = {".srj": "json", ".srx": "xml", ".csv": "csv", ".tsv": "tsv"}

_STORE_CANONICALISES = (
    "pyoxigraph's store keeps numeric literals as values and hands back their canonical lexical "
    "form ({}); the expected answer keeps the data's lexical form"
)
KNOWN_GAPS: dict[str, str] = {
    "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/csv-tsv-res/manifest#csv03": (
        _STORE_CANONICALISES.format('"1.0E6"^^xsd:double comes back as "1000000"')
    ),
    "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/csv-tsv-res/manifest#tsv03": (
        'pyoxigraph\'s store turns "-3"^^xsd:negativeInteger into "-3"^^xsd:integer '
        "(DATATYPE() says xsd:integer too); the expected answer keeps xsd:negativeInteger"
    ),
    "http://www.w3.org/2001/sw/DataAccess/tests/data-r2/distinct/manifest#no-distinct-1": (
        _STORE_CANONICALISES.format('"01", "+1" -> "1"; "1.0" -> "1"; "1.3e0" -> "1.3"')
    ),
    "http://www.w3.org/2001/sw/DataAccess/tests/data-r2/distinct/manifest#distinct-1": (
        _STORE_CANONICALISES.format('so DISTINCT also merges "1", "01" and "+1"')
    ),
    "http://www.w3.org/2001/sw/DataAccess/tests/data-r2/distinct/manifest#no-distinct-9": (
        _STORE_CANONICALISES.format("the numbers part of data-all.ttl")
    ),
    "http://www.w3.org/2001/sw/DataAccess/tests/data-r2/distinct/manifest#distinct-9": (
        _STORE_CANONICALISES.format("the numbers part of data-all.ttl")
    ),
}


# --- The W3C tests ----------------------------------------------------------------------------


@dataclass(frozen=True)
class W3CTest:
    iri: str
    query: Path
    data: tuple[Path, ...]
    graph_data: tuple[Path, ...]
    result: Path

    @property
    def fmt(self) -> str:
        return RESULT_FORMATS.get(self.result.suffix, "graph")

    @property
    def id(self) -> str:
        folder, name = self.iri.rsplit("/", 2)[-2], self.iri.rsplit("#", 1)[-1]
        return f"{folder}#{name}"


def _path(node: rdflib.term.Node) -> Path:
    return Path(url2pathname(urlparse(str(node)).path))


def _w3c_tests() -> list[W3CTest]:
    tests = []
    for manifest in sorted(SUITE.rglob("manifest.ttl")):
        graph = rdflib.Graph().parse(manifest, format="turtle", publicID=manifest.as_uri())
        for head in graph.objects(None, MF.entries):
            for entry in Collection(graph, head):
                action, result = graph.value(entry, MF.action), graph.value(entry, MF.result)
                kinds = set(graph.objects(entry, rdflib.RDF.type))
                if result is None or not kinds & {MF.QueryEvaluationTest, MF.CSVResultFormatTest}:
                    continue
                tests.append(
                    W3CTest(
                        iri=str(entry),
                        query=_path(graph.value(action, QT.query)),
                        data=tuple(sorted(map(_path, graph.objects(action, QT.data)))),
                        graph_data=tuple(sorted(map(_path, graph.objects(action, QT.graphData)))),
                        result=_path(result),
                    )
                )
    return tests


W3C_TESTS = _w3c_tests() if SUITE.is_dir() else []
RESULT_TESTS = [t for t in W3C_TESTS if t.fmt != "graph"]
GRAPH_TESTS = [t for t in W3C_TESTS if t.fmt == "graph"]


def _with_known_gaps(tests: list[W3CTest]) -> list[object]:
    return [
        pytest.param(
            t,
            id=t.id,
            marks=[pytest.mark.xfail(reason=KNOWN_GAPS[t.iri], strict=True)]
            if t.iri in KNOWN_GAPS
            else [],
        )
        for t in tests
    ]


@needs_suite
def test_the_suite_holds_the_result_format_tests() -> None:
    assert Counter(t.fmt for t in RESULT_TESTS) == {"xml": 15, "json": 4, "csv": 3, "tsv": 3}
    assert len(GRAPH_TESTS) == 10
    assert set(KNOWN_GAPS) <= {t.iri for t in RESULT_TESTS}
    for t in W3C_TESTS:
        assert t.query.is_file(), t.id
        assert t.result.is_file(), t.id
        assert all(p.is_file() for p in t.data + t.graph_data), t.id


def _load_store(test: W3CTest) -> ox.Store:
    store = ox.Store()
    for path in test.data:
        store.load(path=path, format=ox.RdfFormat.TURTLE, base_iri=path.as_uri())
    for path in test.graph_data:
        store.load(
            path=path,
            format=ox.RdfFormat.TURTLE,
            base_iri=path.as_uri(),
            to_graph=ox.NamedNode(path.as_uri()),
        )
    return store


def _answer_with_pyoxigraph(test: W3CTest) -> bytes:
    answer = _load_store(test).query(test.query.read_text(), base_iri=test.query.as_uri())
    if isinstance(answer, ox.QueryBoolean):
        return write_boolean(bool(answer), test.fmt)
    assert isinstance(answer, ox.QuerySolutions)
    body, _written, truncated = write_solutions(answer.variables, answer, test.fmt, 10_000)
    assert not truncated
    return body


@pytest.mark.parametrize("test", _with_known_gaps(RESULT_TESTS))
def test_w3c_answer(test: W3CTest) -> None:
    assert_same_answer(test, _answer_with_pyoxigraph(test))


@pytest.mark.parametrize("test", [t for t in RESULT_TESTS if t.fmt != "csv"], ids=lambda t: t.id)
def test_w3c_expected_answer_written_back(test: W3CTest) -> None:
    """The writers reproduce each expected answer from its own terms (no engine involved).

    pyoxigraph's results parser keeps lexical forms, so this covers the KNOWN_GAPS tests too:
    what fails there is the store, not the writers. (A CSV answer holds no terms to start from.)
    """
    fmt = getattr(ox.QueryResultsFormat, test.fmt.upper())
    answer = ox.parse_query_results(path=test.result, format=fmt)
    if isinstance(answer, ox.QueryBoolean):
        assert_same_answer(test, write_boolean(bool(answer), test.fmt))
        return
    body, _written, truncated = write_solutions(answer.variables, answer, test.fmt, 10_000)
    assert not truncated
    assert_same_answer(test, body)


@needs_suite
def test_the_known_gaps_come_from_the_pyoxigraph_store() -> None:
    """What KNOWN_GAPS describe; when this fails, pyoxigraph changed: revisit KNOWN_GAPS."""
    store = ox.Store()
    stored = {
        "01": lit("01", XSD + "integer"),
        "+1": lit("+1", XSD + "integer"),
        "1.0": lit("1.0", XSD + "decimal"),
        "1.3e0": lit("1.3e0", XSD + "double"),
        "1.0E6": lit("1.0E6", XSD + "double"),
        "-3": lit("-3", XSD + "negativeInteger"),
        "a7": lit("a7", XSD + "hexBinary"),
    }
    for key, literal in stored.items():
        store.add(ox.Quad(ox.NamedNode(EX + key), P, literal))
    back = {
        q.subject.value.removeprefix(EX): q.object for q in store.quads_for_pattern(None, P, None)
    }
    assert back == {
        "01": lit("1", XSD + "integer"),
        "+1": lit("1", XSD + "integer"),
        "1.0": lit("1", XSD + "decimal"),
        "1.3e0": lit("1.3", XSD + "double"),
        "1.0E6": lit("1000000", XSD + "double"),
        "-3": lit("-3", XSD + "integer"),
        "a7": lit("a7", XSD + "hexBinary"),
    }


@pytest.mark.parametrize("fmt", sorted(GRAPH_FORMATS))
@pytest.mark.parametrize("test", GRAPH_TESTS, ids=lambda t: t.id)
def test_w3c_construct_answer_in_every_graph_format(test: W3CTest, fmt: str) -> None:
    answer = _load_store(test).query(test.query.read_text(), base_iri=test.query.as_uri())
    assert isinstance(answer, ox.QueryTriples)
    body, written, truncated = write_graph(answer, fmt, 10_000, prefixes={"ex": "http://example/"})
    assert not truncated
    back = _parse_graph(body, fmt)
    assert len(back) == written
    expected = [q.triple for q in ox.parse(path=test.result, format=ox.RdfFormat.TURTLE)]
    assert_same_rows(_triple_rows(expected), _triple_rows(back), ordered=False)


# --- Reading results documents into comparable rows --------------------------------------------

# A term: ("uri", iri) | ("bnode", label) | ("literal", lexical, lang, dir, datatype) |
# ("triple", s, p, o) | ("number", value, datatype) (TSV) | ("str", text) (CSV).
Row = dict[str, tuple]


@dataclass
class Answer:
    variables: list[str] | None = None
    rows: list[Row] | None = None
    boolean: bool | None = None


def _from_ox(term: object) -> tuple:
    if isinstance(term, ox.NamedNode):
        return ("uri", term.value)
    if isinstance(term, ox.BlankNode):
        return ("bnode", term.value)
    if isinstance(term, ox.Literal):
        language = term.language.lower() if term.language is not None else None
        direction = term.direction.value if term.direction is not None else None
        datatype = term.datatype.value
        plain = language is not None or datatype == XSD + "string"
        return ("literal", term.value, language, direction, None if plain else datatype)
    assert isinstance(term, ox.Triple), term
    return ("triple", _from_ox(term.subject), _from_ox(term.predicate), _from_ox(term.object))


_JSON_KEYS = {
    "uri": {"type", "value"},
    "bnode": {"type", "value"},
    "literal": {"type", "value", "xml:lang", "its:dir", "datatype"},
    "triple": {"type", "value"},
}


def _from_json(term: dict) -> tuple:
    kind = term["type"]
    assert set(term) <= _JSON_KEYS[kind], term
    if kind in ("uri", "bnode"):
        return (kind, term["value"])
    if kind == "literal":
        assert not ("xml:lang" in term and "datatype" in term), term
        language = term.get("xml:lang")
        language = language.lower() if language is not None else None
        return ("literal", term["value"], language, term.get("its:dir"), term.get("datatype"))
    value = term["value"]
    assert set(value) == {"subject", "predicate", "object"}, term
    return ("triple", *(_from_json(value[k]) for k in ("subject", "predicate", "object")))


def read_json(body: bytes) -> Answer:
    document = json.loads(body)
    if "boolean" in document:
        assert document["head"] == {}
        assert "results" not in document
        assert isinstance(document["boolean"], bool)
        return Answer(boolean=document["boolean"])
    variables = document["head"]["vars"]
    rows = [{k: _from_json(v) for k, v in b.items()} for b in document["results"]["bindings"]]
    assert all(set(row) <= set(variables) for row in rows)
    return Answer(variables, rows)


_SR = "{http://www.w3.org/2005/sparql-results#}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_ITS_DIR = "{http://www.w3.org/2005/11/its}dir"


def _from_xml(element: ET.Element) -> tuple:
    kind = element.tag.removeprefix(_SR)
    if kind in ("uri", "bnode"):
        return (kind, element.text or "")
    if kind == "literal":
        language = element.get(_XML_LANG)
        language = language.lower() if language is not None else None
        datatype = element.get("datatype")
        assert language is None or datatype is None
        return ("literal", element.text or "", language, element.get(_ITS_DIR), datatype)
    assert kind == "triple", element.tag
    parts = [element.find(_SR + k) for k in ("subject", "predicate", "object")]
    assert all(p is not None and len(p) == 1 for p in parts)
    return ("triple", *(_from_xml(p[0]) for p in parts))


def read_xml(body: bytes) -> Answer:
    root = ET.fromstring(body)
    assert root.tag == _SR + "sparql"
    head = root.find(_SR + "head")
    assert head is not None
    variables = [v.get("name") for v in head.findall(_SR + "variable")]
    boolean = root.find(_SR + "boolean")
    if boolean is not None:
        assert variables == []
        assert root.find(_SR + "results") is None
        assert boolean.text in ("true", "false")
        return Answer(boolean=boolean.text == "true")
    results = root.find(_SR + "results")
    assert results is not None
    rows = []
    for result in results.findall(_SR + "result"):
        bindings = result.findall(_SR + "binding")
        assert all(len(b) == 1 for b in bindings)
        rows.append({b.get("name"): _from_xml(b[0]) for b in bindings})
    return Answer(variables, rows)


def read_csv(body: bytes) -> Answer:
    records = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    variables = records[0]

    def value(text: str) -> tuple | None:
        if text == "":  # CSV cannot tell an unbound variable from an empty string
            return None
        return ("bnode", text[2:]) if text.startswith("_:") else ("str", text)

    rows = []
    for record in records[1:]:
        assert len(record) == len(variables), record
        rows.append({n: v for n, t in zip(variables, record, strict=True) if (v := value(t))})
    return Answer(variables, rows)


_NUMBERS = {XSD + "integer": Decimal, XSD + "decimal": Decimal, XSD + "double": float}
_NUMBERS[XSD + "float"] = float


def _by_value(term: tuple) -> tuple:
    if term[0] == "triple":
        return ("triple", *map(_by_value, term[1:]))
    if term[0] == "literal" and term[4] in _NUMBERS:
        try:
            return ("number", _NUMBERS[term[4]](term[1]), term[4])
        except (InvalidOperation, ValueError):
            return term
    return term


def read_tsv(body: bytes) -> Answer:
    lines = body.decode("utf-8").split("\n")
    assert lines[-1] == "", "a TSV document ends with a line feed"
    header = lines[0].split("\t")
    assert all(h.startswith("?") for h in header), header
    assert all(line.count("\t") == len(header) - 1 for line in lines[1:-1])
    solutions = ox.parse_query_results(body, format=ox.QueryResultsFormat.TSV)
    variables = [v.value for v in solutions.variables]
    assert [f"?{v}" for v in variables] == header
    rows = [
        {v: _by_value(_from_ox(s[v])) for v in variables if s[v] is not None} for s in solutions
    ]
    return Answer(variables, rows)


READERS = {"json": read_json, "xml": read_xml, "csv": read_csv, "tsv": read_tsv}


def _rdf11(term: tuple) -> tuple:
    """An expected term read the RDF 1.1 way: ``"s"^^xsd:string`` is the simple literal "s"."""
    if term[0] == "triple":
        return ("triple", *map(_rdf11, term[1:]))
    if term[0] == "literal" and term[4] == XSD + "string":
        return (*term[:4], None)
    return term


def assert_same_answer(test: W3CTest, body: bytes) -> None:
    fmt = test.fmt
    if fmt == "csv":
        assert body.endswith(b"\r\n")
        assert body.count(b"\n") == body.count(b"\r\n")
    if fmt == "tsv":
        assert b"\r" not in body
    expected = READERS[fmt](test.result.read_bytes())
    actual = READERS[fmt](body)
    if expected.boolean is not None:
        assert actual.boolean is expected.boolean
        return
    assert actual.variables is not None
    assert actual.rows is not None
    assert expected.rows is not None
    query = test.query.read_text()
    if re.search(r"SELECT\s+(?:DISTINCT\s+|REDUCED\s+)?\*", query, re.IGNORECASE):
        assert sorted(actual.variables) == sorted(expected.variables or [])
    else:
        assert actual.variables == expected.variables
    expected_rows = [{k: _rdf11(v) for k, v in row.items()} for row in expected.rows]
    ordered = re.search(r"ORDER\s+BY", query, re.IGNORECASE) is not None
    assert_same_rows(expected_rows, actual.rows, ordered=ordered)


# --- Solutions equal up to blank-node renaming -------------------------------------------------


def _labels(term: tuple | None) -> Iterator[str]:
    if term is None:
        return
    if term[0] == "bnode":
        yield term[1]
    elif term[0] == "triple":
        for part in term[1:]:
            yield from _labels(part)


def _shape(row: Row) -> tuple:
    def blank(term: tuple) -> tuple:
        if term[0] == "bnode":
            return ("bnode", "")
        return ("triple", *map(blank, term[1:])) if term[0] == "triple" else term

    return tuple(sorted((k, blank(v)) for k, v in row.items()))


def _unify(expected: tuple | None, actual: tuple | None, mapping: dict) -> dict | None:
    if expected is None or actual is None:
        return mapping if expected is actual else None
    if expected[0] != actual[0]:
        return None
    if expected[0] == "bnode":
        if expected[1] in mapping:
            return mapping if mapping[expected[1]] == actual[1] else None
        if actual[1] in mapping.values():
            return None
        return {**mapping, expected[1]: actual[1]}
    if expected[0] == "triple":
        for e, a in zip(expected[1:], actual[1:], strict=True):
            if (mapping := _unify(e, a, mapping)) is None:  # type: ignore[assignment]
                return None
        return mapping
    return mapping if expected == actual else None


def _unify_rows(expected: Row, actual: Row, mapping: dict | None) -> dict | None:
    for key in expected.keys() | actual.keys():
        if mapping is None:
            return None
        mapping = _unify(expected.get(key), actual.get(key), mapping)
    return mapping


def assert_same_rows(expected: list[Row], actual: list[Row], *, ordered: bool) -> None:
    """Equal solution sequences (or multisets), blank nodes up to a consistent renaming."""
    assert Counter(map(_shape, actual)) == Counter(map(_shape, expected))
    if ordered:
        mapping: dict | None = {}
        for e, a in zip(expected, actual, strict=True):
            mapping = _unify_rows(e, a, mapping)
            assert mapping is not None, f"expected {e}, got {a}"
        return
    # Rows without blank nodes already matched as a multiset; search a bijection for the rest.
    blank_expected = [r for r in expected if any(_labels(t) for t in r.values())]
    blank_actual = [r for r in actual if any(_labels(t) for t in r.values())]

    def search(i: int, used: frozenset[int], mapping: dict) -> bool:
        if i == len(blank_expected):
            return True
        for j, row in enumerate(blank_actual):
            if j not in used:
                extended = _unify_rows(blank_expected[i], row, mapping)
                if extended is not None and search(i + 1, used | {j}, extended):
                    return True
        return False

    assert search(0, frozenset(), {}), "no consistent blank-node renaming"


def _triple_rows(triples: list[ox.Triple]) -> list[Row]:
    return [
        {"s": _from_ox(t.subject), "p": _from_ox(t.predicate), "o": _from_ox(t.object)}
        for t in triples
    ]


def _parse_graph(body: bytes, fmt: str) -> list[ox.Triple]:
    quads = list(ox.parse(body, format=GRAPH_FORMATS[fmt][1]))
    assert all(q.graph_name == ox.DefaultGraph() for q in quads)
    return [q.triple for q in quads]


# --- Unit tests: inputs ------------------------------------------------------------------------

EX = "http://example.org/"
S, P = ox.NamedNode(EX + "s"), ox.NamedNode(EX + "p")


def lit(value: str, datatype: str | None = None, **kw: object) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(datatype) if datatype else None, **kw)


TRICKY = [
    ox.NamedNode(EX + "a?b=1&c=%3C2%3E#frag"),
    ox.BlankNode("b0"),
    lit(""),
    lit('quote " comma , semicolon ; tab \t newline \n return \r backslash \\ end'),
    lit("unicode é 中文 😀 \u2028 \u00a0"),
    lit("<tag attr='x'>&amp; ]]></tag>"),
    lit("bonjour", language="fr"),
    lit("Hello", language="en-GB"),
    lit("مرحبا", language="ar", direction=ox.BaseDirection.RTL),
    lit("42", XSD + "integer"),
    lit("+1", XSD + "integer"),
    lit("5", XSD + "decimal"),
    lit("-0.5", XSD + "decimal"),
    lit("1.0E6", XSD + "double"),
    lit("INF", XSD + "double"),
    lit("true", XSD + "boolean"),
    lit("2024-01-02", XSD + "date"),
    lit("a7", XSD + "hexBinary"),
    lit("5,5", EX + "myCustomDatatype"),
    ox.Triple(S, P, lit('he said "hi"', language="en")),
    ox.Triple(ox.BlankNode("b0"), P, ox.Triple(S, P, ox.NamedNode(EX + "o"))),
]


def _rows(n: int) -> Iterator[list[ox.Literal]]:
    return ([lit(str(i), XSD + "integer")] for i in range(n))


def _guarded(total: int, allowed: int) -> Iterator[list[ox.Literal]]:
    """``total`` one-column rows; asking for more than ``allowed`` fails the test."""
    for i in range(total):
        if i >= allowed:
            raise AssertionError(f"row {i + 1} read: the writer should stop after {allowed}")
        yield [lit(str(i), XSD + "integer")]


def _row_count(body: bytes, fmt: str) -> int:
    answer = READERS[fmt](body)
    assert answer.rows is not None
    return len(answer.rows)


# --- Unit tests: truncation and reading early --------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(SOLUTION_FORMATS))
@pytest.mark.parametrize(("rows", "limit", "written", "truncated"), [
    (0, 0, 0, False),
    (1, 0, 0, True),
    (0, 5, 0, False),
    (4, 5, 4, False),
    (5, 5, 5, False),
    (6, 5, 5, True),
    (50, 5, 5, True),
])  # fmt: skip
def test_row_cap(fmt: str, rows: int, limit: int, written: int, truncated: bool) -> None:
    body, n, cut = write_solutions(["n"], _guarded(rows, limit + 1), fmt, limit)
    assert (n, cut) == (written, truncated)
    assert _row_count(body, fmt) == written


@pytest.mark.parametrize("fmt", sorted(SOLUTION_FORMATS))
def test_a_large_answer_is_read_only_up_to_the_cap(fmt: str) -> None:
    body, written, truncated = write_solutions(["n"], _guarded(100_000, 1001), fmt, 1000)
    assert (written, truncated) == (1000, True)
    assert _row_count(body, fmt) == 1000


def test_a_large_pyoxigraph_answer_is_read_only_up_to_the_cap() -> None:
    store = ox.Store()
    lines = "".join(f'<{EX}s{i}> <{EX}p> "{i}" .\n' for i in range(100_000))
    store.load(lines.encode(), format=ox.RdfFormat.N_TRIPLES)
    answer = store.query("SELECT ?s ?o WHERE { ?s ?p ?o }")
    reads = count()
    counted = (row for row in answer if next(reads) >= 0)
    body, written, truncated = write_solutions(answer.variables, counted, "json", 1000)
    assert (written, truncated, next(reads)) == (1000, True, 1001)
    assert len(json.loads(body)["results"]["bindings"]) == 1000


@pytest.mark.parametrize("fmt", sorted(GRAPH_FORMATS))
def test_graph_cap(fmt: str) -> None:
    def triples(total: int, allowed: int) -> Iterator[ox.Triple]:
        for i in range(total):
            assert i < allowed, "read past limit + 1"
            yield ox.Triple(S, P, lit(str(i), XSD + "integer"))

    for total, written, truncated in [(0, 0, False), (3, 3, False), (4, 3, True), (10**5, 3, True)]:
        body, n, cut = write_graph(triples(total, 4), fmt, 3)
        assert (n, cut) == (written, truncated)
        assert len(_parse_graph(body, fmt)) == written


@pytest.mark.parametrize("fmt", sorted(SOLUTION_FORMATS))
def test_size_cap_cuts_at_the_last_row_that_fits(fmt: str) -> None:
    rows = [[ox.Literal(f"{i} {'é' * 40}")] for i in range(50)]  # two bytes a character
    whole, _, _ = write_solutions(["x"], rows, fmt, 100)
    for cap in (len(whole) // 3, len(whole) - 1):
        body, written, truncated = write_solutions(["x"], rows, fmt, 100, max_bytes=cap)
        assert truncated
        assert 0 < written < 50
        assert len(body) <= cap
        assert body == write_solutions(["x"], rows[:written], fmt, 100)[0]  # a whole document
        assert len(write_solutions(["x"], rows[: written + 1], fmt, 100)[0]) > cap
        assert _row_count(body, fmt) == written
    assert write_solutions(["x"], rows, fmt, 100, max_bytes=len(whole)) == (whole, 50, False)


@pytest.mark.parametrize("fmt", sorted(GRAPH_FORMATS))
def test_size_cap_on_a_graph_holds_in_every_syntax(fmt: str) -> None:
    # '&' is five bytes in RDF/XML and the keys make JSON-LD heavier than N-Triples
    triples = [ox.Triple(S, P, ox.Literal(f"{i} {'&é' * 40}")) for i in range(50)]
    weight = sum(len(f"{triple} .\n".encode()) for triple in triples[:20])
    next_line = len(f"{triples[20]} .\n".encode())
    cap = weight + next_line - 1  # exactly 20 triples as N-Triples lines
    body, written, truncated = write_graph(triples, fmt, 100, max_bytes=cap)
    assert truncated
    assert len(body) <= cap
    assert len(_parse_graph(body, fmt)) == written
    if fmt in ("ntriples", "nquads"):
        assert written == 20
    else:
        assert 0 < written <= 20
    assert write_graph(triples, fmt, 100, max_bytes=10**6)[1:] == (50, False)


def test_a_graph_is_read_only_up_to_its_size_cap() -> None:
    def triples() -> Iterator[ox.Triple]:
        for i in range(10**5):
            assert i < 6, "read past the first triple over the size cap"
            yield ox.Triple(S, P, ox.Literal(f"{i}"))

    line = len(f"{ox.Triple(S, P, ox.Literal('0'))} .\n".encode())
    assert write_graph(triples(), "ntriples", 1000, max_bytes=5 * line)[1:] == (5, True)


# --- Unit tests: terms in each format ----------------------------------------------------------


def test_json_terms() -> None:
    variables = ["iri", "blank", "plain", "string", "lang", "dir", "typed", "unbound", "triple"]
    row = [
        ox.NamedNode(EX + "x"),
        ox.BlankNode("b1"),
        ox.Literal("plain"),
        lit("typed string", XSD + "string"),
        lit("chat", language="fr"),
        lit("x", language="ar", direction=ox.BaseDirection.RTL),
        lit("4", XSD + "integer"),
        None,
        ox.Triple(S, P, lit("o", language="en")),
    ]
    body, _, _ = write_solutions(variables, [row], "json", 10)
    assert json.loads(body) == {
        "head": {"vars": variables},
        "results": {
            "bindings": [
                {
                    "iri": {"type": "uri", "value": EX + "x"},
                    "blank": {"type": "bnode", "value": "b1"},
                    "plain": {"type": "literal", "value": "plain"},
                    "string": {"type": "literal", "value": "typed string"},
                    "lang": {"type": "literal", "value": "chat", "xml:lang": "fr"},
                    "dir": {"type": "literal", "value": "x", "xml:lang": "ar", "its:dir": "rtl"},
                    "typed": {"type": "literal", "value": "4", "datatype": XSD + "integer"},
                    "triple": {
                        "type": "triple",
                        "value": {
                            "subject": {"type": "uri", "value": EX + "s"},
                            "predicate": {"type": "uri", "value": EX + "p"},
                            "object": {"type": "literal", "value": "o", "xml:lang": "en"},
                        },
                    },
                }
            ]
        },
    }


def test_json_escapes_control_characters() -> None:
    value = 'a"b\\c\nd\re\tf\x00g\x01h\x1fi\x7fj\u2028k'
    body, _, _ = write_solutions(["v"], [[lit(value)]], "json", 1)
    text = body.decode("utf-8")
    assert all(f"\\u{c:04x}" in text for c in (0, 1, 0x1F))
    assert not re.search("[\x00-\x1f]", text)
    assert json.loads(body)["results"]["bindings"][0]["v"]["value"] == value


def test_xml_terms_and_escapes() -> None:
    variables = ["iri", "lit", "lang", "dir", "typed", "string", "unbound", "blank", "triple"]
    text = "a & b < c > d ]]> \"quoted\" 'single'\ttab\nline\rreturn"
    row = [
        ox.NamedNode(EX + "x?a=1&b=2"),
        lit(text),
        lit("chat", language="fr"),
        lit("x", language="ar", direction=ox.BaseDirection.RTL),
        lit("a&b", EX + "dt?x=1&y=2"),
        lit("s", XSD + "string"),
        None,
        ox.BlankNode("b1"),
        ox.Triple(S, P, lit("4", XSD + "integer")),
    ]
    body, _, _ = write_solutions(variables, [row], "xml", 10)
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    assert b"&#13;" in body
    assert b"\r" not in body
    root = ET.fromstring(body)
    assert [v.get("name") for v in root.iter(_SR + "variable")] == variables
    bindings = {b.get("name"): b[0] for b in root.iter(_SR + "binding") if b.get("name")}
    assert "unbound" not in bindings
    assert bindings["lit"].text == text
    assert bindings["lit"].attrib == {}
    assert bindings["string"].attrib == {}
    assert bindings["lang"].attrib == {_XML_LANG: "fr"}
    assert bindings["dir"].get(_ITS_DIR) == "rtl"
    assert bindings["typed"].attrib == {"datatype": EX + "dt?x=1&y=2"}
    assert bindings["iri"].text == EX + "x?a=1&b=2"
    assert bindings["blank"].tag == _SR + "bnode"
    assert read_xml(body).rows == [
        {v: _from_ox(t) for v, t in zip(variables, row, strict=True) if t is not None}
    ]


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x08", "\x0b", "\x1f", "\ufffe", "\uffff"])
def test_xml_refuses_characters_xml_cannot_carry(char: str) -> None:
    with pytest.raises(ValueError, match=r"XML 1\.0"):
        write_solutions(["v"], [[lit(f"a{char}b")]], "xml", 1)
    body, _, _ = write_solutions(["v"], [[lit(f"a{char}b")]], "json", 1)  # JSON can
    assert json.loads(body)["results"]["bindings"][0]["v"]["value"] == f"a{char}b"


def test_csv_values_and_quoting() -> None:
    rows = [
        [ox.NamedNode(EX + "x"), lit("plain"), None],
        [ox.BlankNode("b0"), lit('say "hi", then\nleave'), lit("tab\there")],
        [lit("chat", language="fr"), lit("4", XSD + "integer"), lit("1.0E6", XSD + "double")],
        [lit("x", language="ar", direction=ox.BaseDirection.RTL), lit("cr\rhere"), lit("")],
        [ox.Triple(S, P, lit('q"')), ox.Triple(S, P, ox.NamedNode(EX + "o")), None],
    ]
    body, written, _ = write_solutions(["a", "b", "c"], rows, "csv", 10)
    assert written == 5
    assert body.decode() == (
        "a,b,c\r\n"
        f"{EX}x,plain,\r\n"
        '_:b0,"say ""hi"", then\nleave",tab\there\r\n'
        "chat,4,1.0E6\r\n"
        'x,"cr\rhere",\r\n'
        f'"<< {EX}s {EX}p ""q"""""" >>",<< {EX}s {EX}p {EX}o >>,\r\n'
    )
    records = list(csv.reader(io.StringIO(body.decode(), newline="")))
    assert records[2] == ["_:b0", 'say "hi", then\nleave', "tab\there"]
    assert records[4] == ["x", "cr\rhere", ""]


def test_tsv_terms() -> None:
    cases = {
        ox.NamedNode(EX + "x"): f"<{EX}x>",
        ox.BlankNode("b0"): "_:b0",
        lit("plain"): '"plain"',
        lit("s", XSD + "string"): '"s"',
        lit('q"\\\t\n\r\x01'): '"q\\"\\\\\\t\\n\\r\\u0001"',
        lit("chat", language="fr"): '"chat"@fr',
        lit("x", language="ar", direction=ox.BaseDirection.RTL): '"x"@ar--rtl',
        lit("4", XSD + "integer"): "4",
        lit("+1", XSD + "integer"): "+1",
        lit("5.5", XSD + "decimal"): "5.5",
        lit(".5", XSD + "decimal"): ".5",
        lit("5", XSD + "decimal"): f'"5"^^<{XSD}decimal>',
        lit("1.0E6", XSD + "double"): "1.0E6",
        lit("1e0", XSD + "double"): "1e0",
        lit("1000000", XSD + "double"): f'"1000000"^^<{XSD}double>',
        lit("INF", XSD + "double"): f'"INF"^^<{XSD}double>',
        lit("1.5", XSD + "float"): f'"1.5"^^<{XSD}float>',
        lit("-3", XSD + "negativeInteger"): f'"-3"^^<{XSD}negativeInteger>',
        lit("true", XSD + "boolean"): f'"true"^^<{XSD}boolean>',
        lit("5,5", EX + "dt"): f'"5,5"^^<{EX}dt>',
        ox.Triple(S, P, lit("o", language="en")): f'<<( <{EX}s> <{EX}p> "o"@en )>>',
    }
    terms = list(cases)
    body, _, _ = write_solutions(["t"], [[t] for t in terms], "tsv", 100)
    assert body.decode().split("\n") == ["?t", *cases.values(), ""]
    back = [s["t"] for s in ox.parse_query_results(body, format=ox.QueryResultsFormat.TSV)]
    assert back == terms


def test_tsv_unbound_is_an_empty_field() -> None:
    body, _, _ = write_solutions(["a", "b", "c"], [[None, lit("x"), None]], "tsv", 1)
    assert body == b'?a\t?b\t?c\n\t"x"\t\n'


def test_no_variables() -> None:
    """``SELECT * {}`` has one solution binding nothing."""
    body = write_solutions([], [[]], "json", 5)[0]
    assert body == b'{"head":{"vars":[]},"results":{"bindings":[{}]}}'
    assert read_xml(write_solutions([], [[]], "xml", 5)[0]) == Answer([], [{}])
    assert write_solutions([], [[]], "csv", 5)[0] == b"\r\n\r\n"
    assert write_solutions([], [[]], "tsv", 5)[0] == b"\n\n"


@pytest.mark.parametrize("fmt", sorted(SOLUTION_FORMATS))
def test_no_rows(fmt: str) -> None:
    body, written, truncated = write_solutions(["x"], [], fmt, 5)
    assert (written, truncated) == (0, False)
    assert READERS[fmt](body) == Answer(["x"], [])


@pytest.mark.parametrize("fmt", ["json", "xml", "tsv"])
def test_lossless_formats_parse_back_to_the_same_terms(fmt: str) -> None:
    variables = [f"v{i}" for i in range(len(TRICKY))]
    rows = [TRICKY, [None] * len(TRICKY), list(reversed(TRICKY))]
    if fmt == "xml":  # XML 1.0 cannot carry U+0000-U+0008 and friends; TRICKY has none
        assert not any(re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", str(t)) for t in TRICKY)
    body, written, _ = write_solutions(variables, rows, fmt, 10)
    assert written == 3
    parsed = ox.parse_query_results(body, format=getattr(ox.QueryResultsFormat, fmt.upper()))
    assert [v.value for v in parsed.variables] == variables
    back = [{v: _from_ox(s[v]) for v in variables if s[v] is not None} for s in parsed]
    want = [
        {v: _from_ox(t) for v, t in zip(variables, row, strict=True) if t is not None}
        for row in rows
    ]
    assert_same_rows(want, back, ordered=True)
    # and our own strict readers agree
    mine = READERS[fmt](body).rows
    assert mine is not None
    if fmt == "tsv":
        want = [{k: _by_value(v) for k, v in row.items()} for row in want]
    assert_same_rows(want, mine, ordered=True)


def test_a_query_solutions_object_is_accepted_as_rows() -> None:
    store = ox.Store()
    store.add(ox.Quad(S, P, lit("o", language="en")))
    answer = store.query("SELECT ?s ?missing ?o WHERE { ?s ?p ?o }")
    body, written, truncated = write_solutions(answer.variables, answer, "json", 10)
    assert (written, truncated) == (1, False)
    assert json.loads(body)["results"]["bindings"] == [
        {
            "s": {"type": "uri", "value": EX + "s"},
            "o": {"type": "literal", "value": "o", "xml:lang": "en"},
        }
    ]


# --- Unit tests: ASK ---------------------------------------------------------------------------


def test_boolean_answers() -> None:
    assert write_boolean(True, "json") == b'{"head":{},"boolean":true}'
    assert json.loads(write_boolean(False, "json")) == {"head": {}, "boolean": False}
    assert read_xml(write_boolean(True, "xml")).boolean is True
    assert read_xml(write_boolean(False, "xml")).boolean is False
    assert set(BOOLEAN_FORMATS) == {"json", "xml"}


@pytest.mark.parametrize("fmt", ["csv", "tsv", "turtle", "html"])
def test_boolean_answers_have_no_csv_or_tsv_form(fmt: str) -> None:
    with pytest.raises(ValueError, match="SELECT only" if fmt in ("csv", "tsv") else "unknown"):
        write_boolean(True, fmt)


# --- Unit tests: graphs ------------------------------------------------------------------------

GRAPH = [
    ox.Triple(S, P, lit("plain")),
    ox.Triple(S, P, lit('quote " backslash \\ newline \n return \r tab \t <&> ]]>')),
    ox.Triple(S, P, lit("chat", language="fr")),
    ox.Triple(S, P, lit("4", XSD + "integer")),
    ox.Triple(S, P, lit("01", XSD + "integer")),
    ox.Triple(S, P, lit("1.0E6", XSD + "double")),
    ox.Triple(S, P, lit("5,5", EX + "dt")),
    ox.Triple(S, ox.NamedNode(EX + "q?a=1&b=2#x"), ox.NamedNode(EX + "o?a=1&b=2")),
    ox.Triple(ox.BlankNode("b0"), P, ox.BlankNode("b1")),
    ox.Triple(ox.BlankNode("b1"), P, ox.BlankNode("b0")),
    ox.Triple(ox.BlankNode("0digit"), ox.NamedNode(RDF + "type"), ox.NamedNode(EX + "C")),
]
RDF12 = [
    ox.Triple(S, P, lit("x", language="ar", direction=ox.BaseDirection.RTL)),
    ox.Triple(S, P, ox.Triple(S, P, lit("o"))),
]


@pytest.mark.parametrize("fmt", sorted(GRAPH_FORMATS))
def test_graph_formats_parse_back_to_the_same_triples(fmt: str) -> None:
    graph = GRAPH + (RDF12 if fmt != "jsonld" else [])
    body, written, truncated = write_graph(iter(graph), fmt, 100, prefixes={"ex": EX})
    assert (written, truncated) == (len(graph), False)
    assert_same_rows(_triple_rows(graph), _triple_rows(_parse_graph(body, fmt)), ordered=False)
    if fmt == "rdfxml":  # well-formed for a strict XML parser, carriage return included
        root = ET.fromstring(body)
        texts = [e.text for e in root.iter() if e.text and "return" in e.text]
        assert texts == [GRAPH[1].object.value]
    if fmt in ("turtle", "trig"):
        assert body.startswith(b"@prefix ex: <http://example.org/> .")


def test_json_ld_cannot_hold_rdf_1_2_terms() -> None:
    with pytest.raises(ValueError, match="jsonld"):
        write_graph(RDF12[1:], "jsonld", 10)


@pytest.mark.parametrize("predicate", [EX + "1", EX + "x#", EX + "x/"])
def test_rdf_xml_refuses_predicates_that_are_not_element_names(predicate: str) -> None:
    with pytest.raises(ValueError, match="XML name"):
        write_graph([ox.Triple(S, ox.NamedNode(predicate), lit("o"))], "rdfxml", 10)
    body, _, _ = write_graph([ox.Triple(S, ox.NamedNode(predicate), lit("o"))], "turtle", 10)
    assert len(_parse_graph(body, "turtle")) == 1


def test_rdf_xml_refuses_characters_xml_cannot_carry() -> None:
    with pytest.raises(ValueError, match=r"XML 1\.0"):
        write_graph([ox.Triple(S, P, lit("a\x01b"))], "rdfxml", 10)


def test_graph_prefixes_are_checked() -> None:
    triples = [ox.Triple(S, P, lit("o"))]
    for name in ("bad prefix", "1st", "a:b", "x."):
        with pytest.raises(ValueError, match="prefix"):
            write_graph(triples, "turtle", 10, prefixes={name: EX})
    with pytest.raises(ValueError, match="prefix"):
        write_graph(triples, "rdfxml", 10, prefixes={"xmlfoo": EX})
    body, _, _ = write_graph(triples, "turtle", 10, prefixes={"": EX, "a.b-c_1": EX + "x/"})
    assert b"@prefix : <http://example.org/> .\n" in body
    assert b"@prefix a.b-c_1: <http://example.org/x/> .\n" in body


# --- Unit tests: bad arguments -----------------------------------------------------------------


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown results format"):
        write_solutions(["x"], [], "html", 1)
    with pytest.raises(ValueError, match="unknown graph format"):
        write_graph([], "n3", 1)
    for limit in (-1, 1.5, True, None):
        with pytest.raises(ValueError, match="limit"):
            write_solutions(["x"], [], "json", limit)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="limit"):
            write_graph([], "turtle", limit)  # type: ignore[arg-type]
    for names in (["?x"], ["a b"], ['x"'], ["x", "x"], [""], ["a,b"]):
        with pytest.raises(ValueError, match="variable"):
            write_solutions(names, [], "csv", 1)
    with pytest.raises(ValueError, match="2 values for 1 variables"):
        write_solutions(["x"], [[lit("a"), lit("b")]], "json", 1)
    with pytest.raises(TypeError, match="not an RDF term"):
        write_solutions(["x"], [["a string"]], "json", 1)
    with pytest.raises(TypeError, match="not a triple"):
        write_graph([ox.Quad(S, P, lit("o"))], "nquads", 1)


def test_variables_may_be_pyoxigraph_variables() -> None:
    body, _, _ = write_solutions([ox.Variable("x")], [[lit("a")]], "tsv", 1)
    assert body == b'?x\n"a"\n'


def test_media_types() -> None:
    assert SOLUTION_FORMATS == {
        "json": "application/sparql-results+json",
        "xml": "application/sparql-results+xml",
        "csv": "text/csv",
        "tsv": "text/tab-separated-values",
    }
    assert {k: v[0] for k, v in GRAPH_FORMATS.items()} == {
        "turtle": "text/turtle",
        "ntriples": "application/n-triples",
        "nquads": "application/n-quads",
        "trig": "application/trig",
        "jsonld": "application/ld+json",
        "rdfxml": "application/rdf+xml",
    }
    assert all(fmt.media_type == media for media, fmt in GRAPH_FORMATS.values())


def test_islice_is_not_needed_by_callers() -> None:
    """A generator can be passed straight in; what is not read stays in it."""
    rows = _rows(10)
    write_solutions(["n"], rows, "csv", 3)
    assert [r[0].value for r in islice(rows, 2)] == ["4", "5"]


def test_gzip_is_deterministic_and_skips_short_bodies() -> None:
    body = (
        b"<https://w3id.org/innograph/id/city/x> a <https://w3id.org/innograph/def/City> .\n" * 20
    )
    packed = gzipped(body)
    assert packed is not None
    assert packed[4:8] == b"\0\0\0\0"  # no timestamp: the same answer, the same bytes
    assert gzip.decompress(packed) == body
    assert gzipped(body[:859]) is None
