"""Benchmark: the analyzer's CPU per record, in one run (issue 18's type vote).

What a load asks of json_analyzer for every record (flatten, vote into the plan, read its
times), with and without ``check_ints`` (a file that may hold integers beyond 64 bits:
every integer range-checked), and ``analyze_json_files`` over the same invoice files. The
records are parsed once, outside the timing, so only the analyzer is measured. Each case
runs in its own process; CPU time (user + system of that process's own work) is reported,
the figure a shared machine disturbs least.

--before DIR times the code in DIR too (a checkout: its package first on PYTHONPATH),
alternating with this checkout's code in the same run. Usage:

    python benchmarks/bench_analyzer.py --work /tmp/bench --size 20000 --repeat 3 \
        [--before /path/to/other/checkout]

Data is generated into WORK/data_<size> when missing (bench_sync.py's generator).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_sync  # noqa: E402  (benchmarks/ is not a package)

# Runs in the child: prints {"case": cpu_seconds, ...} as JSON.
CHILD = r"""
import json, sys, time, tempfile
from pathlib import Path
import orjson
from json2db_sync import JSON2DBSyncRunner
from json2db_sync.json_analyzer import EntityPlan, flatten, record_times

data = Path(sys.argv[1])
files = sorted(data.glob("sync_session_*/raw_json/*/invoices.json"))

def records_of(path):
    document = orjson.loads(path.read_bytes())
    return document["invoices"] if isinstance(document, dict) else document

batches = [records_of(path) for path in files]

def per_record(check_ints):
    plan = EntityPlan.new("invoices", "invoice_id", ())
    combined = getattr(plan, "flatten_and_observe", None)  # newer code: one step
    start = time.process_time()
    for records in batches:
        for record in records:
            if combined is not None:
                combined(record, check_ints=check_ints)
            else:
                scalars, arrays = flatten(record, split_children=True)
                plan.observe_flat(scalars, arrays, check_ints=check_ints)
            record_times(record, None)
    return time.process_time() - start

out = {"per_record": per_record(False), "per_record_check_ints": per_record(True)}
with tempfile.TemporaryDirectory() as tmp:
    runner = JSON2DBSyncRunner(db_path=str(Path(tmp) / "a.db"), data_source=str(data))
    start = time.process_time()
    result = runner.analyze_json_files()
    out["analyze_json_files"] = time.process_time() - start
    assert result["success"], result
print(json.dumps({"package": __import__("json2db_sync").__file__, "figures": out}))
"""

CASES = ("per_record", "per_record_check_ints", "analyze_json_files")


def run_child(data: Path, code_dir: Path | None) -> dict[str, Any]:
    """One child process of CHILD with ``code_dir``'s package first on the path (None:
    this checkout's): the package it imported and its figures."""
    code = code_dir or HERE.parent
    env = dict(os.environ)
    env["PYTHONPATH"] = str(code)
    # cwd is the code's own folder: ``python -c`` puts the working directory first on the
    # path, ahead of PYTHONPATH.
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(data)], env=env, cwd=code, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/json2db_bench"))
    parser.add_argument("--size", type=int, default=20000, help="invoices in the generated data")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", type=Path, help="another checkout, timed alternately")
    args = parser.parse_args()

    data = bench_sync.generate(args.work, args.size)
    codes: dict[str, Path | None] = {"this": None}
    if args.before:
        codes["before"] = args.before.resolve()
    figures: dict[str, dict[str, list[float]]] = {name: {case: [] for case in CASES} for name in codes}
    for round_ in range(args.repeat):
        order = list(codes) if round_ % 2 == 0 else list(reversed(codes))
        for name in order:
            child = run_child(data, codes[name])
            if round_ == 0:
                print(f"  {name}: {child['package']}")
            for case, seconds in child["figures"].items():
                figures[name][case].append(seconds)
            print(f"  round {round_ + 1} {name:6} " + "  ".join(
                f"{case} {figures[name][case][-1]:.2f}s" for case in CASES), flush=True)
    print(f"\n== {args.size} invoices: median CPU seconds of {args.repeat} ==")
    for case in CASES:
        line = f"  {case:24}" + "".join(f"  {name} {statistics.median(figures[name][case]):6.2f}" for name in codes)
        if "before" in codes:
            ratio = statistics.median(figures["this"][case]) / statistics.median(figures["before"][case])
            line += f"  this/before {ratio:.2f}"
        print(line)


if __name__ == "__main__":
    main()
