"""Which charset a page is read in (monitor.article.decode): BOM, then the HTTP charset, then the meta prescan,
then UTF-8 when valid, then detection. The whole-page behaviour is in test_article_extract.py."""

from __future__ import annotations

import codecs

import pytest

from conftest import REPO

from monitor.article.decode import decode_html, declared_charset

PAGES = REPO / "fixtures" / "pages"
PERSIAN = "دیدار دبیرکل حزب مؤتلفه اسلامی با سفیر پاکستان"


def test_meta_http_equiv_alone_names_the_charset():
    body = (PAGES / "fars_russia_parties_1256.html").read_bytes()
    assert b"http-equiv" in body and declared_charset(body, "text/html") == "cp1256"


def test_an_undeclared_page_declares_nothing_and_is_detected():
    body = (PAGES / "irna_vietnam_1256.html").read_bytes()
    assert declared_charset(body, "text/html") is None
    assert "حزب کمونيست ويتنام" in decode_html(body, "text/html")


@pytest.mark.parametrize("content_type, body, expected", [
    ("text/html; charset=windows-1256", b'<meta charset="utf-8">', "cp1256"),  # the header wins
    ('text/html; charset="UTF-8"', b"", "utf-8"),
    ("text/html", b'<html><head><meta charset=windows-1256 />', "cp1256"),
    ("text/html", b"<meta http-equiv='content-type' content='text/html;charset=UTF-8'>", "utf-8"),
    ("text/html; charset=iso-8859-1", b"", "cp1252"),  # what browsers mean by latin-1
    ("text/html; charset=x-no-such-thing", b'<meta charset="windows-1256">', "cp1256"),  # unknown: next one
    ("text/html", b"<p>no declaration</p>", None),
])
def test_declared_charset(content_type, body, expected):
    assert declared_charset(body, content_type) == expected


def test_a_byte_order_mark_wins_and_is_not_kept():
    body = codecs.BOM_UTF8 + f"<p>{PERSIAN}</p>".encode()
    assert declared_charset(body, "text/html; charset=windows-1256") == "utf-8"
    assert decode_html(body, "text/html; charset=windows-1256") == f"<p>{PERSIAN}</p>"
    utf16 = codecs.BOM_UTF16_LE + f"<p>{PERSIAN}</p>".encode("utf-16-le")
    assert decode_html(utf16, None) == f"<p>{PERSIAN}</p>"


def test_undeclared_utf8_is_read_as_utf8_and_bad_bytes_are_replaced():
    assert decode_html(f"<p>{PERSIAN}</p>".encode(), None) == f"<p>{PERSIAN}</p>"
    text = decode_html(f"<p>{PERSIAN}</p>".encode() + b"\xff", "text/html; charset=utf-8")
    assert text == f"<p>{PERSIAN}</p>\ufffd"
