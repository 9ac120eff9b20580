"""What every check reads and how it reports: the :class:`VerifyContext` (connection,
catalogue, tables in scope, the run's row scopes), :class:`Findings` that collect problems
over tables, and the ``{"name", "status", "details", "count", "examples"}`` result dict.
Shared by the database checks (:mod:`verifier`) and the source-file checks
(:mod:`source_checks`); imports stdlib, ``sql_dialect`` and ``catalog``. The advice a
failing check carries is the verifier's to add (``verifier.CHECK_ADVICE``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import sql_dialect as sd
from ._types import Check, CheckStatus
from .catalog import Catalog, TableInfo
from .destinations import dialect_of

EXAMPLE_LIMIT = 5


@dataclass(frozen=True, slots=True)
class VerifyContext:
    """Everything a check needs: the connection, the catalog, the tables in scope."""

    conn: Any
    catalog: Catalog
    selected: tuple[TableInfo, ...]
    max_age_hours: float
    now: datetime | None
    check_source_counts: bool
    source_files: frozenset[str] | None = None
    scoped: bool = False
    source_ids: Mapping[str, Collection[str]] | None = None
    # Main table → temp table of the ids a run wrote (see verifier._build_scopes).
    row_scopes: dict[str, str] = field(default_factory=dict)
    # What a sync found comparing api_sync's line-item files with the embedded items
    # (None outside a sync: the comparison needs the parsed files).
    line_item_mismatches: Sequence[str] | None = None
    line_item_files_compared: int = 0

    @property
    def dialect(self) -> Any:
        return dialect_of(self.conn)

    def scope_of(self, table: TableInfo) -> sd.Scope | None:
        """Limit a row-level check to the rows a run wrote: by id in a main table, by
        parent_id in its child tables. None checks every row."""
        if table.is_child:
            ids = self.row_scopes.get(table.parent or "")
            return (ids, "parent_id") if ids and table.has("parent_id") else None
        ids = self.row_scopes.get(table.name)
        return (ids, "id") if ids and table.has("id") else None

    def selected_main(self) -> list[TableInfo]:
        return [t for t in self.selected if not t.is_child]

    def selected_children(self) -> list[TableInfo]:
        return [t for t in self.selected if t.is_child]


@dataclass(slots=True)
class Findings:
    """Accumulates problems over tables: total count, first examples, per-table notes."""

    count: int = 0
    examples: list[str] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    def add(self, count: int, examples: Iterable[object], note: str) -> None:
        if count <= 0:
            return
        self.count += count
        self.parts.append(note)
        for example in examples:
            text = str(example)
            if example is not None and text not in self.examples and len(self.examples) < EXAMPLE_LIMIT:
                self.examples.append(text)

    def check(self, name: str, problem: CheckStatus, ok_details: str, intro: str = "") -> Check:
        if not self.count:
            return make_check(name, "ok", ok_details)
        details = "; ".join(self.parts)
        return make_check(name, problem, intro + details, self.count, self.examples)




def make_check(
    name: str, status: CheckStatus, details: str, count: int = 0, examples: Iterable[str] = ()
) -> Check:
    """One check's result, with at most :data:`EXAMPLE_LIMIT` examples."""
    return {
        "name": name,
        "status": status,
        "details": details,
        "count": count,
        "examples": list(examples)[:EXAMPLE_LIMIT],
    }


def count_and_examples(
    conn: Any, query: str, params: Sequence[object] = ()
) -> tuple[int, list[object]]:
    """How many rows an offending-rows query returns, and its first distinct labels."""
    dialect = dialect_of(conn)
    count = conn.execute(dialect.checks.count_of(query), tuple(params)).fetchone()[0]
    if not count:
        return 0, []
    return int(count), examples_of(conn, query, params)


def examples_of(conn: Any, query: str, params: Sequence[object] = ()) -> list[object]:
    """The first distinct labels an offending-rows query returns (its count known already)."""
    rows = conn.execute(dialect_of(conn).checks.first_distinct(query), (*params, EXAMPLE_LIMIT)).fetchall()
    return [row[0] for row in rows if row[0] is not None]


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
