"""The shapes' verdict served: ``/validate`` for the version, ``/validate?target=IRI`` for one
resource of any kind, in HTML, JSON and RDF; each page's footer says it and links to it; a
rebuild keeps the results of the profiles it did not check again."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
import rdflib
from test_resources import request

from conftest import LiveServer, built_store, start_server, stop_server

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
BASE = "https://w3id.org/innograph/"
CUT = "The page text is cut short; facts after the cut are missing."


def report(server: LiveServer, target: str | None = None, suffix: str = "json") -> dict:
    query = "?" + urllib.parse.urlencode({"target": target}) if target else ""
    status, _, body = request(server, f"/validate.{suffix}{query}")
    assert status == 200, body
    return json.loads(body)


def one_of_each_kind(server: LiveServer) -> list[str]:
    """A resource of every class the seed's graph types in its URI space, and terms outside it."""
    query = (
        "SELECT ?type (MIN(STR(?s)) AS ?example) WHERE { ?s a ?type"
        f' FILTER STRSTARTS(STR(?s), "{BASE}id/") }} GROUP BY ?type'
    )
    status, _, body = request(
        server, "/sparql?" + urllib.parse.urlencode({"query": query}), "application/json"
    )
    assert status == 200
    found = [row["example"]["value"] for row in json.loads(body)["results"]["bindings"]]
    assert len(found) >= 10  # cities, profiles, posts, people, observations …
    terms = ["def/Profile", "vocab/policy-areas", "graph/liverpool-city-region"]
    return [*sorted(found), *(BASE + term for term in terms)]


def test_the_seed_conforms_and_every_kind_of_resource_has_its_report(
    live_server: LiveServer,
) -> None:
    whole = report(live_server)
    assert whole["conforms"] is True
    assert whole["results"] == []
    for iri in one_of_each_kind(live_server):
        one = report(live_server, iri)
        assert (one["target"], one["conforms"], one["results"]) == (iri, True, [])


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")  # rdflib's
def test_the_report_is_a_shacl_validation_report_in_rdf(live_server: LiveServer) -> None:
    city = f"{BASE}id/city/liverpool-city-region"
    for suffix, syntax in (("ttl", "turtle"), ("jsonld", "json-ld"), ("nt", "nt"), ("rdf", "xml")):
        status, _, body = request(
            live_server, f"/validate.{suffix}?" + urllib.parse.urlencode({"target": city})
        )
        assert status == 200
        graph = rdflib.Graph().parse(data=body, format=syntax)
        reports = list(graph.subjects(rdflib.RDF.type, SH.ValidationReport))
        assert len(reports) == 1
        assert graph.value(reports[0], SH.conforms).toPython() is True


def test_a_target_that_is_not_ours_or_not_there_is_refused(live_server: LiveServer) -> None:
    for target, status_expected, said in (
        ("javascript:alert(1)", 400, "target: 'javascript:alert(1)' is not an IRI of this dataset"),
        (f"{BASE}id/city/atlantis", 404, "nothing is said about"),
        (f"{BASE}id/city/a> ?p ?o }} #", 400, "is not an IRI of this dataset"),
    ):
        status, _, body = request(
            live_server, "/validate.json?" + urllib.parse.urlencode({"target": target})
        )
        assert status == status_expected, body
        assert said in json.loads(body)["error"]


def synth(folder: Path, cities: int) -> list[Path]:
    command = [sys.executable, "-m", "innograph", "synth", "--cities", str(cities), "--seed", "5"]
    subprocess.run([*command, "--out", str(folder)], check=True, capture_output=True)
    return sorted(folder.glob("*.txt"))


def test_a_warning_is_served_with_its_source_and_kept_across_a_rebuild(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A profile cut short warns; its city's page says so; a rebuild that changes another
    profile (and checks only that one again) still reports it."""
    folder = tmp_path_factory.mktemp("warned")
    files = synth(folder / "profiles", 3)
    lines = files[0].read_text(encoding="utf-8").splitlines(keepends=True)
    files[0].write_text("".join(lines[: len(lines) * 2 // 3]), encoding="utf-8")
    store = built_store([folder / "profiles"], folder / "store")
    other = files[1].read_text(encoding="utf-8")
    files[1].write_text(other.replace("\nCritical success", "\nA new line.\n\nCritical success", 1))
    built_store([folder / "profiles"], store)  # the cut profile is not checked again
    server = start_server(store)
    try:
        whole = report(server)
        warned = [r for r in whole["results"] if r["message"] == CUT]
        assert [r["source"] for r in warned] == [files[0].name]
        profile = warned[0]["focus"]
        query = f"SELECT ?city WHERE {{ <{profile}> <{BASE}def/city> ?city }}"
        _, _, answer = request(
            server, "/sparql?" + urllib.parse.urlencode({"query": query}), "application/json"
        )
        city = json.loads(answer)["results"]["bindings"][0]["city"]["value"]
        assert [r["focus"] for r in report(server, city)["results"]] == [profile]
        status, _, page = request(server, "/id/" + city.split("/id/", 1)[1] + ".html")
        target = urllib.parse.quote(city, safe="")
        assert (
            f'Shapes: <a href="/validate?target={target}">conforms, 1 warning</a>' in page.decode()
        )
        status, _, html = request(server, f"/validate?target={target}", "text/html")
        assert status == 200
        assert CUT in html.decode()
        assert files[0].name in html.decode()
    finally:
        stop_server(server)
