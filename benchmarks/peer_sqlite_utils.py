"""The peer: the same job written with sqlite-utils, the tool a user would otherwise pick.

What a user would write with sqlite-utils' Python API for api_sync's invoice files: each
file parsed with orjson, nested objects flattened with ``sqlite_utils.utils.flatten`` (the
``--flatten`` rule: ``billing_address_city``), top-level arrays of objects split into child
tables, parents upserted with ``upsert_all(pk="id", alter=True)`` (a record updates only the
columns it carries), the children of every parent that carried the array deleted and
inserted again with ``insert_all(alter=True)``. One transaction, WAL, ``synchronous=NORMAL``,
like json2db_sync and the floor. Needs ``pip install -e '.[bench]'``.

Usage: python benchmarks/peer_sqlite_utils.py DB ENTITY FILE [FILE ...]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
import sqlite_utils
from sqlite_utils.utils import flatten

ID_FIELDS = {"invoices": "invoice_id", "bills": "bill_id", "contacts": "contact_id", "items": "item_id"}
BATCH = 1000


def _is_child(value: Any) -> bool:
    return type(value) is list and bool(value) and type(value[0]) is dict


def load(db_path: str, entity: str, files: list[str]) -> int:
    db = sqlite_utils.Database(db_path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    id_field = ID_FIELDS.get(entity, entity[:-1] + "_id")
    child_fields: set[str] = set()
    rows = 0
    with db.conn:  # one transaction
        for file in files:
            data = orjson.loads(Path(file).read_bytes())
            records = data[entity] if isinstance(data, dict) else data
            del data
            for start in range(0, len(records), BATCH):
                parents: list[dict[str, Any]] = []
                children: dict[str, list[dict[str, Any]]] = {}
                replaced: dict[str, list[str]] = {}
                for record in records[start : start + BATCH]:
                    record_id = str(record[id_field])
                    scalars: dict[str, Any] = {"id": record_id}
                    for key, value in record.items():
                        if _is_child(value) or (key in child_fields and type(value) is list):
                            child_fields.add(key)
                            replaced.setdefault(key, []).append(record_id)
                            for position, element in enumerate(value):
                                row = {"parent_id": record_id, "position": position}
                                row.update(flatten(element) if type(element) is dict else {"value": element})
                                children.setdefault(key, []).append(row)
                        else:
                            scalars[key] = value
                    parents.append(flatten(scalars))
                db[f"peer_{entity}"].upsert_all(parents, pk="id", alter=True, batch_size=BATCH)
                rows += len(parents)
                for key, ids in replaced.items():
                    table = db[f"peer_{entity}_{key}"]
                    if table.exists():
                        table.delete_where(f"parent_id IN ({', '.join('?' for _ in ids)})", ids)
                    if children.get(key):
                        table.insert_all(children[key], pk=("parent_id", "position"), alter=True, batch_size=BATCH)
                        rows += len(children[key])
            del records
    db.close()
    return rows


if __name__ == "__main__":
    print(load(sys.argv[1], sys.argv[2], sys.argv[3:]))
