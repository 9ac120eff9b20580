"""What json2db_sync knows about Zoho Books entities; stdlib only, imported by the reader and
the analyzer so that both use one list.

Entities not listed here still work: the reader and the analyzer fall back to the plural/
singular rules (``invoices`` → ``invoice``, ``invoice_id``).
"""

from __future__ import annotations

#: Zoho's singular detail key per entity (``GET /invoices/{id}`` answers ``{"invoice": {...}}``).
SINGULAR_KEYS: dict[str, str] = {
    "invoices": "invoice",
    "bills": "bill",
    "contacts": "contact",
    "items": "item",
    "salesorders": "salesorder",
    "purchaseorders": "purchaseorder",
    "creditnotes": "creditnote",
    "customerpayments": "payment",
    "vendorpayments": "vendorpayment",
    "chartofaccounts": "chart_of_account",
    "bankaccounts": "bankaccount",
    "estimates": "estimate",
    "expenses": "expense",
    "journals": "journal",
    "organizations": "organization",
    "taxes": "tax",
    "currencies": "currency",
}

# The entity's own id field for the Zoho entities we know (DESIGN.md, issue 3).
KNOWN_ID_FIELDS = {
    "invoices": "invoice_id",
    "bills": "bill_id",
    "contacts": "contact_id",
    "items": "item_id",
    "salesorders": "salesorder_id",
    "purchaseorders": "purchaseorder_id",
    "creditnotes": "creditnote_id",
    "customerpayments": "payment_id",
    "vendorpayments": "payment_id",
    "organizations": "organization_id",
    "estimates": "estimate_id",
    "expenses": "expense_id",
    "journals": "journal_id",
    "chartofaccounts": "account_id",
    "bankaccounts": "account_id",
    "taxes": "tax_id",
    "currencies": "currency_id",
}

# The element's own id inside a child array, where the generic rule would pick a
# reference instead (a payment's ``invoices`` elements carry the invoice's id).
KNOWN_CHILD_ID_FIELDS = {
    ("customerpayments", "invoices"): "invoice_payment_id",
    ("vendorpayments", "bills"): "bill_payment_id",
}
