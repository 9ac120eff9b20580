"""The user guide's Python examples, run as written against generated sample data.

The guide (../shared/guide/json2db_sync-guide.md) is the contract: every ```python block
runs in a fresh interpreter from the guide's working directory (``json2db_sync/`` beside
``api_sync/`` and ``data/``). Fragments that use a ``runner`` they do not create get one
first; blocks that are not valid Python on their own are listed here with the reason.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from json2db_sync.sample_data import generate_sample_data

GUIDE = REPO_ROOT.parent / "shared" / "guide" / "json2db_sync-guide.md"

# Blocks whose if-body is only comments (not valid Python alone): run with a ``pass``
# there, as a user filling in the body would.
COMMENT_ONLY_BODIES = ("# Emergency data verification",)

# Blocks that only read the database: they run after a first sync, as a user would.
WRITES = ("full_sync_workflow", "populate_tables", "recreate_json_tables")

PRELUDE = """
from json2db_sync import JSON2DBSyncRunner
runner = JSON2DBSyncRunner()
json_dir_path = "../api_sync/data/sync_sessions"
json_dir = json_dir_path
db_path = "../data/database/production.db"
"""

EPILOGUE = """
import json as _json
for _name in ("result", "report", "analysis", "verification", "schema_result"):
    _value = globals().get(_name)
    if isinstance(_value, dict):
        _json.dumps(_value)
        assert _value["success"], (_name, _value.get("error"))
if "daily_sync" in globals():
    assert daily_sync() == 0
if "DataPipeline" in globals():
    _out = DataPipeline().process_json_data()
    assert _out["load_result"]["success"], _out["load_result"]["error"]
    assert _out["verification"]["success"], _out["verification"]["error"]
"""

CONFIG_EXAMPLE = {
    "data_source": {
        "type": "api_sync",
        "api_sync_base_path": "../api_sync/data/sync_sessions",
        "prefer_session_based": True,
    },
    "database": {"path": "../data/database/production.db", "backup_before_operations": True},
    "processing": {"default_cutoff_days": 30, "enable_duplicate_prevention": True},
}


def _python_blocks() -> list[str]:
    if not GUIDE.is_file():
        return []
    return re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)


BLOCKS = _python_blocks()


def _block_id(block: str) -> str:
    first = block.strip().splitlines()[0]
    return re.sub(r"\W+", "_", first)[:40]


@pytest.fixture
def guide_workspace(workspace: Path) -> Path:
    summary = generate_sample_data(workspace / "api_sync" / "data" / "sync_sessions", days=3, seed=7, invoices=30)
    (workspace / "expected_folders").write_text(str(len({str(Path(f).parent) for f in summary["data_files"]})))
    cwd = workspace / "json2db_sync"
    for name in ("custom_config.json", "config/production.json", "config/development.json"):
        target = cwd / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(CONFIG_EXAMPLE))
    return cwd


@pytest.mark.skipif(not BLOCKS, reason=f"the guide is not at {GUIDE}")
@pytest.mark.parametrize("block", BLOCKS, ids=[_block_id(b) for b in BLOCKS])
def test_guide_python_example_runs(block: str, guide_workspace: Path) -> None:
    first = block.strip().splitlines()[0]
    if first in COMMENT_ONLY_BODIES:
        with pytest.raises(SyntaxError):
            compile(block, "guide", "exec")
        block = block.rstrip() + "\n    pass\n"
    if not any(word in block for word in WRITES):
        from json2db_sync import JSON2DBSyncRunner

        assert JSON2DBSyncRunner().full_sync_workflow()["success"]
    code = PRELUDE + textwrap.dedent(block) + EPILOGUE
    done = subprocess.run([sys.executable, "-c", code], cwd=guide_workspace, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(not GUIDE.is_file(), reason=f"the guide is not at {GUIDE}")
def test_guide_support_commands(guide_workspace: Path) -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "from json2db_sync import JSON2DBSyncRunner; print('Package loaded successfully')"],
        cwd=guide_workspace, capture_output=True, text=True, check=True,
    )
    assert loaded.stdout.strip() == "Package loaded successfully"
    counted = subprocess.run(
        [
            sys.executable,
            "-c",
            "from json2db_sync.config import JSON2DBConfig; config = JSON2DBConfig(); "
            "print(f'Found {len(config.get_session_json_directories())} sessions')",
        ],
        cwd=guide_workspace, capture_output=True, text=True, check=True,
    )
    expected = (guide_workspace.parent / "expected_folders").read_text()
    assert counted.stdout.strip() == f"Found {expected} sessions"
