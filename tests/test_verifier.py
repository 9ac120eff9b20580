"""verifier: every check quiet on a clean database, each triggered by one crafted change,
and an older schema judged without crashing.

The databases are real SQLite files built with sql_dialect's DDL; the ledger points at
real JSON files in tmp_path.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from json2db_sync import sql_dialect
from json2db_sync._types import Check
from json2db_sync.catalog import read_catalog
from json2db_sync.sql_dialect import sqlite as sd  # plain sqlite3 here
from json2db_sync.verifier import CHECKS, verify_database
from json2db_sync.zoho_rules import is_valid_date, is_valid_timestamp

NOW = datetime(2026, 6, 10, 12, 0, 0)
SESSION = "sync_session_2026-06-10_10-00-00"
DATA_TIMESTAMP = "2026-06-10 10:00:00"
STAMP = "2026-06-05 13:00:00"

CONTACTS = [
    {"contact_id": "C-1", "contact_name": "Acme", "created_time": "2026-06-01T09:00:00-0400"},
    {"contact_id": "C-2", "contact_name": "Globex", "created_time": "2026-06-01T09:05:00+0530"},
]
ITEMS = [
    {"item_id": "ITEM-1", "name": "Widget", "rate": 10.0},
    {"item_id": "ITEM-2", "name": "Bolt", "rate": 2.5},
    {"item_id": "ITEM-3", "name": "Unused", "rate": 99.0},
]
INVOICES = [
    {
        "invoice_id": "INV-1",
        "customer_id": "C-1",
        "date": "2026-06-01",
        "due_date": "2026-06-15",
        "created_time": "2026-06-01T09:00:00-0400",
        "sub_total": 25.0,
        "total": 27.5,
        "line_items": [
            {"line_item_id": "LI-1", "item_id": "ITEM-1", "quantity": 2, "rate": 10.0, "item_total": 20.0},
            {"line_item_id": "LI-2", "item_id": "ITEM-2", "quantity": 2, "rate": 2.5, "item_total": 5.0},
        ],
    },
    {
        "invoice_id": "INV-2",
        "customer_id": "C-2",
        "date": "2026-06-02",
        "due_date": "",
        "created_time": "2026-06-02T10:30:00.123Z",
        "sub_total": 10.0,
        "total": 10.0,
        "line_items": [
            {"line_item_id": "LI-3", "item_id": "ITEM-1", "quantity": 1, "rate": 10.0, "item_total": 10.0},
        ],
    },
]
PAYMENTS = [
    {
        "payment_id": "P-1",
        "customer_id": "C-1",
        "date": "2026-06-03",
        "amount": 27.5,
        "invoices": [{"invoice_payment_id": "IP-1", "invoice_id": "INV-1", "amount_applied": 27.5}],
    }
]

# entity -> (records, id field, {array field: element id field})
ENTITIES: dict[str, tuple[list[dict[str, Any]], str, dict[str, str]]] = {
    "contacts": (CONTACTS, "contact_id", {}),
    "items": (ITEMS, "item_id", {}),
    "invoices": (INVOICES, "invoice_id", {"line_items": "line_item_id"}),
    "customerpayments": (PAYMENTS, "payment_id", {"invoices": "invoice_payment_id"}),
}


@dataclass(frozen=True)
class Built:
    db_path: Path
    data_dir: Path

    def connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db_path)


def _sql_type(values: Sequence[Any]) -> str:
    kinds = {type(v) for v in values if v not in (None, "")}
    return sql_dialect.REAL if kinds and kinds <= {int, float} else sql_dialect.TEXT


def _columns(records: Sequence[Mapping[str, Any]], skip: Sequence[str] = ()) -> list[tuple[str, str]]:
    names = sorted({k for r in records for k, v in r.items() if not isinstance(v, list)} - set(skip))
    return [(n, _sql_type([r.get(n) for r in records])) for n in names]


def _insert(conn: sqlite3.Connection, table: str, row: Mapping[str, Any]) -> None:
    conn.execute(sd.insert_rows(table, tuple(row)), tuple(row.values()))


def load_entity(conn: sqlite3.Connection, entity: str, records: list[dict[str, Any]], id_field: str,
                children: Mapping[str, str]) -> None:
    """A tiny stand-in for the populator: tables from sql_dialect's DDL, registry rows,
    one row per record and per array element."""
    table = f"json_{entity}"
    conn.execute(sd.create_main_table(table, _columns(records)))
    conn.execute(sd.internal.insert_table_registry, (table, entity, None, None, id_field))
    for record in records:
        scalars = {k: v for k, v in record.items() if not isinstance(v, list)}
        _insert(conn, table, {"id": record[id_field], "created_at": STAMP, "updated_at": STAMP, **scalars})
    for field_name, element_id in children.items():
        child = f"{table}_{field_name}"
        elements = [e for r in records for e in r.get(field_name, [])]
        conn.execute(sd.create_child_table(child, table, _columns(elements)))
        conn.execute(sd.internal.insert_table_registry, (child, entity, table, field_name, element_id))
        for record in records:
            for position, element in enumerate(record.get(field_name, [])):
                row = {"parent_id": record[id_field], "position": position, "id": element[element_id],
                       "created_at": STAMP, "updated_at": STAMP, **element}
                _insert(conn, child, row)


def write_ledger_file(conn: sqlite3.Connection, path: Path, entity: str, records: list[dict[str, Any]]) -> None:
    path.write_text(json.dumps({"code": 0, "message": "success", entity: records}))
    stat = path.stat()
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    conn.execute(
        sd.internal.upsert_ledger,
        (str(path), sha, stat.st_size, stat.st_mtime, entity, SESSION, DATA_TIMESTAMP, len(records), STAMP, None),
    )


def build_clean_database(tmp_path: Path) -> Built:
    """A small consistent database: contacts, items, invoices with line items, customer
    payments with applied invoices, a ledger of real files, two runs, no rejects."""
    data_dir = tmp_path / "sessions" / SESSION / "raw_json" / "2026-06-10_10-00-00"
    data_dir.mkdir(parents=True)
    db_path = tmp_path / "clean.db"
    with sqlite3.connect(db_path) as conn:
        for ddl in sd.internal.tables_ddl:
            conn.execute(ddl)
        for entity, (records, id_field, children) in ENTITIES.items():
            load_entity(conn, entity, records, id_field, children)
            write_ledger_file(conn, data_dir / f"{entity}.json", entity, records)
        conn.execute(sd.internal.insert_run, ("full_sync_workflow", "2026-06-10 14:00:00", "2026-06-10 14:00:03",
                                     "success", json.dumps({"total_records": 8}), None))
        conn.execute(sd.internal.insert_run, ("populate_tables", "2026-06-10 14:05:00", "2026-06-10 14:05:01",
                                     "failed", None, "invoices.json: truncated JSON"))
    conn.close()
    return Built(db_path, data_dir)


@pytest.fixture
def clean_db(tmp_path: Path) -> Built:
    return build_clean_database(tmp_path)


def run_checks(built: Built, **kwargs: Any) -> list[Check]:
    kwargs.setdefault("now", NOW)
    with built.connect() as conn:
        checks = verify_database(conn, **kwargs)
    conn.close()
    return checks


def problems(checks: Sequence[Check]) -> dict[str, tuple[str, int, list[str]]]:
    return {c["name"]: (c["status"], c["count"], c["examples"]) for c in checks if c["status"] != "ok"}


CHECK_NAMES = [
    "integrity_check",
    "foreign_key_check",
    "orphan_child_rows",
    "null_or_duplicate_ids",
    "required_fields",
    "date_formats",
    "numeric_values",
    "document_arithmetic",
    "contact_references",
    "item_references",
    "payment_invoice_references",
    "vendor_payment_bill_references",
    "source_counts",
    "line_item_files",
    "producer_counts",
    "freshness",
    "rejected_records",
]


# --- clean database -------------------------------------------------------------------


def test_clean_database_is_all_ok(clean_db: Built) -> None:
    checks = run_checks(clean_db)
    assert [c["name"] for c in checks] == CHECK_NAMES
    assert problems(checks) == {}
    assert all(c["count"] == 0 and c["examples"] == [] for c in checks)
    json.dumps(checks)


def test_check_names_follow_the_functions(clean_db: Built) -> None:
    """Checks are data: each function's name (minus ``check_``) is its result's name."""
    assert [f.__name__.removeprefix("check_") for f in CHECKS] == CHECK_NAMES


def test_clean_database_details(clean_db: Built) -> None:
    details = {c["name"]: c["details"] for c in run_checks(clean_db)}
    assert details["vendor_payment_bill_references"] == "not applicable: json_bills does not exist"
    assert details["freshness"] == "newest data 2026-06-10 10:00:00, 2.0 hours old (limit 24)"
    assert details["integrity_check"] == "SQLite integrity_check: ok"


def test_catalog_reads_the_registry(clean_db: Built) -> None:
    with clean_db.connect() as conn:
        catalog = read_catalog(conn)
    conn.close()
    summary = {t.name: (t.entity, t.parent, t.field, t.id_field) for t in catalog.tables.values()}
    assert summary == {
        "json_contacts": ("contacts", None, None, "contact_id"),
        "json_customerpayments": ("customerpayments", None, None, "payment_id"),
        "json_customerpayments_invoices": ("customerpayments", "json_customerpayments", "invoices", "invoice_payment_id"),
        "json_invoices": ("invoices", None, None, "invoice_id"),
        "json_invoices_line_items": ("invoices", "json_invoices", "line_items", "line_item_id"),
        "json_items": ("items", None, None, "item_id"),
    }


# --- each check triggered ---------------------------------------------------------------

Mutation = Callable[[sqlite3.Connection, Built], None]


def sql(*statements: str) -> Mutation:
    def apply(conn: sqlite3.Connection, built: Built) -> None:
        for statement in statements:
            conn.execute(statement)

    return apply


def break_index(conn: sqlite3.Connection, built: Built) -> None:
    """An index whose recorded definition no longer matches its entries."""
    conn.execute('CREATE INDEX "ix_contacts" ON json_contacts (contact_name)')
    conn.commit()
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = 'CREATE INDEX ix_contacts ON json_contacts (contact_id)' "
                 "WHERE name = 'ix_contacts'")


def delete_file(name: str) -> Mutation:
    def apply(conn: sqlite3.Connection, built: Built) -> None:
        (built.data_dir / name).unlink()

    return apply


TRIGGERS = [
    pytest.param(
        break_index,
        {"integrity_check": ("error", 2, ["row 1 missing from index ix_contacts",
                                          "row 2 missing from index ix_contacts"])},
        id="damaged-index",
    ),
    pytest.param(
        sql("INSERT INTO json_invoices_line_items (parent_id, position, id, item_id, quantity, rate, item_total) "
            "VALUES ('INV-404', 0, 'LI-9', 'ITEM-1', 1, 10, 10)"),
        {
            "foreign_key_check": ("error", 1, ["json_invoices_line_items rowid 4"]),
            "orphan_child_rows": ("error", 1, ["INV-404"]),
        },
        id="orphan-line-item",
    ),
    pytest.param(
        sql("UPDATE json_invoices_line_items SET id = NULL WHERE id = 'LI-3'"),
        {"null_or_duplicate_ids": ("error", 1, ["rowid 3"])},
        id="null-child-id",
    ),
    pytest.param(
        sql("INSERT INTO json_contacts (id, contact_id, contact_name) VALUES ('', '', 'Nobody')"),
        {"null_or_duplicate_ids": ("error", 1, ["rowid 3"])},
        id="empty-main-id",
    ),
    pytest.param(
        sql("UPDATE json_invoices_line_items SET id = 'LI-1' WHERE id = 'LI-2'"),
        {"null_or_duplicate_ids": ("error", 1, ["LI-1"])},
        id="duplicate-line-item-id",
    ),
    pytest.param(
        sql("UPDATE json_invoices SET date = '' WHERE id = 'INV-2'"),
        {"required_fields": ("warning", 1, ["INV-2"])},
        id="document-without-date",
    ),
    pytest.param(
        sql("UPDATE json_invoices SET total = NULL WHERE id = 'INV-1'"),
        {"required_fields": ("warning", 1, ["INV-1"])},
        id="document-without-total",
    ),
    pytest.param(
        sql("UPDATE json_invoices SET date = '31/12/2026' WHERE id = 'INV-1'",
            "UPDATE json_invoices SET due_date = '2026-02-30' WHERE id = 'INV-2'"),
        {"date_formats": ("warning", 2, ["INV-1", "INV-2"])},
        id="bad-dates",
    ),
    pytest.param(
        # One scan judges every date and time column of a table: a row that is there for
        # one column's bad value must not get another column's value judged, when SQL
        # found nothing unusual in it ("+2500" has the usual shape; Python would refuse it),
        # and a value SQL finds unusual but Python accepts ("09 Jun 2026") is no finding.
        sql("UPDATE json_invoices SET date = '31/12/2026', due_date = '09 Jun 2026', "
            "created_time = '2026-01-01T10:00:00+2500' WHERE id = 'INV-1'",
            "UPDATE json_invoices SET due_date = '2026-02-30', date = '2026-01-05' WHERE id = 'INV-2'",
            "UPDATE json_contacts SET created_time = 'yesterday' WHERE id = 'C-2'"),
        {"date_formats": ("warning", 3, ["C-2", "INV-1", "INV-2"])},
        id="several-date-columns-in-one-scan",
    ),
    pytest.param(
        sql("UPDATE json_contacts SET created_time = 'yesterday' WHERE id = 'C-2'"),
        {"date_formats": ("warning", 1, ["C-2"])},
        id="bad-timestamp",
    ),
    pytest.param(
        # One scan counts every number test of a table; each count finds its own rows.
        sql("UPDATE json_invoices_line_items SET quantity = -2 WHERE id = 'LI-3'",
            "UPDATE json_invoices_line_items SET rate = 'n/a' WHERE id = 'LI-1'"),
        {"numeric_values": ("warning", 2, ["LI-3", "LI-1"])},
        id="negative-and-text-in-one-table",
    ),
    pytest.param(
        sql("UPDATE json_invoices_line_items SET quantity = -2 WHERE id = 'LI-3'"),
        {"numeric_values": ("warning", 1, ["LI-3"])},
        id="negative-quantity",
    ),
    pytest.param(
        sql("UPDATE json_customerpayments SET amount = 'lots' WHERE id = 'P-1'"),
        {"numeric_values": ("warning", 1, ["P-1"])},
        id="amount-not-a-number",
    ),
    pytest.param(
        sql("UPDATE json_invoices SET sub_total = 26.5 WHERE id = 'INV-1'",
            "UPDATE json_invoices SET sub_total = 10.5 WHERE id = 'INV-2'"),
        {"document_arithmetic": ("warning", 2, ["INV-1", "INV-2"])},
        id="sub-total-mismatch",
    ),
    pytest.param(
        sql("UPDATE json_invoices SET customer_id = 'C-404' WHERE id = 'INV-2'"),
        {"contact_references": ("warning", 1, ["C-404"])},
        id="missing-contact",
    ),
    pytest.param(
        sql("UPDATE json_invoices_line_items SET item_id = 'ITEM-404' WHERE id = 'LI-1'"),
        {"item_references": ("warning", 1, ["ITEM-404"])},
        id="missing-item",
    ),
    pytest.param(
        sql("UPDATE json_customerpayments_invoices SET invoice_id = 'INV-404'"),
        {"payment_invoice_references": ("warning", 1, ["INV-404"])},
        id="payment-for-missing-invoice",
    ),
    pytest.param(
        sql("DELETE FROM json_items WHERE id = 'ITEM-3'"),
        {"source_counts": ("warning", 1, ["ITEM-3"])},
        id="ledger-count-mismatch",
    ),
    pytest.param(
        sql("UPDATE _json2db_files SET data_timestamp = '2026-06-08 11:00:00'"),
        {"freshness": ("warning", 1, ["2026-06-08 11:00:00"])},
        id="stale-data",
    ),
    pytest.param(
        sql("INSERT INTO _json2db_rejected (entity, source_file, reason, raw_json, rejected_at) "
            "VALUES ('invoices', '/data/invoices.json', 'no usable id in field ''invoice_id''', '{}', '2026-06-10')",
            "INSERT INTO _json2db_rejected (entity, source_file, reason, raw_json, rejected_at) "
            "VALUES ('bills', '/data/bills.json', 'invalid file: truncated', NULL, '2026-06-10')"),
        {"rejected_records": ("warning", 2, ["invoices: no usable id in field 'invoice_id' (invoices.json)",
                                             "bills: invalid file: truncated (bills.json)"])},
        id="rejected-records",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), TRIGGERS)
def test_each_check_triggered(clean_db: Built, mutate: Mutation, expected: dict[str, Any]) -> None:
    with clean_db.connect() as conn:
        mutate(conn, clean_db)
    conn.close()
    assert problems(run_checks(clean_db)) == expected


QUIET_CHANGES = [
    pytest.param(sql("UPDATE json_invoices SET due_date = NULL", "UPDATE json_invoices SET date = date"),
                 id="unset-due-date"),
    pytest.param(sql("ALTER TABLE json_invoices ADD COLUMN stop_reminder_until_payment_expected_date INTEGER",
                     "UPDATE json_invoices SET stop_reminder_until_payment_expected_date = 0"),
                 id="flag-named-like-a-date"),
    pytest.param(sql("UPDATE json_contacts SET created_time = '2026-06-09T16:48:58+05:30'",
                     "UPDATE json_invoices SET created_time = '2026-06-09 16:48'"),
                 id="other-timestamp-shapes"),
    pytest.param(sql("ALTER TABLE json_invoices ADD COLUMN adjustment REAL",
                     "UPDATE json_invoices SET adjustment = -0.5",
                     "UPDATE json_customerpayments SET amount = -5"),
                 id="adjustment-and-amount-may-be-negative"),
    pytest.param(sql("CREATE TABLE json_inventoryadjustments (id TEXT PRIMARY KEY, quantity REAL)",
                     "INSERT INTO json_inventoryadjustments VALUES ('ADJ-1', -3)"),
                 id="inventory-adjustment-quantities-go-both-ways"),
    pytest.param(sql("UPDATE json_invoices_line_items SET item_id = '' WHERE id = 'LI-1'",
                     "UPDATE json_invoices_line_items SET quantity = ''"),
                 id="unset-reference-and-quantity"),
]


@pytest.mark.parametrize("mutate", QUIET_CHANGES)
def test_changes_that_stay_quiet(clean_db: Built, mutate: Mutation) -> None:
    with clean_db.connect() as conn:
        mutate(conn, clean_db)
    conn.close()
    assert problems(run_checks(clean_db)) == {}


def test_arithmetic_names_the_worst_offender_first(clean_db: Built) -> None:
    with clean_db.connect() as conn:
        conn.execute("UPDATE json_invoices SET sub_total = 25.5 WHERE id = 'INV-1'")
        conn.execute("UPDATE json_invoices SET sub_total = 40 WHERE id = 'INV-2'")
    conn.close()
    check = next(c for c in run_checks(clean_db) if c["name"] == "document_arithmetic")
    assert check["examples"] == ["INV-2", "INV-1"]
    assert "worst: INV-2 sub_total 40.0 vs 10.0" in check["details"]


def test_difference_of_one_cent_passes(clean_db: Built) -> None:
    with clean_db.connect() as conn:
        conn.execute("UPDATE json_invoices SET sub_total = 25.01 WHERE id = 'INV-1'")
    conn.close()
    assert problems(run_checks(clean_db)) == {}


def test_reference_warning_says_a_cutoff_can_load_partial_data(clean_db: Built) -> None:
    with clean_db.connect() as conn:
        conn.execute("UPDATE json_invoices SET customer_id = 'C-404'")
    conn.close()
    check = next(c for c in run_checks(clean_db) if c["name"] == "contact_references")
    assert check["details"].startswith("a cutoff can load partial data")
    assert "json_invoices.customer_id: 2 references not in json_contacts" in check["details"]


def test_references_not_applicable_without_the_target_table(clean_db: Built) -> None:
    with clean_db.connect() as conn:
        conn.execute("DROP TABLE json_items")
    conn.close()
    check = next(c for c in run_checks(clean_db, check_source_counts=False) if c["name"] == "item_references")
    assert check == {
        "name": "item_references",
        "status": "ok",
        "details": "not applicable: json_items does not exist",
        "count": 0,
        "examples": [],
    }


def test_freshness_without_a_ledger(clean_db: Built) -> None:
    with clean_db.connect() as conn:
        conn.execute("DELETE FROM _json2db_files")
    conn.close()
    check = next(c for c in run_checks(clean_db) if c["name"] == "freshness")
    assert (check["status"], check["details"]) == ("warning", "nothing loaded yet: the file ledger is empty or missing")


def test_freshness_accepts_an_aware_now(clean_db: Built) -> None:
    aware = NOW.astimezone(UTC)
    check = next(c for c in run_checks(clean_db, now=aware) if c["name"] == "freshness")
    assert check["status"] == "ok"


def test_tables_limits_table_level_checks(clean_db: Built) -> None:
    """Only the named tables (and their children) are looked at."""
    with clean_db.connect() as conn:
        conn.execute("UPDATE json_invoices_line_items SET quantity = -1")
        conn.execute("UPDATE json_contacts SET created_time = 'soon'")
    conn.close()
    only_contacts = problems(run_checks(clean_db, tables=["json_contacts"]))
    only_invoices = problems(run_checks(clean_db, tables=["json_invoices"]))
    assert only_contacts == {"date_formats": ("warning", 2, ["C-1", "C-2"])}
    assert only_invoices == {"numeric_values": ("warning", 3, ["LI-1", "LI-2", "LI-3"])}


def test_scoped_checks_find_what_the_full_checks_find_in_the_rows_a_run_wrote(clean_db: Built) -> None:
    """After a sync, the foreign key and arithmetic checks read only the run's rows (its
    documents and their line items), yet report those rows as the whole-table checks do."""
    with clean_db.connect() as conn:
        conn.execute("INSERT INTO json_invoices_line_items (parent_id, position, id, item_id, quantity, rate, "
                     "item_total) VALUES ('INV-404', 0, 'LI-9', 'ITEM-1', 1, 10, 10)")
        conn.execute("UPDATE json_invoices SET sub_total = 40 WHERE id = 'INV-2'")
    conn.close()
    full = problems(run_checks(clean_db, check_source_counts=False))
    scoped = problems(run_checks(clean_db, check_source_counts=False, tables=["json_invoices"],
                                 row_ids={"json_invoices": ["INV-404", "INV-2"]}))
    names = ("foreign_key_check", "document_arithmetic")
    assert {n: scoped[n] for n in names} == {n: full[n] for n in names}
    assert full["foreign_key_check"] == ("error", 1, ["json_invoices_line_items rowid 4"])
    elsewhere = problems(run_checks(clean_db, check_source_counts=False, tables=["json_invoices"],
                                    row_ids={"json_invoices": ["INV-1"]}))
    assert "foreign_key_check" not in elsewhere and "document_arithmetic" not in elsewhere


def test_a_run_that_wrote_every_row_is_checked_on_the_whole_table(
    clean_db: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the run's ids are every row of a table (a first load), its checks read the table
    whole (the same rows, without joining the ids); a run that wrote some rows keeps its scope,
    and problems in the other rows stay out of its report."""
    from json2db_sync import verifier

    monkeypatch.setattr(verifier, "WHOLE_TABLE_MIN_IDS", 1)  # the fixture's tables are small
    with clean_db.connect() as conn:
        every = [row[0] for row in conn.execute("SELECT id FROM json_invoices ORDER BY id")]
        conn.execute("UPDATE json_invoices_line_items SET quantity = -1 WHERE parent_id = ?", (every[0],))
        conn.execute("UPDATE json_invoices SET sub_total = 40 WHERE id = ?", (every[-1],))
    conn.close()
    full = problems(run_checks(clean_db, check_source_counts=False, tables=["json_invoices"]))
    whole = problems(run_checks(clean_db, check_source_counts=False, tables=["json_invoices"],
                                row_ids={"json_invoices": set(every)}))
    assert whole == full and {"numeric_values", "document_arithmetic"} <= set(full)
    some = problems(run_checks(clean_db, check_source_counts=False, tables=["json_invoices"],
                               row_ids={"json_invoices": {every[-1]}}))
    assert "document_arithmetic" in some and "numeric_values" not in some


def test_source_counts_skip_a_vanished_file(clean_db: Built) -> None:
    (clean_db.data_dir / "items.json").unlink()
    with clean_db.connect() as conn:
        conn.execute("DELETE FROM json_items WHERE id = 'ITEM-3'")
    conn.close()
    check = next(c for c in run_checks(clean_db) if c["name"] == "source_counts")
    assert check["status"] == "ok"
    assert check["details"] == (
        "every id in 3 loaded files is in its table; "
        f"skipped 1 file no longer on disk (e.g. {clean_db.data_dir / 'items.json'})"
    )


def test_source_counts_skip_a_changed_file(clean_db: Built) -> None:
    (clean_db.data_dir / "items.json").write_text(json.dumps([{"item_id": "NEW-1"}]))
    check = next(c for c in run_checks(clean_db) if c["name"] == "source_counts")
    assert check["status"] == "ok"
    assert check["details"] == (
        "every id in 3 loaded files is in its table; "
        f"skipped 1 file changed since loaded (e.g. {clean_db.data_dir / 'items.json'})"
    )


def test_source_counts_skip_an_unreadable_file(tmp_path: Path) -> None:
    broken = tmp_path / "invoices.json"
    broken.write_text('{"invoices": [')
    db_path = build_older_database(tmp_path / "old.db", [
        "CREATE TABLE _json2db_files (path TEXT PRIMARY KEY, entity TEXT)",
        f"INSERT INTO _json2db_files VALUES ('{broken}', 'invoices')",
    ])
    with sqlite3.connect(db_path) as conn:
        check = next(c for c in verify_database(conn, now=NOW) if c["name"] == "source_counts")
    conn.close()
    assert check["status"] == "ok"
    assert check["details"].startswith(
        f"every id in 0 loaded files is in its table; skipped 1 file unreadable now (e.g. {broken}: "
    )


def test_source_counts_can_be_turned_off(clean_db: Built) -> None:
    check = next(c for c in run_checks(clean_db, check_source_counts=False) if c["name"] == "source_counts")
    assert (check["status"], check["details"]) == ("ok", "not compared for this run (too large to track its ids); verify_tables compares every loaded file")


def test_verification_is_read_only(clean_db: Built) -> None:
    before = clean_db.db_path.read_bytes()
    uri = f"{clean_db.db_path.as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        verify_database(conn, now=NOW)
    finally:
        conn.close()
    assert clean_db.db_path.read_bytes() == before


# --- older schemas ----------------------------------------------------------------------

OLDER_SCHEMAS = {
    "no-internal-tables": [],
    "old-ledger-columns": [
        "CREATE TABLE _json2db_files (path TEXT PRIMARY KEY, entity TEXT)",
        "INSERT INTO _json2db_files VALUES ('/gone/invoices.json', 'invoices')",
        "CREATE TABLE _json2db_runs (run_id INTEGER PRIMARY KEY, operation TEXT, status TEXT)",
        "INSERT INTO _json2db_runs (operation, status) VALUES ('sync', 'success')",
        "CREATE TABLE _json2db_tables (table_name TEXT PRIMARY KEY, entity TEXT)",
        "INSERT INTO _json2db_tables VALUES ('json_invoices', 'invoices')",
    ],
}
OLDER_DATA = [
    "CREATE TABLE json_invoices (id TEXT PRIMARY KEY, customer_id TEXT, date TEXT, sub_total REAL)",
    "INSERT INTO json_invoices VALUES ('INV-1', 'C-1', '2026-01-01', 5)",
    "CREATE TABLE json_invoices_line_items (parent_id TEXT, item_total REAL, quantity REAL)",
    "INSERT INTO json_invoices_line_items VALUES ('INV-1', 5, 1)",
    "CREATE TABLE json_notes (note TEXT, note_date TEXT)",
    "INSERT INTO json_notes VALUES ('hello', '2026-01-01')",
]


def build_older_database(path: Path, internal: Sequence[str]) -> Path:
    with sqlite3.connect(path) as conn:
        for statement in [*OLDER_DATA, *internal]:
            conn.execute(statement)
    conn.close()
    return path


@pytest.mark.parametrize("internal", list(OLDER_SCHEMAS.values()), ids=list(OLDER_SCHEMAS))
def test_older_schema_does_not_crash(tmp_path: Path, internal: list[str]) -> None:
    db_path = build_older_database(tmp_path / "old.db", internal)
    with sqlite3.connect(db_path) as conn:
        checks = verify_database(conn, now=NOW)
        catalog = read_catalog(conn)
    conn.close()
    json.dumps(checks)
    assert [c["name"] for c in checks] == CHECK_NAMES
    assert catalog.tables["json_invoices_line_items"].parent == "json_invoices"
    assert catalog.tables["json_invoices"].id_field == "invoice_id"
    found = problems(checks)
    assert found.pop("freshness")[0] == "warning"
    assert found == {"required_fields": ("warning", 1, ["INV-1"])}  # an old invoice without a total
    ids = next(c for c in checks if c["name"] == "null_or_duplicate_ids")
    assert "no id column, skipped: json_invoices_line_items, json_notes" in ids["details"]


# --- value rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2026-06-09", True),
        ("2024-02-29", True),
        ("2023-02-29", False),
        ("2026-13-01", False),
        ("31/12/2026", False),
        ("2026-6-9", False),
        ("2026-09-04T00:00:00.000Z", True),
        ("09 Jun 2026", True),
        ("31 Feb 2026", False),
        ("string", False),
        (20260609, False),
    ],
    ids=lambda v: repr(v),
)
def test_date_rule(value: object, valid: bool) -> None:
    assert is_valid_date(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2026-06-09T16:48:58-0400", True),
        ("2024-11-27T20:18:45+0530", True),
        ("2026-06-09T16:48:58+05:30", True),
        ("2026-06-09T16:48:58Z", True),
        ("2026-06-09T16:48:58.123Z", True),
        ("2024-11-28 00:00", True),
        ("02:30", True),
        ("2026-06-09T24:00:00-0400", False),
        ("2026-06-31T10:00:00-0400", False),
        ("2026-06-09T10:00:00-2500", False),
        ("yesterday", False),
        (1717950000, False),
    ],
    ids=lambda v: repr(v),
)
def test_timestamp_rule(value: object, valid: bool) -> None:
    assert is_valid_timestamp(value) is valid


# --- whole loads through the runner ---------------------------------------------------------


def _load_with_runner(workspace: Path, sessions: Path) -> Path:
    from json2db_sync import JSON2DBSyncRunner

    db_path = workspace / "loaded.db"
    result = JSON2DBSyncRunner(db_path=str(db_path), data_source=str(sessions)).populate_tables(cutoff_days=None)
    assert result["success"], result["error"]
    return db_path


def test_quiet_on_sample_data(workspace: Path) -> None:
    from json2db_sync.sample_data import generate_sample_data

    sessions = workspace / "sessions"
    generate_sample_data(sessions, days=2, invoices=20)
    db_path = _load_with_runner(workspace, sessions)
    with sqlite3.connect(db_path) as conn:
        checks = verify_database(conn)
    conn.close()
    assert problems(checks) == {}


def test_real_captures_raise_only_what_they_hold(workspace: Path, real_samples: Path) -> None:
    """Each capture in its own session. What remains is true of the captures: the Zoho
    documentation example's ``"shipment_date": "string"``, and documents from other
    organisations whose contacts and items were never captured."""
    sessions = workspace / "sessions"
    start = datetime.now().replace(microsecond=0) - timedelta(hours=2)
    for index, capture in enumerate(sorted(real_samples.glob("*__*.json"))):
        stamp = (start - timedelta(minutes=index)).strftime("%Y-%m-%d_%H-%M-%S")
        folder = sessions / f"sync_session_{stamp}" / "raw_json" / stamp
        folder.mkdir(parents=True)
        shutil.copyfile(capture, folder / (capture.name.split("__")[0] + ".json"))
    db_path = _load_with_runner(workspace, sessions)
    with sqlite3.connect(db_path) as conn:
        found = problems(verify_database(conn))
    conn.close()
    assert found == {
        "date_formats": ("warning", 1, ["460000000039129"]),
        "contact_references": ("warning", 6, ["2517767000003571599", "3818499000000076136",
                                              "4372460000000084001", "8754310000006945057",
                                              "1783541000000528228"]),
        "item_references": ("warning", 3, ["2517767000003556029", "8754310000000992263",
                                           "1783541000000069306"]),
    }
