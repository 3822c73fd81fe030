"""The JSON results writer writes common terms as text: the same bytes as json.dumps of the
terms' JSON objects (``_json_term``), escapes and all."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from innograph.query.writers import _json_term, write_solutions

TERMS = [
    ox.NamedNode("http://example.org/caf\u00e9?q=x&y=\u2028"),
    ox.BlankNode("b1"),
    ox.Literal('a "quoted"\nline\t\\ \u00e9 \x01 \u2028'),
    ox.Literal("hello", language="en-GB"),
    ox.Literal("42", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
    ox.Literal("plain"),
    ox.Literal("\u0645\u0631\u062d\u0628\u0627", language="ar", direction=ox.BaseDirection.RTL),
    ox.Triple(ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p"), ox.Literal("o")),
]


@pytest.mark.parametrize("term", TERMS, ids=repr)
def test_a_term_is_written_as_json_would_write_it(term: ox.Term) -> None:
    rows = [(term, None), (None, term)]
    body, written, truncated = write_solutions(["x", "y"], rows, "json", 10)
    expected = json.dumps(
        {
            "head": {"vars": ["x", "y"]},
            "results": {"bindings": [{"x": _json_term(term)}, {"y": _json_term(term)}]},
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    assert body == expected.encode()
    assert (written, truncated) == (2, False)
    assert json.loads(body)["results"]["bindings"][0]["x"] == _json_term(term)
