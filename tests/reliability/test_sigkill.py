"""A sync killed with SIGKILL at a random moment leaves the database exactly as before or
exactly as after the run (every json_* row and the ledger compared, integrity_check
passing), and the next run completes the work. 3 trials always, 20 more in the slow case.

(Moved here from tests/test_kill.py.)
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import write_session
from reliability_support import checksum, clean_env

SYNC_SCRIPT = """
import sys
from json2db_sync import JSON2DBSyncRunner
result = JSON2DBSyncRunner(db_path=sys.argv[1], data_source=sys.argv[2]).full_sync_workflow(cutoff_days=30)
sys.exit(0 if result["success"] else 1)
"""


def _invoices(start: int, count: int, modified: str) -> list[dict[str, Any]]:
    return [
        {
            "invoice_id": str(260815000000000000 + i),
            "customer_id": "1",
            "date": "2026-06-09",
            "last_modified_time": modified,
            "status": "sent",
            "line_items": [
                {"line_item_id": f"{i}-{n}", "item_id": "1", "rate": 10.0 + n, "quantity": 1, "item_total": 10.0 + n}
                for n in range(3)
            ],
            "sub_total": 33.0,
            "total": 33.0,
        }
        for i in range(start, start + count)
    ]


def _run_sync(db: Path, sessions: Path, cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", SYNC_SCRIPT, str(db), str(sessions)], cwd=cwd, env=clean_env())


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A database holding a first load, new sessions waiting, and the expected end state."""
    root = tmp_path_factory.mktemp("kill")
    sessions = root / "sessions"
    now = datetime.now()
    write_session(sessions, now - timedelta(days=2), {"invoices": _invoices(0, 2000, "2026-06-09T10:00:00-0400")})
    db = root / "before.db"
    assert _run_sync(db, sessions, root).wait() == 0
    write_session(sessions, now - timedelta(days=1), {"invoices": _invoices(1000, 6000, "2026-06-10T10:00:00-0400")})
    write_session(sessions, now - timedelta(hours=1), {"contacts": [{"contact_id": "1", "contact_name": "A"}]})
    after = root / "after.db"
    shutil.copyfile(db, after)
    started = time.monotonic()
    assert _run_sync(after, sessions, root).wait() == 0
    duration = time.monotonic() - started
    return {
        "root": root,
        "sessions": sessions,
        "db": db,
        "before": checksum(db),
        "after": checksum(after),
        "duration": duration,
    }


def _trial(prepared: dict[str, Any], tmp_path: Path, seed: int) -> str:
    db = tmp_path / "trial.db"
    shutil.copyfile(prepared["db"], db)
    process = _run_sync(db, prepared["sessions"], prepared["root"])
    delay = random.Random(seed).uniform(0.05, prepared["duration"] * 1.1)
    time.sleep(delay)  # the point of the test: a kill at an unpredictable moment
    process.send_signal(signal.SIGKILL)
    process.wait()
    state = checksum(db)  # also asserts integrity_check == "ok"
    assert state in (prepared["before"], prepared["after"]), f"half-written state after {delay:.2f}s"
    outcome = "before" if state == prepared["before"] else "after"
    # The next run completes the work.
    assert _run_sync(db, prepared["sessions"], prepared["root"]).wait() == 0
    assert checksum(db) == prepared["after"]
    return outcome


@pytest.mark.parametrize("seed", range(3))
def test_sigkill_leaves_before_or_after(prepared: dict[str, Any], tmp_path: Path, seed: int) -> None:
    _trial(prepared, tmp_path, seed)


@pytest.mark.slow
def test_sigkill_twenty_trials(prepared: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> None:
    outcomes = [_trial(prepared, tmp_path_factory.mktemp(f"trial{seed}"), 100 + seed) for seed in range(20)]
    assert len(outcomes) == 20
