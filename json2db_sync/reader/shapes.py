"""What a data file holds: the four shapes (array, list envelope, detail envelope, bare record),
Zoho's detail keys, and the envelope facts both parse paths judge alike; imports stdlib, orjson,
ijson, errors, zoho_entities and the reader's files and diagnosis.

A top-level object is classified from its keys and the kinds of their values (``classify``), so
the whole-file path (a parsed dict) and the streamed path (ijson's events before the records)
decide from the same facts and give one answer. The byte-level key counts and the exact key
listing serve the ambiguity rules (a deciding key written twice); ``page_context`` tells whether
an export says it is incomplete.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any, Literal

import ijson
import orjson

from ..errors import DataFileError, ValidationError
from ..zoho_entities import KNOWN_ID_FIELDS, SINGULAR_KEYS
from .diagnosis import ADVICE_BROKEN, ADVICE_DATA_FILES
from .files import CHUNK, fast_ijson, open_data_file

Shape = Literal["array", "list_envelope", "detail_envelope", "record"]


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


EVENT_KINDS = {
    "start_map": "object",
    "start_array": "array",
    "string": "string",
    "number": "number",
    "integer": "number",
    "double": "number",
    "boolean": "boolean",
    "null": "null",
}


def kind_of(value: Any) -> str:
    """The JSON type of a parsed value, in the words of ``EVENT_KINDS``."""
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


def classify(
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
        check_code(path, entity, code, message)
    if shape is None:
        raise ValidationError(
            f"{path}: JSON file must contain an array of records "
            f"(found {_describe_object(entity, singular, id_fields, kinds)}); {ADVICE_DATA_FILES}"
        )
    return shape, key


def check_code(path: Path, entity: str, code: Any, message: Any) -> None:
    """A Zoho ``code`` other than 0 is Zoho's error, quoted (wherever in the file it is)."""
    if code not in (0, "0"):
        raise ValidationError(
            f"{path}: JSON file must contain an array of records, but it holds a Zoho error response "
            f"(code {code}: {message!r}); re-run api_sync for '{entity}' and load the session it writes"
        )


def _key_pattern(key: str) -> re.Pattern[bytes]:
    return re.compile(re.escape(orjson.dumps(key)) + rb"[ \t\r\n]*:")


def key_count(data: bytes | memoryview, key: str, *, limit: int) -> int:
    """How often ``"key":`` is written in the bytes (at any depth), counting up to ``limit``."""
    count = 0
    for _match in _key_pattern(key).finditer(data):
        count += 1
        if count >= limit:
            break
    return count


def file_key_counts(path: Path, keys: tuple[str, ...]) -> dict[str, int]:
    """:func:`key_count` of each key over a file read 1 MiB at a time (matches that span
    two reads are found in the overlap kept between them; none is counted twice)."""
    patterns = {key: _key_pattern(key) for key in keys}
    counts = dict.fromkeys(keys, 0)
    overlap = max((len(orjson.dumps(key)) + 64 for key in keys), default=0)
    with open_data_file(path) as handle:
        carry = b""
        while True:
            data = handle.read(CHUNK)
            window = carry + data
            limit = len(window) if not data else max(0, len(window) - overlap)
            for key, pattern in patterns.items():
                counts[key] += sum(1 for match in pattern.finditer(window) if match.start() < limit)
            if not data:
                return counts
            carry = window[limit:]


def top_level_keys(source: Any, path: Path) -> tuple[list[str], dict[str, Any]]:
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
        for _prefix, event, value in fast_ijson.parse(source, use_float=False):
            if depth == 1 and key is not None:
                kinds[key] = EVENT_KINDS.get(event, "a JSON value")
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
        raise DataFileError(f"{path}: not valid JSON ({exc}); {ADVICE_BROKEN}") from None
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


def describe(value: Any) -> str:
    """'a string', 'null', 'an array', ... for messages about a parsed value."""
    kind = kind_of(value)
    return "null" if kind == "null" else _article(kind)


def describe_first_byte(first: bytes) -> str:
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


_TAIL_BYTES = 64 * 1024
_PAGE_CONTEXT_KEY = re.compile(rb'"page_context"\s*:\s*\{')
_HAS_MORE = re.compile(rb'"has_more_page"\s*:\s*(true|false)')
_TOTAL = re.compile(rb'"total"\s*:\s*(\d+)')
_PAGE = re.compile(rb'"page"\s*:\s*(\d+)')


def page_context_of(document: dict[str, Any]) -> dict[str, Any] | None:
    """``page_context`` of a parsed list envelope, with a top-level ``total`` folded in."""
    context = document.get("page_context")
    found = dict(context) if isinstance(context, dict) else {}
    total = document.get("total")
    if "total" not in found and isinstance(total, int) and not isinstance(total, bool):
        found["total"] = total
    return found or None


def tail_page_context(path: Path) -> dict[str, Any] | None:
    """The ``page_context`` of a streamed list envelope, from the file's last 64 KiB (Zoho
    writes it after the records; the records are not read a second time)."""
    try:
        with open_data_file(path) as handle:
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
