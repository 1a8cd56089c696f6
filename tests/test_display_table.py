"""The committed display table (monitor/display_table.py) is hazm's character-level Normalizer, and display() is it.

The table is generated from hazm 0.10.0, the version pip resolves on Python 3.11 (hazm 0.10 pins numpy 1.24.3,
which has no wheels for later Pythons); on 3.12 and 3.13 pip resolves hazm 0.12.1. These tests ask the INSTALLED
hazm, in a subprocess (so this process never imports hazm), what it does with each code point of every 256-block
the table touches plus a sample of the rest of the Basic Multilingual Plane one at a time, with the whole plane as
one string, with everything above the plane, and with real texts.

Which hazm is the reference, and what later versions do differently: the committed table keeps exactly the display
of hazm 0.10.0, on every Python. Compared code point by code point, hazm 0.11 and 0.12 differ from it only at the
code points in LATER_HAZM below, each for the reason given there; on hazm 0.10 no difference is allowed, and any
difference not listed fails with the code points named. None of the listed differences is an improvement worth a
second reference: three are presentation forms hazm 0.12 added to its translation (display shows them as
written, which renders the same), and the ligatures stopped being written out because of a regression in hazm
0.11 (unicodes_replacement switched from re.sub to str.replace but kept the regex patterns "(ﷰ|ﷹ)" and "ﻵ|ﻶ|…",
which therefore never match a single character).
"""

from __future__ import annotations

import re

import json
import random
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from monitor.display import DIRECTION_MARKS, display
from monitor.display_table import HAZM_CHARS, HAZM_VERSION

REPO = Path(__file__).resolve().parent.parent

_ALEF_FINAL = "hazm 0.12 maps ALEF WITH MADDA ABOVE FINAL FORM to alef, as 0.10 already did its isolated form"
_FARSI_YEH = "hazm 0.12 maps this Farsi yeh presentation form to yeh; 0.10 keeps it, and it renders as yeh"
_LIGATURE = ("hazm 0.11 no longer writes this ligature out: its unicodes_replacement uses str.replace with what "
             "are regex patterns ('(ﷰ|ﷹ)', 'ﻵ|ﻶ|…'), which match no single character; 0.10's expansion is kept")

# code point -> (first hazm version that differs there, why that is acceptable)
LATER_HAZM: dict[int, tuple[tuple[int, int], str]] = {
    0xFE82: ((0, 12), _ALEF_FINAL),
    0xFBFC: ((0, 12), _FARSI_YEH),
    0xFBFD: ((0, 12), _FARSI_YEH),
    0xFDF0: ((0, 11), _LIGATURE),
    0xFDF9: ((0, 11), _LIGATURE),
    **{cp: ((0, 11), _LIGATURE) for cp in range(0xFEF5, 0xFEFD)},
}

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
_CHARS = list("كيىئةۀأإؤءًٌٍَُِّْٰٔـ0123456789٠١٢٣٤٥٦٧٨٩%ﷲﷺ﷼ﻻﺍﺏﮐ") + [
    "\u200c", "\u200e", "\u200f", "\u202b", "\ufeff", " ", "\n", "\t", "«", "»", '"', "...", "a", "Z",
    *"سلام دنیا مجلس شوراي اسلامي"]

_SURVEY = """
import json, sys
from monitor import display_gen as g
request = json.load(sys.stdin)
normalize = g.normalize_function()
table = g.char_table(normalize, request["code_points"])
print(json.dumps({
    "version": g.hazm_version(),
    "table": {str(cp): out for cp, out in table.items()},
    "whole_bmp_agrees": g.whole_string_agrees(normalize, table),
    "astral_unchanged": g.astral_unchanged(normalize),
    "texts": [normalize(t) for t in request["texts"]],
}))
"""


def _version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


def _code_points() -> list[int]:
    blocks = {cp >> 8 for cp in HAZM_CHARS}
    return sorted({cp for b in blocks for cp in range(b << 8, (b + 1) << 8)} | set(range(0, 0x10000, 97)))


def _texts() -> list[str]:
    lines = list(TRAPS)
    for path in sorted((REPO / "fixtures" / "seeds").glob("*.txt")):
        lines += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(11)
    lines += ["".join(rng.choice(_CHARS) for _ in range(rng.randrange(41))) for _ in range(300)]
    return lines


@pytest.fixture(scope="module")
def survey() -> dict:
    """One subprocess that imports the installed hazm and answers every question these tests ask it."""
    request = {"code_points": _code_points(), "texts": [t.translate(dict.fromkeys(DIRECTION_MARKS)) for t in _texts()]}
    out = subprocess.run([sys.executable, "-c", _SURVEY], input=json.dumps(request), capture_output=True, text=True,
                         timeout=300, cwd=REPO)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _name(s: str | None) -> str:
    return "unchanged" if s is None else repr(s) + " " + ",".join(unicodedata.name(c, "?") for c in s[:2])


def test_committed_table_is_the_installed_hazms_code_point_by_code_point(survey: dict) -> None:
    version = _version(survey["version"])
    installed = {int(cp): out for cp, out in survey["table"].items()}
    # What the table stands on: hazm's steps map characters one by one and change nothing outside these blocks.
    assert survey["whole_bmp_agrees"], f"hazm {survey['version']} is not a per-character map over the BMP"
    assert survey["astral_unchanged"], f"hazm {survey['version']} changes code points above the BMP"
    allowed = {cp for cp, (since, _) in LATER_HAZM.items() if version >= since}
    differing = {cp for cp in set(installed) | set(HAZM_CHARS) if installed.get(cp) != HAZM_CHARS.get(cp)}
    unexplained = sorted(differing - allowed)
    assert not unexplained, [f"U+{cp:04X} committed (hazm {HAZM_VERSION}) {_name(HAZM_CHARS.get(cp))}, installed "
                             f"hazm {survey['version']} {_name(installed.get(cp))}" for cp in unexplained]
    if version == _version(HAZM_VERSION):
        assert installed == HAZM_CHARS


def test_display_is_hazms_normalisation_of_real_and_generated_texts(survey: dict) -> None:
    """display() on whole texts is the installed Normalizer on them, without direction marks and on one line,
    except in texts that hold a code point where this hazm is known to differ (LATER_HAZM)."""
    version = _version(survey["version"])
    allowed = {chr(cp) for cp, (since, _) in LATER_HAZM.items() if version >= since}
    compared = 0
    for text, normalized in zip(_texts(), survey["texts"]):
        # Latin runs are kept as written, and a direction mark after an Arabic-script letter is the half-space
        # that was meant (issue 12): hazm deletes both, display() keeps them by design.
        if allowed.isdisjoint(text) and not re.search("[A-Za-z]", text) \
                and not re.search("[\u0620-\u06ff][\u200e\u200f]", text):
            assert display(text) == " ".join(normalized.split()), text
            compared += 1
    assert compared > 200


def test_display_examples() -> None:
    assert display("مجلس شوراي اسلامي لايحه بودجه 1404 را تصويب كرد") == \
        "مجلس شورای اسلامی لایحه بودجه ۱۴۰۴ را تصویب کرد"
    assert display("مي روم به خانه ي ما 123 ،سلام") == "می روم به خانه ی ما ۱۲۳ ،سلام"
    assert display("كيم جونگ اون و ﻛﺮﻩ شمالی") == "کیم جونگ اون و کره شمالی"  # presentation forms
    assert display("بِسمِ ﷲ ﻻ ٥٠%") == "بسم الله لا ۵۰٪"  # diacritics, ligatures, Arabic-Indic digits
    assert display("\u200fمتن\u202b با\u2067 نشانه\u200e\ufeff") == "متن با نشانه"  # direction marks
    assert display("  یک\n\tدو\u00a0 سه  ") == "یک دو سه"  # one line, no-break space too
    assert display("نمی‌خواهم") == "نمی‌خواهم"  # ZWNJ kept: spacing stays as written


def test_display_imports_no_hazm() -> None:
    code = ("import sys, monitor.text as t, monitor.display as d\n"
            "assert t.display is d.display\n"
            "assert t.display('كتاب 12') == 'کتاب ۱۲'\n"
            "assert not {m.split('.')[0] for m in sys.modules} & {'hazm', 'nltk', 'sklearn', 'gensim'}\n"
            "assert 'monitor.display_gen' not in sys.modules\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert out.returncode == 0, out.stderr
