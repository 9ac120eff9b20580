"""The words and numbers the sample organisation is made of: its entities, the ids of things that
are not records here (currency, accounts, templates, taxes, the user), names, cities, items,
taxes, status flows and number formats; stdlib only, imports nothing of json2db_sync.
"""

from __future__ import annotations

SAMPLE_ENTITIES: tuple[str, ...] = (
    "contacts",
    "items",
    "organizations",
    "customerpayments",
    "vendorpayments",
    "invoices",
    "bills",
    "salesorders",
    "purchaseorders",
    "creditnotes",
)


ID_FIELDS: dict[str, str] = {
    "contacts": "contact_id",
    "items": "item_id",
    "organizations": "organization_id",
    "customerpayments": "payment_id",
    "vendorpayments": "payment_id",
    "invoices": "invoice_id",
    "bills": "bill_id",
    "salesorders": "salesorder_id",
    "purchaseorders": "purchaseorder_id",
    "creditnotes": "creditnote_id",
}


DOCUMENT_ENTITIES: tuple[str, ...] = ("invoices", "bills", "salesorders", "purchaseorders", "creditnotes")


SESSION_FORMAT = "%Y-%m-%d_%H-%M-%S"


SALES_DOCS = frozenset({"invoices", "salesorders", "creditnotes"})


def entity_counts(invoices: int) -> dict[str, int]:
    """Distinct records per entity for ``invoices`` invoices (the scale every other count follows)."""
    bills = max(1, invoices // 2)
    return {
        "contacts": max(5, invoices // 10),
        "items": max(5, invoices // 20),
        "organizations": 1,
        "customerpayments": max(1, invoices // 2),
        "vendorpayments": max(1, bills // 2),
        "invoices": invoices,
        "bills": bills,
        "salesorders": max(1, invoices // 4),
        "purchaseorders": max(1, invoices // 4),
        "creditnotes": max(1, invoices // 10),
    }


# Ids that are not records of their own (currency, accounts, templates, the user).
CURRENCY = 97
ACCOUNT_SALES = 388
ACCOUNT_RECEIVABLE = 364
ACCOUNT_PAYABLE = 373
ACCOUNT_UNDEPOSITED = 358
ACCOUNT_COGS = 34003
ACCOUNT_IT = 427
TEMPLATE_INVOICE = 17001
TEMPLATE_CREDITNOTE = 17005
TEMPLATE_PO = 17007
TEMPLATE_SO = 17003
TEMPLATE_BILL = 31017
TEMPLATE_PAYMENT = 39005
USER = 93001
TERMS = 93081
TAX_SALES = 57112
TAX_STATE = 57118


USER_NAME = "Jordan Ellis"


COMPANY_WORDS = (
    "Acme", "Beta", "Gamma", "Northwind", "Bluebird", "Cedar", "Summit", "Harbor", "Ironwood",
    "Lakeside", "Maple", "Orion", "Pioneer", "Redstone", "Silverline", "Tidewater", "Union",
    "Vertex", "Willow", "Zenith",
)
COMPANY_NOUNS = (
    "Supplies", "Partners", "Logistics", "Foods", "Systems", "Design", "Builders", "Labs",
    "Traders", "Media", "Health", "Energy", "Consulting", "Outfitters", "Analytics",
)
COMPANY_SUFFIXES = ("Corp", "Ltd", "LLC", "Inc", "Co", "Group")
FIRST_NAMES = (
    "Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Harper", "Jamie", "Kendall", "Logan",
    "Morgan", "Parker", "Quinn", "Reese", "Riley", "Rowan", "Sage", "Taylor", "Skyler", "Drew",
)
LAST_NAMES = (
    "Adams", "Brooks", "Carter", "Diaz", "Evans", "Foster", "Garcia", "Hayes", "Ito", "Jensen",
    "Kim", "Lopez", "Miller", "Nguyen", "Ortiz", "Patel", "Reed", "Silva", "Turner", "Young",
)
CITIES = (
    ("New York", "NY", "10001", "212"), ("Boston", "MA", "02108", "617"),
    ("Chicago", "IL", "60601", "312"), ("Austin", "TX", "73301", "512"),
    ("Denver", "CO", "80202", "303"), ("Seattle", "WA", "98101", "206"),
    ("Atlanta", "GA", "30303", "404"), ("Portland", "OR", "97201", "503"),
    ("Phoenix", "AZ", "85001", "602"), ("Columbus", "OH", "43004", "614"),
)
STREETS = ("Main St", "Oak Ave", "Pine Rd", "Market St", "Elm St", "Harbor Blvd", "Park Ave", "2nd St")
REGIONS = ("East", "West", "North", "South")


# name, unit, base rate in cents, hourly (whole-dollar rates, quarter-hour quantities), description
ITEM_BASES = (
    ("Software License", "license", 29900, False, "Annual software license"),
    ("Consulting Services", "hour", 15000, True, "Hourly consulting"),
    ("Support Plan", "month", 4900, False, "Monthly support plan"),
    ("Laptop Stand", "pcs", 3499, False, "Aluminium laptop stand"),
    ("Office Chair", "pcs", 18950, False, "Ergonomic office chair"),
    ("Training Session", "hour", 9500, True, "On-site training"),
    ("Printer Paper", "box", 2375, False, "A4 paper, 5 reams"),
    ("Network Switch", "pcs", 21999, False, "24-port managed switch"),
    ("Cloud Storage", "month", 1299, False, "1 TB cloud storage"),
    ("Installation", "hour", 8000, True, "Installation and setup"),
    ("USB-C Cable", "pcs", 1199, False, "2 m USB-C cable"),
    ("Design Work", "hour", 12000, True, "Graphic design"),
)
ITEM_VARIANTS = ("Standard", "Pro", "Plus", "Lite", "XL", "Mini", "Max", "Basic")


# tax id, name, percentage in thousandths of a percent (8875 = 8.875 %)
TAXES = ((TAX_SALES, "Sales Tax", 8875), (TAX_STATE, "State Tax", 4000))


STATUS_FLOW: dict[str, tuple[str, ...]] = {
    "invoices": ("draft", "sent"),
    "bills": ("draft", "open"),
    "salesorders": ("draft", "open", "fulfilled"),
    "purchaseorders": ("draft", "open", "billed"),
    "creditnotes": ("draft", "open"),
}
NUMBER_FORMAT: dict[str, str] = {
    "invoices": "INV-{:06d}",
    "bills": "BILL-{:05d}",
    "salesorders": "SO-{:05d}",
    "purchaseorders": "PO-{:05d}",
    "creditnotes": "CN-{:05d}",
}


TIME_ZONES = {"-0400": "America/New_York", "-0500": "America/New_York", "+0000": "Europe/London",
               "+0100": "Europe/London", "+0200": "Europe/Berlin", "+0530": "Asia/Kolkata"}
