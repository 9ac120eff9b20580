"""Renderer tests on hand-made result dicts: what each operation's view shows, the failure
panel, the one-line summaries for cron, the progress adapter and the log handler."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from rich.console import Console

from json2db_sync import render
from json2db_sync.progress import ProgressEvent


def base(operation: str, success: bool = True, **payload: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "success": success,
        "operation": operation,
        "error": None,
        "error_type": None,
        "warnings": [],
    }
    result.update(payload)
    return result


def failed(operation: str, error_type: str, error: str, **payload: Any) -> dict[str, Any]:
    result = base(operation, False, **payload)
    result.update(error=error, error_type=error_type)
    return result


def text_of(console: Console) -> str:
    return console.file.getvalue()  # type: ignore[attr-defined]


STATISTICS = {
    "total_records": 120,
    "files_loaded": 4,
    "files_skipped": 1,
    "files_invalid": 0,
    "records_inserted": 100,
    "records_updated": 15,
    "records_unchanged": 3,
    "records_rejected": 2,
    "duplicate_ids_in_files": 0,
    "child_rows_written": 310,
    "sessions_processed": 2,
    "processing_time_seconds": 1.5,
    "records_per_second": 80.0,
    "entities": {"invoices": {"files": 2, "records": 80, "inserted": 70, "updated": 8, "unchanged": 0, "rejected": 2}},
}

CHECKS = [
    {"name": "integrity_check", "status": "ok", "details": "SQLite integrity_check: ok", "count": 0, "examples": []},
    {"name": "freshness", "status": "warning", "details": "newest data is 50 hours old", "count": 1, "examples": []},
    {"name": "orphan_child_rows", "status": "error", "details": "child rows without parent", "count": 2,
     "examples": ["json_invoices_line_items parent 7", "json_invoices_line_items parent 9"]},
]

REPORT = base(
    "generate_summary_report",
    db_path="/data/production.db",
    tables=[
        {"name": "json_invoices", "record_count": 40, "column_count": 122, "child_tables": ["json_invoices_line_items"],
         "newest_updated_at": "2025-07-12 10:30:15", "is_child": False, "parent": None},
        {"name": "json_invoices_line_items", "record_count": 129, "column_count": 47, "child_tables": [],
         "newest_updated_at": "2025-07-12 10:30:15", "is_child": True, "parent": "json_invoices"},
    ],
    total_records=40,
    sessions={"count": 3, "oldest": "2025-07-10 10:00:00", "newest": "2025-07-12 10:30:15"},
    files_loaded=29,
    runs=[{"run_id": 1, "operation": "full_sync_workflow", "status": "success", "started_at": "2025-07-12 10:31:00",
           "finished_at": "2025-07-12 10:31:02", "duration_seconds": 2.0, "records": 185, "error": None}],
    database_size_bytes=812 * 1024,
    rejected_records=0,
    freshness={"newest_data_timestamp": "2025-07-12 10:30:15", "age_hours": 1.5, "is_fresh": True, "max_age_hours": 24},
)


# --- what each view shows ----------------------------------------------------------------

VIEWS = [
    pytest.param(
        base("generate_html_report", db_path="/d.db", out_path="/r/report.html", size_bytes=4_800_000,
             charts=["records"], views={"json2db_sales_by_month": 3, "json2db_payables_aging": None}),
        ["HTML report: /r/report.html (4.6 MB)", "json2db_sales_by_month", "3", "not in the database"],
        id="html-report",
    ),
    pytest.param(
        base("browse_database", db_path="/d.db", url="http://127.0.0.1:8001/d", tables=12,
             canned_queries=["overdue_invoices"]),
        ["http://127.0.0.1:8001/d", "overdue_invoices"],
        id="browse",
    ),
    pytest.param(
        base("analyze_json_files", json_dir="/s", data_dirs=["/s/a"], total_records=12,
             entities={"invoices": {"entity": "invoices", "table": "json_invoices", "record_count": 12,
                                    "id_field": "invoice_id", "records_without_id": 1,
                                    "columns": {"invoice_id": "TEXT", "total": "REAL"},
                                    "child_tables": {"json_invoices_line_items": {"field": "line_items", "columns": {}}}}},
             schema_changes_required=[{"table": "json_invoices", "change": "new_table"},
                                      {"table": "json_bills", "change": "type_conflict", "column": "total",
                                       "declared": "INTEGER", "found": "TEXT"}]),
        ["JSON Analysis", "invoices", "json_invoices", "invoice_id", "json_invoices_line_items",
         "12 records in 1 data folder(s) under /s", "Schema changes required (2)", "new table", "type conflict",
         "INTEGER in db, TEXT in JSON"],
        id="analysis",
    ),
    pytest.param(
        base("analyze_json_files", json_dir="/s", data_dirs=[], total_records=0, entities={}, schema_changes_required=[]),
        ["no schema changes required"],
        id="analysis-nothing-to-change",
    ),
    pytest.param(
        base("generate_table_schemas", tables={"json_invoices": ["CREATE TABLE \"json_invoices\" (id TEXT)"]},
             custom_columns={"session_id": "TEXT"}),
        ["-- json_invoices", 'CREATE TABLE "json_invoices" (id TEXT);', "session_id"],
        id="schemas",
    ),
    pytest.param(
        base("recreate_json_tables", db_path="/d.db", dropped_tables=["json_a"], created_tables=["json_a", "json_b"],
             backup_path="/backups/d-1.db"),
        ["Table Recreation", "json_a", "json_a, json_b", "/backups/d-1.db"],
        id="recreation",
    ),
    pytest.param(
        base("tables_to_drop", db_path="/d.db", tables=["json_a", "json_b"], backup_dir="/backups"),
        ["These 2 table(s) in /d.db will be dropped", "  - json_a", "A backup goes to /backups first"],
        id="tables-to-drop",
    ),
    pytest.param(
        base("tables_to_drop", db_path="/d.db", tables=[], backup_dir="/backups"),
        ["/d.db has no json_* tables yet"],
        id="tables-to-drop-none",
    ),
    pytest.param(
        base("populate_tables", db_path="/d.db", json_dir="/s", statistics=STATISTICS),
        ["Data Population", "Records read", "120", "Child rows written", "310", "Per entity", "invoices"],
        id="population",
    ),
    pytest.param(
        base("verify_tables", db_path="/d.db", checks=CHECKS[:2], summary={"ok": 1, "warning": 1, "error": 0}),
        ["Table Verification", "OK", "integrity_check", "WARNING", "freshness", "1 ok", "1 warning", "0 error"],
        id="verification",
    ),
    pytest.param(
        REPORT,
        ["Summary Report", "/data/production.db", "812.0 KB", "Records", "40", "Files loaded", "29",
         "3 (oldest 2025-07-10 10:00:00, newest 2025-07-12 10:30:15)", "newest data 2025-07-12 10:30:15, 1.5 h old (limit 24 h)",
         "json_invoices", "└ json_invoices_line_items", "129", "Recent runs", "full_sync_workflow", "success"],
        id="report",
    ),
    pytest.param(
        base("generate_summary_report", db_path="/d.db", tables=[], database_size_bytes=4096),
        ["No json_* tables yet", "4.0 KB"],
        id="report-empty",
    ),
    pytest.param(
        base("full_sync_workflow", db_path="/d.db", json_dir="/s", statistics=STATISTICS,
             steps={"analysis": base("analyze_json_files", skipped=True),
                    "table_creation": base("create_tables", skipped=True),
                    "population": base("populate_tables", statistics=STATISTICS),
                    "verification": base("verify_tables", checks=CHECKS[:2]),
                    "report": REPORT}),
        ["Full Workflow", "Analysis", "skipped", "Population", "ok", "Verification", "ok (warnings)",
         "Checks that need attention", "freshness", "Records read", "json_invoices"],
        id="workflow",
    ),
    pytest.param(
        base("list_sessions", json_dir="/s", kind="sessions",
             sessions=[{"session": "sync_session_2025-07-12_10-30-15", "timestamp": "2025-07-12T10:30:15",
                        "path": "/s/sync_session_2025-07-12_10-30-15/raw_json/2025-07-12_10-30-15", "age_hours": 3.5,
                        "entities": ["bills", "invoices"], "file_count": 2, "total_size": 2048,
                        "files": [{"entity": "invoices", "records": 10}, {"entity": "bills", "records": 5}]}]),
        ["sync_session_2025-07-12_10-30-15", "2025-07-12_10-30-15", "3.5", "bills, invoices", "15", "2.0 KB"],
        id="sessions",
    ),
    pytest.param(
        base("list_sessions", json_dir="/s", kind="sessions", sessions=[]),
        ["No data folders found under /s"],
        id="sessions-none",
    ),
    pytest.param(
        base("create_backup", db_path="/d.db", backup_path="/b/d-1.db"),
        ["Backup of /d.db written to /b/d-1.db"],
        id="backup",
    ),
    pytest.param(
        base("list_backups", db_path="/d.db", backups=[{"path": "/b/d-2.db", "size_bytes": 2048, "modified": "2025-07-12 10:00:00"}]),
        ["Backups of /d.db (in /b)", "d-2.db", "2025-07-12 10:00:00", "2.0 KB"],
        id="backups",
    ),
    pytest.param(
        base("list_backups", db_path="/d.db", backups=[]),
        ["No backups of /d.db yet."],
        id="backups-none",
    ),
    pytest.param(
        base("restore_backup", db_path="/d.db", restored_from="/b/d-2.db", previous_state_backup="/b/d-3.db"),
        ["/d.db restored from /b/d-2.db", "/b/d-3.db"],
        id="restore",
    ),
    pytest.param(
        base("generate_sample_data", summary={"out_dir": "/s", "sessions": ["a", "b"], "files_written": 20,
                                              "total_records": 90, "records": {"invoices": 30},
                                              "distinct_ids": {"invoices": 20}}),
        ["2 sample session(s), 20 files, 90 records written to /s", "invoices", "30", "20"],
        id="sample-data",
    ),
    pytest.param(
        base("show_configuration", settings=[{"key": "batch_size", "value": "1000", "source": "default",
                                              "env_var": "JSON2DB_BATCH_SIZE", "config_key": "processing.batch_size"},
                                             {"key": "data_source", "value": "(not set)", "source": "default",
                                              "env_var": "", "config_key": ""}]),
        ["Configuration", "batch_size", "1000", "default", "JSON2DB_BATCH_SIZE", "processing.batch_size", "data_source"],
        id="configuration",
    ),
    pytest.param(
        base("some_future_operation", answer=42),
        ["answer", "42"],
        id="unknown-operation-generic",
    ),
]


@pytest.mark.parametrize("result, expected", VIEWS)
def test_render_result_shows_the_payload(console: Console, result: dict[str, Any], expected: list[str]) -> None:
    render.render_result(console, result)
    output = text_of(console)
    missing = [piece for piece in expected if piece not in output]
    assert missing == [], output


def test_every_runner_operation_has_a_renderer() -> None:
    operations = {
        "analyze_json_files", "generate_table_schemas", "recreate_json_tables", "tables_to_drop", "populate_tables",
        "verify_tables", "generate_summary_report", "full_sync_workflow", "list_sessions", "create_backup",
        "list_backups", "restore_backup", "generate_sample_data", "show_configuration", "update_settings",
        "generate_html_report", "browse_database",
    }
    assert set(render.RENDERERS) == operations


def test_checks_are_coloured_by_status() -> None:
    console = Console(file=io.StringIO(), width=120, force_terminal=True, color_system="standard")
    render.render_result(console, base("verify_tables", checks=CHECKS))
    output = text_of(console)
    green, yellow, red = "\x1b[32mOK", "\x1b[33mWARNING", "\x1b[1;31mERROR"
    assert [green in output, yellow in output, red in output] == [True, True, True]


def test_check_examples_are_shown(console: Console) -> None:
    render.render_result(console, base("verify_tables", checks=CHECKS))
    assert "e.g. json_invoices_line_items parent 7; json_invoices_line_items parent 9" in text_of(console)


def test_failure_panel_says_what_happened_and_what_to_do(console: Console) -> None:
    render.render_result(console, failed("verify_tables", "database_error", "database /x.db does not exist yet"))
    output = text_of(console)
    assert "Table Verification failed (database_error)" in output
    assert "database /x.db does not exist yet" in output
    assert "Check the database path" in output


def test_failed_workflow_still_shows_what_was_loaded(console: Console) -> None:
    result = failed("full_sync_workflow", "validation_error", "verification failed: orphan_child_rows",
                    statistics=STATISTICS, steps={"verification": failed("verify_tables", "validation_error", "x", checks=CHECKS)})
    render.render_result(console, result)
    output = text_of(console)
    for piece in ("Records read", "failed", "orphan_child_rows", "Full Workflow failed (validation_error)"):
        assert piece in output


def test_data_with_brackets_is_not_read_as_markup(console: Console) -> None:
    render.render_result(console, base("create_backup", db_path="/d[bold].db", backup_path="/b/[red]x.db"))
    assert "/d[bold].db" in text_of(console) and "/b/[red]x.db" in text_of(console)


def test_warnings_are_listed_up_to_a_limit(console: Console) -> None:
    render.render_result(console, base("verify_tables", warnings=[f"warning {i}" for i in range(25)]))
    output = text_of(console)
    assert "25 warning(s):" in output and "warning 19" in output and "warning 20" not in output
    assert "... and 5 more" in output


SUMMARY_LINES = [
    pytest.param(
        base("full_sync_workflow", statistics=STATISTICS),
        "Full Workflow: 120 records read (100 inserted, 15 updated, 3 unchanged, 2 rejected) from 4 file(s), 1 skipped (already loaded), in 1.5s",
        id="workflow",
    ),
    pytest.param(
        base("populate_tables", statistics=STATISTICS, warnings=["w1", "w2"]),
        "Data Population: 120 records read (100 inserted, 15 updated, 3 unchanged, 2 rejected) from 4 file(s), "
        "1 skipped (already loaded), in 1.5s; 2 warning(s) (--verbose shows them)",
        id="population-with-warnings",
    ),
    pytest.param(
        base("verify_tables", summary={"ok": 14, "warning": 1, "error": 0}),
        "Table Verification: 14 ok, 1 warning(s), 0 error(s)",
        id="verify",
    ),
    pytest.param(REPORT, "Summary Report: 2 table(s), 40 records, 812.0 KB", id="report"),
    pytest.param(
        base("recreate_json_tables", dropped_tables=["a"], created_tables=["a", "b"], backup_path="/b/1.db"),
        "Table Recreation: dropped 1, created 2 table(s); backup /b/1.db",
        id="recreate",
    ),
    pytest.param(base("create_backup", backup_path="/b/1.db"), "Backup: /b/1.db", id="backup"),
    pytest.param(
        base("restore_backup", db_path="/d.db", restored_from="/b/1.db"), "Restore: /d.db restored from /b/1.db", id="restore"
    ),
    pytest.param(
        base("generate_sample_data", summary={"out_dir": "/s", "sessions": ["a"], "files_written": 10, "total_records": 50}),
        "Sample Data: 1 session(s), 10 files, 50 records written to /s",
        id="sample-data",
    ),
    pytest.param(
        failed("populate_tables", "file_error", "No data found."),
        "Data Population failed (file_error): No data found.",
        id="failure",
    ),
]


@pytest.mark.parametrize("result, line", SUMMARY_LINES)
def test_summary_line(result: dict[str, Any], line: str) -> None:
    assert render.summary_line(result) == line


def test_failure_text_is_plain_for_cron_mail() -> None:
    text = render.failure_text(failed("full_sync_workflow", "config_error", "Invalid batch_size: JSON2DB_BATCH_SIZE='x'"))
    assert text == (
        "Full Workflow failed (config_error): Invalid batch_size: JSON2DB_BATCH_SIZE='x'\n"
        f"What to do: {render.ERROR_HINTS['config_error']}\n"
    )


@pytest.mark.parametrize(
    "size, text",
    [(None, "-"), (0, "0 B"), (1023, "1023 B"), (2048, "2.0 KB"), (5 * 1024 * 1024, "5.0 MB"), (3 * 1024**3, "3.0 GB")],
    ids=["none", "zero", "bytes", "kb", "mb", "gb"],
)
def test_human_size(size: Any, text: str) -> None:
    assert render.human_size(size) == text


def test_rich_progress_makes_one_task_per_step(console: Console) -> None:
    events = [
        ProgressEvent("analyze", 10, None, "invoices.json"),
        ProgressEvent("analyze", 20, None, "bills.json"),
        ProgressEvent("populate", 5, 40, "invoices: invoices.json"),
        ProgressEvent("populate", 40, 40, "[bills]: bills.json"),
    ]
    with render.RichProgress(console) as bar:
        for event in events:
            bar(event)
        tasks = {task.description: (task.completed, task.total) for task in bar._progress.tasks}
    assert bar.steps == ["analyze", "populate"]
    assert tasks == {"Analysing JSON files": (20, None), "Loading records": (40, 40)}


def test_log_handler_drops_the_runners_own_failure_lines_but_keeps_warnings(console: Console) -> None:
    handler = render.install_log_handler(console, logging.WARNING)
    try:
        logging.getLogger("json2db_sync").error("populate_tables failed: No data found")
        logging.getLogger("json2db_sync.sources").warning("No data in /x; falling back to /y.")
        logging.getLogger("json2db_sync.sources").info("an info line")
    finally:
        render.remove_log_handler(handler)
    output = text_of(console)
    assert "falling back to /y." in output
    assert "populate_tables failed" not in output
    assert "an info line" not in output
    assert handler not in logging.getLogger("json2db_sync").handlers


def test_debug_level_shows_everything(console: Console) -> None:
    handler = render.install_log_handler(console, logging.WARNING)
    try:
        render.set_log_level(handler, logging.DEBUG)
        logging.getLogger("json2db_sync").error("populate_tables failed: No data found")
        logging.getLogger("json2db_sync.database").debug("SELECT 1")
    finally:
        render.remove_log_handler(handler)
    output = text_of(console)
    assert "populate_tables failed" in output and "SELECT 1" in output


# --- naming the destination --------------------------------------------------------------------

PG_LABEL = "postgresql://sync:***@db:5432/books (schema zoho)"
PG_DESTINATION = {"success": True, "operation": "destination", "kind": "postgresql", "db_path": PG_LABEL,
                  "description": f"PostgreSQL {PG_LABEL}"}
SQLITE_DESTINATION = {"success": True, "operation": "destination", "kind": "sqlite", "db_path": "/d.db",
                      "description": "SQLite /d.db"}

DESTINATION_VIEWS = [
    pytest.param(
        base("tables_to_drop", db_path=PG_LABEL, destination=f"PostgreSQL {PG_LABEL}", tables=["json_a"], backup_dir="/b"),
        [f"These 1 table(s) in PostgreSQL {PG_LABEL} will be dropped", "A pg_dump backup goes to /b first",
         "Only json_* tables in that schema are dropped: other tables and other schemas are left alone."],
        id="tables-to-drop-postgresql",
    ),
    pytest.param(
        base("tables_to_drop", db_path="/d.db", destination="SQLite /d.db", tables=["json_a"], backup_dir="/b"),
        ["These 1 table(s) in SQLite /d.db will be dropped", "A backup goes to /b first. Other tables are left alone."],
        id="tables-to-drop-sqlite",
    ),
    pytest.param(
        base("tables_to_drop", db_path=PG_LABEL, destination=f"PostgreSQL {PG_LABEL}", tables=[], backup_dir="/b"),
        [f"PostgreSQL {PG_LABEL} has no json_* tables yet"],
        id="tables-to-drop-postgresql-none",
    ),
    pytest.param(
        dict(REPORT, db_path=PG_LABEL, destination=f"PostgreSQL {PG_LABEL}"),
        [f"Database          PostgreSQL {PG_LABEL}"],
        id="report-postgresql",
    ),
    pytest.param(
        base("recreate_json_tables", db_path=PG_LABEL, dropped_tables=[], created_tables=["json_a"], backup_path=None,
             warnings=["no backup was made: cannot back up ...: pg_dump is not on PATH"]),
        [PG_LABEL, "none (see the warnings)", "pg_dump is not on PATH"],
        id="recreation-postgresql-without-pg-dump",
    ),
    pytest.param(
        base("list_backups", db_path=PG_LABEL, backups=[]),
        [f"No backups of {PG_LABEL} yet."],
        id="backups-postgresql-none",
    ),
]


@pytest.mark.parametrize("result, expected", DESTINATION_VIEWS)
def test_views_name_the_destination_as_given(console: Console, result: dict[str, Any], expected: list[str]) -> None:
    render.render_result(console, result)
    output = " ".join(text_of(console).split())
    missing = [" ".join(piece.split()) for piece in expected if " ".join(piece.split()) not in output]
    assert missing == [], output


@pytest.mark.parametrize(
    "result, destination, line",
    [
        pytest.param(base("full_sync_workflow", statistics=STATISTICS, warnings=["w"]), SQLITE_DESTINATION,
                     "Full Workflow: 120 records read (100 inserted, 15 updated, 3 unchanged, 2 rejected) from 4 file(s), "
                     "1 skipped (already loaded), in 1.5s; destination: SQLite /d.db; 1 warning(s) (--verbose shows them)",
                     id="workflow-sqlite"),
        pytest.param(base("verify_tables", summary={"ok": 3, "warning": 0, "error": 0}), PG_DESTINATION,
                     f"Table Verification: 3 ok, 0 warning(s), 0 error(s); destination: PostgreSQL {PG_LABEL}",
                     id="verify-postgresql"),
        pytest.param(base("list_backups", db_path=PG_LABEL, backups=[]), PG_DESTINATION,
                     f"Backups: 0 backup(s) of {PG_LABEL}", id="names-it-already"),
        pytest.param(base("create_backup", backup_path="/b/1.db"), None, "Backup: /b/1.db", id="no-destination"),
    ],
)
def test_summary_line_ends_with_the_destination(result: dict[str, Any], destination: Any, line: str) -> None:
    assert render.summary_line(result, destination=destination) == line


def test_failure_on_postgresql_names_it_and_says_what_to_check(console: Console) -> None:
    result = failed("full_sync_workflow", "database_error", "PostgreSQL server postgresql://u@h:1/db: connection refused")
    text = render.failure_text(result, destination=PG_DESTINATION)
    assert text.splitlines() == [
        "Full Workflow failed (database_error): PostgreSQL server postgresql://u@h:1/db: connection refused",
        f"Destination: PostgreSQL {PG_LABEL}",
        f"What to do: {render.POSTGRES_ERROR_HINTS['database_error']}",
    ]
    render.render_failure(console, result, destination=PG_DESTINATION)
    panel = " ".join(text_of(console).replace("│", " ").split())
    assert f"Destination: PostgreSQL {PG_LABEL}" in panel and "Check that the PostgreSQL server runs" in panel
    # on SQLite the advice stays the file's
    assert render.failure_text(result, destination=SQLITE_DESTINATION).endswith(
        f"What to do: {render.ERROR_HINTS['database_error']}\n"
    )


def test_the_restore_refusal_on_postgresql_is_not_a_server_problem() -> None:
    refusal = failed("restore_backup", "database_error", "json2db_sync does not restore PostgreSQL backups itself: ...")
    text = render.failure_text(refusal, destination=PG_DESTINATION)
    assert text.endswith(f"What to do: {render.POSTGRES_RESTORE_HINT}\n")
    assert "Nothing was changed." in text


def test_the_runners_destination_never_shows_the_password(console: Console) -> None:
    from json2db_sync.runner_json2db_sync import JSON2DBSyncRunner

    destination = JSON2DBSyncRunner(db_url="postgresql://sync:secret@db.example.com:5432/books", db_schema="zoho").destination()
    assert destination["success"], destination["error"]
    line = render.summary_line(base("verify_tables", summary={"ok": 1}), destination=destination)
    assert line.endswith("; destination: PostgreSQL postgresql://sync:***@db.example.com:5432/books (schema zoho)")
    text = render.failure_text(failed("verify_tables", "database_error", "x"), destination=destination)
    render.render_result(console, failed("verify_tables", "database_error", "x"), destination=destination)
    assert "secret" not in line + text + text_of(console)
