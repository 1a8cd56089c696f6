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
import sys
from datetime import datetime, timedelta, timezone
from typing import Iterable, Sequence

import numpy as np

from monitor.stories.terms import MEMBER_FLAG

__all__ = ["EPOCH", "Loaded", "micros"]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICRO = timedelta(microseconds=1)


def micros(when: datetime) -> int:
    """A date as whole microseconds since the epoch: exact, and orders as the dates do."""
    return (when - EPOCH) // _MICRO


def _item_terms(blobs: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The packed terms of some items as (terms, count per item, title count per item): each term once per item
    at its first place (the title's, then the lead's not in the title), as StoryIndex.add keeps them. Blobs
    packed as members (terms.pack_member) are that already; others (pack: a lead may repeat a title's term)
    are made so by one sort of the chunk."""
    n = len(blobs)
    flat = np.frombuffer(b"".join(blobs), dtype=np.uint32)
    sizes = np.fromiter(map(len, blobs), dtype=np.int64, count=n) // 4
    heads = np.zeros(n, dtype=np.int64)
    np.cumsum(sizes[:-1], out=heads[1:])
    words = flat[heads]
    titles = (words & np.uint32(MEMBER_FLAG - 1)).astype(np.int32)
    keep = np.ones(len(flat), dtype=bool)
    keep[heads] = False  # each blob's first value is its title's count
    if not (words & np.uint32(MEMBER_FLAG)).all():
        local = np.repeat(np.arange(n, dtype=np.int64), sizes)
        _, first = np.unique((local << 32) | flat.astype(np.int64), return_index=True)
        once = np.zeros(len(flat), dtype=bool)
        once[first] = True
        keep &= once
        counts = np.bincount(local[keep], minlength=n)
    else:
        counts = sizes - 1
    return flat[keep], counts, titles


def _postings(terms: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each item's terms (item p's at terms[offsets[p]:offsets[p + 1]]) turned round into postings: (the
    positions of the items holding each term, by term then in the order added; the distinct terms, increasing;
    where each one's positions start).

    The (term, position) pairs are sorted as one 64-bit key each, a bucket of terms at a time (those whose top
    five bits are b: the buckets follow each other in term order, so the output is that of one sort of all keys).
    Terms are 31-bit (terms.MEMBER_FLAG is the top bit), so about a sixteenth of them falls in each of the first
    sixteen buckets; empty ones are passed over. One key array of all terms was the largest temporary of the
    writer's start at a million stored items (48 MB for six million terms, bench/growth.py); a bucket's is a
    sixteenth of it (for a little more time: the buckets are picked out one by one). Each term is once per item,
    so the order by key is by term, then in the order added (what one-by-one appends leave)."""
    n_terms = len(terms)
    post_items = np.empty(n_terms, dtype=np.int32)
    top = np.empty(n_terms, dtype=np.uint8)
    np.right_shift(terms, np.uint32(27), out=top, casting="unsafe")
    low, high = (0, 1) if sys.byteorder == "little" else (1, 0)
    uniq_parts, first_parts, at = [], [], 0
    for b in range(int(top.max()) + 1 if n_terms else 0):
        where = np.flatnonzero(top == b)
        if not len(where):
            continue
        key = terms[where].astype(np.uint64)
        key <<= np.uint64(32)
        key |= (np.searchsorted(offsets, where, side="right") - 1).astype(np.uint64)  # the item of each term
        del where
        key.sort(kind="stable")  # timsort: faster here than the default introsort on these keys
        halves = key.view(np.uint32).reshape(-1, 2)  # the keys' two halves read in place
        post_items[at:at + len(key)] = halves[:, low]
        sorted_terms = halves[:, high]
        first = np.flatnonzero(sorted_terms[1:] != sorted_terms[:-1]) + 1
        first_parts.append(np.concatenate([np.zeros(1, np.int64), first]) + at)
        uniq_parts.append(sorted_terms[first_parts[-1] - at])
        at += len(key)
        del key, halves, sorted_terms
    if not uniq_parts:
        return post_items, np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.int64)
    return post_items, np.concatenate(uniq_parts), np.concatenate(first_parts)


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
    def build(cls, chunks: Iterable[Sequence[tuple[int, int, int, bytes]]],
              window: timedelta) -> tuple["Loaded", dict[int, int], int] | None:
        """(item id, story id, when in micros(), packed terms) rows, in lists (as the store reads them), by
        increasing id, to (Loaded, each term's document frequency, the newest when); None when there are none.
        Each list becomes arrays as it comes, so the packed terms of a large window are never all held as bytes
        objects at once (at a million stored items, 160,000 of them). Raises ValueError, before anything is
        kept, when the ids do not increase."""
        id_parts, story_parts, when_parts, term_parts, count_parts, title_parts = [], [], [], [], [], []
        last = None
        for chunk in chunks:
            if not chunk:
                continue
            c_ids, c_stories, c_whens, blobs = zip(*chunk)
            ids = np.array(c_ids, dtype=np.int64)
            if (last is not None and ids[0] <= last) or not (ids[1:] > ids[:-1]).all():
                raise ValueError(f"story rows not by increasing id after {last if last is not None else ids[0]}")
            last = int(ids[-1])
            terms, counts, titles = _item_terms(blobs)
            id_parts.append(ids)
            story_parts.append(np.array(c_stories, dtype=np.int64))
            when_parts.append(np.array(c_whens, dtype=np.int64))
            term_parts.append(terms)
            count_parts.append(counts)
            title_parts.append(titles)
        if not id_parts:
            return None
        whens = np.concatenate(when_parts)
        # Expiry as one-by-one adds do it: each new newest date pops, from the front, items older than it by
        # 2 x window (StoryIndex._expire).
        span, front = 2 * window // _MICRO, 0
        dates = whens.tolist()
        newest = dates[0]
        for i, w in enumerate(dates):
            if w > newest or i == 0:
                newest = w
                while front <= i and dates[front] < newest - span:
                    front += 1
        counts = np.concatenate(count_parts)
        # The terms of the items the loading itself expired are left out as the parts are joined.
        skip, kept = int(counts[:front].sum()), []
        counts = counts[front:]
        for part in term_parts:
            if skip >= len(part):
                skip -= len(part)
                continue
            kept.append(part[skip:])
            skip = 0
        del term_parts
        terms = np.concatenate(kept) if kept else np.zeros(0, dtype=np.uint32)
        del kept
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        post_items, uniq, first_at = _postings(terms, offsets)
        bounds = np.append(first_at, len(terms)).astype(np.int64)
        keys = uniq.tolist()
        loaded = cls(np.concatenate(id_parts)[front:], np.concatenate(story_parts)[front:], whens[front:].copy(),
                     offsets, np.concatenate(title_parts)[front:], terms, post_items, bounds,
                     dict(zip(keys, range(len(keys)))))
        return loaded, dict(zip(keys, np.diff(bounds).tolist())), newest

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
