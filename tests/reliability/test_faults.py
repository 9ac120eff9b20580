"""Faults around a sync: a second writer, a reader holding a snapshot, permissions, a lock
held by another program, a full disk, and restoring a backup. Each ends either in success
or in a ``database_error`` that says what to do, with the data exactly as before the run.

SIGKILL at random moments is in ``test_sigkill.py`` (20 trials in the slow case).
Permission cases run the sync in a child that drops to ``nobody`` when we are root, since
root ignores file modes.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    BASE_ENTITIES,
    T_BASE,
    T_NEW,
    assert_no_traceback,
    checksum,
    clean_env,
    contact,
    give_tree,
    invoice,
    rows,
    run_cli,
    run_sync_child,
    unprivileged,
)

from json2db_sync import JSON2DBSyncRunner
from json2db_sync.progress import ProgressEvent


@pytest.fixture
def loaded(workspace: Path, make_session, db_path: Path) -> Path:
    """A database holding a first load, and a newer session waiting to be loaded."""
    make_session(T_BASE, BASE_ENTITIES)
    result = JSON2DBSyncRunner().full_sync_workflow()
    assert result["success"], result["error"]
    make_session(T_NEW, {"invoices": [invoice(str(2000 + i), 5.0 + i) for i in range(50)], "contacts": [contact("c9")]})
    return db_path


def expected_after(workspace: Path, db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The checksum a clean run from the current state gives (run on a copy)."""
    copy = tmp_path_factory.mktemp("expected") / "copy.db"
    with sqlite3.connect(db_path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    result = JSON2DBSyncRunner(db_path=copy).full_sync_workflow()
    assert result["success"], result["error"]
    return checksum(copy)


# --- one writer at a time -------------------------------------------------------------------


def test_second_sync_fails_fast_naming_the_holder(loaded: Path, workspace: Path, tmp_path_factory) -> None:
    """While a sync is writing (inside its progress callback), a second one through the
    runner and one through the command line both fail at once, naming this process."""
    expected = expected_after(workspace, loaded, tmp_path_factory)
    second: dict[str, Any] = {}

    def start_another(event: ProgressEvent) -> None:
        if event.step == "populate" and not second:
            second["runner"] = JSON2DBSyncRunner().full_sync_workflow()
            second["cli"] = run_cli(workspace / "json2db_sync", "sync")

    first = JSON2DBSyncRunner(progress_callback=start_another).full_sync_workflow()
    assert first["success"], first["error"]
    result = second["runner"]
    assert (result["success"], result["error_type"]) == (False, "database_error")
    assert f"process {os.getpid()}" in result["error"] and "full_sync_workflow" in result["error"]
    assert "JSON2DB_LOCK_TIMEOUT" in result["error"]
    cli = second["cli"]
    assert cli.returncode == 1 and cli.stdout == ""
    assert f"process {os.getpid()}" in " ".join(cli.stderr.split())
    assert_no_traceback(cli.stderr)
    assert checksum(loaded) == expected


def test_second_sync_fails_at_once(loaded: Path) -> None:
    """Regression: the second run used to try to write its "failed" line into the run
    history while the holder was writing (and waited sqlite3's busy timeout for it). A run
    refused by the lock now touches nothing: the history holds only the holder's runs."""
    refused: list[dict] = []

    def start_another(event: ProgressEvent) -> None:
        if event.step == "populate" and not refused:
            refused.append(JSON2DBSyncRunner().full_sync_workflow())

    assert JSON2DBSyncRunner(progress_callback=start_another).full_sync_workflow()["success"]
    assert refused[0]["error_type"] == "database_error"
    assert f"process {os.getpid()}" in refused[0]["error"]
    statuses = [r[0] for r in sqlite3.connect(loaded).execute("SELECT status FROM _json2db_runs")]
    assert "failed" not in statuses


def test_second_sync_waits_when_configured(loaded: Path, workspace: Path, tmp_path_factory) -> None:
    """With JSON2DB_LOCK_TIMEOUT, a second run started while the first writes waits for it
    and then finds nothing left to do: the runs never interleave."""
    expected = expected_after(workspace, loaded, tmp_path_factory)
    waiting: dict[str, subprocess.Popen[str]] = {}

    def start_waiter(event: ProgressEvent) -> None:
        if event.step == "populate" and not waiting:
            proc = subprocess.Popen(
                [sys.executable, "-m", "json2db_sync", "-v", "--json", "sync"],
                cwd=workspace / "json2db_sync",
                env=clean_env(JSON2DB_LOCK_TIMEOUT="120"),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            waiting["proc"] = proc
            # Hold our lock until the other run has found its data: it goes for the lock next.
            assert proc.stderr is not None
            for line in proc.stderr:
                if "data folder(s)" in line:
                    break

    first = JSON2DBSyncRunner(progress_callback=start_waiter).full_sync_workflow()
    assert first["success"], first["error"]
    out, err = waiting["proc"].communicate(timeout=120)
    assert waiting["proc"].returncode == 0, err
    result = json.loads(out)
    assert result["statistics"]["files_loaded"] == 0
    assert result["statistics"]["files_skipped"] == first["statistics"]["files_loaded"] + first["statistics"]["files_skipped"]
    assert checksum(loaded) == expected


def test_reader_holding_a_read_transaction_does_not_block_the_sync(loaded: Path, workspace: Path, tmp_path_factory) -> None:
    """A BI tool in the middle of a read transaction: the sync commits (WAL), the reader
    keeps its snapshot until it ends its transaction, then sees the new rows."""
    expected = expected_after(workspace, loaded, tmp_path_factory)
    reader = sqlite3.connect(loaded, isolation_level=None)
    try:
        reader.execute("BEGIN")
        before = reader.execute("SELECT COUNT(*) FROM json_invoices").fetchone()
        result = JSON2DBSyncRunner().full_sync_workflow()
        assert result["success"], result["error"]
        assert reader.execute("SELECT COUNT(*) FROM json_invoices").fetchone() == before
        reader.execute("COMMIT")
        assert reader.execute("SELECT COUNT(*) FROM json_invoices").fetchone() == (before[0] + 50,)
    finally:
        reader.close()
    assert checksum(loaded) == expected


def test_write_lock_held_by_another_program_beyond_the_timeout(loaded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: the busy wait on another program's write lock ignored
    JSON2DB_LOCK_TIMEOUT and was always sqlite3's default 5 s (twice)."""
    monkeypatch.setenv("JSON2DB_LOCK_TIMEOUT", "0")
    before = checksum(loaded)
    other = sqlite3.connect(loaded, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("CREATE TABLE bi_scratch (x)")
        result = JSON2DBSyncRunner().full_sync_workflow()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert (result["success"], result["error_type"]) == (False, "database_error")
    assert str(loaded) in result["error"] and "locked" in result["error"]
    assert "JSON2DB_LOCK_TIMEOUT" in result["error"]
    assert checksum(loaded) == before


def test_write_lock_held_by_another_program_is_a_database_error(loaded: Path) -> None:
    """Whatever the wait, the outcome: database_error naming the file and what to do."""
    before = checksum(loaded)
    other = sqlite3.connect(loaded, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("CREATE TABLE bi_scratch (x)")
        result = JSON2DBSyncRunner().full_sync_workflow()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert (result["success"], result["error_type"]) == (False, "database_error")
    assert str(loaded) in result["error"] and "database is locked" in result["error"]
    assert "another program holds a write lock" in result["error"]
    assert checksum(loaded) == before
    assert JSON2DBSyncRunner().full_sync_workflow()["success"]


# --- permissions (as an unprivileged user) -------------------------------------------------


def settle(db_path: Path) -> None:
    """Checkpoint and close, so that no -wal/-shm file is left beside the database (as
    after a clean shutdown): a run then has to create them in the folder."""
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    assert not Path(f"{db_path}-wal").exists()


# case id -> (what is made read-only, database the run is pointed at, phrases in the error)
PERMISSION_CASES = {
    "read-only-file": ("file", "production.db", ("read-only", "permissions")),
    "read-only-folder": ("folder", "production.db", ("read-only", "permissions")),
    "new-database-in-read-only-folder": ("folder", "new.db", ("Permission denied", "permissions")),
}


@pytest.mark.parametrize("case", list(PERMISSION_CASES))
def test_read_only_database_is_a_database_error_saying_what_to_do(loaded: Path, workspace: Path, case: str) -> None:
    drop = unprivileged()
    what, db_name, phrases = PERMISSION_CASES[case]
    target = loaded.parent / db_name
    settle(loaded)
    give_tree(workspace)
    before = checksum(loaded)
    locked = loaded if what == "file" else loaded.parent
    mode = locked.stat().st_mode & 0o777
    locked.chmod(0o444 if what == "file" else 0o555)
    try:
        code, summary, stderr = run_sync_child(
            workspace / "json2db_sync", env={**drop, "JSON2DB_DATABASE_PATH": str(target)}
        )
    finally:
        locked.chmod(mode)
    assert (code, summary.get("error_type")) == (1, "database_error"), summary
    assert str(target) in summary["error"], summary
    for phrase in phrases:
        assert phrase in summary["error"], summary
    assert_no_traceback(stderr)
    assert checksum(loaded) == before
    assert not target.exists() or target == loaded
    code, summary, stderr = run_sync_child(workspace / "json2db_sync", env={**drop, "JSON2DB_DATABASE_PATH": str(target)})
    assert code == 0, (summary, stderr[-2000:])
    assert rows(target, "SELECT COUNT(*) FROM json_contacts WHERE id = 'c9'") == [(1,)]


# --- a full disk --------------------------------------------------------------------------


def _limit_file_size(limit: int):  # noqa: ANN202 - a preexec_fn
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_disk_full_is_a_database_error_and_the_next_run_completes(
    loaded: Path, workspace: Path, make_session, tmp_path_factory
) -> None:
    """No file may grow past 256 KiB in the child (RLIMIT_FSIZE, SIGXFSZ ignored): SQLite
    gets EFBIG while writing ~2 MB of new rows, as on a full disk."""
    make_session(T_NEW, {"bills": [{"bill_id": str(i), "notes": "x" * 400, "total": i} for i in range(4000)]})
    expected = expected_after(workspace, loaded, tmp_path_factory)
    before = checksum(loaded)
    code, summary, stderr = run_sync_child(workspace / "json2db_sync", preexec_fn=_limit_file_size(256 * 1024))
    assert (code, summary.get("error_type")) == (1, "database_error"), summary
    assert str(loaded) in summary["error"], summary
    assert_no_traceback(stderr)
    assert checksum(loaded) == before
    code, summary, _ = run_sync_child(workspace / "json2db_sync")
    assert code == 0, summary
    assert checksum(loaded) == expected


def test_disk_full_message_says_what_to_do(loaded: Path, workspace: Path, make_session) -> None:
    make_session(T_NEW, {"bills": [{"bill_id": str(i), "notes": "x" * 400, "total": i} for i in range(4000)]})
    code, summary, _ = run_sync_child(workspace / "json2db_sync", preexec_fn=_limit_file_size(256 * 1024))
    assert code == 1
    assert "free space" in summary["error"], summary["error"]


# --- backups ------------------------------------------------------------------------------


def test_restored_backup_gives_back_exactly_its_rows(loaded: Path, workspace: Path) -> None:
    runner = JSON2DBSyncRunner()
    at_backup = checksum(loaded)
    made = runner.create_backup()
    assert made["success"], made["error"]
    backup = Path(made["backup_path"])
    assert checksum(backup) == at_backup
    synced = runner.full_sync_workflow()
    assert synced["success"], synced["error"]
    after_sync = checksum(loaded)
    assert after_sync != at_backup
    # Through the command line, as a user would.
    proc = run_cli(workspace / "json2db_sync", "restore", str(backup), "--yes")
    assert proc.returncode == 0, proc.stderr
    assert_no_traceback(proc.stdout, proc.stderr)
    assert checksum(loaded) == at_backup
    # The state it replaced was backed up first, and the next sync completes the work again.
    listed = runner.list_backups()["backups"]
    assert any(checksum(Path(b["path"])) == after_sync for b in listed)
    again = runner.full_sync_workflow()
    assert again["success"], again["error"]
    assert checksum(loaded) == after_sync
