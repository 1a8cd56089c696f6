"""The Daemon: one writer thread that stores every feed's refresh, fed by a scheduler and a runner.

Why it is built this way:

* One SQLite writer, as in a poll. A feed's scheduled job only says the feed is due (jobs.py); the writer thread
  makes the feed's job from its stored state, hands it to a ThreadRunner (the pure step of monitor.refresh runs
  in the runner's threads, so fetches overlap), and stores each reply through refresh.Writer as it comes, the
  same two steps a poll runs. Whatever else touches the store (housekeeping, the re-match, the cycle summary,
  the scheduled report) holds `self.lock`, which the writer thread holds while it writes.
* The schedule lives in the database: after storing a feed, the writer moves the feed's job to the persisted
  `feeds.next_poll` (interval, backoff, Retry-After, ttl, max-age: monitor.schedule) plus jitter, so a restart
  resumes where it stopped: no stampede of every feed at once, no forgotten backoff.
* Crash safety comes from the refresh (one transaction per feed, UNIQUE (feed, key)); the daemon adds the lock
  file (lock.py) and a clean stop on SIGTERM/SIGINT: no new jobs, the write in flight finishes, then exit, well
  within 10 s.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import threading
import time
from typing import Any, Callable

from monitor import housekeeping
from monitor.config import load_config
from monitor.daemon.alerts import AlertThread
from monitor.daemon.jobs import FeedJobs
from monitor.daemon.lock import acquire_lock
from monitor.daemon.watcher import ConfigWatcher
from monitor.daemon.writerlock import Stopped, WriterLock
from monitor.errors import MonitorError
from monitor.models import Config, FeedSpec
from monitor.pipeline import Engine
from monitor.refresh import FeedOutcome, FeedReply, Writer
from monitor.runner import ThreadRunner
from monitor.store import Store
from monitor.store.pg import shown

log = logging.getLogger("monitor.daemon")
STOP_BUDGET = 8.0  # seconds a stop waits for the write in flight (SIGTERM must end within 10 s)


class Daemon:
    """Build with a config path, then `run()` until `stop()` (or a signal when run in the main thread)."""

    def __init__(self, config_path: str) -> None:
        self.config_path = config_path
        self.config = load_config(config_path)
        self.lock = WriterLock()  # every store access holds it
        self.stopping = threading.Event()
        self.reload_requested = threading.Event()
        # What the writer thread waits on: a feed's name when it is due, a FeedReply when its refresh's pure step
        # is done, None to stop.
        self.events: queue.Queue[str | FeedReply | None] = queue.Queue()
        self.outcomes: list[FeedOutcome] = []
        self.outcomes_lock = threading.Lock()
        self._lock_fd: int | None = None
        # Several workers (PostgreSQL): this one's name on the feeds it leases, and the monitor-wide lock whose
        # holder does the work for the whole monitor (leads()).
        self.owner: str | None = None
        self.monitor_lock: Any = None
        self.in_flight: dict[str, FeedSpec] = {}  # feeds handed to the runner and not stored yet
        self.names_queued = 0  # due feeds on `events` the writer has not taken yet
        self._writer_thread: threading.Thread | None = None
        self.store: Store | None = None
        self.engine: Engine | None = None
        self.writer: Writer | None = None
        self.runner: ThreadRunner | None = None
        self.jobs = FeedJobs(self)
        self.watcher = ConfigWatcher(self)
        self.alerts = AlertThread(self)  # the outbox's sender (monitor.notify)
        # Called once started (the lock held, the database migrated): `run --serve` starts the web page here.
        self.on_started: list[Callable[[], object]] = []

    @property
    def scheduler(self) -> Any:
        return self.jobs.scheduler

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        self._lock_fd = acquire_lock(self.config.database, self.config.path)
        self.store = Store.open(self.config.database)
        if self.store.claims is not None:  # PostgreSQL: one of several workers (store/pg/claims.py)
            from monitor.pipeline import owner
            from monitor.store.pg.claims import MonitorLock

            self.owner = owner()
            self.monitor_lock = MonitorLock(self.config.database)
        self.engine = Engine(self.config, self.store)
        self.writer = Writer(self.config, self.store)
        with self.lock, self.store.exclusive():  # workers starting together bring the store up one at a time
            housekeeping.prepare(self.config, self.store)
        self.runner = ThreadRunner(self.config, self.engine.matcher, replies=self.events)
        self._writer_thread = threading.Thread(target=self._write, name="monitor-writer", daemon=True)
        self._writer_thread.start()
        self.jobs.start()
        self.watcher.start()
        self.alerts.start()
        log.info("daemon started: pid %d, %d feeds, %d watch entries, database %s", os.getpid(),
                 len(self.config.feeds), len(self.config.watch), shown(self.config.database))

    def run(self) -> None:
        """Start, then block until a stop is asked for (SIGTERM, SIGINT) and stop cleanly."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
            signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
            signal.signal(signal.SIGHUP, lambda *_: self.reload_requested.set())
        self.start()
        for hook in self.on_started:
            hook()
        while not self.stopping.wait(0.5):
            pass
        self.shutdown()

    def stop(self) -> None:
        self.stopping.set()

    def shutdown(self) -> None:
        """No new jobs; wait (a bounded time) for the write in flight; close the store; free the lock."""
        self.stopping.set()
        started = time.monotonic()
        self.jobs.shutdown()
        self.events.put(None)
        if self._writer_thread is not None:
            self._writer_thread.join(timeout=STOP_BUDGET)
        got = self.lock.acquire(timeout=max(0.1, STOP_BUDGET - (time.monotonic() - started)))
        if got:
            self.jobs.log_summary()
        self.lock.close()
        self.alerts.close()  # a send still waiting on a slow service is not waited for
        if self.runner is not None:
            self.runner.close(wait=False)  # a fetch still waiting on a slow server is not waited for
        if self.store is not None and got:
            self.writer.close()
            if self.store.claims is not None:
                try:
                    self.store.claims.release(self.owner)  # its feeds go to the others now, not after the lease
                except MonitorError as exc:
                    log.error("cannot give back the feeds' leases: %s", exc)
            self.store.close()
        if self.monitor_lock is not None:
            self.monitor_lock.close()
        if got:
            self.lock.release()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # the flock goes with the descriptor
        log.info("daemon stopped in %.1fs%s", time.monotonic() - started,
                 "" if got else " (a write was still running; SQLite rolls it back)")

    # ---------------------------------------------------------------- the one writer
    def feed(self, name: str) -> FeedSpec | None:
        return next((f for f in self.config.feeds if f.name == name), None)

    def _write(self) -> None:
        """The writer thread: jobs made for due feeds, replies stored as they come, each feed's job moved to its
        next poll once stored. A feed still in flight when it is due again is not asked twice."""
        in_flight = self.in_flight
        while not self.stopping.is_set():
            event = self.events.get()
            if event is None:
                return
            if not isinstance(event, str):
                self.runner.took(event)  # room for the next fetch (ThreadRunner's bound on replies waiting)
            name = event if isinstance(event, str) else event.job.name
            try:
                if isinstance(event, str):
                    self.names_queued -= 1
                    spec = self.feed(name)
                    if spec is None or name in in_flight:
                        continue
                    with self.lock:
                        job = self.writer.job(spec)
                    in_flight[name] = spec
                    self.runner.submit(job)
                    continue
                spec = in_flight.pop(name, None)
                if spec is None:
                    continue
                with self.lock:
                    outcome = self.writer.store_reply(spec, event)
                with self.outcomes_lock:
                    self.outcomes.append(outcome)
                if outcome.flagged:
                    self.alerts.wake()  # its alerts are committed: send them now
            except Stopped:
                return
            except MonitorError as exc:  # the database is locked or full: log, keep the schedule, retry later
                log.error("feed %s: %s", name, exc)
            except Exception:  # the writer must outlive any one feed
                log.exception("feed %s: unexpected error in the writer", name)
            if name not in in_flight and not self.stopping.is_set():
                self.jobs.move(name)

    def leads(self) -> bool:
        """Whether this worker does the work for the whole monitor (housekeeping, re-matching, the scheduled
        report, alerts): always with SQLite's one daemon; on PostgreSQL while it holds the monitor-wide lock,
        which moves to another worker when this one dies (store/pg/claims.py)."""
        return self.monitor_lock is None or self.monitor_lock.try_acquire()

    # ---------------------------------------------------------------- a new config
    def apply(self, new: Config) -> None:
        """Make a validated new config the running one: housekeeping for it first (a new corpus, new feeds),
        then the writer, the runner and the jobs follow it."""
        old = self.config
        engine = Engine(new, self.store)
        matcher = engine.matcher  # compiled before anything changes, as when Engine compiled it itself
        with self.lock, self.store.exclusive():
            housekeeping.prepare(new, self.store)
            self.engine, self.config, self.writer.config = engine, new, new
            self.runner.reconfigure(new, matcher)
        self.jobs.follow(old, new)
        self.alerts.reconfigure()
