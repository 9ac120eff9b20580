"""``SamplePlan``: everything about one sample data set that is not one record's own fields:
sessions, id ranges, creation times, the contact and item catalogues, each record's timeline
(when it appears, in which form, with which status and lines), payments and document money;
imports stdlib and the sample data's vocabulary and values.

Every record is a pure function of its key: each aspect of a record draws from its own
``random.Random`` keyed by (seed, entity, index, stream), so a record can be rebuilt in any
session without keeping earlier ones. Only the catalogues and small memos stay in memory.
The per-entity builders (``documents``, ``payments``, ``catalogue``) read the plan and lay the
fields out; the writer decides nothing about a record.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from .values import (
    Contact,
    Emission,
    Head,
    Item,
    Line,
    Payment,
    Session,
    Timeline,
    Totals,
    below,
    format_offset,
    money,
    percent,
    pick_time,
    quantity_value,
    tax_cents,
)
from .vocabulary import (
    ACCOUNT_COGS,
    ACCOUNT_IT,
    ACCOUNT_SALES,
    CITIES,
    COMPANY_NOUNS,
    COMPANY_SUFFIXES,
    COMPANY_WORDS,
    DOCUMENT_ENTITIES,
    FIRST_NAMES,
    ITEM_BASES,
    ITEM_VARIANTS,
    LAST_NAMES,
    NUMBER_FORMAT,
    REGIONS,
    SALES_DOCS,
    SAMPLE_ENTITIES,
    STATUS_FLOW,
    STREETS,
    TAXES,
    entity_counts,
)

_MASK64 = (1 << 64) - 1

# Random streams of one record (part of its generator key).
_EVENTS, _LINES, _PAYMENT, _CATALOGUE = 2, 3, 4, 5
_LINES_VERSION = 16  # + version number
_CACHE_LIMIT = 4096  # memo entries kept for the records being written right now

# Probabilities of what happens to a record in a later session.
_P_UPDATE = 0.2
_P_RESEND = 0.15

_FIRST_RECORD_SEQ = 100000
_SEQ_STRIDE = 16  # a record's id, then its line items and addresses

#: The fields a document type adds to each of its line items: (catalogue item or None for a
#: non-catalogue line, quantity as Zoho writes it, line total in cents, document status).
LineExtras = Callable[[Item | None, int | float, int, str], dict[str, Any]]


class SamplePlan:
    """Plans one sample data set; every record is a pure function of its key."""

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
        self.offset = format_offset(offset)
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
        self._heads: dict[tuple[str, int], Head] = {}
        self._money_memo: tuple[tuple[str, int, int], list[Line], Totals] | None = None
        self._plans: dict[tuple[str, int], Payment] = {}
        self.contacts = [self._make_contact(i) for i in range(self.counts["contacts"])]
        self.items = [self._make_item(i) for i in range(self.counts["items"])]

    # ------------------------------------------------------------------ planning: sessions, id ranges, creation, ids and times

    def _plan_sessions(self, master: random.Random, count: int) -> list[Session]:
        """Sessions in equal slots over the last ``days``, each a little before its slot ends."""
        total = timedelta(days=self.days)
        interval = total / count
        lead = min(timedelta(hours=1), interval / 4)
        jitter = int(min(timedelta(minutes=30), interval / 4).total_seconds())
        late = max(timedelta(seconds=1), min(timedelta(minutes=5), lead / 2))
        origin = self.now - total
        sessions: list[Session] = []
        window_start = origin
        for index in range(count):
            slot_end = origin + interval * (index + 1)
            when = (slot_end - lead - timedelta(seconds=master.randint(0, jitter))).replace(microsecond=0)
            late_time = (when + late).replace(microsecond=0) if index % 3 == 1 else None
            sessions.append(Session(index, when, window_start, late_time))
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

    def record_id(self, entity: str, index: int, offset: int = 0) -> str:
        return f"{self.prefix}{self._seq_base[entity] + index * _SEQ_STRIDE + offset:012d}"

    def fixed_id(self, number: int) -> str:
        """Ids of things that are not records here (currency, accounts, taxes, templates, the user)."""
        known = self._fixed_ids.get(number)
        if known is None:
            known = self._fixed_ids[number] = f"{self.prefix}{number:012d}"
        return known

    def timestamp(self, moment: datetime) -> str:
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

    def _make_contact(self, index: int) -> Contact:
        rng = self._rng("contacts", index, _CATALOGUE)
        base = f"{COMPANY_WORDS[index % 20]} {COMPANY_NOUNS[(index // 20) % 15]}"
        name = f"{base} {COMPANY_SUFFIXES[(index // 300) % 6]}"
        if index >= 1800:
            name = f"{name} {index // 1800 + 1}"
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        city, state, zip_code, area = rng.choice(CITIES)
        domain = base.lower().replace(" ", "") + ".example.com"
        return Contact(
            name=name,
            first_name=first,
            last_name=last,
            email=f"{first.lower()}.{last.lower()}@{domain}",
            phone=f"+1 {area} 555 {rng.randint(100, 199):04d}",
            street=f"{rng.randint(1, 999)} {rng.choice(STREETS)}",
            city=city,
            state=state,
            zip=zip_code,
            vendor=index % 3 == 2,
        )

    def _make_item(self, index: int) -> Item:
        rng = self._rng("items", index, _CATALOGUE)
        name, unit, base_cents, hourly, description = ITEM_BASES[index % len(ITEM_BASES)]
        variant = index // len(ITEM_BASES)
        if variant:
            name = f"{name} {ITEM_VARIANTS[(variant - 1) % len(ITEM_VARIANTS)]}"
            if variant > len(ITEM_VARIANTS):
                name = f"{name} {(variant - 1) // len(ITEM_VARIANTS) + 1}"
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
        return Item(name, unit, description, tuple(rates), purchase, hourly, kind, sku)

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
            return below(rng, available // 3) * 3 + 2
        choice = below(rng, available - available // 3)
        return choice // 2 * 3 + choice % 2

    def _pick_item(self, rng: random.Random, session: int, sales: bool) -> int:
        """A sellable (kind index 0/1) or purchasable (1/2) item that exists by ``session``."""
        available = self._first["items"][session + 1]
        if sales:
            choice = below(rng, available - available // 3)
            return choice // 2 * 3 + choice % 2
        choice = below(rng, available - (available + 2) // 3)
        return choice // 2 * 3 + 1 + choice % 2

    # ------------------------------------------------------------------ timelines: when each record appears, and payments

    def _head(self, entity: str, index: int, rng: random.Random | None = None) -> Head:
        """A document's creation; its contact is the first draw of the record's events stream."""
        key = (entity, index)
        head = self._heads.get(key)
        if head is None or rng is not None:
            session = self._created_session(entity, index)
            contact = self._pick_contact(rng or self._rng(entity, index, _EVENTS), session, vendor=entity not in SALES_DOCS)
            head = Head(index, session, self._created_time(entity, index, session), contact)
            if len(self._heads) >= _CACHE_LIMIT:
                self._heads.clear()
            self._heads[key] = head
        return head

    def _payment_of(self, entity: str, index: int) -> Payment | None:
        """The payment that settles invoice/bill ``index``, if any (payment j pays document j*n/m)."""
        payments = "customerpayments" if entity == "invoices" else "vendorpayments"
        n, m = self.counts[entity], self.counts[payments]
        j = -(-index * m // n)
        if j >= m or j * n // m != index:
            return None
        return self.payment_plan(payments, j, self._head(entity, index))

    def _paid_document(self, payments: str, j: int) -> int:
        documents = "invoices" if payments == "customerpayments" else "bills"
        return j * self.counts[documents] // self.counts[payments]

    def payment_plan(self, payments: str, j: int, head: Head) -> Payment:
        """When payment ``j`` is made and how much of its document it settles (memoised)."""
        key = (payments, j)
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) >= _CACHE_LIMIT:
                self._plans.clear()
            plan = self._plans[key] = self._make_payment_plan(payments, j, head)
        return plan

    def _make_payment_plan(self, payments: str, j: int, head: Head) -> Payment:
        rng = self._rng(payments, j, _PAYMENT)
        last = len(self.sessions) - 1
        # Same session, the next one, or any later one (most invoices are paid soon after).
        options = (head.session, head.session + 1, head.session + below(rng, last - head.session + 1))
        session = head.session if head.session == last else options[below(rng, 3)]
        low, high = self._window(session)
        time = pick_time(rng, max(low, head.created), high)
        permille = 1000 if rng.random() < 0.75 else 300 + below(rng, 601)
        unused = (500, 2000, 12550)[below(rng, 3)] if payments == "customerpayments" and rng.random() < 0.1 else 0
        mode = ("check", "cash", "bank_transfer", "creditcard")[below(rng, 4)]
        return Payment(j, session, time, permille, unused, mode)

    def _document_timeline(self, entity: str, index: int) -> Timeline:
        """Creation in detail form, then payments, status moves, line edits and plain re-sends."""
        rng = self._rng(entity, index, _EVENTS)
        head = self._head(entity, index, rng)
        payment = self._payment_of(entity, index) if entity in ("invoices", "bills") else None
        flow = STATUS_FLOW[entity]
        step = 0 if payment is None and rng.random() < 0.3 else 1
        version = 0
        paid = payment is not None and payment.session == head.session
        modified = payment.time if paid and payment is not None else head.created
        emissions = [Emission(head.session, "detail", flow[step], version, paid, modified)]
        for session in range(head.session + 1, len(self.sessions)):
            low, high = self._window(session)
            if payment is not None and payment.session == session:
                paid = True
                modified = payment.time
                form = "detail" if rng.random() < 0.3 else "list"
            else:
                roll = rng.random()
                if roll < _P_UPDATE:
                    modified = pick_time(rng, low, high)
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
            emissions.append(Emission(session, form, flow[step], version, paid, modified))
        return Timeline(head, payment, tuple(emissions))

    def _simple_timeline(self, entity: str, index: int) -> Timeline:
        """Contacts, items, payments: first seen in either form, then edits and re-sends."""
        if entity in ("customerpayments", "vendorpayments"):
            documents = "invoices" if entity == "customerpayments" else "bills"
            document = self._head(documents, self._paid_document(entity, index))
            plan = self.payment_plan(entity, index, document)
            head = Head(index, plan.session, plan.time, document.contact)
        else:
            session = self._created_session(entity, index)
            head = Head(index, session, self._created_time(entity, index, session), -1)
        rng = self._rng(entity, index, _EVENTS)
        form = "detail" if rng.random() < 0.5 else "list"
        status = "active" if entity in ("contacts", "items") else "paid"
        emissions = [Emission(head.session, form, status, 0, False, head.created)]
        version = 0
        modified = head.created
        for session in range(head.session + 1, len(self.sessions)):
            low, high = self._window(session)
            roll = rng.random()
            if roll < _P_UPDATE * 0.75:
                version += 1
                modified = pick_time(rng, low, high)
                form = "detail" if rng.random() < 0.5 else "list"
            elif roll < _P_UPDATE * 0.75 + _P_RESEND:
                form = "list"
            else:
                continue
            emissions.append(Emission(session, form, status, version, False, modified))
        return Timeline(head, None, tuple(emissions))

    def timeline(self, entity: str, index: int) -> Timeline:
        if entity in DOCUMENT_ENTITIES:
            return self._document_timeline(entity, index)
        return self._simple_timeline(entity, index)

    # ------------------------------------------------------------------ line items and money

    def _new_line(self, rng: random.Random, entity: str, session: int, number: int) -> Line:
        sales = entity in SALES_DOCS
        if entity == "bills" and rng.random() < 0.2:
            return Line(number, -1, 4, (50 + below(rng, 2451)) * 100, -1, rng.random() < 0.5)
        item_index = self._pick_item(rng, session, sales)
        item = self.items[item_index]
        # Goods: 1 to 16 units; hourly work: half hours up to 8 h (rates are whole dollars).
        quarters = (1 + below(rng, 16)) * (2 if item.hourly else 4)
        rate = item.rate_cents[session] if sales else item.purchase_cents
        tax = -1
        if sales and rng.random() < 0.6:
            tax = 0 if rng.random() < 0.7 else 1
        elif not sales and rng.random() < 0.2:
            tax = 1
        return Line(number, item_index, quarters, rate, tax, tax < 0 and rng.random() < 0.4)

    def _lines(self, entity: str, index: int, head: Head, version: int) -> list[Line]:
        """Lines as of ``version``: each later version removes one line or adds one (1 to 5 lines)."""
        rng = self._rng(entity, index, _LINES)
        lines = [self._new_line(rng, entity, head.session, number) for number in range(1, 2 + below(rng, 5))]
        next_number = len(lines) + 1
        for step in range(1, version + 1):
            edit = self._rng(entity, index, _LINES_VERSION + step)
            if len(lines) == 5 or (len(lines) > 1 and edit.random() < 0.5):
                del lines[below(edit, len(lines))]
            else:
                lines.append(self._new_line(edit, entity, head.session, next_number))
                next_number += 1
        return lines

    @staticmethod
    def _totals(lines: list[Line]) -> Totals:
        line_totals = tuple(line.rate_cents * line.quarters // 4 for line in lines)
        line_taxes = tuple(
            tax_cents(total, TAXES[line.tax][2]) if line.tax >= 0 else 0
            for line, total in zip(lines, line_totals)
        )
        sub_total = sum(line_totals)
        tax_total = sum(line_taxes)
        return Totals(line_totals, line_taxes, sub_total, tax_total, sub_total + tax_total)

    def document_money(
        self, entity: str, timeline: Timeline, emission: Emission
    ) -> tuple[list[Line], Totals, int, str]:
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

    def applied(self, documents: str, payment_index: int, payments: str) -> tuple[int, Head, Totals, int]:
        """The document a payment pays, its totals and the cents applied to it."""
        document = self._paid_document(payments, payment_index)
        head = self._head(documents, document)
        totals = self._totals(self._lines(documents, document, head, 0))
        plan = self.payment_plan(payments, payment_index, head)
        return document, head, totals, totals.total * plan.permille // 1000

    # ------------------------------------------------------------------ record parts the builders share

    def number(self, entity: str, index: int) -> str:
        return NUMBER_FORMAT[entity].format(index + 1)

    def due(self, head: Head, days: int = 30) -> tuple[str, str]:
        return head.created.date().isoformat(), (head.created.date() + timedelta(days=days)).isoformat()

    def custom_fields(self, entity: str, index: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """Every other document carries a Region dropdown, like real orgs' custom fields."""
        if index % 2:
            return [], {}
        region = REGIONS[(index // 2) % len(REGIONS)]
        field_id = self.fixed_id(7133146)
        singular = entity[:-1]
        fields = [{
            "field_id": field_id, "customfield_id": field_id, "show_in_store": False,
            "show_in_portal": False, "is_active": True, "index": 1, "label": "Region",
            "show_on_pdf": False, "edit_on_portal": False, "edit_on_store": False,
            "api_name": "cf_region", "show_in_all_pdf": False,
            "selected_option_id": self.fixed_id(7133148 + REGIONS.index(region)),
            "value_formatted": region, "search_entity": singular, "data_type": "dropdown",
            "placeholder": "cf_region", "value": region, "is_dependent_field": False,
        }]
        return fields, {"cf_region": region, "cf_region_unformatted": region}

    def address(self, contact: Contact, *, detail: bool) -> dict[str, Any]:
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
    def empty_address() -> dict[str, Any]:
        return {
            "address": "", "street2": "", "city": "", "state": "", "zip": "", "country": "",
            "fax": "", "phone": "", "attention": "",
        }

    def line_dicts(
        self, entity: str, document: int, lines: list[Line], totals: Totals, status: str, extras: LineExtras
    ) -> list[dict[str, Any]]:
        """A document's ``line_items``: the fields every document type writes, then its ``extras``."""
        result = []
        for order, (line, item_total, tax_amount) in enumerate(zip(lines, totals.line_totals, totals.line_taxes), 1):
            item = self.items[line.item] if line.item >= 0 else None
            if line.tax >= 0:
                tax_number, tax_name, milli = TAXES[line.tax]
                tax_id = self.fixed_id(tax_number)
                tax_label = f"{tax_name} ({percent(milli)}%)"
                percentage: int | float | str = percent(milli)
                line_taxes = [{
                    "tax_id": tax_id, "tax_name": tax_label, "tax_amount": money(tax_amount),
                    "tax_percentage": percentage, "tax_specific_type": "tax",
                }]
            else:
                tax_id = tax_label = ""
                percentage = "" if line.blank_tax else 0
                line_taxes = []
            quantity = quantity_value(line.quarters)
            rate = money(line.rate_cents)
            sales = entity in SALES_DOCS
            record: dict[str, Any] = {
                "line_item_id": self.record_id(entity, document, line.number),
                "item_id": self.record_id("items", line.item) if item else "",
                "item_order": order,
                "name": item.name if item else "",
                "description": item.description if item else "Office services",
                "unit": item.unit if item else "",
                "quantity": quantity,
                "bcy_rate": rate,
                "rate": rate,
                "discount": 0,
                "discounts": [],
                "account_id": self.fixed_id(ACCOUNT_SALES if sales else (ACCOUNT_COGS if item else ACCOUNT_IT)),
                "account_name": "Sales" if sales else ("Cost of Goods Sold" if item else "IT and Internet Expenses"),
                "tax_id": tax_id,
                "tax_name": tax_label,
                "tax_type": "tax",
                "tax_percentage": percentage,
                "line_item_taxes": line_taxes,
                "item_total": money(item_total),
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
            record.update(extras(item, quantity, item_total, status))
            result.append(record)
        return result

    def taxes(self, lines: list[Line], totals: Totals) -> list[dict[str, Any]]:
        """Tax summary of a document: one entry per tax, in the order of TAXES."""
        summary = []
        for position, (tax_number, tax_name, milli) in enumerate(TAXES):
            amount = sum(tax for line, tax in zip(lines, totals.line_taxes) if line.tax == position)
            if any(line.tax == position for line in lines):
                summary.append({
                    "tax_id": self.fixed_id(tax_number), "tax_name": f"{tax_name} ({percent(milli)}%)",
                    "tax_amount": money(amount), "tax_amount_formatted": f"${amount / 100:,.2f}",
                })
        return summary
