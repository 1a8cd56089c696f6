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


# ------------------------------------------------------------- the RFC 822 fast path against the full parser
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from monitor.dates import _parse_raw, _parse_raw_exact, _rfc822_plain  # noqa: E402

_ZONE_NAMES = ["+0000", "-0000", "+0330", "-0330", "+0430", "+0099", "-1200", "+1400", "+2400", "+9999", "GMT",
               "UTC", "UT", "Z", "IRST", "IRDT", "IST", "EST", "gmt", "PST", "", "+330", "+03:30"]


def _same(raw: str) -> None:
    fast, exact = _rfc822_plain(raw), _parse_raw_exact(raw)
    if fast is not None:
        assert fast == exact and fast.utcoffset() == exact.utcoffset(), (raw, fast, exact)
    assert _parse_raw(raw) == exact and (exact is None or _parse_raw(raw).utcoffset() == exact.utcoffset())


@pytest.mark.parametrize("raw", [
    "Thu, 20 Nov 2025 10:00:00 +0000", "Thu, 20 Nov 2025 10:00 +0000", "20 Nov 2025 10:00:00 GMT",
    "Mon, 17 Nov 2025 14:19:00 IRST", "Mon, 17 Nov 2025 14:19 IRST", "Mon, 17 Nov 2025 14:19:00 IRDT",
    "Mon, 17 Nov 2025 14:19:00 IST", "Mon, 17 Nov 2025 14:19:00 UT", "Mon, 17 Nov 2025 14:19:00 Z",
    "Mon, 17 Nov 2025 14:19:00 -0000", "Mon, 17 Nov 2025 14:19:00 +0099", "Mon, 17 Nov 2025 14:19:00 +9999",
    "Mon, 17 Nov 2025 14:19:00 +2400", "Mon, 17 Nov 2025 14:19:00 -2359", "Mon, 30 Feb 2025 14:19:00 +0000",
    "Mon, 17 Nov 2025 25:19:00 +0000", "Mon, 17 Nov 2025 14:60:00 +0000", "Mon, 17 Nov 2025 14:19:60 +0000",
    "Fri, 7 Nov 2025 09:05:03 +0330", "Fri, 07 Nov 1400 09:05:03 +0330", "Fri, 07 Nov 1399 09:05 +0330",
    "Sun, 00 Nov 2025 10:00:00 +0000", "Sun, 31 Dec 1989 23:59:59 +0000", "Sat, 01 Jan 2999 00:00:00 -0800",
    "Thu,20 Nov 2025 10:00:00 +0000", "Thu, 20 Nov 2025  10:00:00 +0000", "Thu, 20 nov 2025 10:00:00 +0000",
    "THU, 20 Nov 2025 10:00:00 +0000", "Thu, 20 Nov 25 10:00:00 +0000", "Thu, 20 Nov 2025 10:00:00 EST",
    "Thu, 20 Nov 2025 10:00:00", "Thu, 20 Nov 2025 10:00:00 +0000 (UTC)", "Thu, 20 Nov 2025 1:00:00 +0000",
    "Thu, 20 November 2025 10:00:00 +0000", "Thu, ۲۰ Nov ۲۰۲۵ ۱۰:۰۰:۰۰ +0000", "Thu, 20 Nov 2025 10:00:00 +03:30",
])
def test_rfc822_fast_path_equals_the_full_parser(raw):
    _same(raw)


_DAYS = st.sampled_from(["", "Mon, ", "Thu, ", "Sun,", "thu, ", "Xyz, ", "Thu ", "Tue, "])
_MONTH = st.sampled_from(["Jan", "Feb", "Apr", "Sep", "Nov", "Dec", "nov", "NOV", "June", "Foo"])
_NUM = st.integers(0, 99).map(lambda n: f"{n:02d}")


@settings(max_examples=600, deadline=None)
@given(_DAYS, st.one_of(_NUM, st.integers(0, 9).map(str)), _MONTH,
       st.one_of(st.integers(1000, 2999).map(str), st.integers(0, 99).map(str)), _NUM, _NUM,
       st.one_of(st.just(None), _NUM), st.sampled_from(_ZONE_NAMES), st.sampled_from([" ", "  ", "\t", ""]))
def test_rfc822_fast_path_equals_the_full_parser_on_generated_dates(wd, day, month, year, hh, mm, ss, zone, gap):
    raw = f"{wd}{day} {month} {year}{gap}{hh}:{mm}{'' if ss is None else ':' + ss} {zone}".strip()
    _same(raw)


def test_rfc822_fast_path_takes_the_common_shapes():
    for raw in ["Thu, 20 Nov 2025 10:00:00 +0000", "Mon, 17 Nov 2025 14:19 IRST", "21 Jul 2018 08:39:54 +0430",
                "Tue, 18 Nov 2025 10:00:00 GMT"]:
        assert _rfc822_plain(raw) is not None, raw
