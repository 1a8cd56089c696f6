"""Near-duplicates between feed items, end to end: feeds written here, served on 127.0.0.1, `monitor poll` run
as a subprocess, verdicts read back with `monitor items --format json`.

No corpus is configured, so the seed articles are fresh news here and every verdict is item against item:
  - seed 002 first appears in feed `a`; its syndicated copies (an agency header and a footer added, Arabic
    letters and ZWNJ changes; a windows-1256 re-spelling) polled later are duplicates of *that item*;
  - seed 000 quoting one paragraph of 002 (the longest, 98 words, about a fifth of the new text) is new;
  - seeds 001 and 003 share sentences but are different articles: neither is merged into the other, in
    either order, while 001's lead alone is recognised as 001 (it shares 0.24 of its shingles with 003).
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from conftest import SEEDS, run_cli, run_json
from test_e2e import write_config
from monitor.dedup import parse_corpus_document
from monitor.feedserver import FeedServer

DATE = "Sat, 22 Nov 2025 10:00:00 +0330"


def seed(prefix: str):
    return parse_corpus_document(next(SEEDS.glob(f"{prefix}_*.txt")))


def paragraphs(body: str) -> list[str]:
    return [p.strip() for p in body.splitlines() if p.strip()]


def html(paras: list[str]) -> str:
    return "".join(f"<p>{p}</p>" for p in paras)


def rss(items: list[tuple[str, str, str]], encoding: str = "utf-8") -> bytes:
    """An RSS 2.0 feed of (guid, title, html body) items, the body escaped in <description>."""
    entries = "".join(
        f"<item><title>{escape(title)}</title><link>https://example.ir/news/{escape(guid)}</link>"
        f'<guid isPermaLink="false">{escape(guid)}</guid><description>{escape(body)}</description>'
        f"<pubDate>{DATE}</pubDate></item>"
        for guid, title, body in items)
    xml = (f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><title>t</title>'
           f"<link>https://example.ir/</link><description>d</description>{entries}</channel></rss>")
    return xml.encode(encoding)


def respell_arabic(text: str) -> str:
    """What a windows-1256 site publishes: Arabic yeh and kaf, ASCII digits."""
    return text.translate(str.maketrans("یک۰۱۲۳۴۵۶۷۸۹", "يك0123456789"))


def poll(config: Path, *feeds: str) -> None:
    args = [a for f in feeds for a in ("--feed", f)]
    proc = run_cli("poll", "--config", str(config), *args)
    assert proc.returncode == 0, proc.stderr


def by_guid(config: Path) -> dict[str, dict]:
    return {i["guid"]: i for i in run_json("items", "--config", str(config), "--format", "json")["items"]}


@pytest.fixture
def served(tmp_path):
    folder = tmp_path / "feeds"
    folder.mkdir()
    with FeedServer(folder) as server:
        yield folder, server


def test_syndicated_copies_are_duplicates_of_the_first_item_and_001_003_stay_apart(tmp_path, served):
    folder, server = served
    article = seed("002")
    paras = paragraphs(article.body)
    # The original, first seen in feed a.
    (folder / "a.xml").write_bytes(rss([("a-1", article.title, html(paras))]))
    # A syndicator: agency header, ZWNJs dropped and Arabic letters in places, its own footer.
    copy = [p.replace("\u200c", "").replace("ی", "ي", 3) for p in paras]
    copy[0] = "به گزارش ایسنا، " + copy[0]
    footer = ["منبع: روابط عمومی خبرگزاری", "مطالب مرتبط", "- افتتاح نمایشگاه کتاب تهران",
              "- پیش‌بینی بارش باران در استان‌های شمالی", "- آغاز ثبت‌نام آزمون سراسری"]
    (folder / "b.xml").write_bytes(rss([("b-7", "عنوان دیگری برای همان خبر", html(copy + footer))]))
    # A windows-1256 site re-spells it.
    legacy = [respell_arabic(p) for p in paras]
    (folder / "c.xml").write_bytes(rss([("c-3", respell_arabic(article.title), html(legacy))],
                                       encoding="windows-1256"))
    # A new article (seed 000) that quotes 002's longest paragraph in full.
    other = paragraphs(seed("000").body)
    quoted = max(paras, key=len)
    quoting = other[:3] + [f"وی در ادامه گفت: «{quoted}»"] + other[3:]
    (folder / "d.xml").write_bytes(rss([("d-1", seed("000").title or "گزارش تازه", html(quoting))]))

    # And seeds 001 then 003 (then 001's lead), which must stay apart.
    (folder / "e.xml").write_bytes(sharing_feed(("001", "003")))

    config = write_config(tmp_path, {n: server.url(f"{n}.xml") for n in "abcde"}, corpus=[])
    poll(config, "a")
    poll(config, "b", "c", "d", "e")
    items = by_guid(config)
    assert_not_merged(items)
    first = items["a-1"]
    assert first["status"] == "new"
    for guid in ("b-7", "c-3"):
        dup = items[guid]
        assert dup["status"] == "duplicate", guid
        assert dup["duplicate_of"]["kind"] == "item", guid
        assert dup["duplicate_of"]["ref"] == first["id"], guid
    assert items["d-1"]["status"] == "new"


def sharing_feed(order: tuple[str, ...]) -> bytes:
    """Seeds 001 and 003 in full, in the given order, then 001's lead alone."""
    feed = [(f"s-{p}", seed(p).title or p, html(paragraphs(seed(p).body))) for p in order]
    lead = paragraphs(seed("001").body)[:2]  # the lead paragraph and the next one
    return rss(feed + [("lead-001", "سرخط", html(lead))])


def assert_not_merged(items: dict[str, dict]) -> None:
    assert items["s-001"]["status"] == "new"
    assert items["s-003"]["status"] == "new"
    lead = items["lead-001"]
    assert lead["status"] == "duplicate"
    assert (lead["duplicate_of"]["kind"], lead["duplicate_of"]["ref"]) == ("item", items["s-001"]["id"])


def test_articles_sharing_sentences_are_never_merged_003_first(tmp_path, served):
    """Items of one feed are classified in order against those stored before them in the same poll."""
    folder, server = served
    (folder / "one.xml").write_bytes(sharing_feed(("003", "001")))
    config = write_config(tmp_path, {"one": server.url("one.xml")}, corpus=[])
    poll(config)
    assert_not_merged(by_guid(config))


def leave_an_older_scheme(db: Path, where: str) -> int:
    """Make the fingerprint rows `where` selects look like an older version's (other hashes, another scheme
    name), as an upgrade finds them; how many rows that was."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        rows = conn.execute(f"SELECT count(*) FROM fingerprints WHERE {where}").fetchone()[0]
        conn.execute(f"UPDATE fingerprints SET hash = hash + 1 WHERE {where}")
        conn.execute("UPDATE meta SET value = 'old-scheme' WHERE key = 'fingerprint_scheme'")
    conn.close()
    return rows


def test_after_a_fingerprint_scheme_change_stored_items_are_fingerprinted_again(tmp_path, served):
    """An upgrade that changes how fingerprints are computed (the speed issue did) must not make the items
    already stored invisible to the near-duplicate check: the next poll recomputes their fingerprints."""
    import sqlite3

    folder, server = served
    article = seed("002")
    (folder / "a.xml").write_bytes(rss([("a-1", article.title, html(paragraphs(article.body)))]))
    config = write_config(tmp_path, {"a": server.url("a.xml"), "b": server.url("b.xml")}, corpus=[])
    poll(config, "a")
    db = tmp_path / "state" / "test.db"
    stored = leave_an_older_scheme(db, "doc > 0")
    assert stored > 20
    lead = paragraphs(article.body)[:2]
    (folder / "b.xml").write_bytes(rss([("b-1", "سرخط", html(["به گزارش ایسنا، " + lead[0], *lead[1:]]))]))
    poll(config, "b")
    items = by_guid(config)
    assert items["b-1"]["status"] == "duplicate"
    assert items["b-1"]["duplicate_of"] == {**items["b-1"]["duplicate_of"], "kind": "item",
                                             "ref": items["a-1"]["id"]}
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'fingerprint_scheme'").fetchone()[0] != "old-scheme"
        assert conn.execute("SELECT count(*) FROM fingerprints WHERE doc > 0").fetchone()[0] == stored
    conn.close()


def test_after_a_fingerprint_scheme_change_the_corpus_is_fingerprinted_again(tmp_path, served):
    """The corpus documents' fingerprints are recomputed too: a lead of a seed is still the seed's duplicate."""
    import sqlite3

    folder, server = served
    (folder / "a.xml").write_bytes(rss([("a-1", "سرخط", html(["خبری دیگر درباره موضوعی دیگر"]))]))
    config = write_config(tmp_path, {"a": server.url("a.xml"), "b": server.url("b.xml")})
    poll(config, "a")
    db = tmp_path / "state" / "test.db"
    corpus_rows = leave_an_older_scheme(db, "doc < 0")
    assert corpus_rows > 100
    article = seed("002")
    lead = paragraphs(article.body)[:2]
    (folder / "b.xml").write_bytes(rss([("b-1", "سرخط دوم", html(lead))]))
    poll(config, "b")
    item = by_guid(config)["b-1"]
    assert item["status"] == "duplicate"
    assert (item["duplicate_of"]["kind"], item["duplicate_of"]["ref"]) == ("corpus", article.ref)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM fingerprints WHERE doc < 0").fetchone()[0] == corpus_rows
    conn.close()
