"""Dependency direction: the core never imports the UI libraries (checked in a fresh
interpreter, so nothing another test imported can hide a leak)."""

from __future__ import annotations

import subprocess
import sys

CORE_MODULES = [
    "json2db_sync",
    "json2db_sync.runner_json2db_sync",
    "json2db_sync.config",
    "json2db_sync.sources",
    "json2db_sync.zoho_entities",
    "json2db_sync.reader",
    "json2db_sync.json_analyzer",
    "json2db_sync.sql_dialect",
    "json2db_sync.table_generator",
    "json2db_sync.data_populator",
    "json2db_sync.pipeline",
    "json2db_sync.ledger",
    "json2db_sync.database",
    "json2db_sync.postgres_database",
    "json2db_sync.verifier",
    "json2db_sync.summary_reporter",
    "json2db_sync.report_views",
    "json2db_sync.html_report",
    "json2db_sync.browse",
    "json2db_sync.sample_data",
]


def _loaded_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return set(out.split())


def test_core_does_not_import_rich_or_questionary() -> None:
    for module in CORE_MODULES:
        loaded = _loaded_after_import(module)
        leaked = {name for name in loaded if name.split(".")[0] in {"rich", "questionary", "prompt_toolkit"}}
        assert not leaked, f"{module} imports {sorted(leaked)[:3]}"


def test_package_import_is_lazy() -> None:
    loaded = _loaded_after_import("json2db_sync")
    assert "json2db_sync.runner_json2db_sync" not in loaded
    assert "sqlite3" not in loaded


def test_sqlite_users_never_load_the_postgres_driver() -> None:
    """psycopg is an optional extra: importing any core module must not need it."""
    for module in CORE_MODULES:
        loaded = _loaded_after_import(module)
        assert "psycopg" not in loaded, module


def test_optional_extras_are_imported_only_when_used() -> None:
    """Plotly and Datasette are extras: importing the modules that use them loads neither."""
    for module in ("json2db_sync.html_report", "json2db_sync.browse", "json2db_sync.runner_json2db_sync"):
        loaded = _loaded_after_import(module)
        assert not {name for name in loaded if name.split(".")[0] in {"plotly", "datasette"}}, module
