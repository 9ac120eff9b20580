"""Report views stage: the read-only finance views a sync leaves in the database.

May import stdlib, ``sql_dialect``, ``destinations`` and ``json_analyzer``. A finance team's
first questions (sales by month, who owes what and how old it is, what we owe, the sync
history) are answered by SQL views over the ``json_*`` tables, so any SQL client, BI tool
or Datasette can read them without knowing how the tool lays out Zoho's JSON.

The views are named ``json2db_*``: no data table (``json_*``) or internal table
(``_json2db_*``) can take such a name. DDL that a view would block (dropping tables in a
recreation, retyping a PostgreSQL column) drops them first; every writing run makes them
again at its end, inside its one transaction (a view whose SQL has not changed is left
alone), so a rolled-back run leaves the views as they were. A view is created only when
its table has the columns it needs (with the types it needs): a database holding no bills
simply has no payables view, and says why.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from . import sql_dialect as sd
from .destinations import dialect_of
from .json_analyzer import table_name_for
from .sql_dialect import Dialect
from .sql_dialect import views as sv

logger = logging.getLogger(__name__)

Connection = Any  # destinations.sqlite.SQLiteConnection or destinations.postgres.PostgresConnection

RUNS_SOURCE = "_runs"  # the run history, not an entity


@dataclass(frozen=True, slots=True)
class ViewSpec:
    """One report view: where it reads, what it needs, and what its columns mean."""

    name: str
    title: str
    description: str
    entity: str  # the entity whose json_* table it reads, or RUNS_SOURCE
    build: Callable[[Dialect, sv.DocumentSource], str]
    columns: tuple[tuple[str, str], ...]
    needs_text: tuple[str, ...] = ()  # text columns it cannot do without (ids, dates)
    needs_numbers: tuple[str, ...] = ()  # numeric columns it cannot do without (amounts)


_AGING_COLUMNS = (
    ("current", "open balance not yet due (or without a due date)"),
    ("days_1_30", "open balance 1 to 30 days past due"),
    ("days_31_60", "open balance 31 to 60 days past due"),
    ("days_61_90", "open balance 61 to 90 days past due"),
    ("days_over_90", "open balance more than 90 days past due"),
    ("total_outstanding", "the whole open balance (the sum of the five buckets)"),
)

VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec(
        name="json2db_sales_by_month",
        title="Sales by month",
        description=(
            "Invoices per calendar month of their date and per currency: how much was invoiced, "
            "how much of it is settled and how much is still open. Draft and void invoices are left out."
        ),
        entity="invoices",
        build=sv.sales_by_month,
        columns=(
            ("month", "the invoices' month, YYYY-MM (from the invoice date)"),
            ("currency_code", "the invoices' currency ('' when the data has none)"),
            ("invoices", "how many invoices"),
            ("invoiced", "sum of the invoice totals"),
            ("paid", "invoiced minus outstanding: what payments and applied credits settled"),
            ("outstanding", "sum of the invoice balances still open"),
        ),
        needs_text=("date",),
        needs_numbers=("total", "balance"),
    ),
    ViewSpec(
        name="json2db_receivables_aging",
        title="Receivables aging",
        description=(
            "What each customer owes on open invoices, split by how many days past the due date "
            "it is (today, UTC). Invoices with a balance of zero, drafts and void ones are left out."
        ),
        entity="invoices",
        build=lambda d, src: sv.aging(d, src, "customer", "open_invoices"),
        columns=(
            ("customer_id", "the customer's contact id"),
            ("customer_name", "the customer's name as the invoices carry it"),
            ("currency_code", "the invoices' currency"),
            ("open_invoices", "how many invoices still have a balance"),
            *_AGING_COLUMNS,
        ),
        needs_text=("customer_id", "due_date"),
        needs_numbers=("balance",),
    ),
    ViewSpec(
        name="json2db_payables_aging",
        title="Payables aging",
        description=(
            "What is owed to each vendor on open bills, split by how many days past the due date "
            "it is (today, UTC). Bills with a balance of zero, drafts and void ones are left out."
        ),
        entity="bills",
        build=lambda d, src: sv.aging(d, src, "vendor", "open_bills"),
        columns=(
            ("vendor_id", "the vendor's contact id"),
            ("vendor_name", "the vendor's name as the bills carry it"),
            ("currency_code", "the bills' currency"),
            ("open_bills", "how many bills still have a balance"),
            *_AGING_COLUMNS,
        ),
        needs_text=("vendor_id", "due_date"),
        needs_numbers=("balance",),
    ),
    ViewSpec(
        name="json2db_customer_balances",
        title="Customer balances",
        description=(
            "Each customer's account from their invoices, per currency: invoiced, settled, open, "
            "overdue, the oldest unpaid due date and the last invoice date. Drafts and void invoices "
            "are left out."
        ),
        entity="invoices",
        build=sv.customer_balances,
        columns=(
            ("customer_id", "the customer's contact id"),
            ("customer_name", "the customer's name as the invoices carry it"),
            ("currency_code", "the invoices' currency"),
            ("invoices", "how many invoices"),
            ("invoiced", "sum of the invoice totals"),
            ("paid", "invoiced minus outstanding"),
            ("outstanding", "sum of the open balances"),
            ("overdue", "the part of outstanding that is past its due date"),
            ("oldest_unpaid_due_date", "the earliest due date of an invoice still open (YYYY-MM-DD)"),
            ("last_invoice_date", "the newest invoice date (YYYY-MM-DD)"),
        ),
        needs_text=("customer_id", "date", "due_date"),
        needs_numbers=("total", "balance"),
    ),
    ViewSpec(
        name="json2db_sync_history",
        title="Sync history",
        description=(
            "Every recorded run of the tool, newest first: what ran, when, how it ended, and the "
            "records it read, inserted, updated and rejected."
        ),
        entity=RUNS_SOURCE,
        build=lambda d, src: sv.sync_history(d, src.table),
        columns=(
            ("run_id", "the run's number"),
            ("operation", "what ran (full_sync_workflow, populate_tables, ...)"),
            ("status", "success or failed"),
            ("started_at", "when it started (UTC)"),
            ("finished_at", "when it ended (UTC)"),
            ("records", "records read from the files"),
            ("inserted", "records that were new"),
            ("updated", "records that replaced an older version"),
            ("rejected", "records quarantined in _json2db_rejected (no usable id)"),
            ("files_loaded", "files loaded (files already in the ledger are not counted)"),
            ("error", "the error of a failed run"),
        ),
    ),
)

VIEW_NAMES: tuple[str, ...] = tuple(v.name for v in VIEWS)


def view_spec(name: str) -> ViewSpec:
    for spec in VIEWS:
        if spec.name == name:
            return spec
    raise KeyError(name)


@dataclass
class ViewPlan:
    """Which views can be made in a database (their SQL) and why the others cannot."""

    sql: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def plan_views(conn: Connection) -> ViewPlan:
    """The views this database's tables support, with their ``SELECT`` text."""
    dialect = conn.dialect
    tables = {row[0] for row in conn.execute(dialect.LIST_TABLES)}
    plan = ViewPlan()
    types_cache: dict[str, dict[str, str]] = {}
    for spec in VIEWS:
        if spec.name in tables:
            plan.skipped[spec.name] = f"a table named {spec.name} exists already; it is left alone"
            continue
        table = sd.RUNS_TABLE if spec.entity == RUNS_SOURCE else table_name_for(spec.entity)
        if table not in tables:
            plan.skipped[spec.name] = f"no {table} table yet"
            continue
        if table not in types_cache:
            types_cache[table] = _column_types(conn, table)
        types = types_cache[table]
        reason = _missing(spec, table, types)
        if reason:
            plan.skipped[spec.name] = reason
            continue
        plan.sql[spec.name] = spec.build(dialect, sv.DocumentSource(table, frozenset(types)))
    return plan


def _column_types(conn: Connection, table: str) -> dict[str, str]:
    """Lower-cased column name to logical type (TEXT, INTEGER, REAL, "" ...)."""
    dialect = conn.dialect
    return {str(row[0]).lower(): str(dialect.logical_type(row[1] or "")) for row in conn.execute(*dialect.columns_of(table))}


def _missing(spec: ViewSpec, table: str, types: Mapping[str, str]) -> str | None:
    """Why ``table`` cannot feed ``spec`` (a column absent or of the wrong type), or None."""
    absent = [c for c in (*spec.needs_text, *spec.needs_numbers) if c not in types]
    if absent:
        return f"{table} has no {', '.join(absent)} column"
    not_text = [c for c in spec.needs_text if types[c] not in (sd.TEXT, sd.UNTYPED)]
    not_numbers = [c for c in spec.needs_numbers if types[c] not in (sd.INTEGER, sd.REAL)]
    wrong = [f"{c} is not text" for c in not_text] + [f"{c} does not hold numbers" for c in not_numbers]
    if wrong:
        return f"{table}: {', '.join(wrong)}"
    return None


def existing_views(conn: Connection) -> set[str]:
    return {str(row[0]) for row in conn.execute(conn.dialect.LIST_VIEWS)}


def drop_report_views(conn: Connection) -> list[str]:
    """Drop the tool's report views (only those: a user's own views stay). Called before
    DDL a view would block (dropping the tables, retyping a PostgreSQL column); the run
    makes them again at its end."""
    present = existing_views(conn)
    dropped = [name for name in VIEW_NAMES if name in present]
    for name in dropped:
        conn.execute(conn.dialect.drop_view(name))
    return dropped


STATE_KEY = "report_view_sql:"  # + view name -> a digest of the SQL it was made from


def create_report_views(conn: Connection) -> dict[str, Any]:
    """Make the report views the tables support, at the end of a writing run, inside its
    transaction. Returns ``{"views": [...in place after the run], "rebuilt": [...made by
    this run], "skipped": {view: reason}}``.

    A view that exists and was made from the same SQL (its digest is kept in
    ``_json2db_state``) is left as it is: a run that changed no column the views read
    takes no lock on them, so on PostgreSQL a long report reading a view never holds up
    the sync's commit, and is never held up by it. A view no longer supported is dropped.
    """
    dialect = conn.dialect
    plan = plan_views(conn)
    present = existing_views(conn)
    rebuilt: list[str] = []
    for spec in VIEWS:
        name = spec.name
        select = plan.sql.get(name)
        if select is None:
            if name in present:  # made by an earlier run, no longer supported
                conn.execute(dialect.drop_view(name))
            continue
        digest = hashlib.sha256(select.encode()).hexdigest()[:16]
        stored = conn.execute(dialect.internal.select_state, (STATE_KEY + name,)).fetchone()
        if name in present and stored is not None and stored[0] == digest:
            continue
        if name in present:
            conn.execute(dialect.drop_view(name))
        conn.execute(dialect.create_view(name, select))
        conn.execute(dialect.internal.set_state, (STATE_KEY + name, digest))
        rebuilt.append(name)
    logger.info("report views: rebuilt %s; skipped %s", rebuilt, plan.skipped)
    return {"views": list(plan.sql), "rebuilt": rebuilt, "skipped": dict(plan.skipped)}


def read_view(conn: Connection, name: str, *, present: set[str] | None = None) -> list[dict[str, Any]] | None:
    """A report view's rows as plain JSON-ready dicts (amounts as float), or None when the
    database has no such view (a sync makes it, when its tables allow)."""
    dialect = dialect_of(conn)
    views = existing_views(conn) if present is None else present
    if name not in views:
        return None
    cursor = conn.execute(dialect.select_all(name))
    columns = [str(c[0]) for c in cursor.description]
    return [{col: _plain(value) for col, value in zip(columns, row)} for row in cursor.fetchall()]


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    return value


def describe_views() -> list[dict[str, Any]]:
    """Every report view with its title, meaning and columns (for docs, Datasette)."""
    return [
        {
            "name": spec.name,
            "title": spec.title,
            "description": spec.description,
            "columns": dict(spec.columns),
        }
        for spec in VIEWS
    ]


__all__ = [
    "VIEWS",
    "VIEW_NAMES",
    "ViewSpec",
    "create_report_views",
    "describe_views",
    "drop_report_views",
    "existing_views",
    "plan_views",
    "read_view",
]
