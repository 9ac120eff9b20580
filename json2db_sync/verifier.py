"""Verifier stage: read-only checks that the numbers in the database are the numbers in
the books; imports stdlib, ``errors``, ``sql_dialect``, ``json_analyzer`` (the id rules)
and ``reader`` (to re-read loaded files).

:func:`verify_database` runs every function of :data:`CHECKS` on an open connection and
returns one ``{"name", "status", "details", "count", "examples"}`` dict per check. It
never writes. A database written by an older version (internal tables or columns
missing, a table without ``id``) is judged with what it has: a check that cannot apply
says so in its details instead of failing.

Judgement calls, written down once:

* ``""`` and NULL are Zoho's "unset": never an invalid date, number or reference.
* Dates (``date``, ``*_date``) are ``YYYY-MM-DD``; also accepted are an ISO timestamp
  (seen in a webhook payload) and Zoho's display form ``09 Jun 2026`` (contacts'
  ``created_date``). Timestamps (``*_time``) are Zoho's ``2026-06-09T16:48:58-0400``,
  with a ``Z`` or ``+05:30`` offset, fractional seconds, a space instead of ``T`` or no
  seconds (``shipment_date_with_time``); a bare ``HH:MM`` is a time of day or a duration.
* ``quantity``, ``rate``, ``item_total``, ``sub_total`` and ``total`` are never negative
  in Zoho documents; ``amount`` must be a number but may be negative (journal and bank
  lines), as may ``balance`` and ``adjustment`` (not checked). Inventory adjustments are
  exempt from the sign test, since their quantities go both ways.
* Documents (known document entities, or any table with a ``line_items`` child) must
  have a date (``date``, else ``<singular>_date`` such as ``journal_date``) and a total.
* Ids of child rows need only be unique per parent: an element id such as ``tax_id``
  repeats across documents.
* Both databases get the same checks through ``conn.dialect`` (a plain
  ``sqlite3.Connection`` speaks SQLite). On PostgreSQL, ``integrity_check`` and
  ``foreign_key_check`` are "ok, not applicable": the server checks its own storage and
  enforces foreign keys on every write (orphan_child_rows still looks for child rows
  whose parent is gone). Its typed columns are judged by logical type: a BIGINT or
  NUMERIC column holds no text to check, a TIMESTAMPTZ column no date text.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from . import sql_dialect as sd
from ._types import Check, CheckStatus
from .destinations import dialect_of
from .errors import DatabaseError, Json2DBError
from .progress import ProgressCallback, ProgressEvent, null_progress
from .json_analyzer import id_field_candidates, normalize_id, singular, table_name_for
from .reader import iter_record_batches, sha256_file
from .sources import METADATA_PREFIX, classify_data_file

logger = logging.getLogger(__name__)

EXAMPLE_LIMIT = 5
SUBTOTAL_TOLERANCE = 0.01
# Float sums of cents are not exact; a difference of 0.01 still passes.
_FLOAT_SLACK = 1e-9
ID_CHUNK = 500
DB_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

DOCUMENT_ENTITIES = frozenset(
    {"invoices", "bills", "salesorders", "purchaseorders", "creditnotes", "estimates"}
)
PAYMENT_ENTITIES = frozenset({"customerpayments", "vendorpayments"})
LINE_ITEMS_FIELD = "line_items"
NUMERIC_COLUMNS = ("quantity", "rate", "item_total", "sub_total", "total", "amount")
NON_NEGATIVE_COLUMNS = ("quantity", "rate", "item_total", "sub_total", "total")
SIGNED_ENTITY_MARKER = "adjustment"
LEDGER_TABLE_COLUMNS = (
    "path", "entity", "size", "mtime", "sha256", "session", "data_timestamp", "records", "loaded_at"
)
REGISTRY_COLUMNS = ("table_name", "entity", "parent_table", "field", "id_field")
REJECTED_COLUMNS = ("rejected_id", "entity", "source_file", "reason")
CUTOFF_NOTE = (
    "a cutoff can load partial data: documents inside the window may point to records "
    "last changed before it; a load without a cutoff brings them in"
)


# --- what the database holds ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableInfo:
    """One ``json_*`` table as the checks see it (registry first, naming as fallback)."""

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

    def is_document(self, table: TableInfo) -> bool:
        return not table.is_child and (
            table.entity in DOCUMENT_ENTITIES or self.line_items_of(table) is not None
        )


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
    sessions, oldest, newest, loaded = conn.execute(dialect_of(conn).SELECT_LEDGER_SUMMARY).fetchone()
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


# --- freshness (shared with the summary) -------------------------------------------------


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
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
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
    return moment.replace(tzinfo=timezone.utc).astimezone().replace(tzinfo=None)


# --- value rules -----------------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?"
    r"(?P<tz>Z|[+-](?P<tzh>\d{2}):?(?P<tzm>\d{2}))?$"
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CLOCK = re.compile(r"^\d{1,3}:[0-5]\d(?::[0-5]\d)?$")
_DISPLAY_DATE = re.compile(r"^(?P<d>\d{1,2}) (?P<mon>[A-Z][a-z]{2}) (?P<y>\d{4})$")
_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}


def is_valid_date(value: object) -> bool:
    """A ``date``/``*_date`` value: ``YYYY-MM-DD``, an ISO timestamp, or ``09 Jun 2026``."""
    if not isinstance(value, str):
        return False
    if _ISO_DATE.match(value):
        try:
            return bool(date.fromisoformat(value))
        except ValueError:
            return False
    display = _DISPLAY_DATE.match(value)
    if display:
        month = _MONTHS.get(display["mon"])
        try:
            return month is not None and bool(date(int(display["y"]), month, int(display["d"])))
        except ValueError:
            return False
    return is_valid_timestamp(value) and "T" in value


def is_valid_timestamp(value: object) -> bool:
    """A ``*_time`` value: a Zoho timestamp (offset, ``Z``, fractions, seconds optional)
    or a bare clock time / duration such as ``02:30``."""
    if not isinstance(value, str):
        return False
    if _CLOCK.match(value):
        return True
    match = _TIMESTAMP.match(value)
    if not match:
        return False
    try:
        date.fromisoformat(match["date"])
    except ValueError:
        return False
    tz_ok = match["tzh"] is None or (int(match["tzh"]) <= 14 and int(match["tzm"]) < 60)
    return int(match["h"]) < 24 and int(match["m"]) < 60 and int(match["s"] or 0) < 60 and tz_ok


def is_date_column(column: str) -> bool:
    return column == "date" or column.endswith("_date")


def is_timestamp_column(column: str) -> bool:
    return column.endswith("_time")


# --- check plumbing --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerifyContext:
    """Everything a check needs: the connection, the catalog, the tables in scope."""

    conn: Any
    catalog: Catalog
    selected: tuple[TableInfo, ...]
    max_age_hours: float
    now: datetime | None
    check_source_counts: bool
    source_files: frozenset[str] | None = None
    scoped: bool = False
    source_ids: Mapping[str, Collection[str]] | None = None
    # Main table → temp table of the ids a run wrote (see _build_scopes).
    row_scopes: dict[str, str] = field(default_factory=dict)
    # What a sync found comparing api_sync's line-item files with the embedded items
    # (None outside a sync: the comparison needs the parsed files).
    line_item_mismatches: Sequence[str] | None = None
    line_item_files_compared: int = 0

    @property
    def dialect(self) -> Any:
        return dialect_of(self.conn)

    def scope_of(self, table: TableInfo) -> sd.Scope | None:
        """Limit a row-level check to the rows a run wrote: by id in a main table, by
        parent_id in its child tables. None checks every row."""
        if table.is_child:
            ids = self.row_scopes.get(table.parent or "")
            return (ids, "parent_id") if ids and table.has("parent_id") else None
        ids = self.row_scopes.get(table.name)
        return (ids, "id") if ids and table.has("id") else None

    def selected_main(self) -> list[TableInfo]:
        return [t for t in self.selected if not t.is_child]

    def selected_children(self) -> list[TableInfo]:
        return [t for t in self.selected if t.is_child]


@dataclass(slots=True)
class _Findings:
    """Accumulates problems over tables: total count, first examples, per-table notes."""

    count: int = 0
    examples: list[str] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    def add(self, count: int, examples: Iterable[object], note: str) -> None:
        if count <= 0:
            return
        self.count += count
        self.parts.append(note)
        for example in examples:
            text = str(example)
            if example is not None and text not in self.examples and len(self.examples) < EXAMPLE_LIMIT:
                self.examples.append(text)

    def check(self, name: str, problem: CheckStatus, ok_details: str, intro: str = "") -> Check:
        if not self.count:
            return make_check(name, "ok", ok_details)
        details = "; ".join(self.parts)
        return make_check(name, problem, intro + details, self.count, self.examples)


# What to do when a check is not ok, one text per check: the failure view prints it under
# the check's examples, so that each problem comes with advice that fits it.
_REBUILD = (
    "`json2db-sync recreate` and then `json2db-sync sync` rebuild the tables from the JSON "
    "(a backup is made first)"
)
CHECK_ADVICE: dict[str, str] = {
    "integrity_check": "The database file is damaged: restore the newest backup "
    "(`json2db-sync restore latest`), or delete the file and run `json2db-sync sync` to load everything again.",
    "foreign_key_check": "Child rows point to a parent row that is gone, usually after rows were "
    f"deleted outside json2db_sync: delete those child rows (rowids above), or {_REBUILD}.",
    "orphan_child_rows": "These line items (child rows) have no parent document, usually after "
    f"documents were deleted outside json2db_sync: delete the rows listed above, or {_REBUILD}.",
    "null_or_duplicate_ids": "Rows without an id or with an id held twice were written outside "
    f"json2db_sync (it never writes them): delete or fix the rows listed above, or {_REBUILD}.",
    "required_fields": "The documents listed came from Zoho without a date or total; check them in "
    "Zoho Books and export them again. The rest of the data is fine.",
    "date_formats": "These values are not dates as Zoho writes them; look at the record in its JSON "
    "file (the examples name it). Reports that filter on these columns will skip those rows.",
    "numeric_values": "These amounts are not numbers, or are negative where Zoho never is; look at the "
    "record in its JSON file (the examples name it) and in Zoho Books.",
    "document_arithmetic": "The line items of these documents do not add up to their sub total; "
    "compare the document in Zoho Books (a discount or rounding setting may explain it).",
    "contact_references": "Documents name customers or vendors that are not loaded: include contacts "
    "in the api_sync export, or load older data with a larger --cutoff-days.",
    "item_references": "Line items name items that are not loaded: include items in the api_sync "
    "export, or load older data with a larger --cutoff-days.",
    "payment_invoice_references": "Payments name invoices that are not loaded: load older data with "
    "a larger --cutoff-days, or include invoices in the api_sync export.",
    "vendor_payment_bill_references": "Vendor payments name bills that are not loaded: load older "
    "data with a larger --cutoff-days, or include bills in the api_sync export.",
    "source_counts": "Records of loaded files are missing from their tables, usually after rows "
    f"were deleted outside json2db_sync: {_REBUILD}.",
    "line_item_files": "api_sync's line-item file and the detail records disagree for the parents "
    "listed (the detail records were loaded): run api_sync again for that entity, and compare the "
    "document in Zoho Books.",
    "producer_counts": "A data file holds fewer or more records than api_sync's sync_metadata file "
    "says it fetched: the api_sync run was cut short or wrote the file twice; run api_sync again for "
    "that entity, then `json2db-sync sync`.",
    "freshness": "The newest data is older than JSON2DB_SESSION_MAX_AGE hours: check that api_sync "
    "still runs, then run `json2db-sync sync`; or raise JSON2DB_SESSION_MAX_AGE.",
    "rejected_records": "Records without a usable id were set aside in _json2db_rejected: fix them "
    "in Zoho Books, or name the id field in processing.primary_keys (config file).",
}
_COULD_NOT_RUN_ADVICE = (
    "The check could not read the database (the details say why): check the file or server, "
    "or restore a backup (`json2db-sync restore latest`)."
)


def make_check(
    name: str, status: CheckStatus, details: str, count: int = 0, examples: Iterable[str] = ()
) -> Check:
    check: Check = {
        "name": name,
        "status": status,
        "details": details,
        "count": count,
        "examples": list(examples)[:EXAMPLE_LIMIT],
    }
    if status != "ok":
        could_not_run = details.startswith("could not run")
        check["advice"] = _COULD_NOT_RUN_ADVICE if could_not_run else CHECK_ADVICE.get(name, "")
    return check


def count_and_examples(
    conn: Any, query: str, params: Sequence[object] = ()
) -> tuple[int, list[object]]:
    """How many rows an offending-rows query returns, and its first distinct labels."""
    dialect = dialect_of(conn)
    count = conn.execute(dialect.count_of(query), tuple(params)).fetchone()[0]
    if not count:
        return 0, []
    rows = conn.execute(dialect.first_distinct(query), (*params, EXAMPLE_LIMIT)).fetchall()
    return int(count), [row[0] for row in rows if row[0] is not None]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# --- the checks -------------------------------------------------------------------------


def _not_applicable(ctx: VerifyContext, name: str, applies: str, reason: str) -> Check | None:
    """The "ok, not applicable" result of a SQLite-only check on a database that
    does that job itself (PostgreSQL), else None."""
    dialect = ctx.dialect
    if getattr(dialect, applies):
        return None
    why = getattr(dialect, reason)
    label = dialect.LABEL
    return make_check(name, "ok", f"not applicable on {label}" + (f": {why}" if why else ""))


def check_integrity_check(ctx: VerifyContext) -> Check:
    """SQLite's own page-level check: anything but "ok" means a damaged file.
    (PostgreSQL checks its own storage: not applicable there.)"""
    skipped = _not_applicable(ctx, "integrity_check", "INTEGRITY_CHECK_APPLIES", "INTEGRITY_CHECK_NOT_APPLICABLE")
    if skipped is not None:
        return skipped
    if ctx.scoped:
        # After a sync the checks cost what the run wrote. SQLite's page checks read whole
        # tables (a nightly run touching a year of invoices would scan all of them), so they
        # are left to verify_tables, which runs the full integrity_check.
        return make_check(
            "integrity_check", "ok", "not run after a sync (it reads whole tables): verify runs SQLite's integrity_check"
        )
    messages = [str(row[0]) for row in ctx.conn.execute(ctx.dialect.PRAGMA_INTEGRITY_CHECK)]
    if messages == ["ok"]:
        return make_check("integrity_check", "ok", "SQLite integrity_check: ok")
    return make_check(
        "integrity_check",
        "error",
        f"SQLite integrity_check found {_plural(len(messages), 'problem')}; restore a backup "
        "or recreate the tables",
        len(messages),
        messages,
    )


def check_foreign_key_check(ctx: VerifyContext) -> Check:
    """Declared foreign keys that point nowhere (child rows whose parent is gone).
    (PostgreSQL enforces them on every write: not applicable there.)"""
    skipped = _not_applicable(
        ctx, "foreign_key_check", "FOREIGN_KEY_CHECK_APPLIES", "FOREIGN_KEY_CHECK_NOT_APPLICABLE"
    )
    if skipped is not None:
        return skipped
    scope = {t.name for t in ctx.selected}
    findings = _Findings()
    per_table: dict[str, list[str]] = {}
    if ctx.scoped:
        found = [row for t in ctx.selected for row in ctx.conn.execute(ctx.dialect.foreign_key_check_table(t.name))]
    else:
        found = list(ctx.conn.execute(ctx.dialect.PRAGMA_FOREIGN_KEY_CHECK))
    for table, rowid, parent, _fkid in found:
        if table in scope or table not in ctx.catalog.tables:
            per_table.setdefault(f"{table} → {parent}", []).append(f"{table} rowid {rowid}")
    for key, rows in per_table.items():
        findings.add(len(rows), rows, f"{key}: {_plural(len(rows), 'row')}")
    return findings.check("foreign_key_check", "error", "no foreign key violations")


def check_orphan_child_rows(ctx: VerifyContext) -> Check:
    """Child rows whose parent row is missing (also where no foreign key is declared)."""
    findings = _Findings()
    children = [t for t in ctx.selected_children() if t.has("parent_id")]
    for child in children:
        parent = ctx.catalog.tables[child.parent or ""]
        if not parent.has("id"):
            continue
        query = ctx.dialect.offending_orphans(child.name, parent.name, ctx.scope_of(child))
        count, examples = count_and_examples(ctx.conn, query)
        note = f"{child.name}: {_plural(count, 'row')} without a row in {parent.name}"
        findings.add(count, examples, note)
    ok = f"every child row has its parent ({_plural(len(children), 'child table')})"
    return findings.check("orphan_child_rows", "error", ok)


def check_null_or_duplicate_ids(ctx: VerifyContext) -> Check:
    """Every row has an id and no id is held twice (per parent in child tables)."""
    findings = _Findings()
    without_id = [t.name for t in ctx.selected if not t.has("id")]
    for table in ctx.selected:
        if not table.has("id"):
            continue
        count, examples = count_and_examples(ctx.conn, ctx.dialect.offending_null_ids(table.name, ctx.scope_of(table)))
        findings.add(count, examples, f"{table.name}: {_plural(count, 'row')} without an id")
        per_parent = table.is_child and table.has("parent_id")
        query = ctx.dialect.offending_duplicate_ids(table.name, per_parent, ctx.scope_of(table))
        count, examples = count_and_examples(ctx.conn, query)
        scope = " within one parent" if per_parent else ""
        note = f"{table.name}: {_plural(count, 'id')} held by more than one row{scope}"
        findings.add(count, examples, note)
    ok = "every row has a unique id"
    if without_id:
        ok += f" (no id column, skipped: {', '.join(without_id)})"
    return findings.check("null_or_duplicate_ids", "error", ok)


def document_date_column(table: TableInfo) -> str | None:
    """``date``, else ``<singular>_date`` (journals keep ``journal_date``)."""
    for candidate in ("date", f"{singular(table.entity)}_date"):
        if table.has(candidate):
            return candidate
    return None


def check_required_fields(ctx: VerifyContext) -> Check:
    """Documents carry a date and a total (ids are the null_or_duplicate_ids check)."""
    findings = _Findings()
    documents = [t for t in ctx.selected_main() if ctx.catalog.is_document(t)]
    for table in documents:
        total_column = "total" if table.has("total") else None
        for wanted, column in (("date", document_date_column(table)), ("total", total_column)):
            count, examples = count_and_examples(
                ctx.conn, ctx.dialect.offending_blanks(table.name, column, table.label, ctx.scope_of(table))
            )
            findings.add(count, examples, f"{table.name}: {_plural(count, 'row')} without a {wanted}")
    ok = f"every document has a date and a total ({_plural(len(documents), 'document table')})"
    return findings.check("required_fields", "warning", ok)


def check_date_formats(ctx: VerifyContext) -> Check:
    """``date``/``*_date`` and ``*_time`` values parse ("" and NULL are unset)."""
    findings = _Findings()
    checked = 0
    for table in ctx.selected:
        for column in table.columns:
            if not table.holds_text(column):
                continue
            if is_date_column(column):
                query = ctx.dialect.nonstandard_dates(table.name, column, table.label, ctx.scope_of(table))
                valid, kind = is_valid_date, "date"
            elif is_timestamp_column(column):
                query = ctx.dialect.nonstandard_timestamps(table.name, column, table.label, ctx.scope_of(table))
                valid, kind = is_valid_timestamp, "timestamp"
            else:
                continue
            checked += 1
            bad = [(label, value) for label, value in ctx.conn.execute(query) if not valid(value)]
            if bad:
                count = _plural(len(bad), "value")
                note = f"{table.name}.{column}: {count} not a {kind} (e.g. {bad[0][1]!r})"
                findings.add(len(bad), [label for label, _ in bad[:EXAMPLE_LIMIT]], note)
    ok = f"all dates and timestamps parse ({_plural(checked, 'column')})"
    return findings.check("date_formats", "warning", ok)


def check_numeric_values(ctx: VerifyContext) -> Check:
    """Amounts and quantities are numbers, and not negative where Zoho never is."""
    findings = _Findings()
    for table in ctx.selected:
        signed = SIGNED_ENTITY_MARKER in table.entity
        for column in NUMERIC_COLUMNS:
            if not table.has(column):
                continue
            where = f"{table.name}.{column}"
            # A number column of a database that enforces types (PostgreSQL) holds
            # nothing else: no need to read it for text, and it is read as a number as it is.
            typed = ctx.dialect.STRICT_TYPES and table.holds_numbers(column)
            if not typed:
                query = ctx.dialect.offending_non_numbers(table.name, column, table.label, ctx.scope_of(table))
                count, examples = count_and_examples(ctx.conn, query)
                findings.add(count, examples, f"{where}: {_plural(count, 'value')} not a number")
            if column in NON_NEGATIVE_COLUMNS and not signed:
                query = ctx.dialect.offending_negatives(
                    table.name, column, table.label, ctx.scope_of(table), typed=typed
                )
                count, examples = count_and_examples(ctx.conn, query)
                findings.add(count, examples, f"{where}: {_plural(count, 'negative value')}")
    ok = "quantities, rates and amounts are non-negative numbers"
    return findings.check("numeric_values", "warning", ok)


def check_document_arithmetic(ctx: VerifyContext) -> Check:
    """A document's ``sub_total`` equals the sum of its line items' ``item_total``."""
    findings = _Findings()
    pairs = []
    for parent in ctx.selected_main():
        child = ctx.catalog.line_items_of(parent)
        if child is None or not (parent.has("sub_total") and parent.has("id")):
            continue
        if child.has("item_total") and child.has("parent_id"):
            pairs.append((parent, child))
    for parent, child in pairs:
        typed = ctx.dialect.STRICT_TYPES and parent.holds_numbers("sub_total") and child.holds_numbers("item_total")
        query = ctx.dialect.subtotal_mismatches(parent.name, child.name, ctx.scope_of(parent), typed=typed)
        rows = ctx.conn.execute(query, (SUBTOTAL_TOLERANCE + _FLOAT_SLACK,)).fetchall()
        if rows:
            worst_id, sub_total, items_total, _ = rows[0]
            note = (
                f"{parent.name}: {_plural(len(rows), 'document')} whose sub_total differs from "
                f"the sum of {child.name}.item_total (worst: {worst_id} sub_total {sub_total} "
                f"vs {round(items_total, 2)})"
            )
            findings.add(len(rows), [row[0] for row in rows[:EXAMPLE_LIMIT]], note)
    if not pairs:
        return make_check("document_arithmetic", "ok", "not applicable: no documents with line items")
    return findings.check(
        "document_arithmetic", "warning", f"sub_total matches the line items within {SUBTOTAL_TOLERANCE}"
    )


def _reference_check(
    ctx: VerifyContext, name: str, target_entity: str, sources: list[tuple[TableInfo, str]], what: str
) -> Check:
    """Shared body of the cross-entity checks: values of source columns that name no
    row of the target entity's table."""
    target = ctx.catalog.main_for_entity(target_entity)
    if target is None or not target.has("id"):
        return make_check(name, "ok", f"not applicable: {table_name_for(target_entity)} does not exist")
    sources = [(table, column) for table, column in sources if table.has(column)]
    if not sources:
        return make_check(name, "ok", f"not applicable: no {what} loaded")
    findings = _Findings()
    for table, column in sources:
        query = ctx.dialect.offending_references(table.name, column, target.name, ctx.scope_of(table))
        count, examples = count_and_examples(ctx.conn, query)
        note = f"{table.name}.{column}: {_plural(count, 'reference')} not in {target.name}"
        findings.add(count, examples, note)
    return findings.check(
        name,
        "warning",
        f"every {what} reference is found in {target.name}",
        intro=f"{CUTOFF_NOTE}. ",
    )


def check_contact_references(ctx: VerifyContext) -> Check:
    """Documents' and payments' ``customer_id``/``vendor_id`` are in json_contacts."""
    sources = [
        (table, column)
        for table in ctx.selected_main()
        if ctx.catalog.is_document(table) or table.entity in PAYMENT_ENTITIES
        for column in ("customer_id", "vendor_id")
    ]
    return _reference_check(ctx, "contact_references", "contacts", sources, "customer/vendor")


def check_item_references(ctx: VerifyContext) -> Check:
    """Line items' ``item_id`` are in json_items."""
    sources = [
        (table, "item_id")
        for table in ctx.selected_children()
        if table.field == LINE_ITEMS_FIELD
    ]
    return _reference_check(ctx, "item_references", "items", sources, "line item")


def _payment_child_sources(
    ctx: VerifyContext, entity: str, field_name: str, column: str
) -> list[tuple[TableInfo, str]]:
    parent = ctx.catalog.main_for_entity(entity)
    child = ctx.catalog.child_for_field(parent, field_name) if parent else None
    if child is None or child not in ctx.selected:
        return []
    return [(child, column)]


def check_payment_invoice_references(ctx: VerifyContext) -> Check:
    """Invoices that customer payments were applied to are in json_invoices."""
    sources = _payment_child_sources(ctx, "customerpayments", "invoices", "invoice_id")
    return _reference_check(ctx, "payment_invoice_references", "invoices", sources, "customer payment")


def check_vendor_payment_bill_references(ctx: VerifyContext) -> Check:
    """Bills that vendor payments were applied to are in json_bills."""
    sources = _payment_child_sources(ctx, "vendorpayments", "bills", "bill_id")
    return _reference_check(ctx, "vendor_payment_bill_references", "bills", sources, "vendor payment")


def check_source_counts(ctx: VerifyContext) -> Check:
    """Every id in the files the ledger says were loaded is a row of its table."""
    name = "source_counts"
    if not ctx.check_source_counts:
        return make_check(
            name, "ok", "not compared for this run (too large to track its ids); verify_tables compares every loaded file"
        )
    # A run hands over the files it loaded: only their ledger rows are read (the ledger
    # grows with the history, a night's files do not).
    where = ("path", sorted(ctx.source_files)) if ctx.source_files is not None else None
    ledger = list(read_rows(ctx.conn, ctx.catalog, sd.FILES_TABLE, LEDGER_TABLE_COLUMNS, where_in=where))
    if not ledger and where is None:
        return make_check(name, "ok", "not applicable: the file ledger is empty or missing")
    by_entity: dict[str, list[dict[str, object]]] = {}
    for row in ledger:
        if ctx.source_files is not None and row["path"] not in ctx.source_files:
            continue
        if isinstance(row["path"], str) and isinstance(row["entity"], str):
            if classify_data_file(Path(row["path"]))[1] is not None:
                continue  # an api_sync line-item file: child rows, compared by line_item_files
            by_entity.setdefault(row["entity"], []).append(row)
    findings = _Findings()
    skipped: dict[str, list[str]] = {}
    scope = {t.name for t in ctx.selected}
    compared = 0
    for entity, rows in sorted(by_entity.items()):
        table = ctx.catalog.main_for_entity(entity)
        if table is not None and table.name not in scope:
            continue
        if table is None and not _all_selected(ctx):
            continue
        compared += _compare_entity(ctx, entity, table, rows, findings, skipped)
    ok = f"every id in {_plural(compared, 'loaded file')} is in its table"
    result = findings.check(name, "warning", ok)
    for reason, paths in skipped.items():
        result["details"] += f"; skipped {_plural(len(paths), 'file')} {reason} (e.g. {paths[0]})"
    return result


def _all_selected(ctx: VerifyContext) -> bool:
    return len(ctx.selected) == len(ctx.catalog.tables)


def _compare_entity(
    ctx: VerifyContext,
    entity: str,
    table: TableInfo | None,
    rows: list[dict[str, object]],
    findings: _Findings,
    skipped: dict[str, list[str]],
) -> int:
    """Add the ids of one entity's loaded files that its table lacks; return how many
    files were compared."""
    id_field = table.id_field if table else id_field_candidates(entity)[0]
    ids: set[str] = set()
    compared = 0
    for row in rows:
        known = ctx.source_ids.get(str(row["path"])) if ctx.source_ids is not None else None
        if known is not None:
            # The run that just loaded this file handed over its ids: no need to re-read it.
            ids.update(known)
            compared += 1
            continue
        path = Path(str(row["path"]))
        problem = _unusable_file(path, row)
        if problem:
            skipped.setdefault(problem, []).append(str(path))
            continue
        try:
            ids.update(_file_ids(path, entity, id_field))
        except (Json2DBError, OSError) as exc:
            skipped.setdefault("unreadable now", []).append(f"{path}: {exc}")
            continue
        compared += 1
    if not ids:
        return compared
    if table is None or not table.has("id"):
        label = table.name if table else table_name_for(entity)
        note = f"{label}: missing, but the ledger lists {_plural(len(ids), 'id')}"
        findings.add(len(ids), sorted(ids)[:EXAMPLE_LIMIT], note)
        return compared
    missing = _missing_ids(ctx.conn, table.name, ids)
    if missing:
        rows_now = ctx.conn.execute(ctx.dialect.count_rows(table.name)).fetchone()[0]
        note = (
            f"{table.name}: {rows_now} rows, {len(ids)} distinct ids in "
            f"{_plural(compared, 'loaded file')}, {len(missing)} of them missing"
        )
        findings.add(len(missing), missing[:EXAMPLE_LIMIT], note)
    return compared


def _unusable_file(path: Path, row: dict[str, object]) -> str | None:
    """Why a ledger file cannot stand for what was loaded: gone, or changed since."""
    try:
        stat = path.stat()
    except OSError:
        return "no longer on disk"
    size, mtime, sha = row["size"], row["mtime"], row["sha256"]
    same = size == stat.st_size and isinstance(mtime, (int, float)) and abs(mtime - stat.st_mtime) < 1e-6
    if same or size is None or not isinstance(sha, str):
        return None
    return None if sha256_file(path) == sha else "changed since loaded"


def _file_ids(path: Path, entity: str, id_field: str | None) -> set[str]:
    ids: set[str] = set()
    for batch in iter_record_batches(path, entity, id_field=id_field):
        for record in batch:
            if not (id_field and isinstance(record, dict)):
                continue
            record_id = normalize_id(record.get(id_field))
            if record_id is not None:
                ids.add(record_id)
    return ids


def _missing_ids(conn: Any, table: str, ids: set[str]) -> list[str]:
    """The ids that have no row, in sorted order (looked up in chunks)."""
    ordered = sorted(ids)
    found: set[str] = set()
    for start in range(0, len(ordered), ID_CHUNK):
        chunk = ordered[start : start + ID_CHUNK]
        query = dialect_of(conn).select_ids_in(table, len(chunk))
        found.update(str(row[0]) for row in conn.execute(query, chunk))
    return [i for i in ordered if i not in found]


def check_line_item_files(ctx: VerifyContext) -> Check:
    """api_sync's ``<entity>_line_items.json`` holds the same items as the detail records
    beside it: same ids, same amounts, per parent."""
    name = "line_item_files"
    if ctx.line_item_mismatches is None:
        return make_check(
            name, "ok", "not applicable here: a sync compares api_sync's line-item files while it loads them"
        )
    found = list(ctx.line_item_mismatches)
    if not found:
        if not ctx.line_item_files_compared:
            return make_check(name, "ok", "no api_sync line-item file was compared in this run")
        compared = _plural(ctx.line_item_files_compared, "line-item file")
        return make_check(name, "ok", f"{compared} agree with the items their parents embed")
    details = (
        f"{_plural(len(found), 'parent')} whose line items differ between the detail file and "
        "api_sync's line-item file (the detail records were loaded); check the api_sync run "
        "that wrote that folder"
    )
    return make_check(name, "warning", details, len(found), found)


def check_producer_counts(ctx: VerifyContext) -> Check:
    """Each loaded file holds as many records as api_sync's ``sync_metadata_<module>.json``
    beside it says it fetched: the one count that does not come from the file itself."""
    name = "producer_counts"
    # only the run's own ledger rows when it names them (the ledger grows with the history)
    where = ("path", sorted(ctx.source_files)) if ctx.source_files is not None else None
    ledger = list(read_rows(ctx.conn, ctx.catalog, sd.FILES_TABLE, LEDGER_TABLE_COLUMNS, where_in=where))
    by_folder: dict[Path, dict[str, dict[str, object]]] = {}
    for row in ledger:
        path = row["path"]
        if not isinstance(path, str) or (ctx.source_files is not None and path not in ctx.source_files):
            continue
        file_path = Path(path)
        by_folder.setdefault(file_path.parent, {})[file_path.name.lower()] = row
    findings = _Findings()
    compared = 0
    for folder, rows in sorted(by_folder.items()):
        for module, records_found in _producer_counts(folder):
            file_name = f"{module}.json".lower()
            row = rows.get(file_name)
            if row is None:
                if records_found and not (folder / f"{module}.json").exists():
                    note = f"{folder}: api_sync counted {records_found} {module} records but wrote no {module}.json"
                    findings.add(1, [f"{folder}: {module}.json"], note)
                continue
            compared += 1
            loaded = row.get("records")
            if isinstance(loaded, int) and loaded != records_found:
                findings.add(
                    1,
                    [f"{folder}: {module}.json"],
                    f"{folder}: api_sync's {METADATA_PREFIX}{module}.json counts {records_found} records, "
                    f"{module}.json held {loaded}",
                )
    ok = (
        f"{_plural(compared, 'file')} hold as many records as api_sync counted"
        if compared
        else "no api_sync record counts (sync_metadata_*.json with records_found) beside the files"
    )
    return findings.check(name, "warning", ok, "check the api_sync run that wrote the folder: ")


def _producer_counts(folder: Path) -> list[tuple[str, int]]:
    """(module, records_found) of the api_sync metadata files in ``folder``; files of
    another shape (or unreadable now) say nothing."""
    counts: list[tuple[str, int]] = []
    try:
        names = sorted(p for p in folder.iterdir() if p.name.startswith(METADATA_PREFIX) and p.suffix == ".json")
    except OSError:
        return counts
    for path in names:
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(meta, dict):
            continue
        module, found = meta.get("module"), meta.get("records_found")
        if isinstance(module, str) and module and isinstance(found, int) and not isinstance(found, bool):
            counts.append((module, found))
    return counts


def check_freshness(ctx: VerifyContext) -> Check:
    """The newest loaded session is within ``session_max_age`` hours."""
    fresh = assess_freshness(ctx.conn, ctx.catalog, max_age_hours=ctx.max_age_hours, now=ctx.now)
    if fresh.newest is None:
        details = "nothing loaded yet: the file ledger is empty or missing"
        return make_check("freshness", "warning", details)
    details = f"newest data {fresh.newest}, {fresh.age_hours} hours old (limit {ctx.max_age_hours:g})"
    if fresh.is_fresh:
        return make_check("freshness", "ok", details)
    details += "; run api_sync and sync again"
    return make_check("freshness", "warning", details, 1, [fresh.newest])


def check_rejected_records(ctx: VerifyContext) -> Check:
    """Records waiting in the quarantine (no usable id, or a file skipped as invalid)."""
    if sd.REJECTED_TABLE not in ctx.catalog.internal:
        return make_check("rejected_records", "ok", "not applicable: no quarantine table")
    count = ctx.conn.execute(ctx.dialect.count_rows(sd.REJECTED_TABLE)).fetchone()[0]
    if not count:
        return make_check("rejected_records", "ok", "no rejected records")
    rows = read_rows(
        ctx.conn, ctx.catalog, sd.REJECTED_TABLE, REJECTED_COLUMNS,
        order_by="rejected_id", limit=EXAMPLE_LIMIT,
    )
    examples = [f"{r['entity']}: {r['reason']} ({Path(str(r['source_file'])).name})" for r in rows]
    return make_check(
        "rejected_records",
        "warning",
        f"{_plural(count, 'record')} in {sd.REJECTED_TABLE}; fix the source and load again",
        count,
        examples,
    )


CheckFunction = Callable[[VerifyContext], Check]

CHECKS: tuple[CheckFunction, ...] = (
    check_integrity_check,
    check_foreign_key_check,
    check_orphan_child_rows,
    check_null_or_duplicate_ids,
    check_required_fields,
    check_date_formats,
    check_numeric_values,
    check_document_arithmetic,
    check_contact_references,
    check_item_references,
    check_payment_invoice_references,
    check_vendor_payment_bill_references,
    check_source_counts,
    check_line_item_files,
    check_producer_counts,
    check_freshness,
    check_rejected_records,
)


def verify_database(
    conn: Any,
    *,
    session_max_age_hours: float = 24,
    now: datetime | None = None,
    tables: Iterable[str] | None = None,
    check_source_counts: bool = True,
    source_files: Iterable[str] | None = None,
    source_ids: Mapping[str, Collection[str]] | None = None,
    row_ids: Mapping[str, Collection[str]] | None = None,
    line_item_mismatches: Sequence[str] | None = None,
    line_item_files_compared: int = 0,
    progress: ProgressCallback = null_progress,
) -> list[Check]:
    """Run every check of :data:`CHECKS`, read-only, and return their results in order.

    Args:
        conn: an open connection (the runner opens it, read-only is enough).
        session_max_age_hours: data older than this is stale (freshness check).
        now: the clock, for tests; naive means local time.
        tables: limit table-level checks to these tables (and their child tables), e.g.
            the tables a run touched; None checks every ``json_*`` table.
        check_source_counts: re-read the ledger's files to compare ids with rows.
        source_files: limit that comparison to these ledger paths (the files a run just
            loaded), so a nightly run does not re-read years of history.
        source_ids: the distinct ids per ledger path that a run just loaded; files found
            here are not read again.
        row_ids: main table → ids a run wrote; row-level checks then look only at those
            rows (and their child rows), so a nightly run costs what it changed.
        line_item_mismatches: what a sync found comparing api_sync's line-item files with
            the items embedded in their parents (one message per parent); None outside a sync.
        line_item_files_compared: how many such files that sync compared.
        progress: told ``ProgressEvent("verify", done, len(CHECKS), name)`` per check (on a
            large database the checks take seconds).

    A check that hits a database error (SQLite's, or PostgreSQL's as a DatabaseError)
    is reported as an error naming it, so one damaged table does not hide the other
    results.
    """
    catalog = read_catalog(conn)
    ctx = VerifyContext(
        conn=conn,
        catalog=catalog,
        selected=_select(catalog, tables),
        max_age_hours=session_max_age_hours,
        now=now,
        check_source_counts=check_source_counts,
        source_files=frozenset(source_files) if source_files is not None else None,
        scoped=tables is not None,
        source_ids=source_ids,
        row_scopes=_build_scopes(conn, row_ids or {}),
        line_item_mismatches=line_item_mismatches,
        line_item_files_compared=line_item_files_compared,
    )
    results = []
    for done, check in enumerate(CHECKS):
        name = check.__name__.removeprefix("check_")
        progress(ProgressEvent("verify", done, len(CHECKS), name))
        results.append(_run(check, ctx))
    progress(ProgressEvent("verify", len(CHECKS), len(CHECKS), "done"))
    problems = [r["name"] for r in results if r["status"] != "ok"]
    logger.info(
        "verified %d tables: %d checks, problems in %s",
        len(ctx.selected), len(results), problems or "none",
    )
    return results


def _build_scopes(conn: Any, row_ids: Mapping[str, Collection[str]]) -> dict[str, str]:
    """One temp table of ids per main table (temp tables work on read-only connections)."""
    scopes: dict[str, str] = {}
    for index, (table, ids) in enumerate(sorted(row_ids.items())):
        name = f"json2db_scope_{index}"
        dialect = dialect_of(conn)
        conn.execute(dialect.create_scope_table(name))
        conn.executemany(dialect.insert_scope_id(name), ((i,) for i in ids))
        scopes[table] = name
    return scopes


def _select(catalog: Catalog, tables: Iterable[str] | None) -> tuple[TableInfo, ...]:
    """The tables in scope: all, or the named ones plus their children."""
    if tables is None:
        return tuple(catalog.tables.values())
    wanted = set(tables)
    return tuple(
        t for t in catalog.tables.values() if t.name in wanted or t.parent in wanted
    )


def _run(check: CheckFunction, ctx: VerifyContext) -> Check:
    try:
        return check(ctx)
    except (sqlite3.Error, DatabaseError) as exc:
        name = check.__name__.removeprefix("check_")
        logger.warning("check %s could not run: %s", name, exc)
        return make_check(name, "error", f"could not run: {exc}")
