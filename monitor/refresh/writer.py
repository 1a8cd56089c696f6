"""Step 2 of a refresh: the one writer's half (monitor.refresh says why there are two steps).

Writer makes each feed's job from the store's feed state and stores the pure step's reply: judges the new items,
writes items, matches, fingerprints, stories, alerts and the feed's validators in one transaction, and plans the
next poll (next_poll_at).
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

from monitor import schedule
from monitor.dates import now_utc, to_iso
from monitor.errors import HostBusyError, HTTPStatusError, StoreError
from monitor.models import AUTO, Config, FeedSpec, PageOutcome, PagePlan, Source
from monitor.refresh.step import FeedJob, FeedReply

if TYPE_CHECKING:
    from monitor import dedup
    from monitor.store import Store

# dedup (numpy), stories, notify and the store are imported where they are first used, as in step.py.

log = logging.getLogger("monitor.refresh")  # the name the logs and their filters have always used


@dataclass
class FeedOutcome:
    name: str
    status: str  # ok | not_modified | error
    error: str | None = None  # the failure; for ok, a note on what was wrong in a feed stored all the same
    new: int = 0
    duplicate: int = 0
    flagged: int = 0
    seconds: float = 0.0


# ------------------------------------------------------------------------------------ step 2: store the reply
class Writer:
    """The one writer's half of a refresh: jobs from the store's feed state, replies into the store.

    A reply's snapshot (HeldSnapshot) is at least as new as the last commit before its job was made; what this
    connection wrote after the oldest such commit is remembered (Store.track_recent) until no job in flight
    needs it. Used by one thread at a time: the poll's main thread, or the daemon's jobs under its writer lock.
    """

    def __init__(self, config: Config, store: "Store", clock: Callable[[], datetime] = now_utc) -> None:
        self.config, self.store = config, store
        self.clock = clock  # the time a refresh is stored at, which the next poll is planned from (tests set it)
        # When (time.time()) the article fetches of jobs made now must end: a poll sets its cycle's; None (the
        # daemon): each job gets articles.deadline from when it is made.
        self.pages_until: float | None = None
        # When (time.time()) a job made now stops waiting for its host's turn (monitor.turns): a poll sets its
        # cycle's end (schedule.interval after its start); None (the daemon): the feed's next poll.
        self.feeds_until: float | None = None
        self._handed: dict[str, int] = {}
        store.fingerprints.track_recent(True)
        self.stories: Any = None  # monitor.stories.Assigner, made when the first items are stored

    def job(self, spec: FeedSpec) -> FeedJob:
        state = self.store.feeds.state(spec.name)
        self._handed[spec.name] = self.store.fingerprints.committed_upto
        articles = self.config.articles
        mode = spec.full_text or articles.full_text
        plan = PagePlan(mode, articles.min_chars, self.pages_until or time.time() + articles.deadline)
        retry = tuple(self.store.items.page_retries(spec.name)) if mode != "never" else ()
        until = 0.0
        if self.config.http.per_host is not None or self.config.http.host_delay > 0:
            until = self.feeds_until or time.time() + self.interval(spec)[0]
        return FeedJob(spec.name, spec.url, state.etag if state else None, state.last_modified if state else None,
                       state.body_hash if state else None, plan, retry, until)

    def store_reply(self, spec: FeedSpec, reply: FeedReply) -> FeedOutcome:
        """Store what the pure step found, turning its failure into the feed's recorded error; log the outcome."""
        started = time.monotonic()
        try:
            if reply.error is not None:
                outcome = self._store_failure(spec, reply.error, reply.trace)
            else:
                outcome = self._store_fetched(spec, reply)
        except StoreError:
            raise
        except Exception as exc:  # a bug while storing must not end the cycle either
            self.stories = None  # its window may hold items whose transaction was rolled back
            outcome = self._store_failure(spec, exc, traceback.format_exc())
        finally:
            self._handed.pop(spec.name, None)
            self.store.fingerprints.forget_recent(min(self._handed.values(), default=self.store.fingerprints.committed_upto))
        outcome.seconds = time.monotonic() - started
        level = logging.WARNING if outcome.status == "error" else logging.INFO
        log.log(level, "feed %s: %s%s", spec.name, outcome.status,
                f" ({outcome.error})" if outcome.status == "error" else
                f" {outcome.new} new, {outcome.duplicate} duplicate, {outcome.flagged} flagged")
        return outcome

    def close(self) -> None:
        self.store.fingerprints.track_recent(False)

    # ---------------------------------------------------------------- failures
    def _store_failure(self, spec: FeedSpec, exc: BaseException, trace: str | None) -> FeedOutcome:
        """Record a failure on the feed. The feed's or the network's fault is backed off (or waits for the
        server's Retry-After); the monitor's own bug (`trace` set) is logged with its traceback and the feed
        keeps its interval: backing off a healthy feed would only hide the bug."""
        message = str(exc) or type(exc).__name__
        now = self.clock()
        if trace is not None:
            log.error("feed %s: internal error (a bug in the monitor, not in the feed): %s: %s\n%s", spec.name,
                      type(exc).__name__, exc, trace.rstrip())
            message = f"internal error: {type(exc).__name__}: {message}"
            delay, why = self.interval(spec)[0], "internal error; see the log (not backed off)"
            with self.store.transaction():
                self.store.feeds.save_result(spec.name, status="error", fetched_at=to_iso(now), error=message,
                                            next_poll=next_poll_at(now, delay), next_poll_reason=why,
                                            count_failure=False)
            return FeedOutcome(spec.name, "error", error=message)
        if isinstance(exc, HostBusyError):  # not fetched at all: the feed did nothing wrong
            delay = self.interval(spec)[0]
            with self.store.transaction():
                self.store.feeds.save_result(spec.name, status="error", fetched_at=to_iso(now), error=message,
                                            next_poll=next_poll_at(now, delay), count_failure=False,
                                            next_poll_reason="deferred: its host's turn came too late")
            return FeedOutcome(spec.name, "error", error=message)
        state = self.store.feeds.state(spec.name)
        failures = (state.consecutive_failures if state else 0) + 1
        retry_after = exc.retry_after if isinstance(exc, HTTPStatusError) else None
        delay, why = schedule.backoff_delay(self.interval(spec)[0], failures, retry_after)
        log.info("feed %s: next poll in %.0fs (%s)", spec.name, delay, why)
        retry_until = next_poll_at(now, retry_after) if retry_after else None  # a one-shot poll honours it too
        with self.store.transaction():
            self.store.feeds.save_result(spec.name, status="error", fetched_at=to_iso(now), error=message,
                                        next_poll=next_poll_at(now, delay), next_poll_reason=why,
                                        retry_until=retry_until)
        return FeedOutcome(spec.name, "error", error=message)

    # ---------------------------------------------------------------- a good fetch
    def _store_fetched(self, spec: FeedSpec, reply: FeedReply) -> FeedOutcome:
        """`reply.result.body` is None for a 304; `reply.items` is None when the body was the one stored last
        time, which a server ignoring validators re-sends: nothing new.

        A 304 carries no body, so no <ttl>, and often no Cache-Control: the feed's are remembered from the
        response that had them, and a 304's validators are those that were sent (fetch keeps only usable ones),
        which repairs a feed that held an unusable one."""
        result, items = reply.result, reply.items
        now = self.clock()
        state = self.store.feeds.state(spec.name)
        ttl, max_age = reply.ttl, result.max_age
        if result.body is None and state is not None:
            ttl = state.ttl
            max_age = max_age if max_age is not None else state.max_age
        interval, auto_why = self.interval(spec)
        delay, why = schedule.success_delay(interval, ttl=ttl, max_age=max_age)
        if why or auto_why:
            log.info("feed %s: next poll in %.0fs (%s)", spec.name, delay, why or auto_why)
        if reply.note:
            log.warning("feed %s: %s", spec.name, reply.note)
        plan = dict(fetched_at=to_iso(now), next_poll=next_poll_at(now, delay), next_poll_reason=why or auto_why,
                    ttl=ttl, max_age=max_age)
        if result.body is None or items is None:
            with self.store.transaction():
                self._store_retried(spec.name, reply.retried, [])
                self.store.feeds.save_result(spec.name, status="not_modified", etag=result.etag,
                                            last_modified=result.last_modified, **plan)
            return FeedOutcome(spec.name, "not_modified")
        outcome = FeedOutcome(spec.name, "ok", error=reply.note)
        held = reply.held
        with self.store.transaction():
            if self.store.several_writers:
                # Other workers store meanwhile: one feed at a time is judged and inserted (PgDb.lock_verdicts), and
                # the worker's view, which only this process's writes complete, is not trusted for the verdicts.
                self.store.db.lock_verdicts()
                held = None
            # The authoritative check: what the view saw as unknown may have been stored since.
            known = self.store.items.known_keys(spec.name, [a.item.key for a in items])
            fresh = []
            for analysed in items:
                if analysed.item.key not in known:
                    known.add(analysed.item.key)
                    fresh.append(analysed)
            self._store_items(spec.name, fresh, now, outcome, held)
            self._store_retried(spec.name, reply.retried, [a.page for a in fresh])
            self.store.feeds.save_result(spec.name, status="ok", etag=result.etag, body_hash=reply.body_hash,
                                        last_modified=result.last_modified, error=reply.note, **plan)
        return outcome

    def _store_items(self, feed: str, items: list, now: datetime, outcome: FeedOutcome,
                     held: "dedup.HeldSnapshot | None") -> None:
        """Judge and store a feed's new items, in feed order, with a few statements for the whole feed.

        Each item is judged against everything stored before it, the feed's earlier items included (two copies
        of one article in one feed: the second is the duplicate); the database is asked once for the whole feed
        (dedup.FeedJudge), and the rows are written together.
        """
        if not items:
            return
        from monitor import dedup

        window_start = to_iso(now - timedelta(days=self.config.dedup.window_days))
        judge = dedup.FeedJudge(self.store, window_start, self.config.dedup.threshold,
                                [(a.item.guid, a.item.canonical_link, a.fingerprint) for a in items],
                                snapshot=held, keys=[a.item.key for a in items], feed=feed)
        ids = self.store.items.reserve_ids(len(items))
        fetched_at = to_iso(now)
        rows, matches, flagged = [], [], []
        for item_id, analysed in zip(ids, items):
            item, fp = analysed.item, analysed.fingerprint
            verdict = judge.next(item_id)
            rows.append({
                "id": item_id, "feed": feed, "key": item.key, "guid": item.guid, "link": item.link,
                "canonical_link": item.canonical_link, "title": item.title, "summary": item.summary,
                "body": item.body, "published": item.published, "fetched_at": fetched_at,
                "status": "duplicate" if verdict else "new",
                "dup_kind": verdict.kind if verdict else None, "dup_ref": verdict.ref if verdict else None,
                "dup_score": verdict.score if verdict else None, "dup_reason": verdict.reason if verdict else None,
                "body_hash": fp.body_hash or None, "title_body_hash": fp.title_body_hash or None,
                "title_hash": fp.title_hash or None, **_page_columns(analysed.page),
            })
            matches.extend((item_id, m) for m in analysed.matches)
            if verdict:
                outcome.duplicate += 1
                continue
            outcome.new += 1
            outcome.flagged += bool(analysed.matches)
            if analysed.matches:
                flagged.append((item_id, analysed.matches))
            self.store.fingerprints.add(Source.item(item_id), fp.hashes)  # waits in memory until the commit
        self.store.items.insert_new(rows)
        self.store.matches.add_many(matches)
        self.store.search.add((item_id, *analysed.words) for item_id, analysed in zip(ids, items))
        from monitor.stories import Assigner

        self.stories = self.stories or Assigner(self.store.stories)
        self.stories.assign(rows, [a.story_terms for a in items])  # each item's story, in this transaction
        self._queue_alerts(flagged)  # duplicates get none

    def _queue_alerts(self, flagged: list) -> None:
        """Outbox rows for flagged new items, (item id, matches) pairs, in the transaction that stores their flag
        (monitor.notify sends them after the commit). An item already queued for a destination is left alone."""
        if flagged and self.config.notify:
            from monitor.notify.routing import outbox_rows
            from monitor.notify.timing import stamp

            self.store.outbox.add([row for item_id, found in flagged
                                   for row in outbox_rows(self.config.notify, item_id, found)], stamp(now_utc()))

    def _store_retried(self, feed: str, retried: tuple, pages: list) -> None:
        """Record the pages tried again (the feed's new items' `pages` were stored with them) and count the
        feed's article failures of this refresh.

        A page that failed once is tried on the next refresh and never after. What a late success updates: the
        article text and body_source, the item's matches (so its flag, for a new item), and, for an item stored
        as new, its fingerprints and exact hashes (later copies of the article are then recognised). Its
        verdict stays as judged on the feed text: other items may have been judged against it since, and a
        stored duplicate is never turned into a new item (nor the other way) after the fact."""

        updates, flagged = [], []
        for item_id, status, again in retried:
            page, fp = again.page, again.fingerprint
            row = {"id": item_id, "page_status": page.status, "page_reason": page.reason, "page_attempts": 2}
            if page.status == "ok":
                row.update(article_text=page.text, body_source="page")
                self.store.matches.replace(item_id, list(again.matches))
                if status == "new":
                    row.update(body_hash=fp.body_hash or None, title_body_hash=fp.title_body_hash or None)
                    self.store.fingerprints.add(Source.item(item_id), fp.hashes)
                    if again.matches:  # flagged on its article: it alerts now (queued once per destination)
                        flagged.append((item_id, again.matches))
            updates.append(row)
        if updates:
            self.store.items.update_pages(updates)
            self.store.search.reindex(row["id"] for row in updates if row.get("article_text"))  # its words
        self._queue_alerts(flagged)
        failed = [p.reason for p in [*pages, *(again.page for _, _, again in retried)]
                  if p is not None and p.status == "failed"]
        self.store.feeds.count_article_failures(feed, len(failed), failed[-1] if failed else None)

    # ---------------------------------------------------------------- the next poll
    def interval(self, spec: FeedSpec) -> tuple[float, str | None]:
        """The feed's interval now, and why when it is `auto` (from the times of its recent items)."""
        sched = self.config.schedule
        if spec.interval != AUTO:
            return float(spec.interval or sched.interval), None
        since = to_iso(self.clock() - timedelta(days=14))
        times = [datetime.fromisoformat(t)
                 for t in self.store.items.recent_times(spec.name, since, schedule.AUTO_SAMPLE)]
        return schedule.auto_interval(times, self.clock(), default=sched.interval, low=sched.min_interval,
                                      high=sched.max_interval)


def _page_columns(page: PageOutcome | None) -> dict[str, Any]:
    """An item's article-page columns (store migration m008) from how its page went."""
    if page is None or page.status is None:
        return {"article_text": None, "body_source": "feed", "page_status": None,
                "page_reason": page.reason if page else None, "page_attempts": 0}
    return {"article_text": page.text if page.status == "ok" else None,
            "body_source": "page" if page.status == "ok" else "feed", "page_status": page.status,
            "page_reason": page.reason, "page_attempts": 1}


def next_poll_at(now: datetime, delay: float) -> str:
    """now + delay, stored rounded *up* to the second: a Retry-After is never cut short by the rounding."""
    when = now + timedelta(seconds=delay)
    if when.microsecond:
        when = when.replace(microsecond=0) + timedelta(seconds=1)
    return to_iso(when)

