"""`monitor feeds import` and `monitor feeds add` as a user waits for them: wall time of the real CLI.

    .venv/bin/python bench/feeds.py              # 50 and 500 feeds into the shipped config; discovery on loopback
    .venv/bin/python bench/feeds.py --runs 5

Import: an OPML file of N feeds in 5 folders is imported into a copy of the shipped config.yaml (a fresh copy each
run), so each run pays the parse, the canonical-URL check, the splice, the full config validation of the edited
file, the backup and the rename. Add: a page on 127.0.0.1 whose feed is found only at the last common path
(every earlier candidate a 404), the worst case of discovery short of timeouts. Prints medians.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))


def opml(n: int) -> str:
    folders = {f"folder-{k}": [] for k in range(5)}
    for i in range(n):
        folders[f"folder-{i % 5}"].append(f'<outline type="rss" text="منبع {i}" xmlUrl="https://site{i}.example/rss"/>')
    body = "".join(f'<outline text="{name}">{"".join(lines)}</outline>' for name, lines in folders.items())
    return f'<?xml version="1.0" encoding="UTF-8"?><opml version="2.0"><head/><body>{body}</body></opml>'


def cli(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "monitor", *args], check=True, capture_output=True, cwd=REPO)
    return time.perf_counter() - started


def bench_import(n: int, runs: int) -> list[float]:
    shipped = (REPO / "config.yaml").read_text(encoding="utf-8").replace(
        "corpus: [fixtures/seeds]", f"corpus: [{REPO / 'fixtures' / 'seeds'}]")
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        feeds = Path(tmp) / "feeds.opml"
        feeds.write_text(opml(n), encoding="utf-8")
        for _ in range(runs):
            config = Path(tmp) / "config.yaml"
            config.write_text(shipped, encoding="utf-8")
            times.append(cli("feeds", "import", str(feeds), "--config", str(config)))
            text = config.read_text(encoding="utf-8")
            assert text.count("\n") == shipped.count("\n") + n and text.startswith(shipped[:2000])
    return times


def bench_add(runs: int) -> list[float]:
    from conftest import LoopbackServer
    from monitor.feeds.discover import COMMON_PATHS

    feed = (REPO / "fixtures" / "feeds" / "mehr.xml").read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/":
                body, kind = b"<html><head><title>x</title></head><body>home</body></html>", "text/html"
            elif self.path == COMMON_PATHS[-1]:
                body, kind = feed, "application/rss+xml"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = LoopbackServer(Handler)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "config.yaml"
            config.write_text("feeds: []\n", encoding="utf-8")
            return [cli("feeds", "add", server.url(""), "--dry-run", "--config", str(config)) for _ in range(runs)]
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"| command | median s | best s |\n|---|---|---|")
    for n in (50, 500):
        times = bench_import(n, args.runs)
        print(f"| feeds import, {n} feeds into the shipped config | {statistics.median(times):.2f} | {min(times):.2f} |")
    times = bench_add(args.runs)
    print(f"| feeds add, feed at the 9th candidate (loopback) | {statistics.median(times):.2f} | {min(times):.2f} |")


if __name__ == "__main__":
    main()
