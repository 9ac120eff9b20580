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
    # Further Zoho Books modules (API v3 naming: ``<singular>_id``); without a rule here
    # their records would fall to the generic ``<plural minus s>_id`` guess, which misses
    # for compound names (``vendorcredits`` → ``vendorcredit_id``, Zoho says ``vendor_credit_id``).
    "vendorcredits": "vendor_credit_id",
    "recurringinvoices": "recurring_invoice_id",
    "recurringbills": "recurring_bill_id",
    "recurringexpenses": "recurring_expense_id",
    "retainerinvoices": "retainerinvoice_id",
    "salesreceipts": "sales_receipt_id",
    "deliverychallans": "deliverychallan_id",
    "projects": "project_id",
    "timeentries": "time_entry_id",
    "tasks": "task_id",
    "users": "user_id",
    "employees": "employee_id",
    "banktransactions": "transaction_id",
    "bankrules": "rule_id",
    "pricebooks": "pricebook_id",
    "pricelists": "pricebook_id",
    "fixedassets": "fixed_asset_id",
    "locations": "location_id",
    "reportingtags": "tag_id",
    "itemgroups": "group_id",
    "openingbalances": "opening_balance_id",
    "basecurrencyadjustments": "base_currency_adjustment_id",
}

# The element's own id inside a child array, where the generic rule would pick a
# reference instead (a payment's ``invoices`` elements carry the invoice's id).
KNOWN_CHILD_ID_FIELDS = {
    ("customerpayments", "invoices"): "invoice_payment_id",
    ("vendorpayments", "bills"): "bill_payment_id",
    # A credit note applied to invoices, a vendor credit applied to bills, a retainer
    # applied to invoices: each application has an id of its own, and the same document
    # can be applied to twice (two applications, one referenced invoice_id).
    ("creditnotes", "invoices"): "creditnote_invoice_id",
    ("vendorcredits", "bills"): "vendor_credit_bill_id",
    ("invoices", "credits"): "creditnote_invoice_id",
    ("invoices", "payments"): "invoice_payment_id",
    ("bills", "payments"): "bill_payment_id",
    ("bills", "vendor_credits"): "vendor_credit_bill_id",
    ("journals", "line_items"): "line_id",
}
