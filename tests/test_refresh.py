"""One refresh of one feed (monitor.refresh), both steps, against a real server on 127.0.0.1 and a real SQLite
file, with the writer's clock set by the test: backoff and Retry-After are checked to the second without
waiting for them (the daemon's own test checks that it honours what is stored here)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from test_daemon import CountingServer
from monitor.match import Matcher
from monitor.models import Config, FeedSpec, HTTPSettings, Schedule
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
                    watch=(), schedule=Schedule(interval=interval), http=HTTPSettings(timeout=5))
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
