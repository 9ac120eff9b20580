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

from collections.abc import Sequence as _Sequence
from functools import lru_cache as _lru_cache

from . import postgres_checks as _pg_checks
from . import shared as _shared
from .checks import Checks as _Checks
from .internal_tables import InternalSQL as _InternalSQL
from .internal_tables import InternalTypes as _InternalTypes
from .internal_tables import on_conflict_update as _on_conflict_update
from .postgres_checks import FOREIGN_KEY_CHECK_APPLIES as FOREIGN_KEY_CHECK_APPLIES
from .postgres_checks import FOREIGN_KEY_CHECK_NOT_APPLICABLE as FOREIGN_KEY_CHECK_NOT_APPLICABLE
from .postgres_checks import INTEGRITY_CHECK_APPLIES as INTEGRITY_CHECK_APPLIES
from .postgres_checks import INTEGRITY_CHECK_NOT_APPLICABLE as INTEGRITY_CHECK_NOT_APPLICABLE
from .postgres_checks import foreign_key_check_table as foreign_key_check_table
from .postgres_checks import foreign_key_list as foreign_key_list
from .postgres_checks import integrity_check_table as integrity_check_table
from .shared import (
    BOOLEAN,
    INTEGER,
    REAL,
    TEXT,
    UNTYPED,
    fit_identifier,
    parse_custom_declaration,
)
from .shared import COMMIT as COMMIT
from .shared import ROLLBACK as ROLLBACK
from .shared import VIEW_PREFIX as VIEW_PREFIX
from .shared import count_rows as count_rows
from .shared import create_view as create_view
from .shared import custom_declaration_for_add as custom_declaration_for_add
from .shared import drop_table as drop_table
from .shared import drop_view as drop_view
from .shared import empty_strings_to_null as empty_strings_to_null
from .shared import q as q
from .shared import quote_identifier as quote_identifier
from .shared import release_savepoint as release_savepoint
from .shared import rollback_to_savepoint as rollback_to_savepoint
from .shared import savepoint as savepoint
from .shared import select_all as select_all

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
_PLACEHOLDER = "%s"


def _placeholders(count: int) -> str:
    return _shared.placeholders(_PLACEHOLDER, count)


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


def _is_data_table(column: str) -> str:
    return f"left({column}, 5) = 'json_'"  # (no LIKE: psycopg reads % as a placeholder)


LIST_TABLES = (
    "SELECT table_name FROM information_schema.tables "
    "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
)
LIST_DATA_TABLES = (
    "SELECT table_name FROM information_schema.tables "
    "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' "
    f"AND {_is_data_table('table_name')} ORDER BY table_name"
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


# --- internal tables (specified once in sql_dialect/internal_tables.py) -------------------


# The internal tables and their statements (sql_dialect/internal_tables.py) in this
# dialect's spelling: callers write dialect.internal.<statement>.
internal = _InternalSQL(
    types=_InternalTypes(integer="BIGINT", real="DOUBLE PRECISION", serial="BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    placeholder=_PLACEHOLDER,
    replace=_on_conflict_update,
    is_data_table=_is_data_table,
)


# --- data tables -------------------------------------------------------------------------


def create_main_table(table: str, columns: _Sequence[tuple[str, str]]) -> str:
    """DDL for a ``json_<entity>`` table: the standard columns, then ``columns``
    (name, logical type or custom declaration) in order."""
    return _shared.main_table_ddl(table, columns, time_type=TIMESTAMP_TYPE, define=_column_definition)


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


def create_child_table(table: str, parent: str, columns: _Sequence[tuple[str, str]]) -> str:
    """DDL for a child table ``json_<entity>_<field>``: one row per array element,
    replaced as a whole when its parent is written (its foreign key: add_foreign_key,
    once the rows are in)."""
    return _shared.child_table_ddl(
        table, columns, parent_id="TEXT NOT NULL", position_type="BIGINT", time_type=TIMESTAMP_TYPE,
        define=_column_definition,
    )


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
    return _shared.add_column_ddl(table, _column_definition(column, declaration))


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


def index_name(table: str, columns: _Sequence[str]) -> str:
    return _shared.index_name_within(table, columns, MAX_IDENTIFIER_BYTES)


def create_index(table: str, columns: _Sequence[str]) -> str:
    return _shared.create_index_named(index_name(table, columns), table, columns)


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


@_lru_cache(maxsize=4096)
def upsert_main(table: str, columns: tuple[str, ...], newest_wins: bool) -> str:
    """Insert one record, or update only the columns it carries (see
    :func:`.shared.upsert_sql`)."""
    source = f"VALUES ({_placeholders(len(columns))})"
    return _shared.upsert_sql(table, columns, source, newest_wins, _json_patch)


@_lru_cache(maxsize=4096)
def upsert_from_stage(table: str, stage: str, columns: tuple[str, ...], newest_wins: bool) -> str:
    """The bulk form of :func:`upsert_main`: every row of a staging table at once (its ids
    are unique, which ``ON CONFLICT`` needs)."""
    source = f"SELECT {_shared.column_list(columns)} FROM {q(stage)}"
    return _shared.upsert_sql(table, columns, source, newest_wins, _json_patch)


def create_stage(stage: str, table: str, columns: _Sequence[str]) -> str:
    """A temporary table shaped like ``columns`` of ``table``, gone at commit or rollback."""
    return (
        f"CREATE TEMPORARY TABLE {q(stage)} ON COMMIT DROP AS "
        f"SELECT {_shared.column_list(columns)} FROM {q(table)} WITH NO DATA"
    )


def clear_stage(stage: str) -> str:
    return f"TRUNCATE {q(stage)}"


@_lru_cache(maxsize=4096)
def copy_rows(table: str, columns: tuple[str, ...]) -> str:
    """``COPY ... FROM STDIN``: the bulk path for plain inserts (child rows, staging)."""
    return f"COPY {q(table)} ({_shared.column_list(columns)}) FROM STDIN"


@_lru_cache(maxsize=4096)
def insert_rows(table: str, columns: tuple[str, ...]) -> str:
    return _shared.insert_rows_sql(table, columns, _PLACEHOLDER)


def delete_children(table: str, count: int) -> str:
    return _shared.delete_children_sql(table, count, _PLACEHOLDER)


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
    return _by_ids(table, f"{q('id')}, {_utc_text('updated_at')}", count)


def select_parent_times(table: str, count: int) -> str:
    return _by_ids(table, f"{q('id')}, {_utc_text('created_at')}, {_utc_text('updated_at')}", count)


def _by_ids(table: str, listed: str, count: int) -> str:
    return _shared.select_columns_sql(
        table, listed, _PLACEHOLDER, order_by=None, descending=False, limit=False, in_column="id", in_count=count
    )


_TIME_COLUMNS = ("created_at", "updated_at")


def max_value(table: str, column: str) -> str:
    if column in _TIME_COLUMNS:
        return f"SELECT {_utc_text_of(f'MAX({q(column)})')} FROM {q(table)}"
    return f"SELECT MAX({q(column)}) FROM {q(table)}"


def select_columns(
    table: str,
    columns: _Sequence[str],
    *,
    order_by: str | None = None,
    descending: bool = False,
    limit: bool = False,
    in_column: str | None = None,
    in_count: int = 0,
) -> str:
    """SELECT the given columns of a table (``limit`` adds ``LIMIT %s``); time columns of
    data tables come back as the tool's UTC text, as on SQLite."""
    listed = ", ".join(f"{_utc_text(c)} AS {q(c)}" if c in _TIME_COLUMNS else q(c) for c in columns)
    return _shared.select_columns_sql(
        table, listed, _PLACEHOLDER, order_by=order_by, descending=descending, limit=limit,
        in_column=in_column, in_count=in_count,
    )


def select_ids_in(table: str, count: int) -> str:
    return _shared.select_ids_in_sql(table, count, _PLACEHOLDER)


def row_after(table: str) -> str:
    return _shared.row_after_sql(table, _PLACEHOLDER)


# Tables in the schema (SQLite's backup check counts its file's tables; the same name here).
COUNT_TABLES = (
    "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() "
    "AND table_type = 'BASE TABLE'"
)

SCHEMA_SIZE: str | None = (
    "SELECT COALESCE(SUM(pg_total_relation_size(CAST(quote_ident(table_schema) || '.' || "
    "quote_ident(table_name) AS regclass))), 0) FROM information_schema.tables "
    "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
)


def stage_name(number: int) -> str:
    return f"_json2db_stage_{number}"


# --- the verifier's read-only queries (written once in sql_dialect/checks.py) -----------

# callers write dialect.checks.<query>
checks = _Checks(_pg_checks.PostgresCheckFragments())


# --- report views ------------------------------------------------------------------------
# The hooks sql_dialect/views.py builds the finance views with (same names as .sqlite).

LIST_VIEWS = (
    "SELECT table_name FROM information_schema.views "
    "WHERE table_schema = current_schema() ORDER BY table_name"
)
# A calendar-shaped date: the cast below never meets text it cannot read (short of a
# 31 February, which the verifier's date check reports).
_DATE_PATTERN = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"


def view_date(column: str) -> str:
    c = q(column)
    return f"(CASE WHEN {c} ~ '{_DATE_PATTERN}' THEN substr({c}, 1, 10) END)"


def view_days_past(date_expr: str) -> str:
    return f"(CURRENT_DATE - CAST({date_expr} AS DATE))"


def view_money(expr: str) -> str:
    return f"ROUND(CAST({expr} AS NUMERIC), 2)"


def view_json_integer(column: str, key: str) -> str:
    c = q(column)
    return f"(CASE WHEN left({c}, 1) = '{{' THEN CAST(CAST({c} AS JSONB) ->> '{key}' AS BIGINT) END)"
