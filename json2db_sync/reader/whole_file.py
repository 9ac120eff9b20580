"""The whole-file path: a file at or below the stream threshold read at once and parsed with
orjson (the stdlib parser when it holds numbers a double cannot hold), then sliced into batches;
imports stdlib, orjson, errors and the reader's state, shapes, numbers, diagnosis and files.
"""

from __future__ import annotations

import codecs
import gc
import json
import math
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from ..errors import DataFileError, ValidationError
from .diagnosis import (
    ADVICE_BROKEN,
    ADVICE_DATA_FILES,
    empty_file_error,
    orjson_error,
    too_deep_error,
    utf8_error,
    wide_encoding,
    wide_encoding_error,
)
from .files import BOM, DEPTH_GUARD, GUARD_CLOSE, GUARD_OPEN, NOT_ONE_VALUE, gc_paused, read_guarded, unwrap_guard
from .numbers import inexact_decimal, needs_exact_numbers
from .shapes import (
    classify,
    describe,
    key_count,
    kind_of,
    page_context_of,
    top_level_keys,
)
from .state import ReaderState


class WholeFileReader(ReaderState):
    """Reads a file whole (``_whole``); the records by shape and the envelope rules on the parsed object."""

    def _whole(self) -> Iterator[list[dict[str, Any]]]:
        """Read and parse the file at once (fast), then slice the records into batches.

        The parsed tree is acyclic, so it is frozen out of the cyclic GC until the last batch
        is out: otherwise the first collection after the parse walks every object of it
        (0.14 s on a 0.19 s parse of 57 MiB) and later full collections do it again.
        """
        guarded, size = read_guarded(self.path)
        data = memoryview(guarded)[DEPTH_GUARD : DEPTH_GUARD + size]  # the file's bytes
        with gc_paused(freeze=True):
            document, parsed_by = _parse_document(self.path, data, guarded)
        try:
            records = self._records_of(document)
            # The guard bounds the document's depth: a record one or two levels down (in
            # an array or an envelope) is then within the limit; a bare record is checked.
            checked = parsed_by == "guarded" and self.shape != "record"
            if parsed_by == "exact":
                self.big_integers = True  # integers 64-bit columns may not hold: check them all
            if isinstance(document, dict):
                self._check_whole_envelope(document, data)
            data.release()
            del data, guarded
            del document
            size = self.batch_size
            for start in range(0, len(records), size):
                yield self._checked_batch(records[start : start + size], start, depth_checked=checked)
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
                f"{self.path}: JSON file must contain an array of records (found {describe(document)}); "
                f"{ADVICE_DATA_FILES}"
            )
        kinds = {key: kind_of(value) for key, value in document.items()}
        code, message = document.get("code"), document.get("message")
        shape, key = classify(self.path, self.entity, self.id_fields, kinds, code, message)
        self._set_shape(shape, key)
        if shape == "list_envelope":
            self.page_context = page_context_of(document)
            records: list[Any] = document[key]
            return records
        if shape == "detail_envelope":
            return [document[key]]
        return [document]

    def _check_whole_envelope(self, document: dict[str, Any], data: memoryview) -> None:
        """Refuse an ambiguous envelope read whole. The parsed object has lost repeated keys
        (the last one wins), so the bytes are asked first whether a deciding key is written
        more than once, and only then are the top-level keys listed exactly (rarely)."""
        keys: list[str] = list(document)
        deciding = [key for key in self._deciding_keys() if key in document]
        if any(key_count(data, key, limit=2) > 1 for key in deciding):
            keys, _ = top_level_keys(data, self.path)
        kinds = {key: kind_of(value) for key, value in document.items()}
        self._check_envelope(keys, kinds)


_BLANK = re.compile(rb"[ \t\r\n]*")


def _parse_document(path: Path, data: memoryview, guarded: bytearray) -> tuple[Any, str]:
    """Parse a whole document (``data``, the file's bytes; ``guarded``, the same between the
    depth guard's brackets, see ``files.read_guarded``): orjson, or the stdlib when it may
    hold numbers orjson would round or give as ints no 64-bit column holds. Also how it was
    parsed: ``"guarded"`` (by orjson inside the depth guard, see ``files.DEPTH_GUARD``: then
    no record in an array or envelope is nested deeper than the limit), ``"orjson"`` or
    ``"exact"``."""
    body = data
    has_bom = data[: len(BOM)] == BOM
    if has_bom:
        body = body[len(BOM) :]
    if _BLANK.fullmatch(body):
        raise empty_file_error(path)
    if needs_exact_numbers(body):
        return _parse_exact(path, body, len(data) - len(body)), "exact"
    if DEPTH_GUARD:
        try:  # in place; a file starting with a BOM (rare) is copied without it
            text = b"".join((GUARD_OPEN, body, GUARD_CLOSE)) if has_bom else guarded
            parsed = unwrap_guard(orjson.loads(text))
        except orjson.JSONDecodeError:
            parsed = NOT_ONE_VALUE  # too deep, or not JSON: the plain parse below tells
        if parsed is not NOT_ONE_VALUE:
            return parsed, "guarded"
    try:
        return orjson.loads(body), "orjson"
    except orjson.JSONDecodeError as exc:
        if "64-bit" in str(exc):  # orjson before 3.10 refuses big integers instead of rounding them
            return _parse_exact(path, body, len(data) - len(body)), "exact"
        raise orjson_error(path, body, len(data) - len(body), exc) from None


class _NonFinite(ValueError):
    """A NaN/Infinity literal or an overflowing float met by the stdlib parser."""


def _parse_exact(path: Path, body: memoryview, skipped: int) -> Any:
    """The stdlib parser: exact Python ints; NaN, Infinity and overflowing floats refused.

    ``skipped`` is the length of the BOM cut off ``body``, so that offsets name file bytes.
    """
    try:
        text = codecs.decode(body, "utf-8")
    except UnicodeDecodeError as exc:
        raise utf8_error(path, skipped + exc.start) from None

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
            f"are not amounts in the books); fix the export: {ADVICE_BROKEN}"
        ) from None
    except json.JSONDecodeError as exc:
        wide = wide_encoding(path)
        if wide is not None:
            raise wide_encoding_error(path, wide) from None
        raise DataFileError(
            f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}; {ADVICE_BROKEN}"
        ) from None
    except RecursionError:
        raise too_deep_error(path) from None
    except ValueError as exc:  # Python's int() digit limit (4300 digits)
        raise DataFileError(f"{path}: a number cannot be read ({exc}); fix the export: {ADVICE_BROKEN}") from None
