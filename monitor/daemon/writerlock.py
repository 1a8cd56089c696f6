"""The daemon's one-writer lock: reentrant, and handed to waiters in the order they came.

Why not threading.RLock: its release wakes a waiter but lets the releasing thread take it again first. The
re-match takes the lock for one batch of items at a time, releases it and asks for it again at once, so with an
RLock the writer thread, waiting to make a feed's job or store its reply, almost never got in: on a database of a
million items, the daemon's polls stored 360 items in the 200 s of a re-match (bench/growth.py). In order of
arrival, a feed waits at most for the batch being written, as monitor.rematch.BATCH intends.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from monitor.errors import MonitorError


class Stopped(MonitorError):
    """The daemon stopped: no more writes."""


class WriterLock:
    """After close() every later `with lock:` raises Stopped instead of waiting forever, so work still running
    when the daemon stops ends instead of touching a closed store."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._queue: deque[object] = deque()  # one ticket per waiting thread, first come first
        self.closed = False

    def acquire(self, timeout: float = -1) -> bool:
        """Take the lock (again, if this thread holds it); False if `timeout` seconds (>= 0) passed first."""
        me = threading.get_ident()
        deadline = None if timeout < 0 else time.monotonic() + timeout
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return True
            ticket = object()
            self._queue.append(ticket)
            while self._owner is not None or self._queue[0] is not ticket:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    self._queue.remove(ticket)
                    self._cond.notify_all()  # the next in line may be free to go now
                    return False
                self._cond.wait(left)
            self._queue.popleft()
            self._owner, self._depth = me, 1
            return True

    def release(self) -> None:
        with self._cond:
            if self._owner != threading.get_ident():
                raise RuntimeError("the writer lock is released by a thread that does not hold it")
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._cond.notify_all()

    def waiting(self) -> int:
        """Threads waiting for the lock now."""
        with self._cond:
            return len(self._queue)

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> "WriterLock":
        self.acquire()
        if self.closed:
            self.release()
            raise Stopped("the daemon is stopping; nothing more is written")
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
