"""Finding a site's feed from its address (monitor.feeds.discover), against pages served on 127.0.0.1."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

import pytest

from conftest import FEEDS, LoopbackServer
from monitor.errors import FeedListError
from monitor.feeds import discover
from monitor.models import HTTPSettings

MEHR = (FEEDS / "mehr.xml").read_bytes()
ISNA = (FEEDS / "isna.atom").read_bytes()
SETTINGS = HTTPSettings(timeout=5.0)


def page(head: str, body: str = "") -> bytes:
    return (f'<!DOCTYPE html>\n<html lang="fa" dir="rtl"><head><meta charset="utf-8"><title>خبر</title>{head}'
            f"</head><body><h1>صفحه اول</h1>{body}</body></html>").encode("utf-8")


class Site:
    """path -> (content type, body); everything else 404. Records the paths asked for."""

    def __init__(self, routes: dict[str, tuple[str, bytes]]) -> None:
        self.routes, self.asked = routes, []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                site.asked.append(self.path)
                found = site.routes.get(self.path)
                if found is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", found[0])
                self.send_header("Content-Length", str(len(found[1])))
                self.end_headers()
                self.wfile.write(found[1])

            def log_message(self, *args) -> None:
                pass

        self.server = LoopbackServer(Handler)

    def url(self, path: str) -> str:
        return self.server.url(path.lstrip("/"))


@pytest.fixture
def site():
    made: list[Site] = []

    def make(routes: dict[str, tuple[str, bytes]]) -> Site:
        made.append(Site(routes))
        return made[-1]

    yield make
    for s in made:
        s.server.close()


HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml"


def test_the_address_is_the_feed(site):
    s = site({"/rss": (RSS, MEHR)})
    found = discover(s.url("/rss"), SETTINGS)
    assert found.how == "the address is a feed" and found.url == s.url("/rss") and found.format == "rss20"
    assert found.title and 0 < len(found.items) <= 5
    assert s.asked == ["/rss"]


def test_two_alternates_relative_hrefs_the_first_wins_the_other_is_named(site):
    head = ('<link rel="alternate" type="application/rss+xml" title="همه" href="rss/all">'
            '<link rel="stylesheet" href="/s.css">'
            '<link rel="Alternate home" type="application/atom+xml" href="/atom/latest.xml">')
    s = site({"/fa/": (HTML, page(head)), "/fa/rss/all": (RSS, MEHR),
              "/atom/latest.xml": ("application/atom+xml", ISNA)})
    found = discover(s.url("/fa/"), SETTINGS)
    assert found.url == s.url("/fa/rss/all") and found.how == '<link rel="alternate"> of the page'
    assert [u for u, _ in found.also] == [s.url("/atom/latest.xml")]
    assert found.also[0][1]  # the other feed's title, read from it


def test_base_href_resolves_relative_alternates(site):
    head = '<base href="/feeds/v2/"><link rel="alternate" type="application/rss+xml" href="main.xml">'
    s = site({"/news/today": (HTML, page(head)), "/feeds/v2/main.xml": ("text/xml", MEHR)})
    found = discover(s.url("/news/today"), SETTINGS)
    assert found.url == s.url("/feeds/v2/main.xml")
    assert "/news/main.xml" not in s.asked


def test_an_alternate_that_is_no_feed_falls_through_to_common_paths(site):
    head = '<link rel="alternate" type="application/rss+xml" href="/broken">'
    s = site({"/": (HTML, page(head)), "/broken": (RSS, b"<html>not a feed</html>"), "/rss": (RSS, MEHR)})
    found = discover(s.url("/"), SETTINGS)
    assert found.url == s.url("/rss") and found.how == "common path /rss"
    assert s.asked[:3] == ["/", "/broken", "/feed"]


def test_no_alternate_a_section_page_links_its_nastooh_section_feed(site):
    body = ('<a href="/service/Politics">سیاسی</a><a href="https://elsewhere.example/rss">other site</a>'
            '<a href="/rss/tp/14"><img src="/rss.png" alt="RSS"></a>')
    s = site({"/service/Politics": (HTML, page("", body)), "/rss/tp/14": (RSS, MEHR), "/rss": (RSS, ISNA)})
    found = discover(s.url("/service/Politics"), SETTINGS)
    assert found.url == s.url("/rss/tp/14") and found.how == "a link on the page"


def test_iran_samaneh_path(site):
    s = site({"/": (HTML, page("")), "/fa/rss/allnews": ("text/xml; charset=utf-8", MEHR)})
    assert discover(s.url("/"), SETTINGS).url == s.url("/fa/rss/allnews")


def test_nothing_anywhere_is_one_clear_line(site):
    s = site({"/": (HTML, page("", '<a href="/about">درباره</a>'))})
    with pytest.raises(FeedListError) as err:
        discover(s.url("/"), SETTINGS)
    message = str(err.value)
    assert message.startswith(f"{s.url('/')}: no feed found") and "\n" not in message
    assert "/feed, /rss, /rss.xml" in message and "9 addresses tried" in message


def test_an_address_that_fails_or_is_not_http(site):
    s = site({})
    with pytest.raises(FeedListError, match=r"/gone: HTTP 404"):
        discover(s.url("/gone"), SETTINGS)
    with pytest.raises(FeedListError, match=r"is not an http\(s\) URL: it must start with http"):
        discover("ftp://example.org/feed", SETTINGS)
