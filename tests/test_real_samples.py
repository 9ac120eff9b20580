"""Every real Zoho Books capture in ../shared/real_samples loads (skipped when absent)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from json2db_sync import JSON2DBSyncRunner
from json2db_sync.json_analyzer import id_field_candidates, normalize_id
from json2db_sync.reader import SINGULAR_KEYS

SESSION_FMT = "%Y-%m-%d_%H-%M-%S"


def _records(path: Path, entity: str) -> list[dict]:
    data = json.loads(path.read_text())
    if isinstance(data, list):
        return data
    if entity in data and isinstance(data[entity], list):
        return data[entity]
    singular = SINGULAR_KEYS.get(entity)
    if singular in data and isinstance(data[singular], dict):
        return [data[singular]]
    return [data]


def test_every_real_sample_loads(real_samples: Path, workspace: Path, sessions_dir: Path, db_path: Path) -> None:
    """One session per capture (oldest first, a minute apart), then one full sync."""
    samples = sorted(real_samples.glob("*.json"))
    assert samples, "the real samples folder holds no JSON files"
    start = datetime.now() - timedelta(hours=2)
    expected: dict[str, set[str]] = {}
    for index, sample in enumerate(samples):
        entity = sample.name.split("__", 1)[0]
        when = (start + timedelta(minutes=index)).strftime(SESSION_FMT)
        folder = sessions_dir / f"sync_session_{when}" / "raw_json" / when
        folder.mkdir(parents=True)
        shutil.copyfile(sample, folder / f"{entity}.json")
        id_field = id_field_candidates(entity)[0]
        ids = {normalize_id(r.get(id_field)) for r in _records(sample, entity)}
        expected.setdefault(entity, set()).update(i for i in ids if i)

    result = JSON2DBSyncRunner().full_sync_workflow()
    assert result["success"], (result["error"], result["steps"].get("verification", {}).get("checks"))
    assert result["statistics"]["files_loaded"] == len(samples)
    assert result["statistics"]["records_rejected"] == 0

    with sqlite3.connect(db_path) as conn:
        for entity, ids in expected.items():
            stored = {row[0] for row in conn.execute(f'SELECT id FROM "json_{entity}"')}
            assert stored == ids, entity
        # Detail envelopes brought their line items; list pages did not erase them.
        assert conn.execute("SELECT COUNT(*) FROM json_invoices_line_items").fetchone()[0] > 0
        assert conn.execute("SELECT COUNT(*) FROM json_bills_line_items").fetchone()[0] > 0
        # Zoho's "-0400" offsets became UTC.
        created = conn.execute(
            "SELECT created_at, created_time FROM json_invoices WHERE created_time LIKE '%-0400' LIMIT 1"
        ).fetchone()
        assert created is not None and len(created[0]) == 19


def test_real_samples_rerun_is_a_no_op(real_samples: Path, workspace: Path, sessions_dir: Path) -> None:
    when = (datetime.now() - timedelta(hours=1)).strftime(SESSION_FMT)
    folder = sessions_dir / f"sync_session_{when}" / "raw_json" / when
    folder.mkdir(parents=True)
    for name in ("invoices__nango-get.json", "contacts__nango-list-sync.json", "items__nango-list-sync.json"):
        if (real_samples / name).exists():
            shutil.copyfile(real_samples / name, folder / (name.split("__")[0] + ".json"))
    runner = JSON2DBSyncRunner()
    assert runner.full_sync_workflow()["success"]
    again = runner.full_sync_workflow()
    assert again["success"]
    assert again["statistics"]["files_loaded"] == 0
