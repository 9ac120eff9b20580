"""Shapes of the plain dicts the runner returns; stdlib only.

Users get ordinary dicts; these TypedDicts let mypy and pyright check that every
operation fills the contract of DESIGN.md (success, operation, error, error_type,
warnings, plus its own keys). Each public runner method returns the ``<Method>Result``
named after it. A key marked ``NotRequired`` is there on success only (a failure
carries just the contract's five keys, unless its own shape says otherwise);
tests/test_result_types.py holds every operation to its shape.
"""

# No ``from __future__ import annotations`` here: with string annotations Python 3.11
# cannot see ``NotRequired`` and lists every key in ``__required_keys__``.
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


# --- shapes inside results ---------------------------------------------------------


class Check(TypedDict):
    name: str
    status: CheckStatus
    details: str
    count: int
    examples: list[str]
    # What to do about it (only on a check that is not ok).
    advice: NotRequired[str]


class CheckSummary(TypedDict):
    """How many checks ended in each status."""

    ok: int
    warning: int
    error: int


class TableSummary(TypedDict):
    name: str
    record_count: int
    column_count: int
    child_tables: list[str]
    newest_updated_at: str | None
    is_child: bool
    parent: str | None


class SyncStatistics(TypedDict):
    """What one load did (LoadStats.as_dict), plus the run's time and pace."""

    total_records: int
    files_loaded: int
    files_skipped: int
    files_invalid: int
    records_inserted: int
    records_updated: int
    records_unchanged: int
    records_rejected: int
    duplicate_ids_in_files: int
    child_rows_written: int
    incomplete_exports: int
    folders_caught_up: int
    sessions_processed: int
    # Per entity: records, inserted, updated, unchanged, rejected, ...
    entities: dict[str, dict[str, int]]
    processing_time_seconds: float
    records_per_second: float


class BackupInfo(TypedDict):
    path: str
    size_bytes: int
    modified: str
    safety_copy: bool


# --- one result per public operation ---------------------------------------------


class UpdateSettingsResult(BaseResult):
    settings: NotRequired[list[dict[str, str]]]


class ShowConfigurationResult(BaseResult):
    settings: NotRequired[list[dict[str, str]]]


class DestinationResult(BaseResult):
    kind: NotRequired[str]
    db_path: NotRequired[str]
    description: NotRequired[str]


class AnalyzeJsonFilesResult(BaseResult):
    json_dir: NotRequired[str]
    data_dirs: NotRequired[list[str]]
    entities: NotRequired[dict[str, dict[str, Any]]]
    total_records: NotRequired[int]
    schema_changes_required: NotRequired[list[dict[str, Any]]]


class GenerateTableSchemasResult(BaseResult):
    tables: NotRequired[dict[str, list[str]]]
    custom_columns: NotRequired[dict[str, str]]


class RecreateJsonTablesResult(BaseResult):
    db_path: NotRequired[str]
    dropped_tables: NotRequired[list[str]]
    created_tables: NotRequired[list[str]]
    report_views: NotRequired[dict[str, Any]]
    backup_path: NotRequired[str | None]


class TablesToDropResult(BaseResult):
    db_path: NotRequired[str]
    destination: NotRequired[str]
    tables: NotRequired[list[str]]
    backup_dir: NotRequired[str]


class PopulateTablesResult(BaseResult):
    db_path: NotRequired[str]
    json_dir: NotRequired[str]
    statistics: NotRequired[SyncStatistics]
    report_views: NotRequired[dict[str, Any]]
    notes: NotRequired[list[str]]


class VerifyTablesResult(BaseResult):
    """``db_path``, ``checks`` and ``summary`` are there on success and when a check
    is an error (a validation_error); not when the database could not be read."""

    db_path: NotRequired[str]
    checks: NotRequired[list[Check]]
    summary: NotRequired[CheckSummary]


class GenerateSummaryReportResult(BaseResult):
    db_path: NotRequired[str]
    tables: NotRequired[list[TableSummary]]
    total_records: NotRequired[int]
    sessions: NotRequired[list[dict[str, Any]]]
    files_loaded: NotRequired[int]
    runs: NotRequired[list[dict[str, Any]]]
    database_size_bytes: NotRequired[int | None]
    rejected_records: NotRequired[int]
    freshness: NotRequired[dict[str, Any]]
    destination: NotRequired[str]


class GenerateHtmlReportResult(BaseResult):
    db_path: NotRequired[str]
    out_path: NotRequired[str]
    size_bytes: NotRequired[int]
    charts: NotRequired[list[str]]
    # Rows per finance view; None for a view the database lacks.
    views: NotRequired[dict[str, int | None]]
    plotly_version: NotRequired[str]


class BrowseDatabaseResult(BaseResult):
    db_path: NotRequired[str]
    url: NotRequired[str]
    metadata_path: NotRequired[str]
    command: NotRequired[list[str]]
    tables: NotRequired[int]
    canned_queries: NotRequired[list[str]]


class FullSyncWorkflowResult(BaseResult):
    """``statistics`` and ``steps`` are there whatever the outcome: on a failure they
    say what was loaded before it (empty statistics and no steps when nothing was)."""

    statistics: SyncStatistics
    # One sub-result per step: analysis, table_creation, population, verification, report.
    steps: dict[str, Any]
    db_path: NotRequired[str]
    json_dir: NotRequired[str]
    notes: NotRequired[list[str]]


class ListSessionsResult(BaseResult):
    json_dir: NotRequired[str]
    kind: NotRequired[str]
    sessions: NotRequired[list[dict[str, Any]]]


class CreateBackupResult(BaseResult):
    db_path: NotRequired[str]
    backup_path: NotRequired[str | None]


class ListBackupsResult(BaseResult):
    db_path: NotRequired[str]
    backups: NotRequired[list[BackupInfo]]


class RestoreBackupResult(BaseResult):
    db_path: NotRequired[str]
    restored_from: NotRequired[str]
    previous_state_backup: NotRequired[str | None]


class GenerateSampleDataResult(BaseResult):
    summary: NotRequired[dict[str, Any]]
    # Only with save_env: what was saved in .env, and where.
    env: NotRequired[dict[str, Any]]
