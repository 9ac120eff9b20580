"""Discovery on awkward trees: which folders hold data, in which order, and what is said about the rest."""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from json2db_sync.errors import ConfigError, NoDataError
from json2db_sync.sources import DataDir, DataFile, describe_discovery, discover

NOW = datetime(2025, 7, 12, 12, 0, 0)
FMT = "%Y-%m-%d_%H-%M-%S"
RECORDS = [{"invoice_id": "1", "total": 10}]


def at(days: float = 0, hours: float = 0) -> datetime:
    """A time ``days``/``hours`` before NOW, as api_sync would name a folder."""
    return NOW - timedelta(days=days, hours=hours)


def summary(found) -> list[tuple[str | None, str | None, list[str]]]:
    """(session, timestamp folder name, entities) per data folder: the shape most tests compare."""
    return [
        (d.session, d.timestamp.strftime(FMT) if d.timestamp else None, [f.entity for f in d.files])
        for d in found.dirs
    ]


def write_json(path: Path, content: object = RECORDS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))
    return path


def session_name(when: datetime) -> str:
    return f"sync_session_{when.strftime(FMT)}"


# --- order and shape --------------------------------------------------------------------------


def test_sessions_oldest_first_with_several_timestamp_folders(make_session, sessions_dir: Path) -> None:
    make_session(at(1), {"invoices": RECORDS, "bills": []})
    make_session(at(3), {"contacts": []}, timestamp_dirs={at(2, hours=20): {"invoices": RECORDS}})
    make_session(at(2), {"items": []})

    found = discover(sessions_dir, now=NOW)

    assert found.kind == "sessions"
    assert summary(found) == [
        (session_name(at(3)), at(3).strftime(FMT), ["contacts"]),
        (session_name(at(3)), at(2, hours=20).strftime(FMT), ["invoices"]),
        (session_name(at(2)), at(2).strftime(FMT), ["items"]),
        (session_name(at(1)), at(1).strftime(FMT), ["bills", "invoices"]),
    ]
    assert found.warnings == []
    assert found.looked_in == [sessions_dir]


def test_data_file_fields(make_session, sessions_dir: Path) -> None:
    folder = make_session(at(1), {"Invoices": "[]"})
    os.utime(folder / "Invoices.json", (1_700_000_000, 1_700_000_000))

    (data_dir,) = discover(sessions_dir, now=NOW).dirs

    assert data_dir == DataDir(
        path=folder,
        session=session_name(at(1)),
        timestamp=at(1),
        files=(DataFile(folder / "Invoices.json", "invoices", 2, 1_700_000_000.0),),
    )


def test_metadata_only_and_empty_sessions_are_skipped_with_debug_log(
    make_session, sessions_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_session(at(1), {"invoices": RECORDS})
    metadata_only = sessions_dir / session_name(at(2))
    write_json(metadata_only / "sync_metadata_invoices.json", {"status": "success"})
    (metadata_only / "raw_json" / at(2).strftime(FMT)).mkdir(parents=True)
    (sessions_dir / session_name(at(3))).mkdir()  # empty session
    only_meta_in_ts = sessions_dir / session_name(at(4)) / "raw_json" / at(4).strftime(FMT)
    write_json(only_meta_in_ts / "sync_metadata_bills.json", {"status": "success"})

    with caplog.at_level(logging.DEBUG, logger="json2db_sync.sources"):
        found = discover(sessions_dir, now=NOW)

    assert summary(found) == [(session_name(at(1)), at(1).strftime(FMT), ["invoices"])]
    assert found.warnings == []
    skipped = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG and "skipped" in r.getMessage()]
    for name in (session_name(at(2)), session_name(at(3)), session_name(at(4))):
        assert any(name in message for message in skipped), name


def test_unparseable_folder_names_are_ignored_with_a_warning(
    make_session, sessions_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = make_session(at(1), {"invoices": RECORDS})
    write_json(sessions_dir / "sync_session_latest" / "raw_json" / at(1).strftime(FMT) / "bills.json")
    write_json(sessions_dir / "sync_session_2025-13-45_99-99-99" / "raw_json" / "x" / "bills.json")
    write_json(sessions_dir / "notes" / "a.json")
    write_json(good.parent / "latest" / "items.json")

    with caplog.at_level(logging.WARNING, logger="json2db_sync.sources"):
        found = discover(sessions_dir, now=NOW)

    assert summary(found) == [(session_name(at(1)), at(1).strftime(FMT), ["invoices"])]
    session_rule = "sync_session_YYYY-MM-DD_HH-MM-SS."
    assert found.warnings == [
        f"Ignored folder {sessions_dir / 'notes'}: its name does not parse as {session_rule}",
        f"Ignored folder {good.parent / 'latest'}: its name does not parse as a timestamp (YYYY-MM-DD_HH-MM-SS).",
        f"Ignored folder {sessions_dir / 'sync_session_2025-13-45_99-99-99'}: its name does not parse as {session_rule}",
        f"Ignored folder {sessions_dir / 'sync_session_latest'}: its name does not parse as {session_rule}",
    ]
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == found.warnings


def test_non_json_files_and_hidden_files_are_ignored(make_session, sessions_dir: Path) -> None:
    folder = make_session(at(1), {"invoices": RECORDS})
    (folder / "README.txt").write_text("notes")
    (folder / "invoices.json.bak").write_text("[]")
    (folder / ".DS_Store").write_bytes(b"\0")
    (folder / "._invoices.json").write_bytes(b"\0\5\26\7")
    (folder.parent.parent / "notes.md").write_text("session notes")

    found = discover(sessions_dir, now=NOW)

    assert [f.path.name for d in found.dirs for f in d.files] == ["invoices.json"]
    assert found.warnings == []


def test_folder_named_like_json_is_skipped_with_a_warning(make_session, sessions_dir: Path) -> None:
    folder = make_session(at(1), {"invoices": RECORDS})
    (folder / "bills.json").mkdir()

    found = discover(sessions_dir, now=NOW)

    assert summary(found) == [(session_name(at(1)), at(1).strftime(FMT), ["invoices"])]
    assert found.warnings == [
        f"{folder / 'bills.json'} is a folder named like a JSON file, not a data file; skipped."
    ]


# --- symlinks and permissions --------------------------------------------------------------------


def test_symlinked_session_inside_root_is_followed(workspace: Path, sessions_dir: Path) -> None:
    api_sync = workspace / "api_sync"
    real = api_sync / "archive" / session_name(at(2))
    write_json(real / "raw_json" / at(2).strftime(FMT) / "invoices.json")
    link = sessions_dir / session_name(at(2))
    link.symlink_to(real, target_is_directory=True)

    found = discover(api_sync, now=NOW)

    assert summary(found) == [(session_name(at(2)), at(2).strftime(FMT), ["invoices"])]
    assert found.dirs[0].path == link / "raw_json" / at(2).strftime(FMT)
    assert found.warnings == []


def test_symlink_outside_root_is_skipped_unless_allowed(tmp_path: Path, make_session, sessions_dir: Path) -> None:
    make_session(at(1), {"invoices": RECORDS})
    outside = tmp_path / "elsewhere" / session_name(at(2))
    write_json(outside / "raw_json" / at(2).strftime(FMT) / "bills.json")
    link = sessions_dir / session_name(at(2))
    link.symlink_to(outside, target_is_directory=True)

    found = discover(sessions_dir, now=NOW)

    assert summary(found) == [(session_name(at(1)), at(1).strftime(FMT), ["invoices"])]
    assert found.warnings == [
        f"Symlink {link} points outside {sessions_dir} (to {outside.resolve()}); skipped. "
        "Set JSON2DB_FOLLOW_SYMLINKS=true (data_source.follow_symlinks) to follow it."
    ]

    allowed = discover(sessions_dir, now=NOW, follow_symlinks=True)
    assert summary(allowed) == [
        (session_name(at(2)), at(2).strftime(FMT), ["bills"]),
        (session_name(at(1)), at(1).strftime(FMT), ["invoices"]),
    ]
    assert allowed.warnings == []


def test_two_links_to_one_session_count_once(make_session, sessions_dir: Path) -> None:
    folder = make_session(at(1), {"invoices": RECORDS})
    twin = sessions_dir / session_name(at(0, hours=1))
    twin.symlink_to(folder.parent.parent, target_is_directory=True)

    found = discover(sessions_dir, now=NOW)

    assert len(found.dirs) == 1
    assert len(found.warnings) == 1 and "counted once" in found.warnings[0]


def test_symlink_loops_neither_hang_nor_crash(make_session, sessions_dir: Path) -> None:
    folder = make_session(at(1), {"invoices": RECORDS})
    (folder / "loop.json").symlink_to("loop.json")  # a file link to itself
    (folder / "up").symlink_to("..", target_is_directory=True)  # a folder cycle
    looping_session = sessions_dir / session_name(at(2))
    looping_session.symlink_to(looping_session.name, target_is_directory=True)
    raw_loop = sessions_dir / session_name(at(3)) / "raw_json"
    raw_loop.parent.mkdir()
    raw_loop.symlink_to(".", target_is_directory=True)  # raw_json -> its own session

    found = discover(sessions_dir, now=NOW)

    assert summary(found) == [(session_name(at(1)), at(1).strftime(FMT), ["invoices"])]
    assert any(str(folder / "loop.json") in w and "loops" in w for w in found.warnings)
    assert any(str(looping_session) in w and "loops" in w for w in found.warnings)


def test_unreadable_folder_is_skipped_with_a_warning(make_session, sessions_dir: Path) -> None:
    make_session(at(1), {"invoices": RECORDS})
    locked = make_session(at(2), {"bills": RECORDS}).parent  # the raw_json folder
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as a user (root) who can read a chmod 000 folder")
        found = discover(sessions_dir, now=NOW)
    finally:
        locked.chmod(0o755)

    assert summary(found) == [(session_name(at(1)), at(1).strftime(FMT), ["invoices"])]
    assert len(found.warnings) == 1
    assert str(locked) in found.warnings[0]
    assert "permission" in found.warnings[0]


# --- cutoff ---------------------------------------------------------------------------------------


def test_cutoff_keeps_recent_folders_and_reports_the_newest_excluded(make_session, sessions_dir: Path) -> None:
    make_session(at(40), {"invoices": RECORDS})
    make_session(at(31), {"bills": RECORDS})
    make_session(at(10), {"items": RECORDS}, timestamp_dirs={at(30, hours=1): {"contacts": []}})
    make_session(at(0, hours=2), {"contacts": RECORDS})

    found = discover(sessions_dir, cutoff_days=30, now=NOW)

    assert summary(found) == [
        (session_name(at(10)), at(10).strftime(FMT), ["items"]),
        (session_name(at(0, hours=2)), at(0, hours=2).strftime(FMT), ["contacts"]),
    ]
    assert found.excluded_by_cutoff == 3
    assert found.newest_excluded_age_days == pytest.approx(30 + 1 / 24)


def test_everything_outside_the_cutoff_is_not_an_error(make_session, sessions_dir: Path) -> None:
    make_session(at(50), {"invoices": RECORDS})
    make_session(at(45), {"invoices": RECORDS})

    found = discover(sessions_dir, cutoff_days=7, now=NOW)

    assert (found.dirs, found.excluded_by_cutoff, found.newest_excluded_age_days) == ([], 2, 45.0)


def test_no_cutoff_keeps_everything(make_session, sessions_dir: Path) -> None:
    make_session(at(400), {"invoices": RECORDS})

    found = discover(sessions_dir, cutoff_days=None, now=NOW)

    assert (len(found.dirs), found.excluded_by_cutoff, found.newest_excluded_age_days) == (1, 0, None)


def test_undated_folders_are_never_cut(tmp_path: Path) -> None:
    write_json(tmp_path / "exports" / "invoices.json")

    found = discover(tmp_path / "exports", cutoff_days=0, now=NOW)

    assert summary(found) == [(None, None, ["invoices"])]


@pytest.mark.parametrize("bad", [-1, "7", 1.5, True], ids=["negative", "text", "fraction", "bool"])
def test_bad_cutoff_is_a_config_error(sessions_dir: Path, bad: object) -> None:
    with pytest.raises(ConfigError, match=r"cutoff_days=.* whole number of days, 0 or more"):
        discover(sessions_dir, cutoff_days=bad, now=NOW)  # type: ignore[arg-type]


# --- root kinds and fallback ---------------------------------------------------------------------


def _tree(workspace: Path) -> dict[str, Path]:
    """An api_sync tree with one session (two timestamp folders) and a consolidated raw_json."""
    api = workspace / "api_sync"
    session = api / "data" / "sync_sessions" / session_name(at(2))
    write_json(session / "raw_json" / at(2).strftime(FMT) / "invoices.json")
    write_json(session / "raw_json" / at(1).strftime(FMT) / "bills.json")
    write_json(session / "sync_metadata_invoices.json", {"status": "success"})
    raw = api / "data" / "raw_json"
    write_json(raw / at(5).strftime(FMT) / "contacts.json")
    write_json(raw / "items.json")
    plain = workspace / "exports"
    write_json(plain / "Invoices.json")
    write_json(plain / "notes" / "ignored.json")
    renamed = workspace / "renamed-session"
    write_json(renamed / "raw_json" / at(3).strftime(FMT) / "bills.json")
    return {
        "folder holding raw_json": renamed,
        "api_sync root": api,
        "api_sync data folder": api / "data",
        "sessions folder": api / "data" / "sync_sessions",
        "one session": session,
        "session raw_json": session / "raw_json",
        "one timestamp folder": session / "raw_json" / at(1).strftime(FMT),
        "consolidated raw_json": raw,
        "consolidated timestamp folder": raw / at(5).strftime(FMT),
        "plain folder": plain,
    }


SESSION = session_name(at(2))
BOTH_TIMESTAMPS = [(SESSION, at(2).strftime(FMT), ["invoices"]), (SESSION, at(1).strftime(FMT), ["bills"])]


ROOT_KINDS = [
    ("api_sync root", "sessions", BOTH_TIMESTAMPS),
    ("api_sync data folder", "sessions", BOTH_TIMESTAMPS),
    ("sessions folder", "sessions", BOTH_TIMESTAMPS),
    ("one session", "sessions", BOTH_TIMESTAMPS),
    ("session raw_json", "sessions", BOTH_TIMESTAMPS),
    ("one timestamp folder", "sessions", [(SESSION, at(1).strftime(FMT), ["bills"])]),
    ("consolidated raw_json", "consolidated", [(None, None, ["items"]), (None, at(5).strftime(FMT), ["contacts"])]),
    ("consolidated timestamp folder", "consolidated", [(None, at(5).strftime(FMT), ["contacts"])]),
    ("plain folder", "custom", [(None, None, ["invoices"])]),
    ("folder holding raw_json", "consolidated", [(None, at(3).strftime(FMT), ["bills"])]),
]


@pytest.mark.parametrize(("name", "kind", "expected"), [pytest.param(*case, id=case[0]) for case in ROOT_KINDS])
def test_each_root_kind_is_detected_and_logged(
    workspace: Path, caplog: pytest.LogCaptureFixture, name: str, kind: str, expected: list
) -> None:
    root = _tree(workspace)[name]

    with caplog.at_level(logging.INFO, logger="json2db_sync.sources"):
        found = discover(root, now=NOW)

    assert (found.kind, summary(found), found.root) == (kind, expected, root)
    assert any("detected as" in r.getMessage() and str(root) in r.getMessage() for r in caplog.records)


def test_forced_kind_reads_root_that_way(workspace: Path) -> None:
    raw = _tree(workspace)["consolidated raw_json"]

    found = discover(raw, kind="custom", now=NOW)

    assert (found.kind, summary(found)) == ("custom", [(None, None, ["items"])])


def test_unknown_kind_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="kind='zip'"):
        discover(tmp_path, kind="zip")


@pytest.mark.parametrize("sessions_state", ["missing", "metadata only"])
def test_api_sync_root_falls_back_to_raw_json(workspace: Path, sessions_dir: Path, sessions_state: str) -> None:
    if sessions_state == "missing":
        sessions_dir.rmdir()
    else:
        write_json(sessions_dir / session_name(at(1)) / "sync_metadata_invoices.json", {"status": "success"})
    raw = workspace / "api_sync" / "data" / "raw_json"
    write_json(raw / at(3).strftime(FMT) / "invoices.json")
    write_json(raw / "bills.json")

    found = discover(workspace / "api_sync", now=NOW)

    assert (found.kind, summary(found)) == (
        "consolidated",
        [(None, None, ["bills"]), (None, at(3).strftime(FMT), ["invoices"])],
    )
    assert found.looked_in == [sessions_dir, raw]
    reason = "does not exist" if sessions_state == "missing" else "holds no session with data"
    assert found.warnings == [f"Sessions folder {sessions_dir} {reason}; falling back to the consolidated folder {raw}."]


# --- nothing found ---------------------------------------------------------------------------------


def test_no_data_error_lists_places_and_the_checklist(workspace: Path, sessions_dir: Path) -> None:
    write_json(sessions_dir / session_name(at(1)) / "sync_metadata_invoices.json", {"status": "success"})
    raw = workspace / "api_sync" / "data" / "raw_json"

    with pytest.raises(NoDataError) as caught:
        discover(workspace / "api_sync", now=NOW)

    message = str(caught.value)
    assert message.startswith("No data found")
    assert f"{sessions_dir} (holds no data files)" in message
    assert f"{raw} (does not exist)" in message
    for item in (
        "JSON2DB_DATA_SOURCE_TYPE is api_sync",
        "api_sync has created successful sessions",
        "raw_json/<YYYY-MM-DD_HH-MM-SS>/ data files, not just sync_metadata_*.json",
        "permissions",
    ):
        assert item in message
    assert caught.value.error_type == "file_error"


def test_missing_root_raises_no_data_or_returns_empty(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"

    with pytest.raises(NoDataError, match=f"{missing} \\(does not exist\\)"):
        discover(missing)
    found = discover(missing, raise_if_empty=False)
    assert (found.dirs, found.looked_in, found.kind) == ([], [missing], "custom")


# --- description for "browse sessions" -------------------------------------------------------------


def test_describe_discovery_gives_plain_dicts(make_session, sessions_dir: Path) -> None:
    folder = make_session(at(0, hours=6), {"invoices": "[1, 2]", "bills": "[]"})
    mtime = (NOW - timedelta(hours=5)).timestamp()
    for name in ("invoices.json", "bills.json"):
        os.utime(folder / name, (mtime, mtime))

    described = describe_discovery(discover(sessions_dir, now=NOW), now=NOW)

    assert described == [
        {
            "session": session_name(at(0, hours=6)),
            "timestamp": at(0, hours=6).isoformat(),
            "path": str(folder),
            "age_hours": 6.0,
            "entities": ["bills", "invoices"],
            "file_count": 2,
            "total_size": 8,
            "files": [
                {"entity": "bills", "child_field": None, "name": "bills.json", "path": str(folder / "bills.json"),
                 "size": 2, "age_hours": 5.0},
                {"entity": "invoices", "child_field": None, "name": "invoices.json",
                 "path": str(folder / "invoices.json"), "size": 6, "age_hours": 5.0},
            ],
        }
    ]
    json.dumps(described)
