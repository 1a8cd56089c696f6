"""Re-matching stored items after a watch-list edit: 100,000 items in-process, then the daemon end to end.

    .venv/bin/python bench/rematch.py                 # 100,000 items
    .venv/bin/python bench/rematch.py --items 20000 --skip-live

Part 1 builds a database of N items (bodies of ~1,500 characters of real Persian sentences from the seed
corpus, mixed so that about one item in twelve mentions a watched name), matches it once with the shipped watch
list minus «Dmitry Medvedev», then times monitor.rematch.rematch (the daemon's code) for: the entry added,
nothing changed, and the entry removed again.

Part 2 (the figure the issue asks for): `monitor run` on a copy of that database and on a 14-item one; appends
the entry to config.yaml and times from the save until `monitor report --format json` shows the new flags.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from monitor.config import load_config  # noqa: E402
from monitor.match import Matcher  # noqa: E402
from monitor.rematch import rematch  # noqa: E402
from monitor.store import Store  # noqa: E402

MEDVEDEV = {"name": "Dmitry Medvedev", "kind": "figure", "terms": ["دیمیتری مدودف", "دمیتری مدودف", "مدودف"]}
SHIPPED = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))["watch"]
WATCH = [w for w in SHIPPED if w["name"] != MEDVEDEV["name"]]


def sentences() -> list[str]:
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((REPO / "fixtures" / "seeds").glob("*.txt")))
    parts = [s.strip() for s in re.split(r"[.؟!\n]", text) if len(s.strip()) > 40]
    # Most news mentions nobody we watch: keep sentences without watched names as the bulk.
    quiet = [s for s in parts if not any(t in s for w in SHIPPED for t in w["terms"])]
    loud = [s for s in parts if s not in quiet]
    return quiet, loud


def write_config(folder: Path, db: Path, watch: list[dict]) -> Path:
    path = folder / "config.yaml"
    raw = {"database": str(db), "schedule": {"interval": "1h", "jitter": 0}, "feeds": [], "watch": watch}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def build(db: Path, n: int) -> None:
    quiet, loud = sentences()
    rng = random.Random(4)
    store = Store.open(db)
    started = time.monotonic()
    with store.transaction():
        rows = []
        for i, item_id in enumerate(store.items.reserve_ids(n)):
            body = []
            while sum(map(len, body)) < 1500:
                body.append(rng.choice(loud if rng.random() < 0.01 else quiet))
            if i % 500 == 0:  # 0.2% of the items mention the entry the bench adds and removes
                body.append("دمیتری مدودف، معاون رئیس شورای امنیت روسیه، در این دیدار سخن گفت")
            rows.append({"id": item_id, "feed": f"feed{i % 12}", "key": f"k{i}", "title": rng.choice(quiet)[:90],
                         "body": ". ".join(body), "fetched_at": "2025-11-25T08:00:00+00:00", "status": "new"})
        store.items.insert_new(rows)
    store.close()
    print(f"built {n:,} items in {time.monotonic() - started:.1f}s ({db.stat().st_size / 1e6:.0f} MB)")


def timed(db: Path, watch: list[dict], label: str) -> None:
    store = Store.open(db)
    matcher = Matcher(load_config(write_config(db.parent, db, watch)).watch)
    p = rematch(store, matcher)
    store.close()
    print(f"{label:<34} {p.done:>8,} items in {p.seconds:6.2f}s = {p.done / p.seconds:8,.0f} items/s;"
          f" {p.changed:,} changed, {p.added:,} flags added, {p.removed:,} removed")


def live(db: Path, label: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="rematch-live-"))
    try:
        copy = folder / "live.db"
        shutil.copy(db, copy)
        config = write_config(folder, copy, WATCH)
        env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
        log = open(folder / "daemon.log", "w")
        proc = subprocess.Popen([sys.executable, "-m", "monitor", "run", "--config", str(config)],
                                stderr=log, stdout=subprocess.DEVNULL, cwd=REPO, env=env)
        try:
            while "rematch: done" not in (folder / "daemon.log").read_text():  # the start-up check
                time.sleep(0.2)
            with open(config, "a", encoding="utf-8") as fh:
                fh.write(yaml.safe_dump([MEDVEDEV], allow_unicode=True))
            saved = time.monotonic()
            while (folder / "daemon.log").read_text().count("rematch: done") < 2:
                time.sleep(0.05)
            rematched = time.monotonic() - saved
            while True:
                out = subprocess.run([sys.executable, "-m", "monitor", "report", "--config", str(config),
                                      "--since", "2000-01-01", "--format", "json"], capture_output=True,
                                     text=True, cwd=REPO, env=env)
                items = json.loads(out.stdout)["items"] if out.returncode == 0 else []
                if any(m["watch"] == MEDVEDEV["name"] for it in items for m in it["matches"]):
                    break
                time.sleep(0.1)
            print(f"{label:<34} save -> re-match done (log): {rematched:.1f}s; -> `monitor report` shows the new"
                  f" flags: {time.monotonic() - saved:.1f}s")
        finally:
            proc.terminate()
            proc.wait(timeout=15)
            log.close()
    finally:
        shutil.rmtree(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--skip-live", action="store_true")
    parser.add_argument("--live-only-small", action="store_true", help="skip the 100,000-item part")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="rematch-bench-"))
    try:
        db = folder / "bench.db"
        if not args.live_only_small:
            build(db, args.items)
            timed(db, WATCH, "first match (nothing stored yet)")
            timed(db, WATCH + [MEDVEDEV], "one entry added")
            timed(db, WATCH + [MEDVEDEV], "nothing changed")
            timed(db, WATCH, "the entry removed")
        if not args.skip_live:
            small = folder / "small.db"
            build(small, 14)
            timed(small, WATCH, "14 items: first match")
            live(small, "daemon, 14 items:")
            if not args.live_only_small:
                live(db, f"daemon, {args.items:,} items:")
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
