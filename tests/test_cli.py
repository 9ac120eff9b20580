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
        (["report", "--format", "html"], "invalid choice: 'html'"),
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
