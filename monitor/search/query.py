"""The query language of `monitor search`, read here rather than by FTS5 so a query that is not one is refused
with one clear line naming what and where (exit code 2), and so each word can be folded as the index is.

Syntax (FTS5's own): words (all must occur), "a phrase", AND, OR, NOT (binary: `a NOT b`), parentheses, and a
trailing * for a prefix (`امان*`, `"محمد ع"*`). Words side by side also match as one phrase (a name is written
joined or split). Anything else FTS5 would read as syntax (`:`, `^`, `+`, `-`, NEAR) is punctuation to the fold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.errors import UsageError
from monitor.text import Words

__all__ = ["Query", "QueryError", "Unit", "parse"]


class QueryError(UsageError):
    """A query that cannot be searched (exit code 2): the message says what and where."""


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
