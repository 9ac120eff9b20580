"""PostgreSQL's pieces of the verifier's queries (the queries themselves are written once,
in :mod:`.checks`); part of the PostgreSQL dialect, bound by :mod:`.postgres`.

Differences the verifier can rely on:

* Columns are typed (TEXT, BIGINT, NUMERIC), so no statement compares a column with a
  value of another type: values are read through ``CAST(... AS text)`` and a regex guard
  before any cast to ``numeric``, inside ``CASE`` (whose branches PostgreSQL evaluates in
  order), so bad text never raises an error in the middle of a check.
* No statement holds a literal percent sign: psycopg always gets parameters, so ``mod()``
  and regex operators stand in for ``%`` and ``LIKE``.
* Rows without a label are named ``row (<page>,<slot>)`` from the ``ctid`` (PostgreSQL
  has no rowid); examples come in byte order, as SQLite sorts text.
* ``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check`` have no PostgreSQL
  counterpart the verifier needs: the server checks its own storage and enforces
  foreign keys on every write (:data:`INTEGRITY_CHECK_APPLIES`,
  :data:`FOREIGN_KEY_CHECK_APPLIES`).

Stdlib only.
"""

from __future__ import annotations

from .shared import q

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


def _not_applicable(what: str, reason: str) -> NotImplementedError:
    return NotImplementedError(f"{what} is SQLite's; not applicable on PostgreSQL: {reason}")


def integrity_check_table(table: str) -> str:
    raise _not_applicable("PRAGMA integrity_check", INTEGRITY_CHECK_NOT_APPLICABLE)


def foreign_key_check_table(table: str) -> str:
    raise _not_applicable("PRAGMA foreign_key_check", FOREIGN_KEY_CHECK_NOT_APPLICABLE)


def foreign_key_list(table: str) -> str:
    raise _not_applicable("PRAGMA foreign_key_list", FOREIGN_KEY_CHECK_NOT_APPLICABLE)


class PostgresCheckFragments:
    """The :class:`.checks.CheckFragments` of PostgreSQL."""

    placeholder = "%s"
    row_id = "ctid"
    temp_schema = "pg_temp"

    def text(self, expr: str) -> str:
        return _text(expr)

    def row_label(self, alias: str) -> str:
        return f"'row ' || CAST({alias}.ctid AS text)"

    def sort_text(self, expr: str) -> str:
        return f"CAST({expr} AS text) COLLATE \"C\""

    def order_by_label(self, label_expr: str) -> str:
        """Rows in label order (byte order, as SQLite sorts text), so the first examples of
        the checks that read every offending row do not depend on where rows sit on disk."""
        return f" ORDER BY {self.sort_text(label_expr)}"

    def first_distinct(self, query: str) -> str:
        """The first ``%s`` distinct values of a one-column query, in byte order."""
        return (
            f"SELECT label FROM (SELECT DISTINCT * FROM ({query}) AS found (label)) AS distinct_found "
            f"ORDER BY {self.sort_text('label')} LIMIT %s"
        )

    def is_date(self, value: str) -> str:
        return f"CASE WHEN {_surely_valid_date(value)} THEN true ELSE {_is_valid_iso_date(value)} END"

    def is_timestamp(self, value: str) -> str:
        day = f"left({value}, 10)"
        return f"CASE WHEN {value} ~ {_literal(_ZOHO_TIMESTAMP_SHAPE)} THEN {_is_valid_iso_date(day)} ELSE false END"

    def not_a_number(self, column: str) -> str:
        """Only text can be one, so a BIGINT or NUMERIC column never has any."""
        value = _text(column)
        return f"CASE WHEN {_is_numeric_type(column)} THEN false ELSE {value} <> '' AND {value} !~ {_literal(_NUMBER)} END"

    def below_zero(self, column: str, typed: bool) -> str:
        """``typed``: read as numeric directly (no round trip through text per row; still
        numeric, so a domain or an integer type compares exactly)."""
        if typed:
            return f"CAST({column} AS numeric) < 0"
        return f"CASE WHEN {_is_numeric_type(column)} THEN CAST({_text(column)} AS numeric) < 0 ELSE false END"

    def subtotal_terms(self, typed: bool) -> tuple[str, str, str]:
        """SQLite's TOTAL reads text as 0; NULL and "" add nothing either way. ``typed``:
        both columns are read as numeric directly (the sums stay exact numeric whatever
        the columns' own types, which could overflow or round)."""
        if typed:
            sub_total, item_total = f"CAST(p.{q('sub_total')} AS numeric)", f"CAST({q('item_total')} AS numeric)"
        else:
            sub_total = (
                f"CASE WHEN {_is_numeric_type('p.' + q('sub_total'))} "
                f"THEN CAST({_text('p.' + q('sub_total'))} AS numeric) END"
            )
            item_total = _as_number(q("item_total"))
        return sub_total, f"COALESCE(SUM({item_total}), 0)", ""
