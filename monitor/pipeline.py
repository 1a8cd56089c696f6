"""One poll cycle: every feed's job handed to a runner, every reply stored by the one writer as it comes.

A refresh of one feed is monitor.refresh (the pure step and the storing step); where the pure step runs is
monitor.runner (threads here, or worker processes for a large poll). This module only drives a cycle: the
housekeeping first, then a bounded number of jobs in flight (fetching runs ahead of storing, and without a bound
every analysed feed of a large poll would wait in memory at once), each reply stored as soon as it comes (a slow
server never holds up the others' items), and commits grouped about a second apart (Store.commit_group): each
feed is a savepoint with its items, matches, fingerprints and new validators, so a crash loses at most the
uncommitted feeds, and the next poll redoes them (their validators were not saved, so servers send them again).
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from datetime import timedelta
from dataclasses import dataclass, field
from typing import Sequence

from monitor import housekeeping
from monitor.config import Config
from monitor.dates import now_utc, to_iso
from monitor.match import Matcher
from monitor.models import FeedSpec
from monitor.refresh import FeedOutcome, FeedReply, Writer
from monitor.runner import Runner, ThreadRunner, relax_gc
from monitor.store import Store
from monitor.turns import interleave_hosts

# A poll commits the feeds it has stored about this often rather than feed by feed (Store.commit_group) ...
GROUP_COMMIT_SECONDS = 1.0
GROUP_IDLE_SECONDS = 0.2  # ... and at once when nothing has been ready to store for this long
# Fingerprint rows wait in memory, sorted and written at the group's commit; past this many they are written
# between two feeds, which keeps lookups of rows still waiting (indexed in Python) cheap.
PENDING_ROWS = 20_000


@dataclass
class CycleSummary:
    outcomes: list[FeedOutcome] = field(default_factory=list)
    seconds: float = 0.0
    corpus_changes: int = 0
    waiting: dict[str, str] = field(default_factory=dict)  # feed -> when its server's Retry-After ends (not polled)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def total(self, attr: str) -> int:
        return sum(getattr(o, attr) for o in self.outcomes)

    def line(self) -> str:
        return (f"cycle: {len(self.outcomes)} feeds ({self.count('ok')} ok, {self.count('not_modified')} not modified,"
                f" {self.count('error')} failed){f', {len(self.waiting)} skipped' if self.waiting else ''};"
                f" items {self.total('new')} new, {self.total('duplicate')} duplicate,"
                f" {self.total('flagged')} flagged; {self.seconds:.1f}s")


class Engine:
    """What a cycle needs, built once per config: the store and the compiled matcher.

    The matcher is compiled on first use: a poll whose pure steps run in worker processes never needs it here
    (each worker compiles its own when it first has a body to analyse), and compiling it, with the skeleton
    table of every character it builds first, was a third of a second of a warm poll's start."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self._matcher: Matcher | None = None

    @property
    def matcher(self) -> Matcher:
        if self._matcher is None:
            self._matcher = Matcher(self.config.watch)
        return self._matcher

    def run_cycle(self, feeds: Sequence[FeedSpec] | None = None, runner: Runner | None = None, *,
                  honour_retry_after: bool = False) -> CycleSummary:
        """Poll `feeds` (all by default) once. `runner`, when given, is this cycle's worker processes, already
        started (`monitor poll` starts them before loading this module, so they start while it does); it is
        closed here. Otherwise the pure steps run in threads of this process. `honour_retry_after` leaves out
        the feeds whose server asked (429/503 Retry-After) for a wait that has not ended, as the daemon's
        schedule does; they are in the summary's `waiting`."""
        started = time.monotonic()
        relax_gc()
        feeds = list(self.config.feeds if feeds is None else feeds)
        summary = CycleSummary()
        runner = runner or ThreadRunner(self.config, self.matcher)
        writer = Writer(self.config, self.store)
        writer.pages_until = time.time() + self.config.articles.deadline  # all article fetches of this cycle
        writer.feeds_until = time.time() + self.config.schedule.interval  # a host's turn after it: deferred
        spare: ThreadRunner | None = None  # for the feeds of a dead worker, made on first need
        try:  # workers start (imports, about a second) while the corpus and the feed rows are brought up to date
            with self.store.exclusive():  # PostgreSQL: not beside a worker's housekeeping (Store.exclusive)
                summary.corpus_changes = housekeeping.prepare(self.config, self.store)
            if honour_retry_after:
                waiting = self.store.feeds.waiting(to_iso(writer.clock()))
                summary.waiting = {spec.name: waiting[spec.name] for spec in feeds if spec.name in waiting}
                feeds = [spec for spec in feeds if spec.name not in summary.waiting]
            checkpoints = self.store.background_checkpoints() if runner.processes else contextlib.nullcontext()
            with self.store.commit_group(GROUP_COMMIT_SECONDS) as group, checkpoints:
                by_name = {spec.name: spec for spec in feeds}
                # Hosts taking turns in the order jobs go out: a host with many feeds (http.per_host,
                # http.host_delay) never fills every job in flight while other hosts' feeds wait behind it.
                queue = iter(interleave_hosts(feeds) if self.config.http.per_host or self.config.http.host_delay
                             else feeds)
                in_flight = 0

                def store(spec: FeedSpec, reply: FeedReply) -> None:
                    nonlocal spare
                    group.ready()
                    if reply.lost:  # its worker died: the same step, here
                        spare = spare or ThreadRunner(self.config, self.matcher, threads=1,
                                                      gate=getattr(runner, "gate", None),
                                                      feed_gate=getattr(runner, "feed_gate", None))
                        reply = spare.run(reply.job)
                    summary.outcomes.append(writer.store_reply(spec, reply))
                    self.store.fingerprints.write_pending_if_over(PENDING_ROWS)

                def submit_next() -> None:
                    nonlocal in_flight
                    spec = next(queue, None)
                    while spec is not None:
                        if not self._claim(spec, summary):
                            spec = next(queue, None)
                            continue
                        job = writer.job(spec)
                        if runner.submit(job):
                            in_flight += 1
                            return
                        store(spec, FeedReply(job, lost=True))  # every worker is gone: the rest runs here
                        spec = next(queue, None)

                for _ in range(2 * max(1, self.config.http.concurrency)):
                    submit_next()
                while in_flight:
                    reply = runner.next_reply(timeout=GROUP_IDLE_SECONDS)
                    if reply is None:
                        group.flush()  # nothing to store for a while: the write lock is not held across the network
                        reply = runner.next_reply()
                        if reply is None:
                            break  # no runner holds anything (cannot happen while in_flight counts right)
                    in_flight -= 1
                    store(by_name[reply.job.name], reply)
                    submit_next()  # one feed stored, one more in
        finally:
            runner.close()
            if spare is not None:
                spare.close()
            writer.close()
        if self.store.claims is not None:
            self.store.claims.release(owner())  # what a failure left claimed need not wait for its lease
        order = {spec.name: i for i, spec in enumerate(feeds)}
        summary.outcomes.sort(key=lambda o: order[o.name])
        summary.seconds = time.monotonic() - started
        return summary


    def _claim(self, spec: FeedSpec, summary: CycleSummary) -> bool:
        """Whether this poll may refresh the feed: always on SQLite (one writer); on PostgreSQL when it could
        lease it, i.e. no running worker holds it (store/pg/claims.py); a feed held elsewhere is skipped, and
        counted in the summary as waiting for that worker."""
        claims = self.store.claims
        if claims is None:
            return True
        now = now_utc()
        if claims.claim(spec.name, owner(), to_iso(now),
                        to_iso(now + timedelta(seconds=self.config.schedule.lease))):
            return True
        summary.waiting[spec.name] = "another worker holds it"
        return False


def owner() -> str:
    """This process's name on the feeds it leases: host and pid, unique among live workers."""
    return f"{socket.gethostname()}:{os.getpid()}"


__all__ = ["Engine", "CycleSummary", "FeedOutcome", "owner"]
