"""Article-page farm benchmark: a cold `monitor poll` of the feed farm with every item's page fetched
(`full_text: always`) against the same poll without pages (`full_text: never`).

    .venv/bin/python bench/articles_farm.py                  # 500 feeds x 40 items, 20,000 pages
    .venv/bin/python bench/articles_farm.py --feeds 50       # a quick look

The feeds are bench/farm.py's (distinct Persian text, a few watched names); each item links to its own page,
served from a separate process on 127.0.0.1 (http.server), laid out as an agency's (menu, the article, a
related-news box, tags, comments). All pages are on one host, so `articles.per_host` is set to the poll's
concurrency (and `delay` to 0): the bench measures the cost of fetching and extracting pages, not politeness.
Prints wall and CPU seconds, the largest process (peak MB) and all processes at once (all MB), and the ratios
the issue sets as targets (<= 3x the poll without pages; <= 350 MB for all processes).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent))
from farm import PY, REPO, WATCHED, measured, vocabulary  # noqa: E402 (bench/ is not a package)

MENU = "".join(f'<li><a href="/s/{i}">{w}</a></li>' for i, w in enumerate(["صفحه اصلی", "سیاسی", "اقتصادی",
                                                                            "بین‌الملل", "ورزشی", "فرهنگی"]))


def page(title: str, paragraphs: list[str], related: list[str]) -> bytes:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    box = "".join(f'<li><a href="/r/{i}">{escape(r)}</a></li>' for i, r in enumerate(related))
    return (f'<!DOCTYPE html><html lang="fa" dir="rtl"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'</head><body><header><nav><ul>{MENU}</ul></nav></header><main><article><h1>{escape(title)}</h1>'
            f'<div class="body">{body}</div><div class="tags">برچسب‌ها: <a href="/t/1">سیاست</a></div></article>'
            f'<aside class="related"><h3>اخبار مرتبط</h3><ul>{box}</ul></aside><section class="comments">'
            f'<h3>نظرات</h3></section></main><footer>کلیه حقوق محفوظ است</footer></body></html>').encode("utf-8")


def make_farm(folder: Path, base: str, feeds: int, items: int, seed: int = 7) -> tuple[int, int]:
    """bench/farm.py's feeds (170-300 words an item), each item linking to its page under `base`."""
    from email.utils import format_datetime
    from datetime import datetime, timedelta, timezone

    rng = random.Random(seed)
    vocab = vocabulary()
    start = datetime(2025, 11, 20, tzinfo=timezone.utc)
    feed_bytes = page_bytes = 0
    for f in range(feeds):
        out = ['<?xml version="1.0" encoding="utf-8"?>', '<rss version="2.0"><channel>',
               f"<title>خبرگزاری {f}</title><link>{base}/</link><description>farm</description>"]
        for i in range(items):
            words = [rng.choice(vocab) for _ in range(rng.randint(170, 300))]
            if rng.random() < 0.03:
                words.insert(rng.randrange(len(words)), rng.choice(WATCHED))
            paragraphs = [" ".join(words[k:k + 60]) for k in range(0, len(words), 60)]
            title = " ".join(rng.choice(vocab) for _ in range(8))
            related = [" ".join(rng.choice(vocab) for _ in range(7)) for _ in range(5)]
            data = page(title, paragraphs, related)
            (folder / f"p{f:04d}-{i:02d}.html").write_bytes(data)
            page_bytes += len(data)
            when = format_datetime(start - timedelta(minutes=f * items + i))
            body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
            out.append(f"<item><title>{escape(title)}</title><link>{base}/p{f:04d}-{i:02d}.html</link>"
                       f"<guid>news{f}-{i}</guid><pubDate>{when}</pubDate>"
                       f"<description>{escape(body)}</description></item>")
        out.append("</channel></rss>")
        data = "\n".join(out).encode("utf-8")
        (folder / f"feed{f:04d}.xml").write_bytes(data)
        feed_bytes += len(data)
    return feed_bytes, page_bytes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--feeds", type=int, default=500)
    ap.add_argument("--items", type=int, default=40)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="articles-farm-"))
    farm = tmp / "site"
    farm.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    feed_bytes, page_bytes = make_farm(farm, base, args.feeds, args.items)
    n = args.feeds * args.items
    print(f"farm: {args.feeds} feeds x {args.items} items = {n:,} items ({feed_bytes / 1e6:.1f} MB of feeds), "
          f"{n:,} pages ({page_bytes / 1e6:.1f} MB)")
    subprocess.run([PY, "-m", "compileall", "-q", str(REPO / "monitor")], check=True, stdout=subprocess.DEVNULL)
    server = subprocess.Popen([PY, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(farm)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results: dict[str, dict] = {}
    try:
        for _ in range(100):  # until the server answers
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        watch = [{"name": w, "kind": "other", "terms": [w]} for w in WATCHED]
        feeds = [{"name": f"f{i:04d}", "url": f"{base}/feed{i:04d}.xml"} for i in range(args.feeds)]
        for mode in ("never", "always"):
            cfg = {"database": str(tmp / f"{mode}.db"), "corpus": [str(REPO / "fixtures" / "seeds")],
                   "http": {"timeout": 30, "concurrency": 8},
                   "articles": {"full_text": mode, "per_host": 8, "delay": 0, "deadline": "1h"},
                   "feeds": feeds, "watch": watch}
            (tmp / f"{mode}.yaml").write_text(json.dumps(cfg, ensure_ascii=False), encoding="utf-8")
            results[f"cold, full_text {mode}"] = measured([PY, "-m", "monitor", "poll", "--config",
                                                          str(tmp / f"{mode}.yaml")])
        import sqlite3

        conn = sqlite3.connect(tmp / "always.db")
        sources = dict(conn.execute("SELECT body_source, count(*) FROM items GROUP BY 1").fetchall())
        reasons = conn.execute("SELECT page_reason, count(*) FROM items WHERE page_status = 'failed'"
                               " GROUP BY 1 ORDER BY 2 DESC LIMIT 3").fetchall()
        conn.close()
    finally:
        server.terminate()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{'run':<24} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'all MB':>7} {'items/s':>9}  rc")
    for name, r in results.items():
        print(f"{name:<24} {r['wall']:>8.2f} {r['cpu']:>8.2f} {r['rss_mb']:>8.0f} {r['tree_mb']:>7.0f}"
              f" {n / r['wall']:>9,.0f}  {r['rc']}")
    never, always = results["cold, full_text never"], results["cold, full_text always"]
    print(f"\nitems judged on their page: {sources.get('page', 0):,} of {n:,}; failed pages: {reasons or 'none'}")
    print(f"always / never, wall (target <= 3): {always['wall'] / never['wall']:.2f};"
          f" cpu: {always['cpu'] / never['cpu']:.2f}")
    print(f"all processes at once, always (target <= 350 MB): {always['tree_mb']:.0f} MB")


if __name__ == "__main__":
    main()
