"""Properties of folding, tokenising and matching, checked with hypothesis on generated text.

Every property here is one a reader relies on: the fold key does not move under invisible or optional
characters, the fast word splitter agrees with the exact per-character one, a watched name written as a word is
always found, and one glued inside a longer word never is.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.match import Matcher
from monitor.models import WatchEntry
from monitor.text import _columns_slow, fold, token_columns

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


@FAST
@given(news_text)
def test_fast_words_agree_with_the_exact_per_character_split(s: str) -> None:
    texts, starts, ends = token_columns(s)
    assert (texts, starts, ends) == _columns_slow(s)
    assert "".join(texts) == fold(s)


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


@given(st.text(alphabet=st.sampled_from(list("سلام دنیا ۱۲۳ abc\n\r\t\u200c\u200f\u2028،.;#x")), max_size=80))
def test_html_to_text_plain_fast_path_equals_the_parser(text: str) -> None:
    """Text without '<' or '&' skips the HTML parser (speed issue); the result must be what the parser gives."""
    from monitor.text import _parsed_html_to_text, html_to_text

    assert html_to_text(text) == _parsed_html_to_text(text)


_SHARED_MATCHER = Matcher([WatchEntry(name="a", kind="person", terms=("محمدعلی امانی", "امانی")),
                           WatchEntry(name="b", kind="party", terms=("مؤتلفه",), exclude=("مؤتلفه ملی",))])


@FAST
@given(title=st.one_of(news_text, st.just("")), body=st.one_of(news_text, st.just("ﻻ امانی ß")),
       extra=st.sampled_from(["", "محمد علی امانی", "مؤتلفه‌ای‌ها", "\nمنبع: خبرگزاری"]))
def test_words_shared_between_fingerprint_and_matcher_change_nothing(title: str, body: str, extra: str) -> None:
    """analyse() translates title and body once and hands the Words to the fingerprint and the matcher (speed
    issue): the results must equal computing everything from the strings, long folds (ﻻ, ß) included."""
    from monitor.dedup import fingerprint
    from monitor.text import Words

    body = body + extra
    text = f"{title}\n{body}"
    title_words, body_words = Words(title), Words(body)
    joined = Words.joined(title_words, "\n", body_words)
    assert joined.texts == Words(text).texts and joined.folded() == fold(text)
    assert _SHARED_MATCHER.matches(text, words=joined) == _SHARED_MATCHER.matches(text)
    assert fingerprint(title, body, title_words=title_words, body_words=body_words) == fingerprint(title, body)


@FAST
@given(st.text(alphabet=st.one_of(st.sampled_from(PERSIAN + VARIANT_LETTERS + FORMAT_CHARS + DIACRITICS + " \n،.«»-"),
                                  st.characters(max_codepoint=0x2FFF), st.characters()), min_size=256, max_size=400))
def test_tuple_tables_translate_like_the_dicts(s: str) -> None:
    """Long texts are translated through tuples indexed by code point (speed issue): same result as the dicts,
    and texts with characters beyond the tuples' range take the dict path."""
    from monitor.text import _FOLD, _SKELETON, _translate

    assert _translate(s, "fold", _FOLD) == s.translate(_FOLD)
    assert _translate(s, "skeleton", _SKELETON) == s.translate(_SKELETON)


_TAGS = ["p", "P", "div", "br", "li", "td", "th", "tr", "a", "b", "span", "img", "script", "style", "iframe",
         "h2", "table", "strong"]
_ATTRS = ["", ' href="https://x.ir/a?b=1&amp;c=2"', " class='x'", " src=/img/a.jpg", " data-x", ' title="a > b"',
          " alt=\"<b>\"", "  id = 'q' "]
html_piece = st.one_of(
    st.sampled_from(["سلام", "دنیا ", " \n ", "&amp;", "&nbsp;", "&#1740;", "&lt;b&gt;", "&zwnj;", "a < b", "<",
                     "&", "&amp", "<!-- c -->", "<![CDATA[x]]>", "\t", "،", "\u200c", "\x1c", "\x85", "\u2028",
                     "\r\n", "\x0b", "\u3000", "\xa0"]),
    st.builds(lambda t, a, kind: {0: f"<{t}{a}>", 1: f"</{t}>", 2: f"<{t}{a}/>", 3: f"<{t}{a} />"}[kind],
              st.sampled_from(_TAGS), st.sampled_from(_ATTRS), st.integers(0, 3)))


@FAST
@given(st.lists(html_piece, max_size=25).map("".join))
def test_simple_html_fast_path_equals_the_parser(html: str) -> None:
    """Feed HTML made of plain tags is split with a regex instead of html.parser (speed issue): same text out."""
    from monitor.text import _parsed_html_to_text, html_to_text

    assert html_to_text(html) == _parsed_html_to_text(html)


def test_simple_html_fast_path_takes_ordinary_feed_html() -> None:
    from monitor.text import _simple_html_to_text

    assert _simple_html_to_text('<p>سلام <a href="https://x.ir/?a=1&amp;b=2">دنیا</a></p><p>دوم<br/>سوم</p>') \
        == "سلام دنیا\nدوم\nسوم"
    assert _simple_html_to_text("<p>a</p><script>x</script>") is None
    assert _simple_html_to_text("<p>a <!-- b --></p>") is None


@FAST
@given(st.text(alphabet=st.one_of(st.sampled_from(PERSIAN + VARIANT_LETTERS + FORMAT_CHARS + DIACRITICS + " \n،.«»-ﻻ"),
                                  st.characters(max_codepoint=0x2FFF), st.characters()), min_size=256, max_size=400))
def test_numpy_skeleton_equals_the_table(s: str) -> None:
    """Long texts get their word skeleton through a numpy lookup table (speed issue): same as str.translate,
    and texts with characters above U+2FFF, astral ones or lone surrogates included, take the other paths."""
    from monitor.text import _SKELETON, _skeleton

    assert _skeleton(s) == s.translate(_SKELETON)


def test_numpy_skeleton_on_persian_text_and_past_its_range() -> None:
    from monitor.text import _SKELETON, _skeleton

    text = ("حزب مؤتلفه‌ای‌ها «امانی» ۱۲۳ كيم " * 20)
    assert _skeleton(text) == text.translate(_SKELETON)
    for extra in ("😀", "\ud800", "ﻻ", "中"):
        assert _skeleton(text + extra) == (text + extra).translate(_SKELETON)


@FAST
@given(st.lists(st.one_of(html_piece, st.sampled_from(["\x00", "&#0;", "&#x0;", "&#10;", "&NewLine;", "  ", " ",
                                                        "<p>", "</p>", "<br/>", "\u200c", "\u200f", "a  b"])),
                max_size=25).map("".join))
def test_split_html_fast_path_equals_the_per_tag_split(html: str) -> None:
    """Plain-tag HTML is split once and its words collapsed all at once (speed issue): the same text as the
    per-tag, per-line _simple_html_to_text, which stays for cells and checks."""
    from monitor.text import _simple_html_to_text, _split_html_to_text

    assert _split_html_to_text(html) == _simple_html_to_text(html)


@FAST
@given(st.lists(st.sampled_from(["<p>", "</p>", "<P>", "<br/>", "<div class='a'>", "</div>", "<b>", "</b>",
                                 "<a href=\"x\">", "</a>", "سلام", "دنیا", "\u200c", " ", "word", "&amp;", "&zwnj;",
                                 "&nbsp;"]), max_size=30).map("".join))
def test_split_html_fast_path_on_ordinary_feed_paragraphs(html: str) -> None:
    """The shapes feeds send most, where the texts are clean and the per-line work is skipped."""
    from monitor.text import _parsed_html_to_text, _simple_html_to_text, _split_html_to_text

    assert _split_html_to_text(html) == _simple_html_to_text(html) == _parsed_html_to_text(html)


@FAST
@given(st.text(alphabet=st.sampled_from(list("سلام دنیا abc\u200c\u200f\xa0\t\n\r\x1c\x85\u2028\u3000")), max_size=40))
def test_clean_title_fast_path_equals_plain_lines(text: str) -> None:
    """A title with single spaces only comes back as it is, as _plain_lines would give it."""
    from monitor.text import _plain_lines, html_to_text

    assert html_to_text(text) == (_plain_lines(text) if text else "")


def test_split_html_fast_path_takes_ordinary_feed_html() -> None:
    from monitor.text import _split_html_to_text

    assert _split_html_to_text("<p>یک دو</p><p>سه\u200cچهار</p><br/>") == "یک دو\nسه\u200cچهار"
    assert _split_html_to_text("<p>یک  دو\n</p>\n<p> سه</p>") == "یک دو\nسه"
    assert _split_html_to_text("<p>a\x00b</p>") == "a\x00b"  # the boundary character in a text: per-tag path
    assert _split_html_to_text("<table><tr><td>a</td><td>b</td></tr></table>") == "a b"
    assert _split_html_to_text("<p>a</p><script>x</script>") is None
    assert _split_html_to_text("a < b") is None
