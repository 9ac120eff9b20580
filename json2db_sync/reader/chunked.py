"""The chunked path: a large array (or list envelope's array) cut at record boundaries into
chunks of bounded size, each parsed in place with orjson; imports stdlib, orjson and the
reader's state, shapes, numbers and files.

It is the first step of the streamed path (``streaming``): whatever a chunk cannot settle (no
boundary within the memory limit, numbers a double cannot hold, invalid JSON) raises
``ChunkingFailed`` and ijson carries on from the records already handed out.
"""

from __future__ import annotations

import gc
import itertools
import re
from collections.abc import Iterator
from typing import IO, Any

import orjson

from .files import (
    DEPTH_GUARD,
    GUARD_CLOSE,
    GUARD_OPEN,
    MIB,
    WHITESPACE,
    gc_paused,
    is_depth_error,
    open_data_file,
    unwrap_guard,
)
from .numbers import needs_exact_numbers
from .shapes import check_code, kind_of, top_level_keys
from .state import ReaderState

#: Bytes of JSON parsed at a time. Small on purpose: a chunk's parsed records (about 5x its
#: bytes) are flattened and written while they are still in the processor's cache, and the
#: memory they free is reused by the next chunk instead of going back to the system and
#: faulting in again. Populating 100,000 invoices (800 MiB) took 25.2 s of CPU with 10.5 MiB
#: chunks (a quarter of the whole-file threshold, as before), 22.4 s with 1 MiB and 21.2 s with
#: 512 KiB (docs/performance.md, "Chunk size").
CHUNK_TARGET = 512 * 1024


class ChunkingFailed(Exception):
    """The chunked orjson path cannot settle a file; ijson carries on from where it was
    (``exact``: with exact numbers from the start, for numbers a double cannot hold)."""

    def __init__(self, reason: str, *, exact: bool = False) -> None:
        super().__init__(reason)
        self.exact = exact


class ChunkedReader(ReaderState):
    """Reads a large array in orjson chunks (``_chunks``); ``ChunkingFailed`` hands the rest to ijson."""

    def _chunks(self, start: int) -> Iterator[list[dict[str, Any]]]:
        """Cut the records array into chunks at record boundaries and parse each with orjson.

        The buffer is a bytearray that starts with the depth guard and ``[`` (``_OPEN``) and
        whose bytes after the cut are turned into ``]`` and the guard's closing for the
        parse, so orjson parses it in place (no copy) and refuses any record nested deeper
        than MAX_NESTING_DEPTH on the way (see ``files.DEPTH_GUARD``). A cut is only trusted
        when that parses: a balanced prefix ending in ``}`` before a ``,`` is a boundary
        between records, never a ``},{`` inside a string or a nested array. Anything
        unusual (no boundary, integers beyond 64 bits, invalid JSON) raises
        ``ChunkingFailed`` and ijson takes over from the records already handed out.
        """
        base_size = self.chunk_bytes
        # One record larger than a chunk grows it, up to what the memory limit allows for a
        # file read whole (and at least 4 MiB); beyond that ijson takes over.
        max_size = max(_MIN_CHUNK_CEILING, self.threshold)
        chunk_size = base_size
        size = self.batch_size
        try:
            with open_data_file(self.path) as handle:
                handle.seek(self._array_start(handle, start))
                buffer = bytearray(_OPEN)
                at_end = False
                token: bytes | None = None
                while True:
                    while not at_end and len(buffer) < chunk_size:
                        data = handle.read(chunk_size - len(buffer))
                        at_end = not data
                        buffer += data
                    if token is None:
                        token = _first_key_token(buffer)
                    if needs_exact_numbers(memoryview(buffer)):
                        raise ChunkingFailed("numbers a double cannot hold need the exact parser", exact=True)
                    records: list[Any] | None
                    if at_end:
                        records, checked = self._parse_last_chunk(buffer)
                    else:
                        records, checked = self._parse_chunk(buffer, token)
                        if records is None:
                            # A record larger than the chunk, or something orjson refuses:
                            # read more, but never far past the memory the limit allows.
                            if chunk_size >= max_size:
                                raise ChunkingFailed("no record boundary within the memory limit")
                            chunk_size = min(chunk_size * 2, max_size)
                            continue
                        chunk_size = base_size
                    index = self.records
                    for begin in range(0, len(records), size):
                        batch = records[begin : begin + size]
                        yield self._checked_batch(batch, index + begin, depth_checked=checked)
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
            tail_keys, _ = top_level_keys(memoryview(closing), self.path)
            tail_kinds = {key: kind_of(value) for key, value in orjson.loads(closing).items()}
            tail_scalars = orjson.loads(closing)
        if "code" in tail_scalars:  # first, as the whole-file reader (which sees the last code)
            check_code(self.path, self.entity, tail_scalars.get("code"),
                        tail_scalars.get("message", self._head_scalars.get("message")))
        self._check_envelope(self._head_keys + tail_keys, {**self._head_kinds, **tail_kinds})

    def _parse_chunk(self, buffer: bytearray, token: bytes | None) -> tuple[list[Any] | None, bool]:
        """Parse the buffer up to its last record boundary and drop those bytes from it;
        None when no boundary is found (the buffer is left as it was). Boundaries are
        looked for by the first record's first key, then by any ``},`` (records of one file
        do not always start with the same key). With the records, whether the guard
        vouched for their depth (see :func:`_loads_closed`)."""
        candidates = _boundaries(buffer, token)
        if token is not None:
            candidates = itertools.chain(candidates, _boundaries(buffer, None))
        for close, separator in candidates:
            records, checked = _loads_closed(buffer, close + 1, _CLOSE)
            if records is not None:
                buffer[: separator + 1] = _OPEN  # the separator's place opens the next chunk
                return records, checked
        return None, False

    def _parse_last_chunk(self, buffer: bytearray) -> tuple[list[Any], bool]:
        """The array's end: the last ``]`` whose tail closes the file and whose prefix parses."""
        end = len(buffer)
        for _attempt in range(_CUT_ATTEMPTS):
            end = buffer.rfind(b"]", 0, end)
            if end < 0:
                break
            if not self._closes_file(bytes(buffer[end + 1 :])):
                continue
            records, checked = _loads_closed(buffer, end + 1, GUARD_CLOSE)
            if records is not None:
                self._tail = bytes(buffer[end + 1 :]).strip(WHITESPACE)
                return records, checked
        raise ChunkingFailed("the end of the records array was not found")

    def _array_start(self, handle: IO[bytes], start: int) -> int:
        """Offset just after the ``[`` that opens the records."""
        if self.shape == "array":
            return start + 1
        head = handle.read(MIB)
        key = orjson.dumps(self.envelope_key)
        for match in re.finditer(re.escape(key) + rb"\s*:\s*\[", head):
            try:  # a real key, not the same text inside a string: the header parses
                parsed = orjson.loads(head[start : match.end()] + b"]}")
            except orjson.JSONDecodeError:
                continue
            if isinstance(parsed, dict) and parsed.get(self.envelope_key) == []:
                return match.end()
        raise ChunkingFailed(f"the '{self.envelope_key}' array does not start in the first MiB")

    def _closes_file(self, tail: bytes) -> bool:
        tail = tail.strip(WHITESPACE)
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


_CUT_ATTEMPTS = 16
_OPEN = GUARD_OPEN + b"["  # what a chunk's buffer starts with
_CLOSE = b"]" + GUARD_CLOSE  # what closes it for the parse, after a record boundary
_MIN_CHUNK_CEILING = 4 * MIB
_FIRST_KEY = re.compile(rb'\s*\{\s*("(?:[^"\\]|\\.)*")')
_SPACE = frozenset(WHITESPACE)


def _first_key_token(buffer: bytearray) -> bytes | None:
    """The quoted first key of the first record (``"invoice_id"``): records of one file
    share their key order, so ``}, {"invoice_id"`` marks a boundary between records far
    more reliably than any ``},``."""
    match = _FIRST_KEY.match(buffer, len(_OPEN))
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


def _loads_closed(buffer: bytearray, at: int, closing: bytes) -> tuple[list[Any] | None, bool]:
    """Parse ``buffer[:at]`` with ``closing`` written at ``at`` for the parse (the bytes there
    are put back after it, whatever happens). Returns the records (None unless the bytes
    inside the guard are one JSON array) and whether the guard vouched for their depth:
    when orjson refuses the guarded bytes for their nesting, the records are parsed again
    without the guard, and the caller checks them one by one (which names the deep one)."""
    saved = bytes(buffer[at : at + len(closing)])
    buffer[at : at + len(closing)] = closing
    try:
        return _loads_list(buffer, at + len(closing))
    finally:
        buffer[at : at + len(closing)] = saved


def _loads_list(buffer: bytearray, length: int) -> tuple[list[Any] | None, bool]:
    """orjson over ``buffer[:length]`` in place, the guard unwrapped (see :func:`_loads_closed`)."""
    view = memoryview(buffer)
    part = view[:length]
    inner = part[DEPTH_GUARD : length - DEPTH_GUARD]
    checked = True
    try:
        with gc_paused(freeze=True):
            try:
                parsed = unwrap_guard(orjson.loads(part))
            except orjson.JSONDecodeError as exc:
                if not (DEPTH_GUARD and is_depth_error(exc)):
                    raise
                checked = False
                parsed = orjson.loads(inner)
    except orjson.JSONDecodeError:
        return None, False
    finally:
        inner.release()
        part.release()
        view.release()
    return (parsed, checked) if isinstance(parsed, list) else (None, False)  # (NOT_ONE_VALUE is no list)
