"""Profile text to records. No file I/O: callers pass bytes or text and a source name.

>>> from innograph.records import SurveyOptions
>>> text = "Innovation is helping to:\\n  • Grow\\n  • Save\\n"
>>> parsed = parse_profile(text, "x.txt", SurveyOptions({}))
>>> parsed.profile.goals[0].wording, parsed.profile.goals[0].option
('Grow', None)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from ..errors import ProfileError
from ..records import (
    Choice,
    CutItem,
    DataAvailability,
    FundingSource,
    ParsedProfile,
    Partnerships,
    Placement,
    PolicyFocus,
    Profile,
    Roles,
    Sourced,
    Span,
    Statement,
    SurveyOptions,
    normalise,
)
from . import damage, frames
from .flat import read_flat, read_partnership_line
from .headed import (
    HEADER_LABELS,
    HeadedReader,
    Section,
    heading_of,
    split_sections,
)
from .ledger import Ledger
from .text import decode, split_lines

__all__ = ["ProfileError", "decode", "parse_bytes", "parse_profile"]

SOURCE_LINE = re.compile(r"^# source: (?P<url>\S+)$")
# Generated scale-test profiles say so on their first line (see innograph.synth).
SYNTHETIC_LINE = re.compile(r"^# synthetic: (?P<note>.+)$")


# A roles heading cut after its count: the number is whole when a space follows it.
CUT_ROLES_COUNT = re.compile(r"^.+ utilizes (?P<count>\d+) ")


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
    damage.check_one_profile(ledger, first_text, source)
    if any(_is_headed(line) for line in lines):
        profile = _read_headed(ledger, first, first_text, options, source)
    else:
        damage.check_flat(ledger, first_text, options, source)
        profile = _read_flattened(ledger, first, options, source)
    if profile.truncated_at is None and _ends_inside_an_option(
        profile, text, _last_line(ledger), options
    ):
        profile = replace(profile, truncated_at=_last_line(ledger))
    profile = _set_aside_cut_item(profile, ledger)
    classes = ledger.classes()
    if not any(c.kind == "mapped" and c.field not in {"source_url", "synthetic"} for c in classes):
        raise ProfileError(
            source,
            first_text,
            "expected an innovation-capacity profile (a heading such as 'Innovation is helping"
            " to:' or a profile sentence), found none",
        )
    return ParsedProfile(replace(profile, source_url=source_url, synthetic=synthetic), classes)


# The lists whose last item a cut page may end inside, by their path in the record, with the
# scheme their options come from: every list of answers the mapping turns into concepts.
CUT_LISTS: dict[tuple[str, ...], str] = {
    ("goals",): "goals",
    ("success_factors",): "success-factors",
    ("policy_focus", "areas"): "policy-areas",
    ("roles", "roles"): "roles",
    ("terms",): "terms",
    ("activities", "selected"): "activities",
    ("activities", "also_include_items"): "activities",
    ("funding", "invests_in"): "funded-activities",
    ("funding", "sources"): "funding-sources",
    ("funding", "funded_activities"): "funded-activities",
    ("partnerships", "partner_types"): "partner-types",
    ("partnerships", "data_partner_types"): "data-partner-types",
    ("data_availability", "sufficient"): "policy-areas",
    ("data_availability", "insufficient"): "policy-areas",
}


def _choice(item: object) -> Choice:
    """A list item's answer (a funding source carries its choice and its definition)."""
    return item.choice if isinstance(item, FundingSource) else item  # type: ignore[return-value]


def _last_items(profile: Profile) -> Iterator[tuple[tuple[str, ...], list[object], Choice]]:
    """Each list's path, the records that hold it (profile first) and its last answer."""
    for path in CUT_LISTS:
        owners: list[object] = [profile]
        for name in path[:-1]:
            owners.append(getattr(owners[-1], name))
        items = getattr(owners[-1], path[-1])
        if items:
            yield path, owners, _choice(items[-1])


def _ends_inside_an_option(profile: Profile, text: str, last: int, options: SurveyOptions) -> bool:
    """A page whose lists look complete but whose text stops, without a final line break, in
    the middle of a survey option ("Built en"): it is cut there too."""
    if text.endswith(("\n", "\r")):
        return False
    for path, _, choice in _last_items(profile):
        key = normalise(choice.wording)
        if choice.span.last != last or choice.option is not None or len(key) < 2:
            continue
        labels = options.schemes.get(CUT_LISTS[path], {})
        if any(label.startswith(key) and label != key for label in labels):
            return True
    return False


def _set_aside_cut_item(profile: Profile, ledger: Ledger) -> Profile:
    """On a page cut short, a last list item that is no survey option may be cut mid-word
    ("Data sci", a funding source "Municipa"): it leaves its list and is kept as a cut item
    (an option is whole)."""
    last = profile.truncated_at
    for path, owners, choice in _last_items(profile):
        if choice.span.last != last or choice.option is not None:
            continue
        ledger.mapped(choice.span.first, "cut_item")
        value: object = getattr(owners[-1], path[-1])[:-1]
        for owner, name in reversed(list(zip(owners, path, strict=True))):
            value = replace(owner, **{name: value})  # type: ignore[type-var]
        assert isinstance(value, Profile)
        cut = CutItem(".".join(path), choice.wording, choice.span)
        return replace(value, cut_item=cut)
    return profile


def _is_headed(line: str) -> bool:
    """A template heading or a header label: only the headed rendering prints them."""
    text = line.strip()
    return bool(heading_of(line) and not frames.NOTE.match(text)) or text in HEADER_LABELS


def _heading_name(sections: list[Section]) -> Sourced[str] | None:
    for section in sections:
        if section.match is not None and "name" in section.match.groupdict():
            return Sourced(section.match.group("name"), Span.line(section.heading_line))
    return None


def _drop_cut_heading(ledger: Ledger, sections: list[Section], name: str | None) -> Roles | None:
    """A page cut inside a heading ("Terms Akron most assoc"): take that line as template.
    A roles heading cut after its count ("Akron utilizes 4 different innovation ") still
    states the count: the roles it returns."""
    last = max((n for n in range(1, len(ledger.lines) + 1) if ledger.text(n).strip()), default=0)
    if not sections or last not in sections[-1].body:
        return None
    if damage.cut_heading_of(ledger.text(last), name) is None:
        return None
    sections[-1].body.remove(last)
    ledger.template(last, "truncated_heading")
    count = CUT_ROLES_COUNT.match(frames.straight(ledger.text(last).strip()))
    if count is None:
        return None
    ledger.mapped(last, "roles.stated_count")
    return Roles(Sourced(int(count.group("count")), Span.line(last)))


def _read_headed(
    ledger: Ledger, first: int, first_text: int, options: SurveyOptions, source: str
) -> Profile:
    """The headed rendering: split at the headings, refuse a second profile or section, cut
    each section where lines of another begin, then read each section by its key."""
    header_lines, sections = split_sections(ledger, first)
    damage.check_headed(ledger, header_lines, sections, first_text, options, source)
    name = _heading_name(sections)
    cut_roles = _drop_cut_heading(ledger, sections, name.value if name else None)
    header_lines = damage.trim_header(ledger, header_lines, options)
    last = _last_line(ledger)
    for section in sections:
        damage.trim_foreign(ledger, section, options, last, name.value if name else None)
    by_key: dict[str, Section] = {}
    for section in sections:
        by_key.setdefault(section.key, section)
    reader = HeadedReader(ledger, options)
    header = reader.header(header_lines, name)
    goals = _bullets(reader, by_key.get("goals"), "goals", "goals")
    factors = _bullets(reader, by_key.get("success_factors"), "success-factors", "success_factors")
    spotlight = reader.spotlight(by_key["spotlight"]) if "spotlight" in by_key else ()
    note = _snapshot_note(ledger, by_key.get("note"))
    strategy, approach, vision_notes, policy = _vision_and_policy(reader, by_key)
    roles, placement = _roles_and_placement(reader, by_key)
    roles = roles or cut_roles
    terms = _terms(reader, by_key.get("terms"))
    activities = reader.activities(by_key["activities"]) if "activities" in by_key else None
    funding = reader.funding(by_key)
    partnerships = _measured(reader, by_key.get("measured"), options)
    data = _data_availability(reader, by_key.get("data_availability"))
    # The note stands between the spotlight and the vision: only a page that shows both can
    # say by its absence that the city is a 2020 respondent.
    note_visible = "spotlight" in by_key and "vision" in by_key
    survey = frames.survey_context(strategy, approach, note, funding.dedicated, note_visible)
    profile = Profile(
        source=source,
        line_count=len(ledger.lines),
        rendering="headed",
        truncated_at=None if _data_lists_complete(data) else _last_line(ledger),
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


def _bullets(
    reader: HeadedReader, section: Section | None, scheme: str, field_name: str
) -> tuple[Choice, ...]:
    return reader.bullets(section, scheme, field_name) if section is not None else ()


def _snapshot_note(ledger: Ledger, section: Section | None) -> Sourced[int] | None:
    """The snapshot note is a heading-like line of its own: its year, 0 if unreadable."""
    if section is None:
        return None
    number = section.heading_line
    ledger.mapped(number, "survey.snapshot_note_year")
    return Sourced(frames.note_year(ledger.text(number)) or 0, Span.line(number))


def _vision_and_policy(
    reader: HeadedReader, by_key: dict[str, Section]
) -> tuple[Statement | None, Statement | None, tuple[Sourced[str], ...], PolicyFocus]:
    """Strategy, approach, vision notes and the policy focus. A "does not prioritise" line
    printed under the vision, and the policy chart's residue, belong to the policy focus."""
    strategy = approach = None
    vision_notes: tuple[Sourced[str], ...] = ()
    policy_extra: list[int] = []
    if (vision := by_key.get("vision")) is not None:
        policy_extra = [n for n in vision.body if frames.no_priority(reader.text(n))]
        vision.body = [n for n in vision.body if n not in policy_extra]
        strategy, approach, vision_notes = reader.vision(vision)
    if (chart := by_key.get("policy_chart")) is not None:
        policy_extra += chart.body
    policy = reader.policy_focus(by_key.get("policy_focus"), policy_extra)
    return strategy, approach, vision_notes, policy


def _roles_and_placement(
    reader: HeadedReader, by_key: dict[str, Section]
) -> tuple[Roles | None, Placement | None]:
    """The roles; the paragraphs after them (also those under the roles chart) tell the
    placement."""
    roles, paragraphs = reader.roles(by_key["roles"]) if "roles" in by_key else (None, [])
    if (chart := by_key.get("roles_chart")) is not None:
        paragraphs += [Sourced(reader.text(n), Span.line(n)) for n in reader.nonblank(chart.body)]
    return roles, reader.placement(paragraphs)


def _terms(reader: HeadedReader, section: Section | None) -> tuple[Choice, ...]:
    if section is None:
        return ()
    return reader.plain_list(reader.nonblank(section.body), "terms", "terms")


def _data_availability(reader: HeadedReader, section: Section | None) -> DataAvailability:
    return reader.data_availability(section) if section is not None else DataAvailability()


def _measured(
    reader: HeadedReader, section: Section | None, options: SurveyOptions
) -> Partnerships:
    """The partnership sentences under "How is innovation measured?"."""
    result = Partnerships()
    if section is None:
        return result
    for number in reader.nonblank(section.body):
        found = read_partnership_line(reader.ledger, number, options, result)
        if found is not None:
            result = found
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
