"""Issue 19, "first hour": what a newcomer meets, driven through the real command line
(subprocess, no terminal), in a workspace laid out like the guide."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from test_cli import cwd, run_cli, sample, synced  # noqa: F401  (fixtures)


def _orphan_a_line_item(db_path: Path) -> str:
    """Delete one invoice behind the tool's back, leaving its line items (foreign keys off)."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        (parent,) = conn.execute("SELECT parent_id FROM json_invoices_line_items LIMIT 1").fetchone()
        conn.execute("DELETE FROM json_invoices WHERE id = ?", (parent,))
    finally:
        conn.close()
    return str(parent)


def test_failed_verify_prints_the_failing_checks_with_examples_and_fitting_advice(synced: Path, cwd: Path) -> None:
    orphan = _orphan_a_line_item(synced)
    result = run_cli(cwd, "verify")
    assert result.code == 1
    assert result.out == ""
    err = result.err
    for name in ("foreign_key_check", "orphan_child_rows"):
        assert f"ERROR {name} (" in err
    assert orphan in err  # an example row names the missing parent
    assert "have no parent document" in err  # the orphan check's own advice
    assert "json2db-sync recreate" in err
    assert "JSON2DB_ON_INVALID_FILE" not in err  # no advice about invalid files
    assert "Each check listed says what is wrong" in err


def test_failed_verify_json_carries_the_advice_of_each_failing_check(synced: Path, cwd: Path) -> None:
    _orphan_a_line_item(synced)
    result = run_cli(cwd, "--json", "verify")
    assert result.code == 1
    checks = {c["name"]: c for c in result.json["checks"]}
    assert "have no parent document" in checks["orphan_child_rows"]["advice"]
    assert all("advice" not in c for c in checks.values() if c["status"] == "ok")
    json.dumps(result.json)
