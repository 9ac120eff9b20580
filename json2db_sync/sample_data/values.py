"""The small frozen values a sample data set is planned with (sessions, a record's appearances,
payments, lines, totals, catalogue entries) and the integer arithmetic of its money; stdlib only.

Money is kept in cents and quantities in quarter units, so that no float ever decides a cent;
``money`` and ``quantity_value`` give them the shape Zoho's JSON has (598 or 149.97).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from .vocabulary import SESSION_FORMAT


@dataclass(frozen=True, slots=True)
class Session:
    """One sync session: its folder time and the window its records' changes fall into."""

    index: int
    time: datetime
    window_start: datetime
    late_time: datetime | None  # second timestamp folder for _LATE_FOLDER_ENTITIES

    @property
    def name(self) -> str:
        return f"sync_session_{self.time.strftime(SESSION_FORMAT)}"


@dataclass(frozen=True, slots=True)
class Emission:
    """A record as one session carries it: which form, and its state at that time."""

    session: int
    form: str  # "detail" or "list"
    status: str
    version: int  # line-item version for documents, revision for the others
    paid: bool
    modified: datetime


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment applied to one invoice or bill: when, and how much of its total."""

    index: int
    session: int
    time: datetime
    permille: int  # share of the document's total applied (1000 = all of it)
    unused_cents: int  # paid on top of what was applied (customer payments only)
    mode: str


@dataclass(frozen=True, slots=True)
class Head:
    """What a document is at creation: when, for whom."""

    index: int
    session: int
    created: datetime
    contact: int


@dataclass(frozen=True, slots=True)
class Timeline:
    """Every appearance of one record across the sessions, in order."""

    head: Head
    payment: Payment | None
    emissions: tuple[Emission, ...]


@dataclass(frozen=True, slots=True)
class Line:
    """One line item: ``quarters`` is the quantity in quarter units so that totals stay exact."""

    number: int
    item: int  # -1 for a non-catalogue bill line
    quarters: int
    rate_cents: int
    tax: int  # index into TAXES, -1 for none
    blank_tax: bool  # untaxed line that says tax_percentage "" rather than 0


@dataclass(frozen=True, slots=True)
class Totals:
    """A document's money, in cents."""

    line_totals: tuple[int, ...]
    line_taxes: tuple[int, ...]
    sub_total: int
    tax_total: int
    total: int


@dataclass(frozen=True, slots=True)
class Contact:
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
class Item:
    name: str
    unit: str
    description: str
    rate_cents: tuple[int, ...]  # sales rate as of each session (price rises are updates)
    purchase_cents: int
    hourly: bool
    kind: str  # "sales", "sales_and_purchases", "purchases"
    sku: str


def money(cents: int) -> int | float:
    """Zoho (JS-serialised) writes 598 for whole amounts and 149.97 otherwise."""
    return cents // 100 if cents % 100 == 0 else cents / 100


def quantity_value(quarters: int) -> int | float:
    return quarters // 4 if quarters % 4 == 0 else quarters / 4


def tax_cents(amount_cents: int, milli_percent: int) -> int:
    """Tax rounded half up to the cent, in integers so that no float ever decides a cent."""
    return (amount_cents * milli_percent * 2 + 100000) // 200000


def percent(milli_percent: int) -> int | float:
    return milli_percent // 1000 if milli_percent % 1000 == 0 else milli_percent / 1000


def format_offset(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"


def below(rng: random.Random, n: int) -> int:
    """0..n-1 from one ``random()`` call: randrange is several times slower and this runs per line."""
    return int(rng.random() * n)


def pick_time(rng: random.Random, low: datetime, high: datetime) -> datetime:
    """A whole second strictly inside (low, high) when there is room, else just after low."""
    span = int((high - low).total_seconds())
    if span <= 1:
        return low + timedelta(seconds=1)
    return low + timedelta(seconds=1 + below(rng, span - 1))
