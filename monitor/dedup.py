"""Fingerprints and duplicate verdicts: is this item an article the user already has?

Checks run cheapest first and the first hit wins:
  1. the same guid in the item's own feed (a guid names an item within its feed, not across sites);
  2. the same canonical link (utm_* and fragment dropped, host case and `www.` folded, percent-encoding unified);
  3. the same folded body, or the same folded title + body (spelling differences fold away, see text.fold), or,
     for an item with no text at all, the same folded title (then the title is all there is to compare);
  4. near-duplicate: the share of the item's winnowed fingerprints found in one known text (a corpus document, or an
     item stored within the window) reaches the threshold. Containment, not Jaccard: a lead paragraph alone is
     fully contained in its article (1.0) while its Jaccard similarity is tiny (../shared/notes/persian-text.md).

The default threshold, 0.5 (config `dedup.threshold`), sits in the middle of a wide measured gap. Copies score
0.95-1.00 (fixture rows 1, 2, 6, 7, 10 against their seeds; a syndicated copy with header, footer and respelling
0.99; a windows-1256 copy 1.00), while distinct articles that share phrasing score at most 0.24 (seed 001's lead
in seed 003 0.22-0.24, an article quoting one 98-word paragraph 0.22, full 001 in 003 0.12). Below about 0.3 the
quoting article would merge; above about 0.9 a copy with a long added footer or a light rewrite would not.

A verdict names the root: the corpus document or first stored item, never a duplicate in between.

This module never imports the store: lookups go through the `KnownTexts` protocol, which store.Store satisfies.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, NamedTuple, Protocol, Sequence
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from monitor.dates import parse_feed_date, to_iso
from monitor.models import Source, Verdict
from monitor import textbatch
from monitor.text import key_hash, strip_boilerplate  # strip_boilerplate: also dedup's

MIN_SHINGLES = 8  # fewer shingles than this say too little to call an item a near-duplicate
# Winnowing window (monitor.textbatch.WINDOW): about 2 / (WINDOW + 1) = 22% of an item's shingles become its
# fingerprints, the ones indexed and looked up (speed issue: writing the index was most of a cold poll's SQLite
# time; 4 gave 40%). Shared runs of 8 + 3 - 1 = 10 words or more always share a fingerprint, and a text inside
# another keeps containment 1.0. Measured on the fixtures: copies of the seeds score 0.94-1.00 with 8.
WINNOW_WINDOW = textbatch.WINDOW
MIN_FINGERPRINTS = 3
# A title of fewer words («ویدئو», «عکس روز») is a rubric, not the name of one article.
MIN_TITLE_WORDS = 3
# Names what fingerprint() computes. Stored fingerprints made under another scheme are recomputed (housekeeping).
FINGERPRINT_SCHEME = textbatch.SCHEME
# A fingerprint held by more known texts than this is boilerplate («به گزارش خبرگزاری مهر», a site's standard
# footer): it says nothing about which article an item is, and counting its holders would make every lookup
# cost grow with the number of stored items. Copies are not indexed (only new items are), so an article
# syndicated by a hundred feeds still has its fingerprints held once.
COMMON_FINGERPRINT_SOURCES = 64


class KnownItems(Protocol):
    """The stored items' questions (store.items)."""

    def exact_matches(self, keys: Sequence[tuple], since: str | None = None) -> list[tuple]: ...
    def roots(self, ids: Iterable[int]) -> dict[int, tuple[str, str, float | None]]: ...
    def last_id(self) -> int: ...


class KnownFingerprints(Protocol):
    """The fingerprint index's questions (store.fingerprints)."""

    def holders(self, hashes: Iterable[int], since: str, cap: int) -> dict[int, list[Source]]: ...
    def any_known(self, hashes: Sequence[int], since: str) -> bool: ...
    def held(self, hashes: Iterable[int], since: str) -> set[int]: ...
    def recent_held(self, hashes: Iterable[int], after: int) -> set[int]: ...


class KnownTexts(Protocol):
    """What the verdicts ask of the known texts: store.Store satisfies it."""

    @property
    def items(self) -> KnownItems: ...
    @property
    def fingerprints(self) -> KnownFingerprints: ...


class Fingerprint(NamedTuple):
    body_hash: str
    title_body_hash: str
    hashes: tuple[int, ...]  # the winnowed fingerprints, sorted: what is indexed and looked up
    size: int = 0  # word shingles before winnowing (repeats included): how much text there is to judge
    # key_hash(fold(title)) for a title of MIN_TITLE_WORDS words or more, else "": what finds a known article by
    # its title when an item has no text of its own (then its title is all there is to compare).
    title_hash: str = ""

    def title_key(self) -> str:
        """The title hash to look up: only for an item with no text (a known text is not judged by title)."""
        return "" if self.body_hash else self.title_hash


@dataclass(frozen=True)
class CorpusDoc:
    ref: str  # the file name stem
    path: str
    title: str
    body: str
    published: str | None  # ISO date-time or None


# ------------------------------------------------------------------------------------------ fingerprints
def fingerprint(title: str, body: str) -> Fingerprint:
    """Hashes and winnowed fingerprints of one item (see fingerprints)."""
    return fingerprints([(title, body)])[0][0]


def fingerprints(items: Sequence[tuple[str, str]], cores: Sequence[str] | None = None
                 ) -> list[tuple[Fingerprint, str, str]]:
    """For each (title, body): its Fingerprint, fold(title) and fold(strip_boilerplate(body)), with the text work
    of all the items done together (monitor.textbatch: a feed's items cost a few array passes, not a loop per
    word).

    The body is judged without the boilerplate sites and syndicators add (strip_boilerplate), and the watch
    matcher reads the same text (Matcher.item_matches), so the fold returned is the stripped body's. `cores`,
    when the caller has them (it indexes them for search too), are those stripped bodies."""
    n = len(items)
    if cores is None:
        cores = [strip_boilerplate(body) for _, body in items]
    digests = textbatch.digest([title for title, _ in items] + cores, [False] * n + [True] * n)
    out = []
    for i, (title, _) in enumerate(items):
        title_fold, core = digests[i].fold, digests[n + i]
        out.append((_fingerprint(title, cores[i], title_fold, core), title_fold, core.fold))
    return out


def _fingerprint(title: str, core: str, title_fold: str, digest: textbatch.Digest) -> Fingerprint:
    folded = digest.fold.encode("utf-8")
    title_body_hash = ""
    if title.strip() and core and folded:  # == key_hash(fold(title) + fold(core)), without joining the two
        hasher = hashlib.blake2b(title_fold.encode("utf-8"), digest_size=16)
        hasher.update(folded)
        title_body_hash = hasher.hexdigest()
    elif title.strip() and core and title_fold:
        title_body_hash = key_hash(title_fold)
    return Fingerprint(
        body_hash=hashlib.blake2b(folded, digest_size=16).hexdigest() if folded else "",
        title_body_hash=title_body_hash,
        hashes=tuple(digest.fingerprints.tolist()),
        size=digest.size,
        title_hash=key_hash(title_fold) if len(title.split()) >= MIN_TITLE_WORDS else "",
    )


# ------------------------------------------------------------------------------------------ links
_TRACKING = re.compile(r"^(utm_[a-z]+|fbclid|gclid|yclid|mc_cid|mc_eid|ref_src)$", re.I)


_PATH_SAFE = "/:@!$&'()*+,;=-._~"
# A path quote(unquote(path), safe=_PATH_SAFE) gives back as it is: no '%' for unquote, nothing for quote.
_QUOTED_PATH = re.compile(r"[A-Za-z0-9_.\-~/:@!$&'()*+,;=]*")


def canonical_link(link: str | None) -> str | None:
    """One spelling per article URL: http(s), lower-case host without `www.`, no fragment, no tracking params,
    percent-encoding unified (raw Persian and %D9%.. forms compare equal), no trailing slash."""
    if not link:
        return None
    try:
        parts = urlsplit("".join(link.split()))
        port = parts.port if ":" in parts.netloc else None  # .port parses, and raises for 99999 or "x"
    except ValueError:  # not a URL a browser could open: no canonical form, the link is kept as written
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if host.startswith("www."):
        host = host[4:]
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = parts.path
    if not _QUOTED_PATH.fullmatch(path):  # most paths are already quoted: quote(unquote()) would not change them
        path = quote(unquote(path), safe=_PATH_SAFE)  # raw Persian, %d9%86 and %D9%86 all become %D9%86
    path = path or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    query = parts.query and urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                                       if not _TRACKING.match(k)])
    return f"https://{host}{path}?{query}" if query else f"https://{host}{path}"  # what urlunsplit gives


# ------------------------------------------------------------------------------------------ verdicts
def exact_keys(feed: str | None, guid: str | None, link: str | None, fp: Fingerprint) -> tuple:
    """What store.items.exact_matches looks up for one item of `feed`."""
    return (feed, guid, link, fp.body_hash, fp.title_body_hash, fp.title_key())


def classify(*, guid: str | None, link: str | None, fp: Fingerprint, known: KnownTexts, since: str,
             threshold: float, feed: str | None = None) -> Verdict | None:
    """Why this item of `feed` is a duplicate, or None when it is new. Without a feed, guids decide nothing."""
    row = known.items.exact_matches([exact_keys(feed, guid, link, fp)], since)[0]
    return exact_verdict(guid, link, fp, row, roots=known.items.roots(_item_refs([row]))) \
        or near_duplicate(fp.hashes, known.fingerprints, since, threshold, size=fp.size)


# The row's item columns (store.items.exact_matches): guid, link, body, title+body, title.
_ITEM_COLUMNS = (0, 1, 3, 5, 7)


def _item_refs(rows: Sequence[tuple]) -> set[int]:
    return {row[c] for row in rows for c in _ITEM_COLUMNS if row[c] is not None}


def exact_verdict(guid: str | None, link: str | None, fp: Fingerprint, row: tuple,
                  earlier: tuple[dict, ...] | None = None,
                  roots: dict[int, tuple[str, str, float | None]] | None = None) -> Verdict | None:
    """The exact duplicate an item is, checking in order: the same guid in its feed, the same canonical link, the
    same body hash (corpus first, then items), the same title+body hash, and, for an item with no text, the same
    title; or None. `row` is the store's answer (store.items.exact_matches); `earlier`, the same five keys ->
    the root verdict of the item first stored with it, for items stored since that answer (the feed's earlier
    items, FeedJudge), which have larger ids than any in `row`, so `row` comes first.

    The verdict names the root: when the item found is itself a duplicate (`roots`, store.items.roots), the
    corpus document or first item it is a duplicate of, with the weaker of the two scores."""
    by_guid, by_link, corpus_body, item_body, corpus_tb, item_tb, corpus_title, item_title = row
    guids, links, bodies, title_bodies, titles = earlier or ({}, {}, {}, {}, {})
    title_key = fp.title_key()
    for corpus_ref, item_ref, later, key, reason in (
            (None, by_guid, guids, guid, "guid"),
            (None, by_link, links, link, "link"),
            (corpus_body, item_body, bodies, fp.body_hash, "body"),
            (corpus_tb, item_tb, title_bodies, fp.title_body_hash, "title+body"),
            (corpus_title, item_title, titles, title_key, "title")):
        if not key:
            continue
        if corpus_ref is not None:
            return Verdict("corpus", corpus_ref, 1.0, reason)
        if item_ref is not None:
            root = (roots or {}).get(item_ref)
            if root is None:
                return Verdict("item", str(item_ref), 1.0, reason)
            kind, ref, score = root
            return Verdict(kind, str(ref), 1.0 if score is None else min(1.0, float(score)), reason)
        if key in later:
            root = later[key]
            return Verdict(root.kind, root.ref, root.score, reason)
    return None


def near_duplicate(item_hashes: Sequence[int] | frozenset[int], known: KnownFingerprints, since: str,
                   threshold: float, size: int | None = None) -> Verdict | None:
    """The known text that contains the largest share of the item's fingerprints, if that share reaches threshold.

    Boilerplate fingerprints (held by more than COMMON_FINGERPRINT_SOURCES texts) are left out of both sides of the
    share, which keeps the lookup bounded and stops a shared agency header from counting as evidence.
    """
    if (size if size is not None else len(item_hashes)) < MIN_SHINGLES \
            or len(item_hashes) < MIN_FINGERPRINTS:
        return None
    probe = probe_fingerprints(item_hashes, threshold)
    if probe and not known.any_known(probe, since):
        return None  # none of the probe is known anywhere: new, as the full lookup would say (see below)
    holders = known.holders(item_hashes, since, COMMON_FINGERPRINT_SOURCES)
    common = {h for h, who in holders.items() if len(who) > COMMON_FINGERPRINT_SOURCES}
    telling = len(item_hashes) - len(common)
    if telling < MIN_FINGERPRINTS:
        return None
    overlap: dict[Source, int] = {}
    for h, who in holders.items():
        if h not in common:
            for source in who:
                overlap[source] = overlap.get(source, 0) + 1
    if not overlap:
        return None
    # Best containment; ties go to the corpus, then to the oldest source, so verdicts are stable.
    source, shared = max(overlap.items(), key=lambda kv: (kv[1], kv[0].kind == "corpus", _age_key(kv[0])))
    score = shared / telling
    if score < threshold:
        return None
    return Verdict(source.kind, str(source.ref), round(score, 4), "near")


# How unlikely the probe may be to miss a real duplicate (see probe_fingerprints).
PROBE_MISS = 1e-6


def probe_fingerprints(fingerprints: Sequence[int] | frozenset[int], threshold: float) -> list[int]:
    """The few fingerprints to look up first, or [] to look up all of them at once.

    Most items of a poll are new, and for them every fingerprint lookup misses. If an item shares at least
    `threshold` of its telling fingerprints with some known text, then its k smallest fingerprints, which
    behave like k drawn at random (hash order has nothing to do with content), all miss that text with
    probability at most (1 - threshold)^k. k is chosen to make that PROBE_MISS (20 at the default 0.5), so a
    probe that finds nothing settles "new" after k lookups instead of all (about 50 for a farm article;
    speed issue). A probe that finds anything, boilerplate included, leads to the full, exact lookup. An item
    with no more than k fingerprints has no probe: asking for all of them costs no more.
    """
    if not 0 < threshold < 1:
        return []
    k = math.ceil(math.log(PROBE_MISS) / math.log(1 - threshold))
    if k >= len(fingerprints):
        return []
    if isinstance(fingerprints, tuple):  # Fingerprint.hashes: already sorted
        return list(fingerprints[:k])
    return heapq.nsmallest(k, fingerprints)


class HeldSnapshot(NamedTuple):
    """What a worker process found of a feed's new items' fingerprints in its read-only view of the store (see
    held_snapshot): FeedJudge then asks the database nothing about them, only the storing process's memory
    for what was written after the view (store.fingerprints.recent_held)."""

    upto: int  # the largest item id in the view: items after it were not seen
    held: frozenset[int]  # of the items' probes, those held in the view
    second: frozenset[str]  # keys of the items whose probe hit there
    held_all: frozenset[int]  # of those items' fingerprints, the ones held in the view


def probes_of(fps: Sequence[Fingerprint], threshold: float) -> list[Sequence[int]]:
    """What to ask first about each item: its probe, or all its fingerprints when it has too few for a probe
    (then "none held" is certain, not probable); nothing for an item with too little text."""
    return [(probe_fingerprints(fp.hashes, threshold) or fp.hashes) if _eligible(fp) else () for fp in fps]


def held_snapshot(known: KnownTexts, since: str, threshold: float,
                  items: Sequence[tuple[str, Fingerprint]]) -> HeldSnapshot:
    """FeedJudge's two questions to the database about (key, fingerprint) items, asked by a worker process in
    one read transaction of its own (the caller opens it, see Store.snapshot): the storing process, the
    cycle's critical path, then asks none (speed issue: they were a fifth of its time)."""
    upto = known.items.last_id()
    probes = probes_of([fp for _, fp in items], threshold)
    held = known.fingerprints.held({h for probe in probes for h in probe}, since)
    second = [i for i, probe in enumerate(probes) if any(h in held for h in probe)]
    held_all = known.fingerprints.held({h for i in second for h in items[i][1].hashes}, since) \
        if second else set()
    return HeldSnapshot(upto, frozenset(held), frozenset(items[i][0] for i in second), frozenset(held_all))


class FeedJudge:
    """classify() for a feed's new items in order, with the database asked once for the whole feed.

    Item i is judged against everything stored plus the feed's items before it, exactly as classify() would
    judge it had each earlier item been stored first (two copies of an article in one feed: the second is the
    duplicate). The exact lookups of every item are one statement (known.items.exact_matches), completed with the
    feed's earlier items from memory; the near-duplicate probes of every item are one statement
    (known.fingerprints.held). An item whose probe finds something is asked about again, all its fingerprints
    this time and still one statement for the feed: if fewer than `threshold` of them are held by anything,
    no single known text can reach the threshold (a text's share counts only held fingerprints, and leaving
    common ones out of both sides cannot lift it), so it is new without the full lookup of near_duplicate,
    which only the rest go on to. On the farm a tenth of the items' probes hit a shared phrase, and the full
    lookups were a tenth of the storing time (speed issue). The caller must store each item before judging
    the next: its row with the id it was judged under, and, when it is new, its fingerprints
    (store.fingerprints.add), which later probes then see.
    """

    def __init__(self, known: KnownTexts, since: str, threshold: float,
                 items: Sequence[tuple[str | None, str | None, Fingerprint]],
                 snapshot: HeldSnapshot | None = None, keys: Sequence[str] | None = None,
                 feed: str | None = None) -> None:
        """`snapshot`, with the items' `keys`, is what a worker already asked of the database (held_snapshot);
        then only what was stored after it is looked for, in the storing process's memory. `feed`: the items'
        feed, in which alone their guids are looked up."""
        self._known, self._since, self._threshold = known, since, threshold
        self._items = list(items)
        self._exact = known.items.exact_matches([exact_keys(feed, guid, link, fp)
                                                 for guid, link, fp in self._items], since)
        self._roots = known.items.roots(_item_refs(self._exact))
        # Nothing held of an item's probe means new, without the full lookup.
        self._probes = probes_of([fp for _, _, fp in self._items], threshold)
        asked = {h for probe in self._probes for h in probe}
        self._full: set[int] = set()  # items to look up in full, whatever the count of held fingerprints
        if snapshot is None:
            self._held = known.fingerprints.held(asked, since)
        else:
            self._held = (snapshot.held & asked) | known.fingerprints.recent_held(asked, snapshot.upto)
        held = self._held
        self._second = {i for i, probe in enumerate(self._probes) if any(h in held for h in probe)}
        if snapshot is None:
            self._held_all = known.fingerprints.held(
                {h for i in self._second for h in self._items[i][2].hashes}, since) if self._second else set()
        else:
            # The worker counted only the items whose probe hit in its view; one that hits only something stored
            # after it is looked up in full (rare: an article stored a moment before, in another feed).
            keys = list(keys or ())
            self._full = {i for i in self._second if keys[i] not in snapshot.second}
            self._held_all = set(snapshot.held_all) | known.fingerprints.recent_held(
                {h for i in self._second for h in self._items[i][2].hashes}, snapshot.upto)
        # The feed's earlier items: guid, link, body hash, title+body hash, title hash -> the root verdict of the
        # first (the item itself when new); new items' hashes.
        self._earlier: tuple[dict, ...] = ({}, {}, {}, {}, {})
        self._earlier_fingerprints: set[int] = set()
        self._next = 0

    def next(self, item_id: int) -> Verdict | None:
        """The verdict on the next item, which will be stored as `item_id`."""
        i = self._next
        self._next += 1
        guid, link, fp = self._items[i]
        verdict = exact_verdict(guid, link, fp, self._exact[i], self._earlier, self._roots)
        if verdict is None and _eligible(fp):
            held, earlier = self._held, self._earlier_fingerprints
            if any(h in held or h in earlier for h in self._probes[i]):
                if i in self._second and i not in self._full:
                    held = self._held_all
                    shared = sum(1 for h in fp.hashes if h in held or h in earlier)
                    if shared >= self._threshold * len(fp.hashes):
                        verdict = near_duplicate(fp.hashes, self._known.fingerprints, self._since,
                                                 self._threshold, size=fp.size)
                else:  # only the feed's earlier items were hit: those are few, ask in full
                    verdict = near_duplicate(fp.hashes, self._known.fingerprints, self._since, self._threshold,
                                             size=fp.size)
        root = verdict or Verdict("item", str(item_id), 1.0, "")
        for index, key in zip(self._earlier, (guid, link, fp.body_hash, fp.title_body_hash, fp.title_hash)):
            if key:
                index.setdefault(key, root)
        if verdict is None:
            self._earlier_fingerprints.update(fp.hashes)
        return verdict


def _eligible(fp: Fingerprint) -> bool:
    """Whether an item has text enough for a near-duplicate verdict (near_duplicate's first test)."""
    return fp.size >= MIN_SHINGLES and len(fp.hashes) >= MIN_FINGERPRINTS


def _age_key(source: Source) -> float:
    return -float(source.ref) if source.kind == "item" else 0.0


# ------------------------------------------------------------------------------------------ corpus files
_DATE_LINE = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\s*(.*)$", re.S)
_SOURCE_LINE = re.compile(r"(\d{1,2}\s+\S+\s+1[34]\d\d|\d{4}[-/]\d{1,2}[-/]\d{1,2}|1[34]\d\d/\d{1,2}/\d{1,2})")


def corpus_files(paths: Iterable[str]) -> list[Path]:
    """The .txt files under the configured corpus paths, sorted, each once."""
    found: dict[str, Path] = {}
    for entry in paths:
        p = Path(entry)
        candidates = sorted(p.rglob("*.txt")) if p.is_dir() else [p] if p.is_file() else []
        for f in candidates:
            if not f.exists():  # a dangling symlink: nothing to read, and never a reason to stop
                import logging

                logging.getLogger("monitor.corpus").warning("corpus: %s is a broken symlink; skipped", f)
                continue
            found.setdefault(str(f.resolve()), f)
    return sorted(found.values(), key=lambda f: (f.stem, str(f)))


TITLE_MAX_CHARS = 200  # a first line longer than this is the article's first paragraph, not its title


def parse_corpus_document(path: Path) -> CorpusDoc:
    """The seed format: a leading `date YYYY-MM-DD` then the body; or a title line, an optional source and date
    line («خبرگزاری مهر دوشنبه 26 آبان 1404 - 14:19»), then the body. Raises UnicodeDecodeError/OSError.

    The first line is the title only when it is short (TITLE_MAX_CHARS) and more text follows: a file that is
    one long paragraph, or starts with one, has no title line, and all of its text is the body (fingerprinted,
    as a title is not). Every step is one pass over the text, so a file of many megabytes costs in proportion.
    """
    text = path.read_text(encoding="utf-8-sig")
    lines = [ln.rstrip() for ln in text.splitlines()]
    start = next((i for i, ln in enumerate(lines) if ln.strip()), len(lines))
    lines = lines[start:]
    title, published = "", None
    if lines:
        m = _DATE_LINE.match(lines[0])
        if m:
            published = parse_feed_date(m.group(1) + "T00:00:00")  # midnight in Tehran (monitor.dates)
            lines[0] = m.group(2)
        elif len(lines[0].strip()) <= TITLE_MAX_CHARS and len(lines) > 1:
            title = lines.pop(0).strip()
            rest = next((i for i, ln in enumerate(lines) if ln.strip()), None)
            if rest is not None:
                first = lines[rest]
                if len(first) < 120 and _SOURCE_LINE.search(first):
                    published = parse_feed_date(first) or parse_feed_date(_SOURCE_LINE.search(first).group(0))
                    lines.pop(rest)
    body = "\n".join(lines).strip()
    return CorpusDoc(ref=path.stem, path=str(path), title=title, body=body,
                     published=to_iso(published))
