"""Throughput of the text engine: fold and match in MB/s, and the cost of one dedup verdict per item.

    .venv/bin/python bench/text.py            # the full table (builds a 100,000-item database in a temp dir)
    .venv/bin/python bench/text.py --quick    # smaller sizes, for a smoke run
    .venv/bin/python bench/text.py --farm     # only the farm rows: CPU of each text step over the farm's items

Fold and match run over the seed articles (real Persian news, ~5 KB each), one call per article as the
pipeline does, with the shipped watch list padded to N distinct generated Persian-looking terms. MB is 10**6
bytes of UTF-8 input. Dedup classifies fresh items against a real SQLite database (monitor.store.Store) holding
S stored items and their fingerprints, through monitor.dedup.classify, exactly as the pipeline does; stored items
are generated from a shared vocabulary and a fifth of them open with the same agency header, so common
shingles exist as they do in real feeds. The farm rows run the items of bench/farm.py's generator (100 feeds x
40) through html_to_text, dedup.fingerprints (one call per feed, as a poll does) and canonical_link: seconds of
CPU for all of them, the best of seven rounds.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.config import load_config  # noqa: E402
from monitor.dedup import classify, fingerprint  # noqa: E402
from monitor.store import WRITER_CACHE_KIB  # noqa: E402
from monitor.match import Matcher  # noqa: E402
from monitor.models import Source, WatchEntry  # noqa: E402
from monitor.store import Store  # noqa: E402
from monitor.text import fold  # noqa: E402

LETTERS = "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی"
HEADER = "به گزارش خبرگزاری ایسنا، "


def persian_words(rng: random.Random, n: int) -> list[str]:
    """n distinct Persian-looking words of 3 to 7 letters."""
    seen: set[str] = set()
    while len(seen) < n:
        seen.add("".join(rng.choice(LETTERS) for _ in range(rng.randint(3, 7))))
    return sorted(seen)


def watch_entries(n_terms: int, rng: random.Random) -> list[WatchEntry]:
    """The shipped watch list plus generated entries (two-word figures), n_terms terms in all."""
    shipped = list(load_config(REPO / "config.yaml").watch)
    have = sum(len(e.terms) for e in shipped)
    if n_terms <= have:
        return shipped[:max(1, n_terms // 2)]
    words = persian_words(rng, 2 * (n_terms - have) + 10)
    extra = [WatchEntry(f"generated {i}", "figure", (f"{words[2 * i]} {words[2 * i + 1]}",))
             for i in range(n_terms - have)]
    return shipped + extra


def rate(fn, docs: list[str], min_seconds: float) -> float:
    """MB/s of fn over docs, per CPU second of this process (time.process_time), so that other work on a
    shared machine does not count; the best of five rounds of at least min_seconds / 5 each."""
    size = sum(len(d.encode("utf-8")) for d in docs)
    best = 0.0
    for _ in range(5):
        done, started = 0, time.process_time()
        while True:
            for d in docs:
                fn(d)
            done += size
            elapsed = time.process_time() - started
            if elapsed >= min_seconds / 5:
                break
        best = max(best, done / elapsed / 1e6)
    return best


def bench_text(quick: bool) -> list[tuple[str, str]]:
    docs = [p.read_text(encoding="utf-8") for p in sorted((REPO / "fixtures" / "seeds").glob("*.txt"))]
    seconds = 0.3 if quick else 1.5
    rows = [("fold", f"{rate(fold, docs, seconds):.1f} MB/s")]
    for n in (10, 10_000):
        entries = watch_entries(n, random.Random(n))
        terms = sum(len(e.terms) for e in entries)
        started = time.perf_counter()
        matcher = Matcher(entries)
        build = time.perf_counter() - started
        rows.append((f"match.find, {terms:,} terms", f"{rate(matcher.find, docs, seconds):.1f} MB/s"))
        rows.append((f"match.matches, {terms:,} terms", f"{rate(matcher.matches, docs, seconds):.1f} MB/s"
                     f"  (build {build * 1000:.0f} ms)"))
    return rows


def bench_farm() -> list[tuple[str, str]]:
    sys.path.insert(0, str(REPO / "bench"))
    from farm import make_farm

    from monitor.analyse import parse_keyed
    from monitor.dedup import canonical_link, fingerprints
    from monitor.text import html_to_text

    with tempfile.TemporaryDirectory() as tmp:
        make_farm(Path(tmp), 100, 40)
        feeds = [parse_keyed(p.read_bytes(), "application/rss+xml", "http://x/")
                 for p in sorted(Path(tmp).glob("*.xml"))]
    raws = [raw for feed in feeds for _, raw in feed]
    htmls = [s for r in raws for s in (r.title, r.summary, r.content) if s]
    texts = [[(html_to_text(r.title), html_to_text(r.summary)) for _, r in feed] for feed in feeds]
    links = [r.link for r in raws]

    def cpu(fn) -> str:
        rounds = []
        for _ in range(7):
            started = time.process_time()
            fn()
            rounds.append(time.process_time() - started)
        return f"{min(rounds):.3f} s CPU"

    n = len(raws)
    return [(f"farm html_to_text, {len(htmls):,} texts", cpu(lambda: [html_to_text(h) for h in htmls])),
            (f"farm dedup.fingerprints, {n:,} items", cpu(lambda: [fingerprints(t) for t in texts])),
            (f"farm canonical_link, {n:,} links", cpu(lambda: [canonical_link(x) for x in links]))]


def fill_store(store: Store, count: int, rng: random.Random, vocab: list[str]) -> None:
    """count stored items (rows and fingerprints), each a generated 80-word article."""
    start = store.items.count()
    with store.transaction():
        for i in range(start, start + count):
            words = rng.choices(vocab, k=80)
            body = (HEADER if i % 5 == 0 else "") + " ".join(words)
            fp = fingerprint("", body)
            item_id = store.items.reserve_ids(1)[0]
            store.items.insert_new([{
                "id": item_id, "feed": "bench", "key": f"k{i}", "guid": f"g{i}", "link": None,
                "canonical_link": f"https://x/{i}", "title": "", "summary": "", "body": "", "published": None,
                "fetched_at": "2026-01-01T00:00:00Z", "status": "new", "body_hash": fp.body_hash,
                "title_body_hash": None}])
            store.fingerprints.add(Source.item(item_id), fp.hashes)


def bench_dedup(quick: bool) -> list[tuple[str, str]]:
    rng = random.Random(7)
    vocab = persian_words(rng, 20_000)
    probes = [(HEADER if i % 2 else "") + " ".join(rng.choices(vocab, k=120)) for i in range(200)]
    fps = [fingerprint("", p) for p in probes]
    rows = []
    sizes = (1_000, 10_000) if quick else (1_000, 10_000, 100_000)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "bench.db")
        # Filling is not what is measured: let SQLite keep the growing index in memory while it is built.
        store.db.execute("PRAGMA cache_size = -400000")
        store.db.execute("PRAGMA synchronous = OFF")
        filled = 0
        for size in sizes:
            started = time.perf_counter()
            store.db.execute("PRAGMA cache_size = -400000")
            fill_store(store, size - filled, rng, vocab)
            filled = size
            fill = time.perf_counter() - started
            store.db.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")  # the cache monitor's writer runs with
            for fp in fps[:20]:  # warm the page cache
                classify(guid="nope", link=None, fp=fp, known=store, since="2025-01-01", threshold=0.5)
            started = time.process_time()
            for i, fp in enumerate(fps):
                classify(guid=f"new{i}", link=f"https://y/{i}", fp=fp, known=store, since="2025-01-01",
                         threshold=0.5)
            per_item = (time.process_time() - started) / len(fps)
            rows.append((f"dedup.classify, {size:,} stored items",
                         f"{per_item * 1000:.2f} ms/item  (fill {fill:.0f} s)"))
        plan = store.db.execute(  # the one query dedup.near_duplicate runs per item (store.fingerprints.holders)
            "EXPLAIN QUERY PLAN SELECT value, (SELECT group_concat(doc, ' ') FROM (SELECT doc FROM fingerprints"
            " WHERE hash = value AND (doc < 0 OR doc >= ?) LIMIT ?)) FROM json_each(?)",
            [1, 65, "[1]"]).fetchall()
        rows.append(("fingerprints.holders plan", "; ".join(r[-1] for r in plan)))
        store.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and shorter runs")
    parser.add_argument("--farm", action="store_true", help="only the farm rows")
    args = parser.parse_args()
    rows = bench_farm() if args.farm else bench_text(args.quick) + bench_farm() + bench_dedup(args.quick)
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  result")
    print(f"{'-' * width}  {'-' * 30}")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
