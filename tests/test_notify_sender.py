"""The sender's timing and the messages' shape: quiet hours through `monitor poll`, digests with a clock the test
sets (a period is an hour or a day: no test waits that long), messages fitted to Telegram's limit and HTML
subset as Apprise's own Telegram plugin states them. Real store, real receivers on 127.0.0.1."""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.dates import TEHRAN, now_utc
from monitor.feedserver import FeedServer
from monitor.notify import message
from monitor.notify.service import load
from monitor.notify.timing import next_digest
from monitor.store import Store

from conftest import FEEDS, run_cli
from notify_receivers import JSONReceiver
from test_notify import MOTALEFEH, fixture_feeds, flagged, outbox, write_config


@pytest.fixture
def receiver():
    rx = JSONReceiver()
    yield rx
    rx.close()


def _quiet_around(now: datetime, start: int, end: int) -> str:
    local = now.astimezone(TEHRAN)
    return f"{(local + timedelta(minutes=start)):%H:%M}-{(local + timedelta(minutes=end)):%H:%M}"


def test_quiet_hours_hold_alerts_then_they_are_sent(tmp_path, feed_server, receiver):
    now = now_utc()
    quiet = _quiet_around(now, -2, 3)  # Tehran time, around now
    config = write_config(tmp_path, fixture_feeds(feed_server), [{"name": "desk", "url": receiver.json_url(),
                                                                   "quiet": quiet}])
    held = run_cli("poll", "--config", str(config))
    assert held.returncode == 0 and "alerts: 0 sent, 0 not sent; held: desk" in held.stdout, held.stdout
    assert receiver.attempts == [] and len([r for r in outbox(config) if r["status"] == "pending"]) == 6

    # The same rows, with the clock past the quiet period's end: sent, each once.
    cfg = load_config(config)
    store = Store.open(cfg.database)
    try:
        from monitor.notify.sender import Sender

        assert Sender(store, cfg, clock=lambda: now).drain().held == ["desk"]
        done = Sender(store, cfg, clock=lambda: now + timedelta(minutes=4)).drain()
    finally:
        store.close()
    assert (done.sent, done.failed, done.held) == (6, 0, [])
    assert len(receiver.received) == 6 and len(set(receiver.ids())) == 6


def test_a_digest_is_sent_once_per_period_with_the_items_of_that_period(tmp_path, receiver):
    from monitor.notify.sender import Sender

    feeds_dir = tmp_path / "feeds"
    feeds_dir.mkdir()
    for name in ("mehr.xml", "tasnim.xml", "isna.atom"):
        shutil.copy(FEEDS / name, feeds_dir / name)
    with FeedServer(feeds_dir) as server:
        notify = [{"name": "daily", "url": receiver.json_url(), "mode": "digest", "every": "hour"}]
        first = write_config(tmp_path, {"mehr": server.url("mehr.xml"), "isna": server.url("isna.atom")}, notify)
        assert run_cli("poll", "--config", str(first)).returncode == 0  # the period starts now
        assert receiver.attempts == []
        cfg = load_config(first)
        t1 = next_digest(cfg.notify[0], now_utc()) + timedelta(minutes=1)
        store = Store.open(cfg.database)
        try:
            done = Sender(store, cfg, clock=lambda: t1).drain()
            again = Sender(store, cfg, clock=lambda: t1 + timedelta(minutes=5)).drain()  # the same period
        finally:
            store.close()
        assert (done.sent, again.sent) == (len(outbox(first)), 0) and len(receiver.received) == 1
        period1 = {r["item_id"] for r in outbox(first)}

        # The next period holds what was queued since: tasnim's items, and only those (a feed of copies of
        # them is polled too: they alert nothing, and the digest says the story was also carried there).
        from test_notify_daemon import _copies_of_tasnim

        (feeds_dir / "copies.xml").write_text(_copies_of_tasnim(), encoding="utf-8")
        second = write_config(tmp_path, {"mehr": server.url("mehr.xml"), "isna": server.url("isna.atom"),
                                         "tasnim": server.url("tasnim.xml"), "copies": server.url("copies.xml")},
                              notify)
        for feed in ("tasnim", "copies"):  # tasnim first: the copies are then its duplicates
            assert run_cli("poll", "--config", str(second), "--feed", feed).returncode == 0
        store = Store.open(cfg.database)
        try:
            t2 = next_digest(cfg.notify[0], t1) + timedelta(minutes=1)
            done2 = Sender(store, cfg, clock=lambda: t2).drain()
            t3 = next_digest(cfg.notify[0], t2) + timedelta(minutes=1)
            done3 = Sender(store, cfg, clock=lambda: t3).drain()  # nothing queued: no empty digest
        finally:
            store.close()
        rows = outbox(second)
        period2 = {r["item_id"] for r in rows} - period1
        assert period2 and {it for it, i in flagged(second).items() if i["feed"] == "tasnim"} == period2
        assert (done2.sent, done3.sent) == (len(period2), 0) and len(receiver.received) == 2

    items = flagged(second)
    for (_, body), ids in zip(receiver.received, (period1, period2)):
        text = body["message"]
        assert body["title"].startswith(f"{len(ids)} flagged item")
        assert text.splitlines()[-1].startswith("id digest daily ")
        for item_id in ids:  # every item of the period, and none of the other's
            assert f"\u2068{items[item_id]['feed']}\u2069" in text
        # "also carried by N feeds": the story's other feeds, as `monitor report` counts them (carried_by).
        for i in ids:  # each line of an item (one per watch entry it matched) says it
            others = (items[i]["carried_by"] or 1) - 1
            lines = [line for line in text.splitlines() if items[i]["link"] in line]
            assert lines and all(("also carried by" in line) == bool(others) for line in lines)
            assert all(f"also carried by {others} feed" in line for line in lines if others)
        # Grouped by watch entry with counts, the largest group first.
        counts = [int(n) for n in re.findall(r"^■ \u2068[^\u2069]+\u2069 \((\d+)\)$", text, re.M)]
        assert counts and counts == sorted(counts, reverse=True)
        expected = sum(1 for i in ids if any(m["watch"] == MOTALEFEH for m in items[i]["matches"]))
        assert (f"■ \u2068{MOTALEFEH}\u2069 ({expected})" in text) == bool(expected)
    assert "also carried by 1 feed" in receiver.received[1][1]["message"]  # tasnim's stories, and the copies


def _telegram():
    from monitor.models import NotifySpec

    # Apprise's own Telegram plugin says what fits: nothing is sent here.
    return load(NotifySpec(name="tg", url="tgram://123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ/-100200300"))


def test_an_alert_fits_telegram_and_its_html_subset_with_feed_text_escaped():
    service = _telegram()
    assert service.html and service.max_body == 4096
    row = {"feed": "mehr", "title": "<script>alert(1)</script> دیدار با G20 & «Putin»",
           "link": "https://example.org/a?b=1&c=<2>", "published": "2025-11-20T10:00:00+00:00"}
    matches = [{"watch": f"Entry {i}", "count": 2, "snippet": "پوتین " * 2000} for i in range(3)]
    msg = message.alert(row, matches, html_mode=True, max_len=service.max_body, ref="42")
    assert len(msg.title) + len(msg.body) + 10 <= 4096  # Apprise puts the title in the body: <b>…</b><br />
    tags = set(re.findall(r"</?([a-z]+)", msg.body))
    assert tags <= {"b", "i", "a", "br"} and "<script>" not in msg.body  # the title is text (escaped when sent)
    assert 'href="https://example.org/a?b=1&amp;c=&lt;2&gt;"' in msg.body
    assert all(f"<b>\u2068Entry {i}\u2069</b> ×2" in msg.body for i in range(3))
    assert "۲۹ آبان ۱۴۰۴" in msg.body and msg.body.endswith("id 42")


def test_a_long_digest_fits_telegram_and_says_how_many_it_left_out():
    service = _telegram()
    rows = [{"feed": f"feed{i % 7}", "title": f"خبر شماره {i} درباره حزب موتلفه", "link": f"https://ex.org/{i}",
             "published": f"2025-11-{1 + i % 28:02d}T08:00:00+00:00", "also_carried_by": i % 3,
             "matches": [{"watch": MOTALEFEH, "kind": "party", "count": 1, "snippet": "…"}]} for i in range(500)]
    msg = message.digest(rows, lambda r: r["matches"], html_mode=True, max_len=service.max_body,
                         ref="digest desk x", period="day at 08:00")
    assert len(msg.title) + len(msg.body) + 2 <= 4096
    left = int(re.search(r"… and (\d+) more", msg.body).group(1))
    shown = msg.body.count("\n• ")
    assert shown > 10 and shown + left == 500 and "also carried by 2 feeds" in msg.body
    dates = re.findall(r"· ([۰-۹]+ \S+ [۰-۹]+)", msg.body)
    assert dates[0] == "۷ آذر ۱۴۰۴"  # newest first: 2025-11-28 is 7 Azar 1404
