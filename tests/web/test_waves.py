"""What changed between waves, checked against the texts: for every city in ``../shared``
profiled in two waves, the items ``/waves.json`` says each wave states are those the parser
reads from that wave's page (options by their slugs, people by their names)."""

from __future__ import annotations

import csv
import io
import json
import urllib.parse

from test_resources import request

from conftest import FRAGMENTS, ROOT, LiveServer
from innograph.parsing import parse_bytes
from innograph.records import Choice, Profile, SurveyOptions
from innograph.vocab import slug

PROFILE_FILES = """
PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?profile ?file WHERE { ?profile prov:wasDerivedFrom/dct:identifier ?file }"""


def option(choice: Choice) -> str:
    """A survey option's slug, or the city's own wording's (the concepts' last IRI segment)."""
    return choice.option or slug(choice.wording)


def stated(profile: Profile) -> dict[str, set[str]]:
    """What a page states of each aspect, from the parsed record alone (no graph involved)."""
    placement = profile.placement
    return {
        "Policy areas": {option(c) for c in profile.policy_focus.areas},
        "Critical success factors": {option(c) for c in profile.success_factors},
        "Innovation roles": {option(c) for c in profile.roles.roles},
        "Funding sources": {option(s.choice) for s in profile.funding.sources},
        "Placement of innovation work": {placement.kind} if placement and placement.kind else set(),
        "Lead innovation officer": {p.name for p in profile.header.lead_officers},
    }


def key(aspect: str, change: dict[str, str]) -> str:
    """An item as the record names it: a survey option's slug, a person's name."""
    return (
        change["label"]
        if aspect == "Lead innovation officer"
        else change["item"].rsplit("/", 1)[-1]
    )


def test_each_wave_states_what_its_page_says(
    fragments_server: LiveServer, options: SurveyOptions
) -> None:
    status, _, body = request(fragments_server, "/waves.json")
    assert status == 200
    cities = json.loads(body)["cities"]
    assert {c["name"] for c in cities} == {"Cape Town", "Denver, CO", "Toronto"}
    _, _, answer = request(
        fragments_server,
        "/sparql?" + urllib.parse.urlencode({"query": PROFILE_FILES}),
        "application/json",
    )
    files = {
        row["profile"]["value"]: row["file"]["value"]
        for row in json.loads(answer)["results"]["bindings"]
    }
    for city in cities:
        earlier, later = (
            stated(parse_bytes(path.read_bytes(), path.name, options).profile)
            for path in (FRAGMENTS / files[profile] for profile in city["profiles"])
        )
        for aspect, expected_before in earlier.items():
            changes = city["aspects"].get(aspect, [])
            before = {key(aspect, c) for c in changes if c["status"] in ("kept", "dropped")}
            after = {key(aspect, c) for c in changes if c["status"] in ("kept", "added")}
            only = {key(aspect, c) for c in changes if c["status"].endswith("names none")}
            if expected_before and later[aspect]:
                assert (before, after, only) == (expected_before, later[aspect], set()), aspect
            else:  # one side names nothing: its items are not read as added or dropped
                assert (before, after) == (set(), set()), (city["name"], aspect)
                assert only == expected_before | later[aspect], (city["name"], aspect)


def test_the_changes_come_as_csv_and_as_a_page(fragments_server: LiveServer) -> None:
    status, headers, body = request(fragments_server, "/waves.csv")
    assert status == 200
    assert headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(body.decode())))
    denver = {(r["aspect"], r["label"], r["status"]) for r in table if r["name"] == "Denver, CO"}
    assert ("Lead innovation officer", "Melissa Wiley", "added") in denver
    assert ("Lead innovation officer", "David Edinger", "dropped") in denver
    _, json_body = request(fragments_server, "/waves.json")[1:]
    rows = sum(len(ch) for c in json.loads(json_body)["cities"] for ch in c["aspects"].values())
    assert len(table) == rows
    status, _, page = request(fragments_server, "/waves", "text/html")
    assert status == 200
    assert "<title>What changed between survey waves" in page.decode()
    assert page.decode().count('<section class="survey"') == 3


def test_a_store_with_one_wave_per_city_has_no_changes(live_server: LiveServer) -> None:
    status, _, body = request(live_server, "/waves.json")
    assert (status, json.loads(body)["cities"]) == (200, [])


def test_the_survey_wide_shares_stand_side_by_side_per_site_version(
    fragments_server: LiveServer,
) -> None:
    """Each cell is what the catalogue query counts; the original site quotes the 2018 survey's
    44% for an explicit strategy (SURVEY.md §4.3), the updated one 50%."""
    shares = json.loads(request(fragments_server, "/waves.json")[2])["survey_wide_shares"]
    statements = shares["statements"]
    text = (ROOT / "queries" / "survey-wide-shares.rq").read_text(encoding="utf-8")
    _, _, answer = request(
        fragments_server, "/sparql?" + urllib.parse.urlencode({"query": text}), "application/json"
    )
    for row in json.loads(answer)["results"]["bindings"]:
        value = {k: v["value"] for k, v in row.items()}
        cell = statements[value["statement"]][value["siteVersion"]]
        assert f"{value['share']} ({value['wave']}: {value['profiles']} profile(s))" in cell
    strategy = statements["share of cities that has an explicit innovation strategy"]
    assert strategy["Original site (2019 launch)"].startswith("44% (2018 survey")
    assert strategy["Updated site (after the 2020 survey)"].startswith("50% (")
