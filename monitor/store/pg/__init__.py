"""The PostgreSQL backend of the store (issue 16): a Db with the interface of store/db.py's (db.py), the SQL
the rooms write for SQLite translated where it differs only mechanically (sql.py), the schema as the same
migrations (schema.py), the search index as tsvectors (search.py), and what several workers sharing one database
need: feed leases, the per-host gate and the monitor-wide lock (claims.py). Imported only for a database URL:
`database: postgresql://...` or $MONITOR_DATABASE_URL."""

from __future__ import annotations

import re

URL_PREFIXES = ("postgresql://", "postgres://")


def is_url(database: str) -> bool:
    """Whether a `database:` value names a PostgreSQL database rather than a SQLite file."""
    return str(database).startswith(URL_PREFIXES)


def shown(database: str) -> str:
    """A `database:` value as messages and logs show it: a URL's password masked."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", str(database))


__all__ = ["URL_PREFIXES", "is_url", "shown"]
