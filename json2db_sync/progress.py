"""Progress events the core emits per batch; stdlib only, no rendering here.

The runner takes one ``progress_callback`` and hands it to the stages; the menu
and the CLI turn the events into rich progress bars (see ``render.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """One step forward: ``current`` of ``total`` units of ``step`` are done."""

    step: str
    current: int
    total: int | None = None
    detail: str = ""


ProgressCallback = Callable[[ProgressEvent], None]


def null_progress(event: ProgressEvent) -> None:
    """Default callback: progress is optional, so ignoring it is always correct."""
    return None
