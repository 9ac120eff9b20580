"""Shapes of the plain dicts the runner returns; stdlib only.

Users get ordinary dicts; these TypedDicts let mypy and pyright check that every
operation fills the contract of DESIGN.md (success, operation, error, error_type,
warnings, plus its own keys).
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


ErrorTypeName = Literal[
    "config_error", "file_error", "validation_error", "database_error", "internal_error"
]
CheckStatus = Literal["ok", "warning", "error"]


class BaseResult(TypedDict):
    success: bool
    operation: str
    error: str | None
    error_type: ErrorTypeName | None
    warnings: list[str]


class Check(TypedDict):
    name: str
    status: CheckStatus
    details: str
    count: int
    examples: list[str]
    # What to do about it (only on a check that is not ok).
    advice: NotRequired[str]


class TableSummary(TypedDict, total=False):
    name: str
    record_count: int
    column_count: int
    child_tables: list[str]
    newest_updated_at: str | None


class SyncStatistics(TypedDict, total=False):
    total_records: int
    processing_time_seconds: float
    records_per_second: float
    files_loaded: int
    files_skipped: int
    records_inserted: int
    records_updated: int
    records_unchanged: int
    records_rejected: int
    duplicate_ids_in_files: int
    child_rows_written: int
    incomplete_exports: int
    folders_caught_up: int
    sessions_processed: int


ResultDict = dict[str, Any]
