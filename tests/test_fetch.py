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


# ------------------------------------------------------------------------------------------ one bad header
def _mock(handler, **kw):
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        return fetch(client, "http://feeds.test/rss", SETTINGS, **kw)


@pytest.mark.parametrize("bad", ['"caf\u00e9"', "Di, 18 M\u00e4r 2025", "a\r\nX-Injected: 1", "a\x00b", "x" * 5000,
                                 "\u200f\"rtl\""])
def test_a_stored_validator_that_is_not_ascii_safe_is_dropped_and_the_request_still_goes(bad):
    seen = []

    def handler(request):
        seen.append(dict(request.headers))
        return httpx.Response(200, content=b"<rss/>", headers={"ETag": '"fresh"'})

    result = _mock(handler, etag=bad, last_modified=bad)
    assert result.status == 200 and result.etag == '"fresh"'
    assert "if-none-match" not in seen[0] and "if-modified-since" not in seen[0]


def test_a_good_validator_beside_a_bad_one_is_still_sent():
    seen = {}

    def handler(request):
        seen.update(request.headers)
        return httpx.Response(304)

    result = _mock(handler, etag='"caf\u00e9"', last_modified="Tue, 01 Jan 2025 00:00:00 GMT")
    assert result.status == 304 and "if-none-match" not in seen
    assert seen["if-modified-since"] == "Tue, 01 Jan 2025 00:00:00 GMT"
    # A 304 confirms what was sent: those are the validators to keep, the bad one is not.
    assert result.etag is None and result.last_modified == "Tue, 01 Jan 2025 00:00:00 GMT"


@pytest.mark.parametrize("raw", [b'"caf\xe9"', b'"caf\xc3\xa9"', b"a\x01b", b"x" * 5000])
def test_a_received_validator_that_is_not_ascii_safe_is_not_kept(raw):
    def handler(request):
        return httpx.Response(200, content=b"<rss/>", headers=[(b"ETag", raw), (b"Last-Modified", raw)])

    result = _mock(handler)
    assert result.etag is None and result.last_modified is None


def test_304_to_a_request_without_validators_is_an_error():
    with pytest.raises(FetchError, match="^answered 304 Not Modified to a request without validators$"):
        _mock(lambda request: httpx.Response(304))
    with pytest.raises(FetchError, match="without validators"):  # the only validator it had was unusable
        _mock(lambda request: httpx.Response(304), etag='"caf\u00e9"')


@pytest.mark.parametrize("value", ["\u00b2", "\u0663\u0660", "\u0968", "1\u00b2", "\uff11\uff12", " ", "-5", "+5",
                                   "1_000", "1.5", "0x10", ""])
def test_header_numbers_are_ascii_digits_only(value):
    from monitor.fetch import cache_max_age

    assert parse_retry_after(value) is None
    assert cache_max_age(f"max-age={value}") is None
    assert cache_max_age(f'public, max-age="{value}"') is None


def test_header_numbers_in_ascii_digits_still_count():
    from monitor.fetch import cache_max_age

    assert parse_retry_after(" 120 ") == 120
    assert cache_max_age("public, max-age=600") == 600 and cache_max_age('max-age="60"') == 60
    assert parse_retry_after("9" * 400) == 86_400 and cache_max_age("max-age=" + "9" * 400) == 86_400


@pytest.mark.parametrize("value", ["Mon, 01 Jan 99999 00:00:00 GMT",
                                   "Mon, 32 Jan 2025 00:00:00 GMT", "Mon, 01 Jan 2025 99:00:00 GMT", "\u00b2\u00b2"])
def test_an_unreadable_retry_after_date_is_ignored(value):
    assert parse_retry_after(value) is None


@pytest.mark.parametrize("length", ["\u00b2", "\u0663", "1\u00b2", "-1", "9" * 400])
def test_a_content_length_in_other_digits_does_not_fail_the_fetch(length):
    def handler(request):
        return httpx.Response(200, content=b"<rss/>", headers=[(b"Content-Length", length.encode())])

    try:
        result = _mock(handler)
    except FetchError:
        return  # refused with a readable message (h11 or the cap), never an exception of another kind
    assert result.body == b"<rss/>"


# ------------------------------------------------------------------------------------------ keep-alive
def _two_answers_on_one_connection(second: bytes, trickle: float = 0.0):
    """A loopback server that accepts ONE connection and answers requests on it: a 200 with an ETag, then
    `second` (a byte every `trickle` seconds when set; else `second` again to every later request). Returns
    (url, requests seen on that connection)."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def serve():
        listener.settimeout(8)
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn, listener:
            conn.settimeout(8)
            try:
                seen.append(conn.recv(4096))
                conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 6\r\nETag: "v1"\r\n\r\n<rss/>')
                seen.append(conn.recv(4096))
                while not trickle and seen[-1]:
                    conn.sendall(second)
                    seen.append(conn.recv(4096))  # b"" once the client closes
                if not trickle:
                    return
                ends = time.monotonic() + 8
                for byte in second:
                    if time.monotonic() > ends:
                        break
                    conn.sendall(bytes([byte]))
                    time.sleep(trickle)
            except OSError:
                return

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/rss", seen


def test_a_conditional_get_reuses_the_kept_alive_connection():
    url, seen = _two_answers_on_one_connection(b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n')
    with make_client(SETTINGS) as client:
        statuses = [fetch(client, url, SETTINGS).status]
        statuses += [fetch(client, url, SETTINGS, etag='"v1"').status for _ in range(3)]
    assert statuses == [200, 304, 304, 304]  # a 304 read through leaves its connection for the next request
    assert len([r for r in seen if r]) == 4 and all(b'"v1"' in r for r in seen[1:] if r)


def test_a_kept_alive_connection_that_trickles_still_hits_the_total_deadline():
    url, seen = _two_answers_on_one_connection(b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n",
                                               trickle=0.1)
    settings = HTTPSettings(timeout=1, max_bytes=10_000, user_agent="t", concurrency=1, max_redirects=3)
    with make_client(settings) as client:
        assert fetch(client, url, settings).status == 200
        started = time.monotonic()
        with pytest.raises(FetchError, match="no complete response within the 3s deadline"):
            fetch(client, url, settings)
    assert 2.9 < time.monotonic() - started < 4.5
    assert len(seen) == 2 and seen[1]  # the slow answer came on the reused connection, not a new one
