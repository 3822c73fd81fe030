"""Canned queries: a catalogue query (``queries/*.rq``) that declares parameters in its header.

A parameter is one comment line after the question, before the PREFIXes::

    # param: area  type=concept  scheme=<https://w3id.org/innograph/vocab/policy-areas>  var=?area
    # param: city  type=city  var=?cityIri  label="city"

``type=concept`` takes the concepts of ``scheme`` (the survey's options and the cities' own
wordings), ``type=city`` the cities of the store; ``var`` is the query variable the value binds
(default ``?NAME``); ``label`` names the parameter for people; ``default`` is the value used
when none is given (a key, see below), and without it the query runs over every value, as the
file reads. A value is a key (the concept's IRI after its scheme, ``health``; the city's slug,
``liverpool-city-region``) or the full IRI, and must be one the served version holds. A chosen
value is bound by a ``VALUES`` block written, from the term pyoxigraph made of the checked IRI,
right after the query's outer ``WHERE {`` (the one line that opens at the left margin): never
by formatting what a person typed into the query. This module does no I/O but reading files.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..errors import UsageError

KINDS = ("concept", "city")
KEYS = ("type", "scheme", "var", "label", "default")
NAME = re.compile(r"[a-z][a-z0-9_]*")
QUERY_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")  # a catalogue file's stem
PARAM = re.compile(r"#\s*param:(?P<spec>.*)")
OUTER_WHERE = re.compile(r"WHERE\s*\{\s*")  # a whole line at the left margin
SHOWN = 12  # allowed values a message names before "… (N in all)"


class BadParameter(UsageError):
    """A parameter value the query does not take; names the parameter and what it takes."""


@dataclass(frozen=True)
class Parameter:
    name: str  # in URLs and on the command line: area
    kind: str  # one of KINDS
    variable: str  # the query variable it binds, without "?"
    label: str  # for people: "policy area"
    scheme: str | None = None  # the concept scheme (kind "concept")
    default: str | None = None  # a key; None: every value

    def key_of(self, iri: str, base_iri: str) -> str:
        """The short form of an allowed value: the part of its IRI after the scheme, or after
        ``<base>id/city/``.

        >>> Parameter("area", "concept", "area", "area", "https://x.org/s").key_of(
        ...     "https://x.org/s/health", "")
        'health'
        >>> Parameter("city", "city", "c", "city").key_of("https://b/id/city/akron", "https://b/")
        'akron'
        """
        stem = f"{self.scheme}/" if self.kind == "concept" else f"{base_iri}id/city/"
        return iri.removeprefix(stem) if iri.startswith(stem) and iri != stem else iri


@dataclass(frozen=True)
class Choice:
    """A value a parameter may take: its key, IRI and label."""

    key: str
    iri: str
    label: str


@dataclass(frozen=True)
class CannedQuery:
    name: str  # the file's stem
    question: str  # the first line, without "# "
    text: str  # the file as it is: plain SPARQL, every parameter at its default
    parameters: tuple[Parameter, ...]

    def parameter(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        takes = ", ".join(p.name for p in self.parameters) or "no parameters"
        raise UsageError(f"{name}: not a parameter of {self.name}; it takes {takes}")


def parse(name: str, text: str) -> CannedQuery:
    """A catalogue query and the parameters its header declares.

    >>> q = parse("q", "# Which?\\n# param: area type=concept scheme=<https://x.org/s>\\n"
    ...           "SELECT ?area\\nWHERE {\\n  ?p ?q ?area\\n}\\n")
    >>> q.parameters[0].variable, q.parameters[0].scheme, q.parameters[0].label
    ('area', 'https://x.org/s', 'area')
    """
    lines = text.splitlines()
    question = lines[0].lstrip("#").strip() if lines else name
    parameters: list[Parameter] = []
    for number, line in enumerate(lines, start=1):
        found = PARAM.fullmatch(line.strip())
        if found is None:
            continue
        try:
            parameters.append(_parameter(found["spec"]))
        except ValueError as error:
            raise UsageError(f"{name}.rq:{number}: {error}") from None
    names = [p.name for p in parameters]
    if len(set(names)) != len(names):
        raise UsageError(f"{name}.rq: a parameter is declared twice ({', '.join(names)})")
    if parameters:
        _check_body(name, lines, parameters)
    return CannedQuery(name, question, text, tuple(parameters))


def _parameter(spec: str) -> Parameter:
    """One ``# param:`` line's words: the name, then key=value pairs (values may be quoted)."""
    words = shlex.split(spec)
    if not words or not NAME.fullmatch(words[0]):
        raise ValueError("param: expected a name (a-z, 0-9, _) first, then key=value pairs")
    name, fields = words[0], dict[str, str]()
    for word in words[1:]:
        key, equals, value = word.partition("=")
        if not equals or key not in KEYS:
            raise ValueError(f"param {name}: expected key=value with a key of {', '.join(KEYS)}")
        fields[key] = value
    kind = fields.get("type", "concept")
    if kind not in KINDS:
        raise ValueError(f"param {name}: type must be one of {', '.join(KINDS)}")
    scheme = fields.get("scheme", "").strip("<>") or None
    if (kind == "concept") != (scheme is not None):
        raise ValueError(f"param {name}: a concept takes a scheme=<IRI>, a city none")
    if scheme is not None:
        ox.NamedNode(scheme)  # an IRI, or ValueError
    variable = fields.get("var", f"?{name}").removeprefix("?")
    if not NAME.fullmatch(variable.lower()):
        raise ValueError(f"param {name}: var must be a variable, ?name")
    label = fields.get("label", name.replace("_", " "))
    return Parameter(name, kind, variable, label, scheme, fields.get("default") or None)


def _check_body(name: str, lines: list[str], parameters: list[Parameter]) -> None:
    """A parameterised query has one outer ``WHERE {`` line, and uses each variable."""
    wheres = [line for line in lines if OUTER_WHERE.fullmatch(line)]
    if len(wheres) != 1:
        raise UsageError(f"{name}.rq: parameters need one line 'WHERE {{' at the left margin")
    body = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    for parameter in parameters:
        if not re.search(rf"\?{parameter.variable}\b", body):
            raise UsageError(f"{name}.rq: param {parameter.name}: ?{parameter.variable} unused")


def load(folder: Path) -> dict[str, CannedQuery]:
    """Every query of the catalogue folder, by name (the file's stem), in name order."""
    return {
        path.stem: parse(path.stem, path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.rq"))
    }


def choices_query(parameter: Parameter) -> str:
    """The SELECT that lists what ``parameter`` may take in the served version: ``?value``
    (an IRI), ``?label``, and ``?own`` (true for a city's own wording), in the order a form
    shows them. The scheme comes from the catalogue file and is checked as an IRI."""
    if parameter.kind == "city":
        return (
            "PREFIX ig: <https://w3id.org/innograph/def/>\n"
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
            "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
            "SELECT ?value (COALESCE(MIN(STR(?preferred)), MIN(STR(?name)), STR(?value))"
            " AS ?label) (false AS ?own)\n"
            "WHERE { ?value a ig:City OPTIONAL { ?value skos:prefLabel ?preferred }"
            " OPTIONAL { ?value rdfs:label ?name } }\n"
            "GROUP BY ?value ORDER BY ?label ?value"
        )
    scheme = str(ox.NamedNode(parameter.scheme or ""))
    return (
        "PREFIX ig: <https://w3id.org/innograph/def/>\n"
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        "SELECT ?value (COALESCE(MIN(STR(?preferred)), STR(?value)) AS ?label)"
        " (COALESCE(MIN(?option), true) = false AS ?own)\n"
        f"WHERE {{ ?value skos:inScheme {scheme} OPTIONAL {{ ?value skos:prefLabel ?preferred }}"
        " OPTIONAL { ?value ig:surveyOption ?option } }\n"
        "GROUP BY ?value ORDER BY ?own ?label ?value"
    )


def choices(
    parameter: Parameter, rows: Iterable[Mapping[str, str]], base_iri: str
) -> tuple[Choice, ...]:
    """The answer of ``choices_query`` as choices: the survey's options first, then the cities'
    own wordings (marked so in the label)."""
    found = []
    for row in rows:
        own = row.get("own") == "true"
        label = f"{row.get('label', row['value'])}{' (own wording)' if own else ''}"
        found.append(Choice(parameter.key_of(row["value"], base_iri), row["value"], label))
    return tuple(found)


def choose(
    query: CannedQuery, parameter: Parameter, given: str | None, allowed: Iterable[Choice]
) -> Choice | None:
    """The value of ``parameter``: the one given (a key or an IRI), else its default, else
    None (every value); a value the served version does not hold is a ``BadParameter``.

    >>> q = parse("q", "# Which?\\n# param: area type=concept scheme=<https://x.org/s>"
    ...           " default=h label='policy area'\\nSELECT ?area\\nWHERE {\\n  ?p ?q ?area\\n}\\n")
    >>> h, area = Choice("h", "https://x.org/s/h", "Health"), q.parameters[0]
    >>> choose(q, area, "", [h]).key, choose(q, area, "https://x.org/s/h", [h]).key
    ('h', 'h')
    >>> choose(q, area, "h> } ; DROP ALL", [h])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    innograph.query.canned.BadParameter: area: 'h> } ; DROP ALL' is not a policy area ...
    """
    allowed = tuple(allowed)
    wanted = given.strip() if given is not None and given.strip() else parameter.default
    if wanted is None:
        return None
    for choice in allowed:
        if wanted in (choice.key, choice.iri):
            return choice
    keys = [choice.key for choice in allowed]
    shown = ", ".join(keys[:SHOWN]) + (f", … ({len(keys)} in all)" if len(keys) > SHOWN else "")
    shown = shown or "none: the served version holds none"
    raise BadParameter(
        f"{parameter.name}: {wanted[:60]!r} is not a {parameter.label} of this dataset;"
        f" {query.name} takes one of {shown}"
    )


def bind(query: CannedQuery, chosen: Mapping[str, Choice | None]) -> str:
    """The query text with each chosen value bound by a VALUES block after the outer
    ``WHERE {``; with nothing chosen, the file as it is.

    >>> q = parse("q", "# Which?\\n# param: area type=concept scheme=<https://x.org/s>\\n"
    ...           "SELECT ?area\\nWHERE {\\n  ?p ?q ?area\\n}\\n")
    >>> print(bind(q, {"area": Choice("h", "https://x.org/s/h", "H")}))
    # Which?
    # param: area type=concept scheme=<https://x.org/s>
    SELECT ?area
    WHERE {
      VALUES ?area { <https://x.org/s/h> }  # area = h
      ?p ?q ?area
    }
    <BLANKLINE>
    """
    blocks = []
    for parameter in query.parameters:
        choice = chosen.get(parameter.name)
        if choice is not None:
            term = str(ox.NamedNode(choice.iri))  # pyoxigraph's own term: a checked IRI
            key = choice.key if QUERY_NAME.fullmatch(choice.key.replace("/", "-")) else "…"
            blocks.append(
                f"  VALUES ?{parameter.variable} {{ {term} }}  # {parameter.name} = {key}"
            )
    if not blocks:
        return query.text
    lines = query.text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if OUTER_WHERE.fullmatch(line.rstrip("\n")))
    return "".join([*lines[: at + 1], *(block + "\n" for block in blocks), *lines[at + 1 :]])
