"""What a reader knows about its file as it reads, and the checks every parse path applies to
what it finds (each record an object, not too deep; the envelope rules); imports stdlib, orjson,
errors, progress and the reader's shapes and diagnosis.

``ReaderState`` is the base of the parse paths (``whole_file``, ``chunked``, ``streaming``) and of
``RecordReader``, which sets these attributes in its constructor: the paths fill them in, the
caller reads them after the last batch. Putting the checks here is what makes the two readers
give one answer for one file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from ..errors import ValidationError
from ..progress import ProgressCallback
from .diagnosis import nesting_depth
from .files import MAX_NESTING_DEPTH
from .shapes import Shape, describe, singular_key


class ReaderState:
    """The attributes of a ``RecordReader`` (documented there) and the checks on what is read."""

    path: Path
    entity: str
    batch_size: int
    id_fields: tuple[str, ...]
    threshold: int
    chunk_bytes: int
    progress_callback: ProgressCallback | None
    shape: Shape | None
    envelope_key: str | None
    records: int
    streamed: bool
    size: int | None
    done: bool
    big_integers: bool
    page_context: dict[str, Any] | None
    _batches: Iterator[list[dict[str, Any]]] | None
    _head_keys: list[str]
    _head_kinds: dict[str, str]
    _head_scalars: dict[str, Any]
    _tail: bytes

    def _set_shape(self, shape: Shape, key: str | None) -> None:
        self.shape = shape
        self.envelope_key = key

    def _checked_batch(self, batch: list[Any], first: int, *, depth_checked: bool = False) -> list[dict[str, Any]]:
        """The records of a batch (``first`` is the index of its first record), checked as
        :meth:`_check_record` checks one, but at C speed for the usual batch.

        ``depth_checked``: the batch comes from a guarded orjson parse (see
        ``files.DEPTH_GUARD``), which refused any record nested too deep, and orjson never
        gives an integer beyond 64 bits: what is left is that every record is an object.
        Otherwise, when orjson can write the batch back as one list, none is too deep (the
        list is a level more than any record in it) and none holds an integer beyond 64
        bits. Either way a batch that fails is checked record by record, which names the
        bad one or marks ``big_integers``."""
        if all(type(value) is dict for value in batch):
            if depth_checked:
                return batch
            try:
                orjson.dumps(batch)
            except orjson.JSONEncodeError:
                pass
            else:
                return batch
        check = self._check_record
        return [check(value, first + offset) for offset, value in enumerate(batch)]

    def _check_record(self, value: Any, index: int) -> dict[str, Any]:
        """A record must be an object nested no deeper than MAX_NESTING_DEPTH; say where it is not."""
        if type(value) is not dict:
            array = f"the '{self.envelope_key}' array" if self.envelope_key else "the array"
            raise ValidationError(
                f"{self.path}: JSON file must contain an array of records, but element {index} of {array} is "
                f"{describe(value)}, not an object; remove that element or fix the export"
            )
        try:
            orjson.dumps(value)  # C-speed depth check (~0.03 s per 57 MiB); also fails on big ints
        except orjson.JSONEncodeError:
            if nesting_depth(value) > MAX_NESTING_DEPTH:
                raise ValidationError(
                    f"{self.path}: record {index}: nesting is too deep (more than {MAX_NESTING_DEPTH} levels "
                    "of objects and arrays); this is not a Zoho record: fix the export or move the file "
                    "out of the data folder"
                ) from None
            # Not too deep, so orjson refused an integer beyond 64 bits: tell the caller.
            self.big_integers = True
        return value

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
