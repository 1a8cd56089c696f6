"""The full-text index of stored items (store.search): an SQLite FTS5 table over the monitor's own fold.

Why FTS5 over pre-folded words rather than over the stored text: FTS5's tokenizers do not fold «مؤتلفه» to
«موتلفه», strip harakat, unify yeh/kaf or keep «می‌شود» one word. The caller (monitor.search.index_text) gives
each item's title and text as its folded words joined by spaces, and the table's `ascii` tokenizer only splits
them at the spaces (every non-ASCII character is a token character to it), so an indexed term is exactly one
folded word, and a query folded the same way finds every spelling of it.

The table is contentless (content=''): the words are the items' own texts folded, and storing them a second
time would double what an item costs on disk and in a poll's writes (6.4 KB an item with content, 2.3 KB
without, on the farm). A contentless row is taken out by giving FTS5 the very words it was given, so the room
never deletes on its own: monitor.search.catch_up computes the words again from the stored texts (titles and
bodies never change; the article words indexed are kept in `search_articles`) under the same fold, whose
scheme is recorded in meta ("search_scheme": a different fold empties the index and indexes everything again).

Rows are written with the items, in the same transaction (`add`); items that need their words (again) wait
in `search_pending` (an existing database when the index arrived, an item whose article text came later:
`reindex`) until catch_up indexes them, in batches that commit one by one. The table's rowid is the item id.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Iterable, Sequence

from monitor.errors import UsageError
from monitor.store.db import Db

TABLE = "search"
PENDING = "search_pending"
ARTICLES = "search_articles"
RANKED = 20_000  # the newest matches ranked by bm25 (see Search.query)
# An item's row as Items.query gives it (without matches).
ITEM_COLUMNS = ("id", "guid", "feed", "title", "link", "published", "fetched_at", "status", "dup_kind", "dup_ref",
                "dup_score", "dup_reason", "body_source", "page_status", "page_reason")


class Search:
    """The search index of one database (store.search)."""

    def __init__(self, db: Db) -> None:
        self._db = db
        self._article_column: bool | None = None
        self._pending: list[tuple[int, str, str, str | None]] = []  # rows waiting for the commit (see add)

    # ---------------------------------------------------------------- state
    def exists(self) -> bool:
        """Whether this database has the index at all (a read-only open of a database not migrated yet has not)."""
        return self._db.has_table(TABLE)

    def pending(self) -> int:
        """How many items wait to be indexed (again)."""
        return self._db.one(f"SELECT count(*) FROM {PENDING}")

    # ---------------------------------------------------------------- writes
    def add(self, docs: Iterable[tuple[int, str, str, str | None]]) -> None:
        """Index items just inserted: (item id, title words, body words, article words or None), each folded
        words with spaces between them (monitor.search.index_text); the body's and article's are one column.

        Inside a transaction the rows wait in memory and are written just before the commit (CommitHooks), as
        the fingerprints are: FTS5 writes its pending terms out as a new segment at every savepoint, and each
        feed of a poll is a savepoint, so rows written feed by feed cost half as much again in segments and
        their merging (speed issue: the cold farm poll)."""
        if self._db.deferring and self._db.in_transaction:
            self._pending.extend(docs)
            return
        self._write(list(docs))

    def _write(self, docs: list[tuple[int, str, str, str | None]]) -> None:
        self._db.executemany(f"INSERT INTO {TABLE} (rowid, title, text) VALUES (?, ?, ?)", index_rows(docs))
        self._db.executemany(f"INSERT OR REPLACE INTO {ARTICLES} (item_id, words) VALUES (?, ?)",
                                  [(d[0], d[3]) for d in docs if d[3]])

    def before_commit(self) -> None:
        if self._pending:
            docs, self._pending = self._pending, []
            self._write(docs)

    def after_commit(self) -> None:
        pass

    def savepoint_mark(self) -> int:
        return len(self._pending)

    def rolled_back(self, mark: int) -> None:
        del self._pending[mark:]

    def reindex(self, item_ids: Iterable[int]) -> None:
        """Queue items whose text changed (article text fetched later) to be indexed again, in the caller's
        transaction; until monitor.search.catch_up does it (the next poll cycle, daemon cycle or `monitor
        search`), their old words stay searchable. Called before or after the text changes, alike."""
        self._db.executemany(f"INSERT OR IGNORE INTO {PENDING} (item_id) VALUES (?)",
                                  [(i,) for i in sorted(set(item_ids))])

    def pending_batch(self, limit: int) -> list[tuple[int, bool, str | None, str, str | None, str | None]]:
        """The first `limit` items waiting, by id: (id, indexed now?, title (None: no such item), body, article
        text or None, article words indexed or None)."""
        article = "i.article_text" if self._has_article_text() else "NULL"
        return [(r[0], bool(r[1]), r[2], r[3], r[4], r[5]) for r in self._db.execute(
            f"SELECT p.item_id, EXISTS (SELECT 1 FROM {TABLE}_docsize d WHERE d.id = p.item_id),"
            f" i.title, coalesce(i.body, ''), {article}, a.words FROM {PENDING} p"
            f" LEFT JOIN items i ON i.id = p.item_id LEFT JOIN {ARTICLES} a ON a.item_id = p.item_id"
            " ORDER BY p.item_id LIMIT ?", [limit])]

    def index_pending(self, old: Sequence[tuple[int, str, str, str | None]],
                      new: Sequence[tuple[int, str, str, str | None]], done: Sequence[int]) -> None:
        """Replace the rows of items taken from pending_batch and mark them done; call inside one transaction.
        `old`: the rows of those indexed now, with exactly the words they went in with; `new`: the rows to index
        (both as `add` takes them)."""
        self._db.executemany(f"INSERT INTO {TABLE} ({TABLE}, rowid, title, text) VALUES ('delete', ?, ?, ?)",
                                  index_rows(old))
        self._db.executemany(f"DELETE FROM {ARTICLES} WHERE item_id = ?", [(i,) for i in done])
        self.add(new)
        self._db.executemany(f"DELETE FROM {PENDING} WHERE item_id = ?", [(i,) for i in done])

    def restart(self) -> None:
        """Empty the index and queue every item, for words made another way (a changed fold): contentless rows
        can only be taken out with the words they were given. Call inside one transaction."""
        self._db.execute(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('delete-all')")
        self._db.execute(f"DELETE FROM {ARTICLES}")
        self._db.execute(f"INSERT OR IGNORE INTO {PENDING} (item_id) SELECT id FROM items")

    def queue_unindexed(self, item_ids: Iterable[int]) -> None:
        """Queue items stored without index rows (a bulk load that leaves the index to catch_up)."""
        self.reindex(item_ids)

    # ---------------------------------------------------------------- reads
    def known_terms(self, terms: Sequence[str], prefixes: Sequence[str] = ()) -> set[str]:
        """Of `terms`, those some indexed item holds; of `prefixes`, those some indexed word starts with (each
        returned with a trailing "*"). One probe each, stopping at the first row: cheap even for common words."""
        found: set[str] = set()
        for term, expr in [(t, _quote(t)) for t in dict.fromkeys(terms)] + \
                          [(p + "*", _quote(p) + "*") for p in dict.fromkeys(prefixes)]:
            row = self._db.execute(f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH ? LIMIT 1", [expr]).fetchone()
            if row is not None:
                found.add(term)
        return found

    def query(self, expression: str, *, where: Sequence[str] = (), params: Sequence[Any] = (),
              limit: int | None = None) -> list[dict[str, Any]]:
        """Items whose index matches the FTS5 `expression`, best first: bm25 (a hit in the title weighs three
        times one in the text), then newest. `where`/`params` are item filters over the alias `i` (see
        Items.filters). Each row is an items row (as Items.query gives, without matches) plus "rank" (bm25:
        lower is better). An expression FTS5 refuses is a UsageError naming it.

        Only the RANKED newest matches (by id, which grows with fetch time) are ranked: bm25 costs about a
        microsecond a match, and a common word matches a fifth of a million-item database (speed issue: 0.5 s
        for one word). FTS5 yields matches in descending id order by itself and computes bm25 only for the rows
        it yields, so the cap bounds the work; the items rows are read only for the filters and the page."""
        inner = (f"SELECT {TABLE}.rowid AS id, bm25({TABLE}, 3.0, 1.0) AS rank FROM {TABLE}"
                 + (f" JOIN items i ON i.id = {TABLE}.rowid" if where else "")
                 + f" WHERE {TABLE} MATCH ?" + "".join(f" AND {cond}" for cond in where)
                 + f" ORDER BY {TABLE}.rowid DESC LIMIT {RANKED}")
        # The page is cut by rank first, keeping every row tied with its last (copies of one article have the
        # same bm25, and the date orders them), and only then are items rows read for the page.
        cut = "" if limit is None else \
            f" WHERE m.rank <= (SELECT max(rank) FROM (SELECT rank FROM m ORDER BY rank LIMIT {int(limit)}))"
        sql = (f"WITH m AS MATERIALIZED ({inner})"
               f" SELECT {', '.join('i.' + k for k in ITEM_COLUMNS)}, m.rank FROM m JOIN items i ON i.id = m.id"
               f"{cut} ORDER BY m.rank, coalesce(i.published, i.fetched_at) DESC, i.id DESC")
        args: list[Any] = [expression, *params]
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        keys = [*ITEM_COLUMNS, "rank"]
        try:
            return [dict(zip(keys, r)) for r in self._db.execute(sql, args)]
        except sqlite3.OperationalError as exc:
            if "fts5" in str(exc) or "syntax" in str(exc):
                raise UsageError(f"the search index refused the query ({exc})") from None
            raise

    def count(self, expression: str) -> int:
        """How many items match (all of them, not only the RANKED newest), without reading any item."""
        return self._db.one(f"SELECT count(*) FROM {TABLE} WHERE {TABLE} MATCH ?", [expression])

    def texts(self, item_id: int) -> tuple[str, str, str | None] | None:
        """(title, body, article text or None) of one item, or None when there is no such item."""
        article = "article_text" if self._has_article_text() else "NULL"
        row = self._db.execute(f"SELECT title, body, {article} FROM items WHERE id = ?", [item_id]).fetchone()
        return tuple(row) if row else None

    # ---------------------------------------------------------------- one item whole (monitor show)
    def item(self, item_id: int) -> dict[str, Any] | None:
        """One item's row, as Items.query gives it (without matches), or None."""
        row = self._db.execute(f"SELECT {', '.join(ITEM_COLUMNS)} FROM items WHERE id = ?", [item_id]).fetchone()
        return dict(zip(ITEM_COLUMNS, row)) if row else None

    def copies(self, kind: str, ref: str) -> list[dict[str, Any]]:
        """The items stored as duplicates of a corpus document or an item (kind "corpus" or "item"), by id."""
        keys = ["id", "feed", "title", "link", "published", "dup_score"]
        return [dict(zip(keys, r)) for r in self._db.execute(
            f"SELECT {', '.join(keys)} FROM items WHERE status = 'duplicate' AND dup_kind = ? AND dup_ref = ?"
            " ORDER BY id", [kind, ref])]

    def _has_article_text(self) -> bool:
        """Whether items has the article_text column (issue 13 adds it in its own migration)."""
        if self._article_column is None:
            self._article_column = self._db.has_column("items", "article_text")
        return self._article_column


def index_rows(docs: Iterable[tuple[int, str, str, str | None]]) -> list[tuple[int, str, str]]:
    """(rowid, title, text) of the table: the body's words, then the article's."""
    return [(item_id, title, f"{body} {article}" if article else body) for item_id, title, body, article in docs]


def _quote(term: str) -> str:
    """A term as an FTS5 string (double quotes doubled), so no word is read as an operator."""
    return '"' + term.replace('"', '""') + '"'


__all__ = ["ARTICLES", "PENDING", "RANKED", "Search", "TABLE", "index_rows"]
