"""Copying a monitor database to another store, SQLite to PostgreSQL or back (`monitor migrate --to`).

How: table by table in the order their references need, in batches of rows ordered by the table's first key
column, each batch one transaction of the target, rows already there left alone (INSERT OR IGNORE, which
store/pg translates to ON CONFLICT DO NOTHING). So a copy that stops part-way (Ctrl-C, a lost connection) is
resumed by running it again: each table carries on after the largest key the target holds, and whatever a
batch would copy twice is ignored. At the end the rows of every table are counted on both sides.

What is not copied: the search index itself, which is FTS5 on one side and tsvectors on the other; every item is
queued for it instead (search_pending), and monitor.search.catch_up builds it on the target (`monitor migrate`
calls it last; a first use would too: `monitor search`, a poll or a worker's start). The target's own migration
records stay its own. Identity sequences on PostgreSQL are moved past the copied ids, so new items do not
collide with copied ones.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from monitor.store.items import Items

# (table, the columns to order and resume by). Small tables keyed by text are copied whole each time (their
# text order differs between the stores' collations, and they are small); None marks them.
TABLES: list[tuple[str, str | None]] = [
    ("feeds", None), ("meta", None), ("corpus_docs", None), ("hosts", None),
    ("items", "id"), ("matches", "item_id, rowid"), ("fingerprints", "hash"), ("outbox", "id"),
    ("stories", "id"), ("story_items", "item_id"), ("triage", "item_id"), ("triage_not_relevant", "item_id"),
]
NOT_COPIED = ("search", "search_articles", "search_pending")  # rebuilt on the target (see the docstring)
BATCH = 5000


def _columns(db: Any, table: str) -> list[str]:
    if db.dialect == "sqlite":
        return [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
    return [r[0] for r in db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND table_name = ? ORDER BY ordinal_position", [table])]


def plan(source: Any, target: Any) -> list[tuple[str, int]]:
    """(table, rows in the source) of every table copied that the source has."""
    return [(table, source.one(f"SELECT count(*) FROM {table}")) for table, _ in TABLES if source.has_table(table)]


def copy(source: Any, target: Any, progress: Callable[[str, int], None] | None = None,
         batch: int = BATCH) -> None:
    """Copy every table of `source` (a Db, read-only is enough) into `target` (a migrated Db), resuming after
    what the target holds; `progress(table, rows)` after each batch."""
    for table, order in TABLES:
        if not source.has_table(table):
            continue
        columns = [c for c in _columns(source, table) if c in set(_columns(target, table)) and c != "rowid"]
        insert = (f"INSERT OR IGNORE INTO {table} ({', '.join(columns)})"
                  f" VALUES ({', '.join('?' * len(columns))})")
        for rows in _batches(source, target, table, order, columns, batch):
            with target.transaction():
                target.executemany(insert, rows)
            if progress:
                progress(table, len(rows))
    with target.transaction():  # the search index is rebuilt from the texts (see the docstring)
        target.execute("INSERT OR IGNORE INTO search_pending (item_id) SELECT id FROM items")
        Items(target).recount()  # SQLite's item_counts: the copied items were not counted as they came
    if target.dialect == "postgresql":
        for table in ("items", "outbox"):
            target.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                           f" (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")


def _batches(source: Any, target: Any, table: str, order: str | None, columns: list[str],
             batch: int) -> Iterator[list[tuple]]:
    select = f"SELECT {', '.join(columns)} FROM {table}"
    if order is None:
        yield from _chunks(source.execute(select).fetchall(), batch)
        return
    key = order.split(",")[0].strip()
    low = target.one(f"SELECT max({key}) FROM {table}")
    while True:
        where, params = (f" WHERE {key} > ?", [low]) if low is not None else ("", [])
        high = source.one(f"SELECT max({key}) FROM (SELECT {key} FROM {table}{where} ORDER BY {key} LIMIT ?) b",
                          [*params, batch])
        if high is None:
            return
        cond = f"{key} > ? AND {key} <= ?" if low is not None else f"{key} <= ?"
        rows = source.execute(f"{select} WHERE {cond} ORDER BY {order}", [*params, high]).fetchall()
        yield [tuple(r) for r in rows]
        low = high


def _chunks(rows: list, size: int) -> Iterator[list[tuple]]:
    for i in range(0, len(rows), size):
        yield [tuple(r) for r in rows[i:i + size]]


def counts(db: Any) -> dict[str, int]:
    """Rows per copied table (a table the database lacks counts 0)."""
    return {table: (db.one(f"SELECT count(*) FROM {table}") if db.has_table(table) else 0) for table, _ in TABLES}


__all__ = ["BATCH", "NOT_COPIED", "TABLES", "copy", "counts", "plan"]
