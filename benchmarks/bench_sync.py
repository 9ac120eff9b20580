"""Benchmark: json2db_sync against a hand-written floor, measured in the same run.

Generates Zoho-shaped sessions with the sample-data generator, then measures whole-process
wall time and peak RSS (each case runs in its own process) for:

  a  floor        benchmarks/floor_loader.py on the invoice files (same rows, same job):
                  the fastest hand-written loader we could write (see its docstring)
  p  sqlite_utils benchmarks/peer_sqlite_utils.py: the same job with sqlite-utils, the peer a
                  user would otherwise pick (skipped, saying so, without pip install -e '.[bench]')
  b  full_sync    full_sync_workflow(entity_filter=["invoices"])
  c  populate     populate_tables(entity_filter=["invoices"])
  d  rerun        full_sync_workflow again on b's database, nothing new
  e  incremental  full_sync_workflow on b's database plus a session with 1% changed invoices
  f  big file     populate_tables on one invoices.json of about 1 GB (--big)
  all             full_sync_workflow over every entity (throughput only)

b, a, c and p alternate (--repeat times, in that order: the floor next to both of ours) so
that machine drift cancels; medians of wall time and of each process's own CPU time (user +
system: what a shared machine disturbs less) are reported with the ratios b/a, c/a, p/a, b/p,
d/b, e/b, and beside b/a and c/a the median of each round's own ratio (neighbours in time:
the steadier figure where the machine's speed drifts over minutes).

With --postgres-url (default: $JSON2DB_BENCH_POSTGRES_URL) the same is measured against a
PostgreSQL server, each case into a fresh schema bench_<case>_<size>. Outside the timed
processes, a schema is dropped before its case and right after it, except pg_full_sync's,
which is vacuumed and analysed instead and kept for pg_rerun and pg_incremental (so that
autovacuum on one case's tables neither slows the next case nor holds locks against it):

  pg_floor        benchmarks/floor_copy_postgres.py (orjson + flatten + COPY, one transaction)
  pg_full_sync    full_sync_workflow(entity_filter=["invoices"]) with db_url/db_schema
  pg_populate     populate_tables(entity_filter=["invoices"]) likewise
  pg_rerun        pg_full_sync again on pg_full_sync's schema, nothing new
  pg_incremental  pg_full_sync's schema plus a session with 1% changed invoices
  pg_floor_typed  (with --typed-floor) the floor writing typed tables with json2db_sync's
                  indexes and foreign keys (floor_copy_postgres.py --types; its schema is
                  derived once beforehand, untimed)

with the ratios pg_populate/pg_floor, pg_full_sync/pg_floor, pg_rerun/pg_full_sync and
pg_incremental/pg_full_sync (and pg_full_sync/pg_floor_typed). --only sqlite|postgres runs
one of the two. Usage:

    python benchmarks/bench_sync.py --sizes 20000 100000 --repeat 3 [--big] [--work DIR]
    python benchmarks/bench_sync.py --memory --sizes 20000 100000 300000 --big   (peak RSS only)
    python benchmarks/bench_sync.py --sizes 100000 --repeat 2 --only postgres \
        --postgres-url postgresql://user@127.0.0.1:5432/db
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
SESSION_FMT = "%Y-%m-%d_%H-%M-%S"

CASE_SCRIPT = r"""
import json, sys
from json2db_sync import JSON2DBSyncRunner
case, db, data = sys.argv[1], sys.argv[2], sys.argv[3]
runner = JSON2DBSyncRunner(db_path=db, data_source=data)
entities = None if case == "all" else ["invoices"]
if case == "populate":
    result = runner.populate_tables(cutoff_days=3650, entity_filter=entities)
else:
    result = runner.full_sync_workflow(cutoff_days=3650, entity_filter=entities)
stats = result.get("statistics", {})
print(json.dumps({"success": result["success"], "error": result["error"],
                  "rows": stats.get("total_records", 0) + stats.get("child_rows_written", 0),
                  "records": stats.get("total_records", 0), "peak_rss": peak_rss()}))
"""

PG_CASE_SCRIPT = r"""
import json, sys
from json2db_sync import JSON2DBSyncRunner
case, url, schema, data = sys.argv[1:5]
runner = JSON2DBSyncRunner(db_url=url, db_schema=schema, data_source=data)
if case == "populate":
    result = runner.populate_tables(cutoff_days=3650, entity_filter=["invoices"])
else:
    result = runner.full_sync_workflow(cutoff_days=3650, entity_filter=["invoices"])
stats = result.get("statistics", {})
print(json.dumps({"success": result["success"], "error": result["error"],
                  "rows": stats.get("total_records", 0) + stats.get("child_rows_written", 0),
                  "records": stats.get("total_records", 0), "peak_rss": peak_rss()}))
"""

PG_CASES = ("pg_floor", "pg_full_sync", "pg_populate")

# Peak RSS of this process image only: /proc/self/status VmHWM belongs to the memory map
# created by exec, whereas ru_maxrss would also count the benchmark process it was forked
# from (Linux keeps that high-water mark across exec).
PEAK_RSS = r"""
def peak_rss():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0
"""

FLOOR_SCRIPT = r"""
import json, runpy, sys
sys.argv = sys.argv[1:]
rows = runpy.run_path(sys.argv[0])["load"](sys.argv[1], sys.argv[2], sys.argv[3:])
print(json.dumps({"rows": rows, "peak_rss": peak_rss()}))
"""


def run_process(
    argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> tuple[float, int, dict]:
    """Wall seconds, peak RSS (bytes, as the process measured itself) and the JSON it printed."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    out = process.stdout.read().decode() if process.stdout else ""
    err = process.stderr.read().decode() if process.stderr else ""
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed ({process.returncode}):\n{err[-2000:]}")
    last = out.strip().splitlines()[-1] if out.strip() else "{}"
    if last.isdigit():
        payload = {"rows": int(last)}
    else:
        try:
            payload = json.loads(last)
        except ValueError:
            payload = {}
    if payload.get("success") is False:
        raise SystemExit(f"{argv[:4]} failed: {payload.get('error')}")
    payload["cpu_seconds"] = usage.ru_utime + usage.ru_stime  # the process's own CPU (user + system)
    return elapsed, int(payload.get("peak_rss") or usage.ru_maxrss * 1024), payload


def peer(db: Path, files: list[Path]) -> tuple[float, int, dict]:
    return run_process(
        [sys.executable, "-c", PEAK_RSS + FLOOR_SCRIPT, str(HERE / "peer_sqlite_utils.py"), str(db), "invoices",
         *map(str, files)]
    )


def have_peer() -> bool:
    try:
        import sqlite_utils  # noqa: F401
    except ImportError:
        print("  (sqlite-utils is not installed: pip install -e '.[bench]' adds the peer)", flush=True)
        return False
    return True


def ours(case: str, db: Path, data: Path) -> tuple[float, int, dict]:
    return run_process([sys.executable, "-c", PEAK_RSS + CASE_SCRIPT, case, str(db), str(data)])


def floor(db: Path, files: list[Path]) -> tuple[float, int, dict]:
    return run_process(
        [sys.executable, "-c", PEAK_RSS + FLOOR_SCRIPT, str(HERE / "floor_loader.py"), str(db), "invoices", *map(str, files)]
    )


def pg_ours(case: str, url: str, schema: str, data: Path) -> tuple[float, int, dict]:
    return run_process([sys.executable, "-c", PEAK_RSS + PG_CASE_SCRIPT, case, url, schema, str(data)])


def pg_floor(url: str, schema: str, files: list[Path], types_file: Path | None = None) -> tuple[float, int, dict]:
    typed = ["--types", str(types_file)] if types_file is not None else []
    return run_process([sys.executable, str(HERE / "floor_copy_postgres.py"), *typed, url, schema, *map(str, files)])


def pg_admin(url: str, *statements: str) -> None:
    """Statements run in the benchmark process (outside any timed case), autocommit."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def pg_fresh(url: str, schema: str) -> str:
    """Drop the schema (the case creates it again), then a CHECKPOINT so that no case pays
    for writing out the dirty pages of the one before (skipped without the privilege)."""
    import psycopg

    pg_admin(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    try:
        pg_admin(url, "CHECKPOINT")
    except psycopg.errors.InsufficientPrivilege:
        pass
    return schema


def pg_settle(url: str, schema: str, *, keep: bool) -> None:
    """After a case, untimed: autovacuum would start on the freshly loaded tables within a
    minute, take CPU from the next case and, worse, hold locks that a later run waits for
    (json2db_sync's lock timeout is 1 s: the rerun then fails). So the schema is dropped,
    or, when it is kept for the rerun and incremental cases, vacuumed and analysed now, as
    a nightly run would find it."""
    if not keep:
        pg_admin(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", (schema,)
        )]
        for table in tables:
            conn.execute(f'VACUUM ANALYZE "{schema}"."{table}"')


def pg_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        fsync = conn.execute("SHOW fsync").fetchone()[0]
        sync_commit = conn.execute("SHOW synchronous_commit").fetchone()[0]
    return f"PostgreSQL {version} (fsync {fsync}, synchronous_commit {sync_commit})"


def fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    shutil.rmtree(path.parent / "backups", ignore_errors=True)
    return path


def generate(work: Path, invoices: int) -> Path:
    from json2db_sync.sample_data import generate_sample_data

    data = work / f"data_{invoices}"
    if not (data / ".done").exists():
        shutil.rmtree(data, ignore_errors=True)
        started = time.perf_counter()
        generate_sample_data(data, days=3, seed=1, invoices=invoices)
        (data / ".done").write_text("ok")
        print(f"  generated {invoices} invoices in {time.perf_counter() - started:.1f}s", flush=True)
    return data


def invoice_files(data: Path) -> list[Path]:
    return sorted(data.glob("sync_session_*/raw_json/*/invoices.json"))


def add_incremental_session(data: Path, share: float = 0.01) -> tuple[int, Path]:
    """One newer session in ``data`` re-sending ``share`` of the invoices changed, as
    api_sync would add it; returns the count and the session folder (removed afterwards)."""
    import orjson

    newest = invoice_files(data)[-1]
    parsed = orjson.loads(newest.read_bytes())
    records = parsed["invoices"] if isinstance(parsed, dict) else parsed
    count = max(1, int(len(records) * share * 3))  # the newest session holds about a third
    changed = []
    stamp = datetime.now().strftime("%Y-%m-%dT%H:%M:%S") + "+0000"
    for record in records[:count]:
        record = dict(record)
        record["last_modified_time"] = stamp
        record["status"] = "paid"
        changed.append(record)
    when = datetime.now().strftime(SESSION_FMT)
    session = data / f"sync_session_{when}"
    folder = session / "raw_json" / when
    folder.mkdir(parents=True)
    (folder / "invoices.json").write_bytes(orjson.dumps(changed))
    return len(changed), session


def make_big_file(work: Path, template_data: Path, target_bytes: int) -> Path:
    """One invoices.json of about ``target_bytes``: the sample records repeated with new ids."""
    import orjson

    folder = work / "big" / "raw_json" / "2026-01-01_00-00-00"
    target = folder / "invoices.json"
    if target.exists() and target.stat().st_size >= target_bytes * 0.9:
        return work / "big"
    folder.mkdir(parents=True, exist_ok=True)
    parsed = orjson.loads(invoice_files(template_data)[0].read_bytes())
    records = parsed["invoices"] if isinstance(parsed, dict) else parsed
    written = 0
    serial = 0
    with open(target, "wb") as handle:
        handle.write(b"[")
        while written < target_bytes:
            for record in records:
                serial += 1
                clone = dict(record)
                clone["invoice_id"] = str(900000000000000000 + serial)
                chunk = (b"," if serial > 1 else b"") + orjson.dumps(clone)
                handle.write(chunk)
                written += len(chunk)
                if written >= target_bytes:
                    break
        handle.write(b"]")
    return work / "big"


def median(values: list[float]) -> float:
    return statistics.median(values)


def mib(value: float) -> str:
    return f"{value / 2**20:.0f} MiB"


def bench_size(work: Path, invoices: int, repeat: int) -> dict:
    print(f"\n== {invoices} invoices ==", flush=True)
    data = generate(work, invoices)
    files = invoice_files(data)
    json_bytes = sum(f.stat().st_size for f in files)
    dbs = work / f"db_{invoices}"
    dbs.mkdir(exist_ok=True)
    # The floor runs between json2db_sync's two cases, so that each of them has it next to it
    # in time: on a shared machine whose speed drifts over minutes, a round's own ratios
    # compare neighbours (their median is printed beside the ratio of the medians).
    cases = ("full_sync", "floor", "populate", "sqlite_utils") if have_peer() else ("full_sync", "floor", "populate")
    times: dict[str, list[float]] = {case: [] for case in cases}
    cpu: dict[str, list[float]] = {case: [] for case in cases}
    rss: dict[str, list[int]] = {k: [] for k in times}
    rows: dict[str, int] = {}
    for round_ in range(repeat):
        for case in cases:
            db = fresh(dbs / f"{case}.db")
            if case == "floor":
                elapsed, peak, payload = floor(db, files)
            elif case == "sqlite_utils":
                elapsed, peak, payload = peer(db, files)
            else:
                elapsed, peak, payload = ours(case, db, data)
            times[case].append(elapsed)
            cpu[case].append(payload["cpu_seconds"])
            rss[case].append(peak)
            rows[case] = payload.get("rows", 0)
            print(f"  round {round_ + 1} {case:<12} {elapsed:7.2f}s  CPU {payload['cpu_seconds']:6.2f}s"
                  f"  {mib(peak):>9}  rows {rows[case]}", flush=True)
        print(f"  round {round_ + 1} ratios (wall): full_sync/floor {times['full_sync'][-1] / times['floor'][-1]:.2f}"
              f"  populate/floor {times['populate'][-1] / times['floor'][-1]:.2f}"
              + (f"  sqlite_utils/floor {times['sqlite_utils'][-1] / times['floor'][-1]:.2f}" if "sqlite_utils" in cases else ""),
              flush=True)
    first_load = median(times["full_sync"])
    rerun_t, rerun_rss, _ = ours("full_sync", dbs / "full_sync.db", data)
    changed, session = add_incremental_session(data)
    try:
        incr_t, incr_rss, _ = ours("full_sync", dbs / "full_sync.db", data)
    finally:
        shutil.rmtree(session)
    all_db = fresh(dbs / "all.db")
    all_t, all_rss, all_payload = ours("all", all_db, data)
    all_bytes = sum(f.stat().st_size for f in data.glob("sync_session_*/raw_json/*/*.json"))
    result = {
        "invoices": invoices,
        "json_mb_invoice_files": round(json_bytes / 1e6, 1),
        "rows": rows,
        "seconds": {k: round(median(v), 3) for k, v in times.items()},
        "cpu_seconds": {k: round(median(v), 3) for k, v in cpu.items()},
        "peak_rss_mib": {k: round(max(v) / 2**20) for k, v in rss.items()},
        "rerun_seconds": round(rerun_t, 3),
        "incremental_seconds": round(incr_t, 3),
        "incremental_changed_invoices": changed,
        "all_entities": {
            "seconds": round(all_t, 3),
            "rows": all_payload.get("rows", 0),
            "json_mb": round(all_bytes / 1e6, 1),
            "peak_rss_mib": round(all_rss / 2**20),
        },
    }
    result["round_ratios"] = {
        f"{case}/floor": [round(t / f, 3) for t, f in zip(times[case], times["floor"])]
        for case in cases if case != "floor"
    }
    seconds = result["seconds"]
    print(f"  rows/s   floor {rows['floor'] / seconds['floor']:,.0f}  full_sync {rows['full_sync'] / seconds['full_sync']:,.0f}"
          f"  populate {rows['populate'] / seconds['populate']:,.0f}")
    print(f"  MB/s     floor {json_bytes / 1e6 / seconds['floor']:.1f}  full_sync {json_bytes / 1e6 / seconds['full_sync']:.1f}"
          f"  populate {json_bytes / 1e6 / seconds['populate']:.1f}")
    cpu_s = result["cpu_seconds"]
    in_round = {key: median(values) for key, values in result["round_ratios"].items()}
    print(f"  ratio b/a (full_sync / floor)  {seconds['full_sync'] / seconds['floor']:.2f}"
          f"  (CPU {cpu_s['full_sync'] / cpu_s['floor']:.2f}; median of the rounds' own {in_round['full_sync/floor']:.2f})")
    print(f"  ratio c/a (populate / floor)   {seconds['populate'] / seconds['floor']:.2f}"
          f"  (CPU {cpu_s['populate'] / cpu_s['floor']:.2f}; median of the rounds' own {in_round['populate/floor']:.2f})")
    if "sqlite_utils" in cases:
        print(f"  ratio p/a (sqlite_utils / floor) {seconds['sqlite_utils'] / seconds['floor']:.2f}"
              f"  (CPU {cpu_s['sqlite_utils'] / cpu_s['floor']:.2f})")
        print(f"  ratio b/p (full_sync / sqlite_utils) {seconds['full_sync'] / seconds['sqlite_utils']:.2f}"
              f"  (CPU {cpu_s['full_sync'] / cpu_s['sqlite_utils']:.2f})")
    print(f"  ratio d/b (no-change rerun)    {rerun_t / first_load:.3f}  ({rerun_t:.2f}s, {mib(rerun_rss)})")
    print(f"  ratio e/b (1% incremental)     {incr_t / first_load:.3f}  ({incr_t:.2f}s, {changed} invoices, {mib(incr_rss)})")
    print("  peak RSS " + "  ".join(f"{case} {mib(max(rss[case]))}" for case in cases))
    print(f"  all entities: {all_payload.get('rows', 0):,} rows, {all_bytes / 1e6:.0f} MB in {all_t:.1f}s"
          f" = {all_payload.get('rows', 0) / all_t:,.0f} rows/s, {all_bytes / 1e6 / all_t:.1f} MB/s, peak {mib(all_rss)}")
    return result


def bench_postgres(work: Path, invoices: int, repeat: int, url: str, typed_floor: bool = False) -> dict:
    print(f"\n== {invoices} invoices, PostgreSQL ==", flush=True)
    data = generate(work, invoices)
    files = invoice_files(data)
    json_bytes = sum(f.stat().st_size for f in files)
    cases = PG_CASES + (("pg_floor_typed",) if typed_floor else ())
    types_file = work / f"floor_types_{invoices}.json"
    if typed_floor:  # the typed floor's "hand-written" schema, derived once and not timed
        run_process([sys.executable, str(HERE / "floor_copy_postgres.py"), "--derive-types", str(types_file),
                     *map(str, files)])
    times: dict[str, list[float]] = {case: [] for case in cases}
    cpu: dict[str, list[float]] = {case: [] for case in cases}
    rss: dict[str, list[int]] = {case: [] for case in cases}
    rows: dict[str, int] = {}
    schemas = {case: f"bench_{case}_{invoices}" for case in cases}
    for round_ in range(repeat):
        for case in cases:
            schema = pg_fresh(url, schemas[case])
            if case == "pg_floor":
                elapsed, peak, payload = pg_floor(url, schema, files)
            elif case == "pg_floor_typed":
                elapsed, peak, payload = pg_floor(url, schema, files, types_file)
            else:
                elapsed, peak, payload = pg_ours(case[3:], url, schema, data)
            times[case].append(elapsed)
            cpu[case].append(payload["cpu_seconds"])
            rss[case].append(peak)
            rows[case] = payload.get("rows", 0)
            pg_settle(url, schema, keep=case == "pg_full_sync")
            print(f"  round {round_ + 1} {case:<14} {elapsed:7.2f}s  {rows[case] / elapsed:9,.0f} rows/s"
                  f"  {mib(peak):>9}  rows {rows[case]}  client CPU {payload['cpu_seconds']:.2f}s", flush=True)
        # The machine is shared: the cases of one round ran back to back, so their ratio
        # is the least disturbed by load that comes and goes.
        print(f"  round {round_ + 1} ratios: full_sync/floor {times['pg_full_sync'][-1] / times['pg_floor'][-1]:.2f}"
              f"  populate/floor {times['pg_populate'][-1] / times['pg_floor'][-1]:.2f}"
              + (f"  full_sync/floor_typed {times['pg_full_sync'][-1] / times['pg_floor_typed'][-1]:.2f}"
                 if typed_floor else ""), flush=True)
    first_load = median(times["pg_full_sync"])
    full_schema = schemas["pg_full_sync"]
    rerun_t, rerun_rss, _ = pg_ours("full_sync", url, full_schema, data)
    print(f"  pg_rerun             {rerun_t:7.2f}s  {mib(rerun_rss):>9}", flush=True)
    changed, session = add_incremental_session(data)
    try:
        incr_t, incr_rss, incr_payload = pg_ours("full_sync", url, full_schema, data)
    finally:
        shutil.rmtree(session)
    print(f"  pg_incremental       {incr_t:7.2f}s  {mib(incr_rss):>9}  rows {incr_payload.get('rows', 0)}", flush=True)
    seconds = {k: median(v) for k, v in times.items()}
    result = {
        "invoices": invoices,
        "json_mb_invoice_files": round(json_bytes / 1e6, 1),
        "rows": rows,
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "rows_per_second": {k: round(rows[k] / seconds[k]) for k in cases},
        "client_cpu_seconds": {k: round(median(v), 3) for k, v in cpu.items()},
        "round_ratios_full_sync_floor": [round(f / a, 3) for f, a in zip(times["pg_full_sync"], times["pg_floor"])],
        "peak_rss_mib": {k: round(max(v) / 2**20) for k, v in rss.items()},
        "rerun_seconds": round(rerun_t, 3),
        "rerun_peak_rss_mib": round(rerun_rss / 2**20),
        "incremental_seconds": round(incr_t, 3),
        "incremental_peak_rss_mib": round(incr_rss / 2**20),
        "incremental_changed_invoices": changed,
        "ratios": {
            "pg_populate/pg_floor": round(seconds["pg_populate"] / seconds["pg_floor"], 3),
            "pg_full_sync/pg_floor": round(seconds["pg_full_sync"] / seconds["pg_floor"], 3),
            "pg_rerun/pg_full_sync": round(rerun_t / first_load, 4),
            "pg_incremental/pg_full_sync": round(incr_t / first_load, 4),
        },
    }
    print("  median   " + "  ".join(f"{case} {seconds[case]:.2f}s" for case in cases))
    print("  rows/s   " + "  ".join(f"{case} {rows[case] / seconds[case]:,.0f}" for case in cases))
    print("  MB/s     " + "  ".join(f"{case} {json_bytes / 1e6 / seconds[case]:.1f}" for case in cases))
    print(f"  ratio pg_full_sync / pg_floor       {seconds['pg_full_sync'] / seconds['pg_floor']:.2f}")
    print(f"  ratio pg_populate / pg_floor        {seconds['pg_populate'] / seconds['pg_floor']:.2f}")
    print(f"  ratio pg_rerun / pg_full_sync       {rerun_t / first_load:.3f}  ({rerun_t:.2f}s, {mib(rerun_rss)})")
    print(f"  ratio pg_incremental / pg_full_sync {incr_t / first_load:.3f}"
          f"  ({incr_t:.2f}s, {changed} invoices, {mib(incr_rss)})")
    if typed_floor:
        typed_ratio = seconds["pg_full_sync"] / seconds["pg_floor_typed"]
        result["ratios"]["pg_full_sync/pg_floor_typed"] = round(typed_ratio, 3)
        print(f"  ratio pg_full_sync / pg_floor_typed {typed_ratio:.2f}  (a second yardstick: see floor_copy_postgres.py)")
    print("  peak RSS " + "  ".join(f"{case} {mib(max(rss[case]))}" for case in cases))
    print("  client CPU (median) " + "  ".join(f"{case} {median(cpu[case]):.2f}s" for case in cases))
    return result


def bench_big(work: Path, template: Path, target_bytes: int) -> dict:
    print(f"\n== one file of {target_bytes / 1e9:.1f} GB ==", flush=True)
    data = make_big_file(work, template, target_bytes)
    size = sum(f.stat().st_size for f in data.rglob("*.json"))
    db = fresh(work / "big.db")
    elapsed, peak, payload = ours("populate", db, data)
    print(f"  {size / 1e9:.2f} GB in {elapsed:.1f}s = {size / 1e6 / elapsed:.1f} MB/s, "
          f"{payload.get('rows', 0) / elapsed:,.0f} rows/s, peak RSS {mib(peak)}")
    return {"bytes": size, "seconds": round(elapsed, 2), "rows": payload.get("rows", 0), "peak_rss_mib": round(peak / 2**20)}


MEMORY_TARGET_MIB = 400  # issue 18: peak RSS at every size and on a 1 GB file


def bench_memory(work: Path, invoices: int) -> dict:
    """Peak RSS of full_sync and populate at one size, without the floor and the peer (the
    peer parses whole files: several GiB at 300,000 invoices) and without repeats: memory,
    unlike time, does not move with the machine's load."""
    print(f"\n== {invoices} invoices, memory ==", flush=True)
    data = generate(work, invoices)
    dbs = work / f"db_{invoices}"
    dbs.mkdir(exist_ok=True)
    result: dict = {"invoices": invoices}
    for case in ("full_sync", "populate"):
        elapsed, peak, payload = ours(case, fresh(dbs / f"{case}.db"), data)
        verdict = "within" if peak / 2**20 <= MEMORY_TARGET_MIB else "ABOVE"
        print(f"  {case:<10} {elapsed:7.2f}s  CPU {payload['cpu_seconds']:6.2f}s  peak RSS {mib(peak)}"
              f"  ({verdict} the {MEMORY_TARGET_MIB} MiB target)  rows {payload.get('rows', 0)}", flush=True)
        result[case] = {"seconds": round(elapsed, 2), "peak_rss_mib": round(peak / 2**20), "rows": payload.get("rows", 0)}
    return result


def help_time() -> float:
    exe = Path(sys.executable).with_name("json2db-sync")
    argv = [str(exe), "--help"] if exe.exists() else [sys.executable, "-m", "json2db_sync", "--help"]
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        samples.append(time.perf_counter() - started)
    return median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--big", action="store_true", help="also load one ~1 GB file")
    parser.add_argument("--big-bytes", type=float, default=1e9)
    parser.add_argument("--work", type=Path, default=Path("/tmp/json2db_bench"))
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("JSON2DB_BENCH_POSTGRES_URL"),
        help="PostgreSQL server for the pg_* cases (default: $JSON2DB_BENCH_POSTGRES_URL); "
        "its schemas bench_pg_*_<size> are dropped and re-created",
    )
    parser.add_argument("--only", choices=("sqlite", "postgres"), help="run only the SQLite or the PostgreSQL cases")
    parser.add_argument("--memory", action="store_true",
                        help="SQLite: only the peak RSS of full_sync and populate per size (no floor, no peer, "
                        "no repeats), and of the big file with --big")
    parser.add_argument("--typed-floor", action="store_true",
                        help="PostgreSQL: also time the typed floor (floor_copy_postgres.py --types)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    run_sqlite = args.only != "postgres"
    run_postgres = args.only != "sqlite" and not args.memory
    if run_postgres and not args.postgres_url:
        print("note: PostgreSQL cases skipped (no --postgres-url and JSON2DB_BENCH_POSTGRES_URL is not set)")
        run_postgres = False
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SQLite {__import__('sqlite3').sqlite_version}"
          + (f", {pg_version(args.postgres_url)}" if run_postgres else ""))
    figures: dict = {"sizes": []}
    for size in args.sizes:
        if args.memory:
            figures.setdefault("memory", []).append(bench_memory(args.work, size))
            continue
        if run_sqlite:
            figures["sizes"].append(bench_size(args.work, size, args.repeat))
        if run_postgres:
            figures.setdefault("postgres", []).append(bench_postgres(args.work, size, args.repeat, args.postgres_url, args.typed_floor))
    if args.big and run_sqlite:
        figures["big"] = bench_big(args.work, generate(args.work, args.sizes[0]), int(args.big_bytes))
    if run_sqlite and not args.memory:
        figures["help_seconds"] = round(help_time(), 3)
        print(f"\njson2db-sync --help: {figures['help_seconds']:.3f}s")
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
