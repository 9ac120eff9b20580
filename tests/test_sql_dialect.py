"""The dialect: quoting, DDL text, and the upsert's newest-wins guard."""

from __future__ import annotations

import sqlite3

import pytest

from json2db_sync import sql_dialect
from json2db_sync.sql_dialect import sqlite as sd  # plain sqlite3 here


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
    assert sql_dialect.parse_custom_declaration(declaration) == expected


@pytest.mark.parametrize("declaration", ["TEXT; DROP TABLE x", "TEXT DEFAULT (select 1)", ""])
def test_custom_declarations_reject_sql(declaration: str) -> None:
    with pytest.raises(ValueError):
        sql_dialect.parse_custom_declaration(declaration)


def test_add_column_drops_non_constant_default() -> None:
    assert sd.custom_declaration_for_add("TIMESTAMP DEFAULT CURRENT_TIMESTAMP") == "TIMESTAMP"
    assert sd.custom_declaration_for_add("TEXT DEFAULT 'json'") == "TEXT DEFAULT 'json'"


# --- the PostgreSQL dialect (text only here; tests/test_engine_matrix.py runs it) -------

from json2db_sync.sql_dialect import postgres as pg  # noqa: E402
from json2db_sync.sql_dialect import sqlite as sqlite_dialect  # noqa: E402


def test_both_dialects_offer_the_same_names() -> None:
    wanted = [n for n in dir(sqlite_dialect) if not n.startswith("_") and n.isupper() or callable(getattr(sqlite_dialect, n))]
    sqlite_only = {
        "PRAGMAS_ON_OPEN", "PRAGMA_WAL", "PRAGMA_JOURNAL_DELETE", "PRAGMA_SYNCHRONOUS_NORMAL",
        "PRAGMA_INTEGRITY_CHECK", "PRAGMA_FOREIGN_KEY_CHECK",  # the verifier says "not applicable"
        "table_info", "lru_cache", "Iterable", "Sequence", "re", "hashlib", "annotations",
        "CANNED_QUERIES", "SELECT_COLUMN_DESCRIPTIONS",  # Datasette (browse) reads SQLite only
        # SQLite has no ALTER COLUMN ... TYPE: its INTEGER-to-REAL widening (PostgreSQL: retype_column)
        "widen_to_real", "SELECT_OBJECTS_USING_COLUMN", "objects_using_column_params",
    }
    missing = [n for n in wanted if n not in sqlite_only and not n.startswith("_") and not hasattr(pg, n)]
    assert missing == []


def test_postgres_types_and_time_columns() -> None:
    ddl = pg.create_main_table("json_invoices", [("total", "REAL"), ("qty", "INTEGER"), ("memo", "TEXT"), ("blank", "")])
    assert '"created_at" TIMESTAMPTZ' in ddl and '"updated_at" TIMESTAMPTZ' in ddl
    assert '"total" NUMERIC' in ddl and '"qty" BIGINT' in ddl and '"memo" TEXT' in ddl and '"blank" TEXT' in ddl
    assert pg.logical_type("numeric") == "REAL" and pg.logical_type("bigint") == "INTEGER"


def test_postgres_custom_declarations_use_postgres_type_names() -> None:
    assert pg.add_column("t", "seen", "DATETIME DEFAULT CURRENT_TIMESTAMP").endswith(
        '"seen" TIMESTAMP DEFAULT CURRENT_TIMESTAMP'
    )


def test_postgres_upsert_is_newest_wins_and_merges_overflow() -> None:
    sql = pg.upsert_from_stage("json_x", "stage", ("id", "updated_at", "created_at", sql_dialect.OVERFLOW_COLUMN), True)
    assert 'ON CONFLICT ("id") DO UPDATE' in sql
    assert 'WHERE "json_x"."updated_at" IS NULL OR EXCLUDED."updated_at" >= "json_x"."updated_at"' in sql
    assert "jsonb_each" in sql and 'COALESCE("json_x"."created_at", EXCLUDED."created_at")' in sql


def test_no_postgres_statement_holds_a_literal_percent() -> None:
    """psycopg reads % as a placeholder whenever parameters are passed."""
    texts = [v for n, v in vars(pg).items() if isinstance(v, str) and not n.startswith("_")]
    texts += [*pg.internal.tables_ddl, *pg.internal.indexes_ddl]
    texts += [
        pg.upsert_main("t", ("id", "a"), True), pg.create_stage("s", "t", ("a",)), pg.LIST_DATA_TABLES,
        pg.retype_column("t", "c", "TEXT", "INTEGER"), pg.select_updated_at("t", 2), pg.max_value("t", "updated_at"),
    ]
    for text in texts:
        assert "%" not in text.replace("%s", ""), text


def test_long_identifiers_are_fitted_distinctly() -> None:
    a, b = "x" * 70 + "_one", "x" * 70 + "_two"
    fitted = {sql_dialect.fit_identifier(a, 63), sql_dialect.fit_identifier(b, 63)}
    assert len(fitted) == 2 and all(len(n.encode()) <= 63 for n in fitted)
    assert sql_dialect.fit_identifier("short", 63) == "short" and sql_dialect.fit_identifier(a, None) == a
    assert len(pg.index_name("json_" + "y" * 80, ["customer_id"]).encode()) <= 63


# --- the internal tables: one specification, two spellings -------------------------------

from json2db_sync.sql_dialect import internal_tables  # noqa: E402


def _tables_and_columns(ddl: tuple[str, ...]) -> dict[str, list[str]]:
    """Table name -> column names (in order) of CREATE TABLE statements, read back from a
    real SQLite database (the PostgreSQL text differs only in type words, which SQLite
    accepts too)."""
    conn = sqlite3.connect(":memory:")
    for statement in ddl:
        conn.execute(statement.replace(" GENERATED BY DEFAULT AS IDENTITY", ""))
    names = [row[0] for row in conn.execute(sd.LIST_TABLES)]
    return {name: [row[1] for row in conn.execute(sd.table_info(name))] for name in names}


def test_both_dialects_build_the_internal_tables_from_the_one_specification() -> None:
    expected = {table.name: list(table.column_names) for table in internal_tables.TABLES}
    assert _tables_and_columns(sd.internal.tables_ddl) == expected
    assert _tables_and_columns(pg.internal.tables_ddl) == expected
    assert sd.internal.indexes_ddl == pg.internal.indexes_ddl == internal_tables.ledger_indexes_ddl()


def test_the_internal_tables_differ_only_in_type_words() -> None:
    words = {"BIGINT": "INTEGER", "DOUBLE PRECISION": "REAL", " GENERATED BY DEFAULT AS IDENTITY": ""}
    for sqlite_ddl, postgres_ddl in zip(sd.internal.tables_ddl, pg.internal.tables_ddl, strict=True):
        for word, sqlite_word in words.items():
            postgres_ddl = postgres_ddl.replace(word, sqlite_word)
        assert postgres_ddl == sqlite_ddl


def test_internal_statements_differ_only_in_placeholders_and_replace_style() -> None:
    """The ledger's statements are written once: SQLite's ``?`` is PostgreSQL's ``%s``."""
    for name in ("upsert_ledger", "upsert_settled_folder", "insert_run", "insert_rejected", "select_state",
                 "delete_state", "update_ledger_stat", "select_ledger_horizon_under", "select_quarantined_file"):
        assert getattr(pg.internal, name) == getattr(sd.internal, name).replace("?", "%s"), name
    for name in ("select_column_map", "select_table_registry", "select_ledger_summary", "select_ledger_horizon"):
        assert getattr(pg.internal, name) == getattr(sd.internal, name), name
    assert sd.internal.set_state.startswith("INSERT OR REPLACE") and "ON CONFLICT (key)" in pg.internal.set_state


def test_the_verifier_queries_come_from_one_builder() -> None:
    """Both dialects' check queries are one :class:`checks.Checks`, fed each dialect's fragments."""
    from json2db_sync.sql_dialect.checks import Checks

    assert type(sd.checks) is type(pg.checks) is Checks
    assert "typeof(" in sd.checks.offending_non_numbers("t", "n", None)
    assert "pg_typeof(" in pg.checks.offending_non_numbers("t", "n", None)
