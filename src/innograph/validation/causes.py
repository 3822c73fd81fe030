"""One message per cause: two files that describe the same city in the same wave are one cause,
and the findings it sets off on that profile's facts, which both files mint (a fact with two
source lines, a line past the end of one of the files), are counted under it rather than listed.
IRIs shared by design (the city, its people, survey-wide shares) are not knock-ons: a fault
there is told as it is.

The pair is told once, from the file to leave out: the one that says less (fewer statements;
the longer name when they say as much, as a copy's usually is), so that the message can say
which file to keep.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox

from ..vocab import IG
from .gate import Finding

ONE_PROFILE_SHAPES = "https://w3id.org/innograph/shapes/OneProfilePerCityAndWave"

SHARED_PROFILES = f"""PREFIX ig: <{IG}> PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?profile ?g ?file (SAMPLE(?line) AS ?at) (COUNT(*) AS ?statements) WHERE {{
  {{ SELECT ?profile WHERE {{ GRAPH ?any {{ ?profile a ig:Profile }} }}
     GROUP BY ?profile HAVING (COUNT(DISTINCT ?any) > 1) }}
  GRAPH ?g {{ ?profile a ig:Profile . ?g prov:wasDerivedFrom ?doc . ?doc dct:identifier ?file .
             OPTIONAL {{ ?profile ig:sourceLine ?line }} ?s ?p ?o }}
}} GROUP BY ?profile ?g ?file ORDER BY ?profile ?file"""

NAMED = re.compile(r"https?://[^\s<>\"{}|^`]+[^\s<>\"{}|^`.,;:)]")


@dataclass(frozen=True)
class Described:
    """One file's description of a profile."""

    graph: str
    file: str
    line: int | None
    statements: int

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass(frozen=True)
class Duplicate:
    """A profile (a city in a wave) described by more than one file, the fullest first."""

    profile: str
    descriptions: tuple[Described, ...]

    @property
    def kept(self) -> Described:
        return self.descriptions[0]

    @property
    def left_out(self) -> tuple[Described, ...]:
        return self.descriptions[1:]


def duplicates(source: ox.Store) -> list[Duplicate]:
    """Profiles that more than one named graph describes."""
    solutions = source.query(SHARED_PROFILES)
    assert isinstance(solutions, ox.QuerySolutions)
    found: dict[str, list[Described]] = {}
    for row in solutions:
        at = row["at"]
        found.setdefault(row["profile"].value, []).append(
            Described(
                row["g"].value,
                row["file"].value,
                int(at.value) if at is not None else None,
                int(row["statements"].value),
            )
        )
    return [
        Duplicate(profile, tuple(sorted(told, key=lambda d: (-d.statements, len(d.file), d.file))))
        for profile, told in sorted(found.items())
    ]


def _part_of(iris: set[str | None], duplicate: Duplicate) -> bool:
    """Whether a finding names the duplicated profile or one of its facts (``<profile>/…``):
    with two source documents, every fact of the profile is checked against both files."""
    return any(i is not None and (i + "/").startswith(duplicate.profile + "/") for i in iris)


@dataclass(frozen=True)
class Cause:
    """A line to report, and the file it asks to fix or leave out."""

    file: str  # the file to fix or leave out
    line: str  # "FILE[:LINE]: severity: focus: message", as reported


def by_cause(
    source: ox.Store,
    findings: list[tuple[Finding, str]],
    alone: Callable[[str], set[Finding]],
) -> tuple[list[Cause], list[Cause]]:
    """Violations and warnings, one per cause: each duplicate once (with its knock-ons
    counted), every other finding as it is. ``alone(graph)`` is what the per-graph rules find
    in that graph by itself: such a finding is a fault of its own and is told, never counted."""
    shared = duplicates(source)
    own: set[Finding] = set()
    for duplicate in shared:
        for described in duplicate.descriptions:
            own |= alone(described.graph)
    counted = [0] * len(shared)
    violations: list[Cause] = []
    warnings: list[Cause] = []
    for finding, where in findings:
        if finding.shape.startswith(ONE_PROFILE_SHAPES) and any(
            finding.focus == d.profile for d in shared
        ):
            continue  # told below, once per duplicate
        # the node, its value, and the IRIs its message names (a fact cited by a document)
        about = {finding.focus, finding.value, *NAMED.findall(finding.message)}
        hit = next((i for i, d in enumerate(shared) if _part_of(about, d)), None)
        if finding in own:
            hit = None
        if hit is not None:
            counted[hit] += 1
            continue
        line = f"{where}: {finding.severity}: {finding.focus}: {finding.message}"
        cause = Cause(where.split(":", 1)[0], line)
        (violations if finding.severity == "Violation" else warnings).append(cause)
    for duplicate, knocked in zip(shared, counted, strict=True):
        kept = duplicate.kept
        for other in duplicate.left_out:
            more = f"says more ({kept.statements} statements against {other.statements})"
            same = f"says as much ({kept.statements} statements)"
            message = (
                f"{other.where}: Violation: {duplicate.profile}: this city and wave are also"
                f" described by {kept.where}, which"
                f" {more if kept.statements > other.statements else same}:"
                " keep one profile per city per wave"
            )
            if knocked:
                message += f" ({knocked} findings that follow from this are not listed)"
            violations.append(Cause(other.file, message))
    return violations, warnings
