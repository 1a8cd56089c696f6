"""The schema: one field table per section (schedule, http, dedup, feeds, articles, watch, report, notify and
the top level), each entry a YAML key, its converter and the dataclass field it fills.

Why tables: a new key is one entry here (plus its field on the dataclass in monitor.models), and unknown or
missing keys are reported the same way in every section (monitor.config.load.mapping).
"""

from __future__ import annotations

import difflib
import os
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from yaml.nodes import Node, SequenceNode

from monitor.config.convert import (choice, config_path, corpus_paths, database_location, duration, feed_interval,
                                    feed_name, header_string, http_url, integer, kind, number, size, string, strings)
from monitor.config.load import Context, Converter, Field, line_of, mapping, pairs, quote, sequence
from monitor.models import (FULL_TEXT, ArticleSettings, DedupSettings, FeedSpec, HTTPSettings, Schedule,
                            ServeSettings, WatchEntry)


# --------------------------------------------------------------------------- sections


def _section(fields: Mapping[str, Field], build: Callable[..., Any]) -> Converter:
    """A converter for a mapping that becomes one dataclass."""
    return lambda ctx, node, key: build(**mapping(ctx, node, key, fields))


def _schedule(ctx: Context, node: Node, key: str) -> Schedule:
    """The schedule section; the bounds of `interval: auto` must be in order."""
    schedule = Schedule(**mapping(ctx, node, key, _SCHEDULE))
    if schedule.min_interval > schedule.max_interval:
        ctx.fail(node, f"{key}.min_interval", f"must not be longer than max_interval "
                                              f"({schedule.min_interval:g}s > {schedule.max_interval:g}s)")
    return schedule


def _named_list(item: Converter, what: str) -> Converter:
    """A list of mappings with a `name`, each name used once (compared case-insensitively)."""

    def convert(ctx: Context, node: Node, key: str) -> tuple[Any, ...]:
        built: list[Any] = []
        seen: dict[str, int] = {}
        for item_node, item_key in sequence(ctx, node, key, allow_single=False):
            entry = item(ctx, item_node, item_key)
            name_node = pairs(ctx, item_node, item_key)["name"][1]
            folded = entry.name.casefold()
            if folded in seen:
                ctx.fail(name_node, f"{item_key}.name",
                         f"duplicate {what} name {quote(entry.name)} (first used on line {seen[folded]})")
            seen[folded] = line_of(name_node) or 0
            built.append(entry)
        return tuple(built)

    return convert


_SCHEDULE: dict[str, Field] = {
    "interval": Field(duration(positive=True)),
    "jitter": Field(duration(positive=False)),
    "min_interval": Field(duration(positive=True)),  # bounds of `interval: auto`
    "max_interval": Field(duration(positive=True)),
    "lease": Field(duration(positive=True)),  # PostgreSQL: how long a worker's claim on a feed lasts if it dies
}

_HTTP: dict[str, Field] = {
    "timeout": Field(duration(positive=True)),
    "max_bytes": Field(size),
    "user_agent": Field(header_string),
    "concurrency": Field(integer(minimum=1)),
    "max_redirects": Field(integer(minimum=0)),
    "max_items": Field(integer(minimum=1)),
    "per_host": Field(integer(minimum=1)),  # feed requests in flight to one host (monitor.turns)
    "host_delay": Field(duration(positive=False)),  # seconds between two feed requests' starts to one host
}

_DEDUP: dict[str, Field] = {
    "window_days": Field(number(low=0, high=None, low_inclusive=False)),
    "threshold": Field(number(low=0, high=1, low_inclusive=False)),
}

_FEED: dict[str, Field] = {
    "name": Field(feed_name, required=True),
    "url": Field(http_url, required=True),
    "interval": Field(feed_interval),
    "full_text": Field(lambda ctx, node, key: choice(ctx, node, key, FULL_TEXT, "a full_text mode")),
    "group": Field(string),  # a folder of the feed list (OPML import); reports filter on it
}

_ARTICLES: dict[str, Field] = {
    "min_chars": Field(integer(minimum=0)),
    "per_host": Field(integer(minimum=1)),
    "delay": Field(duration(positive=False)),
    "deadline": Field(duration(positive=True)),
    "full_text": Field(lambda ctx, node, key: choice(ctx, node, key, FULL_TEXT, "a full_text mode")),
}

_WATCH: dict[str, Field] = {
    "name": Field(string, required=True),
    "kind": Field(kind, required=True),
    "terms": Field(strings(allow_empty=False), required=True),
    "suffixes": Field(strings(allow_empty=True)),  # [] means no suffixes; absent means the kind's defaults
    "exclude": Field(strings(allow_empty=True)),
}

# The top level. Adding `report:` or `log:` later is one entry here (and its field on Config).
TOP_LEVEL: dict[str, Field] = {
    "database": Field(database_location),
    "corpus": Field(corpus_paths),
    "schedule": Field(_schedule),
    "http": Field(_section(_HTTP, HTTPSettings)),
    "dedup": Field(_section(_DEDUP, DedupSettings)),
    "feeds": Field(_named_list(_section(_FEED, FeedSpec), "feed"), required=True),
    "watch": Field(_named_list(_section(_WATCH, WatchEntry), "watch")),
    "report": Field(lambda ctx, node, key: _report(ctx, node, key)),
    "articles": Field(_section(_ARTICLES, ArticleSettings)),
    "notify": Field(lambda ctx, node, key: _named_list(_notify_entry, "notify")(ctx, node, key)),
    "notify_backfill": Field(duration(positive=False)),
    "serve": Field(lambda ctx, node, key: _section(_SERVE, ServeSettings)(ctx, node, key)),
}


def _port(ctx: Context, node: Node, key: str) -> int:
    value = integer(minimum=1)(ctx, node, key)
    if value > 65535:
        ctx.fail(node, key, f"must be at most 65535, got {value}")
    return value


_SERVE: dict[str, Field] = {  # `monitor serve` (monitor.web)
    "host": Field(string),
    "port": Field(_port),
    "password_file": Field(config_path),
}


# --------------------------------------------------------------------------- report: (the daemon's daily report)

_WEEKDAYS = {"monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu", "friday": "fri",
             "saturday": "sat", "sunday": "sun"}
_EVERY = re.compile(r"(day|daily|" + "|".join(_WEEKDAYS) + r")(?:\s+at\s+(\d{1,2}):(\d{2}))?", re.IGNORECASE)


def _every(ctx: Context, node: Node, key: str) -> dict[str, Any]:
    """"day at 08:00" (daily) or "monday at 08:00" (weekly) to the hour, minute and weekday of a cron job."""
    value = string(ctx, node, key)
    m = _EVERY.fullmatch(" ".join(value.split()))
    hour, minute = (int(m.group(2)), int(m.group(3))) if m and m.group(2) else (8, 0)
    if not m or hour > 23 or minute > 59:
        ctx.fail(node, key, f"{quote(value)} is not a schedule; write \"day at 08:00\" or \"monday at 08:00\"")
    day = m.group(1).lower()
    return {"every": value, "hour": hour, "minute": minute,
            "day_of_week": None if day in ("day", "daily") else _WEEKDAYS[day]}


def _report_format(ctx: Context, node: Node, key: str) -> str:
    from monitor.models import REPORT_FORMATS

    return choice(ctx, node, key, REPORT_FORMATS, "a report format")


def _timezone(ctx: Context, node: Node, key: str) -> str:
    """An IANA zone name that zoneinfo knows (tzdata is a dependency, so this works on every platform)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    value = string(ctx, node, key)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        ctx.fail(node, key, f"{quote(value)} is not a time zone; use an IANA name such as Asia/Tehran or UTC")
    return value


_REPORT: dict[str, Field] = {
    "every": Field(_every),
    "format": Field(_report_format),
    "output": Field(config_path),
    "timezone": Field(_timezone),
}


def _report(ctx: Context, node: Node, key: str) -> Any:
    from monitor.models import ReportSettings

    values = mapping(ctx, node, key, _REPORT)
    values.update(values.pop("every", {}))
    values.setdefault("output", ctx.resolve(ReportSettings.output))
    return ReportSettings(**values)


# --------------------------------------------------------------------------- notify: (alert destinations)

_ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_QUIET = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*-\s*(\d{1,2}):(\d{2})(?::(\d{2}))?")


def _notify_url(ctx: Context, node: Node, key: str) -> tuple[str, str, tuple[str, ...]]:
    """(the real URL, the URL as shown, the secrets in it). `${NAME}` is read from the environment; an unset
    or empty one is an error here, not a failed send at 3 a.m. The shown form keeps `${NAME}` as written and
    masks a password written in the URL itself, so it can be printed anywhere."""
    template = string(ctx, node, key)
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in template):
        ctx.fail(node, key, "the URL contains spaces or control characters")
    if "://" not in template:
        ctx.fail(node, key, "is not an Apprise URL (service://...; e.g. tgram://, mailto://, json://, ntfy://)")
    secrets: list[str] = []

    def substitute(m: re.Match[str]) -> str:
        value = os.environ.get(m.group(1))
        if not value:
            ctx.fail(node, key, f"${{{m.group(1)}}} is not set in the environment "
                                f"({'empty' if value == '' else 'unset'}); export it before starting the monitor")
        secrets.append(value)
        return value

    url = _ENV_VAR.sub(substitute, template)
    parts = urlsplit(template)
    shown = template
    try:
        password = parts.password
    except ValueError:
        password = None
    if password and not _ENV_VAR.fullmatch(password):
        secrets.append(password)
        shown = shown.replace(f":{password}@", ":****@", 1)
    return url, shown, tuple(secrets)


def _notify_every(ctx: Context, node: Node, key: str) -> dict[str, Any]:
    """A digest's period: "hour" (hourly), or the grammar of report.every ("day at 08:00", "monday at 08:00")."""
    value = string(ctx, node, key)
    if " ".join(value.lower().split()) in ("hour", "hourly", "every hour"):
        return {"every": value, "hour": None, "minute": 0, "day_of_week": None}
    if not _EVERY.fullmatch(" ".join(value.split())):
        ctx.fail(node, key, f"{quote(value)} is not a period; write \"hour\", \"day at 08:00\" or "
                            "\"monday at 08:00\"")
    return _every(ctx, node, key)


def _quiet(ctx: Context, node: Node, key: str) -> tuple[int, int]:
    """"00:00-07:00" (Tehran time) as seconds after midnight; a range past midnight ("22:00-06:00") is fine.
    Seconds are optional ("12:00:30-12:01:15"): a test or a short hold can end inside a minute."""
    value = string(ctx, node, key)
    m = _QUIET.fullmatch(value.strip())
    if m:
        h1, m1, s1, h2, m2, s2 = (int(g or 0) for g in m.groups())
        start, end = (h1 * 3600 + m1 * 60 + s1), (h2 * 3600 + m2 * 60 + s2)
        if max(h1, h2) <= 24 and max(m1, m2, s1, s2) <= 59 and start != end:
            return start % 86400, end % 86400
    ctx.fail(node, key, f"{quote(value)} is not a quiet period; write \"HH:MM-HH:MM\" in Tehran time, "
                        "e.g. \"00:00-07:00\" (start and end differ)")


def _notify_mode(ctx: Context, node: Node, key: str) -> str:
    from monitor.models import NOTIFY_MODES

    return choice(ctx, node, key, NOTIFY_MODES, "a notify mode")


def _kinds(ctx: Context, node: Node, key: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(kind(ctx, item, item_key)
                               for item, item_key in sequence(ctx, node, key, allow_single=True)))


_NOTIFY: dict[str, Field] = {
    "name": Field(feed_name, required=True),  # used on the command line: `monitor notify test NAME`
    "url": Field(_notify_url, required=True),
    "watch": Field(strings(allow_empty=False)),
    "kind": Field(_kinds),
    "mode": Field(_notify_mode),
    "every": Field(_notify_every),
    "quiet": Field(_quiet),
}


def _notify_entry(ctx: Context, node: Node, key: str) -> Any:
    from monitor.models import NotifySpec

    values = mapping(ctx, node, key, _NOTIFY)
    values["url"], values["shown"], values["secrets"] = values.pop("url")
    values.update(values.pop("every", {}))
    return NotifySpec(**values)


def check_notify_watch(ctx: Context, root: Node, values: dict[str, Any]) -> None:
    """A destination's `watch:` names entries of the watch list: a typo would silently route nothing there."""
    names = {w.name for w in values.get("watch", ())}
    entries = values.get("notify", ())
    if not entries:
        return
    items = sequence(ctx, pairs(ctx, root, "")["notify"][1], "notify", allow_single=False)
    for spec, (item_node, item_key) in zip(entries, items):
        for i, name in enumerate(spec.watch):
            if name not in names:
                watch_node = pairs(ctx, item_node, item_key)["watch"][1]
                at = watch_node.value[i] if isinstance(watch_node, SequenceNode) else watch_node
                close = difflib.get_close_matches(name, sorted(names), n=1, cutoff=0.6)
                hint = f"; did you mean {quote(close[0])}?" if close else f" (entries: {', '.join(sorted(names)) or 'none'})"
                ctx.fail(at, f"{item_key}.watch", f"{quote(name)} is not a watch entry's name{hint}")

