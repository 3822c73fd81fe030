"""The build gate: our SHACL shapes compiled to SPARQL and run by pyoxigraph over a whole store.

pySHACL takes about 0.2 s per profile graph, too slow for thousands of profiles. The shapes use
a small part of SHACL Core (listed in ``SUPPORTED``) plus SHACL-SPARQL constraints; each becomes
one SELECT over all focus nodes at once. pySHACL stays the reference: the tests run both on
every shape fixture and require the same (focus node, source shape, severity) results. A shape
using anything outside ``SUPPORTED`` is refused when compiling, never skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH, XSD
from rdflib.term import Node

from .shapes import SEVERITIES, ShapesError

SUPPORTED = {
    SH.minCount,
    SH.maxCount,
    SH.datatype,
    SH.nodeKind,
    SH["class"],
    SH["in"],
    SH.hasValue,
    SH.pattern,
    SH.minInclusive,
    SH.maxInclusive,
    SH.minExclusive,
    SH.minLength,
    SH.languageIn,
    SH.node,
    SH.sparql,
}
IGNORED = {
    RDF.type,
    SH.name,
    SH.description,
    SH.message,
    SH.severity,
    SH.path,
    SH.property,
    SH.targetClass,
    SH.targetSubjectsOf,
}
# Lexical forms that rdflib and pySHACL accept for the datatypes the shapes use.
LEXICAL: dict[Node, str] = {
    XSD.integer: r"^[+-]?[0-9]+$",
    XSD.decimal: r"^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)$",
    XSD.boolean: r"^(true|false|1|0)$",
    XSD.gYear: r"^-?[0-9]{4,}(Z|[+-][0-9]{2}:[0-9]{2})?$",
}


@dataclass(frozen=True, slots=True)
class Check:
    """One compiled constraint: a SELECT returning ?this (the focus node) and ?value."""

    shape: str
    severity: str
    message: str
    query: str


@dataclass(frozen=True, slots=True)
class Finding:
    focus: str
    shape: str
    severity: str
    value: str | None
    message: str


def _pair(pair: tuple[Node, Node]) -> tuple[str, str]:
    """A sort key for two rdflib terms (rdflib types its terms as not comparable)."""
    return str(pair[0]), str(pair[1])


def _n3(term: Node) -> str:
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Literal):
        return term.n3()
    raise ShapesError(f"the gate cannot compile a blank node as a constant: {term}")


def _path(shapes: Graph, path: Node) -> str:
    if isinstance(path, URIRef):
        return f"<{path}>"
    inverse = shapes.value(path, SH.inversePath)
    if inverse is not None:
        return f"^{_path(shapes, inverse)}"
    if (path, RDF.first, None) in shapes:
        return "(" + "/".join(_path(shapes, p) for p in Collection(shapes, path)) + ")"
    raise ShapesError(f"the gate cannot compile the path {path}")


def _required(shapes: Graph, node: Node, predicate: URIRef) -> Node:
    value = shapes.value(node, predicate)
    if value is None:
        raise ShapesError(f"{node}: expected a value for {predicate}")
    return value


def _targets(shapes: Graph, shape: Node) -> str:
    patterns = [
        f"{{ ?this a <{c}> }}" for c in sorted(shapes.objects(shape, SH.targetClass), key=str)
    ]
    patterns += [
        f"{{ ?this <{p}> ?_t }}"
        for p in sorted(shapes.objects(shape, SH.targetSubjectsOf), key=str)
    ]
    return " UNION ".join(patterns)


def _severity(shapes: Graph, shape: Node) -> str:
    return SEVERITIES.get(shapes.value(shape, SH.severity), "Violation")


def _value_violation(shapes: Graph, constraint: Node, value: Node, var: str = "?value") -> str:
    """A FILTER expression true when the value node breaks the constraint."""
    v = var
    if constraint == SH.datatype:
        if value == RDF.langString:
            return f"!(isLiteral({v}) && LANG({v}) != '')"
        check = f"!(isLiteral({v}) && DATATYPE({v}) = <{value}>)"
        if value in LEXICAL:
            check += f' || !REGEX(STR({v}), "{LEXICAL[value]}")'
        return check
    if constraint == SH.nodeKind:
        kinds: dict[Node, str] = {
            SH.IRI: f"!isIRI({v})",
            SH.Literal: f"!isLiteral({v})",
            SH.BlankNode: f"!isBlank({v})",
        }
        return kinds[value]
    if constraint == SH["class"]:
        return f"NOT EXISTS {{ {v} a <{value}> }}"
    if constraint == SH["in"]:
        members = " ".join(_n3(m) for m in Collection(shapes, value))
        return f"NOT EXISTS {{ VALUES ?_in {{ {members} }} FILTER (sameTerm({v}, ?_in)) }}"
    if constraint == SH.pattern:
        return f"isBlank({v}) || !REGEX(STR({v}), {Literal(str(value)).n3()})"
    if constraint in (SH.minInclusive, SH.maxInclusive, SH.minExclusive):
        operators: dict[Node, str] = {
            SH.minInclusive: ">=",
            SH.maxInclusive: "<=",
            SH.minExclusive: ">",
        }
        operator = operators[constraint]
        return f"!COALESCE({v} {operator} {_n3(value)}, false)"
    if constraint == SH.minLength:
        return f"isBlank({v}) || STRLEN(STR({v})) < {int(str(value))}"
    if constraint == SH.languageIn:
        tags = [str(t) for t in Collection(shapes, value)]
        matches = " || ".join(f'LANGMATCHES(LANG({v}), "{t}")' for t in tags)
        return f"!isLiteral({v}) || !({matches})"
    if constraint == SH.node:
        return _node_violation(shapes, value, v)
    raise ShapesError(f"the gate cannot compile {constraint}")


def _node_violation(shapes: Graph, node_shape: Node, v: str) -> str:
    """The value does not conform to a node shape made of hasValue property shapes."""
    conditions = []
    for prop in shapes.objects(node_shape, SH.property):
        path = _path(shapes, _required(shapes, prop, SH.path))
        for constraint, value in shapes.predicate_objects(prop):
            if constraint == SH.hasValue:
                conditions.append(f"NOT EXISTS {{ {v} {path} {_n3(value)} }}")
            elif constraint not in IGNORED:
                raise ShapesError(f"the gate supports only sh:hasValue under sh:node ({prop})")
    return " || ".join(conditions) or "false"


def _message(shapes: Graph, *shapes_in_order: Node) -> str:
    for shape in shapes_in_order:
        message = shapes.value(shape, SH.message)
        if message is not None:
            return str(message)
    return ""


def _property_checks(shapes: Graph, node_shape: Node, prop: Node, target: str) -> Iterator[Check]:
    path = _path(shapes, _required(shapes, prop, SH.path))
    severity = _severity(shapes, prop)
    message = _message(shapes, prop, node_shape)
    head = f"SELECT DISTINCT ?this ?value WHERE {{ {target}"
    for constraint, value in sorted(shapes.predicate_objects(prop), key=_pair):
        if constraint in IGNORED:
            continue
        if constraint not in SUPPORTED:
            raise ShapesError(f"the gate cannot compile {constraint} in {prop}")
        if constraint == SH.minCount:
            query = (
                f"SELECT ?this (COUNT(DISTINCT ?v) AS ?count) WHERE {{ {target}"
                f" OPTIONAL {{ ?this {path} ?v }} }}"
                f" GROUP BY ?this HAVING (COUNT(DISTINCT ?v) < {value})"
            )
        elif constraint == SH.maxCount:
            query = (
                f"SELECT ?this (COUNT(DISTINCT ?v) AS ?count) WHERE {{ {target}"
                f" ?this {path} ?v }} GROUP BY ?this HAVING (COUNT(DISTINCT ?v) > {value})"
            )
        elif constraint == SH.hasValue:
            missing = f"FILTER NOT EXISTS {{ ?this {path} {_n3(value)} }}"
            query = f"SELECT DISTINCT ?this WHERE {{ {target} {missing} }}"
        else:
            condition = _value_violation(shapes, constraint, value)
            query = f"{head} ?this {path} ?value . FILTER ({condition}) }}"
        yield Check(str(prop), severity, message, query)


def _prefixes(shapes: Graph, constraint: Node) -> str:
    lines = []
    for holder in shapes.objects(constraint, SH.prefixes):
        for declaration in shapes.objects(holder, SH.declare):
            prefix = shapes.value(declaration, SH.prefix)
            namespace = shapes.value(declaration, SH.namespace)
            lines.append(f"PREFIX {prefix}: <{namespace}>")
    return "\n".join(sorted(lines))


def _sparql_check(shapes: Graph, node_shape: Node, constraint: Node, target: str) -> Check:
    """A SHACL-SPARQL constraint with $this bound by the shape's targets."""
    select = str(shapes.value(constraint, SH.select))
    body = select.replace("$this", "?this")
    opening = re.search(r"WHERE\s*\{", body, re.IGNORECASE)
    if opening is None:
        raise ShapesError(f"{constraint}: expected SELECT … WHERE {{ … }}")
    body = body[: opening.end()] + f" {target} " + body[opening.end() :]
    message = _message(shapes, constraint, node_shape)
    return Check(
        str(node_shape),
        _severity(shapes, node_shape),
        message,
        _prefixes(shapes, constraint) + "\n" + body,
    )


def compile_shapes(shapes: Graph) -> list[Check]:
    """Every constraint of every targeted node shape, as SPARQL; refuses what it cannot compile."""
    checks: list[Check] = []
    for node_shape in sorted(set(shapes.subjects(RDF.type, SH.NodeShape)), key=str):
        target = _targets(shapes, node_shape)
        if not target:
            continue  # reached only through sh:node; compiled where it is used
        target = f"{{ SELECT DISTINCT ?this WHERE {{ {target} }} }}"
        for constraint, value in sorted(shapes.predicate_objects(node_shape), key=_pair):
            if constraint in (SH.nodeKind, SH.pattern):
                condition = _value_violation(shapes, constraint, value, "?this")
                query = (
                    f"SELECT DISTINCT ?this (?this AS ?value)"
                    f" WHERE {{ {target} FILTER ({condition}) }}"
                )
                checks.append(
                    Check(
                        str(node_shape),
                        _severity(shapes, node_shape),
                        _message(shapes, node_shape),
                        query,
                    )
                )
            elif constraint == SH.sparql:
                checks.append(_sparql_check(shapes, node_shape, value, target))
            elif constraint not in IGNORED:
                raise ShapesError(f"the gate cannot compile {constraint} on {node_shape}")
        for prop in sorted(shapes.objects(node_shape, SH.property), key=str):
            if isinstance(prop, BNode):
                raise ShapesError(
                    f"{node_shape}: give property shapes IRIs so results can be compared"
                )
            checks.extend(_property_checks(shapes, node_shape, prop, target))
    return checks


def _fill(message: str, solution: ox.QuerySolution, names: Iterable[str]) -> str:
    for name in names:
        term = solution[name]
        if term is not None:
            message = message.replace(f"{{?{name}}}", term.value).replace(
                f"{{${name}}}", term.value
            )
    return message


def run_checks(store: ox.Store, checks: Iterable[Check]) -> list[Finding]:
    """Run every check over the store's default graph (the union of the profile graphs)."""
    findings: list[Finding] = []
    for check in checks:
        solutions = store.query(check.query)
        assert isinstance(solutions, ox.QuerySolutions), "every check is a SELECT"
        names = [v.value for v in solutions.variables]
        for solution in solutions:
            value = solution["value"] if "value" in names else None
            findings.append(
                Finding(
                    focus=solution["this"].value,
                    shape=check.shape,
                    severity=check.severity,
                    value=None if value is None else value.value,
                    message=_fill(check.message, solution, names),
                )
            )
    return sorted(set(findings), key=lambda f: (f.focus, f.shape, f.message, f.value or ""))
