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
