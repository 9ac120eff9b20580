"""verifier and summary_reporter on a real PostgreSQL server: a clean load verifies clean,
each problem made with SQL is reported by the right check, a sync's own (scoped) checks
see what it wrote, and the summary reads typed tables.

Databases are built the way users build them: sessions written to disk, loaded with
JSON2DBSyncRunner into a fresh schema (the ``pg_schema`` fixture), then broken with
``pg_query``. Skipped without JSON2DB_TEST_POSTGRES_URL (see conftest.py).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_verifier import CHECK_NAMES, CONTACTS, INVOICES, ITEMS, PAYMENTS

from json2db_sync import JSON2DBSyncRunner
from json2db_sync._types import Check

Query = Callable[..., list[tuple[Any, ...]]]

# The session folder's time says how old the data is: an hour old is fresh (limit 24 hours).
SESSION_TIME = datetime.now().replace(microsecond=0) - timedelta(hours=1)
ENTITIES = {"contacts": CONTACTS, "items": ITEMS, "invoices": INVOICES, "customerpayments": PAYMENTS}
NOT_APPLICABLE = "not applicable on PostgreSQL"
ORPHAN = "SET session_replication_role = replica; "  # this session skips foreign-key triggers


def load(pg_url: str, pg_schema: str, make_session: Callable[..., Path],
         entities: dict[str, Any] | None = None) -> JSON2DBSyncRunner:
    """One session of the verifier tests' records, loaded by the full workflow."""
    make_session(SESSION_TIME, copy.deepcopy(entities if entities is not None else ENTITIES))
    runner = JSON2DBSyncRunner(db_url=pg_url, db_schema=pg_schema)
    result = runner.full_sync_workflow()
    assert result["success"], result["error"]
    return runner


def checks_of(result: dict[str, Any]) -> list[Check]:
    assert [c["name"] for c in result["checks"]] == CHECK_NAMES
    json.dumps(result["checks"])
    return result["checks"]


def problems(checks: Sequence[Check]) -> dict[str, tuple[str, int, list[str]]]:
    return {c["name"]: (c["status"], c["count"], c["examples"]) for c in checks if c["status"] != "ok"}


def check(checks: Sequence[Check], name: str) -> Check:
    return next(c for c in checks if c["name"] == name)


@pytest.fixture
def loaded(pg_url: str, pg_schema: str, make_session: Callable[..., Path]) -> JSON2DBSyncRunner:
    return load(pg_url, pg_schema, make_session)


# --- a clean load ---------------------------------------------------------------------


def test_clean_load_verifies_clean(loaded: JSON2DBSyncRunner) -> None:
    result = loaded.verify_tables()
    assert result["success"], result["error"]
    checks = checks_of(result)
    assert problems(checks) == {}
    assert result["summary"] == {"ok": len(CHECK_NAMES), "warning": 0, "error": 0}
    details = {c["name"]: c["details"] for c in checks}
    assert details["integrity_check"].startswith(NOT_APPLICABLE)
    assert "checks its own storage" in details["integrity_check"]
    assert details["foreign_key_check"].startswith(NOT_APPLICABLE)
    assert "enforces foreign keys on every write" in details["foreign_key_check"]
    # the PostgreSQL-only parts really ran, on these tables
    assert details["orphan_child_rows"] == "every child row has its parent (2 child tables)"
    assert details["date_formats"] == "all dates and timestamps parse (5 columns)"
    assert details["source_counts"] == "every id in 4 loaded files is in its table"
    assert details["freshness"].startswith(f"newest data {SESSION_TIME:%Y-%m-%d %H:%M:%S}, ")
    assert details["vendor_payment_bill_references"] == "not applicable: json_bills does not exist"


def test_the_sync_checks_what_it_wrote(pg_url: str, pg_schema: str, make_session: Callable[..., Path]) -> None:
    """The workflow's own verification (scoped to the rows it wrote, through temp tables)
    is clean after a clean load."""
    make_session(SESSION_TIME, copy.deepcopy(ENTITIES))
    result = JSON2DBSyncRunner(db_url=pg_url, db_schema=pg_schema).full_sync_workflow()
    assert result["success"], result["error"]
    verification = result["steps"]["verification"]
    assert problems(checks_of(verification)) == {}
    assert check(verification["checks"], "integrity_check")["details"].startswith(NOT_APPLICABLE)


# --- each problem made with SQL -------------------------------------------------------


def ctid_label(pg_query: Query, table: str, where: str) -> str:
    """How the verifier names a row without an id: by its ctid."""
    [(label,)] = pg_query(f"SELECT 'row ' || ctid::text FROM {table} WHERE {where}")
    return label


TRIGGERS = [
    pytest.param(
        [ORPHAN + "DELETE FROM json_invoices WHERE id = 'INV-2'"],
        {
            "orphan_child_rows": ("error", 1, ["INV-2"]),
            "source_counts": ("warning", 1, ["INV-2"]),
        },
        id="parent-deleted-behind-the-foreign-key",
    ),
    pytest.param(
        [ORPHAN + "INSERT INTO json_invoices_line_items (parent_id, position, id, item_id, quantity, rate, "
         "item_total) VALUES ('INV-404', 0, 'LI-9', 'ITEM-1', 1, 10, 10)"],
        {"orphan_child_rows": ("error", 1, ["INV-404"])},
        id="orphan-line-item",
    ),
    pytest.param(
        ["UPDATE json_invoices_line_items SET id = 'LI-1' WHERE id = 'LI-2'"],
        {"null_or_duplicate_ids": ("error", 1, ["LI-1"])},
        id="duplicate-line-item-id",
    ),
    pytest.param(
        ["UPDATE json_invoices SET date = '' WHERE id = 'INV-2'",
         "UPDATE json_invoices SET total = NULL WHERE id = 'INV-1'"],
        {"required_fields": ("warning", 2, ["INV-2", "INV-1"])},
        id="document-without-date-and-total",
    ),
    pytest.param(
        ["UPDATE json_invoices SET date = '31/12/2026' WHERE id = 'INV-1'",
         "UPDATE json_invoices SET due_date = '2026-02-30' WHERE id = 'INV-2'"],
        {"date_formats": ("warning", 2, ["INV-1", "INV-2"])},
        id="bad-dates",
    ),
    pytest.param(
        ["UPDATE json_contacts SET created_time = 'yesterday' WHERE id = 'C-2'",
         "UPDATE json_invoices SET created_time = '2026-06-31T10:00:00-0400' WHERE id = 'INV-1'"],
        {"date_formats": ("warning", 2, ["C-2", "INV-1"])},
        id="bad-timestamps",
    ),
    pytest.param(
        ["UPDATE json_invoices_line_items SET quantity = -2 WHERE id = 'LI-3'",
         "UPDATE json_invoices SET total = -1 WHERE id = 'INV-2'"],
        {"numeric_values": ("warning", 2, ["INV-2", "LI-3"])},
        id="negative-quantity-and-total",
    ),
    pytest.param(
        ["UPDATE json_invoices SET sub_total = 26.5 WHERE id = 'INV-1'",
         "UPDATE json_invoices SET sub_total = 10.5 WHERE id = 'INV-2'"],
        {"document_arithmetic": ("warning", 2, ["INV-1", "INV-2"])},
        id="sub-total-mismatch",
    ),
    pytest.param(
        ["UPDATE json_invoices SET customer_id = 'C-404' WHERE id = 'INV-2'"],
        {"contact_references": ("warning", 1, ["C-404"])},
        id="missing-contact",
    ),
    pytest.param(
        ["UPDATE json_invoices_line_items SET item_id = 'ITEM-404' WHERE id = 'LI-1'"],
        {"item_references": ("warning", 1, ["ITEM-404"])},
        id="missing-item",
    ),
    pytest.param(
        ["UPDATE json_customerpayments_invoices SET invoice_id = 'INV-404'"],
        {"payment_invoice_references": ("warning", 1, ["INV-404"])},
        id="payment-for-missing-invoice",
    ),
    pytest.param(
        ["DELETE FROM json_items WHERE id = 'ITEM-3'"],
        {"source_counts": ("warning", 1, ["ITEM-3"])},
        id="ledger-count-mismatch",
    ),
    pytest.param(
        ["UPDATE _json2db_files SET data_timestamp = '2020-01-02 03:04:05'"],
        {"freshness": ("warning", 1, ["2020-01-02 03:04:05"])},
        id="stale-data",
    ),
    pytest.param(
        ["INSERT INTO _json2db_rejected (entity, source_file, reason, raw_json, rejected_at) VALUES "
         "('bills', '/data/bills.json', 'invalid file: truncated', NULL, '2026-06-10')"],
        {"rejected_records": ("warning", 1, ["bills: invalid file: truncated (bills.json)"])},
        id="rejected-record",
    ),
]


@pytest.mark.parametrize(("statements", "expected"), TRIGGERS)
def test_each_problem_reported(loaded: JSON2DBSyncRunner, pg_query: Query, statements: list[str],
                               expected: dict[str, Any]) -> None:
    for statement in statements:
        pg_query(statement)
    result = loaded.verify_tables()
    found = problems(checks_of(result))
    assert found == expected
    assert result["success"] is not any(status == "error" for status, _, _ in expected.values())


def test_rows_without_an_id_are_named_by_ctid(loaded: JSON2DBSyncRunner, pg_query: Query) -> None:
    pg_query("UPDATE json_invoices_line_items SET id = NULL WHERE id = 'LI-3'")
    pg_query("UPDATE json_contacts SET id = '' WHERE id = 'C-2'")
    child = ctid_label(pg_query, "json_invoices_line_items", "id IS NULL")
    main = ctid_label(pg_query, "json_contacts", "id = ''")
    assert re.fullmatch(r"row \(\d+,\d+\)", child)
    result = loaded.verify_tables()
    assert not result["success"]
    assert problems(checks_of(result)) == {
        "null_or_duplicate_ids": ("error", 2, [main, child]),
        # the contact's id changed: INV-2 and the ledger name a C-2 that has no row
        "contact_references": ("warning", 1, ["C-2"]),
        "source_counts": ("warning", 1, ["C-2"]),
    }


def test_arithmetic_details_name_the_worst_document(loaded: JSON2DBSyncRunner, pg_query: Query) -> None:
    pg_query("UPDATE json_invoices SET sub_total = 25.5 WHERE id = 'INV-1'")
    pg_query("UPDATE json_invoices SET sub_total = 40 WHERE id = 'INV-2'")
    arithmetic = check(checks_of(loaded.verify_tables()), "document_arithmetic")
    assert arithmetic["examples"] == ["INV-2", "INV-1"]
    assert "json_invoices: 2 documents whose sub_total differs" in arithmetic["details"]
    assert "worst: INV-2 sub_total 40.0 vs 10.0" in arithmetic["details"]


QUIET_CHANGES = [
    pytest.param(["UPDATE json_invoices SET sub_total = 25.01 WHERE id = 'INV-1'"], id="one-cent-passes"),
    pytest.param(["UPDATE json_invoices SET due_date = NULL", "UPDATE json_invoices SET date = '2024-02-29'"],
                 id="unset-due-date-and-leap-day"),
    pytest.param(["UPDATE json_contacts SET created_time = '2026-06-09T16:48:58+05:30'",
                  "UPDATE json_invoices SET created_time = '2026-06-09 16:48'"],
                 id="other-timestamp-shapes"),
    pytest.param(["UPDATE json_customerpayments SET amount = -5"], id="amount-may-be-negative"),
    pytest.param(["UPDATE json_invoices_line_items SET item_id = '' WHERE id = 'LI-1'",
                  "UPDATE json_invoices_line_items SET quantity = NULL"],
                 id="unset-reference-and-quantity"),
]


@pytest.mark.parametrize("statements", QUIET_CHANGES)
def test_changes_that_stay_quiet(loaded: JSON2DBSyncRunner, pg_query: Query, statements: list[str]) -> None:
    for statement in statements:
        pg_query(statement)
    assert problems(checks_of(loaded.verify_tables())) == {}


def test_text_columns_are_checked_as_text(pg_url: str, pg_schema: str, make_session: Callable[..., Path]) -> None:
    """A column that met text in the files is TEXT on PostgreSQL: its numbers are still
    numbers, its words are not, and "" is unset. A date column that only ever held
    flags is BIGINT and is not a date."""
    payments = copy.deepcopy(PAYMENTS)
    payments[0]["amount"] = "27.5"
    payments[0]["stop_reminder_until_payment_expected_date"] = 0
    payments += [
        {"payment_id": "P-2", "customer_id": "C-2", "date": "2026-06-04", "amount": "lots",
         "stop_reminder_until_payment_expected_date": 1},
        {"payment_id": "P-3", "customer_id": "C-2", "date": "2026-06-05", "amount": ""},
    ]
    runner = load(pg_url, pg_schema, make_session, {**ENTITIES, "customerpayments": payments})
    result = runner.verify_tables()
    assert problems(checks_of(result)) == {"numeric_values": ("warning", 1, ["P-2"])}
    assert "json_customerpayments.amount: 1 value not a number" in check(result["checks"], "numeric_values")["details"]


def test_a_check_that_fails_is_an_error_and_the_others_run(loaded: JSON2DBSyncRunner, pg_query: Query) -> None:
    """A table another program made (its parent_id a number, so comparing it with the
    parent's text id is an error on PostgreSQL) fails one check, not the run."""
    pg_query("CREATE TABLE json_invoices_notes (parent_id BIGINT, note TEXT)")
    pg_query("INSERT INTO json_invoices_notes VALUES (1, 'hello')")
    result = loaded.verify_tables()
    checks = checks_of(result)
    orphans = check(checks, "orphan_child_rows")
    assert orphans["status"] == "error"
    assert orphans["details"].startswith("could not run: ")
    assert "operator does not exist" in orphans["details"]
    assert problems(checks) == {"orphan_child_rows": ("error", 0, [])}
    assert not result["success"]


# --- a sync's own checks, scoped to what it wrote ----------------------------------------------


def test_the_next_sync_checks_only_what_it_wrote(loaded: JSON2DBSyncRunner, pg_query: Query,
                                                   make_session: Callable[..., Path]) -> None:
    """A later session brings a broken invoice: the workflow's checks (scoped to the rows
    it wrote, through temp tables) report it, and not an old problem elsewhere."""
    pg_query("UPDATE json_invoices SET date = 'someday' WHERE id = 'INV-1'")  # old, out of scope
    broken = {
        "invoice_id": "INV-3",
        "customer_id": "C-404",
        "date": "2026-02-30",
        "sub_total": 99.0,
        "total": 99.0,
        "line_items": [
            {"line_item_id": "LI-4", "item_id": "ITEM-404", "quantity": -1, "rate": 10.0, "item_total": 10.0},
            {"line_item_id": "LI-4", "item_id": "ITEM-1", "quantity": 1, "rate": 10.0, "item_total": 10.0},
        ],
    }
    make_session(SESSION_TIME + timedelta(minutes=30), {"invoices": [broken]})
    result = loaded.full_sync_workflow()
    assert not result["success"]  # a line item id held twice in one invoice is an error
    verification = result["steps"]["verification"]
    assert problems(checks_of(verification)) == {
        "null_or_duplicate_ids": ("error", 1, ["LI-4"]),
        "date_formats": ("warning", 1, ["INV-3"]),
        "numeric_values": ("warning", 1, ["LI-4"]),
        "document_arithmetic": ("warning", 1, ["INV-3"]),
        "contact_references": ("warning", 1, ["C-404"]),
        "item_references": ("warning", 1, ["ITEM-404"]),
    }
    # verify_tables looks at every row: the old date is there too
    everything = problems(checks_of(loaded.verify_tables()))
    assert everything["date_formats"] == ("warning", 2, ["INV-1", "INV-3"])


# --- the summary ----------------------------------------------------------------------------


def test_summary_report_on_postgres(loaded: JSON2DBSyncRunner, pg_schema: str) -> None:
    report = loaded.generate_summary_report()
    assert report["success"], report["error"]
    counts = {t["name"]: (t["record_count"], t["is_child"], t["parent"]) for t in report["tables"]}
    assert counts == {
        "json_contacts": (2, False, None),
        "json_customerpayments": (1, False, None),
        "json_customerpayments_invoices": (1, True, "json_customerpayments"),
        "json_invoices": (2, False, None),
        "json_invoices_line_items": (3, True, "json_invoices"),
        "json_items": (3, False, None),
    }
    assert report["total_records"] == 8
    assert report["files_loaded"] == 4
    assert report["rejected_records"] == 0
    assert report["sessions"]["count"] == 1
    for table in report["tables"]:
        assert isinstance(table["newest_updated_at"], str)
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", table["newest_updated_at"])
    assert isinstance(report["database_size_bytes"], int) and report["database_size_bytes"] > 0
    assert pg_schema in report["db_path"]
    assert [(r["operation"], r["status"]) for r in report["runs"]] == [("full_sync_workflow", "success")]
    assert report["runs"][0]["records"] == 8
    assert report["freshness"]["is_fresh"] is True
    json.dumps(report)


def test_summary_measures_the_schema_without_a_size(loaded: JSON2DBSyncRunner, pg_url: str, pg_schema: str) -> None:
    """summarize_database with only a label: the schema's size comes from the server."""
    from json2db_sync.destinations.postgres import PostgresDestination
    from json2db_sync.summary_reporter import report_to_markdown, summarize_database

    with PostgresDestination(pg_url, pg_schema).open(readonly=True) as conn:
        report = summarize_database(conn, db_path="label")
    assert report["db_path"] == "label"
    assert isinstance(report["database_size_bytes"], int) and report["database_size_bytes"] > 0
    assert "| json_invoices | 2 |" in report_to_markdown(report)


DATE_EDGES = [
    "2026-01-01", "2026-12-28", "2026-02-28", "2026-02-29", "2024-02-29", "2100-02-29", "2000-02-29",
    "2026-04-30", "2026-04-31", "2026-12-31", "2026-13-01", "2026-00-10", "2026-01-00", "2026-01-32",
    "0000-01-01", "0001-01-01", "2026-1-01", "2026-01-1", "26-01-01", "2026/01/01", "2026-01-0a",
    "2026-01-01 ", " 2026-01-01", "２026-01-01", "2026-01-01T00:00:00", "2026-0101-1", "2026--01-01",
]


def test_sql_date_check_agrees_with_python(pg_url: str, pg_schema: str, pg_query: Query) -> None:
    """The PostgreSQL date check takes a cheap pass (LIKE, translate, day ≤ 28) before its
    regex and day arithmetic. Its rows are candidates that the check then judges in Python
    (which also accepts other shapes): on every edge, no value Python rejects may slip
    through, and the plain dates are judged right in SQL already."""
    from json2db_sync.sql_dialect import postgres as pg
    from json2db_sync.zoho_rules import is_valid_date

    pg_query(f'CREATE SCHEMA IF NOT EXISTS "{pg_schema}"')
    pg_query("CREATE TABLE json_probe (id TEXT PRIMARY KEY, date TEXT)")
    for index, value in enumerate(DATE_EDGES):
        pg_query("INSERT INTO json_probe (id, date) VALUES (%s, %s)", (f"R-{index:02d}", value))
    flagged = {value for _, value in pg_query(pg.checks.nonstandard_dates("json_probe", "date", "id"))}
    rejected = {value for value in DATE_EDGES if not is_valid_date(value)}
    assert rejected <= flagged
    assert flagged - rejected == {"2026-01-01T00:00:00"}  # an ISO timestamp: Python accepts it
    assert {"2026-02-29", "2026-04-31", "0000-01-01"} <= flagged
    assert not {"2024-02-29", "2026-12-28", "2026-12-31"} & flagged


def test_arithmetic_stays_exact_whatever_the_number_types(loaded: JSON2DBSyncRunner, pg_query: Query) -> None:
    """The typed arithmetic reads number columns as numeric: with integer columns (a DBA's
    change), a sub_total near the end of BIGINT's range minus its line items is a mismatch
    to report, not an "out of range" error."""
    pg_query("ALTER TABLE json_invoices ALTER COLUMN sub_total TYPE bigint USING round(sub_total)::bigint")
    pg_query("ALTER TABLE json_invoices_line_items ALTER COLUMN item_total TYPE integer USING round(item_total)::integer")
    pg_query("UPDATE json_invoices SET sub_total = -9223372036854775800 WHERE id = 'INV-1'")
    found = problems(checks_of(loaded.verify_tables()))
    assert found["document_arithmetic"][:2] == ("warning", 1)
    assert found["document_arithmetic"][2] == ["INV-1"]
