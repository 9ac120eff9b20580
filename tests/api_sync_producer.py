"""Session trees written exactly as the real api_sync producer writes them.

Mirrors the writing code of the ``api_sync/`` package of BOA_Zoho_Data_Sync_V3:

- ``main_api_sync._create_sync_session_folder``: ``sync_session_<ts>/`` with ``raw_json/``,
  ``logs/`` (empty), ``reports/``, ``session_info.json`` and ``README.md``; after the run
  ``reports/session_summary.json``.
- ``runner_api_sync.fetch_data``: one ``raw_json/<ts>/`` folder per module, each with its own
  timestamp to the second, written as ``<ts>.tmp/`` and renamed when the module is complete
  (``raw_data_handler.finalize_sync_timestamp``); a killed run leaves the ``.tmp`` folder.
- ``raw_data_handler.save_raw_json_temp``: ``sync_metadata_<module>.json`` always (with
  ``is_temporary: true`` and ``sync_completed: false``, since it is written inside the
  ``.tmp`` folder before the rename), ``<module>.json`` (a bare array, ``indent=2``) only when
  there are records.
- ``client.get_data_for_module_with_line_items`` / ``_extract_line_items``: for invoices,
  bills, salesorders, purchaseorders and creditnotes, the detail records (with ``line_items``
  embedded) and ``<module>_line_items.json``, the same items with ``parent_id`` and
  ``parent_type`` (``module.rstrip('s')``) added. The embedded items are the same dict
  objects, so they carry the two fields as well.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

STAMP = "%Y-%m-%d_%H-%M-%S"

# client.ZohoClient.MODULES_WITH_LINE_ITEMS: module → id field of its records
MODULES_WITH_LINE_ITEMS = {
    "invoices": "invoice_id",
    "bills": "bill_id",
    "salesorders": "salesorder_id",
    "purchaseorders": "purchaseorder_id",
    "creditnotes": "creditnote_id",
}
LINE_ITEM_FIELDS = ("line_items", "invoice_items", "bill_items", "items")


def _dump(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2)


def _metadata(folder: Path, module: str, count: int, written_at: datetime) -> None:
    """raw_data_handler._create_sync_metadata, called with is_temp=True."""
    _dump(
        folder / f"sync_metadata_{module}.json",
        {
            "sync_timestamp": written_at.isoformat(),
            "module": module,
            "records_found": count,
            "sync_completed": False,
            "is_temporary": True,
            "has_data": count > 0,
        },
    )


def _save_temp(raw: Path, data: list[dict[str, Any]], module: str, stamp: str, written_at: datetime) -> Path:
    """raw_data_handler.save_raw_json_temp."""
    folder = raw / f"{stamp}.tmp"
    folder.mkdir(parents=True, exist_ok=True)
    _metadata(folder, module, len(data), written_at)
    if data:
        _dump(folder / f"{module}.json", data)
    return folder


def extract_line_items(record: dict[str, Any], module: str, record_id: str) -> list[dict[str, Any]]:
    """client._extract_line_items: tags the embedded dicts in place and returns them."""
    items: list[dict[str, Any]] = []
    for field in LINE_ITEM_FIELDS:
        if field in record:
            value = record[field]
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        item["parent_id"] = record_id
                        item["parent_type"] = module.rstrip("s")
                        items.append(item)
            break
    return items


def write_api_sync_session(
    sessions_dir: Path,
    started: datetime,
    modules: Mapping[str, list[dict[str, Any]]],
    *,
    interrupted: Iterable[str] = (),
    line_item_files: Mapping[str, list[dict[str, Any]]] | None = None,
    records_found: Mapping[str, int] | None = None,
) -> Path:
    """Write one api_sync session and return its folder.

    ``modules`` maps a module to its records in fetch order (an empty list is an empty
    module: metadata only). Modules with line items run the producer's extraction over
    the records that carry ``line_items`` (detail records). ``interrupted`` modules are
    left as ``<ts>.tmp`` folders (a killed run). ``line_item_files`` replaces what a
    module's line-item file holds (to test a disagreeing copy, or list-form parents with a
    file of their own); ``records_found`` overrides a module's metadata count.
    """
    session_stamp = started.strftime(STAMP)
    session = sessions_dir / f"sync_session_{session_stamp}"
    raw = session / "raw_json"
    raw.mkdir(parents=True)
    (session / "logs").mkdir()
    (session / "reports").mkdir()
    _dump(
        session / "session_info.json",
        {
            "session_timestamp": session_stamp,
            "session_start": started.isoformat(),
            "session_folder": str(session),
            "subdirectories": {
                "raw_json": "Raw JSON data from API",
                "logs": "Sync operation logs",
                "reports": "Verification and summary reports",
            },
        },
    )
    (session / "README.md").write_text(f"# Sync Session: {session_stamp}\n", encoding="utf-8")
    stopped = set(interrupted)
    results: dict[str, Any] = {}
    moment = started
    for module, records in modules.items():
        moment += timedelta(seconds=2)  # each module folder has its own second
        stamp = moment.strftime(STAMP)
        items: list[dict[str, Any]] | None = None
        if module in MODULES_WITH_LINE_ITEMS:
            # get_data_for_module_with_line_items tags the embedded items before fetch_data
            # saves the records, so both copies carry parent_id and parent_type.
            id_field = MODULES_WITH_LINE_ITEMS[module]
            items = []
            for record in records:
                items.extend(extract_line_items(record, module, str(record[id_field])))
            if line_item_files is not None and module in line_item_files:
                items = line_item_files[module]
        folder = _save_temp(raw, records, module, stamp, moment)
        results[module] = {"success": True, "record_count": len(records), "timestamp": stamp}
        if items is not None:
            _save_temp(raw, items, f"{module}_line_items", stamp, moment)
            results[module]["line_item_count"] = len(items)
        if records_found and module in records_found:
            _metadata(folder, module, records_found[module], moment)
        if module not in stopped:
            folder.rename(raw / stamp)
    _dump(
        session / "reports" / "session_summary.json",
        {
            "session_completed": (moment + timedelta(seconds=1)).isoformat(),
            "sync_results": {"modules": results},
            "summary": {
                "total_modules": len(results),
                "successful_modules": len(results),
                "failed_modules": 0,
                "total_records": sum(r["record_count"] for r in results.values()),
            },
        },
    )
    return session


# --- records shaped like Zoho's (detail form with line items, list form without) --------


def _zoho_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S-0400")


def document(
    module: str, number: int, modified: datetime, *, lines: Sequence[tuple[float, float]] = ((2, 10.0),), detail: bool = True
) -> dict[str, Any]:
    """A detail (or list-form) invoice/bill/...: ``lines`` are (quantity, rate) pairs."""
    id_field = MODULES_WITH_LINE_ITEMS[module]
    record_id = f"{460000000000 + number}"
    line_items = [
        {
            "line_item_id": f"{record_id}{index:03d}",
            "item_id": f"9000{index}",
            "name": f"Item {index}",
            "description": "",
            "quantity": quantity,
            "rate": rate,
            "discount": 0,
            "tax_percentage": "",
            "item_total": round(quantity * rate, 2),
        }
        for index, (quantity, rate) in enumerate(lines)
    ]
    total = round(sum(item["item_total"] for item in line_items), 2)
    record: dict[str, Any] = {
        id_field: record_id,
        f"{module.rstrip('s')}_number": f"{module[:3].upper()}-{number:05d}",
        "customer_id": "7000001",
        "date": modified.strftime("%Y-%m-%d"),
        "status": "sent",
        "total": total,
        "balance": total,
        "created_time": _zoho_time(modified - timedelta(days=1)),
        "last_modified_time": _zoho_time(modified),
    }
    if detail:
        record["sub_total"] = total
        record["line_items"] = line_items
        record["billing_address"] = {"city": "Boston", "zip": "02134"}
    return record


def contact(number: int, modified: datetime) -> dict[str, Any]:
    return {
        "contact_id": f"{7000000 + number}",
        "contact_name": f"Customer {number}",
        "contact_type": "customer",
        "outstanding_receivable_amount": 0,
        "created_time": _zoho_time(modified - timedelta(days=30)),
        "last_modified_time": _zoho_time(modified),
    }
