"""Input cases of issue 17: money exact or said so, ambiguous envelopes refused the same way
by both readers, an invalid file quarantined once, files in UTF-16, the cutoff beyond the
calendar, ``--db`` naming a folder.

File cases run read whole and streamed (``mode``), as in test_bad_input.py."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Backend
from reliability_support import T_NEW, T_NEWER, assert_no_traceback, checksum, contact, invoice, rows, run_cli
from test_bad_input import loaded, mode, new_session, pad, sync, value_of  # noqa: F401 - fixtures
from test_engine_matrix import T1, column_for, synced

from json2db_sync import JSON2DBSyncRunner
from json2db_sync.reader import inexact_decimal, iter_record_batches

# --- money is exact or says so ------------------------------------------------------------

INEXACT = ["99999999999999.99", "12345678901234567.89", "-0.12345678901234567", "1.00000000000000001"]
EXACT = ["12.5", "0.1", "99999999999.99", "0.1234567890123456", "1.10000000000000000", "1e-7", "123456789012345"]


@pytest.mark.parametrize("literal", INEXACT)
def test_decimals_a_double_rounds_are_recognised(literal: str) -> None:
    assert inexact_decimal(literal)
    assert str(float(literal)) != literal


@pytest.mark.parametrize("literal", EXACT)
def test_decimals_a_double_gives_back_are_left_alone(literal: str) -> None:
    assert not inexact_decimal(literal)


def test_inexact_decimals_are_kept_exactly_and_warned_naming_the_column(loaded: Path, make_session, mode: str) -> None:
    body = b'{"invoice_id":"9","amount_due":99999999999999.99,"rate_x":12345678901234567.89,"fine":0.1234567890123456}'
    new_session(make_session, b"[" + pad(mode) + body + b"]")
    result = sync()
    assert result["success"], result["error"]
    assert value_of(loaded, "json_invoices", "9", ["amount_due"]) == "99999999999999.99"
    assert value_of(loaded, "json_invoices", "9", ["rate_x"]) == "12345678901234567.89"
    assert value_of(loaded, "json_invoices", "9", ["fine"]) == 0.1234567890123456
    warned = [w for w in result["warnings"] if "kept exactly" in w]
    assert any("json_invoices.amount_due" in w and "99999999999999.99" in w for w in warned), result["warnings"]
    assert any("json_invoices.rate_x" in w for w in warned), result["warnings"]
    assert not any("not numbers" in w for w in result["warnings"])


def test_an_inexact_decimal_in_a_number_column_goes_to_the_overflow_exactly(loaded: Path, make_session, mode: str) -> None:
    # "total" is a REAL column after the first load: the exact text is kept beside it
    body = b'{"invoice_id":"9","total":99999999999999.99}'
    new_session(make_session, b"[" + pad(mode) + body + b"]")
    result = sync()
    assert result["success"], result["error"]
    total, overflow = rows(loaded, "SELECT total, _overflow_json FROM json_invoices WHERE id = '9'")[0]
    assert total is None
    assert json.loads(overflow)["total"] == "99999999999999.99"
    warned = [w for w in result["warnings"] if "json_invoices.total" in w]
    assert warned and "kept exactly" in warned[0] and "_overflow_json" in warned[0], result["warnings"]
    assert "not numbers" not in warned[0] and "text values" not in warned[0]


def test_the_big_integer_warning_speaks_of_numbers(loaded: Path, make_session) -> None:
    new_session(make_session, b'[{"invoice_id":"9","total":123456789012345678901234567890}]')
    result = sync()
    assert result["success"], result["error"]
    warned = [w for w in result["warnings"] if "json_invoices.total" in w]
    assert warned and "numbers with more digits" in warned[0], result["warnings"]
    assert "not numbers" not in " ".join(result["warnings"])


def test_text_in_a_number_column_is_still_called_text(loaded: Path, make_session) -> None:
    new_session(make_session, b'[{"invoice_id":"9","total":"n/a"}]')
    result = sync()
    assert result["success"], result["error"]
    warned = [w for w in result["warnings"] if "json_invoices.total" in w]
    assert warned and "text values" in warned[0], result["warnings"]


def test_inexact_decimals_on_both_engines(backend: Backend, make_session, workspace: Path) -> None:
    runner = JSON2DBSyncRunner(**backend.runner_kwargs)
    make_session(T1, {"invoices": '[{"invoice_id":"1","precise":99999999999999.99,"plain":12.5}]'})
    result = synced(runner)
    assert any("precise" in w and "kept exactly" in w for w in result["warnings"]), result["warnings"]
    column = column_for(backend, "json_invoices", "precise")
    found = backend.query(f'SELECT "{column}", plain FROM json_invoices')
    assert [(str(a), float(b)) for a, b in found] == [("99999999999999.99", 12.5)]


def test_reader_gives_a_decimal_whole_and_streamed(tmp_path: Path) -> None:
    path = tmp_path / "invoices.json"
    records = [{"invoice_id": str(i), "total": 1.25} for i in range(2000)]
    text = json.dumps(records)[:-1] + ', {"invoice_id":"x","total":12345678901234567.89}]'
    path.write_text(text)
    for threshold in (None, 0):
        last = [batch for batch in iter_record_batches(path, "invoices", stream_threshold_bytes=threshold)][-1][-1]
        assert last["total"] == Decimal("12345678901234567.89"), threshold


# --- envelopes: one answer from both readers ------------------------------------------------


def _records(count: int, start: int = 0) -> str:
    return json.dumps([{"invoice_id": f"r{i}", "total": 1.5, "note": "x" * 40} for i in range(start, start + count)])


AMBIGUOUS = [
    ("list-then-detail", '{"code":0,"invoices":%s,"invoice":{"invoice_id":"d1"}}' % _records(3000), "both the 'invoices' list"),
    ("detail-then-list", '{"code":0,"invoice":{"invoice_id":"d1"},"invoices":%s}' % _records(3000), "both the 'invoices' list"),
    ("list-key-twice", '{"code":0,"invoices":%s,"invoices":%s}' % (_records(5), _records(3000, 10)), "'invoices' is written 2 times"),
    ("list-key-twice-apart", '{"code":0,"invoices":%s,"page_context":{"page":1},"invoices":%s}' % (_records(3000), _records(5, 5000)), "'invoices' is written 2 times"),
    ("detail-key-twice", '{"code":0,"invoice":{"invoice_id":"a"},"invoice":{"invoice_id":"b"}}', "'invoice' is written 2 times"),
    ("error-code-after-records", '{"invoices":%s,"code":57,"message":"not authorized"}' % _records(3000), "code 57"),
    ("code-zero-then-error", '{"code":0,"invoices":%s,"code":57}' % _records(3000), "code 57"),
]


@pytest.mark.parametrize(("case_id", "text", "phrase"), AMBIGUOUS, ids=[c[0] for c in AMBIGUOUS])
def test_both_readers_refuse_an_ambiguous_envelope_naming_file_and_reason(
    tmp_path: Path, case_id: str, text: str, phrase: str
) -> None:
    path = tmp_path / "invoices.json"
    path.write_text(text)
    messages = []
    for threshold in (None, 0):  # read whole, streamed
        with pytest.raises(Exception) as caught:
            for _batch in iter_record_batches(path, "invoices", stream_threshold_bytes=threshold):
                pass
        assert type(caught.value).__name__ == "ValidationError"
        messages.append(str(caught.value))
    for message in messages:
        assert str(path) in message and phrase in message, message


@pytest.mark.parametrize(
    "text",
    [
        '{"code":0,"message":"success","invoices":%s,"page_context":{"page":1,"has_more_page":false}}' % _records(3000),
        '{"invoices":%s,"code":0,"message":"success"}' % _records(3000),
        '{"code":0,"invoices":%s}' % json.dumps([{"invoice_id": f"n{i}", "tax": {"code": "GST"}} for i in range(3000)]),
    ],
    ids=["usual", "code-zero-after-records", "code-nested-in-records"],
)
def test_both_readers_load_an_unambiguous_envelope_alike(tmp_path: Path, text: str) -> None:
    path = tmp_path / "invoices.json"
    path.write_text(text)
    counts = [sum(map(len, iter_record_batches(path, "invoices", stream_threshold_bytes=t))) for t in (None, 0)]
    assert counts == [3000, 3000]


def test_an_ambiguous_envelope_fails_the_run_and_nothing_lands(loaded: Path, make_session, mode: str) -> None:
    before = checksum(loaded)
    body = b'{"code":0,"invoices":[' + pad(mode) + b'{"invoice_id":"9"}],"invoice":{"invoice_id":"10"}}'
    bad = new_session(make_session, body)
    result = sync()
    assert (result["success"], result["error_type"]) == (False, "validation_error"), result["error"]
    assert str(bad) in result["error"] and "ambiguous envelope" in result["error"]
    assert checksum(loaded) == before


# --- quarantined once --------------------------------------------------------------------


def test_an_invalid_file_is_quarantined_once_not_on_every_run(
    loaded: Path, make_session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JSON2DB_ON_INVALID_FILE", "skip")
    bad = new_session(make_session, b'[{"invoice_id":"9","total":NaN}]')
    first = sync()
    assert first["success"], first["error"]
    assert first["statistics"]["files_invalid"] == 1
    for _ in range(2):
        again = sync()
        assert again["success"], again["error"]
        assert again["statistics"]["files_invalid"] == 0
        assert again["statistics"]["records_rejected"] == 0
        assert not [w for w in again["warnings"] if str(bad) in w], again["warnings"]
    assert rows(loaded, "SELECT COUNT(*) FROM _json2db_rejected WHERE source_file = ?", (str(bad),)) == [(1,)]


def test_a_quarantined_file_that_changes_is_read_again(loaded: Path, make_session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JSON2DB_ON_INVALID_FILE", "skip")
    bad = new_session(make_session, b'[{"invoice_id":"9","total":NaN}]')
    assert sync()["statistics"]["files_invalid"] == 1
    bad.write_text('[{"invoice_id":"9","total":Infinity}]')  # broken differently: a new entry
    assert sync()["statistics"]["files_invalid"] == 1
    bad.write_text(json.dumps([invoice("9", 12.5)]))  # fixed: loads
    fixed = sync()
    assert fixed["success"] and fixed["statistics"]["files_invalid"] == 0
    assert rows(loaded, "SELECT total FROM json_invoices WHERE id = '9'") == [(12.5,)]
    assert rows(loaded, "SELECT COUNT(*) FROM _json2db_rejected WHERE source_file = ?", (str(bad),)) == [(2,)]


def test_the_same_broken_bytes_in_another_session_are_their_own_entry(
    loaded: Path, make_session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JSON2DB_ON_INVALID_FILE", "skip")
    content = b'[{"invoice_id":"9","total":NaN}]'
    new_session(make_session, content)
    assert sync()["statistics"]["files_invalid"] == 1
    make_session(T_NEWER, {"invoices": content})
    assert sync()["statistics"]["files_invalid"] == 1
    assert rows(loaded, "SELECT COUNT(*) FROM _json2db_rejected") == [(2,)]


# --- messages ----------------------------------------------------------------------------


@pytest.mark.parametrize(("encoding", "named"), [("utf-16", "UTF-16"), ("utf-16-le", "UTF-16LE"), ("utf-16-be", "UTF-16BE"), ("utf-32", "UTF-32")])
def test_a_utf16_file_is_named_so_with_the_right_conversion(
    loaded: Path, make_session, mode: str, encoding: str, named: str
) -> None:
    text = "[" + pad(mode).decode() + json.dumps(invoice("9", 1.0)) + "]"
    bad = new_session(make_session, text.encode(encoding))
    result = sync()
    assert (result["success"], result["error_type"]) == (False, "file_error")
    assert str(bad) in result["error"]
    assert f"is in {named}" in result["error"] and f"iconv -f {named} -t UTF-8" in result["error"], result["error"]
    assert "latin1" not in result["error"]


def test_invalid_utf8_suggests_a_windows_code_page_not_latin1(loaded: Path, make_session) -> None:
    new_session(make_session, b'[{"invoice_id":"9","customer_name":"Caf\xe9"}]')
    result = sync()
    assert "not valid UTF-8" in result["error"] and "cp1252" in result["error"] and "latin1" not in result["error"]


@pytest.mark.parametrize("days", [1_000_000, 10**12])
def test_a_cutoff_beyond_the_calendar_means_everything(loaded: Path, make_session, days: int) -> None:
    make_session(T_NEW, {"contacts": [contact("c9", "Initech")]})
    result = JSON2DBSyncRunner().full_sync_workflow(cutoff_days=days)
    assert result["success"], result["error"]
    assert result["statistics"]["files_loaded"] >= 1
    assert rows(loaded, "SELECT COUNT(*) FROM json_contacts WHERE id = 'c9'") == [(1,)]


def test_cutoff_beyond_the_calendar_on_the_command_line(loaded: Path, workspace: Path) -> None:
    proc = run_cli(workspace / "json2db_sync", "sync", "--cutoff-days", "1000000")
    assert proc.returncode == 0, proc.stderr
    assert_no_traceback(proc.stdout, proc.stderr)


@pytest.mark.parametrize("command", [["sync"], ["verify"], ["report"], ["backup"]])
def test_db_pointing_at_a_folder_says_so(loaded: Path, workspace: Path, tmp_path: Path, command: list[str]) -> None:
    place = tmp_path / "elsewhere"
    folder = place / "databases"
    folder.mkdir(parents=True)
    proc = run_cli(workspace / "json2db_sync", "--db", str(folder), *command)
    assert proc.returncode == 1
    flat = " ".join(proc.stderr.split())
    assert "is a folder, not a database file" in flat and "does not exist" not in flat, proc.stderr
    assert_no_traceback(proc.stdout, proc.stderr)
    assert sorted(p.name for p in place.iterdir()) == ["databases"]  # no lock file beside it
