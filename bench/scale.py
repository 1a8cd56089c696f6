"""Several workers on one PostgreSQL database (issue 16): 1, 2 and 4 `monitor run` on a farm of slow feeds, and
SQLite's single `monitor run` on the same farm.

    .venv/bin/python bench/scale.py                        # 2,000 feeds x 10 items, 100 ms per response
    .venv/bin/python bench/scale.py --feeds 300 --workers 1,2

The farm (bench/farm.py's feeds) is served from this process on 127.0.0.1, each response held back `--delay`
seconds as a distant server's would be: the workload is I/O-bound, which is what several workers are for. Each
run starts from an empty database and ends when every feed has been stored once (the schedule's interval is an
hour, so none is due twice). A throwaway PostgreSQL 15 is started for the runs (tests/pg_server.py, with
PostgreSQL's own durability settings), unless --url names one (each run then gets a new database on it).

Printed per run: wall seconds from the workers' launch, items per second over that and over the storing alone
(first to last item stored: the workers' start-up, about 3 s of imports and migration, left out), worker CPU
seconds per 1,000 items (every worker process, user + system, from /proc), the PostgreSQL server's CPU per
1,000 items, and requests per feed (the server counts them: 1.00 means no feed was fetched twice).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))

from farm import make_farm  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, children: bool = False) -> float:
    """user + system seconds of a process (and of its reaped children, when asked), 0 once it is gone."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / TICK


def server_cpu(postmaster: int | None) -> float:
    """The PostgreSQL server's CPU: the postmaster with the backends it reaped, and the live ones."""
    if postmaster is None:
        return 0.0
    total = cpu_seconds(postmaster, children=True)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == postmaster:
                total += cpu_seconds(int(entry))
    return total


def run(database: str, workers: int, farm_urls: list[str], server, tmp: Path, concurrency: int,
        postmaster: int | None, timeout: float) -> dict:
    """`workers` × `monitor run` until every feed is stored once; the measures."""
    import psycopg  # noqa: F401 - fails early when the postgresql extra is missing
    from monitor.store import Store

    config = tmp / f"config-{workers}-{time.monotonic_ns()}.yaml"
    config.write_text(yaml.safe_dump({
        "database": database, "articles": {"full_text": "never"}, "http": {"concurrency": concurrency},
        "schedule": {"interval": "1h", "jitter": 0},
        "feeds": [{"name": f"f{i:05d}", "url": url} for i, url in enumerate(farm_urls)],
        "watch": [{"name": "Amani", "kind": "figure", "terms": ["محمدعلی امانی"]}]}), encoding="utf-8")
    server.requests.clear()
    pg_before = server_cpu(postmaster)
    started = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-m", "monitor", "run", "--config", str(config)],
                              stdout=subprocess.DEVNULL, stderr=open(tmp / f"worker-{workers}-{n}.log", "w"),
                              cwd=REPO) for n in range(workers)]
    done, cpu = 0, 0.0
    try:
        while time.monotonic() - started < timeout:
            time.sleep(0.25)
            try:
                store = Store.open(database, readonly=True)
            except Exception:
                continue  # not created or migrated yet
            try:
                done = store.db.one("SELECT count(*) FROM feeds WHERE last_status IS NOT NULL")
                items = store.items.count()
                first, last = store.db.execute("SELECT min(fetched_at), max(fetched_at) FROM items").fetchone()
            finally:
                store.close()
            if done >= len(farm_urls):
                break
        wall = time.monotonic() - started
        cpu = sum(cpu_seconds(p.pid) for p in procs)
    finally:
        for p in procs:
            p.send_signal(signal.SIGKILL)
            p.wait()
    pg = server_cpu(postmaster) - pg_before
    from datetime import datetime

    steady = (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds() if first else wall
    return {"workers": workers, "wall": wall, "steady": max(steady, 1.0), "items": items, "feeds": done, "cpu": cpu,
            "pg_cpu": pg, "requests": len(server.requests)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--feeds", type=int, default=2000)
    ap.add_argument("--items", type=int, default=10)
    ap.add_argument("--delay", type=float, default=0.1, help="seconds each response is held back (%(default)s)")
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--concurrency", type=int, default=4, help="http.concurrency of each worker (%(default)s)")
    ap.add_argument("--url", help="a PostgreSQL server to use (a database per run is created on it)")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    from monitor.feedserver import FeedServer
    from pg_server import PgServer, create_db

    tmp = Path(tempfile.mkdtemp(prefix="scale-"))
    farm = tmp / "feeds"
    farm.mkdir()
    make_farm(farm, args.feeds, args.items, length=(120, 200))
    pg = None if args.url else PgServer(durable=True)
    admin = args.url or pg.url()
    postmaster = None if pg is None else int((pg.data / "postmaster.pid").read_text().split()[0])
    rows = []
    try:
        with FeedServer(farm, delay=args.delay) as server:
            urls = [server.url(f"feed{i:04d}.xml") for i in range(args.feeds)]
            print(f"farm: {args.feeds} feeds x {args.items} items, {args.delay * 1000:.0f} ms per response;"
                  f" http.concurrency {args.concurrency} per worker; {os.cpu_count()} cores", flush=True)
            runs = [("postgresql", int(n)) for n in args.workers.split(",")]
            if not args.no_sqlite:
                runs.append(("sqlite", 1))
            for kind, n in runs:
                database = create_db(admin) if kind == "postgresql" else str(tmp / f"sqlite-{n}.db")
                r = run(database, n, urls, server, tmp, args.concurrency, postmaster if kind == "postgresql"
                        else None, args.timeout)
                r["store"] = kind
                rows.append(r)
                print(f"  {kind} x{n}: {r['feeds']} feeds, {r['items']} items in {r['wall']:.1f}s", flush=True)
    finally:
        if pg is not None:
            pg.stop()
    base = next((r for r in rows if r["store"] == "postgresql" and r["workers"] == 1), None)
    print()
    print("| store | workers | wall s | items/s (wall) | items/s (storing) | x 1 worker | worker CPU s / 1k items"
          " | PG CPU s / 1k items | requests / feed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        rate = r["items"] / r["steady"]
        ratio = f"{rate / (base['items'] / base['steady']):.2f}" if base else "-"
        per_k = 1000 / max(1, r["items"])
        pg_cpu = f"{r['pg_cpu'] * per_k:.2f}" if r["store"] == "postgresql" else "-"
        print(f"| {r['store']} | {r['workers']} | {r['wall']:.1f} | {r['items'] / r['wall']:.0f} | {rate:.0f} | {ratio}"
              f" | {r['cpu'] * per_k:.2f} | {pg_cpu} | {r['requests'] / max(1, r['feeds']):.2f} |")
    print("\nitems/s (storing): between the first and the last item stored (start-up of the workers left out);"
          " x 1 worker compares those.")


if __name__ == "__main__":
    main()
