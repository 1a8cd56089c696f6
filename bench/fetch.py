"""CPU per conditional GET: the monitor's fetcher against a loopback feed server, kept-alive connections or not.

    .venv/bin/python bench/fetch.py                  # 200 feeds, 5 rounds of conditional GETs, 8 threads
    .venv/bin/python bench/fetch.py --feeds 50 --rounds 3

The server runs in its own process (monitor.feedserver, HTTP/1.1), so the CPU counted is the client's alone
(time.process_time of this process). One unconditional round first fetches the validators; the rounds after it
are all 304s, as a warm poll's are. Prints CPU ms and wall ms per request for each way.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.fetch import fetch, make_client  # noqa: E402
from monitor.models import HTTPSettings  # noqa: E402


def serve(folder: Path) -> tuple[subprocess.Popen, str]:
    code = ("import sys, time\nfrom monitor.feedserver import FeedServer\n"
            "with FeedServer(sys.argv[1]) as s:\n    print(s.base_url, flush=True)\n    time.sleep(10**6)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(folder)], stdout=subprocess.PIPE, text=True,
                            cwd=REPO)
    return proc, proc.stdout.readline().strip()


def run(urls: list[str], rounds: int, threads: int, keepalive: bool) -> tuple[float, float, int]:
    settings = HTTPSettings()
    with make_client(settings, keepalive=keepalive) as client, ThreadPoolExecutor(threads) as pool:
        first = list(pool.map(lambda u: fetch(client, u, settings), urls))
        validators = {r.url: (r.etag, r.last_modified) for r in first}
        cpu, wall, n = time.process_time(), time.monotonic(), 0
        for _ in range(rounds):
            got = list(pool.map(lambda u: fetch(client, u, settings, etag=validators[u][0],
                                                last_modified=validators[u][1]), urls))
            assert all(r.status == 304 for r in got), "expected every conditional GET to be a 304"
            n += len(got)
        return time.process_time() - cpu, time.monotonic() - wall, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="fetchbench-") as tmp:
        folder = Path(tmp)
        for i in range(args.feeds):
            (folder / f"f{i:04d}.xml").write_text(f"<rss><channel><title>{i}</title></channel></rss>")
        server, base = serve(folder)
        try:
            urls = [f"{base}/f{i:04d}.xml" for i in range(args.feeds)]
            print(f"{args.feeds} feeds x {args.rounds} rounds of conditional GETs, {args.threads} threads\n")
            print(f"{'connections':<22} {'requests':>8} {'cpu ms/req':>11} {'wall ms/req':>12}")
            for keepalive in (False, True, False, True):
                cpu, wall, n = run(urls, args.rounds, args.threads, keepalive)
                name = "kept alive" if keepalive else "one per request"
                print(f"{name:<22} {n:>8} {cpu / n * 1000:>11.3f} {wall / n * 1000:>12.3f}")
        finally:
            server.terminate()


if __name__ == "__main__":
    main()
