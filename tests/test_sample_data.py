"""sample_data: session trees shaped like api_sync's, numbers that add up, references that resolve.

One small data set (40 invoices, 3 days) is generated once per module into tmp and read by
most tests; the tests that need their own output write into tmp_path.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from json2db_sync.progress import ProgressEvent
from json2db_sync.sample_data import (
    BUILDERS,
    DOCUMENT_ENTITIES,
    ID_FIELDS,
    SAMPLE_ENTITIES,
    SAMPLE_MARKER,
    entity_counts,
    generate_sample_data,
)

NOW = datetime(2026, 6, 9, 17, 0, 0)
ZOHO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
STAMP = r"\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}"
DATA_PATH = re.compile(rf"^sync_session_({STAMP})/raw_json/({STAMP})/([a-z]+)\.json$")
METADATA_PATH = re.compile(rf"^sync_session_({STAMP})/sync_metadata_([a-z]+)\.json$")
CUSTOMER_DOCS = ("invoices", "salesorders", "creditnotes")
VENDOR_DOCS = ("bills", "purchaseorders")


def _approx(value: Any) -> float:
    return round(float(value), 2)


def _records_of(content: Any, entity: str) -> list[dict[str, Any]]:
    return content if isinstance(content, list) else content[entity]


def _load(root: Path) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """entity -> [(session position, record)], sessions oldest first, files in folder order."""
    sessions = sorted(p.name for p in root.iterdir() if p.name != SAMPLE_MARKER)
    loaded: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for path in sorted(root.glob("sync_session_*/raw_json/*/*.json")):
        position = sessions.index(path.parts[len(root.parts)])
        entity = path.stem
        for record in _records_of(json.loads(path.read_text()), entity):
            loaded[entity].append((position, record))
    return loaded


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("sessions")
    summary = generate_sample_data(root, days=3, seed=7, now=NOW, invoices=40)
    return root, summary


@pytest.fixture(scope="module")
def records(sample: tuple[Path, dict[str, Any]]) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    return _load(sample[0])


@pytest.fixture(scope="module")
def latest(records: dict[str, list[tuple[int, dict[str, Any]]]]) -> dict[str, dict[str, dict[str, Any]]]:
    """entity -> id -> the newest detail-form record (what a loader ends up with for detail fields)."""
    result: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for entity, rows in records.items():
        for _, record in rows:
            if entity not in DOCUMENT_ENTITIES or "line_items" in record:
                result[entity][record[ID_FIELDS[entity]]] = record
    return result


def _details(records: dict[str, list[tuple[int, dict[str, Any]]]], entity: str) -> list[dict[str, Any]]:
    return [record for _, record in records[entity] if "line_items" in record]


# ----------------------------------------------------------------------------- determinism


def test_same_seed_and_now_give_byte_identical_trees(tmp_path: Path) -> None:
    first = generate_sample_data(tmp_path / "a", seed=3, now=NOW, invoices=12)
    second = generate_sample_data(tmp_path / "b", seed=3, now=NOW, invoices=12)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.json"))
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.json"))
    assert files_a == files_b
    assert [(tmp_path / "a" / f).read_bytes() for f in files_a] == [(tmp_path / "b" / f).read_bytes() for f in files_b]
    assert {k: v for k, v in first.items() if k != "out_dir"} == {k: v for k, v in second.items() if k != "out_dir"}


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    generate_sample_data(tmp_path / "a", seed=1, now=NOW, invoices=12)
    generate_sample_data(tmp_path / "b", seed=2, now=NOW, invoices=12)
    invoices_a = sorted((tmp_path / "a").rglob("invoices.json"))[0].read_bytes()
    invoices_b = sorted((tmp_path / "b").rglob("invoices.json"))[0].read_bytes()
    assert invoices_a != invoices_b


# The exact bytes, summary and progress events of three small trees, pinned from the code as it
# was before sample_data was split into per-entity builders (issue 22): a restructuring must not
# change one byte. Aware ``now`` values keep the digests independent of the machine's time zone.
PINNED_TREES = {
    "three-days-new-york": (
        {"days": 3, "seed": 7, "invoices": 40, "now": datetime(2026, 6, 9, 17, 0, 0, tzinfo=timezone(timedelta(hours=-4)))},
        "d51e2cc345428806cf760eff667f82ea9ca4d1ac030165b55da669eabe088cce",
    ),
    "four-a-day-kolkata-subset": (
        {"days": 2, "seed": 11, "invoices": 9, "sessions_per_day": 4,
         "entities": ["invoices", "customerpayments", "items", "organizations"],
         "now": datetime(2026, 1, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=5, minutes=30)))},
        "186141bdedc302eb4a8d9b63bdc1391aaa8037d3a7495968326722c0fa9582f4",
    ),
    "many-sessions-utc": (  # 288 sessions: more than one group of open files per entity
        {"days": 2, "seed": 2**70 + 5, "invoices": 3, "sessions_per_day": 144,
         "now": datetime(2026, 3, 1, 0, 30, tzinfo=UTC)},
        "cd5beb8c3e5ac1eb9ee335b7d2ea40d057d8ab836f3724984a1ae2baad5dd995",
    ),
}


def _tree_digest(root: Path, summary: dict[str, Any], events: list[ProgressEvent]) -> str:
    """sha256 over every file (path and bytes, marker included), the summary and the events."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(json.dumps({k: v for k, v in summary.items() if k != "out_dir"}, sort_keys=True).encode())
    digest.update(repr([(e.step, e.current, e.total, e.detail) for e in events]).encode())
    return digest.hexdigest()


@pytest.mark.parametrize("case", list(PINNED_TREES), ids=list(PINNED_TREES))
def test_generated_trees_match_their_pinned_digest(tmp_path: Path, case: str) -> None:
    kwargs, expected = PINNED_TREES[case]
    events: list[ProgressEvent] = []
    summary = generate_sample_data(tmp_path / "s", progress=events.append, **kwargs)
    assert _tree_digest(tmp_path / "s", summary, events) == expected


def test_every_entity_but_the_organization_has_one_builder() -> None:
    """The builder table covers the entities exactly (the organization is one record a session)."""
    assert sorted(BUILDERS) == sorted(set(SAMPLE_ENTITIES) - {"organizations"})


# ----------------------------------------------------------------------------- layout


def test_tree_is_sessions_of_timestamp_folders_and_metadata(sample: tuple[Path, dict[str, Any]]) -> None:
    root, summary = sample
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name != SAMPLE_MARKER)
    data = [f for f in files if DATA_PATH.match(f)]
    metadata = [f for f in files if METADATA_PATH.match(f)]
    assert sorted(data + metadata) == files, "every file is a data file or a metadata file"
    assert sorted(summary["data_files"]) == data
    assert sorted(summary["metadata_files"]) == metadata
    assert summary["files_written"] == len(files)
    assert [p.name for p in sorted(root.iterdir()) if p.name != SAMPLE_MARKER] == summary["sessions"]
    for session in summary["sessions"]:
        entities = sorted(m[3] for f in data if (m := DATA_PATH.match(f)) and f.startswith(session))
        assert entities == sorted(SAMPLE_ENTITIES), session
        assert sorted(p.name for p in (root / session).glob("sync_metadata_*.json")) == sorted(
            f"sync_metadata_{e}.json" for e in SAMPLE_ENTITIES
        )


def test_timestamp_folders_start_at_the_session_time_and_some_sessions_have_two(
    sample: tuple[Path, dict[str, Any]],
) -> None:
    root, summary = sample
    folder_counts = []
    for session in summary["sessions"]:
        stamps = sorted(p.name for p in (root / session / "raw_json").iterdir())
        assert stamps[0] == session.removeprefix("sync_session_")
        folder_counts.append(len(stamps))
    assert folder_counts == [1, 2, 1]


def test_metadata_describes_its_data_file(sample: tuple[Path, dict[str, Any]]) -> None:
    root, summary = sample
    for relative in summary["metadata_files"]:
        path = root / relative
        metadata = json.loads(path.read_text())
        entity = metadata["entity"]
        data_file = path.parent / metadata["data_file"]
        count = len(_records_of(json.loads(data_file.read_text()), entity))
        assert (metadata["status"], metadata["record_count"], path.name) == (
            "success", count, f"sync_metadata_{entity}.json"
        )
        assert datetime.fromisoformat(metadata["started"]) <= datetime.fromisoformat(metadata["finished"])
        assert not any(isinstance(value, list) and value and isinstance(value[0], dict) for value in metadata.values())


def test_every_data_file_is_an_array_or_a_list_envelope_and_both_occur(sample: tuple[Path, dict[str, Any]]) -> None:
    root, summary = sample
    shapes = set()
    for relative in summary["data_files"]:
        content = json.loads((root / relative).read_text())
        entity = Path(relative).stem
        if isinstance(content, list):
            shapes.add("array")
        else:
            assert (content["code"], content["message"], type(content[entity])) == (0, "success", list)
            assert content["page_context"]["page"] == 1 and content["page_context"]["has_more_page"] is False
            shapes.add("envelope")
        assert all(isinstance(record, dict) for record in _records_of(content, entity))
    assert shapes == {"array", "envelope"}


def test_sessions_fall_within_days_of_now_and_the_newest_is_fresh(tmp_path: Path) -> None:
    summary = generate_sample_data(tmp_path, days=2, sessions_per_day=4, now=NOW, invoices=8)
    times = [datetime.strptime(name.removeprefix("sync_session_"), "%Y-%m-%d_%H-%M-%S") for name in summary["sessions"]]
    assert len(times) == 8
    assert times == sorted(set(times))
    assert all(NOW - timedelta(days=2) < t < NOW for t in times)
    assert NOW - times[-1] <= timedelta(hours=2)


def test_default_now_is_the_current_local_time(tmp_path: Path) -> None:
    before = datetime.now().replace(microsecond=0)
    summary = generate_sample_data(tmp_path, invoices=3)
    newest = datetime.strptime(summary["sessions"][-1].removeprefix("sync_session_"), "%Y-%m-%d_%H-%M-%S")
    oldest = datetime.strptime(summary["sessions"][0].removeprefix("sync_session_"), "%Y-%m-%d_%H-%M-%S")
    assert before - timedelta(hours=2) <= newest <= datetime.now()
    assert oldest >= before - timedelta(days=3)


def test_records_never_change_after_their_session_was_written(
    sample: tuple[Path, dict[str, Any]], records: dict[str, list[tuple[int, dict[str, Any]]]]
) -> None:
    root, summary = sample
    times = [datetime.strptime(name.removeprefix("sync_session_"), "%Y-%m-%d_%H-%M-%S") for name in summary["sessions"]]
    for entity, rows in records.items():
        for position, record in rows:
            for field in ("created_time", "last_modified_time", "updated_time"):
                if field in record:
                    assert datetime.strptime(record[field][:19], "%Y-%m-%dT%H:%M:%S") <= times[position], (entity, field)


# ----------------------------------------------------------------------------- counts


def test_summary_counts_match_the_files(
    sample: tuple[Path, dict[str, Any]], records: dict[str, list[tuple[int, dict[str, Any]]]]
) -> None:
    _, summary = sample
    assert summary["records"] == {entity: len(records[entity]) for entity in SAMPLE_ENTITIES}
    distinct = {entity: len({r[ID_FIELDS[entity]] for _, r in records[entity]}) for entity in SAMPLE_ENTITIES}
    assert summary["distinct_ids"] == distinct == entity_counts(40)
    assert summary["total_records"] == sum(summary["records"].values())
    json.dumps(summary)


@pytest.mark.parametrize(
    ("invoices", "expected"),
    [
        (40, {"contacts": 5, "items": 5, "invoices": 40, "bills": 20, "salesorders": 10, "creditnotes": 4,
              "customerpayments": 20, "vendorpayments": 10}),
        (1000, {"contacts": 100, "items": 50, "invoices": 1000, "bills": 500, "salesorders": 250, "creditnotes": 100,
                "customerpayments": 500, "vendorpayments": 250}),
        (1, {"contacts": 5, "items": 5, "invoices": 1, "bills": 1, "salesorders": 1, "creditnotes": 1,
             "customerpayments": 1, "vendorpayments": 1}),
    ],
    ids=["default", "thousand", "one"],
)
def test_other_entities_scale_from_invoices(invoices: int, expected: dict[str, int]) -> None:
    counts = entity_counts(invoices)
    assert {key: counts[key] for key in expected} == expected
    assert counts["organizations"] == 1


def test_entities_argument_writes_only_those(tmp_path: Path) -> None:
    summary = generate_sample_data(tmp_path, now=NOW, invoices=10, entities=["invoices", "contacts"])
    assert sorted({Path(f).stem for f in summary["data_files"]}) == ["contacts", "invoices"]
    assert sorted(summary["records"]) == ["contacts", "invoices"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": 0}, "days=0"),
        ({"days": 1.5}, "days=1.5"),
        ({"invoices": 0}, "invoices=0"),
        ({"sessions_per_day": 0}, "sessions_per_day=0"),
        ({"sessions_per_day": 1000}, "sessions_per_day=1000"),
        ({"entities": ["invoices", "estimates"]}, "'estimates'"),
    ],
    ids=["no-days", "fractional-days", "no-invoices", "no-sessions", "too-many-sessions", "unknown-entity"],
)
def test_bad_arguments_are_rejected_before_anything_is_written(
    tmp_path: Path, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        generate_sample_data(tmp_path / "out", now=NOW, **kwargs)
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------- shapes


def test_ids_are_18_digit_strings(records: dict[str, list[tuple[int, dict[str, Any]]]]) -> None:
    for entity, rows in records.items():
        for _, record in rows:
            value = record[ID_FIELDS[entity]]
            assert isinstance(value, str) and value.isdigit(), (entity, value)
            if entity != "organizations":  # Zoho organization ids are short (927270289)
                assert len(value) == 18, (entity, value)
            for line in record.get("line_items", []):
                assert len(line["line_item_id"]) == 18 and line["line_item_id"].isdigit()


def test_timestamps_and_dates_look_like_zoho(records: dict[str, list[tuple[int, dict[str, Any]]]]) -> None:
    seen = 0
    for entity, rows in records.items():
        for _, record in rows:
            for field in ("created_time", "last_modified_time", "updated_time"):
                if field in record:
                    assert ZOHO_TIME.match(record[field]), (entity, field, record[field])
                    seen += 1
            for field in ("date", "due_date", "issued_date"):
                if field in record:
                    assert DATE.match(record[field]), (entity, field, record[field])
    assert seen > 100


def test_blank_strings_stand_in_for_numbers_and_arrays(records: dict[str, list[tuple[int, dict[str, Any]]]]) -> None:
    tax_percentages = [line["tax_percentage"] for entity in DOCUMENT_ENTITIES for _, r in records[entity]
                       for line in r.get("line_items", [])]
    assert "" in tax_percentages
    assert any(isinstance(value, (int, float)) and value > 0 for value in tax_percentages)
    documents = [r["documents"] for _, r in records["invoices"] if "documents" in r]
    assert "" in documents and [] in documents
    assert {r["shipping_charge_tax_percentage"] for r in _details(records, "invoices")} == {""}


def test_nested_objects_custom_fields_and_scalar_arrays(records: dict[str, list[tuple[int, dict[str, Any]]]]) -> None:
    details = _details(records, "invoices")
    assert all(isinstance(r["billing_address"], dict) and r["billing_address"]["city"] for r in details)
    custom = [r["custom_fields"] for r in details]
    assert [] in custom and any(fields and fields[0]["api_name"] == "cf_region" for fields in custom)
    assert all(isinstance(pid, str) for r in details for pid in r["contact_persons"])
    assert any(r["contact_persons"] for r in details)


def test_list_and_detail_forms_both_occur(records: dict[str, list[tuple[int, dict[str, Any]]]]) -> None:
    for entity in ("invoices", "bills", "salesorders", "purchaseorders"):
        forms = {"detail" if "line_items" in r else "list" for _, r in records[entity]}
        assert forms == {"detail", "list"}, entity
    for entity in DOCUMENT_ENTITIES:
        first_seen: dict[str, dict[str, Any]] = {}
        for _, record in records[entity]:
            first_seen.setdefault(record[ID_FIELDS[entity]], record)
        assert all("line_items" in r for r in first_seen.values()), f"{entity}: first appearance is detail form"
    contact_forms = {"detail" if "contact_persons" in r else "list" for _, r in records["contacts"]}
    assert contact_forms == {"detail", "list"}


def test_later_sessions_reemit_records_some_updated(records: dict[str, list[tuple[int, dict[str, Any]]]]) -> None:
    updated = repeated = relined = 0
    for entity in DOCUMENT_ENTITIES:
        history: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        for position, record in records[entity]:
            history[record[ID_FIELDS[entity]]].append((position, record))
        for rows in history.values():
            positions = [p for p, _ in rows]
            assert positions == sorted(set(positions)), "a record appears at most once per session"
            modified = [r["last_modified_time"] for _, r in rows]
            assert modified == sorted(modified), "a later session never carries an older version"
            repeated += len(rows) > 1
            updated += len(set(modified)) > 1
            line_sets = {tuple(line["line_item_id"] for line in r["line_items"]) for _, r in rows if "line_items" in r}
            relined += len(line_sets) > 1
    assert repeated and updated and relined


# ----------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("entity", DOCUMENT_ENTITIES)
def test_document_arithmetic(records: dict[str, list[tuple[int, dict[str, Any]]]], entity: str) -> None:
    details = _details(records, entity)
    assert details
    for record in details:
        lines = record["line_items"]
        assert 1 <= len(lines) <= 5
        for line in lines:
            assert line["item_total"] == _approx(line["rate"] * line["quantity"]), line
            assert line["discount"] == 0
        sub_total = _approx(sum(line["item_total"] for line in lines))
        line_tax = _approx(sum(t["tax_amount"] for line in lines for t in line["line_item_taxes"]))
        assert (record["sub_total"], record["tax_total"]) == (sub_total, line_tax)
        assert record["total"] == _approx(record["sub_total"] + record["tax_total"])
        assert _approx(sum(t["tax_amount"] for t in record["taxes"])) == record["tax_total"]
        if entity in ("invoices", "bills"):
            assert record["balance"] == _approx(record["total"] - record["payment_made"])
            expected = {0: ("draft", "sent", "open")}.get(record["payment_made"], ("paid", "partially_paid"))
            assert record["status"] in expected


def test_payments_apply_to_their_documents(
    records: dict[str, list[tuple[int, dict[str, Any]]]], latest: dict[str, dict[str, dict[str, Any]]]
) -> None:
    for payments, documents, key, party in (
        ("customerpayments", "invoices", "invoices", "customer_id"),
        ("vendorpayments", "bills", "bills", "vendor_id"),
    ):
        applied_by_document: dict[str, float] = {}
        for _, payment in records[payments]:
            if key not in payment:
                continue  # list form
            (applied,) = payment[key]
            document = latest[documents][applied[ID_FIELDS[documents]]]
            assert payment[party] == document[party]
            assert applied["total"] == document["total"]
            assert applied["balance"] == _approx(applied["total"] - applied["amount_applied"])
            assert 0 < applied["amount_applied"] <= applied["total"]
            if payments == "customerpayments":
                assert payment["amount"] == _approx(applied["amount_applied"] + payment["unused_amount"])
            applied_by_document[document[ID_FIELDS[documents]]] = applied["amount_applied"]
        assert applied_by_document, payments
        # Once a document shows a payment, it is exactly what the payment applied.
        for _, record in records[documents]:
            if "payment_made" in record and record["payment_made"] and record[ID_FIELDS[documents]] in applied_by_document:
                assert record["payment_made"] == applied_by_document[record[ID_FIELDS[documents]]]


def test_references_resolve(records: dict[str, list[tuple[int, dict[str, Any]]]]) -> None:
    contacts = {r["contact_id"]: r["contact_type"] for _, r in records["contacts"]}
    items = {r["item_id"] for _, r in records["items"]}
    for entity in CUSTOMER_DOCS + ("customerpayments",):
        assert {contacts[r["customer_id"]] for _, r in records[entity]} == {"customer"}, entity
    for entity in VENDOR_DOCS + ("vendorpayments",):
        assert {contacts[r["vendor_id"]] for _, r in records[entity]} == {"vendor"}, entity
    line_items = [line["item_id"] for e in DOCUMENT_ENTITIES for _, r in records[e] for line in r.get("line_items", [])]
    assert {i for i in line_items if i} <= items
    assert "" in line_items  # bills carry some non-catalogue expense lines, as Zoho allows
    invoices = {r["invoice_id"] for _, r in records["invoices"]}
    bills = {r["bill_id"] for _, r in records["bills"]}
    paid_invoices = {a["invoice_id"] for _, r in records["customerpayments"] for a in r.get("invoices", [])}
    paid_bills = {a["bill_id"] for _, r in records["vendorpayments"] for a in r.get("bills", [])}
    assert paid_invoices and paid_invoices <= invoices
    assert paid_bills and paid_bills <= bills


def test_one_organization_in_every_session(
    sample: tuple[Path, dict[str, Any]], records: dict[str, list[tuple[int, dict[str, Any]]]]
) -> None:
    _, summary = sample
    assert [p for p, _ in records["organizations"]] == list(range(len(summary["sessions"])))
    assert len({json.dumps(r) for _, r in records["organizations"]}) == 1


def test_refuses_a_folder_of_real_sessions(tmp_path: Path) -> None:
    real = tmp_path / "sessions" / "sync_session_2026-01-01_00-00-00"
    real.mkdir(parents=True)
    with pytest.raises(ValueError, match="not sample data"):
        generate_sample_data(tmp_path / "sessions", days=1, invoices=5)
    assert [p.name for p in (tmp_path / "sessions").iterdir()] == [real.name]


def test_adds_to_a_folder_of_sample_data(tmp_path: Path) -> None:
    generate_sample_data(tmp_path / "s", days=1, invoices=5, now=datetime(2026, 1, 2, 12))
    again = generate_sample_data(tmp_path / "s", days=1, invoices=5, now=datetime(2026, 1, 3, 12))
    assert again["sessions"]
