"""What synthetic pages are made of: the survey's options (read from the SKOS schemes), the
template's fixed sentences and shares, and the word lists names and narratives are drawn from."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from rdflib.namespace import SKOS

from ..vocab import VOCAB, vocabularies

SYNTHETIC_MARKER = "# synthetic: "

# --- vocabularies -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Concept:
    slug: str
    label: str
    alt_labels: tuple[str, ...]
    definition: str | None
    example: str | None


@cache
def _schemes() -> dict[str, tuple[_Concept, ...]]:
    """Each scheme's concepts in notation order (the order the vocabulary files list them)."""
    graph = vocabularies()
    found: dict[str, list[tuple[str, _Concept]]] = {}
    for concept, scheme in graph.subject_objects(SKOS.inScheme):
        name = str(scheme).removeprefix(VOCAB)
        notation = str(graph.value(concept, SKOS.notation) or concept)
        definition = graph.value(concept, SKOS.definition)
        example = graph.value(concept, SKOS.example)
        found.setdefault(name, []).append(
            (
                notation,
                _Concept(
                    str(concept).removeprefix(f"{VOCAB}{name}/"),
                    str(graph.value(concept, SKOS.prefLabel) or ""),
                    tuple(sorted(str(a) for a in graph.objects(concept, SKOS.altLabel))),
                    None if definition is None else str(definition),
                    None if example is None else str(example),
                ),
            )
        )
    return {name: tuple(c for _, c in sorted(items)) for name, items in sorted(found.items())}


def _labels(scheme: str) -> tuple[str, ...]:
    return tuple(c.label for c in _schemes()[scheme])


def _concept(scheme: str, concept_slug: str) -> _Concept:
    return next(c for c in _schemes()[scheme] if c.slug == concept_slug)


def _numbered_label(concept: _Concept) -> str:
    """The fixed numbered list's wording: the capitalised altLabel (typographic apostrophe
    preferred), else the prefLabel."""
    capitalised = [a for a in concept.alt_labels if a[:1].isupper()]
    curly = [a for a in capitalised if "’" in a]
    return (curly or capitalised or [concept.label])[0]


# --- template constants (SURVEY.md §3, §4.1) ----------------------------------------------------

NOTE = (
    "Note: The City Innovation Snapshot (PDF version) was produced in {year} and some aggregate"
    " findings have been updated with the latest survey results below."
)
# Shares quoted by each site version: strategy (has, does not have) and approach per kind.
STRATEGY_SHARES = {"original": ("44%", "56%"), "updated": ("50%", "50%")}
APPROACH_SHARES = {
    "original": {"specific-policy-areas": "over one-third", "holistic": "24%", "both": "40%"},
    "updated": {"specific-policy-areas": "24%", "holistic": "20%", "both": "more than half"},
}
FUNDING_SHARES = ("81%", "19%")  # updated site only: has, does not have
FUNDED_FOOTNOTE = (
    '*"Training staff and building capacity" is not an option in the 2018 survey, while'
    ' "Launching or sustaining a project" is not an option in the 2020 survey.'
)
# funded-activity slugs that were not an option in a wave (the footnote above)
NOT_IN_WAVE = {
    2018: "training-staff-and-building-capacity",
    2020: "launching-or-sustaining-a-project",
}

# --- fictional names and the city's own wording -------------------------------------------------

COUNTRIES = (
    ("United States", "us"),
    ("United Kingdom", "uk"),
    ("Canada", "ca"),
    ("France", "fra"),
    ("Spain", "esp"),
    ("The Netherlands", "nld"),
    ("Finland", "fin"),
    ("Greece", "grc"),
    ("Portugal", "prt"),
    ("Argentina", "arg"),
    ("Mexico", "mex"),
    ("Costa Rica", "cri"),
    ("South Africa", "zaf"),
    ("Israel", "isr"),
)
STATES = ("CO", "OH", "NC", "MI", "TX", "OR", "WA", "NY", "GA", "MN")
SYLLABLES = (
    "var", "en", "holt", "mar", "bel", "tor", "ka", "lun", "dra", "sel", "vik", "o", "ra",
    "ston", "fen", "mir", "ad", "quen", "bro", "wick", "nau", "tel", "zan", "ri", "ca", "pol",
    "dal", "ven", "ost", "gard", "lin", "mont", "es", "sa", "thal", "cor", "ber", "ly", "an",
    "ford", "ham", "mer", "u", "del", "ter", "vo", "gre", "nes", "al", "do",
)  # fmt: skip
NAME_PREFIXES = ("Port", "San", "New", "Saint", "Lake", "Fort", "North")
GIVEN_NAMES = (
    "Ana", "Tomas", "Leila", "Marcus", "Ines", "Pekka", "Grace", "Daniel", "Yara", "Sofia",
    "Jonas", "Amara", "Elena", "Victor", "Noa", "Priya", "Hugo", "Maya", "Kofi", "Lucia",
    "Oskar", "Helen", "Rafael", "Aiko", "Samuel", "Irene", "Malik", "Clara", "Bruno", "Nadia",
)  # fmt: skip
OFFICER_NOTES = ("current", "at time of 2018 survey", "interim", "former")
OWN_GOALS = (
    "Strengthen the local innovation ecosystem",
    "Attract and retain young talent",
    "Prepare neighbourhoods for climate risks",
    "Build trust in local government",
    "Help small businesses grow",
    "Modernise the municipal workforce",
    "Reduce inequality between districts",
)
OWN_FACTORS = (
    "Leadership from City Manager",
    "Dedicated innovation staff position",
    "Access to external expertise",
    "Strong data infrastructure",
    "Peer learning with other cities",
    "Political continuity",
)
OWN_AREAS = (
    "Resilience",
    "Urban resilience",
    "Energy transition",
    "Water management",
    "Circular economy",
    "Night-time economy",
    "Ageing population",
    "Youth employment",
    "Public space",
    "Food systems",
    "Coastal protection",
    "Digital services",
    "Connectivity",
    "Early learning",
)
OWN_ROLES = (
    "Data analyst",
    "Business analyst",
    "User researcher",
    "Performance analyst",
    "Smart city coordinator",
    "Partnership manager",
    "Civic technologist",
    "Data engineer",
    "Grant writer",
    "Open data manager",
    "Service designer",
)
OWN_TERMS = (
    "Collaboration",
    "Co-creation",
    "Open innovation",
    "Agility",
    "Systems thinking",
    "Continuous improvement",
    "Civic technology",
)
PROGRAMME_ADJECTIVES = (
    "Open", "Civic", "Smart", "Green", "Shared", "Digital", "Neighbourhood", "Resilient",
    "Future", "Healthy", "Connected",
)  # fmt: skip
PROGRAMME_NOUNS = (
    "Streets", "Data", "Harbour", "Schools", "Mobility", "Housing", "Services", "Energy",
    "Care", "Markets", "Parks",
)  # fmt: skip
PROGRAMME_KINDS = (
    "Lab", "Challenge", "Exchange", "Fund", "Programme", "Academy", "Platform", "Initiative",
)  # fmt: skip
AIMS = (
    "cut waiting times for building permits",
    "help residents report problems on their street",
    "test new ways of delivering home care",
    "reduce energy use in public buildings",
    "open up municipal data to local start-ups",
    "bring young people into the design of public services",
    "make bus routes more reliable",
    "support small firms to adopt digital tools",
    "improve air quality around schools",
    "tackle long-term vacancy in the old town",
    "match job seekers with training places",
    "plan for heatwaves and flooding",
)
PARTNERS = (
    "local universities",
    "the regional chamber of commerce",
    "neighbourhood associations",
    "the national innovation agency",
    "philanthropic foundations",
    "start-ups from the city’s incubator",
    "the regional health authority",
    "the public transport operator",
)
RESULTS = (
    "a {n}% drop in processing times",
    "higher satisfaction among the residents who took part",
    "savings of {n}% that were reinvested in new pilots",
    "a sharp rise in the use of open data",
    "{n} new partnerships with local firms",
    "a {n}% rise in applications from under-served districts",
)
TECHNOLOGIES = (
    "low-cost sensors",
    "open-source software",
    "machine learning",
    "a shared data platform",
    "mobile apps",
    "digital twins",
)
METHODS = (
    "human-centered design",
    "rapid prototyping",
    "participatory budgeting",
    "behavioural insights",
    "lean process reviews",
    "citizen panels",
)
UNIT_PARTS = (
    "Finance", "Budget", "Performance", "Technology", "Strategy", "Digital", "Planning",
    "Customer", "Transformation", "Economic Development", "Policy", "Communications",
)  # fmt: skip
UNIT_WORDS = ("Department", "Directorate", "Division", "Services", "Office", "Unit")
TITLES = (
    "Chief Innovation Officer",
    "Chief Data Officer",
    "Director of Innovation",
    "Head of Digital Transformation",
    "Innovation and Partnerships Lead",
)
SECTORS = (
    "Refugees", "Children", "Urban Planning", "Digital", "Culture", "Tourism", "Health", "Housing",
)  # fmt: skip


# --- what the generator chose ---------------------------------------------------------------------
