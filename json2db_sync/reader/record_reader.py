"""``RecordReader``: batches of records out of one file, the parse path picked by the file's size;
imports stdlib, errors, progress and the reader's parse paths, shapes and files.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..progress import ProgressCallback, ProgressEvent
from .chunked import CHUNK_TARGET
from .files import MIB, file_size
from .shapes import Shape, default_id_fields, tail_page_context
from .streaming import StreamingReader
from .whole_file import WholeFileReader

logger = logging.getLogger(__name__)


#: A parsed Python object tree costs this many times the JSON bytes. Measured on 57 MiB of
#: Zoho-shaped invoices (5,000 records with 5 line items, 12 KB each; Python 3.11, orjson 3.13):
#: peak RSS 382 MiB while parsing whole = 6.5x the file, the raw bytes included (stdlib json:
#: 4.5x); sales orders with many short fields reach 7.8x. 12 leaves room for the batch the
#: populator holds and for what the allocator keeps after earlier files of the same run: a full
#: sync of 100,000 invoices and the other nine entities (1.6 GB) peaks at about 600 MiB with the
#: default 512 MB limit (it peaked at 746 MiB with 8).
PARSE_EXPANSION = 12


def stream_threshold(memory_limit_mb: int) -> int:
    """Largest file (bytes) read whole: ``memory_limit_mb`` MiB / ``PARSE_EXPANSION`` (42 MiB at 512)."""
    return max(0, int(memory_limit_mb)) * MIB // PARSE_EXPANSION


class RecordReader(WholeFileReader, StreamingReader):
    """Batches of records out of one file, and what was learnt about the file on the way.

    The reader is an iterator of ``list[dict]`` batches (at most ``batch_size`` records each, in
    file order); iterate it once. Its attributes fill in as it goes:

    Attributes:
        path, entity: what is read.
        chunk_bytes: bytes of a large file parsed at a time (the destination's choice).
        shape: the file's ``Shape``; known before the first batch is yielded.
        envelope_key: the key holding the records (``"invoices"``, ``"invoice"``), else None.
        records: records yielded so far; after exhaustion, the file's record count.
        streamed: True when the file was streamed with ijson rather than read whole.
        size: the file's size in bytes (None before reading starts).
        done: True once every batch has been yielded.
        big_integers: True once the file is read with the exact parser (its bytes may hold an
            integer no signed 64-bit column holds, or a decimal a double would round) or a
            record holding an integer beyond 64 bits was handed out
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
        chunk_bytes: int | None = None,
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
        self.chunk_bytes = CHUNK_TARGET if chunk_bytes is None else max(1, int(chunk_bytes))
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

    def _generate(self) -> Iterator[list[dict[str, Any]]]:
        """Pick the parse path by size, then hand out batches with progress after each."""
        self.size = file_size(self.path)
        self.streamed = self.size > self.threshold
        source = self._stream() if self.streamed else self._whole()
        for batch in source:
            self.records += len(batch)
            if self.progress_callback is not None:
                event = ProgressEvent(step="read", current=self.records, total=None, detail=str(self.path))
                self.progress_callback(event)
            yield batch
        if self.streamed and self.shape == "list_envelope":
            self.page_context = tail_page_context(self.path)
        self.done = True
        logger.debug(
            "%s: %d records (%s%s)", self.path, self.records, self.shape, ", streamed" if self.streamed else ""
        )

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


def iter_record_batches(
    path: Path | str,
    entity: str,
    *,
    batch_size: int = 1000,
    memory_limit_mb: int = 512,
    id_field: str | None = None,
    stream_threshold_bytes: int | None = None,
    progress_callback: ProgressCallback | None = None,
    chunk_bytes: int | None = None,
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
        chunk_bytes: bytes of a large file parsed at a time (None: ``chunked.CHUNK_TARGET``).

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
        chunk_bytes=chunk_bytes,
    )


def count_records(path: Path | str, entity: str, **kwargs: Any) -> int:
    """How many records a file holds, read the same way a load reads it (for "browse sessions")."""
    reader = RecordReader(path, entity, **kwargs)
    for _batch in reader:
        pass
    return reader.records
