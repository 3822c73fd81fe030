"""Organisations and initiatives named in a narrative, each with its sentence. Pure: no I/O.

The rule. A *run* is a sequence of name words (capitalised, acronyms, or alphanumerics such as
"5G") joined by the connectors of/for/on/to/the/de/and/& between two of them.

1. Sentences end at . ! ? before a capital, digit or quote, never after "e.g.", "i.e.", "St.",
   "Dr." and the like or a single initial; decimals have no space so they never split.
2. Organisation: a run of two or more words containing an organisation head word (Centre,
   Council, Hospital, University, Research, Agency, Office, Team, ...), or "City/County/State of X".
   A run splits after a head word followed by a capitalised non-head ("IBM Research | Global
   Research Lab"), after an acronym followed by a connector ("JRC | of the European Commission"),
   at "and the" ("OECD | and the ... Centre") and before a bare "the" ("Later | the ...").
   "'s" stays inside a name only before a head word ("Children's Hospital"); elsewhere it marks
   an owner ("IBM's | Watson AI platform"). A leading "The", "In", ... is dropped.
3. Initiative: a run ending in an initiative head word (Plan, Strategy, Programme, Academy,
   Initiative, ...), with a trailing year or year range ("Plan 2017-2022"). Also a definite phrase:
   "the" or a possessive, lowercase modifiers, a run, at most two lowercase words, then a lowercase
   head ("the Alder play app", "IBM's Watson AI platform", "Europe's leading ... 5G programs");
   evaluative words such as "leading" are dropped, "a"/"an" introduce no name, a lowercase
   organisation head ("Austin's Innovation office") gives an organisation.
4. Naming frames give a name the kind of the noun beside it: "a project called X", "a
   non-profit organization, X,", "a web site – X –", "project X", "X (ACR), a project", "X is an
   application", a quoted “X” after a noun, and a list item "Category – X".
5. Acronym: an all-caps word of 2–6 letters not in a list of common non-names (UK, AI, R&D, ...)
   is an organisation; in parentheses right after a run it is the run's abbreviation, not a name.

6. Whole names: two organisation runs that touch are one name ("IBM Research Global Research
   Lab"); "X government" before an organisation run belongs to it ("UK government Research &
   Innovation").
7. Abbreviations: an acronym in parentheses right after a name ("Digital Agency for Public
   Innovation (ADIP)", also plural: "(LNCs)") is that name's abbreviation; a later bare "ADIP"
   stands for the long name (``stands_for``), and so do abbreviations given in another narrative
   of the page (``abbreviations``).
8. The city itself: the city's own names (``own_names``), "City of <name>", "<name> City" and
   their abbreviations (the initials, or one the text gives) are never an organisation: the
   city administration is already in the graph.

Overlaps keep frames, then runs, then definite phrases, then acronyms; the first mention of a
name wins. Places alone, single generic words and descriptions ("a UK government testbed
initiative") are not names. Each entity keeps the rule that found it (``rule``): "naming-frame"
(4), "head-word" (2, 3 by head word, 6), "definite-phrase" (3), "acronym" (5) or "abbreviation"
(7).

>>> [(e.name, e.kind) for e in find_entities("The Hartree Centre runs the Alder play app.")]
[('Hartree Centre', 'organisation'), ('Alder play app', 'initiative')]
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Kind = Literal["organisation", "initiative"]
Rule = Literal["naming-frame", "head-word", "definite-phrase", "acronym", "abbreviation"]
RULES: tuple[Rule, ...] = ("naming-frame", "head-word", "definite-phrase", "acronym")
"""The rule of each candidate priority (0 frames ... 3 acronyms); "abbreviation" is apart."""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


ORG_HEADS = _words(
    "agency alliance association authority bank board bureau center centre chamber coalition "
    "college commission committee company consortium corporation council department directorate "
    "division federation force forum foundation group hospital institute institution lab "
    "laboratory league ministry museum observatory office organisation organization partnership "
    "philanthropies research school secretariat service society taskforce team trust union unit "
    "university"
)
INITIATIVE_HEADS = _words(
    "academy accelerator agenda app application award campaign challenge competition dashboard "
    "festival hub incubator index initiative map monitor network plan platform portal prize "
    "program programme project roadmap scheme site strategy survey system testbed "
    "website"
)
ORG_NOUNS = ORG_HEADS | {"non-profit", "nonprofit", "charity", "firm", "ngo", "start-up", "startup"}
GOVERNMENT_PREFIXES = frozenset({"city", "county", "state", "province", "municipality", "borough"})
CONNECTORS = frozenset({"of", "for", "on", "to", "the", "de", "and", "&"})
INTRODUCERS = frozenset({"the", "its", "their", "his", "her", "our", "my", "your"})
_FUNCTION = _words(
    "a an of in on at to for with by from via into onto over under about as than or but nor "
    "so is are was were be been being has have had do does did will would can could should "
    "may might must that which who whom whose this these those it they we he she there here "
    "not no also such including through across between within without while when where how "
    "what why if then both each every all any some many much one two three four five like "
    "per after before since until during around among against toward towards upon see"
)
FUNCTION_WORDS = _FUNCTION | INTRODUCERS
EVALUATIVE = _words(
    "leading new first main primary major key several various existing current whole own recent "
    "latest successful innovative flagship ambitious other entire most more"
)
ACRONYM_STOP = _words(
    "AI AR VR ML UK US USA EU IT ICT IOT R&D GDP CEO CIO CTO CDO HR PR TV OK NGO SME API GIS GPS "
    "PDF COVID STEM LGBT LGBTQ II III IV ID KPI SDG DIY FAQ SMS URL Q&A"
)
ABBREVIATIONS = _words("e.g i.e etc st dr mr mrs ms prof vs no cf approx jr sr mt fig")
DASHES = frozenset({"–", "—", "-"})
OPEN_QUOTES = frozenset({"“", '"', "‘"})
CLOSE_QUOTES = frozenset({"”", '"', "’"})
NAMING_VERBS = frozenset({"called", "named", "dubbed", "titled"})
QUALIFIERS = frozenset({"government"})
"""Lowercase words that join a name before them to an organisation run after them."""

_TOKEN = re.compile(r"[^\W_]+(?:[-–&'’.][^\W_]+)*|\S")
_BOUNDARY = re.compile(r"[.!?]+[\"”’)]*\s+|\n\s*\n")
_ACRONYM = re.compile(r"[A-Z][A-Z&]{1,5}")
_ABBREVIATION = re.compile(r"[A-Z][A-Z&]{1,5}s?")
_YEAR = re.compile(r"(?:19|20)\d\d(?:[-–](?:19|20)?\d\d)?")
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class Entity:
    """A name found in a text: ``start`` is the offset of ``name`` in that text."""

    name: str
    kind: Kind
    sentence: str
    start: int
    rule: Rule = "head-word"
    abbreviation: str | None = None
    """The abbreviation the text gives in parentheses right after the name."""
    stands_for: str | None = None
    """For an abbreviation used alone, the long name it stands for."""

    @property
    def full_name(self) -> str:
        """The name the entity is known by: the long name for an abbreviation."""
        return self.stands_for or self.name


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    start: int
    end: int

    @property
    def base(self) -> str:
        """The word without a possessive "'s"."""
        return _POSSESSIVE.sub("", self.text)

    @property
    def lower(self) -> str:
        return self.text.lower()


def _last_word(text: str, end: int) -> str:
    """The run of non-space characters that ends at ``end``, read backwards: a search from the
    start of the text for each full stop made a long paragraph take quadratic time."""
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:end]


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of ``text``, whitespace trimmed.

    >>> t = "We met St. John, e.g. at 2.5 km. Then we left."
    >>> [t[a:b] for a, b in sentences(t)]
    ['We met St. John, e.g. at 2.5 km.', 'Then we left.']
    """
    cuts = [0]
    for match in _BOUNDARY.finditer(text):
        if match.group()[0] in ".!?":
            previous = _last_word(text, match.start()).lstrip("(").lower()
            following = text[match.end() : match.end() + 1]
            if previous in ABBREVIATIONS or (len(previous) == 1 and previous.isalpha()):
                continue
            if not (following.isupper() or following.isdigit() or following in '“"('):
                continue
        cuts.append(match.end())
    cuts.append(len(text))
    spans = []
    for a, b in itertools.pairwise(cuts):
        chunk = text[a:b]
        if chunk.strip():
            left = a + len(chunk) - len(chunk.lstrip())
            spans.append((left, a + len(chunk.rstrip())))
    return spans


def _is_name(token: _Token) -> bool:
    first = token.text[0]
    if first.isupper():
        return True
    return any(c.isdigit() for c in token.text) and any(c.isupper() for c in token.text)


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _head_kind(token: _Token, *, plural: bool = False) -> Kind | None:
    """The kind a head noun gives; with ``plural``, "programs" counts as an initiative head too
    (a plural organisation noun, "departments", names no organisation)."""
    word = token.base.lower()
    if word in INITIATIVE_HEADS or (plural and _singular(word) in INITIATIVE_HEADS):
        return "initiative"
    return "organisation" if word in ORG_NOUNS else None


def _is_modifier(token: _Token) -> bool:
    """A lowercase content word: "play", "social", "non-profit"."""
    return token.text.islower() and token.text[0].isalpha() and token.lower not in FUNCTION_WORDS


def _is_acronym(token: _Token) -> bool:
    return bool(_ACRONYM.fullmatch(token.base)) and token.base not in ACRONYM_STOP


class _Sentence:
    """The tokens of one sentence and its runs, as half-open token index ranges."""

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text = text[start:end]
        self.tokens = [
            _Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text, start, end)
        ]
        self.runs = list(self._runs())
        self.run_from = {a: (a, b) for a, b in self.runs}
        self.run_to = {b - 1: (a, b) for a, b in self.runs}

    def _runs(self) -> Iterable[tuple[int, int]]:
        tokens, i = self.tokens, 0
        while i < len(tokens):
            if not _is_name(tokens[i]):
                i += 1
                continue
            a, last, j = i, i, i + 1
            while j < len(tokens):
                if _is_name(tokens[j]):
                    if self._breaks(last, j):
                        break
                    last = j
                elif tokens[j].lower not in CONNECTORS or j - last > 2:
                    break
                j += 1
            yield from self._trim(a, last + 1)
            i = last + 1

    def _breaks(self, last: int, nxt: int) -> bool:
        """Where one name ends and the next begins: after a possessive or a head word unless a
        head word follows; after an acronym before a connector ("JRC | of the European ...");
        at "and the" ("OECD | and the Mohammed Bin Rashid Centre")."""
        left, right = self.tokens[last], self.tokens[nxt]
        right_is_head = _head_kind(right) is not None
        if _POSSESSIVE.search(left.text):
            return not right_is_head
        between = [t.lower for t in self.tokens[last + 1 : nxt]]
        if between and (_is_acronym(left) or between[0] == "the"):
            return True  # "Later | the Pell Institute": "the" joins only after "of", "for", ...
        if any(a in {"and", "&"} and b == "the" for a, b in itertools.pairwise(between)):
            return True
        return not between and _head_kind(left) is not None and not right_is_head

    def _trim(self, a: int, b: int) -> Iterable[tuple[int, int]]:
        while a < b and self.tokens[a].lower in FUNCTION_WORDS:
            a += 1
        if a < b:
            yield a, b

    def span(self, a: int, b: int) -> tuple[int, int]:
        """Character offsets of tokens a..b-1, without a final possessive "'s"."""
        last = self.tokens[b - 1]
        return self.tokens[a].start, last.start + len(last.base)

    def head_run(self, a: int, b: int) -> Kind | None:
        """The kind of a run that names an organisation or initiative by its head words."""
        words = [t for t in self.tokens[a:b] if t.lower not in CONNECTORS]
        kind: Kind | None = None
        for k in range(a, b):
            token = self.tokens[k]
            if token.lower in CONNECTORS:
                continue
            of_follows = k + 2 < b and self.tokens[k + 1].lower == "of"
            if token.lower in GOVERNMENT_PREFIXES and of_follows:
                kind = "organisation"  # "County of Summit": what follows is a place
                break
            if (found := _head_kind(token)) is not None:
                kind = found
        return kind if len(words) >= 2 else None

    def noun_before(self, i: int, reach: int) -> Kind | None:
        """The kind of the nearest head noun among the ``reach`` tokens before index ``i``."""
        for k in range(i - 1, max(-1, i - 1 - reach), -1):
            if (kind := _head_kind(self.tokens[k])) is not None:
                return kind
        return None


# A candidate: (priority, start token, end token, kind); lower priority wins an overlap.
_Candidate = tuple[int, int, int, Kind]


def _head_runs(s: _Sentence) -> Iterable[_Candidate]:
    found: list[tuple[int, int, Kind]] = []
    for a, b in s.runs:
        kind = s.head_run(a, b)
        if kind is None:
            continue
        if kind == "initiative" and b < len(s.tokens) and _YEAR.fullmatch(s.tokens[b].text):
            b += 1
        if found and found[-1][1] == a and found[-1][2] == kind == "organisation":
            a = found.pop()[0]  # "IBM Research | Global Research Lab": one organisation
        qualified = a >= 2 and s.tokens[a - 1].lower in QUALIFIERS and a - 2 in s.run_to
        if kind == "organisation" and qualified:  # "UK government Research & Innovation"
            a = s.run_to[a - 2][0]
        found.append((a, b, kind))
    for a, b, kind in found:
        yield 1, a, b, kind


def _definite_phrases(s: _Sentence) -> Iterable[_Candidate]:
    """ "the"/possessive, lowercase modifiers, a run, ≤ 2 lowercase words, a lowercase head."""
    tokens = s.tokens
    for k, head in enumerate(tokens):
        kind = _head_kind(head, plural=True) if head.text.islower() else None
        if kind is None:
            continue
        i, has_run, after_run, start = k - 1, False, 0, None
        while i >= 0 and k - i <= 10:
            token = tokens[i]
            if token.lower in INTRODUCERS or _POSSESSIVE.search(token.text):
                start = i + 1
                break
            if i in s.run_to:
                a, b = s.run_to[i]
                if s.head_run(a, b) is not None:
                    break
                has_run, i = True, a - 1
            elif token.lower in {"and", "&"} or _is_modifier(token):
                after_run += 0 if has_run else 1
                i -= 1
            else:
                break
        if start is None or not has_run or after_run > 2:
            continue
        while tokens[start].text in EVALUATIVE | {"and"}:
            start += 1
        yield 2, start, k + 1, kind


def _frames(s: _Sentence) -> Iterable[_Candidate]:
    tokens, n = s.tokens, len(s.tokens)
    for i, token in enumerate(tokens):
        word = token.lower
        nxt = tokens[i + 1] if i + 1 < n else None
        known_as = word == "as" and i > 0 and tokens[i - 1].lower == "known"
        if (word in NAMING_VERBS or known_as) and nxt:
            kind = s.noun_before(i, 6)
            if kind and i + 1 in s.run_from:
                yield 0, *s.run_from[i + 1], kind
            elif kind and ("-" in nxt.text or any(c.isupper() for c in nxt.text)):
                yield 0, i + 1, i + 2, kind
        if token.text.islower() and (kind := _head_kind(token)) is not None and nxt:
            if nxt.text in {",", ":"} | DASHES and i + 2 in s.run_from:
                a, b = s.run_from[i + 2]
                if b == n or tokens[b].text in {",", ")", "."} | DASHES:
                    yield 0, a, b, kind
            elif i + 1 in s.run_from and kind == "initiative":
                a, b = s.run_from[i + 1]
                while b < n and _DIGITS.fullmatch(tokens[b].text):
                    b += 1
                if not _POSSESSIVE.search(tokens[b - 1].text):
                    yield 0, a, b, kind
        if token.text in OPEN_QUOTES and i + 1 in s.run_from:
            a, b = s.run_from[i + 1]
            if b < n and tokens[b].text in CLOSE_QUOTES and (kind := s.noun_before(i, 4)):
                yield 0, a, b, kind
    for a, b in s.runs:
        kind = _appositive_kind(s, b)
        if kind:
            yield 0, a, b, kind
    last = s.runs[-1] if s.runs else None
    if last and last[1] == n and last[0] > 1 and tokens[last[0] - 1].text in DASHES:
        yield 0, *last, s.head_run(*last) or "initiative"


def _appositive_kind(s: _Sentence, b: int) -> Kind | None:
    """ "X (ACR), a project" or "X is an application": the kind of the noun after the run."""
    tokens, i = s.tokens, b
    if i + 2 < len(tokens) and tokens[i].text == "(" and tokens[i + 2].text == ")":
        i += 3
    if i + 2 >= len(tokens) or tokens[i].lower not in {",", "is", "was"}:
        return None
    if tokens[i + 1].lower not in {"a", "an"}:
        return None
    for token in tokens[i + 2 : i + 6]:
        if not token.text.islower() or token.lower in FUNCTION_WORDS:
            return None
        if (kind := _head_kind(token)) is not None:
            return kind
    return None


def _bracketed(s: _Sentence, i: int) -> bool:
    tokens = s.tokens
    return 0 < i < len(tokens) - 1 and tokens[i - 1].text + tokens[i + 1].text == "()"


def _acronyms(s: _Sentence) -> Iterable[_Candidate]:
    for i, token in enumerate(s.tokens):
        if not _is_acronym(token):
            continue
        if _bracketed(s, i) and i - 2 in s.run_to:
            continue  # "Mobility Urban Values (MUV)": an abbreviation, not another name
        yield 3, i, i + 1, "organisation"


def _abbreviation_after(s: _Sentence, b: int) -> str | None:
    """The abbreviation in parentheses right after tokens ..b-1: "(ADIP)", "(LNCs)"."""
    tokens = s.tokens
    if b + 2 < len(tokens) and tokens[b].text == "(" and tokens[b + 2].text == ")":
        word = tokens[b + 1].text
        if _ABBREVIATION.fullmatch(word) and word not in ACRONYM_STOP:
            return word
    return None


def _city_forms(own_names: Sequence[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The normalised names and the abbreviations that are the city itself."""
    names: set[str] = set()
    initials: set[str] = set()
    for own in own_names:
        key = _key(own)
        if not key:
            continue
        names |= {key, f"city of {key}", f"the city of {key}", f"{key} city"}
        # "Denver, CO": the initials of the name, not of its state ("DC" is Washington)
        capitals = [w[0] for w in own.split(",")[0].split() if w[:1].isupper()]
        if len(capitals) >= 2:
            initials.add("".join(capitals))
    return frozenset(names), frozenset(initials)


def _key(name: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", name.lower()).split())


def _resolve(candidates: Sequence[_Candidate]) -> list[_Candidate]:
    taken: list[_Candidate] = []
    for candidate in sorted(candidates, key=lambda c: (c[0], c[1] - c[2], c[1])):
        _, a, b, _ = candidate
        if all(b <= other[1] or a >= other[2] for other in taken):
            taken.append(candidate)
    return taken


def find_entities(
    text: str,
    own_names: Sequence[str] = (),
    abbreviations: Mapping[str, tuple[str, Kind]] | None = None,
) -> tuple[Entity, ...]:
    """Organisations and initiatives named in ``text``, by first mention, one per name.

    ``own_names`` are the city's names (never an organisation); ``abbreviations`` maps an
    abbreviation given elsewhere on the page to its long name and kind.

    >>> t = "The Digital Agency for Public Innovation (ADIP) opened. ADIP grew."
    >>> [(e.name, e.rule, e.abbreviation, e.stands_for) for e in find_entities(t)]
    [('Digital Agency for Public Innovation', 'head-word', 'ADIP', None), \
('ADIP', 'abbreviation', None, 'Digital Agency for Public Innovation')]
    >>> city = ["Liverpool City Region"]
    >>> [e.name for e in find_entities("The City of Liverpool City Region and the LCR met.", city)]
    []
    """
    city_names, city_initials = _city_forms(own_names)
    for own in own_names:  # "Ciudad de México (CDMX)": the city's abbreviation
        given = re.findall(rf"{re.escape(own)}\s*\(([A-Z][A-Z&]{{1,5}}s?)\)", text)
        city_initials |= set(given)
    known: dict[str, tuple[str, Kind]] = dict(abbreviations or {})
    found: dict[str, Entity] = {}
    for start, end in sentences(text):
        s = _Sentence(text, start, end)
        candidates = [
            *_frames(s),
            *_head_runs(s),
            *_definite_phrases(s),
            *_acronyms(s),
        ]
        for priority, a, b, kind in sorted(_resolve(candidates), key=lambda c: c[1]):
            left, right = s.span(a, b)
            name = text[left:right]
            short = _abbreviation_after(s, b)
            if _key(name) in city_names or name in city_initials:
                if short:
                    city_initials |= {short}
                continue
            if priority == 3 and name in known:
                long_name, long_kind = known[name]
                entity = Entity(name, long_kind, s.text, left, "abbreviation", None, long_name)
            else:
                entity = Entity(name, kind, s.text, left, RULES[priority], short)
                if short:
                    known.setdefault(short, (name, kind))
            if name not in found:
                found[name] = entity
    return tuple(sorted(found.values(), key=lambda e: e.start))


def find_in_narratives(
    texts: Sequence[str], own_names: Sequence[str] = ()
) -> list[tuple[Entity, ...]]:
    """The entities of each narrative of one page, an abbreviation given in one narrative
    standing for its long name in the others.

    >>> texts = ["ADIP grew.", "The Digital Agency for Public Innovation (ADIP) opened."]
    >>> [[e.full_name for e in found] for found in find_in_narratives(texts)]
    [['Digital Agency for Public Innovation'], ['Digital Agency for Public Innovation']]
    """
    given: dict[str, tuple[str, Kind]] = {}
    for text in texts:
        for entity in find_entities(text, own_names):
            if entity.abbreviation is not None:
                given.setdefault(entity.abbreviation, (entity.name, entity.kind))
    return [find_entities(text, own_names, given) for text in texts]
