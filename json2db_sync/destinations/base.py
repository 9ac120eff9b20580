"""What a destination offers: the :class:`Destination` and :class:`Connection`
protocols; stdlib and ``sql_dialect`` only.

A destination is where a run writes: a SQLite file (:mod:`.sqlite`) or a PostgreSQL
schema (:mod:`.postgres`), made by :func:`json2db_sync.destinations.open_destination`.
The runner, the populator and the verifier hold one through this protocol and ask it,
never which engine it is: the flags below say where the two differ in what a run does.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..sql_dialect.protocol import Dialect


class SchemaSetting(Protocol):
    """The resolved settings' part a destination needs besides its target."""

    @property
    def database_schema(self) -> str: ...


@runtime_checkable
class DestinationSettings(Protocol):
    """A resolved configuration (``config.JSON2DBConfig``) as
    :func:`~json2db_sync.destinations.open_destination` reads it: which engine and target
    win by precedence, and the PostgreSQL schema. A protocol, so that destinations never
    import the configuration module (which imports them)."""

    @property
    def settings(self) -> SchemaSetting: ...

    def destination(self) -> tuple[str, str | Path]: ...


class Connection(Protocol):
    """A connection a destination opens: sqlite3's ``execute``/``executemany`` surface,
    the dialect, and the bulk writes the populator uses."""

    @property
    def dialect(self) -> Dialect: ...

    #: Bytes of JSON the reader parses at a time for this destination; None: the reader's
    #: own default (reader.chunked.CHUNK_TARGET).
    read_chunk_bytes: int | None

    def execute(self, sql: str, params: Any = ..., /) -> Any: ...
    def executemany(self, sql: str, rows: Any, /) -> Any: ...
    def close(self) -> None: ...
    def begin_write(self, db_path: Path | str) -> None: ...
    def upsert_rows(
        self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]], *, newest_wins: bool = False
    ) -> None: ...
    def insert_rows(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None: ...
    def delete_children(self, table: str, parent_ids: list[str]) -> None: ...
    def schema_changed(self) -> None: ...
    def rolled_back(self) -> None: ...


@runtime_checkable
class Destination(Protocol):
    """Where runs write, and what a run needs of it."""

    @property
    def kind(self) -> str:
        """``"sqlite"`` or ``"postgresql"`` (shown to users; code asks the flags below)."""
        ...

    @property
    def dialect(self) -> Dialect:
        """The SQL dialect of its connections (for DDL previews that open none)."""
        ...

    @property
    def backup_failure_is_fatal(self) -> bool:
        """Whether a backup that cannot be made stops a writing run (else: a warning)."""
        ...

    @property
    def restores_backups(self) -> bool:
        """Whether :meth:`restore` restores (else it refuses, naming the server's tool)."""
        ...

    @property
    def file(self) -> Path | None:
        """The one file that holds the database, None for a server."""
        ...

    @property
    def label(self) -> str:
        """How results and views name the destination (any password masked)."""
        ...

    def describe(self) -> str: ...
    def exists(self) -> bool: ...
    def open(self, *, readonly: bool = False, busy_timeout: float = 5.0) -> contextlib.AbstractContextManager[Any]: ...
    def writer_lock(self, *, operation: str, timeout_seconds: float = 0) -> contextlib.AbstractContextManager[None]: ...
    def default_backup_dir(self) -> Path: ...
    def backup_dir_for(self, configured_dir: Path, configured_database: Path) -> Path: ...
    def backup(self, backup_dir: Path, *, keep: int, label: str = "") -> Path | None: ...
    def list_backups(self, backup_dir: Path) -> list[Path]: ...
    def restore(self, backup: Path) -> None: ...
    def size_bytes(self, conn: Any) -> int | None: ...
