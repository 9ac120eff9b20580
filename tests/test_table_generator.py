"""The table generator on real SQLite connections: create, extend, remember, recreate."""

from __future__ import annotations

import sqlite3

import pytest

from json2db_sync import sql_dialect
from json2db_sync.destinations.sqlite import connect
from json2db_sync.errors import ConfigError
from json2db_sync.json_analyzer import EntityPlan, analyze_records
from json2db_sync.sql_dialect import sqlite as sd  # plain sqlite3 here
from json2db_sync.table_generator import (
    apply_plan,
    ensure_indexes,
    ensure_internal_tables,
    load_stored_plans,
    plan_ddl,
    recreate_tables,
    schema_changes,
    validate_custom_columns,
)


@pytest.fixture
def conn(tmp_path) -> sqlite3.Connection:
    connection = connect(tmp_path / "t.db")  # the real factory: the connection knows its dialect
    ensure_internal_tables(connection)
    yield connection
    connection.close()


def columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    return [(row[1], row[2]) for row in conn.execute(sd.table_info(table))]


def invoices_plan(records: list[dict]) -> EntityPlan:
    return analyze_records("invoices", [records])


def test_creates_main_and_child_tables(conn: sqlite3.Connection) -> None:
    plan = invoices_plan([{"invoice_id": "1", "total": 1.5, "line_items": [{"line_item_id": "a", "quantity": 2}]}])
    executed = apply_plan(conn, plan)
    assert len(executed) == 2
    assert columns(conn, "json_invoices") == [
        ("id", "TEXT"), ("data_source", "TEXT"), ("created_at", "TEXT"), ("updated_at", "TEXT"),
        ("invoice_id", "TEXT"), ("total", "REAL"),
    ]
    assert columns(conn, "json_invoices_line_items") == [
        ("parent_id", "TEXT"), ("position", "INTEGER"), ("id", "TEXT"), ("data_source", "TEXT"),
        ("created_at", "TEXT"), ("updated_at", "TEXT"), ("line_item_id", "TEXT"), ("quantity", "INTEGER"),
    ]
    assert apply_plan(conn, plan) == []  # nothing new: no DDL


def test_evolution_only_adds_and_never_retypes(conn: sqlite3.Connection) -> None:
    plan = invoices_plan([{"invoice_id": "1", "total": 1}])
    apply_plan(conn, plan)
    plan.observe_record({"invoice_id": "2", "total": "text now", "note": "x"})
    executed = apply_plan(conn, plan)
    assert executed == [
        'ALTER TABLE "json_invoices" ADD COLUMN "note" TEXT',
        'ALTER TABLE "json_invoices" ADD COLUMN "_overflow_json" TEXT',  # where text for "total" goes
    ]
    assert ("total", "INTEGER") in columns(conn, "json_invoices")
    assert schema_changes(conn, plan) == [
        {"table": "json_invoices", "change": "type_conflict", "column": "total", "declared": "INTEGER", "found": "TEXT"}
    ]


def test_a_batch_with_nothing_new_asks_the_database_nothing_and_any_change_is_applied(
    conn: sqlite3.Connection,
) -> None:
    # apply_plan runs once per batch: a table whose plan has not changed since it was last
    # applied is skipped without a statement, and every kind of change is still applied.
    plan = invoices_plan([{"invoice_id": "1", "total": 1, "line_items": [{"line_item_id": "a", "quantity": 2}]}])
    apply_plan(conn, plan)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    plan.observe_record({"invoice_id": "2", "total": 3, "line_items": [{"line_item_id": "b", "quantity": 4}]})
    assert apply_plan(conn, plan) == [] and statements == []
    plan.observe_record({"invoice_id": "3", "total": 2.5, "line_items": [{"line_item_id": "c", "quantity": 1, "unit": "h"}]})
    executed = apply_plan(conn, plan)
    conn.set_trace_callback(None)
    assert 'ALTER TABLE "json_invoices_line_items" ADD COLUMN "unit" TEXT' in executed
    assert ("total", "REAL") in columns(conn, "json_invoices")  # widened: the fraction came in a later batch
    assert ("unit", "TEXT") in columns(conn, "json_invoices_line_items")


def test_stored_plans_keep_names_and_types(conn: sqlite3.Connection) -> None:
    plan = analyze_records("contacts", [[{"contact_id": "1", "Name": "a", "name": "b", "addr": {"city": "X"}}]])
    apply_plan(conn, plan)
    stored = load_stored_plans(conn)["contacts"]
    assert {path: spec.name for path, spec in stored.main.columns.items()} == {
        ("contact_id",): "contact_id", ("Name",): "name", ("name",): "name_2", ("addr", "city"): "addr__city",
    }
    assert stored.main.exists and schema_changes(conn, stored) == []


def test_plan_ddl_runs_nothing(conn: sqlite3.Connection) -> None:
    plan = invoices_plan([{"invoice_id": "1", "customer_id": "c"}])
    ddl = plan_ddl(plan, custom_columns={"session_id": "TEXT"}, include_indexes=True)
    assert list(ddl) == ["json_invoices"]
    assert '"session_id" TEXT' in ddl["json_invoices"][0]
    assert ddl["json_invoices"][1:] == [
        'CREATE INDEX IF NOT EXISTS "idx_json_invoices__updated_at" ON "json_invoices" ("updated_at")',
        'CREATE INDEX IF NOT EXISTS "idx_json_invoices__customer_id" ON "json_invoices" ("customer_id")',
    ]
    assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'json_invoices'").fetchone() == (0,)


def test_recreate_drops_json_tables_only_and_clears_the_ledger(conn: sqlite3.Connection) -> None:
    apply_plan(conn, invoices_plan([{"invoice_id": "1", "line_items": [{"x": 1}]}]))
    conn.execute("CREATE TABLE reports (x)")
    conn.execute(sd.internal.upsert_ledger, ("/f.json", "h", 1, 1.0, "invoices", "s", None, 1, "now", None))
    dropped = recreate_tables(conn)
    assert dropped == ["json_invoices_line_items", "json_invoices"]
    names = {row[0] for row in conn.execute(sd.LIST_TABLES)}
    assert "reports" in names and not any(n.startswith("json_") for n in names)
    assert conn.execute(f"SELECT COUNT(*) FROM {sql_dialect.FILES_TABLE}").fetchone() == (0,)


@pytest.mark.parametrize("declaration", ["TEXT); DROP TABLE x; --", "TEXT DEFAULT (1)"])
def test_custom_column_declarations_are_checked(declaration: str) -> None:
    with pytest.raises(ConfigError, match="custom column 'c'"):
        validate_custom_columns({"c": declaration})


def test_child_tables_index_updated_at_so_the_summary_reads_no_whole_table(conn: sqlite3.Connection) -> None:
    """The summary after every run asks each table for its newest updated_at: an index
    answers that from one end, on child tables as on main tables."""
    plan = invoices_plan([{"invoice_id": "1", "line_items": [{"line_item_id": "a"}]}])
    apply_plan(conn, plan)
    ensure_indexes(conn, [plan])
    detail = " ".join(
        str(row[-1]) for row in conn.execute("EXPLAIN QUERY PLAN " + sd.max_value("json_invoices_line_items", "updated_at"))
    )
    assert "idx_json_invoices_line_items__updated_at" in detail and "SCAN json_invoices_line_items" not in detail
