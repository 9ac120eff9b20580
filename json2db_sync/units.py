"""How quantities read for people, the same in every report: the terminal (``render``),
the Markdown summary (``summary_reporter``) and the menu. Stdlib only, so that both the
rich side and the stage modules can import it.
"""

from __future__ import annotations

from typing import Any


def human_size(size: Any) -> str:
    """Bytes as B/KB/MB/GB, so that a database size reads at a glance ("-" when unknown)."""
    if not isinstance(size, (int, float)):
        return "-"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"  # pragma: no cover - loop always returns
