"""The shapes' verdict on the served version, and on any one resource in it: ``/validate`` (the
whole report) and ``/validate?target=IRI`` (the results whose focus node is that resource), as
an HTML page, JSON, or a SHACL validation report in any RDF syntax the documents are offered in.

The results are those the build found and kept with the version (``validation.json``): a version
with a violation is never promoted, so a served version conforms, and its results are warnings
and notes, each with its shape, message and source line.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request

from ..errors import UsageError
from ..query.served import VersionFacts, kept_findings
from ..vocab import IG, PREFIXES
from .dataset import FORMATS
from .rendering import DOCUMENTS, local_path, page_links
from .resources import NotFound, absolute, negotiated, refuse_unknown, rows
from .runtime import current as runtime

blueprint = Blueprint("conformance", __name__)

SH = "http://www.w3.org/ns/shacl#"
DCT = "http://purl.org/dc/terms/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
JSON_MEDIA = "application/json"


def _target(version: VersionFacts) -> tuple[str | None, set[str]]:
    """The ``target`` IRI, which must be a resource of the served version (400 / 404 if not),
    and the focus nodes its results are about: itself, and a city's profiles (as its page
    counts them)."""
    target = request.args.get("target")
    if target is None:
        return None, set()
    if local_path(target, version.base_iri) is None:
        raise UsageError(
            f"target: {target[:200]!r} is not an IRI of this dataset; give the IRI of a"
            f" resource, e.g. {version.base_iri}id/city/…"
        )
    # local_path admits only the characters of minted IRIs: safe inside <…>
    said = rows(
        version,
        f"SELECT ?p WHERE {{ {{ <{target}> ?p ?o }} UNION {{ ?s ?p <{target}> }} }} LIMIT 1",
    )
    if not said and target not in version.graphs:
        refuse_unknown("target", target, version)
    found = rows(
        version, f"SELECT DISTINCT ?profile WHERE {{ ?profile <{IG}city> <{target}> }}", whole=True
    )
    return target, {target, *(row["profile"] for row in found)}


def _format(suffix: str | None) -> str:
    if suffix is not None:
        return suffix
    named = request.args.get("format", "").strip().lower()
    if named == "json" or (
        not named and request.accept_mimetypes.best_match([JSON_MEDIA, *_MEDIA]) == JSON_MEDIA
    ):
        return "json"
    return negotiated()


_MEDIA = [media for media, _ in DOCUMENTS.values()]


def report_triples(
    results: Sequence[Mapping[str, Any]], report: str, conforms: bool
) -> list[ox.Triple]:
    """A SHACL validation report; each result is named by the report and its content."""
    it = ox.NamedNode(report)
    triples = [
        ox.Triple(it, RDF_TYPE, ox.NamedNode(f"{SH}ValidationReport")),
        ox.Triple(it, ox.NamedNode(f"{SH}conforms"), ox.Literal(conforms)),
    ]
    for found in results:
        key = json.dumps(found, sort_keys=True).encode()
        node = ox.NamedNode(f"{report}#result-{hashlib.sha256(key).hexdigest()[:16]}")
        triples += [
            ox.Triple(it, ox.NamedNode(f"{SH}result"), node),
            ox.Triple(node, RDF_TYPE, ox.NamedNode(f"{SH}ValidationResult")),
            ox.Triple(node, ox.NamedNode(f"{SH}focusNode"), ox.NamedNode(found["focus"])),
            ox.Triple(node, ox.NamedNode(f"{SH}sourceShape"), ox.NamedNode(found["shape"])),
            ox.Triple(
                node, ox.NamedNode(f"{SH}resultSeverity"), ox.NamedNode(SH + found["severity"])
            ),
            ox.Triple(node, ox.NamedNode(f"{SH}resultMessage"), ox.Literal(found["message"])),
            ox.Triple(node, ox.NamedNode(f"{DCT}source"), ox.Literal(found["source"])),
        ]
        if found.get("value") is not None:
            triples.append(ox.Triple(node, ox.NamedNode(f"{SH}value"), ox.Literal(found["value"])))
    return triples


@blueprint.route("/validate")
@blueprint.route("/validate.<any(html, ttl, jsonld, nt, rdf, json):suffix>")
def validate(suffix: str | None = None) -> Response:
    version = runtime().version()
    kept = kept_findings(version)
    if kept is None:
        raise NotFound("this version was built before validation results were kept; rebuild it")
    target, about = _target(version)
    results = [dict(r) for r in kept if target is None or r["focus"] in about]
    conforms = not any(r["severity"] == "Violation" for r in kept)
    fmt = _format(suffix)
    query = f"?target={quote(target, safe='')}" if target is not None else ""
    report = absolute(f"/validate{query}")
    headers = {"Vary": "Accept", "Last-Modified": version.last_modified}
    if fmt == "json":
        body = {"conforms": conforms, "target": target, "version": version.id, "results": results}
        return Response(json.dumps(body, indent=1), content_type=JSON_MEDIA, headers=headers)
    media, _ = DOCUMENTS[fmt]
    if fmt == "html":
        page = render_template(
            "validate.html",
            version=version,
            target=target,
            results=results,
            conforms=conforms,
            link=page_links(version.base_iri),
        )
        return Response(page, content_type=f"{media}; charset=utf-8", headers=headers)
    triples = report_triples(results, report, conforms)
    data = ox.serialize(triples, format=FORMATS[fmt], prefixes={**PREFIXES, "sh": SH, "dct": DCT})
    return Response(data, content_type=f"{media}; charset=utf-8", headers=headers)
