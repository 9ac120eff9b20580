"""Numbers a double cannot give back exactly (integers beyond 64 bits, decimals with more
significant digits than a double keeps), found in the bytes before parsing; imports stdlib and
the reader's files.

orjson would silently round such a number, so a file (or chunk) that may hold one is parsed
exactly instead: by the stdlib ``json`` module when read whole, by ijson in Decimal mode when
streamed. The populator calls :func:`inexact_decimal` too, to keep such a decimal's text.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from pathlib import Path

from .files import CHUNK, open_data_file

# Digits mapped to "0", "-" kept, everything else to " ": an integer beyond 64 bits then shows
# as 20 zeros in a row (or "-" and 19). Found in ~0.045 s per 57 MiB (a regex takes 10x that).
_DIGITS_TABLE = bytes(0x30 if 0x30 <= b <= 0x39 else b if b == 0x2D else 0x20 for b in range(256))
_BIG_POSITIVE = b"0" * 20
_BIG_NEGATIVE = b"-" + b"0" * 19
# A "." with 8 digits or more on one side of it: a decimal with more than 15 significant
# digits has at least 8 on one side of its point. The pattern starts with the literal ".", so
# the regex engine jumps from one "." to the next over the raw bytes (about 0.5 ms per MiB,
# where two substring searches over the translated bytes took 1.1 ms).
_LONG_DECIMAL_POINT = re.compile(rb"\.(?:(?<=[0-9]{8}\.)|[0-9]{8})")
_LONG_DECIMAL = re.compile(rb"-?(?:[0-9]{8,}\.[0-9]*|[0-9]*\.[0-9]{8,})(?:[eE][-+]?[0-9]+)?")
_NUMBER_BYTES = b"0123456789-"


def needs_exact_numbers(body: memoryview) -> bool:
    """Whether the bytes may hold a number a double cannot give back exactly: an integer
    beyond 64 bits (a run of 20 digits, or "-" and 19), or a decimal whose value as a
    double differs from its text (``99999999999999.99``: more significant digits than a
    double holds).

    orjson would silently turn such a number into a rounded float. The byte test is cheap:
    a translate and two substring searches per MiB for the integers, one regex pass that
    stops at each "." beside 8 digits for the decimals, whose numbers are then checked one
    by one. False positives (long digit runs in strings) only cost a slower exact parse.
    """
    overlap = len(_BIG_POSITIVE)
    for start in range(0, len(body), CHUNK):
        chunk = bytes(body[start : start + CHUNK + overlap]).translate(_DIGITS_TABLE)
        if _BIG_POSITIVE in chunk or _BIG_NEGATIVE in chunk:
            return True
    return any(_inexact_at(body, match.start()) for match in _LONG_DECIMAL_POINT.finditer(body))


def _inexact_at(body: memoryview, point: int) -> bool:
    """Whether the number whose "." is at ``point`` loses digits as a double. Its text starts
    where the run of digits and "-" before the point does; the first long decimal found
    from there is the one holding the point (nothing before the point but digits and "-")."""
    start = point
    # No number that gets here has more than 19 digits before its point (20 in a row are
    # found by the integer test first), so the walk back stops after 32 bytes whatever
    # runs of "-" the bytes hold.
    stop = max(0, point - 32)
    while start > stop and body[start - 1] in _NUMBER_BYTES:
        start -= 1
    match = _LONG_DECIMAL.search(body, start)
    return match is not None and inexact_decimal(bytes(match.group()).decode())


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


# Bytes of one read carried into the next: a long number written across two reads is seen whole.
_STREAM_OVERLAP = 64


def file_needs_exact_numbers(path: Path) -> bool:
    """:func:`needs_exact_numbers` over a file read 1 MiB at a time (for the streamed path)."""
    overlap = _STREAM_OVERLAP
    tail = b""
    with open_data_file(path) as handle:
        while True:
            data = handle.read(CHUNK)
            if not data:
                return False
            if needs_exact_numbers(memoryview(tail + data)):
                return True
            tail = data[-overlap:]
