"""The stories' room (store.stories) with the writer's Assigner, on a real SQLite file."""

from __future__ import annotations

import json

from conftest import FIXTURES

from monitor.store import Store
from monitor.stories import Assigner

ROWS = [json.loads(line) for line in (FIXTURES / "stories" / "dev.jsonl").read_text(encoding="utf-8").splitlines()]


def rows_of(labels: list[str], first_id: int, **extra) -> list[dict]:
    picked = [r for r in ROWS if r["story"] in labels]
    return [{"id": first_id + n, "feed": r["feed"], "key": f"k{first_id + n}", "title": r["title"], "body": r["body"],
             "published": r["published"], "fetched_at": r["published"], "status": "new", "dup_kind": None,
             "dup_ref": None, **extra} for n, r in enumerate(picked)]


def store_rows(store: Store, assigner: Assigner, rows: list[dict]) -> dict[int, int]:
    with store.transaction():
        store.items.insert_new([{k: r[k] for k in ("id", "feed", "key", "title", "body", "published", "fetched_at",
                                                     "status", "dup_kind", "dup_ref")} for r in rows])
        return assigner.assign(rows)


def test_a_second_writer_sees_the_stories_the_first_committed(tmp_path):
    """`monitor poll` beside the daemon: each writer tops its window up with what the other stored."""
    path = tmp_path / "s.db"
    first, second = Store.open(path), Store.open(path)
    mehr = [r for r in rows_of(["d02"], 1) if r["feed"] == "mehr"]
    store_rows(first, Assigner(first.stories), mehr)
    others = [r for r in rows_of(["d02"], 10) if r["feed"] != "mehr"]
    got = store_rows(second, Assigner(second.stories), others)
    assert set(got.values()) == {1}  # all joined the story mehr's item started, written by the other connection
    [story] = second.stories.query()
    assert story["id"] == 1 and story["items"] == [1, *sorted(got)] and len(story["feeds"]) == 5
    first.close(), second.close()


def test_a_copy_joins_its_roots_story_and_a_corpus_copy_none(tmp_path):
    store = Store.open(tmp_path / "s.db")
    assigner = Assigner(store.stories)
    original = rows_of(["d08"], 1)[:1]
    store_rows(store, assigner, original)
    copy = dict(original[0], id=2, feed="tabnak", key="k2", status="duplicate", dup_kind="item", dup_ref="1")
    known = dict(original[0], id=3, feed="fars", key="k3", status="duplicate", dup_kind="corpus", dup_ref="000_x")
    assert store_rows(store, assigner, [copy, known]) == {2: 1}
    [story] = store.stories.query()
    assert story["items"] == [1] and story["copies"] == [2] and story["feeds"] == ["mehr", "tabnak"]
    assert store.stories.carried([1, 2, 3]) == {1: (1, original[0]["title"], 2), 2: (1, original[0]["title"], 2)}
    store.close()


def test_old_terms_are_forgotten_and_their_stories_kept(tmp_path):
    store = Store.open(tmp_path / "s.db")
    store_rows(store, Assigner(store.stories), rows_of(["d01", "d13"], 1))
    before = store.stories.query()
    with store.transaction():
        dropped = store.stories.forget_terms("2025-11-20T00:00:00+03:30")  # d01 is of 17 Nov, d13 of 23 Nov
    assert dropped == 5
    assert {row[0] for chunk in store.stories.recent(None, 0) for row in chunk} == set(range(6, 11))
    assert store.stories.query() == before
    store.close()


def test_a_database_from_before_m018_gets_its_members_dates_and_the_same_window(tmp_path):
    """m018 copies each member's date into its row (the window no longer reads items for it): a database migrated
    to it loads the window it loaded before, and new members carry their item's date."""
    import pytest

    path = tmp_path / "s.db"
    store = Store.open(path)
    store_rows(store, Assigner(store.stories), rows_of(["d01", "d13"], 1))
    want = [row for chunk in store.stories.recent("2025-11-01T00:00:00+00:00", 0) for row in chunk]
    dates = dict(store.db.execute("SELECT id, coalesce(published, fetched_at) FROM items"))
    with pytest.raises(ValueError, match="needs its item's date"):
        store.stories.add([], [(99, 99, b"\x01\x00\x00\x00", None)])
    store.close()
    conn = __import__("sqlite3").connect(path)  # as a database written before m018 has it
    conn.executescript("ALTER TABLE story_items DROP COLUMN dated;"
                       " DELETE FROM _sqlite_migrations WHERE name = 'm018_story_item_dates';")
    conn.execute(f"PRAGMA user_version = {conn.execute('SELECT count(*) FROM _sqlite_migrations').fetchone()[0]}")
    conn.commit()
    conn.close()
    store = Store.open(path)
    assert dict(store.db.execute("SELECT item_id, dated FROM story_items")) == dates
    assert [row for chunk in store.stories.recent("2025-11-01T00:00:00+00:00", 0) for row in chunk] == want
    assert len(want) == len(dates) and all(isinstance(when, int) for _, _, when, _ in want)
    store.close()
