"""Canned queries on the web, Datasette's model: ``/queries`` lists the catalogue, and each
query has a page (``/queries/<name>``: a form, the SPARQL, the answer as a table) and the same
answer as CSV and JSON at stable URLs (``/queries/<name>.csv?area=health``).

Parameter values are checked against what the served version holds before the query runs (a
bad one is a 400 naming the parameter and the values it takes) and bound by
``innograph.query.canned``; answers come from the query workers, with the limits and the answer
cache of ``/sparql``.
"""

from __future__ import annotations

import json
import urllib.parse
from functools import cache

from flask import Blueprint, Response, render_template, request

from ..errors import UsageError
from ..query import canned
from ..query.guard import inspect_query
from ..query.served import VersionFacts
from ..vocab import data_dir
from .cite import of_page
from .negotiation import media_type
from .resources import NotFound, absolute, ask, rows, solutions
from .runtime import current as runtime

blueprint = Blueprint("queries", __name__)
DOWNLOADS = ("csv", "json")  # the answer's formats, as the file name's suffix


@cache
def catalogue() -> dict[str, canned.CannedQuery]:
    """The catalogue shipped with innograph (``queries/``), by name."""
    return canned.load(data_dir("queries"))


def allowed(version: VersionFacts, parameter: canned.Parameter) -> tuple[canned.Choice, ...]:
    """What ``parameter`` may take in the served version: asked once per version."""
    return runtime().per_version(
        version,
        f"canned {parameter.kind} {parameter.scheme}",
        lambda: canned.choices(
            parameter, rows(version, canned.choices_query(parameter), whole=True), version.base_iri
        ),
    )


def _chosen(query: canned.CannedQuery, version: VersionFacts) -> dict[str, canned.Choice | None]:
    """Each parameter's value from the URL, checked; an unknown or repeated one is a 400."""
    for name in request.args:
        query.parameter(name)  # a name the query does not take: 400 naming the ones it takes
        if len(request.args.getlist(name)) > 1:
            raise UsageError(f"{name}: given {len(request.args.getlist(name))} times; give it once")
    return {
        p.name: canned.choose(query, p, request.args.get(p.name), allowed(version, p))
        for p in query.parameters
    }


@blueprint.route("/queries")
def index() -> Response:
    page = render_template("queries.html", queries=list(catalogue().values()))
    return Response(page, content_type="text/html; charset=utf-8")


@blueprint.route("/queries/<name>")
def query_page(name: str) -> Response:
    stem, dot, suffix = name.rpartition(".")
    fmt = suffix if dot and suffix in (*DOWNLOADS, "html") else "html"
    query = catalogue().get(stem if dot and fmt == suffix else name)
    if query is None:
        raise NotFound(f"{request.path}: no such canned query; /queries lists them")
    version = runtime().version()
    chosen = _chosen(query, version)
    text = canned.bind(query, chosen)
    inspect_query(text)  # our own text, checked as /sparql checks any
    answer = ask(version, text, "json" if fmt == "html" else fmt)
    headers = {"X-Result-Rows": str(answer.rows)}
    if answer.truncated:
        settings = runtime().settings
        headers["X-Result-Truncated"] = "true"
        headers["X-Result-Row-Limit"] = str(settings.max_rows)
        headers["X-Result-Byte-Limit"] = str(settings.max_result_bytes)
    given = urllib.parse.urlencode({k: v.key for k, v in chosen.items() if v is not None})
    here = f"/queries/{query.name}{'?' if given else ''}{given}"
    if fmt in DOWNLOADS:  # the page it came from holds its citation (RFC 8574)
        headers["Link"] = f'<{absolute(here)}>; rel="cite-as"'
        return Response(
            answer.body, content_type=f"{media_type(fmt)}; charset=utf-8", headers=headers
        )
    values = ", ".join(f"{k} = {v.key}" for k, v in chosen.items() if v is not None)
    citation = of_page(version, query.question + (f" ({values})" if values else ""), here)
    page = render_template(
        "query_page.html",
        query=query,
        allowed={p.name: allowed(version, p) for p in query.parameters},
        chosen=chosen,
        names=json.loads(answer.body).get("head", {}).get("vars", []),
        table=solutions(answer),
        cut=answer.truncated,
        text=text,
        downloads={
            fmt: f"/queries/{query.name}.{fmt}{'?' if given else ''}{given}" for fmt in DOWNLOADS
        },
        editor="/sparql?" + urllib.parse.urlencode({"query": text}),
        version=version,
        citation=citation,
    )
    return Response(page, content_type="text/html; charset=utf-8", headers=headers)
