"""The one reading of durations (config.yaml and the command line's --since) and of sizes (config.yaml).

Apart from the config loader so that monitor.dates (--since) reads durations through the same grammar without
pulling in YAML. duration_seconds raises ValueError with the message both show; parse_duration and parse_size
raise ConfigError, which names the key, and the loader passes the file and line so the message points at it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, NoReturn

from monitor.errors import ConfigError

__all__ = ["DURATION_FORMS", "duration_seconds", "parse_duration", "parse_size"]

# Durations: units largest first, each at most once ("1h30m", "1d 12h", "2w"); a bare number is seconds. Units
# in any case but "M": "1M" reads as a month as easily as a minute, and there is no month unit.
_DURATION_UNITS: dict[str, float] = {"w": 7 * 86400.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "min": 60.0,
                                     "s": 1.0}
_DURATION_RANK = {"w": 0, "d": 1, "h": 2, "m": 3, "min": 3, "s": 4}
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)")
_DURATION = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?\s*[A-Za-z]+\s*)+")
_PLAIN_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")

DURATION_FORMS = "a number and a unit w, d, h, m or s, several largest first (30s, 10m, 1h30m, 7d)"

# Sizes: binary multiples whatever the spelling, so "15MB" is the same 15 MiB cap Miniflux uses
# and a plain "MB" never surprises anyone by being 4.6% smaller than they meant.
_KIB = 1024
_SIZE_UNITS: dict[str, int] = {
    "": 1, "b": 1,
    "k": _KIB, "kb": _KIB, "kib": _KIB,
    "m": _KIB ** 2, "mb": _KIB ** 2, "mib": _KIB ** 2,
    "g": _KIB ** 3, "gb": _KIB ** 3, "gib": _KIB ** 3,
}
_SIZE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)")

_DURATION_HELP = f"use {DURATION_FORMS}, or seconds as a number (90)"
_SIZE_HELP = "use bytes (100) or a number with a unit B, KB, MB, GB (binary: 1 MB = 1024*1024 bytes)"


def duration_seconds(text: str) -> float:
    """Seconds (>= 0) for a duration string: the only place one is read. Raises ValueError saying what is wrong.

    "90" (seconds), "30s", "10m", "10min", "1h30m", "1d 12h", "2w"; Persian digits as well ("۲۴h").
    Negatives, exponents, an unknown, repeated or out-of-order unit, and "M" are refused: a typo here would
    silently change how often every feed is polled, or how far back a report reaches.
    """
    value = text.strip().translate(_DIGITS)
    if _PLAIN_NUMBER.fullmatch(value):
        return float(value)
    if _DURATION.fullmatch(value):
        last = -1
        total = 0.0
        for part in _DURATION_PART.finditer(value):
            unit = part.group(2)
            if unit == "M":
                raise ValueError(f"{_show(text)} is not a duration: M could mean months; write m for minutes "
                                 "(there is no month unit)")
            rank = _DURATION_RANK.get(unit.lower(), -1)
            if rank <= last:
                break  # unknown unit, repeated unit, or units out of order ("30m1h")
            last = rank
            total += float(part.group(1)) * _DURATION_UNITS[unit.lower()]
        else:
            return total
    raise ValueError(f"{_show(text)} is not a duration; use {DURATION_FORMS}")


def parse_duration(value: Any, *, key: str, path: str | None = None, line: int | None = None) -> float:
    """A config value as seconds (>= 0): a number of seconds, or a string duration_seconds reads.

    Booleans, negatives, NaN/infinity and anything else are rejected (YAML turns `yes` into True).
    """
    if isinstance(value, str):
        try:
            return duration_seconds(value)
        except ValueError as exc:
            _fail(str(exc), key, path, line)
    return float(_non_negative_number(value, "a duration", _DURATION_HELP, key, path, line))


def parse_size(value: Any, *, key: str, path: str | None = None, line: int | None = None) -> int:
    """Return `value` as a whole number of bytes (>= 0).

    Numbers are bytes. Strings are a number with an optional unit, case-insensitive:
    B, K/KB/KiB, M/MB/MiB, G/GB/GiB. KB, MB and GB are binary (1024-based) on purpose,
    matching Miniflux's 15 MiB body cap, so "15MB" == "15MiB" == 15 * 1024 * 1024.
    Fractions are rounded to the nearest byte.
    """
    if isinstance(value, str):
        size = _size_from_text(value.strip())
        if size is None:
            _fail(f"{_show(value)} is not a size; {_SIZE_HELP}", key, path, line)
        return size
    number = _non_negative_number(value, "a size", _SIZE_HELP, key, path, line)
    if not float(number).is_integer():
        _fail(f"{_show(value)} is not a whole number of bytes", key, path, line)
    return int(number)


def _size_from_text(text: str) -> int | None:
    """Bytes for a size string, or None when it is not one."""
    match = _SIZE.fullmatch(text)
    if match is None:
        return None
    multiplier = _SIZE_UNITS.get(match.group(2).lower())
    if multiplier is None:
        return None
    return round(float(match.group(1)) * multiplier)


def _non_negative_number(value: Any, what: str, help_text: str, key: str,
                         path: str | None, line: int | None) -> float:
    """A finite int/float >= 0; booleans are not numbers here (YAML turns `yes` into True)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(f"{_show(value)} is not {what}; {help_text}", key, path, line)
    if not math.isfinite(value) or value < 0:
        _fail(f"{_show(value)} is not {what}; it must be a finite number >= 0", key, path, line)
    return value


def _show(value: Any) -> str:
    """The value as a person would write it: strings in double quotes, true/false/null as YAML spells them."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return repr(value)


def _fail(message: str, key: str, path: str | None, line: int | None) -> NoReturn:
    raise ConfigError(message, path=path, line=line, key=key)
