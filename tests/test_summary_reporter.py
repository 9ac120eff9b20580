"""summary_reporter: the report's shape and numbers on a known database, older schemas,
JSON-readiness, and the Markdown form."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from test_verifier import (  # the clean database the verifier tests use
    DATA_TIMESTAMP,
    NOW,
    OLDER_SCHEMAS,
    STAMP,
    Built,
    build_clean_database,
    build_older_database,
)

from json2db_sync import render
from json2db_sync.summary_reporter import report_to_markdown, summarize_database
from json2db_sync.units import human_size


@pytest.fixture
def clean_db(tmp_path: Path) -> Built:
    return build_clean_database(tmp_path)


def summarize(db_path: Path, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("now", NOW)
    with sqlite3.connect(db_path) as conn:
        report = summarize_database(conn, db_path=db_path, **kwargs)
    conn.close()
    return report


def table(name: str, records: int, columns: int, children: Sequence[str] = (), parent: str | None = None,
          newest: str | None = STAMP) -> dict[str, Any]:
    return {
        "name": name,
        "record_count": records,
        "column_count": columns,
        "child_tables": list(children),
        "newest_updated_at": newest,
        "is_child": parent is not None,
        "parent": parent,
    }


def test_summary_of_the_clean_database(clean_db: Built) -> None:
    report = summarize(clean_db.db_path)
    assert report == {
        "db_path": str(clean_db.db_path),
        "tables": [
            table("json_contacts", 2, 7),
            table("json_customerpayments", 1, 8, ["json_customerpayments_invoices"]),
            table("json_customerpayments_invoices", 1, 9, parent="json_customerpayments"),
            table("json_invoices", 2, 11, ["json_invoices_line_items"]),
            table("json_invoices_line_items", 3, 11, parent="json_invoices"),
            table("json_items", 3, 7),
        ],
        "total_records": 8,
        "sessions": {"count": 1, "oldest": DATA_TIMESTAMP, "newest": DATA_TIMESTAMP},
        "files_loaded": 4,
        "runs": [
            {
                "run_id": 2,
                "operation": "populate_tables",
                "status": "failed",
                "started_at": "2026-06-10 14:05:00",
                "finished_at": "2026-06-10 14:05:01",
                "duration_seconds": 1.0,
                "records": None,
                "error": "invoices.json: truncated JSON",
            },
            {
                "run_id": 1,
                "operation": "full_sync_workflow",
                "status": "success",
                "started_at": "2026-06-10 14:00:00",
                "finished_at": "2026-06-10 14:00:03",
                "duration_seconds": 3.0,
                "records": 8,
                "error": None,
            },
        ],
        "database_size_bytes": clean_db.db_path.stat().st_size,
        "rejected_records": 0,
        "freshness": {
            "newest_data_timestamp": DATA_TIMESTAMP,
            "age_hours": 2.0,
            "is_fresh": True,
            "max_age_hours": 24,
        },
    }
    json.dumps(report)


@pytest.mark.parametrize(
    ("kwargs", "key", "expected"),
    [
        ({"recent_runs": 1}, "runs", ["populate_tables"]),
        ({"recent_runs": 0}, "runs", []),
        ({"session_max_age_hours": 1}, "freshness", (False, 2.0)),
        ({"session_max_age_hours": 2}, "freshness", (True, 2.0)),
    ],
    ids=["one-run", "no-runs", "stale-after-one-hour", "fresh-at-exactly-the-limit"],
)
def test_summary_options(clean_db: Built, kwargs: dict[str, Any], key: str, expected: Any) -> None:
    report = summarize(clean_db.db_path, **kwargs)
    if key == "runs":
        assert [run["operation"] for run in report["runs"]] == expected
    else:
        assert (report["freshness"]["is_fresh"], report["freshness"]["age_hours"]) == expected


def test_summary_counts_the_wal_and_the_quarantine(clean_db: Built) -> None:
    conn = sqlite3.connect(clean_db.db_path)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute("INSERT INTO _json2db_rejected (entity, reason, rejected_at) VALUES ('items', 'no id', 'x')")
        conn.commit()
        wal = clean_db.db_path.with_name(clean_db.db_path.name + "-wal")
        report = summarize_database(conn, db_path=clean_db.db_path, now=NOW)
        assert wal.stat().st_size > 0
        assert report["database_size_bytes"] == clean_db.db_path.stat().st_size + wal.stat().st_size
        assert report["rejected_records"] == 1
    finally:
        conn.close()


@pytest.mark.parametrize("internal", list(OLDER_SCHEMAS.values()), ids=list(OLDER_SCHEMAS))
def test_summary_of_an_older_schema(tmp_path: Path, internal: list[str]) -> None:
    db_path = build_older_database(tmp_path / "old.db", internal)
    report = summarize(db_path)
    json.dumps(report)
    assert report["tables"] == [
        table("json_invoices", 1, 4, ["json_invoices_line_items"], newest=None),
        table("json_invoices_line_items", 1, 3, parent="json_invoices", newest=None),
        table("json_notes", 1, 2, newest=None),
    ]
    assert report["total_records"] == 2
    assert report["freshness"] == {
        "newest_data_timestamp": None,
        "age_hours": None,
        "is_fresh": False,
        "max_age_hours": 24,
    }
    expected_runs = [] if not internal else [
        {"run_id": 1, "operation": "sync", "status": "success", "started_at": None, "finished_at": None,
         "duration_seconds": None, "records": None, "error": None}
    ]
    assert report["runs"] == expected_runs
    assert report["sessions"] == {"count": 0, "oldest": None, "newest": None}
    assert report["files_loaded"] == (1 if internal else 0)


def test_summary_of_an_empty_database(tmp_path: Path) -> None:
    db_path = tmp_path / "empty.db"
    sqlite3.connect(db_path).close()
    report = summarize(db_path)
    assert (report["tables"], report["total_records"], report["runs"]) == ([], 0, [])
    assert "No `json_*` tables yet." in report_to_markdown(report)


# --- Markdown ---------------------------------------------------------------------------


def test_markdown_names_every_table_with_its_counts(clean_db: Built) -> None:
    text = report_to_markdown(summarize(clean_db.db_path))
    assert text.startswith("# json2db_sync database summary\n")
    for heading in ("## Tables", "## Sessions", "## Recent runs"):
        assert heading in text
    assert "| json_invoices | 2 | 11 | json_invoices_line_items | - | 2026-06-05 13:00:00 |" in text
    assert "| json_invoices_line_items | 3 | 11 | - | json_invoices | 2026-06-05 13:00:00 |" in text
    assert "- Records: 8 in 4 tables" in text
    assert "- Newest data: 2026-06-10 10:00:00 (2.0 hours old, fresh)" in text
    assert "| 1 | full_sync_workflow | success | 2026-06-10 14:00:00 | 3 s | 8 |  |" in text
    assert "## Checks" not in text


def test_markdown_of_a_runner_result_with_checks() -> None:
    result = {
        "success": False,
        "operation": "verify_tables",
        "tables": [table("json_a|b", 1, 5)],
        "checks": [
            {"name": "orphan_child_rows", "status": "error", "details": "json_x: 1 row\nmore", "count": 1,
             "examples": ["P-1", "P-2"]},
        ],
    }
    text = report_to_markdown(result)
    assert "| json_a\\|b | 1 | 5 | - | - | 2026-06-05 13:00:00 |" in text
    assert "| orphan_child_rows | error | 1 | json_x: 1 row more | P-1, P-2 |" in text


SIZES = pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (1023, "1023 B"), (2048, "2.0 KB"), (5 * 1024**3, "5.0 GB"), (None, "-")],
    ids=["zero", "bytes", "kilobytes", "gigabytes", "unknown"],
)


@SIZES
def test_human_size(size: object, text: str) -> None:
    assert human_size(size) == text


@SIZES
def test_markdown_and_terminal_show_the_same_size(size: object, text: str) -> None:
    """One human_size for both reports: the Markdown line and the terminal's Size row agree."""
    report = {"success": True, "operation": "generate_summary_report", "error": None, "error_type": None,
              "warnings": [], "db_path": "/d.db", "tables": [], "database_size_bytes": size}
    assert f"- Database: `/d.db` ({text})" in report_to_markdown(report)
    console = Console(file=io.StringIO(), width=120, color_system=None)
    render.render_result(console, report)
    size_rows = [line for line in console.file.getvalue().splitlines() if "Size" in line]  # type: ignore[attr-defined]
    assert len(size_rows) == 1 and size_rows[0].split("Size", 1)[1].strip(" │|") == text, size_rows
