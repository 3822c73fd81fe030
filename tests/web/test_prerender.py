"""City pages rendered when a version is built: served as the page rendered per request would be,
completed per request with the served version's charts and footer, and kept across a rebuild
only for the cities whose graphs did not change."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_resources import request

from conftest import SEED, LiveServer, built_store, start_server, stop_server
from innograph.pipeline import build
from innograph.settings import Settings
from innograph.store import documents

CITY_PAGE = "/id/city/liverpool-city-region.html"
FOOTER = re.compile(r"<footer><p>Store version .*?</p></footer>")


def kept_index(store: Path) -> dict[str, list[str]]:
    index = json.loads((store / "current" / documents.FOLDER / documents.INDEX).read_bytes())
    return index["documents"]


def test_a_kept_page_is_the_page_rendered_per_request(
    live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The same bytes from both paths (the footer names each server's own version)."""
    assert list(kept_index(live_server.store)) == [
        "https://w3id.org/innograph/id/city/liverpool-city-region"
    ]
    plain = tmp_path_factory.mktemp("no-pages") / "store"
    assert build([SEED], plain, Settings()).exit_code == 0  # a version without kept pages
    assert not (plain / "current" / documents.FOLDER).exists()
    server = start_server(plain)
    try:
        status, headers, rendered = request(server, CITY_PAGE)
    finally:
        stop_server(server)
    kept_status, kept_headers, kept = request(live_server, CITY_PAGE)
    assert status == kept_status == 200
    assert headers["link"] == kept_headers["link"]
    for body in (rendered, kept):
        assert len(FOOTER.findall(body.decode())) == 1
        assert b"<!--innograph:" not in body
        assert body.count(b'<section id="compared">') == 1
    assert FOOTER.sub("", kept.decode()) == FOOTER.sub("", rendered.decode())
    version = (live_server.store / "current").resolve().name
    assert f"Store version {version}," in kept.decode()


def synth(folder: Path, cities: int) -> list[Path]:
    command = [sys.executable, "-m", "innograph", "synth", "--cities", str(cities), "--seed", "5"]
    subprocess.run(
        [*command, "--out", str(folder)],
        check=True,
        capture_output=True,
    )
    return sorted(folder.glob("*.txt"))


def test_a_rebuild_keeps_the_pages_of_unchanged_cities_and_renders_the_changed_one(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Unchanged cities' pages are the served version's files (hard links); the changed city's
    page shows its new text, escaped, and text that looks like a slot stays text."""
    folder = tmp_path_factory.mktemp("pages-rebuilt")
    files = synth(folder / "profiles", 3)
    store = built_store([folder / "profiles"], folder / "store")
    before = kept_index(store)
    assert len(before) == 3
    first = (store / "current").resolve()
    changed = files[0]
    text = changed.read_text(encoding="utf-8")
    spotlight = text.partition("\nSpotlight on innovation in ")[2].split("\n\n", 2)[1]
    forged = spotlight + " <!--innograph:charts--> <script>alert(1)</script>"
    changed.write_text(text.replace(spotlight, forged, 1), encoding="utf-8")
    built_store([folder / "profiles"], store)
    second = (store / "current").resolve()
    assert kept_index(store).keys() == before.keys()
    renamed = {}
    for iri in before:
        old = documents._file(first, iri).stat()
        new = documents._file(second, iri).stat()
        renamed[iri] = (old.st_ino, old.st_dev) != (new.st_ino, new.st_dev)
    assert sorted(renamed.values()) == [False, False, True]  # only one city was rendered again
    city = next(iri for iri, rendered in renamed.items() if rendered)
    server = start_server(store)
    try:
        status, _, body = request(server, "/id/" + city.split("/id/", 1)[1] + ".html")
    finally:
        stop_server(server)
    page = body.decode()
    assert status == 200
    assert "&lt;!--innograph:charts--&gt; &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert page.count('<section id="compared">') == 1
    assert f"Store version {second.name}," in page
