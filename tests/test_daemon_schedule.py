"""The scheduling rules of monitor.schedule: backoff, Retry-After, ttl / max-age floors, `interval: auto`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from monitor.fetch import cache_max_age
from monitor.schedule import MAX_DELAY, auto_interval, backoff_delay, rss_ttl, success_delay

NOW = datetime(2025, 11, 25, 12, 0, tzinfo=timezone.utc)


def test_backoff_doubles_per_failure_and_is_capped_at_a_day():
    assert [backoff_delay(600, n, None)[0] for n in (1, 2, 3, 4)] == [600, 1200, 2400, 4800]
    delay, why = backoff_delay(600, 30, None)
    assert delay == MAX_DELAY and "30 failures in a row" in why


def test_retry_after_wins_only_when_longer():
    assert backoff_delay(60, 1, 3600) == (3600, "server asked to wait (Retry-After 3600s)")
    assert backoff_delay(600, 3, 10)[0] == 2400  # the backoff is already longer
    assert backoff_delay(60, 1, 10 * MAX_DELAY)[0] == MAX_DELAY


def test_ttl_and_max_age_are_minimum_intervals_capped_at_a_day():
    assert success_delay(600, ttl=None, max_age=None) == (600, None)
    assert success_delay(600, ttl=1800, max_age=None) == (1800, "the feed's <ttl> of 1800s")
    assert success_delay(600, ttl=60, max_age=900)[0] == 900
    assert success_delay(600, ttl=30 * MAX_DELAY, max_age=None)[0] == MAX_DELAY


def test_rss_ttl_and_cache_control():
    assert rss_ttl(b"<rss><channel><title>x</title><ttl> 30 </ttl><item/></channel></rss>") == 1800
    assert rss_ttl(b"<rss><channel></channel></rss>") is None and rss_ttl(None) is None
    assert cache_max_age("public, max-age=300, must-revalidate") == 300
    assert cache_max_age("no-cache") is None and cache_max_age(None) is None


def _times(*minutes_ago: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes_ago]


def test_auto_interval_follows_the_publishing_pace():
    # An item every 20 minutes, the last one just now: poll every 10 minutes.
    delay, why = auto_interval(_times(0, 20, 40, 60, 80), NOW, default=900, low=60, high=14_400)
    assert delay == 600 and "median gap 1200s" in why
    # A burst of 10 items in a minute among hourly items does not pin the feed to its minimum.
    burst = _times(*(i / 10 for i in range(10)), 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 660, 720)
    assert auto_interval(burst, NOW, default=900, low=60, high=14_400)[0] > 60


def test_auto_interval_stretches_after_a_silence_and_respects_bounds():
    busy = auto_interval(_times(0, 10, 20, 30), NOW, default=900, low=60, high=14_400)[0]
    silent = auto_interval(_times(240, 250, 260, 270), NOW, default=900, low=60, high=14_400)
    assert silent[0] > busy and "silent" in silent[1]
    assert auto_interval(_times(0, 1, 2, 3), NOW, default=900, low=300, high=14_400)[0] == 300
    assert auto_interval(_times(0, 2000, 4000, 6000), NOW, default=900, low=60, high=3600)[0] == 3600
    assert auto_interval(_times(5), NOW, default=900, low=60, high=3600)[0] == 900  # too few: the default
