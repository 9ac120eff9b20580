"""PostgreSQL dialect: the same names as :mod:`.sqlite`, as PostgreSQL SQL text; stdlib only.

Only standard PostgreSQL features (``ON CONFLICT``, ``COPY``, temporary tables, advisory
locks, ``information_schema``), so engines that speak PostgreSQL (Citus, YugabyteDB) can
run the same statements. Values are ``%s`` parameters (psycopg); no statement here holds
a literal ``%``, so none needs escaping. Unqualified table names resolve in the schema the
connection's ``search_path`` names (see :func:`set_search_path`).

Types: logical ``TEXT``/``INTEGER``/``REAL`` become ``TEXT``/``BIGINT``/``NUMERIC``, and an
INTEGER column that has held only true/false is ``BOOLEAN``; ``created_at``/``updated_at``
are ``TIMESTAMPTZ``. PostgreSQL, unlike SQLite, has no
untyped columns and never stores a fraction in a BIGINT: a column that has only held
``""`` so far is declared ``TEXT`` and retyped (``ALTER COLUMN ... TYPE``) once its values
show what it holds, and a BIGINT column that meets a fraction is widened to NUMERIC.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from .sqlite import (  # the names both dialects share
    BOOLEAN,
    COLUMNS_TABLE,
    DATA_TABLE_PREFIX,
    FILES_TABLE,
    FOLDERS_TABLE,
    INT64_MAX,
    INT64_MIN,
    INTEGER,
    INTERNAL_PREFIX,
    OVERFLOW_COLUMN,
    REAL,
    REJECTED_TABLE,
    RUNS_TABLE,
    STATE_TABLE,
    TABLES_TABLE,
    TEXT,
    TYPE_NAMES,
    UNTYPED,
    Scope,
    custom_declaration_for_add,  # the same rule: the populator fills non-constant defaults
    fit_identifier,
    is_non_constant_default,
    parse_custom_declaration,
)

__all__ = [
    "BOOLEAN", "COLUMNS_TABLE", "DATA_TABLE_PREFIX", "FILES_TABLE", "FOLDERS_TABLE", "INT64_MAX", "INT64_MIN", "INTEGER",
    "INTERNAL_PREFIX", "OVERFLOW_COLUMN", "REAL", "REJECTED_TABLE", "RUNS_TABLE", "STATE_TABLE",
    "TABLES_TABLE", "TEXT", "TYPE_NAMES", "UNTYPED", "Scope", "custom_declaration_for_add", "is_non_constant_default",
    "parse_custom_declaration", "fit_identifier",
]

NAME = "postgresql"
LABEL = "PostgreSQL"
# PostgreSQL cuts longer identifiers silently (NAMEDATALEN - 1): names are fitted first.
MAX_IDENTIFIER_BYTES: int | None = 63
# Columns are strictly typed: a float never goes into a BIGINT column (it would be
# rounded), and an untyped column is retyped when its values settle.
STRICT_TYPES = True
# A child table's foreign key is added once its first rows are in (ALTER TABLE ... ADD
# CONSTRAINT checks them all in one join, instead of one parent lookup per row), inside the
# same transaction: no other session ever sees the table without it.
DEFERRED_FOREIGN_KEYS = True
# PostgreSQL allows 1600 columns, but a row must fit in one 8 kB page, and values of up to
# about 24 bytes are never moved out of line: a thousand BIGINTs, or 330 short texts, do not
# fit. At 300 columns (284 for data) a row of short values stays within the page; further
# fields go to the overflow JSON column, as on SQLite past 2000.
MAX_COLUMNS = 300

# NUMERIC for numbers with fractions: money stays exact (0.1 is 0.1, and SUM adds in
# decimal); psycopg reads it back as float, like SQLite's REAL.
_TYPES = {TEXT: "TEXT", INTEGER: "BIGINT", REAL: "NUMERIC", UNTYPED: "TEXT", BOOLEAN: "BOOLEAN"}
_LOGICAL = {
    "text": TEXT,
    "bigint": INTEGER,
    "integer": INTEGER,
    "smallint": INTEGER,
    "double precision": REAL,
    "real": REAL,
    "numeric": REAL,
    "boolean": BOOLEAN,
}
TIMESTAMP_TYPE = "TIMESTAMPTZ"
# Custom column types that SQLite accepts and PostgreSQL spells differently.
_CUSTOM_TYPE_NAMES = {"DATETIME": "TIMESTAMP", "REAL": "DOUBLE PRECISION", "BLOB": "BYTEA"}

BEGIN_IMMEDIATE = "BEGIN"
BEGIN_WRITE = "BEGIN"
COMMIT = "COMMIT"
ROLLBACK = "ROLLBACK"


def quote_identifier(name: str) -> str:
    """Quote one identifier for PostgreSQL: wrap in double quotes, double any inside.

    The one place identifiers are quoted (NUL cannot appear in a PostgreSQL name at all).
    """
    if "\x00" in name:
        raise ValueError(f"identifier {name!r} contains a NUL character")
    return '"' + name.replace('"', '""') + '"'


q = quote_identifier


def _column_list(columns: Iterable[str]) -> str:
    return ", ".join(q(c) for c in columns)


def _placeholders(count: int) -> str:
    return ", ".join("%s" for _ in range(count))


def savepoint(name: str) -> str:
    return f"SAVEPOINT {q(name)}"


def rollback_to_savepoint(name: str) -> str:
    return f"ROLLBACK TO SAVEPOINT {q(name)}"


def release_savepoint(name: str) -> str:
    return f"RELEASE SAVEPOINT {q(name)}"


# --- connection set-up ----------------------------------------------------------------

def create_schema(schema: str) -> str:
    return f"CREATE SCHEMA IF NOT EXISTS {q(schema)}"


SET_SEARCH_PATH = "SELECT set_config('search_path', %s, false)"


def search_path_value(schema: str) -> str:
    """The search_path value naming only ``schema`` (quoted, so any name is safe)."""
    return q(schema)


SET_TIME_ZONE_UTC = "SET TIME ZONE 'UTC'"
SET_LOCK_TIMEOUT = "SELECT set_config('lock_timeout', %s, false)"
# pg_namespace, not information_schema.schemata, which hides schemas the role may not use
SCHEMA_EXISTS = "SELECT 1 FROM pg_namespace WHERE nspname = %s"
# A server may close idle sessions (idle_session_timeout, PostgreSQL 14+): never ours, since
# the writer lock lives as long as its connection. Settings the server lacks are skipped.
DISABLE_IDLE_TIMEOUTS = (
    "SELECT set_config(name, '0', false) FROM pg_settings "
    "WHERE name IN ('idle_session_timeout', 'idle_in_transaction_session_timeout')"
)
SERVER_VERSION = "SHOW server_version"

# The single-writer lock: a session advisory lock that the server drops with the
# connection, so a killed run never leaves it behind. Keys are (class, object) int4s.
TRY_ADVISORY_LOCK = "SELECT pg_try_advisory_lock(%s, %s)"
ADVISORY_UNLOCK = "SELECT pg_advisory_unlock(%s, %s)"
ADVISORY_LOCK_HOLDER = (
    "SELECT a.pid, a.application_name, a.client_addr::text, a.backend_start::text "
    "FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = %s AND l.objid::bigint = %s "
    "AND l.objsubid = 2 LIMIT 1"
)

# --- catalog ----------------------------------------------------------------------------

LIST_TABLES = (
    "SELECT table_name FROM information_schema.tables "
    "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
)
LIST_DATA_TABLES = (
    "SELECT table_name FROM information_schema.tables "
    "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' "
    "AND left(table_name, 5) = 'json_' ORDER BY table_name"
)


def columns_of(table: str) -> tuple[str, tuple[str]]:
    """(statement, parameters) listing a table's columns as rows of (name, declared type)."""
    return (
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
        (table,),
    )


def column_type(logical: str) -> str:
    """The declaration of a logical type."""
    return _TYPES.get(logical, logical)


def logical_type(declared: str) -> str:
    """The logical type of a declared one (information_schema spells types in lower case)."""
    lowered = (declared or "").lower()
    if lowered.startswith("timestamp"):
        return TEXT  # created_at / updated_at: text in the logical model
    return _LOGICAL.get(lowered, lowered.upper())


# --- internal tables -------------------------------------------------------------------

INTERNAL_TABLES_DDL = (
    f"""CREATE TABLE IF NOT EXISTS {FILES_TABLE} (
    path TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    mtime DOUBLE PRECISION NOT NULL,
    entity TEXT NOT NULL,
    session TEXT,
    data_timestamp TEXT,
    records BIGINT NOT NULL,
    loaded_at TEXT NOT NULL,
    ctime_ns BIGINT
)""",
    f"CREATE INDEX IF NOT EXISTS {FILES_TABLE}_sha256 ON {FILES_TABLE} (sha256)",
    f"""CREATE TABLE IF NOT EXISTS {RUNS_TABLE} (
    run_id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    operation TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    statistics TEXT,
    error TEXT
)""",
    f"""CREATE TABLE IF NOT EXISTS {REJECTED_TABLE} (
    rejected_id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
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
    f"INSERT INTO {COLUMNS_TABLE} (table_name, json_path, column_name, sql_type, kinds, is_json_array) "
    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (table_name, json_path) DO UPDATE SET "
    "column_name = EXCLUDED.column_name, sql_type = EXCLUDED.sql_type, kinds = EXCLUDED.kinds, "
    "is_json_array = EXCLUDED.is_json_array"
)
SELECT_TABLE_REGISTRY = f"SELECT table_name, entity, parent_table, field, id_field FROM {TABLES_TABLE}"
INSERT_TABLE_REGISTRY = (
    f"INSERT INTO {TABLES_TABLE} (table_name, entity, parent_table, field, id_field) "
    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (table_name) DO UPDATE SET entity = EXCLUDED.entity, "
    "parent_table = EXCLUDED.parent_table, field = EXCLUDED.field, id_field = EXCLUDED.id_field"
)
CLEAR_FILE_LEDGER = f"DELETE FROM {FILES_TABLE}"
SET_STATE = (
    f"INSERT INTO {STATE_TABLE} (key, value) VALUES (%s, %s) "
    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
)
DELETE_STATE = f"DELETE FROM {STATE_TABLE} WHERE key = %s"
SELECT_STATE = f"SELECT value FROM {STATE_TABLE} WHERE key = %s"
CLEAR_COLUMN_MAP_FOR_DATA = f"DELETE FROM {COLUMNS_TABLE} WHERE left(table_name, 5) = 'json_'"
CLEAR_TABLE_REGISTRY = f"DELETE FROM {TABLES_TABLE} WHERE left(table_name, 5) = 'json_'"

SELECT_LEDGER_BY_PATH = f"SELECT sha256, size, mtime, ctime_ns FROM {FILES_TABLE} WHERE path = %s"
# A file whose stat changed but whose bytes did not: remember the new stat, so that it is
# not hashed again on every run.
UPDATE_LEDGER_STAT = f"UPDATE {FILES_TABLE} SET size = %s, mtime = %s, ctime_ns = %s WHERE path = %s"
# The oldest data folder the ledger holds: the start of the span in which no folder is
# ever skipped silently (see sources.LedgerView).
SELECT_LEDGER_HORIZON = (
    f"SELECT (SELECT MIN(data_timestamp) FROM {FILES_TABLE}), (SELECT MIN(session) FROM {FILES_TABLE})"
)
# The oldest data folder the ledger holds under one data root (a path prefix): loads of
# other folders into the same database do not widen what the configured source catches up.
SELECT_LEDGER_HORIZON_UNDER = (
    f"SELECT data_timestamp FROM {FILES_TABLE} WHERE data_timestamp IS NOT NULL "
    "AND substr(path, 1, %s) = %s ORDER BY data_timestamp LIMIT 1"
)
# What the verifier and the report need of the ledger, read from its indexes
# (its rows grow with the history; a nightly run must not read them all).
SELECT_LEDGER_SUMMARY = (
    f"SELECT (SELECT COUNT(DISTINCT session) FROM {FILES_TABLE}), (SELECT MIN(data_timestamp) FROM {FILES_TABLE}), "
    f"(SELECT MAX(data_timestamp) FROM {FILES_TABLE}), (SELECT MAX(loaded_at) FROM {FILES_TABLE})"
)
SELECT_SETTLED_FOLDERS = f"SELECT path, fingerprint FROM {FOLDERS_TABLE}"
UPSERT_SETTLED_FOLDER = (
    f"INSERT INTO {FOLDERS_TABLE} (path, folder_time, fingerprint, settled_at) VALUES (%s, %s, %s, %s) "
    "ON CONFLICT (path) DO UPDATE SET folder_time = EXCLUDED.folder_time, fingerprint = EXCLUDED.fingerprint, "
    "settled_at = EXCLUDED.settled_at"
)
CLEAR_SETTLED_FOLDERS = f"DELETE FROM {FOLDERS_TABLE}"
UPSERT_LEDGER = (
    f"INSERT INTO {FILES_TABLE} (path, sha256, size, mtime, entity, session, data_timestamp, "
    "records, loaded_at, ctime_ns) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (path) DO UPDATE SET sha256 = EXCLUDED.sha256, size = EXCLUDED.size, "
    "mtime = EXCLUDED.mtime, entity = EXCLUDED.entity, session = EXCLUDED.session, "
    "data_timestamp = EXCLUDED.data_timestamp, records = EXCLUDED.records, loaded_at = EXCLUDED.loaded_at, "
    "ctime_ns = EXCLUDED.ctime_ns"
)
INSERT_REJECTED = (
    f"INSERT INTO {REJECTED_TABLE} (entity, source_file, reason, raw_json, rejected_at) "
    "VALUES (%s, %s, %s, %s, %s)"
)
# An invalid file quarantined before, with the same bytes (its sha256 is kept in raw_json
# as {"invalid_file_sha256": ...}): not quarantined again.
SELECT_QUARANTINED_FILE = (
    f"SELECT 1 FROM {REJECTED_TABLE} WHERE source_file = %s AND raw_json = %s"
)
INSERT_RUN = (
    f"INSERT INTO {RUNS_TABLE} (operation, started_at, finished_at, status, statistics, error) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)


# --- data tables -------------------------------------------------------------------------

def create_main_table(table: str, columns: Sequence[tuple[str, str]]) -> str:
    """DDL for a ``json_<entity>`` table: the standard columns, then ``columns``
    (name, logical type or custom declaration) in order."""
    lines = [
        f"{q('id')} TEXT PRIMARY KEY NOT NULL",
        f"{q('data_source')} TEXT NOT NULL DEFAULT 'json'",
        f"{q('created_at')} {TIMESTAMP_TYPE}",
        f"{q('updated_at')} {TIMESTAMP_TYPE}",
    ]
    lines += [_column_definition(name, decl) for name, decl in columns]
    body = ",\n  ".join(lines)
    return f"CREATE TABLE {q(table)} (\n  {body}\n)"


def _column_definition(name: str, declaration: str) -> str:
    return f"{q(name)} {_declaration(declaration)}"


def _declaration(declaration: str) -> str:
    """A logical type's declaration, or a custom declaration with SQLite-only type names
    spelt the PostgreSQL way (``DATETIME`` is ``TIMESTAMP`` here)."""
    if declaration in _TYPES:
        return _TYPES[declaration]
    type_name, default = parse_custom_declaration(declaration)
    type_name = _CUSTOM_TYPE_NAMES.get(type_name, type_name)
    return f"{type_name} DEFAULT {default}" if default else type_name


def create_child_table(table: str, parent: str, columns: Sequence[tuple[str, str]]) -> str:
    """DDL for a child table ``json_<entity>_<field>``: one row per array element,
    replaced as a whole when its parent is written."""
    lines = [
        f"{q('parent_id')} TEXT NOT NULL",  # its foreign key: add_foreign_key, after the rows
        f"{q('position')} BIGINT NOT NULL",
        f"{q('id')} TEXT",
        f"{q('data_source')} TEXT NOT NULL DEFAULT 'json'",
        f"{q('created_at')} {TIMESTAMP_TYPE}",
        f"{q('updated_at')} {TIMESTAMP_TYPE}",
    ]
    lines += [_column_definition(name, decl) for name, decl in columns]
    lines.append(f"PRIMARY KEY ({q('parent_id')}, {q('position')})")
    body = ",\n  ".join(lines)
    return f"CREATE TABLE {q(table)} (\n  {body}\n)"


def add_foreign_key(child: str, parent: str) -> str:
    """The child table's link to its parent, as SQLite declares it inline."""
    name = fit_identifier(f"fk_{child}__parent", MAX_IDENTIFIER_BYTES)
    return (
        f"ALTER TABLE {q(child)} ADD CONSTRAINT {q(name)} FOREIGN KEY ({q('parent_id')}) "
        f"REFERENCES {q(parent)}({q('id')}) ON DELETE CASCADE"
    )


# Tables of the schema that have a foreign key already.
TABLES_WITH_FOREIGN_KEYS = (
    "SELECT DISTINCT c.relname FROM pg_constraint AS k JOIN pg_class AS c ON c.oid = k.conrelid "
    "JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE k.contype = 'f' AND n.nspname = current_schema()"
)


def add_column(table: str, column: str, declaration: str) -> str:
    """``ALTER TABLE ... ADD COLUMN``: schema evolution only ever adds."""
    return f"ALTER TABLE {q(table)} ADD COLUMN {_column_definition(column, declaration)}"


def retype_column(table: str, column: str, old: str, new: str) -> str:
    """Retype a column declared before its values said what it holds (only "" and null
    so far, or narrower numbers): ``""`` becomes NULL in a numeric column."""
    target = column_type(new)
    source = q(column)
    if new in (INTEGER, REAL, BOOLEAN) and old in (TEXT, UNTYPED):
        using = f"CAST(NULLIF({source}, '') AS {target})"
    elif old == BOOLEAN:
        using = f"CAST(CAST({source} AS INTEGER) AS {target})"  # true/false become 1/0
    else:
        using = f"CAST({source} AS {target})"
    return f"ALTER TABLE {q(table)} ALTER COLUMN {source} TYPE {target} USING {using}"


def index_name(table: str, columns: Sequence[str]) -> str:
    return fit_identifier("idx_" + table + "__" + "__".join(columns), MAX_IDENTIFIER_BYTES)


def create_index(table: str, columns: Sequence[str]) -> str:
    return (
        f"CREATE INDEX IF NOT EXISTS {q(index_name(table, columns))} "
        f"ON {q(table)} ({_column_list(columns)})"
    )


def empty_strings_to_null(table: str, column: str) -> str:
    return f"UPDATE {q(table)} SET {q(column)} = NULL WHERE {q(column)} = ''"


def drop_table(table: str) -> str:
    """No CASCADE: a view someone built on a json_* table makes the drop fail (with the
    server naming the view) rather than vanish with it."""
    return f"DROP TABLE IF EXISTS {q(table)}"


def _upsert_updates(table: str, columns: Sequence[str]) -> list[str]:
    updates = []
    for column in columns:
        if column == "id":
            continue
        if column == "created_at":
            updates.append(f"{q(column)} = COALESCE({q(table)}.{q(column)}, EXCLUDED.{q(column)})")
        elif column == OVERFLOW_COLUMN:
            updates.append(f"{q(column)} = {_json_patch(f'{q(table)}.{q(column)}', f'EXCLUDED.{q(column)}')}")
        else:
            updates.append(f"{q(column)} = EXCLUDED.{q(column)}")
    return updates


def _json_patch(stored: str, patch: str) -> str:
    """SQLite's ``json_patch`` on the flat overflow object: what the patch carries replaces,
    what it lacks stays, a key it sets to null goes (nulls already stored stay), and an
    object left empty is ``{}``. The text is jsonb's (``{"a": 1}``): same JSON, other spaces."""
    nulls = f"ARRAY(SELECT n.key FROM jsonb_each(CAST({patch} AS jsonb)) AS n WHERE jsonb_typeof(n.value) = 'null')"
    values = (
        f"COALESCE((SELECT jsonb_object_agg(v.key, v.value) FROM jsonb_each(CAST({patch} AS jsonb)) AS v "
        f"WHERE jsonb_typeof(v.value) <> 'null'), '{{}}'::jsonb)"
    )
    merged = f"(COALESCE(CAST({stored} AS jsonb), '{{}}'::jsonb) - {nulls}) || {values}"
    return f"CASE WHEN {patch} IS NULL THEN {stored} ELSE CAST({merged} AS text) END"


def _newest_wins_guard(table: str) -> str:
    stored = f"{q(table)}.{q('updated_at')}"
    return f" WHERE {stored} IS NULL OR EXCLUDED.{q('updated_at')} >= {stored}"


@lru_cache(maxsize=4096)
def upsert_main(table: str, columns: tuple[str, ...], newest_wins: bool) -> str:
    """Insert one record, or update only the columns it carries (see the SQLite twin)."""
    sql = (
        f"INSERT INTO {q(table)} ({_column_list(columns)}) VALUES ({_placeholders(len(columns))}) "
        f"ON CONFLICT ({q('id')}) DO UPDATE SET {', '.join(_upsert_updates(table, columns))}"
    )
    return sql + (_newest_wins_guard(table) if newest_wins else "")


@lru_cache(maxsize=4096)
def upsert_from_stage(table: str, stage: str, columns: tuple[str, ...], newest_wins: bool) -> str:
    """The bulk form of :func:`upsert_main`: every row of a staging table at once (its ids
    are unique, which ``ON CONFLICT`` needs)."""
    sql = (
        f"INSERT INTO {q(table)} ({_column_list(columns)}) SELECT {_column_list(columns)} FROM {q(stage)} "
        f"ON CONFLICT ({q('id')}) DO UPDATE SET {', '.join(_upsert_updates(table, columns))}"
    )
    return sql + (_newest_wins_guard(table) if newest_wins else "")


def create_stage(stage: str, table: str, columns: Sequence[str]) -> str:
    """A temporary table shaped like ``columns`` of ``table``, gone at commit or rollback."""
    return (
        f"CREATE TEMPORARY TABLE {q(stage)} ON COMMIT DROP AS "
        f"SELECT {_column_list(columns)} FROM {q(table)} WITH NO DATA"
    )


def clear_stage(stage: str) -> str:
    return f"TRUNCATE {q(stage)}"


@lru_cache(maxsize=4096)
def copy_rows(table: str, columns: tuple[str, ...]) -> str:
    """``COPY ... FROM STDIN``: the bulk path for plain inserts (child rows, staging)."""
    return f"COPY {q(table)} ({_column_list(columns)}) FROM STDIN"


@lru_cache(maxsize=4096)
def insert_rows(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {q(table)} ({_column_list(columns)}) VALUES ({_placeholders(len(columns))})"


def delete_children(table: str, count: int) -> str:
    return f"DELETE FROM {q(table)} WHERE {q('parent_id')} IN ({_placeholders(count)})"


def delete_children_of(table: str) -> str:
    """The children of every parent id in one array parameter (one statement text per
    table, so its cached plan keeps using the index)."""
    return f"DELETE FROM {q(table)} WHERE {q('parent_id')} = ANY(%s)"


LIST_INDEXES = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"


def _utc_text(column: str) -> str:
    """A TIMESTAMPTZ column as the tool's UTC text (``YYYY-MM-DD HH:MM:SS``, with the
    fraction of a second when there is one, trailing zeros dropped: the text the SQLite
    side stores, so newest-wins compares the same instants on both)."""
    return _utc_text_of(q(column))


def _utc_text_of(expression: str) -> str:
    return f"rtrim(rtrim(to_char({expression} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), '0'), '.')"


def select_updated_at(table: str, count: int) -> str:
    return (
        f"SELECT {q('id')}, {_utc_text('updated_at')} FROM {q(table)} "
        f"WHERE {q('id')} IN ({_placeholders(count)})"
    )


def select_parent_times(table: str, count: int) -> str:
    return (
        f"SELECT {q('id')}, {_utc_text('created_at')}, {_utc_text('updated_at')} FROM {q(table)} "
        f"WHERE {q('id')} IN ({_placeholders(count)})"
    )


def count_rows(table: str) -> str:
    return f"SELECT COUNT(*) FROM {q(table)}"


_TIME_COLUMNS = ("created_at", "updated_at")


def max_value(table: str, column: str) -> str:
    if column in _TIME_COLUMNS:
        return f"SELECT {_utc_text_of(f'MAX({q(column)})')} FROM {q(table)}"
    return f"SELECT MAX({q(column)}) FROM {q(table)}"


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
    """SELECT the given columns of a table (``limit`` adds ``LIMIT %s``); time columns of
    data tables come back as the tool's UTC text, as on SQLite."""
    listed = ", ".join(
        f"{_utc_text(c)} AS {q(c)}" if c in _TIME_COLUMNS else q(c) for c in columns
    )
    sql = f"SELECT {listed} FROM {q(table)}"
    if in_column is not None:
        # only the rows whose column holds one of ``in_count`` bound values
        sql += f" WHERE {q(in_column)} IN ({', '.join(['%s'] * in_count)})"
    if order_by:
        sql += f" ORDER BY {q(order_by)}{' DESC' if descending else ''}"
    if limit:
        sql += " LIMIT %s"
    return sql


def select_ids_in(table: str, count: int) -> str:
    return f"SELECT {q('id')} FROM {q(table)} WHERE {q('id')} IN ({_placeholders(count)})"


# Tables in the schema (SQLite's backup check counts its file's tables; the same name here).
COUNT_TABLES = (
    "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() "
    "AND table_type = 'BASE TABLE'"
)

SCHEMA_SIZE = (
    "SELECT COALESCE(SUM(pg_total_relation_size(CAST(quote_ident(table_schema) || '.' || "
    "quote_ident(table_name) AS regclass))), 0) FROM information_schema.tables "
    "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
)


def stage_name(number: int) -> str:
    return f"_json2db_stage_{number}"


# The verifier's read-only queries (same names as the SQLite dialect's last section).
from .postgres_checks import *  # noqa: E402,F401,F403
