"""What both front ends say about using json2db_sync without a terminal; stdlib only, imports nothing.

The command line (``cli.py``) opens the menu (``main_json2db_sync.py``) when given no command,
and both print ``USAGE_HINT`` when there is no terminal to show the menu on. The text lives here,
below both, so that the menu never imports the command line (the import graph stays one-way:
``cli`` → ``main_json2db_sync`` → ``_usage``, and ``cli`` → ``_usage``).
"""

from __future__ import annotations

PROG = "json2db-sync"

USAGE_HINT = f"""\
The menu needs a terminal. Use the command line instead, for example:
  {PROG} sync --cutoff-days 1        # the full workflow (analysis, tables, load, verify, report)
  {PROG} populate --entities invoices,bills
  {PROG} verify                      # exit status 1 when a check is an error
  {PROG} report --format markdown
Run `{PROG} --help` for every command and option.
"""

__all__ = ["PROG", "USAGE_HINT"]
