"""The only module that speaks SQL. Schema, migrations, idempotent writes, and the queries the commands need.

Why one module: every write goes through one place, so the invariants live here — one transaction per feed,
items unique per (feed, key), validators saved in the same transaction as the items they describe, and a crash
at any point leaving either the whole feed's work or none of it. The database runs in WAL mode so `items`,
`report` and `feeds` can read while a poll or the daemon writes.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from sqlite_utils import Database, Migrations

from monitor.errors import StoreError
from monitor.models import Match

BUSY_TIMEOUT_MS = 10_000
# The shingle index is read and written at random (by hash): a writer cache of 32 MiB keeps its upper levels
# and recent pages in memory instead of re-reading them for every item (SQLite's default is 2 MiB).
WRITER_CACHE_KIB = 32 * 1024
CHECKPOINT_PAGES = 10_000
migrations = Migrations("monitor")


@migrations()
def m001_initial(db: Database) -> None:
    """Feeds, items, matches, corpus documents and the shingle index."""
    # Statement by statement: executescript() would COMMIT and break the migration's transaction.
    _run_script(db, """
        CREATE TABLE feeds (
            name TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            etag TEXT,
            last_modified TEXT,
            last_fetched TEXT,
            last_status TEXT,
            last_error TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            next_poll TEXT
        );
        CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            feed TEXT NOT NULL,
            key TEXT NOT NULL,
            guid TEXT,
            link TEXT,
            canonical_link TEXT,
            title TEXT NOT NULL DEFAULT '',
            summary TEXT NOT NULL DEFAULT '',
            body TEXT NOT NULL DEFAULT '',
            published TEXT,
            fetched_at TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('new', 'duplicate')),
            dup_kind TEXT,
            dup_ref TEXT,
            dup_score REAL,
            dup_reason TEXT,
            body_hash TEXT,
            title_body_hash TEXT,
            UNIQUE (feed, key)
        );
        CREATE INDEX items_guid ON items(guid);
        CREATE INDEX items_canonical_link ON items(canonical_link);
        CREATE INDEX items_body_hash ON items(body_hash);
        CREATE INDEX items_title_body_hash ON items(title_body_hash);
        CREATE INDEX items_fetched_at ON items(fetched_at);
        CREATE TABLE matches (
            item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
            watch TEXT NOT NULL,
            kind TEXT NOT NULL,
            terms TEXT NOT NULL,
            count INTEGER NOT NULL,
            snippet TEXT NOT NULL,
            PRIMARY KEY (item_id, watch)
        );
        CREATE INDEX matches_watch ON matches(watch);
        CREATE TABLE corpus_docs (
            ref TEXT PRIMARY KEY,
            path TEXT NOT NULL,
            mtime REAL NOT NULL,
            size INTEGER NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            published TEXT,
            body_hash TEXT,
            title_body_hash TEXT,
            shingle_count INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX corpus_body_hash ON corpus_docs(body_hash);
        CREATE INDEX corpus_title_body_hash ON corpus_docs(title_body_hash);
        CREATE TABLE shingles (
            hash INTEGER NOT NULL,
            source TEXT NOT NULL,
            added_at TEXT NOT NULL,
            PRIMARY KEY (hash, source)
        ) WITHOUT ROWID;
        CREATE INDEX shingles_source ON shingles(source);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        """)


@migrations()
def m002_feed_body_hash(db: Database) -> None:
    """The last stored body's hash, to skip parsing when a server ignores conditional requests."""
    db.execute("ALTER TABLE feeds ADD COLUMN body_hash TEXT")


@migrations()
def m003_next_poll_reason(db: Database) -> None:
    """Why the next poll is when it is (backoff, Retry-After, ttl, auto): `monitor feeds` says why a feed is slowed."""
    db.execute("ALTER TABLE feeds ADD COLUMN next_poll_reason TEXT")


@migrations()
def m004_fingerprints(db: Database) -> None:
    """Near-duplicate fingerprints as (hash, doc) integers: a fifth of the bytes of (hash, source, added_at).

    The old table carried a text source ('item:123'), an ISO timestamp and a second index on source in every
    row; writing those was a quarter of a cold poll (speed issue). `doc` is an item id, or minus a corpus
    document's `num`; the near-duplicate window is an item-id bound, since ids grow with fetch time. The hashes
    changed too (one word hash per word, see text.shingle_array), so the old rows cannot be reused: corpus
    documents are forgotten here and fingerprinted again on the next cycle, and stored items within the window
    are fingerprinted again by the pipeline (see `fingerprint_scheme` in meta).
    """
    _run_script(db, """
        CREATE TABLE fingerprints (
            hash INTEGER NOT NULL,
            doc INTEGER NOT NULL,
            PRIMARY KEY (hash, doc)
        ) WITHOUT ROWID;
        DROP TABLE shingles;
        DELETE FROM corpus_docs;
        ALTER TABLE corpus_docs ADD COLUMN num INTEGER;
        CREATE UNIQUE INDEX corpus_docs_num ON corpus_docs(num);
        """)


def _run_script(db: Database, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


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


def corpus_source(ref: str) -> str:
    return f"corpus:{ref}"


def item_source(item_id: int) -> str:
    return f"item:{item_id}"


class Store:
    """A monitor database. Open with `Store.open(path)`; `readonly=True` never creates or migrates anything."""

    def __init__(self, db: Database, path: str) -> None:
        self.db = db
        self.path = path
        # Inside a transaction, fingerprint rows wait here and are written sorted by hash just before it commits
        # (see commit_group); lookups see them meanwhile. Queuing a text is one set update (_pending_hashes);
        # which docs hold a hash is indexed only when asked (_pending_docs), as a full lookup needs it.
        self._deferring = False
        self._pending: list[tuple[int, Sequence[int]]] = []  # (doc, its hashes), in arrival order
        self._pending_hashes: set[int] = set()
        self._pending_count = 0  # rows
        self._pending_low: int | None = None  # the smallest item doc pending: whether all are in the window
        self._pending_index: dict[int, list[int]] = {}  # hash -> pending docs, for _pending[:_indexed]
        self._indexed = 0
        self._first_item_cache: tuple[str, int] | None = None
        # Fingerprints written since a worker's read-only view may have been taken (see recent_held): one set per
        # write, with the largest doc id in it; kept only while track_recent() is on.
        self._recent: list[tuple[int, set[int]]] | None = None
        self.committed_upto = 0  # the largest item id of the last commit this connection made (while tracking)

    # ---------------------------------------------------------------- opening
    @classmethod
    def open(cls, path: str | os.PathLike, *, readonly: bool = False) -> "Store":
        path = str(path)
        try:
            if readonly:
                if not os.path.exists(path):
                    raise StoreError(f"{path}: no database yet (run `monitor poll` first)")
                conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                                       check_same_thread=False)
            else:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                fresh = not os.path.exists(path)
                if fresh:
                    # The database holds what users watch: readable by its owner only.
                    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
                conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            db = Database(conn)
            if not readonly:
                if db.journal_mode != "wal":
                    db.enable_wal()
                conn.execute("PRAGMA synchronous = NORMAL")
                # Checkpoint (copy the WAL into the database file, and fsync) every 40 MB of WAL, not SQLite's
                # 4 MB: a large poll writes about 100 MB, and each checkpoint copies every page changed since the
                # last one once, so rarer ones copy a page rewritten by many commits fewer times. The cold farm
                # poll took 14 s instead of 15-17 (speed issue); readers only see a longer WAL meanwhile.
                conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
                conn.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
                migrations.apply(db)
            elif "items" not in db.table_names():
                raise StoreError(f"{path}: not a monitor database (no items table)")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: cannot open the database: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"{path}: cannot create the database: {exc}") from exc
        return cls(db, path)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all (nested calls become savepoints).

        The outer transaction is BEGIN IMMEDIATE: it takes the write lock up front, so a poll running beside
        the daemon waits on busy_timeout instead of failing when a read transaction tries to upgrade.
        Fingerprint rows added inside wait in memory and are written sorted just before the commit, as in a
        commit group: lookups see them meanwhile, so a feed's items can be checked against each other.
        """
        conn = self.db.conn
        try:
            if conn.in_transaction:
                mark = len(self._pending)
                try:
                    with self.db.atomic():
                        yield
                except BaseException:
                    self._forget_pending_after(mark)  # rows deferred by the block rolled back with it
                    raise
                return
            conn.execute("BEGIN IMMEDIATE")
            deferring, self._deferring = self._deferring, True
            try:
                yield
                self.write_pending()
            except BaseException:
                self._forget_pending_after(0)
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            finally:
                self._deferring = deferring
            conn.execute("COMMIT")
            self._committed()
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path}: {exc}{_hint(exc)}") from exc

    @contextmanager
    def background_checkpoints(self, every: float = 1.0) -> Iterator[None]:
        """While inside, a thread of its own copies the WAL into the database file (PRAGMA wal_checkpoint
        PASSIVE) every `every` seconds, and this connection never does.

        Why (speed issue): a checkpoint copies every page changed since the last one and fsyncs the file; run by
        the writer, inside a COMMIT, it stalled a large poll's storing, and with it the workers waiting on it,
        for half a second every 40 MB (a timeline of the farm poll shows every process dip together). From
        another connection it overlaps the storing: SQLite releases the GIL, and PASSIVE never waits for the
        writer, it copies what is committed and no reader still needs."""
        conn = self.db.conn
        stop = threading.Event()

        def run() -> None:
            other = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
            try:
                while not stop.wait(every):
                    other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:  # an optimisation only: the writer's own checkpoints resume after the cycle
                pass
            finally:
                other.close()

        conn.execute("PRAGMA wal_autocheckpoint = 0")
        worker = threading.Thread(target=run, name="monitor-checkpoint", daemon=True)
        worker.start()
        try:
            yield
        finally:
            stop.set()
            worker.join()
            conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")

    @contextmanager
    def commit_group(self, seconds: float) -> Iterator["CommitGroup"]:
        """One write transaction shared by many `transaction()` blocks, committed about every `seconds`.

        Why: every commit writes each page it dirtied to the WAL, and new fingerprints dirty pages all over
        their (hash-ordered) index, so committing feed by feed rewrote the same pages hundreds of times in a
        large poll. Inside the group each transaction() block is a savepoint, so a feed that fails rolls back
        alone. A crash loses at most the uncommitted group, whose feeds' validators were not saved either, so
        the next poll fetches them again: nothing committed is lost and nothing is duplicated.
        """
        group = CommitGroup(self, seconds)
        self._deferring = True
        try:
            yield group
            group.flush()
        except BaseException:
            self._forget_pending_after(0)
            if self.db.conn.in_transaction:
                self.db.conn.execute("ROLLBACK")
            raise
        finally:
            self._deferring = False

    def write_pending(self) -> None:
        """Write the deferred fingerprint rows, sorted by hash: in key order, each page of the index is visited
        once per group instead of once per row (the index is ordered by hash, so rows in arrival order land on
        pages all over it). Called inside the group's transaction, just before it commits. The rows are put in
        order by numpy (a sort of Python tuples cost 0.3 s per 400,000 rows; speed issue)."""
        if self._pending:
            import numpy as np

            hashes = np.fromiter(itertools.chain.from_iterable(h for _, h in self._pending), dtype=np.int64)
            docs = np.repeat(np.array([d for d, _ in self._pending], dtype=np.int64),
                             [len(h) for _, h in self._pending])
            order = np.lexsort((docs, hashes))
            if self._recent is not None and len(docs):
                self._recent.append((int(docs.max()), self._pending_hashes))  # reset below, not reused
            hashes, docs = hashes[order].tolist(), docs[order].tolist()
            try:
                # Plain INSERT: a deferred text is a new item or a corpus document whose rows were just deleted,
                # so none of its rows exist, and OR IGNORE's conflict handling cost 60% more per row here. The
                # rows are made one at a time (a list of a million tuples set off the garbage collector).
                self.db.conn.executemany("INSERT INTO fingerprints (hash, doc) VALUES (?, ?)", zip(hashes, docs))
            except sqlite3.IntegrityError:  # a text queued twice after all: the rows before the clash are in
                self.db.conn.executemany("INSERT OR IGNORE INTO fingerprints (hash, doc) VALUES (?, ?)",
                                         zip(hashes, docs))
            self._forget_pending_after(0)

    # ---------------------------------------------------------------- views taken by worker processes
    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read transaction: every query inside sees the database as it was at its first statement."""
        conn = self.db.conn
        conn.execute("BEGIN")
        try:
            yield
        finally:
            conn.execute("COMMIT")

    def last_item_id(self) -> int:
        """The largest item id stored (0 for none): what a view holds, the items after it it did not see."""
        return self._one("SELECT max(id) FROM items") or 0

    def track_recent(self, on: bool) -> None:
        """Remember the fingerprints this connection writes (recent_held), and the last item each commit made
        visible to other connections (committed_upto), or stop and forget them."""
        self._recent = [] if on else None
        self.committed_upto = self.last_item_id() if on else 0

    def _committed(self) -> None:
        if self._recent is not None:
            self.committed_upto = self.last_item_id()

    def recent_held(self, hashes: Iterable[int], after: int) -> set[int]:
        """Of `hashes`, those a text stored after item `after` holds (or may: a write's set also holds its older
        docs, which only sends an item on to the exact lookup): fingerprints waiting to be written, and those
        written since. With a worker's view up to `after` (dedup.HeldSnapshot), this completes its answer."""
        hashes = set(hashes)
        found = self._pending_hashes & hashes
        for upto, written in self._recent or ():
            if upto > after:
                found |= written & hashes
        return found

    def forget_recent(self, upto: int) -> None:
        """Drop the remembered writes whose docs are all at or before item `upto`: no view older is pending."""
        if self._recent:
            self._recent = [(u, w) for u, w in self._recent if u > upto]

    def write_pending_if_over(self, rows: int) -> None:
        """write_pending() when more than `rows` fingerprint rows wait. Call between feeds (never inside a
        feed's savepoint, whose rollback must be able to drop what it queued): a long commit group then never
        holds so many rows that indexing them for a lookup (_pending_docs) costs more than writing them."""
        if self._pending_count > rows:
            self.write_pending()

    def _defer(self, doc: int, hashes: Sequence[int]) -> None:
        """Queue one text's fingerprints until the commit (one C-level set update: speed issue)."""
        self._pending.append((doc, hashes))
        self._pending_count += len(hashes)
        self._pending_hashes.update(hashes)
        if doc > 0 and (self._pending_low is None or doc < self._pending_low):
            self._pending_low = doc

    def _pending_docs(self, h: int) -> list[int]:
        """The pending docs holding h; the index is extended with what was queued since the last call."""
        if self._indexed < len(self._pending):
            index = self._pending_index
            for doc, hashes in self._pending[self._indexed:]:
                for x in hashes:
                    index.setdefault(x, []).append(doc)
            self._indexed = len(self._pending)
        return self._pending_index.get(h, [])

    def _pending_held(self, hashes: Iterable[int], first_item: int) -> set[int]:
        """Of `hashes`, those a pending doc within the window holds. Pending items were stored in this
        transaction, so they are the newest and inside any window (bar the re-fingerprinting of old ones)."""
        found = self._pending_hashes.intersection(hashes)
        if found and self._pending_low is not None and self._pending_low < first_item:
            found = {h for h in found if any(d < 0 or d >= first_item for d in self._pending_docs(h))}
        return found

    def _forget_pending_after(self, mark: int) -> None:
        kept = self._pending[:mark]
        self._pending, self._pending_hashes, self._pending_low, self._pending_count = [], set(), None, 0
        self._pending_index, self._indexed = {}, 0
        for doc, hashes in kept:
            self._defer(doc, hashes)

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.db.execute(sql, params).fetchone()
        return row[0] if row else None

    # ---------------------------------------------------------------- feeds
    def sync_feeds(self, feeds: Iterable[tuple[str, str]]) -> None:
        """Make sure every configured (name, url) has a row; a changed URL resets its validators."""
        with self.transaction():
            for name, url in feeds:
                old = self._one("SELECT url FROM feeds WHERE name = ?", [name])
                if old is None:
                    self.db.execute("INSERT INTO feeds (name, url) VALUES (?, ?)", [name, url])
                elif old != url:
                    self.db.execute(
                        "UPDATE feeds SET url = ?, etag = NULL, last_modified = NULL, body_hash = NULL"
                        " WHERE name = ?", [url, name])

    def feed_state(self, name: str) -> FeedState | None:
        row = self.db.execute(
            "SELECT name, url, etag, last_modified, last_fetched, last_status, last_error,"
            " consecutive_failures, next_poll, body_hash FROM feeds WHERE name = ?", [name]).fetchone()
        return FeedState(*row) if row else None

    def save_feed_result(self, name: str, *, status: str, fetched_at: str, error: str | None = None,
                         etag: str | None = None, last_modified: str | None = None,
                         keep_validators: bool = False, next_poll: str | None = None,
                         body_hash: str | None = None, next_poll_reason: str | None = None,
                         count_failure: bool = True) -> None:
        """Record how a fetch went. Call inside the feed's transaction so validators land with its items.
        `count_failure=False` records an error without counting it as one of the feed's failures in a row (the
        monitor's own bug, not the feed's)."""
        if status == "error":
            self.db.execute(
                "UPDATE feeds SET last_fetched = ?, last_status = 'error', last_error = ?,"
                " consecutive_failures = consecutive_failures + ?, next_poll = ?, next_poll_reason = ?"
                " WHERE name = ?",
                [fetched_at, error, int(count_failure), next_poll, next_poll_reason, name])
        elif keep_validators:
            self.db.execute(
                "UPDATE feeds SET last_fetched = ?, last_status = ?, last_error = NULL,"
                " consecutive_failures = 0, next_poll = ?, next_poll_reason = ? WHERE name = ?",
                [fetched_at, status, next_poll, next_poll_reason, name])
        else:
            self.db.execute(
                "UPDATE feeds SET last_fetched = ?, last_status = ?, last_error = NULL, consecutive_failures = 0,"
                " etag = ?, last_modified = ?, next_poll = ?, next_poll_reason = ?, body_hash = coalesce(?, body_hash)"
                " WHERE name = ?",
                [fetched_at, status, etag, last_modified, next_poll, next_poll_reason, body_hash, name])

    def feed_body_hash(self, name: str) -> str | None:
        """The hash of the last body whose items were stored: a server that ignores validators and re-sends
        the same bytes costs a hash, not a parse."""
        return self._one("SELECT body_hash FROM feeds WHERE name = ?", [name])

    def feeds_summary(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT f.name, f.url, f.last_fetched, f.last_status, f.last_error, f.consecutive_failures,"
            " f.next_poll, f.next_poll_reason, (SELECT count(*) FROM items i WHERE i.feed = f.name) AS items"
            " FROM feeds f ORDER BY f.name").fetchall()
        keys = ["name", "url", "last_fetched", "last_status", "last_error", "consecutive_failures",
                "next_poll", "next_poll_reason", "items"]
        return [dict(zip(keys, row)) for row in rows]

    # ---------------------------------------------------------------- items: lookups used by dedup
    def known_keys(self, feed: str, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(list(keys), 500):
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self.db.execute(
                f"SELECT key FROM items WHERE feed = ? AND key IN ({marks})", [feed, *chunk]))
        return found

    def exact_matches(self, keys: Sequence[tuple[str | None, str | None, str, str]]) -> list[tuple]:
        """The exact-duplicate lookups of items: for each (guid, canonical link, body hash, title+body hash), the
        row (item by guid, item by link, corpus by body, item by body, corpus by title+body, item by title+body),
        each the lowest id (or ref) or None; dedup.exact_verdict decides. One statement for a whole feed, each
        lookup an index search (speed issue: a round trip per lookup was a tenth of the storing time)."""
        out: list[tuple] = []
        for chunk in _chunks(list(keys), 500):
            rows = self.db.conn.execute(
                "SELECT j.key,"
                " (SELECT id FROM items WHERE guid = j.value ->> 0 ORDER BY id LIMIT 1),"
                " (SELECT id FROM items WHERE canonical_link = j.value ->> 1 ORDER BY id LIMIT 1),"
                " (SELECT ref FROM corpus_docs WHERE body_hash = j.value ->> 2 ORDER BY ref LIMIT 1),"
                " (SELECT id FROM items WHERE body_hash = j.value ->> 2 ORDER BY id LIMIT 1),"
                " (SELECT ref FROM corpus_docs WHERE title_body_hash = j.value ->> 3 ORDER BY ref LIMIT 1),"
                " (SELECT id FROM items WHERE title_body_hash = j.value ->> 3 ORDER BY id LIMIT 1)"
                " FROM json_each(?) j ORDER BY j.key",
                [json.dumps([[g, ln, b or None, t or None] for g, ln, b, t in chunk], ensure_ascii=False)]
            ).fetchall()
            out.extend(tuple(r[1:]) for r in rows)
        return out

    def held_fingerprints(self, hashes: Iterable[int], since: str) -> set[int]:
        """Which of `hashes` a corpus document or an item fetched since `since` holds, in the database or waiting
        to be written: the probes of a whole feed's near-duplicate checks in one statement (dedup.FeedJudge).
        """
        hashes = set(hashes)
        first_item = self._first_item_since(since)
        held = self._pending_held(hashes, first_item)
        for chunk in _chunks(list(hashes - held), 5000):
            held.update(h for (h,) in self.db.conn.execute(
                "SELECT DISTINCT value FROM json_each(?) WHERE EXISTS (SELECT 1 FROM fingerprints"
                " WHERE hash = value AND (doc < 0 OR doc >= ?))", [json.dumps(chunk), first_item]))
        return held

    def shingle_holders(self, hashes: Iterable[int], since: str, cap: int) -> dict[int, list[str]]:
        """For each of `hashes` held by a known text: up to cap + 1 of its holders, as sources ('corpus:REF',
        'item:ID'): corpus documents, and items fetched since `since`. One primary-key search per hash, each
        reading at most cap + 1 entries, so the cost per item is bounded however many items are stored."""
        hashes = list(hashes)
        first_item = self._first_item_since(since)
        holders: dict[int, list[str]] = {}
        refs: dict[int, str] | None = None
        for chunk in _chunks(hashes, 500):
            for h, joined in self.db.execute(
                    "SELECT value, (SELECT group_concat(doc, ' ') FROM (SELECT doc FROM fingerprints"
                    " WHERE hash = value AND (doc < 0 OR doc >= ?) LIMIT ?))"
                    " FROM json_each(?)", [first_item, cap + 1, json.dumps(chunk)]):
                if not joined:
                    continue
                docs = [int(d) for d in joined.split(" ")]
                if refs is None and any(d < 0 for d in docs):
                    refs = self._corpus_refs()
                holders[h] = [item_source(d) if d > 0 else corpus_source(refs.get(-d, "?")) for d in docs]
        if self._pending:
            for h in self._pending_hashes.intersection(hashes):
                waiting = self._pending_docs(h)
                if waiting:
                    have = holders.setdefault(h, [])
                    for doc in waiting:
                        if len(have) > cap:
                            break
                        if doc < 0 and refs is None:
                            refs = self._corpus_refs()
                        source = item_source(doc) if doc > 0 else corpus_source(refs.get(-doc, "?"))
                        if (doc < 0 or doc >= first_item) and source not in have:
                            have.append(source)
                    if not have:
                        del holders[h]
        return holders

    def add_shingles(self, source: str, hashes: Iterable[int], added_at: str | None = None) -> None:
        """Index a text's fingerprints. `source` is item_source(id) or corpus_source(ref) (the document must be
        stored first). `added_at` is accepted for old callers: the window is now decided by item id."""
        kind, _, ref = source.partition(":")
        if kind == "item":
            doc = int(ref)
        else:
            num = self._one("SELECT num FROM corpus_docs WHERE ref = ?", [ref])
            if num is None:
                raise ValueError(f"corpus document {ref!r} is not stored")
            doc = -num
        if self._deferring and self.db.conn.in_transaction:
            self._defer(doc, list(hashes))
            return
        self.db.conn.executemany("INSERT OR IGNORE INTO fingerprints (hash, doc) VALUES (?, ?)",
                                 [(h, doc) for h in hashes])

    def prune_shingles(self, before: str) -> int:
        """Drop the fingerprints of items fetched before `before` (outside the window); corpus ones stay.

        A scan of the whole table (it is keyed by hash), so callers run it rarely: lookups already ignore
        items outside the window, and pruning only gives the space back."""
        bound = self._first_item_since(before)
        return self.db.execute("DELETE FROM fingerprints WHERE doc > 0 AND doc < ?", [bound]).rowcount

    def any_known(self, hashes: Sequence[int], since: str) -> bool:
        """Whether any of `hashes` is held by a corpus document or an item fetched since `since`: the cheap first
        question of a near-duplicate check (one IN-list search, stopping at the first hit)."""
        first_item = self._first_item_since(since)
        if self._pending_held(hashes, first_item):
            return True
        for chunk in _chunks(list(hashes), 500):
            if self.db.conn.execute(
                    f"SELECT 1 FROM fingerprints WHERE hash IN ({','.join('?' * len(chunk))})"
                    " AND (doc < 0 OR doc >= ?) LIMIT 1", [*chunk, first_item]).fetchone():
                return True
        return False

    def forget_item_fingerprints(self) -> None:
        self.db.execute("DELETE FROM fingerprints WHERE doc > 0")

    def _first_item_since(self, since: str) -> int:
        """The smallest item id fetched at or after `since` (ids grow with fetch time); past the last id if none.

        Remembered for the last `since` asked: items stored after it have larger ids and later fetch times, so
        they never change the answer (a poll asks with one `since` per feed, for every item)."""
        if self._first_item_cache and self._first_item_cache[0] == since:
            return self._first_item_cache[1]
        bound = self._first_item_since_uncached(since)
        self._first_item_cache = (since, bound)
        return bound

    def _first_item_since_uncached(self, since: str) -> int:
        first = self._one("SELECT min(id) FROM items WHERE fetched_at >= ?", [since])
        if first is not None:
            return first
        return (self._one("SELECT max(id) FROM items") or 0) + 1

    def _corpus_refs(self) -> dict[int, str]:
        return {num: ref for num, ref in self.db.execute("SELECT num, ref FROM corpus_docs WHERE num IS NOT NULL")}

    def windowed_items(self, since: str, after_id: int, limit: int) -> list[tuple[int, str, str]]:
        """(id, title, body) of new (not duplicate) items fetched since `since` with id > after_id, by id: the
        items whose fingerprints the near-duplicate check may use, read in batches."""
        return [tuple(r) for r in self.db.execute(
            "SELECT id, title, body FROM items WHERE status = 'new' AND fetched_at >= ? AND id > ?"
            " ORDER BY id LIMIT ?", [since, after_id, limit])]

    # ---------------------------------------------------------------- items: writes
    def insert_item(self, row: dict[str, Any]) -> int | None:
        """Insert one item; None when (feed, key) is already stored, so a re-poll never duplicates."""
        cols = list(row)
        cur = self.db.execute(
            f"INSERT OR IGNORE INTO items ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [row[c] for c in cols])
        return cur.lastrowid if cur.rowcount == 1 else None

    def reserve_item_ids(self, count: int) -> list[int]:
        """The ids the next `count` items will have: the next after the largest, which is what SQLite would choose.
        Call inside the transaction that inserts them (its write lock keeps other writers from taking them):
        a feed's items are judged knowing their ids, then inserted with them in one statement."""
        first = self.last_item_id() + 1
        return list(range(first, first + count))

    def insert_new_items(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert items, ids included (reserve_item_ids), that the caller has checked are not stored in this
        transaction (known_keys): one executemany for a feed. A (feed, key) stored after all raises."""
        if not rows:
            return
        cols = list(rows[0])
        self.db.conn.executemany(
            f"INSERT INTO items ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [tuple(row[c] for c in cols) for row in rows])

    def add_matches_many(self, matches: Sequence[tuple[int, Match]]) -> None:
        """The matches of items just inserted, as (item id, match) pairs."""
        if matches:
            self.db.conn.executemany(
                "INSERT INTO matches (item_id, watch, kind, terms, count, snippet) VALUES (?, ?, ?, ?, ?, ?)",
                [(item_id, m.watch, m.kind, json.dumps(list(m.terms), ensure_ascii=False), m.count, m.snippet)
                 for item_id, m in matches])

    def replace_matches(self, item_id: int, matches: Sequence[Match]) -> None:
        self.db.execute("DELETE FROM matches WHERE item_id = ?", [item_id])
        self.add_matches(item_id, matches)

    def add_matches(self, item_id: int, matches: Sequence[Match]) -> None:
        """The matches of an item just inserted (it has none yet)."""
        self.add_matches_many([(item_id, m) for m in matches])

    # ---------------------------------------------------------------- corpus
    def corpus_index(self) -> dict[str, tuple[str, float, int]]:
        """ref -> (path, mtime, size) of the corpus documents already fingerprinted."""
        return {r[0]: (r[1], r[2], r[3]) for r in self.db.execute(
            "SELECT ref, path, mtime, size FROM corpus_docs")}

    def put_corpus_doc(self, doc: dict[str, Any], shingles: Iterable[int], added_at: str) -> None:
        ref = doc["ref"]
        self.delete_corpus_doc(ref)
        doc = {**doc, "num": (self._one("SELECT max(num) FROM corpus_docs") or 0) + 1}
        cols = list(doc)
        self.db.execute(f"INSERT INTO corpus_docs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                        [doc[c] for c in cols])
        self.add_shingles(corpus_source(ref), shingles, added_at)

    def forget_corpus(self) -> None:
        """Every corpus document and its fingerprints: the next cycle reads and fingerprints the files again."""
        self.db.execute("DELETE FROM fingerprints WHERE doc < 0")
        self.db.execute("DELETE FROM corpus_docs")

    def delete_corpus_doc(self, ref: str) -> None:
        num = self._one("SELECT num FROM corpus_docs WHERE ref = ?", [ref])
        self.db.execute("DELETE FROM corpus_docs WHERE ref = ?", [ref])
        if num is not None:  # a scan of the fingerprint table: corpus files change rarely
            self.db.execute("DELETE FROM fingerprints WHERE doc = ?", [-num])

    def corpus_docs(self) -> list[dict[str, Any]]:
        keys = ["ref", "path", "title", "published", "shingle_count"]
        return [dict(zip(keys, r)) for r in self.db.execute(
            f"SELECT {', '.join(keys)} FROM corpus_docs ORDER BY ref")]

    # ---------------------------------------------------------------- items: reads
    def query_items(self, *, status: str = "all", flagged: bool = False, since: str | None = None,
                    until: str | None = None, watch: Sequence[str] = (), feed: Sequence[str] = (),
                    kind: Sequence[str] = (), limit: int | None = None) -> list[dict[str, Any]]:
        """Items newest first (by published, else fetched time), each with its matches.

        flagged: only new items with at least one match (restricted to `watch`/`kind` when given).
        """
        where, params = [], []
        if status in ("new", "duplicate"):
            where.append("i.status = ?")
            params.append(status)
        if since:
            where.append("coalesce(i.published, i.fetched_at) >= ?")
            params.append(since)
        if until:
            where.append("coalesce(i.published, i.fetched_at) < ?")
            params.append(until)
        if feed:
            where.append(f"i.feed IN ({','.join('?' * len(feed))})")
            params.extend(feed)
        match_filter, match_params = [], []
        if watch:
            match_filter.append(f"m.watch IN ({','.join('?' * len(watch))})")
            match_params.extend(watch)
        if kind:
            match_filter.append(f"m.kind IN ({','.join('?' * len(kind))})")
            match_params.extend(kind)
        if flagged or match_filter:
            cond = " AND ".join(["m.item_id = i.id", *match_filter])
            where.append(f"EXISTS (SELECT 1 FROM matches m WHERE {cond})")
            params.extend(match_params)
            if flagged:
                where.append("i.status = 'new'")
        sql = ("SELECT i.id, i.guid, i.feed, i.title, i.link, i.published, i.fetched_at, i.status,"
               " i.dup_kind, i.dup_ref, i.dup_score, i.dup_reason, i.summary FROM items i")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY coalesce(i.published, i.fetched_at) DESC, i.id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        keys = ["id", "guid", "feed", "title", "link", "published", "fetched_at", "status",
                "dup_kind", "dup_ref", "dup_score", "dup_reason", "summary"]
        items = [dict(zip(keys, r)) for r in self.db.execute(sql, params)]
        self._attach_matches(items, watch=watch, kind=kind)
        return items

    def _attach_matches(self, items: list[dict[str, Any]], *, watch: Sequence[str], kind: Sequence[str]) -> None:
        by_id = {it["id"]: it for it in items}
        for it in items:
            it["matches"] = []
        for chunk in _chunks(list(by_id), 500):
            marks = ",".join("?" * len(chunk))
            for item_id, w, k, terms, count, snippet in self.db.execute(
                    f"SELECT item_id, watch, kind, terms, count, snippet FROM matches WHERE item_id IN ({marks})"
                    " ORDER BY item_id, rowid", chunk):
                if (watch and w not in watch) or (kind and k not in kind):
                    continue
                by_id[item_id]["matches"].append(
                    {"watch": w, "kind": k, "terms": json.loads(terms), "count": count, "snippet": snippet})

    def counts(self) -> dict[str, int]:
        return {
            "items": self._one("SELECT count(*) FROM items"),
            "new": self._one("SELECT count(*) FROM items WHERE status = 'new'"),
            "duplicate": self._one("SELECT count(*) FROM items WHERE status = 'duplicate'"),
            "flagged": self._one("SELECT count(*) FROM items i WHERE status = 'new'"
                                 " AND EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id)"),
        }

    # ---------------------------------------------------------------- daemon
    # What `monitor run` and `monitor status` need: the persisted schedule, the re-match of stored items after
    # a watch-list edit, small key/value state in `meta`, and today's counts.
    def get_meta(self, key: str) -> str | None:
        return self._one("SELECT value FROM meta WHERE key = ?", [key])

    def set_meta(self, key: str, value: str | None) -> None:
        self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?)"
                        " ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value])

    def next_polls(self) -> dict[str, str | None]:
        """feed name -> persisted next poll (ISO, UTC), so a restart resumes the schedule and its backoffs."""
        return dict(self.db.execute("SELECT name, next_poll FROM feeds").fetchall())

    def recent_item_times(self, feed: str, since: str, limit: int) -> list[str]:
        """When the feed's newest items appeared (published, else fetched), newest first, for `interval: auto`."""
        return [r[0] for r in self.db.execute(
            "SELECT coalesce(published, fetched_at) AS t FROM items WHERE feed = ? AND t >= ?"
            " ORDER BY t DESC LIMIT ?", [feed, since, limit])]

    def item_count(self) -> int:
        return self._one("SELECT count(*) FROM items")

    def rematch_batch(self, after_id: int, limit: int) -> list[tuple[int, str, str, dict[str, tuple]]]:
        """Items with id > after_id, in id order: (id, title, body, {watch: (kind, terms json, count)})."""
        rows = self.db.execute("SELECT id, title, body FROM items WHERE id > ? ORDER BY id LIMIT ?",
                               [after_id, limit]).fetchall()
        old: dict[int, dict[str, tuple]] = {r[0]: {} for r in rows}
        if rows:
            for item_id, watch, kind, terms, count in self.db.execute(
                    "SELECT item_id, watch, kind, terms, count FROM matches WHERE item_id BETWEEN ? AND ?",
                    [rows[0][0], rows[-1][0]]):
                if item_id in old:
                    old[item_id][watch] = (kind, terms, count)
        return [(r[0], r[1], r[2], old[r[0]]) for r in rows]

    def daemon_counts(self, today: str) -> dict[str, int]:
        """Feeds ok / failing, and items new and flagged since `today` (ISO), for `monitor status`."""
        return {
            "feeds_ok": self._one("SELECT count(*) FROM feeds WHERE last_status IN ('ok', 'not_modified')"),
            "feeds_failing": self._one("SELECT count(*) FROM feeds WHERE last_status = 'error'"),
            "feeds_never_polled": self._one("SELECT count(*) FROM feeds WHERE last_status IS NULL"),
            "new_today": self._one("SELECT count(*) FROM items WHERE status = 'new' AND fetched_at >= ?", [today]),
            "flagged_today": self._one(
                "SELECT count(*) FROM items i WHERE status = 'new' AND fetched_at >= ?"
                " AND EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id)", [today]),
        }

    # ---------------------------------------------------------------- text engine (issue 3): common shingles
    def common_shingles(self, hashes: Iterable[int], more_than: int) -> set[int]:
        """Of `hashes`, those held by more than `more_than` known texts (boilerplate such as «به گزارش ایسنا»).

        Each hash reads at most more_than + 1 entries of the (hash, doc) primary key, so the cost per item
        is bounded however many items are stored; counting every holder of a common phrase would not be.
        """
        found: set[int] = set()
        for chunk in _chunks(list(hashes), 500):
            found.update(h for (h,) in self.db.execute(
                "SELECT value FROM json_each(?) WHERE (SELECT count(*) FROM"
                " (SELECT 1 FROM fingerprints WHERE hash = value LIMIT ?)) > ?",
                [json.dumps(chunk), more_than + 1, more_than]))
        return found


class CommitGroup:
    """See Store.commit_group. Call ready() before each unit of writes and flush() before waiting on anything
    slow (the network): the group never holds the write lock while nothing is being written."""

    def __init__(self, store: Store, seconds: float) -> None:
        self._store, self._seconds, self._opened = store, seconds, 0.0

    def ready(self) -> None:
        """Commit the open group if it is old enough; make sure one is open."""
        conn = self._store.db.conn
        try:
            if conn.in_transaction and time.monotonic() - self._opened >= self._seconds:
                self._store.write_pending()
                conn.execute("COMMIT")
                self._store._committed()
            if not conn.in_transaction:
                conn.execute("BEGIN IMMEDIATE")
                self._opened = time.monotonic()
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self._store.path}: {exc}{_hint(exc)}") from exc

    def flush(self) -> None:
        """Commit what the group holds now."""
        conn = self._store.db.conn
        try:
            if conn.in_transaction:
                self._store.write_pending()
                conn.execute("COMMIT")
                self._store._committed()
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self._store.path}: {exc}{_hint(exc)}") from exc


def _hint(exc: sqlite3.OperationalError) -> str:
    """What a person can do about the two store failures a long-running monitor meets (issue 6)."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return (f" (another process held the write lock for over {BUSY_TIMEOUT_MS // 1000}s: a second poll, the"
                " daemon, or a backup tool; the transaction was rolled back)")
    if "full" in text:
        return " (free some disk space; the transaction was rolled back and the next poll redoes it)"
    return ""



def _chunks(seq: list, size: int) -> Iterator[list]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]
