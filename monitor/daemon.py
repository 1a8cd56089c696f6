"""`monitor run`: the service. APScheduler jobs, one per feed; a config watcher; signals; one daemon per database.

Why it is built this way:

* One SQLite writer. Jobs run in a small thread pool so fetches overlap (network-bound), but everything that
  touches the store holds `self.lock` (Engine.refresh_feed takes it around the reads and the write), and so does
  the config reload and the re-match. SQLite sees one writer; `monitor poll` and the read commands beside the
  daemon wait on the busy timeout (WAL), never fail.
* The schedule lives in the database. After every run the job moves its own next run to the feed's persisted
  `feeds.next_poll` (interval, backoff, Retry-After, ttl, max-age: see monitor.schedule) plus jitter, so a restart
  resumes where it stopped: no stampede of every feed at once, no forgotten backoff. APScheduler's own trigger is
  only the fallback. Moving the job from inside it is safe: the scheduler updates a job it just submitted while
  holding its job-store lock, which modify_job takes too, so our change always lands after the scheduler's.
* Live config. A thread compares the file's (inode, mtime, size) every second, which also catches an editor's
  rename-on-save, and SIGHUP asks for the same reload. The new file is validated completely first; an invalid
  edit is logged with file, line and key and the old config keeps running. A changed watch list re-matches every
  stored item in batches (progress in the log); the watch list's hash is stored only when the re-match
  finished, so one interrupted by a stop or a newer edit is redone, even after a restart.
* Crash safety comes from the pipeline (one transaction per feed, UNIQUE (feed, key)); the daemon adds the lock
  file (`<database>.lock`, fcntl.flock: released by the kernel even after SIGKILL) and a clean stop on
  SIGTERM/SIGINT: no new jobs, the write in flight finishes, then exit, well within 10 s.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import signal
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from monitor.config import load_config
from monitor.dates import now_utc, to_iso
from monitor.errors import ConfigError, MonitorError
from monitor.models import AUTO, Config, FeedSpec
from monitor.pipeline import CycleSummary, Engine, FeedOutcome
from monitor.lockfile import DaemonRunning, acquire_lock, running_daemon  # noqa: F401 (re-exported)
from monitor.store import Store

log = logging.getLogger("monitor.daemon")
WATCH_POLL = 1.0  # seconds between looks at config.yaml
STOP_BUDGET = 8.0  # seconds a stop waits for the write in flight (SIGTERM must end within 10 s)


class Stopped(MonitorError):
    """The daemon stopped: no more writes."""


class WriterLock:
    """The one-writer lock. After close() every later `with lock:` raises Stopped instead of waiting forever,
    so a job still fetching when the daemon stops ends instead of touching a closed store."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.closed = False

    def acquire(self, timeout: float = -1) -> bool:
        return self._lock.acquire(timeout=timeout)

    def release(self) -> None:
        self._lock.release()

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> "WriterLock":
        self._lock.acquire()
        if self.closed:
            self._lock.release()
            raise Stopped("the daemon is stopping; nothing more is written")
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def watch_hash(config: Config) -> str:
    return hashlib.sha1(repr(config.watch).encode()).hexdigest()


# ------------------------------------------------------------------------------------------ the daemon
class Daemon:
    """Build with a config path, then `run()` until `stop()` (or a signal when run in the main thread)."""

    def __init__(self, config_path: str) -> None:
        self.config_path = config_path
        self.config = load_config(config_path)
        self.lock = WriterLock()  # every store access holds it
        self.stopping = threading.Event()
        self.reload_requested = threading.Event()
        self._outcomes: list[FeedOutcome] = []
        self._outcomes_lock = threading.Lock()
        self._lock_fd: int | None = None
        self._clients: list[Any] = []
        self._seen_sig: tuple | None = None
        self._last_sig_check = 0.0
        self.scheduler = None
        self.store: Store | None = None
        self.engine: Engine | None = None

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        self._lock_fd = acquire_lock(self.config.database, self.config.path)
        self.store = Store.open(self.config.database)
        self.engine = Engine(self.config, self.store)
        with self.lock:
            self.engine.prepare_cycle()
        self.client = self._new_client()
        workers = max(1, self.config.http.concurrency)
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(workers)}, timezone=timezone.utc,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        self.scheduler.start(paused=True)
        for spec in self.config.feeds:
            self._add_job(spec, self._resume_time(spec.name))
        self._schedule_summary()
        self._schedule_report()
        self.scheduler.resume()
        self._watcher = threading.Thread(target=self._watch_loop, name="config-watcher", daemon=True)
        self._watcher.start()
        log.info("daemon started: pid %d, %d feeds, %d watch entries, database %s", os.getpid(),
                 len(self.config.feeds), len(self.config.watch), self.config.database)

    def run(self) -> None:
        """Start, then block until a stop is asked for (SIGTERM, SIGINT) and stop cleanly."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
            signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
            signal.signal(signal.SIGHUP, lambda *_: self.reload_requested.set())
        self.start()
        while not self.stopping.wait(0.5):
            pass
        self.shutdown()

    def stop(self) -> None:
        self.stopping.set()

    def shutdown(self) -> None:
        """No new jobs; wait (a bounded time) for the write in flight; close the store; free the lock."""
        self.stopping.set()
        started = time.monotonic()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        got = self.lock.acquire(timeout=STOP_BUDGET)
        if got:
            self._log_summary()
        self.lock.close()
        if self.store is not None and got:
            self.store.close()
        if got:
            self.lock.release()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # the flock goes with the descriptor
        log.info("daemon stopped in %.1fs%s", time.monotonic() - started,
                 "" if got else " (a write was still running; SQLite rolls it back)")

    # ---------------------------------------------------------------- feed jobs
    def _add_job(self, spec: FeedSpec, when: datetime) -> None:
        from apscheduler.triggers.interval import IntervalTrigger

        interval = self.config.schedule.interval if spec.interval in (None, AUTO) else float(spec.interval)
        self.scheduler.add_job(self._poll, IntervalTrigger(seconds=interval, jitter=self.config.schedule.jitter or None),
                               args=[spec.name], id=f"feed:{spec.name}", name=f"poll {spec.name}",
                               next_run_time=when, replace_existing=True)

    def _resume_time(self, name: str) -> datetime:
        """The persisted next poll (a backoff survives a restart), or now; plus jitter either way."""
        with self.lock:
            stored = self.store.feeds.next_polls().get(name)
        when = now_utc()
        if stored:
            when = max(when, datetime.fromisoformat(stored))
        return when + timedelta(seconds=random.uniform(0, self.config.schedule.jitter))

    def _poll(self, name: str) -> None:
        if self.stopping.is_set():
            return
        engine = self.engine
        spec = next((f for f in engine.config.feeds if f.name == name), None)
        if spec is None:
            return
        try:
            outcome = engine.refresh_feed(spec, self.client, self.lock)
            with self._outcomes_lock:
                self._outcomes.append(outcome)
        except Stopped:
            return
        except MonitorError as exc:  # the database is locked or full: log, keep the schedule, retry later
            log.error("feed %s: %s", name, exc)
        finally:
            if not self.stopping.is_set():
                self._move_job(name)

    def _move_job(self, name: str) -> None:
        from apscheduler.jobstores.base import JobLookupError

        try:
            self.scheduler.modify_job(f"feed:{name}", next_run_time=self._resume_time(name))
        except JobLookupError:  # the feed was removed from the config while it was being polled
            pass

    # ---------------------------------------------------------------- cycle summary and report
    def _schedule_summary(self) -> None:
        """One summary line per cycle: a cycle is the shortest feed interval (at most 15 minutes)."""
        intervals = [self.config.schedule.min_interval if f.interval == AUTO else (f.interval or
                     self.config.schedule.interval) for f in self.config.feeds] or [self.config.schedule.interval]
        period = max(1.0, min(min(intervals), 900.0))
        self.scheduler.add_job(self._log_summary, "interval", seconds=period, id="summary",
                               name="cycle summary", replace_existing=True)
        self.scheduler.add_job(self._housekeeping, "interval", seconds=period, id="housekeeping",
                               name="corpus and window", replace_existing=True)

    def _housekeeping(self) -> None:
        """Once a cycle: corpus files added or changed are fingerprinted, removed ones forgotten, and item
        fingerprints older than the near-duplicate window dropped, as `monitor poll` does at every start."""
        try:
            with self.lock:
                changes = self.engine.prepare_cycle()
            if changes:
                log.info("corpus: %d document(s) added, changed or removed", changes)
        except MonitorError as exc:
            log.error("housekeeping: %s", exc)

    def _log_summary(self) -> None:
        with self._outcomes_lock:
            outcomes, self._outcomes = self._outcomes, []
        if not outcomes:
            return
        summary = CycleSummary(outcomes=outcomes, seconds=sum(o.seconds for o in outcomes))
        line = summary.line()
        log.info(line, extra={"summary": {
            "feeds_ok": summary.count("ok"), "feeds_not_modified": summary.count("not_modified"),
            "feeds_failed": summary.count("error"), "new": summary.total("new"),
            "duplicate": summary.total("duplicate"), "flagged": summary.total("flagged")}})
        try:
            with self.lock, self.store.transaction():
                self.store.meta.set("daemon.last_cycle", json.dumps({"at": to_iso(now_utc()), "summary": line}))
        except MonitorError as exc:
            log.error("cannot record the cycle: %s", exc)

    def _schedule_report(self) -> None:
        """The scheduled report of `report:` (issue 5's writer), as a cron job in the report's time zone."""
        from apscheduler.jobstores.base import JobLookupError

        settings = getattr(self.config, "report", None)
        try:
            self.scheduler.remove_job("report")
        except JobLookupError:
            pass
        writer = _report_writer()
        if settings is None or writer is None:
            return
        from apscheduler.triggers.cron import CronTrigger

        self.scheduler.add_job(self._write_report, CronTrigger(**settings.cron()), id="report",
                               name="scheduled report", replace_existing=True)
        log.info("report: scheduled (%s, %s)", settings.every, settings.timezone)

    def _write_report(self) -> None:
        writer = _report_writer()
        try:
            with self.lock:
                path = writer(self.config, self.store)
            log.info("report: written to %s", path)
        except Exception as exc:  # a report must never stop the polling
            log.error("report: not written: %s", exc)

    # ---------------------------------------------------------------- live config
    def _signature(self) -> tuple | None:
        try:
            st = os.stat(self.config.path)
        except OSError:
            return None
        return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)

    def _watch_loop(self) -> None:
        self._seen_sig = self._signature()
        if self.store.meta.get("daemon.watch_hash") != watch_hash(self.config):
            self._rematch(self.engine, "the watch list differs from the one the stored items were matched with")
        while not self.stopping.wait(WATCH_POLL):
            current = self._signature()
            if current == self._seen_sig and not self.reload_requested.is_set():
                continue
            why = "SIGHUP" if self.reload_requested.is_set() else "the file changed"
            self.reload_requested.clear()
            self._seen_sig = current
            if current is None:
                log.warning("config: %s is gone; keeping the running config", self.config.path)
                continue
            try:
                self.reload(why)
            except Exception:  # the watcher must outlive any one reload
                log.exception("config: reload failed; keeping the running config")

    def reload(self, why: str = "asked") -> bool:
        """Load the file again; apply it when valid. False (and the old config kept) when it is not."""
        try:
            new = load_config(self.config.path)
        except ConfigError as exc:
            log.error("config: invalid edit, keeping the running config: %s", exc,
                      extra={"config_error": {"file": exc.path, "line": exc.line, "key": exc.key}})
            return False
        old = self.config
        if new == old:
            log.info("config: reloaded (%s), nothing changed", why)
            return True
        if new.database != old.database:
            log.warning("config: database changed to %s; the daemon keeps %s until it is restarted",
                        new.database, old.database)
            new = replace(new, database=old.database)
        engine = Engine(new, self.store)
        with self.lock:
            engine.prepare_cycle()
            self.engine, self.config = engine, new
        if new.http != old.http:
            self.client = self._new_client()
        self._sync_jobs(old, new)
        if new.schedule != old.schedule or new.feeds != old.feeds:
            self._schedule_summary()
        if getattr(new, "report", None) != getattr(old, "report", None):
            self._schedule_report()
        log.info("config: reloaded (%s): %d feeds, %d watch entries", why, len(new.feeds), len(new.watch))
        if new.watch != old.watch:
            self._rematch(engine, "the watch list changed")
        return True

    def _sync_jobs(self, old: Config, new: Config) -> None:
        before = {f.name: f for f in old.feeds}
        after = {f.name: f for f in new.feeds}
        for name in before.keys() - after.keys():
            self.scheduler.remove_job(f"feed:{name}")
            log.info("config: feed %s removed; no longer polled", name)
        for name, spec in after.items():
            if name not in before:
                log.info("config: feed %s added", name)
                self._add_job(spec, self._resume_time(name))
            elif spec != before[name] or new.schedule != old.schedule:
                # A new URL is polled at once; a new interval applies from now.
                when = now_utc() if spec.url != before[name].url else min(
                    self._resume_time(name), now_utc() + timedelta(seconds=self.engine._interval(spec)))
                log.info("config: feed %s changed; next poll %s", name, to_iso(when))
                self._add_job(spec, when)

    def _rematch(self, engine: Engine, why: str) -> bool:
        """Match every stored item against the engine's watch list again (monitor.rematch), with progress in
        the log. False when a stop or a newer config interrupted it; it is then redone with the newer one."""
        from monitor.rematch import rematch

        log.info("rematch: %s; re-matching the stored items", why)
        last_log = [time.monotonic()]

        def progress(p) -> None:
            if time.monotonic() - last_log[0] >= 2.0:
                last_log[0] = time.monotonic()
                log.info("rematch: %d of %d items (%d%%), %d flags added, %d removed", p.done, p.total,
                         100 * p.done // max(p.total, 1), p.added, p.removed)

        def interrupted() -> bool:
            return (self.stopping.is_set() or self.engine is not engine or self.reload_requested.is_set()
                    or self._newer_edit())

        p = rematch(self.store, engine.matcher, lock=self.lock, interrupted=interrupted, progress=progress)
        if not p.finished:
            log.info("rematch: interrupted after %d of %d items; it starts again with the newer config",
                     p.done, p.total)
            return False
        with self.lock, self.store.transaction():
            self.store.meta.set("daemon.watch_hash", watch_hash(engine.config))
        log.info("rematch: done: %d items in %.1fs; %d items changed, %d flags added, %d removed", p.done,
                 p.seconds, p.changed, p.added, p.removed,
                 extra={"rematch": {"items": p.done, "changed": p.changed, "added": p.added, "removed": p.removed,
                                    "seconds": round(p.seconds, 3)}})
        return True

    def _newer_edit(self) -> bool:
        """A newer save of the file (looked at once a second at most) cuts a running re-match short."""
        now = time.monotonic()
        if now - self._last_sig_check < WATCH_POLL:
            return False
        self._last_sig_check = now
        return self._signature() != self._seen_sig

    def _new_client(self):
        from monitor.fetch import make_client

        client = make_client(self.config.http)
        self._clients.append(client)
        return client


def _report_writer():
    """Issue 5's function that writes the scheduled report, when that module exists: (config, store) -> path."""
    try:
        from monitor.report import write_scheduled_report  # type: ignore[attr-defined]
    except ImportError:
        return None
    return write_scheduled_report
