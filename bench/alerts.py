"""Alert latency and the daemon's memory: from a flagged item's commit to its receipt, over 1,000 flagged items.

    .venv/bin/python bench/alerts.py                      # 1,000 items, 20 new per poll, one poll a second
    .venv/bin/python bench/alerts.py --items 2000 --per-poll 50

A feed on 127.0.0.1 publishes `--per-poll` new items at every request, each unique and each mentioning a watched
party; `monitor run` (a subprocess, interval 1 s) polls it and sends every alert through Apprise's json:// to a
receiver on 127.0.0.1, which notes when each arrived. The commit time is the outbox row's created_at, written in
the transaction that stores the item, just before its commit. The daemon's resident memory (VmRSS) is sampled
every half second. Prints one table: latency median / p95 / max, and memory at the first alert and as the alerts
accumulate. Target: p95 <= 2 s, memory flat.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

import yaml

REPO = Path(__file__).resolve().parent.parent
LETTERS = "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی"
WATCH = [{"name": "Motalefeh Islamic Party", "kind": "party", "terms": ["حزب موتلفه اسلامی", "موتلفه"]}]


class GrowingFeed:
    """An RSS feed that publishes `per_poll` new items at each request, up to `total`; it serves the newest 100."""

    def __init__(self, total: int, per_poll: int) -> None:
        self.total, self.per_poll, self.items, self.lock = total, per_poll, [], threading.Lock()
        rng = random.Random(14)
        self.words = ["".join(rng.choice(LETTERS) for _ in range(rng.randint(3, 7))) for _ in range(20_000)]
        self.rng = rng
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = feed.body()
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/feed.xml"

    def body(self) -> bytes:
        with self.lock:
            for _ in range(min(self.per_poll, self.total - len(self.items))):
                n = len(self.items)
                text = " ".join(self.rng.choice(self.words) for _ in range(60))
                self.items.append((n, f"خبر {n} {' '.join(self.rng.choice(self.words) for _ in range(6))}",
                                   f"{text} حزب موتلفه اسلامی {' '.join(self.rng.choice(self.words) for _ in range(20))}"))
            newest = self.items[-100:][::-1]
        entries = "".join(f"<item><guid>bench-{n}</guid><link>https://bench.example.org/{n}</link>"
                          f"<title>{escape(title)}</title><description>{escape(text)}</description></item>"
                          for n, title, text in newest)
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>bench</title>'
                f"{entries}</channel></rss>").encode()


class Receiver:
    """Apprise's json:// posts: the id at the end of each message and when it arrived."""

    def __init__(self) -> None:
        self.arrived: dict[int, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                at = time.time()
                ref = payload["message"].rsplit("id ", 1)[1].strip()
                receiver.arrived.setdefault(int(ref), at)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self) -> str:
        return f"json://127.0.0.1:{self.httpd.server_address[1]}/alerts"


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--per-poll", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--no-notify", action="store_true",
                        help="the same run without a destination: the daemon's memory without alerts, to compare")
    args = parser.parse_args()

    feed, receiver = GrowingFeed(args.items, args.per_poll), Receiver()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.yaml"
        config.write_text(yaml.safe_dump({
            "database": "bench.db", "schedule": {"interval": "1s", "jitter": 0},
            "articles": {"full_text": "never"},  # the items link to bench.example.org: no page is fetched
            "feeds": [{"name": "bench", "url": feed.url()}], "watch": WATCH,
            "notify": [] if args.no_notify else [{"name": "desk", "url": receiver.url()}]}, allow_unicode=True),
            encoding="utf-8")
        log = open(Path(tmp) / "daemon.log", "w")
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "monitor", "run", "--config", str(config)], cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=log)
        samples: list[tuple[int, int]] = []  # (alerts received so far, RSS KiB)

        def done() -> int:
            if not args.no_notify:
                return len(receiver.arrived)
            try:  # without alerts: the items stored so far stand for them
                with sqlite3.connect(Path(tmp) / "bench.db", timeout=10) as db:
                    return db.execute("SELECT count(*) FROM items").fetchone()[0]
            except sqlite3.Error:
                return 0

        try:
            while (count := done()) < args.items and time.monotonic() - started < args.timeout:
                if proc.poll() is not None:
                    sys.exit(f"the daemon exited ({proc.returncode}); see its log: {log.name}")
                rss = rss_kib(proc.pid)
                if rss is not None:
                    samples.append((count, rss))
                time.sleep(0.5)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
            log.close()
        elapsed = time.monotonic() - started
        conn = sqlite3.connect(Path(tmp) / "bench.db")
        queued = {} if args.no_notify else dict(conn.execute("SELECT id, created_at FROM outbox"))
        conn.close()
    if args.no_notify:
        print(f"no notify: {args.items} items stored in {elapsed:.0f}s; daemon RSS (MiB) at 0/25/50/75/100%: " +
              " / ".join(f"{next((r for n, r in samples if n >= max(1, int(x * args.items))), samples[-1][1]) / 1024:.1f}"
                         for x in (0.0, 0.25, 0.5, 0.75, 1.0)))
        return

    latencies = sorted(receiver.arrived[i] - datetime.fromisoformat(queued[i]).timestamp()
                       for i in receiver.arrived if i in queued)
    if len(latencies) < args.items:
        print(f"warning: only {len(latencies)} of {args.items} alerts arrived in {elapsed:.0f}s")
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(f"alerts: {len(latencies)} flagged items, {args.per_poll} new per poll, one poll a second; "
          f"{elapsed:.0f}s in all (Python {sys.version.split()[0]}, {os.cpu_count()} cores)")
    print()
    print("| commit -> receipt | seconds |")
    print("|---|---|")
    print(f"| median | {statistics.median(latencies):.3f} |")
    print(f"| p95 | {p95:.3f} |")
    print(f"| max | {latencies[-1]:.3f} |")
    print()
    print("| alerts received | daemon RSS (MiB) |")
    print("|---|---|")
    after_first = [(n, r) for n, r in samples if n > 0]
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):
        target = max(1, int(share * args.items))
        n, rss = next(((n, r) for n, r in after_first if n >= target), after_first[-1] if after_first else (0, 0))
        print(f"| {n} | {rss / 1024:.1f} |")
    if after_first:
        print(f"| max over the run | {max(r for _, r in samples) / 1024:.1f} |")
    print()
    print(f"target: p95 <= 2 s ({'met' if p95 <= 2 else 'NOT met'}); memory flat: "
          f"{(after_first[-1][1] - after_first[0][1]) / 1024:+.1f} MiB from the first alert to the last"
          if after_first else "no alert arrived")


if __name__ == "__main__":
    main()
