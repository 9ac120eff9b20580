"""SQLite dialect: SQL text for the embedded default database; stdlib only.

Every identifier that comes from data goes through :func:`quote_identifier`; every
value is a ``?`` parameter. :mod:`.postgres` provides the same names for PostgreSQL (both
satisfy :class:`.protocol.Dialect`); the names both share, and the SQL both read alike,
come from :mod:`.shared`, :mod:`.internal_tables` and :mod:`.checks`.
"""

from __future__ import annotations

from collections.abc import Sequence as _Sequence
from functools import lru_cache as _lru_cache

from . import shared as _shared
from .checks import Checks as _Checks
from .internal_tables import InternalSQL as _InternalSQL
from .internal_tables import InternalTypes as _InternalTypes
from .internal_tables import insert_or_replace as _insert_or_replace
from .shared import BOOLEAN, INTEGER, REAL
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

# Temporary storage on disk (``temp_store = FILE``, said explicitly since a build may default
# to memory): each file loads in a savepoint, and a savepoint keeps the old content of every
# page it changes that the run's transaction had already written, in a temporary
# "sub-journal". In memory, that journal grew with the file and with the database (re-sent
# records rewrite old pages): a 300,000-invoice populate peaked at 687 MiB with it in memory
# and 301 MiB with it on disk, for the same time (docs/performance.md, "Memory").
PRAGMAS_ON_OPEN = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA temp_store = FILE",
    "PRAGMA cache_size = -65536",
)
PRAGMA_WAL = "PRAGMA journal_mode = WAL"
PRAGMA_JOURNAL_DELETE = "PRAGMA journal_mode = DELETE"
PRAGMA_SYNCHRONOUS_NORMAL = "PRAGMA synchronous = NORMAL"
PRAGMA_INTEGRITY_CHECK = "PRAGMA integrity_check"
COUNT_TABLES = "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
# A file's size is read from the disk (destinations.sqlite), not asked of the database.
SCHEMA_SIZE: str | None = None
PRAGMA_FOREIGN_KEY_CHECK = "PRAGMA foreign_key_check"
# The verifier runs SQLite's own page and foreign-key checks (PostgreSQL: not applicable).
INTEGRITY_CHECK_APPLIES = True
FOREIGN_KEY_CHECK_APPLIES = True
INTEGRITY_CHECK_NOT_APPLICABLE = ""
FOREIGN_KEY_CHECK_NOT_APPLICABLE = ""


def integrity_check_table(table: str) -> str:
    """integrity_check limited to one table and its indexes (SQLite 3.33+)."""
    return f"PRAGMA integrity_check({quote_identifier(table)})"


def foreign_key_check_table(table: str) -> str:
    return f"PRAGMA foreign_key_check({quote_identifier(table)})"


def foreign_key_list(table: str) -> str:
    """The declared foreign keys of a table: (id, seq, parent, from, to, ...) per column."""
    return f"PRAGMA foreign_key_list({quote_identifier(table)})"


BEGIN_IMMEDIATE = "BEGIN IMMEDIATE"
BEGIN_WRITE = BEGIN_IMMEDIATE  # the writer's transaction: takes the write lock at once

_PLACEHOLDER = "?"


def _is_data_table(column: str) -> str:
    return f"{column} LIKE 'json\\_%' ESCAPE '\\'"


LIST_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
LIST_DATA_TABLES = f"SELECT name FROM sqlite_master WHERE type = 'table' AND {_is_data_table('name')} ORDER BY name"


# --- internal tables (specified once in sql_dialect/internal_tables.py) -------------------

# The internal tables and their statements (sql_dialect/internal_tables.py) in this
# dialect's spelling: callers write dialect.internal.<statement>.
internal = _InternalSQL(
    types=_InternalTypes(integer=INTEGER, real=REAL, serial="INTEGER PRIMARY KEY"),
    placeholder=_PLACEHOLDER,
    replace=_insert_or_replace,  # (keeps the column map's row order as it always was)
    is_data_table=_is_data_table,
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


def _column_definition(name: str, declaration: str) -> str:
    return f"{q(name)} {declaration}" if declaration else q(name)


def create_main_table(table: str, columns: _Sequence[tuple[str, str]]) -> str:
    """DDL for a ``json_<entity>`` table: the standard columns, then ``columns``
    (name, declaration) in order."""
    return _shared.main_table_ddl(table, columns, time_type="TEXT", define=_column_definition)


def create_child_table(table: str, parent: str, columns: _Sequence[tuple[str, str]]) -> str:
    """DDL for a child table ``json_<entity>_<field>``: one row per array element,
    replaced as a whole when its parent is written (its foreign key declared inline)."""
    return _shared.child_table_ddl(
        table,
        columns,
        parent_id=f"TEXT NOT NULL REFERENCES {q(parent)}({q('id')}) ON DELETE CASCADE",
        position_type="INTEGER",
        time_type="TEXT",
        define=_column_definition,
    )


def add_foreign_key(child: str, parent: str) -> str:
    """SQLite cannot add a foreign key to a table: :func:`create_child_table` declares it
    inline (``DEFERRED_FOREIGN_KEYS`` is False, so this is never asked for)."""
    raise NotImplementedError("SQLite declares a child table's foreign key inline; it cannot add one later")


def add_column(table: str, column: str, declaration: str) -> str:
    """``ALTER TABLE ... ADD COLUMN``: schema evolution only ever adds."""
    return _shared.add_column_ddl(table, _column_definition(column, declaration))


def index_name(table: str, columns: _Sequence[str]) -> str:
    return _shared.index_name_within(table, columns, MAX_IDENTIFIER_BYTES)


LIST_INDEXES = "SELECT name FROM sqlite_master WHERE type = 'index'"


def create_index(table: str, columns: _Sequence[str]) -> str:
    return _shared.create_index_named(index_name(table, columns), table, columns)


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


def _merge_overflow(stored: str, incoming: str) -> str:
    """Overflow fields merge like columns do: what a record carries replaces, what it
    lacks stays (SQLite's json_patch)."""
    return f"CASE WHEN {incoming} IS NULL THEN {stored} ELSE json_patch(COALESCE({stored}, '{{}}'), {incoming}) END"


@_lru_cache(maxsize=4096)
def upsert_main(table: str, columns: tuple[str, ...], newest_wins: bool) -> str:
    """Insert one record, or update only the columns it carries (see
    :func:`.shared.upsert_sql`: newest wins, ``created_at`` keeps the first value)."""
    source = f"VALUES ({_shared.placeholders(_PLACEHOLDER, len(columns))})"
    return _shared.upsert_sql(table, columns, source, newest_wins, _merge_overflow)


@_lru_cache(maxsize=4096)
def insert_rows(table: str, columns: tuple[str, ...]) -> str:
    return _shared.insert_rows_sql(table, columns, _PLACEHOLDER)


def delete_children(table: str, count: int) -> str:
    """Delete the children of ``count`` parents (ids bound as parameters)."""
    return _shared.delete_children_sql(table, count, _PLACEHOLDER)


def select_updated_at(table: str, count: int) -> str:
    """Stored ``updated_at`` of ``count`` ids, to classify a batch before writing it."""
    return _by_ids(table, ("id", "updated_at"), count)


def select_parent_times(table: str, count: int) -> str:
    """Stored ``created_at`` and ``updated_at`` of ``count`` parents (line items loaded from
    their own file take their parent's times, and newest-wins compares with them)."""
    return _by_ids(table, ("id", "created_at", "updated_at"), count)


def _by_ids(table: str, columns: _Sequence[str], count: int) -> str:
    return select_columns(table, columns, in_column="id", in_count=count)


# --- read-only queries (verifier, summary_reporter) ---------------------------------
# The checks themselves are written once (sql_dialect/checks.py); these are SQLite's
# pieces of them.

# Zoho timestamps as stored: 2026-06-09T16:48:58-0400 (the shape checked in SQL;
# anything else is looked at in Python).
_ZOHO_TIMESTAMP_GLOB = (
    "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9][+-][0-9][0-9][0-9][0-9]"
)


class _SQLiteCheckFragments:
    """The :class:`.checks.CheckFragments` of SQLite: values are compared as stored (a
    column holds each value with its own type), ``typeof`` tells numbers from text."""

    placeholder = _PLACEHOLDER
    row_id = "rowid"
    temp_schema = "temp"

    def text(self, expr: str) -> str:
        return expr

    def row_label(self, alias: str) -> str:
        return f"'rowid ' || {alias}.rowid"

    def sort_text(self, expr: str) -> str:
        return expr

    def order_by_label(self, label_expr: str) -> str:
        return ""  # first_distinct orders the examples

    def first_distinct(self, query: str) -> str:
        """The first ``?`` distinct rows of a one-column query, in order (for examples)."""
        return f"SELECT DISTINCT * FROM ({query}) ORDER BY 1 LIMIT ?"

    def is_date(self, value: str) -> str:
        return f"typeof({value}) = 'text' AND date({value}, '+0 days') IS {value}"

    def is_timestamp(self, value: str) -> str:
        day, clock = f"substr({value}, 1, 10)", f"substr({value}, 12, 8)"
        return (
            f"typeof({value}) = 'text' AND {value} GLOB '{_ZOHO_TIMESTAMP_GLOB}' "
            f"AND date({day}, '+0 days') IS {day} AND time({clock}) IS {clock}"
        )

    def not_a_number(self, column: str) -> str:
        return f"typeof({column}) NOT IN ('integer', 'real', 'null') AND {column} <> ''"

    def below_zero(self, column: str, typed: bool) -> str:
        """SQLite does not enforce declared types: the value's own type is always looked at."""
        return f"typeof({column}) IN ('integer', 'real') AND {column} < 0"

    def subtotal_terms(self, typed: bool) -> tuple[str, str, str]:
        sub_total = f"p.{q('sub_total')}"
        return sub_total, f"TOTAL({q('item_total')})", f"typeof({sub_total}) IN ('integer', 'real') AND "


# callers write dialect.checks.<query>
checks = _Checks(_SQLiteCheckFragments())


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
    """SELECT the given columns of a table (``limit`` adds ``LIMIT ?``); used to read
    internal tables whose older versions may lack some columns."""
    return _shared.select_columns_sql(
        table, _shared.column_list(columns), _PLACEHOLDER, order_by=order_by, descending=descending,
        limit=limit, in_column=in_column, in_count=in_count,
    )


def max_value(table: str, column: str) -> str:
    return f"SELECT MAX({q(column)}) FROM {q(table)}"


def select_ids_in(table: str, count: int) -> str:
    """The ids among ``count`` bound ids that have a row (for the source-count check)."""
    return _shared.select_ids_in_sql(table, count, _PLACEHOLDER)


def row_after(table: str) -> str:
    return _shared.row_after_sql(table, _PLACEHOLDER)


# --- report views ------------------------------------------------------------------------
# The finance views (see sql_dialect/views.py for their shared text and report_views.py for
# which are made). These hooks are the only places the two dialects' view SQL differs.

LIST_VIEWS = "SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name"


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

SELECT_COLUMN_DESCRIPTIONS = internal.select_column_map

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
        {_shared.FILES_TABLE: ("entity", "records", "data_timestamp")},
        f"SELECT entity, COUNT(*) AS files, SUM(records) AS records, MAX(data_timestamp) AS newest_data\n"
        f"FROM {_shared.FILES_TABLE} GROUP BY entity ORDER BY entity",
    ),
    "rejected_records": (
        "Rejected records",
        "Records quarantined because they had no usable id, newest first.",
        {_shared.REJECTED_TABLE: ("entity", "source_file", "reason", "rejected_at")},
        f"SELECT entity, source_file, reason, rejected_at, raw_json FROM {_shared.REJECTED_TABLE} ORDER BY rejected_id DESC",
    ),
}
