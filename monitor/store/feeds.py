"""Feed rows: the configured feeds, their validators (ETag, Last-Modified, body hash) and how their last fetch
went, and the persisted schedule. Validators are saved in the same transaction as the items they describe, so
a crash never leaves a feed marked fetched without its items."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from monitor.store.db import Db


@dataclass(frozen=True)
class FeedState:
    name: str
    url: str
    etag: str | None
    last_modified: str | None
    last_fetched: str | None
    last_status: str | None
    last_error: str | None
    consecutive_failures: int
    next_poll: str | None
    body_hash: str | None = None  # of the last body whose items were stored
    ttl: float | None = None  # the feed's RSS <ttl> in seconds, as its last body said
    max_age: float | None = None  # Cache-Control max-age of its last response that carried one
    retry_until: str | None = None  # ISO, UTC: the server's Retry-After ends then (None: it asked for none)


class Feeds:
    """The feeds of one database (store.feeds)."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def sync(self, feeds: Iterable[tuple[str, str]]) -> None:
        """Make sure every configured (name, url) has a row; a changed URL resets its validators and what the
        old server asked for (ttl, max-age, Retry-After)."""
        with self._db.transaction():
            for name, url in feeds:
                old = self._db.one("SELECT url FROM feeds WHERE name = ?", [name])
                if old is None:
                    self._db.execute("INSERT INTO feeds (name, url) VALUES (?, ?)", [name, url])
                elif old != url:
                    self._db.execute(
                        "UPDATE feeds SET url = ?, etag = NULL, last_modified = NULL, body_hash = NULL, ttl = NULL,"
                        " max_age = NULL, retry_until = NULL WHERE name = ?", [url, name])

    def state(self, name: str) -> FeedState | None:
        row = self._db.execute(
            "SELECT name, url, etag, last_modified, last_fetched, last_status, last_error,"
            " consecutive_failures, next_poll, body_hash, ttl, max_age, retry_until FROM feeds WHERE name = ?",
            [name]).fetchone()
        return FeedState(*row) if row else None

    def save_result(self, name: str, *, status: str, fetched_at: str, error: str | None = None,
                    etag: str | None = None, last_modified: str | None = None,
                    next_poll: str | None = None,
                    body_hash: str | None = None, next_poll_reason: str | None = None,
                    count_failure: bool = True, ttl: float | None = None, max_age: float | None = None,
                    retry_until: str | None = None) -> None:
        """Record how a fetch went. Call inside the feed's transaction so validators land with its items.
        `count_failure=False` records an error without counting it as one of the feed's failures in a row (the
        monitor's own bug, not the feed's). A success may carry `error` too: a note on what was wrong in a
        feed that was stored all the same (an item skipped, the item cap). An error keeps the remembered ttl
        and max-age and records `retry_until`; a success clears `retry_until` and records `ttl` and `max_age`
        as the caller worked them out. A worker's lease on the feed ends here (store/pg/claims.py): the feed is
        due again at `next_poll`, for whichever worker claims it."""
        if status == "error":
            self._db.execute(
                "UPDATE feeds SET last_fetched = ?, last_status = 'error', last_error = ?,"
                " consecutive_failures = consecutive_failures + ?, next_poll = ?, next_poll_reason = ?,"
                " retry_until = ?, lease_owner = NULL, lease_until = NULL WHERE name = ?",
                [fetched_at, error, int(count_failure), next_poll, next_poll_reason, retry_until, name])
        else:
            self._db.execute(
                "UPDATE feeds SET last_fetched = ?, last_status = ?, last_error = ?, consecutive_failures = 0,"
                " etag = ?, last_modified = ?, next_poll = ?, next_poll_reason = ?, body_hash = coalesce(?, body_hash),"
                " ttl = ?, max_age = ?, retry_until = NULL, lease_owner = NULL, lease_until = NULL WHERE name = ?",
                [fetched_at, status, error, etag, last_modified, next_poll, next_poll_reason, body_hash, ttl, max_age,
                 name])

    def count_article_failures(self, name: str, failures: int, last_error: str | None) -> None:
        """Add a refresh's failed article pages to the feed's count, with the last reason (`monitor feeds`)."""
        if failures:
            self._db.execute("UPDATE feeds SET article_failures = article_failures + ?, article_last_error = ?"
                             " WHERE name = ?", [failures, last_error, name])

    def body_hash(self, name: str) -> str | None:
        """The hash of the last body whose items were stored: a server that ignores validators and re-sends
        the same bytes costs a hash, not a parse."""
        return self._db.one("SELECT body_hash FROM feeds WHERE name = ?", [name])

    def summary(self, *, item_counts: bool = True) -> list[dict[str, Any]]:
        """Every feed with how its last fetch went and its count of stored items, for `monitor feeds`.
        item_counts=False leaves the counts out (items None): they read every item's index entry, and /metrics
        needs only the statuses."""
        count = "(SELECT count(*) FROM items i WHERE i.feed = f.name)" if item_counts else "NULL"
        rows = self._db.execute(
            "SELECT f.name, f.url, f.last_fetched, f.last_status, f.last_error, f.consecutive_failures,"
            f" f.next_poll, f.next_poll_reason, {count} AS items,"
            " f.article_failures, f.article_last_error FROM feeds f ORDER BY f.name").fetchall()
        keys = ["name", "url", "last_fetched", "last_status", "last_error", "consecutive_failures",
                "next_poll", "next_poll_reason", "items", "article_failures", "article_last_error"]
        return [dict(zip(keys, row)) for row in rows]

    def waiting(self, now: str) -> dict[str, str]:
        """feed name -> when its server's Retry-After ends (ISO, UTC), for the feeds whose wait is not over at
        `now`: a one-shot poll leaves them alone unless forced."""
        return dict(self._db.execute("SELECT name, retry_until FROM feeds WHERE retry_until > ?", [now]).fetchall())

    def next_polls(self) -> dict[str, str | None]:
        """feed name -> persisted next poll (ISO, UTC), so a restart resumes the schedule and its backoffs."""
        return dict(self._db.execute("SELECT name, next_poll FROM feeds").fetchall())


__all__ = ["FeedState", "Feeds"]
