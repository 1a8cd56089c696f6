"""The fingerprint index: which known texts (corpus documents, stored items) hold each winnowed fingerprint.

Rows are (hash, doc) integers: `doc` is an item id, or minus a corpus document's `num`. The near-duplicate
window is an item-id bound, since ids grow with fetch time. Inside a transaction new rows wait in memory (the
write-behind buffer) and are written sorted by hash just before the commit (Db's CommitHooks); lookups see them
meanwhile. While a poll hands read-only views to worker processes, the rows written since are remembered too
(track_recent), so a view's answer can be completed from memory.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from typing import Iterable, Sequence

from monitor.models import Source
from monitor.store.db import Db, chunks
from monitor.store.items import Items


# A list parameter's elements as rows of a column `value`, and a subquery's docs joined by spaces, per store.
_EACH = {"sqlite": "json_each(?)", "postgresql": "unnest(?::bigint[]) AS e(value)"}
_JOINED = {"sqlite": "group_concat(doc, ' ')", "postgresql": "string_agg(doc::text, ' ')"}


class Fingerprints:
    """The fingerprint index of one database (store.fingerprints); also the Db's CommitHooks."""

    def __init__(self, db: Db, items: Items) -> None:
        self._db, self._items = db, items
        # Inside a transaction, fingerprint rows wait here and are written sorted by hash just before it commits
        # (see Db.commit_group); lookups see them meanwhile. Queuing a text is one set update (_pending_hashes);
        # which docs hold a hash is indexed only when asked (_pending_docs), as a full lookup needs it.
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

    # ---------------------------------------------------------------- lookups
    def held(self, hashes: Iterable[int], since: str) -> set[int]:
        """Which of `hashes` a corpus document or an item fetched since `since` holds, in the database or waiting
        to be written: the probes of a whole feed's near-duplicate checks in one statement (dedup.FeedJudge).
        """
        hashes = set(hashes)
        first_item = self._first_item_since(since)
        held = self._pending_held(hashes, first_item)
        for chunk in chunks(list(hashes - held), 5000):
            held.update(h for (h,) in self._db.execute(
                f"SELECT DISTINCT value FROM {_EACH[self._db.dialect]} WHERE EXISTS (SELECT 1 FROM fingerprints"
                " WHERE hash = value AND (doc < 0 OR doc >= ?))", [self._array(chunk), first_item]))
        return held

    def holders(self, hashes: Iterable[int], since: str, cap: int) -> dict[int, list[Source]]:
        """For each of `hashes` held by a known text: up to cap + 1 of its holders: corpus documents, and items
        fetched since `since`. One primary-key search per hash, each reading at most cap + 1 entries, so the
        cost per item is bounded however many items are stored."""
        hashes = list(hashes)
        first_item = self._first_item_since(since)
        holders: dict[int, list[Source]] = {}
        refs: dict[int, str] | None = None
        for chunk in chunks(hashes, 500):
            for h, joined in self._db.execute(
                    f"SELECT value, (SELECT {_JOINED[self._db.dialect]} FROM (SELECT doc FROM fingerprints"
                    " WHERE hash = value AND (doc < 0 OR doc >= ?) LIMIT ?) d)"
                    f" FROM {_EACH[self._db.dialect]}", [first_item, cap + 1, self._array(chunk)]):
                if not joined:
                    continue
                docs = [int(d) for d in joined.split(" ")]
                if refs is None and any(d < 0 for d in docs):
                    refs = self._corpus_refs()
                holders[h] = [Source.item(d) if d > 0 else Source.corpus(refs.get(-d, "?")) for d in docs]
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
                        source = Source.item(doc) if doc > 0 else Source.corpus(refs.get(-doc, "?"))
                        if (doc < 0 or doc >= first_item) and source not in have:
                            have.append(source)
                    if not have:
                        del holders[h]
        return holders

    def any_known(self, hashes: Sequence[int], since: str) -> bool:
        """Whether any of `hashes` is held by a corpus document or an item fetched since `since`: the cheap first
        question of a near-duplicate check (one IN-list search, stopping at the first hit)."""
        first_item = self._first_item_since(since)
        if self._pending_held(hashes, first_item):
            return True
        for chunk in chunks(list(hashes), 500):
            if self._db.execute(
                    f"SELECT 1 FROM fingerprints WHERE hash IN ({','.join('?' * len(chunk))})"
                    " AND (doc < 0 OR doc >= ?) LIMIT 1", [*chunk, first_item]).fetchone():
                return True
        return False

    # ---------------------------------------------------------------- writes
    def add(self, source: Source, hashes: Iterable[int]) -> None:
        """Index a text's fingerprints (a corpus document must be stored first). Inside a transaction they wait
        in memory until the commit."""
        if source.kind == "item":
            doc = int(source.ref)
        else:
            num = self._db.one("SELECT num FROM corpus_docs WHERE ref = ?", [source.ref])
            if num is None:
                raise ValueError(f"corpus document {source.ref!r} is not stored")
            doc = -num
        if self._db.deferring and self._db.in_transaction:
            self._defer(doc, list(hashes))
            return
        self._db.executemany("INSERT OR IGNORE INTO fingerprints (hash, doc) VALUES (?, ?)",
                                  [(h, doc) for h in hashes])

    def prune(self, before: str) -> int:
        """Drop the fingerprints of items fetched before `before` (outside the window); corpus ones stay.

        A scan of the whole table (it is keyed by hash), so callers run it rarely: lookups already ignore
        items outside the window, and pruning only gives the space back."""
        bound = self._first_item_since(before)
        return self._db.execute("DELETE FROM fingerprints WHERE doc > 0 AND doc < ?", [bound]).rowcount

    def forget_items(self) -> None:
        """Every item's fingerprints (corpus ones stay): before the stored items are fingerprinted again."""
        self._db.execute("DELETE FROM fingerprints WHERE doc > 0")

    def write_pending(self) -> None:
        """Write the deferred fingerprint rows, sorted by hash: in key order, each page of the index is visited
        once per group instead of once per row (the index is ordered by hash, so rows in arrival order land on
        pages all over it). Called inside the group's transaction, just before it commits. The rows are put in
        order by numpy (a sort of Python tuples was far slower; speed issue)."""
        if self._pending:
            import numpy as np

            hashes = np.fromiter(itertools.chain.from_iterable(h for _, h in self._pending), dtype=np.int64)
            docs = np.repeat(np.array([d for d, _ in self._pending], dtype=np.int64),
                             [len(h) for _, h in self._pending])
            order = np.lexsort((docs, hashes))
            if self._recent is not None and len(docs):
                self._recent.append((int(docs.max()), self._pending_hashes))  # reset below, not reused
            hashes, docs = hashes[order].tolist(), docs[order].tolist()
            if self._db.dialect != "sqlite":
                # One statement over two arrays: a row per parameter set cost 20 us a row over the wire, and the
                # storing transaction holds the verdict lock meanwhile. ON CONFLICT: a failed statement would
                # abort the whole transaction there, so there is no plain-INSERT-first attempt as below.
                self._db.execute("INSERT INTO fingerprints (hash, doc) SELECT * FROM unnest(?::bigint[], ?::bigint[])"
                                 " ON CONFLICT DO NOTHING", [hashes, docs])
                self._forget_pending_after(0)
                return
            try:
                # Plain INSERT: a deferred text is a new item or a corpus document whose rows were just deleted,
                # so none of its rows exist, and OR IGNORE's conflict handling costs more per row here. The
                # rows are made one at a time (a list of a million tuples set off the garbage collector).
                self._db.executemany("INSERT INTO fingerprints (hash, doc) VALUES (?, ?)", zip(hashes, docs))
            except sqlite3.IntegrityError:  # a text queued twice after all: the rows before the clash are in
                self._db.executemany("INSERT OR IGNORE INTO fingerprints (hash, doc) VALUES (?, ?)",
                                          zip(hashes, docs))
            self._forget_pending_after(0)

    def write_pending_if_over(self, rows: int) -> None:
        """write_pending() when more than `rows` fingerprint rows wait. Call between feeds (never inside a
        feed's savepoint, whose rollback must be able to drop what it queued): a long commit group then never
        holds so many rows that indexing them for a lookup (_pending_docs) costs more than writing them."""
        if self._pending_count > rows:
            self.write_pending()

    # ---------------------------------------------------------------- views taken by worker processes
    def track_recent(self, on: bool) -> None:
        """Remember the fingerprints this connection writes (recent_held), and the last item each commit made
        visible to other connections (committed_upto), or stop and forget them."""
        self._recent = [] if on else None
        self.committed_upto = self._items.last_id() if on else 0

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

    # ---------------------------------------------------------------- CommitHooks (called by Db)
    def before_commit(self) -> None:
        self.write_pending()

    def after_commit(self) -> None:
        if self._recent is not None:
            self.committed_upto = self._items.last_id()

    def savepoint_mark(self) -> int:
        return len(self._pending)

    def rolled_back(self, mark: int) -> None:
        self._forget_pending_after(mark)

    # ---------------------------------------------------------------- the write-behind buffer
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

    # ---------------------------------------------------------------- the window
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
        # The first entry of the fetched_at index at or after `since`: one seek. (`min(id) ... WHERE fetched_at
        # >= ?` made SQLite walk the items by id from the oldest until one was recent enough: 0.16 s a feed with
        # 100,000 items stored, growing with every item ever stored; bench/growth.py.) Ids grow with fetch time,
        # so the first fetched is the lowest id; a clock stepped back only moves the bound by the items stored
        # while it was behind.
        first = self._db.one("SELECT id FROM items WHERE fetched_at >= ? ORDER BY fetched_at, id LIMIT 1", [since])
        if first is not None:
            return first
        return self._items.last_id() + 1

    def _array(self, hashes: list[int]) -> object:
        """A list of hashes as one parameter: JSON text for SQLite's json_each, an array for PostgreSQL."""
        return json.dumps(hashes) if self._db.dialect == "sqlite" else hashes

    def _corpus_refs(self) -> dict[int, str]:
        return {num: ref for num, ref in self._db.execute(
            "SELECT num, ref FROM corpus_docs WHERE num IS NOT NULL")}


__all__ = ["Fingerprints"]
