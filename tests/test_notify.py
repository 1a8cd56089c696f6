"""Alerts through `monitor poll` and the commands, against real receivers on 127.0.0.1: Apprise's json:// posts
to an HTTP server, and mailto:// to a real SMTP server (aiosmtpd). The config's `notify:` section and its
errors, routing by watch entry and kind, what a message holds and how it fits its service."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml

from monitor.display import display

from conftest import FEEDS, REPO, SEEDS, run_cli, run_json
from notify_receivers import JSONReceiver, SMTPReceiver

SHIPPED_WATCH = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))["watch"]
MOTALEFEH = "Motalefeh Islamic Party"
SECRET = "s3cr3t-token-value"


def write_config(tmp_path: Path, feeds: dict[str, str], notify: list[dict], watch=None, **extra) -> Path:
    raw = {"database": "state/test.db", "corpus": [str(SEEDS)], "schedule": {"interval": "1s", "jitter": 0},
           "articles": {"full_text": "never"},  # the fixture feeds link to the outlets' real sites: loopback only
           "feeds": [{"name": n, "url": u} for n, u in feeds.items()], "watch": watch or SHIPPED_WATCH,
           "notify": notify, **extra}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def fixture_feeds(server) -> dict[str, str]:
    return {p.stem: server.url(p.name) for p in sorted(FEEDS.iterdir()) if p.suffix in (".xml", ".atom")}


def outbox(config: Path) -> list[dict]:
    return run_json("notify", "list", "--config", str(config), "--format", "json", "--limit", "1000")["outbox"]


def flagged(config: Path) -> dict[int, dict]:
    items = run_json("report", "--config", str(config), "--since", "2000-01-01", "--format", "json")["items"]
    return {it["id"]: it for it in items}


@pytest.fixture
def receiver():
    rx = JSONReceiver()
    yield rx
    rx.close()


@pytest.fixture
def smtp():
    rx = SMTPReceiver()
    yield rx
    rx.close()


# ------------------------------------------------------------------------------------------ config
def test_an_unset_variable_is_a_one_line_config_error_naming_file_line_and_key(tmp_path, receiver):
    config = write_config(tmp_path, {"a": "http://127.0.0.1:9/feed"},
                          [{"name": "desk", "url": "tgram://${MONITOR_TEST_UNSET_BOT}/123"}])
    proc = run_cli("poll", "--config", str(config), env={"MONITOR_TEST_UNSET_BOT": ""})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    line_no = next(i for i, text in enumerate(config.read_text().splitlines(), 1) if "MONITOR_TEST_UNSET_BOT" in text)
    assert len(lines) == 1 and f"config.yaml:{line_no}: notify[0].url: ${{MONITOR_TEST_UNSET_BOT}} is not set" \
        in lines[0], lines


@pytest.mark.parametrize("entry, key, fragment", [
    ({"name": "d", "url": "json://127.0.0.1:9/", "watch": ["Motalefe Islamic Party"]}, "notify[0].watch",
     'did you mean "Motalefeh Islamic Party"'),
    ({"name": "d", "url": "json://127.0.0.1:9/", "mode": "often"}, "notify[0].mode", "immediate, digest"),
    ({"name": "d", "url": "json://127.0.0.1:9/", "mode": "digest", "every": "fortnight"}, "notify[0].every",
     '"hour"'),
    ({"name": "d", "url": "json://127.0.0.1:9/", "quiet": "7-9"}, "notify[0].quiet", "HH:MM-HH:MM"),
    ({"name": "d", "url": "json://127.0.0.1:9/", "kind": ["celebrity"]}, "notify[0].kind[0]", "party"),
    ({"name": "d", "url": "not a url"}, "notify[0].url", "spaces"),
])
def test_bad_notify_entries_name_the_key(tmp_path, entry, key, fragment):
    from monitor.config import load_config
    from monitor.errors import ConfigError

    config = write_config(tmp_path, {"a": "http://127.0.0.1:9/feed"}, [entry])
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert f": {key}: " in str(err.value) and fragment in str(err.value), str(err.value)


def test_secrets_stay_out_of_the_configs_repr_and_shown_url(tmp_path, monkeypatch):
    from monitor.config import load_config

    monkeypatch.setenv("MONITOR_TEST_TOKEN", SECRET)
    config = write_config(tmp_path, {"a": "http://127.0.0.1:9/feed"}, [
        {"name": "desk", "url": "json://user:${MONITOR_TEST_TOKEN}@127.0.0.1:9/x", "mode": "digest",
         "every": "hour", "quiet": "23:30-07:00"},
        {"name": "mail", "url": "mailto://u:literal-pass@127.0.0.1:9?to=a@b.c"}], notify_backfill="2h")
    loaded = load_config(config)
    desk, mail = loaded.notify
    assert SECRET in desk.url and SECRET not in repr(loaded) and SECRET not in desk.shown
    assert desk.shown == "json://user:${MONITOR_TEST_TOKEN}@127.0.0.1:9/x"
    assert "literal-pass" not in mail.shown and "literal-pass" not in repr(loaded)
    assert (desk.hour, desk.minute, desk.quiet) == (None, 0, (23 * 3600 + 30 * 60, 7 * 3600))
    assert loaded.notify_backfill == 7200 and load_config(write_config(tmp_path, {"a": "http://127.0.0.1:9/f"},
                                                                        [])).notify_backfill == 86400
    seconds = load_config(write_config(tmp_path, {"a": "http://127.0.0.1:9/f"},
                                       [{"name": "d", "url": "json://127.0.0.1:9/", "quiet": "12:00:30-12:01:15"}]))
    assert seconds.notify[0].quiet == (12 * 3600 + 30, 12 * 3600 + 75)  # seconds are optional, and kept


# ------------------------------------------------------------------------------------------ poll and routing
def test_poll_sends_one_alert_per_flagged_item_routed_by_watch_and_kind_by_json_and_smtp(
        tmp_path, feed_server, receiver, smtp):
    party = JSONReceiver()
    try:
        config = write_config(tmp_path, fixture_feeds(feed_server), [
            {"name": "desk", "url": receiver.json_url()},
            {"name": "party", "url": party.json_url(), "watch": [MOTALEFEH]},
            {"name": "mail", "url": f"mailto://localhost:{smtp.port}?smtp=127.0.0.1&from=monitor@example.org"
                                    "&to=desk@example.org&mode=insecure", "kind": ["country"]}])  # Apprise spaces mails 5 s apart
        proc = run_cli("poll", "--config", str(config))
        assert proc.returncode == 0, proc.stderr
        items = flagged(config)
        rows = {r["id"]: r for r in outbox(config)}
        assert len(items) == 6 and all(r["status"] == "sent" for r in rows.values())
        assert "alerts: " in proc.stdout and f"{len(rows)} sent, 0 not sent" in proc.stdout

        def received(rx: JSONReceiver) -> list[int]:
            return [rows[int(ref)]["item_id"] for ref in rx.ids()]

        assert sorted(received(receiver)) == sorted(items)  # every flagged new item, once
        assert sorted(received(party)) == sorted(i for i, it in items.items()
                                                 if any(m["watch"] == MOTALEFEH for m in it["matches"]))
        figures = sorted(i for i, it in items.items() if any(m["kind"] == "country" for m in it["matches"]))
        assert figures and len(smtp.messages) == len(figures)
        mail_items = sorted(r["item_id"] for r in rows.values() if r["destination"] == "mail")
        assert mail_items == figures

        # What an alert holds: the title, the feed, the Tehran time as a Jalali date, each entry with its
        # snippet, the link, and its stable id; feed texts are bidi isolates.
        for _, body in receiver.received:
            ref = int(body["message"].rsplit("id ", 1)[1])
            item = items[rows[ref]["item_id"]]
            assert body["title"] == "\u2068" + display(item["title"]) + "\u2069"
            text = body["message"]
            assert f"\u2068{item['feed']}\u2069" in text and item["link"] in text
            assert item["published_jalali"][:4].translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in text
            for m in item["matches"]:
                assert f"\u2068{m['watch']}\u2069 ×{m['count']}" in text
        mail = smtp.messages[0]
        assert mail["To"] == "desk@example.org"
        assert "id " in mail.get_body(preferencelist=("plain",)).get_content()

        # A second poll: nothing new, nothing sent again.
        again = run_cli("poll", "--config", str(config))
        assert again.returncode == 0 and "alerts: 0 sent, 0 not sent" in again.stdout
        assert len(receiver.received) == 6 and len(smtp.messages) == len(figures)
    finally:
        party.close()


def test_notify_test_says_what_the_service_answered_and_never_shows_the_secret(tmp_path, receiver):
    config = write_config(tmp_path, {"a": "http://127.0.0.1:9/feed"}, [
        {"name": "desk", "url": receiver.json_url().replace("://", "://user:${MONITOR_TEST_TOKEN}@", 1)}])
    env = {"MONITOR_TEST_TOKEN": SECRET}
    ok = run_cli("notify", "test", "desk", "--config", str(config), env=env)
    assert ok.returncode == 0, ok.stderr
    assert "desk: sent: Sent JSON POST notification" in ok.stdout and SECRET not in ok.stdout + ok.stderr
    assert "user:****@" in ok.stdout and len(receiver.received) == 1

    receiver.fail = 1
    failed = run_cli("notify", "test", "desk", "--config", str(config), env=env)
    assert failed.returncode == 1 and "desk: failed: " in failed.stdout and "500" in failed.stdout
    assert SECRET not in failed.stdout + failed.stderr and "Traceback" not in failed.stderr

    unknown = run_cli("notify", "test", "nobody", "--config", str(config), env=env)
    assert unknown.returncode == 2 and "no notify destination named 'nobody'" in unknown.stderr
    assert "(destinations: desk)" in unknown.stderr


def test_a_failing_destination_is_retried_on_the_next_poll_and_status_shows_it_masked(
        tmp_path, feed_server, receiver):
    receiver.fail = 100
    config = write_config(tmp_path, fixture_feeds(feed_server), [
        {"name": "desk", "url": receiver.json_url().replace("://", "://user:${MONITOR_TEST_TOKEN}@", 1)}])
    env = {"MONITOR_TEST_TOKEN": SECRET}
    first = run_cli("poll", "--config", str(config), env=env)
    assert first.returncode == 0 and "alerts: 0 sent, 1 not sent; desk: " in first.stdout, first.stdout
    assert SECRET not in first.stdout + first.stderr
    status = run_cli("status", "--config", str(config), env=env)
    assert "notify desk: failing, 6 pending, 0 sent, 0 failed; last answer: " in status.stdout, status.stdout
    assert SECRET not in status.stdout + status.stderr
    data = json.loads(run_cli("status", "--config", str(config), "--format", "json", env=env).stdout)
    assert data["notify"][0]["destination"] == "desk" and data["notify"][0]["retrying"] == 1
    pending = run_cli("notify", "list", "--status", "pending", "--config", str(config), env=env)
    assert pending.stdout.count("pending") == 6 and SECRET not in pending.stdout

    receiver.fail = 0
    import time

    time.sleep(2.2)  # the destination's backoff after one failure (2 s), kept in the outbox across runs
    second = run_cli("poll", "--config", str(config), env=env)
    assert "alerts: 6 sent, 0 not sent" in second.stdout, second.stdout
    assert len(set(receiver.ids())) == 6 and len(receiver.received) == 6
    tries = {r["item_id"]: r["attempts"] for r in outbox(config)}
    assert sorted(tries.values()) == [1, 1, 1, 1, 1, 2]


def test_a_rematch_alerts_only_on_items_fetched_within_notify_backfill(tmp_path, feed_server, receiver):
    medvedev = "Dmitry Medvedev"
    watch = [w for w in SHIPPED_WATCH if w["name"] != medvedev]
    notify = [{"name": "desk", "url": receiver.json_url(), "kind": ["figure"]}]
    config = write_config(tmp_path, fixture_feeds(feed_server), notify, watch=watch)
    assert run_cli("poll", "--config", str(config)).returncode == 0
    before = {r["item_id"] for r in outbox(config)}
    # The stored items are three days old now; Medvedev is added to the watch list.
    db = sqlite3.connect(tmp_path / "state" / "test.db")
    with db:
        db.execute("UPDATE items SET fetched_at = datetime(fetched_at, '-3 days')")
    db.close()
    config = write_config(tmp_path, fixture_feeds(feed_server), notify, watch=SHIPPED_WATCH)
    assert run_cli("rematch", "--config", str(config)).returncode == 0
    assert {r["item_id"] for r in outbox(config)} == before  # old items gained a flag, and no alert

    # With a backfill that reaches them, a re-match after the next edit does alert on them, once.
    write_config(tmp_path, fixture_feeds(feed_server), notify, watch=watch)
    assert run_cli("rematch", "--config", str(config)).returncode == 0
    config = write_config(tmp_path, fixture_feeds(feed_server), notify, watch=SHIPPED_WATCH, notify_backfill="7d")
    assert run_cli("rematch", "--config", str(config)).returncode == 0
    rows = outbox(config)
    gained = sorted(r["item_id"] for r in rows if r["status"] == "pending")
    medvedev_items = {i for i, it in flagged(config).items() if any(m["watch"] == medvedev for m in it["matches"])}
    # One story per destination: a Medvedev item already alerted as a figure's is not queued again.
    assert gained and gained == sorted(medvedev_items - before) and len(rows) == len(before) + len(gained)


def test_status_and_notify_list_never_import_apprise(tmp_path, feed_server, receiver):
    """Apprise (and its 190 plugins) loads where a message is sent, never in the read commands."""
    import subprocess
    import sys

    config = write_config(tmp_path, fixture_feeds(feed_server), [{"name": "desk", "url": receiver.json_url()}])
    assert run_cli("poll", "--config", str(config)).returncode == 0
    for args in (("status",), ("notify", "list")):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "monitor", *args, "--config", str(config)],
                              capture_output=True, text=True, cwd=REPO)
        assert proc.returncode == 0, proc.stderr
        imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if "|" in line}
        assert "monitor" in imported and not imported & {"apprise", "hazm", "httpx", "apscheduler"}, args


def test_a_url_no_service_reads_and_a_removed_destination_fail_their_rows_without_blocking_others(
        tmp_path, feed_server, receiver):
    feeds = fixture_feeds(feed_server)
    config = write_config(tmp_path, feeds, [{"name": "bogus", "url": "nosuchservice://x/y"},
                                            {"name": "desk", "url": receiver.json_url(), "quiet": _quiet_now()}])
    proc = run_cli("poll", "--config", str(config))
    assert proc.returncode == 0 and "bogus: Apprise cannot read this URL" in proc.stdout, proc.stdout
    rows = outbox(config)
    assert {r["status"] for r in rows if r["destination"] == "bogus"} == {"failed"}
    status = run_cli("status", "--config", str(config)).stdout
    assert "notify bogus: failing, 0 pending, 0 sent, 6 failed; last answer: Apprise cannot read" in status
    assert "notify desk: ok, 6 pending" in status and receiver.attempts == []  # desk is in its quiet hours

    # desk leaves the config while its alerts wait: they are marked failed, not sent, not kept forever.
    write_config(tmp_path, feeds, [{"name": "other", "url": receiver.json_url()}])
    assert run_cli("poll", "--config", str(config)).returncode == 0
    desk = [r for r in outbox(config) if r["destination"] == "desk"]
    assert len(desk) == 6 and {r["status"] for r in desk} == {"failed"}
    assert desk[0]["last_error"] == "the destination was removed from the config" and receiver.attempts == []


def _quiet_now() -> str:
    from datetime import timedelta

    from monitor.dates import TEHRAN, now_utc

    local = now_utc().astimezone(TEHRAN)
    return f"{local - timedelta(minutes=2):%H:%M}-{local + timedelta(minutes=3):%H:%M}"


def test_an_alert_whose_item_lost_its_flag_before_it_went_is_not_sent(tmp_path, feed_server, receiver):
    feeds = fixture_feeds(feed_server)
    config = write_config(tmp_path, feeds, [{"name": "desk", "url": receiver.json_url(), "quiet": _quiet_now()}])
    assert run_cli("poll", "--config", str(config)).returncode == 0  # held by the quiet hours
    only_motalefeh = {i for i, it in flagged(config).items() if {m["watch"] for m in it["matches"]} == {MOTALEFEH}}
    assert only_motalefeh
    # The entry leaves the watch list (and the quiet hours end) before the alerts go.
    write_config(tmp_path, feeds, [{"name": "desk", "url": receiver.json_url()}],
                 watch=[w for w in SHIPPED_WATCH if w["name"] != MOTALEFEH])
    assert run_cli("poll", "--config", str(config)).returncode == 0  # re-matches first, then sends
    rows = {r["item_id"]: r for r in outbox(config)}
    assert {i for i, r in rows.items() if r["status"] == "failed"} == only_motalefeh
    assert "no longer matches" in rows[min(only_motalefeh)]["last_error"]
    assert len(receiver.received) == 6 - len(only_motalefeh)
