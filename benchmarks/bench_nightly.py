"""Benchmark: the cost of one nightly run (``sync --cutoff-days 1``) against the length of
the history already loaded (issue 21: a year of sessions must cost a night what a week does).

For each history length H (default 7, 100 and 365 nights) it builds, in a fresh folder,
H nightly sessions of api_sync (nine module folders each, 67 changed records a night whose
ids cycle over a pool the first week fills, so that the tables hold the same records at
every length; file times set to the simulated night), loads them once with a clock at night H
(what H nightly runs leave behind: the ledger and the settled sessions), then adds one
session a night and times ``full_sync_workflow(cutoff_days=1)`` for nights H+1 … H+R in
the same process (the runner's clock is the simulated night; the lengths take turns night
by night so that the machine's drift reaches them alike). It prints per H the median and
the spread of the R nights (the first left out) and the ratios between the lengths, all
measured in this one run. A run also reports how many session folders discovery listed.

    python benchmarks/bench_nightly.py [--nights 7 100 365] [--repeat 15] [--work DIR] [--profile 365]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

FMT = "%Y-%m-%d_%H-%M-%S"
FIRST_NIGHT = datetime(2025, 1, 10, 2, 0, 0)
MODULES = (
    "invoices", "bills", "contacts", "items", "customerpayments",
    "vendorpayments", "creditnotes", "bankaccounts", "currencies",
)
RECORDS_A_NIGHT = {
    "invoices": 20, "bills": 10, "contacts": 8, "items": 8, "customerpayments": 8,
    "vendorpayments": 5, "creditnotes": 3, "bankaccounts": 3, "currencies": 2,
}


def _zoho_time(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%dT%H:%M:%S%z")


def _records(entity: str, night: int, at: datetime) -> list[dict[str, Any]]:
    """A night's changed records of one module (ids cycle over a pool, so most update)."""
    id_field = {
        "customerpayments": "payment_id", "vendorpayments": "payment_id",
        "bankaccounts": "account_id", "currencies": "currency_id",
    }.get(entity, entity[:-1] + "_id")
    out = []
    for k in range(RECORDS_A_NIGHT[entity]):
        # ids cycle over a pool the first week fills: the tables hold the same records at
        # every history length, so that only the history (sessions, ledger) differs
        pool = RECORDS_A_NIGHT[entity] * 7
        record: dict[str, Any] = {
            id_field: f"{entity[:3]}{(night * RECORDS_A_NIGHT[entity] + k) % pool}",
            "amount": float(night + k),
        }
        if entity not in ("bankaccounts", "currencies"):
            record["last_modified_time"] = _zoho_time(at)
            record["line_items"] = [{"line_item_id": f"l{night}-{k}-{j}", "rate": float(j)} for j in range(2)]
        out.append(record)
    return out


def write_night(sessions: Path, night: int) -> None:
    """One api_sync session at 01:50 with a timestamp folder per module, times set to then."""
    at = FIRST_NIGHT + timedelta(days=night) - timedelta(minutes=10)
    session = sessions / f"sync_session_{at.strftime(FMT)}"
    epoch = at.timestamp()
    for index, entity in enumerate(MODULES):
        folder = session / "raw_json" / (at + timedelta(seconds=index)).strftime(FMT)
        folder.mkdir(parents=True)
        target = folder / f"{entity}.json"
        target.write_text(json.dumps({"code": 0, "message": "success", entity: _records(entity, night, at)}))
        (session / f"sync_metadata_{entity}.json").write_text('{"status": "success"}')
        os.utime(target, (epoch, epoch))
        os.utime(folder, (epoch, epoch))
    os.utime(session / "raw_json", (epoch, epoch))
    os.utime(session, (epoch, epoch))


class History:
    """One history length: its tree and database, loaded up to night H, and its timings."""

    def __init__(self, history: int, work: Path) -> None:
        from json2db_sync import JSON2DBSyncRunner

        self.history = history
        root = work / f"h{history}"
        shutil.rmtree(root, ignore_errors=True)
        self.sessions = root / "api_sync" / "data" / "sync_sessions"
        self.sessions.mkdir(parents=True)
        for night in range(history):
            write_night(self.sessions, night)
        self.clock = FIRST_NIGHT + timedelta(days=history - 1)
        self.runner = JSON2DBSyncRunner(db_path=root / "nightly.db", data_source=self.sessions, clock=lambda: self.clock)
        first = self.runner.full_sync_workflow(cutoff_days=36500)
        assert first["success"], first["error"]
        self.next_night = history
        self.times: list[float] = []

    def night(self, profiler: cProfile.Profile | None) -> None:
        """Write the next night's session and time that night's run."""
        night = self.next_night
        self.next_night += 1
        write_night(self.sessions, night)
        self.clock = FIRST_NIGHT + timedelta(days=night)
        if profiler is not None:
            profiler.enable()
        started = time.perf_counter()
        result = self.runner.full_sync_workflow(cutoff_days=1)
        elapsed = time.perf_counter() - started
        if profiler is not None:
            profiler.disable()
        assert result["success"], result["error"]
        assert result["statistics"]["files_loaded"] == len(MODULES), result["statistics"]
        self.times.append(elapsed)

    def row(self) -> dict[str, Any]:
        steady = self.times[1:] if len(self.times) > 2 else self.times
        return {
            "history_nights": self.history,
            "session_folders": self.next_night,
            "median_s": statistics.median(steady),
            "min_s": min(steady),
            "max_s": max(steady),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, nargs="+", default=[7, 100, 365])
    parser.add_argument("--repeat", type=int, default=15, help="nightly runs measured per history length")
    parser.add_argument("--work", type=Path, default=None, help="a folder for the trees (default: a temp folder)")
    parser.add_argument("--profile", type=int, default=None, help="cProfile the nightly runs of this history length")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_nightly_"))
    histories = [History(history, work) for history in args.nights]
    profiler = cProfile.Profile() if args.profile is not None else None
    # the lengths take turns night by night, so that the machine's drift reaches them alike
    for _ in range(args.repeat):
        for item in histories:
            item.night(profiler if item.history == args.profile else None)
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
    rows = [item.row() for item in histories]
    base = rows[0]["median_s"]
    print(f"{'history (nights)':>17} {'folders':>8} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'ratio':>6}")
    for row in rows:
        print(
            f"{row['history_nights']:>17} {row['session_folders'] * len(MODULES):>8} {row['median_s'] * 1000:>10.1f} "
            f"{row['min_s'] * 1000:>8.1f} {row['max_s'] * 1000:>8.1f} {row['median_s'] / base:>6.2f}"
        )
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
