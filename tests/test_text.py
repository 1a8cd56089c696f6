"""monitor.text: fold keys survive every spelling variation of real seed text; tokens keep exact offsets."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.text import Token, display, fold, fold_hash, html_to_text, token_columns, tokens
from monitor.textbatch import WINDOW, digest

SEEDS = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "seeds").glob("*.txt"))
SEED_TEXTS = [p.read_text(encoding="utf-8") for p in SEEDS]

ZWNJ, ZWJ, LRM, RLM, BOM, SHY = "\u200c", "\u200d", "\u200e", "\u200f", "\ufeff", "\u00ad"
PERSIAN_DIGITS, ARABIC_DIGITS = "۰۱۲۳۴۵۶۷۸۹", "٠١٢٣٤٥٦٧٨٩"


# --- spelling variants of a whole article, one family each -----------------------------------------------------

def arabic_letters(s: str) -> str:
    return s.replace("ی", "ي").replace("ک", "ك")


def arabic_alef_maksura(s: str) -> str:
    return s.replace("ی ", "ى ")


def hamza_precomposed(s: str) -> str:
    return s.replace("موتلفه", "مؤتلفه").replace("رئیس", "رئیس")


def hamza_decomposed(s: str) -> str:
    # و + U+0654 instead of ؤ, ی + U+0654 instead of ئ, ا + U+0653 instead of آ, ا + U+0654 instead of أ
    return (s.replace("ؤ", "و\u0654").replace("ئ", "ی\u0654").replace("آ", "ا\u0653").replace("أ", "ا\u0654"))


def hamza_dropped(s: str) -> str:
    return s.replace("ؤ", "و").replace("ئ", "ی").replace("آ", "ا").replace("أ", "ا").replace("ء", "")


def with_zwnj(s: str) -> str:
    s = re.sub(r"\bمی(?=\S)", "می" + ZWNJ, s)
    for joined, split in (("بینالملل", "بین‌الملل"), ("همکاریهای", "همکاری‌های"), ("همکاریها", "همکاری‌ها"),
                          ("تحریمها", "تحریم‌ها"), ("سابقهای", "سابقه‌ای"), ("نشاندهنده", "نشان‌دهنده")):
        s = s.replace(joined, split)
    return s


def with_other_format_chars(s: str) -> str:
    s = BOM + s.replace("\n", RLM + "\n" + RLM)
    s = re.sub(r"(\d+)", LRM + "\u202a" + r"\1" + "\u202c" + "\u2066" + "\u2069", s)
    return s.replace("حزب", "ح" + ZWJ + "زب").replace("دیدار", "دی" + SHY + "دار")


def with_diacritics(s: str) -> str:
    return s.replace("حزب", "حِزْب").replace("اسلامی", "اِسلامی").replace("دیدار", "دیدارِ").replace("که", "کهّ") \
        .replace("موسی", "موسیٰ")


def with_tatweel(s: str) -> str:
    return s.replace("حزب", "حـــزب").replace("م", "مـ")


def with_presentation_forms(s: str) -> str:
    # isolated/final forms as they come out of PDFs: Farsi yeh (FBFC-FBFF), alef, kaf, lam-alef ligature
    return (s.replace("لا", "\ufefb").replace("ی", "\ufbfd").replace("ا", "\ufe8d").replace("ک", "\ufb8f")
            .replace("ه ", "\ufee9 "))


def heh_forms(s: str) -> str:
    return s.replace("ه ", "ۀ ").replace("ه،", "هٔ،")


def persian_digits(s: str) -> str:
    return s.translate(str.maketrans("0123456789" + ARABIC_DIGITS, PERSIAN_DIGITS * 2))


def arabic_digits(s: str) -> str:
    return s.translate(str.maketrans("0123456789" + PERSIAN_DIGITS, ARABIC_DIGITS * 2))


def ascii_digits(s: str) -> str:
    return s.translate(str.maketrans(PERSIAN_DIGITS + ARABIC_DIGITS, "0123456789" * 2))


def punctuation_and_spacing(s: str) -> str:
    s = s.replace("«", '"').replace("»", '"').replace("،", ",").replace("؛", ";").replace("؟", "?")
    return "  \t" + s.replace("\n", "\n\n  ").replace(" ", "  ") + "\r\n"


def no_punctuation(s: str) -> str:
    return re.sub(r"[^\w\s]", "", s).replace("\n", " ")


VARIANTS = [arabic_letters, arabic_alef_maksura, hamza_precomposed, hamza_decomposed, hamza_dropped, with_zwnj,
            with_other_format_chars, with_diacritics, with_tatweel, with_presentation_forms, heh_forms,
            persian_digits, arabic_digits, ascii_digits, punctuation_and_spacing, no_punctuation]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("seed", range(len(SEEDS)), ids=lambda i: SEEDS[i].stem)
def test_fold_is_equal_under_each_spelling_family(seed: int, variant) -> None:
    original = SEED_TEXTS[seed]
    changed = variant(original)
    assert fold(changed) == fold(original)
    assert fold_hash(changed) == fold_hash(original)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda f: f.__name__)
def test_each_variant_really_changes_the_seeds(variant) -> None:
    assert sum(variant(t) != t for t in SEED_TEXTS) >= 3


def test_all_variants_at_once() -> None:
    for original in SEED_TEXTS:
        changed = original
        for variant in (arabic_letters, hamza_decomposed, with_zwnj, with_other_format_chars, with_diacritics,
                        with_tatweel, heh_forms, arabic_digits, punctuation_and_spacing):
            changed = variant(changed)
        assert fold(changed) == fold(original)


def test_seeds_fold_to_distinct_keys() -> None:
    hashes = {fold_hash(t) for t in SEED_TEXTS}
    assert len(hashes) == len(SEED_TEXTS)
    assert all(re.fullmatch(r"[0-9a-f]{32}", h) for h in hashes)


@pytest.mark.parametrize(("a", "b"), [
    ("كيم جونگ اون", "کیم‌جونگ‌اون"),
    ("مؤتلفه", "موتلفه"),
    ("مؤتلفه", "مو\u0654تلفه"),
    ("آمریکا", "امریکا"),
    ("إسلام", "اسلام"),
    ("أحمد", "احمد"),
    ("ٱلله", "الله"),
    ("مسئله", "مسيله"),
    ("جزء", "جز"),
    ("خانۀ", "خانهٔ"),
    ("خانۀ", "خانه"),
    ("مدرسة", "مدرسه"),
    ("ہ ھ ە", "ههه"),
    ("ې ۍ ى", "ییی"),
    ("ڪتاب", "کتاب"),
    ("۱۴۰۴/۰۸/۲۶", "1404-08-26"),
    ("١٤٠٤", "1404"),
    ("Straße PUTIN", "strasseputin"),
    ("café", "cafe\u0301"),
    ("ﻻ", "لا"),
    ("\ufbfc\ufbfd\ufbfe\ufbff", "یییی"),
    ("می‌شود", "میشود"),
    ("می شود", "میشود"),
    ("بـــزرگ", "بزرگ"),
    ("بِسْمِ", "بسم"),
])
def test_fold_pairs(a: str, b: str) -> None:
    assert fold(a) == fold(b)


def test_fold_output_is_letters_and_digits_only() -> None:
    for text in SEED_TEXTS:
        key = fold(with_presentation_forms(with_other_format_chars(text)))
        assert key and all(c.isalnum() for c in key)
        assert not set(key) & set("يكىئؤأإآةۀ" + PERSIAN_DIGITS + ARABIC_DIGITS + "\u0640\u0621")


def test_fold_hash_of_empty_fold_is_empty() -> None:
    assert fold_hash("") == ""
    assert fold_hash("  «»، ؟\u200c\u200f\n") == ""
    assert fold_hash("a") != ""


def test_fold_keeps_distinct_words_distinct() -> None:
    assert fold("امانی") != fold("امان")
    assert fold("کیم") != fold("کم")
    assert fold_hash("حزب") != fold_hash("حرب")


# --- tokens ------------------------------------------------------------------------------------------------------

def _check_offsets(s: str) -> list[Token]:
    toks = tokens(s)
    assert "".join(t.text for t in toks) == fold(s)
    previous_end = 0
    for tok in toks:
        assert 0 <= previous_end <= tok.start < tok.end <= len(s)
        assert fold(s[tok.start:tok.end]) == tok.text
        assert fold(s[tok.start]) and fold(s[tok.end - 1]), "a token starts and ends on a letter or digit"
        assert fold(s[previous_end:tok.start]) == ""
        previous_end = tok.end
    return toks


@pytest.mark.parametrize("variant", [lambda s: s, *VARIANTS], ids=lambda f: getattr(f, "__name__", "original"))
def test_token_offsets_map_back_exactly(variant) -> None:
    for text in SEED_TEXTS:
        _check_offsets(variant(text))


def test_token_columns_agree_with_tokens() -> None:
    for text in SEED_TEXTS:
        texts, starts, ends = token_columns(with_other_format_chars(text))
        assert list(zip(texts, starts, ends)) == [tuple(t) for t in tokens(with_other_format_chars(text))]


def test_joiners_join_and_separators_split() -> None:
    s = "\u200cمی\u200cشود «بی‌امانی» کیم جونگ-اون، حِزْب حـــزب ‏1404‎"
    toks = _check_offsets(s)
    assert [t.text for t in toks] == ["میشود", "بیامانی", "کیم", "جونگ", "اون", "حزب", "حزب", "1404"]
    assert s[toks[0].start:toks[0].end] == "می\u200cشود"  # the leading ZWNJ is not part of the word
    assert s[toks[1].start:toks[1].end] == "بی‌امانی"
    assert s[toks[-1].start:toks[-1].end] == "1404"


def test_tokens_with_expanding_presentation_forms() -> None:
    s = "ﻻ ﷲ x\ufdfay"
    toks = _check_offsets(s)
    assert toks[0] == Token("لا", 0, 1)
    assert toks[1] == Token("الله", 2, 3)
    assert toks[2].start == 4 and toks[2].end == 7 and toks[2].text.startswith("xصلی")


def test_tokens_of_nothing() -> None:
    assert tokens("") == []
    assert tokens(" ،«» \u200c\n") == []


# --- fingerprints (monitor.textbatch: word 3-shingles, winnowed) --------------------------------------------------

def fingerprints(text: str) -> set[int]:
    return set(digest([text])[0].fingerprints.tolist())


@pytest.mark.parametrize("variant", ["همکاری های حزبی", "همکاری‌های حزبی", "همکاریهای حزبی", "همكاري هاي حزبي"])
def test_fingerprints_equal_under_spacing(variant: str) -> None:
    assert fingerprints("تقویت " + variant + " ایران و چین") == fingerprints("تقویت همکاریهای حزبی ایران و چین")


def test_fingerprints_join_detached_prefix_and_suffixes() -> None:
    assert fingerprints("این کار انجام می شود و نمی شود") == fingerprints("این کار انجام میشود و نمیشود")
    assert fingerprints("بزرگ ترین کشور ها") == fingerprints("بزرگترین کشورها")
    assert fingerprints("آنها رفته اند") == fingerprints("آنها رفته‌اند")


def test_fingerprints_of_seed_variants() -> None:
    for text in SEED_TEXTS:
        base = fingerprints(text)
        assert len(base) > 30
        for variant in (with_zwnj, arabic_letters, with_diacritics, punctuation_and_spacing, persian_digits):
            assert fingerprints(variant(text)) == base
        assert all(-(2 ** 63) <= h < 2 ** 63 for h in base)


def test_fingerprints_of_lead_paragraph_contained_in_article() -> None:
    article = SEED_TEXTS[1]
    lead = [line for line in article.splitlines() if len(line) > 200][0]
    assert fingerprints(lead) <= fingerprints(article)


def test_fingerprints_short_and_empty() -> None:
    assert fingerprints("") == set() and digest([""])[0].size == 0
    assert fingerprints("«» ،") == set()
    assert len(fingerprints("یک دو")) == 1
    assert fingerprints("یک دو") != fingerprints("یک سه")
    assert len(fingerprints("یک دو سه")) == 1
    assert len(fingerprints("یک دو سه چهار")) == 2 and digest(["یک دو سه چهار"])[0].size == 2


def test_winnowing_keeps_a_contained_texts_fingerprints_inside_the_containers() -> None:
    article = " ".join(SEED_003.read_text(encoding="utf-8").split())
    words = article.split()
    for start, length in ((0, 40), (100, 25), (300, 60), (len(words) - 30, 30)):
        part = " ".join(words[start:start + length])
        assert fingerprints(part) <= fingerprints(article), (start, length)


def test_winnowing_keeps_about_two_in_window_plus_one() -> None:
    d = digest([SEED_003.read_text(encoding="utf-8")])[0]
    assert 0.6 * 2 / (WINDOW + 1) < len(d.fingerprints) / d.size < 1.4 * 2 / (WINDOW + 1)
    short = " ".join(f"w{i}" for i in range(WINDOW + 2))  # exactly WINDOW shingles: all kept
    assert len(fingerprints(short)) == digest([short])[0].size == WINDOW


# --- html_to_text --------------------------------------------------------------------------------------------------

def test_html_entities_decoded_once() -> None:
    assert html_to_text("<p>A &amp; B &amp;amp; C &lt;tag&gt; &#1605;&#x06CC; &nbsp;x</p>") == "A & B &amp; C <tag> می x"


def test_html_blocks_become_lines() -> None:
    html = ("<div><h1>تیتر</h1><p>بند   اول\n ادامه</p>یک<br>دو<br/>سه<ul><li>الف</li><li>ب</li></ul>"
            "<table><tr><td>x</td><td>y</td></tr></table><blockquote>نقل</blockquote></div>")
    assert html_to_text(html) == "تیتر\nبند اول ادامه\nیک\nدو\nسه\nالف\nب\nx y\nنقل"


def test_html_script_style_comments_dropped() -> None:
    html = ("<p>قبل</p><script>var a = '<p>x</p>';</script><style>p{color:red}</style><!-- نظر -->"
            "<noscript><img src=x>بدون</noscript><iframe src=y>فریم</iframe><template><b>ق</b></template>"
            "<p>بعد <b>پررنگ</b>ادامه</p>")
    assert html_to_text(html) == "قبل\nبعد پررنگادامه"


def test_plain_text_passes_through() -> None:
    text = SEED_TEXTS[1]
    expected = "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
    assert html_to_text(text) == expected
    assert html_to_text("  a  &amp;  b \n\n\n c ") == "a & b\nc"
    assert html_to_text("x < y and 3 > 2") == "x < y and 3 > 2"
    assert html_to_text("") == ""


def test_html_keeps_zwnj() -> None:
    assert html_to_text("<p>می\u200cشود</p>") == "می\u200cشود"


# --- display -------------------------------------------------------------------------------------------------------

def test_display_gives_persian_letters_and_no_bidi_marks() -> None:
    out = display("\u200fكتاب   علي\u202b\n هاي\ufeff")
    assert "ک" in out and "ی" in out
    assert "ك" not in out and "ي" not in out
    assert not set(out) & {"\u200e", "\u200f", "\ufeff", "\u202b", "\n"}
    assert "  " not in out and out == out.strip()


def test_display_empty() -> None:
    assert display("") == ""
    assert display(" \n\u200f ") == ""


def test_hazm_not_imported_by_text_module() -> None:
    code = ("import sys, monitor.text as t; assert t.display('') == ''; t.fold('ي'); t.tokens('ي'); "
            "t.Words('ي'); t.html_to_text('<p>x</p>'); assert 'hazm' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent.parent)


SEED_003 = Path(__file__).resolve().parent.parent / "fixtures" / "seeds" / "003_92515b26929f40ee.txt"


# ------------------------------------------------------------------------------------------ issue 12, point 12
HALF_SPACE_MARKS = ("\u200c", "\u200e", "\u200f")  # ZWNJ, and LRM / RLM typed where a half-space was meant


@pytest.mark.parametrize("mark", HALF_SPACE_MARKS[1:])
def test_a_direction_mark_between_persian_letters_is_a_half_space(mark):
    """Tabnak writes «تحریم‎ها» with an LRM: folding, words and fingerprints treat it as the ZWNJ it stands for,
    and the display form keeps the half-space instead of joining the words («تحریمها»)."""
    from monitor.text import Words

    marked, zwnj = f"اعمال تحریم{mark}ها و می{mark}شود", "اعمال تحریم\u200cها و می\u200cشود"
    assert fold(marked) == fold(zwnj)
    assert [t.text for t in tokens(marked)] == [t.text for t in tokens(zwnj)]
    assert [(t.start, t.end) for t in tokens(marked)] == [(t.start, t.end) for t in tokens(zwnj)]
    assert Words(marked).texts == Words(zwnj).texts
    a, b = digest([marked, zwnj])
    assert a.fold == b.fold and a.fingerprints.tolist() == b.fingerprints.tolist() and a.size == b.size
    assert display(marked) == display(zwnj) == "اعمال تحریم\u200cها و می\u200cشود"
    # Elsewhere a direction mark is only a direction mark: it goes.
    assert display(f"{mark}خبر{mark} {mark}abc{mark}def ۱۴۰۴{mark}") == "خبر abcdef ۱۴۰۴"


@pytest.mark.parametrize("mark", HALF_SPACE_MARKS)
def test_a_term_matches_across_a_direction_mark_as_across_zwnj(mark):
    from monitor.match import Matcher
    from monitor.models import WatchEntry

    matcher = Matcher([WatchEntry(name="sanctions", kind="other", terms=("تحریم",)),
                       WatchEntry(name="plural", kind="figure", terms=("تحریم‌ها",))])
    found = matcher.matches(f"خبر تازه: اعمال تحریم{mark}ها بر کشتیرانی.")
    assert [m.watch for m in found] == ["sanctions", "plural"]
    assert display(found[0].snippet) == "خبر تازه: اعمال تحریم\u200cها بر کشتیرانی."


def test_the_generated_skeleton_table_is_what_the_folds_compute():
    """monitor/skeleton_data.py (python -m monitor.skeleton_gen) holds the table every process now loads instead
    of building: it must be the one the per-character folds give, under this Python's Unicode rules."""
    from monitor import skeleton_data, text
    from monitor.skeleton_gen import render

    assert skeleton_data.RULES == text.fold_rules(), "regenerate: python -m monitor.skeleton_gen"
    built = text.build_skeleton_table()
    assert (text.skeleton_table() == built).all()
    assert skeleton_data.table() == built.astype("<u2").tobytes()
    assert skeleton_data.FOLD_DIGEST == text.compute_fold_digest() == text.fold_digest()
    from pathlib import Path

    assert Path(skeleton_data.__file__).read_text(encoding="utf-8") == render()


@given(st.text(alphabet=st.sampled_from(list("ab سلام\n\t\r\x00\x01\x0b\x1f\x7f\u200c\ud800\udfff")), max_size=40))
def test_clean_text_with_its_one_pass_check_is_the_two_substitutions(value):
    """analyse.clean_text first asks one regex whether anything needs cleaning (a clean text, nearly every
    field of every item, then costs one search): the answer is what the two substitutions alone give."""
    import re

    from monitor.analyse import clean_text

    expected = re.sub("[\ud800-\udfff]", "\ufffd", value)
    if re.search(" ?[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+ ?", expected):
        expected = re.sub(" ?[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+ ?", " ", expected).strip()
    assert clean_text(value) == expected
