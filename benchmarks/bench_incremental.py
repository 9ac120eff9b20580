"""Benchmark: a 1% incremental run on databases of different sizes, in one run.

Issue 18 asks that a 1% incremental run cost in proportion to the new data, not to the
database's size: the same absolute time (within 25%) on 20k, 100k and 300k databases.
For each size this script loads the generated sessions once (untimed, full_sync_workflow
restricted to invoices, as bench_sync.py's case b), then, --repeat times, copies that
loaded database, adds one newer session re-sending the same number of invoices changed
at every size (--changed, default 1000: 1% of 100k, so that the work is the same and only
the database's size differs) and times full_sync_workflow on the copy in its own process
(wall and the process's own CPU). It prints the median per size and its ratio to the
smallest size.

--before DIR also times the code in DIR (a checkout: its package comes first on
PYTHONPATH), alternating with this checkout's code in the same run, each on a base
database that its own code loaded. Usage:

    python benchmarks/bench_incremental.py --work /tmp/bench --sizes 20000 100000 --repeat 3 \
        [--before /path/to/other/checkout]

Data is generated into WORK/data_<size> when missing (bench_sync.py's generator; 100k
takes a few minutes) and reused otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_sync  # noqa: E402  (benchmarks/ is not a package)

CODE_SCRIPT = bench_sync.PEAK_RSS + bench_sync.CASE_SCRIPT


def add_changed_session(data: Path, changed: int) -> tuple[int, Path]:
    """One newer session in ``data`` re-sending the first ``changed`` invoices of the newest
    session changed (a later ``last_modified_time``, another status), as api_sync would add
    it; returns the count and the session folder (removed afterwards)."""
    import orjson

    newest = bench_sync.invoice_files(data)[-1]
    parsed = orjson.loads(newest.read_bytes())
    records = parsed["invoices"] if isinstance(parsed, dict) else parsed
    stamp = datetime.now().strftime("%Y-%m-%dT%H:%M:%S") + "+0000"
    changed_records = [dict(record, last_modified_time=stamp, status="paid") for record in records[:changed]]
    when = datetime.now().strftime(bench_sync.SESSION_FMT)
    session = data / f"sync_session_{when}"
    folder = session / "raw_json" / when
    folder.mkdir(parents=True)
    (folder / "invoices.json").write_bytes(orjson.dumps(changed_records))
    return len(changed_records), session


def run_case(code: Path | None, db: Path, data: Path) -> tuple[float, float]:
    """Wall and CPU seconds of full_sync_workflow on ``db`` with the package in ``code``
    (None: the installed one)."""
    env_path = os.environ.get("PYTHONPATH", "")
    try:
        if code is not None:
            os.environ["PYTHONPATH"] = str(code) + (os.pathsep + env_path if env_path else "")
        wall, _, payload = bench_sync.run_process([sys.executable, "-c", CODE_SCRIPT, "full_sync", str(db), str(data)])
    finally:
        if code is not None:
            if env_path:
                os.environ["PYTHONPATH"] = env_path
            else:
                os.environ.pop("PYTHONPATH", None)
    return wall, payload["cpu_seconds"]


def copy_db(source: Path, target: Path) -> Path:
    """A fresh copy of a loaded SQLite database (the WAL is checkpointed by the loading run),
    flushed to disk before the timed run: otherwise the run's first fsync of the file would
    write out the whole copy (a cost that grows with the database and is not the run's)."""
    bench_sync.fresh(target)
    shutil.copyfile(source, target)
    with open(target, "rb+") as handle:
        os.fsync(handle.fileno())
    return target


def base_db(dbs: Path, variant: str, code: Path | None, data: Path) -> Path:
    """The database that this variant's code loaded from every session (made once)."""
    base = dbs / f"incr_base_{variant}.db"
    if not base.exists():
        scratch = bench_sync.fresh(dbs / f"incr_loading_{variant}.db")
        wall, _ = run_case(code, scratch, data)
        print(f"  loaded the base database for {variant} in {wall:.1f}s (untimed)", flush=True)
        for suffix in ("-wal", "-shm", ".lock"):
            Path(str(scratch) + suffix).unlink(missing_ok=True)
        scratch.rename(base)
    return base


def bench_size(
    work: Path, size: int, repeat: int, variants: dict[str, Path | None], changed_count: int
) -> dict[str, dict[str, float]]:
    data = bench_sync.generate(work, size)
    dbs = work / f"db_{size}"
    dbs.mkdir(exist_ok=True)
    bases = {name: base_db(dbs, name, code, data) for name, code in variants.items()}
    walls: dict[str, list[float]] = {name: [] for name in variants}
    cpus: dict[str, list[float]] = {name: [] for name in variants}
    for round_ in range(repeat):
        for name, code in variants.items():
            db = copy_db(bases[name], dbs / f"incr_{name}.db")
            time.sleep(max(0.0, 1.05 - (time.time() % 1)))  # a new second: a new session folder name
            changed, session = add_changed_session(data, changed_count)
            try:
                wall, cpu = run_case(code, db, data)
            finally:
                shutil.rmtree(session)
            walls[name].append(wall)
            cpus[name].append(cpu)
            print(f"  {size:>7} round {round_ + 1} {name:<7} {wall:6.2f}s  CPU {cpu:6.2f}s  ({changed} invoices)", flush=True)
    return {
        name: {"wall": statistics.median(walls[name]), "cpu": statistics.median(cpus[name])}
        for name in variants
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/json2db_bench"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000, 100000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--changed", type=int, default=1000,
                        help="invoices the new session re-sends changed (default 1000: 1%% of 100k)")
    parser.add_argument("--before", type=Path, help="another checkout whose code is timed alternately")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    os.chdir(args.work)  # `python -c` puts the working directory first on sys.path: not a checkout
    variants: dict[str, Path | None] = {"this": None}
    if args.before is not None:
        variants = {"before": args.before.resolve(), "this": None}
    figures = {size: bench_size(args.work, size, args.repeat, variants, args.changed) for size in sorted(args.sizes)}
    smallest = min(figures)
    print(f"\nincremental full_sync_workflow, {args.changed} changed invoices, medians (wall / CPU seconds, ratio to the smallest size):")
    for size, per_variant in figures.items():
        cells = []
        for name, fig in per_variant.items():
            ratio = fig["wall"] / figures[smallest][name]["wall"]
            cells.append(f"{name}: {fig['wall']:6.2f}s / {fig['cpu']:6.2f}s  x{ratio:.2f}")
        print(f"  {size:>7} invoices   " + "   ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
