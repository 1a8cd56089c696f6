"""Find a site's feed from its address, the way feed readers do, and prove it parses.

Order, as Miniflux's and FreshRSS's finders go: the address itself (it may be the feed); the page's
`<link rel="alternate">` of an RSS, Atom or RDF type (relative hrefs against the page's `<base href>`, else its
final address after redirects); links on the page to the same site whose path looks like a feed (`/rss`,
`/feed`, `.xml`, and `/rss/tp/<id>`, the section feeds of the Nastooh CMS that IRNA, ISNA, Mehr and others share:
a section page links its own); then the common paths (`/feed`, `/rss`, `/rss.xml`, `/atom.xml`, `/feeds/`,
and `/fa/rss/allnews` of the Iran-Samaneh CMS of Tabnak and Asriran). Each candidate is fetched with the feeds'
own fetcher (timeouts, body cap, redirect limit, user agent) and read by feedparser; the first that is a feed
wins, and the page's other alternates that are feeds are reported beside it.

Never touches config.yaml or the database: the CLI shows what was found and adds it (monitor.feeds.edit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from monitor.config.convert import url_problem
from monitor.errors import FeedListError, FetchError
from monitor.models import FetchResult, HTTPSettings, RawItem

__all__ = ["Found", "discover", "COMMON_PATHS", "FEED_TYPES"]

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
              "text/xml", "application/x.atom+xml", "application/x-atom+xml")
COMMON_PATHS = ("/feed", "/rss", "/rss.xml", "/atom.xml", "/feed.xml", "/index.xml", "/feeds/", "/fa/rss/allnews")
PAGE_ACCEPT = "text/html, application/xhtml+xml, application/rss+xml, application/atom+xml, */*;q=0.5"
MAX_ALTERNATES = 6  # a page listing dozens of section feeds: the first few are tried, the rest named
MAX_LINKS = 6
_FEEDISH = re.compile(r"(?:^|/)(?:rss|feeds?|atom)(?:/|\.|$|-)|\.(?:rss|xml|atom)$|/rss/tp/\d+", re.I)


@dataclass(frozen=True)
class Found:
    """A feed found and read: where, how it was found, its title and newest items, and the other feeds the
    page offered (proven to parse too)."""

    url: str
    how: str  # "the address is a feed", "<link rel=\"alternate\"> of the page", "a link on the page", "common path /rss"
    title: str
    format: str
    items: list[RawItem]
    also: list[tuple[str, str]] = field(default_factory=list)  # (url, title) of the page's other alternates
    tried: int = 1


def discover(url: str, settings: HTTPSettings) -> Found:
    """The feed at or behind `url`. Raises FeedListError (one line) when `url` is not http(s), cannot be
    fetched, or neither is a feed nor leads to one."""
    from monitor.fetch import fetch, make_client

    problem = url_problem(url)
    if problem:
        raise FeedListError(f"{url!r} is not an http(s) URL: {problem}")
    with make_client(settings, connections=4) as client:
        def get(address: str) -> FetchResult | None:
            try:
                return fetch(client, address, settings, accept=PAGE_ACCEPT)
            except FetchError:
                return None

        try:
            page = fetch(client, url, settings, accept=PAGE_ACCEPT)
        except FetchError as exc:
            raise FeedListError(f"{url}: {exc}") from None
        found = _as_feed(page, "the address is a feed", 1)
        if found:
            return found
        links = _PageLinks.of(page)
        tried = 1
        seen = {_key(page.url), _key(url)}
        alternates = [u for u in links.alternates if _fresh(u, seen)]
        proven: list[Found] = []
        for candidate in alternates[:MAX_ALTERNATES]:
            tried += 1
            result = _as_feed(get(candidate), '<link rel="alternate"> of the page', tried)
            if result:
                proven.append(result)
        if proven:
            first, rest = proven[0], proven[1:]
            return Found(first.url, first.how, first.title, first.format, first.items,
                         [(f.url, f.title) for f in rest], tried)
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
        ordered = [(u, "a link on the page") for u in links.feedish if _fresh(u, seen)][:MAX_LINKS]
        ordered += [(urljoin(origin, p), f"common path {p}") for p in COMMON_PATHS
                    if _fresh(urljoin(origin, p), seen)]
        for candidate, how in ordered:
            tried += 1
            result = _as_feed(get(candidate), how, tried)
            if result:
                return result
    raise FeedListError(
        f"{url}: no feed found: the page has no <link rel=\"alternate\"> of an RSS or Atom type that is a feed, "
        f"no link that leads to one, and none of {', '.join(COMMON_PATHS)} answered with a feed "
        f"({tried} addresses tried); find the feed's address on the site and give it instead")


def _key(url: str) -> str:
    from monitor.dedup import canonical_link

    return canonical_link(url) or url


def _fresh(url: str, seen: set[str]) -> bool:
    """A candidate not tried yet (compared by canonical link), and one the fetcher could poll."""
    if url_problem(url):
        return False
    key = _key(url)
    if key in seen:
        return False
    seen.add(key)
    return True


def _as_feed(result: FetchResult | None, how: str, tried: int) -> Found | None:
    from monitor.errors import ParseError
    from monitor.parse import feed_head, newest, parse_feed

    if result is None or not result.body:
        return None
    head = feed_head(result.body, content_type=result.content_type, url=result.url)
    if head is None:
        return None
    try:
        items = parse_feed(result.body, content_type=result.content_type, url=result.url)
    except ParseError:
        return None
    return Found(result.url, how, head[1], head[0], newest(items, 5), [], tried)


class _PageLinks(HTMLParser):
    """The page's `<base href>`, its feed alternates and its feed-looking links to the same site, resolved."""

    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.base: str | None = None
        self.raw_alternates: list[str] = []
        self.raw_links: list[str] = []

    @classmethod
    def of(cls, page: FetchResult) -> "_PageLinks":
        parser = cls(page.url)
        parser.feed(_decode(page.body or b"", page.content_type))
        parser.close()
        return parser

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "").strip() for k, v in attrs}
        href = values.get("href")
        if not href:
            return
        if tag == "base" and self.base is None:
            self.base = urljoin(self.url, href)
        elif tag == "link":
            rels = values.get("rel", "").lower().split()
            kind = values.get("type", "").lower().split(";")[0].strip()
            if "alternate" in rels and kind in FEED_TYPES:
                self.raw_alternates.append(href)
        elif tag == "a" and _FEEDISH.search(urlsplit(href).path or ""):
            self.raw_links.append(href)

    def _resolve(self, hrefs: list[str]) -> list[str]:
        base = self.base or self.url
        return list(dict.fromkeys(urljoin(base, h) for h in hrefs))

    @property
    def alternates(self) -> list[str]:
        return self._resolve(self.raw_alternates)

    @property
    def feedish(self) -> list[str]:
        host = (urlsplit(self.url).hostname or "").lower().removeprefix("www.")
        return [u for u in self._resolve(self.raw_links)
                if (urlsplit(u).hostname or "").lower().removeprefix("www.") == host]


def _decode(body: bytes, content_type: str | None) -> str:
    """The page as text, in its declared charset (HTTP header or meta), else UTF-8; bad bytes replaced. Only
    addresses are read from it, and those are ASCII or percent-encoded on every site seen."""
    m = re.search(r"charset=[\"']?([A-Za-z0-9._-]+)", content_type or "") or \
        re.search(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9._-]+)", body[:4096], re.I)
    charset = m.group(1) if m else "utf-8"
    charset = charset.decode("ascii") if isinstance(charset, bytes) else charset
    try:
        return body.decode(charset, "replace")
    except LookupError:
        return body.decode("utf-8", "replace")
