"""Settings: precedence, provenance, bad values, path resolution, and where the data is looked for."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from json2db_sync.config import SPECS, JSON2DBConfig, Settings, display_value, is_secret_name
from json2db_sync.errors import ConfigError, NoDataError

REPO_ROOT = Path(__file__).resolve().parent.parent
RECORDS = [{"invoice_id": "1", "total": 10}]
FMT = "%Y-%m-%d_%H-%M-%S"

GUIDE_CONFIG = """{
  "data_source": {
    "type": "api_sync",
    "api_sync_base_path": "../api_sync/data/sync_sessions",
    "prefer_session_based": true
  },
  "database": {
    "path": "../data/database/production.db",
    "backup_before_operations": true
  },
  "processing": {
    "default_cutoff_days": 30,
    "enable_duplicate_prevention": true
  }
}
"""

SUPPORT_COMMAND = (
    "from json2db_sync.config import JSON2DBConfig; config = JSON2DBConfig(); "
    "print(f'Found {len(config.get_session_json_directories())} sessions')"
)


@pytest.fixture
def cwd(workspace: Path) -> Path:
    """The working directory of the guide's layout (<ws>/json2db_sync)."""
    return workspace / "json2db_sync"


def write_env(cwd: Path, **values: str) -> Path:
    path = cwd / ".env"
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    return path


def write_config(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


# --- precedence -----------------------------------------------------------------------------------

LAYERS = ("argument", "environment", ".env", "config file", "default")

# setting -> value written at each layer, and the value each layer should resolve to
PRECEDENCE_CASES: dict[str, dict[str, Any]] = {
    "batch_size": {
        "written": {"argument": 5, "environment": "4", ".env": "3", "config file": 2},
        "resolved": {"argument": 5, "environment": 4, ".env": 3, "config file": 2, "default": 1000},
    },
    "database_path": {
        "written": {"argument": "arg.db", "environment": "env.db", ".env": "dotenv.db", "config file": "file.db"},
        "resolved": {
            "argument": "json2db_sync/arg.db",
            "environment": "json2db_sync/env.db",
            ".env": "json2db_sync/dotenv.db",
            "config file": "json2db_sync/file.db",
            "default": "data/database/production.db",
        },
    },
    "backup_before_operations": {
        "written": {"argument": True, "environment": "no", ".env": "ON", "config file": False},
        "resolved": {"argument": True, "environment": False, ".env": True, "config file": False, "default": False},
    },
}


def build_layers(cwd: Path, setting: str, layers: tuple[str, ...]) -> JSON2DBConfig:
    """A config where ``setting`` is written at each of ``layers`` (and nowhere else)."""
    spec = next(s for s in SPECS if s.name == setting)
    written = PRECEDENCE_CASES[setting]["written"]
    environ: dict[str, str] = {}
    overrides: dict[str, Any] = {}
    db_path = None
    if "argument" in layers:
        if setting == "database_path":
            db_path = written["argument"]  # the runtime argument the guide shows
        else:
            overrides[setting] = written["argument"]
    if "environment" in layers:
        environ[spec.env_var] = written["environment"]
    if ".env" in layers:
        write_env(cwd, **{spec.env_var: written[".env"]})
    section, key = spec.config_key.split(".")
    config = {section: {key: written["config file"]}} if "config file" in layers else {}
    write_config(cwd / "settings.json", config)
    return JSON2DBConfig(db_path, config_file="settings.json", cwd=cwd, environ=environ, overrides=overrides)


def expected(workspace: Path, setting: str, layer: str) -> Any:
    value = PRECEDENCE_CASES[setting]["resolved"][layer]
    return workspace / value if setting == "database_path" else value


PAIRS = [
    pytest.param(setting, pair, id=f"{setting}:{pair[0]}>{pair[1]}")
    for setting in PRECEDENCE_CASES
    for pair in itertools.combinations(LAYERS, 2)
] + [pytest.param(setting, (layer,), id=f"{setting}:{layer}-alone") for setting in PRECEDENCE_CASES for layer in LAYERS]


@pytest.mark.parametrize(("setting", "layers"), PAIRS)
def test_precedence(workspace: Path, cwd: Path, setting: str, layers: tuple[str, ...]) -> None:
    present = tuple(layer for layer in layers if layer != "default")
    config = build_layers(cwd, setting, present)

    winner = layers[0]
    source = f"config file {cwd / 'settings.json'}" if winner == "config file" else winner
    assert (getattr(config.settings, setting), config.source_of(setting)) == (
        expected(workspace, setting, winner),
        source,
    )


@pytest.mark.parametrize("where", ["environment", ".env", "argument"])
def test_config_file_path_comes_from_argument_environment_or_dotenv(cwd: Path, where: str) -> None:
    write_config(cwd / "conf" / "my.json", {"processing": {"batch_size": 77}})
    environ = {"JSON2DB_CONFIG_FILE": "conf/my.json"} if where == "environment" else {}
    if where == ".env":
        write_env(cwd, JSON2DB_CONFIG_FILE="conf/my.json")
    config = JSON2DBConfig(config_file="conf/my.json" if where == "argument" else None, cwd=cwd, environ=environ)

    assert (config.settings.config_file, config.source_of("config_file")) == (cwd / "conf" / "my.json", where)
    assert (config.settings.batch_size, config.source_of("batch_size")) == (77, f"config file {cwd / 'conf' / 'my.json'}")


def test_default_environ_is_the_process_environment(cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JSON2DB_BATCH_SIZE", "9")

    config = JSON2DBConfig()

    assert (config.settings.batch_size, config.source_of("batch_size"), config.cwd) == (9, "environment", cwd)


def test_dotenv_does_not_touch_os_environ(cwd: Path) -> None:
    write_env(cwd, JSON2DB_BATCH_SIZE="7", JSON2DB_LOG_LEVEL="debug")
    before = dict(os.environ)

    config = JSON2DBConfig()

    assert (config.settings.batch_size, config.settings.log_level, config.source_of("batch_size")) == (7, "DEBUG", ".env")
    assert dict(os.environ) == before
    assert "JSON2DB_BATCH_SIZE" not in os.environ


def test_dotenv_keys_without_value_and_empty_values_count_as_unset(cwd: Path) -> None:
    (cwd / ".env").write_text("JSON2DB_BATCH_SIZE\nJSON2DB_LOG_LEVEL=\n# JSON2DB_BACKUP_KEEP=2\n")

    config = JSON2DBConfig(environ={"JSON2DB_MEMORY_LIMIT": ""})

    assert [config.source_of(name) for name in ("batch_size", "log_level", "backup_keep", "memory_limit_mb")] == [
        "default"
    ] * 4


def test_guide_config_example_loads(workspace: Path, cwd: Path) -> None:
    path = write_config(cwd / "config.json", GUIDE_CONFIG)

    config = JSON2DBConfig(config_file="config.json")

    s = config.settings
    assert (s.data_source_type, s.api_sync_path, s.prefer_session_based) == (
        "api_sync",
        workspace / "api_sync" / "data" / "sync_sessions",
        True,
    )
    assert (s.database_path, s.backup_before_operations, s.backup_dir) == (
        workspace / "data" / "database" / "production.db",
        True,
        workspace / "data" / "database" / "backups",
    )
    assert (s.default_cutoff_days, s.enable_duplicate_prevention, s.batch_size) == (30, True, 1000)
    assert config.source_of("backup_before_operations") == f"config file {path}"
    assert config.source_of("batch_size") == "default"


def test_shipped_config_example_loads_and_holds_the_defaults(cwd: Path) -> None:
    example = REPO_ROOT / "config.example.json"

    loaded = JSON2DBConfig(config_file=example, environ={})

    assert dataclasses.replace(loaded.settings, config_file=None) == JSON2DBConfig(environ={}).settings
    keys = {f"{section}.{key}" for section, body in json.loads(example.read_text()).items()
            if not section.startswith("_") for key in body if not key.startswith("_")}
    assert keys == {spec.config_key for spec in SPECS if spec.config_key}


def test_shipped_env_example_lists_every_variable_with_its_default(cwd: Path) -> None:
    text = (REPO_ROOT / ".env.example").read_text()
    defaults = JSON2DBConfig(environ={}).settings
    (cwd / ".env").write_text(text)

    from_example = JSON2DBConfig(environ={})

    assert from_example.settings == defaults
    assert [spec.env_var for spec in SPECS if spec.env_var and spec.env_var not in text] == []
    # Copied as shipped it sets nothing (so a config file still applies)...
    assert {row["source"] for row in from_example.describe()} == {"default"}
    # ...and every line, once uncommented, holds the default.
    # (the four without a default, JSON_DIR, BACKUP_DIR, CONFIG_FILE and DATABASE_URL, stay commented)
    pattern = r"(?m)^# (JSON2DB_(?!JSON_DIR|BACKUP_DIR|CONFIG_FILE|DATABASE_URL)[A-Z_]+=)"
    (cwd / ".env").write_text(re.sub(pattern, r"\1", text))
    uncommented = JSON2DBConfig(environ={})
    assert uncommented.settings == defaults
    assert ".env" in {row["source"] for row in uncommented.describe()}


def test_settings_fields_match_the_table() -> None:
    assert [f.name for f in dataclasses.fields(Settings)] == [spec.name for spec in SPECS]


# --- bad values -------------------------------------------------------------------------------------

BAD_VALUES = [
    # (id, layer, setting, env var or config key, value, what is accepted)
    ("batch-size-lots-dotenv", ".env", "batch_size", "JSON2DB_BATCH_SIZE", "lots", "whole number of 1 or more"),
    ("batch-size-lots-env", "environment", "batch_size", "JSON2DB_BATCH_SIZE", "lots", "whole number of 1 or more"),
    ("batch-size-zero-file", "config file", "batch_size", "processing.batch_size", 0, "whole number of 1 or more"),
    ("batch-size-zero-arg", "argument", "batch_size", "batch_size", 0, "whole number of 1 or more"),
    ("batch-size-fraction", "config file", "batch_size", "processing.batch_size", 10.5, "whole number"),
    ("cutoff-negative-env", "environment", "default_cutoff_days", "JSON2DB_DEFAULT_CUTOFF_DAYS", "-3", "0 or more"),
    ("cutoff-negative-file", "config file", "default_cutoff_days", "processing.default_cutoff_days", -1, "0 or more"),
    ("source-type-unknown", ".env", "data_source_type", "JSON2DB_DATA_SOURCE_TYPE", "files", "api_sync, consolidated, custom"),
    ("source-type-not-text", "config file", "data_source_type", "data_source.type", 3, "api_sync, consolidated, custom"),
    ("bool-maybe-env", "environment", "backup_before_operations", "JSON2DB_BACKUP_BEFORE_OPERATIONS", "maybe",
     "true/false, 1/0, yes/no, on/off"),
    ("bool-text-file", "config file", "enable_duplicate_prevention", "processing.enable_duplicate_prevention",
     "sometimes", "true/false"),
    ("bool-two-file", "config file", "prefer_session_based", "data_source.prefer_session_based", 2, "true/false"),
    ("on-invalid-file", ".env", "on_invalid_file", "JSON2DB_ON_INVALID_FILE", "ignore", "fail or skip"),
    ("primary-keys-list", "config file", "primary_keys", "processing.primary_keys", ["invoice_id"], "object"),
    ("primary-keys-number", "config file", "primary_keys", "processing.primary_keys", {"invoices": 5}, "strings"),
    ("custom-columns-text", "config file", "custom_columns", "processing.custom_columns", "TEXT", "object"),
    ("custom-columns-number", "config file", "custom_columns", "processing.custom_columns", {"x": 1}, "strings"),
    ("memory-limit-unit", "environment", "memory_limit_mb", "JSON2DB_MEMORY_LIMIT", "1.5GB", "megabytes"),
    ("backup-keep-zero", ".env", "backup_keep", "JSON2DB_BACKUP_KEEP", "0", "1 or more"),
    ("session-age-text", ".env", "session_max_age_hours", "JSON2DB_SESSION_MAX_AGE", "a day", "hours"),
    ("lock-timeout-negative", "environment", "lock_timeout_seconds", "JSON2DB_LOCK_TIMEOUT", "-1", "0 or more"),
    ("log-level-unknown", ".env", "log_level", "JSON2DB_LOG_LEVEL", "LOUD", "DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("path-empty-file", "config file", "database_path", "database.path", " ", "a file path"),
    ("path-not-text", "config file", "json_dir", "data_source.json_dir", 42, "a folder path"),
]


@pytest.mark.parametrize(
    ("layer", "setting", "label", "value", "accepted"), [pytest.param(*case[1:], id=case[0]) for case in BAD_VALUES]
)
def test_bad_value_names_setting_source_value_and_what_is_accepted(
    cwd: Path, layer: str, setting: str, label: str, value: Any, accepted: str
) -> None:
    environ, overrides = {}, {}
    config_file = None
    if layer == "environment":
        environ[label] = value
    elif layer == ".env":
        write_env(cwd, **{label: value})
    elif layer == "argument":
        overrides[setting] = value
    else:
        section, key = label.split(".")
        config_file = write_config(cwd / "bad.json", {section: {key: value}})
    source = f"config file {config_file}" if config_file else layer

    with pytest.raises(ConfigError) as caught:
        JSON2DBConfig(config_file=config_file, environ=environ, overrides=overrides)

    message = str(caught.value)
    for fragment in (setting, f"{label}={value!r}", f"(from {source})", accepted):
        assert fragment in message, (fragment, message)
    assert caught.value.error_type == "config_error"


def test_bad_value_message_reads_well(cwd: Path) -> None:
    write_env(cwd, JSON2DB_BATCH_SIZE="lots")

    with pytest.raises(ConfigError) as caught:
        JSON2DBConfig()

    assert str(caught.value) == (
        "Invalid batch_size: JSON2DB_BATCH_SIZE='lots' (from .env) is not a whole number; "
        "accepted: a whole number of 1 or more."
    )


@pytest.mark.parametrize(
    ("word", "value"),
    [(w, True) for w in ("true", "TRUE", "1", "yes", "Yes", "on", " on ")]
    + [(w, False) for w in ("false", "False", "0", "no", "NO", "off")],
)
def test_booleans_accept_the_usual_words(word: str, value: bool) -> None:
    assert JSON2DBConfig(environ={"JSON2DB_FOLLOW_SYMLINKS": word}).settings.follow_symlinks is value


CONFIG_FILE_PROBLEMS = [
    ("missing", None, "does not exist"),
    ("folder", "FOLDER", "is a folder"),
    ("not-json", '{\n  "database": {\n    "path": "x.db",\n  }\n}\n',
     "is not valid JSON: Expecting property name enclosed in double quotes at line 4, column 3"),
    ("top-level-array", "[]", "must hold a JSON object with sections data_source, database, processing, logging"),
    ("unknown-section", {"databse": {"path": "x.db"}}, "Unknown key 'databse'"),
    ("unknown-key", {"processing": {"batchsize": 5}}, "Unknown key 'processing.batchsize'"),
    ("section-not-object", {"processing": 5}, "Key 'processing' in config file"),
]


@pytest.mark.parametrize(("content", "problem"), [pytest.param(*c[1:], id=c[0]) for c in CONFIG_FILE_PROBLEMS])
def test_config_file_problems_name_the_file_and_the_problem(cwd: Path, content: Any, problem: str) -> None:
    path = cwd / "conf.json"
    if content == "FOLDER":
        path.mkdir()
    elif content is not None:
        write_config(path, content)

    with pytest.raises(ConfigError) as caught:
        JSON2DBConfig(config_file="conf.json")

    message = str(caught.value)
    assert str(path) in message and problem in message, message
    if "Unknown key" in problem:
        assert "accepted keys: data_source.type, data_source.api_sync_base_path" in message
        assert "processing.batch_size" in message


def test_unreadable_config_file(cwd: Path) -> None:
    path = write_config(cwd / "conf.json", {})
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as a user (root) who can read a chmod 000 file")
        with pytest.raises(ConfigError, match="permission denied"):
            JSON2DBConfig(config_file=path)
    finally:
        path.chmod(0o644)


def test_keys_starting_with_underscore_are_comments(cwd: Path) -> None:
    write_config(cwd / "c.json", {"_comment": "x", "processing": {"_batch_size": "records per batch", "batch_size": 3}})

    assert JSON2DBConfig(config_file="c.json").settings.batch_size == 3


def test_misspelt_variable_is_warned_about(cwd: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_env(cwd, JSON2DB_BATCHSIZE="5")

    with caplog.at_level("WARNING", logger="json2db_sync.config"):
        config = JSON2DBConfig(environ={"JSON2DB_DB_PATH": "x.db"})

    assert config.source_of("batch_size") == "default"
    messages = [r.getMessage() for r in caplog.records]
    assert [m.split(" is not")[0] for m in messages] == ["JSON2DB_DB_PATH (from environment)", "JSON2DB_BATCHSIZE (from .env)"]
    assert all("JSON2DB_BATCH_SIZE" in m and "JSON2DB_DATABASE_PATH" in m for m in messages)


def test_unknown_runtime_override_is_an_error(cwd: Path) -> None:
    with pytest.raises(ConfigError, match="Unknown setting 'batchsize'"):
        JSON2DBConfig(overrides={"batchsize": 5})


# --- paths ------------------------------------------------------------------------------------------


def test_relative_paths_resolve_against_the_working_directory(workspace: Path, cwd: Path) -> None:
    write_env(cwd, JSON2DB_DATABASE_PATH="db/x.db", JSON2DB_JSON_DIR="../exports")
    write_config(cwd / "conf" / "settings.json", {"database": {"backup_dir": "bk"}, "data_source": {"api_sync_base_path": "../as"}})

    config = JSON2DBConfig(config_file="conf/settings.json", environ={"JSON2DB_BACKUP_DIR": ""})

    s = config.settings
    assert (s.database_path, s.json_dir, s.backup_dir, s.api_sync_path, s.config_file) == (
        cwd / "db" / "x.db",
        workspace / "exports",
        cwd / "bk",  # the working directory, not the config file's folder
        workspace / "as",
        cwd / "conf" / "settings.json",
    )
    rows = {row["key"]: row for row in config.describe()}
    assert rows["database_path"] == {
        "key": "database_path",
        "value": str(cwd / "db" / "x.db"),
        "source": ".env",
        "env_var": "JSON2DB_DATABASE_PATH",
        "config_key": "database.path",
    }
    assert rows["backup_dir"]["value"] == str(cwd / "bk")
    assert rows["api_sync_path"]["value"] == str(workspace / "as")


def test_explicit_cwd_and_home_expansion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))

    config = JSON2DBConfig(db_path="~/z.db", data_source="data", cwd=tmp_path / "w")

    assert (config.database_path, config.settings.data_source) == (tmp_path / "home" / "z.db", tmp_path / "w" / "data")
    assert config.settings.backup_dir == tmp_path / "home" / "backups"


def test_describe_lists_every_setting_in_order(cwd: Path) -> None:
    config = JSON2DBConfig(environ={})

    rows = config.describe()

    assert [row["key"] for row in rows] == [spec.name for spec in SPECS]
    assert all(set(row) == {"key", "value", "source", "env_var", "config_key"} for row in rows)
    assert all(row["value"] == display_value(row["key"], getattr(config.settings, row["key"])) for row in rows)
    values = {row["key"]: row["value"] for row in rows}
    assert (values["json_dir"], values["prefer_session_based"], values["primary_keys"], values["lock_timeout_seconds"]) == (
        "(not set)",
        "true",
        "{}",
        "0",
    )


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("api_key", True), ("KEY", True), ("db_password", True), ("JSON2DB_DB_PASSWORD", True),
        ("auth_token", True), ("client_secret", True), ("primary_keys", False), ("backup_keep", False),
        ("keyboard_layout", False), ("monkey", False), ("batch_size", False),
    ],
)
def test_secret_names_are_masked(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret
    assert display_value(name, "hunter2") == ("***" if secret else "hunter2")


def test_with_overrides_makes_a_new_config(workspace: Path, cwd: Path) -> None:
    config = JSON2DBConfig(environ={"JSON2DB_BATCH_SIZE": "4"})

    changed = config.with_overrides(batch_size=50, db_path="x.db")

    assert (changed.settings.batch_size, changed.source_of("batch_size"), changed.database_path) == (50, "argument", cwd / "x.db")
    assert (config.settings.batch_size, config.database_path) == (4, workspace / "data" / "database" / "production.db")
    reverted = changed.with_overrides(batch_size=None)
    assert (reverted.settings.batch_size, reverted.source_of("batch_size"), reverted.database_path) == (4, "environment", cwd / "x.db")


# --- where the data is --------------------------------------------------------------------------------


def session(make_session, days_ago: float, entities: dict[str, Any] | None = None, **kw: Any) -> Path:
    return make_session(datetime.now().replace(microsecond=0) - timedelta(days=days_ago), entities or {"invoices": RECORDS}, **kw)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({}, "api_sync/data/sync_sessions", id="api_sync"),
        pytest.param({"JSON2DB_DATA_SOURCE_TYPE": "consolidated"}, "api_sync/data/raw_json", id="consolidated"),
        pytest.param({"JSON2DB_DATA_SOURCE_TYPE": "custom", "JSON2DB_JSON_DIR": "../exports"}, "exports", id="custom"),
        pytest.param({"JSON2DB_API_SYNC_PATH": "../other/sync_sessions", "JSON2DB_DATA_SOURCE_TYPE": "consolidated"},
                     "other/raw_json", id="consolidated-beside-sessions"),
    ],
)
def test_data_root_by_source_type(workspace: Path, cwd: Path, environ: dict[str, str], expected: str) -> None:
    assert JSON2DBConfig(environ=environ).data_root() == workspace / expected


def test_runtime_data_source_wins(workspace: Path, cwd: Path) -> None:
    config = JSON2DBConfig(data_source="../api_sync", environ={"JSON2DB_DATA_SOURCE_TYPE": "custom"})

    assert (config.data_root(), config.source_of("data_source")) == (workspace / "api_sync", "argument")


def test_custom_without_folder_is_a_config_error(cwd: Path) -> None:
    config = JSON2DBConfig(environ={"JSON2DB_DATA_SOURCE_TYPE": "custom"})

    with pytest.raises(ConfigError) as caught:
        config.data_root()

    message = str(caught.value)
    assert all(part in message for part in ("'custom'", "from environment", "JSON2DB_JSON_DIR", "data_source.json_dir"))


def test_session_directories_oldest_first_and_cutoff(make_session, cwd: Path) -> None:
    newest = session(make_session, 1)
    old = session(make_session, 40)
    middle = session(make_session, 3, timestamp_dirs={datetime.now().replace(microsecond=0) - timedelta(days=2): {"bills": []}})
    second_ts = sorted(middle.parent.iterdir())[-1]
    config = JSON2DBConfig()

    assert config.get_session_json_directories() == [str(old), str(middle), str(second_ts), str(newest)]
    assert config.get_session_json_directories(cutoff_days=30) == [str(middle), str(second_ts), str(newest)]
    assert config.get_session_json_directories(cutoff_days=0) == []


def test_no_sessions_gives_an_empty_list(cwd: Path) -> None:
    assert JSON2DBConfig().get_session_json_directories() == []


def test_fallback_from_sessions_to_raw_json_then_json_dir(workspace: Path, sessions_dir: Path, cwd: Path) -> None:
    (sessions_dir / "sync_session_2025-07-12_10-30-15").mkdir()
    raw = workspace / "api_sync" / "data" / "raw_json"
    exports = workspace / "exports"
    (exports).mkdir()
    (exports / "contacts.json").write_text("[]")
    config = JSON2DBConfig(environ={"JSON2DB_JSON_DIR": "../exports"})

    found = config.discover()
    assert (found.kind, [d.path for d in found.dirs], found.looked_in) == ("custom", [exports], [sessions_dir, raw, exports])
    assert found.warnings == [
        f"No data in {sessions_dir}; falling back to {raw}.",
        f"No data in {raw}; falling back to {exports}.",
    ]

    (raw / "2025-07-12_10-30-15").mkdir(parents=True)
    (raw / "2025-07-12_10-30-15" / "invoices.json").write_text("[]")
    found = config.discover()
    assert (found.kind, [d.path for d in found.dirs]) == ("consolidated", [raw / "2025-07-12_10-30-15"])


@pytest.mark.parametrize("how", ["api_sync_path", "data_source"])
def test_api_sync_root_given_as_the_path_looks_in_each_place_once(workspace: Path, sessions_dir: Path, cwd: Path, how: str) -> None:
    raw = workspace / "api_sync" / "data" / "raw_json"
    raw.mkdir()
    (raw / "items.json").write_text("[]")
    if how == "api_sync_path":
        config = JSON2DBConfig(environ={"JSON2DB_API_SYNC_PATH": "../api_sync"})
    else:
        config = JSON2DBConfig(data_source="../api_sync")

    found = config.discover()

    assert (found.kind, [d.path for d in found.dirs], found.looked_in) == ("consolidated", [raw], [sessions_dir, raw])
    assert found.warnings == [
        f"Sessions folder {sessions_dir} holds no session with data; falling back to the consolidated folder {raw}."
    ]


def test_prefer_session_based_false_looks_in_raw_json_first(make_session, workspace: Path, cwd: Path) -> None:
    session(make_session, 1)
    raw_file = workspace / "api_sync" / "data" / "raw_json" / "items.json"
    raw_file.parent.mkdir(parents=True)
    raw_file.write_text("[]")

    found = JSON2DBConfig(environ={"JSON2DB_PREFER_SESSION_BASED": "false"}).discover()

    assert (found.kind, [d.path for d in found.dirs]) == ("consolidated", [raw_file.parent])


def test_discover_nothing_lists_every_place(workspace: Path, sessions_dir: Path, cwd: Path) -> None:
    config = JSON2DBConfig(environ={"JSON2DB_JSON_DIR": "../exports"})

    with pytest.raises(NoDataError) as caught:
        config.discover()

    message = str(caught.value)
    assert message.startswith("No data found")
    for place in (sessions_dir, workspace / "api_sync" / "data" / "raw_json", workspace / "exports"):
        assert str(place) in message


def test_discover_explicit_folder_and_describe_sessions(make_session, cwd: Path) -> None:
    folder = session(make_session, 2, {"invoices": "[]", "bills": "[1]"})
    relative = os.path.relpath(folder, cwd)
    config = JSON2DBConfig()

    assert [d.path for d in config.discover(json_dir=relative).dirs] == [folder]
    (described,) = config.describe_sessions()
    assert (described["session"], described["path"], described["entities"], described["total_size"]) == (
        folder.parent.parent.name,
        str(folder),
        ["bills", "invoices"],
        5,
    )


def test_support_command_counts_sessions(make_session, cwd: Path) -> None:
    """The guide's support command, run as a user would, next to two generated sessions."""
    session(make_session, 2)
    session(make_session, 1, {"bills": RECORDS, "contacts": []})
    import json2db_sync

    package_parent = Path(json2db_sync.__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSON2DB_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(package_parent), env.get("PYTHONPATH")]))

    proc = subprocess.run(
        [sys.executable, "-c", SUPPORT_COMMAND], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )

    if proc.returncode != 0 and "No module named 'json2db_sync." in proc.stderr:
        pytest.xfail(f"the package does not import yet (other modules unwritten): {proc.stderr.strip().splitlines()[-1]}")
    assert (proc.returncode, proc.stdout) == (0, "Found 2 sessions\n"), proc.stderr


# --- the destination: SQLite file or PostgreSQL URL ------------------------------------


def test_database_url_selects_postgresql_and_masks_the_password(cwd: Path) -> None:
    config = JSON2DBConfig(environ={"JSON2DB_DATABASE_URL": "postgresql://sync:s3cret@db:5432/books"})

    assert config.destination() == ("postgresql", "postgresql://sync:s3cret@db:5432/books")
    shown = {row["key"]: row["value"] for row in config.describe()}
    assert shown["database_url"] == "postgresql://sync:***@db:5432/books"
    assert shown["database_schema"] == "public"
    assert "s3cret" not in repr(config.describe())


def test_a_db_path_argument_beats_a_url_from_the_environment(cwd: Path) -> None:
    config = JSON2DBConfig(db_path="mine.db", environ={"JSON2DB_DATABASE_URL": "postgresql://u@h/db"})

    assert config.destination() == ("sqlite", cwd / "mine.db")


def test_a_url_beats_a_path_from_the_same_or_a_lower_source(cwd: Path) -> None:
    environ = {"JSON2DB_DATABASE_URL": "postgresql://u@h/db", "JSON2DB_DATABASE_PATH": "x.db"}

    assert JSON2DBConfig(environ=environ).destination()[0] == "postgresql"


def test_plain_paths_and_sqlite_urls_name_a_sqlite_file(cwd: Path) -> None:
    assert JSON2DBConfig(environ={"JSON2DB_DATABASE_URL": "data/x.db"}).destination() == ("sqlite", cwd / "data/x.db")
    absolute = JSON2DBConfig(environ={"JSON2DB_DATABASE_URL": "sqlite:////tmp/abs.db"}).destination()
    assert absolute == ("sqlite", Path("/tmp/abs.db"))
    relative = JSON2DBConfig(environ={"JSON2DB_DATABASE_URL": "sqlite:///rel.db"}).destination()
    assert relative == ("sqlite", cwd / "rel.db")


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("mysql://u:pw@h/db", "neither postgresql:// nor sqlite://"),
        ("   ", "is empty"),
    ],
)
def test_bad_database_urls_are_named_without_their_password(cwd: Path, value: str, complaint: str) -> None:
    with pytest.raises(ConfigError) as caught:
        JSON2DBConfig(environ={"JSON2DB_DATABASE_URL": value})

    message = str(caught.value)
    assert "JSON2DB_DATABASE_URL" in message and complaint in message
    assert "pw@" not in message


def test_schema_names_are_checked(cwd: Path) -> None:
    with pytest.raises(ConfigError, match="JSON2DB_DATABASE_SCHEMA"):
        JSON2DBConfig(environ={"JSON2DB_DATABASE_SCHEMA": "x" * 64})
    with pytest.raises(ConfigError, match="63 bytes"):  # 40 characters, 81 bytes
        JSON2DBConfig(environ={"JSON2DB_DATABASE_SCHEMA": "é" * 40 + "a"})
    odd = JSON2DBConfig(environ={"JSON2DB_DATABASE_SCHEMA": 'Zoho "Books"; drop'})
    assert odd.settings.database_schema == 'Zoho "Books"; drop'  # quoted wherever it is used


def test_url_forms_libpq_knows_are_accepted_and_masked(cwd: Path) -> None:
    upper = JSON2DBConfig(environ={"JSON2DB_DATABASE_URL": "POSTGRESQL://bob:S3cret@h:5432/db"})
    assert upper.destination() == ("postgresql", "postgresql://bob:S3cret@h:5432/db")  # libpq wants lower case
    socket = JSON2DBConfig(environ={"JSON2DB_DATABASE_URL": "postgresql:///books"})
    assert socket.destination() == ("postgresql", "postgresql:///books")  # the local socket
    query = JSON2DBConfig(environ={"JSON2DB_DATABASE_URL": "postgresql://h/db?user=bob&password=S3cret&sslmode=require"})
    shown = {row["key"]: row["value"] for row in query.describe()}
    assert shown["database_url"] == "postgresql://h/db?user=bob&password=***&sslmode=require"
    assert "S3cret" not in repr(upper.describe()) + repr(query.describe())
