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

# Digits and "-" mapped to "0"; the bytes a JSON value can follow ("[", ",", ":" and
# whitespace) to "X"; everything else to " ". A number token of 19 characters or more (every
# integer a signed 64-bit column cannot hold: 9223372036854775808 and up has 19 digits, and
# below -9223372036854775808 "-" and 19) then shows as "X" and 19 zeros, while a long run of
# digits inside a string (Zoho's 18- and 19-digit ids are strings) follows a '"' and does not.
# One translate and one substring search per MiB; each run found (rare) is then read as the
# integer it is, so a 19-digit one that fits does not send the file to the exact parser.
_VALUE_FOLLOWS = b"[,: \t\r\n"
_DIGITS_TABLE = bytes(
    0x30 if (0x30 <= b <= 0x39 or b == 0x2D) else 0x58 if b in _VALUE_FOLLOWS else 0x20 for b in range(256)
)
_LONG_INTEGER = b"X" + b"0" * 19
# A "." with 8 digits or more on one side of it: a decimal with more than 15 significant
# digits has at least 8 on one side of its point. The pattern starts with the literal ".", so
# the regex engine jumps from one "." to the next over the raw bytes (about 0.5 ms per MiB,
# where two substring searches over the translated bytes took 1.1 ms).
_LONG_DECIMAL_POINT = re.compile(rb"\.(?:(?<=[0-9]{8}\.)|[0-9]{8})")
_LONG_DECIMAL = re.compile(rb"-?(?:[0-9]{8,}\.[0-9]*|[0-9]*\.[0-9]{8,})(?:[eE][-+]?[0-9]+)?")
_NUMBER_BYTES = b"0123456789-"


def needs_exact_numbers(body: memoryview) -> bool:
    """Whether the bytes may hold a number a double or a signed 64-bit column cannot give
    back exactly: an integer of 19 digits or more (or "-" and 18; orjson rounds those beyond
    64 bits into floats, and gives those between 2**63 and 2**64 as ints no INTEGER column
    holds), or a decimal whose value as a double differs from its text
    (``99999999999999.99``: more significant digits than a double holds).

    The byte test is cheap: a translate and one substring search per MiB for the integers,
    one regex pass that stops at each "." beside 8 digits for the decimals, whose numbers
    are then checked one by one. False positives (digits after a space inside a string)
    only cost a slower exact parse.
    """
    overlap = len(_LONG_INTEGER)
    for start in range(0, len(body), CHUNK):
        translated = bytes(body[start : start + CHUNK + overlap]).translate(_DIGITS_TABLE)
        if start == 0 and translated.startswith(_LONG_INTEGER[1:]) and _beyond_64_bits(body, 0):
            return True  # (a number at the very start follows nothing)
        found = translated.find(_LONG_INTEGER)
        while found >= 0:
            if _beyond_64_bits(body, start + found + 1):
                return True
            found = translated.find(_LONG_INTEGER, found + 1)
    return any(_inexact_at(body, match.start()) for match in _LONG_DECIMAL_POINT.finditer(body))


def _beyond_64_bits(body: memoryview, at: int) -> bool:
    """Whether the run of digits (and "-") at ``at`` is an integer a signed 64-bit column
    cannot hold; True for a run that is no integer (``12-34``: the exact parser decides)."""
    run = _DIGIT_RUN.match(body, at)
    if run is None:
        return False
    try:
        value = int(run.group())
    except ValueError:
        return True
    return not (_INT64_MIN <= value <= _INT64_MAX)


_DIGIT_RUN = re.compile(rb"[-0-9]+")
# (sql_dialect.INT64_MIN/MAX's range: the reader sits below the SQL side and does not import it)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _inexact_at(body: memoryview, point: int) -> bool:
    """Whether the number whose "." is at ``point`` loses digits as a double. Its text starts
    where the run of digits and "-" before the point does; the first long decimal found
    from there is the one holding the point (nothing before the point but digits and "-")."""
    start = point
    # No number token that gets here has 19 digits before its point (those are found by
    # the integer test first; a longer run inside a string is no number), so the walk back
    # stops after 32 bytes whatever runs of "-" the bytes hold.
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
