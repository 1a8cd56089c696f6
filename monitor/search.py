"""`monitor search`: the query language, the words the index holds, and the reader that asks it.

Why the monitor folds for FTS5 (see monitor/store/search.py): the index holds each item's *folded* words, and a
query is folded the same way, so yeh/kaf, hamza forms, diacritics, digits and ZWNJ-inside-a-word never matter.
Two spelling families cross word boundaries, and are handled here, on the query side, as the matcher
(monitor.match) handles them on the text side, by the *compact* form (the folded words joined with nothing):

  - joined or split names: «محمدعلی» = «محمد علی» = «محمد‌علی», «کیم جونگ‌اون» = «کیم‌جونگ‌اون». A query word or
    phrase matches any run of consecutive indexed words whose concatenation is its compact form. The index is
    asked which pieces of the compact form are words it holds (monitor.store.search.Search.known_terms), and
    the query becomes the OR of every split of it into such words (`alternatives`).
  - the detached affixes («می», «نمی» before, «ها», «های», «ای», «تر», ... after: text.PREFIXES / SUFFIXES) are
    written with a space, a ZWNJ or nothing. Written with a space they are words of their own, and «مؤتلفه» is
    in «مؤتلفه ای ها»; so it must be in «مؤتلفه‌ای‌ها» too: a word of 3 letters or more also matches itself
    with these affixes attached. Nothing else: a hit always starts at a word start and ends at a word end or
    at one of those affixes, so «امانی» never finds «سامانی» or «بی‌امانی».

Syntax (FTS5's own, read here so errors are one clear line): words (all must occur), "a phrase", AND, OR, NOT
(binary: `a NOT b`), parentheses, and a trailing * for a prefix (`امان*`, `"محمد ع"*`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from monitor.errors import UsageError
from monitor.text import PREFIXES, SUFFIXES, Words, fold, strip_boilerplate

__all__ = ["Query", "QueryError", "Unit", "alternatives", "catch_up", "find_hits", "index_text", "parse", "run"]

log = logging.getLogger("monitor.search")

# Affixes a query word also matches attached (see the module docstring), and the shortest word they attach to:
# «به» is not in «بهتر».
ATTACHED_PREFIXES = tuple(sorted(PREFIXES))
ATTACHED_SUFFIXES = tuple(sorted(SUFFIXES | {fold("ای") + s for s in (fold("ها"), fold("های"))}))
MIN_AFFIXED = 3
MAX_COMPACT = 48  # a longer word or phrase is searched as written, without looking for other splits
MAX_ALTERNATIVES = 32


class QueryError(UsageError):
    """A query that cannot be searched (exit code 2): the message says what and where."""


# ------------------------------------------------------------------------------------------ the index's words
def index_text(title: str, body: str, article: str | None = None) -> tuple[str, str]:
    """What the index holds for an item: its title's folded words, and its text's (the body without related
    headlines and "read more" blocks, as the matcher reads it, then the article text), joined by spaces."""
    text = Words(strip_boilerplate(body)).texts
    if article:
        text = text + Words(strip_boilerplate(article)).texts
    return " ".join(Words(title).texts), " ".join(text)


def catch_up(store: Any, batch: int = 2000, progress: Callable[[int, int], None] | None = None) -> int:
    """Index the items waiting in the index's queue (a database migrated to it, items re-indexed after their
    article text came), in batches that commit one by one: a crash part-way keeps the batches done.
    `progress(done, total)` is called after each batch. Returns how many were indexed."""
    total = store.search.pending()
    done = 0
    while total:
        rows = store.search.pending_batch(batch)
        if not rows:
            break
        docs = [(item_id, *index_text(title, body, article)) for item_id, title, body, article in rows]
        with store.transaction():
            store.search.index_pending(docs)
        done += len(rows)
        if progress:
            progress(done, total)
    if done:
        log.info("search index: indexed %d stored items", done)
    return done


# ------------------------------------------------------------------------------------------ parsing
@dataclass(frozen=True)
class Unit:
    """One word or phrase of a query: its folded words, and whether its last word is a prefix."""

    raw: str
    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class Query:
    """A parsed query: a tree of ("unit", Unit) / ("and" | "or", [nodes]) / ("not", node, node)."""

    text: str
    tree: tuple

    def units(self, positive_only: bool = False) -> list[Unit]:
        """The units of the query; positive_only: not those on the right of a NOT (they are never hits)."""
        out: list[Unit] = []

        def walk(node: tuple) -> None:
            if node[0] == "unit":
                out.append(node[1])
            elif node[0] == "not":
                walk(node[1])
                if not positive_only:
                    walk(node[2])
            else:
                for child in node[1]:
                    walk(child)

        walk(self.tree)
        return out


_LEXEME = re.compile(r'\s+|(?P<quote>"[^"]*("|$)\*?)|(?P<paren>[()])|(?P<word>[^\s()"]+)')
_OPERATORS = ("AND", "OR", "NOT")


def parse(text: str) -> Query:
    """A query read into its tree; QueryError (one line, with the character position) when it is not one."""
    lexemes: list[tuple[str, str, int]] = []
    for m in _LEXEME.finditer(text):
        if m.group("quote"):
            raw = m.group("quote")
            if not m.group(2):
                raise QueryError(f"query: a quote opened at character {m.start() + 1} is never closed")
            lexemes.append(("phrase", raw, m.start()))
        elif m.group("paren"):
            lexemes.append((m.group("paren"), m.group("paren"), m.start()))
        elif m.group("word"):
            word = m.group("word")
            lexemes.append(("op" if word in _OPERATORS else "word", word, m.start()))
    if not lexemes:
        raise QueryError("query: nothing to search for")
    parser = _Parser(lexemes, text)
    tree = parser.expression()
    if parser.pos < len(lexemes):
        kind, raw, at = lexemes[parser.pos]
        raise QueryError(f"query: unexpected {raw!r} at character {at + 1}" +
                         (" (no ( opened it)" if kind == ")" else ""))
    return Query(text, tree)


class _Parser:
    """Recursive descent with FTS5's precedence: NOT binds tighter than AND (also implicit), AND than OR."""

    def __init__(self, lexemes: list[tuple[str, str, int]], text: str) -> None:
        self.lexemes, self.text, self.pos = lexemes, text, 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.lexemes[self.pos] if self.pos < len(self.lexemes) else None

    def operator(self, name: str) -> bool:
        lex = self.peek()
        if lex and lex[0] == "op" and lex[1] == name:
            self.pos += 1
            return True
        return False

    def expression(self) -> tuple:
        parts = [self.conjunction()]
        while self.operator("OR"):
            parts.append(self.conjunction("OR"))
        return parts[0] if len(parts) == 1 else ("or", parts)

    def conjunction(self, after: str | None = None) -> tuple:
        """Words side by side must all occur; and since a name is written joined or split, such a run of bare
        words («کیم جونگ اون») also matches as one phrase of them («کیم‌جونگ‌اون»)."""
        parts, runs = [self.negation(after)], [[0]]
        while True:
            lex = self.peek()
            if lex is None or lex[0] == ")" or (lex[0] == "op" and lex[1] == "OR"):
                break
            explicit = self.operator("AND")
            parts.append(self.negation("AND" if explicit else None))
            bare = not explicit and _bare(parts[-1]) and _bare(parts[-2])
            runs[-1].append(len(parts) - 1) if bare else runs.append([len(parts) - 1])
        grouped = []
        for run in runs:
            nodes = [parts[i] for i in run]
            if len(nodes) == 1:
                grouped.append(nodes[0])
                continue
            units = [n[1] for n in nodes]
            joined = Unit(" ".join(u.raw for u in units), tuple(w for u in units for w in u.words), units[-1].prefix)
            grouped.append(("or", [("and", nodes), ("unit", joined)]))
        return grouped[0] if len(grouped) == 1 else ("and", grouped)

    def negation(self, after: str | None = None) -> tuple:
        node = self.primary(after)
        while self.operator("NOT"):
            node = ("not", node, self.primary("NOT"))
        return node

    def primary(self, after: str | None) -> tuple:
        lex = self.peek()
        if lex is None or lex[0] == ")" or lex[0] == "op":
            where = f"at character {lex[2] + 1}" if lex else "at the end"
            if after:
                raise QueryError(f"query: {after} needs a word or phrase after it ({where})")
            if lex and lex[0] == "op":
                hint = " (FTS5's NOT is binary: write `a NOT b`)" if lex[1] == "NOT" else ""
                raise QueryError(f"query: {lex[1]} needs a word or phrase before it ({where}){hint}")
            raise QueryError(f"query: a word or phrase is missing {where}")
        self.pos += 1
        kind, raw, at = lex
        if kind == "(":
            node = self.expression()
            close = self.peek()
            if close is None or close[0] != ")":
                raise QueryError(f"query: the ( at character {at + 1} is never closed")
            self.pos += 1
            return node
        prefix = raw.endswith("*")
        body = raw.rstrip("*")
        if kind == "phrase":
            body = body[1:-1]
        words = tuple(Words(body).texts)
        if not words:
            what = "a * must follow a word" if prefix and not body.strip('"') else \
                f"{raw!r} has no letters or digits to search for"
            raise QueryError(f"query: {what} (character {at + 1})")
        return ("unit", Unit(raw, words, prefix))


def _bare(node: tuple) -> bool:
    """A word typed without quotes (a * only at the end of a run: checked where it is joined)."""
    return node[0] == "unit" and not node[1].raw.startswith('"')


# ------------------------------------------------------------------------------------------ to FTS5
def alternatives(unit: Unit, known: Callable[[list[str], list[str]], set[str]]) -> list[tuple[str, ...]]:
    """The splits of a unit's compact form into words the index holds, fewest words first (see the module
    docstring); a prefix unit's last piece ends with "*". `known(terms, prefixes)` answers which terms exist
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


# ------------------------------------------------------------------------------------------ hits
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


# ------------------------------------------------------------------------------------------ the reader
def run(store: Any, text: str, *, where: Sequence[str] = (), params: Sequence[Any] = (),
        limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The items matching a query (parse), best first, each an items row with its matches, "rank" (bm25,
    lower is better) and "hit" (the first hit: field, start, end, text as written, snippet; see first_hit).
    `where`/`params`: item filters (store.items.filters)."""
    query = parse(text)
    expr, alts = expression(query, store.search.known_terms)
    rows = store.search.query(expr, where=where, params=params, limit=limit)
    store.items.attach_matches(rows)
    positive = [a for u in query.units(positive_only=True) for a in alts.get(u, [])]
    for row in rows:
        texts = store.search.texts(row["id"])
        row["hit"] = first_hit(texts, positive) if texts else None
        yield row


def first_hit(texts: tuple[str, str, str | None], alts: Sequence[tuple[str, ...]]) -> dict[str, Any] | None:
    """Where an item's first hit is: in the text first, then the article text, then the title (shown beside the
    hit anyway: the text's sentence says more); with the sentence around it in display form, and the
    [start, end) of the hits in that snippet ("marks")."""
    from monitor.match import snippet
    from monitor.report import clean
    from monitor.text import display

    title, body, article = texts
    for field, text in (("text", body), ("article_text", article), ("title", title)):
        if not text:
            continue
        spans = find_hits(text, alts)
        if spans:
            start, end = spans[0]
            shown = clean(display(snippet(text, start, end)))
            return {"field": field, "start": start, "end": end, "text": text[start:end], "snippet": shown,
                    "marks": [list(span) for span in find_hits(shown, alts)]}
    return None
