"""Verdicts that are right (issue 12, points 7-12), end to end where the point is about a poll: feeds written
here and served on 127.0.0.1, `monitor poll` run as a subprocess, verdicts read back with `monitor items`.

  7. a guid names an item within its feed: two sites that both number an article 12345 are two articles;
  8. `duplicate_of` names the root (the corpus document, or the first stored item), never a duplicate between;
  9. an item with no text whose folded title is a known article's is a duplicate of it;
 11. a watched name found only in a related-headlines or "read more" block is not a mention;
 12. a left-to-right or right-to-left mark between two Persian letters is a half-space, as ZWNJ is.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest

from conftest import SEEDS, SHARED, run_cli, run_json
from test_dedup_e2e import DATE, html, paragraphs, seed
from test_e2e import write_config
from monitor.feedserver import FeedServer

FRESH = ("سازمان هواشناسی از ورود سامانه بارشی تازه به کشور از فردا خبر داد و گفت در این سامانه بارش باران و برف"
         " در استان‌های شمالی و غربی پیش‌بینی می‌شود و دمای هوا در بیشتر مناطق تا ده درجه کاهش خواهد یافت.")
OTHER = ("نمایشگاه بین‌المللی کتاب تهران امسال با حضور ناشران داخلی و خارجی در مصلای امام خمینی برگزار می‌شود و"
         " برگزارکنندگان می‌گویند شمار ناشران خارجی نسبت به سال گذشته دو برابر شده و بخش کودک گسترش یافته است.")


def rss(items: list[dict], encoding: str = "utf-8") -> bytes:
    """An RSS 2.0 feed of items given as {guid, title, link, body (HTML, escaped into <description>)}."""
    entries = []
    for it in items:
        parts = [f"<title>{escape(it['title'])}</title>"]
        if it.get("link"):
            parts.append(f"<link>{escape(it['link'])}</link>")
        if it.get("guid"):
            parts.append(f'<guid isPermaLink="false">{escape(it["guid"])}</guid>')
        if it.get("body"):
            parts.append(f"<description>{escape(it['body'])}</description>")
        entries.append(f"<item>{''.join(parts)}<pubDate>{DATE}</pubDate></item>")
    xml = (f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><title>t</title>'
           f"<link>https://example.ir/</link><description>d</description>{''.join(entries)}</channel></rss>")
    return xml.encode(encoding)


@pytest.fixture
def served(tmp_path):
    folder = tmp_path / "feeds"
    folder.mkdir()
    with FeedServer(folder) as server:
        yield folder, server


def poll(config, *feeds: str) -> None:
    proc = run_cli("poll", "--config", str(config), *[a for f in feeds for a in ("--feed", f)])
    assert proc.returncode == 0, proc.stderr


def items_by(config, key: str = "link") -> dict[str, dict]:
    return {i[key]: i for i in run_json("items", "--config", str(config), "--format", "json")["items"]}


def dup(item: dict) -> tuple:
    return item["status"], (item["duplicate_of"] or {}).get("kind"), (item["duplicate_of"] or {}).get("ref")


# ------------------------------------------------------------------------------------------------ point 7
def test_the_same_guid_on_two_sites_is_two_articles(tmp_path, served):
    """Two unrelated sites both number an article 12345 (isPermaLink false): across feeds only links and text
    decide, so both are new; the same guid again in its own feed is still the same item."""
    folder, server = served
    (folder / "a.xml").write_bytes(rss([{"guid": "12345", "title": "هواشناسی", "link": "https://a.ir/n/1",
                                         "body": f"<p>{FRESH}</p>"}]))
    (folder / "b.xml").write_bytes(rss([{"guid": "12345", "title": "نمایشگاه کتاب", "link": "https://b.ir/n/9",
                                         "body": f"<p>{OTHER}</p>"}]))
    config = write_config(tmp_path, {"a": server.url("a.xml"), "b": server.url("b.xml")}, corpus=[])
    poll(config, "a")
    poll(config, "b")
    items = items_by(config)
    assert dup(items["https://a.ir/n/1"])[0] == "new"
    assert dup(items["https://b.ir/n/9"]) == ("new", None, None)
    # Within a feed a guid still names its item: a re-poll stores nothing again.
    poll(config, "a", "b")
    assert len(run_json("items", "--config", str(config), "--format", "json")["items"]) == 2


def test_the_same_guid_and_the_same_text_on_two_sites_is_still_a_duplicate_by_text(tmp_path, served):
    folder, server = served
    (folder / "a.xml").write_bytes(rss([{"guid": "77", "title": "هواشناسی", "link": "https://a.ir/n/1",
                                         "body": f"<p>{FRESH}</p><p>{OTHER}</p>"}]))
    (folder / "b.xml").write_bytes(rss([{"guid": "77", "title": "هواشناسی", "link": "https://b.ir/n/2",
                                         "body": f"<p>{FRESH}</p><p>{OTHER}</p>"}]))
    config = write_config(tmp_path, {"a": server.url("a.xml"), "b": server.url("b.xml")}, corpus=[])
    poll(config, "a")
    poll(config, "b")
    items = items_by(config)
    b = items["https://b.ir/n/2"]
    assert dup(b) == ("duplicate", "item", items["https://a.ir/n/1"]["id"])
    assert b["duplicate_of"]["score"] == 1.0


# ------------------------------------------------------------------------------------------------ point 8
def test_a_duplicate_of_a_duplicate_names_the_root(tmp_path, served):
    """A: seed 002 under its own link, a duplicate of the corpus document. B: a short teaser under A's link (a
    duplicate of A by link). X: a fresh article; Y: X's copy elsewhere; Z: a teaser under Y's link. B names the
    corpus document and Z names X, never the duplicate between; in one poll (the feed's earlier items) and
    across polls (stored items) alike."""
    folder, server = served
    article = seed("002")
    (folder / "a.xml").write_bytes(rss([
        {"guid": "a1", "title": "دیدار با سفیر", "link": "https://a.ir/n/1", "body": html(paragraphs(article.body))},
        {"guid": "x1", "title": "هواشناسی", "link": "https://a.ir/n/2", "body": f"<p>{FRESH}</p><p>{OTHER}</p>"}]))
    (folder / "b.xml").write_bytes(rss([
        {"guid": "y1", "title": "هواشناسی", "link": "https://b.ir/y", "body": f"<p>{FRESH}</p><p>{OTHER}</p>"},
        {"guid": "z1", "title": "تیتر", "link": "https://b.ir/y?utm_source=rss", "body": "<p>برای خواندن کلیک کنید</p>"},
        {"guid": "b1", "title": "تیتر", "link": "https://www.a.ir/n/1", "body": "<p>برای خواندن کلیک کنید</p>"}]))
    config = write_config(tmp_path, {"a": server.url("a.xml"), "b": server.url("b.xml")})
    poll(config, "a")
    poll(config, "b")
    items = items_by(config, "guid")
    assert dup(items["a1"]) == ("duplicate", "corpus", article.ref)
    assert dup(items["y1"]) == ("duplicate", "item", items["x1"]["id"])
    assert dup(items["b1"]) == ("duplicate", "corpus", article.ref)
    assert dup(items["z1"]) == ("duplicate", "item", items["x1"]["id"])
    # Stored by the next poll of other feeds: the chain is followed through the database too.
    (folder / "c.xml").write_bytes(rss([
        {"guid": "z2", "title": "تیتر", "link": "https://b.ir/y#more", "body": "<p>برای خواندن کلیک کنید</p>"},
        {"guid": "b2", "title": "تیتر", "link": "http://a.ir/n/1/", "body": "<p>برای خواندن کلیک کنید</p>"}]))
    config = write_config(tmp_path, {n: server.url(f"{n}.xml") for n in "abc"})
    poll(config, "c")
    items = items_by(config, "guid")
    assert dup(items["b2"]) == ("duplicate", "corpus", article.ref)
    assert dup(items["z2"]) == ("duplicate", "item", items["x1"]["id"])


# ------------------------------------------------------------------------------------------------ point 9
def test_an_item_with_only_a_known_title_is_a_duplicate_of_it(tmp_path, served):
    """No text to compare: a folded title equal to a corpus document's (spelled with Arabic yeh and kaf here)
    or a stored item's is a duplicate of it. An item with text is judged by its text, not its title, and a
    title of one or two words names no article."""
    folder, server = served
    known = seed("001")
    assert len(known.title.split()) >= 3
    arabic = known.title.translate(str.maketrans("یک", "يك"))
    (folder / "a.xml").write_bytes(rss([
        {"guid": "s1", "title": "پیش بینی بارش برف و باران در استان های شمالی", "link": "https://a.ir/1",
         "body": f"<p>{FRESH}</p>"}]))
    (folder / "b.xml").write_bytes(rss([
        {"guid": "t1", "title": arabic, "link": "https://b.ir/1"},
        {"guid": "t2", "title": "پیش‌بینی بارش برف و باران در استان‌های شمالی!", "link": "https://b.ir/2"},
        {"guid": "t3", "title": known.title, "link": "https://b.ir/3", "body": f"<p>{OTHER}</p>"},
        {"guid": "t4", "title": "ویدئو", "link": "https://b.ir/4"},
        {"guid": "t5", "title": "ویدئو", "link": "https://b.ir/5"}]))
    config = write_config(tmp_path, {"a": server.url("a.xml"), "b": server.url("b.xml")})
    poll(config, "a")
    poll(config, "b")
    items = items_by(config, "guid")
    assert dup(items["t1"]) == ("duplicate", "corpus", known.ref)
    assert dup(items["t2"]) == ("duplicate", "item", items["s1"]["id"])
    assert dup(items["t3"])[0] == "new"
    assert dup(items["t4"])[0] == dup(items["t5"])[0] == "new"


# ------------------------------------------------------------------------------------------------ point 11
def test_a_name_only_in_a_related_headlines_block_is_not_a_mention(tmp_path, served):
    """Related-headline lists and "read more" blocks inside an item's content are other articles: a watched
    name that appears only there does not flag the item (as an HTML list after a heading, as a bulleted list,
    as a «بیشتر بخوانید: ...» line), while the same name in the article does."""
    folder, server = served
    blocks = {
        "ul": f"<p>{FRESH}</p><h4>مطالب مرتبط</h4><ul><li><a href='/1'>دیدار محمدعلی امانی با مدودف</a></li>"
              "<li><a href='/2'>نشست حزب موتلفه اسلامی</a></li></ul>",
        "read-more": f"<p>{FRESH}</p><p>بیشتر بخوانید: محمدعلی امانی در سوچی</p><p>{OTHER}</p>",
        "bullets": f"<p>{FRESH}</p><p>اخبار مرتبط:</p><p>- امانی در سوچی</p><p>- حزب مؤتلفه اسلامی</p>",
        "mention": f"<p>{FRESH}</p><p>محمدعلی امانی دبیرکل حزب موتلفه اسلامی نیز در این باره سخن گفت.</p>"
                   "<h4>اخبار مرتبط</h4><ul><li><a href='/3'>دیدار با سفیر پاکستان</a></li></ul>",
    }
    (folder / "a.xml").write_bytes(rss([{"guid": k, "title": "هواشناسی " + k, "link": f"https://a.ir/{k}",
                                         "body": v} for k, v in blocks.items()]))  # FRESH is shared: duplicates
    config = write_config(tmp_path, {"a": server.url("a.xml")}, corpus=[])
    poll(config)
    items = items_by(config, "guid")
    for key in ("ul", "read-more", "bullets"):
        assert items[key]["matches"] == [] and not items[key]["flagged"], key
    assert items["mention"]["matches"]
    assert {m["watch"] for m in items["mention"]["matches"]} == {"Mohammad-Ali Amani", "Motalefeh Islamic Party"}
    assert all("پاکستان" not in m["snippet"] for m in items["mention"]["matches"])


# ------------------------------------------------------------------------------------------------ point 10
GOLDS = sorted((SHARED / "corpora" / "article-pages").glob("*.gold.txt"))


def known_articles(tmp_path):
    """The seeds, the real article pages' gold texts (when present) and two articles whose lead paragraph says
    what a disclaimer or a copyright line says («مسئولیتی ندارد», «تمامی حقوق ... محفوظ»), as a corpus."""
    from monitor.dedup import parse_corpus_document

    docs = [parse_corpus_document(p) for p in sorted(SEEDS.glob("*.txt")) + GOLDS]
    base = seed("002")
    for ref, phrase, text in (
            ("x-rights", "سخنگوی حزب گفت این حزب از تمامی حقوق قانونی خود که در قانون اساسی محفوظ است دفاع"
                         " می‌کند.", FRESH),
            ("x-disclaimer", "وزیر افزود دولت در قبال تصمیم شورای شهر هیچ مسئولیتی ندارد.", OTHER)):
        docs.append(base.__class__(ref, ref, "عنوان", f"{phrase} {text}\n{text}", None))
    return docs


def test_every_verbatim_lead_of_thirty_words_or_more_is_a_duplicate_and_distinct_articles_stay_apart(tmp_path):
    """A verbatim lead of 30 to 60 words of any known article is a duplicate of it (a lead paragraph that
    happens to say «تمامی حقوق» or «مسئولیتی ندارد» was dropped as a footer, leaving nothing to compare), and
    the lead of seed 001 is not a duplicate of seed 003, nor 003's of 001 (they share sentences)."""
    from monitor.dedup import classify, fingerprint
    from monitor.store import Store

    docs = known_articles(tmp_path)
    store = Store.open(tmp_path / "t.db")
    with store.transaction():
        for doc in docs:
            fp = fingerprint(doc.title, doc.body)
            store.corpus.put({"ref": doc.ref, "path": doc.ref, "mtime": 0.0, "size": 0}, fp.hashes)
    wrong = []
    for doc in docs:
        words = doc.body.split()
        for n in range(30, 61):
            verdict = classify(guid=None, link=None, fp=fingerprint("", " ".join(words[:n])), known=store,
                               since="2025-01-01", threshold=0.5)
            if verdict is None or (verdict.kind, verdict.ref) != ("corpus", doc.ref):
                wrong.append((doc.ref, n, verdict))
    store.close()
    assert wrong == []
    for lead_of, other in (("001", "003"), ("003", "001")):
        alone = Store.open(tmp_path / f"{other}.db")
        with alone.transaction():
            alone.corpus.put({"ref": other, "path": other, "mtime": 0.0, "size": 0},
                             fingerprint("", seed(other).body).hashes)
        words = seed(lead_of).body.split()
        for n in range(30, 61):
            assert classify(guid=None, link=None, fp=fingerprint("", " ".join(words[:n])), known=alone,
                            since="2025-01-01", threshold=0.5) is None, (lead_of, n)
        alone.close()
