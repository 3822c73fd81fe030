"""The ``innograph`` command line: the composition root that wires the modules together."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import multiprocessing
import os
import re
import shlex
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click
from pyoxigraph import QueryBoolean, QueryResultsFormat, Store, parse_query_results
from pyoxigraph import QuerySolutions as Solutions
from rdflib import Graph

from . import __version__, store
from .errors import InnographError, UsageError
from .query import canned
from .query.canned import CannedQuery
from .query.guard import QueryRejected, inspect_query
from .query.local import FORMATS, render, run_query, term_text
from .query.remote import BackendFailed, RemoteExecutor
from .query.workers import QueryRequest
from .settings import ACCESS_LOGS, BACKEND_KINDS, DEFAULT_STORE, Settings, web_workers
from .validation.inputs import graphs_from_nquads
from .validation.reference import validate_graphs
from .validation.report import FORMATS as REPORT_FORMATS
from .validation.report import render as render_report
from .validation.shapes import load_shapes

if TYPE_CHECKING:
    from .records import ParsedProfile

# The pipeline (parsing, mapping, the gate) is imported by the commands that run it: every query
# worker imports this module again when innograph runs as a script (multiprocessing loads the
# script's module in each new process), and would hold the pipeline's memory for nothing.

STORE_OPTION = click.option(
    "--store",
    "store_root",
    type=click.Path(path_type=Path),
    default=DEFAULT_STORE,
    show_default=True,
    envvar="INNOGRAPH_STORE",
    help="Store folder holding versions/, current and previous [env INNOGRAPH_STORE].",
)


def backend_options(command: Callable[..., None]) -> Callable[..., None]:
    """--backend and --backend-kind, read with the other settings (docs/backends.md)."""
    command = click.option(
        "--backend-kind",
        type=click.Choice(BACKEND_KINDS),
        default=None,
        help="The store servers' kind, when the endpoint's path does not tell it"
        " [env INNOGRAPH_BACKEND_KIND].",
    )(command)
    return click.option(
        "--backend",
        default=None,
        metavar="embedded|BLUE,GREEN",
        help="Where queries run: embedded (default), or two store server slots' SPARQL"
        " endpoints, BLUE,GREEN; for build, validate and dump a slot may list its replicas,"
        " A|B (docs/deploy.md) [env INNOGRAPH_BACKEND].",
    )(command)


def backend_of(backend: str | None, backend_kind: str | None) -> store.slots.Backend | None:
    """The store servers the options and environment name, or None for the embedded store."""
    try:
        settings = Settings.from_env(backend=backend, backend_kind=backend_kind)
    except ValueError as error:
        raise UsageError(f"--{str(error).replace('_', '-')}") from None
    return store.slots.Backend.from_settings(settings)


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
    from . import pipeline

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
            click.echo(summary(path, parsed))
        if coverage:
            for line in parsed.unmapped:
                click.echo(f"{path.name}:{line.number}: unmapped: {line.text.strip()}")
            click.echo(
                f"{path.name}: {parsed.profile.line_count} lines, {len(parsed.unmapped)} unmapped"
            )
    sys.exit(2 if failed else 0)


def summary(path: Path, parsed: ParsedProfile) -> str:
    """One line per profile (a folder of them fits a terminal): the file, the city, the wave
    and how much the page says."""
    profile = parsed.profile
    name = profile.header.display_name
    wave = f"{profile.survey.wave} survey" if profile.survey.wave else "wave not stated"
    rendering = ", flattened" if profile.rendering == "flattened" else ""
    cut = f", cut at line {profile.truncated_at}" if profile.truncated_at else ""
    return (
        f"{path.name}: {name.value if name else '(name not on the page)'}, {wave}{rendering}:"
        f" {len(profile.goals)} goals, {len(profile.success_factors)} success factors,"
        f" {len(profile.policy_focus.areas)} policy areas, {len(profile.roles.roles)} roles{cut}"
    )


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
    "--exclude",
    "exclude",
    multiple=True,
    metavar="GLOB",
    help="Skip the files whose name or path matches GLOB (repeatable), e.g. --exclude 'notes*'.",
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
@backend_options
def build(
    paths: tuple[Path, ...],
    store_root: Path,
    out: Path | None,
    exclude: tuple[str, ...],
    workers: int,
    base_iri: str | None,
    quiet: bool,
    backend: str | None,
    backend_kind: str | None,
) -> None:
    """Build a new store version from profile PATHS (files or folders; default data/profiles/).

    Files that are not profile texts (*.txt) or that match --exclude are skipped, whether
    named or found in a folder. The version is validated and promoted atomically. The served
    version is left untouched when a profile cannot be read (exit 2) or a mandatory shape is
    violated (exit 1). With --backend BLUE,GREEN the version is then loaded into the store
    server slot that serves none, and served only once that slot holds all of it.
    """
    from . import pipeline

    try:
        from .web.prerender import city_pages  # the city pages kept with each version

        settings = Settings.from_env(base_iri=base_iri, backend=backend, backend_kind=backend_kind)
        unsaid = backend is None and "INNOGRAPH_BACKEND" not in os.environ
        if unsaid and (store_root / store.slots.SLOTS).is_file():  # serving fronts would 503
            raise UsageError(
                f"--backend: the versions of {store_root} live in store server slots"
                f" ({store.slots.SLOTS}); give --backend BLUE,GREEN (or --backend embedded"
                " to serve this build from the store folder only)"
            )
        if not paths and not pipeline.DEFAULT_PROFILES.is_dir():
            raise UsageError(
                f"{pipeline.DEFAULT_PROFILES}: no such folder here; run innograph build in the"
                " project folder, or name the profile texts or folders: innograph build PATH..."
            )
        chosen = paths or (pipeline.DEFAULT_PROFILES,)
        files = pipeline.profile_files(chosen, exclude)
        hidden = quiet or len(files) < 20
        with click.progressbar(length=len(files), label="profiles", hidden=hidden) as bar:
            report = pipeline.build(
                chosen, store_root, settings, workers, bar.update, exclude, pages=city_pages
            )
    except (InnographError, ValueError) as error:
        fail(error if isinstance(error, InnographError) else UsageError(str(error)))
        return
    for line in report.notes + report.skipped + report.rejects + report.warnings:
        click.echo(line, err=True)
    counts = (
        f"{report.files_in} file(s) in = {report.graphs_out} graph(s) out"
        f" + {len(report.rejected_files)} rejected + {len(report.skipped)} skipped"
    )
    if report.exit_code:
        click.echo(f"build failed: {counts}; the served version is unchanged", err=True)
        click.echo(leave_out_hint(report.rejected_files), err=True)
        sys.exit(report.exit_code)
    click.echo(f"built version {report.version}: {counts} ({report.reused} reused from the cache)")
    held = store.slots.held_by(store.require_current(store_root))
    if held is not None:
        click.echo(f"loaded into store server slot {held['slot']} in {held['load_s']:g} s")
    if out is not None:
        store.write_dumps(store.require_current(store_root), out)


def leave_out_hint(rejected: list[str]) -> str:
    """How to go on after a failed build: fix the files, or leave them out.

    >>> leave_out_hint(["p/notes.txt", "p/b.txt"])
    'fix the file(s) above, or leave them out: --exclude notes.txt --exclude b.txt'
    """
    if not rejected:
        return "fix the violations above and build again"
    excludes = " ".join(f"--exclude {shlex.quote(Path(name).name)}" for name in rejected[:3])
    more = " ..." if len(rejected) > 3 else ""
    return f"fix the file(s) above, or leave them out: {excludes}{more}"


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
    "--format",
    "fmt",
    type=click.Choice(["nquads", "trig", "turtle"]),
    default="nquads",
    show_default=True,
)
@backend_options
def dump(store_root: Path, fmt: str, backend: str | None, backend_kind: str | None) -> None:
    """Write the served version's dump to standard output: its named graphs (canonical N-Quads or
    TriG) or the merged graph (Turtle), as published beside the version, unzipped. With
    --backend, the store server slot serving it is checked to hold it first."""
    try:
        version = store.require_current(store_root)
        servers = backend_of(backend, backend_kind)
        if servers is not None:
            store.slots.verify(store_root, servers, version)
        dataset = store.dump(version, fmt)
    except InnographError as error:
        fail(error)
        return
    sys.stdout.buffer.write(dataset)


@main.command()
@click.argument("sparql")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A value for a parameter of a canned query (repeatable), e.g. --param area=health.",
)
@STORE_OPTION
@backend_options
def query(
    sparql: str,
    fmt: str,
    params: tuple[str, ...],
    store_root: Path,
    backend: str | None,
    backend_kind: str | None,
) -> None:
    """Answer a SPARQL query over the served version. SPARQL is query text, a query file
    (FILE.rq), or the NAME of a query of the catalogue (queries/, as at /queries).

    A canned query takes the parameters its header declares (# param:), each a value the
    served version holds: innograph query cities-by-policy-area --param area=health. Without
    one, it runs over every value. The query is checked as the HTTP endpoint checks it
    (read-only, nothing leaves the machine). The default graph is the union of all named
    graphs, so queries without GRAPH find every profile. With --backend, the query is answered
    by the store server slot holding the served version (the store folder names it).
    """
    try:
        servers = backend_of(backend, backend_kind)
        found = canned_query(sparql)
        if found is None and params:
            raise UsageError(
                f"--param: {sparql[:60]!r} declares no parameters; name a canned query"
                " (innograph query NAME --param NAME=VALUE, the names at /queries)"
            )
        text, where = query_text(sparql) if found is None else (found.text, f"{sparql}: ")
        try:
            plan = inspect_query(text)
        except QueryRejected as error:
            raise UsageError(f"{where}{error.public_message}") from None
        version = store.require_current(store_root)
        served = store.open_read_only(version)
        graphs = {g.value for g in served.named_graphs()}
        outside = [g for g in (*plan.from_graphs, *plan.from_named_graphs) if g not in graphs]
        if outside:  # as the endpoint answers: pyoxigraph would read it as an empty graph
            raise UsageError(
                f"{where}dataset: {outside[0]} is not a graph of this store; FROM and FROM NAMED"
                " may only name the store's own graphs"
            )
        if found is not None:
            text = bound_query(found, params, served, version.manifest().get("base_iri", ""))
        if servers is None:
            shown = render(run_query(served, text), fmt)
        else:
            answer = remote_answer(store_root, servers, version, text)
            shown = answer if isinstance(answer, str) else render(answer, fmt)
        click.echo(shown.rstrip("\n"))
    except InnographError as error:
        fail(error)


def remote_answer(
    root: Path, servers: store.slots.Backend, version: store.Version, text: str
) -> Solutions | QueryBoolean | str:
    """The answer of the store server slot holding the version, with no row cap (the local
    answer has none): solutions read back into terms, graphs as Turtle."""
    executor = RemoteExecutor(root, servers, size=1, queue_wait_s=1.0)
    settings = Settings.from_env()
    kind = inspect_query(text).form
    fmt = "turtle" if kind in ("CONSTRUCT", "DESCRIBE") else "json"
    request = QueryRequest(text, fmt, sys.maxsize - 1, version.id)  # the writers read one more
    answer = executor.run(request, settings.query_timeout_s)
    if answer.truncated:  # a server's own row limit (Virtuoso's ResultSetMaxRows) cut it
        raise BackendFailed(
            f"the store server cut the answer at {answer.rows} rows (its own limit); raise it"
            " (Virtuoso: ResultSetMaxRows) or ask for less"
        )
    body = answer.body
    if fmt == "turtle":
        return body.decode("utf-8")
    return parse_query_results(body, QueryResultsFormat.JSON)


def canned_query(sparql: str) -> CannedQuery | None:
    """The canned query SPARQL names: a query file whose header declares parameters, or a
    catalogue query by name (a NAME that is no file here); None for anything else."""
    from .web.queries import catalogue  # the catalogue the server publishes

    path = Path(sparql)
    if is_file(path) and path.suffix in (".rq", ".sparql"):
        text, _ = query_text(sparql)
        found = canned.parse(path.stem, text)
        return found if found.parameters else None
    if canned.QUERY_NAME.fullmatch(sparql) and not is_file(path):
        if sparql not in catalogue():
            names = ", ".join(catalogue())
            raise UsageError(
                f"{sparql}: no such query in the catalogue; give one of {names},"
                " a query file (FILE.rq) or the query text itself, in quotes"
            )
        return catalogue()[sparql]
    return None


def bound_query(found: CannedQuery, params: tuple[str, ...], served: Store, base: str) -> str:
    """The canned query with each --param NAME=VALUE checked against what the served version
    holds and bound (a bad value names the parameter and the values it takes)."""
    given: dict[str, str] = {}
    for param in params:
        name, equals, value = param.partition("=")
        if not equals:
            raise UsageError(f"--param: expected NAME=VALUE, got {param[:60]!r}")
        found.parameter(name)  # a name the query does not take: an error naming those it does
        if name in given:
            raise UsageError(f"--param: {name} given twice; give it once")
        given[name] = value
    chosen = {}
    for parameter in found.parameters:
        answer = run_query(served, canned.choices_query(parameter))
        names = ("value", "label", "own")
        rows = [{n: term_text(row[n]) for n in names} for row in cast(Solutions, answer)]
        allowed = canned.choices(parameter, rows, base)
        chosen[parameter.name] = canned.choose(found, parameter, given.get(parameter.name), allowed)
    return canned.bind(found, chosen)


QUERY_FILE = re.compile(r"[^\s{}]+\.(rq|sparql)")  # what reads as a file name, not as a query


def is_file(path: Path) -> bool:
    """Whether PATH is a file; query text that is no possible file name is not."""
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long, a NUL byte
        return False


def query_text(sparql: str) -> tuple[str, str]:
    """The query and where it comes from (``FILE: `` or nothing): the file SPARQL names, or
    SPARQL itself; a name that looks like a query file and is not one is an error."""
    path = Path(sparql)
    if QUERY_FILE.fullmatch(sparql) or is_file(path):
        if not is_file(path):
            raise UsageError(
                f"{sparql}: no such file; give a query file that exists (queries/ holds a"
                " catalogue) or the query text itself, in quotes"
            )
        try:
            return path.read_text(encoding="utf-8"), f"{sparql}: "
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"{sparql}: expected a readable UTF-8 query file ({error})") from None
    return sparql, ""


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
@backend_options
def validate(
    paths: tuple[Path, ...],
    fmt: str,
    allow_warnings: bool,
    store_root: Path,
    shapes_dir: Path | None,
    backend: str | None,
    backend_kind: str | None,
) -> None:
    """Check the served version, or RDF files / profile texts PATHS, against the shapes.

    pySHACL is the engine here (the reference the build gate must agree with). Exit status:
    0 conforms, 1 violations (or warnings without --allow-warnings), 2 a usage or input
    error (unreadable file, bad RDF, shapes that define no shape). With --backend, the served
    version's shapes are checked on its local copy, and its store server slot is checked to
    hold exactly that version.
    """
    from . import pipeline

    def served() -> list[Graph]:
        version = store.require_current(store_root)
        servers = backend_of(backend, backend_kind)
        if servers is not None:
            store.slots.verify(store_root, servers, version)
        return graphs_from_nquads(store.dump(version))

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
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on; one in use is refused at once, with a free one to choose.",
)
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=None,
    help="gunicorn worker processes [default: one per two cores, at least one].",
)
@click.option(
    "--threads",
    type=click.IntRange(1),
    default=8,
    show_default=True,
    help="Threads per gunicorn worker.",
)
@click.option(
    "--access-log",
    type=click.Choice(ACCESS_LOGS),
    default=None,
    help="One line per request: short, full or off [env INNOGRAPH_ACCESS_LOG; default short].",
)
@click.option(
    "--dev", is_flag=True, help="Flask's development server, reloader and debugger (loopback only)."
)
@backend_options
def serve(
    store_root: Path,
    host: str,
    port: int,
    workers: int | None,
    threads: int,
    access_log: str | None,
    dev: bool,
    backend: str | None,
    backend_kind: str | None,
) -> None:
    """Serve the promoted store version: the SPARQL endpoint, its query page and a page for
    every IRI. The addresses to open are printed once the server listens.

    Every limit is a named setting read from the environment; `innograph settings` lists them.
    """
    from .web.server import check_address

    reloaded = os.environ.get("WERKZEUG_RUN_MAIN") == "true"  # --dev's reloader: port is ours
    try:
        settings = Settings.from_env(
            store=store_root, access_log=access_log, backend=backend, backend_kind=backend_kind
        )
        version = store.require_current(settings.store)
        servers = store.slots.Backend.from_settings(settings)
        if servers is not None and store.slots.held_by(version) is None:
            raise UsageError(
                f"--backend: version {version.id} is in no store server slot; build it with"
                " innograph build --backend BLUE,GREEN first (or serve it embedded)"
            )
        if dev and not is_loopback(host):
            raise UsageError(f"--host: {host} with --dev; the debugger may listen on loopback only")
        if not reloaded:
            check_address(host, port)
        held = (store.slots.held_by(version) or {}).get("slot", "")
        answered_by = "" if servers is None else f"{held} ({servers.endpoint(held)})"
        log = "" if dev else settings.access_log
        banner = "" if reloaded else addresses(version, host, port, log, answered_by)
    except (InnographError, ValueError) as error:
        fail(error if isinstance(error, InnographError) else UsageError(str(error)))
        return
    if dev:
        from .web import create_app

        if banner:
            click.echo(banner)
        create_app(settings).run(host=host.strip("[]"), port=port, debug=True, use_reloader=True)
        return
    from .web.server import serve as run_gunicorn

    run_gunicorn(settings, host, port, workers or web_workers(), threads, banner)


FIRST_CITY = (
    "PREFIX ig: <https://w3id.org/innograph/def/>"
    " SELECT ?city WHERE { ?city a ig:City } ORDER BY ?city LIMIT 1"
)


def addresses(
    version: store.Version, host: str, port: int, access_log: str, answered_by: str = ""
) -> str:
    """What a person opens first, with this server's address: the home page, the SPARQL
    endpoint and the page of a city the served version holds (and the store server slot that
    answers, with --backend)."""
    shown = host.strip("[]")
    if shown in ("0.0.0.0", "::", ""):
        shown = "127.0.0.1"
    url = f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"
    lines = [
        f"innograph serves version {version.id} (Ctrl-C stops it). Open:",
        f"  home page     {url}/",
        f"  SPARQL        {url}/sparql",
    ]
    base = version.manifest().get("base_iri", "")
    city = first_city(version)
    if city and base and city.startswith(f"{base}id/"):
        lines.append(f"  a city page   {url}/{city.removeprefix(base)}.html")
    if answered_by:
        lines.append(f"Queries are answered by store server slot {answered_by}.")
    if access_log == "short":
        lines.append("One short line per request follows (--access-log full for complete lines).")
    return "\n".join(lines)


def first_city(version: store.Version) -> str | None:
    """The IRI of the version's first city, asked in a forked child: RocksDB's threads must
    not live in the process that gunicorn forks its workers from."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_send_first_city, args=(version, sender), daemon=True)
    child.start()
    sender.close()
    try:
        return receiver.recv() if receiver.poll(30) else None
    except EOFError:
        return None
    finally:
        child.join(5)


def _send_first_city(version: store.Version, sender: Connection) -> None:
    try:
        answer = run_query(store.open_read_only(version), FIRST_CITY)
        rows = [term_text(row["city"]) for row in answer] if isinstance(answer, Solutions) else []
        sender.send(rows[0] if rows else None)
    except Exception:  # a missing city line is no reason to fail serve
        sender.send(None)


@main.command(name="settings")
def list_settings() -> None:
    """List every named setting: environment variable, default and what it is for."""
    for name, env, default, text in Settings.documented():
        click.echo(f"{env}  (default {default})\n    {name}: {text}")
