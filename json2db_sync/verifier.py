"""Verifier stage: read-only checks that the numbers in the database are the numbers in
the books, each failing check with its advice; imports stdlib, ``errors``, ``progress``,
``sql_dialect``, ``catalog`` (what the database holds, freshness), ``check_context`` (what
a check reads and returns), ``zoho_rules`` (the date and sign rules) and ``source_checks``
(the checks against the loaded files).

:func:`verify_database` runs every function of :data:`CHECKS` on an open connection and
returns one ``{"name", "status", "details", "count", "examples"}`` dict per check (and
``advice`` when it is not ok). It never writes. A database written by an older version
(internal tables or columns missing, a table without ``id``) is judged with what it has: a
check that cannot apply says so in its details instead of failing.

Judgement calls, written down once (the Zoho value rules are in :mod:`zoho_rules`):

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

import logging
import sqlite3
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from . import sql_dialect as sd
from ._types import Check
from .catalog import (
    Catalog,
    TableInfo,
    assess_freshness,
    holds_more_rows_than,
    read_catalog,
    read_rows,
)
from .check_context import (
    EXAMPLE_LIMIT,
    Findings,
    VerifyContext,
    count_and_examples,
    examples_of,
    make_check,
    plural,
)
from .destinations import dialect_of
from .errors import DatabaseError
from .json_analyzer import table_name_for
from .progress import ProgressCallback, ProgressEvent, null_progress
from .source_checks import (
    check_line_item_files,
    check_producer_counts,
    check_source_counts,
)
from .sources import LINE_ITEMS_FIELD
from .zoho_rules import (
    NON_NEGATIVE_COLUMNS,
    NUMERIC_COLUMNS,
    PAYMENT_ENTITIES,
    document_date_column,
    is_date_column,
    is_document,
    is_signed_entity,
    is_timestamp_column,
    is_valid_date,
    is_valid_timestamp,
)

logger = logging.getLogger(__name__)

SUBTOTAL_TOLERANCE = 0.01
# Float sums of cents are not exact; a difference of 0.01 still passes.
_FLOAT_SLACK = 1e-9
REJECTED_COLUMNS = ("rejected_id", "entity", "source_file", "reason")
CUTOFF_NOTE = (
    "a cutoff can load partial data: documents inside the window may point to records "
    "last changed before it; a load without a cutoff brings them in"
)


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
        f"SQLite integrity_check found {plural(len(messages), 'problem')}; restore a backup "
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
    findings = Findings()
    per_table: dict[str, list[str]] = {}
    if ctx.scoped:
        found = [row for t in ctx.selected for row in _scoped_foreign_key_check(ctx, t)]
    else:
        found = list(ctx.conn.execute(ctx.dialect.PRAGMA_FOREIGN_KEY_CHECK))
    for table, rowid, parent, _fkid in found:
        if table in scope or table not in ctx.catalog.tables:
            per_table.setdefault(f"{table} → {parent}", []).append(f"{table} rowid {rowid}")
    for key, rows in per_table.items():
        findings.add(len(rows), rows, f"{key}: {plural(len(rows), 'row')}")
    return findings.check("foreign_key_check", "error", "no foreign key violations")


def _scoped_foreign_key_check(ctx: VerifyContext, table: TableInfo) -> list[tuple[Any, ...]]:
    """``PRAGMA foreign_key_check(table)``'s rows (table, rowid, parent, fkid), looking
    only at the rows this run wrote when the run's scope covers the table and its keys are
    single columns naming their parent column (as json2db_sync declares them); the pragma
    itself reads the whole table, so it is kept for the other cases and for verify."""
    scope = ctx.scope_of(table)
    keys = ctx.conn.execute(ctx.dialect.foreign_key_list(table.name)).fetchall()
    ids = [key[0] for key in keys]
    simple = all(ids.count(key[0]) == 1 and key[4] and key[2] in ctx.catalog.tables for key in keys)
    if scope is None or not simple:
        return list(ctx.conn.execute(ctx.dialect.foreign_key_check_table(table.name)))
    found: list[tuple[Any, ...]] = []
    for fkid, _seq, parent, column, parent_column, *_ in keys:
        query = ctx.dialect.checks.foreign_key_violations(table.name, column, parent, parent_column, scope)
        found.extend((table.name, rowid, parent, fkid) for (rowid,) in ctx.conn.execute(query))
    found.sort(key=lambda row: (row[1], row[3]))
    return found


def check_orphan_child_rows(ctx: VerifyContext) -> Check:
    """Child rows whose parent row is missing (also where no foreign key is declared)."""
    findings = Findings()
    children = [t for t in ctx.selected_children() if t.has("parent_id")]
    for child in children:
        parent = ctx.catalog.tables[child.parent or ""]
        if not parent.has("id"):
            continue
        query = ctx.dialect.checks.offending_orphans(child.name, parent.name, ctx.scope_of(child))
        count, examples = count_and_examples(ctx.conn, query)
        note = f"{child.name}: {plural(count, 'row')} without a row in {parent.name}"
        findings.add(count, examples, note)
    ok = f"every child row has its parent ({plural(len(children), 'child table')})"
    return findings.check("orphan_child_rows", "error", ok)


def check_null_or_duplicate_ids(ctx: VerifyContext) -> Check:
    """Every row has an id and no id is held twice (per parent in child tables)."""
    findings = Findings()
    without_id = [t.name for t in ctx.selected if not t.has("id")]
    for table in ctx.selected:
        if not table.has("id"):
            continue
        count, examples = count_and_examples(ctx.conn, ctx.dialect.checks.offending_null_ids(table.name, ctx.scope_of(table)))
        findings.add(count, examples, f"{table.name}: {plural(count, 'row')} without an id")
        per_parent = table.is_child and table.has("parent_id")
        query = ctx.dialect.checks.offending_duplicate_ids(table.name, per_parent, ctx.scope_of(table))
        count, examples = count_and_examples(ctx.conn, query)
        scope = " within one parent" if per_parent else ""
        note = f"{table.name}: {plural(count, 'id')} held by more than one row{scope}"
        findings.add(count, examples, note)
    ok = "every row has a unique id"
    if without_id:
        ok += f" (no id column, skipped: {', '.join(without_id)})"
    return findings.check("null_or_duplicate_ids", "error", ok)


def check_required_fields(ctx: VerifyContext) -> Check:
    """Documents carry a date and a total (ids are the null_or_duplicate_ids check)."""
    findings = Findings()
    documents = [t for t in ctx.selected_main() if is_document(ctx.catalog, t)]
    for table in documents:
        total_column = "total" if table.has("total") else None
        for wanted, column in (("date", document_date_column(table)), ("total", total_column)):
            count, examples = count_and_examples(
                ctx.conn, ctx.dialect.checks.offending_blanks(table.name, column, table.label, ctx.scope_of(table))
            )
            findings.add(count, examples, f"{table.name}: {plural(count, 'row')} without a {wanted}")
    ok = f"every document has a date and a total ({plural(len(documents), 'document table')})"
    return findings.check("required_fields", "warning", ok)


def check_date_formats(ctx: VerifyContext) -> Check:
    """``date``/``*_date`` and ``*_time`` values parse ("" and NULL are unset)."""
    findings = Findings()
    checked = 0
    for table in ctx.selected:
        # (column, is_date): a column named like both is judged as a date
        columns = [
            (column, is_date_column(column)) for column in table.columns
            if table.holds_text(column) and (is_date_column(column) or is_timestamp_column(column))
        ]
        if not columns:
            continue
        checked += len(columns)
        query = ctx.dialect.checks.nonstandard_dates_and_times(table.name, columns, table.label, ctx.scope_of(table))
        bad: list[list[tuple[Any, Any]]] = [[] for _ in columns]
        for row in ctx.conn.execute(query):
            for index, (_, is_date) in enumerate(columns):
                value, unusual = row[1 + 2 * index], row[2 + 2 * index]
                # SQL finds the values not of the usual shape; Python judges them (it accepts more shapes)
                if unusual and not (is_valid_date(value) if is_date else is_valid_timestamp(value)):
                    bad[index].append((row[0], value))
        for (column, is_date), found in zip(columns, bad):
            if found:
                count = plural(len(found), "value")
                note = f"{table.name}.{column}: {count} not a {'date' if is_date else 'timestamp'} (e.g. {found[0][1]!r})"
                findings.add(len(found), [label for label, _ in found[:EXAMPLE_LIMIT]], note)
    ok = f"all dates and timestamps parse ({plural(checked, 'column')})"
    return findings.check("date_formats", "warning", ok)


def check_numeric_values(ctx: VerifyContext) -> Check:
    """Amounts and quantities are numbers, and not negative where Zoho never is. One scan
    of a table counts every test; the rows of a test that found some are then listed."""
    findings = Findings()
    checks = ctx.dialect.checks
    for table in ctx.selected:
        signed = is_signed_entity(table.entity)
        tests: list[tuple[str, bool, bool]] = []  # (column, negative?, typed)
        for column in NUMERIC_COLUMNS:
            if not table.has(column):
                continue
            # A number column of a database that enforces types (PostgreSQL) holds
            # nothing else: no need to read it for text, and it is read as a number as it is.
            typed = ctx.dialect.STRICT_TYPES and table.holds_numbers(column)
            if not typed:
                tests.append((column, False, typed))
            if column in NON_NEGATIVE_COLUMNS and not signed:
                tests.append((column, True, typed))
        if not tests:
            continue
        scope = ctx.scope_of(table)
        counts = ctx.conn.execute(checks.numeric_offence_counts(table.name, tests, scope)).fetchone()
        for (column, negative, typed), count in zip(tests, counts):
            if not count:
                continue
            where = f"{table.name}.{column}"
            if negative:
                query = checks.offending_negatives(table.name, column, table.label, scope, typed=typed)
                note = f"{where}: {plural(int(count), 'negative value')}"
            else:
                query = checks.offending_non_numbers(table.name, column, table.label, scope)
                note = f"{where}: {plural(int(count), 'value')} not a number"
            findings.add(int(count), examples_of(ctx.conn, query), note)
    ok = "quantities, rates and amounts are non-negative numbers"
    return findings.check("numeric_values", "warning", ok)


def check_document_arithmetic(ctx: VerifyContext) -> Check:
    """A document's ``sub_total`` equals the sum of its line items' ``item_total``."""
    findings = Findings()
    pairs = []
    for parent in ctx.selected_main():
        child = ctx.catalog.line_items_of(parent)
        if child is None or not (parent.has("sub_total") and parent.has("id")):
            continue
        if child.has("item_total") and child.has("parent_id"):
            pairs.append((parent, child))
    for parent, child in pairs:
        typed = ctx.dialect.STRICT_TYPES and parent.holds_numbers("sub_total") and child.holds_numbers("item_total")
        query = ctx.dialect.checks.subtotal_mismatches(parent.name, child.name, ctx.scope_of(parent), typed=typed)
        rows = ctx.conn.execute(query, (SUBTOTAL_TOLERANCE + _FLOAT_SLACK,)).fetchall()
        if rows:
            worst_id, sub_total, items_total, _ = rows[0]
            note = (
                f"{parent.name}: {plural(len(rows), 'document')} whose sub_total differs from "
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
    findings = Findings()
    for table, column in sources:
        query = ctx.dialect.checks.offending_references(table.name, column, target.name, ctx.scope_of(table))
        count, examples = count_and_examples(ctx.conn, query)
        note = f"{table.name}.{column}: {plural(count, 'reference')} not in {target.name}"
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
        if is_document(ctx.catalog, table) or table.entity in PAYMENT_ENTITIES
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
        f"{plural(count, 'record')} in {sd.REJECTED_TABLE}; fix the source and load again",
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


# From this many ids on, a table is asked whether it holds rows beyond the run's.
WHOLE_TABLE_MIN_IDS = 5000


def _build_scopes(conn: Any, row_ids: Mapping[str, Collection[str]]) -> dict[str, str]:
    """One temp table of ids per main table (temp tables work on read-only connections).

    None for a table whose every row the run wrote (a first load): its rows are the run's
    rows, and its checks read it whole instead of joining it with the ids (at 20,000
    invoices 0.43 s instead of 0.77 s). Only many ids are worth the question: a nightly
    run's few keep their scope without it."""
    scopes: dict[str, str] = {}
    for index, (table, ids) in enumerate(sorted(row_ids.items())):
        if _only_the_runs_rows(conn, table, ids):
            continue
        name = f"json2db_scope_{index}"
        dialect = dialect_of(conn)
        conn.execute(dialect.checks.create_scope_table(name))
        conn.executemany(dialect.checks.insert_scope_id(name), ((i,) for i in ids))
        scopes[table] = name
    return scopes


def _only_the_runs_rows(conn: Any, table: str, ids: Collection[str]) -> bool:
    """Whether the run wrote every row of ``table``: the run's ids are all in it (it wrote
    them), so no row beyond that many means no other row. False when unsure."""
    distinct = len(ids) if isinstance(ids, (set, frozenset)) else len(set(ids))
    if distinct < WHOLE_TABLE_MIN_IDS:
        return False
    try:
        return not holds_more_rows_than(conn, table, distinct)
    except (sqlite3.Error, DatabaseError):
        return False  # the checks keep the scope, and say what is wrong with the table


def _select(catalog: Catalog, tables: Iterable[str] | None) -> tuple[TableInfo, ...]:
    """The tables in scope: all, or the named ones plus their children."""
    if tables is None:
        return tuple(catalog.tables.values())
    wanted = set(tables)
    return tuple(
        t for t in catalog.tables.values() if t.name in wanted or t.parent in wanted
    )


def _run(check: CheckFunction, ctx: VerifyContext) -> Check:
    """One check's result, with its advice when it is not ok; a database error is the
    check's own "could not run" error, so one damaged table does not hide the other results."""
    try:
        result = check(ctx)
    except (sqlite3.Error, DatabaseError) as exc:
        name = check.__name__.removeprefix("check_")
        logger.warning("check %s could not run: %s", name, exc)
        result = make_check(name, "error", f"could not run: {exc}")
    return _with_advice(result)


def _with_advice(check: Check) -> Check:
    """What to do about a check that is not ok (see :data:`CHECK_ADVICE`)."""
    if check["status"] != "ok":
        could_not_run = check["details"].startswith("could not run")
        check["advice"] = _COULD_NOT_RUN_ADVICE if could_not_run else CHECK_ADVICE.get(check["name"], "")
    return check
