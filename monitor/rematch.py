"""Re-match stored items against a (new) watch list: what makes a watch-list edit apply to the past too.

Batches in id order, one transaction each, holding the writer lock only for a batch, so polls interleave with a
long re-match. Only items whose matches really changed are rewritten (a changed watch entry usually touches a
few items out of many). Used by the daemon after an edit, by `monitor poll` before a cycle when the watch list
changed since the stored matches were made, by `monitor rematch`, and by bench/rematch.py.

Every writer records the same "matched with" hash (store.meta.matched_with), so whichever of them sees an edit
first brings the matches up to date, and the read commands can tell when they would show stale flags.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, ContextManager

from monitor.models import Config

if TYPE_CHECKING:  # not imported at run time: the read commands ask is_stale() and must start fast
    from monitor.match import Matcher
    from monitor.store import Store

BATCH = 250  # items per transaction: a poll waits at most one batch for the writer lock


def watch_hash(config: Config) -> str:
    """What identifies a watch list: equal for equal lists, whoever loaded them."""
    return hashlib.sha1(repr(config.watch).encode()).hexdigest()


def is_stale(store: Store, config: Config) -> bool:
    """Whether stored items were matched with another watch list than config's (or with one never recorded)."""
    return store.meta.matched_with() != watch_hash(config) and store.items.count() > 0


@dataclass
class Progress:
    total: int
    done: int = 0
    changed: int = 0
    added: int = 0  # (item, watch entry) pairs that appeared
    removed: int = 0  # and that went
    seconds: float = 0.0
    finished: bool = False


def rematch(store: Store, matcher: Matcher, *, lock: ContextManager | None = None,
            interrupted: Callable[[], bool] = lambda: False,
            progress: Callable[[Progress], None] = lambda p: None, batch: int = BATCH,
            config: Config | None = None) -> Progress:
    """Match every stored item again; `interrupted()` is asked between batches, `progress()` told after each.
    With `config`, an item that gained a watch entry is alerted on (config.notify) only when it was fetched
    within config.notify_backfill: a watch-list edit must not flood the desk with last year's news."""
    from monitor.analyse import displayed as _displayed  # snippets stored exactly as a poll stores them

    lock = lock or contextlib.nullcontext()
    started = time.monotonic()
    with lock:
        state = Progress(total=store.items.count())
    after = 0
    while not interrupted():
        with lock:
            rows = store.items.rematch_batch(after, batch)
            if not rows:
                state.finished = True
                break
            with store.transaction():
                gained = []
                for item_id, title, body, old in rows:
                    found = matcher.item_matches(title, body)
                    new = {m.watch: (m.kind, json.dumps(list(m.terms), ensure_ascii=False), m.count) for m in found}
                    if new != old:
                        store.matches.replace(item_id, [_displayed(m) for m in found])
                        state.changed += 1
                        state.added += len(new.keys() - old.keys())
                        state.removed += len(old.keys() - new.keys())
                        if new.keys() - old.keys():
                            gained.append((item_id, found))
                if gained and config is not None and config.notify:
                    _queue_alerts(store, config, gained)
            after = rows[-1][0]
        state.done += len(rows)
        state.seconds = time.monotonic() - started
        progress(state)
    state.seconds = time.monotonic() - started
    return state


def _queue_alerts(store: Store, config: Config, gained: list) -> None:
    """Outbox rows for re-matched items that gained an entry, if new and fetched within notify_backfill."""
    from datetime import timedelta

    from monitor.dates import now_utc, to_iso
    from monitor.notify.routing import outbox_rows
    from monitor.notify.timing import stamp

    fresh = store.outbox.fresh_new_items([i for i, _ in gained],
                                         to_iso(now_utc() - timedelta(seconds=config.notify_backfill)))
    store.outbox.add([row for item_id, found in gained if item_id in fresh
                      for row in outbox_rows(config.notify, item_id, found)], stamp(now_utc()))


def rematch_to(store: Store, config: Config, matcher: Matcher, *,
               progress: Callable[[Progress], None] = lambda p: None) -> Progress:
    """Re-match every stored item with config's watch list (`matcher` compiled from it), then record that list
    as the one the stored matches were made with: a run cut short records nothing and is redone next time."""
    result = rematch(store, matcher, progress=progress, config=config)
    if result.finished:
        with store.transaction():
            store.meta.set_matched_with(watch_hash(config))
    return result
