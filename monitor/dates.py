"""Dates as Persian feeds write them, and the WHEN values people type. Pure functions, no I/O.

feedparser gets several Persian-feed dates wrong (../shared/notes/persian-text.md): it reads `IRST` as UTC (3.5 h
off), a Jalali «1404/08/26» as the year 1404, and returns nothing for an RFC 822 date without seconds. So the raw
string is parsed here first; feedparser's parsed value is only a fallback. A date more than a day in the future
or before 1990 is not believed (stored as null), never stored wrong by hours or centuries.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

from monitor.units import duration_seconds

__all__ = ["TEHRAN", "EARLIEST", "to_iso", "now_utc", "believable", "parse_date", "parse_feed_date", "parse_when"]

# The zone, not a fixed +03:30: Iran kept daylight saving (+04:30 in summer) until 2022, and the archives and
# corpora hold older articles. A date written without an offset is Tehran's wall clock on that day.
TEHRAN = ZoneInfo("Asia/Tehran")
EARLIEST = datetime(1990, 1, 1, tzinfo=timezone.utc)
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_PERSIAN_MONTHS = {name: i + 1 for i, name in enumerate(
    "فروردین اردیبهشت خرداد تیر مرداد شهریور مهر آبان آذر دی بهمن اسفند".split())}
_JALALI_NUMERIC = re.compile(r"^(1[34]\d\d)[/\-.](\d{1,2})[/\-.](\d{1,2})(?:[ T,-]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_JALALI_WORDS = re.compile(r"(\d{1,2})\s+(\S+)\s+(1[34]\d\d)(?:\s*[-،,]?\s*(?:ساعت\s*)?(\d{1,2}):(\d{2}))?")
_DAY_FIRST = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_RFC_NO_SECONDS = re.compile(r"(\d{1,2}:\d{2})(\s+[A-Za-z+\-]|$)")


def to_iso(value: datetime | None) -> str | None:
    """Stored form: ISO 8601 in UTC with seconds and offset, which sorts as text."""
    if value is None:
        return None
    if type(value) is datetime and value.tzinfo is timezone.utc and not value.microsecond:
        return value.isoformat()  # what every parsed feed date already is: astimezone and replace change nothing
    return value.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def believable(value: datetime | None, now: datetime | None = None) -> datetime | None:
    if value is None:
        return None
    now = now or now_utc()
    if value < EARLIEST or value > now + timedelta(days=1):
        return None
    return value


def parse_feed_date(raw: str | None, fallback: datetime | None = None, now: datetime | None = None) -> datetime | None:
    """A feed's date string as an aware UTC datetime, or None when it cannot be believed."""
    parsed = parse_date(raw) if raw else None
    if parsed is None:
        parsed = fallback
    return believable(parsed.astimezone(timezone.utc) if parsed else None, now)


def parse_date(raw: str) -> datetime | None:
    """The moment a date string writes, as an aware datetime (any offset), or None when no reading fits.

    Not yet judged believable (parse_feed_date does that): the fast parse path asks this to know whether the
    string is one monitor.dates reads at all, or one to leave to feedparser's own date parser.
    """
    text = raw.strip()
    if not text:
        return None
    ascii_only = text.isascii()
    if not ascii_only:
        text = text.translate(_DIGITS)
    # Persian month names are never ASCII: most feeds' dates skip that search.
    parsers = _PARSERS if not ascii_only else _ASCII_PARSERS
    for parser in parsers:
        try:
            value = parser(text)
        except (ValueError, OverflowError, TypeError):
            value = None
        if value is not None:
            return value
    return None


# Zone names email.utils does not know, or reads otherwise than Persian feeds mean them. IRST (and IST, as
# Persian sites use it) is written whatever the season, so it means Tehran's wall clock; IRDT says +04:30.
_TEHRAN_ZONE = re.compile(r"\b(IRST|IST|IRDT)$")
_IRDT = "+0430"
_HAS_SECONDS = re.compile(r"\d{1,2}:\d{2}:\d{2}")
_LETTERS = re.compile(r"[A-Za-z]{3}")


def _rfc822(text: str) -> datetime | None:
    """RFC 822 / 2822 as email.utils reads it, plus dates without seconds (feedparser returns nothing for
    those) and the Tehran zone names; a date without a zone (or -0000) is UTC, as the RFC has it."""
    if not _LETTERS.search(text):
        return None
    local = False
    zone = _TEHRAN_ZONE.search(text)
    if zone is not None:
        local = zone.group(1) != "IRDT"
        text = text[:zone.start(1)] + ("" if local else _IRDT)
    if not _HAS_SECONDS.search(text):
        text = _RFC_NO_SECONDS.sub(lambda m: m.group(1) + ":00" + m.group(2), text, count=1)
    value = parsedate_to_datetime(text.rstrip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=TEHRAN if local else timezone.utc)
    return value


def _iso(text: str) -> datetime | None:
    candidate = text.replace("Z", "+00:00").replace(" ", "T", 1) if "T" not in text and " " in text else \
        text.replace("Z", "+00:00")
    value = datetime.fromisoformat(candidate)
    if value.year < 1900:
        return None
    # A date without an offset from a Persian feed is Tehran time far more often than UTC.
    return value if value.tzinfo else value.replace(tzinfo=TEHRAN)


def _jalali_numeric(text: str) -> datetime | None:
    m = _JALALI_NUMERIC.match(text)
    if not m:
        return None
    y, mo, d, hh, mm, ss = m.groups()
    return _from_jalali(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))


def _jalali_words(text: str) -> datetime | None:
    m = _JALALI_WORDS.search(text)
    if not m or m.group(2) not in _PERSIAN_MONTHS:
        return None
    d, month, y, hh, mm = m.groups()
    return _from_jalali(int(y), _PERSIAN_MONTHS[month], int(d), int(hh or 0), int(mm or 0), 0)


def _from_jalali(y: int, mo: int, d: int, hh: int, mm: int, ss: int) -> datetime:
    import jdatetime  # only feeds with Jalali dates pay for it

    g = jdatetime.date(y, mo, d).togregorian()
    return datetime(g.year, g.month, g.day, hh, mm, ss, tzinfo=TEHRAN)


def _day_first(text: str) -> datetime | None:
    m = _DAY_FIRST.match(text)
    if not m:
        return None
    d, mo, y, hh, mm, ss = m.groups()
    return datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0), tzinfo=TEHRAN)


_ASCII_PARSERS = (_jalali_numeric, _day_first, _rfc822, _iso)
_PARSERS = (_jalali_numeric, _jalali_words, _day_first, _rfc822, _iso)


# ------------------------------------------------------------------------- WHEN values on the command line
_YMD = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
_BARE_NUMBER = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")
_DATE_FORMS = "an ISO date (2025-11-17), a Jalali date (1404-08-26), today or yesterday"


def parse_when(value: str, now: datetime | None = None) -> datetime:
    """A moment back from `now`: a duration as config.yaml writes one (24h, 7d, 30m, 1h30m, 2w: the one grammar
    of monitor.units); an ISO date or date-time; `today`, `yesterday`; or a Jalali date `1404-08-26`.

    Dates without a time mean the start of that day in Tehran. Raises ValueError with a readable message.
    """
    now = now or now_utc()
    text = value.strip().lower().translate(_DIGITS)
    if text in ("today", "yesterday"):
        day = now.astimezone(TEHRAN).date() - timedelta(days=1 if text == "yesterday" else 0)
        return datetime(day.year, day.month, day.day, tzinfo=TEHRAN)
    m = _YMD.match(text)
    if m:
        y, mo, d = (int(g) for g in m.groups())
        if 1300 <= y < 1500:
            try:
                return _from_jalali(y, mo, d, 0, 0, 0)
            except ValueError:
                raise ValueError(f'"{value}" is not a valid Jalali date') from None
        try:
            day = date(y, mo, d)
        except ValueError:
            raise ValueError(f'"{value}" is not a valid date') from None
        return datetime(day.year, day.month, day.day, tzinfo=TEHRAN)
    try:
        parsed = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=TEHRAN)
    except ValueError:
        pass
    if _BARE_NUMBER.match(text):
        # config.yaml reads a bare number as seconds; here "2025" is as likely a year: neither is guessed.
        raise ValueError(f'"{value}" needs a unit (90s, 24h) or must be a full date (2025-11-17)')
    try:
        seconds = duration_seconds(value)
    except ValueError as exc:
        raise ValueError(f"{exc}; or {_DATE_FORMS}") from None
    try:
        return now - timedelta(seconds=seconds)
    except (OverflowError, ValueError):  # `99999999d`
        raise ValueError(f'"{value}" reaches further back than the calendar goes') from None
