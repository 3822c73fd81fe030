"""Small losses of issue 12, made from the seed: a count in a cut heading, unit names as the
page prints them (full stop, non-breaking space), job titles, several units with their teams."""

from __future__ import annotations

import pytest

from innograph.parsing import parse_profile
from innograph.parsing.frames import unit_teams
from innograph.records import Profile, Sourced, Span, SurveyOptions

ROLES_HEADING = "Liverpool City Region utilizes 3 different innovation skills or roles"
PLACEMENT = (
    "Situated in the Policy and Strategic Commissioning Directorate, the City Region’s"
    " Innovation and Commercialisation Lead Officer works across the Commercial Investment and"
    " Development Directorate and is ultimately accountable to the Metro Mayor."
)


@pytest.fixture(scope="module")
def seed_text(seed_bytes: bytes) -> str:
    return seed_bytes.decode("utf-8")


def parse(text: str, options: SurveyOptions) -> Profile:
    return parse_profile(text, "seed.txt", options).profile


def cut_at(text: str, line: str, keep: int) -> str:
    """The page up to ``line``, of which only the first ``keep`` characters are left."""
    head, found, _ = text.partition(line)
    assert found
    return head + line[:keep] + "\n"


def with_placement(text: str, paragraph: str) -> str:
    assert PLACEMENT in text
    return text.replace(PLACEMENT, paragraph, 1)


def units(profile: Profile) -> list[str]:
    assert profile.placement is not None
    return [unit.value for unit in profile.placement.units]


def test_count_in_a_roles_heading_cut_short_is_kept(seed_text: str, options: SurveyOptions) -> None:
    text = cut_at(seed_text, ROLES_HEADING, len("Liverpool City Region utilizes 3 different innov"))
    parsed = parse_profile(text, "seed.txt", options)
    stated = parsed.profile.roles.stated_count
    last = len(text.splitlines())
    assert stated is not None
    assert (stated.value, stated.span.first) == (3, last)
    assert parsed.profile.truncated_at == last
    assert parsed.profile.roles.roles == ()
    assert parsed.unmapped == ()


@pytest.mark.parametrize(
    "keep",
    [
        len("Liverpool City Region utilizes 3"),  # "3" may be the start of "30"
        len("Liverpool City Region util"),
    ],
)
def test_no_count_is_read_from_a_heading_cut_at_or_before_it(
    seed_text: str, options: SurveyOptions, keep: int
) -> None:
    assert parse(cut_at(seed_text, ROLES_HEADING, keep), options).roles.stated_count is None


def test_unit_names_lose_the_full_stop_and_the_non_breaking_space(
    seed_text: str, options: SurveyOptions
) -> None:
    paragraph = "Situated in the Office of\u00a0Innovation and Delivery."
    profile = parse(with_placement(seed_text, paragraph), options)
    assert units(profile) == ["Office of Innovation and Delivery"]
    assert profile.placement is not None
    assert profile.placement.text.value == paragraph  # the printed form is kept


def test_a_job_title_is_not_a_unit(seed_text: str, options: SurveyOptions) -> None:
    paragraph = (
        "Innovation work is led by the Mayor’s Office Director and sits in the Finance Department."
    )
    assert units(parse(with_placement(seed_text, paragraph), options)) == ["Finance Department"]


ROLE = "Economic development advisor"


def test_a_cut_last_list_item_is_kept_as_cut_text_not_as_an_answer(
    seed_text: str, options: SurveyOptions
) -> None:
    parsed = parse_profile(cut_at(seed_text, ROLE, len("Economic development adv")), "s", options)
    profile, last = parsed.profile, len(seed_text.partition(ROLE)[0].splitlines()) + 1
    assert profile.truncated_at == last
    assert [role.wording for role in profile.roles.roles] == [
        "Communication officer",
        "Relationship management",
    ]
    assert profile.cut_item is not None
    assert (profile.cut_item.field, profile.cut_item.text) == (
        "roles.roles",
        "Economic development adv",
    )
    assert profile.cut_item.span.first == last
    assert parsed.lines[last - 1].field == "cut_item"


def test_an_option_where_the_page_is_cut_is_whole(seed_text: str, options: SurveyOptions) -> None:
    text = cut_at(seed_text, "Communication officer", len("Communication officer"))
    profile = parse(text, options)
    assert [role.option for role in profile.roles.roles] == ["communication-officer"]
    assert profile.cut_item is None


TWO_TEAMS = (
    "Situated in the Finance Department, the Smart City team consists of 6 staff. The"
    " Transformation and Innovation team, made up of 9 staff, also works on innovation."
)


def test_each_unit_keeps_its_own_team_size(seed_text: str, options: SurveyOptions) -> None:
    profile = parse(with_placement(seed_text, TWO_TEAMS), options)
    assert profile.placement is not None
    assert [(t.unit, t.staff) for t in profile.placement.teams] == [
        ("Smart City team", 6),
        ("Transformation and Innovation team", 9),
    ]
    assert profile.placement.team_size is not None
    assert profile.placement.team_size.value == 6  # the first, as before


@pytest.mark.parametrize(
    "paragraph",
    [
        "Situated in the Mayor’s office, the dedicated team for innovation consists of 4 staff.",
        "The innovation office is standalone; the Office now consists of 12 staff.",
        "Situated in the Mayor’s office, the team led by the Director of Innovation consists of 6 staff.",
    ],
)
def test_an_unnamed_team_is_no_unit(seed_text: str, options: SurveyOptions, paragraph: str) -> None:
    profile = parse(with_placement(seed_text, paragraph), options)
    assert profile.placement is not None
    assert profile.placement.teams == ()
    assert profile.placement.team_size is not None


@pytest.mark.parametrize(
    ("paragraph", "teams"),
    [
        # a name does not run across a sentence's end, and a person's staff is no unit
        (
            "It reports to the Office of the CIO. Chief Innovation Officer Jane Smith's staff"
            " of 4 run it.",
            [],
        ),
        # the office the possessive names is the unit, not its last word
        ("The Mayor's Office team consists of 6 staff.", [("Mayor's Office team", 6)]),
        ("Toronto's Smart City team consists of 6 staff.", [("Smart City team", 6)]),
        ("Good. Then the Data Lab consists of 3 staff.", [("Data Lab", 3)]),
    ],
)
def test_a_staff_count_names_a_unit_only_when_a_unit_is_named(
    paragraph: str, teams: list[tuple[str, int]]
) -> None:
    found = unit_teams([Sourced(paragraph, Span.line(1))])
    assert [(t.unit, t.staff) for t in found] == teams
