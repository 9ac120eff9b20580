"""Builders of the catalogue entities (contacts, items) and of the one organization; imports
stdlib and the sample data's plan, values and vocabulary.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .plan import SamplePlan
from .values import Emission, Timeline, money
from .vocabulary import (
    ACCOUNT_COGS,
    ACCOUNT_SALES,
    CURRENCY,
    TERMS,
    TIME_ZONES,
    USER,
    USER_NAME,
)


def build_contacts(sample: SamplePlan, timeline: Timeline, emission: Emission) -> dict[str, Any]:
    """A customer or vendor; each revision changes its phone or notes, as edits in Zoho do."""
    index = timeline.head.index
    contact = sample.contacts[index]
    kind = "vendor" if contact.vendor else "customer"
    phone = contact.phone if emission.version % 2 == 0 else contact.phone.replace(" 555 0", " 555 9")
    common = {
        "contact_id": sample.record_id("contacts", index),
        "contact_name": contact.name,
        "company_name": contact.name,
        "website": "",
        "language_code": "",
        "contact_type": kind,
        "status": "active",
        "customer_sub_type": "business",
        "source": "api",
        "is_linked_with_zohocrm": False,
        "payment_terms": 30,
        "payment_terms_label": "Net 30",
        "currency_id": sample.fixed_id(CURRENCY),
        "currency_code": "USD",
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email,
        "phone": phone,
        "mobile": "",
        "portal_status": "disabled",
        "created_time": sample.timestamp(timeline.head.created),
        "last_modified_time": sample.timestamp(emission.modified),
        "custom_fields": [],
        "custom_field_hash": {},
        "tags": [],
        "ach_supported": False,
    }
    if emission.form == "list":
        return {
            **common,
            "customer_name": contact.name, "vendor_name": contact.name, "language_code_formatted": "",
            "contact_type_formatted": "Vendors" if contact.vendor else "Customers",
            "payment_terms_id": sample.fixed_id(TERMS), "twitter": "", "facebook": "",
            "portal_status_formatted": "Disabled", "track_1099": False,
            "created_time_formatted": f"{timeline.head.created:%d %b %Y}",
            "last_modified_time_formatted": f"{emission.modified:%d %b %Y}",
            "contactperson_custom_fields": [], "has_attachment": False,
        }
    address = sample.address(contact, detail=True)
    return {
        **common,
        "contact_tax_information": "", "designation": "", "department": "",
        "is_bcy_only_contact": True, "contact_salutation": "", "photo_url": "",
        "has_transaction": True, "documents": [], "twitter": "", "facebook": "",
        "payment_terms_id": sample.fixed_id(TERMS), "lock_details": {"can_lock": False},
        "locked_actions": [], "currency_symbol": "$", "price_precision": 2, "exchange_rate": "",
        "opening_balance_amount": 0, "opening_balance_amount_bcy": "", "payment_reminder_enabled": True,
        "track_1099": False, "tax_id_type": "", "tax_id_value": "", "sales_channel": "direct_sales",
        "entity_address_id": sample.record_id("contacts", index, 4),
        "billing_address": {"address_id": sample.record_id("contacts", index, 1), **address},
        "shipping_address": {"address_id": sample.record_id("contacts", index, 2), **address},
        "contact_persons": [{
            "contact_person_id": sample.record_id("contacts", index, 3), "salutation": "",
            "first_name": contact.first_name, "last_name": contact.last_name, "email": contact.email,
            "phone": phone, "mobile": "", "designation": "", "department": "",
            "is_primary_contact": True, "communication_preference": {"is_email_enabled": True},
        }],
        "addresses": [], "pricebook_id": "", "cards": [], "bank_accounts": [],
        "notes": "" if emission.version == 0 else f"Updated in review {emission.version}",
        "created_date": f"{timeline.head.created:%d %b %Y}", "created_by_name": USER_NAME,
        "created_by_id": sample.fixed_id(USER), "last_modified_by_id": sample.fixed_id(USER),
    }


def build_items(sample: SamplePlan, timeline: Timeline, emission: Emission) -> dict[str, Any]:
    """An item at its sales rate as of the emission's session (each update is a price rise)."""
    index = timeline.head.index
    item = sample.items[index]
    rate = money(item.rate_cents[emission.session])
    purchase = money(item.purchase_cents)
    common = {
        "item_id": sample.record_id("items", index),
        "name": item.name,
        "unit": item.unit,
        "status": "active",
        "source": "api",
        "is_linked_with_zohocrm": False,
        "zcrm_product_id": "",
        "description": item.description,
        "rate": rate,
        "tax_id": "",
        "tax_name": "",
        "tax_percentage": 0 if index % 4 else "",
        "purchase_account_id": sample.fixed_id(ACCOUNT_COGS) if item.kind != "sales" else "",
        "purchase_account_name": "Cost of Goods Sold" if item.kind != "sales" else "",
        "account_id": sample.fixed_id(ACCOUNT_SALES),
        "account_name": "Sales",
        "purchase_description": "",
        "purchase_rate": purchase,
        "can_be_sold": item.kind != "purchases",
        "can_be_purchased": item.kind != "sales",
        "track_inventory": False,
        "item_type": item.kind,
        "product_type": "service" if item.hourly else "goods",
        "sku": item.sku,
        "image_name": "",
        "image_type": "",
        "image_document_id": "",
        "created_time": sample.timestamp(timeline.head.created),
        "last_modified_time": sample.timestamp(emission.modified),
        "product_subtype": "",
        "tags": [],
    }
    if emission.form == "list":
        return {**common, "item_name": item.name, "has_attachment": False, "purpose_of_use": "", "vendor_name": ""}
    return {
        **common,
        "group_id": "", "brand": "", "manufacturer": "", "item_code": {}, "crm_owner_id": "",
        "unit_id": sample.record_id("items", index, 1), "tax_type": "", "tax_status": "",
        "is_default_tax_applied": False, "documents": [], "pricebook_rate": rate, "pricing_scheme": "unit",
        "price_brackets": [], "default_price_brackets": [{"start_quantity": 1, "end_quantity": 1, "pricebook_rate": rate}],
        "sales_rate": rate, "sales_margin": "", "created_at": timeline.head.created.date().isoformat(),
        "offline_created_date_with_time": "", "minimum_order_quantity": "", "maximum_order_quantity": "",
        "lock_details": {"can_lock": False}, "locked_actions": [], "locked_fields": {},
        "custom_fields": [], "custom_field_hash": {}, "is_fulfillable": False,
        "sales_channels": ["direct_sales"] if item.kind != "purchases" else [],
        "is_modifier_item": False, "integration_references": [], "has_variant": False,
    }


def build_organization(sample: SamplePlan) -> dict[str, Any]:
    """The one organization, as ``GET /organizations`` lists it (no timestamps there)."""
    created = sample.sessions[0].window_start.date() - timedelta(days=400)
    return {
        "organization_id": sample.organization_id,
        "name": "Northwind Sample Co",
        "contact_name": USER_NAME,
        "email": "books@northwind-sample.example.com",
        "is_default_org": True,
        "language_code": "en",
        "fiscal_year_start_month": "1",
        "account_created_date": created.isoformat(),
        "time_zone": TIME_ZONES.get(sample.offset, "Etc/UTC"),
        "is_dst_active": sample.offset == "-0400",
        "date_format": "MM/dd/yyyy",
        "field_separator": ",",
        "industry_type": "Technology",
        "industry_size": "11-50",
        "company_id_label": "",
        "company_id_value": "",
        "tax_id_label": "",
        "tax_id_value": "",
        "currency_id": sample.fixed_id(CURRENCY),
        "currency_code": "USD",
        "currency_symbol": "$",
        "currency_format": "###,##0.00",
        "price_precision": 2,
        "plan_type": 3,
        "plan_name": "Professional",
        "plan_period": "Month",
        "country_code": "US",
        "country_name": "U.S.A",
        "portal_name": "northwindsample",
        "org_settings": {"is_org_active": True},
    }
