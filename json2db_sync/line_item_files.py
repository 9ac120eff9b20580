"""api_sync's separate line-item files (``<entity>_line_items.json``): pure rules, no SQL.

api_sync writes the line items of invoices, bills, sales orders, purchase orders and credit
notes twice: embedded in the detail records of ``<entity>.json``, and again in
``<entity>_line_items.json`` beside it, each element with ``parent_id`` (the parent's id)
and ``parent_type`` (``invoice``, ``bill``, ...) added. So, per parent of such a file:

- the folder's ``<entity>.json`` carried the parent with its items embedded: the file is a
  second copy, compared with them (same ids, same amounts) and never written;
- otherwise (a list-form parent without items, or no parent file in the folder): the file
  supplies the parent's items, under the same newest-wins and replace-as-a-whole rules as
  embedded ones.

This module holds the bookkeeping for that (what a folder's parents carried, the order-free
fingerprints that compare two copies, the messages); the populator does the reading and
writing. Stdlib and ``json_analyzer`` only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .json_analyzer import normalize_id, singular

#: The field each element of the file names its parent in (api_sync's ``_extract_line_items``).
PARENT_ID_FIELD = "parent_id"
#: The amounts two copies of a line item must agree on (those the element carries).
AMOUNT_FIELDS = ("quantity", "rate", "discount", "tax_percentage", "item_total")

_HASH_SPACE = 1 << 64


@dataclass(slots=True)
class Fingerprint:
    """Order-free summary of a parent's line items: how many, and the sum of the hashes of
    each item's (id, amounts). Two copies agree when both numbers do; memory stays a few
    bytes per parent however many items it has."""

    count: int = 0
    digest: int = 0

    def add(self, element: Any, id_field: str) -> None:
        self.count += 1
        self.digest = (self.digest + hash(item_key(element, id_field))) % _HASH_SPACE

    @classmethod
    def of(cls, elements: Iterable[Any], id_field: str) -> Fingerprint:
        made = cls()
        for element in elements:
            made.add(element, id_field)
        return made


def item_key(element: Any, id_field: str) -> tuple[str | None, ...]:
    """What identifies one line item for the comparison: its own id and its amounts, as
    text (so ``2`` and ``2.0`` from the same producer compare as the producer wrote them)."""
    if not isinstance(element, dict):
        return ("value", repr(element))
    return (normalize_id(element.get(id_field)), *(_amount_text(element.get(name)) for name in AMOUNT_FIELDS))


def _amount_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return repr(value)


@dataclass(slots=True)
class FolderParents:
    """What the parent file of one folder said about each parent, for the line-item file
    beside it: the fingerprint of the items it embedded, or, for a record that carried
    none (list form), the record's modification time (the version its items belong to)."""

    field_name: str
    id_field: str
    embedded: dict[str, Fingerprint] = field(default_factory=dict)
    listed: dict[str, str | None] = field(default_factory=dict)

    def note(self, record_id: str, record: Mapping[str, Any], updated: str | None) -> None:
        """Remember one parent record (a later occurrence of the id replaces an earlier one)."""
        items = record.get(self.field_name)
        if isinstance(items, list):
            self.embedded[record_id] = Fingerprint.of(items, self.id_field)
            self.listed.pop(record_id, None)
        else:
            self.listed[record_id] = updated
            self.embedded.pop(record_id, None)


def copy_mismatches(
    parents: FolderParents,
    copies: Mapping[str, Fingerprint],
    *,
    entity: str,
    parent_file: str,
    items_file: str,
) -> list[str]:
    """One message per parent whose embedded items and the file's copy disagree, naming
    the parent (a parent with no embedded items is not expected in the file)."""
    label = singular(entity)
    found: list[str] = []
    for parent_id, embedded in parents.embedded.items():
        copy = copies.get(parent_id, Fingerprint())
        if copy.count == embedded.count and copy.digest == embedded.digest:
            continue
        if copy.count != embedded.count:
            detail = f"{parent_file} carries {_items(embedded.count)}, {items_file} {_items(copy.count)}"
        else:
            detail = f"{parent_file} and {items_file} both hold {_items(copy.count)}, but their ids or amounts differ"
        found.append(f"{label} {parent_id}: {detail}")
    return found


def _items(count: int) -> str:
    return "1 line item" if count == 1 else f"{count} line items"
