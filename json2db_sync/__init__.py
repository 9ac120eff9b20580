"""json2db_sync: keep a SQLite database in sync with Zoho Books JSON from api_sync.

Public entry points: :class:`JSON2DBSyncRunner` (scripts and cron),
:class:`JSON2DBConfig` (settings and session discovery) and the error tree.
Importing the package stays cheap: nothing here pulls in rich or questionary.
"""

from __future__ import annotations

from .config import JSON2DBConfig
from .errors import (
    ConfigError,
    DatabaseError,
    DataFileError,
    Json2DBError,
    LockHeldError,
    NoDataError,
    ValidationError,
)
from .runner_json2db_sync import JSON2DBSyncRunner

__version__ = "0.1.0"

__all__ = [
    "JSON2DBSyncRunner",
    "JSON2DBConfig",
    "Json2DBError",
    "ConfigError",
    "DataFileError",
    "ValidationError",
    "DatabaseError",
    "LockHeldError",
    "NoDataError",
    "__version__",
]
