"""A parsed query to an FTS5 expression over the index's folded words, and its hits found again in a text.

Why splits (see monitor.search): a word or phrase matches any run of consecutive indexed words whose
concatenation is its compact form, with the detached affixes attached or not; the index is asked which pieces
exist, and the expression is the OR of every split into such words.
"""

from __future__ import annotations

from typing import Callable, Sequence

from monitor.search.query import Query, Unit
from monitor.text import PREFIXES, SUFFIXES, Words, fold

__all__ = ["ATTACHED_PREFIXES", "ATTACHED_SUFFIXES", "alternatives", "expression", "find_hits"]

# Affixes a query word also matches attached (see the module docstring), and the shortest word they attach to:
# «به» is not in «بهتر».
ATTACHED_PREFIXES = tuple(sorted(PREFIXES))
ATTACHED_SUFFIXES = tuple(sorted(SUFFIXES | {fold("ای") + s for s in (fold("ها"), fold("های"))}))
MIN_AFFIXED = 3
MIN_PIECE = 2  # a split never makes a one-letter word (see alternatives)
MAX_COMPACT = 48  # a longer word or phrase is searched as written, without looking for other splits
MAX_ALTERNATIVES = 32


def alternatives(unit: Unit, known: Callable[[list[str], list[str]], set[str]]) -> list[tuple[str, ...]]:
    """The splits of a unit's compact form into words the index holds, fewest words first (see the module
    docstring); a prefix unit's last piece ends with "*". A piece that is not one of the query's own words has
    two letters or more: «و» (and) and «زیر» (under) are not «وزیر» (minister); a prefix piece three or more,
    since a short prefix matches a large part of the index. `known(terms, prefixes)` answers which terms exist
    (prefixes come back with a "*"). Always at least the unit's own words, which may match nothing."""
    own = unit.words[:-1] + ((unit.words[-1] + "*",) if unit.prefix else (unit.words[-1],))
    compact = "".join(unit.words)
    n = len(compact)
    if n > MAX_COMPACT:
        return [own]
    reach: dict[int, list[tuple[str, int]]] = {}  # start -> [(indexed piece, end)]
    todo, seen = [0], {0}
    while todo:
        i = todo.pop()
        terms, prefixes, pieces = [], [], []
        for j in range(i + 1, n + 1):
            base = compact[i:j]
            if base not in unit.words and (j - i < MIN_PIECE or (unit.prefix and j == n and j - i < MIN_AFFIXED)):
                continue  # «وزیر» is not «و زیر»; and a short prefix would read half the index
            options = [base]
            if i == 0 and j - i >= MIN_AFFIXED:
                options += [p + base for p in ATTACHED_PREFIXES]
            if j == n and not unit.prefix and j - i >= MIN_AFFIXED:
                options += [o + s for o in list(options) for s in ATTACHED_SUFFIXES]
            for option in options:
                if j == n and unit.prefix:
                    prefixes.append(option)
                    pieces.append((option + "*", j))
                else:
                    terms.append(option)
                    pieces.append((option, j))
        found = known(terms, prefixes)
        reach[i] = [(piece, j) for piece, j in pieces if piece in found]
        for _, j in reach[i]:
            if j < n and j not in seen:
                seen.add(j)
                todo.append(j)
    finishes: dict[int, bool] = {n: True}  # whether some split of compact[i:] is all indexed words

    def finish(i: int) -> bool:
        if i not in finishes:
            finishes[i] = False
            finishes[i] = any(finish(j) for _, j in reach.get(i, []))
        return finishes[i]

    paths: list[tuple[str, ...]] = []

    def walk(i: int, path: tuple[str, ...]) -> None:
        if i == n:
            paths.append(path)
            return
        for piece, j in reach.get(i, []):
            if len(paths) < 4 * MAX_ALTERNATIVES and finish(j):
                walk(j, path + (piece,))

    walk(0, ())
    paths.sort(key=lambda p: (len(p), p != own))
    return list(dict.fromkeys(paths))[:MAX_ALTERNATIVES] or [own]


def _phrase(pieces: tuple[str, ...]) -> str:
    prefix = pieces[-1].endswith("*")
    words = pieces[:-1] + (pieces[-1].rstrip("*"),)
    return '"' + " ".join(w.replace('"', '""') for w in words) + '"' + ("*" if prefix else "")


def expression(query: Query, known: Callable[[list[str], list[str]], set[str]]
               ) -> tuple[str, dict[Unit, list[tuple[str, ...]]]]:
    """The FTS5 expression of a query, and each unit's alternatives (what find_hits marks)."""
    alts: dict[Unit, list[tuple[str, ...]]] = {}

    def render(node: tuple) -> str:
        if node[0] == "unit":
            unit = node[1]
            if unit not in alts:
                alts[unit] = alternatives(unit, known)
            return "(" + " OR ".join(_phrase(a) for a in alts[unit]) + ")"
        if node[0] == "not":
            return f"({render(node[1])} NOT {render(node[2])})"
        return "(" + f" {node[0].upper()} ".join(render(c) for c in node[1]) + ")"

    return render(query.tree), alts


def find_hits(text: str, alts: Sequence[tuple[str, ...]]) -> list[tuple[int, int]]:
    """[start, end) of every run of words in text that one of the alternatives names, by start; a hit that
    overlaps an earlier one is left out."""
    words = Words(text)
    texts = words.texts
    by_first: dict[str, list[tuple[str, ...]]] = {}
    prefixed: list[tuple[str, ...]] = []
    for alt in alts:
        (prefixed if len(alt) == 1 and alt[0].endswith("*") else by_first.setdefault(alt[0], [])).append(alt)
    spans: list[tuple[int, int]] = []
    reach = -1
    for i, word in enumerate(texts):
        if i <= reach:
            continue
        best = 0
        for alt in by_first.get(word, []) + [a for a in prefixed if word.startswith(a[0][:-1])]:
            k = len(alt)
            if i + k <= len(texts) and _covers(texts, i, alt):
                best = max(best, k)
        if best:
            spans.append((words.span(i)[0], words.span(i + best - 1)[1]))
            reach = i + best - 1
    return spans


def _covers(texts: list[str], i: int, alt: tuple[str, ...]) -> bool:
    for offset, piece in enumerate(alt):
        word = texts[i + offset]
        if piece.endswith("*") and offset == len(alt) - 1:
            if not word.startswith(piece[:-1]):
                return False
        elif word != piece:
            return False
    return True
