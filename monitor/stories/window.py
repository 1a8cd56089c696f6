"""The stories' window as read from the store: every item's terms in a few numpy arrays, not Python objects.

Why: a `monitor poll` reads the whole window at its start (every item still holding terms and dated since two
windows before its earliest new item: 64,000 items at 100,000 stored, 160,000 at a million). Added one by one
(StoryIndex.add), each item cost a named tuple, a datetime, two arrays and some 55 posting appends in Python:
seconds of the writer's critical path and about 1.1 KB an item held. Here the rows are read at once into flat
arrays (the items' terms, and the same terms sorted by term as postings), so the load is a few vectorised
passes, and an item becomes Python objects only when it is a candidate of a new item.

`Loaded.build` gives exactly the state the same rows added one by one in the same order would leave in a
StoryIndex that was empty: the same items kept (expiry, too, pops from the front of the order added), the same
terms each once (the title's first, then the lead's not in the title), postings in the order added. So
verdicts do not change; tests/test_stories.py checks this against the one-by-one adds.
"""

from __future__ import annotations

import bisect
from datetime import datetime, timedelta, timezone
from itertools import islice
from typing import Iterable

import numpy as np

__all__ = ["EPOCH", "Loaded", "micros"]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICRO = timedelta(microseconds=1)


def micros(when: datetime) -> int:
    """A date as whole microseconds since the epoch: exact, and orders as the dates do."""
    return (when - EPOCH) // _MICRO


_CHUNK = 8192  # items whose terms are sorted at once: bounds the temporaries (8 bytes a term) of a large window


def _item_terms(blobs: list[bytes], base: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The packed terms of items base, base + 1, ... as (terms, owner, title count): each term once per item
    at its first place (the title's, then the lead's not in the title), as StoryIndex.add keeps them."""
    n = len(blobs)
    flat = np.frombuffer(b"".join(blobs), dtype=np.uint32)
    sizes = np.fromiter((len(b) // 4 for b in blobs), dtype=np.int64, count=n)
    heads = np.zeros(n, dtype=np.int64)
    np.cumsum(sizes[:-1], out=heads[1:])
    local = np.repeat(np.arange(n, dtype=np.int64), sizes)
    place = np.arange(len(flat), dtype=np.int64)
    in_title = place <= (heads + flat[heads])[local]
    keep = np.ones(len(flat), dtype=bool)
    keep[heads] = False  # each blob's first value is its title's count
    _, first = np.unique((local << 32) | flat.astype(np.int64), return_index=True)
    once = np.zeros(len(flat), dtype=bool)
    once[first] = True
    keep &= once
    local, in_title = local[keep], in_title[keep]
    return flat[keep], (local + base).astype(np.int32), np.bincount(local[in_title], minlength=n).astype(np.int32)


class Loaded:
    """The items read from the store at once, oldest added first; `front` of them have expired since."""

    def __init__(self, ids: np.ndarray, stories: np.ndarray, whens: np.ndarray, offsets: np.ndarray,
                 titles: np.ndarray, terms: np.ndarray, post_items: np.ndarray, bounds: np.ndarray,
                 slot: dict[int, int]) -> None:
        self.ids, self.stories, self.whens = ids, stories, whens  # per item, in the order added
        self.offsets, self.titles, self.terms = offsets, titles, terms  # item p's terms: terms[offsets[p]:offsets[p+1]]
        # Term t's items (positions, in the order added): post_items[bounds[k]:bounds[k + 1]], k = slot[t].
        self.post_items, self.bounds, self.slot = post_items, bounds, slot
        self.front = 0
        self._id_list = ids.tolist()

    @classmethod
    def build(cls, rows: Iterable[tuple[int, int, int, bytes]],
              window: timedelta) -> tuple["Loaded", dict[int, int], int] | None:
        """(item id, story id, when in micros(), packed terms) rows, by increasing id, to (Loaded, each term's
        document frequency, the newest when); None when there are none. Rows are read _CHUNK at a time, so the
        packed terms of a large window are never all held as bytes objects at once (at a million stored items,
        160,000 of them). Raises ValueError, before anything is kept, when the ids do not increase."""
        ids: list[int] = []
        stories: list[int] = []
        whens: list[int] = []
        parts = []
        rows = iter(rows)
        while True:
            chunk = list(islice(rows, _CHUNK))
            if not chunk:
                break
            for item, story, when, _ in chunk:
                if ids and item <= ids[-1]:
                    raise ValueError(f"story rows not by increasing id: {item} after {ids[-1]}")
                ids.append(item)
                stories.append(story)
                whens.append(when)
            parts.append(_item_terms([r[3] for r in chunk], len(ids) - len(chunk)))
        if not ids:
            return None
        # Expiry as one-by-one adds do it: each new newest date pops, from the front, items older than it by
        # 2 x window (StoryIndex._expire).
        span, newest, front = 2 * window // _MICRO, whens[0], 0
        for i, w in enumerate(whens):
            if w > newest or i == 0:
                newest = w
                while front <= i and whens[front] < newest - span:
                    front += 1
        n = len(ids) - front
        terms = np.concatenate([p[0] for p in parts])
        owner = np.concatenate([p[1] for p in parts])
        titles = np.concatenate([p[2] for p in parts])[front:]
        del parts
        if front:  # the items the loading itself expired: their terms are the first ones
            cut = int(np.searchsorted(owner, front))
            terms, owner = terms[cut:], owner[cut:] - front
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner, minlength=n), out=offsets[1:])
        order = np.argsort(terms, kind="stable")  # postings: by term, then in the order added
        post_items = owner[order]
        sorted_terms = terms[order]
        del order, owner
        first_at = np.flatnonzero(sorted_terms[1:] != sorted_terms[:-1]) + 1
        first_at = np.concatenate([np.zeros(min(1, len(sorted_terms)), np.int64), first_at])
        uniq = sorted_terms[first_at]
        del sorted_terms
        bounds = np.append(first_at, len(terms)).astype(np.int64)
        counts = np.diff(bounds)
        keys = uniq.tolist()
        loaded = cls(np.array(ids[front:], dtype=np.int64), np.array(stories[front:], dtype=np.int64),
                     np.array(whens[front:], dtype=np.int64), offsets, titles, terms, post_items, bounds,
                     dict(zip(keys, range(len(keys)))))
        return loaded, dict(zip(keys, counts.tolist())), newest

    def __len__(self) -> int:
        return len(self._id_list) - self.front

    def position(self, item: int) -> int | None:
        """Where a live item stands, None when it is not (or no longer) here."""
        p = bisect.bisect_left(self._id_list, item, self.front)
        return p if p < len(self._id_list) and self._id_list[p] == item else None

    def posting(self, term: int) -> list[int]:
        """The live items holding `term` (item ids, in the order added)."""
        k = self.slot.get(term)
        if k is None:
            return []
        positions = self.post_items[self.bounds[k]:self.bounds[k + 1]]
        if self.front:
            positions = positions[np.searchsorted(positions, self.front):]
        return self.ids[positions].tolist()

    def item_terms(self, p: int) -> tuple[list[int], list[int]]:
        """Item p's title terms and lead terms (those not in the title), each once, in text order."""
        a, b = int(self.offsets[p]), int(self.offsets[p + 1])
        cut = a + int(self.titles[p])
        return self.terms[a:cut].tolist(), self.terms[cut:b].tolist()

    def expire(self, horizon: int) -> list[list[int]]:
        """Drop from the front the items dated before `horizon` (micros); returns each one's terms."""
        gone = []
        while self.front < len(self._id_list) and int(self.whens[self.front]) < horizon:
            title, lead = self.item_terms(self.front)
            gone.append(title + lead)
            self.front += 1
        return gone
