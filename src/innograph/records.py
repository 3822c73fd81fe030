"""What a profile says, as frozen values; each value remembers the source lines it came from.

No RDF here: records are the contract between the parser and the mapping.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

T = TypeVar("T")

LineKind = Literal["mapped", "template", "blank", "unmapped"]
Rendering = Literal["headed", "flattened"]


@dataclass(frozen=True, slots=True)
class Span:
    """First and last source line (1-based, inclusive) of a value."""

    first: int
    last: int

    @classmethod
    def line(cls, number: int) -> Span:
        return cls(number, number)


@dataclass(frozen=True, slots=True)
class Sourced(Generic[T]):
    """A value with the lines it was read from."""

    value: T
    span: Span


@dataclass(frozen=True, slots=True)
class Choice:
    """An answer printed on the page; ``option`` is the survey option it is, or None for the
    city's own wording. ``wording`` is always kept as printed."""

    wording: str
    option: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class Statement:
    """A sentence frame with a survey-wide share: "Along with 50% of cities surveyed, X has ..."."""

    value: str
    share: str
    share_percent: int | None
    span: Span


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    note: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class Header:
    display_name: Sourced[str] | None = None
    country: Sourced[str] | None = None
    mayor: Person | None = None
    population: Sourced[int] | None = None
    population_year: Sourced[int] | None = None
    website_link: Span | None = None
    lead_officers: tuple[Person, ...] = ()


BlockKind = Literal["paragraph", "bullets", "numbered"]


@dataclass(frozen=True, slots=True)
class NarrativeBlock:
    """A paragraph, or a bulleted or numbered list, of a free narrative."""

    kind: BlockKind
    items: tuple[Sourced[str], ...]


@dataclass(frozen=True, slots=True)
class SurveyContext:
    """Which site version printed the page and which survey wave it reports (SURVEY.md §4.3)."""

    site_version: str | None = None
    snapshot_note_year: Sourced[int] | None = None
    wave: int | None = None
    evidence: str = ""


@dataclass(frozen=True, slots=True)
class Narrative:
    """A policy-area narrative ("Health: ..."); ``area`` is the listed area it belongs to."""

    label: str | None
    area: str | None
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class PolicyFocus:
    prioritises: Sourced[bool] | None = None
    areas: tuple[Choice, ...] = ()
    narratives: tuple[Narrative, ...] = ()


@dataclass(frozen=True, slots=True)
class Roles:
    stated_count: Sourced[int] | None = None
    roles: tuple[Choice, ...] = ()


@dataclass(frozen=True, slots=True)
class UnitTeam:
    """A unit or team the placement names with its own number of staff ("Peak Academy staff
    of 9 and Technology Services staff of 330")."""

    unit: str
    staff: int
    span: Span


@dataclass(frozen=True, slots=True)
class Placement:
    """Where innovation sits: the paragraph verbatim and what can be read from it."""

    text: Sourced[str]
    kind: str | None = None
    units: tuple[Sourced[str], ...] = ()
    accountable_to: Sourced[str] | None = None
    team_size: Sourced[int] | None = None
    dedicated_team: Sourced[bool] | None = None
    teams: tuple[UnitTeam, ...] = ()


@dataclass(frozen=True, slots=True)
class Activities:
    """The city's own activities; the fixed numbered list of 7 is template text, not kept."""

    selected: tuple[Choice, ...] = ()
    also_include: Sourced[str] | None = None
    also_include_items: tuple[Choice, ...] = ()


@dataclass(frozen=True, slots=True)
class FundingSource:
    choice: Choice
    definition: Sourced[str] | None


@dataclass(frozen=True, slots=True)
class Funding:
    dedicated: Statement | None = None
    invests_in: tuple[Choice, ...] = ()
    sources: tuple[FundingSource, ...] = ()
    funded_activities: tuple[Choice, ...] = ()
    chart_residue: tuple[Sourced[str], ...] = ()


@dataclass(frozen=True, slots=True)
class Partnerships:
    sentence: Sourced[str] | None = None
    partner_types: tuple[Choice, ...] = ()
    internal_only: Sourced[bool] | None = None
    data_sentence: Sourced[str] | None = None
    data_partner_types: tuple[Choice, ...] = ()


@dataclass(frozen=True, slots=True)
class DataAvailability:
    stated_counts: tuple[Sourced[int], ...] = ()
    sufficient: tuple[Choice, ...] = ()
    insufficient: tuple[Choice, ...] = ()


@dataclass(frozen=True, slots=True)
class CutItem:
    """The last item of a list where the page is cut short and which is no survey option
    ("Data sci"): kept as printed, with the list it stands in, never read as an answer."""

    field: str
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Profile:
    """One city's profile page as printed, in one rendering."""

    source: str
    line_count: int
    rendering: Rendering
    source_url: Sourced[str] | None = None
    synthetic: Sourced[str] | None = None
    truncated_at: int | None = None
    header: Header = field(default_factory=Header)
    goals: tuple[Choice, ...] = ()
    success_factors: tuple[Choice, ...] = ()
    spotlight: tuple[NarrativeBlock, ...] = ()
    survey: SurveyContext = field(default_factory=SurveyContext)
    strategy: Statement | None = None
    approach: Statement | None = None
    vision_notes: tuple[Sourced[str], ...] = ()
    policy_focus: PolicyFocus = field(default_factory=PolicyFocus)
    roles: Roles = field(default_factory=Roles)
    placement: Placement | None = None
    terms: tuple[Choice, ...] = ()
    activities: Activities = field(default_factory=Activities)
    funding: Funding = field(default_factory=Funding)
    partnerships: Partnerships = field(default_factory=Partnerships)
    data_availability: DataAvailability = field(default_factory=DataAvailability)
    cut_item: CutItem | None = None


@dataclass(frozen=True, slots=True)
class LineClass:
    """How one source line was accounted for; ``field`` names the record field it fed."""

    number: int
    kind: LineKind
    field: str
    text: str


@dataclass(frozen=True, slots=True)
class ParsedProfile:
    profile: Profile
    lines: tuple[LineClass, ...]

    @property
    def unmapped(self) -> tuple[LineClass, ...]:
        return tuple(line for line in self.lines if line.kind == "unmapped")


_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})


def normalise(wording: str) -> str:
    """Comparison key for a wording: apostrophes straightened, spaces collapsed, case folded.

    >>> normalise("  Rethinking your city’s  approach ")
    "rethinking your city's approach"
    """
    return re.sub(r"\s+", " ", wording.translate(_APOSTROPHES)).strip().casefold()


@dataclass(frozen=True)
class SurveyOptions:
    """The survey's option lists, by scheme: normalised wording (labels and variants) to slug."""

    schemes: Mapping[str, Mapping[str, str]]

    @classmethod
    def from_labels(cls, labels: Mapping[str, Iterable[tuple[str, str]]]) -> SurveyOptions:
        """Options from each scheme's (label, slug) pairs; the first slug of a wording wins."""
        schemes: dict[str, dict[str, str]] = {}
        for scheme, pairs in labels.items():
            keyed = schemes.setdefault(scheme, {})
            for label, concept_slug in pairs:
                keyed.setdefault(normalise(label), concept_slug)
        return cls({name: dict(sorted(keyed.items())) for name, keyed in schemes.items()})

    def match(self, scheme: str, wording: str) -> str | None:
        return self.schemes.get(scheme, {}).get(normalise(wording))

    def closest(self, scheme: str, wording: str, cutoff: float = 0.8) -> str | None:
        """The option whose wording is closest to a paraphrase (for prose, not for lists)."""
        labels = self.schemes.get(scheme, {})
        found = difflib.get_close_matches(normalise(wording), sorted(labels), n=1, cutoff=cutoff)
        return labels[found[0]] if found else None

    def choice(self, scheme: str, wording: str, span: Span) -> Choice:
        return Choice(wording, self.match(scheme, wording), span)
