"""The runner end to end on real SQLite files and real session trees: the table model and
the sync semantics of DESIGN.md, one rule per test."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from json2db_sync import JSON2DBSyncRunner
from json2db_sync.database import writer_lock

NOW = datetime.now().replace(microsecond=0)
T1 = NOW - timedelta(days=3)
T2 = NOW - timedelta(days=2)
T3 = NOW - timedelta(days=1)


def invoice(
    invoice_id: str,
    modified: str = "2026-06-09T16:48:58-0400",
    *,
    lines: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "invoice_id": invoice_id,
        "invoice_number": f"INV-{invoice_id}",
        "customer_id": "c1",
        "date": "2026-06-09",
        "status": "sent",
        "created_time": "2026-06-09T10:00:00-0400",
        "last_modified_time": modified,
        "billing_address": {"city": "New York", "zip": "10001"},
    }
    if lines is not None:
        record["line_items"] = lines
        record["sub_total"] = round(sum(line["item_total"] for line in lines), 2)
        record["total"] = record["sub_total"]
    record.update(fields)
    return record


def line(line_id: str, total: float, item_id: str = "it1") -> dict[str, Any]:
    return {"line_item_id": line_id, "item_id": item_id, "rate": total, "quantity": 1, "item_total": total}


def rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def checksum(db: Path) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Every json_* row, sorted: equal checksums mean the same data state."""
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'json_%' ORDER BY name")]
        return [(t, sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)) for t in tables]


@pytest.fixture
def runner(workspace: Path) -> JSON2DBSyncRunner:
    return JSON2DBSyncRunner()


def sync(runner: JSON2DBSyncRunner, **kwargs: Any) -> dict[str, Any]:
    result = runner.full_sync_workflow(**kwargs)
    json.dumps(result)  # every result is JSON-serialisable
    return result


def test_guide_quick_start_loads_sessions(runner: JSON2DBSyncRunner, make_session, db_path: Path) -> None:
    make_session(T1, {"invoices": [invoice("1", lines=[line("L1", 10.0), line("L2", 5.5)])], "contacts": [{"contact_id": "c1", "contact_name": "Acme"}]})
    result = runner.full_sync_workflow(db_path="../data/database/production.db", cutoff_days=30)
    assert result["success"], result["error"]
    assert result["statistics"]["total_records"] == 2
    assert result["statistics"]["child_rows_written"] == 2
    assert set(result["steps"]) == {"analysis", "table_creation", "population", "verification", "report"}
    assert rows(db_path, "SELECT id, data_source, created_at, updated_at, billing_address__city, total FROM json_invoices") == [
        ("1", "json", "2026-06-09 14:00:00", "2026-06-09 20:48:58", "New York", 15.5)
    ]
    assert rows(db_path, "SELECT parent_id, position, id, item_total FROM json_invoices_line_items ORDER BY position") == [
        ("1", 0, "L1", 10.0),
        ("1", 1, "L2", 5.5),
    ]


def test_child_table_declares_foreign_key(runner: JSON2DBSyncRunner, make_session, db_path: Path) -> None:
    make_session(T1, {"invoices": [invoice("1", lines=[line("L1", 1.0)])]})
    assert sync(runner)["success"]
    fks = rows(db_path, "PRAGMA foreign_key_list('json_invoices_line_items')")
    assert [(fk[2], fk[3], fk[4], fk[6]) for fk in fks] == [("json_invoices", "parent_id", "id", "CASCADE")]
    pk = [r[1] for r in rows(db_path, "PRAGMA table_info('json_invoices_line_items')") if r[5]]
    assert pk == ["parent_id", "position"]


def test_stale_session_never_overwrites_newer_data(runner: JSON2DBSyncRunner, make_session, db_path: Path) -> None:
    make_session(T2, {"invoices": [invoice("1", "2026-06-10T10:00:00-0400", status="paid")]})
    assert sync(runner)["success"]
    # A late-arriving session with an older modification time.
    make_session(T3, {"invoices": [invoice("1", "2026-06-09T10:00:00-0400", status="draft")]})
    result = sync(runner)
    assert result["statistics"]["records_unchanged"] == 1
    assert rows(db_path, "SELECT status FROM json_invoices") == [("paid",)]


def test_newer_session_updates(runner: JSON2DBSyncRunner, make_session, db_path: Path) -> None:
    make_session(T1, {"invoices": [invoice("1", "2026-06-09T10:00:00-0400", status="sent")]})
    make_session(T2, {"invoices": [invoice("1", "2026-06-10T10:00:00-0400", status="paid")]})
    result = sync(runner)
    assert result["statistics"]["records_inserted"] == 1
    assert result["statistics"]["records_updated"] == 1
    assert rows(db_path, "SELECT status, updated_at FROM json_invoices") == [("paid", "2026-06-10 14:00:00")]


def test_list_form_after_detail_keeps_children_and_detail_fields(runner, make_session, db_path: Path) -> None:
    detail = invoice("1", lines=[line("L1", 3.0)], notes="detail only")
    listed = {k: v for k, v in invoice("1").items() if k not in ("billing_address",)}
    listed["status"] = "paid"
    make_session(T1, {"invoices": [detail]})
    make_session(T2, {"invoices": {"code": 0, "message": "success", "invoices": [listed], "page_context": {"page": 1}}})
    assert sync(runner)["success"]
    assert rows(db_path, "SELECT status, notes, billing_address__city FROM json_invoices") == [("paid", "detail only", "New York")]
    assert rows(db_path, "SELECT id FROM json_invoices_line_items") == [("L1",)]


def test_children_replaced_when_array_present(runner, make_session, db_path: Path) -> None:
    make_session(T1, {"invoices": [invoice("1", "2026-06-09T10:00:00-0400", lines=[line("L1", 1.0), line("L2", 2.0)])]})
    make_session(T2, {"invoices": [invoice("1", "2026-06-10T10:00:00-0400", lines=[line("L2", 2.0)])]})
    assert sync(runner)["success"]
    assert rows(db_path, "SELECT position, id FROM json_invoices_line_items") == [(0, "L2")]


def test_empty_array_clears_children_but_empty_string_keeps_them(runner, make_session, db_path: Path) -> None:
    make_session(T1, {"bills": [{"bill_id": "b", "last_modified_time": "2026-06-01T00:00:00+0000", "documents": [{"document_id": "d1"}], "line_items": [{"line_item_id": "x"}]}]})
    make_session(T2, {"bills": [{"bill_id": "b", "last_modified_time": "2026-06-02T00:00:00+0000", "documents": "", "line_items": []}]})
    assert sync(runner)["success"]
    assert rows(db_path, "SELECT id FROM json_bills_documents") == [("d1",)]
    assert rows(db_path, "SELECT COUNT(*) FROM json_bills_line_items") == [(0,)]
    columns = {r[1] for r in rows(db_path, "PRAGMA table_info('json_bills')")}
    assert "documents" not in columns


def test_empty_string_in_numeric_column_is_null(runner, make_session, db_path: Path) -> None:
    make_session(T1, {"items": [{"item_id": "1", "tax_percentage": 18.5, "name": "A"}, {"item_id": "2", "tax_percentage": "", "name": ""}]})
    assert sync(runner)["success"]
    assert rows(db_path, "SELECT id, tax_percentage, name FROM json_items ORDER BY id") == [("1", 18.5, "A"), ("2", None, "")]
    assert rows(db_path, "SELECT AVG(tax_percentage) FROM json_items") == [(18.5,)]


def test_rerun_is_a_no_op(runner, make_session, db_path: Path) -> None:
    make_session(T1, {"invoices": [invoice("1", lines=[line("L1", 1.0)])], "contacts": [{"contact_id": "c1"}]})
    first = sync(runner)
    before = checksum(db_path)
    second = sync(runner)
    assert first["statistics"]["files_loaded"] == 2
    assert second["statistics"]["files_loaded"] == 0
    assert second["statistics"]["files_skipped"] == 2
    assert second["statistics"]["total_records"] == 0
    assert checksum(db_path) == before


def test_cutoff_days_leaves_old_sessions_out(runner, make_session, db_path: Path) -> None:
    make_session(NOW - timedelta(days=40), {"invoices": [invoice("old")]})
    make_session(T1, {"invoices": [invoice("new")]})
    assert sync(runner, cutoff_days=30)["success"]
    assert rows(db_path, "SELECT id FROM json_invoices") == [("new",)]
    assert sync(runner, cutoff_days=90)["success"]
    assert rows(db_path, "SELECT id FROM json_invoices ORDER BY id") == [("new",), ("old",)]


def test_everything_outside_cutoff_is_not_an_error(runner, make_session) -> None:
    make_session(NOW - timedelta(days=40), {"invoices": [invoice("old")]})
    result = sync(runner, cutoff_days=7)
    assert result["success"], result["error"]
    assert result["statistics"]["total_records"] == 0
    assert any("older" in w and "cutoff_days" in w for w in result["warnings"])


def test_entity_filter(runner, make_session, db_path: Path) -> None:
    make_session(T1, {"invoices": [invoice("1")], "bills": [{"bill_id": "b1"}], "contacts": [{"contact_id": "c"}]})
    result = runner.populate_tables(cutoff_days=30, entity_filter=["invoices", "bills"])
    assert result["success"], result["error"]
    tables = {r[0] for r in rows(db_path, "SELECT name FROM sqlite_master WHERE name LIKE 'json_%' AND type='table'")}
    assert tables == {"json_invoices", "json_bills"}


def test_schema_evolution_adds_columns_without_losing_rows(runner, make_session, db_path: Path) -> None:
    make_session(T1, {"invoices": [invoice("1")]})
    assert sync(runner)["success"]
    make_session(T2, {"invoices": [invoice("2", new_field=42, billing_address={"city": "X", "country": "US"})]})
    result = sync(runner, skip_table_creation=True)
    assert result["success"], result["error"]
    assert rows(db_path, "SELECT id, new_field, billing_address__country FROM json_invoices ORDER BY id") == [
        ("1", None, None),
        ("2", 42, "US"),
    ]


def test_column_names_stay_stable_across_runs(runner, make_session, db_path: Path) -> None:
    make_session(T1, {"contacts": [{"contact_id": "1", "Name": "a", "name": "b"}]})
    assert sync(runner)["success"]
    make_session(T2, {"contacts": [{"contact_id": "2", "name": "c", "Name": "d"}]})
    assert sync(runner)["success"]
    assert rows(db_path, "SELECT id, name, name_2 FROM json_contacts ORDER BY id") == [("1", "a", "b"), ("2", "d", "c")]


def test_recreate_keeps_other_tables_and_reloads(runner, make_session, db_path: Path) -> None:
    make_session(T1, {"invoices": [invoice("1", lines=[line("L1", 1.0)])]})
    assert sync(runner)["success"]
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE my_report (x)")
        conn.execute("INSERT INTO my_report VALUES (1)")
    recreated = runner.recreate_json_tables()
    assert recreated["success"], recreated["error"]
    assert set(recreated["dropped_tables"]) == {"json_invoices", "json_invoices_line_items"}
    assert recreated["backup_path"] and Path(recreated["backup_path"]).is_file()
    assert rows(db_path, "SELECT COUNT(*) FROM json_invoices") == [(0,)]
    assert rows(db_path, "SELECT x FROM my_report") == [(1,)]
    again = sync(runner)
    assert again["statistics"]["files_loaded"] == 1
    assert rows(db_path, "SELECT COUNT(*) FROM json_invoices_line_items") == [(1,)]


def test_records_without_id_go_to_quarantine(runner, make_session, db_path: Path) -> None:
    make_session(T1, {"invoices": [invoice("1"), {"invoice_number": "no id"}, invoice("")]})
    result = sync(runner)
    assert result["statistics"]["records_rejected"] == 2
    rejected = rows(db_path, "SELECT entity, reason, raw_json FROM _json2db_rejected ORDER BY rejected_id")
    assert [r[0] for r in rejected] == ["invoices", "invoices"]
    assert "invoice_id" in rejected[0][1]
    assert json.loads(rejected[0][2]) == {"invoice_number": "no id"}


def test_ids_are_text_and_big_integers_exact(runner, make_session, db_path: Path) -> None:
    make_session(T1, {"contacts": [{"contact_id": 123, "balance": 2**70}]})
    make_session(T2, {"contacts": [{"contact_id": "123", "note": "same record"}]})
    assert sync(runner)["success"]
    assert rows(db_path, "SELECT id, balance, typeof(balance), note FROM json_contacts") == [
        ("123", str(2**70), "text", "same record")
    ]


def test_duplicate_ids_in_one_file_last_wins(runner, make_session, db_path: Path) -> None:
    make_session(T1, {"contacts": [{"contact_id": "1", "v": "first"}, {"contact_id": "1", "v": "last"}]})
    result = sync(runner)
    assert result["statistics"]["duplicate_ids_in_files"] == 1
    assert rows(db_path, "SELECT v FROM json_contacts") == [("last",)]


def test_invalid_file_fails_whole_run(runner, make_session, db_path: Path) -> None:
    make_session(T1, {"contacts": [{"contact_id": "1"}], "invoices": '[{"invoice_id": "1"'})
    result = sync(runner)
    assert not result["success"]
    assert result["error_type"] == "file_error"
    assert "invoices.json" in result["error"]
    assert not db_path.exists() or rows(db_path, "SELECT name FROM sqlite_master WHERE name = 'json_contacts'") == []


def test_invalid_file_skipped_when_configured(workspace: Path, make_session, db_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("JSON2DB_ON_INVALID_FILE", "skip")
    make_session(T1, {"contacts": [{"contact_id": "1"}], "invoices": '{"code": 0, "message": "x"}'})
    result = sync(JSON2DBSyncRunner())
    assert result["success"], result["error"]
    assert any("invoices.json" in w for w in result["warnings"])
    assert rows(db_path, "SELECT id FROM json_contacts") == [("1",)]
    assert rows(db_path, "SELECT entity FROM _json2db_rejected") == [("invoices",)]


def test_not_records_is_validation_error(runner, make_session) -> None:
    make_session(T1, {"invoices": '{"code": 0, "message": "success", "page_context": {}}'})
    result = sync(runner)
    assert result["error_type"] == "validation_error"
    assert "JSON file must contain an array of records" in result["error"]
    assert "invoices.json" in result["error"]


def test_no_data_found_is_file_error_with_checklist(runner) -> None:
    result = sync(runner)
    assert not result["success"]
    assert result["error_type"] == "file_error"
    assert "No data found" in result["error"]
    assert result["statistics"]["total_records"] == 0


def test_second_writer_fails_fast_naming_holder(runner, make_session, db_path: Path) -> None:
    make_session(T1, {"contacts": [{"contact_id": "1"}]})
    with writer_lock(db_path, operation="test holder"):
        result = sync(runner)
    assert result["error_type"] == "database_error"
    assert f"process {os.getpid()}" in result["error"]
    assert "JSON2DB_LOCK_TIMEOUT" in result["error"]
    assert sync(runner)["success"]


def test_bad_configuration_is_a_result_not_an_exception(workspace: Path, monkeypatch) -> None:
    monkeypatch.setenv("JSON2DB_BATCH_SIZE", "lots")
    result = JSON2DBSyncRunner().full_sync_workflow()
    assert result["success"] is False
    assert result["error_type"] == "config_error"
    assert "JSON2DB_BATCH_SIZE" in result["error"]


def test_custom_columns_are_filled(runner, make_session, db_path: Path) -> None:
    data_dir = make_session(T1, {"invoices": [invoice("1", lines=[line("L1", 1.0)])]})
    schemas = runner.generate_table_schemas(
        include_indexes=True,
        custom_columns={
            "data_source": "TEXT DEFAULT 'json'",
            "import_timestamp": "TIMESTAMP DEFAULT CURRENT_TIMESTAMP",
            "session_id": "TEXT",
        },
    )
    assert schemas["success"], schemas["error"]
    ddl = schemas["tables"]["json_invoices"][0]
    assert '"session_id" TEXT' in ddl and '"import_timestamp" TIMESTAMP DEFAULT CURRENT_TIMESTAMP' in ddl
    assert not db_path.exists()  # nothing was run
    assert sync(runner)["success"]
    session, stamp = rows(db_path, "SELECT session_id, import_timestamp FROM json_invoices")[0]
    assert session == data_dir.parent.parent.name
    assert stamp is not None


def test_analysis_reports_schema_changes(runner, make_session) -> None:
    make_session(NOW - timedelta(hours=1), {"invoices": [invoice("1", "2026-06-09T10:00:00-0400", lines=[line("L1", 1.0)]), {"total": 1}]})
    first = runner.analyze_json_files()
    assert first["success"], first["error"]
    entity = first["entities"]["invoices"]
    assert entity["id_field"] == "invoice_id"
    assert entity["records_without_id"] == 1
    assert "json_invoices_line_items" in entity["child_tables"]
    assert {c["change"] for c in first["schema_changes_required"]} == {"new_table"}
    assert sync(runner)["success"]
    assert runner.analyze_json_files()["schema_changes_required"] == []


def test_progress_callback_called_per_batch(workspace: Path, make_session, monkeypatch) -> None:
    monkeypatch.setenv("JSON2DB_BATCH_SIZE", "10")
    make_session(T1, {"contacts": [{"contact_id": str(i)} for i in range(35)]})
    events: list[Any] = []
    result = JSON2DBSyncRunner(progress_callback=events.append).populate_tables()
    assert result["success"], result["error"]
    populate = [e.current for e in events if e.step == "populate"]
    assert populate == [10, 20, 30, 35]


def test_backup_before_population_keeps_last_n(workspace: Path, make_session, db_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("JSON2DB_BACKUP_BEFORE_OPERATIONS", "true")
    monkeypatch.setenv("JSON2DB_BACKUP_KEEP", "2")
    runner = JSON2DBSyncRunner()
    for index, when in enumerate((T1, T2, T3, NOW)):
        make_session(when - timedelta(minutes=1), {"contacts": [{"contact_id": str(index)}]})
        assert runner.populate_tables()["success"]
    backups = runner.list_backups()
    assert len(backups["backups"]) == 2
    restored = runner.restore_backup(backups["backups"][-1]["path"])
    assert restored["success"], restored["error"]
    assert rows(db_path, "SELECT COUNT(*) FROM json_contacts")[0][0] < 4


def test_record_wider_than_sqlite_column_limit_keeps_overflow(runner, make_session, db_path: Path) -> None:
    wide = {"contact_id": "1", **{f"field_{i}": i for i in range(2100)}}
    make_session(T1, {"contacts": [wide]})
    result = sync(runner)
    assert result["success"], result["error"]
    columns = [r[1] for r in rows(db_path, "PRAGMA table_info('json_contacts')")]
    assert len(columns) < 2000 and "_overflow_json" in columns
    stored_columns = [c for c in columns if c.startswith("field_")]
    overflow = json.loads(rows(db_path, "SELECT _overflow_json FROM json_contacts")[0][0])
    assert len(stored_columns) + len(overflow) == 2100
    assert overflow["field_2099"] == 2099


def test_second_writer_waits_when_configured(workspace: Path, make_session, db_path: Path, monkeypatch) -> None:
    import threading

    monkeypatch.setenv("JSON2DB_LOCK_TIMEOUT", "5")
    make_session(T1, {"contacts": [{"contact_id": "1"}]})
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with writer_lock(db_path, operation="holder"):
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    threading.Timer(0.3, release.set).start()
    result = sync(JSON2DBSyncRunner())
    holder.join()
    assert result["success"], result["error"]


def test_corrupt_database_is_database_error(runner, make_session, db_path: Path) -> None:
    make_session(T1, {"contacts": [{"contact_id": "1"}]})
    db_path.write_bytes(b"this is not a database" * 100)
    result = sync(runner)
    assert result["error_type"] == "database_error"
    assert str(db_path) in result["error"] and "backup" in result["error"]
    assert db_path.read_bytes().startswith(b"this is not a database")


# --- regressions from the engine review ------------------------------------------


@pytest.mark.parametrize("batch_size", ["1000", "1"])
def test_repeated_id_in_one_file_applies_in_order(workspace, make_session, db_path, monkeypatch, batch_size) -> None:
    """A detail record followed by its list-form twin in the same file: nothing is lost,
    whatever the batch size."""
    monkeypatch.setenv("JSON2DB_BATCH_SIZE", batch_size)
    detail = invoice("1", lines=[line("L1", 4.0)], notes="detail only")
    listed = {k: v for k, v in invoice("1").items() if k != "billing_address"}
    listed["status"] = "paid"
    make_session(T1, {"invoices": [detail, listed]})
    result = sync(JSON2DBSyncRunner())
    assert result["success"], result["error"]
    assert result["statistics"]["duplicate_ids_in_files"] == 1
    assert rows(db_path, "SELECT status, notes FROM json_invoices") == [("paid", "detail only")]
    assert rows(db_path, "SELECT id FROM json_invoices_line_items") == [("L1",)]


def test_repeat_across_batches_never_beats_newer_stored_data(workspace, make_session, db_path, monkeypatch) -> None:
    make_session(T2, {"invoices": [invoice("1", "2026-07-20T10:00:00+0000", status="paid")]})
    assert sync(JSON2DBSyncRunner())["success"]
    monkeypatch.setenv("JSON2DB_BATCH_SIZE", "2")
    late = [
        invoice("1", "2026-07-01T10:00:00+0000", status="draft"),
        invoice("9"),
        invoice("1", "2026-07-02T10:00:00+0000", status="sent"),
    ]
    make_session(T3, {"invoices": late})
    result = sync(JSON2DBSyncRunner())
    assert result["statistics"]["records_unchanged"] == 2
    assert rows(db_path, "SELECT status FROM json_invoices WHERE id = '1'") == [("paid",)]


def test_column_first_seen_empty_then_numeric(runner, make_session, db_path: Path) -> None:
    make_session(T1, {"items": [{"item_id": "1", "tax_percentage": ""}]})
    assert sync(runner)["success"]
    make_session(T2, {"items": [{"item_id": "2", "tax_percentage": 5}, {"item_id": "3", "tax_percentage": 7.5}]})
    assert sync(runner)["success"]
    assert rows(db_path, "SELECT id, tax_percentage, typeof(tax_percentage) FROM json_items ORDER BY id") == [
        ("1", None, "null"),
        ("2", 5, "integer"),
        ("3", 7.5, "real"),
    ]
    assert rows(db_path, "SELECT AVG(tax_percentage) FROM json_items") == [(6.25,)]


@pytest.mark.parametrize("late_value", ["02134", 2**70], ids=["text", "big-int"])
def test_value_not_fitting_a_numeric_column_is_kept_exactly(runner, make_session, db_path: Path, late_value) -> None:
    make_session(T1, {"contacts": [{"contact_id": "1", "zip": 2134}]})
    assert sync(runner)["success"]
    make_session(T2, {"contacts": [{"contact_id": "2", "zip": late_value}]})
    result = sync(runner)
    assert result["success"], result["error"]
    assert any("json_contacts.zip" in w and "_overflow_json" in w for w in result["warnings"])
    stored = rows(db_path, "SELECT id, zip, _overflow_json FROM json_contacts ORDER BY id")
    assert stored[0][:2] == ("1", 2134)
    assert stored[1][1] is None
    kept = json.loads(stored[1][2], parse_int=str)["zip"]
    assert kept == str(late_value)


def test_skipped_invalid_file_does_not_break_later_files(workspace, make_session, db_path, monkeypatch) -> None:
    monkeypatch.setenv("JSON2DB_ON_INVALID_FILE", "skip")
    monkeypatch.setenv("JSON2DB_BATCH_SIZE", "1")
    make_session(T1, {"bills": [{"bill_id": "1"}, 5]})
    make_session(T2, {"bills": [{"bill_id": "2", "total": 2}]})
    result = sync(JSON2DBSyncRunner())
    assert result["success"], result["error"]
    assert result["statistics"]["files_invalid"] == 1
    assert result["statistics"]["total_records"] == 1
    assert rows(db_path, "SELECT id FROM json_bills") == [("2",)]


def test_table_names_never_collide(runner, make_session, db_path: Path) -> None:
    make_session(T1, {
        "invoices": [invoice("1", lines=[line("L1", 1.0)], LineItems=[{"x": 1}])],
        "invoices_line-items": [{"invoices_line-item_id": "z"}],  # not api_sync's line-item file
    })
    result = sync(runner)
    assert result["success"], result["error"]
    tables = {r[0] for r in rows(db_path, "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'json_%'")}
    assert tables == {"json_invoices", "json_invoices_line_items", "json_invoices_line_items_2", "json_invoices_line_items_3"}


def test_backups_of_another_database_are_left_alone(workspace: Path, db_path: Path) -> None:
    from json2db_sync.database import backup_database, list_backups

    other = db_path.with_name("production-archive.db")
    for path in (db_path, other):
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE t (x)")
    folder = db_path.parent / "backups"
    archive_backup = backup_database(other, folder, keep=5)
    mine = backup_database(db_path, folder, keep=1)
    assert list_backups(db_path, folder) == [mine]
    assert archive_backup.exists()


def test_run_blocked_by_the_lock_writes_nothing(runner, make_session, db_path: Path) -> None:
    make_session(T1, {"contacts": [{"contact_id": "1"}]})
    assert sync(runner)["success"]
    make_session(T2, {"contacts": [{"contact_id": "2"}]})
    with writer_lock(db_path, operation="holder"):
        assert sync(runner)["error_type"] == "database_error"
    assert rows(db_path, "SELECT status FROM _json2db_runs") == [("success",)]


def test_recreate_stops_before_dropping_when_a_file_is_broken(runner, make_session, db_path: Path) -> None:
    make_session(T1, {"invoices": [invoice("1")]})
    assert sync(runner)["success"]
    make_session(T2, {"bills": '[{"bill_id": "1"'})
    result = runner.recreate_json_tables()
    assert result["error_type"] == "file_error" and "bills.json" in result["error"]
    assert rows(db_path, "SELECT id FROM json_invoices") == [("1",)]
    assert rows(db_path, "SELECT COUNT(*) FROM _json2db_files") == [(1,)]


def test_population_after_recreate_reloads_all_history(runner, make_session, db_path: Path) -> None:
    make_session(NOW - timedelta(days=40), {"invoices": [invoice("old")]})
    make_session(T1, {"invoices": [invoice("new")]})
    assert sync(runner, cutoff_days=90)["success"]
    assert runner.recreate_json_tables()["success"]
    reloaded = sync(runner, cutoff_days=1)  # a nightly run right after the recreation
    assert reloaded["success"], reloaded["error"]
    assert any("recreated" in note for note in reloaded["notes"])
    assert not any("recreated" in w for w in reloaded["warnings"])
    assert rows(db_path, "SELECT id FROM json_invoices ORDER BY id") == [("new",), ("old",)]
    make_session(NOW - timedelta(days=50), {"invoices": [invoice("older")]})
    assert sync(runner, cutoff_days=1)["statistics"]["files_loaded"] == 0  # the cutoff applies again


def test_quarantined_records_are_a_warning(runner, make_session) -> None:
    make_session(T1, {"invoices": [invoice("1"), {"total": 1}]})
    result = sync(runner)
    assert result["success"]
    assert any("invoices: 1 record(s)" in w and "_json2db_rejected" in w for w in result["warnings"])


def test_identical_files_of_two_entities_both_load(runner, make_session, db_path: Path) -> None:
    make_session(T1, {"bills": [], "estimates": []})
    result = sync(runner)
    assert result["statistics"]["files_loaded"] == 2
    assert {r[0] for r in rows(db_path, "SELECT name FROM sqlite_master WHERE name IN ('json_bills', 'json_estimates')")} == {"json_bills", "json_estimates"}


def test_workflow_checks_what_it_wrote_and_verify_checks_everything(runner, make_session, db_path: Path) -> None:
    make_session(T1, {"invoices": [invoice("1", lines=[line("L1", 1.0)])]})
    assert sync(runner)["success"]
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE json_invoices_line_items SET quantity = -5")
    make_session(T2, {"invoices": [invoice("2", lines=[line("L2", 2.0)])]})
    result = sync(runner)
    checks = {c["name"]: c for c in result["steps"]["verification"]["checks"]}
    assert checks["numeric_values"]["status"] == "ok"  # row 1 was not written by this run
    full = {c["name"]: c for c in runner.verify_tables()["checks"]}
    assert full["numeric_values"]["status"] == "warning"
    assert full["numeric_values"]["count"] == 1
    bad = line("L3", 3.0)
    bad["quantity"] = -1
    make_session(T3, {"invoices": [invoice("3", lines=[bad])]})
    checks = {c["name"]: c for c in sync(runner)["steps"]["verification"]["checks"]}
    assert checks["numeric_values"]["status"] == "warning" and checks["numeric_values"]["count"] == 1


def test_entity_filter_naming_nothing_found_is_a_config_error(runner, make_session) -> None:
    make_session(T1, {"invoices": [invoice("1")]})
    result = runner.populate_tables(entity_filter=["invoice"])
    assert result["error_type"] == "config_error"
    assert "invoice" in result["error"] and "invoices" in result["error"]
    partly = runner.populate_tables(entity_filter=["invoices", "bogus"])
    assert partly["success"] and any("bogus" in w for w in partly["warnings"])


def test_verification_findings_reach_the_top_level_warnings(runner, make_session) -> None:
    bad = invoice("1", lines=[line("L1", 10.0)])
    bad["sub_total"] = 100
    make_session(T1, {"invoices": [bad]})
    result = sync(runner)
    assert result["success"]
    assert any(w.startswith("verification: document_arithmetic") for w in result["warnings"])


@pytest.mark.parametrize("cutoff", [0, -1, True, "7"])
def test_bad_cutoff_is_a_config_error(runner, make_session, cutoff) -> None:
    make_session(T1, {"invoices": [invoice("1")]})
    result = runner.populate_tables(cutoff_days=cutoff)
    assert result["error_type"] == "config_error" and "cutoff_days" in result["error"]


def test_huge_runs_stop_tracking_ids() -> None:
    """Memory must not grow with the input: past max_tracked_ids a run keeps no ids (the
    verification then checks whole tables, see test_verifier's source-count tests)."""
    from json2db_sync.load_stats import LoadStats

    stats = LoadStats(max_tracked_ids=10)
    stats.track_file("a.json", {"1", "2", "3"})
    stats.track("json_contacts", ["1", "2", "3"])
    assert stats.loaded_ids == {"a.json": {"1", "2", "3"}} and stats.written_ids == {"json_contacts": {"1", "2", "3"}}
    stats.track("json_contacts", ["4", "5", "6", "7", "8", "9"])
    assert (stats.loaded_ids, stats.written_ids) == (None, None)
    stats.track("json_contacts", ["10"])  # stays off
    assert stats.written_ids is None


def test_overflow_value_is_dropped_once_the_column_holds_a_number_again(runner, make_session, db_path: Path) -> None:
    make_session(T1, {"items": [{"item_id": "1", "rate": 1.5, "last_modified_time": "2026-06-01T00:00:00+0000"}]})
    make_session(T2, {"items": [{"item_id": "1", "rate": "unset-text", "last_modified_time": "2026-06-02T00:00:00+0000"}]})
    assert sync(runner)["success"]
    assert json.loads(rows(db_path, "SELECT _overflow_json FROM json_items")[0][0]) == {"rate": "unset-text"}
    make_session(T3, {"items": [{"item_id": "1", "rate": 2.0, "last_modified_time": "2026-06-03T00:00:00+0000"}]})
    assert sync(runner)["success"]
    rate, overflow = rows(db_path, "SELECT rate, _overflow_json FROM json_items")[0]
    assert rate == 2.0 and json.loads(overflow) == {}


def test_filtered_run_after_recreate_keeps_the_reload_pending(runner, make_session, db_path: Path) -> None:
    make_session(NOW - timedelta(days=40), {"invoices": [invoice("1")], "bills": [{"bill_id": "1"}]})
    make_session(T3, {"invoices": [invoice("2")], "bills": [{"bill_id": "2"}]})
    assert sync(runner, cutoff_days=365)["success"]
    assert runner.recreate_json_tables()["success"]
    assert runner.populate_tables(entity_filter=["invoices"])["success"]
    assert sync(runner)["success"]  # unfiltered: still reloads everything
    assert rows(db_path, "SELECT id FROM json_bills ORDER BY id") == [("1",), ("2",)]
    assert rows(db_path, "SELECT id FROM json_invoices ORDER BY id") == [("1",), ("2",)]


def test_entity_known_but_outside_the_cutoff_is_a_warning(runner, make_session) -> None:
    make_session(NOW - timedelta(days=5), {"bills": [{"bill_id": "1"}]})
    make_session(T3, {"invoices": [invoice("2")]})
    result = runner.populate_tables(cutoff_days=2, entity_filter=["bills"])
    assert result["success"], result["error"]
    assert any("no data within the cutoff: bills" in w for w in result["warnings"])


def test_postgres_without_psycopg_names_the_extra_to_install(workspace: Path, make_session) -> None:
    """A fresh interpreter where psycopg cannot be imported (as on a SQLite-only install)."""
    import subprocess
    import sys

    make_session(datetime(2026, 6, 1, 9), {"invoices": [invoice("1")]})
    code = (
        "import sys, json; sys.modules['psycopg'] = None\n"
        "from json2db_sync import JSON2DBSyncRunner\n"
        "r = JSON2DBSyncRunner(db_url='postgresql://sync:pw@127.0.0.1:1/books')\n"
        "print(json.dumps([r.destination(), r.populate_tables(cutoff_days=36500)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    destination, result = json.loads(out)

    assert destination["kind"] == "postgresql"
    assert destination["db_path"] == "postgresql://sync:***@127.0.0.1:1/books (schema public)"
    assert result["success"] is False and result["error_type"] == "config_error"
    assert "pip install 'json2db_sync[postgres]'" in result["error"]
    assert "pw@" not in out


def test_a_run_refused_while_the_holder_writes_its_note_still_names_it(tmp_path: Path) -> None:
    """The holder writes who it is just after taking the lock; a run refused in between
    used to name 'process ? on ?' (found by the engine matrix starting two runs at once)."""
    import fcntl
    import threading
    import time

    from json2db_sync.database import lock_path_for
    from json2db_sync.errors import LockHeldError

    db = tmp_path / "x.db"
    fd = os.open(lock_path_for(db), os.O_RDWR | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # held, its note not written yet
        note = json.dumps({"pid": 4242, "host": "books-host", "started_at": "now", "operation": "populate_tables"})
        writer = threading.Thread(target=lambda: (time.sleep(0.1), os.pwrite(fd, note.encode(), 0)))
        writer.start()
        with pytest.raises(LockHeldError, match="process 4242 on books-host"):
            with writer_lock(db, operation="full_sync_workflow"):
                pass
        writer.join()
    finally:
        os.close(fd)
