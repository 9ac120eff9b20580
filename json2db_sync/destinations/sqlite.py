"""The SQLite destination: connections, pragmas, the ``flock`` writer lock, backups.

May import stdlib, ``errors``, ``sql_dialect`` and :mod:`.common`. Every sqlite3 error
that reaches a user passes through :func:`explain_sqlite_error`, which says what to do
about it.

:class:`SQLiteDestination` (a file) is one of the two :class:`~.base.Destination`
implementations (the other: :mod:`.postgres`). Its connections carry their SQL dialect as
``conn.dialect`` and offer the same bulk writes as PostgreSQL's (``upsert_rows``,
``insert_rows``), so the stages never ask which database they talk to.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ..errors import DatabaseError
from ..sql_dialect import sqlite as sqlite_dialect
from ..sql_dialect.protocol import Dialect
from .common import (
    backup_files,
    backup_folder_error,
    busy_message,
    create_private_file,
    ensure_folder,
    new_backup_path,
    partial_backup_path,
    prune_backup_files,
    remove_partial_backup,
    utc_now_text,
    wait_for_lock,
)

logger = logging.getLogger("json2db_sync.database")


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

    dialect: Dialect = sqlite_dialect
    kind = "sqlite"
    # The reader's own small chunks (reader.chunked.CHUNK_TARGET): the parsed records are
    # still in the processor's cache when SQLite gets them.
    read_chunk_bytes: int | None = None

    def begin_write(self, db_path: Path | str) -> None:
        """Begin the run's transaction (taking SQLite's write lock at once)."""
        try:
            self.execute(sqlite_dialect.BEGIN_WRITE)
        except sqlite3.Error as exc:
            raise explain_sqlite_error(exc, db_path) from exc

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
                ensure_folder(db_path.parent)
            # a statement per (table, column set): keep plenty prepared (default 128)
            conn = sqlite3.connect(
                str(db_path),
                isolation_level=None,
                timeout=busy_timeout,
                cached_statements=1024,
                factory=SQLiteConnection,
            )
            _restrict_permissions(db_path)
        for pragma in sqlite_dialect.PRAGMAS_ON_OPEN:
            conn.execute(pragma)
        if not readonly:
            conn.execute(sqlite_dialect.PRAGMA_WAL)
            conn.execute(sqlite_dialect.PRAGMA_SYNCHRONOUS_NORMAL)
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
    ensure_folder(path.parent)
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
    wait_for_lock(lambda: _try_flock(fd, path), timeout_seconds, lambda: _describe_holder(fd, path, timeout_seconds))


def _try_flock(fd: int, path: Path) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno not in (errno.EAGAIN, errno.EACCES):
            raise DatabaseError(f"cannot lock {path}: {exc.strerror}") from exc
    return False


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
        if isinstance(info, dict) and info:
            return info
        time.sleep(0.05)
    return {}


def _describe_holder(fd: int, path: Path, timeout_seconds: float) -> str:
    info = _read_holder(fd)
    who = (
        f"process {info.get('pid', '?')} on {info.get('host', '?')} "
        f"({info.get('operation', 'a run')} since {info.get('started_at', '?')} UTC)"
    )
    return busy_message(f"database {path.with_suffix('')}", str(path), who, timeout_seconds)


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
                    dest.execute(sqlite_dialect.PRAGMA_JOURNAL_DELETE)  # a self-contained file: no -wal/-shm
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
            verdict = conn.execute(sqlite_dialect.PRAGMA_INTEGRITY_CHECK).fetchone()
            tables = conn.execute(sqlite_dialect.COUNT_TABLES).fetchone()[0]
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
    dialect: ClassVar[Dialect] = sqlite_dialect
    # A backup that cannot be made stops a writing run (the file is all there is).
    backup_failure_is_fatal: ClassVar[bool] = True
    restores_backups: ClassVar[bool] = True

    @property
    def file(self) -> Path | None:
        """The file that holds the database (what Datasette serves)."""
        return self.path

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

    def backup_dir_for(self, configured_dir: Path, configured_database: Path) -> Path:
        """Where this file's backups go: the configured folder for the configured
        database, else the folder beside this file (a ``--db`` other file keeps its
        backups apart)."""
        return configured_dir if self.path == configured_database else self.default_backup_dir()

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
