"""Parsers for the human-friendly durations and sizes used in config.yaml.

They live apart from the config loader so other modules (the CLI's --since, say)
can reuse them without pulling in YAML. Both raise ConfigError, which names the
key; the loader passes the file and line so the message points at the value.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, NoReturn

from monitor.errors import ConfigError

__all__ = ["parse_duration", "parse_size"]

# Durations: lower-case units only, largest first, each at most once ("1h30m", "1d 12h").
# Lower case on purpose: "1M" could be read as a month, and there is no month unit.
_DURATION_UNITS: dict[str, float] = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([a-z]+)")
_DURATION = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?\s*[a-z]+\s*)+")
_PLAIN_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")

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

_DURATION_HELP = "use seconds (90) or numbers with units d, h, m, s, largest first (30s, 10m, 1h30m, 1d)"
_SIZE_HELP = "use bytes (100) or a number with a unit B, KB, MB, GB (binary: 1 MB = 1024*1024 bytes)"


def parse_duration(value: Any, *, key: str, path: str | None = None, line: int | None = None) -> float:
    """Return `value` as seconds (>= 0).

    Numbers are seconds. Strings are a plain number of seconds ("90") or number+unit
    parts, largest unit first, each unit once: "30s", "10m", "1h30m", "1d 12h".
    Booleans, negatives, NaN/infinity and anything else are rejected, since a typo
    here would silently change how often every feed is polled.
    """
    if isinstance(value, str):
        seconds = _duration_from_text(value.strip())
        if seconds is None:
            _fail(f"{_show(value)} is not a duration; {_DURATION_HELP}", key, path, line)
        return seconds
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


def _duration_from_text(text: str) -> float | None:
    """Seconds for a duration string, or None when it is not one."""
    if _PLAIN_NUMBER.fullmatch(text):
        return float(text)
    if not _DURATION.fullmatch(text):
        return None
    order = list(_DURATION_UNITS)
    last = -1
    total = 0.0
    for part in _DURATION_PART.finditer(text):
        unit = part.group(2)
        if unit not in _DURATION_UNITS or order.index(unit) <= last:
            return None  # unknown unit, repeated unit, or units out of order ("30m1h")
        last = order.index(unit)
        total += float(part.group(1)) * _DURATION_UNITS[unit]
    return total


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
