"""What Zoho Books data looks like, as the verifier judges it: which values are dates and
timestamps, which amounts are never negative, which tables are documents and where their
date is. Stdlib only, plus ``catalog`` (the tables judged) and ``json_analyzer`` (singular
entity names).

Judgement calls, written down once:

* ``""`` and NULL are Zoho's "unset": never an invalid date, number or reference.
* Dates (``date``, ``*_date``) are ``YYYY-MM-DD``; also accepted are an ISO timestamp
  (seen in a webhook payload) and Zoho's display form ``09 Jun 2026`` (contacts'
  ``created_date``). Timestamps (``*_time``) are Zoho's ``2026-06-09T16:48:58-0400``,
  with a ``Z`` or ``+05:30`` offset, fractional seconds, a space instead of ``T`` or no
  seconds (``shipment_date_with_time``); a bare ``HH:MM`` is a time of day or a duration.
* ``quantity``, ``rate``, ``item_total``, ``sub_total`` and ``total`` are never negative
  in Zoho documents; ``amount`` must be a number but may be negative (journal and bank
  lines), as may ``balance`` and ``adjustment`` (not checked). Inventory adjustments are
  exempt from the sign test, since their quantities go both ways.
* Documents (known document entities, or any table with a ``line_items`` child) must
  have a date (``date``, else ``<singular>_date`` such as ``journal_date``) and a total.
"""

from __future__ import annotations

import re
from datetime import date

from .catalog import Catalog, TableInfo
from .json_analyzer import singular

DOCUMENT_ENTITIES = frozenset(
    {"invoices", "bills", "salesorders", "purchaseorders", "creditnotes", "estimates"}
)
PAYMENT_ENTITIES = frozenset({"customerpayments", "vendorpayments"})
NUMERIC_COLUMNS = ("quantity", "rate", "item_total", "sub_total", "total", "amount")
NON_NEGATIVE_COLUMNS = ("quantity", "rate", "item_total", "sub_total", "total")
SIGNED_ENTITY_MARKER = "adjustment"


_TIMESTAMP = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?"
    r"(?P<tz>Z|[+-](?P<tzh>\d{2}):?(?P<tzm>\d{2}))?$"
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CLOCK = re.compile(r"^\d{1,3}:[0-5]\d(?::[0-5]\d)?$")
_DISPLAY_DATE = re.compile(r"^(?P<d>\d{1,2}) (?P<mon>[A-Z][a-z]{2}) (?P<y>\d{4})$")
_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}


def is_valid_date(value: object) -> bool:
    """A ``date``/``*_date`` value: ``YYYY-MM-DD``, an ISO timestamp, or ``09 Jun 2026``."""
    if not isinstance(value, str):
        return False
    if _ISO_DATE.match(value):
        try:
            return bool(date.fromisoformat(value))
        except ValueError:
            return False
    display = _DISPLAY_DATE.match(value)
    if display:
        month = _MONTHS.get(display["mon"])
        try:
            return month is not None and bool(date(int(display["y"]), month, int(display["d"])))
        except ValueError:
            return False
    return is_valid_timestamp(value) and "T" in value


def is_valid_timestamp(value: object) -> bool:
    """A ``*_time`` value: a Zoho timestamp (offset, ``Z``, fractions, seconds optional)
    or a bare clock time / duration such as ``02:30``."""
    if not isinstance(value, str):
        return False
    if _CLOCK.match(value):
        return True
    match = _TIMESTAMP.match(value)
    if not match:
        return False
    try:
        date.fromisoformat(match["date"])
    except ValueError:
        return False
    tz_ok = match["tzh"] is None or (int(match["tzh"]) <= 14 and int(match["tzm"]) < 60)
    return int(match["h"]) < 24 and int(match["m"]) < 60 and int(match["s"] or 0) < 60 and tz_ok


def is_date_column(column: str) -> bool:
    return column == "date" or column.endswith("_date")


def is_timestamp_column(column: str) -> bool:
    return column.endswith("_time")


def is_signed_entity(entity: str) -> bool:
    """An entity whose quantities and amounts go both ways (inventory adjustments): exempt
    from the sign test."""
    return SIGNED_ENTITY_MARKER in entity


def is_document(catalog: Catalog, table: TableInfo) -> bool:
    """A main table of a known document entity, or one with a ``line_items`` child."""
    return not table.is_child and (
        table.entity in DOCUMENT_ENTITIES or catalog.line_items_of(table) is not None
    )


def document_date_column(table: TableInfo) -> str | None:
    """``date``, else ``<singular>_date`` (journals keep ``journal_date``)."""
    for candidate in ("date", f"{singular(table.entity)}_date"):
        if table.has(candidate):
            return candidate
    return None
