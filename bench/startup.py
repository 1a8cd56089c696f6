"""Cold start of the read-only commands, `monitor report` first: wall time of a fresh process, and which heavy
modules it imported (none of hazm, httpx, feedparser, apscheduler may appear). The target is 0.5 s.

    .venv/bin/python bench/startup.py            # polls the fixture feeds into a temporary database first
    .venv/bin/python bench/startup.py --runs 15

Prints one line per command: median and best wall time over the runs, the slowest imports, and any forbidden
module. Run on an idle machine: the figure is the median of separate processes, each paying the full import.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FORBIDDEN = ("hazm", "httpx", "feedparser", "apscheduler")
COMMANDS = (
    ("report", "--since", "2025-11-01"),
    ("report", "--since", "2025-11-01", "--format", "html"),
    ("report", "--since", "2025-11-01", "--format", "json"),
    ("report", "--since", "2025-11-01", "--format", "atom"),
    ("items", "--format", "json"),
    ("feeds",),
    ("report", "--help"),
)


def polled_config(folder: Path) -> Path:
    """A config over the fixture feeds, served on 127.0.0.1 and polled once."""
    sys.path.insert(0, str(REPO / "tests"))
    import yaml

    from monitor.feedserver import FeedServer

    feeds_dir = REPO / "fixtures" / "feeds"
    shipped = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config = folder / "config.yaml"
    with FeedServer(feeds_dir) as server:
        feeds = [{"name": p.stem, "url": server.url(p.name)} for p in sorted(feeds_dir.iterdir())
                 if p.suffix in (".xml", ".atom")]
        config.write_text(yaml.safe_dump({"database": "bench.db", "corpus": [str(REPO / "fixtures" / "seeds")],
                                          "articles": {"full_text": "never"},  # fixture links are real outlets
                                          "feeds": feeds, "watch": shipped["watch"]}, allow_unicode=True),
                          encoding="utf-8")
        subprocess.run([sys.executable, "-m", "monitor", "poll", "-c", str(config)], check=True,
                       capture_output=True)
    return config


def measure(args: tuple[str, ...], config: Path, runs: int) -> tuple[list[float], list[tuple[int, str]]]:
    monitor = [str(Path(sys.executable).with_name("monitor"))]
    if not Path(monitor[0]).exists():
        monitor = [sys.executable, "-m", "monitor"]
    env = {**os.environ, "COLUMNS": "80", "PYTHONDONTWRITEBYTECODE": "0"}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([*monitor, *args, "-c", str(config)] if args[-1] != "--help" else [*monitor, *args],
                       check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    trace = subprocess.run([sys.executable, "-X", "importtime", "-m", "monitor", *args, "-c", str(config)],
                           capture_output=True, text=True, env=env).stderr
    imports = []
    for line in trace.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if m and m.group(2) == " ":  # top-level imports only: their cumulative time
            imports.append((int(m.group(1)), m.group(3)))
    return times, imports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = polled_config(Path(tmp))
        print(f"python {sys.version.split()[0]}, {opts.runs} runs each, target 0.500 s")
        for args in COMMANDS:
            times, imports = measure(args, config, opts.runs)
            loaded = {name for _, name in imports}
            bad = [f for f in FORBIDDEN if any(n == f or n.startswith(f + ".") for n in loaded)]
            slowest = ", ".join(f"{name} {us / 1000:.0f}ms" for us, name in sorted(imports, reverse=True)[:4])
            print(f"monitor {' '.join(args):<52} median {statistics.median(times):.3f} s  best {min(times):.3f} s"
                  f"  forbidden: {', '.join(bad) or 'none'}\n    slowest imports: {slowest}")


if __name__ == "__main__":
    main()
