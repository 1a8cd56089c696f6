"""When to poll a feed next, and why: pure functions, no I/O, so every rule is tested without a clock.

The rules, in the order they apply:

* After a failure: exponential backoff on consecutive failures (interval x 2^(n-1)), capped at a day, and never
  sooner than the server's Retry-After (429/503; itself capped at a day by fetch). A failing feed is slowed,
  never dropped: it is polled again when the delay ends, and `monitor feeds` shows the error and the time.
* After a success: the feed's interval, but never sooner than the RSS <ttl> or the response's
  Cache-Control max-age (both capped at a day: a feed cannot switch itself off).
* `interval: auto`: the interval follows how often the feed really publishes new items. Miniflux divides a week
  by the number of entries of the last week, so one burst of 50 items keeps a feed on its minimum for a week,
  and a feed that fell silent yesterday is still polled at last week's pace; Media Cloud only nudges the interval
  up or down by the share of duplicates of each poll, which converges slowly. Here: half the *median* gap
  between the feed's recent new items (robust to bursts; two polls per typical gap, so an item waits on
  average a quarter of the gap), stretched when the feed has now been silent for longer than that gap (the
  silence is evidence the pace changed), between schedule.min_interval and schedule.max_interval.
"""

from __future__ import annotations

import re
from datetime import datetime
from statistics import median
from typing import Sequence

MAX_DELAY = 86_400.0  # no rule may push a poll more than a day away
AUTO_SAMPLE = 20  # recent items the auto interval looks at
_TTL = re.compile(rb"<ttl>\s*(\d{1,7})\s*</ttl>", re.IGNORECASE)


def backoff_delay(interval: float, failures: int, retry_after: float | None) -> tuple[float, str]:
    """Seconds until the next try after `failures` consecutive failures (this one included), and why."""
    delay = min(interval * 2 ** max(failures - 1, 0), MAX_DELAY)
    why = f"backoff after {failures} failure{'s' if failures != 1 else ''} in a row"
    if retry_after is not None and retry_after > delay:
        return min(retry_after, MAX_DELAY), f"server asked to wait (Retry-After {retry_after:.0f}s)"
    return delay, why


def success_delay(interval: float, *, ttl: float | None, max_age: float | None) -> tuple[float, str | None]:
    """Seconds until the next poll after a good fetch; the reason when the feed asked for more than interval."""
    delay, why = interval, None
    for floor, name in ((ttl, "the feed's <ttl>"), (max_age, "Cache-Control max-age")):
        if floor is not None and min(floor, MAX_DELAY) > delay:
            delay, why = min(floor, MAX_DELAY), f"{name} of {floor:.0f}s"
    return delay, why


def rss_ttl(body: bytes | None) -> float | None:
    """An RSS channel's <ttl> (minutes) in seconds, or None. Read from the raw bytes: the first <ttl> is the
    channel's (items have none), and no feed parser is needed to find it."""
    if not body:
        return None
    end = body.find(b"<item", 0, 65536)  # the channel's own elements come before its first item
    found = _TTL.search(body, 0, end if end >= 0 else 65536)
    return float(found.group(1)) * 60 if found else None


def auto_interval(times: Sequence[datetime], now: datetime, *, default: float, low: float,
                  high: float) -> tuple[float, str]:
    """The adaptive interval from the publication times of a feed's recent new items (any order)."""
    recent = sorted(t for t in times if t <= now)[-AUTO_SAMPLE:]
    if len(recent) < 3:
        return _clamp(default, low, high), f"auto: too few recent items ({len(recent)}), default interval"
    gaps = [(b - a).total_seconds() for a, b in zip(recent, recent[1:])]
    gap = max(median(gaps), 1.0)
    silent = (now - recent[-1]).total_seconds()
    why = f"auto: median gap {gap:.0f}s between the last {len(recent)} items"
    if silent > gap:
        gap = (gap * silent) ** 0.5  # geometric mean: reacts to a silence without jumping to it at once
        why += f", silent for {silent:.0f}s"
    return _clamp(gap / 2, low, high), why


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))
