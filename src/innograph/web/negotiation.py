"""Content negotiation for SPARQL answers: Accept with q-values (Werkzeug), or ``format=``."""

from __future__ import annotations

from werkzeug.datastructures import MIMEAccept

from ..errors import UsageError
from ..query.writers import GRAPH_FORMATS, SOLUTION_FORMATS

# Media types offered, the server's preference first (that is the default for */* or no Accept).
SOLUTION_TYPES = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/json": "json",
    "application/xml": "xml",
}
GRAPH_TYPES = {media: name for name, (media, _) in GRAPH_FORMATS.items()}
GRAPH_TYPES.setdefault("application/json", "jsonld")
# ?format= for browsers and scripts; beats Accept.
FORMAT_NAMES = {
    "json": ("json", "jsonld"),
    "xml": ("xml", "rdfxml"),
    "csv": ("csv", None),
    "tsv": ("tsv", None),
    "ttl": (None, "turtle"),
    "turtle": (None, "turtle"),
    "nt": (None, "ntriples"),
    "ntriples": (None, "ntriples"),
    "nq": (None, "nquads"),
    "nquads": (None, "nquads"),
    "trig": (None, "trig"),
    "jsonld": (None, "jsonld"),
    "json-ld": (None, "jsonld"),
    "rdf": (None, "rdfxml"),
    "rdfxml": (None, "rdfxml"),
}


class NotAcceptable(UsageError):
    http_status = 406


def media_type(fmt: str) -> str:
    if fmt in SOLUTION_FORMATS:
        return SOLUTION_FORMATS[fmt]
    return GRAPH_FORMATS[fmt][0]


BOOLEAN_TYPES = {k: v for k, v in SOLUTION_TYPES.items() if v in ("json", "xml")}
KINDS = {"solutions": (0, SOLUTION_TYPES), "boolean": (0, BOOLEAN_TYPES), "graph": (1, GRAPH_TYPES)}


def _named(value: str, kind: str) -> str | None:
    """A ``format=`` value: a short name ("csv", "ttl") or a media type ("text/csv")."""
    column, offered = KINDS[kind]
    value = value.strip().lower()
    pair = FORMAT_NAMES.get(value) or FORMAT_NAMES.get(value.removeprefix("application/"))
    if pair is not None:
        name = pair[column]
        return name if name in offered.values() else None
    return offered.get(value)


def choose(kind: str, accept: MIMEAccept, format_values: list[str]) -> str:
    """The format name for an answer of this kind ("solutions", "boolean", "graph"):
    ``format=`` if given (the first value offered: some clients send a name and a media
    type), else the best Accept match by q-value."""
    _, offered = KINDS[kind]
    if format_values:
        for value in format_values:
            name = _named(value, kind)
            if name is not None:
                return name
        shown = {"solutions": "SELECT", "boolean": "ASK", "graph": "CONSTRUCT/DESCRIBE"}[kind]
        names = sorted(k for k in FORMAT_NAMES if _named(k, kind))
        raise UsageError(
            f"format: {format_values[0]!r} is not offered for a {shown} answer;"
            f" use one of {', '.join(names)}"
        )
    if not accept:  # no Accept header: the server's first choice
        return next(iter(offered.values()))
    best = accept.best_match(list(offered))
    if best is None:
        raise NotAcceptable(
            "Accept: none of the requested media types is offered; this answer is available as "
            + ", ".join(offered)
        )
    return offered[best]
