"""docs/usage.md stays honest: every menu option, command, flag, runner method and setting is
documented, and its code examples run (in a workspace with sample data)."""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from json2db_sync import cli
from json2db_sync.config import SPECS, JSON2DBConfig
from json2db_sync.runner_json2db_sync import JSON2DBSyncRunner

USAGE = Path(__file__).resolve().parent.parent / "docs" / "usage.md"
TEXT = USAGE.read_text(encoding="utf-8")


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", TEXT, flags=re.DOTALL)


def public_runner_methods() -> list[str]:
    return sorted(
        name for name, member in inspect.getmembers(JSON2DBSyncRunner, inspect.isfunction) if not name.startswith("_")
    )


def subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_menu_option_is_documented() -> None:
    from json2db_sync.main_json2db_sync import ADVANCED_MENU, MENU

    missing = [item.label for item in MENU + ADVANCED_MENU if f"| {item.key} | {item.label} |" not in TEXT]
    assert missing == []


def test_every_command_and_flag_is_documented() -> None:
    missing = []
    for name, parser in subparsers().items():
        if f"`{name}`" not in TEXT:
            missing.append(name)
        for action in parser._actions:
            missing.extend(f"{name} {flag}" for flag in action.option_strings if f"`{flag}" not in TEXT)
    assert missing == []
    assert set(subparsers()) == set(cli.HANDLERS)


def test_every_public_runner_method_is_documented() -> None:
    assert len(public_runner_methods()) >= 15
    missing = [name for name in public_runner_methods() if f"`{name}(" not in TEXT]
    assert missing == []


def test_every_setting_is_documented_with_its_names() -> None:
    missing = []
    for spec in SPECS:
        row = next((line for line in TEXT.splitlines() if line.startswith(f"| `{spec.name}` |")), None)
        if row is None:
            missing.append(spec.name)
            continue
        for name in (spec.env_var, spec.config_key):
            if name and f"`{name}`" not in row:
                missing.append(f"{spec.name}: {name}")
    assert missing == []


def test_the_config_file_example_is_accepted(tmp_path: Path) -> None:
    (block,) = code_blocks("json")
    config_file = tmp_path / "config.json"
    config_file.write_text(block)
    settings = JSON2DBConfig(config_file=config_file, cwd=tmp_path, environ={}).settings
    assert (settings.backup_before_operations, settings.batch_size) == (True, 1000)


def test_the_query_joins_invoices_to_their_line_items() -> None:
    queries = code_blocks("sql")  # the api_sync section has a join of its own
    assert any("JOIN json_invoices_line_items AS li ON li.parent_id = i.id" in query for query in queries)


def test_every_report_view_and_column_is_documented() -> None:
    """Each view has a section whose table lists exactly the view's columns."""
    from json2db_sync.report_views import VIEWS

    for spec in VIEWS:
        heading = f"### `{spec.name}`"
        assert heading in TEXT, spec.name
        section = TEXT.split(heading, 1)[1].split("\n#", 1)[0]
        documented = re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE)
        assert documented == [column for column, _ in spec.columns], spec.name


def test_the_sql_examples_run_and_updated_at_is_a_queryable_time(sessions_dir: Path, workspace: Path) -> None:
    """Issue 19: created_at/updated_at are the times SQLite's date functions read; the raw
    Zoho *_time text (with its +0000 offset) is not. The report views' example runs too."""
    import sqlite3

    from json2db_sync.sample_data import generate_sample_data

    generate_sample_data(sessions_dir, days=2, seed=1, invoices=20)
    runner = JSON2DBSyncRunner()
    assert runner.full_sync_workflow()["success"]
    # The blocks of "The tables" (the api_sync section's query needs its line-item files).
    queries = [q for q in code_blocks("sql") if "parent_type" not in q]
    with sqlite3.connect(runner.settings.database_path) as conn:
        results = [conn.execute(query).fetchall() for query in queries]
        assert len(results) >= 2 and all(results)
        recent = next(r for q, r in zip(queries, results) if "datetime('now', '-7 days')" in q)
        assert len(recent) == 20
        [(raw, parsed, owned)] = conn.execute(
            "SELECT last_modified_time, datetime(last_modified_time), datetime(updated_at) FROM json_invoices LIMIT 1"
        ).fetchall()
    assert re.search(r"[+-]\d{4}$", raw) and parsed is None and owned is not None


DRIVER = """
import json, sys
blocks = json.loads(sys.stdin.read())
namespace = {"__name__": "usage_md"}
for number, block in enumerate(blocks, 1):
    print(f"--- block {number}", flush=True)
    exec(compile(block, f"usage.md block {number}", "exec"), namespace)
if "daily_sync" in namespace:
    print("daily_sync ->", namespace["daily_sync"]())
"""


def test_python_examples_run(sessions_dir: Path, workspace: Path) -> None:
    from json2db_sync.sample_data import generate_sample_data

    generate_sample_data(sessions_dir, days=2, seed=1, invoices=20)
    blocks = code_blocks("python")
    assert len(blocks) >= 5
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSON2DB_")}
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER],
        input=json.dumps(blocks),
        cwd=workspace / "json2db_sync",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"--- block {len(blocks)}" in proc.stdout
    assert "daily_sync -> 0" in proc.stdout
    assert "json_invoices: 20 records" in proc.stdout
    assert "INV-" in proc.stdout  # the join printed invoices
