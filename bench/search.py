"""Search benchmark: a database of 1,000,000 generated Persian items, its index build, query latency, and what
the index adds to a cold farm poll.

    .venv/bin/python bench/search.py                          # 1,000,000 items, then the farm poll (500 x 40)
    .venv/bin/python bench/search.py --items 200000 --no-farm
    .venv/bin/python bench/search.py --db /tmp/search-1m.db   # keep (or reuse) the database

Items are written through the store's bulk path (Items.insert_new, a batch per transaction) without index rows,
then queued as migration m010 queues an existing database's items, and `monitor.search.catch_up` builds the index
(timed: "index build"). Item text is drawn from the seed articles' words (bench/farm.py's vocabulary), 40-80 words
a body and 8 a title; 3% of items mention a watched name, in one of its spellings (joined, split, half-spaced,
Arabic letters, hamza forms). Queries, through `monitor.search.run` (parsing, the index's probes, bm25, matches,
the hit and its snippet; --limit 50): single words, phrases, and spelling variants of the watched names. Then
`monitor poll` cold over bench/farm.py's farm, alternating this checkout and the one before the index (git
archive of the merge base with main, or --baseline), a few runs each. Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from farm import make_farm, measured, serve, vocabulary  # noqa: E402

NAMES = {  # a watched name: the spellings the generated items use
    "محمدعلی امانی": ["محمدعلی امانی", "محمد علی امانی", "محمد\u200cعلی امانی", "محمدعلي اماني"],
    "کیم جونگ اون": ["کیم جونگ اون", "کیم جونگ\u200cاون", "کیم\u200cجونگ\u200cاون", "كيم جونگ-اون"],
    "حزب مؤتلفه اسلامی": ["حزب مؤتلفه اسلامی", "حزب موتلفه اسلامی", "حزب مؤتلفه\u200cی اسلامی"],
    "دیمیتری مدودف": ["دیمیتری مدودف", "ديميتري مدودف", "دیمیتری مدوِدف"],
}
VARIANT_QUERIES = ["محمد علی امانی", '"محمدعلی امانی"', "كيم جونگ\u200cاون", "کیمجونگاون", "مؤتلفه", "موتلفه\u200cای",
                   "ديميتري", "مدوِدف", '"حزب موتلفه اسلامی"', "اماني"]


def build(path: Path, n: int, seed: int = 11) -> dict[str, float]:
    from monitor import search
    from monitor.store import Store

    rng = random.Random(seed)
    vocab = vocabulary()
    store = Store.open(path)
    times: dict[str, float] = {}
    t = time.perf_counter()
    batch = 20_000
    for first in range(1, n + 1, batch):
        rows = []
        for item_id in range(first, min(n, first + batch - 1) + 1):
            words = rng.choices(vocab, k=rng.randint(40, 80))
            if rng.random() < 0.03:
                name = rng.choice(list(NAMES))
                words.insert(rng.randrange(len(words)), rng.choice(NAMES[name]))
            title = " ".join(rng.choices(vocab, k=8))
            rows.append({"id": item_id, "feed": f"f{item_id % 500:03d}", "key": f"k{item_id}", "guid": None,
                         "link": None, "canonical_link": None, "title": title, "summary": "", "body": " ".join(words),
                         "published": f"2025-{1 + item_id * 11 // n:02d}-15T08:00:00+00:00",
                         "fetched_at": "2025-12-01T00:00:00+00:00", "status": "new"})
        with store.transaction():
            store.items.insert_new(rows)
            store.search.queue_unindexed(r["id"] for r in rows)  # as m010 queues an existing database's items
    times["insert items (no index)"] = time.perf_counter() - t
    t = time.perf_counter()
    search.catch_up(store, batch=5000)
    times["index build (catch_up)"] = time.perf_counter() - t
    store.close()
    return times


def queries(path: Path, rng: random.Random, count: int) -> dict[str, list[str]]:
    from monitor.store import Store

    vocab = vocabulary()
    store = Store.open(path, readonly=True)
    bodies = [r[0] for r in store.db.execute("SELECT body FROM items WHERE id % 997 = 0 LIMIT 200")]
    store.close()
    words = [rng.choice(vocab) for _ in range(count)]
    phrases = []
    for body in rng.sample(bodies, min(count, len(bodies))):
        parts = body.split()
        k = rng.randrange(len(parts) - 2)
        phrases.append('"' + " ".join(parts[k:k + rng.choice((2, 3))]) + '"')
    prefixes = [w[:max(3, len(w) - 2)] + "*" for w in (rng.choice(vocab) for _ in range(count))]
    return {"single word": words, "phrase": phrases, "spelling variant": (VARIANT_QUERIES * count)[:count],
            "prefix (word*)": prefixes}


FILTER = (["i.feed IN (?, ?)"], ["f001", "f002"])  # --feed f001 --feed f002: 2 of the 500 feeds


def latency(path: Path, groups: dict[str, list[str]]) -> list[tuple[str, int, float, float, float, float]]:
    from monitor import search
    from monitor.store import Store

    store = Store.open(path, readonly=True)
    out = []
    runs = [(name, qs, ((), ())) for name, qs in groups.items()]
    runs += [(f"{name}, 2 feeds", qs, FILTER) for name, qs in groups.items() if name != "prefix (word*)"]
    for name, qs, (where, params) in runs:
        ms, found = [], []
        for q in qs:
            t = time.perf_counter()
            rows = list(search.run(store, q, where=where, params=params, limit=50))
            ms.append(1000 * (time.perf_counter() - t))
            found.append(len(rows))
        ms.sort()
        out.append((name, len(qs), statistics.median(ms), ms[max(0, int(0.95 * len(ms)) - 1)], ms[-1],
                    statistics.mean(found)))
    store.close()
    return out


def baseline_tree(rev: str | None, dest: Path) -> Path:
    """The monitor package as it was before the index: `git archive` of rev (default: merge base with main)."""
    rev = rev or subprocess.run(["git", "merge-base", "HEAD", "main"], cwd=REPO, capture_output=True, text=True,
                                check=True).stdout.strip()
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", rev, "monitor"], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def farm_polls(runs: int, baseline_rev: str | None) -> list[tuple[str, float, float]]:
    import json

    tmp = Path(tempfile.mkdtemp(prefix="search-farm-"))
    farm = tmp / "feeds"
    farm.mkdir()
    make_farm(farm, 500, 40)
    base = baseline_tree(baseline_rev, tmp / "baseline")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "monitor"), str(base / "monitor")],
                   check=True, stdout=subprocess.DEVNULL)
    server, url = serve(farm)
    results: dict[str, list[tuple[float, float]]] = {"with the index": [], "without (before it)": []}
    try:
        urls = [f"{url}/{p.name}" for p in sorted(farm.glob("*.xml"))]
        for i in range(runs):
            for label, cwd in (("without (before it)", base), ("with the index", REPO)):
                db = tmp / f"monitor-{i}-{len(results[label])}.db"
                cfg = {"database": str(db), "corpus": [str(REPO / "fixtures" / "seeds")],
                       "http": {"timeout": 30, "concurrency": 8},
                       "feeds": [{"name": f"f{k:04d}", "url": u} for k, u in enumerate(urls)],
                       "watch": [{"name": w, "kind": "other", "terms": [w]} for w in NAMES]}
                if cwd == REPO:  # the farm's items link to newsN.example: fetch no pages (the base has none)
                    cfg["articles"] = {"full_text": "never"}
                (tmp / "config.yaml").write_text(json.dumps(cfg, ensure_ascii=False), encoding="utf-8")
                here = os.getcwd()
                os.chdir(cwd)  # `python -m monitor` runs the package of the current folder
                try:
                    r = measured([sys.executable, "-m", "monitor", "poll", "--config", str(tmp / "config.yaml")])
                finally:
                    os.chdir(here)
                assert r["rc"] == 0, r
                results[label].append((r["wall"], r["cpu"]))
                db.unlink()
    finally:
        server.terminate()
        shutil.rmtree(tmp, ignore_errors=True)
    return [(label, statistics.median(w for w, _ in rs), statistics.median(c for _, c in rs))
            for label, rs in results.items()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--db", help="database path: reused when it exists (with --items ignored), kept after")
    ap.add_argument("--queries", type=int, default=40, help="queries of each kind")
    ap.add_argument("--no-farm", action="store_true")
    ap.add_argument("--farm-runs", type=int, default=2)
    ap.add_argument("--baseline", help="git revision without the index (default: merge base with main)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="search-bench-"))
    path = Path(args.db) if args.db else tmp / "search.db"
    try:
        if not path.exists():
            times = build(path, args.items)
            print(f"\n{'build':<26} {'seconds':>9} {'items/s':>9}")
            for name, s in times.items():
                print(f"{name:<26} {s:>9.1f} {args.items / s:>9,.0f}")
            print(f"database: {path.stat().st_size / 2**20:,.0f} MB for {args.items:,} items")
        from monitor.store import Store

        Store.open(path).close()  # a kept database from an older checkout gets this one's migrations
        groups = queries(path, random.Random(5), args.queries)
        print(f"\n{'query (limit 50)':<27} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'items':>6}")
        for name, n, p50, p95, worst, found in latency(path, groups):
            print(f"{name:<27} {n:>4} {p50:>8.1f} {p95:>8.1f} {worst:>8.1f} {found:>6.1f}")
        print("(target: p95 <= 100 ms; items: the mean number returned)")
    finally:
        if not args.db:
            shutil.rmtree(tmp, ignore_errors=True)
    if not args.no_farm:
        rows = farm_polls(args.farm_runs, args.baseline)
        print(f"\n{'cold farm poll (500 x 40)':<26} {'wall s':>8} {'cpu s':>8}   (median of {args.farm_runs})")
        for label, wall, cpu in rows:
            print(f"{label:<26} {wall:>8.2f} {cpu:>8.2f}")
        print(f"with / without (target <= 1.15): {rows[0][1] / rows[1][1]:.2f} wall, {rows[0][2] / rows[1][2]:.2f} cpu")


if __name__ == "__main__":
    main()
