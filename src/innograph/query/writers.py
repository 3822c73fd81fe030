"""Serialise SPARQL query answers (pyoxigraph terms) with row and size caps that report truncation.

pyoxigraph's ``QuerySolutions.serialize`` writes every solution and cannot stop early; a public
endpoint must cap its answers and say when it did. These functions are pure: they read at most
``limit + 1`` rows (or triples) from the iterable, write at most ``limit`` of them and return
``(body, written, truncated)``; ``truncated`` is true exactly when a row beyond the cap existed,
or when the next row would have taken the answer past ``max_bytes`` (a cut is always at a row
boundary, so the body stays a valid document).

Formats follow the W3C Recommendations (SPARQL 1.1 Query Results JSON, XML, CSV and TSV), with
these decisions, where the specifications leave room:

* RDF 1.1 literals: a simple literal is ``xsd:string``; it is written without a datatype, and a
  language-tagged literal carries ``xml:lang`` (``@lang`` in TSV), never ``rdf:langString``.
* RDF 1.2 terms (pyoxigraph 0.5 has them), as in the SPARQL 1.2 drafts and pyoxigraph's own
  writers: a base direction is ``"its:dir"`` in JSON, an ``its:dir`` attribute (ITS 2.0
  namespace) in XML and ``@lang--dir`` in TSV; a triple term is ``{"type": "triple", "value":
  {"subject", "predicate", "object"}}`` in JSON, ``<triple><subject/><predicate/><object/>``
  in XML, ``<<( s p o )>>`` (the RDF 1.2 Turtle / N-Triples triple-term syntax) in TSV and
  ``<< s p o >>`` with a literal object in double quotes in CSV.
* TSV writes a number in its short Turtle form (``4``, ``5.5``, ``1.0e6``) only when the lexical
  form is a Turtle INTEGER / DECIMAL / DOUBLE token of that same datatype: ``"5"^^xsd:decimal``
  stays quoted, since a bare ``5`` would read back as an ``xsd:integer``. Other literals,
  booleans included, keep the quoted form. Lexical forms are never rewritten.
* CSV writes the value alone (IRI bare, blank node ``_:label``, literal lexical form), quoted
  per RFC 4180 when it holds ``"``, ``,``, CR or LF; lines end in CRLF. TSV lines end in LF.
  An unbound variable is an empty field in both (and is omitted in JSON and XML).
* ASK answers: JSON and XML only. The CSV/TSV Recommendation defines those formats for SELECT
  results alone, so ``write_boolean`` refuses ``csv`` and ``tsv`` (an endpoint answers 406).
* XML 1.0 cannot carry most C0 control characters, not even as character references: such a
  term raises ``ValueError`` rather than producing a document parsers reject. A carriage return
  is written ``&#13;`` so that XML line-end normalisation does not turn it into a line feed.
* Blank-node labels are the engine's own; the formats scope them to one document.
* ``text/csv`` and ``text/tab-separated-values`` default to US-ASCII; the specification says a
  ``charset`` parameter should be sent, so serve them as ``…; charset=utf-8`` (bodies are UTF-8).

Graph answers (CONSTRUCT, DESCRIBE) go through ``pyoxigraph.serialize`` after at most ``limit``
triples are taken; a graph a format cannot express raises ``ValueError``. Triples are read until
they weigh ``max_bytes`` as N-Triples lines (memory stays bounded while reading); a syntax that
comes out heavier is written again with fewer triples, so every body fits.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import Final

import pyoxigraph as ox

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Row = Sequence[Term | None]  # one solution: a term (or nothing) per variable

SOLUTION_FORMATS: Final[dict[str, str]] = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
BOOLEAN_FORMATS: Final[dict[str, str]] = {
    "json": SOLUTION_FORMATS["json"],
    "xml": SOLUTION_FORMATS["xml"],
}
GZIP_MIN_BYTES: Final = 860  # below this, gzip's header and CPU rarely pay (Akamai's figure)


def written(body: bytes | None) -> bytes:
    """What a pyoxigraph serialiser returns when it is given no output file: the bytes."""
    assert body is not None, "serialised to memory, not to a file"
    return body


def gzipped(body: bytes) -> bytes | None:
    """The body gzipped for the wire, or None when it is too short to be worth it."""
    if len(body) < GZIP_MIN_BYTES:
        return None
    return gzip.compress(body, compresslevel=5, mtime=0)  # mtime 0: the same bytes every time


GRAPH_FORMATS: Final[dict[str, tuple[str, ox.RdfFormat]]] = {
    "turtle": ("text/turtle", ox.RdfFormat.TURTLE),
    "ntriples": ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    "nquads": ("application/n-quads", ox.RdfFormat.N_QUADS),
    "trig": ("application/trig", ox.RdfFormat.TRIG),
    "jsonld": ("application/ld+json", ox.RdfFormat.JSON_LD),
    "rdfxml": ("application/rdf+xml", ox.RdfFormat.RDF_XML),
}

_XSD = "http://www.w3.org/2001/XMLSchema#"
_XSD_STRING = _XSD + "string"
_RESULTS_NS = "http://www.w3.org/2005/sparql-results#"
_ITS_NS = "http://www.w3.org/2005/11/its"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

# SPARQL 1.1 grammar: PN_CHARS_BASE, VARNAME, PN_PREFIX.
_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_TAIL = "\u00b7\u0300-\u036f\u203f-\u2040"
_VARNAME = re.compile(f"[{_BASE}_0-9][{_BASE}_0-9{_TAIL}]*")
_PN_PREFIX = re.compile(f"(?:[{_BASE}](?:[{_BASE}_0-9{_TAIL}.-]*[{_BASE}_0-9{_TAIL}-])?)?")
# XML 1.0 Char, and the NCName a predicate IRI must end with to be an RDF/XML element name.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NCNAME = re.compile(f"[{_BASE}_][{_BASE}_0-9{_TAIL}.-]*")
_NCNAME_SUFFIX = re.compile(f"{_NCNAME.pattern}$")

# Turtle numeric tokens, for TSV's short forms.
_SHORT_NUMBER = {
    _XSD + "integer": re.compile(r"[+-]?[0-9]+"),
    _XSD + "decimal": re.compile(r"[+-]?[0-9]*\.[0-9]+"),
    _XSD + "double": re.compile(r"[+-]?(?:[0-9]+\.[0-9]*|\.?[0-9]+)[eE][+-]?[0-9]+"),
}
# ECHAR for the characters TSV must escape; other controls as UCHAR.
_TSV_STRING = str.maketrans(
    {
        **{chr(c): f"\\u{c:04X}" for c in [*range(0x20), 0x7F]},
        "\t": "\\t",
        "\n": "\\n",
        "\r": "\\r",
        '"': '\\"',
        "\\": "\\\\",
    }
)
# Characters IRIREF excludes, written as UCHAR (pyoxigraph's IRIs should never hold them).
_TSV_IRI = str.maketrans({chr(c): f"\\u{c:04X}" for c in [*range(0x21), *b'<>"{}|^`\\']})
_XML_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_XML_ATTRIBUTE = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\t": "&#9;",
        "\n": "&#10;",
        "\r": "&#13;",
    }
)
_CSV_NEEDS_QUOTES = re.compile('[",\r\n]')


def write_solutions(
    variables: Sequence[str | ox.Variable],
    rows: Iterable[Sequence[Term | None]],
    fmt: str,
    limit: int,
    max_bytes: int | None = None,
) -> tuple[bytes, int, bool]:
    """SELECT solutions in ``fmt``: (body, rows written, truncated); the body is at most
    ``max_bytes`` long unless its head and tail alone are longer.

    ``rows`` yields one sequence per solution, aligned with ``variables`` (``None`` for an
    unbound variable); a ``pyoxigraph.QuerySolutions`` works as is. At most ``limit + 1``
    rows are read: the extra one only tells that the answer was cut.

    >>> body, written, truncated = write_solutions(["x"], [[ox.Literal("a,b")]], "csv", 10)
    >>> body, written, truncated
    (b'x\\r\\n"a,b"\\r\\n', 1, False)
    """
    names = _variable_names(variables)
    _check_limit(limit)
    try:
        head, encode, separator, tail = _SOLUTION_WRITERS[fmt](names)
    except KeyError:
        raise ValueError(
            f"unknown results format {fmt!r}; expected one of {sorted(SOLUTION_FORMATS)}"
        ) from None
    start, between, end = head.encode(), separator.encode(), tail.encode()
    budget = None if max_bytes is None else max_bytes - len(start) - len(end)
    encoded: list[bytes] = []
    truncated = False
    for row in rows:
        if len(encoded) == limit:
            truncated = True
            break
        values = tuple(row)
        if len(values) != len(names):
            raise ValueError(f"a row has {len(values)} values for {len(names)} variables")
        for value in values:
            if value is not None and not isinstance(value, Term):
                raise TypeError(f"not an RDF term: {value!r}")
        line = encode(values).encode("utf-8")
        if budget is not None:
            budget -= len(line) + (len(between) if encoded else 0)
            if budget < 0:
                truncated = True
                break
        encoded.append(line)
    return start + between.join(encoded) + end, len(encoded), truncated


def write_boolean(value: bool, fmt: str) -> bytes:
    """An ASK answer in JSON or XML (CSV and TSV define no boolean form: ``ValueError``).

    >>> write_boolean(True, "json")
    b'{"head":{},"boolean":true}'
    """
    word = "true" if value else "false"
    if fmt == "json":
        return f'{{"head":{{}},"boolean":{word}}}'.encode()
    if fmt == "xml":
        return (
            f'{_XML_DECLARATION}<sparql xmlns="{_RESULTS_NS}"><head/>'
            f"<boolean>{word}</boolean></sparql>\n"
        ).encode()
    if fmt in SOLUTION_FORMATS:
        raise ValueError(f"{fmt} results are defined for SELECT only; ASK answers are json or xml")
    raise ValueError(f"unknown results format {fmt!r}; expected one of {sorted(BOOLEAN_FORMATS)}")


def write_graph(
    triples: Iterable[ox.Triple],
    fmt: str,
    limit: int,
    prefixes: dict[str, str] | None = None,
    max_bytes: int | None = None,
) -> tuple[bytes, int, bool]:
    """At most ``limit`` triples in an RDF syntax, in at most ``max_bytes``: (body, triples
    written, truncated).

    Reads at most ``limit + 1`` triples, and stops reading once those read weigh more than
    ``max_bytes`` as N-Triples lines. A syntax that comes out heavier (RDF/XML escapes, JSON-LD
    keys) is written again with fewer triples until it fits. ``prefixes`` (name to namespace
    IRI) is used by the formats that have prefixes (Turtle, TriG, RDF/XML) and ignored by the
    others.
    """
    try:
        _media_type, rdf_format = GRAPH_FORMATS[fmt]
    except KeyError:
        raise ValueError(
            f"unknown graph format {fmt!r}; expected one of {sorted(GRAPH_FORMATS)}"
        ) from None
    _check_limit(limit)
    for name in prefixes or {}:
        if not _PN_PREFIX.fullmatch(name) or (fmt == "rdfxml" and name.lower().startswith("xml")):
            raise ValueError(f"not a usable prefix name: {name!r}")
    batch, truncated = _take(triples, limit, max_bytes)
    body = _serialize(batch, fmt, rdf_format, prefixes)
    while max_bytes is not None and len(body) > max_bytes and batch:
        del batch[min(len(batch) - 1, len(batch) * max_bytes // len(body)) :]
        truncated = True
        body = _serialize(batch, fmt, rdf_format, prefixes)
    return body, len(batch), truncated


def _take(
    triples: Iterable[ox.Triple], limit: int, max_bytes: int | None
) -> tuple[list[ox.Triple], bool]:
    """The first triples, at most ``limit`` and at most ``max_bytes`` as N-Triples lines, read
    one at a time: (taken, whether more were left)."""
    taken: list[ox.Triple] = []
    weight = 0
    for triple in islice(triples, limit + 1):
        if not isinstance(triple, ox.Triple):
            raise TypeError(f"not a triple: {triple!r}")
        if len(taken) == limit:
            return taken, True
        if max_bytes is not None:
            weight += len(str(triple).encode("utf-8")) + 3  # " .\n"
            if weight > max_bytes:
                return taken, True
        taken.append(triple)
    return taken, False


def _serialize(
    batch: list[ox.Triple], fmt: str, rdf_format: ox.RdfFormat, prefixes: dict[str, str] | None
) -> bytes:
    try:
        body = written(
            ox.serialize(
                _for_rdfxml(batch) if fmt == "rdfxml" else batch,
                format=rdf_format,
                prefixes=prefixes,
            )
        )
    except OSError as error:  # pyoxigraph reports what a format cannot express as OSError
        raise ValueError(f"cannot write this graph as {fmt}: {error}") from None
    if fmt == "rdfxml":
        # pyoxigraph writes a carriage return raw, which XML parsers read as a line feed; the
        # writer emits none of its own, so every CR here is literal text.
        body = body.replace(b"\r", b"&#13;")
    return body


def _variable_names(variables: Sequence[str | ox.Variable]) -> list[str]:
    names = [v.value if isinstance(v, ox.Variable) else v for v in variables]
    for name in names:
        if not isinstance(name, str) or not _VARNAME.fullmatch(name):
            raise ValueError(f"not a SPARQL variable name: {name!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate variable names: {names}")
    return names


def _check_limit(limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError(f"limit must be a non-negative integer, not {limit!r}")


def _literal_datatype(literal: ox.Literal) -> str | None:
    """The datatype IRI a results format writes: none for simple and language-tagged literals."""
    if literal.language is not None:
        return None
    datatype = literal.datatype.value
    return None if datatype == _XSD_STRING else datatype


# JSON ------------------------------------------------------------------------------------------


def _json_term(term: Term) -> dict[str, object]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        encoded: dict[str, object] = {"type": "literal", "value": term.value}
        if term.language is not None:
            encoded["xml:lang"] = term.language
            if term.direction is not None:
                encoded["its:dir"] = term.direction.value
        elif (datatype := _literal_datatype(term)) is not None:
            encoded["datatype"] = datatype
        return encoded
    return {
        "type": "triple",
        "value": {
            "subject": _json_term(term.subject),
            "predicate": _json_term(term.predicate),
            "object": _json_term(term.object),
        },
    }


# One encoder for every row (json.dumps with options builds a new one per call), and the string
# quoting it uses, for writing the common terms as text without building a dict for each.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_quoted = json.encoder.encode_basestring


def _json_term_text(term: Term) -> str:
    """``_JSON(_json_term(term))``, written directly for IRIs and literals (most of an answer)."""
    if isinstance(term, ox.NamedNode):
        return '{"type":"uri","value":' + _quoted(term.value) + "}"
    if isinstance(term, ox.Literal):
        text = '{"type":"literal","value":' + _quoted(term.value)
        if (language := term.language) is not None:
            if term.direction is not None:
                return _JSON(_json_term(term))
            return text + ',"xml:lang":' + _quoted(language) + "}"
        datatype = term.datatype.value
        if datatype == _XSD_STRING:
            return text + "}"
        return text + ',"datatype":' + _quoted(datatype) + "}"
    return _JSON(_json_term(term))


def _json_writer(names: list[str]) -> tuple[str, Callable[[Row], str], str, str]:
    keys = [_quoted(name) + ":" for name in names]

    def encode(values: Row) -> str:
        return (
            "{"
            + ",".join(
                key + _json_term_text(value)
                for key, value in zip(keys, values, strict=True)
                if value is not None
            )
            + "}"
        )

    head = _JSON({"vars": names})
    return f'{{"head":{head},"results":{{"bindings":[', encode, ",", "]}}"


# XML -------------------------------------------------------------------------------------------


def _xml_checked(text: str) -> str:
    if match := _NOT_XML_CHAR.search(text):
        raise ValueError(f"U+{ord(match.group()):04X} cannot be written in XML 1.0")
    return text


def _xml_term(term: Term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{_xml_checked(term.value).translate(_XML_TEXT)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{_xml_checked(term.value).translate(_XML_TEXT)}</bnode>"
    if isinstance(term, ox.Literal):
        attributes = ""
        if term.language is not None:
            attributes = f' xml:lang="{term.language.translate(_XML_ATTRIBUTE)}"'
            if term.direction is not None:
                attributes += (
                    f' xmlns:its="{_ITS_NS}" its:version="2.0" its:dir="{term.direction.value}"'
                )
        elif (datatype := _literal_datatype(term)) is not None:
            attributes = f' datatype="{_xml_checked(datatype).translate(_XML_ATTRIBUTE)}"'
        return f"<literal{attributes}>{_xml_checked(term.value).translate(_XML_TEXT)}</literal>"
    return (
        f"<triple><subject>{_xml_term(term.subject)}</subject>"
        f"<predicate>{_xml_term(term.predicate)}</predicate>"
        f"<object>{_xml_term(term.object)}</object></triple>"
    )


def _xml_writer(names: list[str]) -> tuple[str, Callable[[Row], str], str, str]:
    def encode(values: Row) -> str:
        bindings = "".join(
            f'<binding name="{n}">{_xml_term(v)}</binding>'
            for n, v in zip(names, values, strict=True)
            if v is not None
        )
        return f"<result>{bindings}</result>"

    variables = "".join(f'<variable name="{n}"/>' for n in names)
    head = f'{_XML_DECLARATION}<sparql xmlns="{_RESULTS_NS}"><head>{variables}</head><results>'
    return head, encode, "\n", "</results></sparql>\n"


# CSV -------------------------------------------------------------------------------------------


def _csv_quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _csv_value(term: Term) -> str:
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.NamedNode | ox.Literal):
        return term.value
    obj = term.object
    written = _csv_quoted(obj.value) if isinstance(obj, ox.Literal) else _csv_value(obj)
    return f"<< {_csv_value(term.subject)} {_csv_value(term.predicate)} {written} >>"


def _csv_field(term: Term | None) -> str:
    if term is None:
        return ""
    text = _csv_value(term)
    return _csv_quoted(text) if _CSV_NEEDS_QUOTES.search(text) else text


def _csv_writer(names: list[str]) -> tuple[str, Callable[[Row], str], str, str]:
    def encode(values: Row) -> str:
        return ",".join(_csv_field(v) for v in values) + "\r\n"

    return ",".join(names) + "\r\n", encode, "", ""


# TSV -------------------------------------------------------------------------------------------


def _tsv_term(term: Term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<{term.value.translate(_TSV_IRI)}>"
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        quoted = f'"{term.value.translate(_TSV_STRING)}"'
        if term.language is not None:
            direction = f"--{term.direction.value}" if term.direction is not None else ""
            return f"{quoted}@{term.language}{direction}"
        datatype = _literal_datatype(term)
        if datatype is None:
            return quoted
        token = _SHORT_NUMBER.get(datatype)
        if token is not None and token.fullmatch(term.value):
            return term.value
        return f"{quoted}^^<{datatype.translate(_TSV_IRI)}>"
    parts = (_tsv_term(term.subject), _tsv_term(term.predicate), _tsv_term(term.object))
    return "<<( {} {} {} )>>".format(*parts)


def _tsv_writer(names: list[str]) -> tuple[str, Callable[[Row], str], str, str]:
    def encode(values: Row) -> str:
        return "\t".join("" if v is None else _tsv_term(v) for v in values) + "\n"

    return "\t".join(f"?{n}" for n in names) + "\n", encode, "", ""


_SOLUTION_WRITERS: Final = {
    "json": _json_writer,
    "xml": _xml_writer,
    "csv": _csv_writer,
    "tsv": _tsv_writer,
}


# RDF/XML ---------------------------------------------------------------------------------------


def _for_rdfxml(triples: list[ox.Triple]) -> list[ox.Triple]:
    """Guard pyoxigraph 0.5's RDF/XML writer, which would write these cases malformed.

    A predicate must end in an XML name (it becomes an element name) and text must be XML
    characters: otherwise ``ValueError``. A blank-node label that is not an XML name (it becomes
    ``rdf:nodeID``) is renamed; labels are scoped to the document, so the graph is unchanged.
    """
    renamed: dict[str, ox.BlankNode] = {}

    def term(node: Term) -> Term:
        if isinstance(node, ox.Triple):
            return triple(node)
        _xml_checked(node.value)
        if isinstance(node, ox.BlankNode) and not _NCNAME.fullmatch(node.value):
            return renamed.setdefault(node.value, ox.BlankNode())
        return node

    def triple(t: ox.Triple) -> ox.Triple:
        if not _NCNAME_SUFFIX.search(t.predicate.value):
            raise ValueError(
                f"cannot write this graph as rdfxml: predicate <{t.predicate.value}> "
                "does not end in an XML name"
            )
        subject = term(t.subject)
        assert not isinstance(subject, ox.Literal), "a literal is never a subject"
        return ox.Triple(subject, t.predicate, term(t.object))

    return [triple(t) for t in triples]
