"""Stories: which story every stored item belongs to, and the stories' first date and title.

A story's id is the id of its first item, so it never changes (nothing is re-clustered). Each member row holds
the item's packed terms (monitor.stories.pack; NULL for a duplicate, which is never compared), so the writer
rebuilds its window of recent items from here without redoing any text work. Written in the transaction of
the items they describe (monitor.stories.Assigner, called from the writer).
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator, Sequence

from monitor.store.db import Db, chunks


# The earlier of a story's stored first date and an upsert's (SQLite's two-argument min is PostgreSQL's least),
# and a story's members as one JSON array of [item id, feed, status], per store.
_EARLIER = {"sqlite": "min(first_seen, excluded.first_seen)",
            "postgresql": "least(stories.first_seen, excluded.first_seen)"}
_MEMBERS = {"sqlite": "json_group_array(json_array(m.item_id, i.feed, i.status))",
            "postgresql": "json_agg(json_build_array(m.item_id, i.feed, i.status) ORDER BY m.item_id)"}
# A member's date (ISO 8601, UTC, whole seconds: dates.to_iso) as whole microseconds since the epoch, per store.
_MICROS = {"sqlite": "CAST(strftime('%s', dated) AS INTEGER) * 1000000",
           "postgresql": "(extract(epoch FROM dated::timestamptz) * 1000000)::bigint"}


class Stories:
    """The stories of one database (store.stories)."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def available(self) -> bool:
        """Whether the database has stories at all: one from before migration m011, opened read-only by a
        reader before any poll migrated it, has none (the readers then answer empty)."""
        return self._db.has_table("story_items")

    # ---------------------------------------------------------------- the writer's
    def recent(self, since: str | None, after_item: int,
               size: int = 8192) -> Iterator[list[tuple[int, int, int, bytes]]]:
        """(item id, story id, date in microseconds since the epoch, terms) of the new items dated since `since`
        (all when None) with id > after_item, by id, in lists of `size` rows: the window the writer compares new
        items with. Yielded as read, not as one list: at a million stored items the window is 160,000 rows, which
        the writer packs into arrays as they come (monitor.stories.window). Read it to its end before the next
        statement.

        The date is the row's own (`dated`, migration m018), not the item's: reading it from items followed each
        item row's overflow pages past its body, most of this statement's time at a million items (bench/growth.py);
        and it comes as an integer, so no row becomes a datetime in Python."""
        where, params = ["terms IS NOT NULL", "item_id > ?"], [after_item]
        if since:
            where.append("dated >= ?")
            params.append(since)
        cursor = self._db.execute(
            f"SELECT item_id, story_id, {_MICROS[self._db.dialect]}, terms FROM story_items"
            f" WHERE {' AND '.join(where)} ORDER BY item_id", params)
        while True:
            rows = cursor.fetchmany(size)
            if not rows:
                return
            yield rows

    def of_items(self, ids: Iterable[int]) -> dict[int, int]:
        """item id -> story id, for those of `ids` that have one."""
        found: dict[int, int] = {}
        for chunk in chunks(sorted(set(ids)), 500):
            found.update(self._db.execute(
                f"SELECT item_id, story_id FROM story_items WHERE item_id IN ({','.join('?' * len(chunk))})",
                chunk).fetchall())
        return found

    def add(self, stories: Sequence[tuple[int, str, str]],
            members: Sequence[tuple[int, int, bytes | None, str | None]]) -> None:
        """Stories as (id, first_seen, title): new ones, and those an item joins (first_seen becomes the earlier
        of the two: a feed may deliver an event's first report after a later one; the title stays the first
        stored item's); members as (item id, story id, packed terms or None, the item's date or None): a member
        with terms needs its item's date (published, else fetched: what the window, `recent`, selects by)."""
        if stories:
            self._db.executemany(
                "INSERT INTO stories (id, first_seen, title) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE"
                f" SET first_seen = {_EARLIER[self._db.dialect]}", stories)
        if members:
            if any(terms is not None and dated is None for _, _, terms, dated in members):
                raise ValueError("a story member with terms needs its item's date")
            self._db.executemany(
                "INSERT OR IGNORE INTO story_items (item_id, story_id, terms, dated) VALUES (?, ?, ?, ?)", members)

    def forget_terms(self, before: str) -> int:
        """Drop the terms of items dated before `before`: the writer never compares an item with them again (they
        are outside every window), and they are most of this table's bytes. Their stories stay."""
        return self._db.execute(
            "UPDATE story_items SET terms = NULL WHERE terms IS NOT NULL AND dated < ?",
            [before]).rowcount

    def unassigned(self, after_item: int, limit: int) -> list[dict[str, Any]]:
        """Items with id > after_item and no story yet, by id: an existing database's items (housekeeping)."""
        keys = ["id", "feed", "title", "body", "published", "fetched_at", "status", "dup_kind", "dup_ref"]
        return [dict(zip(keys, r)) for r in self._db.execute(
            f"SELECT {', '.join('i.' + k for k in keys)} FROM items i WHERE i.id > ? AND NOT EXISTS"
            " (SELECT 1 FROM story_items m WHERE m.item_id = i.id) ORDER BY i.id LIMIT ?", [after_item, limit])]

    # ---------------------------------------------------------------- the readers'
    def query(self, *, since: str | None = None, watch: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Stories first seen since `since` (all when None), newest first, each {"id", "title", "first_seen",
        "feeds" (sorted names, copies' feeds included), "items" (its new items' ids), "copies" (its duplicates'
        ids)}; with `watch`, only stories one of whose items matched one of those entries."""
        if not self.available():
            return []
        where, params = [], []
        if since:
            where.append("s.first_seen >= ?")
            params.append(since)
        if watch:
            where.append("EXISTS (SELECT 1 FROM story_items m JOIN matches w ON w.item_id = m.item_id"
                         f" WHERE m.story_id = s.id AND w.watch IN ({','.join('?' * len(watch))}))")
            params.extend(watch)
        sql = ("SELECT s.id, s.title, s.first_seen,"
               f" (SELECT {_MEMBERS[self._db.dialect]} FROM"
               "  (SELECT item_id FROM story_items WHERE story_id = s.id ORDER BY item_id) m"
               "  JOIN items i ON i.id = m.item_id)"
               " FROM stories s" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY s.first_seen DESC, s.id DESC")
        out = []
        for story_id, title, first_seen, members in self._db.execute(sql, params):
            rows = json.loads(members or "[]") if isinstance(members, (str, type(None))) else members
            out.append({"id": story_id, "title": title, "first_seen": first_seen,
                        "feeds": sorted({feed for _, feed, _ in rows}),
                        "items": [i for i, _, status in rows if status == "new"],
                        "copies": [i for i, _, status in rows if status != "new"]})
        return out

    def carried(self, ids: Iterable[int]) -> dict[int, tuple[int, str, int]]:
        """item id -> (story id, story title, how many feeds carried the story, copies included)."""
        found: dict[int, tuple[int, str, int]] = {}
        if not self.available():
            return found
        for chunk in chunks(sorted(set(ids)), 500):
            for item_id, story_id, title, feeds in self._db.execute(
                    "SELECT m.item_id, m.story_id, s.title, (SELECT count(DISTINCT i.feed) FROM story_items o"
                    " JOIN items i ON i.id = o.item_id WHERE o.story_id = m.story_id)"
                    " FROM story_items m JOIN stories s ON s.id = m.story_id"
                    f" WHERE m.item_id IN ({','.join('?' * len(chunk))})", chunk):
                found[item_id] = (story_id, title, feeds)
        return found


__all__ = ["Stories"]
