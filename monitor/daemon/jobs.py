"""The daemon's schedule (APScheduler 3): one job per feed, the cycle summary, housekeeping, the scheduled report.

A feed's job does no work itself: it tells the writer thread the feed is due (service.Daemon), which refreshes
it and then moves the job to the feed's persisted next poll (`move`). APScheduler's own interval trigger is only
the fallback. Moving the job from another thread is safe: the scheduler updates a job it just submitted while
holding its job-store lock, which modify_job takes too, so our change always lands after the scheduler's.
"""

from __future__ import annotations

import json
import logging
import random
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from monitor import housekeeping
from monitor.dates import now_utc, to_iso
from monitor.errors import MonitorError
from monitor.models import AUTO, Config, FeedSpec

if TYPE_CHECKING:
    from monitor.daemon.service import Daemon

log = logging.getLogger("monitor.daemon")
SUMMARY_MAX = 900.0  # seconds: a cycle summary at least every 15 minutes
CLAIM_EVERY = 0.5  # seconds between two claims of due feeds (PostgreSQL's workers)


class FeedJobs:
    """The scheduler of one Daemon: started with it, following its config, stopped with it."""

    def __init__(self, daemon: "Daemon") -> None:
        self.daemon = daemon
        self.scheduler: Any = None

    def start(self) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(4)}, timezone=timezone.utc,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        self.scheduler.start(paused=True)
        if self.daemon.store.claims is None:
            for spec in self.daemon.config.feeds:
                self.add(spec, self.resume_time(spec.name))
        else:  # PostgreSQL: feeds are claimed from the shared table, not scheduled here (store/pg/claims.py)
            self.scheduler.add_job(self.claim, "interval", seconds=CLAIM_EVERY, id="claim", name="claim due feeds",
                                   next_run_time=now_utc())
        self.schedule_summary()
        self.schedule_report()
        self.scheduler.resume()

    def shutdown(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)

    # ---------------------------------------------------------------- feed jobs
    def add(self, spec: FeedSpec, when: datetime) -> None:
        from apscheduler.triggers.interval import IntervalTrigger

        config = self.daemon.config
        interval = config.schedule.interval if spec.interval in (None, AUTO) else float(spec.interval)
        self.scheduler.add_job(self.due, IntervalTrigger(seconds=interval, jitter=config.schedule.jitter or None),
                               args=[spec.name], id=f"feed:{spec.name}", name=f"poll {spec.name}",
                               next_run_time=when, replace_existing=True)

    def claim(self) -> None:
        """Lease the due feeds no worker holds, as many as this worker has room for (twice its fetch
        concurrency in flight), and hand them to the writer as a feed job would."""
        daemon = self.daemon
        if daemon.stopping.is_set():
            return
        room = 2 * max(1, daemon.config.http.concurrency) - len(daemon.in_flight) - daemon.names_queued
        now = now_utc()
        try:
            with daemon.lock:
                names = daemon.store.claims.claim_due(
                    [f.name for f in daemon.config.feeds], daemon.owner, to_iso(now),
                    to_iso(now + timedelta(seconds=daemon.config.schedule.lease)), room)
        except MonitorError as exc:
            log.error("claim: %s", exc)
            return
        for name in names:
            self.due(name)

    def due(self, name: str) -> None:
        if not self.daemon.stopping.is_set():
            self.daemon.names_queued += 1  # the writer counts it out when it takes it (claim's room)
            self.daemon.events.put(name)

    def resume_time(self, name: str) -> datetime:
        """The persisted next poll (a backoff survives a restart), or now; plus jitter either way."""
        with self.daemon.lock:
            stored = self.daemon.store.feeds.next_polls().get(name)
        when = now_utc()
        if stored:
            when = max(when, datetime.fromisoformat(stored))
        return when + timedelta(seconds=random.uniform(0, self.daemon.config.schedule.jitter))

    def move(self, name: str) -> None:
        """The feed's job to its persisted next poll, after the writer stored it."""
        from apscheduler.jobstores.base import JobLookupError

        if self.daemon.store.claims is not None:
            self.claim()  # room for one more: claim at once rather than at the next tick (it is claimed again when due)
            return
        try:
            self.scheduler.modify_job(f"feed:{name}", next_run_time=self.resume_time(name))
        except JobLookupError:  # the feed was removed from the config while it was being polled
            pass
        except MonitorError as exc:
            log.error("feed %s: cannot read its next poll: %s", name, exc)

    def follow(self, old: Config, new: Config) -> None:
        """Jobs added, removed and changed as the config was; the summary and the report rescheduled."""
        before = {f.name: f for f in old.feeds}
        after = {f.name: f for f in new.feeds}
        claimed = self.daemon.store.claims is not None  # feeds are claimed, not jobs: nothing to follow
        for name in before.keys() - after.keys():
            if not claimed:
                self.scheduler.remove_job(f"feed:{name}")
            log.info("config: feed %s removed; no longer polled", name)
        for name, spec in after.items():
            if claimed:
                continue
            if name not in before:
                log.info("config: feed %s added", name)
                self.add(spec, self.resume_time(name))
            elif spec != before[name] or new.schedule != old.schedule:
                # A new URL is polled at once; a new interval applies from now.
                with self.daemon.lock:
                    interval = self.daemon.writer.interval(spec)[0]
                when = now_utc() if spec.url != before[name].url else min(
                    self.resume_time(name), now_utc() + timedelta(seconds=interval))
                log.info("config: feed %s changed; next poll %s", name, to_iso(when))
                self.add(spec, when)
        if new.schedule != old.schedule or new.feeds != old.feeds:
            self.schedule_summary()
        if new.report != old.report:
            self.schedule_report()

    # ---------------------------------------------------------------- once a cycle
    def schedule_summary(self) -> None:
        """One summary line per cycle: a cycle is the shortest feed interval (at most 15 minutes)."""
        config = self.daemon.config
        intervals = [config.schedule.min_interval if f.interval == AUTO else (f.interval or config.schedule.interval)
                     for f in config.feeds] or [config.schedule.interval]
        period = max(1.0, min(min(intervals), SUMMARY_MAX))
        self.scheduler.add_job(self.log_summary, "interval", seconds=period, id="summary",
                               name="cycle summary", replace_existing=True)
        self.scheduler.add_job(self.housekeeping, "interval", seconds=period, id="housekeeping",
                               name="corpus and window", replace_existing=True)

    def housekeeping(self) -> None:
        """Once a cycle: corpus files added or changed are fingerprinted, removed ones forgotten, and item
        fingerprints older than the near-duplicate window dropped, as `monitor poll` does at every start."""
        daemon = self.daemon
        try:
            if not daemon.leads():
                return  # another worker holds the monitor-wide lock and does it
            with daemon.lock, daemon.store.exclusive():
                changes = housekeeping.prepare(daemon.config, daemon.store)
            if changes:
                log.info("corpus: %d document(s) added, changed or removed", changes)
            if daemon.monitor_lock is not None:
                from monitor.rematch import watch_hash

                with daemon.lock:
                    matched_with = daemon.store.meta.matched_with()
                if matched_with != watch_hash(daemon.config):  # the worker that was re-matching died
                    daemon.watcher.rematch(daemon.engine, "the stored items were matched with another watch list")
        except MonitorError as exc:
            log.error("housekeeping: %s", exc)

    def log_summary(self) -> None:
        from monitor.pipeline import CycleSummary

        daemon = self.daemon
        with daemon.outcomes_lock:
            outcomes, daemon.outcomes = daemon.outcomes, []
        if not outcomes:
            return
        summary = CycleSummary(outcomes=outcomes, seconds=sum(o.seconds for o in outcomes))
        line = summary.line()
        log.info(line, extra={"summary": {
            "feeds_ok": summary.count("ok"), "feeds_not_modified": summary.count("not_modified"),
            "feeds_failed": summary.count("error"), "new": summary.total("new"),
            "duplicate": summary.total("duplicate"), "flagged": summary.total("flagged")}})
        try:
            with daemon.lock, daemon.store.transaction():
                daemon.store.meta.set("daemon.last_cycle", json.dumps({"at": to_iso(now_utc()), "summary": line}))
        except MonitorError as exc:
            log.error("cannot record the cycle: %s", exc)

    # ---------------------------------------------------------------- the scheduled report
    def schedule_report(self) -> None:
        """The scheduled report of `report:`, as a cron job in the report's time zone."""
        from apscheduler.jobstores.base import JobLookupError
        from apscheduler.triggers.cron import CronTrigger

        try:
            self.scheduler.remove_job("report")
        except JobLookupError:
            pass
        settings = self.daemon.config.report
        if settings is None:
            return
        self.scheduler.add_job(self.write_report, CronTrigger(**settings.cron()), id="report",
                               name="scheduled report", replace_existing=True)
        log.info("report: scheduled (%s, %s)", settings.every, settings.timezone)

    def write_report(self) -> None:
        """Render from a read-only connection of its own, outside the daemon's lock: a report of 100,000 items
        takes many seconds to render, and the writer (polls, re-matching) must not wait for it. WAL lets the
        reader see the last commit while the writer goes on."""
        from monitor.report import write_scheduled_report
        from monitor.store import Store

        try:
            if not self.daemon.leads():
                log.info("report: left to the worker holding the monitor-wide lock")
                return
            config = self.daemon.config
            reader = Store.open(config.database, readonly=True)
            try:
                with reader.snapshot():
                    path = write_scheduled_report(config, reader)
            finally:
                reader.close()
            log.info("report: written to %s", path)
        except Exception as exc:  # a report must never stop the polling
            log.error("report: not written: %s", exc)
