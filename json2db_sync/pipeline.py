"""The pipeline: one record's way from a data file to a row, file by file.

Read this module top to bottom to follow a record. For every data folder (oldest first)
and every file in it that the ledger does not already hold (:mod:`json2db_sync.ledger`):

1. **read**: the reader yields the file's records in batches (:mod:`json2db_sync.reader`);
2. **observe**: each record is flattened once and voted into its entity's plan
   (``EntityPlan.flatten_and_observe``: which tables and columns, which types);
3. **plan**: the batch's new tables and columns are created, and columns retyped, before its
   rows go in (``table_generator.apply_plan``);
4. **write**: newest wins against the stored rows and earlier occurrences, then the rows are
   written in groups (:mod:`json2db_sync.data_populator`).

The file is then remembered in the ledger. Each file runs in a savepoint of the run's one
transaction, so a file skipped under ``on_invalid_file=skip`` leaves no trace but its
quarantine entry. api_sync's line-item files (``<entity>_line_items.json``) take a side
path after their folder's parent files: compared with the items the parents embedded, or
supplying them (:mod:`json2db_sync.line_item_files`).

May import stdlib, ``errors``, ``progress``, ``sql_dialect``, ``destinations`` (``savepoint``),
``sources``, ``reader``, ``json_analyzer``, ``table_generator``, ``line_item_files``,
``zoho_entities``, ``load_stats``, ``ledger`` and ``data_populator``.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from . import ledger
from . import sql_dialect as sd
from .data_populator import ChildRows, FileWrites, Populator, Prepared, dumps_json
from .destinations import savepoint
from .errors import (
    ConfigError,
    DatabaseError,
    DataFileError,
    Json2DBError,
    ValidationError,
)
from .json_analyzer import (
    EntityPlan,
    TablePlan,
    child_id_field,
    choose_id_field,
    element_scalars,
    id_field_candidates,
    normalize_id,
    normalize_key,
    record_times,
    singular,
    table_name_for,
    to_utc_text,
)
from .line_item_files import (
    PARENT_ID_FIELD,
    Fingerprint,
    FolderParents,
    copy_mismatches,
)
from .load_stats import LoadOptions, LoadStats
from .progress import ProgressCallback, ProgressEvent, null_progress
from .reader import iter_record_batches
from .sources import DataDir, DataFile, entity_of
from .table_generator import (
    Connection,
    apply_plan,
    limits_of,
    load_stored_plans,
    registered_table_names,
    taken_table_names,
)
from .zoho_entities import KNOWN_ID_FIELDS

logger = logging.getLogger(__name__)

# A folder named further than this after its files' modification time has a name that
# cannot be true (the producer's clock was wrong): its files' time is used instead. A
# producer in another time zone stays well within it.
FOLDER_AHEAD_OF_FILE = timedelta(days=1)

# How much file content the pipeline reads between two passes of the cyclic collector.
GC_EVERY_BYTES = 16 * 1024 * 1024


@dataclass(slots=True)
class _FileContext:
    """One file on its way through the pipeline."""

    data_file: DataFile
    data_dir: DataDir
    fallback_time: str | None
    # What newest-wins remembers across the file's batches (the populator's part).
    writes: FileWrites
    # (id, field, value) of records whose time could not be read (warned once per file).
    bad_times: list[tuple[str, str, Any]] = field(default_factory=list)
    records: int = 0
    check_ints: bool = False
    # Set when the folder also holds this entity's api_sync line-item file: what each
    # parent record carried, for comparing that file with it.
    parents: FolderParents | None = None


class Pipeline:
    """Loads data folders into the database through one connection and one transaction."""

    def __init__(
        self,
        conn: Connection,
        plans: dict[str, EntityPlan],
        options: LoadOptions,
        progress: ProgressCallback = null_progress,
    ) -> None:
        self.conn = conn
        self.limits = limits_of(conn.dialect)
        self.plans = plans
        self.options = options
        self.progress = progress
        self.stats = LoadStats()
        self.populator = Populator(conn, options, self.stats)
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
            digest = ledger.already_loaded(self.conn, data_file)
            if digest is True or self._quarantined_before(data_file, digest):
                self.stats.files_skipped += 1
                return False
        context = _FileContext(
            data_file=data_file,
            data_dir=data_dir,
            fallback_time=self._fallback_time(data_dir, data_file),
            writes=FileWrites(
                session=data_dir.session or data_dir.path.name, relative_path=self._relative(data_file.path)
            ),
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
                ledger.record_loaded(self.conn, data_file, data_dir, digest, context.records)
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
        self.stats.track_file(ledger_key, context.writes.baseline.keys())
        self.stats.entity(data_file.entity)["files"] += 1
        if data_dir.session or data_dir.timestamp:
            self.stats.sessions.add(data_dir.session or str(data_dir.path))
        return True

    def _skip_invalid_file(self, data_file: DataFile, exc: Json2DBError, digest: bool | str | None) -> None:
        """Warn, count and quarantine a file read as invalid under on_invalid_file=skip."""
        detail = str(exc)
        message = (
            f"skipped invalid file {detail}" if detail.startswith(str(data_file.path))
            else f"skipped invalid file {data_file.path}: {detail}"
        )
        self._warn(message)
        self.stats.files_invalid += 1
        ledger.quarantine_invalid_file(
            self.conn, data_file, exc, digest, remember=self.options.duplicate_prevention
        )
        self.stats.records_rejected += 1

    def _quarantined_before(self, data_file: DataFile, digest: bool | str) -> bool:
        """Whether the ledger quarantined this very file as invalid in an earlier run (only
        asked under on_invalid_file=skip, of a file it hashed: see ledger.quarantined_before)."""
        if self.options.on_invalid_file != "skip" or not isinstance(digest, str):
            return False
        return ledger.quarantined_before(self.conn, data_file, digest)

    # --- records: read, observe, plan, write ----------------------------------------

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
        """One batch of records through the steps after reading: observe, plan, write."""
        stats = self.stats
        entity_stats = stats.entity(plan.entity)
        stats.total_records += len(batch)
        entity_stats["records"] += len(batch)
        context.records += len(batch)
        rounds, fresh_ids = self._observe(plan, batch, context)
        if not rounds:
            return
        self._plan(plan)
        self.populator.write_batch(plan, rounds, fresh_ids, context.writes)
        self._records_done += len(batch)
        self.progress(
            ProgressEvent("populate", self._records_done, None, f"{plan.entity}: {context.data_file.path.name}")
        )

    def _observe(
        self, plan: EntityPlan, batch: list[dict[str, Any]], context: _FileContext
    ) -> tuple[list[list[Prepared]], list[str]]:
        """Flatten each record once and vote it into the plan; returns the records ready to
        write, in rounds, and the ids this file meets for the first time.

        Ids in file order; a repeat goes to a later round, so that the occurrences are
        decided and applied in file order (partial updates included): each is written
        unless it is older than the newest one applied before it (see Populator._decide).
        A record without a usable id goes to the quarantine here."""
        stats = self.stats
        baseline = context.writes.baseline
        rounds: list[list[Prepared]] = []
        occurrences: dict[str, int] = {}
        fresh_ids: list[str] = []
        for record in batch:
            record_id = normalize_id(record.get(plan.id_field))
            if record_id is None:
                self._reject(plan, record, context, f"no usable id in field {plan.id_field!r}")
                continue
            if record_id in baseline or record_id in occurrences:
                stats.duplicate_ids_in_files += 1
            elif record_id not in occurrences:
                fresh_ids.append(record_id)
            index = occurrences[record_id] = occurrences.get(record_id, -1) + 1
            scalars, children = plan.flatten_and_observe(record, check_ints=context.check_ints)
            created, updated = record_times(record, context.fallback_time)
            if updated == context.fallback_time:
                _note_unreadable_time(record, record_id, context)
            if context.parents is not None:
                context.parents.note(record_id, record, updated)
            if index == len(rounds):
                rounds.append([])
            rounds[index].append(Prepared(record_id, scalars, children, created, updated, tuple(record)))
        return rounds, fresh_ids

    def _plan(self, plan: EntityPlan) -> None:
        """Create the tables and columns the observed records need (and retype columns)
        before their rows go in; warn about values a column's type cannot hold."""
        self._refuse_foreign_tables(plan)
        self.stats.ddl.extend(apply_plan(self.conn, plan, custom_columns=self.options.custom_columns))
        self._report_conflicts(plan)

    def _reject(self, plan: EntityPlan, record: Any, context: _FileContext, reason: str) -> None:
        """Quarantine a record that cannot be loaded (it has no usable id)."""
        ledger.reject(self.conn, plan.entity, context.data_file.path, reason, dumps_json(record))
        self.stats.records_rejected += 1
        self.stats.entity(plan.entity)["rejected"] += 1

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
        stored = self.populator.stored_parent_times(plan.main.name, list(supplied)) if plan.main.exists else {}
        table = plan.child_plan(field_name)
        writes: list[ChildRows] = []
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
        self._plan(plan)
        self.populator.write_line_items(plan, table, writes, context.writes)

    def _reject_line_item(self, entity: str, element: Any, context: _FileContext, reason: str) -> None:
        """Quarantine a line item that belongs to no parent the database holds."""
        ledger.reject(self.conn, entity, context.data_file.path, f"line item: {reason}", dumps_json(element))
        self.stats.records_rejected += 1

    # --- helpers -------------------------------------------------------------------

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
        written = datetime.fromtimestamp(data_file.mtime, tz=UTC)
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
            chunk_bytes=self.conn.read_chunk_bytes,
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

    def _warn(self, message: str) -> None:
        """A warning of the run: to the log and to the result."""
        logger.warning(message)
        self.stats.warnings.append(message)

    def _relative(self, path: Path) -> str:
        root = self.options.data_root
        if root is not None:
            try:
                return str(path.relative_to(root))
            except ValueError:
                pass
        return str(path)


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


def _as_utc(moment: datetime) -> datetime:
    """A naive local time (or an aware one) as an aware UTC time."""
    return moment.astimezone(UTC)


def folder_time_utc(moment: datetime, mtime: float | None = None) -> datetime:
    """A folder name's naive local time in UTC. A wall-clock time that happened twice
    (the DST fall-back hour) is the occurrence nearer the file's mtime; a time that
    never happened (the spring-forward gap) is read as Python reads it."""
    first = moment.replace(fold=0).astimezone(UTC)
    second = moment.replace(fold=1).astimezone(UTC)
    if first == second or mtime is None:
        return first
    written = datetime.fromtimestamp(mtime, tz=UTC)
    return min((first, second), key=lambda candidate: abs(candidate - written))


def _has_line_item_file(data_dir: DataDir, entity: str) -> bool:
    return any(f.child_field is not None and f.entity == entity for f in data_dir.files)


def _mtime_utc(mtime: float) -> str:
    return datetime.fromtimestamp(mtime, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


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


