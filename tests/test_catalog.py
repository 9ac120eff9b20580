"""catalog: what a real SQLite file written by the tool holds (tables, child tables,
columns, row counts), and how fresh its data is, overall and per entity; and a file of an
older version (no registry, no ledger) read by naming alone."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from json2db_sync import JSON2DBSyncRunner
from json2db_sync import sql_dialect as sd
from json2db_sync.catalog import (
    ID_CHUNK,
    assess_freshness,
    entity_freshness,
    ledger_summary,
    local_now,
    newest_updated_at,
    parse_db_time,
    read_catalog,
    read_rows,
    row_count,
)

OLDER = datetime(2026, 6, 8, 9, 0, 0)
NEWER = datetime(2026, 6, 10, 10, 0, 0)
NOW = datetime(2026, 6, 10, 12, 0, 0)

INVOICES = [
    {"invoice_id": "INV-1", "customer_id": "C-1", "date": "2026-06-01", "sub_total": 25.0, "total": 25.0,
     "line_items": [{"line_item_id": "LI-1", "item_id": "I-1", "quantity": 2, "rate": 10.0, "item_total": 20.0},
                    {"line_item_id": "LI-2", "item_id": "I-2", "quantity": 1, "rate": 5.0, "item_total": 5.0}]},
    {"invoice_id": "INV-2", "customer_id": "C-2", "date": "2026-06-02", "sub_total": 7.0, "total": 7.0,
     "line_items": [{"line_item_id": "LI-3", "item_id": "I-1", "quantity": 1, "rate": 7.0, "item_total": 7.0}]},
]
CONTACTS = [{"contact_id": "C-1", "contact_name": "Acme"}, {"contact_id": "C-2", "contact_name": "Globex"},
            {"contact_id": "C-3", "contact_name": "Initech"}]


@pytest.fixture
def synced(make_session: Callable[..., Path], db_path: Path) -> Path:
    """A database the tool wrote itself: contacts in an older session, invoices with line
    items in a newer one."""
    make_session(OLDER, {"contacts": CONTACTS})
    make_session(NEWER, {"invoices": INVOICES})
    result = JSON2DBSyncRunner().full_sync_workflow(cutoff_days=100 * 365)  # the sessions are in the past
    assert result["success"], result
    return db_path


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path)


def test_catalog_names_main_and_child_tables(synced: Path) -> None:
    with connect(synced) as conn:
        catalog = read_catalog(conn)
    conn.close()
    assert sorted(catalog.tables) == ["json_contacts", "json_invoices", "json_invoices_line_items"]
    assert [t.name for t in catalog.main_tables()] == ["json_contacts", "json_invoices"]
    invoices = catalog.tables["json_invoices"]
    child = catalog.tables["json_invoices_line_items"]
    assert (invoices.entity, invoices.is_child, invoices.id_field) == ("invoices", False, "invoice_id")
    assert (child.entity, child.parent, child.field, child.is_child) == ("invoices", "json_invoices", "line_items", True)
    assert catalog.children_of("json_invoices") == [child]
    assert catalog.line_items_of(invoices) is child
    assert catalog.child_for_field(invoices, "line_items") is child
    assert catalog.main_for_entity("invoices") is invoices
    assert catalog.main_for_entity("bills") is None
    assert {"id", "customer_id", "sub_total", "updated_at"} <= set(invoices.columns)
    assert {"id", "parent_id", "item_total"} <= set(child.columns)
    assert invoices.label == "id" and invoices.holds_numbers("sub_total") and invoices.holds_text("customer_id")
    assert {sd.FILES_TABLE, sd.TABLES_TABLE, sd.RUNS_TABLE} <= set(catalog.internal)


def test_row_counts_and_newest_update(synced: Path) -> None:
    with connect(synced) as conn:
        catalog = read_catalog(conn)
        counts = {name: row_count(conn, name) for name in catalog.tables}
        newest = newest_updated_at(conn, catalog.tables["json_invoices"])
        files = row_count(conn, sd.FILES_TABLE)
    conn.close()
    assert counts == {"json_contacts": 3, "json_invoices": 2, "json_invoices_line_items": 3}
    assert parse_db_time(newest) is not None
    assert files == 2


def test_ledger_summary_and_freshness(synced: Path) -> None:
    with connect(synced) as conn:
        catalog = read_catalog(conn)
        summary = ledger_summary(conn, catalog)
        fresh = assess_freshness(conn, catalog, max_age_hours=24, now=NOW)
        stale = assess_freshness(conn, catalog, max_age_hours=1, now=NOW)
    conn.close()
    assert summary is not None
    sessions, oldest, newest, loaded = summary
    assert (sessions, oldest, newest) == (2, "2026-06-08 09:00:00", "2026-06-10 10:00:00")
    assert parse_db_time(loaded) is not None
    assert fresh.as_dict() == {"newest_data_timestamp": "2026-06-10 10:00:00", "age_hours": 2.0, "is_fresh": True,
                               "max_age_hours": 24}
    assert (stale.newest, stale.is_fresh) == ("2026-06-10 10:00:00", False)


def test_entity_freshness_per_entity(synced: Path) -> None:
    with connect(synced) as conn:
        rows = entity_freshness(conn, session_max_age_hours=24, now=NOW)
    conn.close()
    assert rows == [
        {"entity": "contacts", "newest_data_timestamp": "2026-06-08 09:00:00", "age_hours": 51.0,
         "is_fresh": False, "files": 1},
        {"entity": "invoices", "newest_data_timestamp": "2026-06-10 10:00:00", "age_hours": 2.0,
         "is_fresh": True, "files": 1},
    ]


def test_read_rows_reads_what_an_older_table_has(synced: Path) -> None:
    with connect(synced) as conn:
        catalog = read_catalog(conn)
        rows = list(read_rows(conn, catalog, sd.FILES_TABLE, ("entity", "no_such_column"), order_by="entity"))
        missing = list(read_rows(conn, catalog, "_json2db_no_such_table", ("entity",)))
        wanted = ["nowhere"] * (ID_CHUNK + 1) + [r["path"] for r in read_rows(conn, catalog, sd.FILES_TABLE, ("path",))]
        chosen = list(read_rows(conn, catalog, sd.FILES_TABLE, ("entity",), where_in=("path", wanted)))
    conn.close()
    assert rows == [{"entity": "contacts", "no_such_column": None}, {"entity": "invoices", "no_such_column": None}]
    assert missing == []
    assert sorted(r["entity"] for r in chosen) == ["contacts", "invoices"]


def test_an_older_file_is_read_by_naming(tmp_path: Path) -> None:
    """No registry and no ledger: ``json_<entity>`` is a main table, a table with a
    ``parent_id`` whose name extends it is its child; nothing loaded means no freshness."""
    path = tmp_path / "old.db"
    with connect(path) as conn:
        conn.execute("CREATE TABLE json_bills (id TEXT PRIMARY KEY, total REAL)")
        conn.execute("CREATE TABLE json_bills_line_items (parent_id TEXT, item_total REAL)")
        conn.execute("CREATE TABLE json_bills_notes (note TEXT)")
        conn.execute("INSERT INTO json_bills VALUES ('B-1', 3.0)")
        catalog = read_catalog(conn)
        fresh = assess_freshness(conn, catalog, max_age_hours=24, now=NOW)
        summary = ledger_summary(conn, catalog)
        per_entity = entity_freshness(conn, now=NOW)
        counts = {name: row_count(conn, name) for name in catalog.tables}
        newest = newest_updated_at(conn, catalog.tables["json_bills"])
    conn.close()
    bills, items, notes = (catalog.tables[n] for n in ("json_bills", "json_bills_line_items", "json_bills_notes"))
    assert (bills.entity, bills.id_field, bills.is_child) == ("bills", "bill_id", False)
    assert (items.parent, items.field, items.entity) == ("json_bills", "line_items", "bills")
    assert notes.parent is None
    assert catalog.internal == {}
    assert counts == {"json_bills": 1, "json_bills_line_items": 0, "json_bills_notes": 0}
    assert newest is None
    assert (summary, fresh.newest, fresh.is_fresh, per_entity) == (None, None, False, [])


def test_time_helpers() -> None:
    assert parse_db_time("2026-06-10 10:00:00") == datetime(2026, 6, 10, 10, 0, 0)
    assert parse_db_time("2026-06-10T10:00:00.123") == datetime(2026, 6, 10, 10, 0, 0)
    assert parse_db_time(datetime(2026, 6, 10, 10, 0, 0, 500, tzinfo=timezone(timedelta(hours=2)))) == datetime(
        2026, 6, 10, 8, 0, 0
    )
    assert parse_db_time("10 Jun 2026") is None and parse_db_time(None) is None
    assert local_now(NOW) == NOW
    aware = datetime(2026, 6, 10, 12, 0, 0, tzinfo=UTC)
    assert local_now(aware) == aware.astimezone().replace(tzinfo=None)
