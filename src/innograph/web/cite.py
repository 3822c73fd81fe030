"""Cite this: a citation of any resource of the dataset (a city, a profile, one fact) as plain
text, BibTeX and CSL-JSON, at ``/cite?iri=IRI`` (``.txt``, ``.bib``, ``.json``): the dataset and
its version, the resource's IRI, the profile file and line it was read from, and the date it was
retrieved. Every page's footer links here."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Blueprint, Response, render_template, request

from ..errors import UsageError
from ..query.resources import citation_query
from ..query.served import VersionFacts
from .rendering import local_path
from .resources import absolute, refuse_unknown, rows
from .runtime import current as runtime

blueprint = Blueprint("cite", __name__)
LONGEST = 120  # characters of a fact's text kept as its title
TITLE = "innograph: how city governments build their capacity to innovate"
MEDIA = {
    "txt": "text/plain; charset=utf-8",
    "bib": "application/x-bibtex; charset=utf-8",
    "json": "application/vnd.citationstyles.csl+json",
}


@dataclass(frozen=True)
class Citation:
    iri: str
    label: str
    sources: tuple[str, ...]  # "file, line N"
    version: str
    built: datetime
    accessed: datetime
    url: str  # the resource's page on this server

    def text(self) -> str:
        where = f" Read from {'; '.join(self.sources)}." if self.sources else ""
        named = f" {self.iri}." if self.iri != self.url else ""
        return (
            f"{self.label}. In: {TITLE}, store version {self.version}"
            f" ({self.built:%Y-%m-%d}).{named}{where}"
            f" Retrieved {self.accessed:%Y-%m-%d} from {self.url}."
        )

    def bibtex(self) -> str:
        key = "innograph-" + re.sub(r"[^A-Za-z0-9]+", "-", self.iri.rsplit("/id/", 1)[-1]).strip(
            "-"
        )
        fields = {
            "title": self.label,
            "booktitle": TITLE,
            "version": self.version,
            "year": f"{self.built:%Y}",
            "url": self.url,
            "note": f"{self.iri}"
            + (f"; read from {'; '.join(self.sources)}" if self.sources else ""),
            "urldate": f"{self.accessed:%Y-%m-%d}",
        }
        body = ",\n".join(
            f"  {name} = {{{_bibtex_url(value) if name == 'url' else _bibtex_escape(value)}}}"
            for name, value in fields.items()
        )
        return f"@misc{{{key},\n{body}\n}}\n"

    def csl(self) -> list[dict[str, object]]:
        return [
            {
                "id": self.iri,
                "type": "dataset",
                "title": self.label,
                "container-title": TITLE,
                "version": self.version,
                "URL": self.url,
                "note": "; ".join(self.sources) or None,
                "issued": {"date-parts": [[self.built.year, self.built.month, self.built.day]]},
                "accessed": {
                    "date-parts": [[self.accessed.year, self.accessed.month, self.accessed.day]]
                },
            }
        ]


TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    **{c: "\\" + c for c in "{}%&$#_"},
}


def _bibtex_escape(text: str) -> str:
    r"""TeX's special characters written as text, never read as markup.

    >>> print(_bibtex_escape(r"R&D ~ 50% \ x^2"))
    R\&D \textasciitilde{} 50\% \textbackslash{} x\textasciicircum{}2
    """
    return "".join(TEX_SPECIAL.get(c, c) for c in text)


def _bibtex_url(url: str) -> str:
    """A URL as biblatex and hyperref read it (verbatim): only its braces would end the field."""
    return url.replace("{", "%7B").replace("}", "%7D")


def citation(version: VersionFacts, iri: str) -> Citation:
    if local_path(iri, version.base_iri) is None:
        raise UsageError(
            f"iri: {iri[:200]!r} is not an IRI of this dataset; give the IRI of a resource,"
            f" e.g. {version.base_iri}id/city/…"
        )
    found = rows(
        version, citation_query(iri), whole=True
    )  # local_path admits only minted IRIs' characters
    if not found and iri not in version.graphs:
        refuse_unknown("iri", iri, version)
    label = next((r["label"] for r in found if "label" in r), iri.rsplit("/", 1)[-1])
    label = label if len(label) <= LONGEST else label[: LONGEST - 1].rstrip() + "…"
    sources = sorted(
        {
            f"{r['file']}, line {r['line']}" if "line" in r else r["file"]
            for r in found
            if "file" in r
        }
    )
    here = local_path(iri, version.base_iri)
    page = absolute(f"{here}.html")
    return Citation(iri, label, tuple(sources), version.id, built(version), datetime.now(UTC), page)


def built(version: VersionFacts) -> datetime:
    return datetime.strptime(version.last_modified, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)


def of_page(version: VersionFacts, title: str, path: str) -> Citation:
    """A citation of a page of this server that is no resource (a canned query's answer)."""
    url = absolute(path)
    return Citation(url, title, (), version.id, built(version), datetime.now(UTC), url)


@blueprint.route("/cite")
@blueprint.route("/cite.<any(txt, bib, json):suffix>")
def cite(suffix: str | None = None) -> Response:
    version = runtime().version()
    iri = request.args.get("iri")
    if iri is None:
        raise UsageError("iri: give the IRI of the resource to cite, e.g. /cite?iri=…")
    found = citation(version, iri)
    headers = {"Cache-Control": "no-cache"}  # the retrieval date is today's
    if suffix == "txt":
        return Response(found.text() + "\n", content_type=MEDIA["txt"], headers=headers)
    if suffix == "bib":
        return Response(found.bibtex(), content_type=MEDIA["bib"], headers=headers)
    if suffix == "json":
        body = json.dumps(found.csl(), indent=1, ensure_ascii=False)
        return Response(body, content_type=MEDIA["json"], headers=headers)
    page = render_template("cite.html", found=found, version=version)
    return Response(page, content_type="text/html; charset=utf-8", headers=headers)
