"""Tests of the reader stage: every shape, both parse paths, batching, and every bad input.

Each case runs twice where it matters: read whole (orjson or the stdlib) and streamed (ijson),
forced with ``stream_threshold_bytes=0``; both must give the same records or the same error.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from json2db_sync.errors import ConfigError, DataFileError, ValidationError
from json2db_sync.progress import ProgressEvent
from json2db_sync.reader import (
    MAX_NESTING_DEPTH,
    SINGULAR_KEYS,
    RecordReader,
    count_records,
    default_id_fields,
    iter_record_batches,
    sha256_file,
    singular_key,
    stream_threshold,
)
from json2db_sync.reader.chunked import CHUNK_TARGET

MODES = {"whole": None, "stream": 0}


@pytest.fixture(params=list(MODES), ids=list(MODES))
def mode(request: pytest.FixtureRequest) -> str:
    """Run a test once per parse path."""
    return request.param


def write(folder: Path, content: Any, name: str = "invoices.json") -> Path:
    """A data file: bytes and str verbatim, anything else as JSON."""
    target = folder / name
    if isinstance(content, bytes):
        target.write_bytes(content)
    elif isinstance(content, str):
        target.write_text(content, encoding="utf-8")
    else:
        target.write_text(json.dumps(content), encoding="utf-8")
    return target


def read(path: Path, entity: str, mode: str, **kwargs: Any) -> tuple[RecordReader, list[list[dict[str, Any]]]]:
    """All batches of a file, read by the given path, and the exhausted reader."""
    reader = iter_record_batches(path, entity, stream_threshold_bytes=MODES[mode], **kwargs)
    batches = list(reader)
    assert reader.streamed is (mode == "stream") or reader.size == 0
    return reader, batches


def records_of(path: Path, entity: str, mode: str, **kwargs: Any) -> list[dict[str, Any]]:
    return [record for batch in read(path, entity, mode, **kwargs)[1] for record in batch]


# --- names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "singular"),
    [
        *SINGULAR_KEYS.items(),
        ("categories", "category"),
        ("widgets", "widget"),
        ("news", "new"),
        ("data", "data"),
    ],
)
def test_singular_key(entity: str, singular: str) -> None:
    assert singular_key(entity) == singular


@pytest.mark.parametrize(
    ("entity", "id_field", "expected"),
    [
        ("invoices", None, ("invoice_id",)),
        ("customerpayments", None, ("payment_id",)),
        ("vendorpayments", None, ("payment_id", "vendorpayment_id")),
        ("chartofaccounts", None, ("account_id", "chart_of_account_id")),
        ("invoices", "invoice_number", ("invoice_number", "invoice_id")),
        ("categories", None, ("category_id",)),
    ],
    ids=["invoices", "customerpayments", "vendorpayments", "chartofaccounts", "override", "unknown"],
)
def test_default_id_fields(entity: str, id_field: str | None, expected: tuple[str, ...]) -> None:
    assert default_id_fields(entity, id_field) == expected


def test_stream_threshold_is_a_twelfth_of_the_memory_limit() -> None:
    assert [stream_threshold(768), stream_threshold(12), stream_threshold(0)] == [64 * 2**20, 2**20, 0]


# --- shapes -----------------------------------------------------------------------------

INVOICES = [
    {"invoice_id": "1", "total": 10.5, "line_items": [{"line_item_id": "11", "rate": 1.25}]},
    {"invoice_id": "2", "total": 0, "customer_name": "Zoë ☃", "tags": ["a", "b"], "paid": True, "note": None},
]

ORG = [{"organization_id": "9"}]
OK = {"code": 0, "message": "success"}

SHAPES = [
    # entity, content, shape, envelope key, records
    pytest.param("invoices", INVOICES, "array", None, INVOICES, id="array"),
    pytest.param("invoices", [], "array", None, [], id="empty-array"),
    pytest.param(
        "invoices",
        {**OK, "invoices": INVOICES, "page_context": {"page": 1, "has_more_page": False}},
        "list_envelope",
        "invoices",
        INVOICES,
        id="list-envelope",
    ),
    pytest.param(
        "organizations", {**OK, "organizations": ORG}, "list_envelope", "organizations", ORG, id="no-page-context"
    ),
    pytest.param(
        "taxes", {**OK, "taxes": [], "page_context": {}}, "list_envelope", "taxes", [], id="empty-list-envelope"
    ),
    pytest.param(
        "invoices",
        {"code": 0, "message": "The invoice has been created.", "invoice": INVOICES[0]},
        "detail_envelope",
        "invoice",
        [INVOICES[0]],
        id="detail-envelope",
    ),
    pytest.param(
        "salesorders",
        {"salesorder": {"salesorder_id": "5"}},
        "detail_envelope",
        "salesorder",
        [{"salesorder_id": "5"}],
        id="detail-envelope-webhook",
    ),
    pytest.param(
        "customerpayments",
        {**OK, "payment": {"payment_id": "7"}},
        "detail_envelope",
        "payment",
        [{"payment_id": "7"}],
        id="detail-envelope-payment",
    ),
    pytest.param(
        "chartofaccounts",
        {**OK, "chart_of_account": {"account_id": "3"}},
        "detail_envelope",
        "chart_of_account",
        [{"account_id": "3"}],
        id="detail-envelope-chart-of-account",
    ),
    pytest.param("invoices", INVOICES[1], "record", None, [INVOICES[1]], id="bare-record"),
    pytest.param(
        "chartofaccounts",
        {"account_id": "3", "code": "A-1"},
        "record",
        None,
        [{"account_id": "3", "code": "A-1"}],
        id="bare-record-own-id-with-code-field",
    ),
    pytest.param(
        "categories", {"category_id": "c1"}, "record", None, [{"category_id": "c1"}], id="bare-record-unknown-entity"
    ),
    pytest.param(
        "widgets",
        {"code": 0, "data": [{"w": 1}], "page_context": {}},
        "list_envelope",
        "data",
        [{"w": 1}],
        id="unknown-entity-single-array",
    ),
    pytest.param(
        "widgets", {"widget": {"w": 1}}, "detail_envelope", "widget", [{"w": 1}], id="unknown-entity-detail"
    ),
    pytest.param(
        "invoices", b"\xef\xbb\xbf" + json.dumps(INVOICES).encode(), "array", None, INVOICES, id="utf8-bom"
    ),
    pytest.param(
        "invoices",
        b"\n\t  " + json.dumps(INVOICES).encode() + b"\n",
        "array",
        None,
        INVOICES,
        id="surrounding-whitespace",
    ),
]


@pytest.mark.parametrize(("entity", "content", "shape", "key", "expected"), SHAPES)
def test_shapes(
    tmp_path: Path, mode: str, entity: str, content: Any, shape: str, key: str | None, expected: list[dict[str, Any]]
) -> None:
    path = write(tmp_path, content, f"{entity}.json")
    reader, batches = read(path, entity, mode)
    assert [record for batch in batches for record in batch] == expected
    assert (reader.shape, reader.envelope_key, reader.records, reader.done) == (shape, key, len(expected), True)


def test_bare_record_by_the_id_field_argument(tmp_path: Path, mode: str) -> None:
    path = write(tmp_path, {"number": "INV-1", "total": 3})
    reader, batches = read(path, "invoices", mode, id_field="number")
    assert (reader.shape, batches) == ("record", [[{"number": "INV-1", "total": 3}]])


def test_duplicate_keys_last_wins(tmp_path: Path, mode: str) -> None:
    path = write(tmp_path, '[{"invoice_id": "1", "total": 1, "total": 2, "x": {"a": 1, "a": [3]}}]')
    assert records_of(path, "invoices", mode) == [{"invoice_id": "1", "total": 2, "x": {"a": [3]}}]


# --- batching and progress --------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "batch_size", "sizes"),
    [(2500, 1000, [1000, 1000, 500]), (2000, 1000, [1000, 1000]), (3, 1, [1, 1, 1]), (5, 10, [5])],
)
def test_batches_keep_file_order(tmp_path: Path, mode: str, count: int, batch_size: int, sizes: list[int]) -> None:
    rows = [{"invoice_id": str(n), "n": n} for n in range(count)]
    path = write(tmp_path, {"code": 0, "message": "success", "invoices": rows})
    reader, batches = read(path, "invoices", mode, batch_size=batch_size)
    assert [len(batch) for batch in batches] == sizes
    assert [record for batch in batches for record in batch] == rows
    assert reader.records == count


def test_progress_once_per_batch(tmp_path: Path, mode: str) -> None:
    path = write(tmp_path, [{"invoice_id": str(n)} for n in range(5)])
    events: list[ProgressEvent] = []
    read(path, "invoices", mode, batch_size=2, progress_callback=events.append)
    assert events == [ProgressEvent(step="read", current=n, total=None, detail=str(path)) for n in (2, 4, 5)]


def test_batch_size_below_one_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="batch_size=0"):
        RecordReader(tmp_path / "invoices.json", "invoices", batch_size=0)


def test_streaming_gives_the_same_records_as_whole_file(tmp_path: Path) -> None:
    rows = [
        {
            "invoice_id": str(260815000000000000 + n),
            "total": n * 1.1,
            "big": 2**63 - 1,
            "neg": -(2**63),
            "text": "é\u2603\\\"\n" * (n % 3),
            "nested": {"a": {"b": [n, None, True, {"c": "d"}]}},
            "empty": "",
        }
        for n in range(300)
    ]
    for content in (rows, {"code": 0, "message": "success", "invoices": rows, "page_context": {"page": 1}}):
        path = write(tmp_path, content)
        whole = read(path, "invoices", "whole", batch_size=64)[1]
        streamed = read(path, "invoices", "stream", batch_size=64)[1]
        assert streamed == whole
        assert [record for batch in whole for record in batch] == rows


def test_memory_limit_decides_the_parse_path(tmp_path: Path) -> None:
    path = write(tmp_path, [{"invoice_id": "1", "pad": "x" * 2**20}])
    small, large = RecordReader(path, "invoices", memory_limit_mb=1), RecordReader(path, "invoices", memory_limit_mb=16)
    assert [list(small), list(large)] == [[[{"invoice_id": "1", "pad": "x" * 2**20}]]] * 2
    assert (small.streamed, large.streamed) == (True, False)


def test_gc_state_is_restored(tmp_path: Path, mode: str) -> None:
    good, bad = write(tmp_path, INVOICES), write(tmp_path, b"[{", "bad.json")
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            read(good, "invoices", mode)
            with pytest.raises(DataFileError):
                read(bad, "invoices", mode)
            assert (gc.isenabled(), gc.get_freeze_count()) == (enabled, 0)
        finally:
            gc.enable()


# --- the real Zoho captures -------------------------------------------------------------


def test_every_real_sample_loads(real_samples: Path) -> None:
    files = sorted(real_samples.glob("*__*.json"))
    assert files
    for path in files:
        entity = path.name.split("__")[0]
        document = json.loads(path.read_text(encoding="utf-8"))
        whole = read(path, entity, "whole", batch_size=10)
        streamed = read(path, entity, "stream", batch_size=10)
        assert streamed[1] == whole[1], path.name
        reader = whole[0]
        if isinstance(document, dict) and isinstance(document.get(entity), list):
            assert (reader.shape, reader.records) == ("list_envelope", len(document[entity])), path.name
        else:
            assert reader.shape in ("detail_envelope", "record"), path.name
            assert reader.records == 1, path.name
        assert count_records(path, entity) == reader.records


# --- tolerant results: numbers ----------------------------------------------------------

BIG = 123456789012345678901234567890


def test_integers_beyond_64_bits_come_back_exact(tmp_path: Path, mode: str) -> None:
    text = (
        '[{"invoice_id": "1", "a": 123456789012345678901234567890, "b": -12345678901234567890,'
        ' "c": 18446744073709551616, "f": 1.5, "g": [1e3]}]'
    )
    path = write(tmp_path, text)
    assert records_of(path, "invoices", mode) == [
        {"invoice_id": "1", "a": BIG, "b": -12345678901234567890, "c": 2**64, "f": 1.5, "g": [1000.0]}
    ]
    record = records_of(path, "invoices", mode)[0]
    assert [type(record[key]) for key in ("a", "b", "c", "f")] == [int, int, int, float]


def test_big_integer_late_in_a_streamed_file_restarts_without_repeating(tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = [{"invoice_id": str(n), "rate": n / 4} for n in range(3000)]
    rows[2900]["big"] = BIG
    path = write(tmp_path, rows)
    reader, batches = read(path, "invoices", "stream", batch_size=1000)
    assert [record for batch in batches for record in batch] == rows
    assert [len(batch) for batch in batches] == [1000, 1000, 1000]
    assert isinstance(batches[2][900]["rate"], float)


def test_digit_runs_inside_strings_do_not_change_results(tmp_path: Path, mode: str) -> None:
    rows = [{"invoice_id": "1", "phone": "123456789012345678901234", "total": 0.1}]
    path = write(tmp_path, rows)
    assert records_of(path, "invoices", mode) == rows


# --- errors: every message names the file ---------------------------------------------

DEEP = 1000
BIG_TEXT = b"123456789012345678901234"


def case(case_id: str, content: bytes, *phrases: str, entity: str = "invoices") -> Any:
    """One bad file: the content, the entity it is read as, and phrases its error must hold."""
    return pytest.param(content, entity, list(phrases), id=case_id)


BROKEN_FILES = [  # DataFileError: not readable as JSON
    case("invalid-utf8", b'[{"a": "x\xff"}]', "not valid UTF-8 at byte offset 9"),
    case("invalid-utf8-after-bom", b'\xef\xbb\xbf[{"a": "x\xff"}]', "not valid UTF-8 at byte offset 12"),
    case("truncated", b'[{"a": 1},\n {"b": ', "ends too early", "truncated"),
    case("truncated-envelope", b'{"code": 0, "message": "success", "invoices": [{"a": 1}', "ends too early"),
    case("trailing-garbage", b'[{"a": 1}] xx', "trailing garbage"),
    case("nan", b'[{"a": NaN}]', "NaN or Infinity", "not a finite number"),
    case("infinity", b'[{"a": Infinity}]', "NaN or Infinity", "not a finite number"),
    case("minus-infinity", b'[{"a": -Infinity}]', "NaN or Infinity", "not a finite number"),
    case("float-overflow", b'[{"a": 1e400}]', "not a finite number"),
    case("long-mantissa-overflow", b'[{"a": ' + b"9" * 400 + b".5}]", "not a finite number"),
    case("float-overflow-beside-big-int", b'[{"a": 1e400, "b": ' + BIG_TEXT + b"}]", "not a finite number"),
    case("nan-beside-big-int", b'[{"b": ' + BIG_TEXT + b', "a": NaN}]', "not a finite number"),
]

NOT_RECORDS = [  # ValidationError: JSON, but not records
    case("empty", b"", "is empty", "expected a JSON array of records"),
    case("whitespace-only", b" \n\t\r\n ", "is empty", "expected a JSON array of records"),
    case("bom-only", b"\xef\xbb\xbf \n", "is empty"),
    case("nesting-1000-objects", b"[" + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"]", "nesting is too deep"),
    case("nesting-1000-arrays", b'[{"a":' + b"[" * DEEP + b"]" * DEEP + b"}]", "nesting is too deep"),
    case("nesting-5000", b"[" + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"]", "nesting is too deep"),
    case(
        "nesting-1000-beside-big-int",
        b'[{"b": ' + BIG_TEXT + b', "a":' + b"[" * DEEP + b"]" * DEEP + b"}]",
        "nesting is too deep",
    ),
    case("element-string", b'[{"a": 1}, "x"]', "element 1 of the array is a string, not an object"),
    case("element-number", b"[3]", "element 0 of the array is a number, not an object"),
    case("element-null", b'[{"a": 1}, {"a": 2}, null]', "element 2 of the array is null, not an object"),
    case("element-array", b"[[{}]]", "element 0 of the array is an array, not an object"),
    case("element-bool-in-envelope", b'{"code": 0, "invoices": [true]}', "element 0 of the 'invoices' array is a boolean"),
    case("top-level-number", b"42", "JSON file must contain an array of records", "found a number"),
    case("top-level-string", b'"invoices"', "JSON file must contain an array of records", "found a string"),
    case("top-level-null", b"null", "found null"),
    case("empty-object", b"{}", "JSON file must contain an array of records", "found an empty object"),
    case(
        "envelope-without-entity-key",
        b'{"code": 0, "message": "success", "page_context": {"page": 1}}',
        "JSON file must contain an array of records",
        "found an object with keys code, message, page_context but no 'invoices' key",
        "raw_json/<timestamp>/",
        "not at sync_metadata_*.json files",
    ),
    case(
        "metadata-file",
        b'{"entity": "invoices", "status": "success"}',
        "found an object with keys entity, status but no 'invoices' key",
        "no 'invoice_id' field",
    ),
    case("entity-key-holds-object", b'{"code": 0, "invoices": {"a": 1}}', "'invoices' key holds an object, not an array"),
    case("singular-key-holds-array", b'{"invoice": [1]}', "'invoice' key holds an array, not an object"),
    case("other-entity-envelope", b'{"code": 0, "message": "success", "bills": [{"bill_id": "1"}]}', "no 'invoices' key"),
    case("unknown-entity-two-arrays", b'{"a": [], "b": []}', "several arrays (a, b)", entity="widgets"),
    case(
        "zoho-error",
        b'{"code": 1002, "message": "Invoice does not exist."}',
        "Zoho error response",
        "code 1002",
        "'Invoice does not exist.'",
    ),
    case(
        "zoho-error-with-key",
        b'{"code": 57, "message": "You are not authorized to perform this operation", "invoices": []}',
        "code 57",
        "not authorized",
    ),
]


@pytest.mark.parametrize(
    ("error", "content", "entity", "phrases"),
    [pytest.param(DataFileError, *param.values, id=param.id) for param in BROKEN_FILES]
    + [pytest.param(ValidationError, *param.values, id=param.id) for param in NOT_RECORDS],
)
def test_bad_input(
    tmp_path: Path, mode: str, error: type[Exception], content: bytes, entity: str, phrases: list[str]
) -> None:
    path = write(tmp_path, content, f"{entity}.json")
    with pytest.raises(error) as caught:
        read(path, entity, mode)
    message = str(caught.value)
    assert message.startswith(str(path))
    for phrase in phrases:
        assert phrase in message


POSITIONS = [
    pytest.param(b'[{"a": 1},\n {"b": ', "line 2, column 8", id="truncated"),
    pytest.param(b'[{"a": 1}]\n\n xx', "line 3, column 2", id="trailing-garbage"),
    pytest.param(b'[{"a": 1},\n {"a": NaN}]', "line 2, column 8", id="nan"),
    pytest.param(b'[\n{"a": 1e400}]', "line 2, column 7", id="float-overflow"),
    pytest.param(b'[{"a": 1}\n {"b": 2}]', "line 2, column 2", id="missing-comma"),
]


@pytest.mark.parametrize(("content", "where"), POSITIONS)
def test_whole_file_errors_give_line_and_column(tmp_path: Path, content: bytes, where: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(DataFileError, match=where):
        read(path, "invoices", "whole")


def test_streamed_errors_give_the_bytes_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, b'[{"a": 1},\n {"a": 2} {"b": 3}]')
    with pytest.raises(DataFileError) as caught:
        read(path, "invoices", "stream")
    assert f"{path}: not valid JSON in bytes 0-30 (from line 1): parse error" in str(caught.value)


def test_invalid_utf8_offset_past_the_first_chunk(tmp_path: Path, mode: str) -> None:
    head = b'[{"invoice_id": "1", "name": "' + "é".encode() * (2**20 // 2 + 7) + b"x"  # é straddles 1 MiB
    path = write(tmp_path, head + b'\xff"}]')
    with pytest.raises(DataFileError, match=f"not valid UTF-8 at byte offset {len(head)};"):
        read(path, "invoices", mode)


def test_nesting_limit_is_exact(tmp_path: Path, mode: str) -> None:
    def nested(levels: int) -> str:
        return '{"a":' * (levels - 1) + "{}" + "}" * (levels - 1)

    ok = write(tmp_path, f"[{nested(MAX_NESTING_DEPTH)}]", "ok.json")
    too_deep = write(tmp_path, f"[{nested(MAX_NESTING_DEPTH + 1)}]", "deep.json")
    assert len(records_of(ok, "invoices", mode)) == 1
    with pytest.raises(ValidationError, match="record 0: nesting is too deep"):
        read(too_deep, "invoices", mode)


def test_a_deep_record_among_others_is_named_and_the_limit_holds_in_a_batch(tmp_path: Path, mode: str) -> None:
    # A batch is first checked whole (one dump of the list, a level deeper than its records):
    # records at the limit make that fail, and the record-by-record check must still let them
    # through and name the one beyond it by its own index.
    def nested(levels: int) -> str:
        return '{"a":' * (levels - 1) + "{}" + "}" * (levels - 1)

    at_limit = ",".join([nested(MAX_NESTING_DEPTH), '{"invoice_id": "2"}', nested(MAX_NESTING_DEPTH)])
    ok = write(tmp_path, f"[{at_limit}]", "ok.json")
    assert len(records_of(ok, "invoices", mode, batch_size=2)) == 3
    beyond = write(tmp_path, f'[{at_limit},{{"invoice_id": "4"}},{nested(MAX_NESTING_DEPTH + 1)}]', "deep.json")
    with pytest.raises(ValidationError, match="record 4: nesting is too deep"):
        read(beyond, "invoices", mode, batch_size=2)


def _nested(levels: int) -> str:
    """A record nested ``levels`` deep (itself level 1), with an id beside the nesting."""
    return '{"invoice_id": "deep", "a":' + '{"a":' * (levels - 2) + "{}" + "}" * (levels - 2) + "}"


def test_the_depth_guard_leaves_orjson_exactly_the_limit() -> None:
    # The parse refuses records beyond MAX_NESTING_DEPTH only if the guard plus the records
    # array plus the limit is exactly how deep orjson goes (probed from the installed orjson).
    from json2db_sync.reader.files import DEPTH_GUARD, orjson_depth_limit

    assert DEPTH_GUARD > 0
    assert DEPTH_GUARD + 1 + MAX_NESTING_DEPTH == orjson_depth_limit()


@pytest.mark.parametrize("content", [b"", b"[]", b"\xef\xbb\xbf[{}]", b'[{"a": 1}]' * 100_000])
def test_a_file_is_read_between_the_guard_brackets(tmp_path: Path, content: bytes) -> None:
    from json2db_sync.reader.files import GUARD_CLOSE, GUARD_OPEN, read_guarded

    path = tmp_path / "invoices.json"
    path.write_bytes(content)
    buffer, size = read_guarded(path)
    assert (bytes(buffer), size) == (GUARD_OPEN + content + GUARD_CLOSE, len(content))


def test_a_file_that_grows_while_it_is_read_is_read_whole(tmp_path: Path) -> None:
    # A FIFO says it holds 0 bytes and then gives more: the room for one byte more than the
    # file's size shows it grew, and the rest is read too.
    import os
    import threading

    from json2db_sync.reader.files import GUARD_CLOSE, GUARD_OPEN, read_guarded

    fifo = tmp_path / "invoices.json"
    os.mkfifo(fifo)
    content = b'[{"invoice_id": "1"}, {"invoice_id": "2"}]' * 1000
    writer = threading.Thread(target=fifo.write_bytes, args=(content,))
    writer.start()
    buffer, size = read_guarded(fifo)
    writer.join()
    assert (bytes(buffer), size) == (GUARD_OPEN + content + GUARD_CLOSE, len(content))


SHAPES_OF_ONE = {
    "array": lambda record: f"[{record}]",
    "list-envelope": lambda record: f'{{"code": 0, "invoices": [{record}], "page_context": {{"page": 1}}}}',
    "detail-envelope": lambda record: f'{{"code": 0, "invoice": {record}}}',
    "bare-record": lambda record: record,
}


@pytest.mark.parametrize("shape", list(SHAPES_OF_ONE))
def test_the_nesting_limit_is_exact_in_every_shape(tmp_path: Path, mode: str, shape: str) -> None:
    # The guard bounds the whole document, so in an envelope the limit is met with a level to
    # spare, and a bare record is a level closer to the top: each must still hold exactly.
    wrap = SHAPES_OF_ONE[shape]
    ok = write(tmp_path, wrap(_nested(MAX_NESTING_DEPTH)), "ok.json")
    assert len(records_of(ok, "invoices", mode)) == 1
    for levels in (MAX_NESTING_DEPTH + 1, MAX_NESTING_DEPTH + 2, 1000):
        too_deep = write(tmp_path, wrap(_nested(levels)), f"deep{levels}.json")
        with pytest.raises(ValidationError, match="nesting is too deep"):
            read(too_deep, "invoices", mode)


@pytest.mark.parametrize("chunk_bytes", [64, 4096, 100_000])
def test_deep_records_across_chunks_are_named_and_the_limit_holds(tmp_path: Path, chunk_bytes: int) -> None:
    # Chunks of every size around the deep records: at the limit they load, wherever a chunk
    # cuts; one level beyond, the record is named by its index in the file.
    plain = [f'{{"invoice_id": "{n}", "total": {n}.5, "notes": "{"x" * (n % 50)}"}}' for n in range(300)]
    at_limit = list(plain)
    for index in (0, 7, 150, 299):
        at_limit[index] = _nested(MAX_NESTING_DEPTH)
    ok = write(tmp_path, "[" + ",".join(at_limit) + "]", "ok.json")
    loaded = [r for batch in iter_record_batches(ok, "invoices", stream_threshold_bytes=0, batch_size=16,
                                                 chunk_bytes=chunk_bytes) for r in batch]
    assert len(loaded) == 300
    assert loaded[8] == {"invoice_id": "8", "total": 8.5, "notes": "x" * 8}
    beyond = list(at_limit)
    beyond[151] = _nested(MAX_NESTING_DEPTH + 1)
    deep = write(tmp_path, "[" + ",".join(beyond) + "]", "deep.json")
    with pytest.raises(ValidationError, match="record 151: nesting is too deep"):
        list(iter_record_batches(deep, "invoices", stream_threshold_bytes=0, batch_size=16, chunk_bytes=chunk_bytes))


@pytest.mark.parametrize(
    "content",
    [
        '{"invoice_id": "1"}, {"invoice_id": "2"}',
        '[{"invoice_id": "1"}], [{"invoice_id": "2"}]',
        '[{"invoice_id": "1"}, {"invoice_id": "2"}]]',
        '[[{"invoice_id": "1"}, {"invoice_id": "2"}]',
    ],
    ids=["two-records-bare", "two-arrays", "one-closer-too-many", "one-opener-too-many"],
)
def test_bytes_that_are_not_one_json_value_are_refused(tmp_path: Path, mode: str, content: str) -> None:
    # The guard wraps the bytes in arrays before parsing: text that is not one value can
    # parse once wrapped ("{}, {}" inside "[...]"), and must still be refused as invalid.
    path = write(tmp_path, content)
    with pytest.raises((DataFileError, ValidationError)):
        read(path, "invoices", mode)


def test_a_record_that_is_not_an_object_is_named_in_its_batch(tmp_path: Path, mode: str) -> None:
    path = write(tmp_path, '[{"invoice_id": "1"}, {"invoice_id": "2"}, {"invoice_id": "3"}, [1]]')
    with pytest.raises(ValidationError, match="element 3 of the array is an array"):
        read(path, "invoices", mode, batch_size=2)


# Numbers a double rounds or no signed 64-bit column holds (orjson gives 2**63 to 2**64 - 1 as
# ints), and look-alikes that come back as they are: the byte test must find the first
# wherever they sit (at the start, after a string of dashes, across a 1 MiB piece).
ROUNDED = [
    b"99999999999999.99", b"-0.12345678901234567", b"0.1000000000000000055511151231257827",
    b"1.234567890123456789e5", b"18446744073709551616", b"-9223372036854775809", b"12345678901234567.89",
    b"9223372036854775808", b"18446744073709551615", b"12345678901234567890.0",
]
GIVEN_BACK = [
    b"12345678.5", b"1234567890123456789", b"1.23456789012e5", b"99999999999.99", b"0.12345678", b"1.5",
    b"9223372036854775807", b"-9223372036854775808", b"-123456789012345678",
]


@pytest.mark.parametrize("place", ["start", "after-a-dash", "after-many-dashes", "across-a-piece", "late"])
@pytest.mark.parametrize("literal", ROUNDED + GIVEN_BACK, ids=lambda b: b.decode())
def test_the_byte_test_finds_every_number_a_double_rounds(tmp_path: Path, literal: bytes, place: str) -> None:
    from json2db_sync.reader.files import CHUNK
    from json2db_sync.reader.numbers import file_needs_exact_numbers, needs_exact_numbers

    if place == "start":
        body = literal
    elif place == "after-a-dash":
        body = b'["2024-",' + literal + b"]"
    elif place == "after-many-dashes":
        body = b'["' + b"-" * 100_000 + b'",\n  ' + literal + b"]"
    else:
        cut = CHUNK - len(literal) // 2 if place == "across-a-piece" else CHUNK + 12345
        filler = b'[{"invoice_id": "1", "notes": "' + b"x" * (cut - 31) + b'", "n": '
        body = filler + literal + b"}]"
    expected = literal in ROUNDED
    assert needs_exact_numbers(memoryview(body)) == expected
    path = write(tmp_path, body)
    assert file_needs_exact_numbers(path) == expected


@pytest.mark.parametrize("literal", ROUNDED + GIVEN_BACK, ids=lambda b: b.decode())
def test_digits_inside_strings_are_no_integers_and_the_walk_back_stays_short(literal: bytes) -> None:
    # Zoho's 18- and 19-digit ids are strings: a run of digits after '"' (or "-" inside a
    # string) is not read as an integer. A long decimal inside a string still counts (the
    # decimal test cannot tell strings), and the walk back over 100,000 dashes stays short.
    from json2db_sync.reader.numbers import needs_exact_numbers

    for body in (b'["' + literal + b'"]', b'["2024-' + literal + b'"]', b'["' + b"-" * 100_000 + literal + b'"]'):
        found = needs_exact_numbers(memoryview(body))
        assert found == (literal in ROUNDED and b"." in literal)


def test_an_integer_no_64_bit_column_holds_is_loaded_exactly(tmp_path: Path, mode: str) -> None:
    # orjson gives 2**63 .. 2**64 - 1 as Python ints: the reader must say so (big_integers),
    # so that every record's integers are checked, not only the first of each shape.
    records = [{"invoice_id": str(n), "amount": n} for n in range(1, 50)]
    records[30]["amount"] = 9300000000000000000
    path = write(tmp_path, records)
    reader, batches = read(path, "invoices", mode, batch_size=10)
    loaded = [r for batch in batches for r in batch]
    assert loaded[30]["amount"] == 9300000000000000000
    assert reader.big_integers


# --- errors: the file system ------------------------------------------------------------


def test_folder_named_like_a_data_file(tmp_path: Path, mode: str) -> None:
    folder = tmp_path / "invoices.json"
    folder.mkdir()
    with pytest.raises(DataFileError, match=r"invoices\.json is a folder, not a data file"):
        read(folder, "invoices", mode)


def test_missing_file(tmp_path: Path, mode: str) -> None:
    with pytest.raises(DataFileError, match=r"invoices\.json: data file not found .*run again"):
        read(tmp_path / "invoices.json", "invoices", mode)


def test_symlink_loop(tmp_path: Path, mode: str) -> None:
    (tmp_path / "a.json").symlink_to(tmp_path / "invoices.json")
    (tmp_path / "invoices.json").symlink_to(tmp_path / "a.json")
    with pytest.raises(DataFileError, match=r"invoices\.json: cannot read the data file"):
        read(tmp_path / "invoices.json", "invoices", mode)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions and a non-root user")
def test_unreadable_file(tmp_path: Path, mode: str) -> None:
    path = write(tmp_path, INVOICES)
    path.chmod(0)
    try:
        with pytest.raises(DataFileError, match="permission denied"):
            read(path, "invoices", mode)
    finally:
        path.chmod(0o644)


# --- count_records and sha256_file ------------------------------------------------------


def test_count_records(tmp_path: Path, mode: str) -> None:
    path = write(tmp_path, {"code": 0, "message": "success", "invoices": [{"invoice_id": str(n)} for n in range(2345)]})
    assert count_records(path, "invoices", batch_size=100, stream_threshold_bytes=MODES[mode]) == 2345


def test_sha256_file(tmp_path: Path) -> None:
    content = os.urandom(3 * 2**20 + 17)
    path = write(tmp_path, content, "blob.json")
    assert sha256_file(path) == hashlib.sha256(content).hexdigest()
    assert sha256_file(write(tmp_path, b"", "empty.json")) == hashlib.sha256(b"").hexdigest()


def test_sha256_of_a_folder_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="is a folder"):
        sha256_file(tmp_path)


# --- the chunked path: large arrays cut at record boundaries, parsed with orjson -------


def _read_all(path: Path, entity: str, **kwargs: Any) -> tuple[list[dict[str, Any]], RecordReader]:
    reader = iter_record_batches(path, entity, **kwargs)
    records = [record for batch in reader for record in batch]
    return records, reader


def _tricky_records(count: int) -> list[dict[str, Any]]:
    """Records whose strings hold what a naive splitter would take for boundaries."""
    return [
        {
            "invoice_id": str(i),
            "notes": '},{"invoice_id": "fake"} ], [ {' * (i % 3),
            "line_items": [{"line_item_id": f"{i}-{n}", "description": "x" * 200} for n in range(3)],
            "total": i * 1.5,
        }
        for i in range(count)
    ]


@pytest.mark.parametrize("envelope", [False, True], ids=["array", "list-envelope"])
def test_chunked_parse_matches_whole_file(tmp_path: Path, envelope: bool) -> None:
    records = _tricky_records(6000)  # about 5 MiB: several 1 MiB chunks
    body: Any = {"code": 0, "message": "success", "invoices": records, "page_context": {"page": 1}} if envelope else records
    path = tmp_path / "invoices.json"
    path.write_text(json.dumps(body, indent=1))
    whole, _ = _read_all(path, "invoices")
    chunked, reader = _read_all(path, "invoices", stream_threshold_bytes=0, batch_size=700)
    assert reader.streamed and reader.records == 6000
    assert chunked == whole == records


@pytest.mark.parametrize("chunk_bytes", [4096, 64 * 1024, None])
def test_chunked_parse_cuts_chunks_of_the_size_asked(tmp_path: Path, chunk_bytes: int | None) -> None:
    # The destination picks the chunk size (SQLite the reader's small default, PostgreSQL
    # larger): any size gives the same records in order, and a batch never holds more than
    # one chunk's records.
    records = _tricky_records(3000)  # about 2.4 MiB
    path = tmp_path / "invoices.json"
    path.write_text(json.dumps(records))
    reader = iter_record_batches(path, "invoices", stream_threshold_bytes=0, batch_size=5000, chunk_bytes=chunk_bytes)
    batches = list(reader)
    assert [record for batch in batches for record in batch] == records
    smallest = min(len(json.dumps(record)) for record in records) + 2  # with its ", "
    per_chunk = (chunk_bytes or CHUNK_TARGET) // smallest + 1
    assert reader.streamed and max(map(len, batches)) <= per_chunk and len(batches) >= 3000 // per_chunk


def test_chunked_parse_grows_for_a_record_larger_than_a_chunk(tmp_path: Path) -> None:
    records = [{"invoice_id": "1", "blob": "y" * (3 * 2**20)}, {"invoice_id": "2"}]
    path = tmp_path / "invoices.json"
    path.write_text(json.dumps(records))
    chunked, _ = _read_all(path, "invoices", stream_threshold_bytes=0)
    assert chunked == records


def test_chunked_parse_hands_over_to_ijson_for_big_integers(tmp_path: Path) -> None:
    records = _tricky_records(4000)
    records[3500]["balance"] = 2**70
    path = tmp_path / "invoices.json"
    path.write_text(json.dumps(records))
    chunked, reader = _read_all(path, "invoices", stream_threshold_bytes=0)
    assert [r["invoice_id"] for r in chunked] == [str(i) for i in range(4000)]
    assert chunked[3500]["balance"] == 2**70
    assert reader.big_integers


def test_chunked_parse_reports_broken_json_with_its_position(tmp_path: Path) -> None:
    text = json.dumps(_tricky_records(4000))
    middle = text.index(', "total"', len(text) // 2)
    broken = text[:middle] + ", #" + text[middle + 1 :]  # outside any string
    path = tmp_path / "invoices.json"
    path.write_text(broken)
    with pytest.raises(DataFileError) as caught:
        _read_all(path, "invoices", stream_threshold_bytes=0)
    assert str(path) in str(caught.value)


def test_chunked_parse_when_records_start_with_different_keys(tmp_path: Path) -> None:
    records = _tricky_records(6000)
    records[0] = {"customer_id": "c", **records[0]}  # only the first record starts differently
    path = tmp_path / "invoices.json"
    path.write_text(json.dumps(records))
    chunked, reader = _read_all(path, "invoices", stream_threshold_bytes=0)
    assert chunked == records


def test_chunked_parse_hands_over_on_a_record_far_larger_than_a_chunk(tmp_path: Path) -> None:
    records = [{"invoice_id": "1", "blob": "y" * (6 * 2**20)}, {"invoice_id": "2"}]
    path = tmp_path / "invoices.json"
    path.write_text(json.dumps(records))
    chunked, _ = _read_all(path, "invoices", stream_threshold_bytes=0)
    assert chunked == records


@pytest.mark.parametrize("escape", ["\\ud800", "\\udc00", "\\ud83dx"], ids=["lone-high", "lone-low", "high-then-text"])
def test_lone_surrogates_are_refused_on_both_paths(tmp_path: Path, mode: str, escape: str) -> None:
    path = tmp_path / "invoices.json"
    path.write_text('[{"invoice_id": "1", "notes": "a' + escape + 'b"}]')
    with pytest.raises(DataFileError) as caught:
        list(iter_record_batches(path, "invoices", stream_threshold_bytes=MODES[mode]))
    assert str(path) in str(caught.value)


def test_surrogate_pairs_are_characters(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "invoices.json"
    path.write_text('[{"invoice_id": "1", "notes": "\\ud83d\\ude00"}]')
    records = [r for batch in iter_record_batches(path, "invoices", stream_threshold_bytes=MODES[mode]) for r in batch]
    assert records == [{"invoice_id": "1", "notes": "\U0001F600"}]
