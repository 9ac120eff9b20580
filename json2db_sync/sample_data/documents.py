"""Builders of the five document entities (invoices, bills, sales orders, purchase orders, credit
notes) in Zoho's list form (reduced fields) and detail form (with ``line_items``); imports
stdlib and the sample data's plan, values and vocabulary.

Each ``build_<entity>(sample, timeline, emission)`` lays out one appearance of one record; each
``_<entity>_line`` gives the fields that document type adds to a line item.
"""

from __future__ import annotations

from typing import Any

from .plan import SamplePlan
from .values import Emission, Item, Timeline, money, quantity_value
from .vocabulary import (
    ACCOUNT_PAYABLE,
    ACCOUNT_RECEIVABLE,
    CURRENCY,
    TEMPLATE_BILL,
    TEMPLATE_CREDITNOTE,
    TEMPLATE_INVOICE,
    TEMPLATE_PO,
    TEMPLATE_SO,
    USER,
    USER_NAME,
)


def build_invoices(sample: SamplePlan, timeline: Timeline, emission: Emission) -> dict[str, Any]:
    """An invoice as one session carries it: the list form, or the detail form with its lines; paid and balance as of the emission."""
    head = timeline.head
    contact = sample.contacts[head.contact]
    lines, totals, paid, status = sample.document_money("invoices", timeline, emission)
    date, due = sample.due(head)
    fields, field_hash = sample.custom_fields("invoices", head.index)
    payment_date = timeline.payment.time.date().isoformat() if paid and timeline.payment else ""
    common = {
        "invoice_id": sample.record_id("invoices", head.index),
        "invoice_number": sample.number("invoices", head.index),
        "customer_id": sample.record_id("contacts", head.contact),
        "customer_name": contact.name,
        "status": status,
        "date": date,
        "due_date": due,
        "reference_number": "",
        "currency_id": sample.fixed_id(CURRENCY),
        "currency_code": "USD",
        "currency_symbol": "$",
        "exchange_rate": 1,
        "total": money(totals.total),
        "balance": money(totals.total - paid),
        "custom_fields": fields,
        "custom_field_hash": field_hash,
        "created_time": sample.timestamp(head.created),
        "last_modified_time": sample.timestamp(emission.modified),
    }
    if emission.form == "list":
        return {
            **common,
            "company_name": "", "due_days": "", "email": contact.email, "project_name": "",
            "billing_address": sample.address(contact, detail=False),
            "shipping_address": sample.address(contact, detail=False),
            "country": "USA", "phone": contact.phone, "created_by": USER_NAME,
            "payment_expected_date": "", "tags": [], "salesperson_name": "", "shipping_charge": 0,
            "adjustment": 0, "updated_time": sample.timestamp(emission.modified), "is_viewed_by_client": False,
            "has_attachment": False, "client_viewed_time": "", "is_emailed": status != "draft",
            "current_sub_status": status, "template_type": "standard", "invoice_source": "Api",
            "reminders_sent": 0, "last_payment_date": payment_date,
            "template_id": sample.fixed_id(TEMPLATE_INVOICE), "documents": "", "salesperson_id": "",
            "write_off_amount": 0, "unprocessed_payment_amount": 0,
        }
    return {
        **common,
        "issued_date": date, "offline_created_date_with_time": "", "email": contact.email,
        "invoice_source": "Api", "currency_name_formatted": "USD- United States Dollar",
        "unprocessed_payment_amount": 0, "recurring_invoice_id": "", "payment_terms": 30,
        "payment_terms_label": "Net 30", "payment_terms_id": "", "invoice_installments": [],
        "early_payment_discount_due_days": "", "payment_reminder_enabled": True,
        "payment_made": money(paid), "zcrm_potential_id": "", "lock_details": {"can_lock": False},
        "locked_actions": [],
        "line_items": sample.line_dicts("invoices", head.index, lines, totals, status, _invoice_line),
        "price_precision": 2, "sub_total": money(totals.sub_total), "tax_total": money(totals.tax_total),
        "total_taxable_amount": money(sum(t for line, t in zip(lines, totals.line_totals) if line.tax >= 0)),
        "discount_total": 0, "discount_percent": 0, "discount": 0, "discount_type": "item_level",
        "account_id": sample.fixed_id(ACCOUNT_RECEIVABLE), "account_name": "Accounts Receivable",
        "is_discount_before_tax": True, "adjustment": 0, "adjustment_description": "",
        "shipping_charge_tax_id": "", "shipping_charge_tax_percentage": "", "shipping_charge_tax": "",
        "shipping_charge": 0, "bcy_sub_total": money(totals.sub_total),
        "bcy_tax_total": money(totals.tax_total), "bcy_total": money(totals.total),
        "write_off_amount": 0, "roundoff_value": 0, "rounding_mode": "round_half_up",
        "is_inclusive_tax": False, "tax_rounding": "item_level", "taxes": sample.taxes(lines, totals),
        "last_payment_date": payment_date, "contact_persons": [sample.record_id("contacts", head.contact, 3)],
        "contact_persons_associated": [], "attachment_name": "", "documents": [],
        "salesorder_id": "", "salesorder_number": "", "salesorders": [],
        "salesperson_id": "", "salesperson_name": "", "is_emailed": status != "draft",
        "reminders_sent": 0, "is_viewed_by_client": False, "client_viewed_time": "",
        "template_id": sample.fixed_id(TEMPLATE_INVOICE), "template_name": "Standard Template",
        "template_type": "standard", "notes": "Thanks for your business.", "terms": "",
        "billing_address": sample.address(contact, detail=True),
        "shipping_address": sample.address(contact, detail=True),
        "created_date": date, "created_by_id": sample.fixed_id(USER), "created_by_name": USER_NAME,
        "last_modified_by_id": sample.fixed_id(USER), "current_sub_status_id": "",
        "current_sub_status": status, "sub_statuses": [], "estimate_id": "", "credits_applied": 0,
        "tax_amount_withheld": 0, "schedule_time": "", "tags": [],
    }


def build_bills(sample: SamplePlan, timeline: Timeline, emission: Emission) -> dict[str, Any]:
    """A bill in list or detail form; non-catalogue lines (office services) count in ``non_catalog_items_count``."""
    head = timeline.head
    contact = sample.contacts[head.contact]
    lines, totals, paid, status = sample.document_money("bills", timeline, emission)
    date, due = sample.due(head)
    common = {
        "bill_id": sample.record_id("bills", head.index),
        "vendor_id": sample.record_id("contacts", head.contact),
        "vendor_name": contact.name,
        "status": status,
        "color_code": "",
        "current_sub_status_id": "",
        "current_sub_status": status,
        "bill_number": sample.number("bills", head.index),
        "reference_number": f"VINV-{(head.index * 7919) % 100000:05d}",
        "date": date,
        "due_date": due,
        "currency_id": sample.fixed_id(CURRENCY),
        "currency_code": "USD",
        "price_precision": 2,
        "exchange_rate": 1,
        "total": money(totals.total),
        "balance": money(totals.total - paid),
        "created_time": sample.timestamp(head.created),
        "last_modified_time": sample.timestamp(emission.modified),
    }
    if emission.form == "list":
        return {
            **common,
            "due_days": "Due in 30 days", "tds_total": 0, "unprocessed_payment_amount": 0,
            "created_time_formatted": f"{head.created:%d %b %Y %I:%M %p}",
            "last_modified_time_formatted": f"{emission.modified:%d %b %Y %I:%M %p}",
            "created_by": USER_NAME, "last_modified_by": USER_NAME, "attachment_name": "",
            "has_attachment": False, "tags": [], "entity_type": "bill", "client_viewed_time": "",
            "is_viewed_by_client": False, "balance_due": money(totals.total - paid),
        }
    return {
        **common,
        "non_catalog_items_count": sum(1 for line in lines if line.item < 0), "source": "Api",
        "contact_category": "", "sub_statuses": [], "discount_setting": "flat",
        "payment_terms": 30, "payment_terms_label": "Net 30", "payment_expected_date": "",
        "recurring_bill_id": "", "due_by_days": "", "due_in_days": 30, "currency_symbol": "$",
        "currency_name_formatted": "USD- United States Dollar", "documents": [],
        "custom_fields": [], "custom_field_hash": {}, "is_inclusive_tax": False,
        "tax_rounding": "entity_level",
        "line_items": sample.line_dicts("bills", head.index, lines, totals, status, _bill_line),
        "adjustment": 0, "adjustment_description": "", "discount_amount": 0, "discount": 0,
        "is_discount_before_tax": True, "discount_type": "entity_level",
        "sub_total": money(totals.sub_total), "tax_total": money(totals.tax_total),
        "discount_total": 0, "payment_made": money(paid), "vendor_credits_applied": 0,
        "purchaseorders": [], "taxes": sample.taxes(lines, totals), "unprocessed_payment_amount": 0,
        "billing_address_id": sample.record_id("contacts", head.contact, 1),
        "billing_address": sample.address(contact, detail=True), "payments": [], "vendor_credits": [],
        "created_by_id": sample.fixed_id(USER), "last_modified_id": sample.fixed_id(USER),
        "reference_id": "", "notes": "", "terms": "", "attachment_name": "",
        "template_id": sample.fixed_id(TEMPLATE_BILL), "template_name": "Standard Template",
        "template_type": "standard", "entity_type": "bill",
        "account_id": sample.fixed_id(ACCOUNT_PAYABLE), "account_name": "Accounts Payable", "tags": [],
    }


def build_salesorders(sample: SamplePlan, timeline: Timeline, emission: Emission) -> dict[str, Any]:
    """A sales order in list or detail form; a fulfilled order shows its lines shipped and invoiced."""
    head = timeline.head
    contact = sample.contacts[head.contact]
    lines, totals, _, status = sample.document_money("salesorders", timeline, emission)
    date, shipment = sample.due(head, days=7)
    fields, field_hash = sample.custom_fields("salesorders", head.index)
    order_status = {"draft": "draft", "open": "confirmed", "fulfilled": "closed"}[status]
    done = status == "fulfilled"
    common = {
        "salesorder_id": sample.record_id("salesorders", head.index),
        "salesorder_number": sample.number("salesorders", head.index),
        "customer_id": sample.record_id("contacts", head.contact),
        "customer_name": contact.name,
        "status": status,
        "order_status": order_status,
        "invoiced_status": "invoiced" if done else ("not_invoiced" if status != "draft" else ""),
        "paid_status": "unpaid",
        "shipped_status": "fulfilled" if done else ("pending" if status != "draft" else ""),
        "date": date,
        "shipment_date": shipment,
        "reference_number": f"Web Order #{head.index + 1001}",
        "currency_id": sample.fixed_id(CURRENCY),
        "currency_code": "USD",
        "total": money(totals.total),
        "balance": money(totals.total),
        "custom_fields": fields,
        "custom_field_hash": field_hash,
        "created_time": sample.timestamp(head.created),
        "last_modified_time": sample.timestamp(emission.modified),
    }
    if emission.form == "list":
        return {
            **common,
            "company_name": "", "delivery_date": "", "due_by_days": "", "due_in_days": "",
            "is_emailed": status != "draft", "has_attachment": False, "tags": [],
            "salesperson_name": "", "current_sub_status": status, "documents": "",
            "total_invoiced_amount": money(totals.total) if done else 0, "quantity": "",
        }
    return {
        **common,
        "has_discount": False, "discount_total": 0, "tax_total": money(totals.tax_total),
        "sub_statuses": [], "currency_symbol": "$", "notes": "", "terms": "", "documents": [],
        "discount_amount": 0, "source": "Api", "shipping_charge_tax_percentage": "",
        "shipping_charge": 0, "adjustment": 0, "adjustment_description": "", "exchange_rate": 1,
        "price_precision": 2, "is_inclusive_tax": False, "tax_rounding": "item_level",
        "taxes": sample.taxes(lines, totals),
        "line_items": sample.line_dicts("salesorders", head.index, lines, totals, status, _salesorder_line),
        "billing_address": sample.address(contact, detail=True),
        "shipping_address": sample.address(contact, detail=True),
        "sub_total": money(totals.sub_total), "bcy_sub_total": money(totals.sub_total),
        "bcy_tax_total": money(totals.tax_total), "bcy_total": money(totals.total),
        "invoices": [], "packages": [], "payments": [], "creditnotes": [], "purchaseorders": [],
        "contact_persons": [sample.record_id("contacts", head.contact, 3)],
        "template_id": sample.fixed_id(TEMPLATE_SO), "template_type": "standard",
        "created_by_id": sample.fixed_id(USER), "last_modified_by_id": sample.fixed_id(USER),
        "created_date": date, "discount_type": "entity_level", "sales_channel": "direct_sales",
        "salesperson_id": "", "salesperson_name": "", "tds_calculation_type": "tds_item_level",
    }


def build_purchaseorders(sample: SamplePlan, timeline: Timeline, emission: Emission) -> dict[str, Any]:
    """A purchase order in list or detail form; a billed order shows its quantities received."""
    head = timeline.head
    contact = sample.contacts[head.contact]
    lines, totals, _, status = sample.document_money("purchaseorders", timeline, emission)
    date, delivery = sample.due(head, days=14)
    order_status = {"draft": "draft", "open": "open", "billed": "closed"}[status]
    quarters = sum(line.quarters for line in lines)
    common = {
        "purchaseorder_id": sample.record_id("purchaseorders", head.index),
        "vendor_id": sample.record_id("contacts", head.contact),
        "vendor_name": contact.name,
        "order_status": order_status,
        "billed_status": "billed" if status == "billed" else ("to_be_billed" if status == "open" else ""),
        "received_status": "received" if status == "billed" else ("to_be_received" if status == "open" else ""),
        "status": status,
        "color_code": "",
        "current_sub_status_id": "",
        "current_sub_status": status,
        "purchaseorder_number": sample.number("purchaseorders", head.index),
        "reference_number": "",
        "date": date,
        "delivery_date": delivery,
        "expected_delivery_date": "",
        "currency_id": sample.fixed_id(CURRENCY),
        "currency_code": "USD",
        "total": money(totals.total),
        "created_time": sample.timestamp(head.created),
        "last_modified_time": sample.timestamp(emission.modified),
    }
    if emission.form == "list":
        received = quarters if status == "billed" else 0
        return {
            **common,
            "company_name": "", "delivery_days": "", "due_by_days": "", "due_in_days": "",
            "price_precision": "", "has_attachment": False, "tags": [],
            "quantity_yet_to_receive": quantity_value(quarters - received),
            "quantity_marked_as_received": quantity_value(received),
            "is_po_marked_as_received": bool(received), "receives": [], "client_viewed_time": "",
            "is_viewed_by_client": False,
        }
    return {
        **common,
        "non_catalog_items_count": 0, "documents": [], "contact_category": "",
        "client_viewed_time": "", "is_viewed_by_client": False, "sub_statuses": [],
        "contact_persons": [], "currency_symbol": "$", "exchange_rate": 1, "is_emailed": status != "draft",
        "is_inclusive_tax": False, "tax_rounding": "entity_level", "is_po_marked_as_received": status == "billed",
        "total_quantity": quantity_value(quarters), "tds_calculation_type": "tds_item_level",
        "line_items": sample.line_dicts("purchaseorders", head.index, lines, totals, status, _purchaseorder_line),
        "has_qty_cancelled": False, "adjustment": 0, "adjustment_description": "",
        "discount_amount": 0, "discount": 0, "is_discount_before_tax": True,
        "discount_type": "entity_level", "sub_total": money(totals.sub_total),
        "tax_total": money(totals.tax_total), "discount_total": 0, "discount_percent": 0,
        "taxes": sample.taxes(lines, totals), "price_precision": 2,
        "billing_address_id": sample.record_id("contacts", head.contact, 1),
        "billing_address": sample.empty_address(), "notes": "", "terms": "", "payment_terms": 0,
        "payment_terms_label": "Due on Receipt", "ship_via": "", "attention": "",
        "delivery_address": {
            "zip": "", "country": "U.S.A", "address": "", "organization_address_id": "", "address2": "",
            "city": "", "phone": "", "address1": "", "state": "Delaware",
        },
        "custom_fields": [], "custom_field_hash": {}, "attachment_name": "",
        "template_id": sample.fixed_id(TEMPLATE_PO), "template_name": "Standard Template",
        "template_type": "standard", "created_by_id": sample.fixed_id(USER),
        "salesorders": [], "bills": [], "tags": [],
    }


def build_creditnotes(sample: SamplePlan, timeline: Timeline, emission: Emission) -> dict[str, Any]:
    """A credit note in list or detail form (never applied here: balance = total)."""
    head = timeline.head
    contact = sample.contacts[head.contact]
    lines, totals, _, status = sample.document_money("creditnotes", timeline, emission)
    date, _ = sample.due(head)
    common: dict[str, Any] = {
        "creditnote_id": sample.record_id("creditnotes", head.index),
        "creditnote_number": sample.number("creditnotes", head.index),
        "status": status,
        "reference_number": "",
        "date": date,
        "issued_date": date,
        "total": money(totals.total),
        "balance": money(totals.total),
        "customer_id": sample.record_id("contacts", head.contact),
        "customer_name": contact.name,
        "is_emailed": False,
        "salesperson_id": "",
        "is_viewed_by_client": False,
        "client_viewed_time": "",
        "color_code": "",
        "current_sub_status_id": "",
        "current_sub_status": status,
        "currency_id": sample.fixed_id(CURRENCY),
        "currency_code": "USD",
        "created_time": sample.timestamp(head.created),
        "last_modified_time": sample.timestamp(emission.modified),
        "exchange_rate": 1,
        "template_id": sample.fixed_id(TEMPLATE_CREDITNOTE),
        "template_type": "standard",
        "price_precision": 2,
        "tags": [],
    }
    if emission.form == "list":
        return {
            **common,
            "applied_invoices": "", "has_attachment": False, "salesperson_name": "Others",
            "rounding_mode": "round_half_up",
        }
    return {
        **common,
        "notes": "", "terms": "", "created_by_id": sample.fixed_id(USER),
        "last_modified_by_id": sample.fixed_id(USER), "created_by_name": USER_NAME,
        "invoice_id": "", "invoices_credited": [], "contact_persons": [], "salesperson_name": "",
        "tax_rounding": "entity_level", "template_name": "Standard Template",
        "currency_symbol": "$", "currency_name_formatted": "USD- United States Dollar",
        "is_inclusive_tax": False, "discount": 0, "is_discount_before_tax": True,
        "discount_type": "item_level", "account_id": sample.fixed_id(ACCOUNT_RECEIVABLE),
        "account_name": "Accounts Receivable",
        "line_items": sample.line_dicts("creditnotes", head.index, lines, totals, status, _creditnote_line),
        "documents": [], "custom_fields": [], "custom_field_hash": {},
        "shipping_charge_tax_percentage": "", "shipping_charge": 0, "adjustment": 0,
        "adjustment_description": "", "sub_total": money(totals.sub_total),
        "tax_total": money(totals.tax_total), "total_credits_used": 0, "total_refunded_amount": 0,
        "taxes": sample.taxes(lines, totals), "creditnote_refunds": [],
        "billing_address": sample.address(contact, detail=True),
        "shipping_address": sample.empty_address(),
    }


# --- what each document type adds to a line item (after the fields every type writes) ---


def _invoice_line(item: Item | None, quantity: float, item_total: int, status: str) -> dict[str, Any]:
    return {
        "discount_amount": 0, "pricing_scheme": "unit", "documents": [], "time_entry_ids": [],
        "expense_id": "", "bill_id": "", "bill_item_id": "", "stock_on_hand": "",
        "sales_rate": money(item.rate_cents[-1]) if item else "", "purchase_rate": "",
        "salesorder_item_id": "", "cost_amount": 0, "markup_percent": 0,
    }


def _bill_line(item: Item | None, quantity: float, item_total: int, status: str) -> dict[str, Any]:
    return {
        "purchaseorder_id": "", "purchaseorder_item_id": "", "account_code": "", "sales_rate": "",
        "quantity_received": 0, "markup_percent": 0, "is_billable": False, "customer_id": "",
        "customer_name": "", "invoice_id": "", "invoice_number": "", "receive_line_items": [],
    }


def _salesorder_line(item: Item | None, quantity: float, item_total: int, status: str) -> dict[str, Any]:
    shipped = quantity if status == "fulfilled" else 0
    return {
        "sku": item.sku if item else "", "item_sub_total": money(item_total),
        "quantity_invoiced": shipped, "quantity_packed": shipped, "quantity_shipped": shipped,
        "quantity_cancelled": 0, "is_invoiced": status == "fulfilled", "product_type": "goods",
        "sales_rate": money(item.rate_cents[-1]) if item else "", "tds_tax_percentage": "",
    }


def _purchaseorder_line(item: Item | None, quantity: float, item_total: int, status: str) -> dict[str, Any]:
    billed = quantity if status == "billed" else 0
    return {
        "salesorder_item_id": "", "is_receivable": True, "quantity_marked_as_received": billed,
        "quantity_cancelled": 0, "quantity_billed": billed, "purchase_request_items": [],
    }


def _creditnote_line(item: Item | None, quantity: float, item_total: int, status: str) -> dict[str, Any]:
    return {
        "invoice_id": "", "invoice_item_id": "", "pricing_scheme": "unit", "sales_margin": "",
        "is_credit_only_item": False, "discount_amount": 0,
    }
