"""What the real api_sync producer writes loads cleanly, recreates, reconciles (issue 16).

The trees come from tests/api_sync_producer.py, which mirrors api_sync's own writing code:
per-module timestamp folders written as ``.tmp`` and renamed, bare arrays, detail records
with embedded line items plus ``<module>_line_items.json``, ``sync_metadata_*.json`` with
``records_found``, and the session's ``session_info.json``, ``README.md``, ``logs/`` and
``reports/``.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_sync_producer import contact, document, extract_line_items, write_api_sync_session
from conftest import Backend

from json2db_sync import JSON2DBSyncRunner

NOW = datetime.now().replace(microsecond=0)
# Two api_sync nights within the freshness window (24 h), the second one newer.
DAY1 = NOW - timedelta(hours=20)
DAY2 = NOW - timedelta(hours=2)


def _two_sessions(sessions_dir: Path) -> dict[str, Any]:
    """Two nights of api_sync: detail documents, list-form contacts, an empty module, an
    interrupted module (.tmp), an invoice changed on the second night."""
    night1 = {
        "contacts": [contact(1, DAY1), contact(2, DAY1)],
        "invoices": [
            document("invoices", 1, DAY1, lines=((1, 100.0), (2, 12.5))),
            document("invoices", 2, DAY1, lines=((3, 7.25),)),
        ],
        "bills": [document("bills", 1, DAY1, lines=((1, 40.0), (1, 2.5), (4, 1.0)))],
        "items": [],  # an empty module: metadata only
        "creditnotes": [document("creditnotes", 1, DAY1)],
    }
    write_api_sync_session(sessions_dir, DAY1, night1, interrupted=["creditnotes"])
    night2 = {
        "invoices": [document("invoices", 1, DAY2, lines=((1, 100.0),)), document("invoices", 3, DAY2)],
        "salesorders": [document("salesorders", 1, DAY2, lines=((5, 3.0), (1, 1.0)))],
        "contacts": [contact(3, DAY2)],
    }
    write_api_sync_session(sessions_dir, DAY2, night2)
    return {"night1": night1, "night2": night2}


def _rows(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql, params).fetchall()


def _check(result: dict[str, Any], name: str) -> dict[str, Any]:
    checks = result["steps"]["verification"]["checks"]
    return next(c for c in checks if c["name"] == name)


def _tables(db_path: Path) -> set[str]:
    return {r[0] for r in _rows(db_path, "SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_clean_tree_loads_every_record_and_line_item_once(sessions_dir: Path, db_path: Path) -> None:
    _two_sessions(sessions_dir)

    result = JSON2DBSyncRunner().full_sync_workflow(cutoff_days=30)

    assert result["success"], result["error"]
    assert result["warnings"] == []
    stats = result["statistics"]
    assert stats["records_rejected"] == 0
    assert _rows(db_path, "SELECT COUNT(*) FROM _json2db_rejected") == [(0,)]
    # no table for the line-item files: they are child rows of their entity
    tables = _tables(db_path)
    assert not any(name.endswith("_line_items_2") for name in tables)
    assert "json_invoices_line_items" in tables and "json_bills_line_items" in tables
    assert "json_salesorders_line_items" in tables
    # every record once; the second night's invoice 1 (one line now) replaced the first
    assert _rows(db_path, "SELECT COUNT(*), COUNT(DISTINCT id) FROM json_invoices") == [(3, 3)]
    assert _rows(db_path, "SELECT COUNT(*) FROM json_contacts") == [(3,)]
    lines = dict(_rows(db_path, "SELECT parent_id, COUNT(*) FROM json_invoices_line_items GROUP BY parent_id"))
    assert lines == {"460000000001": 1, "460000000002": 1, "460000000003": 1}
    assert _rows(db_path, "SELECT COUNT(*) FROM json_bills_line_items") == [(3,)]
    assert _rows(db_path, "SELECT COUNT(*) FROM json_salesorders_line_items") == [(2,)]
    # the interrupted module (creditnotes.tmp) is not read, and said so once, as a note
    assert "json_creditnotes" not in tables
    assert len(result["notes"]) == 1 and ".tmp" in result["notes"][0] and "creditnotes" not in result["notes"][0]
    assert "interrupted" in result["notes"][0]
    # the producer's counts and the line-item copies were compared, and agree
    assert _check(result, "line_item_files")["status"] == "ok"
    assert "agree" in _check(result, "line_item_files")["details"]
    producer = _check(result, "producer_counts")
    assert producer["status"] == "ok" and "as many records as api_sync counted" in producer["details"]


def test_documented_join_and_producer_fields(sessions_dir: Path, db_path: Path) -> None:
    _two_sessions(sessions_dir)
    assert JSON2DBSyncRunner().full_sync_workflow(cutoff_days=30)["success"]

    joined = _rows(
        db_path,
        "SELECT i.id, li.parent_type, li.item_total FROM json_invoices_line_items li "
        "JOIN json_invoices i ON li.parent_id = i.id ORDER BY i.id, li.position",
    )
    assert [row[0] for row in joined] == ["460000000001", "460000000002", "460000000003"]
    assert {row[1] for row in joined} == {"invoice"}
    # the producer's own parent_id is kept beside ours, and equals it
    assert _rows(db_path, "SELECT COUNT(*) FROM json_invoices_line_items WHERE parent_id_orig <> parent_id") == [(0,)]
    assert _rows(db_path, "SELECT DISTINCT parent_type FROM json_salesorders_line_items") == [("salesorder",)]


def test_second_run_loads_nothing_and_says_nothing(sessions_dir: Path, db_path: Path) -> None:
    _two_sessions(sessions_dir)
    runner = JSON2DBSyncRunner()
    assert runner.full_sync_workflow(cutoff_days=30)["success"]

    again = runner.full_sync_workflow(cutoff_days=30)

    assert again["success"], again["error"]
    assert again["warnings"] == []
    assert again["statistics"]["files_loaded"] == 0
    assert again["statistics"]["total_records"] == 0
    verify = runner.verify_tables()
    assert verify["success"] and verify["warnings"] == []
    assert [c["name"] for c in verify["checks"] if c["status"] != "ok"] == []


def test_recreate_then_sync(sessions_dir: Path, db_path: Path) -> None:
    _two_sessions(sessions_dir)
    runner = JSON2DBSyncRunner()

    created = runner.recreate_json_tables()  # on an empty database
    assert created["success"], created["error"]
    assert "json_invoices_line_items" in created["created_tables"]
    assert not any(name.startswith("json_invoices_line_items_") for name in created["created_tables"])
    first = runner.full_sync_workflow(cutoff_days=30)
    assert first["success"] and first["warnings"] == [], (first["error"], first["warnings"])
    # a recreation reloads every folder, whatever the cutoff: said as a note
    assert any("recreated" in note for note in first["notes"])

    again = runner.recreate_json_tables()  # on a loaded database
    assert again["success"], again["error"]
    reloaded = runner.full_sync_workflow(cutoff_days=30)
    assert reloaded["success"] and reloaded["warnings"] == [], reloaded["warnings"]
    assert reloaded["statistics"]["records_rejected"] == 0
    assert _rows(db_path, "SELECT COUNT(*) FROM json_invoices_line_items") == [(3,)]


def test_recreate_from_the_command_line(workspace: Path, sessions_dir: Path, db_path: Path) -> None:
    _two_sessions(sessions_dir)
    proc = subprocess.run(
        [sys.executable, "-m", "json2db_sync", "recreate", "--yes"],
        cwd=workspace / "json2db_sync", capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "json2db_sync", "sync", "--cutoff-days", "30"],
        cwd=workspace / "json2db_sync", capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "note: skipped 1 unfinished api_sync folder" in proc.stdout
    assert "warning" not in proc.stdout.lower() and "warning" not in proc.stderr.lower()
    proc = subprocess.run(
        [sys.executable, "-m", "json2db_sync", "sync", "--cutoff-days", "30"],
        cwd=workspace / "json2db_sync", capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stdout.lower() and "warning" not in proc.stderr.lower()


def test_analysis_puts_line_item_files_under_their_entity(sessions_dir: Path, db_path: Path) -> None:
    _two_sessions(sessions_dir)
    runner = JSON2DBSyncRunner()
    analysis = runner.analyze_json_files(sessions_dir)
    assert analysis["success"], analysis["error"]
    assert not any(entity.endswith("_line_items") for entity in analysis["entities"])
    children = analysis["entities"]["invoices"]["child_tables"]["json_invoices_line_items"]["columns"]
    assert "parent_type" in children and "item_total" in children
    assert runner.full_sync_workflow(cutoff_days=30)["success"]
    after = runner.analyze_json_files(sessions_dir)
    assert after["schema_changes_required"] == []


def test_a_disagreeing_copy_is_a_finding_naming_the_parent(sessions_dir: Path, db_path: Path) -> None:
    invoices = [document("invoices", 1, DAY1, lines=((1, 100.0), (2, 5.0))), document("invoices", 2, DAY1)]
    copies = [dict(item) for record in json.loads(json.dumps(invoices)) for item in record["line_items"]]
    for record, item in ((r, i) for r in invoices for i in r["line_items"]):
        item["parent_id"], item["parent_type"] = record["invoice_id"], "invoice"
    for item, record_id in zip(copies, ["460000000001", "460000000001", "460000000002"]):
        item["parent_id"], item["parent_type"] = record_id, "invoice"
    copies[1]["item_total"] = 11.0  # the file says 11.00 where the invoice says 10.00
    write_api_sync_session(sessions_dir, DAY1, {"invoices": invoices}, line_item_files={"invoices": copies})

    result = JSON2DBSyncRunner().full_sync_workflow(cutoff_days=30)

    assert result["success"], result["error"]
    finding = _check(result, "line_item_files")
    assert finding["status"] == "warning" and finding["count"] == 1
    assert "invoice 460000000001" in finding["examples"][0]
    assert "ids or amounts differ" in finding["examples"][0]
    assert any("line_item_files" in w for w in result["warnings"])
    # the detail records are what was loaded
    assert _rows(db_path, "SELECT SUM(item_total) FROM json_invoices_line_items WHERE parent_id = '460000000001'") == [(110.0,)]


def test_a_copy_missing_items_names_the_counts(sessions_dir: Path, db_path: Path) -> None:
    invoices = [document("invoices", 1, DAY1, lines=((1, 1.0), (1, 2.0)))]
    items = extract_line_items(json.loads(json.dumps(invoices[0])), "invoices", "460000000001")
    write_api_sync_session(sessions_dir, DAY1, {"invoices": invoices}, line_item_files={"invoices": items[:1]})

    populate = JSON2DBSyncRunner().populate_tables(cutoff_days=30)

    assert populate["success"], populate["error"]
    assert any("invoice 460000000001" in w and "2 line items" in w and "1 line item" in w for w in populate["warnings"])


def test_list_form_parents_take_their_line_items_from_the_file(sessions_dir: Path, db_path: Path) -> None:
    headers = [document("invoices", n, DAY1, detail=False) for n in (1, 2)]
    items = [
        extract_line_items(document("invoices", 1, DAY1, lines=((1, 3.0), (2, 4.0))), "invoices", "460000000001"),
        extract_line_items(document("invoices", 2, DAY1, lines=((1, 9.0),)), "invoices", "460000000002"),
    ]
    write_api_sync_session(
        sessions_dir, DAY1, {"invoices": headers}, line_item_files={"invoices": items[0] + items[1]}
    )

    result = JSON2DBSyncRunner().full_sync_workflow(cutoff_days=30)

    assert result["success"] and result["warnings"] == [], (result["error"], result["warnings"])
    rows = _rows(
        db_path,
        "SELECT li.parent_id, li.position, li.id, li.item_total, li.updated_at = i.updated_at "
        "FROM json_invoices_line_items li JOIN json_invoices i ON li.parent_id = i.id ORDER BY 1, 2",
    )
    assert rows == [
        ("460000000001", 0, "460000000001000", 3.0, 1),
        ("460000000001", 1, "460000000001001", 8.0, 1),
        ("460000000002", 0, "460000000002000", 9.0, 1),
    ]
    assert _check(result, "foreign_key_check")["status"] == "ok"
    assert _check(result, "orphan_child_rows")["status"] == "ok"


def test_file_supplied_line_items_follow_newest_wins(sessions_dir: Path, db_path: Path) -> None:
    """Items belong to the version of their parent in the same folder: an older version's
    items never replace a newer one's; a newer version's replace them as a whole."""
    runner = JSON2DBSyncRunner()

    def night(when: datetime, modified: datetime, lines: tuple[tuple[float, float], ...]) -> None:
        header = document("invoices", 1, modified, detail=False)
        items = extract_line_items(document("invoices", 1, modified, lines=lines), "invoices", "460000000001")
        write_api_sync_session(sessions_dir, when, {"invoices": [header]}, line_item_files={"invoices": items})

    night(DAY1, DAY1, ((1, 1.0), (1, 2.0), (1, 3.0)))
    assert runner.full_sync_workflow(cutoff_days=30)["success"]
    # a later session carries an older version (a stale export): its items are ignored
    night(DAY1 + timedelta(hours=1), DAY1 - timedelta(days=3), ((1, 99.0),))
    assert runner.full_sync_workflow(cutoff_days=30)["success"]
    assert _rows(db_path, "SELECT COUNT(*), SUM(item_total) FROM json_invoices_line_items") == [(3, 6.0)]
    # a newer version with one line left: the three lines are replaced by it
    night(DAY2, DAY2, ((2, 5.0),))
    assert runner.full_sync_workflow(cutoff_days=30)["success"]
    assert _rows(db_path, "SELECT COUNT(*), SUM(item_total) FROM json_invoices_line_items") == [(1, 10.0)]


def test_line_items_of_an_unknown_parent_are_quarantined_loudly(sessions_dir: Path, db_path: Path) -> None:
    write_api_sync_session(sessions_dir, DAY1, {"contacts": [contact(1, DAY1)]})
    items = extract_line_items(document("bills", 7, DAY1), "bills", "460000000007")
    items.append({"line_item_id": "x", "quantity": 1})  # no parent_id at all
    write_api_sync_session(sessions_dir, DAY2, {"bills": []}, line_item_files={"bills": items})

    result = JSON2DBSyncRunner().full_sync_workflow(cutoff_days=30)

    assert result["success"], result["error"]
    assert result["statistics"]["records_rejected"] == 2
    assert any("460000000007" in w and "_json2db_rejected" in w for w in result["warnings"])
    assert any("no usable 'parent_id'" in w for w in result["warnings"])
    reasons = [r[0] for r in _rows(db_path, "SELECT reason FROM _json2db_rejected ORDER BY rejected_id")]
    assert any(r.startswith("line item: its parent 460000000007 is not in json_bills") for r in reasons)
    assert "line item: no usable parent id in field 'parent_id'" in reasons


def test_producer_counts_that_disagree_are_a_warning_naming_the_folder(sessions_dir: Path, db_path: Path) -> None:
    session = write_api_sync_session(
        sessions_dir,
        DAY1,
        {"contacts": [contact(1, DAY1), contact(2, DAY1)], "invoices": [document("invoices", 1, DAY1)]},
        records_found={"contacts": 3},
    )

    result = JSON2DBSyncRunner().full_sync_workflow(cutoff_days=30)

    assert result["success"], result["error"]
    check = _check(result, "producer_counts")
    assert check["status"] == "warning" and check["count"] == 1
    folder = next(p for p in (session / "raw_json").iterdir() if (p / "contacts.json").exists())
    assert str(folder) in check["details"]
    assert "counts 3 records, contacts.json held 2" in check["details"]
    # verify on its own reconciles against the ledger too
    verify = JSON2DBSyncRunner().verify_tables()
    assert next(c for c in verify["checks"] if c["name"] == "producer_counts")["status"] == "warning"


def test_a_module_file_missing_beside_its_metadata_is_reported(sessions_dir: Path, db_path: Path) -> None:
    session = write_api_sync_session(
        sessions_dir, DAY1, {"contacts": [contact(1, DAY1)], "items": []}, records_found={"items": 4}
    )
    result = JSON2DBSyncRunner().full_sync_workflow(cutoff_days=30)
    assert result["success"], result["error"]
    # items' metadata sits in a folder of its own with no data file: nothing was loaded from
    # it, so only the folders the run loaded from are reconciled
    assert _check(result, "producer_counts")["status"] == "ok"
    # the same count beside a loaded file is compared
    contacts_dir = next(p for p in (session / "raw_json").iterdir() if (p / "contacts.json").exists())
    (contacts_dir / "sync_metadata_items.json").write_text(
        json.dumps({"module": "items", "records_found": 4, "sync_completed": False})
    )
    verify = JSON2DBSyncRunner().verify_tables()
    check = next(c for c in verify["checks"] if c["name"] == "producer_counts")
    assert check["status"] == "warning" and "wrote no items.json" in check["details"]


@pytest.mark.parametrize("entity_filter", [["invoices"]])
def test_entity_filter_takes_the_line_item_file_with_its_entity(
    sessions_dir: Path, db_path: Path, entity_filter: list[str]
) -> None:
    _two_sessions(sessions_dir)
    result = JSON2DBSyncRunner().populate_tables(cutoff_days=30, entity_filter=entity_filter)
    assert result["success"] and result["warnings"] == [], (result["error"], result["warnings"])
    assert "json_invoices_line_items" in _tables(db_path)
    assert "json_contacts" not in _tables(db_path)


def test_real_samples_written_by_the_producer_load_cleanly(real_samples: Path, sessions_dir: Path, db_path: Path) -> None:
    """Real detail envelopes (what api_sync's _get_detailed_record unwraps) and real list
    pages, written through the producer's code path."""
    modules: dict[str, list[dict[str, Any]]] = {}
    for module in ("invoices", "bills", "salesorders", "purchaseorders", "creditnotes"):
        detail = real_samples / f"{module}__nango-get.json"
        if detail.exists():
            data = json.loads(detail.read_text())
            record = data.get(module.rstrip("s"), data)
            modules[module] = [record]
    for module in ("contacts", "items", "customerpayments"):
        listing = real_samples / f"{module}__nango-list-sync.json"
        if listing.exists():
            modules[module] = json.loads(listing.read_text())[module]
    assert modules
    write_api_sync_session(sessions_dir, DAY1, modules)

    result = JSON2DBSyncRunner().full_sync_workflow(cutoff_days=30)

    assert result["success"], result["error"]
    assert result["statistics"]["records_rejected"] == 0
    assert _check(result, "line_item_files")["status"] == "ok"
    assert _check(result, "producer_counts")["status"] == "ok"
    for module, records in modules.items():
        stored = _rows(db_path, f'SELECT COUNT(*) FROM "json_{module}"')[0][0]
        assert stored == len(records), module
    if "invoices" in modules:
        embedded = len(modules["invoices"][0].get("line_items") or [])
        assert _rows(db_path, "SELECT COUNT(*) FROM json_invoices_line_items") == [(embedded,)]


def test_api_sync_tree_on_both_engines(backend: Backend, sessions_dir: Path) -> None:
    """The same tree on SQLite and PostgreSQL: copies compared, list-form parents supplied
    from the file, counts reconciled, a second run silent."""
    _two_sessions(sessions_dir)
    headers = [document("bills", 5, DAY2, detail=False)]
    items = extract_line_items(document("bills", 5, DAY2, lines=((2, 4.5), (1, 1.0))), "bills", "460000000005")
    write_api_sync_session(sessions_dir, DAY2 + timedelta(minutes=5), {"bills": headers}, line_item_files={"bills": items})
    runner = JSON2DBSyncRunner(**backend.runner_kwargs)

    first = runner.full_sync_workflow(cutoff_days=30)

    assert first["success"] and first["warnings"] == [], (first["error"], first["warnings"])
    for name in ("line_item_files", "producer_counts", "foreign_key_check", "orphan_child_rows"):
        assert _check(first, name)["status"] == "ok", _check(first, name)
    rows = backend.query(
        "SELECT li.parent_id, li.parent_type, li.item_total FROM json_bills_line_items li "
        "JOIN json_bills b ON li.parent_id = b.id WHERE b.id = ? ORDER BY li.position",
        ("460000000005",),
    )
    assert [(r[0], r[1], float(r[2])) for r in rows] == [("460000000005", "bill", 9.0), ("460000000005", "bill", 1.0)]
    assert backend.query("SELECT COUNT(*) FROM json_invoices_line_items")[0][0] == 3
    assert not any(t.endswith("_line_items_2") for t in backend.tables())

    again = runner.full_sync_workflow(cutoff_days=30)
    assert again["success"] and again["warnings"] == [] and again["statistics"]["files_loaded"] == 0
    assert runner.recreate_json_tables()["success"]
    reloaded = runner.full_sync_workflow(cutoff_days=30)
    assert reloaded["success"], reloaded["error"]
    assert backend.query("SELECT COUNT(*) FROM json_bills_line_items")[0][0] == 5


def test_every_command_works_on_an_api_sync_tree(workspace: Path, sessions_dir: Path, db_path: Path) -> None:
    _two_sessions(sessions_dir)
    outputs = {}
    for command in (["analyze"], ["recreate", "--yes"], ["sync"], ["populate"], ["verify"], ["report"],
                    ["sessions"], ["backup"], ["backup", "--list"]):
        proc = subprocess.run(
            [sys.executable, "-m", "json2db_sync", "--json", *command],
            cwd=workspace / "json2db_sync", capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
        )
        assert proc.returncode == 0, (command, proc.stdout[-2000:], proc.stderr[-2000:])
        outputs[" ".join(command)] = json.loads(proc.stdout)
    sessions = outputs["sessions"]["sessions"]
    entities = {entity for folder in sessions for entity in folder["entities"]}
    assert not any(entity.endswith("_line_items") for entity in entities)
    files = [f for folder in sessions for f in folder["files"]]
    assert {f["name"] for f in files if f["child_field"] == "line_items"} == {
        "invoices_line_items.json", "bills_line_items.json", "salesorders_line_items.json"
    }
    assert outputs["verify"]["summary"]["warning"] == 0
    assert outputs["populate"]["statistics"]["files_loaded"] == 0  # the sync loaded everything
