"""Shared fixtures: a workspace laid out like the guide, session-tree builders, databases.

Everything is real: files in tmp_path, SQLite files, the real samples from
../shared/real_samples when that folder exists.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
REAL_SAMPLES = Path(os.environ.get("JSON2DB_REAL_SAMPLES", REPO_ROOT.parent / "shared" / "real_samples"))

SESSION_FMT = "%Y-%m-%d_%H-%M-%S"


@pytest.fixture(autouse=True)
def _isolate_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No JSON2DB_* variable of the developer's shell leaks into a test, and neither does a
    ``.env`` in the folder pytest runs from (README's demo writes one there): every test
    starts in its own empty folder."""
    for name in list(os.environ):
        if name.startswith("JSON2DB_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path laid out like the guide: <ws>/json2db_sync is the working directory,
    <ws>/api_sync/data/sync_sessions and <ws>/data/database sit beside it, so the default
    relative paths (../api_sync/..., ../data/database/production.db) point into tmp_path."""
    cwd = tmp_path / "json2db_sync"
    cwd.mkdir()
    (tmp_path / "api_sync" / "data" / "sync_sessions").mkdir(parents=True)
    (tmp_path / "data" / "database").mkdir(parents=True)
    monkeypatch.chdir(cwd)
    return tmp_path


@pytest.fixture
def sessions_dir(workspace: Path) -> Path:
    return workspace / "api_sync" / "data" / "sync_sessions"


@pytest.fixture
def db_path(workspace: Path) -> Path:
    return workspace / "data" / "database" / "production.db"


def write_session(
    sessions_dir: Path,
    when: datetime,
    entities: Mapping[str, Any],
    *,
    metadata: bool = True,
    timestamp_dirs: Mapping[datetime, Mapping[str, Any]] | None = None,
) -> Path:
    """Build sync_session_<when>/raw_json/<when>/<entity>.json (plus sync_metadata_*.json).

    ``entities`` maps an entity name to what its file holds (a list, an envelope dict, or
    raw text written verbatim). ``timestamp_dirs`` adds further timestamp folders.
    Returns the timestamp folder that holds ``entities``.
    """
    session = sessions_dir / f"sync_session_{when.strftime(SESSION_FMT)}"
    data_dir = session / "raw_json" / when.strftime(SESSION_FMT)
    data_dir.mkdir(parents=True, exist_ok=True)
    _write_entities(data_dir, entities)
    for extra_when, extra_entities in (timestamp_dirs or {}).items():
        extra = session / "raw_json" / extra_when.strftime(SESSION_FMT)
        extra.mkdir(parents=True, exist_ok=True)
        _write_entities(extra, extra_entities)
    if metadata:
        for entity in entities:
            meta = {"entity": entity, "started": when.isoformat(), "status": "success"}
            (session / f"sync_metadata_{entity}.json").write_text(json.dumps(meta))
    return data_dir


def _write_entities(folder: Path, entities: Mapping[str, Any]) -> None:
    for entity, content in entities.items():
        target = folder / f"{entity}.json"
        if isinstance(content, (str, bytes)):
            mode = "wb" if isinstance(content, bytes) else "w"
            with open(target, mode) as handle:
                handle.write(content)
        else:
            target.write_text(json.dumps(content))


@pytest.fixture
def make_session(sessions_dir: Path) -> Callable[..., Path]:
    """``make_session(when, {"invoices": [...]})`` writes one session under the workspace."""

    def _make(when: datetime, entities: Mapping[str, Any], **kwargs: Any) -> Path:
        return write_session(sessions_dir, when, entities, **kwargs)

    return _make


@pytest.fixture
def real_samples() -> Path:
    """The folder of real Zoho Books captures; the test is skipped when it is absent."""
    if not REAL_SAMPLES.is_dir():
        pytest.skip(f"real samples not found at {REAL_SAMPLES}")
    return REAL_SAMPLES


@pytest.fixture
def console() -> Iterator[Any]:
    """A rich Console writing into a string (for renderer and menu tests)."""
    import io

    from rich.console import Console

    yield Console(file=io.StringIO(), width=120, force_terminal=False, color_system=None)


# --- PostgreSQL ---------------------------------------------------------------------------
# The PostgreSQL tests need a real server: .ci/run starts one (.ci/postgres start) and sets
# JSON2DB_TEST_POSTGRES_URL and JSON2DB_TEST_REQUIRE_POSTGRES=1. Read here, at import, since
# the autouse fixture above clears every JSON2DB_* variable inside tests.
POSTGRES_URL = os.environ.get("JSON2DB_TEST_POSTGRES_URL")
POSTGRES_REQUIRED = bool(os.environ.get("JSON2DB_TEST_REQUIRE_POSTGRES") or os.environ.get("CI"))
POSTGRES_HINT = (
    "PostgreSQL tests skipped: set JSON2DB_TEST_POSTGRES_URL=postgresql://user@127.0.0.1:5432/db "
    "(or run `eval \"$(.ci/postgres start)\"`) to run them"
)


def _postgres_available() -> str:
    """The test server's URL; skips (or fails, in CI) when there is none."""
    if not POSTGRES_URL:
        if POSTGRES_REQUIRED:
            pytest.fail("CI needs a PostgreSQL server: JSON2DB_TEST_POSTGRES_URL is not set (.ci/postgres start)")
        pytest.skip(POSTGRES_HINT)
    try:
        import psycopg
    except ImportError:
        if POSTGRES_REQUIRED:
            pytest.fail("psycopg is not installed: pip install -e '.[test]'")
        pytest.skip("PostgreSQL tests skipped: psycopg is not installed (pip install -e '.[test]')")
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=5).close()
    except psycopg.Error as exc:
        if POSTGRES_REQUIRED:
            pytest.fail(f"PostgreSQL test server {POSTGRES_URL} is not reachable: {exc}")
        pytest.skip(f"PostgreSQL tests skipped: {POSTGRES_URL} is not reachable ({exc})")
    return POSTGRES_URL


@pytest.fixture
def pg_url() -> str:
    return _postgres_available()


@pytest.fixture
def pg_schema(pg_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh schema for one test, dropped afterwards (tests never share tables)."""
    import re
    import uuid

    import psycopg

    stem = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:30]
    schema = f"t_{stem}_{uuid.uuid4().hex[:8]}"
    yield schema
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def pg_query(pg_url: str, pg_schema: str) -> Callable[..., list[tuple[Any, ...]]]:
    """``pg_query(sql, params)`` → rows, run in the test's schema (for assertions)."""
    import psycopg

    def run(sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("SELECT set_config('search_path', %s, false)", (f'"{pg_schema}"',))
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    return run


class Backend:
    """One destination for the engine matrix: how to point a runner at it and how to look
    inside it. ``query`` takes SQLite-style ``?`` placeholders on both databases."""

    def __init__(self, kind: str, db_path: Path, pg_url: str | None = None, pg_schema: str | None = None) -> None:
        self.kind = kind
        self.db_path = db_path
        self.pg_url = pg_url
        self.pg_schema = pg_schema

    @property
    def runner_kwargs(self) -> dict[str, Any]:
        """Arguments for JSON2DBSyncRunner(...) that select this destination."""
        if self.kind == "sqlite":
            return {"db_path": self.db_path}
        return {"db_url": self.pg_url, "db_schema": self.pg_schema}

    @property
    def env(self) -> dict[str, str]:
        """Environment variables that select this destination (for the CLI)."""
        if self.kind == "sqlite":
            return {"JSON2DB_DATABASE_PATH": str(self.db_path)}
        return {"JSON2DB_DATABASE_URL": str(self.pg_url), "JSON2DB_DATABASE_SCHEMA": str(self.pg_schema)}

    def query(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        if self.kind == "sqlite":
            import sqlite3

            conn = sqlite3.connect(self.db_path, isolation_level=None)  # autocommit: writes stay
            try:
                return conn.execute(sql, params).fetchall()
            finally:
                conn.close()
        import psycopg
        from psycopg.types.numeric import FloatLoader

        with psycopg.connect(str(self.pg_url), autocommit=True) as conn:
            conn.adapters.register_loader("numeric", FloatLoader)
            conn.execute("SELECT set_config('search_path', %s, false)", (f'"{self.pg_schema}"',))
            conn.execute("SET TIME ZONE 'UTC'")
            cursor = conn.execute(sql.replace("?", "%s"), params or None)
            return cursor.fetchall() if cursor.description else []

    def tables(self) -> set[str]:
        if self.kind == "sqlite":
            return {r[0] for r in self.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {
            r[0]
            for r in self.query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            )
        }

    def columns(self, table: str) -> dict[str, str]:
        """Column name → declared type as the database spells it."""
        if self.kind == "sqlite":
            return {r[1]: r[2] for r in self.query(f'PRAGMA table_info("{table}")')}
        return dict(
            self.query(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
                (table,),
            )
        )

    def __repr__(self) -> str:
        return f"Backend({self.kind})"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, db_path: Path) -> Backend:
    """The engine matrix: each test using it runs on SQLite and on a real PostgreSQL."""
    if request.param == "sqlite":
        return Backend("sqlite", db_path)
    return Backend(
        "postgresql", db_path, request.getfixturevalue("pg_url"), request.getfixturevalue("pg_schema")
    )
