"""Crash safety: kill -9 a real `monitor poll` at random moments, fill the disk, lock the database.

Each feed's items, matches, shingles and validators commit in one transaction, so a kill loses at most the feed
in flight and the next poll redoes it. The loop checks, after every kill: PRAGMA integrity_check is ok, no
(feed, key) is stored twice, and every item committed before the kill is still there. A final poll must then
complete the work. The seed is fixed, so a failure replays.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import REPO, run_cli

FEEDS = 4
ITEMS = 150
GROWTH = 10  # each kill's poll sees this many new items per feed, so every poll has work to commit
KILLS = int(os.environ.get("MONITOR_CRASH_KILLS", "10"))
SEED = 6


def make_feeds(folder: Path, count: int = ITEMS) -> None:
    """Feeds with `count` items each; rewriting with a larger count adds items (and changes the ETag)."""
    folder.mkdir(exist_ok=True)
    words = "اقتصاد سیاست مجلس دولت بودجه انتخابات نفت بازار ارز تورم قانون دادگاه".split()
    rng = random.Random(SEED)
    for f in range(FEEDS):
        items = []
        for i in range(count):
            text = " ".join(rng.choice(words) for _ in range(40))
            items.append(f"<item><title>خبر {f}-{i} {text[:40]}</title><link>http://example.com/{f}/{i}</link>"
                         f"<guid>g-{f}-{i}</guid><pubDate>Tue, 18 Nov 2025 10:{i % 60:02d}:00 GMT</pubDate>"
                         f"<description>{text}</description></item>")
        (folder / f"feed{f}.xml").write_text(
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>f{f}</title>'
            f'{"".join(items)}</channel></rss>', encoding="utf-8")


def write_config(tmp_path: Path, server) -> Path:
    raw = {"database": str(tmp_path / "monitor.db"), "corpus": [], "http": {"timeout": "5s"},
           "articles": {"full_text": "never"},  # the fixture items link to real sites: no page leaves loopback
           "feeds": [{"name": f"feed{f}", "url": server.url(f"feed{f}.xml")} for f in range(FEEDS)]}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def keys(db: Path) -> set[tuple[str, str]]:
    if not db.exists():
        return set()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'items'").fetchone():
            return set()
        dupes = conn.execute("SELECT feed, key, count(*) FROM items GROUP BY feed, key HAVING count(*) > 1"
                             ).fetchall()
        assert not dupes, dupes
        dup_guids = conn.execute("SELECT feed, guid FROM items WHERE guid IS NOT NULL GROUP BY feed, guid"
                                 " HAVING count(*) > 1").fetchall()
        assert not dup_guids, dup_guids
        orphans = conn.execute("SELECT count(*) FROM matches WHERE item_id NOT IN (SELECT id FROM items)"
                               ).fetchone()[0]
        assert orphans == 0
        return set(conn.execute("SELECT feed, key FROM items"))
    finally:
        conn.close()


def test_kill_9_at_random_moments_loses_nothing_committed(tmp_path):
    from monitor.feedserver import FeedServer

    make_feeds(tmp_path / "feeds")
    rng = random.Random(SEED)
    with FeedServer(tmp_path / "feeds") as server:
        config = write_config(tmp_path, server)
        db = tmp_path / "monitor.db"
        committed: set = set()
        moments = []
        for kill in range(KILLS):
            make_feeds(tmp_path / "feeds", ITEMS + kill * GROWTH)
            proc = subprocess.Popen([sys.executable, "-m", "monitor", "poll", "-v", "--config", str(config)],
                                    cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            moments.append(_kill_at_random_moment(proc, rng))
            now = keys(db)
            assert committed <= now, f"lost {len(committed - now)} committed items"
            committed = now
        final = run_cli("poll", "--config", str(config))
        assert final.returncode == 0, final.stderr
    stored = keys(db)
    assert committed <= stored
    assert len(stored) == FEEDS * (ITEMS + (KILLS - 1) * GROWTH)
    conn = sqlite3.connect(db)
    statuses = conn.execute("SELECT DISTINCT last_status FROM feeds").fetchall()
    conn.close()
    assert statuses in ([("ok",)], [("not_modified",)], [("ok",), ("not_modified",)], [("not_modified",), ("ok",)])
    print(f"\ncrash loop: {KILLS} kills ({', '.join(moments)}); {len(committed)} items committed before the "
          f"final poll, {len(stored)} after it")


def _kill_at_random_moment(proc: subprocess.Popen, rng: random.Random) -> str:
    """SIGKILL while starting or fetching (one time in four), else mid-write: after k feeds committed (the log
    says so) plus a random fraction of the next feed's transaction."""
    if rng.random() < 0.25:
        delay = rng.uniform(0.2, 2.5)
        time.sleep(delay)
        moment = f"{delay:.1f}s"
    else:
        k = rng.randint(1, FEEDS - 1)
        seen = 0
        while seen < k and (line := proc.stderr.readline()):
            seen += "monitor.refresh: feed" in line
        delay = rng.uniform(0.0, 0.3)
        time.sleep(delay)
        moment = f"{seen}+{delay:.2f}s"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    return moment


# ------------------------------------------------------------------------------------------ store faults
@pytest.fixture
def engine_parts(tmp_path):
    from monitor.feedserver import FeedServer

    make_feeds(tmp_path / "feeds")
    with FeedServer(tmp_path / "feeds") as server:
        from monitor.config import load_config

        config = load_config(write_config(tmp_path, server))
        yield config, tmp_path / "monitor.db"


def _snapshot(db: Path) -> list:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return [conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in ("items", "matches", "feeds")]
    finally:
        conn.close()


def test_full_disk_gives_a_clear_error_and_no_corruption(engine_parts):
    from monitor.errors import StoreError
    from monitor.pipeline import Engine
    from monitor.store import Store

    config, db = engine_parts
    store = Store.open(config.database)
    Engine(config, store).run_cycle(config.feeds[:1])  # one feed stored, the rest to come
    store.close()
    before = _snapshot(db)
    store = Store.open(config.database)
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages + 2}")  # a disk with two pages left
    with pytest.raises(StoreError, match="full"):
        Engine(config, store).run_cycle(config.feeds[1:])
    store.close()
    assert _snapshot(db)[0] == before[0], "a feed was half-written on a full disk"
    store = Store.open(config.database)  # space again: the next cycle does the work
    Engine(config, store).run_cycle(config.feeds)
    store.close()
    assert len(_snapshot(db)[0]) == FEEDS * ITEMS


def test_locked_database_gives_a_clear_error_and_no_corruption(engine_parts):
    from monitor.errors import StoreError
    from monitor.pipeline import Engine
    from monitor.store import Store

    config, db = engine_parts
    store = Store.open(config.database)
    Engine(config, store).run_cycle(config.feeds[:1])
    before = _snapshot(db)
    other = sqlite3.connect(db)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock (a stuck process, a backup tool)
    try:
        store.db.execute("PRAGMA busy_timeout = 200")  # the real one waits 10 s; the error is the same
        with pytest.raises(StoreError, match="locked"):
            Engine(config, store).run_cycle(config.feeds)
    finally:
        other.rollback()
        other.close()
    assert _snapshot(db) == before
    Engine(config, store).run_cycle(config.feeds)
    store.close()
    assert len(_snapshot(db)[0]) == FEEDS * ITEMS
