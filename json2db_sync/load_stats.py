"""What a load is told and what it counts: ``LoadOptions`` (from the settings) and
``LoadStats`` (the counters behind a result's ``statistics``).

Shared by the pipeline (which owns one ``LoadStats`` per run), the populator (which counts
inserts, updates and child rows into it) and the ledger (which keeps its ``as_dict`` in the
run history). Stdlib only, so that each of them can import it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


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
