"""The daemon's writer lock hands itself to waiters in the order they came (monitor/daemon/writerlock.py).

The re-match releases the lock after each batch and asks for it again at once; the writer thread, waiting to
store a feed, must get it first. With threading.RLock the releasing thread took it back before the waiter woke.
"""

from __future__ import annotations

import threading
import time

import pytest

from monitor.daemon.writerlock import Stopped, WriterLock


def wait_until(condition, deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.005)


def test_a_thread_that_releases_and_asks_again_goes_behind_the_one_waiting() -> None:
    lock = WriterLock()
    order: list[str] = []

    def writer() -> None:
        with lock:
            order.append("writer")

    lock.acquire()
    t = threading.Thread(target=writer)
    t.start()
    wait_until(lambda: lock.waiting() == 1)
    for _ in range(3):  # the re-match's loop: a batch, release, at once the next
        lock.release()
        lock.acquire()
        order.append("rematch")
    lock.release()
    t.join(10)
    assert order[0] == "writer", order


def test_reentrant_and_released_only_by_its_holder() -> None:
    lock = WriterLock()
    with lock:
        with lock:
            pass
        got = []
        t = threading.Thread(target=lambda: got.append(lock.acquire(timeout=0.05)))
        t.start()
        t.join(10)
        assert got == [False]  # still held by the outer `with`
        assert lock.waiting() == 0  # the timed-out waiter left the line
        errors = []

        def foreign_release() -> None:
            try:
                lock.release()
            except RuntimeError as exc:
                errors.append(str(exc))

        t = threading.Thread(target=foreign_release)
        t.start()
        t.join(10)
        assert errors and "does not hold it" in errors[0]
    assert lock.acquire(timeout=0)
    lock.release()


def test_a_timed_out_waiter_does_not_block_the_next_in_line() -> None:
    lock = WriterLock()
    lock.acquire()
    results: dict[str, bool] = {}
    first = threading.Thread(target=lambda: results.__setitem__("first", lock.acquire(timeout=0.2)))
    first.start()
    wait_until(lambda: lock.waiting() == 1)

    def second() -> None:
        results["second"] = lock.acquire(timeout=10)
        lock.release()

    s = threading.Thread(target=second)
    s.start()
    wait_until(lambda: lock.waiting() == 2)
    first.join(10)  # gives up while the lock is still held
    assert results["first"] is False
    lock.release()
    s.join(10)
    assert results["second"] is True


def test_closed_lock_refuses_new_writes() -> None:
    lock = WriterLock()
    lock.close()
    with pytest.raises(Stopped):
        with lock:
            pass
    assert lock.acquire(timeout=0)  # released again by the refusal
    lock.release()
