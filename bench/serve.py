"""`monitor serve` benchmark: time to the first byte of the flagged list and of a search over a large database
(the issue's targets: flagged list <= 200 ms, search <= 300 ms over bench/search.py's 1,000,000 items).

    .venv/bin/python bench/search.py --items 1000000 --no-farm --db /tmp/search-1m.db   # the items and index
    cp /tmp/search-1m.db /tmp/web-1m.db                       # matches are written into the copy:
    .venv/bin/python bench/serve.py --db /tmp/web-1m.db       # writes a config, runs `monitor rematch` once
                                                              # when the copy has no matches, then measures

The server is the real `monitor serve` in a subprocess on 127.0.0.1; each request is timed from sending it to
the first byte of the body (httpx streaming), a few warm-up requests first. Prints a table; asserts nothing.

    .venv/bin/python bench/serve.py --db /tmp/web-1m.db --insert-cost 200000   # what m013 costs a write
"""

from __future__ import annotations

import argparse
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import yaml

REPO = Path(__file__).resolve().parent.parent
VARIANT_QUERIES = ["محمد علی امانی", '"محمدعلی امانی"', "كيم جونگ\u200cاون", "کیمجونگاون", "مؤتلفه", "موتلفه\u200cای",
                   "ديميتري", "مدوِدف", '"حزب موتلفه اسلامی"', "اماني"]  # as bench/search.py's
PAGES = [("flagged, default (since 7d)", "/"), ("flagged, all time", "/?since="),
         ("flagged, one watch entry", "/?since=&watch=Mohammad-Ali+Amani"),
         ("flagged, kind figure, since 2025-06-01", "/?since=2025-06-01&kind=figure"),
         ("flagged, one feed", "/?since=&feed=f001"), ("'N new' poll (/api/newer, after the newest)", "/api/newer?since=&after=999990"),
         ("feeds", "/feeds"), ("metrics", "/metrics")]


def config_for(db: Path, folder: Path) -> Path:
    shipped = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    raw = {"database": str(db), "corpus": [], "feeds": [{"name": f"f{i:03d}", "url": f"https://example.com/{i}"}
                                                        for i in range(500)], "watch": shipped["watch"]}
    path = folder / "serve-bench.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def ttfb(url: str) -> float:
    import httpx

    t = time.perf_counter()
    with httpx.stream("GET", url, timeout=60) as r:
        next(r.iter_raw())
    return 1000 * (time.perf_counter() - t)


def insert_cost(count: int, folder: Path) -> None:
    """What m013 adds to a write: `count` items and a match for every tenth, inserted as a poll does (store.items
    .insert_new, store.matches.add_many, 500 a transaction) into a new database with m013's index and triggers,
    and into one with them dropped (the batch's own count update stays: it is one statement a batch)."""
    import tempfile

    from monitor.models import Match
    from monitor.store import Store

    rows = [{"feed": f"f{i % 50}", "key": f"guid:{i}", "guid": str(i), "link": None, "canonical_link": None,
             "title": f"عنوان خبر {i}", "summary": "", "body": "متن خبر " * 60,
             "published": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00+00:00",
             "fetched_at": "2025-11-17T11:00:00+00:00", "status": "new" if i % 3 else "duplicate"}
            for i in range(count)]
    match = Match(watch="w", kind="figure", terms=("x",), count=1, snippet="x")
    print(f"insert {count:,} items (a match for every tenth), 500 a transaction")
    for label, drop in [("without them", True), ("with m013 (index, counts)", False)] * 2:  # alternated: the
        # machine's load drifts
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            store = Store.open(Path(tmp) / "i.db")
            if drop:
                for name in ("items_sort_at", "item_counts_delete", "item_counts_status",
                             "item_counts_match_insert", "item_counts_match_delete"):
                    kind = "INDEX" if name == "items_sort_at" else "TRIGGER"
                    store.db.execute(f"DROP {kind} {name}")
            t, cpu = time.perf_counter(), time.process_time()
            for start in range(0, count, 500):
                with store.transaction():
                    ids = store.items.reserve_ids(len(rows[start:start + 500]))
                    store.items.insert_new([{"id": i, **r} for i, r in zip(ids, rows[start:start + 500])])
                    store.matches.add_many([(i, match) for i in ids if i % 10 == 0])
            seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
            store.close()
        print(f"  {label:30} {seconds:7.2f} s  {1e6 * seconds / count:7.1f} µs an item"
              f"  (CPU {1e6 * cpu / count:5.1f} µs: what other processes' load does not inflate)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True, type=Path, help="a copy of bench/search.py's database (gets matches)")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--insert-cost", type=int, metavar="N", help="instead: time N inserts with and without m013")
    args = ap.parse_args()
    if args.insert_cost:
        insert_cost(args.insert_cost, args.db.resolve().parent)
        return
    config = config_for(args.db.resolve(), args.db.resolve().parent)
    conn = sqlite3.connect(args.db)
    items, matched = conn.execute("SELECT count(*) FROM items").fetchone()[0], conn.execute(
        "SELECT count(DISTINCT item_id) FROM matches").fetchone()[0]
    conn.close()
    if not matched:
        print("matching the items once (monitor rematch) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "monitor", "rematch", "--config", str(config)], check=True, cwd=REPO)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "monitor", "serve", "--config", str(config), "--port", str(port)],
                              cwd=REPO, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                ttfb(base + "/static/live.js")
                break
            except Exception:
                time.sleep(0.2)
        rows = []
        for name, path in PAGES + [(f"search {q}", "/search?q=" + quote(q)) for q in VARIANT_QUERIES]:
            ttfb(base + path)  # warm-up
            ms = sorted(ttfb(base + path) for _ in range(args.runs))
            rows.append((name, statistics.median(ms), ms[-1]))
    finally:
        server.terminate()
        server.wait(10)
    print(f"monitor serve over {items:,} items ({matched:,} matched before this run), {args.runs} runs each")
    print(f"{'page':48} {'median ms':>10} {'max ms':>8}")
    for name, median, worst in rows:
        print(f"{name:48} {median:10.1f} {worst:8.1f}")


if __name__ == "__main__":
    main()
