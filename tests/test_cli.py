"""The command line through subprocess, as cron and shell scripts run it: exit status,
stdout/stderr discipline and ``--json`` output, in a workspace laid out like the guide."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from json2db_sync import cli


class Run:
    """One finished ``python -m json2db_sync`` process."""

    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.out)


def run_cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("JSON2DB_")}
    environ.update({"NO_COLOR": "1", "COLUMNS": "160"})
    environ.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "json2db_sync", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    return Run(proc)


@pytest.fixture
def cwd(workspace: Path) -> Path:
    return workspace / "json2db_sync"


@pytest.fixture
def sample(sessions_dir: Path) -> Path:
    """Two days of realistic sessions in the default sessions folder."""
    from json2db_sync.sample_data import generate_sample_data

    generate_sample_data(sessions_dir, days=2, seed=1, invoices=20)
    return sessions_dir


@pytest.fixture
def synced(sample: Path, cwd: Path, db_path: Path) -> Path:
    """The sample loaded into the default database."""
    result = run_cli(cwd, "sync", "--quiet")
    assert (result.code, result.out, result.err) == (0, "", "")
    return db_path


def table_names(db_path: Path) -> set[str]:
    with sqlite3.connect(db_path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


# --- the full workflow, as cron runs it --------------------------------------------------


def test_sync_prints_one_line_and_nothing_on_stderr(sample: Path, cwd: Path, db_path: Path) -> None:
    result = run_cli(cwd, "sync", "--cutoff-days", "30")
    assert result.code == 0, result.err
    assert result.err == ""
    assert result.out.count("\n") == 1
    assert result.out.startswith("Full Workflow: ") and " records read (" in result.out
    assert result.out.rstrip("\n").endswith(f"; destination: SQLite {db_path}")
    assert "json_invoices" in table_names(db_path)


@pytest.mark.parametrize("position", ["before", "after"], ids=["--json-before-command", "--json-after-command"])
def test_sync_json_output_is_the_result_dict(sample: Path, cwd: Path, db_path: Path, position: str) -> None:
    args = ["--json", "sync"] if position == "before" else ["sync", "--json"]
    result = run_cli(cwd, *args)
    assert result.code == 0, result.err
    data = result.json
    assert (data["success"], data["operation"], data["error"], data["error_type"]) == (True, "full_sync_workflow", None, None)
    assert data["statistics"]["total_records"] > 0
    assert data["statistics"]["records_rejected"] == 0
    assert set(data["steps"]) >= {"population", "verification", "report"}
    assert data["db_path"] == str(db_path)


def test_quiet_prints_nothing_and_a_second_sync_loads_nothing_new(synced: Path, cwd: Path) -> None:
    again = run_cli(cwd, "sync", "--json")
    assert again.code == 0
    statistics = again.json["statistics"]
    assert (statistics["files_loaded"], statistics["records_inserted"], statistics["records_updated"]) == (0, 0, 0)


def test_skip_table_creation_and_db_option(sample: Path, cwd: Path, workspace: Path) -> None:
    other = workspace / "other.db"
    first = run_cli(cwd, "--db", str(other), "sync", "--json")
    assert first.code == 0, first.err
    again = run_cli(cwd, "sync", "--db", str(other), "--skip-table-creation", "--json")
    assert again.code == 0, again.err
    assert again.json["steps"]["analysis"].get("skipped") is True
    assert again.json["db_path"] == str(other)


def test_populate_with_entity_filter(sample: Path, cwd: Path) -> None:
    result = run_cli(cwd, "populate", "--entities", "invoices,bills", "--json")
    assert result.code == 0, result.err
    assert sorted(result.json["statistics"]["entities"]) == ["bills", "invoices"]


# --- display commands ------------------------------------------------------------------------


def test_analyze_shows_the_entities(sample: Path, cwd: Path) -> None:
    result = run_cli(cwd, "analyze", "--json")
    assert result.code == 0, result.err
    assert {"invoices", "bills", "contacts"} <= set(result.json["entities"])
    table = run_cli(cwd, "analyze")
    assert table.code == 0 and "JSON Analysis" in table.out and "json_invoices" in table.out


def test_verify_and_report(synced: Path, cwd: Path) -> None:
    verify = run_cli(cwd, "verify")
    assert verify.code == 0, verify.err
    assert "Table Verification" in verify.out and "integrity_check" in verify.out

    report = run_cli(cwd, "report", "--format", "json")
    assert report.code == 0
    names = {t["name"] for t in report.json["tables"]}
    assert {"json_invoices", "json_invoices_line_items"} <= names

    markdown = run_cli(cwd, "report", "--format", "markdown")
    assert markdown.code == 0
    assert markdown.out.startswith("# ") and "| json_invoices |" in markdown.out

    table = run_cli(cwd, "report")
    assert "Summary Report" in table.out and "└ json_invoices_line_items" in table.out


def test_sessions_config_and_sample_data(workspace: Path, cwd: Path) -> None:
    out = workspace / "samples"
    made = run_cli(cwd, "sample-data", "--out", str(out), "--days", "2", "--seed", "3", "--invoices", "10")
    assert made.code == 0, made.err
    assert made.out.startswith("Sample Data: 2 session(s)")

    sessions = run_cli(cwd, "--source", str(out), "sessions", "--json")
    assert sessions.code == 0, sessions.err
    assert len({s["session"] for s in sessions.json["sessions"]}) == 2

    config = run_cli(cwd, "config", "--json")
    rows = {row["key"]: row for row in config.json["settings"]}
    assert (rows["batch_size"]["value"], rows["batch_size"]["source"]) == ("1000", "default")
    env = run_cli(cwd, "config", env={"JSON2DB_BATCH_SIZE": "250"})
    assert env.code == 0 and "JSON2DB_BATCH_SIZE" in env.out and "250" in env.out and "environment" in env.out


# --- destructive commands ----------------------------------------------------------------


def test_recreate_needs_yes_without_a_terminal(synced: Path, cwd: Path) -> None:
    refused = run_cli(cwd, "recreate")
    assert refused.code == 2
    assert "add --yes" in refused.err
    done = run_cli(cwd, "recreate", "--yes", "--json")
    assert done.code == 0, done.err
    assert "json_invoices" in done.json["dropped_tables"]
    assert done.json["backup_path"] and Path(done.json["backup_path"]).is_file()


def test_backup_list_and_restore_latest(synced: Path, cwd: Path) -> None:
    made = run_cli(cwd, "backup", "--json")
    assert made.code == 0, made.err
    listed = run_cli(cwd, "backup", "--list", "--json")
    assert [b["path"] for b in listed.json["backups"]][0] == made.json["backup_path"]
    refused = run_cli(cwd, "restore", "latest")
    assert refused.code == 2 and "add --yes" in refused.err
    restored = run_cli(cwd, "restore", "latest", "--yes", "--json")
    assert restored.code == 0, restored.err
    assert restored.json["restored_from"] == made.json["backup_path"]


# --- failures and exit status ---------------------------------------------------------------


def test_operation_failure_exits_1_with_the_error_on_stderr(cwd: Path, workspace: Path) -> None:
    missing = workspace / "missing.db"
    result = run_cli(cwd, "verify", "--db", str(missing))
    assert (result.code, result.out) == (1, "")
    assert f"database {missing} does not exist yet" in result.err
    assert "What to do:" in result.err


def test_no_data_is_a_file_error_in_json(cwd: Path, workspace: Path) -> None:
    result = run_cli(cwd, "populate", "--json-dir", str(workspace / "nothing-here"), "--json")
    assert result.code == 1
    assert (result.json["success"], result.json["error_type"]) == (False, "file_error")
    assert result.json["error"].startswith("No data found.")


def test_config_error_exits_2(cwd: Path) -> None:
    result = run_cli(cwd, "sync", env={"JSON2DB_BATCH_SIZE": "abc"})
    assert (result.code, result.out) == (2, "")
    assert "JSON2DB_BATCH_SIZE='abc'" in result.err
    assert result.err.count("JSON2DB_BATCH_SIZE='abc'") == 1  # the log line is not repeated


def test_no_arguments_without_a_terminal_prints_usage_and_exits_2(cwd: Path) -> None:
    result = run_cli(cwd)
    assert (result.code, result.out) == (2, "")
    assert "The menu needs a terminal" in result.err and "json2db-sync sync --cutoff-days 1" in result.err


# --- parsing, in process (no runner needed) --------------------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (["sync", "--cutoff-days", "x"], "'x' is not a whole number"),
        (["sync", "--cutoff-days", "-1"], "is negative"),
        (["populate", "--entities", ","], "give entity names"),
        (["report", "--format", "pdf"], "invalid choice: 'pdf'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["sample-data", "--days", "0"], "must be 1 or more"),
        (["restore"], "the following arguments are required: BACKUP"),
    ],
    ids=["cutoff-not-a-number", "cutoff-negative", "entities-empty", "bad-format", "unknown-command", "days-zero", "restore-without-backup"],
)
def test_usage_errors_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in cli.HANDLERS:
        assert command in out


def test_help_does_not_import_rich_or_questionary() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from json2db_sync.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help'])\n"
        "print(sorted(m for m in ('rich', 'questionary', 'prompt_toolkit') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "[]", proc.stderr


def test_the_menu_module_without_a_terminal_exits_2(cwd: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "json2db_sync.main_json2db_sync"],
        cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
    )
    assert (proc.returncode, proc.stdout) == (2, "")
    assert "The menu needs a terminal" in proc.stderr


# --- the destination, and PostgreSQL (--db-url) ------------------------------------------------


def test_display_commands_name_the_sqlite_destination(synced: Path, cwd: Path) -> None:
    verify = run_cli(cwd, "verify")
    assert verify.code == 0, verify.err
    assert verify.out.startswith(f"Destination: SQLite {synced}\n")
    report = run_cli(cwd, "report")
    assert f"Database          SQLite {synced}" in report.out
    assert "Destination:" not in report.out  # the report's own row names it


def test_help_lists_the_postgresql_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--db-url URL" in out and "--db-schema NAME" in out
    assert "pip install 'json2db_sync[postgres]'" in out


def test_db_and_db_url_together_is_a_usage_error(cwd: Path, workspace: Path) -> None:
    result = run_cli(cwd, "--db", str(workspace / "x.db"), "--db-url", "postgresql://u@127.0.0.1:1/none", "sync")
    assert (result.code, result.out) == (2, "")
    assert "give --db (a SQLite file) or --db-url (a PostgreSQL server), not both" in result.err


def test_a_missing_server_is_named_with_what_to_check(sample: Path, cwd: Path) -> None:
    pytest.importorskip("psycopg", reason="needs psycopg: pip install 'json2db_sync[postgres]'")
    result = run_cli(cwd, "--db-url", "postgresql://nobody:secret@127.0.0.1:1/none", "sync")
    assert (result.code, result.out) == (1, "")
    assert "Traceback" not in result.err
    assert "PostgreSQL server postgresql://nobody:***@127.0.0.1:1/none" in result.err
    assert "check that the server runs" in result.err
    assert "Destination: PostgreSQL postgresql://nobody:***@127.0.0.1:1/none (schema public)" in result.err
    assert "What to do: Check that the PostgreSQL server runs" in result.err
    assert "secret" not in result.out + result.err


@pytest.fixture
def pg_sample(workspace: Path, cwd: Path) -> Path:
    """Sample sessions written by the CLI, as the README does (``sample-data --out``)."""
    out = workspace / "demo" / "api_sync" / "data" / "sync_sessions"
    made = run_cli(cwd, "sample-data", "--out", str(out), "--days", "2", "--seed", "1", "--invoices", "20")
    assert made.code == 0, made.err
    return workspace / "demo" / "api_sync"


def _label(url: str, schema: str) -> str:
    from json2db_sync.config import redact_url

    return f"{redact_url(url)} (schema {schema})"


def test_sync_on_postgresql_names_the_destination(pg_url: str, pg_schema: str, pg_sample: Path, cwd: Path) -> None:
    pg = ["--source", str(pg_sample), "--db-url", pg_url, "--db-schema", pg_schema]
    label = _label(pg_url, pg_schema)

    first = run_cli(cwd, *pg, "sync")
    assert first.code == 0, first.err
    assert first.out.startswith("Full Workflow: ") and first.out.count("\n") == 1
    assert f"; destination: PostgreSQL {label}" in first.out

    again = run_cli(cwd, *pg, "sync", "--json")
    assert again.code == 0, again.err
    assert again.json["db_path"] == label
    assert (again.json["statistics"]["files_loaded"], again.json["statistics"]["records_inserted"]) == (0, 0)

    report = run_cli(cwd, "--json", *pg, "report")
    assert report.code == 0, report.err
    assert report.json["db_path"] == label
    assert report.json["destination"] == f"PostgreSQL {label}"
    assert {"json_invoices", "json_invoices_line_items"} <= {t["name"] for t in report.json["tables"]}

    table = run_cli(cwd, *pg, "report")
    assert f"PostgreSQL {label}" in table.out and "json_invoices" in table.out

    verify = run_cli(cwd, *pg, "verify")
    assert verify.code == 0, verify.err
    assert verify.out.startswith(f"Destination: PostgreSQL {label}\n")


def test_recreate_on_postgresql_with_yes(pg_url: str, pg_schema: str, pg_sample: Path, cwd: Path) -> None:
    pg = ["--source", str(pg_sample), "--db-url", pg_url, "--db-schema", pg_schema]
    assert run_cli(cwd, *pg, "sync", "--quiet").code == 0
    refused = run_cli(cwd, *pg, "recreate")
    assert refused.code == 2 and "add --yes" in refused.err
    done = run_cli(cwd, *pg, "recreate", "--yes")
    assert done.code == 0, done.err
    assert done.out.startswith("Table Recreation: dropped ")
    assert f"destination: PostgreSQL {_label(pg_url, pg_schema)}" in done.out


def test_restore_on_postgresql_refuses_with_the_pg_restore_command(
    pg_url: str, pg_schema: str, pg_sample: Path, cwd: Path, workspace: Path
) -> None:
    pg = ["--source", str(pg_sample), "--db-url", pg_url, "--db-schema", pg_schema]
    assert run_cli(cwd, *pg, "sync", "--quiet").code == 0

    # no backup yet: still exit 1 (not a question, not a usage error) with the advice
    none_yet = run_cli(cwd, *pg, "restore", "latest")
    assert (none_yet.code, none_yet.out) == (1, "")
    assert "pg_restore --clean --if-exists" in none_yet.err and f"""--schema='"{pg_schema}"'""" in none_yet.err
    assert "Nothing was changed." in none_yet.err

    # a backup file: the runner's own refusal, naming that file
    dump = workspace / "by-hand.dump"
    dump.write_bytes(b"PGDMP")
    explicit = run_cli(cwd, *pg, "restore", str(dump))
    assert (explicit.code, explicit.out) == (1, "")
    assert "does not restore PostgreSQL backups itself" in explicit.err
    assert f"""pg_restore --clean --if-exists --schema='"{pg_schema}"' --dbname=<url> {dump}""" in explicit.err
    as_json = run_cli(cwd, *pg, "restore", str(dump), "--json")
    assert as_json.code == 1
    assert (as_json.json["success"], as_json.json["error_type"]) == (False, "database_error")

    import shutil

    if shutil.which("pg_dump") is None:
        return  # `backup` needs pg_dump; the refusal above does not
    made = run_cli(cwd, *pg, "backup", "--json")
    assert made.code == 0, made.err
    latest = run_cli(cwd, *pg, "restore", "latest")
    assert (latest.code, latest.out) == (1, "")
    assert f"--dbname=<url> {made.json['backup_path']}" in latest.err


def _with_password(url: str) -> tuple[str, str]:
    """``url`` with a password in it, and that password: the one it has, else "secret"
    (the test server trusts local connections, so the password is ignored)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        return url, parts.password
    netloc = f"{parts.username or 'postgres'}:secret@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc)), "secret"


def test_the_password_never_appears_in_any_output(pg_url: str, pg_schema: str, pg_sample: Path, cwd: Path) -> None:
    import psycopg

    url, password = _with_password(pg_url)
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error as exc:
        pytest.skip(f"the test server does not accept {_label(url, pg_schema)}: {exc}")
    pg = ["--source", str(pg_sample), "--db-url", url, "--db-schema", pg_schema]
    commands = [
        ["sync"], ["sync", "--json"], ["-v", "sync"], ["analyze"], ["populate"], ["verify"], ["verify", "--json"],
        ["report"], ["report", "--json"], ["report", "--format", "json"], ["report", "--format", "markdown"],
        ["config"], ["config", "--json"], ["sessions", "--no-count"], ["backup", "--list"], ["backup", "--list", "--json"],
        ["backup"], ["-vv", "backup"], ["restore", "latest"], ["recreate"], ["recreate", "--yes"],
        ["-v", "recreate", "--yes", "--json"], ["-vv", "sync"],
    ]
    seen = []
    for command in commands:
        result = run_cli(cwd, *pg, *command)
        seen.append((command, result.code))
        assert password not in result.out + result.err, (command, result.out, result.err)
    assert dict((" ".join(c), code) for c, code in seen)["sync"] == 0
    config = run_cli(cwd, *pg, "config", "--json")
    rows = {row["key"]: row["value"] for row in config.json["settings"]}
    assert rows["database_url"] == url.replace(f":{password}@", ":***@")

