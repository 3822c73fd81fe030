"""Queries run in this process, for the command line: over a store version, answers as a
table, CSV or JSON."""

from __future__ import annotations

import pyoxigraph as ox

from ..errors import UsageError

FORMATS = ("table", "csv", "json")
Answer = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples


def run_query(store: ox.Store, text: str) -> Answer:
    try:
        return store.query(text)
    except SyntaxError as error:
        raise UsageError(f"query: expected a SPARQL query ({error})") from None


def render(answer: Answer, fmt: str) -> str:
    if isinstance(answer, ox.QueryTriples):
        return answer.serialize(format=ox.RdfFormat.TURTLE).decode("utf-8")
    if fmt == "csv":
        return answer.serialize(format=ox.QueryResultsFormat.CSV).decode("utf-8")
    if fmt == "json":
        return answer.serialize(format=ox.QueryResultsFormat.JSON).decode("utf-8")
    if isinstance(answer, ox.QueryBoolean):
        return "true" if bool(answer) else "false"
    return table(answer)


def term_text(term: object) -> str:
    return "" if term is None else str(getattr(term, "value", term))


def table(solutions: ox.QuerySolutions) -> str:
    names = [v.value for v in solutions.variables]
    rows = [[term_text(solution[name]) for name in names] for solution in solutions]
    widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(names)]
    lines = [" | ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)
