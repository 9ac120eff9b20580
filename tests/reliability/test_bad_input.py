"""Bad input through the real program: every case ends in a clear error naming the file or
in the documented tolerant result; never a traceback, never a half-written database (the
checksum of every json_* row and of the ledger is compared before and after), never a
silently dropped record.

Each file case runs twice: read whole (small file) and streamed (the same defect after
enough good records to pass the streaming threshold of JSON2DB_MEMORY_LIMIT=1).
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    BASE_ENTITIES,
    T_BASE,
    T_NEW,
    T_NEWER,
    assert_no_traceback,
    checksum,
    contact,
    give_tree,
    invoice,
    rows,
    run_cli,
    run_sync_child,
    table_names,
    unprivileged,
)

from json2db_sync import JSON2DBSyncRunner
from json2db_sync.progress import ProgressEvent

# 1 MiB memory limit: files above 128 KiB are streamed. ~1,300 small records pass that.
PAD_RECORDS = 1300
MODES = {"whole": "", "streamed": "1"}


@pytest.fixture(params=list(MODES), ids=list(MODES))
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if MODES[request.param]:
        monkeypatch.setenv("JSON2DB_MEMORY_LIMIT", MODES[request.param])
    return request.param


def pad(mode: str) -> bytes:
    """Good records (with a trailing comma) that push the file past the streaming threshold."""
    if mode == "whole":
        return b""
    return b"".join(b'{"invoice_id":"p%d","total":1.5,"status":"sent"},' % i for i in range(PAD_RECORDS))


@pytest.fixture
def loaded(workspace: Path, make_session, db_path: Path) -> Path:
    """A database holding a first load; returns its path."""
    make_session(T_BASE, BASE_ENTITIES)
    result = JSON2DBSyncRunner().full_sync_workflow()
    assert result["success"], result["error"]
    return db_path


def sync() -> dict[str, Any]:
    result = JSON2DBSyncRunner().full_sync_workflow()
    json.dumps(result)  # always JSON-serialisable
    return result


def new_session(make_session, content: bytes) -> Path:
    """A newer session holding the bad invoices file and a good contacts file."""
    folder = make_session(T_NEW, {"invoices": content, "contacts": [contact("c9", "Initech")]})
    return folder / "invoices.json"


# --- refused files: a clear error, the database untouched ------------------------------------

DEEP = b"[" * 1000 + b"]" * 1000

ERRORS = [
    # id, content (P = padding position), error_type, phrase in the message
    ("empty-file", None, "validation_error", "is empty"),
    ("whitespace-only", None, "validation_error", "is empty"),
    ("invalid-utf8", b'[P{"invoice_id":"9","customer_name":"Caf\xe9 \xff"}]', "file_error", "not valid UTF-8 at byte offset"),
    ("truncated", b'[P{"invoice_id":"9","total":12.5,"line_items":[{"line_item_id":"x"', "file_error", "ends too early"),
    ("trailing-garbage", b'[P{"invoice_id":"9"}] {"invoice_id":"10"}', "file_error", "trailing garbage"),
    ("nan", b'[P{"invoice_id":"9","total":NaN}]', "file_error", "NaN or Infinity"),
    ("infinity", b'[P{"invoice_id":"9","total":-Infinity}]', "file_error", "NaN or Infinity"),
    ("float-1e400", b'[P{"invoice_id":"9","total":1e400}]', "file_error", "not a finite number"),
    ("nesting-1000-levels", b'[P{"invoice_id":"9","deep":' + DEEP + b"}]", "validation_error", "nesting is too deep"),
    ("element-is-a-string", b'[P{"invoice_id":"9"},"INV-10"]', "validation_error", "is a string, not an object"),
    ("element-is-a-number", b'[P{"invoice_id":"9"},10]', "validation_error", "is a number, not an object"),
    ("element-is-null", b'[P{"invoice_id":"9"},null]', "validation_error", "is null, not an object"),
    ("element-is-an-array", b'[P{"invoice_id":"9"},[{"invoice_id":"10"}]]', "validation_error", "is an array, not an object"),
    ("not-records", b'{"code":0,"message":"success"}', "validation_error", "JSON file must contain an array of records"),
    ("zoho-error-response", b'{"code":57,"message":"You are not authorized to perform this operation"}', "validation_error", "code 57"),
]


def error_content(case_id: str, template: bytes | None, mode: str) -> bytes:
    if case_id == "empty-file":
        return b""
    if case_id == "whitespace-only":
        return b" \n\t\r\n" * (1 if mode == "whole" else 40000)
    assert template is not None
    return template.replace(b"P", pad(mode), 1) if b"[P" in template else template


@pytest.mark.parametrize(("case_id", "template", "error_type", "phrase"), ERRORS, ids=[c[0] for c in ERRORS])
def test_refused_file_fails_the_run_and_leaves_the_database_as_it_was(
    loaded: Path, make_session, mode: str, case_id: str, template: bytes | None, error_type: str, phrase: str
) -> None:
    if mode == "streamed" and case_id in ("empty-file", "not-records", "zoho-error-response"):
        pytest.skip("a small file by nature: only read whole")
    before = checksum(loaded)
    bad = new_session(make_session, error_content(case_id, template, mode))
    result = sync()
    assert (result["success"], result["error_type"]) == (False, error_type), result["error"]
    assert str(bad) in result["error"] and phrase in result["error"], result["error"]
    assert checksum(loaded) == before
    # The good file of the same run is not loaded either (all or nothing), and the run is
    # in the history as failed, with the same message.
    assert rows(loaded, "SELECT COUNT(*) FROM json_contacts WHERE id = 'c9'") == [(0,)]
    assert rows(loaded, "SELECT status, error FROM _json2db_runs ORDER BY run_id DESC LIMIT 1") == [
        ("failed", result["error"])
    ]
    # Once the file is fixed, the next run loads everything.
    bad.write_text(json.dumps([invoice("9", 12.5)]))
    fixed = sync()
    assert fixed["success"], fixed["error"]
    assert rows(loaded, "SELECT id FROM json_invoices WHERE id IN ('9', 'c9') UNION SELECT id FROM json_contacts WHERE id = 'c9'") == [("9",), ("c9",)]


@pytest.mark.parametrize(("case_id", "template", "error_type", "phrase"), ERRORS, ids=[c[0] for c in ERRORS])
def test_refused_file_is_quarantined_when_on_invalid_file_is_skip(
    loaded: Path, make_session, monkeypatch: pytest.MonkeyPatch, case_id: str, template: bytes | None, error_type: str, phrase: str
) -> None:
    monkeypatch.setenv("JSON2DB_ON_INVALID_FILE", "skip")
    bad = new_session(make_session, error_content(case_id, template, "whole"))
    result = sync()
    assert result["success"], result["error"]
    stats = result["statistics"]
    assert (stats["files_invalid"], stats["records_rejected"]) == (1, 1)
    assert any(str(bad) in w and phrase in w for w in result["warnings"]), result["warnings"]
    reasons = rows(loaded, "SELECT entity, source_file, reason FROM _json2db_rejected")
    assert [(entity, source) for entity, source, _ in reasons] == [("invoices", str(bad))]
    assert phrase in reasons[0][2]
    assert rows(loaded, "SELECT COUNT(*) FROM json_contacts WHERE id = 'c9'") == [(1,)]


@pytest.mark.parametrize(("case_id", "template", "error_type", "phrase"), ERRORS[:10], ids=[c[0] for c in ERRORS[:10]])
def test_command_line_names_the_file_without_a_traceback(
    loaded: Path, workspace: Path, make_session, case_id: str, template: bytes | None, error_type: str, phrase: str
) -> None:
    bad = new_session(make_session, error_content(case_id, template, "whole"))
    before = checksum(loaded)
    proc = run_cli(workspace / "json2db_sync", "sync")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    flat = " ".join(proc.stderr.split())
    assert str(bad) in flat.replace(" ", "") or str(bad) in flat, proc.stderr
    assert phrase in flat, proc.stderr
    assert_no_traceback(proc.stdout, proc.stderr)
    assert checksum(loaded) == before


# --- tolerated input: the documented result -------------------------------------------------


def column_of(db: Path, table: str, json_path: list[str]) -> str:
    """The column a JSON path was given, from the mapping the tool keeps."""
    mapping = rows(db, "SELECT json_path, column_name FROM _json2db_columns WHERE table_name = ?", (table,))
    found = [column for path, column in mapping if json.loads(path) == json_path]
    assert len(found) == 1, f"no single column for {json_path} in {table}: {found}"
    return found[0]


def value_of(db: Path, table: str, record_id: str, json_path: list[str]) -> Any:
    column = column_of(db, table, json_path)
    quoted = '"' + column.replace('"', '""') + '"'
    return rows(db, f'SELECT {quoted} FROM "{table}" WHERE id = ?', (record_id,))[0][0]


def test_utf8_bom_is_skipped(loaded: Path, make_session, mode: str) -> None:
    new_session(make_session, b"\xef\xbb\xbf[" + pad(mode) + json.dumps(invoice("9", 12.5, customer_name="Café")).encode() + b"]")
    result = sync()
    assert result["success"], result["error"]
    assert rows(loaded, "SELECT customer_name, total FROM json_invoices WHERE id = '9'") == [("Café", 12.5)]


def test_integers_beyond_64_bits_are_kept_exactly_as_text(loaded: Path, make_session, mode: str) -> None:
    big, negative = 123456789012345678901234567890, -98765432109876543210
    body = b'{"invoice_id":"9","big":%d,"neg":%d,"ok":42}' % (big, negative)
    new_session(make_session, b"[" + pad(mode) + body + b"]")
    result = sync()
    assert result["success"], result["error"]
    assert value_of(loaded, "json_invoices", "9", ["big"]) == str(big)
    assert value_of(loaded, "json_invoices", "9", ["neg"]) == str(negative)
    assert value_of(loaded, "json_invoices", "9", ["ok"]) in (42, "42")


def test_big_integer_id_is_exact(loaded: Path, make_session) -> None:
    new_session(make_session, b'[{"invoice_id":260815000000000000123456,"total":1}]')
    result = sync()
    assert result["success"], result["error"]
    assert rows(loaded, "SELECT id FROM json_invoices WHERE id LIKE '2608%'") == [("260815000000000000123456",)]


def test_duplicate_keys_in_one_object_last_wins(loaded: Path, make_session, mode: str) -> None:
    new_session(make_session, b"[" + pad(mode) + b'{"invoice_id":"9","status":"draft","total":1,"status":"paid","total":2}]')
    result = sync()
    assert result["success"], result["error"]
    assert rows(loaded, "SELECT status, total FROM json_invoices WHERE id = '9'") == [("paid", 2)]


def test_same_id_twice_in_one_file_last_wins_and_is_counted(loaded: Path, make_session, mode: str) -> None:
    records = [invoice("9", 1.0, status="draft"), invoice("10", 3.0), invoice("9", 2.0, status="paid")]
    body = ",".join(json.dumps(r) for r in records).encode()
    new_session(make_session, b"[" + pad(mode) + body + b"]")
    result = sync()
    assert result["success"], result["error"]
    assert result["statistics"]["duplicate_ids_in_files"] == 1
    assert rows(loaded, "SELECT status, total FROM json_invoices WHERE id = '9'") == [("paid", 2.0)]
    assert rows(loaded, "SELECT COUNT(*) FROM json_invoices_line_items WHERE parent_id = '9'") == [(2,)]


def test_same_id_in_different_batches_last_wins(loaded: Path, make_session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JSON2DB_BATCH_SIZE", "2")
    records = [invoice("9", 1.0, status="draft"), invoice("10", 3.0), invoice("11", 4.0), invoice("9", 2.0, status="paid")]
    new_session(make_session, json.dumps(records).encode())
    result = sync()
    assert result["success"], result["error"]
    assert result["statistics"]["duplicate_ids_in_files"] == 1
    assert rows(loaded, "SELECT status, total FROM json_invoices WHERE id = '9'") == [("paid", 2.0)]


def test_numeric_and_text_ids_are_one_record(loaded: Path, make_session) -> None:
    new_session(make_session, b'[{"invoice_id":123,"status":"draft"},{"invoice_id":"123","status":"sent"},{"invoice_id":1001,"status":"void"}]')
    result = sync()
    assert result["success"], result["error"]
    assert result["statistics"]["duplicate_ids_in_files"] == 1
    assert rows(loaded, "SELECT id, status FROM json_invoices WHERE id IN ('123', '1001') ORDER BY id") == [
        ("1001", "void"),
        ("123", "sent"),
    ]
    assert rows(loaded, "SELECT COUNT(*) FROM json_invoices WHERE CAST(id AS INTEGER) IN (123, 1001)") == [(2,)]


HOSTILE_KEYS = [
    "select",
    "from",
    "order",
    "group",
    "table",
    'quote"d',
    "single'quote",
    "semi;colon; DROP TABLE json_invoices;--",
    "dot.ted",
    "with space",
    "naïve",
    "日本語",
    "emoji🙂",
    "",
    "id",
    "data_source",
    "created_at",
    "Total",
    "TOTAL",
    "camelCase",
    "camel_case",
]


def test_hostile_and_colliding_field_names_keep_every_value(loaded: Path, make_session) -> None:
    record = {"invoice_id": "9", "total": 5, **{key: f"value of {key!r}" for key in HOSTILE_KEYS if key != "TOTAL"}}
    # "Total" and "TOTAL" would be one JSON key of a dict; put TOTAL in a nested object too.
    record["nested"] = {key: f"nested {key!r}" for key in HOSTILE_KEYS}
    new_session(make_session, json.dumps([record]).encode())
    result = sync()
    assert result["success"], result["error"]
    stored = {
        (tuple(json.loads(path)), column)
        for path, column in rows(loaded, "SELECT json_path, column_name FROM _json2db_columns WHERE table_name = 'json_invoices'")
    }
    columns_by_path = dict(stored)
    # Every key has its own column (no two paths share one), case-insensitively unique.
    assert len({c.lower() for c in columns_by_path.values()}) == len(columns_by_path)
    for key, value in record.items():
        if key == "nested":
            for inner, inner_value in value.items():
                assert value_of(loaded, "json_invoices", "9", ["nested", inner]) == inner_value
        elif key != "invoice_id":
            assert value_of(loaded, "json_invoices", "9", [key]) == value, key
    assert table_names(loaded) == sorted(
        ["_json2db_columns", "_json2db_files", "_json2db_folders", "_json2db_rejected", "_json2db_runs",
         "_json2db_state", "_json2db_tables", "json_contacts", "json_invoices", "json_invoices_line_items"]
    )


def test_record_wider_than_the_column_limit_loses_no_value(loaded: Path, make_session) -> None:
    wide = {"invoice_id": "9", **{f"field_{i}": i for i in range(2100)}}
    new_session(make_session, json.dumps([wide]).encode())
    result = sync()
    assert result["success"], result["error"]
    columns = [r[1] for r in rows(loaded, "PRAGMA table_info('json_invoices')")]
    assert len(columns) <= 2000
    row = dict(zip(columns, rows(loaded, "SELECT * FROM json_invoices WHERE id = '9'")[0]))
    overflow = json.loads(row.pop("_overflow_json") or "{}")
    recovered = {k: v for k, v in row.items() if k.startswith("field_") and v is not None}
    recovered.update(overflow)
    assert recovered == {k: v for k, v in wide.items() if k != "invoice_id"}


def test_identical_bytes_in_files_of_two_entities_both_load(loaded: Path, make_session) -> None:
    """Regression: the ledger's content-hash lookup once ignored the entity, so the second
    file was counted as skipped and its records never reached its table."""
    same = json.dumps([{"id": "x1", "name": "same bytes"}])
    make_session(T_NEW, {"widgets": same, "gadgets": same})
    result = sync()
    assert result["success"], result["error"]
    assert result["statistics"]["files_loaded"] == 2
    assert rows(loaded, "SELECT id FROM json_widgets") == [("x1",)]
    assert rows(loaded, "SELECT id FROM json_gadgets") == [("x1",)]


def test_identical_file_in_a_later_session_is_a_new_delivery(loaded: Path, make_session) -> None:
    """The ledger knows a file by its path and its bytes: the same bytes in a later
    session are a new delivery (issue 21: a value going A → B → A must end as A), and
    loading them again changes no row."""
    make_session(T_NEW, BASE_ENTITIES)
    invoices = rows(loaded, "SELECT * FROM json_invoices ORDER BY id")
    contacts = rows(loaded, "SELECT id, contact_name, updated_at FROM json_contacts ORDER BY id")
    result = sync()
    assert result["success"], result["error"]
    assert (result["statistics"]["files_loaded"], result["statistics"]["files_skipped"]) == (2, 2)
    assert rows(loaded, "SELECT * FROM json_invoices ORDER BY id") == invoices
    # contacts carry no time of their own: the new delivery's folder dates them now
    new_time = T_NEW.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert rows(loaded, "SELECT id, contact_name, updated_at FROM json_contacts ORDER BY id") == [
        (cid, name, new_time) for cid, name, _ in contacts
    ]


# --- the sessions tree ------------------------------------------------------------------------


def test_json_named_folder_is_skipped_with_a_warning(loaded: Path, make_session) -> None:
    folder = make_session(T_NEW, {"contacts": [contact("c9")]})
    (folder / "invoices.json").mkdir()
    (folder / "invoices.json" / "x.json").write_text(json.dumps([invoice("77")]))
    before = rows(loaded, "SELECT COUNT(*) FROM json_invoices")
    result = sync()
    assert result["success"], result["error"]
    assert any(str(folder / "invoices.json") in w and "folder" in w for w in result["warnings"]), result["warnings"]
    assert rows(loaded, "SELECT COUNT(*) FROM json_invoices") == before
    assert rows(loaded, "SELECT COUNT(*) FROM json_contacts WHERE id = 'c9'") == [(1,)]


def test_symlink_loops_in_the_sessions_tree_neither_hang_nor_fail(loaded: Path, make_session, sessions_dir: Path) -> None:
    folder = make_session(T_NEW, {"contacts": [contact("c9")]})
    (folder / "a.json").symlink_to(folder / "b.json")
    (folder / "b.json").symlink_to(folder / "a.json")
    (folder / "self.json").symlink_to(folder / "self.json")
    (folder.parent / "2099-01-01_00-00-00").symlink_to(folder.parent)  # raw_json/<ts> -> raw_json
    (sessions_dir / "sync_session_2099-01-02_00-00-00").symlink_to(sessions_dir)
    result = sync()
    assert result["success"], result["error"]
    warned = "\n".join(result["warnings"])
    for name in ("a.json", "b.json", "self.json"):
        assert str(folder / name) in warned
    assert rows(loaded, "SELECT COUNT(*) FROM json_contacts WHERE id = 'c9'") == [(1,)]


def test_session_folder_that_disappears_mid_run(loaded: Path, make_session) -> None:
    """The second session vanishes after the first file is read: the run stops with a
    file_error naming the file, rolls back, and the next run loads what is there."""
    first = make_session(T_NEW, {"contacts": [contact("c9")]})
    second = make_session(T_NEWER, {"invoices": [invoice("9")]})
    before = checksum(loaded)
    gone = second.parent.parent

    def vanish(event: ProgressEvent) -> None:
        if gone.exists():
            shutil.rmtree(gone)

    result = JSON2DBSyncRunner(progress_callback=vanish).full_sync_workflow()
    assert (result["success"], result["error_type"]) == (False, "file_error"), result
    assert str(second / "invoices.json") in result["error"] and "run again" in result["error"]
    assert checksum(loaded) == before
    again = sync()
    assert again["success"], again["error"]
    assert rows(loaded, "SELECT COUNT(*) FROM json_contacts WHERE id = 'c9'") == [(1,)]
    assert first.exists()


def test_unreadable_data_file_is_a_file_error_naming_it(workspace: Path, make_session, db_path: Path) -> None:
    """Run as an unprivileged user (root ignores modes): a 0o000 data file stops the run."""
    drop = unprivileged()
    make_session(T_BASE, BASE_ENTITIES)
    code, summary, _ = run_sync_child(workspace / "json2db_sync")
    assert code == 0, summary
    folder = make_session(T_NEW, {"invoices": [invoice("9")], "contacts": [contact("c9")]})
    give_tree(workspace)
    before = checksum(db_path)
    (folder / "invoices.json").chmod(0o000)
    code, summary, stderr = run_sync_child(workspace / "json2db_sync", env=drop)
    assert (code, summary["error_type"]) == (1, "file_error"), summary
    assert str(folder / "invoices.json") in summary["error"] and "permission denied" in summary["error"]
    assert_no_traceback(stderr)
    assert checksum(db_path) == before
    (folder / "invoices.json").chmod(0o644)
    code, summary, _ = run_sync_child(workspace / "json2db_sync", env=drop)
    assert code == 0, summary
    assert rows(db_path, "SELECT COUNT(*) FROM json_invoices WHERE id = '9'") == [(1,)]
