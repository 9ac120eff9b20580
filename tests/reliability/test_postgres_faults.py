"""Faults only PostgreSQL has: text that cannot hold NUL, views built on our tables, another
session holding a table lock. Each run fails with a message naming the cause and what to
do, and leaves the schema exactly as it was."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from json2db_sync import JSON2DBSyncRunner

# Sessions within the default 30-day cutoff.
T1 = (datetime.now() - timedelta(days=2)).replace(microsecond=0)
T2 = (datetime.now() - timedelta(days=1)).replace(microsecond=0)


def invoice(invoice_id: str, notes: str = "ok", total: float = 10.5) -> dict[str, Any]:
    return {
        "invoice_id": invoice_id,
        "customer_id": "c1",
        "date": "2026-06-09",
        "total": total,
        "notes": notes,
        "last_modified_time": "2026-06-09T10:00:00-0400",
        "line_items": [{"line_item_id": f"{invoice_id}-1", "item_total": total}],
    }


@pytest.fixture
def runner(pg_url: str, pg_schema: str, workspace: Path) -> JSON2DBSyncRunner:
    return JSON2DBSyncRunner(db_url=pg_url, db_schema=pg_schema)


def state(pg_query) -> list[Any]:
    return [
        pg_query("SELECT id, notes, total FROM json_invoices ORDER BY id"),
        pg_query("SELECT parent_id, position FROM json_invoices_line_items ORDER BY 1, 2"),
        pg_query("SELECT path FROM _json2db_files ORDER BY path"),
    ]


def test_nul_in_a_value_fails_the_run_naming_the_file_and_writes_nothing(runner, make_session, pg_query) -> None:
    make_session(T1, {"invoices": [invoice("1")]})
    assert runner.full_sync_workflow()["success"]
    before = state(pg_query)
    bad = make_session(T2, {"invoices": [invoice("2"), invoice("3", notes="a\u0000b")]})

    result = runner.populate_tables()

    assert result["success"] is False and result["error_type"] == "database_error"
    assert str(bad / "invoices.json") in result["error"]
    assert "NUL" in result["error"] and "remove it from the source data" in result["error"]
    assert state(pg_query) == before  # invoice 2, from the same file, did not land either


def test_a_view_on_a_json_table_stops_recreation_and_every_table_stays(runner, make_session, pg_query) -> None:
    make_session(T1, {"invoices": [invoice("1")]})
    assert runner.full_sync_workflow()["success"]
    pg_query("CREATE VIEW open_invoices AS SELECT id, total FROM json_invoices")
    before = state(pg_query)

    result = runner.recreate_json_tables()

    assert result["success"] is False and result["error_type"] == "database_error"
    assert "view open_invoices depends on table json_invoices" in result["error"]
    assert "drop or change them first" in result["error"]
    assert state(pg_query) == before
    assert pg_query("SELECT COUNT(*) FROM open_invoices") == [(1,)]


def test_another_session_locking_a_table_times_out_with_advice(
    runner, make_session, pg_url: str, pg_schema: str, pg_query
) -> None:
    make_session(T1, {"invoices": [invoice("1")]})
    assert runner.full_sync_workflow()["success"]
    make_session(T2, {"invoices": [invoice("1", notes="changed"), invoice("2")]})
    before = state(pg_query)
    holding = threading.Event()
    release = threading.Event()

    def hold_lock() -> None:
        with psycopg.connect(pg_url) as conn:  # a transaction, as a long report would hold
            conn.execute(f'LOCK TABLE "{pg_schema}".json_invoices IN ACCESS EXCLUSIVE MODE')
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert holding.wait(10)
        result = runner.populate_tables()
    finally:
        release.set()
        holder.join()

    assert result["success"] is False and result["error_type"] == "database_error"
    assert "lock timeout" in result["error"] and "JSON2DB_LOCK_TIMEOUT" in result["error"]
    assert state(pg_query) == before
    assert runner.populate_tables()["success"]  # once the other session is done
    assert pg_query("SELECT id, notes FROM json_invoices ORDER BY id") == [("1", "changed"), ("2", "ok")]


def test_a_role_that_owns_its_schema_needs_no_create_right_on_the_database(
    pg_url: str, pg_schema: str, workspace: Path, make_session, pg_query
) -> None:
    """Least privilege: CREATE SCHEMA is only tried when the schema is missing (PUBLIC has
    no CREATE right on a database by default, so the role could not create one)."""
    import uuid

    role = f"j2d_owner_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f'CREATE SCHEMA "{pg_schema}" AUTHORIZATION "{role}"')
    try:
        url = pg_url.replace("://", f"://{role}@", 1) if "@" not in pg_url else (
            pg_url.split("://", 1)[0] + f"://{role}@" + pg_url.split("@", 1)[1]
        )
        make_session(T1, {"invoices": [invoice("1")]})
        result = JSON2DBSyncRunner(db_url=url, db_schema=pg_schema).full_sync_workflow()
        assert result["success"], result["error"]
        assert pg_query("SELECT id FROM json_invoices") == [("1",)]
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{pg_schema}" CASCADE')
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE "{role}"')


def test_losing_the_lock_connection_ends_the_run_with_nothing_written(
    runner, make_session, pg_url: str, pg_schema: str, pg_query
) -> None:
    """The run writes through the connection that holds the writer lock: when the server
    drops it (idle timeout, network, an administrator), the run's transaction goes with it,
    so no second writer can ever work beside it."""
    make_session(T1, {"invoices": [invoice("1")]})
    assert runner.full_sync_workflow()["success"]
    before = state(pg_query)
    make_session(T2, {"invoices": [invoice(str(n)) for n in range(2, 40)]})

    from json2db_sync.destinations.postgres import PostgresDestination

    key = PostgresDestination(pg_url, pg_schema).lock_key()  # this schema's lock, no other run's

    def drop_the_lock_holder(event: Any) -> None:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(l.pid) FROM pg_locks AS l WHERE l.locktype = 'advisory' "
                "AND l.granted AND l.classid::bigint = %s AND l.objid::bigint = %s",
                key,
            )

    runner.progress = drop_the_lock_holder
    result = runner.populate_tables()

    assert result["success"] is False and result["error_type"] == "database_error"
    assert state(pg_query) == before
    runner.progress = lambda event: None
    assert runner.populate_tables()["success"]
    assert len(pg_query("SELECT id FROM json_invoices")) == 39


def test_verifying_a_schema_that_does_not_exist_is_an_error(pg_url: str, workspace: Path) -> None:
    runner = JSON2DBSyncRunner(db_url=pg_url, db_schema="no_such_schema_for_json2db")
    for result in (runner.verify_tables(), runner.generate_summary_report()):
        assert result["success"] is False and result["error_type"] == "database_error"
        assert "schema no_such_schema_for_json2db does not exist" in result["error"]
        assert "JSON2DB_DATABASE_SCHEMA" in result["error"]


@pytest.mark.skipif(not __import__("shutil").which("pg_dump"), reason="pg_dump is not on PATH")
def test_backup_of_a_mixed_case_schema_dumps_exactly_that_schema(pg_url: str, workspace: Path, make_session) -> None:
    import subprocess
    import uuid

    schema = f"Zoho.Books_{uuid.uuid4().hex[:6]}"
    runner = JSON2DBSyncRunner(db_url=pg_url, db_schema=schema)
    try:
        make_session(T1, {"invoices": [invoice("1")]})
        assert runner.full_sync_workflow()["success"]
        backup = runner.create_backup()
        assert backup["success"], backup["error"]
        listing = subprocess.run(["pg_restore", "--list", backup["backup_path"]], capture_output=True, text=True, check=True)
        assert f"TABLE {schema} json_invoices" in listing.stdout.replace('"', "")
        assert [b["path"] for b in runner.list_backups()["backups"]] == [backup["backup_path"]]
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_a_password_in_the_query_string_never_shows(pg_url: str, workspace: Path) -> None:
    runner = JSON2DBSyncRunner(db_url="postgresql://127.0.0.1:1/books?user=bob&password=S3cretPW")
    destination = runner.destination()
    failed = runner.populate_tables()
    assert "password=***" in destination["db_path"]
    assert failed["success"] is False
    assert "S3cretPW" not in repr(destination) + repr(failed)


def test_runs_starting_together_on_a_new_schema_never_trip_over_its_creation(
    pg_url: str, workspace: Path, make_session
) -> None:
    """Both runs see the schema missing and create it: CREATE SCHEMA IF NOT EXISTS is not
    safe against that (found by CI: 'duplicate key value violates unique constraint
    pg_namespace_nspname_index'). Whoever loses must find the schema there and go on."""
    import uuid

    make_session(T1, {"invoices": [invoice("1")]})
    for _ in range(8):
        schema = f"race_{uuid.uuid4().hex[:10]}"
        results: list[dict[str, Any]] = []

        def run(results: list[dict[str, Any]] = results, schema: str = schema) -> None:
            results.append(JSON2DBSyncRunner(db_url=pg_url, db_schema=schema).populate_tables())

        threads = [threading.Thread(target=run) for _ in range(3)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            with psycopg.connect(pg_url, autocommit=True) as admin:
                admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        assert any(r["success"] for r in results)
        for failed in (r for r in results if not r["success"]):
            assert "is busy" in failed["error"], failed["error"]
