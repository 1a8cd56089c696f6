"""parse: bytes to RawItems over the fixture feeds and the real Persian snapshots (read in place)."""

import pytest

from conftest import FEEDS, SHARED
from monitor.errors import ParseError
from monitor.parse import parse_feed

PERSIAN = SHARED / "corpora" / "persian-feeds"


def test_fixture_feeds_parse_with_text_and_dates():
    counts = {}
    for path in sorted(FEEDS.iterdir()):
        items = parse_feed(path.read_bytes(), content_type="application/xml")
        counts[path.name] = len(items)
        for item in items:
            assert item.title and (item.summary or item.content)
            assert item.published is not None and item.published.tzinfo is not None
    assert counts == {"abna-1256.xml": 3, "isna.atom": 4, "mehr.xml": 5, "tasnim.xml": 2}


def test_windows_1256_feed_decodes_to_arabic_letters():
    items = parse_feed((FEEDS / "abna-1256.xml").read_bytes(), content_type="application/rss+xml")
    text = " ".join(i.title + i.summary for i in items)
    assert "موتلفه" in text and "ي" in text  # windows-1256 cannot carry Persian yeh: Arabic yeh arrives


def test_item_without_guid_keeps_its_link_without_whitespace():
    items = parse_feed((FEEDS / "tasnim.xml").read_bytes())
    no_guid = [i for i in items if i.guid is None]
    assert len(no_guid) == 1 and no_guid[0].link.startswith("https://www.tasnimnews.com/")


@pytest.mark.skipif(not PERSIAN.is_dir(), reason="../shared/corpora not beside the checkout")
@pytest.mark.parametrize("name, count", [("tabnak_allnews_2018-07-21.xml", 100),
                                         ("farsnews_rss_2019-07-09_trimmed.xml", 2),
                                         ("tasnim_fa_rss_feed_0_7_2019-07-02.xml", 1)])
def test_real_persian_snapshots(name, count):
    items = parse_feed((PERSIAN / name).read_bytes(), content_type="application/rss+xml")
    assert len(items) == count
    for item in items:
        assert item.link and not any(ch.isspace() for ch in item.link)  # Tabnak's links carry newlines
        assert item.published is not None and 2018 <= item.published.year <= 2019


@pytest.mark.skipif(not PERSIAN.is_dir(), reason="../shared/corpora not beside the checkout")
def test_tabnak_plus_0430_dates_are_exact():
    items = parse_feed((PERSIAN / "tabnak_allnews_2018-07-21.xml").read_bytes())
    # «21 Jul 2018 08:39:54 +0430» (no weekday) is 04:09:54 UTC.
    assert items[0].published.isoformat() == "2018-07-21T04:09:54+00:00"


@pytest.mark.parametrize("body, words", [
    (b"<!DOCTYPE html><html><body>Not found</body></html>", "HTML page"),
    (b"", "empty"),
    (b"just some text, no xml at all", "not a feed"),
])
def test_not_a_feed(body, words):
    with pytest.raises(ParseError, match=words):
        parse_feed(body, content_type="text/html")


def test_truncated_feed_keeps_items_before_the_break():
    data = (FEEDS / "mehr.xml").read_bytes()
    cut = data[: data.index(b"</item>", data.index(b"</item>") + 1) + 7]  # two whole items, then nothing
    items = parse_feed(cut)
    assert len(items) >= 2
