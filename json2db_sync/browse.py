"""Browse stage: Datasette metadata generated from the tool's own tables; stdlib only.

``json2db-sync browse`` serves the SQLite database with Datasette (the optional
``[browse]`` extra) on 127.0.0.1. Datasette can show any SQLite file; what this module
adds is what only the tool knows: each ``json_*`` table's entity and parent (titles),
which JSON field each column came from and what kinds of values it held (the column map
``_json2db_columns``), which columns refer to which tables (the registry
``_json2db_tables`` and Zoho's ``*_id`` naming), the finance views with their column
meanings, and canned queries a finance user would otherwise have to write.

Foreign keys: child tables declare theirs in SQLite, so Datasette links ``parent_id`` to
the parent row itself; the parent's ``label_column`` (an invoice's number, a contact's
name) is set here so those links read as names. References by id across entities
(``customer_id`` to ``json_contacts``) are not declared in the database and are named
in the column descriptions.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import sql_dialect as sd
from .catalog import Catalog, TableInfo, read_catalog
from .errors import ConfigError
from .report_views import VIEWS, existing_views
from .sql_dialect import sqlite as sqlite_sql  # Datasette reads SQLite only

INSTALL_HINT = "pip install 'json2db_sync[browse]'"
DEFAULT_PORT = 8001
HOST = "127.0.0.1"  # never another interface: the data is a company's books

STANDARD_COLUMNS = {
    "id": "the record's own id (its Zoho id as text; a line without one: <parent id>#<position>)",
    "data_source": "where the row came from ('json': a JSON export)",
    "created_at": "when the record was created in Zoho (UTC)",
    "updated_at": "when the record last changed in Zoho (UTC); the newest version wins",
    "parent_id": "the id of the record this row belongs to (link to the parent table)",
    "position": "the row's place in the parent's array (0 first)",
    "session_id": "the api_sync session the row was loaded from",
    "source_file": "the file the row was loaded from",
}

# Columns that name a row best, per entity (the first the table has wins).
LABEL_COLUMNS = (
    "invoice_number", "bill_number", "creditnote_number", "salesorder_number", "purchaseorder_number",
    "estimate_number", "payment_number", "contact_name", "name", "item_name", "account_name",
)

# Zoho's *_id columns and the entity they point at.
REFERENCES = {
    "customer_id": "contacts", "vendor_id": "contacts", "contact_id": "contacts", "item_id": "items",
    "invoice_id": "invoices", "bill_id": "bills", "salesorder_id": "salesorders",
    "purchaseorder_id": "purchaseorders", "account_id": "chartofaccounts",
}

INTERNAL_DESCRIPTIONS = {
    sd.FILES_TABLE: "The file ledger: every JSON file loaded, its checksum, session, data time and records.",
    sd.RUNS_TABLE: "Every run of the tool: operation, times, status, statistics (JSON) and error.",
    sd.REJECTED_TABLE: "Records set aside because they had no usable id, with the reason and the raw JSON.",
    sd.COLUMNS_TABLE: "Which JSON field went into which column, with its type and the kinds of values seen.",
    sd.TABLES_TABLE: "Which entity each json_* table holds, its parent table and the array field it came from.",
    sd.STATE_TABLE: "The tool's own flags (a recreation waiting for its reload).",
}


def require_datasette() -> None:
    """Fail before any work when Datasette is not installed, naming the extra."""
    if importlib.util.find_spec("datasette") is None:
        raise ConfigError(f"browse serves the database with Datasette, which is not installed; run {INSTALL_HINT}")


def database_name(db_path: Path) -> str:
    """The name Datasette gives a database file: its stem."""
    return db_path.stem


def build_metadata(conn: Any, db_path: Path) -> dict[str, Any]:
    """Datasette's metadata (``--metadata``) for one SQLite database, from its own tables."""
    catalog = read_catalog(conn)
    columns_map = _column_map(conn, catalog)
    tables: dict[str, Any] = {}
    for table in catalog.tables.values():
        tables[table.name] = _table_metadata(catalog, table, columns_map.get(table.name, {}))
    for name, description in INTERNAL_DESCRIPTIONS.items():
        if name in catalog.internal:
            tables[name] = {"title": name, "description": description}
    present = existing_views(conn)
    for spec in VIEWS:
        if spec.name in present:
            tables[spec.name] = {
                "title": spec.title,
                "description": f"{spec.description} (Report view made by json2db_sync.)",
                "columns": dict(spec.columns),
            }
    return {
        "title": f"json2db_sync: {db_path.name}",
        "description": (
            "Zoho Books data loaded by json2db_sync. json_* tables hold the records (one per entity, "
            "arrays in child tables); json2db_* views answer the first finance questions; _json2db_* "
            "tables are the tool's own bookkeeping. Read-only."
        ),
        "databases": {
            database_name(db_path): {
                "tables": tables,
                "queries": _canned_queries(catalog, present),
            }
        },
    }


def _column_map(conn: Any, catalog: Catalog) -> dict[str, dict[str, str]]:
    """table -> column -> description, from ``_json2db_columns``."""
    if sd.COLUMNS_TABLE not in catalog.internal:
        return {}
    result: dict[str, dict[str, str]] = {}
    for table, path, column, sql_type, kinds, is_array in conn.execute(sqlite_sql.SELECT_COLUMN_DESCRIPTIONS):
        try:
            keys = json.loads(path)
        except (TypeError, ValueError):
            keys = [str(path)]
        text = f"JSON field {'.'.join(str(k) for k in keys)}"
        if kinds:
            text += f"; values seen: {kinds}"
        if is_array:
            text += "; an array of plain values, kept as JSON text"
        if not sql_type:
            text += "; so far only empty values"
        result.setdefault(str(table), {})[str(column)] = text
    return result


def _table_metadata(catalog: Catalog, table: TableInfo, described: Mapping[str, str]) -> dict[str, Any]:
    columns: dict[str, str] = {}
    for column in table.columns:
        text = described.get(column) or STANDARD_COLUMNS.get(column, "")
        if column == "parent_id" and table.parent:
            text = f"the id of the {table.parent} row this line belongs to (foreign key to {table.parent}.id)"
        target = REFERENCES.get(column)
        if target and column != table.id_field:
            target_table = catalog.main_for_entity(target)
            if target_table is not None and target_table.name != table.name:
                text = f"{text}; refers to {target_table.name}.id".lstrip("; ")
        if text:
            columns[column] = text
    if table.is_child:
        title = f"{table.entity}: {table.field or table.name} (lines of {table.parent})"
        description = (
            f"The '{table.field}' array of each {table.entity} record, one row per element; "
            f"parent_id links to {table.parent}."
        )
    else:
        title = table.entity
        children = [c.name for c in catalog.children_of(table.name)]
        description = f"Zoho Books {table.entity}, one row per record (id: {table.id_field})."
        if children:
            description += f" Arrays are in {', '.join(children)}."
    meta: dict[str, Any] = {"title": title, "description": description, "columns": columns}
    label = next((c for c in LABEL_COLUMNS if table.has(c)), None)
    if label and not table.is_child:
        meta["label_column"] = label
    if table.has("updated_at") and not table.is_child:
        meta["sort_desc"] = "updated_at"
    facets = [c for c in ("status", "currency_code", "contact_type") if table.has(c)]
    if facets and not table.is_child:
        meta["facets"] = facets
    return meta


def _canned_queries(catalog: Catalog, views: set[str]) -> dict[str, Any]:
    """The canned queries whose tables and columns this database has."""
    queries: dict[str, Any] = {}
    for name, (title, description, needs, sql) in sqlite_sql.CANNED_QUERIES.items():
        if all(_has_columns(catalog, table, cols) for table, cols in needs.items()):
            queries[name] = {"title": title, "description": description, "sql": sql}
    if "json2db_customer_balances" in views:
        queries["top_customers_by_outstanding"] = {
            "title": "Customers who owe the most",
            "description": "From the customer balances view: the ten largest open balances.",
            "sql": sqlite_sql.select_all("json2db_customer_balances") + " LIMIT 10",
        }
    return queries


def _has_columns(catalog: Catalog, table: str, columns: tuple[str, ...]) -> bool:
    if table in catalog.tables:
        return all(catalog.tables[table].has(c) for c in columns)
    present = catalog.internal.get(table)
    return present is not None and all(c in present for c in columns)


def datasette_command(db_path: Path, metadata_path: Path, *, port: int) -> list[str]:
    """The command that serves the database on 127.0.0.1 only (Datasette reads; it has no
    way to write without plugins this tool does not install)."""
    return [
        sys.executable, "-m", "datasette", "serve", str(db_path),
        "--metadata", str(metadata_path),
        "--host", HOST,
        "--port", str(port),
        "--setting", "sql_time_limit_ms", "5000",
    ]


def check_port_free(port: int) -> None:
    """Refuse a port another program listens on, before Datasette fails less clearly."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            raise ConfigError(f"port {port} on {HOST} is in use; pick another with --port") from None
