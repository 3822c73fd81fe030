"""Maintainers run the shapes in their CI: the pre-commit hooks of ``.pre-commit-hooks.yaml``,
installed by pre-commit from a clone of this repository at HEAD as a maintainer's config would,
and the GitHub Actions job of ``docs/github-actions/profiles.yml``, whose checking steps run here
as written. Each passes on a good profile and fails on a damaged one, naming file and line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, SEED

BIN = Path(sys.executable).parent
WORKFLOW = ROOT / "docs" / "github-actions" / "profiles.yml"
DAMAGE = ("1,530,000 (2018)", "0 (2018)")  # line 11: a population must be above 0
POPULATION = "https://w3id.org/innograph/id/profile/damaged/2020/population"
MESSAGE = "The population must be one integer above 0."


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=120)


@pytest.fixture
def profiles_repo(tmp_path: Path) -> Path:
    """A maintainer's repository: profiles/ with the seed (good) and a damaged copy, and a
    requirements.txt the hooks must leave alone."""
    repo = tmp_path / "city-profiles"
    (repo / "profiles").mkdir(parents=True)
    shutil.copy(SEED, repo / "profiles" / "good.txt")
    text = SEED.read_text(encoding="utf-8")
    assert DAMAGE[0] in text
    (repo / "profiles" / "damaged.txt").write_text(text.replace(*DAMAGE), encoding="utf-8")
    (repo / "requirements.txt").write_text("innograph\n", encoding="utf-8")
    git("init", "--quiet", cwd=repo)
    git("add", ".", cwd=repo)
    return repo


def test_pre_commit_passes_a_good_profile_and_names_file_and_line_of_a_damaged_one(
    profiles_repo: Path, tmp_path: Path
) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip(
            f"{ROOT} is not a git checkout: pre-commit installs hooks from a git repository"
        )
    hooks = tmp_path / "innograph"
    git("clone", "--quiet", str(ROOT), str(hooks), cwd=tmp_path)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=hooks, capture_output=True, text=True, check=True
    ).stdout.strip()
    (profiles_repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks}\n    rev: {head}\n    hooks:\n"
        "      - id: innograph-validate\n        files: ^profiles/.*\\.txt$\n"
        "      - id: innograph-coverage\n        files: ^profiles/.*\\.txt$\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}

    def pre_commit(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "pre-commit"), "run", "--color", "never", "--files", *files],
            cwd=profiles_repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    good = pre_commit("profiles/good.txt", "requirements.txt")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "good.txt: 196 lines, 0 unmapped" in good.stdout  # the coverage hook is verbose
    assert "requirements.txt" not in good.stdout
    both = pre_commit("profiles/good.txt", "profiles/damaged.txt")
    assert both.returncode == 1, both.stdout + both.stderr
    assert f"{POPULATION}\n  damaged.txt:11: Violation: population: {MESSAGE}" in both.stdout
    assert "does not conform: 2 profile graph(s)" in both.stdout


def test_the_coverage_hook_names_a_file_that_is_no_profile(tmp_path: Path) -> None:
    """What the hook runs (its entry, on the file pre-commit passes), without pre-commit."""
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    entry = {hook["id"]: hook["entry"] for hook in hooks}["innograph-coverage"]
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    done = subprocess.run(
        [str(BIN / entry.split()[0]), *entry.split()[1:], str(empty)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stderr) == (
        2,
        f"{empty}:1: expected profile text, found an empty file\n",
    )


def workflow_steps() -> list[dict[str, str]]:
    jobs = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]
    steps: list[dict[str, str]] = jobs["validate"]["steps"]
    return steps


def run_step(step: dict[str, str], repo: Path) -> subprocess.CompletedProcess[str]:
    """A workflow step's shell lines as GitHub runs them (bash -e), with the workflow's env and
    this environment's innograph first on the PATH."""
    env = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["env"]
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=repo,
        env={**os.environ, **env, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_github_job_publishes_a_junit_report_naming_file_and_line(profiles_repo: Path) -> None:
    steps = {step.get("name", step.get("uses", "")): step for step in workflow_steps()}
    install = steps["Install innograph"]["run"]
    assert install == 'python -m pip install "$INNOGRAPH_SOURCE"'
    check = steps["Check the profiles against the shapes"]
    publish = steps["Publish the JUnit report"]
    assert publish["uses"].startswith("mikepenz/action-junit-report@")
    assert publish["if"] == "${{ !cancelled() }}"  # it runs when the check failed
    report = profiles_repo / publish["with"]["report_paths"]  # type: ignore[index]

    damaged = run_step(check, profiles_repo)
    assert damaged.returncode == 1, damaged.stderr
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("failures") == "1"
    failure = suite.find("testcase/failure")
    assert failure is not None
    assert failure.text == f"damaged.txt:11: {POPULATION}: {MESSAGE}"

    (profiles_repo / "profiles" / "damaged.txt").unlink()
    good = run_step(check, profiles_repo)
    assert good.returncode == 0, good.stderr
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("failures") == "0"
    assert int(suite.get("tests", "0")) > 100  # one test case per shape
    coverage = run_step(steps["Lines the parser could not place"], profiles_repo)
    assert coverage.stdout == "good.txt: 196 lines, 0 unmapped\n"
