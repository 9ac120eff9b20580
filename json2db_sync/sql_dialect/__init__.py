"""SQL dialects: the only place in json2db_sync that holds SQL text.

Two dialects expose the same names: :mod:`.sqlite` (the embedded default) and
:mod:`.postgres`. Every connection the :mod:`json2db_sync.database` module opens carries
its dialect as ``conn.dialect``; the stage modules ask that object for statements, so the
same code writes either database. Names that do not depend on the database (internal
table names, the logical type lattice, limits of the table model) are re-exported here
from the SQLite dialect, which defines them.

Logical column types (``TEXT``, ``INTEGER``, ``REAL`` and the untyped ``""``) are what
the schema plan and the column map speak; each dialect turns them into its own
declarations (SQLite: the same words; PostgreSQL: TEXT, BIGINT, DOUBLE PRECISION).
"""

from __future__ import annotations

from .sqlite import *  # noqa: F401,F403  (the shared names, see above)
from .sqlite import Scope  # noqa: F401  (a type alias star-import would skip under some tools)
