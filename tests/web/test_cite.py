"""Cite this: any resource's citation as text, BibTeX and CSL-JSON names the dataset version,
the IRI, the profile file and line it was read from and the retrieval date; every page links
to it."""

from __future__ import annotations

import json
import re
import urllib.parse
from datetime import UTC, datetime

import pytest
from test_resources import request

from conftest import LiveServer
from innograph.web.cite import Citation

IG = "https://w3id.org/innograph/def/"
CITY = "https://w3id.org/innograph/id/city/liverpool-city-region"


def first_fact(server: LiveServer) -> tuple[str, str, int]:
    """A policy-area selection of the seed: its IRI, its wording and its source line."""
    query = (
        f"PREFIX ig: <{IG}> SELECT ?fact ?wording ?line WHERE {{ ?profile ig:policyFocus ?fact ."
        " ?fact ig:wording ?wording ; ig:sourceLine ?line } ORDER BY ?line LIMIT 1"
    )
    _, _, body = request(
        server, "/sparql?" + urllib.parse.urlencode({"query": query}), "application/json"
    )
    row = json.loads(body)["results"]["bindings"][0]
    return row["fact"]["value"], row["wording"]["value"], int(row["line"]["value"])


def cited(server: LiveServer, iri: str, suffix: str) -> tuple[dict[str, str], str]:
    status, headers, body = request(
        server, f"/cite.{suffix}?" + urllib.parse.urlencode({"iri": iri})
    )
    assert status == 200, body
    return headers, body.decode()


def test_a_fact_is_cited_with_its_version_file_line_and_date(live_server: LiveServer) -> None:
    fact, wording, line = first_fact(live_server)
    version = (live_server.store / "current").resolve().name
    today = f"{datetime.now(UTC):%Y-%m-%d}"
    _, text = cited(live_server, fact, "txt")
    assert text.startswith(f"{wording}. In: innograph")
    for part in (version, fact, f"liverpool-city-region.txt, line {line}", f"Retrieved {today}"):
        assert part in text
    headers, bib = cited(live_server, fact, "bib")
    assert headers["content-type"].startswith("application/x-bibtex")
    assert re.match(r"@misc\{innograph-[A-Za-z0-9-]+,\n", bib)
    assert bib.count("{") == bib.count("}")
    assert f"version = {{{version}}}" in bib
    assert f"line {line}" in bib
    headers, csl = cited(live_server, fact, "json")
    assert headers["content-type"] == "application/vnd.citationstyles.csl+json"
    (item,) = json.loads(csl)
    assert (item["id"], item["type"], item["title"], item["version"]) == (
        fact,
        "dataset",
        wording,
        version,
    )
    assert item["accessed"]["date-parts"] == [[int(p) for p in today.split("-")]]


@pytest.mark.parametrize(
    "path",
    ["/id/city/liverpool-city-region.html", "/id/city/liverpool-city-region.html?view=resource"],
)
def test_every_page_links_its_citation(live_server: LiveServer, path: str) -> None:
    _, _, page = request(live_server, path)
    link = "/cite?iri=" + urllib.parse.quote(CITY, safe="")
    assert f'<a href="{link}">Cite this</a>' in page.decode()
    status, _, html = request(live_server, link)
    assert status == 200
    assert "<title>Cite Liverpool City Region" in html.decode()


@pytest.mark.parametrize(
    ("iri", "status"),
    [("javascript:alert(1)", 400), (f"{CITY}-nowhere", 404), (CITY + "> } #", 400)],
)
def test_an_iri_not_ours_or_not_there_is_refused(
    live_server: LiveServer, iri: str, status: int
) -> None:
    answer, _, body = request(live_server, "/cite.txt?" + urllib.parse.urlencode({"iri": iri}))
    assert answer == status
    assert json.loads(body)["error"].startswith("iri: ")


def test_bibtex_quotes_what_tex_would_read_as_markup() -> None:
    now = datetime(2026, 12, 4, tzinfo=UTC)
    url = "http://x/a_b%20c?d=1"
    label = r"R&D {50%} of_city ~ x^2 \ y"
    found = Citation(CITY, label, ("a.txt, line 3",), "v1", now, now, url)
    bib = found.bibtex()
    assert (
        r"title = {R\&D \{50\%\} of\_city \textasciitilde{} x\textasciicircum{}2"
        r" \textbackslash{} y}"
    ) in bib
    assert f"url = {{{url}}}" in bib  # read verbatim by biblatex: not escaped
    assert bib.count("{") - bib.count(r"\{") == bib.count("}") - bib.count(r"\}")


def test_a_canned_querys_answer_carries_its_citation(live_server: LiveServer) -> None:
    version = (live_server.store / "current").resolve().name
    path = "/queries/cities-by-policy-area"
    _, _, page = request(live_server, f"{path}?area=health", "text/html")
    text = page.decode()
    assert '<h2 id="cite">Cite this answer</h2>' in text
    cited_as = re.search(r'<pre class="citation">(.*?)</pre>', text, re.DOTALL)
    assert cited_as is not None
    assert "(area = health)" in cited_as.group(1)
    assert f"store version {version}" in cited_as.group(1)
    assert f"{live_server.url}{path}?area=health" in cited_as.group(1)
    status, headers, _ = request(live_server, f"{path}.csv?area=health")
    assert status == 200
    assert headers["link"] == f'<{live_server.url}{path}?area=health>; rel="cite-as"'
