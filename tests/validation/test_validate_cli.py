"""`innograph validate` as CI runs it: exit codes, the seed's mutations, report formats."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.namespace import SH

from conftest import ROOT, SEED

PROFILE = "https://w3id.org/innograph/id/profile/liverpool-city-region/2020"
GRAPH = "<https://w3id.org/innograph/graph/liverpool-city-region>"
PREFIXES = """PREFIX ig: <https://w3id.org/innograph/def/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""


def innograph(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "innograph", *args], capture_output=True, text=True, check=False
    )


def mutate(seed_nquads: bytes, tmp_path: Path, update: str) -> Path:
    """The served seed's dump with an update applied, as an N-Quads file."""
    store = ox.Store()
    store.load(seed_nquads, format=ox.RdfFormat.N_QUADS)
    store.update(PREFIXES + update)
    path = tmp_path / "mutated.nq"
    store.dump(output=str(path), format=ox.RdfFormat.N_QUADS)
    return path


def test_the_served_seed_conforms(seed_store: Path) -> None:
    result = innograph("validate", "--store", str(seed_store))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().startswith("conforms: 1 profile graph(s)")


MUTATIONS = {
    "deleted mandatory property": (
        f"DELETE WHERE {{ GRAPH {GRAPH} {{ <{PROFILE}/success-factor/2> ig:concept ?c }} }}",
        f"{PROFILE}/success-factor/2",
        "liverpool-city-region.txt:27",
        "An answer must point to exactly one skos:Concept.",
    ),
    "wrong datatype": (
        f'DELETE {{ GRAPH {GRAPH} {{ ?f ig:population ?p }} }} INSERT {{ GRAPH {GRAPH} {{ ?f ig:population "1,530,000" }} }}'
        f" WHERE {{ GRAPH {GRAPH} {{ ?f ig:population ?p }} }}",
        f"{PROFILE}/population",
        "liverpool-city-region.txt:11",
        "The population must be one integer above 0.",
    ),
    "concept outside its scheme": (
        f"DELETE {{ GRAPH {GRAPH} {{ <{PROFILE}/goal/1> ig:concept ?c }} }}"
        f" INSERT {{ GRAPH {GRAPH} {{ <{PROFILE}/goal/1> ig:concept <https://w3id.org/innograph/vocab/success-factors/dedicated-funding> }} }}"
        f" WHERE {{ GRAPH {GRAPH} {{ <{PROFILE}/goal/1> ig:concept ?c }} }}",
        f"{PROFILE}/goal/1",
        "liverpool-city-region.txt:18",
        "The goal's concept is not in the goals scheme.",
    ),
    "duplicated rank": (
        f"DELETE {{ GRAPH {GRAPH} {{ <{PROFILE}/success-factor/4> ig:rank ?r }} }}"
        f" INSERT {{ GRAPH {GRAPH} {{ <{PROFILE}/success-factor/4> ig:rank 3 }} }}"
        f" WHERE {{ GRAPH {GRAPH} {{ <{PROFILE}/success-factor/4> ig:rank ?r }} }}",
        PROFILE,
        "liverpool-city-region.txt:31",
        "Rank 3 is used by",
    ),
    "share of 120": (
        f"DELETE {{ GRAPH {GRAPH} {{ ?o ig:sharePercent ?v }} }} INSERT {{ GRAPH {GRAPH} {{ ?o ig:sharePercent 120.0 }} }}"
        f' WHERE {{ GRAPH {GRAPH} {{ ?o ig:sharePercent ?v ; ig:measure "explicit-strategy" }} }}',
        "https://w3id.org/innograph/id/observation/updated/explicit-strategy/has",
        "liverpool-city-region.txt:43",
        "A share must be a single decimal percentage from 0 to 100.",
    ),
    "profile graph without provenance": (
        f"DELETE WHERE {{ GRAPH {GRAPH} {{ ?g a ig:ProfileGraph ; prov:wasDerivedFrom ?d ; ig:parserVersion ?v ; dct:subject ?p }} }}",
        PROFILE,
        "liverpool-city-region.txt:1",
        "This profile has no provenance",
    ),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_each_mutation_fails_naming_focus_and_line(
    seed_nquads: bytes, tmp_path: Path, name: str
) -> None:
    update, focus, where, message = MUTATIONS[name]
    result = innograph("validate", str(mutate(seed_nquads, tmp_path, update)))
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert focus in lines, result.stdout
    block = lines[lines.index(focus) + 1 :]
    assert any(line.startswith(f"  {where}: Violation: ") and message in line for line in block), (
        result.stdout
    )


def test_two_profiles_of_one_city_in_one_wave(tmp_path: Path) -> None:
    copy = tmp_path / "liverpool-city-region--copy.txt"
    shutil.copy(SEED, copy)
    result = innograph("validate", str(SEED), str(copy))
    assert result.returncode == 1
    assert PROFILE in result.stdout.splitlines()
    assert (
        "liverpool-city-region.txt:1, liverpool-city-region--copy.txt:1: Violation: one source document per profile"
        in result.stdout
    )


def test_profile_texts_can_be_validated_directly() -> None:
    result = innograph("validate", str(SEED))
    assert result.returncode == 0, result.stdout


def test_warnings_fail_unless_allowed(tmp_path: Path) -> None:
    cut = tmp_path / "cut.txt"
    cut.write_text(SEED.read_text(encoding="utf-8")[:2000], encoding="utf-8")
    strict = innograph("validate", str(cut))
    assert strict.returncode == 1
    assert "Warning: page not cut: The page text is cut short" in strict.stdout
    allowed = innograph("validate", str(cut), "--allow-warnings")
    assert allowed.returncode == 0, allowed.stdout
    assert "(warnings allowed)" in allowed.stdout


def test_usage_and_input_errors_exit_2(tmp_path: Path) -> None:
    bad_option = innograph("validate", "--no-such-option")
    assert bad_option.returncode == 2
    missing = innograph("validate", str(tmp_path / "missing.nq"))
    assert missing.returncode == 2
    assert "missing.nq" in missing.stderr
    broken = tmp_path / "broken.ttl"
    broken.write_text("this is not turtle <", encoding="utf-8")
    unreadable = innograph("validate", str(broken))
    assert unreadable.returncode == 2
    assert unreadable.stderr.startswith(f"{broken}: expected turtle RDF")
    no_build = innograph("validate", "--store", str(tmp_path / "nothing"))
    assert no_build.returncode == 2
    assert "no store version here; run 'innograph build" in no_build.stderr
    for result in (missing, unreadable, no_build):
        assert "Traceback" not in result.stderr


def test_shapes_with_a_wrong_sh_namespace_exit_2(tmp_path: Path) -> None:
    shapes = tmp_path / "shapes"
    shutil.copytree(ROOT / "shapes", shapes)
    profile = shapes / "profile.ttl"
    profile.write_text(
        profile.read_text(encoding="utf-8").replace(
            "<http://www.w3.org/ns/shacl#>", "<http://www.w3.org/ns/shacl>"
        ),
        encoding="utf-8",
    )
    result = innograph("validate", str(SEED), "--shapes", str(shapes))
    assert result.returncode == 2
    assert result.stderr.startswith(f"{profile}: holds no SHACL shapes")


def test_report_formats(seed_nquads: bytes, tmp_path: Path) -> None:
    update = MUTATIONS["duplicated rank"][0]
    mutated = str(mutate(seed_nquads, tmp_path, update))
    as_json = json.loads(innograph("validate", mutated, "--format", "json").stdout)
    assert as_json["conforms"] is False
    assert {r["shape"] for r in as_json["results"]} == {
        "https://w3id.org/innograph/shapes/RankedList"
    }
    assert {s["line"] for r in as_json["results"] for s in r["sources"]} == {29, 31, 33}
    turtle = Graph().parse(
        data=innograph("validate", mutated, "--format", "turtle").stdout, format="turtle"
    )
    assert len(list(turtle.subjects(SH.sourceShape, None))) == len(as_json["results"])
    junit = ET.fromstring(innograph("validate", mutated, "--format", "junit").stdout)
    suite = junit.find("testsuite")
    assert suite is not None
    failed = [
        case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None
    ]
    assert failed == ["Ranks of a list <https://w3id.org/innograph/shapes/RankedList>"]
    assert int(suite.get("tests", "0")) > 100
