"""The worker processes of a large poll (monitor.workers): what they send back, and what happens when one dies.

Feeds are served on 127.0.0.1; the workers are real spawned processes, the store a real SQLite file.
"""

from __future__ import annotations

import os
import pickle
import signal
import sqlite3
import time
from datetime import datetime

import pytest

from conftest import FEEDS, run_cli
from test_e2e import write_config
from monitor.errors import HTTPStatusError
from monitor.feedserver import FeedServer
from monitor.models import HTTPSettings
from monitor.refresh import FeedJob
from monitor.workers import WorkerFarm


def test_http_status_errors_survive_the_trip_between_processes():
    error = pickle.loads(pickle.dumps(HTTPStatusError("HTTP 429 Too Many Requests", status=429, retry_after=120.0)))
    assert (str(error), error.status, error.retry_after) == ("HTTP 429 Too Many Requests", 429, 120.0)


def test_a_worker_fetches_analyses_and_sends_no_body(tmp_path, feed_server):
    with WorkerFarm(1, 2, (), str(tmp_path / "none.db"), HTTPSettings(timeout=10)) as farm:
        assert farm.submit(FeedJob("mehr", feed_server.url("mehr.xml"), None, None, None))
        assert farm.submit(FeedJob("gone", feed_server.url("missing.xml"), None, None, None))
        replies = {r.job.name: r for r in (farm.next_reply(30), farm.next_reply(30))}
    mehr = replies["mehr"]
    assert mehr.error is None and mehr.result.status == 200 and mehr.result.body == b""
    assert len(mehr.items) == 5 and mehr.body_hash and mehr.result.etag
    assert isinstance(replies["gone"].error, HTTPStatusError) and replies["gone"].error.status == 404


def test_the_same_body_again_is_hashed_not_analysed(tmp_path, feed_server):
    with WorkerFarm(1, 1, (), str(tmp_path / "none.db"), HTTPSettings(timeout=10)) as farm:
        farm.submit(FeedJob("mehr", feed_server.url("mehr.xml"), None, None, None))
        first = farm.next_reply(30)
        farm.submit(FeedJob("mehr", feed_server.url("mehr.xml"), None, None, first.body_hash))
        again = farm.next_reply(30)
    assert again.error is None and again.items is None and again.body_hash == first.body_hash


def test_a_dead_workers_jobs_come_back_as_lost(tmp_path):
    with FeedServer(FEEDS, delay=3) as server, \
            WorkerFarm(1, 2, (), str(tmp_path / "none.db"), HTTPSettings(timeout=10)) as farm:
        farm.submit(FeedJob("mehr", server.url("mehr.xml"), None, None, None))
        farm.submit(FeedJob("isna", server.url("isna.atom"), None, None, None))
        time.sleep(1)  # both fetches are waiting on the server
        os.kill(farm._workers[0].process.pid, signal.SIGKILL)
        lost = {farm.next_reply(10), farm.next_reply(10)}
        assert {(r.job.name, r.lost) for r in lost} == {("mehr", True), ("isna", True)}
        assert not farm.alive and farm.submit(FeedJob("x", server.url("mehr.xml"), None, None, None)) is False


def test_a_poll_whose_worker_is_killed_still_stores_every_feed(tmp_path):
    """kill -9 of a worker in the middle of a poll: its feeds are fetched and stored by the storing process."""
    import subprocess
    import sys

    from conftest import REPO

    with FeedServer(FEEDS, delay=1) as server:
        feeds = {f"{p.stem}-{i}": server.url(p.name) for i in range(5) for p in sorted(FEEDS.iterdir())
                 if p.suffix in (".xml", ".atom")}
        config = write_config(tmp_path, feeds)
        proc = subprocess.Popen([sys.executable, "-m", "monitor", "poll", "--config", str(config)], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONIOENCODING": "utf-8", "MONITOR_WORKERS": "2"})
        killed = None
        for _ in range(100):  # the workers are the poll's child processes (forked or spawned)
            time.sleep(0.1)
            children = [int(c) for t in os.listdir(f"/proc/{proc.pid}/task")
                        for c in open(f"/proc/{proc.pid}/task/{t}/children").read().split()]
            workers = [c for c in children if b"resource_tracker" not in open(f"/proc/{c}/cmdline", "rb").read()]
            if len(workers) >= 2:
                time.sleep(0.5)  # they hold fetches now
                killed = workers[0]
                os.kill(killed, signal.SIGKILL)
                break
        out, err = proc.communicate(timeout=180)
    assert killed, "no worker process was found"
    assert proc.returncode == 0, err
    assert "ended unexpectedly" in err
    assert "20 feeds (20 ok" in out, out
    conn = sqlite3.connect(tmp_path / "state" / "test.db")
    assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 70
    assert conn.execute("SELECT count(DISTINCT feed || key) FROM items").fetchone()[0] == 70
    conn.close()


@pytest.mark.parametrize("workers", ["0", "2"])
def test_fixture_poll_is_the_same_with_and_without_workers(tmp_path, feed_server, workers):
    config = write_config(tmp_path, {p.stem: feed_server.url(p.name) for p in sorted(FEEDS.iterdir())
                                     if p.suffix in (".xml", ".atom")})
    proc = run_cli("poll", "--config", str(config), env={"MONITOR_WORKERS": workers})
    assert proc.returncode == 0 and "items 9 new, 5 duplicate, 6 flagged" in proc.stdout, proc.stderr


def test_copies_in_feeds_analysed_by_different_workers_are_found(tmp_path):
    """Ten articles and ten partial copies in twenty feeds, one poll, two workers: a copy's worker may look at
    the store before the original is stored (its view is older); the storing process completes the view with
    what it wrote since. Each pair must end with one new item and the other its duplicate, whichever came first."""
    import json
    import random
    from xml.sax.saxutils import escape

    from conftest import SEEDS

    rng = random.Random(4)
    words = " ".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))).split()
    folder = tmp_path / "feeds"
    folder.mkdir()

    def rss(guid: str, body: str) -> bytes:
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
                f"<link>https://example.ir/</link><description>d</description><item><title>عنوان {guid}</title>"
                f'<link>https://example.ir/{guid}</link><guid isPermaLink="false">{guid}</guid>'
                f"<description>{escape(body)}</description></item></channel></rss>").encode("utf-8")

    for i in range(10):
        article = [rng.choice(words) for _ in range(220)]
        copy = article[:160] + [rng.choice(words) for _ in range(40)]
        (folder / f"a{i}.xml").write_bytes(rss(f"a{i}", " ".join(article)))
        (folder / f"b{i}.xml").write_bytes(rss(f"b{i}", " ".join(copy)))
    with FeedServer(folder) as server:
        feeds = {p.stem: server.url(p.name) for p in sorted(folder.iterdir())}
        config = write_config(tmp_path, feeds, corpus=[])
        proc = run_cli("poll", "--config", str(config), env={"MONITOR_WORKERS": "2"})
    assert proc.returncode == 0 and "20 feeds (20 ok" in proc.stdout, proc.stderr
    items = {i["guid"]: i for i in json.loads(run_cli("items", "--config", str(config), "--format", "json",
                                                      "--since", "3650d", "--limit", "100").stdout)["items"]}
    for i in range(10):
        a, b = items[f"a{i}"], items[f"b{i}"]
        pair = sorted([a, b], key=lambda it: it["id"])
        assert pair[0]["status"] == "new", pair
        assert pair[1]["status"] == "duplicate" and pair[1]["duplicate_of"]["ref"] == pair[0]["id"], pair


def test_a_bug_in_a_worker_reaches_the_log_with_its_traceback_and_is_not_backed_off(tmp_path, feed_server):
    """A watch entry the matcher cannot compile (terms None: a bug, config validation never lets it through)
    fails inside a real worker process. The reply carries the traceback across the pipe; the writer logs it and
    records the feed's error without counting a failure in a row or backing the feed off."""
    import logging

    from monitor.models import Config, FeedSpec, WatchEntry
    from monitor.refresh import Writer
    from monitor.store import Store

    broken = (WatchEntry(name="broken", kind="party", terms=None),)
    with WorkerFarm(1, 1, broken, str(tmp_path / "none.db"), HTTPSettings(timeout=10)) as farm:
        farm.submit(FeedJob("mehr", feed_server.url("mehr.xml"), None, None, None))
        reply = farm.next_reply(30)
    assert reply.error is not None and reply.trace and "Traceback" in reply.trace and "match.py" in reply.trace
    config = Config(path=str(tmp_path / "c.yaml"), database=str(tmp_path / "m.db"), corpus=(),
                    feeds=(FeedSpec(name="mehr", url=feed_server.url("mehr.xml")),), watch=())
    store = Store.open(config.database)
    store.feeds.sync([("mehr", config.feeds[0].url)])
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("monitor.refresh").addHandler(handler)
    try:
        writer = Writer(config, store)
        outcome = writer.store_reply(config.feeds[0], reply)
    finally:
        logging.getLogger("monitor.refresh").removeHandler(handler)
    state = store.feeds.state("mehr")
    assert outcome.status == "error" and outcome.error.startswith("internal error: ")
    assert state.consecutive_failures == 0 and state.last_status == "error"
    assert any("Traceback" in r.getMessage() and "match.py" in r.getMessage() for r in records)
    delay = (datetime.fromisoformat(state.next_poll) - datetime.fromisoformat(state.last_fetched)).total_seconds()
    assert 0 < delay <= config.schedule.interval + 1  # the plain interval, not a backoff
    store.close()
