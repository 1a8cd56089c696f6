"""Alerts through `monitor run` as a subprocess: loopback feeds, a json:// receiver on 127.0.0.1, the real daemon
stopped with signals as systemd would (SIGKILL included). Waits poll with generous deadlines; the one bound
asserted is the issue's own (an alert within 5 s of its item's commit)."""

from __future__ import annotations

import re
import shutil
import signal
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monitor.feedserver import FeedServer

from conftest import FEEDS, run_cli, run_json
from notify_receivers import JSONReceiver
from test_daemon import db_rows, item_count, start, wait_for  # noqa: F401 (start is a fixture)
from test_notify import SECRET, outbox, receiver, write_config  # noqa: F401 - receiver is a fixture

ITEM = re.compile(r"<item>.*?</item>", re.S)


@pytest.fixture
def feeds_dir(tmp_path):
    folder = tmp_path / "feeds"
    folder.mkdir()
    for name in ("mehr.xml", "tasnim.xml", "isna.atom", "abna-1256.xml"):
        shutil.copy(FEEDS / name, folder / name)
    with FeedServer(folder) as server:
        yield folder, server


def _feeds(server, names=("mehr.xml", "tasnim.xml", "isna.atom", "abna-1256.xml")) -> dict[str, str]:
    return {Path(n).stem: server.url(n) for n in names}


def _copies_of_tasnim() -> str:
    """A feed that carries tasnim's two flagged stories again: one syndicated (another link and guid, the
    agency's header in front), one with the same link."""
    text = (FEEDS / "tasnim.xml").read_text(encoding="utf-8")
    first, second = ITEM.findall(text)[:2]
    first = re.sub(r"<link>.*?</link>", "<link>https://copies.example.org/news/1</link>", first, flags=re.S)
    first = first.replace("<description>", "<description>به گزارش خبرگزاری نمونه، ", 1)
    return text.replace(ITEM.findall(text)[0], first).replace(ITEM.findall(text)[1], second)


def test_each_flagged_item_alerts_once_within_5s_and_copies_alert_nothing(tmp_path, feeds_dir, receiver, start):
    folder, server = feeds_dir
    (folder / "copies.xml").write_text((FEEDS / "tasnim.xml").read_text(encoding="utf-8").split("<item>")[0]
                                       + "</channel></rss>", encoding="utf-8")
    config = write_config(tmp_path, {**_feeds(server), "copies": server.url("copies.xml")},
                          [{"name": "desk", "url": receiver.json_url()}])
    daemon = start(config)
    wait_for(lambda: len(receiver.received) >= 6, timeout=30, what="six alerts", daemon=daemon)
    time.sleep(1.5)
    rows = {r["id"]: r for r in outbox(config)}
    assert len(rows) == 6 and sorted(map(int, receiver.ids())) == sorted(rows)  # each once
    for at, body in receiver.received:
        row = rows[int(body["message"].rsplit("id ", 1)[1])]
        queued = datetime.fromisoformat(row["created_at"]).timestamp()
        assert 0 <= at - queued <= 5, (at - queued, row)

    beside = run_cli("poll", "--config", str(config))  # a poll beside the daemon sends nothing itself
    assert beside.returncode == 0 and f"alerts: left to the running daemon (pid {daemon.proc.pid})" in beside.stdout

    # The stories again, from another feed: a syndicated copy and the same link. Stored as duplicates; no alert.
    (folder / "copies.xml").write_text(_copies_of_tasnim(), encoding="utf-8")
    wait_for(lambda: item_count(config) == 16, timeout=20, what="the copies stored", daemon=daemon)
    time.sleep(3)
    assert db_rows(config, "SELECT status FROM items WHERE feed = 'copies'") == [("duplicate",), ("duplicate",)]
    assert len(receiver.received) == 6 and len(outbox(config)) == 6
    assert daemon.stop() == 0
    assert "Traceback" not in daemon.log()


def test_a_failing_receiver_is_retried_while_polling_goes_on_and_no_secret_leaks(
        tmp_path, feeds_dir, receiver, start, monkeypatch):
    _, server = feeds_dir
    monkeypatch.setenv("MONITOR_TEST_TOKEN", SECRET)  # the daemon's environment
    receiver.fail = 2
    url = receiver.json_url().replace("://", "://user:${MONITOR_TEST_TOKEN}@", 1)
    config = write_config(tmp_path, _feeds(server), [{"name": "desk", "url": url}])
    daemon = start(config)
    wait_for(lambda: len(receiver.attempts) >= 1, timeout=30, what="the first try", daemon=daemon)
    polls = len(server.requests)

    def failing():
        proc = run_cli("status", "--config", str(config))
        return proc if "notify desk: failing, 6 pending" in proc.stdout else None

    status = wait_for(failing, timeout=10, what="status showing the failing destination", daemon=daemon)
    wait_for(lambda: len(receiver.received) == 6, timeout=40, what="all six alerts after the failures",
             daemon=daemon)
    assert len(server.requests) > polls + 4  # the feeds were polled on while the destination failed
    tries = sorted(r["attempts"] for r in outbox(config))
    assert tries[-1] == 3 and len(set(receiver.ids())) == 6  # 500, 500, then 200: the first alert, 3 tries
    assert status.returncode == 0 and SECRET not in status.stdout + status.stderr
    assert daemon.stop() == 0
    log = daemon.log()
    assert "notify desk: not sent" in log and "500" in log and SECRET not in log and "Traceback" not in log


def test_kill_9_between_commit_and_send_then_restart_the_alert_arrives(tmp_path, feeds_dir, receiver, start,
                                                                     request):
    """The receiver takes the first post and hangs: the item and its alert are committed and the send is in
    flight when the daemon is killed, while another destination gets all its alerts meanwhile. After the
    restart every alert arrives, none is received twice."""
    _, server = feeds_dir
    receiver.hang = 60
    other = JSONReceiver()
    request.addfinalizer(other.close)
    config = write_config(tmp_path, _feeds(server), [{"name": "desk", "url": receiver.json_url()},
                                                      {"name": "other", "url": other.json_url()}])
    daemon = start(config)
    wait_for(lambda: len(receiver.attempts) == 1, timeout=30, what="the send in flight", daemon=daemon)
    polls = len(server.requests)
    wait_for(lambda: len(server.requests) >= polls + 4, timeout=20, what="polls while the send hangs",
             daemon=daemon)
    # The other destination is not held up by the hanging one.
    wait_for(lambda: len(other.received) == 6, timeout=10, what="the other destination's alerts", daemon=daemon)
    assert len(receiver.attempts) == 1
    hung = re.search(r"id (\d+)$", receiver.attempts[0][1]["message"]).group(1)
    assert {r["id"]: r["status"] for r in outbox(config)}[int(hung)] == "pending"
    daemon.proc.send_signal(signal.SIGKILL)
    daemon.proc.wait()

    again = start(config)
    wait_for(lambda: len(receiver.received) == 6, timeout=30, what="every alert after the restart", daemon=again)
    time.sleep(1.5)
    desk = [r for r in outbox(config) if r["destination"] == "desk"]
    assert sorted(receiver.ids()) == sorted(str(r["id"]) for r in desk) and hung in receiver.ids()
    assert len(receiver.received) == 6 and all(r["status"] == "sent" for r in outbox(config))
    assert len(other.received) == 6  # nothing sent twice to the destination whose sends had all finished
    assert again.stop() == 0


def test_quiet_hours_in_the_daemon_hold_alerts_until_they_end(tmp_path, feeds_dir, receiver, start):
    """Quiet until 20 s from now (Tehran time, to the second): nothing is sent before it, everything soon after."""
    from monitor.dates import TEHRAN, now_utc

    local = now_utc().astimezone(TEHRAN).replace(microsecond=0)
    ends = local + timedelta(seconds=20)
    quiet = f"{local - timedelta(minutes=1):%H:%M:%S}-{ends:%H:%M:%S}"
    _, server = feeds_dir
    config = write_config(tmp_path, _feeds(server), [{"name": "desk", "url": receiver.json_url(), "quiet": quiet}])
    daemon = start(config)
    wait_for(lambda: len(outbox(config)) == 6, timeout=20, what="six alerts queued", daemon=daemon)
    while now_utc() < ends - timedelta(seconds=1):
        assert receiver.attempts == [], "an alert was sent during quiet hours"
        time.sleep(0.2)
    wait_for(lambda: len(receiver.received) == 6, timeout=15, what="the held alerts", daemon=daemon)
    assert all(at >= ends.timestamp() for at, _ in receiver.received)
    assert daemon.stop() == 0


def test_a_token_written_in_the_url_itself_stays_out_of_the_daemons_log(tmp_path, feeds_dir, start):
    _, server = feeds_dir
    token = "123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ"
    # A watch list that matches nothing: no alert is ever queued, so nothing is sent off this machine.
    nothing = [{"name": "Nothing", "kind": "other", "terms": ["واژه‌ای-که-در-هیچ-خبری-نیست"]}]
    config = write_config(tmp_path, _feeds(server, ("mehr.xml",)), [{"name": "tg", "url": f"tgram://{token}/-100200"}],
                          watch=nothing)
    daemon = start(config)
    wait_for(lambda: "notify: sending to tg (tgram://" in daemon.log(), timeout=20, what="the start line",
             daemon=daemon)
    wait_for(lambda: item_count(config) == 5, timeout=20, what="mehr polled", daemon=daemon)
    assert daemon.stop() == 0
    assert db_rows(config, "SELECT count(*) FROM outbox") == [(0,)]
    assert token not in daemon.log() and token.split(":")[1] not in daemon.log()
