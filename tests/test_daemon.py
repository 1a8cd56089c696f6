"""`monitor run` as a subprocess against feeds on 127.0.0.1, with a seconds-long interval.

Each test starts the real daemon, watches the database and the log, and stops it with a signal, the way
systemd would. Waits poll for a condition with a generous deadline; nothing asserts how fast the machine is.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import yaml

from conftest import LoopbackServer, FEEDS, REPO, SEEDS, run_cli, run_json

SHIPPED_WATCH = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))["watch"]
MEDVEDEV = "Dmitry Medvedev"


def write_config(tmp_path: Path, feeds: dict[str, str], watch: list[dict], interval: str = "2s") -> Path:
    """A config whose `watch:` list comes last, so a test can append an entry as a person would."""
    raw = {"database": "state/test.db", "corpus": [str(SEEDS)], "schedule": {"interval": interval, "jitter": 0},
           "articles": {"full_text": "never"},  # the fixture items link to real sites: no page leaves loopback
           "feeds": [{"name": n, "url": u} for n, u in feeds.items()], "watch": watch}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def fixture_feeds(server) -> dict[str, str]:
    return {p.stem: server.url(p.name) for p in sorted(FEEDS.iterdir()) if p.suffix in (".xml", ".atom")}


class Daemon:
    """A `monitor run` subprocess; its stderr (the log) goes to a file so the pipe can never fill up."""

    def __init__(self, config: Path, *args: str) -> None:
        self.config = config
        self.log_path = config.parent / f"daemon-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "w", encoding="utf-8")
        env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
        self.proc = subprocess.Popen([sys.executable, "-m", "monitor", "run", "--config", str(config), *args],
                                     stdout=subprocess.DEVNULL, stderr=self._log, cwd=REPO, env=env)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._log.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


@pytest.fixture
def start(tmp_path):
    started: list[Daemon] = []

    def _start(config: Path, *args: str) -> Daemon:
        daemon = Daemon(config, *args)
        started.append(daemon)
        return daemon

    yield _start
    for daemon in started:  # never leave a daemon behind, whatever the test did
        daemon.kill()


def wait_for(predicate, timeout: float = 20, what: str = "condition", daemon: Daemon | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if daemon is not None and daemon.proc.poll() is not None:
            pytest.fail(f"the daemon exited ({daemon.proc.returncode}) while waiting for {what}:\n{daemon.log()}")
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}" + (f":\n{daemon.log()}" if daemon else ""))


def db_rows(config: Path, sql: str, params=()) -> list:
    db = config.parent / "state" / "test.db"
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:  # tables not created yet
        return []
    finally:
        conn.close()


def item_count(config: Path) -> int:
    rows = db_rows(config, "SELECT count(*) FROM items")
    return rows[0][0] if rows else 0


def flagged_with(config: Path, watch: str) -> int:
    return db_rows(config, "SELECT count(*) FROM matches m JOIN items i ON i.id = m.item_id"
                           " WHERE m.watch = ? AND i.status = 'new'", [watch])[0][0]


# ------------------------------------------------------------------------------------------ the tests
def test_items_arrive_on_schedule_one_instance_status_and_sigterm(tmp_path, feed_server, start):
    config = write_config(tmp_path, fixture_feeds(feed_server), SHIPPED_WATCH)
    daemon = start(config)
    wait_for(lambda: item_count(config) == 14, what="the first poll's 14 items", daemon=daemon)
    # On schedule: every feed is asked again (conditionally, so the answer is 304) a couple of seconds later.
    wait_for(lambda: sum(1 for r in feed_server.requests if r.path == "/mehr.xml") >= 3,
             what="mehr polled three times", daemon=daemon)
    assert any(r.status == 304 for r in feed_server.requests)

    second = run_cli("run", "--config", str(config), timeout=30)
    assert second.returncode == 1
    assert f"pid {daemon.proc.pid}" in second.stderr and "already running" in second.stderr

    status = run_json("status", "--config", str(config), "--format", "json")
    assert status["running"] is True and status["pid"] == daemon.proc.pid
    assert status["feeds_ok"] == 4 and status["feeds_failing"] == 0
    # "Today" as `report --since today` means it (published time; the fixture items are from 2025-11).
    today = run_json("report", "--config", str(config), "--since", "today", "--format", "json")["items"]
    new = run_json("items", "--config", str(config), "--status", "new", "--since", "today", "--format", "json")
    assert (status["new_today"], status["flagged_today"]) == (len(new["items"]), len(today))
    assert status["today"]["by"] == "published"
    wait_for(lambda: run_json("status", "--config", str(config), "--format", "json")["last_cycle"],
             what="a recorded cycle", daemon=daemon)

    started = time.monotonic()
    assert daemon.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 10
    log = daemon.log()
    cycles = re.findall(r"cycle: \d+ feeds .*?; items (\d+) new, (\d+) duplicate, (\d+) flagged", log)
    assert cycles and [sum(int(c[i]) for c in cycles) for i in range(3)] == [9, 5, 6]  # one line per cycle
    assert "daemon stopped" in log and "Traceback" not in log
    assert item_count(config) == 14
    assert run_json("status", "--config", str(config), "--format", "json")["running"] is False


def test_watch_edits_apply_to_stored_items_and_invalid_edit_keeps_old_config(tmp_path, feed_server, start):
    watch = [w for w in SHIPPED_WATCH if w["name"] != MEDVEDEV]
    config = write_config(tmp_path, fixture_feeds(feed_server), watch, interval="1h")
    daemon = start(config, "--log-format", "json")
    wait_for(lambda: item_count(config) == 14, what="the first poll's items", daemon=daemon)
    assert flagged_with(config, MEDVEDEV) == 0
    original = config.read_text(encoding="utf-8")

    # Append a watch entry, as a person editing the file would: the stored items are re-matched.
    with open(config, "a", encoding="utf-8") as fh:
        fh.write(f"- name: {MEDVEDEV}\n  kind: figure\n  terms: [دیمیتری مدودف, مدودف]\n")
    wait_for(lambda: flagged_with(config, MEDVEDEV) == 2, timeout=15, what="Medvedev flagged", daemon=daemon)
    report = run_json("report", "--config", str(config), "--since", "2000-01-01", "--format", "json")
    assert sum(1 for it in report["items"] if any(m["watch"] == MEDVEDEV for m in it["matches"])) == 2

    # An invalid edit (saved by rename, as editors do) is logged with file, line and key; the old config stays.
    bad = config.read_text(encoding="utf-8") + "- {name: Foo, kind: celebrity, terms: [x]}\n"
    tmp = config.with_suffix(".swp")
    tmp.write_text(bad, encoding="utf-8")
    os.replace(tmp, config)
    line = len(bad.splitlines())

    def config_error():
        for entry in map(json.loads, daemon.log().splitlines()):
            if "config_error" in entry:
                return entry
        return None

    entry = wait_for(config_error, timeout=15, what="the invalid edit logged", daemon=daemon)
    assert entry["level"] == "error" and "config.yaml" in entry["message"]
    assert entry["config_error"]["line"] == line and entry["config_error"]["key"].endswith(".kind")
    assert daemon.proc.poll() is None and flagged_with(config, MEDVEDEV) == 2
    # Meanwhile `monitor status` still answers: the config error as one warning line, the daemon seen running.
    for fmt in ("text", "json"):
        proc = run_cli("status", "--config", str(config), "--format", fmt)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.startswith("warning: ") and len(proc.stderr.strip().splitlines()) == 1
        assert f"config.yaml:{line}" in proc.stderr and ".kind" in proc.stderr and "Traceback" not in proc.stderr
        assert f"pid {daemon.proc.pid}" in proc.stdout if fmt == "text" else \
            json.loads(proc.stdout)["pid"] == daemon.proc.pid

    # Back to the original watch list: the flags go again.
    config.write_text(original, encoding="utf-8")
    wait_for(lambda: flagged_with(config, MEDVEDEV) == 0, timeout=15, what="Medvedev unflagged", daemon=daemon)
    assert daemon.stop() == 0
    rematches = [e["rematch"] for e in map(json.loads, daemon.log().splitlines()) if "rematch" in e]
    # Matches are kept for duplicates too (only new items are flagged): the third is a duplicate's.
    assert rematches[-2]["added"] == rematches[-1]["removed"] == 3 and rematches[-1]["added"] == 0


def test_sigkill_then_restart_loses_and_duplicates_nothing(tmp_path, feed_server, start):
    config = write_config(tmp_path, fixture_feeds(feed_server), SHIPPED_WATCH)
    daemon = start(config)
    wait_for(lambda: item_count(config) > 0, what="the first items", daemon=daemon)
    daemon.proc.send_signal(signal.SIGKILL)  # possibly in the middle of the first cycle
    daemon.proc.wait()
    before = item_count(config)
    served = len(feed_server.requests)

    again = start(config)  # the lock died with the process: the restart is not refused
    wait_for(lambda: item_count(config) == 14 and len(feed_server.requests) >= served + 4,
             what="the restarted daemon's poll", daemon=again)
    assert again.stop(signal.SIGINT) == 0  # Ctrl-C ends it as cleanly as SIGTERM
    assert before <= 14
    keys = db_rows(config, "SELECT feed, key, count(*) FROM items GROUP BY feed, key HAVING count(*) > 1")
    assert keys == [] and item_count(config) == 14
    assert db_rows(config, "SELECT count(*) FROM items WHERE status = 'new'")[0][0] == 9
    assert db_rows(config, "SELECT count(DISTINCT item_id) FROM matches m JOIN items i ON i.id = m.item_id"
                           " WHERE i.status = 'new'")[0][0] == 6


class CountingServer(LoopbackServer):
    """/ok serves a feed; /limited answers 429 with Retry-After: 3; /broken answers 500. Records request times."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        body = (FEEDS / "mehr.xml").read_bytes()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.times.setdefault(self.path, []).append(time.monotonic())
                if self.path == "/limited":
                    self.send_response(429)
                    self.send_header("Retry-After", "3")
                    self.send_header("Content-Length", "0")
                elif self.path == "/broken":
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                else:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/rss+xml")
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path == "/ok":
                    self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        super().__init__(Handler)

    def count(self, path: str) -> int:
        return len(self.times.get("/" + path, []))



def test_retry_after_and_backoff_delay_the_next_request(tmp_path, start):
    server = CountingServer()
    try:
        feeds = {name: server.url(name) for name in ("ok", "limited", "broken")}
        config = write_config(tmp_path, feeds, SHIPPED_WATCH, interval="1s")
        daemon = start(config)
        # /ok is polled every second; /limited waits 3 s between tries (Retry-After) and /broken 1 s, then 2 s
        # (backoff; tests/test_refresh.py checks the whole sequence with a clock of its own).
        wait_for(lambda: server.count("limited") >= 2 and server.count("broken") >= 3, what="two tries of /limited"
                 " and three of /broken", daemon=daemon)
        feeds_json = run_json("feeds", "--config", str(config), "--format", "json")["feeds"]
        assert daemon.stop() == 0
        limited, broken = server.times["/limited"], server.times["/broken"]
        assert server.count("ok") >= 3 and 2 <= len(limited) <= 3 and 3 <= len(broken) <= 4, (limited, broken)
        assert all(b - a >= 2.8 for a, b in zip(limited, limited[1:])), limited
        gaps = [b - a for a, b in zip(broken, broken[1:])]
        assert all(gap >= 0.9 * 2 ** i for i, gap in enumerate(gaps)), gaps  # 1 s, then 2 s
        by_name = {f["name"]: f for f in feeds_json}
        assert "Retry-After" in by_name["limited"]["last_error"] or "wait 3s" in by_name["limited"]["last_error"]
        assert by_name["broken"]["consecutive_failures"] >= 2 and by_name["broken"]["next_poll"]
        log = daemon.log()
        assert "server asked to wait" in log and "backoff after 2 failures in a row" in log

        # The backoff survives a restart: /limited is not asked again before its Retry-After ends.
        count = server.count("limited")
        last = server.times["/limited"][-1]
        again = start(config)
        polls = server.count("ok")
        wait_for(lambda: server.count("ok") >= polls + 2, what="the restarted daemon's polls", daemon=again)
        assert again.stop() == 0
        assert all(t - last >= 2.8 for t in server.times["/limited"][count:])
    finally:
        server.close()


def test_the_scheduled_report_is_a_cron_job_in_tehran_time(tmp_path, feed_server):
    """config.report becomes one cron job (Tehran time unless told otherwise) that writes the dated report."""
    from monitor.daemon.service import Daemon

    config = write_config(tmp_path, fixture_feeds(feed_server), SHIPPED_WATCH, interval="1h")
    with open(config, "a", encoding="utf-8") as fh:
        fh.write('report: {every: "day at 08:00", format: markdown}\n')
    daemon = Daemon(str(config))
    daemon.start()
    try:
        job = daemon.scheduler.get_job("report")
        fire = job.next_run_time
        assert str(fire.tzinfo) == "Asia/Tehran" and (fire.hour, fire.minute) == (8, 0)
        wait_for(lambda: item_count(config) == 14, what="the first poll's items")
        daemon.jobs.write_report()
        written = list((tmp_path / "state" / "reports").glob("flagged-*.md"))
        # (The fixture items were published in 2025, outside the last day: the report says so.)
        assert len(written) == 1 and written[0].read_text(encoding="utf-8").startswith("# Flagged items")
    finally:
        daemon.shutdown()


def test_status_imports_nothing_heavy(tmp_path):
    """`monitor status` reads the lock file and the database only: no hazm, no HTTP client, no scheduler."""
    config = write_config(tmp_path, {"a": "http://127.0.0.1:9/feed"}, SHIPPED_WATCH)
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "monitor", "status", "--config", str(config)],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0 and "daemon: not running" in proc.stdout
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if "|" in line}
    assert not imported & {"hazm", "httpx", "feedparser", "apscheduler"}


def test_a_corpus_file_added_while_running_is_picked_up_next_cycle(tmp_path, feed_server, start):
    corpus = tmp_path / "known"
    corpus.mkdir()
    (corpus / "000_e3a782698f1fa8ec.txt").write_bytes((SEEDS / "000_e3a782698f1fa8ec.txt").read_bytes())
    config = write_config(tmp_path, {"mehr": feed_server.url("mehr.xml")}, SHIPPED_WATCH)
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["corpus"] = [str(corpus)]
    config.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    daemon = start(config)
    wait_for(lambda: item_count(config) == 5, what="mehr's 5 items", daemon=daemon)
    assert db_rows(config, "SELECT ref FROM corpus_docs") == [("000_e3a782698f1fa8ec",)]
    (corpus / "002_3b436877025587a2.txt").write_bytes((SEEDS / "002_3b436877025587a2.txt").read_bytes())
    wait_for(lambda: len(db_rows(config, "SELECT ref FROM corpus_docs")) == 2, timeout=30,
             what="the added corpus document fingerprinted", daemon=daemon)
    assert daemon.stop(signal.SIGTERM) == 0
