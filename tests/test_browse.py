"""`json2db-sync browse`: Datasette over the SQLite database with metadata generated from
the tool's own tables. The real command is started on a free port, the index, a table page
and a report view's JSON are fetched over HTTP, and the server is stopped."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from json2db_sync import JSON2DBSyncRunner
from json2db_sync.report_views import VIEW_NAMES, view_spec
from json2db_sync.sample_data import generate_sample_data

pytest.importorskip("datasette", reason="browse needs the [browse] extra (pip install -e '.[test]' installs it)")


@pytest.fixture
def synced(sessions_dir: Path, db_path: Path) -> Path:
    generate_sample_data(sessions_dir, days=2, seed=9, invoices=12)
    assert JSON2DBSyncRunner().full_sync_workflow()["success"]
    return db_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def wait_until_up(url: str, process: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"browse exited early ({process.returncode}): {process.stderr.read() if process.stderr else ''}")
        try:
            fetch(url)
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout}s")


def test_metadata_comes_from_the_tools_tables(synced: Path, tmp_path: Path) -> None:
    result = JSON2DBSyncRunner().browse_database(tmp_path, port=free_port())
    assert result["success"], result["error"]
    metadata = json.loads(Path(result["metadata_path"]).read_text())
    tables = metadata["databases"][synced.stem]["tables"]
    invoices = tables["json_invoices"]
    assert invoices["title"] == "invoices" and invoices["label_column"] == "invoice_number"
    assert invoices["columns"]["billing_address__city"].startswith("JSON field billing_address.city")
    assert "refers to json_contacts.id" in invoices["columns"]["customer_id"]
    lines = tables["json_invoices_line_items"]
    assert "foreign key to json_invoices.id" in lines["columns"]["parent_id"]
    for name in VIEW_NAMES:
        assert tables[name]["title"] == view_spec(name).title
        assert tables[name]["columns"] == dict(view_spec(name).columns)
    queries = metadata["databases"][synced.stem]["queries"]
    assert {"overdue_invoices", "invoice_lines", "files_per_entity", "rejected_records",
            "top_customers_by_outstanding"} <= set(queries)
    assert result["command"][result["command"].index("--host") + 1] == "127.0.0.1"


def test_browse_refuses_postgresql_and_a_missing_database(workspace: Path, tmp_path: Path) -> None:
    result = JSON2DBSyncRunner().browse_database(tmp_path)
    assert not result["success"] and "does not exist; run a sync first" in result["error"]
    pg = JSON2DBSyncRunner(db_url="postgresql://nobody@127.0.0.1:1/none").browse_database(tmp_path)
    assert not pg["success"] and pg["error_type"] == "config_error" and "SQLite only" in pg["error"]


def test_browse_serves_index_table_and_view_json(synced: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSON2DB_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "json2db_sync", "--db", str(synced), "browse", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/-/versions.json", process)
        status, index = fetch(base + "/")
        assert status == 200 and "json2db_sync: production.db" in index
        status, table = fetch(base + "/production/json_invoices")
        assert status == 200 and "invoice_number" in table
        assert "JSON field billing_address.city" in table  # the column descriptions are shown
        status, body = fetch(base + "/production/json2db_sales_by_month.json?_shape=array")
        rows: list[dict[str, Any]] = json.loads(body)
        assert status == 200 and rows and set(rows[0]) == {c for c, _ in view_spec("json2db_sales_by_month").columns}
        assert sum(r["invoices"] for r in rows) > 0
        status, body = fetch(base + "/production/overdue_invoices.json?_shape=array")  # a canned query runs
        assert status == 200 and isinstance(json.loads(body), list)
    finally:
        process.send_signal(signal.SIGTERM)  # the CLI stops Datasette, then exits
        try:
            process.wait(timeout=15)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    first_line = process.stdout.readline() if process.stdout else ""
    assert f"at {base}/production" in first_line
    with socket.socket() as probe:  # nothing listens any more: Datasette is gone too
        assert probe.connect_ex(("127.0.0.1", port)) != 0
