"""The home page: what the dataset is, the store version it serves, and where to go next (the
cities, the controlled lists, the ontology, the SPARQL endpoint). Its lists are SPARQL answers
from the query workers, so they follow the served version."""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template

from ..query.served import VersionFacts
from ..query.workers import QueryRequest
from .resources import local_path
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
SCHEMES = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?scheme ?name (COUNT(?concept) AS ?concepts) WHERE {
  ?scheme a skos:ConceptScheme ; dct:title ?name .
  OPTIONAL { ?concept skos:inScheme ?scheme }
} GROUP BY ?scheme ?name ORDER BY ?name"""


def _rows(version: VersionFacts, text: str) -> list[dict[str, str]]:
    settings = runtime().settings
    query = QueryRequest(text, "json", settings.max_rows, version.id)
    answer = runtime().cache.get(query)
    if answer is None:
        answer = runtime().workers.run(query, settings.query_timeout_s)
        runtime().cache.put(query, answer)
    bindings = json.loads(answer.body)["results"]["bindings"]
    return [{name: value["value"] for name, value in row.items()} for row in bindings]


@blueprint.route("/")
def home() -> Response:
    version = runtime().version()

    def link(iri: str) -> str | None:
        return local_path(iri, version.base_iri)

    page = render_template(
        "home.html",
        version=version,
        cities=_rows(version, CITIES),
        schemes=_rows(version, SCHEMES),
        link=link,
    )
    return Response(page, content_type="text/html; charset=utf-8")
