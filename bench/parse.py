"""Parse time of the fast path against feedparser on a generated farm, both through monitor.parse.parse_feed.

    .venv/bin/python bench/parse.py                 # 500 feeds x 40 items
    .venv/bin/python bench/parse.py --feeds 50 --items 20
    .venv/bin/python bench/parse.py --dates         # monitor.dates over the farm's 20,000 pubDates only

Each side runs in its own fresh process (MONITOR_FAST_PARSE=1 / =0) on the same bytes, so imports and caches
of one never help the other; the time is parse_feed over every feed, bodies already in memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHILD = """
import json, pathlib, sys, time
from monitor.parse import parse_feed
files = sorted(pathlib.Path(sys.argv[1]).glob('*.xml'))
data = [(f'http://127.0.0.1:8080/{f.name}', f.read_bytes()) for f in files]
parse_feed(data[0][1], content_type='application/rss+xml', url=data[0][0])  # imports and first-call costs
t = time.perf_counter(); c = time.process_time(); n = 0
for url, body in data:
    n += len(parse_feed(body, content_type='application/rss+xml', url=url))
print(json.dumps({'wall': time.perf_counter() - t, 'cpu': time.process_time() - c, 'items': n}))
"""


def run(folder: Path, fast: bool) -> dict:
    env = {**os.environ, "MONITOR_FAST_PARSE": "1" if fast else "0", "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", CHILD, str(folder)], capture_output=True, text=True, env=env,
                         check=True)
    return json.loads(out.stdout)


def time_dates(feeds: int, items: int) -> None:
    """parse_feed_date over the dates the farm writes (email.utils.format_datetime, as most feeds do): what one
    RFC 822 reading costs a cold poll, which decides whether it may have a second, faster twin."""
    import timeit
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    sys.path.insert(0, str(REPO))
    from monitor.dates import parse_feed_date

    start = datetime(2025, 11, 20, tzinfo=timezone.utc)
    raws = [format_datetime(start - timedelta(minutes=k)) for k in range(feeds * items)]
    best = min(timeit.repeat(lambda: [parse_feed_date(r) for r in raws], number=1, repeat=5))
    print(f"parse_feed_date: {best:.3f} s for {len(raws):,} dates ({best / len(raws) * 1e6:.1f} us each, best of 5)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--feeds", type=int, default=500)
    ap.add_argument("--items", type=int, default=40)
    ap.add_argument("--dates", action="store_true", help="time monitor.dates on the farm's dates and stop")
    args = ap.parse_args()
    if args.dates:
        time_dates(args.feeds, args.items)
        return
    sys.path.insert(0, str(REPO / "bench"))
    from farm import make_farm

    with tempfile.TemporaryDirectory(prefix="parse-farm-") as tmp:
        size = make_farm(Path(tmp), args.feeds, args.items)
        print(f"farm: {args.feeds} feeds x {args.items} items, {size / 1e6:.1f} MB")
        fast, slow = run(Path(tmp), True), run(Path(tmp), False)
    assert fast["items"] == slow["items"] == args.feeds * args.items, (fast, slow)
    for name, r in (("fast path", fast), ("feedparser", slow)):
        print(f"{name:<11} {r['wall']:7.2f} s wall {r['cpu']:7.2f} s cpu  {r['items'] / r['wall']:9,.0f} items/s")
    print(f"feedparser / fast path: {slow['wall'] / fast['wall']:.1f}x")


if __name__ == "__main__":
    main()
