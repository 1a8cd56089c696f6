"""Many cold polls in a row with worker processes over the fixture feeds: does any feed ever fail?

A race in lazily built tables failed about one poll in 25 with workers (issue 11), and only a cold start of
the workers' text stack shows it, so every poll here starts with an empty database (the workers analyse every
item) and forced workers (MONITOR_WORKERS, default 2). The fixtures are served repeatedly under distinct names
so each worker gets several feeds at once. Prints one line per failing poll and a table at the end.

    .venv/bin/python bench/polls.py              # 50 polls
    .venv/bin/python bench/polls.py --polls 200 --workers 2
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.feedserver import FeedServer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--polls", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--copies", type=int, default=5, help="each fixture feed listed this many times")
    args = ap.parse_args()
    feeds_dir = REPO / "fixtures" / "feeds"
    watch = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))["watch"]
    files = sorted(p for p in feeds_dir.iterdir() if p.suffix in (".xml", ".atom"))
    failed_polls, failed_feeds, seconds = 0, 0, []
    with FeedServer(feeds_dir) as server, tempfile.TemporaryDirectory(prefix="polls-") as tmp:
        feeds = [{"name": f"{p.stem}-{i}", "url": server.url(p.name)} for i in range(args.copies) for p in files]
        for n in range(args.polls):
            config = Path(tmp) / f"config-{n}.yaml"
            config.write_text(yaml.safe_dump({"database": str(Path(tmp) / f"db-{n}.db"), "corpus": [],
                                              "articles": {"full_text": "never"},  # feeds only, as measured
                                              "feeds": feeds, "watch": watch}, allow_unicode=True),
                              encoding="utf-8")
            started = time.monotonic()
            proc = subprocess.run([sys.executable, "-m", "monitor", "poll", "--config", str(config)],
                                  capture_output=True, text=True, cwd=REPO,
                                  env={**os.environ, "MONITOR_WORKERS": str(args.workers)})
            seconds.append(time.monotonic() - started)
            found = re.search(r"\((\d+) ok, (\d+) not modified, (\d+) failed\)", proc.stdout)
            bad = int(found.group(3)) if found else len(feeds)
            if proc.returncode or bad:
                failed_polls += 1
                failed_feeds += bad
                errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
                print(f"poll {n + 1}: exit {proc.returncode}, {bad} feeds failed: {errors[:3]} {proc.stderr[-300:]}")
            os.remove(Path(tmp) / f"db-{n}.db")
    print("\n| polls | feeds each | workers | polls with a failure | feeds failed | median s |")
    print("|---|---|---|---|---|---|")
    print(f"| {args.polls} | {len(feeds)} | {args.workers} | {failed_polls} | {failed_feeds} |"
          f" {sorted(seconds)[len(seconds) // 2]:.2f} |")


if __name__ == "__main__":
    main()
