"""A simulated year of the documented nightly job (``sync --cutoff-days 1`` at 02:00), with
the ordinary accidents of real cron jobs (issue 21), on a controllable clock.

api_sync is simulated by :class:`Producer`: one session a night at 01:50 with three module
folders (invoices with their own timestamps, bank accounts and currencies without), file
and folder modification times set to the simulated moment they were written. The runner
gets the simulated clock (``JSON2DBSyncRunner(clock=...)``). The machine's time zone is
America/New_York for the whole test, so that the year crosses both DST changes.

Each accident is checked the night after it happened, and at the end the nightly database
must equal one full load of every session (data columns and record times).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from json2db_sync import JSON2DBSyncRunner
from json2db_sync.destinations.sqlite import SQLiteDestination, open_connection
from json2db_sync.ledger import read_ledger_view
from json2db_sync.sources import discover

FMT = "%Y-%m-%d_%H-%M-%S"
FIRST_NIGHT = datetime(2025, 1, 10, 2, 0, 0)
NIGHTS = 365

# The accidents, by night number (night n runs at FIRST_NIGHT + n days).
FAILED_NIGHT = 40  # another writer holds the lock: the run fails
SKEWED_NIGHTS = range(80, 86)  # api_sync names folders 8 h behind and runs after the cron job
LATE_FOLDER_NIGHT = 120  # a module folder stamped 01:58 appears at 02:05, after the run
BACKUP_NIGHT, RESTORE_NIGHT = 150, 160  # restored (after night 160's run) to night 150's backup
FUTURE_NIGHT = 200  # api_sync's clock is 30 days ahead for one session
INCOMPLETE_NIGHT = 250  # the invoices export stopped before its last page
REWRITE_NIGHT = 300  # a file rewritten in place keeping its size and mtime, after the run
CURRENCY_NIGHTS = {20: 1.10, 60: 1.25, 100: 1.10}  # A → B → A: the third file is byte-identical to the first
CHILD_IDS_NIGHT = 30  # vendor credits, and a credit note applied twice to one invoice
DST_NIGHT = (datetime(2025, 11, 2, 2, 0) - FIRST_NIGHT).days  # the hour 01:00-02:00 happens twice
EVENTFUL = {
    FAILED_NIGHT, *SKEWED_NIGHTS, LATE_FOLDER_NIGHT, BACKUP_NIGHT, RESTORE_NIGHT, FUTURE_NIGHT,
    INCOMPLETE_NIGHT, REWRITE_NIGHT, *CURRENCY_NIGHTS, CHILD_IDS_NIGHT, DST_NIGHT,
}


@pytest.fixture
def new_york() -> Iterator[None]:
    """The machine's local time zone for the test (folder names are local wall-clock times)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


class Producer:
    """Writes api_sync sessions as they would have been written at simulated moments."""

    def __init__(self, sessions: Path) -> None:
        self.sessions = sessions

    def session(self, name_time: datetime, folders: dict[datetime, dict[str, Any]], written: datetime) -> Path:
        """sync_session_<name_time>/raw_json/<t>/<entity>.json, every file and folder
        modified at ``written`` (an aware or naive local moment)."""
        session = self.sessions / f"sync_session_{name_time.strftime(FMT)}"
        for when, entities in folders.items():
            folder = session / "raw_json" / when.strftime(FMT)
            folder.mkdir(parents=True, exist_ok=True)
            for entity, content in entities.items():
                target = folder / f"{entity}.json"
                target.write_text(content if isinstance(content, str) else json.dumps(content))
                _touch(target, written)
            _touch(folder, written)
        _touch(session / "raw_json", written)
        _touch(session, written)
        return session


def _touch(path: Path, moment: datetime) -> None:
    epoch = moment.timestamp()
    os.utime(path, (epoch, epoch))


def _zoho_time(moment: datetime) -> str:
    """A Zoho last_modified_time for a local moment (with its UTC offset)."""
    return moment.astimezone().strftime("%Y-%m-%dT%H:%M:%S%z")


def night_folders(n: int, at: datetime) -> dict[datetime, dict[str, Any]]:
    """The three module folders of night ``n``'s session (written from ``at`` on)."""
    invoices = [
        {
            "invoice_id": f"inv{(n * 2 + k) % 20}",
            "invoice_number": f"INV-{(n * 2 + k) % 20}",
            "customer_id": "c1",
            "date": "2025-01-01",
            "total": float(n),
            "created_time": "2025-01-01T10:00:00-0500",
            "last_modified_time": _zoho_time(at),
            "line_items": [{"line_item_id": f"li{n}-{k}", "item_id": "it1", "quantity": 1, "rate": float(n)}],
        }
        for k in range(2)
    ]
    folders: dict[datetime, dict[str, Any]] = {
        at: {"invoices": {"code": 0, "message": "success", "invoices": invoices, "page_context": {"page": 1, "has_more_page": False}}},
        at + timedelta(seconds=10): {"bankaccounts": [{"account_id": "ba1", "account_name": "Main", "balance": float(n)}]},
    }
    if n in CURRENCY_NIGHTS:
        folders[at + timedelta(seconds=20)] = {"currencies": [{"currency_id": "eur", "exchange_rate": CURRENCY_NIGHTS[n]}]}
    return folders


class Year:
    """The simulation: the producer, the runner on the simulated clock, one night at a time."""

    def __init__(self, workspace: Path, sessions: Path, db: Path) -> None:
        self.producer = Producer(sessions)
        self.sessions = sessions
        self.db = db
        self.clock = FIRST_NIGHT
        self.runner = JSON2DBSyncRunner(clock=lambda: self.clock)
        self.results: dict[int, dict[str, Any]] = {}
        self.rewritten_sha: str | None = None

    def night(self, n: int) -> datetime:
        return FIRST_NIGHT + timedelta(days=n)

    def produce(self, n: int) -> None:
        """Night ``n``'s regular session, at 01:50 (before the cron job)."""
        at = self.night(n) - timedelta(minutes=10)
        if n in SKEWED_NIGHTS:
            return  # written after the run, see after_run
        if n == FUTURE_NIGHT:
            named = at + timedelta(days=30, hours=3)
            folders = {named + (t - at): content for t, content in night_folders(n, at).items()}
            self.producer.session(named, folders, written=at)
            return
        self.producer.session(at, night_folders(n, at), written=at)

    def run(self, n: int, *, full: bool = True) -> dict[str, Any]:
        """The cron job of night ``n``: ``sync --cutoff-days 1`` (``full``), or, on the
        uneventful nights, only its load step (``populate --cutoff-days 1``: the same
        discovery and load, without the verification and report, to keep the test fast)."""
        self.clock = self.night(n)
        if full:
            result = self.runner.full_sync_workflow(cutoff_days=1)
        else:
            result = self.runner.populate_tables(cutoff_days=1)
        self.results[n] = result
        return result

    def after_run(self, n: int) -> None:
        at = self.night(n)
        if n in SKEWED_NIGHTS:
            # written at 02:30 local, named in a clock 8 hours behind
            written = at + timedelta(minutes=30)
            named = written - timedelta(hours=8)
            folders = {named + (t - written): c for t, c in night_folders(n, written).items()}
            self.producer.session(named, folders, written=written)
        if n == LATE_FOLDER_NIGHT:
            session_time = at - timedelta(minutes=10)
            late = at - timedelta(minutes=2)
            self.producer.session(
                session_time,
                {late: {"currencies": [{"currency_id": "gbp", "exchange_rate": 1.31}]}},
                written=at + timedelta(minutes=5),
            )
        if n == REWRITE_NIGHT:
            target = self._file(n, "bankaccounts")
            stat = target.stat()
            text = target.read_text()
            rewritten = text.replace('"Main"', '"Mair"')
            assert len(rewritten) == len(text) and rewritten != text
            self.rewritten_sha = value(self.db, f"SELECT sha256 FROM _json2db_files WHERE path = '{target}'")
            target.write_text(rewritten)
            os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
            assert (target.stat().st_size, target.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)

    def _file(self, n: int, entity: str) -> Path:
        at = self.night(n) - timedelta(minutes=10)
        matches = sorted(self.sessions.glob(f"sync_session_{at.strftime(FMT)}/raw_json/*/{entity}.json"))
        assert matches, (n, entity)
        return matches[0]


def data_state(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every json_* table's rows (all columns), sorted: what two loads must agree on."""
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'json!_%' ESCAPE '!'")]
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in sorted(tables)}


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def value(db: Path, sql: str) -> Any:
    with sqlite3.connect(db) as conn:
        row = conn.execute(sql).fetchone()
    return row[0] if row else None


def test_a_year_of_nightly_runs_equals_one_full_load(new_york: None, workspace: Path, sessions_dir: Path, db_path: Path) -> None:
    year = Year(workspace, sessions_dir, db_path)
    backup: str | None = None
    dst_night = DST_NIGHT
    extra_warnings: dict[int, list[str]] = {}

    for n in range(NIGHTS):
        year.produce(n)
        if n == dst_night:
            # the hour 01:00-02:00 happens twice: 01:30 EDT first, then 01:15 EST (sorted before it)
            first = datetime(2025, 11, 2, 1, 30, fold=0)
            second = datetime(2025, 11, 2, 1, 15, fold=1)
            for moment, balance in ((first, 111.0), (second, 222.0)):
                year.producer.session(
                    moment.replace(fold=0),
                    {moment.replace(fold=0): {"bankaccounts": [{"account_id": "ba_dst", "balance": balance}]}},
                    written=moment,
                )
        if n == INCOMPLETE_NIGHT:
            target = year._file(n, "invoices")
            document = json.loads(target.read_text())
            document["page_context"]["has_more_page"] = True
            target.write_text(json.dumps(document))
            _touch(target, year.night(n) - timedelta(minutes=10))
        if n == CHILD_IDS_NIGHT:
            # an entity json2db_sync learnt the id of, and a credit note applied twice to one invoice
            at = year.night(n) - timedelta(minutes=9)
            year.producer.session(
                at,
                {at: {
                    "vendorcredits": {"code": 0, "vendorcredits": [{"vendor_credit_id": "vc1", "total": 5.0}]},
                    "creditnotes": [{
                        "creditnote_id": "cn1", "total": 30.0, "last_modified_time": _zoho_time(at),
                        "invoices": [
                            {"creditnote_invoice_id": "cni1", "invoice_id": "inv1", "amount_applied": 10.0},
                            {"creditnote_invoice_id": "cni2", "invoice_id": "inv1", "amount_applied": 20.0},
                        ],
                    }],
                }},
                written=at,
            )

        if n == FAILED_NIGHT:
            with SQLiteDestination(db_path).writer_lock(operation="another writer"):
                result = year.run(n)
            assert not result["success"] and "busy" in result["error"]
        else:
            result = year.run(n, full=n in EVENTFUL or (n - 1) in EVENTFUL or n % 30 == 0)
            assert result["success"], (n, result["error"])
            extra_warnings[n] = result["warnings"]

        year.after_run(n)
        if n == BACKUP_NIGHT:
            made = year.runner.create_backup()
            assert made["success"], made["error"]
            backup = made["backup_path"]
        if n == RESTORE_NIGHT:
            assert backup is not None
            restored = year.runner.restore_backup(backup)
            assert restored["success"], restored["error"]
            listing = year.runner.list_backups()["backups"]
            safety = [b for b in listing if b["safety_copy"]]
            assert [b["path"] for b in safety] == [restored["previous_state_backup"]]
            assert "before-restore" in restored["previous_state_backup"]
            assert value(db_path, "SELECT balance FROM json_bankaccounts WHERE id = 'ba1'") == BACKUP_NIGHT

        # --- each accident, checked the night after -----------------------------------
        balance = value(db_path, "SELECT balance FROM json_bankaccounts WHERE id = 'ba1'")
        if n == FAILED_NIGHT + 1:
            assert balance == n
            assert year.results[n]["statistics"]["files_loaded"] == 4  # both nights' sessions
            assert any("older than the cutoff" in w for w in year.results[n]["notes"])
        if n == SKEWED_NIGHTS[-1] + 1:
            # every session named 8 hours behind, written after its night's run, is in
            skewed = [
                f"sync_session_{(year.night(k) + timedelta(minutes=30) - timedelta(hours=8)).strftime(FMT)}"
                for k in SKEWED_NIGHTS
            ]
            in_ledger = {r[0] for r in rows(db_path, "SELECT DISTINCT session FROM _json2db_files")}
            assert set(skewed) <= in_ledger
        if n == LATE_FOLDER_NIGHT + 1:
            assert value(db_path, "SELECT exchange_rate FROM json_currencies WHERE id = 'gbp'") == 1.31
        if n == RESTORE_NIGHT + 1:
            assert balance == n
            assert any("restored from a backup" in w for w in year.results[n]["notes"])
            assert year.results[n]["statistics"]["folders_caught_up"] >= 2 * (RESTORE_NIGHT - BACKUP_NIGHT) - 2
        if n == FUTURE_NIGHT:
            assert any("named after this run's clock" in w for w in extra_warnings[n])
        if n == FUTURE_NIGHT + 1:
            assert balance == n  # the session named 30 days ahead did not freeze the value
        if n == dst_night:
            assert value(db_path, "SELECT balance FROM json_bankaccounts WHERE id = 'ba_dst'") == 222.0
        if n == INCOMPLETE_NIGHT:
            assert year.results[n]["statistics"]["incomplete_exports"] == 1
            assert any("has_more_page" in w for w in extra_warnings[n])
        if n == REWRITE_NIGHT + 1:
            target = year._file(REWRITE_NIGHT, "bankaccounts")
            now_sha = value(db_path, f"SELECT sha256 FROM _json2db_files WHERE path = '{target}'")
            assert now_sha != year.rewritten_sha
            assert now_sha == hashlib.sha256(target.read_bytes()).hexdigest()
        if n == CHILD_IDS_NIGHT + 1:
            assert value(db_path, "SELECT COUNT(*) FROM json_creditnotes_invoices WHERE parent_id = 'cn1'") == 2
            assert value(db_path, "SELECT id FROM json_vendorcredits") == "vc1"
        if n == 101:
            assert value(db_path, "SELECT exchange_rate FROM json_currencies WHERE id = 'eur'") == 1.10

    assert value(db_path, "SELECT COUNT(*) FROM _json2db_rejected") == 0

    # A night's discovery lists the window, not the year: the rest is settled and pruned.
    with open_connection(db_path, readonly=True) as conn:
        ledger = read_ledger_view(conn)
    found = discover(sessions_dir, cutoff_days=1, now=year.clock + timedelta(days=1), ledger=ledger)
    assert found.pruned >= NIGHTS - 5
    assert len(found.dirs) <= 3

    # One full load of every session, at the end of the year, gives the same database.
    full_db = workspace / "data" / "database" / "full.db"
    full = JSON2DBSyncRunner(db_path=full_db, clock=lambda: year.clock).full_sync_workflow(cutoff_days=36500)
    assert full["success"], full["error"]
    nightly, once = data_state(db_path), data_state(full_db)
    assert nightly.keys() == once.keys()
    for table in nightly:
        assert nightly[table] == once[table], table
