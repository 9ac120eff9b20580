"""The runner: orchestrates the stages and returns plain result dicts; never prints.

May import every stage module. Each public method runs inside one boundary
(``with self._operation(...) as op``) that maps our errors to their ``error_type``,
sqlite3 errors to ``database_error``, OS errors to ``file_error`` and anything else to
``internal_error`` (with the traceback in the log), so no expected failure raises.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from . import ledger
from . import sql_dialect as sd
from ._types import (
    AnalyzeJsonFilesResult,
    BrowseDatabaseResult,
    CreateBackupResult,
    DestinationResult,
    FullSyncWorkflowResult,
    GenerateHtmlReportResult,
    GenerateSampleDataResult,
    GenerateSummaryReportResult,
    GenerateTableSchemasResult,
    ListBackupsResult,
    ListSessionsResult,
    PopulateTablesResult,
    RecreateJsonTablesResult,
    RestoreBackupResult,
    ShowConfigurationResult,
    TablesToDropResult,
    UpdateSettingsResult,
    VerifyTablesResult,
)
from .config import JSON2DBConfig, Settings
from .destinations import SAFETY_LABEL, Destination, atomic, is_safety_copy, open_destination, utc_now_text
from .destinations.sqlite import explain_sqlite_error
from .errors import (
    ConfigError,
    DatabaseError,
    DataFileError,
    Json2DBError,
    LockHeldError,
    NoDataError,
    ValidationError,
)
from .json_analyzer import EntityPlan, analyze_child_records, analyze_records, describe_plan, id_field_candidates
from .load_stats import LoadOptions, LoadStats
from .pipeline import Pipeline
from .progress import ProgressCallback, ProgressEvent, null_progress
from .reader import iter_record_batches
from .report_views import create_report_views
from .sources import DataDir, Discovery, LedgerView, entity_of
from .table_generator import (
    apply_plan,
    data_tables,
    ensure_foreign_keys,
    ensure_indexes,
    ensure_internal_tables,
    limits_of,
    load_stored_plans,
    plan_ddl,
    recreate_tables,
    schema_changes,
    validate_custom_columns,
)

logger = logging.getLogger("json2db_sync")

Result = dict[str, Any]


def _success(operation: str, warnings: list[str], **payload: Any) -> Result:
    result: Result = {
        "success": True,
        "operation": operation,
        "error": None,
        "error_type": None,
        "warnings": warnings,
    }
    result.update(payload)
    return result


def _failure(operation: str, error_type: str, message: str, warnings: list[str], **payload: Any) -> Result:
    result: Result = {
        "success": False,
        "operation": operation,
        "error": message,
        "error_type": error_type,
        "warnings": warnings,
    }
    result.update(payload)
    return result


class _Failed(Exception):
    """Raised inside an operation body to fail with a payload (e.g. verification errors)."""

    def __init__(self, error_type: str, message: str, payload: dict[str, Any]) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.payload = payload


R = TypeVar("R", bound=Mapping[str, object])


class _Operation(Generic[R]):
    """One public operation under way (see :meth:`JSON2DBSyncRunner._operation`): the
    warnings its body collects, the payload it succeeds with, and, once the ``with``
    block has ended, its result, typed as the operation's TypedDict ``R``."""

    def __init__(self, name: str, config_error: ConfigError | None) -> None:
        self.name = name
        self.warnings: list[str] = []
        self._config_error = config_error
        self._begun = False
        self.payload: dict[str, Any] = {}
        self._kept: dict[str, Any] = {}
        self._result: Result | None = None

    def begin(self) -> list[str]:
        """The body's first step: raises the runner's configuration error, if any, before
        the body does anything. Returns the list the body's warnings go to."""
        if self._config_error is not None:
            raise self._config_error
        self._begun = True
        return self.warnings

    def keep(self, **payload: Any) -> None:
        """Keys the result carries whatever the outcome (a failure included), unless the
        outcome's own payload sets them: what a run did before it failed."""
        self._kept.update(payload)

    def succeed(self, payload: Mapping[str, Any]) -> None:
        """The operation's own keys, returned beside the contract's when the block ends."""
        if not self._begun:
            raise RuntimeError(f"{self.name}: succeed() before begin()")
        self.payload = dict(payload)

    def finish(self, result: Result) -> None:
        for key, value in self._kept.items():
            result.setdefault(key, value)
        self._result = result

    @property
    def result(self) -> R:
        """The result dict (the contract's keys plus the payload), once the block ended."""
        if self._result is None:
            raise RuntimeError(f"{self.name}: the result is read before the operation ended")
        return cast(R, self._result)


class JSON2DBSyncRunner:
    """Programmatic access to every operation of json2db_sync.

    Args:
        db_path: the SQLite file (overrides JSON2DB_DATABASE_PATH and the config file).
        db_url: the destination as a URL, e.g. ``postgresql://user@host:5432/db``
            (overrides JSON2DB_DATABASE_URL and ``database.url``); a plain path means SQLite.
        db_schema: the PostgreSQL schema for the tables (default ``public``).
        data_source: an api_sync root, a sessions folder or a plain folder of JSON files.
        config_file: a JSON config file (sections data_source, database, processing).
        progress_callback: called with a :class:`~json2db_sync.progress.ProgressEvent` per batch.
        custom_columns: extra columns for new tables, e.g. ``{"session_id": "TEXT"}``.
        clock: the run's clock (naive local time, like folder names), default
            ``datetime.now``: the cutoff is measured against it (tests and simulations
            pass their own).

    A bad configuration does not raise here: every method then returns a result with
    ``error_type == "config_error"`` naming the setting.

    ``runner.progress`` is the progress callback in use; the menu swaps it for a rich
    progress bar around each operation.
    """

    def __init__(
        self,
        db_path: str | os.PathLike[str] | None = None,
        data_source: str | os.PathLike[str] | None = None,
        config_file: str | os.PathLike[str] | None = None,
        *,
        db_url: str | None = None,
        db_schema: str | None = None,
        progress_callback: ProgressCallback | None = None,
        custom_columns: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.progress: ProgressCallback = progress_callback or null_progress
        self._clock: Callable[[], datetime] = clock or datetime.now
        self._config: JSON2DBConfig | None = None
        self._config_error: ConfigError | None = None
        self._custom_columns: dict[str, str] = dict(custom_columns or {})
        try:
            self._config = JSON2DBConfig(
                db_path=db_path,
                data_source=data_source,
                config_file=config_file,
                overrides={"database_url": db_url, "database_schema": db_schema},
            )
        except ConfigError as exc:
            self._config_error = exc  # every method returns it as a config_error result

    # --- configuration -------------------------------------------------------------

    @property
    def config(self) -> JSON2DBConfig:
        """The resolved configuration (raises ConfigError when it is invalid)."""
        if self._config is None:
            assert self._config_error is not None
            raise self._config_error
        return self._config

    @property
    def settings(self) -> Settings:
        return self.config.settings

    def update_settings(self, **changes: Any) -> UpdateSettingsResult:
        """Change settings for this runner only (the menu's "change for this session")."""

        with self._operation("update_settings", UpdateSettingsResult) as op:
            op.begin()
            self._config = self.config.with_overrides(**changes)
            op.succeed({"settings": self.config.describe()})

        return op.result

    def show_configuration(self) -> ShowConfigurationResult:
        """Every setting with its value and where it came from."""
        with self._operation("show_configuration", ShowConfigurationResult) as op:
            op.begin()
            op.succeed({"settings": self.config.describe()})
        return op.result

    def _custom(self) -> dict[str, str]:
        merged = dict(self.settings.custom_columns)
        merged.update(self._custom_columns)
        return validate_custom_columns(merged)

    def _db(self, db_path: str | os.PathLike[str] | Destination | None) -> Destination:
        """Where an operation writes: the ``db_path`` it was given (a file, or a
        postgresql:// URL; a destination already made, which the full workflow hands to
        its steps, stays as it is), else the configured destination. Which engine:
        :func:`~json2db_sync.destinations.open_destination` decides."""
        if db_path is None:
            return open_destination(self.config)
        return open_destination(db_path, schema=self.settings.database_schema)

    def destination(self) -> DestinationResult:
        """Which database runs write to: kind (sqlite or postgresql) and a description
        with any password masked (the menu and CLI show it)."""

        with self._operation("destination", DestinationResult) as op:
            op.begin()
            dest = self._db(None)
            op.succeed({"kind": dest.kind, "db_path": dest.label, "description": dest.describe()})

        return op.result

    # --- the operation boundary --------------------------------------------------

    @contextlib.contextmanager
    def _operation(self, operation: str, shape: type[R]) -> Iterator[_Operation[R]]:
        """The boundary every public method runs in::

            with self._operation("verify_tables", VerifyTablesResult) as op:
                warnings = op.begin()
                ...
                op.succeed({...payload...})
            return op.result

        Nothing raised in the block escapes: our errors become a failure result with
        their own ``error_type``, sqlite3 errors ``database_error``, OS errors
        ``file_error``, anything else ``internal_error`` (traceback in the log). ``shape``
        is the result's TypedDict, for the type checker only.
        """
        op: _Operation[R] = _Operation(operation, self._config_error)
        warnings = op.warnings
        logger.info("%s: start", operation)
        try:
            yield op
        except _Failed as exc:
            logger.error("%s failed: %s", operation, exc)
            op.finish(_failure(operation, exc.error_type, str(exc), warnings, **exc.payload))
        except Json2DBError as exc:
            logger.error("%s failed: %s", operation, exc)
            op.finish(_failure(operation, exc.error_type, str(exc), warnings))
        except sqlite3.Error as exc:
            message = str(explain_sqlite_error(exc, self._safe_db_path()))
            logger.error("%s failed: %s", operation, message)
            op.finish(_failure(operation, "database_error", message, warnings))
        except OSError as exc:
            where = exc.filename or "a file"
            message = f"{where}: {exc.strerror or exc}; check that it exists and is readable"
            logger.error("%s failed: %s", operation, message)
            op.finish(_failure(operation, "file_error", message, warnings))
        except Exception as exc:  # the one boundary where anything is caught
            logger.exception("%s failed unexpectedly", operation)
            op.finish(
                _failure(
                    operation,
                    "internal_error",
                    f"unexpected {type(exc).__name__}: {exc} (the log has the traceback; please report it)",
                    warnings,
                )
            )
        else:
            logger.info("%s: done", operation)
            op.finish(_success(operation, warnings, **op.payload))

    def _safe_db_path(self) -> str:
        try:
            return str(self._db(None).label)
        except ConfigError:
            return "(unknown)"

    # --- discovery -----------------------------------------------------------------

    def _discover(
        self,
        json_dir: str | os.PathLike[str] | None,
        cutoff_days: int | None,
        warnings: list[str],
        ledger: LedgerView | None = None,
    ) -> Discovery:
        if cutoff_days is not None and (
            isinstance(cutoff_days, bool) or not isinstance(cutoff_days, int) or cutoff_days < 1
        ):
            raise ConfigError(
                f"cutoff_days={cutoff_days!r} is not a whole number of days >= 1; pass e.g. "
                "cutoff_days=30 (1 is the last day; a large number such as 36500 loads all history)"
            )
        found = self.config.discover(json_dir=json_dir, cutoff_days=cutoff_days, now=self._clock(), ledger=ledger)
        warnings.extend(found.warnings)
        if not found.dirs and found.excluded_by_cutoff:
            age = found.newest_excluded_age_days
            warnings.append(
                f"no data folder is within the last {cutoff_days} day(s): {found.excluded_by_cutoff} "
                f"folder(s) are older (the newest is {age:.1f} days old); raise the cutoff (--cutoff-days, "
                "cutoff_days=) to load them"
            )
        return found

    def _load_scope(
        self,
        path: Destination,
        json_dir: str | os.PathLike[str] | None,
        cutoff_days: int | None,
        entity_filter: Iterable[str] | None,
        warnings: list[str],
        notes: list[str] | None = None,
    ) -> tuple[Discovery, set[str] | None, bool]:
        """The folders and entities a population loads, and whether it completes the full
        reload a recreation asked for.

        After a recreation the next population loads every folder whatever the cutoff,
        so that no history is lost; only an unfiltered run of the configured source
        clears that request. An entity filter naming no entity the data holds at all is
        an error; one naming entities without data in the window is a warning.
        """
        cutoff: int | None = self.settings.default_cutoff_days if cutoff_days is None else cutoff_days
        wanted = _entity_set(entity_filter)
        reload_all = ledger.full_reload_pending(path)
        if reload_all:
            # What the user asked for by recreating: said, but not a problem to warn about.
            (notes if notes is not None else warnings).append(
                "the tables were recreated: this run loads every data folder, whatever the cutoff in days"
            )
            self._discover(json_dir, cutoff, [])  # still validate the cutoff given
            cutoff = None
        found = self._discover(json_dir, cutoff, warnings, ledger=ledger.ledger_view(path, self.config.places(json_dir)))
        if wanted is not None:
            self._check_entity_filter(wanted, found, json_dir, warnings)
        completes_reload = reload_all and wanted is None and json_dir is None
        return found, wanted, completes_reload

    def _check_entity_filter(
        self, wanted: set[str], found: Discovery, json_dir: str | os.PathLike[str] | None, warnings: list[str]
    ) -> None:
        in_window = {f.entity for d in found.dirs for f in d.files}
        missing = sorted(wanted - in_window)
        if not missing:
            return
        everywhere = self._discover(json_dir, None, []) if found.excluded_by_cutoff else found
        known = {f.entity for d in everywhere.dirs for f in d.files}
        if not (wanted & known):
            raise ConfigError(
                f"none of the entities asked for (--entities, entity_filter=) is in the data: "
                f"{', '.join(sorted(wanted))}; the data holds {', '.join(sorted(known)) or 'nothing'}"
            )
        warnings.append(f"entities asked for with no data within the cutoff: {', '.join(missing)}")

    def _recent_dirs(self, found: Discovery, warnings: list[str]) -> list[DataDir]:
        """The folders the Analysis option looks at when given none: those within
        session_max_age hours, else the newest one (with a warning)."""
        limit = datetime.now() - timedelta(hours=self.settings.session_max_age_hours)
        recent = [d for d in found.dirs if d.timestamp is None or d.timestamp >= limit]
        if recent or not found.dirs:
            return recent
        newest = found.dirs[-1]
        warnings.append(
            f"no session is newer than {self.settings.session_max_age_hours} h "
            f"(JSON2DB_SESSION_MAX_AGE); analysing the newest one, {newest.path}"
        )
        return [newest]

    # --- analysis ------------------------------------------------------------------

    def _analyze(
        self,
        dirs: Iterable[DataDir],
        plans: dict[str, EntityPlan],
        entity_filter: set[str] | None = None,
        files: set[Path] | None = None,
        dest: Destination | None = None,
    ) -> dict[str, int]:
        """Vote every record of ``dirs`` into ``plans`` (names and types shaped for ``dest``,
        by default the configured destination); returns records per entity."""
        settings = self.settings
        limits = limits_of((dest if dest is not None else self._db(None)).dialect)
        counts: dict[str, int] = {}
        done = 0
        wanted = [
            data_file
            for data_dir in dirs
            for data_file in data_dir.files
            if (entity_filter is None or data_file.entity in entity_filter)
            and (files is None or data_file.path in files)
        ]
        total_bytes = sum(data_file.size for data_file in wanted)
        done_bytes = 0
        for number, data_file in enumerate(wanted, 1):
            entity = data_file.entity
            plan = plans.get(entity)
            id_hint = plan.id_field if plan else id_field_candidates(entity, settings.primary_keys)[0]
            batches = iter_record_batches(
                data_file.path,
                entity if data_file.child_field is None else entity_of(data_file.path),
                batch_size=settings.batch_size,
                memory_limit_mb=settings.memory_limit_mb,
                id_field=id_hint,
            )
            before = plan.record_count if plan else 0
            done_bytes += data_file.size
            files_done = ProgressEvent("files", done_bytes, total_bytes, f"{number}/{len(wanted)} files")
            try:
                plan = analyze_records(
                    entity,
                    batches if data_file.child_field is None else (),
                    plan=plan,
                    primary_keys=settings.primary_keys,
                    reserved=tuple(self._custom()),
                    limits=limits,
                )
                if data_file.child_field is not None:
                    # api_sync's line-item file: rows of the entity's child table
                    analyze_child_records(plan, data_file.child_field, batches)
            except (DataFileError, ValidationError) as exc:
                if settings.on_invalid_file != "skip":
                    raise
                logger.warning("analysis skips %s: %s", data_file.path, exc)
                self.progress(files_done)
                continue
            plan.files.append(str(data_file.path))
            plans[entity] = plan
            counts[entity] = counts.get(entity, 0) + plan.record_count - before
            done += plan.record_count - before
            self.progress(ProgressEvent("analyze", done, None, str(data_file.path)))
            self.progress(files_done)
        return counts

    def _stored_plans(self, dest: Destination) -> dict[str, EntityPlan]:
        if not dest.exists():
            return {}
        with dest.open(readonly=True) as conn:
            return load_stored_plans(conn, custom_columns=self._custom())

    def analyze_json_files(self, json_dir_path: str | os.PathLike[str] | None = None) -> AnalyzeJsonFilesResult:
        """Infer tables, columns, types and child tables from the JSON files, and compare
        them with the database.

        With no folder, the recent sessions (within session_max_age hours) are analysed.
        ``schema_changes_required`` lists new tables, new columns and type conflicts; it
        is empty when the database already fits.
        """

        with self._operation("analyze_json_files", AnalyzeJsonFilesResult) as op:
            warnings = op.begin()
            found = self._discover(json_dir_path, None, warnings)
            dirs = found.dirs if json_dir_path is not None else self._recent_dirs(found, warnings)
            dest = self._db(None)
            plans = self._stored_plans(dest)
            stored_entities = set(plans)
            counts = self._analyze(dirs, plans)
            entities: dict[str, Any] = {}
            changes: list[dict[str, Any]] = []
            conn_cm = dest.open(readonly=True) if dest.exists() else contextlib.nullcontext(None)
            with conn_cm as conn:
                for entity in sorted(counts):
                    plan = plans[entity]
                    described = describe_plan(plan)
                    if entity in stored_entities:
                        described["record_count"] = counts[entity]
                    entity_changes = schema_changes(conn, plan)
                    described["schema_changes"] = entity_changes
                    entities[entity] = described
                    changes.extend(entity_changes)
                    if described["records_without_id"]:
                        warnings.append(
                            f"{entity}: {described['records_without_id']} record(s) have no "
                            f"'{plan.id_field}'; they will go to the quarantine table"
                        )
            op.succeed({
                "json_dir": str(found.root),
                "data_dirs": [str(d.path) for d in dirs],
                "entities": entities,
                "total_records": sum(counts.values()),
                "schema_changes_required": changes,
            })

        return op.result

    def generate_table_schemas(
        self,
        include_indexes: bool = True,
        custom_columns: Mapping[str, str] | None = None,
        json_dir_path: str | os.PathLike[str] | None = None,
    ) -> GenerateTableSchemasResult:
        """The DDL that would create or extend the tables, per table, without running it.

        ``custom_columns`` are remembered by this runner and used by later table
        creation; ``session_id`` and ``source_file`` are filled by the populator.
        """

        with self._operation("generate_table_schemas", GenerateTableSchemasResult) as op:
            warnings = op.begin()
            if custom_columns:
                validate_custom_columns(custom_columns)
                self._custom_columns.update(custom_columns)
            found = self._discover(json_dir_path, None, warnings)
            dest = self._db(None)
            plans = self._stored_plans(dest)
            self._analyze(found.dirs, plans)
            tables: dict[str, list[str]] = {}
            for entity in sorted(plans):
                tables.update(
                    plan_ddl(
                        plans[entity],
                        custom_columns=self._custom(),
                        include_indexes=include_indexes,
                        dialect=dest.dialect,
                    )
                )
            op.succeed({"tables": tables, "custom_columns": self._custom()})

        return op.result

    # --- writing operations ------------------------------------------------------

    @contextlib.contextmanager
    def _writing(
        self,
        dest: Destination,
        operation: str,
        *,
        backup: bool,
        warnings: list[str] | None = None,
        locked: bool = False,
    ) -> Iterator[tuple[Any, Path | None]]:
        """Lock (unless the caller holds it already), optional backup, one connection,
        one transaction; yields the connection and the backup made (None when none was
        made or there was nothing to back up)."""
        settings = self.settings
        lock = (
            contextlib.nullcontext()
            if locked
            else dest.writer_lock(operation=operation, timeout_seconds=settings.lock_timeout_seconds)
        )
        with lock:
            target = None
            if backup:
                target = self._backup_before(dest, warnings)
            # Our own runs are kept apart by the lock above; this waits for other programs.
            timeout = max(settings.lock_timeout_seconds, 1.0)
            with dest.open(busy_timeout=timeout) as conn, atomic(conn, dest.label):
                yield conn, target

    def _backup_before(self, dest: Destination, warnings: list[str] | None) -> Path | None:
        """The backup before a writing operation. On PostgreSQL a backup that cannot be
        made (no pg_dump) is a warning, not a failure: the server's own tools own it."""
        try:
            return dest.backup(self._backup_dir(dest), keep=self.settings.backup_keep)
        except DatabaseError as exc:
            if dest.backup_failure_is_fatal or warnings is None:
                raise
            warnings.append(f"no backup was made: {exc}")
            return None

    def _backup_dir(self, dest: Destination) -> Path:
        return dest.backup_dir_for(self.settings.backup_dir, self.settings.database_path)

    def _load_options(self, data_root: Path, run_time: datetime | None = None) -> LoadOptions:
        s = self.settings
        return LoadOptions(
            batch_size=s.batch_size,
            memory_limit_mb=s.memory_limit_mb,
            duplicate_prevention=s.enable_duplicate_prevention,
            on_invalid_file=s.on_invalid_file,
            primary_keys=s.primary_keys,
            custom_columns=self._custom(),
            data_root=data_root,
            run_time=run_time,
        )

    def recreate_json_tables(self, db_path: str | os.PathLike[str] | None = None) -> RecreateJsonTablesResult:
        """Back up, drop every ``json_*`` table (no other), clear the file ledger, and
        create the tables again from the current analysis."""

        with self._operation("recreate_json_tables", RecreateJsonTablesResult) as op:
            warnings = op.begin()
            path = self._db(db_path)
            plans: dict[str, EntityPlan] = {}
            found: Discovery | None = None
            try:
                found = self._discover(None, None, warnings)
            except NoDataError as exc:
                warnings.append(f"no data to create tables from, so none were created: {exc}")
            if found is not None:
                # Analyse before dropping anything: a broken file stops the recreation
                # while every table is still there (unless on_invalid_file=skip).
                self._analyze(found.dirs, plans, dest=path)
            with self._writing(path, "recreate_json_tables", backup=True, warnings=warnings) as (conn, backup_path):
                ensure_internal_tables(conn)
                dropped = recreate_tables(conn)
                ledger.mark_full_reload(conn)
                created: list[str] = []
                custom = self._custom()
                for entity in sorted(plans):
                    apply_plan(conn, plans[entity], custom_columns=custom, include_indexes=True)
                    created.extend(t.name for t in plans[entity].tables())
                ensure_foreign_keys(conn, plans.values())
                views = create_report_views(conn)
            op.succeed({
                "db_path": path.label,
                "dropped_tables": dropped,
                "created_tables": created,
                "report_views": views,
                "backup_path": str(backup_path) if backup_path else None,
            })

        return op.result

    def tables_to_drop(self, db_path: str | os.PathLike[str] | None = None) -> TablesToDropResult:
        """The tables a recreation would drop (for the menu's confirmation)."""

        with self._operation("tables_to_drop", TablesToDropResult) as op:
            op.begin()
            path = self._db(db_path)
            tables: list[str] = []
            if path.exists():
                with path.open(readonly=True) as conn:
                    tables = data_tables(conn)
            op.succeed({
                "db_path": path.label,
                "destination": path.describe(),
                "tables": tables,
                "backup_dir": str(self._backup_dir(path)),
            })

        return op.result

    def populate_tables(
        self,
        db_path: str | os.PathLike[str] | None = None,
        json_dir: str | os.PathLike[str] | None = None,
        cutoff_days: int | None = None,
        entity_filter: Iterable[str] | None = None,
    ) -> PopulateTablesResult:
        """Upsert the records of the data folders within ``cutoff_days`` (default: the
        configured default_cutoff_days) into the database, newest wins."""

        with self._operation("populate_tables", PopulateTablesResult) as op:
            warnings = op.begin()
            started = time.perf_counter()
            path = self._db(db_path)
            scope_notes: list[str] = []
            found, wanted, completes = self._load_scope(
                path, json_dir, cutoff_days, entity_filter, warnings, scope_notes
            )
            stats, _ = self._populate(
                path, found, wanted, warnings, operation="populate_tables", completes_reload=completes
            )
            # No verification step here to carry them: a line-item copy that disagrees is a warning.
            warnings.extend(f"line items: {message}" for message in stats.line_item_mismatches)
            op.succeed({
                "db_path": path.label,
                "json_dir": str(found.root),
                "statistics": _statistics(stats, started),
                "report_views": stats.report_views,
                "notes": [*scope_notes, *found.notes(), *stats.notes],
            })

        return op.result

    def _populate(
        self,
        path: Destination,
        found: Discovery,
        entity_filter: set[str] | None,
        warnings: list[str],
        *,
        operation: str,
        build_indexes: bool = True,
        completes_reload: bool = False,
        locked: bool = False,
    ) -> tuple[LoadStats, dict[str, EntityPlan]]:
        """One run: lock, backup if configured, then schema and rows in one transaction.

        Schema work happens inside the load, batch by batch, in one pass over the data: a
        batch's new tables and columns are created just before its rows are written.
        A run over every entity also records the units it listed whole as settled (so
        later nights need not list them) and ends a catch-up a restore asked for.
        """
        started_at = utc_now_text()
        options = self._load_options(found.root, found.now)
        try:
            backup = self.settings.backup_before_operations
            with self._writing(path, operation, backup=backup, warnings=warnings, locked=locked) as (conn, _):
                ensure_internal_tables(conn)
                plans = load_stored_plans(conn, custom_columns=options.custom_columns)
                stats = Pipeline(conn, plans, options, self.progress).load_dirs(found.dirs, entity_filter)
                stats.ddl.extend(ensure_foreign_keys(conn, plans.values()))
                if completes_reload:
                    ledger.clear_full_reload(conn)
                stats.folders_caught_up = ledger.caught_up_note(found, stats, stats.notes)
                if entity_filter is None:
                    ledger.record_settled(conn, found.settle)
                    restored = ledger.end_catch_up(conn)
                    if restored is not None:
                        stats.notes.append(
                            f"the database was restored from a backup: folders newer than {restored} "
                            "that its ledger does not hold were looked for and loaded again"
                        )
                if build_indexes:
                    ensure_indexes(conn, plans.values())
                stats.report_views = create_report_views(conn)
                warnings.extend(stats.warnings)
                ledger.record_run(conn, operation, started_at, "success", stats, None)
        except LockHeldError:
            raise  # another run owns the database: write nothing into it
        except (Json2DBError, sqlite3.Error, OSError) as exc:
            ledger.record_failed_run(path, operation, started_at, exc)
            raise
        for entity, counts in sorted(stats.per_entity.items()):
            if counts["rejected"]:
                warnings.append(
                    f"{entity}: {counts['rejected']} record(s) had no usable "
                    f"'{plans[entity].id_field}' and were quarantined in {sd.REJECTED_TABLE}; "
                    "fix them at the source or set processing.primary_keys"
                )
        return stats, plans

    # --- read-only operations ------------------------------------------------------

    def verify_tables(self, db_path: str | os.PathLike[str] | None = None) -> VerifyTablesResult:
        """Read-only checks of the database; ``success`` is False when any check is an error."""

        with self._operation("verify_tables", VerifyTablesResult) as op:
            op.begin()
            op.succeed(self._verify(self._db(db_path), None))

        return op.result

    def _verify(
        self,
        path: Destination,
        tables: Iterable[str] | None,
        source_files: Iterable[str] | None = None,
        source_ids: Mapping[str, Collection[str]] | None = None,
        row_ids: Mapping[str, Collection[str]] | None = None,
        check_source_counts: bool = True,
        line_item_mismatches: Sequence[str] | None = None,
        line_item_files_compared: int = 0,
    ) -> dict[str, Any]:
        from .verifier import verify_database

        with path.open(readonly=True) as conn:
            checks = verify_database(
                conn,
                session_max_age_hours=self.settings.session_max_age_hours,
                tables=tables,
                source_files=source_files,
                source_ids=source_ids,
                row_ids=row_ids,
                check_source_counts=check_source_counts,
                line_item_mismatches=line_item_mismatches,
                line_item_files_compared=line_item_files_compared,
                progress=self.progress,
            )
        errors = [c for c in checks if c["status"] == "error"]
        summary = {
            "ok": sum(c["status"] == "ok" for c in checks),
            "warning": sum(c["status"] == "warning" for c in checks),
            "error": len(errors),
        }
        payload = {"db_path": path.label, "checks": checks, "summary": summary}
        if errors:
            names = ", ".join(c["name"] for c in errors)
            raise _Failed(
                "validation_error",
                f"verification of {path.label} found errors in: {names}; see the checks for details",
                payload,
            )
        return payload

    def generate_summary_report(
        self, db_path: str | os.PathLike[str] | Destination | None = None
    ) -> GenerateSummaryReportResult:
        """Tables with record counts, sessions loaded, last runs, size and freshness."""

        with self._operation("generate_summary_report", GenerateSummaryReportResult) as op:
            op.begin()
            from .summary_reporter import summarize_database

            path = self._db(db_path)
            with path.open(readonly=True) as conn:
                report = summarize_database(
                    conn,
                    db_path=path.label,
                    size_bytes=path.size_bytes(conn),
                    session_max_age_hours=self.settings.session_max_age_hours,
                )
            report["destination"] = path.describe()
            op.succeed(report)

        return op.result

    def generate_html_report(
        self, out_path: str | os.PathLike[str], db_path: str | os.PathLike[str] | None = None
    ) -> GenerateHtmlReportResult:
        """Write the summary and the finance views, with charts, into one self-contained
        HTML file (needs the ``[report]`` extra: Plotly). Read-only on the database."""

        with self._operation("generate_html_report", GenerateHtmlReportResult) as op:
            warnings = op.begin()
            from .catalog import entity_freshness
            from .html_report import CHARTS, render_html_report, require_plotly
            from .report_views import VIEW_NAMES, existing_views, read_view
            from .summary_reporter import summarize_database

            plotly_version = require_plotly()
            target = _report_target(out_path)
            path = self._db(db_path)
            max_age = self.settings.session_max_age_hours
            with path.open(readonly=True) as conn:
                report = summarize_database(
                    conn, db_path=path.label, size_bytes=path.size_bytes(conn), session_max_age_hours=max_age
                )
                present = existing_views(conn)
                finance: dict[str, Any] = {name: read_view(conn, name, present=present) for name in VIEW_NAMES}
                finance["entity_freshness"] = entity_freshness(conn, session_max_age_hours=max_age)
            report["destination"] = path.describe()
            missing = [name for name in VIEW_NAMES if finance[name] is None]
            if missing:
                warnings.append(
                    f"no {', '.join(missing)} view(s) in the database: run a sync to create them "
                    "(a view needs its table and columns; see docs/usage.md)"
                )
            page = render_html_report(report, finance, generated_at=utc_now_text())
            _write_atomically(target, page)
            op.succeed({
                "db_path": path.label,
                "out_path": str(target),
                "size_bytes": target.stat().st_size,
                "charts": list(CHARTS),
                "views": {name: None if finance[name] is None else len(finance[name]) for name in VIEW_NAMES},
                "plotly_version": plotly_version,
            })

        return op.result

    def browse_database(
        self,
        metadata_dir: str | os.PathLike[str],
        port: int = 8001,
        db_path: str | os.PathLike[str] | None = None,
    ) -> BrowseDatabaseResult:
        """Prepare ``json2db-sync browse``: Datasette metadata generated from the tool's own
        tables, written into ``metadata_dir``, and the command that serves the SQLite
        database on 127.0.0.1:``port`` (needs the ``[browse]`` extra). Starts nothing:
        the caller runs ``command`` for as long as it wants the server."""

        with self._operation("browse_database", BrowseDatabaseResult) as op:
            op.begin()
            from .browse import (
                HOST,
                build_metadata,
                check_port_free,
                database_name,
                datasette_command,
                require_datasette,
            )

            require_datasette()
            path = self._db(db_path)
            file = path.file
            if file is None:
                raise ConfigError(
                    "browse serves a SQLite database (Datasette reads SQLite only); on PostgreSQL "
                    "read the same json_* tables and json2db_* report views with psql or any PostgreSQL client"
                )
            if not path.exists():
                raise DataFileError(f"database {path.label} does not exist; run a sync first (json2db-sync sync)")
            check_port_free(port)
            with path.open(readonly=True) as conn:
                metadata = build_metadata(conn, file)
            target = Path(metadata_dir) / "datasette-metadata.json"
            target.write_text(json.dumps(metadata, indent=2), encoding="utf-8")
            name = database_name(file)
            database = metadata["databases"][name]
            op.succeed({
                "db_path": path.label,
                "url": f"http://{HOST}:{port}/{name}",
                "metadata_path": str(target),
                "command": datasette_command(file, target, port=port),
                "tables": len(database["tables"]),
                "canned_queries": sorted(database["queries"]),
            })

        return op.result

    # --- the full workflow -------------------------------------------------------

    def full_sync_workflow(
        self,
        db_path: str | os.PathLike[str] | None = None,
        json_dir: str | os.PathLike[str] | None = None,
        cutoff_days: int | None = None,
        skip_table_creation: bool = False,
        entity_filter: Iterable[str] | None = None,
    ) -> FullSyncWorkflowResult:
        """Analyse, create or extend tables (never destructive), populate, verify, report.

        ``success`` is False when any step fails, verification errors included; the
        statistics still say what was loaded.
        """
        steps: dict[str, Any] = {}

        with self._operation("full_sync_workflow", FullSyncWorkflowResult) as op:
            op.keep(statistics=_empty_statistics(), steps=steps)
            warnings = op.begin()
            started = time.perf_counter()
            path = self._db(db_path)
            scope_notes: list[str] = []
            found, wanted, completes = self._load_scope(
                path, json_dir, cutoff_days, entity_filter, warnings, scope_notes
            )
            # The lock is held from the load to the end of the report: a restore (or
            # another run) cannot replace the rows this run is verifying.
            with path.writer_lock(operation="full_sync_workflow", timeout_seconds=self.settings.lock_timeout_seconds):
                stats, plans = self._populate(
                    path,
                    found,
                    wanted,
                    warnings,
                    operation="full_sync_workflow",
                    build_indexes=not skip_table_creation,
                    completes_reload=completes,
                    locked=True,
                )
                steps.update(_schema_steps(stats, plans, skip_table_creation))
                statistics = _statistics(stats, started)
                op.keep(statistics=statistics)
                steps["population"] = _step("populate_tables", statistics=statistics)
                # Checks cost what the run touched: its tables and the files it loaded.
                with self._operation("verify_tables", VerifyTablesResult) as verifying:
                    verifying.begin()
                    verifying.succeed(
                        self._verify(
                            path,
                            sorted(stats.tables_touched),
                            source_files=stats.loaded_paths,
                            source_ids=stats.loaded_ids,
                            row_ids=stats.written_ids,
                            check_source_counts=stats.loaded_ids is not None,
                            line_item_mismatches=stats.line_item_mismatches,
                            line_item_files_compared=stats.line_item_files_compared,
                        )
                    )
                verification = verifying.result
                steps["verification"] = verification
                warnings.extend(
                    f"verification: {check['name']}: {check['details']}"
                    for check in verification.get("checks", [])
                    if check["status"] != "ok"
                )
                report = self.generate_summary_report(path)
                steps["report"] = report
            statistics["processing_time_seconds"] = round(time.perf_counter() - started, 3)
            payload = {
                "db_path": path.label,
                "json_dir": str(found.root),
                "statistics": statistics,
                "steps": steps,
                "notes": [*scope_notes, *found.notes(), *stats.notes],
            }
            for name in ("verification", "report"):
                if not steps[name]["success"]:
                    raise _Failed(
                        steps[name]["error_type"] or "internal_error",
                        f"{name} failed: {steps[name]['error']}",
                        payload,
                    )
            op.succeed(payload)

        return op.result

    # --- sessions and backups (menu and CLI) -------------------------------------

    def list_sessions(self, cutoff_days: int | None = None, count_records: bool = True) -> ListSessionsResult:
        """The data folders found, oldest first, with files, entities and record counts."""

        with self._operation("list_sessions", ListSessionsResult) as op:
            warnings = op.begin()
            from .reader import count_records as count

            found = self._discover(None, cutoff_days, warnings)
            from .sources import describe_discovery

            sessions = describe_discovery(found)
            if count_records:
                items = [item for session in sessions for item in session.get("files", [])]
                total = sum(int(item.get("size") or 0) for item in items)
                done = 0
                for item in items:
                    try:
                        item["records"] = count(Path(item["path"]), item["entity"])
                    except Json2DBError as exc:
                        item["records"] = None
                        warnings.append(str(exc))
                    done += int(item.get("size") or 0)
                    self.progress(ProgressEvent("count", done, total, str(item.get("name") or "")))
            op.succeed({"json_dir": str(found.root), "kind": found.kind, "sessions": sessions})

        return op.result

    def create_backup(self, db_path: str | os.PathLike[str] | None = None) -> CreateBackupResult:
        """Copy the database into the backup folder now."""

        with self._operation("create_backup", CreateBackupResult) as op:
            op.begin()
            path = self._db(db_path)
            if not path.exists():
                raise DataFileError(f"database {path.label} does not exist; nothing to back up")
            with path.writer_lock(operation="backup", timeout_seconds=self.settings.lock_timeout_seconds):
                target = path.backup(self._backup_dir(path), keep=self.settings.backup_keep)
            op.succeed({"db_path": path.label, "backup_path": str(target) if target else None})

        return op.result

    def list_backups(self, db_path: str | os.PathLike[str] | None = None) -> ListBackupsResult:
        """Backups of the database, newest first."""

        with self._operation("list_backups", ListBackupsResult) as op:
            op.begin()
            path = self._db(db_path)
            backups = path.list_backups(self._backup_dir(path))
            op.succeed({
                "db_path": path.label,
                "backups": [
                    {
                        "path": str(b),
                        "size_bytes": b.stat().st_size,
                        "modified": _mtime_text(b),
                        "safety_copy": is_safety_copy(b),
                    }
                    for b in reversed(backups)
                ],
            })

        return op.result

    def restore_backup(self, backup_path: str | os.PathLike[str], db_path: str | os.PathLike[str] | None = None) -> RestoreBackupResult:
        """Replace the database's content with a backup's, under the writer lock. The
        current state is copied first into a backup marked ``-before-restore`` (never
        picked as the latest), and the next sync loads again every folder the backup's
        ledger lacks."""

        with self._operation("restore_backup", RestoreBackupResult) as op:
            op.begin()
            path = self._db(db_path)
            source = Path(backup_path).expanduser().resolve()
            if not path.restores_backups:
                path.restore(source)  # refuses, saying how to restore with the server's tools
            if not source.is_file():
                raise DataFileError(f"backup {source} does not exist; list the backups and pick one")
            with path.writer_lock(operation="restore", timeout_seconds=self.settings.lock_timeout_seconds):
                replaced = ledger.ledger_view(path, self.config.places(None))
                safety = path.backup(self._backup_dir(path), keep=self.settings.backup_keep + 1, label=SAFETY_LABEL)
                path.restore(source)
                self._mark_catch_up(path, replaced)
            op.succeed({
                "db_path": path.label,
                "restored_from": str(source),
                "previous_state_backup": str(safety) if safety else None,
            })

        return op.result

    def _mark_catch_up(self, path: Destination, replaced: LedgerView | None) -> None:
        """After a restore (under its lock): the next run catches up from the oldest
        folder the replaced database had loaded, so every folder the backup lacks is
        loaded again, even when the backup's ledger is empty."""
        ledger.mark_catch_up(path, replaced, busy_timeout=max(self.settings.lock_timeout_seconds, 1.0))

    def generate_sample_data(
        self,
        out_dir: str | os.PathLike[str] | None = None,
        days: int = 3,
        seed: int = 42,
        invoices: int = 40,
        *,
        save_env: bool = False,
        db_path: str | os.PathLike[str] | None = None,
    ) -> GenerateSampleDataResult:
        """Write realistic Zoho Books sessions (for demos and tests) into ``out_dir``
        (default: the configured sessions folder).

        With ``save_env`` the sessions folder and the database (``db_path``, else the
        configured one) are also saved in the working directory's ``.env``, so that every
        later command, the menu and ``JSON2DBSyncRunner()`` started there find this data
        (the demo of README.md). A ``.env`` that already sets either differently is refused
        before anything is written.
        """

        with self._operation("generate_sample_data", GenerateSampleDataResult) as op:
            warnings = op.begin()
            from .config import save_to_env_file
            from .sample_data import generate_sample_data

            target = Path(out_dir).expanduser().resolve() if out_dir else self.settings.api_sync_path
            saved: dict[str, str] = {}
            if save_env:
                database = db_path if db_path is not None else self.settings.database_path
                saved = {"api_sync_path": str(out_dir or self.settings.api_sync_path), "database_path": str(database)}
                save_to_env_file(self.config.env_file, saved, dry_run=True)
            try:
                summary = generate_sample_data(
                    target, days=days, seed=seed, invoices=invoices, progress=self.progress
                )
            except ValueError as exc:
                raise ConfigError(f"sample data: {exc}") from None
            payload: dict[str, Any] = {"summary": summary}
            if save_env:
                payload["env"] = save_to_env_file(self.config.env_file, saved)
                warnings.extend(self._shadowed_env(saved))
            op.succeed(payload)

        return op.result

    def _shadowed_env(self, saved: Mapping[str, str]) -> list[str]:
        """Settings just saved in .env that the process environment still overrides."""
        from .config import SPEC_BY_NAME

        shadowed = []
        for name in saved:
            var = SPEC_BY_NAME[name].env_var
            if var and os.environ.get(var):
                shadowed.append(
                    f"{var} is set in the environment ({os.environ[var]}), which wins over .env: "
                    f"unset it (`unset {var}`) for the saved value to apply"
                )
        return shadowed


def _entity_set(entity_filter: Iterable[str] | None) -> set[str] | None:
    if entity_filter is None:
        return None
    if isinstance(entity_filter, str):
        entity_filter = [entity_filter]
    wanted = {str(e).strip().lower() for e in entity_filter if str(e).strip()}
    if not wanted:
        raise ConfigError("entity_filter is empty; pass entity names such as ['invoices', 'bills'] or None for all")
    return wanted


def _schema_steps(stats: LoadStats, plans: Mapping[str, EntityPlan], skipped: bool) -> dict[str, Any]:
    """The analysis and table-creation sub-results of a full workflow, which happen inside
    the load (one pass over the data)."""
    entities = {
        entity: {
            "records": counts["records"],
            "id_field": plans[entity].id_field,
            "columns": len({spec.name for spec in plans[entity].main.columns.values()}),
            "child_tables": sorted(child.name for child in plans[entity].children.values()),
        }
        for entity, counts in sorted(stats.per_entity.items())
        if entity in plans
    }
    analysis = _step("analyze_json_files", entities=entities, total_records=stats.total_records, skipped=skipped)
    creation = _step(
        "create_tables",
        statements=list(stats.ddl),
        indexes_built=not skipped,
        skipped=skipped,
        report_views=stats.report_views,
    )
    if skipped:
        creation["warnings"].append(
            "skip_table_creation: indexes were left as they are; tables and columns that "
            "new data needed were still added, so no field was dropped"
        )
    return {"analysis": analysis, "table_creation": creation}


def _step(operation: str, **payload: Any) -> dict[str, Any]:
    return _success(operation, [], **payload)


def _empty_statistics() -> dict[str, Any]:
    return _statistics(LoadStats(), time.perf_counter())


def _statistics(stats: LoadStats, started: float) -> dict[str, Any]:
    elapsed = time.perf_counter() - started
    statistics = stats.as_dict()
    statistics["processing_time_seconds"] = round(elapsed, 3)
    statistics["records_per_second"] = round(stats.total_records / elapsed, 1) if elapsed > 0 else 0.0
    return statistics


def _report_target(out_path: str | os.PathLike[str]) -> Path:
    """The report's file, checked before any work: its folder must exist, and it must not
    be a folder itself."""
    if not str(out_path).strip():
        raise ConfigError("the HTML report needs a file to write: pass --out FILE (e.g. --out report.html)")
    target = Path(out_path).expanduser().resolve()
    if target.is_dir():
        raise ConfigError(f"{target} is a folder; give the report a file name, e.g. {target / 'report.html'}")
    if not target.parent.is_dir():
        raise ConfigError(f"the folder {target.parent} does not exist; create it or write the report elsewhere")
    return target


def _write_atomically(target: Path, text: str) -> None:
    """Write beside the target, then rename: a reader never sees half a report."""
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _mtime_text(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M:%S")


__all__ = ["JSON2DBSyncRunner"]
