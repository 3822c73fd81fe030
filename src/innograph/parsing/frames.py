"""The template's sentence frames, shared by the headed and the flattened rendering.

Each function reads one line (already stripped) and returns record values or None. Frames are
matched on a copy with straight apostrophes; values are sliced from the original line.
"""

from __future__ import annotations

import re

from ..records import (
    Choice,
    Person,
    Placement,
    Sourced,
    Span,
    Statement,
    SurveyContext,
    SurveyOptions,
    UnitTeam,
)

_STRAIGHT = str.maketrans({"’": "'", "‘": "'"})

POPULATION = re.compile(r"^(?P<number>\d{1,3}(?:,\d{3})+|\d+)(?: \((?P<year>\d{4})\))?$")
NOTE = re.compile(
    r"^Note: The City Innovation Snapshot \(PDF version\) was produced in (?P<year>\d{4}) "
    r"and some aggregate findings have been updated with the latest survey results below\.$"
)
STRATEGY = re.compile(
    r"Along with (?P<share>\d+%) of cities surveyed, (?P<name>.+?) "
    r"(?P<choice>has|does not have) an explicit innovation strategy\."
)
APPROACH = re.compile(
    r"Similar to (?P<share>.+?) of cities surveyed, (?P<name>.+?) approaches innovation capacity"
    r" (?P<rest>.*)$"
)
APPROACH_KINDS = (
    ("both", "both"),
    ("in specific", "specific-policy-areas"),
    ("from a holistic", "holistic"),
)
# Tolerant of a page cut after "dedicated funding" (the choice is already made by then).
DEDICATED_FUNDING = re.compile(
    r"^Like (?P<share>\d+%) of cities surveyed, (?P<name>.+?) (?P<choice>has|does not have) "
    r"dedicated funding\b"
)
INVESTS = re.compile(r"^(?P<name>.+?) also invests in (?P<items>.+?)\.$")
PARTNERSHIPS = re.compile(
    r"^(?P<name>.+?) has developed partnerships to promote (?:its )?innovation capacity with "
    r"(?P<items>.+?)\.$"
)
INTERNAL_ONLY = re.compile(
    r"^(?P<name>.+?)'s innovation work is internal to the city administration\.$"
)
DATA_PARTNERSHIPS = re.compile(
    r"^To improve data use, the city has also developed data partnerships with (?P<items>.+?),? "
    r"to collect and analy[sz]e data(?:, as well as with (?P<more>.+?))?\.$"
)
ALSO_INCLUDE = re.compile(r"^Its innovation activities also include (?P<items>.+?)\.?$")
NO_PRIORITY = re.compile(
    r"^(?P<name>.+?) does not prioritise policy sectors for its innovation work\.$"
)

_LIST_SPLIT = re.compile(r"\s*;\s*(?:and\s+)?|\s*,\s*(?:and\s+)?|\s+and\s+")


def straight(line: str) -> str:
    """The line with straight apostrophes (same length, so match offsets still apply)."""
    return line.translate(_STRAIGHT)


def share_percent(share: str) -> int | None:
    match = re.fullmatch(r"(\d+)%", share)
    return int(match.group(1)) if match else None


def population(line: str) -> tuple[int, int | None] | None:
    match = POPULATION.match(line.strip())
    if not match:
        return None
    year = match.group("year")
    return int(match.group("number").replace(",", "")), int(year) if year else None


def strategy(line: str, span: Span) -> Statement | None:
    match = STRATEGY.search(straight(line))
    if not match:
        return None
    value = "has" if match.group("choice") == "has" else "does-not-have"
    share = match.group("share")
    return Statement(value, share, share_percent(share), span)


def approach(line: str, span: Span) -> Statement | None:
    """The approach sentence; tolerant of a cut after the first words of the approach."""
    match = APPROACH.search(straight(line))
    if not match:
        return None
    rest = match.group("rest")
    for opening, value in APPROACH_KINDS:
        if rest.startswith(opening):
            share = line[match.start("share") : match.end("share")]
            return Statement(value, share, share_percent(share), span)
    return None


def dedicated_funding(line: str, span: Span) -> Statement | None:
    match = DEDICATED_FUNDING.match(straight(line))
    if not match:
        return None
    value = "has" if match.group("choice") == "has" else "does-not-have"
    share = match.group("share")
    return Statement(value, share, share_percent(share), span)


def split_list(text: str) -> list[str]:
    """Split "a, b, and c" / "a; and b" into items, dropping a leading "the "."""
    items = [item.strip() for item in _LIST_SPLIT.split(text) if item.strip()]
    return [item[4:] if item.startswith("the ") else item for item in items]


def invests(line: str, span: Span, options: SurveyOptions) -> tuple[Choice, ...] | None:
    match = INVESTS.match(line)
    if not match:
        return None
    items = split_list(match.group("items"))
    return tuple(
        Choice(item, options.match("funded-activities", f"Investing in {item}"), span)
        for item in items
    )


def partnerships(line: str, span: Span, options: SurveyOptions) -> tuple[Choice, ...] | None:
    match = PARTNERSHIPS.match(straight(line))
    if not match:
        return None
    items = split_list(line[match.start("items") : match.end("items")])
    return tuple(options.choice("partner-types", item, span) for item in items)


def internal_only(line: str) -> bool:
    return bool(INTERNAL_ONLY.match(straight(line)))


def data_partnerships(line: str, span: Span, options: SurveyOptions) -> tuple[Choice, ...] | None:
    match = DATA_PARTNERSHIPS.match(straight(line))
    if not match:
        return None
    items = split_list(match.group("items"))
    if match.group("more"):
        items += split_list(match.group("more"))
    return tuple(options.choice("data-partner-types", item, span) for item in items)


def also_include(line: str, span: Span, options: SurveyOptions) -> tuple[Choice, ...] | None:
    match = ALSO_INCLUDE.match(line)
    if not match:
        return None
    items = [item.strip() for item in re.split(r";\s*(?:and\s+)?", match.group("items"))]
    return tuple(Choice(item, options.closest("activities", item), span) for item in items if item)


def note_year(line: str) -> int | None:
    match = NOTE.match(line.strip())
    return int(match.group("year")) if match else None


def no_priority(line: str) -> bool:
    return bool(NO_PRIORITY.match(straight(line)))


# --- placement ------------------------------------------------------------------------------

# Words that mark a paragraph as the placement (where innovation sits), in either rendering.
PLACEMENT_CUES = (
    "situated ",
    "innovation work is",
    "dedicated team",
    "innovation team",
    "independent department",
    "independent body",
    "standalone department",
)

_UNIT_WORDS = r"(?:Directorate|Department|Division|Office|Services|Unit|Agency|Bureau|Lab)"
_CAP_WORD = r"[A-Z][\w&'.-]*"
# A word that makes a name a unit's or a team's ("Peak Academy", "Office of Performance").
_UNIT_HEAD = re.compile(
    rf"^(?:{_UNIT_WORDS}|Academy|Team|team|i-team|Center|Centre|Hub|Group|Studio|Laboratory)$"
)
_UNIT = re.compile(
    rf"(?P<unit>(?:{_CAP_WORD}\s+(?:(?:and|of|for|&)\s+)?)*{_CAP_WORD}'s\s+[oO]ffice\b"
    rf"|Office\s+of\s+{_CAP_WORD}(?:\s+(?:(?:and|of|for|&)\s+)?{_CAP_WORD})*"
    rf"|(?:{_CAP_WORD}\s+(?:(?:and|of|for|&)\s+)?)+{_UNIT_WORDS}\b)"
)
# A unit name followed by one of these is part of a job title ("Mayor's Office Director").
_JOB_TITLE_AFTER = re.compile(
    r"^\s+(?:Director|Manager|Officer|Chief|Head|Lead|Leader|Coordinator|Advis[eo]r|Analyst"
    r"|Administrator|Deputy|Secretary|Fellow|Staff(?:er)?)\b"
)
# A named team or unit right before its staff count, and the count's wordings.
_TEAM_NAME = re.compile(
    rf"(?P<unit>{_CAP_WORD}(?:\s+(?:(?:and|of|for|&)\s+)?{_CAP_WORD})*(?:\s+(?:team|i-team))?)$"
)
_STAFF = re.compile(
    r"(?:\b(?:consists?|comprised?) of|\bmade up of|\bcomprises?)\s+(?P<n>\d+)\s+staff\b"
    r"|\bstaff of (?P<m>\d+)"
)
_OPENING_WORDS = {"The", "A", "An", "Its", "This", "Their", "Our"}
_ACCOUNTABLE = re.compile(r"(?:accountable|reports(?: directly)?) to (?:the )?(?P<who>[^,.;]+)")
_TEAM_SIZE = re.compile(r"consists of (?P<n>\d+) staff")
_KINDS = (
    ("does not have a dedicated team", "no-dedicated-team"),
    ("sprinkled throughout", "distributed"),
    ("spreads its innovation", "distributed"),
    ("independent department", "independent-department"),
    ("independent body", "independent-department"),
    ("standalone department", "independent-department"),
    ("city manager", "city-managers-office"),
    ("mayor's office", "mayors-office"),
)


def unit_name(printed: str) -> str:
    """A unit's name without the page's accidents: spaces (also non-breaking) collapsed, no
    trailing full stop; the printed form stays in the placement text.

    >>> unit_name("Office of\u00a0Innovation.")
    'Office of Innovation'
    """
    return re.sub(r"\s+", " ", printed).strip().rstrip(".,;:").rstrip()


def unit_teams(paragraphs: list[Sourced[str]]) -> tuple[UnitTeam, ...]:
    """Each unit or team named right before its own staff count: "the Smart City team
    consists of 6 staff", "Peak Academy staff of 9", "– Office of Performance – consists of 1
    staff". An unnamed team ("the innovation team consists of 6 staff") is no unit.

    >>> [(t.unit, t.staff) for t in unit_teams([Sourced("It leads Peak Academy staff of 9 and"
    ...     " Technology Services staff of 330.", Span.line(1))])]
    [('Peak Academy', 9), ('Technology Services', 330)]
    """
    teams: list[UnitTeam] = []
    for paragraph in paragraphs:
        plain = straight(paragraph.value)
        for count in _STAFF.finditer(plain):
            head = plain[: count.start()]
            ends = [end.end() for end in re.finditer(r"[.!?]\s+", head)]
            offset = ends[-1] if ends else 0  # this sentence only
            before = head[offset:]
            if count.group("n") is not None:  # "X, made up of", "– X – consists of", "X now"
                before = re.sub(r"(?:[\s,–—-]|\bnow\b|\balso\b)+$", "", before)
            found = _TEAM_NAME.search(before.rstrip())
            if found is None:
                continue
            printed = paragraph.value[offset + found.start("unit") : offset + found.end("unit")]
            unit = unit_name(printed)
            words = unit.split()
            if words[0] in _OPENING_WORDS:
                words = words[1:]  # "The Transformation team" at a sentence's start
            possessive = words and words[0].endswith(("'s", "’s"))
            if possessive and words[-1] in ("team", "i-team") and not _UNIT_HEAD.match(words[1]):
                words = words[1:]  # "Toronto's Smart City team": the city is not the name
            if len(words) < 2 or _JOB_TITLE_AFTER.match(" " + words[0]):
                continue  # "the Office", "Director of Innovation": no unit's name
            if words[-1].endswith(("'s", "’s")) or not any(_UNIT_HEAD.match(w) for w in words):
                continue  # "Jane Smith's staff of 4": a person's staff, not a unit's
            staff = int(count.group("n") or count.group("m"))
            teams.append(UnitTeam(" ".join(words), staff, paragraph.span))
    return tuple(teams)


def placement(paragraphs: list[Sourced[str]]) -> Placement:
    """Read the kind of placement, the units named, accountability and team size."""
    text = " ".join(p.value for p in paragraphs)
    span = Span(paragraphs[0].span.first, paragraphs[-1].span.last)
    plain = straight(text)
    lowered = plain.casefold()
    # The phrase that comes first names the placement: "Situated in the Mayor's office, ...
    # a unit in the City Manager's office" is the mayor's office.
    found = sorted((lowered.find(phrase), k) for phrase, k in _KINDS if phrase in lowered)
    kind = found[0][1] if found else None
    if kind is None and re.match(r"Situated (?:in|within) the ", plain):
        kind = "within-another-department"
    units: list[Sourced[str]] = []
    seen: set[str] = set()
    for paragraph in paragraphs:
        straight_paragraph = straight(paragraph.value)
        for match in _UNIT.finditer(straight_paragraph):
            unit = unit_name(paragraph.value[match.start("unit") : match.end("unit")])
            if unit.startswith("Situated ") or _JOB_TITLE_AFTER.match(
                straight_paragraph[match.end("unit") :]
            ):
                continue
            if unit not in seen:
                seen.add(unit)
                units.append(Sourced(unit, paragraph.span))
    accountable = None
    for paragraph in paragraphs:
        to_whom = _ACCOUNTABLE.search(straight(paragraph.value))
        if to_whom:
            who = paragraph.value[to_whom.start("who") : to_whom.end("who")].strip()
            accountable = Sourced(who, paragraph.span)
            break
    team_size = None
    for paragraph in paragraphs:
        size = _TEAM_SIZE.search(paragraph.value)
        if size:
            team_size = Sourced(int(size.group("n")), paragraph.span)
            break
    dedicated = None
    if kind == "no-dedicated-team":
        dedicated = Sourced(False, span)
    elif "dedicated team for innovation" in lowered or "dedicated innovation team" in lowered:
        dedicated = Sourced(True, span)
    teams = unit_teams(paragraphs)
    return Placement(
        Sourced(text, span), kind, tuple(units), accountable, team_size, dedicated, teams
    )


# --- site version and survey wave (SURVEY.md §4.3) --------------------------------------------

_ORIGINAL_APPROACH_SHARES = {"over one-third", "40%"}
_UPDATED_APPROACH_SHARES = {"more than half", "20%"}


def survey_context(
    strategy_statement: Statement | None,
    approach_statement: Statement | None,
    note: Sourced[int] | None,
    funding: Statement | None,
    note_visible: bool,
) -> SurveyContext:
    """Tell the site version from the quoted shares and the survey wave from the note line."""
    original: list[str] = []
    updated: list[str] = []
    if strategy_statement is not None:
        if strategy_statement.share in {"44%", "56%"}:
            original.append(f"strategy share {strategy_statement.share}")
        elif strategy_statement.share == "50%":
            updated.append("strategy share 50%")
    if approach_statement is not None:
        share, value = approach_statement.share, approach_statement.value
        if share in _ORIGINAL_APPROACH_SHARES or (share == "24%" and value == "holistic"):
            original.append(f"approach share {share}")
        elif share in _UPDATED_APPROACH_SHARES or (
            share == "24%" and value == "specific-policy-areas"
        ):
            updated.append(f"approach share {share}")
    if note is not None:
        updated.append(f"snapshot note ({note.value})")
    if funding is not None and funding.share in {"81%", "19%"}:
        updated.append(f"dedicated-funding share {funding.share}")
    if original and not updated:
        return SurveyContext("original", note, 2018, "original site: " + ", ".join(original))
    if updated and not original:
        evidence = "updated site: " + ", ".join(updated)
        if note is not None:
            return SurveyContext("updated", note, 2018, evidence + "; a 2018 respondent")
        if note_visible:
            return SurveyContext(
                "updated", None, 2020, evidence + "; no snapshot note, so a 2020 respondent"
            )
        return SurveyContext("updated", None, None, evidence + "; wave not determinable")
    if original and updated:
        return SurveyContext(
            None, note, None, "conflicting markers: " + ", ".join(original + updated)
        )
    return SurveyContext(None, note, None, "no site-version markers on the page")


def looks_like_sentence(text: str) -> bool:
    """Prose (a paragraph) rather than a list item: long, or ending like a sentence."""
    return len(text) > 80 or text.rstrip().endswith((".", "!", "?"))


def split_people(line: str, span: Span) -> list[Person]:
    """ "A (current), B" into people, with the notes in brackets kept apart."""
    people = []
    for part in re.split(r",\s*(?![^()]*\))", line):
        match = re.match(r"^(?P<name>.+?)\s*(?:\((?P<note>[^)]*)\)?)?$", part.strip())
        if match and match.group("name"):
            people.append(Person(match.group("name"), match.group("note"), span))
    return people
