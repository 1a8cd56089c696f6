"""A peer's test suite as input: feedparser's own corpus through the whole ingestion path, and the real Persian
snapshots. Both are read in place from ../shared/corpora (never copied: the Persian ones are GPL or unlicensed).

Each corpus file is served over HTTP on 127.0.0.1 with the Content-Type its `Header: Content-type:` line records,
then polled by monitor.pipeline.Engine in-process (fetch, parse, normalise, dedup, match, store), in batches, each
batch under a timeout (illformed/rss_incomplete_cdata.xml once sent feedparser into an infinite loop). No exception
may escape, nothing may hang, and every feed must end as `ok` or with an error recorded on it.

All 2,107 files (2,106 XML and one JSON Feed) run by default: about 10 s on two cores.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import replace
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from conftest import LoopbackServer, REPO, SHARED

CORPUS = SHARED / "corpora" / "feedparser-tests"
PERSIAN = SHARED / "corpora" / "persian-feeds"
BATCH = 150
BATCH_TIMEOUT_S = 120.0
_CONTENT_TYPE = re.compile(rb"^\s*Header:\s*Content-type:\s*(.+?)\s*$", re.I | re.M)

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpora is not beside the repo")


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "LICENSE")


class CorpusServer(LoopbackServer):
    """Serve files[i] at /i with the Content-Type the file records (application/xml when none)."""

    def __init__(self, files: list[Path]) -> None:
        routes = {}
        for i, path in enumerate(files):
            body = path.read_bytes()
            found = _CONTENT_TYPE.search(body[:2000])
            ctype = found.group(1).decode("latin-1") if found else "application/xml"
            routes[f"/{i}"] = (body, ctype)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body, ctype = routes.get(self.path, (b"", None))
                self.send_response(200 if ctype else 404)
                self.send_header("Content-Type", ctype or "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        super().__init__(Handler)



def run_in_batches(config, feeds) -> None:
    """Poll `feeds` BATCH at a time, each batch in a thread joined under BATCH_TIMEOUT_S: a hang fails the test."""
    from monitor.pipeline import Engine
    from monitor.store import Store

    store = Store.open(config.database)
    try:
        engine = Engine(config, store)
        for start in range(0, len(feeds), BATCH):
            batch = feeds[start:start + BATCH]
            failure: list[BaseException] = []

            def work() -> None:
                try:
                    engine.run_cycle(batch)
                except BaseException as exc:  # noqa: BLE001 - reported below, with the batch
                    failure.append(exc)

            thread = threading.Thread(target=work, daemon=True)
            thread.start()
            thread.join(BATCH_TIMEOUT_S)
            assert not thread.is_alive(), f"hung on one of {[f.url for f in batch]}"
            assert not failure, f"{failure[0]!r} escaped the cycle ({batch[0].name}..{batch[-1].name})"
    finally:
        store.close()


def make_config(tmp_path: Path, feeds):
    from monitor.config import load_config
    from monitor.models import ArticleSettings, HTTPSettings

    shipped = load_config(REPO / "config.yaml")
    return replace(shipped, path=str(tmp_path / "config.yaml"), database=str(tmp_path / "corpus.db"), corpus=(),
                   feeds=tuple(feeds), http=HTTPSettings(timeout=5.0, concurrency=4),
                   articles=ArticleSettings(full_text="never"))  # the corpus links to real sites: stay on loopback


def test_feedparser_corpus_through_the_whole_pipeline(tmp_path):
    from monitor.models import FeedSpec
    from monitor.store import Store

    files = corpus_files()
    server = CorpusServer(files)
    try:
        feeds = [FeedSpec(name=f"f{i:04d}", url=server.url(i)) for i in range(len(files))]
        config = make_config(tmp_path, feeds)
        run_in_batches(config, feeds)
    finally:
        server.close()
    store = Store.open(config.database, readonly=True)
    states = {s["name"]: s for s in store.feeds.summary()}
    store.close()
    assert len(states) == len(files)
    for i, path in enumerate(files):
        state = states[f"f{i:04d}"]
        where = path.relative_to(CORPUS)
        assert state["last_status"] in ("ok", "error"), (where, state)
        if state["last_status"] == "error":
            assert state["last_error"], (where, state)
        elif _entries(path):
            assert state["items"] >= 1, (where, state)  # ok means its items were stored
    errors = sum(s["last_status"] == "error" for s in states.values())
    items = sum(s["items"] for s in states.values())
    kinds = Counter(re.sub(r"\d[\d,]*|'[^']*'|line \d+.*", "#", s["last_error"] or "")
                    for s in states.values() if s["last_status"] == "error")
    print(f"\ncorpus errors by kind: {dict(kinds.most_common())}")
    print(f"corpus: {len(files)} files, {len(files) - errors} ok, {errors} errors recorded, {items} items stored")
    # The corpus is mostly well-formed feeds: most must end ok, not as errors.
    assert errors < len(files) * 0.02


def _entries(path: Path) -> int:
    import feedparser

    body = path.read_bytes()
    found = _CONTENT_TYPE.search(body[:2000])
    headers = {"content-type": found.group(1).decode("latin-1")} if found else {}
    return len(feedparser.parse(body, response_headers=headers).entries)


@pytest.mark.skipif(not PERSIAN.is_dir(), reason="../shared/corpora is not beside the repo")
def test_persian_snapshots_every_item_stored_with_a_clean_link_and_a_date(tmp_path):
    from monitor.models import FeedSpec
    from monitor.store import Store

    files = sorted(PERSIAN.glob("*.xml"))
    server = CorpusServer(files)
    try:
        feeds = [FeedSpec(name=p.stem.split("_")[0], url=server.url(i)) for i, p in enumerate(files)]
        config = make_config(tmp_path, feeds)
        run_in_batches(config, feeds)
    finally:
        server.close()
    import feedparser

    store = Store.open(config.database, readonly=True)
    try:
        states = {s["name"]: s for s in store.feeds.summary()}
        for path, spec in zip(files, feeds):
            assert states[spec.name]["last_status"] == "ok", states[spec.name]
            expected = len(feedparser.parse(path.read_bytes()).entries)
            items = store.items.query(feed=[spec.name])
            assert len(items) == expected > 0, (path.name, len(items), expected)
            for item in items:
                link = item["link"]
                assert link and link.startswith("http") and not re.search(r"\s", link), (path.name, link)
                assert item["published"] and item["published"][:2] in ("19", "20"), (path.name, item)
    finally:
        store.close()
