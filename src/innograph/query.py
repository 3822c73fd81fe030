"""Run a SPARQL query over the built dataset and serialise the answer."""

from __future__ import annotations

from rdflib import Dataset
from rdflib.query import Result

from .errors import UsageError

FORMATS = ("table", "csv", "json")


def run_query(dataset: Dataset, text: str) -> Result:
    try:
        return dataset.query(text)
    except Exception as error:  # rdflib raises pyparsing and plain exceptions alike
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UsageError(f"query: expected a SPARQL query ({first})") from None


def render(result: Result, fmt: str) -> str:
    if fmt == "csv":
        return result.serialize(format="csv").decode("utf-8")
    if fmt == "json":
        return result.serialize(format="json").decode("utf-8")
    return table(result)


def table(result: Result) -> str:
    if result.type == "ASK":
        return "true" if result.askAnswer else "false"
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        return result.serialize(format="turtle").decode("utf-8")
    names = [str(v) for v in result.vars or []]
    rows = [["" if value is None else str(value) for value in row] for row in result]
    widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(names)]
    lines = [" | ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)
