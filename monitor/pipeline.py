"""Refresh one feed, or all of them: the only place where fetch, parse, dedup, match and store meet.

Modelled on Miniflux's RefreshFeed. A large poll (monitor.workers) runs worker processes that fetch and
analyse (conditional GET, parse, plain text, fingerprints, watch matches, near-duplicate questions to their own
read-only view of the store) while this process, the only SQLite writer, stores each feed as its reply comes.
A small cycle and the daemon fetch in a thread pool of this process and analyse here (monitor.analyse). Either
way storing runs in the calling thread, one feed at a time, so there is exactly one writer. A poll commits its
feeds in groups about a second apart (Store.commit_group), each feed a savepoint with its items, matches,
fingerprints and new validators: a crash loses at most the uncommitted feeds, and the next poll redoes them
(their validators were not saved, so the servers send the bodies again).
"""

from __future__ import annotations

import contextlib
import logging
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, ContextManager, Sequence

from monitor import dedup, schedule
from monitor.analyse import AnalysedItem, analyse, item_key, parse_keyed, prepare
from monitor.config import Config
from monitor.dates import now_utc, to_iso
from monitor.errors import FetchError, HTTPStatusError, MonitorError, ParseError
from monitor.fetch import fetch, make_client
from monitor.match import Matcher
from monitor.models import AUTO, FeedSpec, FetchResult, Source
from monitor.store import CommitGroup, Store
from monitor.workers import FeedJob, FeedReply, WorkerFarm, body_hash, relax_gc, start_farm, unpack

log = logging.getLogger("monitor.pipeline")
PRUNE_EVERY = timedelta(days=1)
# A poll commits the feeds it has stored about this often rather than feed by feed (Store.commit_group).
GROUP_COMMIT_SECONDS = 1.0
GROUP_IDLE_SECONDS = 0.2  # ... and at once when nothing has been ready to store for this long
# Fingerprint rows wait in memory, sorted and written at the group's commit; past this many they are written
# between two feeds. Written per feed instead, the cold farm poll took 3 s longer (each small sorted batch
# descends the index row by row, and dirty pages spill); lookups of rows still waiting need them indexed in
# Python, which a bounded number keeps cheap (speed issue).
PENDING_ROWS = 20_000


@dataclass
class FeedOutcome:
    name: str
    status: str  # ok | not_modified | error
    error: str | None = None
    new: int = 0
    duplicate: int = 0
    flagged: int = 0
    seconds: float = 0.0


@dataclass
class CycleSummary:
    outcomes: list[FeedOutcome] = field(default_factory=list)
    seconds: float = 0.0
    corpus_changes: int = 0

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def total(self, attr: str) -> int:
        return sum(getattr(o, attr) for o in self.outcomes)

    def line(self) -> str:
        return (f"cycle: {len(self.outcomes)} feeds ({self.count('ok')} ok, {self.count('not_modified')} not modified,"
                f" {self.count('error')} failed); items {self.total('new')} new, {self.total('duplicate')} duplicate,"
                f" {self.total('flagged')} flagged; {self.seconds:.1f}s")


class Engine:
    """Holds what a cycle needs and is built once per config: the store, the compiled matcher."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self.matcher = Matcher(config.watch)
        self._client = None  # an HTTP client for feeds a dead worker left, made on first need

    # ---------------------------------------------------------------- corpus
    def sync_corpus(self) -> int:
        """Fingerprint corpus files that are new or changed since the last cycle; forget removed ones."""
        known = self.store.corpus.index()
        seen: set[str] = set()
        changes = 0
        for path in dedup.corpus_files(self.config.corpus):
            ref = path.stem
            if ref in seen:
                log.warning("corpus: %s has the same name as another document; skipped", path)
                continue
            seen.add(ref)
            stat = path.stat()
            if known.get(ref) == (str(path), stat.st_mtime, stat.st_size):
                continue
            try:
                doc = dedup.parse_corpus_document(path)
            except (OSError, UnicodeDecodeError) as exc:
                log.error("corpus: %s: cannot read: %s", path, exc)
                continue
            fp = dedup.fingerprint(doc.title, doc.body)
            with self.store.transaction():
                self.store.corpus.put(
                    {"ref": ref, "path": str(path), "mtime": stat.st_mtime, "size": stat.st_size,
                     "title": doc.title, "published": doc.published, "body_hash": fp.body_hash,
                     "title_body_hash": fp.title_body_hash, "fingerprint_count": len(fp.shingles)},
                    fp.shingles)
            changes += 1
        for ref in set(known) - seen:
            with self.store.transaction():
                self.store.corpus.delete(ref)
            changes += 1
        return changes

    # ---------------------------------------------------------------- cycle
    def run_cycle(self, feeds: Sequence[FeedSpec] | None = None, farm: WorkerFarm | None = None) -> CycleSummary:
        """Poll `feeds` (all by default) once. `farm`, when given, is this cycle's workers, already started
        (`monitor poll` starts them before loading this module, so they start while it does); it is closed
        here. Otherwise a large cycle starts its own (workers.start_farm)."""
        started = time.monotonic()
        relax_gc()
        feeds = list(self.config.feeds if feeds is None else feeds)
        summary = CycleSummary()
        if farm is None:
            farm = start_farm(self.config, len(feeds))
        try:  # the workers start (imports, about a second) while the corpus and the feed rows are brought up to date
            summary.corpus_changes = self.prepare_cycle()
            with self.store.commit_group(GROUP_COMMIT_SECONDS) as group:
                if farm is not None:
                    with self.store.background_checkpoints():
                        self._cycle_with_workers(feeds, farm, group, summary)
                else:
                    self._cycle_here(feeds, group, summary)
        finally:
            if farm is not None:
                farm.close()
            if self._client is not None:
                self._client.close()
                self._client = None
            self.store.fingerprints.track_recent(False)
        order = {spec.name: i for i, spec in enumerate(feeds)}
        summary.outcomes.sort(key=lambda o: order[o.name])
        summary.seconds = time.monotonic() - started
        return summary

    def _cycle_with_workers(self, feeds: list[FeedSpec], farm: WorkerFarm, group: CommitGroup,
                            summary: CycleSummary) -> None:
        """Workers fetch and analyse (monitor.workers); this process only stores, each feed as soon as its reply
        comes: a slow server never holds up the others' items. A feed a dead worker held is done here."""
        by_name = {spec.name: spec for spec in feeds}
        queue = iter(feeds)
        in_flight = 0
        # A worker's view of the store (dedup.HeldSnapshot) is at least as new as the last commit before its job
        # was handed over; what was written after the oldest such commit is remembered here
        # (store.fingerprints.recent_held).
        self.store.fingerprints.track_recent(True)
        handed: dict[str, int] = {}

        def submit_next() -> None:
            nonlocal in_flight
            spec = next(queue, None)
            if spec is None:
                return
            state = self.store.feeds.state(spec.name)
            job = FeedJob(spec.name, spec.url, state.etag if state else None,
                          state.last_modified if state else None, state.body_hash if state else None)
            handed[spec.name] = self.store.fingerprints.committed_upto
            if farm.submit(job):
                in_flight += 1
            else:  # every worker is gone: the rest of the cycle runs here
                group.ready()
                summary.outcomes.append(self._refresh_here(spec))
                submit_next()

        # A bounded number of feeds are in the workers: fetching runs ahead of storing, and without a bound
        # every analysed feed of a large farm would wait in memory at once.
        for _ in range(2 * max(1, self.config.http.concurrency)):
            submit_next()
        while in_flight:
            reply = farm.next_reply(timeout=GROUP_IDLE_SECONDS)
            if reply is None:
                group.flush()  # nothing to store for a while: the write lock is not held across the network
                reply = farm.next_reply()
                if reply is None:
                    break  # no worker holds anything (cannot happen while in_flight counts right)
            in_flight -= 1
            spec = by_name[reply.job.name]
            group.ready()
            outcome = self._refresh_here(spec) if reply.lost else self._finish(spec, self._storer(spec, reply))
            summary.outcomes.append(outcome)
            self.store.fingerprints.write_pending_if_over(PENDING_ROWS)
            handed.pop(spec.name, None)
            self.store.fingerprints.forget_recent(min(handed.values(),
                                                      default=self.store.fingerprints.committed_upto))
            submit_next()  # one feed stored, one more in

    def _storer(self, spec: FeedSpec, reply: FeedReply) -> Callable[[], FeedOutcome]:
        """What storing a worker's reply is, for _finish: its error raised, or its fetch and items stored."""
        def store() -> FeedOutcome:
            if reply.error is not None:
                raise reply.error
            return self._store_fetched(spec, reply.result, reply.body_hash, reply.ttl, unpack(reply.items),
                                       reply.held)
        return store

    def _cycle_here(self, feeds: list[FeedSpec], group: CommitGroup, summary: CycleSummary) -> None:
        """A small cycle: fetches in threads of this process, analysis and storing here, feed by feed."""
        http = self.config.http
        threads = max(1, http.concurrency)
        with make_client(http) as client, ThreadPoolExecutor(max_workers=threads) as pool:
            pending: dict[Future, FeedSpec] = {}
            queue = iter(feeds)

            def submit_next() -> None:
                spec = next(queue, None)
                if spec is not None:
                    state = self.store.feeds.state(spec.name)
                    pending[pool.submit(fetch, client, spec.url, http, etag=state.etag if state else None,
                                        last_modified=state.last_modified if state else None)] = spec

            for _ in range(2 * threads):
                submit_next()
            while pending:
                # Store each feed as soon as it is ready: a slow server never holds up the others' items.
                done, _ = wait(pending, timeout=GROUP_IDLE_SECONDS, return_when=FIRST_COMPLETED)
                if not done:
                    group.flush()  # nothing to store for a while: the write lock is not held across the network
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    spec = pending.pop(future)
                    group.ready()
                    summary.outcomes.append(self._finish_feed(spec, future))
                    self.store.fingerprints.write_pending_if_over(PENDING_ROWS)
                    submit_next()

    def _refresh_here(self, spec: FeedSpec) -> FeedOutcome:
        """Fetch and store one feed in this process (a feed whose worker died)."""
        if self._client is None:
            self._client = make_client(self.config.http)
        return self.refresh_feed(spec, self._client)

    def prepare_cycle(self) -> int:
        """Corpus, feed rows and the shingle window brought up to date; the number of corpus changes."""
        upgrade = self.store.meta.get("fingerprint_scheme") != dedup.FINGERPRINT_SCHEME
        if upgrade:  # fingerprints made another way match nothing new: the corpus is fingerprinted again
            with self.store.transaction():
                self.store.corpus.forget_all()
        changes = self.sync_corpus()
        self.store.feeds.sync((f.name, f.url) for f in self.config.feeds)
        window_start = to_iso(now_utc() - timedelta(days=self.config.dedup.window_days))
        if upgrade:
            self.refingerprint(window_start)
        last = self.store.meta.get("fingerprints_pruned_at")
        if last is None or last < to_iso(now_utc() - PRUNE_EVERY):
            # Pruning scans the whole fingerprint table; lookups already ignore items outside the window, so
            # once a day is enough to give the space back.
            with self.store.transaction():
                self.store.fingerprints.prune(window_start)
                self.store.meta.set("fingerprints_pruned_at", to_iso(now_utc()))
        return changes

    def refingerprint(self, window_start: str, batch: int = 2000) -> int:
        """Fingerprint again the stored items within the window, after the fingerprint scheme changed (an
        upgrade): near-duplicates of recent items are still recognised. Batches commit one by one, so a crash
        part-way redoes the work on the next cycle (inserts are idempotent); the scheme is recorded last."""
        with self.store.transaction():
            self.store.fingerprints.forget_items()
        done, after = 0, 0
        while True:
            rows = self.store.items.windowed(window_start, after, batch)
            if not rows:
                break
            printed = dedup.fingerprints([(title, body) for _, title, body in rows])
            with self.store.transaction():
                for (item_id, _, _), (fp, _, _) in zip(rows, printed):
                    self.store.fingerprints.add(Source.item(item_id), fp.shingles)
            done += len(rows)
            after = rows[-1][0]
        with self.store.transaction():
            self.store.meta.set("fingerprint_scheme", dedup.FINGERPRINT_SCHEME)
        if done:
            log.info("fingerprinted %d stored items again (new fingerprint scheme %s)", done, dedup.FINGERPRINT_SCHEME)
        return done

    def refresh_feed(self, spec: FeedSpec, client, lock: ContextManager | None = None) -> FeedOutcome:
        """Fetch and store one feed: the daemon's job. The fetch runs outside `lock` (network-bound, several at
        once); reading the validators and storing hold it, so the store keeps exactly one writer."""
        lock = lock or contextlib.nullcontext()
        with lock:
            state = self.store.feeds.state(spec.name)
        future: Future = Future()
        try:
            future.set_result(fetch(client, spec.url, self.config.http, etag=state.etag if state else None,
                                    last_modified=state.last_modified if state else None))
        except Exception as exc:  # handled by _finish_feed exactly as in a cycle
            future.set_exception(exc)
        with lock:
            return self._finish_feed(spec, future)

    def _finish_feed(self, spec: FeedSpec, future: Future) -> FeedOutcome:
        """Store a finished fetch (its future) done in this process: analyse here, then store."""
        return self._finish(spec, lambda: self._store_result(spec, future.result()))

    def _finish(self, spec: FeedSpec, store: Callable[[], FeedOutcome]) -> FeedOutcome:
        """Run `store`, turning a fetch or parse failure into the feed's recorded error; log the outcome."""
        started = time.monotonic()
        try:
            outcome = store()
        except (FetchError, ParseError) as exc:
            outcome = self._store_failure(spec, exc)
        except MonitorError:
            raise
        except Exception as exc:  # a bug or a feed we did not foresee must not end the cycle
            log.error("feed %s: unexpected error: %s: %s", spec.name, type(exc).__name__, exc,
                      exc_info=exc if exc.__traceback__ else None)
            outcome = self._store_failure(spec, exc)
        outcome.seconds = time.monotonic() - started
        level = logging.WARNING if outcome.status == "error" else logging.INFO
        log.log(level, "feed %s: %s%s", spec.name, outcome.status,
                f" ({outcome.error})" if outcome.error else
                f" {outcome.new} new, {outcome.duplicate} duplicate, {outcome.flagged} flagged")
        return outcome

    def _interval(self, spec: FeedSpec) -> float:
        return self._interval_why(spec)[0]

    def _interval_why(self, spec: FeedSpec) -> tuple[float, str | None]:
        sched = self.config.schedule
        if spec.interval != AUTO:
            return float(spec.interval or sched.interval), None
        since = to_iso(now_utc() - timedelta(days=14))
        times = [datetime.fromisoformat(t) for t in self.store.items.recent_times(spec.name, since,
                                                                                  schedule.AUTO_SAMPLE)]
        return schedule.auto_interval(times, now_utc(), default=sched.interval, low=sched.min_interval,
                                      high=sched.max_interval)

    def _store_failure(self, spec: FeedSpec, exc: BaseException) -> FeedOutcome:
        message = str(exc) or type(exc).__name__
        state = self.store.feeds.state(spec.name)
        failures = (state.consecutive_failures if state else 0) + 1
        retry_after = exc.retry_after if isinstance(exc, HTTPStatusError) else None
        delay, why = schedule.backoff_delay(self._interval(spec), failures, retry_after)
        log.info("feed %s: next poll in %.0fs (%s)", spec.name, delay, why)
        now = now_utc()
        with self.store.transaction():
            self.store.feeds.save_result(spec.name, status="error", fetched_at=to_iso(now), error=message,
                                         next_poll=_next_poll(now, delay), next_poll_reason=why)
        return FeedOutcome(spec.name, "error", error=message)

    def _store_result(self, spec: FeedSpec, result: FetchResult) -> FeedOutcome:
        """Store a fetch done in this process: hash the body, analyse it if it is new, store."""
        if result.body is None:
            return self._store_fetched(spec, result, None, None, None)
        digest = body_hash(result.body)
        items = None
        if digest != self.store.feeds.body_hash(spec.name):
            items = analyse(result.body, result.content_type, result.url, self.matcher,
                            lambda keys: self.store.items.known_keys(spec.name, keys))
        return self._store_fetched(spec, result, digest, schedule.rss_ttl(result.body), items)

    def _store_fetched(self, spec: FeedSpec, result: FetchResult, digest: str | None, ttl: float | None,
                       items: list[AnalysedItem] | None, held: dedup.HeldSnapshot | None = None) -> FeedOutcome:
        """Store a fetch's outcome. `result.body` is None for a 304; `items` is None when the body was the one
        stored last time (`digest`, its hash), which a server ignoring validators re-sends: nothing new."""
        now = now_utc()
        interval, auto_why = self._interval_why(spec)
        delay, why = schedule.success_delay(interval, ttl=ttl, max_age=result.max_age)
        if why or auto_why:
            log.info("feed %s: next poll in %.0fs (%s)", spec.name, delay, why or auto_why)
        next_poll, reason = _next_poll(now, delay), why or auto_why
        if result.body is None:
            with self.store.transaction():
                self.store.feeds.save_result(spec.name, status="not_modified", fetched_at=to_iso(now),
                                             keep_validators=True, next_poll=next_poll, next_poll_reason=reason)
            return FeedOutcome(spec.name, "not_modified")
        if items is None:
            # The server ignored our validators but sent the same bytes: nothing to parse, nothing new.
            with self.store.transaction():
                self.store.feeds.save_result(spec.name, status="not_modified", fetched_at=to_iso(now),
                                             etag=result.etag, last_modified=result.last_modified,
                                             next_poll=next_poll, next_poll_reason=reason)
            return FeedOutcome(spec.name, "not_modified")
        outcome = FeedOutcome(spec.name, "ok")
        with self.store.transaction():
            # The authoritative check: what a worker saw as unknown may have been stored since.
            known = self.store.items.known_keys(spec.name, [a.item.key for a in items])
            fresh: list[AnalysedItem] = []
            for analysed_item in items:
                if analysed_item.item.key not in known:
                    known.add(analysed_item.item.key)
                    fresh.append(analysed_item)
            self._store_items(spec.name, fresh, now, outcome, held)
            self.store.feeds.save_result(spec.name, status="ok", fetched_at=to_iso(now), etag=result.etag,
                                         last_modified=result.last_modified, next_poll=next_poll,
                                         body_hash=digest, next_poll_reason=reason)
        return outcome

    def _store_items(self, feed: str, items: list[AnalysedItem], now: datetime, outcome: FeedOutcome,
                     held: dedup.HeldSnapshot | None = None) -> None:
        """Judge and store a feed's new items, in feed order, with a few statements for the whole feed.

        Each item is judged against everything stored before it, the feed's earlier items included (two copies
        of one article in one feed: the second is the duplicate), exactly as dedup.classify would one by one;
        the database is asked once for the whole feed (dedup.FeedJudge), and the rows are written together.
        """
        if not items:
            return
        window_start = to_iso(now - timedelta(days=self.config.dedup.window_days))
        judge = dedup.FeedJudge(self.store, window_start, self.config.dedup.threshold,
                                [(a.item.guid, a.item.canonical_link, a.fingerprint) for a in items],
                                snapshot=held, keys=[a.item.key for a in items])
        ids = self.store.items.reserve_ids(len(items))
        fetched_at = to_iso(now)
        rows, matches = [], []
        for item_id, analysed in zip(ids, items):
            item, fp = analysed.item, analysed.fingerprint
            verdict = judge.next(item_id)
            rows.append({
                "id": item_id, "feed": feed, "key": item.key, "guid": item.guid, "link": item.link,
                "canonical_link": item.canonical_link, "title": analysed.display_title, "summary": item.summary,
                "body": item.body, "published": item.published, "fetched_at": fetched_at,
                "status": "duplicate" if verdict else "new",
                "dup_kind": verdict.kind if verdict else None, "dup_ref": verdict.ref if verdict else None,
                "dup_score": verdict.score if verdict else None, "dup_reason": verdict.reason if verdict else None,
                "body_hash": fp.body_hash or None, "title_body_hash": fp.title_body_hash or None,
            })
            matches.extend((item_id, m) for m in analysed.matches)
            if verdict:
                outcome.duplicate += 1
                continue
            outcome.new += 1
            outcome.flagged += bool(analysed.matches)
            self.store.fingerprints.add(Source.item(item_id), fp.shingles)  # waits in memory until the commit
        self.store.items.insert_new(rows)
        self.store.matches.add_many(matches)
        # The feed's fingerprints go in now, sorted, inside its savepoint: the pending set stays one feed long,
        # so a later feed's full near-duplicate lookup finds them in the index, not by scanning a whole commit
        # group's worth of pending rows (speed issue: that scan was a fifth of the storing time).


def _next_poll(now: datetime, delay: float) -> str:
    """now + delay, stored rounded *up* to the second: a Retry-After is never cut short by the rounding."""
    when = now + timedelta(seconds=delay)
    if when.microsecond:
        when = when.replace(microsecond=0) + timedelta(seconds=1)
    return to_iso(when)


__all__ = ["Engine", "CycleSummary", "FeedOutcome", "prepare", "item_key", "parse_keyed"]
