"""Step 1 of a refresh, pure: a FeedJob in, a FeedReply out, no database writes (monitor.refresh says why).

Read top to bottom: the job and the reply, the body hash, fetch_and_analyse, and the read-only StoreView it
asks which keys are known and what the near-duplicate check will need.
"""

from __future__ import annotations

import hashlib
import threading
import traceback
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from monitor import schedule
from monitor.dates import now_utc, to_iso
from monitor.errors import FetchError, ParseError, StoreError
from monitor.models import DedupSettings, FetchResult, HTTPSettings, PagePlan

if TYPE_CHECKING:
    from monitor import dedup

# The text stack (dedup: numpy, the fingerprint tables), the article pages and the store (sqlite_utils) are
# imported where they are first used, not here: `monitor poll` imports this module before it forks its workers,
# and a poll where nothing changed never needs the text stack at all.


class FeedJob(NamedTuple):
    """One feed to fetch and analyse, with what the store knows of it."""

    name: str
    url: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None  # of the last body whose items were stored
    pages: PagePlan | None = None  # which new items' pages to fetch, and by when
    retry: tuple = ()  # (id, link, title, feed text, status) of stored items whose page failed once
    until: float = 0.0  # time.time() after which the feed's host's turn is not waited for (0: no bound)


class FeedReply(NamedTuple):
    """What fetch_and_analyse found. `result` has no body (b"" for a 200, None for a 304); `items` is None when
    there was nothing to analyse (304, or the same body again); `error` is the failure to record on the feed,
    with `trace` (the formatted traceback) when it is the monitor's own bug rather than the feed's or the
    network's; `lost` means the worker died holding the job, which the caller must then do itself."""

    job: FeedJob
    result: FetchResult | None = None
    body_hash: str | None = None
    ttl: float | None = None
    items: list | None = None
    error: BaseException | None = None
    lost: bool = False
    held: Any = None  # dedup.HeldSnapshot of the items, from the view of the store the step asked
    trace: str | None = None
    note: str | None = None  # what was wrong in a body stored all the same (items skipped, the item cap)
    retried: tuple = ()  # (item id, its status, AnalysedItem judged again) for each page of job.retry


def body_hash(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


# ------------------------------------------------------------------------------------ step 1: fetch and analyse
def fetch_and_analyse(job: FeedJob, client: Any, http: HTTPSettings, matcher: Any, view: "StoreView",
                      pages: Any = None, fetched: Callable[[], None] | None = None) -> FeedReply:
    """Fetch and analyse one feed; every failure comes back in the reply. `matcher` is a Matcher, or a callable
    that makes one: the text stack (numpy, the automaton) is loaded on the first body to analyse, so a poll where
    nothing changed never pays for it. `pages` is the process's monitor.article.pages.PageFetcher (None: no
    article pages); the feed's new items' pages and its retries are fetched by the job's plan's deadline, and a
    page that fails only leaves its item judged on the feed's text. `fetched`, when given, is called once the
    feed's own request is over (monitor.turns: the host's gate counts it out), whatever its outcome."""
    from monitor.fetch import fetch

    try:
        try:
            result = fetch(client, job.url, http, etag=job.etag, last_modified=job.last_modified)
        finally:
            if fetched is not None:
                fetched()
        deadline = job.pages.deadline() if pages is not None and job.pages is not None else 0.0
        if result.body is None:
            return FeedReply(job, result, retried=_retried(job, pages, matcher, deadline))
        digest, ttl = body_hash(result.body), schedule.rss_ttl(result.body)
        headers = replace(result, body=b"")
        if digest == job.body_hash:  # the server ignored the validators but sent the same bytes
            return FeedReply(job, headers, digest, ttl, retried=_retried(job, pages, matcher, deadline))
        from monitor.analyse import judge_items, prepare_feed

        prepared, notes = prepare_feed(result.body, result.content_type, result.url,
                                       lambda keys: view.known(job.name, keys), max_items=http.max_items)
        found = None
        if pages is not None:  # the new items' article pages, by the plan's deadline
            from monitor.article.pages import new_pages

            found = new_pages(job.pages, prepared, pages, deadline)
        items = judge_items(prepared, matcher() if callable(matcher) else matcher, found)
        return FeedReply(job, headers, digest, ttl, items, held=view.held(items), note="; ".join(notes) or None,
                         retried=_retried(job, pages, matcher, deadline))
    except (FetchError, ParseError) as exc:  # the feed's or the network's fault: recorded, backed off
        return FeedReply(job, error=exc)
    except Exception as exc:  # the monitor's own bug: recorded with its traceback, never backed off
        return FeedReply(job, error=exc, trace=traceback.format_exc())


def _retried(job: FeedJob, pages: Any, matcher: Any, deadline: float) -> tuple:
    """The job's pages that failed last time, tried once more (monitor.article.pages.retry_pages)."""
    if pages is None or not job.retry:
        return ()
    from monitor.article.pages import retry_pages

    return retry_pages(job.pages, job.retry, pages, matcher() if callable(matcher) else matcher, deadline)


class StoreView:
    """A read-only view of the store for the pure step, shared by the threads of one process (one connection,
    used by one at a time): which keys a feed has, and what FeedJudge would ask the database about its new items
    (dedup.held_snapshot). The writer checks keys again and completes the snapshot with what it wrote after it,
    so a view a little behind costs only wasted work, never a wrong verdict."""

    def __init__(self, database: str, dedup_settings: DedupSettings) -> None:
        self._database, self._dedup = database, dedup_settings
        self._store: Any = None
        self._lock = threading.Lock()

    def _open(self) -> Any:
        if self._store is None:
            from monitor.store import Store

            try:
                self._store = Store.open(self._database, readonly=True)
            except StoreError:
                return None  # no database yet: nothing is stored
        return self._store

    def known(self, feed: str, keys: list[str]) -> set[str]:
        with self._lock:
            store = self._open()
            return store.items.known_keys(feed, keys) if store is not None else set()

    def held(self, items: list) -> "dedup.HeldSnapshot":
        from monitor import dedup

        pairs = [(a.item.key, a.fingerprint) for a in items]
        with self._lock:
            store = self._open()
            if store is None:
                return dedup.HeldSnapshot(0, frozenset(), frozenset(), frozenset())
            since = to_iso(now_utc() - timedelta(days=self._dedup.window_days))
            with store.snapshot():
                return dedup.held_snapshot(store, since, self._dedup.threshold, pairs)

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

