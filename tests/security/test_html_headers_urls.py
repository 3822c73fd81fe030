"""THREATS.md §3c, HTML, headers and URL mapping (W1–W8, W13), against the production server.

A hostile profile (the seed with markup in its name, its narratives and an own-wording goal, and
a ``javascript:`` source IRI) is built like any other and every kind of page is read back: no page
may carry anything a browser would run. Paths that inject SPARQL, headers or ``..`` are 404 (never
500), redirects stay on this server, and a forged ``Host`` never reaches a body or a header.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from collections.abc import Iterator
from importlib.metadata import requires, version
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hostile import PAYLOAD, Reply, fetch, scan, seed_with
from packaging.requirements import Requirement
from packaging.version import Version

from conftest import LiveServer, built_store, start_server, stop_server

pytestmark = pytest.mark.server

BASE = "https://w3id.org/innograph/"
CITY_PATH = "/id/city/hostile-city"
SOURCE_IRI = "javascript:alert(document.domain)//cities/hostile-city"
OWN_GOAL = "Deliver </script><img src=x onerror=alert(5)> solutions"
NAME = 'Liverpool <script>alert("name")</script> & Region'
SEED_CITY = "/id/city/liverpool-city-region"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SEED_ONLY = b"Steve Rotheram"  # the seed's mayor: what an injected query would leak


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("hostile")
    text = seed_with(
        {
            "Liverpool City Region\n": f"{NAME}\n",
            "extend the network across the region.": f"extend the network across the region. {PAYLOAD}",
            "Deliver approaches/ solutions to industry": OWN_GOAL,
            "Health: Liverpool": f"Health: {PAYLOAD} Liverpool",
        },
        first_line=f"# source: {SOURCE_IRI}",
    )
    (folder / "hostile-city.txt").write_text(text, encoding="utf-8")
    server = start_server(built_store([folder / "hostile-city.txt"], folder / "store"))
    yield server
    stop_server(server)


def select(server: LiveServer, query: str) -> list[str]:
    """The first column of a SELECT, through the endpoint."""
    url = f"{server.sparql}?{urlencode({'query': query})}"
    reply = fetch(url, headers={"Accept": "application/sparql-results+json"})
    assert reply.status == 200, reply.body[:300]
    rows = json.loads(reply.body)["results"]["bindings"]
    return [next(iter(row.values()))["value"] for row in rows]


def local(iri: str) -> str:
    for root, path in ((f"{BASE}def/", "/def/"), (f"{BASE}vocab/", "/vocab/"), (BASE, "/")):
        if iri.startswith(root):
            return path + iri[len(root) :]
    raise AssertionError(f"not an IRI this server answers for: {iri}")


def page_paths(server: LiveServer) -> dict[str, str]:
    """One path of every kind of HTML page, those about hostile text found through the endpoint."""
    holding = select(
        server,
        'SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isLiteral(?o) && CONTAINS(STR(?o), "alert(")) }',
    )
    paths = {
        "home": "/",
        "cities index": "/cities",
        "organisations index": "/organisations",
        "dataset": "/dataset.html",
        "ontology": "/def/index.html",
        "ontology term": "/def/Profile.html",
        "concept scheme": "/vocab/goals.html",
        "city (kept page)": f"{CITY_PATH}.html",
        "city (generic view)": f"{CITY_PATH}.html?view=resource",
        "source document": "/id/source/hostile-city.html",
        "named graph": "/graph/hostile-city.html",
        "not found": "/id/city/nothing-here.html",
        "query page": "/sparql?" + urlencode({"query": f"SELECT * WHERE {{ }} # {PAYLOAD}"}),
    }
    profile = select(server, "SELECT ?p WHERE { ?p a <https://w3id.org/innograph/def/Profile> }")
    paths["profile"] = local(profile[0]) + ".html"
    organisation = select(
        server, "SELECT ?o WHERE { ?o a <http://xmlns.com/foaf/0.1/Organization> }"
    )
    paths["organisation"] = local(organisation[0]) + ".html"
    assert len(holding) >= 3, holding  # the narratives, the goal and its concept, the city…
    for iri in holding:
        paths[f"holds markup: {iri}"] = local(iri) + ".html"
    city, narrative = f"{BASE}id/city/hostile-city", holding[0]
    paths |= {
        "compare": "/compare?" + urlencode({"city": city}),
        "waves": "/waves",
        "validate": "/validate",
        "validate a resource": "/validate?" + urlencode({"target": narrative}),
        "cite": "/cite?" + urlencode({"iri": narrative}),
        "canned queries": "/queries",
        "a canned query": "/queries/cities-by-policy-area",
    }
    return paths


# Parameters a page may echo: each holds markup or a javascript: IRI.
REFLECTED_PARAMETERS = [
    "/cite?" + urlencode({"iri": "javascript:alert(1)"}),
    "/cite?" + urlencode({"iri": PAYLOAD}),
    "/compare?" + urlencode({"city": PAYLOAD}),
    "/compare?" + urlencode({"country": PAYLOAD, "wave": PAYLOAD}),
    "/validate?" + urlencode({"target": "javascript:alert(1)"}),
    "/validate?" + urlencode({"target": PAYLOAD}),
    "/cities?" + urlencode({"country": PAYLOAD}),
    "/queries/cities-by-policy-area?" + urlencode({"area": PAYLOAD, "city": PAYLOAD}),
    "/queries/" + quote(PAYLOAD, safe=""),
    f"{CITY_PATH}.html?" + urlencode({"view": PAYLOAD, "page": PAYLOAD}),
    "/id/city/" + quote(PAYLOAD, safe="") + ".html",
]


@pytest.mark.parametrize("path", REFLECTED_PARAMETERS)
def test_w1_w2_a_parameter_a_page_echoes_runs_nothing(
    hostile_server: LiveServer, path: str
) -> None:
    reply = browser_get(hostile_server, path)
    assert reply.status < 500, (reply.status, reply.body[:300])
    if (reply.header("Content-Type") or "").startswith("text/html"):
        assert scan(reply.text).problems == []
    else:
        assert (reply.header("Content-Type") or "").startswith(("application/json", "text/plain"))
        assert reply.header("X-Content-Type-Options") == "nosniff"


def browser_get(server: LiveServer, path: str) -> Reply:
    return fetch(server.url + path, headers={"Accept": "text/html"})


# --- W1, W2, W3: stored and reflected XSS on every page kind -----------------------------------


def test_w1_w2_w3_no_page_runs_what_a_profile_or_a_url_says(hostile_server: LiveServer) -> None:
    """Every kind of page, built from a profile full of markup: nothing a browser would run,
    no ``javascript:`` link, JSON-LD blocks whole; the markup is shown as text."""
    failures = {}
    shown = 0
    for kind, path in page_paths(hostile_server).items():
        reply = browser_get(hostile_server, path)
        expected = 404 if kind == "not found" else 200
        if reply.status != expected or not (reply.header("Content-Type") or "").startswith(
            "text/html"
        ):
            failures[kind] = f"{path}: {reply.status} {reply.header('Content-Type')}"
            continue
        found = scan(reply.text)
        if found.problems:
            failures[kind] = f"{path}: {found.problems}"
        shown += PAYLOAD in html.unescape(reply.text)
    assert failures == {}
    assert shown >= 3  # the payload was on the pages, as text


def strings(value: object) -> Iterator[str]:
    """Every string in a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def test_w3_json_ld_in_a_page_keeps_a_script_end_inside_its_string(
    hostile_server: LiveServer,
) -> None:
    """The embedded JSON-LD holds the markup whole, and no ``</script>`` in it ends the block."""
    holding = select(
        hostile_server,
        'SELECT ?s WHERE { ?s ?p ?o FILTER(isLiteral(?o) && CONTAINS(STR(?o), "alert(2)")) }',
    )
    for path, text in [(f"{CITY_PATH}.html", NAME)] + [
        (local(i) + ".html", PAYLOAD) for i in holding
    ]:
        reply = browser_get(hostile_server, path)
        assert reply.status == 200, path
        assert "</script><script>alert(" not in reply.text, path
        blocks = scan(reply.text).json_ld
        assert blocks, f"{path} embeds its data as JSON-LD"
        assert any(text in value for value in strings(blocks)), path


def test_w2_a_javascript_iri_in_the_data_is_text_never_a_link(hostile_server: LiveServer) -> None:
    reply = browser_get(hostile_server, "/id/source/hostile-city.html")
    assert reply.status == 200
    assert SOURCE_IRI in html.unescape(reply.text)  # shown
    assert re.search(r"""href\s*=\s*["']?\s*javascript:""", reply.text, re.I) is None


def test_w2_a_javascript_iri_in_an_answer_is_not_a_link_on_any_html_answer(
    live_server: LiveServer,
) -> None:
    """/sparql answers browsers with the query page (its script draws the table: see the
    permalink test below); no answer format is HTML, so no IRI reaches an href here."""
    query = 'SELECT (IRI("javascript:alert(1)") AS ?x) ("<img src=x onerror=alert(1)>" AS ?y) {}'
    for accept in ("text/html", BROWSER_ACCEPT, "*/*"):
        reply = fetch(
            f"{live_server.sparql}?{urlencode({'query': query})}", headers={"Accept": accept}
        )
        assert reply.status in (200, 406)
        if (reply.header("Content-Type") or "").startswith("text/html"):
            assert scan(reply.text).problems == []
            assert "javascript:alert(1)" not in reply.text  # the page does not echo the query
    csp = fetch(live_server.sparql, headers={"Accept": "text/html"}).header(
        "Content-Security-Policy"
    )
    assert csp is not None
    assert "'unsafe-inline'" not in csp
    assert "default-src 'self'" in csp or "script-src 'self'" in csp


# --- W4: SPARQL injection through IRI paths ----------------------------------------------------

INJECTIONS = [
    "/id/city/a%3E%20%3Fq%20%3Fr%20.%20OPTIONAL%20%7B%3Fx%20%3Fp%20%3Fo%7D%20%7D%20%23",
    "/id/city/liverpool-city-region%3E%20%3Fp%20%3Fo%20%7D%20%23.ttl",
    "/id/city/x%22%29%20%7D%20UNION%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D%20%23.ttl",
    "/id/city/liverpool-city-region%3E%7C%3Chttp%3A%2F%2Fx%2Fp.html",
    "/graph/liverpool-city-region%3E%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D%20%7D%23.nt",
    "/vocab/goals%3E%20%3Fp%20%3Fo%20%7D%23.ttl",
    "/def/City%3E%20%3Fp%20%3Fo%20%7D%23.ttl",
    "/id/city/%5Cu003E.ttl",
]


@pytest.mark.parametrize("path", INJECTIONS)
def test_w4_a_path_that_would_inject_sparql_is_404(live_server: LiveServer, path: str) -> None:
    reply = fetch(live_server.url + path, headers={"Accept": "text/turtle"})
    assert reply.status == 404, (reply.status, reply.body[:300])
    assert SEED_ONLY not in reply.body


@pytest.mark.parametrize(
    "query",
    [
        "page=1%3E%20%3Fp%20%3Fo%20%7D%23",
        "format=ttl%3E%20%3Fp%20%3Fo",
        "view=resource%3E%20%3Fp%20%3Fo%20%7D%23",
    ],
)
def test_w4_parameters_never_reach_a_query(live_server: LiveServer, query: str) -> None:
    reply = fetch(f"{live_server.url}/id/source/liverpool-city-region.ttl?{query}")
    assert reply.status in (200, 400), (reply.status, reply.body[:300])
    if reply.status == 200:  # an unknown view is the plain document, nothing more
        plain = fetch(f"{live_server.url}/id/source/liverpool-city-region.ttl")
        assert reply.body == plain.body


# --- W5: header injection through IRI paths ----------------------------------------------------

CRLF = "%0d%0aX-Evil:%201"
HEADER_INJECTIONS = [
    f"/id/city/a{CRLF}",
    f"/id/city/liverpool-city-region{CRLF}.ttl",
    "/id/city/liverpool-city-region%0aX-Evil:%201",
    f"/id/city/liverpool-city-region?format=ttl{CRLF}",
    f"/id/city/liverpool-city-region.ttl?page=1{CRLF}",
    f"/id/city/liverpool-city-region?view=resource{CRLF}",
    f"/dumps/latest/innograph.nq.gz{CRLF}",
    f"/dumps/x{CRLF}/innograph.nq.gz",
    f"/sparql?query=ASK%7B%7D&format=json{CRLF}",
    f"/cities?country=x{CRLF}",
    f"/cities?wave=x{CRLF}",
    f"/dataset.ttl?x={CRLF}",
    "/id/city/%E2%82%AC%0a",
    f"/queries/cities-by-policy-area{CRLF}",
    f"/queries/cities-by-policy-area?area=x{CRLF}",
    f"/cite?iri=x{CRLF}",
    f"/compare?city=x{CRLF}",
    f"/validate?target=x{CRLF}",
    "/id/city/liverpool-city-region?next=%E2%82%AC%0d%0a",
]


@pytest.mark.parametrize("path", HEADER_INJECTIONS)
def test_w5_cr_lf_in_a_path_never_makes_a_header(live_server: LiveServer, path: str) -> None:
    reply = fetch(live_server.url + path, headers={"Accept": "text/turtle"})
    assert reply.status < 500, (reply.status, reply.body[:300])
    assert reply.header("X-Evil") is None
    for name, value in reply.headers.items():
        assert value.isascii(), (name, value)
        assert "\r" not in value, (name, value)
        assert "\n" not in value, (name, value)
        assert "X-Evil" not in value, (name, value)


def test_w5_a_redirect_to_a_non_ascii_path_is_percent_encoded(live_server: LiveServer) -> None:
    reply = fetch(f"{live_server.url}{SEED_CITY}?x=%E2%82%AC", headers={"Accept": "text/html"})
    assert reply.status == 303
    location = reply.header("Location") or ""
    assert location.isascii()
    assert location.startswith(f"{SEED_CITY}.html")


# --- W6: path traversal ------------------------------------------------------------------------

LEAKS = (b"root:x:", b"fingerprint", b"{%", b'"sha256"', b"import ", b"MANIFEST-")


def traversals(version_id: str) -> list[str]:
    at = f"/dumps/{version_id}"
    return [
        "/id/city/..",
        "/id/city/../../etc/passwd",
        "/id/city/..%2F..%2F..%2Fetc%2Fpasswd.ttl",
        "/id/city/..%2F..%2Fcurrent%2Fmanifest.json",
        "/def/..%2f..%2fetc",
        "/graph/..%2f..%2fshapes%2fprofile.ttl",
        "/vocab/..%2F..%2Fpyproject.toml",
        "/static/%2e%2e/templates/base.html",
        "/static/..%2ftemplates%2fbase.html",
        "/static/..%5c..%5csettings.py",
        "/static/%2e%2e%2f%2e%2e%2fsettings.py",
        "/static//etc/passwd",
        "/dumps/..%2F..%2Fetc/passwd",
        "/dumps/latest/..%2Fmanifest.json",
        "/dumps/latest/..%2F..%2Fcurrent%2Fmanifest.json",
        "/dumps/latest/%2e%2e%2fmanifest.json",
        "/dumps/..%2Fcurrent/manifest.json",
        "/dumps/current/manifest.json",
        f"{at}/..%2Fmanifest.json",
        f"{at}/manifest.json",
        f"{at}/statistics.json",
        f"{at}/..%2Foxigraph%2FCURRENT",
        f"{at}/..%5Cmanifest.json",
        f"{at}/%2Fetc%2Fpasswd",
        f"{at}/parts",
        "/dumps/..%2F..%2F..%2F..%2Fetc/passwd",
        "/queries/..%2Fpyproject.toml",
        "/queries/..%2F..%2F..%2Fetc%2Fpasswd",
        "/queries/%2e%2e%2fsrc%2finnograph%2fsettings.py",
        "/queries/..%5c..%5cpyproject.toml",
        "/queries/..",
        "/cite.txt?iri=file:///etc/passwd",
        "/validate?target=file:///etc/passwd",
        f"/dumps/{quote('/etc', safe='')}/passwd",
    ]


def test_w6_no_path_reaches_a_file_outside_what_is_published(
    live_server: LiveServer, seed_store: Path
) -> None:
    version_id = (seed_store / "current").readlink().name
    assert fetch(f"{live_server.url}/static/pages.css").status == 200  # the route is there
    assert fetch(f"{live_server.url}/dumps/{version_id}/SHA256SUMS").status == 200
    failures = {}
    for path in traversals(version_id):
        reply = fetch(live_server.url + path, target=path, headers={"Accept": "text/turtle"})
        leaked = [marker for marker in LEAKS if marker in reply.body]
        status = reply.status
        location = reply.header("Location") or ""
        if status == 308 and location.startswith(live_server.url + "/"):  # slashes merged
            followed = fetch(location, headers={"Accept": "text/turtle"})
            status = followed.status
            leaked += [marker for marker in LEAKS if marker in followed.body]
        if status not in (400, 404) or leaked:
            failures[path] = (reply.status, leaked, reply.body[:120])
    assert failures == {}


# --- W7: open redirects ------------------------------------------------------------------------

REDIRECTING = [
    SEED_CITY,
    f"/{SEED_CITY}",
    "/static//pages.css",
    f"{SEED_CITY}/",
    "/def/Profile",
    "/.well-known/void",
    "/dumps/latest/innograph.nq.gz",
]
LURES = [
    "next=http://evil.example/",
    "url=//evil.example",
    "redirect=https:%2F%2Fevil.example",
    "return_to=%2F%2Fevil.example",
    "format=//evil.example",
]


def test_w7_every_redirect_stays_on_this_server(live_server: LiveServer) -> None:
    failures = {}
    for path in REDIRECTING:
        for lure in ["", *LURES]:
            target = f"{path}?{lure}" if lure else path
            reply = fetch(live_server.url, target=target, headers={"Accept": "text/html"})
            location = reply.header("Location")
            if location is None:
                continue
            parts = urlsplit(location)
            elsewhere = parts.netloc not in ("", urlsplit(live_server.url).netloc)
            if elsewhere or not parts.path.startswith("/") or parts.path.startswith(("//", "/\\")):
                failures[target] = location
    assert failures == {}
    assert fetch(live_server.url + SEED_CITY).status == 303  # redirects were tried
    slashes = fetch(live_server.url, target=f"//evil.example{SEED_CITY}")
    assert slashes.status == 404 or (slashes.header("Location") or "/").startswith("/")
    assert "evil.example" not in (slashes.header("Location") or "")


# --- W8: a forged Host header ------------------------------------------------------------------

FORGED = "evil.example"
SELF_LINKING = [
    "/",
    f"{SEED_CITY}",
    f"{SEED_CITY}.ttl",
    f"{SEED_CITY}.jsonld",
    f"{SEED_CITY}.html",
    "/dataset.ttl",
    "/dataset.html",
    "/.well-known/void",
    "/dumps/latest/innograph.nq.gz",
    "/cities",
    "/def/index.ttl",
]


@pytest.fixture(scope="module")
def trusting_server(seed_store: Path) -> Iterator[LiveServer]:
    server = start_server(seed_store, {"INNOGRAPH_TRUSTED_HOSTS": "127.0.0.1, localhost"})
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def public_server(seed_store: Path) -> Iterator[LiveServer]:
    server = start_server(seed_store, {"INNOGRAPH_PUBLIC_BASE": "https://data.example.org/"})
    yield server
    stop_server(server)


def test_w8_a_host_not_trusted_is_400_on_every_route(trusting_server: LiveServer) -> None:
    for path in [*SELF_LINKING, "/sparql"]:
        reply = fetch(trusting_server.url + path, headers={"Host": FORGED, "Accept": "text/turtle"})
        assert reply.status == 400, (path, reply.status)
        assert f"//{FORGED}".encode() not in reply.body  # named in the error, never linked
        assert FORGED not in str(reply.headers)
        trusted = fetch(trusting_server.url + path, headers={"Accept": "text/turtle"})
        assert trusted.status in (200, 302, 303), (path, trusted.status)
    assert fetch(f"{trusting_server.url}/-/ping", headers={"Host": FORGED}).status == 200


def test_w8_with_a_public_base_a_forged_host_names_nothing(public_server: LiveServer) -> None:
    for path in SELF_LINKING:
        reply = fetch(public_server.url + path, headers={"Host": FORGED, "Accept": "text/turtle"})
        assert reply.status in (200, 302, 303), (path, reply.status)
        assert FORGED.encode() not in reply.body, path
        assert FORGED not in str(reply.headers), path
        location = reply.header("Location")
        assert location is None or location.startswith("https://data.example.org/"), location


def test_w8_with_a_public_base_the_service_description_names_it(public_server: LiveServer) -> None:
    reply = fetch(public_server.sparql, headers={"Host": FORGED, "Accept": "text/turtle"})
    assert reply.status == 200
    assert FORGED.encode() not in reply.body
    assert b"<https://data.example.org/sparql>" in reply.body


# --- W13: known advisories in the web stack ----------------------------------------------------

ADVISED = {"flask": "3.1.3", "werkzeug": "3.1.6", "gunicorn": "23.0.0"}


@pytest.mark.parametrize("package", sorted(ADVISED))
def test_w13_the_web_stack_is_past_its_known_advisories(package: str) -> None:
    """Flask GHSA-4grg-w6v8-c28g and GHSA-68rp-wp8r-4726, Werkzeug's multipart and safe_join
    advisories (GHSA-q34m-jh98-gwm2 and later), gunicorn's request smuggling (CVE-2024-1135,
    CVE-2024-6827): what is installed, and what innograph allows to be installed."""
    floor = Version(ADVISED[package])
    assert Version(version(package)) >= floor
    declared = [Requirement(r) for r in requires("innograph") or []]
    ours = next(r for r in declared if r.name.lower() == package and r.marker is None)
    lowest = [Version(s.version) for s in ours.specifier if s.operator in (">=", "==", "~=")]
    assert lowest, (package, str(ours.specifier))
    assert min(lowest) >= floor, (package, str(ours.specifier))


@pytest.mark.parametrize("path", ["/static//pages.css", "/dumps//latest/innograph.nq.gz"])
def test_w8_with_a_public_base_a_doubled_slash_never_redirects_to_the_host_sent(
    public_server: LiveServer, path: str
) -> None:
    reply = fetch(public_server.url, target=path, headers={"Host": FORGED})
    location = reply.header("Location") or ""
    assert FORGED not in location, location


def test_the_page_scan_sees_what_a_browser_would_run() -> None:
    """The check the page tests rely on fails on the payload itself and on a broken JSON-LD block."""
    assert len(scan(f"<p>{PAYLOAD}</p>").problems) >= 3
    block = '<script type="application/ld+json">{"a": "</script><script>alert(1)</script>"}'
    assert scan(block).problems
    assert scan('<a href=" JaVa\tscript:alert(1)">x</a>').problems
    assert (
        scan('<link rel="icon" href="data:,"><meta charset="utf-8"><p>&lt;b&gt;</p>').problems == []
    )


# --- W1, W2: reflected through the query page, in a real browser -------------------------------

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
REFLECTED = (
    "# </textarea><script>alert('query')</script>\n"
    'SELECT ?js ?markup ?web WHERE { BIND(IRI("javascript:alert(1)") AS ?js)'
    ' BIND("<img src=x onerror=alert(2)><script>alert(3)</script>" AS ?markup)'
    ' BIND(IRI("https://example.org/fine") AS ?web) }'
)


@pytest.mark.browser
def test_w1_w2_a_permalink_full_of_markup_runs_nothing_in_a_browser(
    live_server: LiveServer,
) -> None:
    """The query page opened at a permalink whose query and answer carry markup and a
    ``javascript:`` IRI: no dialog, no script link, no element made from the data; the
    ``https`` IRI is a link (so links are made, and the check can fail)."""
    chromium = os.environ.get("INNOGRAPH_CHROMIUM") or shutil.which("chromium")
    if not chromium:
        pytest.skip("no chromium binary (apt-get install chromium, or set INNOGRAPH_CHROMIUM)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    dialogs: list[str] = []
    with sync_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            with page.expect_response(lambda r: r.request.method == "POST"):
                page.goto(f"{live_server.sparql}?{urlencode({'query': REFLECTED})}")
            sync_api.expect(page.locator("#results table tbody tr")).to_have_count(1)
            assert page.input_value("#query") == REFLECTED  # the text, not markup
            scripts = page.locator("#results script, #results img").count()
            javascript = page.locator('a[href^="javascript" i]').count()
            cells = page.locator("#results tbody td").all_inner_texts()
            web = page.locator('#results a[href="https://example.org/fine"]').count()
            page.wait_for_timeout(300)  # an onerror would have fired by now
        finally:
            browser.close()
    assert dialogs == []
    assert (scripts, javascript) == (0, 0)
    assert cells[:2] == [
        "javascript:alert(1)",
        "<img src=x onerror=alert(2)><script>alert(3)</script>",
    ]
    assert web == 1
