"""monitor.textbatch against a plain-Python reference of its definitions, one word and one shingle at a time.

The batch code is all array arithmetic; the reference below is the definition written out as loops, with Python
integers reduced mod 2**64. They must agree on every text, alone or batched with others, fingerprinted or not,
through the fast table and through the exact per-character fold (characters above U+2FFF, ligatures).
"""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings, strategies as st

from monitor import text
from monitor.textbatch import WINDOW, digest


MASK = 2**64 - 1
K, KC, KL = 0x9E3779B97F4A7C15, 0xD6E8FEB86659FD93, 0xA0761D6478BD642F
M1, M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def mix(x: int) -> int:
    x ^= x >> 30
    x = (x * M1) & MASK
    x ^= x >> 27
    x = (x * M2) & MASK
    return x ^ (x >> 31)


def table(unit: int) -> int:
    return mix((unit * K + 0x632BE59BD9B4E019) & MASK)


def raw(word: str) -> int:
    data = word.encode("utf-16-le", "surrogatepass")
    units = [int.from_bytes(data[i:i + 2], "little") for i in range(0, len(data), 2)]
    return sum(table(u) * pow(KC, j, 2**64) for j, u in enumerate(units)) & MASK


def word_hash(word: str) -> int:
    return mix((raw(word) + (len(word.encode("utf-16-le", "surrogatepass")) // 2) * KL) & MASK)


def signed(x: int) -> int:
    return x - 2**64 if x >= 2**63 else x


def merge_affixes(words: list[str]) -> list[str]:
    """A detached prefix («می») joins the word after it, a suffix («ها») the word before it."""
    out: list[str] = []
    pending = ""
    for w in words:
        if w in text.PREFIXES:
            pending += w
        elif w in text.SUFFIXES and out and not pending:
            out[-1] += w
        else:
            out.append(pending + w)
            pending = ""
    if pending:
        out.append(pending)
    return out


def reference(t: str) -> tuple[str, list[int], int]:
    """(fold, sorted fingerprints, number of shingles) by the definitions in monitor.textbatch's docstring."""
    words = merge_affixes(text.Words(t).texts)
    hashes = [word_hash(w) for w in words]
    if not hashes:
        return text.fold(t), [], 0
    if len(hashes) < 3:
        acc = hashes[0]
        for x in hashes[1:]:
            acc = (acc * K + x) & MASK
        seq = [signed(mix(acc))]
    else:
        seq = [signed(mix((((a * K + b) & MASK) * K + c) & MASK)) for a, b, c in zip(hashes, hashes[1:], hashes[2:])]
    if len(seq) <= WINDOW:
        fps = set(seq)
    else:
        fps = {min(seq[i:i + WINDOW]) for i in range(len(seq) - WINDOW + 1)}
    return text.fold(t), sorted(fps), len(seq)


def check(texts: list[str], want: list[bool] | None = None) -> None:
    got = digest(texts, want)
    assert len(got) == len(texts)
    for i, (t, d) in enumerate(zip(texts, got)):
        fold, fps, size = reference(t)
        assert d.fold == fold, (i, t)
        if want is None or want[i]:
            assert d.fingerprints.dtype == np.int64
            assert d.fingerprints.tolist() == fps, (i, t)
            assert d.size == size, (i, t)
        else:
            assert d.fingerprints.tolist() == [] and d.size == 0


SAMPLES = [
    "",
    "«» ،",
    "یک",
    "یک دو",
    "یک دو سه",
    "یک دو سه چهار پنج شش هفت هشت نه ده یازده دوازده سیزده",
    "همکاری های حزبی ایران و چین",
    "همکاری‌های حزبی ایران و چین",
    "این کار انجام می شود و نمی شود",
    "ها ای آغاز با پسوند، و پیشوند در پایان می",
    "می می ها نمی",
    "حزب مؤتلفه اسلامی و موتلفه\u200cای\u200cها",
    "كيم جونگ\u200fاون، ديميتري مدودف ۱۴۰۴/۰۸/۲۶",
    "\u0627\u0654\u064e\u0640\u0640 \u200c\u200c \u200d",  # joiners and marks only
    "ﻻ یک ligature ß Straße",  # multi-character folds: the exact path
    "خبر 😀 مهم 🇮🇷 امروز",  # outside the BMP: emoji split words
    "𐊀𐊁 حرف 𐊂",  # outside the BMP: letters (surrogate pairs in the fold)
    "中文 خبر 한국어",  # above U+2FFF
    "a\u200cb c\u200c d",
    "\n\nسطر اول\n\nسطر دوم\n",
]


def test_each_sample_alone_matches_the_reference():
    for t in SAMPLES:
        check([t])


def test_samples_batched_match_the_reference():
    check(SAMPLES)
    check(SAMPLES, [i % 2 == 0 for i in range(len(SAMPLES))])
    check(SAMPLES, [False] * len(SAMPLES))


def test_seeds_batched_match_the_reference():
    from pathlib import Path

    seeds = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "seeds").glob("*.txt"))
    texts = [p.read_text(encoding="utf-8") for p in seeds]
    check(texts)
    check(texts + SAMPLES, None)


_ALPHABET = (list("ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیيكةۀؤئأإآء") + ["\u200c", "\u200d", "\u200f", "\u064e",
             "\u0640", " ", " ", " ", "\n", "،", "«", "»", "۱", "2", "a", "B", "ﻻ", "😀", "中", "-", "می", "ها",
             "های", "نمی", "ای", "𐊀"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_ALPHABET), max_size=60).map("".join), min_size=1, max_size=6),
       st.lists(st.booleans(), min_size=6, max_size=6))
def test_random_batches_match_the_reference(texts, flags):
    check(texts, flags[:len(texts)])


def test_a_contained_text_keeps_all_its_fingerprints():
    rng = random.Random(3)
    words = "حزب موتلفه اسلامی با هیئتی از کره شمالی دیدار کرد و درباره همکاری ها گفتگو شد".split()
    article = " ".join(rng.choice(words) for _ in range(400))
    parts = article.split()
    for start, length in ((0, 40), (100, 25), (300, 60)):
        lead = " ".join(parts[start:start + length])
        a, b = digest([article, lead])
        assert set(b.fingerprints.tolist()) <= set(a.fingerprints.tolist())


def test_spelling_variants_give_the_same_fingerprints():
    base = "تقویت همکاریهای حزبی ایران و چین در سال ۱۴۰۴ با حضور هیئت موتلفه"
    variants = [base.replace("ی", "ي").replace("ک", "ك"), base.replace("همکاریهای", "همکاری های"),
                base.replace("همکاریهای", "همکاری‌های"), base.replace("۱۴۰۴", "1404"),
                base.replace("موتلفه", "مؤتلفه"), "\u200f" + base + "\u200e"]
    first = digest([base])[0]
    for d in digest(variants):
        assert d.fingerprints.tolist() == first.fingerprints.tolist()
        assert d.fold == first.fold
