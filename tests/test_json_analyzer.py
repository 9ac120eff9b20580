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


def test_record_times_convert_one_text_once_with_the_same_answers() -> None:
    """record_times converts a record's created and modified times once when they are one
    text; every combination gives what converting each field on its own gives."""
    from json2db_sync.json_analyzer import record_times

    texts = ["2026-06-09T16:48:58-0400", "2026-06-10T01:00:00+0530", "", None, "yesterday", 5]
    fallback = "2026-01-01 00:00:00"
    for created in texts:
        for modified in texts:
            for updated in (None, "2026-06-11T00:00:00Z"):
                record = {"created_time": created, "last_modified_time": modified, "updated_time": updated}
                expected = (
                    to_utc_text(created) or fallback,
                    to_utc_text(modified) or to_utc_text(updated) or fallback,
                )
                assert record_times(record, fallback) == expected, record
    # the same text in two records (two files) answers the same each time
    first = record_times({"created_time": "2026-12-31T23:59:07-0400"}, None)
    assert first == record_times({"created_time": "2026-12-31T23:59:07-0400"}, None) == ("2027-01-01 03:59:07", None)


def test_flat_shapes_name_paths_and_types() -> None:
    """flatten_shaped: no shape the first time an object shape is met; from then on records
    with the same flat shape have the same paths and value types, and a nested object that
    is empty in one record and not in another gives another shape."""
    from json2db_sync import json_analyzer
    from json2db_sync.json_analyzer import flatten_shaped

    json_analyzer._FLATTEN_STEPS.clear()
    first = {"id": "1", "a": {"b": 1}, "n": 2}
    assert flatten_shaped(first, split_children=False)[2] is None
    shape = flatten_shaped(first, split_children=False)[2]
    assert shape is not None
    same = flatten_shaped({"id": "7", "a": {"b": 5}, "n": 0}, split_children=False)
    assert same[2] == shape and list(same[0]) == [("id",), ("a", "b"), ("n",)]
    flatten_shaped({"id": "1", "a": {}, "n": 2}, split_children=False)
    empty_a = flatten_shaped({"id": "1", "a": {}, "n": 2}, split_children=False)[2]
    assert empty_a is not None and empty_a != shape
    flatten_shaped({"id": "1", "a": {"b": 1.5}, "n": 2}, split_children=False)
    other_type = flatten_shaped({"id": "1", "a": {"b": 1.5}, "n": 2}, split_children=False)[2]
    assert other_type is not None and other_type != shape


@pytest.mark.parametrize("seed", range(4))
def test_flat_records_are_the_flattened_dicts(seed: int) -> None:
    """flatten_flat gives what flatten gives (paths in the same order, the same values and
    arrays) for records met the first time and after, nested objects that are empty or
    missing, values that change type; and records of one flat shape share one paths tuple,
    which is what the writer keys its layouts on."""
    from json2db_sync import json_analyzer
    from json2db_sync.json_analyzer import Flat, flatten_flat

    json_analyzer._FLATTEN_STEPS.clear()
    records = _random_records(seed, 300, big=True)
    records += [{"invoice_id": "x", "a": {"b": {"c": {}}, "d": [1, {"e": 2}]}, "n": 1}] * 3
    by_shape: dict = {}
    for split in (True, False):
        for record in records:
            flat, arrays, shape = flatten_flat(record, split_children=split)
            scalars, expected_arrays = flatten(record, split_children=split)
            assert isinstance(flat, Flat)
            assert list(flat.paths) == list(scalars) and flat.raw == list(scalars.values())
            assert flat == scalars and dict(flat) == scalars and arrays == expected_arrays
            if shape is not None:
                assert by_shape.setdefault(shape, flat.paths) is flat.paths


def test_flatten_and_observe_shares_the_main_paths_per_shape() -> None:
    """The main table's paths of records with one flat shape (child-table fields taken out,
    JSON-text arrays at the end) are one tuple, and the values follow them."""
    from json2db_sync import json_analyzer

    json_analyzer._FLATTEN_STEPS.clear()
    plan = EntityPlan.new("invoices", "invoice_id")
    results = [
        plan.flatten_and_observe(
            {"invoice_id": str(n), "line_items": [{"q": n}], "tags": ["t"], "total": n, "notes": ""}
        )
        for n in range(4)
    ]
    results += [plan.flatten_and_observe({"invoice_id": "9", "line_items": "", "tags": ["t"], "total": 9, "notes": ""})] * 2
    assert results[2][0].paths is results[3][0].paths
    assert list(results[3][0].paths) == [("invoice_id",), ("total",), ("notes",), ("tags",)]
    assert results[3][0].raw == ["3", 3, "", ["t"]]
    assert results[3][1]["line_items"][0][1] == {("q",): 3}
    # Zoho's "" for an empty child array leaves the main table's paths
    assert dict(results[-1][0]) == {("invoice_id",): "9", ("total",): 9, ("notes",): "", ("tags",): ["t"]}


def _plan_state(plan: EntityPlan) -> dict:
    """Everything a vote decides, per table."""
    return {
        table.name: (
            [(path, spec.name, spec.sql_type, spec.is_overflow) for path, spec in table.columns.items()],
            {path: sorted(kinds) for path, kinds in table.kinds.items()},
            sorted(table.object_prefixes),
            sorted(table.converted_paths),
            dict(table.exact_number_paths),
            sorted(table.conflict_paths),
            list(table.new_conflicts),
            sorted(table.pending_widen),
            sorted(table.pending_null_fixups),
        )
        for table in plan.tables()
    } | {"json_array_fields": sorted(plan.json_array_fields)}


def _random_records(seed: int, count: int, *, big: bool) -> list[dict]:
    """Records of few shapes whose values change type now and then (the cases the shape
    vote must not miss): "" then text, whole numbers then fractions, text in a numeric
    column, integers beyond 64 bits (``big``), exact decimals, arrays, objects turning up
    where "" was."""
    import random
    from decimal import Decimal

    rng = random.Random(seed)
    scalars = [None, "", "", "x", 1, 2, 0, 1.5, True, False]
    if big:
        scalars += [2**70, -(2**64), Decimal("0.1000000000000000055511151231257827")]

    def value(common: object) -> object:
        return common if rng.random() < 0.9 else rng.choice(scalars)

    records = []
    for number in range(count):
        item = {"line_item_id": str(rng.randrange(5)), "rate": value(3), "name": value(""), "code": value({})}
        if rng.random() < 0.05:
            item["code"] = {"sku": value("s")}
        elements = [dict(item) for _ in range(rng.randrange(3))]
        if rng.random() < 0.05:
            elements.append(rng.choice(["plain", 7, None]))
        records.append(
            {
                "invoice_id": str(number),
                "total": value(10),
                "note": value(""),
                "address": value({"city": value("c"), "zip": value(1)}) if rng.random() < 0.7 else "",
                "tags": value(["a"]) if rng.random() < 0.8 else [],
                "line_items": elements if rng.random() < 0.9 else value(""),
                "documents": "" if rng.random() < 0.8 else [{"document_id": value("d")}],
            }
        )
    return records


@pytest.mark.parametrize("check_ints", [True, False])
@pytest.mark.parametrize("seed", range(6))
def test_shape_vote_gives_the_plan_of_a_vote_per_value(
    seed: int, check_ints: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Voting once per shape (and re-checking only strings and, with check_ints, integers)
    must decide what voting every value decides: columns and their order, types, widening
    INTEGER to REAL, TEXT for mixed, exact numbers kept as text, conflicts with declared
    types (the columns are marked as created half-way, as the populator's batches do),
    through every public way of voting a record. Without check_ints the reader promises no
    integer beyond 64 bits, so none is generated then."""
    from json2db_sync import json_analyzer
    from json2db_sync.json_analyzer import TablePlan

    records = _random_records(seed, 400, big=check_ints)

    def vote_all(how: str) -> tuple[dict, list]:
        json_analyzer._FLATTEN_STEPS.clear()
        plan = EntityPlan.new("invoices", "invoice_id")
        results = []
        for number, record in enumerate(records):
            if number == len(records) // 2:
                for table in plan.tables():  # what apply_plan does after a batch
                    table.resolve_types_for_new()
                    table.existing_columns |= {spec.name.lower() for spec in table.columns.values()}
            if how == "observe_record":
                plan.observe_record(record)
            elif how == "flatten_and_observe":
                results.append(plan.flatten_and_observe(record, check_ints=check_ints))
            else:
                scalars, arrays = flatten(record, split_children=True)
                results.append((scalars, plan.observe_flat(scalars, arrays, check_ints=check_ints)))
        return _plan_state(plan), results

    with monkeypatch.context() as patched:  # the reference: every value votes
        patched.setattr(TablePlan, "vote", lambda self, shape, scalars, *, check_ints=True: self._observe_values(scalars))
        expected_state, expected_results = vote_all("flatten_and_observe")
        expected_by_record_state, _ = vote_all("observe_record")
    assert vote_all("flatten_and_observe") == (expected_state, expected_results)
    assert vote_all("observe_flat") == (expected_state, expected_results)
    if check_ints:
        assert vote_all("observe_record")[0] == expected_by_record_state


def test_a_decided_column_still_changes_type_mid_file() -> None:
    """Once a shape is voted, a later record of the same shape (same paths, same value
    types) still votes what is new: text where only "" was, an integer beyond 64 bits (with
    check_ints), a whole number after only such integers; and another type at a decided
    path (a fraction in an INTEGER column, text in a REAL one) is a new shape, voted in
    full: widened, or a conflict once the column exists."""
    plan = EntityPlan.new("invoices", "invoice_id")
    main = plan.main
    for _ in range(3):  # the shape is met, planned, then voted by its flat shape
        plan.flatten_and_observe({"invoice_id": "1", "note": "", "n": 1, "rate": 2, "line_items": [{"q": 1}]})
    assert sorted(main.kinds[("note",)]) == []
    plan.flatten_and_observe({"invoice_id": "2", "note": "now text", "n": 1, "rate": 2, "line_items": [{"q": 1}]})
    assert main.kinds[("note",)] == {"text"}
    plan.flatten_and_observe({"invoice_id": "3", "note": "", "n": 2**70, "rate": 2, "line_items": [{"q": 2**64}]})
    assert main.kinds[("n",)] == {"int", "text"} and ("n",) in main.exact_number_paths
    child = plan.children["line_items"]
    assert child.kinds[("q",)] == {"int", "text"} and child.exact_number_paths == {("q",): 2**64}
    for table in plan.tables():
        table.resolve_types_for_new()
        table.existing_columns |= {spec.name.lower() for spec in table.columns.values()}
    assert main.columns[("rate",)].sql_type == sd.INTEGER
    plan.flatten_and_observe({"invoice_id": "4", "note": "", "n": 1, "rate": 2.5, "line_items": []})
    assert main.pending_widen == {("rate",)}
    plan.flatten_and_observe({"invoice_id": "5", "note": "", "n": 1, "rate": "n/a", "line_items": []})
    assert main.new_conflicts == ["rate"]

    only_big = EntityPlan.new("things", "thing_id")
    for number in range(3):
        only_big.flatten_and_observe({"thing_id": str(number), "n": 2**70 + number})
    assert only_big.main.kinds[("n",)] == {"text"}
    only_big.flatten_and_observe({"thing_id": "9", "n": 5})
    assert only_big.main.kinds[("n",)] == {"int", "text"}


def test_a_records_shape_counts_the_arrays_kept_as_json_and_the_child_fields_left() -> None:
    """The same flat shape can leave observe_flat with other paths: an array that turns out
    to be JSON text joins the record (an empty one before did not), and a field that became
    a child table leaves it ("" there: absent). Each is voted as the record it became."""
    plan = EntityPlan.new("invoices", "invoice_id")
    for _ in range(3):
        plan.flatten_and_observe({"invoice_id": "1", "tags": [], "note": ""})
    plan.flatten_and_observe({"invoice_id": "2", "tags": ["a"], "note": ""})
    assert [spec.name for spec in plan.main.columns.values()] == ["invoice_id", "note", "tags"]

    plan = EntityPlan.new("invoices", "invoice_id")
    for _ in range(3):
        plan.flatten_and_observe({"invoice_id": "1", "line_items": "", "note": ""})
    plan.main.existing_columns |= {spec.name.lower() for spec in plan.main.columns.values()}
    plan.flatten_and_observe({"invoice_id": "2", "line_items": [{"x": 1}], "note": ""})
    scalars, _ = plan.flatten_and_observe({"invoice_id": "3", "line_items": "", "note": "text"})
    assert list(scalars) == [("invoice_id",), ("note",)]
    assert plan.main.kinds[("note",)] == {"text"}
