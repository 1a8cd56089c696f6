"""An item's terms: the words of its title and lead, folded as dedup and the matcher fold them."""

from __future__ import annotations

import array
import zlib
from typing import Iterable, NamedTuple

from monitor.text import PREFIXES, SUFFIXES, Words, fold, strip_boilerplate

__all__ = ["LEAD_WORDS", "MEMBER_FLAG", "Signature", "pack", "pack_member", "signature", "unpack"]

LEAD_WORDS = 45  # the lead: what every outlet's version of an event states first
MIN_WORD = 2
# Each word of more than PREFIX letters also counts as its first PREFIX letters: «سیل», «سیلاب» and «سیل‌زده»,
# «مصدوم» and «مصدومان» meet there without a stemmer (hazm's damages names: persian-text.md).
PREFIX = 4

# Words every news item has, whatever it reports: function words, reporting verbs, agency names.
_STOPWORDS = frozenset(fold(w) for w in """
    و در به از که این آن با را برای است بود شد شده شود کرد کرده کند کنند کردند می نمی خود یک تا بر هم نیز اما یا
    پس ای دیگر همچنین گفت گفته گفتند اعلام امروز روز هفته گزارش نقل ایرنا ایسنا تسنیم فارس مهر خبرآنلاین
    خبرگزاری انتهای پیام منبع اینکه آنها او وی ما بین پیش پی باید داد دارد دارند نیز هر همه چند ها های
    درباره خبر داده
""".split())


class Signature(NamedTuple):
    """The terms of one item: of its title and of its lead (31-bit word hashes, in text order, each once)."""

    title: tuple[int, ...]
    lead: tuple[int, ...]


def _words(text: str) -> list[str]:
    """Folded words with detached affixes joined as the fingerprints join them («همکاری های» = «همکاریهای»),
    then a plural or relational ending taken off, so «تحریم‌ها» and «تحریم» count as one word."""
    out: list[str] = []
    prefix = ""
    for w in Words(text).texts:
        if w in PREFIXES:
            prefix += w
            continue
        w, prefix = prefix + w, ""
        if w in SUFFIXES and out:
            out[-1] += w
            continue
        out.append(w)
    stems = []
    for w in out:
        for ending in ("هایی", "های", "ها"):
            if w.endswith(ending) and len(w) - len(ending) >= 3:
                w = w[: -len(ending)]
                break
        if len(w) >= MIN_WORD and w not in _STOPWORDS:
            stems.append(w)
            if len(w) > PREFIX:
                stems.append(w[:PREFIX] + "~")
    return stems


def _term(word: str) -> int:
    return zlib.crc32(word.encode("utf-8")) & 0x7FFFFFFF


def signature(title: str, body: str, core: str | None = None) -> Signature:
    """The terms of an item's title and lead (the first LEAD_WORDS words of its body, boilerplate removed).
    `core`: strip_boilerplate(body) when the caller has it already (the pure step does: it was a tenth of a
    worker's CPU to strip every body a second time here)."""
    core = strip_boilerplate(body) if core is None else core
    lead = _words(" ".join(core.split(maxsplit=LEAD_WORDS + 10)[: LEAD_WORDS + 10]))[:LEAD_WORDS]
    return Signature(_ordered(_term(w) for w in _words(title)), _ordered(_term(w) for w in lead))


def _ordered(terms: Iterable[int]) -> tuple[int, ...]:
    """Terms in text order, each once (at its first place): the order tells a name's words from scattered ones."""
    return tuple(dict.fromkeys(terms))


def pack(sig: Signature) -> bytes:
    """A signature as bytes (what the pure step sends the writer): the title's count, then every term, 4 bytes each."""
    data = array.array("I", [len(sig.title), *sig.title, *sig.lead])
    return data.tobytes()


# Set in a packed count (terms are 31-bit) when the lead holds only terms not in the title (pack_member).
MEMBER_FLAG = 0x80000000


def pack_member(sig: Signature) -> bytes:
    """A signature as a story member stores it: as pack, but with the lead's terms that are also the title's left
    out, and MEMBER_FLAG set in the count. That is each term once per item, what the stories' window keeps of it
    (StoryIndex.add), so loading the window (monitor.stories.window) needs no sort to find them, and the row is
    smaller. Not what the writer compares a new item by: there the lead's order, title terms included, decides
    ties (StoryIndex.best), so the pure step's pack is used."""
    title = set(sig.title)
    data = array.array("I", [len(sig.title) | MEMBER_FLAG, *sig.title, *(t for t in sig.lead if t not in title)])
    return data.tobytes()


def unpack(data: bytes) -> Signature:
    """The Signature of pack's or pack_member's bytes (pack_member's lead lacks the title's terms)."""
    values = array.array("I")
    values.frombytes(data)
    n = values[0] & (MEMBER_FLAG - 1)
    return Signature(tuple(values[1:1 + n]), tuple(values[1 + n:]))
