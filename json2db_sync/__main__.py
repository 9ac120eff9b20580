"""``python -m json2db_sync``: the command line (the menu when run bare in a terminal)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
