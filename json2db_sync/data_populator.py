"""Populator stage: newest wins, then the batch write (the last step of the pipeline).

Records arrive flattened and observed (:mod:`json2db_sync.pipeline` read them, voted them
into the plan and created their tables and columns); the populator decides, per id, which
occurrence is written (the newest, against the stored ``updated_at`` and against the
earlier occurrences in the same file), lays the values out as rows (:class:`RowLayout`,
:class:`StaleColumns`) and writes them in groups, children replaced as a whole.

May import stdlib, orjson, ``sql_dialect``, ``destinations`` (``utc_now_text``),
``json_analyzer`` and ``load_stats``: it reads no file and makes no DDL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson

from . import sql_dialect as sd
from .destinations import utc_now_text
from .json_analyzer import (
    NUMERIC_TYPES,
    EntityPlan,
    Flat,
    TablePlan,
    child_id_fields,
    normalize_id,
    tuple_getter,
)
from .load_stats import LoadOptions, LoadStats

# Custom columns whose values the populator knows how to fill.
SESSION_ID_COLUMN = "session_id"
SOURCE_FILE_COLUMN = "source_file"


_ABSENT = object()  # "no row with this id before the file" in FileWrites.baseline

# (parent id, created_at, updated_at, [(element, its scalars)]): the children one parent writes.
ChildRows = tuple[str, str | None, str | None, list[Any]]


@dataclass(slots=True)
class FileWrites:
    """What newest-wins remembers while one file is written (made by the pipeline per file)."""

    session: str  # the session_id custom column's value
    relative_path: str  # the source_file custom column's value
    # Every id met in this file, with the stored updated_at it had before the file
    # (_ABSENT when it had no row): no occurrence older than that is written.
    baseline: dict[str, Any] = field(default_factory=dict)
    inserted: set[str] = field(default_factory=set)
    # The updated_at of the newest occurrence applied so far in this file, per id: an
    # older occurrence never replaces a newer one, whichever comes first in the file.
    latest: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Prepared:
    """One record ready to write: flattened once, with its times and child arrays."""

    record_id: str
    scalars: Flat
    children: dict[str, list[tuple[Any, Flat]]]  # element, its scalars
    created: str | None
    updated: str | None
    fields: tuple[str, ...] = ()  # the record's top-level keys (what it says something about)
    is_new: bool = False


class Populator:
    """Writes prepared records through one connection, inside the run's transaction.

    ``conn`` is a destination's connection (``conn.dialect`` names its SQL); the counts go
    into the run's ``stats``."""

    def __init__(self, conn: Any, options: LoadOptions, stats: LoadStats) -> None:
        self.conn = conn
        self.sql = conn.dialect
        self.options = options
        self.stats = stats

    def write_batch(
        self, plan: EntityPlan, rounds: list[list[Prepared]], fresh_ids: list[str], state: FileWrites
    ) -> None:
        """Write a batch: ``rounds`` hold the occurrences in file order (an id's repeat in a
        later round), ``fresh_ids`` the ids this file had not met before the batch. Each
        occurrence is written unless it is older than the newest one applied before it
        (see :meth:`_decide`)."""
        entity_stats = self.stats.entity(plan.entity)
        stored = self._stored_updated_at(plan.main.name, fresh_ids)
        for record_id in fresh_ids:
            state.baseline[record_id] = stored.get(record_id, _ABSENT)
        for items in rounds:
            writes = [item for item in items if self._decide(item, state, entity_stats)]
            if writes:
                self._write(plan, writes, state)

    def write_line_items(
        self, plan: EntityPlan, table: TablePlan, rows: list[ChildRows], state: FileWrites
    ) -> None:
        """Replace, as a whole, the line items of the parents in ``rows`` (api_sync's
        line-item file supplying what its parents did not embed)."""
        extra = self._custom_values(state)
        written = [parent_id for parent_id, *_ in rows]
        self._write_children(table, written, rows, tuple(extra), tuple(extra.values()))
        self.stats.track(plan.main.name, written)

    def stored_parent_times(self, table: str, ids: list[str]) -> dict[str, tuple[str | None, str | None]]:
        """(created_at, updated_at) of the stored parents among ``ids``."""
        return {row[0]: (row[1], row[2]) for row in self._rows_by_id(self.sql.select_parent_times, table, ids)}

    def _decide(self, item: Prepared, state: FileWrites, entity_stats: dict[str, int]) -> bool:
        """Write this occurrence? Newest wins, against what was stored before the file and
        against the occurrences of the same id met earlier in the file: an older one never
        replaces a newer one, whichever comes first; equal times keep file order (a
        list-form copy still adds its fields to a detailed one of the same instant).

        Times are UTC text to the microsecond (``json_analyzer.to_utc_text``), which sorts
        in time order, so comparing the text compares the instants."""
        record_id = item.record_id
        stats = self.stats
        before = state.latest.get(record_id, _ABSENT)
        if before is _ABSENT:
            before = state.baseline[record_id]
        if before is _ABSENT and record_id not in state.inserted:
            item.is_new = True
            state.inserted.add(record_id)
            state.latest[record_id] = item.updated
            stats.records_inserted += 1
            entity_stats["inserted"] += 1
            return True
        if (
            self.options.duplicate_prevention
            and before is not None
            and before is not _ABSENT
            and item.updated is not None
            and item.updated < before
        ):
            stats.records_unchanged += 1
            entity_stats["unchanged"] += 1
            return False
        state.latest[record_id] = item.updated
        stats.records_updated += 1
        entity_stats["updated"] += 1
        return True

    def _stored_updated_at(self, table: str, ids: list[str]) -> dict[str, str | None]:
        return {row[0]: row[1] for row in self._rows_by_id(self.sql.select_updated_at, table, ids)}

    def _rows_by_id(self, query: Any, table: str, ids: list[str]) -> Iterable[tuple[Any, ...]]:
        """Rows of ``table`` for ``ids``, in chunks of 900 bound ids (SQLite's old limit)."""
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            yield from self.conn.execute(query(table, len(chunk)), chunk)

    def _write(self, plan: EntityPlan, writes: list[Prepared], state: FileWrites) -> None:
        """Upsert the parents (grouped by column set), then replace their children."""
        main = plan.main
        extra = self._custom_values(state)
        extra_names = tuple(extra)
        extra_values = tuple(extra.values())
        # (new?, column set) -> rows: records new to the table are plain inserts (no other
        # writer can add them meanwhile: the run holds the writer lock), the others upserts.
        groups: dict[tuple[bool, tuple[str, ...]], list[tuple[Any, ...]]] = {}
        children: dict[str, list[ChildRows]] = {}
        replaced: dict[str, list[str]] = {}
        # Per key set met in this batch, by identity (one paths tuple per flat shape, kept
        # alive here, so an id is never reused meanwhile): its layout and its two row
        # groups, each made on its first row (so the groups, and the rows' insertion order,
        # follow the file as before). Parents alternate between a few key sets (list-form
        # and detailed copies), so a row hashes no key tuple and no column tuple.
        seen: dict[int, list[Any]] = {}  # id(paths) → [paths, layout, new rows, stored rows]
        for item in writes:
            scalars = item.scalars
            is_new = item.is_new
            keys = scalars.paths
            entry = seen.get(id(keys))
            if entry is None or entry[0] is not keys:
                entry = seen[id(keys)] = [keys, _layout_of(main, keys), None, None]
            layout = entry[1]
            values = layout.values(scalars, is_new=is_new)
            stale = None if is_new else stale_columns(main, scalars, item.fields)
            if stale is None:
                slot = 2 if is_new else 3
                rows = entry[slot]
                if rows is None:
                    rows = entry[slot] = groups.setdefault((is_new, layout.columns), [])
            else:
                columns, values = stale.apply(layout, values)
                rows = groups.setdefault((False, columns), [])
            record_id = item.record_id
            rows.append((record_id, "json", item.created, item.updated, *extra_values, *values))
            if item.children:
                for field_name, elements in item.children.items():
                    children.setdefault(field_name, []).append((record_id, item.created, item.updated, elements))
                    if not is_new:
                        replaced.setdefault(field_name, []).append(record_id)
        # Newest-wins was decided above against the stored state before this file (see
        # _decide), so the statement itself carries no time guard.
        for (is_new, columns), rows in groups.items():
            if not rows:
                continue
            all_columns = ("id", "data_source", "created_at", "updated_at", *extra_names, *columns)
            if is_new:
                self.conn.insert_rows(main.name, all_columns, rows)
            else:
                self.conn.upsert_rows(main.name, all_columns, rows)
        self.stats.tables_touched.add(main.name)
        self.stats.track(main.name, (item.record_id for item in writes))
        for field_name, parents in children.items():
            self._write_children(
                plan.children[field_name], replaced.get(field_name, []), parents, extra_names, extra_values
            )

    def _write_children(
        self,
        table: TablePlan,
        replaced: list[str],
        parents: list[ChildRows],
        extra_names: tuple[str, ...],
        extra_values: tuple[Any, ...],
    ) -> None:
        """Replace the children of every written parent that carried the array."""
        self.conn.delete_children(table.name, replaced)
        groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        id_fields = child_id_fields(table.entity, table.field or "")
        count = 0
        # Elements mostly share a key set, met in runs: the last one's layout and group are
        # kept, so that a row costs an identity test of its paths (one tuple per flat
        # shape: see json_analyzer.Flat), not a hash of them. The plan does not change
        # while a batch is written, so neither do the layouts.
        last_keys: tuple[tuple[str, ...], ...] | None = None
        layout: RowLayout | None = None
        rows: list[tuple[Any, ...]] = []
        for parent_id, created, updated, elements in parents:
            for position, (element, scalars) in enumerate(elements):
                keys = scalars.paths
                if keys is not last_keys or layout is None:
                    layout = _layout_of(table, keys)
                    rows = groups.setdefault(layout.columns, [])
                    last_keys = keys
                rows.append(
                    (
                        parent_id,
                        position,
                        _own_id(element, id_fields) or f"{parent_id}#{position}",
                        "json",
                        created,
                        updated,
                        *extra_values,
                        *layout.values(scalars),
                    )
                )
            count += len(elements)
        for columns, rows in groups.items():
            all_columns = ("parent_id", "position", "id", "data_source", "created_at", "updated_at", *extra_names, *columns)
            self.conn.insert_rows(table.name, all_columns, rows)
        self.stats.child_rows_written += count
        self.stats.tables_touched.add(table.name)

    def _custom_values(self, state: FileWrites) -> dict[str, Any]:
        """Values for the custom columns the populator fills (session, source file, and
        non-constant defaults such as CURRENT_TIMESTAMP)."""
        values: dict[str, Any] = {}
        for name, declaration in self.options.custom_columns.items():
            if name in ("id", "data_source", "created_at", "updated_at"):
                continue
            if name == SESSION_ID_COLUMN:
                values[name] = state.session
            elif name == SOURCE_FILE_COLUMN:
                values[name] = state.relative_path
            elif sd.is_non_constant_default(declaration):
                values[name] = utc_now_text()
        return values


@dataclass(slots=True)
class RowLayout:
    """How the values of records with one key set become a row: computed once per key
    set (list-form and detail-form records each have their own), not per row.

    The per-value work is decided here, once, from the plan: which positions are picked
    (one C-speed ``itemgetter`` over the record's values), which numeric columns may hold
    Zoho's "" (checked as a whole with one C-speed ``in`` before any is touched), which
    columns hold arrays as JSON text. A row that needs nothing more (the usual child row)
    is the picked tuple itself."""

    columns: tuple[str, ...]
    order: tuple[int, ...]
    numeric: tuple[int, ...]
    converted: tuple[int, ...]
    overflow: tuple[tuple[int, str], ...]
    conflicts: tuple[tuple[int, str], ...] = ()
    has_overflow_column: bool = False
    # Derived once (see __post_init__): the picker of the row's values and of its numeric ones.
    pick: Callable[[list[Any]], tuple[Any, ...]] = field(init=False, repr=False, compare=False)
    pick_numeric: Callable[[Sequence[Any]], tuple[Any, ...]] = field(init=False, repr=False, compare=False)
    plain: bool = field(init=False, repr=False, compare=False)  # nothing but numbers to fix

    def __post_init__(self) -> None:
        self.pick = tuple_getter(self.order)
        self.pick_numeric = tuple_getter(self.numeric)
        self.plain = not (self.converted or self.conflicts or self.has_overflow_column)

    def values(self, scalars: Mapping[tuple[str, ...], Any], *, is_new: bool = True) -> Sequence[Any]:
        """The row's values in column order (the overflow JSON last, as a patch that the
        upsert merges: a key set to null there removes a value that no longer applies)."""
        raw = scalars.raw if type(scalars) is Flat else list(scalars.values())
        picked = self.pick(raw)
        if "" not in self.pick_numeric(picked):
            if self.plain:
                return picked  # the usual child row: the picked values as they are
            row = list(picked)
        else:
            row = list(picked)
            for position in self.numeric:
                if row[position] == "":
                    row[position] = None  # "" is Zoho's "unset": NULL keeps SUM and AVG right
        extra: dict[str, Any] | None = None
        for position, name in self.conflicts:
            value = row[position]
            extra = extra if extra is not None else {}
            if _fits_number(value):
                if not is_new:
                    extra[name] = None  # the column holds it now: drop an older kept value
            else:
                # Text in a numeric column would be coerced by SQLite ('02134' → 2134):
                # keep it exactly in the overflow JSON instead.
                extra[name] = value
                row[position] = None
        for position in self.converted:
            value = row[position]
            kind = type(value)
            if kind is list:  # the common case (tags: [] on every line): JSON text at once
                row[position] = dumps_json(value) if value else "[]"
            elif kind is not str and value is not None:  # (text and null stay as they are)
                row[position] = to_sql_value(value, sd.TEXT)
        if self.has_overflow_column:
            for index, name in self.overflow:
                extra = extra if extra is not None else {}
                extra[name] = raw[index]
            row.append(dumps_json(extra) if extra else None)
        return row


@dataclass(slots=True, frozen=True)
class StaleColumns:
    """What a newer version of a record clears: the columns (and kept overflow values)
    that come from a field the record carries but that it does not fill, because the
    field is now null, empty, an object where it was a value, a value or an array where
    it was an object, or an object without that member. A field the record does not carry
    at all (a list-form copy) is left alone."""

    columns: tuple[str, ...]
    overflow_keys: tuple[str, ...]

    def apply(self, layout: RowLayout, values: Sequence[Any]) -> tuple[tuple[str, ...], list[Any]]:
        """The row's columns and values with the stale ones set to NULL (removed from the
        overflow JSON patch, for the values kept there)."""
        columns = layout.columns + self.columns
        values = [*values, *([None] * len(self.columns))]
        if self.overflow_keys:
            if layout.has_overflow_column:
                position = len(layout.columns) - 1
                patch = json.loads(values[position]) if values[position] else {}
                for key in self.overflow_keys:
                    patch.setdefault(key, None)
                values[position] = dumps_json(patch)
            else:
                columns += (sd.OVERFLOW_COLUMN,)
                values.append(dumps_json(dict.fromkeys(self.overflow_keys)))
        return columns, values


_STALE = "stale"  # a key of TablePlan.layouts (paths are tuples, so never a clash)


def stale_columns(
    table: TablePlan, scalars: Mapping[tuple[str, ...], Any], fields: tuple[str, ...]
) -> StaleColumns | None:
    """The cached :class:`StaleColumns` for this key set and these top-level fields (None
    when the record fills every column of the fields it carries: the usual case)."""
    key = (_STALE, scalars.paths if type(scalars) is Flat else tuple(scalars), fields)
    found = table.layouts.get(key, _UNSET)  # type: ignore[arg-type]
    if found is _UNSET:
        found = table.layouts[key] = _build_stale(table, scalars, fields)  # type: ignore[index]
    stale: StaleColumns | None = found
    return stale


_UNSET = object()


def _build_stale(
    table: TablePlan, scalars: Mapping[tuple[str, ...], Any], fields: tuple[str, ...]
) -> StaleColumns | None:
    present = set(fields)
    columns: list[str] = []
    overflow: list[str] = []
    for path, spec in table.columns.items():
        if path[0] not in present or path in scalars:
            continue
        if spec.is_overflow:
            overflow.append(".".join(path))
        else:
            columns.append(spec.name)
            if path in table.conflict_paths:
                overflow.append(".".join(path))  # a text value kept there for this column
    if not columns and not overflow:
        return None
    has_overflow = any(spec.is_overflow for spec in table.columns.values()) or bool(table.conflict_paths)
    return StaleColumns(tuple(sorted(set(columns))), tuple(overflow) if has_overflow else ())


def _own_id(element: Any, id_fields: tuple[str, ...]) -> str | None:
    """A child element's own id: the first of its candidate fields it carries."""
    if type(element) is not dict:
        return None
    for name in id_fields:
        value = element.get(name)
        if value is not None:
            # (text, the usual id, is normalize_id's strip without its chain of checks)
            own = (value.strip() or None) if type(value) is str else normalize_id(value)
            if own is not None:
                return own
    return None


def _fits_number(value: Any) -> bool:
    kind = type(value)
    if kind is float or kind is bool or value is None:
        return True
    return kind is int and sd.INT64_MIN <= value <= sd.INT64_MAX


def row_layout(table: TablePlan, scalars: Mapping[tuple[str, ...], Any]) -> RowLayout:
    """The cached layout for this record's key set (the plan clears the cache whenever a
    column is added or a path starts holding arrays)."""
    return _layout_of(table, scalars.paths if type(scalars) is Flat else tuple(scalars))


def _layout_of(table: TablePlan, keys: tuple[tuple[str, ...], ...]) -> RowLayout:
    """The layout of a key set: by the identity of its tuple when met before (no hash of
    the paths), else by its value, built on first use."""
    known = table.layouts_by_id.get(id(keys))
    if known is not None and known[0] is keys:
        found: RowLayout = known[1]
        return found
    layout: RowLayout | None = table.layouts.get(keys)
    if layout is None:
        layout = table.layouts[keys] = _build_layout(table, keys)
    if len(table.layouts_by_id) >= _LAYOUTS_BY_ID_LIMIT:
        table.layouts_by_id.clear()  # shapes met once (records flattened the slow way) come and go
    table.layouts_by_id[id(keys)] = (keys, layout)
    return layout


_LAYOUTS_BY_ID_LIMIT = 4096


def _build_layout(table: TablePlan, keys: tuple[tuple[str, ...], ...]) -> RowLayout:
    picked: list[tuple[str, int, Any]] = []
    overflow: list[tuple[int, str]] = []
    for index, path in enumerate(keys):
        spec = table.columns.get(path)
        if spec is None:
            continue  # "" where an object is expected: absent on purpose
        if spec.is_overflow:
            overflow.append((index, ".".join(path)))
            continue
        picked.append((spec.name, index, spec))
    picked.sort(key=lambda item: item[0])
    columns = [name for name, _, _ in picked]
    numeric = tuple(
        pos for pos, (_, _, spec) in enumerate(picked) if table.effective_type(spec) in NUMERIC_TYPES
    )
    converted = tuple(
        pos for pos, (_, _, spec) in enumerate(picked) if spec.path in table.converted_paths
    )
    conflicts = tuple(
        (pos, ".".join(spec.path)) for pos, (_, _, spec) in enumerate(picked) if spec.path in table.conflict_paths
    )
    has_overflow_column = bool(overflow or conflicts)
    if has_overflow_column:
        columns.append(sd.OVERFLOW_COLUMN)
    return RowLayout(
        columns=tuple(columns),
        order=tuple(index for _, index, _ in picked),
        numeric=numeric,
        converted=converted,
        overflow=tuple(overflow),
        conflicts=conflicts,
        has_overflow_column=has_overflow_column,
    )


def to_sql_value(value: Any, sql_type: str) -> Any:
    """One JSON value as an SQLite value: booleans 0/1, integers beyond 64 bits as exact
    text, arrays and objects as JSON text, and "" as NULL in numeric columns (so SUM and
    AVG stay right) but "" in text columns."""
    if value is None:
        return None
    if isinstance(value, str):
        if value == "" and sql_type != sd.TEXT:
            return None
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value if sd.INT64_MIN <= value <= sd.INT64_MAX else str(value)
    if isinstance(value, float):
        return value
    if isinstance(value, Decimal):
        return str(value)  # the source's exact text (see reader.inexact_decimal)
    return dumps_json(value)


def dumps_json(value: Any) -> str:
    """Compact JSON text; exact for integers beyond 64 bits (orjson refuses those) and
    for decimals a double would round (written as their exact text, a JSON string)."""
    try:
        return orjson.dumps(value, default=_exact_text).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_exact_text)


def _exact_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


