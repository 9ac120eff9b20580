"""Every public runner operation returns the TypedDict its method is annotated with:
the keys of a real result (on success, and on failure) are that shape's required keys
plus some of its optional ones, nothing else; nested shapes (statistics, checks,
tables, backups) are held to theirs too.

The shapes are what users and the type checker rely on (json2db_sync/_types.py); this
keeps them honest against the code, which mypy cannot do for the payloads.
"""

from __future__ import annotations

import inspect
import json
import socket
import sqlite3
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from json2db_sync import JSON2DBSyncRunner
from json2db_sync._types import BaseResult

Call = Callable[[JSON2DBSyncRunner, Path], Mapping[str, Any]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _fresh_backup(runner: JSON2DBSyncRunner, tmp: Path) -> str:
    """A backup made now (a path that is none when the runner cannot make one)."""
    return runner.create_backup().get("backup_path") or str(tmp / "none.db")


# One call per public operation, run on a small synced sample tree; tmp is a spare folder.
CALLS: dict[str, Call] = {
    "update_settings": lambda r, tmp: r.update_settings(batch_size=250),
    "show_configuration": lambda r, tmp: r.show_configuration(),
    "destination": lambda r, tmp: r.destination(),
    "analyze_json_files": lambda r, tmp: r.analyze_json_files(),
    "generate_table_schemas": lambda r, tmp: r.generate_table_schemas(custom_columns={"batch_note": "TEXT"}),
    "recreate_json_tables": lambda r, tmp: r.recreate_json_tables(),
    "tables_to_drop": lambda r, tmp: r.tables_to_drop(),
    "populate_tables": lambda r, tmp: r.populate_tables(cutoff_days=36500),
    "verify_tables": lambda r, tmp: r.verify_tables(),
    "generate_summary_report": lambda r, tmp: r.generate_summary_report(),
    "generate_html_report": lambda r, tmp: r.generate_html_report(tmp / "report.html"),
    "browse_database": lambda r, tmp: r.browse_database(tmp, port=free_port()),
    "full_sync_workflow": lambda r, tmp: r.full_sync_workflow(cutoff_days=36500),
    "list_sessions": lambda r, tmp: r.list_sessions(cutoff_days=36500),
    "create_backup": lambda r, tmp: r.create_backup(),
    "list_backups": lambda r, tmp: r.list_backups(),
    "restore_backup": lambda r, tmp: r.restore_backup(_fresh_backup(r, tmp)),
    "generate_sample_data": lambda r, tmp: r.generate_sample_data(tmp / "more", days=1, invoices=3),
}

# Extras an operation needs, skipped (not failed) where they are not installed.
NEEDS = {"generate_html_report": "plotly", "browse_database": "datasette"}


def public_operations() -> dict[str, Any]:
    """The runner's public methods (properties are settings, not operations)."""
    return {
        name: member
        for name, member in inspect.getmembers(JSON2DBSyncRunner, inspect.isfunction)
        if not name.startswith("_")
    }


def shape_of(operation: str) -> Any:
    return typing.get_type_hints(getattr(JSON2DBSyncRunner, operation))["return"]


def is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and typing.is_typeddict(tp)


def assert_fits(value: Any, shape: Any, where: str) -> None:
    """``value``'s keys are ``shape``'s required keys plus optional ones, recursively
    through the TypedDicts (and lists of them) its values are declared as."""
    assert isinstance(value, dict), f"{where}: {type(value).__name__}, not a dict"
    json.dumps(value)  # plain JSON data all the way down
    keys = set(value)
    missing = shape.__required_keys__ - keys
    unknown = keys - shape.__required_keys__ - shape.__optional_keys__
    assert not missing, f"{where}: {shape.__name__} requires {sorted(missing)}"
    assert not unknown, f"{where}: {sorted(unknown)} are not in {shape.__name__}"
    for key, declared in typing.get_type_hints(shape).items():
        if key not in value or value[key] is None:
            continue
        if is_typeddict(declared):
            assert_fits(value[key], declared, f"{where}[{key!r}]")
        elif typing.get_origin(declared) is list and is_typeddict(typing.get_args(declared)[0]):
            for index, item in enumerate(value[key]):
                assert_fits(item, typing.get_args(declared)[0], f"{where}[{key!r}][{index}]")


@pytest.fixture
def synced(workspace: Path, sessions_dir: Path) -> JSON2DBSyncRunner:
    """A runner on a small sample tree, loaded once (so every operation has data)."""
    runner = JSON2DBSyncRunner()
    made = runner.generate_sample_data(sessions_dir, days=2, seed=7, invoices=6)
    assert made["success"], made["error"]
    loaded = runner.full_sync_workflow(cutoff_days=36500)
    assert loaded["success"], loaded["error"]
    return runner


def test_every_public_operation_has_a_shape_and_a_case() -> None:
    operations = public_operations()
    assert set(operations) == set(CALLS), "add the new operation to CALLS (and its TypedDict to _types.py)"
    for name in operations:
        shape = shape_of(name)
        assert is_typeddict(shape), f"{name} is annotated to return {shape}, not a TypedDict"
        assert BaseResult.__required_keys__ <= shape.__required_keys__, f"{shape.__name__} lacks the contract's keys"
        assert shape.__name__ == "".join(part.title() for part in name.split("_")) + "Result"


@pytest.mark.parametrize("operation", sorted(CALLS))
def test_success_fits_its_shape(operation: str, synced: JSON2DBSyncRunner, tmp_path: Path) -> None:
    if operation in NEEDS:
        pytest.importorskip(NEEDS[operation])
    spare = tmp_path / "spare"
    spare.mkdir()
    result = CALLS[operation](synced, spare)
    assert result["success"], result["error"]
    assert result["operation"] == operation
    assert_fits(result, shape_of(operation), operation)


@pytest.mark.parametrize("operation", sorted(CALLS))
def test_config_failure_fits_its_shape(operation: str, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JSON2DB_BATCH_SIZE", "lots")
    spare = workspace / "spare"
    spare.mkdir()
    result = CALLS[operation](JSON2DBSyncRunner(), spare)
    assert (result["success"], result["error_type"]) == (False, "config_error"), result["error"]
    assert_fits(result, shape_of(operation), operation)
    # Nothing ran: exactly the keys every outcome has (so NotRequired marks the rest).
    assert set(result) == shape_of(operation).__required_keys__


def test_verification_errors_keep_their_checks(synced: JSON2DBSyncRunner, db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM json_invoices WHERE rowid = (SELECT min(rowid) FROM json_invoices)")
    result = synced.verify_tables()
    assert (result["success"], result["error_type"]) == (False, "validation_error")
    assert {"db_path", "checks", "summary"} <= set(result)
    assert_fits(result, shape_of("verify_tables"), "verify_tables")


@pytest.mark.parametrize(
    ("operation", "call"),
    [
        ("verify_tables", lambda r, tmp: r.verify_tables(tmp / "none.db")),
        ("create_backup", lambda r, tmp: r.create_backup(tmp / "none.db")),
        ("restore_backup", lambda r, tmp: r.restore_backup(tmp / "none.db")),
        ("generate_html_report", lambda r, tmp: r.generate_html_report(tmp / "no" / "such" / "r.html")),
        ("full_sync_workflow", lambda r, tmp: r.full_sync_workflow(entity_filter=["no_such_entity"])),
        ("populate_tables", lambda r, tmp: r.populate_tables(cutoff_days=0)),
    ],
)
def test_other_failures_fit_their_shape(operation: str, call: Call, synced: JSON2DBSyncRunner, tmp_path: Path) -> None:
    if operation in NEEDS:
        pytest.importorskip(NEEDS[operation])
    result = call(synced, tmp_path)
    assert result["success"] is False and result["error_type"] not in (None, "internal_error"), result
    assert_fits(result, shape_of(operation), operation)


def test_a_workflow_that_fails_after_loading_keeps_its_statistics(synced: JSON2DBSyncRunner, sessions_dir: Path) -> None:
    synced.generate_sample_data(sessions_dir, days=1, seed=8, invoices=2)
    broken = types.SimpleNamespace()  # the summary step fails unexpectedly
    synced.generate_summary_report = lambda *a, **k: broken.missing  # type: ignore[method-assign]
    result = synced.full_sync_workflow(cutoff_days=36500)
    assert (result["success"], result["error_type"]) == (False, "internal_error")
    assert result["statistics"]["total_records"] > 0 and "verification" in result["steps"]
    assert_fits(result, shape_of("full_sync_workflow"), "full_sync_workflow")
