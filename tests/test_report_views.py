"""The finance report views (report_views.py): each view's figures against the same figures
computed in Python straight from the JSON files, on SQLite and PostgreSQL, for generated
sample data and for the real Zoho captures; and the views' life cycle (made only where the
tables allow, never blocking a recreation or a schema change, user objects left alone).
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Backend

from json2db_sync import JSON2DBSyncRunner
from json2db_sync.json_analyzer import normalize_id
from json2db_sync.reader import SINGULAR_KEYS
from json2db_sync.report_views import VIEW_NAMES, view_spec
from json2db_sync.sample_data import generate_sample_data

SESSION_FMT = "%Y-%m-%d_%H-%M-%S"
EXCLUDED = {"draft", "void"}


# --- the figures, computed in Python from the files ------------------------------------------


def file_records(path: Path, entity: str) -> list[dict[str, Any]]:
    """The records of one export file (array, list envelope, detail envelope, bare record)."""
    data = json.loads(path.read_text())
    if isinstance(data, list):
        return data
    if isinstance(data.get(entity), list):
        return data[entity]
    singular = SINGULAR_KEYS.get(entity)
    if singular and isinstance(data.get(singular), dict):
        return [data[singular]]
    return [data]


def _modified(record: dict[str, Any]) -> datetime | None:
    text = record.get("last_modified_time")
    if not isinstance(text, str) or not text:
        return None
    return datetime.strptime(text[:19] + text[19:].replace(":", ""), "%Y-%m-%dT%H:%M:%S%z")


def latest(files: Iterable[Path], entity: str, id_field: str) -> dict[str, dict[str, Any]]:
    """Each record's state after loading ``files`` in order: newest ``last_modified_time``
    wins, and a later version keeps the fields it does not carry."""
    state: dict[str, dict[str, Any]] = {}
    for path in files:
        for record in file_records(path, entity):
            key = normalize_id(record.get(id_field))
            if not key:
                continue
            old = state.get(key)
            if old is not None:
                new_time, old_time = _modified(record), _modified(old)
                if new_time is not None and old_time is not None and new_time < old_time:
                    continue
                record = {**old, **record}
            state[key] = record
    return state


def num(value: Any) -> float:
    return 0.0 if value in (None, "") else float(value)


def day(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def counted(docs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs.values() if d.get("status") not in EXCLUDED]


def sales_by_month(invoices: dict[str, dict[str, Any]]) -> dict[tuple, tuple]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for inv in counted(invoices):
        when = day(inv.get("date"))
        if when is not None:
            groups[(when.strftime("%Y-%m"), inv.get("currency_code") or "")].append(inv)
    result = {}
    for key, docs in groups.items():
        invoiced = sum(num(d.get("total")) for d in docs)
        outstanding = sum(num(d.get("balance")) for d in docs)
        result[key] = (len(docs), round(invoiced, 2), round(invoiced - outstanding, 2), round(outstanding, 2))
    return result


def aging(docs: dict[str, dict[str, Any]], party: str, today: date) -> dict[tuple, tuple]:
    buckets: dict[tuple, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    for doc in counted(docs):
        balance = num(doc.get("balance"))
        if balance <= 0:
            continue
        due = day(doc.get("due_date"))
        days = (today - due).days if due else None
        slot = 1 if days is None or days <= 0 else 2 if days <= 30 else 3 if days <= 60 else 4 if days <= 90 else 5
        row = buckets[(doc.get(f"{party}_id"), doc.get("currency_code") or "")]
        row[0] += 1
        row[slot] += balance
        row[6] += balance
    return {key: (int(r[0]), *(round(v, 2) for v in r[1:])) for key, r in buckets.items()}


def customer_balances(invoices: dict[str, dict[str, Any]], today: date) -> dict[tuple, tuple]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for inv in counted(invoices):
        groups[(inv.get("customer_id"), inv.get("currency_code") or "")].append(inv)
    result = {}
    for key, docs in groups.items():
        invoiced = sum(num(d.get("total")) for d in docs)
        outstanding = sum(num(d.get("balance")) for d in docs)
        overdue = sum(
            num(d.get("balance"))
            for d in docs
            if num(d.get("balance")) > 0 and day(d.get("due_date")) and (today - day(d.get("due_date"))).days > 0
        )
        unpaid_dues = [day(d.get("due_date")) for d in docs if num(d.get("balance")) > 0 and day(d.get("due_date"))]
        dates = [day(d.get("date")) for d in docs if day(d.get("date"))]
        result[key] = (
            len(docs),
            round(invoiced, 2),
            round(invoiced - outstanding, 2),
            round(outstanding, 2),
            round(overdue, 2),
            min(unpaid_dues).isoformat() if unpaid_dues else None,
            max(dates).isoformat() if dates else None,
        )
    return result


# --- the figures, read from the views ---------------------------------------------------------


def view(backend: Backend, name: str) -> list[dict[str, Any]]:
    columns = [c for c, _ in view_spec(name).columns]
    select = ", ".join(f'"{c}"' for c in columns)
    return [dict(zip(columns, row)) for row in backend.query(f'SELECT {select} FROM "{name}"')]


def money(value: Any) -> float:
    return round(float(value), 2)


def views_present(backend: Backend) -> set[str]:
    if backend.kind == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'view'"
    else:
        sql = "SELECT table_name FROM information_schema.views WHERE table_schema = current_schema()"
    return {r[0] for r in backend.query(sql)}


def utc_today() -> date:
    return datetime.now(UTC).date()


def check_views_against(backend: Backend, files: dict[str, list[Path]]) -> None:
    """Every finance view equals the figures computed from ``files`` (entity → files in
    load order)."""
    invoices = latest(files["invoices"], "invoices", "invoice_id")
    bills = latest(files["bills"], "bills", "bill_id")
    today = utc_today()

    got_sales = {
        (r["month"], r["currency_code"]): (r["invoices"], money(r["invoiced"]), money(r["paid"]), money(r["outstanding"]))
        for r in view(backend, "json2db_sales_by_month")
    }
    assert got_sales == sales_by_month(invoices)

    bucket_names = ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90", "total_outstanding")
    for name, party, count, docs in (
        ("json2db_receivables_aging", "customer", "open_invoices", invoices),
        ("json2db_payables_aging", "vendor", "open_bills", bills),
    ):
        got = {
            (r[f"{party}_id"], r["currency_code"]): (r[count], *(money(r[b]) for b in bucket_names))
            for r in view(backend, name)
        }
        assert got == aging(docs, party, today), name
        for r in view(backend, name):  # the buckets add up to the whole
            assert money(sum(float(r[b]) for b in bucket_names[:-1])) == money(r["total_outstanding"])

    got_balances = {
        (r["customer_id"], r["currency_code"]): (
            r["invoices"],
            money(r["invoiced"]),
            money(r["paid"]),
            money(r["outstanding"]),
            money(r["overdue"]),
            r["oldest_unpaid_due_date"],
            r["last_invoice_date"],
        )
        for r in view(backend, "json2db_customer_balances")
    }
    assert got_balances == customer_balances(invoices, today)


def sync(backend: Backend, **kwargs: Any) -> dict[str, Any]:
    result = JSON2DBSyncRunner(**backend.runner_kwargs).full_sync_workflow(**kwargs)
    assert result["success"], (result["error"], result["error_type"])
    return result


# --- sample data --------------------------------------------------------------------------------


@pytest.fixture
def aged_sample(sessions_dir: Path) -> dict[str, list[Path]]:
    """Invoice and bill exports from six points over the last six months (two days of
    sessions each, own seeds), so that every aging bucket holds money whatever today's date
    (with 17 weeks as the oldest point, the over-90 bucket was empty on some days)."""
    now = datetime.now().replace(microsecond=0)
    for weeks_back, seed in ((26, 10), (17, 11), (12, 12), (8, 13), (4, 14), (0, 15)):
        generate_sample_data(
            sessions_dir, days=2, seed=seed, invoices=16, now=now - timedelta(weeks=weeks_back),
            entities=("invoices", "bills"),
        )
    return {
        entity: sorted(sessions_dir.glob(f"sync_session_*/raw_json/*/{entity}.json"))
        for entity in ("invoices", "bills")
    }


def test_views_match_python_figures_on_sample_data(backend: Backend, aged_sample: dict[str, list[Path]]) -> None:
    first = sync(backend, cutoff_days=400)
    made = first["steps"]["table_creation"]["report_views"]
    assert made["views"] == made["rebuilt"] == list(VIEW_NAMES)
    assert views_present(backend) >= set(VIEW_NAMES)
    check_views_against(backend, aged_sample)

    # The data really spreads over the buckets (else the comparison above proves little).
    rows = view(backend, "json2db_receivables_aging")
    for bucket in ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90"):
        assert sum(float(r[bucket]) for r in rows) > 0, bucket

    # The sync history: one row per run, newest first, with the run's own counts.
    second = sync(backend, cutoff_days=400)
    # Nothing the views read changed: they were left alone (no lock taken on them).
    assert second["steps"]["table_creation"]["report_views"]["rebuilt"] == []
    history = view(backend, "json2db_sync_history")
    assert [h["operation"] for h in history] == ["full_sync_workflow", "full_sync_workflow"]
    assert history[0]["run_id"] > history[1]["run_id"]
    for row, result in zip(history, (second, first)):
        stats = result["statistics"]
        assert row["status"] == "success"
        assert (row["records"], row["inserted"], row["updated"], row["rejected"], row["files_loaded"]) == (
            stats["total_records"],
            stats["records_inserted"],
            stats["records_updated"],
            stats["records_rejected"],
            stats["files_loaded"],
        )
    assert history[1]["records"] > 0 and history[0]["files_loaded"] == 0  # the rerun loaded nothing new


# --- the real captures --------------------------------------------------------------------------


def real_sessions(real_samples: Path, sessions_dir: Path) -> dict[str, list[Path]]:
    """One session per invoice or bill capture (what the views read), a minute apart, in
    name order (as test_real_samples does with every capture)."""
    start = datetime.now() - timedelta(hours=2)
    files: dict[str, list[Path]] = defaultdict(list)
    captures = [p for p in sorted(real_samples.glob("*.json")) if p.name.split("__", 1)[0] in ("invoices", "bills")]
    for index, sample in enumerate(captures):
        entity = sample.name.split("__", 1)[0]
        when = (start + timedelta(minutes=index)).strftime(SESSION_FMT)
        folder = sessions_dir / f"sync_session_{when}" / "raw_json" / when
        folder.mkdir(parents=True)
        shutil.copyfile(sample, folder / f"{entity}.json")
        files[entity].append(folder / f"{entity}.json")
    return files


def test_views_match_python_figures_on_real_samples(
    backend: Backend, real_samples: Path, sessions_dir: Path
) -> None:
    files = real_sessions(real_samples, sessions_dir)
    result = sync(backend)
    assert result["steps"]["table_creation"]["report_views"]["skipped"] == {}
    check_views_against(backend, files)
    # Real exports hold draft, void, paid, and invoices long past due in other currencies.
    aging_rows = view(backend, "json2db_receivables_aging")
    assert any(float(r["days_over_90"]) > 0 for r in aging_rows)
    assert len({r["currency_code"] for r in view(backend, "json2db_payables_aging")}) > 1


# --- life cycle ----------------------------------------------------------------------------------


def _invoice(number: int, **fields: Any) -> dict[str, Any]:
    record = {
        "invoice_id": str(1000 + number),
        "customer_id": "c1",
        "customer_name": "Acme",
        "status": "sent",
        "date": "2026-01-05",
        "due_date": "2026-02-04",
        "total": 100.0,
        "balance": 40.0,
        "last_modified_time": "2026-01-05T10:00:00+0000",
    }
    record.update(fields)
    return record


def test_only_views_whose_tables_and_columns_exist(backend: Backend, make_session) -> None:
    """Invoices without amounts and no bills: the views that need them are skipped, with why."""
    make_session(datetime.now() - timedelta(hours=1), {"invoices": [{"invoice_id": "1", "date": "2026-01-01"}]})
    result = sync(backend)
    views = result["steps"]["table_creation"]["report_views"]
    assert views["views"] == ["json2db_sync_history"]
    assert views["skipped"]["json2db_payables_aging"] == "no json_bills table yet"
    assert "has no total, balance column" in views["skipped"]["json2db_sales_by_month"]
    assert views_present(backend) == {"json2db_sync_history"}


def test_recreate_and_schema_changes_keep_the_views_working(backend: Backend, make_session) -> None:
    t0 = datetime.now() - timedelta(hours=3)
    make_session(t0, {"invoices": [_invoice(1), _invoice(2, balance="", customer_name="")], "bills": []})
    sync(backend)
    assert view(backend, "json2db_sales_by_month") == [
        {"month": "2026-01", "currency_code": "", "invoices": 2, "invoiced": 200.0, "paid": 160.0, "outstanding": 40.0}
    ]

    # A schema change: a new column the views then use (the currency), and on PostgreSQL a
    # column a view reads (customer_name, so far only "") retyped now that it holds a number.
    make_session(
        t0 + timedelta(hours=1),
        {
            "invoices": [
                _invoice(2, balance=10.0, currency_code="EUR", customer_id="c2", customer_name=42,
                         last_modified_time="2026-01-06T10:00:00+0000")
            ]
        },
    )
    sync(backend)
    got = {(r["currency_code"], r["outstanding"]) for r in view(backend, "json2db_sales_by_month")}
    assert got == {("", 40.0), ("EUR", 10.0)}
    names = {r["customer_id"]: r["customer_name"] for r in view(backend, "json2db_customer_balances")}
    assert {k: str(v) for k, v in names.items()} == {"c1": "Acme", "c2": "42"}

    # Recreate drops every json_* table (a view on them must not stop it) and makes the
    # views again over the new, empty tables.
    runner = JSON2DBSyncRunner(**backend.runner_kwargs)
    recreated = runner.recreate_json_tables()
    assert recreated["success"], recreated["error"]
    assert "json2db_sales_by_month" in recreated["report_views"]["rebuilt"]
    assert view(backend, "json2db_sales_by_month") == []
    sync(backend)
    assert {r["currency_code"] for r in view(backend, "json2db_sales_by_month")} == {"", "EUR"}


def test_user_objects_with_our_names_or_their_own_views_are_left_alone(backend: Backend, make_session) -> None:
    from test_engine_matrix import execute

    make_session(datetime.now() - timedelta(hours=2), {"invoices": [_invoice(1)]})
    sync(backend)
    execute(backend, 'CREATE TABLE "json2db_payables_aging" (note TEXT)')
    execute(backend, "CREATE VIEW my_invoices AS SELECT id FROM json_invoices")
    make_session(datetime.now() - timedelta(hours=1), {"invoices": [_invoice(2)]})
    result = sync(backend)
    skipped = result["steps"]["table_creation"]["report_views"]["skipped"]
    assert "a table named json2db_payables_aging exists already" in skipped["json2db_payables_aging"]
    assert backend.query("SELECT COUNT(*) FROM my_invoices")[0][0] == 2
    assert view(backend, "json2db_receivables_aging")[0]["open_invoices"] == 2


def test_a_failed_run_leaves_the_views_as_they_were(backend: Backend, make_session) -> None:
    make_session(datetime.now() - timedelta(hours=2), {"invoices": [_invoice(1)]})
    sync(backend)
    make_session(datetime.now() - timedelta(hours=1), {"invoices": "[{broken"})
    result = JSON2DBSyncRunner(**backend.runner_kwargs).full_sync_workflow()
    assert not result["success"]
    assert views_present(backend) >= {"json2db_sales_by_month", "json2db_sync_history"}
    assert view(backend, "json2db_sales_by_month")[0]["invoices"] == 1


def test_a_column_widened_to_decimals_keeps_the_views(backend: Backend, make_session) -> None:
    """Whole amounts first (an INTEGER/BIGINT column), then a fraction: SQLite widens the
    column to REAL, PostgreSQL retypes it to NUMERIC; the views that read it never stop that,
    and come back with the new figures."""
    t0 = datetime.now() - timedelta(hours=3)
    make_session(t0, {"invoices": [_invoice(1, total=100, balance=40)]})
    sync(backend)
    assert view(backend, "json2db_sales_by_month")[0]["invoiced"] == 100
    make_session(t0 + timedelta(hours=1), {"invoices": [_invoice(2, total=100.5, balance=0.25)]})
    result = sync(backend)
    assert {"json2db_sales_by_month", "json2db_receivables_aging"} <= set(
        result["steps"]["table_creation"]["report_views"]["rebuilt"]
    )
    declared = {name.lower(): kind.lower() for name, kind in backend.columns("json_invoices").items()}
    assert declared["total"] in ("real", "numeric") and declared["balance"] in ("real", "numeric")
    [row] = view(backend, "json2db_sales_by_month")
    assert (row["invoiced"], row["outstanding"]) == (200.5, 40.25)
