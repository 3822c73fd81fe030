"""The flattened rendering (SURVEY.md §4.2): no headings, so values are known by their shape.

Best effort: goals and success factors are recognised only when they are survey options, and
whatever is not recognised is reported as unmapped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
from .ledger import Ledger

PLACEMENT_CUES = (
    "situated ",
    "innovation work is",
    "dedicated team",
    "innovation team",
    "independent department",
    "independent body",
    "standalone department",
)


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
    result = FlatResult()
    numbers = [n for n in range(first, len(ledger.lines) + 1) if ledger.text(n).strip()]
    numbered_labels = _numbered_template_labels(options)
    seen: set[tuple[str, str]] = set()
    population_at: int | None = None
    dedicated = None
    invests: tuple[Choice, ...] = ()
    placement_lines: list[Sourced[str]] = []
    also: Sourced[str] | None = None
    also_items: tuple[Choice, ...] = ()
    partnership = Partnerships()
    for number in numbers:
        line, span = ledger.text(number).strip(), Span.line(number)
        if (year := frames.note_year(line)) is not None:
            ledger.mapped(number, "survey.snapshot_note_year")
            result.note = Sourced(year, span)
        elif (found := frames.strategy(line, span)) or frames.approach(line, span):
            ledger.mapped(number, "vision.strategy_and_approach")
            result.strategy = result.strategy or found
            result.approach = result.approach or frames.approach(line, span)
        elif (d := frames.dedicated_funding(line, span)) is not None:
            ledger.mapped(number, "funding.dedicated")
            dedicated = d
        elif (items := frames.also_include(line, span, options)) is not None:
            ledger.mapped(number, "activities.also_include")
            also, also_items = Sourced(line, span), items
        elif (items := frames.partnerships(line, span, options)) is not None:
            ledger.mapped(number, "partnerships.partner_types")
            partnership = _replace(partnership, sentence=Sourced(line, span), partner_types=items)
        elif frames.internal_only(line):
            ledger.mapped(number, "partnerships.internal_only")
            partnership = _replace(
                partnership, sentence=Sourced(line, span), internal_only=Sourced(True, span)
            )
        elif (items := frames.data_partnerships(line, span, options)) is not None:
            ledger.mapped(number, "partnerships.data_partner_types")
            partnership = _replace(
                partnership, data_sentence=Sourced(line, span), data_partner_types=items
            )
        elif (items := frames.invests(line, span, options)) is not None:
            ledger.mapped(number, "funding.invests_in")
            invests = items
        elif frames.population(line) and population_at is None:
            population_at = number
        elif normalise(line) in numbered_labels:
            ledger.template(number, "activities.numbered_list")
        elif frames.looks_like_sentence(line) and any(c in line.casefold() for c in PLACEMENT_CUES):
            ledger.mapped(number, "placement")
            placement_lines.append(Sourced(line, span))
        else:
            _choice(line, span, options, seen, result, ledger, number)
    result.header = _header(ledger, population_at)
    result.placement = frames.placement(placement_lines) if placement_lines else None
    result.activities = Activities((), also, also_items)
    result.funding = Funding(dedicated, invests)
    result.partnerships = partnership
    return result


def _replace(partnerships: Partnerships, **changes: object) -> Partnerships:
    from dataclasses import replace

    return replace(partnerships, **changes)  # type: ignore[arg-type]


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
