"""The headed rendering: split the page at its template headings, then read each section."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..records import (
    Activities,
    BlockKind,
    Choice,
    DataAvailability,
    Funding,
    FundingSource,
    Header,
    Narrative,
    NarrativeBlock,
    Person,
    Placement,
    PolicyFocus,
    Roles,
    Sourced,
    Span,
    Statement,
    SurveyOptions,
    normalise,
)
from . import frames
from .ledger import Ledger

HEADINGS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (key, re.compile(pattern))
    for key, pattern in (
        ("goals", r"^Innovation is helping to:$"),
        ("success_factors", r"^Critical success factors:$"),
        ("spotlight", r"^Spotlight on innovation in (?P<name>.+)$"),
        ("note", frames.NOTE.pattern),
        ("vision", r"^Vision and approach to innovation capacity$"),
        ("policy_focus", r"^Policy areas that (?P<name>.+) is focused on$"),
        ("policy_chart", r"^Policy areas by number of cities$"),
        ("roles", r"^(?P<name>.+) utilizes (?P<count>\d+) different innovation skills or roles$"),
        ("roles", r"^Innovation skills or roles$"),
        ("roles_chart", r"^Innovation roles by number of cities$"),
        ("terms", r"^Terms (?P<name>.+) most associates with innovation$"),
        ("activities", r"^(?P<name>.+?)(?:'s|') most common innovation activities$"),
        ("funding", r"^How is innovation funded here\?$"),
        ("funding_sources", r"^Top sources of funding$"),
        ("funded_activities", r"^Activities being funded$"),
        ("measured", r"^How is innovation measured\?$"),
        ("data_availability", r"^Data availability by policy area$"),
    )
)
# Headings whose text a cut last line may be the start of, with the city name filled in.
CUT_HEADINGS = (
    "Innovation is helping to:",
    "Critical success factors:",
    "Spotlight on innovation in {name}",
    "Vision and approach to innovation capacity",
    "Policy areas that {name} is focused on",
    "Policy areas by number of cities",
    "Innovation roles by number of cities",
    "Terms {name} most associates with innovation",
    "{name}'s most common innovation activities",
    "How is innovation funded here?",
    "Top sources of funding",
    "Activities being funded",
    "How is innovation measured?",
    "Data availability by policy area",
)
HEADER_LABELS = {
    "Mayor": "mayor",
    "Population": "population",
    "Innovation Website": "website",
    "Lead Innovation Officer": "officers",
    "Lead Innovation Officers": "officers",
}
BULLET = re.compile(r"^\s*•\s*(?P<text>.*)$")
NUMBERED_ITEM = re.compile(r"^\s*(?P<n>\d+)\.\s+(?P<text>.+)$")
CHART_NUMBER = re.compile(r"^\s*(?P<n>\d+)\. (?P=n)$")
CHART_RESIDUE = re.compile(r"^\d+ cities$")
FUNDED_FOOTNOTE = re.compile(r'^\*".+" is not an option in the \d{4} survey')


def heading_of(line: str) -> tuple[str, re.Match[str]] | None:
    plain = frames.straight(line.strip())
    for key, pattern in HEADINGS:
        match = pattern.match(plain)
        if match:
            return key, match
    return None


@dataclass
class Section:
    key: str
    heading_line: int
    match: re.Match[str] | None
    body: list[int] = field(default_factory=list)


def split_sections(ledger: Ledger, first: int) -> tuple[list[int], list[Section]]:
    """The header lines before the first heading, and the sections in page order."""
    header: list[int] = []
    sections: list[Section] = []
    for number in range(first, len(ledger.lines) + 1):
        found = heading_of(ledger.text(number))
        if found:
            key, match = found
            ledger.template(number, key)
            sections.append(Section(key, number, match))
        elif sections:
            sections[-1].body.append(number)
        else:
            header.append(number)
    return header, sections


class HeadedReader:
    """Reads the sections of a headed page into record parts, claiming lines in the ledger."""

    def __init__(self, ledger: Ledger, options: SurveyOptions) -> None:
        self.ledger = ledger
        self.options = options

    def text(self, number: int) -> str:
        return self.ledger.text(number).strip()

    def nonblank(self, numbers: list[int]) -> list[int]:
        return [n for n in numbers if self.text(n)]

    # --- header ---------------------------------------------------------------------------

    def header(self, numbers: list[int], heading_name: Sourced[str] | None) -> Header:
        values: list[tuple[int, str | None]] = []
        label: str | None = None
        website: Span | None = None
        for number in self.nonblank(numbers):
            line = self.text(number)
            if line in HEADER_LABELS:
                self.ledger.template(number, "header.labels")
                label = HEADER_LABELS[line]
                if label == "website":
                    self.ledger.mapped(number, "header.website_link")
                    website = Span.line(number)
                    label = None
                continue
            values.append((number, label))
            label = None if label != "officers" else label
        population = year = mayor = None
        officers: list[Person] = []
        unlabelled_before_population: list[int] = []
        for number, value_label in values:
            line = self.text(number)
            parsed = frames.population(line)
            if parsed and population is None and value_label in (None, "population"):
                self.ledger.mapped(number, "header.population")
                population = Sourced(parsed[0], Span.line(number))
                if parsed[1] is not None:
                    year = Sourced(parsed[1], Span.line(number))
            elif value_label == "officers":
                self.ledger.mapped(number, "header.lead_officers")
                officers.extend(frames.split_people(line, Span.line(number)))
            elif value_label == "mayor":
                self.ledger.mapped(number, "header.mayor")
                mayor = Person(line, None, Span.line(number))
            elif population is None and value_label is None:
                unlabelled_before_population.append(number)
        candidates = unlabelled_before_population
        is_name = (
            heading_name is not None
            and bool(candidates)
            and (normalise(self.text(candidates[0])) == normalise(heading_name.value))
        )
        if (
            mayor is None
            and population is not None
            and candidates
            and not (is_name and len(candidates) == 1)
        ):
            number = candidates.pop()
            self.ledger.mapped(number, "header.mayor")
            mayor = Person(self.text(number), None, Span.line(number))
        name = country = None
        if len(candidates) >= 2 or is_name:
            number = candidates.pop(0)
            self.ledger.mapped(number, "header.display_name")
            name = Sourced(self.text(number), Span.line(number))
        if len(candidates) == 1:
            number = candidates.pop(0)
            self.ledger.mapped(number, "header.country")
            country = Sourced(self.text(number), Span.line(number))
        if name is None and heading_name is not None:
            self.ledger.mapped(heading_name.span.first, "header.display_name")
            name = heading_name
        return Header(name, country, mayor, population, year, website, tuple(officers))

    # --- lists ----------------------------------------------------------------------------

    def bullets(self, section: Section, scheme: str, field_name: str) -> tuple[Choice, ...]:
        items = []
        for number in self.nonblank(section.body):
            match = BULLET.match(self.ledger.text(number))
            if match and match.group("text").strip():
                self.ledger.mapped(number, field_name)
                wording = match.group("text").strip()
                items.append(self.options.choice(scheme, wording, Span.line(number)))
        return tuple(items)

    def plain_list(self, numbers: list[int], scheme: str, field_name: str) -> tuple[Choice, ...]:
        items = []
        for number in numbers:
            self.ledger.mapped(number, field_name)
            items.append(self.options.choice(scheme, self.text(number), Span.line(number)))
        return tuple(items)

    # --- narrative sections ---------------------------------------------------------------

    def spotlight(self, section: Section) -> tuple[NarrativeBlock, ...]:
        blocks: list[NarrativeBlock] = []
        for number in self.nonblank(section.body):
            raw = self.ledger.text(number)
            bullet, numbered = BULLET.match(raw), NUMBERED_ITEM.match(raw)
            kind: BlockKind = "bullets" if bullet else "numbered" if numbered else "paragraph"
            listed = bullet or numbered
            text = listed.group("text") if listed else raw.strip()
            self.ledger.mapped(number, f"spotlight.{kind}")
            item = Sourced(text.strip(), Span.line(number))
            if kind != "paragraph" and blocks and blocks[-1].kind == kind:
                blocks[-1] = NarrativeBlock(kind, (*blocks[-1].items, item))
            else:
                blocks.append(NarrativeBlock(kind, (item,)))
        return tuple(blocks)

    def vision(
        self, section: Section
    ) -> tuple[Statement | None, Statement | None, tuple[Sourced[str], ...]]:
        strategy = approach = None
        notes: list[Sourced[str]] = []
        for number in self.nonblank(section.body):
            line, span = self.text(number), Span.line(number)
            found_strategy = frames.strategy(line, span)
            found_approach = frames.approach(line, span)
            strategy = strategy or found_strategy
            approach = approach or found_approach
            if found_strategy or found_approach:
                self.ledger.mapped(number, "vision.strategy_and_approach")
            else:
                self.ledger.mapped(number, "vision_notes")
                notes.append(Sourced(line, span))
        return strategy, approach, tuple(notes)

    def policy_focus(self, section: Section | None, extra: list[int]) -> PolicyFocus:
        prioritises: Sourced[bool] | None = None
        areas: list[Choice] = []
        narratives: list[Narrative] = []
        numbers = (section.body if section else []) + extra
        for number in self.nonblank(numbers):
            line, span = self.text(number), Span.line(number)
            if frames.no_priority(line):
                self.ledger.mapped(number, "policy_focus.prioritises")
                prioritises = Sourced(False, span)
                continue
            labelled = re.match(r"^(?P<label>[^:]{1,60}): (?P<text>.+)$", line)
            if labelled or frames.looks_like_sentence(line):
                self.ledger.mapped(number, "policy_focus.narratives")
                label = labelled.group("label") if labelled else None
                text = labelled.group("text") if labelled else line
                area = self._narrative_area(label, areas)
                narratives.append(Narrative(label, area, text, span))
                continue
            self.ledger.mapped(number, "policy_focus.areas")
            areas.append(self.options.choice("policy-areas", line, span))
        if areas and prioritises is None and section is not None:
            prioritises = Sourced(True, Span(areas[0].span.first, areas[-1].span.last))
        return PolicyFocus(prioritises, tuple(areas), tuple(narratives))

    def _narrative_area(self, label: str | None, areas: list[Choice]) -> str | None:
        if label is None:
            return None
        for area in areas:
            if normalise(area.wording) == normalise(label):
                return area.wording
        return None

    def roles(self, section: Section) -> tuple[Roles, list[Sourced[str]]]:
        count = None
        if section.match is not None and "count" in section.match.groupdict():
            count = Sourced(int(section.match.group("count")), Span.line(section.heading_line))
            self.ledger.mapped(section.heading_line, "roles.stated_count")
        roles: list[int] = []
        paragraphs: list[Sourced[str]] = []
        for number in self.nonblank(section.body):
            line = self.text(number)
            if frames.looks_like_sentence(line):
                paragraphs.append(Sourced(line, Span.line(number)))
            else:
                roles.append(number)
        return Roles(count, self.plain_list(roles, "roles", "roles.roles")), paragraphs

    def placement(self, paragraphs: list[Sourced[str]]) -> Placement | None:
        if not paragraphs:
            return None
        for paragraph in paragraphs:
            for number in range(paragraph.span.first, paragraph.span.last + 1):
                self.ledger.mapped(number, "placement")
        return frames.placement(paragraphs)

    def activities(self, section: Section) -> Activities:
        selected: list[Choice] = []
        also = None
        also_items: tuple[Choice, ...] = ()
        in_chart = False
        for number in self.nonblank(section.body):
            raw, line, span = self.ledger.text(number), self.text(number), Span.line(number)
            items = frames.also_include(line, span, self.options)
            if items is not None:
                self.ledger.mapped(number, "activities.also_include")
                also, also_items = Sourced(line, span), items
            elif CHART_NUMBER.match(raw):
                in_chart = True
                self.ledger.template(number, "activities.numbered_list")
            elif in_chart or raw.startswith("    "):
                self.ledger.template(number, "activities.numbered_list")
            elif line.startswith("e.g. "):
                self.ledger.template(number, "activities.example")
            else:
                self.ledger.mapped(number, "activities.selected")
                selected.append(self.options.choice("activities", line, span))
        return Activities(tuple(selected), also, also_items)

    # --- funding, partnerships, data --------------------------------------------------------

    def funding(self, sections: dict[str, Section]) -> Funding:
        dedicated: Statement | None = None
        invests: tuple[Choice, ...] = ()
        if "funding" in sections:
            for number in self.nonblank(sections["funding"].body):
                line, span = self.text(number), Span.line(number)
                found = frames.dedicated_funding(line, span)
                if found:
                    self.ledger.mapped(number, "funding.dedicated")
                    dedicated = found
                    continue
                found_investments = frames.invests(line, span, self.options)
                if found_investments is not None:
                    self.ledger.mapped(number, "funding.invests_in")
                    invests = found_investments
        sources = self.funding_sources(sections.get("funding_sources"))
        funded, residue = self.funded_activities(sections.get("funded_activities"))
        return Funding(dedicated, invests, sources, funded, residue)

    def funding_sources(self, section: Section | None) -> tuple[FundingSource, ...]:
        """Label, the label again (chart residue), then its definition: one triple per source."""
        if section is None:
            return ()
        sources: list[FundingSource] = []
        label: Choice | None = None
        definition: Sourced[str] | None = None
        for number in self.nonblank(section.body):
            line, span = self.text(number), Span.line(number)
            if label is not None and line == label.wording and definition is None:
                self.ledger.template(number, "funding.sources.repeated_label")
            elif label is not None and definition is None and frames.looks_like_sentence(line):
                self.ledger.mapped(number, "funding.sources.definition")
                definition = Sourced(line, span)
            else:
                if label is not None:
                    sources.append(FundingSource(label, definition))
                self.ledger.mapped(number, "funding.sources")
                label, definition = self.options.choice("funding-sources", line, span), None
        if label is not None:
            sources.append(FundingSource(label, definition))
        return tuple(sources)

    def funded_activities(
        self, section: Section | None
    ) -> tuple[tuple[Choice, ...], tuple[Sourced[str], ...]]:
        """The city's activities are the labels before the first "N cities" line; from there on
        the chart's labels and counts are kept verbatim, with no alignment invented."""
        if section is None:
            return (), ()
        funded: list[Choice] = []
        residue: list[Sourced[str]] = []
        for number in self.nonblank(section.body):
            line, span = self.text(number), Span.line(number)
            if FUNDED_FOOTNOTE.match(line):
                self.ledger.template(number, "funding.funded_activities.footnote")
            elif residue or CHART_RESIDUE.match(line):
                self.ledger.mapped(number, "funding.chart_residue")
                residue.append(Sourced(line, span))
            else:
                self.ledger.mapped(number, "funding.funded_activities")
                funded.append(self.options.choice("funded-activities", line, span))
        return tuple(funded), tuple(residue)

    def data_availability(self, section: Section) -> DataAvailability:
        counts: list[Sourced[int]] = []
        lists: dict[str, list[int]] = {"sufficient": [], "insufficient": []}
        current: str | None = None
        for number in self.nonblank(section.body):
            line = self.text(number)
            if line in ("Sufficient data", "Insufficient data"):
                self.ledger.template(number, "data_availability.labels")
                current = line.split()[0].casefold()
            elif current is None and line.isdigit():
                self.ledger.mapped(number, "data_availability.stated_counts")
                counts.append(Sourced(int(line), Span.line(number)))
            elif current is not None:
                lists[current].append(number)
        return DataAvailability(
            tuple(counts),
            self.plain_list(lists["sufficient"], "policy-areas", "data_availability.sufficient"),
            self.plain_list(
                lists["insufficient"], "policy-areas", "data_availability.insufficient"
            ),
        )
