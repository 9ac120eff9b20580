"""README.md as a newcomer follows it (issue 19): on a fresh copy of the repository, the
first command (after its install part) and then every other example README gives must
succeed, the menu included (in a pseudo-terminal). The commands are read from README.md
itself, so a changed example is tested as written."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent  # this environment's json2db-sync and python


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def first_command() -> str:
    """README's first command without its install part (this environment has the package)."""
    command = blocks("bash")[0].strip()
    assert command.startswith("python3 -m venv .venv") and "pip install . &&" in command
    return command.split("pip install . &&", 1)[1].strip()


def cli_examples() -> list[str]:
    """Every `json2db-sync ...` line of README's other shell blocks, and the cron job's
    command (after its `cd`), comments removed."""
    commands = []
    for block in blocks("bash")[2:]:
        for line in block.splitlines():
            line = line.split("  #", 1)[0].strip()
            # `browse` serves until Ctrl-C: tests/test_browse.py starts it and stops it.
            if line.startswith("json2db-sync") and not line.startswith("json2db-sync browse"):
                commands.append(line)
    for block in blocks("cron"):
        for line in block.splitlines():
            if "&&" in line:
                commands.append(line.split("&&", 1)[1].strip())
    return commands


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSON2DB_")}
    env.update({"PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}", "NO_COLOR": "1", "COLUMNS": "160"})
    return env


def run(clone: Path, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command], cwd=clone, env=_env(), capture_output=True, text=True,
        stdin=subprocess.DEVNULL, timeout=300,
    )


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A fresh copy of the repository's tracked files (no .env, no demo/)."""
    target = tmp_path / "json2db_sync"
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: cannot tell the tracked files")
    for name in listed.stdout.splitlines():
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    assert not (target / ".env").exists() and not (target / "demo").exists()
    return target


@pytest.fixture
def demo(clone: Path) -> Path:
    done = run(clone, first_command())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Full Workflow:" in done.stdout and "demo/data/production.db" in done.stdout
    assert (clone / ".env").is_file() and (clone / "demo" / "data" / "production.db").is_file()
    return clone


def test_readme_lists_the_examples_this_test_runs() -> None:
    assert first_command().startswith("json2db-sync sample-data --demo")
    examples = cli_examples()
    assert "json2db-sync verify" in examples and "json2db-sync sync --cutoff-days 1" in examples
    assert len(examples) >= 7


def test_every_command_line_example_works_after_the_first_command(demo: Path) -> None:
    for command in cli_examples():
        done = run(demo, command)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        assert "No data found" not in done.stdout + done.stderr, command
    report = run(demo, "json2db-sync report --format markdown").stdout
    assert "demo/data/production.db" in report and "json_invoices" in report


def test_the_html_report_command_works_after_the_first_command(demo: Path) -> None:
    """Issue 20: README's one command for the HTML report (after its install part: this
    environment has the extra)."""
    [command] = [b.strip() for b in blocks("bash") if "report --format html --out" in b and b.startswith("pip install")]
    install, report = command.split(" && ", 1)
    assert install == "pip install '.[report]'"
    done = run(demo, report)
    assert done.returncode == 0, done.stdout + done.stderr
    page = (demo / "demo" / "report.html").read_text(encoding="utf-8")
    assert 'data-chart="sales"' in page and "json2db_receivables_aging" in page


def test_the_python_example_works_after_the_first_command(demo: Path) -> None:
    [example] = blocks("python")
    script = demo / "nightly.py"
    script.write_text(example, encoding="utf-8")
    done = run(demo, f"{BIN / 'python'} nightly.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("sync ok: ")


def test_analyze_after_the_first_command_wants_no_schema_change(demo: Path) -> None:
    done = run(demo, "json2db-sync analyze")
    assert done.returncode == 0, done.stderr
    assert "no schema changes required" in done.stdout
    assert "type conflict" not in done.stdout


def test_the_menu_opens_on_the_demo_after_the_first_command(demo: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    assert "python -m json2db_sync.main_json2db_sync" in README
    env = _env()
    env.update({"PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm"})
    child = pexpect.spawn(
        str(BIN / "python"), ["-m", "json2db_sync.main_json2db_sync"], cwd=str(demo), env=env,
        dimensions=(40, 160), timeout=60, encoding="utf-8",
    )
    try:
        child.expect("Main menu")
        header = child.before
        assert "demo/data/production.db" in header and "not created yet" not in header
        assert "demo/api_sync/data/sync_sessions" in header and "No data found" not in header
        child.send("6\r")
        child.expect("Database:")
        child.send("\r")
        child.expect("Cutoff days")
        child.send("\r")
        child.expect("Skip analysis")
        child.send("\r")
        child.expect("Records read")
        child.expect("Main menu")
        child.send("0\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
