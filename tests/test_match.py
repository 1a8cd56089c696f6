"""monitor.match: watched names found at word boundaries of folded text, in every spelling, never inside words."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.match import DEFAULT_SUFFIXES, Hit, Matcher
from monitor.models import Match, WatchEntry

SEEDS = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "seeds").glob("*.txt"))
SEED_TEXTS = [p.read_text(encoding="utf-8") for p in SEEDS]

AMANI = WatchEntry("امانی", "figure", ("محمدعلی امانی", "امانی"))
MOTALEFE = WatchEntry("مؤتلفه", "party", ("حزب مؤتلفه اسلامی", "مؤتلفه"))
KIM = WatchEntry("کیم", "figure", ("کیم جونگ اون",))
PUTIN = WatchEntry("پوتین", "figure", ("ولادیمیر پوتین", "پوتین"), exclude=("پوتین سربازی", "پوتین چرمی"))
IRAN = WatchEntry("ایران", "country", ("جمهوری اسلامی ایران", "ایران"))
ENTRIES = [AMANI, MOTALEFE, KIM, PUTIN, IRAN]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(ENTRIES)


def found(matcher: Matcher, text: str) -> list[tuple[str, str, str]]:
    """(watch, term, original text of the hit) for every hit, checking the offsets on the way."""
    out = []
    for hit in matcher.find(text):
        assert 0 <= hit.start < hit.end <= len(text)
        out.append((hit.watch, hit.term, text[hit.start:hit.end]))
    return out


# --- spellings that must match -------------------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", ["محمدعلی امانی", "محمد علی امانی", "محمد\u200cعلی امانی", "محمدعلي اماني",
                                      "مُحَمَّدعلی امانی", "محمد-علی امانی", "محمدعلی\u200f امانی"])
def test_full_name_in_every_spelling(matcher: Matcher, spelling: str) -> None:
    text = f"دبیرکل حزب، {spelling}، گفت"
    assert found(matcher, text) == [("امانی", "محمدعلی امانی", spelling)]


@pytest.mark.parametrize("spelling", ["کیم جونگ اون", "کیم جونگ\u200cاون", "کیم\u200cجونگ\u200cاون", "کیم جونگ-اون",
                                      "كيم جونگ اون", "کیمجونگاون", "«کیم جونگ اون»"])
def test_kim_in_every_spelling(matcher: Matcher, spelling: str) -> None:
    text = f"دیدار با {spelling} رهبر کره شمالی"
    hits = found(matcher, text)
    assert hits == [("کیم", "کیم جونگ اون", spelling.strip("«»"))]


def test_term_written_split_matches_joined_text() -> None:
    m = Matcher([WatchEntry("x", "figure", ("محمد علی امانی",))])
    assert [h.term for h in m.find("آقای محمدعلی امانی")] == ["محمد علی امانی"]


@pytest.mark.parametrize("spelling", ["موتلفه", "مؤتلفه", "مو\u0654تلفه", "مؤتلفة"])
def test_hamza_forms(matcher: Matcher, spelling: str) -> None:
    assert found(matcher, f"اعضای {spelling} گفتند") == [("مؤتلفه", "مؤتلفه", spelling)]


# --- word boundaries -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["دوره سامانی", "سلسله سامانیان", "ضدپوتین", "جنبش ضد\u200cپوتینی",
                                  "بی‌امانی", "بی\u200cامانیِ جنگ", "امانیها", "امانتی", "ایرانشهر"])
def test_no_match_inside_words(matcher: Matcher, text: str) -> None:
    assert found(matcher, text) == []


def test_prefix_inside_word_vs_real_word(matcher: Matcher) -> None:
    assert found(matcher, "بی امانی") == [("امانی", "امانی", "امانی")]  # a real space: two words


def test_suffix_only_when_the_rest_is_exactly_a_suffix() -> None:
    for kind in ("figure",):
        m = Matcher([WatchEntry("شانگ", kind, ("شانگ",))])
        assert m.find("اجلاس شانگهای") == []
    m = Matcher([WatchEntry("شانگ", "other", ("شانگ",), suffixes=("ها",))])
    assert m.find("اجلاس شانگهای") == []  # «های» is not exactly «ها»
    assert len(m.find("شانگها")) == 1
    m = Matcher([WatchEntry("شانگ", "other", ("شانگ",), suffixes=())])
    assert m.find("اجلاس شانگهای") == [] and m.find("شانگ‌ها") == []


def test_default_suffixes_cannot_tell_a_plural_from_a_longer_word() -> None:
    # Without a lexicon «شانگ» + «های» is indistinguishable from «تحریم» + «ها» in ZWNJ-stripped text; the
    # defaults accept it, which is why a term like «شانگ» belongs in a figure entry or needs suffixes=().
    m = Matcher([WatchEntry("شانگ", "other", ("شانگ",))])
    assert len(m.find("اجلاس شانگهای")) == 1
    m = Matcher([WatchEntry("sco", "other", ("شانگهای",))])
    assert [h.term for h in m.find("اجلاس شانگهای و سازمان شانگهایی")] == ["شانگهای", "شانگهای"]


def test_figure_takes_no_suffix(matcher: Matcher) -> None:
    assert found(matcher, "امانی‌ها و امانی‌ای") == []
    assert found(matcher, "کیم جونگ اونها") == []


@pytest.mark.parametrize("spelling", ["مؤتلفه‌ای‌ها", "موتلفه‌ایها", "موتلفهایها", "مؤتلفه‌ها", "مؤتلفه‌های",
                                      "موتلفه‌ای", "مؤتلفه\u200cیها", "موتلفهیان"])
def test_party_takes_suffixes(matcher: Matcher, spelling: str) -> None:
    text = f"گفت که {spelling} در جلسه بودند"
    assert found(matcher, text) == [("مؤتلفه", "مؤتلفه", spelling)]


def test_country_suffix_and_custom_suffixes() -> None:
    m = Matcher([WatchEntry("iran", "country", ("ایران",))])
    assert [t for _, _, t in found(m, "ایرانی‌ها و ایرانیان و ایرانی")] == ["ایرانی‌ها", "ایرانیان", "ایرانی"]
    m = Matcher([WatchEntry("iran", "country", ("ایران",), suffixes=("ی",))])
    assert [t for _, _, t in found(m, "ایرانی‌ها و ایرانیان و ایرانی")] == ["ایرانی"]
    assert DEFAULT_SUFFIXES["figure"] == ()


# --- ezafe ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", ["حزب موتلفه اسلامی", "حزب موتلفه‌ی اسلامی", "حزبِ موتلفه اسلامی",
                                      "حزب موتلفهٔ اسلامی", "حزب موتلفۀ اسلامی", "حزب موتلفهی اسلامی",
                                      "حزبِ مؤتلفهٔ اسلامی"])
def test_ezafe_on_inner_words(matcher: Matcher, spelling: str) -> None:
    text = f"دبیرکل {spelling} گفت"
    assert found(matcher, text) == [("مؤتلفه", "حزب مؤتلفه اسلامی", spelling)]


@pytest.mark.parametrize("spelling", ["جمهوری اسلامی ایران", "جمهوری اسلامیِ ایران", "جمهوریِ اسلامیِ ایران",
                                      "جمهوري اسلامي ايران"])
def test_ezafe_after_yeh(matcher: Matcher, spelling: str) -> None:
    assert found(matcher, f"دولت {spelling}") == [("ایران", "جمهوری اسلامی ایران", spelling)]


def test_ezafe_after_alef_and_waw() -> None:
    m = Matcher([WatchEntry("x", "other", ("دنیا اسلام", "بازو راست"))])
    assert [t for _, _, t in found(m, "دنیای اسلام و بازوی راست و دنیا اسلام")] == [
        "دنیای اسلام", "بازوی راست", "دنیا اسلام"]


# --- exclusions, overlaps, counts, snippets ------------------------------------------------------------------------

def test_exclude_phrase_cancels_covered_hit(matcher: Matcher) -> None:
    assert found(matcher, "فروش پوتین سربازی و پوتین چرمی") == []
    assert found(matcher, "پوتین سربازی پوشید و پوتین سخنرانی کرد") == [("پوتین", "پوتین", "پوتین")]
    hits = matcher.find("پوتین سربازی پوشید و پوتین سخنرانی کرد")
    assert hits[0].start == "پوتین سربازی پوشید و ".__len__()


def test_exclude_is_per_entry() -> None:
    m = Matcher([WatchEntry("putin", "figure", ("پوتین",), exclude=("پوتین سربازی",)),
                 WatchEntry("boots", "other", ("پوتین",))])
    assert [h.watch for h in m.find("پوتین سربازی")] == ["boots"]


def test_overlapping_terms_collapse_to_longest(matcher: Matcher) -> None:
    text = "ولادیمیر پوتین و محمدعلی امانی و امانی"
    assert found(matcher, text) == [("پوتین", "ولادیمیر پوتین", "ولادیمیر پوتین"),
                                    ("امانی", "محمدعلی امانی", "محمدعلی امانی"), ("امانی", "امانی", "امانی")]


def test_hits_sorted_with_exact_offsets(matcher: Matcher) -> None:
    text = "\u200fدر تهران، «محمدعلی امانی» با «كيم جونگ‌اون» و پوتین دیدار کرد؛ ایران و موتلفه‌ای‌ها."
    hits = matcher.find(text)
    assert all(isinstance(h, Hit) for h in hits)
    assert [h.start for h in hits] == sorted(h.start for h in hits)
    assert [(h.watch, h.kind, h.term, text[h.start:h.end]) for h in hits] == [
        ("امانی", "figure", "محمدعلی امانی", "محمدعلی امانی"),
        ("کیم", "figure", "کیم جونگ اون", "كيم جونگ‌اون"),
        ("پوتین", "figure", "پوتین", "پوتین"),
        ("ایران", "country", "ایران", "ایران"),
        ("مؤتلفه", "party", "مؤتلفه", "موتلفه‌ای‌ها"),
    ]


def test_latin_term_case_insensitive() -> None:
    m = Matcher([WatchEntry("putin", "figure", ("Vladimir Putin", "Putin")),
                 WatchEntry("nato", "other", ("NATO",))])
    text = "VLADIMIR PUTIN met nato; putin's aides. Putinism and DENATO are other words."
    assert [(h.watch, h.term, text[h.start:h.end]) for h in m.find(text)] == [
        ("putin", "Vladimir Putin", "VLADIMIR PUTIN"), ("nato", "NATO", "nato"), ("putin", "Putin", "putin")]


def test_matches_one_per_entry_in_config_order(matcher: Matcher) -> None:
    text = "ایران. امانی گفت. محمد علی امانی و مؤتلفه و حزب موتلفه اسلامی؛ امانی."
    result = matcher.matches(text)
    assert all(isinstance(m, Match) for m in result)
    assert [m.watch for m in result] == ["امانی", "مؤتلفه", "ایران"]
    amani, motalefe, iran = result
    assert amani.kind == "figure" and amani.count == 3
    assert amani.terms == ("محمدعلی امانی", "امانی")  # config order, not text order
    assert motalefe.count == 2 and motalefe.terms == ("حزب مؤتلفه اسلامی", "مؤتلفه")
    assert iran.count == 1 and iran.terms == ("ایران",)


def test_snippet_of_a_long_sentence_is_cut_around_the_first_hit() -> None:
    m = Matcher([KIM])
    before = " ".join(f"کلمه{i}" for i in range(60))
    after = " ".join(f"واژه{i}" for i in range(60))
    text = f"جمله قبلی. {before}  دیدار با کیم جونگ‌اون   در پیونگیانگ\t{after} و کیم جونگ اون. جمله بعدی"
    (match,) = m.matches(text, snippet_chars=80)
    assert match.count == 2
    s = match.snippet
    assert "کیم جونگ‌اون در پیونگیانگ" in s
    assert s.startswith("…") and s.endswith("…")
    assert 60 <= len(s) <= 84
    assert "  " not in s and "\n" not in s and "\t" not in s
    body = s.strip("…")
    assert body.split()[0] in before.split() and body.split()[-1] in after.split()  # cut at word boundaries


SENTENCES = [
    # (text, expected snippet): the sentence holding the first hit, its final stop kept
    ("هوا سرد است. امروز امانی به پکن رفت. فردا برمی‌گردد.", "امروز امانی به پکن رفت."),
    ("امانی گفت: «همکاری ادامه دارد»؟ پاسخ روشن نبود.", "امانی گفت: «همکاری ادامه دارد»؟"),
    ("عنوان خبر\nدر تاریخ 05.09.2025 امانی سخن گفت و 3.5 درصد را یادآور شد! بعدی", 
     "در تاریخ 05.09.2025 امانی سخن گفت و 3.5 درصد را یادآور شد!"),
    ("  امانی\nگفت  ", "امانی"),  # a line break ends a sentence (titles, list lines)
    ("سخن امانی", "سخن امانی"),
    ("اول. دوم امانی… سوم", "دوم امانی…"),
]


@pytest.mark.parametrize("text, expected", SENTENCES)
def test_snippet_is_the_sentence_around_the_first_hit(text: str, expected: str) -> None:
    (match,) = Matcher([AMANI]).matches(text)
    assert match.snippet == expected


def test_empty_terms_and_entries_ignored() -> None:
    m = Matcher([WatchEntry("empty", "other", ("«»", "\u200c", "")), AMANI])
    assert [h.watch for h in m.find("«» امانی")] == ["امانی"]
    assert Matcher([]).find("امانی") == []
    assert Matcher([]).matches("امانی") == []
    assert Matcher(ENTRIES).find("") == []


def test_same_term_in_two_entries() -> None:
    m = Matcher([WatchEntry("a", "figure", ("امانی",)), WatchEntry("b", "figure", ("امانی",))])
    assert [h.watch for h in m.find("امانی")] == ["a", "b"]


# --- real seed articles --------------------------------------------------------------------------------------------

def test_seed_articles(matcher: Matcher) -> None:
    by_seed = [{m.watch: m for m in matcher.matches(t)} for t in SEED_TEXTS]
    assert "مؤتلفه" in by_seed[0] and "امانی" not in by_seed[0]
    assert by_seed[1]["امانی"].terms == ("محمدعلی امانی", "امانی")
    assert by_seed[1]["مؤتلفه"].terms[0] == "حزب مؤتلفه اسلامی"
    assert "کیم" in by_seed[4] and by_seed[4]["کیم"].count >= 2
    assert by_seed[4]["پوتین"].terms == ("ولادیمیر پوتین", "پوتین")
    for text in SEED_TEXTS:
        for hit in matcher.find(text):
            assert "سامانی" not in text[max(0, hit.start - 1):hit.end]


def test_seed_articles_respelled_give_the_same_matches(matcher: Matcher) -> None:
    for text in SEED_TEXTS:
        respelled = text.replace("ی", "ي").replace("ک", "ك").replace("مؤتلفه", "موتلفه").replace(" ", "  ")
        a = [(m.watch, m.terms, m.count) for m in matcher.matches(text)]
        b = [(m.watch, m.terms, m.count) for m in matcher.matches(respelled)]
        assert a == b and a
