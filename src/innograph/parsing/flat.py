"""The flattened rendering (SURVEY.md §4.2): no headings, so values are known by their shape.

Best effort: goals and success factors are recognised only when they are survey options, and
whatever is not recognised is reported as unmapped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..records import (
    Activities,
    Choice,
    Funding,
    Header,
    Partnerships,
    Person,
    Placement,
    Sourced,
    Span,
    Statement,
    SurveyOptions,
    normalise,
)
from . import frames
from .frames import PLACEMENT_CUES
from .ledger import Ledger


@dataclass
class FlatResult:
    header: Header = field(default_factory=Header)
    goals: list[Choice] = field(default_factory=list)
    success_factors: list[Choice] = field(default_factory=list)
    note: Sourced[int] | None = None
    strategy: Statement | None = None
    approach: Statement | None = None
    placement: Placement | None = None
    activities: Activities = field(default_factory=Activities)
    funding: Funding = field(default_factory=Funding)
    partnerships: Partnerships = field(default_factory=Partnerships)


def read_flat(ledger: Ledger, first: int, options: SurveyOptions) -> FlatResult:
    """Read each non-blank line from ``first`` by its shape, then assemble what was found."""
    reader = _FlatReader(ledger, options)
    for number in [n for n in range(first, len(ledger.lines) + 1) if ledger.text(n).strip()]:
        reader.read(number)
    return reader.finish()


def read_partnership_line(
    ledger: Ledger, number: int, options: SurveyOptions, current: Partnerships
) -> Partnerships | None:
    """``current`` with the partnerships, internal-only or data-partnerships sentence on line
    ``number`` added; None when the line is none of these (both renderings use this)."""
    line, span = ledger.text(number).strip(), Span.line(number)
    if (items := frames.partnerships(line, span, options)) is not None:
        ledger.mapped(number, "partnerships.partner_types")
        return replace(current, sentence=Sourced(line, span), partner_types=items)
    if frames.internal_only(line):
        ledger.mapped(number, "partnerships.internal_only")
        return replace(current, sentence=Sourced(line, span), internal_only=Sourced(True, span))
    if (items := frames.data_partnerships(line, span, options)) is not None:
        ledger.mapped(number, "partnerships.data_partner_types")
        return replace(current, data_sentence=Sourced(line, span), data_partner_types=items)
    return None


class _FlatReader:
    """The state of one flattened page while its lines are read. Each ``_read_*`` step claims
    the lines of one shape; they are tried in a fixed order, as a line could fit several."""

    def __init__(self, ledger: Ledger, options: SurveyOptions) -> None:
        self.ledger = ledger
        self.options = options
        self.result = FlatResult()
        self.numbered_labels = _numbered_template_labels(options)
        self.seen: set[tuple[str, str]] = set()
        self.population_at: int | None = None
        self.dedicated: Statement | None = None
        self.invests: tuple[Choice, ...] = ()
        self.placement_lines: list[Sourced[str]] = []
        self.also: Sourced[str] | None = None
        self.also_items: tuple[Choice, ...] = ()
        self.partnerships = Partnerships()

    def read(self, number: int) -> None:
        """Claim line ``number`` with the first step that knows its shape, else as a choice."""
        line, span = self.ledger.text(number).strip(), Span.line(number)
        steps = (
            self._read_note,
            self._read_vision,
            self._read_dedicated_funding,
            self._read_also_include,
            self._read_partnerships,
            self._read_invests,
            self._read_population,
            self._read_numbered_label,
            self._read_placement,
        )
        if not any(step(number, line, span) for step in steps):
            _choice(line, span, self.options, self.seen, self.result, self.ledger, number)

    def finish(self) -> FlatResult:
        """Assemble the result; the header comes last, from the lines around the population
        that no other step claimed."""
        result = self.result
        result.header = _header(self.ledger, self.population_at)
        result.placement = frames.placement(self.placement_lines) if self.placement_lines else None
        result.activities = Activities((), self.also, self.also_items)
        result.funding = Funding(self.dedicated, self.invests)
        result.partnerships = self.partnerships
        return result

    def _read_note(self, number: int, line: str, span: Span) -> bool:
        if (year := frames.note_year(line)) is None:
            return False
        self.ledger.mapped(number, "survey.snapshot_note_year")
        self.result.note = Sourced(year, span)
        return True

    def _read_vision(self, number: int, line: str, span: Span) -> bool:
        """The strategy-and-approach sentence; the first one found of each is kept."""
        if not ((found := frames.strategy(line, span)) or frames.approach(line, span)):
            return False
        self.ledger.mapped(number, "vision.strategy_and_approach")
        self.result.strategy = self.result.strategy or found
        self.result.approach = self.result.approach or frames.approach(line, span)
        return True

    def _read_dedicated_funding(self, number: int, line: str, span: Span) -> bool:
        if (dedicated := frames.dedicated_funding(line, span)) is None:
            return False
        self.ledger.mapped(number, "funding.dedicated")
        self.dedicated = dedicated
        return True

    def _read_also_include(self, number: int, line: str, span: Span) -> bool:
        if (items := frames.also_include(line, span, self.options)) is None:
            return False
        self.ledger.mapped(number, "activities.also_include")
        self.also, self.also_items = Sourced(line, span), items
        return True

    def _read_partnerships(self, number: int, line: str, span: Span) -> bool:
        found = read_partnership_line(self.ledger, number, self.options, self.partnerships)
        if found is None:
            return False
        self.partnerships = found
        return True

    def _read_invests(self, number: int, line: str, span: Span) -> bool:
        if (items := frames.invests(line, span, self.options)) is None:
            return False
        self.ledger.mapped(number, "funding.invests_in")
        self.invests = items
        return True

    def _read_population(self, number: int, line: str, span: Span) -> bool:
        """Only the first population line: the header is read around it at the end."""
        if not frames.population(line) or self.population_at is not None:
            return False
        self.population_at = number
        return True

    def _read_numbered_label(self, number: int, line: str, span: Span) -> bool:
        if normalise(line) not in self.numbered_labels:
            return False
        self.ledger.template(number, "activities.numbered_list")
        return True

    def _read_placement(self, number: int, line: str, span: Span) -> bool:
        if not (
            frames.looks_like_sentence(line) and any(c in line.casefold() for c in PLACEMENT_CUES)
        ):
            return False
        self.ledger.mapped(number, "placement")
        self.placement_lines.append(Sourced(line, span))
        return True


def _numbered_template_labels(options: SurveyOptions) -> set[str]:
    return set(options.schemes.get("activities", {}))


def _choice(
    line: str,
    span: Span,
    options: SurveyOptions,
    seen: set[tuple[str, str]],
    result: FlatResult,
    ledger: Ledger,
    number: int,
) -> bool:
    """A goal or success factor option; the page prints each block twice, keep the first."""
    for scheme, target, field_name in (
        ("goals", result.goals, "goals"),
        ("success-factors", result.success_factors, "success_factors"),
    ):
        option = options.match(scheme, line)
        if option is None:
            continue
        if (scheme, option) in seen:
            ledger.template(number, f"{field_name}.repeated_summary")
        else:
            seen.add((scheme, option))
            ledger.mapped(number, field_name)
            target.append(Choice(line, option, span))
        return True
    return False


def _header(ledger: Ledger, population_at: int | None) -> Header:
    """Country and mayor stand right before the population, the officers right after it."""
    if population_at is None:
        return Header()
    parsed = frames.population(ledger.text(population_at))
    assert parsed is not None
    ledger.mapped(population_at, "header.population")
    span = Span.line(population_at)
    before: list[int] = []
    for n in range(population_at - 1, max(population_at - 3, 0), -1):
        if not ledger.text(n).strip() or ledger.is_claimed(n):
            break
        before.insert(0, n)
    country = mayor = None
    if before:
        mayor_at = before.pop()
        ledger.mapped(mayor_at, "header.mayor")
        mayor = Person(ledger.text(mayor_at).strip(), None, Span.line(mayor_at))
    if before:
        country_at = before.pop()
        ledger.mapped(country_at, "header.country")
        country = Sourced(ledger.text(country_at).strip(), Span.line(country_at))
    officers: tuple[Person, ...] = ()
    after = population_at + 1
    if after <= len(ledger.lines) and not ledger.is_claimed(after) and ledger.text(after).strip():
        line = ledger.text(after).strip()
        if not frames.looks_like_sentence(line):
            ledger.mapped(after, "header.lead_officers")
            officers = tuple(frames.split_people(line, Span.line(after)))
    year = Sourced(parsed[1], span) if parsed[1] is not None else None
    return Header(None, country, mayor, Sourced(parsed[0], span), year, None, officers)
