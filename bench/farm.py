"""Feed-farm benchmark: `monitor poll` cold and warm against newsboat and bare feedparser, on the same bytes.

    .venv/bin/python bench/farm.py                 # 500 feeds x 40 items (about 20,000 items)
    .venv/bin/python bench/farm.py --feeds 50 --items 20 --no-newsboat

Generates N feeds of M items of distinct Persian text (a few mention watched names), serves them from a
separate process on 127.0.0.1 with ETag/Last-Modified, then measures, in one run: `monitor poll` with an empty
database (cold) and again with nothing changed (warm); newsboat 2.21 (`newsboat -x reload`, reload-threads 8)
cold and warm on the same URLs; and feedparser parsing the same bytes in one process. Prints wall and CPU
seconds, peak RSS, items per second and the ratios the speed issue sets as targets.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
WATCHED = ["حزب موتلفه اسلامی", "محمدعلی امانی", "کیم جونگ اون", "دیمیتری مدودف", "کره شمالی"]


def vocabulary() -> list[str]:
    words: set[str] = set()
    for f in sorted((REPO / "fixtures" / "seeds").glob("*.txt")):
        words.update(w for w in f.read_text(encoding="utf-8").split() if len(w) > 1 and w.isalpha())
    return sorted(words)


# Words per item body. The speed issue states the default farm as about 20,000 items in 60 MB: 170-300 words
# (about 3 KB of XML per item) gives that. Earlier runs used 300-500 (100 MB); `--words 300-500` repeats them.
DEFAULT_WORDS = (170, 300)


def make_farm(folder: Path, feeds: int, items: int, seed: int = 7, length: tuple[int, int] = DEFAULT_WORDS,
              path: str = "news") -> int:
    """Write the farm's feeds into folder; returns their bytes. `path` names the items' links and guids: a second
    farm for a database that holds the first needs its own, or its items are exact duplicates by link."""
    rng = random.Random(seed)
    vocab = vocabulary()
    start = datetime(2025, 11, 20, tzinfo=timezone.utc)
    total_bytes = 0
    for f in range(feeds):
        out = ['<?xml version="1.0" encoding="utf-8"?>', '<rss version="2.0"><channel>',
               f"<title>خبرگزاری {f}</title><link>https://news{f}.example/</link><description>farm</description>"]
        for i in range(items):
            words = [rng.choice(vocab) for _ in range(rng.randint(*length))]
            if rng.random() < 0.03:
                words.insert(rng.randrange(len(words)), rng.choice(WATCHED))
            paragraphs = [" ".join(words[k:k + 60]) for k in range(0, len(words), 60)]
            body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
            title = " ".join(rng.choice(vocab) for _ in range(8))
            when = format_datetime(start - timedelta(minutes=f * items + i))
            out.append(f"<item><title>{escape(title)}</title><link>https://news{f}.example/{path}/{i}</link>"
                       f"<guid>{path}{f}-{i}</guid><pubDate>{when}</pubDate>"
                       f"<description>{escape(body)}</description></item>")
        out.append("</channel></rss>")
        data = "\n".join(out).encode("utf-8")
        (folder / f"feed{f:04d}.xml").write_bytes(data)
        total_bytes += len(data)
    return total_bytes


def serve(folder: Path) -> tuple[subprocess.Popen, str]:
    code = ("import sys, time\nfrom monitor.feedserver import FeedServer\n"
            "with FeedServer(sys.argv[1]) as s:\n    print(s.base_url, flush=True)\n    time.sleep(10**6)\n")
    proc = subprocess.Popen([PY, "-c", code, str(folder)], stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def measured(argv: list[str], env: dict | None = None) -> dict:
    """Run a command in a wrapper process so CPU time and peak RSS are that command's alone.

    rss_mb is the largest single process (ru_maxrss, as the target is stated); tree_mb samples the summed RSS
    of the command and all its descendants (worker processes included) every 100 ms and keeps the largest sum;
    pss_mb the same with each process's proportional set size (a page shared by forked workers counted once in
    all, where the RSS sum counts it in every process holding it).
    (Every 20 ms, the sampling itself took a few percent of a core from the command measured, on two cores.)"""
    wrapper = ("import json, os, resource, subprocess, sys, threading, time\n"
               "def tree(pid):\n"
               "    out = [pid]\n"
               "    try:\n"
               "        for t in os.listdir(f'/proc/{pid}/task'):\n"
               "            for c in open(f'/proc/{pid}/task/{t}/children').read().split(): out += tree(int(c))\n"
               "    except OSError: pass\n"
               "    return out\n"
               "def rss(pid):\n"
               "    try: return int(open(f'/proc/{pid}/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE')\n"
               "    except (OSError, IndexError, ValueError): return 0\n"
               "def pss(pid):\n"
               "    try:\n"
               "        for line in open(f'/proc/{pid}/smaps_rollup'):\n"
               "            if line.startswith('Pss:'): return int(line.split()[1]) * 1024\n"
               "    except (OSError, IndexError, ValueError): pass\n"
               "    return 0\n"
               "t = time.monotonic(); p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL,"
               " stderr=subprocess.DEVNULL)\n"
               "peak = [0, 0]\n"
               "def sample():\n"
               "    while p.poll() is None:\n"
               "        procs = tree(p.pid)\n"
               "        peak[0] = max(peak[0], sum(rss(q) for q in procs))\n"
               "        peak[1] = max(peak[1], sum(pss(q) for q in procs)); time.sleep(0.1)\n"
               "th = threading.Thread(target=sample, daemon=True); th.start(); rc = p.wait(); wall = time.monotonic() - t\n"
               "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
               "print(json.dumps({'rc': rc, 'wall': wall, 'cpu': u.ru_utime + u.ru_stime,"
               " 'rss_mb': u.ru_maxrss / 1024, 'tree_mb': peak[0] / 2**20, 'pss_mb': peak[1] / 2**20}))\n")
    out = subprocess.run([PY, "-c", wrapper, *argv], capture_output=True, text=True, env=env)
    return json.loads(out.stdout)


def bare_feedparser(folder: Path) -> dict:
    code = ("import sys, time, resource, pathlib, feedparser\n"
            "files = sorted(pathlib.Path(sys.argv[1]).glob('*.xml')); data = [f.read_bytes() for f in files]\n"
            "t = time.monotonic(); c = time.process_time(); n = 0\n"
            "for d in data: n += len(feedparser.parse(d).entries)\n"
            "import json; print(json.dumps({'rc': 0, 'wall': time.monotonic() - t, 'cpu': time.process_time() - c,"
            " 'rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'items': n}))\n")
    out = subprocess.run([PY, "-c", code, str(folder)], capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--feeds", type=int, default=500)
    ap.add_argument("--items", type=int, default=40)
    ap.add_argument("--words", default=f"{DEFAULT_WORDS[0]}-{DEFAULT_WORDS[1]}",
                    help="words per item body, LOW-HIGH (default %(default)s: about 3 KB per item)")
    ap.add_argument("--no-newsboat", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="farm-"))
    farm = tmp / "feeds"
    farm.mkdir()
    low, _, high = args.words.partition("-")
    size = make_farm(farm, args.feeds, args.items, length=(int(low), int(high or low)))
    n_items = args.feeds * args.items
    print(f"farm: {args.feeds} feeds x {args.items} items = {n_items:,} items, {size / 1e6:.1f} MB in {farm}")
    # The package's bytecode, as any normal install has it (pip compiles installed packages; this checkout is
    # an editable install, and environments with PYTHONDONTWRITEBYTECODE=1 would recompile it on every run).
    subprocess.run([PY, "-m", "compileall", "-q", str(REPO / "monitor")], check=True, stdout=subprocess.DEVNULL)
    server, base = serve(farm)
    results: dict[str, dict] = {}
    try:
        urls = [f"{base}/{p.name}" for p in sorted(farm.glob("*.xml"))]
        watch = [{"name": w, "kind": "other", "terms": [w]} for w in WATCHED]
        cfg = {"database": str(tmp / "monitor.db"), "corpus": [str(REPO / "fixtures" / "seeds")],
               "http": {"timeout": 30, "concurrency": 8}, "articles": {"full_text": "never"},  # feeds only
               "feeds": [{"name": f"f{i:04d}", "url": u} for i, u in enumerate(urls)], "watch": watch}
        (tmp / "config.yaml").write_text(json.dumps(cfg, ensure_ascii=False), encoding="utf-8")
        monitor = [PY, "-m", "monitor", "poll", "--config", str(tmp / "config.yaml")]
        results["monitor cold"] = measured(monitor)
        results["monitor warm"] = measured(monitor)
        if not args.no_newsboat and shutil.which("newsboat"):
            (tmp / "urls").write_text("\n".join(urls) + "\n")
            (tmp / "nb.conf").write_text("reload-threads 8\n")
            nb = ["newsboat", "-x", "reload", "-u", str(tmp / "urls"), "-c", str(tmp / "nb.cache"),
                  "-C", str(tmp / "nb.conf")]
            env = {**os.environ, "HOME": str(tmp)}
            results["newsboat cold"] = measured(nb, env)
            results["newsboat warm"] = measured(nb, env)
        results["feedparser (bare)"] = bare_feedparser(farm)
    finally:
        server.terminate()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{'run':<20} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'all MB':>7} {'all PSS':>8} {'items/s':>9}  rc")
    for name, r in results.items():
        tree = f"{r['tree_mb']:>7.0f}" if "tree_mb" in r else f"{'-':>7}"
        pss = f"{r['pss_mb']:>8.0f}" if "pss_mb" in r else f"{'-':>8}"
        print(f"{name:<20} {r['wall']:>8.2f} {r['cpu']:>8.2f} {r['rss_mb']:>8.0f} {tree} {pss}"
              f" {n_items / r['wall']:>9,.0f}  {r['rc']}")
    print("(peak MB: the largest single process; all MB: the most the command and its worker processes held at"
          " once, RSS summed, sampled every 100 ms; all PSS: the same in proportional set size, shared pages once)")
    cold, warm = results["monitor cold"]["wall"], results["monitor warm"]["wall"]
    print(f"\nwarm / cold (target <= 0.10): {warm / cold:.3f}")
    if "newsboat cold" in results:
        print(f"monitor cold / newsboat cold (target <= 0.40): {cold / results['newsboat cold']['wall']:.2f}")
    print(f"monitor cold / bare feedparser parse: {cold / results['feedparser (bare)']['wall']:.2f}")
    print(f"all processes, monitor cold (target <= 300 MB): {results['monitor cold']['tree_mb']:.0f} MB RSS summed,"
          f" {results['monitor cold']['pss_mb']:.0f} MB PSS")


if __name__ == "__main__":
    main()
