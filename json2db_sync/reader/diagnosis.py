"""Parse failures turned into errors that name the file, the place (line and column, or bytes and
line) and what to do; imports stdlib, orjson (its error type), errors and the reader's files.

Every message the reader raises for bad input is written here or in ``shapes`` (what a
document holds instead of records): the wording is part of the contract (users read it, and
docs/reliability.md quotes it), so both parse paths call the same functions.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any

import orjson

from ..errors import DataFileError, Json2DBError, ValidationError
from .files import CHUNK, MAX_NESTING_DEPTH

ADVICE_DATA_FILES = (
    "point json2db_sync at the data files api_sync writes under "
    "sync_session_*/raw_json/<timestamp>/ (not at sync_metadata_*.json files)"
)
ADVICE_BROKEN = "re-run api_sync for this entity, or move the file out of the data folder"


_NON_FINITE_LITERAL = re.compile(r"Infinity|NaN")  # where orjson stops (its pos counts characters)


def empty_file_error(path: Path) -> ValidationError:
    return ValidationError(
        f"{path} is empty; expected a JSON array of records or a Zoho envelope (JSON file must contain an "
        f"array of records); {ADVICE_BROKEN}"
    )


def too_deep_error(path: Path) -> ValidationError:
    return ValidationError(
        f"{path}: JSON nesting is too deep (more than {MAX_NESTING_DEPTH} levels of objects and arrays); "
        "this is not a Zoho record: fix the export or move the file out of the data folder"
    )


def nesting_depth(value: Any) -> int:
    """Levels of objects and arrays on the deepest path (iterative: deep input must not recurse)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return deepest


def utf8_error(path: Path, offset: int) -> DataFileError:
    wide = wide_encoding(path)
    if wide is not None:
        return wide_encoding_error(path, wide)
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


def wide_encoding(path: Path) -> str | None:
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


def wide_encoding_error(path: Path, encoding: str) -> DataFileError:
    """A file in UTF-16/UTF-32 (a Windows "Unicode" save): say so and how to convert it."""
    return DataFileError(
        f"{path}: the file is in {encoding}, not UTF-8; JSON files must be UTF-8: convert it "
        f"(e.g. iconv -f {encoding} -t UTF-8 {path.name} > {path.stem}.utf8.json, then replace the file) "
        "or re-export it as UTF-8"
    )


def _first_invalid_utf8(path: Path) -> int | None:
    """Byte offset of the first invalid UTF-8 sequence, read in chunks; None if the file is valid."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    consumed = 0
    try:
        with open(path, "rb") as handle:
            while True:
                chunk = handle.read(CHUNK)
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


def orjson_error(path: Path, body: memoryview, skipped: int, exc: orjson.JSONDecodeError) -> Json2DBError:
    """A DataFileError naming the position (line and column) and, where recognisable, the cause."""
    wide = wide_encoding(path)
    if wide is not None:
        return wide_encoding_error(path, wide)
    reason = str(exc).split(": line ")[0]
    where = f"line {exc.lineno}, column {exc.colno}"
    if "depth limit" in reason:
        return too_deep_error(path)
    if "UTF-8" in reason:
        try:
            codecs.decode(body, "utf-8")
        except UnicodeDecodeError as decode_error:
            return utf8_error(path, skipped + decode_error.start)
    if "infinity" in reason:
        return DataFileError(
            f"{path}: a number at {where} overflows a double: not a finite number (a non-finite amount is "
            f"not a number in the books); fix the export: {ADVICE_BROKEN}"
        )
    if _NON_FINITE_LITERAL.search(codecs.decode(body, "utf-8", "replace")[max(0, exc.pos - 1) : exc.pos + 9]):
        return DataFileError(
            f"{path}: NaN or Infinity at {where}: not a finite number (nor valid JSON; a non-finite amount "
            f"is not a number in the books); fix the export: {ADVICE_BROKEN}"
        )
    if "end of data" in reason:
        return DataFileError(
            f"{path}: the JSON ends too early at {where} (the file is truncated, perhaps by an interrupted "
            f"api_sync run); {ADVICE_BROKEN}"
        )
    if "after document" in reason:
        return DataFileError(
            f"{path}: unexpected text after the JSON document at {where} (trailing garbage); {ADVICE_BROKEN}"
        )
    return DataFileError(f"{path}: not valid JSON at {where}: {reason}; {ADVICE_BROKEN}")


def ijson_reason(exc: Exception) -> str:
    """The first line of an ijson error's text (yajl gives bytes), else the error's class name."""
    text = exc.args[0] if exc.args else str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text).strip().splitlines()[0] if str(text).strip() else type(exc).__name__


def streamed_parse_error(path: Path, reason: str, *, start: int, end: int, lines_before: int) -> DataFileError:
    """Name the file, the bytes (and line) where ijson stopped, and the cause: ``start``-``end``
    is the chunk ijson was parsing (yajl parses each chunk as it arrives), ``lines_before`` the
    newlines before it."""
    wide = wide_encoding(path)
    if wide is not None:
        return wide_encoding_error(path, wide)
    where = f"bytes {start}-{end} (from line {lines_before + 1})"
    if "UTF8" in reason or "UTF-8" in reason:
        offset = _first_invalid_utf8(path)
        if offset is not None:
            return utf8_error(path, offset)
    if "floating point" in reason and "overflow" in reason:
        return DataFileError(
            f"{path}: a number in {where} overflows a double: not a finite number (a non-finite amount is "
            f"not a number in the books); fix the export: {ADVICE_BROKEN}"
        )
    if "premature EOF" in reason:
        return DataFileError(
            f"{path}: the JSON ends too early at byte {end} (the file is truncated, perhaps by an "
            f"interrupted api_sync run); {ADVICE_BROKEN}"
        )
    if "trailing garbage" in reason:
        return DataFileError(
            f"{path}: unexpected text after the JSON document in {where} (trailing garbage); {ADVICE_BROKEN}"
        )
    if "lexical error" in reason and _non_finite_near(path, start, end):
        return DataFileError(
            f"{path}: NaN or Infinity in {where}: not a finite number (nor valid JSON; a non-finite amount "
            f"is not a number in the books); fix the export: {ADVICE_BROKEN}"
        )
    return DataFileError(f"{path}: not valid JSON in {where}: {reason}; {ADVICE_BROKEN}")


def _non_finite_near(path: Path, start: int, end: int) -> bool:
    """Whether the chunk where ijson failed holds a NaN/Infinity literal (outside a word)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(start)
            chunk = handle.read(end - start)
    except OSError:
        return False
    return re.search(rb"[:\[,\s](?:-?Infinity|NaN)\b", chunk) is not None
