"""SQLite dialect: SQL text for the embedded default database; stdlib only.

Every identifier that comes from data goes through :func:`quote_identifier`; every
value is a ``?`` parameter. :mod:`.postgres` provides the same names for PostgreSQL;
this module also defines the names both share (internal table names, logical types).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

NAME = "sqlite"
LABEL = "SQLite"
# Identifiers of any length are kept whole (PostgreSQL cuts them at 63 bytes).
MAX_IDENTIFIER_BYTES: int | None = None
# SQLite stores each value with its own type, so a float in an INTEGER column or a number
# in an untyped one keeps its meaning; PostgreSQL's columns are strict (see .postgres).
STRICT_TYPES = False
# Child tables declare their foreign key inline (SQLite cannot add one later).
DEFERRED_FOREIGN_KEYS = False

# SQLite's compiled default is 2000 columns per table; keep a margin for the
# standard and custom columns, and put what does not fit into one JSON column.
MAX_COLUMNS = 2000
OVERFLOW_COLUMN = "_overflow_json"

TEXT = "TEXT"
INTEGER = "INTEGER"
REAL = "REAL"
UNTYPED = ""  # a column declared without a type: SQLite stores each value as given
TYPE_NAMES = (TEXT, INTEGER, REAL, UNTYPED)
# A physical type only strict dialects declare (an INTEGER column that has held nothing but
# true/false); the column map keeps calling it INTEGER, and SQLite stores 0/1 there.
BOOLEAN = "BOOLEAN"

# Largest integer SQLite stores exactly; larger ones are kept as text.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

DATA_TABLE_PREFIX = "json_"
INTERNAL_PREFIX = "_json2db_"
FILES_TABLE = "_json2db_files"
RUNS_TABLE = "_json2db_runs"
REJECTED_TABLE = "_json2db_rejected"
COLUMNS_TABLE = "_json2db_columns"
TABLES_TABLE = "_json2db_tables"
STATE_TABLE = "_json2db_state"
FOLDERS_TABLE = "_json2db_folders"

PRAGMAS_ON_OPEN = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA cache_size = -65536",
)
PRAGMA_WAL = "PRAGMA journal_mode = WAL"
PRAGMA_JOURNAL_DELETE = "PRAGMA journal_mode = DELETE"
PRAGMA_SYNCHRONOUS_NORMAL = "PRAGMA synchronous = NORMAL"
PRAGMA_INTEGRITY_CHECK = "PRAGMA integrity_check"
COUNT_TABLES = "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
PRAGMA_FOREIGN_KEY_CHECK = "PRAGMA foreign_key_check"


def integrity_check_table(table: str) -> str:
    """integrity_check limited to one table and its indexes (SQLite 3.33+)."""
    return f"PRAGMA integrity_check({quote_identifier(table)})"


def foreign_key_check_table(table: str) -> str:
    return f"PRAGMA foreign_key_check({quote_identifier(table)})"

BEGIN_IMMEDIATE = "BEGIN IMMEDIATE"
BEGIN_WRITE = BEGIN_IMMEDIATE  # the writer's transaction: takes the write lock at once
COMMIT = "COMMIT"
ROLLBACK = "ROLLBACK"


def savepoint(name: str) -> str:
    return f"SAVEPOINT {quote_identifier(name)}"


def rollback_to_savepoint(name: str) -> str:
    return f"ROLLBACK TO {quote_identifier(name)}"


def release_savepoint(name: str) -> str:
    return f"RELEASE {quote_identifier(name)}"

LIST_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
LIST_DATA_TABLES = (
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'json\\_%' ESCAPE '\\' "
    "ORDER BY name"
)


def quote_identifier(name: str) -> str:
    """Quote one identifier for SQLite: wrap in double quotes, double any inside.

    The one place identifiers are quoted, so hostile field or file names can never
    change the meaning of a statement.
    """
    if "\x00" in name:
        raise ValueError(f"identifier {name!r} contains a NUL character")
    return '"' + name.replace('"', '""') + '"'


q = quote_identifier


def fit_identifier(name: str, limit: int | None) -> str:
    """``name`` if it fits ``limit`` bytes (None: no limit), else its start plus a short
    hash of the whole, so that two long names never collapse into one (PostgreSQL would
    cut both at 63 bytes, silently)."""
    if limit is None or len(name.encode()) <= limit:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    head = name.encode()[: limit - 9].decode(errors="ignore")
    return f"{head}_{digest}"


def _column_list(columns: Iterable[str]) -> str:
    return ", ".join(q(c) for c in columns)


# --- internal tables -------------------------------------------------------------

INTERNAL_TABLES_DDL = (
    f"""CREATE TABLE IF NOT EXISTS {FILES_TABLE} (
    path TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL,
    entity TEXT NOT NULL,
    session TEXT,
    data_timestamp TEXT,
    records INTEGER NOT NULL,
    loaded_at TEXT NOT NULL,
    ctime_ns INTEGER
)""",
    f"CREATE INDEX IF NOT EXISTS {FILES_TABLE}_sha256 ON {FILES_TABLE} (sha256)",
    f"""CREATE TABLE IF NOT EXISTS {RUNS_TABLE} (
    run_id INTEGER PRIMARY KEY,
    operation TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    statistics TEXT,
    error TEXT
)""",
    f"""CREATE TABLE IF NOT EXISTS {REJECTED_TABLE} (
    rejected_id INTEGER PRIMARY KEY,
    entity TEXT NOT NULL,
    source_file TEXT,
    reason TEXT NOT NULL,
    raw_json TEXT,
    rejected_at TEXT NOT NULL
)""",
    f"""CREATE TABLE IF NOT EXISTS {COLUMNS_TABLE} (
    table_name TEXT NOT NULL,
    json_path TEXT NOT NULL,
    column_name TEXT NOT NULL,
    sql_type TEXT NOT NULL,
    kinds TEXT NOT NULL DEFAULT '',
    is_json_array INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (table_name, json_path)
)""",
    f"""CREATE TABLE IF NOT EXISTS {FOLDERS_TABLE} (
    path TEXT PRIMARY KEY,
    folder_time TEXT,
    fingerprint TEXT NOT NULL,
    settled_at TEXT NOT NULL
)""",
    f"""CREATE TABLE IF NOT EXISTS {STATE_TABLE} (
    key TEXT PRIMARY KEY,
    value TEXT
)""",
    f"""CREATE TABLE IF NOT EXISTS {TABLES_TABLE} (
    table_name TEXT PRIMARY KEY,
    entity TEXT NOT NULL,
    parent_table TEXT,
    field TEXT,
    id_field TEXT
)""",
)

# The ledger grows with the history: the oldest and newest times and the session count a
# nightly run asks for are read from these indexes, not from every row. (Created after the
# internal tables are brought up to date: an old ledger may lack data_timestamp before.)
INTERNAL_INDEXES_DDL = (
    f"CREATE INDEX IF NOT EXISTS {FILES_TABLE}_data_timestamp ON {FILES_TABLE} (data_timestamp)",
    f"CREATE INDEX IF NOT EXISTS {FILES_TABLE}_session ON {FILES_TABLE} (session)",
    f"CREATE INDEX IF NOT EXISTS {FILES_TABLE}_loaded_at ON {FILES_TABLE} (loaded_at)",
)

SELECT_COLUMN_MAP = (
    f"SELECT table_name, json_path, column_name, sql_type, kinds, is_json_array FROM {COLUMNS_TABLE}"
)
INSERT_COLUMN_MAP = (
    f"INSERT OR REPLACE INTO {COLUMNS_TABLE} "
    "(table_name, json_path, column_name, sql_type, kinds, is_json_array) VALUES (?, ?, ?, ?, ?, ?)"
)
SELECT_TABLE_REGISTRY = f"SELECT table_name, entity, parent_table, field, id_field FROM {TABLES_TABLE}"
INSERT_TABLE_REGISTRY = (
    f"INSERT OR REPLACE INTO {TABLES_TABLE} (table_name, entity, parent_table, field, id_field) "
    "VALUES (?, ?, ?, ?, ?)"
)
CLEAR_FILE_LEDGER = f"DELETE FROM {FILES_TABLE}"
SET_STATE = f"INSERT OR REPLACE INTO {STATE_TABLE} (key, value) VALUES (?, ?)"
DELETE_STATE = f"DELETE FROM {STATE_TABLE} WHERE key = ?"
SELECT_STATE = f"SELECT value FROM {STATE_TABLE} WHERE key = ?"
CLEAR_COLUMN_MAP_FOR_DATA = f"DELETE FROM {COLUMNS_TABLE} WHERE table_name LIKE 'json\\_%' ESCAPE '\\'"
CLEAR_TABLE_REGISTRY = f"DELETE FROM {TABLES_TABLE} WHERE table_name LIKE 'json\\_%' ESCAPE '\\'"

SELECT_LEDGER_BY_PATH = f"SELECT sha256, size, mtime, ctime_ns FROM {FILES_TABLE} WHERE path = ?"
# A file whose stat changed but whose bytes did not: remember the new stat, so that it is
# not hashed again on every run.
UPDATE_LEDGER_STAT = f"UPDATE {FILES_TABLE} SET size = ?, mtime = ?, ctime_ns = ? WHERE path = ?"
# The oldest data folder the ledger holds: the start of the span in which no folder is
# ever skipped silently (see sources.LedgerView).
SELECT_LEDGER_HORIZON = (
    f"SELECT (SELECT MIN(data_timestamp) FROM {FILES_TABLE}), (SELECT MIN(session) FROM {FILES_TABLE})"
)
# The oldest data folder the ledger holds under one data root (a path prefix): loads of
# other folders into the same database do not widen what the configured source catches up.
SELECT_LEDGER_HORIZON_UNDER = (
    f"SELECT data_timestamp FROM {FILES_TABLE} WHERE data_timestamp IS NOT NULL "
    "AND substr(path, 1, ?) = ? ORDER BY data_timestamp LIMIT 1"
)
# What the verifier and the report need of the ledger, read from its indexes
# (its rows grow with the history; a nightly run must not read them all).
SELECT_LEDGER_SUMMARY = (
    f"SELECT (SELECT COUNT(DISTINCT session) FROM {FILES_TABLE}), (SELECT MIN(data_timestamp) FROM {FILES_TABLE}), "
    f"(SELECT MAX(data_timestamp) FROM {FILES_TABLE}), (SELECT MAX(loaded_at) FROM {FILES_TABLE})"
)
SELECT_SETTLED_FOLDERS = f"SELECT path, fingerprint FROM {FOLDERS_TABLE}"
UPSERT_SETTLED_FOLDER = (
    f"INSERT INTO {FOLDERS_TABLE} (path, folder_time, fingerprint, settled_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT(path) DO UPDATE SET folder_time = excluded.folder_time, fingerprint = excluded.fingerprint, "
    "settled_at = excluded.settled_at"
)
CLEAR_SETTLED_FOLDERS = f"DELETE FROM {FOLDERS_TABLE}"
UPSERT_LEDGER = (
    f"INSERT INTO {FILES_TABLE} (path, sha256, size, mtime, entity, session, data_timestamp, "
    "records, loaded_at, ctime_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, "
    "mtime = excluded.mtime, entity = excluded.entity, session = excluded.session, "
    "data_timestamp = excluded.data_timestamp, records = excluded.records, loaded_at = excluded.loaded_at, "
    "ctime_ns = excluded.ctime_ns"
)
INSERT_REJECTED = (
    f"INSERT INTO {REJECTED_TABLE} (entity, source_file, reason, raw_json, rejected_at) "
    "VALUES (?, ?, ?, ?, ?)"
)
# An invalid file quarantined before, with the same bytes (its sha256 is kept in raw_json
# as {"invalid_file_sha256": ...}): not quarantined again.
SELECT_QUARANTINED_FILE = (
    f"SELECT 1 FROM {REJECTED_TABLE} WHERE source_file = ? AND raw_json = ?"
)
INSERT_RUN = (
    f"INSERT INTO {RUNS_TABLE} (operation, started_at, finished_at, status, statistics, error) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


# --- data tables -------------------------------------------------------------------


def table_info(table: str) -> str:
    """``PRAGMA table_info`` for one table (name is quoted)."""
    return f"PRAGMA table_info({q(table)})"


def columns_of(table: str) -> tuple[str, tuple[str]]:
    """(statement, parameters) listing a table's columns as rows of (name, declared type)."""
    return "SELECT name, type FROM pragma_table_info(?)", (table,)


def column_type(logical: str) -> str:
    """The declaration of a logical type (SQLite uses the logical names themselves)."""
    return INTEGER if logical == BOOLEAN else logical


def logical_type(declared: str) -> str:
    """The logical type of a declared one (the inverse of :func:`column_type`)."""
    return (declared or "").upper()


def create_main_table(table: str, columns: Sequence[tuple[str, str]]) -> str:
    """DDL for a ``json_<entity>`` table: the standard columns, then ``columns``
    (name, declaration) in order."""
    lines = [
        f"{q('id')} TEXT PRIMARY KEY NOT NULL",
        f"{q('data_source')} TEXT NOT NULL DEFAULT 'json'",
        f"{q('created_at')} TEXT",
        f"{q('updated_at')} TEXT",
    ]
    lines += [_column_definition(name, decl) for name, decl in columns]
    body = ",\n  ".join(lines)
    return f"CREATE TABLE {q(table)} (\n  {body}\n)"


def _column_definition(name: str, declaration: str) -> str:
    return f"{q(name)} {declaration}" if declaration else q(name)


def create_child_table(table: str, parent: str, columns: Sequence[tuple[str, str]]) -> str:
    """DDL for a child table ``json_<entity>_<field>``: one row per array element,
    replaced as a whole when its parent is written."""
    lines = [
        f"{q('parent_id')} TEXT NOT NULL REFERENCES {q(parent)}({q('id')}) ON DELETE CASCADE",
        f"{q('position')} INTEGER NOT NULL",
        f"{q('id')} TEXT",
        f"{q('data_source')} TEXT NOT NULL DEFAULT 'json'",
        f"{q('created_at')} TEXT",
        f"{q('updated_at')} TEXT",
    ]
    lines += [_column_definition(name, decl) for name, decl in columns]
    lines.append(f"PRIMARY KEY ({q('parent_id')}, {q('position')})")
    body = ",\n  ".join(lines)
    return f"CREATE TABLE {q(table)} (\n  {body}\n)"


def add_column(table: str, column: str, declaration: str) -> str:
    """``ALTER TABLE ... ADD COLUMN``: schema evolution only ever adds."""
    return f"ALTER TABLE {q(table)} ADD COLUMN {_column_definition(column, declaration)}"


def index_name(table: str, columns: Sequence[str]) -> str:
    return "idx_" + table + "__" + "__".join(columns)


LIST_INDEXES = "SELECT name FROM sqlite_master WHERE type = 'index'"


def create_index(table: str, columns: Sequence[str]) -> str:
    return (
        f"CREATE INDEX IF NOT EXISTS {q(index_name(table, columns))} "
        f"ON {q(table)} ({_column_list(columns)})"
    )


def empty_strings_to_null(table: str, column: str) -> str:
    """An untyped column found to be numeric: its "" (Zoho's unset) become NULL."""
    return f"UPDATE {q(table)} SET {q(column)} = NULL WHERE {q(column)} = ''"


def widen_to_real(table: str, column: str, scratch: str) -> list[str]:
    """An INTEGER column that turned out to hold fractions becomes REAL: SQLite has no
    ``ALTER COLUMN ... TYPE``, so a REAL twin takes the values and the old column's name
    (needs SQLite 3.35 for ``DROP COLUMN``; the column moves to the end of the table)."""
    return [
        f"ALTER TABLE {q(table)} ADD COLUMN {q(scratch)} REAL",
        f"UPDATE {q(table)} SET {q(scratch)} = {q(column)}",
        f"ALTER TABLE {q(table)} DROP COLUMN {q(column)}",
        f"ALTER TABLE {q(table)} RENAME COLUMN {q(scratch)} TO {q(column)}",
    ]


# Indexes on a column (ours quote it), and views and triggers whose SQL names both the table
# and the column: SQLite cannot drop a column they use, so widen_to_real is not tried on it
# (for views and triggers an over-approximation, on purpose). Parameters: the table, the
# column (see objects_using_column_params).
SELECT_OBJECTS_USING_COLUMN = (
    "SELECT name FROM sqlite_master WHERE sql LIKE ? AND ("
    "(type = 'index' AND tbl_name = ? AND sql LIKE ?) OR (type IN ('view', 'trigger') AND sql LIKE ?)"
    ") ORDER BY name"
)


def objects_using_column_params(table: str, column: str) -> tuple[str, str, str, str]:
    return (f"%{table}%", table, f"%{quote_identifier(column)}%", f"%{column}%")


def drop_table(table: str) -> str:
    return f"DROP TABLE IF EXISTS {q(table)}"


@lru_cache(maxsize=4096)
def upsert_main(table: str, columns: tuple[str, ...], newest_wins: bool) -> str:
    """Insert one record, or update only the columns it carries.

    ``columns`` starts with id, data_source, created_at, updated_at. With
    ``newest_wins`` the update happens only when the incoming ``updated_at`` is not
    older than the stored one, so a late stale session never overwrites newer data.
    ``created_at`` keeps the first value seen.
    """
    placeholders = ", ".join("?" for _ in columns)
    updates = []
    for column in columns:
        if column == "id":
            continue
        if column == "created_at":
            updates.append(f"{q(column)} = COALESCE({q(table)}.{q(column)}, excluded.{q(column)})")
        elif column == OVERFLOW_COLUMN:
            # Overflow fields merge like columns do: what a record carries replaces,
            # what it lacks stays.
            stored = f"{q(table)}.{q(column)}"
            updates.append(
                f"{q(column)} = CASE WHEN excluded.{q(column)} IS NULL THEN {stored} "
                f"ELSE json_patch(COALESCE({stored}, '{{}}'), excluded.{q(column)}) END"
            )
        else:
            updates.append(f"{q(column)} = excluded.{q(column)}")
    sql = (
        f"INSERT INTO {q(table)} ({_column_list(columns)}) VALUES ({placeholders}) "
        f"ON CONFLICT({q('id')}) DO UPDATE SET {', '.join(updates)}"
    )
    if newest_wins:
        stored = f"{q(table)}.{q('updated_at')}"
        sql += f" WHERE {stored} IS NULL OR excluded.{q('updated_at')} >= {stored}"
    return sql


@lru_cache(maxsize=4096)
def insert_rows(table: str, columns: tuple[str, ...]) -> str:
    placeholders = ", ".join("?" for _ in columns)
    return f"INSERT INTO {q(table)} ({_column_list(columns)}) VALUES ({placeholders})"


def delete_children(table: str, count: int) -> str:
    """Delete the children of ``count`` parents (ids bound as parameters)."""
    placeholders = ", ".join("?" for _ in range(count))
    return f"DELETE FROM {q(table)} WHERE {q('parent_id')} IN ({placeholders})"


def select_updated_at(table: str, count: int) -> str:
    """Stored ``updated_at`` of ``count`` ids, to classify a batch before writing it."""
    placeholders = ", ".join("?" for _ in range(count))
    return f"SELECT {q('id')}, {q('updated_at')} FROM {q(table)} WHERE {q('id')} IN ({placeholders})"


def select_parent_times(table: str, count: int) -> str:
    """Stored ``created_at`` and ``updated_at`` of ``count`` parents (line items loaded from
    their own file take their parent's times, and newest-wins compares with them)."""
    placeholders = ", ".join("?" for _ in range(count))
    return (
        f"SELECT {q('id')}, {q('created_at')}, {q('updated_at')} FROM {q(table)} "
        f"WHERE {q('id')} IN ({placeholders})"
    )


def count_rows(table: str) -> str:
    return f"SELECT COUNT(*) FROM {q(table)}"


_CUSTOM_DECLARATION = re.compile(
    r"^\s*(?P<type>[A-Za-z][A-Za-z ]*?)\s*"
    r"(?:\s+DEFAULT\s+(?P<default>CURRENT_TIMESTAMP|CURRENT_DATE|CURRENT_TIME|NULL|"
    r"'(?:[^']|'')*'|-?\d+(?:\.\d+)?))?\s*$",
    re.IGNORECASE,
)
_NON_CONSTANT_DEFAULTS = {"CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME"}


def parse_custom_declaration(declaration: str) -> tuple[str, str | None]:
    """Split a custom column declaration ``"TIMESTAMP DEFAULT CURRENT_TIMESTAMP"`` into
    (type, default); raise ValueError for anything else, since it becomes SQL text."""
    match = _CUSTOM_DECLARATION.match(declaration)
    if not match:
        raise ValueError(
            f"{declaration!r} is not a column declaration of the form "
            "'TYPE' or 'TYPE DEFAULT <constant | CURRENT_TIMESTAMP>'"
        )
    default = match.group("default")
    return match.group("type").upper(), default


def custom_declaration_for_add(declaration: str) -> str:
    """SQLite cannot ADD COLUMN with a non-constant default; drop it there (the
    populator fills such columns itself)."""
    type_name, default = parse_custom_declaration(declaration)
    if default is None or default.upper() in _NON_CONSTANT_DEFAULTS:
        return type_name
    return f"{type_name} DEFAULT {default}"


def is_non_constant_default(declaration: str) -> bool:
    _, default = parse_custom_declaration(declaration)
    return default is not None and default.upper() in _NON_CONSTANT_DEFAULTS


# --- read-only queries (verifier, summary_reporter) ---------------------------------
# (section owned by the verification work; keep edits below this line)
# Each ``offending_*`` function returns a SELECT of one row per problem, its first
# column naming the row (the ``label`` column, else ``rowid <n>``); wrap it with
# ``count_of`` or ``first_distinct`` for the count and the examples.

# Zoho timestamps as stored: 2026-06-09T16:48:58-0400 (the shape checked in SQL;
# anything else is looked at in Python).
_ZOHO_TIMESTAMP_GLOB = (
    "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9][+-][0-9][0-9][0-9][0-9]"
)


# A scope limits a check to the rows a run wrote: (temp table of ids, key column), the
# key being ``id`` in a main table and ``parent_id`` in a child table.
Scope = tuple[str, str]


def create_scope_table(name: str) -> str:
    return f"CREATE TEMP TABLE IF NOT EXISTS {q(name)} ({q('id')} TEXT PRIMARY KEY)"


def insert_scope_id(name: str) -> str:
    return f"INSERT OR IGNORE INTO temp.{q(name)} ({q('id')}) VALUES (?)"


def _rows(table: str, scope: Scope | None) -> str:
    """``FROM`` target for a table, or only its rows inside ``scope`` (rowid kept, so
    labels that fall back to it still work)."""
    if scope is None:
        return q(table)
    ids, key = scope
    return (
        f"(SELECT rowid AS rowid, * FROM {q(table)} "
        f"WHERE {q(key)} IN (SELECT {q('id')} FROM temp.{q(ids)}))"
    )


def _label(label: str | None) -> str:
    return q(label) if label else "'rowid ' || rowid"


def _blank(column: str) -> str:
    return f"({q(column)} IS NULL OR {q(column)} = '')"


def select_columns(
    table: str,
    columns: Sequence[str],
    *,
    order_by: str | None = None,
    descending: bool = False,
    limit: bool = False,
    in_column: str | None = None,
    in_count: int = 0,
) -> str:
    """SELECT the given columns of a table (``limit`` adds ``LIMIT ?``); used to read
    internal tables whose older versions may lack some columns."""
    sql = f"SELECT {_column_list(columns)} FROM {q(table)}"
    if in_column is not None:
        # only the rows whose column holds one of ``in_count`` bound values
        sql += f" WHERE {q(in_column)} IN ({', '.join(['?'] * in_count)})"
    if order_by:
        sql += f" ORDER BY {q(order_by)}{' DESC' if descending else ''}"
    if limit:
        sql += " LIMIT ?"
    return sql


def max_value(table: str, column: str) -> str:
    return f"SELECT MAX({q(column)}) FROM {q(table)}"


def count_of(query: str) -> str:
    """Number of rows a query returns."""
    return f"SELECT COUNT(*) FROM ({query})"


def first_distinct(query: str) -> str:
    """The first ``?`` distinct rows of a one-column query, in order (for examples)."""
    return f"SELECT DISTINCT * FROM ({query}) ORDER BY 1 LIMIT ?"


def offending_null_ids(table: str, scope: Scope | None = None) -> str:
    """Rows without an id ("" counts as none); named by rowid since they have no id."""
    return f"SELECT {_label(None)} FROM {_rows(table, scope)} WHERE {_blank('id')}"


def offending_duplicate_ids(table: str, per_parent: bool, scope: Scope | None = None) -> str:
    """Ids held by more than one row (in child tables: more than once per parent)."""
    group = _column_list(["parent_id", "id"] if per_parent else ["id"])
    return (
        f"SELECT {q('id')} FROM {_rows(table, scope)} WHERE {q('id')} IS NOT NULL AND {q('id')} <> '' "
        f"GROUP BY {group} HAVING COUNT(*) > 1"
    )


def offending_orphans(child: str, parent: str, scope: Scope | None = None) -> str:
    """Child rows whose parent row is missing (named by their parent_id)."""
    return (
        f"SELECT c.{q('parent_id')} FROM {_rows(child, scope)} AS c WHERE NOT EXISTS "
        f"(SELECT 1 FROM {q(parent)} AS p WHERE p.{q('id')} = c.{q('parent_id')})"
    )


def offending_blanks(table: str, column: str | None, label: str | None, scope: Scope | None = None) -> str:
    """Rows where a required column is NULL or ""; every row when the column is absent."""
    where = f" WHERE {_blank(column)}" if column else ""
    return f"SELECT {_label(label)} FROM {_rows(table, scope)}{where}"


def nonstandard_dates(table: str, column: str, label: str | None, scope: Scope | None = None) -> str:
    """(label, value) of set values that are not a valid ``YYYY-MM-DD`` date text."""
    c = q(column)
    return (
        f"SELECT {_label(label)}, {c} FROM {_rows(table, scope)} WHERE {c} IS NOT NULL AND {c} <> '' "
        f"AND (typeof({c}) <> 'text' OR date({c}, '+0 days') IS NOT {c})"
    )


def nonstandard_timestamps(table: str, column: str, label: str | None, scope: Scope | None = None) -> str:
    """(label, value) of set values that are not a valid Zoho timestamp of the usual
    shape ``YYYY-MM-DDTHH:MM:SS±HHMM`` (other accepted shapes are judged in Python)."""
    c = q(column)
    day = f"substr({c}, 1, 10)"
    clock = f"substr({c}, 12, 8)"
    return (
        f"SELECT {_label(label)}, {c} FROM {_rows(table, scope)} WHERE {c} IS NOT NULL AND {c} <> '' "
        f"AND NOT (typeof({c}) = 'text' AND {c} GLOB '{_ZOHO_TIMESTAMP_GLOB}' "
        f"AND date({day}, '+0 days') IS {day} AND time({clock}) IS {clock})"
    )


def offending_non_numbers(table: str, column: str, label: str | None, scope: Scope | None = None) -> str:
    """Rows whose value is neither a number, NULL nor "" (Zoho's "unset")."""
    c = q(column)
    return (
        f"SELECT {_label(label)} FROM {_rows(table, scope)} "
        f"WHERE typeof({c}) NOT IN ('integer', 'real', 'null') AND {c} <> ''"
    )


def offending_negatives(
    table: str, column: str, label: str | None, scope: Scope | None = None, *, typed: bool = False
) -> str:
    """Rows whose numeric value is below zero (``typed`` is for databases that enforce
    declared types; SQLite does not, so the value's own type is always looked at)."""
    c = q(column)
    return (
        f"SELECT {_label(label)} FROM {_rows(table, scope)} "
        f"WHERE typeof({c}) IN ('integer', 'real') AND {c} < 0"
    )


def subtotal_mismatches(parent: str, child: str, scope: Scope | None = None, *, typed: bool = False) -> str:
    """(id, sub_total, sum of item_total, difference) of parents whose ``sub_total``
    differs from their line items by more than ``?``, worst first (``typed``: see
    :func:`offending_negatives`)."""
    return (
        f"SELECT p.{q('id')}, p.{q('sub_total')}, s.items_total, "
        f"ABS(p.{q('sub_total')} - s.items_total) AS difference FROM {_rows(parent, scope)} AS p "
        f"JOIN (SELECT {q('parent_id')}, TOTAL({q('item_total')}) AS items_total "
        f"FROM {q(child)} GROUP BY {q('parent_id')}) AS s ON s.{q('parent_id')} = p.{q('id')} "
        f"WHERE typeof(p.{q('sub_total')}) IN ('integer', 'real') "
        f"AND ABS(p.{q('sub_total')} - s.items_total) > ? "
        f"ORDER BY difference DESC, p.{q('id')}"
    )


def offending_references(source: str, column: str, target: str, scope: Scope | None = None) -> str:
    """Set values of ``source.column`` with no row of that id in ``target`` (named by
    the missing id)."""
    c = q(column)
    return (
        f"SELECT s.{c} FROM {_rows(source, scope)} AS s WHERE s.{c} IS NOT NULL AND s.{c} <> '' "
        f"AND NOT EXISTS (SELECT 1 FROM {q(target)} AS t WHERE t.{q('id')} = s.{c})"
    )


def select_ids_in(table: str, count: int) -> str:
    """The ids among ``count`` bound ids that have a row (for the source-count check)."""
    placeholders = ", ".join("?" for _ in range(count))
    return f"SELECT {q('id')} FROM {q(table)} WHERE {q('id')} IN ({placeholders})"


# --- report views ------------------------------------------------------------------------
# The finance views (see sql_dialect/views.py for their shared text and report_views.py for
# which are made). These hooks are the only places the two dialects' view SQL differs.

VIEW_PREFIX = "json2db_"
LIST_VIEWS = "SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name"


def drop_view(name: str) -> str:
    return f"DROP VIEW IF EXISTS {q(name)}"


def create_view(name: str, select: str) -> str:
    return f"CREATE VIEW {q(name)} AS\n{select}"


def select_all(name: str) -> str:
    """Every row of a view (or table), in its own order."""
    return f"SELECT * FROM {q(name)}"


def view_date(column: str) -> str:
    """The ``YYYY-MM-DD`` start of a text date column, NULL when it is not a date (so a
    bad value never fails the view; the verifier's date check reports it)."""
    c = q(column)
    return f"(CASE WHEN {c} LIKE '____-__-__%' AND julianday(substr({c}, 1, 10)) IS NOT NULL THEN substr({c}, 1, 10) END)"


def view_days_past(date_expr: str) -> str:
    """Whole days from a ``YYYY-MM-DD`` expression to today (UTC); negative before it."""
    return f"CAST(julianday(CURRENT_DATE) - julianday({date_expr}) AS INTEGER)"


def view_money(expr: str) -> str:
    """An amount rounded to cents."""
    return f"ROUND({expr}, 2)"


def view_json_integer(column: str, key: str) -> str:
    """An integer member of a JSON text column (NULL when absent or not JSON)."""
    c = q(column)
    return f"(CASE WHEN json_valid({c}) THEN CAST(json_extract({c}, '$.{key}') AS INTEGER) END)"


# --- Datasette canned queries (json2db-sync browse; Datasette reads SQLite only) ---------------

SELECT_COLUMN_DESCRIPTIONS = (
    f"SELECT table_name, json_path, column_name, sql_type, kinds, is_json_array FROM {COLUMNS_TABLE}"
)

# name -> (title, description, the tables and columns it needs, SQL with :named parameters)
CANNED_QUERIES: dict[str, tuple[str, str, dict[str, tuple[str, ...]], str]] = {
    "overdue_invoices": (
        "Overdue invoices",
        "Invoices with an open balance past their due date (today, UTC), oldest first.",
        {"json_invoices": ("invoice_number", "customer_name", "status", "date", "due_date", "total", "balance")},
        "SELECT invoice_number, customer_name, status, date, due_date, total, balance,\n"
        "  CAST(julianday(CURRENT_DATE) - julianday(substr(due_date, 1, 10)) AS INTEGER) AS days_past_due\n"
        "FROM json_invoices\n"
        "WHERE balance > 0 AND substr(due_date, 1, 10) < CURRENT_DATE AND COALESCE(status, '') NOT IN ('draft', 'void')\n"
        "ORDER BY due_date, invoice_number",
    ),
    "invoice_lines": (
        "Lines of one invoice",
        "Every line item of the invoice with the number you give (e.g. INV-000001).",
        {"json_invoices": ("invoice_number",), "json_invoices_line_items": ("parent_id", "position")},
        "SELECT i.invoice_number, i.customer_name, l.*\n"
        "FROM json_invoices_line_items AS l JOIN json_invoices AS i ON i.id = l.parent_id\n"
        "WHERE i.invoice_number = :invoice_number\n"
        "ORDER BY l.position",
    ),
    "files_per_entity": (
        "Files and records loaded per entity",
        "What the file ledger holds per entity: files, records and the newest data folder.",
        {FILES_TABLE: ("entity", "records", "data_timestamp")},
        f"SELECT entity, COUNT(*) AS files, SUM(records) AS records, MAX(data_timestamp) AS newest_data\n"
        f"FROM {FILES_TABLE} GROUP BY entity ORDER BY entity",
    ),
    "rejected_records": (
        "Rejected records",
        "Records quarantined because they had no usable id, newest first.",
        {REJECTED_TABLE: ("entity", "source_file", "reason", "rejected_at")},
        f"SELECT entity, source_file, reason, rejected_at, raw_json FROM {REJECTED_TABLE} ORDER BY rejected_id DESC",
    ),
}
