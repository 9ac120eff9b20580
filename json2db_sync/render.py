"""Rich rendering of the runner's result dicts, for the menu and the CLI; imports rich, stdlib and
``units`` (``human_size``, shared with the Markdown report) only.

Everything here takes a :class:`rich.console.Console` and a plain result dict (the
contract of DESIGN.md) and draws it: one renderer per operation, a failure panel that
says what to do, the :class:`RichProgress` adapter that turns the runner's
``ProgressEvent`` callbacks into progress bars, and the logging handler both UIs share.
No business logic: if a value is not in the result, it is not shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

from rich.console import Console, Group
from rich.logging import RichHandler
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, Task, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from .units import human_size

Result = Mapping[str, Any]

STATUS_STYLES = {"ok": "green", "warning": "yellow", "error": "bold red"}
STEP_LABELS = {
    "analyze": "Analysing JSON files",
    "populate": "Loading records",
    "files": "Reading files",
    "count": "Counting records",
    "sample_data": "Writing sample sessions",
    "verify": "Verifying tables",
    "report": "Building the report",
}

# What to do about each kind of failure; the error message itself names the file or setting.
ERROR_HINTS = {
    "config_error": "Fix the option or setting named above (a command-line option or argument, an "
    "environment variable, .env or the config file); `json2db-sync config` shows every setting and "
    "where it came from.",
    "file_error": "The message above names the file or folder and what to do; `json2db-sync sessions` "
    "(menu: Advanced Options, Browse sessions) shows the data folders that were found.",
    "validation_error": "The message above names the file and what it holds. Fix or move that file; "
    "with JSON2DB_ON_INVALID_FILE=skip such files are set aside (noted in _json2db_rejected) and the "
    "rest still loads.",
    "database_error": "Check the database path, its permissions and free disk space; if another run "
    "holds the lock, wait for it. A broken database can be restored from a backup.",
    "internal_error": "This is a bug in json2db_sync. Run again with --verbose (or debug logging in "
    "the menu's Advanced Options) and report the traceback.",
}

# The same, where the destination is a PostgreSQL server (a file path means nothing there).
POSTGRES_ERROR_HINTS = {
    "database_error": "Check that the PostgreSQL server runs and can be reached, and that the user, "
    "password, database and schema (--db-url/--db-schema, JSON2DB_DATABASE_URL/JSON2DB_DATABASE_SCHEMA "
    "or database.url/database.schema) are right; if another run holds the writer lock, wait for it. "
    "Backups and restores of the server belong to its own tools (pg_dump, pg_restore).",
}
# A restore on PostgreSQL is refused by design: nothing is wrong with the server.
POSTGRES_RESTORE_HINT = (
    "Nothing was changed. Restore with the server's own tools: run the pg_restore command above "
    "with the real database URL (pg_restore --list <file> shows what a dump holds)."
)

OPERATION_TITLES = {
    "analyze_json_files": "JSON Analysis",
    "generate_table_schemas": "Table Schemas",
    "recreate_json_tables": "Table Recreation",
    "tables_to_drop": "Tables to Drop",
    "populate_tables": "Data Population",
    "verify_tables": "Table Verification",
    "generate_summary_report": "Summary Report",
    "generate_html_report": "HTML Report",
    "browse_database": "Browse",
    "full_sync_workflow": "Full Workflow",
    "list_sessions": "Sessions",
    "create_backup": "Backup",
    "list_backups": "Backups",
    "restore_backup": "Restore",
    "generate_sample_data": "Sample Data",
    "show_configuration": "Configuration",
    "update_settings": "Configuration",
}


# --- small formatting helpers ---------------------------------------------------------


class FoldingTable(Table):
    """A rich Table whose columns fold long values onto more lines instead of cutting
    them with "…": a table name cut at 80 columns can name two tables (``json_customerpayme…``).
    Columns that ask for another overflow (or no_wrap) keep it."""

    def add_column(self, header: Any = "", *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("overflow", "fold")
        super().add_column(header, *args, **kwargs)


def destination_text(destination: Mapping[str, Any] | str | None) -> str | None:
    """How the views name a destination: the runner's ``destination()`` result (its
    ``description``, e.g. ``PostgreSQL postgresql://u:***@h:5432/db (schema public)``) or a
    text given as is. The runner has already masked any password."""
    if destination is None:
        return None
    if isinstance(destination, Mapping):
        text = destination.get("description") or destination.get("db_path")
        return str(text) if text else None
    return str(destination)


def _destination_kind(destination: Mapping[str, Any] | str | None) -> str | None:
    if isinstance(destination, Mapping):
        return str(destination.get("kind") or "") or None
    if isinstance(destination, str) and destination.startswith("PostgreSQL "):
        return "postgresql"
    return None


# Where an operation's failures need advice of their own (the kind alone would mislead).
OPERATION_HINTS = {
    ("restore_backup", "file_error"): "List the backups with `json2db-sync backup --list` (menu: Advanced "
    "Options, Backups) and give one of those paths, or `latest` for the newest.",
    ("generate_sample_data", "config_error"): "The message above says which value or file to change; "
    "`json2db-sync sample-data --help` lists the options.",
}


def _error_hint(error_type: str, destination: Mapping[str, Any] | str | None, operation: Any = None) -> str:
    if (operation, error_type) in OPERATION_HINTS:
        return OPERATION_HINTS[(operation, error_type)]
    if _destination_kind(destination) == "postgresql":
        if operation == "restore_backup" and error_type == "database_error":
            return POSTGRES_RESTORE_HINT
        if error_type in POSTGRES_ERROR_HINTS:
            return POSTGRES_ERROR_HINTS[error_type]
    return ERROR_HINTS.get(error_type, ERROR_HINTS["internal_error"])


def _cell(value: Any) -> str:
    """Any result value as table text: None as '-', lists joined, dicts as key=value."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if value % 1 else f"{int(value):,}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value) if value else "-"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items()) if value else "-"
    return str(value)


def _text(value: Any, style: str = "") -> Text:
    """Data as a Text object: file names like ``[x]`` are never read as rich markup."""
    return Text(_cell(value), style=style)


def _key_value_table(title: str | None, pairs: Iterable[tuple[str, Any]]) -> Table:
    table = FoldingTable(title=title, show_header=False, box=None, pad_edge=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in pairs:
        table.add_row(Text(key), _text(value))
    return table


def generic_table(title: str | None, rows: Any) -> Table:
    """A table for shapes this module does not know in detail (lists of dicts, dicts, scalars).

    The summary report's sections and the sample-data summary are drawn with it, so a new
    key in the engine shows up without a change here.
    """
    if isinstance(rows, Mapping):
        return _key_value_table(title, ((str(k), v) for k, v in rows.items()))
    if isinstance(rows, (list, tuple)) and rows and all(isinstance(r, Mapping) for r in rows):
        columns: list[str] = []
        for row in rows:
            columns.extend(k for k in row if k not in columns)
        table = FoldingTable(title=title, title_justify="left")
        for column in columns:
            table.add_column(column.replace("_", " "), overflow="fold")
        for row in rows:
            table.add_row(*(_text(row.get(c)) for c in columns))
        return table
    return _key_value_table(title, [("value", rows)])


# --- results: the shared frame ----------------------------------------------------------


CHECKS_HINT = "Each check above says what is wrong, with example rows, and what to do about it; " \
    "`json2db-sync verify` runs the checks again."


def failing_checks(result: Result) -> list[Mapping[str, Any]]:
    """The checks that are not ok, of a verification or of a workflow's verification step."""
    checks = result.get("checks")
    if checks is None:
        steps = result.get("steps") or {}
        checks = (steps.get("verification") or {}).get("checks") if isinstance(steps, Mapping) else None
    return [c for c in checks or [] if c.get("status") != "ok"]


def render_failure(
    console: Console,
    result: Result,
    *,
    destination: Mapping[str, Any] | str | None = None,
    with_checks: bool = True,
) -> None:
    """The error, its kind and what to do, in one red panel (the menu's and CLI's error view).

    ``destination`` (the runner's ``destination()`` result, when known) is named in the
    panel and picks the advice for a PostgreSQL server rather than a file. A failed
    verification first shows the checks that failed, with example rows and the advice of
    each (``with_checks=False`` where the caller has drawn them already).
    """
    error_type = result.get("error_type") or "internal_error"
    problems = failing_checks(result)
    if problems and with_checks:
        console.print(checks_table(problems, "Checks that failed"))
    parts = [Text(str(result.get("error") or "unknown error"))]
    where = destination_text(destination)
    if where:
        parts.append(Text(f"Destination: {where}"))
    hint = CHECKS_HINT if problems else _error_hint(error_type, destination, result.get("operation"))
    parts += [Text(""), Text(hint, style="italic")]
    title = OPERATION_TITLES.get(str(result.get("operation")), str(result.get("operation", "")))
    console.print(Panel(Group(*parts), title=f"{escape(title)} failed ({error_type})", border_style="red", title_align="left"))


def _check_lines(check: Mapping[str, Any]) -> str:
    """One failing check as plain lines: status, name, count, details, examples, advice."""
    lines = [f"{str(check.get('status', '')).upper()} {check.get('name')} ({_cell(check.get('count'))}): {check.get('details')}"]
    examples = list(check.get("examples") or [])
    if examples:
        lines.append("  e.g. " + "; ".join(str(e) for e in examples[:3]))
    if check.get("advice"):
        lines.append(f"  What to do: {check['advice']}")
    return "\n".join(lines) + "\n"


def failure_text(result: Result, *, destination: Mapping[str, Any] | str | None = None) -> str:
    """The failure as plain lines, for logs and cron mail (no boxes, no colour); a failed
    verification lists its failing checks first."""
    error_type = result.get("error_type") or "internal_error"
    title = OPERATION_TITLES.get(str(result.get("operation")), str(result.get("operation", "")))
    problems = failing_checks(result)
    hint = CHECKS_HINT.replace("above", "listed") if problems else _error_hint(error_type, destination, result.get("operation"))
    where = destination_text(destination)
    line = f"Destination: {where}\n" if where else ""
    checks = "".join(_check_lines(c) for c in problems)
    return f"{checks}{title} failed ({error_type}): {result.get('error') or 'unknown error'}\n{line}What to do: {hint}\n"


def render_warnings(console: Console, warnings: Sequence[str], *, limit: int = 20) -> None:
    """Warnings in yellow, the first ``limit`` of them (a noisy run should not scroll away)."""
    if not warnings:
        return
    console.print(Text(f"{len(warnings)} warning(s):", style="yellow bold"))
    for warning in list(warnings)[:limit]:
        console.print(Text(f"  - {warning}", style="yellow"))
    if len(warnings) > limit:
        console.print(Text(f"  ... and {len(warnings) - limit} more", style="yellow"))


def render_notes(console: Console, notes: Sequence[str]) -> None:
    """Notes: what a user should know that is not a problem (an unfinished api_sync folder)."""
    for note in notes:
        console.print(Text(f"Note: {note}", style="dim"))


def render_result(console: Console, result: Result, *, destination: Mapping[str, Any] | str | None = None) -> None:
    """Draw any runner result: the operation's own view, then warnings, then the failure panel.

    A failed result can still carry a payload (a full workflow that loaded data but whose
    verification found errors), so the payload is drawn whenever it is there.
    ``destination`` is passed on to the failure panel.
    """
    renderer = RENDERERS.get(str(result.get("operation")), _render_generic)
    renderer(console, result)
    render_warnings(console, result.get("warnings") or [])
    render_notes(console, result.get("notes") or [])
    if not result.get("success", False):
        render_failure(console, result, destination=destination, with_checks=False)


def _render_generic(console: Console, result: Result) -> None:
    payload = {
        k: v for k, v in result.items() if k not in {"success", "operation", "error", "error_type", "warnings", "notes"}
    }
    if payload:
        console.print(generic_table(OPERATION_TITLES.get(str(result.get("operation")), None), payload))


# --- per operation ------------------------------------------------------------------------


def render_analysis(console: Console, result: Result) -> None:
    """One row per entity (records, id field, columns, child tables) and the schema changes."""
    entities: Mapping[str, Any] = result.get("entities") or {}
    if not entities and not result.get("success", False):
        return
    table = FoldingTable(title="JSON Analysis", title_justify="left")
    for name, justify in (("Entity", "left"), ("Table", "left"), ("Records", "right"), ("Id field", "left"),
                          ("Columns", "right"), ("Child tables", "left"), ("Without id", "right")):
        table.add_column(name, justify=justify)
    for entity, info in sorted(entities.items()):
        without_id = info.get("records_without_id") or 0
        table.add_row(
            Text(entity),
            _text(info.get("table")),
            _text(info.get("record_count")),
            _text(info.get("id_field")),
            _text(len(info.get("columns") or {})),
            _text(sorted(info.get("child_tables") or {})),
            _text(without_id, "yellow" if without_id else ""),
        )
    console.print(table)
    dirs = result.get("data_dirs") or []
    console.print(
        Text(f"{_cell(result.get('total_records', 0))} records in {len(dirs)} data folder(s) under {result.get('json_dir', '-')}")
    )
    changes = result.get("schema_changes_required") or []
    if changes:
        console.print(render_schema_changes(changes))
    elif result.get("success"):
        console.print(Text("The database already fits this data: no schema changes required.", style="green"))


def render_schema_changes(changes: Sequence[Mapping[str, Any]]) -> Table:
    """New tables, new columns and type conflicts, as the analysis reports them."""
    table = FoldingTable(title=f"Schema changes required ({len(changes)})", title_justify="left")
    table.add_column("Table")
    table.add_column("Change")
    table.add_column("Column")
    table.add_column("Type")
    for change in changes:
        kind = str(change.get("change", ""))
        if kind == "type_conflict":
            type_text = f"{change.get('declared')} in db, {change.get('found')} in JSON"
        else:
            type_text = _cell(change.get("type"))
        table.add_row(
            _text(change.get("table")),
            _text(kind.replace("_", " "), "yellow" if kind == "type_conflict" else ""),
            _text(change.get("column")),
            Text(type_text),
        )
    return table


def render_schemas(console: Console, result: Result) -> None:
    """The DDL per table, as it would run."""
    tables: Mapping[str, Sequence[str]] = result.get("tables") or {}
    for name, statements in tables.items():
        console.print(Text(f"-- {name}", style="bold"))
        for statement in statements:
            console.print(Text(statement.rstrip().rstrip(";") + ";"))
    custom = result.get("custom_columns") or {}
    if custom:
        console.print(generic_table("Custom columns", custom))


def render_tables_to_drop(console: Console, result: Result) -> None:
    """What a recreation would drop and where the backup goes (the confirmation's text).

    The destination is named as the runner describes it (``destination``, else ``db_path``);
    on PostgreSQL only the ``json_*`` tables of that schema are dropped, and the backup is a
    pg_dump file.
    """
    tables = result.get("tables") or []
    where = result.get("destination") or result.get("db_path")
    postgres = _destination_kind(str(result.get("destination") or "")) == "postgresql"
    if tables:
        console.print(Text(f"These {len(tables)} table(s) in {where} will be dropped and created again:"))
        for name in tables:
            console.print(Text(f"  - {name}"))
        if postgres:
            console.print(Text(
                f"A pg_dump backup goes to {result.get('backup_dir')} first (when pg_dump is on the PATH). "
                "Only json_* tables in that schema are dropped: other tables and other schemas are left alone."
            ))
        else:
            console.print(Text(f"A backup goes to {result.get('backup_dir')} first. Other tables are left alone."))
    else:
        console.print(Text(f"{where} has no json_* tables yet; they will be created."))
    console.print(Text(
        "The next population then loads every data folder again, whatever its cutoff, so no history is lost."
    ))


def _no_backup_reason(result: Result) -> str:
    """Why a recreation made no backup: on SQLite there was no file yet; on PostgreSQL the
    warnings say (no pg_dump on the PATH)."""
    if str(result.get("db_path") or "").startswith(("postgresql://", "postgres://")):
        return "none (see the warnings)"
    return "none (the database did not exist)"


def render_recreation(console: Console, result: Result) -> None:
    """Dropped and created tables, and where the backup went."""
    if not result.get("success"):
        return
    console.print(
        _key_value_table(
            "Table Recreation",
            [
                ("Database", result.get("db_path")),
                ("Dropped", result.get("dropped_tables") or []),
                ("Created", result.get("created_tables") or []),
                ("Backup", result.get("backup_path") or _no_backup_reason(result)),
            ],
        )
    )


STATISTICS_ROWS = (
    ("total_records", "Records read"),
    ("records_inserted", "Inserted"),
    ("records_updated", "Updated"),
    ("records_unchanged", "Unchanged"),
    ("records_rejected", "Rejected"),
    ("duplicate_ids_in_files", "Duplicate ids in files"),
    ("child_rows_written", "Child rows written"),
    ("files_loaded", "Files loaded"),
    ("files_skipped", "Files skipped (already loaded)"),
    ("files_invalid", "Files invalid"),
    ("incomplete_exports", "Incomplete exports"),
    ("folders_caught_up", "Folders caught up (outside the cutoff)"),
    ("sessions_processed", "Sessions processed"),
    ("processing_time_seconds", "Time (s)"),
    ("records_per_second", "Records per second"),
)


def statistics_table(statistics: Mapping[str, Any], title: str = "Statistics") -> Table:
    """The load counts of a population or workflow, known keys in a fixed order."""
    table = FoldingTable(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, label in STATISTICS_ROWS:
        if key in statistics:
            style = "yellow" if key in ("records_rejected", "files_invalid") and statistics[key] else ""
            table.add_row(label, _text(statistics[key], style))
    return table


def entity_statistics_table(per_entity: Mapping[str, Mapping[str, Any]]) -> Table:
    """Per entity: files, records, inserted, updated, unchanged, rejected."""
    table = FoldingTable(title="Per entity", title_justify="left")
    columns = ("files", "records", "inserted", "updated", "unchanged", "rejected")
    table.add_column("Entity")
    for column in columns:
        table.add_column(column.capitalize(), justify="right")
    for entity, counts in sorted(per_entity.items()):
        table.add_row(Text(entity), *(_text(counts.get(c, 0)) for c in columns))
    return table


def render_population(console: Console, result: Result) -> None:
    """The statistics and the per-entity counts of a population."""
    statistics: Mapping[str, Any] = result.get("statistics") or {}
    if not statistics:
        return
    console.print(statistics_table(statistics, "Data Population"))
    if statistics.get("entities"):
        console.print(entity_statistics_table(statistics["entities"]))


def checks_table(checks: Sequence[Mapping[str, Any]], title: str = "Table Verification") -> Table:
    """Checks coloured by status (ok green, warning yellow, error red) with up to 3 examples."""
    table = FoldingTable(title=title, title_justify="left")
    table.add_column("Status")
    table.add_column("Check")
    table.add_column("Count", justify="right")
    table.add_column("Details", overflow="fold")
    for check in checks:
        status = str(check.get("status", ""))
        details = str(check.get("details", ""))
        examples = list(check.get("examples") or [])
        if examples:
            details += "\n  e.g. " + "; ".join(str(e) for e in examples[:3])
        if status != "ok" and check.get("advice"):
            details += f"\n  What to do: {check['advice']}"
        table.add_row(
            Text(status.upper(), style=STATUS_STYLES.get(status, "")),
            Text(str(check.get("name", ""))),
            _text(check.get("count")),
            Text(details),
        )
    return table


def render_verification(console: Console, result: Result) -> None:
    """All checks, then one line of totals."""
    checks = result.get("checks") or []
    if not checks:
        return
    console.print(checks_table(checks))
    summary = result.get("summary") or {
        s: sum(c.get("status") == s for c in checks) for s in ("ok", "warning", "error")
    }
    line = Text()
    for status in ("ok", "warning", "error"):
        line.append(f"{summary.get(status, 0)} {status}  ", style=STATUS_STYLES[status])
    console.print(line)


def summary_tables_table(tables: Sequence[Mapping[str, Any]]) -> Table:
    """The summary per table: records, columns, newest update; child tables indented under their parent."""
    table = FoldingTable(title="Tables", title_justify="left")
    table.add_column("Table", overflow="fold")
    table.add_column("Records", justify="right")
    table.add_column("Columns", justify="right")
    table.add_column("Newest update")
    for row in tables:
        name = str(row.get("name", ""))
        label = Text(f"  └ {name}", style="dim") if row.get("is_child") else Text(name)
        table.add_row(label, _text(row.get("record_count")), _text(row.get("column_count")), _text(row.get("newest_updated_at")))
    return table


def runs_table(runs: Sequence[Mapping[str, Any]]) -> Table:
    """The last runs from the run history, status coloured."""
    table = FoldingTable(title="Recent runs", title_justify="left")
    for column, justify in (("Run", "right"), ("Operation", "left"), ("Status", "left"), ("Started (UTC)", "left"),
                            ("Seconds", "right"), ("Records", "right"), ("Error", "left")):
        table.add_column(column, justify=justify, overflow="fold")
    for run in runs:
        status = str(run.get("status", ""))
        style = STATUS_STYLES["ok"] if status == "success" else STATUS_STYLES["error"] if status == "failed" else ""
        table.add_row(
            _text(run.get("run_id")), _text(run.get("operation")), Text(status, style=style),
            _text(run.get("started_at")), _text(run.get("duration_seconds")), _text(run.get("records")),
            _text(run.get("error")),
        )
    return table


def _freshness_text(freshness: Mapping[str, Any]) -> Text:
    if not freshness or freshness.get("newest_data_timestamp") is None:
        return Text("no data loaded yet", style="yellow")
    fresh = freshness.get("is_fresh")
    return Text(
        f"newest data {freshness.get('newest_data_timestamp')}, {_cell(freshness.get('age_hours'))} h old "
        f"(limit {_cell(freshness.get('max_age_hours'))} h)",
        style=STATUS_STYLES["ok"] if fresh else STATUS_STYLES["warning"],
    )


def render_report(console: Console, result: Result) -> None:
    """The summary report: an overview (size, records, sessions, freshness), the tables, the runs."""
    tables = result.get("tables")
    if tables is None:
        return
    sessions = result.get("sessions") or {}
    overview = FoldingTable(title="Summary Report", show_header=False, box=None, title_justify="left")
    overview.add_column(style="bold")
    overview.add_column(overflow="fold")
    overview.add_row("Database", _text(result.get("destination") or result.get("db_path")))
    overview.add_row("Size", Text(human_size(result.get("database_size_bytes"))))
    total = result.get("total_records")
    if total is None:
        total = sum(int(t.get("record_count") or 0) for t in tables if not t.get("is_child"))
    overview.add_row("Records", _text(total))
    if "files_loaded" in result:
        overview.add_row("Files loaded", _text(result.get("files_loaded")))
    if isinstance(sessions, Mapping) and sessions:
        overview.add_row(
            "Sessions", Text(f"{_cell(sessions.get('count'))} (oldest {_cell(sessions.get('oldest'))}, newest {_cell(sessions.get('newest'))})")
        )
    if "freshness" in result:
        overview.add_row("Freshness", _freshness_text(result.get("freshness") or {}))
    rejected = result.get("rejected_records")
    if rejected is not None:
        overview.add_row("Rejected records", _text(rejected, "yellow" if rejected else ""))
    console.print(overview)
    if tables:
        console.print(summary_tables_table(tables))
    else:
        console.print(Text("No json_* tables yet: run Data Population or the Full Workflow.", style="yellow"))
    if result.get("runs"):
        console.print(runs_table(result["runs"]))


WORKFLOW_STEPS = (
    ("analysis", "Analysis"),
    ("table_creation", "Table creation"),
    ("population", "Population"),
    ("verification", "Verification"),
    ("report", "Report"),
)


def _step_status(step: Mapping[str, Any] | None) -> tuple[str, str]:
    if step is None:
        return "not run", "dim"
    if step.get("skipped"):
        return "skipped", "dim"
    if not step.get("success", False):
        return "failed", STATUS_STYLES["error"]
    checks = step.get("checks") or []
    if any(c.get("status") == "warning" for c in checks):
        return "ok (warnings)", STATUS_STYLES["warning"]
    return "ok", STATUS_STYLES["ok"]


def render_workflow(console: Console, result: Result) -> None:
    """Steps with their status, the statistics, the checks that are not ok, and the tables."""
    steps: Mapping[str, Any] = result.get("steps") or {}
    statistics: Mapping[str, Any] = result.get("statistics") or {}
    if steps:
        table = FoldingTable(title="Full Workflow", title_justify="left")
        table.add_column("Step")
        table.add_column("Status")
        for key, label in WORKFLOW_STEPS:
            if key not in steps and key in ("analysis", "table_creation"):
                continue
            status, style = _step_status(steps.get(key))
            table.add_row(label, Text(status, style=style))
        console.print(table)
    if statistics:
        console.print(statistics_table(statistics))
        if statistics.get("entities"):
            console.print(entity_statistics_table(statistics["entities"]))
    verification = steps.get("verification") or {}
    notable = [c for c in verification.get("checks") or [] if c.get("status") != "ok"]
    if notable:
        console.print(checks_table(notable, "Checks that need attention"))
    report = steps.get("report") or {}
    if report.get("tables"):
        console.print(summary_tables_table(report["tables"]))


def render_sessions(console: Console, result: Result) -> None:
    """The data folders found, oldest first: session, folder, age, files, records, entities."""
    sessions = result.get("sessions")
    if sessions is None:
        return
    if not sessions:
        console.print(Text(f"No data folders found under {result.get('json_dir')}.", style="yellow"))
        return
    table = FoldingTable(title=f"Data folders in {result.get('json_dir', '-')} ({result.get('kind', '-')}), oldest first",
                  title_justify="left")
    table.add_column("Session", min_width=12)
    table.add_column("Folder", min_width=10)
    table.add_column("Age (h)", justify="right")
    table.add_column("Files", justify="right")
    table.add_column("Records", justify="right")
    table.add_column("Size", justify="right")
    table.add_column("Entities", overflow="fold", ratio=1)
    for session in sessions:
        files = session.get("files") or []
        # api_sync's line-item files hold child rows of the records beside them, not records
        counts = [f.get("records") for f in files if "records" in f and not f.get("child_field")]
        records = sum(c for c in counts if isinstance(c, int)) if counts else None
        folder = str(session.get("path") or "").replace("\\", "/").rsplit("/", 1)[-1]
        table.add_row(
            _text(session.get("session")),
            Text(folder),
            _text(session.get("age_hours")),
            _text(session.get("file_count", len(files))),
            _text(records),
            Text(human_size(session.get("total_size"))),
            _text(session.get("entities")),
        )
    console.print(table)


def render_backup(console: Console, result: Result) -> None:
    if result.get("success"):
        console.print(Text(f"Backup of {result.get('db_path')} written to {result.get('backup_path')}", style="green"))


def render_backups(console: Console, result: Result) -> None:
    """Backups, newest first."""
    backups = result.get("backups")
    if backups is None:
        return
    if not backups:
        console.print(Text(f"No backups of {result.get('db_path')} yet.", style="yellow"))
        return
    folders = {str(backup.get("path") or "").replace("\\", "/").rpartition("/")[0] for backup in backups}
    common = folders.pop() if len(folders) == 1 else ""
    where = f" (in {common})" if common else ""
    # The heading is a line of its own: as a table title it would wrap at the table's width.
    console.print(Text(f"Backups of {result.get('db_path')}{where}", style="italic"))
    table = FoldingTable()
    table.add_column("#", justify="right")
    table.add_column("Backup")
    table.add_column("Modified")
    table.add_column("Size", justify="right")
    for number, backup in enumerate(backups, 1):
        path = str(backup.get("path") or "")
        shown = path.replace("\\", "/").rpartition("/")[2] if common else path
        table.add_row(str(number), Text(shown), _text(backup.get("modified")), human_size(backup.get("size_bytes")))
    console.print(table)


def render_restore(console: Console, result: Result) -> None:
    if result.get("success"):
        console.print(
            Text(
                f"{result.get('db_path')} restored from {result.get('restored_from')}; the state before the "
                f"restore was saved to {result.get('previous_state_backup') or '-'}",
                style="green",
            )
        )


def render_sample_data(console: Console, result: Result) -> None:
    """Where the sample sessions went and how many records of each entity they hold."""
    summary = result.get("summary")
    if not isinstance(summary, Mapping):
        return
    sessions = summary.get("sessions") or []
    folders = {str(f).rsplit("/", 1)[0] for f in summary.get("data_files") or []}
    in_folders = f" ({len(folders)} data folders)" if len(folders) > len(sessions) else ""
    console.print(Text(
        f"{len(sessions)} sample session(s){in_folders}, "
        f"{_cell(summary.get('files_written'))} files, "
        f"{_cell(summary.get('total_records'))} records written to {summary.get('out_dir')}",
        style="green",
    ))
    records = summary.get("records") or {}
    if records:
        table = FoldingTable(title="Sample records per entity", title_justify="left")
        table.add_column("Entity")
        table.add_column("Records", justify="right")
        table.add_column("Distinct ids", justify="right")
        distinct = summary.get("distinct_ids") or {}
        for entity, count in records.items():
            table.add_row(Text(entity), _text(count), _text(distinct.get(entity)))
        console.print(table)
    if result.get("env"):
        console.print(Text(env_saved_text(result["env"]), style="green"))


def render_configuration(console: Console, result: Result) -> None:
    """Every setting with its value, its source, and the names to change it by."""
    settings = result.get("settings")
    if not settings:
        return
    table = FoldingTable(title="Configuration", title_justify="left")
    table.add_column("Setting")
    table.add_column("Value", ratio=3)
    table.add_column("Source")
    table.add_column("Env var / config key", ratio=2)
    for row in settings:
        source = str(row.get("source", ""))
        table.add_row(
            _text(row.get("key")),
            _text(row.get("value")),
            Text(source, style="dim" if source == "default" else "cyan"),
            Text(f"{row.get('env_var') or '-'}\n{row.get('config_key') or '-'}"),
        )
    console.print(table)


def render_html_report(console: Console, result: Result) -> None:
    """Where the page went, and how many rows each finance view gave it."""
    if not result.get("out_path"):
        return
    console.print(Text(f"HTML report: {result['out_path']} ({human_size(result.get('size_bytes'))})", style="bold"))
    views: Mapping[str, Any] = result.get("views") or {}
    table = Table(title="Finance views in the report", title_justify="left")
    table.add_column("View")
    table.add_column("Rows", justify="right")
    for name, count in views.items():
        table.add_row(Text(name), Text("not in the database" if count is None else str(count)))
    console.print(table)
    console.print(Text("Open the file in any browser; it needs no network."))


def render_browse(console: Console, result: Result) -> None:
    """What browse will serve: the address, the metadata and the canned queries."""
    if not result.get("url"):
        return
    console.print(generic_table("Browse", {
        "Database": result.get("db_path"),
        "Address": result.get("url"),
        "Tables and views described": result.get("tables"),
        "Canned queries": result.get("canned_queries"),
    }))


RENDERERS: dict[str, Callable[[Console, Result], None]] = {
    "generate_html_report": render_html_report,
    "browse_database": render_browse,
    "analyze_json_files": render_analysis,
    "generate_table_schemas": render_schemas,
    "recreate_json_tables": render_recreation,
    "tables_to_drop": render_tables_to_drop,
    "populate_tables": render_population,
    "verify_tables": render_verification,
    "generate_summary_report": render_report,
    "full_sync_workflow": render_workflow,
    "list_sessions": render_sessions,
    "create_backup": render_backup,
    "list_backups": render_backups,
    "restore_backup": render_restore,
    "generate_sample_data": render_sample_data,
    "show_configuration": render_configuration,
    "update_settings": render_configuration,
}


def _skipped_text(skipped: Any) -> str:
    """Skipped files with the reason, so that "N skipped" is not a puzzle: the file ledger
    holds them already (same file, same content), so reading them again would change nothing."""
    if not skipped:
        return "0 skipped"
    return f"{skipped} skipped (already loaded)"


def env_saved_text(env: Mapping[str, Any]) -> str:
    """What the demo saved in .env and what that means for the next commands."""
    names = list(env.get("written") or []) + list(env.get("unchanged") or [])
    verb = "saved" if env.get("written") else "already in"
    return (
        f"{', '.join(names)} {verb} {env.get('env_file')}: commands, the menu and JSON2DBSyncRunner() "
        "started in that folder now use this data and database"
    )


# --- one line for cron ----------------------------------------------------------------------


def summary_line(result: Result, *, destination: Mapping[str, Any] | str | None = None) -> str:
    """One line that says what an operation did (the CLI's default output on success).

    With ``destination`` (the runner's ``destination()`` result) the line ends with
    ``; destination: SQLite /path/x.db`` (or the PostgreSQL URL, password masked, and
    schema), unless it names the database already.
    """
    operation = str(result.get("operation", ""))
    title = OPERATION_TITLES.get(operation, operation)
    if not result.get("success"):
        return f"{title} failed ({result.get('error_type')}): {result.get('error')}"
    stats: Mapping[str, Any] = result.get("statistics") or {}
    if operation in ("full_sync_workflow", "populate_tables"):
        text = (
            f"{title}: {stats.get('total_records', 0)} records read "
            f"({stats.get('records_inserted', 0)} inserted, {stats.get('records_updated', 0)} updated, "
            f"{stats.get('records_unchanged', 0)} unchanged, {stats.get('records_rejected', 0)} rejected) "
            f"from {stats.get('files_loaded', 0)} file(s), {_skipped_text(stats.get('files_skipped', 0))}, "
            f"in {stats.get('processing_time_seconds', 0)}s"
        )
    elif operation == "analyze_json_files":
        text = (
            f"{title}: {result.get('total_records', 0)} records in {len(result.get('entities') or {})} entities, "
            f"{len(result.get('schema_changes_required') or [])} schema change(s) required"
        )
    elif operation == "recreate_json_tables":
        text = (
            f"{title}: dropped {len(result.get('dropped_tables') or [])}, created "
            f"{len(result.get('created_tables') or [])} table(s); backup {result.get('backup_path') or 'none'}"
        )
    elif operation == "verify_tables":
        summary = result.get("summary") or {}
        text = f"{title}: {summary.get('ok', 0)} ok, {summary.get('warning', 0)} warning(s), {summary.get('error', 0)} error(s)"
    elif operation == "generate_summary_report":
        tables = result.get("tables") or []
        records = result.get("total_records")
        if records is None:
            records = sum(int(t.get("record_count") or 0) for t in tables if not t.get("is_child"))
        text = f"{title}: {len(tables)} table(s), {records} records, {human_size(result.get('database_size_bytes'))}"
    elif operation == "generate_html_report":
        text = f"{title}: wrote {result.get('out_path')} ({human_size(result.get('size_bytes'))}); open it in a browser"
    elif operation == "list_sessions":
        text = f"{title}: {len(result.get('sessions') or [])} data folder(s) in {result.get('json_dir')}"
    elif operation == "create_backup":
        text = f"{title}: {result.get('backup_path')}"
    elif operation == "list_backups":
        text = f"{title}: {len(result.get('backups') or [])} backup(s) of {result.get('db_path')}"
    elif operation == "restore_backup":
        text = f"{title}: {result.get('db_path')} restored from {result.get('restored_from')}"
    elif operation == "generate_sample_data":
        summary = result.get("summary") or {}
        text = (
            f"{title}: {len(summary.get('sessions') or [])} session(s), {summary.get('files_written', 0)} files, "
            f"{summary.get('total_records', 0)} records written to {summary.get('out_dir')}"
        )
        if result.get("env"):
            text += "; " + env_saved_text(result["env"])
    elif operation in ("show_configuration", "update_settings"):
        text = f"{title}: {len(result.get('settings') or [])} settings"
    else:
        text = f"{title}: done"
    where = destination_text(destination)
    label = str(destination.get("db_path") or "") if isinstance(destination, Mapping) else ""
    if where and not (label and label in text):
        text += f"; destination: {where}"
    warnings = result.get("warnings") or []
    if warnings:
        text += f"; {len(warnings)} warning(s) (--verbose shows them)"
    for note in result.get("notes") or []:
        text += f"; note: {note}"
    return text


# --- progress -----------------------------------------------------------------------------


# Steps counted in bytes (shown as sizes), and the unit named after a count without a total.
BYTE_STEPS = frozenset({"files", "count"})
STEP_UNITS = {"populate": "records", "analyze": "records", "read": "records", "sample_data": "records"}


class _RemainingColumn(ProgressColumn):
    """The estimated time left, only where the total is known (nothing for a bare count)."""

    def render(self, task: Task) -> Text:
        if task.total is None or task.time_remaining is None or task.finished:
            return Text("")
        seconds = int(task.time_remaining)
        return Text(f"{seconds // 60}:{seconds % 60:02d} left", style="progress.remaining")


def progress_count(step: str, current: int, total: int | None) -> str:
    """How far a step is, in its unit: '1.2 MB/3.4 MB', '120/400' or '36,430 records' (no
    total known: no '/?')."""
    if step in BYTE_STEPS:
        done = human_size(current)
        return f"{done}/{human_size(total)}" if total is not None else done
    if total is not None:
        return f"{current:,}/{total:,}"
    unit = STEP_UNITS.get(step, "")
    return f"{current:,} {unit}".rstrip()


class RichProgress:
    """A ``ProgressCallback`` that draws one transient rich progress bar per step.

    Use as a context manager around a runner call and pass the instance as the callback
    (``runner.progress = bar``). A step with a total (files in bytes, sample records) gets a
    bar and the time left; one without (records read so far) a running count in its unit.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[count]}"),
            TextColumn("{task.fields[detail]}", style="dim"),
            TimeElapsedColumn(),
            _RemainingColumn(),
            console=console,
            transient=True,
        )
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def stop(self) -> None:
        """Take the bars away now (before a result is printed); safe to call more than once."""
        self._progress.stop()

    def __call__(self, event: Any) -> None:
        """Take one ``ProgressEvent`` (step, current, total, detail)."""
        task = self._tasks.get(event.step)
        detail = escape(str(event.detail or ""))[-60:]
        count = progress_count(event.step, event.current, event.total)
        if task is None:
            label = STEP_LABELS.get(event.step, event.step)
            task = self._progress.add_task(label, total=event.total, detail=detail, count=count)
            self._tasks[event.step] = task
        self._progress.update(task, completed=event.current, total=event.total, detail=detail, count=count)

    @property
    def steps(self) -> list[str]:
        """The steps seen so far, in order (for tests)."""
        return list(self._tasks)


# --- logging ----------------------------------------------------------------------------------


class _DropReportedErrors(logging.Filter):
    """Drop the runner's own "<operation> failed" ERROR lines: the UI shows the result's error.

    Without this every failure would be printed twice on stderr (cron mails both). They
    still show when the level is DEBUG.
    """

    def __init__(self, handler: logging.Handler) -> None:
        super().__init__()
        self.handler = handler

    def filter(self, record: logging.LogRecord) -> bool:
        if self.handler.level <= logging.DEBUG:
            return True
        return not (record.name == "json2db_sync" and record.levelno == logging.ERROR and not record.exc_info)


LOGGER_NAME = "json2db_sync"


def install_log_handler(console: Console, level: int | str = logging.WARNING) -> logging.Handler:
    """Send the package's log records to ``console`` through a RichHandler at ``level``.

    Only the UIs call this (never the library); undo it with :func:`remove_log_handler`.
    """
    handler: logging.Handler
    if console.is_terminal:
        handler = RichHandler(console=console, show_path=False, rich_tracebacks=False, markup=False)
    else:
        # cron mail and log files: one plain line per record, never wrapped
        handler = logging.StreamHandler(console.file)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.setLevel(level)
    handler.addFilter(_DropReportedErrors(handler))
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    set_log_level(handler, level)
    return handler


def set_log_level(handler: logging.Handler, level: int | str) -> None:
    """Change what the UI shows (the menu's debug toggle); the logger follows the handler."""
    handler.setLevel(level)
    logging.getLogger(LOGGER_NAME).setLevel(handler.level)


def remove_log_handler(handler: logging.Handler) -> None:
    logger = logging.getLogger(LOGGER_NAME)
    logger.removeHandler(handler)
    if not logger.handlers:
        logger.setLevel(logging.NOTSET)


__all__ = [
    "ERROR_HINTS",
    "POSTGRES_ERROR_HINTS",
    "POSTGRES_RESTORE_HINT",
    "RENDERERS",
    "RichProgress",
    "checks_table",
    "destination_text",
    "generic_table",
    "human_size",
    "install_log_handler",
    "remove_log_handler",
    "render_failure",
    "render_result",
    "render_warnings",
    "set_log_level",
    "statistics_table",
    "summary_line",
]
