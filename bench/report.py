"""Rendering a large report: `monitor report` over N flagged items (100,000 by default), wall time and peak RSS.

    .venv/bin/python bench/report.py                       # 100,000 items, --format html
    .venv/bin/python bench/report.py --items 20000 --format table --format json

Builds (once, cached under the temporary folder by N) a database of N new items, each flagged by one or two
watch entries of the shipped config, with titles, summaries and snippets of real Persian sentences from the
seed corpus, spread over 30 days; then runs the real CLI as a subprocess for each format, writing to a file
(-o), and reports the child's wall time and peak resident memory (getrusage RUSAGE_CHILDREN).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from monitor.store import Store  # noqa: E402

SHIPPED = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))


def sentences() -> list[str]:
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((REPO / "fixtures" / "seeds").glob("*.txt")))
    return [s.strip() for s in text.replace("\n", " ").split(".") if len(s.strip()) > 20]


def build(folder: Path, count: int) -> Path:
    db = folder / "report.db"
    if db.exists():
        return db
    rnd = random.Random(12)
    lines = sentences()
    watch = SHIPPED["watch"]
    start = datetime(2025, 11, 1, tzinfo=timezone.utc)
    store = Store.open(folder / "building.db")
    done = 0
    while done < count:
        n = min(5000, count - done)
        with store.transaction():
            ids = store.items.reserve_ids(n)
            rows = []
            for i in ids:
                when = start + timedelta(seconds=rnd.randrange(30 * 86400))
                rows.append({"id": i, "feed": rnd.choice(("mehr", "isna", "tasnim", "abna")), "key": f"k{i}",
                             "guid": f"g{i}", "link": f"https://www.mehrnews.com/news/{i}/x",
                             "title": rnd.choice(lines)[:120], "summary": " ".join(rnd.sample(lines, 3)),
                             "body": "", "published": when.isoformat(), "fetched_at": when.isoformat(),
                             "status": "new"})
            store.items.insert_new(rows)
            from monitor.models import Match

            for i in ids:
                entries = rnd.sample(watch, rnd.choice((1, 1, 2)))
                store.matches.replace(i, [Match(w["name"], w["kind"], (w["terms"][0],), rnd.randint(1, 4),
                                                rnd.choice(lines)[:200] + " " + w["terms"][0]) for w in entries])
        done += n
    store.close()
    os.replace(folder / "building.db", db)
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--format", dest="formats", action="append", default=None)
    args = parser.parse_args()
    folder = Path(tempfile.gettempdir()) / f"monitor-bench-report-{args.items}"
    folder.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    db = build(folder, args.items)
    print(f"database: {db} ({args.items} flagged items, built or reused in {time.perf_counter() - t0:.1f} s)")
    config = folder / "config.yaml"
    config.write_text(yaml.safe_dump({"database": str(db), "feeds": [{"name": "mehr", "url": "https://x/rss"}],
                                      "watch": SHIPPED["watch"]}, allow_unicode=True), encoding="utf-8")
    for fmt in args.formats or ["html"]:
        out = folder / f"report.{fmt}"
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "monitor", "report", "--config", str(config), "--since",
                               "2025-10-01", "--until", "2025-12-15", "--format", fmt, "-o", str(out)],
                              cwd=REPO, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if proc.returncode != 0:
            sys.exit(f"{fmt}: exit {proc.returncode}: {proc.stderr}")
        note = "" if peak > before else " (peak not above an earlier format's)"
        print(f"{fmt:>8}: {seconds:5.1f} s, peak RSS {peak / 1024:6.0f} MB{note}, "
              f"output {out.stat().st_size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
