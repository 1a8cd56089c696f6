"""Feed bytes to RawItems: feedparser, or monitor.fastparse for plain feeds. No network, no text folding, no database.

feedparser is given the bytes and the HTTP Content-Type so it can pick the charset the way the server meant
(windows-1256 declared only in the header included). A feed that is broken part-way keeps the items parsed
before the break (feedparser's bozo flag); bytes that yield no feed at all are a ParseError.
"""

from __future__ import annotations

import calendar
import codecs
import os
import re
from datetime import datetime, timezone
from typing import Any

import feedparser

from monitor.dates import parse_feed_date
from monitor.errors import ParseError
from monitor.fastparse import clean_link, parse_simple
from monitor.models import RawItem

__all__ = ["parse_feed", "parse_with_feedparser", "settle_encoding"]


def parse_feed(body: bytes, *, content_type: str | None = None, url: str | None = None) -> list[RawItem]:
    """Parse a feed body. Raises ParseError when the bytes are not a feed.

    Plain well-formed RSS 2.0 / Atom 1.0 takes monitor.fastparse (same items, a fraction of the time); the
    rest, and everything when MONITOR_FAST_PARSE=0, takes feedparser.
    """
    fast = os.environ.get("MONITOR_FAST_PARSE", "1") != "0"
    tried = fast and body[1:2] != b"\x00"
    if tried:
        # Before settle_encoding, which spends a full decode only to learn the bytes are valid UTF-8. A body
        # the fast path accepts is one settle_encoding leaves as it is: declared cp1256, or read by expat as
        # UTF-8 (byte 2 not NUL rules out expat's UTF-16 and UTF-32 guesses), and expat rejects every byte
        # sequence Python's strict UTF-8 decoder rejects (tests/test_parse.py).
        items = parse_simple(body, content_type, url)
        if items is not None:
            return items
    settled, content_type = settle_encoding(body, content_type)
    if fast and (settled is not body or not tried):
        items = parse_simple(settled, content_type, url)
        if items is not None:
            return items
    return parse_with_feedparser(settled, content_type, url)


def parse_with_feedparser(body: bytes, content_type: str | None, url: str | None) -> list[RawItem]:
    """feedparser's reading of bytes that settle_encoding has already seen: the reference the fast path is
    held to (tests/test_fastparse.py), and the parser of every feed the fast path refuses."""
    headers = {"content-type": content_type} if content_type else {}
    if url:
        headers["content-location"] = url
    parsed = feedparser.parse(body, response_headers=headers)
    entries = parsed.get("entries") or []
    if not entries and parsed.get("version") and not parsed.get("bozo"):
        return []  # a well-formed feed with no items yet (`<rss><channel/></rss>`): nothing to store, no error
    if not entries and not parsed.get("feed"):
        raise ParseError(_not_a_feed(body, parsed))
    if not entries and parsed.get("bozo") and not parsed.get("version"):
        raise ParseError(_not_a_feed(body, parsed))
    return [_raw_item(entry) for entry in entries]


_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_XML_ENCODING = re.compile(rb"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])([A-Za-z0-9._:\-]+)(["'])""")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.I)
_UTF8_NAMES = {"utf-8", "utf8"}


def settle_encoding(body: bytes, content_type: str | None) -> tuple[bytes, str | None]:
    """Decode the bytes ourselves when feedparser would guess wrong; otherwise leave them alone.

    Only feeds that declare nothing, or declare UTF-8, and are *not* valid UTF-8 are touched. feedparser would
    read an undeclared windows-1256 feed as a Latin charset (mojibake), and one bad byte in a UTF-8 feed makes
    it re-read the whole feed as windows-1252. Here: bytes that are mostly invalid UTF-8 and read as Arabic
    script in windows-1256 are windows-1256 (the legacy charset of Persian sites); a few bad bytes in otherwise
    good UTF-8 become U+FFFD and the rest of the text survives. The result goes back to feedparser as UTF-8.
    """
    if body.startswith(_BOMS):
        return body, content_type
    header = _CHARSET.search(content_type or "")
    decl = _XML_ENCODING.match(body[:200])
    declared = (header.group(1) if header else decl.group(2).decode("ascii") if decl else "").lower()
    if declared and declared not in _UTF8_NAMES:
        return body, content_type
    try:
        body.decode("utf-8")
        return body, content_type
    except UnicodeDecodeError:
        pass
    as_utf8 = body.decode("utf-8", "replace")
    high = sum(1 for b in body if b >= 0x80)
    bad = as_utf8.count("\ufffd")
    if bad * 3 >= high:  # mostly not UTF-8: a single-byte legacy charset
        as_1256 = body.decode("cp1256", "replace")
        non_ascii = [c for c in as_1256 if ord(c) >= 0x80]
        arabic = sum(1 for c in non_ascii if "\u0600" <= c <= "\u06ff")
        if not non_ascii or arabic * 2 < len(non_ascii):
            return body, content_type  # a Latin legacy charset: feedparser's own guess is right for those
        text = as_1256
    else:
        text = as_utf8
    data = text.encode("utf-8")
    if decl:
        data = _XML_ENCODING.sub(rb"\1utf-8\3", data, count=1)
    media = (content_type or "application/xml").split(";", 1)[0].strip() or "application/xml"
    return data, f"{media}; charset=utf-8"


def _not_a_feed(body: bytes, parsed: Any) -> str:
    head = body[:512].lstrip().lower()
    if head.startswith(b"<!doctype html") or b"<html" in head:
        return "the server sent an HTML page, not a feed"
    if not body.strip():
        return "the server sent an empty body"
    reason = parsed.get("bozo_exception")
    return f"not a feed: {reason}" if reason else "not a feed (no RSS, Atom or RDF document and no items in it)"


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
        guid=clean_link(entry.get("id")),
        link=clean_link(entry.get("link")),
        title=title,
        summary=summary,
        content=content,
        published=parse_feed_date(raw_date, fallback),
        author=clean_link(entry.get("author")),
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _struct_to_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc)
    except (OverflowError, ValueError, TypeError):
        return None
