"""The city page reads like the profile: every value of the seed's record is on it, in the
survey's order, with its line; "not stated" stands apart from an explicit no."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from test_resources import request

from conftest import ROOT, SEED, LiveServer, built_store, sourced_values, start_server, stop_server
from innograph.parsing import parse_bytes
from innograph.records import SurveyOptions

CITY_PAGE = "/id/city/liverpool-city-region.html"
SCREENSHOTS = ROOT / "test-artifacts"


class Text(HTMLParser):
    """The text a reader sees (no head, no script)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._hidden += tag in ("head", "script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in ("head", "script", "style")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible(body: bytes) -> str:
    reader = Text()
    reader.feed(body.decode("utf-8"))
    return " ".join(" ".join(reader.parts).split())


@pytest.fixture(scope="module")
def city_page(live_server: LiveServer) -> str:
    status, headers, body = request(live_server, CITY_PAGE)
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    return visible(body)


def shown(text: str) -> list[str]:
    """The ways a value may be printed: as is, or a number with thousands separators."""
    forms = [" ".join(text.split())]
    if text.isdigit():
        forms.append(f"{int(text):,}")
    return forms


def test_every_value_of_the_seed_record_is_on_the_city_page(
    city_page: str, options: SurveyOptions
) -> None:
    record = parse_bytes(SEED.read_bytes(), SEED.name, options).profile
    values = [
        (path, text, first)
        for path, text, first, _ in sourced_values(record)
        # the survey's fixed definitions of funding sources are template text, not the city's
        if ".definition" not in path and text not in ("true", "false")
    ]
    assert len(values) > 70
    missing = [(p, t) for p, t, _ in values if not any(f in city_page for f in shown(t))]
    assert missing == []
    lines = {first for _, _, first in values}
    cited = {int(n) for n in re.findall(r"\bline (\d+)", city_page)}
    assert lines - cited == set()


def test_sections_come_in_the_order_of_the_survey(city_page: str) -> None:
    titles = [
        "Innovation goals",
        "Critical success factors",
        "Spotlight",
        "Vision and approach",
        "Policy areas",
        "Innovation roles",
        "Placement of innovation work",
        "Terms associated with innovation",
        "Innovation activities",
        "Funding",
        "Partnerships",
        "Data availability",
    ]
    positions = [city_page.index(title) for title in titles]
    assert positions == sorted(positions)
    assert city_page.index("2020 survey") < positions[0]


def test_explicit_answers_and_survey_shares_are_shown(city_page: str) -> None:
    assert "has an explicit innovation strategy" in city_page
    assert "share of cities surveyed: 50%" in city_page
    assert "Not stated on the page." not in city_page.split("Critical success factors")[0]


def test_not_stated_stands_apart_from_an_explicit_no(fragments_server: LiveServer) -> None:
    """Amsterdam says it does not prioritise policy sectors (amsterdam-nld.txt:42); Toronto's
    pages stop early, so later sections are not stated, and the page says why."""
    status, _, body = request(fragments_server, "/id/city/amsterdam-nld.html")
    assert status == 200
    amsterdam = visible(body)
    policy = amsterdam.split("Policy areas", 1)[1].split("Innovation roles", 1)[0]
    assert "does not prioritise policy sectors" in policy
    assert "line 42" in policy
    assert "Not stated on the page." not in policy
    status, _, body = request(fragments_server, "/id/city/toronto-ca.html")
    assert status == 200
    toronto = visible(body)
    assert "2018 survey" in toronto
    assert "2020 survey" in toronto
    assert "The page text stops at line" in toronto
    # a section after the cut is not said to be "not stated": the page may have stated it
    assert "Not in the page text, which stops at line" in toronto
    assert "Not stated on the page." not in toronto
    assert toronto.index("2020 survey") < toronto.index("2018 survey")  # newest wave first


@pytest.mark.browser
def test_the_city_page_renders_in_chromium(live_server: LiveServer) -> None:
    """Every section is there, nothing goes to the console, and a screenshot is kept
    (test-artifacts/city-page.png) for a person to look at."""
    from playwright.sync_api import sync_playwright
    from test_query_page import ARGS, CHROMIUM

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 1600})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(live_server.url + CITY_PAGE)
        assert page.locator("h1").inner_text() == "Liverpool City Region"
        assert page.locator("section.survey h3").count() == 13
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "city-page.png"), full_page=True)
        browser.close()
    assert errors == []


def bar(page: str, chart: str, label: str) -> str:
    """The "N of M" a chart on the page gives one option."""
    figure = page.split(f"{chart}:", 1)[1].split("</figure>", 1)[0]
    found = re.search(
        rf">(?:◆ )?{re.escape(label)}</text>.*?>(\d+ of \d+)</text>", figure, re.DOTALL
    )
    assert found is not None, (chart, label)
    return found.group(1)


def test_the_charts_are_computed_from_the_store(
    live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A second city choosing the same policy area moves the bar: the chart is the data's."""
    alone = request(live_server, CITY_PAGE)[2].decode()
    assert bar(alone, "Policy areas", "Health") == "1 of 1"
    assert "◆ Health" in alone
    folder = tmp_path_factory.mktemp("two-cities")
    (folder / SEED.name).write_bytes(SEED.read_bytes())
    other = SEED.read_text(encoding="utf-8").replace("Economic Development\n", "Culture\n", 1)
    (folder / "another-city.txt").write_text(other, encoding="utf-8")
    server = start_server(built_store([folder], folder / "store"))
    try:
        both = request(server, CITY_PAGE)[2].decode()
        (folder / "third-city.txt").write_text(other, encoding="utf-8")
        built_store([folder], folder / "store")  # promoted while the server runs
        three = request(server, CITY_PAGE)[2].decode()
    finally:
        stop_server(server)
    assert bar(both, "Policy areas", "Health") == "2 of 2"
    assert bar(both, "Policy areas", "Economic Development") == "1 of 2"
    assert bar(both, "Policy areas", "Culture") == "1 of 2"
    assert "◆ Culture" not in both  # the other city's choice, not this one's
    assert bar(three, "Policy areas", "Culture") == "2 of 3"  # counted again for the new version


def test_an_item_cut_where_the_page_stops_is_shown_as_cut_text(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Text, not an answer: the page shows it in the header with its line, not as a role."""
    text = SEED.read_text(encoding="utf-8")
    head = text.partition("Economic development advisor")[0]
    folder = tmp_path_factory.mktemp("cut-page")
    (folder / SEED.name).write_text(head + "Economic development adv\n", encoding="utf-8")
    server = start_server(built_store([folder], folder / "store"))
    try:
        page = request(server, CITY_PAGE)[2].decode()
    finally:
        stop_server(server)
    line = len(head.splitlines()) + 1
    header = page.split("<h2", 2)[1]  # the profile's heading and header facts
    assert re.search(r"Item cut where the page stops.*?Economic development adv", header, re.S)
    assert f"#L{line}" in header or f"line {line}" in header
    assert page.count("Economic development adv") == 1


def test_units_named_with_their_own_staff_show_each_count(fragments_server: LiveServer) -> None:
    """Denver's 2018 page names two teams with their sizes: each keeps its own."""
    status, _, body = request(fragments_server, "/id/city/denver-us.html")
    assert status == 200
    page = body.decode()
    assert "Peak Academy: 9 staff" in page
    assert "Technology Services: 330 staff" in page
