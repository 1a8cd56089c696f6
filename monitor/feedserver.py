"""A small HTTP server for a folder of feed files, on 127.0.0.1, for `monitor demo`, tests and benchmarks.

It behaves like a well-mannered news site: ETag and Last-Modified on every feed, 304 Not Modified for a
matching conditional request, and it remembers each request so tests can see what the monitor sent. Like a real
server it does not re-hash a file for every request: the body and its ETag are kept until the file's mtime or
size changes (hashing 500 feeds of 120 KB on each poll took half a core from the poll being benchmarked).
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CONTENT_TYPES = {".xml": "application/rss+xml", ".rss": "application/rss+xml", ".atom": "application/atom+xml"}


@dataclass(frozen=True)
class Request:
    path: str
    if_none_match: str | None
    if_modified_since: str | None
    user_agent: str | None
    status: int


class FeedServer:
    """Serve every file in `folder` at /<file name>. Use as a context manager; `url(name)` gives the URL."""

    def __init__(self, folder: str | Path, host: str = "127.0.0.1", port: int = 0, delay: float = 0.0) -> None:
        """`delay`: seconds to wait before answering each request, a slow site (tests act while it waits)."""
        self.folder = Path(folder)
        self.delay = delay
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._files: dict[Path, tuple[tuple[int, int], bytes, str, str]] = {}  # path -> (stat key, body, etag, date)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real news sites (nginx, CDNs) answer

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                server._handle(self)

            def log_message(self, *args) -> None:
                pass

        # A listen backlog like a real server's (nginx: 511): http.server's default of 5 dropped connection
        # attempts when a poll opened a dozen at once, and each dropped one waited a second for its SYN again.
        server_class = type("FeedHTTPServer", (ThreadingHTTPServer,), {"request_queue_size": 128})
        self.httpd = server_class((host, port), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="feedserver", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def __enter__(self) -> "FeedServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _file(self, path: Path) -> tuple[bytes, str, str]:
        stat = path.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._files.get(path)
        if cached is None or cached[0] != key:
            body = path.read_bytes()
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            cached = self._files[path] = (key, body, etag, formatdate(int(stat.st_mtime), usegmt=True))
        return cached[1], cached[2], cached[3]

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        if self.delay:
            time.sleep(self.delay)
        name = handler.path.split("?", 1)[0].lstrip("/")
        path = self.folder / name
        inm = handler.headers.get("If-None-Match")
        ims = handler.headers.get("If-Modified-Since")
        status = 404
        try:
            if not name or "/" in name or ".." in name or not path.is_file():
                handler.send_error(404)
                return
            body, etag, modified = self._file(path)
            if inm == etag or (inm is None and ims == modified):
                status = 304
                handler.send_response(304)
                handler.send_header("ETag", etag)
                handler.end_headers()
                return
            status = 200
            handler.send_response(200)
            handler.send_header("Content-Type", CONTENT_TYPES.get(path.suffix, "application/xml"))
            handler.send_header("Content-Length", str(len(body)))
            handler.send_header("ETag", etag)
            handler.send_header("Last-Modified", modified)
            handler.end_headers()
            handler.wfile.write(body)
        finally:
            with self._lock:
                self.requests.append(Request(handler.path, inm, ims, handler.headers.get("User-Agent"), status))
