"""When a destination may be sent to: quiet hours and digest periods (Tehran time), and the capped backoff.

Pure functions of a clock, so the sender runs the same in the daemon, in `monitor poll` and in tests that set
the time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from monitor.dates import TEHRAN
from monitor.models import NotifySpec

BACKOFF_BASE = 2.0  # seconds after the first failure; doubled after each failure in a row
BACKOFF_CAP = 600.0  # never more than ten minutes between tries: a service that comes back is used soon


def stamp(when: datetime) -> str:
    """Outbox times: UTC with microseconds, one format so they compare as text (latency is measured on them)."""
    return when.astimezone(timezone.utc).isoformat(timespec="microseconds")


def in_quiet(spec: NotifySpec, now: datetime) -> bool:
    """Whether `now` is inside the destination's quiet hours (Tehran wall clock; a range may pass midnight)."""
    if spec.quiet is None:
        return False
    local = now.astimezone(TEHRAN)
    second = local.hour * 3600 + local.minute * 60 + local.second
    start, end = spec.quiet
    return start <= second < end if start < end else (second >= start or second < end)


def quiet_ends(spec: NotifySpec, now: datetime) -> datetime | None:
    """When the quiet period holding `now` ends, or None when `now` is not quiet."""
    if not in_quiet(spec, now):
        return None
    local = now.astimezone(TEHRAN).replace(microsecond=0)
    end = local.replace(hour=spec.quiet[1] // 3600, minute=spec.quiet[1] // 60 % 60, second=spec.quiet[1] % 60)
    if end <= local:
        end += timedelta(days=1)
    return end


def next_digest(spec: NotifySpec, after: datetime) -> datetime:
    """The first end of a digest period strictly after `after` ("hour": every hour at :00; "day at 08:00";
    "monday at 08:00"), in Tehran time."""
    local = after.astimezone(TEHRAN).replace(second=0, microsecond=0) + timedelta(minutes=1)
    if spec.hour is None:
        candidate = local.replace(minute=spec.minute)
        if candidate < local:
            candidate += timedelta(hours=1)
        return candidate
    candidate = local.replace(hour=spec.hour, minute=spec.minute)
    if candidate < local:
        candidate += timedelta(days=1)
    if spec.day_of_week:
        wanted = ("mon", "tue", "wed", "thu", "fri", "sat", "sun").index(spec.day_of_week)
        candidate += timedelta(days=(wanted - candidate.weekday()) % 7)
    return candidate


def backoff(failures: int) -> float:
    """Seconds to wait after `failures` failed tries in a row: 2, 4, 8 ... capped at BACKOFF_CAP."""
    return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, failures - 1))


__all__ = ["BACKOFF_BASE", "BACKOFF_CAP", "backoff", "in_quiet", "next_digest", "quiet_ends", "stamp"]
