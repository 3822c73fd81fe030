"""What a new user reads when something is off: the exact messages of `build`, `query` and
`parse`, from the real command in a subprocess (issue 14: each says what is wrong and what to do)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from test_cli_build_query import innograph

from conftest import SEED

NOT_A_PROFILE = (
    "expected an innovation-capacity profile (a heading such as 'Innovation is helping to:'"
    " or a profile sentence), found none"
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder of profiles as a user keeps it: one profile, stray notes, a README."""
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    shutil.copy(SEED, profiles)
    (profiles / "notes.txt").write_text("to do: ask Akron for their page\n", encoding="utf-8")
    (profiles / "README.md").write_text("# Our profiles\n", encoding="utf-8")
    (profiles / ".hidden.txt").write_text("editor state\n", encoding="utf-8")
    return profiles


def test_a_failed_build_counts_every_file_and_says_how_to_leave_one_out(
    folder: Path, tmp_path: Path
) -> None:
    result = innograph("build", str(folder), "--store", str(tmp_path / "store"), "--quiet")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{folder}/README.md: skipped: not a profile text (*.txt)",
        f"{folder}/notes.txt:1: {NOT_A_PROFILE}",
        "build failed: 3 file(s) in = 1 graph(s) out + 1 rejected + 1 skipped;"
        " the served version is unchanged",
        "fix the file(s) above, or leave them out: --exclude notes.txt",
    ]


def test_the_advice_works_and_the_counts_still_add_up(folder: Path, tmp_path: Path) -> None:
    result = innograph(
        "build", str(folder), "--exclude", "notes.txt", "--store", str(tmp_path / "s"), "--quiet"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("built version ")
    assert result.stdout.rstrip().endswith(
        ": 3 file(s) in = 1 graph(s) out + 0 rejected + 2 skipped (0 reused from the cache)"
    )
    assert result.stderr.splitlines() == [
        f"{folder}/README.md: skipped: not a profile text (*.txt)",
        f"{folder}/notes.txt: skipped: --exclude 'notes.txt'",
    ]


def test_a_file_that_is_not_a_profile_text_is_skipped_whether_named_or_found(
    folder: Path, tmp_path: Path
) -> None:
    readme, seed = str(folder / "README.md"), str(folder / SEED.name)
    named = innograph("build", readme, seed, "--store", str(tmp_path / "s"), "--quiet")
    assert named.returncode == 0, named.stderr
    assert "2 file(s) in = 1 graph(s) out + 0 rejected + 1 skipped" in named.stdout
    assert named.stderr == f"{readme}: skipped: not a profile text (*.txt)\n"
    alone = innograph("build", readme, "--store", str(tmp_path / "s"))
    assert alone.returncode == 2
    assert alone.stderr.splitlines() == [
        f"{readme}: skipped: not a profile text (*.txt)",
        "no profile texts to build: 1 file(s) in, all skipped;"
        " name profile texts (*.txt) or folders holding them",
    ]


def test_a_violation_rejects_the_file_it_is_in(tmp_path: Path) -> None:
    twin = tmp_path / "liverpool-city-region--copy.txt"
    shutil.copy(SEED, twin)
    result = innograph("build", str(SEED), str(twin), "--store", str(tmp_path / "s"), "--quiet")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 3, lines  # one cause, one message
    assert re.fullmatch(
        r"liverpool-city-region--copy\.txt: Violation:"
        r" https://w3id\.org/innograph/id/profile/liverpool-city-region/2020: this city and wave"
        r" are also described by liverpool-city-region\.txt, which says as much \(\d+ statements\):"
        r" keep one profile per city per wave",
        lines[0],
    ), lines[0]
    assert lines[-2:] == [
        "build failed: 2 file(s) in = 1 graph(s) out + 1 rejected + 0 skipped;"
        " the served version is unchanged",
        "fix the file(s) above, or leave them out: --exclude liverpool-city-region--copy.txt",
    ]


def test_build_outside_the_project_says_where_profiles_are_looked_for(tmp_path: Path) -> None:
    result = innograph("build", "--store", str(tmp_path / "s"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "data/profiles: no such folder here; run innograph build in the project folder,"
        " or name the profile texts or folders: innograph build PATH...\n"
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("query") / "store"
    assert innograph("build", str(SEED), "--store", str(root), "--quiet").returncode == 0
    return str(root)


@pytest.mark.parametrize(
    ("sparql", "message"),
    [
        ("SELEKT * WHERE {}", "query: expected SELECT, ASK, CONSTRUCT or DESCRIBE"),
        (
            "INSERT DATA { <a:s> <a:p> <a:o> }",
            "updates are not allowed: this endpoint is read-only",
        ),
        ("DELETE WHERE { ?s ?p ?o }", "updates are not allowed: this endpoint is read-only"),
        (
            "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
            "SERVICE is not allowed on this endpoint: queries run on the local graph only",
        ),
        ("  ", "query: expected a SPARQL query, got an empty text"),
        (
            "queries/nope.rq",
            "queries/nope.rq: no such file; give a query file that exists (queries/ holds a"
            " catalogue) or the query text itself, in quotes",
        ),
    ],
    ids=["typo", "insert", "delete", "service", "empty", "missing-file"],
)
def test_query_messages_are_the_endpoints(store: str, sparql: str, message: str) -> None:
    result = innograph("query", sparql, "--store", store)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", message + "\n")


def test_a_query_file_names_itself_in_its_error(store: str, tmp_path: Path) -> None:
    update = tmp_path / "clear.rq"
    update.write_text("CLEAR ALL\n", encoding="utf-8")
    result = innograph("query", str(update), "--store", store)
    assert result.returncode == 2
    assert result.stderr == f"{update}: updates are not allowed: this endpoint is read-only\n"


def test_a_query_file_from_the_catalogue_answers(store: str) -> None:
    result = innograph(
        "query", "queries/cities-by-policy-area.rq", "--store", store, cwd=SEED.parents[2]
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "(2 rows)"


def test_parse_prints_one_line_per_profile() -> None:
    result = innograph("parse", str(SEED))
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "liverpool-city-region.txt: Liverpool City Region, 2020 survey: 3 goals,"
        " 6 success factors, 2 policy areas, 3 roles\n"
    )
