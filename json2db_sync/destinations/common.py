"""What both destinations share: one transaction per run, savepoints, the writer lock's
wait and its message, backup names and their rotation; stdlib and ``errors`` only.

A destination module (:mod:`.sqlite`, :mod:`.postgres`) supplies the engine-specific part
of each idea (an ``flock`` or an advisory lock, the SQLite backup API or ``pg_dump``);
the rules that must read the same on both (when a lock wait gives up and what it says,
how a backup is named, hidden while written, listed and pruned) are written here once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import DatabaseError, LockHeldError

logger = logging.getLogger("json2db_sync.destinations")

BACKUP_TIME_FORMAT = "%Y%m%d-%H%M%S"
# The name mark of the copy a restore takes of the state it replaces: listed with the
# backups (it can be restored by name) but never picked as "latest".
SAFETY_LABEL = "before-restore"


def utc_now_text() -> str:
    """Now as UTC ``YYYY-MM-DD HH:MM:SS``, the only time format the tool writes."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


# --- transactions ----------------------------------------------------------------------


@contextlib.contextmanager
def atomic(conn: Any, db_path: Path | str) -> Iterator[Any]:
    """One transaction, DDL included: it lands whole or not at all (on either database).
    The connection begins it (``begin_write``: SQLite explains a lock it meets there)."""
    dialect = conn.dialect
    conn.begin_write(db_path)
    try:
        yield conn
        conn.execute(dialect.COMMIT)
    except BaseException:
        conn.rolled_back()
        with contextlib.suppress(Exception):
            conn.execute(dialect.ROLLBACK)
        raise


@contextlib.contextmanager
def savepoint(conn: Any, name: str) -> Iterator[None]:
    """A nested transaction: undone alone when its block fails (used per file)."""
    dialect = conn.dialect
    conn.execute(dialect.savepoint(name))
    try:
        yield
    except BaseException:
        conn.rolled_back()
        conn.execute(dialect.rollback_to_savepoint(name))
        conn.execute(dialect.release_savepoint(name))
        raise
    conn.execute(dialect.release_savepoint(name))


# --- the writer lock ---------------------------------------------------------------------


def wait_for_lock(take: Callable[[], bool], timeout_seconds: float, describe_holder: Callable[[], str]) -> None:
    """Try ``take`` until it succeeds; after ``timeout_seconds`` (0: at once) fail with a
    LockHeldError that names the holder."""
    deadline = time.monotonic() + max(0.0, timeout_seconds)
    while not take():
        if time.monotonic() >= deadline:
            raise LockHeldError(describe_holder())
        time.sleep(0.1)


def busy_message(subject: str, lock: str, who: str, timeout_seconds: float) -> str:
    """What a run refused by the writer lock is told, on either database."""
    waited = f" after waiting {timeout_seconds:g}s" if timeout_seconds else ""
    return (
        f"{subject} is busy{waited}: another json2db_sync run holds the writer lock {lock} — {who}. "
        "Wait for it to finish, or set JSON2DB_LOCK_TIMEOUT to wait for it automatically"
    )


# --- folders and files -----------------------------------------------------------------


def ensure_folder(folder: Path) -> None:
    """Create a folder (and its parents) that nobody else may write into, whatever the
    umask: whoever can write the folder can replace the database or a backup."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(
            f"cannot create the database folder {folder}: {exc.strerror}; "
            "create it or choose another JSON2DB_DATABASE_PATH"
        ) from exc
    for created in missing:
        with contextlib.suppress(OSError):
            created.chmod(created.stat().st_mode & 0o7777 & ~0o002)


def create_private_file(path: Path) -> None:
    """Create an empty file only the owner can read: financial data never sits
    world-readable, not even while it is being copied."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    with contextlib.suppress(OSError):
        path.chmod(0o600)


# --- backups: names, the hidden partial copy, listing and rotation ------------------------


def new_backup_path(backup_dir: Path, stem: str, suffix: str, *, label: str = "") -> Path:
    """``<stem>-YYYYmmdd-HHMMSS[-<label>]<suffix>`` in a folder made safe, with ``-2``,
    ``-3``… when two backups fall in the same second (both destinations name backups
    this way)."""
    ensure_folder(backup_dir)
    remove_stale_partials(backup_dir, stem, suffix)
    stamp = datetime.now().strftime(BACKUP_TIME_FORMAT)
    mark = f"-{label}" if label else ""
    target = backup_dir / f"{stem}-{stamp}{mark}{suffix}"
    counter = 2
    while target.exists():
        target = backup_dir / f"{stem}-{stamp}-{counter}{mark}{suffix}"
        counter += 1
    return target


def partial_backup_path(target: Path) -> Path:
    """Where a backup is written before it is complete: hidden, never matched as a backup."""
    return target.with_name(f".{target.name}.partial")


def remove_stale_partials(backup_dir: Path, stem: str, suffix: str) -> None:
    """Remove what a backup killed mid-copy left (``.<stem>-….partial`` and its journal):
    backups are made under the writer lock, so no other backup of this database is under
    way, and such a file can only be a dead one."""
    pattern = re.compile(
        r"\." + re.escape(stem) + r"-\d{8}-\d{6}(?:-\d+)?(?:-[a-z-]+)?" + re.escape(suffix)
        + r"\.partial(?:-journal|-wal|-shm)?"
    )
    with contextlib.suppress(OSError):
        for leftover in backup_dir.iterdir():
            if pattern.fullmatch(leftover.name):
                with contextlib.suppress(OSError):
                    leftover.unlink()


def remove_partial_backup(partial: Path) -> None:
    """Remove an unfinished backup and whatever SQLite left beside it."""
    for leftover in (partial, *(partial.with_name(partial.name + end) for end in ("-journal", "-wal", "-shm"))):
        with contextlib.suppress(OSError):
            leftover.unlink()


def backup_folder_error(backup_dir: Path, detail: str) -> DatabaseError:
    """A backup that could not be written: the backup folder is the place to look."""
    lowered = detail.lower()
    if any(word in lowered for word in ("full", "no space", "i/o error", "too large", "quota")):
        advice = (
            "the disk of the backup folder is full (or a file-size limit was hit); free space there or "
            "set JSON2DB_BACKUP_DIR to a folder on another disk"
        )
    elif "permission" in lowered or "readonly" in lowered or "read-only" in lowered:
        advice = "the backup folder is not writable; fix its permissions or set JSON2DB_BACKUP_DIR"
    else:
        advice = "check the backup folder or set JSON2DB_BACKUP_DIR"
    return DatabaseError(
        f"cannot write a backup into {backup_dir}: {detail}; {advice}. Nothing was left there and the "
        "database was not changed"
    )


def is_safety_copy(path: Path) -> bool:
    """Whether a backup is the copy a restore took of the state it replaced."""
    return path.stem.endswith(f"-{SAFETY_LABEL}")


def backup_files(backup_dir: Path, stem: str, suffix: str) -> list[Path]:
    """Backups named by :func:`new_backup_path` for this stem (never another database's
    that shares a prefix), oldest first."""
    if not backup_dir.is_dir():
        return []
    pattern = re.compile(
        re.escape(stem) + r"-\d{8}-\d{6}(?:-\d+)?(?:-" + re.escape(SAFETY_LABEL) + ")?" + re.escape(suffix)
    )
    found = [p for p in backup_dir.iterdir() if pattern.fullmatch(p.name) and _complete(p)]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def _complete(path: Path) -> bool:
    """False for a backup that an older version left half-written under its final name
    (a rollback journal beside it): such a file is never offered."""
    beside = path.with_name(path.name + "-journal")
    try:
        return not (beside.exists() and beside.stat().st_size > 0)
    except OSError:
        return False


def prune_backup_files(backups: list[Path], *, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` (at least one) of ``backups`` (oldest first)."""
    removed = backups[: max(0, len(backups) - max(keep, 1))]
    for path in removed:
        with contextlib.suppress(OSError):
            path.unlink()
    return removed
