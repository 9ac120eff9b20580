"""Backups you can trust (issue 17): written under a private temporary name and renamed when
complete, never listed nor restored when incomplete, checked before a restore replaces
anything, and a full backup disk named as such with nothing left behind."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability_support import assert_no_traceback, checksum, clean_env, rows, run_cli
from test_faults import _limit_file_size, loaded  # noqa: F401 - fixture

from json2db_sync import JSON2DBSyncRunner

BACKUP_SCRIPT = """
from json2db_sync import JSON2DBSyncRunner
result = JSON2DBSyncRunner().create_backup()
print(result["success"], result["error"])
"""


def backup_dir(db: Path) -> Path:
    return db.parent / "backups"


def grow(db: Path, megabytes: int) -> None:
    """Make the database large enough that copying it takes a while (a table of the user's)."""
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS user_filler (blob BLOB)")
        conn.executemany("INSERT INTO user_filler VALUES (randomblob(1048576))", [()] * megabytes)


def test_a_backup_killed_mid_copy_is_never_listed_and_the_next_backup_clears_it(loaded: Path, workspace: Path) -> None:
    grow(loaded, 150)
    folder = backup_dir(loaded)
    folder.mkdir(exist_ok=True)
    caught = None
    for _attempt in range(5):
        child = subprocess.Popen(
            [sys.executable, "-c", BACKUP_SCRIPT], cwd=workspace / "json2db_sync", env=clean_env(),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and child.poll() is None:
            partial = [p for p in folder.iterdir() if p.name.endswith(".partial")]
            if partial and partial[0].stat().st_size > 1024 * 1024:
                child.send_signal(signal.SIGKILL)
                caught = partial[0]
                break
            time.sleep(0.002)
        child.wait()
        if caught is not None:
            break
        for made in folder.iterdir():  # finished before it could be caught: try again
            made.unlink()
    if caught is None:
        pytest.skip("the backup always finished before it could be killed")
    # What the kill left: only the hidden, private, unfinished copy, never a backup's name.
    assert caught.exists() and caught.stat().st_mode & 0o077 == 0
    assert [p for p in folder.iterdir() if not p.name.startswith(".")] == []
    runner = JSON2DBSyncRunner()
    listed = runner.list_backups()
    assert listed["success"] and listed["backups"] == []
    made = runner.create_backup()
    assert made["success"], made["error"]
    assert sorted(p.name for p in folder.iterdir()) == [Path(made["backup_path"]).name]
    assert checksum(Path(made["backup_path"])) == checksum(loaded)


def test_a_backup_left_half_written_by_an_older_version_is_not_offered_nor_restored(loaded: Path, workspace: Path) -> None:
    runner = JSON2DBSyncRunner()
    good = Path(runner.create_backup()["backup_path"])
    before = checksum(loaded)
    # What an interrupted copy looked like before: the final name, a hot journal beside it.
    broken = good.with_name(good.name.replace(".db", "-2.db"))
    broken.write_bytes(good.read_bytes()[: 4096])
    (broken.with_name(broken.name + "-journal")).write_bytes(b"\x00" * 4096)
    assert [b["path"] for b in runner.list_backups()["backups"]] == [str(good)]
    proc = run_cli(workspace / "json2db_sync", "restore", str(broken), "--yes")
    assert proc.returncode == 1
    flat = " ".join(proc.stderr.split())
    assert "incomplete" in flat and broken.name in flat, proc.stderr
    assert_no_traceback(proc.stdout, proc.stderr)
    assert checksum(loaded) == before


@pytest.mark.parametrize("content", ["empty-file", "no-tables", "garbage", "truncated"])
def test_restore_checks_the_backup_before_replacing_anything(loaded: Path, workspace: Path, content: str) -> None:
    runner = JSON2DBSyncRunner()
    good = Path(runner.create_backup()["backup_path"])
    bad = good.with_name("production-20200101-000000.db")
    if content == "empty-file":
        bad.write_bytes(b"")
    elif content == "no-tables":
        sqlite3.connect(bad).close()
        with sqlite3.connect(bad) as conn:
            conn.execute("PRAGMA user_version = 1")  # a valid, empty database file
    elif content == "garbage":
        bad.write_bytes(b"not a database at all" * 500)
    else:
        bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    before = checksum(loaded)
    result = runner.restore_backup(bad)
    assert (result["success"], result["error_type"]) == (False, "database_error"), result
    assert str(bad) in result["error"] and "pick another backup" in result["error"], result["error"]
    assert checksum(loaded) == before
    assert rows(loaded, "PRAGMA integrity_check") == [("ok",)]


def test_a_good_backup_still_restores(loaded: Path) -> None:
    runner = JSON2DBSyncRunner()
    before = checksum(loaded)
    backup = Path(runner.create_backup()["backup_path"])
    with sqlite3.connect(loaded) as conn:
        conn.execute("DELETE FROM json_contacts")
    restored = runner.restore_backup(backup)
    assert restored["success"], restored["error"]
    assert checksum(loaded) == before


def test_backup_disk_full_names_the_backup_folder_and_leaves_nothing(loaded: Path, workspace: Path) -> None:
    grow(loaded, 2)  # larger than the 256 KiB any file may grow to in the child
    folder = backup_dir(loaded)
    folder.mkdir(exist_ok=True)
    before = checksum(loaded)
    proc = run_cli(workspace / "json2db_sync", "backup", preexec_fn=_limit_file_size(256 * 1024))
    assert proc.returncode == 1, proc.stdout
    flat = " ".join(proc.stderr.split())
    assert f"cannot write a backup into {folder}" in flat, proc.stderr
    assert "backup folder is full" in flat and "JSON2DB_BACKUP_DIR" in flat, proc.stderr
    assert_no_traceback(proc.stdout, proc.stderr)
    assert list(folder.iterdir()) == []  # no partial copy, no -journal
    assert checksum(loaded) == before
    assert not (loaded.parent / (loaded.name + "-journal")).exists()


def test_backup_before_operations_on_a_full_backup_disk_stops_the_sync_naming_the_folder(
    loaded: Path, workspace: Path
) -> None:
    grow(loaded, 2)
    folder = backup_dir(loaded)
    before = checksum(loaded)
    proc = run_cli(
        workspace / "json2db_sync", "sync", env={"JSON2DB_BACKUP_BEFORE_OPERATIONS": "true"},
        preexec_fn=_limit_file_size(256 * 1024),
    )
    assert proc.returncode == 1
    flat = " ".join(proc.stderr.split())
    assert f"cannot write a backup into {folder}" in flat, proc.stderr
    assert_no_traceback(proc.stdout, proc.stderr)
    assert not folder.exists() or list(folder.iterdir()) == []
    assert checksum(loaded) == before


def test_backups_are_private_from_the_first_byte(loaded: Path) -> None:
    old = os.umask(0)
    try:
        made = JSON2DBSyncRunner().create_backup()
    finally:
        os.umask(old)
    assert made["success"], made["error"]
    assert Path(made["backup_path"]).stat().st_mode & 0o777 == 0o600


def test_postgres_backups_are_renamed_when_complete_and_clear_dead_partials(backend, make_session, workspace: Path) -> None:
    if backend.kind != "postgresql":
        pytest.skip("the PostgreSQL half: pg_dump into a temporary name")
    import shutil

    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    from test_engine_matrix import T1, synced
    from test_runner import invoice

    runner = JSON2DBSyncRunner(**backend.runner_kwargs)
    make_session(T1, {"invoices": [invoice("1")]})
    synced(runner)
    first = runner.create_backup()
    assert first["success"], first["error"]
    made = Path(first["backup_path"])
    folder = made.parent
    dead = folder / f".{made.name.replace('.dump', '-9.dump')}.partial"  # what a killed pg_dump leaves
    dead.write_bytes(b"PGDMP half")
    second = runner.create_backup()
    assert second["success"], second["error"]
    names = sorted(p.name for p in folder.iterdir())
    assert not [n for n in names if n.endswith(".partial")], names
    listed = [Path(b["path"]).name for b in runner.list_backups()["backups"]]
    assert sorted(listed) == sorted(n for n in names if n.endswith(".dump"))
    assert all((folder / n).stat().st_mode & 0o077 == 0 for n in names)
