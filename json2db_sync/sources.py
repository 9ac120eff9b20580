"""Which folders and files hold data, oldest first, with the cutoff; imports stdlib and json2db_sync.errors only.

api_sync writes one folder per run::

    <api_sync root>/data/sync_sessions/
        sync_session_YYYY-MM-DD_HH-MM-SS/
            raw_json/<YYYY-MM-DD_HH-MM-SS>/<entity>.json    # data (several timestamp folders allowed)
            sync_metadata_<entity>.json                     # metadata, never data
    <api_sync root>/data/raw_json/                          # consolidated fallback
        <YYYY-MM-DD_HH-MM-SS>/<entity>.json  or  <entity>.json

:func:`discover` accepts any of those folders (or a plain folder of ``*.json`` files),
says which one it was given, and returns the folders that hold data files, oldest first.
Nothing here reads the files' content: counting records is the reader's job.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .errors import ConfigError, NoDataError

logger = logging.getLogger(__name__)

TIMESTAMP_FORMAT = "%Y-%m-%d_%H-%M-%S"
SESSION_PREFIX = "sync_session_"
METADATA_PREFIX = "sync_metadata_"
RAW_JSON = "raw_json"
# api_sync writes each module folder as ``<ts>.tmp/`` and renames it when the module is
# complete: a folder still carrying the suffix is an interrupted (or still running) run.
TEMPORARY_SUFFIX = ".tmp"
# ``<entity>_line_items.json`` is api_sync's separate copy of the line items of ``<entity>``:
# child rows of that entity, never an entity of its own.
LINE_ITEMS_SUFFIX = "_line_items"
LINE_ITEMS_FIELD = "line_items"
SESSIONS_FOLDER = "sync_sessions"
KINDS = ("sessions", "consolidated", "custom")

NO_DATA_CHECKLIST = (
    "JSON2DB_DATA_SOURCE_TYPE is api_sync (data_source.type in the config file), or point "
    "JSON2DB_JSON_DIR / data_source at a folder of *.json files",
    "api_sync has created successful sessions (sync_session_YYYY-MM-DD_HH-MM-SS folders)",
    "the sessions contain raw_json/<YYYY-MM-DD_HH-MM-SS>/ data files, not just sync_metadata_*.json",
    "file permissions let this user read the folders above (e.g. chmod -R u+rX <folder>)",
)


@dataclass(frozen=True, slots=True)
class DataFile:
    """One data file; ``entity`` (the lower-cased stem) decides its table.

    ``child_field`` is set for api_sync's ``<entity>_line_items.json``: the file holds the
    elements of that child array of ``entity`` (each naming its parent in ``parent_id``).
    """

    path: Path
    entity: str
    size: int
    mtime: float
    child_field: str | None = None
    # The inode's change time: no tool sets it back (``touch -d`` and ``cp -p`` restore
    # mtime, not ctime), so a file rewritten in place keeping size and mtime still shows.
    ctime_ns: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class DataDir:
    """A folder holding data files; ``timestamp`` orders it and decides the cutoff."""

    path: Path
    session: str | None
    timestamp: datetime | None
    files: tuple[DataFile, ...]
    # api_sync's sync_metadata_<module>.json files in the folder (its own record counts).
    metadata: tuple[Path, ...] = ()


@dataclass(frozen=True, slots=True)
class LedgerView:
    """What the database already holds, so that discovery can skip what is done and
    catch up with what is not (read by the runner from the ledger before a load).

    ``horizon`` is the oldest data folder the ledger holds (None before the first load):
    every folder newer than it is in scope whatever the cutoff, so a folder that missed
    its night (a failed run, a folder written late, a clock in another time zone, a
    restore) is loaded by the next run. ``settled`` maps a unit (a session folder, or a
    timestamp folder of a consolidated folder) to the fingerprint it had when a run
    loaded all of it: a unit outside the window whose fingerprint is unchanged is not
    listed again, which keeps a night's cost independent of the history's length.
    """

    horizon: datetime | None = None
    settled: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Discovery:
    """What :func:`discover` found, where it looked, and what the cutoff left out.

    ``caught_up`` are the folders of ``dirs`` that are older than the cutoff but newer
    than the ledger's horizon (the runner says which of them it loaded and why);
    ``pruned`` counts settled units not listed; ``settle`` holds, per unit listed whose
    content had stopped changing, (fingerprint, folder time) to record after the load.
    ``now`` is the clock the cutoff was measured against (the run's clock).
    """

    dirs: list[DataDir]
    kind: str
    root: Path
    looked_in: list[Path]
    excluded_by_cutoff: int = 0
    newest_excluded_age_days: float | None = None
    warnings: list[str] = field(default_factory=list)
    caught_up: list[DataDir] = field(default_factory=list)
    pruned: int = 0
    settle: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    now: datetime | None = None
    # ``<ts>.tmp`` module folders of interrupted api_sync runs: never read (see notes()).
    interrupted: list[Path] = field(default_factory=list)

    def notes(self) -> list[str]:
        """What the user should know without it being a problem: said once per run."""
        if not self.interrupted:
            return []
        names = ", ".join(str(p) for p in self.interrupted[:5])
        more = f" and {len(self.interrupted) - 5} more" if len(self.interrupted) > 5 else ""
        return [
            f"skipped {len(self.interrupted)} unfinished api_sync folder(s) ({names}{more}): a "
            f"'{TEMPORARY_SUFFIX}' folder is one api_sync had not finished writing (a run that was "
            "interrupted or is still running). api_sync renames it when the module is complete; "
            "a finished run that left it behind can delete it."
        ]


_TIMESTAMP_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})_(\d{2})-(\d{2})-(\d{2})")


def parse_timestamp(name: str) -> datetime | None:
    """The naive local time a ``YYYY-MM-DD_HH-MM-SS`` folder name carries, else None.
    (What ``strptime(name, TIMESTAMP_FORMAT)`` answers, at a fifth of its cost: a night's
    discovery reads the name of every session of the history.)"""
    if len(name) != 19:
        return None
    match = _TIMESTAMP_NAME.fullmatch(name)
    if match is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def parse_session_name(name: str) -> datetime | None:
    """The time of a ``sync_session_YYYY-MM-DD_HH-MM-SS`` name, else None."""
    if not name.startswith(SESSION_PREFIX):
        return None
    return parse_timestamp(name[len(SESSION_PREFIX) :])


def is_data_file_name(name: str) -> bool:
    """``*.json`` except metadata and hidden files (macOS ``._x.json`` forks are not data)."""
    return (
        name.lower().endswith(".json")
        and not name.startswith(METADATA_PREFIX)
        and not name.startswith(".")
    )


def entity_of(path: Path) -> str:
    """``Invoices.JSON`` -> ``invoices``: the entity a data file feeds."""
    return path.name[: -len(".json")].lower()


def classify_data_file(path: Path) -> tuple[str, str | None]:
    """(entity, child field) of a data file: ``bills_line_items.json`` feeds the
    ``line_items`` of ``bills``; any other file is its own entity."""
    stem = entity_of(path)
    if stem.endswith(LINE_ITEMS_SUFFIX) and len(stem) > len(LINE_ITEMS_SUFFIX):
        return stem[: -len(LINE_ITEMS_SUFFIX)], LINE_ITEMS_FIELD
    return stem, None


def is_interrupted_folder_name(name: str) -> bool:
    """``2025-07-11_13-54-38.tmp``: a module folder api_sync had not finished."""
    return name.endswith(TEMPORARY_SUFFIX) and parse_timestamp(name[: -len(TEMPORARY_SUFFIX)]) is not None


@dataclass(frozen=True, slots=True)
class _Entry:
    """A folder entry after the symlink rules: what it is, seen through any link."""

    name: str
    path: Path
    is_dir: bool
    is_file: bool


# A session's timestamp folders may be named a little after the session itself: a session
# is listed when it started up to this long before the window (or the horizon).
SESSION_SPAN = timedelta(days=1)
# A unit whose folders and files were all last modified at least this long before the
# run is complete (api_sync has finished writing it) and may be recorded as settled.
SETTLE_SECONDS = 3600.0
# A folder named more than this after the run's clock is "in the future".
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(slots=True)
class _Scope:
    """Which dated units the walk lists: decided from their name (and, outside the
    window, two stats), before any of their content is read."""

    limit: datetime | None
    ledger: LedgerView | None
    now_epoch: float
    excluded: list[datetime] = field(default_factory=list)
    pruned: int = 0
    settle: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    @property
    def horizon(self) -> datetime | None:
        return self.ledger.horizon if self.ledger is not None else None

    def in_reach(self, when: datetime) -> bool:
        """Newer than the window or the horizon (with a session's span of slack)."""
        if self.limit is None or when >= self.limit - SESSION_SPAN:
            return True
        horizon = self.horizon
        return horizon is not None and when >= horizon - SESSION_SPAN

    def decide(self, folder: str | Path, when: datetime | None, parts: Sequence[str | Path]) -> str | None:
        """``None`` to leave the unit out (excluded or settled), else its fingerprint.

        ``parts`` are the folders whose modification times make the fingerprint (a
        session's raw_json: a new timestamp folder changes it)."""
        fingerprint = _fingerprint(parts)
        if when is None:
            return fingerprint
        if not self.in_reach(when):
            self.excluded.append(when)
            return None
        in_window = self.limit is None or when >= self.limit - SESSION_SPAN
        settled = self.ledger.settled.get(str(folder)) if self.ledger is not None else None
        if settled is not None and settled == fingerprint and not in_window:
            self.pruned += 1
            return None
        return fingerprint

    def listed(self, folder: str | Path, when: datetime | None, fingerprint: str, dirs: Sequence[DataDir]) -> None:
        """Remember a listed unit as settled-to-be when nothing in it changed lately."""
        if when is None:
            return
        newest = 0.0
        for data_dir in dirs:
            newest = max(newest, _mtime_of(data_dir.path), *(f.mtime for f in data_dir.files))
        if newest <= self.now_epoch - SETTLE_SECONDS and _newest_part(fingerprint) <= self.now_epoch - SETTLE_SECONDS:
            self.settle[str(folder)] = (fingerprint, when.strftime("%Y-%m-%d %H:%M:%S"))


def _mtime_of(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return float("inf")  # unreadable now: never settled


def _fingerprint(parts: Sequence[str | Path]) -> str:
    """The modification times (ns) of ``parts``; "-" for a part that is missing."""
    stamps = []
    for part in parts:
        try:
            stamps.append(str(os.stat(part).st_mtime_ns))
        except OSError:
            stamps.append("-")
    return ":".join(stamps)


def _newest_part(fingerprint: str) -> float:
    values = [int(v) / 1e9 for v in fingerprint.split(":") if v.isdigit()]
    return max(values, default=0.0)


class _Walker:
    """Walks the fixed-depth layouts; collects warnings; counts each real folder once."""

    def __init__(self, root: Path, follow_symlinks: bool, scope: _Scope | None = None) -> None:
        self.root = root
        self.root_real = root.resolve()
        self.follow_symlinks = follow_symlinks
        self.scope = scope
        self.warnings: list[str] = []
        self.interrupted: list[Path] = []
        self._seen: dict[Path, Path] = {}

    def warn(self, message: str) -> None:
        """Data oddities go both to the log and to Discovery.warnings."""
        logger.warning(message)
        self.warnings.append(message)

    def entries(self, folder: Path) -> list[_Entry]:
        """Sorted entries of ``folder``; unreadable folders and bad symlinks are warned about."""
        result = []
        for item in self.raw_entries(folder):
            entry = self._entry(item)
            if entry is not None:
                result.append(entry)
        return result

    def raw_entries(self, folder: Path) -> list[os.DirEntry[str]]:
        """``os.scandir`` of ``folder`` sorted by name, before the symlink rules; an
        unreadable folder is warned about and reads as empty."""
        try:
            with os.scandir(folder) as it:
                return sorted(it, key=lambda e: e.name)
        except PermissionError:
            self.warn(
                f"Cannot read folder {folder}: permission denied; skipped. Give the user running "
                f"json2db_sync read and execute permission on it (e.g. chmod u+rx '{folder}')."
            )
            return []
        except (FileNotFoundError, NotADirectoryError):
            logger.debug("%s is not a folder; nothing to list", folder)
            return []
        except OSError as exc:
            self.warn(f"Cannot read folder {folder}: {exc.strerror or exc}; skipped. Check that it is reachable.")
            return []

    def _entry(self, item: os.DirEntry[str]) -> _Entry | None:
        """Apply the symlink rules: inside root is followed, outside only when allowed."""
        path = Path(item.path)
        if item.name.startswith("."):
            logger.debug("Hidden entry %s ignored", path)
            return None
        try:
            is_link = item.is_symlink()
        except OSError:
            is_link = False
        if is_link:
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError) as exc:
                self.warn(f"Symlink {path} is broken or loops ({exc}); skipped. Fix or remove the link.")
                return None
            if not target.is_relative_to(self.root_real) and not self.follow_symlinks:
                self.warn(
                    f"Symlink {path} points outside {self.root} (to {target}); skipped. "
                    "Set JSON2DB_FOLLOW_SYMLINKS=true (data_source.follow_symlinks) to follow it."
                )
                return None
        try:
            is_dir = item.is_dir()
            is_file = item.is_file()
        except OSError as exc:
            self.warn(f"Cannot inspect {path} ({exc}); skipped.")
            return None
        return _Entry(item.name, path, is_dir, is_file)

    def first_visit(self, folder: Path) -> bool:
        """True once per real folder, so a symlinked session is never loaded twice."""
        try:
            real = folder.resolve()
        except (OSError, RuntimeError):
            real = folder
        earlier = self._seen.get(real)
        if earlier is not None:
            self.warn(f"{folder} is the same folder as {earlier} (through a symlink); counted once.")
            return False
        self._seen[real] = folder
        return True

    def data_files(self, folder: Path, entries: Iterable[_Entry] | None = None) -> tuple[DataFile, ...]:
        """The data files directly inside ``folder`` (regular ``*.json`` files, metadata excluded)."""
        files = []
        for entry in self.entries(folder) if entries is None else entries:
            if not is_data_file_name(entry.name):
                if entry.name.startswith(METADATA_PREFIX):
                    logger.debug("Metadata file %s is not data", entry.path)
                elif entry.is_file:
                    logger.debug("Non-JSON file %s ignored", entry.path)
                continue
            if entry.is_dir:
                self.warn(f"{entry.path} is a folder named like a JSON file, not a data file; skipped.")
                continue
            if not entry.is_file:
                self.warn(f"{entry.path} is not a regular file; skipped.")
                continue
            try:
                info = entry.path.stat()
            except OSError as exc:
                self.warn(f"Cannot read {entry.path} ({exc.strerror or exc}); skipped. Check its permissions.")
                continue
            entity, child_field = classify_data_file(entry.path)
            files.append(DataFile(entry.path, entity, info.st_size, info.st_mtime, child_field, info.st_ctime_ns))
        return tuple(files)

    def data_dir(self, folder: Path, session: str | None, timestamp: datetime | None) -> list[DataDir]:
        """One folder as a DataDir, or nothing when it holds no data files (debug log)."""
        entries = self.entries(folder)
        files = self.data_files(folder, entries)
        if not files:
            logger.debug("%s holds no data files; skipped", folder)
            return []
        if not self.first_visit(folder):
            return []
        return [DataDir(folder, session, timestamp, files, metadata_files(entries))]

    def raw_json(self, raw: Path, session: str | None, session_time: datetime | None) -> list[DataDir]:
        """``raw_json``: timestamp subfolders, plus flat files dated by the session (if any)."""
        entries = self.entries(raw)
        found: list[DataDir] = []
        for entry in entries:
            if not entry.is_dir or is_data_file_name(entry.name):
                continue
            when = parse_timestamp(entry.name)
            if when is None and is_interrupted_folder_name(entry.name):
                logger.info("%s is an unfinished api_sync folder (.tmp); not read", entry.path)
                self.interrupted.append(entry.path)
                continue
            if when is None:
                self.warn(
                    f"Ignored folder {entry.path}: its name does not parse as a timestamp "
                    "(YYYY-MM-DD_HH-MM-SS)."
                )
                continue
            if session is None and self.scope is not None:
                # a consolidated folder: each timestamp folder is a unit of its own
                fingerprint = self.scope.decide(entry.path, when, (entry.path,))
                if fingerprint is None:
                    continue
                listed = self.data_dir(entry.path, session, when)
                self.scope.listed(entry.path, when, fingerprint, listed)
                found.extend(listed)
                continue
            found.extend(self.data_dir(entry.path, session, when))
        flat = self.data_files(raw, entries)
        if flat and self.first_visit(raw):
            found.append(DataDir(raw, session, session_time, flat, metadata_files(entries)))
        return found

    def session(self, folder: Path, when: datetime | None) -> list[DataDir]:
        """One ``sync_session_*`` folder: its ``raw_json`` holds the data; metadata-only is skipped."""
        found: list[DataDir] = []
        has_raw = False
        for entry in self.entries(folder):
            if entry.name == RAW_JSON and entry.is_dir:
                has_raw = True
                found.extend(self.raw_json(entry.path, folder.name, when))
            elif is_data_file_name(entry.name) and entry.is_file:
                logger.debug("%s sits outside raw_json/<timestamp>/ and is not read", entry.path)
        if not found:
            logger.debug(
                "Session %s holds no data files (%s); skipped",
                folder,
                "metadata or empty timestamp folders only" if has_raw else "no raw_json folder",
            )
        return found

    def sessions_folder(self, folder: Path) -> list[DataDir]:
        """A folder of ``sync_session_*`` folders; other folder names are warned about.

        With a scope, a session is decided from its name (and, outside the window, two
        stats) before anything else is done with it: a year of sessions costs a night
        the same as a week."""
        found: list[DataDir] = []
        for item in self.raw_entries(folder):
            when = parse_session_name(item.name)
            fingerprint = None
            if self.scope is not None and when is not None and not item.name.startswith("."):
                # its raw_json's mtime changes when a timestamp folder is added (or when
                # raw_json itself appears: "-" before)
                fingerprint = self.scope.decide(item.path, when, (os.path.join(item.path, RAW_JSON),))
                if fingerprint is None:
                    continue
            entry = self._entry(item)
            if entry is None:
                continue
            if not entry.is_dir:
                logger.debug("File %s in the sessions folder ignored", entry.path)
                continue
            if when is None:
                self.warn(
                    f"Ignored folder {entry.path}: its name does not parse as "
                    "sync_session_YYYY-MM-DD_HH-MM-SS."
                )
                continue
            listed = self.session(entry.path, when)
            if self.scope is not None and fingerprint is not None:
                self.scope.listed(item.path, when, fingerprint, listed)
            found.extend(listed)
        return found


def metadata_files(entries: Iterable[_Entry]) -> tuple[Path, ...]:
    """api_sync's ``sync_metadata_*.json`` files among a folder's entries."""
    return tuple(
        e.path for e in entries if e.is_file and e.name.startswith(METADATA_PREFIX) and e.name.endswith(".json")
    )


def _is_dir(path: Path) -> bool:
    """``Path.is_dir`` that answers False, not PermissionError, under an unreadable folder."""
    try:
        return path.is_dir()
    except OSError:
        return False


def _child_dir_names(folder: Path) -> list[str]:
    """Names of sub-folders, for layout detection only (errors are reported by the walk)."""
    try:
        with os.scandir(folder) as it:
            names = []
            for item in it:
                try:
                    if item.is_dir():
                        names.append(item.name)
                except OSError:
                    continue
            return names
    except OSError:
        return []


def _detect_layout(root: Path) -> tuple[str, str]:
    """Which of the accepted layouts ``root`` is, with a phrase for the log."""
    if _is_dir(root / "data" / SESSIONS_FOLDER) or _is_dir(root / "data" / RAW_JSON):
        return "api_sync_root", "an api_sync root (has data/sync_sessions or data/raw_json)"
    if _is_dir(root / SESSIONS_FOLDER):
        return "api_sync_data", "an api_sync data folder (has sync_sessions)"
    if parse_session_name(root.name) is not None:
        return "session", "one sync session folder"
    if parse_timestamp(root.name) is not None:
        return "timestamp", "one timestamp folder"
    if root.name == RAW_JSON and parse_session_name(root.parent.name) is not None:
        return "session_raw", "the raw_json folder of one sync session"
    if _is_dir(root / RAW_JSON):
        return "raw_json_parent", "a folder holding raw_json/ (an api_sync data folder or a renamed session)"
    children = _child_dir_names(root) if _is_dir(root) else []
    if root.name == SESSIONS_FOLDER or any(name.startswith(SESSION_PREFIX) for name in children):
        return "sessions_folder", "a sessions folder (holds sync_session_* folders)"
    if root.name == RAW_JSON or any(parse_timestamp(name) for name in children):
        return "consolidated", "a consolidated folder (timestamp sub-folders or flat *.json)"
    return "custom", "a plain folder of *.json files"


def _scan(
    walker: _Walker, root: Path, layout: str
) -> tuple[str, list[DataDir], list[Path]]:
    """Walk ``root`` as ``layout``; returns (kind, dirs before the cutoff, places looked in)."""
    if layout in ("api_sync_root", "api_sync_data"):
        base = root / "data" if layout == "api_sync_root" else root
        sessions, raw = base / SESSIONS_FOLDER, base / RAW_JSON
        dirs = walker.sessions_folder(sessions) if _is_dir(sessions) else []
        if dirs:
            return "sessions", dirs, [sessions]
        reason = "does not exist" if not _is_dir(sessions) else "holds no session with data"
        walker.warn(f"Sessions folder {sessions} {reason}; falling back to the consolidated folder {raw}.")
        return "consolidated", walker.raw_json(raw, None, None), [sessions, raw]
    if layout == "sessions_folder":
        return "sessions", walker.sessions_folder(root), [root]
    if layout == "session":
        return "sessions", walker.session(root, parse_session_name(root.name)), [root]
    if layout == "session_raw":
        parent = root.parent
        return "sessions", walker.raw_json(root, parent.name, parse_session_name(parent.name)), [root]
    if layout == "timestamp":
        session_dir = root.parent.parent
        if root.parent.name == RAW_JSON and parse_session_name(session_dir.name) is not None:
            return "sessions", walker.data_dir(root, session_dir.name, parse_timestamp(root.name)), [root]
        return "consolidated", walker.data_dir(root, None, parse_timestamp(root.name)), [root]
    if layout == "consolidated":
        return "consolidated", walker.raw_json(root, None, None), [root]
    if layout == "raw_json_parent":
        return "consolidated", walker.raw_json(root / RAW_JSON, None, None), [root / RAW_JSON]
    return "custom", walker.data_dir(root, None, None), [root]


_KIND_LAYOUTS = {"sessions": "sessions_folder", "consolidated": "consolidated", "custom": "custom"}


def discover(
    root: str | os.PathLike[str],
    *,
    kind: str = "auto",
    cutoff_days: int | None = None,
    now: datetime | None = None,
    follow_symlinks: bool = False,
    raise_if_empty: bool = True,
    ledger: LedgerView | None = None,
) -> Discovery:
    """Find the folders under ``root`` that hold data files, oldest first.

    Args:
        root: an api_sync root, a sessions folder, one session, one timestamp folder,
            a consolidated ``raw_json`` folder, or a plain folder of ``*.json`` files.
        kind: ``"auto"`` (detect and log the decision) or one of ``sessions``,
            ``consolidated``, ``custom`` to force how ``root`` is read.
        cutoff_days: keep folders whose timestamp is within that many days of ``now``;
            None keeps all. Folders without a timestamp in their name are never cut.
        now: the reference time (naive local), default ``datetime.now()``.
        follow_symlinks: also follow symlinks that point outside ``root``.
        raise_if_empty: raise NoDataError when nothing at all is found; when False the
            caller gets an empty Discovery and decides (the config's fallbacks do).
        ledger: what the database holds (see :class:`LedgerView`): folders older than the
            cutoff but newer than its horizon are kept too (``caught_up``), and units it
            records as settled and unchanged are not listed at all.

    Raises:
        NoDataError: no data files anywhere (not raised when the cutoff excluded them all).
        ConfigError: unknown ``kind`` or a negative ``cutoff_days``.
    """
    if kind != "auto" and kind not in KINDS:
        raise ConfigError(f"kind={kind!r} is not a data source layout; use auto, {', '.join(KINDS)}.")
    if cutoff_days is not None and (isinstance(cutoff_days, bool) or not isinstance(cutoff_days, int) or cutoff_days < 0):
        raise ConfigError(
            f"cutoff_days={cutoff_days!r} is not valid: give a whole number of days, 0 or more, or None for no filter."
        )
    root_path = Path(os.path.abspath(os.path.expanduser(os.fspath(root))))
    now = datetime.now() if now is None else now
    limit = None if cutoff_days is None else _cutoff_limit(now, cutoff_days)
    scope = None
    if limit is not None or ledger is not None:
        scope = _Scope(limit, ledger, _epoch(now))
    walker = _Walker(root_path, follow_symlinks, scope)

    if kind == "auto":
        layout, why = _detect_layout(root_path)
        logger.info("Data source %s detected as %s", root_path, why)
    else:
        layout = _KIND_LAYOUTS[kind]
        logger.info("Data source %s read as %s (kind given)", root_path, kind)
    if not _is_dir(root_path):
        logger.info("Data source %s %s", root_path, _place_status(root_path))
    found_kind, dirs, looked_in = _scan(walker, root_path, layout)

    excluded: list[datetime] = list(scope.excluded) if scope is not None else []
    caught_up: list[DataDir] = []
    if limit is not None:
        horizon = ledger.horizon if ledger is not None else None
        kept = []
        for d in dirs:
            if d.timestamp is None or d.timestamp >= limit:
                kept.append(d)
            elif horizon is not None and d.timestamp >= horizon:
                kept.append(d)
                caught_up.append(d)
            else:
                excluded.append(d.timestamp)
        dirs = kept
    newest_age = None
    if excluded:
        newest_age = (now - max(excluded)).total_seconds() / 86400
        logger.info(
            "cutoff_days=%s left out %d folder(s); the newest of them is %.1f days old",
            cutoff_days,
            len(excluded),
            newest_age,
        )
    _warn_future(walker, dirs, now)
    dirs.sort(key=_oldest_first)
    caught_up.sort(key=_oldest_first)
    if scope is not None and scope.pruned:
        logger.info("%d settled folder(s) outside the cutoff were not listed (the ledger has them)", scope.pruned)
    logger.info("Found %d data folder(s) (%s) in %s", len(dirs), found_kind, root_path)
    if not dirs and not excluded and raise_if_empty and not (scope is not None and scope.pruned):
        raise no_data_error(looked_in, walker.warnings)
    return Discovery(
        dirs=dirs,
        kind=found_kind,
        root=root_path,
        looked_in=looked_in,
        excluded_by_cutoff=len(excluded),
        newest_excluded_age_days=newest_age,
        warnings=walker.warnings,
        caught_up=caught_up,
        pruned=scope.pruned if scope is not None else 0,
        settle=scope.settle if scope is not None else {},
        now=now,
        interrupted=walker.interrupted,
    )


def _epoch(moment: datetime) -> float:
    """A naive local time as seconds since the epoch (what file times are measured in)."""
    try:
        return moment.timestamp()
    except (OverflowError, OSError, ValueError):
        return float("inf")


def _warn_future(walker: _Walker, dirs: Sequence[DataDir], now: datetime) -> None:
    """Folders named after the run's clock: their records without a timestamp of their own
    are dated by the run's clock instead (see pipeline.Pipeline._fallback_time), so that a wrong producer
    clock cannot freeze them; say so, once per run, with the worst case."""
    future = [d for d in dirs if d.timestamp is not None and d.timestamp > now + FUTURE_TOLERANCE]
    if not future:
        return
    worst = max(future, key=lambda d: d.timestamp or now)
    ahead = ((worst.timestamp or now) - now).total_seconds() / 3600
    walker.warn(
        f"{len(future)} data folder(s) are named after this run's clock ({now:%Y-%m-%d %H:%M:%S}); "
        f"the furthest, {worst.path}, by {ahead:.1f} h. Records without their own "
        "last_modified_time from them are dated by this run's clock instead. Check the clock "
        "and time zone of the machine running api_sync."
    )


def _oldest_first(d: DataDir) -> tuple[bool, datetime, str]:
    """Undated folders first (by path), then by timestamp, then path: a stable order."""
    return (d.timestamp is not None, d.timestamp or datetime.min, str(d.path))


def _place_status(path: Path) -> str:
    """Why a place held nothing, in a few words, for the NoDataError message."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return "does not exist"
    except PermissionError:
        return "cannot be reached: permission denied on a parent folder"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if not stat.S_ISDIR(info.st_mode):
        return "is not a folder"
    if not os.access(path, os.R_OK | os.X_OK):
        return "cannot be read: permission denied"
    return "holds no data files"


def no_data_error(looked_in: Sequence[Path], warnings: Sequence[str] = ()) -> NoDataError:
    """The "No data found" error: every place looked in, the guide's checklist, the warnings."""
    lines = ["No data found. Looked in:"]
    lines += [f"  - {place} ({_place_status(place)})" for place in looked_in]
    lines.append("Check that:")
    lines += [f"  - {item}" for item in NO_DATA_CHECKLIST]
    if warnings:
        lines.append("Warnings while looking:")
        lines += [f"  - {w}" for w in warnings[:20]]
        if len(warnings) > 20:
            lines.append(f"  - ... and {len(warnings) - 20} more")
    return NoDataError("\n".join(lines))


def describe_discovery(discovery: Discovery, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Plain, JSON-ready dicts for "browse sessions": one per data folder, oldest first.

    Ages are in hours: a folder's from its timestamp (None when undated), a file's from
    its modification time. Record counts are left to the reader.
    """
    now = datetime.now() if now is None else now
    now_epoch = now.timestamp()
    described = []
    for d in discovery.dirs:
        described.append(
            {
                "session": d.session,
                "timestamp": d.timestamp.isoformat() if d.timestamp else None,
                "path": str(d.path),
                "age_hours": round((now - d.timestamp).total_seconds() / 3600, 2) if d.timestamp else None,
                "entities": sorted({f.entity for f in d.files}),
                "file_count": len(d.files),
                "total_size": sum(f.size for f in d.files),
                "files": [
                    {
                        "entity": f.entity,
                        # "line_items" for api_sync's <entity>_line_items.json: child rows, not records
                        "child_field": f.child_field,
                        "name": f.path.name,
                        "path": str(f.path),
                        "size": f.size,
                        "age_hours": round((now_epoch - f.mtime) / 3600, 2),
                    }
                    for f in d.files
                ],
            }
        )
    return described


def _cutoff_limit(now: datetime, cutoff_days: int) -> datetime | None:
    """The oldest timestamp a cutoff keeps; None when the cutoff reaches past the calendar's
    start (``--cutoff-days 1000000``), which keeps everything rather than failing."""
    try:
        return now - timedelta(days=cutoff_days)
    except OverflowError:
        return None
