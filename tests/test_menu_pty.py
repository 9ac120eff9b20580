"""The real menu in a pseudo-terminal, driven with pexpect as a person would: words on the
screen, keys typed, then the database and the exit status checked."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

pytestmark = [
    pytest.mark.pty,
    pytest.mark.skipif(sys.platform == "win32", reason="pexpect.spawn needs a POSIX pseudo-terminal"),
]

TIMEOUT = 60
MAIN_MENU = "Main menu"


@pytest.fixture
def sample(sessions_dir: Path) -> Path:
    from json2db_sync.sample_data import generate_sample_data

    generate_sample_data(sessions_dir, days=2, seed=1, invoices=20)
    return sessions_dir


def spawn(workspace: Path, args: list[str], extra_env: dict[str, str] | None = None):
    """``python <args>`` in a pseudo-terminal, in the workspace, with no JSON2DB_* variable
    of the developer's shell (only ``extra_env``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSON2DB_")}
    env.update({"NO_COLOR": "1", "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm"})
    env.update(extra_env or {})
    return pexpect.spawn(
        sys.executable,
        args,
        cwd=str(workspace / "json2db_sync"),
        env=env,
        dimensions=(40, 120),
        timeout=TIMEOUT,
        encoding="utf-8",
    )


@pytest.fixture
def child(workspace: Path):
    """The menu, spawned in the workspace; always killed at the end."""
    spawned = spawn(workspace, ["-m", "json2db_sync.main_json2db_sync"])
    try:
        yield spawned
    finally:
        spawned.terminate(force=True)


def finish(child) -> int:
    """Wait for the program to end and return its exit status."""
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def invoices_in(db_path: Path) -> int:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT COUNT(*) FROM json_invoices").fetchone()[0]


def test_full_workflow_with_defaults(sample: Path, db_path: Path, child) -> None:
    child.expect(MAIN_MENU)
    child.send("6")
    child.send("\r")
    child.expect("Database:")
    child.send("\r")
    child.expect("Cutoff days")
    child.send("\r")
    child.expect("Skip analysis")
    child.send("\r")
    child.expect("Records read")
    child.expect(MAIN_MENU)
    child.send("0")
    child.send("\r")
    child.expect("Goodbye")
    assert finish(child) == 0
    assert invoices_in(db_path) == 20


def test_ctrl_c_at_the_top_exits_130_as_the_command_line(workspace: Path, child) -> None:
    child.expect(MAIN_MENU)
    child.sendcontrol("c")
    child.expect("Goodbye")
    assert finish(child) == 130


def test_0_at_the_top_exits_0(workspace: Path, child) -> None:
    child.expect(MAIN_MENU)
    child.send("0\r")
    child.expect("Goodbye")
    assert finish(child) == 0


def test_an_unknown_key_says_which_keys_work(workspace: Path, child) -> None:
    child.expect(MAIN_MENU)
    child.send("x")
    child.expect("'x' is not an option: type 1, 2, 3, 4, 5, 6, 7 \\(or 0 for Exit\\)")
    child.send("9")
    child.expect("'9' is not an option")
    child.send("0\r")
    child.expect("Goodbye")
    assert finish(child) == 0


def test_typing_a_number_replaces_the_default(sample: Path, db_path: Path, child, make_session) -> None:
    """Issue 19: the default is a placeholder, so 7 at "Cutoff days (Enter: 30)" is 7, not 307.
    A session 10 days old is inside 30 days but not inside 7: only the recent ones load."""
    from datetime import datetime, timedelta

    make_session(datetime.now() - timedelta(days=10), {"invoices": [{"invoice_id": "old-1", "total": 1}]})
    child.expect(MAIN_MENU)
    child.send("6\r")
    child.expect("Database:")
    child.send("\r")
    child.expect("Enter: 30")
    child.send("7\r")
    child.expect("Skip analysis")
    child.send("\r")
    child.expect("Records read")
    child.expect(MAIN_MENU)
    child.send("0\r")
    assert finish(child) == 0
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM json_invoices WHERE id = 'old-1'").fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM json_invoices").fetchone() == (20,)


def test_with_no_data_the_menu_says_where_it_looked_and_how_to_point_it(workspace: Path, child) -> None:
    child.expect("No data found yet. Looked in:")
    child.expect("sync_sessions \\(does not exist\\)|sync_sessions \\(holds no data files\\)")
    child.expect(r"--source\s+DIR")
    child.expect("JSON2DB_API_SYNC_PATH")
    child.expect(r"Generate\s+sample\s+data")
    child.expect(MAIN_MENU)
    child.send("0\r")
    assert finish(child) == 0


def test_sample_data_from_the_menu_then_no_hint(workspace: Path, sessions_dir: Path, child) -> None:
    """Advanced Options, Generate sample data: numbers typed replace the defaults, the data
    lands in the configured sessions folder, and the menu then finds it."""
    child.expect("No data found yet")
    child.expect(MAIN_MENU)
    child.send("7\r")
    child.expect("Advanced Options")
    child.send("5\r")
    child.expect("Write sample sessions to:")
    child.send("\r")
    child.expect("Days of sessions")
    child.send("2\r")
    child.expect("Random seed")
    child.send("\r")
    child.expect("Invoices")
    child.send("7\r")
    child.expect("2 sample session\\(s\\)")
    child.expect("Advanced Options")
    child.send("0\r")
    child.expect(MAIN_MENU)
    child.send("0\r")
    assert finish(child) == 0
    assert len(list(sessions_dir.glob("sync_session_*"))) == 2


def test_a_bad_cutoff_is_asked_again(sample: Path, db_path: Path, child) -> None:
    child.expect(MAIN_MENU)
    child.send("6\r")
    child.expect("Database:")
    child.send("\r")
    child.expect("Cutoff days")
    child.sendcontrol("u")
    child.send("abc\r")
    child.expect("is not a whole number of days")
    child.sendcontrol("u")
    child.send("30\r")
    child.expect("Skip analysis")
    child.send("\r")
    child.expect("Records read")
    child.expect(MAIN_MENU)
    child.send("0\r")
    assert finish(child) == 0
    assert invoices_in(db_path) == 20


# --- PostgreSQL: no file to ask for; the CLI's confirmation names the destination --------------


def _label(pg_url: str, pg_schema: str) -> str:
    from json2db_sync.config import redact_url

    return f"PostgreSQL {redact_url(pg_url)} (schema {pg_schema})"


def test_full_workflow_on_postgresql_asks_no_database_question(
    sample: Path, db_path: Path, workspace: Path, pg_url: str, pg_schema: str, pg_query
) -> None:
    env = {"JSON2DB_DATABASE_URL": pg_url, "JSON2DB_DATABASE_SCHEMA": pg_schema}
    menu = spawn(workspace, ["-m", "json2db_sync.main_json2db_sync"], env)
    try:
        menu.expect("PostgreSQL")
        menu.expect(MAIN_MENU)
        menu.send("6\r")
        # straight to the cutoff: a "Database:" file question would wait here for an answer
        menu.expect("Cutoff days")
        assert "Database:" in menu.before  # the configured server, said, not asked
        menu.send("\r")
        menu.expect("Skip analysis")
        menu.send("\r")
        menu.expect("Records read")
        menu.expect(MAIN_MENU)
        menu.send("0\r")
        menu.expect("Goodbye")
        assert finish(menu) == 0
    finally:
        menu.terminate(force=True)
    assert pg_query("SELECT COUNT(*) FROM json_invoices") == [(20,)]
    assert not db_path.exists()


def _cli_recreate_declined(workspace: Path, args: list[str], question: str) -> str:
    """``json2db-sync <args> recreate`` in a terminal, answering n; returns what it showed."""
    cli = spawn(workspace, ["-m", "json2db_sync", *args, "recreate"])
    try:
        cli.expect_exact(question)
        shown = cli.before
        cli.send("n\r")
        cli.expect("Nothing changed.")
        assert finish(cli) == 0
    finally:
        cli.terminate(force=True)
    return " ".join(shown.split())


def test_cli_recreate_confirmation_names_the_sqlite_file(sample: Path, db_path: Path, workspace: Path) -> None:
    from json2db_sync.runner_json2db_sync import JSON2DBSyncRunner

    assert JSON2DBSyncRunner().full_sync_workflow()["success"]
    before = invoices_in(db_path)
    shown = _cli_recreate_declined(workspace, [], f"Drop and recreate these tables in SQLite {db_path}? [y/N]")
    assert "will be dropped and created again" in shown and "json_invoices" in shown
    assert invoices_in(db_path) == before


def test_cli_recreate_confirmation_names_the_postgresql_schema(
    sample: Path, workspace: Path, pg_url: str, pg_schema: str, pg_query
) -> None:
    from json2db_sync.runner_json2db_sync import JSON2DBSyncRunner

    assert JSON2DBSyncRunner(db_url=pg_url, db_schema=pg_schema).full_sync_workflow()["success"]
    label = _label(pg_url, pg_schema)
    shown = _cli_recreate_declined(
        workspace, ["--db-url", pg_url, "--db-schema", pg_schema], f"Drop and recreate these tables in {label}? [y/N]"
    )
    assert f"in {label} will be dropped and created again" in shown
    assert "Only json_* tables in that schema are dropped" in shown
    assert pg_query("SELECT COUNT(*) FROM json_invoices") == [(20,)]



def test_cli_recreate_confirmed_in_a_terminal(sample: Path, db_path: Path, workspace: Path) -> None:
    from json2db_sync.runner_json2db_sync import JSON2DBSyncRunner

    assert JSON2DBSyncRunner().full_sync_workflow()["success"]
    cli = spawn(workspace, ["-m", "json2db_sync", "recreate"])
    try:
        cli.expect_exact(f"Drop and recreate these tables in SQLite {db_path}? [y/N]")
        cli.send("y\r")
        cli.expect("Table Recreation: dropped")
        assert finish(cli) == 0
    finally:
        cli.terminate(force=True)
    assert invoices_in(db_path) == 0
