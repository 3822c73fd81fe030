"""Damaged copies of real pages: the parser loses what was damaged, or refuses; never misfiles.

Each page (the seed and every fragment in ../shared/profiles/fragments) is damaged the way a
careless copy does it: a heading removed, the page pasted twice, a section pasted twice, two
sections swapped, the page cut before a heading, two pages joined. The oracle compares the
damaged page's record with the original's, field by field, through a map from each damaged
line to the original line it is a copy of:

- every value of the damaged record is a value of the original record, in the same field,
  read from the same original lines (a value may disappear, never appear elsewhere);
- every value that disappeared while its lines are still on the page is reported: those lines
  are unmapped in the damaged page's coverage;
- a page with a second profile or a section printed twice is refused with a ProfileError
  that names the line where the copy starts (pasted without its "# source:" line, at the
  latest where the copy's first section starts).

The Note line of a 2018 page is not removed: without it a page is, by the survey's own rule
(SURVEY.md §4.3), a 2020 page, which no parser can tell apart.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import pytest

from conftest import FRAGMENTS, SEED
from innograph.errors import ProfileError
from innograph.parsing import parse_profile
from innograph.parsing.headed import heading_of
from innograph.pipeline import survey_options
from innograph.records import Choice, ParsedProfile, Profile, Span

POPULATION = re.compile(r"^\d{1,3}(?:,\d{3})+(?: \(\d{4}\))?$")
Value = tuple[str, str, int, int]  # field path (no indices), payload, first and last line


@dataclass(frozen=True)
class Page:
    name: str
    lines: tuple[str, ...]

    @property
    def headings(self) -> list[int]:
        """0-based indices of the template heading lines (the Note line included)."""
        found = [i for i, line in enumerate(self.lines) if heading_of(line)]
        # A flattened page has no headings but may keep its Note line: no sections then.
        return found if any(not self.lines[i].startswith("Note:") for i in found) else []

    def sections(self) -> list[tuple[int, int]]:
        """[start, end) of each heading and its body."""
        starts = self.headings
        if not starts:
            return []
        return list(zip(starts, [*starts[1:], len(self.lines)], strict=True))


@dataclass(frozen=True)
class Mutation:
    """A damaged page: its lines and, for each, the original line (1-based) it copies."""

    kind: str
    label: str
    lines: tuple[str, ...]
    origin: tuple[int, ...]
    refused_at: int | None = None  # the line a ProfileError must name, when it must be refused
    refused_after: int = 0  # with refused_at, the error may name any line from here to it


def pages() -> list[Page]:
    found = [Page(SEED.name, tuple(SEED.read_text(encoding="utf-8").splitlines()))]
    if FRAGMENTS.is_dir():
        for path in sorted(FRAGMENTS.glob("*.txt")):
            found.append(Page(path.name, tuple(path.read_text(encoding="utf-8").splitlines())))
    return found


def _pick(page: Page, indices: list[int], kind: str, label: str) -> Mutation:
    return Mutation(
        kind, label, tuple(page.lines[i] for i in indices), tuple(i + 1 for i in indices)
    )


def mutations(page: Page, other: Page) -> Iterator[Mutation]:
    """Every damage of ``page``; ``other`` is the page joined after it."""
    every = list(range(len(page.lines)))
    sections = page.sections()
    for index in page.headings:
        if not page.lines[index].strip().startswith("Note:"):
            text = page.lines[index].strip()
            yield _pick(page, [i for i in every if i != index], "remove-heading", text)
    count = len(page.lines)
    originals = tuple(i + 1 for i in every)
    yield Mutation("duplicate-page", "", page.lines * 2, originals * 2, count + _first_text(page))
    # Pasted twice without its "# source:" line: the copy's header (or first heading, or
    # population line on a flattened page) gives it away, somewhere before its first section.
    bare = [i for i in every if not page.lines[i].startswith("# ")]
    if len(bare) < len(every):
        end = next((i for i in page.headings if i in bare), None)
        stop = bare.index(end) if end is not None else len(bare)
        copy_at = len(bare) + 1
        mutation = _pick(page, bare + bare, "duplicate-page", "without its source line")
        if page.headings or any(POPULATION.match(page.lines[i]) for i in bare):
            mutation = dataclasses.replace(
                mutation, refused_at=copy_at + stop, refused_after=copy_at
            )
        # else a flattened page of lists only, which that rendering prints twice anyway:
        # the copy is its repeated summary, and the record must stay the original's.
        yield mutation
    for start, end in sections:
        copy = list(range(start, end))
        indices = every[:end] + copy + every[end:]
        mutation = _pick(page, indices, "duplicate-section", page.lines[start].strip())
        yield dataclasses.replace(mutation, refused_at=end + 1)
    for a in range(len(sections)):
        for b in range(a + 1, len(sections)):
            (a0, a1), (b0, b1) = sections[a], sections[b]
            indices = every[:a0] + every[b0:b1] + every[a1:b0] + every[a0:a1] + every[b1:]
            label = f"{page.lines[a0].strip()} <-> {page.lines[b0].strip()}"
            yield _pick(page, indices, "swap-sections", label)
    for start, _ in sections:
        if any(line.strip() and not line.startswith("# ") for line in page.lines[:start]):
            yield _pick(page, every[:start], "cut-before", page.lines[start].strip())
    joined = Mutation(
        "join-pages",
        other.name,
        page.lines + other.lines,
        originals + tuple(0 for _ in other.lines),
        count + _first_text(other),
    )
    yield joined


def _first_text(page: Page) -> int:
    return next(n for n, line in enumerate(page.lines, start=1) if line.strip())


@cache
def parse(name: str, lines: tuple[str, ...]) -> ParsedProfile:
    return parse_profile("\n".join(lines) + "\n", name, survey_options())


NOT_READ = {"source", "line_count", "rendering", "truncated_at"}  # about the file, not the city


def values(profile: Profile) -> set[Value]:
    """Every value the record read from the page, with its field and lines."""
    found: set[Value] = set()

    def walk(value: object, path: str) -> None:
        if isinstance(value, Span):
            found.add((path, "", value.first, value.last))
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            span = fields.pop("span", None)
            if isinstance(span, Span):
                payload = repr(sorted((k, repr(v)) for k, v in fields.items()))
                found.add((path, payload, span.first, span.last))
                return
            for name, item in fields.items():
                walk(item, f"{path}.{name}")
        elif isinstance(value, tuple):
            for item in value:
                walk(item, path)

    for field in dataclasses.fields(profile):
        if field.name not in {*NOT_READ, "survey", "cut_item"}:
            walk(getattr(profile, field.name), field.name)
    if (cut := profile.cut_item) is not None:
        # Set aside where the page is cut, the item is still its list's, only marked as cut.
        walk(Choice(cut.text, None, cut.span), cut.field)
    walk(profile.survey.snapshot_note_year, "survey.snapshot_note_year")
    return found


def problems(page: Page, mutation: Mutation) -> list[str]:
    """What the oracle finds wrong with the damaged page's outcome (empty when it is right)."""
    try:
        damaged = parse(page.name, mutation.lines)
    except ProfileError as error:
        at = mutation.refused_at
        if at is not None and (mutation.refused_after or at) <= error.line <= at:
            return []
        return [f"refused: {error}"]
    if mutation.refused_at is not None:
        return [f"not refused (expected an error at line {mutation.refused_at})"]
    original = parse(page.name, page.lines)
    found: list[str] = []
    if damaged.profile.rendering != original.profile.rendering:
        found.append(f"rendering {damaged.profile.rendering} for {original.profile.rendering}")
    for key in ("wave", "site_version"):
        was, now = getattr(original.profile.survey, key), getattr(damaged.profile.survey, key)
        if now not in (was, None):
            found.append(f"survey.{key} {now!r} for {was!r}")

    def origin(line: int) -> int:
        return mutation.origin[line - 1]

    before = {_anywhere(value) for value in values(original.profile)}
    after = {
        _anywhere((path, text, origin(a), origin(b)))
        for path, text, a, b in values(damaged.profile)
    }
    found += [f"new value {value}" for value in sorted(after - before)]
    unmapped = {origin(line.number) for line in damaged.unmapped}
    still_used = {line for _, _, a, b in after for line in range(a, b + 1)}
    on_page = {origin(n) for n, text in enumerate(mutation.lines, start=1) if text.strip()}
    for path, text, first, last in sorted(before - after):
        for line in range(first, last + 1):
            if line in on_page and line not in unmapped | still_used:
                found.append(f"{path} lost without a report: line {line} {text[:60]}")
                break
    return found


# The city's name is read from the header or, failing that, from any heading that names the
# city ("Spotlight on innovation in Athens"): the same value, whichever of them it came from.
READ_FROM_ANY_LINE = {"header.display_name"}


def _anywhere(value: Value) -> Value:
    path, text, _, _ = value
    return (path, text, 0, 0) if path in READ_FROM_ANY_LINE else value


PAGES = pages()
KINDS = ("remove-heading", "duplicate-page", "duplicate-section", "swap-sections", "cut-before")


def page_params() -> list[object]:
    params: list[object] = [pytest.param(PAGES[0], id=PAGES[0].name)]
    if len(PAGES) == 1:
        reason = f"{FRAGMENTS} is absent: only the seed is damaged"
        params.append(pytest.param(None, id="fragments", marks=pytest.mark.skip(reason=reason)))
    params += [pytest.param(page, id=page.name) for page in PAGES[1:]]
    return params


@pytest.mark.parametrize("page", page_params())
@pytest.mark.parametrize("kind", [*KINDS, "join-pages"])
def test_damage_is_lost_or_refused_never_misfiled(page: Page, kind: str) -> None:
    other = PAGES[(PAGES.index(page) + 1) % len(PAGES)]
    if other is page:
        other = dataclasses.replace(page, name=f"copy of {page.name}")
    failures = []
    ran = 0
    for mutation in mutations(page, other):
        if mutation.kind != kind:
            continue
        ran += 1
        for problem in problems(page, mutation):
            failures.append(f"{kind} {mutation.label!r}: {problem}")
    if ran == 0:
        pytest.skip(f"{page.name} has no section to {kind}")
    assert failures == []


def test_every_page_gets_every_damage_it_can_take() -> None:
    """The suite cannot shrink to nothing unnoticed: 1,650 mutations over 29 pages today."""
    for page in PAGES:
        kinds = {mutation.kind for mutation in mutations(page, PAGES[0])}
        expected = {"duplicate-page", "join-pages"}
        if page.headings:
            expected |= {"remove-heading", "duplicate-section"}
        if len(page.sections()) > 1:
            expected |= {"swap-sections", "cut-before"}
        assert expected <= kinds, page.name
