"""The dialect: quoting, DDL text, and the upsert's newest-wins guard."""

from __future__ import annotations

import sqlite3

import pytest

from json2db_sync import sql_dialect as sd


@pytest.mark.parametrize(
    ("name", "quoted"),
    [("plain", '"plain"'), ('we"ird', '"we""ird"'), ("drop table x; --", '"drop table x; --"'), ("", '""')],
)
def test_quote_identifier(name: str, quoted: str) -> None:
    assert sd.quote_identifier(name) == quoted


def test_quote_identifier_rejects_nul() -> None:
    with pytest.raises(ValueError):
        sd.quote_identifier("a\x00b")


def test_create_main_table_text() -> None:
    assert sd.create_main_table("json_invoices", [("total", "REAL")]) == (
        'CREATE TABLE "json_invoices" (\n'
        '  "id" TEXT PRIMARY KEY NOT NULL,\n'
        '  "data_source" TEXT NOT NULL DEFAULT \'json\',\n'
        '  "created_at" TEXT,\n'
        '  "updated_at" TEXT,\n'
        '  "total" REAL\n'
        ")"
    )


def test_hostile_names_round_trip() -> None:
    conn = sqlite3.connect(":memory:")
    table = 'json_x"; DROP TABLE t; --'
    column = "a'b\"c;d e"
    conn.execute("CREATE TABLE t (x)")
    conn.execute(sd.create_main_table(table, [(column, "TEXT")]))
    conn.execute(sd.upsert_main(table, ("id", column), True), ("1", "v"))
    assert conn.execute(f"SELECT {sd.q(column)} FROM {sd.q(table)}").fetchall() == [("v",)]
    assert {r[0] for r in conn.execute(sd.LIST_TABLES)} == {"t", table}


def test_upsert_newest_wins_and_partial_update() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute(sd.create_main_table("json_t", [("a", "TEXT"), ("b", "TEXT")]))
    full = ("id", "data_source", "created_at", "updated_at", "a", "b")
    conn.execute(sd.upsert_main("json_t", full, True), ("1", "json", "c1", "2026-01-02 00:00:00", "A", "B"))
    # older: ignored
    conn.execute(sd.upsert_main("json_t", full, True), ("1", "json", "c0", "2026-01-01 00:00:00", "old", "old"))
    # same time, fewer columns: updates only what it carries; created_at keeps the first
    partial = ("id", "data_source", "created_at", "updated_at", "a")
    conn.execute(sd.upsert_main("json_t", partial, True), ("1", "json", "c9", "2026-01-02 00:00:00", "A2"))
    assert conn.execute("SELECT created_at, updated_at, a, b FROM json_t").fetchall() == [
        ("c1", "2026-01-02 00:00:00", "A2", "B")
    ]


@pytest.mark.parametrize(
    ("declaration", "expected"),
    [
        ("TEXT", ("TEXT", None)),
        ("TIMESTAMP DEFAULT CURRENT_TIMESTAMP", ("TIMESTAMP", "CURRENT_TIMESTAMP")),
        ("text default 'json'", ("TEXT", "'json'")),
        ("INTEGER DEFAULT -1", ("INTEGER", "-1")),
    ],
)
def test_custom_declarations(declaration: str, expected: tuple[str, str | None]) -> None:
    assert sd.parse_custom_declaration(declaration) == expected


@pytest.mark.parametrize("declaration", ["TEXT; DROP TABLE x", "TEXT DEFAULT (select 1)", ""])
def test_custom_declarations_reject_sql(declaration: str) -> None:
    with pytest.raises(ValueError):
        sd.parse_custom_declaration(declaration)


def test_add_column_drops_non_constant_default() -> None:
    assert sd.custom_declaration_for_add("TIMESTAMP DEFAULT CURRENT_TIMESTAMP") == "TIMESTAMP"
    assert sd.custom_declaration_for_add("TEXT DEFAULT 'json'") == "TEXT DEFAULT 'json'"
