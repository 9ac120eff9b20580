"""The interactive menu (``python -m json2db_sync.main_json2db_sync``): questionary prompts to the
runner to render; may import the runner, render, rich and questionary (the only module that does).

The menu holds no business logic: every option asks only what its runner call needs
(with defaults from the configuration that Enter accepts), calls the runner and draws
the result. No dead ends: bad input is asked again with the reason, an unknown key says
which keys work, Esc or Ctrl-C inside an option returns to the menu; 0 at the top exits
with status 0, Ctrl-C with 130 (as the command line).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import questionary
from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from . import render
from ._usage import USAGE_HINT
from .errors import Json2DBError
from .runner_json2db_sync import JSON2DBSyncRunner

EXIT = "0"
BACK = "0"
# questionary replaces a Choice value of None by the title, so "go back" needs a value of its own
NOTHING = "<back>"
# A setting answered with its current value where that value is not shown (a URL's password)
UNCHANGED = "<unchanged>"


class Cancelled(Exception):
    """The user pressed Esc or Ctrl-C inside an option: back to the menu, nothing more."""


@dataclass(slots=True)
class MenuSession:
    """What every handler gets: the runner, the console and the log handler (debug toggle)."""

    runner: JSON2DBSyncRunner
    console: Console
    log_handler: logging.Handler


Handler = Callable[[MenuSession], None]


class MenuItem(NamedTuple):
    """One line of a menu: the key typed to pick it, the guide's label, and what it does."""

    key: str
    label: str
    handler: Handler


# --- asking -----------------------------------------------------------------------------


def _escape_bindings() -> KeyBindings:
    bindings = KeyBindings()

    @bindings.add("escape", eager=True)
    def _cancel(event: Any) -> None:
        event.app.exit(exception=KeyboardInterrupt, style="class:aborting")

    return bindings


def ask(question: questionary.Question) -> Any:
    """Ask one question inside an option; Esc or Ctrl-C raise :class:`Cancelled`.

    End of input (a closed pipe) cancels too, so that a script feeding the menu can
    never leave it stuck in a prompt.
    """
    app = question.application
    app.key_bindings = merge_key_bindings([app.key_bindings or KeyBindings(), _escape_bindings()])
    try:
        return question.unsafe_ask()
    except (KeyboardInterrupt, EOFError):
        raise Cancelled from None


def ask_number(message: str, default: int, validate: Callable[[str], bool | str]) -> int:
    """A whole number whose default is a grey placeholder, not text to edit: typing 7 at
    "Cutoff days (Enter: 30)" gives 7, and Enter alone gives 30."""
    from prompt_toolkit.formatted_text import FormattedText

    answer = str(ask(questionary.text(
        f"{message} (Enter: {default}):",
        default="",
        validate=lambda text: True if not text.strip() else validate(text),
        placeholder=FormattedText([("fg:ansibrightblack", str(default))]),
    ))).strip()
    return int(answer) if answer else default


def validate_days(text: str) -> bool | str:
    """A cutoff: a whole number of days, 1 or more."""
    text = text.strip()
    if text.isdigit() and int(text) >= 1:
        return True
    return f"'{text}' is not a whole number of days of 1 or more; enter e.g. 30 (36500 loads all history)"


def _positive_int_validator(what: str) -> Callable[[str], bool | str]:
    def validate(text: str) -> bool | str:
        text = text.strip()
        if text.isdigit() and int(text) >= 1:
            return True
        return f"'{text}' is not a whole number of {what} of 1 or more"

    return validate


def _int_validator(text: str) -> bool | str:
    try:
        int(text.strip())
    except ValueError:
        return f"'{text}' is not a whole number"
    return True


def validate_folder(text: str) -> bool | str:
    """Empty (use the configured source) or an existing folder."""
    text = text.strip()
    if not text:
        return True
    path = Path(text).expanduser()
    if path.is_dir():
        return True
    if path.exists():
        return f"{text} is a file; enter a folder of JSON files (or leave empty for the configured source)"
    return f"{text} does not exist; enter an existing folder (or leave empty for the configured source)"


def _db_validator(must_exist: bool) -> Callable[[str], bool | str]:
    def validate(text: str) -> bool | str:
        text = text.strip()
        if not text:
            return "enter the path of the SQLite database file"
        path = Path(text).expanduser()
        if path.is_dir():
            return f"{text} is a folder; enter the path of a database file (e.g. {path / 'production.db'})"
        if must_exist and not path.exists():
            return f"{text} does not exist yet; enter an existing database, or run Data Population or Full Workflow first"
        return True

    return validate


def _path_validator(text: str) -> bool | str:
    return True if text.strip() else "enter a path"


def destination(session: MenuSession) -> Mapping[str, Any] | None:
    """The runner's destination (kind, db_path, description; password masked), or None
    when the configuration is broken (the next runner call then says why)."""
    result = session.runner.destination()
    return result if result.get("success") else None


def ask_db(session: MenuSession, *, must_exist: bool = False) -> str | None:
    """The SQLite file, the configured one by default.

    On PostgreSQL there is no file to ask for: the configured server and schema are named
    and None is returned, so the runner uses them.
    """
    dest = destination(session)
    if dest is not None and dest["kind"] == "postgresql":
        session.console.print(Text(f"Database: {dest['description']}"))
        return None
    default = str(dest["db_path"]) if dest is not None else str(session.runner.settings.database_path)
    return str(ask(questionary.text("Database:", default=default, validate=_db_validator(must_exist)))).strip()


def ask_cutoff(session: MenuSession) -> int:
    """Cutoff days, the configured default_cutoff_days by default."""
    default = session.runner.settings.default_cutoff_days
    return ask_number("Cutoff days (data folders from the last N days)", default, validate_days)


def ask_folder(message: str) -> str | None:
    """A data folder, or None to use the configured data source."""
    answer = str(ask(questionary.text(message, default="", validate=validate_folder))).strip()
    return answer or None


def _data_root(session: MenuSession) -> str:
    try:
        return str(session.runner.config.data_root())
    except Json2DBError as exc:
        return f"(not usable: {exc})"


# --- showing ------------------------------------------------------------------------------


@contextmanager
def progress_bar(session: MenuSession) -> Iterator[None]:
    """Feed the runner's progress callback into a transient rich bar for one operation."""
    runner = session.runner
    previous = runner.progress
    with render.RichProgress(session.console) as bar:
        runner.progress = bar
        try:
            yield
        finally:
            runner.progress = previous


def show(session: MenuSession, result: Mapping[str, Any]) -> None:
    dest = None if result.get("success") else destination(session)
    render.render_result(session.console, result, destination=dest)


def destination_line(runner: JSON2DBSyncRunner) -> str:
    """The status panel's "Database" value: the SQLite file and its size (or "not created
    yet"), or the PostgreSQL server (password masked) and schema."""
    dest = runner.destination()
    if not dest.get("success"):
        return f"(not usable: {dest.get('error')})"
    if dest["kind"] == "postgresql":
        return str(dest["description"])
    db = Path(dest["db_path"])
    state = f"{render.human_size(db.stat().st_size)}" if db.is_file() else "not created yet"
    return f"{db} ({state})"


def render_header(runner: JSON2DBSyncRunner, console: Console) -> None:
    """The database and the data source in use, so that nobody loads into the wrong file."""
    try:
        settings = runner.settings
    except Json2DBError as exc:
        console.print(Panel(Text(str(exc)), title="json2db_sync: configuration error", border_style="red", title_align="left"))
        return
    try:
        source = f"{settings.data_source_type}: {runner.config.data_root()}"
    except Json2DBError as exc:
        source = f"{settings.data_source_type}: {exc}"
    if settings.data_source is not None:
        source = f"{settings.data_source} (given at start)"
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    table.add_row("Database", Text(destination_line(runner)))
    table.add_row("Data source", Text(source))
    console.print(Panel(table, title="json2db_sync", border_style="blue", title_align="left"))
    hint = no_data_hint(runner)
    if hint:
        console.print(Text(hint, style="yellow"))


def no_data_hint(runner: JSON2DBSyncRunner) -> str | None:
    """For someone with no data yet: where the menu looked and the three ways to point it
    at data; None when data was found (or the configuration is broken: the header says so)."""
    from .errors import NoDataError

    package_logger = logging.getLogger("json2db_sync")
    level = package_logger.level
    package_logger.setLevel(logging.ERROR)  # the fallback warnings: the hint says it better
    try:
        runner.config.discover()
    except NoDataError as exc:
        lines = str(exc).splitlines()
        end = lines.index("Check that:") if "Check that:" in lines else len(lines)
        places = "\n".join(f"  {line.strip()}" for line in lines[1:end][:4])
        return (
            f"No data found yet. Looked in:\n{places}\n"
            "Point json2db-sync at your api_sync data: start it with --source DIR, or put "
            "JSON2DB_API_SYNC_PATH=<folder> in .env here (or change 'api_sync sessions folder' in "
            "Advanced Options, Change settings). No export yet? Advanced Options, Generate sample data "
            "(or `json2db-sync sample-data --demo`) writes some to try the tool on."
        )
    except Json2DBError:
        return None
    finally:
        package_logger.setLevel(level)
    return None


# --- the seven options -------------------------------------------------------------------------


def json_analysis(session: MenuSession) -> None:
    """1: analyse a folder, or the recent sessions of the configured source."""
    folder = ask_folder(f"Data folder (Enter: the recent sessions in {_data_root(session)}):")
    with progress_bar(session):
        result = session.runner.analyze_json_files(folder)
    show(session, result)


def table_recreation(session: MenuSession) -> None:
    """2: list what would be dropped and where the backup goes, then ask before doing it."""
    db = ask_db(session)
    plan = session.runner.tables_to_drop(db)
    if not plan["success"]:
        show(session, plan)
        return
    render.render_tables_to_drop(session.console, plan)
    where = plan.get("destination") or plan["db_path"]
    if not ask(questionary.confirm(f"Drop and recreate these tables in {where}?", default=False)):
        session.console.print("Nothing changed.")
        return
    with progress_bar(session):
        result = session.runner.recreate_json_tables(db)
    show(session, result)


def _entities_found(session: MenuSession, folder: str | None, cutoff: int) -> list[str]:
    """The entities in the folders a population would read (to pick from)."""
    found = session.runner.config.discover(json_dir=folder, cutoff_days=cutoff)
    return sorted({f.entity for d in found.dirs for f in d.files})


def _ask_entities(session: MenuSession, folder: str | None, cutoff: int) -> list[str] | None:
    """All entities by default (None); Space toggles one, 'a' all."""
    entities = _entities_found(session, folder, cutoff)
    if len(entities) <= 1:
        return None
    chosen = ask(
        questionary.checkbox(
            "Entities to load (Space toggles, Enter accepts):",
            choices=[questionary.Choice(e, value=e, checked=True) for e in entities],
            validate=lambda picked: True if picked else "pick at least one entity (Space toggles)",
        )
    )
    return None if set(chosen) == set(entities) else list(chosen)


def data_population(session: MenuSession) -> None:
    """3: database, folder, cutoff and the entities to load."""
    db = ask_db(session)
    folder = ask_folder(f"Data folder (Enter: {_data_root(session)}):")
    cutoff = ask_cutoff(session)
    try:
        entities = _ask_entities(session, folder, cutoff)
    except Json2DBError as exc:
        show(session, {"success": False, "operation": "populate_tables", "error": str(exc),
                       "error_type": exc.error_type, "warnings": []})
        return
    with progress_bar(session):
        result = session.runner.populate_tables(db, folder, cutoff, entities)
    show(session, result)


def table_verification(session: MenuSession) -> None:
    """4: read-only checks of one database."""
    db = ask_db(session, must_exist=True)
    with progress_bar(session):
        result = session.runner.verify_tables(db)
    show(session, result)


def summary_report(session: MenuSession) -> None:
    """5: the summary of one database; then, if wanted, the HTML report with charts."""
    db = ask_db(session, must_exist=True)
    result = session.runner.generate_summary_report(db)
    show(session, result)
    if not result.get("success"):
        return
    if not ask(questionary.confirm("Also write the HTML report with charts (one file, opens offline)?", default=False)):
        return
    dest = destination(session)
    on_file = dest is not None and dest.get("kind") == "sqlite" and result.get("db_path")
    default = str(Path(str(result["db_path"])).with_suffix(".html")) if on_file else "report.html"
    out = str(ask(questionary.text("HTML file to write:", default=default, validate=_path_validator))).strip()
    show(session, session.runner.generate_html_report(out, db))


def full_workflow(session: MenuSession) -> None:
    """6: the most common option: database, cutoff, and whether to keep the schema as is."""
    db = ask_db(session)
    cutoff = ask_cutoff(session)
    skip = ask(questionary.confirm("Skip analysis and table creation (keep the existing schema)?", default=False))
    with progress_bar(session):
        result = session.runner.full_sync_workflow(db_path=db, cutoff_days=cutoff, skip_table_creation=bool(skip))
    show(session, result)


# --- 7: advanced -----------------------------------------------------------------------------


def show_configuration(session: MenuSession) -> None:
    show(session, session.runner.show_configuration())


def browse_sessions(session: MenuSession) -> None:
    """The data folders found, then the files of one of them on request."""
    with progress_bar(session):
        result = session.runner.list_sessions()
    show(session, result)
    sessions = result.get("sessions") or []
    if not result["success"] or not sessions:
        return
    while True:
        choices = [questionary.Choice(f"{s.get('session')}  {s.get('timestamp') or ''}", value=i) for i, s in enumerate(sessions)]
        choices.append(questionary.Choice("Back", value=NOTHING))
        picked = ask(questionary.select("Show the files of:", choices=choices, default=choices[-1]))
        if picked == NOTHING:
            return
        chosen = sessions[picked]
        session.console.print(render.generic_table(
            f"Files in {chosen.get('path')}",
            [
                {"entity": f.get("entity"), "file": f.get("name"), "records": f.get("records"),
                 "size": render.human_size(f.get("size")), "age (h)": f.get("age_hours")}
                for f in chosen.get("files") or []
            ],
        ))


class SettingSpec(NamedTuple):
    """A setting the menu lets people change for this session, and how to ask for it."""

    key: str
    label: str
    kind: str  # int, days, hours, path, optional_path, bool, source_type, database_url, schema


CHANGEABLE_SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("batch_size", "Batch size (records per write)", "int"),
    SettingSpec("default_cutoff_days", "Default cutoff days", "days"),
    SettingSpec("session_max_age_hours", "Session max age (hours)", "hours"),
    SettingSpec("database_path", "Database path", "path"),
    SettingSpec("database_url", "Database URL", "database_url"),
    SettingSpec("database_schema", "PostgreSQL schema", "schema"),
    SettingSpec("data_source_type", "Data source type", "source_type"),
    SettingSpec("api_sync_path", "api_sync sessions folder", "path"),
    SettingSpec("json_dir", "Custom JSON folder (empty: none)", "optional_path"),
    SettingSpec("data_source", "Data folder given at start (empty: none)", "optional_path"),
    SettingSpec("backup_before_operations", "Back up before each population", "bool"),
    SettingSpec("enable_duplicate_prevention", "Duplicate prevention", "bool"),
)


def _current_value(session: MenuSession, key: str) -> Any:
    return getattr(session.runner.settings, key)


def _shown_value(session: MenuSession, key: str) -> str:
    """A setting's value as the views show it (a URL's password masked, None as "(not set)")."""
    from .config import display_value

    return display_value(key, _current_value(session, key))


def _setting_validator(session: MenuSession, key: str) -> Callable[[str], bool | str]:
    """Empty (clears the session's value) or a value the configuration accepts; the
    configuration's own message (password masked) says what is wrong."""

    def validate(text: str) -> bool | str:
        text = text.strip()
        if not text:
            return True
        try:
            session.runner.config.with_overrides(**{key: text})
        except Json2DBError as exc:
            return str(exc)
        return True

    return validate


def _ask_database_url(session: MenuSession, spec: SettingSpec) -> str | None:
    """A URL, or None (empty answer) to clear the session's value. A password is never put
    on the screen: the prompt is pre-filled with the masked URL, and Enter on it changes
    nothing (UNCHANGED: the URL keeps its value and where it comes from)."""
    from .destinations.urls import redact_url

    current = _current_value(session, spec.key)
    shown = "" if current is None else redact_url(str(current))
    answer = str(ask(questionary.text(
        f"{spec.label} (postgresql://user:password@host:5432/db; empty: none):",
        default=shown,
        validate=lambda text: True if text.strip() == shown else _setting_validator(session, spec.key)(text),
    ))).strip()
    if current is not None and answer == shown:
        return UNCHANGED
    return answer or None


def _ask_setting(session: MenuSession, spec: SettingSpec) -> Any:
    current = _current_value(session, spec.key)
    if spec.kind == "bool":
        return bool(ask(questionary.confirm(f"{spec.label}?", default=bool(current))))
    if spec.kind == "source_type":
        from .config import SOURCE_TYPES

        return ask(questionary.select(f"{spec.label}:", choices=list(SOURCE_TYPES), default=str(current)))
    if spec.kind == "database_url":
        return _ask_database_url(session, spec)
    default = "" if current is None else str(current)
    if spec.kind == "schema":
        answer = str(ask(questionary.text(
            f"{spec.label} (empty: the configured one):", default=default, validate=_setting_validator(session, spec.key)
        ))).strip()
        return answer or None  # None removes the session's change
    if spec.kind == "path":
        return str(ask(questionary.text(f"{spec.label}:", default=default, validate=_path_validator))).strip()
    if spec.kind == "optional_path":
        answer = str(ask(questionary.text(f"{spec.label}:", default=default))).strip()
        return answer or None  # None removes the session's change (and a --source given at start)
    validator = {"days": validate_days, "hours": _positive_int_validator("hours")}.get(spec.kind, _positive_int_validator("records"))
    return ask_number(spec.label, int(current), validator)


def change_settings(session: MenuSession) -> None:
    """Change one setting for this session only (files and environment stay as they are)."""
    choices = [questionary.Choice(f"{s.label}: {_shown_value(session, s.key)}", value=s) for s in CHANGEABLE_SETTINGS]
    choices.append(questionary.Choice("Back", value=NOTHING))
    spec = ask(questionary.select("Change which setting (for this session only)?", choices=choices))
    if spec == NOTHING:
        return
    value = _ask_setting(session, spec)
    if value == UNCHANGED:
        session.console.print(Text(f"{spec.key} stays {_shown_value(session, spec.key)}."))
        return
    result = session.runner.update_settings(**{spec.key: value})
    if result["success"]:
        session.console.print(Text(f"{spec.key} is now {_shown_value(session, spec.key)} for this session.", style="green"))
        given = session.runner.settings.data_source
        if given is not None and spec.key in ("data_source_type", "api_sync_path", "json_dir"):
            session.console.print(Text(
                f"The data folder given at start ({given}) still comes first; set "
                "'Data folder given at start' to an empty answer to use this setting.",
                style="yellow",
            ))
        if spec.key in ("database_url", "database_path", "database_schema"):
            _explain_destination(session, url_cleared=spec.key == "database_url" and value is None)
        render_header(session.runner, session.console)
    else:
        show(session, result)


def _explain_destination(session: MenuSession, *, url_cleared: bool) -> None:
    """After a change of database setting: where runs now write, and, when a cleared
    Database URL still comes from elsewhere, how to write to a file instead."""
    dest = destination(session)
    if dest is None:
        return
    session.console.print(Text(f"Runs now write to {dest['description']}."))
    if url_cleared and dest["kind"] == "postgresql":
        source = session.runner.config.source_of("database_url")
        session.console.print(Text(
            f"The Database URL from the {source} still applies; to write to a SQLite file for this "
            "session, set 'Database path'.",
            style="yellow",
        ))


def backups(session: MenuSession) -> None:
    """Make a backup, list them, or restore one (after a confirmation)."""
    action = ask(questionary.select(
        "Backups:",
        choices=[
            questionary.Choice("Make a backup now", value="make"),
            questionary.Choice("List backups", value="list"),
            questionary.Choice("Restore a backup", value="restore"),
            questionary.Choice("Back", value=NOTHING),
        ],
    ))
    runner = session.runner
    if action == "make":
        show(session, runner.create_backup())
    elif action == "list":
        show(session, runner.list_backups())
    elif action == "restore":
        listing = runner.list_backups()
        if not listing["success"] or not listing.get("backups"):
            show(session, listing)
            return
        choices = [
            questionary.Choice(
                f"{b['modified']}  {Path(b['path']).name}  ({render.human_size(b.get('size_bytes'))})"
                + ("  - the state an earlier restore replaced" if b.get("safety_copy") else ""),
                value=b["path"],
            )
            for b in listing["backups"]
        ]
        choices.append(questionary.Choice("Cancel", value=NOTHING))
        path = ask(questionary.select("Restore which backup (newest first)?", choices=choices))
        if path == NOTHING:
            return
        dest = destination(session)
        if dest is not None and dest["kind"] == "postgresql":
            # Nothing to confirm: the runner refuses and says which pg_restore command to run.
            show(session, runner.restore_backup(path))
            return
        where = dest["description"] if dest is not None else listing["db_path"]
        question = f"Replace {where} with {Path(path).name}? (the current state is backed up first)"
        if not ask(questionary.confirm(question, default=False)):
            session.console.print("Nothing changed.")
            return
        show(session, runner.restore_backup(path))


def sample_data(session: MenuSession) -> None:
    """Write realistic sample sessions (for trying the tool out)."""
    default_out = str(session.runner.settings.api_sync_path)
    out = str(ask(questionary.text("Write sample sessions to:", default=default_out, validate=_path_validator))).strip()
    days = ask_number("Days of sessions", 3, _positive_int_validator("days"))
    seed = ask_number("Random seed", 42, _int_validator)
    invoices = ask_number("Invoices", 40, _positive_int_validator("invoices"))
    with progress_bar(session):
        result = session.runner.generate_sample_data(out_dir=out, days=days, seed=seed, invoices=invoices)
    show(session, result)


def toggle_debug(session: MenuSession) -> None:
    """Debug logging on or off (shows SQL and per-batch detail below the prompts)."""
    handler = session.log_handler
    turn_on = handler.level > logging.DEBUG
    render.set_log_level(handler, logging.DEBUG if turn_on else logging.WARNING)
    session.console.print(f"Debug logging is {'on' if turn_on else 'off'}.")


ADVANCED_MENU: tuple[MenuItem, ...] = (
    MenuItem("1", "Show configuration", show_configuration),
    MenuItem("2", "Browse sessions", browse_sessions),
    MenuItem("3", "Change settings for this session", change_settings),
    MenuItem("4", "Backups", backups),
    MenuItem("5", "Generate sample data", sample_data),
    MenuItem("6", "Debug logging on/off", toggle_debug),
)


def advanced_options(session: MenuSession) -> None:
    """7: a submenu; 0 (or Esc) goes back to the main menu."""
    while True:
        key = ask(_menu_question("Advanced Options", ADVANCED_MENU, "Back"))
        if key == BACK:
            return
        item = next(i for i in ADVANCED_MENU if i.key == key)
        _run_item(session, item)


MENU: tuple[MenuItem, ...] = (
    MenuItem("1", "JSON Analysis", json_analysis),
    MenuItem("2", "Table Recreation", table_recreation),
    MenuItem("3", "Data Population", data_population),
    MenuItem("4", "Table Verification", table_verification),
    MenuItem("5", "Summary Report", summary_report),
    MenuItem("6", "Full Workflow", full_workflow),
    MenuItem("7", "Advanced Options", advanced_options),
)


# --- the loop ---------------------------------------------------------------------------------


def _unknown_key_bindings(keys: Sequence[str], exit_label: str) -> KeyBindings:
    """Any key the menu does not know says so above the prompt (instead of nothing)."""
    from prompt_toolkit.application import run_in_terminal
    from prompt_toolkit.keys import Keys

    bindings = KeyBindings()
    listed = ", ".join(keys)

    @bindings.add(Keys.Any)
    def _unknown(event: Any) -> None:
        typed = event.data
        if not typed or not typed.isprintable():
            return
        run_in_terminal(lambda: print(
            f"'{typed}' is not an option: type {listed} (or 0 for {exit_label}), then Enter; "
            "the arrow keys move too."
        ))

    return bindings


def _menu_question(title: str, items: Sequence[MenuItem], exit_label: str) -> questionary.Question:
    choices = [questionary.Choice(item.label, value=item.key, shortcut_key=item.key) for item in items]
    choices.append(questionary.Choice(exit_label, value=EXIT, shortcut_key=EXIT))
    question = questionary.select(
        f"{title} (type a number, then Enter):", choices=choices, use_shortcuts=True, use_jk_keys=False
    )
    app = question.application
    unknown = _unknown_key_bindings([item.key for item in items], exit_label)
    app.key_bindings = merge_key_bindings([app.key_bindings or KeyBindings(), unknown])
    return question


def _run_item(session: MenuSession, item: MenuItem) -> None:
    """Run one option; Esc/Ctrl-C and our own errors bring the user back to the menu."""
    try:
        item.handler(session)
    except Cancelled:
        session.console.print(Text("Cancelled; back to the menu.", style="yellow"))
    except KeyboardInterrupt:
        session.console.print(Text("Interrupted; an unfinished run is rolled back. Back to the menu.", style="yellow"))
    except Json2DBError as exc:
        show(session, {"success": False, "operation": item.label, "error": str(exc),
                       "error_type": exc.error_type, "warnings": []})


EXIT_INTERRUPTED = 130


def run_menu(runner: JSON2DBSyncRunner, *, console: Console, log_level: int | str = logging.WARNING) -> int:
    """Show the main menu until 0, Ctrl-C or end of input; returns the exit status (0, or
    130 after Ctrl-C at the top, as the command line)."""
    handler = render.install_log_handler(console, log_level)
    session = MenuSession(runner=runner, console=console, log_handler=handler)
    try:
        render_header(runner, console)
        while True:
            try:
                key = _menu_question("Main menu", MENU, "Exit").unsafe_ask()
            except KeyboardInterrupt:  # as the command line does: 130 tells a script it was interrupted
                console.print("Goodbye.")
                return EXIT_INTERRUPTED
            except EOFError:
                key = EXIT
            if key == EXIT:
                console.print("Goodbye.")
                return 0
            item = next(i for i in MENU if i.key == key)
            try:
                _run_item(session, item)
            except Exception as exc:  # the menu's top-level loop: never crash out of the menu
                logging.getLogger("json2db_sync").exception("menu option %s failed", item.label)
                show(session, {"success": False, "operation": item.label, "error": f"unexpected {type(exc).__name__}: {exc}",
                               "error_type": "internal_error", "warnings": []})
    finally:
        render.remove_log_handler(handler)


def launch(
    db_path: str | os.PathLike[str] | None = None,
    data_source: str | os.PathLike[str] | None = None,
    config_file: str | os.PathLike[str] | None = None,
    verbose: int = 0,
    *,
    db_url: str | None = None,
    db_schema: str | None = None,
) -> int:
    """Open the menu on this terminal (the CLI calls this when given no command)."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        sys.stderr.write(USAGE_HINT)
        return 2
    console = Console(highlight=False)
    runner = JSON2DBSyncRunner(
        db_path=db_path, data_source=data_source, config_file=config_file, db_url=db_url, db_schema=db_schema
    )
    level: int | str = logging.WARNING
    if verbose >= 2:
        level = logging.DEBUG
    elif verbose == 1:
        level = logging.INFO
    else:
        try:
            level = runner.settings.log_level
        except Json2DBError:
            pass
    return run_menu(runner, console=console, log_level=level)


def main() -> int:
    """``python -m json2db_sync.main_json2db_sync``: the menu, or how to use the CLI without a terminal."""
    return launch()


if __name__ == "__main__":
    sys.exit(main())
