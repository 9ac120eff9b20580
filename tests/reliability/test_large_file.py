"""A 1 GiB data file is streamed: the full workflow in a child process loads every record
while its peak resident memory stays under JSON2DB_MEMORY_LIMIT + 150 MiB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_session
from reliability_support import T_BASE, clean_env, rows

MEMORY_LIMIT_MB = 128
HEADROOM_MB = 150
TARGET_BYTES = 1024 * 1024 * 1024
CHUNK_RECORDS = 2000

SCRIPT = """
import json, sys
from json2db_sync import JSON2DBSyncRunner
result = JSON2DBSyncRunner(db_path=sys.argv[1], data_source=sys.argv[2]).full_sync_workflow(cutoff_days=3650)
print(json.dumps({"success": result["success"], "error": result["error"], "statistics": result["statistics"]}))
sys.exit(0 if result["success"] else 1)
"""


def write_big_invoices(path: Path, target_bytes: int) -> int:
    """Write ``[record, record, ...]`` of about ``target_bytes``: one ~4 KiB invoice template
    repeated with distinct ids, in chunks. Returns the number of records."""
    notes = ("Payment due within 30 days; thank you for your business. " * 70)[:3900]
    template = json.dumps(
        {
            "invoice_id": "ID",
            "invoice_number": "INV-ID",
            "customer_id": "c1",
            "date": "2026-06-09",
            "status": "sent",
            "last_modified_time": "2026-06-09T16:48:58-0400",
            "total": 125.5,
            "notes": notes,
        }
    ).encode()
    head, middle, tail = template.split(b"ID", 2)
    count = target_bytes // (len(template) + 8)
    with open(path, "wb") as handle:
        handle.write(b"[")
        for start in range(0, count, CHUNK_RECORDS):
            ids = range(start, min(start + CHUNK_RECORDS, count))
            chunk = b",".join(b"%s%d%s%d%s" % (head, i, middle, i, tail) for i in ids)
            handle.write(chunk if start == 0 else b"," + chunk)
        handle.write(b"]")
    return count


@pytest.mark.slow
def test_one_gigabyte_file_is_streamed_within_the_memory_limit(tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    folder = write_session(sessions, T_BASE, {"contacts": [{"contact_id": "c1", "contact_name": "Acme"}]})
    count = write_big_invoices(folder / "invoices.json", TARGET_BYTES)
    assert (folder / "invoices.json").stat().st_size > 0.95 * TARGET_BYTES
    db = tmp_path / "big.db"
    out_path, err_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with open(out_path, "wb") as out_file, open(err_path, "wb") as err_file:
        proc = subprocess.Popen(
            [sys.executable, "-c", SCRIPT, str(db), str(sessions)],
            cwd=tmp_path,
            env=clean_env(JSON2DB_MEMORY_LIMIT=str(MEMORY_LIMIT_MB)),
            stdout=out_file,
            stderr=err_file,
        )
        # The child's own peak RSS: ru_maxrss of this one child, in KiB on Linux.
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = out_path.read_text(), err_path.read_text()
    assert proc.returncode == 0, (out[-2000:], err[-2000:])
    result = json.loads(out)
    peak_mib = usage.ru_maxrss / 1024
    print(f"1 GiB file, {count} records: child peak RSS {peak_mib:.0f} MiB (limit {MEMORY_LIMIT_MB} + {HEADROOM_MB})")
    assert peak_mib < MEMORY_LIMIT_MB + HEADROOM_MB, f"peak RSS {peak_mib:.0f} MiB"
    assert result["statistics"]["total_records"] == count + 1
    assert rows(db, "SELECT COUNT(*), COUNT(DISTINCT id), SUM(total) FROM json_invoices") == [(count, count, 125.5 * count)]
