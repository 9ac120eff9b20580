"""The analyzer's pure rules: names, ids, times, the type lattice, flattening, plans."""

from __future__ import annotations

import pytest

from json2db_sync import sql_dialect as sd
from json2db_sync.json_analyzer import (
    EntityPlan,
    analyze_records,
    choose_id_field,
    describe_plan,
    flatten,
    id_field_candidates,
    normalize_id,
    normalize_key,
    sql_type_for,
    to_utc_text,
    value_kind,
)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("invoice_id", "invoice_id"),
        ("Name", "name"),
        ("customerName", "customer_name"),
        ("a__b", "a_b"),
        ("with space", "with_space"),
        ('quote"d', "quote_d"),
        ("semi;colon", "semi_colon"),
        ("dot.ted", "dot_ted"),
        ("123abc", "_123abc"),
        ("", "_empty"),
        ("___", "_empty"),
        ("größe", "größe"),
        ("select", "select"),
    ],
    ids=lambda v: repr(v),
)
def test_normalize_key(key: str, expected: str) -> None:
    assert normalize_key(key) == expected


@pytest.mark.parametrize(
    ("entity", "expected"),
    [
        ("invoices", "invoice_id"),
        ("salesorders", "salesorder_id"),
        ("creditnotes", "creditnote_id"),
        ("customerpayments", "payment_id"),
        ("vendorpayments", "payment_id"),
        ("chartofaccounts", "account_id"),
        ("bankaccounts", "account_id"),
        ("organizations", "organization_id"),
        ("widgets", "widget_id"),
        ("categories", "category_id"),
    ],
)
def test_id_field_per_entity(entity: str, expected: str) -> None:
    assert id_field_candidates(entity)[0] == expected


def test_id_field_override_and_fallback_to_id() -> None:
    assert id_field_candidates("invoices", {"invoices": "number"}) == ["number"]
    assert choose_id_field("widgets", [{"id": 1, "name": "x"}]) == "id"
    assert choose_id_field("widgets", [{"widget_id": "7"}]) == "widget_id"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(123, "123"), ("123", "123"), (" 42 ", "42"), (12.0, "12"), (12.5, None), ("", None), (None, None), (True, None), ({}, None)],
    ids=repr,
)
def test_ids_are_text(value: object, expected: str | None) -> None:
    assert normalize_id(value) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-06-09T16:48:58-0400", "2026-06-09 20:48:58"),
        ("2024-12-24T10:00:00+0530", "2024-12-24 04:30:00"),
        ("2024-12-24T10:00:00+05:30", "2024-12-24 04:30:00"),
        ("2026-09-04T00:00:00.000Z", "2026-09-04 00:00:00"),
        ("2026-01-02 03:04:05", "2026-01-02 03:04:05"),
        ("2026-06-09", "2026-06-09 00:00:00"),
        ("", None),
        (None, None),
        ("yesterday", None),
        ("2026-13-45T00:00:00+0000", None),
    ],
    ids=repr,
)
def test_zoho_times_become_utc(raw: object, expected: str | None) -> None:
    assert to_utc_text(raw) == expected


def test_usual_timestamps_take_a_shortcut_with_the_same_answers() -> None:
    """Whole-hour offsets reuse one conversion per (hour, offset): across day, month,
    year and leap-day boundaries and invalid parts, the answer is the general path's,
    whether the hour was seen before or not."""
    from json2db_sync.json_analyzer import _general_to_utc_text

    values = [
        f"{day}T{hour}:{minute}:{second}{offset}"
        for day in ("2026-12-31", "2027-01-01", "2024-02-28", "2024-02-29", "2026-02-29", "2026-13-01")
        for hour in ("00", "03", "23", "24")
        for minute in ("00", "59", "60")
        for second in ("07", "61")
        for offset in ("+0000", "-0400", "+1400", "-1200", "+0530", "+2400", "-0000")
    ]
    values += ["2026-06-09T16:48:58-0400 ", "２026-06-09T16:48:58-0400", "2026-06-09T16:48:58"]
    for _round in range(2):  # the second round answers from the cache
        for value in values:
            assert to_utc_text(value) == _general_to_utc_text(value), value
    assert to_utc_text("2026-12-31T23:59:07-0400") == "2027-01-01 03:59:07"
    # beyond the calendar in UTC: unparseable, not a crash
    assert to_utc_text("9999-12-31T23:00:00-0200") is None
    assert to_utc_text("0001-01-01T00:00:00+0100") is None
    assert to_utc_text("9999-12-31T21:00:00-0200") == "9999-12-31 23:00:00"
    # hour 24 never takes the shortcut (Python 3.14 reads T24:00:00 as the next midnight)
    assert to_utc_text("2026-01-01T24:30:00+0000") is None
    assert to_utc_text("2024-02-29T01:00:00+0400") == "2024-02-28 21:00:00"


# The type lattice of DESIGN.md, one row per rule.
@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([True, False], sd.INTEGER),
        ([1, 2], sd.INTEGER),
        ([1, 2.5], sd.REAL),
        ([2.5], sd.REAL),
        (["a"], sd.TEXT),
        ([1, "a"], sd.TEXT),
        ([1.5, "a"], sd.TEXT),
        ([None, ""], sd.UNTYPED),
        ([None, "", 3], sd.INTEGER),
        (["", 2.5], sd.REAL),
        ([2**70], sd.TEXT),
        ([[1, 2]], sd.TEXT),
    ],
    ids=repr,
)
def test_type_lattice(values: list[object], expected: str) -> None:
    kinds = [k for k in (value_kind(v if not isinstance(v, list) else "json") for v in values) if k]
    assert sql_type_for(kinds) == expected


def test_flatten_nested_objects_and_arrays() -> None:
    record = {
        "invoice_id": "1",
        "billing_address": {"city": "NYC", "geo": {"lat": 1.5}},
        "tags": ["a", "b"],
        "line_items": [{"line_item_id": "L1"}],
        "empty": {},
    }
    scalars, arrays = flatten(record, split_children=True)
    assert scalars == {
        ("invoice_id",): "1",
        ("billing_address", "city"): "NYC",
        ("billing_address", "geo", "lat"): 1.5,
    }
    assert arrays == {"tags": ["a", "b"], "line_items": [{"line_item_id": "L1"}]}


def _flatten_by_hand(record: dict, split: bool, prefix: tuple = ()) -> tuple[dict, dict]:
    """The rule flatten implements, written the plain way, to compare with its cached steps."""
    scalars: dict = {}
    arrays: dict = {}
    for key, value in record.items():
        if type(value) is dict:
            if value:
                scalars.update(_flatten_by_hand(value, False, (*prefix, key))[0])
        elif type(value) is list and split:
            arrays[key] = value
        else:
            scalars[(*prefix, key)] = value
    return scalars, arrays


def test_flatten_matches_the_plain_rule_for_every_shape() -> None:
    """flatten plans its work per shape (keys and value types) from the second sighting
    on: records that share the keys but not the types, the same object under two prefixes,
    and keys in another order must each flatten by the plain rule, first seen or not, with
    the paths in the record's order."""
    records = [
        {"id": "1", "a": {"b": 1, "c": [1]}, "d": [{"x": 1}], "e": 2},
        {"id": "2", "a": "", "d": "", "e": 2},
        {"id": "3", "a": {}, "d": [], "e": None},
        {"id": "4", "a": {"b": {"c": {"d": True}}}, "d": [{"x": 1}], "e": {"b": 1, "c": [1]}},
        {"e": 2, "id": "5", "d": [1], "a": {"c": [1], "b": 1}},
        {"id": "6", "a": {"b": 1, "c": [1]}, "d": [{"x": 1}], "e": 2},
    ]
    from json2db_sync import json_analyzer

    json_analyzer._FLATTEN_STEPS.clear()  # so that the first round meets every shape afresh
    for split in (True, False):
        for record in records * 3:  # met once (key by key), twice (planned), then planned
            scalars, arrays = flatten(record, split_children=split)
            expected_scalars, expected_arrays = _flatten_by_hand(record, split)
            assert scalars == expected_scalars
            assert list(scalars) == list(expected_scalars)
            assert arrays == expected_arrays


def test_plan_columns_children_and_reserved_names() -> None:
    records = [
        {
            "invoice_id": "1",
            "id": "dup",
            "created_at": "2026-01-01",
            "total": 10,
            "billing_address": {"city": "NYC"},
            "tags": ["x"],
            "line_items": [{"line_item_id": "L1", "rate": 2, "parent_id": "p", "position": 3}],
            "documents": "",
        },
        {"invoice_id": "2", "total": 10.5, "Total": 1, "documents": [{"document_id": "d"}]},
    ]
    plan = analyze_records("invoices", [records])
    described = describe_plan(plan)
    assert described["id_field"] == "invoice_id"
    assert described["record_count"] == 2
    assert described["columns"] == {
        "invoice_id": "TEXT",
        "id_orig": "TEXT",
        "created_at_orig": "TEXT",
        "total": "REAL",
        "billing_address__city": "TEXT",
        "tags": "TEXT",
        "total_2": "INTEGER",
    }
    assert described["child_tables"] == {
        "json_invoices_line_items": {
            "field": "line_items",
            "columns": {"line_item_id": "TEXT", "rate": "INTEGER", "parent_id_orig": "TEXT", "position_orig": "INTEGER"},
        },
        "json_invoices_documents": {"field": "documents", "columns": {"document_id": "TEXT"}},
    }


def test_empty_string_where_object_expected_is_absent() -> None:
    plan = EntityPlan.new("bills", "bill_id")
    plan.observe_record({"bill_id": "1", "billing_address": {"city": "X"}})
    plan.observe_record({"bill_id": "2", "billing_address": ""})
    assert [spec.name for spec in plan.main.columns.values()] == ["bill_id", "billing_address__city"]


def test_array_classification_is_sticky() -> None:
    plan = EntityPlan.new("invoices", "invoice_id")
    plan.observe_record({"invoice_id": "1", "tags": ["a"], "line_items": [{"x": 1}]})
    assert plan.classify_array("line_items", []) == "child"
    assert plan.classify_array("line_items", "") == "absent"
    assert plan.classify_array("tags", [{"x": 1}]) == "json"
    assert plan.classify_array("unknown", []) == "absent"


def test_records_without_id_are_counted() -> None:
    plan = analyze_records("invoices", [[{"invoice_id": "1"}, {"invoice_id": ""}, {"total": 3}]])
    assert (plan.record_count, plan.missing_id_count) == (3, 2)


def test_column_limit_overflows_into_json_column() -> None:
    plan = EntityPlan.new("wide", "wide_id")
    plan.main.max_data_columns = 5
    plan.observe_record({"wide_id": "1", **{f"f{i}": i for i in range(10)}})
    names = [spec.name for spec in plan.main.columns.values()]
    assert names[:5] == ["wide_id", "f0", "f1", "f2", "f3"]
    assert set(names[5:]) == {sd.OVERFLOW_COLUMN}
    assert plan.main.overflowing()
