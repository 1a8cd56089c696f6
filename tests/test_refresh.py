"""One refresh of one feed (monitor.refresh), both steps, against a real server on 127.0.0.1 and a real SQLite
file, with the writer's clock set by the test: backoff and Retry-After are checked to the second without
waiting for them (the daemon's own test checks that it honours what is stored here)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from conftest import LoopbackServer

from test_daemon import CountingServer
from monitor.match import Matcher
from monitor.models import ArticleSettings, Config, FeedSpec, HTTPSettings, Schedule

OFFLINE = ArticleSettings(full_text="never")  # the fixture items link to real sites: no page leaves loopback
from monitor.refresh import FeedJob, Writer
from monitor.runner import ThreadRunner
from monitor.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def server():
    server = CountingServer()
    yield server
    server.close()


def setup(tmp_path, server, interval: float = 60.0):
    feeds = tuple(FeedSpec(name=n, url=server.url(n)) for n in ("ok", "limited", "broken"))
    config = Config(path=str(tmp_path / "config.yaml"), database=str(tmp_path / "m.db"), corpus=(), feeds=feeds,
                    watch=(), schedule=Schedule(interval=interval), http=HTTPSettings(timeout=5), articles=OFFLINE)
    store = Store.open(config.database)
    store.feeds.sync((f.name, f.url) for f in feeds)
    clock = Clock()
    return config, store, Writer(config, store, clock=clock), ThreadRunner(config, Matcher(())), clock


def refresh(writer: Writer, runner: ThreadRunner, spec: FeedSpec):
    job = writer.job(spec)
    assert isinstance(job, FeedJob)
    return writer.store_reply(spec, runner.run(job)), writer.store.feeds.state(spec.name)


def delay_of(state, clock: Clock) -> float:
    return (datetime.fromisoformat(state.next_poll) - clock.now).total_seconds()


def test_backoff_doubles_with_each_failure_in_a_row_up_to_a_day(tmp_path, server):
    config, store, writer, runner, clock = setup(tmp_path, server)
    broken = config.feeds[2]
    delays = []
    for _ in range(13):
        outcome, state = refresh(writer, runner, broken)
        assert outcome.status == "error" and outcome.error.startswith("HTTP 500")
        delays.append(delay_of(state, clock))
        clock.now += timedelta(seconds=delays[-1])
    assert delays[:5] == [60, 120, 240, 480, 960]
    assert delays[-1] == 86_400 and max(delays) == 86_400
    assert state.consecutive_failures == 13
    assert store.feeds.summary()[0]["next_poll_reason"] == "backoff after 13 failures in a row"
    # One good fetch ends the backoff: the plain interval again.
    spec = FeedSpec(name="broken", url=server.url("ok"))
    store.feeds.sync([(spec.name, spec.url)])
    outcome, state = refresh(writer, runner, spec)
    assert outcome.status == "ok" and state.consecutive_failures == 0 and delay_of(state, clock) == 60
    runner.close()
    store.close()


def test_retry_after_is_honoured_when_it_is_longer_than_the_backoff(tmp_path, server):
    config, store, writer, runner, clock = setup(tmp_path, server, interval=1.0)
    outcome, state = refresh(writer, runner, config.feeds[1])
    assert outcome.status == "error" and "server asked to wait 3s" in outcome.error
    assert delay_of(state, clock) == 3
    assert store.feeds.summary()[1]["next_poll_reason"] == "server asked to wait (Retry-After 3s)"
    runner.close()
    store.close()


def test_a_good_fetch_then_the_same_feed_again_is_not_modified(tmp_path, server):
    config, store, writer, runner, clock = setup(tmp_path, server)
    outcome, state = refresh(writer, runner, config.feeds[0])
    assert (outcome.status, outcome.new + outcome.duplicate) == ("ok", 5) and delay_of(state, clock) == 60
    again, _ = refresh(writer, runner, config.feeds[0])  # CountingServer sends no validators: the same bytes
    assert (again.status, again.new) == ("not_modified", 0)
    assert store.items.counts()["items"] == 5
    runner.close()
    store.close()


# ------------------------------------------------------------------------------------ freshness across 304s
class ConditionalServer(LoopbackServer):
    """/ttl: a feed with <ttl>60</ttl> (an hour) and an ETag; /max-age: Cache-Control max-age=1800 on its 200
    only. Both answer 304 to their own ETag, with no Cache-Control, as many servers do."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler

        feed = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{ttl}'
                '<item><guid isPermaLink="false">a</guid><title>خبر</title></item></channel></rss>')
        bodies = {"/ttl": feed.format(ttl="<ttl>60</ttl>").encode(), "/max-age": feed.format(ttl="").encode()}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                etag = f'"{self.path}"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = bodies[self.path]
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("ETag", etag)
                if self.path == "/max-age":
                    self.send_header("Cache-Control", "public, max-age=1800")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        super().__init__(Handler)



@pytest.mark.parametrize("path, delay, reason", [("ttl", 3600, "the feed's <ttl> of 3600s"),
                                                 ("max-age", 1800, "Cache-Control max-age of 1800s")])
def test_ttl_and_max_age_survive_304s(tmp_path, path, delay, reason):
    server = ConditionalServer()
    spec = FeedSpec(name="f", url=server.url(path))
    config = Config(path=str(tmp_path / "config.yaml"), database=str(tmp_path / "m.db"), corpus=(), feeds=(spec,),
                    watch=(), schedule=Schedule(interval=60), http=HTTPSettings(timeout=5), articles=OFFLINE)
    store = Store.open(config.database)
    store.feeds.sync([(spec.name, spec.url)])
    clock = Clock()
    writer, runner = Writer(config, store, clock=clock), ThreadRunner(config, Matcher(()))
    try:
        outcome, state = refresh(writer, runner, spec)
        assert outcome.status == "ok" and delay_of(state, clock) == delay
        for _ in range(3):  # every later poll is a 304 that carries neither the body nor Cache-Control
            clock.now += timedelta(seconds=delay)
            outcome, state = refresh(writer, runner, spec)
            assert outcome.status == "not_modified", outcome
            assert delay_of(state, clock) == delay
            assert store.feeds.summary()[0]["next_poll_reason"] == reason
    finally:
        runner.close()
        store.close()
        server.close()


def test_a_bad_stored_validator_is_repaired_by_the_next_poll(tmp_path):
    server = ConditionalServer()
    spec = FeedSpec(name="f", url=server.url("ttl"))
    config = Config(path=str(tmp_path / "config.yaml"), database=str(tmp_path / "m.db"), corpus=(), feeds=(spec,),
                    watch=(), schedule=Schedule(interval=60), http=HTTPSettings(timeout=5), articles=OFFLINE)
    store = Store.open(config.database)
    store.feeds.sync([(spec.name, spec.url)])
    with store.transaction():  # what a database from before the fix may hold
        store.feeds.save_result("f", status="ok", fetched_at="2025-01-01T00:00:00+00:00", etag='"caf\u00e9"',
                                last_modified="Tue, 01 Jan 2025 00:00:00 GMT\r\nX: 1")
    clock = Clock()
    writer, runner = Writer(config, store, clock=clock), ThreadRunner(config, Matcher(()))
    try:
        outcome, state = refresh(writer, runner, spec)
        assert outcome.status == "ok" and outcome.new == 1, outcome
        assert (state.etag, state.last_modified) == ('"/ttl"', None)
        outcome, state = refresh(writer, runner, spec)
        assert outcome.status == "not_modified" and state.etag == '"/ttl"'
    finally:
        runner.close()
        store.close()
        server.close()
