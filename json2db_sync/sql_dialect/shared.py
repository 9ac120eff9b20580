"""What both SQL dialects share: internal table names, logical types, identifier rules,
and the statements SQLite and PostgreSQL spell alike; stdlib only.

:mod:`.sqlite` and :mod:`.postgres` import these names (and re-export them, so each
dialect offers the whole :class:`~.protocol.Dialect`); nothing here depends on which
database runs the SQL. A statement is written here once when both engines read the same
text; where they differ only in a word (a placeholder, a type, a date test) the builder
takes that word from the dialect.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence

# --- names of the tool's own tables and the data tables ----------------------------------

DATA_TABLE_PREFIX = "json_"
INTERNAL_PREFIX = "_json2db_"
FILES_TABLE = "_json2db_files"
RUNS_TABLE = "_json2db_runs"
REJECTED_TABLE = "_json2db_rejected"
COLUMNS_TABLE = "_json2db_columns"
TABLES_TABLE = "_json2db_tables"
STATE_TABLE = "_json2db_state"
FOLDERS_TABLE = "_json2db_folders"
OVERFLOW_COLUMN = "_overflow_json"
VIEW_PREFIX = "json2db_"

# --- the logical type lattice ----------------------------------------------------------

TEXT = "TEXT"
INTEGER = "INTEGER"
REAL = "REAL"
UNTYPED = ""  # a column declared without a type: SQLite stores each value as given
TYPE_NAMES = (TEXT, INTEGER, REAL, UNTYPED)
# A physical type only strict dialects declare (an INTEGER column that has held nothing but
# true/false); the column map keeps calling it INTEGER, and SQLite stores 0/1 there.
BOOLEAN = "BOOLEAN"

# Largest integer both databases store exactly; larger ones are kept as text.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

# A scope limits a check to the rows a run wrote: (temp table of ids, key column), the
# key being ``id`` in a main table and ``parent_id`` in a child table.
Scope = tuple[str, str]

# --- identifiers -------------------------------------------------------------------------


def quote_identifier(name: str) -> str:
    """Quote one identifier: wrap in double quotes, double any inside (both databases
    read it so).

    The one place identifiers are quoted, so hostile field or file names can never
    change the meaning of a statement (NUL cannot appear in a name at all).
    """
    if "\x00" in name:
        raise ValueError(f"identifier {name!r} contains a NUL character")
    return '"' + name.replace('"', '""') + '"'


q = quote_identifier


def column_list(columns: Iterable[str]) -> str:
    return ", ".join(q(c) for c in columns)


def fit_identifier(name: str, limit: int | None) -> str:
    """``name`` if it fits ``limit`` bytes (None: no limit), else its start plus a short
    hash of the whole, so that two long names never collapse into one (PostgreSQL would
    cut both at 63 bytes, silently)."""
    if limit is None or len(name.encode()) <= limit:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    head = name.encode()[: limit - 9].decode(errors="ignore")
    return f"{head}_{digest}"


def placeholders(placeholder: str, count: int) -> str:
    """``count`` bound parameters in the dialect's spelling (``?`` or ``%s``)."""
    return ", ".join(placeholder for _ in range(count))


# --- custom column declarations ------------------------------------------------------------

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
    populator fills such columns itself, on either database)."""
    type_name, default = parse_custom_declaration(declaration)
    if default is None or default.upper() in _NON_CONSTANT_DEFAULTS:
        return type_name
    return f"{type_name} DEFAULT {default}"


def is_non_constant_default(declaration: str) -> bool:
    _, default = parse_custom_declaration(declaration)
    return default is not None and default.upper() in _NON_CONSTANT_DEFAULTS


# --- transactions ----------------------------------------------------------------------------

COMMIT = "COMMIT"
ROLLBACK = "ROLLBACK"


def savepoint(name: str) -> str:
    return f"SAVEPOINT {q(name)}"


def rollback_to_savepoint(name: str) -> str:
    return f"ROLLBACK TO SAVEPOINT {q(name)}"


def release_savepoint(name: str) -> str:
    return f"RELEASE SAVEPOINT {q(name)}"


# --- data tables -------------------------------------------------------------------------------

ColumnDefinition = Callable[[str, str], str]


def main_table_ddl(table: str, columns: Sequence[tuple[str, str]], *, time_type: str, define: ColumnDefinition) -> str:
    """DDL for a ``json_<entity>`` table: the standard columns, then ``columns`` (name,
    logical type or custom declaration, written by the dialect's ``define``) in order."""
    lines = [
        f"{q('id')} TEXT PRIMARY KEY NOT NULL",
        f"{q('data_source')} TEXT NOT NULL DEFAULT 'json'",
        f"{q('created_at')} {time_type}",
        f"{q('updated_at')} {time_type}",
    ]
    lines += [define(name, decl) for name, decl in columns]
    return _create_table(table, lines)


def child_table_ddl(
    table: str,
    columns: Sequence[tuple[str, str]],
    *,
    parent_id: str,
    position_type: str,
    time_type: str,
    define: ColumnDefinition,
) -> str:
    """DDL for a child table ``json_<entity>_<field>``: one row per array element,
    replaced as a whole when its parent is written (``parent_id``: the column's
    declaration, with its foreign key where the dialect declares it inline)."""
    lines = [
        f"{q('parent_id')} {parent_id}",
        f"{q('position')} {position_type} NOT NULL",
        f"{q('id')} TEXT",
        f"{q('data_source')} TEXT NOT NULL DEFAULT 'json'",
        f"{q('created_at')} {time_type}",
        f"{q('updated_at')} {time_type}",
    ]
    lines += [define(name, decl) for name, decl in columns]
    lines.append(f"PRIMARY KEY ({q('parent_id')}, {q('position')})")
    return _create_table(table, lines)


def _create_table(table: str, lines: list[str]) -> str:
    body = ",\n  ".join(lines)
    return f"CREATE TABLE {q(table)} (\n  {body}\n)"


def add_column_ddl(table: str, column_definition: str) -> str:
    """``ALTER TABLE ... ADD COLUMN``: schema evolution only ever adds."""
    return f"ALTER TABLE {q(table)} ADD COLUMN {column_definition}"


def index_name_within(table: str, columns: Sequence[str], limit: int | None) -> str:
    return fit_identifier("idx_" + table + "__" + "__".join(columns), limit)


def create_index_named(name: str, table: str, columns: Sequence[str]) -> str:
    return f"CREATE INDEX IF NOT EXISTS {q(name)} ON {q(table)} ({column_list(columns)})"


def empty_strings_to_null(table: str, column: str) -> str:
    """An untyped column found to be numeric: its "" (Zoho's unset) become NULL."""
    return f"UPDATE {q(table)} SET {q(column)} = NULL WHERE {q(column)} = ''"


def drop_table(table: str) -> str:
    """No CASCADE: a view someone built on a json_* table makes the drop fail (with the
    database naming the view) rather than vanish with it."""
    return f"DROP TABLE IF EXISTS {q(table)}"


def count_rows(table: str) -> str:
    return f"SELECT COUNT(*) FROM {q(table)}"


def row_after_sql(table: str, placeholder: str) -> str:
    """A row past the first n (n bound): none when the table holds at most n rows. Reads
    n + 1 rows at most, where a count reads the whole table (a scan on PostgreSQL)."""
    return f"SELECT 1 FROM {q(table)} LIMIT 1 OFFSET {placeholder}"


def upsert_sql(table: str, columns: Sequence[str], source: str, newest_wins: bool, merge_overflow: ColumnDefinition) -> str:
    """Insert records (``source``: ``VALUES (...)`` or a ``SELECT``), or update only the
    columns they carry.

    ``columns`` starts with id, data_source, created_at, updated_at. With
    ``newest_wins`` the update happens only when the incoming ``updated_at`` is not
    older than the stored one, so a late stale session never overwrites newer data.
    ``created_at`` keeps the first value seen; the overflow column is merged by the
    dialect's ``merge_overflow(stored, incoming)``: what a record carries replaces, what
    it lacks stays.
    """
    updates = []
    for column in columns:
        if column == "id":
            continue
        incoming = f"EXCLUDED.{q(column)}"
        stored = f"{q(table)}.{q(column)}"
        if column == "created_at":
            updates.append(f"{q(column)} = COALESCE({stored}, {incoming})")
        elif column == OVERFLOW_COLUMN:
            updates.append(f"{q(column)} = {merge_overflow(stored, incoming)}")
        else:
            updates.append(f"{q(column)} = {incoming}")
    sql = (
        f"INSERT INTO {q(table)} ({column_list(columns)}) {source} "
        f"ON CONFLICT ({q('id')}) DO UPDATE SET {', '.join(updates)}"
    )
    if newest_wins:
        stored_time = f"{q(table)}.{q('updated_at')}"
        sql += f" WHERE {stored_time} IS NULL OR EXCLUDED.{q('updated_at')} >= {stored_time}"
    return sql


def insert_rows_sql(table: str, columns: Sequence[str], placeholder: str) -> str:
    return f"INSERT INTO {q(table)} ({column_list(columns)}) VALUES ({placeholders(placeholder, len(columns))})"


def delete_children_sql(table: str, count: int, placeholder: str) -> str:
    """Delete the children of ``count`` parents (ids bound as parameters)."""
    return f"DELETE FROM {q(table)} WHERE {q('parent_id')} IN ({placeholders(placeholder, count)})"


def select_ids_in_sql(table: str, count: int, placeholder: str) -> str:
    """The ids among ``count`` bound ids that have a row (for the source-count check)."""
    return f"SELECT {q('id')} FROM {q(table)} WHERE {q('id')} IN ({placeholders(placeholder, count)})"


def select_columns_sql(
    table: str,
    listed: str,
    placeholder: str,
    *,
    order_by: str | None,
    descending: bool,
    limit: bool,
    in_column: str | None,
    in_count: int,
) -> str:
    """SELECT ``listed`` (the dialect's rendering of the columns) of a table; used to
    read internal tables whose older versions may lack some columns."""
    sql = f"SELECT {listed} FROM {q(table)}"
    if in_column is not None:
        # only the rows whose column holds one of ``in_count`` bound values
        sql += f" WHERE {q(in_column)} IN ({placeholders(placeholder, in_count)})"
    if order_by:
        sql += f" ORDER BY {q(order_by)}{' DESC' if descending else ''}"
    if limit:
        sql += f" LIMIT {placeholder}"
    return sql


# --- report views ------------------------------------------------------------------------------


def drop_view(name: str) -> str:
    return f"DROP VIEW IF EXISTS {q(name)}"


def create_view(name: str, select: str) -> str:
    return f"CREATE VIEW {q(name)} AS\n{select}"


def select_all(name: str) -> str:
    """Every row of a view (or table), in its own order."""
    return f"SELECT * FROM {q(name)}"
