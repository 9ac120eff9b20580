"""The engine matrix: the table model and the sync semantics of the runner, each case run
on SQLite and on a real PostgreSQL server (the ``backend`` fixture of conftest.py).

Every test is written once, in portable SQL (``backend.query`` takes ``?`` placeholders on
both), with the few places where the two databases rightly differ spelt out: declared
column types, TIMESTAMPTZ times (normalised to the tool's UTC text by :func:`norm`), and
NUMERIC's exact decimals. The PostgreSQL half skips with a hint when
JSON2DB_TEST_POSTGRES_URL is unset; each PostgreSQL test gets a fresh schema.

Kill-mid-run and concurrent runs are in ``tests/reliability/test_engine_matrix_faults.py``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Backend
from test_runner import invoice, line  # the same record builders as the SQLite-only tests

from json2db_sync import JSON2DBSyncRunner

NOW = datetime.now().replace(microsecond=0)
T1 = NOW - timedelta(days=3)
T2 = NOW - timedelta(days=2)
T3 = NOW - timedelta(days=1)

SESSION_FMT = "%Y-%m-%d_%H-%M-%S"

# Declared types as each database spells them (PRAGMA table_info / information_schema).
TYPES = {
    "sqlite": {"text": "TEXT", "int": "INTEGER", "real": "REAL", "time": "TEXT"},
    "postgresql": {"text": "text", "int": "bigint", "real": "numeric", "time": "timestamp with time zone"},
}


# --- looking inside either database ---------------------------------------------------------


def norm(value: Any) -> Any:
    """A value as the tool's logical model has it: TIMESTAMPTZ → UTC 'YYYY-MM-DD HH:MM:SS'."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


def rows(backend: Backend, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return [tuple(norm(v) for v in row) for row in backend.query(sql, params)]


def execute(backend: Backend, sql: str) -> None:
    """A statement that writes, committed on either database (``backend.query`` runs in
    sqlite3's implicit transaction on SQLite and closes without committing)."""
    if backend.kind == "sqlite":
        import sqlite3

        conn = sqlite3.connect(backend.db_path, isolation_level=None)
        try:
            conn.execute(sql)
        finally:
            conn.close()
    else:
        backend.query(sql)


def json_tables(backend: Backend) -> set[str]:
    return {t for t in backend.tables() if t.startswith("json_")}


def data_state(backend: Backend) -> dict[str, list[str]]:
    """Every row of every json_* table and of the file ledger: equal states, same data."""
    state = {}
    for table in sorted(json_tables(backend) | {"_json2db_files"}):
        state[table] = sorted(repr(tuple(norm(v) for v in r)) for r in backend.query(f'SELECT * FROM "{table}"'))
    return state


def column_for(backend: Backend, table: str, *json_path: str) -> str:
    """The column the tool chose for a JSON path (from its documented _json2db_columns map)."""
    for path, column in backend.query(
        "SELECT json_path, column_name FROM _json2db_columns WHERE table_name = ?", (table,)
    ):
        if json.loads(path) == list(json_path):
            return column
    raise AssertionError(f"no column for {json_path} in {table}")


@pytest.fixture
def runner(backend: Backend, workspace: Path) -> JSON2DBSyncRunner:
    """A runner with the guide's defaults (sessions under the workspace), writing to ``backend``."""
    return JSON2DBSyncRunner(**backend.runner_kwargs)


def sync(runner: JSON2DBSyncRunner, **kwargs: Any) -> dict[str, Any]:
    result = runner.full_sync_workflow(**kwargs)
    json.dumps(result)  # every result is plain JSON
    return result


def synced(runner: JSON2DBSyncRunner, **kwargs: Any) -> dict[str, Any]:
    result = sync(runner, **kwargs)
    assert result["success"], (result["error"], result["error_type"])
    return result


# --- the table model -------------------------------------------------------------------------


def test_first_load_counts_values_and_types(backend: Backend, runner, make_session) -> None:
    make_session(
        T1,
        {
            "invoices": [invoice("1", lines=[line("L1", 10.0), line("L2", 5.5)])],
            "contacts": [{"contact_id": "c1", "contact_name": "Acme"}],
        },
    )
    result = synced(runner, cutoff_days=30)
    stats = result["statistics"]
    assert (stats["total_records"], stats["records_inserted"], stats["child_rows_written"]) == (2, 2, 2)
    assert (stats["files_loaded"], stats["files_skipped"], stats["records_rejected"]) == (2, 0, 0)
    assert set(result["steps"]) == {"analysis", "table_creation", "population", "verification", "report"}
    assert json_tables(backend) == {"json_invoices", "json_invoices_line_items", "json_contacts"}
    assert {"_json2db_files", "_json2db_runs", "_json2db_rejected", "_json2db_columns", "_json2db_tables"} <= backend.tables()

    assert rows(backend, "SELECT id, data_source, created_at, updated_at, billing_address__city, total FROM json_invoices") == [
        ("1", "json", "2026-06-09 14:00:00", "2026-06-09 20:48:58", "New York", 15.5)
    ]
    assert rows(
        backend,
        "SELECT parent_id, position, id, quantity, item_total, updated_at FROM json_invoices_line_items ORDER BY position",
    ) == [
        ("1", 0, "L1", 1, 10.0, "2026-06-09 20:48:58"),
        ("1", 1, "L2", 1, 5.5, "2026-06-09 20:48:58"),
    ]
    assert rows(backend, "SELECT id, contact_name FROM json_contacts") == [("c1", "Acme")]

    t = TYPES[backend.kind]
    main = backend.columns("json_invoices")
    assert list(main)[:4] == ["id", "data_source", "created_at", "updated_at"]
    assert {k: main[k] for k in ("id", "created_at", "updated_at", "billing_address__city", "total")} == {
        "id": t["text"], "created_at": t["time"], "updated_at": t["time"], "billing_address__city": t["text"], "total": t["real"]
    }
    child = backend.columns("json_invoices_line_items")
    assert list(child)[:6] == ["parent_id", "position", "id", "data_source", "created_at", "updated_at"]
    assert {k: child[k] for k in ("parent_id", "position", "quantity", "item_total", "created_at")} == {
        "parent_id": t["text"], "position": t["int"], "quantity": t["int"], "item_total": t["real"], "created_at": t["time"]
    }
    assert rows(backend, "SELECT COUNT(*), SUM(records) FROM _json2db_files") == [(2, 2)]


def test_ids_are_text_and_big_integers_exact(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"contacts": [{"contact_id": 123, "balance": 2**70}]})
    make_session(T2, {"contacts": [{"contact_id": "123", "note": "same record"}]})
    synced(runner)
    assert rows(backend, "SELECT id, balance, note FROM json_contacts") == [("123", str(2**70), "same record")]


@pytest.mark.parametrize("value", [2**63, 9300000000000000000, 2**64 - 1, -(2**63) - 1])
def test_integers_past_64_bits_in_later_records_are_exact(backend: Backend, runner, make_session, value: int) -> None:
    # orjson gives 2**63 .. 2**64 - 1 as ints, not floats: a record of a shape already voted
    # (the 30th of 40 alike, and a line item among many) must still be kept exactly, not
    # crash the load or be rounded.
    records = [
        {"contact_id": str(n), "balance": n, "lines": [{"line_item_id": f"{n}-{k}", "qty": k} for k in range(3)]}
        for n in range(40)
    ]
    records[30]["balance"] = value
    records[31]["lines"][1]["qty"] = value
    make_session(T1, {"contacts": records})
    synced(runner)
    assert rows(backend, "SELECT id, balance FROM json_contacts WHERE id IN ('29', '30')") == [("29", "29"), ("30", str(value))]
    assert rows(backend, "SELECT qty FROM json_contacts_lines WHERE parent_id = '31' ORDER BY position") == [
        ("0",), (str(value),), ("2",)
    ]


def test_table_names_never_collide(backend: Backend, runner, make_session) -> None:
    make_session(T1, {
        "invoices": [invoice("1", lines=[line("L1", 1.0)], LineItems=[{"x": 1}])],
        # (invoices_line_items.json itself is api_sync's line-item file: child rows of invoices)
        "invoices_line-items": [{"invoices_line-item_id": "z"}],
    })
    synced(runner)
    assert json_tables(backend) == {
        "json_invoices", "json_invoices_line_items", "json_invoices_line_items_2", "json_invoices_line_items_3"
    }
    assert sorted(rows(backend, "SELECT table_name, entity FROM _json2db_tables")) == [
        ("json_invoices", "invoices"),
        ("json_invoices_line_items", "invoices"),
        ("json_invoices_line_items_2", "invoices"),
        ("json_invoices_line_items_3", "invoices_line-items"),
    ]


def test_empty_exports_still_get_their_tables(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"bills": [], "estimates": []})
    result = synced(runner)
    assert result["statistics"]["files_loaded"] == 2
    assert json_tables(backend) == {"json_bills", "json_estimates"}
    assert rows(backend, "SELECT COUNT(*) FROM json_bills") == [(0,)]


def test_booleans(backend: Backend, runner, make_session) -> None:
    """true/false: 1/0 in an INTEGER column on SQLite, a BOOLEAN column on PostgreSQL; a
    field that later mixes them with other whole numbers holds 1/0 as numbers on both."""
    make_session(T1, {"items": [{"item_id": "1", "is_taxable": True, "flag": True}, {"item_id": "2", "is_taxable": False, "flag": False}]})
    synced(runner)
    assert rows(backend, "SELECT id, is_taxable FROM json_items ORDER BY id") == [("1", 1), ("2", 0)]
    assert rows(backend, "SELECT id FROM json_items WHERE is_taxable = ?", (True,)) == [("1",)]
    expected = {"sqlite": "INTEGER", "postgresql": "boolean"}[backend.kind]
    assert backend.columns("json_items")["flag"] == expected
    make_session(T2, {"items": [{"item_id": "3", "flag": 5}]})
    synced(runner)
    assert rows(backend, "SELECT id, CAST(flag AS INTEGER) FROM json_items ORDER BY id") == [("1", 1), ("2", 0), ("3", 5)]
    assert rows(backend, "SELECT SUM(flag) FROM json_items") == [(6,)]
    assert backend.columns("json_items")["flag"] == TYPES[backend.kind]["int"]


def test_record_wider_than_the_column_limit_keeps_every_field(backend: Backend, runner, make_session) -> None:
    """2100 fields in one record: what does not fit in columns (2000 on SQLite; 400 on
    PostgreSQL, whose rows must fit in 8 kB) is kept in _overflow_json; every field's value
    can be read back."""
    wide = {"contact_id": "1", **{f"field_{i}": i for i in range(2100)}}
    make_session(T1, {"contacts": [wide]})
    synced(runner)
    columns = list(backend.columns("json_contacts"))
    assert len(columns) < 2000 and "_overflow_json" in columns
    column_of = {
        json.loads(path)[0]: column
        for path, column in backend.query("SELECT json_path, column_name FROM _json2db_columns WHERE table_name = 'json_contacts'")
    }
    [row] = backend.query("SELECT * FROM json_contacts")
    stored = dict(zip(columns, row))
    overflow = json.loads(stored["_overflow_json"])
    values = {
        field: overflow[field] if column_of.get(field, "_overflow_json") == "_overflow_json" else stored[column_of[field]]
        for field in wide
        if field != "contact_id"
    }
    assert values == {f"field_{i}": i for i in range(2100)}


# --- rerun, newest wins, partial updates --------------------------------------------------


def test_rerun_skips_every_file_and_changes_nothing(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"invoices": [invoice("1", lines=[line("L1", 1.0)])], "contacts": [{"contact_id": "c1"}]})
    first = synced(runner)
    before = data_state(backend)
    second = synced(runner)
    assert first["statistics"]["files_loaded"] == 2
    stats = second["statistics"]
    assert (stats["files_loaded"], stats["files_skipped"], stats["total_records"], stats["records_inserted"]) == (0, 2, 0, 0)
    assert data_state(backend) == before


def test_newer_session_updates(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"invoices": [invoice("1", "2026-06-09T10:00:00-0400", status="sent")]})
    make_session(T2, {"invoices": [invoice("1", "2026-06-10T10:00:00-0400", status="paid")]})
    result = synced(runner)
    assert (result["statistics"]["records_inserted"], result["statistics"]["records_updated"]) == (1, 1)
    assert rows(backend, "SELECT id, status, updated_at FROM json_invoices") == [("1", "paid", "2026-06-10 14:00:00")]


def test_stale_session_never_overwrites_newer_data(backend: Backend, runner, make_session) -> None:
    make_session(T2, {"invoices": [invoice("1", "2026-06-10T10:00:00-0400", status="paid")]})
    synced(runner)
    # A late-arriving session with an older modification time.
    make_session(T3, {"invoices": [invoice("1", "2026-06-09T10:00:00-0400", status="draft")]})
    result = synced(runner)
    assert result["statistics"]["records_unchanged"] == 1
    assert rows(backend, "SELECT id, status, updated_at FROM json_invoices") == [("1", "paid", "2026-06-10 14:00:00")]
    assert rows(backend, "SELECT COUNT(*) FROM json_invoices") == [(1,)]


def test_repeat_across_batches_never_beats_newer_stored_data(backend: Backend, runner, make_session) -> None:
    make_session(T2, {"invoices": [invoice("1", "2026-07-20T10:00:00+0000", status="paid")]})
    synced(runner)
    assert runner.update_settings(batch_size=2)["success"]
    late = [
        invoice("1", "2026-07-01T10:00:00+0000", status="draft"),
        invoice("9"),
        invoice("1", "2026-07-02T10:00:00+0000", status="sent"),
    ]
    make_session(T3, {"invoices": late})
    result = synced(runner)
    assert result["statistics"]["records_unchanged"] == 2
    assert rows(backend, "SELECT id, status FROM json_invoices ORDER BY id") == [("1", "paid"), ("9", "sent")]


def test_partial_update_keeps_untouched_fields_and_children(backend: Backend, runner, make_session) -> None:
    """A list-form record after a detailed one updates what it carries and nothing else."""
    detail = invoice("1", lines=[line("L1", 3.0)], notes="detail only")
    listed = {k: v for k, v in invoice("1").items() if k != "billing_address"}
    listed["status"] = "paid"
    make_session(T1, {"invoices": [detail]})
    make_session(T2, {"invoices": {"code": 0, "message": "success", "invoices": [listed], "page_context": {"page": 1}}})
    synced(runner)
    assert rows(backend, "SELECT status, notes, billing_address__city, total FROM json_invoices") == [
        ("paid", "detail only", "New York", 3.0)
    ]
    assert rows(backend, "SELECT id, item_total FROM json_invoices_line_items") == [("L1", 3.0)]


def test_children_replaced_when_the_record_carries_the_array(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"invoices": [invoice("1", "2026-06-09T10:00:00-0400", lines=[line("L1", 1.0), line("L2", 2.0)])]})
    make_session(T2, {"invoices": [invoice("1", "2026-06-10T10:00:00-0400", lines=[line("L2", 2.0)])]})
    synced(runner)
    assert rows(backend, "SELECT parent_id, position, id FROM json_invoices_line_items") == [("1", 0, "L2")]


def test_empty_array_clears_children_but_empty_string_keeps_them(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"bills": [{"bill_id": "b", "last_modified_time": "2026-06-01T00:00:00+0000", "documents": [{"document_id": "d1"}], "line_items": [{"line_item_id": "x"}]}]})
    make_session(T2, {"bills": [{"bill_id": "b", "last_modified_time": "2026-06-02T00:00:00+0000", "documents": "", "line_items": []}]})
    synced(runner)
    assert rows(backend, "SELECT id FROM json_bills_documents") == [("d1",)]
    assert rows(backend, "SELECT COUNT(*) FROM json_bills_line_items") == [(0,)]
    assert "documents" not in backend.columns("json_bills")
    assert rows(backend, "SELECT updated_at FROM json_bills") == [("2026-06-02 00:00:00",)]


@pytest.mark.parametrize("batch_size", [1000, 1])
def test_duplicate_ids_in_one_file_apply_in_order_last_wins(backend: Backend, runner, make_session, batch_size: int) -> None:
    """The same id twice in one file: both applied in file order (a list-form copy after a
    detailed one adds to it) and the last one wins, whatever the batch size."""
    assert runner.update_settings(batch_size=batch_size)["success"]
    detail = invoice("1", lines=[line("L1", 4.0)], notes="detail only")
    listed = {k: v for k, v in invoice("1").items() if k != "billing_address"}
    listed["status"] = "paid"
    make_session(T1, {
        "invoices": [detail, listed],
        "contacts": [{"contact_id": "1", "v": "first"}, {"contact_id": "2", "v": "other"}, {"contact_id": "1", "v": "last"}],
    })
    result = synced(runner)
    assert result["statistics"]["duplicate_ids_in_files"] == 2
    assert rows(backend, "SELECT id, status, notes FROM json_invoices") == [("1", "paid", "detail only")]
    assert rows(backend, "SELECT id FROM json_invoices_line_items") == [("L1",)]
    assert rows(backend, "SELECT id, v FROM json_contacts ORDER BY id") == [("1", "last"), ("2", "other")]


# --- quarantine, run history, one transaction -------------------------------------------


def test_records_without_id_go_to_quarantine(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"invoices": [invoice("1"), {"invoice_number": "no id"}, invoice("")]})
    result = synced(runner)
    assert result["statistics"]["records_rejected"] == 2
    assert any("invoices: 2 record(s)" in w and "_json2db_rejected" in w for w in result["warnings"])
    assert rows(backend, "SELECT id FROM json_invoices") == [("1",)]
    rejected = rows(backend, "SELECT entity, reason, raw_json, source_file FROM _json2db_rejected ORDER BY rejected_id")
    assert [r[0] for r in rejected] == ["invoices", "invoices"]
    assert "invoice_id" in rejected[0][1]
    assert json.loads(rejected[0][2]) == {"invoice_number": "no id"}
    assert json.loads(rejected[1][2])["invoice_number"] == "INV-"
    assert all(r[3] and r[3].endswith("invoices.json") for r in rejected)


def test_run_history_records_each_run(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"contacts": [{"contact_id": "1"}, {"contact_id": "2"}]})
    synced(runner)
    assert runner.populate_tables()["success"]
    make_session(T2, {"invoices": '[{"invoice_id": "1"'})
    failed = sync(runner)
    assert (failed["success"], failed["error_type"]) == (False, "file_error")
    history = rows(backend, "SELECT run_id, operation, status, started_at, finished_at, statistics, error FROM _json2db_runs ORDER BY run_id")
    assert [(r[1], r[2]) for r in history] == [
        ("full_sync_workflow", "success"),
        ("populate_tables", "success"),
        ("full_sync_workflow", "failed"),
    ]
    assert len({r[0] for r in history}) == 3
    assert json.loads(history[0][5])["records_inserted"] == 2
    assert json.loads(history[1][5])["files_skipped"] == 1
    assert history[0][6] is None and "invoices.json" in history[2][6]
    for run in history:
        assert len(run[3]) == 19 and run[4] >= run[3]


def test_failed_run_writes_nothing(backend: Backend, runner, make_session) -> None:
    """One run, one transaction: a broken file anywhere fails the run and nothing of it lands."""
    make_session(T1, {"contacts": [{"contact_id": "1"}]})
    synced(runner)
    before = data_state(backend)
    make_session(T2, {
        "bills": [{"bill_id": "b1", "line_items": [{"line_item_id": "x"}]}],
        "contacts": [{"contact_id": "2", "new_field": 5}],
        "invoices": '[{"invoice_id": "1"',
    })
    result = sync(runner)
    assert (result["success"], result["error_type"]) == (False, "file_error")
    assert "invoices.json" in result["error"]
    assert data_state(backend) == before
    assert "new_field" not in backend.columns("json_contacts")
    assert rows(backend, "SELECT status FROM _json2db_runs ORDER BY run_id") == [("success",), ("failed",)]


def test_skipped_invalid_file_does_not_break_later_files(backend: Backend, runner, make_session) -> None:
    """on_invalid_file=skip: the bad file's rows and DDL are undone (a savepoint), the
    rest of the run goes on."""
    assert runner.update_settings(on_invalid_file="skip", batch_size=1)["success"]
    bad = make_session(T1, {"bills": [{"bill_id": "1", "rate": 1}, {"bill_id": "9", "rate": 0.5, "extra": "x"}, 5]})
    make_session(T2, {"bills": [{"bill_id": "2", "total": 2}]})
    result = synced(runner)
    assert (result["statistics"]["files_invalid"], result["statistics"]["total_records"]) == (1, 1)
    assert any("bills.json" in w for w in result["warnings"])
    assert rows(backend, "SELECT id, total FROM json_bills") == [("2", 2)]
    assert "extra" not in backend.columns("json_bills") and "rate" not in backend.columns("json_bills")
    # The quarantine keeps what recognises the unchanged file next time (not quarantined again).
    ((entity, raw_json),) = rows(backend, "SELECT entity, raw_json FROM _json2db_rejected")
    digest = hashlib.sha256((bad / "bills.json").read_bytes()).hexdigest()
    assert (entity, json.loads(raw_json)) == ("bills", {"invalid_file_sha256": digest})


def test_invalid_first_run_creates_no_table(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"contacts": [{"contact_id": "1"}], "invoices": '[{"invoice_id": "1"'})
    result = sync(runner)
    assert (result["success"], result["error_type"]) == (False, "file_error")
    if backend.kind == "sqlite" and not backend.db_path.exists():
        return
    assert json_tables(backend) == set()


# --- schema evolution and Zoho's "" ------------------------------------------------------


def test_schema_evolution_adds_columns_old_rows_null(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"invoices": [invoice("1")]})
    synced(runner)
    make_session(T2, {"invoices": [invoice("2", new_field=42, billing_address={"city": "X", "country": "US"})]})
    result = synced(runner, skip_table_creation=True)
    assert result["statistics"]["records_inserted"] == 1
    assert rows(backend, "SELECT id, new_field, billing_address__country, billing_address__city FROM json_invoices ORDER BY id") == [
        ("1", None, None, "New York"),
        ("2", 42, "US", "X"),
    ]
    t = TYPES[backend.kind]
    columns = backend.columns("json_invoices")
    assert (columns["new_field"], columns["billing_address__country"]) == (t["int"], t["text"])


def test_column_names_stay_stable_across_runs(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"contacts": [{"contact_id": "1", "Name": "a", "name": "b"}]})
    synced(runner)
    make_session(T2, {"contacts": [{"contact_id": "2", "name": "c", "Name": "d"}]})
    synced(runner)
    assert rows(backend, "SELECT id, name, name_2 FROM json_contacts ORDER BY id") == [("1", "a", "b"), ("2", "d", "c")]


def test_empty_string_is_null_in_numeric_and_kept_in_text(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"items": [{"item_id": "1", "tax_percentage": 18.5, "name": "A"}, {"item_id": "2", "tax_percentage": "", "name": ""}]})
    synced(runner)
    assert rows(backend, "SELECT id, tax_percentage, name FROM json_items ORDER BY id") == [("1", 18.5, "A"), ("2", None, "")]
    assert rows(backend, "SELECT AVG(tax_percentage), COUNT(tax_percentage) FROM json_items") == [(18.5, 1)]
    assert backend.columns("json_items")["tax_percentage"] == TYPES[backend.kind]["real"]


def test_column_first_seen_empty_then_numeric(backend: Backend, runner, make_session) -> None:
    """A field that only ever held "" gets its type from the numbers that come later; its
    "" become NULL (PostgreSQL retypes the column)."""
    make_session(T1, {"items": [{"item_id": "1", "tax_percentage": "", "discount": ""}]})
    synced(runner)
    make_session(T2, {"items": [
        {"item_id": "2", "tax_percentage": 5, "discount": 3},
        {"item_id": "3", "tax_percentage": 7.5, "discount": 4},
    ]})
    synced(runner)
    assert rows(backend, "SELECT id, tax_percentage, discount FROM json_items ORDER BY id") == [
        ("1", None, None),
        ("2", 5, 3),
        ("3", 7.5, 4),
    ]
    assert rows(backend, "SELECT AVG(tax_percentage), SUM(discount) FROM json_items") == [(6.25, 7)]
    if backend.kind == "postgresql":
        columns = backend.columns("json_items")
        assert (columns["tax_percentage"], columns["discount"]) == ("numeric", "bigint")


def test_whole_number_column_meeting_a_fraction_keeps_values_exact(backend: Backend, runner, make_session) -> None:
    """On PostgreSQL a BIGINT column that receives a fraction is widened to NUMERIC, so
    money adds up exactly: 0.1 and 0.2 ten times each sum to 3.0, not 3.0000000000000004."""
    make_session(T1, {"items": [{"item_id": "1", "rate": 5}, {"item_id": "2", "rate": 7}]})
    synced(runner)
    if backend.kind == "postgresql":
        assert backend.columns("json_items")["rate"] == "bigint"
    fractions = [{"item_id": f"f{i:02d}", "rate": 0.1 if i % 2 else 0.2} for i in range(20)]
    make_session(T2, {"items": fractions})
    synced(runner)
    assert rows(backend, "SELECT id, rate FROM json_items WHERE id IN ('1', '2', 'f00', 'f01') ORDER BY id") == [
        ("1", 5), ("2", 7), ("f00", 0.2), ("f01", 0.1)
    ]
    assert rows(backend, "SELECT COUNT(rate) FROM json_items") == [(22,)]
    (total,) = rows(backend, "SELECT SUM(rate) FROM json_items WHERE id <> '1' AND id <> '2'")[0]
    if backend.kind == "postgresql":
        assert backend.columns("json_items")["rate"] == "numeric"
        assert total == 3.0
        assert rows(backend, "SELECT CAST(SUM(rate) AS TEXT) FROM json_items WHERE id LIKE 'f%'") == [("3.0",)]
        assert rows(backend, "SELECT CAST(rate AS TEXT) FROM json_items WHERE id IN ('1', 'f01') ORDER BY id") == [("5",), ("0.1",)]
    else:
        assert total == pytest.approx(3.0)


def test_fresh_sync_and_analysis_agree_on_a_column_whole_in_its_first_batch(
    backend: Backend, workspace: Path, make_session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19: the load types a column by the batch that first holds it, the analysis by
    all the data. A balance whole in the first batch and fractional in the next one is
    widened during the same sync, so that `analyze` right after it wants no change."""
    monkeypatch.setenv("JSON2DB_BATCH_SIZE", "2")
    payments = [{"payment_id": f"p{i}", "amount": 10, "balance": 5 if i < 2 else 2.5 + i} for i in range(6)]
    make_session(T1, {"customerpayments": payments})
    runner = JSON2DBSyncRunner(**backend.runner_kwargs)
    synced(runner)
    assert backend.columns("json_customerpayments")["balance"] == TYPES[backend.kind]["real"]
    assert backend.columns("json_customerpayments")["amount"] == TYPES[backend.kind]["int"]
    assert rows(backend, "SELECT id, balance FROM json_customerpayments ORDER BY id") == [
        ("p0", 5), ("p1", 5), ("p2", 4.5), ("p3", 5.5), ("p4", 6.5), ("p5", 7.5)
    ]
    analysis = runner.analyze_json_files(str(workspace / "api_sync" / "data" / "sync_sessions"))
    assert analysis["success"], analysis["error"]
    assert analysis["schema_changes_required"] == []


def test_a_database_from_before_the_widening_is_widened_by_the_next_sync(
    workspace: Path, db_path: Path, make_session
) -> None:
    """SQLite: a database in which an earlier version left fractions in an INTEGER column
    (its column map already knows the fractions) gets the column widened by the next sync
    of that entity, values unchanged; `analyze` then wants no change."""
    import sqlite3

    make_session(T1, {"items": [{"item_id": "1", "rate": 5}]})
    runner = JSON2DBSyncRunner()
    synced(runner)
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:  # what the older version left behind
        conn.execute("UPDATE _json2db_columns SET kinds = 'float,int' WHERE table_name = 'json_items' AND column_name = 'rate'")
        conn.execute("INSERT INTO json_items (id, data_source, created_at, updated_at, item_id, rate) "
                     "VALUES ('2', 'json', '2026-01-01 00:00:00', '2026-01-01 00:00:00', '2', 2.5)")
    finally:
        conn.close()
    make_session(T2, {"items": [{"item_id": "3", "rate": 7}]})
    synced(runner)
    with sqlite3.connect(db_path) as conn:
        declared = {row[1]: row[2] for row in conn.execute("PRAGMA table_info(json_items)")}
        assert declared["rate"] == "REAL"
        assert conn.execute("SELECT id, rate FROM json_items ORDER BY id").fetchall() == [("1", 5.0), ("2", 2.5), ("3", 7.0)]
    analysis = runner.analyze_json_files(str(workspace / "api_sync" / "data" / "sync_sessions"))
    assert analysis["schema_changes_required"] == []


def test_a_view_on_the_column_keeps_it_integer_and_the_values_exact(workspace: Path, db_path: Path, make_session) -> None:
    """SQLite cannot drop a column a view names: the widening steps back (in a savepoint),
    the run still loads every value exactly, and says so in the log."""
    import sqlite3

    make_session(T1, {"items": [{"item_id": "1", "rate": 5}]})
    runner = JSON2DBSyncRunner()
    synced(runner)
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE VIEW item_rates AS SELECT id, rate FROM json_items")
    make_session(T2, {"items": [{"item_id": "2", "rate": 2.5}]})
    synced(runner)
    with sqlite3.connect(db_path) as conn:
        declared = {row[1]: row[2] for row in conn.execute("PRAGMA table_info(json_items)")}
        assert declared["rate"] == "INTEGER"
        assert conn.execute("SELECT id, rate FROM item_rates ORDER BY id").fetchall() == [("1", 5), ("2", 2.5)]


@pytest.mark.parametrize("late_value", ["02134", 2**70], ids=["text", "big-int"])
def test_value_not_fitting_a_numeric_column_is_kept_in_overflow(backend: Backend, runner, make_session, late_value) -> None:
    make_session(T1, {"contacts": [{"contact_id": "1", "zip": 2134}]})
    synced(runner)
    make_session(T2, {"contacts": [{"contact_id": "2", "zip": late_value}]})
    result = synced(runner)
    assert any("json_contacts.zip" in w and "_overflow_json" in w for w in result["warnings"])
    stored = rows(backend, "SELECT id, zip, _overflow_json FROM json_contacts ORDER BY id")
    assert stored[0][:2] == ("1", 2134)
    assert stored[1][:2] == ("2", None)
    assert json.loads(stored[1][2], parse_int=str)["zip"] == str(late_value)
    assert backend.columns("json_contacts")["zip"] == TYPES[backend.kind]["int"]


def test_overflow_value_is_dropped_once_the_column_holds_a_number_again(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"items": [{"item_id": "1", "rate": 1.5, "last_modified_time": "2026-06-01T00:00:00+0000"}]})
    make_session(T2, {"items": [{"item_id": "1", "rate": "unset-text", "last_modified_time": "2026-06-02T00:00:00+0000"}]})
    synced(runner)
    [(rate, overflow)] = rows(backend, "SELECT rate, _overflow_json FROM json_items")
    assert rate is None and json.loads(overflow) == {"rate": "unset-text"}
    make_session(T3, {"items": [{"item_id": "1", "rate": 2.0, "last_modified_time": "2026-06-03T00:00:00+0000"}]})
    synced(runner)
    [(rate, overflow)] = rows(backend, "SELECT rate, _overflow_json FROM json_items")
    assert rate == 2.0 and json.loads(overflow or "{}") == {}


def test_overflow_emptied_by_a_later_record_is_an_empty_object_on_both(backend: Backend, runner, make_session) -> None:
    """json_patch semantics on both databases: a key set to null goes, the others stay."""
    make_session(T1, {"items": [{"item_id": "1", "rate": 1.5, "qty": 2, "last_modified_time": "2026-06-01T00:00:00+0000"}]})
    make_session(T2, {"items": [{"item_id": "1", "rate": "n/a", "qty": "many", "last_modified_time": "2026-06-02T00:00:00+0000"}]})
    synced(runner)
    [(overflow,)] = rows(backend, "SELECT _overflow_json FROM json_items")
    assert json.loads(overflow) == {"rate": "n/a", "qty": "many"}
    make_session(T3, {"items": [{"item_id": "1", "rate": 3.0, "qty": 4, "last_modified_time": "2026-06-03T00:00:00+0000"}]})
    synced(runner)
    assert [(r, q, json.loads(o)) for r, q, o in rows(backend, "SELECT rate, qty, _overflow_json FROM json_items")] == [
        (3.0, 4, {})
    ]


@pytest.mark.parametrize(
    ("values", "expected"),
    [((1, "N/A", 10.25), [1, None, 10.25]), ((True, "maybe", 5), [1, None, 5])],
    ids=["whole-text-fraction", "boolean-text-number"],
)
def test_numbers_after_a_text_conflict_still_load_exactly(
    backend: Backend, runner, make_session, values: tuple[Any, ...], expected: list[Any]
) -> None:
    """Text in a number column goes to the overflow JSON; a later fraction (or a number
    other than 0/1 in a true/false column) must still land: PostgreSQL widens the column."""
    for when, (number, value) in zip((T1, T2, T3), enumerate(values, 1)):
        make_session(when, {"contacts": [{"contact_id": str(number), "amt": value}]})
    result = synced(runner)
    assert result["statistics"]["records_inserted"] == 3
    stored = rows(backend, "SELECT id, amt, _overflow_json FROM json_contacts ORDER BY id")
    assert [amt for _, amt, _ in stored] == expected
    assert json.loads(stored[1][2]) == {"amt": values[1]}


def test_wide_records_of_short_texts_load(backend: Backend, runner, make_session) -> None:
    """395 fields of 21 characters: more than one 8 kB PostgreSQL row holds inline; the
    fields past the column limit go to the overflow JSON and nothing is lost."""
    wide = {"contact_id": "1", **{f"field_{i:03d}": f"value-{i:03d}-abcdefghij" for i in range(395)}}
    make_session(T1, {"contacts": [wide]})
    synced(runner)
    columns = list(backend.columns("json_contacts"))
    [row] = backend.query("SELECT * FROM json_contacts")
    stored = dict(zip(columns, row))
    overflow = json.loads(stored.get("_overflow_json") or "{}")
    found = {k: stored[k] for k in stored if k.startswith("field_")} | overflow
    assert found == {k: v for k, v in wide.items() if k != "contact_id"}


def foreign_keys(backend: Backend, table: str) -> list[tuple[str, str]]:
    """(referenced table, on-delete action) of each foreign key of ``table``."""
    if backend.kind == "sqlite":
        return [(r[2], r[6]) for r in backend.query(f'PRAGMA foreign_key_list("{table}")')]
    actions = {"c": "CASCADE", "a": "NO ACTION", "r": "RESTRICT", "n": "SET NULL", "d": "SET DEFAULT"}
    found = backend.query(
        "SELECT p.relname, k.confdeltype FROM pg_constraint AS k JOIN pg_class AS c ON c.oid = k.conrelid "
        "JOIN pg_class AS p ON p.oid = k.confrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace "
        "WHERE k.contype = 'f' AND n.nspname = current_schema() AND c.relname = ?",
        (table,),
    )
    return [(parent, actions[str(action)]) for parent, action in found]


def test_child_tables_reference_their_parent_after_load_and_recreate(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"invoices": [invoice("1", lines=[line("L1", 1.0)])]})
    synced(runner)
    assert foreign_keys(backend, "json_invoices_line_items") == [("json_invoices", "CASCADE")]
    recreated = runner.recreate_json_tables()
    assert recreated["success"], recreated["error"]
    assert foreign_keys(backend, "json_invoices_line_items") == [("json_invoices", "CASCADE")]
    synced(runner)
    assert foreign_keys(backend, "json_invoices_line_items") == [("json_invoices", "CASCADE")]


def test_long_field_names_get_distinct_columns(backend: Backend, runner, make_session) -> None:
    """Two 70-character field names that share their first 63 characters: both kept, each
    value in its own column (PostgreSQL would cut both names to the same 63 bytes)."""
    first = "f" * 63 + "_alpha1"
    second = "f" * 63 + "_omega2"
    assert len(first) == len(second) == 70
    make_session(T1, {"contacts": [{"contact_id": "1", first: "A", second: "B"}]})
    synced(runner)
    make_session(T2, {"contacts": [{"contact_id": "2", first: "C", second: "D"}]})
    synced(runner)
    col_first = column_for(backend, "json_contacts", first)
    col_second = column_for(backend, "json_contacts", second)
    assert col_first != col_second
    columns = backend.columns("json_contacts")
    assert col_first in columns and col_second in columns
    if backend.kind == "postgresql":
        assert all(len(name.encode()) <= 63 for name in columns)
    assert rows(backend, f'SELECT id, "{col_first}", "{col_second}" FROM json_contacts ORDER BY id') == [
        ("1", "A", "B"),
        ("2", "C", "D"),
    ]


# --- recreation, cutoff, entity filter --------------------------------------------------------


def test_recreate_drops_only_json_tables_and_reloads(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"invoices": [invoice("1", lines=[line("L1", 1.0)])]})
    synced(runner)
    execute(backend, "CREATE TABLE my_report (x INTEGER)")
    execute(backend, "INSERT INTO my_report (x) VALUES (1)")
    other_schema = None
    if backend.kind == "postgresql":
        # a json_ table in another schema of the same database is not ours to drop
        other_schema = f"{backend.pg_schema}_other"
        execute(backend, f'CREATE SCHEMA "{other_schema}"')
    try:
        if other_schema:
            execute(backend, f'CREATE TABLE "{other_schema}"."json_invoices" (x INTEGER)')
            execute(backend, f'INSERT INTO "{other_schema}"."json_invoices" (x) VALUES (7)')
        recreated = runner.recreate_json_tables()
        assert recreated["success"], recreated["error"]
        assert set(recreated["dropped_tables"]) == {"json_invoices", "json_invoices_line_items"}
        assert set(recreated["created_tables"]) == {"json_invoices", "json_invoices_line_items"}
        assert rows(backend, "SELECT COUNT(*) FROM json_invoices") == [(0,)]
        assert rows(backend, "SELECT COUNT(*) FROM _json2db_files") == [(0,)]
        assert rows(backend, "SELECT x FROM my_report") == [(1,)]
        if other_schema:
            assert rows(backend, f'SELECT x FROM "{other_schema}"."json_invoices"') == [(7,)]
        again = synced(runner)
        assert again["statistics"]["files_loaded"] == 1
        assert rows(backend, "SELECT id FROM json_invoices") == [("1",)]
        assert rows(backend, "SELECT COUNT(*) FROM json_invoices_line_items") == [(1,)]
        assert rows(backend, "SELECT x FROM my_report") == [(1,)]
    finally:
        if other_schema:
            execute(backend, f'DROP SCHEMA IF EXISTS "{other_schema}" CASCADE')


def test_population_after_recreate_reloads_all_history(backend: Backend, runner, make_session) -> None:
    make_session(NOW - timedelta(days=40), {"invoices": [invoice("old")]})
    make_session(T1, {"invoices": [invoice("new")]})
    synced(runner, cutoff_days=90)
    assert runner.recreate_json_tables()["success"]
    reloaded = synced(runner, cutoff_days=1)  # a nightly run right after the recreation
    assert any("recreated" in note for note in reloaded["notes"])
    assert rows(backend, "SELECT id FROM json_invoices ORDER BY id") == [("new",), ("old",)]
    make_session(NOW - timedelta(days=50), {"invoices": [invoice("older")]})
    assert synced(runner, cutoff_days=1)["statistics"]["files_loaded"] == 0  # the cutoff applies again
    assert rows(backend, "SELECT COUNT(*) FROM json_invoices") == [(2,)]


def test_cutoff_days_leaves_old_sessions_out(backend: Backend, runner, make_session) -> None:
    make_session(NOW - timedelta(days=40), {"invoices": [invoice("old")]})
    make_session(T1, {"invoices": [invoice("new")]})
    synced(runner, cutoff_days=30)
    assert rows(backend, "SELECT id FROM json_invoices") == [("new",)]
    synced(runner, cutoff_days=90)
    assert rows(backend, "SELECT id FROM json_invoices ORDER BY id") == [("new",), ("old",)]


def test_entity_filter(backend: Backend, runner, make_session) -> None:
    make_session(T1, {"invoices": [invoice("1")], "bills": [{"bill_id": "b1"}], "contacts": [{"contact_id": "c"}]})
    result = runner.populate_tables(cutoff_days=30, entity_filter=["invoices", "bills"])
    assert result["success"], result["error"]
    assert set(result["statistics"]["entities"]) == {"invoices", "bills"}
    assert json_tables(backend) == {"json_invoices", "json_bills"}
    rest = runner.populate_tables(cutoff_days=30)
    assert rest["success"], rest["error"]
    assert (rest["statistics"]["files_loaded"], rest["statistics"]["files_skipped"]) == (1, 2)
    assert rows(backend, "SELECT id FROM json_contacts") == [("c",)]


# --- verification of a clean load -----------------------------------------------------------


def test_clean_load_verifies(backend: Backend, runner, sessions_dir: Path) -> None:
    made = runner.generate_sample_data(out_dir=sessions_dir, days=2, seed=7, invoices=12)
    assert made["success"], made["error"]
    result = sync(runner)
    checks = result["steps"].get("verification", {}).get("checks", [])
    assert result["success"], (result["error"], [c for c in checks if c["status"] != "ok"])
    assert result["steps"]["verification"]["success"]
    verified = runner.verify_tables()
    assert verified["success"], (verified["error"], [c for c in verified["checks"] if c["status"] != "ok"])
    assert verified["summary"]["error"] == 0
    summary = made["summary"]
    for entity, distinct in summary["distinct_ids"].items():
        assert rows(backend, f'SELECT COUNT(*) FROM "json_{entity}"') == [(distinct,)], entity


# --- the real samples --------------------------------------------------------------------


# The entity's own id field and Zoho's singular detail key (as Zoho names them).
REAL_ID_FIELDS = {
    "invoices": "invoice_id", "bills": "bill_id", "contacts": "contact_id", "items": "item_id",
    "salesorders": "salesorder_id", "purchaseorders": "purchaseorder_id", "creditnotes": "creditnote_id",
    "customerpayments": "payment_id", "vendorpayments": "payment_id", "organizations": "organization_id",
    "estimates": "estimate_id", "expenses": "expense_id", "journals": "journal_id",
    "chartofaccounts": "account_id", "bankaccounts": "account_id", "taxes": "tax_id", "currencies": "currency_id",
}
REAL_SINGULAR = {
    "invoices": "invoice", "bills": "bill", "contacts": "contact", "items": "item", "salesorders": "salesorder",
    "purchaseorders": "purchaseorder", "creditnotes": "creditnote", "customerpayments": "payment",
    "vendorpayments": "vendorpayment", "chartofaccounts": "chart_of_account", "bankaccounts": "bankaccount",
    "estimates": "estimate", "expenses": "expense", "journals": "journal", "organizations": "organization",
    "taxes": "tax", "currencies": "currency",
}


def _sample_records(path: Path, entity: str) -> list[dict[str, Any]]:
    data = json.loads(path.read_text())
    if isinstance(data, list):
        return data
    if isinstance(data.get(entity), list):
        return data[entity]
    if isinstance(data.get(REAL_SINGULAR.get(entity, "")), dict):
        return [data[REAL_SINGULAR[entity]]]
    return [data]


def build_real_tree(real_samples: Path, root: Path) -> tuple[Path, int, dict[str, set[str]]]:
    """One session per capture (oldest first, a minute apart) under ``root``; returns the
    tree, the number of files and the ids each entity's table must end up holding."""
    samples = sorted(real_samples.glob("*.json"))
    assert samples, "the real samples folder holds no JSON files"
    start = datetime.now() - timedelta(hours=2)
    expected: dict[str, set[str]] = {}
    for index, sample in enumerate(samples):
        entity = sample.name.split("__", 1)[0]
        when = (start + timedelta(minutes=index)).strftime(SESSION_FMT)
        folder = root / f"sync_session_{when}" / "raw_json" / when
        folder.mkdir(parents=True)
        shutil.copyfile(sample, folder / f"{entity}.json")
        id_field = REAL_ID_FIELDS[entity]
        ids = {r.get(id_field) for r in _sample_records(sample, entity)}
        expected.setdefault(entity, set()).update(str(i) for i in ids if i not in (None, ""))
    return root, len(samples), expected


def test_every_real_sample_loads(backend: Backend, real_samples: Path, workspace: Path) -> None:
    tree, files, expected = build_real_tree(real_samples, workspace / "real_tree")
    runner = JSON2DBSyncRunner(data_source=tree, **backend.runner_kwargs)
    result = runner.full_sync_workflow()
    checks = result["steps"].get("verification", {}).get("checks", [])
    assert result["success"], (result["error"], [c for c in checks if c["status"] != "ok"])
    stats = result["statistics"]
    assert (stats["files_loaded"], stats["records_rejected"]) == (files, 0)
    for entity, ids in expected.items():
        stored = {r[0] for r in backend.query(f'SELECT id FROM "json_{entity}"')}
        assert stored == ids, entity
    # Detail envelopes brought their line items; list pages did not erase them.
    assert rows(backend, "SELECT COUNT(*) FROM json_invoices_line_items")[0][0] > 0
    assert rows(backend, "SELECT COUNT(*) FROM json_bills_line_items")[0][0] > 0
    # Zoho's "-0400" offsets became UTC.
    created = rows(backend, "SELECT created_at, created_time FROM json_invoices WHERE created_time LIKE '%-0400' LIMIT 1")
    assert created and len(created[0][0]) == 19
    again = runner.full_sync_workflow()
    assert again["success"], again["error"]
    assert (again["statistics"]["files_loaded"], again["statistics"]["files_skipped"]) == (0, files)


def test_real_samples_row_counts_equal_on_sqlite_and_postgresql(
    real_samples: Path, workspace: Path, db_path: Path, pg_url: str, pg_schema: str
) -> None:
    """The same tree loaded into both databases: the same tables, the same rows."""
    tree, files, _ = build_real_tree(real_samples, workspace / "real_tree")
    lite = Backend("sqlite", db_path)
    pg = Backend("postgresql", db_path, pg_url, pg_schema)
    for backend in (lite, pg):
        result = JSON2DBSyncRunner(data_source=tree, **backend.runner_kwargs).populate_tables()
        assert result["success"], (backend.kind, result["error"])
        assert result["statistics"]["files_loaded"] == files
    assert json_tables(lite) == json_tables(pg)
    for table in sorted(json_tables(lite)):
        key = "parent_id, position" if "parent_id" in lite.columns(table) else "id"
        counts = [b.query(f'SELECT COUNT(*) FROM "{table}"')[0][0] for b in (lite, pg)]
        assert counts[0] == counts[1], (table, counts)
        keys = [sorted(b.query(f'SELECT {key} FROM "{table}"')) for b in (lite, pg)]
        assert keys[0] == keys[1], table
    for internal in ("_json2db_files", "_json2db_rejected"):
        assert lite.query(f"SELECT COUNT(*) FROM {internal}") == pg.query(f"SELECT COUNT(*) FROM {internal}")
