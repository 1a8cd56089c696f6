"""`monitor demo`: the whole path, offline, in a temporary folder.

Serves the repository's fixtures/feeds on 127.0.0.1 with a real HTTP server, writes a config that lists them
with the seed corpus and the watch list of the shipped config.yaml, runs one real poll cycle into a temporary
database, and returns the flagged items. Nothing outside the temporary folder is written.
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import yaml

from monitor.config import load_config
from monitor.errors import UsageError
from monitor.feedserver import FeedServer

REPO = Path(__file__).resolve().parent.parent


@contextmanager
def run_demo(repo: Path = REPO) -> Iterator[tuple]:
    """Yield (config, cycle summary, flagged rows) while the temporary database still exists."""
    from monitor.pipeline import Engine
    from monitor.store import Store

    feeds_dir, seeds_dir, shipped = repo / "fixtures" / "feeds", repo / "fixtures" / "seeds", repo / "config.yaml"
    if not feeds_dir.is_dir() or not shipped.is_file():
        raise UsageError(f"monitor demo runs from a checkout: {feeds_dir} or {shipped} is missing")
    watch = (yaml.safe_load(shipped.read_text(encoding="utf-8")) or {}).get("watch", [])
    with tempfile.TemporaryDirectory(prefix="monitor-demo-") as tmp, FeedServer(feeds_dir) as server:
        files = sorted(p for p in feeds_dir.iterdir() if p.suffix in (".xml", ".atom", ".rss"))
        raw = {
            "database": str(Path(tmp) / "demo.db"),
            "corpus": [str(seeds_dir)],
            "feeds": [{"name": p.stem, "url": server.url(p.name)} for p in files],
            "watch": watch,
        }
        config_path = Path(tmp) / "config.yaml"
        config_path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
        config = load_config(config_path)
        store = Store.open(config.database)
        try:
            summary = Engine(config, store).run_cycle()
            from monitor.report import with_stories

            rows = list(with_stories(store.items.query(flagged=True), store))  # "carried by N feeds" too
            yield config, summary, rows
        finally:
            store.close()
