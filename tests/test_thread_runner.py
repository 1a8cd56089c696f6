"""The runner of the daemon and of small polls (monitor.runner.ThreadRunner) holds at most `pending` replies
made and not yet taken: a writer slowed by a re-match must not find every due feed's reply in memory at once.

Real fetches of fixture feeds from 127.0.0.1; the read-only view opens a real (empty) SQLite file.
"""

from __future__ import annotations

import queue
import time

from test_e2e import write_config
from monitor.config import load_config
from monitor.match import Matcher
from monitor.refresh import FeedJob
from monitor.runner import ThreadRunner


def runner_for(tmp_path, feed_server, replies=None, pending=2):
    config = load_config(write_config(tmp_path, {"mehr": feed_server.url("mehr.xml")}))
    return ThreadRunner(config, Matcher(config.watch), threads=2, replies=replies, pending=pending)


def wait_for(replies: queue.Queue, n: int) -> None:
    end = time.monotonic() + 30
    while replies.qsize() < n:
        assert time.monotonic() < end, "no replies came"
        time.sleep(0.01)


def jobs(feed_server, n):
    return [FeedJob(f"mehr{i}", feed_server.url("mehr.xml"), None, None, None) for i in range(n)]


def test_no_more_replies_wait_than_pending_until_the_consumer_takes_them(tmp_path, feed_server):
    replies: queue.Queue = queue.Queue()
    runner = runner_for(tmp_path, feed_server, replies)
    try:
        for job in jobs(feed_server, 6):
            runner.submit(job)
        wait_for(replies, 2)
        time.sleep(1.0)  # long enough for the other four fetches of a local file, were they not held
        assert replies.qsize() == 2
        taken = []
        while len(taken) < 6:
            reply = replies.get(timeout=30)
            runner.took(reply)
            taken.append(reply)
        assert sorted(r.job.name for r in taken) == [f"mehr{i}" for i in range(6)]
        assert all(r.error is None and len(r.items) == 5 for r in taken)
    finally:
        runner.close()


def test_next_reply_takes_them_itself(tmp_path, feed_server):
    runner = runner_for(tmp_path, feed_server, pending=1)
    try:
        for job in jobs(feed_server, 4):
            runner.submit(job)
        names = {runner.next_reply(30).job.name for _ in range(4)}
        assert names == {f"mehr{i}" for i in range(4)}
    finally:
        runner.close()


def test_closing_does_not_wait_on_threads_held_for_room(tmp_path, feed_server):
    replies: queue.Queue = queue.Queue()
    runner = runner_for(tmp_path, feed_server, replies, pending=1)
    for job in jobs(feed_server, 4):
        runner.submit(job)
    wait_for(replies, 1)
    runner.close()  # returns: the threads waiting for room give up their jobs
    assert replies.qsize() == 1
