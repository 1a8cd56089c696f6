"""A news site on 127.0.0.1 for the article tests: feeds that carry only leads, and pages in the shape of an
Iranian agency's (header, menu, the article, a related-news box, tags, comments), plus pages that fail in
every way a real one does (hang, 404, too large, PDF, a script-only shell, no article).

The server counts what a polite fetcher must respect, for article pages (paths under /page/): requests in
flight per Host header at once (the most seen) and when each request to a host started.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

import yaml

from conftest import REPO, SEEDS

SHIPPED_WATCH = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))["watch"]


def vocabulary() -> list[str]:
    """Words of the seed texts that no watch entry matches: prose that flags nothing by itself."""
    from monitor.config import load_config
    from monitor.match import Matcher

    words: set[str] = set()
    for f in sorted(SEEDS.glob("*.txt")):
        words.update(w for w in f.read_text(encoding="utf-8").split() if len(w) > 2 and w.isalpha())
    matcher = Matcher(load_config(REPO / "config.yaml").watch)
    return sorted(w for w in words if not matcher.item_matches("", w))


_VOCAB: list[str] = []


def prose(seed: int, words: int) -> str:
    """Distinct Persian-looking prose: random seed words, so no two texts share a phrase."""
    if not _VOCAB:
        _VOCAB.extend(vocabulary())
    rng = random.Random(seed)
    return " ".join(rng.choice(_VOCAB) for _ in range(words))


def agency_page(title: str, lead: str, paragraphs: list[str], related: list[str] = (), tags: list[str] = (),
                comments: list[str] = ()) -> bytes:
    """An article page as Persian agencies lay them out."""
    menu = "".join(f'<li><a href="/section/{i}">{escape(w)}</a></li>'
                   for i, w in enumerate(["صفحه اصلی", "سیاسی", "اقتصادی", "بین‌الملل", "ورزشی", "فرهنگی"]))
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    box = "".join(f'<li><a href="/news/r{i}">{escape(r)}</a></li>' for i, r in enumerate(related))
    tag_links = "".join(f'<a href="/tag/{i}" rel="tag">{escape(t)}</a> ' for i, t in enumerate(tags))
    notes = "".join(f'<div class="comment"><span class="author">کاربر</span><p>{escape(c)}</p></div>'
                    for c in comments)
    return f"""<!DOCTYPE html>
<html lang="fa" dir="rtl"><head><meta charset="utf-8"><title>{escape(title)} - خبرگزاری نمونه</title></head>
<body><header class="site-header"><div class="logo">خبرگزاری نمونه</div><nav class="menu"><ul>{menu}</ul></nav></header>
<main><article class="news"><h1 class="title">{escape(title)}</h1>
<div class="lead"><p>{escape(lead)}</p></div><div class="body">{body}</div>
<div class="tags">برچسب‌ها: {tag_links}</div></article>
<aside class="related"><h3>اخبار مرتبط</h3><ul>{box}</ul></aside>
<section class="comments"><h3>نظرات</h3>{notes}</section></main>
<footer><p>کلیه حقوق این سایت محفوظ است.</p></footer></body></html>""".encode("utf-8")


def feed_xml(items: list[dict]) -> bytes:
    """RSS 2.0 whose items carry a title, a link and only the lead as description."""
    out = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>نمونه</title>'
           '<link>http://127.0.0.1/</link><description>test</description>']
    for it in items:
        out.append(f"<item><title>{escape(it['title'])}</title><link>{escape(it['link'])}</link>"
                   f"<guid>{escape(it['guid'])}</guid><description>{escape(it.get('lead', ''))}</description>"
                   f"<pubDate>Wed, 19 Nov 2025 07:{len(out):02d}:00 +0000</pubDate></item>")
    out.append("</channel></rss>")
    return "".join(out).encode("utf-8")


class Site:
    """routes: path -> (status, content type, body) or a callable(handler) for special behaviour."""

    def __init__(self) -> None:
        self.routes: dict[str, object] = {}
        self.lock = threading.Lock()
        self.in_flight: dict[str, int] = defaultdict(int)
        self.most: dict[str, int] = defaultdict(int)
        self.starts: dict[str, list[float]] = defaultdict(list)
        self.hits: dict[str, int] = defaultdict(int)
        self.slow = 0.0  # seconds every page (not feed) takes to answer, so requests overlap
        self.release = threading.Event()  # what a hanging page waits for
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
                path = self.path.split("?")[0]
                route = site.routes.get(path)
                page = path.startswith("/page/")  # feeds are not article pages: only pages are counted
                with site.lock:
                    site.hits[path] += 1
                    if page:
                        site.in_flight[host] += 1
                        site.most[host] = max(site.most[host], site.in_flight[host])
                        site.starts[host].append(time.monotonic())
                counted = page

                def leave() -> None:
                    # Before the answer is written: a client that has read the whole answer frees its slot at
                    # once and may start its next request before this thread runs again, which the server would
                    # otherwise see as one request too many in flight.
                    nonlocal counted
                    if counted:
                        counted = False
                        with site.lock:
                            site.in_flight[host] -= 1

                try:
                    if page and site.slow:
                        time.sleep(site.slow)
                    if callable(route):
                        route(self)
                        return
                    status, ctype, body = route if route else (404, "text/html", b"<h1>not found</h1>")
                    leave()
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    leave()

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def hang(self, handler: BaseHTTPRequestHandler) -> None:
        """Headers sent, then nothing until the test ends."""
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.end_headers()
        handler.wfile.write(b"<html><body><p>")
        handler.wfile.flush()
        self.release.wait(60)

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def write_config(tmp_path: Path, feeds: list[dict], *, articles: dict | None = None, http: dict | None = None,
                 corpus: bool = True, interval: str | None = None, notify: list | None = None) -> Path:
    raw: dict = {"database": "state/test.db"}
    if corpus:
        raw["corpus"] = [str(SEEDS)]
    if interval:
        raw["schedule"] = {"interval": interval, "jitter": 0}
    raw["http"] = {"timeout": 2, **(http or {})}
    raw["articles"] = {"delay": 0, **(articles or {})}
    raw["feeds"] = feeds
    raw["watch"] = SHIPPED_WATCH
    if notify:
        raw["notify"] = notify
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
