"""The floor: the fastest hand-written loader we can write for the job json2db_sync's populate does.

Same job, same rows: every record of the given entity files upserted by id (nested objects
joined with ``__``, top-level arrays of objects as child tables replaced as a whole per
parent, other arrays as JSON text), a list-form record updating only the columns it
carries, one transaction, WAL with ``synchronous=NORMAL``. No ledger, no newest-wins, no type
inference, no quarantine, no verification, no checks of any kind: what is left is the work
no loader can skip, and json2db_sync's figures are reported as ratios to it.

How it is tight (each measured against the plainer loop):
- Python's cyclic GC stays off for the whole load (parsed JSON holds no cycles).
- Each file is read and parsed 1 MiB at a time (``record_chunks``: cut before a record's
  id key, which the generated files write first), and each chunk's rows are built and
  written before the next is parsed. At 100,000 invoices this took 13.6 s of CPU where
  parsing each file whole took 18-20 s and 2 GiB: a chunk's objects are still in the
  processor's cache when they are turned into rows, and the memory they free is reused
  instead of being given back to the system and faulted in again (1.1 million page faults
  whole, 270,000 chunked). Chunks of 0.25, 0.5 and 2 MiB took 15.2, 14.2 and 14.4 s.
- Records are grouped by shape (keys, value types, the keys of nested objects), and for each
  shape a row builder is generated once as Python source and compiled: a record becomes its
  row tuple in one call with no per-key loop (``r['billing_address']['city']`` inline). The
  same for the elements of child arrays.
- Columns are planned once per file from its shapes (one ``ALTER TABLE`` per new column).
- Parents: one ``executemany`` per shape (``INSERT ... ON CONFLICT(id) DO UPDATE`` of the
  shape's columns, so a list-form record keeps what a detailed one brought); children: one
  ``executemany`` delete of the written parents' rows, one ``executemany`` insert per shape.

Usage: python benchmarks/floor_loader.py DB ENTITY FILE [FILE ...]
"""

from __future__ import annotations

import gc
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson

ID_FIELDS = {"invoices": "invoice_id", "bills": "bill_id", "contacts": "contact_id", "items": "item_id"}


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def flatten(record: dict[str, Any], prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """The plain rule as a function (floor_copy_postgres.py uses it): nested objects joined
    with ``__``, arrays as JSON text."""
    out = {} if out is None else out
    _flatten(record, prefix, out)
    return out


def _flatten(obj: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
    """The plain rule, for the rare shape that nests objects more than one level deep."""
    for key, value in obj.items():
        if type(value) is dict:
            _flatten(value, prefix + key + "__", out)
        elif type(value) is list:
            out[prefix + key] = _dumps(value)
        else:
            out[prefix + key] = value


class Shape:
    """How records of one shape become rows: columns, a compiled row builder, child fields."""

    def __init__(self, sample: dict[str, Any], id_field: str | None, child_fields: frozenset[str]) -> None:
        columns: list[str] = []
        exprs: list[str] = []
        self.children: list[str] = []
        self.deep = False
        for key, value in sample.items():
            access = f"r[{key!r}]"
            kind = type(value)
            if kind is dict:
                for sub, inner in value.items():
                    if type(inner) is dict:
                        self.deep = True
                    columns.append(f"{key}__{sub}")
                    item = f"{access}[{sub!r}]"
                    exprs.append(f"(_dumps({item}) if {item} else '[]')" if type(inner) is list else item)
            elif kind is list:
                if key in child_fields:
                    self.children.append(key)
                else:
                    columns.append(key)
                    exprs.append(f"(_dumps({access}) if {access} else '[]')")  # most arrays are empty
            else:
                columns.append(key)
                exprs.append(access)
        if id_field is not None:
            exprs.insert(0, f"str(r[{id_field!r}])")
            columns.insert(0, "id")
        self.columns = tuple(columns)
        source = "lambda r: (" + ", ".join(exprs) + ",)"
        self.row: Callable[[dict[str, Any]], tuple[Any, ...]] = eval(source, {"_dumps": _dumps})  # noqa: S307
        if self.deep:  # nested more than one level: the plain rule, still one plan per shape
            self.row = self._deep_row(id_field)

    def _deep_row(self, id_field: str | None) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
        children = set(self.children)

        def row(r: dict[str, Any]) -> tuple[Any, ...]:
            out: dict[str, Any] = {"id": str(r[id_field])} if id_field else {}
            _flatten({k: v for k, v in r.items() if k not in children}, "", out)
            return tuple(out.values())

        return row


def shape_key(r: Any) -> tuple[Any, ...]:
    """Keys, value types and the keys of nested objects: records with one key share a plan.
    (The types inside nested objects are not part of it: a nested value that is a list in one
    record and text in another of the same keys makes its group fail to bind, and that group
    is then written through the plain rule; see write_group.)"""
    values = list(r.values())
    base = (tuple(r), tuple(map(type, values)))
    nested = _NESTED.get(base)
    if nested is None:
        positions = [i for i, t in enumerate(base[1]) if t is dict]
        # itemgetter of two or more positions gives a tuple: the first is asked twice
        nested = _NESTED[base] = itemgetter(positions[0], *positions) if positions else False
    if nested is False:
        return base
    return (*base, tuple(map(tuple, nested(values))))


_NESTED: dict[tuple[Any, ...], Any] = {}  # (keys, types) → getter of the nested objects, or False


def object_arrays(key: tuple[Any, ...], records: list[dict[str, Any]], known: set[str]) -> frozenset[str]:
    """The top-level array fields of a shape that are child tables: those that hold objects
    in any record of the file (or did in an earlier file). An empty array of a child field
    still replaces that parent's children."""
    fields = [k for k, t in zip(key[0], key[1]) if t is list]
    for field in fields:
        if field not in known:
            first = next(filter(None, map(itemgetter(field), records)), None)  # C-speed scan
            if first is not None and type(first[0]) is dict:
                known.add(field)
    return frozenset(f for f in fields if f in known)


class Table:
    def __init__(self, conn: sqlite3.Connection, name: str, head: str) -> None:
        self.conn, self.name = conn, name
        conn.execute(f"CREATE TABLE IF NOT EXISTS {q(name)} ({head})")
        self.columns = {row[1] for row in conn.execute(f"PRAGMA table_info({q(name)})")}

    def ensure(self, columns: tuple[str, ...]) -> None:
        for column in columns:
            if column not in self.columns:
                self.conn.execute(f"ALTER TABLE {q(self.name)} ADD COLUMN {q(column)}")
                self.columns.add(column)


# 1 MiB chunks; JSON2DB_FLOOR_CHUNK_MIB sets another size and JSON2DB_FLOOR_WHOLE=1 parses
# each file whole (the floor before), to compare.
CHUNK = int(float(os.environ.get("JSON2DB_FLOOR_CHUNK_MIB", "1")) * (1 << 20))
WHOLE = os.environ.get("JSON2DB_FLOOR_WHOLE") == "1"


def record_chunks(path: Path, id_field: str, size: int | None = None) -> Iterator[list[dict[str, Any]]]:
    """The records of one file (a bare array, or an envelope whose first array holds them),
    parsed about ``size`` bytes at a time. A chunk is cut before the last ``{"<id field>"``
    in the buffer and the ``,`` before it; no checks (the floor trusts its input)."""
    if WHOLE:
        data = orjson.loads(path.read_bytes())
        yield data[path.stem] if isinstance(data, dict) else data
        return
    size = size or CHUNK
    token = b'{"' + id_field.encode() + b'"'
    with path.open("rb") as handle:
        buffer = handle.read(size)
        buffer = buffer[buffer.index(b"[") + 1 :]
        while True:
            block = handle.read(size)
            if not block:
                break
            buffer += block
            cut = buffer.rfind(token)
            comma = buffer.rfind(b",", 0, cut)
            if comma < 0:
                continue  # one record larger than the buffer: read on
            yield orjson.loads(b"[" + buffer[:comma] + b"]")
            buffer = buffer[cut:]
    end = len(buffer)
    while True:  # the last records: up to the "]" after which the rest closes the file
        end = buffer.rindex(b"]", 0, end)
        try:
            yield orjson.loads(b"[" + buffer[: end + 1])
            return
        except orjson.JSONDecodeError:
            continue


def load(db: str, entity: str, files: list[str]) -> int:
    gc.disable()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA cache_size=-65536")
    conn.execute("BEGIN IMMEDIATE")
    main = Table(conn, f"floor_{entity}", "id TEXT PRIMARY KEY")
    children: dict[str, Table] = {}
    id_field = ID_FIELDS.get(entity, entity[:-1] + "_id")
    shapes: dict[tuple[Any, ...], Shape] = {}
    element_shapes: dict[tuple[Any, ...], Shape] = {}
    child_fields: set[str] = set()
    rows = 0
    for records in (chunk for file in files for chunk in record_chunks(Path(file), id_field)):
        by_key: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for r in records:
            by_key.setdefault(shape_key(r), []).append(r)
        groups: dict[Shape, list[tuple[Any, ...]]] = {}
        kids: dict[str, dict[str, list[Any]]] = {}  # field → parent id → elements (last occurrence wins)
        for key, members in by_key.items():
            fields = object_arrays(key, members, child_fields)
            shape = shapes.get((key, fields))
            if shape is None:
                shape = shapes[(key, fields)] = Shape(members[0], id_field, fields)
            groups[shape] = list(map(shape.row, members))
            for field in shape.children:
                bucket = kids.setdefault(field, {})
                for r in members:
                    bucket[str(r[id_field])] = r[field]
        del by_key
        for shape, values in groups.items():
            main.ensure(shape.columns[1:])
            columns = ", ".join(map(q, shape.columns))
            marks = ", ".join("?" * len(shape.columns))
            sets = ", ".join(f"{q(c)}=excluded.{q(c)}" for c in shape.columns[1:])
            conn.executemany(
                f"INSERT INTO {q(main.name)} ({columns}) VALUES ({marks}) ON CONFLICT(id) DO UPDATE SET {sets}", values
            )
            rows += len(values)
        del groups
        for field, by_parent in kids.items():
            table = children.get(field)
            if table is None:
                table = children[field] = Table(
                    conn, f"floor_{entity}_{field}", "parent_id TEXT, position INTEGER, PRIMARY KEY (parent_id, position)"
                )
            conn.executemany(f"DELETE FROM {q(table.name)} WHERE parent_id = ?", ((p,) for p in by_parent))
            child_groups: dict[Shape, list[tuple[Any, ...]]] = {}
            for parent, elements in by_parent.items():
                for position, element in enumerate(elements):
                    if type(element) is not dict:
                        element = {"value": element}
                    key = shape_key(element)
                    shape = element_shapes.get(key)
                    if shape is None:
                        shape = element_shapes[key] = Shape(element, None, frozenset())
                    child_groups.setdefault(shape, []).append((parent, position, *shape.row(element)))
            for shape, values in child_groups.items():
                table.ensure(shape.columns)
                columns = ", ".join(map(q, ("parent_id", "position", *shape.columns)))
                marks = ", ".join("?" * (len(shape.columns) + 2))
                conn.executemany(f"INSERT INTO {q(table.name)} ({columns}) VALUES ({marks})", values)
                rows += len(values)
        del records, kids
    conn.execute("COMMIT")
    conn.close()
    return rows


if __name__ == "__main__":
    print(load(sys.argv[1], sys.argv[2], sys.argv[3:]))
