"""The tool's own tables (``_json2db_*``) and the statements that read and write them,
specified once; stdlib only.

Both dialects build their ``internal`` statements (DDL and ledger) from
:class:`InternalSQL`, handing in only what they spell differently: the type words
(:class:`InternalTypes`), the parameter placeholder, how a row replaces another with the
same key, and how a name is tested for the ``json_`` prefix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .shared import (
    COLUMNS_TABLE,
    FILES_TABLE,
    FOLDERS_TABLE,
    REJECTED_TABLE,
    RUNS_TABLE,
    STATE_TABLE,
    TABLES_TABLE,
    placeholders,
)

# The type words of the specification below; each dialect says what they are.
TEXT_T, INT_T, REAL_T, FLAG_T, SERIAL_T = "text", "integer", "real", "flag", "serial"


@dataclass(frozen=True, slots=True)
class InternalTypes:
    """A dialect's declarations for the specification's type words."""

    integer: str  # counts and sizes (SQLite INTEGER, PostgreSQL BIGINT)
    real: str  # modification times (SQLite REAL, PostgreSQL DOUBLE PRECISION)
    serial: str  # a generated key, PRIMARY KEY included
    text: str = "TEXT"
    flag: str = "INTEGER"  # 0/1

    def word(self, kind: str) -> str:
        return {TEXT_T: self.text, INT_T: self.integer, REAL_T: self.real, FLAG_T: self.flag, SERIAL_T: self.serial}[kind]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: str
    rest: str = ""  # constraints after the type (NOT NULL, PRIMARY KEY, DEFAULT ...)


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # a PRIMARY KEY over several columns
    indexes: tuple[str, ...] = ()  # one-column indexes made with the table

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _c(name: str, kind: str, rest: str = "") -> Column:
    return Column(name, kind, rest)


# The specification: every internal table, its columns in order, in creation order.
TABLES: tuple[Table, ...] = (
    Table(
        FILES_TABLE,
        (
            _c("path", TEXT_T, "PRIMARY KEY"),
            _c("sha256", TEXT_T, "NOT NULL"),
            _c("size", INT_T, "NOT NULL"),
            _c("mtime", REAL_T, "NOT NULL"),
            _c("entity", TEXT_T, "NOT NULL"),
            _c("session", TEXT_T),
            _c("data_timestamp", TEXT_T),
            _c("records", INT_T, "NOT NULL"),
            _c("loaded_at", TEXT_T, "NOT NULL"),
            _c("ctime_ns", INT_T),
        ),
        indexes=("sha256",),
    ),
    Table(
        RUNS_TABLE,
        (
            _c("run_id", SERIAL_T),
            _c("operation", TEXT_T, "NOT NULL"),
            _c("started_at", TEXT_T, "NOT NULL"),
            _c("finished_at", TEXT_T),
            _c("status", TEXT_T, "NOT NULL"),
            _c("statistics", TEXT_T),
            _c("error", TEXT_T),
        ),
    ),
    Table(
        REJECTED_TABLE,
        (
            _c("rejected_id", SERIAL_T),
            _c("entity", TEXT_T, "NOT NULL"),
            _c("source_file", TEXT_T),
            _c("reason", TEXT_T, "NOT NULL"),
            _c("raw_json", TEXT_T),
            _c("rejected_at", TEXT_T, "NOT NULL"),
        ),
    ),
    Table(
        COLUMNS_TABLE,
        (
            _c("table_name", TEXT_T, "NOT NULL"),
            _c("json_path", TEXT_T, "NOT NULL"),
            _c("column_name", TEXT_T, "NOT NULL"),
            _c("sql_type", TEXT_T, "NOT NULL"),
            _c("kinds", TEXT_T, "NOT NULL DEFAULT ''"),
            _c("is_json_array", FLAG_T, "NOT NULL DEFAULT 0"),
        ),
        key=("table_name", "json_path"),
    ),
    Table(
        FOLDERS_TABLE,
        (
            _c("path", TEXT_T, "PRIMARY KEY"),
            _c("folder_time", TEXT_T),
            _c("fingerprint", TEXT_T, "NOT NULL"),
            _c("settled_at", TEXT_T, "NOT NULL"),
        ),
    ),
    Table(STATE_TABLE, (_c("key", TEXT_T, "PRIMARY KEY"), _c("value", TEXT_T))),
    Table(
        TABLES_TABLE,
        (
            _c("table_name", TEXT_T, "PRIMARY KEY"),
            _c("entity", TEXT_T, "NOT NULL"),
            _c("parent_table", TEXT_T),
            _c("field", TEXT_T),
            _c("id_field", TEXT_T),
        ),
    ),
)

# The ledger grows with the history: the oldest and newest times and the session count a
# nightly run asks for are read from these indexes, not from every row. (Created after the
# internal tables are brought up to date: an old ledger may lack data_timestamp before.)
LEDGER_INDEXES = ("data_timestamp", "session", "loaded_at")


def _index(table: str, column: str) -> str:
    return f"CREATE INDEX IF NOT EXISTS {table}_{column} ON {table} ({column})"


def _column_ddl(column: Column, types: InternalTypes) -> str:
    return " ".join(part for part in (column.name, types.word(column.kind), column.rest) if part)


def create_table(table: Table, types: InternalTypes) -> str:
    lines = [_column_ddl(c, types) for c in table.columns]
    if table.key:
        lines.append(f"PRIMARY KEY ({', '.join(table.key)})")
    body = ",\n    ".join(lines)
    return f"CREATE TABLE IF NOT EXISTS {table.name} (\n    {body}\n)"


def tables_ddl(types: InternalTypes) -> tuple[str, ...]:
    """Every internal table (and the indexes made with it), in creation order."""
    statements: list[str] = []
    for table in TABLES:
        statements.append(create_table(table, types))
        statements += [_index(table.name, column) for column in table.indexes]
    return tuple(statements)


def ledger_indexes_ddl() -> tuple[str, ...]:
    return tuple(_index(FILES_TABLE, column) for column in LEDGER_INDEXES)


def table_named(name: str) -> Table:
    return next(t for t in TABLES if t.name == name)


# How a dialect writes "insert this row, replacing the one with the same key":
# (table, columns, key columns, placeholder) -> statement.
Replace = Callable[[str, Sequence[str], Sequence[str], str], str]


def on_conflict_update(table: str, columns: Sequence[str], key: Sequence[str], placeholder: str) -> str:
    """``INSERT ... ON CONFLICT (key) DO UPDATE``: both databases read it (SQLite 3.24+)."""
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders(placeholder, len(columns))}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


def insert_or_replace(table: str, columns: Sequence[str], key: Sequence[str], placeholder: str) -> str:
    """SQLite's ``INSERT OR REPLACE`` (the replaced row moves to the end of the table)."""
    return f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES ({placeholders(placeholder, len(columns))})"


def _insert(table: str, columns: Sequence[str], placeholder: str) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders(placeholder, len(columns))})"


class InternalSQL:
    """The internal tables' DDL and statements in one dialect's spelling.

    ``replace`` writes the column map, the table registry and the state rows (SQLite keeps
    its ``INSERT OR REPLACE`` there); the ledger and the settled folders are always
    upserted with ``ON CONFLICT``. ``is_data_table(column)`` is a condition true for a
    ``json_`` name.
    """

    def __init__(
        self, *, types: InternalTypes, placeholder: str, replace: Replace, is_data_table: Callable[[str], str]
    ) -> None:
        p = placeholder
        self.tables_ddl = tables_ddl(types)
        self.indexes_ddl = ledger_indexes_ddl()
        columns, registry = table_named(COLUMNS_TABLE), table_named(TABLES_TABLE)
        self.select_column_map = f"SELECT {', '.join(columns.column_names)} FROM {COLUMNS_TABLE}"
        self.insert_column_map = replace(COLUMNS_TABLE, columns.column_names, columns.key, p)
        self.select_table_registry = f"SELECT {', '.join(registry.column_names)} FROM {TABLES_TABLE}"
        self.insert_table_registry = replace(TABLES_TABLE, registry.column_names, ("table_name",), p)
        self.clear_column_map_for_data = f"DELETE FROM {COLUMNS_TABLE} WHERE {is_data_table('table_name')}"
        self.clear_table_registry = f"DELETE FROM {TABLES_TABLE} WHERE {is_data_table('table_name')}"
        self.set_state = replace(STATE_TABLE, ("key", "value"), ("key",), p)
        self.delete_state = f"DELETE FROM {STATE_TABLE} WHERE key = {p}"
        self.select_state = f"SELECT value FROM {STATE_TABLE} WHERE key = {p}"
        self._ledger(p)
        self._folders(p)
        rejected = ("entity", "source_file", "reason", "raw_json", "rejected_at")
        self.insert_rejected = _insert(REJECTED_TABLE, rejected, p)
        # An invalid file quarantined before, with the same bytes (its sha256 is kept in
        # raw_json as {"invalid_file_sha256": ...}): not quarantined again.
        self.select_quarantined_file = f"SELECT 1 FROM {REJECTED_TABLE} WHERE source_file = {p} AND raw_json = {p}"
        runs = ("operation", "started_at", "finished_at", "status", "statistics", "error")
        self.insert_run = _insert(RUNS_TABLE, runs, p)

    def _ledger(self, p: str) -> None:
        files = table_named(FILES_TABLE)
        self.clear_file_ledger = f"DELETE FROM {FILES_TABLE}"
        self.select_ledger_by_path = f"SELECT sha256, size, mtime, ctime_ns FROM {FILES_TABLE} WHERE path = {p}"
        # A file whose stat changed but whose bytes did not: remember the new stat, so that
        # it is not hashed again on every run.
        self.update_ledger_stat = f"UPDATE {FILES_TABLE} SET size = {p}, mtime = {p}, ctime_ns = {p} WHERE path = {p}"
        # The oldest data folder the ledger holds: the start of the span in which no folder
        # is ever skipped silently (see sources.LedgerView).
        self.select_ledger_horizon = (
            f"SELECT (SELECT MIN(data_timestamp) FROM {FILES_TABLE}), (SELECT MIN(session) FROM {FILES_TABLE})"
        )
        # The oldest data folder the ledger holds under one data root (a path prefix): loads
        # of other folders into the same database do not widen what the configured source
        # catches up.
        self.select_ledger_horizon_under = (
            f"SELECT data_timestamp FROM {FILES_TABLE} WHERE data_timestamp IS NOT NULL "
            f"AND substr(path, 1, {p}) = {p} ORDER BY data_timestamp LIMIT 1"
        )
        # What the verifier and the report need of the ledger, read from its indexes (its
        # rows grow with the history; a nightly run must not read them all).
        self.select_ledger_summary = (
            f"SELECT (SELECT COUNT(DISTINCT session) FROM {FILES_TABLE}), "
            f"(SELECT MIN(data_timestamp) FROM {FILES_TABLE}), "
            f"(SELECT MAX(data_timestamp) FROM {FILES_TABLE}), (SELECT MAX(loaded_at) FROM {FILES_TABLE})"
        )
        self.upsert_ledger = on_conflict_update(FILES_TABLE, files.column_names, ("path",), p)

    def _folders(self, p: str) -> None:
        folders = table_named(FOLDERS_TABLE)
        self.select_settled_folders = f"SELECT path, fingerprint FROM {FOLDERS_TABLE}"
        self.upsert_settled_folder = on_conflict_update(FOLDERS_TABLE, folders.column_names, ("path",), p)
        self.clear_settled_folders = f"DELETE FROM {FOLDERS_TABLE}"
