"""The fingerprint index in two levels (m017, issue 19): rows are written to the small fingerprints_fresh and folded
into the big fingerprints now and then. Whatever level a row is in, every lookup and every delete must answer as
the one table did; the fold must move each row once, in one transaction. Real SQLite files, and PostgreSQL
(tests/pg_server.py) where CI runs it."""

from __future__ import annotations

import random

import pytest

from monitor.errors import StoreError
from monitor.models import Source
from monitor.store import Store
from monitor.store import fingerprints as fingerprints_module

WINDOW = "2025-11-10T00:00:00+00:00"  # items fetched before it are outside the near-duplicate window


@pytest.fixture
def open_store(database):
    """Store.open on the test's database (a SQLite file or a fresh PostgreSQL database); closed at the end."""
    opened: list[Store] = []

    def open_() -> Store:
        opened.append(Store.open(database))
        return opened[-1]
    yield open_
    for store in opened:
        store.close()


def level_rows(store: Store) -> dict[str, list[tuple[int, int]]]:
    return {t: [tuple(r) for r in store.db.execute(f"SELECT hash, doc FROM {t} ORDER BY hash, doc")]
            for t in fingerprints_module.LEVELS}


def fill(store: Store, texts: list[tuple[str, list[int]]], fold_after: int | None,
         fetched_at: str | None = None) -> list[Source]:
    """Store items (fetched at `fetched_at`, else spread across WINDOW) and corpus documents with their hashes, in
    one transaction each; fold after the first `fold_after` texts (None: never)."""
    sources = []
    for n, (kind, hashes) in enumerate(texts):
        with store.transaction():
            if kind == "corpus":
                ref = f"c{n:03d}"
                store.corpus.put({"ref": ref, "path": f"/c/{ref}.txt", "mtime": 1.0, "size": 1}, hashes)
                sources.append(Source.corpus(ref))
            else:
                item_id = store.items.reserve_ids(1)[0]
                day = 1 + n % 20  # 1-20 November: half outside the window
                store.items.insert_new([{
                    "id": item_id, "feed": "f", "key": f"guid:{item_id}", "guid": str(item_id), "link": None,
                    "canonical_link": None, "title": "t", "summary": "", "body": "b", "published": None,
                    "fetched_at": fetched_at or f"2025-11-{day:02d}T{n % 24:02d}:00:00+00:00", "status": "new"}])
                store.fingerprints.add(Source.item(item_id), hashes)
                sources.append(Source.item(item_id))
        if fold_after is not None and n + 1 == fold_after:
            store.fingerprints.fold()
    return sources


def random_texts(seed: int, count: int = 60) -> list[tuple[str, list[int]]]:
    """Texts over a small hash space, so many hashes have several holders (more than a cap of 2 or 5)."""
    rng = random.Random(seed)
    return [("corpus" if rng.random() < 0.15 else "item", sorted(rng.sample(range(1, 120), rng.randint(3, 25))))
            for _ in range(count)]


def answers(store: Store, since: str) -> tuple:
    asked = list(range(0, 125))
    fp = store.fingerprints
    return (sorted(fp.held(asked, since)), {cap: fp.holders(asked, since, cap) for cap in (0, 2, 5, 100)},
            [fp.any_known([h], since) for h in asked], fp.any_known(asked, since))


@pytest.mark.parametrize("seed", [1, 2])
def test_lookups_answer_as_one_table_whichever_level_the_rows_are_in(open_store, seed, tmp_path):
    """The same texts stored three ways: all folded into the big table (one table, as before m017), all fresh,
    and split (a fold part-way); held, holders (up to cap + 1 holders in all, the smallest docs first, as one
    table in key order gave) and any_known give the same answers, inside and across the window."""
    texts = random_texts(seed)
    folded = open_store()
    fill(folded, texts, fold_after=len(texts))
    assert not level_rows(folded)["fingerprints_fresh"]
    ways = {"fresh": Store.open(tmp_path / "fresh.db"), "split": Store.open(tmp_path / "split.db")}
    try:
        fill(ways["fresh"], texts, fold_after=None)
        fill(ways["split"], texts, fold_after=len(texts) // 2)
        split = level_rows(ways["split"])
        assert split["fingerprints"] and split["fingerprints_fresh"]  # both levels hold rows
        for since in (WINDOW, "2000-01-01T00:00:00+00:00", "2030-01-01T00:00:00+00:00"):
            expected = answers(folded, since)
            assert expected[0] and any(len(v) > 2 for v in expected[1][100].values())  # the caps are reached
            for name, store in ways.items():
                assert answers(store, since) == expected, (name, since)
    finally:
        for store in ways.values():
            store.close()


def test_pending_rows_of_an_open_group_are_seen_beside_both_levels(open_store):
    store = open_store()
    fill(store, [("item", [1, 2]), ("item", [2, 3])], fold_after=1)
    with store.commit_group(3600) as group:
        group.ready()
        with store.transaction():
            (third,) = fill(store, [("item", [2, 4])], fold_after=None)
        assert sorted(store.fingerprints.held([1, 2, 3, 4, 5], "2000-01-01")) == [1, 2, 3, 4]
        holders = store.fingerprints.holders([2], "2000-01-01", cap=5)[2]
        assert len(holders) == 3 and holders[-1] == third


def test_a_fold_moves_every_row_once_and_a_second_fold_moves_nothing(open_store):
    store = open_store()
    fill(store, [("item", [5, 6, 7]), ("corpus", [6, 8])], fold_after=None)
    before = level_rows(store)
    assert not before["fingerprints"] and len(before["fingerprints_fresh"]) == 5
    assert store.fingerprints.fold() == 5
    after = level_rows(store)
    assert after == {"fingerprints": before["fingerprints_fresh"], "fingerprints_fresh": []}
    assert store.fingerprints.fold() == 0
    assert level_rows(store) == after
    # A row in both levels (a text indexed again outside a transaction): folded once, the fold does not fail.
    item = Source.item(after["fingerprints"][0][1])
    store.fingerprints.add(item, [5, 9])
    assert store.fingerprints.fold() == 2
    assert level_rows(store)["fingerprints"] == sorted(after["fingerprints"] + [(9, int(item.ref))])
    assert level_rows(store)["fingerprints_fresh"] == []


def test_a_fold_that_fails_part_way_leaves_both_levels_as_they_were(tmp_path):
    """One transaction: the fold is stopped by SQLite itself (a progress handler interrupting its DELETE, after
    its INSERT ran), and both tables are as before; the next fold moves everything."""
    store = Store.open(tmp_path / "m.db")
    try:
        fill(store, [("item", list(range(1, 400))), ("item", list(range(200, 900)))], fold_after=None)
        before = level_rows(store)
        running: list[str] = []
        store.db.conn.set_trace_callback(running.append)
        store.db.conn.set_progress_handler(
            lambda: int(bool(running) and running[-1].startswith("DELETE FROM fingerprints_fresh")), 1)
        with pytest.raises(StoreError, match="interrupt"):
            store.fingerprints.fold()
        store.db.conn.set_progress_handler(None, 0)
        store.db.conn.set_trace_callback(None)
        assert any(s.startswith("INSERT INTO fingerprints ") for s in running)  # the INSERT had run
        assert level_rows(store) == before
        assert store.fingerprints.fold() == len(before["fingerprints_fresh"])
        assert level_rows(store) == {"fingerprints": before["fingerprints_fresh"], "fingerprints_fresh": []}
    finally:
        store.close()


def test_prune_forget_and_corpus_deletes_cover_both_levels(open_store):
    store = open_store()
    texts = [("item", [1, 2]), ("corpus", [2, 3]), ("item", [3, 4]), ("corpus", [4, 5])]
    sources = fill(store, texts, fold_after=2)  # an item and a corpus document in each level
    old_item, first_doc, _, second_doc = sources
    # prune: items fetched before the bound go from both levels; corpus rows stay
    with store.transaction():
        pruned = store.fingerprints.prune("2030-01-01T00:00:00+00:00")  # every item is older
    assert pruned == 4
    rows = level_rows(store)
    assert all(doc < 0 for level in rows.values() for _, doc in level)
    assert rows["fingerprints"] and rows["fingerprints_fresh"]
    # one corpus document deleted (its rows were folded), then the other (fresh), then all of them
    with store.transaction():
        store.corpus.delete(first_doc.ref)
    assert {doc for level in level_rows(store).values() for _, doc in level} == {
        doc for _, doc in rows["fingerprints_fresh"]}
    fill(store, [("corpus", [7, 8])], fold_after=1)
    with store.transaction():
        store.corpus.delete(second_doc.ref)
    assert len(level_rows(store)["fingerprints"]) == 2 and not level_rows(store)["fingerprints_fresh"]
    with store.transaction():
        store.corpus.forget_all()
    assert level_rows(store) == {"fingerprints": [], "fingerprints_fresh": []}
    # forget_items: every item's rows, in both levels
    fill(store, [("item", [1]), ("corpus", [2]), ("item", [3])], fold_after=2)
    with store.transaction():
        store.fingerprints.forget_items()
    left = [doc for level in level_rows(store).values() for _, doc in level]
    assert left == [-1]  # the one corpus document's row (forget_all renumbered the corpus)
    assert old_item.kind == "item"


def test_housekeeping_folds_once_the_fresh_level_is_over_the_rule(open_store, tmp_path, monkeypatch):
    from monitor import housekeeping
    from monitor.config import load_config
    from monitor.dates import now_utc, to_iso

    store = open_store()
    path = tmp_path / "config.yaml"
    path.write_text(f"database: {store.db.path}\ncorpus: []\narticles: {{full_text: never}}\nfeeds: []\n"
                    "watch: [{name: x, kind: other, terms: [x]}]\n", encoding="utf-8")
    config = load_config(path)
    now = to_iso(now_utc())  # inside the window: housekeeping's prune leaves them
    housekeeping.prepare(config, store)  # a first cycle: the fingerprint scheme recorded (no re-fingerprinting)
    fill(store, [("item", [1, 2, 3]), ("item", [4, 5])], fold_after=None, fetched_at=now)
    monkeypatch.setattr(fingerprints_module, "FOLD_ROWS", 5)  # a rule this small data can cross
    assert not store.fingerprints.fold_due()
    housekeeping.prepare(config, store)
    assert len(level_rows(store)["fingerprints_fresh"]) == 5  # not over the rule: left fresh
    fill(store, [("item", [6])], fold_after=None, fetched_at=now)
    assert store.fingerprints.fold_due()
    housekeeping.prepare(config, store)
    assert level_rows(store)["fingerprints_fresh"] == [] and len(level_rows(store)["fingerprints"]) == 6
