"""The search index on PostgreSQL: a tsvector per item built from the SAME folded words SQLite's FTS5 table gets
(monitor.search.index_text), and each FTS5 expression the search module makes (monitor/search/plan.py) turned
into the tsquery that finds the same items.

Why tsvector literals and not to_tsvector('simple', ...): PostgreSQL's parser would cut the folded words again
(at a ZWNJ, at Persian punctuation) and lower-case non-ASCII letters, so a term would no longer be exactly one
folded word. The literal form ('word':3) takes each word as written; this module splits them only where FTS5's
`ascii` tokenizer does (ASCII non-alphanumerics) and lower-cases ASCII letters as it does, so both stores index
the same terms. The title's words carry weight A and come first; the text's positions start two after them, so
a phrase never runs from the title into the text (FTS5's phrases stay within a column). An item is one row, as
it is one FTS5 row, so `a AND b` matches a title holding a and a text holding b on both.

What differs: the order within the results (ts_rank with a title word weighing three times a text word, not
bm25), and positions past 16,383 words into a text, which PostgreSQL holds at 16,383 (a phrase that far into
a very long article may then match loosely). The result sets are the same.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Sequence

from monitor.errors import UsageError
from monitor.store.search import ARTICLES, ITEM_COLUMNS, PENDING, RANKED, TABLE, Search, index_rows

_SPLIT = re.compile(r"[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+")  # FTS5 ascii: every non-alphanumeric ASCII
_FTS = re.compile(r'"((?:[^"]|"")*)"(\*?)|\(|\)|\bAND\b|\bOR\b|\bNOT\b|\s+')
MAX_POSITION = 16383
WEIGHTS = "{0.3, 0.3, 0.3, 0.9}"  # ts_rank's D, C, B, A (each at most 1): a title word weighs three text words


def tokens(words: str) -> list[str]:
    """Terms of folded words as FTS5's ascii tokenizer cuts them: at ASCII non-alphanumerics, ASCII lower-cased."""
    return [t for t in _SPLIT.split(words.translate(_LOWER)) if t]


_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _lexeme(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


_POSITIONS = [str(i) for i in range(MAX_POSITION + 1)]


def vector(title: str, text: str) -> str:
    """The tsvector literal of an item's title words and text words (see the module's docstring). Positions
    past MAX_POSITION are all MAX_POSITION, as PostgreSQL would make them; a lexeme keeps its first 256."""
    positions: dict[str, list[str]] = {}
    title_terms = tokens(title)
    for i, term in enumerate(title_terms, 1):
        positions.setdefault(term, []).append(_POSITIONS[min(i, MAX_POSITION)] + "A")
    for i, term in enumerate(tokens(text), len(title_terms) + 2):
        positions.setdefault(term, []).append(_POSITIONS[min(i, MAX_POSITION)])
    return " ".join([f"{_lexeme(t)}:{','.join(p[:256])}" for t, p in positions.items()])  # duplicates: PG drops


def tsquery(expression: str) -> str:
    """The tsquery of an FTS5 expression as monitor.search.plan writes them: phrases ("a b", "a b"* for a
    prefix), AND, OR, binary NOT, parentheses. Anything else is refused (UsageError), as FTS5 would."""
    out: list[str] = []
    pos = 0
    while pos < len(expression):
        m = _FTS.match(expression, pos)
        if not m:
            raise UsageError(f"the search index refused the query (cannot read {expression[pos:pos + 20]!r})")
        pos = m.end()
        token = m.group(0)
        if m.group(1) is not None or token.startswith('"'):
            terms = tokens(m.group(1).replace('""', '"'))
            if not terms:
                raise UsageError("the search index refused the query (an empty phrase)")
            lexemes = [_lexeme(t) for t in terms]
            if m.group(2):
                lexemes[-1] += ":*"
            out.append("(" + " <-> ".join(lexemes) + ")")
        elif token in ("(", ")"):
            out.append(token)
        elif token == "AND":
            out.append("&")
        elif token == "OR":
            out.append("|")
        elif token == "NOT":
            out.append("& !")
    return " ".join(out)


class PgSearch(Search):
    """store.search on PostgreSQL: the same interface and the same result sets as the FTS5 room.

    Rows are written just after the commit of the items they index, in a transaction of their own, not before
    it as on SQLite: the storing transaction holds the verdict lock (PgDb.lock_verdicts), which every worker
    waits for, and building and indexing the vectors was a third of its time. Crash-safe all the same: the items
    are queued in search_pending inside the storing transaction, and the second one takes them off; if it never
    runs, monitor.search.catch_up indexes them (the next cycle's housekeeping, or `monitor search` itself)."""

    def __init__(self, db: Any) -> None:
        super().__init__(db)
        self._committed: list[tuple[int, str, str, str | None]] = []

    def before_commit(self) -> None:
        if self._pending:
            docs, self._pending = self._pending, []
            self._db.execute(f"INSERT INTO {PENDING} (item_id) SELECT * FROM unnest(?::bigint[])"
                             " ON CONFLICT DO NOTHING", [[d[0] for d in docs]])
            self._committed.extend(docs)

    def after_commit(self) -> None:
        if not self._committed:
            return
        docs, self._committed = self._committed, []
        try:
            with self._db.transaction():
                self._write(docs)
                self._db.execute(f"DELETE FROM {PENDING} WHERE item_id = ANY(?)", [[d[0] for d in docs]])
        except Exception:  # noqa: BLE001 - the items stay queued: catch_up indexes them (see the docstring)
            pass

    def rolled_back(self, mark: int) -> None:
        del self._pending[mark:]
        if not mark:
            self._committed = []

    def _write(self, docs: list[tuple[int, str, str, str | None]]) -> None:
        """One statement over arrays for all rows (a row per parameter set cost a round of the wire protocol
        each, inside the transaction that holds the verdict lock)."""
        rows = index_rows(docs)
        if rows:
            self._db.execute(f"INSERT INTO {TABLE} (item_id, words) SELECT i, v::tsvector FROM"
                             " unnest(?::bigint[], ?::text[]) AS r(i, v) ON CONFLICT (item_id)"
                             " DO UPDATE SET words = excluded.words",
                             [[r[0] for r in rows], [vector(title, text) for _, title, text in rows]])
        articles = [(d[0], d[3]) for d in docs if d[3]]
        if articles:
            self._db.executemany(f"INSERT INTO {ARTICLES} (item_id, words) VALUES (?, ?) ON CONFLICT (item_id)"
                                 " DO UPDATE SET words = excluded.words", articles)

    def pending_batch(self, limit: int) -> list[tuple[int, bool, str | None, str, str | None, str | None]]:
        return [(r[0], bool(r[1]), r[2], r[3], r[4], r[5]) for r in self._db.execute(
            f"SELECT p.item_id, EXISTS (SELECT 1 FROM {TABLE} s WHERE s.item_id = p.item_id),"
            f" i.title, coalesce(i.body, ''), i.article_text, a.words FROM {PENDING} p"
            f" LEFT JOIN items i ON i.id = p.item_id LEFT JOIN {ARTICLES} a ON a.item_id = p.item_id"
            " ORDER BY p.item_id LIMIT ?", [limit])]

    def index_pending(self, old: Sequence[tuple[int, str, str, str | None]],
                      new: Sequence[tuple[int, str, str, str | None]], done: Sequence[int]) -> None:
        """A row is taken out by its item id here (FTS5 needed the old words; `old` is not needed)."""
        ids = [(i,) for i in done]
        self._db.executemany(f"DELETE FROM {TABLE} WHERE item_id = ?", ids)
        self._db.executemany(f"DELETE FROM {ARTICLES} WHERE item_id = ?", ids)
        self.add(new)
        self._db.executemany(f"DELETE FROM {PENDING} WHERE item_id = ?", ids)

    def restart(self) -> None:
        self._db.execute(f"DELETE FROM {TABLE}")
        self._db.execute(f"DELETE FROM {ARTICLES}")
        self._db.execute(f"INSERT OR IGNORE INTO {PENDING} (item_id) SELECT id FROM items")

    def known_terms(self, terms: Sequence[str], prefixes: Sequence[str] = ()) -> set[str]:
        found: set[str] = set()
        for term, expr in [(t, tsquery(f'"{_q(t)}"')) for t in dict.fromkeys(terms)] + \
                          [(p + "*", tsquery(f'"{_q(p)}"*')) for p in dict.fromkeys(prefixes)]:
            if self._db.one(f"SELECT 1 FROM {TABLE} WHERE words @@ ?::tsquery LIMIT 1", [expr]) is not None:
                found.add(term)
        return found

    def query(self, expression: str, *, where: Sequence[str] = (), params: Sequence[Any] = (),
              limit: int | None = None) -> list[dict[str, Any]]:
        """As Search.query: the RANKED newest matches ranked, rank lower-is-better (minus ts_rank)."""
        import psycopg

        inner = (f"SELECT s.item_id AS id, -ts_rank('{WEIGHTS}', s.words, q.q) AS rank"
                 f" FROM (SELECT ?::tsquery AS q) q JOIN {TABLE} s ON s.words @@ q.q"
                 + (" JOIN items i ON i.id = s.item_id" if where else "")
                 + "".join(f" AND {cond}" for cond in where)
                 + f" ORDER BY s.item_id DESC LIMIT {RANKED}")
        cut = "" if limit is None else \
            f" WHERE m.rank <= (SELECT max(rank) FROM (SELECT rank FROM m ORDER BY rank LIMIT {int(limit)}) t)"
        sql = (f"WITH m AS MATERIALIZED ({inner})"
               f" SELECT {', '.join('i.' + k for k in ITEM_COLUMNS)}, m.rank FROM m JOIN items i ON i.id = m.id"
               f"{cut} ORDER BY m.rank, coalesce(i.published, i.fetched_at) DESC, i.id DESC")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        keys = [*ITEM_COLUMNS, "rank"]
        try:
            return [dict(zip(keys, r)) for r in self._db.execute(sql, [tsquery(expression), *params])]
        except (psycopg.errors.SyntaxError, psycopg.errors.InvalidTextRepresentation) as exc:
            raise UsageError(f"the search index refused the query ({str(exc).splitlines()[0]})") from None

    def count(self, expression: str) -> int:
        return self._db.one(f"SELECT count(*) FROM {TABLE} WHERE words @@ ?::tsquery", [tsquery(expression)])

    def queue_unindexed(self, item_ids: Iterable[int]) -> None:
        self.reindex(item_ids)


def _q(term: str) -> str:
    return term.replace('"', '""')


__all__ = ["PgSearch", "tokens", "tsquery", "vector"]
