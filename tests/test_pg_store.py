"""The PostgreSQL store's own pieces: the migration list mirrors SQLite's, the SQL translation, the search
index's vectors and queries, feed leases, the monitor-wide lock and the per-host gate, on a real server."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from monitor.store.pg.search import tokens, tsquery, vector
from monitor.store.pg.sql import translate


def test_every_sqlite_migration_has_a_postgresql_form_of_the_same_name_in_the_same_order():
    from monitor.store.pg.schema import names
    from monitor.store.schema import known_migrations

    assert names() == known_migrations()


def test_translation_of_placeholders_and_insert_or_ignore():
    assert translate("SELECT a FROM t WHERE b = ? AND c LIKE 'x?%'") == "SELECT a FROM t WHERE b = %s AND c LIKE 'x?%'"
    assert translate("UPDATE t SET a = :a WHERE id = :id") == "UPDATE t SET a = %(a)s WHERE id = %(id)s"
    assert translate("SELECT ?::bigint[], 5 % 2") == "SELECT %s::bigint[], 5 %% 2"
    assert translate("INSERT OR IGNORE INTO t (a) VALUES (?)") == "INSERT INTO t (a) VALUES (%s) ON CONFLICT DO NOTHING"


def test_vectors_hold_the_folded_words_as_fts5_ascii_cuts_them():
    assert tokens("می‌شود G20-summit «x»") == ["می‌شود", "g20", "summit", "«x»"]
    v = vector("a b", "b c")
    assert v == "'a':1A 'b':2A,4 'c':5"  # the text starts two after the title: no phrase across them
    assert vector("it's", "") == "'it':1A 's':2A"  # a quote cuts, as in FTS5: no lexeme holds one


def test_fts5_expressions_become_tsqueries():
    assert tsquery('("a b" OR "c"*)') == "( ('a' <-> 'b') | ('c':*) )"
    assert tsquery('(("a") NOT ("b"))') == "( ( ('a') ) & ! ( ('b') ) )"
    from monitor.errors import UsageError

    with pytest.raises(UsageError):
        tsquery("a; DROP TABLE items")


def _store(url):
    from monitor.store import Store

    return Store.open(url)


def test_leases_skip_what_another_worker_holds_and_expire(pg_url):
    a, b = _store(pg_url), _store(pg_url)
    try:
        a.feeds.sync([(f"f{i}", f"http://127.0.0.1/{i}") for i in range(10)])
        now, later, much_later = "2025-01-01T00:00:00+00:00", "2025-01-01T00:05:00+00:00", "2025-01-01T01:00:00+00:00"
        names = [f"f{i}" for i in range(10)]
        got_a = a.claims.claim_due(names, "a", now, later, 6)
        got_b = b.claims.claim_due(names, "b", now, later, 6)
        assert len(got_a) == 6 and len(got_b) == 4 and not set(got_a) & set(got_b)
        assert b.claims.claim_due(names, "b", now, later, 6) == []  # all held
        assert not b.claims.claim(got_a[0], "b", now, later)
        with a.transaction():  # storing a feed ends its lease and sets its next poll
            a.feeds.save_result(got_a[0], status="ok", fetched_at=now, next_poll=much_later)
        taken = b.claims.claim_due(names, "b", later, much_later, 10)  # every lease ran out at `later` ...
        assert sorted(taken) == sorted(set(names) - {got_a[0]})  # ... and the stored feed is due at much_later
    finally:
        a.close()
        b.close()


def test_claims_race_without_waiting_or_sharing(pg_url):
    """Many workers claiming at once: every feed claimed exactly once, nobody blocked on another's rows."""
    setup = _store(pg_url)
    setup.feeds.sync([(f"f{i:03d}", "http://127.0.0.1/") for i in range(200)])
    setup.close()
    got: dict[int, list[str]] = {}

    def worker(n: int) -> None:
        store = _store(pg_url)
        try:
            mine: list[str] = []
            while batch := store.claims.claim_due([f"f{i:03d}" for i in range(200)], f"w{n}",
                                                  "2025-01-01T00:00:00+00:00", "2025-01-01T00:05:00+00:00", 7):
                mine += batch
            got[n] = mine
        finally:
            store.close()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [name for names in got.values() for name in names]
    assert sorted(claimed) == [f"f{i:03d}" for i in range(200)]


def test_the_monitor_wide_lock_moves_when_its_holder_goes(pg_url):
    from monitor.store.pg.claims import MonitorLock

    _store(pg_url).close()
    first, second = MonitorLock(pg_url), MonitorLock(pg_url)
    assert first.try_acquire() and first.try_acquire()
    assert not second.try_acquire()
    first.close()  # its connection closes, as a killed worker's does
    # The server lets the lock go when that backend has ended, a moment after the client hung up (under load,
    # more than a moment): the next holder takes it on one of its next tries, as a worker's next tick does.
    deadline = time.monotonic() + 10
    while not second.try_acquire():
        assert time.monotonic() < deadline, "the lock never moved to the second worker"
        time.sleep(0.05)
    second.close()


def test_the_host_gate_spaces_requests_of_every_worker(pg_url):
    from monitor.store.pg.claims import HostSlots

    _store(pg_url).close()
    gates = [HostSlots(pg_url), HostSlots(pg_url)]
    starts = sorted(gates[i % 2].reserve("news.example", 0.5) for i in range(6))
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert all(abs(g - 0.5) < 0.05 for g in gaps), gaps
    assert abs(gates[0].reserve("other.example", 0.5) - time.time()) < 0.5  # another host: no wait


def test_a_database_of_another_application_is_refused(pg_url):
    from monitor.errors import StoreError

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (id int)")
    with pytest.raises(StoreError, match="not a monitor database"):
        _store(pg_url)


def test_database_takes_a_url_or_a_path_and_the_environment_wins(tmp_path, monkeypatch):
    from monitor.config import database_of, load_config
    from monitor.errors import ConfigError

    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    path = tmp_path / "config.yaml"
    path.write_text("database: postgresql://monitor@db.example/monitor\nfeeds: []\n", encoding="utf-8")
    assert load_config(path).database == database_of(path) == "postgresql://monitor@db.example/monitor"
    path.write_text("database: state/m.db\nfeeds: []\nschedule: {lease: 90s}\n", encoding="utf-8")
    assert load_config(path).database == str(tmp_path / "state" / "m.db")  # a path still means SQLite
    assert load_config(path).schedule.lease == 90.0
    monkeypatch.setenv("MONITOR_DATABASE_URL", "postgresql://other@/x")
    assert load_config(path).database == database_of(path) == "postgresql://other@/x"
    monkeypatch.delenv("MONITOR_DATABASE_URL")
    path.write_text("database: mysql://x/y\nfeeds: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="neither a file nor a PostgreSQL URL"):
        load_config(path)


def test_a_password_in_a_url_is_never_shown():
    from monitor.store.pg import shown

    assert shown("postgresql://monitor:s3cret@db.example/monitor") == "postgresql://monitor:***@db.example/monitor"
    assert shown("state/monitor.db") == "state/monitor.db"
