"""Profile text to records. No file I/O: callers pass bytes or text and a source name.

>>> from innograph.records import SurveyOptions
>>> parsed = parse_profile("Innovation is helping to:\\n  • Grow\\n", "x.txt", SurveyOptions({}))
>>> parsed.profile.goals[0].wording, parsed.profile.goals[0].option
('Grow', None)
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..errors import ProfileError
from ..records import (
    DataAvailability,
    ParsedProfile,
    Partnerships,
    PolicyFocus,
    Profile,
    Sourced,
    Span,
    SurveyOptions,
)
from . import frames
from .flat import read_flat
from .headed import CUT_HEADINGS, HeadedReader, Section, heading_of, split_sections
from .ledger import Ledger
from .text import decode, split_lines

__all__ = ["ProfileError", "decode", "parse_bytes", "parse_profile"]

SOURCE_LINE = re.compile(r"^# source: (?P<url>\S+)$")
# Generated scale-test profiles say so on their first line (see innograph.synth).
SYNTHETIC_LINE = re.compile(r"^# synthetic: (?P<note>.+)$")


def parse_bytes(data: bytes, source: str, options: SurveyOptions) -> ParsedProfile:
    """Decode and parse; raises ProfileError (file, line, expectation) for unreadable input."""
    return parse_profile(decode(data, source), source, options)


def parse_profile(text: str, source: str, options: SurveyOptions) -> ParsedProfile:
    lines = split_lines(text)
    if not any(line.strip() for line in lines):
        raise ProfileError(source, 1, "expected profile text, found only blank lines")
    ledger = Ledger(lines)
    first = 1
    source_url = None
    first_text = next(n for n, line in enumerate(lines, start=1) if line.strip())
    synthetic = None
    match = SOURCE_LINE.match(lines[first_text - 1].strip())
    marker = SYNTHETIC_LINE.match(lines[first_text - 1].strip())
    if match:
        ledger.mapped(first_text, "source_url")
        source_url = Sourced(match.group("url"), Span.line(first_text))
        first = first_text + 1
    elif marker:
        ledger.mapped(first_text, "synthetic")
        synthetic = Sourced(marker.group("note"), Span.line(first_text))
        first = first_text + 1
    if any(heading_of(line) and not frames.NOTE.match(line.strip()) for line in lines):
        profile = _read_headed(ledger, first, options, source)
    else:
        profile = _read_flattened(ledger, first, options, source)
    classes = ledger.classes()
    if not any(c.kind == "mapped" and c.field not in {"source_url", "synthetic"} for c in classes):
        raise ProfileError(
            source,
            first_text,
            "expected an innovation-capacity profile (a heading such as 'Innovation is helping"
            " to:' or a profile sentence), found none",
        )
    return ParsedProfile(replace(profile, source_url=source_url, synthetic=synthetic), classes)


def _heading_name(sections: list[Section]) -> Sourced[str] | None:
    for section in sections:
        if section.match is not None and "name" in section.match.groupdict():
            return Sourced(section.match.group("name"), Span.line(section.heading_line))
    return None


def _drop_cut_heading(ledger: Ledger, sections: list[Section], name: str | None) -> int | None:
    """A page cut inside a heading ("Terms Akron most assoc"): take that line as template."""
    last = max((n for n in range(1, len(ledger.lines) + 1) if ledger.text(n).strip()), default=0)
    if not sections or last not in sections[-1].body:
        return None
    text = frames.straight(ledger.text(last).strip())
    count = re.match(r"^.+ utilizes (\d+)", text)
    headings = (
        *CUT_HEADINGS,
        f"{{name}} utilizes {count.group(1) if count else 0} different innovation skills or roles",
        "Innovation skills or roles",
    )
    for heading in headings:
        full = heading.format(name=name or "")
        if "{name}" in heading and not name:
            continue
        if len(text) >= 4 and full.startswith(text) and full != text:
            sections[-1].body.remove(last)
            ledger.template(last, "truncated_heading")
            return last
    return None


def _read_headed(ledger: Ledger, first: int, options: SurveyOptions, source: str) -> Profile:
    header_lines, sections = split_sections(ledger, first)
    name = _heading_name(sections)
    _drop_cut_heading(ledger, sections, name.value if name else None)
    by_key: dict[str, Section] = {}
    for section in sections:
        by_key.setdefault(section.key, section)
    reader = HeadedReader(ledger, options)
    header = reader.header(header_lines, name)

    def body_of(key: str) -> Section | None:
        return by_key.get(key)

    goals = reader.bullets(by_key["goals"], "goals", "goals") if "goals" in by_key else ()
    factors = (
        reader.bullets(by_key["success_factors"], "success-factors", "success_factors")
        if "success_factors" in by_key
        else ()
    )
    spotlight = reader.spotlight(by_key["spotlight"]) if "spotlight" in by_key else ()
    note = None
    if "note" in by_key:
        number = by_key["note"].heading_line
        ledger.mapped(number, "survey.snapshot_note_year")
        note = Sourced(frames.note_year(ledger.text(number)) or 0, Span.line(number))
    strategy = approach = None
    vision_notes: tuple[Sourced[str], ...] = ()
    policy_extra: list[int] = []
    if (vision := body_of("vision")) is not None:
        policy_extra = [n for n in vision.body if frames.no_priority(ledger.text(n).strip())]
        vision.body = [n for n in vision.body if n not in policy_extra]
        strategy, approach, vision_notes = reader.vision(vision)
    if (chart := body_of("policy_chart")) is not None:
        policy_extra += chart.body
    policy = reader.policy_focus(body_of("policy_focus"), policy_extra)
    roles, paragraphs = reader.roles(by_key["roles"]) if "roles" in by_key else (None, [])
    if (roles_chart := body_of("roles_chart")) is not None:
        paragraphs += [
            Sourced(ledger.text(n).strip(), Span.line(n)) for n in reader.nonblank(roles_chart.body)
        ]
    placement = reader.placement(paragraphs)
    terms = (
        reader.plain_list(reader.nonblank(by_key["terms"].body), "terms", "terms")
        if "terms" in by_key
        else ()
    )
    activities = reader.activities(by_key["activities"]) if "activities" in by_key else None
    funding = reader.funding(by_key)
    partnerships = _measured(reader, body_of("measured"), options)
    data = (
        reader.data_availability(by_key["data_availability"])
        if "data_availability" in by_key
        else DataAvailability()
    )
    complete = _data_lists_complete(data)
    # The note stands between the spotlight and the vision: only a page that shows both can
    # say by its absence that the city is a 2020 respondent.
    note_visible = "spotlight" in by_key and "vision" in by_key
    survey = frames.survey_context(strategy, approach, note, funding.dedicated, note_visible)
    profile = Profile(
        source=source,
        line_count=len(ledger.lines),
        rendering="headed",
        truncated_at=None if complete else _last_line(ledger),
        header=header,
        goals=goals,
        success_factors=factors,
        spotlight=spotlight,
        survey=survey,
        strategy=strategy,
        approach=approach,
        vision_notes=vision_notes,
        policy_focus=policy,
        terms=terms,
        funding=funding,
        partnerships=partnerships,
        data_availability=data,
        placement=placement,
    )
    if roles is not None:
        profile = replace(profile, roles=roles)
    if activities is not None:
        profile = replace(profile, activities=activities)
    return profile


def _measured(
    reader: HeadedReader, section: Section | None, options: SurveyOptions
) -> Partnerships:
    result = Partnerships()
    if section is None:
        return result
    for number in reader.nonblank(section.body):
        line, span = reader.text(number), Span.line(number)
        if (items := frames.partnerships(line, span, options)) is not None:
            reader.ledger.mapped(number, "partnerships.partner_types")
            result = replace(result, sentence=Sourced(line, span), partner_types=items)
        elif frames.internal_only(line):
            reader.ledger.mapped(number, "partnerships.internal_only")
            result = replace(
                result, sentence=Sourced(line, span), internal_only=Sourced(True, span)
            )
        elif (items := frames.data_partnerships(line, span, options)) is not None:
            reader.ledger.mapped(number, "partnerships.data_partner_types")
            result = replace(result, data_sentence=Sourced(line, span), data_partner_types=items)
    return result


def _data_lists_complete(data: DataAvailability) -> bool:
    """The page reached its end: the data-availability lists are there and, where the page
    states their lengths, no list is shorter than stated (a cut page stops inside them)."""
    if not (data.sufficient or data.insufficient):
        return False
    stated = [count.value for count in data.stated_counts]
    listed = [len(data.sufficient), len(data.insufficient)]
    return len(stated) != 2 or all(have >= want for have, want in zip(listed, stated, strict=True))


def _last_line(ledger: Ledger) -> int:
    return max(n for n in range(1, len(ledger.lines) + 1) if ledger.text(n).strip())


def _read_flattened(ledger: Ledger, first: int, options: SurveyOptions, source: str) -> Profile:
    flat = read_flat(ledger, first, options)
    complete = flat.partnerships.data_sentence is not None
    survey = frames.survey_context(
        flat.strategy,
        flat.approach,
        flat.note,
        flat.funding.dedicated,
        bool(flat.goals or flat.success_factors) and flat.strategy is not None,
    )
    return Profile(
        source=source,
        line_count=len(ledger.lines),
        rendering="flattened",
        truncated_at=None if complete else _last_line(ledger),
        header=flat.header,
        goals=tuple(flat.goals),
        success_factors=tuple(flat.success_factors),
        survey=survey,
        strategy=flat.strategy,
        approach=flat.approach,
        policy_focus=PolicyFocus(),
        placement=flat.placement,
        activities=flat.activities,
        funding=flat.funding,
        partnerships=flat.partnerships,
    )
