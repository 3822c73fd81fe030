"""What real pages do to the text (SURVEY.md §4), made from the seed by small edits."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from innograph.errors import ProfileError
from innograph.parsing import parse_bytes, parse_profile
from innograph.records import ParsedProfile, SurveyOptions


@pytest.fixture(scope="module")
def seed_text(seed_bytes: bytes) -> str:
    return seed_bytes.decode("utf-8")


def parse_text(text: str, options: SurveyOptions) -> ParsedProfile:
    return parse_profile(text, "variant.txt", options)


def values(parsed: ParsedProfile) -> dict[str, object]:
    """The record without line numbers, to compare renderings that shift lines."""

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in {"span", "first", "last"}}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    record = dataclasses.asdict(parsed.profile)
    for key in ("source", "line_count", "truncated_at"):
        record.pop(key)
    return strip(record)  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("name", "transform"),
    [
        ("crlf", lambda t: t.replace("\n", "\r\n")),
        ("bom", lambda t: "\ufeff" + t),
        ("trailing-spaces", lambda t: t.replace("\n", "  \t\n")),
        ("straight-apostrophes", lambda t: t.replace("’", "'")),
        ("typographic-apostrophes", lambda t: t.replace("'s ", "’s ")),
    ],
)
def test_encoding_variants_give_the_same_record(
    seed_text: str, options: SurveyOptions, name: str, transform
) -> None:  # type: ignore[no-untyped-def]
    original = parse_text(seed_text, options)
    variant = parse_text(transform(seed_text), options)
    assert variant.unmapped == ()
    if name in {"straight-apostrophes", "typographic-apostrophes"}:
        assert variant.profile.placement
        assert original.profile.placement
        assert [u.value for u in variant.profile.placement.units] == [
            u.value for u in original.profile.placement.units
        ]
        assert len(variant.profile.roles.roles) == 3
    else:
        assert values(variant) == values(original)


def test_plural_officer_label_with_notes(seed_text: str, options: SurveyOptions) -> None:
    text = seed_text.replace(
        "Lead Innovation Officer\n\nJohn Whaling",
        "Innovation Website\nLead Innovation Officers\n\nJohn Whaling (current), Ann Other (at time of 2018 survey)",
    )
    header = parse_text(text, options).profile.header
    assert [(p.name, p.note) for p in header.lead_officers] == [
        ("John Whaling", "current"),
        ("Ann Other", "at time of 2018 survey"),
    ]
    assert header.website_link is not None


def test_missing_header_labels_are_recognised_by_shape(
    seed_text: str, options: SurveyOptions
) -> None:
    start = seed_text.index("Steve Rotheram")
    text = "Steve Rotheram\n\n\n1,530,000\n\n" + seed_text[seed_text.index("Lead Innovation") :]
    assert start > 0
    parsed = parse_text(text, options)
    header = parsed.profile.header
    assert header.mayor
    assert header.mayor.name == "Steve Rotheram"
    assert header.population
    assert header.population.value == 1_530_000
    assert header.population_year is None
    assert header.country is None
    assert header.display_name
    assert header.display_name.value == "Liverpool City Region"
    assert parsed.unmapped == ()


def test_original_site_version_means_the_2018_wave(seed_text: str, options: SurveyOptions) -> None:
    text = (
        seed_text.replace("Along with 50%", "Along with 44%")
        .replace(
            "Similar to 24% of cities surveyed", "Similar to over one-third of cities surveyed"
        )
        .replace("Like 81% of", "Like 80% of")
    )
    survey = parse_text(text, options).profile.survey
    assert (survey.site_version, survey.wave) == ("original", 2018)


def test_snapshot_note_means_a_2018_respondent(seed_text: str, options: SurveyOptions) -> None:
    note = (
        "Note: The City Innovation Snapshot (PDF version) was produced in 2019 and some aggregate"
        " findings have been updated with the latest survey results below.\n\n"
    )
    text = seed_text.replace("Vision and approach", note + "Vision and approach")
    profile = parse_text(text, options).profile
    assert profile.survey.wave == 2018
    assert profile.survey.snapshot_note_year
    assert profile.survey.snapshot_note_year.value == 2019


def test_negative_statements_are_read(seed_text: str, options: SurveyOptions) -> None:
    text = (
        seed_text.replace(
            "has an explicit innovation strategy", "does not have an explicit innovation strategy"
        )
        .replace(
            "Like 81% of cities surveyed, Liverpool City Region has dedicated",
            "Like 19% of cities surveyed, Liverpool City Region does not have dedicated",
        )
        .replace(
            "Liverpool City Region has developed partnerships to promote innovation capacity with other public agencies, private firms, and not-for-profit organizations.",
            "Liverpool City Region’s innovation work is internal to the city administration.",
        )
    )
    cut = text.index("Policy areas that")
    text = (
        text[:cut]
        + "Liverpool City Region does not prioritise policy sectors for its innovation work.\n\n"
        + text[text.index("Policy areas by number") :]
    )
    parsed = parse_text(text, options)
    profile = parsed.profile
    assert profile.strategy
    assert profile.strategy.value == "does-not-have"
    assert profile.funding.dedicated
    assert profile.funding.dedicated.value == "does-not-have"
    assert profile.partnerships.internal_only
    assert profile.partnerships.internal_only.value is True
    assert profile.policy_focus.prioritises
    assert profile.policy_focus.prioritises.value is False
    assert profile.policy_focus.areas == ()
    assert parsed.unmapped == ()


def test_no_dedicated_team(seed_text: str, options: SurveyOptions) -> None:
    start = seed_text.index("Liverpool City Region utilizes")
    end = seed_text.index("Terms Liverpool")
    text = (
        seed_text[:start]
        + "Innovation skills or roles\n\nLiverpool City Region does not have a dedicated team for innovation. Instead, each directorate leads its own work.\n\n"
        + seed_text[end:]
    )
    parsed = parse_text(text, options)
    placement = parsed.profile.placement
    assert placement
    assert placement.kind == "no-dedicated-team"
    assert placement.dedicated_team
    assert placement.dedicated_team.value is False
    assert parsed.profile.roles.stated_count is None
    assert parsed.unmapped == ()


def test_cut_page_is_marked_truncated(seed_text: str, options: SurveyOptions) -> None:
    text = seed_text[:2000]
    parsed = parse_text(text, options)
    assert parsed.profile.truncated_at == len(text.splitlines())
    assert [c.number for c in parsed.unmapped] in ([], [parsed.profile.truncated_at])


def test_cut_inside_a_heading_is_template(seed_text: str, options: SurveyOptions) -> None:
    text = seed_text[: seed_text.index("Terms Liverpool") + len("Terms Liverpool Ci")]
    parsed = parse_text(text, options)
    assert parsed.unmapped == ()
    last = parsed.lines[-1]
    assert (last.kind, last.field) == ("template", "truncated_heading")


def test_flattened_rendering_best_effort(seed_text: str, options: SurveyOptions) -> None:
    """Headings gone, list items and sentences kept (SURVEY.md §4.2)."""
    keep = [
        "Improve resident outcomes",
        "Dedicated funding",
        "Focus on measurement",
        "United Kingdom",
        "Steve Rotheram",
        "1,530,000 (2018)",
        "John Whaling",
        "Improve resident outcomes",
        "Dedicated funding",
        "Focus on measurement",
        seed_text.splitlines()[42],
        seed_text.splitlines()[62],
        "Like 81% of cities surveyed, Liverpool City Region has dedicated funding to support innovation capacity.",
        "Liverpool City Region also invests in digital systems and physical infrastructure.",
        seed_text.splitlines()[146],
        seed_text.splitlines()[148],
    ]
    parsed = parse_text("\n".join(keep) + "\n", options)
    profile = parsed.profile
    assert profile.rendering == "flattened"
    assert [c.option for c in profile.goals] == ["improve-resident-outcomes"]
    assert [c.option for c in profile.success_factors] == [
        "dedicated-funding",
        "focus-on-measurement",
    ]
    assert profile.header.mayor
    assert profile.header.mayor.name == "Steve Rotheram"
    assert profile.header.country
    assert profile.header.country.value == "United Kingdom"
    assert [p.name for p in profile.header.lead_officers] == ["John Whaling"]
    assert profile.strategy
    assert profile.strategy.value == "has"
    assert [c.option for c in profile.funding.invests_in] == [
        "investing-in-digital-systems",
        "investing-in-physical-infrastructure",
    ]
    assert len(profile.partnerships.data_partner_types) == 4
    assert profile.truncated_at is None
    assert parsed.unmapped == ()


def test_flattened_unknown_lines_are_reported(options: SurveyOptions) -> None:
    parsed = parse_text("Improve service delivery\nSomething the city wrote\n", options)
    assert [(c.number, c.text) for c in parsed.unmapped] == [(2, "Something the city wrote")]


@pytest.mark.parametrize(
    ("data", "line", "expected"),
    [
        (b"", 1, "empty file"),
        (b"\n\n  \n", 1, "empty file"),
        (b"Mayor\n\nA\x00B\n", 3, "binary data"),
        (b"Innovation is helping to:\n  \xe2\x80\xa2 Grow\n\xff\xfe bad\n", 3, "not valid UTF-8"),
        (
            b"Dear reader,\nthis is a letter, not a profile.\n",
            1,
            "expected an innovation-capacity profile",
        ),
    ],
)
def test_bad_input_names_the_line(
    data: bytes, line: int, expected: str, options: SurveyOptions
) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_bytes(data, "bad.txt", options)
    assert caught.value.line == line
    assert expected in caught.value.expected
    assert str(caught.value).startswith(f"bad.txt:{line}: ")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_any_text_gives_a_record_or_a_profile_error(text: str) -> None:
    from innograph.pipeline import survey_options

    try:
        parsed = parse_bytes(text.encode("utf-8"), "fuzz.txt", survey_options())
    except ProfileError as error:
        assert error.line >= 1
        assert error.source == "fuzz.txt"
    else:
        assert len(parsed.lines) == parsed.profile.line_count


PIECES = st.sampled_from(
    [
        "Innovation is helping to:",
        "  • Improve service delivery",
        "Critical success factors:",
        "Spotlight on innovation in X",
        "Vision and approach to innovation capacity",
        "Along with 50% of cities surveyed, X has an explicit innovation strategy.",
        "Policy areas that X is focused on",
        "Health",
        "X utilizes 3 different innovation skills or roles",
        "Innovation roles by number of cities",
        "Terms X most associates with innovation",
        "X's most common innovation activities",
        "  1. 1",
        "    Human-centered design",
        "How is innovation funded here?",
        "Top sources of funding",
        "Activities being funded",
        "47 cities",
        "Data availability by policy area",
        "5",
        "Sufficient data",
        "",
        "1,000 (2018)",
        "Mayor",
        "Lead Innovation Officers",
        "A (b), C",
        "Situated in the Mayor’s office, X.",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=40))
def test_shuffled_template_pieces_never_crash(pieces: list[str]) -> None:
    from innograph.pipeline import survey_options

    try:
        parsed = parse_bytes("\n".join(pieces).encode(), "pieces.txt", survey_options())
    except ProfileError as error:
        assert error.line >= 1
    else:
        assert all(c.kind in {"mapped", "template", "blank", "unmapped"} for c in parsed.lines)
