"""Feed bytes to RawItems with feedparser. No network, no text folding, no database.

feedparser is given the bytes and the HTTP Content-Type so it can pick the charset the way the server meant
(windows-1256 declared only in the header included). A feed that is broken part-way keeps the items parsed
before the break (feedparser's bozo flag); bytes that yield no feed at all are a ParseError.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timezone
from typing import Any

import feedparser

from monitor.dates import parse_feed_date
from monitor.errors import ParseError
from monitor.models import RawItem


def parse_feed(body: bytes, *, content_type: str | None = None, url: str | None = None) -> list[RawItem]:
    """Parse a feed body. Raises ParseError when the bytes are not a feed."""
    headers = {"content-type": content_type} if content_type else {}
    if url:
        headers["content-location"] = url
    parsed = feedparser.parse(body, response_headers=headers)
    entries = parsed.get("entries") or []
    if not entries and not parsed.get("feed"):
        raise ParseError(_not_a_feed(body, parsed))
    if not entries and parsed.get("bozo") and not parsed.get("version"):
        raise ParseError(_not_a_feed(body, parsed))
    return [_raw_item(entry) for entry in entries]


def _not_a_feed(body: bytes, parsed: Any) -> str:
    head = body[:512].lstrip().lower()
    if head.startswith(b"<!doctype html") or b"<html" in head:
        return "the server sent an HTML page, not a feed"
    if not body.strip():
        return "the server sent an empty body"
    reason = parsed.get("bozo_exception")
    return f"not a feed: {reason}" if reason else "not a feed"


def _raw_item(entry: Any) -> RawItem:
    title = _text(entry.get("title"))
    summary = _text(entry.get("summary"))
    contents = [_text(c.get("value")) for c in entry.get("content") or []]
    content = max(contents, key=len) if contents else ""
    if summary and content and summary.strip() == content.strip():
        summary = ""  # feedparser copies a lone description into content for some formats
    raw_date = entry.get("published") or entry.get("updated") or entry.get("created")
    fallback = _struct_to_datetime(entry.get("published_parsed") or entry.get("updated_parsed"))
    return RawItem(
        guid=_clean(entry.get("id")),
        link=_clean(entry.get("link")),
        title=title,
        summary=summary,
        content=content,
        published=parse_feed_date(raw_date, fallback),
        author=_clean(entry.get("author")),
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _clean(value: Any) -> str | None:
    """Links in real feeds carry embedded newlines and spaces (Tabnak): drop all whitespace inside."""
    if not isinstance(value, str):
        return None
    value = "".join(value.split())
    return value or None


def _struct_to_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc)
    except (OverflowError, ValueError, TypeError):
        return None
