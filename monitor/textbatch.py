"""Fold keys and near-duplicate fingerprints for many texts at once: one feed's items in a few numpy passes.

Why a module of its own: folding, splitting into words, hashing words, merging detached affixes, shingling and
winnowing done per item were a Python loop or a handful of numpy calls each, the largest share of a cold poll.
Here all the texts of a feed are concatenated and every step runs once
over the whole batch, as array operations over UTF-16 code units; no Python loop runs per character, per word
or per shingle, and only a few per text.

What it computes for each text (monitor.text defines the fold and the word rules; this module must agree):
  - fold: fold(text), the text's letters and digits with every spelling variant folded (text.fold);
  - for texts asked to be fingerprinted: the word 3-shingle hashes of its words with detached affixes merged
    («همکاری های» = «همکاریهای»), how many there are (`size`, repeats included: how much text there is to
    judge), and the winnowed fingerprints: the minimum of every WINDOW consecutive shingles (all of them when
    there are no more than WINDOW).

Texts with characters the skeleton table does not cover (above U+2FFF: CJK, emoji, surrogates) or whose fold is
longer than one character («ﻻ», «ß») take the exact per-character fold of monitor.text, then the same array
code: the two give identical results by construction, and tests/test_textbatch.py checks them against a
plain-Python reference of the definitions below.

The hashes (the fingerprint scheme, see dedup.FINGERPRINT_SCHEME):
  word:    raw(w) = sum_j T[c_j] * KC**j (mod 2**64) over the word's UTF-16 code units c_j, T a fixed table of
           random 64-bit values; h(w) = mix(raw(w) + len(w) * KL). A merged word is hashed as the one
           string it is, so «همکاری» + «های» hashes as «همکاریهای».
  shingle: mix((h1 * K + h2) * K + h3); a text of one or two words has one shingle of all of them.
  mix is splitmix64's finaliser. Hashes are stored as signed 64-bit integers (SQLite INTEGER).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np

from monitor import text

__all__ = ["Digest", "digest", "WINDOW", "SHINGLE_WORDS", "SCHEME"]

SHINGLE_WORDS = 3
WINDOW = 8
SCHEME = f"utf16-poly-words3-mix/winnow{WINDOW}"

_SPACE, _JOINER, _LONG = text.SKELETON_SPACE, text.SKELETON_JOINER, text.SKELETON_LONG
_AFFIX_MAX_LEN = max(len(a) for a in text.PREFIXES | text.SUFFIXES)

_K = np.uint64(0x9E3779B97F4A7C15)  # shingle polynomial
_KC = np.uint64(0xD6E8FEB86659FD93)  # word polynomial, per code unit
_KL = np.uint64(0xA0761D6478BD642F)  # word length
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)


def _mix(x: Any) -> Any:
    """splitmix64's finaliser over a uint64 array: every input bit reaches every output bit."""
    x = x ^ (x >> _S30)
    x = x * _M1
    x = x ^ (x >> _S27)
    x = x * _M2
    return x ^ (x >> _S31)


with np.errstate(over="ignore"):
    # One random 64-bit value per UTF-16 code unit: splitmix64 of the unit.
    _T = _mix(np.arange(65536, dtype=np.uint64) * _K + np.uint64(0x632BE59BD9B4E019))


class _Powers:
    """base**j for j < length (mod 2**64), grown on demand (doubling) and kept."""

    def __init__(self, base: Any) -> None:
        self._base, self._table = base, np.ones(1, dtype=np.uint64)

    def upto(self, length: int) -> Any:
        """At least `length` powers. The table is replaced whole, never changed in place, and the one returned
        is the one checked: a thread growing it meanwhile cannot hand another a shorter one."""
        table = self._table
        if len(table) < length:
            size = max(length, 2 * len(table), 256)
            with np.errstate(over="ignore"):
                powers = np.full(size, self._base, dtype=np.uint64)
                powers[0] = 1
                table = np.cumprod(powers, dtype=np.uint64)
            self._table = table
        return table


_POWERS = _Powers(_KC)


class Digest(NamedTuple):
    """What one text yields. `fingerprints` is sorted and unique (int64); empty when not asked for."""

    fold: str
    fingerprints: Any  # numpy int64 array
    size: int  # its number of word shingles, repeats included (0 when not asked for)


def digest(texts: Sequence[str], fingerprint: Sequence[bool] | None = None) -> list[Digest]:
    """Fold every text, and fingerprint those whose flag is set (all when `fingerprint` is None)."""
    n = len(texts)
    want = [True] * n if fingerprint is None else list(fingerprint)
    if not n:
        return []
    out: list[Digest] = []
    begin, size = 0, 0
    for i, t in enumerate(texts):  # batches of at most _PREFIX_MAX characters (a longer text goes alone)
        if size and size + len(t) > _PREFIX_MAX:
            out.extend(_digest_batch(texts[begin:i], want[begin:i]))
            begin, size = i, 0
        size += len(t) + 1
    out.extend(_digest_batch(texts[begin:], want[begin:]))
    return out


def _digest_batch(texts: Sequence[str], want: list[bool]) -> list[Digest]:
    n = len(texts)
    units, starts, slow = _fast_units(texts)
    if slow:
        # Rebuild the batch with the exact fold's words for the texts the table cannot serve: a folded word
        # is letters and digits only, so " ".join(words) is a skeleton without joiners.
        pieces = []
        for i, t in enumerate(texts):
            if i in slow:
                pieces.append(" ".join(text.Words(t).texts).encode("utf-16-le", "surrogatepass"))
            else:
                pieces.append(units[starts[i]:starts[i + 1]].tobytes())
        joined = b" \x00".join(pieces)
        units = np.frombuffer(joined, dtype=np.uint16)
        lengths = np.array([len(p) // 2 for p in pieces], dtype=np.int64)
        starts = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths + 1, out=starts[1:])
    return _digest_units(units, starts, want)


def _fast_units(texts: Sequence[str]) -> tuple[Any, Any, set[int]]:
    """The batch's skeleton codes with joiners removed, each text's start in them (and the end as a last
    entry), and the indexes of texts that need the exact per-character fold."""
    joined = "\n".join(texts)
    raw = np.frombuffer(joined.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    starts = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths + 1, out=starts[1:])  # each text is followed by one separator (the last one virtually)
    slow: set[int] = set()
    if len(raw) != starts[-1] - 1:  # characters outside the BMP: UTF-16 is longer than the str
        slow = {i for i, t in enumerate(texts) if len(t.encode("utf-16-le", "surrogatepass")) != 2 * len(t)}
        return _rebuild_fast(texts, slow)
    high = raw >= text.SKELETON_END
    if high.any():
        slow = set(np.unique(np.searchsorted(starts, np.flatnonzero(high), side="right") - 1).tolist())
        raw = np.where(high, np.uint16(_SPACE), raw)
    codes = text.skeleton_table()[raw]
    long_ = codes == _LONG
    if long_.any():
        slow |= set(np.unique(np.searchsorted(starts, np.flatnonzero(long_), side="right") - 1).tolist())
    joiners = np.flatnonzero(codes == _JOINER)
    if len(joiners):  # far fewer than the characters: count them before each start rather than the others
        starts = starts - np.searchsorted(joiners, starts)
        codes = np.delete(codes, joiners)
        starts[-1] = len(codes) + 1
    return codes, starts, slow


def _rebuild_fast(texts: Sequence[str], slow: set[int]) -> tuple[Any, Any, set[int]]:
    """_fast_units for a batch with characters outside the BMP: those texts are blanked, to be redone."""
    blanked = [" " if i in slow else t for i, t in enumerate(texts)]
    codes, starts, more = _fast_units(blanked)
    return codes, starts, slow | more


def _digest_units(codes: Any, starts: Any, want: list[bool]) -> list[Digest]:
    n = len(want)
    total = len(codes)
    empty = np.empty(0, dtype=np.int64)
    if total == 0:
        return [Digest("", empty, 0) for _ in range(n)]
    letters = codes != _SPACE
    # Folds: the letters of each text, decoded once for the whole batch and sliced.
    letter_count = np.zeros(total + 1, dtype=np.int64)
    np.cumsum(letters, out=letter_count[1:])
    bounds = letter_count[np.minimum(starts, total)]
    chars = codes[letters]
    bl = bounds.tolist()
    if (chars >= 0xD800).any() and (chars <= 0xDFFF).any():  # surrogate pairs: str offsets are not units
        folds = [chars[bl[i]:bl[i + 1]].tobytes().decode("utf-16-le", "surrogatepass") for i in range(n)]
    else:
        folded_all = chars.tobytes().decode("utf-16-le", "surrogatepass")
        folds = [folded_all[bl[i]:bl[i + 1]] for i in range(n)]
    if not any(want) or not len(chars):
        return [Digest(f, empty, 0) for f in folds]

    return _fingerprints(letters, letter_count, chars, bounds, folds, want)


def _fingerprints(letters: Any, letter_count: Any, chars: Any, bounds: Any, folds: list[str],
                  want: list[bool]) -> list[Digest]:
    """The fingerprint arithmetic as array passes over the whole batch."""
    n = len(want)
    empty = np.empty(0, dtype=np.int64)
    # Words: runs of letters. In `chars` (letters only) each word ends where the next begins.
    word_start_pos = np.flatnonzero(letters[1:] & ~letters[:-1]) + 1
    if letters[0]:
        word_start_pos = np.concatenate([[0], word_start_pos])
    word_first = letter_count[word_start_pos]
    word_end = np.empty_like(word_first)
    word_end[:-1] = word_first[1:]
    word_end[-1] = len(chars)
    # Words are in text order: each text's words are the run between the first words at its bounds.
    per_text = np.diff(np.searchsorted(word_first, bounds))
    word_text = np.repeat(np.arange(n), per_text)
    prefix = _prefix_sums(chars)
    raw = _span_raw(prefix, word_first, word_end, chars)
    # Detached affixes: a prefix word («می») joins the next word, a suffix word («ها») joins the one before,
    # within one text. The boundary before word i goes when word i-1 is a prefix or word i is a suffix (the loop
    # in the reference of tests/test_textbatch.py says the same one word at a time).
    word_len = word_end - word_first
    is_prefix, is_suffix = _affix_masks(raw, word_len)
    join = np.zeros(len(word_first), dtype=bool)
    join[1:] = (is_prefix[:-1] | is_suffix[1:]) & (word_text[1:] == word_text[:-1])
    if join.any():
        heads = np.flatnonzero(~join)
        group_first = word_first[heads]
        group_end = np.empty_like(group_first)
        group_end[:-1] = group_first[1:]
        group_end[-1] = len(chars)
        group_text = word_text[heads]
        group_raw = _span_raw(prefix, group_first, group_end, chars)
    else:
        group_first, group_end, group_text, group_raw = word_first, word_end, word_text, raw
    wanted = np.array(want, dtype=bool)
    if not wanted.all():
        keep = wanted[group_text]
        group_first, group_end, group_text, group_raw = \
            group_first[keep], group_end[keep], group_text[keep], group_raw[keep]
    with np.errstate(over="ignore"):
        h = _mix(group_raw + (group_end - group_first).astype(np.uint64) * _KL)
    shingles, shingle_text = _shingles(h, group_text, n)
    counts = np.bincount(shingle_text, minlength=n) if len(shingles) else np.zeros(n, dtype=np.int64)
    fps, fp_text = _winnow(shingles, shingle_text, counts, n)
    fps, fp_text = _unique_per_text(fps, fp_text)
    cuts = np.searchsorted(fp_text, np.arange(n + 1)).tolist()
    sizes = counts.tolist()
    return [Digest(folds[i], fps[cuts[i]:cuts[i + 1]], sizes[i]) if want[i] else Digest(folds[i], empty, 0)
            for i in range(n)]


# The prefix-sum hashing below keeps KC**g for every position g of a batch; batches longer than this use
# per-word positions instead (same values, more work), so a huge text never allocates huge tables.
_PREFIX_MAX = 1 << 18
_INVERSE_POWERS = _Powers(np.uint64(pow(int(_KC), -1, 2**64)))  # KC is odd, so it has an inverse mod 2**64


def _prefix_sums(chars: Any) -> Any | None:
    """S[g] = sum over positions p < g of T[chars[p]] * KC**p, or None for a batch too long for the tables.

    Then raw(chars[a:b]) = (S[b] - S[a]) * KC**-a: one cumulative sum serves every word and every merged group,
    with no per-word position arrays."""
    count = len(chars)
    if count > _PREFIX_MAX:
        return None
    out = np.zeros(count + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        np.cumsum(_T[chars] * _POWERS.upto(count)[:count], out=out[1:])
    return out


def _span_raw(prefix: Any | None, first: Any, end: Any, chars: Any) -> Any:
    """raw() of chars[first[i]:end[i]] for every i."""
    if prefix is None:
        return _raw_hashes(chars, first, end - first)
    with np.errstate(over="ignore"):
        return (prefix[end] - prefix[first]) * _INVERSE_POWERS.upto(int(first[-1]) + 1)[first]


def _raw_hashes(chars: Any, first: Any, length: Any) -> Any:
    """raw(w) for each word given by its first character index and length in `chars`, from per-word positions."""
    total = int(length.sum())
    if not total:
        return np.zeros(len(first), dtype=np.uint64)
    local_first = np.zeros(len(first), dtype=np.int64)
    np.cumsum(length[:-1], out=local_first[1:])
    index = np.repeat(first - local_first, length) + np.arange(total)
    pos = np.arange(total) - np.repeat(local_first, length)
    powers = _POWERS.upto(int(length.max()))
    with np.errstate(over="ignore"):
        contrib = _T[chars[index]] * powers[pos]
    return np.add.reduceat(contrib, local_first)


def _affix_masks(raw: Any, word_len: Any) -> tuple[Any, Any]:
    """Which words are a detached prefix («می», «نمی») or suffix («ها», «های», ...), by raw hash."""
    values, prefix = _AFFIX_RAWS, _AFFIX_IS_PREFIX
    candidates = np.flatnonzero(word_len <= _AFFIX_MAX_LEN)
    is_prefix = np.zeros(len(raw), dtype=bool)
    is_suffix = np.zeros(len(raw), dtype=bool)
    if len(candidates):
        cand_raw = raw[candidates]
        slot = np.minimum(np.searchsorted(values, cand_raw), len(values) - 1)
        hit = values[slot] == cand_raw
        is_prefix[candidates[hit & prefix[slot]]] = True
        is_suffix[candidates[hit & ~prefix[slot]]] = True
    return is_prefix, is_suffix


def _raw_of(word: str) -> int:
    units = np.frombuffer(word.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    return int(_raw_hashes(units, np.zeros(1, dtype=np.int64), np.array([len(units)], dtype=np.int64))[0])


# The detached affixes by raw(): sorted, and True where the affix is a prefix. Built at import: eleven words.
_AFFIXES = sorted((_raw_of(w), w in text.PREFIXES) for w in text.PREFIXES | text.SUFFIXES)
_AFFIX_RAWS = np.array([r for r, _ in _AFFIXES], dtype=np.uint64)
_AFFIX_IS_PREFIX = np.array([p for _, p in _AFFIXES], dtype=bool)


def _shingles(h: Any, text_of: Any, n: int) -> tuple[Any, Any]:
    """Word 3-shingle hashes (int64) of each text in order, and the text each belongs to. A text with one
    or two words has one shingle of all of them."""
    count = len(h)
    k = _K
    with np.errstate(over="ignore"):
        if count >= SHINGLE_WORDS:
            acc = (h[:-2] * k + h[1:-1]) * k + h[2:]
            valid = text_of[:-2] == text_of[2:]
            full = _mix(acc[valid]).view(np.int64)
            full_text = text_of[:-2][valid]
        else:
            full = np.empty(0, dtype=np.int64)
            full_text = np.empty(0, dtype=np.int64)
        words_per_text = np.bincount(text_of, minlength=n)
        short = np.flatnonzero((words_per_text > 0) & (words_per_text < SHINGLE_WORDS))
        if len(short):
            first = np.searchsorted(text_of, short)
            acc = h[first].copy()
            two = words_per_text[short] == 2
            acc[two] = acc[two] * k + h[first[two] + 1]
            extra = _mix(acc).view(np.int64)
            values = np.concatenate([full, extra])
            owners = np.concatenate([full_text, short])
            order = np.argsort(owners, kind="stable")
            return values[order], owners[order]
    return full, full_text


def _unique_per_text(values: Any, text_of: Any) -> tuple[Any, Any]:
    """Sorted by (text, value), each pair once."""
    if not len(values):
        return values, text_of
    order = np.lexsort((values, text_of))
    v, t = values[order], text_of[order]
    fresh = np.empty(len(v), dtype=bool)
    fresh[0] = True
    np.logical_or(v[1:] != v[:-1], t[1:] != t[:-1], out=fresh[1:])
    return v[fresh], t[fresh]


def _winnow(values: Any, text_of: Any, sizes: Any, n: int) -> tuple[Any, Any]:
    """The minimum of every WINDOW consecutive shingles of a text, or all of a text's shingles when it has no
    more than WINDOW (winnowing: Schleimer, Wilkerson and Aiken, 2003; see dedup for why)."""
    short = sizes[text_of] <= WINDOW
    parts, owners = [values[short]], [text_of[short]]
    if len(values) >= WINDOW:
        count = len(values) - WINDOW + 1
        minima = values[:count].copy()
        for shift in range(1, WINDOW):
            np.minimum(minima, values[shift:shift + count], out=minima)
        valid = (text_of[:count] == text_of[WINDOW - 1:]) & ~short[:count]
        # Neighbouring windows mostly share their minimum: keep one of each run before sorting.
        valid[1:] &= (minima[1:] != minima[:-1]) | (text_of[1:count] != text_of[:count - 1])
        parts.append(minima[valid])
        owners.append(text_of[:count][valid])
    return np.concatenate(parts), np.concatenate(owners)
