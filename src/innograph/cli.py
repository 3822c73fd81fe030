"""The ``innograph`` command line: the composition root that wires the modules together."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import click

from . import __version__
from .errors import InnographError, ProfileError, UsageError
from .parsing import parse_bytes
from .pipeline import NQUADS_NAME, graphs_to_validate
from .pipeline import build as build_dataset
from .query import FORMATS, load_store, render, run_query
from .records import ParsedProfile
from .settings import Settings
from .validation import load_shapes, validate_graphs
from .validation_report import FORMATS as REPORT_FORMATS
from .validation_report import render as render_report
from .vocab import survey_options

DEFAULT_PROFILES = Path("data/profiles")
DEFAULT_OUT = Path("build")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="innograph")
def main() -> None:
    """innograph: city innovation-capacity profiles as a linked-data knowledge graph."""


def _read(path: Path) -> ParsedProfile:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ProfileError(str(path), 1, f"expected a readable file ({error.strerror})") from None
    return parse_bytes(data, str(path), survey_options())


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print each record as JSON.")
@click.option("--coverage", is_flag=True, help="List unmapped lines and a summary per file.")
def parse(files: tuple[Path, ...], as_json: bool, coverage: bool) -> None:
    """Parse profile FILES into typed records; every line is accounted for.

    Exit status: 0 when every file parsed, 2 when any could not be read (the others are
    still parsed and reported).
    """
    failed = False
    for path in files:
        try:
            parsed = _read(path)
        except InnographError as error:
            click.echo(error.public_message, err=True)
            failed = True
            continue
        if as_json:
            click.echo(json.dumps(dataclasses.asdict(parsed.profile), ensure_ascii=False, indent=2))
        elif not coverage:
            click.echo(summary(parsed))
        if coverage:
            for line in parsed.unmapped:
                click.echo(f"{path.name}:{line.number}: unmapped: {line.text.strip()}")
            click.echo(
                f"{path.name}: {parsed.profile.line_count} lines, {len(parsed.unmapped)} unmapped"
            )
    sys.exit(2 if failed else 0)


def summary(parsed: ParsedProfile) -> str:
    """A short human-readable account of a record."""
    profile = parsed.profile
    header = profile.header
    name = header.display_name.value if header.display_name else "(name not on page)"
    facts = [
        f"{name} ({profile.source}, {profile.rendering} rendering,"
        f" wave {profile.survey.wave or 'unknown'})",
        f"  mayor: {header.mayor.name if header.mayor else '-'}",
        f"  population: {header.population.value if header.population else '-'}",
        f"  lead innovation officer(s): {', '.join(p.name for p in header.lead_officers) or '-'}",
        f"  goals: {len(profile.goals)}, success factors: {len(profile.success_factors)},"
        f" policy areas: {len(profile.policy_focus.areas)}, roles: {len(profile.roles.roles)}",
    ]
    if profile.truncated_at:
        facts.append(f"  truncated: the text ends at line {profile.truncated_at}")
    return "\n".join(facts)


def fail(error: InnographError) -> None:
    click.echo(error.public_message, err=True)
    sys.exit(error.exit_code)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=DEFAULT_OUT,
    show_default=True,
    help="Folder for innograph.nq and innograph.trig.",
)
@click.option("--base-iri", default=None, help="Base of data IRIs [env INNOGRAPH_BASE_IRI].")
def build(paths: tuple[Path, ...], out: Path, base_iri: str | None) -> None:
    """Build the dataset from profile PATHS (files or folders; default data/profiles/).

    Nothing is written unless every profile could be read; each one that could not is
    reported as FILE:LINE: what was expected (exit status 2).
    """
    try:
        settings = Settings.from_env(base_iri=base_iri)  # type: ignore[arg-type]
        report = build_dataset(paths or (DEFAULT_PROFILES,), out, settings)
    except (InnographError, ValueError) as error:
        fail(error if isinstance(error, InnographError) else UsageError(str(error)))
        return
    for reject in report.rejects:
        click.echo(reject.public_message, err=True)
    if report.rejects:
        click.echo(
            f"build failed: {len(report.rejects)} profile(s) rejected; nothing written", err=True
        )
        sys.exit(2)
    click.echo(f"built {len(report.profiles)} profile(s), {report.quads} quads into {out}/")


@main.command()
@click.argument("sparql")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=DEFAULT_OUT,
    show_default=True,
    help="Folder of the built dataset.",
)
def query(sparql: str, fmt: str, out: Path) -> None:
    """Answer a SPARQL query over the built graph. SPARQL may be a query or a .rq file.

    The default graph is the union of all named graphs, so queries without GRAPH find
    every profile.
    """
    try:
        path = Path(sparql)
        text = (
            path.read_text(encoding="utf-8")
            if sparql.endswith(".rq") and path.is_file()
            else sparql
        )
        click.echo(render(run_query(load_store(out / NQUADS_NAME), text), fmt).rstrip("\n"))
    except InnographError as error:
        fail(error)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(REPORT_FORMATS), default="text", show_default=True
)
@click.option("--allow-warnings", is_flag=True, help="Conform even when recommended shapes warn.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=DEFAULT_OUT,
    show_default=True,
    help="Folder of the built graph, validated when no PATH is given.",
)
@click.option(
    "--shapes",
    "shapes_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of shapes files (default: the shapes shipped with innograph).",
)
def validate(
    paths: tuple[Path, ...], fmt: str, allow_warnings: bool, out: Path, shapes_dir: Path | None
) -> None:
    """Check the built graph, or RDF files / profile texts PATHS, against the SHACL shapes.

    Exit status: 0 conforms, 1 violations (or warnings without --allow-warnings), 2 a usage
    or input error (unreadable file, bad RDF, shapes that define no shape).
    """
    try:
        shapes = load_shapes(shapes_dir)
        graphs = graphs_to_validate(paths, out, Settings.from_env())
        report = validate_graphs(graphs, shapes)
    except InnographError as error:
        fail(error)
        return
    click.echo(render_report(report, fmt, allow_warnings))
    sys.exit(0 if report.conforms(allow_warnings) else 1)
