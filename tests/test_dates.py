from datetime import datetime, timedelta, timezone

import pytest

from monitor.dates import TEHRAN, parse_feed_date, parse_when, to_iso

NOW = datetime(2025, 11, 20, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("raw, expected", [
    ("Mon, 17 Nov 2025 14:19:00 +0330", "2025-11-17T10:49:00+00:00"),
    ("Mon, 17 Nov 2025 14:19:00 IRST", "2025-11-17T10:49:00+00:00"),  # feedparser reads IRST as UTC
    ("Mon, 17 Nov 2025 14:19 +0330", "2025-11-17T10:49:00+00:00"),  # no seconds: feedparser gives None
    ("Mon, 17 Nov 2025 11:19:00 GMT", "2025-11-17T11:19:00+00:00"),
    ("2025-11-17T14:19:00+03:30", "2025-11-17T10:49:00+00:00"),
    ("2025-11-17T10:49:00Z", "2025-11-17T10:49:00+00:00"),
    ("2025-11-17 14:19", "2025-11-17T10:49:00+00:00"),  # no offset: Tehran time
    ("1404/08/26 14:19", "2025-11-17T10:49:00+00:00"),  # Jalali: feedparser reads the year 1404
    ("۱۴۰۴/۰۸/۲۶ ۱۴:۱۹", "2025-11-17T10:49:00+00:00"),
    ("دوشنبه 26 آبان 1404 - 14:19", "2025-11-17T10:49:00+00:00"),
    ("05.09.2025", "2025-09-04T20:30:00+00:00"),  # day-first (Sputnik)
])
def test_feed_dates(raw, expected):
    assert to_iso(parse_feed_date(raw, now=NOW)) == expected


@pytest.mark.parametrize("raw", ["Mon, 17 Nov 2031 14:19:00 +0330", "Thu, 01 Jan 1960 00:00:00 GMT", "soon", ""])
def test_unbelievable_dates_are_none(raw):
    assert parse_feed_date(raw, now=NOW) is None


def test_fallback_used_when_raw_unparseable():
    fallback = datetime(2025, 11, 1, tzinfo=timezone.utc)
    assert parse_feed_date("??", fallback, now=NOW) == fallback


@pytest.mark.parametrize("value, expected", [
    ("24h", NOW - timedelta(hours=24)),
    ("7d", NOW - timedelta(days=7)),
    ("30m", NOW - timedelta(minutes=30)),
    ("2025-11-17", datetime(2025, 11, 17, tzinfo=TEHRAN)),
    ("1404-08-26", datetime(2025, 11, 17, tzinfo=TEHRAN)),
    ("today", datetime(2025, 11, 20, tzinfo=TEHRAN)),
])
def test_parse_when(value, expected):
    assert parse_when(value, now=NOW) == expected


@pytest.mark.parametrize("value", ["yesterdayish", "7x", "2025-13-01", "1404-13-40", ""])
def test_parse_when_rejects(value):
    with pytest.raises(ValueError):
        parse_when(value, now=NOW)
