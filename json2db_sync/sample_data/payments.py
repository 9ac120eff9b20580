"""Builders of the two payment entities (customer payments on invoices, vendor payments on
bills), in list and detail form; imports stdlib and the sample data's plan, values and vocabulary.

A payment settles the document the plan pairs it with (payment j pays document j*n/m), for the
share and at the time the plan gives, so that balances add up across entities.
"""

from __future__ import annotations

from typing import Any

from .plan import SamplePlan
from .values import Emission, Timeline, money
from .vocabulary import (
    ACCOUNT_PAYABLE,
    ACCOUNT_RECEIVABLE,
    ACCOUNT_UNDEPOSITED,
    CURRENCY,
    TEMPLATE_PAYMENT,
    USER,
    USER_NAME,
)


def build_customerpayments(sample: SamplePlan, timeline: Timeline, emission: Emission) -> dict[str, Any]:
    """A payment received, applied to the one invoice the plan pairs it with (plus any unused amount)."""
    j = timeline.head.index
    invoice, invoice_head, totals, applied = sample.applied("invoices", j, "customerpayments")
    plan = sample.payment_plan("customerpayments", j, invoice_head)
    contact = sample.contacts[invoice_head.contact]
    amount = applied + plan.unused_cents
    date = plan.time.date().isoformat()
    invoice_date, invoice_due = sample.due(invoice_head)
    reference = f"CHK-{j + 1:05d}-{emission.version}" if emission.version else ""
    common: dict[str, Any] = {
        "payment_id": sample.record_id("customerpayments", j),
        "payment_number": str(j + 1),
        "date": date,
        "payment_mode": plan.mode,
        "amount": money(amount),
        "unused_amount": money(plan.unused_cents),
        "account_id": sample.fixed_id(ACCOUNT_UNDEPOSITED),
        "account_name": "Undeposited Funds",
        "description": "",
        "reference_number": reference,
        "customer_id": sample.record_id("contacts", invoice_head.contact),
        "customer_name": contact.name,
        "created_time": sample.timestamp(plan.time),
        "tax_amount_withheld": 0,
        "payment_status": "paid",
        "settlement_status": "",
        "sales_channel": "",
        "tags": [],
    }
    if emission.form == "list":
        return {
            **common,
            "invoice_numbers": sample.number("invoices", invoice),
            "payment_mode_formatted": plan.mode, "bcy_amount": money(amount),
            "bcy_unused_amount": money(plan.unused_cents),
            "last_modified_time": sample.timestamp(emission.modified), "last_four_digits": "",
            "gateway_transaction_id": "", "payment_gateway": "", "bcy_refunded_amount": 0,
            "applied_invoices": [], "has_attachment": False, "documents": "",
            "custom_fields_list": "", "tax_account_id": "", "tax_account_name": "",
            "payment_type": "Invoice Payment",
        }
    return {
        **common,
        "account_identifier": "", "payment_link_id": "", "created_by": USER_NAME,
        "updated_time": sample.timestamp(emission.modified), "lock_details": {"can_lock": False},
        "locked_actions": [], "payment_number_prefix": "", "payment_number_suffix": str(j + 1),
        "documents": [], "card_type": "", "account_type": "cash",
        "customer_advance_account_id": sample.fixed_id(ACCOUNT_RECEIVABLE),
        "customer_advance_account_name": "Accounts Receivable",
        "currency_id": sample.fixed_id(CURRENCY), "currency_symbol": "$", "currency_code": "USD",
        "exchange_rate": 1, "bank_charges": 0, "bank_charges_account_id": "", "tax_account_id": "",
        "tax_account_name": "", "discount_amount": 0, "online_transaction_id": "", "payment_gateway": "",
        "invoices": [{
            "invoice_number": sample.number("invoices", invoice),
            "invoice_payment_id": sample.record_id("customerpayments", j, 1),
            "invoice_id": sample.record_id("invoices", invoice),
            "amount_applied": money(applied),
            "tax_amount_withheld": 0,
            "discount_amount": 0,
            "total": money(totals.total),
            "balance": money(totals.total - applied),
            "date": invoice_date,
            "due_date": invoice_due,
            "price_precision": 2,
            "apply_date": date,
            "allow_partial_payments": "",
            "invoice_installments": [],
        }],
        "payment_refunds": [], "deposit_details": [], "last_four_digits": "",
        "template_id": sample.fixed_id(TEMPLATE_PAYMENT), "template_name": "Elite Template",
        "template_type": "elite", "attachment_name": "", "custom_fields": [], "custom_field_hash": {},
        "imported_transactions": [], "price_precision": 2, "rounding_mode": "round_half_up",
    }


def build_vendorpayments(sample: SamplePlan, timeline: Timeline, emission: Emission) -> dict[str, Any]:
    """A payment made, applied to the one bill the plan pairs it with."""
    j = timeline.head.index
    bill, bill_head, totals, applied = sample.applied("bills", j, "vendorpayments")
    plan = sample.payment_plan("vendorpayments", j, bill_head)
    contact = sample.contacts[bill_head.contact]
    date = plan.time.date().isoformat()
    bill_date, bill_due = sample.due(bill_head)
    mode = {"check": "Check", "cash": "Cash", "bank_transfer": "Bank Transfer", "creditcard": "Credit Card"}[plan.mode]
    common = {
        "payment_id": sample.record_id("vendorpayments", j),
        "vendor_id": sample.record_id("contacts", bill_head.contact),
        "vendor_name": contact.name,
        "status": "paid",
        "payment_mode": mode,
        "payment_number": str(j + 1),
        "description": "",
        "date": date,
        "reference_number": f"VP-{j + 1:03d}" if emission.version else "",
        "exchange_rate": 1,
        "amount": money(applied),
        "balance": 0,
        "currency_id": sample.fixed_id(CURRENCY),
        "currency_code": "USD",
        "created_time": sample.timestamp(plan.time),
        "last_modified_time": sample.timestamp(emission.modified),
        "paid_through_account_id": sample.fixed_id(ACCOUNT_UNDEPOSITED),
        "paid_through_account_name": "Undeposited Funds",
        "is_paid_via_print_check": False,
        "is_ach_payment": False,
        "ach_payment_status": "",
        "gw_reference_number": "",
        "tags": [],
    }
    if emission.form == "list":
        return {
            **common,
            "bill_numbers": sample.number("bills", bill), "bcy_amount": money(applied),
            "bcy_balance": 0, "has_attachment": False, "ach_gw_transaction_id": "",
            "check_details": {"check_id": "", "check_status": "", "check_number": "", "memo": ""},
        }
    return {
        **common,
        "is_online_payment": False, "transfer_type": "", "payment_number_prefix": "",
        "payment_number_suffix": str(j + 1), "purpose_code": "", "custom_fields": [],
        "custom_field_hash": {}, "documents": [], "tds_tax_id": "", "tax_account_id": "",
        "tax_account_name": "", "tax_amount_withheld": 0, "bank_charges": 0,
        "bank_charges_account_id": "", "currency_symbol": "$", "created_by_id": sample.fixed_id(USER),
        "created_by_name": USER_NAME, "paid_through_account_type": "cash",
        "offset_account_id": sample.fixed_id(ACCOUNT_PAYABLE), "offset_account_name": "Accounts Payable",
        "check_details": {
            "check_id": "", "check_number": "", "memo": "", "amount_in_words": "", "check_status": "",
            "template_id": "", "retain_txn_in_void_check": True,
        },
        "billing_address": sample.empty_address(),
        "bills": [{
            "bill_number": sample.number("bills", bill),
            "price_precision": 2,
            "bill_payment_id": sample.record_id("vendorpayments", j, 1),
            "bill_id": sample.record_id("bills", bill),
            "is_opening_balance": False,
            "total": money(totals.total),
            "balance": money(totals.total - applied),
            "unprocessed_payment_amount": 0,
            "amount_applied": money(applied),
            "apply_date": "",
            "tax_amount_withheld": 0,
            "date": bill_date,
            "due_date": bill_due,
        }],
        "vendorpayment_refunds": [], "imported_transactions": [], "approvers_list": [],
    }
