"""`monitor show ID`: one stored item whole, a reader of the store like report and search.

What an analyst opening an id from a report wants in one place: the feed's text (and the article text where
the page was fetched), where each watch entry matched (positions found again with the same matcher), the
duplicate verdict followed to its root (a duplicate of a duplicate names the original corpus document or first
item, with the weaker score of the chain), the other copies of that root, and the item's story.
"""

from __future__ import annotations

from typing import Any

from monitor.errors import UsageError

__all__ = ["item_whole"]

FIELDS = ("title", "text", "article_text")


def item_whole(store: Any, item_id: int, matcher: Any = None) -> dict[str, Any]:
    """The JSON shape of `monitor show`: the items shape plus "text", "article_text", "root", "copies" and
    "story"; each match gains "positions" ({field, start, end, text}) when a matcher is given."""
    from monitor.report import item_record

    row = store.search.item(item_id)
    if row is None:
        raise UsageError(f"no item with id {item_id} in {store.path}")
    store.items.attach_matches([row])
    store.triage.attach([row])  # the items shape carries the web page's marks
    title, body, article = store.search.texts(item_id)
    record = item_record(row)
    if matcher is not None:
        hits: dict[str, list[dict[str, Any]]] = {}
        for field, text in zip(FIELDS, (title, body, article)):
            for h in matcher.find(text or ""):
                hits.setdefault(h.watch, []).append(
                    {"field": field, "start": h.start, "end": h.end, "text": text[h.start:h.end]})
        for m in record["matches"]:
            m["positions"] = hits.get(m["watch"], [])
    root = _root(store, row)
    record.update(text=body, article_text=article, root=root, copies=_copies(store, row, root),
                  story=_story(store, item_id))
    return record


def _root(store: Any, row: dict[str, Any]) -> dict[str, Any] | None:
    """What the item is a copy of, followed to the end of the chain; None for an item that is no copy."""
    if row["status"] != "duplicate" or not row["dup_kind"]:
        return None
    seen, score, current = {row["id"]}, row["dup_score"], row
    while current["dup_kind"] == "item" and str(current["dup_ref"]).isdigit():
        target = store.search.item(int(current["dup_ref"]))
        if target is None or target["id"] in seen:
            break
        seen.add(target["id"])
        if target["status"] != "duplicate" or not target["dup_kind"]:
            return {"kind": "item", "ref": target["id"], "feed": target["feed"], "title": target["title"],
                    "link": target["link"], "published": target["published"], "score": score}
        score = _weaker(score, target["dup_score"])
        current = target
    if current["dup_kind"] == "corpus":
        doc = next((d for d in store.corpus.docs() if d["ref"] == current["dup_ref"]), None)
        return {"kind": "corpus", "ref": current["dup_ref"], "title": doc["title"] if doc else None,
                "path": doc["path"] if doc else None, "score": score}
    return {"kind": "item", "ref": int(current["dup_ref"]) if str(current["dup_ref"]).isdigit()
            else current["dup_ref"], "feed": None, "title": None, "link": None, "published": None, "score": score}


def _copies(store: Any, row: dict[str, Any], root: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The other items stored as copies of the same root (of this item, when it is the original), by id;
    copies of copies too (a database from before verdicts named the root)."""
    if root is None:
        kind, ref = "item", row["id"]
    else:
        kind, ref = root["kind"], root["ref"]
    found: dict[int, dict[str, Any]] = {}
    frontier = [(kind, str(ref))]
    while frontier:
        kind, ref = frontier.pop()
        for copy in store.search.copies(kind, ref):
            if copy["id"] not in found:
                found[copy["id"]] = {**copy, "score": copy.pop("dup_score")}
                frontier.append(("item", str(copy["id"])))
    found.pop(row["id"], None)
    return [found[i] for i in sorted(found)]


def _story(store: Any, item_id: int) -> dict[str, Any] | None:
    """The item's story (monitor.stories): its id, title and how many feeds carried it, or None without one."""
    stories = getattr(store, "stories", None)
    found = stories.carried([item_id]).get(item_id) if stories is not None else None
    if found is None:
        return None
    story_id, title, feeds = found
    return {"id": story_id, "title": title, "carried_by": feeds}


def _weaker(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)
