"""What changed between survey waves, for every city profiled in both: ``/waves`` as a page,
``/waves.csv`` and ``/waves.json`` as data (one row per item of an aspect, with its status)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict

from flask import Blueprint, Response, render_template

from ..query.served import VersionFacts
from ..query.waves import ASPECTS, CityWaves, compare, waves_query
from ..vocab import data_dir
from .rendering import page_links
from .resources import rows
from .runtime import current as runtime

blueprint = Blueprint("waves", __name__)
COLUMNS = ("city", "name", "aspect", "item", "label", "status", "earlier", "later")


def _changes(version: VersionFacts) -> list[CityWaves]:
    return runtime().per_version(
        version, "waves", lambda: compare(rows(version, waves_query(), whole=True))
    )


def _shares(version: VersionFacts) -> tuple[list[str], list[tuple[str, dict[str, str]]]]:
    """The survey-wide shares the pages quote, by statement, beside each other per site version
    (the site's figures were recomputed for the update after the 2020 survey): the site
    versions, and per statement what each quoted (with how many profiles quote it)."""

    def ask() -> tuple[list[str], list[tuple[str, dict[str, str]]]]:
        text = (data_dir("queries") / "survey-wide-shares.rq").read_text(encoding="utf-8")
        quoted: dict[str, dict[str, list[str]]] = {}
        for row in rows(version, text, whole=True):
            cell = quoted.setdefault(row["statement"], {}).setdefault(row["siteVersion"], [])
            cell.append(f"{row['share']} ({row['wave']}: {row['profiles']} profile(s))")
        sites = sorted({site for cells in quoted.values() for site in cells})
        return sites, [
            (statement, {site: "; ".join(sorted(quotes)) for site, quotes in cells.items()})
            for statement, cells in sorted(quoted.items())
        ]

    return runtime().per_version(version, "waves:shares", ask)


def _table(found: list[CityWaves]) -> list[dict[str, str]]:
    return [
        {
            "city": city.city,
            "name": city.name,
            "aspect": aspect,
            "item": change.item,
            "label": change.label,
            "status": change.status,
            "earlier": city.earlier,
            "later": city.later,
        }
        for city in found
        for aspect, changes in city.aspects.items()
        for change in changes
    ]


@blueprint.route("/waves")
@blueprint.route("/waves.<any(html, csv, json):suffix>")
def waves(suffix: str = "html") -> Response:
    version = runtime().version()
    found = _changes(version)
    sites, shares = _shares(version)
    if suffix == "json":
        body = {
            "version": version.id,
            "columns": COLUMNS,
            "cities": [asdict(c) for c in found],
            "survey_wide_shares": {"site_versions": sites, "statements": dict(shares)},
        }
        return Response(json.dumps(body, indent=1), content_type="application/json")
    if suffix == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(_table(found))
        return Response(out.getvalue(), content_type="text/csv; charset=utf-8")
    page = render_template(
        "waves.html",
        version=version,
        cities=found,
        aspects=[title for title, _ in ASPECTS],
        sites=sites,
        shares=shares,
        link=page_links(version.base_iri),
    )
    return Response(page, content_type="text/html; charset=utf-8")
