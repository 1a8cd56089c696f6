"""Stories end to end: feeds written from the labelled held-out split (fixtures/stories/heldout.jsonl) served on
127.0.0.1, `monitor poll` into a real SQLite file, then `monitor stories` and `monitor report` as subprocesses."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import yaml

from conftest import FIXTURES, REPO, SEEDS, run_cli, run_json

STORIES = FIXTURES / "stories"
SINCE = "2025-11-01"


def load(split: str) -> list[dict]:
    return [json.loads(line) for line in (STORIES / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]


def write_feeds(folder: Path, rows: list[dict]) -> dict[str, str]:
    """One RSS file per outlet; guid = story label and position, so a stored item names its gold story."""
    by_feed: dict[str, list[str]] = defaultdict(list)
    for n, r in enumerate(rows):
        when = format_datetime(datetime.fromisoformat(r["published"]))
        by_feed[r["feed"]].append(
            f"<item><guid isPermaLink=\"false\">{r['story']}-{n}</guid><title>{escape(r['title'])}</title>"
            f"<link>https://{r['feed']}.example/news/{n}</link><pubDate>{when}</pubDate>"
            f"<description>{escape(r['body'])}</description></item>")
    for feed, items in by_feed.items():
        (folder / f"{feed}.xml").write_text(
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>' + feed
            + "</title>" + "".join(items) + "</channel></rss>", encoding="utf-8")
    return {feed: f"{feed}.xml" for feed in by_feed}


def write_config(tmp_path: Path, feeds: dict[str, str]) -> Path:
    shipped = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    raw = {"database": "state/test.db", "corpus": [str(SEEDS)],
           "articles": {"full_text": "never"},  # the items link to outlets' real sites: loopback only
           "feeds": [{"name": n, "url": u} for n, u in feeds.items()], "watch": shipped["watch"]}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def polled(tmp_path):
    """The held-out split polled once: (config path, rows, {item id: gold story}, {item id: status})."""
    from monitor.feedserver import FeedServer

    rows = load("heldout")
    folder = tmp_path / "feeds"
    folder.mkdir()
    files = write_feeds(folder, rows)
    with FeedServer(folder) as server:
        config = write_config(tmp_path, {feed: server.url(name) for feed, name in files.items()})
        proc = run_cli("poll", "--config", str(config))
        assert proc.returncode == 0, proc.stderr
    conn = sqlite3.connect(tmp_path / "state" / "test.db")
    stored = conn.execute("SELECT id, guid, status FROM items").fetchall()
    conn.close()
    gold = {item_id: guid.rsplit("-", 1)[0] for item_id, guid, _ in stored}
    status = {item_id: s for item_id, _, s in stored}
    return config, rows, gold, status


def test_poll_then_stories_every_new_item_once_and_pairs_right(polled):
    config, rows, gold, status = polled
    assert len(gold) == len(rows)
    doc = run_json("stories", "--config", str(config), "--since", SINCE, "--format", "json")
    listed = [i for s in doc["stories"] for i in s["items"]]
    new = sorted(i for i, s in status.items() if s == "new")
    assert sorted(listed) == new  # every stored new item in exactly one story
    for s in doc["stories"]:
        assert set(s) >= {"id", "title", "first_seen", "feeds", "items"}
        assert s["id"] == min(s["items"] + s["copies"]) or s["id"] in s["items"]
    predicted = {i: s["id"] for s in doc["stories"] for i in s["items"] + s["copies"]}
    from monitor.stories import pairwise

    ids = sorted(predicted)
    precision, recall, _ = pairwise([gold[i] for i in ids], [predicted[i] for i in ids])
    # The floors of tests/test_stories.py (the pure method on the same split, in date order); here the items
    # arrive feed by feed, as a poll stores them.
    assert precision >= 0.75 and recall >= 0.80, (precision, recall)


def test_a_syndicated_copy_joins_its_originals_story_and_counts_its_feed(polled):
    config, rows, gold, status = polled
    doc = run_json("stories", "--config", str(config), "--since", SINCE, "--format", "json")
    copies = [i for i, s in status.items() if s == "duplicate"]
    assert copies  # the khabaronline copy of mehr's h05 item and tabnak's of isna's h07 item
    for story in doc["stories"]:
        for copy in story["copies"]:
            assert {gold[i] for i in story["items"]} >= {gold[copy]}
    h05 = next(s for s in doc["stories"] if any(gold[i] == "h05" for i in s["copies"]))
    assert "khabaronline" in h05["feeds"] and "mehr" in h05["feeds"]


def test_two_calls_of_the_same_minister_days_apart_are_two_stories(polled):
    config, rows, gold, status = polled
    doc = run_json("stories", "--config", str(config), "--since", SINCE, "--format", "json")
    story_of = {i: s["id"] for s in doc["stories"] for i in s["items"]}
    oman_visit = {story_of[i] for i, g in gold.items() if g == "h01" and i in story_of}
    oman_call = {story_of[i] for i, g in gold.items() if g == "h02" and i in story_of}
    assert not oman_visit & oman_call


def test_stories_table_and_watch_filter(polled):
    config, rows, gold, status = polled
    proc = run_cli("stories", "--config", str(config), "--since", SINCE)
    assert proc.returncode == 0 and "stories" in proc.stdout and proc.stderr == ""
    doc = run_json("stories", "--config", str(config), "--since", SINCE, "--watch", "Motalefeh Islamic Party",
                   "--format", "json")
    assert doc["stories"] and {gold[i] for s in doc["stories"] for i in s["items"]} <= {"h09", "h10"}
    bad = run_cli("stories", "--config", str(config), "--watch", "nobody")
    assert bad.returncode == 2 and "nobody" in bad.stderr and "Traceback" not in bad.stderr


def test_report_groups_by_story_and_says_how_many_feeds_carried_each_item(polled):
    config, rows, gold, status = polled
    doc = run_json("report", "--config", str(config), "--since", SINCE, "--group-by", "story", "--format", "json")
    assert doc["group_by"] == "story" and doc["groups"]
    stories = run_json("stories", "--config", str(config), "--since", SINCE, "--format", "json")["stories"]
    feeds_of = {i: len(s["feeds"]) for s in stories for i in s["items"]}
    story_of = {i: s["id"] for s in stories for i in s["items"]}
    for group in doc["groups"]:
        assert len({story_of[it["id"]] for it in group["items"]}) == 1  # one story per group
        for it in group["items"]:
            assert it["carried_by"] == feeds_of[it["id"]] and it["story"] == story_of[it["id"]]
    motalefeh = [it for g in doc["groups"] for it in g["items"] if gold[it["id"]] == "h09"]
    assert motalefeh and all(it["carried_by"] == 4 for it in motalefeh)  # isna, mehr, tasnim, abna
    for fmt, phrase in (("table", "carried by 4 feeds"), ("markdown", "carried by 4 feeds"),
                        ("csv", "carried_by"), ("html", "در ۴ منبع"), ("atom", "carried by 4 feeds")):
        proc = run_cli("report", "--config", str(config), "--since", SINCE, "--format", fmt)
        assert proc.returncode == 0 and phrase in proc.stdout, (fmt, proc.stderr)
    grouped = run_cli("report", "--config", str(config), "--since", SINCE, "--group-by", "story")
    assert grouped.returncode == 0 and "story #" in grouped.stdout, grouped.stderr


def test_a_database_from_before_stories_gets_them_on_the_next_poll(polled, tmp_path):
    """The current schema without m011 (its tables and its record removed, and m018's, which adds to them), as an
    existing user's database:
    readers answer without stories, then one `monitor poll` migrates it and housekeeping gives every stored
    item its story."""
    config, rows, gold, status = polled
    before = run_json("stories", "--config", str(config), "--since", SINCE, "--format", "json")
    db = tmp_path / "state" / "test.db"
    conn = sqlite3.connect(db)
    conn.executescript("DROP TABLE story_items; DROP TABLE stories;"
                       " DELETE FROM _sqlite_migrations WHERE name IN ('m011_stories', 'm018_story_item_dates');"
                       " DELETE FROM meta WHERE key = 'stories_assigned_upto';")
    version = conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()
    old = run_cli("stories", "--config", str(config), "--since", SINCE, "--format", "json")
    assert old.returncode == 0 and json.loads(old.stdout) == {"stories": []} and "no stories yet" in old.stderr
    report = run_json("report", "--config", str(config), "--since", SINCE, "--format", "json")
    assert report["items"] and all(it["carried_by"] is None for it in report["items"])
    proc = run_cli("poll", "--config", str(config))  # the feeds are gone: every fetch fails, housekeeping runs
    assert proc.returncode == 0, proc.stderr
    after = run_json("stories", "--config", str(config), "--since", SINCE, "--format", "json")
    assert sorted(i for s in after["stories"] for i in s["items"]) == sorted(i for i, s in status.items() if s == "new")
    assert sorted(i for s in after["stories"] for i in s["copies"]) == sorted(i for s in before["stories"]
                                                                            for i in s["copies"])
