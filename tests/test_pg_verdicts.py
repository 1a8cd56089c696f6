"""The verdict race on PostgreSQL (issue 16): two workers storing the two copies of one syndicated article at the
same instant, each in its own transaction on its own connection, must store one new item and one duplicate.

The refreshes are real (fetched from a loopback server and analysed by the pure step); only the moment of
storing is lined up, by a barrier, so both transactions run their verdicts together: without the verdict lock
(PgDb.lock_verdicts) neither sees the other's uncommitted row and both store the article as new.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path
from xml.sax.saxutils import escape

import yaml

PAIRS = 12


def _feed(folder: Path, name: str, guid: str, title: str, body: str) -> None:
    (folder / f"{name}.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title><link>https://x.example/'
        f'</link><description>d</description><item><title>{escape(title)}</title><link>https://{name}.example/1'
        f'</link><guid>{guid}</guid><description>{escape(body)}</description></item></channel></rss>',
        encoding="utf-8")


def test_two_workers_storing_a_syndicated_pair_at_once_store_one_new_and_one_duplicate(tmp_path, pg_url):
    from monitor import housekeeping
    from monitor.config import load_config
    from monitor.feedserver import FeedServer
    from monitor.match import Matcher
    from monitor.refresh import Writer
    from monitor.runner import ThreadRunner
    from monitor.store import Store

    words = sorted({w for f in (Path(__file__).parent.parent / "fixtures" / "seeds").glob("*.txt")
                    for w in f.read_text(encoding="utf-8").split() if len(w) > 2 and w.isalpha()})
    farm = tmp_path / "farm"
    farm.mkdir()
    rng = random.Random(16)
    for p in range(PAIRS):  # articles of distinct random words: no pair is a copy of another
        title = " ".join(rng.choice(words) for _ in range(6))
        body = " ".join(rng.choice(words) for _ in range(150))
        _feed(farm, f"a{p}", f"a{p}-1", title, body)
        _feed(farm, f"b{p}", f"b{p}-1", title, body)  # the syndicated copy: another site, guid and link
    with FeedServer(farm) as server:
        path = tmp_path / "config.yaml"
        path.write_text(yaml.safe_dump({
            "database": pg_url, "articles": {"full_text": "never"},
            "feeds": [{"name": f"{s}{p}", "url": server.url(f"{s}{p}.xml")} for p in range(PAIRS) for s in "ab"],
            "watch": [{"name": "Amani", "kind": "figure", "terms": ["محمدعلی امانی"]}]}), encoding="utf-8")
        config = load_config(path)
        stores = [Store.open(pg_url), Store.open(pg_url)]  # two workers: two connections, two transactions
        housekeeping.prepare(config, stores[0])
        runner = ThreadRunner(config, Matcher(config.watch))
        writers = [Writer(config, store) for store in stores]
        specs = {spec.name: spec for spec in config.feeds}
        errors: list[BaseException] = []
        try:
            for p in range(PAIRS):
                pair = [specs[f"a{p}"], specs[f"b{p}"]]
                replies = [runner.run(writers[i].job(pair[i])) for i in range(2)]
                barrier = threading.Barrier(2)

                def store(i: int) -> None:
                    try:
                        barrier.wait()
                        writers[i].store_reply(pair[i], replies[i])
                    except BaseException as exc:  # noqa: BLE001 - reported below
                        errors.append(exc)

                threads = [threading.Thread(target=store, args=(i,)) for i in range(2)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
            rows = stores[0].db.execute("SELECT feed, status, dup_kind, dup_ref FROM items ORDER BY id").fetchall()
        finally:
            runner.close()
            for writer, store in zip(writers, stores):
                writer.close()
                store.close()
    assert not errors
    by_pair: dict[int, list[str]] = {}
    for feed, status, _, _ in rows:
        by_pair.setdefault(int(feed[1:]), []).append(status)
    assert {p: sorted(s) for p, s in by_pair.items()} == {p: ["duplicate", "new"] for p in range(PAIRS)}
    new_ids = {feed: i for i, (feed, status, _, _) in enumerate(rows) if status == "new"}
    assert all(kind == "item" for _, status, kind, _ in rows if status == "duplicate")
    assert len(new_ids) == PAIRS
