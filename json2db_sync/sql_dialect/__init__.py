"""SQL dialects: the only place in json2db_sync that holds SQL text.

Two dialects offer the same names (:class:`.protocol.Dialect`): :mod:`.sqlite` (the
embedded default) and :mod:`.postgres`. Every connection a destination opens carries its
dialect as ``conn.dialect`` (and every destination as ``destination.dialect``); the stage
modules ask that object for statements, so the same code writes either database. The
names that do not depend on the database (internal table names, the logical type
lattice, limits of the table model, identifier rules) live in :mod:`.shared` and are
re-exported here; the internal tables are specified once in :mod:`.internal_tables`, the
verifier's queries once in :mod:`.checks`.

Logical column types (``TEXT``, ``INTEGER``, ``REAL`` and the untyped ``""``) are what
the schema plan and the column map speak; each dialect turns them into its own
declarations (SQLite: the same words; PostgreSQL: TEXT, BIGINT, NUMERIC).
"""

from __future__ import annotations

from .protocol import Dialect
from .shared import (
    BOOLEAN,
    COLUMNS_TABLE,
    DATA_TABLE_PREFIX,
    FILES_TABLE,
    FOLDERS_TABLE,
    INT64_MAX,
    INT64_MIN,
    INTEGER,
    INTERNAL_PREFIX,
    OVERFLOW_COLUMN,
    REAL,
    REJECTED_TABLE,
    RUNS_TABLE,
    STATE_TABLE,
    TABLES_TABLE,
    TEXT,
    TYPE_NAMES,
    UNTYPED,
    VIEW_PREFIX,
    Scope,
    custom_declaration_for_add,
    fit_identifier,
    is_non_constant_default,
    parse_custom_declaration,
    q,
    quote_identifier,
)
from .sqlite import (
    MAX_COLUMNS,  # the table model's column limit (SQLite's, the wider one)
)

__all__ = [
    "BOOLEAN", "COLUMNS_TABLE", "DATA_TABLE_PREFIX", "FILES_TABLE", "FOLDERS_TABLE", "INT64_MAX", "INT64_MIN",
    "INTEGER", "INTERNAL_PREFIX", "MAX_COLUMNS", "OVERFLOW_COLUMN", "REAL", "REJECTED_TABLE", "RUNS_TABLE",
    "STATE_TABLE", "TABLES_TABLE", "TEXT", "TYPE_NAMES", "UNTYPED", "VIEW_PREFIX", "Dialect", "Scope",
    "custom_declaration_for_add", "fit_identifier", "is_non_constant_default", "parse_custom_declaration", "q",
    "quote_identifier",
]
