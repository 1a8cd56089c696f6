"""HTTP only: one polite GET per feed. Never parses, never touches the database.

Manners borrowed from Miniflux: a connect/read timeout *and* a total deadline (a server trickling a byte a second
must not hold the cycle), a body cap that holds after gzip/deflate/brotli decoding (a gzip bomb stops at the cap),
a bounded number of redirects, and conditional requests with the validators the last successful poll saved.
"""

from __future__ import annotations

import re
import time
from contextvars import ContextVar
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from typing import Any, Iterator

import httpcore
import httpx

from monitor.errors import BodyTooLargeError, FetchError, HTTPStatusError
from monitor.models import FetchResult, HTTPSettings

ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
MAX_RETRY_AFTER = 86_400.0  # a server may ask for a day's pause, not more
KEEPALIVE_SECONDS = 15.0  # an idle kept-alive connection is closed after this (servers commonly allow 5-75 s)
MAX_VALIDATOR = 1024  # characters: a longer ETag or Last-Modified is not kept (a server may refuse to read it back)
NO_VALIDATOR_304 = "answered 304 Not Modified to a request without validators"
_HEADER_SAFE = re.compile(r"[\x20-\x7e]+")  # visible ASCII and space: what every HTTP stack sends back unchanged
_ASCII_NUMBER = re.compile(r"[0-9]+")  # str.isdigit() also takes ², and int() takes ٣: neither is a header number


def make_client(settings: HTTPSettings, connections: int | None = None, *, keepalive: bool = True) -> httpx.Client:
    """One client for a whole cycle: connection pooling, HTTP manners and limits in one place. `connections`
    sizes the pool (default: twice http.concurrency, at least 4); `keepalive=False` opens a connection per
    request (bench/fetch.py compares the two)."""
    timeout = httpx.Timeout(settings.timeout, connect=min(settings.timeout, 10.0))
    # Connections are kept alive, per host (httpcore pools by origin): a cycle asks most hosts for several feeds
    # and pages, and a new TCP connection per request was most of a conditional GET's CPU (bench/fetch.py).
    # The deadline does not depend on it: it bounds every network call of whichever connection a request uses,
    # and a response cut short by it closes its connection (httpcore never reuses a half-read one).
    size = connections or max(settings.concurrency * 2, 4)
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size if keepalive else 0,
                          keepalive_expiry=KEEPALIVE_SECONDS)
    return httpx.Client(
        transport=_DeadlineTransport(limits), timeout=timeout, follow_redirects=True,
        max_redirects=settings.max_redirects, headers={"User-Agent": settings.user_agent, "Accept": ACCEPT},
        trust_env=False)


def fetch(client: httpx.Client, url: str, settings: HTTPSettings, *, etag: str | None = None,
          last_modified: str | None = None, deadline: float | None = None, accept: str | None = None) -> FetchResult:
    """GET url. Raises FetchError (or a subclass) with a message a person understands.

    A stored validator that is not header-safe (usable_validator) is left out rather than sent: the request
    still goes, so a feed that once sent a bad one is not stuck failing while its request is being built.
    `deadline` (time.monotonic) ends the fetch earlier than its own total budget (an article page within its
    cycle's deadline); `accept` replaces the feed Accept header (pages ask for HTML)."""
    headers = {"Accept": accept} if accept else {}
    etag, last_modified = usable_validator(etag), usable_validator(last_modified)
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    started = time.monotonic()
    deadline = min(started + settings.timeout * 3, deadline or float("inf"))  # total: connect + headers + body
    late = f"no complete response within the {deadline - started:.0f}s deadline; gave up"
    token = _DEADLINE.set(deadline)
    try:
        return _get(client, url, headers, settings, started)
    except FetchError as exc:
        if type(exc) is FetchError and time.monotonic() >= deadline:  # a call cut short by the deadline: say why
            raise FetchError(late) from None
        raise
    finally:
        _DEADLINE.reset(token)


# ------------------------------------------------------------------------------------------ the deadline
# httpx has timeouts per network call, not per request: a server that trickles its headers a byte a second
# would hold a fetch (and the cycle) for as long as it liked. So every call on a connection (connect, TLS,
# each read and write) gets at most the time left before the fetch's deadline, and none starts after it.
# Built only on documented public API: httpcore's network backend interface (NetworkBackend, NetworkStream,
# SyncBackend, ConnectionPool(network_backend=...); https://www.encode.io/httpcore/network-backends/) and
# httpx's custom transports (BaseTransport; https://www.python-httpx.org/advanced/transports/).
# The deadline travels in a context variable: a sync request runs its network calls in the calling thread.
_DEADLINE: ContextVar[float | None] = ContextVar("monitor_fetch_deadline", default=None)


def _bounded(timeout: float | None) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.TimeoutException("the fetch's deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, _bounded(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._backend.connect_tcp(host, port, _bounded(timeout), local_address,
                                                         socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


# httpcore's errors as httpx's, the most specific first match along the error's class hierarchy.
_ERRORS: dict[type[Exception], type[httpx.TransportError]] = {
    httpcore.ConnectTimeout: httpx.ConnectTimeout, httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout, httpcore.PoolTimeout: httpx.PoolTimeout,
    httpcore.TimeoutException: httpx.TimeoutException, httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError, httpcore.WriteError: httpx.WriteError,
    httpcore.NetworkError: httpx.NetworkError, httpcore.ProxyError: httpx.ProxyError,
    httpcore.UnsupportedProtocol: httpx.UnsupportedProtocol,
    httpcore.LocalProtocolError: httpx.LocalProtocolError, httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
    httpcore.ProtocolError: httpx.ProtocolError,
}


_CORE_ERRORS = tuple(_ERRORS)


def _as_httpx(exc: Exception, request: httpx.Request) -> Exception:
    for kind in type(exc).__mro__:
        if kind in _ERRORS:
            return _ERRORS[kind](str(exc), request=request)
    return exc


class _Body(httpx.SyncByteStream):
    def __init__(self, stream: Any, request: httpx.Request) -> None:
        self._stream, self._request = stream, request

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._stream
        except _CORE_ERRORS as exc:
            raise _as_httpx(exc, self._request) from exc

    def close(self) -> None:
        if hasattr(self._stream, "close"):
            self._stream.close()


class _DeadlineTransport(httpx.BaseTransport):
    """httpx's default HTTP/1.1 transport, over a pool whose connections keep the deadline."""

    def __init__(self, limits: httpx.Limits) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False), max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            network_backend=_DeadlineBackend())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host, port=request.url.port,
                             target=request.url.raw_path),
            headers=request.headers.raw, content=request.stream, extensions=request.extensions)
        try:
            response = self._pool.handle_request(core)
        except _CORE_ERRORS as exc:
            raise _as_httpx(exc, request) from exc
        return httpx.Response(status_code=response.status, headers=response.headers,
                              stream=_Body(response.stream, request), extensions=response.extensions)

    def close(self) -> None:
        self._pool.close()


def _get(client: httpx.Client, url: str, headers: dict[str, str], settings: HTTPSettings,
         started: float) -> FetchResult:
    try:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                if not headers.keys() & {"If-None-Match", "If-Modified-Since"}:  # a 304 would mean healthy forever
                    raise FetchError(NO_VALIDATOR_304)
                # Read to the end of the (empty) message: httpcore reuses only a connection whose response was
                # read through, and a warm poll is all 304s.
                _read_capped(response, settings.max_bytes)
                return _result(response, None, started, sent=headers)
            if response.status_code >= 400:
                raise _status_error(response)
            body = _read_capped(response, settings.max_bytes)
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


def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    declared = (response.headers.get("Content-Length") or "").strip()
    if _ASCII_NUMBER.fullmatch(declared) and "Content-Encoding" not in response.headers \
            and int(declared) > max_bytes:
        raise BodyTooLargeError(f"body of {int(declared):,} bytes is over the {max_bytes:,}-byte limit")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLargeError(f"body passed the {max_bytes:,}-byte limit (after decompression)")
        chunks.append(chunk)
    return b"".join(chunks)


def _result(response: httpx.Response, body: bytes | None, started: float,
            sent: dict[str, str] | None = None) -> FetchResult:
    """The response as a FetchResult. A 304 confirms the validators that were sent: they are its validators,
    unless it carries new ones (RFC 9110 lets a 304 update them), so the store keeps only what was usable."""
    sent = sent or {}
    etag = usable_validator(response.headers.get("ETag"))
    last_modified = usable_validator(response.headers.get("Last-Modified"))
    if body is None:
        etag = etag or sent.get("If-None-Match")
        last_modified = last_modified or sent.get("If-Modified-Since")
    return FetchResult(
        url=str(response.url), status=response.status_code, body=body,
        content_type=response.headers.get("Content-Type"), etag=etag,
        last_modified=last_modified, elapsed=time.monotonic() - started,
        max_age=cache_max_age(response.headers.get("Cache-Control")))


def usable_validator(value: str | None) -> str | None:
    """An ETag or Last-Modified as it may be stored and sent back, or None when it is not header-safe.

    Header values go out as ASCII: one that is not (a Latin-1 `"caf\xe9"`, a UTF-8 date, a control character, a
    CR LF that would start a second header) cannot be sent, and one longer than MAX_VALIDATOR may be refused by
    the server it came from. Such a value is dropped, never stored: the next poll is unconditional, not broken.
    """
    if not value:
        return None
    value = value.strip()
    if not value or len(value) > MAX_VALIDATOR or not _HEADER_SAFE.fullmatch(value):
        return None
    return value


def header_seconds(value: str | None) -> float | None:
    """A header's delta-seconds (ASCII digits only, RFC 9110's 1*DIGIT) capped at a day, or None."""
    value = (value or "").strip().strip('"').strip()
    if not _ASCII_NUMBER.fullmatch(value):
        return None
    return min(float(value), MAX_RETRY_AFTER)  # float("9" * 400) is inf, which the cap makes a day


def cache_max_age(value: str | None) -> float | None:
    """max-age of a Cache-Control header in seconds, capped at a day (None when absent or unreadable): how
    long the feed says its copy stays fresh, so the daemon does not ask again sooner."""
    for part in (value or "").split(","):
        name, _, number = part.strip().partition("=")
        if name.strip().lower() == "max-age":
            return header_seconds(number)
    return None


def _status_error(response: httpx.Response) -> HTTPStatusError:
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    # The server's own reason phrase, visible ASCII only: it is shown in terminals and stored as last_error, and
    # a phrase of escape sequences would otherwise reach both.
    phrase = "".join(c for c in response.reason_phrase or "" if " " <= c <= "~").strip()
    phrase = phrase or httpx.codes.get_reason_phrase(status)
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
    if not value or not value.strip():
        return None
    seconds = header_seconds(value)
    if seconds is not None or not value.isascii():
        return seconds
    try:
        when = parsedate_to_datetime(value.strip())
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        delta = (when - (now or datetime.now(timezone.utc))).total_seconds()
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    return min(max(delta, 0.0), MAX_RETRY_AFTER)


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
