"""The populator's row building: values SQLite stores exactly as the books say."""

from __future__ import annotations

import json

import pytest

from json2db_sync import sql_dialect as sd
from json2db_sync.data_populator import dumps_json, row_layout, to_sql_value
from json2db_sync.json_analyzer import EntityPlan, flatten
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
