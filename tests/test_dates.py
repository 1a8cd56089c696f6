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


# ------------------------------------------------------------- Tehran as a zone: daylight saving before 2022
@pytest.mark.parametrize("raw", [
    "Thu, 01 Jul 2021 12:00:00 IRDT", "Thu, 01 Jul 2021 12:00:00 +0430",
    "Thu, 01 Jul 2021 12:00:00 IRST",  # IRST written all year round: Tehran's wall clock that day
    "Thu, 01 Jul 2021 12:00 IST", "2021-07-01 12:00", "2021-07-01T12:00:00", "1400/04/10 12:00",
    "۱۴۰۰/۰۴/۱۰ ۱۲:۰۰", "پنجشنبه 10 تیر 1400 - 12:00", "01.07.2021 12:00",
])
def test_summer_2021_is_four_and_a_half_hours_ahead(raw):
    assert to_iso(parse_feed_date(raw, now=NOW)) == "2021-07-01T07:30:00+00:00"


@pytest.mark.parametrize("raw", [
    "Tue, 01 Jul 2025 12:00:00 IRST", "2025-07-01 12:00", "1404/04/10 12:00", "Tue, 01 Jul 2025 12:00:00 +0330",
])
def test_summer_2025_is_three_and_a_half_hours_ahead(raw):
    assert to_iso(parse_feed_date(raw, now=NOW)) == "2025-07-01T08:30:00+00:00"


def test_winter_2021_and_the_start_of_a_summer_day():
    assert to_iso(parse_feed_date("2021-01-10 12:00", now=NOW)) == "2021-01-10T08:30:00+00:00"
    assert parse_when("2021-07-01", now=NOW) == datetime(2021, 6, 30, 19, 30, tzinfo=timezone.utc)
    assert parse_when("1400-04-10", now=NOW) == datetime(2021, 6, 30, 19, 30, tzinfo=timezone.utc)
    assert parse_when("2021-07-01T12:00", now=NOW).utcoffset() == timedelta(hours=4, minutes=30)
    assert TEHRAN.key == "Asia/Tehran"


def test_today_in_tehran_in_a_summer_before_2022():
    late = datetime(2021, 7, 1, 20, 0, tzinfo=timezone.utc)  # 00:30 on 2 July in Tehran (+04:30)
    assert parse_when("today", now=late) == datetime(2021, 7, 1, 19, 30, tzinfo=timezone.utc)
    assert parse_when("yesterday", now=late) == datetime(2021, 6, 30, 19, 30, tzinfo=timezone.utc)


# ------------------------------------------------------------- durations for --since: monitor.units' grammar
@pytest.mark.parametrize("value, seconds", [
    ("1h30m", 5400), ("2w", 14 * 86400), ("10min", 600), ("24H", 86400), ("۲۴h", 86400), ("1d 12h", 129600),
    ("45s", 45), ("0.5h", 1800),
])
def test_parse_when_reads_config_durations(value, seconds):
    assert parse_when(value, now=NOW) == NOW - timedelta(seconds=seconds)


@pytest.mark.parametrize("value, wording", [
    ("7x", "is not a duration; use a number and a unit"), ("30m1h", "is not a duration; use a number and a unit"),
    ("30M", "M could mean months"), ("90", "needs a unit"), ("2025", "needs a unit"),
    ("99999999d", "further back than the calendar goes"), ("-5h", "is not a duration"),
])
def test_parse_when_says_what_is_wrong(value, wording):
    with pytest.raises(ValueError, match=wording):
        parse_when(value, now=NOW)


def test_duration_errors_are_worded_as_in_the_config():
    from monitor.errors import ConfigError
    from monitor.units import parse_duration

    with pytest.raises(ValueError) as cli:
        parse_when("7x", now=NOW)
    with pytest.raises(ConfigError) as config:
        parse_duration("7x", key="schedule.interval", path="c.yaml", line=3)
    assert str(config.value) == f"c.yaml:3: schedule.interval: {str(cli.value).split('; or ')[0]}"


# ------------------------------------------------------------- RFC 822: email.utils' reading, plus Tehran's zones
from email.utils import parsedate_to_datetime  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from monitor.dates import parse_date  # noqa: E402

_ZONE_NAMES = ["+0000", "-0000", "+0330", "-0330", "+0430", "+0099", "-1200", "+1400", "+2400", "+9999", "GMT",
               "UTC", "UT", "Z", "EST", "gmt", "PST", "", "+330", "+03:30"]


def _email_utils(raw: str) -> datetime | None:
    """The standard library's reading, a date without a zone (or -0000) taken as UTC."""
    try:
        value = parsedate_to_datetime(raw)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _same_moment(a: datetime | None, b: datetime | None) -> bool:
    return a == b and (a is None or a.utcoffset() == b.utcoffset())


@pytest.mark.parametrize("raw", [
    "Thu, 20 Nov 2025 10:00:00 +0000", "20 Nov 2025 10:00:00 GMT", "Mon, 17 Nov 2025 14:19:00 UT",
    "Mon, 17 Nov 2025 14:19:00 Z", "Mon, 17 Nov 2025 14:19:00 -0000", "Mon, 17 Nov 2025 14:19:00 +0099",
    "Mon, 17 Nov 2025 14:19:00 +9999", "Mon, 17 Nov 2025 14:19:00 +2400", "Mon, 17 Nov 2025 14:19:00 -2359",
    "Mon, 30 Feb 2025 14:19:00 +0000", "Mon, 17 Nov 2025 25:19:00 +0000", "Mon, 17 Nov 2025 14:60:00 +0000",
    "Mon, 17 Nov 2025 14:19:60 +0000", "Fri, 7 Nov 2025 09:05:03 +0330", "Sun, 00 Nov 2025 10:00:00 +0000",
    "Sun, 31 Dec 1989 23:59:59 +0000", "Sat, 01 Jan 2999 00:00:00 -0800", "Thu,20 Nov 2025 10:00:00 +0000",
    "Thu, 20 Nov 2025  10:00:00 +0000", "Thu, 20 nov 2025 10:00:00 +0000", "THU, 20 Nov 2025 10:00:00 +0000",
    "Thu, 20 Nov 25 10:00:00 +0000", "Thu, 20 Nov 2025 10:00:00 EST", "Thu, 20 Nov 2025 10:00:00",
    "Thu, 20 Nov 2025 10:00:00 +0000 (UTC)", "Thu, 20 Nov 2025 1:00:00 +0000", "Thu, 20 November 2025 10:00:00 +0000",
    "Thu, 20 Nov 2025 10:00:00 +03:30",
])
def test_rfc822_dates_read_as_email_utils_reads_them(raw):
    assert _same_moment(parse_date(raw), _email_utils(raw)), raw


@pytest.mark.parametrize("raw, iso", [
    ("Mon, 17 Nov 2025 14:19 IRST", "2025-11-17T10:49:00+00:00"), ("Mon, 17 Nov 2025 14:19:00 IRDT",
                                                                   "2025-11-17T09:49:00+00:00"),
    ("Mon, 17 Nov 2025 14:19:00 IST", "2025-11-17T10:49:00+00:00"), ("Thu, ۲۰ Nov ۲۰۲۵ ۱۰:۰۰:۰۰ +0000",
                                                                    "2025-11-20T10:00:00+00:00"),
    ("Fri, 07 Nov 1400 09:05:03 +0330", "1400-11-07T05:35:03+00:00"), ("Thu, 20 Nov 2025 10:00 +0000",
                                                                       "2025-11-20T10:00:00+00:00"),
])
def test_rfc822_dates_beyond_email_utils(raw, iso):
    """Tehran's zone names, Persian digits and dates without seconds, which email.utils misreads or refuses."""
    assert to_iso(parse_date(raw)) == iso


_DAYS = st.sampled_from(["", "Mon, ", "Thu, ", "Sun,", "thu, ", "Xyz, ", "Thu ", "Tue, "])
_MONTH = st.sampled_from(["Jan", "Feb", "Apr", "Jul", "Sep", "Nov", "Dec", "nov", "NOV", "June", "Foo"])
_NUM = st.integers(0, 99).map(lambda n: f"{n:02d}")


@settings(max_examples=600, deadline=None)
@given(_DAYS, st.one_of(_NUM, st.integers(0, 9).map(str)), _MONTH,
       st.one_of(st.integers(1000, 2999).map(str), st.integers(0, 99).map(str)), _NUM, _NUM, _NUM,
       st.sampled_from(_ZONE_NAMES), st.sampled_from([" ", "  ", "\t", ""]))
def test_rfc822_generated_dates_read_as_email_utils_reads_them(wd, day, month, year, hh, mm, ss, zone, gap):
    raw = f"{wd}{day} {month} {year}{gap}{hh}:{mm}:{ss} {zone}".strip()
    if not raw[:4].isdigit() or int(raw[:4]) < 1300 or int(raw[:4]) >= 1500:  # "1404/.." would be Jalali
        assert _same_moment(parse_date(raw), _email_utils(raw)), raw


@settings(max_examples=300, deadline=None)
@given(_DAYS, st.integers(1, 28), st.sampled_from(["Jan", "Jul", "Nov"]), st.integers(1995, 2030),
       st.integers(0, 23), st.integers(0, 59), st.sampled_from(["+0000", "GMT", "IRST", "IRDT", "-0500", ""]))
def test_rfc822_without_seconds_is_the_minute_at_zero_seconds(wd, day, month, year, hh, mm, zone):
    short = f"{wd}{day} {month} {year} {hh:02d}:{mm:02d} {zone}".strip()
    full = f"{wd}{day} {month} {year} {hh:02d}:{mm:02d}:00 {zone}".strip()
    assert parse_date(short) is not None and _same_moment(parse_date(short), parse_date(full)), short
