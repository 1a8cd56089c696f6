"""`monitor run --serve`: the daemon polls and serves the pages in one process (real CLI subprocess, real HTTP
GETs on 127.0.0.1), the pages show what it stored, /healthz follows its cycles, and SIGTERM stops both."""

from __future__ import annotations

import signal

import httpx
import yaml

from test_daemon import SHIPPED_WATCH, db_rows, fixture_feeds, item_count, start, wait_for, write_config  # noqa: F401 (fixture)
from test_web import free_port, item_ids


def get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=5)
    except httpx.TransportError:
        return None


def test_run_serve_polls_and_serves_then_stops_on_sigterm(tmp_path, feed_server, start):  # noqa: F811
    config = write_config(tmp_path, fixture_feeds(feed_server), SHIPPED_WATCH)
    port = free_port()
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["serve"] = {"port": port}
    config.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    base = f"http://127.0.0.1:{port}"
    daemon = start(config, "--serve")
    wait_for(lambda: item_count(config) == 14, what="the first poll's 14 items", daemon=daemon)
    health = wait_for(lambda: (r := get(base + "/healthz")) is not None and r.status_code == 200 and r,
                      what="/healthz 200 after the first cycle", daemon=daemon)
    assert "last cycle" in health.text
    page = get(base + "/?since=2000-01-01")
    assert page is not None and page.status_code == 200 and 'dir="rtl"' in page.text
    flagged = db_rows(config, "SELECT DISTINCT item_id FROM matches m JOIN items i ON i.id = m.item_id"
                              " WHERE i.status = 'new'")
    assert flagged and sorted(item_ids(page.text)) == sorted(r[0] for r in flagged)  # what the daemon stored
    assert "monitor_items_flagged" in get(base + "/metrics").text
    assert daemon.stop(signal.SIGTERM) == 0
    assert get(base + "/healthz") is None  # the pages went with the daemon
    assert "serving the web page on" in daemon.log() and "daemon stopped" in daemon.log()
