"""Precision and recall of innograph.mapping.entities.find_entities against the gold names
(tests/golden/entities-gold.json).

Run from the repository: ``.venv/bin/python benchmarks/entities_eval.py [--tuning]``. Exits 0.

Scope: the free narratives of each profile as the parser returns them: spotlight items,
policy-area narratives and vision notes. The placement paragraph is left out: the parser already
records the organisational units it names (``placement.units``).

Matching (``name_matching.match_names``, beside this script): names are normalised (lower case, "&"
read as "and", punctuation and a leading "the" dropped); a found name is correct when it equals a
gold name, or when one contains the other as whole words and the shorter has at least 80% of the
longer's characters. Pairs are one-to-one (exact pairs first), so two found names cannot both claim
one gold name. Names are compared per file: the set of names found in all the narratives of a file
against that file's gold list. Kind is not part of a match; the agreement of kinds among matched
pairs is printed apart. Totals are micro-averaged (sums over files). ``exact`` scores a found name
correct only when it equals a gold name once normalised, so a name cut short ("Research &
Innovation" for "UK government Research & Innovation") counts as wrong there.

The gold files are split in two (``tests/golden/entities-split.json``, recomputed here by
``split_cities``): the rule is tuned on the *tuning* half only; the *blind* half is reported and
never looked at while changing the rule."""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

from name_matching import match_names, normalise_name

from innograph.mapping import own_names
from innograph.mapping.entities import Entity, find_in_narratives
from innograph.parsing import parse_bytes
from innograph.pipeline import survey_options
from innograph.records import Profile

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "profiles" / "liverpool-city-region.txt"
FRAGMENTS = ROOT.parent / "shared" / "profiles" / "fragments"
GOLD = ROOT / "tests" / "golden" / "entities-gold.json"
SPLIT = ROOT / "tests" / "golden" / "entities-split.json"


def city_of(file_name: str) -> str:
    """The city key of a profile file: its stem before "--"."""
    return Path(file_name).stem.split("--")[0]


def split_cities(
    gold_files: list[str], seed: int, always_tuning: list[str]
) -> dict[str, list[str]]:
    """The tuning and blind halves, by city: the sorted city keys shuffled by ``seed``, the first
    half (rounded down) tuning. Files in ``always_tuning`` are kept out of the draw."""
    cities = sorted({city_of(f) for f in gold_files if f not in always_tuning})
    random.Random(seed).shuffle(cities)
    half = len(cities) // 2
    return {"tuning": sorted(cities[:half]), "blind": sorted(cities[half:])}


def halves(gold: dict[str, list[dict[str, str]]]) -> dict[str, list[str]]:
    """The file names of each half, after checking the stored split against its recipe."""
    stored = json.loads(SPLIT.read_text(encoding="utf-8"))
    always = stored["always_tuning"]
    drawn = split_cities(sorted(gold), stored["seed"], always)
    if drawn != {"tuning": stored["tuning"], "blind": stored["blind"]}:
        raise SystemExit(f"{SPLIT} does not match its seed and recipe: {drawn}")
    tuning = sorted(f for f in gold if f in always or city_of(f) in drawn["tuning"])
    return {"tuning": tuning, "blind": sorted(f for f in gold if f not in tuning)}


def narratives(profile: Profile) -> list[str]:
    """The free texts of a profile, in page order."""
    texts = [item.value for block in profile.spotlight for item in block.items]
    texts += [narrative.text for narrative in profile.policy_focus.narratives]
    texts += [note.value for note in profile.vision_notes]
    return texts


def entities_of(path: Path) -> tuple[list[str], list[Entity]] | None:
    """The narratives of a profile file and the entities found in them as the mapper finds them
    (the city's own names known, abbreviations across narratives), one per normalised full name;
    None when the parser returns no narrative."""
    profile = parse_bytes(path.read_bytes(), path.name, survey_options()).profile
    texts = narratives(profile)
    if not texts:
        return None
    found: dict[str, Entity] = {}
    for entities in find_in_narratives(texts, own_names(profile)):
        for entity in entities:
            found.setdefault(normalise_name(entity.full_name), entity)
    return texts, list(found.values())


@dataclass
class Score:
    found: int = 0
    gold: int = 0
    correct: int = 0
    same_kind: int = 0
    exact: int = 0
    misses: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        self.found += other.found
        self.gold += other.gold
        self.correct += other.correct
        self.same_kind += other.same_kind
        self.exact += other.exact

    @property
    def precision(self) -> float | None:
        return self.correct / self.found if self.found else None

    @property
    def recall(self) -> float | None:
        return self.correct / self.gold if self.gold else None

    @property
    def exact_precision(self) -> float | None:
        return self.exact / self.found if self.found else None

    @property
    def exact_recall(self) -> float | None:
        return self.exact / self.gold if self.gold else None


def score(found: list[Entity], gold: list[dict[str, str]]) -> Score:
    gold_kind = {item["name"]: item["kind"] for item in gold}
    found_kind = {entity.full_name: entity.kind for entity in found}
    pairs = match_names([e.full_name for e in found], [item["name"] for item in gold])
    matched_found = {f for f, _ in pairs}
    matched_gold = {g for _, g in pairs}
    return Score(
        found=len(found),
        gold=len(gold),
        correct=len(pairs),
        same_kind=sum(found_kind[f] == gold_kind[g] for f, g in pairs),
        exact=sum(normalise_name(f) == normalise_name(g) for f, g in pairs),
        misses=[item["name"] for item in gold if item["name"] not in matched_gold],
        extras=[e.full_name for e in found if e.full_name not in matched_found],
    )


def ratio(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.2f}"


def line(label: str, s: Score) -> str:
    kinds = f"{s.same_kind}/{s.correct}" if s.correct else "-"
    return (
        f"{label:<34} found {s.found:>3}  gold {s.gold:>3}  correct {s.correct:>3}  "
        f"P {ratio(s.precision)}  R {ratio(s.recall)}  "
        f"exact P {ratio(s.exact_precision)} R {ratio(s.exact_recall)}  kind {kinds}"
    )


def evaluate(paths: list[Path], gold: dict[str, list[dict[str, str]]], title: str) -> Score:
    print(f"== {title}")
    total = Score()
    for path in paths:
        result = entities_of(path)
        if result is None:
            print(f"{path.name:<34} no narrative from the parser: skipped")
            continue
        if path.name not in gold:
            print(f"{path.name:<34} has narratives but no gold entry: skipped")
            continue
        s = score(result[1], gold[path.name])
        total.add(s)
        print(line(path.name, s))
        if s.misses:
            print(f"{'':<6}missed: {'; '.join(s.misses)}")
        if s.extras:
            print(f"{'':<6}extra:  {'; '.join(s.extras)}")
    print(line(f"-- {title}", total))
    return total


def path_of(file_name: str) -> Path:
    return SEED if file_name == SEED.name else FRAGMENTS / file_name


def main(argv: list[str]) -> int:
    """Scores per half; ``--tuning``: the tuning half only (what a rule change may look at)."""
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    files = halves(gold)
    if not FRAGMENTS.is_dir():
        print(f"== fragments: {FRAGMENTS} is absent, only the seed is scored")
        files = {"tuning": [SEED.name], "blind": []}
    wanted = ["tuning"] if "--tuning" in argv else ["tuning", "blind"]
    overall = Score()
    for half in wanted:
        overall.add(evaluate([path_of(f) for f in files[half]], gold, f"{half} half"))
    print(line("== overall", overall))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
