"""The streamed path: a file above the stream threshold read with bounded memory; the shape from
ijson's events before the records, the records chunk by chunk with orjson (``chunked``) where
the file allows, else with ijson; imports stdlib, ijson, orjson, errors and the reader's
chunked, state, shapes, numbers, diagnosis and files.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import ijson

from ..errors import DataFileError, ValidationError
from .chunked import ChunkedReader, ChunkingFailed
from .diagnosis import (
    ADVICE_BROKEN,
    ADVICE_DATA_FILES,
    empty_file_error,
    ijson_reason,
    streamed_parse_error,
    wide_encoding,
    wide_encoding_error,
)
from .files import (
    BOM,
    CHUNK,
    MIB,
    WHITESPACE,
    fast_ijson,
    gc_paused,
    open_data_file,
    os_error,
)
from .numbers import file_needs_exact_numbers, inexact_decimal
from .shapes import (
    EVENT_KINDS,
    check_code,
    classify,
    describe_first_byte,
    file_key_counts,
    top_level_keys,
)

logger = logging.getLogger(__name__)


class StreamingReader(ChunkedReader):
    """Reads a large file with bounded memory (``_stream``): chunked orjson first, ijson for the rest."""

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
            except ChunkingFailed as exc:
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
            exact = file_needs_exact_numbers(self.path)
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
        counts = file_key_counts(self.path, tuple(expected))
        if all(counts[key] <= expected[key] for key in expected):
            return
        with open_data_file(self.path) as handle:
            keys, scalars = top_level_keys(handle, self.path)
        kinds = dict(self._head_kinds)
        for key in keys:
            kinds.setdefault(key, "a JSON value")
        kinds.update(scalars.get("__kinds__", {}))
        if "code" in scalars:  # first, as the whole-file reader (which sees the last code)
            check_code(self.path, self.entity, scalars["code"], scalars.get("message"))
        self._check_envelope(keys, kinds)

    def _stream_items(self, start: int, prefix: str, *, exact: bool, skip: int) -> Iterator[list[dict[str, Any]]]:
        """Batches from ``ijson.items``; the GC is paused while a batch fills, never across a yield."""
        size = self.batch_size
        check = self._check_record
        if exact:
            self.big_integers = True  # integers 64-bit columns may not hold: check them all
        with open_data_file(self.path) as handle:
            handle.seek(start)
            reader = _TrackingReader(handle, start)
            items = fast_ijson.items(reader, prefix, use_float=not exact)
            index = 0
            batch: list[dict[str, Any]] = []
            while True:
                with gc_paused(), self._ijson_errors(reader):
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
        with open_data_file(self.path) as handle:
            start, first = _first_significant_byte(self.path, handle)
            if first == b"[":
                self._set_shape("array", None)
                return start
            if first != b"{":
                wide = wide_encoding(self.path)
                if wide is not None:
                    raise wide_encoding_error(self.path, wide)
                raise ValidationError(
                    f"{self.path}: JSON file must contain an array of records "
                    f"(found {describe_first_byte(first)}); {ADVICE_DATA_FILES}"
                )
            handle.seek(start)
            reader = _TrackingReader(handle, start)
            kinds: dict[str, str] = {}
            scalars: dict[str, Any] = {}
            with self._ijson_errors(reader):
                self._scan_top_level(reader, kinds, scalars)
        code, message = scalars.get("code"), scalars.get("message")
        shape, key = classify(self.path, self.entity, self.id_fields, kinds, code, message)
        self._set_shape(shape, key)
        self._head_kinds, self._head_scalars = kinds, scalars
        self._check_envelope(self._head_keys, kinds)
        return start

    def _scan_top_level(self, reader: _TrackingReader, kinds: dict[str, str], scalars: dict[str, Any]) -> None:
        """Collect the top-level keys with the kind of their values (and code/message values)."""
        depth = 0
        key: str | None = None
        for _prefix, event, value in fast_ijson.parse(reader, use_float=False):
            if depth == 1 and key is not None:
                kinds[key] = EVENT_KINDS.get(event, "a JSON value")
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
            raise os_error(self.path, exc) from None


class _NeedsExactNumbers(Exception):
    """ijson met an integer beyond 64 bits: stream again without ``use_float``."""


class _TrackingReader:
    """A file wrapper for ijson that knows which bytes it has handed out (for error positions).

    yajl parses each chunk as it arrives, so an error lies in the last chunk read.
    """

    __slots__ = ("_handle", "_lines_in_last", "end", "lines_before", "start")

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


def _first_significant_byte(path: Path, handle: IO[bytes]) -> tuple[int, bytes]:
    """Offset and value of the first byte after a BOM and whitespace; empty files are errors."""
    head = handle.read(len(BOM))
    offset = len(BOM) if head == BOM else 0
    handle.seek(offset)
    position = offset
    while True:
        chunk = handle.read(CHUNK)
        if not chunk:
            raise empty_file_error(path)
        stripped = chunk.lstrip(WHITESPACE)
        if stripped:
            position += len(chunk) - len(stripped)
            return position, stripped[:1]
        position += len(chunk)


def _exact_to_float(path: Path, value: Any, index: int) -> Any:
    """ijson's Decimal numbers back to floats (ints stay exact; a decimal a double would
    round stays a Decimal, whose text the populator stores); refuse non-finite ones."""
    if isinstance(value, Decimal):
        number = float(value)
        if not math.isfinite(number):
            raise DataFileError(
                f"{path}: a number in record {index} overflows a double: not a finite number (a non-finite "
                f"amount is not a number in the books); fix the export: {ADVICE_BROKEN}"
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


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _lone_surrogate_offset(path: Path) -> int | None:
    """Offset of a ``\\uD800``-``\\uDFFF`` escape that is not half of a high+low pair, if any
    (only for the streaming fallback, which is rare; a scan of the bytes, 1 MiB at a time,
    judging each escape once the 12 bytes around it are read)."""
    margin = 12
    with open_data_file(path) as handle:
        window = handle.read(MIB)
        start = 0  # file offset of window[0]
        judged = 0  # window offset up to which escapes were judged
        while window:
            more = handle.read(MIB)
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
    unit = int(match.group()[2:], 16)  # noqa: FURB166 - the prefix cut is \u, which base 0 does not take
    if unit <= 0xDBFF:  # a high half needs a low half right after it
        after = window[match.end() : match.end() + 6]
        return not (_SURROGATE_ESCAPE.fullmatch(after) and int(after[2:], 16) >= 0xDC00)  # noqa: FURB166
    before = window[max(0, match.start() - 6) : match.start()]  # a low half needs a high half before
    return not (_SURROGATE_ESCAPE.fullmatch(before) and int(before[2:], 16) <= 0xDBFF)  # noqa: FURB166


def _streamed_error(path: Path, reader: _TrackingReader, exc: Exception) -> Exception:
    """What an ijson error means: an integer beyond 64 bits (stream again exactly), else a
    DataFileError naming the file and where the reader was (see ``diagnosis``)."""
    reason = ijson_reason(exc)
    if "integer overflow" in reason:
        return _NeedsExactNumbers()
    return streamed_parse_error(path, reason, start=reader.start, end=reader.end, lines_before=reader.lines_before)
