"""The query page at /sparql, driven in headless Chromium (Debian's ``chromium``) by Playwright.

The page is served by the real server (the ``live_server`` fixture: gunicorn on 127.0.0.1 over
the seed store, 1000 rows per answer). Every test records each request the browser makes and
every console message and uncaught exception, and ends by checking that no request left the
server and that no script failed. The module is skipped when no Chromium binary is found
(set INNOGRAPH_CHROMIUM to point at one elsewhere) or Playwright is not installed; Playwright's
own browser downloads are never used. INNOGRAPH_PAGE_SCREENSHOT=/some/file.png saves a
screenshot of a results page, to look at the layout.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import rdflib

from conftest import ROOT

CHROMIUM = os.environ.get("INNOGRAPH_CHROMIUM") or next(
    filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None
)
if not CHROMIUM or not Path(CHROMIUM).exists():
    pytest.skip(
        "no chromium binary (apt-get install chromium, or set INNOGRAPH_CHROMIUM)",
        allow_module_level=True,
    )
playwright = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
)

QUERIES = ROOT / "queries"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_HEADER = ["city", "name"]
OVERVIEW_HEADER = ["city", "wave", "country", "mayor", "population", "populationYear"]
SYNTAX_ERROR = "SELECT * WHERE { ?s ?p "
EVERYTHING = "SELECT * WHERE { ?s ?p ?o }"
CITY_GRAPH = """PREFIX ig: <https://w3id.org/innograph/def/>
CONSTRUCT { ?city ?p ?o } WHERE { ?city a ig:City ; ?p ?o }"""
CITY = "https://w3id.org/innograph/id/city/liverpool-city-region"
TABLE_FORMATS = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
GRAPH_FORMATS = {
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "nq": "application/n-quads",
    "trig": "application/trig",
    "jsonld": "application/ld+json",
    "rdf": "application/rdf+xml",
}
# Chromium logs every fetch answered 4xx/5xx as a console error; a test expecting one allows it.
FAILED_LOAD = "Failed to load resource: the server responded with a status of"


@dataclass
class Tab:
    """A page in a fresh browser context, with what it requested and what it complained about."""

    page: playwright.Page
    server: str
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def open(self, url: str | None = None) -> playwright.Response | None:
        return self.page.goto(url or f"{self.server}/sparql", wait_until="load")

    def run(self, query: str | None = None) -> None:
        """Put ``query`` in the editor (if given), press Run and wait for the answer shown."""
        page = self.page
        if query is not None:
            page.fill("#query", query)
        with page.expect_response(lambda r: r.request.method == "POST"):
            page.click("#run")
        self.settle()

    def settle(self) -> None:
        # Locator assertions, not wait_for_function: a string predicate is eval'd in the page,
        # which the page's Content-Security-Policy rightly forbids.
        playwright.expect(self.page.locator("#run")).to_be_enabled(timeout=30_000)
        playwright.expect(self.page.locator("#status")).not_to_have_text(
            re.compile(r"^Running"), timeout=30_000
        )

    def header(self) -> list[str]:
        return self.page.locator("#results table thead th").all_inner_texts()

    def rows(self) -> list[list[str]]:
        return self.page.eval_on_selector_all(
            "#results table tbody tr",
            "rows => rows.map(r => Array.from(r.cells, c => c.textContent))",
        )

    def links(self) -> dict[str, str]:
        """format= name to absolute URL of each download link."""
        return self.page.eval_on_selector_all(
            "#download-links a",
            "links => Object.fromEntries(links.map(a => [a.dataset.format, a.href]))",
        )

    def check(self, allow: tuple[str, ...] = ()) -> None:
        """No request left the server; no console error or exception except those allowed."""
        outside = [u for u in self.requests if not u.startswith(self.server + "/")]
        assert not outside, f"requests that did not go to {self.server}: {outside}"
        assert self.requests, "no request was recorded"
        problems = [p for p in self.problems if not any(a in p for a in allow)]
        assert not problems, f"console errors or page exceptions: {problems}"


@pytest.fixture(scope="module")
def browser() -> Iterator[playwright.Browser]:
    # launch() gives each browser a fresh temporary --user-data-dir, removed on close.
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


def new_tab(browser: playwright.Browser, server: str) -> Tab:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    tab = Tab(page, server)
    context.on("request", lambda request: tab.requests.append(request.url))
    page.on("pageerror", lambda error: tab.problems.append(f"exception: {error}"))
    page.on(
        "console",
        lambda message: (
            tab.problems.append(f"console.{message.type}: {message.text}")
            if message.type in ("error", "assert")
            else None
        ),
    )
    return tab


@pytest.fixture
def tab(browser: playwright.Browser, live_server) -> Iterator[Tab]:
    made = new_tab(browser, live_server.url)
    yield made
    made.page.context.close()


def server_error(live_server, query: str) -> str:
    """The error message the server itself gives for ``query``."""
    request = urllib.request.Request(
        live_server.sparql,
        data=query.encode(),
        headers={"Content-Type": "application/sparql-query"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 400
    return json.loads(caught.value.read())["error"]


def test_the_page_loads_everything_from_the_server(tab: Tab) -> None:
    response = tab.open()
    assert response is not None
    assert response.ok
    assert response.headers["content-type"].startswith("text/html")
    tab.page.wait_for_load_state("networkidle")
    assert tab.page.title() == "innograph · SPARQL query"
    catalogue = sorted(p.stem for p in QUERIES.glob("*.rq"))
    offered = tab.page.eval_on_selector_all("#examples option", "os => os.map(o => o.value)")
    assert offered == ["", *catalogue]
    assert tab.page.locator("#results").inner_text() == ""
    for hidden in ("#banner", "#error", "#downloads"):
        assert tab.page.locator(hidden).is_hidden(), hidden
    assert any(u.endswith("/static/sparql.js") for u in tab.requests)
    assert any(u.endswith("/static/sparql.css") for u in tab.requests)
    tab.check()


def test_choosing_an_example_fills_the_editor(tab: Tab) -> None:
    tab.open()
    tab.page.select_option("#examples", "city-overview")
    text = (QUERIES / "city-overview.rq").read_text(encoding="utf-8")
    assert tab.page.input_value("#query") == text
    href = tab.page.eval_on_selector("#permalink", "a => a.href")
    assert parse_qs(urlsplit(href).query)["query"] == [text]
    tab.check()


def test_a_permalink_too_long_to_open_is_marked(tab: Tab) -> None:
    tab.open()
    permalink = tab.page.locator("#permalink")
    assert "too-long" not in (permalink.get_attribute("class") or "")
    tab.page.fill("#query", "# " + "x" * 9000 + "\nASK {}")
    assert "too-long" in (permalink.get_attribute("class") or "")
    assert "too long" in (permalink.get_attribute("title") or "")
    tab.check()


def test_the_default_query_shows_a_table(tab: Tab) -> None:
    tab.open()
    tab.run()
    assert tab.header() == DEFAULT_HEADER
    assert [CITY, "Liverpool City Region"] in tab.rows()
    assert tab.page.inner_text("#status").startswith("1 row in")
    assert tab.page.locator("#banner").is_hidden()
    assert tab.page.locator("#error").is_hidden()
    tab.check()


def test_an_example_runs_with_ctrl_enter(tab: Tab) -> None:
    tab.open()
    tab.page.select_option("#examples", "city-overview")
    with tab.page.expect_response(lambda r: r.request.method == "POST"):
        tab.page.press("#query", "Control+Enter")
    tab.settle()
    assert tab.header() == OVERVIEW_HEADER
    rows = tab.rows()
    assert any(row[0] == "Liverpool City Region" for row in rows), rows
    shot = os.environ.get("INNOGRAPH_PAGE_SCREENSHOT")
    if shot:
        tab.page.screenshot(path=shot, full_page=True)
    tab.check()


def test_a_syntax_error_shows_the_servers_message(tab: Tab, live_server) -> None:
    tab.open()
    tab.run()  # a table first: the error must replace it
    tab.run(SYNTAX_ERROR)
    error = tab.page.locator("#error")
    assert error.is_visible()
    expected = server_error(live_server, SYNTAX_ERROR)
    assert "expected" in expected
    assert error.inner_text() == expected
    assert tab.page.inner_text("#status").startswith("Failed")
    assert tab.page.locator("#results table").count() == 0
    assert tab.page.locator("#downloads").is_hidden()
    tab.check(allow=(f"{FAILED_LOAD} 400",))


def test_an_answer_cut_at_the_row_limit_shows_the_banner(tab: Tab) -> None:
    tab.open()
    tab.run(EVERYTHING)
    banner = tab.page.locator("#banner")
    assert banner.is_visible()
    assert "cut at 1,000 rows" in banner.inner_text()
    assert len(tab.rows()) == 1000
    assert tab.page.inner_text("#status").startswith("1,000 rows (cut)")
    tab.run("SELECT * WHERE { ?s ?p ?o } LIMIT 5")
    assert banner.is_hidden()
    assert len(tab.rows()) == 5
    tab.check()


def test_an_answer_cut_at_the_size_limit_says_so(tab: Tab) -> None:
    tab.open()
    tab.run(
        'SELECT ?s ?long WHERE { ?s ?p ?o BIND(CONCAT(STR(?o), "' + "x" * 2000 + '") AS ?long) }'
        " LIMIT 900"
    )
    banner = tab.page.locator("#banner")
    assert banner.is_visible()
    shown = len(tab.rows())
    assert 0 < shown < 900
    assert f"cut at {shown:,} rows, at the server's limit of 1 MB per answer" in banner.inner_text()
    assert "1,000 rows and 1 MB per answer" in " ".join(tab.page.inner_text("header").split())
    tab.check()


def test_a_construct_shows_turtle_and_offers_the_graph_formats(tab: Tab) -> None:
    tab.open()
    tab.run(CITY_GRAPH)
    assert tab.page.locator("#results table").count() == 0
    text = tab.page.inner_text("#results pre")
    graph = rdflib.Graph().parse(data=text, format="turtle")
    label = rdflib.Literal("Liverpool City Region")
    assert (rdflib.URIRef(CITY), rdflib.RDFS.label, label) in graph
    assert tab.page.inner_text("#status").startswith(f"{len(graph)} triples in")
    links = tab.links()
    assert list(links) == list(GRAPH_FORMATS)
    for fmt, url in links.items():
        answer = tab.page.context.request.get(url)
        assert answer.ok, (fmt, answer.status)
        assert answer.headers["content-type"].startswith(GRAPH_FORMATS[fmt]), fmt
    tab.check()


def test_the_download_links_give_every_format(tab: Tab) -> None:
    tab.open()
    tab.run()
    links = tab.links()
    assert list(links) == list(TABLE_FORMATS)
    for fmt, url in links.items():
        assert url.startswith(tab.server + "/sparql?"), url
        assert parse_qs(urlsplit(url).query)["format"] == [fmt]
        answer = tab.page.context.request.get(url)
        assert answer.ok, (fmt, answer.status)
        assert answer.headers["content-type"].startswith(TABLE_FORMATS[fmt]), fmt
        if fmt == "csv":
            table = list(csv.reader(io.StringIO(answer.text())))
            assert table == [DEFAULT_HEADER, [CITY, "Liverpool City Region"]]
    tab.check()


def test_an_ask_shows_the_answer_and_offers_json_and_xml(tab: Tab) -> None:
    tab.open()
    tab.run("ASK { ?s ?p ?o }")
    assert tab.page.inner_text("#results") == "Answer: true"
    links = tab.links()
    assert list(links) == ["json", "xml"]  # CSV and TSV define no boolean answer
    for fmt, url in links.items():
        answer = tab.page.context.request.get(url)
        assert answer.ok, (fmt, answer.status)
        assert answer.headers["content-type"].startswith(TABLE_FORMATS[fmt]), fmt
    tab.check()


def test_the_permalink_opened_in_a_fresh_page_runs_the_query(
    tab: Tab, browser: playwright.Browser, live_server
) -> None:
    tab.open()
    tab.page.select_option("#examples", "city-overview")
    tab.run()
    href = tab.page.eval_on_selector("#permalink", "a => a.href")
    assert tab.page.url == href  # the address bar keeps the permalink too
    parts = urlsplit(href)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == live_server.sparql
    text = (QUERIES / "city-overview.rq").read_text(encoding="utf-8")
    assert parse_qs(parts.query)["query"] == [text]
    tab.check()

    fresh = new_tab(browser, live_server.url)
    try:
        with fresh.page.expect_response(lambda r: r.request.method == "POST"):
            response = fresh.open(href)
        assert response is not None
        assert response.headers["content-type"].startswith("text/html")
        fresh.settle()
        assert fresh.page.input_value("#query") == text
        assert fresh.header() == OVERVIEW_HEADER
        assert any(row[0] == "Liverpool City Region" for row in fresh.rows())
        fresh.check()
    finally:
        fresh.page.context.close()


def test_back_returns_to_the_previous_query(tab: Tab) -> None:
    tab.open()
    tab.run()
    tab.run(CITY_GRAPH)
    with tab.page.expect_response(lambda r: r.request.method == "POST"):
        tab.page.go_back()
    tab.settle()
    assert tab.header() == DEFAULT_HEADER
    assert tab.page.input_value("#query").endswith("ORDER BY ?name")
    tab.check()


def test_every_catalogue_question_runs_on_the_page(tab: Tab) -> None:
    tab.open()
    names = sorted(p.stem for p in QUERIES.glob("*.rq"))
    for name in names:
        tab.page.select_option("#examples", name)
        tab.run()
        assert tab.page.locator("#error").is_hidden(), (name, tab.page.inner_text("#error"))
        assert tab.page.locator("#results table, #results pre").count() == 1, name
    tab.check()
