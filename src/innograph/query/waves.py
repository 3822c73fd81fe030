"""What changed between survey waves for a city profiled in both: per aspect (policy areas,
success factors, roles, funding sources, placement, units, lead innovation officer), what the
later profile added, dropped or kept, aligned through the SKOS concepts (or, for units and
people, the IRIs minted for them) rather than through the wording.

An aspect one of the two profiles names nothing in ("the <wave> profile names none": not stated,
or stated in words no option or name was read from) is never read as everything added or
dropped.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

IG = "https://w3id.org/innograph/def/"
# (title, the path from a profile to the things compared)
ASPECTS: tuple[tuple[str, str], ...] = (
    ("Policy areas", "ig:policyFocus/ig:concept"),
    ("Critical success factors", "ig:successFactor/ig:concept"),
    ("Innovation roles", "ig:role/ig:concept"),
    ("Funding sources", "ig:fundingSource/ig:concept"),
    ("Placement of innovation work", "ig:placement/ig:placementKind"),
    ("Units where innovation sits", "ig:placement/ig:unit"),
    ("Lead innovation officer", "ig:leadInnovationOfficer/org:member"),
)


def waves_query() -> str:
    """Every item of every aspect of the profiles of cities profiled in more than one wave."""
    blocks = " UNION ".join(
        f'{{ ?profile {path} ?item BIND ("{title}" AS ?aspect) }}' for title, path in ASPECTS
    )
    return (
        f"PREFIX ig: <{IG}>\n"
        "PREFIX org: <http://www.w3.org/ns/org#>\n"
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        "PREFIX foaf: <http://xmlns.com/foaf/0.1/>\n"
        "SELECT ?city ?cityName ?wave ?waveLabel ?profile ?aspect ?item ?label WHERE {\n"
        "  { SELECT ?city WHERE { ?p a ig:Profile ; ig:city ?city ; ig:surveyWave ?w }\n"
        "    GROUP BY ?city HAVING (COUNT(DISTINCT ?w) > 1) }\n"
        "  ?profile a ig:Profile ; ig:city ?city ; ig:surveyWave ?wave .\n"
        "  OPTIONAL { ?wave skos:prefLabel ?waveLabel }\n"
        "  OPTIONAL { ?city skos:prefLabel ?cityName }\n"
        f"  OPTIONAL {{ {blocks}\n"
        "    OPTIONAL { ?item skos:prefLabel|foaf:name|rdfs:label ?label } }\n"
        "} ORDER BY ?city ?wave ?aspect ?item ?label"
    )


@dataclass
class Change:
    """One item of an aspect: in which of the two waves it is stated."""

    item: str
    label: str
    status: str  # kept, added, dropped, or "the <wave> profile names none" (for the other's)


@dataclass
class CityWaves:
    city: str
    name: str
    earlier: str  # wave labels, e.g. "2018 survey"
    later: str
    profiles: tuple[str, str]
    aspects: dict[str, list[Change]] = field(default_factory=dict)


def _year(label: str) -> int:
    found = re.search(r"\d{4}", label)
    return int(found.group()) if found else 0


def compare(rows: list[dict[str, str]]) -> list[CityWaves]:
    """The SELECT's rows as each city's changes from its earliest to its latest wave.

    >>> rows = [
    ...     {"city": "c", "wave": "w18", "waveLabel": "2018 survey", "profile": "p18",
    ...      "aspect": "Policy areas", "item": "a", "label": "A"},
    ...     {"city": "c", "wave": "w18", "waveLabel": "2018 survey", "profile": "p18",
    ...      "aspect": "Policy areas", "item": "b", "label": "B"},
    ...     {"city": "c", "wave": "w20", "waveLabel": "2020 survey", "profile": "p20",
    ...      "aspect": "Policy areas", "item": "b", "label": "B"},
    ...     {"city": "c", "wave": "w20", "waveLabel": "2020 survey", "profile": "p20",
    ...      "aspect": "Innovation roles", "item": "r", "label": "R"}]
    >>> [(c.item, c.status) for c in compare(rows)[0].aspects["Policy areas"]]
    [('b', 'kept'), ('a', 'dropped')]
    >>> [(c.item, c.status) for c in compare(rows)[0].aspects["Innovation roles"]]
    [('r', 'the 2018 survey profile names none')]
    """
    by_city: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_city[row["city"]].append(row)
    found = []
    for city, said in sorted(by_city.items()):
        waves = sorted(
            {(r.get("waveLabel", r["wave"]), r["profile"]) for r in said},
            key=lambda pair: _year(pair[0]),
        )
        (earlier, first), (later, last) = waves[0], waves[-1]
        view = CityWaves(city, said[0].get("cityName", city), earlier, later, (first, last))
        items: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)  # aspect -> profile -> item
        labels: dict[str, str] = {}
        for row in said:
            if "aspect" in row and row["profile"] in (first, last):
                items[row["aspect"]].setdefault(row["profile"], {})[row["item"]] = row["item"]
                labels[row["item"]] = row.get("label", row["item"].rsplit("/", 1)[-1])
        for title, _ in ASPECTS:
            before = set(items[title].get(first, {}))
            after = set(items[title].get(last, {}))
            if not before and not after:
                continue
            if not before or not after:
                missing = earlier if not before else later
                none = f"the {missing} profile names none"
                changes = [Change(i, labels[i], none) for i in before | after]
            else:
                changes = [Change(i, labels[i], "kept") for i in before & after]
                changes += [Change(i, labels[i], "added") for i in after - before]
                changes += [Change(i, labels[i], "dropped") for i in before - after]
            order = {"kept": 0, "added": 1, "dropped": 2}
            view.aspects[title] = sorted(
                changes, key=lambda c: (order.get(c.status, 3), c.label.casefold())
            )
        found.append(view)
    return found
