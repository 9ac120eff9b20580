"""Bytes in: opening, sizing and hashing a data file, with an OS error said as what to do; imports
stdlib, ijson and errors.

Also what every parse path shares: the read sizes, the ijson backend (C when installed), the
pause of the cyclic garbage collector while many objects are built, and the depth guard that
lets orjson's own parse refuse a record nested too deep.
"""

from __future__ import annotations

import codecs
import errno
import gc
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from io import BufferedReader
from pathlib import Path
from typing import Any

import ijson
import orjson

from ..errors import DataFileError

try:  # the C backend is what makes streaming affordable; the pure-Python one still works
    fast_ijson = ijson.get_backend("yajl2_c")
except ImportError:  # pragma: no cover - depends on the installed wheel
    fast_ijson = ijson

MIB = 1024 * 1024
BOM = codecs.BOM_UTF8
WHITESPACE = b" \t\r\n"
CHUNK = 1024 * 1024


#: Deepest nesting of objects and arrays in one record (the record itself is level 1): the most
#: orjson.dumps can write back (its limit is 255 levels with a scalar inside), so every record
#: can be stored as JSON text or quarantined, and recursive code downstream stays far from
#: Python's recursion limit.
MAX_NESTING_DEPTH = 254


def orjson_depth_limit() -> int:
    """The deepest document ``orjson.loads`` accepts (1024 in every release so far), found by
    asking it (a binary search over nested arrays, well under a millisecond)."""
    low, high = 0, 1 << 16  # low parses; high is refused (or the search's ceiling)
    while high - low > 1:
        middle = (low + high) // 2
        try:
            orjson.loads(b"[" * middle + b"]" * middle)
        except orjson.JSONDecodeError:
            high = middle
        else:
            low = middle
    return low


#: Levels of ``[`` written around a records array ("[" + records + "]") before orjson parses
#: it, so that orjson's own depth limit refuses exactly the records nested deeper than
#: MAX_NESTING_DEPTH: the parse a load does anyway checks the depth, where a second pass
#: (one orjson.dumps of every batch) used to cost about a fifth of the parse. 0 (no guard:
#: every batch is then checked by that dump) if an orjson release ever nests too little.
DEPTH_GUARD = max(0, orjson_depth_limit() - 1 - MAX_NESTING_DEPTH)
GUARD_OPEN = b"[" * DEPTH_GUARD
GUARD_CLOSE = b"]" * DEPTH_GUARD


#: What :func:`unwrap_guard` gives when the bytes inside the guard were not one value.
NOT_ONE_VALUE: Any = object()


def unwrap_guard(parsed: Any) -> Any:
    """The value inside the DEPTH_GUARD levels of a guarded parse, or NOT_ONE_VALUE when the
    bytes inside were not one value (``{}, {}`` parses once wrapped): each guard level must
    hold exactly one element, and then the parse is the parse of the inner bytes alone."""
    for _level in range(DEPTH_GUARD):
        if type(parsed) is not list or len(parsed) != 1:
            return NOT_ONE_VALUE
        parsed = parsed[0]
    return parsed


def is_depth_error(exc: orjson.JSONDecodeError) -> bool:
    """Whether orjson refused a document for its nesting (not for its syntax)."""
    return "depth" in str(exc) or "recursion" in str(exc).lower()


def open_data_file(path: Path) -> BufferedReader:
    """Open for reading, with OSError turned into a DataFileError that says what to do."""
    try:
        return open(path, "rb")
    except OSError as exc:
        raise os_error(path, exc) from None


def file_size(path: Path) -> int:
    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
        return path.stat().st_size
    except OSError as exc:
        raise os_error(path, exc) from None


def read_guarded(path: Path) -> tuple[bytearray, int]:
    """The file's bytes read between the depth guard's brackets (``GUARD_OPEN`` + bytes +
    ``GUARD_CLOSE``), and how many bytes the file gave; OSError said as what to do.

    The bytes are read into their place in one buffer, so that a guarded parse needs no
    copy of a file that can be 42 MiB (the copy raised the peak memory of reading such a
    file whole by its size)."""
    guard = DEPTH_GUARD
    try:
        with open(path, "rb") as handle:
            expected = os.fstat(handle.fileno()).st_size
            # Room for one byte more than the file has: a file that grew meanwhile shows.
            buffer = bytearray(guard + expected + 1 + guard)
            view = memoryview(buffer)
            filled = guard
            while filled < guard + expected + 1:
                count = handle.readinto(view[filled : guard + expected + 1])
                if not count:
                    break
                filled += count
            view.release()
            rest = handle.read() if filled == guard + expected + 1 else b""
    except OSError as exc:
        raise os_error(path, exc) from None
    if rest:  # (rare: written to while read) the rest joins, at the cost of a copy
        buffer[filled:] = rest + GUARD_CLOSE
        filled += len(rest)
    else:
        buffer[filled : filled + guard] = GUARD_CLOSE
        del buffer[filled + guard :]
    buffer[:guard] = GUARD_OPEN
    return buffer, filled - guard


def os_error(path: Path, exc: OSError) -> DataFileError:
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


@contextmanager
def gc_paused(*, freeze: bool = False) -> Iterator[None]:
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


def sha256_file(path: Path | str) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks (the ledger's identity of a file)."""
    path = Path(path)
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with open_data_file(path) as handle:
        try:
            while True:
                count = handle.readinto(buffer)
                if not count:
                    break
                digest.update(view[:count])
        except OSError as exc:
            raise os_error(path, exc) from None
    return digest.hexdigest()
