"""A page cut anywhere, even mid-word, never invents an answer: every own-wording concept the
cut page's graph names, the whole page's graph names too (the mutation suite cuts only before
headings; a cut inside a list item once minted "…/funding-sources/own/municipa")."""

from __future__ import annotations

import pytest

from conftest import SEED
from innograph.mapping import SourceDocument, map_profile
from innograph.parsing import parse_profile
from innograph.records import SurveyOptions

BASE = "https://w3id.org/innograph/"
OWN = "/own/"


def own_concepts(text: str, options: SurveyOptions) -> set[str]:
    profile = parse_profile(text, SEED.name, options).profile
    quads = map_profile(profile, SourceDocument.of(SEED.name, text.encode()), BASE, "t")
    return {str(o) for _, _, o, _ in quads if OWN in str(o) and str(o).startswith("https://")}


@pytest.fixture(scope="module")
def whole(options: SurveyOptions) -> set[str]:
    return own_concepts(SEED.read_text(encoding="utf-8"), options)


def cuts() -> list[tuple[int, str]]:
    """After each line, and inside each line (half its text, no final line break)."""
    lines = SEED.read_text(encoding="utf-8").splitlines(keepends=True)
    found = []
    for n in range(20, len(lines)):
        head = "".join(lines[:n])
        found.append((n, head))
        half = lines[n].rstrip("\n")[: max(1, len(lines[n].rstrip("\n")) // 2)]
        found.append((n, head + half))
    return found


def test_no_cut_invents_an_own_wording(options: SurveyOptions, whole: set[str]) -> None:
    invented = {}
    for line, text in cuts():
        extra = own_concepts(text, options) - whole
        if extra:
            invented[(line, text[-30:])] = sorted(extra)
    assert invented == {}
