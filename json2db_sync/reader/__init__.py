"""Reader stage: batches of records out of one data file; imports stdlib, orjson, ijson, errors,
progress and zoho_entities.

A data file holds one of four shapes (``Shape``):

``array``
    a JSON array of objects, ``[{...}, {...}]``;
``list_envelope``
    a Zoho list response, ``{"code": 0, "message": "success", "invoices": [...],
    "page_context": {...}}``: the records are the array under the entity's key (for an
    entity this module does not know, under the one key whose value is an array);
``detail_envelope``
    a Zoho detail response or webhook body, ``{"code": 0, "message": "...", "invoice": {...}}``
    or ``{"salesorder": {...}}``: one record under the entity's singular key (``SINGULAR_KEYS``);
``record``
    one bare record, an object holding the entity's id field (``{"invoice_id": "...", ...}``).

Anything else raises ``ValidationError`` ("JSON file must contain an array of records", the file,
what was found and what to do); broken JSON raises ``DataFileError`` with the position. An
array element that is not an object is an error too (never dropped silently).

How a file is parsed depends on its size (``stream_threshold``): at or below
``memory_limit_mb`` MiB / ``PARSE_EXPANSION`` it is read whole with orjson, the garbage collector
paused around the parse and the parsed tree frozen out of its way until the last batch is out
(``gc.freeze``/``gc.unfreeze``); above it, it is streamed with ijson's C backend, so memory stays bounded
by one batch of records. Both paths give the same records.

Tolerant results: a UTF-8 byte order mark is skipped; integers beyond 64 bits come back as exact
Python ints (orjson would turn them into floats, so such files are parsed with the stdlib
``json`` module, or streamed a second time without ``use_float``); duplicate keys in one
object: the last one wins. Refused: NaN, Infinity and numbers that overflow a double (a
non-finite amount is not a number in the books), and records nested more than
``MAX_NESTING_DEPTH`` levels.

Both paths give one answer for one file, envelopes included: an envelope that writes a deciding
key (the list key, the detail key, ``code``) twice, or holds both the list and a detail record,
is refused as ambiguous naming the file, and a Zoho error ``code`` is found wherever it is
written, after the records too (the streamed path reads what follows the records exactly, and
counts the deciding keys in the bytes before ijson streams an envelope).

Usage::

    reader = RecordReader(path, "invoices", batch_size=1000, memory_limit_mb=512)
    for batch in reader:          # lists of at most batch_size dicts, in file order
        ...
    reader.shape, reader.records  # "list_envelope", 200

``iter_record_batches`` returns such a reader; ``count_records`` and ``sha256_file`` serve the
ledger and "browse sessions".

The package, one idea a module, from the bottom up (each imports only modules listed above it):

``files``          opening, sizing and hashing a file, OS errors said as what to do, the GC pause
``diagnosis``      parse failures as errors naming the file, the place and what to do
``numbers``        numbers a double cannot hold, found in the bytes before parsing
``shapes``         the four shapes, Zoho's detail keys, the envelope facts both paths judge alike
``state``          what a reader learns as it reads, and the checks every path applies
``whole_file``     small files: read at once, parsed with orjson (or exactly with ``json``)
``chunked``        large arrays: cut at record boundaries, each chunk parsed with orjson
``streaming``      large files: shape from ijson's events, records by ``chunked`` else ijson
``record_reader``  ``RecordReader`` picks the path by size; ``iter_record_batches``, ``count_records``
"""

from __future__ import annotations

from ..zoho_entities import SINGULAR_KEYS
from .files import MAX_NESTING_DEPTH, sha256_file
from .numbers import inexact_decimal
from .record_reader import (
    PARSE_EXPANSION,
    RecordReader,
    count_records,
    iter_record_batches,
    stream_threshold,
)
from .shapes import Shape, default_id_fields, singular_key

__all__ = [
    "MAX_NESTING_DEPTH",
    "PARSE_EXPANSION",
    "SINGULAR_KEYS",
    "RecordReader",
    "Shape",
    "count_records",
    "default_id_fields",
    "inexact_decimal",
    "iter_record_batches",
    "sha256_file",
    "singular_key",
    "stream_threshold",
]
