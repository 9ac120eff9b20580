"""The verifier's read-only queries, written once for both databases; stdlib only.

Each ``offending_*`` method returns a SELECT of one row per problem, its first column
naming the row (the ``label`` column, else the row's physical address: SQLite's
``rowid``, PostgreSQL's ``ctid``); wrap it with ``count_of`` or ``first_distinct`` for the
count and the examples. What the two databases spell differently (reading a value as
text, what counts as a number or a valid date, the order of examples) comes from the
dialect's :class:`CheckFragments`; each dialect module exposes the bound methods of one
:class:`Checks` under the names the verifier calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from .shared import Scope, q


class CheckFragments(Protocol):
    """The pieces of the checks a dialect spells its own way."""

    placeholder: str  # a bound parameter: ``?`` or ``%s``
    row_id: str  # the physical row address: rowid or ctid
    temp_schema: str  # where temporary tables live: temp or pg_temp

    def text(self, expr: str) -> str:
        """``expr`` read as text (typed databases cast; SQLite compares as stored)."""
        ...

    def row_label(self, alias: str) -> str:
        """The name of a row that has no label column."""
        ...

    def sort_text(self, expr: str) -> str:
        """``expr`` as an ORDER BY key in byte order (as SQLite sorts text)."""
        ...

    def order_by_label(self, label_expr: str) -> str:
        """`` ORDER BY ...`` for the checks that read every offending row, or "" where the
        order of the examples is settled by ``first_distinct`` alone."""
        ...

    def first_distinct(self, query: str) -> str: ...

    def is_date(self, value: str) -> str:
        """True when ``value`` is a valid ``YYYY-MM-DD`` date text."""
        ...

    def is_timestamp(self, value: str) -> str:
        """True when ``value`` is a valid Zoho timestamp of the usual shape."""
        ...

    def not_a_number(self, column: str) -> str:
        """True when the value is neither a number, NULL nor "" (Zoho's "unset")."""
        ...

    def below_zero(self, column: str, typed: bool) -> str:
        """True when the numeric value is below zero (text never counts)."""
        ...

    def subtotal_terms(self, typed: bool) -> tuple[str, str, str]:
        """(the parent's sub_total, the sum of the items' item_total, a guard on the
        sub_total ending in ``AND`` or "")."""
        ...


class Checks:
    """The check queries of one dialect (``typed``: the columns are declared number
    types on a database that enforces them, so values are read as numbers directly)."""

    def __init__(self, fragments: CheckFragments) -> None:
        self.f = fragments

    # --- scopes ---------------------------------------------------------------------

    def create_scope_table(self, name: str) -> str:
        return f"CREATE TEMPORARY TABLE IF NOT EXISTS {q(name)} ({q('id')} TEXT PRIMARY KEY)"

    def insert_scope_id(self, name: str) -> str:
        return (
            f"INSERT INTO {self.f.temp_schema}.{q(name)} ({q('id')}) VALUES ({self.f.placeholder}) "
            "ON CONFLICT DO NOTHING"
        )

    def _rows(self, table: str, scope: Scope | None, alias: str) -> str:
        """``FROM`` target for a table under ``alias``, or only its rows inside ``scope``
        (the row address kept, so labels that fall back to it still work)."""
        if scope is None:
            return f"{q(table)} AS {alias}"
        ids, key = scope
        row_id = self.f.row_id
        return (
            f"(SELECT {row_id} AS {row_id}, * FROM {q(table)} "
            f"WHERE {q(key)} IN (SELECT {q('id')} FROM {self.f.temp_schema}.{q(ids)})) AS {alias}"
        )

    def _label(self, label: str | None, alias: str) -> str:
        return f"{alias}.{q(label)}" if label else self.f.row_label(alias)

    def _blank(self, expr: str) -> str:
        return f"({expr} IS NULL OR {self.f.text(expr)} = '')"

    # --- wrappers -----------------------------------------------------------------------

    def count_of(self, query: str) -> str:
        """Number of rows a query returns."""
        return f"SELECT COUNT(*) FROM ({query}) AS counted"

    def first_distinct(self, query: str) -> str:
        """The first ``limit`` (bound) distinct values of a one-column query, in order."""
        return self.f.first_distinct(query)

    # --- offending rows ---------------------------------------------------------------

    def offending_null_ids(self, table: str, scope: Scope | None = None) -> str:
        """Rows without an id ("" counts as none); named by address since they have no id."""
        return f"SELECT {self._label(None, 't')} FROM {self._rows(table, scope, 't')} WHERE {self._blank('t.' + q('id'))}"

    def offending_duplicate_ids(self, table: str, per_parent: bool, scope: Scope | None = None) -> str:
        """Ids held by more than one row (in child tables: more than once per parent)."""
        group = ", ".join(f"t.{q(c)}" for c in (["parent_id", "id"] if per_parent else ["id"]))
        ident = f"t.{q('id')}"
        return (
            f"SELECT {ident} FROM {self._rows(table, scope, 't')} "
            f"WHERE {ident} IS NOT NULL AND {self.f.text(ident)} <> '' "
            f"GROUP BY {group} HAVING COUNT(*) > 1"
        )

    def offending_orphans(self, child: str, parent: str, scope: Scope | None = None) -> str:
        """Child rows whose parent row is missing (named by their parent_id)."""
        return (
            f"SELECT c.{q('parent_id')} FROM {self._rows(child, scope, 'c')} WHERE NOT EXISTS "
            f"(SELECT 1 FROM {q(parent)} AS p WHERE p.{q('id')} = c.{q('parent_id')})"
        )

    def offending_blanks(self, table: str, column: str | None, label: str | None, scope: Scope | None = None) -> str:
        """Rows where a required column is NULL or ""; every row when the column is absent."""
        where = f" WHERE {self._blank('t.' + q(column))}" if column else ""
        return f"SELECT {self._label(label, 't')} FROM {self._rows(table, scope, 't')}{where}"

    def _bad_values(
        self, table: str, column: str, label: str | None, scope: Scope | None, valid: Callable[[str], str]
    ) -> str:
        value = self.f.text(f"t.{q(column)}")
        return (
            f"SELECT {self._label(label, 't')}, {value} FROM {self._rows(table, scope, 't')} "
            f"WHERE {self._unusual(value, valid)}{self.f.order_by_label(self._label(label, 't'))}"
        )

    def _unusual(self, value: str, valid: Callable[[str], str]) -> str:
        """True when ``value`` is set (not NULL, not "") and ``valid`` says it is not."""
        return f"({value} IS NOT NULL AND {value} <> '' AND NOT ({valid(value)}))"

    def nonstandard_dates(self, table: str, column: str, label: str | None, scope: Scope | None = None) -> str:
        """(label, value) of set values that are not a valid ``YYYY-MM-DD`` date text."""
        return self._bad_values(table, column, label, scope, self.f.is_date)

    def nonstandard_dates_and_times(
        self, table: str, columns: Sequence[tuple[str, bool]], label: str | None, scope: Scope | None = None
    ) -> str:
        """The date and timestamp checks of a table's columns (``(name, is_date)``) in one
        scan: the label, then per column its value and 1 where the value is set and not of
        the usual shape (a valid ``YYYY-MM-DD`` date, or a Zoho timestamp shaped
        ``YYYY-MM-DDTHH:MM:SS±HHMM``: Python judges the other shapes it accepts), for the
        rows where any column is. One pass over a table instead of one per column."""
        terms: list[str] = []
        conditions: list[str] = []
        for column, is_date in columns:
            value = self.f.text(f"t.{q(column)}")
            bad = self._unusual(value, self.f.is_date if is_date else self.f.is_timestamp)
            terms.append(f"{value}, CASE WHEN {bad} THEN 1 ELSE 0 END")
            conditions.append(bad)
        return (
            f"SELECT {self._label(label, 't')}, {', '.join(terms)} FROM {self._rows(table, scope, 't')} "
            f"WHERE {' OR '.join(conditions)}{self.f.order_by_label(self._label(label, 't'))}"
        )

    def offending_non_numbers(self, table: str, column: str, label: str | None, scope: Scope | None = None) -> str:
        """Rows whose value is neither a number, NULL nor "" (Zoho's "unset")."""
        return (
            f"SELECT {self._label(label, 't')} FROM {self._rows(table, scope, 't')} "
            f"WHERE {self.f.not_a_number('t.' + q(column))}"
        )

    def offending_negatives(
        self, table: str, column: str, label: str | None, scope: Scope | None = None, *, typed: bool = False
    ) -> str:
        """Rows whose numeric value is below zero (text is never counted, as a TEXT column
        on SQLite stores its numbers as text)."""
        return (
            f"SELECT {self._label(label, 't')} FROM {self._rows(table, scope, 't')} "
            f"WHERE {self.f.below_zero('t.' + q(column), typed)}"
        )

    def numeric_offence_counts(
        self, table: str, tests: Sequence[tuple[str, bool, bool]], scope: Scope | None = None
    ) -> str:
        """One scan counting, per test ``(column, negative, typed)``, the rows that
        :meth:`offending_negatives` (``negative``) or :meth:`offending_non_numbers` would
        return: one pass over a table for all its number columns."""
        sums = []
        for column, negative, typed in tests:
            value = "t." + q(column)
            condition = self.f.below_zero(value, typed) if negative else self.f.not_a_number(value)
            sums.append(f"COALESCE(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), 0)")
        return f"SELECT {', '.join(sums)} FROM {self._rows(table, scope, 't')}"

    def subtotal_mismatches(self, parent: str, child: str, scope: Scope | None = None, *, typed: bool = False) -> str:
        """(id, sub_total, sum of item_total, difference) of parents whose ``sub_total``
        differs from their line items by more than a bound tolerance, worst first. Only
        a numeric ``sub_total`` is compared; line items add what is a number."""
        sub_total, items_total, guard = self.f.subtotal_terms(typed)
        difference = f"ABS({sub_total} - s.items_total)"
        return (
            f"SELECT p.{q('id')}, {sub_total}, s.items_total, {difference} AS difference "
            f"FROM {self._rows(parent, scope, 'p')} "
            f"JOIN (SELECT {q('parent_id')}, {items_total} AS items_total "
            f"FROM {q(child)}{self._children_in(scope)} GROUP BY {q('parent_id')}) AS s "
            f"ON s.{q('parent_id')} = p.{q('id')} "
            f"WHERE {guard}{difference} > {self.f.placeholder} "
            f"ORDER BY difference DESC, {self.f.sort_text('p.' + q('id'))}"
        )

    def _children_in(self, scope: Scope | None) -> str:
        """`` WHERE`` limiting a child table to the children of the parents in ``scope``, so
        that a run's check adds up only its own documents' line items, not every document's."""
        if scope is None:
            return ""
        ids, _ = scope
        return f" WHERE {q('parent_id')} IN (SELECT {q('id')} FROM {self.f.temp_schema}.{q(ids)})"

    def foreign_key_violations(self, table: str, column: str, parent: str, parent_column: str, scope: Scope | None) -> str:
        """Row addresses of ``table`` rows (inside ``scope``) whose ``column`` is set and
        names no ``parent.parent_column``: one declared single-column foreign key checked
        the way SQLite's foreign_key_check does, on the rows a run wrote only."""
        return (
            f"SELECT c.{self.f.row_id} FROM {self._rows(table, scope, 'c')} WHERE c.{q(column)} IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {q(parent)} AS p WHERE p.{q(parent_column)} = c.{q(column)}) "
            f"ORDER BY c.{self.f.row_id}"
        )

    def offending_references(self, source: str, column: str, target: str, scope: Scope | None = None) -> str:
        """Set values of ``source.column`` with no row of that id in ``target`` (named by
        the missing id)."""
        value = self.f.text(f"s.{q(column)}")
        return (
            f"SELECT {value} FROM {self._rows(source, scope, 's')} WHERE {value} IS NOT NULL AND {value} <> '' "
            f"AND NOT EXISTS (SELECT 1 FROM {q(target)} AS t WHERE t.{q('id')} = {value})"
        )
