"""hazm's character-level Normalizer loaded alone (monitor.hazmlite) is hazm's: same output, none of its heavy deps.

The full `from hazm import Normalizer` runs in a separate process, so this process never imports all of hazm and
the comparison cannot be satisfied by the light loader quietly falling back to the full import.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from monitor import hazmlite

REPO = Path(__file__).resolve().parent.parent

TRAPS = [
    "مي روم به خانه ي ما 123 ،سلام",
    "حزب مؤتلفه اسلامی و موتلفه‌ای‌ها",
    "محمدعلی امانی / محمد علی امانی در ۱۴۰۴/۰۸/۲۶",
    "كيم جونگ اون و ﻛﺮﻩ شمالی",
    "نمی‌خواهم   بروم ... «سلام» !؟",
    "ســــلام بـــر شمـا",
    "کتاب‌ها ، دفتر ها و قلم هایشان",
    "English words, 3.14 and https://example.ir/a?b=1",
    "\u200fمتن با نشانه\u200e جهت",
    "",
]


def _samples() -> list[str]:
    lines = list(TRAPS)
    for path in sorted((REPO / "fixtures" / "seeds").glob("*.txt")):
        lines += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines


def test_light_normalizer_matches_full_hazm() -> None:
    samples = _samples()
    assert len(samples) > 50
    code = ("import json, sys\nfrom hazm import Normalizer\n"
            "n = Normalizer(correct_spacing=False, persian_style=False, decrease_repeated_chars=False,"
            " seperate_mi=False)\n"
            "print(json.dumps([n.normalize(s) for s in json.load(sys.stdin)], ensure_ascii=False))\n")
    full = subprocess.run([sys.executable, "-c", code], input=json.dumps(samples), capture_output=True,
                          text=True, check=True, timeout=120)
    expected = json.loads(full.stdout)
    light = hazmlite.char_normalizer()
    got = [light.normalize(s) for s in samples]
    differing = [(s, e, g) for s, e, g in zip(samples, expected, got) if e != g]
    assert not differing, differing[:3]
    assert got[0] == "می روم به خانه ی ما ۱۲۳ ،سلام"  # the comparison is not between two no-ops


def test_light_load_imports_none_of_the_heavy_libraries_and_leaves_no_standins() -> None:
    code = ("import sys\nfrom monitor import hazmlite\nn = hazmlite.char_normalizer()\n"
            "assert type(n).__module__ == 'hazm.normalizer', type(n).__module__\n"
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'nltk', 'sklearn', 'scipy', 'gensim', 'numpy'})\n"
            "assert not heavy, heavy\n"
            "assert not any(m == 'hazm' or m.startswith('hazm.') for m in sys.modules), 'stand-in left behind'\n"
            "from hazm import Normalizer, POSTagger\n"  # the real package still imports afterwards
            "assert 'sklearn' in sys.modules\n"
            "print(n.normalize('مي روم'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "می روم"


def test_full_hazm_already_imported_is_reused() -> None:
    code = ("import sys\nimport hazm\nfrom monitor import hazmlite\n"
            "n = hazmlite.char_normalizer()\nassert isinstance(n, hazm.Normalizer)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


_CHARS = list("كيىئةۀأإؤءًٌٍَُِّْٰٔـ0123456789٠١٢٣٤٥٦٧٨٩%ﷲﷺ﷼ﻻﺍﺏﮐ") + ["\u200c", "\u200e", "\u200f", "\u202b", "\ufeff",
                                                                 " ", "\n", "\t", "«", "»", '"', "...", "a", "Z"]


def test_display_is_hazms_character_normalisation_one_character_at_a_time() -> None:
    """text.display looks each character up once (a table filled from hazm's character-level Normalizer); that
    must be what the Normalizer gives on whole texts, plus one line and no direction marks."""
    from hypothesis import given, settings, strategies as st

    from monitor.text import _BIDI_JUNK, display

    normalizer = hazmlite.char_normalizer()

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.sampled_from(_CHARS + list("سلام دنیا مجلس شوراي اسلامي")), max_size=40).map("".join))
    def check(text: str) -> None:
        assert display(text) == " ".join(normalizer.normalize(text.translate(_BIDI_JUNK)).split())

    check()
    assert display("مجلس شوراي اسلامي لايحه بودجه 1404 را تصويب كرد") == \
        "مجلس شورای اسلامی لایحه بودجه ۱۴۰۴ را تصویب کرد"
