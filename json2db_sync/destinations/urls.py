"""What a destination's URL says: which engine (the only place that decides), the SQLite
path inside a ``sqlite:///`` URL, and the URL with its password masked; stdlib and
``errors`` only (``config`` imports it, so it imports nothing of the package's above).
"""

from __future__ import annotations

import re

from ..errors import ConfigError

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
# scheme -> engine
URL_SCHEMES = {"postgresql": POSTGRESQL, "postgres": POSTGRESQL, "sqlite": SQLITE}
MASK = "***"
_QUERY_PASSWORD = re.compile(r"(?i)([?&]password=)[^&#]*")


def scheme_problem(target: str) -> str | None:
    """Why ``target`` names no destination this tool can open (a ``scheme://`` other than
    postgresql://, postgres:// or sqlite://), else None. A text without ``://`` is a path."""
    scheme, sep, _ = target.strip().partition("://")
    if sep and scheme.lower() not in URL_SCHEMES:
        return f"has the scheme {scheme!r}, which is neither postgresql:// nor sqlite://"
    return None


def engine_of(target: str) -> str:
    """``"postgresql"`` for a postgresql:// (or postgres://) URL, ``"sqlite"`` for a
    sqlite:/// URL or a plain path; a ConfigError for any other scheme (never a silent
    SQLite file named like a URL)."""
    problem = scheme_problem(target)
    if problem is not None:
        raise ConfigError(f"database URL {redact_url(target.strip())} {problem}")
    scheme, sep, _ = target.strip().partition("://")
    return URL_SCHEMES[scheme.lower()] if sep else SQLITE


def sqlite_path_text(target: str) -> str:
    """The file path of a SQLite target: ``sqlite:///relative.db`` and
    ``sqlite:////absolute.db`` (the usual URL form), or the path itself."""
    return target[len("sqlite:///"):] if target.lower().startswith("sqlite:///") else target


def redact_url(url: str) -> str:
    """A URL with its password masked, whether in the user part or in the query:
    ``postgresql://user:***@host/db``, ``...?user=u&password=***``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    if "@" in authority:
        credentials, _, host = authority.rpartition("@")
        if ":" in credentials:
            authority = f"{credentials.split(':', 1)[0]}:{MASK}@{host}"
    tail = _QUERY_PASSWORD.sub(rf"\g<1>{MASK}", tail)
    if not slash and "?" in authority:  # postgresql://host?password=... (no path)
        authority = _QUERY_PASSWORD.sub(rf"\g<1>{MASK}", authority)
    return f"{scheme}{sep}{authority}{slash}{tail}"
