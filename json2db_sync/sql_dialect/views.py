"""The finance report views' SQL, one text for both databases; stdlib only.

Each function returns the ``SELECT`` of one view, built from a dialect module (``.sqlite``
or ``.postgres``) whose ``view_*`` hooks supply the few expressions that differ (a date's
validity, days between dates, rounding, a JSON member). Everything else is plain SQL both
databases read the same way. Which views are made, and from which tables, is decided by
:mod:`json2db_sync.report_views`; the text here only needs the names it is handed.

Column names that are SQL words (``current``, ``month``) are quoted like every identifier.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from .protocol import Dialect

# Documents that are not (yet) a sale or a debt: a draft was never sent, a void one
# was cancelled. Zoho's other statuses (sent, open, overdue, partially_paid, paid,
# unpaid, viewed) all count.
EXCLUDED_STATUSES = ("draft", "void")


@dataclass(frozen=True, slots=True)
class DocumentSource:
    """One document table (invoices or bills) and the columns it has."""

    table: str
    columns: Collection[str]

    def has(self, column: str) -> bool:
        return column in self.columns


def _status_filter(d: Dialect, src: DocumentSource) -> str:
    if not src.has("status"):
        return "1 = 1"
    statuses = ", ".join(f"'{s}'" for s in EXCLUDED_STATUSES)
    return f"COALESCE({d.q('status')}, '') NOT IN ({statuses})"


def _optional(d: Dialect, src: DocumentSource, column: str, default: str) -> str:
    """The column when the table has it, else a constant (``default``: SQL text)."""
    return d.q(column) if src.has(column) else default


def _currency(d: Dialect, src: DocumentSource) -> str:
    return f"COALESCE({d.q('currency_code')}, '')" if src.has("currency_code") else "''"


def _amount(d: Dialect, column: str) -> str:
    return f"COALESCE({d.q(column)}, 0)"


def sales_by_month(d: Dialect, src: DocumentSource) -> str:
    """Invoices per month of their date and currency: invoiced, paid, outstanding."""
    q = d.q
    date = d.view_date("date")
    return f"""SELECT {q('month')}, {q('currency_code')}, COUNT(*) AS {q('invoices')},
  {d.view_money(f"SUM({q('total')})")} AS {q('invoiced')},
  {d.view_money(f"SUM({q('total')}) - SUM({q('balance')})")} AS {q('paid')},
  {d.view_money(f"SUM({q('balance')})")} AS {q('outstanding')}
FROM (
  SELECT substr({date}, 1, 7) AS {q('month')}, {_currency(d, src)} AS {q('currency_code')},
    {_amount(d, 'total')} AS {q('total')}, {_amount(d, 'balance')} AS {q('balance')}
  FROM {q(src.table)}
  WHERE {date} IS NOT NULL AND {_status_filter(d, src)}
) AS {q('s')}
GROUP BY {q('month')}, {q('currency_code')}
ORDER BY {q('month')}, {q('currency_code')}"""


AGING_BUCKETS = (
    # (column, condition on the days past due "days")
    ("current", "{days} IS NULL OR {days} <= 0"),
    ("days_1_30", "{days} BETWEEN 1 AND 30"),
    ("days_31_60", "{days} BETWEEN 31 AND 60"),
    ("days_61_90", "{days} BETWEEN 61 AND 90"),
    ("days_over_90", "{days} > 90"),
)


def aging(d: Dialect, src: DocumentSource, party: str, count_name: str) -> str:
    """Open balances per ``party`` (customer or vendor) and currency, split by how many
    days past their due date they are."""
    q = d.q
    days = q("days")
    balance = q("balance")
    sums = [(name, f"SUM(CASE WHEN {cond.format(days=days)} THEN {balance} ELSE 0 END)") for name, cond in AGING_BUCKETS]
    buckets = ",\n  ".join(f"{d.view_money(total)} AS {q(name)}" for name, total in sums)
    party_id, party_name = f"{party}_id", f"{party}_name"
    return f"""SELECT {q(party_id)}, MAX({q(party_name)}) AS {q(party_name)}, {q('currency_code')},
  COUNT(*) AS {q(count_name)},
  {buckets},
  {d.view_money(f"SUM({q('balance')})")} AS {q('total_outstanding')}
FROM (
  SELECT {q(party_id)}, {_optional(d, src, party_name, 'CAST(NULL AS TEXT)')} AS {q(party_name)},
    {_currency(d, src)} AS {q('currency_code')}, {q('balance')},
    {d.view_days_past(d.view_date('due_date'))} AS {days}
  FROM {q(src.table)}
  WHERE {q('balance')} > 0 AND {_status_filter(d, src)}
) AS {q('s')}
GROUP BY {q(party_id)}, {q('currency_code')}
ORDER BY {q('total_outstanding')} DESC, {q(party_id)}"""


def customer_balances(d: Dialect, src: DocumentSource) -> str:
    """Per customer and currency: invoiced, paid, outstanding, overdue, and dates."""
    q = d.q
    due = d.view_date("due_date")
    return f"""SELECT {q('customer_id')}, MAX({q('customer_name')}) AS {q('customer_name')}, {q('currency_code')},
  COUNT(*) AS {q('invoices')},
  {d.view_money(f"SUM({q('total')})")} AS {q('invoiced')},
  {d.view_money(f"SUM({q('total')}) - SUM({q('balance')})")} AS {q('paid')},
  {d.view_money(f"SUM({q('balance')})")} AS {q('outstanding')},
  {d.view_money(f"SUM(CASE WHEN {q('days')} > 0 AND {q('balance')} > 0 THEN {q('balance')} ELSE 0 END)")} AS {q('overdue')},
  MIN(CASE WHEN {q('balance')} > 0 THEN {q('due')} END) AS {q('oldest_unpaid_due_date')},
  MAX({q('invoice_date')}) AS {q('last_invoice_date')}
FROM (
  SELECT {q('customer_id')}, {_optional(d, src, 'customer_name', 'CAST(NULL AS TEXT)')} AS {q('customer_name')},
    {_currency(d, src)} AS {q('currency_code')},
    {_amount(d, 'total')} AS {q('total')}, {_amount(d, 'balance')} AS {q('balance')},
    {due} AS {q('due')}, {d.view_date('date')} AS {q('invoice_date')},
    {d.view_days_past(due)} AS {q('days')}
  FROM {q(src.table)}
  WHERE {_status_filter(d, src)}
) AS {q('s')}
GROUP BY {q('customer_id')}, {q('currency_code')}
ORDER BY {q('outstanding')} DESC, {q('customer_id')}"""


# (view column, key of the run's statistics JSON)
RUN_STATISTICS = (
    ("records", "total_records"),
    ("inserted", "records_inserted"),
    ("updated", "records_updated"),
    ("rejected", "records_rejected"),
    ("files_loaded", "files_loaded"),
)


def sync_history(d: Dialect, runs_table: str) -> str:
    """One row per recorded run, newest first, with its counts out of ``statistics``."""
    q = d.q
    counts = ",\n  ".join(f"{d.view_json_integer('statistics', key)} AS {q(name)}" for name, key in RUN_STATISTICS)
    return f"""SELECT {q('run_id')}, {q('operation')}, {q('status')}, {q('started_at')}, {q('finished_at')},
  {counts},
  {q('error')}
FROM {q(runs_table)}
ORDER BY {q('run_id')} DESC"""
