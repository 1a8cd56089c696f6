"""Feed names for feeds that arrive without one (an OPML outline, a discovered site).

A feed name is an ASCII token (config.FEED_NAME: it is typed on the command line and stored in the database),
so a Persian title cannot be kept as it is. The rule, in order:

1. a title written in Latin letters becomes its slug: "BBC News Persian" -> `bbc-news-persian`;
2. otherwise the site's own Latin name, from its host: `www.mehrnews.com` -> `mehrnews`, `fa.abna24.com` ->
   `abna24` (every Persian outlet's address is Latin, and it is the name people already say);
3. a second feed of the same site gets the host name and the title transliterated letter by letter
   («مهر - سیاسی» -> `mehrnews-mhr-siasi`): Persian script writes no short vowels, so it reads roughly, but
   it tells sections apart;
4. still taken: `-2`, `-3`, ... Names are compared case-insensitively, as config.yaml compares them.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable
from urllib.parse import urlsplit

from monitor.config import FEED_NAME

__all__ = ["slug", "transliterate", "host_name", "NameBook"]

MAX_LEN = 40

# Letter by letter, consonants as Persian romanisations usually write them; vowels that the script writes (آ ا و ی)
# as a, a, v/u, i. Arabic forms fold to their Persian letters first (ي ى ئ -> ی, ك -> ک, ة ۀ -> ه).
_LETTERS = {
    "ا": "a", "آ": "a", "أ": "a", "إ": "e", "ٱ": "a", "ب": "b", "پ": "p", "ت": "t", "ث": "s", "ج": "j", "چ": "ch",
    "ح": "h", "خ": "kh", "د": "d", "ذ": "z", "ر": "r", "ز": "z", "ژ": "zh", "س": "s", "ش": "sh", "ص": "s",
    "ض": "z", "ط": "t", "ظ": "z", "ع": "", "غ": "gh", "ف": "f", "ق": "gh", "ک": "k", "ك": "k", "گ": "g",
    "ل": "l", "م": "m", "ن": "n", "و": "v", "ؤ": "o", "ه": "h", "ة": "h", "ۀ": "h", "ی": "i", "ي": "i", "ى": "i",
    "ئ": "i", "ء": "", "\u200c": "",  # ZWNJ joins the halves of one word
}
_DIGITS = {ord(c): str(i % 10) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩")}
_HOST_PREFIXES = ("www.", "fa.", "feeds.", "feed.", "rss.", "m.")
_NOT_NAMES = {"com", "ir", "org", "net", "co", "uk", "info", "news", "www"}


def transliterate(text: str) -> str:
    """Persian or Arabic letters to rough Latin letters (see _LETTERS); other characters kept."""
    text = unicodedata.normalize("NFKC", text).translate(_DIGITS)
    return "".join(_LETTERS.get(ch, ch) for ch in text)


def slug(text: str) -> str:
    """Lower-case ASCII words joined by "-", at most MAX_LEN characters, cut at a word; "" when nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", transliterate(text)).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    out = ""
    for word in words:
        joined = f"{out}-{word}" if out else word
        if len(joined) > MAX_LEN:
            break
        out = joined
    return out or (words[0][:MAX_LEN] if words else "")


def _latin(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and sum(ch.isascii() for ch in letters) * 2 > len(letters)


def host_name(url: str) -> str:
    """The site's name from its host: the registered name without `www.`-like prefixes and the suffix."""
    host = (urlsplit(url).hostname or "").lower()
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") > 1:
            host = host[len(prefix):]
    parts = [p for p in host.split(".") if p and p not in _NOT_NAMES]
    return slug(parts[0] if parts else host) or "feed"


class NameBook:
    """The names in use (config.yaml's and those given out so far), and a new unique one for each feed."""

    def __init__(self, taken: Iterable[str]) -> None:
        self.taken = {name.casefold() for name in taken}

    def free(self, name: str) -> bool:
        return name.casefold() not in self.taken

    def take(self, name: str) -> str:
        self.taken.add(name.casefold())
        return name

    def name_for(self, url: str, title: str, wanted: str | None = None) -> str:
        """`wanted` when it is a valid free name, else the rule of this module's docstring."""
        if wanted and FEED_NAME.fullmatch(wanted) and self.free(wanted):
            return self.take(wanted)
        host = host_name(url)
        candidates = [slug(title)] if _latin(title) else []
        candidates.append(host)
        words = slug(title)
        if words and words != host:
            candidates.append(f"{host}-{words}"[:MAX_LEN].rstrip("-"))
        for candidate in candidates:
            if candidate and FEED_NAME.fullmatch(candidate) and self.free(candidate):
                return self.take(candidate)
        base = [c for c in candidates if c and FEED_NAME.fullmatch(c)][-1]  # the most telling of them
        number = 2
        while not self.free(f"{base}-{number}"):
            number += 1
        return self.take(f"{base}-{number}")
