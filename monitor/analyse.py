"""The CPU work for one feed body: parse, key, skip known items, plain text, fingerprint, match, display form.

Why a module of its own: this is nearly all of a cold poll's CPU time, and none of it needs the SQLite writer.
It runs unchanged in threads of the storing process (the daemon, small polls) and in worker processes (large
polls), as the pure step of a refresh (monitor.refresh), which is how a poll uses every core while the main process keeps the database's one
writer. The only outside state it reads is which keys a feed already has, through a callable, so a worker can
answer it from a read-only connection and the main process from its own.

What comes back is everything the store needs, so the main process does no text work: the item's plain text,
its fingerprint and its watch matches with display snippets. The title is stored as the feed wrote it (display
form is applied when it is shown, so its spelling can be quoted).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import replace
from typing import Callable, NamedTuple

from monitor import dedup
from monitor.dates import to_iso
from monitor.match import Matcher
from monitor.models import Match, PageOutcome, RawItem
from monitor.search import index_text, index_words
from monitor.stories.terms import pack, signature
from monitor.text import display, html_to_text, strip_boilerplate

log = logging.getLogger("monitor.analyse")


class PreparedItem(NamedTuple):
    """One entry's plain text and identity. NamedTuples, here and in AnalysedItem and dedup.Fingerprint, because
    a poll's worker processes send every item to the storing process: pickled as tuples they cost about a
    third less to send and receive than frozen dataclasses (speed issue)."""

    key: str
    guid: str | None
    link: str | None
    canonical_link: str | None
    title: str
    summary: str
    body: str
    published: str | None


class AnalysedItem(NamedTuple):
    item: PreparedItem
    fingerprint: dedup.Fingerprint
    matches: tuple[Match, ...]  # snippets already in display form
    story_terms: bytes | None = None  # monitor.stories.pack(signature(...)): text work done here, not in the writer
    page: PageOutcome | None = None  # None: no page was asked about (the feed's text is the body)
    # What the search index holds (monitor.search.index_text): title, body and article words, made here.
    words: tuple[str, str, str | None] = ("", "", None)

    @property
    def judged(self) -> str:
        """The text the item was judged on: the accepted article's, else the feed's."""
        return self.page.text if self.page is not None and self.page.status == "ok" else self.item.body


def analyse(body: bytes, content_type: str | None, url: str | None, matcher: Matcher,
            known: Callable[[list[str]], set[str]], *, max_items: int | None = None) -> list[AnalysedItem]:
    """The items of analyse_feed, without its notes."""
    return analyse_feed(body, content_type, url, matcher, known, max_items=max_items)[0]


def analyse_feed(body: bytes, content_type: str | None, url: str | None, matcher: Matcher,
                 known: Callable[[list[str]], set[str]], *,
                 max_items: int | None = None) -> tuple[list[AnalysedItem], list[str]]:
    """The items of one feed body that `known` does not already have, analysed on their feed text, in feed
    order, and notes on what was wrong in the body (prepare_feed); judge_items says how."""
    items, notes = prepare_feed(body, content_type, url, known, max_items=max_items)
    return judge_items(items, matcher), notes


def prepare_feed(body: bytes, content_type: str | None, url: str | None, known: Callable[[list[str]], set[str]],
                 *, max_items: int | None = None) -> tuple[list[PreparedItem], list[str]]:
    """The items of one feed body that `known` does not already have, as plain text, in feed order, and notes
    on what was wrong in the body (for the feed's last_error): items over `max_items` (the newest are kept), an
    item that could not be read (skipped: one bad item never fails the feed, the others are stored).

    Known items are skipped right after parsing, before any HTML or text work: a busy feed re-sends mostly
    what is stored (and a known item's page is never fetched again). An entry repeated within the body is
    prepared once. Raises ParseError for bytes that are not a feed.
    """
    from monitor.parse import parse_capped

    raws, total = parse_capped(body, content_type=content_type, url=url, max_items=max_items)
    notes = [f"kept the newest {len(raws):,} of {total:,} items (http.max_items)"] if total > len(raws) else []
    keyed, skipped = [], []
    for position, raw in enumerate(raws, 1):
        try:
            raw = clean_raw(raw)
            keyed.append((item_key(raw), raw))
        except Exception as exc:  # noqa: BLE001 - whatever one item holds, the feed's other items are stored
            skipped.append(_unreadable(position, raw, exc))
    have = known([key for key, _ in keyed]) if keyed else set()
    items: list[PreparedItem] = []
    for position, (key, raw) in enumerate(keyed, 1):
        if key in have:
            continue
        have.add(key)
        try:
            items.append(prepare(raw, key))
        except Exception as exc:  # noqa: BLE001
            skipped.append(_unreadable(position, raw, exc))
    if skipped:
        for reason in skipped:
            log.warning("%s", reason)
        more = f" (and {len(skipped) - 1} more)" if len(skipped) > 1 else ""
        notes.append(f"skipped {len(skipped)} unreadable item{'s' if len(skipped) > 1 else ''}: {skipped[0]}{more}")
    return items, notes


def judge_items(items: list[PreparedItem], matcher: Matcher,
                pages: list[PageOutcome | None] | None = None) -> list[AnalysedItem]:
    """Fingerprints and watch matches of a feed's items, each on its title and judged text: the article's
    when its page (`pages`, one per item, None where none was asked about) was accepted, else the feed's.

    The text work is done for the feed's items together (dedup.fingerprints, Matcher.candidates): a few passes
    per feed rather than a loop per item (speed issue)."""
    if not items:
        return []
    pages = pages or [None] * len(items)
    texts = [page.text if page is not None and page.status == "ok" else item.body
             for item, page in zip(items, pages)]
    cores = [strip_boilerplate(text) for text in texts]  # the text judged and matched; indexed too
    printed = dedup.fingerprints([(item.title, text) for item, text in zip(items, texts)], cores)
    # The watch terms are looked for in each item's fold (title and body) in one automaton pass for the feed;
    # only the few items with a possible hit are matched exactly, word boundaries and all.
    hit = matcher.candidates([title_fold + body_fold for _, title_fold, body_fold in printed])
    out: list[AnalysedItem] = []
    for i, (item, text, page, (fp, _, _)) in enumerate(zip(items, texts, pages, printed)):
        matches = tuple(displayed(m) for m in matcher.item_matches(item.title, text)) if i in hit else ()
        words = index_text(item.title, item.body, text) if page is not None and page.status == "ok" \
            else index_words(item.title, cores[i])  # the feed's text: its stripped body is at hand
        out.append(AnalysedItem(item=item, fingerprint=fp, matches=matches, page=page, words=words,
                                story_terms=pack(signature(item.title, text, cores[i]))))
    return out


def _unreadable(position: int, raw: RawItem, exc: BaseException) -> str:
    who = raw.guid or raw.link or (raw.title or "")[:60]
    label = f"item {position}" + (f" ({who!r})" if who else "")
    return f"{label}: {type(exc).__name__}: {str(exc)[:200]}"


# Characters no stored text should hold: lone surrogates (a `&#xD800;`; SQLite cannot even encode them) become
# U+FFFD; NUL and the other C0 controls but tab and newlines (a title cut short at a NUL by whatever reads it in
# C) become a space between the words they stood between.
_SURROGATES = re.compile("[\ud800-\udfff]")
_CONTROLS = re.compile(" ?[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+ ?")
_EITHER = re.compile("[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # one pass for the usual clean text


def clean_text(value: str) -> str:
    """A text with lone surrogates as U+FFFD and control characters as one space (see above)."""
    if not _EITHER.search(value):  # every field of every new item comes here: one search, not two
        return value
    if _SURROGATES.search(value):
        value = _SURROGATES.sub("\ufffd", value)
    if _CONTROLS.search(value):
        value = _CONTROLS.sub(" ", value).strip()
    return value


def clean_raw(raw: RawItem) -> RawItem:
    """A parsed entry whose texts hold no lone surrogate or control character (the same entry when none does)."""
    fields = {name: clean_text(value) for name in ("guid", "link", "title", "summary", "content", "author")
              if isinstance(value := getattr(raw, name), str)}
    changed = {name: value or None if name in ("guid", "link", "author") else value
               for name, value in fields.items() if value != getattr(raw, name)}
    return replace(raw, **changed) if changed else raw


def parse_keyed(body: bytes, content_type: str | None, url: str | None) -> list[tuple[str, RawItem]]:
    """Parse a body and key its entries. feedparser is imported here, so only the commands that poll pay for it."""
    from monitor.parse import parse_feed

    return [(item_key(raw), raw) for raw in parse_feed(body, content_type=content_type, url=url)]


def item_key(raw: RawItem) -> str:
    """A stable key for one parsed entry: its guid, else its canonical link, else a hash of title and date.

    Cheap on purpose (no HTML parsing for the usual guid/link case): it decides whether an item is known
    before any text work is spent on it.
    """
    if raw.guid:
        return f"guid:{raw.guid}"
    link = dedup.canonical_link(raw.link)
    if link:
        return f"link:{link}"
    title, published = html_to_text(raw.title), to_iso(raw.published)
    body = _body(html_to_text(raw.summary), html_to_text(raw.content))
    digest = hashlib.blake2b(f"{title}\n{published or ''}\n{body[:500]}".encode(), digest_size=12).hexdigest()
    return f"hash:{digest}"


def prepare(raw: RawItem, key: str | None = None) -> PreparedItem:
    """Plain text for one parsed entry (and its key, when the caller has not computed it yet)."""
    title = html_to_text(raw.title)
    summary = html_to_text(raw.summary)
    body = _body(summary, html_to_text(raw.content))
    return PreparedItem(key=key or item_key(raw), guid=raw.guid, link=raw.link,
                        canonical_link=dedup.canonical_link(raw.link), title=title,
                        summary=summary[:1000], body=body, published=to_iso(raw.published))


def displayed(match: Match) -> Match:
    """A match with its snippet in display form, as it is stored."""
    return replace(match, snippet=display(match.snippet))


def _body(summary: str, content: str) -> str:
    """The text that carries the article: the content when it is at least as long as the summary."""
    return content if len(content) >= len(summary) else summary


__all__ = ["AnalysedItem", "PageOutcome", "PreparedItem", "analyse", "analyse_feed", "judge_items", "prepare_feed",
           "clean_raw", "clean_text", "parse_keyed", "item_key", "prepare", "displayed"]
