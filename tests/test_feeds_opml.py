"""OPML in and out (monitor.feeds.opml), feed names (names.py) and the import plan (importer.py)."""

from __future__ import annotations

import pytest

from conftest import FIXTURES
from monitor.errors import FeedListError
from monitor.feeds import NameBook, plan_import, read_opml, write_opml
from monitor.feeds.names import host_name, slug
from monitor.models import FeedSpec

OPML = FIXTURES / "opml"


def read(name: str):
    return read_opml((OPML / name).read_bytes(), name)


def doc(body: str, head: str = '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n<head/>\n') -> bytes:
    return (head + "<body>\n" + body + "</body>\n</opml>\n").encode("utf-8")


# ------------------------------------------------------------------------------------------ each reader's shape
def test_miniflux_categories_become_groups_and_title_wins_over_text():
    feeds, problems = read("miniflux.opml")
    assert problems == []
    assert [(f.url, f.group) for f in feeds] == [
        ("https://www.mehrnews.com/rss", "Agencies"), ("https://www.isna.ir/rss", "Agencies"),
        ("https://feeds.bbci.co.uk/persian/rss.xml", "International")]
    assert feeds[1].title == "ایسنا" and feeds[0].line == 9 and feeds[0].html_url == "https://www.mehrnews.com/"


def test_freshrss_tabs_and_its_own_namespace():
    feeds, problems = read("freshrss.opml")
    assert problems == []
    assert [(f.title, f.group) for f in feeds] == [("تابناک", "Uncategorized"), ("عصر ایران", "Politics"),
                                                   ("Radio Farda", "Politics")]


def test_feedly_lists_a_feed_once_per_folder_the_first_folder_wins():
    feeds, problems = read("feedly.opml")
    assert problems == []
    assert [(f.url, f.group) for f in feeds] == [("https://www.tasnimnews.com/fa/rss/feed/0/7", "Iran"),
                                                 ("https://rss.dw.com/xml/rss-fa-all", "Iran")]


def test_inoreader_nested_folders_join_with_a_slash():
    feeds, _ = read("inoreader.opml")
    assert [(f.title, f.group) for f in feeds] == [("Independent Persian", "News/Iran"), ("ABNA", "News"),
                                                   ("خبرگزاری فارس", None)]


def test_newsboat_writes_title_only_and_no_folders():
    feeds, _ = read("newsboat.opml")
    assert [(f.title, f.group) for f in feeds] == [("ایرنا - آخرین اخبار", None), ("Iran International", None)]


# ------------------------------------------------------------------------------------------ bad input, one line each
def test_malformed_xml_names_the_line_and_column():
    data = doc('<outline text="a" xmlUrl="https://a.ir/rss">\n<outline text="b" xmlUrl="https://b.ir/rss"/>\n')
    with pytest.raises(FeedListError) as err:
        read_opml(data.replace(b"</body>", b"</bdy>"), "x.opml")
    message = str(err.value)
    assert message.startswith("x.opml:7: not well-formed XML: mismatched tag") and "\n" not in message


def test_unescaped_ampersand_is_malformed_with_its_line():
    with pytest.raises(FeedListError, match=r"^x.opml:6: not well-formed XML"):
        read_opml(doc('<outline text="ok" xmlUrl="https://a.ir/rss"/>\n<outline text="a & b" xmlUrl="https://b.ir"/>\n'),
                  "x.opml")


def test_outline_without_xmlurl_and_non_http_urls_are_problems_with_lines():
    data = doc('<outline text="folder">\n'
               '  <outline text="good" xmlUrl="https://a.ir/rss"/>\n'
               '  <outline text="a site" htmlUrl="https://site.ir/"/>\n'
               '</outline>\n'
               '<outline text="local" xmlUrl="file:///etc/passwd"/>\n'
               '<outline text="js" xmlUrl="javascript:alert(1)"/>\n'
               '<outline text="spaced" xmlUrl="https://a.ir/my feed"/>\n'
               '<outline text="empty" xmlUrl=""/>\n'
               '<outline text="lonely"/>\n')
    feeds, problems = read_opml(data, "x.opml")
    assert [f.title for f in feeds] == ["good"]
    lines = [p.describe("x.opml") for p in problems]
    assert lines[0] == "x.opml:7: outline «a site» has no xmlUrl; to find the feed of its site, run " \
                       "`monitor feeds add https://site.ir/`"
    assert lines[1].startswith('x.opml:9: outline «local» xmlUrl «file:///etc/passwd» is not an http(s) URL: '
                               "it must start with http:// or https://")
    assert lines[2].startswith("x.opml:10: outline «js» xmlUrl «javascript:alert(1)»")
    assert lines[3].startswith("x.opml:11:") and "spaces" in lines[3]
    assert lines[4] == "x.opml:12: outline «empty» has an empty xmlUrl"
    assert lines[5] == "x.opml:13: outline «lonely» has no xmlUrl (neither a feed nor a folder of feeds)"


@pytest.mark.parametrize("data, expected", [
    (b"", "x.opml:1: not well-formed XML: no element found"),
    (b'<?xml version="1.0"?>\n<rss version="2.0"><channel/></rss>', "x.opml:2: not OPML: the root element is <rss>"),
    (b'<?xml version="1.0"?>\n<opml version="2.0"><head/></opml>', "x.opml: an OPML document needs a <body>"),
    (b'<?xml version="1.0"?>\n<!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa">]>\n<opml><body/></opml>',
     "x.opml:2: a DOCTYPE is not allowed"),
    (b'<?xml version="1.0"?>\n<!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<opml><body>'
     b'<outline text="&x;" xmlUrl="https://a.ir"/></body></opml>', "x.opml:2: a DOCTYPE is not allowed"),
])
def test_documents_that_are_not_opml(data, expected):
    with pytest.raises(FeedListError) as err:
        read_opml(data, "x.opml")
    assert str(err.value).startswith(expected) and "\n" not in str(err.value)


def test_windows_1256_declared_is_read():
    data = doc('<outline text="تابناك" xmlUrl="https://www.tabnak.ir/fa/rss/allnews"/>\n',
               head='<?xml version="1.0" encoding="windows-1256"?>\n<opml version="1.0"><head/>\n')
    feeds, _ = read_opml(data.decode("utf-8").encode("cp1256"), "x.opml")
    assert feeds[0].title == "تابناك"


# ------------------------------------------------------------------------------------------ out and back in
def test_export_then_import_gives_the_same_entries():
    specs = (FeedSpec("mehr", "https://www.mehrnews.com/rss", 600.0, group="agencies"),
             FeedSpec("isna-tp-14", "https://www.isna.ir/rss/tp/14?a=1&b=2", "auto", "never", group="agencies/sections"),
             FeedSpec("bbc", "https://feeds.bbci.co.uk/persian/rss.xml", 90.0),
             FeedSpec("odd", 'https://x.ir/rss?q="<&>"', None, group="«خبر» & co"))
    text = write_opml(specs)
    feeds, problems = read_opml(text.encode("utf-8"), "export.opml")
    assert problems == []
    assert [(f.name, f.url, f.group, f.interval, f.full_text) for f in feeds] == [
        ("bbc", "https://feeds.bbci.co.uk/persian/rss.xml", None, "90s", None),
        ("mehr", "https://www.mehrnews.com/rss", "agencies", "10m", None),
        ("isna-tp-14", "https://www.isna.ir/rss/tp/14?a=1&b=2", "agencies/sections", "auto", "never"),
        ("odd", 'https://x.ir/rss?q="<&>"', "«خبر» & co", None, None)]
    plan = plan_import(feeds, (), "export.opml")
    assert [(n.name, n.interval, n.group) for _, n in plan.add] == [
        ("bbc", "90s", None), ("mehr", "10m", "agencies"), ("isna-tp-14", "auto", "agencies/sections"),
        ("odd", None, "«خبر» & co")]


# ------------------------------------------------------------------------------------------ names and the plan
def test_names_latin_titles_slug_persian_titles_take_the_site_name():
    book = NameBook(["mehr"])
    assert book.name_for("https://feeds.bbci.co.uk/persian/rss.xml", "BBC News فارسی") == "bbc-news-farsi"
    assert book.name_for("https://www.mehrnews.com/rss", "خبرگزاری مهر") == "mehrnews"
    assert book.name_for("https://www.mehrnews.com/rss/tp/1", "مهر - سیاسی") == "mehrnews-mhr-siasi"
    assert book.name_for("https://www.mehrnews.com/rss/tp/2", "مهر - سیاسی") == "mehrnews-mhr-siasi-2"
    assert book.name_for("https://fa.abna24.com/rss", "") == "abna24"
    assert book.name_for("https://x.ir/rss", "", "MEHR") == "x"  # a wanted name already taken (any case)
    assert host_name("https://127.0.0.1:8000/rss") == "127"
    assert slug("  «تابناک» | TABNAK  ") == "tabnak-tabnak"


def test_plan_skips_feeds_already_there_by_canonical_url():
    feeds, _ = read("inoreader.opml")
    existing = (FeedSpec("abna", "https://fa.abna24.com/rss/"),)  # https, trailing slash: the same feed
    plan = plan_import(feeds, existing, "inoreader.opml")
    assert [(o.title, why) for o, why in plan.skip] == [("ABNA", "already in config.yaml as abna")]
    assert [n.name for _, n in plan.add] == ["independent-persian", "farsnews"]
    assert plan.add[0][1].comment == "Independent Persian (inoreader.opml line 9)"
