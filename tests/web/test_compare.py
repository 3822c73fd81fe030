"""Compare and filter cities: the shares ``/compare`` gives are the counts a SPARQL query over
the same store gives, their denominator is said, and every city that does not answer is named
with why; bad filter values are refused before any query runs."""

from __future__ import annotations

import csv
import io
import json
import urllib.parse
from pathlib import Path

import pytest
from test_resources import request

from conftest import ROOT, LiveServer, start_server, stop_server

IG = "https://w3id.org/innograph/def/"
WAVES = "https://w3id.org/innograph/vocab/survey-waves/"
SCREENSHOTS = ROOT / "test-artifacts"
# (URL filters, the same choice as a SPARQL pattern on ?profile)
FILTERS = [
    ({}, ""),
    ({"wave": "2018"}, f"?profile ig:surveyWave <{WAVES}2018> ."),
    ({"wave": "2020"}, f"?profile ig:surveyWave <{WAVES}2020> ."),
    ({"country": "United States"}, '?profile ig:countryName ?n FILTER (STR(?n) = "United States")'),
    (
        {"area": "health", "band": "large"},
        "?profile ig:policyFocus/ig:concept <https://w3id.org/innograph/vocab/policy-areas/health> ;"
        " ig:populationFigure/ig:population ?pop FILTER (?pop >= 1500000)",
    ),
]


def select(server: LiveServer, query: str) -> list[dict[str, str]]:
    status, _, body = request(
        server, "/sparql?" + urllib.parse.urlencode({"query": query}), "application/json"
    )
    assert status == 200, body
    rows = json.loads(body)["results"]["bindings"]
    return [{k: v["value"] for k, v in row.items()} for row in rows]


def compared(
    server: LiveServer, filters: dict[str, str] | dict[str, list[str]], suffix: str = "json"
) -> bytes:
    query = urllib.parse.urlencode(filters, doseq=True)
    status, _, body = request(server, f"/compare.{suffix}?" + query)
    assert status == 200, body
    return body


@pytest.mark.parametrize(("filters", "pattern"), FILTERS)
def test_the_shares_are_the_stores_counts(
    fragments_server: LiveServer, filters: dict[str, str], pattern: str
) -> None:
    found = json.loads(compared(fragments_server, filters))
    prefix = f"PREFIX ig: <{IG}>\n"
    chosen = select(
        fragments_server,
        prefix
        + f"SELECT DISTINCT ?city WHERE {{ ?profile a ig:Profile ; ig:city ?city . {pattern} }}",
    )
    assert {c["city"] for c in found["cities"]} == {r["city"] for r in chosen}
    areas = next(a for a in found["aspects"] if a["title"] == "Policy areas")
    counted = select(
        fragments_server,
        prefix + "SELECT ?concept (COUNT(DISTINCT ?city) AS ?n) WHERE { ?profile a ig:Profile ;"
        f" ig:city ?city ; ig:policyFocus/ig:concept ?concept . {pattern} }} GROUP BY ?concept",
    )
    assert {s["concept"]: s["cities"] for s in areas["shares"]} == {
        r["concept"]: int(r["n"]) for r in counted
    }
    answering = select(
        fragments_server,
        prefix + "SELECT (COUNT(DISTINCT ?city) AS ?n) WHERE { ?profile a ig:Profile ;"
        f" ig:city ?city ; ig:policyFocus ?any . {pattern} }}",
    )
    assert areas["answered"] == int(answering[0]["n"])
    silent = areas["explicit_no"] + areas["cut"] + areas["not_stated"]
    assert len(silent) == areas["chosen"] - areas["answered"] == len(chosen) - areas["answered"]


def test_cities_that_do_not_answer_are_named_with_why(fragments_server: LiveServer) -> None:
    areas = json.loads(compared(fragments_server, {"wave": "2018"}))["aspects"][0]
    said_no = select(
        fragments_server,
        f"PREFIX ig: <{IG}> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        "SELECT DISTINCT ?name WHERE { ?profile ig:surveyWave"
        f" <{WAVES}2018> ; ig:city ?city ; ig:policyPriority/ig:prioritisesPolicyAreas false ."
        " ?city skos:prefLabel ?name FILTER NOT EXISTS { ?profile ig:policyFocus ?x } }",
    )
    assert sorted(areas["explicit_no"]) == sorted(r["name"] for r in said_no)
    assert areas["explicit_no"]  # the fragments hold such pages: the test would see a change


def test_the_csv_holds_the_json_shares(fragments_server: LiveServer) -> None:
    filters = {"country": "United States"}
    found = json.loads(compared(fragments_server, filters))
    table = list(csv.DictReader(io.StringIO(compared(fragments_server, filters, "csv").decode())))
    expected = [
        (a["title"], s["concept"], str(s["cities"]), str(a["answered"]))
        for a in found["aspects"]
        for s in a["shares"]
    ]
    assert [(r["aspect"], r["concept"], r["cities"], r["answered"]) for r in table] == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("area", "atlantis"),
        ("wave", "2019"),
        ("band", "huge"),
        ("country", "Utopia"),
        ("area", "health> } ; DROP ALL ; #"),
        ("country", 'United States") } #'),
    ],
)
def test_a_value_not_in_the_data_is_refused(
    fragments_server: LiveServer, name: str, value: str
) -> None:
    status, _, body = request(
        fragments_server, "/compare.json?" + urllib.parse.urlencode({name: value})
    )
    assert status == 400
    message = json.loads(body)["error"]
    assert message.startswith(f"{name}: ")
    assert "choose one of" in message


@pytest.mark.browser
def test_the_compare_page_renders_in_chromium(fragments_server: LiveServer) -> None:
    from playwright.sync_api import sync_playwright
    from test_query_page import ARGS, CHROMIUM

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(fragments_server.url + "/compare")
        page.select_option("select[name=wave]", "2018")
        page.select_option("select[name=city]", ["denver-us", "toronto-ca"])
        page.click("button[type=submit]")
        page.wait_for_url("**/compare?*wave=2018*")
        assert page.locator("h2").count() == 7  # side by side, then the six aspects
        assert page.locator("table.side").count() == 6
        assert page.locator("figure.chart").count() == 6
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "compare-page.png"), full_page=True)
        browser.close()
    assert errors == []


def test_cities_side_by_side_show_what_each_chose(fragments_server: LiveServer) -> None:
    peers = ["denver-us", "toronto-ca", "boulder-us"]
    found = json.loads(compared(fragments_server, {"city": peers}))
    areas = next(s for s in found["side_by_side"] if s["title"] == "Policy areas")
    for key in peers:
        city = f"https://w3id.org/innograph/id/city/{key}"
        stated = select(
            fragments_server,
            f"PREFIX ig: <{IG}> SELECT DISTINCT ?concept WHERE {{ ?profile ig:city <{city}> ;"
            " ig:policyFocus/ig:concept ?concept }",
        )
        assert sorted(areas["chosen"][city]) == sorted(r["concept"] for r in stated)
        assert (city in areas["silent"]) == (not stated)
    assert areas["silent"] == {"https://w3id.org/innograph/id/city/boulder-us": "says no"}
    options = {o["concept"] for o in areas["options"]}
    assert options == {c for chose in areas["chosen"].values() for c in chose}


def test_a_city_not_in_the_store_is_refused_side_by_side(fragments_server: LiveServer) -> None:
    status, _, body = request(fragments_server, "/compare.json?city=atlantis")
    assert status == 400
    assert json.loads(body)["error"].startswith("city: 'atlantis' is not in the data")


def test_a_view_the_limits_would_cut_says_so_instead_of_counting_wrong(
    fragments_store: Path,
) -> None:
    """Shares and changes counted from a cut answer would be wrong without a word: a 503 that
    names the limits instead."""
    server = start_server(fragments_store, {"INNOGRAPH_MAX_ROWS": "12"})
    try:
        replies = [request(server, path) for path in ("/compare.json", "/waves.json")]
    finally:
        stop_server(server)
    for status, _, body in replies:
        assert status == 503
        assert "INNOGRAPH_MAX_ROWS=12" in json.loads(body)["error"]
