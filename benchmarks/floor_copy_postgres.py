"""The PostgreSQL floor: a minimal hand-written COPY loader doing floor_loader.py's job.

Same files, same rows, same columns as ``floor_loader.py`` (its ``flatten``: nested objects
joined with ``__``, top-level arrays of objects as child tables keyed by (parent_id,
position), other arrays as JSON text), and the same answer to ids that come again in a
later session: the record is upserted by id (the keys it carries overwrite, the others
stay) and its child rows are replaced. Written the fastest straightforward way:

- orjson parses each file 4 MiB at a time (``floor_loader.record_chunks``), the records are
  flattened in Python and written a chunk at a time, with the cyclic GC off for the whole
  load (the data hold no cycles). At 100,000 invoices, wall time (client and server):
  17.9 s with 4 MiB chunks, 18.5 with 8, 18.1 with 16, 18.0-18.2 parsing whole files
  (2.3 GB), 20.6-21.2 with 1 MiB chunks (the client's CPU falls as SQLite's does, but
  more, smaller statements cost the server more);
- columns are ``TEXT`` (``id`` TEXT primary key, child ``position`` INTEGER): no type
  inference, as floor_loader declares its columns without a type;
- ids not yet in the table go straight in with ``COPY ... FROM STDIN`` + ``write_row``;
  ids already there are ``COPY``-ed into a temporary table and merged with one
  ``INSERT ... SELECT ... ON CONFLICT (id) DO UPDATE`` per key set (the only way to
  upsert through COPY), and their child rows are deleted before the new ones are copied;
- one transaction for the whole load, into the given schema (created if missing).

No ledger, no newest-wins, no type inference, no quarantine, no verification.

A second yardstick, the *typed* floor (``--types FILE``): the same loader writing typed
tables, as a hand-written loader with a hand-written schema would. The schema comes from
``--derive-types``, run once beforehand and not timed (it stands for the schema someone
wrote by hand): per column BOOLEAN, BIGINT, NUMERIC, TIMESTAMPTZ for ``*_time`` columns
holding Zoho timestamps, else TEXT, judged on the values that are not "" or null. The timed
load then sends "" as NULL in typed columns (the server refuses "" there), and after the
rows builds what json2db_sync builds: an index on each reference column it indexes and on
the modification time, and each child table's foreign key (ON DELETE CASCADE). Still no
ledger, newest-wins, quarantine or verification.

Usage: python benchmarks/floor_copy_postgres.py URL SCHEMA FILE [FILE ...]
       python benchmarks/floor_copy_postgres.py --types TYPES.json URL SCHEMA FILE [FILE ...]
       python benchmarks/floor_copy_postgres.py --derive-types TYPES.json FILE [FILE ...]
Prints one JSON line: {"rows": ..., "records": ..., "peak_rss": ...}.
"""

from __future__ import annotations

import gc
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import orjson
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from floor_loader import ID_FIELDS, flatten, q, record_chunks  # noqa: E402  (the same rows and columns)

ENTITY = "invoices"
# Typed floor: table → column → declared type (empty: the TEXT floor).
TYPES: dict[str, dict[str, str]] = {}
# Files parsed and written in chunks (floor_loader.record_chunks) of JSON2DB_FLOOR_CHUNK_MIB
# (4 by default); JSON2DB_FLOOR_WHOLE=1 parses each file whole instead, to compare.
CHUNKED = os.environ.get("JSON2DB_FLOOR_WHOLE") != "1"
CHUNK_BYTES = int(float(os.environ.get("JSON2DB_FLOOR_CHUNK_MIB", "4")) * 2**20)
# The columns json2db_sync indexes in these tables (references, and the modification time).
INDEXED = ("customer_id", "account_id", "item_id", "bill_id", "last_modified_time")
_ZOHO_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{4}")


def peak_rss() -> int:
    """This process image's peak RSS (VmHWM), as the other benchmark cases report it."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def is_child_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[0], dict)


class Table:
    def __init__(self, cur: psycopg.Cursor, name: str, ddl_head: str, tail: str = "") -> None:
        self.cur, self.name, self.columns = cur, name, set()
        self.types = TYPES.get(name, {})
        cur.execute(f"CREATE TABLE IF NOT EXISTS {q(name)} ({ddl_head}{tail})")

    def ensure(self, keys: tuple[str, ...]) -> None:
        missing = [k for k in keys if k not in self.columns]
        if missing:
            adds = ", ".join(f"ADD COLUMN {q(k)} {self.types.get(k, 'TEXT')}" for k in missing)
            self.cur.execute(f"ALTER TABLE {q(self.name)} {adds}")
            self.columns.update(missing)

    def copy(self, columns: tuple[str, ...], rows: list[tuple[Any, ...]], into: str | None = None) -> None:
        typed = [i for i, column in enumerate(columns) if self.types.get(column, "TEXT") != "TEXT"]
        with self.cur.copy(f"COPY {q(into or self.name)} ({', '.join(map(q, columns))}) FROM STDIN") as copy:
            write = copy.write_row
            if not typed:
                for row in rows:
                    write(row)
                return
            for row in rows:  # typed floor: "" is no value for a typed column
                values = list(row)
                for i in typed:
                    if values[i] == "":
                        values[i] = None
                write(values)

    def build_like_json2db_sync(self, parent: Table | None) -> None:
        """Typed floor, after the rows: the indexes and the foreign key json2db_sync builds."""
        for column in INDEXED:
            if column in self.columns:
                self.cur.execute(f"CREATE INDEX ON {q(self.name)} ({q(column)})")
        if parent is not None:
            self.cur.execute(
                f"ALTER TABLE {q(self.name)} ADD FOREIGN KEY (parent_id) REFERENCES {q(parent.name)} (id) "
                "ON DELETE CASCADE"
            )


def load(url: str, schema: str, files: list[str], entity: str = ENTITY) -> tuple[int, int]:
    id_field = ID_FIELDS.get(entity, entity[:-1] + "_id")
    rows = records = 0
    with psycopg.connect(url) as conn:  # one transaction, committed when the block ends
        cur = conn.cursor()
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {q(schema)}")
        cur.execute("SELECT set_config('search_path', %s, true)", (q(schema),))
        main = Table(cur, f"floor_{entity}", "id TEXT PRIMARY KEY")
        children: dict[str, Table] = {}
        # The parsed and flattened data hold no reference cycles: the cyclic GC stays off
        # (with it on, its full collections over the large live heap cost a third of the run).
        gc.disable()
        for file in files:
            if CHUNKED:
                for batch in record_chunks(Path(file), id_field, CHUNK_BYTES):
                    records += len(batch)
                    rows += write_file(cur, main, children, entity, id_field, batch)
                    del batch
                continue
            data = orjson.loads(Path(file).read_bytes())
            batch = data[entity] if isinstance(data, dict) else data
            records += len(batch)
            rows += write_file(cur, main, children, entity, id_field, batch)
            del data, batch
        gc.enable()
        if TYPES:
            main.build_like_json2db_sync(None)
            for child in children.values():
                child.build_like_json2db_sync(main)
    return rows, records


def derive_types(files: list[str], entity: str = ENTITY) -> dict[str, dict[str, str]]:
    """The typed floor's schema, from the values (see the module docstring); not timed."""
    seen: dict[str, dict[str, set[str]]] = {}

    def vote(table: str, flat: dict[str, Any]) -> None:
        kinds = seen.setdefault(table, {})
        for column, value in flat.items():
            votes = kinds.setdefault(column, set())
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                votes.add("bool")
            elif isinstance(value, int):
                votes.add("int")
            elif isinstance(value, float):
                votes.add("float")
            elif isinstance(value, str) and column.endswith("_time") and _ZOHO_TIMESTAMP.fullmatch(value):
                votes.add("time")
            else:
                votes.add("text")

    for file in files:
        data = orjson.loads(Path(file).read_bytes())
        for record in data[entity] if isinstance(data, dict) else data:
            vote(f"floor_{entity}", flatten({k: v for k, v in record.items() if not is_child_array(v)}))
            for key, value in record.items():
                if is_child_array(value):
                    for element in value:
                        vote(f"floor_{entity}_{key}", flatten(element))
    declared = {
        frozenset({"bool"}): "BOOLEAN",
        frozenset({"int"}): "BIGINT",
        frozenset({"float"}): "NUMERIC",
        frozenset({"int", "float"}): "NUMERIC",
        frozenset({"time"}): "TIMESTAMPTZ",
    }
    return {
        table: {column: declared.get(frozenset(votes), "TEXT") for column, votes in kinds.items()}
        for table, kinds in seen.items()
    }


def write_file(
    cur: psycopg.Cursor,
    main: Table,
    children: dict[str, Table],
    entity: str,
    id_field: str,
    batch: list[dict[str, Any]],
) -> int:
    """Flatten and write the records of one file; returns the rows written (parents + children)."""
    rows = 0
    # An id met twice in the file merges as two upserts in a row would.
    flat_by_id: dict[str, dict[str, Any]] = {}
    kids_by_id: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for record in batch:
        rid = str(record[id_field])
        scalars = {k: v for k, v in record.items() if not is_child_array(v)}
        flat = flatten(scalars)
        if rid in flat_by_id:
            flat_by_id[rid].update(flat)
        else:
            flat_by_id[rid] = flat
        rows += 1
        for key, value in record.items():
            if is_child_array(value):
                kids_by_id.setdefault(rid, {})[key] = [flatten(e) for e in value]
                rows += len(value)
    ids = list(flat_by_id)
    if main.columns:
        cur.execute(f"SELECT id FROM {q(main.name)} WHERE id = ANY(%s)", (ids,))
        stored = {row[0] for row in cur}
    else:
        stored = set()

    # Parents: new ids straight in, stored ids through a staging table.
    new_groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    old_groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for rid, flat in flat_by_id.items():
        groups = old_groups if rid in stored else new_groups
        groups.setdefault(tuple(flat), []).append((rid, *flat.values()))
    for keys, values in new_groups.items():
        main.ensure(keys)
        main.copy(("id", *keys), values)
    for keys, values in old_groups.items():
        main.ensure(keys)
        columns = ("id", *keys)
        listed = ", ".join(map(q, columns))
        cur.execute(f"CREATE TEMP TABLE floor_stage ON COMMIT DROP AS SELECT {listed} FROM {q(main.name)} WITH NO DATA")
        main.copy(columns, values, into="floor_stage")
        sets = ", ".join(f"{q(k)} = EXCLUDED.{q(k)}" for k in keys)
        cur.execute(
            f"INSERT INTO {q(main.name)} ({listed}) SELECT {listed} FROM floor_stage "
            f"ON CONFLICT (id) DO UPDATE SET {sets}"
        )
        cur.execute("DROP TABLE floor_stage")

    # Children: replaced as a whole for every stored parent that carries the array.
    child_groups: dict[str, dict[tuple[str, ...], list[tuple[Any, ...]]]] = {}
    replaced: dict[str, list[str]] = {}
    for rid, arrays in kids_by_id.items():
        for key, elements in arrays.items():
            if rid in stored:
                replaced.setdefault(key, []).append(rid)
            groups = child_groups.setdefault(key, {})
            for pos, cflat in enumerate(elements):
                groups.setdefault(tuple(cflat), []).append((rid, pos, *cflat.values()))
    for key, groups in child_groups.items():
        table = children.get(key)
        if table is None:
            table = children[key] = Table(
                cur, f"floor_{entity}_{key}", "parent_id TEXT, position INTEGER", ", PRIMARY KEY (parent_id, position)"
            )
        if key in replaced:
            cur.execute(f"DELETE FROM {q(table.name)} WHERE parent_id = ANY(%s)", (replaced[key],))
        for keys, values in groups.items():
            table.ensure(keys)
            table.copy(("parent_id", "position", *keys), values)
    return rows


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--derive-types"] and len(args) >= 3:
        Path(args[1]).write_text(json.dumps(derive_types(args[2:]), indent=1))
        raise SystemExit(0)
    if args[:1] == ["--types"] and len(args) >= 2:
        TYPES.update(json.loads(Path(args[1]).read_text()))
        args = args[2:]
    if len(args) < 3:
        raise SystemExit(__doc__)
    loaded_rows, loaded_records = load(args[0], args[1], args[2:])
    print(json.dumps({"rows": loaded_rows, "records": loaded_records, "peak_rss": peak_rss()}))
