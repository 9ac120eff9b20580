"""The engine matrix, faults half: a run killed with SIGKILL in the middle of its writes, and
two runs at once, each on SQLite and on a real PostgreSQL server (the ``backend`` fixture).

The runs are real child processes selecting the destination through the environment
(``backend.env``), as cron runs them. A child pauses inside its progress callback (a
public hook) at a chosen batch, after that batch's rows were written and before the
commit, and says so by writing a marker file: the test then knows, without guessing at
timings, that the child is in the middle of its transaction and holds the writer lock.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Backend
from reliability_support import clean_env

from json2db_sync import JSON2DBSyncRunner

NOW = datetime.now().replace(microsecond=0)
T_BASE = NOW - timedelta(days=3)
T_NEW = NOW - timedelta(days=2)
T_NEWER = NOW - timedelta(days=1)

OLD = "2026-06-09T10:00:00-0400"
NEW = "2026-06-10T10:00:00-0400"
WAIT = 90.0  # seconds: only a bound for a hung child, never a timing assertion

# One full workflow, configured by the environment. With PAUSE_AT=n the run stops inside
# its n-th "populate" progress event (rows of n batches written, nothing committed), writes
# its pid to MARKER and waits until the file GO exists (or for ever, when there is none).
CHILD = r"""
import json, logging, os, sys, time
from pathlib import Path
from json2db_sync import JSON2DBSyncRunner

logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
pause_at = int(os.environ.get("PAUSE_AT", "0"))
marker = Path(os.environ.get("MARKER", os.devnull))
go = Path(os.environ["GO"]) if os.environ.get("GO") else None
events = 0


def on_progress(event):
    global events
    if event.step != "populate":
        return
    events += 1
    if events == pause_at:
        partial = marker.with_name(marker.name + ".tmp")
        partial.write_text(str(os.getpid()))
        os.replace(partial, marker)
        while go is None or not go.exists():
            time.sleep(0.02)


result = JSON2DBSyncRunner(progress_callback=on_progress).full_sync_workflow(cutoff_days=30)
print(json.dumps({k: result.get(k) for k in ("success", "error", "error_type", "statistics")}))
sys.exit(0 if result["success"] else 1)
"""


def invoices(start: int, count: int, modified: str) -> list[dict[str, Any]]:
    return [
        {
            "invoice_id": str(260815000000000000 + i),
            "invoice_number": f"INV-{i:06d}",
            "customer_id": "1",
            "date": "2026-06-09",
            "last_modified_time": modified,
            "status": "sent" if modified == OLD else "paid",
            "line_items": [
                {"line_item_id": f"{i}-{n}", "item_id": "1", "rate": 10.0 + n, "quantity": 1, "item_total": 10.0 + n}
                for n in range(3)
            ],
            "sub_total": 33.0,
            "total": 33.0,
            # the newer export brings schema work into the run: a fraction in a column of
            # whole numbers (PostgreSQL widens it) and a new field (a new column)
            **({"discount": 0, "notes": ""} if modified == OLD else {"discount": 1.5, "notes": "n", "new_field": i}),
        }
        for i in range(start, start + count)
    ]


def counts(backend: Backend) -> dict[str, int]:
    return {
        table: backend.query(f'SELECT COUNT(*) FROM "{table}"')[0][0]
        for table in sorted(t for t in backend.tables() if t.startswith("json_") or t.startswith("_json2db_"))
    }


def data_state(backend: Backend) -> dict[str, list[str]]:
    """Every row of every json_* table and of the tool's state tables (run history included)."""
    state = {}
    for table in sorted(t for t in backend.tables() if t.startswith("json_") or t.startswith("_json2db_")):
        state[table] = sorted(repr(r) for r in backend.query(f'SELECT * FROM "{table}"'))
    state["columns"] = sorted(
        repr((t, backend.columns(t))) for t in backend.tables() if t.startswith("json_")
    )
    return state


class Child:
    """The full workflow in a child process (see CHILD)."""

    def __init__(self, backend: Backend, workspace: Path, name: str, *, pause_at: int = 0, go: Path | None = None, **env: str) -> None:
        self.marker = workspace / f"{name}.paused"
        extra = {**backend.env, "PAUSE_AT": str(pause_at), "MARKER": str(self.marker), **env}
        if go is not None:
            extra["GO"] = str(go)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD],
            cwd=workspace / "json2db_sync",
            env=clean_env(**extra),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._out: tuple[str, str] | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def paused(self) -> bool:
        return self.marker.exists()

    def finish(self) -> tuple[int, dict[str, Any], str]:
        """Wait for the child; (exit status, result summary, stderr)."""
        if self._out is None:
            self._out = self.proc.communicate(timeout=WAIT)
        out, err = self._out
        last = out.strip().splitlines()[-1] if out.strip() else "{}"
        try:
            summary = json.loads(last)
        except ValueError:
            summary = {"unparsed_stdout": out}
        return self.proc.returncode, summary, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=WAIT)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def children() -> Iterator[list[Child]]:
    """Every child a test starts; any still running at the end is killed (by its pid)."""
    started: list[Child] = []
    yield started
    for child in started:
        if child.proc.poll() is None:
            child.kill()


def wait_for(condition, what: str, *watched: Child) -> None:
    """Poll ``condition`` until it holds; fail with the children's output if one of the
    ``watched`` children ends first or nothing happens within WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not condition():
        for child in watched:
            if child.proc.poll() is not None and not condition():
                code, summary, err = child.finish()
                pytest.fail(f"child {child.pid} ended (status {code}) before {what}: {summary}\n{err[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def holder_named(error: str, pid: int) -> bool:
    """Whether a lock error names the holding process (SQLite: "process <pid> on <host>";
    PostgreSQL: the holder's application name, "json2db_sync ... pid <pid> on <host>")."""
    return re.search(rf"\b(?:process|pid) {pid}\b", error) is not None


# --- SIGKILL in the middle of a run ----------------------------------------------------------

BASE_INVOICES = 600
NEW_START, NEW_COUNT = 300, 2400  # 300 updates of base invoices, 2100 new ones
BATCH = 200
# populate events of the run that gets killed: 12 batches of invoices, then 1 of contacts
EVENTS = NEW_COUNT // BATCH + 1


@pytest.mark.parametrize("pause_at", [1, EVENTS // 2, EVENTS], ids=["first-batch", "middle", "last-batch"])
def test_sigkill_mid_run_leaves_the_before_state_and_the_next_run_completes(
    backend: Backend, workspace: Path, make_session, children: list[Child], pause_at: int
) -> None:
    """Three trials per backend: the run is killed after its first, a middle or its last
    batch was written (schema changes included: a new column, and on PostgreSQL a BIGINT
    column widened to NUMERIC), before its commit. The database then holds exactly what it
    held before the run, and the next plain run completes the work."""
    make_session(T_BASE, {"invoices": invoices(0, BASE_INVOICES, OLD)})
    first = JSON2DBSyncRunner(**backend.runner_kwargs).full_sync_workflow()
    assert first["success"], first["error"]
    make_session(T_NEW, {"invoices": invoices(NEW_START, NEW_COUNT, NEW)})
    make_session(T_NEWER, {"contacts": [{"contact_id": "1", "contact_name": "A", "outstanding": 12.5}]})
    before = data_state(backend)
    before_counts = counts(backend)
    assert before_counts["json_invoices"] == BASE_INVOICES

    victim = Child(backend, workspace, "victim", pause_at=pause_at, JSON2DB_BATCH_SIZE=str(BATCH))
    children.append(victim)
    wait_for(victim.paused, f"the run's populate event {pause_at}", victim)
    victim.kill()

    # Exactly the state before the run: same counts, same rows, same schema, same ledger.
    assert counts(backend) == before_counts
    assert data_state(backend) == before
    assert "json_contacts" not in backend.tables()
    assert "new_field" not in backend.columns("json_invoices")
    if backend.kind == "sqlite":
        assert backend.query("PRAGMA integrity_check") == [("ok",)]

    # The next run (plain, as cron starts it) completes the work.
    nxt = Child(backend, workspace, "next")
    children.append(nxt)
    code, summary, err = nxt.finish()
    assert code == 0, (summary, err[-3000:])
    stats = summary["statistics"]
    assert (stats["files_loaded"], stats["files_skipped"]) == (2, 1)
    assert (stats["records_inserted"], stats["records_updated"]) == (NEW_START + NEW_COUNT - BASE_INVOICES + 1, BASE_INVOICES - NEW_START)
    total = NEW_START + NEW_COUNT
    after = counts(backend)
    assert after["json_invoices"] == total
    assert after["json_invoices_line_items"] == 3 * total
    assert after["json_contacts"] == 1
    assert after["_json2db_files"] == 3
    assert backend.query("SELECT COUNT(DISTINCT id) FROM json_invoices") == [(total,)]
    assert backend.query("SELECT status, COUNT(*) FROM json_invoices GROUP BY status ORDER BY status") == [
        ("paid", NEW_COUNT),
        ("sent", NEW_START),
    ]
    assert backend.query("SELECT SUM(discount), COUNT(new_field) FROM json_invoices") == [(1.5 * NEW_COUNT, NEW_COUNT)]
    assert [r[0] for r in backend.query("SELECT status FROM _json2db_runs ORDER BY run_id")] == ["success", "success"]


# --- two runs at once ------------------------------------------------------------------------


def _concurrent_data(make_session) -> int:
    make_session(T_NEW, {"invoices": invoices(0, 400, OLD), "contacts": [{"contact_id": "1", "contact_name": "A"}]})
    return 400


def test_second_concurrent_run_is_refused_at_once_naming_the_holder(
    backend: Backend, workspace: Path, make_session, children: list[Child]
) -> None:
    """Two runs started together: the one that gets the lock writes (it pauses in its first
    batch, holding the lock, until told to go on); the other fails while the first is still
    paused, i.e. at once, with a database_error naming the holder, and writes nothing."""
    total = _concurrent_data(make_session)
    go = workspace / "go"
    pair = [
        Child(backend, workspace, name, pause_at=1, go=go, JSON2DB_BATCH_SIZE="100") for name in ("one", "two")
    ]
    children.extend(pair)

    def settled() -> bool:
        return any(c.paused() for c in pair) and any(c.proc.poll() is not None for c in pair)

    wait_for(settled, "one run holding the lock and the other refused")
    [winner] = [c for c in pair if c.paused()]
    [loser] = [c for c in pair if c is not winner]
    assert winner.proc.poll() is None  # still paused inside its transaction

    code, refused, err = loser.finish()
    assert (code, refused.get("success"), refused.get("error_type")) == (1, False, "database_error"), (refused, err[-3000:])
    message = refused["error"]
    assert "is busy" in message and "another json2db_sync run holds the writer lock" in message, message
    assert holder_named(message, winner.pid), message
    assert "full_sync_workflow" in message and "JSON2DB_LOCK_TIMEOUT" in message, message
    assert refused["statistics"]["records_inserted"] == 0

    go.touch()
    code, summary, err = winner.finish()
    assert code == 0, (summary, err[-3000:])
    assert summary["statistics"]["files_loaded"] == 2
    assert summary["statistics"]["records_inserted"] == total + 1
    assert counts(backend)["json_invoices"] == total
    assert counts(backend)["json_invoices_line_items"] == 3 * total
    # The refused run wrote nothing, not even a line in the run history.
    assert [r[0] for r in backend.query("SELECT status FROM _json2db_runs")] == ["success"]


def test_concurrent_runs_with_lock_timeout_serialise(
    backend: Backend, workspace: Path, make_session, children: list[Child]
) -> None:
    """With JSON2DB_LOCK_TIMEOUT the second run waits for the first instead of failing, then
    finds every file loaded: both succeed, nothing is doubled."""
    total = _concurrent_data(make_session)
    go = workspace / "go"
    first = Child(backend, workspace, "first", pause_at=1, go=go, JSON2DB_BATCH_SIZE="100", JSON2DB_LOCK_TIMEOUT="60")
    children.append(first)
    wait_for(first.paused, "the first run holding the lock", first)

    second = Child(backend, workspace, "second", JSON2DB_BATCH_SIZE="100", JSON2DB_LOCK_TIMEOUT="60")
    children.append(second)
    # The second run logs the data it found just before it goes for the lock.
    assert second.proc.stderr is not None
    for text in second.proc.stderr:
        if "data folder(s)" in text:
            break
    else:
        pytest.fail(f"the second run ended before looking for the lock: {second.finish()}")
    time.sleep(0.5)  # let it reach the lock (not an assertion: either way the outcome is the same)
    assert second.proc.poll() is None, "the second run must wait for the lock, not fail"

    go.touch()
    code, one, err = first.finish()
    assert code == 0, (one, err[-3000:])
    code, two, err = second.finish()
    assert code == 0, (two, err[-3000:])
    assert one["statistics"]["files_loaded"] == 2 and one["statistics"]["records_inserted"] == total + 1
    assert (two["statistics"]["files_loaded"], two["statistics"]["files_skipped"]) == (0, 2)
    assert two["statistics"]["records_inserted"] == 0
    after = counts(backend)
    assert (after["json_invoices"], after["json_invoices_line_items"], after["json_contacts"]) == (total, 3 * total, 1)
    assert backend.query("SELECT COUNT(DISTINCT id) FROM json_invoices") == [(total,)]
    assert [r[0] for r in backend.query("SELECT status FROM _json2db_runs ORDER BY run_id")] == ["success", "success"]
