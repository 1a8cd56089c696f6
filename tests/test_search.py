"""`monitor search` end to end: fixture feeds and real snapshots polled from 127.0.0.1 by `monitor poll`, then
searched by the real CLI in a subprocess, over a real SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml

from conftest import FEEDS, REPO, SEEDS, SHARED, run_cli, run_json
from monitor.text import fold

SNAPSHOTS = SHARED / "corpora" / "persian-feeds"


def poll_folder(tmp: Path, folder: Path, files: list[str] | None = None) -> Path:
    """Serve `folder`'s feeds on 127.0.0.1, poll them once into a new database; the config's path."""
    from monitor.feedserver import FeedServer

    shipped = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    names = files or sorted(p.name for p in folder.iterdir() if p.suffix in (".xml", ".atom"))
    with FeedServer(folder) as server:
        raw = {"database": str(tmp / "monitor.db"), "corpus": [str(SEEDS)],
               "articles": {"full_text": "never"},  # real snapshots link to the outlets: loopback only
               "feeds": [{"name": Path(n).stem.split("_")[0], "url": server.url(n)} for n in names],
               "watch": shipped["watch"]}
        config = tmp / "config.yaml"
        config.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
        proc = run_cli("poll", "--config", str(config))
        assert proc.returncode == 0, proc.stderr
    return config


@pytest.fixture(scope="module")
def polled(tmp_path_factory) -> Path:
    return poll_folder(tmp_path_factory.mktemp("search"), FEEDS)


def search(config: Path, query: str, *extra: str) -> list[dict]:
    return run_json("search", query, "--config", str(config), "--format", "json", "--limit", "500", *extra)["items"]


def ids(config: Path, query: str, *extra: str) -> set[int]:
    return {item["id"] for item in search(config, query, *extra)}


# Each family: spellings of one name or word that the matcher folds alike; all must find the same items.
FAMILIES = {
    "yeh/kaf": ["کیم", "كيم", "كیم"],
    "hamza": ["مؤتلفه", "موتلفه", "مؤتلفه"],
    "diacritics": ["امانی", "اَمانی", "امانیّ"],
    "digits": ["۱۴۰۵", "1405", "١٤٠٥"],
    "ZWNJ, space or nothing": ["کیم‌جونگ‌اون", "کیم جونگ اون", "کیمجونگاون", '"کیم جونگ‌اون"', "کیم جونگ-اون"],
    "joined or split": ["محمدعلی امانی", '"محمد علی امانی"', "محمد‌علی امانی", '"محمدعلی امانی"'],
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_spelling_of_a_family_finds_the_same_items(polled, family):
    found = {spelling: ids(polled, spelling) for spelling in FAMILIES[family]}
    first = found[FAMILIES[family][0]]
    assert first, f"{family}: {FAMILIES[family][0]} found nothing"
    assert all(f == first for f in found.values()), found


def test_the_joined_and_split_name_are_found_in_both_spellings_of_the_fixtures(polled):
    # The fixtures write the name both ways: item titles «محمدعلی امانی», a body «محمد علی امانی».
    hits = {item["hit"]["text"] for item in search(polled, '"محمد علی امانی"')}
    assert {fold(h) for h in hits} == {fold("محمدعلی امانی")}
    assert any("محمد علی" in h for h in hits) and any("محمدعلی" in h for h in hits), hits


def test_a_word_is_never_found_inside_a_longer_word(polled):
    # mehr's weather item has «سامانه», «بی‌امانی» and «خیابان سامانی», never «امانی» alone.
    weather = search(polled, "سامانی")
    assert [i["title"] for i in weather] and all("سامان" in i["title"] for i in weather)
    weather_ids = {i["id"] for i in weather}
    assert not weather_ids & ids(polled, "امانی")
    assert not weather_ids & ids(polled, "امان*")  # a prefix starts at a word start too
    for item in search(polled, "امانی"):
        assert fold(item["hit"]["text"]) == fold("امانی"), item["hit"]


def test_attached_affixes_written_any_way_still_find_the_word(polled):
    # «مؤتلفه‌ای‌ها» (ZWNJ) is the same word as «مؤتلفه ای ها» (spaces), where «مؤتلفه» is a word of its own.
    party = {i["id"]: i["hit"]["text"] for i in search(polled, "مؤتلفه")}
    assert "مؤتلفه‌ای‌ها" in party.values()


def test_phrases_and_or_not_prefix_and_ranking(polled):
    amani, medvedev = ids(polled, "امانی"), ids(polled, "مدودف")
    assert ids(polled, "امانی AND مدودف") == ids(polled, "امانی مدودف") == amani & medvedev
    assert ids(polled, "امانی OR مدودف") == amani | medvedev
    assert ids(polled, "امانی NOT مدودف") == amani - medvedev
    assert ids(polled, "(امانی OR مدودف) NOT موتلفه") == (amani | medvedev) - ids(polled, "موتلفه")
    assert ids(polled, "مدود*") == medvedev
    items = search(polled, "مؤتلفه")
    ranks = [i["rank"] for i in items]
    assert ranks == sorted(ranks)  # bm25, best (lowest) first
    assert len(items) > 1


def test_filters_and_json_shape(polled):
    every = search(polled, "مؤتلفه")
    item = every[0]
    assert set(item) >= {"id", "guid", "feed", "title", "link", "published", "fetched_at", "status",
                         "duplicate_of", "flagged", "matches", "rank", "hit", "triage"}
    hit = item["hit"]
    assert set(hit) == {"field", "start", "end", "text", "snippet", "marks"}
    for start, end in hit["marks"]:
        assert fold(hit["snippet"][start:end]).startswith(fold("مؤتلفه"))
    doc = run_json("search", "مؤتلفه", "--config", str(polled), "--format", "json")
    assert doc["query"] == "مؤتلفه"
    feeds = {i["feed"] for i in every}
    assert len(feeds) > 1
    one = sorted(feeds)[0]
    assert {i["feed"] for i in search(polled, "مؤتلفه", "--feed", one)} == {one}
    assert {i["status"] for i in search(polled, "مؤتلفه", "--status", "new")} == {"new"}
    flagged = search(polled, "مؤتلفه", "--watch", "Motalefeh Islamic Party")
    assert flagged and all(any(m["watch"] == "Motalefeh Islamic Party" for m in i["matches"]) for i in flagged)
    assert len(search(polled, "مؤتلفه", "--limit", "1")) == 1
    assert search(polled, "مؤتلفه", "--since", "2025-11-20", "--until", "2025-11-21")  # Tehran midnights
    assert not search(polled, "مؤتلفه", "--until", "2000-01-01")


def test_table_and_csv(polled):
    table = run_cli("search", "امانی", "--config", str(polled))
    assert table.returncode == 0 and "امانی" in table.stdout and "items for" in table.stdout
    csv = run_cli("search", "امانی", "--config", str(polled), "--format", "csv")
    lines = csv.stdout.splitlines()
    assert lines[0].endswith(",rank,hit,hit_snippet") and len(lines) == 1 + len(search(polled, "امانی"))


@pytest.mark.parametrize("query", ['"امانی', "امانی OR", "AND امانی", "NOT امانی", "(امانی", "امانی)", "()",
                                   "*", "؟!", "", "امانی OR OR مدودف"])
def test_a_bad_query_exits_2_with_one_line(polled, query):
    proc = run_cli("search", query, "--config", str(polled))
    assert proc.returncode == 2, (query, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: query: "), proc.stderr
    assert proc.stdout == ""


def test_fts_operators_in_a_word_are_only_text(polled):
    # Characters FTS5 would read as syntax (":", "^", "+", "-") are punctuation to the fold, never an error.
    for query in ("title:امانی", "^امانی", "امانی+", "-امانی", "NEAR(امانی)"):
        proc = run_cli("search", "--config", str(polled), "--format", "json", "--", query)
        assert proc.returncode == 0, (query, proc.stderr)


def test_unknown_feed_or_watch_and_bad_dates_exit_2(polled):
    for args in (["--feed", "nope"], ["--watch", "nobody"], ["--since", "tomorrowish"], ["--until", "x"]):
        proc = run_cli("search", "امانی", "--config", str(polled), *args)
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, (args, proc.stderr)


def test_items_gains_feed_and_watch(polled):
    every = run_json("items", "--config", str(polled), "--format", "json")["items"]
    mehr = run_json("items", "--config", str(polled), "--format", "json", "--feed", "mehr")["items"]
    assert mehr and {i["feed"] for i in mehr} == {"mehr"} and len(mehr) == sum(i["feed"] == "mehr" for i in every)
    amani = run_json("items", "--config", str(polled), "--format", "json", "--watch", "Mohammad-Ali Amani")["items"]
    assert amani and all(any(m["watch"] == "Mohammad-Ali Amani" for m in i["matches"]) for i in amani)
    assert run_cli("items", "--config", str(polled), "--feed", "nope").returncode == 2


def test_the_index_is_written_with_the_items(polled):
    db = yaml.safe_load(polled.read_text(encoding="utf-8"))["database"]
    conn = sqlite3.connect(db)
    try:
        items = conn.execute("SELECT count(*) FROM items").fetchone()[0]
        assert conn.execute("SELECT count(*) FROM search").fetchone()[0] == items > 0
        assert conn.execute("SELECT count(*) FROM search_pending").fetchone()[0] == 0
    finally:
        conn.close()


# ------------------------------------------------------------------------------------------ real snapshots
@pytest.fixture(scope="module")
def snapshots(tmp_path_factory) -> Path:
    if not SNAPSHOTS.is_dir():
        pytest.skip(f"{SNAPSHOTS} is not here")
    files = [n for n in ("tabnak_allnews_2018-07-21.xml", "farsnews_rss_2019-07-09_trimmed.xml",
                         "hoder_editormyself_persian_2005-10-12.xml") if (SNAPSHOTS / n).exists()]
    return poll_folder(tmp_path_factory.mktemp("snapshots"), SNAPSHOTS, files)


def respell(word: str) -> list[str]:
    """Spellings of a word the fold makes equal: Arabic yeh and kaf, a diacritic, a tatweel, Arabic digits."""
    arabic = word.replace("ی", "ي").replace("ک", "ك")
    marked = word[0] + "\u064e" + word[1:]
    stretched = word[:2] + "\u0640" + word[2:]
    digits = word.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹0123456789", "٠١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨٩"))
    return [word, arabic, marked, stretched, digits]


@pytest.mark.parametrize("word", ["ایران", "کشور", "رئیس", "آمریکا", "اسلامی", "مجلس"])
def test_real_snapshots_every_spelling_finds_the_same_items(snapshots, word):
    found = [ids(snapshots, spelling) for spelling in respell(word)]
    assert found[0], f"{word} is in none of the snapshots' items"
    assert all(f == found[0] for f in found), (word, found)
    for item in search(snapshots, word):  # every hit is the word itself, or it with an attached affix
        hit = fold(item["hit"]["text"])
        assert hit.startswith(fold(word)) or hit.endswith(fold(word)) or fold(word) in hit, item["hit"]
        assert len(hit) - len(fold(word)) <= 5, item["hit"]


def test_real_snapshots_a_split_compound_finds_its_joined_spelling(snapshots):
    # «می‌شود», «می شود» and «میشود» are one word however a site writes the half-space.
    found = [ids(snapshots, q) for q in ("می‌شود", "می شود", "میشود", '"می شود"')]
    assert found[0] and all(f == found[0] for f in found), found


# ------------------------------------------------------------------------------------------ migration
def downgrade(db: str) -> None:
    """Make the database what the schema before the search index (main before m010) left: no index tables,
    no record of m010, the older user_version. Nothing else of the schema differs."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("DROP TABLE search")
        conn.execute("DROP TABLE search_pending")
        conn.execute("DROP TABLE search_articles")
        conn.execute("DELETE FROM meta WHERE key = 'search_scheme'")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm010_search_index'")
        version = conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
        conn.execute(f"PRAGMA user_version = {version}")
        conn.commit()
    finally:
        conn.close()


def test_search_works_on_a_database_from_before_the_index(tmp_path):
    config = poll_folder(tmp_path, FEEDS)
    db = yaml.safe_load(config.read_text(encoding="utf-8"))["database"]
    before = ids(config, "مؤتلفه")
    downgrade(db)
    proc = run_cli("search", "مؤتلفه", "--config", str(config), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert "search index: 14 stored items indexed" in proc.stderr
    assert before and ids(config, "مؤتلفه") == before
    assert "indexed" not in run_cli("search", "مؤتلفه", "--config", str(config)).stderr  # built once


def test_poll_builds_the_index_of_a_database_from_before_it(tmp_path):
    config = poll_folder(tmp_path, FEEDS)
    db = yaml.safe_load(config.read_text(encoding="utf-8"))["database"]
    before = ids(config, '"کیم جونگ اون"')
    downgrade(db)
    proc = run_cli("poll", "--config", str(config))  # the feeds are gone: every feed fails, the index is built
    assert proc.returncode == 0, proc.stderr
    assert "search index: 14 stored items indexed" in proc.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM search").fetchone()[0] == 14
    conn.close()
    assert before and ids(config, '"کیم جونگ اون"') == before


def test_an_item_whose_article_text_arrives_later_is_indexed_again(tmp_path):
    """A page fetched again after a failure brings the article text later (refresh.Writer._store_retried: the
    items' update_pages, then the index's reindex, in one transaction). The item is re-indexed twice (the article text arrives, then changes): each time its new words are found,
    the old article's are not, and its feed words stay."""
    from monitor import search as searching
    from monitor.store import Store

    config = poll_folder(tmp_path, FEEDS)
    db = yaml.safe_load(config.read_text(encoding="utf-8"))["database"]
    found = sorted(ids(config, "مدودف"))
    store = Store.open(db)
    try:
        for article, gone in (("متن کامل: گفت‌وگوی زاگرس‌نشینان در سمرقند", None),
                              ("متن دیگر: دیدار در بخارا", "سمرقند")):
            with store.transaction():
                store.items.update_pages([{"id": found[0], "page_status": "ok", "page_reason": None,
                                           "page_attempts": 2, "article_text": article, "body_source": "page"}])
                store.search.reindex([found[0]])
            assert store.search.pending() == 1
            assert searching.catch_up(store) == 1 and store.search.pending() == 0
            assert [r["id"] for r in searching.run(store, article.split()[-1])] == [found[0]]
            if gone:  # the first article's words left the index with its row
                assert not [r["id"] for r in searching.run(store, gone)]
    finally:
        store.close()
    hits = search(config, "بخارا")
    assert [i["id"] for i in hits] == [found[0]] and hits[0]["hit"]["field"] == "article_text"
    assert sorted(ids(config, "مدودف")) == found  # the feed text's words are still there
    assert sorted(ids(config, '"زاگرس نشینان"')) == []
    shown = run_json("show", str(found[0]), "--config", str(config), "--format", "json")
    assert shown["article_text"] == "متن دیگر: دیدار در بخارا"


def test_index_rows_of_a_feed_that_fails_roll_back_with_it(tmp_path):
    """The rows wait in memory until the commit (as fingerprints do); a feed's savepoint that rolls back drops
    its rows, the other feeds' rows commit with their items."""
    from monitor import search as searching
    from monitor.store import Store

    store = Store.open(tmp_path / "m.db")
    try:
        searching.catch_up(store)  # records the fold scheme, as the first poll does

        def item(item_id: int, title: str) -> dict:
            return {"id": item_id, "feed": "f", "key": f"k{item_id}", "title": title, "body": "",
                    "fetched_at": "2025-11-25T08:00:00+00:00", "status": "new"}

        with store.commit_group(60) as group:
            group.ready()
            with store.transaction():
                store.items.insert_new([item(1, "دیدار امانی")])
                store.search.add([(1, *searching.index_text("دیدار امانی", ""))])
            with pytest.raises(RuntimeError):
                with store.transaction():
                    store.items.insert_new([item(2, "دیدار مدودف")])
                    store.search.add([(2, *searching.index_text("دیدار مدودف", ""))])
                    raise RuntimeError("the feed fails")
        assert [r["id"] for r in searching.run(store, "دیدار")] == [1]
        assert store.search.count('"امانی"') == 1 and store.search.count('"مدودف"') == 0  # the index itself
    finally:
        store.close()
