"""What the analyst decided about items on the web page (monitor.web): read, starred, and "not relevant" for
one of an item's watch entries. Kept apart from the items and their matches, which polls and re-matches
rewrite: a triage mark is a person's, and survives both (and a server restart)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable

from monitor.store.db import Db, chunks

FLAGS = ("read", "starred")


def _now() -> str:
    """Now in UTC, as every stored time (a parameter, not SQL: both stores' SQL then read the same)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


class Triage:
    """The triage marks of one database (store.triage)."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def available(self) -> bool:
        """Whether the database has the triage tables (m012): one opened read-only before any write has none."""
        return self._db.has_table("triage")

    def set_flag(self, item_id: int, flag: str, value: bool) -> None:
        """Mark an item read or starred (or not)."""
        if flag not in FLAGS:
            raise ValueError(f"a triage flag is one of {', '.join(FLAGS)}, not {flag!r}")
        self._db.execute(f"INSERT INTO triage (item_id, {flag}, updated_at) VALUES (?, ?, ?) ON CONFLICT(item_id)"
                         f" DO UPDATE SET {flag} = excluded.{flag}, updated_at = excluded.updated_at",
                         [item_id, int(value), _now()])

    def set_not_relevant(self, item_id: int, watch: str, value: bool) -> None:
        """Say (or take back) that an item's match of one watch entry is a false alarm."""
        if value:
            self._db.execute("INSERT OR IGNORE INTO triage_not_relevant (item_id, watch, at)"
                             " VALUES (?, ?, ?)", [item_id, watch, _now()])
        else:
            self._db.execute("DELETE FROM triage_not_relevant WHERE item_id = ? AND watch = ?", [item_id, watch])

    def of(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """{item id: {"read", "starred", "not_relevant": [watch names]}} for the ids that have any mark."""
        found: dict[int, dict[str, Any]] = {}
        if not self.available():
            return found
        for batch in chunks(list(ids), 500):
            marks = ",".join("?" * len(batch))
            for item_id, read, starred in self._db.execute(
                    f"SELECT item_id, read, starred FROM triage WHERE item_id IN ({marks})", batch):
                found[item_id] = {"read": bool(read), "starred": bool(starred), "not_relevant": []}
            for item_id, watch in self._db.execute(
                    f"SELECT item_id, watch FROM triage_not_relevant WHERE item_id IN ({marks}) ORDER BY watch",
                    batch):
                found.setdefault(item_id, {"read": False, "starred": False, "not_relevant": []})
                found[item_id]["not_relevant"].append(watch)
        return found

    def attach(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each row with its "triage" ({"read", "starred", "not_relevant"}; all false and empty when unmarked)."""
        marks = self.of(r["id"] for r in rows)
        for r in rows:
            r["triage"] = marks.get(r["id"]) or {"read": False, "starred": False, "not_relevant": []}
        return rows


__all__ = ["FLAGS", "Triage"]
