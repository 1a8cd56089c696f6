"""store: schema, idempotent writes, transactions, read-only opening, queries. Real SQLite files."""

import os
import sqlite3

import pytest

from monitor.errors import StoreError
from monitor.models import Match
from monitor.store import Store, corpus_source, item_source


def row(key="guid:1", feed="f", **kw):
    base = {"feed": feed, "key": key, "guid": key[5:], "link": None, "canonical_link": None, "title": "t",
            "summary": "", "body": "b", "published": "2025-11-17T10:00:00+00:00",
            "fetched_at": "2025-11-17T11:00:00+00:00", "status": "new"}
    base.update(kw)
    return base


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "state" / "m.db")
    yield s
    s.close()


def test_open_creates_wal_database_with_owner_only_permissions(tmp_path):
    path = tmp_path / "deep" / "m.db"
    Store.open(path).close()
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_reopen_applies_migrations_once(tmp_path):
    path = tmp_path / "m.db"
    Store.open(path).close()
    s = Store.open(path)
    names = [r[0] for r in s.db.execute("SELECT name FROM _sqlite_migrations ORDER BY rowid")]
    assert names == ["m001_initial", "m002_feed_body_hash", "m003_next_poll_reason", "m004_fingerprints"]
    s.close()


def test_insert_is_idempotent_per_feed_and_key(store):
    with store.transaction():
        first = store.insert_item(row())
        again = store.insert_item(row(title="changed"))
        other_feed = store.insert_item(row(feed="g"))
    assert first is not None and again is None and other_feed is not None
    assert store.counts()["items"] == 2


def test_transaction_rolls_back_everything(store):
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.insert_item(row())
            raise RuntimeError("crash mid-feed")
    assert store.counts()["items"] == 0


def test_validators_saved_only_with_the_transaction(store):
    store.sync_feeds([("f", "http://x/rss")])
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.insert_item(row())
            store.save_feed_result("f", status="ok", fetched_at="t", etag='"e"', last_modified="lm")
            raise RuntimeError
    state = store.feed_state("f")
    assert state.etag is None and state.last_status is None


def test_failure_counts_and_reset(store):
    store.sync_feeds([("f", "http://x/rss")])
    for _ in range(3):
        with store.transaction():
            store.save_feed_result("f", status="error", fetched_at="t", error="HTTP 500", next_poll="n")
    assert store.feed_state("f").consecutive_failures == 3
    with store.transaction():
        store.save_feed_result("f", status="ok", fetched_at="t", etag="e", last_modified=None)
    state = store.feed_state("f")
    assert state.consecutive_failures == 0 and state.last_error is None and state.etag == "e"


def test_changed_url_forgets_validators(store):
    store.sync_feeds([("f", "http://x/rss")])
    with store.transaction():
        store.save_feed_result("f", status="ok", fetched_at="t", etag="e", last_modified="m")
    store.sync_feeds([("f", "http://y/rss")])
    state = store.feed_state("f")
    assert state.url == "http://y/rss" and state.etag is None


def test_fingerprint_holders_respect_the_window_for_items_not_corpus(store):
    with store.transaction():
        store.put_corpus_doc({"ref": "001", "path": "/c/001.txt", "mtime": 1.0, "size": 1}, [1, 2, 3], "x")
        old = store.insert_item(row("guid:old", fetched_at="2020-01-01T00:00:00+00:00"))
        new = store.insert_item(row("guid:new", fetched_at="2025-11-17T00:00:00+00:00"))
        store.add_shingles(item_source(old), [2, 3, 4])
        store.add_shingles(item_source(new), [3, 4, 5])
    holders = store.shingle_holders([2, 3, 4, 5], since="2025-01-01T00:00:00+00:00", cap=10)
    assert {h: sorted(who) for h, who in holders.items()} == {
        2: ["corpus:001"], 3: ["corpus:001", f"item:{new}"], 4: [f"item:{new}"], 5: [f"item:{new}"]}
    # everything is visible with an older window start; the cap bounds what one hash reads
    assert sorted(store.shingle_holders([3], since="2000", cap=10)[3]) == ["corpus:001", f"item:{old}",
                                                                           f"item:{new}"]
    assert len(store.shingle_holders([3], since="2000", cap=1)[3]) == 2
    with store.transaction():
        assert store.prune_shingles("2025-01-01T00:00:00+00:00") == 3  # the old item's three; corpus stays
    assert sorted(store.shingle_holders([3], since="2000", cap=10)[3]) == ["corpus:001", f"item:{new}"]
    with store.transaction():
        store.delete_corpus_doc("001")
    assert store.shingle_holders([1, 2], since="2000", cap=10) == {}


def test_fingerprints_of_a_corpus_document_need_the_document(store):
    with pytest.raises(ValueError):
        store.add_shingles(corpus_source("nope"), [1])


def test_query_flagged_and_matches(store):
    with store.transaction():
        a = store.insert_item(row("guid:a", published="2025-11-17T10:00:00+00:00"))
        b = store.insert_item(row("guid:b", published="2025-11-18T10:00:00+00:00"))
        c = store.insert_item(row("guid:c", status="duplicate", dup_kind="corpus", dup_ref="001", dup_score=1.0))
        store.replace_matches(a, [Match("Amani", "figure", ("امانی",), 2, "snip")])
        store.replace_matches(c, [Match("Amani", "figure", ("امانی",), 1, "snip")])
    flagged = store.query_items(flagged=True)
    assert [r["id"] for r in flagged] == [a]
    assert flagged[0]["matches"] == [{"watch": "Amani", "kind": "figure", "terms": ["امانی"], "count": 2,
                                      "snippet": "snip"}]
    assert [r["id"] for r in store.query_items()] == [b, c, a]  # newest first, then newest id
    assert [r["id"] for r in store.query_items(since="2025-11-18T00:00:00+00:00")] == [b]
    assert [r["id"] for r in store.query_items(status="duplicate")] == [c]
    assert store.query_items(flagged=True, watch=["Nobody"]) == []


def test_readonly_open(tmp_path):
    with pytest.raises(StoreError, match="no database"):
        Store.open(tmp_path / "missing.db", readonly=True)
    path = tmp_path / "m.db"
    Store.open(path).close()
    ro = Store.open(path, readonly=True)
    with pytest.raises(sqlite3.OperationalError):
        ro.db.execute("INSERT INTO meta VALUES ('a', 'b')")
    ro.close()


def test_not_a_database(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="junk.db"):
        Store.open(path)


def test_fingerprints_deferred_in_a_commit_group_are_seen_written_sorted_and_rolled_back(store):
    """In a poll's commit group, fingerprint rows wait in memory and are written sorted at commit (speed issue):
    lookups must see them meanwhile, a failed feed's rows must go with its savepoint, and a commit writes them."""
    with store.commit_group(3600) as group:
        group.ready()
        with store.transaction():
            a = store.insert_item(row("guid:a", fetched_at="2025-11-17T00:00:00+00:00"))
            store.add_shingles(item_source(a), [30, 10, 20])
        assert store._one("SELECT count(*) FROM fingerprints") == 0  # deferred...
        assert store.shingle_holders([10, 99], since="2025-01-01", cap=5) == {10: [f"item:{a}"]}  # ...but seen
        with pytest.raises(RuntimeError):
            with store.transaction():
                b = store.insert_item(row("guid:b", fetched_at="2025-11-17T00:00:00+00:00"))
                store.add_shingles(item_source(b), [10, 40])
                raise RuntimeError("this feed failed")
        assert store.shingle_holders([10, 40], since="2025-01-01", cap=5) == {10: [f"item:{a}"]}
        with store.transaction():
            c = store.insert_item(row("guid:c", fetched_at="2025-11-17T00:00:00+00:00"))
            store.add_shingles(item_source(c), [50, 10])  # shares 10 with a, both still pending
        assert store.shingle_holders([10, 50], since="2025-01-01", cap=5) == {10: [f"item:{a}", f"item:{c}"],
                                                                              50: [f"item:{c}"]}
        assert store.shingle_holders([10], since="2025-01-01", cap=0) == {10: [f"item:{a}"]}  # cap + 1 holders
        group.flush()
    assert store.db.execute("SELECT hash, doc FROM fingerprints").fetchall() == [
        (10, a), (10, c), (20, a), (30, a), (50, c)]
    assert store._one("SELECT count(*) FROM items") == 2  # a and c; b rolled back


def test_a_commit_group_that_fails_leaves_nothing(store):
    with pytest.raises(RuntimeError):
        with store.commit_group(3600) as group:
            group.ready()
            with store.transaction():
                a = store.insert_item(row("guid:a"))
                store.add_shingles(item_source(a), [1, 2])
            raise RuntimeError("crash")
    assert store._one("SELECT count(*) FROM items") == 0
    assert store._one("SELECT count(*) FROM fingerprints") == 0
    assert store._pending == [] and store._pending_hashes == set()


def test_any_known_sees_corpus_windowed_items_and_pending_rows(store):
    with store.transaction():
        store.put_corpus_doc({"ref": "001", "path": "/c/001.txt", "mtime": 1.0, "size": 1}, [1], "x")
        old = store.insert_item(row("guid:old", fetched_at="2020-01-01T00:00:00+00:00"))
        store.add_shingles(item_source(old), [2])
    assert store.any_known([9, 1], since="2025-01-01")
    assert not store.any_known([2, 9], since="2025-01-01")  # only an item outside the window holds 2
    assert store.any_known([2], since="2000-01-01")
    with store.commit_group(3600) as group:
        group.ready()
        with store.transaction():
            new = store.insert_item(row("guid:new", fetched_at="2025-11-17T00:00:00+00:00"))
            store.add_shingles(item_source(new), [3])
        assert store.any_known([3], since="2025-01-01")  # still pending, already seen


def test_fingerprints_queued_twice_are_written_once(store):
    """Deferred rows go in with a plain INSERT (speed issue); a text queued twice, or rows already stored, fall
    back to INSERT OR IGNORE instead of failing the transaction."""
    with store.transaction():
        a = store.insert_item(row("guid:a"))
        store.add_shingles(item_source(a), [5, 6])
    with store.transaction():
        store.add_shingles(item_source(a), [1, 2, 3])
        store.add_shingles(item_source(a), [3, 4, 5])  # 3 queued twice, 5 already stored
    assert store.db.execute("SELECT hash FROM fingerprints WHERE doc = ? ORDER BY hash", [a]).fetchall() == [
        (1,), (2,), (3,), (4,), (5,), (6,)]
