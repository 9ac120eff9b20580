"""Populator stage: records upserted in batches, with the file ledger and the quarantine.

May import stdlib, orjson, ``errors``, ``progress``, ``sql_dialect``, ``destinations``,
``json_analyzer``, ``table_generator``, ``reader`` and ``sources``. It runs inside the
transaction the runner opened; each file gets a savepoint, so a file skipped under
``on_invalid_file=skip`` leaves no trace but its quarantine entry.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from . import sql_dialect as sd
from .destinations import savepoint, utc_now_text
from .errors import ConfigError, DatabaseError, DataFileError, Json2DBError, ValidationError
from .json_analyzer import (
    NUMERIC_TYPES,
    EntityPlan,
    TablePlan,
    child_id_field,
    child_id_fields,
    choose_id_field,
    element_scalars,
    flatten,
    id_field_candidates,
    normalize_id,
    normalize_key,
    record_times,
    singular,
    table_name_for,
    to_utc_text,
)
from .line_item_files import PARENT_ID_FIELD, Fingerprint, FolderParents, copy_mismatches
from .progress import ProgressCallback, ProgressEvent, null_progress
from .reader import iter_record_batches, sha256_file
from .sources import DataDir, DataFile, LedgerView, entity_of
from .table_generator import (
    Connection,
    apply_plan,
    existing_tables,
    limits_of,
    load_stored_plans,
    registered_table_names,
    taken_table_names,
)
from .zoho_entities import KNOWN_ID_FIELDS

logger = logging.getLogger(__name__)

# Custom columns whose values the populator knows how to fill.
SESSION_ID_COLUMN = "session_id"
SOURCE_FILE_COLUMN = "source_file"


@dataclass(slots=True)
class LoadOptions:
    """What a population needs from the settings."""

    batch_size: int = 1000
    memory_limit_mb: int = 512
    duplicate_prevention: bool = True
    on_invalid_file: str = "fail"
    primary_keys: Mapping[str, str] = field(default_factory=dict)
    custom_columns: Mapping[str, str] = field(default_factory=dict)
    data_root: Path | None = None
    # The run's clock (naive local, as folder names): a folder named after it dates its
    # records without a timestamp of their own by this instead (None: the real clock).
    run_time: datetime | None = None


# A folder named further than this after its files' modification time has a name that
# cannot be true (the producer's clock was wrong): its files' time is used instead. A
# producer in another time zone stays well within it.
FOLDER_AHEAD_OF_FILE = timedelta(days=1)

# How much file content the populator reads between two passes of the cyclic collector.
GC_EVERY_BYTES = 16 * 1024 * 1024

# Ids kept for the post-run verification (about 100 bytes each): beyond this, whole
# tables are checked instead and memory stays flat however large the run.
MAX_TRACKED_IDS = 200_000

_COUNTERS = (
    "files_loaded",
    "files_skipped",
    "files_invalid",
    "total_records",
    "records_inserted",
    "records_updated",
    "records_unchanged",
    "records_rejected",
    "duplicate_ids_in_files",
    "child_rows_written",
    "incomplete_exports",
    "line_item_files_compared",
)


@dataclass(slots=True)
class LoadStats:
    """Counts of one population; ``as_dict`` gives the statistics of the result."""

    files_loaded: int = 0
    files_skipped: int = 0
    files_invalid: int = 0
    total_records: int = 0
    records_inserted: int = 0
    records_updated: int = 0
    records_unchanged: int = 0
    records_rejected: int = 0
    duplicate_ids_in_files: int = 0
    child_rows_written: int = 0
    incomplete_exports: int = 0
    folders_caught_up: int = 0
    sessions: set[str] = field(default_factory=set)
    tables_touched: set[str] = field(default_factory=set)
    loaded_paths: list[str] = field(default_factory=list)
    # The ids this run loaded per file and wrote per table, handed to the verification so
    # that it checks what the run changed; dropped (None) past MAX_TRACKED_IDS, so that
    # memory does not grow with the input (verification then checks whole tables).
    loaded_ids: dict[str, Any] | None = field(default_factory=dict)
    written_ids: dict[str, set[str]] | None = field(default_factory=dict)
    tracked_ids: int = 0
    max_tracked_ids: int = MAX_TRACKED_IDS
    # The report views the run made and skipped (report_views.create_report_views).
    report_views: dict[str, Any] = field(default_factory=dict)

    def track(self, table: str, ids: Iterable[str]) -> None:
        if self.written_ids is None:
            return
        bucket = self.written_ids.setdefault(table, set())
        before = len(bucket)
        bucket.update(ids)
        self.tracked_ids += len(bucket) - before
        if self.tracked_ids > self.max_tracked_ids:
            self.stop_tracking()

    def track_file(self, path: str, ids: Any) -> None:
        if self.loaded_ids is None:
            return
        self.loaded_ids[path] = ids
        self.tracked_ids += len(ids)
        if self.tracked_ids > self.max_tracked_ids:
            self.stop_tracking()

    def stop_tracking(self) -> None:
        self.loaded_ids = None
        self.written_ids = None
    ddl: list[str] = field(default_factory=list)
    per_entity: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # What the run should say without it being a problem (folders caught up, a restore).
    notes: list[str] = field(default_factory=list)
    # api_sync's line-item files: how many were compared with the embedded items, and one
    # message per parent whose two copies disagree (a verification finding).
    line_item_files_compared: int = 0
    line_item_mismatches: list[str] = field(default_factory=list)

    def snapshot(self) -> dict[str, Any]:
        """The counters, to undo a file skipped under on_invalid_file=skip."""
        state = {name: getattr(self, name) for name in _COUNTERS}
        state["per_entity"] = {k: dict(v) for k, v in self.per_entity.items()}
        state["ddl"] = len(self.ddl)
        state["tables_touched"] = set(self.tables_touched)
        state["written_ids"] = (
            {k: set(v) for k, v in self.written_ids.items()} if self.written_ids is not None else None
        )
        state["loaded_ids"] = dict(self.loaded_ids) if self.loaded_ids is not None else None
        state["tracked_ids"] = self.tracked_ids
        state["line_item_mismatches"] = len(self.line_item_mismatches)
        return state

    def restore(self, state: dict[str, Any]) -> None:
        for name in _COUNTERS:
            setattr(self, name, state[name])
        self.per_entity = state["per_entity"]
        del self.ddl[state["ddl"] :]
        self.tables_touched = state["tables_touched"]
        self.written_ids = state["written_ids"]
        self.loaded_ids = state["loaded_ids"]
        self.tracked_ids = state["tracked_ids"]
        del self.line_item_mismatches[state["line_item_mismatches"] :]

    def entity(self, name: str) -> dict[str, int]:
        return self.per_entity.setdefault(
            name, {"files": 0, "records": 0, "inserted": 0, "updated": 0, "unchanged": 0, "rejected": 0}
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "total_records": self.total_records,
            "files_loaded": self.files_loaded,
            "files_skipped": self.files_skipped,
            "files_invalid": self.files_invalid,
            "records_inserted": self.records_inserted,
            "records_updated": self.records_updated,
            "records_unchanged": self.records_unchanged,
            "records_rejected": self.records_rejected,
            "duplicate_ids_in_files": self.duplicate_ids_in_files,
            "child_rows_written": self.child_rows_written,
            "incomplete_exports": self.incomplete_exports,
            "folders_caught_up": self.folders_caught_up,
            "sessions_processed": len(self.sessions),
            "entities": {k: dict(v) for k, v in sorted(self.per_entity.items())},
        }


_ABSENT = object()  # "no row with this id before the file" in _FileContext.baseline


@dataclass(slots=True)
class _FileContext:
    data_file: DataFile
    data_dir: DataDir
    relative_path: str
    fallback_time: str | None
    # Every id met in this file, with the stored updated_at it had before the file
    # (_ABSENT when it had no row): no occurrence older than that is written.
    baseline: dict[str, Any] = field(default_factory=dict)
    inserted: set[str] = field(default_factory=set)
    # The updated_at of the newest occurrence applied so far in this file, per id: an
    # older occurrence never replaces a newer one, whichever comes first in the file.
    latest: dict[str, Any] = field(default_factory=dict)
    # (id, field, value) of records whose time could not be read (warned once per file).
    bad_times: list[tuple[str, str, Any]] = field(default_factory=list)
    records: int = 0
    check_ints: bool = False
    # Set when the folder also holds this entity's api_sync line-item file: what each
    # parent record carried, for comparing that file with it.
    parents: FolderParents | None = None


class Populator:
    """Loads data folders into the database through one connection and one transaction."""

    def __init__(
        self,
        conn: Connection,
        plans: dict[str, EntityPlan],
        options: LoadOptions,
        progress: ProgressCallback = null_progress,
    ) -> None:
        self.conn = conn
        self.sql = conn.dialect
        self.limits = limits_of(conn.dialect)
        self.plans = plans
        self.options = options
        self.progress = progress
        self.stats = LoadStats()
        self._records_done = 0
        self._taken_tables = taken_table_names(conn)
        for plan in plans.values():
            plan.taken_tables = self._taken_tables
        self._registered = registered_table_names(conn)
        # json_* tables in the database that json2db_sync did not create (a user's own).
        self._foreign = {
            name for name in self._taken_tables if name.startswith(sd.DATA_TABLE_PREFIX)
        } - self._registered
        self._odd_folders: set[Path] = set()
        # (folder, entity) → what the folder's parent file carried, for its line-item file.
        self._folder_parents: dict[tuple[Path, str], FolderParents] = {}

    # --- files -------------------------------------------------------------------

    def load_dirs(self, dirs: Sequence[DataDir], entity_filter: set[str] | None = None) -> LoadStats:
        """Load every data file of ``dirs`` (oldest first), optionally only some entities.

        Python's cyclic garbage collector is paused meanwhile and run after every
        ``GC_EVERY_BYTES`` of files read: parsed records hold no cycles, and its full passes
        over millions of young dicts cost more than a tenth of a large load. (A pass costs
        what the whole process holds, 10-30 ms in a large one: once per small file of a
        nightly run it was most of the run.)
        """
        was_enabled = gc.isenabled()
        gc.disable()
        wanted = [
            data_file
            for data_dir in dirs
            for data_file in data_dir.files
            if entity_filter is None or data_file.entity in entity_filter
        ]
        # Bytes are known before reading, records are not: the "files" step carries the
        # totals a progress bar needs for its ETA.
        total_bytes = sum(data_file.size for data_file in wanted)
        done_bytes = done_files = 0
        read_since_collect = 0
        try:
            for data_dir in dirs:
                # Records before line-item files: an api_sync line-item file is read against
                # the parents of its folder.
                for data_file in sorted(data_dir.files, key=lambda f: f.child_field is not None):
                    if entity_filter is not None and data_file.entity not in entity_filter:
                        continue
                    if self.load_file(data_file, data_dir):
                        read_since_collect += data_file.size
                        if read_since_collect >= GC_EVERY_BYTES:
                            gc.collect()
                            read_since_collect = 0
                    done_bytes += data_file.size
                    done_files += 1
                    self.progress(ProgressEvent("files", done_bytes, total_bytes, f"{done_files}/{len(wanted)} files"))
                self._folder_parents.clear()
            if read_since_collect:
                gc.collect(0)
        finally:
            if was_enabled:
                gc.enable()
        return self.stats

    def load_file(self, data_file: DataFile, data_dir: DataDir) -> bool:
        """Load one file unless the ledger says it is already in; honour on_invalid_file.
        Returns whether the file was read (loaded, or skipped as invalid)."""
        ledger_key = str(data_file.path)
        digest = None
        if self.options.duplicate_prevention:
            digest = self._already_loaded(data_file)
            if digest is True or self._quarantined_before(data_file, digest):
                self.stats.files_skipped += 1
                return False
        context = _FileContext(
            data_file=data_file,
            data_dir=data_dir,
            relative_path=self._relative(data_file.path),
            fallback_time=self._fallback_time(data_dir, data_file),
        )
        if data_file.child_field is None and _has_line_item_file(data_dir, data_file.entity):
            context.parents = self._folder_parents[(data_dir.path, data_file.entity)] = FolderParents(
                "line_items", child_id_field(data_file.entity, "line_items")
            )
        before = self.stats.snapshot()
        try:
            with savepoint(self.conn, "json2db_file"):
                if data_file.child_field is None:
                    self._load_records(context)
                else:
                    self._load_line_item_file(context, data_file.child_field)
                sha = digest if isinstance(digest, str) else sha256_file(data_file.path)
                self.conn.execute(
                    self.sql.UPSERT_LEDGER,
                    (
                        ledger_key,
                        sha,
                        data_file.size,
                        data_file.mtime,
                        data_file.entity,
                        data_dir.session or data_dir.path.name,
                        data_dir.timestamp.strftime("%Y-%m-%d %H:%M:%S") if data_dir.timestamp else None,
                        context.records,
                        utc_now_text(),
                        data_file.ctime_ns or None,
                    ),
                )
        except DatabaseError as exc:
            # (PostgreSQL refusing a value, say): name the file the value came from
            if str(data_file.path) in str(exc):
                raise
            raise DatabaseError(f"while loading {data_file.path}: {exc}") from exc
        except (DataFileError, ValidationError) as exc:
            if self.options.on_invalid_file != "skip":
                raise
            # The savepoint undid the file's rows and DDL; undo what memory holds too.
            self.stats.restore(before)
            self._folder_parents.pop((data_dir.path, data_file.entity), None)
            self._reload_plans()
            self._skip_invalid_file(data_file, exc, digest)
            return True
        if context.bad_times:
            self._warn(unreadable_times_warning(data_file.path, context.bad_times, context.fallback_time))
        self.stats.files_loaded += 1
        self.stats.loaded_paths.append(ledger_key)
        self.stats.track_file(ledger_key, context.baseline.keys())
        self.stats.entity(data_file.entity)["files"] += 1
        if data_dir.session or data_dir.timestamp:
            self.stats.sessions.add(data_dir.session or str(data_dir.path))
        return True

    def _fallback_time(self, data_dir: DataDir, data_file: DataFile) -> str:
        """The time of records without their own ``last_modified_time`` (UTC text).

        The folder's name says when api_sync fetched them, but it is a local wall-clock
        time: in the hour a DST change repeats, the file's modification time decides
        which of the two moments it was; a name after the run's clock (a producer clock
        that was wrong) is replaced by the run's clock, so that such a folder cannot win
        over every later delivery. Without a dated folder, the file's mtime is used."""
        run_time = self.options.run_time or datetime.now()
        run_utc = _as_utc(run_time)
        if data_dir.timestamp is None:
            return _mtime_utc(min(data_file.mtime, run_utc.timestamp()))
        moment = folder_time_utc(data_dir.timestamp, data_file.mtime)
        written = datetime.fromtimestamp(data_file.mtime, tz=timezone.utc)
        if moment > written + FOLDER_AHEAD_OF_FILE:
            if data_dir.path not in self._odd_folders:
                self._odd_folders.add(data_dir.path)
                self._warn(
                    f"{data_dir.path} is named {data_dir.timestamp:%Y-%m-%d %H:%M:%S}, more than a day after "
                    f"its files were written ({written:%Y-%m-%d %H:%M:%S} UTC): records without their own "
                    "last_modified_time from it are dated by the file instead. Check the clock of the "
                    "machine running api_sync."
                )
            moment = written
        return min(moment, run_utc).strftime("%Y-%m-%d %H:%M:%S")

    def _batches(self, path: Path, entity: str, id_field: str | None) -> Any:
        """A file's record batches, read with this run's batch size and memory limit."""
        return iter_record_batches(
            path,
            entity,
            batch_size=self.options.batch_size,
            memory_limit_mb=self.options.memory_limit_mb,
            id_field=id_field,
        )

    def _new_plan(self, entity: str, id_field: str) -> EntityPlan:
        """Start the plan of an entity the database does not hold yet (and remember it)."""
        plan = self.plans[entity] = EntityPlan.new(
            entity,
            id_field,
            tuple(self.options.custom_columns),
            taken_tables=self._taken_tables,
            limits=self.limits,
        )
        return plan

    def _reload_plans(self) -> None:
        self.plans.clear()
        self.plans.update(load_stored_plans(self.conn, custom_columns=self.options.custom_columns))
        self._taken_tables.clear()
        self._taken_tables.update(taken_table_names(self.conn))
        for plan in self.plans.values():
            plan.taken_tables = self._taken_tables

    def _already_loaded(self, data_file: DataFile) -> bool | str:
        """True when the ledger holds this file, as it is now; else its sha256 (so that it
        is not hashed twice).

        A file is known by its path and its content: the same bytes at another path are
        a new delivery (a value that goes A → B → A must end as A). The cheap test, run on
        every file of every run, is path + size + mtime + ctime; only when one of them
        differs is the file hashed, and a file whose bytes did not change is then not
        loaded again (its new stat is remembered)."""
        row = self.conn.execute(self.sql.SELECT_LEDGER_BY_PATH, (str(data_file.path),)).fetchone()
        if row is None:
            return sha256_file(data_file.path)
        sha, size, mtime, ctime_ns = row
        if size == data_file.size and mtime == data_file.mtime and ctime_ns in (None, data_file.ctime_ns):
            return True
        digest = sha256_file(data_file.path)
        if sha == digest:
            self.conn.execute(
                self.sql.UPDATE_LEDGER_STAT, (data_file.size, data_file.mtime, data_file.ctime_ns, str(data_file.path))
            )
            return True
        return digest

    def _quarantined_before(self, data_file: DataFile, digest: bool | str) -> bool:
        """Whether an earlier run quarantined this very file (same path, same bytes) as
        invalid under on_invalid_file=skip: it is skipped, not read, warned about and counted
        again on every run. A changed file (fixed, or broken differently) is read again."""
        if self.options.on_invalid_file != "skip" or not isinstance(digest, str):
            return False
        found = self.conn.execute(
            self.sql.SELECT_QUARANTINED_FILE, (str(data_file.path), _invalid_file_identity(digest))
        ).fetchone()
        if found is not None:
            logger.info("%s: quarantined as invalid in an earlier run and unchanged since; skipped", data_file.path)
        return found is not None

    def _warn(self, message: str) -> None:
        """A warning of the run: to the log and to the result."""
        logger.warning(message)
        self.stats.warnings.append(message)

    def _skip_invalid_file(self, data_file: DataFile, exc: Json2DBError, digest: bool | str | None) -> None:
        detail = str(exc)
        message = (
            f"skipped invalid file {detail}" if detail.startswith(str(data_file.path))
            else f"skipped invalid file {data_file.path}: {detail}"
        )
        self._warn(message)
        self.stats.files_invalid += 1
        identity = None
        if self.options.duplicate_prevention:
            try:
                identity = _invalid_file_identity(digest if isinstance(digest, str) else sha256_file(data_file.path))
            except Json2DBError:
                identity = None  # unreadable: nothing to recognise it by next time
        self.conn.execute(
            self.sql.INSERT_REJECTED,
            (data_file.entity, str(data_file.path), f"invalid file: {exc}", identity, utc_now_text()),
        )
        self.stats.records_rejected += 1

    def _relative(self, path: Path) -> str:
        root = self.options.data_root
        if root is not None:
            try:
                return str(path.relative_to(root))
            except ValueError:
                pass
        return str(path)

    # --- records -----------------------------------------------------------------

    def _load_records(self, context: _FileContext) -> None:
        entity = context.data_file.entity
        plan = self.plans.get(entity)
        id_hint = plan.id_field if plan else id_field_candidates(entity, self.options.primary_keys)[0]
        reader = self._batches(context.data_file.path, entity, id_hint)
        for batch in reader:
            context.check_ints = reader.big_integers
            if not batch:
                continue
            if plan is None:
                _require_some_id(context.data_file, batch, self.options.primary_keys)
                plan = self._new_plan(entity, choose_id_field(entity, batch, self.options.primary_keys))
            self._load_batch(plan, batch, context)
        incomplete = reader.incomplete_reason()
        if incomplete is not None:
            self.stats.incomplete_exports += 1
            self._warn(
                f"{context.data_file.path}: the export is incomplete ({incomplete}); its "
                f"{reader.records} record(s) were loaded, the rest of '{entity}' is missing: "
                "re-run api_sync for it (all pages) and sync again"
            )
        if plan is None:
            # An export with no records still names an entity: give it its (empty) table,
            # so that queries and reports see it.
            plan = self._new_plan(entity, id_hint)
            self._refuse_foreign_tables(plan)
            self.stats.ddl.extend(apply_plan(self.conn, plan, custom_columns=self.options.custom_columns))
            self.stats.entity(entity)

    def _load_batch(self, plan: EntityPlan, batch: list[dict[str, Any]], context: _FileContext) -> None:
        stats = self.stats
        entity_stats = stats.entity(plan.entity)
        stats.total_records += len(batch)
        entity_stats["records"] += len(batch)
        context.records += len(batch)

        # Ids in file order; a repeat goes to a later round, so that the occurrences are
        # decided and applied in file order (partial updates included): each is written
        # unless it is older than the newest one applied before it (see _decide).
        rounds: list[list[_Prepared]] = []
        occurrences: dict[str, int] = {}
        fresh_ids: list[str] = []
        for record in batch:
            record_id = normalize_id(record.get(plan.id_field))
            if record_id is None:
                self._reject(plan, record, context, f"no usable id in field {plan.id_field!r}")
                continue
            if record_id in context.baseline or record_id in occurrences:
                stats.duplicate_ids_in_files += 1
            elif record_id not in occurrences:
                fresh_ids.append(record_id)
            index = occurrences[record_id] = occurrences.get(record_id, -1) + 1
            scalars, arrays = flatten(record, split_children=True)
            children = plan.observe_flat(scalars, arrays, check_ints=context.check_ints)
            created, updated = record_times(record, context.fallback_time)
            if updated == context.fallback_time:
                _note_unreadable_time(record, record_id, context)
            if context.parents is not None:
                context.parents.note(record_id, record, updated)
            if index == len(rounds):
                rounds.append([])
            rounds[index].append(_Prepared(record_id, scalars, children, created, updated, tuple(record)))
        if not rounds:
            return
        self._refuse_foreign_tables(plan)
        self.stats.ddl.extend(apply_plan(self.conn, plan, custom_columns=self.options.custom_columns))
        self._report_conflicts(plan)

        stored = self._stored_updated_at(plan.main.name, fresh_ids)
        for record_id in fresh_ids:
            context.baseline[record_id] = stored.get(record_id, _ABSENT)
        for items in rounds:
            writes = [item for item in items if self._decide(item, context, entity_stats)]
            if writes:
                self._write(plan, writes, context)
        self._records_done += len(batch)
        self.progress(
            ProgressEvent("populate", self._records_done, None, f"{plan.entity}: {context.data_file.path.name}")
        )

    # --- api_sync line-item files ---------------------------------------------------

    def _load_line_item_file(self, context: _FileContext, field_name: str) -> None:
        """``<entity>_line_items.json``: compared with the items its folder's parents
        embedded; for parents that embedded none, their line items (see line_item_files)."""
        data_file, data_dir = context.data_file, context.data_dir
        entity = data_file.entity
        parents = self._folder_parents.get((data_dir.path, entity)) or self._read_folder_parents(
            data_dir, entity, field_name
        )
        copies: dict[str, Fingerprint] = {}
        supplied: dict[str, list[Any]] = {}
        orphans: list[Any] = []
        reader = self._batches(data_file.path, entity_of(data_file.path), parents.id_field)
        for batch in reader:
            context.check_ints = context.check_ints or reader.big_integers
            context.records += len(batch)
            for element in batch:
                parent_id = normalize_id(element.get(PARENT_ID_FIELD)) if isinstance(element, dict) else None
                if parent_id is None:
                    orphans.append(element)
                elif parent_id in parents.embedded:
                    copies.setdefault(parent_id, Fingerprint()).add(element, parents.id_field)
                else:
                    supplied.setdefault(parent_id, []).append(element)
        parent_files = [f.path.name for f in data_dir.files if f.entity == entity and f.child_field is None]
        if parents.embedded:
            self.stats.line_item_files_compared += 1
            self.stats.line_item_mismatches.extend(
                f"{data_dir.path}: {message}"
                for message in copy_mismatches(
                    parents,
                    copies,
                    entity=entity,
                    parent_file=parent_files[0] if parent_files else f"{entity}.json",
                    items_file=data_file.path.name,
                )
            )
        for element in orphans:
            self._reject_line_item(entity, element, context, f"no usable parent id in field {PARENT_ID_FIELD!r}")
        if orphans:
            self._warn(
                f"{data_file.path}: {len(orphans)} line item(s) have no usable {PARENT_ID_FIELD!r}, so they "
                f"belong to no {singular(entity)}; they were kept in {sd.REJECTED_TABLE}"
            )
        if supplied:
            self._supply_line_items(entity, field_name, supplied, parents, context)

    def _read_folder_parents(self, data_dir: DataDir, entity: str, field_name: str) -> FolderParents:
        """What the folder's parent file carried, when it was not loaded in this run (the
        ledger had it): read it once more, writing nothing. No parent file: nothing."""
        parents = FolderParents(field_name, child_id_field(entity, field_name))
        plan = self.plans.get(entity)
        id_field = plan.id_field if plan else id_field_candidates(entity, self.options.primary_keys)[0]
        for data_file in data_dir.files:
            if data_file.entity != entity or data_file.child_field is not None:
                continue
            fallback_time = self._fallback_time(data_dir, data_file)  # as when it was loaded
            for batch in self._batches(data_file.path, entity, id_field):
                for record in batch:
                    record_id = normalize_id(record.get(id_field))
                    if record_id is not None:
                        parents.note(record_id, record, record_times(record, fallback_time)[1])
        return parents

    def _supply_line_items(
        self,
        entity: str,
        field_name: str,
        supplied: dict[str, list[Any]],
        parents: FolderParents,
        context: _FileContext,
    ) -> None:
        """Write the line items of parents that did not embed them: each parent's items
        replace its stored ones as a whole, unless the stored parent is newer than the
        version the items belong to (the folder's list-form record, else the folder's time)."""
        plan = self.plans.get(entity) or self._new_plan(
            entity, id_field_candidates(entity, self.options.primary_keys)[0]
        )
        stored = self._stored_parent_times(plan.main.name, list(supplied)) if plan.main.exists else {}
        table = plan.child_plan(field_name)
        writes: list[tuple[str, str | None, str | None, list[Any]]] = []
        missing: list[str] = []
        for parent_id, items in supplied.items():
            times = stored.get(parent_id)
            if times is None:
                missing.append(parent_id)
                for element in items:
                    self._reject_line_item(
                        entity, element, context, f"its parent {parent_id} is not in {plan.main.name}"
                    )
                continue
            created, updated = times
            version = parents.listed.get(parent_id, context.fallback_time)
            if self.options.duplicate_prevention and updated and version and version < updated:
                logger.debug("%s: items of %s %s are older than the stored parent", context.data_file.path, entity, parent_id)
                continue
            elements = [(element, element_scalars(element)) for element in items]
            for _, scalars in elements:
                table.observe(scalars, check_ints=context.check_ints)
            writes.append((parent_id, created, updated, elements))
        if missing:
            self._warn(
                f"{context.data_file.path}: line items of {len(missing)} {singular(entity)}(s) that "
                f"{plan.main.name} does not hold (e.g. {', '.join(missing[:3])}) were kept in "
                f"{sd.REJECTED_TABLE}; load the file that delivers those {entity} first, then load again"
            )
        if not writes:
            return
        self._refuse_foreign_tables(plan)
        self.stats.ddl.extend(apply_plan(self.conn, plan, custom_columns=self.options.custom_columns))
        self._report_conflicts(plan)
        extra = self._custom_values(context)
        written = [parent_id for parent_id, *_ in writes]
        self._write_children(table, written, writes, tuple(extra), tuple(extra.values()))
        self.stats.track(plan.main.name, written)

    def _stored_parent_times(self, table: str, ids: list[str]) -> dict[str, tuple[str | None, str | None]]:
        return {row[0]: (row[1], row[2]) for row in self._rows_by_id(self.sql.select_parent_times, table, ids)}

    def _reject_line_item(self, entity: str, element: Any, context: _FileContext, reason: str) -> None:
        self.conn.execute(
            self.sql.INSERT_REJECTED,
            (entity, str(context.data_file.path), f"line item: {reason}", dumps_json(element), utc_now_text()),
        )
        self.stats.records_rejected += 1

    def _decide(self, item: _Prepared, context: _FileContext, entity_stats: dict[str, int]) -> bool:
        """Write this occurrence? Newest wins, against what was stored before the file and
        against the occurrences of the same id met earlier in the file: an older one never
        replaces a newer one, whichever comes first; equal times keep file order (a
        list-form copy still adds its fields to a detailed one of the same instant).

        Times are UTC text to the microsecond (``json_analyzer.to_utc_text``), which sorts
        in time order, so comparing the text compares the instants."""
        record_id = item.record_id
        stats = self.stats
        before = context.latest.get(record_id, _ABSENT)
        if before is _ABSENT:
            before = context.baseline[record_id]
        if before is _ABSENT and record_id not in context.inserted:
            item.is_new = True
            context.inserted.add(record_id)
            context.latest[record_id] = item.updated
            stats.records_inserted += 1
            entity_stats["inserted"] += 1
            return True
        if (
            self.options.duplicate_prevention
            and before is not None
            and before is not _ABSENT
            and item.updated is not None
            and item.updated < before
        ):
            stats.records_unchanged += 1
            entity_stats["unchanged"] += 1
            return False
        context.latest[record_id] = item.updated
        stats.records_updated += 1
        entity_stats["updated"] += 1
        return True

    def _refuse_foreign_tables(self, plan: EntityPlan) -> None:
        """Never write into a renamed table behind the user's back: when the name a new
        table would have (``json_invoices``) belongs to a table json2db_sync did not create,
        the run stops naming it and the ways out."""
        limit = self.limits.max_identifier_bytes
        for table in plan.tables():
            if table.exists or table.name.lower() in self._registered:
                continue
            if table.parent is None:
                natural = sd.fit_identifier(table_name_for(plan.entity), limit)
            else:
                natural = sd.fit_identifier(f"{plan.main.name}_{normalize_key(table.field or '')}", limit)
            if natural.lower() in self._foreign and natural.lower() != table.name.lower():
                raise DatabaseError(
                    f"table {natural} already exists in the database and was not created by json2db_sync, "
                    f"so the '{plan.entity}' data{' (' + str(table.field) + ')' if table.parent else ''} "
                    f"has no table of its own: rename that table (e.g. ALTER TABLE {natural} RENAME TO "
                    f"my_{natural}), or let json2db_sync take it over with the recreate operation "
                    "(`json2db-sync recreate`, which drops every json_* table, that one included). "
                    "Nothing was loaded"
                )

    def _report_conflicts(self, plan: EntityPlan) -> None:
        """Warn, naming the column, about values its type cannot hold: text in a number
        column, and numbers no number column holds exactly (kept as their exact text)."""
        for table in plan.tables():
            for column in table.new_conflicts:
                spec = next(spec for spec in table.columns.values() if spec.name == column)
                if spec.path in table.exact_number_paths:
                    continue  # said below, in the words for numbers
                message = (
                    f"{table.name}.{column}: text values arrived for a column "
                    f"declared {spec.sql_type}; they are kept exactly in "
                    f"{sd.OVERFLOW_COLUMN} (the column holds NULL for them). Recreate the tables "
                    "to type the column from all the data."
                )
                self._warn(message)
            table.new_conflicts.clear()
            for path, example in table.exact_number_paths.items():
                if path in table.warned_exact_paths:
                    continue
                table.warned_exact_paths.add(path)
                self._warn(self._exact_number_warning(table, path, example))

    @staticmethod
    def _exact_number_warning(table: TablePlan, path: tuple[str, ...], example: Any) -> str:
        spec = table.columns.get(path)
        column = spec.name if spec is not None else ".".join(path)
        where = (
            f"in {sd.OVERFLOW_COLUMN} (the column holds NULL for them)"
            if spec is None or spec.is_overflow or path in table.conflict_paths
            else "as text in the column"
        )
        return (
            f"{table.name}.{column}: numbers with more digits than a number column holds exactly arrived "
            f"(e.g. {example}: beyond a 64-bit integer or a double's 15-17 significant digits); they are "
            f"kept exactly, {where}, not rounded. Sums over this column need a cast (CAST(... AS NUMERIC)) "
            "or the source fixed"
        )

    def _stored_updated_at(self, table: str, ids: list[str]) -> dict[str, str | None]:
        return {row[0]: row[1] for row in self._rows_by_id(self.sql.select_updated_at, table, ids)}

    def _rows_by_id(self, query: Any, table: str, ids: list[str]) -> Iterable[tuple[Any, ...]]:
        """Rows of ``table`` for ``ids``, in chunks of 900 bound ids (SQLite's old limit)."""
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            yield from self.conn.execute(query(table, len(chunk)), chunk)

    def _write(self, plan: EntityPlan, writes: list[_Prepared], context: _FileContext) -> None:
        """Upsert the parents (grouped by column set), then replace their children."""
        main = plan.main
        extra = self._custom_values(context)
        extra_names = tuple(extra)
        extra_values = tuple(extra.values())
        # (new?, column set) -> rows: records new to the table are plain inserts (no other
        # writer can add them meanwhile: the run holds the writer lock), the others upserts.
        groups: dict[tuple[bool, tuple[str, ...]], list[tuple[Any, ...]]] = {}
        children: dict[str, list[tuple[str, str | None, str | None, list[Any]]]] = {}
        replaced: dict[str, list[str]] = {}
        for item in writes:
            layout = row_layout(main, item.scalars)
            values = layout.values(item.scalars, is_new=item.is_new)
            columns = layout.columns
            if not item.is_new:
                stale = stale_columns(main, item.scalars, item.fields)
                if stale is not None:
                    columns, values = stale.apply(layout, values)
            groups.setdefault((item.is_new, columns), []).append(
                (item.record_id, "json", item.created, item.updated, *extra_values, *values)
            )
            for field_name, elements in item.children.items():
                children.setdefault(field_name, []).append((item.record_id, item.created, item.updated, elements))
                if not item.is_new:
                    replaced.setdefault(field_name, []).append(item.record_id)
        # Newest-wins was decided above against the stored state before this file (see
        # _decide), so the statement itself carries no time guard.
        for (is_new, columns), rows in groups.items():
            all_columns = ("id", "data_source", "created_at", "updated_at", *extra_names, *columns)
            if is_new:
                self.conn.insert_rows(main.name, all_columns, rows)
            else:
                self.conn.upsert_rows(main.name, all_columns, rows)
        self.stats.tables_touched.add(main.name)
        self.stats.track(main.name, (item.record_id for item in writes))
        for field_name, parents in children.items():
            self._write_children(
                plan.children[field_name], replaced.get(field_name, []), parents, extra_names, extra_values
            )

    def _write_children(
        self,
        table: TablePlan,
        replaced: list[str],
        parents: list[tuple[str, str | None, str | None, list[Any]]],
        extra_names: tuple[str, ...],
        extra_values: tuple[Any, ...],
    ) -> None:
        """Replace the children of every written parent that carried the array."""
        self.conn.delete_children(table.name, replaced)
        groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        id_fields = child_id_fields(table.entity, table.field or "")
        count = 0
        for parent_id, created, updated, elements in parents:
            for position, (element, scalars) in enumerate(elements):
                own_id = _own_id(element, id_fields)
                layout = row_layout(table, scalars)
                groups.setdefault(layout.columns, []).append(
                    (
                        parent_id,
                        position,
                        own_id or f"{parent_id}#{position}",
                        "json",
                        created,
                        updated,
                        *extra_values,
                        *layout.values(scalars),
                    )
                )
                count += 1
        for columns, rows in groups.items():
            all_columns = ("parent_id", "position", "id", "data_source", "created_at", "updated_at", *extra_names, *columns)
            self.conn.insert_rows(table.name, all_columns, rows)
        self.stats.child_rows_written += count
        self.stats.tables_touched.add(table.name)

    def _custom_values(self, context: _FileContext) -> dict[str, Any]:
        """Values for the custom columns the populator fills (session, source file, and
        non-constant defaults such as CURRENT_TIMESTAMP)."""
        values: dict[str, Any] = {}
        for name, declaration in self.options.custom_columns.items():
            if name in ("id", "data_source", "created_at", "updated_at"):
                continue
            if name == SESSION_ID_COLUMN:
                values[name] = context.data_dir.session or context.data_dir.path.name
            elif name == SOURCE_FILE_COLUMN:
                values[name] = context.relative_path
            elif sd.is_non_constant_default(declaration):
                values[name] = utc_now_text()
        return values

    def _reject(self, plan: EntityPlan, record: Any, context: _FileContext, reason: str) -> None:
        self.conn.execute(
            self.sql.INSERT_REJECTED,
            (plan.entity, str(context.data_file.path), reason, dumps_json(record), utc_now_text()),
        )
        self.stats.records_rejected += 1
        self.stats.entity(plan.entity)["rejected"] += 1


def _require_some_id(data_file: DataFile, batch: list[dict[str, Any]], primary_keys: Mapping[str, str]) -> None:
    """An entity json2db_sync has no id rule for, whose first records carry none of the
    usual id fields, fails the run: loading it would put every record in quarantine
    while the run reports success. The error names the fields that could be the id."""
    entity = data_file.entity
    if entity in primary_keys or entity in KNOWN_ID_FIELDS:
        return
    candidates = id_field_candidates(entity, primary_keys)
    if any(normalize_id(record.get(name)) is not None for record in batch for name in candidates):
        return
    seen: dict[str, None] = {}
    for record in batch[:50]:
        for key in record:
            if key.lower().endswith("id"):
                seen.setdefault(key, None)
    hint = f" (its records carry {', '.join(list(seen)[:8])})" if seen else ""
    example = next(iter(seen), "<field>")
    raise ConfigError(
        f"{data_file.path}: json2db_sync has no id rule for the entity '{entity}' and none of "
        f"{', '.join(candidates)} holds a value in its records{hint}; loading it would put "
        f"every record in quarantine. Name its id field in processing.primary_keys, e.g. "
        f'{{"{entity}": "{example}"}}, or move the file out of the data folder'
    )


@dataclass(slots=True)
class _Prepared:
    """One record ready to write: flattened once, with its times and child arrays."""

    record_id: str
    scalars: dict[tuple[str, ...], Any]
    children: dict[str, list[tuple[Any, dict[tuple[str, ...], Any]]]]  # element, its scalars
    created: str | None
    updated: str | None
    fields: tuple[str, ...] = ()  # the record's top-level keys (what it says something about)
    is_new: bool = False


@dataclass(slots=True)
class RowLayout:
    """How the values of records with one key set become a row: computed once per key
    set (list-form and detail-form records each have their own), not per row."""

    columns: tuple[str, ...]
    order: tuple[int, ...]
    numeric: tuple[int, ...]
    converted: tuple[int, ...]
    overflow: tuple[tuple[int, str], ...]
    conflicts: tuple[tuple[int, str], ...] = ()
    has_overflow_column: bool = False

    def values(self, scalars: Mapping[tuple[str, ...], Any], *, is_new: bool = True) -> list[Any]:
        """The row's values in column order (the overflow JSON last, as a patch that the
        upsert merges: a key set to null there removes a value that no longer applies)."""
        raw = list(scalars.values())
        row = [raw[i] for i in self.order]
        for position in self.numeric:
            if row[position] == "":
                row[position] = None  # "" is Zoho's "unset": NULL keeps SUM and AVG right
        extra: dict[str, Any] | None = None
        for position, name in self.conflicts:
            value = row[position]
            extra = extra if extra is not None else {}
            if _fits_number(value):
                if not is_new:
                    extra[name] = None  # the column holds it now: drop an older kept value
            else:
                # Text in a numeric column would be coerced by SQLite ('02134' → 2134):
                # keep it exactly in the overflow JSON instead.
                extra[name] = value
                row[position] = None
        for position in self.converted:
            value = row[position]
            if type(value) is list:  # the common case (tags: [] on every line): JSON text at once
                row[position] = _dumps_list(value)
            else:
                row[position] = to_sql_value(value, sd.TEXT)
        if self.has_overflow_column:
            for index, name in self.overflow:
                extra = extra if extra is not None else {}
                extra[name] = raw[index]
            row.append(dumps_json(extra) if extra else None)
        return row


@dataclass(slots=True, frozen=True)
class StaleColumns:
    """What a newer version of a record clears: the columns (and kept overflow values)
    that come from a field the record carries but that it does not fill, because the
    field is now null, empty, an object where it was a value, a value or an array where
    it was an object, or an object without that member. A field the record does not carry
    at all (a list-form copy) is left alone."""

    columns: tuple[str, ...]
    overflow_keys: tuple[str, ...]

    def apply(self, layout: RowLayout, values: list[Any]) -> tuple[tuple[str, ...], list[Any]]:
        """The row's columns and values with the stale ones set to NULL (removed from the
        overflow JSON patch, for the values kept there)."""
        columns = layout.columns + self.columns
        values = values + [None] * len(self.columns)
        if self.overflow_keys:
            if layout.has_overflow_column:
                position = len(layout.columns) - 1
                patch = json.loads(values[position]) if values[position] else {}
                for key in self.overflow_keys:
                    patch.setdefault(key, None)
                values[position] = dumps_json(patch)
            else:
                columns += (sd.OVERFLOW_COLUMN,)
                values.append(dumps_json(dict.fromkeys(self.overflow_keys)))
        return columns, values


_STALE = "stale"  # a key of TablePlan.layouts (paths are tuples, so never a clash)


def stale_columns(
    table: TablePlan, scalars: Mapping[tuple[str, ...], Any], fields: tuple[str, ...]
) -> StaleColumns | None:
    """The cached :class:`StaleColumns` for this key set and these top-level fields (None
    when the record fills every column of the fields it carries: the usual case)."""
    key = (_STALE, tuple(scalars), fields)
    found = table.layouts.get(key, _UNSET)  # type: ignore[call-overload]
    if found is _UNSET:
        found = table.layouts[key] = _build_stale(table, scalars, fields)  # type: ignore[index]
    return found  # type: ignore[return-value]


_UNSET = object()


def _build_stale(
    table: TablePlan, scalars: Mapping[tuple[str, ...], Any], fields: tuple[str, ...]
) -> StaleColumns | None:
    present = set(fields)
    columns: list[str] = []
    overflow: list[str] = []
    for path, spec in table.columns.items():
        if path[0] not in present or path in scalars:
            continue
        if spec.is_overflow:
            overflow.append(".".join(path))
        else:
            columns.append(spec.name)
            if path in table.conflict_paths:
                overflow.append(".".join(path))  # a text value kept there for this column
    if not columns and not overflow:
        return None
    has_overflow = any(spec.is_overflow for spec in table.columns.values()) or bool(table.conflict_paths)
    return StaleColumns(tuple(sorted(set(columns))), tuple(overflow) if has_overflow else ())


def _own_id(element: Any, id_fields: tuple[str, ...]) -> str | None:
    """A child element's own id: the first of its candidate fields it carries."""
    if type(element) is not dict:
        return None
    for name in id_fields:
        value = element.get(name)
        if value is not None:
            own = normalize_id(value)
            if own is not None:
                return own
    return None


def _fits_number(value: Any) -> bool:
    kind = type(value)
    if kind is float or kind is bool or value is None:
        return True
    return kind is int and sd.INT64_MIN <= value <= sd.INT64_MAX


def row_layout(table: TablePlan, scalars: Mapping[tuple[str, ...], Any]) -> RowLayout:
    """The cached layout for this record's key set (the plan clears the cache whenever a
    column is added or a path starts holding arrays)."""
    keys = tuple(scalars)
    layout = table.layouts.get(keys)
    if layout is None:
        layout = table.layouts[keys] = _build_layout(table, keys)
    return layout


def _build_layout(table: TablePlan, keys: tuple[tuple[str, ...], ...]) -> RowLayout:
    picked: list[tuple[str, int, Any]] = []
    overflow: list[tuple[int, str]] = []
    for index, path in enumerate(keys):
        spec = table.columns.get(path)
        if spec is None:
            continue  # "" where an object is expected: absent on purpose
        if spec.is_overflow:
            overflow.append((index, ".".join(path)))
            continue
        picked.append((spec.name, index, spec))
    picked.sort(key=lambda item: item[0])
    columns = [name for name, _, _ in picked]
    numeric = tuple(
        pos for pos, (_, _, spec) in enumerate(picked) if table.effective_type(spec) in NUMERIC_TYPES
    )
    converted = tuple(
        pos for pos, (_, _, spec) in enumerate(picked) if spec.path in table.converted_paths
    )
    conflicts = tuple(
        (pos, ".".join(spec.path)) for pos, (_, _, spec) in enumerate(picked) if spec.path in table.conflict_paths
    )
    has_overflow_column = bool(overflow or conflicts)
    if has_overflow_column:
        columns.append(sd.OVERFLOW_COLUMN)
    return RowLayout(
        columns=tuple(columns),
        order=tuple(index for _, index, _ in picked),
        numeric=numeric,
        converted=converted,
        overflow=tuple(overflow),
        conflicts=conflicts,
        has_overflow_column=has_overflow_column,
    )


def to_sql_value(value: Any, sql_type: str) -> Any:
    """One JSON value as an SQLite value: booleans 0/1, integers beyond 64 bits as exact
    text, arrays and objects as JSON text, and "" as NULL in numeric columns (so SUM and
    AVG stay right) but "" in text columns."""
    if value is None:
        return None
    if isinstance(value, str):
        if value == "" and sql_type != sd.TEXT:
            return None
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value if sd.INT64_MIN <= value <= sd.INT64_MAX else str(value)
    if isinstance(value, float):
        return value
    if isinstance(value, Decimal):
        return str(value)  # the source's exact text (see reader.inexact_decimal)
    return dumps_json(value)


def _dumps_list(value: list[Any]) -> str:
    if not value:
        return "[]"
    return dumps_json(value)


def dumps_json(value: Any) -> str:
    """Compact JSON text; exact for integers beyond 64 bits (orjson refuses those) and
    for decimals a double would round (written as their exact text, a JSON string)."""
    try:
        return orjson.dumps(value, default=_exact_text).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_exact_text)


def _exact_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _as_utc(moment: datetime) -> datetime:
    """A naive local time (or an aware one) as an aware UTC time."""
    return moment.astimezone(timezone.utc)


def folder_time_utc(moment: datetime, mtime: float | None = None) -> datetime:
    """A folder name's naive local time in UTC. A wall-clock time that happened twice
    (the DST fall-back hour) is the occurrence nearer the file's mtime; a time that
    never happened (the spring-forward gap) is read as Python reads it."""
    first = moment.replace(fold=0).astimezone(timezone.utc)
    second = moment.replace(fold=1).astimezone(timezone.utc)
    if first == second or mtime is None:
        return first
    written = datetime.fromtimestamp(mtime, tz=timezone.utc)
    return min((first, second), key=lambda candidate: abs(candidate - written))


def read_ledger_view(conn: Connection, roots: Sequence[Path] | None = None) -> LedgerView:
    """What discovery needs from the ledger: its horizon (the oldest data folder loaded
    under ``roots``, the places the run reads, or anywhere when None; or an older time a
    restore asked for) and the settled units with their fingerprints."""
    from .sources import parse_session_name, parse_timestamp

    tables = set(existing_tables(conn))
    if sd.FILES_TABLE not in tables:
        return LedgerView()
    candidates: list[datetime] = []
    texts: list[str] = []
    if roots is None:
        oldest_data, oldest_session = conn.execute(conn.dialect.SELECT_LEDGER_HORIZON).fetchone()
        if oldest_session:
            parsed = parse_session_name(oldest_session) or parse_timestamp(oldest_session)
            if parsed is not None:
                candidates.append(parsed)
        texts.append(oldest_data or "")
    else:
        for root in roots:
            prefix = os.path.join(str(root), "")
            row = conn.execute(conn.dialect.SELECT_LEDGER_HORIZON_UNDER, (len(prefix), prefix)).fetchone()
            texts.append(row[0] if row else "")
    if sd.STATE_TABLE in tables:
        row = conn.execute(conn.dialect.SELECT_STATE, (CATCH_UP_FROM,)).fetchone()
        texts.append(row[0] if row is not None and row[0] else "")
    for text in texts:
        if text:
            with contextlib.suppress(ValueError):
                candidates.append(datetime.strptime(text, "%Y-%m-%d %H:%M:%S"))
    settled: dict[str, str] = {}
    if sd.FOLDERS_TABLE in tables:
        settled = {path: fingerprint for path, fingerprint in conn.execute(conn.dialect.SELECT_SETTLED_FOLDERS)}
    return LedgerView(horizon=min(candidates) if candidates else None, settled=settled)


def record_settled(conn: Connection, settle: Mapping[str, tuple[str, str | None]]) -> None:
    """Remember the units a complete run listed and loaded (see sources.LedgerView)."""
    now = utc_now_text()
    rows = [(path, folder_time, fingerprint, now) for path, (fingerprint, folder_time) in settle.items()]
    if rows:
        conn.executemany(conn.dialect.UPSERT_SETTLED_FOLDER, rows)


# State key: after a restore, the oldest folder time the replaced database had loaded, so
# that the next run catches up from there even if the restored ledger is empty.
CATCH_UP_FROM = "catch_up_from"


def _has_line_item_file(data_dir: DataDir, entity: str) -> bool:
    return any(f.child_field is not None and f.entity == entity for f in data_dir.files)


def _mtime_utc(mtime: float) -> str:
    return datetime.fromtimestamp(mtime, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


_TIME_FIELDS = ("last_modified_time", "updated_time")


def _note_unreadable_time(record: Mapping[str, Any], record_id: str, context: _FileContext) -> None:
    """Remember a record whose modification time is there but cannot be read (it falls back
    to the session's time, which may let an older version win): warned once per file."""
    for name in _TIME_FIELDS:
        value = record.get(name)
        if value is None or value == "":
            continue
        if to_utc_text(value) is None:
            context.bad_times.append((record_id, name, value))
        return


def unreadable_times_warning(path: Path, bad: list[tuple[str, str, Any]], fallback: str | None) -> str:
    """One warning naming the file and, for the first few records, the id, field and value."""
    shown = "; ".join(f"id {record_id}: {name}={value!r}" for record_id, name, value in bad[:5])
    more = f"; and {len(bad) - 5} more" if len(bad) > 5 else ""
    return (
        f"{path}: {len(bad)} record(s) have a modification time that cannot be read ({shown}{more}); "
        f"the session's time ({fallback} UTC) was used for them instead, so newest-wins may misjudge "
        "them: fix the field in the export (expected e.g. 2026-06-09T16:48:58-0400)"
    )


def _invalid_file_identity(digest: str) -> str:
    """What the quarantine keeps of an invalid file (in raw_json) to recognise it later."""
    return dumps_json({"invalid_file_sha256": digest})
