"""The article stage on real and fixture pages: extraction time per page, token precision and recall on the
gold pages, and the lead-share gap that monitor.article.accept.LEAD_SHARE sits in.

    .venv/bin/python bench/articles.py                  # extraction tables (about 10 s)
    .venv/bin/python bench/articles.py --options        # also trafilatura's options side by side
    .venv/bin/python bench/articles.py --farm           # also the 500 x 40 farm with pages (H2's part, below)

Times are per page of read_page (decode, extract, accept: what a poll pays per page), CPU and wall clock, the
median and 95th percentile over --repeat passes of every page after one warm-up pass (the first page pays for importing
trafilatura and building its caches: that is startup, not extraction). The pages: bench/pagecorpus.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from pagecorpus import Page, all_pages, token_scores  # noqa: E402

from monitor.article import read_page  # noqa: E402
from monitor.article import extract as extract_module  # noqa: E402
from monitor.article.accept import LEAD_SHARE, lead_check  # noqa: E402
from monitor.article.decode import decode_html  # noqa: E402
from monitor.text import html_to_text  # noqa: E402

MIN_CHARS = 500


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timing(pages: list[Page], repeat: int, clock=time.process_time) -> list[float]:  # noqa: ANN001
    """Milliseconds per read_page call, every page `repeat` times after one warm-up pass. CPU time by default:
    on a machine shared with other work, wall time measures the neighbours as much as the extraction."""
    bodies = [(p.body, p.title, p.lead) for p in pages]
    for body, title, lead in bodies:
        read_page(body, "text/html", None, title=title, feed_text=lead, min_chars=MIN_CHARS)
    out = []
    for _ in range(repeat):
        for body, title, lead in bodies:
            start = clock()
            read_page(body, "text/html", None, title=title, feed_text=lead, min_chars=MIN_CHARS)
            out.append((clock() - start) * 1000)
    return out


def grade(pages: list[Page]) -> None:
    print(f"{'page':34} {'source':8} {'chars':>6} {'precision':>9} {'recall':>7}  verdict")
    precisions, recalls = [], []
    for p in pages:
        result = read_page(p.body, "text/html", None, title=p.title, feed_text=p.lead, min_chars=MIN_CHARS)
        text = result.text or ""
        if p.gold is not None:
            precision, recall = token_scores(text, p.gold)
            precisions.append(precision)
            recalls.append(recall)
            scores = f"{precision:9.3f} {recall:7.3f}"
        else:
            scores = f"{'-':>9} {'-':>7}"
        print(f"{p.name[:34]:34} {p.source:8} {len(text):6,} {scores}  {result.reason or 'accepted'}")
    if precisions:
        print(f"{'gold pages: min':34} {'':8} {'':6} {min(precisions):9.3f} {min(recalls):7.3f}"
              f"  (targets: precision >= 0.85, recall >= 0.90)")


def lead_gap(pages: list[Page]) -> None:
    """The share of each gold page's own lead found in its extraction and in its page, and the largest share of
    any OTHER page's lead: LEAD_SHARE must sit between the smallest own and the largest other."""
    gold = [p for p in pages if p.gold is not None and p.lead]
    texts = {}
    for p in gold:
        html = decode_html(p.body, "text/html")
        texts[p.name] = (extract_module.extract_text(html, None, p.title) or "", html_to_text(html))
    print(f"\n{'lead of':34} {'own: text':>10} {'own: page':>10} {'others: max':>12}  (LEAD_SHARE {LEAD_SHARE})")
    own_min, other_max = 1.0, 0.0
    for p in gold:
        def share(text: str) -> float:
            check = lead_check(text, p.lead)
            return check.found / check.total if check.total else 1.0
        in_text, in_page = share(texts[p.name][0]), share(texts[p.name][1])
        others = max(max(share(t), share(v)) for name, (t, v) in texts.items() if name != p.name)
        own_min, other_max = min(own_min, max(in_text, in_page)), max(other_max, others)
        print(f"{p.name[:34]:34} {in_text:10.2f} {in_page:10.2f} {others:12.2f}")
    print(f"{'smallest own / largest other':34} {own_min:21.2f} {other_max:12.2f}")


def options(pages: list[Page], repeat: int) -> None:
    """trafilatura's options side by side: time, and the worst precision / recall over the gold pages."""
    base = dict(extract_module.EXTRACT_OPTIONS)
    variants = {"chosen": {}, "tables on": {"include_tables": True}, "favor_precision": {"favor_precision": True},
                "favor_recall": {"favor_recall": True}, "fast": {"fast": True}}
    print(f"\n{'trafilatura options':20} {'median ms':>10} {'p95 ms':>8} {'min P':>7} {'min R':>7}   (CPU ms)")
    try:
        for name, change in variants.items():
            extract_module.EXTRACT_OPTIONS = {**base, **change}
            times = timing(pages, repeat)
            scores = [token_scores(read_page(p.body, "text/html", None, title=p.title, feed_text=p.lead,
                                             min_chars=MIN_CHARS).text or "", p.gold)
                      for p in pages if p.gold is not None]
            print(f"{name:20} {statistics.median(times):10.1f} {percentile(times, 0.95):8.1f}"
                  f" {min(s[0] for s in scores):7.3f} {min(s[1] for s in scores):7.3f}")
    finally:
        extract_module.EXTRACT_OPTIONS = base
    readability(pages, repeat)


def readability(pages: list[Page], repeat: int) -> None:
    """readability-lxml (Miniflux's and the issue's alternative) on the same gold pages, when it is installed:
    its summary as plain text (monitor.text.html_to_text), graded the same way; no lead put back, no link
    lines dropped. Not a dependency: install it (`pip install readability-lxml`) to see this row."""
    try:
        from readability import Document
    except ImportError:
        print(f"{'readability-lxml':20} not installed")
        return
    gold = [p for p in pages if p.gold is not None]
    html = [decode_html(p.body, "text/html") for p in gold]
    texts, times = [], []
    for _ in range(repeat):
        texts = []
        for page in html:
            start = time.process_time()
            texts.append(html_to_text(Document(page).summary(html_partial=True)))
            times.append((time.process_time() - start) * 1000)
    scores = [token_scores(text, p.gold) for text, p in zip(texts, gold)]
    print(f"{'readability-lxml':20} {statistics.median(times):10.1f} {percentile(times, 0.95):8.1f}"
          f" {min(s[0] for s in scores):7.3f} {min(s[1] for s in scores):7.3f}   (gold pages only)")


def farm() -> None:
    # --- H2 (branch article-fetch): the 500 x 40 farm with article pages served, cold, `full_text: always`
    # against `never`, peak memory of all processes. Fill in here; the extraction part above stays as it is.
    print("\n--farm: not written yet (the fetching side, branch article-fetch)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="timed passes over every page (default 5)")
    ap.add_argument("--options", action="store_true", help="also compare trafilatura's options")
    ap.add_argument("--farm", action="store_true", help="also the farm with article pages (H2's part)")
    args = ap.parse_args()
    pages = all_pages()
    print(f"read_page over {len(pages)} pages x {args.repeat} (target: median <= 30 ms a page)")
    for label, clock in (("CPU", time.process_time), ("wall", time.perf_counter)):
        times = timing(pages, args.repeat, clock)
        print(f"  {label:4} median {statistics.median(times):6.1f} ms   p95 {percentile(times, 0.95):6.1f} ms"
              f"   max {max(times):6.1f} ms")
    print()
    grade(pages)
    lead_gap(pages)
    if args.options:
        options(pages, args.repeat)
    if args.farm:
        farm()


if __name__ == "__main__":
    main()
