"""The command line (``json2db-sync``): argparse to runner to render; imports stdlib (and ``_usage``)
at load time, the runner, render (rich) and the menu only inside the handlers, so ``--help`` stays
fast. The menu never imports this module (what both say lives in ``_usage``).

Exit status: 0 success, 1 the operation failed (``success`` is False), 2 usage or
configuration errors (argparse errors, a ``config_error`` result, a destructive command
without ``--yes`` when nobody can be asked). Quiet enough for cron: one line on stdout on
success (nothing with ``--quiet``), errors on stderr.

The human output always names the destination (``SQLite <file>`` or ``PostgreSQL <url>
(schema s)``, password masked): at the end of the one-line summary, as a ``Destination:``
line above tables, and in error messages. ``--json`` output is the runner's dict unchanged.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._usage import PROG, USAGE_HINT

if TYPE_CHECKING:
    from rich.console import Console

    from .runner_json2db_sync import JSON2DBSyncRunner

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# Commands whose output is the point: they draw their tables by default, not one line.
DISPLAY_COMMANDS = frozenset({"analyze", "verify", "report", "sessions", "config"})


# Every subcommand's --help ends with examples (as sqlite-utils does).
EXAMPLES: dict[str, tuple[str, ...]] = {
    "analyze": (f"{PROG} analyze", f"{PROG} analyze --json-dir ./exports/2026-06-09"),
    "recreate": (f"{PROG} recreate", f"{PROG} recreate --yes      # in scripts: no question asked"),
    "populate": (f"{PROG} populate --cutoff-days 7", f"{PROG} populate --entities invoices,bills"),
    "verify": (f"{PROG} verify", f"{PROG} verify --json      # every check, as JSON"),
    "report": (f"{PROG} report", f"{PROG} report --format markdown > report.md",
               f"{PROG} report --format html --out report.html   # charts, opens offline"),
    "sync": (f"{PROG} sync --cutoff-days 1     # nightly, from cron", f"{PROG} sync --entities invoices --quiet"),
    "sessions": (f"{PROG} sessions", f"{PROG} sessions --cutoff-days 2 --no-count"),
    "config": (f"{PROG} config", f"{PROG} --db other.db config"),
    "sample-data": (f"{PROG} sample-data --demo && {PROG} sync   # try it out in this folder",
                    f"{PROG} sample-data --out /tmp/sessions --days 7 --invoices 500"),
    "backup": (f"{PROG} backup", f"{PROG} backup --list"),
    "restore": (f"{PROG} backup --list && {PROG} restore latest", f"{PROG} restore latest --yes"),
    "browse": (f"{PROG} browse                 # then open http://127.0.0.1:8001", f"{PROG} browse --port 9000"),
}

# The demo (`sample-data --demo`): sample sessions and a database under ./demo, saved in ./.env.
DEMO_SESSIONS = "demo/api_sync/data/sync_sessions"
DEMO_DATABASE = "demo/data/production.db"


class UsageError(Exception):
    """A command that cannot run as given (exit 2): the message says what to add."""


# --- argument parsing -------------------------------------------------------------------


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative; give 0 or more")
    return value


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def _port(text: str) -> int:
    value = _positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1 to 65535)")
    return value


def _entity_list(text: str) -> list[str]:
    entities = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not entities:
        raise argparse.ArgumentTypeError("give entity names separated by commas, e.g. invoices,bills")
    return entities


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Options accepted before or after the command (``json2db-sync --json sync`` and
    ``json2db-sync sync --json`` both work); on subcommands they default to SUPPRESS so
    that an option given before the command is not reset by the subparser."""
    default: Any = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("global options")
    group.add_argument("--db", metavar="PATH", default=default,
                       help="SQLite database file (default: JSON2DB_DATABASE_PATH or ../data/database/production.db)")
    group.add_argument("--db-url", metavar="URL", default=default,
                       help="write to PostgreSQL instead, e.g. postgresql://user:password@host:5432/db "
                       "(needs pip install 'json2db_sync[postgres]'; default: JSON2DB_DATABASE_URL)")
    group.add_argument("--db-schema", metavar="NAME", default=default,
                       help="the PostgreSQL schema the tables go in (default: JSON2DB_DATABASE_SCHEMA or public)")
    group.add_argument("--source", metavar="DIR", default=default,
                       help="data source: an api_sync root, a sessions folder or a folder of *.json files")
    group.add_argument("--config", metavar="FILE", default=default, help="JSON config file (default: JSON2DB_CONFIG_FILE)")
    group.add_argument("--json", action="store_true", default=argparse.SUPPRESS if suppress else False,
                       help="print the result dict as JSON on stdout")
    group.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS if suppress else 0,
                       help="show the full result and INFO logging (-vv: DEBUG)")
    group.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS if suppress else False,
                       help="print nothing on success (errors still go to stderr)")


def _add_json_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json-dir", metavar="DIR", help="read this folder instead of the configured data source")


def _add_cutoff(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--cutoff-days", metavar="N", type=_positive_int, help=help_text)


def _add_entities(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--entities", metavar="LIST", type=_entity_list,
                        help="only these entities, comma-separated (e.g. invoices,bills)")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; one subparser per runner operation."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Load Zoho Books JSON exported by api_sync into SQLite or PostgreSQL (--db-url). "
        "Without a command in a terminal, opens the interactive menu.",
        epilog="Exit status: 0 success, 1 the operation failed, 2 usage or configuration error. "
        f"Cron example: 0 2 * * * cd /srv/app && {PROG} sync --cutoff-days 1",
        allow_abbrev=False,
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        examples = "\n".join(f"  {line}" for line in EXAMPLES.get(name, ()))
        command = sub.add_parser(
            name, help=help_text, description=help_text, allow_abbrev=False,
            epilog=f"Example:\n{examples}" if examples else None,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _global_options(command, suppress=True)
        return command

    analyze = add("analyze", "analyse the JSON files: entities, columns, types, schema changes required")
    _add_json_dir(analyze)

    recreate = add("recreate", "back up, drop every json_* table (of the schema, on PostgreSQL) and create them again (asks first)")
    recreate.add_argument("--yes", action="store_true", help="do not ask (required when not in a terminal)")

    populate = add("populate", "load the records of the recent sessions into the tables")
    _add_json_dir(populate)
    _add_cutoff(populate, "only data folders from the last N days (default: JSON2DB_DEFAULT_CUTOFF_DAYS, 30)")
    _add_entities(populate)

    add("verify", "check the tables (exit status 1 when a check is an error)")

    report = add("report", "summary of the database: tables, records, sessions, runs, freshness")
    report.add_argument("--format", choices=("table", "json", "markdown", "html"), default="table",
                        help="table (default), json, markdown, or html: one self-contained page with charts "
                        "(needs --out and pip install 'json2db_sync[report]')")
    report.add_argument("--out", metavar="FILE", help="the file --format html writes (e.g. report.html)")

    sync = add("sync", "the full workflow: analyse, create or extend tables, load, verify, report")
    _add_json_dir(sync)
    _add_cutoff(sync, "only data folders from the last N days (default: JSON2DB_DEFAULT_CUTOFF_DAYS, 30)")
    _add_entities(sync)
    sync.add_argument("--skip-table-creation", action="store_true",
                      help="skip analysis and table creation (keep the existing schema)")

    sessions = add("sessions", "list the data folders found, oldest first, with entities and record counts")
    _add_cutoff(sessions, "only data folders from the last N days (default: all)")
    sessions.add_argument("--no-count", action="store_true", help="do not count the records (faster)")

    add("config", "show every setting, its value and where it came from")

    sample = add("sample-data", "write realistic Zoho Books sample sessions (for demos and tests)")
    sample.add_argument("--out", metavar="DIR", help="target folder (default: the configured sessions folder; "
                        f"with --demo {DEMO_SESSIONS})")
    sample.add_argument("--demo", action="store_true",
                        help=f"write into {DEMO_SESSIONS} and save it and the database ({DEMO_DATABASE}, or --db) "
                        "in ./.env, so every later command run here (and the menu, and JSON2DBSyncRunner()) uses them")
    sample.add_argument("--days", metavar="N", type=_positive_int, default=3, help="days of sessions (default 3)")
    sample.add_argument("--seed", metavar="S", type=int, default=42, help="random seed (default 42)")
    sample.add_argument("--invoices", metavar="N", type=_positive_int, default=40, help="invoices in total (default 40)")

    browse = add("browse", "browse the SQLite database in a web browser with Datasette on 127.0.0.1 "
                 "(needs pip install 'json2db_sync[browse]'; Ctrl-C stops it)")
    browse.add_argument("--port", metavar="N", type=_port, default=8001, help="the port to serve on (default 8001)")

    backup = add("backup", "copy the database into the backup folder now")
    backup.add_argument("--list", action="store_true", help="list the backups instead, newest first")

    restore = add("restore", "replace the database with a backup (the current state is backed up first); "
                  "on PostgreSQL it prints the pg_restore command to run instead")
    restore.add_argument("backup", metavar="BACKUP", help="a backup file, or 'latest' for the newest backup")
    restore.add_argument("--yes", action="store_true", help="do not ask (required when not in a terminal)")
    return parser


# --- output ---------------------------------------------------------------------------


def _stdout_console() -> Console:
    """Stdout; when it is a file or a pipe (cron mail, `| less`), tables get 160 columns, not 80."""
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 160
    return console


def _stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _exit_code(result: Mapping[str, Any]) -> int:
    if result.get("success"):
        return EXIT_OK
    return EXIT_USAGE if result.get("error_type") == "config_error" else EXIT_FAILED


# Views that name the database themselves (the report's "Database" row, "Backups of ..."),
# so no "Destination:" line is printed above them.
NAMES_ITS_DATABASE = frozenset({"generate_summary_report", "list_backups"})


def _output(args: argparse.Namespace, result: Mapping[str, Any], *, display: Callable[[], object] | None = None) -> int:
    """Print ``result`` the way the options ask, and return the exit status.

    --json: the dict on stdout, nothing else. Failure: the error panel on stderr (and the
    payload, e.g. a workflow's statistics, with --verbose). Success: nothing with --quiet,
    the full view with --verbose or for display commands, else one line. Every human view
    names the destination (``args.destination``, see :func:`_run_command`).
    """
    from rich.text import Text

    from . import render

    destination = getattr(args, "destination", None)
    live = getattr(args, "live_progress", None)
    if live is not None:  # the operation is over: take its bar away before anything is printed
        live.stop()
    if args.json:
        _print_json(result)
        return _exit_code(result)
    if not result.get("success"):
        err = _stderr_console()
        if args.verbose:
            render.render_result(err, result, destination=destination)
        elif err.is_terminal:
            render.render_failure(err, result, destination=destination)
        else:
            sys.stderr.write(render.failure_text(result, destination=destination))
        return _exit_code(result)
    if args.quiet:
        return EXIT_OK
    if display is not None:
        display()
    elif args.verbose or args.command in DISPLAY_COMMANDS:
        console = _stdout_console()
        if destination is not None and result.get("operation") not in NAMES_ITS_DATABASE:
            console.print(Text(f"Destination: {destination['description']}"))
        render.render_result(console, result)
    else:
        sys.stdout.write(render.summary_line(result, destination=destination) + "\n")
    return EXIT_OK


# --- the runner and logging -----------------------------------------------------------


def _log_level(args: argparse.Namespace) -> int:
    if args.verbose >= 2:
        return logging.DEBUG
    if args.verbose == 1:
        return logging.INFO
    if args.quiet:
        return logging.ERROR
    return logging.WARNING


def _make_runner(args: argparse.Namespace, progress: Callable[[Any], None] | None) -> JSON2DBSyncRunner:
    from .runner_json2db_sync import JSON2DBSyncRunner

    return JSON2DBSyncRunner(
        db_path=args.db,
        data_source=args.source,
        config_file=args.config,
        db_url=args.db_url,
        db_schema=args.db_schema,
        progress_callback=progress,
    )


# Commands that do not touch the database: their output names no destination.
NO_DESTINATION_COMMANDS = frozenset({"sample-data", "sessions"})


def _destination(runner: JSON2DBSyncRunner) -> Mapping[str, Any] | None:
    """The runner's destination (kind, db_path, description; password masked), or None
    when the configuration is broken (the command's own result then says why)."""
    result = runner.destination()
    return result if result.get("success") else None


def _is_postgres(args: argparse.Namespace) -> bool:
    destination = getattr(args, "destination", None)
    return destination is not None and destination.get("kind") == "postgresql"


def _apply_configured_level(args: argparse.Namespace, runner: JSON2DBSyncRunner, handler: logging.Handler) -> None:
    """Without -v/-q, JSON2DB_LOG_LEVEL (or logging.level in the config file) decides."""
    if args.verbose or args.quiet:
        return
    from . import render
    from .errors import ConfigError

    try:
        level = runner.settings.log_level
    except ConfigError:  # the command's result will say so
        return
    render.set_log_level(handler, level)


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _confirm(question: str) -> bool:
    """Ask on the terminal; anything but y/yes is no."""
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


# --- command handlers (each returns the exit status) ------------------------------------


def _cmd_analyze(args: argparse.Namespace, runner: JSON2DBSyncRunner) -> int:
    return _output(args, runner.analyze_json_files(args.json_dir))


def _cmd_recreate(args: argparse.Namespace, runner: JSON2DBSyncRunner) -> int:
    if not args.yes:
        if not _interactive():
            raise UsageError("recreate drops every json_* table; add --yes to confirm (nobody can be asked here)")
        from . import render

        plan = runner.tables_to_drop(args.db)
        if not plan["success"]:
            return _output(args, plan)
        render.render_tables_to_drop(_stderr_console(), plan)
        if not _confirm(f"Drop and recreate these tables in {plan.get('destination') or plan['db_path']}?"):
            sys.stderr.write("Nothing changed.\n")
            return EXIT_OK
        # asked before any progress display: a live display would hide the question
        return _output(args, _with_progress(args, runner, lambda: runner.recreate_json_tables(args.db)))
    return _output(args, runner.recreate_json_tables(args.db))


def _with_progress(args: argparse.Namespace, runner: JSON2DBSyncRunner, call: Callable[[], Mapping[str, Any]]) -> Mapping[str, Any]:
    """Run ``call`` with a progress bar on stderr when stderr is a terminal."""
    err = _stderr_console()
    if not err.is_terminal or args.quiet or args.json:
        return call()
    from . import render

    previous = runner.progress
    with render.RichProgress(err) as bar:
        runner.progress = bar
        try:
            return call()
        finally:
            runner.progress = previous


def _cmd_populate(args: argparse.Namespace, runner: JSON2DBSyncRunner) -> int:
    return _output(
        args,
        runner.populate_tables(json_dir=args.json_dir, cutoff_days=args.cutoff_days, entity_filter=args.entities),
    )


def _cmd_verify(args: argparse.Namespace, runner: JSON2DBSyncRunner) -> int:
    return _output(args, runner.verify_tables())


def _cmd_report(args: argparse.Namespace, runner: JSON2DBSyncRunner) -> int:
    if args.format == "html" or args.out:
        if args.format != "html":
            raise UsageError("--out writes the HTML report; add --format html (or leave --out out)")
        if not args.out:
            raise UsageError("--format html needs --out FILE, e.g. --out report.html")
        return _output(args, runner.generate_html_report(args.out))
    result = runner.generate_summary_report()
    if args.format == "json" and result.get("success") and not args.json:
        if not args.quiet:
            _print_json(result)
        return EXIT_OK
    if args.format == "markdown" and result.get("success") and not args.json and not args.quiet:
        from .summary_reporter import report_to_markdown

        return _output(args, result, display=lambda: sys.stdout.write(report_to_markdown(result).rstrip() + "\n"))
    return _output(args, result)


def _cmd_sync(args: argparse.Namespace, runner: JSON2DBSyncRunner) -> int:
    return _output(
        args,
        runner.full_sync_workflow(
            json_dir=args.json_dir,
            cutoff_days=args.cutoff_days,
            skip_table_creation=args.skip_table_creation,
            entity_filter=args.entities,
        ),
    )


def _cmd_sessions(args: argparse.Namespace, runner: JSON2DBSyncRunner) -> int:
    return _output(args, runner.list_sessions(cutoff_days=args.cutoff_days, count_records=not args.no_count))


def _cmd_config(args: argparse.Namespace, runner: JSON2DBSyncRunner) -> int:
    return _output(args, runner.show_configuration())


def _cmd_sample_data(args: argparse.Namespace, runner: JSON2DBSyncRunner) -> int:
    if args.demo:
        return _output(args, runner.generate_sample_data(
            out_dir=args.out or DEMO_SESSIONS, days=args.days, seed=args.seed, invoices=args.invoices,
            save_env=True, db_path=args.db or DEMO_DATABASE,
        ))
    return _output(
        args, runner.generate_sample_data(out_dir=args.out, days=args.days, seed=args.seed, invoices=args.invoices)
    )


def _cmd_backup(args: argparse.Namespace, runner: JSON2DBSyncRunner) -> int:
    if args.list:
        result = runner.list_backups()
        if result.get("success") and not (args.json or args.quiet or args.verbose):
            from . import render

            return _output(args, result, display=lambda: render.render_backups(_stdout_console(), result))
        return _output(args, result)
    return _output(args, runner.create_backup())


def _cmd_restore(args: argparse.Namespace, runner: JSON2DBSyncRunner) -> int:
    backup = args.backup
    postgres = _is_postgres(args)
    if backup == "latest":
        listing = runner.list_backups()
        if not listing["success"]:
            return _output(args, listing)
        if not listing["backups"] and postgres:
            return _output(args, _no_postgres_backup(listing, runner))
        if not listing["backups"]:
            raise UsageError(f"there are no backups of {listing['db_path']} to restore; `{PROG} backup` makes one")
        # the copies a restore took of what it replaced are not "latest": restoring one
        # would undo the restore
        chosen = [b for b in listing["backups"] if not b.get("safety_copy")]
        if not chosen:
            raise UsageError(
                f"the only backups of {listing['db_path']} are copies taken by earlier restores "
                f"(*-before-restore); restore one by its path if that is what you want"
            )
        backup = chosen[0]["path"]
    if postgres:
        # Nothing to confirm: the runner refuses and says which pg_restore command to run.
        return _output(args, runner.restore_backup(backup))
    if not args.yes:
        if not _interactive():
            raise UsageError("restore replaces the database; add --yes to confirm (nobody can be asked here)")
        if not _confirm(f"Replace the database with {backup}? (its current state is backed up first)"):
            sys.stderr.write("Nothing changed.\n")
            return EXIT_OK
    return _output(args, runner.restore_backup(backup))


def _no_postgres_backup(listing: Mapping[str, Any], runner: JSON2DBSyncRunner) -> dict[str, Any]:
    """``restore latest`` on PostgreSQL without a single .dump file: the same refusal the
    runner gives for a backup file, with the same advice (exit status 1)."""
    name = runner.settings.database_schema
    schema = shlex.quote('"' + name.replace('"', '""') + '"')  # a pg_restore pattern, taken literally
    return {
        "success": False,
        "operation": "restore_backup",
        "error": (
            f"there are no backups of {listing['db_path']} to restore, and json2db_sync does not restore "
            "PostgreSQL backups itself: restoring replaces what other users of the server see, so do it "
            f"with the server's tools, e.g. `pg_restore --clean --if-exists --schema={schema} "
            f"--dbname=<url> <file.dump>` (`{PROG} backup` makes a .dump when pg_dump is on the PATH)"
        ),
        "error_type": "database_error",
        "warnings": list(listing.get("warnings") or []),
        "db_path": listing["db_path"],
    }


class _Stopped(Exception):
    """SIGTERM while Datasette runs: stop it and end normally."""


def _cmd_browse(args: argparse.Namespace, runner: JSON2DBSyncRunner) -> int:
    """Generate the metadata, then run Datasette in the foreground until Ctrl-C or SIGTERM
    (either stops Datasette too: subprocess.run kills its child on any exception)."""
    import signal
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="json2db-browse-") as folder:
        result = runner.browse_database(folder, port=args.port)
        if not result.get("success"):
            return _output(args, result)
        if args.json:
            _print_json(result)
        elif not args.quiet:
            sys.stdout.write(
                f"Serving {result['db_path']} with Datasette at {result['url']} (this machine only); "
                "Ctrl-C stops it.\n"
            )
            sys.stdout.flush()

        def stop(signum: int, frame: Any) -> None:
            raise _Stopped()

        previous = signal.signal(signal.SIGTERM, stop)
        try:
            completed = subprocess.run(result["command"], check=False)
        except (_Stopped, KeyboardInterrupt):
            return EXIT_OK
        finally:
            signal.signal(signal.SIGTERM, previous)
        if completed.returncode != 0:
            sys.stderr.write(f"{PROG} browse: Datasette stopped with status {completed.returncode}\n")
            return EXIT_FAILED
        return EXIT_OK


HANDLERS: dict[str, Callable[[argparse.Namespace, Any], int]] = {
    "browse": _cmd_browse,
    "analyze": _cmd_analyze,
    "recreate": _cmd_recreate,
    "populate": _cmd_populate,
    "verify": _cmd_verify,
    "report": _cmd_report,
    "sync": _cmd_sync,
    "sessions": _cmd_sessions,
    "config": _cmd_config,
    "sample-data": _cmd_sample_data,
    "backup": _cmd_backup,
    "restore": _cmd_restore,
}

# The runner operation behind each command (for the --json result of a usage error).
OPERATIONS = {
    "analyze": "analyze_json_files", "recreate": "recreate_json_tables", "populate": "populate_tables",
    "verify": "verify_tables", "report": "generate_summary_report", "sync": "full_sync_workflow",
    "sessions": "list_sessions", "config": "show_configuration", "sample-data": "generate_sample_data",
    "backup": "create_backup", "restore": "restore_backup",
}

# Long operations get a progress bar on stderr when stderr is a terminal.
PROGRESS_COMMANDS = frozenset({"analyze", "populate", "sync", "recreate", "sample-data", "verify", "sessions"})


def _asks_first(args: argparse.Namespace) -> bool:
    """Commands that ask on the terminal before they start: their progress bar starts after
    the answer (see :func:`_with_progress`), since a live display hides the question."""
    return args.command == "recreate" and not args.yes


def _run_command(args: argparse.Namespace) -> int:
    from . import render

    err = _stderr_console()
    handler = render.install_log_handler(err, _log_level(args))
    try:
        show_progress = (
            args.command in PROGRESS_COMMANDS and err.is_terminal and not args.quiet and not args.json and not _asks_first(args)
        )
        if show_progress:
            with render.RichProgress(err) as progress:
                args.live_progress = progress
                runner = _make_runner(args, progress)
                _apply_configured_level(args, runner, handler)
                return _handle(args, runner)
        runner = _make_runner(args, None)
        _apply_configured_level(args, runner, handler)
        return _handle(args, runner)
    finally:
        render.remove_log_handler(handler)


def _handle(args: argparse.Namespace, runner: JSON2DBSyncRunner) -> int:
    """Run the command's handler, with ``args.destination`` set for the human output."""
    args.destination = None if args.command in NO_DESTINATION_COMMANDS else _destination(runner)
    return HANDLERS[args.command](args, runner)


def _open_menu(args: argparse.Namespace) -> int:
    from .main_json2db_sync import launch

    return launch(
        db_path=args.db,
        data_source=args.source,
        config_file=args.config,
        verbose=args.verbose,
        db_url=args.db_url,
        db_schema=args.db_schema,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``json2db-sync`` and ``python -m json2db_sync``; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.db is not None and args.db_url is not None:
        sys.stderr.write(
            f"{PROG}: give --db (a SQLite file) or --db-url (a PostgreSQL server), not both\n"
        )
        return EXIT_USAGE
    if args.command is None:
        if _interactive():
            return _open_menu(args)
        sys.stderr.write(USAGE_HINT)
        return EXIT_USAGE
    try:
        return _run_command(args)
    except UsageError as exc:
        sys.stderr.write(f"{PROG} {args.command}: {exc}\n")
        if args.json:  # a script asked for JSON: it gets a result dict on stdout, as for any failure
            _print_json({"success": False, "operation": OPERATIONS.get(args.command, args.command),
                         "error": str(exc), "error_type": "config_error", "warnings": []})
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted; an unfinished run is rolled back, the database is as it was.\n")
        return 130


__all__ = ["build_parser", "main"]
