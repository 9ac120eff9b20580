"""open_destination: the one place that picks the engine, and what it refuses."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from json2db_sync.destinations import Destination, dialect_of, open_destination
from json2db_sync.destinations.postgres import PostgresDestination
from json2db_sync.destinations.sqlite import SQLiteDestination
from json2db_sync.errors import ConfigError
from json2db_sync.sql_dialect import postgres as pg
from json2db_sync.sql_dialect import sqlite as sqlite_sql


@pytest.mark.parametrize("url", ["postgresql://u@h:5432/db", "postgres://u@h/db", "POSTGRESQL:///books"])
def test_postgres_urls_open_a_postgres_destination(url: str) -> None:
    dest = open_destination(url, schema="zoho")

    assert isinstance(dest, PostgresDestination)
    assert (dest.kind, dest.schema, dest.dialect, dest.file) == ("postgresql", "zoho", pg, None)
    assert not dest.backup_failure_is_fatal and not dest.restores_backups


def test_paths_and_sqlite_urls_open_a_sqlite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for target in ("x.db", tmp_path / "x.db", f"sqlite:///{tmp_path / 'x.db'}", "sqlite:///x.db"):
        dest = open_destination(target)
        assert isinstance(dest, SQLiteDestination), target
        assert (dest.kind, dest.path, dest.file, dest.dialect) == ("sqlite", tmp_path / "x.db", tmp_path / "x.db", sqlite_sql)
    assert dest.backup_failure_is_fatal and dest.restores_backups


def test_a_destination_already_made_is_returned_as_it_is(tmp_path: Path) -> None:
    made = SQLiteDestination(tmp_path / "a.db")

    assert open_destination(made) is made
    assert isinstance(made, Destination) and isinstance(PostgresDestination("postgresql://h/db"), Destination)


@pytest.mark.parametrize("url", ["mysql://u:pw@h/db", "mongodb://h/db", "file:///tmp/x.db"])
def test_an_unknown_scheme_is_refused_clearly_without_its_password(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        open_destination(url)

    message = str(caught.value)
    assert "neither postgresql:// nor sqlite://" in message and url.split("://")[0] in message
    assert "pw@" not in message


def test_dialect_of_a_connection_is_explicit(tmp_path: Path) -> None:
    with open_destination(tmp_path / "d.db").open() as conn:
        assert dialect_of(conn) is sqlite_sql
    plain = sqlite3.connect(":memory:")
    assert dialect_of(plain) is sqlite_sql  # scripts and tests open plain sqlite3 connections
    with pytest.raises(TypeError, match="no dialect"):
        dialect_of(object())


def test_sqlite_keeps_its_temporary_storage_on_disk(tmp_path: Path) -> None:
    """Each file loads in a savepoint whose sub-journal (the old content of every page the
    file rewrites) is temporary storage: in memory it grew with the file and the database
    (687 MiB at 300,000 invoices against 301 MiB on disk), so it must stay on disk."""
    with open_destination(tmp_path / "d.db").open() as conn:
        assert conn.execute("PRAGMA temp_store").fetchone()[0] == 1  # 1 = FILE


def test_the_runner_fails_clearly_on_an_unknown_scheme(tmp_path: Path) -> None:
    from json2db_sync import JSON2DBSyncRunner

    result = JSON2DBSyncRunner(db_path=tmp_path / "x.db").verify_tables(db_path="mysql://u:pw@h/db")

    assert (result["success"], result["error_type"]) == (False, "config_error")
    assert "neither postgresql:// nor sqlite://" in result["error"] and "pw@" not in result["error"]


def test_the_resolved_settings_open_their_destination(tmp_path: Path) -> None:
    """open_destination(settings): the configuration's winning target and its schema."""
    from json2db_sync.config import JSON2DBConfig

    file_config = JSON2DBConfig(db_path=tmp_path / "books.db", cwd=tmp_path, environ={})
    dest = open_destination(file_config)
    assert isinstance(dest, SQLiteDestination) and dest.path == tmp_path / "books.db"

    env = {"JSON2DB_DATABASE_URL": "postgresql://u@h/db", "JSON2DB_DATABASE_SCHEMA": "zoho"}
    server_config = JSON2DBConfig(cwd=tmp_path, environ=env)
    dest = open_destination(server_config)
    assert isinstance(dest, PostgresDestination) and dest.schema == "zoho"

    # A db_path given at run time beats the environment's URL, as everywhere else.
    dest = open_destination(JSON2DBConfig(db_path=tmp_path / "local.db", cwd=tmp_path, environ=env))
    assert isinstance(dest, SQLiteDestination) and dest.path == tmp_path / "local.db"
