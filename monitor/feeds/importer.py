"""What an OPML import adds and what it skips, decided before anything is written.

A feed already in config.yaml (compared by canonical link: http/https, `www.`, a trailing slash, tracking
parameters and percent-encoding folded, as dedup compares article links) is skipped with the name it has there;
so is a feed listed twice in the file (Feedly and Inoreader list a feed once per folder it is in: the first
folder wins). The rest get unique names (monitor.feeds.names) and the folder as their group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from monitor.feeds.edit import NewFeed
from monitor.feeds.names import NameBook
from monitor.feeds.opml import OpmlFeed
from monitor.models import FULL_TEXT, FeedSpec

__all__ = ["Plan", "plan_import", "canonical"]


@dataclass(frozen=True)
class Plan:
    add: list[tuple[OpmlFeed, NewFeed]]
    skip: list[tuple[OpmlFeed, str]]  # (outline, why)


def canonical(url: str) -> str:
    from monitor.dedup import canonical_link

    return canonical_link(url) or url


def plan_import(outlines: Sequence[OpmlFeed], existing: Sequence[FeedSpec], source: str,
                group: str | None = None) -> Plan:
    """`group` (from --group) replaces the folders of the file as every added feed's group."""
    known = {canonical(f.url): f.name for f in existing}
    book = NameBook(f.name for f in existing)
    add: list[tuple[OpmlFeed, NewFeed]] = []
    skip: list[tuple[OpmlFeed, str]] = []
    for outline in outlines:
        key = canonical(outline.url)
        if key in known:
            skip.append((outline, f"already in config.yaml as {known[key]}"))
            continue
        name = book.name_for(outline.url, outline.title, outline.name)
        known[key] = name
        comment = outline.title or None
        add.append((outline, NewFeed(
            name=name, url=outline.url, group=group or outline.group, interval=_interval(outline.interval),
            full_text=outline.full_text if outline.full_text in FULL_TEXT else None,
            comment=f"{comment} ({source} line {outline.line})" if comment else f"{source} line {outline.line}")))
    return Plan(add, skip)


def _interval(value: str | None) -> str | None:
    """A monitor export's interval, when config.yaml would take it; anything else is left to the default."""
    if not value:
        return None
    from monitor.units import parse_duration

    if value.strip().lower() == "auto":
        return "auto"
    from monitor.errors import ConfigError

    try:
        return value if parse_duration(value, key="interval") > 0 else None
    except ConfigError:  # a foreign or broken value: the schedule's default interval instead
        return None
