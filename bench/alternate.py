"""Two checkouts polled in turn against one farm server: cold and warm, each poll's storing process's own CPU.

    git -C /work/main archive HEAD | (mkdir -p /tmp/base && tar -x -C /tmp/base)   # the checkout to compare with
    .venv/bin/python bench/alternate.py /tmp/base --rounds 2

Why not bench/farm.py: its CPU is the whole tree (the workers' too), and two separate runs of it on this shared
machine differ by more than a change to the writer does. Here each `monitor poll` (bench/farm.py's 500 x 40
farm, a fresh database each round) reports its own process's CPU (RUSAGE_SELF at exit), the other checkout's
poll runs right after it on the same server, and the rounds alternate.
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
sys.path.insert(0, str(REPO / "bench"))

import farm  # noqa: E402

WRAP = ("import atexit, os, resource, sys\n"
        "out, me = os.environ['SELF_CPU'], os.getpid()\n"
        "def done():\n"
        "    if os.getpid() == me:\n"
        "        u = resource.getrusage(resource.RUSAGE_SELF)\n"
        "        open(out, 'w').write(str(u.ru_utime + u.ru_stime))\n"
        "atexit.register(done)\n"
        "sys.argv = ['monitor'] + sys.argv[1:]\n"
        "from monitor.cli import main\n"
        "main()\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("base", help="the other checkout (a folder holding monitor/)")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    codes = {"base": str(Path(args.base).resolve()), "this": str(REPO)}
    tmp = Path(tempfile.mkdtemp(prefix="alternate-"))
    feeds = tmp / "feeds"
    feeds.mkdir()
    farm.make_farm(feeds, 500, 40)
    for code in codes.values():
        subprocess.run([sys.executable, "-m", "compileall", "-q", code + "/monitor"], stdout=subprocess.DEVNULL)
    server, base = farm.serve(feeds)
    urls = [f"{base}/{p.name}" for p in sorted(feeds.glob("*.xml"))]
    print(f"{'round':<6} {'code':<5} {'cycle':<5} {'wall s':>7} {'cpu s':>7} {'writer cpu s':>13} {'peak MB':>8}"
          f" {'all MB':>7}  rc")
    try:
        for rnd in range(args.rounds):
            for name, code in codes.items():
                cfg = {"database": str(tmp / f"{name}{rnd}.db"), "corpus": [str(REPO / "fixtures" / "seeds")],
                       "http": {"timeout": 30, "concurrency": 8}, "articles": {"full_text": "never"},
                       "feeds": [{"name": f"f{i:04d}", "url": u} for i, u in enumerate(urls)],
                       "watch": [{"name": w, "kind": "other", "terms": [w]} for w in farm.WATCHED]}
                path = tmp / f"{name}{rnd}.yaml"
                path.write_text(json.dumps(cfg, ensure_ascii=False), encoding="utf-8")
                for kind in ("cold", "warm"):
                    own = tmp / "self.txt"
                    env = dict(os.environ, PYTHONPATH=code, SELF_CPU=str(own))
                    r = farm.measured([sys.executable, "-c", WRAP, "poll", "--config", str(path)], env=env)
                    writer = float(own.read_text()) if own.exists() else float("nan")
                    own.unlink(missing_ok=True)
                    print(f"{rnd:<6} {name:<5} {kind:<5} {r['wall']:>7.2f} {r['cpu']:>7.2f} {writer:>13.2f}"
                          f" {r['rss_mb']:>8.0f} {r['tree_mb']:>7.0f}  {r['rc']}", flush=True)
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
