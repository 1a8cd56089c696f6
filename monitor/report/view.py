"""What every report format shows, computed once: times in Tehran (Jalali and Gregorian), safe links, marked
snippets, groups, and counts per watch entry and per day.

Titles are stored as the feed wrote them; the display form (monitor.display: Persian letters and digits in the
Persian runs, Latin runs as written) is applied here, for people; the JSON report keeps the stored text.

Why here and not in each format: the HTML, Atom, markdown, CSV and table reports must agree on what an item
is. Formats only escape and lay out. Snippets are stored as plain text; the matched terms are found again with
monitor.match.Matcher (the same folding that flagged the item), so «مؤتلفه» is marked in «موتلفه‌ای‌ها» too.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from functools import lru_cache
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any, Callable, Iterable, Iterator, Sequence
from urllib.parse import urlsplit

from monitor.dates import TEHRAN
from monitor.display import display
from monitor.models import WatchEntry

GROUP_BY = ("watch", "feed", "day", "story")
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
# C0/C1 controls other than tab and newlines: illegal in XML 1.0, and in a terminal ESC and CSI (\x9b) start
# escape sequences that move the cursor, clear the screen or retitle the window. Bidi embeddings, overrides and
# isolates (U+202A-202E, U+2066-2069) reorder whatever follows them on the line, so a feed could make a title
# read backwards or hide text; the marks LRM/RLM and ZWNJ are kept, they are how Persian is written.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")


def clean(text: str | None) -> str:
    """Feed text with the characters no output can carry safely removed: the one cleaning every table and
    report format applies (a terminal table too: monitor.report.CleanHook)."""
    return _CONTROL.sub("", text or "")


def plural(count: int, word: str, words: str | None = None) -> str:
    """"1 flagged item", "2 flagged items", "0 flagged items"."""
    return f"{count} {word if count == 1 else words or word + 's'}"


def safe_link(link: str | None) -> str | None:
    """The link when it is an absolute http(s) URL with a host, else None: javascript:, data: and relative
    links from a feed are never rendered as links."""
    link = clean(link).strip()
    if not link or any(ch.isspace() for ch in link):
        return None
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    return link if parts.scheme.lower() in ("http", "https") and parts.hostname else None


def persian_digits(text: str) -> str:
    return text.translate(_PERSIAN_DIGITS)


@dataclass(frozen=True)
class Segment:
    """A piece of a snippet; `marked` pieces are matched terms."""

    text: str
    marked: bool = False


@dataclass(frozen=True)
class MatchView:
    watch: str
    kind: str
    terms: tuple[str, ...]
    count: int


@dataclass
class ItemView:
    id: int
    guid: str | None
    feed: str
    title: str
    link: str | None  # safe (http/https) or None
    raw_link: str | None  # as stored, for CSV/JSON
    when: datetime | None  # published, else fetched, aware, in Tehran time
    jalali: str  # "1404-08-27 19:42" (ASCII digits), "" when there is no date
    gregorian: str  # "2025-11-18"
    published_utc: str | None
    matches: list[MatchView]
    # The stored snippets and what marks them: segments are computed when a format asks (`snippets`), not
    # kept, so a report of 100,000 items holds one item's marked snippets at a time while it streams.
    snippet_texts: tuple[str, ...] = ()
    matcher: Any = field(default=None, repr=False, compare=False)
    # Its story (monitor.stories) when the rows carry one (report.with_stories): id, title, and how many feeds
    # carried it, copies included: coverage is itself the signal.
    story: int | None = None
    story_title: str = ""
    carried_by: int = 0

    @property
    def carried(self) -> str:
        """"carried by 3 feeds", or "" when the item's story is not known."""
        return f"carried by {plural(self.carried_by, 'feed')}" if self.carried_by else ""

    @property
    def day(self) -> date | None:
        return self.when.date() if self.when else None

    @property
    def snippets(self) -> list[list[Segment]]:
        """The snippets with the matched terms marked; entries named side by side get near-identical snippets:
        one is kept unless it marks something new."""
        watches = {m.watch for m in self.matches}
        out: list[list[Segment]] = []
        seen: set[str] = set()
        for text in self.snippet_texts:
            segments = mark(text, self.matcher, watches) if text else []
            marked = {s.text for s in segments if s.marked}
            if segments and (not marked or not marked <= seen) and text not in seen:
                seen |= marked | {text}
                out.append(segments)
        return out


@dataclass
class Report:
    """Items, newest first, with the period's counts; `groups` is [(heading, items)] (one group when flat)."""

    items: list[ItemView]
    groups: list[tuple[str, list[ItemView]]]
    watch_counts: list[tuple[str, int, int]]  # (watch, items, mentions), most items first
    days: list[date]  # every Tehran day of the requested period (of the items' days without one), oldest first
    per_day: dict[str, dict[date, int]]  # watch -> day -> mentions
    since: datetime | None
    until: datetime | None
    generated: datetime
    title: str


def jalali(when: datetime | None, *, seconds: bool = False) -> str:
    """The Jalali date and time of an aware datetime in Tehran, "1404-08-27 19:42"."""
    if when is None:
        return ""
    local = when.astimezone(TEHRAN)
    y, m, d = jalali_ymd(local.date())
    return f"{y:04d}-{m:02d}-{d:02d} {local:%H:%M}" + (f":{local:%S}" if seconds else "")


@lru_cache(maxsize=4096)
def jalali_ymd(day: date) -> tuple[int, int, int]:
    """(year, month, day) in the Jalali calendar; cached, since a report's items share a few days."""
    import jdatetime  # lazy: only reports that show dates pay for it

    j = jdatetime.date.fromgregorian(date=day)
    return j.year, j.month, j.day


_MONTHS = "فروردین اردیبهشت خرداد تیر مرداد شهریور مهر آبان آذر دی بهمن اسفند".split()


def jalali_words(when: datetime | None) -> str:
    """"۲۷ آبان ۱۴۰۴، ۱۹:۴۲" (Tehran time, Persian digits): how Persian sites write a date, and unlike
    1404-08-27 it cannot be reordered by the bidi algorithm in a right-to-left line."""
    if when is None:
        return ""
    local = when.astimezone(TEHRAN)
    y, m, d = jalali_ymd(local.date())
    return persian_digits(f"{d} {_MONTHS[m - 1]} {y}، {local:%H:%M}")


def jalali_day(day: date) -> str:
    y, m, d = jalali_ymd(day)
    return f"{y:04d}-{m:02d}-{d:02d}"


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def mark(text: str, matcher: Any, watches: set[str]) -> list[Segment]:
    """Split text into plain and marked segments at the hits of the given watch entries."""
    text = clean(text)
    spans = sorted((h.start, h.end) for h in matcher.find(text) if h.watch in watches) if matcher else []
    segments, pos = [], 0
    for start, end in spans:
        if start < pos:  # overlapping hits of two entries: merged into the one already marked
            if end > pos:
                segments[-1] = Segment(segments[-1].text + text[pos:end], True)
                pos = end
            continue
        if start > pos:
            segments.append(Segment(text[pos:start]))
        segments.append(Segment(text[start:end], True))
        pos = end
    if pos < len(text):
        segments.append(Segment(text[pos:]))
    return segments


def local_time(row: dict[str, Any]) -> datetime | None:
    """When an item is dated (published, else fetched), in Tehran."""
    when = _parse_time(row.get("published")) or _parse_time(row.get("fetched_at"))
    return when.astimezone(TEHRAN) if when else None


def item_view(row: dict[str, Any], matcher: Any = None) -> ItemView:
    local = local_time(row)
    matches = [MatchView(clean(m["watch"]), m["kind"], tuple(clean(t) for t in m["terms"]), m["count"])
               for m in row.get("matches", [])]
    return ItemView(
        id=row["id"], guid=row.get("guid"), feed=row["feed"], title=display(clean(row.get("title"))) or "(no title)",
        link=safe_link(row.get("link")), raw_link=row.get("link"), when=local,
        jalali=jalali(local), gregorian=f"{local:%Y-%m-%d}" if local else "",
        published_utc=row.get("published") or row.get("fetched_at"), matches=matches,
        snippet_texts=tuple(m["snippet"] for m in row.get("matches", [])), matcher=matcher,
        story=row.get("story"), story_title=display(clean(row.get("story_title"))), carried_by=row.get("carried_by") or 0)


class StreamedItems:
    """A report's items read again from the store each time the report goes through them, so a report of many
    items holds one batch of rows at a time, not all of them; len() is the count of the first pass."""

    def __init__(self, rows: Callable[[], Iterable[dict[str, Any]]], matcher: Any, count: int) -> None:
        self._rows, self._matcher, self._count = rows, matcher, count

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[ItemView]:
        return (item_view(r, self._matcher) for r in self._rows())


def build(rows: Sequence[dict[str, Any]] | Callable[[], Iterable[dict[str, Any]]], *,
          watch: Iterable[WatchEntry] = (), group_by: str | None = None, since: datetime | None = None,
          until: datetime | None = None, generated: datetime | None = None, title: str = "") -> Report:
    """The report over rows from store.items.query(flagged=True, ...), newest first. `rows` may instead be a
    callable that reads them again on each call (store.items.iter_query): the counts and the chart are then
    one pass and the items another, as they are written out (a grouped report still holds its items)."""
    entries = tuple(watch)
    matcher = None
    if entries:
        from monitor.match import Matcher

        matcher = Matcher(entries)
    items_per_watch: Counter[str] = Counter()
    mentions: Counter[str] = Counter()
    per_day: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    known_days: set[date] = set()
    count = 0
    for row in rows() if callable(rows) else rows:  # the counts and the chart need only dates and matches
        count += 1
        local = local_time(row)
        day = local.date() if local else None
        if day:
            known_days.add(day)
        for m in row.get("matches", []):
            watch_name = clean(m["watch"])
            items_per_watch[watch_name] += 1
            mentions[watch_name] += m["count"]
            if day:
                per_day[watch_name][day] += m["count"]
    items: Any = [item_view(r, matcher) for r in rows] if not callable(rows) else None
    if items is None:
        items = StreamedItems(rows, matcher, count)
        if group_by:  # groups are gathered across the whole period: they hold their items
            items = list(items)
    watch_counts = sorted(((w, items_per_watch[w], mentions[w]) for w in items_per_watch),
                          key=lambda t: (-t[1], -t[2], t[0]))
    now = generated or datetime.now(timezone.utc)
    days = period_days(since, until or (now if since else None), sorted(known_days))
    return Report(items=items, groups=group(items, group_by, [w for w, _, _ in watch_counts]),
                  watch_counts=watch_counts, days=days, per_day={w: dict(d) for w, d in per_day.items()},
                  since=since, until=until, generated=now.astimezone(TEHRAN), title=title)


def period_days(since: datetime | None, until: datetime | None, known: list[date]) -> list[date]:
    """Every Tehran day from since to until (exclusive; the day of the last instant before it), so the chart's
    axis spans the period asked for, not only the days that happen to have items; the items' own days when
    no period is given."""
    first = since.astimezone(TEHRAN).date() if since else min(known, default=None)
    last = (until - timedelta(microseconds=1)).astimezone(TEHRAN).date() if until else max(known, default=None)
    if known:  # an item outside the period (its published date differs from when it was fetched) still shows
        first, last = min(first or min(known), min(known)), max(last or max(known), max(known))
    if first is None or last is None or last < first:
        return []
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def jalali_year(day: date) -> int:
    return jalali_ymd(day)[0]


def group(items: list[ItemView], by: str | None, watch_order: list[str]) -> list[tuple[str, list[ItemView]]]:
    """[(heading, items)]: by watch entry (an item under each entry it matched), feed, or Tehran day."""
    if not by:
        return [("", items)]
    if by not in GROUP_BY:
        raise ValueError(f"group by one of {', '.join(GROUP_BY)}, not {by!r}")
    groups: dict[str, list[ItemView]] = {}
    if by == "watch":
        for w in watch_order:
            groups[w] = [it for it in items if any(m.watch == w for m in it.matches)]
    elif by == "story":  # the most widely carried first; within a story, newest first as the items
        for it in sorted(items, key=lambda i: -i.carried_by):
            key = (f"{it.story_title or '(no title)'} · story #{it.story} · {it.carried}" if it.story is not None
                   else f"{it.title} · no story yet")
            groups.setdefault(key, []).append(it)
    elif by == "feed":
        for it in sorted(items, key=lambda i: i.feed):
            groups.setdefault(it.feed, []).append(it)
    else:
        for it in items:  # newest day first, as the items
            key = f"{jalali_day(it.day)} ({it.day:%Y-%m-%d})" if it.day else "no date"
            groups.setdefault(key, []).append(it)
    return list(groups.items())


def period_text(report: Report, words: bool = False) -> str:
    """"1404-08-26 00:00 – 1404-09-03 08:00" (Jalali, Tehran) for headings; `words`: "از ۲۶ آبان … تا …"."""
    def fmt(when: datetime | None) -> str:
        return (jalali_words(when) if words else jalali(when)) if when else "…"

    if words and (report.since or report.until):
        return f"از {fmt(report.since)} تا {fmt(report.until or report.generated)}"
    if not report.since and not report.until:
        return ""
    return f"{fmt(report.since)} – {fmt(report.until or report.generated)}"


def zone(name: str | None) -> tzinfo:
    """A zone by IANA name; Asia/Tehran when none is given."""
    if not name or name == "Asia/Tehran":
        return TEHRAN
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
