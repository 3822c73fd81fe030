"""queries/who-held-which-post-when.rq over the production build of the seed and the headed
fragments: a city surveyed in both waves answers "who led innovation in 2018, who in 2020" from
the merged graph, and is named by one preferred label.

The expected rows state what the pages print (file and line given with each)."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import ROOT
from innograph import store
from innograph.query.local import run_query

QUERY = ROOT / "queries" / "who-held-which-post-when.rq"
LEAD = "Lead Innovation Officer"


@pytest.fixture(scope="module")
def rows(fragments_store: Path) -> list[tuple[str | None, ...]]:
    dataset = store.open_read_only(store.require_current(fragments_store))
    result = run_query(dataset, QUERY.read_text(encoding="utf-8"))
    assert isinstance(result, ox.QuerySolutions)
    names = [v.value for v in result.variables]
    assert names == ["city", "post", "wave", "holder", "note"]
    return [
        tuple(None if s[n] is None else s[n].value for n in names)  # type: ignore[union-attr]
        for s in result
    ]


def test_the_query_reads_no_named_graph() -> None:
    words = " ".join(
        line for line in QUERY.read_text(encoding="utf-8").splitlines() if not line.startswith("#")
    ).split()
    assert "GRAPH" not in words


def test_a_city_with_a_lead_officer_in_each_wave(rows: list[tuple[str | None, ...]]) -> None:
    toronto = [row for row in rows if row[0] == "Toronto" and row[1] == LEAD]
    assert toronto == [
        ("Toronto", LEAD, "2018 survey", "Paula Kwan", None),  # toronto-ca--2018-version.txt
        ("Toronto", LEAD, "2020 survey", "Alice Xu", None),  # toronto-ca.txt
    ]


def test_a_city_named_two_ways_has_one_row_name(rows: list[tuple[str | None, ...]]) -> None:
    # denver-us.txt (updated site, 2020) prints "Denver, CO"; the 2018 version prints "Denver"
    denver = [row for row in rows if row[0] is not None and row[0].startswith("Denver")]
    assert {row[0] for row in denver} == {"Denver, CO"}
    assert [row[2:4] for row in denver if row[1] == LEAD] == [
        ("2018 survey", "David Edinger"),
        ("2020 survey", "Melissa Wiley"),
    ]
    # the mayor held the post in both waves: one row per wave, not one per page merged away
    assert [row[2:4] for row in denver if row[1] == "Mayor"] == [
        ("2018 survey", "Michael Hancock"),
        ("2020 survey", "Michael Hancock"),
    ]


def test_every_membership_has_a_wave_and_one_city_name(rows: list[tuple[str | None, ...]]) -> None:
    assert all(row[0] is not None and row[2] is not None for row in rows)
    cities = {row[0] for row in rows}
    assert len(cities) == 19  # the seed and the 18 cities of the 22 headed fragments
