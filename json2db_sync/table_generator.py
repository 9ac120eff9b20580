"""Table generator stage: the only place that runs DDL (create, add column, index, drop).

May import stdlib, ``errors``, ``sql_dialect``, ``json_analyzer``, ``destinations``
(``savepoint``) and ``report_views`` (to drop the views a change would block). Schema
evolution adds tables and columns and widens a column's type where later data needs it
(PostgreSQL ``ALTER COLUMN ... TYPE``; on SQLite an INTEGER column becomes REAL through a
twin column); nothing is dropped, except by :func:`recreate_tables`, which drops
``json_*`` tables only.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from . import sql_dialect as sd
from .destinations import savepoint
from .errors import ConfigError
from .json_analyzer import (
    KIND_FLOAT,
    KIND_TEXT,
    NUMERIC_TYPES,
    ColumnSpec,
    EntityPlan,
    Limits,
    TablePlan,
    only_booleans,
    path_key,
    sql_type_for,
)
from .report_views import drop_report_views
from .sql_dialect import Dialect
from .sql_dialect import sqlite as sqlite_dialect

logger = logging.getLogger(__name__)

# Columns worth an index for reporting joins (a document's customer, a line's item).
REFERENCE_COLUMNS = ("customer_id", "vendor_id", "item_id", "invoice_id", "bill_id", "account_id")


# A connection of either database (``destinations.sqlite.SQLiteConnection`` or
# ``destinations.postgres.PostgresConnection``); its ``dialect`` gives the SQL.
Connection = Any


def ensure_internal_tables(conn: Connection) -> None:
    """Create the ledger, run history, quarantine and mapping tables if missing."""
    for statement in conn.dialect.internal.tables_ddl:
        conn.execute(statement)
    _upgrade_internal_tables(conn)
    for statement in conn.dialect.internal.indexes_ddl:
        conn.execute(statement)


def _upgrade_internal_tables(conn: Connection) -> None:
    """Add columns that newer versions keep in internal tables to older databases."""
    wanted = {
        sd.FILES_TABLE: [("data_timestamp", "TEXT"), ("ctime_ns", "INTEGER")],
        sd.COLUMNS_TABLE: [("kinds", "TEXT NOT NULL DEFAULT ''"), ("is_json_array", "INTEGER NOT NULL DEFAULT 0")],
    }
    for table, columns in wanted.items():
        have = existing_columns(conn, table)
        for name, declaration in columns:
            if name not in have:
                conn.execute(conn.dialect.add_column(table, name, declaration))


def existing_columns(conn: Connection, table: str) -> set[str]:
    """Lower-cased column names of a table (empty when the table does not exist)."""
    return {row[0].lower() for row in conn.execute(*conn.dialect.columns_of(table))}


def declared_types(conn: Connection, table: str) -> dict[str, str]:
    """Lower-cased column name → logical type (TEXT, INTEGER, REAL or "" untyped)."""
    dialect = conn.dialect
    return {row[0].lower(): dialect.logical_type(row[1] or "") for row in conn.execute(*dialect.columns_of(table))}


def existing_tables(conn: Connection) -> set[str]:
    return {row[0] for row in conn.execute(conn.dialect.LIST_TABLES)}


def data_tables(conn: Connection) -> list[str]:
    return [row[0] for row in conn.execute(conn.dialect.LIST_DATA_TABLES)]


def validate_custom_columns(custom_columns: Mapping[str, str]) -> dict[str, str]:
    """Check every custom column declaration now, so a typo fails before any work."""
    checked: dict[str, str] = {}
    for name, declaration in custom_columns.items():
        if name in ("id", "data_source", "created_at", "updated_at"):
            continue  # already a standard column of every table
        try:
            sd.parse_custom_declaration(declaration)
        except ValueError as exc:
            raise ConfigError(
                f"custom column {name!r}: {exc}; fix processing.custom_columns in the config "
                "file or the custom_columns argument"
            ) from None
        checked[name] = declaration
    return checked


def load_stored_plans(
    conn: Connection, *, custom_columns: Mapping[str, str] | None = None
) -> dict[str, EntityPlan]:
    """Rebuild the plans the database already holds, so that column names and types stay
    the same from run to run."""
    tables = existing_tables(conn)
    if sd.TABLES_TABLE not in tables or sd.COLUMNS_TABLE not in tables:
        return {}
    reserved = tuple(custom_columns or ())
    dialect = conn.dialect
    registry = conn.execute(dialect.internal.select_table_registry).fetchall()
    taken = {name.lower() for name in tables}
    plans: dict[str, EntityPlan] = {}
    for table_name, entity, parent, field_name, id_field in registry:
        if parent is None:
            plans[entity] = EntityPlan.new(
                entity, id_field, reserved, taken_tables=taken, table_name=table_name, limits=limits_of(dialect)
            )
    for table_name, entity, parent, field_name, id_field in registry:
        if parent is not None and entity in plans:
            plans[entity].child_plan(field_name, table_name=table_name)
    by_table = {table.name: (plan, table) for plan in plans.values() for table in plan.tables()}
    for table_name, raw_path, column_name, sql_type, kinds, is_json_array in conn.execute(
        dialect.internal.select_column_map
    ):
        if table_name not in by_table:
            continue
        plan, table = by_table[table_name]
        path = tuple(json.loads(raw_path))
        is_overflow = column_name == sd.OVERFLOW_COLUMN
        table.columns[path] = ColumnSpec(column_name, path, sql_type, is_overflow)
        table.kinds[path] = {k for k in kinds.split(",") if k}
        table.used_names.add(column_name.lower())
        table.saved_state[path] = (column_name, sql_type, kinds)
        for depth in range(1, len(path)):
            table.object_prefixes.add(path[:depth])
        if is_json_array and table is plan.main:
            plan.json_array_fields.add(path[0])
    for plan, table in by_table.values():
        table.declared = declared_types(conn, table.name)
        table.existing_columns = set(table.declared)
        table.exists = bool(table.existing_columns)
        table.conflict_paths = {
            path
            for path, spec in table.columns.items()
            if spec.sql_type in NUMERIC_TYPES and KIND_TEXT in table.kinds.get(path, ())
        }
        # An INTEGER column that a past load filled with fractions as well (before columns
        # were widened): widened by the next load.
        table.pending_widen = {
            path
            for path, spec in table.columns.items()
            if spec.sql_type == sd.INTEGER and KIND_FLOAT in table.kinds.get(path, ())
        }
    return plans


def limits_of(dialect: Dialect) -> Limits:
    """What the database allows: identifier length, columns per table, strict types."""
    return Limits(
        max_identifier_bytes=dialect.MAX_IDENTIFIER_BYTES,
        max_data_columns=dialect.MAX_COLUMNS - 16,
        strict_types=dialect.STRICT_TYPES,
    )


def registered_table_names(conn: Connection) -> set[str]:
    """Lower-cased names of the tables json2db_sync created (its table registry)."""
    if sd.TABLES_TABLE not in existing_tables(conn):
        return set()
    return {row[0].lower() for row in conn.execute(conn.dialect.internal.select_table_registry)}


def taken_table_names(conn: Connection) -> set[str]:
    """Lower-cased names of every table in the database (new tables must avoid them)."""
    return {name.lower() for name in existing_tables(conn)}


def _table_columns_ddl(
    table: TablePlan, custom_columns: Mapping[str, str], *, for_add: bool, dialect: Dialect = sqlite_dialect
) -> list[tuple[str, str]]:
    """(name, declaration) pairs for the custom and data columns of a table."""
    pairs: list[tuple[str, str]] = []
    for name, declaration in custom_columns.items():
        decl = dialect.custom_declaration_for_add(declaration) if for_add else declaration
        pairs.append((name, decl))
    seen: set[str] = set()
    for spec in table.columns.values():
        if spec.name.lower() in seen:
            continue
        seen.add(spec.name.lower())
        pairs.append((spec.name, physical_type(table, spec, dialect)))
    if table.conflict_paths and sd.OVERFLOW_COLUMN.lower() not in seen:
        pairs.append((sd.OVERFLOW_COLUMN, sd.TEXT))
    return pairs


def plan_ddl(
    plan: EntityPlan,
    *,
    custom_columns: Mapping[str, str] | None = None,
    include_indexes: bool = True,
    dialect: Dialect = sqlite_dialect,
) -> dict[str, list[str]]:
    """The DDL that would bring the database to ``plan``, per table, without running it.

    Tables the database lacks get a CREATE TABLE; existing ones an ALTER TABLE per new
    column. ``dialect`` is the destination's (SQLite unless told).
    """
    custom = dict(custom_columns or {})
    statements: dict[str, list[str]] = {}
    for table in plan.tables():
        table.resolve_types_for_new()
        table_statements: list[str] = []
        if not table.exists:
            table_statements.append(plan_ddl_for_table(table, custom, dialect))
            if table.parent is not None and dialect.DEFERRED_FOREIGN_KEYS:
                table_statements.append(dialect.add_foreign_key(table.name, table.parent))
        else:
            for name, declaration in _table_columns_ddl(table, custom, for_add=True, dialect=dialect):
                if name.lower() not in table.existing_columns:
                    table_statements.append(dialect.add_column(table.name, name, declaration))
        if include_indexes:
            table_statements.extend(index_statements(table, plan, dialect))
        statements[table.name] = table_statements
    return statements


def index_columns(table: TablePlan, plan: EntityPlan) -> list[list[str]]:
    """The indexed column lists: ``updated_at`` (newest-wins lookups, and the summary's
    newest time per table, which a run's report would otherwise read whole child tables
    for) and the usual reporting joins."""
    wanted: list[list[str]] = [["updated_at"]]
    names = {spec.name for spec in table.columns.values()}
    for column in REFERENCE_COLUMNS:
        if column in names and column != plan.id_field:
            wanted.append([column])
    return wanted


def index_statements(table: TablePlan, plan: EntityPlan, dialect: Dialect = sqlite_dialect) -> list[str]:
    return [dialect.create_index(table.name, columns) for columns in index_columns(table, plan)]


def _create_missing_indexes(conn: Connection, table: TablePlan, plan: EntityPlan, existing: set[str]) -> None:
    """Only the indexes that are missing: even ``CREATE INDEX IF NOT EXISTS`` takes a lock on
    the table in PostgreSQL, which a running autovacuum or a long report would hold up."""
    dialect = conn.dialect
    for columns in index_columns(table, plan):
        name = dialect.index_name(table.name, columns)
        if name not in existing:
            conn.execute(dialect.create_index(table.name, columns))
            existing.add(name)


def existing_indexes(conn: Connection) -> set[str]:
    return {row[0] for row in conn.execute(conn.dialect.LIST_INDEXES)}


def apply_plan(
    conn: Connection,
    plan: EntityPlan,
    *,
    custom_columns: Mapping[str, str] | None = None,
    include_indexes: bool = False,
) -> list[str]:
    """Create or extend the tables of ``plan`` and store its column mapping.

    Returns the statements it ran. Cheap when nothing is new, so the populator calls it
    once per batch.
    """
    custom = dict(custom_columns or {})
    dialect = conn.dialect
    executed: list[str] = []
    indexes: set[str] | None = None  # the schema's index names, listed once when needed
    for table in plan.tables():
        if table.exists and table.applied_revision == table.revision and not include_indexes:
            continue  # nothing new since the last call (the usual batch)
        table.resolve_types_for_new()
        if not table.exists:
            statement = plan_ddl_for_table(table, custom, dialect)
            conn.execute(statement)
            executed.append(statement)
            table.exists = True
            table.declared = declared_types(conn, table.name)
            table.existing_columns = set(table.declared)
            _register_table(conn, plan, table)
        else:
            for name, declaration in _table_columns_ddl(table, custom, for_add=True, dialect=dialect):
                if name.lower() not in table.existing_columns:
                    statement = dialect.add_column(table.name, name, declaration)
                    conn.execute(statement)
                    executed.append(statement)
                    table.existing_columns.add(name.lower())
                    known = (*sd.TYPE_NAMES, sd.BOOLEAN)
                    table.declared[name.lower()] = declaration if declaration in known else sd.TEXT
                    logger.info("added column %s.%s (%s)", table.name, name, declaration)
        if dialect.STRICT_TYPES:
            executed.extend(_retype_untyped(conn, table))
        else:
            _clear_empty_strings(conn, table)
            executed.extend(_widen_integers(conn, table))
        table.pending_null_fixups.clear()
        table.pending_widen.clear()
        _save_mapping(conn, plan, table)
        table.applied_revision = table.revision
        if include_indexes:
            if indexes is None:
                indexes = existing_indexes(conn)
            _create_missing_indexes(conn, table, plan, indexes)
    if executed:
        conn.schema_changed()
        logger.info("schema for %s: %d statement(s)", plan.entity, len(executed))
    return executed


def _clear_empty_strings(conn: Connection, table: TablePlan) -> None:
    """SQLite: an untyped column that turned out numeric gets its "" set to NULL (decided
    on the batch's final votes)."""
    numeric_now = {
        spec.name for spec in table.columns.values()
        if sql_type_for(table.kinds.get(spec.path, ())) in NUMERIC_TYPES
    }
    for column in sorted(table.pending_null_fixups & numeric_now):
        conn.execute(conn.dialect.empty_strings_to_null(table.name, column))
        logger.info("%s.%s turned out numeric: its empty strings are now NULL", table.name, column)


def _widen_integers(conn: Connection, table: TablePlan) -> list[str]:
    """SQLite: an INTEGER column (typed by the first batch that held it) that receives a
    fraction becomes REAL, as PostgreSQL's BIGINT becomes NUMERIC in :func:`_retype_untyped`.

    SQLite would store the fraction exactly in the INTEGER column anyway, but then the
    declared type says INTEGER while the data (and an analysis of it) says REAL. A column
    that a view, trigger or index names is left alone (SQLite cannot drop it; the check is
    cheap, a failed attempt would copy the column on every run); the tool's own report views
    are dropped first, and made again at the end of the run, so they never hold a widening
    up. The rest runs in a
    savepoint: where SQLite still cannot drop the old column (before 3.35), the column keeps
    INTEGER, its values stay exact, and a warning says so.
    """
    statements: list[str] = []
    views_dropped = False
    for path in sorted(table.pending_widen):
        spec = table.columns.get(path)
        if spec is None or spec.is_overflow or spec.sql_type != sd.INTEGER:
            continue
        name = spec.name.lower()
        if name not in table.existing_columns:
            continue
        numbers = set(table.kinds.get(path, ())) - {KIND_TEXT}
        if sql_type_for(numbers) != sd.REAL:
            continue
        if not views_dropped:
            drop_report_views(conn)
            views_dropped = True
        users = [row[0] for row in conn.execute(
            conn.dialect.SELECT_OBJECTS_USING_COLUMN, conn.dialect.objects_using_column_params(table.name, spec.name)
        )]
        if users:
            logger.info(
                "%s.%s holds fractions but stays INTEGER (its values are kept exactly): %s use it, "
                "and SQLite cannot retype a column something else depends on", table.name, spec.name, ", ".join(users),
            )
            continue
        scratch = sd.fit_identifier(f"{spec.name}__widen", conn.dialect.MAX_IDENTIFIER_BYTES)
        widen = conn.dialect.widen_to_real(table.name, spec.name, scratch)
        try:
            with savepoint(conn, "json2db_widen"):
                for statement in widen:
                    conn.execute(statement)
        except sqlite3.Error as exc:
            logger.warning(
                "%s.%s holds fractions but stays INTEGER (its values are kept exactly): %s",
                table.name, spec.name, exc,
            )
            continue
        statements.extend(widen)
        spec.sql_type = sd.REAL  # the column map records the wider type
        table.declared[name] = sd.REAL
        table.forget_layouts()
        logger.info("%s.%s holds fractions: column widened to REAL", table.name, spec.name)
    return statements


def physical_type(table: TablePlan, spec: ColumnSpec, dialect: Dialect = sqlite_dialect) -> str:
    """The type a column is declared with: its logical type, except that a strict dialect
    (PostgreSQL) declares a column that has held nothing but true/false BOOLEAN."""
    if dialect.STRICT_TYPES and spec.sql_type in (sd.INTEGER, sd.UNTYPED):
        if only_booleans(table.kinds.get(spec.path, ())):
            return sd.BOOLEAN
    return spec.sql_type


def _retype_untyped(conn: Connection, table: TablePlan) -> list[str]:
    """Where column types are strict (PostgreSQL), settle a column's type once its values
    say what it holds, instead of letting the database refuse or round them:

    * a column created while only "" and null had been seen is declared TEXT, then
      retyped to BOOLEAN, BIGINT or NUMERIC ("" becoming NULL) when values come, and
      back to TEXT if text comes after all;
    * a BOOLEAN column that receives other whole numbers becomes BIGINT (true/false as
      1/0), and a BIGINT one that receives a fraction (money that was whole in the first
      batch) is widened to NUMERIC, which holds every BIGINT exactly.
    """
    statements: list[str] = []
    for spec in table.columns.values():
        if spec.is_overflow or spec.sql_type not in (sd.UNTYPED, sd.INTEGER):
            continue
        name = spec.name.lower()
        if name not in table.declared:
            continue
        kinds = set(table.kinds.get(spec.path, ()))
        if spec.sql_type == sd.INTEGER:
            # Text in a number column is a conflict, kept in the overflow JSON: only the
            # numbers decide how wide the column must be.
            kinds.discard(KIND_TEXT)
        wanted = sd.BOOLEAN if only_booleans(kinds) else sql_type_for(kinds)
        have = table.declared[name] or sd.TEXT
        if wanted in (sd.UNTYPED, have) or (have, wanted) == (sd.INTEGER, sd.BOOLEAN):
            continue
        if spec.sql_type == sd.INTEGER and wanted == sd.REAL:
            spec.sql_type = sd.REAL  # the column map records the wider type
        statement = conn.dialect.retype_column(table.name, spec.name, have, wanted)
        if not statements:
            drop_report_views(conn)  # PostgreSQL refuses to retype a column a view reads
        conn.execute(statement)
        statements.append(statement)
        table.declared[name] = wanted
        table.forget_layouts()
        logger.info("%s.%s holds %s values: column retyped", table.name, spec.name, wanted)
    return statements


def plan_ddl_for_table(table: TablePlan, custom: Mapping[str, str], dialect: Dialect = sqlite_dialect) -> str:
    columns = _table_columns_ddl(table, custom, for_add=False, dialect=dialect)
    if table.parent is None:
        return dialect.create_main_table(table.name, columns)
    return dialect.create_child_table(table.name, table.parent, columns)


def ensure_foreign_keys(conn: Connection, plans: Iterable[EntityPlan]) -> list[str]:
    """Where the dialect adds child tables' foreign keys after their rows (PostgreSQL),
    add those still missing; every run that may create a child table calls this before it
    commits. Returns the statements run (none on SQLite, which declares them inline)."""
    dialect = conn.dialect
    if not dialect.DEFERRED_FOREIGN_KEYS:
        return []
    linked = {row[0] for row in conn.execute(dialect.TABLES_WITH_FOREIGN_KEYS)}
    statements = []
    for plan in plans:
        for table in plan.children.values():
            if table.exists and table.name not in linked:
                statement = dialect.add_foreign_key(table.name, plan.main.name)
                conn.execute(statement)
                statements.append(statement)
    return statements


def ensure_indexes(conn: Connection, plans: Iterable[EntityPlan]) -> None:
    """Build the missing secondary indexes once, after the rows are in (cheaper than row by
    row)."""
    existing = existing_indexes(conn)
    for plan in plans:
        for table in plan.tables():
            if table.exists:
                _create_missing_indexes(conn, table, plan, existing)


def _register_table(conn: Connection, plan: EntityPlan, table: TablePlan) -> None:
    conn.execute(
        conn.dialect.internal.insert_table_registry,
        (table.name, plan.entity, table.parent, table.field, table.id_field),
    )


def _save_mapping(conn: Connection, plan: EntityPlan, table: TablePlan) -> None:
    """Store new paths, and kinds that changed, so names and types survive the run."""
    rows = []
    for path, spec in table.columns.items():
        kinds = ",".join(sorted(table.kinds.get(path, ())))
        marker = (spec.name, spec.sql_type, kinds)
        if table.saved_state.get(path) == marker:
            continue
        is_json = int(table is plan.main and len(path) == 1 and path[0] in plan.json_array_fields)
        rows.append((table.name, path_key(path), spec.name, spec.sql_type, kinds, is_json))
        table.saved_state[path] = marker
    if rows:
        conn.executemany(conn.dialect.internal.insert_column_map, rows)


def schema_changes(conn: Connection | None, plan: EntityPlan) -> list[dict[str, Any]]:
    """What the database lacks for ``plan``: new tables, new columns, type conflicts.

    Empty when the database already fits (so ``if analysis["schema_changes_required"]``
    reads naturally).
    """
    changes: list[dict[str, Any]] = []
    for table in plan.tables():
        if not table.exists:
            changes.append({"table": table.name, "change": "new_table"})
            continue
        declared = declared_types(conn, table.name) if conn is not None else {}
        for spec in table.columns.values():
            if spec.is_overflow and sd.OVERFLOW_COLUMN.lower() in table.existing_columns:
                continue
            name = spec.name.lower()
            wanted = sql_type_for(table.kinds.get(spec.path, ()))
            if name not in table.existing_columns:
                changes.append(
                    {"table": table.name, "change": "new_column", "column": spec.name, "type": wanted}
                )
            elif declared.get(name) and not _type_fits(declared[name], wanted):
                changes.append(
                    {
                        "table": table.name,
                        "change": "type_conflict",
                        "column": spec.name,
                        "declared": declared[name],
                        "found": wanted,
                    }
                )
    return changes


def _type_fits(declared: str, wanted: str) -> bool:
    """Whether values of ``wanted`` type keep their meaning in a ``declared`` column."""
    if declared == wanted or declared in (sd.TEXT, sd.UNTYPED) or wanted == sd.UNTYPED:
        return True
    if declared == sd.BOOLEAN:
        return wanted == sd.INTEGER  # widened to BIGINT by the load if other numbers came
    return declared == sd.REAL and wanted == sd.INTEGER


def recreate_tables(conn: Connection) -> list[str]:
    """Drop every ``json_*`` table (children first) and forget their mapping and ledger.

    The report views go first (the caller makes them again once the tables exist);
    never touches any other table or view. Returns the dropped table names.
    """
    drop_report_views(conn)  # PostgreSQL refuses to drop a table a view reads
    tables = data_tables(conn)
    children = [t for t in tables if _is_child(conn, t)]
    parents = [t for t in tables if t not in children]
    dialect = conn.dialect
    for table in [*children, *parents]:
        conn.execute(dialect.drop_table(table))
    ensure_internal_tables(conn)
    conn.execute(dialect.internal.clear_file_ledger)
    conn.execute(dialect.internal.clear_settled_folders)
    conn.execute(dialect.internal.clear_column_map_for_data)
    conn.execute(dialect.internal.clear_table_registry)
    conn.schema_changed()
    logger.info("dropped %d json_* table(s) and cleared the file ledger", len(tables))
    return [*children, *parents]


def _is_child(conn: Connection, table: str) -> bool:
    return "parent_id" in existing_columns(conn, table)
