"""The parser over the real profile fragments in ../shared/profiles/fragments.

Expected values are read at test time from SURVEY.md §6 ("Structured values per headed
fragment"), never copied here: those third-party texts stay in the shared folder. Each
(fragment, aspect) pair is its own test case, so a failure names the file and the field.
Known parser bugs are listed in KNOWN_PARSER_BUGS and run as strict xfails.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache

import pytest

from conftest import SHARED, SHARED_ABSENT
from innograph.parsing import parse_bytes
from innograph.pipeline import survey_options
from innograph.records import Choice, ParsedProfile, Person, Profile

FRAGMENTS = SHARED / "profiles" / "fragments"
SURVEY = SHARED / "survey" / "SURVEY.md"

if not FRAGMENTS.is_dir():
    pytest.skip(SHARED_ABSENT, allow_module_level=True)

FILES = sorted(path.name for path in FRAGMENTS.glob("*.txt"))
NOTE_LINE = re.compile(r"^Note: The City Innovation Snapshot \(PDF version\) was produced in \d{4}")
VISION_HEADING = "Vision and approach to innovation capacity"

# (file, aspect) -> why the parser disagrees with SURVEY.md; each runs as a strict xfail.
KNOWN_PARSER_BUGS: dict[tuple[str, str], str] = {}


def is_flat(name: str) -> bool:
    """Flattened or mid-page chunk copies, which SURVEY.md §6 does not summarise."""
    return "--flat" in name or "--chunk" in name


HEADED = [name for name in FILES if not is_flat(name)]
FLAT = [name for name in FILES if is_flat(name)]


@cache
def parse(name: str) -> ParsedProfile:
    return parse_bytes((FRAGMENTS / name).read_bytes(), name, survey_options())


def raw_lines(name: str) -> list[str]:
    return (FRAGMENTS / name).read_text(encoding="utf-8").splitlines()


def last_nonblank(name: str) -> int:
    lines = raw_lines(name)
    return max(number for number, line in enumerate(lines, start=1) if line.strip())


# --- SURVEY.md §6, read at test time ----------------------------------------------------------

CUT = "[cut]"
SEGMENT_KEY = re.compile(
    r"^(?P<key>[a-z][a-z ()/'.-]*?)(?: \((?P<count>\d+|None)\))?: (?P<value>.*)$"
)
CUT_HEADING = re.compile(r'^then the (?P<heading>.+?) heading, cut as "(?P<text>.+)"$')


@dataclass
class Bullet:
    """One "key (count): value" segment of a §6 bullet, with its "; "-separated continuation."""

    count: str | None
    parts: list[str]
    cut_heading: str | None = None

    @property
    def text(self) -> str:
        return "; ".join(self.parts)


@dataclass
class Expected:
    """What §6 states about one fragment, by key ("goals", "strategy", ...)."""

    file: str
    bullets: dict[str, Bullet] = field(default_factory=dict)


def read_section_six(markdown: str) -> dict[str, Expected]:
    """Each "#### <file>" block of §6 with its "- key: value" bullets split into segments."""
    lines = markdown.splitlines()
    title = re.compile(r"^## (?:6\.|.*Structured values per headed fragment)")
    start = next((i for i, line in enumerate(lines) if title.match(line)), None)
    if start is None:
        return {}
    found: dict[str, Expected] = {}
    current: Expected | None = None
    for line in lines[start + 1 :]:
        if re.match(r"^#{1,3} ", line):
            break
        if heading := re.match(r"^#### (?P<file>\S+)\s*$", line):
            current = found.setdefault(heading.group("file"), Expected(heading.group("file")))
        elif current is not None and line.startswith("- "):
            last: Bullet | None = None
            for segment in line[2:].split("; "):
                if cut := CUT_HEADING.match(segment):
                    if last is not None:
                        last.cut_heading = cut.group("text")
                elif key := SEGMENT_KEY.match(segment):
                    last = Bullet(key.group("count"), [key.group("value")])
                    current.bullets[key.group("key")] = last
                elif last is not None:
                    last.parts.append(segment)
    return found


@cache
def section_six() -> dict[str, Expected]:
    return read_section_six(SURVEY.read_text(encoding="utf-8")) if SURVEY.is_file() else {}


def before_cut(items: list[str]) -> tuple[list[str], bool]:
    """The items before a "[cut]" marker, and whether there was one."""
    for index, item in enumerate(items):
        if item.strip().endswith(CUT):
            return items[:index], True
    return items, False


def text_before_cut(text: str) -> tuple[str, bool]:
    """A text shown as a prefix ("...…") or cut ("... [cut]"): the prefix, and whether cut."""
    stripped = text.strip()
    if stripped.endswith(CUT):
        return stripped.removesuffix(CUT).rstrip(), True
    return stripped.split("…")[0].rstrip(), False


def wordings(choices: tuple[Choice, ...]) -> list[str]:
    return [choice.wording for choice in choices]


def assert_cut(profile: Profile) -> None:
    assert profile.truncated_at is not None, "§6 marks a [cut], the record is not truncated"


def check_list(found: list[str], bullet: Bullet, profile: Profile) -> None:
    """Exact wordings in order (and the stated count), or only the items before a [cut]."""
    expected, cut = before_cut(bullet.parts)
    if cut:
        assert_cut(profile)
        assert found[: len(expected)] == expected
        assert len(found) >= len(expected)
        return
    assert found == expected
    if bullet.count is not None:
        assert len(found) == int(bullet.count)


# --- checks per §6 key -------------------------------------------------------------------------


def person(p: Person) -> str:
    return f"{p.name} ({p.note})" if p.note else p.name


def check_source(parsed: ParsedProfile, bullet: Bullet) -> None:
    assert parsed.profile.source_url is not None
    assert parsed.profile.source_url.value == bullet.text.strip()


def check_header(parsed: ParsedProfile, bullet: Bullet) -> None:
    """Header values in page order, among those read from above the first template heading."""
    header = parsed.profile.header
    first_heading = min(
        line.number
        for line in parsed.lines
        if line.kind == "template" and not line.field.startswith("header")
    )
    values: list[tuple[int, str]] = []
    if header.display_name:
        values.append((header.display_name.span.first, header.display_name.value))
    if header.country:
        values.append((header.country.span.first, header.country.value))
    if header.mayor:
        values.append((header.mayor.span.first, person(header.mayor)))
    if header.population:
        text = f"{header.population.value:,}"
        if header.population_year:
            text += f" ({header.population_year.value})"
        values.append((header.population.span.first, text))
    if header.lead_officers:
        names = ", ".join(person(p) for p in header.lead_officers)
        values.append((header.lead_officers[0].span.first, names))
    in_header = [text for line, text in sorted(values) if line < first_heading]
    assert in_header == [value.strip() for value in bullet.text.split(" | ")]


def check_labels(parsed: ParsedProfile, bullet: Bullet) -> None:
    labels = [
        line.text.strip()
        for line in parsed.lines
        if line.field in ("header.labels", "header.website_link")
    ]
    assert labels == [label.strip() for label in bullet.text.split(", ")]
    has_website = "Innovation Website" in labels
    assert (parsed.profile.header.website_link is not None) == has_website


def check_goals(parsed: ParsedProfile, bullet: Bullet) -> None:
    check_list(wordings(parsed.profile.goals), bullet, parsed.profile)


def check_success_factors(parsed: ParsedProfile, bullet: Bullet) -> None:
    check_list(wordings(parsed.profile.success_factors), bullet, parsed.profile)


def check_spotlight(parsed: ParsedProfile, bullet: Bullet) -> None:
    items = [item for block in parsed.profile.spotlight for item in block.items]
    if bullet.text.strip() == "empty":
        assert items == []
        return
    stated = re.fullmatch(r"(\d+) line\(s\)", bullet.text.strip())
    if stated is None:
        pytest.skip(f"spotlight bullet not understood: {bullet.text!r}")
    assert len(items) == int(stated.group(1))


def check_note_line(parsed: ParsedProfile, bullet: Bullet) -> None:
    note = parsed.profile.survey.snapshot_note_year
    if bullet.text.strip() == "no":
        assert note is None
        return
    stated = re.fullmatch(r"yes, (\d{4})", bullet.text.strip())
    if stated is None:
        pytest.skip(f"note-line bullet not understood: {bullet.text!r}")
    assert note is not None
    assert note.value == int(stated.group(1))


def split_share(text: str) -> tuple[str, str]:
    """ "has (50%)" into ("has", "50%")."""
    match = re.fullmatch(r"(?P<value>.+?) \((?P<share>[^()]+)\)", text.strip())
    if match is None:
        pytest.skip(f"no share in brackets: {text!r}")
    return match.group("value"), match.group("share")


def check_strategy(parsed: ParsedProfile, bullet: Bullet) -> None:
    value, share = split_share(bullet.text)
    expected = {"has": "has", "does not have": "does-not-have"}.get(value)
    if expected is None:
        pytest.skip(f"strategy value not understood: {value!r}")
    strategy = parsed.profile.strategy
    assert strategy is not None
    assert (strategy.value, strategy.share) == (expected, share)


APPROACH_KINDS = (
    ("both from", "both"),
    ("in specific policy areas", "specific-policy-areas"),
    ("from a holistic", "holistic"),
)


def check_approach(parsed: ParsedProfile, bullet: Bullet) -> None:
    value, share = split_share(bullet.text)
    expected = next((kind for opening, kind in APPROACH_KINDS if value.startswith(opening)), None)
    if expected is None:
        pytest.skip(f"approach value not understood: {value!r}")
    approach = parsed.profile.approach
    assert approach is not None
    assert (approach.value, approach.share) == (expected, share)


def stated_number(bullet: Bullet) -> int:
    """The bullet's value as a number; a value of another shape is skipped, not guessed."""
    if not bullet.text.strip().isdigit():
        pytest.skip(f"expected a number, found {bullet.text!r}")
    return int(bullet.text)


def check_vision_notes(parsed: ParsedProfile, bullet: Bullet) -> None:
    assert len(parsed.profile.vision_notes) == stated_number(bullet)


def check_policy_areas(parsed: ParsedProfile, bullet: Bullet) -> None:
    focus = parsed.profile.policy_focus
    stated = bullet.text.strip()
    if stated == "does-not-prioritise sentence":
        assert focus.prioritises is not None
        assert focus.prioritises.value is False
        assert focus.areas == ()
    elif stated == "none listed":
        assert focus.areas == ()
        assert focus.prioritises is None or focus.prioritises.value is False
    else:
        check_list(wordings(focus.areas), bullet, parsed.profile)
        assert focus.prioritises is not None
        assert focus.prioritises.value is True


def check_narratives(parsed: ParsedProfile, bullet: Bullet) -> None:
    assert len(parsed.profile.policy_focus.narratives) == stated_number(bullet)


def check_roles_count(parsed: ParsedProfile, bullet: Bullet) -> None:
    stated = parsed.profile.roles.stated_count
    if bullet.text.strip() == "None":
        assert stated is None
    else:
        assert stated is not None
        assert stated.value == stated_number(bullet)


def check_roles_listed(parsed: ParsedProfile, bullet: Bullet) -> None:
    found = wordings(parsed.profile.roles.roles)
    if bullet.text.strip() == "none":
        assert found == []
        assert bullet.count in (None, "0"), "§6 lists no roles but states a count"
        return
    check_list(found, bullet, parsed.profile)


def check_roles_paragraphs(parsed: ParsedProfile, bullet: Bullet) -> None:
    """Paragraphs under the roles heading (no team) are read as the placement paragraph."""
    heading = next(line.number for line in parsed.lines if line.field == "roles")
    block: list[str] = []
    for line in parsed.lines[heading:]:
        if line.kind == "template" and "." not in line.field:
            break
        if line.kind != "blank":
            block.append(line.field)
    assert block == ["placement"] * stated_number(bullet)


def check_placement(parsed: ParsedProfile, bullet: Bullet) -> None:
    prefix, cut = text_before_cut(bullet.text)
    placement = parsed.profile.placement
    assert placement is not None
    assert placement.text.value.startswith(prefix)
    if cut:
        assert_cut(parsed.profile)


def check_terms(parsed: ParsedProfile, bullet: Bullet) -> None:
    check_list(wordings(parsed.profile.terms), bullet, parsed.profile)


def check_cut_heading(parsed: ParsedProfile, text: str, name: str) -> None:
    """The page ends inside a heading: that line is template text and the record is truncated."""
    last = last_nonblank(name)
    assert raw_lines(name)[last - 1].strip() == text
    assert parsed.profile.truncated_at == last
    assert parsed.lines[last - 1].kind == "template"


CHART_NUMBER = re.compile(r"^\d+\. \d+$")


def check_activities(parsed: ParsedProfile, expected: Expected) -> None:
    """The label lines in page order: the city's e.g.-list selections (kept in the record) and
    the labels of the fixed numbered list (template text, not kept as selections)."""
    rendering = expected.bullets["activities rendering"].text.strip()
    labels = expected.bullets.get("label lines")
    if labels is None or rendering not in (
        "e.g.-list",
        "labels only",
        "numbered",
        "e.g.-list + numbered",
    ):
        pytest.skip(f"activities rendering {rendering!r} not understood")
    selected = wordings(parsed.profile.activities.selected)
    labelled = [
        (line.field == "activities.numbered_list", line.text.strip())
        for line in parsed.lines
        if line.field == "activities.selected"
        or (line.field == "activities.numbered_list" and not CHART_NUMBER.match(line.text.strip()))
    ]
    numbered = [text for is_numbered, text in labelled if is_numbered]
    if rendering == "numbered":
        assert selected == []
    if rendering in ("e.g.-list", "labels only"):
        assert numbered == []
    check_list([text for _, text in labelled], labels, parsed.profile)
    assert selected == [text for is_numbered, text in labelled if not is_numbered]


FUNDING = re.compile(r"^Like (?P<share>\d+%) of cities surveyed, .+? (?P<value>has|does not have)")


def check_funding(parsed: ParsedProfile, bullet: Bullet) -> None:
    match = FUNDING.match(bullet.text.strip())
    if match is None:
        pytest.skip(f"funding bullet not understood: {bullet.text!r}")
    dedicated = parsed.profile.funding.dedicated
    assert dedicated is not None
    expected = "has" if match.group("value") == "has" else "does-not-have"
    assert (dedicated.value, dedicated.share) == (expected, match.group("share"))
    if text_before_cut(bullet.text)[1]:
        assert_cut(parsed.profile)


Check = Callable[[ParsedProfile, Bullet], None]
CHECKS: dict[str, tuple[str, Check]] = {
    "source": ("source", check_source),
    "header lines (labels removed)": ("header", check_header),
    "labels present": ("labels", check_labels),
    "goals": ("goals", check_goals),
    "success factors": ("success-factors", check_success_factors),
    "spotlight": ("spotlight", check_spotlight),
    "note line": ("note-line", check_note_line),
    "strategy": ("strategy", check_strategy),
    "approach": ("approach", check_approach),
    "extra vision line(s)": ("vision-notes", check_vision_notes),
    "policy areas": ("policy-areas", check_policy_areas),
    "narrative paragraphs": ("narratives", check_narratives),
    "roles count": ("roles-count", check_roles_count),
    "listed": ("roles-listed", check_roles_listed),
    "paragraph(s) in roles block": ("roles-paragraphs", check_roles_paragraphs),
    "placement paragraph": ("placement", check_placement),
    "terms": ("terms", check_terms),
    "funding": ("funding", check_funding),
}


@dataclass(frozen=True)
class Case:
    """One (fragment, aspect) check: run(parsed) asserts what §6 states."""

    file: str
    aspect: str
    run: Callable[[ParsedProfile], None]


def cases_for(expected: Expected) -> Iterator[Case]:
    for key, bullet in expected.bullets.items():
        if key in CHECKS:
            aspect, check = CHECKS[key]
            yield Case(expected.file, aspect, lambda p, c=check, b=bullet: c(p, b))
        if bullet.cut_heading is not None:
            text, name = bullet.cut_heading, expected.file
            yield Case(name, "cut-heading", lambda p, t=text, n=name: check_cut_heading(p, t, n))
    if "activities rendering" in expected.bullets:
        yield Case(expected.file, "activities", lambda p, e=expected: check_activities(p, e))


def survey_params() -> list[object]:
    params: list[object] = []
    for name, expected in section_six().items():
        if name not in FILES:
            continue
        for case in cases_for(expected):
            reason = KNOWN_PARSER_BUGS.get((case.file, case.aspect))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(case, id=f"{case.file}::{case.aspect}", marks=marks))
    if not params:
        reason = f"no §6 values for the fragments present in {SURVEY}"
        params.append(pytest.param(None, id="no-survey", marks=pytest.mark.skip(reason=reason)))
    return params


# --- 1. every fragment parses ------------------------------------------------------------------


def test_there_are_fragments() -> None:
    assert FILES, f"no *.txt fragments in {FRAGMENTS}"


@pytest.mark.parametrize("name", FILES)
def test_fragment_parses(name: str) -> None:
    parsed = parse(name)
    assert parsed.profile.source == name
    assert parsed.profile.line_count == len(raw_lines(name))
    assert [line.number for line in parsed.lines] == list(range(1, len(parsed.lines) + 1))


# --- 2. coverage -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", HEADED)
def test_headed_fragment_has_no_unmapped_lines_but_the_cut(name: str) -> None:
    parsed = parse(name)
    assert parsed.profile.rendering == "headed"
    last = last_nonblank(name)
    unmapped = [(line.number, line.text.strip()) for line in parsed.unmapped]
    assert [entry for entry in unmapped if entry[0] != last] == []


@pytest.mark.parametrize("name", FLAT)
def test_flattened_fragment_reports_unmapped_lines_by_number(name: str) -> None:
    parsed = parse(name)
    if "--flat" in name:
        assert parsed.profile.rendering == "flattened"
    lines = raw_lines(name)
    for line in parsed.unmapped:
        assert 1 <= line.number <= len(lines)
        assert line.text.strip() == lines[line.number - 1].strip()
        assert line.text.strip(), "a blank line reported as unmapped"
        assert line.field == ""


# --- 3. expected values from SURVEY.md §6 ------------------------------------------------------


def test_section_six_is_readable() -> None:
    if not SURVEY.is_file():
        pytest.skip(f"{SURVEY} is absent")
    listed = section_six()
    assert listed, "SURVEY.md has no §6 '#### <file>' blocks"
    for expected in listed.values():
        for key in ("header lines (labels removed)", "goals", "success factors", "strategy"):
            assert key in expected.bullets, f"{expected.file}: no {key!r} bullet"


@pytest.mark.parametrize("case", survey_params())
def test_survey_section_six(case: Case) -> None:
    case.run(parse(case.file))


# --- 4. survey wave ----------------------------------------------------------------------------


def has_note_line(name: str) -> bool:
    return any(NOTE_LINE.match(line.strip()) for line in raw_lines(name))


def has_vision_heading(name: str) -> bool:
    return any(line.strip() == VISION_HEADING for line in raw_lines(name))


def starts_at_vision(name: str) -> bool:
    """The text begins at the vision heading, past the place where a Note line would stand."""
    text = [line.strip() for line in raw_lines(name) if line.strip()]
    text = text[1:] if text and text[0].startswith("# source:") else text
    return bool(text) and text[0] == VISION_HEADING


ORIGINAL_SITE = [name for name in FILES if "--2018-version" in name]
WITH_NOTE = [name for name in FILES if has_note_line(name)]
UPDATED_2020 = [
    name
    for name in HEADED
    if name not in ORIGINAL_SITE and not has_note_line(name) and has_vision_heading(name)
]


STARTS_AFTER_NOTE = [name for name in FILES if starts_at_vision(name)]


def wave_params(names: list[str]) -> list[object]:
    return [
        pytest.param(
            name,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_PARSER_BUGS[(name, "wave")])]
            if (name, "wave") in KNOWN_PARSER_BUGS
            else [],
        )
        for name in names
    ]


@pytest.mark.parametrize("name", ORIGINAL_SITE)
def test_2018_version_is_original_site_wave_2018(name: str) -> None:
    survey = parse(name).profile.survey
    assert (survey.site_version, survey.wave) == ("original", 2018), survey.evidence


@pytest.mark.parametrize("name", WITH_NOTE)
def test_note_line_means_wave_2018(name: str) -> None:
    survey = parse(name).profile.survey
    assert survey.snapshot_note_year is not None
    assert survey.wave == 2018, survey.evidence


@pytest.mark.parametrize("name", UPDATED_2020)
def test_updated_site_without_note_is_wave_2020(name: str) -> None:
    survey = parse(name).profile.survey
    assert survey.snapshot_note_year is None
    assert (survey.site_version, survey.wave) == ("updated", 2020), survey.evidence


@pytest.mark.parametrize("name", wave_params(STARTS_AFTER_NOTE))
def test_missing_note_is_no_evidence_when_the_text_starts_after_it(name: str) -> None:
    """The Note line stands before the vision heading; a copy that starts there cannot show it."""
    survey = parse(name).profile.survey
    assert survey.snapshot_note_year is None
    assert survey.wave != 2020, survey.evidence
