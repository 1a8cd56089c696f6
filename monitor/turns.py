"""Per-host politeness for FEED fetches (http.per_host, http.host_delay), without a waiting feed holding a thread.

Why it is built this way:

* One gate mechanism for the whole monitor: a feed's turn is asked of a HostGate (monitor.article.pages), the
  same shared-memory counters article pages use, in an instance of its own (a feed request and a page request
  are counted and spaced apart, each by its own settings), inherited by every worker process of a poll; on
  PostgreSQL wrapped in a runner.SharedHostGate whose "feed:" slots in the hosts table space the requests of
  every worker sharing the database.
* A feed whose host is busy is parked here, not slept on: a fetch thread that finds the host busy hands the feed
  back, so twenty section feeds of one agency waiting their turns never hold up the feeds of another host. One
  timer thread per process hands the feed to the runner's threads again when the host's next start is due; the
  thread asks the gate right before the request, so the spacing is between the requests' real starts.
* A turn that would come after the job's `until` (the poll's cycle: its schedule.interval; the daemon: the
  feed's next poll) is not waited for: the feed's reply is a HostBusyError, a one-line "deferred" error that the
  writer records without backing the feed off.

Nothing here fetches or touches the store: admit() only decides when a job may start.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from typing import Any, Callable, Sequence

from monitor.errors import FetchError, HostBusyError
from monitor.models import HTTPSettings, host_of

log = logging.getLogger("monitor.turns")
NO_LIMIT = 1 << 30  # per_host when only host_delay is set
_RETRY_STEP = 0.02  # seconds between two asks for a host whose requests in flight are at per_host


def _nothing() -> None:
    return None


class FeedTurns:
    """When each feed job may start, by its host's turn at the gate. `active` is False when neither setting is
    on (the default): admit() then starts every job at once, as before per-host politeness existed."""

    def __init__(self, gate: Any, http: HTTPSettings) -> None:
        self.gate = gate
        self._per_host = http.per_host or NO_LIMIT
        self._delay = max(0.0, http.host_delay)
        self.active = http.per_host is not None or self._delay > 0
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def admit(self, job: Any, submit: Callable[[Callable[[], None]], None], run: Callable[[Callable[[], None]], None],
              defer: Callable[[BaseException], None]) -> None:
        """Run the job once its host has its turn: submit(attempt) hands `attempt` to a fetch thread, which asks
        the gate there, right before the request, and calls run(done) when the turn came (`done`: call it once
        the feed's request is over); otherwise the job is parked and submitted again when the host's next start
        is due, or defer(HostBusyError) is called when that would be after the job's `until` (time.time(); 0:
        no bound). Asking in the fetch thread, not when parking, keeps the spacing between the requests' real
        starts: a job queued behind busy threads cannot start closer to the next one than host_delay."""
        host = host_of(job.url) if self.active else None
        if host is None:
            submit(lambda: run(_nothing))
            return
        until = getattr(job, "until", 0.0) or 0.0
        deadline = time.monotonic() + (until - time.time()) if until else float("inf")

        def attempt() -> None:
            try:
                self._ask(host, deadline, attempt, submit, run, defer)
            except Exception as exc:  # noqa: BLE001 - a feed always gets a reply, or its poll would wait for ever
                log.exception("feed %s: its host's turn could not be asked", job.name)
                defer(FetchError(f"its host's turn could not be asked: {type(exc).__name__}: {exc}"))
        submit(attempt)

    def wait(self, job: Any) -> tuple[Callable[[], None] | None, BaseException | None]:
        """admit() for a caller that runs the job in its own thread: (done, None) once the turn came, or
        (None, the HostBusyError)."""
        got: list[tuple[Any, Any]] = []
        ready = threading.Event()
        self.admit(job, lambda attempt: attempt(), lambda done: (got.append((done, None)), ready.set()),
                   lambda err: (got.append((None, err)), ready.set()))
        ready.wait()
        return got[0]

    def _ask(self, host: str, deadline: float, attempt: Callable[[], None],
             submit: Callable[[Callable[[], None]], None], run: Callable[[Callable[[], None]], None],
             defer: Callable[[BaseException], None]) -> None:
        entered, wait = self.gate.try_enter(host, self._per_host, self._delay)
        done = (lambda: self.gate.leave(host)) if entered else _nothing
        if entered and wait <= _RETRY_STEP:
            if wait > 0:
                time.sleep(wait)
            run(done)
            return
        at = time.monotonic() + (wait if entered else max(wait, _RETRY_STEP))
        if at >= deadline:
            done()
            defer(HostBusyError(f"deferred: the turn of its host {host} (http.per_host, http.host_delay) would "
                                f"come after its next poll is due; not fetched this time, not backed off"))
        elif entered:
            self._later(at, lambda: submit(lambda: run(done)))  # its slot is reserved (PostgreSQL): start it then
        else:
            self._later(at, lambda: submit(attempt))

    def _later(self, at: float, call: Callable[[], None]) -> None:
        with self._cond:
            heapq.heappush(self._heap, (at, next(self._seq), call))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="monitor-turns", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (not self._heap or self._heap[0][0] > time.monotonic()):
                    self._cond.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                if self._closed:
                    return
                _, _, call = heapq.heappop(self._heap)
            try:
                call()
            except Exception:  # noqa: BLE001 - one feed's hand-over never stops the others' turns
                log.exception("a feed's turn at its host could not be handed on")

    def close(self) -> None:
        """Stop the timer thread; feeds still parked are dropped (their runner is closing)."""
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify_all()


def interleave_hosts(feeds: Sequence[Any]) -> list[Any]:
    """The feeds (anything with a `url`) in an order where hosts take turns: the first feed of every host, then
    the second of every host, and so on, each host's feeds in their own order. A poll hands out jobs in this
    order, so the feeds waiting for one busy host never fill every job in flight."""
    by_host: dict[str | None, list[Any]] = {}
    for feed in feeds:
        by_host.setdefault(host_of(feed.url), []).append(feed)
    rounds = itertools.zip_longest(*by_host.values())
    return [feed for row in rounds for feed in row if feed is not None]


__all__ = ["FeedTurns", "NO_LIMIT", "interleave_hosts"]
