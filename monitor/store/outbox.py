"""The alert outbox (store.outbox): what the sender (monitor.notify) still has to send, and what it sent.

Why a table and not a queue in memory: a row is written in the same transaction as the flagged item it
announces (refresh.Writer), so after a crash at any point the alert is either still to be sent or the item was
never stored. The sender marks a row sent only after the service answered; a crash between the answer and that
mark sends it again once, with the same id in the message (the row id), so a reader can tell.

Rows are (destination, item) and unique: a re-match, or a feed served again, never queues an alert twice.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Sequence

from monitor.store.db import Db, chunks

STATUSES = ("pending", "sent", "failed")


class Outbox:
    """The outbox of one database."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def available(self) -> bool:
        """Whether the table exists: a read-only open of a database from before migration m009 has none."""
        return self._db.has_table("outbox")

    # ---------------------------------------------------------------- writes (inside the caller's transaction)
    def add(self, rows: Iterable[tuple[str, int, str]], created_at: str) -> int:
        """Queue (destination, item id, mode) rows; those already queued are left as they are. Returns how many
        were new."""
        rows = list(rows)
        if not rows:
            return 0
        return self._db.executemany(
            "INSERT OR IGNORE INTO outbox (destination, item_id, mode, created_at) VALUES (?, ?, ?, ?)",
            [(d, i, m, created_at) for d, i, m in rows]).rowcount

    def mark_sent(self, ids: Sequence[int], at: str) -> None:
        for chunk in chunks(list(ids), 500):
            self._db.execute(f"UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1,"
                             f" last_error = NULL WHERE id IN ({','.join('?' * len(chunk))})", [at, *chunk])

    def mark_retry(self, ids: Sequence[int], error: str, next_attempt: str) -> None:
        """A failed try: counted, the (masked) answer kept, tried again from `next_attempt`."""
        for chunk in chunks(list(ids), 500):
            self._db.execute(f"UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt = ?"
                             f" WHERE id IN ({','.join('?' * len(chunk))})", [error, next_attempt, *chunk])

    def mark_failed(self, ids: Sequence[int], error: str) -> None:
        """Given up: the destination is gone from the config, or its URL is one no service reads."""
        for chunk in chunks(list(ids), 500):
            self._db.execute(f"UPDATE outbox SET status = 'failed', last_error = ?"
                             f" WHERE id IN ({','.join('?' * len(chunk))})", [error, *chunk])

    # ---------------------------------------------------------------- what the sender reads
    def pending(self, destination: str, mode: str, *, due: str | None = None, before: str | None = None,
                limit: int = 200) -> list[dict[str, Any]]:
        """A destination's pending rows of one mode, oldest first, each with its item and matches: those due
        (next attempt unset or at most `due`) and queued before `before` when given."""
        where, params = ["o.status = 'pending'", "o.destination = ?", "o.mode = ?"], [destination, mode]
        if due is not None:
            where.append("(o.next_attempt IS NULL OR o.next_attempt <= ?)")
            params.append(due)
        if before is not None:
            where.append("o.created_at < ?")
            params.append(before)
        rows = self._db.execute(
            "SELECT o.id, o.item_id, o.attempts, o.created_at, i.feed, i.title, i.link, i.published, i.fetched_at"
            " FROM outbox o JOIN items i ON i.id = o.item_id WHERE " + " AND ".join(where) +
            " ORDER BY o.id LIMIT ?", [*params, limit]).fetchall()
        keys = ("id", "item_id", "attempts", "created_at", "feed", "title", "link", "published", "fetched_at")
        out = [dict(zip(keys, r)) for r in rows]
        self._attach(out)
        return out

    def _attach(self, rows: list[dict[str, Any]]) -> None:
        """Each row's matches (how many other feeds carried its story is the stories room's: Sender adds it)."""
        by_item: dict[int, list[dict[str, Any]]] = {}
        for row in rows:
            row["matches"], row["also_carried_by"] = [], 0
            by_item.setdefault(row["item_id"], []).append(row)
        for chunk in chunks(list(by_item), 500):
            marks = ",".join("?" * len(chunk))
            for item_id, watch, kind, terms, count, snippet in self._db.execute(
                    f"SELECT item_id, watch, kind, terms, count, snippet FROM matches WHERE item_id IN ({marks})"
                    " ORDER BY item_id, rowid", chunk):
                for row in by_item[item_id]:
                    row["matches"].append({"watch": watch, "kind": kind, "terms": json.loads(terms),
                                           "count": count, "snippet": snippet})

    def backoff_until(self, destination: str) -> str | None:
        """The earliest next attempt among a destination's pending rows that have failed: after a restart the
        sender waits that long before it tries the destination again."""
        return self._db.one("SELECT min(next_attempt) FROM outbox WHERE status = 'pending' AND destination = ?"
                            " AND attempts > 0", [destination])

    def destinations_pending(self) -> list[str]:
        return [r[0] for r in self._db.execute(
            "SELECT DISTINCT destination FROM outbox WHERE status = 'pending' ORDER BY destination")]

    def fresh_new_items(self, ids: Sequence[int], since: str) -> set[int]:
        """Of `ids`, the items stored as new (not duplicates) and fetched at `since` or later: what a re-match
        may still alert on (notify_backfill)."""
        found: set[int] = set()
        for chunk in chunks(sorted(set(ids)), 500):
            found.update(r[0] for r in self._db.execute(
                f"SELECT id FROM items WHERE id IN ({','.join('?' * len(chunk))}) AND status = 'new'"
                " AND fetched_at >= ?", [*chunk, since]))
        return found

    # ---------------------------------------------------------------- the commands'
    def query(self, status: str | None = None, destination: str | None = None,
              limit: int | None = None) -> list[dict[str, Any]]:
        """Rows newest first, with their item's feed and title: `monitor notify list`."""
        where, params = [], []
        if status:
            where.append("o.status = ?")
            params.append(status)
        if destination:
            where.append("o.destination = ?")
            params.append(destination)
        sql = ("SELECT o.id, o.destination, o.item_id, i.feed, i.title, o.mode, o.status, o.created_at,"
               " o.attempts, o.next_attempt, o.last_error, o.sent_at FROM outbox o JOIN items i ON i.id = o.item_id")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY o.id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        keys = ("id", "destination", "item_id", "feed", "title", "mode", "status", "created_at", "attempts",
                "next_attempt", "last_error", "sent_at")
        return [dict(zip(keys, r)) for r in self._db.execute(sql, params)]

    def summary(self) -> list[dict[str, Any]]:
        """Per destination: pending, sent, failed, how many pending rows have failed tries, the last error:
        `monitor status`."""
        rows = self._db.execute(
            "SELECT destination, sum(CASE WHEN status = 'pending' THEN 1 ELSE 0 END),"
            " sum(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END),"
            " sum(CASE WHEN status = 'pending' AND attempts > 0 THEN 1 ELSE 0 END), max(sent_at),"
            " (SELECT last_error FROM outbox e WHERE e.destination = o.destination AND e.last_error IS NOT NULL"
            "  AND e.status != 'sent' ORDER BY e.id DESC LIMIT 1)"
            " FROM outbox o GROUP BY destination ORDER BY destination").fetchall()
        keys = ("destination", "pending", "sent", "failed", "retrying", "last_sent", "last_error")
        return [dict(zip(keys, r)) for r in rows]


__all__ = ["Outbox", "STATUSES"]
