"""The PostgreSQL destination: connections, the advisory writer lock, bulk writes, pg_dump backups.

May import stdlib, ``errors``, ``sql_dialect``, :mod:`.common` and :mod:`.urls` (URL
redaction); psycopg 3 is imported only when a PostgreSQL destination is opened, so SQLite
users never need it. Every psycopg error that reaches a user passes through
:func:`explain_postgres_error`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shlex
import shutil
import socket
import subprocess
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from ..errors import ConfigError, DatabaseError
from ..sql_dialect import postgres as pg
from ..sql_dialect.protocol import Dialect
from .common import (
    backup_files,
    backup_folder_error,
    busy_message,
    create_private_file,
    new_backup_path,
    partial_backup_path,
    prune_backup_files,
    remove_partial_backup,
    wait_for_lock,
)
from .urls import redact_url

logger = logging.getLogger("json2db_sync.postgres_database")

INSTALL_HINT = "pip install 'json2db_sync[postgres]'"
MIN_WRITE_LOCK_WAIT = 3.0  # seconds a writing connection waits for a table lock, at least
# First key of the advisory lock: "J2DB" in ASCII, fits a signed int4.
LOCK_CLASS = 0x4A324442 & 0x7FFFFFFF


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ConfigError(
            "a PostgreSQL destination needs the psycopg driver, which is not installed; "
            f"install it with {INSTALL_HINT} (or unset JSON2DB_DATABASE_URL / database.url to use SQLite)"
        ) from None
    return psycopg


def url_secrets(url: str) -> tuple[str, ...]:
    """The password of a URL as written and decoded, from its user part or its query
    (``?password=``): what must never reach a message."""
    parts = urlsplit(url)
    found = []
    if parts.password:
        found += [parts.password, unquote(parts.password)]
    for key, value in parse_qsl(parts.query, keep_blank_values=False):
        if key == "password" and value:
            found += [value, quote(value)]
    return tuple(sorted({s for s in found if s}, key=len, reverse=True))


def explain_postgres_error(exc: Exception, where: str, secrets: tuple[str, ...] = ()) -> DatabaseError:
    """Turn a psycopg error into a DatabaseError naming the server and the remedy (libpq
    may quote the connection string back: any password in it is masked)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    for secret in secrets:
        text = text.replace(secret, "***")
    sqlstate = getattr(exc, "sqlstate", None) or ""
    lowered = text.lower()
    if sqlstate == "55P03" or "lock timeout" in lowered:
        advice = "another program holds a lock on these tables; wait for it or raise JSON2DB_LOCK_TIMEOUT"
    elif sqlstate.startswith("28") or "password" in lowered or "authentication" in lowered or (
        "role" in lowered and "does not exist" in lowered
    ):
        advice = "the server refused the credentials; check the user and password in the database URL (JSON2DB_DATABASE_URL, database.url or --db-url)"
    elif sqlstate == "3D000" or ("database" in lowered and "does not exist" in lowered):
        advice = "the database does not exist; create it (createdb) or fix the name in the database URL"
    elif sqlstate == "54000" or "row is too big" in lowered:
        advice = (
            "a record is wider than one PostgreSQL row (8 kB) even within the column limit; report "
            "the file, or load it into SQLite, which has no such limit"
        )
    elif sqlstate == "2BP01":
        advice = "other objects (views) depend on a json_* table; drop or change them first, then run again"
    elif sqlstate.startswith("42501") or "permission denied" in lowered:
        advice = "the user lacks a privilege on this database or schema; grant it or use another user"
    elif sqlstate == "53100" or "no space left" in lowered:
        advice = "the server's disk is full; free space and run again (nothing was written)"
    elif "connection" in lowered or "could not" in lowered or sqlstate.startswith("08"):
        advice = "check that the server runs and that host, port and database in the database URL (JSON2DB_DATABASE_URL, database.url or --db-url) are right"
    elif "0x00" in lowered or "\\u0000" in lowered:
        advice = "PostgreSQL text cannot hold the NUL character (\\u0000); remove it from the source data"
    else:
        advice = "see the log for details"
    return DatabaseError(f"PostgreSQL {where}: {text}; {advice}")


def _bool_as_int_dumper(psycopg: Any) -> type:
    """Booleans are stored as 0/1 in BIGINT columns, as on SQLite (one logical type
    for both), so COPY and parameters must send them as numbers."""
    from psycopg.adapt import Dumper

    int8 = psycopg.adapters.types["int8"].oid

    class BoolAsInt(Dumper):
        oid = int8

        def dump(self, obj: bool) -> bytes:
            return b"1" if obj else b"0"

    return BoolAsInt


def _password_to_environment(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password (user part or ``?password=``), and an environment
    that carries it as PGPASSWORD: never on a command line others can read."""
    parts = urlsplit(url)
    env = dict(os.environ)
    netloc = parts.netloc
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
        credentials, _, host = netloc.rpartition("@")
        netloc = f"{credentials.split(':', 1)[0]}@{host}"
    query = parse_qsl(parts.query, keep_blank_values=True)
    for key, value in query:
        if key == "password":
            env["PGPASSWORD"] = value
    kept = urlencode([(k, v) for k, v in query if k != "password"])
    return urlunsplit((parts.scheme, netloc, parts.path, kept, parts.fragment)), env


class PostgresConnection:
    """One psycopg connection in autocommit mode (transactions are explicit, as on
    SQLite), with the SQLite connection's ``execute``/``executemany`` and bulk writes
    through ``COPY``."""

    kind = "postgresql"
    dialect: Dialect = pg
    # Larger chunks than SQLite's: every batch costs the server a few statements (a 100,000-
    # invoice populate: 24.8 s wall with 2 MiB, 26.7-27.2 s with 512 KiB).
    read_chunk_bytes: int | None = 2 * 1024 * 1024

    def __init__(self, raw: Any, where: str, secrets: tuple[str, ...] = ()) -> None:
        self.raw = raw
        self.where = where
        self.secrets = secrets
        self._psycopg = _psycopg()
        self._stages: dict[tuple[str, tuple[str, ...]], str] = {}
        self._stage_count = 0

    # --- the sqlite3-like surface ---------------------------------------------------

    def execute(self, sql: str, params: Any = None) -> Any:
        try:
            return self.raw.execute(sql, params)
        except self._psycopg.Error as exc:
            raise explain_postgres_error(exc, self.where, self.secrets) from exc

    def executemany(self, sql: str, rows: Any) -> None:
        try:
            with self.raw.cursor() as cursor:
                cursor.executemany(sql, list(rows))
        except self._psycopg.Error as exc:
            raise explain_postgres_error(exc, self.where, self.secrets) from exc

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.raw.close()

    def begin_write(self, db_path: Path | str) -> None:
        """Begin the run's transaction (errors are explained by :meth:`execute`)."""
        self.execute(pg.BEGIN_WRITE)

    # --- bulk writes -------------------------------------------------------------------

    def insert_rows(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        """Plain inserts through ``COPY`` (new records, child rows)."""
        self._copy(pg.copy_rows(table, columns), rows)

    def delete_children(self, table: str, parent_ids: list[str]) -> None:
        """One statement with the ids as one array: its text never changes, so the server
        keeps a plan that uses the (parent_id, position) index, even on tables created in
        this very run, whose statistics are still empty."""
        if parent_ids:
            self.execute(pg.delete_children_of(table), (parent_ids,))

    def upsert_rows(
        self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]], *, newest_wins: bool = False
    ) -> None:
        """``COPY`` into a staging table shaped like the columns, then one
        ``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` (the ids of ``rows`` are unique)."""
        stage = self._stage(table, columns)
        self._copy(pg.copy_rows(stage, columns), rows)
        self.execute(pg.upsert_from_stage(table, stage, columns, newest_wins))
        self.execute(pg.clear_stage(stage))

    def _stage(self, table: str, columns: tuple[str, ...]) -> str:
        key = (table, columns)
        stage = self._stages.get(key)
        if stage is None:
            self._stage_count += 1
            stage = pg.stage_name(self._stage_count)
            self.execute(pg.create_stage(stage, table, columns))
            self._stages[key] = stage
        return stage

    def _copy(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        try:
            with self.raw.cursor() as cursor, cursor.copy(statement) as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
        except self._psycopg.Error as exc:
            raise explain_postgres_error(exc, self.where, self.secrets) from exc

    def schema_changed(self) -> None:
        """A table gained or retyped a column: staging tables shaped before are stale."""
        self._stages.clear()

    def rolled_back(self) -> None:
        """A rollback is about to happen: staging tables created inside the undone part
        will be gone."""
        self._stages.clear()


@dataclass(eq=False)
class PostgresDestination:
    """A schema in a PostgreSQL database, reached by URL.

    While :meth:`writer_lock` holds the lock, :meth:`open` for writing hands out the very
    connection that holds it: the run's transaction and the lock live and die together,
    so a connection the server or the network drops cannot leave a second writer free to
    start while the first still writes.
    """

    url: str
    schema: str = "public"
    kind: str = "postgresql"
    _held: PostgresConnection | None = field(default=None, repr=False)
    dialect: ClassVar[Dialect] = pg
    # The server's own tools own PostgreSQL backups: one that cannot be made (no pg_dump)
    # is a warning, and a restore is refused with the pg_restore command to run.
    backup_failure_is_fatal: ClassVar[bool] = False
    restores_backups: ClassVar[bool] = False
    file: ClassVar[Path | None] = None  # a server, not a file (Datasette cannot serve it)

    @property
    def label(self) -> str:
        """How results and views name the destination (password masked)."""
        return f"{redact_url(self.url)} (schema {self.schema})"

    def describe(self) -> str:
        return f"PostgreSQL {self.label}"

    def exists(self) -> bool:
        """Whether the schema exists (the server is asked; an unreachable one raises)."""
        conn = self._connect_raw(busy_timeout=5.0, purpose="check")
        try:
            return conn.execute(pg.SCHEMA_EXISTS, (self.schema,)).fetchone() is not None
        finally:
            conn.close()

    def _connect_raw(self, *, busy_timeout: float, purpose: str) -> PostgresConnection:
        psycopg = _psycopg()
        secrets = url_secrets(self.url)
        try:
            raw = psycopg.connect(
                self.url,
                autocommit=True,
                connect_timeout=10,
                application_name=f"json2db_sync {purpose} pid {os.getpid()} on {socket.gethostname()}"[:63],
                # a dead peer is noticed within about a minute instead of hanging the run
                keepalives=1,
                keepalives_idle=30,
                keepalives_interval=10,
                keepalives_count=3,
            )
        except psycopg.Error as exc:
            raise explain_postgres_error(exc, f"server {redact_url(self.url)}", secrets) from exc
        raw.adapters.register_dumper(bool, _bool_as_int_dumper(psycopg))
        # NUMERIC columns read back as float, as SQLite's REAL does (results stay plain JSON)
        from psycopg.types.numeric import FloatLoader

        raw.adapters.register_loader("numeric", FloatLoader)
        conn = PostgresConnection(raw, f"{redact_url(self.url)} schema {self.schema}", secrets)
        try:
            conn.execute(pg.SET_TIME_ZONE_UTC)
            conn.execute(pg.DISABLE_IDLE_TIMEOUTS)
            conn.execute(pg.SET_LOCK_TIMEOUT, (f"{int(max(busy_timeout, 0.0) * 1000)}ms",))
        except BaseException:
            conn.close()
            raise
        return conn

    def connect(self, *, readonly: bool = False, busy_timeout: float = 5.0, purpose: str = "run") -> PostgresConnection:
        """A connection whose search_path is the schema. Writing creates the schema when it
        is missing (only then: an existing schema needs no CREATE right on the database);
        reading a schema that does not exist is an error, as a missing SQLite file is."""
        conn = self._connect_raw(busy_timeout=busy_timeout, purpose=purpose)
        try:
            if conn.execute(pg.SCHEMA_EXISTS, (self.schema,)).fetchone() is None:
                if readonly:
                    raise DatabaseError(
                        f"schema {self.schema} does not exist in {redact_url(self.url)} yet; run a "
                        "population or the full workflow first, or check JSON2DB_DATABASE_SCHEMA"
                    )
                self._create_schema(conn)
            conn.execute(pg.SET_SEARCH_PATH, (pg.search_path_value(self.schema),))
        except BaseException:
            conn.close()
            raise
        return conn

    def _create_schema(self, conn: PostgresConnection) -> None:
        """CREATE SCHEMA IF NOT EXISTS is not safe against a second run doing the same at
        the same moment (one of them fails on pg_namespace's unique index): whoever loses
        finds the schema there, which is all it wanted."""
        try:
            conn.execute(pg.create_schema(self.schema))
        except DatabaseError:
            if conn.execute(pg.SCHEMA_EXISTS, (self.schema,)).fetchone() is None:
                raise

    @contextlib.contextmanager
    def open(self, *, readonly: bool = False, busy_timeout: float = 5.0) -> Iterator[PostgresConnection]:
        if not readonly:
            # autovacuum gives way to a waiting lock after deadlock_timeout (1 s by default):
            # wait longer than that, or a run after a big load fails against it
            busy_timeout = max(busy_timeout, MIN_WRITE_LOCK_WAIT)
        held = self._held
        if held is not None and not readonly:
            held.execute(pg.SET_LOCK_TIMEOUT, (f"{int(max(busy_timeout, 0.0) * 1000)}ms",))
            yield held  # the lock's own connection; closed when the lock is released
            return
        conn = self.connect(readonly=readonly, busy_timeout=busy_timeout)
        try:
            yield conn
        finally:
            conn.close()

    def lock_key(self) -> tuple[int, int]:
        return LOCK_CLASS, zlib.crc32(self.schema.encode()) & 0x7FFFFFFF

    @contextlib.contextmanager
    def writer_lock(self, *, operation: str, timeout_seconds: float = 0) -> Iterator[None]:
        """The single-writer lock: a session advisory lock per schema, which the server
        drops with the connection when the process dies (no stale lock after a kill).
        The run writes through that same connection (see :meth:`open`)."""
        conn = self.connect(purpose=operation)
        key = self.lock_key()
        try:
            wait_for_lock(
                lambda: bool(conn.execute(pg.TRY_ADVISORY_LOCK, key).fetchone()[0]),
                timeout_seconds,
                lambda: self._describe_holder(conn, key, timeout_seconds),
            )
            logger.debug("writer lock %s taken for %s", key, operation)
            self._held = conn
            try:
                yield
            finally:
                self._held = None
            with contextlib.suppress(DatabaseError):
                conn.execute(pg.ADVISORY_UNLOCK, key)
        finally:
            conn.close()

    def _describe_holder(self, conn: PostgresConnection, key: tuple[int, int], timeout_seconds: float) -> str:
        row = conn.execute(pg.ADVISORY_LOCK_HOLDER, key).fetchone()
        if row is not None:
            pid, app, client, started = row
            who = f"server process {pid} ({app or 'unnamed client'} from {client or 'a local socket'}, since {started})"
        else:
            who = "a run that has just finished or is starting"
        return busy_message(self.describe(), f"(advisory lock {key[0]}, {key[1]})", who, timeout_seconds)

    # --- backups ---------------------------------------------------------------------

    def default_backup_dir(self) -> Path:
        return Path.cwd() / "backups"

    def backup_dir_for(self, configured_dir: Path, configured_database: Path) -> Path:
        """PostgreSQL's dumps always go to the configured backup folder."""
        return configured_dir

    def _backup_stem(self) -> str:
        """``<database>-<schema>``, made safe for a file name; when that changed anything,
        a short hash keeps two destinations (schemas ``a.b`` and ``a_b``) apart."""
        database = urlsplit(self.url).path.lstrip("/") or "postgres"
        raw = f"{database}-{self.schema}"
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in raw)
        if safe != raw:
            safe += "-" + hashlib.sha1(raw.encode()).hexdigest()[:6]
        return safe

    def backup(self, backup_dir: Path, *, keep: int, label: str = "") -> Path | None:
        """``pg_dump`` of the schema (custom format) when pg_dump is on PATH; otherwise a
        DatabaseError saying that the server's own backup tools are the way."""
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            raise DatabaseError(
                f"cannot back up {self.describe()}: pg_dump is not on PATH. PostgreSQL backups belong "
                "to the server's own tools (pg_dump, pg_basebackup, your provider's snapshots); "
                "install the PostgreSQL client tools or turn JSON2DB_BACKUP_BEFORE_OPERATIONS off"
            )
        target = new_backup_path(backup_dir, self._backup_stem(), ".dump", label=label)
        # Written under a private temporary name and renamed when pg_dump has finished:
        # an interrupted dump is never listed as a backup (see destinations.sqlite.backup_database).
        partial = partial_backup_path(target)
        # --schema takes a pattern: quoted as an identifier, the name is matched exactly
        # (case, '.', '*' and all)
        schema = pg.quote_identifier(self.schema)
        command = [pg_dump, "--format=custom", f"--schema={schema}", f"--file={partial}", "--no-password"]
        url, env = _password_to_environment(self.url)  # never on a command line others can read
        try:
            create_private_file(partial)
            completed = subprocess.run(
                [*command, "--dbname", url], capture_output=True, text=True, check=False, env=env
            )
            if completed.returncode != 0:
                detail = " ".join(completed.stderr.replace(self.url, redact_url(self.url)).split())
                if "could not write" in detail.lower() or "no space" in detail.lower():
                    raise backup_folder_error(backup_dir, detail)
                raise DatabaseError(f"pg_dump of {self.describe()} failed: {detail}")
            os.replace(partial, target)
        except OSError as exc:
            raise backup_folder_error(backup_dir, exc.strerror or str(exc)) from exc
        finally:
            remove_partial_backup(partial)
        logger.info("backup written to %s", target)
        prune_backup_files(self.list_backups(backup_dir), keep=keep)
        return target

    def list_backups(self, backup_dir: Path) -> list[Path]:
        return backup_files(backup_dir, self._backup_stem(), ".dump")

    def restore(self, backup: Path) -> None:
        raise DatabaseError(
            f"json2db_sync does not restore PostgreSQL backups itself: restoring replaces what other "
            f"users of the server see, so do it with the server's tools, e.g. "
            f"`pg_restore --clean --if-exists --schema={shlex.quote(pg.quote_identifier(self.schema))} "
            f"--dbname=<url> {shlex.quote(str(backup))}`"
        )

    def size_bytes(self, conn: Any) -> int | None:
        row = conn.execute(pg.SCHEMA_SIZE).fetchone()
        return int(row[0]) if row and row[0] is not None else None

