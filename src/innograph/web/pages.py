"""The home page: what the dataset is, the store version it serves, and where to go next (the
cities, the controlled lists, the ontology, the SPARQL endpoint). Its lists are SPARQL answers
from the query workers, so they follow the served version."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from ..errors import UsageError
from ..query.resources import CITIES, NAMED, SCHEMES
from ..query.served import VersionFacts
from .rendering import page_links
from .resources import rows
from .runtime import current as runtime

blueprint = Blueprint("pages", __name__)


@blueprint.route("/")
def home() -> Response:
    version = runtime().version()

    page = render_template(
        "home.html",
        version=version,
        cities=_cities(version),
        schemes=rows(version, SCHEMES),
        link=page_links(version.base_iri),
    )
    return Response(page, content_type="text/html; charset=utf-8")


def _cities(version: VersionFacts) -> list[dict[str, str]]:
    """Every city with its names, countries and waves (empty parts, from COALESCE, dropped)."""
    found = rows(version, CITIES)
    for row in found:
        names = [n for n in row.get("name", "").split(" / ") if n]
        preferred = row.get("pref")
        if preferred:  # the preferred name first, the others after it
            names = [preferred, *(n for n in names if n != preferred)]
        row["name"] = " / ".join(names)
        row["countries"] = "; ".join(c for c in row.get("countries", "").split("; ") if c)
    return found


def _choose(name: str, value: str | None, allowed: list[str]) -> str | None:
    """A filter value, which must be one the data has (400 naming them otherwise)."""
    if value is None or value == "":
        return None
    if value not in allowed:
        raise UsageError(
            f"{name}: {value!r} is not in the data; choose one of {', '.join(allowed)}"
        )
    return value


@blueprint.route("/cities")
def cities() -> Response:
    """Every city in the store, filtered by survey wave and country."""
    version = runtime().version()
    every = _cities(version)
    waves = sorted({w for row in every for w in row.get("waves", "").split(", ") if w})
    countries = sorted({c for row in every for c in row.get("countries", "").split("; ") if c})
    wave = _choose("wave", request.args.get("wave"), waves)
    country = _choose("country", request.args.get("country"), countries)
    shown = [
        row
        for row in every
        if (wave is None or wave in row.get("waves", "").split(", "))
        and (country is None or country in row.get("countries", "").split("; "))
    ]

    page = render_template(
        "cities.html",
        version=version,
        cities=shown,
        total=len(every),
        waves=waves,
        countries=countries,
        wave=wave,
        country=country,
        link=page_links(version.base_iri),
    )
    return Response(page, content_type="text/html; charset=utf-8")


@blueprint.route("/organisations")
def organisations() -> Response:
    """The organisations and initiatives named in the profiles' narratives."""
    version = runtime().version()

    page = render_template(
        "organisations.html",
        version=version,
        named=rows(version, NAMED),
        link=page_links(version.base_iri),
    )
    return Response(page, content_type="text/html; charset=utf-8")
