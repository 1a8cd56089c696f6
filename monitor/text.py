"""Pure text functions: fold keys, word tokens with original offsets, HTML to text, display form.

The same Persian article reaches us spelled many ways (Arabic or Persian yeh/kaf, hamza forms, with or without
half-spaces, invisible bidi marks, diacritics, presentation forms, three digit systems). Hashing and matching
therefore work on a *fold key* in which all of those spellings coincide, while people are shown a readable form
(display(), from a table generated from hazm's Normalizer: monitor/display.py). Nothing here does I/O or
imports hazm.

Folding is defined per character (see _fold_char) and cached per code point, so fold() is one str.translate
call and tokens() can keep exact offsets into the original string: every original character folds to some
string on its own, and fold(s) == "".join(t.text for t in tokens(s)) holds by construction.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
import unicodedata
from html import unescape
from typing import Any, NamedTuple

__all__ = ["fold", "fold_hash", "key_hash", "Token", "tokens", "token_columns", "Words", "spaced_fold", "PREFIXES", "SUFFIXES",
           "SKELETON_END", "SKELETON_SPACE", "SKELETON_JOINER", "SKELETON_LONG", "skeleton_table", "build_skeleton_table",
           "fold_rules", "fold_sample", "fold_digest", "compute_fold_digest", "html_to_text",
           "strip_boilerplate", "display"]

# --- character folding --------------------------------------------------------------------------------------

_YEH, _KAF, _ALEF, _WAW, _HEH = "\u06cc", "\u06a9", "\u0627", "\u0648", "\u0647"

# Letter families that one writer spells with Arabic code points and another with Persian ones, plus the hamza
# carriers. Deleted characters (None) are removed without splitting the word they sit in.
_FAMILY: dict[int, str | None] = {}
for _chars, _target in (
    ("\u064a\u0649\u0626\u06d0\u06cd\u06cc", _YEH),  # ي ى ئ ې ۍ ی
    ("\u0643\u06aa", _KAF),  # ك ڪ
    ("\u0623\u0625\u0622\u0671", _ALEF),  # أ إ آ ٱ
    ("\u0624", _WAW),  # ؤ
    ("\u0629\u06c0\u06c1\u06be\u06d5\u06c2", _HEH),  # ة ۀ ہ ھ ە ۂ
    ("\ufbfc\ufbfd\ufbfe\ufbff", _YEH),  # Farsi yeh presentation forms
):
    for _c in _chars:
        _FAMILY[ord(_c)] = _target
for _c in "\u0621\u0654\u0655\u0640":  # ء, hamza above/below, tatweel
    _FAMILY[ord(_c)] = None
for _cp in list(range(0x064B, 0x0660)) + [0x0670]:  # harakat, shadda, sukun, superscript alef
    _FAMILY[_cp] = None

# Characters that fold to nothing but sit *inside* words: they must join the letters around them, never split
# them («می‌شود» is one word). Turning ZWNJ into a space would create false hits («بی‌امانی» -> «بی امانی»).
_JOINER_CATEGORIES = frozenset({"Mn", "Mc", "Me", "Cf"})
_JOINER_CHARS = frozenset("\u0621\u0640\u0654\u0655")


def _fold_char(ch: str) -> str:
    """Fold one character to its key form: letters and digits only, possibly empty, possibly several chars.

    NFKD is used (rather than NFKC) and combining marks dropped because folding is per character: a
    precomposed «ؤ» or «é» and its decomposed spelling (و + U+0654, e + U+0301) must fold alike even when
    looked at one code point at a time. For Persian this is exactly the NFKC + family-table result.
    """
    x = ch.translate(_FAMILY)
    x = unicodedata.normalize("NFKD", x).casefold()
    x = unicodedata.normalize("NFKD", x).translate(_FAMILY)
    out = []
    for c in x:
        if c.isdecimal():
            out.append(str(unicodedata.decimal(c)))
        elif c.isalnum():
            out.append(c)
    return "".join(out)


class _FoldTable(dict):  # type: ignore[type-arg]
    """str.translate table filled lazily: each code point is folded once, then it is a dict lookup."""

    def __missing__(self, cp: int) -> str:
        value = _fold_char(chr(cp))
        self[cp] = value
        return value


# Word classes for tokenising: "w" folds to something, "j" joins (folds to nothing inside a word), " " splits.
_WORD, _JOIN, _SPLIT = "w", "j", " "


def _class_of(ch: str) -> str:
    if _FOLD[ord(ch)]:
        return _WORD
    if ch in _JOINER_CHARS or unicodedata.category(ch) in _JOINER_CATEGORIES:
        return _JOIN
    return _SPLIT


class _ClassTable(dict):  # type: ignore[type-arg]
    """str.translate table mapping each code point 1:1 to its word class, so offsets survive."""

    def __missing__(self, cp: int) -> str:
        value = _class_of(chr(cp))
        self[cp] = value
        return value


# Both tables are filled one code point at a time, each entry computed whole and stored by one assignment, so a
# thread never sees a half-built entry; two threads may compute the same one, alike.
_FOLD = _FoldTable()
_CLASS = _ClassTable()
# A word starts and ends with a word character; joiners count only between word characters.
_WORD_RE = re.compile(r"(w(?:j*w)*)")


# --- the skeleton: one code per character, for splitting into words without a loop ----------------------------

# The skeleton of a text has exactly its length, so offsets into it are offsets into the original: each word
# character becomes its one-character fold, each splitting character a space, each joiner SKELETON_JOINER.
# Characters whose fold is longer (ligatures «ﻻ», «ß», «½») become SKELETON_LONG; real news almost never has
# them. The table covers U+0000-U+2FFF (Latin, Arabic, general punctuation with ZWNJ and the bidi marks); a text
# with a character beyond it or a SKELETON_LONG takes the exact per-character tables above.
SKELETON_END = 0x3000
SKELETON_SPACE, SKELETON_JOINER, SKELETON_LONG = 32, 1, 2  # neither 1 nor 2 is whitespace or a fold
_JOINER_MARK, _LONG_MARK = chr(SKELETON_JOINER), chr(SKELETON_LONG)
_skeleton_table: Any = None
_skeleton_lock = threading.Lock()


def _skeleton_code(cp: int) -> int:
    kind = _CLASS[cp]
    if kind == _WORD:
        folded = _FOLD[cp]
        return ord(folded) if len(folded) == 1 else SKELETON_LONG
    return SKELETON_JOINER if kind == _JOIN else SKELETON_SPACE


def skeleton_table() -> Any:
    """The skeleton code of every code point below SKELETON_END, as a numpy uint16 array indexed by code point.

    Taken from the generated monitor/skeleton_data.py when it was made under this Python's Unicode version and
    these folding rules (fold_rules()), else built whole here (a quarter of a second: 12,288 code points folded
    one by one, in every process that folds, on every poll). Published by one assignment under a lock: threads
    see no table or the whole table, never a partly filled one."""
    global _skeleton_table
    table = _skeleton_table
    if table is None:
        with _skeleton_lock:
            table = _skeleton_table
            if table is None:
                np = _numpy()
                stored = _generated()
                if stored is not None:
                    table = np.frombuffer(stored.table(), dtype="<u2").astype(np.uint16)
                else:
                    table = build_skeleton_table()
                table.flags.writeable = False
                _skeleton_table = table
    return table


def build_skeleton_table() -> Any:
    """skeleton_table() computed from the per-character folds (what monitor.skeleton_gen writes down)."""
    np = _numpy()
    return np.array([_skeleton_code(cp) for cp in range(SKELETON_END)], dtype=np.uint16)


def fold_rules() -> str:
    """A digest of everything the per-character folds depend on besides the code: the Unicode version and the
    family and joiner tables. A generated table made under other rules is not used."""
    rules = repr((unicodedata.unidata_version, sorted(_FAMILY.items()), sorted(_JOINER_CHARS),
                  sorted(_JOINER_CATEGORIES), SKELETON_END, SKELETON_SPACE, SKELETON_JOINER, SKELETON_LONG))
    return hashlib.blake2b(rules.encode("utf-8"), digest_size=16).hexdigest()


def fold_sample() -> str:
    """Every character below SKELETON_END but the surrogates, spaced: what fold_digest() folds."""
    return " ".join(chr(c) for c in range(0x20, SKELETON_END) if not 0xD800 <= c < 0xE000)


def fold_digest() -> str:
    """A digest of spaced_fold over fold_sample(): changes when the fold or the word classes of any character
    below SKELETON_END change (monitor.search's index scheme). Generated with the table when it is usable."""
    stored = _generated()
    if stored is not None:
        return stored.FOLD_DIGEST
    return compute_fold_digest()


def compute_fold_digest() -> str:
    return hashlib.blake2b(spaced_fold(fold_sample()).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def _generated() -> Any:
    """monitor.skeleton_data when it matches these rules, else None."""
    try:
        from monitor import skeleton_data
    except ImportError:
        return None
    return skeleton_data if skeleton_data.RULES == fold_rules() else None


def _numpy() -> Any:
    """numpy, imported on first use: folding and display never need it."""
    import numpy

    return numpy


def _skeleton(s: str) -> str | None:
    """The skeleton of s through skeleton_table(), or None when s has a character the table cannot serve (at or
    above SKELETON_END, outside the BMP, or with a longer fold)."""
    encoded = s.encode("utf-16-le", "surrogatepass")
    if len(encoded) != 2 * len(s):
        return None  # outside the BMP: UTF-16 is longer than the str
    np = _numpy()
    units = np.frombuffer(encoded, dtype=np.uint16)
    if units.size and int(units.max()) >= SKELETON_END:
        return None
    skeleton = skeleton_table()[units].tobytes().decode("utf-16-le", "surrogatepass")
    return None if _LONG_MARK in skeleton else skeleton


def fold(s: str) -> str:
    """The fold key used for hashing and matching: one string of letters and digits, no separators.

    Arabic/Persian letter families are unified, hamza carriers reduced, format characters (ZWNJ, ZWJ, bidi
    marks, BOM, soft hyphen), diacritics and tatweel deleted, presentation forms decomposed, all digits made
    ASCII, Latin casefolded, and everything that is not a letter or digit (punctuation, whitespace) removed,
    so the same article in any of those spellings gives the same key.
    """
    return s.translate(_FOLD)


def fold_hash(s: str) -> str:
    """Hex blake2b-128 of fold(s); "" when the fold is empty, so empty texts never look like duplicates."""
    return key_hash(fold(s))


def key_hash(key: str) -> str:
    """Hex blake2b-128 of an already folded key; "" for an empty key."""
    if not key:
        return ""
    return hashlib.blake2b(key.encode("utf-8"), digest_size=16).hexdigest()


class Token(NamedTuple):
    """One word: its folded text and its [start, end) span in the original string."""

    text: str
    start: int
    end: int


def tokens(s: str) -> list[Token]:
    """Words of s with offsets into s itself.

    A word is a maximal run of characters that fold to letters/digits; joiners inside it (ZWNJ, ZWJ, other
    format characters, diacritics, tatweel, hamza) are deleted, so «می‌شود» is one token «میشود». Whitespace,
    punctuation and hyphens split. s[t.start:t.end] always folds to t.text.
    """
    texts, starts, ends = token_columns(s)
    return list(map(Token._make, zip(texts, starts, ends)))


class Words:
    """The words of one text: folded texts at once, their offsets in the original only when asked.

    One table lookup builds the skeleton (same length as the text); everything after it is C-level string
    work (replace, split, accumulate, compress), never a Python loop per character or per word. The matcher
    asks for offsets only when a text has a hit. A text the skeleton table cannot serve is split by the exact
    per-character tables instead, with the same result.
    """

    __slots__ = ("source", "texts", "_skeleton", "_pieces", "_spans", "_raw", "_ends", "_index")

    def __init__(self, s: str) -> None:
        self.source = s
        self._spans: tuple[list[int], list[int]] | None = None
        self._index: list[int] | None = None
        skeleton = _skeleton(s)
        if skeleton is None:
            texts, starts, ends = _columns_exact(s)
            self.texts, self._skeleton, self._pieces, self._spans = texts, "", [], (starts, ends)
            return
        self._skeleton = skeleton
        # Deleting the joiner marks joins the word around them and leaves the spaces where they were, so
        # the pieces between single spaces line up with the skeleton's; pieces of joiners only are empty.
        self._pieces = skeleton.replace(_JOINER_MARK, "").split(" ") if _JOINER_MARK in skeleton \
            else skeleton.split(" ")
        self.texts: list[str] = list(filter(None, self._pieces))

    def spans(self) -> tuple[list[int], list[int]]:
        """(starts, ends) of all the words in the original text, parallel to .texts."""
        if self._spans is None:
            pairs = [self.span(i) for i in range(len(self.texts))]
            self._spans = ([a for a, _ in pairs], [b for _, b in pairs])
        return self._spans

    def span(self, i: int) -> tuple[int, int]:
        """[start, end) of word i in the original text.

        The first call pays for one split and two C-level passes over the pieces; each call after that is
        a few list lookups, so a text with a handful of hits never builds per-word offset lists.
        """
        if self._spans is not None:
            return self._spans[0][i], self._spans[1][i]
        if self._index is None:
            raw = self._skeleton.split(" ")
            self._raw = raw
            self._ends = list(itertools.accumulate(map(len, raw)))  # without the separating spaces
            self._index = list(itertools.compress(itertools.count(), self._pieces))  # word -> piece
        k = self._index[i]
        end = self._ends[k] + k  # k spaces precede piece k
        start = end - len(self._raw[k])
        skeleton = self._skeleton
        while skeleton[start] == _JOINER_MARK:  # a joiner right after a gap belongs to the gap
            start += 1
        while skeleton[end - 1] == _JOINER_MARK:
            end -= 1
        return start, end


def _columns_exact(s: str) -> tuple[list[str], list[int], list[int]]:
    """Words by the per-character tables: exact for every character, for the texts the skeleton cannot serve."""
    bounds = list(itertools.accumulate(map(len, _WORD_RE.split(s.translate(_CLASS)))))
    starts, ends = bounds[0:-1:2], bounds[1::2]
    return [s[a:b].translate(_FOLD) for a, b in zip(starts, ends)], starts, ends


def spaced_fold(s: str) -> str:
    """The folded words of s separated by spaces (one or more): " ".join(Words(s).texts) up to runs of spaces,
    without splitting into a list. What a full-text index is given (monitor.search): one table pass and one
    replace for the texts the skeleton serves."""
    skeleton = _skeleton(s)
    if skeleton is None:
        return " ".join(_columns_exact(s)[0])
    return skeleton.replace(_JOINER_MARK, "") if _JOINER_MARK in skeleton else skeleton


def token_columns(s: str) -> tuple[list[str], list[int], list[int]]:
    """tokens(s) as three parallel lists (texts, starts, ends), without building Token objects."""
    words = Words(s)
    starts, ends = words.spans()
    return words.texts, starts, ends


# Detached affixes: the same word is written «همکاری های», «همکاری‌های» and «همکاریهای». The fingerprints join
# them to their neighbour (monitor.textbatch), so all spacing variants give the same words (ZWNJ is already
# gone after folding): a prefix joins the word after it, a suffix the word before it.
PREFIXES = frozenset(fold(p) for p in ("می", "نمی"))
SUFFIXES = frozenset(fold(p) for p in ("ها", "های", "هایی", "ای", "ام", "اند", "تر", "ترین"))


# --- HTML to text ---------------------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    "p div br li h1 h2 h3 h4 h5 h6 tr blockquote section article header footer ul ol table figure figcaption"
    .split()
)
_CELL_TAGS = frozenset({"td", "th"})  # neighbouring cells must not run together
_RAW_TAGS = frozenset({"script", "style"})  # their content is not markup: it runs to their end tag
_SKIP_TAGS = frozenset({"noscript", "iframe", "template"}) | _RAW_TAGS  # their content is dropped

# Everything in HTML that is not text, as html.parser reads it, one alternative each: a script or style element
# with its raw content (to its end tag, or to the end), a comment, a CDATA section (its content, group
# "cdata", is text), a declaration or processing instruction, a start or end tag. A '<' that opens none of these
# is text. Group "tag" is "/name" or "name", group "close" "/" when the tag closes itself. _ATTRIBUTES reads
# attributes as html.parser does (a quoted value may hold '>', an unquoted one '/'), possessively: one parse.
_ATTRIBUTES = r"""(?:\s|/(?!>)|[^\s/>][^\s/=>]*(?:\s*=+\s*(?:'[^']*'|"[^"]*"|(?!['"])[^>\s]*))?)*+"""
_MARKUP = re.compile(
    rf"""<(?:(?P<raw>script|style)(?=[\t\n\r\f />]){_ATTRIBUTES}>.*?(?:</\s*(?P=raw)\s*>|\Z)"""
    r"""|!--.*?(?:--!?>|\Z)"""
    r"""|!\[CDATA\[(?P<cdata>.*?)(?:\]\]>|\Z)"""
    r"""|[!?][^>]*>?"""
    rf"""|(?P<tag>/?[a-zA-Z][^\t\n\r\f />\x00]*){_ATTRIBUTES}(?P<close>/?)>)""",
    re.S | re.I)


def html_to_text(html: str) -> str:
    """Plain text from feed HTML: entities decoded once, blocks on their own lines, scripts/styles dropped.

    In HTML, source whitespace (line breaks included) is just a space; in plain text (no tags at all) line
    breaks are kept. Whitespace is collapsed within lines and blank lines are removed. One regex finds the
    markup (see _MARKUP); tests/test_text_props.py holds it to what html.parser makes of generated HTML.
    """
    if not html:
        return ""
    if "<" not in html:
        return _plain_lines(unescape(html) if "&" in html else html)
    parts = _MARKUP.split(html)  # text, then per markup its groups raw, cdata, tag, close, then text, ...
    texts = parts[0::5]
    if "&" in html:
        texts = [unescape(t) if "&" in t else t for t in texts]
    marks = [_TAG_PIECE[tag + close] if tag else _NON_TAG if cdata is None else cdata
             for cdata, tag, close in zip(parts[2::5], parts[3::5], parts[4::5])]
    saw_tag = any(tag is not None or raw is not None for raw, tag in zip(parts[1::5], parts[3::5]))
    if not saw_tag:
        return _plain_lines("".join(t + (m if m is not _NON_TAG else "") for t, m in zip(texts, marks + [""])))
    if _SKIP_OPEN in marks or _SKIP_CLOSE in marks:
        texts, marks = _drop_skipped(texts, marks)
    pieces = []
    for t, m in zip(texts, marks):
        pieces.append(t if t.isprintable() else _LINE_BREAKS.sub(" ", t))
        if m is _BLOCK:
            pieces.append("\n")
        elif m is not _NON_TAG:
            pieces.append(m)
    last = texts[-1]
    pieces.append(last if last.isprintable() else _LINE_BREAKS.sub(" ", last))
    return _plain_lines("".join(pieces))


# What a markup item puts in the text: a line break (_BLOCK), nothing (_NON_TAG), a space (a cell), its CDATA,
# or it opens or closes a skipped element.
_BLOCK, _NON_TAG, _SKIP_OPEN, _SKIP_CLOSE = object(), object(), object(), object()


class _TagPieces(dict):  # type: ignore[type-arg]
    """"/name" or "name" (+ "/" when it closes itself) -> its piece. Each entry is computed whole and stored by one
    assignment (safe across threads); it stops caching at 4,096 spellings."""

    def __missing__(self, key: str) -> Any:
        closing, self_closing = key[0] == "/", key[-1] == "/"
        name = key.strip("/").lower()
        if name in _SKIP_TAGS:
            piece = _SKIP_CLOSE if closing else _NON_TAG if self_closing else _SKIP_OPEN
        elif name in _BLOCK_TAGS:
            piece = _BLOCK
        else:
            piece = " " if name in _CELL_TAGS and not closing and not self_closing else _NON_TAG
        if len(self) < 4096:
            self[key] = piece
        return piece


_TAG_PIECE = _TagPieces()


def _drop_skipped(texts: list[str], marks: list[Any]) -> tuple[list[str], list[Any]]:
    """The texts and marks with what lies inside noscript, iframe and template elements dropped (their block
    tags still break lines)."""
    skip = 0
    kept_texts, kept_marks = [], []
    for t, m in zip(texts, marks + [_NON_TAG]):
        kept_texts.append("" if skip else t)
        if m is _SKIP_OPEN:
            skip, m = skip + 1, _NON_TAG
        elif m is _SKIP_CLOSE:
            skip, m = max(0, skip - 1), _NON_TAG
        elif skip and m is not _BLOCK:
            m = _NON_TAG  # CDATA or a cell's space inside a skipped element
        kept_marks.append(m)
    return kept_texts, kept_marks[:-1]


# Every character str.splitlines() breaks at: in HTML they are only whitespace.
_LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _plain_lines(text: str) -> str:
    """Each line with its whitespace collapsed, blank lines dropped."""
    if "  " not in text and " \n" not in text and "\n " not in text and text[:1] != " " and text[-1:] != " " \
            and _spaces_and_newlines_only(text):
        return "\n".join(filter(None, text.split("\n"))) if "\n" in text else text  # collapsed already
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _spaces_and_newlines_only(text: str) -> bool:
    """True when text has no whitespace but " " and "\n" (a cheap test, which may say False for other texts too).
    str.isprintable() is False for every whitespace character but " ", and for ZWNJ, which Persian is full of
    and which is not whitespace."""
    flat = text.replace("\n", " ")
    return flat.isprintable() or ("\u200c" in flat and flat.replace("\u200c", "").isprintable())


# --- what is not the article ---------------------------------------------------------------------------------

# Headings of the blocks sites put inside or after an article: related headlines, "read more", tags. Compared by
# fold, so «برچسب ها», «برچسب‌ها» and «برچسبها» are one heading.
RELATED_HEADINGS = ("مطالب مرتبط", "اخبار مرتبط", "خبرهای مرتبط", "مطالب مشابه", "اخبار مشابه", "بیشتر بخوانید",
                    "بخوانید", "مطالب پیشنهادی", "اخبار پیشنهادی", "پیشنهاد سردبیر", "سایر اخبار", "سایر اخبار مهم",
                    "برچسب ها", "برچسب‌ها", "کلید واژه ها")
_HEADING_FOLDS = frozenset(fold(h) for h in RELATED_HEADINGS)
_HEADING_MAX = max(len(h) for h in RELATED_HEADINGS) + 4
# After a heading, the block runs on while its lines look like list entries: a bullet or a number, or a line
# as short as a headline. A paragraph (a longer line) ends it.
_HEADLINE_WORDS = 20
_HEAD_END = re.compile(r"[:：]")
_LIST_MARK = re.compile(r"^\s*([-•*–—·»]|\d+\s*[.)\-])")
_SOURCE_LINE = re.compile(r"^\s*منبع\s*(خبر)?\s*[:：]|^\s*منبع خبر\b")
# A disclaimer is a short line; a paragraph that says «تمامی حقوق» or «مسئولیتی ندارد» is the article's.
_DISCLAIMER = re.compile(r"مسئولیتی\s*(ن|را\s*ن)دارد|(تمامی|کلیه)\s*حقوق.*محفوظ")
_DISCLAIMER_WORDS = 16  # shorter than any lead worth comparing


def strip_boilerplate(text: str) -> str:
    """The text without what sites and syndicators put around an article: related-headline and "read more"
    blocks («مطالب مرتبط», «بیشتر بخوانید» and their list of titles, whether bulleted or one title a line as
    html_to_text leaves an HTML list), a «بیشتر بخوانید: ...» line, source lines («منبع: ...») and short
    disclaimers.

    One function for both readers of an item's text: duplicate detection compares articles without them (a
    copy with its own footer compares like the original), and the watch matcher does not count a name that
    appears only in them as a mention (monitor.match.Matcher.item_matches).
    """
    if not text:
        return ""
    out: list[str] = []
    in_block = False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        head = _HEAD_END.split(stripped, 1)[0]
        if len(head) <= _HEADING_MAX and fold(head) in _HEADING_FOLDS:
            in_block = True  # the heading, or «بیشتر بخوانید: a title» on one line
            continue
        words = len(stripped.split())
        if in_block and (_LIST_MARK.match(stripped) or words <= _HEADLINE_WORDS):
            continue
        in_block = False
        if _SOURCE_LINE.match(stripped) or (words <= _DISCLAIMER_WORDS and _DISCLAIMER.search(stripped)):
            continue
        out.append(line)
    return "\n".join(out).strip()


# --- display ----------------------------------------------------------------------------------------------------

# display() lives in monitor/display.py beside its generated table; re-exported here, where callers import it.
from monitor.display import display  # noqa: E402
