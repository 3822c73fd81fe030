"""Content negotiation for SPARQL answers: Accept with q-values (Werkzeug), or ``format=``."""

from __future__ import annotations

from werkzeug.datastructures import MIMEAccept

from ..errors import UsageError
from ..results import GRAPH_FORMATS, SOLUTION_FORMATS

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


def choose(graph_result: bool, accept: MIMEAccept, format_param: str | None) -> str:
    """The format name for an answer: ``format=`` if given, else the best Accept match."""
    if format_param is not None:
        pair = FORMAT_NAMES.get(format_param.lower())
        name = pair[1 if graph_result else 0] if pair else None
        if name is None:
            kind = "graph (CONSTRUCT/DESCRIBE)" if graph_result else "SELECT/ASK"
            offered = sorted(k for k, v in FORMAT_NAMES.items() if v[1 if graph_result else 0])
            raise UsageError(
                f"format: {format_param!r} is not offered for a {kind} answer;"
                f" use one of {', '.join(offered)}"
            )
        return name
    offered = GRAPH_TYPES if graph_result else SOLUTION_TYPES
    if not accept:  # no Accept header: the server's first choice
        return next(iter(offered.values()))
    best = accept.best_match(list(offered))
    if best is None:
        raise NotAcceptable(
            "Accept: none of the requested media types is offered; this answer is available as "
            + ", ".join(offered)
        )
    return offered[best]
