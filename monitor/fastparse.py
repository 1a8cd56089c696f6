"""A fast parse path for plain, well-formed RSS 2.0 and Atom 1.0 feeds; feedparser stays for everything else.

Why: feedparser is a large share of a cold poll's time (bench/parse.py measures it). Most of that goes to
its pure-Python SAX handlers and to two sgmllib passes over every HTML field (relative-URI resolution and the
sanitizer), whose output the pipeline then turns into plain text anyway (monitor.text.html_to_text). Here the
C expat parser behind xml.etree builds the tree, and only the fields the pipeline uses are read.

The contract: for every body this path accepts, what the pipeline stores (item_key and prepare of each item) is
identical to what the feedparser path stores; tests/test_fastparse.py checks it over the fixtures, the real
Persian snapshots, feedparser's own test corpus, a generated farm and targeted cases. To keep it that way the
path reproduces feedparser's choices where they matter (guid as link, relative-URI resolution as feedparser
resolves, the Latin-1 and cp1252 repairs, which of description / content:encoded / summary / content is
kept) and refuses everything it has not verified. `parse_simple` returns None, meaning "use feedparser", for:

- any `<!` other than a comment or CDATA: a DOCTYPE or ENTITY never reaches the parser, so no entity is ever
  defined, expanded or fetched (the XML external entity and the entity bomb of tests/faults go to feedparser,
  which leaves them unexpanded); expat reads only the bytes given, never a file or the network;
- a byte-order mark, a charset other than UTF-8 (windows-1256 declared in the prolog is read when the HTTP
  header agrees or says nothing), a Content-Type that is not an XML or feed type, bytes that are not
  well-formed XML, `xml:base` anywhere;
- a root other than `<rss version="2.0">` with one `<channel>`, or `<feed>` in the Atom 1.0 namespace; items or
  entries anywhere but there; an element in an item or entry that is not on the verified list below, or one of
  the used fields twice; attributes on an item (CDF's lastmod/href change feedparser's result);
- a field with child elements (inline XHTML, Atom type="xhtml"), Atom content with src= or a non-text type;
- HTML in a title, description or content with anything feedparser's sanitizer would change in the text: a
  tag outside its acceptable list (script, style, iframe...), a `<` that is not a plain tag, a `<!` or `<?`,
  an entity reference that is not a known HTML entity with its `;`, an end tag of a void element;
- a date string monitor.dates cannot read (feedparser's own date parser would be the fallback there), an Atom
  author with an email, a link with `&name;` in it, C1 control characters.
"""

from __future__ import annotations

import functools
import operator
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from html.entities import name2codepoint
from typing import Callable, Iterable
from urllib.parse import urljoin as _stdlib_urljoin
from urllib.parse import urlparse

from monitor.dates import believable, parse_date
from monitor.models import RawItem

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"
MEDIA = "{http://search.yahoo.com/mrss/}"
XML_NS = "{http://www.w3.org/XML/1998/namespace}"

# RSS item children feedparser reads into one of our fields, and those it keeps elsewhere (tags, comments,
# enclosure links, media lists) without touching ours. Anything else in an item sends the feed to feedparser:
# an element in an unknown namespace may carry a prefix feedparser maps to a handler (`content:encoded`,
# `media:title`...), and Atom elements inside an RSS item set the item's link.
_RSS_FIELDS = {"title": "title", "link": "link", "description": "summary", "guid": "id", "pubDate": "published",
               "author": "author", f"{CONTENT}encoded": "content", f"{DC}creator": "author",
               f"{DC}date": "updated"}
_RSS_IGNORED = frozenset({"category", "comments", "enclosure", f"{DC}subject",
                          f"{MEDIA}content", f"{MEDIA}thumbnail",
                          "{http://purl.org/rss/1.0/modules/slash/}comments",
                          "{http://wellformedweb.org/CommentAPI/}commentRss"})
_ATOM_FIELDS = {f"{ATOM}id": "id", f"{ATOM}title": "title", f"{ATOM}summary": "summary",
                f"{ATOM}content": "content", f"{ATOM}published": "published", f"{ATOM}updated": "updated"}
_ATOM_IGNORED = frozenset({f"{ATOM}category"})
_MEDIA_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/xml", "text/xml",
                          "application/rdf+xml"})
_UTF8 = frozenset({"utf-8", "utf8"})
_CP1256 = frozenset({"windows-1256", "cp1256"})

_DECL = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:\-]+)["']""")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.I)
_MARKUP_DECL = re.compile(rb"<!(?!\[CDATA\[|--)")  # DOCTYPE, ENTITY, ATTLIST... in any case

# HTML in a field: what the sanitizer passes through without changing the text html_to_text gets from it.
# One group, "/name" or "name": findall gives one short string a tag, which _TAGS_OK answers for all at once.
_TAG = re.compile(r"""<(/?[a-zA-Z][a-zA-Z0-9]*)(?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*"""
                  r"""(?:\s*=\s*(?:"[^"<>]*"|'[^'<>]*'|[^\s"'<>=`]+))?)*\s*/?>""")
_REF = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z][a-zA-Z0-9]*));")
_LONE_AMP = re.compile(r"&(?=\s)")
_VOID = frozenset("area base basefont br col embed frame hr img input isindex keygen link meta param source "
                  "track wbr".split())
_LINK_REF = re.compile(r"&([A-Za-z0-9_]+);")
_C1 = re.compile("[\x80-\x9f]")
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


class _Refuse(Exception):
    """This feed is not one the fast path has verified: parse it with feedparser."""


def parse_simple(body: bytes, content_type: str | None, url: str | None) -> list[RawItem] | None:
    """RawItems of a plain RSS 2.0 or Atom 1.0 feed, exactly as the feedparser path would give them for
    storing; None when the body is anything else (see the module docstring) and feedparser must parse it."""
    encoding = _encoding(body, content_type)
    if encoding is None or _MARKUP_DECL.search(body) or b"xml:base" in body:
        return None
    try:
        if encoding == "cp1256":
            text = body.decode("cp1256")
            if _C1.search(text):
                return None
            parser = ET.XMLParser()
            parser.feed(_DECL.sub(b'<?xml version="1.0" encoding="utf-8"', text.encode("utf-8"), count=1)
                        if _DECL.match(body) else text.encode("utf-8"))
            root = parser.close()
        else:
            root = ET.fromstring(body)
    except (ET.ParseError, ValueError, UnicodeDecodeError):
        return None
    try:
        if root.tag == "rss":
            return _rss(root, url or "", _fixer(body, encoding))
        if root.tag == f"{ATOM}feed":
            return _atom(root, url or "", _fixer(body, encoding))
    except _Refuse:
        return None
    return None


def _encoding(body: bytes, content_type: str | None) -> str | None:
    """"utf-8" or "cp1256" when feedparser would read the bytes in that charset for certain, else None."""
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or body[:3] == b"\xef\xbb\xbf" or body[:1] != b"<":
        return None  # byte-order marks, and leading whitespace, are feedparser's to judge
    header = None
    if content_type:
        media = content_type.split(";", 1)[0].strip().lower()
        if media not in _MEDIA_TYPES:
            return None
        found = _CHARSET.search(content_type)
        header = found.group(1).lower() if found else None
    decl = _DECL.match(body[:200])
    declared = decl.group(1).decode("ascii").lower() if decl else None
    if (header is None or header in _UTF8) and (declared is None or declared in _UTF8):
        return "utf-8"
    if declared in _CP1256 and header is None and not (content_type or "").lower().startswith("text/"):
        return "cp1256"  # text/* without a charset is us-ascii to feedparser (RFC 3023): not ours to guess
    return None


# ---------------------------------------------------------------------------------------------- RSS 2.0
def _rss(root: ET.Element, base: str, fix: Callable[[str], str]) -> list[RawItem]:
    if root.get("version") != "2.0" or len(root) != 1 or root[0].tag != "channel":
        raise _Refuse
    channel = root[0]
    items = [child for child in channel if child.tag == "item"]
    if _items_anywhere(root) != len(items):
        raise _Refuse  # items outside the channel, or Atom entries / RSS 1.0 items mixed in
    return [_rss_item(item, base, fix) for item in items]


def _rss_item(item: ET.Element, base: str, fix: Callable[[str], str]) -> RawItem:
    if item.attrib:
        raise _Refuse
    fields: dict[str, str] = {}
    link: str | None = None
    guid_is_link = False
    for child in item:
        tag = child.tag
        name = _RSS_FIELDS.get(tag)
        if name is None:
            if tag in _RSS_IGNORED and not len(child):
                continue
            raise _Refuse
        if name in fields or len(child):
            raise _Refuse
        value = (child.text or "").strip()
        if name == "link":
            value = fix(_join(base, value) if value else value)
            if _LINK_REF.search(value) or "&amp;" in value:
                raise _Refuse
            link = value
        elif name == "id":
            attrs = {k.lower(): v for k, v in child.attrib.items()}
            guid_is_link = attrs.get("ispermalink", "true") == "true"
            value = fix(_join(base, value) if guid_is_link and value else value)
            if guid_is_link and link is None:
                link = value  # feedparser: a permalink guid is the link when no <link> came before it
        fields[name] = value if name in ("link", "id") else fix(value)
    return _item(fields, link)


# --------------------------------------------------------------------------------------------- Atom 1.0
def _atom(root: ET.Element, base: str, fix: Callable[[str], str]) -> list[RawItem]:
    entries = [child for child in root if child.tag == f"{ATOM}entry"]
    if _items_anywhere(root) != len(entries):
        raise _Refuse
    return [_atom_entry(entry, base, fix) for entry in entries]


def _atom_entry(entry: ET.Element, base: str, fix: Callable[[str], str]) -> RawItem:
    if any(k != f"{XML_NS}lang" for k in entry.attrib):
        raise _Refuse
    fields: dict[str, str] = {}
    link: str | None = None
    alternate: str | None = None
    for child in entry:
        tag = child.tag
        if tag == f"{ATOM}link":
            attrs = {k.lower(): v for k, v in child.attrib.items()}
            if "href" not in attrs or len(child) or (child.text or "").strip():
                raise _Refuse
            rel = attrs.get("rel", "alternate").lower()
            kind = attrs.get("type", "application/atom+xml" if rel == "self" else "text/html").lower()
            if rel == "alternate" and _map_type(kind) in _HTML_TYPES:
                alternate = _join(base, attrs["href"])  # the last alternate HTML link wins
            continue
        if tag == f"{ATOM}author":
            if "author" in fields or child.attrib or (child.text or "").strip():
                raise _Refuse
            for part in child:
                if part.tag == f"{ATOM}name" and not len(part) and "author" not in fields:
                    fields["author"] = fix((part.text or "").strip())
                elif part.tag != f"{ATOM}uri" or len(part):
                    raise _Refuse
            fields.setdefault("author", "")
            continue
        name = _ATOM_FIELDS.get(tag)
        if name is None:
            if tag in _ATOM_IGNORED and not len(child):
                continue
            raise _Refuse
        if name in fields or len(child):
            raise _Refuse
        if name in ("title", "summary", "content"):
            attrs = {k.lower(): v for k, v in child.attrib.items() if k != f"{XML_NS}lang"}
            if set(attrs) - {"type"} or attrs.get("type", "text").lower() not in ("text", "html", "text/plain",
                                                                                  "text/html"):
                raise _Refuse
        value = (child.text or "").strip()
        if name == "id":
            value = fix(_join(base, value) if value else value)
            if link is None and alternate is None:
                link = value  # as RSS's permalink guid: feedparser saves an entry's id as its link
        fields[name] = value if name == "id" else fix(value)
    return _item(fields, alternate if alternate is not None else link)


# ------------------------------------------------------------------------------------------------ common
_TAG_OF = operator.attrgetter("tag")


def _items_anywhere(root: ET.Element) -> int:
    """How many elements in the tree are an RSS item (no namespace, or any: RSS 1.0's) or an Atom entry.

    Counted in C rather than a Python test per element: the tags joined by two NULs, which no tag holds (XML
    allows U+0000 nowhere, not even as a reference), so each count finds whole tags, and a doubled separator
    lets two neighbouring "item" tags both be found."""
    tags = "\0\0" + "\0\0".join(map(_TAG_OF, root.iter())) + "\0\0"
    return tags.count("\0item\0") + tags.count(f"\0{ATOM}entry\0") + tags.count("}item\0")


def _item(fields: dict[str, str], link: str | None) -> RawItem:
    title = fields.get("title", "")
    summary = fields.get("summary", "")
    content = fields.get("content", "")
    for text in (title, summary, content):
        _check_html(text)
    if summary and content and summary.strip() != content.strip():
        from monitor.text import html_to_text

        if html_to_text(summary) == html_to_text(content):
            raise _Refuse  # feedparser compares its sanitized copies, which may be equal where these are not
    if summary and content and summary.strip() == content.strip():
        summary = ""
    author = fields.get("author")  # kept as written, address and all, as feedparser keeps an RSS author
    return RawItem(guid=clean_link(fields.get("id")), link=clean_link(link), title=title, summary=summary,
                   content=content, published=_date(fields), author=clean_link(author))


def _date(fields: dict[str, str]) -> datetime | None:
    raw = fields.get("published") or fields.get("updated") or fields.get("created")
    if not raw or not raw.strip():
        return None
    value = parse_date(raw)
    if value is None:
        raise _Refuse  # feedparser's own reading of the date would be the fallback
    return believable(value.astimezone(timezone.utc))


def _check_html(text: str) -> None:
    """Refuse markup the sanitizer would change the text of (see the module docstring).

    Neither pattern can hold a second `<` or `&`, so equal counts mean every `<` opens a plain tag and every
    `&` opens a known reference (or stands alone before whitespace)."""
    if "<" in text:
        tags = _TAG.findall(text)
        if len(tags) != text.count("<"):
            raise _Refuse
        if not _TAGS_OK.issuperset(tags):
            for tag in tags:
                _check_tag(tag)
    if "&" in text:
        refs = _REF.findall(text)
        if len(refs) + len(_LONE_AMP.findall(text)) != text.count("&"):
            raise _Refuse
        for dec, hexa, name in refs:
            if name:
                if name not in name2codepoint and name != "apos":
                    raise _Refuse
                continue
            value = int(dec) if dec else int(hexa, 16)
            if value < 32 and value not in (9, 10, 13) or 0x7F <= value <= 0x9F or 0xD800 <= value <= 0xDFFF \
                    or value > 0x10FFFF:
                raise _Refuse


# Tags ("p", "/P", "/a"...) _check_tag has passed, so a field's usual tags cost one set lookup each. Bounded:
# names and their spellings in case are few, but the set stops growing at the cap whatever feeds send.
_TAGS_OK: set[str] = set()
_TAGS_OK_MAX = 4096


def _check_tag(tag: str) -> None:
    """Refuse a tag the sanitizer drops or rewrites: an element outside its list, an end tag of a void one."""
    closing = tag.startswith("/")
    name = (tag[1:] if closing else tag).lower()
    if name not in _ACCEPTABLE or (closing and name in _VOID):
        raise _Refuse
    if len(_TAGS_OK) < _TAGS_OK_MAX:
        _TAGS_OK.add(tag)


# The elements feedparser's sanitizer keeps (its acceptable_elements, feedparser 6.0; tests/test_fastparse.py
# compares this copy with the installed feedparser's), minus noscript, math and svg, which html_to_text and the
# sanitizer treat apart.
_ACCEPTABLE = frozenset("""
    a abbr acronym address area article aside audio b big blockquote br button canvas caption center cite code
    col colgroup command datagrid datalist dd del details dfn dialog dir div dl dt em event-source fieldset
    figcaption figure font footer form h1 h2 h3 h4 h5 h6 header hr i img input ins kbd keygen label legend li m
    map menu meter multicol nav nextid ol optgroup option output p pre progress q s samp section select small
    sound source spacer span strike strong sub sup table tbody td textarea tfoot th thead time tr tt u ul var
    video""".split())


def _fixer(body: bytes, encoding: str) -> Callable[[str], str]:
    """_fix for the texts of this body, or nothing at all when the bytes prove _fix changes no text of it.

    Expat reads a body without NUL bytes (which UTF-16 and UTF-32 have) as UTF-8, here utf-8 or cp1256 turned
    into it, and without a DTD a text holds only characters of the bytes, the five predefined entities (ASCII)
    and character references (`&#`). With no `&#`, U+0080-U+00FF, the only characters the Latin-1 repair and
    the C1 check look at, come only from UTF-8's C2 and C3 lead bytes; a cp1256 body had its C1 characters
    refused already and is not repaired. Checking the body once saves both on every text.
    """
    if b"&#" not in body and b"\x00" not in body and (
            encoding == "cp1256" or (b"\xc2" not in body and b"\xc3" not in body)):
        return _unchanged
    return functools.partial(_fix, utf8=encoding == "utf-8")


def _unchanged(value: str) -> str:
    return value


def _fix(value: str, utf8: bool) -> str:
    """feedparser's last repairs on every text: UTF-8 read as Latin-1 undone, then C1 controls as cp1252."""
    if utf8 and value and not value.isascii():
        try:
            value = value.encode("iso-8859-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    if _C1.search(value):
        raise _Refuse
    return value


# Two shapes of reference whose join with any base that parses is known without urllib:
# an absolute http(s) URL that urlparse splits and urlunparse puts back unchanged (lower-case scheme, plain
# ASCII host and port, no ';' in the path, no empty '?' or '#', no spaces or controls), which urljoin returns
# as it is whether or not its scheme is the base's; and one relative path segment (no ':', '/', '?', '#', ';',
# not '.' or '..'), which urljoin appends to the base's directory, so its join is the join of any other such
# segment with that segment swapped in. tests/test_fastparse.py compares both with urljoin.
_ABSOLUTE = re.compile(r"https?://[A-Za-z0-9.\-]+(?::[0-9]+)?(?:/[^\x00-\x20\x7f;?#]*)?(?:\?[^\x00-\x20\x7f#]+)?"
                       r"(?:#[^\x00-\x20\x7f]+)?")
_SEGMENT = re.compile(r"[^\x00-\x20\x7f:/?#;\\]+")


def _join(base: str, uri: str) -> str:
    """urljoin(base, uri), the two commonest shapes without urllib."""
    prefix = _join_prefix(base)
    if prefix is not None:
        if _ABSOLUTE.fullmatch(uri):
            return uri
        if _SEGMENT.fullmatch(uri) and uri != "." and uri != "..":
            return prefix + uri
    return urljoin(base, uri)


@functools.lru_cache(maxsize=1024)  # one entry a feed URL
def _join_prefix(base: str) -> str | None:
    """What a one-segment reference is appended to on this base, or None when the base itself does not parse
    (the join is then "" for every reference) and the exact join must answer."""
    try:
        urlparse(base)
    except ValueError:
        return None
    joined = urljoin(base, "a")
    return joined[:-1] if joined.endswith("a") else None


_SLASHES_AFTER_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*://)(/*)")


def urljoin(base: str, uri: str) -> str:
    """A link or id resolved against the feed's URL exactly as feedparser resolves it: urllib's join after
    dropping extra slashes after the scheme ("http:///x" is "http://x"), and "" for what urllib cannot split.
    tests/test_fastparse.py compares it with feedparser's own on the fixtures, its corpus and generated cases."""
    uri = _SLASHES_AFTER_SCHEME.sub(r"\1", uri, count=1)
    try:
        return _stdlib_urljoin(base, uri)
    except ValueError:
        return ""


def _map_type(kind: str) -> str:
    return {"text": "text/plain", "plain": "text/plain", "html": "text/html",
            "xhtml": "application/xhtml+xml"}.get(kind, kind)


def clean_link(value: object) -> str | None:
    """A link, id or author with all whitespace taken out (real feeds break links over lines: Tabnak), or None
    when nothing is left or the value is not text. Both parse paths store what this gives."""
    if not isinstance(value, str):
        return None
    value = "".join(value.split())
    return value or None


__all__: Iterable[str] = ["parse_simple", "clean_link", "urljoin"]
