"""Several units named with their own staff: each unit in the graph with its own count."""

from __future__ import annotations

from rdflib import URIRef

from conftest import SEED
from innograph.mapping import SourceDocument, map_profile
from innograph.parsing import parse_profile
from innograph.records import SurveyOptions

IG = "https://w3id.org/innograph/def/"
RDFS_LABEL = URIRef("http://www.w3.org/2000/01/rdf-schema#label")
PLACEMENT = "Situated in the Policy and Strategic Commissioning Directorate, the City Region’s"


def test_each_unit_has_its_own_staff_count(options: SurveyOptions) -> None:
    text = SEED.read_text(encoding="utf-8")
    start = text.index(PLACEMENT)
    end = text.index("\n", start)
    paragraph = "It leads Peak Academy staff of 9 and Technology Services staff of 330."
    page = text[:start] + paragraph + text[end:]
    profile = parse_profile(page, SEED.name, options).profile
    base = "https://w3id.org/innograph/"
    quads = map_profile(profile, SourceDocument.of(SEED.name, page.encode()), base, "t")
    triples = {q[:3] for q in quads}
    counts = {}
    for team, _, unit in [t for t in triples if t[1] == URIRef(IG + "teamOf")]:
        label = next(o for s, p, o in triples if s == unit and p == RDFS_LABEL)
        staff = next(o for s, p, o in triples if s == team and p == URIRef(IG + "staffCount"))
        line = next(o for s, p, o in triples if s == team and p == URIRef(IG + "sourceLine"))
        counts[str(label)] = (int(staff), int(line))
    line = page[:start].count("\n") + 1
    assert counts == {"Peak Academy": (9, line), "Technology Services": (330, line)}
    placement = URIRef(f"{base}id/profile/liverpool-city-region/2020/placement")
    assert not any(s == placement and p == URIRef(IG + "teamSize") for s, p, _ in triples)
