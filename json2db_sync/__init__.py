"""json2db_sync: keep a SQLite database in sync with Zoho Books JSON from api_sync.

Public entry points: :class:`JSON2DBSyncRunner` (scripts and cron),
:class:`JSON2DBConfig` (settings and session discovery) and the error tree.
The runner and the configuration are imported on first use (PEP 562), so that
``import json2db_sync`` and ``json2db-sync --help`` stay fast.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .errors import (
    ConfigError,
    DatabaseError,
    DataFileError,
    Json2DBError,
    LockHeldError,
    NoDataError,
    ValidationError,
)

if TYPE_CHECKING:
    from .config import JSON2DBConfig
    from .runner_json2db_sync import JSON2DBSyncRunner

__version__ = "0.1.0"

# A library stays silent unless the application configures logging.
logging.getLogger("json2db_sync").addHandler(logging.NullHandler())

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

_LAZY = {
    "JSON2DBSyncRunner": ("runner_json2db_sync", "JSON2DBSyncRunner"),
    "JSON2DBConfig": ("config", "JSON2DBConfig"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        module_name, attribute = _LAZY[name]
        value = getattr(import_module(f".{module_name}", __name__), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
