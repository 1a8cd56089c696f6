"""OPML in and out: the feed lists every reader exports (Miniflux, FreshRSS, Feedly, Inoreader, newsboat).

Reading: expat, with every outline's line kept so each problem can be named where it is. A folder is an outline
without xmlUrl that holds outlines; its name (`text`, else `title`) becomes the feeds' `group:`, nested folders
joined with "/" (as newsboat turns them into tags). A DOCTYPE is refused outright: OPML never needs one, and it is
where entity bombs and external entities live. What the file cannot give (a malformed document, an outline that
is neither a feed nor a folder, an address that is not http(s)) is a Problem with its line; the caller decides
whether any problem stops the import (the default) or only skips its outline.

Writing: OPML 2.0, folders from groups, and the monitor's own settings (the feed's name, interval, full_text) as
attributes in the monitor's namespace, so an export imported again gives the same config entries, while other
readers ignore what they do not know (the OPML 2.0 rule for namespaced attributes).
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import format_datetime
from datetime import datetime, timezone
from typing import Iterable, Sequence
from xml.parsers import expat
from xml.sax.saxutils import quoteattr, escape

from monitor.config.convert import url_problem
from monitor.errors import FeedListError
from monitor.models import FeedSpec

__all__ = ["OpmlFeed", "Problem", "read_opml", "write_opml", "NAMESPACE", "MAX_BYTES"]

NAMESPACE = "urn:persian-news-monitor:opml"  # the monitor:name / interval / full_text attributes
MAX_BYTES = 20 * 1024 * 1024  # a feed list, not a feed: far larger is a mistake (the wrong file)
_SEP = "\x1f"  # expat's namespace separator: "uri<SEP>local" for namespaced names; nothing else contains it


@dataclass(frozen=True)
class OpmlFeed:
    """One feed outline as the file gives it."""

    url: str
    title: str  # `title`, else `text`, else "" (newsboat writes only title, Miniflux both)
    line: int
    group: str | None = None  # the folders around it, joined with "/"
    html_url: str | None = None
    name: str | None = None  # monitor:name, when the file is a monitor export
    interval: str | None = None  # monitor:interval, as written ("10m", "auto")
    full_text: str | None = None  # monitor:full_text


@dataclass(frozen=True)
class Problem:
    """One outline the import cannot take, with where it is."""

    line: int
    message: str

    def describe(self, source: str) -> str:
        return f"{source}:{self.line}: {self.message}"


def read_opml(data: bytes, source: str) -> tuple[list[OpmlFeed], list[Problem]]:
    """The feed outlines of an OPML document, in document order, and the outlines it cannot take.

    Raises FeedListError (one line naming `source` and the line) when the bytes are not an OPML document at
    all: not well-formed XML, a DOCTYPE, another root element, no <body>, or larger than MAX_BYTES."""
    if len(data) > MAX_BYTES:
        raise FeedListError(f"{source}: {len(data):,} bytes is too large for a feed list (at most {MAX_BYTES:,})")
    reader = _Reader()
    parser = expat.ParserCreate(namespace_separator=_SEP)
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.StartDoctypeDeclHandler = reader.doctype
    reader.parser = parser
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise FeedListError(f"{source}:{exc.lineno}: not well-formed XML: {expat.errors.messages[exc.code]} "
                            f"(column {exc.offset + 1})") from None
    except _Refused as exc:
        raise FeedListError(f"{source}:{exc.line}: {exc}") from None
    if reader.root is None:
        raise FeedListError(f"{source}: empty document")
    if not reader.seen_body:
        raise FeedListError(f"{source}: an OPML document needs a <body> holding the outlines; this one has none")
    return reader.feeds, reader.problems


class _Refused(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class _Open:
    """An outline being read: its attributes, whether outlines were seen inside it, and its folder name."""

    line: int
    attrs: dict[str, str]
    folder: str | None
    children: int = 0


class _Reader:
    """expat callbacks: a stack of open outlines, the feeds and problems found so far."""

    def __init__(self) -> None:
        self.parser: expat.XMLParserType | None = None
        self.root: str | None = None
        self.seen_body = False
        self.in_body = 0
        self.stack: list[_Open] = []
        self.feeds: list[OpmlFeed] = []
        self.problems: list[Problem] = []
        self.first_line: dict[str, int] = {}  # xmlUrl -> line of its first outline (readers list a feed per tag)

    def line(self) -> int:
        return self.parser.CurrentLineNumber if self.parser else 0

    def doctype(self, name: str, *args: object) -> None:
        raise _Refused("a DOCTYPE is not allowed in a feed list (OPML needs none; entities could expand "
                       "without bound or read local files)", self.line())

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        local = tag.rsplit(_SEP, 1)[-1]
        if self.root is None:
            self.root = local
            if local != "opml":
                hint = (" (this is a feed itself: add it with `monitor feeds add URL`)"
                        if local in ("rss", "feed", "RDF") else "")
                raise _Refused(f"not OPML: the root element is <{local}>, not <opml>{hint}", self.line())
            return
        if local == "body" and not self.stack and not self.in_body:
            self.seen_body = True
            self.in_body = 1
            return
        if local != "outline" or not self.in_body:
            return
        plain = _attributes(attrs)
        if self.stack:
            self.stack[-1].children += 1
        folder = None if _get(plain, "xmlurl") is not None else (_get(plain, "text") or _get(plain, "title") or "")
        self.stack.append(_Open(self.line(), plain, folder))

    def end(self, tag: str) -> None:
        local = tag.rsplit(_SEP, 1)[-1]
        if local == "body" and self.in_body and not self.stack:
            self.in_body = 0
            return
        if local != "outline" or not self.stack:
            return
        node = self.stack.pop()
        groups = [o.folder.strip() for o in self.stack if o.folder and o.folder.strip()]
        url = _get(node.attrs, "xmlurl")
        if url is None:
            if node.children == 0:
                self._outline_without_url(node)
            return
        self._feed(node, url.strip(), "/".join(groups) or None)

    def _outline_without_url(self, node: _Open) -> None:
        label = _label(node.attrs)
        site = _get(node.attrs, "htmlurl")
        if site:
            hint = f"; to find the feed of its site, run `monitor feeds add {site}`"
        else:
            hint = " (neither a feed nor a folder of feeds)"
        self.problems.append(Problem(node.line, f"outline {label}has no xmlUrl{hint}"))

    def _feed(self, node: _Open, url: str, group: str | None) -> None:
        label = _label(node.attrs)
        if not url:
            self.problems.append(Problem(node.line, f"outline {label}has an empty xmlUrl"))
            return
        problem = url_problem(url)
        if problem:
            shown = url if len(url) <= 120 else url[:117] + "..."
            self.problems.append(Problem(node.line, f"outline {label}xmlUrl {_q(shown)} is not an http(s) URL: "
                                                    f"{problem}"))
            return
        if url in self.first_line:  # Feedly and Inoreader list a feed once per folder it is in: the first wins
            return
        self.first_line[url] = node.line
        title = (_get(node.attrs, "title") or _get(node.attrs, "text") or "").strip()
        self.feeds.append(OpmlFeed(
            url=url, title=title, line=node.line, group=group, html_url=_get(node.attrs, "htmlurl"),
            name=node.attrs.get(f"{NAMESPACE}{_SEP}name"), interval=node.attrs.get(f"{NAMESPACE}{_SEP}interval"),
            full_text=node.attrs.get(f"{NAMESPACE}{_SEP}full_text")))


def _attributes(attrs: dict[str, str]) -> dict[str, str]:
    """Plain attributes under lower-case names (`xmlUrl`, and the `xmlurl` some tools write), namespaced ones as
    expat gives them ("uri<SEP>local")."""
    return {(k if _SEP in k else k.lower()): v for k, v in attrs.items()}


def _get(attrs: dict[str, str], name: str) -> str | None:
    value = attrs.get(name)
    if name == "xmlurl" and value is None:
        value = attrs.get("url")  # OPML 1.0 "link" outlines and newsboat's own import accept `url`
    return value


def _label(attrs: dict[str, str]) -> str:
    text = (_get(attrs, "title") or _get(attrs, "text") or "").strip()
    return f"{_q(text[:80])} " if text else ""


def _q(text: str) -> str:
    return f"«{text}»"


# ------------------------------------------------------------------------------------------ writing


def write_opml(feeds: Sequence[FeedSpec], *, title: str = "persian-news-monitor feeds",
               now: datetime | None = None) -> str:
    """The feeds as an OPML 2.0 document: feeds without a group first, then one folder per group (a group
    "a/b" is folder b inside folder a), each feed's outline carrying its name and settings in NAMESPACE."""
    now = now or datetime.now(timezone.utc)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<opml version="2.0" xmlns:monitor="{NAMESPACE}">',
           "  <head>",
           f"    <title>{escape(title)}</title>",
           f"    <dateCreated>{format_datetime(now, usegmt=True)}</dateCreated>",
           "  </head>",
           "  <body>"]
    tree = _Folder()
    for feed in feeds:
        folder = tree
        for part in [p for p in (feed.group or "").split("/") if p.strip()]:
            folder = folder.sub.setdefault(part.strip(), _Folder())
        folder.feeds.append(feed)
    out.extend(_folder_lines(tree, 2))
    out.extend(["  </body>", "</opml>", ""])
    return "\n".join(out)


class _Folder:
    def __init__(self) -> None:
        self.feeds: list[FeedSpec] = []
        self.sub: dict[str, _Folder] = {}


def _folder_lines(folder: _Folder, depth: int) -> Iterable[str]:
    pad = "  " * depth
    for feed in folder.feeds:
        extra = ""
        if feed.interval is not None:
            extra += f" monitor:interval={quoteattr(_interval(feed.interval))}"
        if feed.full_text is not None:
            extra += f" monitor:full_text={quoteattr(feed.full_text)}"
        yield (f"{pad}<outline type=\"rss\" text={quoteattr(feed.name)} title={quoteattr(feed.name)} "
               f"xmlUrl={quoteattr(feed.url)} monitor:name={quoteattr(feed.name)}{extra}/>")
    for name, sub in folder.sub.items():
        yield f"{pad}<outline text={quoteattr(name)} title={quoteattr(name)}>"
        yield from _folder_lines(sub, depth + 1)
        yield f"{pad}</outline>"


def _interval(value: float | str) -> str:
    """A FeedSpec interval as config.yaml takes it back: "auto", or whole seconds as "90s"/"10m"/"2h"."""
    if isinstance(value, str):
        return value
    seconds = int(value) if float(value).is_integer() else value
    for unit, size in (("h", 3600), ("m", 60)):
        if isinstance(seconds, int) and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
