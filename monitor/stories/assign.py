"""What the writer calls: each stored item's story, in the transaction of the items."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Protocol, Sequence

from monitor.dates import to_iso
from monitor.stories.index import THRESHOLD, StoryIndex
from monitor.stories.terms import pack_member, signature, unpack

__all__ = ["Assigner", "StoryRoom"]


class StoryRoom(Protocol):
    """What the assigner asks of the stored stories: store.stories satisfies it."""

    def recent(self, since: str | None, after_item: int) -> Iterable[list[tuple[int, int, int, bytes]]]: ...
    def of_items(self, ids: Iterable[int]) -> dict[int, int]: ...
    def add(self, stories: Sequence[tuple[int, str, str]],
            members: Sequence[tuple[int, int, bytes | None, str | None]]) -> None: ...


def _when(value: str) -> datetime:
    when = datetime.fromisoformat(value)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


class Assigner:
    """Gives each item written its story, in the writer's transaction (monitor.refresh.Writer).

    Holds a StoryIndex of the window, read from the store on first use and topped up before each feed with the
    items another writer (a `monitor poll` beside the daemon) stored since, so every process compares a new item
    with everything committed before it. A new item is compared; a duplicate of a stored item joins its root's
    story (a syndicated copy is coverage of the same event); a duplicate of a corpus document belongs to no
    story (it is a known article, not a stored new item)."""

    def __init__(self, room: StoryRoom, threshold: float = THRESHOLD) -> None:
        self._room = room
        self.index = StoryIndex(threshold)
        self._upto: int | None = None

    def _refresh(self, rows: Sequence[dict[str, Any]]) -> None:
        since = None
        if self._upto is None:  # first use: the window before the earliest of these items
            dated = [_when(r["published"] or r["fetched_at"]) for r in rows]
            since = to_iso(min(dated) - 2 * self.index.window) if dated else None
        last = [self._upto or 0]

        def chunks() -> Iterator[list[tuple[int, int, int, bytes]]]:
            for chunk in self._room.recent(since, last[0]):
                last[0] = chunk[-1][0]  # by id
                yield chunk

        self.index.load(chunks())  # as one-by-one adds (held as arrays when the index is empty: the first use)
        self._upto = last[0]

    def assign(self, rows: Sequence[dict[str, Any]], terms: Sequence[bytes | None] | None = None) -> dict[int, int]:
        """Store the story of each row (the items table's columns: id, title, body, published, fetched_at,
        status, dup_kind, dup_ref), in order; returns item id -> story id of those that have one. `terms`:
        each row's packed signature when the pure step made it (analyse: the writer is one thread, the
        analysis runs on every core), else it is made here."""
        if not rows:
            return {}
        self._refresh(rows)
        roots = [int(r["dup_ref"]) for r in rows if r["status"] != "new" and r.get("dup_kind") == "item"]
        story_of = self._room.of_items(roots) if roots else {}
        stories, members, out = [], [], {}
        for n, r in enumerate(rows):
            item = r["id"]
            if r["status"] != "new":
                root = int(r["dup_ref"]) if r.get("dup_kind") == "item" else None
                story = (out.get(root) or story_of.get(root)) if root is not None else None
                if story is not None:
                    members.append((item, story, None, None))
                    out[item] = story
                continue
            dated = r["published"] or r["fetched_at"]
            when = _when(dated)
            packed = terms[n] if terms is not None else None
            sig = unpack(packed) if packed else signature(r["title"] or "", r["body"] or "")
            story = self.index.assign(when, sig)
            stories.append((item if story is None else story, to_iso(when), r["title"] or ""))  # UTC, as stored
            if story is None:
                story = item
            self.index.add(item, story, when, sig)
            members.append((item, story, pack_member(sig), dated))
            out[item] = story
        self._room.add(stories, members)
        self._upto = max(self._upto or 0, max(r["id"] for r in rows))
        return out
