"""Every command gives the same results on both stores: the same fixture feeds polled into SQLite and into
PostgreSQL (the real CLI as a subprocess), then each store-reading command asked on both and compared."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli, run_json
from test_e2e import EXPECTED, _items_as_stored, fixture_feeds, item_key, write_config


@pytest.fixture
def polled_store(tmp_path, feed_server, database):
    config = write_config(tmp_path, fixture_feeds(feed_server), database=database)
    proc = run_cli("poll", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    return config, proc


def test_first_poll_matches_the_fixture_table_on_both_stores(polled_store):
    config, proc = polled_store
    assert "items 9 new, 5 duplicate, 6 flagged" in proc.stdout
    items = run_json("items", "--config", str(config), "--format", "json")["items"]
    got = {item_key(i): i for i in items}
    assert set(got) == set(EXPECTED)
    for key, (status, ref, flagged) in EXPECTED.items():
        assert got[key]["status"] == status, key
        if ref:
            assert got[key]["duplicate_of"]["ref"] == ref, key
        assert got[key]["flagged"] == bool(flagged), key
        if status == "new":
            assert {m["watch"] for m in got[key]["matches"]} == flagged, key
    again = run_cli("poll", "--config", str(config))
    assert again.returncode == 0, again.stderr
    assert "items 0 new, 0 duplicate" in again.stdout
    # /metrics' counts (m013: a table kept in step on SQLite, a view on PostgreSQL) say the same on both.
    from monitor.config import database_of
    from monitor.store import Store

    store = Store.open(database_of(config), readonly=True)
    try:
        assert store.items.status_counts() == {"new": 9, "duplicate": 5, "flagged": 6}
    finally:
        store.close()


# Spellings folded alike, a phrase, the operators and a prefix (tests/test_search.py checks what they mean).
QUERIES = ["كيم", "مؤتلفه", "کیم جونگ اون", '"محمد علی امانی"', "امانی NOT مدودف", "(امانی OR مدودف) AND مدود*"]


def _named(config, ids):
    """ids -> (feed, guid, link): what an item is called in both stores (ids follow the order replies came in)."""
    items = run_json("items", "--config", str(config), "--format", "json", "--since", "1990-01-01")["items"]
    return {it["id"]: (it["feed"], it["guid"] or "", it["link"] or "") for it in items}


def _answers(config) -> dict:
    """What the store-reading commands answer, with ids replaced by names and run-dependent times taken out."""
    name = _named(config, None)
    out: dict = {"items": _items_as_stored(config)}
    report = run_json("report", "--config", str(config), "--format", "json", "--since", "1990-01-01")
    out["report"] = [name[i["id"]] for i in report["items"]]
    out["search"] = {q: sorted(name[i["id"]] for i in run_json(
        "search", q, "--config", str(config), "--format", "json", "--limit", "500", "--since", "1990-01-01")["items"])
        for q in QUERIES}
    stories = run_json("stories", "--config", str(config), "--format", "json", "--since", "1990-01-01")
    out["stories"] = sorted((sorted(name[i] for i in s["items"]), sorted(name[i] for i in s["copies"]),
                             s["feeds"], s["title"]) for s in stories["stories"])
    for item_id in sorted(name, key=lambda i: name[i])[:2]:  # a few: each is a subprocess
        shown = run_json("show", str(item_id), "--config", str(config), "--format", "json")
        out[f"show {name[item_id]}"] = json.dumps(
            {k: v for k, v in shown.items() if k not in ("id", "fetched_at", "copies", "duplicate_of", "story")},
            sort_keys=True, ensure_ascii=False)
    feeds = run_json("feeds", "--config", str(config), "--format", "json")
    out["feeds"] = sorted((f["name"], f["last_status"], f["items"]) for f in feeds["feeds"])
    out["corpus"] = run_json("corpus", "--config", str(config), "--format", "json")
    return out


def test_every_reading_command_answers_the_same_on_both_stores(tmp_path, feed_server, pg_url):
    answers = []
    for database in (str(tmp_path / "s" / "monitor.db"), pg_url):
        folder = tmp_path / ("s" if database.endswith(".db") else "p")
        folder.mkdir(exist_ok=True)
        config = write_config(folder, fixture_feeds(feed_server), database=database)
        proc = run_cli("poll", "--config", str(config))
        assert proc.returncode == 0, proc.stderr
        answers.append(_answers(config))
    sqlite, postgresql = answers
    assert sqlite.keys() == postgresql.keys()
    for key in sqlite:
        assert sqlite[key] == postgresql[key], key
    assert any(sqlite["search"].values()) and sqlite["stories"]


def test_a_poll_with_worker_processes_stores_the_same_on_postgresql(tmp_path, feed_server, pg_url):
    """Worker processes (monitor.workers) read PostgreSQL through views of their own: the same items as a
    SQLite poll in threads."""
    stored = []
    for database, workers in ((str(tmp_path / "s" / "monitor.db"), "0"), (pg_url, "2")):
        folder = tmp_path / ("s" if workers == "0" else "p")
        folder.mkdir(exist_ok=True)
        config = write_config(folder, fixture_feeds(feed_server), database=database)
        proc = run_cli("poll", "-v", "--config", str(config), env={"MONITOR_WORKERS": workers})
        assert proc.returncode == 0, proc.stderr
        assert ("in 2 worker processes" in proc.stderr) == (workers == "2"), proc.stderr
        stored.append(_items_as_stored(config))
    assert stored[0] == stored[1]


def test_alerts_and_rematch_on_both_stores(tmp_path, feed_server, database):
    """The outbox (one alert per flagged item, sent once) and `monitor rematch` after a watch-list edit."""
    import yaml

    from notify_receivers import JSONReceiver

    receiver = JSONReceiver()
    try:
        config = write_config(tmp_path, fixture_feeds(feed_server), database=database,
                              notify=[{"name": "desk", "url": receiver.json_url()}])
        proc = run_cli("poll", "--config", str(config))
        assert proc.returncode == 0 and "alerts: 6 sent, 0 not sent" in proc.stdout, proc.stdout + proc.stderr
        rows = run_json("notify", "list", "--config", str(config), "--format", "json")["outbox"]
        assert len(rows) == 6 == len(receiver.received) and {r["status"] for r in rows} == {"sent"}
        raw = yaml.safe_load(config.read_text(encoding="utf-8"))
        raw["watch"] = [w for w in raw["watch"] if w["name"] != "Motalefeh Islamic Party"]
        del raw["notify"]
        config.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
        proc = run_cli("rematch", "--config", str(config))
        assert proc.returncode == 0, proc.stderr
        items = run_json("items", "--config", str(config), "--format", "json")["items"]
        assert not any(m["watch"] == "Motalefeh Islamic Party" for it in items for m in it["matches"])
        assert sum(it["flagged"] for it in items) == 5
    finally:
        receiver.close()


def test_a_poll_beside_running_workers_skips_the_feeds_they_hold(tmp_path, feed_server, pg_url):
    from monitor.store import Store

    feeds = fixture_feeds(feed_server)
    config = write_config(tmp_path, feeds, database=pg_url)
    store = Store.open(pg_url)
    try:
        store.feeds.sync(feeds.items())
        held = sorted(feeds)[:2]
        for name in held:  # as a running worker on another machine holds them
            assert store.claims.claim(name, "elsewhere:1", "2025-01-01T00:00:00+00:00", "2999-01-01T00:00:00+00:00")
    finally:
        store.close()
    proc = run_cli("poll", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    for name in held:
        assert f"{name}: skipped: another worker holds it" in proc.stdout
    stored = {it["feed"] for it in run_json("items", "--config", str(config), "--format", "json")["items"]}
    assert stored == set(feeds) - set(held)
