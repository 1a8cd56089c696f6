"""A hostile news site on 127.0.0.1: one path per fault the monitor must survive.

Big bodies are generated while they are sent (a 300 MB body and a 1 GiB gzip bomb are never held in memory),
and the slow cases (a server that never answers, one that sends a byte a second) stop as soon as the client
gives up or the server is shut down, so the suite stays fast.
"""

from __future__ import annotations

import threading
import time
import zlib
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

SECRET = "TOP-SECRET-do-not-store-7f3a"  # written to a local file an external entity points at

# Persian text a windows-1256 feed can carry (Arabic ي and ك, ASCII digits: ی and Persian digits do not exist there)
FA_TITLE = "مجلس شوراي اسلامي لايحه بودجه 1404 را تصويب كرد"


def rss(items: list[str], *, decl: str = '<?xml version="1.0" encoding="utf-8"?>', head: str = "") -> str:
    return (f"{decl}\n{head}<rss version=\"2.0\"><channel><title>t</title><link>http://example.com/</link>"
            f"<description>d</description>\n{''.join(items)}</channel></rss>\n")


def item(n: int | str, *, title: str | None = None, guid: bool = True, link: bool = True,
         date: str | None = "Tue, 18 Nov 2025 10:00:00 GMT", desc: str = "") -> str:
    parts = ["<item>"]
    if title is not None:
        parts.append(f"<title>{title}</title>")
    if link:
        parts.append(f"<link>http://example.com/news/{n}</link>")
    if guid:
        parts.append(f"<guid isPermaLink=\"false\">g-{n}</guid>")
    if date:
        parts.append(f"<pubDate>{date}</pubDate>")
    parts.append(f"<description>{desc or f'خبر شماره {n} درباره اقتصاد و سیاست'}</description></item>\n")
    return "".join(parts)


class FaultServer:
    """Serve the fault routes; `url(path)` gives the full URL. Use as a context manager."""

    def __init__(self, secret_file: Path) -> None:
        self.secret_file = secret_file
        self.stop = threading.Event()
        self.routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        self.hits: dict[str, int] = {}  # path -> requests served
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                server.hits[path] = server.hits.get(path, 0) + 1
                route = server.routes.get(path)
                try:
                    if route is None:
                        self.send_error(404)
                    else:
                        route(self)
                except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                    pass  # the client gave up, as it should

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._register()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def __enter__(self) -> "FaultServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def send(h: BaseHTTPRequestHandler, body: bytes, ctype: str = "application/rss+xml", status: int = 200,
             **headers: str) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            h.send_header(k.replace("_", "-"), v)
        h.end_headers()
        h.wfile.write(body)

    def static(self, path: str, body: bytes | str, ctype: str = "application/rss+xml", status: int = 200,
               **headers: str) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = lambda h: self.send(h, data, ctype, status, **headers)

    # ------------------------------------------------------------------ the routes
    def _register(self) -> None:
        good = rss([item(f"ok-{i}", title=f"خبر سالم {i}") for i in range(3)])
        self.static("/good.xml", good)
        self.static("/good2.xml", rss([item(f"ok2-{i}", title=f"خبر دیگر {i}") for i in range(2)]))
        self.routes["/hang"] = self._hang
        self.routes["/trickle"] = self._trickle
        self.routes["/slow-headers"] = self._slow_headers
        self.routes["/huge"] = self._huge
        self.routes["/gzip-bomb"] = self._gzip_bomb
        for status in (404, 410, 500):
            self.static(f"/status-{status}", b"<html><body>error</body></html>", "text/html", status)
        self.static("/status-429", b"slow down", "text/plain", 429, Retry_After="120")
        self.static("/status-503", b"maintenance", "text/plain", 503,
                    Retry_After=formatdate(time.time() + 3600, usegmt=True))
        self.routes["/loop-a"] = lambda h: self._redirect(h, "/loop-b")
        self.routes["/loop-b"] = lambda h: self._redirect(h, "/loop-a")
        self.routes["/other-host"] = lambda h: self._redirect(h, self.url("/moved.xml", host="localhost"))
        self.static("/moved.xml", rss([item(f"moved-{i}", title=f"خبر منتقل {i}") for i in range(2)]))
        self.static("/html", "<!DOCTYPE html><html><head><title>503</title></head><body><h1>خطا</h1>"
                    "<p>Service unavailable</p></body></html>", "text/html; charset=utf-8")
        full = rss([item(f"trunc-{i}", title=f"خبر ناقص {i}") for i in range(4)])
        self.static("/truncated", full[: full.index("g-trunc-3") + 20])
        self.static("/xxe", rss([item("xxe-1", title="before &xxe; after")],
                                head=f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{self.secret_file}">]>\n'))
        lol = "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
        self.static("/entity-bomb", rss([item("bomb-1", title="&lol9;")],
                                        head=f'<!DOCTYPE rss [<!ENTITY lol0 "lol">{lol}]>\n'))
        bad = rss([item(f"badutf-{i}", title=f"عنوان {i} BAD") for i in range(2)]).encode()
        self.static("/invalid-utf8", bad.replace(b"BAD", b"\xff\xfe\xc3("))
        cp = rss([item(f"cp-{i}", title=f"{FA_TITLE} {i}", desc=f"{FA_TITLE} متن كامل خبر") for i in range(3)],
                 decl='<?xml version="1.0"?>').encode("cp1256")
        self.static("/cp1256-header", cp, "text/xml; charset=windows-1256")
        self.static("/cp1256-undeclared", cp, "application/rss+xml")
        self.static("/utf16-bom", rss([item(f"u16-{i}", title=f"خبر یونیکد {i}") for i in range(2)],
                                      decl='<?xml version="1.0" encoding="utf-16"?>').encode("utf-16"))
        self.static("/many", rss([item(f"many-{i}", title=f"خبر {i}") for i in range(10_000)]))
        self.static("/missing-fields", rss([
            item("nf-1", title=None, guid=False, desc="خبر بدون عنوان و بدون شناسه"),
            item("nf-2", title="بدون پیوند", guid=False, link=False),
            item("nf-3", title=None, guid=False, link=False, desc="خبری که نه عنوان دارد نه پیوند نه شناسه"),
            "<item><description>فقط یک توضیح بدون تاریخ</description></item>\n"]))
        self.static("/dup-guid", rss([item("same", title="نسخه اول"), item("same", title="نسخه دوم")]))
        dates = {
            "irst": "Tue, 18 Nov 2025 14:30:00 IRST",
            "jalali": "1404/08/27 14:30",
            "no-seconds": "Tue, 18 Nov 2025 14:30 +0330",
            "day-first": "18.11.2025 14:30",
            "future": "Mon, 18 Nov 2030 10:00:00 GMT",
            "pre-1970": "Thu, 01 Jan 1960 10:00:00 GMT",
        }
        self.static("/dates", rss([item(f"date-{k}", title=k, date=v) for k, v in dates.items()]))
        self._register_bad_values()

    # ------------------------------------------------------------------ one bad value in a good feed
    def _register_bad_values(self) -> None:
        """Feeds that are good but for one value: a header, one item's field, the XML declaration."""
        three = lambda tag: rss([item(f"{tag}-{i}", title=f"خبر {tag} {i}") for i in range(3)])  # noqa: E731
        # Validators that are not ASCII (http.server sends header values as Latin-1 bytes).
        self.static("/bad-etag", three("etag"), ETag='"caf\xe9"', Last_Modified="Di, 18 Mär 2025 10:00:00 GMT")
        self.static("/bad-port", rss([item("port-0", title="خبر سالم"),
                                      "<item><title>پیوند با درگاه ناممکن</title>"
                                      "<link>http://example.com:99999/a</link></item>\n",
                                      "<item><title>شناسه با درگاه ناممکن</title>"
                                      "<guid>http://example.com:99999/b</guid></item>\n",
                                      item("port-3", title="خبر سالم دیگر")]))
        self.static("/surrogate", rss([item("sur-0", title="خبر سالم"), item("sur-1", title="پیش &#xD800; پس"),
                                       item("sur-2", title="بزرگ &#x110000; پس", desc="متن &#55296; خبر"),
                                       item("sur-3", title="خبر سالم دیگر")]))
        self.static("/superscript-max-age", three("maxage"), Cache_Control="max-age=\u00b2")
        self.static("/superscript-retry-after", b"busy", "text/plain", 503, Retry_After="\u00b2")
        self.static("/arabic-digit-retry-after", b"busy", "text/plain", 429, Retry_After="\u0663\u0660\u0660".encode().decode("latin-1"))  # sent as UTF-8
        self.static("/encoding-undefined", rss([item(f"undef-{i}", title=f"خبر {i}") for i in range(2)],
                                               decl='<?xml version="1.0" encoding="undefined"?>'))
        self.static("/charset-undefined", three("cs"), "application/rss+xml; charset=undefined")
        self.static("/nul-title", rss([item("nul-0", title="پیش\x00پس از صفر"), item("nul-1", title="خبر سالم")]))
        self.routes["/always-304"] = lambda h: self.send(h, b"", status=304)
        days = [formatdate(1_700_000_000 + i * 60, usegmt=True) for i in range(1500)]  # oldest first
        self.static("/capped-by-date", rss([item(f"cap-{i}", title=f"خبر {i}", date=d) for i, d in enumerate(days)]))

    # ------------------------------------------------------------------ slow and big
    def _hang(self, h: BaseHTTPRequestHandler) -> None:
        """Accept the connection, read the request, never answer."""
        self.stop.wait(60)

    def _trickle(self, h: BaseHTTPRequestHandler) -> None:
        """Headers at once, then one byte a second: every read succeeds, the whole never arrives."""
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.end_headers()
        for byte in rss([item(i) for i in range(50)]).encode():
            if self.stop.wait(1.0):
                return
            h.wfile.write(bytes([byte]))
            h.wfile.flush()

    def _slow_headers(self, h: BaseHTTPRequestHandler) -> None:
        """A status line, then a header one byte a second: no read ever times out, the headers never end."""
        h.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        h.wfile.flush()
        for _ in range(60):
            if self.stop.wait(1.0):
                return
            h.wfile.write(b"a")
            h.wfile.flush()

    def _huge(self, h: BaseHTTPRequestHandler) -> None:
        """300 MB of a valid-looking feed, no Content-Length, generated as it is sent."""
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True
        h.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>big</title>')
        chunk = (item("x", title="حجیم" * 100) * 40).encode()
        sent = 0
        while sent < 300 * 1024 * 1024 and not self.stop.is_set():
            h.wfile.write(chunk)
            sent += len(chunk)

    def _gzip_bomb(self, h: BaseHTTPRequestHandler) -> None:
        """1 GiB of zeros, gzip-compressed while it is sent (about 1 MB on the wire)."""
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Encoding", "gzip")
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True
        comp = zlib.compressobj(9, zlib.DEFLATED, 31)
        zeros = b"\0" * (1 << 20)
        for _ in range(1024):
            if self.stop.is_set():
                return
            out = comp.compress(zeros)
            if out:
                h.wfile.write(out)
        h.wfile.write(comp.flush())

    @staticmethod
    def _redirect(h: BaseHTTPRequestHandler, location: str) -> None:
        h.send_response(302)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()
