"""The sessions folder on disk: ``generate_sample_data`` checks its arguments and the folder,
then writes each session's timestamp folders, data files (a Zoho list envelope or a plain array,
record by record) and ``sync_metadata_<entity>.json``; imports stdlib, progress and the sample
data's plan, builders and vocabulary.

Nothing here decides a record's fields: the plan says which records appear in which session,
the builders lay them out, and this module only puts them into files (a bounded number open at
a time) and counts them for the summary and the progress bar.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..progress import ProgressCallback, ProgressEvent, null_progress
from .builders import BUILDERS, build_organization
from .plan import SamplePlan
from .values import Session
from .vocabulary import SAMPLE_ENTITIES, SESSION_FORMAT

logger = logging.getLogger(__name__)

_MAX_SESSIONS_PER_DAY = 144  # sessions at least 10 minutes apart


# Entities that some sessions write into a second, later timestamp folder (the guide's tree
# shows sessions with two), so that consumers meet that layout too.
_LATE_FOLDER_ENTITIES = frozenset({"customerpayments", "vendorpayments"})


_OPEN_FILES = 128  # session files of one entity open at once


_REPORT_NAMES: dict[str, tuple[str, str, str, str]] = {
    # report_name, applied_filter, sort_column, sort_order (as the real list responses say)
    "contacts": ("Contacts", "Status.All", "last_modified_time", "A"),
    "items": ("Items", "Status.All", "name", "A"),
    "organizations": ("Organizations", "Status.All", "name", "A"),
    "customerpayments": ("Payments Received", "PaymentMode.All", "date", "D"),
    "vendorpayments": ("Payments Made", "PaymentMode.All", "date", "D"),
    "invoices": ("Invoices", "Status.All", "created_time", "A"),
    "bills": ("Bills", "Status.All", "created_time", "A"),
    "salesorders": ("Sales Orders", "Status.All", "created_time", "A"),
    "purchaseorders": ("Purchase Orders", "Status.All", "created_time", "A"),
    "creditnotes": ("Credit Notes", "Status.All", "created_time", "A"),
}


# Marks a folder as holding generated sample data (so adding more there is allowed).
SAMPLE_MARKER = ".json2db_sample_data"


def generate_sample_data(
    out_dir: str | Path,
    *,
    days: int = 3,
    seed: int = 42,
    now: datetime | None = None,
    invoices: int = 40,
    sessions_per_day: int = 1,
    entities: Iterable[str] | None = None,
    progress: ProgressCallback = null_progress,
) -> dict[str, Any]:
    """Write ``days * sessions_per_day`` api_sync sessions into ``out_dir`` and summarise them.

    The sessions are spread over the ``days`` before ``now`` (default: the current local time),
    the newest one within the last hour or two, so both the default cutoff (30 days) and a
    24-hour freshness check see them. The same ``seed`` and ``now`` give byte-identical files.

    Args:
        out_dir: the sessions folder (created if missing), e.g. ``../api_sync/data/sync_sessions``.
        days: how many days back the sessions reach (at least 1).
        seed: the seed of every random choice.
        now: the reference time; naive means local time. An aware ``now`` gives its wall-clock
            time to the folder names and its UTC offset to the records' timestamps.
        invoices: distinct invoices across all sessions; the other entities scale from it.
        sessions_per_day: sessions per day (1 to 144).
        entities: which of ``SAMPLE_ENTITIES`` to write (default all); references still point
            at the records the full set would hold.
        progress: called with ``ProgressEvent("sample_data", done, total, entity)`` as the
            records are worked out (60,000 invoices take half a minute).

    Returns:
        A JSON-serialisable dict: ``out_dir``, ``sessions`` (folder names, oldest first),
        ``data_files`` and ``metadata_files`` (paths relative to ``out_dir``), ``files_written``,
        ``records`` (records written per entity, re-emissions included), ``distinct_ids``
        (per entity), ``total_records``, ``seed``, ``days``, ``now``.

    Raises:
        ValueError: a count out of range or an entity that is not in ``SAMPLE_ENTITIES``.
    """
    chosen = _check_arguments(days, invoices, sessions_per_day, entities)
    sample = SamplePlan(seed=seed, now=now, days=days, sessions_per_day=sessions_per_day, invoices=invoices)
    root = Path(out_dir)
    holds_real = root.is_dir() and not (root / SAMPLE_MARKER).exists() and any(root.glob("sync_session_*"))
    if holds_real:
        raise ValueError(
            f"{root} already holds sync sessions that are not sample data; fake invoices there would "
            "be loaded with the real ones. Choose another folder (--out DIR / out_dir=...)"
        )
    root.mkdir(parents=True, exist_ok=True)
    (root / SAMPLE_MARKER).write_text("sample data written by json2db-sync sample-data\n")
    return _TreeWriter(sample, progress).write(root, chosen)


def _check_arguments(
    days: int, invoices: int, sessions_per_day: int, entities: Iterable[str] | None
) -> tuple[str, ...]:
    """Reject values that would give no sessions or colliding folder names, before writing anything."""
    for name, value, low, high in (
        ("days", days, 1, None),
        ("invoices", invoices, 1, None),
        ("sessions_per_day", sessions_per_day, 1, _MAX_SESSIONS_PER_DAY),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"sample data: {name}={value!r} is not a whole number; give an integer >= {low}")  # noqa: TRY004 - the documented contract
        if value < low or (high is not None and value > high):
            accepted = f"{low}..{high}" if high is not None else f">= {low}"
            raise ValueError(f"sample data: {name}={value!r} is out of range; accepted: {accepted}")
    if entities is None:
        return SAMPLE_ENTITIES
    wanted = list(entities) if not isinstance(entities, str) else [entities]
    unknown = [name for name in wanted if name not in SAMPLE_ENTITIES]
    if unknown:
        raise ValueError(
            f"sample data: unknown entit{'y' if len(unknown) == 1 else 'ies'} {', '.join(map(repr, unknown))}; "
            f"choose from {', '.join(SAMPLE_ENTITIES)}"
        )
    if not wanted:
        raise ValueError(f"sample data: entities is empty; choose from {', '.join(SAMPLE_ENTITIES)} or leave it out for all")
    return tuple(name for name in SAMPLE_ENTITIES if name in wanted)


_ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False)


class _Writer:
    """Streams one JSON array (bare or inside a list envelope) record by record."""

    def __init__(self, path: Path, entity: str, envelope: bool) -> None:
        self._handle = path.open("w", encoding="utf-8", newline="\n")
        self._entity = entity
        self._envelope = envelope
        self.count = 0
        if envelope:
            self._handle.write(f'{{"code": 0, "message": "success", "{entity}": [')
        else:
            self._handle.write("[")

    def add(self, record: dict[str, Any]) -> None:
        self._handle.write(",\n  " if self.count else "\n  ")
        self._handle.write(_ENCODER.encode(record))
        self.count += 1

    def close(self) -> None:
        self._handle.write("\n]" if self.count else "]")
        if self._envelope:
            report, applied, column, order = _REPORT_NAMES[self._entity]
            page_context = {
                "page": 1, "per_page": 200, "has_more_page": False, "report_name": report,
                "applied_filter": applied, "custom_fields": [], "sort_column": column, "sort_order": order,
            }
            self._handle.write(f', "page_context": {json.dumps(page_context)}}}')
        self._handle.write("\n")
        self._handle.close()


class _TreeWriter:
    """Writes one planned data set into a sessions folder and counts what it wrote."""

    def __init__(self, sample: SamplePlan, progress: ProgressCallback = null_progress) -> None:
        self.sample = sample
        self._progress = progress
        self._progress_total = 0
        self._progress_done = 0

    def write(self, root: Path, entities: tuple[str, ...]) -> dict[str, Any]:
        """Write entity by entity: each record's timeline is worked out once and every
        appearance goes straight into its session's file (a bounded number open at a time).

        ``progress`` counts records worked out (per group of open session files) against
        the total known in advance, so a bar can show an ETA."""
        sessions = self.sample.sessions
        groups = -(-len(sessions) // _OPEN_FILES)
        self._progress_total = groups * sum(self._units(entity) for entity in entities)
        self._progress_done = 0
        records = dict.fromkeys(entities, 0)
        written: list[tuple[int, int, str, str]] = []  # (session, entity order, data file, metadata file)
        for entity in entities:
            for low in range(0, len(sessions), _OPEN_FILES):
                group = sessions[low : low + _OPEN_FILES]
                writers: dict[int, tuple[_Writer, Path, datetime]] = {}
                try:
                    for session in group:
                        when = session.late_time if entity in _LATE_FOLDER_ENTITIES and session.late_time else session.time
                        data_dir = root / session.name / "raw_json" / when.strftime(SESSION_FORMAT)
                        data_dir.mkdir(parents=True, exist_ok=True)
                        path = data_dir / f"{entity}.json"
                        writers[session.index] = (_Writer(path, entity, self._uses_envelope(session.index, entity)), path, when)
                    for session_index, record in self._entity_records(entity, low, low + len(group)):
                        writers[session_index][0].add(record)
                finally:
                    for writer, _, _ in writers.values():
                        writer.close()
                for session in group:
                    writer, path, when = writers[session.index]
                    records[entity] += writer.count
                    metadata = self._write_metadata(root / session.name, session, entity, when, path, writer.count, root)
                    written.append((session.index, SAMPLE_ENTITIES.index(entity), path.relative_to(root).as_posix(), metadata))
            logger.debug("sample data: wrote %d %s records", records[entity], entity)
        self._progress(ProgressEvent("sample_data", self._progress_total, self._progress_total, "done"))
        written.sort()
        summary = {
            "out_dir": str(root.resolve()),
            "sessions": [session.name for session in sessions],
            "data_files": [data for _, _, data, _ in written],
            "metadata_files": [metadata for _, _, _, metadata in written],
            "files_written": 2 * len(written),
            "records": records,
            "distinct_ids": {entity: self.sample.counts[entity] for entity in entities},
            "total_records": sum(records.values()),
            "seed": self.sample.seed,
            "days": self.sample.days,
            "now": self.sample.now.isoformat(),
        }
        logger.info(
            "sample data: %d sessions, %d records in %s", len(sessions), summary["total_records"], root
        )
        return summary

    def _uses_envelope(self, session: int, entity: str) -> bool:
        """Mostly Zoho list envelopes, some plain arrays: consumers must take both."""
        return (session + SAMPLE_ENTITIES.index(entity)) % 4 != 3

    def _entity_records(self, entity: str, low: int, high: int) -> Iterator[tuple[int, dict[str, Any]]]:
        """(session index, record) for every appearance in sessions low..high-1, by record index,
        so each session's file lists its records in creation order."""
        if entity == "organizations":
            for session in range(low, high):
                yield session, build_organization(self.sample)
            self._advance(entity, self._units(entity))
            return
        build = BUILDERS[entity]
        for index in range(self.sample.counts[entity]):
            if index & 255 == 255:
                self._advance(entity, 256)
            timeline = self.sample.timeline(entity, index)
            for emission in timeline.emissions:
                if low <= emission.session < high:
                    yield emission.session, build(self.sample, timeline, emission)
        self._advance(entity, self.sample.counts[entity] % 256)

    def _units(self, entity: str) -> int:
        """Progress units of one entity per group of sessions: its distinct records."""
        return 1 if entity == "organizations" else self.sample.counts[entity]

    def _advance(self, entity: str, units: int) -> None:
        self._progress_done += units
        self._progress(ProgressEvent("sample_data", min(self._progress_done, self._progress_total), self._progress_total, entity))

    def _write_metadata(
        self, folder: Path, session: Session, entity: str, when: datetime, data_path: Path, count: int, root: Path
    ) -> str:
        """sync_metadata_<entity>.json: what api_sync says about a run; never data."""
        finished = when + timedelta(seconds=1 + count // 500)
        metadata: dict[str, Any] = {
            "entity": entity,
            "session_id": session.name,
            "sync_type": "full" if session.index == 0 else "incremental",
            "organization_id": self.sample.organization_id,
            "api_endpoint": f"/books/v3/{entity}",
            "started": when.isoformat(),
            "finished": finished.isoformat(),
            "duration_seconds": int((finished - when).total_seconds()),
            "record_count": count,
            "pages": max(1, -(-count // 200)),
            "data_file": data_path.relative_to(folder).as_posix(),
            "status": "success",
            "errors": [],
        }
        path = folder / f"sync_metadata_{entity}.json"
        path.write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
        return path.relative_to(root).as_posix()
