"""The query catalogue (queries/*.rq): every query's answer on the seed profile, and more.

Each catalogue query has its expected answer on the seed (data/profiles/liverpool-city-region.txt)
written out row by row below. The rows state what the profile text says (line numbers are the
seed's) rather than what a run printed. A new .rq file without an expected answer fails
``test_every_query_has_an_expected_answer``.
Further tests run the whole catalogue over the seed plus every real fragment in
../shared/profiles/fragments (skipped when that folder is absent), check the catalogue's
conventions, and run one query through the command line.
"""

from __future__ import annotations

import csv
import hashlib
import io
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import FRAGMENTS, ROOT, built_store
from innograph import __version__, store
from innograph.query.local import run_query

QUERIES = ROOT / "queries"
PROFILES = ROOT / "data" / "profiles"
SEED = PROFILES / "liverpool-city-region.txt"
SNAPSHOT_NOTE = (
    "Note: The City Innovation Snapshot (PDF version) was produced in 2019 and some aggregate"
    " findings have been updated with the latest survey results below."
)

Row = tuple[object, ...]
Answer = list[Row] | bool

# Queries that may use GRAPH: they answer provenance questions (which file, which line).
PROVENANCE_QUERIES = {"profile-sources.rq", "source-line-of-fact.rq"}

# --- what the seed page says ---------------------------------------------------------------
CITY = "Liverpool City Region"  # line 1
# Line 43 quotes "50%" and "24%", line 108 "81%": the updated site; no snapshot note on the
# page, so a 2020 respondent (README, "Survey wave").
WAVE = "2020 survey"
UPDATED_SITE = "Updated site (after the 2020 survey)"
UNIT = "Policy and Strategic Commissioning Directorate"  # line 63
PARTNER = "not-for-profit organizations"  # line 147
PLACEMENT = (  # line 63
    "Situated in the Policy and Strategic Commissioning Directorate, the City Region’s"
    " Innovation and Commercialisation Lead Officer works across the Commercial Investment and"
    " Development Directorate and is ultimately accountable to the Metro Mayor."
)

EXPECTED: dict[str, Answer] = {
    # lines 45-48: Health, Economic Development; both survey options
    "cities-by-policy-area.rq": [
        ("Economic Development", CITY, WAVE, True),
        ("Health", CITY, WAVE, True),
    ],
    # lines 58-60: one survey option, two in the city's own words
    "cities-by-role.rq": [
        ("Communication officer", CITY, WAVE, True),
        ("Economic development advisor", CITY, WAVE, False),
        ("Relationship management", CITY, WAVE, False),
    ],
    # line 15: John Whaling; line 63: placed within another department, two directorates named,
    # accountable to the Metro Mayor; no team size, nothing said about a dedicated team
    "innovation-lead-and-team-placement.rq": [
        (
            CITY,
            WAVE,
            "John Whaling",
            None,
            "Within another department",
            "Commercial Investment and Development Directorate",
            "Metro Mayor",
            None,
            None,
        ),
        (
            CITY,
            WAVE,
            "John Whaling",
            None,
            "Within another department",
            "Policy and Strategic Commissioning Directorate",
            "Metro Mayor",
            None,
            None,
        ),
    ],
    # lines 112-124, "Top sources of funding", in page order
    "funding-sources-by-city.rq": [
        (
            CITY,
            WAVE,
            1,
            "International/multilateral institution budget",
            "International/multilateral institution budget",
        ),
        (
            CITY,
            WAVE,
            2,
            "Central/federal/national government budget",
            "Central/federal/national government budget",
        ),
        (CITY, WAVE, 3, "Municipal budget", "Municipal budget"),
        (CITY, WAVE, 4, "External funding", "External funding"),
        (CITY, WAVE, 5, "Non-financial resources", "Non-financial resources"),
    ],
    # line 25: the first critical success factor
    "top-success-factor-by-city.rq": [(CITY, WAVE, "Dedicated funding", "Dedicated funding")],
    # lines 170-196, "Insufficient data": 14 areas (here in alphabetical order)
    "insufficient-data-areas-by-city.rq": [
        (CITY, WAVE, "Blight"),
        (CITY, WAVE, "Built environment"),
        (CITY, WAVE, "Culture"),
        (CITY, WAVE, "Digital governance"),
        (CITY, WAVE, "Economic Development"),
        (CITY, WAVE, "Education"),
        (CITY, WAVE, "Environment and climate change"),
        (CITY, WAVE, "Government finance"),
        (CITY, WAVE, "Land use"),
        (CITY, WAVE, "Policing and law enforcement"),
        (CITY, WAVE, "Public works"),
        (CITY, WAVE, "Social inclusion and equity"),
        (CITY, WAVE, "Social welfare/social services"),
        (CITY, WAVE, "Waste and sewage"),
    ],
    # line 43: "... Liverpool City Region has an explicit innovation strategy."
    "explicit-strategy-status.rq": [("has", CITY, WAVE)],
    "explicit-strategy-counts.rq": [("does not have", 0, 0), ("has", 1, 1), ("not stated", 0, 0)],
    # line 43: 50% (strategy), 24% (specific policy areas); line 108: 81% (dedicated funding)
    "survey-wide-shares.rq": [
        (
            UPDATED_SITE,
            WAVE,
            "share of cities that has an explicit innovation strategy",
            "50%",
            50,
            1,
        ),
        (UPDATED_SITE, WAVE, "share of cities that has dedicated funding", "81%", 81, 1),
        (
            UPDATED_SITE,
            WAVE,
            "share of cities whose approach to innovation capacity is specific policy areas",
            "24%",
            24,
            1,
        ),
    ],
    # one profile, one city, one file
    "profiles-by-wave-and-site-version.rq": [(WAVE, UPDATED_SITE, 1, 1, 1)],
    # line 147 names not-for-profit organizations (PART-03 of the survey's partner types);
    # line 63 names the Policy and Strategic Commissioning Directorate
    "about-partner-type-or-unit.rq": [
        (UNIT, "organisational unit", CITY, WAVE, "innovation team accountable to", "Metro Mayor"),
        (
            UNIT,
            "organisational unit",
            CITY,
            WAVE,
            "innovation team placement kind",
            "Within another department",
        ),
        (UNIT, "organisational unit", CITY, WAVE, "placement paragraph", PLACEMENT),
        (
            UNIT,
            "organisational unit",
            CITY,
            WAVE,
            "placement paragraph also names",
            "Commercial Investment and Development Directorate",
        ),
        (PARTNER, "partner type", None, None, "in scheme", "Partner types for innovation capacity"),
        (PARTNER, "partner type", None, None, "survey notation", "PART-03"),
        (PARTNER, "partner type", None, None, "survey option", "yes"),
        (PARTNER, "partner type", CITY, WAVE, "named by the city as", PARTNER),
    ],
    # line 11: "1,530,000 (2018)"; line 15: John Whaling
    "source-line-of-fact.rq": [
        (CITY, "lead innovation officer", "John Whaling", "liverpool-city-region.txt", 15, None),
        (CITY, "population figure", "1530000", "liverpool-city-region.txt", 11, None),
    ],
    # lines 18-22: one survey option, then two goals in the city's own words
    "goals-own-words-vs-survey-options.rq": [
        (CITY, WAVE, 1, "Improve resident outcomes", "Improve resident outcomes", "survey option"),
        (
            CITY,
            WAVE,
            2,
            "Maximise competitive strengths and lever associated investment",
            "Maximise competitive strengths and lever associated investment",
            "own words",
        ),
        (
            CITY,
            WAVE,
            3,
            "Deliver approaches/ solutions to industry",
            "Deliver approaches/ solutions to industry",
            "own words",
        ),
    ],
    # line 56: "utilizes 3 different innovation skills or roles"; lines 58-60 list three
    "roles-stated-vs-listed.rq": [(CITY, WAVE, 3, 3, "same")],
    # line 149: private sector, academia, think tanks, other cities
    "data-partnerships-by-type.rq": [
        ("academia", 1, 1),
        ("other cities", 1, 1),
        ("private sector", 1, 1),
        ("think tanks", 1, 1),
    ],
    # lines 72, 74, 76 (the numbered list of seven at lines 78-104 is template text)
    "own-innovation-activities.rq": [
        (
            CITY,
            WAVE,
            "Developing new solutions based on digital technologies",
            "Developing new solutions based on digital technologies",
            "activity list",
        ),
        (
            CITY,
            WAVE,
            "Promoting data-driven analytics / public data management",
            "Promoting data-driven analytics / public data management",
            "activity list",
        ),
        (
            CITY,
            WAVE,
            "Taking risks and testing new ideas",
            "Taking risks and testing new ideas",
            "activity list",
        ),
    ],
    # the seed lists its policy areas, names partners (line 147) and says nothing of lacking a team
    "explicit-negatives.rq": [],
    # lines 130-131; the "N cities" chart from line 132 on is the survey's, not the city's
    "funded-activities-by-city.rq": [
        (
            CITY,
            WAVE,
            "Investing in digital systems",
            "Investing in digital systems",
            "activities being funded",
        ),
        (
            CITY,
            WAVE,
            "Investing in physical infrastructure",
            "Investing in physical infrastructure",
            "activities being funded",
        ),
    ],
    # lines 153-154 print 5 and 14; 5 areas under "Sufficient data", 14 under "Insufficient data"
    "data-availability-stated-vs-listed.rq": [(CITY, WAVE, 5, 14, 5, 14)],
    # lines 3, 7, 11
    "city-overview.rq": [(CITY, WAVE, "United Kingdom", "Steve Rotheram", 1530000, "2018")],
    # lines 7 and 15, no bracketed note; a 2020 profile of the updated site (line 1 the name)
    "who-held-which-post-when.rq": [
        (CITY, "Lead Innovation Officer", WAVE, "John Whaling", None),
        (CITY, "Mayor", WAVE, "Steve Rotheram", None),
    ],
    # the seed file itself: 196 lines, headed, complete
    "profile-sources.rq": [
        (
            "liverpool-city-region.txt",
            196,
            hashlib.sha256(SEED.read_bytes()).hexdigest(),
            __version__,
            CITY,
            WAVE,
            "headed",
            None,
        )
    ],
}


# --- helpers -------------------------------------------------------------------------------


def catalogue() -> list[str]:
    return sorted(path.name for path in QUERIES.glob("*.rq"))


XSD = "http://www.w3.org/2001/XMLSchema#"
INTEGERS = {
    f"{XSD}{name}" for name in ("integer", "int", "long", "positiveInteger", "nonNegativeInteger")
}


def plain(term: object) -> object:
    """A result term as a plain value: None, int, bool, Decimal, else its string."""
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        if datatype in INTEGERS:
            return int(term.value)
        if datatype == f"{XSD}boolean":
            return term.value == "true"
        if datatype == f"{XSD}decimal":
            return Decimal(term.value)
    return term.value  # type: ignore[attr-defined]


def answer(result: object) -> Answer:
    """The answer as plain values; a SELECT must answer with labels and values, never a bare
    IRI, so that a reader can read it."""
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    assert isinstance(result, ox.QuerySolutions)
    names = [v.value for v in result.variables]
    rows = [tuple(solution[name] for name in names) for solution in result]
    iris = [term for row in rows for term in row if isinstance(term, ox.NamedNode)]
    assert not iris, f"answers with IRIs instead of labels: {iris[:3]}"
    return [tuple(plain(term) for term in row) for row in rows]


def run(store: ox.Store, name: str) -> Answer:
    return answer(run_query(store, (QUERIES / name).read_text(encoding="utf-8")))


def build_and_open(paths: list[Path], root: Path) -> ox.Store:
    """``innograph build`` of PATHS, opened as ``innograph query`` opens it."""
    return store.open_read_only(store.require_current(built_store(paths, root)))


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_dataset(seed_graph: ox.Store) -> ox.Store:
    return seed_graph


@pytest.fixture(scope="module")
def all_datasets(fragments_store: Path, flat_store: Path) -> list[ox.Store]:
    """The seed with the headed fragments, and the flattened renderings (each set is built on
    its own: a second rendering of a page is the same profile, which the build refuses)."""
    return [store.open_read_only(store.require_current(r)) for r in (fragments_store, flat_store)]


# --- the catalogue -------------------------------------------------------------------------


def test_the_catalogue_has_at_least_fourteen_questions() -> None:
    assert len(catalogue()) >= 14


def test_every_query_has_an_expected_answer() -> None:
    assert set(EXPECTED) == set(catalogue())


@pytest.mark.parametrize("name", catalogue())
def test_query_answers_what_the_seed_says(seed_dataset: ox.Store, name: str) -> None:
    if name not in EXPECTED:
        pytest.fail(f"queries/{name} has no expected answer on the seed in EXPECTED")
    assert run(seed_dataset, name) == EXPECTED[name]


def sparql_lines(text: str) -> list[str]:
    """The query's lines without whole-line comments."""
    return [line for line in text.splitlines() if not line.lstrip().startswith("#")]


@pytest.mark.parametrize("name", catalogue())
def test_query_follows_the_catalogue_conventions(name: str) -> None:
    text = (QUERIES / name).read_text(encoding="utf-8")
    first, *_ = text.splitlines()
    assert first.startswith("# "), "first line: # <the researcher's question>"
    assert first.rstrip().endswith("?"), "first line: # <the researcher's question>"
    body = "\n".join(sparql_lines(text))
    assert body.lstrip().startswith("PREFIX"), "PREFIX declarations follow the question"
    words = body.upper().split()
    assert "SELECT" in words or "ASK" in words
    if "SELECT" in words:
        assert "ORDER BY" in " ".join(words), "a SELECT needs a deterministic ORDER BY"
    # labels, not IRIs, in the answer: checked on every answer by answer()
    if name not in PROVENANCE_QUERIES:
        assert "GRAPH" not in words, "only provenance questions may use GRAPH"


def test_parameterised_queries_start_with_an_editable_values_block() -> None:
    for name in ("about-partner-type-or-unit.rq", "source-line-of-fact.rq"):
        lines = sparql_lines((QUERIES / name).read_text(encoding="utf-8"))
        body = [
            line.strip() for line in lines[next(i for i, x in enumerate(lines) if "WHERE {" in x) :]
        ]
        # only braces and the opening of a subquery may come before the block to edit
        first = next(x for x in body if x not in ("WHERE {", "{") and not x.startswith("SELECT"))
        assert first.startswith("VALUES"), name


# --- the whole catalogue over the real fragments -------------------------------------------


def test_every_query_runs_over_seed_and_fragments(all_datasets: list[ox.Store]) -> None:
    headed, flat = all_datasets
    assert all(isinstance(run(flat, name), list | bool) for name in catalogue())
    answers = {name: run(headed, name) for name in catalogue()}
    assert all(isinstance(rows, list | bool) for rows in answers.values())

    by_area = answers["cities-by-policy-area.rq"]
    assert isinstance(by_area, list)
    assert len({row[1] for row in by_area}) > 1

    roles = answers["roles-stated-vs-listed.rq"]
    assert isinstance(roles, list)
    fewer = {row[0] for row in roles if row[2] is not None and row[2] > row[3]}  # type: ignore[operator]
    assert fewer & {"Toronto", "Detroit"}
    assert ("Detroit", "2018 survey", 9, 6, "fewer listed") in roles  # detroit-us.txt:47-54

    assert (
        "Amsterdam",
        "2020 survey",
        "does not prioritise policy sectors for its innovation work",
    ) in answers["explicit-negatives.rq"]  # amsterdam-nld.txt:42

    counts = answers["explicit-strategy-counts.rq"]
    assert isinstance(counts, list)
    assert [row[0] for row in counts] == ["does not have", "has", "not stated"]
    profiles = answers["profiles-by-wave-and-site-version.rq"]
    assert isinstance(profiles, list)
    assert sum(row[1] for row in counts) == sum(row[2] for row in profiles)  # type: ignore[misc]

    sources = answers["profile-sources.rq"]
    assert isinstance(sources, list)
    headed_fragments = [p for p in FRAGMENTS.glob("*.txt") if not p.stem.endswith("--flat")]
    assert len(sources) == 1 + len(headed_fragments)


# --- the command line ----------------------------------------------------------------------


def test_source_lines_of_two_files_about_one_city_stay_apart(tmp_path: Path) -> None:
    # The seed's city in the 2018 wave ("--" keeps the city; the snapshot note makes it a 2018
    # respondent), a line lower throughout and with another population: both files describe the
    # same city and officer, and each keeps its own lines and values.
    lines = (PROFILES / "liverpool-city-region.txt").read_text(encoding="utf-8").splitlines()
    assert lines[10] == "1,530,000 (2018)"
    vision = lines.index("Vision and approach to innovation capacity")
    copy = tmp_path / "profiles" / "liverpool-city-region--2018.txt"
    copy.parent.mkdir()
    shifted = [lines[0], "", *lines[1:10], "1,600,000 (2018)", *lines[11:vision]]
    shifted += [SNAPSHOT_NOTE, "", *lines[vision:]]
    copy.write_text("\n".join(shifted) + "\n", encoding="utf-8")
    both = build_and_open([PROFILES, copy.parent], tmp_path / "store")
    assert run(both, "source-line-of-fact.rq") == [
        (
            CITY,
            "lead innovation officer",
            "John Whaling",
            "liverpool-city-region--2018.txt",
            16,
            None,
        ),
        (CITY, "lead innovation officer", "John Whaling", "liverpool-city-region.txt", 15, None),
        (CITY, "population figure", "1600000", "liverpool-city-region--2018.txt", 12, None),
        (CITY, "population figure", "1530000", "liverpool-city-region.txt", 11, None),
    ]


def test_query_file_through_the_command_line(seed_store: Path) -> None:
    store = str(seed_store)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "innograph",
            "query",
            str(QUERIES / "funding-sources-by-city.rq"),
            "--store",
            store,
            "--format",
            "csv",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    rows = list(csv.reader(io.StringIO(completed.stdout)))
    assert rows[0] == ["city", "wave", "rank", "fundingSource", "asPrinted"]
    expected = EXPECTED["funding-sources-by-city.rq"]
    assert isinstance(expected, list)
    assert rows[1:] == [[str(value) for value in row] for row in expected]
