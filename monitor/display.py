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


# Latin text is left as written («G20», «COVID-19», «50%»): the display table turns ASCII digits and % into
# Persian ones, right in a Persian run and wrong in a Latin one. A Latin run is a Latin letter with the letters,
# digits and word punctuation joined to it; a number standing apart takes the script of the nearest letter.
_LATIN = "A-Za-z\u00c0-\u024f\u1e00-\u1eff"
_HAS_LATIN = re.compile(f"[{_LATIN}]")
_LATIN_RUN = re.compile(f"[0-9]*[{_LATIN}][{_LATIN}0-9'’.\\-_/:@#&+%]*")
_NUMBER = re.compile(r"[0-9]+(?:[.,:/\-][0-9]+)*%?")
_NEAR = 64  # characters looked at on each side of a number for the nearest letter


def display(s: str) -> str:
    """Readable Persian for people (titles, snippets): hazm's character normalisation, no direction marks, one
    line. Arabic yeh and kaf become Persian ones, presentation forms plain letters, digits Persian digits,
    diacritics and special marks go, ligature words («ﷲ») are written out; spacing stays as written. Latin runs
    are kept as written («G20», an English title's «2025»): only the Persian text is put in display form.

    Why not hazm's whole Normalizer (its spacing and ZWNJ fixes), as this did once: it needs
    hazm's word lists and all of hazm's imports in every process that displays, and costs far more per title
    than a translate; its spacing fixes are partial anyway (it leaves «بینالملل» and «همکاریهای» joined), and
    live feeds mostly carry their ZWNJs. The character normalisation is the part that matters for reading
    (windows-1256 feeds always carry Arabic letters and ASCII digits), and it costs one str.translate.

    Apply it when showing text, never to what is stored (the feed's own spelling is kept for quoting), and
    never on URLs, GUIDs or dates.
    """
    if not s:
        return ""
    if "\u200e" in s or "\u200f" in s:
        s = _HALF_SPACE_MARK.sub("\u200c", s)
    if not _HAS_LATIN.search(s):
        return " ".join(s.translate(_DISPLAY).split())
    out: list[str] = []
    pos = 0
    for run in _LATIN_RUN.finditer(s):
        out.append(_persian_part(s, pos, run.start()))
        out.append(run.group())
        pos = run.end()
    out.append(_persian_part(s, pos, len(s)))
    return " ".join("".join(out).split())


def _persian_part(s: str, start: int, end: int) -> str:
    """s[start:end] (no Latin letters in it) in display form, but a number nearest to a Latin letter as is."""
    out: list[str] = []
    pos = start
    for number in _NUMBER.finditer(s, start, end):
        if _latin_context(s, number.start(), number.end()):
            out.append(s[pos:number.start()].translate(_DISPLAY))
            out.append(number.group())
            pos = number.end()
    out.append(s[pos:end].translate(_DISPLAY))
    return "".join(out)


def _latin_context(s: str, start: int, end: int) -> bool:
    """Whether the letter nearest to s[start:end] (the one before on a tie) is Latin."""
    before = next(((start - i, s[i]) for i in range(start - 1, max(start - _NEAR, 0) - 1, -1) if s[i].isalpha()),
                  None)
    after = next(((i - end + 1, s[i]) for i in range(end, min(end + _NEAR, len(s))) if s[i].isalpha()), None)
    nearest = min((c for c in (before, after) if c is not None), key=lambda c: c[0], default=None)
    return nearest is not None and _HAS_LATIN.match(nearest[1]) is not None
