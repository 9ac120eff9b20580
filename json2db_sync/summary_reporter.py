"""Reporter stage: a read-only summary of the database as plain, JSON-ready data, and
its Markdown form; imports stdlib, ``sql_dialect``, ``catalog`` (the tables, their row
counts and the freshness rule, the same the checks use, so that the report and the checks
agree) and ``units`` (sizes as the terminal shows them). No rich here: the menu and the CLI
render the dict.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from . import sql_dialect as sd
from .catalog import (
    DB_TIME_FORMAT,
    Catalog,
    TableInfo,
    assess_freshness,
    ledger_summary,
    newest_updated_at,
    parse_db_time,
    read_catalog,
    read_rows,
    row_count,
)
from .destinations import dialect_of
from .units import human_size

logger = logging.getLogger(__name__)

RUN_COLUMNS = ("run_id", "operation", "status", "started_at", "finished_at", "statistics", "error")
LEDGER_COLUMNS = ("session", "data_timestamp")
WAL_SUFFIX = "-wal"


def summarize_database(
    conn: Any,
    *,
    db_path: Path | str,
    size_bytes: int | None = None,
    session_max_age_hours: float = 24,
    now: datetime | None = None,
    recent_runs: int = 5,
) -> dict[str, Any]:
    """What the database holds, for people: tables and counts, sessions and files
    loaded, the last runs, size, quarantine and freshness.

    Every value is plain JSON data (str, int, float, bool, None, lists, dicts). A
    database written by an older version reports what it has (missing internal tables
    read as empty).
    """
    catalog = read_catalog(conn)
    tables = [_table_summary(conn, catalog, table) for table in catalog.tables.values()]
    freshness = assess_freshness(conn, catalog, max_age_hours=session_max_age_hours, now=now)
    report: dict[str, Any] = {
        "db_path": str(db_path),
        "tables": tables,
        "total_records": sum(t["record_count"] for t in tables if not t["is_child"]),
        "sessions": _sessions(conn, catalog),
        "files_loaded": _count(conn, catalog, sd.FILES_TABLE),
        "runs": _recent_runs(conn, catalog, recent_runs),
        "database_size_bytes": _database_size(conn, db_path, size_bytes),
        "rejected_records": _count(conn, catalog, sd.REJECTED_TABLE),
        "freshness": freshness.as_dict(),
    }
    logger.info("summarized %d tables, %d records", len(tables), report["total_records"])
    return report


def _database_size(conn: Any, db_path: Path | str, size_bytes: int | None) -> int | None:
    """``size_bytes`` when the caller measured it (the runner asks its destination);
    else a SQLite file's bytes on disk, or what the server says the schema's tables
    take (PostgreSQL); None when neither can be known (a label that names no file)."""
    if size_bytes is not None:
        return size_bytes
    if isinstance(db_path, Path):
        return database_size(db_path)
    query = dialect_of(conn).SCHEMA_SIZE
    if query is None:
        return None
    row = conn.execute(query).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def _table_summary(conn: Any, catalog: Catalog, table: TableInfo) -> dict[str, Any]:
    return {
        "name": table.name,
        "record_count": row_count(conn, table.name),
        "column_count": len(table.columns),
        "child_tables": [child.name for child in catalog.children_of(table.name)],
        "newest_updated_at": _time_text(newest_updated_at(conn, table)),
        "is_child": table.is_child,
        "parent": table.parent,
    }


def _count(conn: Any, catalog: Catalog, table: str) -> int:
    if table not in catalog.internal:
        return 0
    return row_count(conn, table)


def _time_text(value: object) -> str | None:
    """A stored time as the tool's text: as stored, or a datetime (a database that
    hands back its own timestamp type) as UTC ``YYYY-MM-DD HH:MM:SS``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = parse_db_time(value)
        return moment.strftime(DB_TIME_FORMAT) if moment is not None else str(value)
    return str(value)


def _sessions(conn: Any, catalog: Catalog) -> dict[str, Any]:
    """Distinct sessions in the ledger and the oldest and newest data time."""
    summary = ledger_summary(conn, catalog)
    if summary is not None:
        count, oldest, newest, _ = summary
        return {
            "count": count,
            "oldest": str(oldest) if oldest else None,
            "newest": str(newest) if newest else None,
        }
    rows = list(read_rows(conn, catalog, sd.FILES_TABLE, LEDGER_COLUMNS))
    sessions = {row["session"] for row in rows if row["session"]}
    stamps = sorted(str(row["data_timestamp"]) for row in rows if row["data_timestamp"])
    return {
        "count": len(sessions),
        "oldest": stamps[0] if stamps else None,
        "newest": stamps[-1] if stamps else None,
    }


def _recent_runs(conn: Any, catalog: Catalog, limit: int) -> list[dict[str, Any]]:
    """The last runs, newest first, with their duration and records read."""
    rows = read_rows(
        conn, catalog, sd.RUNS_TABLE, RUN_COLUMNS, order_by="run_id", descending=True, limit=limit
    )
    return [
        {
            "run_id": row["run_id"],
            "operation": row["operation"],
            "status": row["status"],
            "started_at": row["started_at"],
            "finished_at": row["finished_at"],
            "duration_seconds": _duration(row["started_at"], row["finished_at"]),
            "records": _total_records(row["statistics"]),
            "error": row["error"],
        }
        for row in rows
    ]


def _duration(started: object, finished: object) -> float | None:
    start, end = parse_db_time(started), parse_db_time(finished)
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def _total_records(statistics: object) -> int | None:
    """``statistics.total_records`` of a run, when its JSON holds one."""
    if not isinstance(statistics, str):
        return None
    try:
        parsed = json.loads(statistics)
    except ValueError:
        return None
    value = parsed.get("total_records") if isinstance(parsed, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def database_size(db_path: Path) -> int:
    """Bytes on disk: the database file plus its write-ahead log."""
    total = 0
    for path in (db_path, db_path.with_name(db_path.name + WAL_SUFFIX)):
        try:
            total += path.stat().st_size
        except OSError:
            continue
    return total


# --- Markdown ---------------------------------------------------------------------------


def report_to_markdown(report: Mapping[str, Any]) -> str:
    """The summary (a runner result or :func:`summarize_database`'s dict) as Markdown,
    for ``--format markdown``; checks are included when the dict carries them."""
    lines = ["# json2db_sync database summary", ""]
    lines += _overview(report)
    lines += _tables_section(report.get("tables") or [])
    lines += _sessions_section(report.get("sessions") or {})
    lines += _runs_section(report.get("runs") or [])
    if report.get("checks"):
        lines += _checks_section(report["checks"])
    return "\n".join(lines).rstrip() + "\n"


def _overview(report: Mapping[str, Any]) -> list[str]:
    lines = []
    if report.get("db_path"):
        lines.append(f"- Database: `{report['db_path']}` ({human_size(report.get('database_size_bytes'))})")
    tables = report.get("tables") or []
    main_tables = sum(1 for t in tables if not t.get("is_child"))
    lines.append(f"- Records: {report.get('total_records', 0)} in {main_tables} tables")
    lines.append(f"- Files loaded: {report.get('files_loaded', 0)}")
    lines.append(f"- Rejected records: {report.get('rejected_records', 0)}")
    freshness = report.get("freshness") or {}
    if freshness.get("newest_data_timestamp"):
        state = "fresh" if freshness.get("is_fresh") else "stale"
        lines.append(
            f"- Newest data: {freshness['newest_data_timestamp']} "
            f"({freshness.get('age_hours')} hours old, {state})"
        )
    else:
        lines.append("- Newest data: nothing loaded yet")
    return lines + [""]


def _tables_section(tables: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = ["## Tables", ""]
    if not tables:
        return lines + ["No `json_*` tables yet.", ""]
    rows = [
        [
            t.get("name"),
            t.get("record_count"),
            t.get("column_count"),
            ", ".join(t.get("child_tables") or []) or "-",
            t.get("parent") or "-",
            t.get("newest_updated_at") or "-",
        ]
        for t in tables
    ]
    return lines + _table(["Table", "Records", "Columns", "Child tables", "Parent", "Newest update"], rows)


def _sessions_section(sessions: Mapping[str, Any]) -> list[str]:
    return [
        "## Sessions",
        "",
        f"- Sessions loaded: {sessions.get('count', 0)}",
        f"- Oldest: {sessions.get('oldest') or '-'}",
        f"- Newest: {sessions.get('newest') or '-'}",
        "",
    ]


def _runs_section(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = ["## Recent runs", ""]
    if not runs:
        return lines + ["No runs recorded.", ""]
    rows = [
        [
            r.get("run_id"),
            r.get("operation"),
            r.get("status"),
            r.get("started_at"),
            "-" if r.get("duration_seconds") is None else f"{r['duration_seconds']:g} s",
            "-" if r.get("records") is None else r["records"],
            r.get("error") or "",
        ]
        for r in runs
    ]
    return lines + _table(["Run", "Operation", "Status", "Started", "Duration", "Records", "Error"], rows)


def _checks_section(checks: Sequence[Mapping[str, Any]]) -> list[str]:
    rows = [
        [c.get("name"), c.get("status"), c.get("count"), c.get("details"), ", ".join(c.get("examples") or [])]
        for c in checks
    ]
    return ["## Checks", ""] + _table(["Check", "Status", "Count", "Details", "Examples"], rows)


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return lines + [""]


def _cell(value: object) -> str:
    """Table cell text: pipes escaped and line breaks flattened, so data cannot break
    the table."""
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
