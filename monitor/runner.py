"""Where the pure step of a refresh (monitor.refresh.fetch_and_analyse) runs: threads of this process, or worker
processes (monitor.workers.WorkerFarm). Both are runners: `submit(job)`, then `next_reply(timeout)` as replies
finish, in any order, and `close()`; the writer stores each reply as it comes (monitor.pipeline, monitor.daemon).

Threads serve small polls and the daemon: their fetches overlap their network waits, and the text work of a few
feeds is not worth another process. A large poll runs worker processes, one per core, so the text work of many
feeds uses every core while this process, the one SQLite writer, only stores (monitor.workers says why).
"""

from __future__ import annotations

import gc
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from monitor.models import Config
from monitor.refresh import FeedJob, FeedReply, StoreView, fetch_and_analyse


class Runner(Protocol):
    processes: int  # worker processes (0: the pure step runs in threads of this process)

    def submit(self, job: FeedJob) -> bool: ...  # False: no worker left, do the job yourself
    def next_reply(self, timeout: float | None = None) -> FeedReply | None: ...
    def close(self) -> None: ...


class ThreadRunner:
    """The pure step in `threads` threads of this process, with one HTTP client and one read-only view of the
    store. `run(job)` does one job in the calling thread (a feed a dead worker left). `replies`, when given, is
    the queue replies are put on (the daemon's writer waits on one queue for due feeds and replies alike).

    At most `pending` replies (twice the threads) are made and not yet taken: a thread waits for room before
    it starts a fetch, and the consumer says it took one (`took(reply)`; next_reply says it itself). Without
    the bound a writer slowed by something else (the daemon re-matching a million items) found every due
    feed's reply waiting at once: bench/growth.py's daemon phase peaked at 366 MB without it, 246 MB with it."""

    processes = 0

    def __init__(self, config: Config, matcher: Any, threads: int | None = None,
                 replies: queue.Queue | None = None, gate: Any = None, feed_gate: Any = None,
                 pending: int | None = None) -> None:
        from monitor.article.pages import HostGate, PageFetcher
        from monitor.fetch import make_client
        from monitor.turns import FeedTurns

        self._http, self._matcher, self._articles = config.http, matcher, config.articles
        self._client = make_client(config.http)
        self.gate = gate or HostGate()  # per-host politeness of article pages, shared with any other runner
        if gate is None and config.database.startswith(("postgresql://", "postgres://")):
            self.gate = SharedHostGate(self.gate, config.database)  # and with the other workers of the database
        self._pages = PageFetcher(config.http, config.articles, self.gate)
        # Feed fetches' own per-host turns (http.per_host, http.host_delay): the same gate mechanism, a gate of
        # its own (a worker farm's, when this runner does a dead worker's feeds), on PostgreSQL spaced across
        # workers under "feed:" + host in the hosts table (SharedHostGate says why a separate key).
        self.feed_gate = feed_gate or HostGate()
        shared = self.feed_gate
        if config.database.startswith(("postgresql://", "postgres://")):
            shared = SharedHostGate(self.feed_gate, config.database, prefix="feed:")
        self._turns = FeedTurns(shared, config.http)
        self._retired: list[Any] = []  # clients and page fetchers of an older config, closed with the runner
        self._view = StoreView(config.database, config.dedup)
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads or config.http.concurrency),
                                        thread_name_prefix="monitor-fetch")
        self._replies: queue.Queue = replies if replies is not None else queue.Queue()
        self._room = threading.Semaphore(pending or 2 * max(1, threads or config.http.concurrency))
        self._counted: set[int] = set()  # id() of the replies holding room, until taken
        self._counted_lock = threading.Lock()
        self._closed = threading.Event()

    def run(self, job: FeedJob) -> FeedReply:
        done, deferred = self._turns.wait(job)
        if deferred is not None:
            return FeedReply(job, error=deferred)
        return fetch_and_analyse(job, self._client, self._http, self._matcher, self._view, self._pages, done)

    def submit(self, job: FeedJob) -> bool:
        """Run the job in a thread once its host's turn came (monitor.turns: it waits holding no thread)."""
        client, http, matcher, pages = self._client, self._http, self._matcher, self._pages  # as when submitted

        def run(done: Any) -> None:
            while not self._room.acquire(timeout=0.25):
                if self._closed.is_set():  # nobody takes replies any more; its thread must not wait forever
                    return
            try:
                reply = fetch_and_analyse(job, client, http, matcher, self._view, pages, done)
            except BaseException:
                self._room.release()
                raise
            with self._counted_lock:
                self._counted.add(id(reply))
            self._replies.put(reply)
        self._turns.admit(job, self._pool.submit, run,
                          lambda deferred: self._replies.put(FeedReply(job, error=deferred)))
        return True

    def next_reply(self, timeout: float | None = None) -> FeedReply | None:
        try:
            reply = self._replies.get(timeout=timeout)
        except queue.Empty:
            return None
        self.took(reply)
        return reply

    def took(self, reply: FeedReply) -> None:
        """The consumer of `replies` took this reply: room for the next fetch (a deferred reply held none)."""
        with self._counted_lock:
            if id(reply) not in self._counted:
                return
            self._counted.discard(id(reply))
        self._room.release()

    def reconfigure(self, config: Config, matcher: Any) -> None:
        """Jobs submitted from now on use `matcher` and, when the HTTP settings changed, a new client (jobs
        already running finish with the old one, which is closed with the runner); the page fetcher follows the
        client and the `articles:` settings (the host gate stays: politeness does not restart)."""
        from monitor.article.pages import PageFetcher
        from monitor.fetch import make_client
        from monitor.turns import FeedTurns

        self._matcher = matcher
        new_client = config.http != self._http
        if new_client:
            self._retired.append(self._client)
            self._http, self._client = config.http, make_client(config.http)
            self._retired.append(self._turns)  # feeds it parked still start; new ones follow the new settings
            self._turns = FeedTurns(self._turns.gate, config.http)
        if new_client or config.articles != self._articles:
            self._articles = config.articles
            self._retired.append(self._pages)
            self._pages = PageFetcher(self._http, config.articles, self.gate)

    def close(self, wait: bool = True) -> None:
        """Stop the threads (`wait=False`: without waiting for a fetch still running) and close the clients."""
        self._closed.set()
        self._turns.close()
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
        for client in (self._client, self._pages, *self._retired):
            client.close()  # a fetch still running then fails in its thread, and its reply is not stored
        self._view.close()

    def __enter__(self) -> "ThreadRunner":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SharedHostGate:
    """A HostGate (monitor.article.pages) whose spacing also holds across the workers sharing a PostgreSQL
    database: after this process's gate lets a request in, the host's next slot is reserved in the database
    (store/pg/claims.py HostSlots: `delay` after the last request of any worker) and waited for. The in-flight
    bound (`per_host`) stays per worker. `prefix` names the kind of request in the hosts table: article pages
    use the bare host, feeds "feed:" + host, so each kind keeps its own delay (articles.delay, http.host_delay)
    and a feed's turn never waits behind a burst of article pages, nor the other way round."""

    def __init__(self, local: Any, url: str, prefix: str = "") -> None:
        from monitor.store.pg.claims import HostSlots

        self._local, self._slots, self._prefix = local, HostSlots(url), prefix

    def try_enter(self, host: str, per_host: int, delay: float) -> tuple[bool, float]:
        """As HostGate.try_enter, but an entered request may have to wait for its reserved slot: (True, seconds
        until the slot). The caller that gives up on that wait calls leave()."""
        import time

        entered, wait = self._local.try_enter(host, per_host, delay)
        if not entered or delay <= 0:
            return entered, wait
        try:
            return True, max(0.0, self._slots.reserve(self._prefix + host, delay) - time.time())
        except Exception:  # noqa: BLE001 - the database unreachable: this worker's own spacing still holds
            return True, 0.0

    def enter(self, host: str, per_host: int, delay: float, deadline: float) -> bool:
        import time

        if not self._local.enter(host, per_host, delay, deadline):
            return False
        if delay <= 0:
            return True
        try:
            wait = self._slots.reserve(self._prefix + host, delay) - time.time()
        except Exception:  # noqa: BLE001 - the database unreachable: this worker's own spacing still holds
            return True
        if time.monotonic() + wait >= deadline:
            self._local.leave(host)
            return False
        if wait > 0:
            time.sleep(wait)
        return True

    def leave(self, host: str) -> None:
        self._local.leave(host)


def relax_gc() -> None:
    """Make Python's cyclic garbage collector run rarely in a process that analyses or stores feeds.

    A cycle allocates millions of short-lived objects (parsed elements, words, rows) and almost no reference
    cycles, while the collector, at its default threshold of 700 allocations, kept re-scanning every object the
    process holds. Objects alive now (modules, tables, the config) are moved out of its sight (gc.freeze) and
    the first generation is collected every 50,000 allocations instead of 700; cycles, if any, are still
    collected, only later."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


__all__ = ["Runner", "SharedHostGate", "ThreadRunner", "relax_gc"]
