"""The checks that compare the database with what it was loaded from: every id of the
files the ledger lists is a row (``source_counts``), api_sync's line-item files agree with
the items their parents embed (``line_item_files``), and each file holds as many records as
api_sync's ``sync_metadata_<module>.json`` says it fetched (``producer_counts``). Read-only;
imports stdlib, ``errors``, ``sql_dialect``, ``catalog``, ``check_context``,
``json_analyzer`` (the id rules), ``reader`` (to re-read loaded files) and ``sources``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import sql_dialect as sd
from ._types import Check
from .catalog import ID_CHUNK, TableInfo, read_rows
from .check_context import EXAMPLE_LIMIT, Findings, VerifyContext, make_check, plural
from .destinations import dialect_of
from .errors import Json2DBError
from .json_analyzer import id_field_candidates, normalize_id, table_name_for
from .reader import iter_record_batches, sha256_file
from .sources import METADATA_PREFIX, classify_data_file

LEDGER_TABLE_COLUMNS = (
    "path", "entity", "size", "mtime", "sha256", "session", "data_timestamp", "records", "loaded_at"
)


def check_source_counts(ctx: VerifyContext) -> Check:
    """Every id in the files the ledger says were loaded is a row of its table."""
    name = "source_counts"
    if not ctx.check_source_counts:
        return make_check(
            name, "ok", "not compared for this run (too large to track its ids); verify_tables compares every loaded file"
        )
    # A run hands over the files it loaded: only their ledger rows are read (the ledger
    # grows with the history, a night's files do not).
    where = ("path", sorted(ctx.source_files)) if ctx.source_files is not None else None
    ledger = list(read_rows(ctx.conn, ctx.catalog, sd.FILES_TABLE, LEDGER_TABLE_COLUMNS, where_in=where))
    if not ledger and where is None:
        return make_check(name, "ok", "not applicable: the file ledger is empty or missing")
    by_entity: dict[str, list[dict[str, object]]] = {}
    for row in ledger:
        if ctx.source_files is not None and row["path"] not in ctx.source_files:
            continue
        if isinstance(row["path"], str) and isinstance(row["entity"], str):
            if classify_data_file(Path(row["path"]))[1] is not None:
                continue  # an api_sync line-item file: child rows, compared by line_item_files
            by_entity.setdefault(row["entity"], []).append(row)
    findings = Findings()
    skipped: dict[str, list[str]] = {}
    scope = {t.name for t in ctx.selected}
    compared = 0
    for entity, rows in sorted(by_entity.items()):
        table = ctx.catalog.main_for_entity(entity)
        if table is not None and table.name not in scope:
            continue
        if table is None and not _all_selected(ctx):
            continue
        compared += _compare_entity(ctx, entity, table, rows, findings, skipped)
    ok = f"every id in {plural(compared, 'loaded file')} is in its table"
    result = findings.check(name, "warning", ok)
    for reason, paths in skipped.items():
        result["details"] += f"; skipped {plural(len(paths), 'file')} {reason} (e.g. {paths[0]})"
    return result


def _all_selected(ctx: VerifyContext) -> bool:
    return len(ctx.selected) == len(ctx.catalog.tables)


def _compare_entity(
    ctx: VerifyContext,
    entity: str,
    table: TableInfo | None,
    rows: list[dict[str, object]],
    findings: Findings,
    skipped: dict[str, list[str]],
) -> int:
    """Add the ids of one entity's loaded files that its table lacks; return how many
    files were compared."""
    id_field = table.id_field if table else id_field_candidates(entity)[0]
    ids: set[str] = set()
    compared = 0
    for row in rows:
        known = ctx.source_ids.get(str(row["path"])) if ctx.source_ids is not None else None
        if known is not None:
            # The run that just loaded this file handed over its ids: no need to re-read it.
            ids.update(known)
            compared += 1
            continue
        path = Path(str(row["path"]))
        problem = _unusable_file(path, row)
        if problem:
            skipped.setdefault(problem, []).append(str(path))
            continue
        try:
            ids.update(_file_ids(path, entity, id_field))
        except (Json2DBError, OSError) as exc:
            skipped.setdefault("unreadable now", []).append(f"{path}: {exc}")
            continue
        compared += 1
    if not ids:
        return compared
    if table is None or not table.has("id"):
        label = table.name if table else table_name_for(entity)
        note = f"{label}: missing, but the ledger lists {plural(len(ids), 'id')}"
        findings.add(len(ids), sorted(ids)[:EXAMPLE_LIMIT], note)
        return compared
    missing = _missing_ids(ctx.conn, table.name, ids)
    if missing:
        rows_now = ctx.conn.execute(ctx.dialect.count_rows(table.name)).fetchone()[0]
        note = (
            f"{table.name}: {rows_now} rows, {len(ids)} distinct ids in "
            f"{plural(compared, 'loaded file')}, {len(missing)} of them missing"
        )
        findings.add(len(missing), missing[:EXAMPLE_LIMIT], note)
    return compared


def _unusable_file(path: Path, row: dict[str, object]) -> str | None:
    """Why a ledger file cannot stand for what was loaded: gone, or changed since."""
    try:
        stat = path.stat()
    except OSError:
        return "no longer on disk"
    size, mtime, sha = row["size"], row["mtime"], row["sha256"]
    same = size == stat.st_size and isinstance(mtime, (int, float)) and abs(mtime - stat.st_mtime) < 1e-6
    if same or size is None or not isinstance(sha, str):
        return None
    return None if sha256_file(path) == sha else "changed since loaded"


def _file_ids(path: Path, entity: str, id_field: str | None) -> set[str]:
    ids: set[str] = set()
    for batch in iter_record_batches(path, entity, id_field=id_field):
        for record in batch:
            if not (id_field and isinstance(record, dict)):
                continue
            record_id = normalize_id(record.get(id_field))
            if record_id is not None:
                ids.add(record_id)
    return ids


def _missing_ids(conn: Any, table: str, ids: set[str]) -> list[str]:
    """The ids that have no row, in sorted order (looked up in chunks)."""
    ordered = sorted(ids)
    found: set[str] = set()
    for start in range(0, len(ordered), ID_CHUNK):
        chunk = ordered[start : start + ID_CHUNK]
        query = dialect_of(conn).select_ids_in(table, len(chunk))
        found.update(str(row[0]) for row in conn.execute(query, chunk))
    return [i for i in ordered if i not in found]


def check_line_item_files(ctx: VerifyContext) -> Check:
    """api_sync's ``<entity>_line_items.json`` holds the same items as the detail records
    beside it: same ids, same amounts, per parent."""
    name = "line_item_files"
    if ctx.line_item_mismatches is None:
        return make_check(
            name, "ok", "not applicable here: a sync compares api_sync's line-item files while it loads them"
        )
    found = list(ctx.line_item_mismatches)
    if not found:
        if not ctx.line_item_files_compared:
            return make_check(name, "ok", "no api_sync line-item file was compared in this run")
        compared = plural(ctx.line_item_files_compared, "line-item file")
        return make_check(name, "ok", f"{compared} agree with the items their parents embed")
    details = (
        f"{plural(len(found), 'parent')} whose line items differ between the detail file and "
        "api_sync's line-item file (the detail records were loaded); check the api_sync run "
        "that wrote that folder"
    )
    return make_check(name, "warning", details, len(found), found)


def check_producer_counts(ctx: VerifyContext) -> Check:
    """Each loaded file holds as many records as api_sync's ``sync_metadata_<module>.json``
    beside it says it fetched: the one count that does not come from the file itself."""
    name = "producer_counts"
    # only the run's own ledger rows when it names them (the ledger grows with the history)
    where = ("path", sorted(ctx.source_files)) if ctx.source_files is not None else None
    ledger = list(read_rows(ctx.conn, ctx.catalog, sd.FILES_TABLE, LEDGER_TABLE_COLUMNS, where_in=where))
    by_folder: dict[Path, dict[str, dict[str, object]]] = {}
    for row in ledger:
        path = row["path"]
        if not isinstance(path, str) or (ctx.source_files is not None and path not in ctx.source_files):
            continue
        file_path = Path(path)
        by_folder.setdefault(file_path.parent, {})[file_path.name.lower()] = row
    findings = Findings()
    compared = 0
    for folder, rows in sorted(by_folder.items()):
        for module, records_found in _producer_counts(folder):
            file_name = f"{module}.json".lower()
            stored = rows.get(file_name)
            if stored is None:
                if records_found and not (folder / f"{module}.json").exists():
                    note = f"{folder}: api_sync counted {records_found} {module} records but wrote no {module}.json"
                    findings.add(1, [f"{folder}: {module}.json"], note)
                continue
            compared += 1
            loaded = stored.get("records")
            if isinstance(loaded, int) and loaded != records_found:
                findings.add(
                    1,
                    [f"{folder}: {module}.json"],
                    f"{folder}: api_sync's {METADATA_PREFIX}{module}.json counts {records_found} records, "
                    f"{module}.json held {loaded}",
                )
    ok = (
        f"{plural(compared, 'file')} hold as many records as api_sync counted"
        if compared
        else "no api_sync record counts (sync_metadata_*.json with records_found) beside the files"
    )
    return findings.check(name, "warning", ok, "check the api_sync run that wrote the folder: ")


def _producer_counts(folder: Path) -> list[tuple[str, int]]:
    """(module, records_found) of the api_sync metadata files in ``folder``; files of
    another shape (or unreadable now) say nothing."""
    counts: list[tuple[str, int]] = []
    try:
        names = sorted(p for p in folder.iterdir() if p.name.startswith(METADATA_PREFIX) and p.suffix == ".json")
    except OSError:
        return counts
    for path in names:
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(meta, dict):
            continue
        module, found = meta.get("module"), meta.get("records_found")
        if isinstance(module, str) and module and isinstance(found, int) and not isinstance(found, bool):
            counts.append((module, found))
    return counts
