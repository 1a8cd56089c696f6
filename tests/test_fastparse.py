"""monitor.fastparse against feedparser: wherever the fast path accepts a body, what is stored must not change.

Equivalence is judged on what the pipeline stores: (item_key(raw), prepare(raw)) for every item, in order,
from monitor.fastparse.parse_simple and from the feedparser path of monitor.parse, on the same settled bytes.
The corpora are read in place from ../shared/corpora (skipped with a reason when it is not beside the repo).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from conftest import FEEDS, REPO, SHARED
from monitor.errors import ParseError
from monitor.fastparse import parse_simple
from monitor.analyse import item_key, prepare
from monitor.parse import parse_feed, parse_with_feedparser, settle_encoding

CORPUS = SHARED / "corpora" / "feedparser-tests"
PERSIAN = SHARED / "corpora" / "persian-feeds"
_CONTENT_TYPE = re.compile(rb"^\s*Header:\s*Content-type:\s*(.+?)\s*$", re.I | re.M)
URL = "https://news.example.ir/rss/all"


def stored(items):
    return [(item_key(raw), prepare(raw)) for raw in items]


def compare(body: bytes, content_type: str | None = "application/rss+xml", url: str | None = URL):
    """(accepted, difference): difference is None when the two paths store the same, else a description."""
    body, content_type = settle_encoding(body, content_type)
    fast = parse_simple(body, content_type, url)
    if fast is None:
        return False, None
    try:
        slow = parse_with_feedparser(body, content_type, url)
    except ParseError as exc:
        return True, f"feedparser path raised {exc}, fast path gave {len(fast)} items"
    a, b = stored(fast), stored(slow)
    if a != b:
        first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        return True, f"{len(a)} vs {len(b)} items; first difference at {first}: " \
                     f"{a[first] if first < len(a) else None} != {b[first] if first < len(b) else None}"
    return True, None


# ------------------------------------------------------------------------------------------ fixtures, farm
@pytest.mark.parametrize("path", sorted(FEEDS.iterdir()), ids=lambda p: p.name)
@pytest.mark.parametrize("content_type", ["application/rss+xml", None])
def test_fixture_feeds_are_accepted_and_stored_the_same(path, content_type):
    accepted, difference = compare(path.read_bytes(), content_type)
    assert accepted, f"{path.name} fell back to feedparser"
    assert difference is None, difference


def _farm_module():
    spec = importlib.util.spec_from_file_location("bench_farm", REPO / "bench" / "farm.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_farm_feeds_are_accepted_and_stored_the_same(tmp_path):
    _farm_module().make_farm(tmp_path, 12, 15)
    files = sorted(tmp_path.glob("*.xml"))
    assert len(files) == 12
    for i, path in enumerate(files):
        body = path.read_bytes()
        accepted, difference = compare(body, "application/rss+xml", f"http://127.0.0.1:8080/{path.name}")
        assert accepted, f"{path.name} fell back to feedparser"
        assert difference is None, (path.name, difference)
        # The farm's guids are permalinks by default: resolved against the feed's URL, as feedparser does.
        settled, ctype = settle_encoding(body, "application/rss+xml")
        assert parse_simple(settled, ctype, f"http://127.0.0.1:8080/{path.name}") == \
            parse_with_feedparser(settled, ctype, f"http://127.0.0.1:8080/{path.name}")


# ------------------------------------------------------------------------------------------ real corpora
@pytest.mark.skipif(not PERSIAN.is_dir(), reason="../shared/corpora/persian-feeds is not beside the repo")
def test_real_persian_snapshots_are_stored_the_same():
    files = sorted(PERSIAN.glob("*.xml"))
    accepted = 0
    for path in files:
        for content_type, url in (("application/rss+xml", URL), ("text/xml", None), (None, URL)):
            ok, difference = compare(path.read_bytes(), content_type, url)
            assert difference is None, (path.name, content_type, difference)
            accepted += ok
    print(f"\npersian snapshots: {accepted} of {3 * len(files)} (file, content type) runs took the fast path")
    assert accepted == 3 * len(files)  # all five are plain RSS 2.0


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpora/feedparser-tests is not beside the repo")
def test_feedparser_corpus_is_stored_the_same_wherever_the_fast_path_accepts(capsys):
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "LICENSE")
    accepted, differences = 0, []
    per_folder: dict[str, list[int]] = {}
    for path in files:
        body = path.read_bytes()
        found = _CONTENT_TYPE.search(body[:2000])
        content_type = found.group(1).decode("latin-1") if found else "application/xml"
        ok, difference = compare(body, content_type, f"http://127.0.0.1:8000/{path.name}")
        accepted += ok
        folder = path.relative_to(CORPUS).parts[0]
        per_folder.setdefault(folder, [0, 0])[0 if ok else 1] += 1
        if difference:
            differences.append((str(path.relative_to(CORPUS)), difference))
    with capsys.disabled():
        print(f"\nfeedparser corpus: {len(files)} files, fast path accepted {accepted}, "
              f"fell back {len(files) - accepted}; by folder (accepted, fell back): {per_folder}")
    assert not differences, differences[:5]
    assert accepted > 500  # the plain RSS/Atom part of the corpus really is parsed by the fast path


# ------------------------------------------------------------------------------------------ targeted cases
def rss(items: str, *, decl: str = '<?xml version="1.0" encoding="utf-8"?>', head: str = "",
        ns: str = "") -> bytes:
    return (f'{decl}\n{head}<rss version="2.0"{ns}><channel><title>t</title><link>https://news.example.ir/</link>'
            f"<description>d</description>{items}</channel></rss>").encode("utf-8")


CONTENT_NS = ' xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"'
DATE = "<pubDate>Tue, 18 Nov 2025 10:00:00 GMT</pubDate>"
ATOM_HEAD = '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>' \
            '<id>urn:x</id><updated>2025-11-18T10:00:00Z</updated>'


def atom(entries: str) -> bytes:
    return f"{ATOM_HEAD}{entries}</feed>".encode("utf-8")


# name -> (body, must the fast path accept it?)
CASES: dict[str, tuple[bytes, bool]] = {
    "cdata-html": (rss(f"<item><title>خبر</title><link>https://news.example.ir/1</link><guid>g1</guid>{DATE}"
                       "<description><![CDATA[<p>پاراگراف <b>اول</b></p><p>دوم<br/>سوم</p>]]></description>"
                       "</item>"), True),
    "escaped-html-entities": (rss(f"<item><title>A &amp; B &#171;نقل&#187;</title><guid>g2</guid>{DATE}"
                                  "<description>&lt;p&gt;یک&amp;nbsp;دو &amp;laquo;سه&amp;raquo;&lt;/p&gt;"
                                  "</description></item>"), True),
    "title-with-tags": (rss(f"<item><title>&lt;b&gt;مهم&lt;/b&gt; خبر</title><guid>g3</guid>{DATE}</item>"), True),
    "plain-text-lines": (rss(f"<item><title>t</title><guid>g4</guid>{DATE}"
                             "<description>خط اول\nخط دوم &amp; سوم</description></item>"), True),
    "content-encoded-after": (rss(f"<item><title>t</title><guid>g5</guid>{DATE}<description>خلاصه</description>"
                                  "<content:encoded><![CDATA[<p>متن کامل خبر</p>]]></content:encoded></item>",
                                  ns=CONTENT_NS), True),
    "content-encoded-before": (rss(f"<item><title>t</title><guid>g6</guid>{DATE}"
                                   "<content:encoded><![CDATA[<p>متن کامل خبر</p>]]></content:encoded>"
                                   "<description>خلاصه</description></item>", ns=CONTENT_NS), True),
    "content-encoded-alone": (rss(f"<item><title>t</title><guid>g7</guid>{DATE}"
                                  "<content:encoded><![CDATA[<p>فقط متن</p>]]></content:encoded></item>",
                                  ns=CONTENT_NS), True),
    "same-text-different-markup": (rss(f"<item><title>t</title><guid>g8</guid>{DATE}<description>"
                                       "<![CDATA[<p class='a'>یک</p>]]></description><content:encoded>"
                                       "<![CDATA[<p>یک</p>]]></content:encoded></item>", ns=CONTENT_NS), False),
    "dc-creator-and-date": (rss("<item><title>t</title><guid>g9</guid><dc:creator>خبرنگار</dc:creator>"
                                "<dc:date>2025-11-18T10:00:00+03:30</dc:date></item>", ns=CONTENT_NS), True),
    "author-email": (rss(f"<item><title>t</title><guid>g10</guid>{DATE}<author>info@tabnak.ir</author></item>"),
                     True),
    "missing-fields": (rss(f"<item><link>https://news.example.ir/a</link>{DATE}<description>بی عنوان</description>"
                           "</item><item><title>بدون پیوند</title>" + DATE + "<description>x</description></item>"
                           "<item><description>فقط یک توضیح بدون تاریخ</description></item><item/>"), True),
    "relative-link": (rss(f"<item><title>t</title><link>/fa/news/1</link>{DATE}</item>"), True),
    "relative-guid-permalink": (rss(f"<item><title>t</title><guid>news/7</guid>{DATE}</item>"), True),
    "guid-not-permalink": (rss(f'<item><title>t</title><guid isPermaLink="false">news/8</guid>{DATE}</item>'), True),
    "guid-before-link": (rss(f"<item><guid>https://news.example.ir/g</guid><link>https://news.example.ir/l</link>"
                             f"<title>t</title>{DATE}</item>"), True),
    "empty-link-then-guid": (rss(f"<item><link></link><guid>https://news.example.ir/g</guid>{DATE}</item>"), True),
    "link-with-newlines": (rss(f"<item><title>t</title><link>\n  https://news.example.ir/fa/news/9/خبر\n"
                               f"  -دوم</link>{DATE}</item>"), True),
    "link-query": (rss(f"<item><title>t</title><link>https://news.example.ir/a?x=1&amp;utm_source=rss</link>"
                       f"{DATE}</item>"), True),
    "link-entity-like": (rss(f"<item><title>t</title><link>https://news.example.ir/a?x=1&amp;b;=2</link>{DATE}"
                             "</item>"), False),
    "script-in-description": (rss(f"<item><title>t</title><guid>g11</guid>{DATE}<description><![CDATA["
                                  "<p>a</p><script>alert(1)</script><iframe>fallback</iframe>]]></description>"
                                  "</item>"), False),
    "unknown-entity-in-html": (rss(f"<item><title>t</title><guid>g12</guid>{DATE}<description>a &amp;notit; b"
                                   "</description></item>"), False),
    "void-end-tag": (rss(f"<item><title>t</title><guid>g13</guid>{DATE}<description>a&lt;/br&gt;b</description>"
                         "</item>"), False),
    "latin1-mojibake": (rss(f"<item><title>cafÃ©</title><guid>g14</guid>{DATE}</item>"), True),
    "unknown-namespace": (rss(f'<item><title>t</title><x:encoded xmlns:x="urn:other">z</x:encoded>{DATE}</item>'),
                          False),
    "atom-link-in-rss": (rss(f'<item><title>t</title><a10:link xmlns:a10="http://www.w3.org/2005/Atom" '
                             f'href="https://news.example.ir/b"/>{DATE}</item>'), False),
    "empty-channel": (rss(""), True),
    "atom-html": (atom('<entry><id>tag:x,2025:1</id><title type="html">&lt;b&gt;عنوان&lt;/b&gt;</title>'
                       '<link rel="alternate" type="text/html" href="https://news.example.ir/a1"/>'
                       "<published>2025-11-18T10:00:00+03:30</published><author><name>ایسنا</name></author>"
                       '<summary type="text">خلاصه</summary><content type="html">&lt;p&gt;متن&lt;/p&gt;</content>'
                       "</entry>"), True),
    "atom-content-then-summary": (atom('<entry><id>tag:x,2025:2</id><title>t</title>'
                                       '<content type="html">&lt;p&gt;متن&lt;/p&gt;</content><summary>خلاصه</summary>'
                                       "<updated>2025-11-18T10:00:00Z</updated></entry>"), True),
    "atom-content-alone": (atom('<entry><id>tag:x,2025:3</id><title>t</title>'
                                '<content type="html">&lt;p&gt;متن&lt;/p&gt;</content>'
                                "<updated>2025-11-18T10:00:00Z</updated></entry>"), True),
    "atom-id-as-link": (atom("<entry><id>https://news.example.ir/id/4</id><title>t</title>"
                             "<updated>2025-11-18T10:00:00Z</updated></entry>"), True),
    "atom-relative-links": (atom('<entry><id>tag:x,2025:5</id><title>t</title><link href="/a/5"/>'
                                 '<link rel="enclosure" href="/e.mp3"/><link rel="alternate" href="/a/5b"/>'
                                 "<updated>2025-11-18T10:00:00Z</updated></entry>"), True),
    "atom-xhtml": (atom('<entry><id>tag:x,2025:6</id><title>t</title><content type="xhtml">'
                        '<div xmlns="http://www.w3.org/1999/xhtml"><p>متن</p></div></content>'
                        "<updated>2025-11-18T10:00:00Z</updated></entry>"), False),
    "atom-xml-base": (atom('<entry xml:base="https://other.example/"><id>tag:x,2025:7</id><title>t</title>'
                           '<link href="a/7"/><updated>2025-11-18T10:00:00Z</updated></entry>'), False),
}
DATES = {
    "rfc822": "Tue, 18 Nov 2025 10:00:00 GMT", "rfc822-offset": "Tue, 18 Nov 2025 14:30:00 +0330",
    "no-weekday": "21 Jul 2018 08:39:54 +0430", "irst": "Tue, 18 Nov 2025 14:30:00 IRST",
    "no-seconds": "Tue, 18 Nov 2025 14:30 +0330", "iso": "2025-11-18T14:30:00+03:30", "iso-naive": "2025-11-18 14:30",
    "jalali": "1404/08/27 14:30", "jalali-persian-digits": "۱۴۰۴/۰۸/۲۷ ۱۴:۳۰", "jalali-words": "27 آبان 1404 - 14:30",
    "day-first": "18.11.2025 14:30", "future": "Mon, 18 Nov 2030 10:00:00 GMT",
    "pre-1970": "Thu, 01 Jan 1960 10:00:00 GMT", "empty": "",
}
for _name, _value in DATES.items():
    CASES[f"date-{_name}"] = (rss(f"<item><title>{_name}</title><guid>d-{_name}</guid>"
                                  f"<pubDate>{_value}</pubDate></item>"), True)
CASES["date-unreadable"] = (rss("<item><title>t</title><guid>d-x</guid><pubDate>yesterday-ish</pubDate></item>"),
                            False)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("url", [URL, None])
def test_targeted_cases(name, url):
    body, must_accept = CASES[name]
    accepted, difference = compare(body, "application/rss+xml", url)
    assert difference is None, difference
    assert accepted == must_accept, f"{name}: accepted={accepted}"


FA = "مجلس شوراي اسلامي لايحه بودجه 1404 را تصويب كرد"


@pytest.mark.parametrize("decl, content_type, must_accept", [
    ('<?xml version="1.0" encoding="windows-1256"?>', "application/rss+xml", True),
    ('<?xml version="1.0" encoding="windows-1256"?>', None, True),
    ('<?xml version="1.0"?>', "application/rss+xml", True),  # undeclared: settle_encoding makes it UTF-8
    ('<?xml version="1.0"?>', "text/xml; charset=windows-1256", False),
    ('<?xml version="1.0" encoding="windows-1256"?>', "text/xml", False),
])
def test_windows_1256_bodies(decl, content_type, must_accept):
    body = (f'{decl}\n<rss version="2.0"><channel><title>t</title><item><title>{FA}</title><guid>cp-1</guid>'
            f"{DATE}<description>{FA} متن كامل خبر</description></item></channel></rss>").encode("cp1256")
    accepted, difference = compare(body, content_type)
    assert difference is None, difference
    assert accepted == must_accept
    items = parse_feed(body, content_type=content_type, url=URL)
    assert "تصويب" in items[0].title


def test_invalid_utf8_is_repaired_the_same():
    body = rss(f"<item><title>عنوان BAD</title><guid>u1</guid>{DATE}</item>").replace(b"BAD", b"\xff\xfe\xc3(")
    accepted, difference = compare(body)
    assert accepted and difference is None


# ------------------------------------------------------------------------------------------ the safety gate
SECRET_FILE = "/etc/hostname"
GATED = {
    "xxe": rss('<item><title>before &xxe; after</title><guid>x</guid></item>',
               head=f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{SECRET_FILE}">]>\n'),
    "bomb": rss('<item><title>&lol2;</title><guid>b</guid></item>',
                head='<!DOCTYPE rss [<!ENTITY lol0 "lol"><!ENTITY lol1 "&lol0;&lol0;"><!ENTITY lol2 "&lol1;&lol1;">]>\n'),
    "doctype-only": rss("<item><title>t</title><guid>d</guid></item>", head="<!DOCTYPE rss>\n"),
    "lowercase-doctype": rss("<item><title>t</title><guid>d</guid></item>", head="<!doctype rss>\n"),
    "entity-in-cdata": rss("<item><title>t</title><guid>e</guid><description><![CDATA[<!ENTITY x>]]>"
                           "</description></item>"),
    "undefined-entity": rss("<item><title>a &nbsp; b</title><guid>n</guid></item>"),
    "not-well-formed": rss("<item><title>t</title><guid>n</guid></item>")[:-20],
    "html": b"<!DOCTYPE html><html><body>Not found</body></html>",
    "utf16": rss("<item><title>t</title></item>", decl='<?xml version="1.0" encoding="utf-16"?>')
    .decode("utf-8").encode("utf-16"),
}


@pytest.mark.parametrize("name", sorted(GATED))
def test_doctype_entities_and_odd_bodies_go_to_feedparser(name):
    body, content_type = settle_encoding(GATED[name], "application/rss+xml")
    assert parse_simple(body, content_type, URL) is None


def test_gated_bodies_never_expand_entities_through_parse_feed():
    secret = Path(SECRET_FILE).read_text().strip() if Path(SECRET_FILE).exists() else None
    for name in ("xxe", "bomb"):
        items = parse_feed(GATED[name], content_type="application/rss+xml", url=URL)
        text = " ".join(i.title for i in items)
        assert "lollol" not in text
        if secret:
            assert secret not in text


# ------------------------------------------------------------------------------------------ the switch
def test_monitor_fast_parse_0_forces_feedparser(monkeypatch):
    import monitor.parse as parse

    calls = []
    monkeypatch.setattr(parse, "parse_simple", lambda *a: calls.append(a) or None)
    body = (FEEDS / "mehr.xml").read_bytes()
    monkeypatch.setenv("MONITOR_FAST_PARSE", "0")
    slow = parse.parse_feed(body, content_type="application/rss+xml", url=URL)
    assert calls == []
    monkeypatch.delenv("MONITOR_FAST_PARSE")
    parse.parse_feed(body, content_type="application/rss+xml", url=URL)
    assert len(calls) == 1
    monkeypatch.undo()
    assert stored(parse.parse_feed(body, content_type="application/rss+xml", url=URL)) == stored(slow)


# ------------------------------------------------------------------ fast paths inside the fast path, one by one
from functools import partial  # noqa: E402

import xml.etree.ElementTree as ET  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import monitor.fastparse as F  # noqa: E402

BASES = ["https://news.example.ir/rss/all", "http://x/", "http://x", "https://x.ir/a/b/", "https://x.ir/a/../b/./c",
         "HTTP://X.IR/Feed?x=1#f", "feed://x.ir/rss", "http://127.0.0.1:8000/a.xml", "", "x/y", "/rss", "//x.ir/r",
         "https://[::1/x", "https://[::1]/x", "https://ℂ.ir/x", "mailto:a@x.ir", "http:", "https://x.ir/%D9%86/a",
         "https://x.ir/a;p/b", "tag:x,2025:", "https://user@x.ir:8080/a/"]
REFS = ["news0-1", "2047417", "a", ".", "..", "...", ".a", "a.", "%41", "ش", "a@b", "a[1]", "a\\b", "a;b", "a:b",
        "a?b", "a#b", "a/b", "/a", "//a", "?a", "#a", "a b", " a", "a\t", "https://x.ir/a", "http://x/b",
        "https://www.tasnimnews.com/fa/news/1398/04/11/2047417/خبر", "https://x.ir", "https://x.ir/", "https://x.ir?",
        "https://x.ir/a?", "https://x.ir/a#", "https://x.ir/a?b#c", "https://x.ir/a;b", "https://x.ir/a?b;c#d;e",
        "https://x.ir:80/a", "https://x.ir:/a", "https://X.IR/A", "HTTPS://x.ir/a", "https:///x.ir/a",
        "https://[::1]/a", "https://[::1/a", "https://x.ir/a b", "https://x.ir/\x7f", "https://ایسنا.ir/a",
        "http://x/../a", "http://x/./a", "tag:x.ir,2025:1", "urn:uuid:1", "mailto:a@x.ir", "ftp://x/a", "a\x00b"]


# --- monitor.fastparse.urljoin against feedparser's own join (a private name: only this test may use it)
from feedparser.urls import _urljoin as feedparser_urljoin  # noqa: E402


def test_urljoin_equals_feedparsers_on_the_listed_cases():
    for base in BASES:
        for ref in REFS:
            assert F.urljoin(base, ref) == feedparser_urljoin(base, ref), (base, ref)


_HREF = re.compile(r"""(?:href|src|about|xml:base)\s*=\s*["']([^"'<>]*)["']|<(?:link|guid|id|url|comments)>"""
                   r"""([^<]*)</""", re.I)


def _links_in(paths) -> list[str]:
    found: set[str] = set()
    for path in paths:
        text = path.read_bytes().decode("utf-8", "replace")
        found.update(a or b for a, b in _HREF.findall(text))
    return sorted(found)


def test_urljoin_equals_feedparsers_on_the_fixtures_and_the_corpus():
    paths = sorted(FEEDS.iterdir())
    for folder in (CORPUS, PERSIAN):
        if folder.is_dir():
            paths += sorted(p for p in folder.rglob("*") if p.is_file())
    refs = _links_in(paths)
    assert len(refs) > (400 if PERSIAN.is_dir() and CORPUS.is_dir() else 20)
    bases = BASES[:8] + [f"http://127.0.0.1:8080/{p.name}" for p in sorted(FEEDS.iterdir())[:3]] + refs[:: max(1, len(refs) // 40)]
    for base in bases:
        for ref in refs:
            assert F.urljoin(base, ref) == feedparser_urljoin(base, ref), (base, ref)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(st.sampled_from(BASES), st.lists(st.sampled_from(["http", "https", ":", "://", "/", "//", ".", "..",
                                                                   "x", ":80", "?", "#", "[", "]", "@", "a"]),
                                                 max_size=8).map("".join)),
       st.text(max_size=20) | st.lists(st.sampled_from(["http", "https", "HTTPS", ":", "://", "/", "//", "///", ".",
                                                        "..", "x", "X.ir", "?", "#", ";", "%41", "ش", " ", "[", "]",
                                                        "\\", "a"]), max_size=10).map("".join))
def test_urljoin_equals_feedparsers_on_generated_cases(base, ref):
    assert F.urljoin(base, ref) == feedparser_urljoin(base, ref)


def test_acceptable_elements_are_feedparsers():
    """The fast path's own copy of the sanitizer's allow-list, against the installed feedparser's."""
    from feedparser.sanitizer import _HTMLSanitizer

    assert F._ACCEPTABLE == frozenset(_HTMLSanitizer.acceptable_elements) - {"noscript", "math", "svg"}


@pytest.mark.parametrize("base", BASES)
def test_urljoin_fast_paths_equal_feedparser(base):
    for ref in REFS:
        assert F._join(base, ref) == F.urljoin(base, ref), (base, ref)


def test_urljoin_fast_paths_take_ordinary_links_and_guids(monkeypatch):
    base = "https://news.example.ir/rss/all"
    refs = ["news0-1", "https://news.example.ir/fa/news/1", "http://www.tabnak.ir/fa/news/1/خبر", "2047417"]
    expected = [F.urljoin(base, ref) for ref in refs]
    assert F._join_prefix(base) == "https://news.example.ir/rss/"
    assert F._join_prefix("https://[::1/x") is None  # a base urllib refuses: feedparser's join is "" for all
    monkeypatch.setattr(F, "urljoin", lambda base, ref: pytest.fail(f"slow path for {ref}"))
    assert [F._join(base, ref) for ref in refs] == expected


_REF_PIECES = st.sampled_from(["http", "https", "HTTPS", ":", "://", "/", "//", ".", "..", "x", "X.ir", ":80", "?",
                               "#", ";", "&", "=", "%", "%41", "ش", " ", "\t", "\x00", "[", "]", "@", "\\", "a", "-"])


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(BASES), st.lists(_REF_PIECES, min_size=1, max_size=10).map("".join))
def test_urljoin_fast_paths_equal_feedparser_on_generated_references(base, ref):
    assert F._join(base, ref) == F.urljoin(base, ref)


@settings(max_examples=300, deadline=None)
@given(st.lists(_REF_PIECES, max_size=8).map("".join), st.sampled_from(REFS[:12]))
def test_urljoin_fast_paths_equal_feedparser_on_generated_bases(base, ref):
    assert F._join(base, ref) == F.urljoin(base, ref)


# Texts that the Latin-1 repair or the C1 check act on, written raw or as character references.
_FIX_TEXTS = ["cafÃ©", "Ã", "\x85", "a\x9fb", "é", "\xa0", "&#133;", "&#x85;", "&#233;", "&#xC3;&#xA9;", "&#1740;",
              "خبر", "ok", "&amp;#133;", "\u200c"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_FIX_TEXTS), max_size=4).map("".join),
       st.lists(st.sampled_from(_FIX_TEXTS), max_size=3).map("".join),
       st.sampled_from(["utf-8", "windows-1256"]))
def test_fixer_skips_fix_only_where_fix_changes_nothing(title, author, charset):
    """_fixer hands back a no-op for bodies whose bytes prove _fix changes no text: same result as _fix always."""
    decl = f'<?xml version="1.0" encoding="{charset}"?>'
    text = rss(f"<item><title>{title}</title><guid>f1</guid><author>{author}</author>{DATE}</item>", decl=decl)
    try:
        body = text.decode("utf-8").encode("cp1256") if charset == "windows-1256" else text
    except UnicodeEncodeError:
        return
    fast = parse_simple(body, "application/rss+xml", URL)
    original = F._fixer
    try:
        F._fixer = lambda body, encoding: partial(F._fix, utf8=encoding == "utf-8")
        exact = parse_simple(body, "application/rss+xml", URL)
    finally:
        F._fixer = original
    assert fast == exact


def test_fixer_is_a_no_op_only_for_clean_bodies():
    assert F._fixer("<rss>خبر</rss>".encode(), "utf-8") is F._unchanged
    for body in ["<rss>é</rss>".encode(), "<rss>\x85</rss>".encode(), b"<rss>&#133;</rss>", b"<\x00r\x00"]:
        assert F._fixer(body, "utf-8") is not F._unchanged, body
    assert F._fixer("<rss>خبر</rss>".encode("cp1256"), "cp1256") is F._unchanged


_TREE_TAGS = st.sampled_from(["item", "entry", "{http://www.w3.org/2005/Atom}entry", "{http://purl.org/rss/1.0/}item",
                              "{urn:x}item", "{urn:x}items", "items", "xitem", "channel", "{urn:item}x", "it"])


def _tree(draw_tags, shape):
    root = ET.Element(draw_tags[0])
    nodes = [root]
    for tag, parent in zip(draw_tags[1:], shape):
        nodes.append(ET.SubElement(nodes[parent % len(nodes)], tag))
    return root


@settings(max_examples=500, deadline=None)
@given(st.lists(_TREE_TAGS, min_size=1, max_size=15), st.lists(st.integers(0, 20), max_size=15))
def test_items_anywhere_counts_as_a_test_per_element(tags, shape):
    root = _tree(tags, shape)
    expected = sum(1 for e in root.iter() if e.tag in ("item", f"{F.ATOM}entry") or e.tag.endswith("}item"))
    assert F._items_anywhere(root) == expected


def _check_html_reference(text: str) -> bool:
    """The per-tag check _check_html made before it cached approved tags: True when it accepts."""
    tags = re.findall(r"""<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*"""
                      r"""(?:\s*=\s*(?:"[^"<>]*"|'[^'<>]*'|[^\s"'<>=`]+))?)*)\s*(/?)>""", text)
    if len(tags) != text.count("<"):
        return False
    return all(name.lower() in F._ACCEPTABLE and not (closing and name.lower() in F._VOID)
               for closing, name, _, _ in tags)


_HTML_TAGS = ["p", "P", "/p", "br", "/br", "BR/", "br /", "img src='x'", "/IMG", "a href=\"x\"", "/a", "script",
              "/script", "Iframe", "b", "/B", "svg", "x-y", "1p", " p", "p\n class=a", "hr/", "/hr", "td", "/td"]


@settings(max_examples=800, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_HTML_TAGS).map(lambda t: f"<{t}>"),
                          st.sampled_from(["متن", " ", "<", ">", "a<b", "&amp;"])), max_size=8).map("".join))
def test_check_html_with_approved_tags_equals_the_per_tag_check(html):
    for _ in range(2):  # the second time with the approved spellings cached
        try:
            F._check_html(html.replace("&amp;", ""))
            accepted = True
        except F._Refuse:
            accepted = False
        assert accepted == _check_html_reference(html.replace("&amp;", "")), html
