"""The floor: a minimal hand-written loader doing the same job as json2db_sync's populate.

orjson + flatten + executemany: every record of the given entity files upserted by id
(nested objects joined with ``__``, top-level arrays of objects as child tables replaced as
a whole, other arrays as JSON text), one transaction, WAL. No ledger, no newest-wins, no
type inference, no quarantine, no verification: what is left is the unavoidable work,
and json2db_sync's figures are reported as ratios to it.

Usage: python benchmarks/floor_loader.py DB ENTITY FILE [FILE ...]
"""

from __future__ import annotations

import gc
import sqlite3
import sys
from pathlib import Path
from typing import Any

import orjson

ID_FIELDS = {"invoices": "invoice_id", "bills": "bill_id", "contacts": "contact_id", "items": "item_id"}


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def flatten(record: dict[str, Any], prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    out = {} if out is None else out
    for key, value in record.items():
        name = prefix + key
        if isinstance(value, dict):
            flatten(value, name + "__", out)
        elif isinstance(value, list):
            out[name] = orjson.dumps(value).decode()
        else:
            out[name] = value
    return out


class Table:
    def __init__(self, conn: sqlite3.Connection, name: str, ddl_head: str, tail: str = "") -> None:
        self.conn, self.name, self.columns = conn, name, set()
        conn.execute(f"CREATE TABLE IF NOT EXISTS {q(name)} ({ddl_head}{tail})")

    def ensure(self, keys: list[str]) -> None:
        for key in keys:
            if key not in self.columns:
                self.conn.execute(f"ALTER TABLE {q(self.name)} ADD COLUMN {q(key)}")
                self.columns.add(key)


def load(db: str, entity: str, files: list[str]) -> int:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("BEGIN IMMEDIATE")
    main = Table(conn, f"floor_{entity}", "id TEXT PRIMARY KEY")
    children: dict[str, Table] = {}
    id_field = ID_FIELDS.get(entity, entity[:-1] + "_id")
    rows = 0
    for file in files:
        gc.disable()
        data = orjson.loads(Path(file).read_bytes())
        gc.enable()
        records = data[entity] if isinstance(data, dict) else data
        for start in range(0, len(records), 1000):
            batch = records[start : start + 1000]
            by_keys: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
            child_rows: dict[str, dict[tuple[str, ...], list[tuple[Any, ...]]]] = {}
            ids = []
            for record in batch:
                rid = str(record[id_field])
                ids.append(rid)
                scalars = {k: v for k, v in record.items() if not (isinstance(v, list) and v and isinstance(v[0], dict))}
                flat = flatten(scalars)
                keys = tuple(flat)
                by_keys.setdefault(keys, []).append((rid, *flat.values()))
                for key, value in record.items():
                    if isinstance(value, list) and value and isinstance(value[0], dict):
                        for pos, element in enumerate(value):
                            cflat = flatten(element)
                            child_rows.setdefault(key, {}).setdefault(tuple(cflat), []).append((rid, pos, *cflat.values()))
            for keys, values in by_keys.items():
                main.ensure(list(keys))
                cols = ", ".join(q(k) for k in ("id", *keys))
                marks = ", ".join("?" for _ in range(len(keys) + 1))
                sets = ", ".join(f"{q(k)}=excluded.{q(k)}" for k in keys)
                conn.executemany(
                    f"INSERT INTO {q(main.name)} ({cols}) VALUES ({marks}) ON CONFLICT(id) DO UPDATE SET {sets}", values
                )
                rows += len(values)
            for key, groups in child_rows.items():
                table = children.get(key)
                if table is None:
                    table = children[key] = Table(
                        conn, f"floor_{entity}_{key}", "parent_id TEXT, position INTEGER", ", PRIMARY KEY (parent_id, position)"
                    )
                marks_ids = ", ".join("?" for _ in ids)
                conn.execute(f"DELETE FROM {q(table.name)} WHERE parent_id IN ({marks_ids})", ids)
                for keys, values in groups.items():
                    table.ensure(list(keys))
                    cols = ", ".join(q(k) for k in ("parent_id", "position", *keys))
                    marks = ", ".join("?" for _ in range(len(keys) + 2))
                    conn.executemany(f"INSERT INTO {q(table.name)} ({cols}) VALUES ({marks})", values)
                    rows += len(values)
    conn.execute("COMMIT")
    conn.close()
    return rows


if __name__ == "__main__":
    print(load(sys.argv[1], sys.argv[2], sys.argv[3:]))
