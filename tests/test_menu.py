"""The menu through the real questionary prompts, fed by prompt_toolkit pipe input.

Keys go in before the menu runs and the pipe is closed, so a test can never hang: when
the keys run out, the prompt sees end of input, the option is cancelled and the menu
exits. Assertions are on the return code, the database and the console text.
Keys: a digit then Enter picks a menu entry; Enter alone accepts a default; Ctrl-U
(\\x15) clears a pre-filled answer; y/n answer a confirmation at once; j moves down;
Space toggles a checkbox; Esc (\\x1b) cancels an option; Ctrl-C (\\x03) at the top exits.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from json2db_sync import main_json2db_sync as menu
from json2db_sync.runner_json2db_sync import JSON2DBSyncRunner

CLEAR = "\x15"
ESC = "\x1b"
CTRL_C = "\x03"
ENTER = "\r"


def drive(keys: str, runner: JSON2DBSyncRunner, console: Console) -> int:
    """Run the menu with ``keys`` as everything the user types."""
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        pipe.close()
        with create_app_session(input=pipe, output=DummyOutput()):
            code = menu.run_menu(runner, console=console)
    assert "internal_error" not in console.file.getvalue()  # type: ignore[attr-defined]
    return code


def output(console: Console) -> str:
    """The console text with box drawing removed and whitespace collapsed, so that a long
    tmp_path wrapped over two lines still reads as one phrase."""
    raw = console.file.getvalue()  # type: ignore[attr-defined]
    return " ".join(re.sub(r"[\u2500-\u257f]", " ", raw).split())


def row_counts(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'json%'")]
        return {name: conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in names}


@pytest.fixture
def sample(sessions_dir: Path) -> Path:
    from json2db_sync.sample_data import generate_sample_data

    generate_sample_data(sessions_dir, days=2, seed=1, invoices=20)
    return sessions_dir


@pytest.fixture
def runner(workspace: Path) -> JSON2DBSyncRunner:
    return JSON2DBSyncRunner()


@pytest.fixture
def synced(sample: Path, runner: JSON2DBSyncRunner, db_path: Path) -> Path:
    assert runner.full_sync_workflow()["success"]
    return db_path


# --- the menu as data ------------------------------------------------------------------


def test_menu_items_are_the_guides() -> None:
    assert [(item.key, item.label) for item in menu.MENU] == [
        ("1", "JSON Analysis"),
        ("2", "Table Recreation"),
        ("3", "Data Population"),
        ("4", "Table Verification"),
        ("5", "Summary Report"),
        ("6", "Full Workflow"),
        ("7", "Advanced Options"),
    ]
    assert all(callable(item.handler) for item in menu.MENU + menu.ADVANCED_MENU)


# --- leaving -------------------------------------------------------------------------------


@pytest.mark.parametrize(("keys", "status"), [("0" + ENTER, 0), (CTRL_C, 130), ("", 0)], ids=["zero", "ctrl-c", "end-of-input"])
def test_leaving_at_the_top(keys: str, status: int, runner: JSON2DBSyncRunner, console: Console, db_path: Path) -> None:
    """0 and end of input exit 0; Ctrl-C exits 130, as the command line does."""
    assert drive(keys, runner, console) == status
    text = output(console)
    assert "Goodbye." in text
    assert "Database" in text and "(not created yet)" in text
    assert "Data source api_sync:" in text


def test_esc_inside_an_option_returns_to_the_menu(sample: Path, runner: JSON2DBSyncRunner, console: Console, db_path: Path) -> None:
    assert drive("6" + ENTER + ESC + "0" + ENTER, runner, console) == 0
    assert "Cancelled; back to the menu." in output(console)
    assert not db_path.exists()


# --- options 1-6 ---------------------------------------------------------------------------


def test_full_workflow_with_defaults(sample: Path, runner: JSON2DBSyncRunner, console: Console, db_path: Path) -> None:
    # 6, database (Enter), cutoff (Enter), skip table creation? (Enter = no), then 0
    assert drive("6" + ENTER + ENTER + ENTER + ENTER + "0" + ENTER, runner, console) == 0
    counts = row_counts(db_path)
    assert counts["json_invoices"] == 20
    text = output(console)
    for piece in ("Full Workflow", "Population", "Records read", "json_invoices"):
        assert piece in text


def test_full_workflow_reasks_a_bad_cutoff(sample: Path, runner: JSON2DBSyncRunner, console: Console, db_path: Path) -> None:
    keys = "6" + ENTER + ENTER + CLEAR + "abc" + ENTER + CLEAR + "0" + ENTER + CLEAR + "1" + ENTER + ENTER + "0" + ENTER
    assert drive(keys, runner, console) == 0
    # "abc" and "0" were refused (each CLEAR answers a re-ask); the run went ahead with 1 day
    assert "Full Workflow" in output(console)


def test_json_analysis_of_the_recent_sessions(sample: Path, runner: JSON2DBSyncRunner, console: Console) -> None:
    assert drive("1" + ENTER + ENTER + "0" + ENTER, runner, console) == 0
    text = output(console)
    assert "JSON Analysis" in text and "json_invoices" in text and "invoice_id" in text


def test_json_analysis_reasks_a_missing_folder(sample: Path, runner: JSON2DBSyncRunner, console: Console) -> None:
    folder = next(sample.glob("sync_session_*/raw_json/*"))
    keys = "1" + ENTER + "/no/such/folder" + ENTER + CLEAR + str(folder) + ENTER + "0" + ENTER
    assert drive(keys, runner, console) == 0
    text = output(console)
    assert "records in 1 data folder(s) under" in text
    assert "No data found" not in text  # the missing folder was refused, never analysed


def test_table_recreation_confirmed(synced: Path, runner: JSON2DBSyncRunner, console: Console) -> None:
    assert drive("2" + ENTER + ENTER + "y" + "0" + ENTER, runner, console) == 0
    text = output(console)
    assert "will be dropped and created again" in text and "json_invoices" in text
    assert "Table Recreation" in text
    assert row_counts(synced)["json_invoices"] == 0
    assert list((synced.parent / "backups").glob("*.db"))


def test_table_recreation_declined_changes_nothing(synced: Path, runner: JSON2DBSyncRunner, console: Console) -> None:
    before = row_counts(synced)
    assert drive("2" + ENTER + ENTER + "n" + "0" + ENTER, runner, console) == 0
    assert "Nothing changed." in output(console)
    assert row_counts(synced) == before


def test_data_population_with_all_entities(sample: Path, runner: JSON2DBSyncRunner, console: Console, db_path: Path) -> None:
    # 3, database, folder, cutoff, entities (all checked): Enter each
    assert drive("3" + ENTER + ENTER + ENTER + ENTER + ENTER + "0" + ENTER, runner, console) == 0
    counts = row_counts(db_path)
    assert counts["json_invoices"] == 20 and counts["json_bills"] > 0
    assert "Data Population" in output(console)


def test_data_population_of_one_entity_after_an_empty_choice(
    sample: Path, runner: JSON2DBSyncRunner, console: Console, db_path: Path
) -> None:
    # 'a' unticks all; Enter is refused (pick at least one); Space ticks the first (bills)
    keys = "3" + ENTER + ENTER + ENTER + ENTER + "a" + ENTER + " " + ENTER + "0" + ENTER
    assert drive(keys, runner, console) == 0
    counts = row_counts(db_path)
    assert counts["json_bills"] > 0
    assert "json_invoices" not in counts


def test_verification_and_report(synced: Path, runner: JSON2DBSyncRunner, console: Console) -> None:
    assert drive("4" + ENTER + ENTER + "5" + ENTER + ENTER + "0" + ENTER, runner, console) == 0
    text = output(console)
    assert "Table Verification" in text and "integrity_check" in text
    assert "Summary Report" in text and "json_invoices_line_items" in text


def test_report_option_also_writes_the_html_report(synced: Path, runner: JSON2DBSyncRunner, console: Console) -> None:
    # 5, the default database, yes to the HTML question, the default file (beside the database)
    assert drive("5" + ENTER + ENTER + "y" + ENTER + "0" + ENTER, runner, console) == 0
    page = synced.with_suffix(".html")
    assert page.is_file()
    text = output(console)
    assert "Summary Report" in text and f"HTML report: {page}" in text
    assert "json2db_receivables_aging" in page.read_text()


def test_verification_reasks_a_database_that_does_not_exist(workspace: Path, runner: JSON2DBSyncRunner, console: Console) -> None:
    # the default database does not exist: Enter is refused, Esc goes back to the menu
    assert drive("4" + ENTER + ENTER + ESC + "0" + ENTER, runner, console) == 0
    text = output(console)
    assert "Cancelled; back to the menu." in text
    assert "Table Verification" not in text


def test_a_configuration_error_is_shown_not_raised(
    workspace: Path, console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JSON2DB_BATCH_SIZE", "abc")
    runner = JSON2DBSyncRunner()
    assert drive("6" + ENTER + "0" + ENTER, runner, console) == 0
    text = output(console)
    assert "configuration error" in text
    assert "JSON2DB_BATCH_SIZE='abc'" in text and "(config_error)" in text


# --- 7: advanced ------------------------------------------------------------------------------

BACK = "0" + ENTER


def test_advanced_show_configuration(runner: JSON2DBSyncRunner, console: Console) -> None:
    assert drive("7" + ENTER + "1" + ENTER + BACK + BACK, runner, console) == 0
    text = output(console)
    assert "Configuration" in text and "batch_size" in text and "JSON2DB_BATCH_SIZE" in text


def test_advanced_browse_sessions(sample: Path, runner: JSON2DBSyncRunner, console: Console) -> None:
    # browse; the folder picker starts on Back, so Enter returns to the advanced menu
    assert drive("7" + ENTER + "2" + ENTER + ENTER + BACK + BACK, runner, console) == 0
    text = output(console)
    assert "Data folders in" in text and "sync_session_" in text
    assert "Files in" not in text


def test_advanced_browse_the_files_of_a_session(sample: Path, runner: JSON2DBSyncRunner, console: Console) -> None:
    # the picker starts on Back; j wraps round to the oldest folder (a full session)
    assert drive("7" + ENTER + "2" + ENTER + "j" + ENTER + ENTER + BACK + BACK, runner, console) == 0
    text = output(console)
    assert "entity file records size age (h)" in text and "invoices invoices.json" in text


@pytest.mark.parametrize("submenu", ["3", "4"], ids=["change-settings", "backups"])
def test_advanced_back_from_a_submenu(submenu: str, runner: JSON2DBSyncRunner, console: Console) -> None:
    # Back is the last choice: k from the top wraps round to it
    assert drive("7" + ENTER + submenu + ENTER + "k" + ENTER + BACK + BACK, runner, console) == 0
    assert "Goodbye." in output(console)


def test_advanced_change_batch_size_reasks_bad_input(runner: JSON2DBSyncRunner, console: Console) -> None:
    keys = "7" + ENTER + "3" + ENTER + ENTER + CLEAR + "abc" + ENTER + CLEAR + "250" + ENTER + BACK + BACK
    assert drive(keys, runner, console) == 0
    assert runner.settings.batch_size == 250
    assert "batch_size is now 250 for this session." in output(console)


# Option 7's settings, in order: batch size, cutoff, max age, database path, database URL,
# PostgreSQL schema, source type, api_sync folder, JSON folder, data folder given at start, ...
TO_DATABASE_URL = "jjjj"
TO_SCHEMA = "jjjjj"
TO_SOURCE_TYPE = "jjjjjj"
TO_START_FOLDER = "jjjjjjjjj"


def test_advanced_change_source_type(runner: JSON2DBSyncRunner, console: Console) -> None:
    # the choices are api_sync, consolidated, custom
    keys = "7" + ENTER + "3" + ENTER + TO_SOURCE_TYPE + ENTER + "j" + ENTER + BACK + BACK
    assert drive(keys, runner, console) == 0
    assert runner.settings.data_source_type == "consolidated"


def test_advanced_backups_make_list_restore(synced: Path, runner: JSON2DBSyncRunner, console: Console) -> None:
    make = "4" + ENTER + ENTER
    listing = "4" + ENTER + "j" + ENTER
    restore = "4" + ENTER + "jj" + ENTER + ENTER + "y"
    assert drive("7" + ENTER + make + listing + restore + BACK + BACK, runner, console) == 0
    text = output(console)
    assert "Backup of" in text and "Backups of" in text and "restored from" in text
    assert len(list((synced.parent / "backups").glob("*.db"))) == 2  # the one made, and the state before restoring


def test_advanced_restore_declined(synced: Path, runner: JSON2DBSyncRunner, console: Console) -> None:
    assert runner.create_backup()["success"]
    assert drive("7" + ENTER + "4" + ENTER + "jj" + ENTER + ENTER + "n" + BACK + BACK, runner, console) == 0
    assert "Nothing changed." in output(console)


def test_advanced_restore_cancelled_at_the_backup_list(synced: Path, runner: JSON2DBSyncRunner, console: Console) -> None:
    assert runner.create_backup()["success"]
    assert drive("7" + ENTER + "4" + ENTER + "jj" + ENTER + "j" + ENTER + BACK + BACK, runner, console) == 0
    assert "restored from" not in output(console)


def test_advanced_generate_sample_data(workspace: Path, runner: JSON2DBSyncRunner, console: Console) -> None:
    target = workspace / "demo"
    keys = "7" + ENTER + "5" + ENTER + CLEAR + str(target) + ENTER + CLEAR + "1" + ENTER + ENTER + CLEAR + "5" + ENTER + BACK + BACK
    assert drive(keys, runner, console) == 0
    assert list(target.glob("sync_session_*/raw_json/*/invoices.json"))
    assert f"written to {target}" in output(console)


def test_advanced_debug_logging_toggle(runner: JSON2DBSyncRunner, console: Console) -> None:
    assert drive("7" + ENTER + "6" + ENTER + "6" + ENTER + BACK + BACK, runner, console) == 0
    text = output(console)
    assert text.index("Debug logging is on.") < text.index("Debug logging is off.")
    handlers = logging.getLogger("json2db_sync").handlers
    assert all(isinstance(h, logging.NullHandler) for h in handlers)  # the menu removed its handler on exit


def test_esc_in_the_advanced_menu_goes_back(runner: JSON2DBSyncRunner, console: Console) -> None:
    assert drive("7" + ENTER + ESC + "0" + ENTER, runner, console) == 0
    assert "Cancelled; back to the menu." in output(console)


def test_advanced_clear_the_data_folder_given_at_start(workspace: Path, console: Console) -> None:
    runner = JSON2DBSyncRunner(data_source=str(workspace / "api_sync"))
    assert runner.settings.data_source is not None
    # an empty answer clears "Data folder given at start"
    keys = "7" + ENTER + "3" + ENTER + TO_START_FOLDER + ENTER + CLEAR + ENTER + BACK + BACK
    assert drive(keys, runner, console) == 0
    assert runner.settings.data_source is None


def test_advanced_warns_that_the_start_folder_still_wins(workspace: Path, console: Console) -> None:
    runner = JSON2DBSyncRunner(data_source=str(workspace / "api_sync"))
    keys = "7" + ENTER + "3" + ENTER + TO_SOURCE_TYPE + ENTER + "j" + ENTER + BACK + BACK
    assert drive(keys, runner, console) == 0
    assert "still comes first" in output(console)


# --- the destination, and PostgreSQL ---------------------------------------------------------

SECRET_URL = "postgresql://sync:secret@db.example.com:5432/books"
SHOWN_URL = "postgresql://sync:***@db.example.com:5432/books"


def test_status_panel_names_the_postgresql_destination(
    workspace: Path, console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    # naming the destination needs no server: nothing connects before an option runs
    monkeypatch.setenv("JSON2DB_DATABASE_URL", SECRET_URL)
    monkeypatch.setenv("JSON2DB_DATABASE_SCHEMA", "zoho")
    assert drive(BACK, JSON2DBSyncRunner(), console) == 0
    text = output(console)
    assert f"Database PostgreSQL {SHOWN_URL} (schema zoho)" in text
    assert "not created yet" not in text and "secret" not in text


def test_status_panel_names_the_sqlite_file_and_its_size(synced: Path, runner: JSON2DBSyncRunner, console: Console) -> None:
    assert drive(BACK, runner, console) == 0
    assert re.search(rf"Database {re.escape(str(synced))} \(\d+\.\d (KB|MB)\)", output(console))


def test_advanced_set_keep_and_clear_the_database_url(workspace: Path, runner: JSON2DBSyncRunner, console: Console) -> None:
    pick_url = "7" + ENTER + "3" + ENTER + TO_DATABASE_URL + ENTER
    keys = (
        pick_url + "ftp://nowhere" + ENTER + CLEAR + SECRET_URL + ENTER  # a bad URL is asked again
        + "3" + ENTER + TO_DATABASE_URL + ENTER + ENTER  # pre-filled with the masked URL: Enter keeps it
        + BACK + BACK
    )
    assert drive(keys, runner, console) == 0
    assert runner.settings.database_url == SECRET_URL
    assert runner.destination()["kind"] == "postgresql"
    text = output(console)
    assert f"database_url is now {SHOWN_URL} for this session." in text
    assert f"database_url stays {SHOWN_URL}." in text
    assert f"Runs now write to PostgreSQL {SHOWN_URL} (schema public)." in text
    assert f"Database PostgreSQL {SHOWN_URL} (schema public)" in text  # the status panel, redrawn
    assert "secret" not in text

    clear = "7" + ENTER + "3" + ENTER + TO_DATABASE_URL + ENTER + CLEAR + ENTER + BACK + BACK
    assert drive(clear, runner, console) == 0
    assert runner.settings.database_url is None
    assert runner.destination()["kind"] == "sqlite"
    assert "database_url is now (not set) for this session." in output(console)


def test_advanced_clearing_the_url_says_when_the_environment_still_sets_one(
    workspace: Path, console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JSON2DB_DATABASE_URL", SECRET_URL)
    runner = JSON2DBSyncRunner()
    other = "postgresql://other@db2.example.com/books"
    keys = (
        "7" + ENTER + "3" + ENTER + TO_DATABASE_URL + ENTER + CLEAR + other + ENTER
        + "3" + ENTER + TO_DATABASE_URL + ENTER + CLEAR + ENTER
        + BACK + BACK
    )
    assert drive(keys, runner, console) == 0
    text = output(console)
    assert f"Runs now write to PostgreSQL {other} (schema public)." in text
    assert "The Database URL from the environment still applies" in text
    assert runner.settings.database_url == SECRET_URL and "secret" not in text


def test_advanced_change_the_postgresql_schema(workspace: Path, runner: JSON2DBSyncRunner, console: Console) -> None:
    too_long = "s" * 64
    keys = "7" + ENTER + "3" + ENTER + TO_SCHEMA + ENTER + CLEAR + too_long + ENTER + CLEAR + "zoho" + ENTER + BACK + BACK
    assert drive(keys, runner, console) == 0
    assert runner.settings.database_schema == "zoho"
    assert "database_schema is now zoho for this session." in output(console)


@pytest.fixture
def pg_env(pg_url: str, pg_schema: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The menu pointed at the test server by the environment; returns how it names it."""
    from json2db_sync.config import redact_url

    monkeypatch.setenv("JSON2DB_DATABASE_URL", pg_url)
    monkeypatch.setenv("JSON2DB_DATABASE_SCHEMA", pg_schema)
    return f"PostgreSQL {redact_url(pg_url)} (schema {pg_schema})"


def test_full_workflow_on_postgresql_asks_for_no_file(
    sample: Path, pg_env: str, pg_query, console: Console, db_path: Path
) -> None:
    # 6, cutoff (Enter), skip table creation? (Enter = no): no "Database:" question in between
    assert drive("6" + ENTER + ENTER + ENTER + BACK, JSON2DBSyncRunner(), console) == 0
    assert pg_query("SELECT COUNT(*) FROM json_invoices") == [(20,)]
    assert not db_path.exists()
    text = output(console)
    assert f"Database {pg_env}" in text  # the status panel
    assert f"Database: {pg_env}" in text  # said instead of asking for a file
    assert "Records read" in text


def test_table_recreation_on_postgresql_names_the_schema(
    sample: Path, pg_env: str, pg_schema: str, pg_query, console: Console
) -> None:
    runner = JSON2DBSyncRunner()
    assert runner.full_sync_workflow()["success"]
    assert drive("2" + ENTER + "y" + BACK, runner, console) == 0
    text = output(console)
    assert f"in {pg_env} will be dropped and created again" in text
    assert "Only json_* tables in that schema are dropped" in text
    assert "Table Recreation" in text
    assert pg_query("SELECT COUNT(*) FROM json_invoices") == [(0,)]


def test_verification_and_report_on_postgresql(sample: Path, pg_env: str, console: Console) -> None:
    runner = JSON2DBSyncRunner()
    assert runner.full_sync_workflow()["success"]
    assert drive("4" + ENTER + "5" + ENTER + BACK, runner, console) == 0
    text = output(console)
    assert "Table Verification" in text and "Summary Report" in text
    assert f"Database {pg_env}" in text


def test_restore_on_postgresql_gives_the_pg_restore_command(
    sample: Path, pg_env: str, console: Console
) -> None:
    import shutil

    if shutil.which("pg_dump") is None:
        pytest.skip("needs pg_dump on the PATH to make a backup to pick")
    runner = JSON2DBSyncRunner()
    assert runner.full_sync_workflow()["success"]
    made = runner.create_backup()
    assert made["success"], made["error"]
    # Backups, Restore, the newest backup: no confirmation is asked, nothing is changed
    assert drive("7" + ENTER + "4" + ENTER + "jj" + ENTER + ENTER + BACK + BACK, runner, console) == 0
    text = output(console)
    assert "Restore failed (database_error)" in text
    assert "pg_restore --clean --if-exists" in text and "Nothing was changed." in text


def test_advanced_enter_on_a_url_from_elsewhere_changes_nothing(
    workspace: Path, db_path: Path, console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a file given at start beats the environment's URL; keeping the URL must not turn that round
    monkeypatch.setenv("JSON2DB_DATABASE_URL", SECRET_URL)
    runner = JSON2DBSyncRunner(db_path=db_path)
    assert runner.destination()["kind"] == "sqlite"
    assert drive("7" + ENTER + "3" + ENTER + TO_DATABASE_URL + ENTER + ENTER + BACK + BACK, runner, console) == 0
    assert runner.destination()["kind"] == "sqlite"
    assert runner.config.source_of("database_url") == "environment"
    assert f"database_url stays {SHOWN_URL}." in output(console)

