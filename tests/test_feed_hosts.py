"""Per-host politeness of FEED fetches (http.per_host, http.host_delay; issue 16): across the worker processes of
one `monitor poll`, and across two `monitor run` workers sharing a PostgreSQL database.

The server is real (loopback) and records when each request to each host started and ended; two host names on
loopback (127.0.0.1 and localhost) are two hosts to the monitor, one server to the test.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import yaml

from conftest import run_cli
from monitor.models import HTTPSettings
from monitor.turns import FeedTurns, interleave_hosts

SLACK = 0.1  # a request seen by the server starts after the gate let it in, later under load (2 shared cores)


class HostServer:
    """Answers /<name>.xml with a one-item RSS after `delay` seconds; `seen` holds (host, path, start, end)."""

    def __init__(self, delay: float) -> None:
        self.seen: list[tuple[str, str, float, float]] = []
        lock, owner = threading.Lock(), self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                started = time.monotonic()
                time.sleep(delay)
                name = self.path.strip("/").removesuffix(".xml")
                body = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{name}</title>'
                        f"<link>https://x.example/</link><description>d</description><item><title>t {name}</title>"
                        f"<link>https://x.example/{name}</link><guid>{name}</guid><description>متن {name}"
                        f"</description></item></channel></rss>").encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with lock:
                    owner.seen.append((self.headers["Host"].split(":")[0], self.path, started, time.monotonic()))

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, host: str, name: str) -> str:
        return f"http://{host}:{self.port}/{name}.xml"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def by_host(self, host: str) -> list[tuple[float, float]]:
        return sorted((s, e) for h, _, s, e in self.seen if h == host)


def most_in_flight(spans: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans], key=lambda x: (x[0], x[1]))
    now = most = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


def gaps(spans: list[tuple[float, float]]) -> list[float]:
    return [b[0] - a[0] for a, b in zip(spans, spans[1:])]


def config_for(tmp_path: Path, feeds: list[tuple[str, str]], **extra) -> Path:
    path = tmp_path / "config.yaml"
    raw = {"database": str(tmp_path / "m.db"), "corpus": [], "articles": {"full_text": "never"},
           "feeds": [{"name": n, "url": u} for n, u in feeds], **extra}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_hosts_take_turns_in_the_job_order():
    class F:
        def __init__(self, url: str) -> None:
            self.url = url
    feeds = [F(f"http://a.ir/{i}") for i in range(4)] + [F("http://b.ir/0"), F("https://c.ir/0"), F("http://b.ir/1")]
    assert [f.url for f in interleave_hosts(feeds)] == [
        "http://a.ir/0", "http://b.ir/0", "https://c.ir/0", "http://a.ir/1", "http://b.ir/1", "http://a.ir/2",
        "http://a.ir/3"]


def test_no_setting_starts_every_feed_at_once():
    turns = FeedTurns(object(), HTTPSettings())  # a gate never asked: it has no methods
    started = []
    turns.admit(type("J", (), {"url": "http://a.ir/x", "name": "x"})(), lambda attempt: attempt(), started.append,
                started.append)
    assert not turns.active and len(started) == 1 and callable(started[0])


def test_worker_processes_keep_the_bound_and_the_spacing_per_host(tmp_path):
    server = HostServer(delay=0.4)
    try:
        feeds = [(f"{h}{i}", server.url(host, f"{h}{i}")) for h, host in (("a", "127.0.0.1"), ("b", "localhost"))
                 for i in range(8)]
        config = config_for(tmp_path, feeds, http={"per_host": 2, "host_delay": 0.25, "concurrency": 8})
        proc = run_cli("poll", "-v", "--config", str(config), env={"MONITOR_WORKERS": "2"})
    finally:
        server.close()
    assert proc.returncode == 0 and "16 feeds (16 ok" in proc.stdout, proc.stdout + proc.stderr
    assert "worker processes" in proc.stderr, proc.stderr  # the poll did run workers
    for host in ("127.0.0.1", "localhost"):
        spans = server.by_host(host)
        assert len(spans) == 8
        assert most_in_flight(spans) == 2, (host, spans)  # the bound held, and was reached
        assert min(gaps(spans)) >= 0.25 - SLACK, (host, gaps(spans))
    # Neither host waited for the other's turns: localhost's first feed started before 127.0.0.1's last.
    assert server.by_host("localhost")[0][0] < server.by_host("127.0.0.1")[-1][0]


def test_a_turn_past_the_cycle_is_deferred_in_one_line_and_not_backed_off(tmp_path):
    server = HostServer(delay=0.0)
    try:
        feeds = [(f"a{i}", server.url("127.0.0.1", f"a{i}")) for i in range(4)] + [
            ("b0", server.url("localhost", "b0"))]
        config = config_for(tmp_path, feeds, http={"host_delay": "1s"},
                            schedule={"interval": 1.5, "jitter": 0})
        proc = run_cli("poll", "--config", str(config), env={"MONITOR_WORKERS": "0"})
        status = run_cli("feeds", "--config", str(config), "--format", "json")
    finally:
        server.close()
    assert "Traceback" not in proc.stderr, proc.stderr
    assert len(server.by_host("127.0.0.1")) == 2  # at 0s and 1s; the third turn (2s) is past the 1.5s cycle
    assert len(server.by_host("localhost")) == 1
    assert gaps(server.by_host("127.0.0.1"))[0] >= 1 - SLACK
    deferred = [line for line in proc.stderr.splitlines() if "deferred" in line]
    assert len(deferred) == 2 and all("127.0.0.1" in line for line in deferred), proc.stderr
    rows = {f["name"]: f for f in json.loads(status.stdout)["feeds"]}
    late = [r for r in rows.values() if r.get("last_error") and "deferred" in r["last_error"]]
    assert len(late) == 2 and all(r["consecutive_failures"] == 0 for r in late), late


def test_two_postgresql_workers_keep_the_spacing_between_them(tmp_path, pg_url):
    from test_daemon import Daemon

    server = HostServer(delay=0.0)
    feeds = [(f"f{i:02d}", server.url("127.0.0.1", f"f{i:02d}")) for i in range(10)]
    config = config_for(tmp_path, feeds, http={"host_delay": 0.3, "concurrency": 1},  # each claims 2 at a time
                        schedule={"interval": "1h", "jitter": 0, "lease": "30s"})
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    config.write_text(yaml.safe_dump({**raw, "database": pg_url}), encoding="utf-8")
    workers = [Daemon(config) for _ in range(2)]
    try:
        deadline = time.monotonic() + 12
        while time.monotonic() < deadline and len(server.seen) < 10:
            time.sleep(0.1)
        with psycopg.connect(pg_url, autocommit=True) as conn:
            slots = [r[0] for r in conn.execute("SELECT host FROM hosts")]
    finally:
        for worker in workers:
            worker.kill()
        server.close()
    spans = server.by_host("127.0.0.1")
    assert len(spans) == 10, [w.log()[-1500:] for w in workers]
    assert min(gaps(spans)) >= 0.3 - SLACK, gaps(spans)
    assert "feed:127.0.0.1" in slots, slots
    logs = [w.log() for w in workers]
    assert all(re.search(r"feed f\d\d: ok", log) for log in logs), [log[-1500:] for log in logs]  # both fetched
    assert not any("Traceback" in log for log in logs)
