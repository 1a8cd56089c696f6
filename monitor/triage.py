""""Not relevant": from one false alarm to `exclude:` phrases for its watch entry, with what it would change.

Why a proposal and not an edit: config.yaml is the analyst's (comments, order, other machines read it); the
monitor never rewrites it. Each phrase is a hit as written with the word after it (the word before when the
hit ends its line): an exclude drops a hit it fully covers (monitor.match), so the item's hits are dropped, and
with them only the hits written in those same phrases elsewhere. What that would change is counted with the
matcher itself, over the judged texts of the items that matched the entry (store.items.matched_texts: the texts
`monitor rematch` reads), so the counts are what a rematch with the phrases added then does.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from monitor.models import WatchEntry

_WORD = re.compile(r"\w[\w\u200c-]*")  # a word (with half-spaces and hyphens), not a colon after the hit


def propose(store: Any, watch: tuple[WatchEntry, ...], item_id: int, name: str) -> dict[str, Any] | None:
    """{"watch", "phrases", "loses", "unflags"} for marking item_id's match of entry `name` not relevant: the
    phrases to add to the entry's exclude (one for each different way the item mentions it: every hit must be
    covered), `loses` stored items would then no longer match the entry, `unflags` of them would no longer be
    flagged. None when the item holds no hit of that entry (the config changed since it was matched)."""
    from monitor.match import Matcher
    from monitor.text import strip_boilerplate

    entry = next((w for w in watch if w.name == name), None)
    rows = store.items.rematch_batch(item_id - 1, 1)
    if entry is None or not rows or rows[0][0] != item_id:
        return None
    _, title, body, _ = rows[0]
    text = f"{title}\n{strip_boilerplate(body)}"
    hits = [h for h in Matcher([entry]).find(text)]
    if not hits:
        return None
    phrases = tuple(dict.fromkeys(_phrase(text, h.start, h.end) for h in hits))
    narrowed = Matcher([dataclasses.replace(entry, exclude=(*entry.exclude, *phrases))])
    loses = unflags = 0
    for _, row_title, row_body, status, entries in store.items.matched_texts(name):
        if not narrowed.item_matches(row_title, row_body):
            loses += 1
            unflags += status == "new" and entries == 1
    return {"watch": name, "phrases": list(phrases), "loses": loses, "unflags": unflags}


def _phrase(text: str, start: int, end: int) -> str:
    """The hit with the next word on its line (or the one before): a phrase that covers this hit."""
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    after = _WORD.search(text, end, line_end)
    if after:
        return text[start:after.end()]
    line_start = text.rfind("\n", 0, start) + 1
    before = [m for m in _WORD.finditer(text, line_start, start)]
    return text[before[-1].start():end] if before else text[start:end]
