"""Realistic Zoho Books api_sync session trees for demos, tests and benchmarks; stdlib only.

``generate_sample_data(out_dir)`` writes what the api_sync tool would have written over the
last few days into a sessions folder::

    <out_dir>/sync_session_2026-06-09_16-48-58/
        raw_json/2026-06-09_16-48-58/invoices.json   (a Zoho list envelope or a plain array)
        raw_json/2026-06-09_16-53-58/customerpayments.json   (some sessions have a second folder)
        sync_metadata_invoices.json                  (metadata, never data)

The records are shaped like the real captures in ``shared/real_samples``: 18-digit id strings,
``2026-06-09T16:48:58-0400`` timestamps, ``""`` for unset values (also in numeric fields and
where other records hold an array), list-form records (reduced field set, no ``line_items``)
next to detail-form records, and later sessions re-emitting records, some of them updated
(newer ``last_modified_time``, a new status or balance, a line added or removed). The numbers
add up the way a finance user checks them: line totals, sub totals, tax, totals, balances after
payments, and every reference (customer, vendor, item, invoice, bill) resolves.

Everything is a pure function of ``seed`` and ``now``: each record draws from its own
``random.Random`` keyed by (seed, entity, index), so a record can be rebuilt in any session
without keeping earlier ones. Only small catalogues (contacts, items) and lists of record
numbers per session stay in memory; records are written to disk one at a time.
"""

from __future__ import annotations

import json
import logging
import random
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .progress import ProgressCallback, ProgressEvent, null_progress

logger = logging.getLogger(__name__)

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

# Entities that some sessions write into a second, later timestamp folder (the guide's tree
# shows sessions with two), so that consumers meet that layout too.
_LATE_FOLDER_ENTITIES = frozenset({"customerpayments", "vendorpayments"})

_SALES_DOCS = frozenset({"invoices", "salesorders", "creditnotes"})
_MASK64 = (1 << 64) - 1
_MAX_SESSIONS_PER_DAY = 144  # sessions at least 10 minutes apart

# Random streams of one record (part of its generator key).
_EVENTS, _LINES, _PAYMENT, _CATALOGUE = 2, 3, 4, 5
_LINES_VERSION = 16  # + version number
_CACHE_LIMIT = 4096  # memo entries kept for the records being written right now
_OPEN_FILES = 128  # session files of one entity open at once

# Probabilities of what happens to a record in a later session.
_P_UPDATE = 0.2
_P_RESEND = 0.15

# Ids that are not records of their own (currency, accounts, templates, the user).
_CURRENCY = 97
_ACCOUNT_SALES = 388
_ACCOUNT_RECEIVABLE = 364
_ACCOUNT_PAYABLE = 373
_ACCOUNT_UNDEPOSITED = 358
_ACCOUNT_COGS = 34003
_ACCOUNT_IT = 427
_TEMPLATE_INVOICE = 17001
_TEMPLATE_CREDITNOTE = 17005
_TEMPLATE_PO = 17007
_TEMPLATE_SO = 17003
_TEMPLATE_BILL = 31017
_TEMPLATE_PAYMENT = 39005
_USER = 93001
_TERMS = 93081
_TAX_SALES = 57112
_TAX_STATE = 57118
_FIRST_RECORD_SEQ = 100000
_SEQ_STRIDE = 16  # a record's id, then its line items and addresses

_USER_NAME = "Jordan Ellis"

_COMPANY_WORDS = (
    "Acme", "Beta", "Gamma", "Northwind", "Bluebird", "Cedar", "Summit", "Harbor", "Ironwood",
    "Lakeside", "Maple", "Orion", "Pioneer", "Redstone", "Silverline", "Tidewater", "Union",
    "Vertex", "Willow", "Zenith",
)
_COMPANY_NOUNS = (
    "Supplies", "Partners", "Logistics", "Foods", "Systems", "Design", "Builders", "Labs",
    "Traders", "Media", "Health", "Energy", "Consulting", "Outfitters", "Analytics",
)
_COMPANY_SUFFIXES = ("Corp", "Ltd", "LLC", "Inc", "Co", "Group")
_FIRST_NAMES = (
    "Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Harper", "Jamie", "Kendall", "Logan",
    "Morgan", "Parker", "Quinn", "Reese", "Riley", "Rowan", "Sage", "Taylor", "Skyler", "Drew",
)
_LAST_NAMES = (
    "Adams", "Brooks", "Carter", "Diaz", "Evans", "Foster", "Garcia", "Hayes", "Ito", "Jensen",
    "Kim", "Lopez", "Miller", "Nguyen", "Ortiz", "Patel", "Reed", "Silva", "Turner", "Young",
)
_CITIES = (
    ("New York", "NY", "10001", "212"), ("Boston", "MA", "02108", "617"),
    ("Chicago", "IL", "60601", "312"), ("Austin", "TX", "73301", "512"),
    ("Denver", "CO", "80202", "303"), ("Seattle", "WA", "98101", "206"),
    ("Atlanta", "GA", "30303", "404"), ("Portland", "OR", "97201", "503"),
    ("Phoenix", "AZ", "85001", "602"), ("Columbus", "OH", "43004", "614"),
)
_STREETS = ("Main St", "Oak Ave", "Pine Rd", "Market St", "Elm St", "Harbor Blvd", "Park Ave", "2nd St")
_REGIONS = ("East", "West", "North", "South")

# name, unit, base rate in cents, hourly (whole-dollar rates, quarter-hour quantities), description
_ITEM_BASES = (
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
_ITEM_VARIANTS = ("Standard", "Pro", "Plus", "Lite", "XL", "Mini", "Max", "Basic")

# tax id, name, percentage in thousandths of a percent (8875 = 8.875 %)
_TAXES = ((_TAX_SALES, "Sales Tax", 8875), (_TAX_STATE, "State Tax", 4000))

_STATUS_FLOW: dict[str, tuple[str, ...]] = {
    "invoices": ("draft", "sent"),
    "bills": ("draft", "open"),
    "salesorders": ("draft", "open", "fulfilled"),
    "purchaseorders": ("draft", "open", "billed"),
    "creditnotes": ("draft", "open"),
}
_NUMBER_FORMAT: dict[str, str] = {
    "invoices": "INV-{:06d}",
    "bills": "BILL-{:05d}",
    "salesorders": "SO-{:05d}",
    "purchaseorders": "PO-{:05d}",
    "creditnotes": "CN-{:05d}",
}
_REPORT_NAMES: dict[str, tuple[str, str, str, str]] = {
    # report_name, applied_filter, sort_column, sort_order (as the real list responses say)
    "contacts": ("Contacts", "Status.All", "last_modified_time", "A"),
    "items": ("Items", "Status.All", "name", "A"),
    "organizations": ("Organizations", "Status.All", "name", "A"),
    "customerpayments": ("Payments Received", "PaymentMode.All", "date", "D"),
    "vendorpayments": ("Payments Made", "PaymentMode.All", "date", "D"),
    "invoices": ("Invoices", "Status.All", "created_time", "A"),
    "bills": ("Bills", "Status.All", "created_time", "A"),
    "salesorders": ("Sales Orders", "Status.All", "created_time", "A"),
    "purchaseorders": ("Purchase Orders", "Status.All", "created_time", "A"),
    "creditnotes": ("Credit Notes", "Status.All", "created_time", "A"),
}
_TIME_ZONES = {"-0400": "America/New_York", "-0500": "America/New_York", "+0000": "Europe/London",
               "+0100": "Europe/London", "+0200": "Europe/Berlin", "+0530": "Asia/Kolkata"}


def generate_sample_data(
    out_dir: str | Path,
    *,
    days: int = 3,
    seed: int = 42,
    now: datetime | None = None,
    invoices: int = 40,
    sessions_per_day: int = 1,
    entities: Iterable[str] | None = None,
    progress: ProgressCallback = null_progress,
) -> dict[str, Any]:
    """Write ``days * sessions_per_day`` api_sync sessions into ``out_dir`` and summarise them.

    The sessions are spread over the ``days`` before ``now`` (default: the current local time),
    the newest one within the last hour or two, so both the default cutoff (30 days) and a
    24-hour freshness check see them. The same ``seed`` and ``now`` give byte-identical files.

    Args:
        out_dir: the sessions folder (created if missing), e.g. ``../api_sync/data/sync_sessions``.
        days: how many days back the sessions reach (at least 1).
        seed: the seed of every random choice.
        now: the reference time; naive means local time. An aware ``now`` gives its wall-clock
            time to the folder names and its UTC offset to the records' timestamps.
        invoices: distinct invoices across all sessions; the other entities scale from it.
        sessions_per_day: sessions per day (1 to 144).
        entities: which of ``SAMPLE_ENTITIES`` to write (default all); references still point
            at the records the full set would hold.
        progress: called with ``ProgressEvent("sample_data", done, total, entity)`` as the
            records are worked out (60,000 invoices take half a minute).

    Returns:
        A JSON-serialisable dict: ``out_dir``, ``sessions`` (folder names, oldest first),
        ``data_files`` and ``metadata_files`` (paths relative to ``out_dir``), ``files_written``,
        ``records`` (records written per entity, re-emissions included), ``distinct_ids``
        (per entity), ``total_records``, ``seed``, ``days``, ``now``.

    Raises:
        ValueError: a count out of range or an entity that is not in ``SAMPLE_ENTITIES``.
    """
    chosen = _check_arguments(days, invoices, sessions_per_day, entities)
    generator = _Generator(seed=seed, now=now, days=days, sessions_per_day=sessions_per_day, invoices=invoices)
    root = Path(out_dir)
    holds_real = root.is_dir() and not (root / SAMPLE_MARKER).exists() and any(root.glob("sync_session_*"))
    if holds_real:
        raise ValueError(
            f"{root} already holds sync sessions that are not sample data; fake invoices there would "
            "be loaded with the real ones. Choose another folder (--out DIR / out_dir=...)"
        )
    root.mkdir(parents=True, exist_ok=True)
    (root / SAMPLE_MARKER).write_text("sample data written by json2db-sync sample-data\n")
    return generator.write(root, chosen, progress)


# Marks a folder as holding generated sample data (so adding more there is allowed).
SAMPLE_MARKER = ".json2db_sample_data"


def _check_arguments(
    days: int, invoices: int, sessions_per_day: int, entities: Iterable[str] | None
) -> tuple[str, ...]:
    """Reject values that would give no sessions or colliding folder names, before writing anything."""
    for name, value, low, high in (
        ("days", days, 1, None),
        ("invoices", invoices, 1, None),
        ("sessions_per_day", sessions_per_day, 1, _MAX_SESSIONS_PER_DAY),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"sample data: {name}={value!r} is not a whole number; give an integer >= {low}")
        if value < low or (high is not None and value > high):
            accepted = f"{low}..{high}" if high is not None else f">= {low}"
            raise ValueError(f"sample data: {name}={value!r} is out of range; accepted: {accepted}")
    if entities is None:
        return SAMPLE_ENTITIES
    wanted = list(entities) if not isinstance(entities, str) else [entities]
    unknown = [name for name in wanted if name not in SAMPLE_ENTITIES]
    if unknown:
        raise ValueError(
            f"sample data: unknown entit{'y' if len(unknown) == 1 else 'ies'} {', '.join(map(repr, unknown))}; "
            f"choose from {', '.join(SAMPLE_ENTITIES)}"
        )
    if not wanted:
        raise ValueError(f"sample data: entities is empty; choose from {', '.join(SAMPLE_ENTITIES)} or leave it out for all")
    return tuple(name for name in SAMPLE_ENTITIES if name in wanted)


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


# --------------------------------------------------------------------------- internal values


@dataclass(frozen=True, slots=True)
class _Session:
    """One sync session: its folder time and the window its records' changes fall into."""

    index: int
    time: datetime
    window_start: datetime
    late_time: datetime | None  # second timestamp folder for _LATE_FOLDER_ENTITIES

    @property
    def name(self) -> str:
        return f"sync_session_{self.time.strftime(SESSION_FORMAT)}"


@dataclass(frozen=True, slots=True)
class _Emission:
    """A record as one session carries it: which form, and its state at that time."""

    session: int
    form: str  # "detail" or "list"
    status: str
    version: int  # line-item version for documents, revision for the others
    paid: bool
    modified: datetime


@dataclass(frozen=True, slots=True)
class _Payment:
    """A payment applied to one invoice or bill: when, and how much of its total."""

    index: int
    session: int
    time: datetime
    permille: int  # share of the document's total applied (1000 = all of it)
    unused_cents: int  # paid on top of what was applied (customer payments only)
    mode: str


@dataclass(frozen=True, slots=True)
class _Head:
    """What a document is at creation: when, for whom."""

    index: int
    session: int
    created: datetime
    contact: int


@dataclass(frozen=True, slots=True)
class _Timeline:
    """Every appearance of one record across the sessions, in order."""

    head: _Head
    payment: _Payment | None
    emissions: tuple[_Emission, ...]


@dataclass(frozen=True, slots=True)
class _Line:
    """One line item: ``quarters`` is the quantity in quarter units so that totals stay exact."""

    number: int
    item: int  # -1 for a non-catalogue bill line
    quarters: int
    rate_cents: int
    tax: int  # index into _TAXES, -1 for none
    blank_tax: bool  # untaxed line that says tax_percentage "" rather than 0


@dataclass(frozen=True, slots=True)
class _Totals:
    """A document's money, in cents."""

    line_totals: tuple[int, ...]
    line_taxes: tuple[int, ...]
    sub_total: int
    tax_total: int
    total: int


@dataclass(frozen=True, slots=True)
class _Contact:
    name: str
    first_name: str
    last_name: str
    email: str
    phone: str
    street: str
    city: str
    state: str
    zip: str
    vendor: bool


@dataclass(frozen=True, slots=True)
class _Item:
    name: str
    unit: str
    description: str
    rate_cents: tuple[int, ...]  # sales rate as of each session (price rises are updates)
    purchase_cents: int
    hourly: bool
    kind: str  # "sales", "sales_and_purchases", "purchases"
    sku: str


# --------------------------------------------------------------------------- small helpers


def _money(cents: int) -> int | float:
    """Zoho (JS-serialised) writes 598 for whole amounts and 149.97 otherwise."""
    return cents // 100 if cents % 100 == 0 else cents / 100


def _quantity(quarters: int) -> int | float:
    return quarters // 4 if quarters % 4 == 0 else quarters / 4


def _tax_cents(amount_cents: int, milli_percent: int) -> int:
    """Tax rounded half up to the cent, in integers so that no float ever decides a cent."""
    return (amount_cents * milli_percent * 2 + 100000) // 200000


def _percent(milli_percent: int) -> int | float:
    return milli_percent // 1000 if milli_percent % 1000 == 0 else milli_percent / 1000


def _format_offset(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"


def _below(rng: random.Random, n: int) -> int:
    """0..n-1 from one ``random()`` call: randrange is several times slower and this runs per line."""
    return int(rng.random() * n)


def _pick_time(rng: random.Random, low: datetime, high: datetime) -> datetime:
    """A whole second strictly inside (low, high) when there is room, else just after low."""
    span = int((high - low).total_seconds())
    if span <= 1:
        return low + timedelta(seconds=1)
    return low + timedelta(seconds=1 + _below(rng, span - 1))


_ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False)


class _Writer:
    """Streams one JSON array (bare or inside a list envelope) record by record."""

    def __init__(self, path: Path, entity: str, envelope: bool) -> None:
        self._handle = path.open("w", encoding="utf-8", newline="\n")
        self._entity = entity
        self._envelope = envelope
        self.count = 0
        if envelope:
            self._handle.write(f'{{"code": 0, "message": "success", "{entity}": [')
        else:
            self._handle.write("[")

    def add(self, record: dict[str, Any]) -> None:
        self._handle.write(",\n  " if self.count else "\n  ")
        self._handle.write(_ENCODER.encode(record))
        self.count += 1

    def close(self) -> None:
        self._handle.write("\n]" if self.count else "]")
        if self._envelope:
            report, applied, column, order = _REPORT_NAMES[self._entity]
            page_context = {
                "page": 1, "per_page": 200, "has_more_page": False, "report_name": report,
                "applied_filter": applied, "custom_fields": [], "sort_column": column, "sort_order": order,
            }
            self._handle.write(f', "page_context": {json.dumps(page_context)}}}')
        self._handle.write("\n")
        self._handle.close()


# --------------------------------------------------------------------------- the generator


class _Generator:
    """Plans and writes one sample data set; every record is a pure function of its key."""

    def __init__(
        self, *, seed: int, now: datetime | None, days: int, sessions_per_day: int, invoices: int
    ) -> None:
        current = datetime.now() if now is None else now
        if current.tzinfo is not None:
            offset = current.utcoffset()
            current = current.replace(tzinfo=None)
        else:
            offset = current.astimezone().utcoffset()
        self.now = current.replace(microsecond=0)
        self.offset = _format_offset(offset)
        self.seed = seed
        self.days = days
        self._seed_key = (seed & _MASK64) << 64
        self.counts = entity_counts(invoices)
        master = random.Random(seed)
        self.prefix = str(master.randrange(100000, 1000000))
        self._fixed_ids: dict[int, str] = {}
        self.organization_id = str(master.randrange(600000000, 1000000000))
        self.sessions = self._plan_sessions(master, days * sessions_per_day)
        self._seq_base = self._plan_id_ranges()
        self._first = {entity: self._plan_creation(entity) for entity in SAMPLE_ENTITIES}
        self._heads: dict[tuple[str, int], _Head] = {}
        self._money_memo: tuple[tuple[str, int, int], list[_Line], _Totals] | None = None
        self._plans: dict[tuple[str, int], _Payment] = {}
        self._contacts = [self._make_contact(i) for i in range(self.counts["contacts"])]
        self._items = [self._make_item(i) for i in range(self.counts["items"])]

    # ------------------------------------------------------------------ planning

    def _plan_sessions(self, master: random.Random, count: int) -> list[_Session]:
        """Sessions in equal slots over the last ``days``, each a little before its slot ends."""
        total = timedelta(days=self.days)
        interval = total / count
        lead = min(timedelta(hours=1), interval / 4)
        jitter = int(min(timedelta(minutes=30), interval / 4).total_seconds())
        late = max(timedelta(seconds=1), min(timedelta(minutes=5), lead / 2))
        origin = self.now - total
        sessions: list[_Session] = []
        window_start = origin
        for index in range(count):
            slot_end = origin + interval * (index + 1)
            when = (slot_end - lead - timedelta(seconds=master.randint(0, jitter))).replace(microsecond=0)
            late_time = (when + late).replace(microsecond=0) if index % 3 == 1 else None
            sessions.append(_Session(index, when, window_start, late_time))
            window_start = when
        return sessions

    def _plan_id_ranges(self) -> dict[str, int]:
        """Consecutive id ranges per entity, so ids look like one org's sequence and never clash."""
        bases: dict[str, int] = {}
        seq = _FIRST_RECORD_SEQ
        for entity in SAMPLE_ENTITIES:
            bases[entity] = seq
            seq += (self.counts[entity] + 1) * _SEQ_STRIDE
        return bases

    def _plan_creation(self, entity: str) -> list[int]:
        """First record index created in each session (plus the end), for bisecting.

        Documents are spread evenly; most contacts and items exist from the first session
        (the initial full sync) and the rest arrive later, always before anything uses them.
        """
        n = self.counts[entity]
        sessions = len(self.sessions)
        if entity in ("contacts", "items") and sessions > 1:
            initial = min(n, max(3, -(-7 * n // 10)))
            rest = n - initial
            return [0] + [initial + -(-(c - 1) * rest // (sessions - 1)) for c in range(1, sessions)] + [n]
        return [-(-c * n // sessions) for c in range(sessions)] + [n]

    def _rng(self, entity: str, index: int, stream: int) -> random.Random:
        """The generator of one record's one aspect: independent of every other record."""
        key = self._seed_key | (SAMPLE_ENTITIES.index(entity) << 56) | (stream << 48) | index
        return random.Random(key)

    def _id(self, entity: str, index: int, offset: int = 0) -> str:
        return f"{self.prefix}{self._seq_base[entity] + index * _SEQ_STRIDE + offset:012d}"

    def _fixed_id(self, number: int) -> str:
        """Ids of things that are not records here (currency, accounts, taxes, templates, the user)."""
        known = self._fixed_ids.get(number)
        if known is None:
            known = self._fixed_ids[number] = f"{self.prefix}{number:012d}"
        return known

    def _time(self, moment: datetime) -> str:
        return f"{moment:%Y-%m-%dT%H:%M:%S}{self.offset}"

    def _created_session(self, entity: str, index: int) -> int:
        return bisect_right(self._first[entity], index) - 1

    def _created_time(self, entity: str, index: int, session: int) -> datetime:
        """Creation times rise with the id inside a session, as Zoho's sequential ids do."""
        first = self._first[entity]
        position = index - first[session] + 1
        count = first[session + 1] - first[session] + 1
        window = self.sessions[session]
        span = int((window.time - window.window_start).total_seconds())
        return window.window_start + timedelta(seconds=max(1, span * position // count))

    def _window(self, session: int) -> tuple[datetime, datetime]:
        window = self.sessions[session]
        return window.window_start, window.time

    # ------------------------------------------------------------------ catalogues

    def _make_contact(self, index: int) -> _Contact:
        rng = self._rng("contacts", index, _CATALOGUE)
        base = f"{_COMPANY_WORDS[index % 20]} {_COMPANY_NOUNS[(index // 20) % 15]}"
        name = f"{base} {_COMPANY_SUFFIXES[(index // 300) % 6]}"
        if index >= 1800:
            name = f"{name} {index // 1800 + 1}"
        first = rng.choice(_FIRST_NAMES)
        last = rng.choice(_LAST_NAMES)
        city, state, zip_code, area = rng.choice(_CITIES)
        domain = base.lower().replace(" ", "") + ".example.com"
        return _Contact(
            name=name,
            first_name=first,
            last_name=last,
            email=f"{first.lower()}.{last.lower()}@{domain}",
            phone=f"+1 {area} 555 {rng.randint(100, 199):04d}",
            street=f"{rng.randint(1, 999)} {rng.choice(_STREETS)}",
            city=city,
            state=state,
            zip=zip_code,
            vendor=index % 3 == 2,
        )

    def _make_item(self, index: int) -> _Item:
        rng = self._rng("items", index, _CATALOGUE)
        name, unit, base_cents, hourly, description = _ITEM_BASES[index % len(_ITEM_BASES)]
        variant = index // len(_ITEM_BASES)
        if variant:
            name = f"{name} {_ITEM_VARIANTS[(variant - 1) % len(_ITEM_VARIANTS)]}"
            if variant > len(_ITEM_VARIANTS):
                name = f"{name} {(variant - 1) // len(_ITEM_VARIANTS) + 1}"
        cents = base_cents * rng.randint(80, 150) // 100
        if hourly:
            cents = max(100, cents // 100 * 100)
        kind = ("sales", "sales_and_purchases", "purchases")[index % 3]
        purchase = 0 if kind == "sales" else (cents * 60 // 100 if not hourly else max(100, cents * 60 // 10000 * 100))
        timeline = self._simple_timeline("items", index)
        rates: list[int] = []
        for session in range(len(self.sessions)):
            version = max((e.version for e in timeline.emissions if e.session <= session), default=0)
            rates.append(self._item_rate(cents, version, hourly))
        sku = f"SKU-{index + 1:05d}"
        return _Item(name, unit, description, tuple(rates), purchase, hourly, kind, sku)

    @staticmethod
    def _item_rate(cents: int, version: int, hourly: bool) -> int:
        """Each item update is a 5 % price rise (whole dollars for hourly work)."""
        for _ in range(version):
            cents = cents * 105 // 100
            if hourly:
                cents = cents // 100 * 100
        return cents

    def _pick_contact(self, rng: random.Random, session: int, vendor: bool) -> int:
        """A customer (index % 3 != 2) or vendor (index % 3 == 2) that exists by ``session``."""
        available = self._first["contacts"][session + 1]
        if vendor:
            return _below(rng, available // 3) * 3 + 2
        choice = _below(rng, available - available // 3)
        return choice // 2 * 3 + choice % 2

    def _pick_item(self, rng: random.Random, session: int, sales: bool) -> int:
        """A sellable (kind index 0/1) or purchasable (1/2) item that exists by ``session``."""
        available = self._first["items"][session + 1]
        if sales:
            choice = _below(rng, available - available // 3)
            return choice // 2 * 3 + choice % 2
        choice = _below(rng, available - (available + 2) // 3)
        return choice // 2 * 3 + 1 + choice % 2

    # ------------------------------------------------------------------ timelines

    def _head(self, entity: str, index: int, rng: random.Random | None = None) -> _Head:
        """A document's creation; its contact is the first draw of the record's events stream."""
        key = (entity, index)
        head = self._heads.get(key)
        if head is None or rng is not None:
            session = self._created_session(entity, index)
            contact = self._pick_contact(rng or self._rng(entity, index, _EVENTS), session, vendor=entity not in _SALES_DOCS)
            head = _Head(index, session, self._created_time(entity, index, session), contact)
            if len(self._heads) >= _CACHE_LIMIT:
                self._heads.clear()
            self._heads[key] = head
        return head

    def _payment_of(self, entity: str, index: int) -> _Payment | None:
        """The payment that settles invoice/bill ``index``, if any (payment j pays document j*n/m)."""
        payments = "customerpayments" if entity == "invoices" else "vendorpayments"
        n, m = self.counts[entity], self.counts[payments]
        j = -(-index * m // n)
        if j >= m or j * n // m != index:
            return None
        return self._payment_plan(payments, j, self._head(entity, index))

    def _paid_document(self, payments: str, j: int) -> int:
        documents = "invoices" if payments == "customerpayments" else "bills"
        return j * self.counts[documents] // self.counts[payments]

    def _payment_plan(self, payments: str, j: int, head: _Head) -> _Payment:
        """When payment ``j`` is made and how much of its document it settles (memoised)."""
        key = (payments, j)
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) >= _CACHE_LIMIT:
                self._plans.clear()
            plan = self._plans[key] = self._make_payment_plan(payments, j, head)
        return plan

    def _make_payment_plan(self, payments: str, j: int, head: _Head) -> _Payment:
        rng = self._rng(payments, j, _PAYMENT)
        last = len(self.sessions) - 1
        # Same session, the next one, or any later one (most invoices are paid soon after).
        options = (head.session, head.session + 1, head.session + _below(rng, last - head.session + 1))
        session = head.session if head.session == last else options[_below(rng, 3)]
        low, high = self._window(session)
        time = _pick_time(rng, max(low, head.created), high)
        permille = 1000 if rng.random() < 0.75 else 300 + _below(rng, 601)
        unused = (500, 2000, 12550)[_below(rng, 3)] if payments == "customerpayments" and rng.random() < 0.1 else 0
        mode = ("check", "cash", "bank_transfer", "creditcard")[_below(rng, 4)]
        return _Payment(j, session, time, permille, unused, mode)

    def _document_timeline(self, entity: str, index: int) -> _Timeline:
        """Creation in detail form, then payments, status moves, line edits and plain re-sends."""
        rng = self._rng(entity, index, _EVENTS)
        head = self._head(entity, index, rng)
        payment = self._payment_of(entity, index) if entity in ("invoices", "bills") else None
        flow = _STATUS_FLOW[entity]
        step = 0 if payment is None and rng.random() < 0.3 else 1
        version = 0
        paid = payment is not None and payment.session == head.session
        modified = payment.time if paid and payment is not None else head.created
        emissions = [_Emission(head.session, "detail", flow[step], version, paid, modified)]
        for session in range(head.session + 1, len(self.sessions)):
            low, high = self._window(session)
            if payment is not None and payment.session == session:
                paid = True
                modified = payment.time
                form = "detail" if rng.random() < 0.3 else "list"
            else:
                roll = rng.random()
                if roll < _P_UPDATE:
                    modified = _pick_time(rng, low, high)
                    can_advance = step + 1 < len(flow)
                    # Paid documents keep their lines; closed orders too.
                    can_edit = payment is None and (can_advance or entity not in ("salesorders", "purchaseorders"))
                    if can_advance and (not can_edit or rng.random() < 0.5):
                        step += 1  # e.g. draft -> sent: list endpoints show the new status
                        form = "list"
                    elif can_edit:
                        version += 1  # a line added or removed: only the detail form shows it
                        form = "detail"
                    else:
                        form = "list"  # touched (a note, a reminder): only the time moves
                elif roll < _P_UPDATE + _P_RESEND:
                    form = "list"  # re-sent unchanged (overlapping sync windows)
                else:
                    continue
            emissions.append(_Emission(session, form, flow[step], version, paid, modified))
        return _Timeline(head, payment, tuple(emissions))

    def _simple_timeline(self, entity: str, index: int) -> _Timeline:
        """Contacts, items, payments: first seen in either form, then edits and re-sends."""
        if entity in ("customerpayments", "vendorpayments"):
            documents = "invoices" if entity == "customerpayments" else "bills"
            document = self._head(documents, self._paid_document(entity, index))
            plan = self._payment_plan(entity, index, document)
            head = _Head(index, plan.session, plan.time, document.contact)
        else:
            session = self._created_session(entity, index)
            head = _Head(index, session, self._created_time(entity, index, session), -1)
        rng = self._rng(entity, index, _EVENTS)
        form = "detail" if rng.random() < 0.5 else "list"
        status = "active" if entity in ("contacts", "items") else "paid"
        emissions = [_Emission(head.session, form, status, 0, False, head.created)]
        version = 0
        modified = head.created
        for session in range(head.session + 1, len(self.sessions)):
            low, high = self._window(session)
            roll = rng.random()
            if roll < _P_UPDATE * 0.75:
                version += 1
                modified = _pick_time(rng, low, high)
                form = "detail" if rng.random() < 0.5 else "list"
            elif roll < _P_UPDATE * 0.75 + _P_RESEND:
                form = "list"
            else:
                continue
            emissions.append(_Emission(session, form, status, version, False, modified))
        return _Timeline(head, None, tuple(emissions))

    def _timeline(self, entity: str, index: int) -> _Timeline:
        if entity in DOCUMENT_ENTITIES:
            return self._document_timeline(entity, index)
        return self._simple_timeline(entity, index)

    # ------------------------------------------------------------------ line items

    def _new_line(self, rng: random.Random, entity: str, session: int, number: int) -> _Line:
        sales = entity in _SALES_DOCS
        if entity == "bills" and rng.random() < 0.2:
            return _Line(number, -1, 4, (50 + _below(rng, 2451)) * 100, -1, rng.random() < 0.5)
        item_index = self._pick_item(rng, session, sales)
        item = self._items[item_index]
        # Goods: 1 to 16 units; hourly work: half hours up to 8 h (rates are whole dollars).
        quarters = (1 + _below(rng, 16)) * (2 if item.hourly else 4)
        rate = item.rate_cents[session] if sales else item.purchase_cents
        tax = -1
        if sales and rng.random() < 0.6:
            tax = 0 if rng.random() < 0.7 else 1
        elif not sales and rng.random() < 0.2:
            tax = 1
        return _Line(number, item_index, quarters, rate, tax, tax < 0 and rng.random() < 0.4)

    def _lines(self, entity: str, index: int, head: _Head, version: int) -> list[_Line]:
        """Lines as of ``version``: each later version removes one line or adds one (1 to 5 lines)."""
        rng = self._rng(entity, index, _LINES)
        lines = [self._new_line(rng, entity, head.session, number) for number in range(1, 2 + _below(rng, 5))]
        next_number = len(lines) + 1
        for step in range(1, version + 1):
            edit = self._rng(entity, index, _LINES_VERSION + step)
            if len(lines) == 5 or (len(lines) > 1 and edit.random() < 0.5):
                del lines[_below(edit, len(lines))]
            else:
                lines.append(self._new_line(edit, entity, head.session, next_number))
                next_number += 1
        return lines

    @staticmethod
    def _totals(lines: list[_Line]) -> _Totals:
        line_totals = tuple(line.rate_cents * line.quarters // 4 for line in lines)
        line_taxes = tuple(
            _tax_cents(total, _TAXES[line.tax][2]) if line.tax >= 0 else 0
            for line, total in zip(lines, line_totals)
        )
        sub_total = sum(line_totals)
        tax_total = sum(line_taxes)
        return _Totals(line_totals, line_taxes, sub_total, tax_total, sub_total + tax_total)

    # ------------------------------------------------------------------ writing

    def write(self, root: Path, entities: tuple[str, ...], progress: ProgressCallback = null_progress) -> dict[str, Any]:
        """Write entity by entity: each record's timeline is worked out once and every
        appearance goes straight into its session's file (a bounded number open at a time).

        ``progress`` counts records worked out (per group of open session files) against
        the total known in advance, so a bar can show an ETA."""
        groups = -(-len(self.sessions) // _OPEN_FILES)
        self._progress = progress
        self._progress_total = groups * sum(self._units(entity) for entity in entities)
        self._progress_done = 0
        records = dict.fromkeys(entities, 0)
        written: list[tuple[int, int, str, str]] = []  # (session, entity order, data file, metadata file)
        for entity in entities:
            for low in range(0, len(self.sessions), _OPEN_FILES):
                group = self.sessions[low : low + _OPEN_FILES]
                writers: dict[int, tuple[_Writer, Path, datetime]] = {}
                try:
                    for session in group:
                        when = session.late_time if entity in _LATE_FOLDER_ENTITIES and session.late_time else session.time
                        data_dir = root / session.name / "raw_json" / when.strftime(SESSION_FORMAT)
                        data_dir.mkdir(parents=True, exist_ok=True)
                        path = data_dir / f"{entity}.json"
                        writers[session.index] = (_Writer(path, entity, self._uses_envelope(session.index, entity)), path, when)
                    for session_index, record in self._entity_records(entity, low, low + len(group)):
                        writers[session_index][0].add(record)
                finally:
                    for writer, _, _ in writers.values():
                        writer.close()
                for session in group:
                    writer, path, when = writers[session.index]
                    records[entity] += writer.count
                    metadata = self._write_metadata(root / session.name, session, entity, when, path, writer.count, root)
                    written.append((session.index, SAMPLE_ENTITIES.index(entity), path.relative_to(root).as_posix(), metadata))
            logger.debug("sample data: wrote %d %s records", records[entity], entity)
        progress(ProgressEvent("sample_data", self._progress_total, self._progress_total, "done"))
        written.sort()
        summary = {
            "out_dir": str(root.resolve()),
            "sessions": [session.name for session in self.sessions],
            "data_files": [data for _, _, data, _ in written],
            "metadata_files": [metadata for _, _, _, metadata in written],
            "files_written": 2 * len(written),
            "records": records,
            "distinct_ids": {entity: self.counts[entity] for entity in entities},
            "total_records": sum(records.values()),
            "seed": self.seed,
            "days": self.days,
            "now": self.now.isoformat(),
        }
        logger.info(
            "sample data: %d sessions, %d records in %s", len(self.sessions), summary["total_records"], root
        )
        return summary

    def _uses_envelope(self, session: int, entity: str) -> bool:
        """Mostly Zoho list envelopes, some plain arrays: consumers must take both."""
        return (session + SAMPLE_ENTITIES.index(entity)) % 4 != 3

    def _entity_records(self, entity: str, low: int, high: int) -> Iterator[tuple[int, dict[str, Any]]]:
        """(session index, record) for every appearance in sessions low..high-1, by record index,
        so each session's file lists its records in creation order."""
        if entity == "organizations":
            for session in range(low, high):
                yield session, self._organization()
            self._advance(entity, self._units(entity))
            return
        build = getattr(self, f"_build_{entity}")
        for index in range(self.counts[entity]):
            if index & 255 == 255:
                self._advance(entity, 256)
            timeline = self._timeline(entity, index)
            for emission in timeline.emissions:
                if low <= emission.session < high:
                    yield emission.session, build(timeline, emission)
        self._advance(entity, self.counts[entity] % 256)

    def _units(self, entity: str) -> int:
        """Progress units of one entity per group of sessions: its distinct records."""
        return 1 if entity == "organizations" else self.counts[entity]

    def _advance(self, entity: str, units: int) -> None:
        self._progress_done += units
        self._progress(ProgressEvent("sample_data", min(self._progress_done, self._progress_total), self._progress_total, entity))

    def _write_metadata(
        self, folder: Path, session: _Session, entity: str, when: datetime, data_path: Path, count: int, root: Path
    ) -> str:
        """sync_metadata_<entity>.json: what api_sync says about a run; never data."""
        finished = when + timedelta(seconds=1 + count // 500)
        metadata = {
            "entity": entity,
            "session_id": session.name,
            "sync_type": "full" if session.index == 0 else "incremental",
            "organization_id": self.organization_id,
            "api_endpoint": f"/books/v3/{entity}",
            "started": when.isoformat(),
            "finished": finished.isoformat(),
            "duration_seconds": int((finished - when).total_seconds()),
            "record_count": count,
            "pages": max(1, -(-count // 200)),
            "data_file": data_path.relative_to(folder).as_posix(),
            "status": "success",
            "errors": [],
        }
        path = folder / f"sync_metadata_{entity}.json"
        path.write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
        return path.relative_to(root).as_posix()

    # ------------------------------------------------------------------ shared record parts

    def _custom_fields(self, entity: str, index: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """Every other document carries a Region dropdown, like real orgs' custom fields."""
        if index % 2:
            return [], {}
        region = _REGIONS[(index // 2) % len(_REGIONS)]
        field_id = self._fixed_id(7133146)
        singular = entity[:-1]
        fields = [{
            "field_id": field_id, "customfield_id": field_id, "show_in_store": False,
            "show_in_portal": False, "is_active": True, "index": 1, "label": "Region",
            "show_on_pdf": False, "edit_on_portal": False, "edit_on_store": False,
            "api_name": "cf_region", "show_in_all_pdf": False,
            "selected_option_id": self._fixed_id(7133148 + _REGIONS.index(region)),
            "value_formatted": region, "search_entity": singular, "data_type": "dropdown",
            "placeholder": "cf_region", "value": region, "is_dependent_field": False,
        }]
        return fields, {"cf_region": region, "cf_region_unformatted": region}

    def _address(self, contact: _Contact, *, detail: bool) -> dict[str, Any]:
        """Detail responses say ``zip``, list responses ``zipcode`` (as the real captures do)."""
        if detail:
            return {
                "street": contact.street, "address": contact.street, "street2": "", "city": contact.city,
                "state": contact.state, "zip": contact.zip, "country": "USA", "country_code": "US",
                "fax": "", "phone": "", "attention": "",
            }
        return {
            "address": contact.street, "street2": "", "city": contact.city, "state": contact.state,
            "zipcode": contact.zip, "country": "USA", "phone": "", "fax": "", "attention": "",
        }

    @staticmethod
    def _empty_address() -> dict[str, Any]:
        return {
            "address": "", "street2": "", "city": "", "state": "", "zip": "", "country": "",
            "fax": "", "phone": "", "attention": "",
        }

    def _line_dicts(self, entity: str, document: int, lines: list[_Line], totals: _Totals, status: str) -> list[dict[str, Any]]:
        result = []
        for order, (line, item_total, tax_amount) in enumerate(zip(lines, totals.line_totals, totals.line_taxes), 1):
            item = self._items[line.item] if line.item >= 0 else None
            if line.tax >= 0:
                tax_number, tax_name, milli = _TAXES[line.tax]
                tax_id = self._fixed_id(tax_number)
                tax_label = f"{tax_name} ({_percent(milli)}%)"
                percentage: int | float | str = _percent(milli)
                line_taxes = [{
                    "tax_id": tax_id, "tax_name": tax_label, "tax_amount": _money(tax_amount),
                    "tax_percentage": percentage, "tax_specific_type": "tax",
                }]
            else:
                tax_id = tax_label = ""
                percentage = "" if line.blank_tax else 0
                line_taxes = []
            quantity = _quantity(line.quarters)
            rate = _money(line.rate_cents)
            sales = entity in _SALES_DOCS
            record: dict[str, Any] = {
                "line_item_id": self._id(entity, document, line.number),
                "item_id": self._id("items", line.item) if item else "",
                "item_order": order,
                "name": item.name if item else "",
                "description": item.description if item else "Office services",
                "unit": item.unit if item else "",
                "quantity": quantity,
                "bcy_rate": rate,
                "rate": rate,
                "discount": 0,
                "discounts": [],
                "account_id": self._fixed_id(_ACCOUNT_SALES if sales else (_ACCOUNT_COGS if item else _ACCOUNT_IT)),
                "account_name": "Sales" if sales else ("Cost of Goods Sold" if item else "IT and Internet Expenses"),
                "tax_id": tax_id,
                "tax_name": tax_label,
                "tax_type": "tax",
                "tax_percentage": percentage,
                "line_item_taxes": line_taxes,
                "item_total": _money(item_total),
                "item_type": item.kind if item else "",
                "item_custom_fields": [],
                "item_code": {},
                "tags": [],
                "pricebook_id": "",
                "header_id": "",
                "header_name": "",
                "project_id": "",
                "image_document_id": "",
                "line_item_category": "line_item",
            }
            if entity == "invoices":
                record.update({
                    "discount_amount": 0, "pricing_scheme": "unit", "documents": [], "time_entry_ids": [],
                    "expense_id": "", "bill_id": "", "bill_item_id": "", "stock_on_hand": "",
                    "sales_rate": _money(item.rate_cents[-1]) if item else "", "purchase_rate": "",
                    "salesorder_item_id": "", "cost_amount": 0, "markup_percent": 0,
                })
            elif entity == "bills":
                record.update({
                    "purchaseorder_id": "", "purchaseorder_item_id": "", "account_code": "", "sales_rate": "",
                    "quantity_received": 0, "markup_percent": 0, "is_billable": False, "customer_id": "",
                    "customer_name": "", "invoice_id": "", "invoice_number": "", "receive_line_items": [],
                })
            elif entity == "salesorders":
                shipped = quantity if status == "fulfilled" else 0
                record.update({
                    "sku": item.sku if item else "", "item_sub_total": _money(item_total),
                    "quantity_invoiced": shipped, "quantity_packed": shipped, "quantity_shipped": shipped,
                    "quantity_cancelled": 0, "is_invoiced": status == "fulfilled", "product_type": "goods",
                    "sales_rate": _money(item.rate_cents[-1]) if item else "", "tds_tax_percentage": "",
                })
            elif entity == "purchaseorders":
                billed = quantity if status == "billed" else 0
                record.update({
                    "salesorder_item_id": "", "is_receivable": True, "quantity_marked_as_received": billed,
                    "quantity_cancelled": 0, "quantity_billed": billed, "purchase_request_items": [],
                })
            else:  # creditnotes
                record.update({
                    "invoice_id": "", "invoice_item_id": "", "pricing_scheme": "unit", "sales_margin": "",
                    "is_credit_only_item": False, "discount_amount": 0,
                })
            result.append(record)
        return result

    def _taxes(self, lines: list[_Line], totals: _Totals) -> list[dict[str, Any]]:
        """Tax summary of a document: one entry per tax, in the order of _TAXES."""
        summary = []
        for position, (tax_number, tax_name, milli) in enumerate(_TAXES):
            amount = sum(tax for line, tax in zip(lines, totals.line_taxes) if line.tax == position)
            if any(line.tax == position for line in lines):
                summary.append({
                    "tax_id": self._fixed_id(tax_number), "tax_name": f"{tax_name} ({_percent(milli)}%)",
                    "tax_amount": _money(amount), "tax_amount_formatted": f"${amount / 100:,.2f}",
                })
        return summary

    def _document_money(
        self, entity: str, timeline: _Timeline, emission: _Emission
    ) -> tuple[list[_Line], _Totals, int, str]:
        """Lines, totals, amount paid (cents) and the status to show, as of ``emission``."""
        key = (entity, timeline.head.index, emission.version)
        memo = self._money_memo
        if memo is not None and memo[0] == key:
            lines, totals = memo[1], memo[2]
        else:
            lines = self._lines(entity, timeline.head.index, timeline.head, emission.version)
            totals = self._totals(lines)
            self._money_memo = (key, lines, totals)
        paid = 0
        status = emission.status
        if emission.paid and timeline.payment is not None:
            paid = totals.total * timeline.payment.permille // 1000
            status = "paid" if paid == totals.total else "partially_paid"
        return lines, totals, paid, status

    def _number(self, entity: str, index: int) -> str:
        return _NUMBER_FORMAT[entity].format(index + 1)

    def _due(self, head: _Head, days: int = 30) -> tuple[str, str]:
        return head.created.date().isoformat(), (head.created.date() + timedelta(days=days)).isoformat()

    # ------------------------------------------------------------------ documents

    def _build_invoices(self, timeline: _Timeline, emission: _Emission) -> dict[str, Any]:
        head = timeline.head
        contact = self._contacts[head.contact]
        lines, totals, paid, status = self._document_money("invoices", timeline, emission)
        date, due = self._due(head)
        fields, field_hash = self._custom_fields("invoices", head.index)
        payment_date = timeline.payment.time.date().isoformat() if paid and timeline.payment else ""
        common = {
            "invoice_id": self._id("invoices", head.index),
            "invoice_number": self._number("invoices", head.index),
            "customer_id": self._id("contacts", head.contact),
            "customer_name": contact.name,
            "status": status,
            "date": date,
            "due_date": due,
            "reference_number": "",
            "currency_id": self._fixed_id(_CURRENCY),
            "currency_code": "USD",
            "currency_symbol": "$",
            "exchange_rate": 1,
            "total": _money(totals.total),
            "balance": _money(totals.total - paid),
            "custom_fields": fields,
            "custom_field_hash": field_hash,
            "created_time": self._time(head.created),
            "last_modified_time": self._time(emission.modified),
        }
        if emission.form == "list":
            return {
                **common,
                "company_name": "", "due_days": "", "email": contact.email, "project_name": "",
                "billing_address": self._address(contact, detail=False),
                "shipping_address": self._address(contact, detail=False),
                "country": "USA", "phone": contact.phone, "created_by": _USER_NAME,
                "payment_expected_date": "", "tags": [], "salesperson_name": "", "shipping_charge": 0,
                "adjustment": 0, "updated_time": self._time(emission.modified), "is_viewed_by_client": False,
                "has_attachment": False, "client_viewed_time": "", "is_emailed": status != "draft",
                "current_sub_status": status, "template_type": "standard", "invoice_source": "Api",
                "reminders_sent": 0, "last_payment_date": payment_date,
                "template_id": self._fixed_id(_TEMPLATE_INVOICE), "documents": "", "salesperson_id": "",
                "write_off_amount": 0, "unprocessed_payment_amount": 0,
            }
        return {
            **common,
            "issued_date": date, "offline_created_date_with_time": "", "email": contact.email,
            "invoice_source": "Api", "currency_name_formatted": "USD- United States Dollar",
            "unprocessed_payment_amount": 0, "recurring_invoice_id": "", "payment_terms": 30,
            "payment_terms_label": "Net 30", "payment_terms_id": "", "invoice_installments": [],
            "early_payment_discount_due_days": "", "payment_reminder_enabled": True,
            "payment_made": _money(paid), "zcrm_potential_id": "", "lock_details": {"can_lock": False},
            "locked_actions": [],
            "line_items": self._line_dicts("invoices", head.index, lines, totals, status),
            "price_precision": 2, "sub_total": _money(totals.sub_total), "tax_total": _money(totals.tax_total),
            "total_taxable_amount": _money(sum(t for line, t in zip(lines, totals.line_totals) if line.tax >= 0)),
            "discount_total": 0, "discount_percent": 0, "discount": 0, "discount_type": "item_level",
            "account_id": self._fixed_id(_ACCOUNT_RECEIVABLE), "account_name": "Accounts Receivable",
            "is_discount_before_tax": True, "adjustment": 0, "adjustment_description": "",
            "shipping_charge_tax_id": "", "shipping_charge_tax_percentage": "", "shipping_charge_tax": "",
            "shipping_charge": 0, "bcy_sub_total": _money(totals.sub_total),
            "bcy_tax_total": _money(totals.tax_total), "bcy_total": _money(totals.total),
            "write_off_amount": 0, "roundoff_value": 0, "rounding_mode": "round_half_up",
            "is_inclusive_tax": False, "tax_rounding": "item_level", "taxes": self._taxes(lines, totals),
            "last_payment_date": payment_date, "contact_persons": [self._id("contacts", head.contact, 3)],
            "contact_persons_associated": [], "attachment_name": "", "documents": [],
            "salesorder_id": "", "salesorder_number": "", "salesorders": [],
            "salesperson_id": "", "salesperson_name": "", "is_emailed": status != "draft",
            "reminders_sent": 0, "is_viewed_by_client": False, "client_viewed_time": "",
            "template_id": self._fixed_id(_TEMPLATE_INVOICE), "template_name": "Standard Template",
            "template_type": "standard", "notes": "Thanks for your business.", "terms": "",
            "billing_address": self._address(contact, detail=True),
            "shipping_address": self._address(contact, detail=True),
            "created_date": date, "created_by_id": self._fixed_id(_USER), "created_by_name": _USER_NAME,
            "last_modified_by_id": self._fixed_id(_USER), "current_sub_status_id": "",
            "current_sub_status": status, "sub_statuses": [], "estimate_id": "", "credits_applied": 0,
            "tax_amount_withheld": 0, "schedule_time": "", "tags": [],
        }

    def _build_bills(self, timeline: _Timeline, emission: _Emission) -> dict[str, Any]:
        head = timeline.head
        contact = self._contacts[head.contact]
        lines, totals, paid, status = self._document_money("bills", timeline, emission)
        date, due = self._due(head)
        common = {
            "bill_id": self._id("bills", head.index),
            "vendor_id": self._id("contacts", head.contact),
            "vendor_name": contact.name,
            "status": status,
            "color_code": "",
            "current_sub_status_id": "",
            "current_sub_status": status,
            "bill_number": self._number("bills", head.index),
            "reference_number": f"VINV-{(head.index * 7919) % 100000:05d}",
            "date": date,
            "due_date": due,
            "currency_id": self._fixed_id(_CURRENCY),
            "currency_code": "USD",
            "price_precision": 2,
            "exchange_rate": 1,
            "total": _money(totals.total),
            "balance": _money(totals.total - paid),
            "created_time": self._time(head.created),
            "last_modified_time": self._time(emission.modified),
        }
        if emission.form == "list":
            return {
                **common,
                "due_days": "Due in 30 days", "tds_total": 0, "unprocessed_payment_amount": 0,
                "created_time_formatted": f"{head.created:%d %b %Y %I:%M %p}",
                "last_modified_time_formatted": f"{emission.modified:%d %b %Y %I:%M %p}",
                "created_by": _USER_NAME, "last_modified_by": _USER_NAME, "attachment_name": "",
                "has_attachment": False, "tags": [], "entity_type": "bill", "client_viewed_time": "",
                "is_viewed_by_client": False, "balance_due": _money(totals.total - paid),
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
            "line_items": self._line_dicts("bills", head.index, lines, totals, status),
            "adjustment": 0, "adjustment_description": "", "discount_amount": 0, "discount": 0,
            "is_discount_before_tax": True, "discount_type": "entity_level",
            "sub_total": _money(totals.sub_total), "tax_total": _money(totals.tax_total),
            "discount_total": 0, "payment_made": _money(paid), "vendor_credits_applied": 0,
            "purchaseorders": [], "taxes": self._taxes(lines, totals), "unprocessed_payment_amount": 0,
            "billing_address_id": self._id("contacts", head.contact, 1),
            "billing_address": self._address(contact, detail=True), "payments": [], "vendor_credits": [],
            "created_by_id": self._fixed_id(_USER), "last_modified_id": self._fixed_id(_USER),
            "reference_id": "", "notes": "", "terms": "", "attachment_name": "",
            "template_id": self._fixed_id(_TEMPLATE_BILL), "template_name": "Standard Template",
            "template_type": "standard", "entity_type": "bill",
            "account_id": self._fixed_id(_ACCOUNT_PAYABLE), "account_name": "Accounts Payable", "tags": [],
        }

    def _build_salesorders(self, timeline: _Timeline, emission: _Emission) -> dict[str, Any]:
        head = timeline.head
        contact = self._contacts[head.contact]
        lines, totals, _, status = self._document_money("salesorders", timeline, emission)
        date, shipment = self._due(head, days=7)
        fields, field_hash = self._custom_fields("salesorders", head.index)
        order_status = {"draft": "draft", "open": "confirmed", "fulfilled": "closed"}[status]
        done = status == "fulfilled"
        common = {
            "salesorder_id": self._id("salesorders", head.index),
            "salesorder_number": self._number("salesorders", head.index),
            "customer_id": self._id("contacts", head.contact),
            "customer_name": contact.name,
            "status": status,
            "order_status": order_status,
            "invoiced_status": "invoiced" if done else ("not_invoiced" if status != "draft" else ""),
            "paid_status": "unpaid",
            "shipped_status": "fulfilled" if done else ("pending" if status != "draft" else ""),
            "date": date,
            "shipment_date": shipment,
            "reference_number": f"Web Order #{head.index + 1001}",
            "currency_id": self._fixed_id(_CURRENCY),
            "currency_code": "USD",
            "total": _money(totals.total),
            "balance": _money(totals.total),
            "custom_fields": fields,
            "custom_field_hash": field_hash,
            "created_time": self._time(head.created),
            "last_modified_time": self._time(emission.modified),
        }
        if emission.form == "list":
            return {
                **common,
                "company_name": "", "delivery_date": "", "due_by_days": "", "due_in_days": "",
                "is_emailed": status != "draft", "has_attachment": False, "tags": [],
                "salesperson_name": "", "current_sub_status": status, "documents": "",
                "total_invoiced_amount": _money(totals.total) if done else 0, "quantity": "",
            }
        return {
            **common,
            "has_discount": False, "discount_total": 0, "tax_total": _money(totals.tax_total),
            "sub_statuses": [], "currency_symbol": "$", "notes": "", "terms": "", "documents": [],
            "discount_amount": 0, "source": "Api", "shipping_charge_tax_percentage": "",
            "shipping_charge": 0, "adjustment": 0, "adjustment_description": "", "exchange_rate": 1,
            "price_precision": 2, "is_inclusive_tax": False, "tax_rounding": "item_level",
            "taxes": self._taxes(lines, totals),
            "line_items": self._line_dicts("salesorders", head.index, lines, totals, status),
            "billing_address": self._address(contact, detail=True),
            "shipping_address": self._address(contact, detail=True),
            "sub_total": _money(totals.sub_total), "bcy_sub_total": _money(totals.sub_total),
            "bcy_tax_total": _money(totals.tax_total), "bcy_total": _money(totals.total),
            "invoices": [], "packages": [], "payments": [], "creditnotes": [], "purchaseorders": [],
            "contact_persons": [self._id("contacts", head.contact, 3)],
            "template_id": self._fixed_id(_TEMPLATE_SO), "template_type": "standard",
            "created_by_id": self._fixed_id(_USER), "last_modified_by_id": self._fixed_id(_USER),
            "created_date": date, "discount_type": "entity_level", "sales_channel": "direct_sales",
            "salesperson_id": "", "salesperson_name": "", "tds_calculation_type": "tds_item_level",
        }

    def _build_purchaseorders(self, timeline: _Timeline, emission: _Emission) -> dict[str, Any]:
        head = timeline.head
        contact = self._contacts[head.contact]
        lines, totals, _, status = self._document_money("purchaseorders", timeline, emission)
        date, delivery = self._due(head, days=14)
        order_status = {"draft": "draft", "open": "open", "billed": "closed"}[status]
        quarters = sum(line.quarters for line in lines)
        common = {
            "purchaseorder_id": self._id("purchaseorders", head.index),
            "vendor_id": self._id("contacts", head.contact),
            "vendor_name": contact.name,
            "order_status": order_status,
            "billed_status": "billed" if status == "billed" else ("to_be_billed" if status == "open" else ""),
            "received_status": "received" if status == "billed" else ("to_be_received" if status == "open" else ""),
            "status": status,
            "color_code": "",
            "current_sub_status_id": "",
            "current_sub_status": status,
            "purchaseorder_number": self._number("purchaseorders", head.index),
            "reference_number": "",
            "date": date,
            "delivery_date": delivery,
            "expected_delivery_date": "",
            "currency_id": self._fixed_id(_CURRENCY),
            "currency_code": "USD",
            "total": _money(totals.total),
            "created_time": self._time(head.created),
            "last_modified_time": self._time(emission.modified),
        }
        if emission.form == "list":
            received = quarters if status == "billed" else 0
            return {
                **common,
                "company_name": "", "delivery_days": "", "due_by_days": "", "due_in_days": "",
                "price_precision": "", "has_attachment": False, "tags": [],
                "quantity_yet_to_receive": _quantity(quarters - received),
                "quantity_marked_as_received": _quantity(received),
                "is_po_marked_as_received": bool(received), "receives": [], "client_viewed_time": "",
                "is_viewed_by_client": False,
            }
        return {
            **common,
            "non_catalog_items_count": 0, "documents": [], "contact_category": "",
            "client_viewed_time": "", "is_viewed_by_client": False, "sub_statuses": [],
            "contact_persons": [], "currency_symbol": "$", "exchange_rate": 1, "is_emailed": status != "draft",
            "is_inclusive_tax": False, "tax_rounding": "entity_level", "is_po_marked_as_received": status == "billed",
            "total_quantity": _quantity(quarters), "tds_calculation_type": "tds_item_level",
            "line_items": self._line_dicts("purchaseorders", head.index, lines, totals, status),
            "has_qty_cancelled": False, "adjustment": 0, "adjustment_description": "",
            "discount_amount": 0, "discount": 0, "is_discount_before_tax": True,
            "discount_type": "entity_level", "sub_total": _money(totals.sub_total),
            "tax_total": _money(totals.tax_total), "discount_total": 0, "discount_percent": 0,
            "taxes": self._taxes(lines, totals), "price_precision": 2,
            "billing_address_id": self._id("contacts", head.contact, 1),
            "billing_address": self._empty_address(), "notes": "", "terms": "", "payment_terms": 0,
            "payment_terms_label": "Due on Receipt", "ship_via": "", "attention": "",
            "delivery_address": {
                "zip": "", "country": "U.S.A", "address": "", "organization_address_id": "", "address2": "",
                "city": "", "phone": "", "address1": "", "state": "Delaware",
            },
            "custom_fields": [], "custom_field_hash": {}, "attachment_name": "",
            "template_id": self._fixed_id(_TEMPLATE_PO), "template_name": "Standard Template",
            "template_type": "standard", "created_by_id": self._fixed_id(_USER),
            "salesorders": [], "bills": [], "tags": [],
        }

    def _build_creditnotes(self, timeline: _Timeline, emission: _Emission) -> dict[str, Any]:
        head = timeline.head
        contact = self._contacts[head.contact]
        lines, totals, _, status = self._document_money("creditnotes", timeline, emission)
        date, _ = self._due(head)
        common = {
            "creditnote_id": self._id("creditnotes", head.index),
            "creditnote_number": self._number("creditnotes", head.index),
            "status": status,
            "reference_number": "",
            "date": date,
            "issued_date": date,
            "total": _money(totals.total),
            "balance": _money(totals.total),
            "customer_id": self._id("contacts", head.contact),
            "customer_name": contact.name,
            "is_emailed": False,
            "salesperson_id": "",
            "is_viewed_by_client": False,
            "client_viewed_time": "",
            "color_code": "",
            "current_sub_status_id": "",
            "current_sub_status": status,
            "currency_id": self._fixed_id(_CURRENCY),
            "currency_code": "USD",
            "created_time": self._time(head.created),
            "last_modified_time": self._time(emission.modified),
            "exchange_rate": 1,
            "template_id": self._fixed_id(_TEMPLATE_CREDITNOTE),
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
            "notes": "", "terms": "", "created_by_id": self._fixed_id(_USER),
            "last_modified_by_id": self._fixed_id(_USER), "created_by_name": _USER_NAME,
            "invoice_id": "", "invoices_credited": [], "contact_persons": [], "salesperson_name": "",
            "tax_rounding": "entity_level", "template_name": "Standard Template",
            "currency_symbol": "$", "currency_name_formatted": "USD- United States Dollar",
            "is_inclusive_tax": False, "discount": 0, "is_discount_before_tax": True,
            "discount_type": "item_level", "account_id": self._fixed_id(_ACCOUNT_RECEIVABLE),
            "account_name": "Accounts Receivable",
            "line_items": self._line_dicts("creditnotes", head.index, lines, totals, status),
            "documents": [], "custom_fields": [], "custom_field_hash": {},
            "shipping_charge_tax_percentage": "", "shipping_charge": 0, "adjustment": 0,
            "adjustment_description": "", "sub_total": _money(totals.sub_total),
            "tax_total": _money(totals.tax_total), "total_credits_used": 0, "total_refunded_amount": 0,
            "taxes": self._taxes(lines, totals), "creditnote_refunds": [],
            "billing_address": self._address(contact, detail=True),
            "shipping_address": self._empty_address(),
        }

    # ------------------------------------------------------------------ payments

    def _applied(self, documents: str, payment_index: int, payments: str) -> tuple[int, _Head, _Totals, int]:
        """The document a payment pays, its totals and the cents applied to it."""
        document = self._paid_document(payments, payment_index)
        head = self._head(documents, document)
        totals = self._totals(self._lines(documents, document, head, 0))
        plan = self._payment_plan(payments, payment_index, head)
        return document, head, totals, totals.total * plan.permille // 1000

    def _build_customerpayments(self, timeline: _Timeline, emission: _Emission) -> dict[str, Any]:
        j = timeline.head.index
        invoice, invoice_head, totals, applied = self._applied("invoices", j, "customerpayments")
        plan = self._payment_plan("customerpayments", j, invoice_head)
        contact = self._contacts[invoice_head.contact]
        amount = applied + plan.unused_cents
        date = plan.time.date().isoformat()
        invoice_date, invoice_due = self._due(invoice_head)
        reference = f"CHK-{j + 1:05d}-{emission.version}" if emission.version else ""
        common = {
            "payment_id": self._id("customerpayments", j),
            "payment_number": str(j + 1),
            "date": date,
            "payment_mode": plan.mode,
            "amount": _money(amount),
            "unused_amount": _money(plan.unused_cents),
            "account_id": self._fixed_id(_ACCOUNT_UNDEPOSITED),
            "account_name": "Undeposited Funds",
            "description": "",
            "reference_number": reference,
            "customer_id": self._id("contacts", invoice_head.contact),
            "customer_name": contact.name,
            "created_time": self._time(plan.time),
            "tax_amount_withheld": 0,
            "payment_status": "paid",
            "settlement_status": "",
            "sales_channel": "",
            "tags": [],
        }
        if emission.form == "list":
            return {
                **common,
                "invoice_numbers": self._number("invoices", invoice),
                "payment_mode_formatted": plan.mode, "bcy_amount": _money(amount),
                "bcy_unused_amount": _money(plan.unused_cents),
                "last_modified_time": self._time(emission.modified), "last_four_digits": "",
                "gateway_transaction_id": "", "payment_gateway": "", "bcy_refunded_amount": 0,
                "applied_invoices": [], "has_attachment": False, "documents": "",
                "custom_fields_list": "", "tax_account_id": "", "tax_account_name": "",
                "payment_type": "Invoice Payment",
            }
        return {
            **common,
            "account_identifier": "", "payment_link_id": "", "created_by": _USER_NAME,
            "updated_time": self._time(emission.modified), "lock_details": {"can_lock": False},
            "locked_actions": [], "payment_number_prefix": "", "payment_number_suffix": str(j + 1),
            "documents": [], "card_type": "", "account_type": "cash",
            "customer_advance_account_id": self._fixed_id(_ACCOUNT_RECEIVABLE),
            "customer_advance_account_name": "Accounts Receivable",
            "currency_id": self._fixed_id(_CURRENCY), "currency_symbol": "$", "currency_code": "USD",
            "exchange_rate": 1, "bank_charges": 0, "bank_charges_account_id": "", "tax_account_id": "",
            "tax_account_name": "", "discount_amount": 0, "online_transaction_id": "", "payment_gateway": "",
            "invoices": [{
                "invoice_number": self._number("invoices", invoice),
                "invoice_payment_id": self._id("customerpayments", j, 1),
                "invoice_id": self._id("invoices", invoice),
                "amount_applied": _money(applied),
                "tax_amount_withheld": 0,
                "discount_amount": 0,
                "total": _money(totals.total),
                "balance": _money(totals.total - applied),
                "date": invoice_date,
                "due_date": invoice_due,
                "price_precision": 2,
                "apply_date": date,
                "allow_partial_payments": "",
                "invoice_installments": [],
            }],
            "payment_refunds": [], "deposit_details": [], "last_four_digits": "",
            "template_id": self._fixed_id(_TEMPLATE_PAYMENT), "template_name": "Elite Template",
            "template_type": "elite", "attachment_name": "", "custom_fields": [], "custom_field_hash": {},
            "imported_transactions": [], "price_precision": 2, "rounding_mode": "round_half_up",
        }

    def _build_vendorpayments(self, timeline: _Timeline, emission: _Emission) -> dict[str, Any]:
        j = timeline.head.index
        bill, bill_head, totals, applied = self._applied("bills", j, "vendorpayments")
        plan = self._payment_plan("vendorpayments", j, bill_head)
        contact = self._contacts[bill_head.contact]
        date = plan.time.date().isoformat()
        bill_date, bill_due = self._due(bill_head)
        mode = {"check": "Check", "cash": "Cash", "bank_transfer": "Bank Transfer", "creditcard": "Credit Card"}[plan.mode]
        common = {
            "payment_id": self._id("vendorpayments", j),
            "vendor_id": self._id("contacts", bill_head.contact),
            "vendor_name": contact.name,
            "status": "paid",
            "payment_mode": mode,
            "payment_number": str(j + 1),
            "description": "",
            "date": date,
            "reference_number": f"VP-{j + 1:03d}" if emission.version else "",
            "exchange_rate": 1,
            "amount": _money(applied),
            "balance": 0,
            "currency_id": self._fixed_id(_CURRENCY),
            "currency_code": "USD",
            "created_time": self._time(plan.time),
            "last_modified_time": self._time(emission.modified),
            "paid_through_account_id": self._fixed_id(_ACCOUNT_UNDEPOSITED),
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
                "bill_numbers": self._number("bills", bill), "bcy_amount": _money(applied),
                "bcy_balance": 0, "has_attachment": False, "ach_gw_transaction_id": "",
                "check_details": {"check_id": "", "check_status": "", "check_number": "", "memo": ""},
            }
        return {
            **common,
            "is_online_payment": False, "transfer_type": "", "payment_number_prefix": "",
            "payment_number_suffix": str(j + 1), "purpose_code": "", "custom_fields": [],
            "custom_field_hash": {}, "documents": [], "tds_tax_id": "", "tax_account_id": "",
            "tax_account_name": "", "tax_amount_withheld": 0, "bank_charges": 0,
            "bank_charges_account_id": "", "currency_symbol": "$", "created_by_id": self._fixed_id(_USER),
            "created_by_name": _USER_NAME, "paid_through_account_type": "cash",
            "offset_account_id": self._fixed_id(_ACCOUNT_PAYABLE), "offset_account_name": "Accounts Payable",
            "check_details": {
                "check_id": "", "check_number": "", "memo": "", "amount_in_words": "", "check_status": "",
                "template_id": "", "retain_txn_in_void_check": True,
            },
            "billing_address": self._empty_address(),
            "bills": [{
                "bill_number": self._number("bills", bill),
                "price_precision": 2,
                "bill_payment_id": self._id("vendorpayments", j, 1),
                "bill_id": self._id("bills", bill),
                "is_opening_balance": False,
                "total": _money(totals.total),
                "balance": _money(totals.total - applied),
                "unprocessed_payment_amount": 0,
                "amount_applied": _money(applied),
                "apply_date": "",
                "tax_amount_withheld": 0,
                "date": bill_date,
                "due_date": bill_due,
            }],
            "vendorpayment_refunds": [], "imported_transactions": [], "approvers_list": [],
        }

    # ------------------------------------------------------------------ contacts, items, organization

    def _build_contacts(self, timeline: _Timeline, emission: _Emission) -> dict[str, Any]:
        index = timeline.head.index
        contact = self._contacts[index]
        kind = "vendor" if contact.vendor else "customer"
        phone = contact.phone if emission.version % 2 == 0 else contact.phone.replace(" 555 0", " 555 9")
        common = {
            "contact_id": self._id("contacts", index),
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
            "currency_id": self._fixed_id(_CURRENCY),
            "currency_code": "USD",
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
            "phone": phone,
            "mobile": "",
            "portal_status": "disabled",
            "created_time": self._time(timeline.head.created),
            "last_modified_time": self._time(emission.modified),
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
                "payment_terms_id": self._fixed_id(_TERMS), "twitter": "", "facebook": "",
                "portal_status_formatted": "Disabled", "track_1099": False,
                "created_time_formatted": f"{timeline.head.created:%d %b %Y}",
                "last_modified_time_formatted": f"{emission.modified:%d %b %Y}",
                "contactperson_custom_fields": [], "has_attachment": False,
            }
        address = self._address(contact, detail=True)
        return {
            **common,
            "contact_tax_information": "", "designation": "", "department": "",
            "is_bcy_only_contact": True, "contact_salutation": "", "photo_url": "",
            "has_transaction": True, "documents": [], "twitter": "", "facebook": "",
            "payment_terms_id": self._fixed_id(_TERMS), "lock_details": {"can_lock": False},
            "locked_actions": [], "currency_symbol": "$", "price_precision": 2, "exchange_rate": "",
            "opening_balance_amount": 0, "opening_balance_amount_bcy": "", "payment_reminder_enabled": True,
            "track_1099": False, "tax_id_type": "", "tax_id_value": "", "sales_channel": "direct_sales",
            "entity_address_id": self._id("contacts", index, 4),
            "billing_address": {"address_id": self._id("contacts", index, 1), **address},
            "shipping_address": {"address_id": self._id("contacts", index, 2), **address},
            "contact_persons": [{
                "contact_person_id": self._id("contacts", index, 3), "salutation": "",
                "first_name": contact.first_name, "last_name": contact.last_name, "email": contact.email,
                "phone": phone, "mobile": "", "designation": "", "department": "",
                "is_primary_contact": True, "communication_preference": {"is_email_enabled": True},
            }],
            "addresses": [], "pricebook_id": "", "cards": [], "bank_accounts": [],
            "notes": "" if emission.version == 0 else f"Updated in review {emission.version}",
            "created_date": f"{timeline.head.created:%d %b %Y}", "created_by_name": _USER_NAME,
            "created_by_id": self._fixed_id(_USER), "last_modified_by_id": self._fixed_id(_USER),
        }

    def _build_items(self, timeline: _Timeline, emission: _Emission) -> dict[str, Any]:
        index = timeline.head.index
        item = self._items[index]
        rate = _money(item.rate_cents[emission.session])
        purchase = _money(item.purchase_cents)
        common = {
            "item_id": self._id("items", index),
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
            "purchase_account_id": self._fixed_id(_ACCOUNT_COGS) if item.kind != "sales" else "",
            "purchase_account_name": "Cost of Goods Sold" if item.kind != "sales" else "",
            "account_id": self._fixed_id(_ACCOUNT_SALES),
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
            "created_time": self._time(timeline.head.created),
            "last_modified_time": self._time(emission.modified),
            "product_subtype": "",
            "tags": [],
        }
        if emission.form == "list":
            return {**common, "item_name": item.name, "has_attachment": False, "purpose_of_use": "", "vendor_name": ""}
        return {
            **common,
            "group_id": "", "brand": "", "manufacturer": "", "item_code": {}, "crm_owner_id": "",
            "unit_id": self._id("items", index, 1), "tax_type": "", "tax_status": "",
            "is_default_tax_applied": False, "documents": [], "pricebook_rate": rate, "pricing_scheme": "unit",
            "price_brackets": [], "default_price_brackets": [{"start_quantity": 1, "end_quantity": 1, "pricebook_rate": rate}],
            "sales_rate": rate, "sales_margin": "", "created_at": timeline.head.created.date().isoformat(),
            "offline_created_date_with_time": "", "minimum_order_quantity": "", "maximum_order_quantity": "",
            "lock_details": {"can_lock": False}, "locked_actions": [], "locked_fields": {},
            "custom_fields": [], "custom_field_hash": {}, "is_fulfillable": False,
            "sales_channels": ["direct_sales"] if item.kind != "purchases" else [],
            "is_modifier_item": False, "integration_references": [], "has_variant": False,
        }

    def _organization(self) -> dict[str, Any]:
        """The one organization, as ``GET /organizations`` lists it (no timestamps there)."""
        created = self.sessions[0].window_start.date() - timedelta(days=400)
        return {
            "organization_id": self.organization_id,
            "name": "Northwind Sample Co",
            "contact_name": _USER_NAME,
            "email": "books@northwind-sample.example.com",
            "is_default_org": True,
            "language_code": "en",
            "fiscal_year_start_month": "1",
            "account_created_date": created.isoformat(),
            "time_zone": _TIME_ZONES.get(self.offset, "Etc/UTC"),
            "is_dst_active": self.offset == "-0400",
            "date_format": "MM/dd/yyyy",
            "field_separator": ",",
            "industry_type": "Technology",
            "industry_size": "11-50",
            "company_id_label": "",
            "company_id_value": "",
            "tax_id_label": "",
            "tax_id_value": "",
            "currency_id": self._fixed_id(_CURRENCY),
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
