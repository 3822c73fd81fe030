"""Damage that was once absorbed as data (issue 12), reproduced on the seed: each is refused
with its line, or its lines are reported unmapped and no value moves to another field."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from innograph.cli import main
from innograph.errors import ProfileError
from innograph.parsing import parse_profile
from innograph.pipeline import build
from innograph.records import ParsedProfile, SurveyOptions
from innograph.settings import Settings


@pytest.fixture(scope="module")
def seed_text(seed_bytes: bytes) -> str:
    return seed_bytes.decode("utf-8")


def parse(text: str, options: SurveyOptions) -> ParsedProfile:
    return parse_profile(text, "seed.txt", options)


def unmapped(parsed: ParsedProfile) -> list[str]:
    return [line.text.strip() for line in parsed.unmapped]


def without(text: str, line: str) -> str:
    assert f"\n{line}\n" in text
    return text.replace(f"\n{line}\n", "\n", 1)


def test_page_pasted_twice_is_refused_where_the_copy_starts(
    seed_text: str, options: SurveyOptions
) -> None:
    count = len(seed_text.splitlines())
    with pytest.raises(ProfileError) as error:
        parse(seed_text + "\n" + seed_text, options)
    assert error.value.line == count + 1
    assert str(error.value) == (
        f"seed.txt:{count + 1}: a second profile starts here; expected one profile per file"
        " (the first starts at line 1)"
    )


def test_a_second_source_line_starts_a_second_profile(
    seed_text: str, options: SurveyOptions
) -> None:
    text = "# source: https://example.org/a\n" + seed_text + "\n# source: https://example.org/b\n"
    with pytest.raises(ProfileError, match="a second profile starts here") as error:
        parse(text, options)
    assert error.value.line == len(text.splitlines())


def test_a_flattened_page_pasted_twice_without_source_lines_is_refused(
    options: SurveyOptions,
) -> None:
    page = [
        "Improve resident outcomes",
        "Dedicated funding",
        "Utopia",
        "Jane Doe",
        "120,000 (2018)",
        "Ann Other",
        "Improve resident outcomes",
    ]
    with pytest.raises(ProfileError, match="a second profile starts here") as error:
        parse("\n".join(page + page), options)
    assert error.value.line == len(page) + 3  # the country line of the copy


def test_a_section_pasted_twice_is_refused(seed_text: str, options: SurveyOptions) -> None:
    terms = (
        "Terms Liverpool City Region most associates with innovation\n\nBig picture re-thinking\n"
    )
    assert terms in seed_text
    text = seed_text.replace(terms, terms + terms, 1)
    with pytest.raises(ProfileError) as error:
        parse(text, options)
    first = seed_text.splitlines().index(terms.splitlines()[0]) + 1
    assert error.value.line == first + 3
    assert error.value.expected == (
        "a second 'Terms Liverpool City Region most associates with innovation' heading"
        f" (the first is at line {first}); expected each section once (a section pasted twice?)"
    )


def test_missing_success_factors_heading_does_not_make_goals(
    seed_text: str, options: SurveyOptions
) -> None:
    original = parse(seed_text, options)
    damaged = parse(without(seed_text, "Critical success factors:"), options)
    assert damaged.profile.goals == original.profile.goals
    assert damaged.profile.success_factors == ()
    factors = [choice.wording for choice in original.profile.success_factors]
    assert unmapped(damaged) == [f"• {factor}" for factor in factors]


def test_missing_terms_heading_does_not_grow_the_placement(
    seed_text: str, options: SurveyOptions
) -> None:
    original = parse(seed_text, options)
    text = without(seed_text, "Terms Liverpool City Region most associates with innovation")
    damaged = parse(text, options)
    assert original.profile.placement is not None
    assert damaged.profile.placement is not None
    assert damaged.profile.placement.text.value == original.profile.placement.text.value
    assert damaged.profile.terms == ()
    assert unmapped(damaged) == [
        "Big picture re-thinking",
        "Co-ordination and relationship management",
    ]


def test_missing_funding_heading_is_not_read_as_an_activity(
    seed_text: str, options: SurveyOptions
) -> None:
    original = parse(seed_text, options)
    damaged = parse(without(seed_text, "How is innovation funded here?"), options)
    assert damaged.profile.activities == original.profile.activities
    assert damaged.profile.funding.dedicated is None
    assert unmapped(damaged)[0].startswith("Like 81% of cities surveyed")


def test_missing_goals_heading_gives_no_officers(seed_text: str, options: SurveyOptions) -> None:
    original = parse(seed_text, options)
    damaged = parse(without(seed_text, "Innovation is helping to:"), options)
    assert damaged.profile.header == original.profile.header
    assert damaged.profile.goals == ()
    assert len(unmapped(damaged)) == 3


def test_parse_exits_2_and_coverage_counts_the_damaged_lines(
    seed_text: str, tmp_path: Path
) -> None:
    twice = tmp_path / "twice.txt"
    twice.write_text(seed_text + "\n" + seed_text, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["parse", str(twice)])
    assert result.exit_code == 2
    count = len(seed_text.splitlines())
    assert f"twice.txt:{count + 1}: a second profile starts here" in result.output

    headless = tmp_path / "headless.txt"
    headless.write_text(without(seed_text, "Critical success factors:"), encoding="utf-8")
    result = runner.invoke(main, ["parse", "--coverage", str(headless)])
    assert result.exit_code == 0
    assert f"headless.txt: {count - 1} lines, 6 unmapped" in result.output
    assert "headless.txt:24: unmapped: • Dedicated funding" in result.output


def test_build_rejects_a_page_pasted_twice_and_keeps_the_served_version(
    seed_text: str, tmp_path: Path
) -> None:
    """The production build: one reject naming the copy's line, nothing promoted."""
    twice = tmp_path / "profiles" / "liverpool-city-region.txt"
    twice.parent.mkdir()
    twice.write_text(seed_text + "\n" + seed_text, encoding="utf-8")
    report = build([twice.parent], tmp_path / "store", Settings())
    line = len(seed_text.splitlines()) + 1
    assert report.exit_code == 2
    assert report.version is None
    assert report.rejects == [
        f"{twice}:{line}: a second profile starts here; expected one profile per file (the first starts at line 1)"
    ]
    assert (report.graphs_out, len(report.rejected_files)) == (0, 1)


def test_a_headerless_page_pasted_twice_is_refused_at_its_first_heading_again(
    seed_text: str, options: SurveyOptions
) -> None:
    chunk = seed_text[seed_text.index("Vision and approach to innovation capacity") :]
    with pytest.raises(ProfileError) as error:
        parse(chunk + "\n" + chunk, options)
    assert error.value.line == len(chunk.splitlines()) + 1
    assert error.value.expected == (
        "a second 'Vision and approach to innovation capacity' heading (the first is at line 1);"
        " expected each section once (the page pasted twice?)"
    )
