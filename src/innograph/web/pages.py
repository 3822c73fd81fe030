"""The home page: what the dataset is, the store version it serves, and where to go next (the
cities, the controlled lists, the ontology, the SPARQL endpoint). Its lists are SPARQL answers
from the query workers, so they follow the served version."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from ..query.resources import SCHEMES
from .resources import local_path, rows
from .runtime import current as runtime

blueprint = Blueprint("pages", __name__)

CITIES = """PREFIX ig: <https://w3id.org/innograph/def/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?city ?name (GROUP_CONCAT(DISTINCT ?year; separator=", ") AS ?waves) WHERE {
  ?profile ig:city ?city .
  OPTIONAL { ?city rdfs:label ?name }
  OPTIONAL { ?profile ig:surveyWave ?wave OPTIONAL { ?wave skos:notation ?year } }
} GROUP BY ?city ?name ORDER BY ?name ?city"""


@blueprint.route("/")
def home() -> Response:
    version = runtime().version()

    def link(iri: str) -> str | None:
        return local_path(iri, version.base_iri)

    page = render_template(
        "home.html",
        version=version,
        cities=rows(version, CITIES),
        schemes=rows(version, SCHEMES),
        link=link,
    )
    return Response(page, content_type="text/html; charset=utf-8")
