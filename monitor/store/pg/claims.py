"""What several workers sharing one PostgreSQL database need (issue 16): feed leases, a per-host gate and the
monitor-wide lock. SQLite has none of these: its one daemon is the only writer (a lock file says so).

* Feeds are claimed, not scheduled: each worker asks for up to n due feeds no one holds, with `FOR UPDATE SKIP
  LOCKED` (two workers asking at once get different feeds, neither waits for the other) and writes its name and
  a lease end on them. Storing a feed's refresh clears the lease in the same transaction that sets its next poll
  (Feeds.save_result), so the feed is due again only one interval later, for whoever asks first. A worker that
  dies leaves its leases to run out; then its feeds are due and others take them.
* Per host, the next moment a request may start (`hosts.next_allowed`, epoch seconds), reserved under the row's
  lock: each worker's request takes the next slot `delay` after the last one, whichever worker made it.
* The monitor-wide lock is a session advisory lock on a connection of its own: the work for the whole monitor
  (housekeeping, re-matching, the scheduled report, alerts) runs in the worker holding it, one at a time; when
  that worker dies its connection closes, the server frees the lock, and the next worker to try takes it.

Times are the workers' own clocks (UTC ISO, as next_poll): machines sharing a database keep them synchronised
(NTP), as they must for next_poll already.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Sequence

from monitor.store.pg.db import PgDb, pool_for

MONITOR_LOCK = 0x6D6F6E_0002


class Claims:
    """Feed leases of one PostgreSQL database (store.claims; None on SQLite)."""

    def __init__(self, db: PgDb) -> None:
        self._db = db

    def claim_due(self, names: Sequence[str], owner: str, now: str, until: str, limit: int) -> list[str]:
        """Up to `limit` of the feeds `names` that are due at `now` (next poll unset or past) and that no live
        lease holds, leased to `owner` until `until`; soonest due first."""
        if limit <= 0 or not names:
            return []
        with self._db.transaction():
            rows = self._db.execute(
                "UPDATE feeds SET lease_owner = ?, lease_until = ? WHERE name IN (SELECT name FROM feeds"
                " WHERE name = ANY(?) AND (next_poll IS NULL OR next_poll <= ?)"
                " AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_poll NULLS FIRST, name LIMIT ?"
                " FOR UPDATE SKIP LOCKED) RETURNING name", [owner, until, list(names), now, now, limit]).fetchall()
        return sorted(r[0] for r in rows)

    def claim(self, name: str, owner: str, now: str, until: str) -> bool:
        """Lease one feed, due or not (`monitor poll` polls every feed), unless a live lease of another holds it."""
        with self._db.transaction():
            row = self._db.execute(
                "UPDATE feeds SET lease_owner = ?, lease_until = ? WHERE name = (SELECT name FROM feeds WHERE"
                " name = ? AND (lease_until IS NULL OR lease_until <= ? OR lease_owner = ?) FOR UPDATE SKIP LOCKED)"
                " RETURNING name", [owner, until, name, now, owner]).fetchone()
        return row is not None

    def release(self, owner: str) -> None:
        """Give back every lease of `owner` (a worker stopping cleanly: its feeds need not wait for the lease)."""
        self._db.execute("UPDATE feeds SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?", [owner])

    def holders(self) -> dict[str, tuple[str, str]]:
        """feed -> (owner, lease end) of the feeds leased now (monitor feeds, tests)."""
        return {r[0]: (r[1], r[2]) for r in self._db.execute(
            "SELECT name, lease_owner, lease_until FROM feeds WHERE lease_owner IS NOT NULL")}


class HostSlots:
    """The per-host gate across workers: `reserve(host, delay)` is when this worker's next request to `host` may
    start (time.time() seconds), `delay` after the previous one whoever made it. One short autocommit statement
    on a connection of the pool, so it never waits for a feed's transaction."""

    def __init__(self, url: str) -> None:
        self._url = url

    def reserve(self, host: str, delay: float) -> float:
        if delay <= 0:
            return time.time()
        pool = pool_for(self._url)
        with pool.connection() as conn:
            now = time.time()
            (start,) = conn.execute(
                "INSERT INTO hosts (host, next_allowed) VALUES (%s, %s) ON CONFLICT (host) DO UPDATE"
                " SET next_allowed = greatest(hosts.next_allowed, %s) + %s RETURNING next_allowed - %s",
                [host, now + delay, now, delay, delay]).fetchone()
        return float(start)


class MonitorLock:
    """The monitor-wide lock (see the module's docstring) on a connection of its own, not the pool's: the lock
    lives as long as that session."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: Any = None
        self.held = False
        self._guard = threading.Lock()  # asked from the scheduler's threads and the alert thread alike

    def try_acquire(self) -> bool:
        """Whether this worker holds the lock now (taking it when free). A lost connection loses the lock."""
        with self._guard:
            return self._try_acquire()

    def _try_acquire(self) -> bool:
        import psycopg

        try:
            if self._conn is None or self._conn.closed:
                self.held = False
                self._conn = psycopg.connect(self._url, autocommit=True)
            if not self.held:
                self.held = bool(self._conn.execute("SELECT pg_try_advisory_lock(%s)", [MONITOR_LOCK]).fetchone()[0])
            else:
                self._conn.execute("SELECT 1")  # still connected, so still held
        except psycopg.Error:
            self.held = False
            self.close()
        return self.held

    def close(self) -> None:
        conn, self._conn, self.held = self._conn, None, False
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass


__all__ = ["Claims", "HostSlots", "MONITOR_LOCK", "MonitorLock"]
