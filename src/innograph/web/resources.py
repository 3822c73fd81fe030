"""Linked data: every IRI the graph mints dereferences on this server.

A thing (``/id/city/liverpool-city-region``) answers ``303 See Other`` to a document about it,
chosen by ``Accept`` (or ``?format=``); a document (``….ttl``, ``.jsonld``, ``.nt``, ``.rdf``,
``.html``) answers 200 with ``Content-Location``, ``Link`` alternates and the licence. The data
IRIs (``<base>id/…``, ``<base>graph/…``) map onto this server's ``/id/…`` and ``/graph/…``, the
ontology and the schemes (``https://w3id.org/innograph/def/…``, ``…/vocab/…``) onto ``/def/…`` and
``/vocab/…``, so every link a page shows stays on the server the reader is browsing.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, NoReturn

from flask import Blueprint, Response, render_template, request

from .. import __version__
from ..errors import InnographError, UsageError
from ..query.profiles import (
    COMPARED,
    ProfileView,
    chart,
    city_profiles,
    city_query,
    comparison_query,
    labels_query,
)
from ..query.resources import (
    INBOUND_PAGE,
    SCHEMES,
    description,
    document_query,
    graph_query,
    inbound_count_query,
)
from ..query.served import VersionFacts, kept_document, kept_findings, retired_from
from ..query.workers import Answer, QueryRequest
from ..vocab import IG, PREFIXES
from . import throttle
from .negotiation import NotAcceptable
from .ontology import ontology_of, shapes_by_class
from .rendering import (
    DOCUMENTS,
    MINTED_PATH,
    ONTOLOGY_DOCUMENT,
    external,
    fill,
    page_body,
    page_links,
    prefixed,
    shapes_status,
    to_iri,
)
from .repeats import KEEP, SERVED
from .runtime import current as runtime

blueprint = Blueprint("resources", __name__)

# What Accept may name, the server's preference first (Turtle for */* and no Accept).
ACCEPTED = {
    "text/turtle": "ttl",
    "application/ld+json": "jsonld",
    "application/n-triples": "nt",
    "application/rdf+xml": "rdf",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/n3": "ttl",  # Turtle is N3
}
FORMAT_NAMES = {**{s: s for s in DOCUMENTS}, "turtle": "ttl", "json-ld": "jsonld", "xml": "rdf"}
NOT_FOUND_BODIES = {
    "ttl": b"# nothing is said about this IRI here\n",
    "nt": b"# nothing is said about this IRI here\n",
    "jsonld": b'{"@graph": []}\n',
    "rdf": b'<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n',
}


class NotFound(UsageError):
    http_status = 404


class Gone(UsageError):
    http_status = 410


def refuse_unknown(name: str, iri: str, version: VersionFacts) -> NoReturn:
    """A parameter naming an IRI the served version does not have: 410 when an earlier version
    published it, else 404."""
    last = retired_from(version, iri)
    if last is not None:
        raise Gone(f"{name}: {iri} was published by store version {last} and is gone from this one")
    raise NotFound(f"{name}: nothing is said about {iri} in this version")


def public(path: str) -> str:
    """A path on this server as the public sees it: under INNOGRAPH_PUBLIC_BASE when set (a
    deployment behind a proxy), else as it is (clients resolve it against the request)."""
    base = runtime().settings.public_base
    return f"{base.rstrip('/')}{path}" if base else path


def absolute(path: str) -> str:
    """A path on this server as an absolute IRI: under the public base when set, else under the
    address the request came to (INNOGRAPH_TRUSTED_HOSTS guards it, as for the SPARQL service
    description)."""
    base = runtime().settings.public_base or request.url_root
    return f"{base.rstrip('/')}{path}"


def negotiated() -> str:
    """The document format: ``?format=`` if given, else the best Accept match by q-value."""
    named = request.args.get("format")
    if named is not None:
        suffix = FORMAT_NAMES.get(named.strip().lower()) or ACCEPTED.get(named.strip().lower())
        if suffix is None:
            raise UsageError(
                f"format: {named!r} is not offered; use one of {', '.join(sorted(FORMAT_NAMES))}"
            )
        return suffix
    accept = request.accept_mimetypes
    if not accept:
        return "ttl"
    best = accept.best_match(list(ACCEPTED))
    if best is None:
        raise NotAcceptable(
            "Accept: none of the requested media types is offered; this resource is described in "
            + ", ".join(media for media, _ in DOCUMENTS.values())
        )
    return ACCEPTED[best]


def ask(version: VersionFacts, text: str, fmt: str, prefixed: bool = False) -> Answer:
    """One query through the workers and the answer cache, as /sparql runs it."""
    settings = runtime().settings
    query = QueryRequest(
        text,
        fmt,
        settings.max_rows,
        version.id,
        max_bytes=settings.max_result_bytes,
        prefixes=tuple(PREFIXES.items()) if prefixed else (),
    )
    answer = runtime().cache.get(query)
    if answer is None:
        answer = throttle.run(runtime().workers, query, settings.query_timeout_s)
        runtime().cache.put(query, answer)
    return answer


class AnswerCut(InnographError):
    """A view that counts or compares needs the whole answer, and the server's limits cut it."""

    http_status = 503


def solutions(answer: Answer) -> list[dict[str, str]]:
    """A JSON SELECT answer's solutions as plain values."""
    bindings = json.loads(answer.body)["results"]["bindings"]
    return [{name: value["value"] for name, value in row.items()} for row in bindings]


def rows(version: VersionFacts, text: str, whole: bool = False) -> list[dict[str, str]]:
    """A SELECT's solutions as plain values (for pages). ``whole``: the view counts or
    compares them, so an answer cut at the server's limits is an error, never a wrong count."""
    answer = ask(version, text, "json")
    if whole and answer.truncated:
        settings = runtime().settings
        raise AnswerCut(
            f"this view needs more than the server's limits give one query"
            f" (INNOGRAPH_MAX_ROWS={settings.max_rows},"
            f" INNOGRAPH_MAX_RESULT_BYTES={settings.max_result_bytes}); narrow it, or raise them"
        )
    return solutions(answer)


def _inbound_count(version: VersionFacts, iri: str) -> int:
    body = ask(version, inbound_count_query(iri), "json").body
    bindings = json.loads(body)["results"]["bindings"]
    return int(bindings[0]["links"]["value"]) if bindings else 0


MAX_PAGE_DIGITS = 6  # a million pages of 100 links: more than any resource has


def _page_number() -> int:
    value = request.args.get("page", "1")
    if not re.fullmatch(rf"[0-9]{{1,{MAX_PAGE_DIGITS}}}", value) or int(value) < 1:
        raise UsageError(f"page: expected a page number from 1, got {value[:20]!r}")
    return int(value)


def _query_string(page: int, view: str) -> str:
    parts = [f"page={page}"] if page > 1 else []
    parts += [f"view={view}"] if view else []
    return "?" + "&".join(parts) if parts else ""


def _links(path: str, fmt: str, page: int, pages: int, view: str) -> list[str]:
    """Alternates of this page in every format, the licence, and the neighbouring pages."""
    here = _query_string(page, view)
    links = [
        f'<{public(f"{path}.{suffix}{here}")}>; rel="alternate"; type="{media}"'
        for suffix, (media, _) in DOCUMENTS.items()
    ]
    links.append(f'<{runtime().settings.license}>; rel="license"')
    if page < pages:
        links.append(f'<{public(f"{path}.{fmt}{_query_string(page + 1, view)}")}>; rel="next"')
    if page > 1:
        links.append(f'<{public(f"{path}.{fmt}{_query_string(page - 1, view)}")}>; rel="prev"')
    return links


def _tag(version: VersionFacts, *parts: str) -> str:
    """A weak ETag: the store version, the code and the settings that shape a body, the request."""
    s = runtime().settings
    shaped = f"{__version__}|{s.max_rows}|{s.max_result_bytes}|{s.license}|{s.public_base}"
    return hashlib.sha256("|".join((version.id, shaped, *parts)).encode()).hexdigest()[:32]


def _truncated(headers: dict[str, str], *answers: Answer) -> bool:
    """Say so when an answer behind a document was cut at the server's limits."""
    if not any(answer.truncated for answer in answers):
        return False
    settings = runtime().settings
    headers["X-Result-Truncated"] = "true"
    headers["X-Result-Row-Limit"] = str(settings.max_rows)
    headers["X-Result-Byte-Limit"] = str(settings.max_result_bytes)
    return True


@blueprint.route("/def/", defaults={"space": "def", "rest": ONTOLOGY_DOCUMENT})
@blueprint.route("/<any(id, graph, vocab, def):space>/<path:rest>", methods=["GET", "HEAD"])
def resource(space: str, rest: str) -> Response:
    stem, dot, suffix = rest.rpartition(".")
    document = bool(dot) and suffix in DOCUMENTS
    if document:
        rest = stem
    if not MINTED_PATH.fullmatch(rest):
        raise NotFound(f"{request.path}: not an IRI of this dataset")
    version = runtime().version()
    request.environ[SERVED] = version.id
    iri = to_iri(space, rest, version.base_iri)
    page = _page_number()
    view = "resource" if request.args.get("view") == "resource" else ""
    fmt = suffix if document else negotiated()
    path = f"/{space}/{rest}"
    located = f"{path}.{fmt}{_query_string(page, view)}"
    tag = _tag(version, iri, fmt, str(page), view)
    headers = {
        "ETag": f'W/"{tag}"',
        "Last-Modified": version.last_modified,
        "Content-Location": public(located),
    }
    conditional = request.if_none_match
    if document and not conditional.star_tag and conditional.contains_weak(tag):
        return _again(Response(status=304, headers=headers))  # a version never changes
    media, writer = DOCUMENTS[fmt]
    cached = runtime().documents.get(tag) if document else None
    if cached is not None:
        stored, kept = cached
        headers.update(kept)
        return _again(Response(stored, content_type=f"{media}; charset=utf-8", headers=headers))
    built = _built_page(version, iri) if page == 1 and not view and fmt == "html" else None
    if built is not None:  # a city's page rendered with the version: no query needed
        if not document:
            return _again(Response(status=303, headers={"Location": public(located)}))
        pages = max(1, -(-built["count"] // INBOUND_PAGE))
        headers["Link"] = ", ".join(_links(path, fmt, page, pages, view))
        charts = [
            chart(title, _compared(version, prop), set(built["chosen"].get(prop, ())))
            for title, prop in COMPARED
        ]
        status = shapes_status(kept_findings(version), iri, built.get("profiles", ()))
        body = fill(built["html"], iri, charts, version, status)
        _remember(tag, body.encode(), headers)
        return Response(body, content_type=f"{media}; charset=utf-8", headers=headers)
    ontology = iri == str(IG)  # the namespace: the whole ontology, and its documentation
    query = graph_query(f"{version.base_iri}graph/ontology") if ontology else None
    query = query or document_query(iri, page)
    described = ask(version, query, "ntriples")
    found = description(iri, described.body)
    # the document holds up to a page of links to the resource: only a full page needs a count
    full = len(found.inbound) >= INBOUND_PAGE or page > 1
    count = 0 if ontology else (_inbound_count(version, iri) if full else len(found.inbound))
    pages = max(1, -(-count // INBOUND_PAGE))
    if page > pages:
        raise NotFound(f"page: {page} is past the last page ({pages}) of links to {iri}")
    known = iri in version.graphs  # a named graph exists even when nothing is said about it
    if described.rows == 0 and count == 0 and not known:
        return _not_found(iri, fmt, version)
    if not document:
        return _again(Response(status=303, headers={"Location": public(located)}))
    headers["Link"] = ", ".join(_links(path, fmt, page, pages, view))
    if writer is not None:
        answer = ask(version, query, writer, prefixed=True)
        _truncated(headers, answer)
        if answer.encoding:
            headers["Content-Encoding"] = answer.encoding
        else:
            _remember(tag, answer.body, headers)
        return Response(answer.body, content_type=f"{media}; charset=utf-8", headers=headers)
    if ontology:
        cut = _truncated(headers, described)
        body = _ontology_page(version, described.body, path, cut)
    elif f"{IG}City" in found.types.get(iri, []) and page == 1 and not view:
        city = ask(version, city_query(iri), "ntriples")
        labels = runtime().per_version(version, "labels", lambda: _survey_labels(version))
        profiles = city_profiles(iri, city.body + labels.body)
        charts = [
            chart(title, _compared(version, prop), _chosen(profiles, prop))
            for title, prop in COMPARED
        ]
        cut = _truncated(headers, described, city, labels)
        body = page_body(
            found,
            version.base_iri,
            version,
            path,
            page,
            count,
            described.body,
            cut,
            profiles,
            charts,
            shapes_status(kept_findings(version), iri, [view.iri for view in profiles]),
        )
    else:
        cut = _truncated(headers, described)
        status = shapes_status(kept_findings(version), iri)
        body = page_body(
            found, version.base_iri, version, path, page, count, described.body, cut, status=status
        )
    _remember(tag, body.encode(), headers)
    return Response(body, content_type=f"{media}; charset=utf-8", headers=headers)


def _again(response: Response) -> Response:
    """A response the server may give again to the same request while the version is served
    (``repeats``): a redirect, a 304, a document asked before."""
    request.environ[KEEP] = True
    return response


def _built_page(version: VersionFacts, iri: str) -> dict[str, Any] | None:
    """The page rendered for ``iri`` when the version was built (cities only), or None; None
    too when the server's limits are lower than its queries needed: rendered per request, the
    page then says what the limits cut, as every other page does."""
    kept = kept_document(version, iri)
    if kept is None:
        return None
    built: dict[str, Any] = json.loads(kept)
    settings = runtime().settings
    if settings.max_rows < built.get("rows", 0) or settings.max_result_bytes < built.get(
        "bytes", 0
    ):
        return None
    return built


def _survey_labels(version: VersionFacts) -> Answer:
    """The labels of the survey's concepts: the same for every city page."""
    return ask(version, labels_query(f"{version.base_iri}graph/vocabularies"), "ntriples")


def _compared(version: VersionFacts, prop: str) -> list[dict[str, str]]:
    """How many cities chose each option of ``prop``: the same for every city page."""
    return runtime().per_version(version, prop, lambda: rows(version, comparison_query(prop)))


def _remember(tag: str, body: bytes, headers: dict[str, str]) -> None:
    """Keep a finished document with the headers that depend on its content."""
    kept = {k: v for k, v in headers.items() if k in ("Link",) or k.startswith("X-Result")}
    runtime().documents.put(tag, body, kept)


def _ontology_page(version: VersionFacts, ntriples: bytes, path: str, cut: bool) -> str:
    return render_template(
        "ontology.html",
        ontology=ontology_of(ntriples),
        shapes=shapes_by_class(),
        schemes=rows(version, SCHEMES),
        link=page_links(version.base_iri),
        curie=prefixed,
        path=path,
        documents=DOCUMENTS,
        version=version,
        namespace=str(IG),
        cut=cut,
        external=external,
    )


def _not_found(iri: str, fmt: str, version: VersionFacts) -> Response:
    """404 in the format asked, or 410 for an IRI an earlier version published."""
    media, _ = DOCUMENTS[fmt]
    last = retired_from(version, iri)
    if fmt == "html":
        body = render_template("not_found.html", iri=iri, last=last).encode()
    else:
        body = NOT_FOUND_BODIES[fmt]
    status = 404 if last is None else 410
    response = Response(body, status=status, content_type=f"{media}; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


def _chosen(profiles: list[ProfileView], prop: str) -> set[str]:
    return {concept for view in profiles for concept in view.chosen.get(prop, set())}
