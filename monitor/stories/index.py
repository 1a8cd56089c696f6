"""The window of recent items and the story a new item joins: idf-weighted cosine, decayed by time."""

from __future__ import annotations

import array
import math
from collections import deque
from datetime import datetime, timedelta
from typing import Iterable, Iterator, NamedTuple, Sequence

from monitor.stories.terms import Signature, signature, unpack
from monitor.stories.window import EPOCH, Loaded, micros

__all__ = ["StoryIndex", "THRESHOLD", "WINDOW", "cluster", "pairwise"]

WINDOW = timedelta(days=3)  # items further apart than this are never one story (Europe Media Monitor: days)
THRESHOLD = 0.2  # cosine; measured on the dev split (bench/stories.py)
TITLE_WEIGHT = 2.0
# A term held by more items of the window than this says nothing about which event an item reports, and its
# postings would make every lookup cost grow with the window: it is skipped when looking for candidates.
COMMON_TERM_ITEMS = 100
CANDIDATES = 4  # candidates by partial score whose full cosine is computed
SEARCH_TERMS = 16  # the heaviest terms of an item, whose postings find its candidates
# The similarity of two items shrinks with the time between them: by DECAY of itself at WINDOW apart. Coverage
# of one event comes within hours; the same people meeting again days later must be much more alike to be one
# story (dev split: F1 0.70 without, 0.99 with 0.8).
DECAY = 0.8


class _Entry(NamedTuple):
    """One item of the window. Its terms are kept as two arrays of 4-byte ints, not a dict of boosts: a cold
    poll holds every item of the window at once, and a dict of some 55 int objects per item made the window
    about 3.2 KB an item (64 MB for a 20,000-item first poll); arrays take about a third of that."""

    item: int
    story: int
    when: datetime
    title: array.array  # the title's terms (boost TITLE_WEIGHT)
    lead: array.array  # the lead's terms not in the title (boost 1)

    def boosts(self) -> Iterator[tuple[int, float]]:
        for t in self.title:
            yield t, TITLE_WEIGHT
        for t in self.lead:
            yield t, 1.0


class StoryIndex:
    """The items of the last WINDOW (by their dates), and which story each belongs to.

    `add` records an item with its story (from the store, or after `assign`); `assign` says which story a new
    item joins (a story id) or None for a story of its own. Items are forgotten once they are more than
    WINDOW older than the newest item seen (an item dated out of order is still compared by its own date)."""

    def __init__(self, threshold: float = THRESHOLD, window: timedelta = WINDOW) -> None:
        self.threshold, self.window = threshold, window
        self._entries: dict[int, _Entry] = {}
        self._order: deque[tuple[datetime, int]] = deque()  # (when, item) in the order added
        self._postings: dict[int, deque[int]] = {}
        self._df: dict[int, int] = {}
        self._newest: datetime | None = None
        self._loaded: Loaded | None = None  # the window read from the store at once (load), before the entries

    def __len__(self) -> int:
        return len(self._entries) + (len(self._loaded) if self._loaded is not None else 0)

    def __contains__(self, item: int) -> bool:
        return item in self._entries or (self._loaded is not None and self._loaded.position(item) is not None)

    def load(self, chunks: Iterable[Sequence[tuple[int, int, int, bytes]]]) -> None:
        """Add (item id, story id, date in micros(), packed terms) rows, given in lists (as the store reads them),
        by increasing id, as `add` one by one would, but held as arrays when the index is empty
        (monitor.stories.window says why): what the writer reads from the store at its start. Raises
        ValueError, the index unchanged, when an empty index is given rows whose ids do not increase."""
        if len(self) or self._loaded is not None:
            for chunk in chunks:
                for item, story, when, terms in chunk:
                    self.add(item, story, EPOCH + timedelta(microseconds=when), unpack(terms))
            return
        built = Loaded.build(chunks, self.window)
        if built is not None:
            self._loaded, self._df, newest = built
            self._newest = EPOCH + timedelta(microseconds=newest)

    def _entry(self, item: int) -> _Entry:
        entry = self._entries.get(item)
        if entry is None:  # one of the loaded items: made when it is a candidate
            assert self._loaded is not None
            loaded, p = self._loaded, self._loaded.position(item)
            assert p is not None
            title, lead = loaded.item_terms(p)
            entry = _Entry(item, int(loaded.stories[p]), EPOCH + timedelta(microseconds=int(loaded.whens[p])),
                           title, lead)  # type: ignore[arg-type]
        return entry

    @staticmethod
    def _terms(sig: Signature) -> dict[int, float]:
        terms = dict.fromkeys(sig.lead, 1.0)
        for t in sig.title:
            terms[t] = TITLE_WEIGHT
        return terms

    def assign(self, when: datetime, sig: Signature) -> int | None:
        """The story a new item dated `when` joins, or None: its own. Does not add it (call `add`)."""
        return self.best(when, sig)[0]

    def best(self, when: datetime, sig: Signature) -> tuple[int | None, float]:
        """(story, similarity) of the most similar item within the window, story None below the threshold."""
        terms = self._terms(sig)
        if not terms or not len(self):
            return None, 0.0
        n = len(self) + 1
        loaded = self._loaded
        df, postings, log = self._df, self._postings, math.log
        df_get = df.get
        # The same float operations, in the same order, as computing each weight by a call: this loop and the
        # candidates' below run for every new item (speed issue 19: the writer's per-item Python), so the idf is
        # written inline, cached per call, and sorted() (C) stands for heapq.nlargest (its documented equal,
        # ties included).
        idf: dict[int, float] = {}
        weights: dict[int, float] = {}
        for t, b in terms.items():
            w = idf[t] = log(1.0 + n / (df_get(t, 0) + 1))
            weights[t] = b * w
        # Candidates: the items sharing one of the item's SEARCH_TERMS heaviest terms. An item sharing none of
        # them shares only light words and could not reach the threshold; the full cosine is computed below.
        partial: dict[int, float] = {}
        partial_get = partial.get
        for t in sorted(weights, key=weights.__getitem__, reverse=True)[:SEARCH_TERMS]:
            held = df_get(t, 0)  # how many items of the window hold t: its postings' length
            if not held or held > COMMON_TERM_ITEMS:
                continue
            w = weights[t]
            if loaded is not None:  # the loaded items were added first
                for item in loaded.posting(t):
                    partial[item] = partial_get(item, 0.0) + w
            for item in postings.get(t, ()):
                partial[item] = partial_get(item, 0.0) + w
        if not partial:
            return None, 0.0
        norm = math.sqrt(sum(w * w for w in weights.values()))
        best_story, best_score = None, 0.0
        weights_get, idf_get = weights.get, idf.get
        for item in sorted(partial, key=partial.__getitem__, reverse=True)[:CANDIDATES]:
            entry = self._entry(item)
            if abs(entry.when - when) > self.window:
                continue
            dot = mine_norm = 0.0
            for t in entry.title:  # boost TITLE_WEIGHT
                w = idf_get(t)
                if w is None:
                    w = idf[t] = log(1.0 + n / (df_get(t, 0) + 1))
                w = TITLE_WEIGHT * w
                mine_norm += w * w
                x = weights_get(t)
                if x is not None:
                    dot += x * w
            for t in entry.lead:  # boost 1.0: 1.0 * w is w
                w = idf_get(t)
                if w is None:
                    w = idf[t] = log(1.0 + n / (df_get(t, 0) + 1))
                mine_norm += w * w
                x = weights_get(t)
                if x is not None:
                    dot += x * w
            score = dot / (norm * math.sqrt(mine_norm) or 1.0)
            score *= 1.0 - DECAY * abs(entry.when - when) / self.window
            if score > best_score:
                best_story, best_score = entry.story, score
        return (best_story if best_score >= self.threshold else None), best_score

    def add(self, item: int, story: int, when: datetime, sig: Signature) -> None:
        """Remember an item of `story` (the story's id is its first item's id)."""
        if item in self:
            return
        # The terms of _terms(sig), split by boost without building its dict: the title's (TITLE_WEIGHT), then
        # the lead's not in the title (1.0), each once. Called for every item of the window a poll loads and for
        # every new item (speed issue: the writer's per-item cost), so no deque is made for a term that has one.
        title = dict.fromkeys(sig.title)
        lead = [t for t in dict.fromkeys(sig.lead) if t not in title]
        self._entries[item] = _Entry(item, story, when, array.array("I", title), array.array("I", lead))
        self._order.append((when, item))
        postings, df = self._postings, self._df
        for terms in (title, lead):
            for t in terms:
                posting = postings.get(t)
                if posting is None:
                    postings[t] = deque((item,))
                else:
                    posting.append(item)
                df[t] = df.get(t, 0) + 1
        if self._newest is None or when > self._newest:
            self._newest = when
            self._expire()

    def _expire(self) -> None:
        assert self._newest is not None
        horizon = self._newest - 2 * self.window  # kept a little longer: late items are compared by their date
        df = self._df
        if self._loaded is not None:  # the loaded items come first in the order added
            for terms in self._loaded.expire(micros(horizon)):
                for t in terms:
                    df[t] -= 1
                    if not df[t]:
                        del df[t]
            if len(self._loaded):
                return
            self._loaded = None  # every loaded item expired: its arrays go
        while self._order and self._order[0][0] < horizon:
            _, item = self._order.popleft()
            entry = self._entries.pop(item, None)
            if entry is None:
                continue
            for t, _ in entry.boosts():
                posting = self._postings[t]
                if posting[0] == item:  # postings are in the order added, as the items expire
                    posting.popleft()
                else:
                    posting.remove(item)
                if not posting:
                    del self._postings[t]
                df[t] -= 1
                if not df[t]:
                    del df[t]


def cluster(items: Iterable[tuple[int, datetime, str, str]], threshold: float = THRESHOLD) -> dict[int, int]:
    """item id -> story id for (id, when, title, body) in arrival order: what the writer does, without a store
    (bench/stories.py and the tests measure it)."""
    index = StoryIndex(threshold)
    out: dict[int, int] = {}
    for item, when, title, body in items:
        sig = signature(title, body)
        story = index.assign(when, sig)
        out[item] = item if story is None else story
        index.add(item, out[item], when, sig)
    return out


def pairwise(gold: Sequence[str], predicted: Sequence[int]) -> tuple[float, float, float]:
    """Pairwise precision, recall and F1 of a clustering against gold labels (parallel sequences)."""
    from collections import Counter

    both = Counter(zip(gold, predicted))
    same_both = sum(n * (n - 1) // 2 for n in both.values())
    same_pred = sum(n * (n - 1) // 2 for n in Counter(predicted).values())
    same_gold = sum(n * (n - 1) // 2 for n in Counter(gold).values())
    precision = same_both / same_pred if same_pred else 1.0
    recall = same_both / same_gold if same_gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
