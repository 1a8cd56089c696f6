"""The display form of Persian text: what people read in titles and snippets (monitor.text re-exports it).

hazm's character-level normalisation comes from monitor/display_table.py, a table generated from hazm's
Normalizer by monitor/display_gen.py and committed: nothing here imports hazm, and the whole translate table is
built once when this module is imported, so threads only ever read it.
"""

from __future__ import annotations

import re

from monitor.display_table import HAZM_CHARS

__all__ = ["display", "DIRECTION_MARKS"]

# LRM, RLM, BOM, the embeddings and overrides U+202A-202E and the isolates U+2066-2069: feeds sprinkle them into
# titles, and hazm's Normalizer keeps them. None of them is in HAZM_CHARS, so the order of the merge below does
# not matter.
DIRECTION_MARKS = frozenset([0x200E, 0x200F, 0xFEFF, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])

_DISPLAY: dict[int, str] = {**HAZM_CHARS, **dict.fromkeys(DIRECTION_MARKS, "")}
# An LRM or RLM between two Arabic-script letters is a half-space typed with the wrong key (Tabnak: «تحریم‎ها»):
# deleting it would join the words, so it becomes the ZWNJ that was meant (fold deletes both alike).
_HALF_SPACE_MARK = re.compile("(?<=[\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff])[\u200e\u200f]+"
                              "(?=[\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff])")


def display(s: str) -> str:
    """Readable Persian for people (titles, snippets): hazm's character normalisation, no direction marks, one
    line. Arabic yeh and kaf become Persian ones, presentation forms plain letters, digits Persian digits,
    diacritics and special marks go, ligature words («ﷲ») are written out; spacing stays as written.

    Why not hazm's whole Normalizer (its spacing and ZWNJ fixes), as this did once: it needs
    hazm's word lists and all of hazm's imports in every process that displays, and costs far more per title
    than a translate; its spacing fixes are partial anyway (it leaves «بینالملل» and «همکاریهای» joined), and
    live feeds mostly carry their ZWNJs. The character normalisation is the part that matters for reading
    (windows-1256 feeds always carry Arabic letters and ASCII digits), and it costs one str.translate.

    Never use it on URLs, GUIDs or dates: digits change («1404/08/26» becomes Persian digits).
    """
    if not s:
        return ""
    if "\u200e" in s or "\u200f" in s:
        s = _HALF_SPACE_MARK.sub("\u200c", s)
    return " ".join(s.translate(_DISPLAY).split())
