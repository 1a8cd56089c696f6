"""Plain value objects passed between the stages. Frozen, so no stage changes another's data."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple
from urllib.parse import urlsplit

WATCH_KINDS = ("party", "figure", "country", "other")
AUTO = "auto"  # FeedSpec.interval when the daemon adapts the interval to how often the feed publishes
FULL_TEXT = ("auto", "always", "never")  # FeedSpec.full_text: when an item's article page is fetched


@dataclass(frozen=True)
class FeedSpec:
    """One feed from config.yaml."""

    name: str
    url: str
    interval: float | str | None = None  # seconds; None: the schedule's interval; AUTO: adapted to the feed
    # When a new item's page is fetched and judged on: auto, when the feed's own text for it is shorter than
    # articles.min_chars; always; never (one of FULL_TEXT); None: articles.full_text.
    full_text: str | None = None
    # A folder name (an OPML import keeps the reader's folders here, nested ones joined with "/"): `monitor report
    # --group` and `monitor items --group` select the feeds of one group; None: in no group.
    group: str | None = None


@dataclass(frozen=True)
class WatchEntry:
    """One watched party, figure, country or other thing; its terms are aliases of each other."""

    name: str
    kind: str  # one of WATCH_KINDS
    terms: tuple[str, ...]
    suffixes: tuple[str, ...] | None = None  # None: the default suffixes for the kind
    exclude: tuple[str, ...] = ()  # phrases whose occurrences never count as a match


@dataclass(frozen=True)
class HTTPSettings:
    timeout: float = 20.0
    max_bytes: int = 15 * 1024 * 1024
    user_agent: str = "persian-news-monitor/0.1 (+https://github.com/)"
    concurrency: int = 4
    max_redirects: int = 5
    max_items: int = 1000  # most items kept from one feed body per poll, the newest: a feed cannot flood the store
    per_host: int | None = None  # feed requests in flight to one host across the whole poll (None: no limit)
    host_delay: float = 0.0  # seconds between the starts of two feed requests to one host


@dataclass(frozen=True)
class Schedule:
    interval: float = 900.0
    jitter: float = 30.0
    min_interval: float = 300.0  # bounds of `interval: auto`
    max_interval: float = 14_400.0
    # Several workers on PostgreSQL: a claimed feed is another worker's to take this long after its claim, if the
    # worker that claimed it died (kill -9, a lost machine) before storing it. Longer than a refresh can take.
    lease: float = 300.0


@dataclass(frozen=True)
class DedupSettings:
    window_days: float = 7.0  # stored items this recent are compared for near-duplicates
    threshold: float = 0.5  # share of an item's fingerprints found in one known text that makes it a duplicate


@dataclass(frozen=True)
class ArticleSettings:
    """`articles:` in config.yaml: fetching new items' pages to judge them on the whole article."""

    min_chars: int = 500  # full_text auto: a feed text shorter than this sends for the page
    per_host: int = 2  # requests in flight to one host, across the whole poll
    delay: float = 1.0  # seconds between the starts of two requests to one host
    deadline: float = 60.0  # seconds for all article fetches of one cycle (a daemon's refresh: of one feed)
    full_text: str = "auto"  # the feeds' full_text where a feed does not set its own


@dataclass(frozen=True)
class ReportSettings:
    """`report:` in config.yaml: the daemon writes a dated flagged-items report on this schedule.

    `every` is kept as written ("day at 08:00", "monday at 08:00"); hour, minute and day_of_week are what it
    means, ready for an APScheduler CronTrigger (see cron()). The report covers the period since the last one.
    """

    every: str = "day at 08:00"
    hour: int = 8
    minute: int = 0
    day_of_week: str | None = None  # "mon".."sun" for a weekly report; None: every day
    format: str = "html"  # one of REPORT_FORMATS
    output: str = "state/reports"  # a folder, resolved against config.yaml's folder
    timezone: str = "Asia/Tehran"  # an IANA zone name: when "08:00" is, and the date in the file name

    @property
    def period_days(self) -> int:
        return 1 if self.day_of_week is None else 7

    def cron(self) -> dict[str, object]:
        """Keyword arguments for apscheduler.triggers.cron.CronTrigger."""
        fields: dict[str, object] = {"hour": self.hour, "minute": self.minute, "timezone": self.timezone}
        if self.day_of_week:
            fields["day_of_week"] = self.day_of_week
        return fields


REPORT_FORMATS = ("html", "markdown", "csv", "json", "atom", "table")
NOTIFY_MODES = ("immediate", "digest")


@dataclass(frozen=True)
class NotifySpec:
    """One `notify:` destination: an Apprise URL and which flagged items go there, how and when.

    `url` is the real URL, with `${NAME}` values from the environment: it is a secret and is left out of repr,
    so no log line or error message that shows a Config can carry it. `shown` is the URL as written in
    config.yaml (`${NAME}` kept as written, a password masked), what commands and logs print. `secrets` are
    the substituted values, masked out of any text a service sends back (monitor.notify.masking)."""

    name: str
    url: str = field(repr=False)
    shown: str = ""
    watch: tuple[str, ...] = ()  # watch entry names; () means every entry
    kind: tuple[str, ...] = ()  # watch kinds; () means every kind
    mode: str = "immediate"  # one of NOTIFY_MODES
    every: str = "day at 08:00"  # a digest's period as written: "hour", "day at 08:00", "monday at 08:00"
    hour: int | None = 8  # None: every hour (at `minute`)
    minute: int = 0
    day_of_week: str | None = None
    quiet: tuple[int, int] | None = None  # seconds after Tehran midnight [start, end): held, then sent
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def cron(self) -> dict[str, object]:
        """A digest's period as keyword arguments of an APScheduler CronTrigger, in Tehran time."""
        fields: dict[str, object] = {"minute": self.minute, "timezone": "Asia/Tehran"}
        if self.hour is not None:
            fields["hour"] = self.hour
        if self.day_of_week:
            fields["day_of_week"] = self.day_of_week
        return fields


@dataclass(frozen=True)
class ServeSettings:
    """`serve:` in config.yaml: where `monitor serve` listens. Any address but loopback needs password_file (a
    scrypt hash, monitor.web.auth): the pages show what the feeds carried and what the analyst watches."""

    host: str = "127.0.0.1"
    port: int = 8080
    password_file: str | None = None  # resolved against config.yaml's folder


@dataclass(frozen=True)
class Config:
    path: str  # absolute path of config.yaml; relative paths below are already resolved against its folder
    database: str
    corpus: tuple[str, ...]
    feeds: tuple[FeedSpec, ...]
    watch: tuple[WatchEntry, ...]
    schedule: Schedule = field(default_factory=Schedule)
    http: HTTPSettings = field(default_factory=HTTPSettings)
    dedup: DedupSettings = field(default_factory=DedupSettings)
    report: "ReportSettings | None" = None  # the daemon's scheduled report; None: no scheduled report
    articles: ArticleSettings = field(default_factory=ArticleSettings)
    notify: tuple[NotifySpec, ...] = ()  # alert destinations (monitor.notify)
    notify_backfill: float = 86_400.0  # seconds: a re-match alerts only on items fetched this recently
    serve: ServeSettings = field(default_factory=ServeSettings)  # `monitor serve` (monitor.web)


@dataclass(frozen=True)
class FetchResult:
    """What the server sent. body is None when it answered 304 Not Modified."""

    url: str  # the final URL after redirects
    status: int
    body: bytes | None
    content_type: str | None
    etag: str | None
    last_modified: str | None
    elapsed: float
    max_age: float | None = None  # Cache-Control: max-age in seconds, a minimum interval before the next poll


@dataclass(frozen=True)
class RawItem:
    """One feed entry as parsed, before any text work."""

    guid: str | None
    link: str | None
    title: str
    summary: str  # HTML or text, as the feed sent it
    content: str  # the longest content:encoded / atom content, HTML or text
    published: datetime | None  # timezone-aware UTC, or None when missing or not believable
    author: str | None = None


@dataclass(frozen=True)
class Match:
    """One watch entry found in one item."""

    watch: str
    kind: str
    terms: tuple[str, ...]  # the configured terms that were found
    count: int
    snippet: str


def host_of(url: str) -> str | None:
    """The host a page's politeness is counted against (lower-case name, no port), or None for a link that
    is not http(s) and so is never fetched."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    return host if parts.scheme.lower() in ("http", "https") and host else None


@dataclass(frozen=True)
class PagePlan:
    """What a feed's refresh needs to know about its pages, carried in its job (monitor.refresh.FeedJob) so it
    crosses into worker processes: the feed's full_text mode, articles.min_chars, and the moment (time.time(),
    which every process reads alike) its article fetches must be over. A value here, so the storing process
    makes jobs without importing the article stage."""

    full_text: str = "auto"
    min_chars: int = 500
    until: float = 0.0

    def wants(self, link: str | None, feed_text: str) -> bool:
        """Whether an item with this link and feed text has its page fetched."""
        if self.full_text == "never" or not link or host_of(link) is None:
            return False
        return self.full_text == "always" or len(feed_text) < self.min_chars

    def deadline(self) -> float:
        """The plan's end on this process's monotonic clock."""
        return time.monotonic() + (self.until - time.time())


class PageOutcome(NamedTuple):
    """How an item's article page went: `status` ok (its `text` is what the item is judged on) or failed, with
    the reason; status None when no page was wanted. A NamedTuple: it travels with items from worker processes."""

    status: str | None
    reason: str | None = None
    text: str | None = None


class Source(NamedTuple):
    """A known text that holds fingerprints: a corpus document (ref = file stem) or a stored item (ref = id)."""

    kind: str  # "corpus" | "item"
    ref: str | int

    @classmethod
    def item(cls, item_id: int) -> "Source":
        return cls("item", item_id)

    @classmethod
    def corpus(cls, ref: str) -> "Source":
        return cls("corpus", ref)


@dataclass(frozen=True)
class Verdict:
    """Why an item is a duplicate: of a corpus document (ref = file stem) or a stored item (ref = item id)."""

    kind: str  # "corpus" | "item"
    ref: str
    score: float
    reason: str  # guid | link | body | title+body | near
