"""The ledger: what the database remembers about loading, apart from the rows themselves.

One module owns every internal table of that memory, so that the pipeline and the runner
ask questions of it instead of writing the tables themselves:

- files loaded (``_json2db_files``): a file is known by its path and its content; the cheap
  test is path + size + mtime + ctime, the sha256 decides when one of them changed;
- quarantine (``_json2db_rejected``): records without a usable id, orphan line items, and
  invalid files skipped under ``on_invalid_file=skip`` (recognised by their sha256, so that
  an unchanged one is quarantined once, not on every run);
- runs (``_json2db_runs``): one line per writing run, a failed one included;
- state (``_json2db_state``): the full-reload flag ``recreate`` leaves until a run over every
  entity reloads the tables, and the catch-up a restore asks of the next run;
- settled units (``_json2db_folders``) and the ledger's horizon: the
  :class:`~json2db_sync.sources.LedgerView` discovery reads before a load.

The SQL text is the dialect's (``conn.dialect``'s named statements); this module only binds
values. May import stdlib, ``errors``, ``sql_dialect``, ``destinations``, ``reader`` (sha256),
``sources``, ``table_generator`` (the catalogue and the internal tables) and ``load_stats``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from . import sql_dialect as sd
from .destinations import atomic, utc_now_text
from .errors import Json2DBError
from .load_stats import LoadStats
from .reader import sha256_file
from .sources import (
    DataDir,
    DataFile,
    Discovery,
    LedgerView,
    parse_session_name,
    parse_timestamp,
)
from .table_generator import Connection, ensure_internal_tables, existing_tables

__all__ = [
    "CATCH_UP_FROM",
    "RELOAD_PENDING",
    "LedgerView",
    "already_loaded",
    "caught_up_note",
    "clear_full_reload",
    "end_catch_up",
    "full_reload_pending",
    "ledger_view",
    "mark_catch_up",
    "mark_full_reload",
    "quarantine_invalid_file",
    "quarantined_before",
    "read_ledger_view",
    "record_failed_run",
    "record_loaded",
    "record_run",
    "record_settled",
    "reject",
]

logger = logging.getLogger(__name__)

#: State key: the tables were recreated and not yet reloaded (a run then reads every folder).
RELOAD_PENDING = "full_reload_pending"

#: State key: after a restore, the oldest folder time the replaced database had loaded, so
#: that the next run catches up from there even if the restored ledger is empty.
CATCH_UP_FROM = "catch_up_from"

_FOLDER_TIME = "%Y-%m-%d %H:%M:%S"

# --- files loaded ------------------------------------------------------------------


def already_loaded(conn: Connection, data_file: DataFile) -> bool | str:
    """True when the ledger holds this file, as it is now; else its sha256 (so that it
    is not hashed twice).

    A file is known by its path and its content: the same bytes at another path are
    a new delivery (a value that goes A → B → A must end as A). The cheap test, run on
    every file of every run, is path + size + mtime + ctime; only when one of them
    differs is the file hashed, and a file whose bytes did not change is then not
    loaded again (its new stat is remembered)."""
    row = conn.execute(conn.dialect.internal.select_ledger_by_path, (str(data_file.path),)).fetchone()
    if row is None:
        return sha256_file(data_file.path)
    sha, size, mtime, ctime_ns = row
    if size == data_file.size and mtime == data_file.mtime and ctime_ns in (None, data_file.ctime_ns):
        return True
    digest = sha256_file(data_file.path)
    if sha == digest:
        conn.execute(
            conn.dialect.internal.update_ledger_stat, (data_file.size, data_file.mtime, data_file.ctime_ns, str(data_file.path))
        )
        return True
    return digest


def record_loaded(
    conn: Connection, data_file: DataFile, data_dir: DataDir, digest: bool | str | None, records: int
) -> None:
    """Remember a file as loaded (inside its savepoint: a file undone is not remembered).
    ``digest`` is what :func:`already_loaded` returned, a sha256 when it hashed the file."""
    sha = digest if isinstance(digest, str) else sha256_file(data_file.path)
    conn.execute(
        conn.dialect.internal.upsert_ledger,
        (
            str(data_file.path),
            sha,
            data_file.size,
            data_file.mtime,
            data_file.entity,
            data_dir.session or data_dir.path.name,
            data_dir.timestamp.strftime(_FOLDER_TIME) if data_dir.timestamp else None,
            records,
            utc_now_text(),
            data_file.ctime_ns or None,
        ),
    )


# --- quarantine --------------------------------------------------------------------


def reject(conn: Connection, entity: str, path: Path | str, reason: str, raw_json: str | None) -> None:
    """Keep something that could not be loaded (a record, a line item, a file) in the
    quarantine, with why."""
    conn.execute(conn.dialect.internal.insert_rejected, (entity, str(path), reason, raw_json, utc_now_text()))


def quarantined_before(conn: Connection, data_file: DataFile, digest: str) -> bool:
    """Whether an earlier run quarantined this very file (same path, same bytes) as
    invalid under on_invalid_file=skip: it is skipped, not read, warned about and counted
    again on every run. A changed file (fixed, or broken differently) is read again."""
    found = conn.execute(
        conn.dialect.internal.select_quarantined_file, (str(data_file.path), _invalid_file_identity(digest))
    ).fetchone()
    if found is not None:
        logger.info("%s: quarantined as invalid in an earlier run and unchanged since; skipped", data_file.path)
    return found is not None


def quarantine_invalid_file(
    conn: Connection, data_file: DataFile, exc: Json2DBError, digest: bool | str | None, *, remember: bool
) -> None:
    """Quarantine a file skipped as invalid; with ``remember`` (duplicate prevention on),
    with its sha256, so that :func:`quarantined_before` recognises it next time."""
    identity = None
    if remember:
        try:
            identity = _invalid_file_identity(digest if isinstance(digest, str) else sha256_file(data_file.path))
        except Json2DBError:
            identity = None  # unreadable: nothing to recognise it by next time
    reject(conn, data_file.entity, data_file.path, f"invalid file: {exc}", identity)


def _invalid_file_identity(digest: str) -> str:
    """What the quarantine keeps of an invalid file (in raw_json) to recognise it later
    (compact JSON, as the populator writes a record's)."""
    return json.dumps({"invalid_file_sha256": digest}, separators=(",", ":"))


# --- runs --------------------------------------------------------------------------


def record_run(
    conn: Connection, operation: str, started_at: str, status: str, stats: LoadStats | None, error: str | None
) -> None:
    """One line of the run history, in the run's own transaction."""
    conn.execute(
        conn.dialect.internal.insert_run,
        (
            operation,
            started_at,
            utc_now_text(),
            status,
            json.dumps(stats.as_dict()) if stats is not None else None,
            error,
        ),
    )


def record_failed_run(dest: Any, operation: str, started_at: str, exc: BaseException) -> None:
    """The run rolled back; keep a line in the run history all the same (in a transaction
    of its own, never failing: the run's own error is the one to report)."""
    if not dest.exists():
        return
    with contextlib.suppress(Exception), dest.open(busy_timeout=0.5) as conn, atomic(conn, dest.label):
        ensure_internal_tables(conn)
        record_run(conn, operation, started_at, "failed", None, str(exc))


# --- the full-reload flag ----------------------------------------------------------


def mark_full_reload(conn: Connection) -> None:
    """The tables were recreated: the next run reads every folder, whatever the cutoff."""
    conn.execute(conn.dialect.internal.set_state, (RELOAD_PENDING, utc_now_text()))


def clear_full_reload(conn: Connection) -> None:
    """A run over every folder reloaded the tables: later runs use the cutoff again."""
    conn.execute(conn.dialect.internal.delete_state, (RELOAD_PENDING,))


def full_reload_pending(dest: Any) -> bool:
    """Whether the tables were recreated and not yet reloaded (read without the lock: the
    flag only ever widens what a run loads)."""
    if not dest.exists():
        return False
    try:
        with dest.open(readonly=True) as conn:
            if sd.STATE_TABLE not in existing_tables(conn):
                return False
            return conn.execute(conn.dialect.internal.select_state, (RELOAD_PENDING,)).fetchone() is not None
    except (sqlite3.Error, Json2DBError):
        return False


# --- the ledger view: horizon and settled units -----------------------------------


def read_ledger_view(conn: Connection, roots: Sequence[Path] | None = None) -> LedgerView:
    """What discovery needs from the ledger: its horizon (the oldest data folder loaded
    under ``roots``, the places the run reads, or anywhere when None; or an older time a
    restore asked for) and the settled units with their fingerprints."""
    tables = set(existing_tables(conn))
    if sd.FILES_TABLE not in tables:
        return LedgerView()
    candidates: list[datetime] = []
    texts: list[str] = []
    if roots is None:
        oldest_data, oldest_session = conn.execute(conn.dialect.internal.select_ledger_horizon).fetchone()
        if oldest_session:
            parsed = parse_session_name(oldest_session) or parse_timestamp(oldest_session)
            if parsed is not None:
                candidates.append(parsed)
        texts.append(oldest_data or "")
    else:
        for root in roots:
            prefix = os.path.join(str(root), "")
            row = conn.execute(conn.dialect.internal.select_ledger_horizon_under, (len(prefix), prefix)).fetchone()
            texts.append(row[0] if row else "")
    if sd.STATE_TABLE in tables:
        row = conn.execute(conn.dialect.internal.select_state, (CATCH_UP_FROM,)).fetchone()
        texts.append(row[0] if row is not None and row[0] else "")
    for text in texts:
        if text:
            with contextlib.suppress(ValueError):
                candidates.append(datetime.strptime(text, _FOLDER_TIME))
    settled: dict[str, str] = {}
    if sd.FOLDERS_TABLE in tables:
        settled = {path: fingerprint for path, fingerprint in conn.execute(conn.dialect.internal.select_settled_folders)}
    return LedgerView(horizon=min(candidates) if candidates else None, settled=settled)


def ledger_view(dest: Any, roots: Sequence[Path] | None = None) -> LedgerView | None:
    """The ledger's horizon and settled units, read without the lock (a run that loads
    meanwhile only makes this view older: the run then lists, and the ledger skips,
    a little more than it needed to). None when there is no database yet."""
    if not dest.exists():
        return None
    try:
        with dest.open(readonly=True) as conn:
            return read_ledger_view(conn, roots)
    except (sqlite3.Error, Json2DBError):
        return None


def record_settled(conn: Connection, settle: Mapping[str, tuple[str, str | None]]) -> None:
    """Remember the units a complete run listed and loaded (see sources.LedgerView)."""
    now = utc_now_text()
    rows = [(path, folder_time, fingerprint, now) for path, (fingerprint, folder_time) in settle.items()]
    if rows:
        conn.executemany(conn.dialect.internal.upsert_settled_folder, rows)


# --- catch-up ----------------------------------------------------------------------


def mark_catch_up(dest: Any, replaced: LedgerView | None, *, busy_timeout: float) -> None:
    """After a restore (under its lock): the next run catches up from the oldest
    folder the replaced database had loaded, so every folder the backup lacks is
    loaded again, even when the backup's ledger is empty."""
    if replaced is None or replaced.horizon is None:
        return
    with dest.open(busy_timeout=busy_timeout) as conn, atomic(conn, dest.label):
        ensure_internal_tables(conn)
        conn.execute(conn.dialect.internal.set_state, (CATCH_UP_FROM, replaced.horizon.strftime(_FOLDER_TIME)))


def end_catch_up(conn: Connection) -> str | None:
    """End the catch-up a restore asked for (a run over every entity did it); returns the
    time it caught up from, or None when none was asked for."""
    restored = conn.execute(conn.dialect.internal.select_state, (CATCH_UP_FROM,)).fetchone()
    if restored is None:
        return None
    conn.execute(conn.dialect.internal.delete_state, (CATCH_UP_FROM,))
    return str(restored[0])


def caught_up_note(found: Discovery, stats: LoadStats, notes: list[str]) -> int:
    """Say which folders older than the cutoff this run loaded, and why: the ledger did
    not hold them (a failed run, a folder written late, a clock in another time zone,
    a restore). Returns how many."""
    if not found.caught_up:
        return 0
    loaded = set(stats.loaded_paths)
    folders = [d for d in found.caught_up if any(str(f.path) in loaded for f in d.files)]
    if folders:
        names = ", ".join(str(d.path.relative_to(found.root)) if d.path.is_relative_to(found.root) else str(d.path)
                          for d in folders[:5])
        more = f" and {len(folders) - 5} more" if len(folders) > 5 else ""
        notes.append(
            f"loaded {len(folders)} data folder(s) older than the cutoff that the ledger did not "
            f"hold ({names}{more}): a folder is never skipped because of its age once a newer "
            "one was loaded (a failed run, a folder written late, a clock in another time zone "
            "or a restore leave such folders)"
        )
    return len(folders)
