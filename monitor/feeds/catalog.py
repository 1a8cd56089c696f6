"""The catalogue: Persian outlets known to publish feeds, their main and section feed addresses, and the
evidence for each (catalog.csv, package data).

Why evidence per address: feed URLs of Persian outlets move (Fars went from farsnews.com to farsnews.ir) and some
sit behind bot protection, so a user should see where an address was seen and when before relying on it. The
rows start from the team's persian_news_feed_urls.csv (compiled 2026-03-25 from public configs and a feed-list
validator) and its real snapshots; rows marked "added 2026-12-02" were found in several independent public
configs since. None was fetched from here (the monitor's tests reach nothing beyond loopback).

Search folds both sides with monitor.text.fold, so «تابناك» (Arabic kaf) finds «تابناک», and a half-space or
its absence does not matter.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from monitor.errors import FeedListError

__all__ = ["Entry", "entries", "search", "lookup"]


@dataclass(frozen=True)
class Entry:
    name: str  # the feed name it gets in config.yaml
    outlet: str
    outlet_fa: str
    section: str
    url: str
    format: str
    evidence: str


@lru_cache(maxsize=1)
def entries() -> tuple[Entry, ...]:
    text = resources.files("monitor.feeds").joinpath("catalog.csv").read_text(encoding="utf-8")
    return tuple(Entry(row["name"], row["outlet"], row["outlet_fa"], row["section"], row["feed_url"],
                       row["format"], row["evidence"]) for row in csv.DictReader(io.StringIO(text)))


def search(word: str | None) -> list[Entry]:
    """The entries whose name, outlet (English or Persian), section or address contain `word` (folded)."""
    if not word or not word.strip():
        return list(entries())
    from monitor.text import fold

    wanted = [fold(w) for w in word.split() if fold(w)]
    if not wanted:
        return []
    return [e for e in entries()
            if all(w in fold(" ".join((e.name, e.outlet, e.outlet_fa, e.section, e.url))) for w in wanted)]


def lookup(name: str) -> Entry:
    """The entry called `name` (case-insensitive). FeedListError, with the closest names, when there is none."""
    for entry in entries():
        if entry.name.casefold() == name.casefold():
            return entry
    import difflib

    names = [e.name for e in entries()]
    close = difflib.get_close_matches(name.lower(), names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else "; `monitor feeds catalog` lists them"
    raise FeedListError(f"no catalogue entry named {name!r}{hint}")
