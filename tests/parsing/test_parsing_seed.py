"""The seed profile, field by field: what the page says is exactly what the record holds."""

from __future__ import annotations

import dataclasses
import json

import pytest

from conftest import TESTS
from innograph.parsing import parse_bytes
from innograph.records import ParsedProfile, Profile, SurveyOptions

GOLDEN = TESTS / "golden" / "liverpool-city-region.json"


@pytest.fixture(scope="module")
def parsed(seed_bytes: bytes, options: SurveyOptions) -> ParsedProfile:
    return parse_bytes(seed_bytes, "liverpool-city-region.txt", options)


@pytest.fixture(scope="module")
def seed(parsed: ParsedProfile) -> Profile:
    return parsed.profile


def wordings(choices) -> list[tuple[str, str | None, int]]:  # type: ignore[no-untyped-def]
    return [(c.wording, c.option, c.span.first) for c in choices]


def test_every_line_is_accounted_for(parsed: ParsedProfile) -> None:
    assert parsed.profile.line_count == 196
    assert len(parsed.lines) == 196
    assert parsed.unmapped == ()
    assert {c.kind for c in parsed.lines} == {"mapped", "template", "blank"}


def test_header(seed: Profile) -> None:
    header = seed.header
    assert header.display_name
    assert header.display_name.value == "Liverpool City Region"
    assert header.country
    assert header.country.value == "United Kingdom"
    assert header.mayor
    assert (header.mayor.name, header.mayor.span.first) == ("Steve Rotheram", 7)
    assert header.population
    assert header.population.value == 1_530_000
    assert header.population_year
    assert header.population_year.value == 2018
    assert header.website_link is None
    assert [(p.name, p.note, p.span.first) for p in header.lead_officers] == [
        ("John Whaling", None, 15)
    ]
    assert seed.rendering == "headed"
    assert seed.truncated_at is None
    assert seed.source_url is None


def test_goals_one_option_two_in_the_citys_words(seed: Profile) -> None:
    assert wordings(seed.goals) == [
        ("Improve resident outcomes", "improve-resident-outcomes", 18),
        ("Maximise competitive strengths and lever associated investment", None, 20),
        ("Deliver approaches/ solutions to industry", None, 22),
    ]


def test_success_factors_in_page_order(seed: Profile) -> None:
    assert wordings(seed.success_factors) == [
        ("Dedicated funding", "dedicated-funding", 25),
        ("Focus on measurement", "focus-on-measurement", 27),
        ("Dedicated innovation team", "dedicated-innovation-team", 29),
        (
            "Support from outside city administration",
            "support-from-outside-city-administration",
            31,
        ),
        ("Engagement with partners", "engagement-with-partners", 33),
        ("Leadership from Metro Mayor", "leadership-from-mayor", 35),
    ]


def test_spotlight_and_survey_wave(seed: Profile) -> None:
    assert len(seed.spotlight) == 1
    block = seed.spotlight[0]
    assert block.kind == "paragraph"
    assert block.items[0].value.startswith("Liverpool City Region is delivering one of Europe's")
    assert block.items[0].span.first == 39
    assert seed.survey.site_version == "updated"
    assert seed.survey.wave == 2020
    assert seed.survey.snapshot_note_year is None


def test_strategy_and_approach_with_their_shares(seed: Profile) -> None:
    assert seed.strategy
    assert (seed.strategy.value, seed.strategy.share) == ("has", "50%")
    assert seed.strategy.share_percent == 50
    assert seed.approach
    assert (seed.approach.value, seed.approach.share_percent) == (
        "specific-policy-areas",
        24,
    )
    assert seed.vision_notes == ()


def test_policy_areas_and_their_narratives(seed: Profile) -> None:
    focus = seed.policy_focus
    assert focus.prioritises
    assert focus.prioritises.value is True
    assert wordings(focus.areas) == [
        ("Health", "health", 47),
        ("Economic Development", "economic-development", 48),
    ]
    assert [(n.label, n.area, n.span.first) for n in focus.narratives] == [
        ("Economic development", "Economic Development", 50),
        ("Health", "Health", 52),
    ]
    assert focus.narratives[0].text.startswith("The Hartree Centre (part of the national")
    assert focus.narratives[1].text.endswith("establish a manufacturing and R&D capability.")


def test_roles_count_kept_apart_from_the_list(seed: Profile) -> None:
    assert seed.roles.stated_count
    assert seed.roles.stated_count.value == 3
    assert wordings(seed.roles.roles) == [
        ("Communication officer", "communication-officer", 58),
        ("Relationship management", None, 59),
        ("Economic development advisor", None, 60),
    ]


def test_placement(seed: Profile) -> None:
    placement = seed.placement
    assert placement is not None
    assert placement.text.span.first == 63
    assert [u.value for u in placement.units] == [
        "Policy and Strategic Commissioning Directorate",
        "Commercial Investment and Development Directorate",
    ]
    assert placement.accountable_to
    assert placement.accountable_to.value == "Metro Mayor"
    assert placement.kind == "within-another-department"
    assert placement.team_size is None
    assert placement.dedicated_team is None


def test_terms_and_the_citys_own_activities(seed: Profile) -> None:
    assert wordings(seed.terms) == [
        ("Big picture re-thinking", "big-picture-re-thinking", 67),
        ("Co-ordination and relationship management", None, 68),
    ]
    assert wordings(seed.activities.selected) == [
        ("Taking risks and testing new ideas", "taking-risks-and-testing-new-ideas", 72),
        (
            "Promoting data-driven analytics / public data management",
            "promoting-data-driven-analytics-public-data-management",
            74,
        ),
        (
            "Developing new solutions based on digital technologies",
            "developing-new-solutions-based-on-digital-technologies",
            76,
        ),
    ]
    assert seed.activities.also_include is None


def test_numbered_activity_list_is_template_not_the_citys(parsed: ParsedProfile) -> None:
    kinds = {c.number: (c.kind, c.field) for c in parsed.lines}
    for number in (78, 80, 96, 104):
        assert kinds[number] == ("template", "activities.numbered_list")


def test_funding(seed: Profile) -> None:
    funding = seed.funding
    assert funding.dedicated
    assert (funding.dedicated.value, funding.dedicated.share) == (
        "has",
        "81%",
    )
    assert [
        (s.choice.wording, s.choice.option, s.definition is not None) for s in funding.sources
    ] == [
        (
            "International/multilateral institution budget",
            "international-multilateral-institution-budget",
            True,
        ),
        (
            "Central/federal/national government budget",
            "central-federal-national-government-budget",
            True,
        ),
        ("Municipal budget", "municipal-budget", True),
        ("External funding", "external-funding", True),
        ("Non-financial resources", "non-financial-resources", True),
    ]
    assert funding.sources[3].definition
    assert funding.sources[3].definition.value == (
        "This could include private, philanthropic/non-profit and/or academic/think tank resources."
    )
    assert wordings(funding.funded_activities) == [
        ("Investing in digital systems", "investing-in-digital-systems", 130),
        ("Investing in physical infrastructure", "investing-in-physical-infrastructure", 131),
    ]
    assert [(r.value, r.span.first) for r in funding.chart_residue][:3] == [
        ("47 cities", 132),
        ("Launching or sustaining a project", 133),
        ("79 cities", 134),
    ]
    assert len(funding.chart_residue) == 10
    assert funding.invests_in == ()


def test_partnerships_and_data_partnerships(seed: Profile) -> None:
    partnerships = seed.partnerships
    assert [c.option for c in partnerships.partner_types] == [
        "other-public-agencies",
        "private-firms",
        "not-for-profit-organizations",
    ]
    assert [c.option for c in partnerships.data_partner_types] == [
        "private-sector",
        "academia",
        "think-tanks",
        "other-cities",
    ]
    assert partnerships.internal_only is None


def test_data_availability_split(seed: Profile) -> None:
    data = seed.data_availability
    assert [c.value for c in data.stated_counts] == [5, 14]
    assert len(data.sufficient) == 5
    assert len(data.insufficient) == 14
    assert data.sufficient[0].wording == "Transport/Mobility"
    assert data.insufficient[-1].wording == "Built environment"
    assert all(c.option for c in data.sufficient + data.insufficient)


def test_whole_record_matches_the_reviewed_golden_file(seed: Profile) -> None:
    """Any change to any field shows up here; the golden file was checked against the page."""
    record = json.loads(json.dumps(dataclasses.asdict(seed), ensure_ascii=False))
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert record == golden
