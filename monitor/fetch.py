"""HTTP only: one polite GET per feed. Never parses, never touches the database.

Manners borrowed from Miniflux: a connect/read timeout *and* a total deadline (a server trickling a byte a second
must not hold the cycle), a body cap that holds after gzip/deflate/brotli decoding (a gzip bomb stops at the cap),
a bounded number of redirects, and conditional requests with the validators the last successful poll saved.
"""

from __future__ import annotations

import socket
import threading
import time
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone

import httpx

from monitor.errors import BodyTooLargeError, FetchError, HTTPStatusError
from monitor.models import FetchResult, HTTPSettings

ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
MAX_RETRY_AFTER = 86_400.0  # a server may ask for a day's pause, not more


def make_client(settings: HTTPSettings) -> httpx.Client:
    """One client for a whole cycle: connection pooling, HTTP manners and limits in one place."""
    timeout = httpx.Timeout(settings.timeout, connect=min(settings.timeout, 10.0))
    # No keep-alive: every request opens its own connection, so the deadline watchdog below always sees the
    # socket it must cut (a pooled connection would be reused without a connect event). One handshake per feed
    # every few minutes costs nothing that matters.
    limits = httpx.Limits(max_connections=max(settings.concurrency * 2, 4), max_keepalive_connections=0)
    return httpx.Client(
        timeout=timeout, limits=limits, follow_redirects=True, max_redirects=settings.max_redirects,
        headers={"User-Agent": settings.user_agent, "Accept": ACCEPT}, trust_env=False)


def fetch(client: httpx.Client, url: str, settings: HTTPSettings, *, etag: str | None = None,
          last_modified: str | None = None) -> FetchResult:
    """GET url. Raises FetchError (or a subclass) with a message a person understands."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    started = time.monotonic()
    deadline = started + settings.timeout * 3  # total budget: connect + headers + body
    watchdog = _Watchdog(deadline - started)
    late = f"no complete response within the {deadline - started:.0f}s deadline; gave up"
    try:
        result = _get(client, url, headers, settings, started, deadline, watchdog)
    except FetchError:
        if watchdog.fired:  # the watchdog cut the socket: say why, not "server disconnected"
            raise FetchError(late) from None
        raise
    finally:
        watchdog.cancel()
    if watchdog.fired:  # a body delimited by the connection's end looks complete when the socket is cut
        raise FetchError(late)
    return result


class _Watchdog:
    """Cuts the request's sockets when the total deadline passes, wherever the request is.

    httpx has timeouts per read, not per request: a server that trickles its *headers* a byte a second was
    never cut by the body-loop check below, and held a fetch (and the cycle) for as long as it liked. The
    connection's socket is caught from httpcore's trace events and shut down by a timer; the blocked read then
    fails at once.
    """

    def __init__(self, budget: float) -> None:
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(budget, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: dict) -> None:
        if event == "connection.connect_tcp.complete":
            sock = info["return_value"].get_extra_info("socket")
            if sock is not None:
                with self._lock:
                    self._sockets.append(sock)
                    fired = self.fired
                if fired:
                    self._shutdown(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed: the request ended on its own

    def cancel(self) -> None:
        self._timer.cancel()


def _get(client: httpx.Client, url: str, headers: dict[str, str], settings: HTTPSettings, started: float,
         deadline: float, watchdog: "_Watchdog") -> FetchResult:
    try:
        with client.stream("GET", url, headers=headers, extensions={"trace": watchdog.trace}) as response:
            if response.status_code == 304:
                return _result(response, None, started)
            if response.status_code >= 400:
                raise _status_error(response)
            body = _read_capped(response, settings.max_bytes, deadline, deadline - started)
            return _result(response, body, started)
    except httpx.TooManyRedirects:
        raise FetchError(f"too many redirects (more than {settings.max_redirects})") from None
    except httpx.ConnectTimeout:
        raise FetchError(f"connection timed out after {settings.timeout:g}s") from None
    except httpx.ReadTimeout:
        raise FetchError(f"server stopped sending for {settings.timeout:g}s") from None
    except httpx.ConnectError as exc:
        raise FetchError(f"cannot connect: {_reason(exc)}") from None
    except httpx.DecodingError as exc:
        raise FetchError(f"the body could not be decompressed: {_reason(exc)}") from None
    except httpx.UnsupportedProtocol:
        raise FetchError("unsupported URL scheme (only http and https)") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {_reason(exc)}") from None


def _read_capped(response: httpx.Response, max_bytes: int, deadline: float, budget: float) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and "Content-Encoding" not in response.headers \
            and int(declared) > max_bytes:
        raise BodyTooLargeError(f"body of {int(declared):,} bytes is over the {max_bytes:,}-byte limit")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLargeError(f"body passed the {max_bytes:,}-byte limit (after decompression)")
        if time.monotonic() > deadline:
            raise FetchError(f"body still arriving when the {budget:.0f}s deadline passed; gave up")
        chunks.append(chunk)
    return b"".join(chunks)


def _result(response: httpx.Response, body: bytes | None, started: float) -> FetchResult:
    return FetchResult(
        url=str(response.url), status=response.status_code, body=body,
        content_type=response.headers.get("Content-Type"), etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"), elapsed=time.monotonic() - started,
        max_age=cache_max_age(response.headers.get("Cache-Control")))


def cache_max_age(value: str | None) -> float | None:
    """max-age of a Cache-Control header in seconds (None when absent or unreadable): how long the feed
    says its copy stays fresh, so the daemon does not ask again sooner."""
    for part in (value or "").split(","):
        name, _, number = part.strip().partition("=")
        if name.strip().lower() == "max-age" and number.strip().strip('"').isdigit():
            return float(number.strip().strip('"'))
    return None


def _status_error(response: httpx.Response) -> HTTPStatusError:
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    phrase = response.reason_phrase or httpx.codes.get_reason_phrase(status)
    message = f"HTTP {status} {phrase}".rstrip()
    if status == 404:
        message += " (the feed URL no longer exists?)"
    elif status == 410:
        message += " (the server says the feed is gone for good)"
    if retry_after is not None:
        message += f"; server asked to wait {retry_after:.0f}s"
    return HTTPStatusError(message, status=status, retry_after=retry_after)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), capped at a day."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    delta = (when - (now or datetime.now(timezone.utc))).total_seconds()
    return min(max(delta, 0.0), MAX_RETRY_AFTER)


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
