"""One synthetic page, written line by line in the order the real pages print their sections."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..records import normalise
from ..vocab import slug
from .words import (
    AIMS,
    APPROACH_SHARES,
    COUNTRIES,
    FUNDED_FOOTNOTE,
    FUNDING_SHARES,
    GIVEN_NAMES,
    METHODS,
    NAME_PREFIXES,
    NOT_IN_WAVE,
    NOTE,
    OFFICER_NOTES,
    OWN_AREAS,
    OWN_FACTORS,
    OWN_GOALS,
    OWN_ROLES,
    OWN_TERMS,
    PARTNERS,
    PROGRAMME_ADJECTIVES,
    PROGRAMME_KINDS,
    PROGRAMME_NOUNS,
    RESULTS,
    SECTORS,
    STATES,
    STRATEGY_SHARES,
    SYLLABLES,
    SYNTHETIC_MARKER,
    TECHNOLOGIES,
    TITLES,
    UNIT_PARTS,
    UNIT_WORDS,
    _concept,
    _labels,
    _numbered_label,
    _schemes,
)


@dataclass(frozen=True)
class SyntheticProfile:
    """One generated page and the choices it was built from (for checking the parser)."""

    seed: int
    index: int
    file_name: str
    text: str
    display_name: str
    short_name: str
    country: str
    header_lines: tuple[str, ...]  # which of "name", "country" the header prints
    mayor: str
    population: int
    population_year: int | None
    officers: tuple[str, ...]
    site_version: str  # "original" | "updated"
    wave: int  # 2018 | 2020
    note_year: int | None
    goals: tuple[str, ...]
    success_factors: tuple[str, ...]
    spotlight_lines: int
    has_strategy: bool
    approach: str  # approaches slug
    policy_areas: tuple[str, ...]
    prioritises: bool | None
    narratives: tuple[str, ...]  # the areas the narratives are about ("" when unlabelled)
    stated_roles: int | None
    roles: tuple[str, ...]
    placement_kind: str | None
    team_size: int | None
    terms: tuple[str, ...]
    activities: tuple[str, ...]  # the city's e.g.-list selection
    numbered_list: bool
    funding_half: bool
    dedicated_funding: bool | None
    funding_sources: tuple[str, ...]
    funded_activities: tuple[str, ...]
    partner_types: tuple[str, ...]
    data_partner_types: tuple[str, ...]
    sufficient_data: tuple[str, ...]
    insufficient_data: tuple[str, ...]
    truncated: bool


# --- the generator --------------------------------------------------------------------------------


def _join(items: list[str]) -> str:
    """ "a", "a and b", "a, b, and c"."""
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


class _Builder:
    def __init__(self, seed: int, index: int) -> None:
        self.seed = seed
        self.index = index
        self.r = random.Random(f"{seed}:{index}")
        self.lines: list[str] = []

    # helpers

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def pick(self, items: tuple[str, ...] | list[str]) -> str:
        return items[self.r.randrange(len(items))]

    def sample(self, items: tuple[str, ...] | list[str], k: int) -> list[str]:
        return self.r.sample(list(items), min(k, len(items)))

    def own(self, pool: tuple[str, ...], scheme: str, taken: list[str]) -> str | None:
        """A free-text answer of the city's own: not a vocabulary wording, not already taken."""
        known = {normalise(c.label) for c in _schemes()[scheme]} | {
            normalise(a) for c in _schemes()[scheme] for a in c.alt_labels
        }
        free = [p for p in pool if normalise(p) not in known and p not in taken]
        return self.pick(free) if free else None

    def emit(self, *lines: str) -> None:
        self.lines.extend(lines)

    def word(self) -> str:
        count = self.r.choice((2, 2, 2, 3))
        return "".join(self.pick(SYLLABLES) for _ in range(count)).capitalize()

    def person(self) -> str:
        surname = self.word()
        if self.chance(0.15):
            surname = f"{surname}-{self.word()}"
        return f"{self.pick(GIVEN_NAMES)} {surname}"

    def programme(self, city: str) -> str:
        if self.chance(0.2):
            return f"the {city} {self.pick(PROGRAMME_NOUNS)} {self.pick(PROGRAMME_KINDS)}"
        return (
            f"the {self.pick(PROGRAMME_ADJECTIVES)} {self.pick(PROGRAMME_NOUNS)}"
            f" {self.pick(PROGRAMME_KINDS)}"
        )

    def sentence(self, city: str) -> str:
        year = self.r.randint(2012, 2020)
        n = self.r.randint(5, 60)
        programme = self.programme(city)
        frames = (
            f"{city} launched {programme} in {year} to {self.pick(AIMS)}.",
            "The work brings together {} and {} to {}.".format(
                *self.sample(PARTNERS, 2), self.pick(AIMS)
            ),
            f"Since {year}, more than {n * 100:,} residents have taken part in {programme},"
            f" which uses {self.pick(METHODS)} to {self.pick(AIMS)}.",
            f"Early results show {self.pick(RESULTS).format(n=n)}.",
            f"The city is now looking to scale the approach across all {self.r.randint(4, 20)}"
            " districts.",
            f"{programme[0].upper()}{programme[1:]} started as a small pilot in {self.word()}"
            f" and now covers the whole city.",
            f"By combining {self.pick(TECHNOLOGIES)} with {self.pick(METHODS)}, the team has"
            f" managed to {self.pick(AIMS)} at a fraction of the usual cost.",
            f"{city} works closely with {self.pick(PARTNERS)}, who co-fund the pilots and help"
            " evaluate them.",
        )
        return self.pick(frames)

    def opener(self, city: str) -> str:
        year = self.r.randint(2012, 2020)
        programme = self.programme(city)
        frames = (
            f"{city} launched {programme} in {year} to {self.pick(AIMS)}.",
            f"In {year}, {city} set up {programme} to {self.pick(AIMS)}.",
            f"{city}’s {self.pick(TITLES)} leads {programme}, a city-wide effort to"
            f" {self.pick(AIMS)}.",
            f"{city} has been working with {self.pick(PARTNERS)} to {self.pick(AIMS)}.",
        )
        return self.pick(frames)

    def paragraph(self, city: str, sentences: int, at_least: int = 0) -> str:
        parts = [self.opener(city)] + [self.sentence(city) for _ in range(sentences - 1)]
        while len(" ".join(parts)) < at_least:
            parts.append(self.sentence(city))
        return " ".join(parts)

    # the page

    def build(self) -> SyntheticProfile:
        """The page top to bottom, one step per section: the draws follow the page order."""
        site, wave, note_year = self.site_version()
        city = self.city(wave)
        self.emit(
            f"{SYNTHETIC_MARKER}generated by innograph synth, seed {self.seed},"
            f" city {self.index}; not a real profile"
        )
        shown = self.header(city)
        goals = self.goals(site)
        factors = self.success_factors()
        spotlight = self.spotlight_and_note(city.display, city.short, note_year)
        has_strategy, approach = self.vision(city.display, city.short, site)
        areas, prioritises, narratives = self.policy_areas(city.display, city.short, wave)
        cut_from = sum(len(line) + 1 for line in self.lines)  # cuts fall after the policy areas
        stated, roles, kind, team = self.roles_and_placement(city.display, city.short)
        terms = self.terms(city.display)
        activities, numbered = self.activities(city.display, site, wave)
        funding_half = self.chance(0.5 if site == "original" else 0.93)
        bottom = self.bottom(city.display, site, wave) if funding_half else _Bottom()
        text, truncated = self.finish(cut_from)
        return SyntheticProfile(
            seed=self.seed,
            index=self.index,
            file_name=city.file_name,
            text=text,
            display_name=city.display,
            short_name=city.short,
            country=city.country,
            header_lines=tuple(shown),
            mayor=city.mayor,
            population=city.population,
            population_year=city.population_year,
            officers=city.officers,
            site_version=site,
            wave=wave,
            note_year=note_year,
            goals=tuple(goals),
            success_factors=tuple(factors),
            spotlight_lines=spotlight,
            has_strategy=has_strategy,
            approach=approach,
            policy_areas=tuple(areas),
            prioritises=prioritises,
            narratives=tuple(narratives),
            stated_roles=stated,
            roles=tuple(roles),
            placement_kind=kind,
            team_size=team,
            terms=tuple(terms),
            activities=tuple(activities),
            numbered_list=numbered,
            funding_half=funding_half,
            dedicated_funding=bottom.dedicated,
            funding_sources=bottom.sources,
            funded_activities=bottom.funded,
            partner_types=bottom.partners,
            data_partner_types=bottom.data_partners,
            sufficient_data=bottom.sufficient,
            insufficient_data=bottom.insufficient,
            truncated=truncated,
        )

    def site_version(self) -> tuple[str, int, int | None]:
        """Site version, survey wave and the snapshot note's year (updated 2018 pages only)."""
        roll = self.r.random()
        if roll < 0.5:
            site, wave = "updated", 2018
        elif roll < 0.65:
            site, wave = "original", 2018
        else:
            site, wave = "updated", 2020
        note_year = (
            (2018 if self.chance(0.15) else 2019) if (site, wave) == ("updated", 2018) else None
        )
        return site, wave, note_year

    def city(self, wave: int) -> _City:
        """Names, people and population: what the header prints and the sections repeat."""
        country, code, short, display = self.names()
        file_name = f"synth-{self.index:05d}-{slug(short)}-{code}.txt"
        mayor = self.person()
        officers, officer_line = self.lead_officers()
        population, population_year = self.population(wave)
        return _City(
            country=country,
            short=short,
            display=display,
            file_name=file_name,
            mayor=mayor,
            officers=tuple(officers),
            officer_line=officer_line,
            population=population,
            population_year=population_year,
        )

    def names(self) -> tuple[str, str, str, str]:
        """Country, country code, short name and display name (a US city may add its state)."""
        r = self.r
        country, code = COUNTRIES[r.randrange(len(COUNTRIES))]
        short = self.word()
        if self.chance(0.12):
            short = f"{self.pick(NAME_PREFIXES)} {short}"
        elif self.chance(0.08):
            short = f"{short} City Region" if code == "uk" else f"{short} {self.word()}"
        if self.chance(0.1) and not short.endswith("s"):
            short += "s"
        display = f"{short}, {self.pick(STATES)}" if code == "us" and self.chance(0.15) else short
        return country, code, short, display

    def lead_officers(self) -> tuple[list[str], str]:
        """The officers and the header line naming them (some with a note in brackets)."""
        officers = [self.person() for _ in range(self.r.choice((1, 1, 1, 1, 1, 2, 2, 3)))]
        noted = len(officers) > 1 and self.chance(0.5)
        line = ", ".join(
            f"{o} ({self.pick(OFFICER_NOTES)})" if noted and self.chance(0.7) else o
            for o in officers
        )
        return officers, line

    def population(self, wave: int) -> tuple[int, int | None]:
        """Population and the year quoted with it (2020-wave pages quote later years)."""
        r = self.r
        population = r.choice((r.randint(40, 900), r.randint(900, 9900))) * 1000 + r.randint(0, 999)
        year: int | None
        if wave == 2020:
            year = r.choice((2018, 2019, 2019, 2020, 2011, 2016))
        else:
            year = r.randint(2011, 2017)
        if self.chance(0.05):
            year = None
        return population, year

    def header(self, city: _City) -> dict[str, str]:
        """Labelled header, or a chunked copy that starts mid-header without the labels;
        returns the values shown by key ("name", "country")."""
        r = self.r
        website = ["Innovation Website"] if self.chance(0.4) else []
        multiple = len(city.officers) > 1
        label = "Lead Innovation Officers" if multiple else "Lead Innovation Officer"
        shown: dict[str, str] = {}
        if self.chance(0.55):
            shown["name"] = city.display
            head = [city.display, ""]
            if self.chance(0.95):
                shown["country"] = city.country
                head += [city.country, ""]
            else:
                head += [""]
            head += ["Mayor", "", city.mayor, "", "Population", "", city.population_text, ""]
        else:  # a stored chunk: labels dropped, blank lines left, may start past the name
            start = r.choice(("name", "country", "country", "mayor"))
            values = [("name", city.display), ("country", city.country), ("mayor", city.mayor)]
            keep = values[[v[0] for v in values].index(start) :]
            head = []
            for key, value in keep:
                if key != "mayor":
                    shown[key] = value
                head += [value, "", ""]
            head += [city.population_text, ""]
        self.emit(*head, *website, label, "", city.officer_line, "")
        return shown

    def goals(self, site: str) -> list[str]:
        """The goal bullets (only the original site offers "service-current-obligations")."""
        r = self.r
        pool = [
            c.label
            for c in _schemes()["goals"]
            if site == "original" or c.slug != "service-current-obligations"
        ]
        goals = self.sample(pool, r.choice((1, 2, 3, 3, 3, 3, 4, 5, 6, 7)))
        if self.chance(0.15) and (extra := self.own(OWN_GOALS, "goals", goals)):
            goals.insert(r.randrange(len(goals) + 1), extra)
        self.bullets("Innovation is helping to:", goals)
        return goals

    def success_factors(self) -> list[str]:
        """The success-factor bullets, at most 8, some in an alternative wording."""
        r = self.r
        factors = self.sample(
            _labels("success-factors"), r.choice((1, 2, 3, 4, 4, 5, 5, 5, 6, 7, 8))
        )
        if self.chance(0.15):
            metro = _concept("success-factors", "leadership-from-mayor")
            factors = [metro.alt_labels[0] if f == metro.label else f for f in factors]
        if self.chance(0.15) and (extra := self.own(OWN_FACTORS, "success-factors", factors)):
            factors.insert(r.randrange(len(factors) + 1), extra)
            factors = factors[:8]
        self.bullets("Critical success factors:", factors)
        return factors

    def spotlight_and_note(self, display: str, city: str, note_year: int | None) -> int:
        """The spotlight and, after it, the snapshot note; returns the spotlight's line count."""
        self.emit(f"Spotlight on innovation in {display}", "")
        lines = self.spotlight(city)
        if note_year is not None:
            self.emit(NOTE.format(year=note_year), "")
        return lines

    def vision(self, display: str, city: str, site: str) -> tuple[bool, str]:
        """The strategy-and-approach sentence (now and then with a line of the city's own);
        returns whether the city has a strategy and its approach slug."""
        r = self.r
        has_strategy = self.chance(0.5)
        approach = r.choice(("specific-policy-areas", "holistic", "both", "both"))
        strategy_share = STRATEGY_SHARES[site][0 if has_strategy else 1]
        verb = "has" if has_strategy else "does not have"
        self.emit(
            "Vision and approach to innovation capacity",
            "",
            f"Along with {strategy_share} of cities surveyed, {display} {verb} an explicit"
            f" innovation strategy. Similar to {APPROACH_SHARES[site][approach]} of cities"
            f" surveyed, {display} approaches innovation capacity"
            f" {_concept('approaches', approach).label}.",
            "",
        )
        if self.chance(0.08):
            extra_line = (
                f"Also see {city} Innovation Strategy {r.randint(2020, 2030)}"
                if self.chance(0.5)
                else f"{city} focuses on breaking down barriers to entry and eliminating silos."
            )
            self.emit(extra_line, "")
        return has_strategy, approach

    def terms(self, display: str) -> list[str]:
        """The terms list; the last term is sometimes a wording of the city's own."""
        terms = self.sample(_labels("terms"), self.r.choice((1, 1, 2, 2, 2, 3)))
        if self.chance(0.15) and (extra := self.own(OWN_TERMS, "terms", terms)):
            terms[-1] = extra
        self.emit(f"Terms {display} most associates with innovation", "", *terms, "")
        return terms

    def finish(self, cut_from: int) -> tuple[str, bool]:
        """The page text, ending on its last text line; a few pages are cut after ``cut_from``."""
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        text = "\n".join(self.lines)
        truncated = self.chance(0.05)
        if truncated:
            text = self.cut(text, cut_from)
        return text, truncated

    def bullets(self, heading: str, items: list[str]) -> None:
        self.emit(heading)
        for item in items:
            self.emit(f"  • {item}", "")

    def spotlight(self, city: str) -> int:
        """Empty, or 1-6 paragraphs (some 800+ characters, some with bullets); returns the
        number of paragraph and bullet lines."""
        r = self.r
        if self.chance(0.08):
            return 0
        count = r.choice((1, 1, 1, 1, 1, 2, 2, 3, 4, 6))
        long_one = r.randrange(count) if self.chance(0.15) else -1
        bullets_at = r.randrange(count) if self.chance(0.15) else -1
        numbered_at = r.randrange(count) if self.chance(0.03) and bullets_at < 0 else -1
        lines = 0
        for n in range(count):
            if n == bullets_at:
                self.emit(f"{city} has launched several innovative initiatives including:", "")
                items = r.randint(3, 6)
                for _ in range(items):
                    item = self.programme(city)
                    item = item[4].upper() + item[5:] if item.startswith("the ") else item
                    if self.chance(0.3):
                        item = f"{self.pick(METHODS).capitalize()} – {item}"
                    self.emit(f"  • {item}")
                self.emit("")
                lines += 1 + items
            elif n == numbered_at:
                self.emit(f"{city}’s innovation work follows three steps:", "")
                for step in range(1, 4):
                    self.emit(f"  {step}. {self.sentence(city)}")
                self.emit("")
                lines += 4
            else:
                sentences = r.randint(1, 4)
                self.emit(self.paragraph(city, sentences, 800 if n == long_one else 0), "")
                lines += 1
        return lines

    def policy_areas(
        self, display: str, city: str, wave: int
    ) -> tuple[list[str], bool | None, list[str]]:
        r = self.r
        self.emit(f"Policy areas that {display} is focused on", "")
        areas: list[str] = []
        narratives: list[str] = []
        prioritises: bool | None = True
        roll = r.random()
        if roll < 0.1:
            self.emit(f"{display} does not prioritise policy sectors for its innovation work.", "")
            prioritises = False
        elif roll < 0.14:
            prioritises = None  # nothing listed (detroit, syracuse)
            if wave == 2020 and self.chance(0.5):  # toronto 2020: only a narrative
                label = self.own(OWN_AREAS, "policy-areas", [])
                narratives.append(label or "")
                self.emit("", f"{label}: {self.paragraph(city, r.randint(1, 2))}", "")
        else:
            areas = self.sample(_labels("policy-areas"), r.choice((1, 1, 2, 2, 2, 3, 4)))
            if self.chance(0.2) and (extra := self.own(OWN_AREAS, "policy-areas", areas)):
                areas.insert(r.randrange(len(areas) + 1), extra)
                areas = areas[:4]
            self.emit(*areas)
            if wave == 2020 and self.chance(0.6):
                self.emit("")
                for area in self.sample(areas, r.randint(1, len(areas))):
                    label = area[0] + area[1:].lower() if self.chance(0.3) else area
                    narratives.append(area)
                    self.emit(f"{label}: {self.paragraph(city, r.randint(1, 4))}", "")
                if self.chance(0.1):  # denver 2020: an unlabelled narrative
                    examples = [self.programme(city) for _ in range(3)]
                    narratives.append("")
                    self.emit(
                        f"See more examples of the city's initiatives such as {_join(examples)}.",
                        "",
                    )
        self.emit("Policy areas by number of cities", "")
        return areas, prioritises, narratives

    def roles_and_placement(
        self, display: str, city: str
    ) -> tuple[int | None, list[str], str | None, int | None]:
        r = self.r
        if self.chance(0.07):  # no dedicated team (bilbao, fort-collins)
            title = self.pick(TITLES)
            self.emit(
                "Innovation skills or roles",
                "",
                f"{city} does not have a dedicated team for innovation. Instead, each department"
                f" appoints an innovation lead who reports to the {title}, and projects are"
                " coordinated through a monthly steering group.",
                "",
                "Innovation roles by number of cities",
                "",
            )
            return None, [], "no-dedicated-team", None
        roles = self.sample(_labels("roles"), r.choice((1, 2, 3, 3, 4, 4, 5, 6)))
        if self.chance(0.2) and (extra := self.own(OWN_ROLES, "roles", roles)):
            roles.append(extra)
        if self.chance(0.1) and (extra := self.own(OWN_ROLES, "roles", roles)):
            roles.append(extra)
        stated = len(roles) + (0 if self.chance(0.65) else r.randint(1, 3))
        self.emit(f"{display} utilizes {stated} different innovation skills or roles", "", *roles)
        kind, team, paragraph = self.placement(city) if self.chance(0.9) else (None, None, None)
        if paragraph is not None and self.chance(0.05):  # chattanooga 2018: before the chart
            self.emit("", paragraph, "", "Innovation roles by number of cities", "")
        else:
            self.emit("Innovation roles by number of cities", "")
            if paragraph is not None:
                self.emit(paragraph, "")
        return stated, roles, kind, team

    def placement(self, city: str) -> tuple[str, int | None, str]:
        r = self.r
        team: int | None = r.choice((r.randint(1, 12), r.randint(1, 12), r.randint(10, 80)))
        title = self.pick(TITLES)
        kind = r.choice(
            ("mayors-office", "mayors-office", "city-managers-office", "independent-department",
             "within-another-department", "within-another-department", "distributed")
        )  # fmt: skip
        extra = ""
        if self.chance(0.35):
            extra = f" In addition, the {title} leads process improvement and data initiatives."
        if kind == "mayors-office":
            team_name = (
                f" ({self.pick(('i-team', 'Innovation Lab', 'Office of New Urban Mechanics'))})"
            )
            text = (
                f"Situated in the Mayor’s office, {city}’s dedicated team for innovation"
                f"{team_name if self.chance(0.3) else ''} consists of {team} staff.{extra}"
            )
        elif kind == "city-managers-office":
            text = (
                f"Situated in the City Manager’s office, {city}’s dedicated team for innovation"
                f" consists of {team} staff.{extra}"
            )
        elif kind == "independent-department":
            opening = r.randrange(3)
            if opening == 0:
                subteams = (
                    f", divided into {r.randint(2, 10)} sub-teams" if self.chance(0.3) else ""
                )
                text = (
                    f"As an independent department, {city}’s dedicated innovation team consists of"
                    f" {team} staff{subteams}.{extra}"
                )
            elif opening == 1:
                text = (
                    f"Situated as an independent department, {city}’s dedicated team for"
                    f" innovation consists of {team} staff.{extra}"
                )
            else:
                text = f"As an independent body, {city}’s innovation work is led by the {title}."
                team = None
        elif kind == "within-another-department":
            unit = self.unit()
            if self.chance(0.7):
                text = (
                    f"Situated {self.pick(('in', 'within'))} the {unit}, {city}’s dedicated"
                    f" {self.pick(('team for innovation', 'innovation team'))} consists of"
                    f" {team} staff.{extra}"
                )
            else:
                text = (
                    f"Situated in the {unit}, the city’s {title} works across the {self.unit()}"
                    " and is ultimately accountable to the Mayor."
                )
                team = None
        else:
            team = None
            if self.chance(0.5):
                text = (
                    f"{city}’s innovation work is sprinkled throughout the municipality, with each"
                    f" department leading its own projects and the {title} acting as a convenor."
                )
            else:
                sectors = self.sample(SECTORS, r.randint(3, 6))
                text = (
                    f"{city} spreads its innovation capacity in many sectors such as"
                    f" {', '.join(sectors[:-1])} and {sectors[-1]} and the city hires external"
                    " advisors to manage innovation initiatives."
                )
        return kind, team, text

    def unit(self) -> str:
        first, second = self.sample(UNIT_PARTS, 2)
        words = f"{first} and {second}" if self.chance(0.4) else first
        return f"{words} {self.pick(UNIT_WORDS)}"

    def activities(self, display: str, site: str, wave: int) -> tuple[list[str], bool]:
        """The activities heading, the city's e.g.-list and/or the numbered list of all."""
        r = self.r
        possessive = f"{display}'" if display.endswith("s") else f"{display}'s"
        self.emit(f"{possessive} most common innovation activities", "")
        concepts = _schemes()["activities"]
        if site == "original":
            eg_list, numbered = True, self.chance(0.1)
        elif wave == 2018:
            eg_list, numbered = self.chance(0.35), True
        else:
            eg_list, numbered = True, self.chance(0.4)
        selected: list[str] = []
        if eg_list:
            chosen = sorted(r.sample(range(len(concepts)), r.choice((1, 2, 3, 3, 4))))
            for n in chosen:
                selected.append(concepts[n].label)
                self.emit(concepts[n].label)
                if concepts[n].example:
                    self.emit(f"e.g. {concepts[n].example}")
        if numbered:
            for n, concept in enumerate(concepts, start=1):
                self.emit(f"  {n}. {n}", "", f"    {_numbered_label(concept)}", "")
            if self.chance(0.12):
                rest = [c.label for c in concepts if c.label not in selected]
                also = sorted(self.sample(rest, r.randint(1, 2)), key=rest.index)
                items = [a[0].lower() + a[1:] for a in also]
                joined = items[0] if len(items) == 1 else f"{items[0]}; and {items[1]}"
                self.emit(f"Its innovation activities also include {joined}.", "")
        else:
            self.emit("")
        return selected, numbered

    def bottom(self, display: str, site: str, wave: int) -> _Bottom:
        """The page's second half: funding, measurement (partnerships), data availability."""
        dedicated, sources, funded = self.funding(display, site, wave)
        self.emit("How is innovation measured?", "")
        partners = self.partnerships(display)
        data_partners = self.data_partnerships() if self.chance(0.8) else []
        sufficient, insufficient = self.data_availability()
        return _Bottom(
            dedicated,
            tuple(sources),
            tuple(funded),
            tuple(partners),
            tuple(data_partners),
            tuple(sufficient),
            tuple(insufficient),
        )

    def funding(
        self, display: str, site: str, wave: int
    ) -> tuple[bool | None, list[str], list[str]]:
        """The funding section: dedicated funding (updated site only), sometimes what the city
        also invests in, mostly the funding sources and the funded activities."""
        self.emit("How is innovation funded here?", "")
        dedicated = self.dedicated_funding(display) if site == "updated" else None
        if self.chance(0.3):
            self.invests_in(display)
        sources = self.funding_sources() if self.chance(0.85) else []
        funded = self.funded_activities(wave) if self.chance(0.85) else []
        return dedicated, sources, funded

    def dedicated_funding(self, display: str) -> bool:
        dedicated = self.chance(0.81)
        share, verb = (
            (FUNDING_SHARES[0], "has") if dedicated else (FUNDING_SHARES[1], "does not have")
        )
        self.emit(
            f"Like {share} of cities surveyed, {display} {verb} dedicated funding to support"
            " innovation capacity.",
            "",
        )
        return dedicated

    def invests_in(self, display: str) -> None:
        invest = [
            c.label.removeprefix("Investing in ")
            for c in _schemes()["funded-activities"]
            if c.label.startswith("Investing in ")
        ]
        self.emit(
            f"{display} also invests in {_join(invest[: self.r.randint(1, len(invest))])}.", ""
        )

    def funding_sources(self) -> list[str]:
        """Sources as (label, label, definition) triples, in vocabulary order."""
        r = self.r
        self.emit("Top sources of funding", "")
        concepts = _schemes()["funding-sources"]
        chosen = sorted(r.sample(range(len(concepts)), r.randint(1, len(concepts))))
        sources: list[str] = []
        for n in chosen:
            concept = concepts[n]
            sources.append(concept.label)
            self.emit(concept.label, concept.label, concept.definition or "")
        self.emit("")
        return sources

    def funded_activities(self, wave: int) -> list[str]:
        """The city's funded activities, then the chart residue ("N cities", label) and footnote."""
        r = self.r
        self.emit("Activities being funded", "")
        offered = [c.label for c in _schemes()["funded-activities"] if c.slug != NOT_IN_WAVE[wave]]
        funded = self.sample(offered, r.randint(1, 4))
        self.emit(*funded)
        chart = [c.label for c in _schemes()["funded-activities"]]
        chart = chart[1:] if self.chance(0.5) else chart[:-1]
        for label in chart:
            self.emit(f"{r.randint(12, 95)} cities", label)
        self.emit("", FUNDED_FOOTNOTE, "")
        return funded

    def partnerships(self, display: str) -> list[str]:
        """The partnerships sentence, or the internal-only one (returns no partners)."""
        if not self.chance(0.85):
            self.emit(f"{display}’s innovation work is internal to the city administration.", "")
            return []
        partners = sorted(
            self.sample(_labels("partner-types"), self.r.randint(1, 4)),
            key=_labels("partner-types").index,
        )
        self.emit(
            f"{display} has developed partnerships to promote"
            f"{' its' if self.chance(0.3) else ''} innovation capacity with {_join(partners)}.",
            "",
        )
        return partners

    def data_partnerships(self) -> list[str]:
        """The data-partnerships sentence ("other cities" always comes last)."""
        labels = _labels("data-partner-types")
        data_partners = sorted(self.sample(labels, self.r.randint(1, 4)), key=labels.index)
        others = _concept("data-partner-types", "other-cities").label
        main = [f"the {p}" if p.endswith("sector") else p for p in data_partners if p != others]
        tail = f", as well as with {others}" if others in data_partners else ""
        if main:
            listed = ", ".join(main[:-1]) + f" and {main[-1]}" if len(main) > 1 else main[0]
            self.emit(
                "To improve data use, the city has also developed data partnerships with"
                f" {listed}, to collect and analyze data{tail}.",
                "",
            )
        else:
            self.emit(
                "To improve data use, the city has also developed data partnerships with"
                f" {others}, to collect and analyze data.",
                "",
            )
        return data_partners

    def data_availability(self) -> tuple[list[str], list[str]]:
        """The counts, then the sufficient and insufficient policy areas."""
        r = self.r
        areas = list(_labels("policy-areas"))
        r.shuffle(areas)
        split = r.choice((r.randint(0, len(areas)), r.randint(2, 9), r.randint(3, 12)))
        sufficient, insufficient = areas[:split], areas[split:]
        self.emit(
            "Data availability by policy area", "", str(len(sufficient)), str(len(insufficient)), ""
        )
        self.emit("Sufficient data", "")
        for area in sufficient:
            self.emit(area, "")
        self.emit("Insufficient data", "")
        for area in insufficient:
            self.emit(area, "")
        return sufficient, insufficient

    def cut(self, text: str, start: int) -> str:
        """Cut mid-word at a random point after the policy areas, like the stored fragments
        (which stop at about 2,000 characters: most cuts fall soon after the policy areas)."""
        end = len(text) if self.chance(0.4) else min(len(text), start + 1500)
        inside = [
            n for n in range(max(start, 1), end) if text[n - 1].isalpha() and text[n].isalpha()
        ]
        return text[: inside[self.r.randrange(len(inside))]] if inside else text


@dataclass(frozen=True)
class _Bottom:
    dedicated: bool | None = None
    sources: tuple[str, ...] = ()
    funded: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()
    data_partners: tuple[str, ...] = ()
    sufficient: tuple[str, ...] = ()
    insufficient: tuple[str, ...] = ()


@dataclass(frozen=True)
class _City:
    """Who a page is about: the header's values and the names the sections repeat."""

    country: str
    short: str
    display: str
    file_name: str
    mayor: str
    officers: tuple[str, ...]
    officer_line: str
    population: int
    population_year: int | None

    @property
    def population_text(self) -> str:
        year = self.population_year
        return f"{self.population:,}" + (f" ({year})" if year else "")
