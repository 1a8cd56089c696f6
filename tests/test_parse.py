"""parse: bytes to RawItems over the fixture feeds and the real Persian snapshots (read in place)."""

import pytest

from conftest import FEEDS, SHARED
from monitor.errors import ParseError
from monitor.models import RawItem
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


# ---------------------------------------------- the fast path before settle_encoding changes nothing
import itertools  # noqa: E402
import xml.etree.ElementTree as ET  # noqa: E402

from monitor.fastparse import parse_simple  # noqa: E402
from monitor.parse import parse_with_feedparser, settle_encoding  # noqa: E402

_CONTINUATIONS = [0x00, 0x41, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBE, 0xBF, 0xC0, 0xC2, 0xED, 0xFF]
_CONTEXTS = [(b"<r>x", b"y</r>"), (b'<r a="', b'"/>'), (b"<r><!--", b"--></r>"), (b"<r><![CDATA[", b"]]></r>"),
             (b"<r><?pi ", b"?></r>"), (b"<r/><!--", b"-->"), (b'<?xml version="1.0" encoding="utf8"?><r>', b"</r>")]


def test_expat_rejects_every_byte_sequence_python_utf8_rejects():
    """parse_feed tries the fast path on the raw bytes and skips settle_encoding when it accepts them; that
    is exact only because a body expat reads as UTF-8 without error is valid UTF-8 to Python as well."""
    checked = 0
    for lead in range(0x80, 0x100):
        for k in range(4):
            for rest in itertools.product(_CONTINUATIONS, repeat=k):
                seq = bytes([lead, *rest])
                try:
                    seq.decode("utf-8")
                    continue
                except UnicodeDecodeError:
                    pass
                for head, tail in _CONTEXTS if k < 3 else _CONTEXTS[:1]:
                    try:
                        ET.fromstring(head + seq + tail)
                    except ET.ParseError:
                        checked += 1
                    else:
                        raise AssertionError(f"expat accepted {head + seq + tail!r}")
    assert checked > 100_000


def _parse_settling_first(body, content_type, url):
    """parse_feed as it was: settle_encoding first, then the fast path, then feedparser."""
    body, content_type = settle_encoding(body, content_type)
    items = parse_simple(body, content_type, url)
    return items if items is not None else parse_with_feedparser(body, content_type, url)


_ITEM = ('<item><title>{t}</title><guid>g</guid><pubDate>Tue, 18 Nov 2025 10:00:00 GMT</pubDate>'
         "<description>{t}</description></item>")


def _feed(title: str, decl: str = '<?xml version="1.0" encoding="utf-8"?>') -> str:
    return f'{decl}<rss version="2.0"><channel><title>t</title>{_ITEM.format(t=title)}</channel></rss>'


@pytest.mark.parametrize("body", [
    _feed("خبر").encode(), _feed("خبر", decl="").encode(), _feed("خبر").encode()[:-30],
    _feed("خبر BAD").encode().replace(b"BAD", b"\xff\xfe\xc3("),  # a few bad bytes: repaired as U+FFFD
    _feed("مجلس شوراي اسلامي", decl='<?xml version="1.0"?>').encode("cp1256"),  # undeclared cp1256
    _feed("مجلس شوراي اسلامي", decl='<?xml version="1.0" encoding="windows-1256"?>').encode("cp1256"),
    _feed("caf\xe9", decl='<?xml version="1.0"?>').encode("latin-1"),
    _feed("t", decl="").encode("utf-16-le"), _feed("خبر", decl="").encode("utf-16-le"),  # no BOM: expat guesses
    _feed("t").encode("utf-16"), _feed("\x85").encode(), _feed("&#133;").encode(),
    b"", b"<html><body>x</body></html>", b"\xef\xbb\xbf" + _feed("خبر").encode(),
], ids=lambda b: repr(b[:12]) + str(len(b)))
@pytest.mark.parametrize("content_type", [None, "application/rss+xml", "text/xml; charset=utf-8",
                                          "application/xml; charset=windows-1256", "text/html"])
def test_parse_feed_equals_settling_the_encoding_first(body, content_type):
    def outcome(fn):
        try:
            return fn(body, content_type, "https://news.example.ir/rss")
        except ParseError as exc:
            return str(exc)

    assert outcome(lambda b, c, u: parse_feed(b, content_type=c, url=u)) == outcome(_parse_settling_first)


# ------------------------------------------------------------------------------------------ one bad value
def _feed(titles, decl='<?xml version="1.0" encoding="utf-8"?>'):
    items = "".join(f'<item><guid isPermaLink="false">g{i}</guid><title>{t}</title></item>' for i, t in enumerate(titles))
    return f'{decl}<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'


@pytest.mark.parametrize("fast", ["1", "0"])
@pytest.mark.parametrize("ref", ["&#xD800;", "&#xdfff;", "&#55296;", "&#x110000;", "&#99999999999999999999;"])
def test_a_character_reference_to_no_character_is_u_fffd_not_a_failed_feed(monkeypatch, fast, ref):
    monkeypatch.setenv("MONITOR_FAST_PARSE", fast)
    for body in (_feed(["ok", f"a {ref} b"]).encode(), _feed(["ok", f"a {ref} b"], decl='<?xml version="1.0" '
                                                                "encoding=\"utf-16\"?>").encode("utf-16")):
        items = parse_feed(body, content_type="application/rss+xml")
        assert [i.title for i in items] == ["ok", "a \ufffd b"]


@pytest.mark.parametrize("charset", ["undefined", "base64", "rot13", "no-such-charset", "zip"])
def test_a_charset_python_cannot_decode_with_is_read_as_undeclared(charset):
    for body, ctype in ((_feed(["خبر"], decl=f'<?xml version="1.0" encoding="{charset}"?>'), "application/rss+xml"),
                        (_feed(["خبر"]), f"application/rss+xml; charset={charset}")):
        assert [i.title for i in parse_feed(body.encode(), content_type=ctype)] == ["خبر"]
    cp = _feed(["خبر فارسي"], decl=f'<?xml version="1.0" encoding="{charset}"?>').encode("cp1256")
    assert [i.title for i in parse_feed(cp, content_type="application/rss+xml")] == ["خبر فارسي"]


def test_the_cap_keeps_the_newest_dated_items_then_feed_order():
    from datetime import datetime, timezone

    from monitor.parse import newest, parse_capped

    def at(day):
        return datetime(2025, 1, day, tzinfo=timezone.utc) if day else None

    raws = [RawItem(guid=str(i), link=None, title="", summary="", content="", published=at(day))
            for i, day in enumerate([3, None, 9, 1, None, 9, 5])]
    assert [r.guid for r in newest(raws, 4)] == ["0", "2", "5", "6"]  # 9, 9 (feed order), 5, 3: in feed order
    assert [r.guid for r in newest(raws, 6)] == ["0", "1", "2", "3", "5", "6"]  # then the first undated
    dates = ["Tue, 18 Nov 2025 10:00:00 GMT", "", "1404/08/27 14:30", "Wed, 19 Nov 2025 10:00:00 GMT", "junk"]
    items = "".join(f"<item><guid>g{i}</guid><pubDate>{d}</pubDate></item>" if d else f"<item><guid>g{i}</guid></item>"
                    for i, d in enumerate(dates))
    body = f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
    kept, total = parse_capped(body, content_type="application/rss+xml", max_items=3)
    assert total == 5 and [i.guid for i in kept] == ["g0", "g2", "g3"]
    kept, total = parse_capped(body, content_type="application/rss+xml", max_items=10)
    assert total == 5 and len(kept) == 5
