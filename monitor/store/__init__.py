"""The only package that speaks SQL: a monitor database as rooms sharing one connection, to a SQLite file (the
default) or to PostgreSQL (`postgresql://...`: monitor/store/pg, for several workers sharing one database).

    store = Store.open(path)            # creates and migrates; Store.open(path, readonly=True) never does
    with store.transaction():           # one feed's work commits together or not at all
        store.items.insert_new(rows)
        store.matches.add_many(pairs)
        store.fingerprints.add(Source.item(item_id), hashes)
        store.feeds.save_result(name, status="ok", fetched_at=now)

The rooms: `db` (the connection, transactions, commit groups; db.py), the schema and its migrations
(schema.py), `feeds`, `items` and their queries, `matches`, `corpus`, `fingerprints` (the near-duplicate
index and its write-behind buffer), `meta` (small key/value state), `stories` (which story each item belongs to)
`outbox` (alerts to send) and `search` (the full-text index). The invariants live here: one
transaction per feed, items unique per (feed, key), validators saved in the same transaction as the items they
describe, and a crash at any point leaving either the whole feed's work or none of it.
"""

from __future__ import annotations

import os
from typing import ContextManager

from monitor.store.corpus import Corpus
from monitor.store.db import BUSY_TIMEOUT_MS, CHECKPOINT_PAGES, WRITER_CACHE_KIB, CommitGroup, Db
from monitor.store.feeds import Feeds, FeedState
from monitor.store.fingerprints import Fingerprints
from monitor.store.items import Items
from monitor.store.matches import Matches
from monitor.store.meta import Meta
from monitor.store.outbox import Outbox
from monitor.store.pg import is_url
from monitor.store.search import Search
from monitor.store.stories import Stories
from monitor.store.triage import Triage


def exists(database: str | os.PathLike) -> bool:
    """Whether there is a database to read: the SQLite file exists; a PostgreSQL URL is taken to (opening it says
    if not). Read-only commands ask this before opening, to say "no database yet" instead of creating one."""
    return is_url(str(database)) or os.path.exists(database)


class Store:
    """A monitor database. Open with `Store.open(path)`; `readonly=True` never creates or migrates anything."""

    def __init__(self, db: Db) -> None:
        self.db = db
        self.items = Items(db)
        self.fingerprints = Fingerprints(db, self.items)
        db.attach(self.fingerprints)  # its rows wait in memory until each commit
        self.feeds = Feeds(db)
        self.matches = Matches(db)
        self.corpus = Corpus(db, self.fingerprints)
        self.meta = Meta(db)
        self.stories = Stories(db)
        self.outbox = Outbox(db)  # alerts to send (monitor.notify)
        if db.dialect == "sqlite":
            self.search = Search(db)  # the full-text index of `monitor search`
        else:
            from monitor.store.pg.search import PgSearch

            self.search = PgSearch(db)  # the same index as tsvectors
        self.triage = Triage(db)  # the web page's read / starred / not relevant marks
        db.attach(self.search)  # its rows too wait until each commit
        self.claims = None  # feed leases of several workers (PostgreSQL only: store/pg/claims.py)
        if db.several_writers:
            from monitor.store.pg.claims import Claims

            self.claims = Claims(db)  # type: ignore[arg-type]

    @classmethod
    def open(cls, path: str | os.PathLike, *, readonly: bool = False) -> "Store":
        """A SQLite file at `path`, or the PostgreSQL database a `postgresql://` URL names (store/pg/)."""
        if is_url(str(path)):
            from monitor.store.pg.db import PgDb

            return cls(PgDb.open(str(path), readonly=readonly))  # type: ignore[arg-type]
        return cls(Db.open(path, readonly=readonly))

    @property
    def several_writers(self) -> bool:
        """Whether other processes may store into this database meanwhile (PostgreSQL: several workers)."""
        return self.db.several_writers

    @property
    def path(self) -> str:
        return self.db.path

    def close(self) -> None:
        self.db.close()

    def transaction(self) -> ContextManager[None]:
        """All writes inside commit together or not at all (nested calls become savepoints); see Db.transaction."""
        return self.db.transaction()

    def commit_group(self, seconds: float) -> ContextManager[CommitGroup]:
        """One write transaction shared by many transaction() blocks, committed about every `seconds`; yields a
        CommitGroup (see Db.commit_group)."""
        return self.db.commit_group(seconds)

    def snapshot(self) -> ContextManager[None]:
        """One read transaction: every query inside sees the database as it was at its first statement."""
        return self.db.snapshot()

    def exclusive(self) -> ContextManager[None]:
        """While inside, no other process is inside exclusive() on this database: work that must not run twice
        at once (housekeeping: corpus sync, feed rows, stories) but spans several transactions. SQLite: nothing
        to do (one writer); PostgreSQL: a session advisory lock, waited for."""
        return self.db.exclusive()

    def background_checkpoints(self, every: float = 1.0) -> ContextManager[None]:
        """While inside, another connection checkpoints the WAL every `every` seconds (see Db)."""
        return self.db.background_checkpoints(every)


__all__ = ["BUSY_TIMEOUT_MS", "CHECKPOINT_PAGES", "WRITER_CACHE_KIB", "CommitGroup", "Corpus", "Db", "FeedState",
           "Feeds", "Fingerprints", "Items", "Matches", "Meta", "Outbox", "Search", "Store", "Stories", "Triage",
           "exists", "is_url"]
