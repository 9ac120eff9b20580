"""PostgreSQL versions of the verifier's read-only queries (see the last section of
:mod:`.sqlite`); part of the PostgreSQL dialect, re-exported by :mod:`.postgres`.

Same names, signatures and meaning as the SQLite builders. Each ``offending_*`` function
returns a SELECT of one row per problem whose first column names the row (the ``label``
column, else ``row (<page>,<slot>)`` from the ``ctid``: PostgreSQL has no rowid); wrap it
with :func:`count_of` or :func:`first_distinct` for the count and the examples.

Differences the verifier can rely on:

* Columns are typed (TEXT, BIGINT, NUMERIC), so no statement compares a column with a
  value of another type: values are read through ``CAST(... AS text)`` and a regex guard
  before any cast to ``numeric``, inside ``CASE`` (whose branches PostgreSQL evaluates in
  order), so bad text never raises an error in the middle of a check.
* No statement holds a literal percent sign: psycopg always gets parameters, so ``mod()``
  and regex operators stand in for ``%`` and ``LIKE``.
* ``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check`` have no PostgreSQL
  counterpart the verifier needs: the server checks its own storage and enforces
  foreign keys on every write (:data:`INTEGRITY_CHECK_APPLIES`,
  :data:`FOREIGN_KEY_CHECK_APPLIES`).

Stdlib only; imports the shared names from :mod:`.sqlite`, never :mod:`.postgres`
(which imports this module).
"""

from __future__ import annotations

from .sqlite import Scope

__all__ = [
    "INTEGRITY_CHECK_APPLIES",
    "FOREIGN_KEY_CHECK_APPLIES",
    "INTEGRITY_CHECK_NOT_APPLICABLE",
    "FOREIGN_KEY_CHECK_NOT_APPLICABLE",
    "create_scope_table",
    "insert_scope_id",
    "integrity_check_table",
    "foreign_key_check_table",
    "count_of",
    "first_distinct",
    "offending_null_ids",
    "offending_duplicate_ids",
    "offending_orphans",
    "offending_blanks",
    "nonstandard_dates",
    "nonstandard_timestamps",
    "offending_non_numbers",
    "offending_negatives",
    "subtotal_mismatches",
    "offending_references",
]

# SQLite's page checks have no counterpart to run here: the verifier reports them as
# "not applicable" with these reasons.
INTEGRITY_CHECK_APPLIES = False
FOREIGN_KEY_CHECK_APPLIES = False
INTEGRITY_CHECK_NOT_APPLICABLE = (
    "the server checks its own storage (write-ahead log, data checksums when enabled); "
    "use the amcheck extension or pg_checksums for a physical check"
)
FOREIGN_KEY_CHECK_NOT_APPLICABLE = (
    "the server enforces foreign keys on every write; child rows whose parent is missing "
    "are counted by orphan_child_rows"
)

# A number as text: what PostgreSQL's numeric input accepts, minus NaN, Infinity and
# exponents too large to cast (no backslashes, so the literals mean the same whatever
# standard_conforming_strings says).
_NUMBER = r"^[[:space:]]*[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]{1,4})?[[:space:]]*$"
# YYYY-MM-DD with a month 01-12 and a day 01-31 (the day is then checked against the month).
_DATE_SHAPE = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
# Zoho's usual timestamp: 2026-06-09T16:48:58-0400 (hours 00-23, offset up to 14:59);
# anything else is looked at in Python, as on SQLite.
_ZOHO_TIMESTAMP_SHAPE = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9][+-](0[0-9]|1[0-4])[0-5][0-9]$"
)
# Types whose values are numbers (others are read as text first).
_NUMERIC_TYPES = (
    "'bigint'::regtype, 'integer'::regtype, 'smallint'::regtype, "
    "'numeric'::regtype, 'double precision'::regtype, 'real'::regtype"
)


def q(name: str) -> str:
    """Quote one identifier (the same rule as :func:`.postgres.quote_identifier`)."""
    if "\x00" in name:
        raise ValueError(f"identifier {name!r} contains a NUL character")
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    """A constant as an SQL string literal (only for the module's own regexes)."""
    return "'" + text.replace("'", "''") + "'"


def _text(expr: str) -> str:
    return f"CAST({expr} AS text)"


def _is_numeric_type(expr: str) -> str:
    return f"pg_typeof({expr}) IN ({_NUMERIC_TYPES})"


def _as_number(expr: str) -> str:
    """``expr`` as numeric when it is a number or numeric-looking text, else NULL (never
    an error)."""
    return (
        f"CASE WHEN {_is_numeric_type(expr)} THEN CAST({_text(expr)} AS numeric) "
        f"WHEN {_text(expr)} ~ {_literal(_NUMBER)} THEN CAST({_text(expr)} AS numeric) END"
    )


def _is_valid_iso_date(expr: str) -> str:
    """True when the text ``expr`` is a real ``YYYY-MM-DD`` date (2026-02-30 is not);
    integer arithmetic behind a regex guard, so bad text never raises an error."""
    year = f"CAST(left({expr}, 4) AS integer)"
    month = f"CAST(substr({expr}, 6, 2) AS integer)"
    day = f"CAST(substr({expr}, 9, 2) AS integer)"
    leap = f"(mod({year}, 4) = 0 AND mod({year}, 100) <> 0) OR mod({year}, 400) = 0"
    last_day = (
        f"CASE WHEN {month} = 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END "
        f"WHEN {month} IN (4, 6, 9, 11) THEN 30 ELSE 31 END"
    )
    return (
        f"CASE WHEN {expr} ~ {_literal(_DATE_SHAPE)} "
        f"THEN {year} > 0 AND {day} <= {last_day} ELSE false END"
    )


def _digits(expr: str, start: int, low: str, high: str) -> str:
    """The two characters of ``expr`` at ``start`` lie between ``low`` and ``high`` (byte
    order, so "07" <= "12"; they are known to be digits where this is used)."""
    return f"substr({expr}, {start}, 2) COLLATE \"C\" BETWEEN '{low}' AND '{high}'"


def _surely_valid_date(expr: str) -> str:
    """True for ``YYYY-MM-DD`` with digits in place, a year above 0, a month 01-12 and a
    day 01-28 (every month has those days). No regex: a pass that most rows take at half
    the cost, so the regex and the day arithmetic only run for the rest. (For timestamps
    the same trick measured no faster than the regex.)"""
    return (
        f"({expr} LIKE '____-__-__' AND translate({expr}, '0123456789', '') = '--' "
        f"AND left({expr}, 4) <> '0000' AND {_digits(expr, 6, '01', '12')} AND {_digits(expr, 9, '01', '28')})"
    )


# --- scopes -------------------------------------------------------------------------


def create_scope_table(name: str) -> str:
    return f"CREATE TEMPORARY TABLE IF NOT EXISTS {q(name)} ({q('id')} TEXT PRIMARY KEY)"


def insert_scope_id(name: str) -> str:
    return f"INSERT INTO pg_temp.{q(name)} ({q('id')}) VALUES (%s) ON CONFLICT DO NOTHING"


def _rows(table: str, scope: Scope | None, alias: str) -> str:
    """``FROM`` target for a table under ``alias``, or only its rows inside ``scope``
    (``ctid`` kept, so labels that fall back to it still work)."""
    if scope is None:
        return f"{q(table)} AS {alias}"
    ids, key = scope
    return (
        f"(SELECT ctid AS ctid, * FROM {q(table)} "
        f"WHERE {q(key)} IN (SELECT {q('id')} FROM pg_temp.{q(ids)})) AS {alias}"
    )


def _label(label: str | None, alias: str) -> str:
    return f"{alias}.{q(label)}" if label else f"'row ' || CAST({alias}.ctid AS text)"


def _by_label(label: str | None) -> str:
    """Rows in label order (byte order, as SQLite sorts text), so the first examples of
    the checks that read every offending row do not depend on where rows sit on disk."""
    return f"ORDER BY CAST({_label(label, 't')} AS text) COLLATE \"C\""


def _blank(expr: str) -> str:
    return f"({expr} IS NULL OR {_text(expr)} = '')"


# --- SQLite's own checks ----------------------------------------------------------------


def _not_applicable(what: str, reason: str) -> NotImplementedError:
    return NotImplementedError(f"{what} is SQLite's; not applicable on PostgreSQL: {reason}")


def integrity_check_table(table: str) -> str:
    raise _not_applicable("PRAGMA integrity_check", INTEGRITY_CHECK_NOT_APPLICABLE)


def foreign_key_check_table(table: str) -> str:
    raise _not_applicable("PRAGMA foreign_key_check", FOREIGN_KEY_CHECK_NOT_APPLICABLE)


# --- wrappers -------------------------------------------------------------------------


def count_of(query: str) -> str:
    """Number of rows a query returns."""
    return f"SELECT COUNT(*) FROM ({query}) AS counted"


def first_distinct(query: str) -> str:
    """The first ``%s`` distinct values of a one-column query, in byte order (as SQLite
    sorts text), for examples."""
    return (
        f"SELECT label FROM (SELECT DISTINCT * FROM ({query}) AS found (label)) AS distinct_found "
        f"ORDER BY CAST(label AS text) COLLATE \"C\" LIMIT %s"
    )


# --- offending rows ----------------------------------------------------------------------


def offending_null_ids(table: str, scope: Scope | None = None) -> str:
    """Rows without an id ("" counts as none); named by ctid since they have no id."""
    return f"SELECT {_label(None, 't')} FROM {_rows(table, scope, 't')} WHERE {_blank('t.' + q('id'))}"


def offending_duplicate_ids(table: str, per_parent: bool, scope: Scope | None = None) -> str:
    """Ids held by more than one row (in child tables: more than once per parent)."""
    group = ", ".join(f"t.{q(c)}" for c in (["parent_id", "id"] if per_parent else ["id"]))
    ident = f"t.{q('id')}"
    return (
        f"SELECT {ident} FROM {_rows(table, scope, 't')} "
        f"WHERE {ident} IS NOT NULL AND {_text(ident)} <> '' "
        f"GROUP BY {group} HAVING COUNT(*) > 1"
    )


def offending_orphans(child: str, parent: str, scope: Scope | None = None) -> str:
    """Child rows whose parent row is missing (named by their parent_id)."""
    return (
        f"SELECT c.{q('parent_id')} FROM {_rows(child, scope, 'c')} WHERE NOT EXISTS "
        f"(SELECT 1 FROM {q(parent)} AS p WHERE p.{q('id')} = c.{q('parent_id')})"
    )


def offending_blanks(table: str, column: str | None, label: str | None, scope: Scope | None = None) -> str:
    """Rows where a required column is NULL or ""; every row when the column is absent."""
    where = f" WHERE {_blank('t.' + q(column))}" if column else ""
    return f"SELECT {_label(label, 't')} FROM {_rows(table, scope, 't')}{where}"


def nonstandard_dates(table: str, column: str, label: str | None, scope: Scope | None = None) -> str:
    """(label, value) of set values that are not a valid ``YYYY-MM-DD`` date text."""
    value = _text(f"t.{q(column)}")
    return (
        f"SELECT {_label(label, 't')}, {value} FROM {_rows(table, scope, 't')} "
        f"WHERE {value} <> '' AND NOT (CASE WHEN {_surely_valid_date(value)} THEN true "
        f"ELSE {_is_valid_iso_date(value)} END) {_by_label(label)}"
    )


def nonstandard_timestamps(table: str, column: str, label: str | None, scope: Scope | None = None) -> str:
    """(label, value) of set values that are not a valid Zoho timestamp of the usual
    shape ``YYYY-MM-DDTHH:MM:SS±HHMM`` (other accepted shapes are judged in Python)."""
    value = _text(f"t.{q(column)}")
    day = f"left({value}, 10)"
    valid = (
        f"CASE WHEN {value} ~ {_literal(_ZOHO_TIMESTAMP_SHAPE)} "
        f"THEN {_is_valid_iso_date(day)} ELSE false END"
    )
    return (
        f"SELECT {_label(label, 't')}, {value} FROM {_rows(table, scope, 't')} "
        f"WHERE {value} <> '' AND NOT ({valid}) {_by_label(label)}"
    )


def offending_non_numbers(table: str, column: str, label: str | None, scope: Scope | None = None) -> str:
    """Rows whose value is neither a number, NULL nor "" (Zoho's "unset"): only text can
    be one, so a BIGINT or NUMERIC column never has any."""
    c = f"t.{q(column)}"
    value = _text(c)
    return (
        f"SELECT {_label(label, 't')} FROM {_rows(table, scope, 't')} "
        f"WHERE CASE WHEN {_is_numeric_type(c)} THEN false "
        f"ELSE {value} <> '' AND {value} !~ {_literal(_NUMBER)} END"
    )


def offending_negatives(
    table: str, column: str, label: str | None, scope: Scope | None = None, *, typed: bool = False
) -> str:
    """Rows whose numeric value is below zero (text is never counted, as on SQLite,
    where a TEXT column stores its numbers as text). ``typed``: the column is declared a
    number type, so it is read as numeric directly (no round trip through text per row;
    still numeric, so a domain or an integer type compares exactly)."""
    c = f"t.{q(column)}"
    below_zero = f"CAST({c} AS numeric) < 0" if typed else (
        f"CASE WHEN {_is_numeric_type(c)} THEN CAST({_text(c)} AS numeric) < 0 ELSE false END"
    )
    return f"SELECT {_label(label, 't')} FROM {_rows(table, scope, 't')} WHERE {below_zero}"


def subtotal_mismatches(parent: str, child: str, scope: Scope | None = None, *, typed: bool = False) -> str:
    """(id, sub_total, sum of item_total, difference) of parents whose ``sub_total``
    differs from their line items by more than ``%s``, worst first.

    Only a numeric ``sub_total`` is compared (as on SQLite); line items add what is a
    number (SQLite's TOTAL reads text as 0, NULL and "" add nothing either way).
    ``typed``: both columns are declared number types, so they are read as numeric
    directly (no round trip through text per row; the sums stay exact numeric whatever the
    columns' own types, which could overflow or round)."""
    if typed:
        sub_total, item_total = f"CAST(p.{q('sub_total')} AS numeric)", f"CAST({q('item_total')} AS numeric)"
    else:
        sub_total = (
            f"CASE WHEN {_is_numeric_type('p.' + q('sub_total'))} "
            f"THEN CAST({_text('p.' + q('sub_total'))} AS numeric) END"
        )
        item_total = _as_number(q("item_total"))
    difference = f"ABS({sub_total} - s.items_total)"
    return (
        f"SELECT p.{q('id')}, {sub_total}, s.items_total, {difference} AS difference "
        f"FROM {_rows(parent, scope, 'p')} "
        f"JOIN (SELECT {q('parent_id')}, COALESCE(SUM({item_total}), 0) AS items_total "
        f"FROM {q(child)} GROUP BY {q('parent_id')}) AS s ON s.{q('parent_id')} = p.{q('id')} "
        f"WHERE {difference} > %s "
        f"ORDER BY difference DESC, CAST(p.{q('id')} AS text) COLLATE \"C\""
    )


def offending_references(source: str, column: str, target: str, scope: Scope | None = None) -> str:
    """Set values of ``source.column`` with no row of that id in ``target`` (named by
    the missing id)."""
    value = _text(f"s.{q(column)}")
    return (
        f"SELECT {value} FROM {_rows(source, scope, 's')} WHERE {value} <> '' "
        f"AND NOT EXISTS (SELECT 1 FROM {q(target)} AS t WHERE t.{q('id')} = {value})"
    )
