"""Newest wins exactly, nothing stale after a newer version, nothing silently elsewhere
(issue 17): each case on SQLite and on PostgreSQL (the ``backend`` fixture)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import Backend
from test_engine_matrix import T1, T2, T3, column_for, execute, json_tables, rows, sync, synced
from test_runner import invoice

from json2db_sync import JSON2DBSyncRunner


@pytest.fixture
def runner(backend: Backend, workspace: Path) -> JSON2DBSyncRunner:
    return JSON2DBSyncRunner(**backend.runner_kwargs)


def users_table(backend: Backend, ddl: str) -> None:
    """A table the user made in the destination before any run (on PostgreSQL in the schema
    the runs use, which the user creates for it)."""
    if backend.kind == "postgresql":
        execute(backend, f'CREATE SCHEMA IF NOT EXISTS "{backend.pg_schema}"')
    execute(backend, ddl)


def one(backend: Backend, sql: str, params: tuple[Any, ...] = ()) -> Any:
    found = rows(backend, sql, params)
    assert len(found) == 1, found
    return found[0]


# --- sub-second timestamps ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("2026-06-09T16:48:58.100-0400", "2026-06-09T16:48:58.900-0400"),  # same second
        ("2026-06-09T16:48:58.09Z", "2026-06-09T16:48:58.1Z"),  # digits of different lengths
        ("2026-06-09T16:48:58Z", "2026-06-09T16:48:58.000001Z"),  # whole second vs a microsecond later
        ("2026-06-09T20:48:58.5+0000", "2026-06-09T16:48:58.75-0400"),  # offsets differ
    ],
)
def test_an_older_version_within_the_same_second_never_overwrites_a_newer(
    backend: Backend, runner, make_session, older: str, newer: str
) -> None:
    make_session(T1, {"invoices": [invoice("1", newer, status="paid")]})
    synced(runner)
    make_session(T2, {"invoices": [invoice("1", older, status="draft")]})
    result = synced(runner)
    assert one(backend, "SELECT status FROM json_invoices WHERE id = '1'") == ("paid",)
    assert result["statistics"]["records_unchanged"] == 1


def test_updated_at_keeps_the_fraction_readably(backend: Backend, runner, make_session) -> None:
    make_session(
        T1,
        {
            "invoices": [
                invoice("1", "2026-06-09T16:48:58.250-0400"),
                invoice("2", "2026-06-09T16:48:58-0400"),
                invoice("3", "2026-06-09T16:48:58.1234567Z"),
            ]
        },
    )
    synced(runner)
    found = rows(backend, "SELECT id, updated_at FROM json_invoices ORDER BY id")
    if backend.kind == "sqlite":
        assert found == [
            ("1", "2026-06-09 20:48:58.25"),
            ("2", "2026-06-09 20:48:58"),
            ("3", "2026-06-09 16:48:58.123456"),  # to the microsecond, as PostgreSQL holds it
        ]
    else:  # TIMESTAMPTZ: the instant itself, fraction included
        stamps = {
            row[0]: row[1]
            for row in backend.query("SELECT id, updated_at FROM json_invoices ORDER BY id")
        }
        assert stamps["1"].microsecond == 250000
        assert stamps["3"].microsecond == 123456
        assert stamps["2"].microsecond == 0


def test_a_later_session_with_an_equal_time_still_wins(backend: Backend, runner, make_session) -> None:
    stamp = "2026-06-09T16:48:58.5-0400"
    make_session(T1, {"invoices": [invoice("1", stamp, status="draft")]})
    synced(runner)
    make_session(T2, {"invoices": [invoice("1", stamp, status="sent")]})
    synced(runner)
    assert one(backend, "SELECT status FROM json_invoices WHERE id = '1'") == ("sent",)


# --- the same id twice in one file --------------------------------------------------------


@pytest.mark.parametrize("newer_first", [True, False], ids=["newer-first", "older-first"])
def test_same_id_twice_in_a_file_the_newer_wins_whichever_comes_first(
    backend: Backend, runner, make_session, newer_first: bool
) -> None:
    newer = invoice("9", "2026-06-09T16:48:59-0400", status="paid", total=2.0)
    older = invoice("9", "2026-06-09T16:48:58-0400", status="draft", total=1.0)
    records = [newer, invoice("10"), older] if newer_first else [older, invoice("10"), newer]
    make_session(T1, {"invoices": records})
    result = synced(runner)
    assert one(backend, "SELECT status, total FROM json_invoices WHERE id = '9'") == ("paid", 2)
    assert result["statistics"]["duplicate_ids_in_files"] == 1


def test_same_id_twice_across_batches_the_newer_wins(
    backend: Backend, runner, make_session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JSON2DB_BATCH_SIZE", "2")
    records = [
        invoice("9", "2026-06-09T16:49:00-0400", status="paid"),
        invoice("10"),
        invoice("11"),
        invoice("9", "2026-06-09T16:48:00-0400", status="draft"),
        invoice("9", "2026-06-09T16:48:30-0400", status="sent"),
    ]
    make_session(T1, {"invoices": records})
    synced(runner, )
    assert one(backend, "SELECT status FROM json_invoices WHERE id = '9'") == ("paid",)


def test_same_id_twice_with_equal_times_keeps_file_order_and_a_list_copy_adds(
    backend: Backend, runner, make_session
) -> None:
    stamp = "2026-06-09T16:48:58-0400"
    detailed = invoice("9", stamp, status="sent", notes="from the detail")
    listed = {"invoice_id": "9", "last_modified_time": stamp, "status": "paid", "balance": 0}
    make_session(T1, {"invoices": [detailed, listed]})
    synced(runner)
    status, notes, balance = one(backend, "SELECT status, notes, balance FROM json_invoices WHERE id = '9'")
    assert (status, notes, balance) == ("paid", "from the detail", 0)


def test_an_older_repeat_in_a_file_never_beats_newer_stored_data(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"invoices": [invoice("9", "2026-06-09T17:00:00-0400", status="void")]})
    synced(runner)
    make_session(
        T2,
        {
            "invoices": [
                invoice("9", "2026-06-09T16:00:00-0400", status="draft"),
                invoice("9", "2026-06-09T16:30:00-0400", status="sent"),
            ]
        },
    )
    result = synced(runner)
    assert one(backend, "SELECT status FROM json_invoices WHERE id = '9'") == ("void",)
    assert result["statistics"]["records_unchanged"] == 2


# --- an unreadable last_modified_time ------------------------------------------------------


@pytest.mark.parametrize("value", ["yesterday", "2026-13-45T99:00:00Z", 1717000000])
def test_an_unreadable_modification_time_is_warned_naming_file_id_and_value(
    backend: Backend, runner, make_session, value: Any
) -> None:
    folder = make_session(T1, {"invoices": [invoice("1"), invoice("77", value)]})
    result = synced(runner)
    warnings = [w for w in result["warnings"] if "modification time" in w]
    assert len(warnings) == 1, result["warnings"]
    assert str(folder / "invoices.json") in warnings[0]
    assert "id 77" in warnings[0] and repr(value) in warnings[0]
    assert "id 1:" not in warnings[0]
    assert one(backend, "SELECT COUNT(*) FROM json_invoices") == (2,)


def test_a_missing_or_empty_modification_time_is_not_warned(backend: Backend, runner, make_session) -> None:
    bare = {"invoice_id": "5", "status": "sent"}
    make_session(T1, {"invoices": [bare, invoice("6", "")]})
    result = synced(runner)
    assert not [w for w in result["warnings"] if "modification time" in w]


# --- nothing stale after a newer version -------------------------------------------------


def test_a_nested_object_set_to_null_clears_its_columns(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"invoices": [invoice("1", "2026-06-09T10:00:00Z")]})
    synced(runner)
    city = column_for(backend, "json_invoices", "billing_address", "city")
    make_session(T2, {"invoices": [invoice("1", "2026-06-09T11:00:00Z", billing_address=None)]})
    synced(runner)
    assert one(backend, f'SELECT "{city}", billing_address__zip FROM json_invoices') == (None, None)


@pytest.mark.parametrize("empty", ["", {}], ids=["empty-string", "empty-object"])
def test_a_nested_object_emptied_clears_its_columns(backend: Backend, runner, make_session, empty: Any) -> None:
    make_session(T1, {"invoices": [invoice("1", "2026-06-09T10:00:00Z")]})
    synced(runner)
    make_session(T2, {"invoices": [invoice("1", "2026-06-09T11:00:00Z", billing_address=empty)]})
    synced(runner)
    assert one(backend, "SELECT billing_address__city, billing_address__zip FROM json_invoices") == (None, None)


def test_a_nested_object_losing_a_member_clears_that_column(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"invoices": [invoice("1", "2026-06-09T10:00:00Z")]})
    synced(runner)
    make_session(T2, {"invoices": [invoice("1", "2026-06-09T11:00:00Z", billing_address={"city": "Boston"})]})
    synced(runner)
    assert one(backend, "SELECT billing_address__city, billing_address__zip FROM json_invoices") == ("Boston", None)


def test_a_scalar_that_becomes_an_object_leaves_nothing_for_sum(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"invoices": [invoice("1", "2026-06-09T10:00:00Z", total=100), invoice("2", total=7)]})
    synced(runner)
    make_session(T2, {"invoices": [invoice("1", "2026-06-09T11:00:00Z", total={"amount": 5})]})
    synced(runner)
    assert one(backend, "SELECT SUM(total) FROM json_invoices") == (7,)
    assert one(backend, "SELECT total, total__amount FROM json_invoices WHERE id = '1'") == (None, 5)


def test_a_scalar_that_becomes_an_array_of_objects_leaves_nothing(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"invoices": [invoice("1", "2026-06-09T10:00:00Z", discount=12.5)]})
    synced(runner)
    make_session(T2, {"invoices": [invoice("1", "2026-06-09T11:00:00Z", discount=[{"kind": "early", "amount": 3}])]})
    synced(runner)
    assert one(backend, "SELECT discount FROM json_invoices WHERE id = '1'") == (None,)
    children = [t for t in json_tables(backend) if "discount" in t]
    assert children, json_tables(backend)


def test_an_object_that_becomes_a_scalar_clears_its_members(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"invoices": [invoice("1", "2026-06-09T10:00:00Z")]})
    synced(runner)
    make_session(T2, {"invoices": [invoice("1", "2026-06-09T11:00:00Z", billing_address="see contact")]})
    synced(runner)
    address = column_for(backend, "json_invoices", "billing_address")
    assert one(backend, f'SELECT "{address}", billing_address__city FROM json_invoices') == ("see contact", None)


def test_a_list_form_copy_keeps_what_it_does_not_carry(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"invoices": [invoice("1", "2026-06-09T10:00:00Z", total=100)]})
    synced(runner)
    listed = {"invoice_id": "1", "last_modified_time": "2026-06-09T11:00:00Z", "status": "paid"}
    make_session(T2, {"invoices": [listed]})
    synced(runner)
    assert one(backend, "SELECT status, total, billing_address__city FROM json_invoices") == ("paid", 100, "New York")


def test_an_older_version_does_not_clear_anything(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"invoices": [invoice("1", "2026-06-09T11:00:00Z")]})
    synced(runner)
    make_session(T2, {"invoices": [invoice("1", "2026-06-09T10:00:00Z", billing_address=None)]})
    synced(runner)
    assert one(backend, "SELECT billing_address__city FROM json_invoices") == ("New York",)


def test_a_repeat_within_one_file_clears_what_it_does_not_fill(backend: Backend, runner, make_session) -> None:
    records = [
        invoice("1", "2026-06-09T10:00:00Z"),
        invoice("1", "2026-06-09T11:00:00Z", billing_address=None),
    ]
    make_session(T1, {"invoices": records})
    synced(runner)
    assert one(backend, "SELECT billing_address__city FROM json_invoices") == (None,)


# --- a table of the user's own where json2db_sync would put its data ----------------------


def test_a_users_own_json_table_stops_the_run_naming_it(backend: Backend, runner, make_session) -> None:
    users_table(backend, 'CREATE TABLE "json_invoices" (invoice_no TEXT, amount REAL)')
    execute(backend, "INSERT INTO \"json_invoices\" VALUES ('mine-1', 12.5)")
    make_session(T1, {"invoices": [invoice("1")], "contacts": [{"contact_id": "c1", "contact_name": "Acme"}]})
    result = sync(runner)
    assert not result["success"]
    assert result["error_type"] == "database_error"
    message = result["error"]
    assert "json_invoices" in message and "not created by json2db_sync" in message
    assert "rename" in message and "recreate" in message
    assert json_tables(backend) == {"json_invoices"}  # nothing of the run landed, no json_invoices_2
    assert rows(backend, 'SELECT * FROM "json_invoices"') == [("mine-1", 12.5)]


def test_after_renaming_the_users_table_the_run_loads(backend: Backend, runner, make_session) -> None:
    users_table(backend, 'CREATE TABLE "json_invoices" (invoice_no TEXT)')
    make_session(T1, {"invoices": [invoice("1")]})
    assert not sync(runner)["success"]
    execute(backend, 'ALTER TABLE "json_invoices" RENAME TO "my_invoices"')
    synced(runner)
    assert one(backend, "SELECT id FROM json_invoices") == ("1",)


def test_recreate_takes_the_users_table_over(backend: Backend, runner, make_session) -> None:
    users_table(backend, 'CREATE TABLE "json_invoices" (invoice_no TEXT)')
    make_session(T1, {"invoices": [invoice("1")]})
    result = runner.recreate_json_tables()
    assert result["success"], result["error"]
    synced(runner)
    assert one(backend, "SELECT id FROM json_invoices") == ("1",)
    assert "json_invoices_2" not in json_tables(backend)


def test_a_users_table_where_a_child_table_would_go_stops_the_run(backend: Backend, runner, make_session) -> None:
    users_table(backend, 'CREATE TABLE "json_invoices_line_items" (x TEXT)')
    make_session(T1, {"invoices": [invoice("1", lines=[{"line_item_id": "l1", "item_total": 1.0}])]})
    result = sync(runner)
    assert not result["success"]
    assert "json_invoices_line_items" in result["error"]
    assert json_tables(backend) == {"json_invoices_line_items"}


def test_its_own_tables_are_never_mistaken_for_a_users(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"invoices": [invoice("1", lines=[{"line_item_id": "l1", "item_total": 1.0}])]})
    synced(runner)
    make_session(T3, {"invoices": [invoice("2", lines=[{"line_item_id": "l2", "item_total": 2.0}])]})
    synced(runner)
    assert json_tables(backend) == {"json_invoices", "json_invoices_line_items"}
