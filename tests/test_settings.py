"""Every named setting is documented in the README's settings table, with its variable and its
default, and the table names nothing that is not a setting (Datasette's habit: a setting added
without docs fails here)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import ROOT
from innograph.settings import Settings, usable_cores

TABLE_ROW = re.compile(r"^\| `(?P<env>INNOGRAPH_\w+)` \| (?P<default>[^|]*) \| (?P<help>[^|]+) \|$")


def documented() -> dict[str, tuple[str, str]]:
    """The README's settings table: variable -> (default as written, what it is for)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Settings", 1)[1].split("\n#", 1)[0]
    rows = {}
    for line in section.splitlines():
        if match := TABLE_ROW.match(line):
            rows[match["env"]] = (match["default"].strip(), match["help"].strip())
    return rows


def shown(default: object) -> str:
    return f"`{default}`" if str(default) else "(empty)"


def test_every_setting_is_in_the_readme_with_its_default() -> None:
    table = documented()
    for name, env, default, _ in Settings.documented():
        assert env in table, f"{name}: add `{env}` to the README's settings table"
        assert table[env][0] == shown(default), f"{env}: the README says {table[env][0]}"


def test_the_readme_documents_no_setting_that_does_not_exist() -> None:
    assert set(documented()) == {env for _, env, _, _ in Settings.documented()}


@pytest.mark.parametrize(("name", "env", "default", "text"), Settings.documented())
def test_each_setting_has_help_and_reads_its_variable(
    name: str, env: str, default: object, text: str
) -> None:
    assert len(text) > 20, name
    assert env == f"INNOGRAPH_{name.upper()}"
    if isinstance(default, bool):
        value: object = not default
    elif isinstance(default, int | float):
        value = type(default)(default * 2 or 1)
    elif name in ("base_iri", "public_base"):
        value = "http://example.org/"
    elif name == "access_log":
        value = "full"
    elif name == "backend":
        value = "http://127.0.0.1:7001/query,http://127.0.0.1:7002/query"
    elif name == "backend_kind":
        value = "oxigraph"
    else:
        value = type(default)("elsewhere")
    assert getattr(Settings.from_env({env: str(value).lower()}), name) == value


@pytest.mark.parametrize(
    "base", ["data.example.org", "https://data.example.org", "https://data.example.org/sub/"]
)
def test_a_public_base_is_a_bare_http_origin_with_a_slash(base: str) -> None:
    with pytest.raises(ValueError, match="public_base"):
        Settings(public_base=base)


def test_an_access_log_names_one_of_its_kinds() -> None:
    with pytest.raises(ValueError, match="access_log: expected short, full, off, got 'long'"):
        Settings.from_env({"INNOGRAPH_ACCESS_LOG": "long"})


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        ("127.0.0.1:7001", "backend: expected embedded or one or two http"),
        ("http://a/query,http://b/query,http://c/query", "backend: expected at most two"),
        ("ftp://a/query", "backend: expected embedded"),
    ],
)
def test_a_backend_is_embedded_or_endpoint_urls(backend: str, expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        Settings.from_env({"INNOGRAPH_BACKEND": backend})


def test_a_backend_kind_is_one_the_front_knows() -> None:
    with pytest.raises(
        ValueError, match="backend_kind: expected oxigraph or virtuoso, got 'blaze'"
    ):
        Settings.from_env({"INNOGRAPH_BACKEND_KIND": "blaze"})
    assert Settings().backend_endpoints == []


def test_query_workers_are_the_cores_shared_among_the_web_workers_unless_set() -> None:
    cores = usable_cores()
    assert Settings().query_workers_per(1) == cores
    assert Settings().query_workers_per(cores * 2) == 1  # at least one each
    assert Settings(query_workers=3).query_workers_per(2) == 3
    with pytest.raises(ValueError, match="query_workers must be 0"):
        Settings(query_workers=-1)


@pytest.mark.parametrize(
    ("cpu_max", "at_most"), [("200000 100000", 2), ("150000 100000", 2), ("50000 100000", 1)]
)
def test_a_container_quota_caps_the_cores(tmp_path: Path, cpu_max: str, at_most: int) -> None:
    quota = tmp_path / "cpu.max"
    quota.write_text(cpu_max + "\n")
    assert usable_cores(quota) == min(at_most, len(os.sched_getaffinity(0)))
    quota.write_text("max 100000\n")
    assert usable_cores(quota) == len(os.sched_getaffinity(0))
