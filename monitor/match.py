"""The watch-term matcher: finds watched parties, figures and countries in text, however they are spelled.

Matching runs on the *compact* form of a text: its fold (monitor.text.fold), i.e. the concatenation of its
folded words with all separators removed, plus the positions where words start and end. Terms are compacted
the same way, so a name written joined matches it written split, half-spaced or hyphenated and the reverse
(«محمدعلی» = «محمد علی» = «محمد‌علی»). Substrings never count: a hit must start at a word start and end at a
word end, or at an allowed suffix that itself ends the word («مؤتلفه‌ای‌ها»), so «امانی» is not found in
«سامانی» or «بی‌امانی». One Aho-Corasick automaton over every term of every entry is compiled once.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import ahocorasick

from monitor.models import Match, WatchEntry
from monitor.text import Words, fold, strip_boilerplate, token_columns

__all__ = ["Hit", "Matcher", "DEFAULT_SUFFIXES", "snippet"]

_NOUN_SUFFIXES = ("ها", "های", "هایی", "ای", "ایها", "ایهای", "ی", "یها", "یان")
# Attached suffixes allowed after a term, by kind. Names of people take none: «امانی» + «ی» is another word.
DEFAULT_SUFFIXES: dict[str, tuple[str, ...]] = {
    "party": _NOUN_SUFFIXES,
    "country": _NOUN_SUFFIXES,
    "other": _NOUN_SUFFIXES,
    "figure": (),
}

# An inner word ending in one of these letters may carry a written ezafe «ی» («موتلفه‌ی», «آقای»); after a
# consonant the ezafe is a kasra, which folding removes anyway.
_EZAFE_AFTER = ("ه", "ا", "و")
_EZAFE = "ی"
_MAX_EZAFE_WORDS = 6  # 2**6 variants at most per term

_TERM, _EXCLUDE = 0, 1


class Hit(NamedTuple):
    """One occurrence: the entry's name and kind, the configured term, and its [start, end) in the original.

    The span runs from the first to the last word the hit touches, attached suffix included: for the term
    «مؤتلفه» in «مؤتلفه‌ای‌ها» it covers the whole word.
    """

    watch: str
    kind: str
    term: str
    start: int
    end: int


class _RawHit(NamedTuple):
    entry: int
    term: int  # index into the entry's terms
    first: int  # first token index
    last: int  # last token index (inclusive)
    length: int  # compact length, suffix included


def _variants(phrase: str) -> set[str]:
    """Compact forms of a term or exclude phrase: its fold, plus written-ezafe forms of its inner words."""
    words = token_columns(phrase)[0]
    if not words:
        return set()
    choices: list[tuple[str, ...]] = []
    eligible = 0
    for i, word in enumerate(words):
        inner = i < len(words) - 1
        if inner and word.endswith(_EZAFE_AFTER) and eligible < _MAX_EZAFE_WORDS:
            eligible += 1
            choices.append((word, word + _EZAFE))
        else:
            choices.append((word,))
    return {"".join(combo) for combo in itertools.product(*choices)}


class Matcher:
    """All watch entries compiled into one automaton; find() and matches() never recompile."""

    def __init__(self, entries: Sequence[WatchEntry]) -> None:
        self._entries = tuple(entries)
        self._suffixes = [self._suffix_set(e) for e in self._entries]
        keys: dict[str, list[tuple[int, int, int]]] = {}
        for ei, entry in enumerate(self._entries):
            for ti, term in enumerate(entry.terms):
                for key in _variants(term):
                    keys.setdefault(key, []).append((ei, _TERM, ti))
            for xi, phrase in enumerate(entry.exclude):
                for key in _variants(phrase):
                    keys.setdefault(key, []).append((ei, _EXCLUDE, xi))
        self._automaton: ahocorasick.Automaton | None = None
        if keys:
            automaton = ahocorasick.Automaton()
            for key, values in keys.items():
                automaton.add_word(key, (len(key), tuple(values)))
            automaton.make_automaton()
            self._automaton = automaton

    @staticmethod
    def _suffix_set(entry: WatchEntry) -> frozenset[str]:
        suffixes: Iterable[str] = entry.suffixes if entry.suffixes is not None \
            else DEFAULT_SUFFIXES.get(entry.kind, ())
        return frozenset(f for f in (fold(s) for s in suffixes) if f)

    def find(self, text: str) -> list[Hit]:
        """Every hit in text, sorted by start; overlapping hits of one entry collapsed to the longest."""
        hits, words = self._find(text)
        result = []
        for h in hits:
            entry = self._entries[h.entry]
            result.append(Hit(entry.name, entry.kind, entry.terms[h.term], words.span(h.first)[0],
                              words.span(h.last)[1]))
        return result

    def matches(self, text: str, snippet_chars: int = 240, words: Words | None = None) -> list[Match]:
        """One Match per entry found, in config order, with the terms found, a hit count and a snippet: the
        sentence around the first hit (cut to about snippet_chars around the hit when longer), as written;
        the pipeline turns it into display text. `words`, when the caller has it, must be Words(text)."""
        hits, words = self._find(text, words)
        by_entry: dict[int, list[_RawHit]] = {}
        for h in hits:
            by_entry.setdefault(h.entry, []).append(h)
        result = []
        for ei in sorted(by_entry):
            entry, found = self._entries[ei], by_entry[ei]
            term_ids = sorted({h.term for h in found})
            terms = tuple(dict.fromkeys(entry.terms[i] for i in term_ids))
            first = found[0]  # hits are sorted by start
            snippet = _snippet(text, words.span(first.first)[0], words.span(first.last)[1], snippet_chars)
            result.append(Match(entry.name, entry.kind, terms, len(found), snippet))
        return result

    def item_matches(self, title: str, body: str, snippet_chars: int = 240) -> list[Match]:
        """matches() of a feed item: its title and its body without related-headline and "read more" blocks
        (text.strip_boilerplate, the text duplicate detection compares too): a watched name that appears
        only in a list of other articles' headlines is not a mention of this one."""
        return self.matches(f"{title}\n{strip_boilerplate(body)}", snippet_chars)

    def candidates(self, folds: Sequence[str]) -> set[int]:
        """Indexes of the texts, given by their folds (text.fold), in which some term or exclude phrase occurs
        at all, word boundaries aside: the only texts matches() can find anything in. One automaton pass over
        all of them joined (speed issue: a feed's items in one call); a hit across two texts' seam is only a
        candidate, which matches() then rejects."""
        if self._automaton is None or not folds:
            return set()
        ends = list(itertools.accumulate(map(len, folds)))
        found: set[int] = set()
        for end_index, (length, _) in self._automaton.iter("".join(folds)):
            first = bisect_right(ends, end_index - length + 1)
            last = bisect_right(ends, end_index)
            found.update(range(first, last + 1))
        return found

    def _find(self, text: str, words: Words | None = None) -> tuple[list[_RawHit], Words]:
        """Raw hits sorted by start, and the words of text (whose spans the hits' token indexes refer to).

        The automaton runs once over the whole compact text; word boundaries are checked in the compact form
        (a binary search over word ends), and offsets into the original are computed only when something
        was hit. No Python loop runs per character or per word.
        """
        if words is None:
            words = Words(text)
        if self._automaton is None or not words.texts:
            return [], words
        texts = words.texts
        compact = "".join(texts)
        candidates = list(self._automaton.iter(compact))
        if not candidates:  # the common case
            return [], words
        # Token i spans compact[cends[i-1]:cends[i]]: the compact form has no gaps, so word starts are
        # 0 and the word ends, and a binary search tells whether a position is a boundary.
        cends = list(itertools.accumulate(map(len, texts)))
        terms: dict[int, list[_RawHit]] = {}
        excludes: dict[int, list[tuple[int, int]]] = {}
        for end_index, (length, values) in candidates:
            begin, stop = end_index + 1 - length, end_index + 1
            if begin == 0:
                first = 0
            else:
                before = bisect_left(cends, begin)
                if cends[before] != begin:
                    continue  # starts inside a word: «امانی» in «سامانی»
                first = before + 1
            last = bisect_left(cends, stop)  # the word containing position stop - 1
            exact = cends[last] == stop
            for ei, what, idx in values:
                if not exact and compact[stop:cends[last]] not in self._suffixes[ei]:
                    continue
                if what == _TERM:
                    terms.setdefault(ei, []).append(_RawHit(ei, idx, first, last, cends[last] - begin))
                else:
                    excludes.setdefault(ei, []).append((first, last))
        hits: list[_RawHit] = []
        for ei, found in terms.items():
            hits.extend(_collapse(_drop_excluded(found, excludes.get(ei, []))))
        hits.sort(key=lambda h: (h.first, -h.length, h.entry, h.term))
        return hits, words


def _drop_excluded(hits: list[_RawHit], excluded: list[tuple[int, int]]) -> list[_RawHit]:
    """Hits not fully covered by an occurrence of one of the entry's exclude phrases."""
    if not excluded:
        return hits
    excluded = sorted(excluded)
    firsts = [a for a, _ in excluded]
    reach = list(itertools.accumulate((b for _, b in excluded), max))  # furthest end among those starting <= a
    kept = []
    for h in hits:
        i = bisect_right(firsts, h.first)
        if i == 0 or reach[i - 1] < h.last:
            kept.append(h)
    return kept


def _collapse(hits: list[_RawHit]) -> list[_RawHit]:
    """Of overlapping hits (one entry), keep the longest; ties go to the earlier, then the first term.

    Hits are split into clusters of transitively overlapping spans first, so the greedy choice is
    quadratic only within a cluster (a few hits), never over a whole long text.
    """
    kept: list[_RawHit] = []
    cluster: list[_RawHit] = []
    reach = -1
    for h in sorted(set(hits), key=lambda h: (h.first, h.last)):
        if cluster and h.first > reach:
            kept.extend(_longest_first(cluster))
            cluster = []
        cluster.append(h)
        reach = max(reach, h.last) if len(cluster) > 1 else h.last
    kept.extend(_longest_first(cluster))
    return kept


def _longest_first(cluster: list[_RawHit]) -> list[_RawHit]:
    chosen: list[_RawHit] = []
    for h in sorted(cluster, key=lambda h: (-h.length, h.first, h.term)):
        if all(h.last < k.first or k.last < h.first for k in chosen):
            chosen.append(h)
    return chosen


# A sentence ends at . ! ? ؟ … followed by whitespace or the end (so «05.09.2025» and «3.5» do not end one),
# or at a line break (titles, paragraphs and list lines have no final stop).
_SENTENCE_END = re.compile(r"[.!?؟…]+(?=\s|$)|\n")
_LOOKBACK = 4000  # how far back to look for the start of the sentence


def snippet(text: str, start: int, end: int, width: int = 240) -> str:
    """The sentence around text[start:end], as match snippets are cut (for other readers' hits: search)."""
    return _snippet(text, start, end, width)


def _snippet(text: str, start: int, end: int, width: int) -> str:
    """The sentence around [start, end), whitespace collapsed; a sentence longer than width is cut to about
    width characters around the hit, at spaces, with «…» where it was cut."""
    lo = max(0, start - _LOOKBACK)
    for m in _SENTENCE_END.finditer(text, lo, start):
        lo = m.end()
    m = _SENTENCE_END.search(text, end)
    hi = len(text) if m is None else (m.start() if m.group() == "\n" else m.end())
    return _window(text, lo, hi, start, end, width)


def _window(text: str, lo: int, hi: int, start: int, end: int, width: int) -> str:
    """About width characters of text[lo:hi] around [start, end), cut at spaces, «…» where text[lo:hi] is cut."""
    sentence_lo, sentence_hi = lo, hi
    if hi - lo > width:
        room = max(0, width - (end - start))
        lo, hi = max(lo, start - room // 2), min(hi, end + (room - room // 2))
        if lo > sentence_lo and not text[lo - 1].isspace():  # do not start inside a word
            space = next((i for i in range(lo, start) if text[i].isspace()), None)
            if space is not None:
                lo = space + 1
        if hi < sentence_hi and not text[hi].isspace():  # do not end inside a word
            space = next((i for i in range(hi - 1, end - 1, -1) if text[i].isspace()), None)
            if space is not None:
                hi = space
    body = " ".join(text[lo:hi].split())
    head = "…" if text[sentence_lo:lo].strip() else ""
    tail = "…" if text[hi:sentence_hi].strip() else ""
    return head + body + tail
