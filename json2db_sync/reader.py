"""Reader stage: batches of records out of one data file; imports stdlib, orjson, ijson, errors, progress.

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
"""

from __future__ import annotations

import codecs
import errno
import gc
import hashlib
import io
import itertools
import json
import logging
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal

import ijson
import orjson

from .errors import ConfigError, DataFileError, Json2DBError, ValidationError
from .progress import ProgressCallback, ProgressEvent
from .zoho_entities import KNOWN_ID_FIELDS, SINGULAR_KEYS

try:  # the C backend is what makes streaming affordable; the pure-Python one still works
    _ijson = ijson.get_backend("yajl2_c")
except ImportError:  # pragma: no cover - depends on the installed wheel
    _ijson = ijson

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_NESTING_DEPTH",
    "PARSE_EXPANSION",
    "SINGULAR_KEYS",
    "RecordReader",
    "Shape",
    "count_records",
    "default_id_fields",
    "iter_record_batches",
    "sha256_file",
    "singular_key",
    "stream_threshold",
]

Shape = Literal["array", "list_envelope", "detail_envelope", "record"]



#: A parsed Python object tree costs this many times the JSON bytes. Measured on 57 MiB of
#: Zoho-shaped invoices (5,000 records with 5 line items, 12 KB each; Python 3.11, orjson 3.13):
#: peak RSS 382 MiB while parsing whole = 6.5x the file, the raw bytes included (stdlib json:
#: 4.5x); sales orders with many short fields reach 7.8x. 12 leaves room for the batch the
#: populator holds and for what the allocator keeps after earlier files of the same run: a full
#: sync of 100,000 invoices and the other nine entities (1.6 GB) peaks at about 600 MiB with the
#: default 512 MB limit (it peaked at 746 MiB with 8).
PARSE_EXPANSION = 12

#: Deepest nesting of objects and arrays in one record (the record itself is level 1): the most
#: orjson.dumps can write back (its limit is 255 levels with a scalar inside), so every record
#: can be stored as JSON text or quarantined, and recursive code downstream stays far from
#: Python's recursion limit.
MAX_NESTING_DEPTH = 254

_MIB = 1024 * 1024
_BOM = codecs.BOM_UTF8
_WHITESPACE = b" \t\r\n"
_CHUNK = 1024 * 1024
_ADVICE_DATA_FILES = (
    "point json2db_sync at the data files api_sync writes under "
    "sync_session_*/raw_json/<timestamp>/ (not at sync_metadata_*.json files)"
)
_ADVICE_BROKEN = "re-run api_sync for this entity, or move the file out of the data folder"

# Digits mapped to "0", "-" and "." kept, everything else to " ": an integer beyond 64 bits then shows
# as 20 zeros in a row (or "-" and 19). Found in ~0.045 s per 57 MiB (a regex takes 10x that).
_DIGITS_TABLE = bytes(0x30 if 0x30 <= b <= 0x39 else b if b in (0x2D, 0x2E) else 0x20 for b in range(256))
_BIG_POSITIVE = b"0" * 20
_BIG_NEGATIVE = b"-" + b"0" * 19
# The "." is kept by a second table: a decimal with more than 15 significant digits has at
# least 8 of them on one side of its point.
_LONG_BEFORE_POINT = b"0" * 8 + b"."
_LONG_AFTER_POINT = b"." + b"0" * 8
_LONG_DECIMAL = re.compile(rb"-?(?:[0-9]{8,}\.[0-9]*|[0-9]*\.[0-9]{8,})(?:[eE][-+]?[0-9]+)?")
_NON_FINITE_LITERAL = re.compile(r"Infinity|NaN")  # where orjson stops (its pos counts characters)
_BLANK = re.compile(rb"[ \t\r\n]*")


def singular_key(entity: str) -> str:
    """Zoho's detail key for an entity: the known table, else "ies"→"y", else drop one "s"."""
    known = SINGULAR_KEYS.get(entity)
    if known is not None:
        return known
    if entity.endswith("ies") and len(entity) > 3:
        return entity[:-3] + "y"
    if entity.endswith("s") and len(entity) > 1:
        return entity[:-1]
    return entity


def default_id_fields(entity: str, id_field: str | None = None) -> tuple[str, ...]:
    """The fields whose presence makes an object a bare record of ``entity``, most specific first."""
    fields = [id_field] if id_field else []
    own = KNOWN_ID_FIELDS.get(entity)
    if own:
        fields.append(own)
    fields.append(f"{singular_key(entity)}_id")
    return tuple(dict.fromkeys(fields))


def stream_threshold(memory_limit_mb: int) -> int:
    """Largest file (bytes) read whole: ``memory_limit_mb`` MiB / ``PARSE_EXPANSION`` (42 MiB at 512)."""
    return max(0, int(memory_limit_mb)) * _MIB // PARSE_EXPANSION


class RecordReader:
    """Batches of records out of one file, and what was learnt about the file on the way.

    The reader is an iterator of ``list[dict]`` batches (at most ``batch_size`` records each, in
    file order); iterate it once. Its attributes fill in as it goes:

    Attributes:
        path, entity: what is read.
        shape: the file's ``Shape``; known before the first batch is yielded.
        envelope_key: the key holding the records (``"invoices"``, ``"invoice"``), else None.
        records: records yielded so far; after exhaustion, the file's record count.
        streamed: True when the file was streamed with ijson rather than read whole.
        size: the file's size in bytes (None before reading starts).
        done: True once every batch has been yielded.
        big_integers: True once a record holding a number a double cannot hold exactly (an
            integer beyond 64 bits, or a decimal with more significant digits than a double
            keeps, which comes as a ``Decimal``) was handed out
            (the populator then checks every integer's range for the rest of the file).

    Raises (while iterating): ``DataFileError`` for a file that cannot be read or is not valid
    JSON, ``ValidationError`` for valid JSON that is not records, each naming the file.
    """

    def __init__(
        self,
        path: Path | str,
        entity: str,
        *,
        batch_size: int = 1000,
        memory_limit_mb: int = 512,
        id_field: str | None = None,
        stream_threshold_bytes: int | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(
                f"batch_size={batch_size!r} must be at least 1; set JSON2DB_BATCH_SIZE to e.g. 1000"
            )
        self.path = Path(path)
        self.entity = entity
        self.batch_size = int(batch_size)
        self.id_fields = default_id_fields(entity, id_field)
        self.threshold = (
            stream_threshold(memory_limit_mb) if stream_threshold_bytes is None else stream_threshold_bytes
        )
        self.progress_callback = progress_callback
        self.shape: Shape | None = None
        self.envelope_key: str | None = None
        self.records = 0
        self.streamed = False
        self.size: int | None = None
        self.done = False
        self.big_integers = False
        # A list envelope's ``page_context`` (and top-level ``total``), for
        # :meth:`incomplete_reason`; read from the tail of the file when it was streamed.
        self.page_context: dict[str, Any] | None = None
        self._batches: Iterator[list[dict[str, Any]]] | None = None
        # What the streamed path learnt of the envelope: the top-level keys before the
        # records (in order, repeats included), their kinds and code/message, and the
        # bytes after the records array (chunked path).
        self._head_keys: list[str] = []
        self._head_kinds: dict[str, str] = {}
        self._head_scalars: dict[str, Any] = {}
        self._tail = b""

    def __iter__(self) -> RecordReader:
        return self

    def __next__(self) -> list[dict[str, Any]]:
        if self._batches is None:
            self._batches = self._generate()
        return next(self._batches)

    def __repr__(self) -> str:
        return f"RecordReader({str(self.path)!r}, {self.entity!r}, shape={self.shape!r}, records={self.records})"

    # --- driving -------------------------------------------------------------------

    def _generate(self) -> Iterator[list[dict[str, Any]]]:
        """Pick the parse path by size, then hand out batches with progress after each."""
        self.size = _file_size(self.path)
        self.streamed = self.size > self.threshold
        source = self._stream() if self.streamed else self._whole()
        for batch in source:
            self.records += len(batch)
            if self.progress_callback is not None:
                event = ProgressEvent(step="read", current=self.records, total=None, detail=str(self.path))
                self.progress_callback(event)
            yield batch
        if self.streamed and self.shape == "list_envelope":
            self.page_context = _tail_page_context(self.path)
        self.done = True
        logger.debug(
            "%s: %d records (%s%s)", self.path, self.records, self.shape, ", streamed" if self.streamed else ""
        )

    def _set_shape(self, shape: Shape, key: str | None) -> None:
        self.shape = shape
        self.envelope_key = key

    def _check_record(self, value: Any, index: int) -> dict[str, Any]:
        """A record must be an object nested no deeper than MAX_NESTING_DEPTH; say where it is not."""
        if type(value) is not dict:
            array = f"the '{self.envelope_key}' array" if self.envelope_key else "the array"
            raise ValidationError(
                f"{self.path}: JSON file must contain an array of records, but element {index} of {array} is "
                f"{_describe(value)}, not an object; remove that element or fix the export"
            )
        try:
            orjson.dumps(value)  # C-speed depth check (~0.03 s per 57 MiB); also fails on big ints
        except orjson.JSONEncodeError:
            if _nesting_depth(value) > MAX_NESTING_DEPTH:
                raise ValidationError(
                    f"{self.path}: record {index}: nesting is too deep (more than {MAX_NESTING_DEPTH} levels "
                    "of objects and arrays); this is not a Zoho record: fix the export or move the file "
                    "out of the data folder"
                ) from None
            # Not too deep, so orjson refused an integer beyond 64 bits: tell the caller.
            self.big_integers = True
        return value

    # --- whole-file path -----------------------------------------------------------

    def _whole(self) -> Iterator[list[dict[str, Any]]]:
        """Read and parse the file at once (fast), then slice the records into batches.

        The parsed tree is acyclic, so it is frozen out of the cyclic GC until the last batch
        is out: otherwise the first collection after the parse walks every object of it
        (0.14 s on a 0.19 s parse of 57 MiB) and later full collections do it again.
        """
        data = _read_bytes(self.path)
        with _gc_paused(freeze=True):
            document = _parse_document(self.path, data)
        try:
            records = self._records_of(document)
            if isinstance(document, dict):
                self._check_whole_envelope(document, data)
            del data
            del document
            size = self.batch_size
            check = self._check_record
            for start in range(0, len(records), size):
                yield [check(value, start + offset) for offset, value in enumerate(records[start : start + size])]
            del records
        finally:
            gc.unfreeze()

    def _records_of(self, document: Any) -> list[Any]:
        """The records of a parsed document, by shape; anything else is a ValidationError."""
        if isinstance(document, list):
            self._set_shape("array", None)
            return document
        if not isinstance(document, dict):
            raise ValidationError(
                f"{self.path}: JSON file must contain an array of records (found {_describe(document)}); "
                f"{_ADVICE_DATA_FILES}"
            )
        kinds = {key: _kind(value) for key, value in document.items()}
        code, message = document.get("code"), document.get("message")
        shape, key = _classify(self.path, self.entity, self.id_fields, kinds, code, message)
        self._set_shape(shape, key)
        if shape == "list_envelope":
            self.page_context = _page_context_of(document)
            return document[key]
        if shape == "detail_envelope":
            return [document[key]]
        return [document]

    def _check_whole_envelope(self, document: dict[str, Any], data: bytes) -> None:
        """Refuse an ambiguous envelope read whole. The parsed object has lost repeated keys
        (the last one wins), so the bytes are asked first whether a deciding key is written
        more than once, and only then are the top-level keys listed exactly (rarely)."""
        keys: list[str] = list(document)
        deciding = [key for key in self._deciding_keys() if key in document]
        if any(_key_count(data, key, limit=2) > 1 for key in deciding):
            keys, _ = _top_level_keys(memoryview(data), self.path)
        kinds = {key: _kind(value) for key, value in document.items()}
        self._check_envelope(keys, kinds)

    def _deciding_keys(self) -> tuple[str, ...]:
        """The top-level keys whose repetition would change what the file says."""
        return tuple(dict.fromkeys(k for k in (self.envelope_key, self.entity, singular_key(self.entity), "code") if k))

    def _check_envelope(self, keys: list[str], kinds: dict[str, str]) -> None:
        """The rules both readers apply to an envelope, so that they give one answer: a
        deciding key written twice, or a list and a detail record side by side, is refused
        naming the file and the reason (never one record here and thousands there)."""
        if self.shape not in ("list_envelope", "detail_envelope"):
            return
        for key in self._deciding_keys():
            count = keys.count(key)
            if count > 1:
                raise ValidationError(
                    f"{self.path}: ambiguous envelope: the top-level key '{key}' is written {count} times, so it "
                    "is not clear which one holds the data; fix the export (re-run api_sync for this entity) "
                    "or move the file out of the data folder"
                )
        singular = singular_key(self.entity)
        if kinds.get(self.entity) == "array" and kinds.get(singular) == "object":
            raise ValidationError(
                f"{self.path}: ambiguous envelope: it holds both the '{self.entity}' list and the '{singular}' "
                "detail record, so it is not clear which is the data; fix the export (re-run api_sync for this "
                "entity) or move the file out of the data folder"
            )

    # --- streaming path ------------------------------------------------------------

    def _stream(self) -> Iterator[list[dict[str, Any]]]:
        """A large file: records parsed chunk by chunk with orjson where the file allows it
        (arrays and list envelopes), else, and for whatever a chunk cannot settle, with
        ijson; on an integer beyond 64 bits, ijson starts again exactly (Decimal mode)."""
        start = self._detect_streamed_shape()
        skip = 0
        exact: bool | None = None
        if self.shape in ("array", "list_envelope"):
            try:
                yield from self._chunks(start)
                return
            except _ChunkingFailed as exc:
                logger.debug("%s: chunked parsing stopped (%s); streaming with ijson from record %d",
                             self.path, exc, self.records)
                skip = self.records
                exact = True if exc.exact else None
        offset = _lone_surrogate_offset(self.path)
        if offset is not None:
            # yajl would turn it into "?" silently; the whole-file path refuses it too
            raise DataFileError(
                f"{self.path}: a \\u escape at byte offset {offset} is half of a UTF-16 surrogate "
                "pair, which is not a character: fix the export (the whole-file reader refuses it too)"
            )
        if self.shape in ("list_envelope", "detail_envelope"):
            self._check_streamed_envelope()
        prefixes = {"array": "item", "list_envelope": f"{self.envelope_key}.item", "detail_envelope": self.envelope_key}
        prefix = prefixes.get(self.shape or "record") or ""
        if exact is None:
            # Not settled by the chunks: one cheap pass over the bytes says whether ijson's
            # floats would round a number (its integers past 64 bits announce themselves).
            exact = _file_needs_exact_numbers(self.path)
        if exact:
            yield from self._stream_items(start, prefix, exact=True, skip=skip)
            return
        try:
            yield from self._stream_items(start, prefix, exact=False, skip=skip)
        except _NeedsExactNumbers:
            logger.info("%s: integers beyond 64 bits; streaming again with exact numbers", self.path)
            yield from self._stream_items(start, prefix, exact=True, skip=self.records)

    def _check_streamed_envelope(self) -> None:
        """Before ijson streams an envelope's records: the whole file's top-level keys, as
        the whole-file reader sees them. Counting the deciding keys in the bytes (C speed)
        settles the usual file; only when one is written more often than the keys seen
        before the records account for are the top-level keys listed exactly."""
        expected = {key: self._head_keys.count(key) for key in self._deciding_keys()}
        counts = _file_key_counts(self.path, tuple(expected))
        if all(counts[key] <= expected[key] for key in expected):
            return
        with _open(self.path) as handle:
            keys, scalars = _top_level_keys(handle, self.path)
        kinds = dict(self._head_kinds)
        for key in keys:
            kinds.setdefault(key, "a JSON value")
        kinds.update(scalars.get("__kinds__", {}))
        if "code" in scalars:  # first, as the whole-file reader (which sees the last code)
            _check_code(self.path, self.entity, scalars["code"], scalars.get("message"))
        self._check_envelope(keys, kinds)

    # --- chunked path (large arrays with orjson, memory bounded by the chunk) ---------

    def _chunks(self, start: int) -> Iterator[list[dict[str, Any]]]:
        """Cut the records array into chunks at record boundaries and parse each with orjson.

        The buffer is a bytearray whose first byte is turned into ``[`` and whose byte after
        the cut into ``]``, so orjson parses it in place (no copy). A cut is only trusted
        when that parses: a balanced prefix ending in ``}`` before a ``,`` is a boundary
        between records, never a ``},{`` inside a string or a nested array. Anything
        unusual (no boundary, integers beyond 64 bits, invalid JSON) raises
        ``_ChunkingFailed`` and ijson takes over from the records already handed out.
        """
        # parsed chunk + rows in flight stay within the limit: a quarter of the threshold kept a
        # 100,000-invoice load at 391 MiB (half of it: 488 MiB) for the same CPU time
        base_size = max(_MIB, self.threshold // 4)
        chunk_size = base_size
        check = self._check_record
        size = self.batch_size
        try:
            with _open(self.path) as handle:
                handle.seek(self._array_start(handle, start))
                buffer = bytearray(b"[")
                at_end = False
                token: bytes | None = None
                while True:
                    while not at_end and len(buffer) < chunk_size:
                        data = handle.read(chunk_size - len(buffer))
                        at_end = not data
                        buffer += data
                    if token is None:
                        token = _first_key_token(buffer)
                    if _needs_exact_numbers(memoryview(buffer)):
                        raise _ChunkingFailed("numbers a double cannot hold need the exact parser", exact=True)
                    if at_end:
                        records = self._parse_last_chunk(buffer)
                    else:
                        records = self._parse_chunk(buffer, token)
                        if records is None:
                            # A record larger than the chunk, or something orjson refuses:
                            # read more, but never far past the memory the limit allows.
                            if chunk_size >= _MAX_CHUNK_GROWTH * base_size:
                                raise _ChunkingFailed("no record boundary within the memory limit")
                            chunk_size *= 2
                            continue
                        chunk_size = base_size
                    index = self.records
                    for begin in range(0, len(records), size):
                        yield [check(value, index + begin + offset) for offset, value in
                               enumerate(records[begin : begin + size])]
                    del records
                    if at_end:
                        self._check_streamed_tail()
                        return
        finally:
            gc.unfreeze()

    def _check_streamed_tail(self) -> None:
        """After the last record of a chunked envelope: what follows the records (read
        exactly: it is small) joins the keys seen before them, and the envelope rules and
        a Zoho error ``code`` written after the records apply as when reading whole."""
        if self.shape != "list_envelope":
            return
        tail_keys: list[str] = []
        tail_kinds: dict[str, str] = {}
        tail_scalars: dict[str, Any] = {}
        if self._tail.startswith(b","):
            closing = b"{" + self._tail[1:]
            tail_keys, _ = _top_level_keys(memoryview(closing), self.path)
            tail_kinds = {key: _kind(value) for key, value in orjson.loads(closing).items()}
            tail_scalars = orjson.loads(closing)
        if "code" in tail_scalars:  # first, as the whole-file reader (which sees the last code)
            _check_code(self.path, self.entity, tail_scalars.get("code"),
                        tail_scalars.get("message", self._head_scalars.get("message")))
        self._check_envelope(self._head_keys + tail_keys, {**self._head_kinds, **tail_kinds})

    def _parse_chunk(self, buffer: bytearray, token: bytes | None) -> list[Any] | None:
        """Parse the buffer up to its last record boundary and drop those bytes from it;
        None when no boundary is found (the buffer is left as it was). Boundaries are
        looked for by the first record's first key, then by any ``},`` (records of one file
        do not always start with the same key)."""
        candidates = _boundaries(buffer, token)
        if token is not None:
            candidates = itertools.chain(candidates, _boundaries(buffer, None))
        for close, separator in candidates:
            saved = buffer[close + 1]
            buffer[close + 1] = 0x5D  # "]"
            records = _loads_list(buffer, close + 2)
            buffer[close + 1] = saved
            if records is not None:
                del buffer[:separator]
                buffer[0] = 0x5B  # "[": the separator opens the next chunk
                return records
        return None

    def _parse_last_chunk(self, buffer: bytearray) -> list[Any]:
        """The array's end: the last ``]`` whose tail closes the file and whose prefix parses."""
        end = len(buffer)
        for _attempt in range(_CUT_ATTEMPTS):
            end = buffer.rfind(b"]", 0, end)
            if end < 0:
                break
            if not self._closes_file(bytes(buffer[end + 1 :])):
                continue
            records = _loads_list(buffer, end + 1)
            if records is not None:
                self._tail = bytes(buffer[end + 1 :]).strip(_WHITESPACE)
                return records
        raise _ChunkingFailed("the end of the records array was not found")

    def _array_start(self, handle: IO[bytes], start: int) -> int:
        """Offset just after the ``[`` that opens the records."""
        if self.shape == "array":
            return start + 1
        head = handle.read(_MIB)
        key = orjson.dumps(self.envelope_key)
        for match in re.finditer(re.escape(key) + rb"\s*:\s*\[", head):
            try:  # a real key, not the same text inside a string: the header parses
                parsed = orjson.loads(head[start : match.end()] + b"]}")
            except orjson.JSONDecodeError:
                continue
            if isinstance(parsed, dict) and parsed.get(self.envelope_key) == []:
                return match.end()
        raise _ChunkingFailed(f"the '{self.envelope_key}' array does not start in the first MiB")

    def _closes_file(self, tail: bytes) -> bool:
        tail = tail.strip(_WHITESPACE)
        if self.shape == "array":
            return not tail
        if tail == b"}":
            return True
        if not tail.startswith(b","):
            return False
        try:
            return isinstance(orjson.loads(b"{" + tail[1:]), dict)
        except orjson.JSONDecodeError:
            return False

    def _stream_items(self, start: int, prefix: str, *, exact: bool, skip: int) -> Iterator[list[dict[str, Any]]]:
        """Batches from ``ijson.items``; the GC is paused while a batch fills, never across a yield."""
        size = self.batch_size
        check = self._check_record
        with _open(self.path) as handle:
            handle.seek(start)
            reader = _TrackingReader(handle, start)
            items = _ijson.items(reader, prefix, use_float=not exact)
            index = 0
            batch: list[dict[str, Any]] = []
            while True:
                with _gc_paused(), self._ijson_errors(reader):
                    for value in items:
                        if index >= skip:
                            value = check(value, index)  # before converting: it bounds the depth
                            batch.append(_exact_to_float(self.path, value, index) if exact else value)
                        index += 1
                        if len(batch) >= size:
                            break
                    else:
                        break
                yield batch
                batch = []
            if batch:
                yield batch

    def _detect_streamed_shape(self) -> int:
        """Set shape and key without loading the file; return the offset where the JSON starts.

        Looks at the first significant byte; for an object, walks ijson's parse events of the top
        level, stopping as soon as the entity's key opens an array (Zoho writes ``code`` and
        ``message`` before it, so those are seen; a ``code`` written after the records is not).
        """
        with _open(self.path) as handle:
            start, first = _first_significant_byte(self.path, handle)
            if first == b"[":
                self._set_shape("array", None)
                return start
            if first != b"{":
                wide = _wide_encoding(self.path)
                if wide is not None:
                    raise _wide_encoding_error(self.path, wide)
                raise ValidationError(
                    f"{self.path}: JSON file must contain an array of records "
                    f"(found {_describe_first_byte(first)}); {_ADVICE_DATA_FILES}"
                )
            handle.seek(start)
            reader = _TrackingReader(handle, start)
            kinds: dict[str, str] = {}
            scalars: dict[str, Any] = {}
            with self._ijson_errors(reader):
                self._scan_top_level(reader, kinds, scalars)
        code, message = scalars.get("code"), scalars.get("message")
        shape, key = _classify(self.path, self.entity, self.id_fields, kinds, code, message)
        self._set_shape(shape, key)
        self._head_kinds, self._head_scalars = kinds, scalars
        self._check_envelope(self._head_keys, kinds)
        return start

    def _scan_top_level(self, reader: _TrackingReader, kinds: dict[str, str], scalars: dict[str, Any]) -> None:
        """Collect the top-level keys with the kind of their values (and code/message values)."""
        depth = 0
        key: str | None = None
        for _prefix, event, value in _ijson.parse(reader, use_float=False):
            if depth == 1 and key is not None:
                kinds[key] = _EVENT_KINDS.get(event, "a JSON value")
                if key in ("code", "message") and event not in ("start_map", "start_array"):
                    scalars[key] = value
                if key == self.entity and event == "start_array":
                    return  # the records: decided, do not read through them now
                key = None
            if event == "map_key" and depth == 1:
                key = value
                self._head_keys.append(value)
            elif event in ("start_map", "start_array"):
                depth += 1
            elif event in ("end_map", "end_array"):
                depth -= 1

    @contextmanager
    def _ijson_errors(self, reader: _TrackingReader) -> Iterator[None]:
        """Turn ijson's errors into DataFileError naming the file and where it broke."""
        try:
            yield
        except ijson.JSONError as exc:
            raise _streamed_error(self.path, reader, exc) from None
        except OSError as exc:
            raise _os_error(self.path, exc) from None


    def incomplete_reason(self) -> str | None:
        """Why the export this file holds says it is incomplete, or None: Zoho's
        ``page_context.has_more_page`` is true (api_sync stopped before the last page), or
        a ``total`` announces more records than the file holds. Call after the last batch."""
        context = self.page_context
        if not context:
            return None
        if context.get("has_more_page") is True:
            page = context.get("page")
            where = f" after page {page}" if isinstance(page, int) else ""
            return f"page_context.has_more_page is true{where}: Zoho had more records than the export holds"
        total = context.get("total")
        if isinstance(total, int) and not isinstance(total, bool) and total > self.records:
            return f"the export announces {total} records (total) but holds {self.records}"
        return None


_TAIL_BYTES = 64 * 1024
_PAGE_CONTEXT_KEY = re.compile(rb'"page_context"\s*:\s*\{')
_HAS_MORE = re.compile(rb'"has_more_page"\s*:\s*(true|false)')
_TOTAL = re.compile(rb'"total"\s*:\s*(\d+)')
_PAGE = re.compile(rb'"page"\s*:\s*(\d+)')


def _page_context_of(document: dict[str, Any]) -> dict[str, Any] | None:
    """``page_context`` of a parsed list envelope, with a top-level ``total`` folded in."""
    context = document.get("page_context")
    found = dict(context) if isinstance(context, dict) else {}
    total = document.get("total")
    if "total" not in found and isinstance(total, int) and not isinstance(total, bool):
        found["total"] = total
    return found or None


def _tail_page_context(path: Path) -> dict[str, Any] | None:
    """The ``page_context`` of a streamed list envelope, from the file's last 64 KiB (Zoho
    writes it after the records; the records are not read a second time)."""
    try:
        with _open(path) as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - _TAIL_BYTES))
            tail = handle.read()
    except (OSError, DataFileError):
        return None
    starts = [m.end() for m in _PAGE_CONTEXT_KEY.finditer(tail)]
    if not starts:
        return None
    body = tail[starts[-1] :]
    found: dict[str, Any] = {}
    if (match := _HAS_MORE.search(body)) is not None:
        found["has_more_page"] = match.group(1) == b"true"
    if (match := _TOTAL.search(body)) is not None:
        found["total"] = int(match.group(1))
    if (match := _PAGE.search(body)) is not None:
        found["page"] = int(match.group(1))
    return found or None


def iter_record_batches(
    path: Path | str,
    entity: str,
    *,
    batch_size: int = 1000,
    memory_limit_mb: int = 512,
    id_field: str | None = None,
    stream_threshold_bytes: int | None = None,
    progress_callback: ProgressCallback | None = None,
) -> RecordReader:
    """Lists of at most ``batch_size`` records of one file, in file order (see ``RecordReader``).

    Args:
        path: the data file.
        entity: the entity the file holds (``invoices``), which names the envelope keys.
        batch_size: records per batch.
        memory_limit_mb: decides whole-file parsing versus streaming (``stream_threshold``).
        id_field: the id field that marks a bare record, besides the entity's own.
        stream_threshold_bytes: overrides the size rule (0 streams every non-empty file).
        progress_callback: called once per batch with ``ProgressEvent(step="read", ...)``.

    Returns:
        A ``RecordReader``: iterate it for the batches, then read ``shape`` and ``records``.
    """
    return RecordReader(
        path,
        entity,
        batch_size=batch_size,
        memory_limit_mb=memory_limit_mb,
        id_field=id_field,
        stream_threshold_bytes=stream_threshold_bytes,
        progress_callback=progress_callback,
    )


def count_records(path: Path | str, entity: str, **kwargs: Any) -> int:
    """How many records a file holds, read the same way a load reads it (for "browse sessions")."""
    reader = RecordReader(path, entity, **kwargs)
    for _batch in reader:
        pass
    return reader.records


def sha256_file(path: Path | str) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks (the ledger's identity of a file)."""
    path = Path(path)
    digest = hashlib.sha256()
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    with _open(path) as handle:
        try:
            while True:
                count = handle.readinto(buffer)
                if not count:
                    break
                digest.update(view[:count])
        except OSError as exc:
            raise _os_error(path, exc) from None
    return digest.hexdigest()


# --- shape rules (shared by both paths) ------------------------------------------------

_EVENT_KINDS = {
    "start_map": "object",
    "start_array": "array",
    "string": "string",
    "number": "number",
    "integer": "number",
    "double": "number",
    "boolean": "boolean",
    "null": "null",
}


def _kind(value: Any) -> str:
    """The JSON type of a parsed value, in the words of ``_EVENT_KINDS``."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def _classify(
    path: Path, entity: str, id_fields: tuple[str, ...], kinds: dict[str, str], code: Any, message: Any
) -> tuple[Shape, str | None]:
    """Decide the shape of a top-level object from its keys and the kinds of their values.

    In order: the entity's key holding an array (list envelope); the singular key holding an
    object (detail envelope); for an entity not in SINGULAR_KEYS, the one key holding an array;
    an id field (bare record). A Zoho ``code`` other than 0 on anything but a bare record is
    Zoho's error, quoted.
    """
    shape: Shape | None = None
    key: str | None = None
    singular = singular_key(entity)
    if kinds.get(entity) == "array":
        shape, key = "list_envelope", entity
    elif kinds.get(singular) == "object":
        shape, key = "detail_envelope", singular
    elif entity not in SINGULAR_KEYS and len(arrays := [k for k, kind in kinds.items() if kind == "array"]) == 1:
        shape, key = "list_envelope", arrays[0]
    elif any(field in kinds for field in id_fields):
        return "record", None
    if "code" in kinds:
        _check_code(path, entity, code, message)
    if shape is None:
        raise ValidationError(
            f"{path}: JSON file must contain an array of records "
            f"(found {_describe_object(entity, singular, id_fields, kinds)}); {_ADVICE_DATA_FILES}"
        )
    return shape, key


def _check_code(path: Path, entity: str, code: Any, message: Any) -> None:
    """A Zoho ``code`` other than 0 is Zoho's error, quoted (wherever in the file it is)."""
    if code not in (0, "0"):
        raise ValidationError(
            f"{path}: JSON file must contain an array of records, but it holds a Zoho error response "
            f"(code {code}: {message!r}); re-run api_sync for '{entity}' and load the session it writes"
        )


def _key_pattern(key: str) -> re.Pattern[bytes]:
    return re.compile(re.escape(orjson.dumps(key)) + rb"[ \t\r\n]*:")


def _key_count(data: bytes | memoryview, key: str, *, limit: int) -> int:
    """How often ``"key":`` is written in the bytes (at any depth), counting up to ``limit``."""
    count = 0
    for _match in _key_pattern(key).finditer(data):
        count += 1
        if count >= limit:
            break
    return count


def _file_key_counts(path: Path, keys: tuple[str, ...]) -> dict[str, int]:
    """:func:`_key_count` of each key over a file read 1 MiB at a time (matches that span
    two reads are found in the overlap kept between them; none is counted twice)."""
    patterns = {key: _key_pattern(key) for key in keys}
    counts = dict.fromkeys(keys, 0)
    overlap = max((len(orjson.dumps(key)) + 64 for key in keys), default=0)
    with _open(path) as handle:
        carry = b""
        while True:
            data = handle.read(_CHUNK)
            window = carry + data
            limit = len(window) if not data else max(0, len(window) - overlap)
            for key, pattern in patterns.items():
                counts[key] += sum(1 for match in pattern.finditer(window) if match.start() < limit)
            if not data:
                return counts
            carry = window[limit:]


def _top_level_keys(source: Any, path: Path) -> tuple[list[str], dict[str, Any]]:
    """Every top-level key of an object document in order (repeats included), with the last
    scalar ``code`` and ``message`` and the kinds of the top-level values (under
    ``"__kinds__"``). Exact but slow (ijson's events): only for files the byte counts flag."""
    if isinstance(source, memoryview):
        source = io.BytesIO(source)
    keys: list[str] = []
    scalars: dict[str, Any] = {}
    kinds: dict[str, str] = {}
    depth = 0
    key: str | None = None
    try:
        for _prefix, event, value in _ijson.parse(source, use_float=False):
            if depth == 1 and key is not None:
                kinds[key] = _EVENT_KINDS.get(event, "a JSON value")
                if key in ("code", "message") and event not in ("start_map", "start_array"):
                    scalars[key] = value
                key = None
            if event == "map_key" and depth == 1:
                key = value
                keys.append(value)
            elif event in ("start_map", "start_array"):
                depth += 1
            elif event in ("end_map", "end_array"):
                depth -= 1
    except ijson.JSONError as exc:
        raise DataFileError(f"{path}: not valid JSON ({exc}); {_ADVICE_BROKEN}") from None
    scalars["__kinds__"] = kinds
    return keys, scalars


def _describe_object(entity: str, singular: str, id_fields: tuple[str, ...], kinds: dict[str, str]) -> str:
    """What an unusable top-level object holds, for the error message."""
    if not kinds:
        return "an empty object"
    shown = list(kinds)[:12]
    more = f" and {len(kinds) - 12} more" if len(kinds) > 12 else ""
    keys = ", ".join(shown) + more
    if entity in kinds:
        return f"an object whose '{entity}' key holds {_article(kinds[entity])}, not an array"
    if singular in kinds:
        return f"an object whose '{singular}' key holds {_article(kinds[singular])}, not an object"
    arrays = [k for k, kind in kinds.items() if kind == "array"]
    if entity not in SINGULAR_KEYS and len(arrays) > 1:
        return f"an object with several arrays ({', '.join(arrays)}) and no '{entity}' key"
    ids = " or ".join(f"'{field}'" for field in id_fields)
    return f"an object with keys {keys} but no '{entity}' key, no '{singular}' object and no {ids} field"


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _describe(value: Any) -> str:
    """'a string', 'null', 'an array', ... for messages about a parsed value."""
    kind = _kind(value)
    return "null" if kind == "null" else _article(kind)


def _describe_first_byte(first: bytes) -> str:
    """What a document starting with this byte is, without parsing it."""
    if first == b'"':
        return "a string"
    if first in b"-0123456789":
        return "a number"
    if first in (b"t", b"f"):
        return "a boolean"
    if first == b"n":
        return "null"
    return f"text starting with {first!r}, which is not JSON"


def _nesting_depth(value: Any) -> int:
    """Levels of objects and arrays on the deepest path (iterative: deep input must not recurse)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > deepest:
            deepest = depth
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return deepest


# --- whole-file parsing ------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, with OSError turned into a DataFileError that says what to do."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _os_error(path, exc) from None


def _parse_document(path: Path, data: bytes) -> Any:
    """Parse a whole document: orjson, or the stdlib when it holds integers beyond 64 bits."""
    body = memoryview(data)
    if data.startswith(_BOM):
        body = body[len(_BOM) :]
    if _BLANK.fullmatch(body):
        raise _empty(path)
    if _needs_exact_numbers(body):
        return _parse_exact(path, body, len(data) - len(body))
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "64-bit" in str(exc):  # orjson before 3.10 refuses big integers instead of rounding them
            return _parse_exact(path, body, len(data) - len(body))
        raise _orjson_error(path, body, len(data) - len(body), exc) from None


def _needs_exact_numbers(body: memoryview) -> bool:
    """Whether the bytes may hold a number a double cannot give back exactly: an integer
    beyond 64 bits (a run of 20 digits, or "-" and 19), or a decimal whose value as a
    double differs from its text (``99999999999999.99``: more significant digits than a
    double holds).

    orjson would silently turn such a number into a rounded float. The byte test is cheap
    (a translate and four substring searches per MiB); for decimals it only picks the MiBs
    holding 8 digits in a row beside a ".", which are then checked number by number.
    False positives (long digit runs in strings) only cost a slower exact parse.
    """
    overlap = len(_BIG_POSITIVE)
    for start in range(0, len(body), _CHUNK):
        raw = bytes(body[start : start + _CHUNK + overlap])
        chunk = raw.translate(_DIGITS_TABLE)
        if _BIG_POSITIVE in chunk or _BIG_NEGATIVE in chunk:
            return True
        if (_LONG_BEFORE_POINT in chunk or _LONG_AFTER_POINT in chunk) and _holds_inexact_decimal(raw):
            return True
    return False


def _holds_inexact_decimal(raw: bytes) -> bool:
    """Whether a number in these bytes loses digits as a double (each long candidate checked)."""
    return any(inexact_decimal(match.group().decode()) for match in _LONG_DECIMAL.finditer(raw))


def inexact_decimal(literal: str) -> bool:
    """Whether a JSON number with a fraction or exponent reads back from a double as another
    value (``99999999999999.99`` → ``99999999999999.98``). Up to 15 significant digits a double
    always gives the text back; beyond that the shortest text of the double is compared."""
    digits = 0
    for char in literal:
        if char in "eE":
            break
        if "0" <= char <= "9":
            digits += 1
    if digits <= 15:
        return False
    significant = literal.split("e")[0].split("E")[0].replace("-", "").replace(".", "").strip("0")
    if len(significant) <= 15:
        return False
    try:
        number = float(literal)
    except ValueError:
        return False
    if not math.isfinite(number):
        return False
    return Decimal(repr(number)) != Decimal(literal)


def _parse_exact(path: Path, body: memoryview, skipped: int) -> Any:
    """The stdlib parser: exact Python ints; NaN, Infinity and overflowing floats refused.

    ``skipped`` is the length of the BOM cut off ``body``, so that offsets name file bytes.
    """
    try:
        text = codecs.decode(body, "utf-8")
    except UnicodeDecodeError as exc:
        raise _utf8_error(path, skipped + exc.start) from None

    def refuse_constant(name: str) -> float:
        raise _NonFinite(name)

    def finite_float(literal: str) -> float | Decimal:
        number = float(literal)
        if not math.isfinite(number):
            raise _NonFinite(literal)
        if inexact_decimal(literal):
            return Decimal(literal)  # kept exactly: the populator stores its text
        return number

    try:
        return json.loads(text, parse_float=finite_float, parse_constant=refuse_constant)
    except _NonFinite as exc:
        literal = exc.args[0]
        shown = literal if len(literal) <= 24 else literal[:20] + "..."
        raise DataFileError(
            f"{path}: {shown} is not a finite number (NaN, Infinity and numbers beyond a double's range "
            f"are not amounts in the books); fix the export: {_ADVICE_BROKEN}"
        ) from None
    except json.JSONDecodeError as exc:
        wide = _wide_encoding(path)
        if wide is not None:
            raise _wide_encoding_error(path, wide) from None
        raise DataFileError(
            f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}; {_ADVICE_BROKEN}"
        ) from None
    except RecursionError:
        raise _too_deep(path) from None
    except ValueError as exc:  # Python's int() digit limit (4300 digits)
        raise DataFileError(f"{path}: a number cannot be read ({exc}); fix the export: {_ADVICE_BROKEN}") from None


def _orjson_error(path: Path, body: memoryview, skipped: int, exc: orjson.JSONDecodeError) -> Json2DBError:
    """A DataFileError naming the position (line and column) and, where recognisable, the cause."""
    wide = _wide_encoding(path)
    if wide is not None:
        return _wide_encoding_error(path, wide)
    reason = str(exc).split(": line ")[0]
    where = f"line {exc.lineno}, column {exc.colno}"
    if "depth limit" in reason:
        return _too_deep(path)
    if "UTF-8" in reason:
        try:
            codecs.decode(body, "utf-8")
        except UnicodeDecodeError as decode_error:
            return _utf8_error(path, skipped + decode_error.start)
    if "infinity" in reason:
        return DataFileError(
            f"{path}: a number at {where} overflows a double: not a finite number (a non-finite amount is "
            f"not a number in the books); fix the export: {_ADVICE_BROKEN}"
        )
    if _NON_FINITE_LITERAL.search(codecs.decode(body, "utf-8", "replace")[max(0, exc.pos - 1) : exc.pos + 9]):
        return DataFileError(
            f"{path}: NaN or Infinity at {where}: not a finite number (nor valid JSON; a non-finite amount "
            f"is not a number in the books); fix the export: {_ADVICE_BROKEN}"
        )
    if "end of data" in reason:
        return DataFileError(
            f"{path}: the JSON ends too early at {where} (the file is truncated, perhaps by an interrupted "
            f"api_sync run); {_ADVICE_BROKEN}"
        )
    if "after document" in reason:
        return DataFileError(
            f"{path}: unexpected text after the JSON document at {where} (trailing garbage); {_ADVICE_BROKEN}"
        )
    return DataFileError(f"{path}: not valid JSON at {where}: {reason}; {_ADVICE_BROKEN}")


def _empty(path: Path) -> ValidationError:
    return ValidationError(
        f"{path} is empty; expected a JSON array of records or a Zoho envelope (JSON file must contain an "
        f"array of records); {_ADVICE_BROKEN}"
    )


def _too_deep(path: Path) -> ValidationError:
    return ValidationError(
        f"{path}: JSON nesting is too deep (more than {MAX_NESTING_DEPTH} levels of objects and arrays); "
        "this is not a Zoho record: fix the export or move the file out of the data folder"
    )


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _lone_surrogate_offset(path: Path) -> int | None:
    """Offset of a ``\\uD800``-``\\uDFFF`` escape that is not half of a high+low pair, if any
    (only for the streaming fallback, which is rare; a scan of the bytes, 1 MiB at a time,
    judging each escape once the 12 bytes around it are read)."""
    margin = 12
    with _open(path) as handle:
        window = handle.read(_MIB)
        start = 0  # file offset of window[0]
        judged = 0  # window offset up to which escapes were judged
        while window:
            more = handle.read(_MIB)
            limit = len(window) if not more else len(window) - margin
            for match in _SURROGATE_ESCAPE.finditer(window, judged):
                if match.start() >= limit:
                    break
                if _is_lone_surrogate(window, match):
                    return start + match.start()
            keep = max(judged, limit) - margin
            keep = max(0, keep)
            start += keep
            judged = max(0, limit - keep)
            window = window[keep:] + more if more else b""
    return None


def _is_lone_surrogate(window: bytes, match: re.Match[bytes]) -> bool:
    unit = int(match.group()[2:], 16)
    if unit <= 0xDBFF:  # a high half needs a low half right after it
        after = window[match.end() : match.end() + 6]
        return not (_SURROGATE_ESCAPE.fullmatch(after) and int(after[2:], 16) >= 0xDC00)
    before = window[max(0, match.start() - 6) : match.start()]  # a low half needs a high half before
    return not (_SURROGATE_ESCAPE.fullmatch(before) and int(before[2:], 16) <= 0xDBFF)


def _utf8_error(path: Path, offset: int) -> DataFileError:
    wide = _wide_encoding(path)
    if wide is not None:
        return _wide_encoding_error(path, wide)
    return DataFileError(
        f"{path}: not valid UTF-8 at byte offset {offset}; JSON files must be UTF-8: re-export the file "
        "as UTF-8, or convert it from the encoding it is in (for a Windows export usually "
        "iconv -f cp1252 -t utf-8)"
    )


_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _wide_encoding(path: Path) -> str | None:
    """"UTF-16" or "UTF-32" when the file's start says so (a byte order mark, or the NUL
    bytes that ASCII text has between its characters in those encodings); else None."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(512)
    except OSError:
        return None
    for bom, name in _WIDE_BOMS:
        if head.startswith(bom):
            return name
    if len(head) >= 4 and head.count(0) * 2 >= len(head):
        # No mark: the side the NULs are on gives the byte order iconv needs to be told.
        name = "UTF-32" if head.count(0) * 4 >= len(head) * 3 else "UTF-16"
        return name + ("LE" if head[0] != 0 else "BE")
    return None


def _wide_encoding_error(path: Path, encoding: str) -> DataFileError:
    """A file in UTF-16/UTF-32 (a Windows "Unicode" save): say so and how to convert it."""
    return DataFileError(
        f"{path}: the file is in {encoding}, not UTF-8; JSON files must be UTF-8: convert it "
        f"(e.g. iconv -f {encoding} -t UTF-8 {path.name} > {path.stem}.utf8.json, then replace the file) "
        "or re-export it as UTF-8"
    )


class _NonFinite(ValueError):
    """A NaN/Infinity literal or an overflowing float met by the stdlib parser."""


class _ChunkingFailed(Exception):
    """The chunked orjson path cannot settle a file; ijson carries on from where it was
    (``exact``: with exact numbers from the start, for numbers a double cannot hold)."""

    def __init__(self, reason: str, *, exact: bool = False) -> None:
        super().__init__(reason)
        self.exact = exact


_CUT_ATTEMPTS = 16
_MAX_CHUNK_GROWTH = 4  # a chunk may grow to 4x its size for one huge record, then ijson takes over
_FIRST_KEY = re.compile(rb'\s*\{\s*("(?:[^"\\]|\\.)*")')
_SPACE = frozenset(_WHITESPACE)


def _first_key_token(buffer: bytearray) -> bytes | None:
    """The quoted first key of the first record (``"invoice_id"``): records of one file
    share their key order, so ``}, {"invoice_id"`` marks a boundary between records far
    more reliably than any ``},``."""
    match = _FIRST_KEY.match(buffer, 1)
    return match.group(1) if match else None


def _boundaries(buffer: bytearray, token: bytes | None) -> Iterator[tuple[int, int]]:
    """Candidate cuts, last first: (index of the ``}`` closing a record, index of the
    ``,`` after it). With the first-key token, only ``} , {<token>``; else any ``},``."""
    attempts = 0
    if token is not None:
        position = len(buffer)
        while attempts < _CUT_ATTEMPTS:
            position = buffer.rfind(token, 0, position)
            if position < 0:
                break
            opening = _skip_space_back(buffer, position - 1)
            separator = _skip_space_back(buffer, opening - 1)
            close = _skip_space_back(buffer, separator - 1)
            if close > 0 and buffer[opening] == 0x7B and buffer[separator] == 0x2C and buffer[close] == 0x7D:
                attempts += 1
                yield close, separator
        return
    close = len(buffer)
    while attempts < _CUT_ATTEMPTS:
        close = buffer.rfind(b"}", 0, close)
        if close <= 0:
            return
        separator = _skip_space_forward(buffer, close + 1)
        if separator < len(buffer) and buffer[separator] == 0x2C:
            attempts += 1
            yield close, separator


def _skip_space_back(buffer: bytearray, index: int) -> int:
    while index > 0 and buffer[index] in _SPACE:
        index -= 1
    return index


def _skip_space_forward(buffer: bytearray, index: int) -> int:
    while index < len(buffer) and buffer[index] in _SPACE:
        index += 1
    return index


def _loads_list(buffer: bytearray, length: int) -> list[Any] | None:
    """orjson over ``buffer[:length]`` in place; None unless it is a JSON array."""
    view = memoryview(buffer)
    part = view[:length]
    try:
        with _gc_paused(freeze=True):
            parsed = orjson.loads(part)
    except orjson.JSONDecodeError:
        return None
    finally:
        part.release()
        view.release()
    return parsed if isinstance(parsed, list) else None


class _NeedsExactNumbers(Exception):
    """ijson met an integer beyond 64 bits: stream again without ``use_float``."""


@contextmanager
def _gc_paused(*, freeze: bool = False) -> Iterator[None]:
    """Pause the cyclic GC while building many objects (1.3-1.5x faster); restore it after.

    With ``freeze``, what was built is moved to the GC's permanent generation on success (the
    caller calls ``gc.unfreeze()`` when done): refcounting still frees it, the collector skips it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        if freeze:
            gc.freeze()
    finally:
        if was_enabled:
            gc.enable()


# --- streaming helpers ------------------------------------------------------------------


class _TrackingReader:
    """A file wrapper for ijson that knows which bytes it has handed out (for error positions).

    yajl parses each chunk as it arrives, so an error lies in the last chunk read.
    """

    __slots__ = ("_handle", "start", "end", "lines_before", "_lines_in_last")

    def __init__(self, handle: IO[bytes], start: int) -> None:
        self._handle = handle
        self.start = start  # offset of the last chunk read
        self.end = start  # offset just past it
        self.lines_before = 0  # newlines before the last chunk
        self._lines_in_last = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        if chunk:
            self.lines_before += self._lines_in_last
            self._lines_in_last = chunk.count(b"\n")
            self.start = self.end
            self.end += len(chunk)
        return chunk


def _open(path: Path) -> IO[bytes]:
    """Open for reading, with OSError turned into a DataFileError that says what to do."""
    try:
        return open(path, "rb")  # noqa: SIM115 - callers close it with `with`
    except OSError as exc:
        raise _os_error(path, exc) from None


def _file_size(path: Path) -> int:
    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
        return path.stat().st_size
    except OSError as exc:
        raise _os_error(path, exc) from None


def _first_significant_byte(path: Path, handle: IO[bytes]) -> tuple[int, bytes]:
    """Offset and value of the first byte after a BOM and whitespace; empty files are errors."""
    head = handle.read(len(_BOM))
    offset = len(_BOM) if head == _BOM else 0
    handle.seek(offset)
    position = offset
    while True:
        chunk = handle.read(_CHUNK)
        if not chunk:
            raise _empty(path)
        stripped = chunk.lstrip(_WHITESPACE)
        if stripped:
            position += len(chunk) - len(stripped)
            return position, stripped[:1]
        position += len(chunk)


def _file_needs_exact_numbers(path: Path) -> bool:
    """:func:`_needs_exact_numbers` over a file read 1 MiB at a time (for the streamed path)."""
    overlap = len(_BIG_POSITIVE)
    tail = b""
    with _open(path) as handle:
        while True:
            data = handle.read(_CHUNK)
            if not data:
                return False
            if _needs_exact_numbers(memoryview(tail + data)):
                return True
            tail = data[-overlap:]


def _exact_to_float(path: Path, value: Any, index: int) -> Any:
    """ijson's Decimal numbers back to floats (ints stay exact; a decimal a double would
    round stays a Decimal, whose text the populator stores); refuse non-finite ones."""
    if isinstance(value, Decimal):
        number = float(value)
        if not math.isfinite(number):
            raise DataFileError(
                f"{path}: a number in record {index} overflows a double: not a finite number (a non-finite "
                f"amount is not a number in the books); fix the export: {_ADVICE_BROKEN}"
            )
        if inexact_decimal(str(value)):
            return value
        return number
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (Decimal, dict, list)):
                value[key] = _exact_to_float(path, item, index)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            if isinstance(item, (Decimal, dict, list)):
                value[position] = _exact_to_float(path, item, index)
    return value


def _streamed_error(path: Path, reader: _TrackingReader, exc: Exception) -> Exception:
    """Name the file, the bytes (and line) where ijson stopped, and the cause."""
    text = exc.args[0] if exc.args else str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    reason = str(text).strip().splitlines()[0] if str(text).strip() else type(exc).__name__
    if "integer overflow" in reason:
        return _NeedsExactNumbers()
    wide = _wide_encoding(path)
    if wide is not None:
        return _wide_encoding_error(path, wide)
    where = f"bytes {reader.start}-{reader.end} (from line {reader.lines_before + 1})"
    if "UTF8" in reason or "UTF-8" in reason:
        offset = _first_invalid_utf8(path)
        if offset is not None:
            return _utf8_error(path, offset)
    if "floating point" in reason and "overflow" in reason:
        return DataFileError(
            f"{path}: a number in {where} overflows a double: not a finite number (a non-finite amount is "
            f"not a number in the books); fix the export: {_ADVICE_BROKEN}"
        )
    if "premature EOF" in reason:
        return DataFileError(
            f"{path}: the JSON ends too early at byte {reader.end} (the file is truncated, perhaps by an "
            f"interrupted api_sync run); {_ADVICE_BROKEN}"
        )
    if "trailing garbage" in reason:
        return DataFileError(
            f"{path}: unexpected text after the JSON document in {where} (trailing garbage); {_ADVICE_BROKEN}"
        )
    if "lexical error" in reason and _non_finite_near(path, reader):
        return DataFileError(
            f"{path}: NaN or Infinity in {where}: not a finite number (nor valid JSON; a non-finite amount "
            f"is not a number in the books); fix the export: {_ADVICE_BROKEN}"
        )
    return DataFileError(f"{path}: not valid JSON in {where}: {reason}; {_ADVICE_BROKEN}")


def _non_finite_near(path: Path, reader: _TrackingReader) -> bool:
    """Whether the chunk where ijson failed holds a NaN/Infinity literal (outside a word)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(reader.start)
            chunk = handle.read(reader.end - reader.start)
    except OSError:
        return False
    return re.search(rb"[:\[,\s](?:-?Infinity|NaN)\b", chunk) is not None


def _first_invalid_utf8(path: Path) -> int | None:
    """Byte offset of the first invalid UTF-8 sequence, read in chunks; None if the file is valid."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    consumed = 0
    try:
        with open(path, "rb") as handle:
            while True:
                chunk = handle.read(_CHUNK)
                pending = len(decoder.getstate()[0])  # bytes of a sequence split across chunks
                try:
                    decoder.decode(chunk, final=not chunk)
                except UnicodeDecodeError as exc:
                    return consumed - pending + exc.start
                if not chunk:
                    return None
                consumed += len(chunk)
    except OSError:
        return None


def _os_error(path: Path, exc: OSError) -> DataFileError:
    """A DataFileError for a file that cannot be opened or read, saying what to do."""
    if isinstance(exc, IsADirectoryError):
        return DataFileError(
            f"{path} is a folder, not a data file; rename it (data files are <entity>.json) or move it out "
            "of the data folder"
        )
    if isinstance(exc, FileNotFoundError):
        return DataFileError(
            f"{path}: data file not found (removed or moved while the run was reading it); run again to "
            "load the files that are there now"
        )
    if isinstance(exc, PermissionError):
        return DataFileError(
            f"{path}: cannot read the data file (permission denied); give the user running json2db_sync "
            "read access (e.g. chmod u+r) or move the file out of the data folder"
        )
    return DataFileError(f"{path}: cannot read the data file ({exc.strerror or exc}); check the disk and the path")
