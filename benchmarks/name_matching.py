"""How found organisation names are scored against gold names: the evaluation's rules, kept out
of the runtime package (``benchmarks/entities_eval.py`` and ``tests/mapping/test_entities.py``
use them)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence


def normalise_name(name: str) -> str:
    """The form names are compared in: lower case, "&" as "and", punctuation and "the " dropped.

    >>> normalise_name("The Science & Technology Facilities Council")
    'science and technology facilities council'
    """
    text = unicodedata.normalize("NFKC", name).lower().replace("&", " and ")
    text = " ".join(re.sub(r"[^\w]+", " ", text).split())
    return text.removeprefix("the ")


def names_match(found: str, gold: str) -> bool:
    """Equal once normalised, or one contains the other (whole words) and has ≥ 80% of its
    characters: "Research & Innovation" matches "UK Research & Innovation" (23/26)."""
    a, b = normalise_name(found), normalise_name(gold)
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    return bool(short) and f" {short} " in f" {long} " and len(short) >= 0.8 * len(long)


def match_names(found: Sequence[str], gold: Sequence[str]) -> list[tuple[str, str]]:
    """One-to-one (found, gold) pairs: exact matches first, then the closest containments."""
    pairs: list[tuple[str, str]] = []
    used_found: set[int] = set()
    used_gold: set[int] = set()
    found_n, gold_n = [normalise_name(f) for f in found], [normalise_name(g) for g in gold]
    for exact in (True, False):
        options = sorted(
            (-min(len(f), len(g)) / max(len(f), len(g), 1), fi, gi)
            for fi, f in enumerate(found_n)
            for gi, g in enumerate(gold_n)
            if (f == g if exact else names_match(f, g))
        )
        for _, fi, gi in options:
            if fi not in used_found and gi not in used_gold:
                used_found.add(fi)
                used_gold.add(gi)
                pairs.append((found[fi], gold[gi]))
    return pairs
