"""Stories: how well items are grouped (pairwise precision and recall on fixtures/stories) and what assigning
one costs, as tables.

    .venv/bin/python bench/stories.py                  # quality on both splits, then cost with 20,000 items
    .venv/bin/python bench/stories.py --items 50000 --per-day 5000

Quality: the labelled items in order of publication through monitor.stories.cluster (what the writer does),
at the chosen settings and with each choice undone, and, for comparison, dedup's own winnowed word-3-shingle
fingerprints (containment, single link), which is what catches copies. The settings were chosen on dev; heldout
is only measured.

Cost: a stream of generated items (words drawn from the fixtures' vocabulary, a few hundred per day) through
the pure step (signature + assign + add) and through the writer's call with a real SQLite file
(monitor.stories.Assigner over store.stories, items inserted first as the writer does): microseconds per item.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor import dedup, stories  # noqa: E402
from monitor.stories import index as story_index, terms as story_terms  # noqa: E402

SETTINGS = {"DECAY": story_index, "TITLE_WEIGHT": story_index, "PREFIX": story_terms}  # where each one lives


def load(split: str) -> list[dict]:
    rows = [json.loads(x) for x in (REPO / "fixtures" / "stories" / f"{split}.jsonl").read_text("utf-8").splitlines()]
    return sorted(rows, key=lambda r: r["published"])


def measure(rows: list[dict], **settings: float) -> tuple[float, float, float]:
    saved = {k: getattr(SETTINGS[k], k) for k in settings if k != "THRESHOLD"}
    for k, v in settings.items():
        if k != "THRESHOLD":
            setattr(SETTINGS[k], k, v)
    try:
        got = stories.cluster(((i, datetime.fromisoformat(r["published"]), r["title"], r["body"])
                               for i, r in enumerate(rows)), settings.get("THRESHOLD", stories.THRESHOLD))
    finally:
        for k, v in saved.items():
            setattr(SETTINGS[k], k, v)
    return stories.pairwise([r["story"] for r in rows], [got[i] for i in range(len(rows))])


def shingles(rows: list[dict], threshold: float) -> tuple[float, float, float]:
    """Single link over dedup's fingerprints: containment |A & B| / min(|A|, |B|) within the window."""
    prints = [set(fp.hashes) for fp, _, _ in dedup.fingerprints([(r["title"], r["body"]) for r in rows])]
    when = [datetime.fromisoformat(r["published"]) for r in rows]
    label: list[int] = []
    for i, fp in enumerate(prints):
        best, story = 0.0, i
        for j in range(i):
            if fp and prints[j] and abs(when[i] - when[j]) <= stories.WINDOW:
                score = len(fp & prints[j]) / min(len(fp), len(prints[j]))
                if score > best:
                    best, story = score, label[j]
        label.append(story if best >= threshold else i)
    return stories.pairwise([r["story"] for r in rows], label)


def quality() -> None:
    data = {split: load(split) for split in ("dev", "heldout")}
    chosen = dict(THRESHOLD=stories.THRESHOLD)
    variants = [("chosen", chosen)]
    variants += [(f"threshold {t}", dict(THRESHOLD=t)) for t in (0.15, 0.25, 0.3) if t != stories.THRESHOLD]
    variants += [("no time decay (DECAY 0)", dict(DECAY=0.0)), ("no prefix terms (PREFIX 99)", dict(PREFIX=99)),
                 ("titles not doubled (TITLE_WEIGHT 1)", dict(TITLE_WEIGHT=1.0))]
    print(f"stories: pairwise precision / recall / F1 (THRESHOLD {stories.THRESHOLD}, DECAY {story_index.DECAY}, "
          f"PREFIX {story_terms.PREFIX}, window {stories.WINDOW.days} days)")
    print(f"{'method':40} {'dev P':>6} {'R':>6} {'F1':>6}   {'heldout P':>9} {'R':>6} {'F1':>6}")
    for name, settings in variants:
        cells = [measure(rows, **settings) for rows in data.values()]
        print(f"{name:40} " + "   ".join(f"{p:6.3f} {r:6.3f} {f:6.3f}" if k == 0 else f"{p:9.3f} {r:6.3f} {f:6.3f}"
                                          for k, (p, r, f) in enumerate(cells)))
    for t in (0.1, 0.2, 0.5):
        cells = [shingles(rows, t) for rows in data.values()]
        print(f"{f'dedup fingerprints, containment {t}':40} "
              + "   ".join(f"{p:6.3f} {r:6.3f} {f:6.3f}" if k == 0 else f"{p:9.3f} {r:6.3f} {f:6.3f}"
                           for k, (p, r, f) in enumerate(cells)))


def stream(n: int, per_day: int, seed: int = 1) -> list[tuple[int, datetime, str, str]]:
    """Generated items: titles of 8-12 and leads of 30-50 words drawn (Zipf-like) from the fixtures' words."""
    rng = random.Random(seed)
    words = [w for split in ("dev", "heldout") for r in load(split) for w in (r["title"] + " " + r["body"]).split()]
    vocab = sorted(set(words))
    rng.shuffle(vocab)
    weights = [1.0 / (k + 1) for k in range(len(vocab))]
    start = datetime.fromisoformat("2025-11-01T00:00:00+03:30")
    out = []
    for i in range(n):
        title = " ".join(rng.choices(vocab, weights, k=rng.randint(8, 12)))
        body = " ".join(rng.choices(vocab, weights, k=rng.randint(30, 50)))
        out.append((i + 1, start + timedelta(days=i / per_day), title, body))
    return out


def cost(n: int, per_day: int) -> None:
    items = stream(n, per_day)
    index = stories.StoryIndex()
    sig_s = assign_s = 0.0
    for item, when, title, body in items:
        t0 = time.perf_counter()
        sig = stories.signature(title, body)
        t1 = time.perf_counter()
        story = index.assign(when, sig)
        index.add(item, item if story is None else story, when, sig)
        t2 = time.perf_counter()
        sig_s, assign_s = sig_s + t1 - t0, assign_s + t2 - t1
    print(f"\ncost per item, {n:,} generated items at {per_day:,} a day (window of about "
          f"{min(n, per_day * stories.WINDOW.days * 2):,} items)")
    print(f"{'step':54} {'us/item':>8}")
    print(f"{'signature (fold, words, terms)':54} {1e6 * sig_s / n:8.1f}")
    print(f"{'assign + add (StoryIndex)':54} {1e6 * assign_s / n:8.1f}")
    print(f"{'pure total':54} {1e6 * (sig_s + assign_s) / n:8.1f}")
    window_memory(items)
    writer(items)


def window_memory(items: list[tuple[int, datetime, str, str]]) -> None:
    """What the window holds when every item is in it at once, as on a cold poll of recent items (tracemalloc
    over StoryIndex.add only; the signatures are made before)."""
    import tracemalloc

    sigs = [(item, when, stories.signature(title, body)) for item, when, title, body in items]
    latest = max(when for _, when, _ in sigs)
    tracemalloc.start()
    index = stories.StoryIndex()
    for item, _, sig in sigs:
        index.add(item, item, latest, sig)  # one date: nothing expires
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(f"{f'window memory, all {len(sigs):,} items held (bytes/item)':54} {held / len(sigs):8.0f}")


def writer(items: list[tuple[int, datetime, str, str]], batch: int = 40) -> None:
    """The writer's call (Assigner.assign) with a real SQLite file, feeds of `batch` items, items inserted
    first as Writer._store_items does; only the assign call is timed."""
    from monitor.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "bench.db")
        assigner = stories.Assigner(store.stories)
        spent = 0.0
        for start in range(0, len(items), batch):
            rows = [{"id": i, "feed": f"feed{i % 97}", "key": f"k{i}", "title": t, "body": b,
                     "published": w.isoformat(), "fetched_at": w.isoformat(), "status": "new",
                     "dup_kind": None, "dup_ref": None} for i, w, t, b in items[start:start + batch]]
            with store.transaction():
                store.items.insert_new([{k: r[k] for k in ("id", "feed", "key", "title", "body", "published",
                                                         "fetched_at", "status")} for r in rows])
                t0 = time.perf_counter()
                assigner.assign(rows)
                spent += time.perf_counter() - t0
        store.close()
    print(f"{'writer: Assigner.assign (signature included), SQLite':54} {1e6 * spent / len(items):8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--per-day", type=int, default=2000)
    args = parser.parse_args()
    quality()
    cost(args.items, args.per_day)


if __name__ == "__main__":
    main()
