"""store: schema and migrations, transactions, the rooms' writes and queries, read-only opening. Real SQLite files."""

import os
import sqlite3

import pytest

from monitor.errors import StoreError
from monitor.models import Match, Source
from monitor.store import Store
from monitor.store.schema import migrations


def row(key="guid:1", feed="f", **kw):
    base = {"feed": feed, "key": key, "guid": key[5:], "link": None, "canonical_link": None, "title": "t",
            "summary": "", "body": "b", "published": "2025-11-17T10:00:00+00:00",
            "fetched_at": "2025-11-17T11:00:00+00:00", "status": "new"}
    base.update(kw)
    return base


def insert(store, item) -> int:
    """Store one item (inside a transaction) as the pipeline does: with the id reserved for it."""
    item_id = store.items.reserve_ids(1)[0]
    store.items.insert_new([{"id": item_id, **item}])
    return item_id


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
    assert names == ["m001_initial", "m002_feed_body_hash", "m003_next_poll_reason", "m004_fingerprints",
                     "m005_fingerprint_count", "m006_guid_per_feed_and_title_hash", "m007_feed_freshness",
                     "m008_article_pages", "m009_outbox", "m010_search_index", "m011_stories", "m012_triage",
                     "m013_item_order_and_counts", "m015_bounded_window_lookups",
                     "m016_leases", "m018_story_item_dates"]
    s.close()


def test_a_database_at_the_old_schema_keeps_its_corpus_documents(tmp_path):
    """A database made before corpus_docs.shingle_count became fingerprint_count is migrated, rows kept."""
    from sqlite_utils import Database

    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before="m005_fingerprint_count")
    old.execute("INSERT INTO corpus_docs (ref, path, mtime, size, title, shingle_count, num)"
                " VALUES ('001', '/c/001.txt', 1.0, 1, 'T', 42, 1)")
    old.execute("INSERT INTO fingerprints (hash, doc) VALUES (7, -1)")
    old.conn.commit()
    old.close()
    s = Store.open(path)
    try:
        assert s.corpus.docs() == [{"ref": "001", "path": "/c/001.txt", "title": "T", "published": None,
                                    "fingerprint_count": 42}]
        assert s.fingerprints.holders([7], since="2000", cap=5) == {7: [Source.corpus("001")]}
    finally:
        s.close()


def test_items_are_unique_per_feed_and_key(store):
    with store.transaction():
        insert(store, row())
        insert(store, row(feed="g"))
        assert store.items.known_keys("f", ["guid:1", "guid:2"]) == {"guid:1"}
        with pytest.raises(sqlite3.IntegrityError):
            with store.transaction():
                insert(store, row(title="changed"))
    assert store.items.counts()["items"] == 2


def test_transaction_rolls_back_everything(store):
    with pytest.raises(RuntimeError):
        with store.transaction():
            insert(store, row())
            raise RuntimeError("crash mid-feed")
    assert store.items.counts()["items"] == 0


def test_validators_saved_only_with_the_transaction(store):
    store.feeds.sync([("f", "http://x/rss")])
    with pytest.raises(RuntimeError):
        with store.transaction():
            insert(store, row())
            store.feeds.save_result("f", status="ok", fetched_at="t", etag='"e"', last_modified="lm")
            raise RuntimeError
    state = store.feeds.state("f")
    assert state.etag is None and state.last_status is None


def test_failure_counts_and_reset(store):
    store.feeds.sync([("f", "http://x/rss")])
    for _ in range(3):
        with store.transaction():
            store.feeds.save_result("f", status="error", fetched_at="t", error="HTTP 500", next_poll="n")
    assert store.feeds.state("f").consecutive_failures == 3
    with store.transaction():
        store.feeds.save_result("f", status="ok", fetched_at="t", etag="e", last_modified=None)
    state = store.feeds.state("f")
    assert state.consecutive_failures == 0 and state.last_error is None and state.etag == "e"


def test_changed_url_forgets_validators(store):
    store.feeds.sync([("f", "http://x/rss")])
    with store.transaction():
        store.feeds.save_result("f", status="ok", fetched_at="t", etag="e", last_modified="m")
    store.feeds.sync([("f", "http://y/rss")])
    state = store.feeds.state("f")
    assert state.url == "http://y/rss" and state.etag is None


def test_fingerprint_holders_respect_the_window_for_items_not_corpus(store):
    with store.transaction():
        store.corpus.put({"ref": "001", "path": "/c/001.txt", "mtime": 1.0, "size": 1}, [1, 2, 3])
        old = insert(store, row("guid:old", fetched_at="2020-01-01T00:00:00+00:00"))
        new = insert(store, row("guid:new", fetched_at="2025-11-17T00:00:00+00:00"))
        store.fingerprints.add(Source.item(old), [2, 3, 4])
        store.fingerprints.add(Source.item(new), [3, 4, 5])
    holders = store.fingerprints.holders([2, 3, 4, 5], since="2025-01-01T00:00:00+00:00", cap=10)
    doc, old_item, new_item = Source.corpus("001"), Source.item(old), Source.item(new)
    assert {h: sorted(who) for h, who in holders.items()} == {
        2: [doc], 3: [doc, new_item], 4: [new_item], 5: [new_item]}
    # everything is visible with an older window start; the cap bounds what one hash reads
    assert sorted(store.fingerprints.holders([3], since="2000", cap=10)[3]) == [doc, old_item, new_item]
    assert len(store.fingerprints.holders([3], since="2000", cap=1)[3]) == 2
    with store.transaction():
        assert store.fingerprints.prune("2025-01-01T00:00:00+00:00") == 3  # the old item's three; corpus stays
    assert sorted(store.fingerprints.holders([3], since="2000", cap=10)[3]) == [doc, new_item]
    with store.transaction():
        store.corpus.delete("001")
    assert store.fingerprints.holders([1, 2], since="2000", cap=10) == {}


def test_fingerprints_of_a_corpus_document_need_the_document(store):
    with pytest.raises(ValueError):
        store.fingerprints.add(Source.corpus("nope"), [1])


def test_query_flagged_and_matches(store):
    with store.transaction():
        a = insert(store, row("guid:a", published="2025-11-17T10:00:00+00:00"))
        b = insert(store, row("guid:b", published="2025-11-18T10:00:00+00:00"))
        c = insert(store, row("guid:c", status="duplicate", dup_kind="corpus", dup_ref="001", dup_score=1.0))
        store.matches.replace(a, [Match("Amani", "figure", ("امانی",), 2, "snip")])
        store.matches.replace(c, [Match("Amani", "figure", ("امانی",), 1, "snip")])
    flagged = store.items.query(flagged=True)
    assert [r["id"] for r in flagged] == [a]
    assert flagged[0]["matches"] == [{"watch": "Amani", "kind": "figure", "terms": ["امانی"], "count": 2,
                                      "snippet": "snip"}]
    assert [r["id"] for r in store.items.query()] == [b, c, a]  # newest first, then newest id
    assert [r["id"] for r in store.items.query(since="2025-11-18T00:00:00+00:00")] == [b]
    assert [r["id"] for r in store.items.query(status="duplicate")] == [c]
    assert store.items.query(flagged=True, watch=["Nobody"]) == []


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
            a = insert(store, row("guid:a", fetched_at="2025-11-17T00:00:00+00:00"))
            store.fingerprints.add(Source.item(a), [30, 10, 20])
        assert store.db.one("SELECT count(*) FROM fingerprints") == 0  # deferred...
        holders = store.fingerprints.holders
        assert holders([10, 99], since="2025-01-01", cap=5) == {10: [Source.item(a)]}  # ...but seen
        with pytest.raises(RuntimeError):
            with store.transaction():
                b = insert(store, row("guid:b", fetched_at="2025-11-17T00:00:00+00:00"))
                store.fingerprints.add(Source.item(b), [10, 40])
                raise RuntimeError("this feed failed")
        assert holders([10, 40], since="2025-01-01", cap=5) == {10: [Source.item(a)]}
        with store.transaction():
            c = insert(store, row("guid:c", fetched_at="2025-11-17T00:00:00+00:00"))
            store.fingerprints.add(Source.item(c), [50, 10])  # shares 10 with a, both still pending
        assert holders([10, 50], since="2025-01-01", cap=5) == {10: [Source.item(a), Source.item(c)],
                                                                50: [Source.item(c)]}
        assert holders([10], since="2025-01-01", cap=0) == {10: [Source.item(a)]}  # cap + 1 holders
        group.flush()
    assert store.db.execute("SELECT hash, doc FROM fingerprints").fetchall() == [
        (10, a), (10, c), (20, a), (30, a), (50, c)]
    assert store.db.one("SELECT count(*) FROM items") == 2  # a and c; b rolled back


def test_a_commit_group_that_fails_leaves_nothing(store):
    with pytest.raises(RuntimeError):
        with store.commit_group(3600) as group:
            group.ready()
            with store.transaction():
                a = insert(store, row("guid:a"))
                store.fingerprints.add(Source.item(a), [1, 2])
            raise RuntimeError("crash")
    assert store.db.one("SELECT count(*) FROM items") == 0
    assert store.db.one("SELECT count(*) FROM fingerprints") == 0
    assert store.fingerprints.recent_held([1, 2], after=0) == set()  # nothing left waiting in memory


def test_any_known_sees_corpus_windowed_items_and_pending_rows(store):
    with store.transaction():
        store.corpus.put({"ref": "001", "path": "/c/001.txt", "mtime": 1.0, "size": 1}, [1])
        old = insert(store, row("guid:old", fetched_at="2020-01-01T00:00:00+00:00"))
        store.fingerprints.add(Source.item(old), [2])
    assert store.fingerprints.any_known([9, 1], since="2025-01-01")
    assert not store.fingerprints.any_known([2, 9], since="2025-01-01")  # only an item outside the window holds 2
    assert store.fingerprints.any_known([2], since="2000-01-01")
    with store.commit_group(3600) as group:
        group.ready()
        with store.transaction():
            new = insert(store, row("guid:new", fetched_at="2025-11-17T00:00:00+00:00"))
            store.fingerprints.add(Source.item(new), [3])
        assert store.fingerprints.any_known([3], since="2025-01-01")  # still pending, already seen


def test_fingerprints_queued_twice_are_written_once(store):
    """Deferred rows go in with a plain INSERT (speed issue); a text queued twice, or rows already stored, fall
    back to INSERT OR IGNORE instead of failing the transaction."""
    with store.transaction():
        a = insert(store, row("guid:a"))
        store.fingerprints.add(Source.item(a), [5, 6])
    with store.transaction():
        store.fingerprints.add(Source.item(a), [1, 2, 3])
        store.fingerprints.add(Source.item(a), [3, 4, 5])  # 3 queued twice, 5 already stored
    assert store.db.execute("SELECT hash FROM fingerprints WHERE doc = ? ORDER BY hash", [a]).fetchall() == [
        (1,), (2,), (3,), (4,), (5,), (6,)]


def test_open_records_the_schema_version(tmp_path):
    from monitor.store.schema import known_migrations

    Store.open(tmp_path / "m.db").close()
    assert sqlite3.connect(tmp_path / "m.db").execute("PRAGMA user_version").fetchone()[0] == len(known_migrations())


@pytest.mark.parametrize("readonly", [False, True])
@pytest.mark.parametrize("change", ["migration", "user_version"])
def test_a_newer_schema_is_refused_and_left_untouched(tmp_path, change, readonly):
    path = tmp_path / "m.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    if change == "migration":
        conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('monitor', 'm042_later', '2031')")
    else:
        conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer version of the monitor"):
        Store.open(path, readonly=readonly)
    assert path.read_bytes() == before


@pytest.mark.parametrize("readonly", [False, True])
def test_another_applications_database_is_refused_and_left_untouched(tmp_path, readonly):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE _sqlite_migrations (migration_set TEXT, name TEXT, applied_at TEXT)")
    conn.execute("INSERT INTO _sqlite_migrations VALUES ('someone-else', 'm001', '2020-01-01')")
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a monitor database"):
        Store.open(path, readonly=readonly)
    assert path.read_bytes() == before and not (tmp_path / "other.db-wal").exists()


def test_an_empty_file_becomes_a_monitor_database(tmp_path):
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    Store.open(path).close()
    assert "items" in {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}


def test_item_counts_follow_every_write_of_items_and_matches(store):
    """m013's triggers keep item_counts equal to a count of the rows, through inserts, re-matches (a match
    removed, added, replaced), a status change and an item's deletion (its matches cascade after it)."""
    def counted():
        one = store.db.one
        return {"new": one("SELECT count(*) FROM items WHERE status = 'new'"),
                "duplicate": one("SELECT count(*) FROM items WHERE status = 'duplicate'"),
                "flagged": one("SELECT count(*) FROM items i WHERE status = 'new'"
                               " AND EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id)")}

    m = lambda w: Match(watch=w, kind="figure", terms=("x",), count=1, snippet="x")  # noqa: E731
    with store.transaction():
        a = insert(store, row("guid:1"))
        b = insert(store, row("guid:2", status="duplicate"))
        c = insert(store, row("guid:3"))
        store.matches.add_many([(a, m("A")), (a, m("B")), (b, m("A"))])
    seen = [store.items.status_counts()]
    assert seen[-1] == counted() == {"new": 2, "duplicate": 1, "flagged": 1}
    steps = [lambda: store.matches.replace(a, [m("B")]),  # one of two removed: still flagged
             lambda: store.matches.replace(a, []),  # the last removed
             lambda: store.matches.replace(c, [m("A"), m("C")]),
             lambda: store.db.execute("UPDATE items SET status = 'new' WHERE id = ?", [b]),
             lambda: store.db.execute("UPDATE items SET status = 'duplicate' WHERE id = ?", [c]),
             lambda: store.db.execute("DELETE FROM items WHERE id = ?", [b])]
    for step in steps:
        with store.transaction():
            step()
        seen.append(store.items.status_counts())
        assert seen[-1] == counted()
    assert [s["flagged"] for s in seen] == [1, 1, 0, 1, 2, 1, 0]


def test_the_window_lookups_seek_through_indexes_and_never_walk_every_stored_item(store):
    """A cycle must not slow as items pile up (speed issue, bench/growth.py): each statement of the writer's and
    the workers' window lookups is an index search. Seen once: the window's first item was found by walking the
    items from the oldest (0.16 s a feed at 100,000 items stored)."""
    with store.transaction():
        for n in range(30):
            item = insert(store, row(f"guid:{n}", fetched_at=f"2025-11-{n % 28 + 1:02d}T00:00:00+00:00",
                                     title_hash=f"t{n % 3}", body_hash=f"b{n}"))
            store.fingerprints.add(Source.item(item), [n, n + 1])
            store.stories.add([(item, "2025-11-01T00:00:00+00:00", "t")],
                              [(item, item, b"\x00" * 8, f"2025-11-{n % 28 + 1:02d}T00:00:00+00:00")])
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    try:
        since = "2025-11-20T00:00:00+00:00"
        store.fingerprints.held([1, 2, 3], since)
        store.fingerprints.any_known([1, 2, 3], "2025-11-21T00:00:00+00:00")
        store.fingerprints.holders([1, 2], "2025-11-22T00:00:00+00:00", cap=5)
        store.items.exact_matches([("f", "1", None, "b1", None, "t1")], since)
        list(store.stories.recent(since, 0))  # a generator: its statement runs as it is read
    finally:
        store.db.conn.set_trace_callback(None)
    walked = []
    tables = {r[0] for r in store.db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for sql in statements:
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        for *_, detail in store.db.conn.execute("EXPLAIN QUERY PLAN " + sql):
            bounded = ("subquery" in detail or "VIRTUAL TABLE" in detail  # a LIMITed subquery, the json_each list
                       or detail.split()[1] not in tables)  # a subquery's alias ("SCAN d"), not a stored table
            if detail.startswith(("SCAN", "SEARCH")) and "USING" not in detail and not bounded:
                walked.append((detail, sql[:90]))
    assert statements and not walked
