"""Compare and filter cities (``/compare``, ``.csv``, ``.json``): choose cities by the survey's
facets, then see, aspect by aspect, how many of them picked each option out of those that answer,
with the cities that say no, whose page stops early, or that do not state it named beside.

Every filter value is checked against the values the served version holds (a bad one is a 400
naming them) before it reaches a query, where only the checked IRI (or a literal written by
pyoxigraph) appears.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request

from ..errors import UsageError
from ..query import compare
from ..query.profiles import Bar, Chart
from ..query.served import VersionFacts
from .rendering import page_links
from .resources import rows
from .runtime import current as runtime

blueprint = Blueprint("compare", __name__)
COLUMNS = ("aspect", "concept", "label", "cities", "answered", "chosen")
SHOWN = 12  # allowed values named in an error


def key(iri: str) -> str:
    """A concept's short name: its IRI after the scheme (``health``, ``own/security``, ``2018``)."""
    rest = iri.split("/vocab/", 1)[-1]
    return rest.split("/", 1)[1] if "/" in rest else rest


def _allowed(version: VersionFacts, facet: compare.Facet) -> dict[str, tuple[str, str]]:
    """key -> (IRI, label) of what ``facet`` can take in the served version (once per version)."""

    def ask() -> dict[str, tuple[str, str]]:
        found = rows(version, compare.values_query(facet), whole=True)
        return {key(r["value"]): (r["value"], r.get("label", key(r["value"]))) for r in found}

    return runtime().per_version(version, f"compare:{facet.name}", ask)


def _countries(version: VersionFacts) -> list[str]:
    return runtime().per_version(
        version,
        "compare:countries",
        lambda: [r["value"] for r in rows(version, compare.COUNTRIES, whole=True)],
    )


def _refuse(name: str, value: str, allowed: list[str]) -> UsageError:
    named = ", ".join(allowed[:SHOWN]) + (
        f" ({len(allowed)} in all)" if len(allowed) > SHOWN else ""
    )
    return UsageError(f"{name}: {value[:100]!r} is not in the data; choose one of {named}")


def _chosen(version: VersionFacts) -> tuple[dict[str, str], str | None, str | None, dict[str, str]]:
    """The filters asked for, checked: facet -> IRI, country, band; and what the page shows."""
    concepts: dict[str, str] = {}
    shown: dict[str, str] = {}
    for facet in compare.FACETS:
        value = request.args.get(facet.name, "").strip()
        if not value:
            continue
        allowed = _allowed(version, facet)
        by_iri = {iri: k for k, (iri, _) in allowed.items()}
        found = value if value in allowed else by_iri.get(value)
        if found is None:
            raise _refuse(facet.name, value, sorted(allowed))
        concepts[facet.name] = allowed[found][0]
        shown[facet.name] = found
    country = request.args.get("country", "").strip() or None
    if country is not None:
        if country not in _countries(version):
            raise _refuse("country", country, _countries(version))
        shown["country"] = country
    band = request.args.get("band", "").strip() or None
    if band is not None:
        if band not in compare.BANDS:
            raise _refuse("band", band, list(compare.BANDS))
        shown["band"] = band
    literal = str(ox.Literal(country)) if country is not None else None  # escaped by pyoxigraph
    return concepts, literal, band, shown


def _cut(profiles: list[dict[str, str]]) -> set[str]:
    """The cities every one of whose chosen profiles stops early (``cities_query``'s rows)."""
    whole = {r["city"] for r in profiles if r["cut"] != "true"}
    return {r["city"] for r in profiles} - whole


def _compared(
    version: VersionFacts,
) -> tuple[dict[str, str], list[compare.AspectShares], dict[str, str]]:
    concepts, country, band, shown = _chosen(version)
    pattern = compare.chosen_pattern(concepts, country, band)
    profiles = rows(version, compare.cities_query(pattern), whole=True)
    names = {r["city"]: r["name"] for r in profiles}
    cut = _cut(profiles)
    found = [
        compare.shares(
            aspect.title,
            names,
            cut,
            rows(version, compare.choices_query(pattern, aspect), whole=True),
        )
        for aspect in compare.ASPECTS
    ]
    return names, found, shown


def _known_cities(version: VersionFacts) -> dict[str, tuple[str, str]]:
    """key (``denver-us``) -> (IRI, name) of every city with a profile (once per version)."""

    def ask() -> dict[str, tuple[str, str]]:
        found = rows(version, compare.CITIES, whole=True)
        return {r["city"].rsplit("/id/city/", 1)[-1]: (r["city"], r["name"]) for r in found}

    return runtime().per_version(version, "compare:cities", ask)


def _peers(version: VersionFacts) -> tuple[list[tuple[str, str]], list[compare.Side]]:
    """The cities asked for side by side (``?city=…``, repeated), checked, and their aspects."""
    asked = [c.strip() for c in request.args.getlist("city") if c.strip()]
    if not asked:
        return [], []
    known = _known_cities(version)
    by_iri = {iri: k for k, (iri, _) in known.items()}
    keys = []
    for value in asked:
        found = value if value in known else by_iri.get(value)
        if found is None:
            raise _refuse("city", value, sorted(known))
        if found not in keys:
            keys.append(found)
    cities = [known[k][0] for k in keys]
    pattern = compare.peers_pattern(cities)
    profiles = rows(version, compare.cities_query(pattern), whole=True)
    cut = _cut(profiles)
    sides = [
        compare.side_by_side(
            a.title, cities, cut, rows(version, compare.choices_query(pattern, a), whole=True)
        )
        for a in compare.ASPECTS
    ]
    return [known[k] for k in keys], sides


@blueprint.route("/compare")
@blueprint.route("/compare.<any(html, csv, json):suffix>")
def compare_cities(suffix: str = "html") -> Response:
    version = runtime().version()
    names, found, shown = _compared(version)
    peers, sides = _peers(version)
    if suffix == "json":
        body = {
            "version": version.id,
            "filters": shown,
            "cities": [{"city": c, "name": n} for c, n in sorted(names.items())],
            "aspects": [asdict(a) for a in found],
            "side_by_side": [
                {
                    "title": side.title,
                    "options": [{"concept": c, "label": label} for c, label in side.options],
                    "chosen": {city: sorted(chose) for city, chose in side.chosen.items()},
                    "silent": side.silent,
                }
                for side in sides
            ],
        }
        return Response(json.dumps(body, indent=1), content_type="application/json")
    if suffix == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for aspect in found:
            for share in aspect.shares:
                writer.writerow(
                    [
                        aspect.title,
                        share.concept,
                        share.label,
                        share.cities,
                        aspect.answered,
                        aspect.chosen,
                    ]
                )
        return Response(out.getvalue(), content_type="text/csv; charset=utf-8")
    charts = [
        Chart(
            a.title, a.answered, tuple(Bar(s.concept, s.label, s.cities, False) for s in a.shares)
        )
        for a in found
    ]
    page = render_template(
        "compare.html",
        version=version,
        names=names,
        aspects=list(zip(found, charts, strict=True)),
        facets=[(f, _allowed(version, f)) for f in compare.FACETS],
        countries=_countries(version),
        bands=compare.BANDS,
        shown=shown,
        peers=peers,
        sides=sides,
        cities=_known_cities(version),
        query=request.query_string.decode("ascii", "replace"),
        link=page_links(version.base_iri),
    )
    return Response(page, content_type="text/html; charset=utf-8")
