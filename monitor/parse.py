"""Feed bytes to RawItems: feedparser, or monitor.fastparse for plain feeds. No network, no text folding, no database.

feedparser is given the bytes and the HTTP Content-Type so it can pick the charset the way the server meant
(windows-1256 declared only in the header included). A feed that is broken part-way keeps the items parsed
before the break (feedparser's bozo flag); bytes that yield no feed at all are a ParseError.
"""

from __future__ import annotations

import calendar
import codecs
import heapq
import os
import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Iterator

import feedparser

from monitor.dates import parse_date, parse_feed_date
from monitor.errors import ParseError
from monitor.fastparse import clean_link, parse_simple
from monitor.models import RawItem

__all__ = ["feed_head", "parse_capped", "parse_feed", "parse_with_feedparser", "settle_encoding", "newest"]


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
    try:
        parsed = feedparser.parse(safe_char_refs(body), response_headers=headers)
    except (ValueError, UnicodeError, LookupError, OverflowError) as exc:  # hostile bytes feedparser trips on
        raise ParseError(f"not a feed feedparser can read: {type(exc).__name__}: {str(exc)[:200]}") from None
    entries = parsed.get("entries") or []
    if not entries and parsed.get("version") and not parsed.get("bozo"):
        return []  # a well-formed feed with no items yet (`<rss><channel/></rss>`): nothing to store, no error
    if not entries and not parsed.get("feed"):
        raise ParseError(_not_a_feed(body, parsed))
    if not entries and parsed.get("bozo") and not parsed.get("version"):
        raise ParseError(_not_a_feed(body, parsed))
    return [_raw_item(entry) for entry in entries]


def feed_head(body: bytes, *, content_type: str | None = None, url: str | None = None) -> tuple[str, str] | None:
    """(format, title) of a feed as feedparser reads it ("rss20", "آخرین اخبار"), or None when the bytes are
    no RSS, Atom or RDF document (an HTML page): how `monitor feeds add` proves an address is a feed."""
    settled, content_type = settle_encoding(body, content_type)
    headers = {"content-type": content_type} if content_type else {}
    if url:
        headers["content-location"] = url
    try:
        parsed = feedparser.parse(safe_char_refs(settled), response_headers=headers)
    except (ValueError, UnicodeError, LookupError, OverflowError):
        return None
    version = parsed.get("version") or ""
    if not version:
        return None
    return version, _text((parsed.get("feed") or {}).get("title")).strip()


_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_XML_ENCODING = re.compile(rb"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])([A-Za-z0-9._:\-]+)(["'])""")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.I)
_UTF8_NAMES = {"utf-8", "utf8"}


# ------------------------------------------------------------------------------------- the per-poll item cap
_ITEM_TAG = re.compile(rb"<(/?)(item|entry)(?=[\s>/])[^>]*?(/?)>")
_ITEM_DATE = re.compile(rb"<(?:pubDate|published|updated|dc:date)(?:\s[^>]*)?>\s*([^<]{1,100}?)\s*</")


def parse_capped(body: bytes, *, content_type: str | None = None, url: str | None = None,
                 max_items: int | None = None) -> tuple[list[RawItem], int]:
    """parse_feed, with at most `max_items` items, the newest (newest()); and how many the feed had.

    A body with more items than that is cut down to the kept ones before it is parsed, so a feed of 450,000
    tiny items under the body cap costs the parse of max_items, not 450,000 RawItems: the items are found by
    their tags in the bytes (ASCII-compatible charsets; what is between them stays as it was), ranked by their
    date element, and only the kept ones go to the parser. The parsed items are capped again, by the same
    rule, for a feed whose items that scan did not see (a UTF-16 body, prefixed tags).
    """
    total = None
    if max_items is not None and body.count(b"<item") + body.count(b"<entry") > max_items:
        body, total = _keep_newest_spans(body, max_items)
    items = parse_feed(body, content_type=content_type, url=url)
    total = max(total or 0, len(items))
    if max_items is not None and len(items) > max_items:
        items = newest(items, max_items)
    return items, total


def newest(items: list[RawItem], limit: int) -> list[RawItem]:
    """The `limit` newest items in feed order: by published date, the undated after the dated, and among equal
    dates (or none) the earlier in the feed first, as feeds list their newest first."""
    kept = heapq.nlargest(limit, range(len(items)), key=lambda i: _rank(items[i].published, i))
    return [items[i] for i in sorted(kept)]


def _rank(published: datetime | None, position: int) -> tuple[int, float, int]:
    return (1, published.timestamp(), -position) if published is not None else (0, 0.0, -position)


def _item_spans(body: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each top-level item or entry element, found by its tags in one linear pass."""
    start = None
    for tag in _ITEM_TAG.finditer(body):
        closing, _, self_closing = tag.groups()
        if closing:
            if start is not None:
                yield start, tag.end()
                start = None
        elif start is None:
            if self_closing:
                yield tag.start(), tag.end()
            else:
                start = tag.start()


@lru_cache(maxsize=4096)  # feeds repeat their dates (one per minute, one per day)
def _span_date(raw: bytes) -> datetime | None:
    try:
        return parse_date(raw.decode("utf-8", "replace"))
    except (ValueError, OverflowError):
        return None


def _keep_newest_spans(body: bytes, limit: int) -> tuple[bytes, int]:
    """The body with only its `limit` newest item elements left in it, and how many it had. Bounded memory: a
    heap of `limit` (rank, start, end), never a list of every item."""
    count, first, last = 0, 0, 0

    def ranked() -> Iterator[tuple[tuple[int, float, int], int, int]]:
        nonlocal count, first, last
        search = _ITEM_DATE.search
        for start, end in _item_spans(body):
            if not count:
                first = start
            last = end
            found = search(body, start, end)
            yield _rank(_span_date(found.group(1)) if found else None, count), start, end
            count += 1

    kept = sorted((start, end) for _, start, end in heapq.nlargest(limit, ranked()))
    if count <= limit:
        return body, count
    parts = [body[:first]]
    parts.extend(body[start:end] + b"\n" for start, end in kept)
    parts.append(body[last:])
    return b"".join(parts), count


# ---------------------------------------------------------------------------------------- bytes to decode
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));")
_CHAR_REF_TEXT = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));")


def _ref_ok(hexa: Any, dec: Any) -> bool:
    value = int(hexa, 16) if hexa else int(dec)
    return value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF


def safe_char_refs(body: bytes) -> bytes:
    """The body with every character reference no character has (a surrogate `&#xD800;`, past U+10FFFF) as
    `&#xFFFD;`: feedparser turns references into characters and then fails the whole feed on those."""
    if body.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        codec = "utf-32" if body.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) else "utf-16"
        try:
            text = body.decode(codec)
        except UnicodeDecodeError:
            return body
        if "&#" not in text:
            return body
        fixed = _CHAR_REF_TEXT.sub(lambda m: m.group(0) if _ref_ok(*m.groups()) else "&#xFFFD;", text)
        return body if fixed == text else fixed.encode(codec)
    if b"&#" not in body:
        return body
    return _CHAR_REF.sub(lambda m: m.group(0) if _ref_ok(*m.groups()) else b"&#xFFFD;", body)


def _usable(name: str) -> bool:
    """Whether Python decodes bytes with this charset name: not "undefined" (a codec that always fails), not
    base64 or rot13 (not text encodings), not a name it does not know."""
    try:
        b"<".decode(name)
    except (LookupError, UnicodeError, ValueError):
        return False
    return True


def _drop_unusable_charsets(body: bytes, content_type: str | None) -> tuple[bytes, str | None]:
    """A charset in the HTTP header or the XML declaration that Python cannot decode with is left out, so the
    feed is read as one that declares nothing (UTF-8, or detected windows-1256) rather than failed."""
    header = _CHARSET.search(content_type or "")
    if header and not _usable(header.group(1)):
        content_type = (content_type[:header.start()] + content_type[header.end():]).strip().rstrip(";").strip()
        content_type = re.sub(r";\s*;", ";", content_type) or None
    decl = _XML_ENCODING.match(body[:200])
    if decl and not _usable(decl.group(2).decode("ascii")):
        prefix = decl.group(1)
        attribute = _ENCODING_ATTRIBUTE.search(prefix)
        body = prefix[:attribute.start()] + body[decl.end():]
    return body, content_type


_ENCODING_ATTRIBUTE = re.compile(rb"""\s+encoding\s*=\s*["']$""")


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
    body, content_type = _drop_unusable_charsets(body, content_type)
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
