"""What feed politeness per host (http.per_host, http.host_delay) costs a poll, and that a crowded host does not
hold up the others.

    .venv/bin/python bench/hosts.py                  # 1 crowded host of 40 feeds, 3 hosts of 8, answers in 100 ms
    .venv/bin/python bench/hosts.py --crowded 20 --others 4 --workers 2

Each host is its own loopback address (127.0.0.1, 127.0.0.2, ...: Linux routes all of 127/8 to lo) with a server
that waits `--answer` seconds per request and records when each started and ended. Each setting is one real
`monitor poll` (a subprocess, MONITOR_WORKERS=--workers) on a fresh SQLite file. Prints, per setting: the
poll's wall time, the crowded host's most requests in flight and smallest gap between two starts, and when
(seconds after the poll's first request) the crowded host's and the other hosts' last requests ended.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
SETTINGS = [("off (default)", {}), ("per_host 2", {"per_host": 2}),
            ("per_host 2, host_delay 0.1s", {"per_host": 2, "host_delay": 0.1})]


def serve(address: str, answer: float, seen: list, lock: threading.Lock) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            started = time.monotonic()
            time.sleep(answer)
            name = self.path.strip("/")
            body = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title><link>https://x.example/'
                    f"</link><description>d</description><item><title>t</title><link>https://x.example/{name}"
                    f"</link><guid>{name}</guid><description>متن</description></item></channel></rss>").encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            with lock:
                seen.append((address, started, time.monotonic()))

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer((address, 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def most_in_flight(spans: list) -> int:
    now = most = 0
    for _, step in sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans]):
        now += step
        most = max(most, now)
    return most


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--crowded", type=int, default=40, help="feeds on the crowded host")
    ap.add_argument("--hosts", type=int, default=3, help="other hosts")
    ap.add_argument("--others", type=int, default=8, help="feeds on each other host")
    ap.add_argument("--answer", type=float, default=0.1, help="seconds each server waits before answering")
    ap.add_argument("--workers", type=int, default=0, help="MONITOR_WORKERS for the poll (0: threads)")
    args = ap.parse_args()
    seen: list = []
    lock = threading.Lock()
    servers = [serve(f"127.0.0.{k + 1}", args.answer, seen, lock) for k in range(args.hosts + 1)]
    feeds = [(f"c{i}", f"http://127.0.0.1:{servers[0].server_address[1]}/c{i}") for i in range(args.crowded)]
    feeds += [(f"h{k}-{i}", f"http://127.0.0.{k + 1}:{servers[k].server_address[1]}/h{k}-{i}")
              for k in range(1, args.hosts + 1) for i in range(args.others)]
    print(f"{args.crowded} feeds on 127.0.0.1, {args.hosts} hosts of {args.others}; answers in {args.answer:g}s; "
          f"workers {args.workers}; http.concurrency 4")
    print(f"{'setting':30} {'poll s':>7} {'crowded in flight':>18} {'min gap s':>10} {'crowded done s':>15}"
          f" {'others done s':>14}")
    for label, http in SETTINGS:
        with tempfile.TemporaryDirectory(prefix="hostsbench-") as tmp:
            config = Path(tmp) / "config.yaml"
            config.write_text(yaml.safe_dump({"database": str(Path(tmp) / "m.db"), "corpus": [],
                                              "articles": {"full_text": "never"}, "http": http,
                                              "feeds": [{"name": n, "url": u} for n, u in feeds]}), encoding="utf-8")
            seen.clear()
            began = time.monotonic()
            proc = subprocess.run([sys.executable, "-m", "monitor", "poll", "--config", str(config)], cwd=REPO,
                                  capture_output=True, text=True,
                                  env={**os.environ, "MONITOR_WORKERS": str(args.workers)})
            wall = time.monotonic() - began
            if proc.returncode != 0:
                sys.exit(f"{label}: the poll failed: {proc.stderr.strip()[-500:]}")
            first = min(s for _, s, _ in seen)
            crowded = sorted((s, e) for a, s, e in seen if a == "127.0.0.1")
            others = [e for a, _, e in seen if a != "127.0.0.1"]
            gap = min((b[0] - a[0] for a, b in zip(crowded, crowded[1:])), default=0.0)
            print(f"{label:30} {wall:7.2f} {most_in_flight(crowded):18d} {gap:10.3f} "
                  f"{max(e for _, e in crowded) - first:15.2f} {max(others, default=first) - first:14.2f}")
    for httpd in servers:
        httpd.shutdown()


if __name__ == "__main__":
    main()
