"""Queries run in this process, for the command line: over a store version, answers as a
table, CSV or JSON."""

from __future__ import annotations

import sys

import pyoxigraph as ox

from ..errors import UsageError
from .guard import engine_syntax_message
from .writers import write_solutions, written

FORMATS = ("table", "csv", "json")
Answer = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples


def run_query(store: ox.Store, text: str) -> Answer:
    try:
        return store.query(text)
    except SyntaxError as error:
        raise UsageError(engine_syntax_message(error)) from None


def render(answer: Answer, fmt: str) -> str:
    """The answer for a terminal: a table, or CSV / JSON written as the endpoint writes them
    (no row or size cap here); graphs as Turtle."""
    if isinstance(answer, ox.QueryTriples):
        return written(answer.serialize(format=ox.RdfFormat.TURTLE)).decode("utf-8")
    if isinstance(answer, ox.QueryBoolean):
        if fmt == "table":
            return "true" if bool(answer) else "false"
        formats = {"csv": ox.QueryResultsFormat.CSV, "json": ox.QueryResultsFormat.JSON}
        return written(answer.serialize(format=formats[fmt])).decode("utf-8")
    if fmt == "table":
        return table(answer)
    names = [v.value for v in answer.variables]
    rows = (tuple(solution[name] for name in names) for solution in answer)
    body, _, _ = write_solutions(names, rows, fmt, limit=sys.maxsize)
    return body.decode("utf-8")


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
