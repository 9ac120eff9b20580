"""Issue 19, "first hour": what a newcomer meets, driven through the real command line
(subprocess, no terminal), in a workspace laid out like the guide."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from test_cli import cwd, run_cli, sample, synced  # noqa: F401  (fixtures)


def _orphan_a_line_item(db_path: Path) -> str:
    """Delete one invoice behind the tool's back, leaving its line items (foreign keys off)."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        (parent,) = conn.execute("SELECT parent_id FROM json_invoices_line_items LIMIT 1").fetchone()
        conn.execute("DELETE FROM json_invoices WHERE id = ?", (parent,))
    finally:
        conn.close()
    return str(parent)


def test_failed_verify_prints_the_failing_checks_with_examples_and_fitting_advice(synced: Path, cwd: Path) -> None:
    orphan = _orphan_a_line_item(synced)
    result = run_cli(cwd, "verify")
    assert result.code == 1
    assert result.out == ""
    err = result.err
    for name in ("foreign_key_check", "orphan_child_rows"):
        assert f"ERROR {name} (" in err
    assert orphan in err  # an example row names the missing parent
    assert "have no parent document" in err  # the orphan check's own advice
    assert "json2db-sync recreate" in err
    assert "JSON2DB_ON_INVALID_FILE" not in err  # no advice about invalid files
    assert "Each check listed says what is wrong" in err


def test_failed_verify_json_carries_the_advice_of_each_failing_check(synced: Path, cwd: Path) -> None:
    _orphan_a_line_item(synced)
    result = run_cli(cwd, "--json", "verify")
    assert result.code == 1
    checks = {c["name"]: c for c in result.json["checks"]}
    assert "have no parent document" in checks["orphan_child_rows"]["advice"]
    assert all("advice" not in c for c in checks.values() if c["status"] == "ok")
    json.dumps(result.json)


# --- the demo: sample-data --demo saves .env so that the defaults meet the demo -------------


def test_demo_saves_env_and_every_later_command_finds_the_demo(cwd: Path) -> None:
    first = run_cli(cwd, "sample-data", "--demo")
    assert first.code == 0, first.err
    assert "JSON2DB_API_SYNC_PATH, JSON2DB_DATABASE_PATH saved" in first.out
    env_text = (cwd / ".env").read_text()
    assert "JSON2DB_API_SYNC_PATH=demo/api_sync/data/sync_sessions\n" in env_text
    assert "JSON2DB_DATABASE_PATH=demo/data/production.db\n" in env_text
    synced = run_cli(cwd, "sync")
    assert synced.code == 0, synced.err
    assert f"destination: SQLite {cwd / 'demo' / 'data' / 'production.db'}" in synced.out
    again = run_cli(cwd, "sample-data", "--demo")
    assert again.code == 0 and "already in" in again.out
    assert (cwd / ".env").read_text() == env_text


def test_demo_never_overwrites_a_different_env_value_and_writes_nothing(cwd: Path) -> None:
    (cwd / ".env").write_text("JSON2DB_API_SYNC_PATH=/srv/real/sessions\nJSON2DB_LOG_LEVEL=INFO\n")
    refused = run_cli(cwd, "sample-data", "--demo")
    assert refused.code == 2
    assert "already sets JSON2DB_API_SYNC_PATH=/srv/real/sessions" in refused.err
    assert not (cwd / "demo").exists()
    assert (cwd / ".env").read_text() == "JSON2DB_API_SYNC_PATH=/srv/real/sessions\nJSON2DB_LOG_LEVEL=INFO\n"


def test_demo_keeps_other_env_lines_and_says_when_the_environment_wins(cwd: Path, workspace: Path) -> None:
    (cwd / ".env").write_text("JSON2DB_BATCH_SIZE=500")  # no newline at the end
    shadow = str(workspace / "elsewhere")
    result = run_cli(cwd, "--json", "sample-data", "--demo", env={"JSON2DB_DATABASE_PATH": shadow})
    assert result.code == 0, result.err
    assert result.json["env"]["written"] == ["JSON2DB_API_SYNC_PATH", "JSON2DB_DATABASE_PATH"]
    assert any("JSON2DB_DATABASE_PATH is set in the environment" in w for w in result.json["warnings"])
    lines = (cwd / ".env").read_text().splitlines()
    assert lines[0] == "JSON2DB_BATCH_SIZE=500" and "JSON2DB_DATABASE_PATH=demo/data/production.db" in lines


def test_env_values_that_need_quotes_read_back_unchanged(tmp_path: Path) -> None:
    from json2db_sync.config import JSON2DBConfig, save_to_env_file

    odd = 'my data/with "quotes" #and\\backslash'
    save_to_env_file(tmp_path / ".env", {"api_sync_path": odd})
    config = JSON2DBConfig(cwd=tmp_path, environ={})
    assert config.settings.api_sync_path == (tmp_path / odd).resolve()


# --- small things of the command line --------------------------------------------------------


def test_version(cwd: Path) -> None:
    from json2db_sync import __version__

    result = run_cli(cwd, "--version")
    assert (result.code, result.out) == (0, f"json2db-sync {__version__}\n")


def test_every_subcommand_help_ends_with_examples(cwd: Path) -> None:
    from json2db_sync import cli

    for name in cli.HANDLERS:
        result = run_cli(cwd, name, "--help")
        assert result.code == 0
        example = result.out.split("Example:\n", 1)[1]
        assert example.lstrip().startswith("json2db-sync "), name


def test_json_recreate_without_a_terminal_prints_json_on_stdout(synced: Path, cwd: Path) -> None:
    result = run_cli(cwd, "--json", "recreate")
    assert result.code == 2
    assert result.json["success"] is False
    assert result.json["operation"] == "recreate_json_tables"
    assert "--yes" in result.json["error"]


def test_sessions_names_no_destination_it_does_not_use(sample: Path, cwd: Path) -> None:
    result = run_cli(cwd, "sessions")
    assert result.code == 0
    assert "Destination" not in result.out and "production.db" not in result.out


def test_a_missing_backup_gets_backup_advice(synced: Path, cwd: Path) -> None:
    result = run_cli(cwd, "restore", "no-such-backup.db", "--yes")
    assert result.code == 1
    assert "json2db-sync backup --list" in result.err
    assert "json2db-sync sessions" not in result.err


def test_an_unknown_entity_is_named_as_the_option_the_user_gave(sample: Path, cwd: Path) -> None:
    result = run_cli(cwd, "populate", "--entities", "invoicez")
    assert result.code == 2
    assert "--entities" in result.err and "entity_filter names" not in result.err
    assert "the data holds bills, contacts" in result.err


def test_the_summary_line_says_why_files_are_skipped(cwd: Path) -> None:
    """A brand-new database skips nothing (a byte-identical copy in a later session is read);
    a second sync skips every file, and the line says why."""
    assert run_cli(cwd, "sample-data", "--demo").code == 0
    first = run_cli(cwd, "sync")
    assert first.code == 0, first.err
    assert "from 30 file(s), 0 skipped, in" in first.out
    second = run_cli(cwd, "sync")
    assert second.code == 0, second.err
    assert "from 0 file(s), 30 skipped (already loaded), in" in second.out


# --- progress -------------------------------------------------------------------------------


def test_sample_data_reports_progress_up_to_a_known_total(tmp_path: Path) -> None:
    from json2db_sync.progress import ProgressEvent
    from json2db_sync.sample_data import generate_sample_data

    events: list[ProgressEvent] = []
    generate_sample_data(tmp_path / "s", days=2, invoices=1000, progress=events.append)
    assert {e.step for e in events} == {"sample_data"}
    totals = {e.total for e in events}
    assert len(totals) == 1 and totals.pop() > 1000
    assert [e.current for e in events] == sorted(e.current for e in events)
    assert events[-1].current == events[-1].total


def test_progress_counts_name_their_unit_and_never_show_a_question_mark() -> None:
    from json2db_sync.render import progress_count

    assert progress_count("populate", 36430, None) == "36,430 records"
    assert progress_count("files", 1024, 4096) == "1.0 KB/4.0 KB"
    assert progress_count("sample_data", 120, 400) == "120/400"


def test_progress_bars_show_in_a_terminal_for_sample_data_and_sync(workspace: Path) -> None:
    pexpect = __import__("pytest").importorskip("pexpect")
    import os
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("JSON2DB_")}
    env.update({"NO_COLOR": "1", "TERM": "xterm"})
    cwd = workspace / "json2db_sync"
    child = pexpect.spawn(sys.executable, ["-m", "json2db_sync", "sample-data", "--demo", "--invoices", "20000"],
                          cwd=str(cwd), env=env, dimensions=(40, 160), timeout=120, encoding="utf-8")
    child.expect("Writing sample sessions")
    child.expect(r"\d+ left")  # the time left, from the known total
    child.expect("Sample Data:")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    child = pexpect.spawn(sys.executable, ["-m", "json2db_sync", "sync", "--entities", "invoices"],
                          cwd=str(cwd), env=env, dimensions=(40, 160), timeout=180, encoding="utf-8")
    child.expect("Reading files")
    child.expect(r"\d+\.\d MB/\d+\.\d MB")  # bytes read of the total
    child.expect("Full Workflow:")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


# --- tables never cut names ------------------------------------------------------------------


def test_tables_at_80_columns_fold_names_and_never_cut_them(synced: Path, cwd: Path) -> None:
    assert run_cli(cwd, "backup").code == 0
    for command in (["config"], ["analyze"], ["sessions"], ["report"], ["verify"], ["backup", "--list"]):
        result = run_cli(cwd, *command, env={"COLUMNS": "80"})
        assert result.code == 0, result.err
        assert "…" not in result.out, command
    wide = run_cli(cwd, "backup", "--list")
    heading = " ".join(wide.out.split("\n┏", 1)[0].split())  # wrapped between words, never inside a path
    assert heading == f"Backups of {synced} (in {synced.parent / 'backups'})"
    assert re.search(r"│ production-\d{8}-\d{6}\.db", wide.out)  # the file name whole, on one line


def test_verify_and_sessions_report_progress_with_totals(synced: Path, cwd: Path) -> None:
    from json2db_sync import JSON2DBSyncRunner
    from json2db_sync.progress import ProgressEvent
    from json2db_sync.verifier import CHECKS

    events: list[ProgressEvent] = []
    runner = JSON2DBSyncRunner(progress_callback=events.append)
    assert runner.verify_tables()["success"]
    verify = [e for e in events if e.step == "verify"]
    assert [e.current for e in verify] == list(range(len(CHECKS) + 1))
    assert {e.total for e in verify} == {len(CHECKS)}
    events.clear()
    assert runner.list_sessions()["success"]
    assert events and all(e.step == "count" for e in events)
    assert events[-1].current == events[-1].total > 0


def test_failed_verify_in_a_terminal_shows_the_failing_checks_table(synced: Path, cwd: Path) -> None:
    pexpect = __import__("pytest").importorskip("pexpect")
    import os
    import sys

    _orphan_a_line_item(synced)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSON2DB_")}
    env.update({"NO_COLOR": "1", "TERM": "xterm"})
    child = pexpect.spawn(sys.executable, ["-m", "json2db_sync", "verify"], cwd=str(cwd), env=env,
                          dimensions=(60, 160), timeout=60, encoding="utf-8")
    child.expect("Checks that failed")
    child.expect("orphan_child_rows")
    child.expect(r"What to do: These line items \(child rows\) have no parent document")
    child.expect(r"Table Verification failed \(validation_error\)")
    child.expect("Each check above says what is wrong")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1


def test_every_check_has_advice_of_its_own() -> None:
    from json2db_sync.verifier import CHECK_ADVICE, CHECKS

    assert {check.__name__.removeprefix("check_") for check in CHECKS} == set(CHECK_ADVICE)
    assert len(set(CHECK_ADVICE.values())) == len(CHECK_ADVICE)
