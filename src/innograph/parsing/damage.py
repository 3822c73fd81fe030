"""Damaged pages: a second profile pasted in, a section twice, lines after a missing heading.

A careless copy must not put facts into the wrong field. A second profile or a repeated
section is an error; lines that belong to another section (their heading is missing) are cut
from the section they fell into and left unclaimed, so coverage reports them.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..errors import ProfileError
from ..records import Span, SurveyOptions, normalise
from . import frames
from .headed import (
    BULLET,
    CHART_NUMBER,
    CHART_RESIDUE,
    CUT_HEADINGS,
    FUNDED_FOOTNOTE,
    HEADER_LABELS,
    Section,
    heading_of,
)
from .ledger import Ledger

# The option list each section's list items come from.
SECTION_SCHEMES = {
    "goals": "goals",
    "success_factors": "success-factors",
    "policy_focus": "policy-areas",
    "roles": "roles",
    "terms": "terms",
    "activities": "activities",
    "funding_sources": "funding-sources",
    "funded_activities": "funded-activities",
    "data_availability": "policy-areas",
}
PROFILE_MARKER = re.compile(r"^# (?:source|synthetic): ")
# A population as a header prints it ("1,530,000 (2018)"), not a bare count ("5").
HEADER_POPULATION = re.compile(r"^\d{1,3}(?:,\d{3})+(?: \(\d{4}\))?$|^\d+ \(\d{4}\)$")


def second_profile_error(source: str, line: int, first: int) -> ProfileError:
    return ProfileError(
        source,
        line,
        f"a second profile starts here; expected one profile per file (the first starts at"
        f" line {first})",
    )


def check_one_profile(ledger: Ledger, first_text: int, source: str) -> None:
    """A second "# source:" or "# synthetic:" line starts a second profile."""
    for number in range(first_text + 1, len(ledger.lines) + 1):
        if PROFILE_MARKER.match(ledger.text(number).strip()):
            raise second_profile_error(source, number, first_text)


def check_flat(ledger: Ledger, first_text: int, options: SurveyOptions, source: str) -> None:
    """A flattened page prints its header once: a second population line is a second page."""
    lines = range(first_text, len(ledger.lines) + 1)
    populations = [n for n in lines if HEADER_POPULATION.match(ledger.text(n).strip())]
    if len(populations) > 1:
        start = _block_start(ledger, populations[1], options)
        raise second_profile_error(source, start, first_text)


def check_headed(
    ledger: Ledger,
    header: list[int],
    sections: list[Section],
    first_text: int,
    options: SurveyOptions,
    source: str,
) -> None:
    """A header block after the first heading, a second header block before it, or a section
    printed twice: the page holds more than one profile (or a pasted section)."""
    populations = [n for n in header if HEADER_POPULATION.match(ledger.text(n).strip())]
    if len(populations) > 1:
        raise second_profile_error(
            source, _block_start(ledger, populations[1], options), first_text
        )
    seen: dict[str, Section] = {}
    for section in sections:
        labels = [n for n in section.body if ledger.text(n).strip() in HEADER_LABELS]
        if labels:
            raise second_profile_error(source, _block_start(ledger, labels[0], options), first_text)
        first = seen.setdefault(section.key, section)
        if first is section:
            continue
        heading = ledger.text(section.heading_line).strip()
        again = "the page" if section.key == sections[0].key else "a section"
        raise ProfileError(
            source,
            section.heading_line,
            f"a second {heading!r} heading (the first is at line {first.heading_line});"
            f" expected each section once ({again} pasted twice?)",
        )


def _block_start(ledger: Ledger, label: int, options: SurveyOptions) -> int:
    """The first line of the header block around ``label``: the name and country lines
    before its first label, when they are plain short lines."""
    start = label
    while start > 1 and ledger.text(start - 1).strip() in {*HEADER_LABELS, ""}:
        start -= 1
    taken = 0
    number = start - 1
    while number >= 1 and taken < 2:
        text = ledger.text(number).strip()
        if not text:
            number -= 1
            continue
        if not _name_like(text, options):
            break
        start, taken, number = number, taken + 1, number - 1
    return start


def _name_like(text: str, options: SurveyOptions) -> bool:
    """A city name or country line: short prose that is no heading, list item or number."""
    return not (
        frames.looks_like_sentence(text)
        or heading_of(text)
        or BULLET.match(text)
        or text[0].isdigit()
        or text.endswith(("…", ":"))
        or _options_of(options, normalise(text))
    )


# --- lines that belong to another section ------------------------------------------------------


def owners(text: str, options: SurveyOptions, cut: bool = False) -> set[str]:
    """The sections a line can only come from, by its frame or its survey option; empty when
    the line could stand in any section (own wording, prose). A line where the page is
    ``cut`` also belongs where an option starts with it."""
    plain = text.strip()
    found: set[str] = set()
    span = Span.line(1)
    if frames.strategy(plain, span) or frames.approach(plain, span):
        found.add("vision")
    if frames.no_priority(plain):
        found |= {"vision", "policy_focus"}
    if frames.dedicated_funding(plain, span) or frames.INVESTS.match(plain):
        found.add("funding")
    if (
        frames.PARTNERSHIPS.match(frames.straight(plain))
        or frames.internal_only(plain)
        or frames.DATA_PARTNERSHIPS.match(frames.straight(plain))
    ):
        found.add("measured")
    if frames.ALSO_INCLUDE.match(plain) or plain.startswith("e.g. ") or CHART_NUMBER.match(text):
        found.add("activities")
    if CHART_RESIDUE.match(plain) or FUNDED_FOOTNOTE.match(plain):
        found.add("funded_activities")
    if plain in ("Sufficient data", "Insufficient data"):
        found.add("data_availability")
    bullet = BULLET.match(plain)
    item = normalise(bullet.group("text") if bullet else plain)  # once, not once per scheme
    found |= _options_of(options, item)
    if cut and len(item) >= 4:
        found |= {
            section
            for section, scheme in SECTION_SCHEMES.items()
            if any(label.startswith(item) for label in options.schemes.get(scheme, {}))
        }
    return found


def _options_of(options: SurveyOptions, key: str) -> set[str]:
    """The sections whose survey options hold this normalised wording."""
    return {
        section
        for section, scheme in SECTION_SCHEMES.items()
        if key in options.schemes.get(scheme, {})
    }


def trim_header(ledger: Ledger, header: list[int], options: SurveyOptions) -> list[int]:
    """The header ends at the first line that is no header value (a bullet, a sentence, a
    section's frame or option): it and what follows come after a missing heading."""
    for index, number in enumerate(header):
        text = ledger.text(number).strip()
        if not text or text in HEADER_LABELS:
            continue
        sentence = len(text) > 80 and text.endswith(".")
        if BULLET.match(text) or sentence or owners(text, options):
            return header[:index]
    return header


def trim_foreign(
    ledger: Ledger, section: Section, options: SurveyOptions, last: int, name: str | None
) -> None:
    """Cut the section's body at its first line that belongs elsewhere (or is a heading cut
    short); that line and the rest of the body follow a missing heading and stay unclaimed."""
    body = [n for n in section.body if ledger.text(n).strip()]
    for index, number in enumerate(body):
        cut_heading = cut_heading_of(ledger.text(number), name) is not None
        if cut_heading or _foreign(ledger, section, body[:index], number, options, last):
            text = ledger.text(number).strip()
            if text.startswith("e.g. ") and index > 0:
                number = body[index - 1]  # the activity the example belongs to
            elif section.key == "vision" and _labelled(text):
                # Policy areas stand before their narratives, after the strategy sentence.
                while index > 0 and _plain_item(ledger.text(body[index - 1])):
                    index -= 1
                number = body[index]
            section.body = [n for n in section.body if n < number]
            return


def cut_heading_of(line: str, name: str | None) -> str | None:
    """The heading that ``line`` is the start of (a heading cut short), if any."""
    text = frames.straight(line.strip())
    if len(text) < 4:
        return None
    count = re.match(r"^.+ utilizes (\d+)", text)
    for full in _headings(name, count.group(1) if count else "0"):
        if full.startswith(text) and full != text:
            return full
    return None


@lru_cache(maxsize=256)
def _headings(name: str | None, count: str) -> tuple[str, ...]:
    """The page's headings written out for its city (asked of every body line: made once)."""
    headings = (
        *CUT_HEADINGS,
        f"{{name}} utilizes {count} different innovation skills or roles",
        "Innovation skills or roles",
    )
    return tuple(h.format(name=name or "") for h in headings if name or "{name}" not in h)


def _labelled(text: str) -> bool:
    """A narrative that starts with its policy area: "Health: Liverpool is ..."."""
    return bool(re.match(r"^[^:]{1,60}: .+$", text.strip()))


def _plain_item(text: str) -> bool:
    """A short list item: no sentence, no narrative."""
    return not (_labelled(text) or frames.looks_like_sentence(text.strip()))


def _foreign(
    ledger: Ledger,
    section: Section,
    before: list[int],
    number: int,
    options: SurveyOptions,
    last: int,
) -> bool:
    raw = ledger.text(number)
    text = raw.strip()
    found = owners(raw, options, cut=number == last)
    if found and section.key not in found:
        return True
    if section.key in ("goals", "success_factors"):
        # A bulleted list: a line that is not a bullet ends it (a spotlight's opening).
        return not BULLET.match(raw)
    if section.key == "vision":
        return _labelled(text)
    if section.key == "policy_chart":
        # Only narratives follow the chart heading; anything else is the next section's.
        return not _labelled(text)
    if section.key in ("roles", "policy_focus") and _plain_item(text):
        # List items come before the paragraphs; a short line after one is the next section's.
        return number != last and any(not _plain_item(ledger.text(n)) for n in before)
    if section.key == "policy_focus":
        return not _labelled(text) and _placement_like(text)
    if section.key == "roles_chart":
        # Placement paragraphs; a short line is the next section's, unless the page is cut
        # inside the first paragraph.
        return not frames.looks_like_sentence(text) and (bool(before) or number != last)
    return False


def _placement_like(text: str) -> bool:
    """An unlabelled paragraph that tells where innovation sits (its roles heading is missing)."""
    lowered = frames.straight(text).casefold()
    return any(cue in lowered for cue in frames.PLACEMENT_CUES)
