"""Analyzer stage: records in, a schema plan out (tables, columns, types, child tables).

May import stdlib, ``sql_dialect`` and ``zoho_entities``. It also owns the two pure rules
every other stage relies on: how a JSON key becomes a column name, and how a record
is flattened (nested objects joined with ``__``, top-level arrays of objects as child
tables, other arrays as JSON text).
"""

from __future__ import annotations

import json
import logging
import math
import re
import unicodedata
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from operator import itemgetter
from typing import Any

from . import sql_dialect as sd
from .zoho_entities import KNOWN_CHILD_ID_FIELDS, KNOWN_ID_FIELDS, SINGULAR_KEYS

logger = logging.getLogger(__name__)

Path_ = tuple[str, ...]
_UNSEEN = object()  # a cache miss, where None is a cached answer
_REVOTE = object()  # a voted shape whose integers are voted value by value each time

MAIN_OWNED_COLUMNS = ("id", "data_source", "created_at", "updated_at")
CHILD_OWNED_COLUMNS = ("parent_id", "position", *MAIN_OWNED_COLUMNS)



# Columns whose JSON kinds decide the SQL type; null and "" decide nothing.
KIND_INT = "int"
KIND_FLOAT = "float"
# Booleans vote apart from whole numbers so that a destination with a boolean type
# (PostgreSQL) can use it; the type lattice treats them as whole numbers (0/1).
KIND_BOOL = "bool"
KIND_TEXT = "text"

# A bare JSON array element that is not an object lands in this child column.
SCALAR_ELEMENT_COLUMN = "value"
_SCALAR_ELEMENT_PATHS = ((SCALAR_ELEMENT_COLUMN,),)
EMPTY_KEY_NAME = "_empty"


def singular(entity: str) -> str:
    """English-ish singular of a Zoho plural (``invoices`` → ``invoice``)."""
    if entity.endswith("ies") and len(entity) > 3:
        return entity[:-3] + "y"
    if entity.endswith("sses") or entity.endswith("xes"):
        return entity[:-2]
    if entity.endswith("s") and len(entity) > 1:
        return entity[:-1]
    return entity


def id_field_candidates(entity: str, overrides: Mapping[str, str] | None = None) -> list[str]:
    """Id fields to try for an entity, in order: configured override, the known Zoho
    field, the singular-plus-``_id`` rule, then plain ``id``."""
    candidates: list[str] = []
    if overrides and entity in overrides:
        return [overrides[entity]]
    if entity in KNOWN_ID_FIELDS:
        candidates.append(KNOWN_ID_FIELDS[entity])
    candidates.append(singular(entity) + "_id")
    candidates.append("id")
    return list(dict.fromkeys(candidates))  # first occurrence of each, in order


def choose_id_field(
    entity: str, sample: Iterable[Mapping[str, Any]], overrides: Mapping[str, str] | None = None
) -> str:
    """Decide the id field once per entity: the first candidate that the records carry
    (or the first candidate when none does, so that every record is rejected loudly)."""
    candidates = id_field_candidates(entity, overrides)
    if len(candidates) == 1:
        return candidates[0]
    records = list(sample)
    for candidate in candidates:
        if any(candidate in record for record in records):
            return candidate
    return candidates[0]


def child_id_field(entity: str, field_name: str) -> str:
    """The element's own id field in a child array (``line_items`` → ``line_item_id``):
    the first of :func:`child_id_fields`."""
    return child_id_fields(entity, field_name)[0]


# Fields that name another entity's record (``invoice_id``, ``tax_id``, ...): inside a child
# element they are references, never the element's own id.
_REFERENCE_FIELDS = frozenset(KNOWN_ID_FIELDS.values())


@lru_cache(maxsize=4096)
def child_id_fields(entity: str, field_name: str) -> tuple[str, ...]:
    """Where a child element's own id may be, in order: the known Zoho field for that
    array; ``<child>_id`` unless that is another entity's id (a payment's ``invoices``
    elements carry the paid invoice's ``invoice_id``: a reference, and one invoice can be
    paid twice by one payment); then ``<parent>_<child>_id`` and ``<child>_<parent>_id``
    (Zoho's names for an application: ``creditnote_invoice_id``, ``invoice_payment_id``).
    An element carrying none of them is identified by its parent and position."""
    parent = SINGULAR_KEYS.get(entity) or singular(entity)
    child = singular(field_name)
    candidates: list[str] = []
    known = KNOWN_CHILD_ID_FIELDS.get((entity, field_name))
    if known:
        candidates.append(known)
    generic = child + "_id"
    if generic not in _REFERENCE_FIELDS:
        candidates.append(generic)
    candidates += [f"{parent}_{child}_id", f"{child}_{parent}_id"]
    return tuple(dict.fromkeys(candidates))  # first occurrence of each, in order


_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_UNDERSCORES = re.compile(r"_+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@lru_cache(maxsize=65536)
def normalize_key(key: str) -> str:
    """Turn one JSON key into a safe column-name part (pure and cached).

    snake_case, lower case; anything but letters, digits and ``_`` becomes ``_``;
    runs of ``_`` collapse to one (so only nesting produces ``__``); a leading digit
    gets a ``_`` prefix; an empty result becomes ``_empty``. Quoting still happens in
    ``sql_dialect.quote_identifier``.
    """
    text = unicodedata.normalize("NFC", key)
    text = _CAMEL.sub("_", text)
    text = _NON_WORD.sub("_", text).lower()
    text = _UNDERSCORES.sub("_", text).strip("_")
    if not text:
        return EMPTY_KEY_NAME
    if text[0].isdigit():
        text = "_" + text
    return text


def unique_table_name(base: str, taken: set[str], limit: int | None = None) -> str:
    """``base``, or ``base_2``, ``base_3``… when another table has the name (SQLite table
    names are case-insensitive, so ``taken`` holds lower-cased names)."""
    name = sd.fit_identifier(base, limit)
    suffix = 2
    while name.lower() in taken:
        name = sd.fit_identifier(f"{base}_{suffix}", limit)
        suffix += 1
    return name


@dataclass(frozen=True, slots=True)
class Limits:
    """What the destination allows, which shapes the plan: identifier length, columns
    per table, and whether column types are strict (PostgreSQL) or per value (SQLite)."""

    max_identifier_bytes: int | None = None
    max_data_columns: int = sd.MAX_COLUMNS - 16
    strict_types: bool = False


SQLITE_LIMITS = Limits()


def table_name_for(entity: str) -> str:
    return sd.DATA_TABLE_PREFIX + normalize_key(entity)


_ZOHO_TIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?P<frac>\.\d+)?"
    r"(?P<tz>Z|[+-]\d{2}:?\d{2})?)?$"
)


# Zoho's usual timestamp with a whole-hour offset, cut where converting it to UTC needs
# it: what the offset changes (date and hour), what it does not (minutes, seconds), and
# the offset itself. ASCII digits only: anything else takes the general path.
# (Hours 00-23 only: newer Pythons read T24:00:00 as the next midnight, which copying the
# minutes and seconds would wrongly extend to T24:30:00.)
_USUAL_TIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]))(:[0-5][0-9]:[0-5][0-9])([+-][0-9]{2}00)")
_UTC_HOURS: dict[tuple[str, str], str] = {}  # (date and hour, offset) → UTC "YYYY-MM-DD HH", "" if invalid
_UTC_HOURS_LIMIT = 65536


def to_utc_text(value: Any) -> str | None:
    """A Zoho timestamp (``2026-06-09T16:48:58-0400``, ``...+05:30``, ``...Z``, a bare
    date) as UTC ``YYYY-MM-DD HH:MM:SS``; None for "", null or anything unparseable.
    A timestamp without an offset is taken as UTC.

    Hot path (two or three per record): the usual shape with a whole-hour offset only
    moves the date and hour, so those are converted once per (hour, offset) and the
    minutes and seconds are copied (the same answer as the general path, tested so)."""
    if type(value) is not str or not value:
        return None
    usual = _USUAL_TIME.fullmatch(value)
    if usual is None:
        return _general_to_utc_text(value)
    hour, minutes_seconds, offset = usual.groups()
    utc_hour = _UTC_HOURS.get((hour, offset))
    if utc_hour is None:
        converted = _general_to_utc_text(f"{hour}:00:00{offset}")
        utc_hour = converted[:13] if converted else ""
        if len(_UTC_HOURS) >= _UTC_HOURS_LIMIT:
            _UTC_HOURS.clear()
        _UTC_HOURS[(hour, offset)] = utc_hour
    return utc_hour + minutes_seconds if utc_hour else None


def _general_to_utc_text(value: str) -> str | None:
    """:func:`to_utc_text` for any accepted shape (regex, then ``fromisoformat``).

    A fraction of a second is kept (``2026-06-09 20:48:58.25``): two versions saved within
    one second must not tie. It is kept as the source's digits, up to the microsecond
    (PostgreSQL's precision, so both databases compare the same instants), trailing zeros
    dropped: then the text sorts in time order, ``...:58`` before ``...:58.000001``."""
    text = value.strip()
    match = _ZOHO_TIME.match(text)
    if not match:
        return None
    fraction = match.group("frac")
    if fraction:
        text = text[: match.start("frac")] + text[match.end("frac") :]
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):  # OverflowError: past year 9999 or before 1 in UTC
        return None
    whole = moment.replace(microsecond=0).isoformat(sep=" ")
    if fraction and match.group("time") and match.group("time").count(":") == 2:
        digits = fraction[1:7].rstrip("0")  # offsets move whole minutes: the fraction stays
        if digits:
            return f"{whole}.{digits}"
    return whole


def local_to_utc_text(moment: datetime | None) -> str | None:
    """A naive local time (a session folder's name) as UTC text."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def record_times(record: Mapping[str, Any], fallback: str | None) -> tuple[str | None, str | None]:
    """(created_at, updated_at) of a record per DESIGN.md: created_time; last_modified_time,
    else updated_time; else the session's timestamp."""
    created_text = record.get("created_time")
    modified_text = record.get("last_modified_time")
    created = to_utc_text(created_text)
    # Half of Zoho's records were never modified: one text, converted once.
    modified = created if modified_text == created_text else to_utc_text(modified_text)
    updated = modified or to_utc_text(record.get("updated_time")) or fallback
    return created or fallback, updated


_KIND_OF_TYPE: dict[type, str] = {
    str: KIND_TEXT,
    int: KIND_INT,
    bool: KIND_BOOL,
    float: KIND_FLOAT,
    list: KIND_TEXT,
    dict: KIND_TEXT,
    Decimal: KIND_TEXT,  # a decimal a double would round: kept as its exact text
}


def value_kind(value: Any) -> str | None:
    """The JSON kind that votes on a column's type; None and "" do not vote."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return KIND_BOOL
    if isinstance(value, int):
        return KIND_INT if sd.INT64_MIN <= value <= sd.INT64_MAX else KIND_TEXT
    if isinstance(value, float):
        return KIND_FLOAT if math.isfinite(value) else KIND_TEXT
    return KIND_TEXT


NUMERIC_TYPES = (sd.INTEGER, sd.REAL)


def sql_type_for(kinds: Iterable[str]) -> str:
    """The type lattice: any text → TEXT; int with float → REAL; int (and bool) → INTEGER;
    nothing but null and "" → no declared type yet (SQLite then keeps every value as it
    comes, so later numbers stay numbers and later text stays text)."""
    kinds = set(kinds)
    if not kinds:
        return sd.UNTYPED
    if KIND_TEXT in kinds:
        return sd.TEXT
    if KIND_FLOAT in kinds:
        return sd.REAL
    return sd.INTEGER  # whole numbers, booleans (0/1), or both


def only_booleans(kinds: Iterable[str]) -> bool:
    """Whether a column has held nothing but true/false (PostgreSQL declares it BOOLEAN)."""
    return set(kinds) == {KIND_BOOL}


def flatten(
    record: Mapping[str, Any], *, split_children: bool
) -> tuple[dict[Path_, Any], dict[str, list[Any]]]:
    """Flatten one record into {json path: value} and {field: array}.

    Nested objects recurse; arrays become values (stored as JSON text) except, when
    ``split_children`` is set, top-level arrays, which are returned apart so the plan
    can decide whether they are child tables.

    Hot path (every record and every child element): records of one shape (the same
    keys with values of the same types) flatten the same way, so a shape seen twice gets
    its steps worked out (see :func:`_flatten_steps`), then applied with C-speed
    ``dict.update(zip(...))`` over runs of plain values. A shape met once is flattened
    key by key: data whose every record has a shape of its own costs little more than
    without the steps. Paths keep the record's order.
    """
    scalars, arrays, _ = flatten_shaped(record, split_children=split_children)
    return scalars, arrays


def flatten_shaped(
    record: Mapping[str, Any], *, split_children: bool
) -> tuple[dict[Path_, Any], dict[str, list[Any]], tuple[_Shape, ...] | None]:
    """:func:`flatten`, plus the record's flat shape: the planned object shapes it went
    through, in order (None when one of them was met for the first time).

    Records with the same flat shape have the same paths in the same order with values of
    the same types, which is all the type vote looks at besides strings and integers
    (see :meth:`TablePlan.vote`): the shape, compared by identity, spares the vote
    working out the paths and types again (its cost per record: a small tuple's hash)."""
    scalars: dict[Path_, Any] = {}
    arrays: dict[str, list[Any]] = {}
    trail: list[_Shape | None] = []
    _flatten_into(scalars, arrays if split_children else None, (), record, trail)
    if None in trail:
        return scalars, arrays, None
    return scalars, arrays, tuple(trail)  # type: ignore[arg-type]  # None excluded


class Flat(Mapping[Path_, Any]):
    """A flattened record as the load carries it: its paths and its values in the same order.

    Records of one flat shape share one ``paths`` tuple (see :func:`flatten_flat`), so the
    writer tells two key sets apart by identity and picks a row's values from ``raw`` with
    one ``itemgetter``, and no ``{path: value}`` dict is built per record (building one
    was the largest single item of flattening). It reads like that dict (a ``Mapping``)
    for everything off the hot path; lookups by path there are linear."""

    __slots__ = ("paths", "raw")

    def __init__(self, paths: tuple[Path_, ...], raw: list[Any]) -> None:
        self.paths = paths
        self.raw = raw

    @classmethod
    def of(cls, scalars: Mapping[Path_, Any]) -> Flat:
        """The same flat record from a ``{path: value}`` mapping."""
        if type(scalars) is Flat:
            return scalars
        return cls(tuple(scalars), list(scalars.values()))

    def __getitem__(self, path: Path_) -> Any:
        try:
            return self.raw[self.paths.index(path)]
        except ValueError:
            raise KeyError(path) from None

    def __iter__(self) -> Iterator[Path_]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def __contains__(self, path: object) -> bool:
        return path in self.paths

    def values(self) -> list[Any]:  # type: ignore[override]  # a list: indexable, cheap
        return self.raw

    def items(self) -> list[tuple[Path_, Any]]:  # type: ignore[override]
        return list(zip(self.paths, self.raw))

    def __repr__(self) -> str:
        return f"Flat({dict(zip(self.paths, self.raw))!r})"


def flatten_flat(
    record: Mapping[str, Any], *, split_children: bool
) -> tuple[Flat, dict[str, list[Any]], tuple[_Shape, ...] | None]:
    """:func:`flatten_shaped` giving a :class:`Flat` record: when every object shape of
    the record is planned, its values are gathered into a list by slices (no dict, no
    path hashed) and its paths are the one tuple of its flat shape; otherwise (a shape met
    for the first time) it is flattened into a dict as before and turned into a Flat."""
    raw: list[Any] = []
    arrays: dict[str, list[Any]] = {}
    trail: list[_Shape] = []
    if _gather_into(raw, arrays if split_children else None, (), record, trail):
        shape = tuple(trail)
        paths = _TRAIL_PATHS.get(shape)
        if paths is not None:
            return Flat(paths, raw), arrays, shape
    scalars, arrays, found = flatten_shaped(record, split_children=split_children)
    if found is not None:
        if len(_TRAIL_PATHS) >= _FLATTEN_STEPS_LIMIT:
            _TRAIL_PATHS.clear()
        paths = _TRAIL_PATHS.setdefault(found, tuple(scalars))
        return Flat(paths, list(scalars.values())), arrays, found
    return Flat(tuple(scalars), list(scalars.values())), arrays, None


def _gather_into(
    raw: list[Any],
    arrays: dict[str, list[Any]] | None,
    prefix: Path_,
    obj: Mapping[str, Any],
    trail: list[_Shape],
) -> bool:
    """The values of ``obj`` in flat order, by its planned steps (as :func:`_flatten_into`
    applies them, without a dict); False, with nothing planned or marked, as soon as an
    object shape is not planned yet (the caller then flattens the record as before)."""
    values = list(obj.values())
    planned = _FLATTEN_STEPS.get((prefix, tuple(obj), tuple(map(type, values)), arrays is not None))
    if planned is None or planned is _SEEN_ONCE:
        return False
    trail.append(planned)
    for step, start, stop, paths in planned.steps:
        if step == _RUN:
            raw.extend(values[start:stop])
        elif step == _OBJECT:
            value = values[start]
            if value and not _gather_into(raw, None, paths, value, trail):
                return False
        else:
            arrays[paths] = values[start]  # type: ignore[index]  # split: arrays is a dict
    return True


# flat shape (the planned object shapes of a record, in order) → its paths, one tuple
# shared by every record of the shape; bounded like the steps.
_TRAIL_PATHS: dict[tuple[Any, ...], tuple[Path_, ...]] = {}


class _Shape:
    """The flattening steps of one object shape (prefix, keys, value types, split?):
    runs of plain values (with their paths), nested objects (with their prefix) and,
    when splitting, top-level arrays (with their field name). Hashed and compared by
    identity, so a record's shapes make a cheap key; a key holds its shapes alive, so an
    identity is never reused while a key names it."""

    __slots__ = ("steps",)

    def __init__(self, steps: tuple[tuple[int, int, int, Any], ...]) -> None:
        self.steps = steps


# (prefix, keys, value types, split?) → _Shape, or _SEEN_ONCE; bounded like the plans'
# shape caches.
_FLATTEN_STEPS: dict[tuple[Any, ...], Any] = {}
_FLATTEN_STEPS_LIMIT = 4096
_SEEN_ONCE = object()
_RUN, _OBJECT, _ARRAY = 0, 1, 2


def _flatten_into(
    out: dict[Path_, Any],
    arrays: dict[str, list[Any]] | None,
    prefix: Path_,
    obj: Mapping[str, Any],
    trail: list[_Shape | None],
) -> None:
    values = list(obj.values())
    types = tuple(map(type, values))
    shape = (prefix, tuple(obj), types, arrays is not None)
    planned = _FLATTEN_STEPS.get(shape)
    if planned is None or planned is _SEEN_ONCE:
        if len(_FLATTEN_STEPS) >= _FLATTEN_STEPS_LIMIT:
            _FLATTEN_STEPS.clear()
        if planned is None:
            _FLATTEN_STEPS[shape] = _SEEN_ONCE
            trail.append(None)
            _flatten_key_by_key(out, arrays, prefix, obj, trail)
            return
        planned = _FLATTEN_STEPS[shape] = _Shape(_flatten_steps(prefix, shape[1], types, split=arrays is not None))
    trail.append(planned)
    for step, start, stop, paths in planned.steps:
        if step == _RUN:
            out.update(zip(paths, values[start:stop]))
        elif step == _OBJECT:
            value = values[start]
            if value:
                _flatten_into(out, None, paths, value, trail)
        else:
            arrays[paths] = values[start]  # type: ignore[index]  # split: arrays is a dict


def _flatten_key_by_key(
    out: dict[Path_, Any],
    arrays: dict[str, list[Any]] | None,
    prefix: Path_,
    obj: Mapping[str, Any],
    trail: list[_Shape | None],
) -> None:
    """The same result as the steps, one key at a time (for a shape met the first time)."""
    for key, value in obj.items():
        kind = type(value)
        if kind is dict:
            if value:
                _flatten_into(out, None, (*prefix, key), value, trail)
        elif kind is list and arrays is not None:
            arrays[key] = value
        else:
            out[(*prefix, key)] = value


def _flatten_steps(
    prefix: Path_, keys: tuple[str, ...], types: tuple[type, ...], *, split: bool
) -> tuple[tuple[int, int, int, Any], ...]:
    """How to flatten one shape (see :class:`_Shape`)."""
    steps: list[tuple[int, int, int, Any]] = []
    run_start = 0
    for index, (key, kind) in enumerate(zip(keys, types)):
        if kind is dict or (kind is list and split):
            if run_start < index:
                steps.append((_RUN, run_start, index, tuple((*prefix, k) for k in keys[run_start:index])))
            if kind is dict:
                steps.append((_OBJECT, index, index + 1, (*prefix, key)))
            else:
                steps.append((_ARRAY, index, index + 1, key))
            run_start = index + 1
    if run_start < len(keys):
        steps.append((_RUN, run_start, len(keys), tuple((*prefix, k) for k in keys[run_start:])))
    return tuple(steps)


def _getter(positions: list[int]) -> Callable[[list[Any]], tuple[Any, ...]] | None:
    """A getter of the values at ``positions`` as a tuple (itemgetter of two or more
    positions returns a tuple, so one position is given twice); None for no position."""
    return itemgetter(*positions, positions[0]) if positions else None


def tuple_getter(positions: Sequence[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A C-speed picker of exactly ``positions`` that always gives a tuple (``itemgetter`` of
    one position gives the bare item, of none is not allowed)."""
    if len(positions) >= 2:
        return itemgetter(*positions)
    if len(positions) == 1:
        only = positions[0]
        return lambda values: (values[only],)
    return lambda values: ()


def path_key(path: Path_) -> str:
    """The stored form of a JSON path (a JSON list, unambiguous whatever the keys hold)."""
    return json.dumps(list(path), ensure_ascii=False)


@dataclass(slots=True)
class ColumnSpec:
    """One data column: where its values come from and what SQL type it has."""

    name: str
    path: Path_
    sql_type: str
    is_overflow: bool = False


@dataclass(slots=True)
class TablePlan:
    """The columns of one ``json_*`` table, stable from run to run once stored."""

    name: str
    entity: str
    reserved: tuple[str, ...]
    parent: str | None = None
    field: str | None = None
    id_field: str | None = None
    columns: dict[Path_, ColumnSpec] = dc_field(default_factory=dict)
    kinds: dict[Path_, set[str]] = dc_field(default_factory=dict)
    object_prefixes: set[Path_] = dc_field(default_factory=set)
    used_names: set[str] = dc_field(default_factory=set)
    max_data_columns: int = sd.MAX_COLUMNS - 16
    limits: Limits = SQLITE_LIMITS
    # What the database already holds (lower-cased column names); filled by the
    # table generator, so only the difference is ever turned into DDL.
    existing_columns: set[str] = dc_field(default_factory=set)
    # Their logical types as declared (lower-cased name → TEXT/INTEGER/REAL/""), for
    # retyping untyped columns where the database has no untyped columns (PostgreSQL).
    declared: dict[str, str] = dc_field(default_factory=dict)
    # Paths that have held arrays or integers beyond 64 bits (stored as text), and
    # per-key-set row layouts (see data_populator); derived caches for the hot path.
    converted_paths: set[Path_] = dc_field(default_factory=set)
    layouts: dict[tuple[Path_, ...], Any] = dc_field(default_factory=dict)
    # The same layouts by the identity of a key set (one paths tuple per flat shape: see
    # Flat), which a batch's rows find without hashing their paths; each entry keeps its
    # tuple alive, so an id is never reused while it is here.
    layouts_by_id: dict[int, tuple[tuple[Path_, ...], Any]] = dc_field(default_factory=dict)
    # Bumped by every change the row layouts and the database must follow (a column, a
    # kind, a retype); apply_plan skips a table whose revision it has already applied.
    revision: int = 0
    applied_revision: int = -1
    exists: bool = False
    saved_state: dict[Path_, tuple[str, str, str]] = dc_field(default_factory=dict)
    # Values that do not fit a numeric column's declared type (see _new_vote).
    conflict_paths: set[Path_] = dc_field(default_factory=set)
    new_conflicts: list[str] = dc_field(default_factory=list)
    # Paths that have held numbers kept as exact text, with the first such value (the
    # populator warns once per column and run, naming it).
    exact_number_paths: dict[Path_, Any] = dc_field(default_factory=dict)
    warned_exact_paths: set[Path_] = dc_field(default_factory=set)
    pending_null_fixups: set[str] = dc_field(default_factory=set)
    # INTEGER columns that received a fraction: widened to REAL before the batch's rows
    # are written, so that the database and the analysis agree (see table_generator).
    pending_widen: set[Path_] = dc_field(default_factory=set)
    # Shapes already voted (see vote) → getters of the values still worth a look.
    voted_shapes: dict[Hashable, tuple[Any, Any]] = dc_field(default_factory=dict)

    def observe(self, scalars: Mapping[Path_, Any], *, check_ints: bool = True) -> None:
        """Vote every value's kind and give every new path a column (see :meth:`vote`;
        the shape here is the paths and value types themselves)."""
        self.vote((tuple(scalars), tuple(map(type, scalars.values()))), scalars, check_ints=check_ints)

    def vote(self, shape: Hashable, scalars: Mapping[Path_, Any], *, check_ints: bool = True) -> None:
        """Vote ``scalars``, whose paths and value types ``shape`` stands for (equal shapes,
        equal paths and types in the same order): by the paths and types themselves
        (:meth:`observe`) or by a flat shape of :func:`flatten_shaped`, cheaper to compare.

        Hot path: records of one shape vote the same way but for their strings and
        integers, so once a shape has been voted value by value it is only re-checked
        where a value could still vote something new: strings at paths that have not held
        text (an empty string votes nothing, any other does) and, with ``check_ints`` (the
        reader says when a file may hold integers beyond 64 bits, and the analysis always
        checks), integers out of the 64-bit range at paths that have not held one (one
        C-speed min and max over the shape's integers). Any such value votes the whole
        record value by value again, which gives the same plan as voting every record so.
        """
        watch = self.voted_shapes.get(shape)
        if watch is not None:
            texts, ints = watch
            values = scalars.raw if type(scalars) is Flat else list(scalars.values())
            if not check_ints or ints is None:
                if texts is None or not any(texts(values)):
                    return
            elif ints is not _REVOTE:
                found = ints(values)
                if sd.INT64_MIN <= min(found) and max(found) <= sd.INT64_MAX and (
                    texts is None or not any(texts(values))
                ):
                    return
        self._observe_values(scalars)
        if len(self.voted_shapes) > 4096:
            self.voted_shapes.clear()
        self.voted_shapes[shape] = self._watch(scalars)

    def _watch(self, scalars: Mapping[Path_, Any]) -> tuple[Any, Any]:
        """After a record was voted value by value: getters of its shape's values that
        could still vote something new (see :meth:`vote`), None where there are none.

        Texts: strings at paths without a text vote. Integers: those at paths that have
        held a whole number but no integer beyond 64 bits; a path that has held only such
        integers would take a small one as a new vote, so a shape with one is voted value
        by value whenever integers are checked (_REVOTE)."""
        kinds, exact = self.kinds, self.exact_number_paths
        texts: list[int] = []
        ints: list[int] = []
        revote = False
        for position, (path, value) in enumerate(scalars.items()):
            value_type = type(value)
            if value_type is str:
                if KIND_TEXT not in kinds.get(path, ()):
                    texts.append(position)
            elif value_type is int:
                if KIND_INT not in kinds.get(path, ()):
                    revote = True
                elif path not in exact:
                    ints.append(position)
        return _getter(texts), _REVOTE if revote else _getter(ints)

    def _observe_values(self, scalars: Mapping[Path_, Any]) -> None:
        """Vote value by value (see :meth:`observe`)."""
        kinds = self.kinds
        for path, value in scalars.items():
            votes = kinds.get(path)
            value_type = type(value)
            if votes is None:
                if value == "" and path in self.object_prefixes:
                    continue
                votes = kinds[path] = set()
                self._add_column(path)
                for depth in range(1, len(path)):
                    if path[:depth] not in self.object_prefixes:
                        self.object_prefixes.add(path[:depth])
                        self.forget_placeholder(path[:depth])
            kind = _KIND_OF_TYPE.get(value_type)
            if kind is None or (value_type is str and not value):
                continue
            exact_number = value_type is Decimal or (
                value_type is int and not (sd.INT64_MIN <= value <= sd.INT64_MAX)
            )
            if value_type is list or exact_number:
                # Arrays become JSON text, and numbers no number column holds exactly
                # (integers beyond 64 bits, decimals a double would round) their exact
                # text: rows with such paths need converting (see data_populator.RowLayout).
                kind = KIND_TEXT
                if path not in self.converted_paths:
                    self.converted_paths.add(path)
                    self.forget_layouts()
                if exact_number and path not in self.exact_number_paths:
                    self.exact_number_paths[path] = value
            if kind not in votes:
                self._new_vote(path, kind, votes)

    def observe_elements(
        self, elements: Iterable[Any], *, check_ints: bool = True
    ) -> list[tuple[Any, Flat]]:
        """Flatten and vote the elements of a child array; each element is returned with
        its flat scalars. Elements that are objects vote by their flat shape (most line
        items of a file share a few)."""
        flat_elements: list[tuple[Any, Flat]] = []
        for element in elements:
            if isinstance(element, dict):
                scalars, _, shape = flatten_flat(element, split_children=False)
                if shape is not None:
                    self.vote(shape, scalars, check_ints=check_ints)
                else:
                    self.observe(scalars, check_ints=check_ints)
            else:
                scalars = Flat(_SCALAR_ELEMENT_PATHS, [element])
                self.observe(scalars, check_ints=check_ints)
            flat_elements.append((element, scalars))
        return flat_elements

    def forget_layouts(self) -> None:
        """Something the row layouts and the schema follow has changed (a column, a vote,
        a retype): layouts are built again, and the next apply_plan looks at the table."""
        self.layouts.clear()
        self.layouts_by_id.clear()
        self.revision += 1

    def forget_placeholder(self, path: Path_) -> None:
        """Drop a column that only ever held "" or null, before it is created, once the
        path turns out to be an object or a child array (Zoho sends ``"documents": ""``
        for an empty array): no column swallows the real data's place."""
        spec = self.columns.get(path)
        if spec is None or self.kinds.get(path) or spec.name.lower() in self.existing_columns:
            return
        del self.columns[path]
        self.kinds.pop(path, None)
        self.used_names.discard(spec.name.lower())
        self.forget_layouts()
        self.voted_shapes.clear()

    def _new_vote(self, path: Path_, kind: str, votes: set[str]) -> None:
        """A path shows a kind it never had: rare, so the bookkeeping lives here.

        An untyped column (created while only "" and null had been seen) that now turns
        out numeric gets its stored "" set to NULL; a text kind reaching an INTEGER or
        REAL column is a conflict (the populator keeps such values exactly in the
        overflow JSON column instead of letting SQLite coerce them).
        """
        was_numeric = sql_type_for(votes) in NUMERIC_TYPES if votes else False
        votes.add(kind)
        self.forget_layouts()
        spec = self.columns.get(path)
        if spec is None or spec.is_overflow or spec.name.lower() not in self.existing_columns:
            return
        if spec.sql_type == sd.UNTYPED and not was_numeric and sql_type_for(votes) in NUMERIC_TYPES:
            self.pending_null_fixups.add(spec.name)
        if spec.sql_type == sd.INTEGER and kind == KIND_FLOAT:
            self.pending_widen.add(path)
        if spec.sql_type in NUMERIC_TYPES and kind == KIND_TEXT and path not in self.conflict_paths:
            self.conflict_paths.add(path)
            self.new_conflicts.append(spec.name)

    def effective_type(self, spec: ColumnSpec) -> str:
        """The type values are converted for: the declared one, or for an untyped column
        the lattice of what it has held so far."""
        if spec.sql_type == sd.UNTYPED:
            return sql_type_for(self.kinds.get(spec.path, ()))
        return spec.sql_type

    def _add_column(self, path: Path_) -> None:
        self.forget_layouts()
        if len(self.columns) >= self.max_data_columns:
            self.columns[path] = ColumnSpec(sd.OVERFLOW_COLUMN, path, sd.TEXT, is_overflow=True)
            return
        base = "__".join(normalize_key(part) for part in path)
        if base in self.reserved or base == sd.OVERFLOW_COLUMN:
            base += "_orig"
        limit = self.limits.max_identifier_bytes
        name = sd.fit_identifier(base, limit)
        suffix = 2
        while name.lower() in self.used_names:
            name = sd.fit_identifier(f"{base}_{suffix}", limit)
            suffix += 1
        self.used_names.add(name.lower())
        self.columns[path] = ColumnSpec(name, path, sd.TEXT)

    def resolve_types(self) -> None:
        """Settle the SQL type of columns not yet created from the votes so far."""
        for path, spec in self.columns.items():
            if not spec.is_overflow:
                spec.sql_type = sql_type_for(self.kinds.get(path, ()))

    def resolve_types_for_new(self) -> None:
        """Settle types of columns the database does not hold yet; existing ones keep
        their declared type (schema evolution never retypes)."""
        for path, spec in self.columns.items():
            if not spec.is_overflow and spec.name.lower() not in self.existing_columns:
                spec.sql_type = sql_type_for(self.kinds.get(path, ()))

    def overflowing(self) -> bool:
        return any(spec.is_overflow for spec in self.columns.values())


@dataclass(slots=True)
class EntityPlan:
    """Everything known about one entity: its main table, child tables and counts."""

    entity: str
    id_field: str
    main: TablePlan
    children: dict[str, TablePlan] = dc_field(default_factory=dict)
    json_array_fields: set[str] = dc_field(default_factory=set)
    files: list[str] = dc_field(default_factory=list)
    record_count: int = 0
    missing_id_count: int = 0

    # Table names in use across all plans and the database (lower case), shared by the
    # plans of one run so that no two tables ever get the same name.
    taken_tables: set[str] = dc_field(default_factory=set)
    # (flat shape, JSON-text fields, child tables known) → the main table's paths (see
    # flatten_and_observe); a derived cache of the hot path.
    main_paths: dict[tuple[Any, ...], Any] = dc_field(default_factory=dict)

    @classmethod
    def new(
        cls,
        entity: str,
        id_field: str,
        reserved: Iterable[str] = (),
        *,
        taken_tables: set[str] | None = None,
        table_name: str | None = None,
        limits: Limits = SQLITE_LIMITS,
    ) -> EntityPlan:
        taken = taken_tables if taken_tables is not None else set()
        reserved_main = (*MAIN_OWNED_COLUMNS, *reserved)
        main = TablePlan(
            name=table_name or unique_table_name(table_name_for(entity), taken, limits.max_identifier_bytes),
            entity=entity,
            reserved=reserved_main,
            id_field=id_field,
            used_names={c.lower() for c in reserved_main},
            max_data_columns=limits.max_data_columns,
            limits=limits,
        )
        taken.add(main.name.lower())
        return cls(entity=entity, id_field=id_field, main=main, taken_tables=taken)

    def child_plan(self, field_name: str, table_name: str | None = None) -> TablePlan:
        plan = self.children.get(field_name)
        if plan is None:
            reserved_child = (*CHILD_OWNED_COLUMNS, *self.main.reserved[len(MAIN_OWNED_COLUMNS):])
            limits = self.main.limits
            name = table_name or unique_table_name(
                f"{self.main.name}_{normalize_key(field_name)}", self.taken_tables, limits.max_identifier_bytes
            )
            self.taken_tables.add(name.lower())
            plan = TablePlan(
                name=name,
                entity=self.entity,
                reserved=reserved_child,
                parent=self.main.name,
                field=field_name,
                id_field=child_id_field(self.entity, field_name),
                used_names={c.lower() for c in reserved_child},
                max_data_columns=limits.max_data_columns,
                limits=limits,
            )
            self.children[field_name] = plan
        return plan

    def classify_array(self, field_name: str, value: Any) -> str:
        """What a top-level array field is: ``child``, ``json`` or ``absent``.

        A field that already has a child table stays a child; one stored as JSON text
        stays JSON; an unknown field becomes a child when it holds objects. ``""`` and
        null where an array is expected count as absent, so they never erase children.
        """
        if field_name in self.children:
            return "child" if isinstance(value, list) else "absent"
        if field_name in self.json_array_fields:
            return "json"
        if not isinstance(value, list) or not value:
            return "absent"
        if any(isinstance(element, dict) for element in value):
            return "child"  # scalars among objects become rows with a "value" column
        return "json"

    def observe_record(self, record: Mapping[str, Any]) -> None:
        """Vote one record into the plan (types, new columns, new child tables)."""
        self.flatten_and_observe(record)

    def flatten_and_observe(
        self, record: Mapping[str, Any], *, check_ints: bool = True
    ) -> tuple[Flat, dict[str, list[tuple[Any, Flat]]]]:
        """:func:`flatten` then :meth:`observe_flat` (the record's scalars and its child
        arrays), with the record's own columns voted by its flat shape: cheaper than
        working out its paths and types again. The scalars come as a :class:`Flat` whose
        paths are shared by the records of one flat shape (what the writer keys on)."""
        flat, arrays, shape = flatten_flat(record, split_children=True)
        if shape is None:  # a shape met for the first time: as a dict, voted value by value
            scalars = dict(zip(flat.paths, flat.raw))
            first_children = self._observe_flat(scalars, arrays, check_ints, None)
            return Flat.of(scalars), first_children
        children, json_fields, json_values = self._observe_arrays(arrays, check_ints)
        key = (shape, tuple(json_fields), len(self.children))
        found = self.main_paths.get(key)
        if found is None:
            found = self._main_paths(key, flat.paths, json_fields)
        paths, keep, left = found
        raw = flat.raw if keep is None else list(keep(flat.raw))
        if json_values:
            raw.extend(json_values)
        scalars_flat = Flat(paths, raw)
        # The flat shape, and what was done to it: arrays kept as JSON text joined the
        # end (as lists), fields of child tables left (see _observe_flat).
        self.main.vote((shape, key[1], left), scalars_flat, check_ints=check_ints)
        return scalars_flat, children

    def _main_paths(
        self, key: tuple[Any, ...], paths: tuple[Path_, ...], json_fields: list[str]
    ) -> tuple[tuple[Path_, ...], Callable[[list[Any]], tuple[Any, ...]] | None, tuple[str, ...]]:
        """For one flat shape, its JSON-text arrays and the child tables known so far: the
        main table's paths (child-table fields left, JSON-text arrays at the end, as
        :meth:`_observe_flat` does to a dict), a getter of the values kept (None: all)
        and the child-table fields that left. Cached per plan, bounded."""
        left = tuple(name for name in self.children if (name,) in paths)
        kept = [index for index, path in enumerate(paths) if not (len(path) == 1 and path[0] in left)]
        found = (
            tuple(paths[index] for index in kept) + tuple((name,) for name in json_fields),
            tuple_getter(kept) if left else None,
            left,
        )
        if len(self.main_paths) >= _FLATTEN_STEPS_LIMIT:
            self.main_paths.clear()
        self.main_paths[key] = found
        return found

    def observe_flat(
        self, scalars: dict[Path_, Any], arrays: Mapping[str, Any], *, check_ints: bool = True
    ) -> dict[str, list[tuple[Any, Flat]]]:
        """Vote a flattened record into the plan and return its child arrays, each element
        with its flattened scalars (flattened once: the writer uses them too).

        ``scalars`` is completed in place: arrays stored as JSON text join it, and
        fields that are child tables leave it (``""`` there means absent).
        """
        return self._observe_flat(scalars, arrays, check_ints, None)

    def _observe_arrays(
        self, arrays: Mapping[str, Any], check_ints: bool
    ) -> tuple[dict[str, list[tuple[Any, Flat]]], list[str], list[Any]]:
        """The record's top-level arrays: child tables (their elements flattened and
        voted) and arrays kept as JSON text (their fields and values)."""
        children: dict[str, list[tuple[Any, Flat]]] = {}
        json_fields: list[str] = []
        json_values: list[Any] = []
        for field_name, value in arrays.items():
            kind = self.classify_array(field_name, value)
            if kind == "child":
                if field_name not in self.children:
                    self.main.forget_placeholder((field_name,))
                children[field_name] = self.child_plan(field_name).observe_elements(value, check_ints=check_ints)
            elif kind == "json":
                self.json_array_fields.add(field_name)
                json_fields.append(field_name)
                json_values.append(value)
        return children, json_fields, json_values

    def _observe_flat(
        self,
        scalars: dict[Path_, Any],
        arrays: Mapping[str, Any],
        check_ints: bool,
        shape: tuple[_Shape, ...] | None,
    ) -> dict[str, list[tuple[Any, Flat]]]:
        children, json_fields, json_values = self._observe_arrays(arrays, check_ints)
        for field_name, value in zip(json_fields, json_values):
            scalars[(field_name,)] = value
        left = [field_name for field_name in self.children if scalars.pop((field_name,), _UNSEEN) is not _UNSEEN]
        if shape is None:
            self.main.observe(scalars, check_ints=check_ints)
        else:
            # The flat shape, and what was done to it here: arrays kept as JSON text
            # joined the end (as lists), fields of child tables left.
            self.main.vote((shape, tuple(json_fields), tuple(left)), scalars, check_ints=check_ints)
        return children

    def tables(self) -> list[TablePlan]:
        return [self.main, *self.children.values()]


def _element_scalars(element: Any) -> Flat:
    if isinstance(element, dict):
        return flatten_flat(element, split_children=False)[0]
    return Flat(_SCALAR_ELEMENT_PATHS, [element])


element_scalars = _element_scalars


def analyze_records(
    entity: str,
    batches: Iterable[list[dict[str, Any]]],
    *,
    plan: EntityPlan | None = None,
    primary_keys: Mapping[str, str] | None = None,
    reserved: Iterable[str] = (),
    taken_tables: set[str] | None = None,
    limits: Limits = SQLITE_LIMITS,
) -> EntityPlan:
    """Vote every record of ``batches`` into ``plan`` (a new one when None, shaped by the
    destination's ``limits``)."""
    for batch in batches:
        if plan is None:
            plan = EntityPlan.new(
                entity,
                choose_id_field(entity, batch, primary_keys),
                reserved,
                taken_tables=taken_tables,
                limits=limits,
            )
        for record in batch:
            plan.record_count += 1
            if not has_usable_id(record.get(plan.id_field)):
                plan.missing_id_count += 1
            plan.observe_record(record)
    if plan is None:
        plan = EntityPlan.new(
            entity, id_field_candidates(entity, primary_keys)[0], reserved, taken_tables=taken_tables, limits=limits
        )
    return plan


def analyze_child_records(plan: EntityPlan, field_name: str, batches: Iterable[list[Any]]) -> int:
    """Vote the elements of a separate child-row file (api_sync's ``<entity>_line_items.json``)
    into ``plan``'s child table for ``field_name``; returns how many were read."""
    child = plan.child_plan(field_name)
    count = 0
    for batch in batches:
        child.observe_elements(batch)
        count += len(batch)
    return count


def has_usable_id(value: Any) -> bool:
    return normalize_id(value) is not None


def normalize_id(value: Any) -> str | None:
    """Ids are text: ``123`` and ``"123"`` are one record; "", null, booleans, objects and
    non-integral numbers are not ids."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return None
    if isinstance(value, str):
        text = value.strip()
        return text or None
    return None


def describe_plan(plan: EntityPlan) -> dict[str, Any]:
    """Plain-dict view of a plan for the analysis result."""
    for table in plan.tables():
        table.resolve_types()
    return {
        "entity": plan.entity,
        "table": plan.main.name,
        "files": list(plan.files),
        "record_count": plan.record_count,
        "id_field": plan.id_field,
        "records_without_id": plan.missing_id_count,
        "columns": _describe_columns(plan.main),
        "child_tables": {
            child.name: {"field": child.field, "columns": _describe_columns(child)}
            for child in plan.children.values()
        },
    }


def _describe_columns(table: TablePlan) -> dict[str, str]:
    described: dict[str, str] = {}
    for spec in table.columns.values():
        described.setdefault(spec.name, spec.sql_type or UNTYPED_LABEL)
    return described


UNTYPED_LABEL = "(no type: only empty values so far)"
