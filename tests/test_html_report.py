"""The HTML report (`report --format html --out FILE`, runner.generate_html_report): one
self-contained page, checked as a file and in a real headless Chromium (tests/browser.py):
it loads with no console error and no network, every chart is drawn, data cannot inject
markup, and a 1280 px wide screenshot is taken.

The browser test skips when no Chromium is installed, with the reason; CI (.ci/run) runs
.ci/chromium first and sets JSON2DB_TEST_REQUIRE_CHROMIUM=1, so there it fails instead.
"""

from __future__ import annotations

import os
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from browser import Chromium, find_chromium, png_size
from conftest import Backend

from json2db_sync import JSON2DBSyncRunner
from json2db_sync.cli import main
from json2db_sync.html_report import CHARTS
from json2db_sync.report_views import VIEW_NAMES
from json2db_sync.sample_data import generate_sample_data

# Read at import: the autouse fixture of conftest.py clears JSON2DB_* inside tests.
CHROMIUM = find_chromium()
CHROMIUM_REQUIRED = bool(os.environ.get("JSON2DB_TEST_REQUIRE_CHROMIUM") or os.environ.get("CI"))

HOSTILE = '<img src=x onerror="console.error(1)"></script><script>console.error(2)</script>'


@pytest.fixture
def chromium() -> str:
    if CHROMIUM is None:
        reason = (
            "no Chromium found (chromium/chromium-browser on PATH or JSON2DB_TEST_CHROMIUM); "
            "run .ci/chromium (as root it installs Debian's chromium package)"
        )
        if CHROMIUM_REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture
def synced(sessions_dir: Path, db_path: Path, make_session) -> Path:
    """Sample sessions plus one invoice whose customer's name is markup, synced."""
    generate_sample_data(sessions_dir, days=2, seed=3, invoices=20)
    late = datetime.now() - timedelta(minutes=5)
    make_session(late, {"invoices": [{
        "invoice_id": "990001", "customer_id": "c-hostile", "customer_name": HOSTILE, "status": "overdue",
        "date": "2026-01-02", "due_date": "2026-02-01", "total": 10.0, "balance": 10.0,
        "last_modified_time": late.strftime("%Y-%m-%dT%H:%M:%S+0000"),
    }]})
    result = JSON2DBSyncRunner().full_sync_workflow()
    assert result["success"], result["error"]
    return db_path


def test_cli_writes_one_self_contained_file(synced: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.html"
    assert main(["report", "--format", "html", "--out", str(out)]) == 0
    assert f"HTML report: {out}" in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    # Nothing is fetched: no external script, stylesheet, image or frame.
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page)
    assert page.count("<script") == 1 + len(CHARTS)  # plotly.js, then one per chart
    for chart in CHARTS:
        assert f'data-chart="{chart}"' in page
    for view in ("json2db_sales_by_month", "json2db_receivables_aging", "json2db_payables_aging",
                 "json2db_customer_balances"):
        assert f"<code>{view}</code>" in page
    assert HOSTILE not in page and "&lt;img src=x" in page  # escaped in the tables
    assert not list(tmp_path.glob(".*.partial"))


def test_cli_asks_for_the_file_and_the_format(synced: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--format", "html"]) == 2
    assert "--format html needs --out FILE" in capsys.readouterr().err
    assert main(["report", "--out", "x.html"]) == 2
    assert "add --format html" in capsys.readouterr().err
    assert main(["report", "--format", "html", "--out", "no/such/folder/r.html"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_without_plotly_the_error_names_the_extra(synced: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "plotly" or m.startswith("plotly.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "plotly", None)  # what an environment without the extra sees
    result = JSON2DBSyncRunner().generate_html_report(tmp_path / "r.html")
    assert not result["success"] and result["error_type"] == "config_error"
    assert "pip install 'json2db_sync[report]'" in result["error"]
    assert not (tmp_path / "r.html").exists()


def test_a_database_without_the_views_still_gets_a_report(synced: Path, tmp_path: Path) -> None:
    import sqlite3

    with sqlite3.connect(synced) as conn:
        for view in VIEW_NAMES:
            conn.execute(f'DROP VIEW "{view}"')  # as a database last synced by an older version
    result = JSON2DBSyncRunner().generate_html_report(tmp_path / "r.html")
    assert result["success"], result["error"]
    assert result["views"] == {name: None for name in VIEW_NAMES}
    assert any("run a sync to create them" in w for w in result["warnings"])
    assert "The database has no json2db_sales_by_month view" in (tmp_path / "r.html").read_text()


def test_report_on_both_engines_carries_the_view_rows(backend: Backend, sessions_dir: Path, tmp_path: Path) -> None:
    generate_sample_data(sessions_dir, days=2, seed=5, invoices=12, entities=("contacts", "invoices", "bills"))
    runner = JSON2DBSyncRunner(**backend.runner_kwargs)
    assert runner.full_sync_workflow()["success"]
    result = runner.generate_html_report(tmp_path / "r.html")
    assert result["success"], result["error"]
    counts = result["views"]
    assert counts["json2db_sales_by_month"] >= 1 and counts["json2db_sync_history"] == 1
    assert counts["json2db_receivables_aging"] == len(
        backend.query('SELECT DISTINCT customer_id, currency_code FROM "json2db_receivables_aging"')
    )


def test_the_page_in_a_real_browser(chromium: str, synced: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = JSON2DBSyncRunner().generate_html_report(out)
    assert result["success"], result["error"]
    with Chromium(chromium, tmp_path / "profile", width=1280) as browser:
        browser.open(out.as_uri())
        drawn = browser.wait_for(
            f"document.querySelectorAll('.chart .js-plotly-plot .main-svg').length >= {len(CHARTS)}"
        )
        assert drawn, "plotly did not draw the charts"
        per_chart = browser.evaluate(
            "Object.fromEntries([...document.querySelectorAll('.chart')].map(c => "
            "[c.dataset.chart, c.querySelectorAll('.bars path, .point path').length]))"
        )
        assert set(per_chart) == set(CHARTS)
        assert all(count > 0 for count in per_chart.values()), per_chart
        assert browser.evaluate("document.querySelectorAll('img, body script[src]').length") == 0
        assert HOSTILE in browser.evaluate("document.body.innerText")  # shown as text, not run
        assert browser.evaluate("document.documentElement.scrollWidth") <= 1280  # no sideways page scroll
        shot = browser.screenshot(tmp_path / "report-1280.png")
        assert browser.errors == []
    width, height = png_size(shot)
    assert width == 1280 and height > 900
