"""Realistic Zoho Books api_sync session trees for demos, tests and benchmarks; stdlib and progress only.

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

The package, planning apart from laying out apart from writing (each imports only the ones
above it):

``vocabulary``  the entities, fixed ids, names, items, taxes, status flows of the sample org
``values``      the frozen values it is planned with, and the integer arithmetic of money
``plan``        ``SamplePlan``: sessions, ids, catalogues, each record's timeline, lines, money
``documents``, ``payments``, ``catalogue``
                one builder per entity: ``build_<entity>(sample, timeline, emission) -> record``
``builders``    ``BUILDERS``, the table entity -> builder (and the organization's builder)
``writer``      ``generate_sample_data``: checks, then session folders, data and metadata files
"""

from __future__ import annotations

from .builders import BUILDERS
from .vocabulary import (
    DOCUMENT_ENTITIES,
    ID_FIELDS,
    SAMPLE_ENTITIES,
    SESSION_FORMAT,
    entity_counts,
)
from .writer import SAMPLE_MARKER, generate_sample_data

__all__ = [
    "BUILDERS",
    "DOCUMENT_ENTITIES",
    "ID_FIELDS",
    "SAMPLE_ENTITIES",
    "SAMPLE_MARKER",
    "SESSION_FORMAT",
    "entity_counts",
    "generate_sample_data",
]
