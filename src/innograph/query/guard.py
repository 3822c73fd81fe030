"""Inspect a SPARQL request text before pyoxigraph runs it: read-only, local graph only.

pyoxigraph executes ``SERVICE`` with its own native HTTP client (no Python hook sees it) and an
update's ``LOAD`` fetches; ``FROM``/``FROM NAMED`` only select graphs already in the store. So the
endpoint refuses, before execution, any request that is an update (403) or names ``SERVICE``
(400), and reports the query form and the ``FROM`` graphs so the web layer can check those
against the store. Nothing here reads files or the network.

This is a lexer, not a grep: a keyword inside a string, an IRI, a comment, a variable
(``?service``) or a prefixed name (``ex:delete``) is not a keyword. The tokens follow the SPARQL
1.1 terminals as pyoxigraph 0.5 reads them, and the guard refuses (fails closed) wherever
pyoxigraph's scannerless parser could read the same text differently from these tokens:

* Keywords glued to other text (``SERVICE:ep``, ``SERVICEex:ep``, ``SERVICESILENT<…>``,
  ``trueSERVICE<…>``) are read by pyoxigraph as the keyword plus the rest. So every bare word
  must be a known keyword, and a prefix name may not contain ``SERVICE``.
* pyoxigraph's local names take at most one run of dots (``ex:a.b.c`` is ``ex:a.b`` ``.`` ``c``):
  the lexer does the same.
* When a prefixed name does not form a valid IRI, pyoxigraph re-reads its local part as code
  (``ex:SERVICEey:ep\\#`` with ``ex: <http://x/#>`` becomes ``ex:`` ``SERVICE`` ``ey:ep\\#``). A
  local part containing ``SERVICE`` must therefore form an IRI that is valid beyond doubt.
* Right after a value, ``<`` is "less than" in pyoxigraph even when an IRI follows, so the text
  of that IRI is read as code: a ``'`` in it would open a string and a ``#`` a comment. Such an
  IRI may not contain ``'``, and may contain ``#`` only when the rest of its line does not open a
  multi-line string.

Refused although pyoxigraph would accept them (listed as known gaps): keywords glued to other
words (``SELECTDISTINCT``, ``LIMIT10``), SPARQL 1.2's ``~`` reifiers, prefix names containing
``service`` (``myservice:``), and the IRI cases above.

>>> inspect_query("PREFIX ex: <http://example.org/> SELECT * FROM ex:g WHERE { ?s ?p ?o }")
QueryPlan(form='SELECT', from_graphs=('http://example.org/g',), from_named_graphs=())
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal, cast
from urllib.parse import urljoin

from ..errors import UsageError

__all__ = ["QueryPlan", "QueryRejected", "called_iris", "first_iri_in", "inspect_query"]

READ_ONLY = "updates are not allowed: this endpoint is read-only"
NO_SERVICE = "SERVICE is not allowed on this endpoint: queries run on the local graph only"
EXPECTED_FORM = "query: expected SELECT, ASK, CONSTRUCT or DESCRIBE"
EMPTY = "query: expected a SPARQL query, got an empty text"

Form = Literal["SELECT", "ASK", "CONSTRUCT", "DESCRIBE"]


class QueryRejected(UsageError):
    """A request the endpoint refuses; http_status is 400 or 403."""

    def __init__(self, message: str, http_status: int = 400) -> None:
        super().__init__(message)
        self.http_status = http_status


@dataclass(frozen=True, slots=True)
class QueryPlan:
    form: Form
    from_graphs: tuple[str, ...]  # IRIs named by FROM, resolved (PREFIX/BASE), in order
    from_named_graphs: tuple[str, ...]  # IRIs named by FROM NAMED
    # The query without its comments and spacing: the same work, however it is laid out (for
    # admission by expected cost).
    shape: str = field(default="", repr=False, compare=False)


# --- Terminals (SPARQL 1.1 §19.8, as pyoxigraph 0.5 reads them) -----------------------------
# Possessive quantifiers give the PEG behaviour: a repetition never gives characters back.

_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + r"\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_ECHAR = r"""\\[tbnrf"'\\]"""
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_PREFIX = rf"[{_PN_CHARS_BASE}][{_PN_CHARS}]*+(?:\.++[{_PN_CHARS}]++)*+"
# One run of dots at most: pyoxigraph's PN_LOCAL (spec: any number).
_PN_LOCAL = (
    rf"(?:[{_PN_CHARS_U}:0-9]|{_PLX})(?:[{_PN_CHARS}:]|{_PLX})*+"
    rf"(?:\.++(?:[{_PN_CHARS}:]|{_PLX})++)?+"
)

# Each match is optional white space and comments, then one token, the end of the text, or a
# character no token starts with. Every position matches, so finditer() never skips text.
_TOKEN = re.compile(
    rf"""
    (?:[ \t\r\n]++|\#[^\r\n]*+)*+
    (?:
    (?P<simple>[(){{}}\[\],;*=+\-/])  # the punctuation that starts no other token
  | (?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|{_UCHAR})*+>)
  | (?P<string>
        '''(?:(?:''|')?+(?:[^'\\]|{_ECHAR}|{_UCHAR}))*+'''
      | \"\"\"(?:(?:\"\"|\")?+(?:[^"\\]|{_ECHAR}|{_UCHAR}))*+\"\"\"
      | '(?:[^'\\\n\r]|{_ECHAR}|{_UCHAR})*+'
      | "(?:[^"\\\n\r]|{_ECHAR}|{_UCHAR})*+"
    )
  | (?P<var>[?$][{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*+)
  | (?P<bnode>_:[{_PN_CHARS_U}0-9][{_PN_CHARS}]*+(?:\.++[{_PN_CHARS}]++)*+)
  | (?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?+)
  | (?P<word>[A-Za-z][A-Za-z0-9_]*+)
  | (?P<number>(?:[0-9]++(?:\.[0-9]*+)?+|\.[0-9]++)(?:[eE][+-]?+[0-9]++)?+)
  | (?P<langtag>@[A-Za-z]++(?:-[A-Za-z0-9]++)*+(?:--[A-Za-z]++)?+)
  | (?P<punct>\^\^|\|\||&&|!=|<=|>=|[.<>!^|?])
  | (?P<end>\Z)
  | (?P<bad>[\s\S])
    )
    """,
    re.VERBOSE,
)
_IRI_TAIL = re.compile(r'<[^<>"{}|^`\x00-\x20]+\Z')  # an IRI that runs to the end of the text
_UCHAR_RE = re.compile(_UCHAR)
_LOCAL_ESC = re.compile(r"\\(.)")
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_LINE_END = re.compile(r"[\r\n]")

# An absolute IRI that is valid beyond doubt: a strict subset of RFC 3987 (no user info, no IP
# literal, no private-use characters, a port of at most four digits). Every IRI it accepts is
# accepted by pyoxigraph's IRI parser; many valid IRIs are refused, which only fails closed.
_UCS = (
    "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
    + "".join(f"{chr(p << 16)}-{chr((p << 16) | 0xFFFD)}" for p in range(1, 14))
    + "\U000e1000-\U000efffd"
)
_IPCHAR = rf"(?:[A-Za-z0-9\-._~{_UCS}!$&'()*+,;=:@]|%[0-9A-Fa-f]{{2}})"
_SURE_IRI = re.compile(
    rf"[A-Za-z][A-Za-z0-9+\-.]*:"
    rf"(?://[A-Za-z0-9\-._~{_UCS}]*(?::[0-9]{{1,4}})?(?:/{_IPCHAR}*)*"
    rf"|/(?:{_IPCHAR}+(?:/{_IPCHAR}*)*)?"
    rf"|{_IPCHAR}+(?:/{_IPCHAR}*)*"
    rf"|)"
    rf"(?:\?(?:{_IPCHAR}|[/?])*)?(?:\#(?:{_IPCHAR}|[/?])*)?"
)

_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})
_UPDATES = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY",
            "WITH", "USING")  # fmt: skip
_UPDATE_SET = frozenset(_UPDATES)
_KNOWN = frozenset(
    (
        *("BASE", "PREFIX", "VERSION", "SELECT", "DISTINCT", "REDUCED", "AS", "CONSTRUCT"),
        *("WHERE", "DESCRIBE", "ASK", "FROM", "NAMED", "GROUP", "BY", "HAVING", "ORDER", "ASC"),
        *("DESC", "LIMIT", "OFFSET", "VALUES", "UNDEF", "OPTIONAL", "GRAPH", "SILENT", "BIND"),
        *("MINUS", "FILTER", "UNION", "NOT", "IN", "EXISTS", "SEPARATOR", "A", "TRUE", "FALSE"),
        *("LATERAL", "STR", "LANG", "LANGMATCHES", "DATATYPE", "BOUND", "IRI", "URI", "BNODE"),
        *("RAND", "ABS", "CEIL", "FLOOR", "ROUND", "CONCAT", "STRLEN", "UCASE", "LCASE"),
        *("ENCODE_FOR_URI", "CONTAINS", "STRSTARTS", "STRENDS", "STRBEFORE", "STRAFTER"),
        *("YEAR", "MONTH", "DAY", "HOURS", "MINUTES", "SECONDS", "TIMEZONE", "TZ", "NOW"),
        *("UUID", "STRUUID", "MD5", "SHA1", "SHA256", "SHA384", "SHA512", "COALESCE", "IF"),
        *("STRLANG", "STRDT", "SAMETERM", "ISIRI", "ISURI", "ISBLANK", "ISLITERAL", "ISNUMERIC"),
        *("REGEX", "SUBSTR", "REPLACE", "COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE"),
        *("GROUP_CONCAT", "TRIPLE", "SUBJECT", "PREDICATE", "OBJECT", "ISTRIPLE", "LANGDIR"),
        *("STRLANGDIR", "HASLANG", "HASLANGDIR", "ADJUST"),
        *("DATA", "INTO", "TO", "DEFAULT", "ALL"),  # update-only: the update keywords refuse first
    )
)
# Tokens after which pyoxigraph may read "<" as "less than" (or as the first half of "<<").
_VALUE_ENDS = frozenset({")", ">", "<"})


Token = tuple[str, str, int]  # kind, text, offset


def inspect_query(text: str, base: str | None = None) -> QueryPlan:
    """The form and FROM graphs of a read-only, local-only query; else QueryRejected.

    ``base`` is the base IRI from the environment (the endpoint's URL, SPARQL 1.1 Query
    §4.1.1.1) that relative IRIs resolve against when the query declares no BASE."""
    if not text.strip():
        raise QueryRejected(EMPTY)
    tokens = _tokenize(text)
    if not tokens:
        raise QueryRejected(EMPTY)
    _refuse_updates_and_service(text, tokens)
    reader = _Reader(text, tokens)
    reader.base = base
    return reader.plan()


def first_iri_in(text: str, namespaces: tuple[str, ...], base: str | None = None) -> str | None:
    """The first IRI the query names (in full, as a prefixed name, or as a PREFIX or BASE)
    that starts with one of ``namespaces`` (case aside), or None: for a store server that runs
    functions of its own (Virtuoso's ``bif:``), which the engine's check never evaluates.

    >>> first_iri_in("SELECT * { BIND(<bif:sys_stat>(1) AS ?x) }", ("bif:",))
    'bif:sys_stat'
    >>> first_iri_in("PREFIX b: <BIF:> SELECT * { BIND(b:sys_stat(1) AS ?x) }", ("bif:",))
    'BIF:'
    """
    tokens = _tokenize(text)
    reader = _Reader(text, tokens)
    reader.base = base
    reader.prologue()
    named = [*reader.prefixes.values(), reader.base or ""]
    for kind, word, pos in tokens:
        try:
            if kind == "iri":
                named += [word[1:-1], reader.resolve((kind, word, pos))]
            elif kind == "pname":
                named.append(reader.expand(word, pos))
        except QueryRejected:  # a name the engine's check refuses anyway
            continue
    lowered = tuple(n.lower() for n in namespaces)
    return next((iri for iri in named if iri.lower().startswith(lowered)), None)


def called_iris(text: str, base: str | None = None) -> list[str]:
    """The IRIs the query calls as functions (an IRI or prefixed name right before ``(``),
    resolved: for a store server that answers an unknown function in words of its own.

    >>> called_iris("PREFIX x: <urn:x:> SELECT (x:f(1) AS ?a) (STR(<urn:g>(2)) AS ?b) {}")
    ['urn:x:f', 'urn:g']
    """
    tokens = _tokenize(text)
    reader = _Reader(text, tokens)
    reader.base = base
    reader.prologue()
    called = []
    for (kind, word, pos), after in pairwise(tokens):
        if after[:2] != ("punct", "(") or kind not in ("iri", "pname"):
            continue
        try:
            iri = reader.resolve((kind, word, pos)) if kind == "iri" else reader.expand(word, pos)
        except QueryRejected:  # a name the engine's check refuses anyway
            continue
        called.append(iri)
    return called


# --- Lexer ------------------------------------------------------------------------------------


def _tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    append = tokens.append
    for found in _TOKEN.finditer(text):
        kind = found.lastgroup
        assert kind is not None, "every alternative of _TOKEN is a named group"
        start = found.start(kind)
        if kind == "end":
            break
        if kind == "bad":
            raise _syntax(text, *_lex_problem(text, start))
        word = found.group(kind)
        if kind == "simple":
            kind = "punct"
        elif kind == "punct" and word[0] == "<" and _IRI_TAIL.match(text, start):
            raise _syntax(text, "unterminated IRI", start)
        append((kind, word, start))
    return tokens


def _lex_problem(text: str, pos: int) -> tuple[str, int]:
    char = text[pos]
    if char not in "'\"":
        return f"unexpected character {char!r}", pos
    if pos >= 2 and text[pos - 2 : pos] == char * 2:  # read as an empty string, then this quote
        pos -= 2
    long = text.startswith(char * 3, pos)
    i = pos + (3 if long else 1)
    while i < len(text):
        c = text[i]
        if c == "\\":
            if not (_ECHAR_AT.match(text, i) or _UCHAR_RE.match(text, i)):
                return f"invalid escape {text[i : i + 2]!r} in a string", i
            i += 2
            continue
        if not long and c in "\r\n":
            break
        i += 1
    return "unterminated string", pos


_ECHAR_AT = re.compile(_ECHAR)


def _where(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    column = pos - text.rfind("\n", 0, pos)
    return f"at line {line}, column {column}"


def _syntax(text: str, problem: str, pos: int, hint: str = "") -> QueryRejected:
    detail = f"{problem} {_where(text, pos)}" + (f"; {hint}" if hint else "")
    return QueryRejected(f"query: expected a SPARQL query ({detail})")


# --- Policy: updates (403) and SERVICE (400), wherever they are -------------------------------


def _refuse_updates_and_service(text: str, tokens: list[Token]) -> None:
    for kind, word, pos in tokens:
        if kind == "word":
            upper = word.upper()
            if upper in _UPDATE_SET:
                raise QueryRejected(READ_ONLY, 403)
            if upper == "SERVICE":
                raise QueryRejected(NO_SERVICE)
            if "SERVICE" in upper:
                raise _glued_service(text, f"the word {word!r}", pos)
        elif kind == "pname" and "SERVICE" in word.partition(":")[0].upper():
            raise _glued_service(text, f"the prefixed name {word!r}", pos)


def _glued_service(text: str, what: str, pos: int) -> QueryRejected:
    return QueryRejected(
        f"{NO_SERVICE} ({what} {_where(text, pos)} would be read as SERVICE; "
        "separate the words or rename the prefix)"
    )


# --- Reader: prologue, form, FROM and the ambiguity checks ----------------------------------


class _Reader:
    __slots__ = ("base", "line_ends", "multiline", "prefixes", "text", "tokens")

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.prefixes: dict[str, str] = {}
        self.base: str | None = None
        self.multiline: list[tuple[int, int]] = []  # (start, end) of multi-line strings
        self.line_ends: list[int] = []

    def fail(self, problem: str, pos: int, hint: str = "") -> QueryRejected:
        return _syntax(self.text, problem, pos, hint)

    def plan(self) -> QueryPlan:
        tokens = self.tokens
        i = self.prologue()
        if i == len(tokens):
            raise QueryRejected(EXPECTED_FORM)
        kind, word, _ = tokens[i]
        upper = word.upper()
        if kind != "word" or upper not in _FORMS:
            if kind in ("word", "pname") and upper.startswith(_UPDATES):
                raise QueryRejected(READ_ONLY, 403)
            raise QueryRejected(EXPECTED_FORM)
        graphs: list[str] = []
        named: list[str] = []
        previous = tokens[i]
        for j in range(i + 1, len(tokens)):
            token = tokens[j]
            kind, word, pos = token
            if kind == "word":
                upper = word.upper()
                if upper not in _KNOWN:
                    raise self.fail(f"unknown word {word!r}", pos)
                if upper == "FROM":
                    self.dataset_clause(j, graphs, named)
            elif kind == "pname":
                self.check_pname(word, pos)
            elif kind == "iri" and _may_be_less_than(previous):
                self.check_iri_after_value(token)
            previous = token
        return QueryPlan(_form(tokens[i][1]), tuple(graphs), tuple(named), _shape(tokens))

    def prologue(self) -> int:
        tokens, i, n = self.tokens, 0, len(self.tokens)
        while i < n:
            kind, word, pos = tokens[i]
            keyword = word.upper() if kind == "word" else ""
            if keyword == "PREFIX":
                name = tokens[i + 1] if i + 1 < n else None
                iri = tokens[i + 2] if i + 2 < n else None
                if name is None or name[0] != "pname" or not name[1].endswith(":"):
                    raise self.fail("PREFIX needs a name such as ex: then an IRI", pos)
                if iri is None or iri[0] != "iri":
                    raise self.fail(f"PREFIX {name[1]} needs an IRI such as <http://…/>", pos)
                self.prefixes[name[1][:-1]] = self.resolve(iri)
                i += 3
            elif keyword == "BASE":
                if i + 1 >= n or tokens[i + 1][0] != "iri":
                    raise self.fail("BASE needs an IRI such as <http://…/>", pos)
                self.base = self.resolve(tokens[i + 1])
                i += 2
            elif keyword == "VERSION":
                version = tokens[i + 1] if i + 1 < n else ("", "", 0)
                if version[0] != "string" or version[1][:3] in ("'''", '"""'):
                    raise self.fail('VERSION needs a version string such as "1.2"', pos)
                i += 2
            else:
                return i
        return i

    def resolve(self, token: Token) -> str:
        """The IRI an IRIREF token names, resolved against BASE."""
        _, word, pos = token
        iri = _UCHAR_RE.sub(_uchar, word[1:-1])
        if _ABSOLUTE.match(iri):
            return iri
        if self.base is None:
            raise self.fail(f"relative IRI {word} without a BASE", pos)
        try:
            resolved = urljoin(self.base, iri)
        except ValueError:  # e.g. an unclosed "[" in the host
            resolved = ""
        if not _ABSOLUTE.match(resolved):
            raise self.fail(f"relative IRI {word} that the BASE cannot resolve", pos)
        return resolved

    def expand(self, word: str, pos: int) -> str:
        """The IRI a prefixed name names."""
        prefix, _, local = word.partition(":")
        namespace = self.prefixes.get(prefix)
        if namespace is None:
            raise self.fail(
                f"undeclared prefix {prefix}:", pos, f"declare it with PREFIX {prefix}: <…>"
            )
        return namespace + _LOCAL_ESC.sub(r"\1", local)

    def check_pname(self, word: str, pos: int) -> None:
        self.expand(word, pos)
        prefix, _, local = word.partition(":")
        if "SERVICE" not in local.upper():
            return
        # If the name is not a valid IRI, pyoxigraph reads `prefix:` and then the local part as
        # code; it may also read a keyword off the front of the prefix and use a shorter one.
        local = _LOCAL_ESC.sub(r"\1", local)
        for other, namespace in self.prefixes.items():
            if prefix.endswith(other) and not _SURE_IRI.fullmatch(namespace + local):
                raise QueryRejected(
                    f"{NO_SERVICE} (the prefixed name {word!r} {_where(self.text, pos)} might be"
                    " read as SERVICE; write the IRI in full)"
                )

    def check_iri_after_value(self, token: Token) -> None:
        """An IRI that pyoxigraph may read as `<` followed by code."""
        _, word, pos = token
        if "'" in word:
            raise self.fail(
                f"the IRI {word} right after a value",
                pos,
                "there '<' can also mean 'less than', and then the apostrophe would start a"
                " string; write the apostrophe as %27",
            )
        if "#" not in word:
            return
        if not self.line_ends:  # computed once, on the first such IRI
            self.line_ends = [m.start() for m in _LINE_END.finditer(self.text)]
            self.line_ends.append(len(self.text))
            self.multiline = [
                (start, start + len(text))
                for kind, text, start in self.tokens
                if kind == "string" and ("\n" in text or "\r" in text)
            ]
        stop = self.line_ends[bisect_left(self.line_ends, pos)]
        # Strings do not overlap: only the last one starting before the line end can span it.
        k = bisect_left(self.multiline, (stop, -1)) - 1
        if k >= 0 and self.multiline[k][0] > pos and self.multiline[k][1] > stop:
            raise self.fail(
                f"the IRI {word} right after a value",
                pos,
                "there '<' can also mean 'less than', and then '#' would start a comment"
                " hiding the start of the multi-line string on this line; start that"
                " string on a new line",
            )

    def dataset_clause(self, j: int, graphs: list[str], named: list[str]) -> None:
        tokens, n = self.tokens, len(self.tokens)
        pos = tokens[j][2]
        k = j + 1
        target = graphs
        if k < n and tokens[k][0] == "word" and tokens[k][1].upper() == "NAMED":
            target, k = named, k + 1
        if k >= n or tokens[k][0] not in ("iri", "pname"):
            clause = "FROM NAMED" if target is named else "FROM"
            raise self.fail(f"{clause} needs an IRI such as <http://…/graph>", pos)
        kind, word, where = tokens[k]
        target.append(self.resolve(tokens[k]) if kind == "iri" else self.expand(word, where))


def _shape(tokens: list[Token]) -> str:
    """The tokens without the comments and spacing between them (``$x`` is ``?x``).

    >>> _shape(_tokenize("SELECT ?x {  ?x ?p $y } # a comment"))
    'SELECT ?x { ?x ?p ?y }'
    """
    return " ".join("?" + word[1:] if kind == "var" else word for kind, word, _ in tokens)


def _form(word: str) -> Form:
    form = word.upper()
    assert form in _FORMS, form
    return cast(Form, form)  # one of the four, as checked: Form is their Literal type


def _uchar(found: re.Match[str]) -> str:
    code = int(found.group()[2:], 16)
    return chr(code) if code <= 0x10FFFF else found.group()


def _may_be_less_than(token: Token) -> bool:
    kind, word, _ = token
    if kind in ("var", "string", "number", "langtag", "iri", "pname"):
        return True
    if kind == "word":
        return word.upper() in ("TRUE", "FALSE")
    return kind == "punct" and word in _VALUE_ENDS


_CHARACTER_CLASS = re.compile(r"\[[^\[\]]*\.\.=[^\[\]]*\]")
LONGEST_ENGINE_MESSAGE = 300


def engine_syntax_message(error: SyntaxError) -> str:
    """pyoxigraph's parse error on one line: where and what it expected, with the Unicode ranges
    a name may start with said in a word (they filled a screen), and cut when still long.

    >>> engine_syntax_message(SyntaxError("error at 1:18: expected one of \\"}\\", ['0'..='9'],\\n"
    ...     "['A' ..= 'Z' | '\\\\u{00C0}'..='\\\\u{00D6}'\\n| '\\\\u{00D8}'..='\\\\u{00F6}'], [_]"))
    'query: expected a SPARQL query (error at 1:18: expected one of "}", a digit, a letter, "_")'
    """
    text = " ".join(str(error).split())

    def said(found: re.Match[str]) -> str:
        return "a digit" if found.group().startswith("['0'") else "a letter"

    text = _CHARACTER_CLASS.sub(said, text).replace("[_]", '"_"')
    if len(text) > LONGEST_ENGINE_MESSAGE:
        text = text[: LONGEST_ENGINE_MESSAGE - 1].rsplit(", ", 1)[0] + ", …"
    return f"query: expected a SPARQL query ({text})"
