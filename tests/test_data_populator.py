"""The populator's row building: values SQLite stores exactly as the books say."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from json2db_sync import JSON2DBSyncRunner
from json2db_sync import sql_dialect as sd
from json2db_sync.data_populator import dumps_json, row_layout, to_sql_value
from json2db_sync.json_analyzer import EntityPlan, TablePlan, flatten
from json2db_sync.load_stats import LoadStats


@pytest.mark.parametrize(
    ("value", "sql_type", "stored"),
    [
        ("", sd.REAL, None),
        ("", sd.TEXT, ""),
        (True, sd.INTEGER, 1),
        (2**70, sd.TEXT, str(2**70)),
        ([1, "a"], sd.TEXT, '[1,"a"]'),
        (1.25, sd.REAL, 1.25),
        (None, sd.TEXT, None),
    ],
    ids=["empty-numeric", "empty-text", "bool", "big-int", "array", "float", "null"],
)
def test_to_sql_value(value: object, sql_type: str, stored: object) -> None:
    assert to_sql_value(value, sql_type) == stored


def test_dumps_json_keeps_big_integers_exact() -> None:
    assert json.loads(dumps_json({"n": 2**70}), parse_int=int) == {"n": 2**70}


def _layout_for(plan: EntityPlan, record: dict) -> tuple[tuple[str, ...], list]:
    scalars, arrays = flatten(record, split_children=True)
    plan.observe_flat(scalars, arrays)
    for spec in plan.main.columns.values():
        spec.sql_type = spec.sql_type or sd.TEXT
    plan.main.resolve_types_for_new()
    layout = row_layout(plan.main, scalars)
    return layout.columns, layout.values(scalars)


def test_layout_orders_columns_and_converts() -> None:
    plan = EntityPlan.new("items", "item_id")
    plan.observe_record({"item_id": "1", "rate": 1.5, "tags": ["a"]})
    columns, values = _layout_for(plan, {"item_id": "2", "rate": "", "tags": ["b", "c"]})
    assert dict(zip(columns, values)) == {"item_id": "2", "rate": None, "tags": '["b","c"]'}


def test_layout_is_cached_per_key_set() -> None:
    plan = EntityPlan.new("items", "item_id")
    first = {"item_id": "1", "rate": 1.5}
    scalars, arrays = flatten(first, split_children=True)
    plan.observe_flat(scalars, arrays)
    plan.main.resolve_types_for_new()
    assert row_layout(plan.main, scalars) is row_layout(plan.main, dict(scalars))


def test_stats_snapshot_and_restore_undo_a_file() -> None:
    stats = LoadStats()
    stats.total_records = 5
    stats.entity("invoices")["records"] = 5
    before = stats.snapshot()
    stats.total_records = 9
    stats.entity("invoices")["records"] = 9
    stats.ddl.append("CREATE ...")
    stats.restore(before)
    assert (stats.total_records, stats.per_entity["invoices"]["records"], stats.ddl) == (5, 5, [])


def _reference_row(table: TablePlan, scalars: dict) -> dict:
    """What a row holds, decided value by value (the populator decides per layout)."""
    out = {}
    for path, value in scalars.items():
        spec = table.columns.get(path)
        if spec is None or spec.is_overflow:
            continue
        if path in table.converted_paths:
            out[spec.name] = to_sql_value(value, sd.TEXT)
        elif table.effective_type(spec) in (sd.INTEGER, sd.REAL):
            out[spec.name] = None if value == "" else value
        else:
            out[spec.name] = value
    return out


@pytest.mark.parametrize(
    "records",
    [
        # one numeric column (a picker of one position), "" and a number
        [{"id": "1", "rate": 1.5}, {"id": "2", "rate": ""}, {"id": "3", "rate": 7}],
        # no numeric column at all: the picked values are the row as they are
        [{"id": "1", "name": "a"}, {"id": "2", "name": ""}],
        # one column only
        [{"id": "1"}, {"id": "2"}],
        # several numeric columns, "" in some; text "" kept as ""
        [
            {"id": "1", "a": 1, "b": 2.5, "c": 3, "note": ""},
            {"id": "2", "a": "", "b": 2.5, "c": "", "note": ""},
            {"id": "3", "a": 4, "b": "", "c": 5, "note": "x"},
        ],
        # arrays as JSON text: empty, not empty, and what else such a column then meets
        [
            {"id": "1", "tags": ["a"], "n": 1},
            {"id": "2", "tags": [], "n": ""},
            {"id": "3", "tags": None, "n": 2},
            {"id": "4", "tags": "plain", "n": 3},
            {"id": "5", "tags": True, "n": 4},
            {"id": "6", "tags": 2**70, "n": 5},
            {"id": "7", "tags": [{"k": 2**70}], "n": 6},
            {"id": "8", "tags": "", "n": 7},
        ],
    ],
    ids=["one-numeric", "no-numeric", "one-column", "many-numeric", "converted"],
)
def test_layout_values_match_a_value_by_value_decision(records: list[dict]) -> None:
    plan = EntityPlan.new("items", "id")
    flat = []
    for record in records:
        scalars, arrays = flatten(record, split_children=True)
        plan.observe_flat(scalars, arrays)
        flat.append(scalars)
    plan.main.resolve_types_for_new()
    for scalars in flat:
        layout = row_layout(plan.main, scalars)
        values = layout.values(scalars)
        assert len(values) == len(layout.columns)
        assert dict(zip(layout.columns, values)) == _reference_row(plan.main, scalars)


def test_children_of_alternating_key_sets_land_in_their_columns(tmp_path: Path) -> None:
    # The writer keeps the last key set's layout: elements that alternate between key
    # sets (and orders) must still each get their own layout.
    when = "2026-06-10_10-00-00"
    folder = tmp_path / "sessions" / f"sync_session_{when}" / "raw_json" / when
    folder.mkdir(parents=True)
    lines = [
        {"line_item_id": "L1", "rate": 1.5, "name": "a"},
        {"line_item_id": "L2", "name": "b", "rate": ""},
        {"line_item_id": "L3", "rate": 2, "name": "c", "tags": ["x"]},
        {"rate": 3, "line_item_id": "L4"},
        {"line_item_id": "L5", "rate": "", "name": "e", "tags": []},
    ]
    invoices = [
        {"invoice_id": "1", "line_items": lines[:3]},
        {"invoice_id": "2", "line_items": lines[3:]},
    ]
    (folder / "invoices.json").write_text(json.dumps({"invoices": invoices}))
    db = tmp_path / "out.db"
    result = JSON2DBSyncRunner(db_path=str(db), data_source=str(tmp_path / "sessions")).populate_tables(
        cutoff_days=36500
    )
    assert result["success"], result["error"]
    with sqlite3.connect(db) as conn:
        stored = conn.execute(
            "SELECT parent_id, position, id, line_item_id, rate, name, tags FROM json_invoices_line_items ORDER BY id"
        ).fetchall()
    assert stored == [
        ("1", 0, "L1", "L1", 1.5, "a", None),
        ("1", 1, "L2", "L2", None, "b", None),
        ("1", 2, "L3", "L3", 2.0, "c", '["x"]'),
        ("2", 0, "L4", "L4", 3.0, None, None),
        ("2", 1, "L5", "L5", None, "e", "[]"),
    ]
