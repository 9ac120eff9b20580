"""Every setting resolved once, with where it came from; imports stdlib, python-dotenv, errors, sources and destinations.urls.

Precedence, highest first::

    runtime argument  >  process environment  >  .env in the working directory  >  JSON config file  >  default

``.env`` is read with ``dotenv_values`` and never copied into ``os.environ``. Relative
paths resolve against the working directory wherever they come from, and are stored
absolute. A bad value is a :class:`ConfigError` naming the setting, its source, the value
and what is accepted. Session discovery (which folders hold data) is delegated to
:mod:`json2db_sync.sources`; this module only decides where to look.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from .destinations.urls import (
    MASK,
    POSTGRESQL,
    SQLITE,
    engine_of,
    redact_url,
    scheme_problem,
    sqlite_path_text,
)
from .errors import ConfigError, NoDataError
from .sources import Discovery, LedgerView, describe_discovery, discover, no_data_error

logger = logging.getLogger(__name__)

ENV_FILE_NAME = ".env"
CONFIG_FILE_ENV = "JSON2DB_CONFIG_FILE"
SOURCE_TYPES = ("api_sync", "consolidated", "custom")
ON_INVALID_FILE = ("fail", "skip")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})
SECRET_NAME = re.compile(r"(^|_)(password|passwd|secret|token|key|apikey)(_|$)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Settings:
    """The resolved settings: one value each, paths absolute. See docs/architecture.md."""

    data_source_type: str
    api_sync_path: Path
    prefer_session_based: bool
    json_dir: Path | None
    follow_symlinks: bool
    data_source: Path | None
    database_path: Path
    database_url: str | None
    database_schema: str
    backup_before_operations: bool
    backup_keep: int
    backup_dir: Path
    lock_timeout_seconds: float
    session_max_age_hours: int
    default_cutoff_days: int
    enable_duplicate_prevention: bool
    batch_size: int
    memory_limit_mb: int
    on_invalid_file: str
    primary_keys: dict[str, str]
    custom_columns: dict[str, str]
    log_level: str
    config_file: Path | None


class _Invalid(Exception):
    """A parser's complaint; turned into ConfigError once the source is known."""


# --- value parsers: each takes a raw value (str from env/.env, JSON value, or Python value) ---


def _parse_bool(value: Any) -> bool:
    """true/false/1/0/yes/no/on/off in any case, or a real boolean (0/1 from JSON too)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise _Invalid("is not a boolean")


def _int_parser(minimum: int) -> Callable[[Any], int]:
    """A parser for whole numbers of at least ``minimum`` (strings like "1000" accepted)."""

    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise _Invalid("is not a whole number")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise _Invalid("is not a whole number") from None
        if not isinstance(value, int):
            raise _Invalid("is not a whole number")
        if value < minimum:
            raise _Invalid("is negative" if value < 0 else f"is less than {minimum}")
        return value

    return parse


def _parse_seconds(value: Any) -> float:
    """A number of seconds, 0 or more (fractions allowed)."""
    if isinstance(value, bool):
        raise _Invalid("is not a number")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise _Invalid("is not a number") from None
    if not isinstance(value, (int, float)) or value != value:
        raise _Invalid("is not a number")
    if value < 0:
        raise _Invalid("is negative")
    return float(value)


def _choice_parser(choices: tuple[str, ...], *, upper: bool = False) -> Callable[[Any], str]:
    """A parser for one of a few words, case-insensitive."""

    def parse(value: Any) -> str:
        if not isinstance(value, str):
            raise _Invalid("is not text")
        word = value.strip().upper() if upper else value.strip().lower()
        if word not in choices:
            raise _Invalid("is not one of the accepted values")
        return word

    return parse


def _parse_path(value: Any) -> Path:
    """A non-empty path (text or path-like); made absolute later against the working directory."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise _Invalid("is not a path")
    if not value.strip():
        raise _Invalid("is empty")
    return Path(os.path.expanduser(value.strip()))


_SCHEMA_NAME = re.compile(r"^[^\x00]{1,63}$")


def _parse_database_url(value: Any) -> str:
    """``postgresql://user@host:5432/db`` (or ``postgres://``), ``sqlite:///path``, or a
    plain path, which keeps meaning a SQLite file."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise _Invalid("is not text")
    text = value.strip()
    if not text:
        raise _Invalid("is empty")
    problem = scheme_problem(text)
    if problem is not None:
        raise _Invalid(problem)
    scheme, sep, rest = text.partition("://")
    # (no host, postgresql:///books, is the local socket, as in libpq)
    return f"{scheme.lower()}://{rest}" if sep else text


def _parse_schema(value: Any) -> str:
    """A PostgreSQL schema name: 1 to 63 bytes in UTF-8 (PostgreSQL would cut a longer one
    silently, so two long names could land in one schema), no NUL; quoted wherever used."""
    if not isinstance(value, str) or not _SCHEMA_NAME.match(value.strip()):
        raise _Invalid("is not a schema name of 1 to 63 characters")
    if len(value.strip().encode()) > 63:
        raise _Invalid("is longer than PostgreSQL's 63 bytes (accented letters take two)")
    return value.strip()


def _parse_str_map(value: Any) -> dict[str, str]:
    """An object whose keys and values are all strings (entity -> id field, column -> SQL)."""
    if not isinstance(value, Mapping):
        raise _Invalid("is not an object")
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise _Invalid(f"has a non-string entry {key!r}: {item!r}")
    return dict(value)


@dataclass(frozen=True, slots=True)
class _Spec:
    """One setting: where it may come from, its default and how to read it."""

    name: str
    env_var: str | None
    config_key: str | None
    default: Any
    parse: Callable[[Any], Any]
    accepted: str
    meaning: str
    is_path: bool = False


SPECS: tuple[_Spec, ...] = (
    _Spec("data_source_type", "JSON2DB_DATA_SOURCE_TYPE", "data_source.type", "api_sync",
          _choice_parser(SOURCE_TYPES), "one of api_sync, consolidated, custom",
          "where data comes from: api_sync sessions, the consolidated raw_json folder, or a custom folder"),
    _Spec("api_sync_path", "JSON2DB_API_SYNC_PATH", "data_source.api_sync_base_path",
          "../api_sync/data/sync_sessions", _parse_path, "a folder path",
          "the api_sync sessions folder (holds sync_session_* folders)", is_path=True),
    _Spec("prefer_session_based", "JSON2DB_PREFER_SESSION_BASED", "data_source.prefer_session_based", True,
          _parse_bool, "true/false, 1/0, yes/no, on/off",
          "with api_sync, look in the sessions before the consolidated raw_json folder"),
    _Spec("json_dir", "JSON2DB_JSON_DIR", "data_source.json_dir", None, _parse_path, "a folder path",
          "custom folder of *.json files (used by type custom, and as the last fallback)", is_path=True),
    _Spec("follow_symlinks", "JSON2DB_FOLLOW_SYMLINKS", "data_source.follow_symlinks", False,
          _parse_bool, "true/false, 1/0, yes/no, on/off",
          "also follow symlinks that point outside the data folder"),
    _Spec("data_source", None, None, None, _parse_path, "a folder path",
          "runtime only: an api_sync root, a sessions folder or a plain folder", is_path=True),
    _Spec("database_path", "JSON2DB_DATABASE_PATH", "database.path", "../data/database/production.db",
          _parse_path, "a file path", "the SQLite database file", is_path=True),
    _Spec("database_url", "JSON2DB_DATABASE_URL", "database.url", None, _parse_database_url,
          "a postgresql://user@host:5432/database URL (a plain path means a SQLite file)",
          "the destination as a URL: PostgreSQL, or SQLite for a plain path"),
    _Spec("database_schema", "JSON2DB_DATABASE_SCHEMA", "database.schema", "public", _parse_schema,
          "a schema name of 1 to 63 characters", "the PostgreSQL schema the tables go in"),
    _Spec("backup_before_operations", "JSON2DB_BACKUP_BEFORE_OPERATIONS", "database.backup_before_operations",
          False, _parse_bool, "true/false, 1/0, yes/no, on/off", "back the database up before each population"),
    _Spec("backup_keep", "JSON2DB_BACKUP_KEEP", "database.backup_keep", 5, _int_parser(1),
          "a whole number of 1 or more", "how many backups to keep"),
    _Spec("backup_dir", "JSON2DB_BACKUP_DIR", "database.backup_dir", None, _parse_path, "a folder path",
          "where backups go (default: <database folder>/backups)", is_path=True),
    _Spec("lock_timeout_seconds", "JSON2DB_LOCK_TIMEOUT", "database.lock_timeout_seconds", 0.0, _parse_seconds,
          "a number of seconds, 0 or more", "how long to wait for another run's lock (0: fail at once)"),
    _Spec("session_max_age_hours", "JSON2DB_SESSION_MAX_AGE", "data_source.session_max_age_hours", 24,
          _int_parser(1), "a whole number of hours, 1 or more", "sessions younger than this count as recent"),
    _Spec("default_cutoff_days", "JSON2DB_DEFAULT_CUTOFF_DAYS", "processing.default_cutoff_days", 30,
          _int_parser(0), "a whole number of days, 0 or more", "sessions older than this are not loaded"),
    _Spec("enable_duplicate_prevention", "JSON2DB_ENABLE_DUPLICATE_PREVENTION",
          "processing.enable_duplicate_prevention", True, _parse_bool, "true/false, 1/0, yes/no, on/off",
          "skip files already loaded and never overwrite newer records"),
    _Spec("batch_size", "JSON2DB_BATCH_SIZE", "processing.batch_size", 1000, _int_parser(1),
          "a whole number of 1 or more", "records written per batch"),
    _Spec("memory_limit_mb", "JSON2DB_MEMORY_LIMIT", "processing.memory_limit_mb", 512, _int_parser(1),
          "a whole number of megabytes, 1 or more", "files larger than this are streamed"),
    _Spec("on_invalid_file", "JSON2DB_ON_INVALID_FILE", "processing.on_invalid_file", "fail",
          _choice_parser(ON_INVALID_FILE), "fail or skip", "what a file that is not records does to the run"),
    _Spec("primary_keys", None, "processing.primary_keys", {}, _parse_str_map,
          "an object mapping entity names to id field names (strings)", "id field per entity, overriding the built-in ones"),
    _Spec("custom_columns", None, "processing.custom_columns", {}, _parse_str_map,
          "an object mapping column names to SQL declarations (strings)", "extra columns added to every main table"),
    _Spec("log_level", "JSON2DB_LOG_LEVEL", "logging.level", "WARNING", _choice_parser(LOG_LEVELS, upper=True),
          "one of DEBUG, INFO, WARNING, ERROR, CRITICAL", "log level for the json2db_sync logger"),
    _Spec("config_file", CONFIG_FILE_ENV, None, None, _parse_path, "a file path",
          "the JSON config file to read", is_path=True),
)
SPEC_BY_NAME = {spec.name: spec for spec in SPECS}
CONFIG_KEYS = {spec.config_key: spec for spec in SPECS if spec.config_key}
CONFIG_SECTIONS = tuple(dict.fromkeys(key.split(".")[0] for key in CONFIG_KEYS))
RUNTIME_ALIASES = {"db_path": "database_path", "db_url": "database_url", "db_schema": "database_schema"}


def is_secret_name(name: str) -> bool:
    """True for names that look like credentials (password, secret, token, key as a word)."""
    return bool(SECRET_NAME.search(name))


def display_value(name: str, value: Any) -> str:
    """A setting's value as text for views; secrets are masked, None is "(not set)"."""
    if value is None:
        return "(not set)"
    if name == "database_url":
        return redact_url(str(value))
    if is_secret_name(name):
        return MASK
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True, slots=True)
class _Raw:
    """A raw value and the source it came from, before parsing."""

    value: Any
    source: str
    label: str  # how the value was named there: env var, dotted key or setting name


class JSON2DBConfig:
    """Settings for one runner, resolved once, plus where the data is.

    Args:
        db_path, data_source, config_file: runtime arguments (highest precedence).
        cwd: the working directory relative paths and ``.env`` are taken from
            (default: ``Path.cwd()`` at construction).
        environ: the process environment to read (default ``os.environ``; copied).
        overrides: further runtime values by setting name (``batch_size=...``).

    Raises:
        ConfigError: any bad value, unknown config-file key, or unreadable config file.
    """

    def __init__(
        self,
        db_path: str | os.PathLike[str] | None = None,
        data_source: str | os.PathLike[str] | None = None,
        config_file: str | os.PathLike[str] | None = None,
        *,
        cwd: str | os.PathLike[str] | None = None,
        environ: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> None:
        self.cwd = Path(os.path.abspath(cwd)) if cwd is not None else Path.cwd()
        self._environ = {k: v for k, v in (os.environ if environ is None else environ).items() if k.startswith("JSON2DB_")}
        runtime = _normalise_runtime(overrides or {})
        for name, value in (("database_path", db_path), ("data_source", data_source), ("config_file", config_file)):
            if value is not None:
                runtime[name] = value
        self._runtime = runtime
        self.env_file = self.cwd / ENV_FILE_NAME
        self._dotenv = self._read_dotenv()
        self._warn_unknown_variables()
        self._sources: dict[str, str] = {}
        values: dict[str, Any] = {}
        values["config_file"] = self._resolve(SPEC_BY_NAME["config_file"], {})
        file_values = self._read_config_file(values["config_file"])
        for spec in SPECS:
            if spec.name != "config_file":
                values[spec.name] = self._resolve(spec, file_values)
        if values["backup_dir"] is None:
            values["backup_dir"] = values["database_path"].parent / "backups"
        self.settings = Settings(**values)
        logger.debug("Configuration resolved: %s", {k: self._sources[k] for k in values})

    # --- resolution ---

    def _read_dotenv(self) -> dict[str, str]:
        """``.env`` of the working directory as a dict; keys without a value are left out."""
        if not self.env_file.is_file():
            return {}
        try:
            raw = dotenv_values(self.env_file, encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"Cannot read {self.env_file}: {exc}. Fix its permissions or encoding (UTF-8), or remove it."
            ) from exc
        return {k: v for k, v in raw.items() if v is not None and v != ""}

    def _warn_unknown_variables(self) -> None:
        """A misspelt JSON2DB_* variable would be silently ignored; say so instead."""
        known = {spec.env_var for spec in SPECS if spec.env_var}
        for where, names in (("environment", self._environ), (".env", self._dotenv)):
            for name in sorted(names):
                if name.startswith("JSON2DB_") and name not in known:
                    logger.warning(
                        "%s (from %s) is not a json2db_sync setting and is ignored; known variables: %s",
                        name,
                        where,
                        ", ".join(sorted(known)),
                    )

    def _candidates(self, spec: _Spec, file_values: Mapping[str, _Raw]) -> list[_Raw]:
        """The raw values for ``spec`` in precedence order (empty env values count as unset)."""
        found = []
        if spec.name in self._runtime and self._runtime[spec.name] is not None:
            found.append(_Raw(self._runtime[spec.name], "argument", spec.name))
        if spec.env_var:
            if self._environ.get(spec.env_var, "") != "":
                found.append(_Raw(self._environ[spec.env_var], "environment", spec.env_var))
            if spec.env_var in self._dotenv:
                found.append(_Raw(self._dotenv[spec.env_var], ".env", spec.env_var))
        if spec.name in file_values:
            found.append(file_values[spec.name])
        return found

    def _resolve(self, spec: _Spec, file_values: Mapping[str, _Raw]) -> Any:
        """The winning value for ``spec``, parsed, with its source recorded."""
        candidates = self._candidates(spec, file_values)
        if not candidates:
            self._sources[spec.name] = "default"
            value = spec.default
            if isinstance(value, dict):
                return dict(value)
            return self._absolute(value) if spec.is_path and value is not None else value
        raw = candidates[0]
        self._sources[spec.name] = raw.source
        try:
            value = spec.parse(raw.value)
        except _Invalid as exc:
            shown = redact_url(raw.value) if spec.name == "database_url" and isinstance(raw.value, str) else raw.value
            raise ConfigError(
                f"Invalid {spec.name}: {raw.label}={shown!r} (from {raw.source}) {exc}; "
                f"accepted: {spec.accepted}."
            ) from None
        return self._absolute(value) if spec.is_path else value

    def _absolute(self, value: str | os.PathLike[str]) -> Path:
        """Relative paths are taken from the working directory, wherever they were written."""
        return (self.cwd / Path(value)).resolve()

    def _read_config_file(self, path: Path | None) -> dict[str, _Raw]:
        """The config file's values by setting name; unknown keys and bad files are errors."""
        if path is None:
            return {}
        source = f"config file {path}"
        where = self._sources["config_file"]
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                f"Config file {path} (from {where}) does not exist. Create it (see config.example.json) "
                f"or fix the path given as config_file / {CONFIG_FILE_ENV}."
            ) from None
        except IsADirectoryError:
            raise ConfigError(f"Config file {path} (from {where}) is a folder; give the path of a JSON file.") from None
        except PermissionError:
            raise ConfigError(
                f"Config file {path} (from {where}) cannot be read: permission denied. "
                "Give the user running json2db_sync read permission on it."
            ) from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"Config file {path} is not UTF-8 text ({exc}); save it as UTF-8 JSON.") from None
        except OSError as exc:
            raise ConfigError(f"Config file {path} (from {where}) cannot be read: {exc}.") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"Config file {path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}. "
                "Fix the JSON (no comments or trailing commas; see config.example.json)."
            ) from None
        if not isinstance(data, dict):
            raise ConfigError(
                f"Config file {path} must hold a JSON object with sections {', '.join(CONFIG_SECTIONS)}; "
                f"found {type(data).__name__}."
            )
        accepted = ", ".join(CONFIG_KEYS)
        values: dict[str, _Raw] = {}
        for section, body in data.items():
            if section.startswith("_"):
                continue  # "_comment" and friends: JSON has no comments
            if section not in CONFIG_SECTIONS:
                raise ConfigError(
                    f"Unknown key {section!r} in config file {path}; accepted keys: {accepted} "
                    "(keys starting with '_' are ignored)."
                )
            if not isinstance(body, dict):
                raise ConfigError(
                    f"Key {section!r} in config file {path} must be an object of settings, found {body!r}; "
                    f"accepted keys: {accepted}."
                )
            for key, value in body.items():
                if key.startswith("_"):
                    continue
                dotted = f"{section}.{key}"
                spec = CONFIG_KEYS.get(dotted)
                if spec is None:
                    raise ConfigError(
                        f"Unknown key {dotted!r} in config file {path}; accepted keys: {accepted} "
                        "(keys starting with '_' are ignored)."
                    )
                if value is not None:
                    values[spec.name] = _Raw(value, source, dotted)
        return values

    # --- views ---

    def source_of(self, name: str) -> str:
        """Where a setting's value came from: argument, environment, .env, config file <path>, default."""
        name = RUNTIME_ALIASES.get(name, name)
        if name not in self._sources:
            raise ConfigError(f"Unknown setting {name!r}; known settings: {', '.join(SPEC_BY_NAME)}.")
        return self._sources[name]

    def describe(self) -> list[dict[str, str]]:
        """Rows for "show configuration": key, value (absolute paths; secrets masked), source, env var, config key."""
        rows = []
        for spec in SPECS:
            value = getattr(self.settings, spec.name)
            rows.append(
                {
                    "key": spec.name,
                    "value": display_value(spec.name, value),
                    "source": self._sources[spec.name],
                    "env_var": spec.env_var or "",
                    "config_key": spec.config_key or "",
                }
            )
        return rows

    def with_overrides(self, **changes: Any) -> JSON2DBConfig:
        """A new config with more runtime values (the menu's "change for this session").

        A value of None removes an earlier runtime value, so the setting falls back to
        environment, .env, config file or default.
        """
        runtime = dict(self._runtime)
        for name, value in _normalise_runtime(changes, keep_none=True).items():
            if value is None:
                runtime.pop(name, None)
            else:
                runtime[name] = value
        return JSON2DBConfig(cwd=self.cwd, environ=self._environ, overrides=runtime)

    # --- shortcuts ---

    @property
    def database_path(self) -> Path:
        """The SQLite file, absolute."""
        return self.settings.database_path

    def destination(self) -> tuple[str, str | Path]:
        """Where runs write: ``("postgresql", url)`` or ``("sqlite", path)``.

        ``database_url`` wins over ``database_path`` unless the path comes from a source
        of higher precedence (a ``db_path`` argument beats ``JSON2DB_DATABASE_URL``). A
        URL that is a plain path or ``sqlite:///path`` names a SQLite file.
        """
        s = self.settings
        url = s.database_url
        if url is None or _rank(self._sources["database_path"]) > _rank(self._sources["database_url"]):
            return SQLITE, s.database_path
        if engine_of(url) == POSTGRESQL:  # the engine is decided in destinations.urls alone
            return POSTGRESQL, url
        return SQLITE, self._absolute(Path(os.path.expanduser(sqlite_path_text(url))))

    @property
    def log_level(self) -> str:
        """The level name for the json2db_sync logger."""
        return self.settings.log_level

    @property
    def default_cutoff_days(self) -> int:
        """What the runner uses when its caller gives no cutoff."""
        return self.settings.default_cutoff_days

    @property
    def batch_size(self) -> int:
        """Records per write batch."""
        return self.settings.batch_size

    @property
    def consolidated_dir(self) -> Path:
        """``<api_sync root>/data/raw_json``, derived from the sessions folder setting."""
        sessions = self.settings.api_sync_path
        if sessions.parts[-2:] == ("data", "sync_sessions"):
            return sessions.parent.parent / "data" / "raw_json"
        if sessions.name == "sync_sessions":
            return sessions.parent / "raw_json"
        return sessions / "data" / "raw_json"

    # --- where the data is ---

    def data_root(self) -> Path:
        """The folder discovery starts from: runtime data_source, else by data_source_type."""
        s = self.settings
        if s.data_source is not None:
            return s.data_source
        if s.data_source_type == "api_sync":
            return s.api_sync_path
        if s.data_source_type == "consolidated":
            return self.consolidated_dir
        if s.json_dir is None:
            raise ConfigError(
                f"data_source_type is 'custom' (from {self._sources['data_source_type']}) but no custom folder "
                "is set: set JSON2DB_JSON_DIR (or data_source.json_dir in the config file) to a folder of *.json files."
            )
        return s.json_dir

    def places(self, json_dir: str | os.PathLike[str] | None = None) -> list[Path]:
        """The folders :meth:`discover` would read (``json_dir``: that one folder), as
        absolute paths: what the ledger's rows under them start with."""
        if json_dir is not None:
            return [self._absolute(json_dir)]
        return self._places()

    def _places(self) -> list[Path]:
        """Where to look, in order: data_root first, then the api_sync fallbacks."""
        s = self.settings
        if s.data_source is not None or s.data_source_type != "api_sync":
            return [self.data_root()]
        places = [s.api_sync_path, self.consolidated_dir]
        if not s.prefer_session_based:
            places.reverse()
        if s.json_dir is not None:
            places.append(s.json_dir)
        return list(dict.fromkeys(places))

    def discover(
        self,
        json_dir: str | os.PathLike[str] | None = None,
        cutoff_days: int | None = None,
        now: datetime | None = None,
        ledger: LedgerView | None = None,
    ) -> Discovery:
        """Find the data folders, oldest first, following the api_sync fallbacks.

        ``json_dir`` (relative to the working directory) overrides the configuration.
        ``cutoff_days=None`` means no filter (the runner applies default_cutoff_days).
        ``ledger`` (from the database) widens the cutoff to what was never loaded and
        prunes what was (see :func:`json2db_sync.sources.discover`).

        Raises:
            NoDataError: nothing anywhere; the message lists every place looked in.
        """
        follow = self.settings.follow_symlinks
        if json_dir is not None:
            root = self._absolute(json_dir)
            return discover(root, cutoff_days=cutoff_days, now=now, follow_symlinks=follow, ledger=ledger)
        looked_in: list[Path] = []
        warnings: list[str] = []
        places = self._places()
        for index, place in enumerate(places):
            if place in looked_in:
                continue  # an api_sync root already fell back to its raw_json itself
            found = discover(
                place, cutoff_days=cutoff_days, now=now, follow_symlinks=follow, raise_if_empty=False, ledger=ledger
            )
            looked_in.extend(p for p in found.looked_in if p not in looked_in)
            warnings.extend(found.warnings)
            if found.dirs or found.excluded_by_cutoff or found.pruned:
                return dataclasses.replace(found, looked_in=looked_in, warnings=warnings)
            if index + 1 < len(places):
                message = f"No data in {place}; falling back to {places[index + 1]}."
                logger.warning(message)
                warnings.append(message)
        raise no_data_error(looked_in, warnings)

    def get_session_json_directories(self, cutoff_days: int | None = None) -> list[str]:
        """Absolute paths of the folders holding data, oldest first; [] when there is none.

        Each entry is one timestamp folder (``sync_session_*/raw_json/<timestamp>/``), so a
        session with two timestamp folders counts twice. The guide's support command
        prints ``len()`` of this list as the number of sessions found.
        """
        try:
            found = self.discover(cutoff_days=cutoff_days)
        except NoDataError as exc:
            logger.warning("%s", exc)
            return []
        return [str(d.path) for d in found.dirs]

    def describe_sessions(self, cutoff_days: int | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
        """Plain dicts for "browse sessions" (see sources.describe_discovery); raises NoDataError."""
        return describe_discovery(self.discover(cutoff_days=cutoff_days, now=now), now=now)

    def __repr__(self) -> str:
        s = self.settings
        return f"JSON2DBConfig(database_path={str(s.database_path)!r}, data_source_type={s.data_source_type!r})"


def _rank(source: str) -> int:
    """Precedence of a source: argument > environment > .env > config file > default."""
    if source.startswith("config file"):
        return 1
    return {"argument": 4, "environment": 3, ".env": 2}.get(source, 0)


def _normalise_runtime(values: Mapping[str, Any], *, keep_none: bool = False) -> dict[str, Any]:
    """Runtime values by setting name (``db_path`` accepted for database_path); unknown names are errors."""
    result: dict[str, Any] = {}
    for name, value in values.items():
        name = RUNTIME_ALIASES.get(name, name)
        if name not in SPEC_BY_NAME:
            raise ConfigError(
                f"Unknown setting {name!r} given as a runtime override; known settings: {', '.join(SPEC_BY_NAME)}."
            )
        if value is not None or keep_none:
            result[name] = value
    return result



def save_to_env_file(env_file: Path, values: Mapping[str, str], *, dry_run: bool = False) -> dict[str, Any]:
    """Write settings (by name, e.g. ``api_sync_path``) into a ``.env`` file, so that every
    later command, the menu and ``JSON2DBSyncRunner()`` started in its folder use them.

    Used by the demo (``json2db-sync sample-data --demo``), which makes the guide's defaults
    meet the data it writes. A line the file already has with the same value is left as it
    is; other lines are kept. A different value already there is never overwritten: that is
    a :class:`ConfigError` naming the line, and nothing is written (also with ``dry_run``,
    which only checks). Returns ``env_file``, ``written`` and ``unchanged`` (variable names).
    """
    existing: dict[str, str] = {}
    if env_file.is_file():
        try:
            existing = {k: v for k, v in dotenv_values(env_file, encoding="utf-8").items() if v is not None}
            text = env_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Cannot read {env_file}: {exc}. Fix its permissions or encoding (UTF-8), or remove it.") from exc
    else:
        text = ""
    written: list[str] = []
    unchanged: list[str] = []
    for name, value in values.items():
        var = SPEC_BY_NAME[name].env_var
        assert var is not None, name
        if var not in existing:
            written.append(var)
        elif existing[var] == value:
            unchanged.append(var)
        else:
            raise ConfigError(
                f"{env_file} already sets {var}={existing[var]}; this would set it to {value}. Remove or "
                "change that line (or run from another folder), then try again; nothing was written."
            )
    if written and not dry_run:
        lines = [f"{SPEC_BY_NAME[name].env_var}={_env_quoted(value)}" for name, value in values.items()
                 if SPEC_BY_NAME[name].env_var in written]
        prefix = text if not text or text.endswith("\n") else text + "\n"
        header = "" if text else "# json2db_sync settings for commands run in this folder (see .env.example)\n"
        try:
            env_file.write_text(prefix + header + "\n".join(lines) + "\n", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"Cannot write {env_file}: {exc}. Check the folder's permissions.") from exc
    return {"env_file": str(env_file), "written": written, "unchanged": unchanged}


def _env_quoted(value: str) -> str:
    """A value as ``.env`` reads it back unchanged: bare when plain, else double-quoted."""
    if re.fullmatch(r"[A-Za-z0-9_./:@+,-]*", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
