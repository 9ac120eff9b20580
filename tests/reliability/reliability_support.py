"""Shared helpers of the reliability suite: records, a checksum of the whole data state,
the command line in a subprocess, and running a child as an unprivileged user.

Deliberately not a ``conftest.py``: ``test_sigkill.py`` and ``tests/test_guide_examples.py`` import the root
conftest by its bare module name (``from conftest import write_session``), and a second
``conftest.py`` without ``__init__.py`` would shadow it in ``sys.modules``.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

NOW = datetime.now().replace(microsecond=0)
T_BASE = NOW - timedelta(days=3)
T_NEW = NOW - timedelta(days=1)
T_NEWER = NOW - timedelta(hours=2)

# Tables whose whole content must be unchanged by a failed run (the run history is not:
# a failed run leaves one "failed" line there on purpose).
STATE_TABLES_EXTRA = ("_json2db_files", "_json2db_rejected", "_json2db_columns", "_json2db_tables")
# When the tool wrote a ledger or quarantine row: wall-clock, so left out of comparisons
# between two runs (every other column must match).
CLOCK_COLUMNS = frozenset({"loaded_at", "rejected_at"})

# The full workflow in a child. When RELIABILITY_DROP_UID is set, the child imports every
# module it will need first and only then becomes that user: the interpreter itself may live
# where an unprivileged user cannot read (pyenv under /root), the data and database may not.
SYNC_SCRIPT = """
import json, os, sys
from json2db_sync import JSON2DBSyncRunner
if os.environ.get("RELIABILITY_DROP_UID"):
    # Warm up: one real sync in a scratch folder loads every module a run uses (and the
    # error paths' modules below), while the interpreter's own files can still be read.
    import tempfile, traceback, linecache, tokenize, _strptime, encodings.idna
    from pathlib import Path
    with tempfile.TemporaryDirectory() as scratch:
        JSON2DBSyncRunner(db_path=Path(scratch) / "warm.db", data_source=Path(scratch) / "s").generate_sample_data(
            out_dir=Path(scratch) / "s", days=1, invoices=2)
        warm = JSON2DBSyncRunner(db_path=Path(scratch) / "warm.db", data_source=Path(scratch) / "s")
        assert warm.full_sync_workflow()["success"]
        warm.create_backup()
    os.setgroups([])
    os.setgid(int(os.environ["RELIABILITY_DROP_GID"]))
    os.setuid(int(os.environ["RELIABILITY_DROP_UID"]))
result = JSON2DBSyncRunner().full_sync_workflow()
print(json.dumps({k: result[k] for k in ("success", "error", "error_type", "warnings")}))
sys.exit(0 if result["success"] else 1)
"""


def invoice(invoice_id: str, total: float = 10.0, modified: str = "2026-06-09T16:48:58-0400", **fields: Any) -> dict[str, Any]:
    """A small Zoho-shaped invoice with two line items."""
    record: dict[str, Any] = {
        "invoice_id": invoice_id,
        "invoice_number": f"INV-{invoice_id}",
        "customer_id": "c1",
        "date": "2026-06-09",
        "status": "sent",
        "created_time": "2026-06-09T10:00:00-0400",
        "last_modified_time": modified,
        "line_items": [
            {"line_item_id": f"{invoice_id}-1", "item_id": "it1", "rate": total / 2, "quantity": 1, "item_total": total / 2},
            {"line_item_id": f"{invoice_id}-2", "item_id": "it1", "rate": total / 2, "quantity": 1, "item_total": total / 2},
        ],
        "sub_total": total,
        "total": total,
    }
    record.update(fields)
    return record


def contact(contact_id: str, name: str = "Acme") -> dict[str, Any]:
    return {"contact_id": contact_id, "contact_name": name, "contact_type": "customer"}


BASE_ENTITIES: dict[str, Any] = {
    "invoices": [invoice("1001", 10.0), invoice("1002", 20.0)],
    "contacts": [contact("c1"), contact("c2", "Globex")],
}


def rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def table_names(db: Path) -> list[str]:
    return [r[0] for r in rows(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]


def data_state(db: Path) -> dict[str, Any]:
    """Every row of every json_* table and of the tool's state tables, plus the schema.

    The database must also pass integrity_check: a state is only compared when it is sound.
    """
    uri = f"{db.resolve().as_uri()}?mode=ro"
    with sqlite3.connect(uri, uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        names = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            if r[0].startswith("json_") or r[0] in STATE_TABLES_EXTRA
        ]
        state: dict[str, Any] = {
            "schema": sorted(
                (r[0], r[1] or "")
                for r in conn.execute("SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
                if r[0] != "_json2db_runs"
            )
        }
        for name in names:
            quoted = '"' + name.replace('"', '""') + '"'
            cursor = conn.execute(f"SELECT * FROM {quoted}")
            keep = [i for i, d in enumerate(cursor.description) if d[0] not in CLOCK_COLUMNS]
            state[name] = sorted(repr(tuple(row[i] for i in keep)) for row in cursor)
    return state


def checksum(db: Path) -> str:
    """A digest of :func:`data_state`: equal digests, same data."""
    return hashlib.sha256(json.dumps(data_state(db), sort_keys=True).encode()).hexdigest()


def clean_env(**extra: str) -> dict[str, str]:
    """The process environment without JSON2DB_* variables, plain output, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSON2DB_")}
    env.update({"NO_COLOR": "1", "COLUMNS": "200", "TERM": "dumb"})
    env.update(extra)
    return env


def run_cli(cwd: Path, *args: str, env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """``python -m json2db_sync ARGS`` as cron runs it (no terminal, no JSON2DB_* leaking in)."""
    return subprocess.run(
        [sys.executable, "-m", "json2db_sync", *args],
        cwd=cwd,
        env=clean_env(**(env or {})),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
        **kwargs,
    )


def assert_no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback (most recent call last)" not in text, text
        assert "internal_error" not in text, text


# --- unprivileged children -----------------------------------------------------------


def unprivileged() -> dict[str, str]:
    """Environment for :func:`run_sync_child` that makes the child drop to ``nobody`` when
    we are root (root ignores file modes, so permission cases only mean something for
    another user); empty when we are not root. Skips the test when no such user exists.
    """
    if os.geteuid() != 0:
        return {}
    try:
        user = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("running as root and there is no 'nobody' user to drop privileges to")
    return {"RELIABILITY_DROP_UID": str(user.pw_uid), "RELIABILITY_DROP_GID": str(user.pw_gid)}


def child_uid() -> int:
    """The uid the permission-case children run as."""
    return pwd.getpwnam("nobody").pw_uid if os.geteuid() == 0 else os.getuid()


def give_tree(root: Path) -> None:
    """Make ``root`` (and everything in it) owned by the child's user, so that modes bite
    exactly as they would for a real unprivileged user, and reachable from ``/``."""
    uid = child_uid()
    gid = pwd.getpwuid(uid).pw_gid
    for path in [root, *root.rglob("*")]:
        os.lchown(path, uid, gid)
    # Every parent up to / must be traversable for that user.
    for parent in root.parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod((mode & 0o7777) | 0o001)


def run_sync_child(
    cwd: Path, env: dict[str, str] | None = None, **kwargs: Any
) -> tuple[int, dict[str, Any], str]:
    """The full workflow in a child process; returns (exit status, result summary, stderr)."""
    proc = subprocess.run(
        [sys.executable, "-c", SYNC_SCRIPT],
        cwd=cwd,
        env=clean_env(**(env or {})),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
        **kwargs,
    )
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "{}"
    try:
        summary = json.loads(last)
    except ValueError:
        summary = {"unparsed_stdout": proc.stdout}
    return proc.returncode, summary, proc.stderr
