"""Writes monitor/display_table.py from the installed hazm's Normalizer: the only code in the project that imports hazm.

    python -m monitor.display_gen            # regenerate monitor/display_table.py
    python -m monitor.display_gen --check    # compare it with the installed hazm; exit 1 on any difference
    python -m monitor.display_gen --new-reference   # regenerate from another hazm release than the committed one

Run it in the Python 3.11 environment, where pip resolves hazm 0.10.0, the version the committed table comes from
(tests/test_display_table.py explains what later versions do differently and why 0.10.0 stays the reference).

Why a generated table rather than hazm at run time: display() needs only the character-level steps of hazm's
Normalizer (Arabic letters and presentation forms to Persian ones, Persian digits, diacritics and special marks
removed, ligature words written out), and every one of those steps maps characters one by one. Their whole effect
is therefore one code point -> replacement table, which str.translate applies directly. Loading hazm for it meant
importing all of hazm (its taggers pull in nltk, scikit-learn and gensim) or executing its private module files,
which broke when hazm 0.12 moved its tables into a new module.

The generator asks hazm one code point at a time over the Basic Multilingual Plane, then checks the property the
table relies on: the Normalizer applied to the whole plane as one string equals the table applied to it, and it
leaves every code point above the plane unchanged. If a future hazm breaks either, generation stops instead of
writing a table that would not be hazm's.
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from collections.abc import Callable, Iterable
from importlib.metadata import version
from pathlib import Path

__all__ = ["OPTIONS", "hazm_version", "normalize_function", "char_table", "whole_string_agrees",
           "astral_unchanged", "render", "main"]

# The Normalizer display() has always used: the character-level steps only. correct_spacing,
# decrease_repeated_chars and seperate_mi need hazm's word lists and work on words; persian_style rewrites
# quotes and dots by context. None of them is a per-character map.
OPTIONS = dict(correct_spacing=False, persian_style=False, decrease_repeated_chars=False, seperate_mi=False)

BMP = range(0x10000)
TABLE_PATH = Path(__file__).with_name("display_table.py")


def hazm_version() -> str:
    return version("hazm")


def normalize_function() -> Callable[[str], str]:
    """The installed hazm's Normalizer(**OPTIONS).normalize. Importing hazm imports all its taggers too."""
    from hazm import Normalizer

    return Normalizer(**OPTIONS).normalize


def char_table(normalize: Callable[[str], str], code_points: Iterable[int] = BMP) -> dict[int, str]:
    """Each code point that normalize changes when given alone, with what it becomes."""
    table = {}
    for cp in code_points:
        out = normalize(chr(cp))
        if out != chr(cp):
            table[cp] = out
    return table


def whole_string_agrees(normalize: Callable[[str], str], table: dict[int, str],
                        code_points: Iterable[int] = BMP) -> bool:
    """normalize(all the code points as one string) == that string through the table: the Normalizer's steps are
    per-character maps, and it changes no code point the table does not list."""
    text = "".join(map(chr, code_points))
    return normalize(text) == text.translate(table)


def astral_unchanged(normalize: Callable[[str], str]) -> bool:
    """Every code point above the BMP passes through unchanged, so the table need not list any of them."""
    text = "".join(map(chr, range(0x10000, 0x110000)))
    return normalize(text) == text


def _name(s: str) -> str:
    if not s:
        return "(deleted)"
    if len(s) > 2:  # a ligature written out: the word itself reads better than its letters' names
        return f"«{s}»"
    return " + ".join(unicodedata.name(c, f"U+{ord(c):04X}") for c in s)


def _literal(s: str) -> str:
    """A Python string literal of s in escapes: the table's characters are right-to-left, combining or invisible,
    and would render misleadingly in an editor."""
    return '"' + "".join(c if c == " " or (c.isascii() and c.isalnum()) else f"\\u{ord(c):04x}" for c in s) + '"'


def render(table: dict[int, str], hazm: str) -> str:
    """The text of monitor/display_table.py: one line per code point, named, so a regenerated table diffs
    readably."""
    lines = [
        f'"""hazm {hazm}\'s character-level Normalizer as a table: code point -> replacement. GENERATED, do not edit.',
        "",
        "Written by `python -m monitor.display_gen` (see there for how and why) with",
        "hazm.Normalizer(" + ", ".join(f"{k}={v}" for k, v in OPTIONS.items()) + ").",
        "monitor.display adds the direction marks and collapses whitespace; tests/test_display_table.py compares",
        "this table with the installed hazm.",
        '"""',
        "",
        f'HAZM_VERSION = "{hazm}"',
        "",
        "HAZM_CHARS: dict[int, str] = {",
    ]
    for cp, out in sorted(table.items()):
        lines.append(f"    0x{cp:04X}: {_literal(out)},  # {_name(chr(cp))} -> {_name(out)}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _generate() -> tuple[dict[int, str], str]:
    normalize = normalize_function()
    table = char_table(normalize)
    if not whole_string_agrees(normalize, table):
        raise SystemExit("hazm's Normalizer is no longer a per-character map over the BMP: a table cannot be it")
    if not astral_unchanged(normalize):
        raise SystemExit("hazm's Normalizer changes code points above the BMP: extend the generator")
    return table, hazm_version()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitor.display_gen", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare the committed table with the installed hazm")
    parser.add_argument("--new-reference", action="store_true",
                        help="write the table even when the installed hazm is another release than the committed one")
    args = parser.parse_args(argv)
    from monitor.display_table import HAZM_CHARS, HAZM_VERSION

    if not args.check and not args.new_reference and hazm_version().split(".")[:2] != HAZM_VERSION.split(".")[:2]:
        parser.error(f"the committed table comes from hazm {HAZM_VERSION} and hazm {hazm_version()} is installed: "
                     "run this where pip resolves that release (Python 3.11), or pass --new-reference")
    table, hazm = _generate()
    if not args.check:
        TABLE_PATH.write_text(render(table, hazm), encoding="utf-8")
        print(f"wrote {TABLE_PATH} from hazm {hazm}: {len(table)} code points")
        return 0
    differing = sorted(cp for cp in set(table) | set(HAZM_CHARS) if table.get(cp) != HAZM_CHARS.get(cp))
    for cp in differing:
        print(f"U+{cp:04X} {_name(chr(cp))}: committed (hazm {HAZM_VERSION}) {_name(HAZM_CHARS.get(cp, chr(cp)))}"
              f", installed hazm {hazm} {_name(table.get(cp, chr(cp)))}")
    print(f"{len(differing)} code points differ between the committed table and hazm {hazm}", file=sys.stderr)
    return 1 if differing else 0


if __name__ == "__main__":
    raise SystemExit(main())
