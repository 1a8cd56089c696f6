"""fetch: timeouts, caps, conditional requests, error messages. Real loopback servers; MockTransport for
narrow header cases."""

import gzip
import time

import httpx
import pytest
from werkzeug import Response

from monitor.errors import BodyTooLargeError, FetchError, HTTPStatusError
from monitor.fetch import fetch, make_client, parse_retry_after
from monitor.models import HTTPSettings

SETTINGS = HTTPSettings(timeout=2, max_bytes=10_000, user_agent="monitor-test/1", concurrency=2, max_redirects=3)


def get(url, settings=SETTINGS, **kw):
    with make_client(settings) as client:
        return fetch(client, url, settings, **kw)


def test_ok_sends_user_agent_and_returns_validators(httpserver):
    httpserver.expect_request("/rss", headers={"User-Agent": "monitor-test/1"}).respond_with_data(
        "<rss/>", content_type="application/rss+xml", headers={"ETag": '"abc"', "Last-Modified": "x"})
    result = get(httpserver.url_for("/rss"))
    assert result.status == 200 and result.body == b"<rss/>"
    assert result.etag == '"abc"' and result.last_modified == "x"
    assert result.content_type == "application/rss+xml"


def test_conditional_request_gets_304(httpserver):
    httpserver.expect_request("/rss", headers={"If-None-Match": '"abc"'}).respond_with_data("", status=304)
    result = get(httpserver.url_for("/rss"), etag='"abc"')
    assert result.status == 304 and result.body is None


@pytest.mark.parametrize("status, words", [(404, "404"), (410, "gone"), (500, "500")])
def test_status_errors_are_readable(httpserver, status, words):
    httpserver.expect_request("/rss").respond_with_data("no", status=status)
    with pytest.raises(HTTPStatusError) as err:
        get(httpserver.url_for("/rss"))
    assert err.value.status == status and words in str(err.value)


def test_retry_after_is_carried(httpserver):
    httpserver.expect_request("/rss").respond_with_data("slow down", status=429, headers={"Retry-After": "120"})
    with pytest.raises(HTTPStatusError) as err:
        get(httpserver.url_for("/rss"))
    assert err.value.retry_after == 120 and "120s" in str(err.value)


def test_body_cap(httpserver):
    httpserver.expect_request("/big").respond_with_data(b"x" * 50_000)
    with pytest.raises(BodyTooLargeError):
        get(httpserver.url_for("/big"))


def test_body_cap_holds_after_gzip(httpserver):
    bomb = gzip.compress(b"\0" * 5_000_000)
    assert len(bomb) < SETTINGS.max_bytes
    httpserver.expect_request("/bomb").respond_with_data(bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(BodyTooLargeError):
        get(httpserver.url_for("/bomb"))


def test_redirect_loop(httpserver):
    httpserver.expect_request("/a").respond_with_response(Response(status=302, headers={"Location": "/b"}))
    httpserver.expect_request("/b").respond_with_response(Response(status=302, headers={"Location": "/a"}))
    with pytest.raises(FetchError, match="redirects"):
        get(httpserver.url_for("/a"))


def test_trickling_server_hits_total_deadline(httpserver):
    def trickle(request):
        def body():
            for _ in range(100):
                time.sleep(0.5)
                yield b"x"
        return Response(body(), content_type="application/rss+xml")

    httpserver.expect_request("/slow").respond_with_handler(trickle)
    settings = HTTPSettings(timeout=1, max_bytes=10_000, user_agent="t", concurrency=1, max_redirects=3)
    started = time.monotonic()
    with pytest.raises(FetchError, match="deadline"):
        get(httpserver.url_for("/slow"), settings)
    assert time.monotonic() - started < 10


def test_connection_refused_is_readable():
    with pytest.raises(FetchError, match="cannot connect"):
        get("http://127.0.0.1:9/rss")


def test_mock_transport_passes_both_validators():
    seen = {}

    def handler(request):
        seen.update(request.headers)
        return httpx.Response(304)

    settings = SETTINGS
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        result = fetch(client, "http://feeds.test/rss", settings, etag='"e"', last_modified="Tue, 01 Jan 2025")
    assert result.body is None
    assert seen["if-none-match"] == '"e"' and seen["if-modified-since"] == "Tue, 01 Jan 2025"


def test_parse_retry_after_forms():
    from datetime import datetime, timezone
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    assert parse_retry_after("30", now) == 30
    assert parse_retry_after("999999", now) == 86_400
    assert parse_retry_after("Wed, 01 Jan 2025 00:10:00 GMT", now) == 600
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


# ------------------------------------------------------------------------------------------ the deadline
import socket  # noqa: E402
import threading  # noqa: E402


def _raw_server(send_a_byte_every: float, payload: bytes, limit_s: float = 8.0):
    """A loopback server that sends `payload` one byte at a time, for at most limit_s: headers that trickle,
    which no per-read timeout stops. Returns (url, thread)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve():
        listener.settimeout(limit_s)
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn, listener:
            conn.recv(4096)
            ends = time.monotonic() + limit_s
            for byte in payload:
                if time.monotonic() > ends:
                    break
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return  # the client gave up and closed: what the test wants
                time.sleep(send_a_byte_every)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{port}/rss", thread


def test_headers_a_byte_at_a_time_hit_the_total_deadline():
    url, thread = _raw_server(0.1, b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 200 + b"\r\n\r\n")
    settings = HTTPSettings(timeout=1, max_bytes=10_000, user_agent="t", concurrency=1, max_redirects=3)
    started = time.monotonic()
    with pytest.raises(FetchError, match="no complete response within the 3s deadline"):
        get(url, settings)
    assert 2.9 < time.monotonic() - started < 4.5
    thread.join(10)


def test_a_fetch_within_its_deadline_is_untouched_by_it(httpserver):
    httpserver.expect_request("/rss").respond_with_data("<rss/>", content_type="application/rss+xml")
    settings = HTTPSettings(timeout=1, max_bytes=10_000, user_agent="t", concurrency=1, max_redirects=3)
    with make_client(settings) as client:
        for _ in range(3):  # the deadline is each fetch's own, not the client's
            assert fetch(client, httpserver.url_for("/rss"), settings).body == b"<rss/>"
            time.sleep(0.2)


def test_unsupported_scheme_is_readable():
    with pytest.raises(FetchError, match="unsupported URL scheme"):
        get("ftp://127.0.0.1/rss")


def test_transport_maps_httpcore_errors_as_httpx_does():
    """The transport's own error map against httpx's (a private name: only this test may use it)."""
    import httpcore
    from httpx._transports.default import _load_httpcore_exceptions

    from monitor.fetch import _as_httpx

    request = httpx.Request("GET", "http://feeds.test/rss")
    for core_error, httpx_error in _load_httpcore_exceptions().items():
        assert type(_as_httpx(core_error("x"), request)) is httpx_error, core_error
    assert isinstance(_as_httpx(httpcore.ReadTimeout("x"), request), httpx.ReadTimeout)
