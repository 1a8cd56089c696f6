"""Properties of folding, tokenising and matching, checked with hypothesis on generated text.

Every property here is one a reader relies on: the fold key does not move under invisible or optional
characters, words are the runs of letters and joiners, a watched name written as a word is
always found, and one glued inside a longer word never is.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.match import Matcher
from monitor.models import WatchEntry
import re
import unicodedata
from html.parser import HTMLParser

from monitor.text import fold, html_to_text, token_columns

FAST = settings(max_examples=300, deadline=None)

PERSIAN = "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی"
VARIANT_LETTERS = "يىئكأإآٱؤةۀء"  # Arabic and hamza spellings of the letters above
FORMAT_CHARS = "\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u00ad"
DIACRITICS = "".join(map(chr, range(0x064B, 0x0660))) + "\u0670\u0640"  # harakat, superscript alef, tatweel
SEPARATORS = [" ", "  ", "\n", "، ", ". ", "؛ ", " «", "» ", "\t", " - ", "؟ "]

# Realistic news text: Persian and Arabic letters in every spelling, digits of three systems, Latin,
# punctuation, whitespace, invisible characters, presentation forms and other odd code points.
news_chars = st.characters(codec="utf-8", categories=("L", "M", "N", "P", "Z", "S", "Cf"))
news_text = st.text(
    alphabet=st.one_of(st.sampled_from(PERSIAN + VARIANT_LETTERS + FORMAT_CHARS + DIACRITICS + " \n،.«»-"
                                       + "۰۱۲۳٤٥6789aBcÉß\ufb8e\ufefb\ufdf2"), news_chars),
    max_size=80)
word = st.text(alphabet=PERSIAN, min_size=2, max_size=6)
invisible = st.sampled_from(FORMAT_CHARS + DIACRITICS)


@FAST
@given(news_text)
def test_fold_is_idempotent(s: str) -> None:
    assert fold(fold(s)) == fold(s)


@FAST
@given(news_text, st.lists(st.tuples(st.integers(min_value=0), invisible), max_size=6))
def test_inserting_format_characters_or_diacritics_never_changes_the_fold_key(s: str, inserts) -> None:
    t = s
    for pos, ch in inserts:
        i = pos % (len(t) + 1)
        t = t[:i] + ch + t[i:]
    assert fold(t) == fold(s)


def _joins(ch: str) -> bool:
    """Folds to nothing but sits inside words (ZWNJ, marks, tatweel, hamza): it never splits one."""
    return ch in "\u0621\u0640\u0654\u0655" or unicodedata.category(ch) in ("Mn", "Mc", "Me", "Cf")


@FAST
@given(news_text)
def test_words_are_the_maximal_runs_of_letters_and_joiners(s: str) -> None:
    """Each word starts and ends on a character with a fold, its span folds to its text, and between two
    words (and around them) stands at least one character that neither folds to something nor joins."""
    texts, starts, ends = token_columns(s)
    assert "".join(texts) == fold(s)
    for t, a, b in zip(texts, starts, ends):
        assert fold(s[a:b]) == t and fold(s[a]) and fold(s[b - 1])
        assert all(fold(c) or _joins(c) for c in s[a:b])
    for b, a in zip([0] + ends, starts + [len(s)]):
        gap = s[b:a]
        assert not fold(gap)
        if 0 < b and a < len(s):
            assert any(not _joins(c) for c in gap), (s, b, a)


def _text(words: list[str], seps: list[str]) -> str:
    return "".join(w + seps[i % len(seps)] for i, w in enumerate(words))


@FAST
@given(st.lists(word, min_size=1, max_size=3), st.lists(word, max_size=8), st.lists(word, max_size=8),
       st.lists(st.sampled_from(SEPARATORS), min_size=1, max_size=4),
       st.lists(st.sampled_from([" ", "\u200c", "", "-"]), min_size=2, max_size=2))
def test_a_term_between_word_boundaries_is_always_found(term_words, before, after, seps, joins) -> None:
    """However the term's own words are joined (space, ZWNJ, nothing, hyphen), and whatever surrounds it."""
    term = " ".join(term_words)
    written = term_words[0] + "".join(joins[i % 2] + w for i, w in enumerate(term_words[1:]))
    head = _text(before, seps)
    text = head + written + seps[0] + _text(after, seps)
    start, end = len(head), len(head) + len(written)
    hits = Matcher([WatchEntry("t", "figure", (term,))]).find(text)
    assert any(h.start < end and h.end > start for h in hits), (text, term)


@FAST
@given(st.lists(word, min_size=1, max_size=2), st.text(alphabet=PERSIAN, max_size=3),
       st.text(alphabet=PERSIAN, max_size=3), st.sampled_from(["", "\u200c"]), st.sampled_from(["", "\u200c"]),
       st.lists(word, max_size=6), st.lists(word, max_size=6))
def test_a_term_glued_inside_a_longer_word_is_never_found(term_words, prefix, suffix, glue1, glue2,
                                                           before, after) -> None:
    """«امانی» in «سامانی», «بی‌امانی» or «امانیان»: letters (or a ZWNJ, which joins) on either side."""
    if not prefix and not suffix:
        prefix = "س"
    term = " ".join(term_words)
    glued = (prefix + glue1 if prefix else "") + "".join(term_words) + (glue2 + suffix if suffix else "")
    head = " ".join(before) + " " if before else ""
    text = head + glued + " " + " ".join(after)
    start, end = len(head), len(head) + len(glued)
    hits = Matcher([WatchEntry("t", "figure", (term,))]).find(text)
    assert not any(h.start < end and h.end > start for h in hits), (text, term, hits)


class _Reference(HTMLParser):
    """What html_to_text means, said with html.parser: text pieces, a break at each block tag, a space before
    each table cell, nothing from script-like elements, comments or declarations, CDATA as text."""

    BLOCK = set("p div br li h1 h2 h3 h4 h5 h6 tr blockquote section article header footer ul ol table figure "
                "figcaption".split())
    SKIP = {"script", "style", "noscript", "iframe", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str | None] = []
        self.saw_tag, self.skip = False, 0

    def handle_starttag(self, tag, attrs):
        self.saw_tag = True
        if tag in self.SKIP:
            self.skip += 1
        elif tag in self.BLOCK:
            self.pieces.append(None)
        elif tag in ("td", "th"):
            self.pieces.append(" ")

    def handle_endtag(self, tag):
        self.saw_tag = True
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCK:
            self.pieces.append(None)

    def handle_startendtag(self, tag, attrs):
        self.saw_tag = True
        if tag in self.BLOCK:
            self.pieces.append(None)

    def handle_data(self, data):
        if not self.skip:
            self.pieces.append(data)

    def unknown_decl(self, data):
        if data.upper().startswith("CDATA[") and not self.skip:
            self.pieces.append(data[6:])


def reference_html_to_text(html: str) -> str:
    parser = _Reference()
    parser.feed(html)
    parser.close()
    text = "".join("\n" if p is None else re.sub(r"\s+", " ", p) if parser.saw_tag else p for p in parser.pieces)
    return "\n".join(line for line in (" ".join(line.split()) for line in text.splitlines()) if line)


_HTML_TEXT = st.text(alphabet=st.sampled_from(list("سلام دنیا ۱۲۳ abc\n\r\t\u200c\u200f\u2028،.;#x>/=\"'-!]")),
                     max_size=12)
_TAG_NAMES = st.sampled_from(["p", "P", "div", "br", "li", "h1", "tr", "td", "th", "b", "a", "span", "img", "table",
                              "script", "style", "noscript", "iframe", "template", "SCRIPT", "x-y", "font"])
_ATTR = st.one_of(st.just(""), st.sampled_from([' href="http://x/?a=1&amp;b=2"', " class='c>d'", " src=x.png",
                                                 ' title="a < b"', " hidden", ' data-x = "1"', " a=b c='d'"]))
_HTML_PIECE = st.one_of(
    _HTML_TEXT,
    st.sampled_from(["&amp;", "&lt;p&gt;", "&#1605;", "&#x06CC;", "&nbsp;", "&zwnj;", "&amp;amp;", "& ", "&x",
                     "<!-- c -->", "<!--<p>x</p>-->", "<![CDATA[ <b>c</b> & ]]>", "<!DOCTYPE html>", "<?xml v?>",
                     "< ", "a < b", "3<4", "<>", "<\n"]),
    st.builds(lambda name, attr, close: f"<{name}{attr}{close}>", _TAG_NAMES, _ATTR, st.sampled_from(["", "/", " /"])),
    st.builds(lambda name: f"</{name}>", _TAG_NAMES),
)


@FAST
@given(st.lists(_HTML_PIECE, max_size=16).map("".join))
def test_html_to_text_reads_html_as_html_parser_does(html: str) -> None:
    assert html_to_text(html) == reference_html_to_text(html)


@given(st.text(alphabet=st.sampled_from(list("سلام دنیا ۱۲۳ abc\n\r\t\u200c\u200f\u2028،.;#x&")), max_size=80))
def test_html_to_text_of_plain_text(text: str) -> None:
    """Without any '<' line breaks are kept: text that is not HTML comes out as its lines."""
    assert html_to_text(text) == reference_html_to_text(text)


_SHARED_MATCHER = Matcher([WatchEntry(name="a", kind="person", terms=("محمدعلی امانی", "امانی")),
                           WatchEntry(name="b", kind="party", terms=("مؤتلفه",), exclude=("مؤتلفه ملی",))])


@FAST
@given(items=st.lists(st.tuples(st.one_of(news_text, st.just("")),
                                st.one_of(news_text, st.just("ﻻ امانی ß")),
                                st.sampled_from(["", "محمد علی امانی", "مؤتلفه‌ای‌ها", "\nمنبع: خبرگزاری"])),
                      min_size=1, max_size=5))
def test_a_feeds_items_analysed_together_are_analysed_as_alone(items) -> None:
    """analyse() fingerprints, folds and pre-matches a feed's items together (speed issue): each item's
    fingerprint, folds and match candidates must equal what it gets alone, long folds (ﻻ, ß) included. The
    body's fold is of the text the matcher reads: the body without boilerplate (strip_boilerplate)."""
    from monitor.dedup import fingerprint, fingerprints, strip_boilerplate

    pairs = [(title, body + extra) for title, body, extra in items]
    together = fingerprints(pairs)
    for (title, body), (fp, title_fold, body_fold) in zip(pairs, together):
        assert fp == fingerprint(title, body)
        assert (title_fold, body_fold) == (fold(title), fold(strip_boilerplate(body)))
    found = _SHARED_MATCHER.candidates([t + b for _, t, b in together])
    for i, (title, body) in enumerate(pairs):
        if _SHARED_MATCHER.item_matches(title, body):
            assert i in found


_PERSIAN_WORDS = st.lists(st.sampled_from(["می", "تحریم", "ها", "همکاری", "های", "امانی", "کشور", "ۀ"]),
                          min_size=1, max_size=8)


@FAST
@given(words=_PERSIAN_WORDS, marks=st.lists(st.sampled_from(["\u200e", "\u200f", "\u200e\u200f"]), min_size=8,
                                            max_size=8), spaces=st.lists(st.booleans(), min_size=8, max_size=8))
def test_a_direction_mark_between_letters_is_whatever_zwnj_is(words, marks, spaces) -> None:
    """Issue 12, point 12: LRM/RLM where a half-space was meant give the same fold, words (with their spans),
    Words and fingerprints as ZWNJ there, and the same display form."""
    from monitor.text import Words, display, tokens
    from monitor.textbatch import digest

    def joined(use_marks: bool) -> str:
        out = words[0]
        for i, w in enumerate(words[1:]):
            out += (" " if spaces[i] else (marks[i] if use_marks else "\u200c" * len(marks[i]))) + w
        return out

    marked, zwnj = joined(True), joined(False)
    assert fold(marked) == fold(zwnj)
    assert [(t.text, t.start, t.end) for t in tokens(marked)] == [(t.text, t.start, t.end) for t in tokens(zwnj)]
    assert Words(marked).texts == Words(zwnj).texts
    a, b = digest([marked, zwnj])
    assert (a.fold, a.fingerprints.tolist(), a.size) == (b.fold, b.fingerprints.tolist(), b.size)
    assert display(marked) == display(zwnj).replace("\u200c\u200c", "\u200c")
