"""Destinations: where runs write (a SQLite file or a PostgreSQL schema), and the one
place that decides which.

:func:`open_destination` turns a target (a path, a ``sqlite:///`` URL or a
``postgresql://`` URL) into a :class:`Destination`; :func:`dialect_of` gives the SQL
dialect of a connection. Nothing else in the package branches on the engine: callers ask
the destination (its flags and methods, see :mod:`.base`) or the dialect.

Layout: :mod:`.base` (the protocols), :mod:`.common` (the transaction, the lock's wait,
backup names and rotation), :mod:`.sqlite` and :mod:`.postgres` (the engines, imported
when first used: psycopg and sqlite3 are loaded only by whoever opens one), :mod:`.urls`
(the scheme of a target). May import stdlib, ``errors`` and ``sql_dialect``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..sql_dialect.protocol import Dialect
from .base import Connection, Destination, DestinationSettings
from .common import SAFETY_LABEL, atomic, is_safety_copy, savepoint, utc_now_text
from .urls import POSTGRESQL, SQLITE, engine_of, redact_url, sqlite_path_text

__all__ = [
    "POSTGRESQL", "SAFETY_LABEL", "SQLITE", "Connection", "Destination", "DestinationSettings", "Dialect", "atomic", "dialect_of",
    "engine_of", "is_safety_copy", "open_destination", "redact_url", "savepoint", "utc_now_text",
]


def open_destination(
    target: str | os.PathLike[str] | Destination | DestinationSettings,
    *,
    schema: str = "public",
    resolve: bool = True,
) -> Destination:
    """The destination ``target`` names.

    ``target`` is the resolved settings (``JSON2DBConfig``: their winning database URL or
    path, and their schema), or a ``postgresql://`` URL (in ``schema``), or a SQLite file (a
    path, or a ``sqlite:///`` URL), made absolute with its links resolved unless
    ``resolve`` is False (a path the configuration has resolved already stays as written
    there). A destination already made is returned as it is; any other URL scheme is a
    ConfigError."""
    if isinstance(target, Destination):
        return target
    if isinstance(target, DestinationSettings):
        where = target.destination()[1]  # (a path the configuration made absolute)
        return open_destination(where, schema=target.settings.database_schema, resolve=False)
    text = os.fspath(target)
    if engine_of(text) == POSTGRESQL:
        from .postgres import PostgresDestination

        return PostgresDestination(text, schema)
    from .sqlite import SQLiteDestination

    path = Path(os.path.expanduser(sqlite_path_text(text)))
    return SQLiteDestination(path.resolve() if resolve else path)


def dialect_of(conn: Any) -> Dialect:
    """The SQL dialect of a connection: the one it carries (every connection a
    destination opens does), or SQLite's for a plain ``sqlite3.Connection`` (scripts and
    tests open those); anything else is a TypeError, never a silent guess."""
    dialect = getattr(conn, "dialect", None)
    if dialect is not None:
        return dialect  # type: ignore[no-any-return]
    import sqlite3

    if isinstance(conn, sqlite3.Connection):
        from ..sql_dialect import sqlite as sqlite_dialect

        return sqlite_dialect
    raise TypeError(f"{type(conn).__name__} is not a database connection json2db_sync knows (no dialect)")
