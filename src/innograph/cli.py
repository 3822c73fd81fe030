"""The ``innograph`` command line: the composition root that wires the modules together."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import sys
from pathlib import Path

import click
from rdflib import Graph

from . import __version__, pipeline, store
from .errors import InnographError, UsageError
from .query.local import FORMATS, render, run_query
from .records import ParsedProfile
from .settings import DEFAULT_STORE, Settings
from .validation.inputs import graphs_from_nquads
from .validation.reference import validate_graphs
from .validation.report import FORMATS as REPORT_FORMATS
from .validation.report import render as render_report
from .validation.shapes import load_shapes

STORE_OPTION = click.option(
    "--store",
    "store_root",
    type=click.Path(path_type=Path),
    default=DEFAULT_STORE,
    show_default=True,
    envvar="INNOGRAPH_STORE",
    help="Store folder holding versions/, current and previous [env INNOGRAPH_STORE].",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="innograph")
def main() -> None:
    """innograph: city innovation-capacity profiles as a linked-data knowledge graph."""


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def fail(error: InnographError) -> None:
    """One line on stderr and the error's exit code; never a traceback."""
    click.echo(error.public_message, err=True)
    sys.exit(error.exit_code)


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
            parsed = pipeline.read_profile(path)
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


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@STORE_OPTION
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the promoted version here as innograph.nq and innograph.trig.",
)
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=os.cpu_count() or 1,
    show_default=True,
    help="Worker processes that parse and map profiles.",
)
@click.option("--base-iri", default=None, help="Base of data IRIs [env INNOGRAPH_BASE_IRI].")
@click.option("--quiet", is_flag=True, help="No progress bar (for CI).")
def build(
    paths: tuple[Path, ...],
    store_root: Path,
    out: Path | None,
    workers: int,
    base_iri: str | None,
    quiet: bool,
) -> None:
    """Build a new store version from profile PATHS (files or folders; default data/profiles/).

    The version is validated and promoted atomically. The served version is left untouched
    when a profile cannot be read (exit 2) or a mandatory shape is violated (exit 1).
    """
    try:
        settings = Settings.from_env(base_iri=base_iri)
        files = pipeline.profile_files(paths or (pipeline.DEFAULT_PROFILES,))
        hidden = quiet or len(files) < 20
        with click.progressbar(length=len(files), label="profiles", hidden=hidden) as bar:
            report = pipeline.build(files, store_root, settings, workers, bar.update)
    except (InnographError, ValueError) as error:
        fail(error if isinstance(error, InnographError) else UsageError(str(error)))
        return
    for line in report.rejects + report.warnings:
        click.echo(line, err=True)
    counts = (
        f"{report.profiles_in} profile(s) in, {report.graphs_out} graph(s) out,"
        f" {len(report.rejects)} rejected, {report.reused} reused from the cache"
    )
    if report.exit_code:
        click.echo(f"build failed: {counts}; the served version is unchanged", err=True)
        sys.exit(report.exit_code)
    click.echo(f"built version {report.version}: {counts}")
    if out is not None:
        store.write_dumps(store.require_current(store_root), out)


@main.command()
@STORE_OPTION
def rollback(store_root: Path) -> None:
    """Serve the previous store version again."""
    try:
        version = store.rollback(store_root)
    except InnographError as error:
        fail(error)
        return
    click.echo(f"serving version {version.id}")


@main.command()
@STORE_OPTION
@click.option(
    "--format", "fmt", type=click.Choice(["nquads", "trig"]), default="nquads", show_default=True
)
def dump(store_root: Path, fmt: str) -> None:
    """Write the served version's named graphs to standard output (canonical N-Quads or TriG)."""
    try:
        dataset = store.dump(store.require_current(store_root), fmt)
    except InnographError as error:
        fail(error)
        return
    sys.stdout.buffer.write(dataset)


@main.command()
@click.argument("sparql")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@STORE_OPTION
def query(sparql: str, fmt: str, store_root: Path) -> None:
    """Answer a SPARQL query over the served version. SPARQL may be a query or a .rq file.

    The default graph is the union of all named graphs, so queries without GRAPH find
    every profile.
    """
    try:
        path = Path(sparql)
        is_file = sparql.endswith(".rq") and path.is_file()
        text = path.read_text(encoding="utf-8") if is_file else sparql
        served = store.open_read_only(store.require_current(store_root))
        click.echo(render(run_query(served, text), fmt).rstrip("\n"))
    except InnographError as error:
        fail(error)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(REPORT_FORMATS), default="text", show_default=True
)
@click.option("--allow-warnings", is_flag=True, help="Conform even when recommended shapes warn.")
@STORE_OPTION
@click.option(
    "--shapes",
    "shapes_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of shapes files (default: the shapes shipped with innograph).",
)
def validate(
    paths: tuple[Path, ...],
    fmt: str,
    allow_warnings: bool,
    store_root: Path,
    shapes_dir: Path | None,
) -> None:
    """Check the served version, or RDF files / profile texts PATHS, against the shapes.

    pySHACL is the engine here (the reference the build gate must agree with). Exit status:
    0 conforms, 1 violations (or warnings without --allow-warnings), 2 a usage or input
    error (unreadable file, bad RDF, shapes that define no shape).
    """

    def served() -> list[Graph]:
        return graphs_from_nquads(store.dump(store.require_current(store_root)))

    try:
        shapes = load_shapes(shapes_dir)
        graphs = pipeline.graphs_to_validate(paths, Settings.from_env(), served)
        report = validate_graphs(graphs, shapes)
    except InnographError as error:
        fail(error)
        return
    click.echo(render_report(report, fmt, allow_warnings))
    sys.exit(0 if report.conforms(allow_warnings) else 1)


@main.command()
@click.option("--cities", type=click.IntRange(1), required=True, help="How many profiles.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder to write.")
def synth(cities: int, seed: int, out: Path) -> None:
    """Write synthetic profile texts for scale tests (never into data/).

    Each file starts with a '# synthetic:' line and builds into a graph marked ig:synthetic.
    """
    from .synth import write_synthetic

    try:
        paths = write_synthetic(out, cities, seed)
    except ValueError as error:
        fail(UsageError(f"--out: {error}"))
        return
    click.echo(f"wrote {len(paths)} synthetic profile(s) to {out}/")


@main.command()
@STORE_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=2,
    show_default=True,
    help="gunicorn worker processes.",
)
@click.option(
    "--threads",
    type=click.IntRange(1),
    default=8,
    show_default=True,
    help="Threads per gunicorn worker.",
)
@click.option(
    "--dev", is_flag=True, help="Flask's development server, reloader and debugger (loopback only)."
)
def serve(store_root: Path, host: str, port: int, workers: int, threads: int, dev: bool) -> None:
    """Serve the promoted store version: the SPARQL endpoint and its query page.

    Every limit is a named setting read from the environment; `innograph settings` lists them.
    """
    try:
        settings = Settings.from_env(store=store_root)
        store.require_current(settings.store)
    except (InnographError, ValueError) as error:
        fail(error if isinstance(error, InnographError) else UsageError(str(error)))
        return
    if dev:
        if not is_loopback(host):
            fail(UsageError(f"--host: {host} with --dev; the debugger may listen on loopback only"))
            return
        from .web import create_app

        create_app(settings).run(host=host.strip("[]"), port=port, debug=True, use_reloader=True)
        return
    from .web.server import serve as run_gunicorn

    run_gunicorn(settings, host, port, workers, threads)


@main.command(name="settings")
def list_settings() -> None:
    """List every named setting: environment variable, default and what it is for."""
    for name, env, default, text in Settings.documented():
        click.echo(f"{env}  (default {default})\n    {name}: {text}")
