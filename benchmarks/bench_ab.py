"""A/B benchmark: one json2db_sync operation with this checkout's code and another's, alternating.

What a change buys is best seen this way: the same data, the code before and after, run in
turn (ABBA) in child processes, compared by each process's own CPU time (user + system), which
a shared machine disturbs much less than wall time. The ratio to the floor (bench_sync.py)
says where the product stands; this says what one change did.

    python benchmarks/bench_ab.py --before /path/to/checkout-before --case populate --size 20000 --rounds 6

--before is a checkout of the code to compare with (``git worktree add /tmp/before <commit>``);
each side runs with its own folder first on PYTHONPATH and as its working directory (``python -c``
puts the working directory ahead of PYTHONPATH), and the package each side imported is printed
before timing. Data: bench_sync.py's generated sessions (``--work``, made once).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

import bench_sync

HERE = Path(__file__).resolve().parent


def side_env(code: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(code))


def imported_package(code: Path) -> str:
    """The json2db_sync a child with this code on its path imports (to be sure what is timed)."""
    probe = [sys.executable, "-c", "import json2db_sync; print(json2db_sync.__file__)"]
    return subprocess.run(probe, env=side_env(code), cwd=code, capture_output=True, text=True, check=True).stdout.strip()


def run_case(code: Path, case: str, db: Path, data: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``case`` with the code in ``code``."""
    argv = [sys.executable, "-c", bench_sync.PEAK_RSS + bench_sync.CASE_SCRIPT, case, str(bench_sync.fresh(db)), str(data)]
    elapsed, _, payload = bench_sync.run_process(argv, env=side_env(code), cwd=code)
    return elapsed, payload["cpu_seconds"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="a checkout of the code to compare with")
    parser.add_argument("--case", choices=("populate", "full_sync", "all"), default="populate",
                        help="populate_tables or full_sync_workflow on the invoices, or full_sync of every entity")
    parser.add_argument("--size", type=int, default=20000, help="invoices in the generated data")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--work", type=Path, default=Path("/tmp/json2db_bench"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    data = bench_sync.generate(args.work, args.size)
    sides = {"before": args.before.resolve(), "after": HERE.parent}
    for name, code in sides.items():
        print(f"{name:6s} imports {imported_package(code)}")
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    for round_ in range(args.rounds):
        order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
        for name in order:
            elapsed, seconds = run_case(sides[name], args.case, args.work / f"ab_{name}.db", data)
            cpu[name].append(seconds)
            print(f"round {round_ + 1} {name:6s} CPU {seconds:6.2f}s  wall {elapsed:6.2f}s", flush=True)
    before, after = statistics.median(cpu["before"]), statistics.median(cpu["after"])
    print(f"{args.case}, {args.size} invoices, median CPU of {args.rounds}: before {before:.2f}s  "
          f"after {after:.2f}s  after/before {after / before:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
