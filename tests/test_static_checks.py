"""The type checker and the linter are part of the test suite.

CI runs README's test command and nothing else, so mypy (strict, configured in
pyproject.toml) and ruff run from here: a type error or a lint finding fails the suite
the same way a broken assertion does. Both come with the ``test`` extra.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run_tool(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a tool as ``python -m <module>`` from the project root, so pyproject.toml applies."""
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
def test_mypy_strict_passes() -> None:
    result = _run_tool("mypy")
    assert result.returncode == 0, f"mypy found problems:\n{result.stdout}{result.stderr}"
    assert "Success" in result.stdout


def test_ruff_passes() -> None:
    result = _run_tool("ruff", "check", ".")
    assert result.returncode == 0, f"ruff found problems:\n{result.stdout}{result.stderr}"


def test_pyproject_configures_strict_typing() -> None:
    # The checks above are only as strong as their configuration.
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["tool"]["mypy"]["strict"] is True
    assert "json2db_sync" in config["tool"]["mypy"]["files"]
    assert {"F", "E9", "I"} <= set(config["tool"]["ruff"]["lint"]["select"])
