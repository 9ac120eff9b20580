"""The exception tree of json2db_sync; stdlib only, imported by every stage.

Code inside the package raises these; the runner's operation boundary turns
them into result dicts whose ``error_type`` is the class attribute below::

    Json2DBError                    error_type
    ├── ConfigError                 config_error      a setting is missing, malformed or out of range
    ├── DataFileError               file_error        a data file or folder cannot be found or read, or is not JSON
    ├── ValidationError             validation_error  JSON that parses but is not records (or a record that cannot load)
    ├── DatabaseError               database_error    the database is locked, read-only, corrupt or full
    │   └── LockHeldError           database_error    another run holds the single-writer lock
    └── NoDataError                 file_error        no data files were found where the configuration points

Every message names the file, field or setting involved and says what to do.
"""

from __future__ import annotations

from typing import Literal

ErrorType = Literal[
    "config_error",
    "file_error",
    "validation_error",
    "database_error",
    "internal_error",
]


class Json2DBError(Exception):
    """Base of every error json2db_sync raises on purpose."""

    error_type: ErrorType = "internal_error"


class ConfigError(Json2DBError):
    """A setting (argument, environment variable, .env or config file) is invalid."""

    error_type: ErrorType = "config_error"


class DataFileError(Json2DBError):
    """A data file or folder is missing, unreadable, or not valid JSON."""

    error_type: ErrorType = "file_error"


class ValidationError(Json2DBError):
    """Valid JSON that is not an array of records, or records that cannot be loaded."""

    error_type: ErrorType = "validation_error"


class DatabaseError(Json2DBError):
    """The database cannot be opened, written, locked or backed up."""

    error_type: ErrorType = "database_error"


class LockHeldError(DatabaseError):
    """Another run holds the single-writer lock on the database."""


class NoDataError(Json2DBError):
    """No data files were found in any of the places the configuration points to."""

    error_type: ErrorType = "file_error"
