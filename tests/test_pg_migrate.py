"""`monitor migrate --to`: SQLite to PostgreSQL and back, the same items on both ends, counts checked, and a copy
interrupted part-way finished by running it again."""

from __future__ import annotations

import pytest

from conftest import run_cli, run_json
from test_e2e import _items_as_stored, fixture_feeds, write_config


def _config(folder, feed_server, database):
    folder.mkdir(exist_ok=True)
    return write_config(folder, fixture_feeds(feed_server), database=database)


def test_sqlite_to_postgresql_and_back_keeps_every_item(tmp_path, feed_server, pg_url):
    sqlite = _config(tmp_path / "s", feed_server, str(tmp_path / "s" / "monitor.db"))
    assert run_cli("poll", "--config", str(sqlite)).returncode == 0
    proc = run_cli("migrate", "--config", str(sqlite), "--to", pg_url)
    assert proc.returncode == 0, proc.stderr
    assert "counted on both sides" in proc.stdout
    pg = _config(tmp_path / "p", feed_server, pg_url)
    assert _items_as_stored(pg) == _items_as_stored(sqlite)
    found = run_json("search", "مؤتلفه", "--config", str(pg), "--format", "json", "--since", "1990-01-01")
    assert found["items"]  # the index was rebuilt on the target at its first use
    back = tmp_path / "back.db"
    proc = run_cli("migrate", "--config", str(pg), "--to", str(back))
    assert proc.returncode == 0, proc.stderr
    again = _config(tmp_path / "b", feed_server, str(back))
    assert _items_as_stored(again) == _items_as_stored(sqlite)
    from monitor.store import Store

    counted = []
    for database in (tmp_path / "s" / "monitor.db", back):  # item_counts (m013) recounted after the copy
        store = Store.open(database, readonly=True)
        try:
            counted.append(store.items.status_counts())
        finally:
            store.close()
    assert counted[0] == counted[1] and counted[0]["new"] > 0
    polled = run_cli("poll", "--config", str(pg))  # the copy goes on: nothing new, nothing stored twice
    assert polled.returncode == 0 and "items 0 new, 0 duplicate" in polled.stdout, polled.stdout


def test_an_interrupted_copy_is_resumed_by_running_it_again(tmp_path, feed_server, pg_url):
    from monitor.store import Store
    from monitor.store import copy as store_copy

    sqlite = _config(tmp_path / "s", feed_server, str(tmp_path / "s" / "monitor.db"))
    assert run_cli("poll", "--config", str(sqlite)).returncode == 0
    src, dst = Store.open(tmp_path / "s" / "monitor.db", readonly=True), Store.open(pg_url)
    seen: list[str] = []

    def stop_in_items(table: str, rows: int) -> None:
        seen.append(table)
        if table == "fingerprints":
            raise KeyboardInterrupt  # as Ctrl-C would, between two batches
    try:
        with pytest.raises(KeyboardInterrupt):
            store_copy.copy(src.db, dst.db, stop_in_items, batch=4)
        partial = store_copy.counts(dst.db)
        assert 0 < partial["items"] and partial["fingerprints"] < store_copy.counts(src.db)["fingerprints"]
    finally:
        src.close()
        dst.close()
    proc = run_cli("migrate", "--config", str(sqlite), "--to", pg_url)
    assert proc.returncode == 0, proc.stderr
    pg = _config(tmp_path / "p", feed_server, pg_url)
    assert _items_as_stored(pg) == _items_as_stored(sqlite)


def test_migrate_errors_are_one_line(tmp_path, feed_server):
    sqlite = _config(tmp_path / "s", feed_server, str(tmp_path / "s" / "monitor.db"))
    proc = run_cli("migrate", "--config", str(sqlite), "--to", str(tmp_path / "s" / "monitor.db"))
    assert proc.returncode == 2 and "names the database being copied" in proc.stderr, proc.stderr
    proc = run_cli("migrate", "--config", str(sqlite), "--to", str(tmp_path / "x.db"))
    assert proc.returncode == 1 and "no database to copy" in proc.stderr and "Traceback" not in proc.stderr
    from monitor.store import Store

    Store.open(tmp_path / "s" / "monitor.db").close()
    proc = run_cli("migrate", "--config", str(sqlite), "--to", "postgresql://nobody@/nodb?host=/nonexistent")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
