"""The table of per-entity record builders the writer looks entities up in; imports the sample
data's builder modules.

Every entity but ``organizations`` has a builder ``(sample, timeline, emission) -> record``
called once per appearance of a record in a session; the organization is one record per
session (``build_organization``). Adding an entity is a builder function and a line here (plus
its words in ``vocabulary``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .catalogue import build_contacts, build_items, build_organization
from .documents import (
    build_bills,
    build_creditnotes,
    build_invoices,
    build_purchaseorders,
    build_salesorders,
)
from .payments import build_customerpayments, build_vendorpayments
from .plan import SamplePlan
from .values import Emission, Timeline

RecordBuilder = Callable[[SamplePlan, Timeline, Emission], dict[str, Any]]

BUILDERS: dict[str, RecordBuilder] = {
    "contacts": build_contacts,
    "items": build_items,
    "customerpayments": build_customerpayments,
    "vendorpayments": build_vendorpayments,
    "invoices": build_invoices,
    "bills": build_bills,
    "salesorders": build_salesorders,
    "purchaseorders": build_purchaseorders,
    "creditnotes": build_creditnotes,
}

__all__ = ["BUILDERS", "RecordBuilder", "build_organization"]
