"""The cases of issue 21 one by one ("the nightly job never loses a session"); the year they
happen in together is tests/test_nightly_year.py.

Catch-up and settled sessions run on both engines (the ``backend`` fixture); the others
on SQLite.
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Backend, write_session
from test_cli import run_cli

from json2db_sync import JSON2DBSyncRunner
from json2db_sync.destinations.sqlite import open_connection
from json2db_sync.ledger import read_ledger_view
from json2db_sync.sources import LedgerView, discover

FMT = "%Y-%m-%d_%H-%M-%S"
NIGHT = datetime(2026, 3, 10, 2, 0, 0)


def night(n: int) -> datetime:
    return NIGHT + timedelta(days=n)


def nightly_session(sessions: Path, n: int, balance: float | None = None) -> Path:
    """Night n's session at 01:50, its files and folders dated then."""
    at = night(n) - timedelta(minutes=10)
    folder = write_session(
        sessions,
        at,
        {
            "invoices": [{"invoice_id": f"i{n}", "total": float(n), "last_modified_time": at.strftime("%Y-%m-%dT%H:%M:%S+0000")}],
            "bankaccounts": [{"account_id": "ba1", "balance": float(n if balance is None else balance)}],
        },
    )
    age(folder.parent.parent, at)
    return folder


def age(session: Path, moment: datetime) -> None:
    """Every file and folder of a session modified at ``moment``."""
    epoch = moment.timestamp()
    for path in sorted(session.rglob("*"), key=lambda p: -len(p.parts)):
        os.utime(path, (epoch, epoch))
    os.utime(session, (epoch, epoch))


def values(backend: Backend, sql: str) -> list[Any]:
    return [row[0] for row in backend.query(sql)]


# --- catch-up and settled sessions, on both engines -----------------------------------------


def test_a_skipped_night_is_loaded_by_the_next_one_whatever_the_cutoff(backend: Backend, sessions_dir: Path) -> None:
    clock = {"now": night(0)}
    runner = JSON2DBSyncRunner(**backend.runner_kwargs, clock=lambda: clock["now"])
    nightly_session(sessions_dir, 0)
    assert runner.full_sync_workflow(cutoff_days=1)["success"]
    # nights 1 and 2 do not run (a failed night, a machine switched off)
    for n in (1, 2, 3):
        nightly_session(sessions_dir, n)
    clock["now"] = night(3)
    result = runner.full_sync_workflow(cutoff_days=1)
    assert result["success"], result["error"]
    assert result["statistics"]["folders_caught_up"] == 2  # nights 1 and 2 (one folder each)
    assert any("older than the cutoff that the ledger did not hold" in w for w in result["notes"])
    assert sorted(values(backend, "SELECT id FROM json_invoices")) == ["i0", "i1", "i2", "i3"]
    assert values(backend, "SELECT balance FROM json_bankaccounts") == [3.0]


def test_settled_sessions_are_not_listed_and_a_late_folder_reopens_one(backend: Backend, sessions_dir: Path) -> None:
    clock = {"now": night(0)}
    runner = JSON2DBSyncRunner(**backend.runner_kwargs, clock=lambda: clock["now"])
    for n in range(5):
        nightly_session(sessions_dir, n)
    clock["now"] = night(4)
    assert runner.full_sync_workflow(cutoff_days=30)["success"]
    settled = values(backend, "SELECT path FROM _json2db_folders ORDER BY path")
    assert len(settled) == 4  # night 4's session was written 10 minutes ago: not settled yet

    # a folder appears in night 1's session, stamped before that night's run
    late = night(1) - timedelta(minutes=2)
    session = sessions_dir / f"sync_session_{(night(1) - timedelta(minutes=10)).strftime(FMT)}"
    (session / "raw_json" / late.strftime(FMT)).mkdir()
    (session / "raw_json" / late.strftime(FMT) / "currencies.json").write_text(
        json.dumps([{"currency_id": "gbp", "exchange_rate": 1.31}])
    )
    clock["now"] = night(5)
    nightly_session(sessions_dir, 5)
    kwargs = {"db_path": backend.db_path} if backend.kind == "sqlite" else None
    if kwargs is not None:
        with open_connection(backend.db_path, readonly=True) as conn:
            ledger = read_ledger_view(conn)
        found = discover(sessions_dir, cutoff_days=1, now=night(5), ledger=ledger)
        assert found.pruned == 3  # nights 0, 2 and 3: not even listed
        # listed again: night 1 (its raw_json changed) and night 4 (not settled when loaded)
        assert [d.path.name for d in found.caught_up] == [
            (night(1) - timedelta(minutes=10)).strftime(FMT), late.strftime(FMT), (night(4) - timedelta(minutes=10)).strftime(FMT)
        ]
    result = runner.full_sync_workflow(cutoff_days=1)
    assert result["success"], result["error"]
    assert values(backend, "SELECT exchange_rate FROM json_currencies") == [1.31]
    assert result["statistics"]["folders_caught_up"] == 1


def test_after_a_restore_the_next_sync_loads_what_the_backup_lacks(workspace: Path, sessions_dir: Path, db_path: Path) -> None:
    clock = {"now": night(0)}
    runner = JSON2DBSyncRunner(clock=lambda: clock["now"])
    nightly_session(sessions_dir, 0)
    assert runner.full_sync_workflow(cutoff_days=1)["success"]
    backup = runner.create_backup()["backup_path"]
    for n in range(1, 6):
        nightly_session(sessions_dir, n)
        clock["now"] = night(n)
        assert runner.full_sync_workflow(cutoff_days=1)["success"]
    restored = runner.restore_backup(backup)
    assert restored["success"], restored["error"]
    assert rows(db_path, "SELECT balance FROM json_bankaccounts") == [(0.0,)]
    nightly_session(sessions_dir, 6)
    clock["now"] = night(6)
    result = runner.full_sync_workflow(cutoff_days=1)
    assert result["success"], result["error"]
    assert any("restored from a backup" in w for w in result["notes"])
    assert rows(db_path, "SELECT id FROM json_invoices ORDER BY id") == [(f"i{n}",) for n in range(7)]
    assert rows(db_path, "SELECT balance FROM json_bankaccounts") == [(6.0,)]


def test_a_backup_with_an_empty_ledger_is_caught_up_from_the_replaced_database(
    workspace: Path, sessions_dir: Path, db_path: Path
) -> None:
    clock = {"now": night(0)}
    runner = JSON2DBSyncRunner(clock=lambda: clock["now"])
    nightly_session(sessions_dir, 0)
    # a backup of a database that holds no load yet
    assert runner.recreate_json_tables()["success"]
    empty = runner.create_backup()["backup_path"]
    for n in range(0, 4):
        nightly_session(sessions_dir, n)
        clock["now"] = night(n)
        assert runner.full_sync_workflow(cutoff_days=1)["success"]
    assert runner.restore_backup(empty)["success"]
    result = runner.full_sync_workflow(cutoff_days=1)
    assert result["success"], result["error"]
    assert rows(db_path, "SELECT id FROM json_invoices ORDER BY id") == [(f"i{n}",) for n in range(4)]


# --- restore and the writer lock --------------------------------------------------------------


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_restore_latest_never_picks_the_copy_a_restore_took(workspace: Path, sessions_dir: Path, db_path: Path) -> None:
    cwd = workspace / "json2db_sync"
    nightly_session(sessions_dir, 0, balance=1.0)
    assert run_cli(cwd, "sync", "--cutoff-days", "36500").code == 0
    assert run_cli(cwd, "backup").code == 0  # the backup holds balance 1
    nightly_session(sessions_dir, 1, balance=2.0)
    assert run_cli(cwd, "sync", "--cutoff-days", "36500").code == 0
    assert rows(db_path, "SELECT balance FROM json_bankaccounts") == [(2.0,)]

    first = run_cli(cwd, "--json", "restore", "latest", "--yes")
    assert first.code == 0, first.err
    assert "before-restore" in first.json["previous_state_backup"]
    assert rows(db_path, "SELECT balance FROM json_bankaccounts") == [(1.0,)]
    second = run_cli(cwd, "--json", "restore", "latest", "--yes")
    assert second.code == 0, second.err
    assert second.json["restored_from"] == first.json["restored_from"]
    assert rows(db_path, "SELECT balance FROM json_bankaccounts") == [(1.0,)]  # not undone

    listing = run_cli(cwd, "--json", "backup", "--list").json["backups"]
    assert sorted(b["safety_copy"] for b in listing) == [False, True, True]


class _RestoreDuringReport(JSON2DBSyncRunner):
    """A runner that, at its report (the last step of a sync, after the verification),
    has another runner try a restore: the sync must still hold the writer lock."""

    backup: str = ""
    attempt: dict[str, Any] | None = None

    def generate_summary_report(self, db_path: Any = None) -> dict[str, Any]:
        if self.backup and self.attempt is None:
            self.attempt = JSON2DBSyncRunner().restore_backup(self.backup)
        return super().generate_summary_report(db_path)


def test_a_restore_cannot_run_while_a_sync_verifies(workspace: Path, sessions_dir: Path, db_path: Path) -> None:
    nightly_session(sessions_dir, 0)
    first = JSON2DBSyncRunner()
    assert first.full_sync_workflow(cutoff_days=36500)["success"]
    runner = _RestoreDuringReport()
    runner.backup = first.create_backup()["backup_path"]
    nightly_session(sessions_dir, 1)
    result = runner.full_sync_workflow(cutoff_days=36500)
    assert result["success"], result["error"]
    assert runner.attempt is not None and not runner.attempt["success"]
    assert "busy" in runner.attempt["error"]
    assert rows(db_path, "SELECT id FROM json_invoices ORDER BY id") == [("i0",), ("i1",)]


# --- incomplete exports, entities and child ids ---------------------------------------------


def envelope(records: list[dict[str, Any]], **page: Any) -> dict[str, Any]:
    return {"code": 0, "message": "success", "invoices": records, "page_context": {"page": 1, **page}}


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize(
    ("page", "reason"),
    [({"has_more_page": True}, "has_more_page is true"), ({"has_more_page": False, "total": 5000}, "announces 5000")],
    ids=["has_more_page", "total"],
)
def test_an_incomplete_export_is_loaded_with_a_warning_and_counted(
    make_session, db_path: Path, monkeypatch: pytest.MonkeyPatch, streamed: bool, page: dict[str, Any], reason: str
) -> None:
    count = 1300 if streamed else 3
    records = [{"invoice_id": f"i{k}", "total": float(k), "padding": "x" * 400} for k in range(count)]
    make_session(datetime.now() - timedelta(hours=1), {"invoices": envelope(records, **page)})
    if streamed:
        monkeypatch.setenv("JSON2DB_MEMORY_LIMIT", "1")
    result = JSON2DBSyncRunner().full_sync_workflow()
    assert result["success"], result["error"]
    assert result["statistics"]["incomplete_exports"] == 1
    assert any(reason in w and "invoices.json" in w for w in result["warnings"])
    assert rows(db_path, "SELECT COUNT(*) FROM json_invoices") == [(count,)]


def test_a_complete_export_gives_no_warning(make_session) -> None:
    make_session(datetime.now() - timedelta(hours=1), {"invoices": envelope([{"invoice_id": "1"}], has_more_page=False, total=1)})
    result = JSON2DBSyncRunner().full_sync_workflow()
    assert result["success"], result["error"]
    assert result["statistics"]["incomplete_exports"] == 0


@pytest.mark.parametrize(
    ("entity", "id_field"),
    [
        ("vendorcredits", "vendor_credit_id"),
        ("recurringinvoices", "recurring_invoice_id"),
        ("recurringbills", "recurring_bill_id"),
        ("retainerinvoices", "retainerinvoice_id"),
        ("timeentries", "time_entry_id"),
        ("projects", "project_id"),
    ],
)
def test_zoho_entities_with_compound_names_load_by_their_own_id(make_session, db_path: Path, entity: str, id_field: str) -> None:
    make_session(datetime.now() - timedelta(hours=1), {entity: [{id_field: "a1", "total": 1.0}, {id_field: "a2"}]})
    result = JSON2DBSyncRunner().full_sync_workflow()
    assert result["success"], result["error"]
    assert rows(db_path, f"SELECT id FROM json_{entity} ORDER BY id") == [("a1",), ("a2",)]
    assert rows(db_path, "SELECT COUNT(*) FROM _json2db_rejected") == [(0,)]


def test_an_unknown_entity_without_any_id_fails_the_run_loudly(make_session, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JSON2DB_ON_INVALID_FILE", "skip")
    make_session(
        datetime.now() - timedelta(hours=1),
        {"invoices": [{"invoice_id": "1"}], "gizmos": [{"gizmo_ref": "g1", "name": "a"}, {"gizmo_ref": "g2"}]},
    )
    result = JSON2DBSyncRunner().full_sync_workflow()
    assert not result["success"]
    assert result["error_type"] == "config_error"
    assert "gizmos.json" in result["error"] and "gizmo_id" in result["error"] and "primary_keys" in result["error"]
    assert not db_path.exists() or "json_gizmos" not in {r[0] for r in rows(db_path, "SELECT name FROM sqlite_master")}
    config = db_path.parent / "config.json"
    config.write_text(json.dumps({"processing": {"primary_keys": {"gizmos": "gizmo_ref"}}}))
    again = JSON2DBSyncRunner(config_file=config).full_sync_workflow()
    assert again["success"], again["error"]
    assert rows(db_path, "SELECT id FROM json_gizmos ORDER BY id") == [("g1",), ("g2",)]


def test_a_credit_note_applied_twice_to_one_invoice_is_two_rows_not_a_duplicate(make_session, db_path: Path) -> None:
    make_session(
        datetime.now() - timedelta(hours=1),
        {
            "creditnotes": [{
                "creditnote_id": "cn1",
                "invoices": [
                    {"creditnote_invoice_id": "a1", "invoice_id": "inv1", "amount_applied": 10.0},
                    {"creditnote_invoice_id": "a2", "invoice_id": "inv1", "amount_applied": 20.0},
                ],
            }],
            "customerpayments": [{
                "payment_id": "p1",
                "invoices": [
                    {"invoice_payment_id": "ip1", "invoice_id": "inv1", "amount_applied": 5.0},
                    {"invoice_payment_id": "ip2", "invoice_id": "inv1", "amount_applied": 6.0},
                ],
            }],
            "bills": [{"bill_id": "b1", "taxes": [{"tax_id": "t1", "tax_amount": 1.0}, {"tax_id": "t1", "tax_amount": 2.0}]}],
        },
    )
    result = JSON2DBSyncRunner().full_sync_workflow()
    assert result["success"], result["error"]
    assert rows(db_path, "SELECT id, invoice_id FROM json_creditnotes_invoices ORDER BY id") == [("a1", "inv1"), ("a2", "inv1")]
    assert rows(db_path, "SELECT id FROM json_customerpayments_invoices ORDER BY id") == [("ip1",), ("ip2",)]
    # tax_id names a tax (a reference): the elements are told apart by their position
    assert rows(db_path, "SELECT id FROM json_bills_taxes ORDER BY id") == [("b1#0",), ("b1#1",)]


# --- the ledger's identity of a file --------------------------------------------------------


def test_a_file_rewritten_in_place_keeping_size_and_mtime_is_loaded_again(make_session, db_path: Path) -> None:
    folder = make_session(datetime.now() - timedelta(hours=1), {"bankaccounts": [{"account_id": "ba1", "account_name": "Main"}]})
    assert JSON2DBSyncRunner().full_sync_workflow()["success"]
    target = folder / "bankaccounts.json"
    before = target.stat()
    target.write_text(target.read_text().replace("Main", "Mair"))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (target.stat().st_size, target.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    result = JSON2DBSyncRunner().full_sync_workflow()
    assert result["success"], result["error"]
    assert result["statistics"]["files_loaded"] == 1
    assert rows(db_path, "SELECT account_name FROM json_bankaccounts") == [("Mair",)]


def test_a_file_whose_stat_changed_but_not_its_bytes_is_hashed_once(make_session, db_path: Path) -> None:
    folder = make_session(datetime.now() - timedelta(hours=1), {"bankaccounts": [{"account_id": "ba1"}]})
    assert JSON2DBSyncRunner().full_sync_workflow()["success"]
    os.chmod(folder / "bankaccounts.json", 0o640)  # changes ctime, not the bytes
    first = JSON2DBSyncRunner().full_sync_workflow()
    assert (first["statistics"]["files_loaded"], first["statistics"]["files_skipped"]) == (0, 1)
    ctime = (folder / "bankaccounts.json").stat().st_ctime_ns
    assert rows(db_path, "SELECT ctime_ns FROM _json2db_files") == [(ctime,)]


def test_no_ledger_view_means_the_plain_cutoff(sessions_dir: Path) -> None:
    for n in range(3):
        nightly_session(sessions_dir, n)
    found = discover(sessions_dir, cutoff_days=1, now=night(2), ledger=LedgerView())
    # night 1's session (01:50) is ten minutes older than the window: without a ledger, out
    assert (found.excluded_by_cutoff, found.pruned, found.caught_up) == (2, 0, [])
    assert [d.timestamp for d in found.dirs] == [night(2) - timedelta(minutes=10)]


def test_a_consolidated_folder_prunes_settled_timestamp_folders_and_catches_up(tmp_path: Path) -> None:
    """The same rules where api_sync writes raw_json/<timestamp>/ without sessions: each
    timestamp folder is a unit of its own."""
    raw = tmp_path / "raw_json"
    for n in range(6):
        at = night(n) - timedelta(minutes=10)
        folder = raw / at.strftime(FMT)
        folder.mkdir(parents=True)
        (folder / "currencies.json").write_text(json.dumps([{"currency_id": "eur", "exchange_rate": 1.0 + n / 100}]))
        age(folder, at)
    db = tmp_path / "c.db"
    clock = {"now": night(3)}
    runner = JSON2DBSyncRunner(db_path=db, data_source=raw, clock=lambda: clock["now"])
    # nights 0-3 loaded (night 4 and 5 are not written yet for this run: hide them)
    hidden = [raw / (night(n) - timedelta(minutes=10)).strftime(FMT) for n in (4, 5)]
    for folder in hidden:
        folder.rename(folder.with_name("." + folder.name))
    assert runner.full_sync_workflow(cutoff_days=30)["success"]
    for folder in hidden:
        folder.with_name("." + folder.name).rename(folder)
    with open_connection(db, readonly=True) as conn:
        ledger = read_ledger_view(conn)
    found = discover(raw, cutoff_days=1, now=night(5), ledger=ledger)
    assert found.pruned == 3  # nights 0-2 settled; night 3 was ten minutes old when loaded
    assert [d.timestamp for d in found.caught_up] == [night(n) - timedelta(minutes=10) for n in (3, 4)]
    clock["now"] = night(5)
    result = runner.full_sync_workflow(cutoff_days=1)
    assert result["success"], result["error"]
    assert result["statistics"]["folders_caught_up"] == 1  # night 4, which no run had seen
    assert rows(db, "SELECT exchange_rate FROM json_currencies") == [(1.05,)]


@pytest.mark.parametrize(
    "name",
    ["2026-03-10_01-50-00", "2024-02-29_23-59-59", "2025-02-29_01-00-00", "2026-13-01_00-00-00",
     "2026-03-10_24-00-00", "2026-03-10-01-50-00", "2026-03-10_1-50-000", "abcd-ef-gh_ij-kl-mn", "2026-03-10_01-50-0"],
)
def test_folder_names_parse_as_strptime_reads_them(name: str) -> None:
    from json2db_sync.sources import TIMESTAMP_FORMAT, parse_timestamp

    try:
        expected = datetime.strptime(name, TIMESTAMP_FORMAT) if len(name) == 19 else None
    except ValueError:
        expected = None
    assert parse_timestamp(name) == expected


def test_an_old_folder_loaded_from_elsewhere_does_not_widen_the_catch_up(
    workspace: Path, sessions_dir: Path, db_path: Path
) -> None:
    """The horizon is the oldest folder loaded from the places the run reads: a one-off load
    of an old export from another folder must not make the nightly job load the configured
    source's old history, which the first load's cutoff left out on purpose."""
    for n in range(6):
        nightly_session(sessions_dir, n)
    other = workspace / "old_export" / "raw_json" / (night(-30)).strftime(FMT)
    other.mkdir(parents=True)
    (other / "currencies.json").write_text(json.dumps([{"currency_id": "usd", "exchange_rate": 1.0}]))
    clock = {"now": night(5)}
    runner = JSON2DBSyncRunner(clock=lambda: clock["now"])
    assert runner.full_sync_workflow(cutoff_days=1)["success"]  # the first load: night 5 only
    assert runner.populate_tables(json_dir=other.parent, cutoff_days=36500)["success"]
    nightly_session(sessions_dir, 6)
    clock["now"] = night(6)
    result = runner.full_sync_workflow(cutoff_days=1)
    assert result["success"], result["error"]
    assert result["statistics"]["folders_caught_up"] == 0
    assert rows(db_path, "SELECT id FROM json_invoices ORDER BY id") == [("i5",), ("i6",)]


def test_a_ledger_from_an_older_version_is_brought_up_to_date(sessions_dir: Path, db_path: Path) -> None:
    """A ledger without data_timestamp and ctime_ns (older versions): the columns are added
    before the indexes that need them, and the nightly rules work on it."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "CREATE TABLE _json2db_files (path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL, "
            "mtime REAL NOT NULL, entity TEXT NOT NULL, session TEXT, records INTEGER NOT NULL, loaded_at TEXT NOT NULL)"
        )
    nightly_session(sessions_dir, 0)
    clock = {"now": night(0)}
    result = JSON2DBSyncRunner(clock=lambda: clock["now"]).full_sync_workflow(cutoff_days=1)
    assert result["success"], result["error"]
    columns = {r[1] for r in rows(db_path, "PRAGMA table_info('_json2db_files')")}
    assert {"data_timestamp", "ctime_ns"} <= columns
    indexes = {r[1] for r in rows(db_path, "PRAGMA index_list('_json2db_files')")}
    assert {"_json2db_files_data_timestamp", "_json2db_files_session", "_json2db_files_loaded_at"} <= indexes
