"""Fetching new items' article pages politely: the feed fetcher's manners, one gate per host, one deadline.

Why it is built this way:

* The same fetcher as feeds (monitor.fetch: connect/read timeouts, a total deadline, the body cap, the redirect
  limit, the user agent), so a page that trickles, redirects for ever or is a gzip bomb costs what a feed would,
  never more. Each page fetch also ends at the cycle's article deadline (`articles.deadline`), whichever is
  first, so a cycle of hanging pages stays bounded.
* Per-host politeness holds for the whole poll, whichever process fetches: a HostGate is a few counters in
  shared memory (multiprocessing RawArrays under one lock), made once by the process that starts the workers and
  inherited by them. A host is hashed (crc32, the same in every process) into one of `slots` buckets; two hosts
  sharing a bucket are only treated more politely than asked, never less. The alternative, routing a host's
  feeds to one worker, would not cover a feed whose links point to another host (feedburner, syndicators), and
  dividing `per_host` among workers cannot divide the delay, nor go below one request per worker.
* The pages of one feed are fetched by a few threads of their own (at most per_host per host, FEED_THREADS in
  all), with a client and connection pool of their own, so a feed whose pages hang holds its own refresh, up to
  the deadline, and neither another feed's thread nor a connection the feeds' fetches need.

Nothing here parses a page or touches the store: pages come back as bytes (or the reason they did not), and
monitor.article.read_page decides what they hold.
"""

from __future__ import annotations

import multiprocessing
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, NamedTuple, Sequence

from monitor.errors import FetchError, HTTPStatusError
from monitor.models import ArticleSettings, FetchResult, HTTPSettings, PageOutcome, PagePlan, host_of

ACCEPT_HTML = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
PAGE_MAX_BYTES = 5 * 1024 * 1024  # a page over this (or over http.max_bytes, when smaller) is not an article
DEADLINE_PASSED = "the cycle's article deadline (articles.deadline) passed before the page was fetched"
FEED_THREADS = 8  # most threads fetching one feed's pages at once (fewer when its pages are on fewer hosts)
_WAIT_STEP = 0.02  # seconds between two looks at a busy host's gate


class HostGate:
    """How many requests are in flight to each host and when the next may start, shared by every thread of
    every process that inherited the gate (see the module's docstring).

    enter() waits until the host has fewer than `per_host` requests in flight and `delay` seconds have passed
    since the last one started, then counts this one in; leave() counts it out. The clock is time.monotonic,
    one system-wide clock on Linux and macOS, so processes compare their times."""

    def __init__(self, slots: int = 1024, ctx: Any = None) -> None:
        ctx = ctx or multiprocessing.get_context()
        self._slots = slots
        self._lock = ctx.Lock()
        self._in_flight = ctx.RawArray("i", slots)
        self._next_start = ctx.RawArray("d", slots)

    def _slot(self, host: str) -> int:
        return zlib.crc32(host.encode("utf-8", "replace")) % self._slots

    def try_enter(self, host: str, per_host: int, delay: float) -> tuple[bool, float]:
        """Count a request to the host in when it may start now: (True, 0.0). Otherwise nothing is counted and
        the answer is (False, seconds until it is worth asking again). Feed fetches ask this way (monitor.turns:
        a feed waiting for its host holds no thread); enter() waits on it."""
        slot = self._slot(host)
        now = time.monotonic()
        with self._lock:
            start = self._next_start[slot]
            if self._in_flight[slot] < per_host and now >= start:
                self._in_flight[slot] += 1
                self._next_start[slot] = now + delay
                return True, 0.0
            return False, max(start - now, 0.0) if self._in_flight[slot] < per_host else _WAIT_STEP

    def enter(self, host: str, per_host: int, delay: float, deadline: float) -> bool:
        """Wait for the host's turn; False (and nothing counted) when the deadline comes first."""
        while True:
            if time.monotonic() >= deadline:
                return False
            entered, wait = self.try_enter(host, per_host, delay)
            if entered:
                return True
            if time.monotonic() + wait >= deadline:
                return False
            time.sleep(min(max(wait, 0.001), _WAIT_STEP))

    def leave(self, host: str) -> None:
        slot = self._slot(host)
        with self._lock:
            self._in_flight[slot] = max(0, self._in_flight[slot] - 1)


class Page(NamedTuple):
    """One page fetched, or the reason it was not: `result` (with the body) or `reason`."""

    url: str
    result: FetchResult | None
    reason: str | None


class PageFetcher:
    """The pages of one process's refreshes: an HTTP client of their own, one gate shared with the other
    processes. close() it with the runner."""

    def __init__(self, http: HTTPSettings, articles: ArticleSettings, gate: HostGate) -> None:
        from monitor.fetch import make_client

        self._articles, self._gate = articles, gate
        self._http = replace(http, max_bytes=min(http.max_bytes, PAGE_MAX_BYTES))
        # Room for every page thread of every feed this process refreshes at once: none waits for a connection.
        self._client = make_client(self._http, connections=FEED_THREADS * max(1, http.concurrency))

    def close(self) -> None:
        self._client.close()

    def fetch_all(self, urls: Sequence[str], deadline: float) -> list[Page]:
        """Every url's page, in order, all done by `deadline` (monotonic): a page not started by then is not
        fetched, one in flight is cut off at it."""
        if not urls:
            return []
        hosts = {host_of(u) for u in urls}
        threads = min(len(urls), self._articles.per_host * len(hosts), FEED_THREADS)
        if threads <= 1:
            return [self.fetch_one(u, deadline) for u in urls]
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="monitor-page") as pool:
            return list(pool.map(lambda u: self.fetch_one(u, deadline), urls))

    def fetch_one(self, url: str, deadline: float) -> Page:
        from monitor.fetch import fetch

        host = host_of(url)
        if host is None:
            return Page(url, None, "not an http(s) link")
        if not self._gate.enter(host, self._articles.per_host, self._articles.delay, deadline):
            return Page(url, None, DEADLINE_PASSED)
        try:
            return Page(url, fetch(self._client, url, self._http, deadline=deadline, accept=ACCEPT_HTML), None)
        except HTTPStatusError as exc:
            return Page(url, None, str(exc).split(" (the ")[0])  # the message's hint is about feed URLs
        except FetchError as exc:
            return Page(url, None, str(exc) or type(exc).__name__)
        finally:
            self._gate.leave(host)


def read_pages(wanted: Sequence[tuple[str, str, str]], fetcher: PageFetcher, deadline: float,
               min_chars: int) -> list[PageOutcome]:
    """For each (link, title, feed text), its page fetched and read (monitor.article.read_page): ok with the
    article's text when the extraction is accepted (at least `min_chars`, articles.min_chars, and holding the
    feed's lead), else failed with the reason. Never raises: whatever a page holds, the item is stored from
    its feed text."""
    if not wanted:
        return []
    from monitor.article import read_page

    out: list[PageOutcome] = []
    for (link, title, feed_text), page in zip(wanted, fetcher.fetch_all([w[0] for w in wanted], deadline)):
        if page.result is None:
            out.append(PageOutcome("failed", page.reason))
            continue
        try:
            got = read_page(page.result.body or b"", page.result.content_type, page.result.url, title=title,
                            feed_text=feed_text, min_chars=min_chars)
        except Exception as exc:  # noqa: BLE001 - one page never fails its feed
            out.append(PageOutcome("failed", f"could not read the page: {type(exc).__name__}: {str(exc)[:200]}"))
            continue
        if got.text:
            out.append(PageOutcome("ok", got.reason, got.text))
        else:
            out.append(PageOutcome("failed", got.reason or "no article text on the page"))
    return out


def new_pages(plan: PagePlan | None, prepared: list, fetcher: PageFetcher, deadline: float
              ) -> list[PageOutcome | None] | None:
    """The article pages of a feed's new items (analyse.PreparedItem) that the plan wants (full_text,
    min_chars), one per item: None where no page was wanted."""
    if plan is None or not prepared:
        return None
    wanted = [i for i, item in enumerate(prepared) if plan.wants(item.link, item.body)]
    found: list[PageOutcome | None] = [None] * len(prepared)
    read = read_pages([(prepared[i].link, prepared[i].title, prepared[i].body) for i in wanted], fetcher, deadline,
                      plan.min_chars)
    for i, outcome in zip(wanted, read):
        found[i] = outcome
    return found


def retry_pages(plan: PagePlan | None, retry: Sequence[tuple], fetcher: PageFetcher, matcher: Any,
                deadline: float) -> tuple:
    """Stored items whose page failed once, (id, link, title, feed text, status) each: their pages fetched and
    read once more, and each item judged again on what it now has (analyse.judge_items), as (id, status,
    AnalysedItem). The storing step decides what a late success changes (refresh.Writer)."""
    from monitor.analyse import PreparedItem, judge_items

    read = read_pages([(link, title, body) for _, link, title, body, _ in retry], fetcher, deadline,
                      plan.min_chars if plan is not None else 0)
    again = judge_items([PreparedItem("", None, link, None, title, "", body, None)
                         for _, link, title, body, _ in retry], matcher, read)
    return tuple((item_id, status, analysed) for (item_id, _, _, _, status), analysed in zip(retry, again))


__all__ = ["new_pages", "retry_pages", "ACCEPT_HTML", "DEADLINE_PASSED", "HostGate", "Page", "PageFetcher", "read_pages"]
