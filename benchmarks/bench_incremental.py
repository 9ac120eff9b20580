"""Benchmark: a 1% incremental run on databases of different sizes, in one run.

Issue 18 asks that a 1% incremental run cost in proportion to the new data, not to the
database's size: the same absolute time (within 25%) on 20k, 100k and 300k databases.
For each size this script loads the generated sessions once (untimed, full_sync_workflow
restricted to invoices, as bench_sync.py's case b), then, --repeat times, copies that
loaded database, adds one newer session re-sending 1% of the invoices changed (bench_sync's
``add_incremental_session``) and times full_sync_workflow on the copy in its own process
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_sync  # noqa: E402  (benchmarks/ is not a package)

CODE_SCRIPT = bench_sync.PEAK_RSS + bench_sync.CASE_SCRIPT


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
    """A fresh copy of a loaded SQLite database (the WAL is checkpointed by the loading run)."""
    bench_sync.fresh(target)
    shutil.copyfile(source, target)
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


def bench_size(work: Path, size: int, repeat: int, variants: dict[str, Path | None]) -> dict[str, dict[str, float]]:
    data = bench_sync.generate(work, size)
    dbs = work / f"db_{size}"
    dbs.mkdir(exist_ok=True)
    bases = {name: base_db(dbs, name, code, data) for name, code in variants.items()}
    walls: dict[str, list[float]] = {name: [] for name in variants}
    cpus: dict[str, list[float]] = {name: [] for name in variants}
    for round_ in range(repeat):
        for name, code in variants.items():
            db = copy_db(bases[name], dbs / f"incr_{name}.db")
            changed, session = bench_sync.add_incremental_session(data)
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
    parser.add_argument("--before", type=Path, help="another checkout whose code is timed alternately")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    os.chdir(args.work)  # `python -c` puts the working directory first on sys.path: not a checkout
    variants: dict[str, Path | None] = {"this": None}
    if args.before is not None:
        variants = {"before": args.before.resolve(), "this": None}
    figures = {size: bench_size(args.work, size, args.repeat, variants) for size in sorted(args.sizes)}
    smallest = min(figures)
    print("\n1% incremental full_sync_workflow, medians (wall / CPU seconds, ratio to the smallest size):")
    for size, per_variant in figures.items():
        cells = []
        for name, fig in per_variant.items():
            ratio = fig["wall"] / figures[smallest][name]["wall"]
            cells.append(f"{name}: {fig['wall']:6.2f}s / {fig['cpu']:6.2f}s  x{ratio:.2f}")
        print(f"  {size:>7} invoices   " + "   ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
