"""Small key/value state: the fingerprint scheme, when fingerprints were last pruned, the daemon's last cycle
and the hash of the watch list its stored matches were made with."""

from __future__ import annotations

from monitor.store.db import Db


# The hash of the watch list the stored matches were made with, one key for every writer (the daemon, `monitor
# poll`, `monitor rematch`); the name is the daemon's, which wrote it first, so its databases stay current.
WATCH_HASH_KEY = "daemon.watch_hash"


class Meta:
    """The key/value state of one database (store.meta)."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def get(self, key: str) -> str | None:
        return self._db.one("SELECT value FROM meta WHERE key = ?", [key])

    def set(self, key: str, value: str | None) -> None:
        self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?)"
                         " ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value])

    def matched_with(self) -> str | None:
        """The hash of the watch list the stored matches were made with (monitor.rematch.watch_hash), if known."""
        return self.get(WATCH_HASH_KEY)

    def set_matched_with(self, watch_hash: str) -> None:
        self.set(WATCH_HASH_KEY, watch_hash)


__all__ = ["Meta", "WATCH_HASH_KEY"]
