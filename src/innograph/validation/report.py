"""Validation reports for people and for CI: text, Turtle, JSON and JUnit XML."""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from xml.etree import ElementTree as ET

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from .reference import Report, Result

FORMATS = ("text", "turtle", "json", "junit")


def render(report: Report, fmt: str, allow_warnings: bool) -> str:
    return {"text": text, "turtle": turtle, "json": as_json, "junit": junit}[fmt](
        report, allow_warnings
    )


def text(report: Report, allow_warnings: bool) -> str:
    """Results grouped by focus node, each naming the file and line the fact came from."""
    by_focus: dict[str, list[Result]] = defaultdict(list)
    for result in report.results:
        by_focus[result.focus].append(result)
    lines = []
    for focus, results in by_focus.items():
        lines.append(focus)
        for r in results:
            where = ", ".join(str(s) for s in r.sources) or "(source unknown)"
            detail = (
                f" (value {r.value})" if r.value is not None and r.value not in r.message else ""
            )
            lines.append(f"  {where}: {r.severity}: {r.shape_name}: {r.message}{detail}")
    failing = len(report.failing(allow_warnings))
    verdict = "conforms" if failing == 0 else "does not conform"
    counts = {
        s: sum(r.severity == s for r in report.results) for s in ("Violation", "Warning", "Info")
    }
    lines.append(
        f"{verdict}: {report.graphs} profile graph(s), {len(report.shapes)} shapes, "
        f"{counts['Violation']} violation(s), {counts['Warning']} warning(s)"
        + (" (warnings allowed)" if allow_warnings and counts["Warning"] else "")
    )
    return "\n".join(lines)


def as_json(report: Report, allow_warnings: bool) -> str:
    return json.dumps(
        {
            "conforms": report.conforms(allow_warnings),
            "graphs": report.graphs,
            "shapes": len(report.shapes),
            "results": [dataclasses.asdict(r) for r in report.results],
        },
        ensure_ascii=False,
        indent=2,
    )


def turtle(report: Report, allow_warnings: bool) -> str:
    """A SHACL validation report graph (sh:ValidationReport), with source lines as comments."""
    graph = Graph()
    graph.bind("sh", SH)
    root = BNode("report")
    graph.add((root, RDF.type, SH.ValidationReport))
    graph.add((root, SH.conforms, Literal(report.conforms(allow_warnings))))
    for index, r in enumerate(report.results, start=1):
        node = BNode(f"result{index}")
        graph.add((root, SH.result, node))
        graph.add((node, RDF.type, SH.ValidationResult))
        graph.add((node, SH.focusNode, URIRef(r.focus)))
        graph.add((node, SH.sourceShape, URIRef(r.shape)))
        graph.add((node, SH.resultSeverity, SH[r.severity]))
        graph.add((node, SH.sourceConstraintComponent, SH[r.component]))
        graph.add((node, SH.resultMessage, Literal(r.message)))
        if r.value is not None:
            graph.add((node, SH.value, Literal(r.value)))
        for source in r.sources:
            graph.add(
                (
                    node,
                    URIRef("http://www.w3.org/2000/01/rdf-schema#comment"),
                    Literal(f"source {source}"),
                )
            )
    return graph.serialize(format="turtle")


def junit(report: Report, allow_warnings: bool) -> str:
    """One test case per shape, so a CI system shows each failing shape as a failing test."""
    failing = {id(r) for r in report.failing(allow_warnings)}
    by_shape: dict[str, list[Result]] = defaultdict(list)
    for result in report.results:
        by_shape[result.shape].append(result)
    suite = ET.Element("testsuite", name="innograph shapes", tests=str(len(report.shapes)))
    failures = 0
    for shape in report.shapes:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"shapes.{shape.file.removesuffix('.ttl')}",
            name=f"{shape.name} <{shape.iri}>",
        )
        bad = [r for r in by_shape.get(shape.iri, []) if id(r) in failing]
        if bad:
            failures += 1
            failure = ET.SubElement(
                case, "failure", message=f"{len(bad)} result(s)", type=bad[0].severity
            )
            failure.text = "\n".join(
                f"{', '.join(str(s) for s in r.sources)}: {r.focus}: {r.message}" for r in bad
            )
    suite.set("failures", str(failures))
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
