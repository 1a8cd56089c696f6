"""Small key/value state: the fingerprint scheme, when fingerprints were last pruned, the daemon's last cycle
and the hash of the watch list its stored matches were made with."""

from __future__ import annotations

from monitor.store.db import Db


class Meta:
    """The key/value state of one database (store.meta)."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def get(self, key: str) -> str | None:
        return self._db.one("SELECT value FROM meta WHERE key = ?", [key])

    def set(self, key: str, value: str | None) -> None:
        self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?)"
                         " ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value])


__all__ = ["Meta"]
