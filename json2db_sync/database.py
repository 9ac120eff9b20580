"""Database access: connections, the single-writer lock, one transaction per run, backups.

May import stdlib, ``errors`` and ``sql_dialect`` (and psycopg, lazily, for PostgreSQL:
see :mod:`json2db_sync.postgres_database`). Every sqlite3 error that reaches a user
passes through :func:`explain_sqlite_error`, which says what to do about it.

A *destination* is where a run writes: :class:`SQLiteDestination` (a file) or
``PostgresDestination`` (a server URL and a schema). Both open connections that carry
their SQL dialect as ``conn.dialect`` and offer the same bulk writes
(``upsert_rows``, ``insert_rows``), so the stages never ask which database they talk to.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import re
import socket
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import sql_dialect as sd
from .errors import DatabaseError, LockHeldError
from .sql_dialect import sqlite as sqlite_dialect

logger = logging.getLogger(__name__)

BACKUP_TIME_FORMAT = "%Y%m%d-%H%M%S"


def utc_now_text() -> str:
    """Now as UTC ``YYYY-MM-DD HH:MM:SS``, the only time format the tool writes."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def explain_sqlite_error(exc: sqlite3.Error, db_path: Path | str) -> DatabaseError:
    """Turn a sqlite3 error into a DatabaseError naming the file and the remedy."""
    text = str(exc)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        advice = "another program holds a write lock; close it or raise JSON2DB_LOCK_TIMEOUT"
    elif "readonly" in lowered or "read-only" in lowered:
        advice = "the file or its folder is read-only; fix the permissions or choose another JSON2DB_DATABASE_PATH"
    elif "disk is full" in lowered or "full" in lowered:
        advice = "the disk is full; free space and run again (nothing was written)"
    elif "disk i/o error" in lowered:
        advice = (
            "a write to the disk failed (disk full, a file-size limit such as `ulimit -f`, or a "
            "failing disk); free space or check the disk and run again (nothing was written)"
        )
    elif "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        advice = "the file is not a healthy SQLite database; restore a backup or point JSON2DB_DATABASE_PATH elsewhere"
    elif "unable to open" in lowered:
        advice = "the folder does not exist or is not writable; check JSON2DB_DATABASE_PATH"
    else:
        advice = "see the log for details"
    return DatabaseError(f"database {db_path}: {text}; {advice}")


class SQLiteConnection(sqlite3.Connection):
    """A sqlite3 connection that knows its dialect and the bulk writes the populator uses."""

    dialect = sqlite_dialect
    kind = "sqlite"

    def upsert_rows(
        self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]], *, newest_wins: bool = False
    ) -> None:
        """Insert rows, or update the columns they carry where the id exists."""
        self.executemany(sqlite_dialect.upsert_main(table, columns, newest_wins), rows)

    def insert_rows(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        self.executemany(sqlite_dialect.insert_rows(table, columns), rows)

    def delete_children(self, table: str, parent_ids: list[str]) -> None:
        """Delete the child rows of these parents (in chunks: SQLite binds at most 999)."""
        for start in range(0, len(parent_ids), 900):
            chunk = parent_ids[start : start + 900]
            self.execute(sqlite_dialect.delete_children(table, len(chunk)), chunk)

    def schema_changed(self) -> None:
        """Nothing is cached per table shape here (PostgreSQL keeps staging tables)."""

    def rolled_back(self) -> None:
        """Nothing to forget before a rollback (see PostgresConnection.rolled_back)."""


def connect(
    db_path: Path, *, readonly: bool = False, create: bool = True, busy_timeout: float = 5.0
) -> SQLiteConnection:
    """Open a connection in autocommit mode (transactions are explicit, see :func:`atomic`).

    A read-only connection never creates the file. ``busy_timeout`` is how long SQLite
    waits for another program's write lock before failing with "database is locked".
    """
    refuse_folder_as_database(db_path)
    try:
        if readonly:
            if not db_path.exists():
                raise DatabaseError(
                    f"database {db_path} does not exist yet; run a population or the full "
                    "workflow first, or check JSON2DB_DATABASE_PATH"
                )
            conn = sqlite3.connect(
                f"{db_path.resolve().as_uri()}?mode=ro",
                uri=True,
                isolation_level=None,
                timeout=busy_timeout,
                factory=SQLiteConnection,
            )
        else:
            if create:
                _ensure_folder(db_path.parent)
            # a statement per (table, column set): keep plenty prepared (default 128)
            conn = sqlite3.connect(
                str(db_path),
                isolation_level=None,
                timeout=busy_timeout,
                cached_statements=1024,
                factory=SQLiteConnection,
            )
            _restrict_permissions(db_path)
        for pragma in sd.PRAGMAS_ON_OPEN:
            conn.execute(pragma)
        if not readonly:
            conn.execute(sd.PRAGMA_WAL)
            conn.execute(sd.PRAGMA_SYNCHRONOUS_NORMAL)
        assert isinstance(conn, SQLiteConnection)
        return conn
    except sqlite3.Error as exc:
        raise explain_sqlite_error(exc, db_path) from exc


def refuse_folder_as_database(db_path: Path) -> None:
    """A database path that names a folder (``--db data/``) is a mistake to say plainly,
    before SQLite calls it a disk I/O error or a lock file appears beside it."""
    if db_path.is_dir():
        raise DatabaseError(
            f"database path {db_path} is a folder, not a database file; give the file's path "
            f"(e.g. {db_path / 'production.db'}) with --db or JSON2DB_DATABASE_PATH"
        )


def _ensure_folder(folder: Path) -> None:
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


def _restrict_permissions(path: Path) -> None:
    """Databases hold financial data: never world-writable (nor world-readable when new)."""
    with contextlib.suppress(OSError):
        mode = path.stat().st_mode & 0o777
        if mode & 0o002:
            path.chmod(mode & ~0o002)


@contextlib.contextmanager
def open_connection(
    db_path: Path, *, readonly: bool = False, busy_timeout: float = 5.0
) -> Iterator[SQLiteConnection]:
    """A connection that is always closed (``with conn:`` alone would not close it)."""
    conn = connect(db_path, readonly=readonly, busy_timeout=busy_timeout)
    try:
        yield conn
    finally:
        conn.close()


@contextlib.contextmanager
def atomic(conn: Any, db_path: Path | str) -> Iterator[Any]:
    """One transaction, DDL included: it lands whole or not at all (on either database)."""
    dialect = conn.dialect
    try:
        conn.execute(dialect.BEGIN_WRITE)
    except sqlite3.Error as exc:
        raise explain_sqlite_error(exc, db_path) from exc
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


@dataclass(frozen=True, slots=True)
class LockHolder:
    pid: int
    host: str
    started_at: str
    operation: str


def lock_path_for(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


@contextlib.contextmanager
def writer_lock(db_path: Path, *, operation: str, timeout_seconds: float = 0) -> Iterator[None]:
    """The single-writer lock: an flock on ``<db>.lock`` that the OS drops when the
    process dies, so a killed run never leaves a stale lock.

    A second run fails at once (or after ``timeout_seconds``) naming the holder.
    """
    refuse_folder_as_database(db_path)
    path = lock_path_for(db_path)
    _ensure_folder(path.parent)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
    except OSError as exc:
        raise DatabaseError(
            f"cannot open the lock file {path}: {exc.strerror}; check the folder's permissions"
        ) from exc
    try:
        _acquire(fd, path, timeout_seconds)
        holder = LockHolder(os.getpid(), socket.gethostname(), utc_now_text(), operation)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_holder_dict(holder)).encode(), 0)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder_dict(holder: LockHolder) -> dict[str, object]:
    return {"pid": holder.pid, "host": holder.host, "started_at": holder.started_at, "operation": holder.operation}


def _acquire(fd: int, path: Path, timeout_seconds: float) -> None:
    deadline = time.monotonic() + max(0.0, timeout_seconds)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise DatabaseError(f"cannot lock {path}: {exc.strerror}") from exc
        if time.monotonic() >= deadline:
            raise LockHeldError(_describe_holder(fd, path, timeout_seconds))
        time.sleep(0.1)


def _read_holder(fd: int) -> dict[str, object]:
    """The holder's note in the lock file. It writes the note just after taking the lock,
    so a run refused at that very moment reads an empty file: it looks again for up to
    half a second before it gives up on naming the holder."""
    for _ in range(10):
        try:
            raw = os.pread(fd, 4096, 0)
            info = json.loads(raw.decode() or "{}")
        except (OSError, ValueError):
            info = {}  # half-written: look again
        if info:
            return info
        time.sleep(0.05)
    return {}


def _describe_holder(fd: int, path: Path, timeout_seconds: float) -> str:
    info = _read_holder(fd)
    who = (
        f"process {info.get('pid', '?')} on {info.get('host', '?')} "
        f"({info.get('operation', 'a run')} since {info.get('started_at', '?')} UTC)"
    )
    waited = f" after waiting {timeout_seconds:g}s" if timeout_seconds else ""
    return (
        f"database {path.with_suffix('')} is busy{waited}: another json2db_sync run holds "
        f"the writer lock {path} — {who}. Wait for it to finish, or set "
        "JSON2DB_LOCK_TIMEOUT to wait for it automatically"
    )


# --- backups ----------------------------------------------------------------------


def backup_database(db_path: Path, backup_dir: Path, *, keep: int, label: str = "") -> Path | None:
    """Copy the database with SQLite's online backup API; keep the newest ``keep``.

    ``label`` marks a backup in its name (``SAFETY_LABEL``: the copy a restore takes of
    the state it replaces).

    The copy is written under a private temporary name (``.<name>.partial``, mode 0600
    from the start) and renamed to its final name only once it is complete and passes
    ``integrity_check``: a backup killed or failing mid-copy is never listed nor restored,
    and a failure leaves nothing behind. Returns None when there is nothing to back up yet.
    """
    refuse_folder_as_database(db_path)
    if not db_path.exists() or db_path.stat().st_size == 0:
        return None
    target = new_backup_path(backup_dir, db_path.stem, ".db", label=label)
    partial = partial_backup_path(target)
    try:
        create_private_file(partial)
    except OSError as exc:
        raise backup_folder_error(backup_dir, exc.strerror or str(exc)) from exc
    try:
        with open_connection(db_path, readonly=True) as source:
            try:
                with contextlib.closing(sqlite3.connect(str(partial), isolation_level=None)) as dest:
                    source.backup(dest)
                    dest.execute(sd.PRAGMA_JOURNAL_DELETE)  # a self-contained file: no -wal/-shm
                _check_backup_file(partial)
                os.replace(partial, target)
            except sqlite3.Error as exc:
                raise backup_folder_error(backup_dir, str(exc)) from exc
            except OSError as exc:
                raise backup_folder_error(backup_dir, exc.strerror or str(exc)) from exc
    finally:
        remove_partial_backup(partial)
    logger.info("backup written to %s", target)
    prune_backups(db_path, backup_dir, keep=keep)
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


def create_private_file(path: Path) -> None:
    """Create an empty file only the owner can read: financial data never sits
    world-readable, not even while it is being copied."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    with contextlib.suppress(OSError):
        path.chmod(0o600)


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


def _check_backup_file(path: Path) -> int:
    """``integrity_check`` and the number of tables of a SQLite file (read-only); a
    DatabaseError naming the file when it is not a complete, healthy database."""
    for end in ("-journal", "-wal"):
        beside = path.with_name(path.name + end)
        if beside.exists() and beside.stat().st_size > 0:
            raise DatabaseError(
                f"backup {path} is incomplete: {beside.name} lies beside it (the copy was interrupted); "
                "pick another backup"
            )
    try:
        with contextlib.closing(
            sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
        ) as conn:
            verdict = conn.execute(sd.PRAGMA_INTEGRITY_CHECK).fetchone()
            tables = conn.execute(sd.COUNT_TABLES).fetchone()[0]
    except sqlite3.Error as exc:
        raise DatabaseError(f"backup {path} is not a readable SQLite database ({exc}); pick another backup") from exc
    if verdict is None or verdict[0] != "ok":
        raise DatabaseError(
            f"backup {path} fails SQLite's integrity check ({verdict[0] if verdict else 'no answer'}); "
            "pick another backup"
        )
    return int(tables)


def verify_backup(backup: Path) -> int:
    """Check a backup before a restore replaces anything with it: complete (no journal
    beside it), healthy (``integrity_check``) and holding at least one table. Returns
    the number of tables."""
    if not backup.is_file():
        raise DatabaseError(f"backup {backup} does not exist; list the backups and pick one")
    tables = _check_backup_file(backup)
    if tables == 0:
        raise DatabaseError(
            f"backup {backup} holds no tables (an empty or incomplete copy); restoring it would empty the "
            "database: pick another backup"
        )
    return tables


# The name mark of the copy a restore takes of the state it replaces: listed with the
# backups (it can be restored by name) but never picked as "latest".
SAFETY_LABEL = "before-restore"


def new_backup_path(backup_dir: Path, stem: str, suffix: str, *, label: str = "") -> Path:
    """``<stem>-YYYYmmdd-HHMMSS[-<label>]<suffix>`` in a folder made safe, with ``-2``,
    ``-3``… when two backups fall in the same second (both destinations name backups
    this way)."""
    _ensure_folder(backup_dir)
    remove_stale_partials(backup_dir, stem, suffix)
    stamp = datetime.now().strftime(BACKUP_TIME_FORMAT)
    mark = f"-{label}" if label else ""
    target = backup_dir / f"{stem}-{stamp}{mark}{suffix}"
    counter = 2
    while target.exists():
        target = backup_dir / f"{stem}-{stamp}-{counter}{mark}{suffix}"
        counter += 1
    return target


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


def list_backups(db_path: Path, backup_dir: Path) -> list[Path]:
    """Backups of this SQLite database (``<stem>-YYYYmmdd-HHMMSS[-n].db``), oldest first."""
    return backup_files(backup_dir, db_path.stem, ".db")


def prune_backups(db_path: Path, backup_dir: Path, *, keep: int) -> list[Path]:
    return prune_backup_files(list_backups(db_path, backup_dir), keep=keep)


def restore_backup(backup: Path, db_path: Path) -> None:
    """Copy a backup over the database with the backup API (under the writer lock),
    once :func:`verify_backup` has found it complete and healthy."""
    verify_backup(backup)
    try:
        with open_connection(backup, readonly=True) as source, contextlib.closing(
            sqlite3.connect(str(db_path), isolation_level=None)
        ) as dest:
            source.backup(dest)
    except sqlite3.Error as exc:
        raise explain_sqlite_error(exc, db_path) from exc


# --- destinations ---------------------------------------------------------------------


@dataclass(frozen=True)
class SQLiteDestination:
    """A SQLite file: the embedded default destination."""

    path: Path
    kind: str = "sqlite"

    @property
    def label(self) -> str:
        """How results and views name the destination (for SQLite: the file path)."""
        return str(self.path)

    def describe(self) -> str:
        return f"SQLite {self.path}"

    def exists(self) -> bool:
        return self.path.exists()

    def open(self, *, readonly: bool = False, busy_timeout: float = 5.0) -> contextlib.AbstractContextManager[Any]:
        return open_connection(self.path, readonly=readonly, busy_timeout=busy_timeout)

    def writer_lock(self, *, operation: str, timeout_seconds: float = 0) -> contextlib.AbstractContextManager[None]:
        return writer_lock(self.path, operation=operation, timeout_seconds=timeout_seconds)

    def default_backup_dir(self) -> Path:
        return self.path.parent / "backups"

    def backup(self, backup_dir: Path, *, keep: int, label: str = "") -> Path | None:
        return backup_database(self.path, backup_dir, keep=keep, label=label)

    def list_backups(self, backup_dir: Path) -> list[Path]:
        return list_backups(self.path, backup_dir)

    def restore(self, backup: Path) -> None:
        restore_backup(backup, self.path)

    def size_bytes(self, conn: Any) -> int | None:
        """The file plus its write-ahead log (what the data takes on disk)."""
        total = 0
        for path in (self.path, self.path.with_name(self.path.name + "-wal")):
            with contextlib.suppress(OSError):
                total += path.stat().st_size
        return total
