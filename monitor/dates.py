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

TEHRAN = timezone(timedelta(hours=3, minutes=30), "Asia/Tehran")  # no DST since 2022
ZONE_OFFSETS = {"IRST": "+0330", "IRDT": "+0430", "IST": "+0330", "UT": "+0000", "Z": "+0000"}
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
    parsed = _parse_raw(raw.strip()) if raw and raw.strip() else None
    if parsed is None:
        parsed = fallback
    return believable(parsed.astimezone(timezone.utc) if parsed else None, now)


def _parse_raw(raw: str) -> datetime | None:
    plain = _rfc822_plain(raw)
    return plain if plain is not None else _parse_raw_exact(raw)


def _parse_raw_exact(raw: str) -> datetime | None:
    text = raw.translate(_DIGITS)
    for parser in (_jalali_numeric, _jalali_words, _day_first, _rfc822, _iso):
        try:
            value = parser(text)
        except (ValueError, OverflowError, TypeError):
            value = None
        if value is not None:
            return value
    return None


def _rfc822(text: str) -> datetime | None:
    if not re.search(r"[A-Za-z]{3}", text):
        return None
    fixed = text
    for zone, offset in ZONE_OFFSETS.items():
        fixed = re.sub(rf"\b{zone}\b$", offset, fixed)
    fixed = _RFC_NO_SECONDS.sub(lambda m: m.group(1) + ":00" + m.group(2), fixed, count=1) \
        if not re.search(r"\d{1,2}:\d{2}:\d{2}", fixed) else fixed
    value = parsedate_to_datetime(fixed)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


# The shape nearly every RSS feed writes its dates in (email.utils.format_datetime, PHP's DATE_RSS), seconds and
# weekday optional: "Thu, 20 Nov 2025 10:00:00 +0000", "20 Nov 2025 13:30 IRST". ASCII digits only, so the
# translation of Persian digits changes nothing; no Persian month name and no leading "1[34]xx" or "dd.", so the
# Jalali and day-first parsers before _rfc822 all return None; and for these strings _rfc822's zone and seconds
# fixes and email.utils's reading reduce to the arithmetic in _rfc822_plain (tests/test_dates.py compares both).
_RFC822_PLAIN = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?([0-9]{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"([12][0-9]{3}) ([0-9]{2}):([0-9]{2})(?::([0-9]{2}))? ([+-][0-9]{4}|GMT|UTC|UT|Z|IRST|IRDT|IST)")
_MONTHS = {name: i + 1 for i, name in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}
# Seconds east of UTC: email.utils's own names, and ZONE_OFFSETS's, which _rfc822 turns into +hhmm first.
_ZONE_SECONDS = {"GMT": 0, "UTC": 0, "UT": 0, "Z": 0, "IRST": 12600, "IRDT": 16200, "IST": 12600}
_ZONES: dict[int, timezone] = {0: timezone.utc}


def _rfc822_plain(raw: str) -> datetime | None:
    """_parse_raw(raw) for the common RFC 822 shape without the five parsers, regexes and email.utils (about
    40 us); None for any other string, or when this one is not a valid date, and _parse_raw decides."""
    m = _RFC822_PLAIN.fullmatch(raw)
    if m is None:
        return None
    day, month, year, hour, minute, second, zone = m.groups()
    seconds = _ZONE_SECONDS.get(zone)
    if seconds is None:  # email.utils: +hhmm -> (hh * 3600 + mm * 60), sign kept; -0000 is UTC here as well
        seconds = int(zone[1:3]) * 3600 + int(zone[3:]) * 60
        if zone[0] == "-":
            seconds = -seconds
    try:
        tz = _ZONES.get(seconds)
        if tz is None:
            tz = _ZONES[seconds] = timezone(timedelta(seconds=seconds))
        return datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second or 0), tzinfo=tz)
    except ValueError:  # 30 Feb, hour 25, an offset of a day or more: the full path says what that is
        return None


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


# ------------------------------------------------------------------------- WHEN values on the command line
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*(m|min|h|d|w)$")
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_when(value: str, now: datetime | None = None) -> datetime:
    """`24h`, `7d`, `30m`, `2w`; an ISO date or date-time; `today`, `yesterday`; or a Jalali date `1404-08-26`.

    Dates without a time mean the start of that day in Tehran. Raises ValueError with a readable message.
    """
    now = now or now_utc()
    text = value.strip().lower().translate(_DIGITS)
    if text in ("today", "yesterday"):
        day = now.astimezone(TEHRAN).date() - timedelta(days=1 if text == "yesterday" else 0)
        return datetime(day.year, day.month, day.day, tzinfo=TEHRAN)
    m = _RELATIVE.match(text)
    if m:
        try:
            return now - timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])
        except (OverflowError, ValueError):  # `99999999d` used to escape as a traceback
            raise ValueError(f"{value!r} reaches further back than the calendar goes") from None
    m = re.match(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$", text)
    if m:
        y, mo, d = (int(g) for g in m.groups())
        if 1300 <= y < 1500:
            try:
                return _from_jalali(y, mo, d, 0, 0, 0)
            except ValueError:
                raise ValueError(f"{value!r} is not a valid Jalali date") from None
        try:
            day = date(y, mo, d)
        except ValueError:
            raise ValueError(f"{value!r} is not a valid date") from None
        return datetime(day.year, day.month, day.day, tzinfo=TEHRAN)
    try:
        parsed = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{value!r} is not a time: use 24h, 7d, 30m, an ISO date (2025-11-17), "
            "a Jalali date (1404-08-26), today or yesterday") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=TEHRAN)
