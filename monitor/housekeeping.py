"""What the store needs before a cycle, apart from any one feed: the corpus files synced, the configured feeds'
rows, the fingerprints made again after a change of scheme, and the near-duplicate window pruned.

`monitor poll` runs it at the start of every cycle; the daemon at start, after a config reload and once a cycle.
Every step is idempotent and commits in batches, so a crash part-way is redone by the next run.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from monitor import dedup, search
from monitor.dates import now_utc, to_iso
from monitor.models import Config
from monitor.models import Source
from monitor.store import Store

log = logging.getLogger("monitor.housekeeping")
PRUNE_EVERY = timedelta(days=1)


def prepare(config: Config, store: Store) -> int:
    """Corpus, feed rows and the fingerprint window brought up to date; the number of corpus changes."""
    upgrade = store.meta.get("fingerprint_scheme") != dedup.FINGERPRINT_SCHEME
    if upgrade:  # fingerprints made another way match nothing new: the corpus is fingerprinted again
        with store.transaction():
            store.corpus.forget_all()
    changes = sync_corpus(config, store)
    store.feeds.sync((f.name, f.url) for f in config.feeds)
    window_start = to_iso(now_utc() - timedelta(days=config.dedup.window_days))
    if upgrade:
        refingerprint(store, window_start)
    assign_stories(store)
    search.catch_up(store, progress=_log_progress)  # items waiting for the search index (migration, article text)
    last = store.meta.get("fingerprints_pruned_at")
    if last is None or last < to_iso(now_utc() - PRUNE_EVERY):
        # Pruning scans the whole fingerprint table; lookups already ignore items outside the window, so once a
        # day is enough to give the space back.
        with store.transaction():
            store.fingerprints.prune(window_start)
            from monitor.stories import WINDOW

            store.stories.forget_terms(to_iso(now_utc() - 3 * WINDOW))  # outside every writer's window
            store.meta.set("fingerprints_pruned_at", to_iso(now_utc()))
    return changes


def _log_progress(done: int, total: int) -> None:
    log.info("search index: %d of %d stored items indexed", done, total)


def sync_corpus(config: Config, store: Store) -> int:
    """Fingerprint corpus files that are new or changed since the last cycle; forget removed ones."""
    known = store.corpus.index()
    seen: set[str] = set()
    changes = 0
    for path in dedup.corpus_files(config.corpus):
        ref = path.stem
        if ref in seen:
            log.warning("corpus: %s has the same name as another document; skipped", path)
            continue
        seen.add(ref)
        stat = path.stat()
        if known.get(ref) == (str(path), stat.st_mtime, stat.st_size):
            continue
        try:
            doc = dedup.parse_corpus_document(path)
        except (OSError, UnicodeDecodeError) as exc:
            log.error("corpus: %s: cannot read: %s", path, exc)
            continue
        fp = dedup.fingerprint(doc.title, doc.body)
        with store.transaction():
            store.corpus.put(
                {"ref": ref, "path": str(path), "mtime": stat.st_mtime, "size": stat.st_size,
                 "title": doc.title, "published": doc.published, "body_hash": fp.body_hash,
                 "title_body_hash": fp.title_body_hash, "title_hash": fp.title_hash or None,
                 "fingerprint_count": len(fp.hashes)},
                fp.hashes)
        changes += 1
    for ref in set(known) - seen:
        with store.transaction():
            store.corpus.delete(ref)
        changes += 1
    return changes


def refingerprint(store: Store, window_start: str, batch: int = 2000) -> int:
    """Fingerprint again the stored items within the window, after the fingerprint scheme changed (an upgrade):
    near-duplicates of recent items are still recognised. Batches commit one by one, so a crash part-way redoes
    the work on the next cycle (inserts are idempotent); the scheme is recorded last."""
    with store.transaction():
        store.fingerprints.forget_items()
    done, after = 0, 0
    while True:
        rows = store.items.windowed(window_start, after, batch)
        if not rows:
            break
        printed = dedup.fingerprints([(title, body) for _, title, body in rows])
        with store.transaction():
            for (item_id, _, _), (fp, _, _) in zip(rows, printed):
                store.fingerprints.add(Source.item(item_id), fp.hashes)
        done += len(rows)
        after = rows[-1][0]
    with store.transaction():
        store.meta.set("fingerprint_scheme", dedup.FINGERPRINT_SCHEME)
    if done:
        log.info("fingerprinted %d stored items again (new fingerprint scheme %s)", done, dedup.FINGERPRINT_SCHEME)
    return done


STORIES_UPTO = "stories_assigned_upto"  # meta: every item up to this id has been given its story (or none)


def assign_stories(store: Store, batch: int = 2000) -> int:
    """Give their stories to stored items that have none: those of a database from before stories (migration
    m011), in id order, as the writer would have. Later items get theirs from the writer, so after the first
    run this looks only at the items stored since the last (meta STORIES_UPTO). Batches commit one by one;
    a crash part-way is resumed by the next run."""
    from monitor.stories import Assigner

    upto = int(store.meta.get(STORIES_UPTO) or 0)
    assigner, done = Assigner(store.stories), 0
    while rows := store.stories.unassigned(upto, batch):
        with store.transaction():
            assigner.assign(rows)
            upto = rows[-1]["id"]
            store.meta.set(STORIES_UPTO, str(upto))
        done += len(rows)
    last = store.items.last_id()
    if last > upto:
        with store.transaction():
            store.meta.set(STORIES_UPTO, str(last))
    if done:
        log.info("gave %d stored items their stories", done)
    return done


__all__ = ["prepare", "sync_corpus", "refingerprint", "assign_stories"]
