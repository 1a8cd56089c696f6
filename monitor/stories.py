"""Stories: the new items of different feeds and days that report the same event, grouped under one stable id.

Why not the duplicate fingerprints: outlets write the same event in their own words. Two leads about one
meeting share its names, places, numbers and verbs, but rarely a run of three words in a row, so the word
3-shingles dedup uses (monitor.dedup) fall below any useful containment, while copies are already caught there
(a duplicate joins its root's story without being compared again; see the writer). Here an item is the *bag of
words* of its title and lead, in the same fold as dedup and the matcher (monitor.text.Words), weighted by how
rare each word is among the items of the window (idf), titles counting double; two items are similar by the
cosine of those weights.

What keeps two meetings of the same people apart: names are what every item about them shares, so they are
the words the window holds most often and weigh least; what differs between two meetings (the place, the
date, the topic, the numbers, the verb: «تماس تلفنی» vs «دیدار در مسکو») weighs most. An item joins the story
of its most similar earlier item (single link) when that similarity reaches THRESHOLD and the two are at most
WINDOW apart; else it starts a story of its own. Nothing is re-clustered later, so a story's id (the id of its
first item) never changes. THRESHOLD and the weights were chosen on fixtures/stories/dev.jsonl and checked on
heldout.jsonl (bench/stories.py prints the table; see fixtures/stories/README.md for the figures).

Pure: no store, no I/O. `signature()` turns a text into the terms kept for it (stored with the item, so an
index can be rebuilt without the text work); `StoryIndex` holds the window's items and answers which story a
new item joins.
"""

from __future__ import annotations

import heapq
import math
import zlib
from collections import deque
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, NamedTuple, Protocol, Sequence

from monitor.text import PREFIXES, SUFFIXES, Words, fold, strip_boilerplate

__all__ = ["Assigner", "Signature", "StoryIndex", "StoryRoom", "cluster", "pack", "pairwise", "signature", "unpack",
           "THRESHOLD", "WINDOW", "LEAD_WORDS"]

WINDOW = timedelta(days=3)  # items further apart than this are never one story (Europe Media Monitor: days)
LEAD_WORDS = 45  # the lead: what every outlet's version of an event states first
THRESHOLD = 0.2  # cosine; measured on the dev split (bench/stories.py)
TITLE_WEIGHT = 2.0
# A term held by more items of the window than this says nothing about which event an item reports, and its
# postings would make every lookup cost grow with the window: it is skipped when looking for candidates.
COMMON_TERM_ITEMS = 400
CANDIDATES = 12  # candidates by partial score whose full cosine is computed
SEARCH_TERMS = 16  # the heaviest terms of an item, whose postings find its candidates
MIN_WORD = 2
# The similarity of two items shrinks with the time between them: by DECAY of itself at WINDOW apart. Coverage
# of one event comes within hours; the same people meeting again days later must be much more alike to be one
# story (dev split: F1 0.78 without, 0.99 with 0.8).
DECAY = 0.8
# Each word of more than PREFIX letters also counts as its first PREFIX letters: «سیل», «سیلاب» and «سیل‌زده»,
# «مصدوم» and «مصدومان» meet there without a stemmer (hazm's damages names: persian-text.md).
PREFIX = 4

# Words every news item has, whatever it reports: function words, reporting verbs, agency names.
_STOPWORDS = frozenset(fold(w) for w in """
    و در به از که این آن با را برای است بود شد شده شود کرد کرده کند کنند کردند می نمی خود یک تا بر هم نیز اما یا
    پس ای دیگر همچنین گفت گفته گفتند اعلام امروز روز هفته گزارش نقل ایرنا ایسنا تسنیم فارس مهر خبرآنلاین
    خبرگزاری انتهای پیام منبع اینکه آنها او وی ما بین پیش پی باید داد دارد دارند نیز هر همه چند ها های
    درباره خبر داده
""".split())


class Signature(NamedTuple):
    """The terms of one item: of its title and of its lead (31-bit word hashes, in text order, each once)."""

    title: tuple[int, ...]
    lead: tuple[int, ...]


def _words(text: str) -> list[str]:
    """Folded words with detached affixes joined as the fingerprints join them («همکاری های» = «همکاریهای»),
    then a plural or relational ending taken off, so «تحریم‌ها» and «تحریم» count as one word."""
    out: list[str] = []
    prefix = ""
    for w in Words(text).texts:
        if w in PREFIXES:
            prefix += w
            continue
        w, prefix = prefix + w, ""
        if w in SUFFIXES and out:
            out[-1] += w
            continue
        out.append(w)
    stems = []
    for w in out:
        for ending in ("هایی", "های", "ها"):
            if w.endswith(ending) and len(w) - len(ending) >= 3:
                w = w[: -len(ending)]
                break
        if len(w) >= MIN_WORD and w not in _STOPWORDS:
            stems.append(w)
            if len(w) > PREFIX:
                stems.append(w[:PREFIX] + "~")
    return stems


def _term(word: str) -> int:
    return zlib.crc32(word.encode("utf-8")) & 0x7FFFFFFF


def signature(title: str, body: str) -> Signature:
    """The terms of an item's title and lead (the first LEAD_WORDS words of its body, boilerplate removed)."""
    lead = _words(" ".join(strip_boilerplate(body).split()[: LEAD_WORDS + 10]))[:LEAD_WORDS]
    return Signature(_ordered(_term(w) for w in _words(title)), _ordered(_term(w) for w in lead))


def _ordered(terms: Iterable[int]) -> tuple[int, ...]:
    """Terms in text order, each once (at its first place): the order tells a name's words from scattered ones."""
    return tuple(dict.fromkeys(terms))


def pack(sig: Signature) -> bytes:
    """A signature as bytes to store: the title's count, then every term, 4 bytes each."""
    import array

    data = array.array("I", [len(sig.title), *sig.title, *sig.lead])
    return data.tobytes()


def unpack(data: bytes) -> Signature:
    import array

    values = array.array("I")
    values.frombytes(data)
    n = values[0]
    return Signature(tuple(values[1:1 + n]), tuple(values[1 + n:]))


class _Entry(NamedTuple):
    item: int
    story: int
    when: datetime
    terms: dict[int, float]  # term -> its boost (TITLE_WEIGHT for title terms, 1 for lead terms)


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

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, item: int) -> bool:
        return item in self._entries

    @staticmethod
    def _terms(sig: Signature) -> dict[int, float]:
        terms = dict.fromkeys(sig.lead, 1.0)
        for t in sig.title:
            terms[t] = TITLE_WEIGHT
        return terms

    def _idf(self, term: int) -> float:
        return math.log(1.0 + (len(self._entries) + 1) / (self._df.get(term, 0) + 1))

    def assign(self, when: datetime, sig: Signature) -> int | None:
        """The story a new item dated `when` joins, or None: its own. Does not add it (call `add`)."""
        return self.best(when, sig)[0]

    def best(self, when: datetime, sig: Signature) -> tuple[int | None, float]:
        """(story, similarity) of the most similar item within the window, story None below the threshold."""
        terms = self._terms(sig)
        if not terms or not self._entries:
            return None, 0.0
        n = len(self._entries) + 1
        df, postings, log = self._df, self._postings, math.log
        idf: dict[int, float] = {}

        def weight(t: int) -> float:
            w = idf.get(t)
            if w is None:
                w = idf[t] = log(1.0 + n / (df.get(t, 0) + 1))
            return w

        weights = {t: b * weight(t) for t, b in terms.items()}
        # Candidates: the items sharing one of the item's SEARCH_TERMS heaviest terms. An item sharing none of
        # them shares only light words and could not reach the threshold; the full cosine is computed below.
        partial: dict[int, float] = {}
        for t in heapq.nlargest(SEARCH_TERMS, weights, key=weights.__getitem__):
            posting = postings.get(t)
            if not posting or len(posting) > COMMON_TERM_ITEMS:
                continue
            w = weights[t]
            for item in posting:
                partial[item] = partial.get(item, 0.0) + w
        if not partial:
            return None, 0.0
        norm = math.sqrt(sum(w * w for w in weights.values()))
        best_story, best_score = None, 0.0
        for item in heapq.nlargest(CANDIDATES, partial, key=partial.__getitem__):
            entry = self._entries[item]
            if abs(entry.when - when) > self.window:
                continue
            mine = entry.terms
            dot = sum(w * mine[t] * idf[t] for t, w in weights.items() if t in mine)
            score = dot / (norm * math.sqrt(sum((b * weight(t)) ** 2 for t, b in mine.items())) or 1.0)
            score *= 1.0 - DECAY * abs(entry.when - when) / self.window
            if score > best_score:
                best_story, best_score = entry.story, score
        return (best_story if best_score >= self.threshold else None), best_score

    def add(self, item: int, story: int, when: datetime, sig: Signature) -> None:
        """Remember an item of `story` (the story's id is its first item's id)."""
        if item in self._entries:
            return
        terms = self._terms(sig)
        self._entries[item] = _Entry(item, story, when, terms)
        self._order.append((when, item))

        for t in terms:
            self._postings.setdefault(t, deque()).append(item)
            self._df[t] = self._df.get(t, 0) + 1
        if self._newest is None or when > self._newest:
            self._newest = when
            self._expire()

    def _expire(self) -> None:
        assert self._newest is not None
        horizon = self._newest - 2 * self.window  # kept a little longer: late items are compared by their date
        while self._order and self._order[0][0] < horizon:
            _, item = self._order.popleft()
            entry = self._entries.pop(item, None)
            if entry is None:
                continue
            for t in entry.terms:
                posting = self._postings[t]
                if posting[0] == item:  # postings are in the order added, as the items expire
                    posting.popleft()
                else:
                    posting.remove(item)
                self._df[t] -= 1
                if not posting:
                    del self._postings[t], self._df[t]


class StoryRoom(Protocol):
    """What the assigner asks of the stored stories: store.stories satisfies it."""

    def recent(self, since: str | None, after_item: int) -> list[tuple[int, int, str, bytes]]: ...
    def of_items(self, ids: Iterable[int]) -> dict[int, int]: ...
    def add(self, stories: Sequence[tuple[int, str, str]], members: Sequence[tuple[int, int, bytes | None]]) -> None: ...


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
            since = (min(dated) - 2 * self.index.window).isoformat() if dated else None
        for item, story, when, terms in self._room.recent(since, self._upto or 0):
            self.index.add(item, story, _when(when), unpack(terms))
            self._upto = max(self._upto or 0, item)
        self._upto = self._upto or 0

    def assign(self, rows: Sequence[dict[str, Any]]) -> dict[int, int]:
        """Store the story of each row (the items table's columns: id, title, body, published, fetched_at,
        status, dup_kind, dup_ref), in order; returns item id -> story id of those that have one."""
        if not rows:
            return {}
        self._refresh(rows)
        roots = [int(r["dup_ref"]) for r in rows if r["status"] != "new" and r.get("dup_kind") == "item"]
        story_of = self._room.of_items(roots) if roots else {}
        stories, members, out = [], [], {}
        for r in rows:
            item = r["id"]
            if r["status"] != "new":
                root = int(r["dup_ref"]) if r.get("dup_kind") == "item" else None
                story = (out.get(root) or story_of.get(root)) if root is not None else None
                if story is not None:
                    members.append((item, story, None))
                    out[item] = story
                continue
            when = _when(r["published"] or r["fetched_at"])
            sig = signature(r["title"] or "", r["body"] or "")
            story = self.index.assign(when, sig)
            stories.append((item if story is None else story, when.isoformat(), r["title"] or ""))
            if story is None:
                story = item
            self.index.add(item, story, when, sig)
            members.append((item, story, pack(sig)))
            out[item] = story
        self._room.add(stories, members)
        self._upto = max(self._upto or 0, max(r["id"] for r in rows))
        return out


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
