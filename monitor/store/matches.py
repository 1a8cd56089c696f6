"""Which watch entries each stored item matched: written with the item, replaced by the re-match after a
watch-list edit."""

from __future__ import annotations

import json
from typing import Sequence

from monitor.models import Match
from monitor.store.db import Db


class Matches:
    """The matches of one database (store.matches)."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def add_many(self, matches: Sequence[tuple[int, Match]]) -> None:
        """The matches of items just inserted, as (item id, match) pairs."""
        if matches:
            self._db.executemany(
                "INSERT INTO matches (item_id, watch, kind, terms, count, snippet) VALUES (?, ?, ?, ?, ?, ?)",
                [(item_id, m.watch, m.kind, json.dumps(list(m.terms), ensure_ascii=False), m.count, m.snippet)
                 for item_id, m in matches])

    def replace(self, item_id: int, matches: Sequence[Match]) -> None:
        """An item's matches, instead of those it had."""
        self._db.execute("DELETE FROM matches WHERE item_id = ?", [item_id])
        self.add_many([(item_id, m) for m in matches])


__all__ = ["Matches"]
