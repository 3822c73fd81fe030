"""``innograph query NAME --param NAME=VALUE``: canned queries on the command line, over the
production build of the seed (one city, Liverpool City Region, 2020 survey)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import ROOT
from innograph.cli import main
from innograph.query import canned

QUERIES = ROOT / "queries"
CATALOGUE = canned.load(QUERIES)
BY_CITY = sorted(n for n, q in CATALOGUE.items() if any(p.kind == "city" for p in q.parameters))
CITY = "liverpool-city-region"


def innograph(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def refused(result: Result) -> str:
    """A usage error: exit code 2, nothing on stdout, one line on stderr."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.rstrip("\n")


@pytest.mark.parametrize("name", BY_CITY)
def test_the_seed_city_gives_the_whole_answer(seed_store: Path, name: str) -> None:
    """The seed holds one city: bound to it, each query answers what the file answers."""
    store = str(seed_store)
    bound = innograph("query", name, "--param", f"city={CITY}", "--store", store, "--format", "csv")
    assert bound.exit_code == 0, bound.stderr
    plain = innograph("query", str(QUERIES / f"{name}.rq"), "--store", store, "--format", "csv")
    assert bound.stdout == plain.stdout
    # the city's full IRI is a value too
    iri = f"https://w3id.org/innograph/id/city/{CITY}"
    by_iri = innograph("query", name, "--param", f"city={iri}", "--store", store, "--format", "csv")
    assert by_iri.stdout == plain.stdout


def test_a_policy_area_and_a_funding_source_narrow_the_answer(seed_store: Path) -> None:
    store = str(seed_store)
    health = innograph(
        "query", "cities-by-policy-area", "--param", "area=health", "--store", store, "--format",
        "csv",
    )  # fmt: skip
    assert csv_rows(health.stdout) == [
        ["policyArea", "city", "wave", "surveyOption"],
        ["Health", "Liverpool City Region", "2020 survey", "true"],
    ]
    municipal = innograph(
        "query", str(QUERIES / "funding-sources-by-city.rq"), "--param", "source=municipal-budget",
        "--param", f"city={CITY}", "--store", store, "--format", "csv",
    )  # fmt: skip
    assert csv_rows(municipal.stdout)[1:] == [
        ["Liverpool City Region", "2020 survey", "3", "Municipal budget", "Municipal budget"]
    ]
    housing = innograph(
        "query", "cities-by-policy-area", "--param", "area=housing", "--store", store
    )
    assert housing.exit_code == 0
    assert housing.stdout.splitlines()[-1] == "(0 rows)"  # an option no city of the seed chose


def test_without_a_value_a_canned_query_runs_over_every_value(seed_store: Path) -> None:
    store = str(seed_store)
    by_name = innograph("query", "cities-by-policy-area", "--store", store)
    assert by_name.exit_code == 0
    assert by_name.stdout.splitlines()[-1] == "(2 rows)"


@pytest.mark.parametrize(
    "value",
    [
        "atlantis",
        "health> } ; DROP ALL ; #",
        "https://w3id.org/innograph/vocab/policy-areas/health> } UNION { ?s ?p ?o",
        'health" ; DROP GRAPH <x>',
        "health' OR '1'='1",
    ],
)
def test_a_bad_value_is_one_line_naming_the_allowed_ones(seed_store: Path, value: str) -> None:
    result = innograph(
        "query", "cities-by-policy-area", "--param", f"area={value}", "--store", str(seed_store)
    )
    message = refused(result)
    assert message.startswith(f"area: {value[:60]!r} is not a policy area of this dataset;")
    assert "cities-by-policy-area takes one of blight, built-environment, culture," in message
    assert "(19 in all)" in message


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["city-overview", "--param", "town=x"],
            "town: not a parameter of city-overview; it takes city",
        ),
        (["city-overview", "--param", "city"], "--param: expected NAME=VALUE, got 'city'"),
        (
            ["city-overview", "--param", f"city={CITY}", "--param", "city=x"],
            "--param: city given twice; give it once",
        ),
        (
            ["SELECT * WHERE { ?s ?p ?o }", "--param", "city=x"],
            "--param: 'SELECT * WHERE { ?s ?p ?o }' declares no parameters; name a canned query"
            " (innograph query NAME --param NAME=VALUE, the names at /queries)",
        ),
    ],
    ids=["unknown-parameter", "no-value", "twice", "not-canned"],
)
def test_usage_errors_are_named(seed_store: Path, args: list[str], message: str) -> None:
    assert refused(innograph("query", *args, "--store", str(seed_store))) == message


def test_a_name_not_in_the_catalogue_lists_the_catalogue(seed_store: Path) -> None:
    message = refused(innograph("query", "cities-by-policy", "--store", str(seed_store)))
    assert message.startswith("cities-by-policy: no such query in the catalogue; give one of")
    assert all(name in message for name in CATALOGUE)


def test_the_installed_command_binds_a_value(seed_store: Path) -> None:
    """The console script, as a person runs it, from another folder than the checkout."""
    completed = subprocess.run(
        [sys.executable, "-m", "innograph", "query", "top-success-factor-by-city", "--param",
         f"city={CITY}", "--store", str(seed_store), "--format", "csv"],
        cwd=seed_store.parent, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert csv_rows(completed.stdout)[1:] == [
        ["Liverpool City Region", "2020 survey", "Dedicated funding", "Dedicated funding"]
    ]
    bad = subprocess.run(
        [sys.executable, "-m", "innograph", "query", "top-success-factor-by-city", "--param",
         "city=atlantis", "--store", str(seed_store)],
        cwd=seed_store.parent, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == (
        "city: 'atlantis' is not a city of this dataset; top-success-factor-by-city takes one"
        f" of {CITY}\n"
    )
