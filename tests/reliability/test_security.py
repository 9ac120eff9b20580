"""Security: hostile names through every path that makes an identifier, files read only
under the configured data paths, no world-writable database or backup, and no secret from
``.env`` in any output, log, result or table."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    BASE_ENTITIES,
    T_BASE,
    T_NEW,
    assert_no_traceback,
    clean_env,
    contact,
    invoice,
    rows,
    run_cli,
    table_names,
)

from json2db_sync import JSON2DBSyncRunner

INTERNAL_TABLES = ["_json2db_columns", "_json2db_files", "_json2db_folders", "_json2db_rejected", "_json2db_runs", "_json2db_state", "_json2db_tables"]

# file name -> the table it must land in (the entity is the lower-cased stem, then made safe)
HOSTILE_FILES = {
    'in"voices;DROP.json': "json_in_voices_drop",
    "x'); DROP TABLE json_contacts;--.json": "json_x_drop_table_json_contacts",
    'Robert"); DROP TABLE _json2db_files;--.json': "json_robert_drop_table_json2db_files",
    "select.json": "json_select",
    "a b.json": "json_a_b",
    "日本.json": "json_日本",
}
HOSTILE_CHILD = 'li"nes; DROP TABLE json_invoices;--'
HOSTILE_COLUMN = "amount\"; DELETE FROM json_invoices; --"


def hostile_record(entity_id: str) -> dict[str, Any]:
    """A record whose id is in ``id`` (no entity-specific id field for these names)."""
    return {
        "id": entity_id,
        HOSTILE_COLUMN: 12.5,
        "note": "Robert'); DROP TABLE json_invoices;--",
        HOSTILE_CHILD: [{"line_id": "l1", "what'": "a\"b", "qty": 1}, {"line_id": "l2", "what'": "c;d", "qty": 2}],
    }


def test_hostile_names_through_every_path_load_and_create_only_the_expected_tables(
    workspace: Path, make_session, db_path: Path
) -> None:
    folder = make_session(T_BASE, BASE_ENTITIES)
    for name in HOSTILE_FILES:
        # Distinct content per file: identical bytes are a case of their own (test_bad_input).
        (folder / name).write_text(json.dumps([hostile_record("r1"), hostile_record("r2"), {"id": "r3", "file": name}]))
    (folder / "invoices.json").write_text(json.dumps([invoice("1001", 10.0, **{HOSTILE_CHILD: [{"line_id": "z"}]})]))
    result = JSON2DBSyncRunner().full_sync_workflow()
    assert result["success"], result["error"]
    child = "_li_nes_drop_table_json_invoices"
    expected = sorted(
        INTERNAL_TABLES
        + ["json_contacts", "json_invoices", "json_invoices_line_items", "json_invoices" + child]
        + [table for table in HOSTILE_FILES.values()]
        + [table + child for table in HOSTILE_FILES.values()]
    )
    assert table_names(db_path) == expected
    # Nothing else in the schema either (indexes and triggers included), and every view of
    # the data is intact: the rows went in as values, never as SQL.
    kinds = {kind for (kind,) in rows(db_path, "SELECT DISTINCT type FROM sqlite_master")}
    assert kinds <= {"table", "index"}
    for table in HOSTILE_FILES.values():
        mapped = dict(rows(db_path, "SELECT json_path, column_name FROM _json2db_columns WHERE table_name = ?", (table,)))
        column = mapped[json.dumps([HOSTILE_COLUMN], ensure_ascii=False)]
        quoted = '"' + column.replace('"', '""') + '"'
        assert rows(db_path, f'SELECT id, {quoted}, note FROM "{table}" ORDER BY id') == [
            ("r1", 12.5, "Robert'); DROP TABLE json_invoices;--"),
            ("r2", 12.5, "Robert'); DROP TABLE json_invoices;--"),
            ("r3", None, None),
        ]
        assert rows(db_path, f'SELECT COUNT(*) FROM "{table}{child}"') == [(4,)]
    assert rows(db_path, "SELECT COUNT(*) FROM json_contacts") == [(2,)]
    assert rows(db_path, "SELECT COUNT(*) FROM _json2db_files") == [(len(HOSTILE_FILES) + 2,)]
    assert rows(db_path, "PRAGMA integrity_check") == [("ok",)]


def test_hostile_names_from_the_configuration(workspace: Path, make_session, db_path: Path) -> None:
    """A configured id field with a quote and a custom column with an odd name."""
    config = workspace / "json2db_sync" / "config.json"
    config.write_text(
        json.dumps({"processing": {"primary_keys": {"widgets": 'wid"get id'}, "custom_columns": {"session_id": "TEXT"}}})
    )
    make_session(T_BASE, {"widgets": [{'wid"get id': "w1", "x": 1}, {'wid"get id': "w2", "x": 2}]})
    result = JSON2DBSyncRunner(config_file=config).full_sync_workflow()
    assert result["success"], result["error"]
    assert rows(db_path, "SELECT id, x FROM json_widgets ORDER BY id") == [("w1", 1), ("w2", 2)]
    assert table_names(db_path) == sorted(INTERNAL_TABLES + ["json_widgets"])


HOSTILE_CUSTOM_NAME = 'evil"; DROP TABLE json_invoices;--'


def test_hostile_custom_column_name_is_quoted(workspace: Path, make_session, db_path: Path) -> None:
    make_session(T_BASE, BASE_ENTITIES)
    result = JSON2DBSyncRunner(custom_columns={HOSTILE_CUSTOM_NAME: "TEXT"}).full_sync_workflow()
    assert result["success"], result["error"]
    assert HOSTILE_CUSTOM_NAME in [r[1] for r in rows(db_path, "PRAGMA table_info('json_invoices')")]
    assert rows(db_path, "SELECT COUNT(*) FROM json_invoices") == [(2,)]
    assert table_names(db_path) == sorted(INTERNAL_TABLES + ["json_contacts", "json_invoices", "json_invoices_line_items"])


def test_custom_column_declaration_smuggling_sql_is_refused(workspace: Path, make_session, db_path: Path) -> None:
    make_session(T_BASE, BASE_ENTITIES)
    result = JSON2DBSyncRunner(custom_columns={"note": "TEXT); DROP TABLE json_invoices;--"}).full_sync_workflow()
    assert (result["success"], result["error_type"]) == (False, "config_error"), result
    assert "custom column 'note'" in result["error"]
    assert not db_path.exists() or "json_invoices" not in table_names(db_path)


# --- files only under the data paths ---------------------------------------------------------


@pytest.mark.parametrize("follow", [False, True], ids=["default-not-followed", "followed-when-configured"])
def test_symlinks_leaving_the_data_folder(
    tmp_path: Path, workspace: Path, make_session, sessions_dir: Path, db_path: Path, monkeypatch, follow: bool
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "contacts.json").write_text(json.dumps([contact("secret-contact")]))
    stolen = write_outside_session(outside)
    folder = make_session(T_NEW, {"invoices": [invoice("1001")]})
    (folder / "contacts.json").symlink_to(outside / "contacts.json")
    (sessions_dir / stolen.name).symlink_to(stolen)
    if follow:
        monkeypatch.setenv("JSON2DB_FOLLOW_SYMLINKS", "true")
    result = JSON2DBSyncRunner().full_sync_workflow()
    assert result["success"], result["error"]
    loaded_contacts = sorted(r[0] for r in rows(db_path, "SELECT id FROM json_contacts")) if "json_contacts" in table_names(db_path) else []
    loaded_files = sorted(Path(r[0]).name for r in rows(db_path, "SELECT path FROM _json2db_files"))
    if follow:
        assert loaded_contacts == ["outside-1", "secret-contact"]
        assert loaded_files == ["contacts.json", "contacts.json", "invoices.json"]
    else:
        assert loaded_contacts == []
        assert loaded_files == ["invoices.json"]
        warned = "\n".join(result["warnings"])
        assert str(folder / "contacts.json") in warned and "JSON2DB_FOLLOW_SYMLINKS" in warned
        assert str(sessions_dir / stolen.name) in warned


def write_outside_session(outside: Path) -> Path:
    from conftest import write_session

    data = write_session(outside, T_BASE, {"contacts": [contact("outside-1")]})
    return data.parent.parent


# --- file modes ------------------------------------------------------------------------------

UMASK_SCRIPT = """
import os, sys
from json2db_sync import JSON2DBSyncRunner
runner = JSON2DBSyncRunner()
assert runner.full_sync_workflow()["success"]
assert runner.create_backup()["success"]
assert runner.full_sync_workflow()["success"]  # with JSON2DB_BACKUP_BEFORE_OPERATIONS
"""


def world_writable(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IWOTH)


@pytest.fixture
def made_under_umask_000(workspace: Path, make_session) -> Path:
    """A sync, a backup and a sync with backup, all in a child whose umask is 000, into a
    database folder that does not exist yet. Returns the database folder."""
    make_session(T_BASE, BASE_ENTITIES)
    db_dir = workspace / "fresh" / "db"
    proc = subprocess.run(
        [sys.executable, "-c", UMASK_SCRIPT],
        cwd=workspace / "json2db_sync",
        env=clean_env(JSON2DB_DATABASE_PATH=str(db_dir / "prod.db"), JSON2DB_BACKUP_BEFORE_OPERATIONS="true"),
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.umask(0),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return db_dir


def test_database_and_backups_are_never_world_writable_even_under_umask_000(made_under_umask_000: Path) -> None:
    db_dir = made_under_umask_000
    files = [p for p in [db_dir / "prod.db", *db_dir.glob("prod.db*"), *(db_dir / "backups").glob("*")] if p.is_file()]
    assert (db_dir / "prod.db") in files and len(list((db_dir / "backups").glob("prod-*.db"))) == 2
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in files if world_writable(p)} == {}


def test_folders_the_tool_creates_are_not_world_writable(made_under_umask_000: Path) -> None:
    db_dir = made_under_umask_000
    created = [db_dir, db_dir / "backups"]
    assert {str(p): oct(p.stat().st_mode & 0o777) for p in created if world_writable(p)} == {}


# --- secrets ---------------------------------------------------------------------------------

SECRET = "supersecret-7f3a"


@pytest.fixture
def secret_env(workspace: Path, make_session) -> Path:
    """A .env holding settings that look like credentials next to real settings."""
    cwd = workspace / "json2db_sync"
    (cwd / ".env").write_text(
        "\n".join(
            [
                f"JSON2DB_API_TOKEN={SECRET}",
                f"JSON2DB_DB_PASSWORD={SECRET}-pw",
                f"ZOHO_CLIENT_SECRET={SECRET}-zoho",
                f"JSON2DB_SECRET_KEY={SECRET}-key",
                "JSON2DB_BATCH_SIZE=500",
                "",
            ]
        )
    )
    make_session(T_BASE, BASE_ENTITIES)
    return cwd


def every_text_in(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        parts = []
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            parts.extend(map(repr, conn.execute(f'SELECT * FROM "{table}"')))
    return "\n".join(parts)


COMMANDS = [
    ["-vv", "sync"],
    ["-vv", "config"],
    ["--json", "config"],
    ["-vv", "sessions"],
    ["-vv", "report"],
    ["-vv", "verify"],
    ["-vv", "backup"],
    ["-vv", "sync", "--cutoff-days", "abc"],
]


def test_secrets_from_env_never_appear_in_output_logs_results_or_the_database(
    secret_env: Path, db_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    for command in COMMANDS:
        proc = run_cli(secret_env, *command, env={"JSON2DB_LOG_LEVEL": "DEBUG"})
        assert_no_traceback(proc.stdout, proc.stderr)
        seen += [proc.stdout, proc.stderr]
    # A failing run too (a broken data file), and the menu's absence of a terminal.
    (secret_env.parent / "api_sync" / "data" / "sync_sessions").joinpath("sync_session_x").mkdir()
    proc = run_cli(secret_env, "-vv", "populate", "--json-dir", str(secret_env))
    seen += [proc.stdout, proc.stderr]
    # In-process: the runner's results and every log record at DEBUG.
    monkeypatch.setenv("JSON2DB_API_TOKEN", SECRET)
    caplog.set_level(logging.DEBUG, logger="json2db_sync")
    runner = JSON2DBSyncRunner()
    results = [
        runner.show_configuration(),
        runner.full_sync_workflow(),
        runner.list_sessions(),
        runner.generate_summary_report(),
        runner.update_settings(batch_size=250),
    ]
    seen += [json.dumps(r) for r in results]
    seen += [record.getMessage() for record in caplog.records]
    seen.append(every_text_in(db_path))
    leaks = [text for text in seen if SECRET in text]
    assert leaks == []
    # The real settings of the same .env were read all the same.
    assert runner.settings.batch_size == 250 and JSON2DBSyncRunner().settings.batch_size == 500


def test_secret_in_the_config_file_is_not_echoed(workspace: Path) -> None:
    config = workspace / "json2db_sync" / "config.json"
    config.write_text(json.dumps({"database": {"path": "x.db", "password": SECRET}}))
    result = JSON2DBSyncRunner(config_file=config).show_configuration()
    assert result["error_type"] == "config_error" and "database.password" in result["error"]
    assert SECRET not in json.dumps(result)
