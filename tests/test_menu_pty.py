"""The real menu in a pseudo-terminal, driven with pexpect as a person would: words on the
screen, keys typed, then the database and the exit status checked."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

pytestmark = [
    pytest.mark.pty,
    pytest.mark.skipif(sys.platform == "win32", reason="pexpect.spawn needs a POSIX pseudo-terminal"),
]

TIMEOUT = 60
MAIN_MENU = "Main menu"


@pytest.fixture
def sample(sessions_dir: Path) -> Path:
    from json2db_sync.sample_data import generate_sample_data

    generate_sample_data(sessions_dir, days=2, seed=1, invoices=20)
    return sessions_dir


@pytest.fixture
def child(workspace: Path):
    """The menu, spawned in the workspace; always killed at the end."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSON2DB_")}
    env.update({"NO_COLOR": "1", "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm"})
    spawned = pexpect.spawn(
        sys.executable,
        ["-m", "json2db_sync.main_json2db_sync"],
        cwd=str(workspace / "json2db_sync"),
        env=env,
        dimensions=(40, 120),
        timeout=TIMEOUT,
        encoding="utf-8",
    )
    try:
        yield spawned
    finally:
        spawned.terminate(force=True)


def finish(child) -> int:
    """Wait for the program to end and return its exit status."""
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def invoices_in(db_path: Path) -> int:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT COUNT(*) FROM json_invoices").fetchone()[0]


def test_full_workflow_with_defaults(sample: Path, db_path: Path, child) -> None:
    child.expect(MAIN_MENU)
    child.send("6")
    child.send("\r")
    child.expect("Database:")
    child.send("\r")
    child.expect("Cutoff days")
    child.send("\r")
    child.expect("Skip analysis")
    child.send("\r")
    child.expect("Records read")
    child.expect(MAIN_MENU)
    child.send("0")
    child.send("\r")
    child.expect("Goodbye")
    assert finish(child) == 0
    assert invoices_in(db_path) == 20


def test_ctrl_c_at_the_top_exits_0(workspace: Path, child) -> None:
    child.expect(MAIN_MENU)
    child.sendcontrol("c")
    child.expect("Goodbye")
    assert finish(child) == 0


def test_a_bad_cutoff_is_asked_again(sample: Path, db_path: Path, child) -> None:
    child.expect(MAIN_MENU)
    child.send("6\r")
    child.expect("Database:")
    child.send("\r")
    child.expect("Cutoff days")
    child.sendcontrol("u")
    child.send("abc\r")
    child.expect("is not a whole number of days")
    child.sendcontrol("u")
    child.send("30\r")
    child.expect("Skip analysis")
    child.send("\r")
    child.expect("Records read")
    child.expect(MAIN_MENU)
    child.send("0\r")
    assert finish(child) == 0
    assert invoices_in(db_path) == 20
