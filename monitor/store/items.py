"""Stored items: the lookups duplicate detection asks, the writes of a feed's new items, and the queries of the
commands (items, report, status) and of the re-match after a watch-list edit.

Items are unique per (feed, key), so a re-poll never duplicates one; their ids grow with fetch time, which is
what the fingerprint window relies on.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Iterable, Iterator, Sequence

from monitor.store.db import Db, chunks

# The rows of a JSON array parameter as `j` (j.key: its position, j.value: the element), in each store's words.
_JSON_ROWS = {"sqlite": "json_each(?) j", "postgresql": "json_array_elements(?::json) WITH ORDINALITY j(value, key)"}

# The text an item was judged on: its article page's when the page was accepted, else the feed's.
JUDGED = "CASE WHEN body_source = 'page' THEN article_text ELSE body END"


class Items:
    """The items of one database (store.items)."""

    def __init__(self, db: Db) -> None:
        self._db = db

    # ---------------------------------------------------------------- lookups used by dedup
    def known_keys(self, feed: str, keys: Sequence[str]) -> set[str]:
        """Of `keys`, those the feed already has stored."""
        found: set[str] = set()
        for chunk in chunks(list(keys), 500):
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self._db.execute(
                f"SELECT key FROM items WHERE feed = ? AND key IN ({marks})", [feed, *chunk]))
        return found

    def exact_matches(self, keys: Sequence[tuple[str | None, str | None, str | None, str, str, str]],
                      since: str | None = None) -> list[tuple]:
        """The exact-duplicate lookups of items: for each (feed, guid, canonical link, body hash, title+body hash,
        title hash), the row (item of that feed by guid, item by link, corpus by body, item by body, corpus by
        title+body, item by title+body, corpus by title, item fetched since `since` by title), each the lowest
        id (or ref) or None; dedup.exact_verdict decides. A guid is looked up in its own feed only: it names an
        item within its feed, and two sites may both number theirs 12345. An empty key is not looked up. One
        statement for a whole feed, each lookup an index search (speed issue: a round trip per lookup cost far
        more)."""
        out: list[tuple] = []
        for chunk in chunks(list(keys), 500):
            rows = self._db.execute(
                "SELECT j.key,"
                " (SELECT id FROM items WHERE feed = j.value ->> 0 AND guid = j.value ->> 1 ORDER BY id LIMIT 1),"
                " (SELECT id FROM items WHERE canonical_link = j.value ->> 2 ORDER BY id LIMIT 1),"
                " (SELECT ref FROM corpus_docs WHERE body_hash = j.value ->> 3 ORDER BY ref LIMIT 1),"
                " (SELECT id FROM items WHERE body_hash = j.value ->> 3 ORDER BY id LIMIT 1),"
                " (SELECT ref FROM corpus_docs WHERE title_body_hash = j.value ->> 4 ORDER BY ref LIMIT 1),"
                " (SELECT id FROM items WHERE title_body_hash = j.value ->> 4 ORDER BY id LIMIT 1),"
                " (SELECT ref FROM corpus_docs WHERE title_hash = j.value ->> 5 ORDER BY ref LIMIT 1),"
                " (SELECT id FROM items WHERE title_hash = j.value ->> 5 AND fetched_at >= ? ORDER BY id LIMIT 1)"
                f" FROM {_JSON_ROWS[self._db.dialect]} ORDER BY j.key",
                [since or "", json.dumps([[f if g else None, g, ln, b or None, t or None, h or None]
                                          for f, g, ln, b, t, h in chunk], ensure_ascii=False)]
            ).fetchall()
            out.extend(tuple(r[1:]) for r in rows)
        return out

    def roots(self, ids: Iterable[int]) -> dict[int, tuple[str, str, float | None]]:
        """Of the items `ids`, those stored as duplicates: id -> (dup_kind, dup_ref, dup_score), what they are a
        duplicate of. A verdict names that root, never the duplicate in the middle (dedup.exact_verdict)."""
        found: dict[int, tuple[str, str, float | None]] = {}
        for chunk in chunks(sorted(set(ids)), 500):
            found.update((r[0], (r[1], r[2], r[3])) for r in self._db.execute(
                f"SELECT id, dup_kind, dup_ref, dup_score FROM items WHERE id IN ({','.join('?' * len(chunk))})"
                " AND status = 'duplicate' AND dup_kind IS NOT NULL", chunk))
        return found

    def last_id(self) -> int:
        """The largest item id stored (0 for none): what a view holds, the items after it it did not see."""
        return self._db.one("SELECT max(id) FROM items") or 0

    def windowed(self, since: str, after_id: int, limit: int) -> list[tuple[int, str, str]]:
        """(id, title, judged body: the article text when judged on the page) of new (not duplicate) items fetched since `since` with id > after_id, by id: the
        items whose fingerprints the near-duplicate check may use, read in batches."""
        return [tuple(r) for r in self._db.execute(
            f"SELECT id, title, {JUDGED} FROM items WHERE status = 'new' AND fetched_at >= ? AND id > ?"
            " ORDER BY id LIMIT ?", [since, after_id, limit])]

    # ---------------------------------------------------------------- writes
    def reserve_ids(self, count: int) -> list[int]:
        """The ids the next `count` items will have: the next after the largest, which is what SQLite would choose.
        Call inside the transaction that inserts them (its write lock keeps other writers from taking them):
        a feed's items are judged knowing their ids, then inserted with them in one statement."""
        return self._db.reserve_ids("items", count)

    def insert_new(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert items, ids included (reserve_ids), that the caller has checked are not stored in this
        transaction (known_keys): one executemany for a feed. A (feed, key) stored after all raises."""
        if not rows:
            return
        cols = list(rows[0])
        self._db.executemany(
            f"INSERT INTO items ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [tuple(row[c] for c in cols) for row in rows])
        if self._db.dialect == "sqlite":  # item_counts (m013): once a batch, not a row trigger (PostgreSQL: a view)
            statuses = Counter(row["status"] for row in rows)
            self._db.executemany("UPDATE item_counts SET n = n + ? WHERE name = ?",
                                 [(n, status) for status, n in statuses.items()])

    def recount(self) -> None:
        """item_counts from a count of the rows: after a bulk copy that stored items without insert_new
        (store.copy). On PostgreSQL item_counts is a view, always exact: nothing to do."""
        if self._db.dialect != "sqlite" or not self._db.has_table("item_counts"):
            return
        for name, where in (("new", "status = 'new'"), ("duplicate", "status = 'duplicate'"),
                            ("flagged", "status = 'new' AND EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id)")):
            self._db.execute(f"UPDATE item_counts SET n = (SELECT count(*) FROM items i WHERE {where})"
                             " WHERE name = ?", [name])

    # ---------------------------------------------------------------- article pages
    def page_retries(self, feed: str, limit: int = 100) -> list[tuple[int, str, str, str, str]]:
        """(id, link, title, feed body, status) of the feed's items whose page failed once, newest first: the
        next refresh tries each again, once (see update_pages)."""
        return [tuple(r) for r in self._db.execute(
            "SELECT id, link, title, body, status FROM items WHERE feed = ? AND page_status = 'failed'"
            " AND page_attempts = 1 ORDER BY id DESC LIMIT ?", [feed, limit])]

    def update_pages(self, rows: Sequence[dict[str, Any]]) -> None:
        """Record retried pages: each row has id, page_status, page_reason, page_attempts, and for a page now
        accepted article_text, body_source and the judged text's hashes (None keeps the stored ones)."""
        self._db.executemany(
            "UPDATE items SET page_status = :page_status, page_reason = :page_reason,"
            " page_attempts = :page_attempts, article_text = coalesce(:article_text, article_text),"
            " body_source = coalesce(:body_source, body_source), body_hash = coalesce(:body_hash, body_hash),"
            " title_body_hash = coalesce(:title_body_hash, title_body_hash) WHERE id = :id",
            [{"article_text": None, "body_source": None, "body_hash": None, "title_body_hash": None, **row}
             for row in rows])

    # ---------------------------------------------------------------- queries of the commands
    def query(self, *, status: str = "all", flagged: bool = False, since: str | None = None,
              until: str | None = None, watch: Sequence[str] = (), feed: Sequence[str] = (),
              kind: Sequence[str] = (), limit: int | None = None) -> list[dict[str, Any]]:
        """Items newest first (by published, else fetched time), each with its matches.

        flagged: only new items with at least one match (restricted to `watch`/`kind` when given).
        """
        return list(self.iter_query(status=status, flagged=flagged, since=since, until=until, watch=watch,
                                    feed=feed, kind=kind, limit=limit))

    def iter_query(self, *, status: str = "all", flagged: bool = False, since: str | None = None,
                   until: str | None = None, watch: Sequence[str] = (), feed: Sequence[str] = (),
                   kind: Sequence[str] = (), limit: int | None = None, batch: int = 500,
                   after: int | None = None) -> Iterator[dict[str, Any]]:
        """The items of `query`, read from one statement `batch` rows at a time with their matches: a report
        of many items holds a batch, not all of them (the statement's read sees one snapshot throughout)."""
        where, params = self.filters(status=status, flagged=flagged, since=since, until=until, watch=watch,
                                     feed=feed, kind=kind, after=after)
        sql = ("SELECT i.id, i.guid, i.feed, i.title, i.link, i.published, i.fetched_at, i.status,"
               " i.dup_kind, i.dup_ref, i.dup_score, i.dup_reason, i.body_source, i.page_status, i.page_reason"
               " FROM items i")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY coalesce(i.published, i.fetched_at) DESC, i.id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        keys = ["id", "guid", "feed", "title", "link", "published", "fetched_at", "status",
                "dup_kind", "dup_ref", "dup_score", "dup_reason", "body_source", "page_status",
                "page_reason"]  # no summary: no reader shows it
        cursor = self._db.execute(sql, params)
        while rows := cursor.fetchmany(batch):
            items = [dict(zip(keys, r)) for r in rows]
            self.attach_matches(items, watch=watch, kind=kind)
            yield from items

    def newer(self, after: int, **filters: Any) -> tuple[int, int]:
        """(how many items of the filters were stored after the item id `after`, the largest id stored): what
        the web page's "N new" link polls for. New means stored after the page was read (ids grow with fetch
        time), whatever date an item is published under: one stored today under last week's date is new too,
        and the link's page (filters with after=) lists exactly these. A rowid range: quick however many items
        are older."""
        where, params = self.filters(after=after, **filters)
        count = self._db.one("SELECT count(*) FROM items i WHERE " + " AND ".join(where), params)
        return count, max(after, self.last_id())

    @staticmethod
    def filters(*, status: str = "all", flagged: bool = False, since: str | None = None, until: str | None = None,
                watch: Sequence[str] = (), feed: Sequence[str] = (), kind: Sequence[str] = (),
                after: int | None = None) -> tuple[list[str], list[Any]]:
        """The conditions (over the alias `i` for items) and parameters of the commands' filters: one
        implementation for `items`, `report` and `search` (store.search.query). after: only items stored after
        that item id (the web page's "new since it was read")."""
        where: list[str] = []
        params: list[Any] = []
        if after is not None:
            where.append("i.id > ?")
            params.append(after)
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
        return where, params

    def attach_matches(self, items: list[dict[str, Any]], *, watch: Sequence[str] = (),
                       kind: Sequence[str] = ()) -> None:
        """Give each item row its "matches" (those of `watch`/`kind` when given), read for all of them at once."""
        by_id = {it["id"]: it for it in items}
        for it in items:
            it["matches"] = []
        for chunk in chunks(list(by_id), 500):
            marks = ",".join("?" * len(chunk))
            for item_id, w, k, terms, count, snippet in self._db.execute(
                    f"SELECT item_id, watch, kind, terms, count, snippet FROM matches WHERE item_id IN ({marks})"
                    " ORDER BY item_id, rowid", chunk):
                if (watch and w not in watch) or (kind and k not in kind):
                    continue
                by_id[item_id]["matches"].append(
                    {"watch": w, "kind": k, "terms": json.loads(terms), "count": count, "snippet": snippet})

    def counts(self) -> dict[str, int]:
        one = self._db.one
        return {
            "items": one("SELECT count(*) FROM items"),
            "new": one("SELECT count(*) FROM items WHERE status = 'new'"),
            "duplicate": one("SELECT count(*) FROM items WHERE status = 'duplicate'"),
            "flagged": one("SELECT count(*) FROM items i WHERE status = 'new'"
                           " AND EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id)"),
        }

    def count(self) -> int:
        return self._db.one("SELECT count(*) FROM items")

    # ---------------------------------------------------------------- the daemon's
    def recent_times(self, feed: str, since: str, limit: int) -> list[str]:
        """When the feed's newest items appeared (published, else fetched), newest first, for `interval: auto`."""
        return [r[0] for r in self._db.execute(
            "SELECT coalesce(published, fetched_at) AS t FROM items WHERE feed = ?"
            " AND coalesce(published, fetched_at) >= ? ORDER BY t DESC LIMIT ?", [feed, since, limit])]

    def matched_texts(self, watch: str, batch: int = 2000) -> Iterator[tuple[int, str, str, str, int]]:
        """(id, title, judged body, status, how many entries it matched) of the items that matched one watch
        entry, in id order, a batch at a time: what "not relevant" re-checks (monitor.triage)."""
        after = 0
        while True:
            rows = self._db.execute(
                f"SELECT i.id, i.title, {JUDGED}, i.status, (SELECT count(*) FROM matches o WHERE o.item_id = i.id)"
                " FROM items i WHERE i.id > ? AND EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id"
                " AND m.watch = ?) ORDER BY i.id LIMIT ?", [after, watch, batch]).fetchall()
            if not rows:
                return
            yield from rows
            after = rows[-1][0]

    def rematch_batch(self, after_id: int, limit: int) -> list[tuple[int, str, str, dict[str, tuple]]]:
        """Items with id > after_id, in id order: (id, title, judged body, {watch: (kind, terms json, count)});
        the judged body is the article text when the item was judged on its page."""
        rows = self._db.execute(f"SELECT id, title, {JUDGED} FROM items WHERE id > ? ORDER BY id LIMIT ?",
                                [after_id, limit]).fetchall()
        old: dict[int, dict[str, tuple]] = {r[0]: {} for r in rows}
        if rows:
            for item_id, watch, kind, terms, count in self._db.execute(
                    "SELECT item_id, watch, kind, terms, count FROM matches WHERE item_id BETWEEN ? AND ?",
                    [rows[0][0], rows[-1][0]]):
                if item_id in old:
                    old[item_id][watch] = (kind, terms, count)
        return [(r[0], r[1], r[2], old[r[0]]) for r in rows]

    def status_counts(self) -> dict[str, int]:
        """Stored items new and duplicate, and the flagged ones (new with a match): the web's /metrics. Read from
        item_counts (m013, kept by triggers: three rows, not a scan of every item); counted on a database an
        older monitor wrote and this one has not migrated (a read-only open)."""
        one = self._db.one
        if self._db.has_table("item_counts"):
            counts = dict(self._db.execute("SELECT name, n FROM item_counts").fetchall())
            return {k: counts.get(k, 0) for k in ("new", "duplicate", "flagged")}
        return {"new": one("SELECT count(*) FROM items WHERE status = 'new'"),
                "duplicate": one("SELECT count(*) FROM items WHERE status = 'duplicate'"),
                "flagged": one("SELECT count(*) FROM items i WHERE status = 'new'"
                               " AND EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id)")}

    def daemon_counts(self, today: str) -> dict[str, int]:
        """Feeds ok / failing, and items new and flagged since `today` (ISO), for `monitor status`: dated as
        `query` dates them (published, else fetched), so status and `report --since today` count the same."""
        one = self._db.one
        return {
            "feeds_ok": one("SELECT count(*) FROM feeds WHERE last_status IN ('ok', 'not_modified')"),
            "feeds_failing": one("SELECT count(*) FROM feeds WHERE last_status = 'error'"),
            "feeds_never_polled": one("SELECT count(*) FROM feeds WHERE last_status IS NULL"),
            "new_today": one("SELECT count(*) FROM items WHERE status = 'new'"
                             " AND coalesce(published, fetched_at) >= ?", [today]),
            "flagged_today": one(
                "SELECT count(*) FROM items i WHERE status = 'new' AND coalesce(published, fetched_at) >= ?"
                " AND EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id)", [today]),
        }


__all__ = ["Items"]
