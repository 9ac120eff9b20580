"""The catalogue of the tool's tables, and how fresh their data is: which ``json_*`` tables
and child tables the database holds, their columns and row counts, what the internal tables
hold of the ledger, and the age of the newest data, overall and per entity. Read-only;
imports stdlib, ``sql_dialect``, ``destinations`` (``dialect_of``), ``json_analyzer`` (id fields, table names) and ``sources``
(the line-items field).

The verifier, the summary and the browse metadata all read the database through this
module, so that the checks and the reports agree on what a table is and what "fresh" means.
A database written by an older version (internal tables or columns missing) reads as what
it has: a missing column as None, a missing table as no rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from . import sql_dialect as sd
from .destinations import dialect_of
from .json_analyzer import id_field_candidates, table_name_for
from .sources import LINE_ITEMS_FIELD

ID_CHUNK = 500
DB_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
REGISTRY_COLUMNS = ("table_name", "entity", "parent_table", "field", "id_field")


# --- what the database holds ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableInfo:
    """One ``json_*`` table as the checks and reports see it (registry first, naming as fallback)."""

    name: str
    entity: str
    columns: tuple[str, ...]
    parent: str | None = None
    field: str | None = None
    id_field: str | None = None
    # Logical type per column (see value_type): TEXT, INTEGER, REAL, "" or another
    # declared type in upper case.
    types: tuple[str, ...] = ()

    @property
    def is_child(self) -> bool:
        return self.parent is not None

    def has(self, column: str) -> bool:
        return column in self.columns

    def type_of(self, column: str) -> str:
        """The column's logical type in upper case ("" when untyped or absent)."""
        return dict(zip(self.columns, self.types)).get(column, "").upper()

    def holds_text(self, column: str) -> bool:
        """Of logical type TEXT (or untyped, as older tables may be): a column the
        analyzer typed INTEGER or REAL holds numbers or flags whatever its name says
        (``stop_reminder_until_payment_expected_date`` is a boolean), and a column the
        database types as a timestamp holds nothing a text check could find."""
        return self.type_of(column) in ("", sd.TEXT)

    def holds_numbers(self, column: str) -> bool:
        """Typed INTEGER or REAL (the database may or may not enforce it: see the checks)."""
        return self.type_of(column) in (sd.INTEGER, sd.REAL)

    @property
    def label(self) -> str | None:
        """The column that names a row in examples (None: use the rowid)."""
        return "id" if self.has("id") else None


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every ``json_*`` table (by name, in name order) and the internal tables present."""

    tables: dict[str, TableInfo]
    internal: dict[str, tuple[str, ...]]

    def children_of(self, name: str) -> list[TableInfo]:
        return [t for t in self.tables.values() if t.parent == name]

    def main_tables(self) -> list[TableInfo]:
        return [t for t in self.tables.values() if not t.is_child]

    def main_for_entity(self, entity: str) -> TableInfo | None:
        """The main table of an entity: registered under that entity, else by name."""
        for table in self.tables.values():
            if not table.is_child and table.entity == entity:
                return table
        fallback = self.tables.get(table_name_for(entity))
        return fallback if fallback is not None and not fallback.is_child else None

    def child_for_field(self, parent: TableInfo, field_name: str) -> TableInfo | None:
        for child in self.children_of(parent.name):
            if child.field == field_name:
                return child
        return None

    def line_items_of(self, parent: TableInfo) -> TableInfo | None:
        return self.child_for_field(parent, LINE_ITEMS_FIELD)


def value_type(dialect: Any, declared: str) -> str:
    """The logical type of a declared column type, for the value checks.

    PostgreSQL's ``timestamp with time zone`` (``created_at``/``updated_at``) is text in
    the logical model, but the server parses every value it stores there: it keeps its
    declared name, so no text check looks at it."""
    if declared.strip().lower().startswith("timestamp"):
        return declared.strip().upper()
    return str(dialect.logical_type(declared))


def table_columns(conn: Any, table: str) -> tuple[str, ...]:
    return tuple(name for name, _ in column_types(conn, table))


def column_types(conn: Any, table: str) -> list[tuple[str, str]]:
    """(name, declared type) of each column, in table order."""
    return [(str(row[0]), str(row[1] or "")) for row in conn.execute(*dialect_of(conn).columns_of(table))]


def read_rows(
    conn: Any,
    catalog: Catalog,
    table: str,
    wanted: Sequence[str],
    *,
    order_by: str | None = None,
    descending: bool = False,
    limit: int | None = None,
    where_in: tuple[str, Sequence[object]] | None = None,
) -> Iterator[dict[str, object]]:
    """Rows of an internal table as dicts of ``wanted``; a column an older version did
    not have reads as None, and a missing table reads as no rows. ``where_in`` (a column
    and values) reads only the rows holding one of the values, in chunks."""
    present = catalog.internal.get(table)
    if not present:
        return
    columns = [c for c in wanted if c in present]
    if not columns:
        return
    order = order_by if order_by in present else None
    dialect = dialect_of(conn)
    if where_in is not None:
        column, values = where_in
        if column not in present:
            return
        listed = list(values)
        for start in range(0, len(listed), ID_CHUNK):
            chunk = listed[start : start + ID_CHUNK]
            sql = dialect.select_columns(table, columns, in_column=column, in_count=len(chunk))
            for row in conn.execute(sql, chunk):
                found = dict(zip(columns, row))
                yield {name: found.get(name) for name in wanted}
        return
    sql = dialect.select_columns(
        table, columns, order_by=order, descending=descending, limit=limit is not None
    )
    params = (limit,) if limit is not None else ()
    for row in conn.execute(sql, params):
        found = dict(zip(columns, row))
        yield {name: found.get(name) for name in wanted}


LEDGER_SUMMARY_COLUMNS = ("session", "data_timestamp", "loaded_at")


def ledger_summary(conn: Any, catalog: Catalog) -> tuple[int, object, object, object] | None:
    """(sessions, oldest data time, newest data time, newest load time) of the ledger,
    counted inside the database; None when its table is missing or from an older version
    (then the callers read the rows)."""
    present = catalog.internal.get(sd.FILES_TABLE)
    if not present or not all(c in present for c in LEDGER_SUMMARY_COLUMNS):
        return None
    sessions, oldest, newest, loaded = conn.execute(dialect_of(conn).internal.select_ledger_summary).fetchone()
    return int(sessions or 0), oldest, newest, loaded


def read_catalog(conn: Any) -> Catalog:
    """What tables the database holds, how children hang on parents, and the id fields.

    The registry ``_json2db_tables`` decides where it has an entry; otherwise a
    ``json_*`` table with a ``parent_id`` column whose name extends another data table's
    name plus ``_`` is that table's child, and any other ``json_<entity>`` is a main table.
    """
    dialect = dialect_of(conn)
    names = [row[0] for row in conn.execute(dialect.LIST_TABLES)]
    data_names = [n for n in names if n.startswith(sd.DATA_TABLE_PREFIX)]
    internal = {n: table_columns(conn, n) for n in names if n.startswith(sd.INTERNAL_PREFIX)}
    declared = {n: column_types(conn, n) for n in data_names}
    columns = {n: tuple(name for name, _ in declared[n]) for n in data_names}
    partial = Catalog(tables={}, internal=internal)
    registry = {
        str(row["table_name"]): row
        for row in read_rows(conn, partial, sd.TABLES_TABLE, REGISTRY_COLUMNS)
        if row["table_name"]
    }
    parents = {n: _parent_of(n, columns[n], registry.get(n), columns) for n in data_names}
    tables: dict[str, TableInfo] = {}
    for name in data_names:
        entry = registry.get(name) or {}
        parent = parents[name]
        main = parent if parent is not None else name
        entity = _text(registry.get(main, {}).get("entity")) or main[len(sd.DATA_TABLE_PREFIX) :]
        field_name = _text(entry.get("field")) if parent else None
        if parent and not field_name:
            field_name = name[len(parent) + 1 :]
        id_field = _text(entry.get("id_field"))
        if id_field is None and parent is None:
            id_field = id_field_candidates(entity)[0]
        types = tuple(value_type(dialect, kind) for _, kind in declared[name])
        tables[name] = TableInfo(name, entity, columns[name], parent, field_name, id_field, types)
    return Catalog(tables=tables, internal=internal)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _parent_of(
    name: str,
    columns: tuple[str, ...],
    entry: dict[str, object] | None,
    all_columns: dict[str, tuple[str, ...]],
) -> str | None:
    registered = _text(entry.get("parent_table")) if entry else None
    if registered and registered in all_columns and registered != name:
        return registered
    if entry is not None and registered is None:
        return None
    if "parent_id" not in columns:
        return None
    prefixes = [other for other in all_columns if other != name and name.startswith(other + "_")]
    return max(prefixes, key=len) if prefixes else None



def row_count(conn: Any, table: str) -> int:
    """How many rows a table holds (counted inside the database)."""
    return int(conn.execute(dialect_of(conn).count_rows(table)).fetchone()[0])


def holds_more_rows_than(conn: Any, table: str, count: int) -> bool:
    """Whether a table holds more than ``count`` rows (reads count + 1 rows at most)."""
    return conn.execute(dialect_of(conn).row_after(table), (count,)).fetchone() is not None


def newest_updated_at(conn: Any, table: TableInfo) -> object:
    """The newest ``updated_at`` of a table as stored (None without that column or rows)."""
    if not table.has("updated_at"):
        return None
    return conn.execute(dialect_of(conn).max_value(table.name, "updated_at")).fetchone()[0]


# --- freshness ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Freshness:
    """How old the newest loaded data is; ``newest`` is None when nothing was loaded."""

    newest: str | None
    age_hours: float | None
    is_fresh: bool
    max_age_hours: float

    def as_dict(self) -> dict[str, object]:
        return {
            "newest_data_timestamp": self.newest,
            "age_hours": self.age_hours,
            "is_fresh": self.is_fresh,
            "max_age_hours": self.max_age_hours,
        }


def local_now(now: datetime | None) -> datetime:
    """``now`` as naive local time, the clock the ledger's ``data_timestamp`` uses."""
    if now is None:
        return datetime.now()
    if now.tzinfo is not None:
        return now.astimezone().replace(tzinfo=None)
    return now


def parse_db_time(value: object) -> datetime | None:
    """``YYYY-MM-DD HH:MM:SS`` (or with ``T``, or fractional seconds) as a naive datetime.

    A datetime (a PostgreSQL timestamp column read as is) counts to the second too; an
    aware one is taken to UTC first, the clock the tool writes its times in."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.replace(microsecond=0)
    if not isinstance(value, str) or len(value) < 19:
        return None
    try:
        return datetime.strptime(value[:19].replace("T", " "), DB_TIME_FORMAT)
    except ValueError:
        return None


def assess_freshness(
    conn: Any, catalog: Catalog, *, max_age_hours: float, now: datetime | None
) -> Freshness:
    """Age of the newest session in the ledger: its folder time (local), else the time
    it was loaded (UTC, converted)."""
    summary = ledger_summary(conn, catalog)
    if summary is not None:
        # the newest of each column (times as text order as they compare), not every row
        rows: list[dict[str, object]] = [{"data_timestamp": summary[2], "loaded_at": summary[3]}]
    else:
        rows = list(read_rows(conn, catalog, sd.FILES_TABLE, ("data_timestamp", "loaded_at")))
    moments = [m for m in (parse_db_time(r["data_timestamp"]) for r in rows) if m is not None]
    if not moments:
        loaded = [m for m in (parse_db_time(r["loaded_at"]) for r in rows) if m is not None]
        moments = [_utc_to_local(m) for m in loaded]
    if not moments:
        return Freshness(None, None, False, max_age_hours)
    newest = max(moments)
    age = (local_now(now) - newest) / timedelta(hours=1)
    text = newest.strftime(DB_TIME_FORMAT)
    return Freshness(text, round(age, 2), age <= max_age_hours, max_age_hours)


def _utc_to_local(moment: datetime) -> datetime:
    """A ``loaded_at`` time (UTC, the clock the tool writes) on the ledger's local clock."""
    return moment.replace(tzinfo=UTC).astimezone().replace(tzinfo=None)


def entity_freshness(
    conn: Any, *, session_max_age_hours: float = 24, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Per entity: the newest data folder time loaded (local, as the ledger keeps it), its
    age in hours, whether that is within ``session_max_age_hours``, and the files loaded.
    The same rule as the overall freshness (:func:`assess_freshness`), per entity."""
    catalog = read_catalog(conn)
    newest: dict[str, datetime | None] = {}
    files: dict[str, int] = {}
    for row in read_rows(conn, catalog, sd.FILES_TABLE, ("entity", "data_timestamp")):
        entity = str(row["entity"] or "")
        moment = parse_db_time(row["data_timestamp"])
        files[entity] = files.get(entity, 0) + 1
        known = newest.get(entity)
        newest[entity] = moment if known is None or (moment is not None and moment > known) else known
    reference = local_now(now)
    result = []
    for entity in sorted(files):
        moment = newest.get(entity)
        age = round((reference - moment).total_seconds() / 3600, 2) if moment is not None else None
        result.append(
            {
                "entity": entity,
                "newest_data_timestamp": moment.strftime(DB_TIME_FORMAT) if moment else None,
                "age_hours": age,
                "is_fresh": age is not None and age <= session_max_age_hours,
                "files": files[entity],
            }
        )
    return result
