"""Does a big database slow a cycle? Grow one to N items over simulated weeks, then poll the farm against it.

    .venv/bin/python bench/growth.py                       # 1,000,000 items over 8 weeks (long: see --items)
    .venv/bin/python bench/growth.py --items 200000 --weeks 4
    .venv/bin/python bench/growth.py --items 100000 --keep  # keep the grown database and farm for a look

The stored items are written directly through the store's rooms (Items.insert_new, Fingerprints.add,
Search.add, Stories.add, Matches.add_many, in commit groups), not by polling: text of the farm's vocabulary
(the seed articles' words), fetch times spread evenly over --weeks ending now, so the 7-day near-duplicate
window, the stories' window and the daily pruning are what they would be. Fingerprints (random 63-bit hashes,
50 an item as the farm's items have) are kept for the window plus one day, the day pruning then removes; story
terms (made from the text) for the stories' 9 days. Then, for an empty and for the grown database alike: a cold `monitor poll` of
bench/farm.py's 500 x 40 farm (20,000 new items) and a warm one (nothing changed), the same bytes each time.
Prints the database's size per item, the prune, each cycle with the grown/empty ratio (target 1.25), and the
time the daemon (`monitor run`) takes to re-match every stored item after a watch-list edit while it polls 500
feeds of 20,000 new items meanwhile (with its progress lines, and what the polls stored by the time it is done).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import farm  # noqa: E402  (bench/farm.py: the farm, its server, the measuring wrapper)
from monitor.dates import now_utc, to_iso  # noqa: E402
from monitor.models import Match, Source  # noqa: E402
from monitor.store import Store  # noqa: E402
from monitor.stories.terms import pack_member, signature  # noqa: E402

FINGERPRINTS_PER_ITEM = 50
WINDOW_DAYS = 7
STORY_TERM_DAYS = 9  # monitor.stories: terms are forgotten at 3 x WINDOW (3 days)
BATCH = 5000


def grow(path: Path, n: int, weeks: int, words: tuple[int, int], config_path: Path, seed: int = 5) -> dict[str, float]:
    """Write n items into the database at path, oldest first, as the poll of config_path would have left them
    (its watch list recorded as the one they were matched with, the fingerprint scheme as current); returns
    seconds per phase."""
    import numpy as np

    from monitor import housekeeping, rematch
    from monitor.config import load_config

    rng = random.Random(seed)
    vocab = farm.vocabulary()
    np_rng = np.random.default_rng(seed)
    store = Store.open(path)
    cfg = load_config(config_path)
    housekeeping.prepare(cfg, store)  # the corpus, the feeds, the schemes recorded: as a first poll leaves them
    now = now_utc()
    start = now - timedelta(weeks=weeks)
    step = (now - start) / max(n, 1)
    keep_prints = now - timedelta(days=WINDOW_DAYS + 1)
    keep_terms = now - timedelta(days=STORY_TERM_DAYS)
    started, last = time.monotonic(), time.monotonic()
    done = 0
    with store.commit_group(10 ** 9) as group:
        while done < n:
            group.ready()
            count = min(BATCH, n - done)
            ids = store.items.reserve_ids(count)
            rows, docs, stories, members, matches = [], [], [], [], []
            for k, item_id in enumerate(ids):
                when = start + step * (done + k)
                fetched = to_iso(when)
                body_words = [rng.choice(vocab) for _ in range(rng.randint(*words))]
                title = " ".join(rng.choice(vocab) for _ in range(8))
                body = "\n".join(" ".join(body_words[j:j + 60]) for j in range(0, len(body_words), 60))
                feed = f"f{item_id % 500:04d}"
                rows.append({"id": item_id, "feed": feed, "key": f"guid:grown-{item_id}", "guid": f"grown-{item_id}",
                             "link": f"https://news{item_id % 500}.example/old/{item_id}",
                             "canonical_link": f"https://news{item_id % 500}.example/old/{item_id}",
                             "title": title, "summary": body[:1000], "body": body, "published": fetched,
                             "fetched_at": fetched, "status": "new", "body_hash": f"{rng.getrandbits(128):032x}",
                             "title_body_hash": f"{rng.getrandbits(128):032x}",
                             "title_hash": f"{rng.getrandbits(128):032x}", "body_source": "feed"})
                docs.append((item_id, title, body, None))
                if when >= keep_prints:
                    hashes = np_rng.integers(1, 2 ** 62, FINGERPRINTS_PER_ITEM, dtype=np.int64).tolist()
                    store.fingerprints.add(Source.item(item_id), hashes)
                # The story terms of the items whose terms are kept, made from their text as the pure step makes
                # them (random terms would give the stories' window a vocabulary no news has).
                terms = pack_member(signature(title, body)) if when >= keep_terms else None
                stories.append((item_id, fetched, title))
                members.append((item_id, item_id, terms, fetched if terms else None))
                if rng.random() < 0.03:
                    name = rng.choice(farm.WATCHED)
                    matches.append((item_id, Match(name, "other", (name,), 1, name)))
            store.items.insert_new(rows)
            store.search.add(docs)
            store.stories.add(stories, members)
            store.matches.add_many(matches)
            done += count
            if time.monotonic() - last >= 10 or done == n:
                last = time.monotonic()
                group.flush()
                print(f"  grown {done:,} of {n:,} items ({time.monotonic() - started:.0f}s)", flush=True)
    with store.transaction():
        store.meta.set("stories_assigned_upto", str(store.items.last_id()))
        store.meta.set_matched_with(rematch.watch_hash(cfg))
    grown = time.monotonic() - started
    store.close()
    # A store of its own for the prune, as the next day's poll has: this one's window bound was remembered
    # before the items were written (real items never arrive with past fetch times, so it would stay right).
    store = Store.open(path)
    t = time.monotonic()
    with store.transaction():
        pruned = store.fingerprints.prune(to_iso(now - timedelta(days=WINDOW_DAYS)))
        store.meta.set("fingerprints_pruned_at", to_iso(now_utc()))
    prune = time.monotonic() - t
    store.close()
    return {"grow": grown, "prune": prune, "pruned": pruned}


def config(tmp: Path, db: Path, urls: list[str], watch: list[str], prefix: str = "f") -> Path:
    cfg = {"database": str(db), "corpus": [str(REPO / "fixtures" / "seeds")],
           "http": {"timeout": 30, "concurrency": 8}, "articles": {"full_text": "never"},
           "feeds": [{"name": f"{prefix}{i:04d}", "url": u} for i, u in enumerate(urls)],
           "watch": [{"name": w, "kind": "other", "terms": [w]} for w in watch]}
    path = tmp / f"config-{db.stem}-{prefix}-{len(watch)}.yaml"
    path.write_text(json.dumps(cfg, ensure_ascii=False), encoding="utf-8")
    return path


def rematch_while_polling(tmp: Path, db: Path, watch: list[str]) -> dict:
    """`monitor run` on the database with `watch` (an edit of the list its items were matched with) and 500 feeds
    it has not seen, of 20,000 new items: the daemon re-matches every stored item (its watcher, at start) while
    its feed jobs poll those feeds, as after an edit saved while it runs. Prints the daemon's progress lines;
    returns the re-match's seconds (its own "done" line), the items the polls stored before it was done, and the
    daemon's peak RSS through all of it, its stop included (one process: its pure steps run in threads)."""
    import signal
    import sqlite3

    feeds = tmp / "feeds-rematch"
    feeds.mkdir(exist_ok=True)
    farm.make_farm(feeds, 500, 40, seed=11, path="later")  # not the links the grown database holds
    server, base = farm.serve(feeds)
    log_path = tmp / "daemon.log"
    proc = None
    try:
        urls = [f"{base}/{p.name}" for p in sorted(feeds.glob("*.xml"))]
        cfg = config(tmp, db, urls, watch, prefix="g")
        with open(log_path, "w") as log:
            started = time.monotonic()
            proc = subprocess.Popen([sys.executable, "-m", "monitor", "run", "--config", str(cfg)],
                                    stderr=log, stdout=subprocess.DEVNULL, cwd=REPO)
        peak = [0.0, 0.0, 0.0]  # RSS MB, when (seconds since the start), PSS MB
        sampler = threading.Thread(target=sample_rss, args=(proc, started, peak), daemon=True)
        sampler.start()
        done, shown = None, 0
        while done is None:
            if proc.poll() is not None:
                raise SystemExit(f"growth: the daemon stopped (rc {proc.returncode}); see {log_path}")
            time.sleep(0.5)
            lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
            for line in lines[shown:]:
                if "rematch:" in line:
                    print(f"  daemon: {line.split('rematch:', 1)[1].strip()}", flush=True)
                    if "rematch: done" in line:
                        done = line
            shown = len(lines)
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as ro:
            (stored,) = ro.execute("SELECT count(*) FROM items WHERE feed >= 'g' AND feed < 'h'").fetchone()
        proc.send_signal(signal.SIGTERM)
        proc.wait()
        sampler.join()
    finally:
        if proc is not None and proc.returncode is None:  # interrupted: no daemon left behind
            proc.kill()
            proc.wait()
        server.terminate()
    count, _, rest = done.split("rematch: done: ", 1)[1].partition(" items in ")
    return {"seconds": float(rest.split("s", 1)[0]), "items": int(count), "stored": stored,
            "rss_mb": peak[0], "peak_at": peak[1], "pss_mb": peak[2]}


def sample_rss(proc: subprocess.Popen, started: float, peak: list[float]) -> None:
    """The daemon's largest RSS (and when) and PSS, every 100 ms until it exits. Not its ru_maxrss: a child forked from
    this process, which grew the database in memory, inherits this process's high-water mark through exec."""
    while proc.poll() is None:
        try:
            mb = int(open(f"/proc/{proc.pid}/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
            pss = next(int(line.split()[1]) / 1024 for line in open(f"/proc/{proc.pid}/smaps_rollup")
                       if line.startswith("Pss:"))
        except (OSError, IndexError, ValueError, StopIteration):
            mb = pss = 0.0
        if mb > peak[0]:
            peak[0], peak[1] = mb, time.monotonic() - started
        peak[2] = max(peak[2], pss)
        time.sleep(0.1)


def size_mb(db: Path) -> float:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*")) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--weeks", type=int, default=8)
    ap.add_argument("--words", default="170-300", help="words per stored item's body (default: the farm's)")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    low, _, high = args.words.partition("-")
    tmp = Path(tempfile.mkdtemp(prefix="growth-"))
    feeds = tmp / "feeds"
    feeds.mkdir()
    farm.make_farm(feeds, 500, 40)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "monitor")], check=True,
                   stdout=subprocess.DEVNULL)
    grown_db, empty_db = tmp / "grown.db", tmp / "empty.db"
    server, base = farm.serve(feeds)
    results: dict[str, dict] = {}
    try:
        urls = [f"{base}/{p.name}" for p in sorted(feeds.glob("*.xml"))]
        configs = {db: config(tmp, db, urls, farm.WATCHED) for db in (empty_db, grown_db)}
        print(f"growing {args.items:,} items over {args.weeks} weeks into {grown_db}")
        phases = grow(grown_db, args.items, args.weeks, (int(low), int(high or low)), configs[grown_db])
        grown_mb = size_mb(grown_db)
        for name, db in (("empty", empty_db), ("grown", grown_db)):
            poll = [sys.executable, "-m", "monitor", "poll", "--config", str(configs[db])]
            results[f"cold, {name}"] = farm.measured(poll)
            results[f"warm, {name}"] = farm.measured(poll)
    finally:
        server.terminate()
    print("re-matching every stored item with a watch entry taken out, the daemon polling 500 new feeds meanwhile")
    live = rematch_while_polling(tmp, grown_db, farm.WATCHED[:-1])
    stored = args.items + 20_000
    print(f"\n{'database':<34} {'value':>14}")
    print(f"{'items stored (grown + farm)':<34} {stored:>14,}")
    print(f"{'grow (bench only, not a cycle)':<34} {phases['grow']:>13.1f}s")
    print(f"{'size, grown':<34} {grown_mb:>12,.0f}MB")
    print(f"{'size per item, grown':<34} {grown_mb * 1e6 / args.items / 1024:>12.2f}KB")
    print(f"{'prune (one day of fingerprints)':<34} {phases['prune']:>13.2f}s  ({phases['pruned']:,} rows)")
    print(f"{'rematch after a watch-list edit':<34} {live['seconds']:>13.1f}s  ({live['items']:,} items, the daemon"
          f" polling meanwhile: {live['stored']:,} new items stored by then; daemon peak {live['rss_mb']:.0f} MB"
          f" RSS at {live['peak_at']:.0f}s, {live['pss_mb']:.0f} MB PSS)")
    print(f"\n{'cycle':<14} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'all MB':>7} {'all PSS':>8}  rc")
    for name, r in results.items():
        pss = f"{r['pss_mb']:>8.0f}" if "pss_mb" in r else f"{'-':>8}"
        print(f"{name:<14} {r['wall']:>8.2f} {r['cpu']:>8.2f} {r['rss_mb']:>8.0f} {r['tree_mb']:>7.0f} {pss}  {r['rc']}")
    for kind in ("cold", "warm"):
        g, e = results[f"{kind}, grown"], results[f"{kind}, empty"]
        print(f"{kind} grown / empty (target <= 1.25): wall {g['wall'] / e['wall']:.2f}, cpu {g['cpu'] / e['cpu']:.2f}")
    if args.keep:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
