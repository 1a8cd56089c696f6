"""Worker processes that run the pure step of a refresh (refresh.fetch_and_analyse) beside the one process that
stores the replies: a runner (monitor.runner) for large polls.

Why: in a large poll the storing process is the only SQLite writer, so whatever else it does is on the critical
path (bench/farm.py shows it). A worker does everything that needs no database writes for a feed; bodies never
leave it, and the storing process gets back the fetch's headers and the analysed items.

Each worker runs a few threads, so fetches overlap their network waits (the cycle's `http.concurrency` is
shared among the workers) while one thread at a time holds the worker's GIL for the text work. Jobs go to the
worker with the fewest outstanding, over one pipe per worker, so the storing process always knows which jobs a
worker holds: if a worker dies, its jobs come back as `lost` and are done in the storing process instead.
Workers are forked when `monitor poll` starts them, before this process opens the database or starts a thread,
and spawned otherwise (forking a process that runs threads could deadlock the child).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, Sequence

from monitor.models import HTTPSettings, WatchEntry
from monitor.refresh import FeedJob, FeedReply, StoreView, fetch_and_analyse
from monitor.runner import relax_gc

log = logging.getLogger("monitor.workers")
# A cycle over at least this many feeds runs workers: each costs an interpreter's start and memory, so small
# cycles (the daemon's, the fixtures) run the pure step in threads of the storing process.
WORKERS_MIN_FEEDS = 16
MAX_WORKERS = 4
# Workers run at a lower priority than the storing process: it is the cycle's critical path (the one SQLite
# writer), and on a machine with as many workers as cores they would otherwise take turns with it. They still
# get every cycle it leaves.
WORKER_NICENESS = 5


def _for_the_wire(items: list) -> list:
    """The items with each summary that is only the body's first 1,000 characters (a feed with a description
    and no separate content) left out, a third of what an item weighs on the wire: unpack() restores it."""
    return [a._replace(item=a.item._replace(summary=None)) if a.item.summary == a.item.body[:1000] else a
            for a in items]


def _unpack(items: list | None) -> list | None:
    """A reply's items as analyse() made them (see _for_the_wire)."""
    if items is None:
        return None
    return [a._replace(item=a.item._replace(summary=a.item.body[:1000])) if a.item.summary is None else a
            for a in items]


def _worker_main(conn: Connection, watch: Sequence[WatchEntry], database: str, http: HTTPSettings,
                 threads: int, dedup_settings: Any, articles: Any = None, gate: Any = None,
                 feed_gate: Any = None) -> None:
    from monitor.article.pages import HostGate, PageFetcher
    from monitor.fetch import make_client
    from monitor.runner import SharedHostGate
    from monitor.turns import FeedTurns

    relax_gc()
    try:
        os.nice(WORKER_NICENESS)
    except OSError:
        pass
    client = make_client(http)
    pages = PageFetcher(http, articles, gate) if articles is not None and gate is not None else None
    feed_gate = feed_gate or HostGate()  # the farm's, shared with every worker: per_host holds for the poll
    if database.startswith(("postgresql://", "postgres://")):
        feed_gate = SharedHostGate(feed_gate, database, prefix="feed:")
    turns = FeedTurns(feed_gate, http)
    built: list[Any] = []
    build_lock = threading.Lock()

    def matcher() -> Any:
        if not built:
            with build_lock:
                if not built:
                    from monitor.match import Matcher

                    built.append(Matcher(watch))
        return built[0]
    jobs: queue.Queue = queue.Queue()
    send_lock = threading.Lock()
    view = StoreView(database, dedup_settings)

    def send(job: FeedJob, reply: FeedReply) -> None:
        with send_lock:
            try:
                conn.send(reply)
            except (TypeError, AttributeError, ValueError) as exc:  # an exception that does not pickle
                error = RuntimeError(f"{type(reply.error).__name__}: {reply.error}" if reply.error
                                     else f"unsendable reply: {exc}")
                conn.send(FeedReply(job, error=error, trace=reply.trace or traceback.format_exc()))

    def refresh(job: FeedJob, done: Any) -> None:
        reply = fetch_and_analyse(job, client, http, matcher, view, pages, done)
        if reply.items is not None:
            reply = reply._replace(items=_for_the_wire(reply.items))
        send(job, reply)

    def run() -> None:
        while (task := jobs.get()) is not None:
            task()

    def admit(job: FeedJob) -> None:
        """The job to a thread, which runs it once its host's turn came (monitor.turns), or its "deferred" reply."""
        turns.admit(job, jobs.put, lambda done: refresh(job, done),
                    lambda deferred: send(job, FeedReply(job, error=deferred)))

    pool = [threading.Thread(target=run, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    try:
        while True:
            try:
                job = conn.recv()
            except (EOFError, OSError):
                break
            if job is None:
                break
            admit(job)
    finally:
        turns.close()
        for _ in pool:
            jobs.put(None)
        for t in pool:
            t.join()
        client.close()
        if pages is not None:
            pages.close()


# ------------------------------------------------------------------------------------------- the caller's side
@dataclass
class _Worker:
    process: Any
    conn: Connection
    held: dict[str, FeedJob] = field(default_factory=dict)
    alive: bool = True


class WorkerFarm:
    """`processes` workers with `threads` threads each. submit() jobs, then take replies with next_reply() as
    they finish, in any order. Use as a context manager: leaving it stops the workers.

    A thread of this process receives the replies as soon as they are sent and queues them: a worker never
    waits, reply half-written, for this process to finish storing the feed before (both sides idled waiting
    for each other when it did)."""

    def __init__(self, processes: int, threads: int, watch: Sequence[WatchEntry], database: str,
                 http: HTTPSettings, dedup_settings: Any = None, fork: bool = False, articles: Any = None) -> None:
        from monitor.article.pages import HostGate
        from monitor.models import ArticleSettings, DedupSettings

        dedup_settings = dedup_settings or DedupSettings()
        articles = articles or ArticleSettings()
        ctx = multiprocessing.get_context("fork" if fork and _fork_is_safe() else "spawn")
        # One gate for every worker (and the storing process's spare runner): per-host politeness holds for the
        # whole poll, whichever process fetches a host's pages (monitor.article.pages says why not routing).
        self.gate = HostGate(ctx=ctx)
        self.feed_gate = HostGate(ctx=ctx)  # and one for the feeds' own requests (monitor.turns)
        self.processes = processes
        self._workers: list[_Worker] = []
        self._replies: queue.Queue[FeedReply] = queue.Queue()
        self._lock = threading.Lock()  # guards each worker's `held` and `alive`
        self._closing = False
        for _ in range(processes):
            here, there = ctx.Pipe()
            process = ctx.Process(target=_worker_main,
                                  args=(there, tuple(watch), database, http, threads, dedup_settings, articles,
                                        self.gate, self.feed_gate),
                                  daemon=True, name="monitor-worker")
            process.start()
            there.close()
            self._workers.append(_Worker(process, here))
        self._receiver = threading.Thread(target=self._receive, name="monitor-replies", daemon=True)
        self._receiver.start()

    def __enter__(self) -> "WorkerFarm":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return any(w.alive for w in self._workers)

    def submit(self, job: FeedJob) -> bool:
        """Hand a job to the least busy live worker; False when none is left (do it yourself)."""
        while True:
            with self._lock:
                live = [w for w in self._workers if w.alive]
                if not live:
                    return False
                worker = min(live, key=lambda w: len(w.held))
                worker.held[job.name] = job
            try:
                worker.conn.send(job)
                return True
            except (OSError, EOFError, BrokenPipeError):
                self._lose(worker)  # the job, now held by it, comes back as lost: do not send it again
                return True

    def next_reply(self, timeout: float | None = None) -> FeedReply | None:
        """The next finished job (or one lost with its worker), or None when nothing came within `timeout`."""
        try:
            reply = self._replies.get(timeout=timeout)
        except queue.Empty:
            return None
        return reply._replace(items=_unpack(reply.items)) if reply.items is not None else reply

    def _receive(self) -> None:
        while not self._closing:
            with self._lock:
                live = [w for w in self._workers if w.alive]
            if not live:
                return
            waitables: list[Any] = [w.conn for w in live] + [w.process.sentinel for w in live]
            ready = wait(waitables, 0.5)
            for worker in live:
                if worker.conn in ready:
                    try:
                        while worker.conn.poll():
                            reply: FeedReply = worker.conn.recv()
                            with self._lock:
                                worker.held.pop(reply.job.name, None)
                            self._replies.put(reply)
                    except (EOFError, OSError):
                        self._lose(worker)
                elif worker.process.sentinel in ready:
                    self._lose(worker)

    def _lose(self, worker: _Worker) -> None:
        with self._lock:
            if not worker.alive:
                return
            worker.alive = False
            held = list(worker.held.values())
            worker.held.clear()
        if not self._closing:
            log.warning("a worker process ended unexpectedly (exit code %s); its %d feeds are done here instead",
                        worker.process.exitcode, len(held))
        for job in held:
            self._replies.put(FeedReply(job, lost=True))
        worker.process.kill()

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        for worker in self._workers:
            if worker.alive:
                try:
                    worker.conn.send(None)
                except (OSError, EOFError, BrokenPipeError):
                    pass
        self._receiver.join(timeout=5)
        for worker in self._workers:
            worker.process.join(timeout=10)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()


def worker_count(feeds: int) -> int:
    """How many worker processes fetch and analyse in a cycle of `feeds` feeds (0: none, all in one process).

    One per core: with fetching and analysis in the workers, the storing process does under half the work and
    the system shares the cores among all of them. MONITOR_WORKERS=N sets the number, 0 turns workers off.
    """
    cores = os.cpu_count() or 1
    default = max(1, min(cores, MAX_WORKERS))
    setting = os.environ.get("MONITOR_WORKERS", "").strip()
    if setting.isascii() and setting.isdigit():
        return int(setting)
    return default if feeds >= WORKERS_MIN_FEEDS and cores > 1 else 0


def start_farm(config: Any, feeds: int, fork: bool = False) -> WorkerFarm | None:
    """The workers for a cycle of `feeds` of `config`'s feeds, started, or None for a cycle run in one process.
    The cycle's fetch concurrency (http.concurrency) is shared among them, at least two threads each (one
    fetches while one analyses). `fork=True` is the caller's word that it holds no database connection: the
    workers are then forked, not spawned, when this process runs no other thread (see _fork_is_safe)."""
    processes = worker_count(feeds)
    if not processes:
        return None
    threads = max(2, -(-max(1, config.http.concurrency) // processes))
    if fork:
        # What every worker needs whatever the cycle holds (httpx and httpcore: about 0.2-0.4 s of imports) is
        # imported once, here, and inherited by the forked workers instead of imported by each of them.
        import monitor.fetch  # noqa: F401
    log.info("fetching and analysing in %d worker processes of %d threads each", processes, threads)
    return WorkerFarm(processes, threads, config.watch, config.database, config.http, config.dedup, fork=fork,
                      articles=config.articles)


def _fork_is_safe() -> bool:
    """Whether forking this process is safe: a platform with fork, and no thread but this one (a thread could
    hold a lock the child would then wait on for ever). A forked worker starts in milliseconds with what this
    process has imported; a spawned one starts a new interpreter and imports everything again, which shows in
    a poll with nothing new (bench/farm.py, warm)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


__all__ = ["WorkerFarm", "start_farm", "worker_count"]
