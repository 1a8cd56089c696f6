"""Several `monitor run` sharing one PostgreSQL database (issue 16): 3 workers on a 300-feed loopback farm.

What must hold: every item stored exactly once; no feed fetched twice in the interval (the server counts the
requests per feed), except the feeds the killed worker held when it died, which another fetches once more after
their lease; kill -9 of a worker loses nothing; syndicated pairs (one article in two feeds, claimed at the same
moment by different workers) store one new item and one duplicate, never two new ones.
"""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape

import psycopg
import yaml

from conftest import run_json
from test_daemon import Daemon

FEEDS, ITEMS = 300, 4
PAIRS = [(k, k + 16) for block in range(0, FEEDS - 32 + 1, 32) for k in range(block, block + 16, 2)]


def make_farm(folder: Path) -> None:
    """FEEDS feeds of ITEMS items of distinct random words; in each pair of PAIRS, the first item of both feeds
    is one article (other guid and link, same title and text): a syndicated copy."""
    rng = random.Random(16)
    vocab = sorted({w for f in (Path(__file__).parent.parent / "fixtures" / "seeds").glob("*.txt")
                    for w in f.read_text(encoding="utf-8").split() if len(w) > 2 and w.isalpha()})
    shared = {}
    for a, b in PAIRS:
        shared[a] = shared[b] = (" ".join(rng.choice(vocab) for _ in range(8)),
                                 " ".join(rng.choice(vocab) for _ in range(120)))
    start = datetime(2025, 11, 20, tzinfo=timezone.utc)
    for f in range(FEEDS):
        out = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>',
               f"<title>farm {f}</title><link>https://news{f}.example/</link><description>d</description>"]
        for i in range(ITEMS):
            title, body = shared[f] if i == 0 and f in shared else (
                " ".join(rng.choice(vocab) for _ in range(8)), " ".join(rng.choice(vocab) for _ in range(120)))
            out.append(f"<item><title>{escape(title)}</title><link>https://news{f}.example/{i}</link>"
                       f"<guid>news{f}-{i}</guid><pubDate>{format_datetime(start - timedelta(minutes=i))}</pubDate>"
                       f"<description>{escape(body)}</description></item>")
        out.append("</channel></rss>")
        (folder / f"feed{f:04d}.xml").write_text("\n".join(out), encoding="utf-8")


def test_three_workers_share_the_feeds_and_a_killed_one_loses_nothing(tmp_path, pg_url):
    from monitor.feedserver import FeedServer

    farm = tmp_path / "farm"
    farm.mkdir()
    make_farm(farm)
    with FeedServer(farm, delay=0.15) as server:  # an I/O-bound farm: each answer waits 150 ms
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump({
            "database": pg_url, "articles": {"full_text": "never"},
            "schedule": {"interval": "1h", "jitter": 0, "lease": "4s"},
            "feeds": [{"name": f"f{f:04d}", "url": server.url(f"feed{f:04d}.xml")} for f in range(FEEDS)],
            "watch": [{"name": "Amani", "kind": "figure", "terms": ["محمدعلی امانی"]}]}), encoding="utf-8")
        workers = [Daemon(config) for _ in range(3)]
        try:
            with psycopg.connect(pg_url, autocommit=True) as conn:
                victim = workers[0]
                held: set[str] = set()
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:  # kill the first worker once it has stored some feeds
                    if conn.execute("SELECT to_regclass('monitor_migrations')").fetchone()[0] is None:
                        time.sleep(0.05)  # the workers are still starting (one of them migrates)
                        continue
                    done = conn.execute("SELECT count(*) FROM feeds WHERE last_status IS NOT NULL").fetchone()[0]
                    held = {r[0] for r in conn.execute("SELECT name FROM feeds WHERE lease_owner LIKE %s",
                                                       [f"%:{victim.proc.pid}"])}
                    if done >= 30 and held:  # mid-way, with feeds of its own claimed
                        victim.proc.send_signal(signal.SIGKILL)
                        victim.proc.wait()
                        held = {r[0] for r in conn.execute(  # what it held when it died: its leases stay
                            "SELECT name FROM feeds WHERE lease_owner LIKE %s", [f"%:{victim.proc.pid}"])}
                        break
                    time.sleep(0.05)
                assert victim.proc.returncode == -signal.SIGKILL, victim.log()
                status = run_json("status", "--config", str(config), "--format", "json")
                assert any(w.endswith(f":{victim.proc.pid}") for w in status["workers"]), status  # its leases
                while time.monotonic() < deadline + 10:
                    done = conn.execute("SELECT count(*) FROM feeds WHERE last_status = 'ok'").fetchone()[0]
                    if done == FEEDS:
                        break
                    time.sleep(0.2)
                assert done == FEEDS, [w.log()[-2000:] for w in workers[1:]]
                items = conn.execute("SELECT feed, key, status FROM items").fetchall()
                pairs = {f"f{f:04d}": i for i, pair in enumerate(PAIRS) for f in pair}
                verdicts = Counter((pairs[feed], status) for feed, key, status in items
                                   if feed in pairs and key.endswith("-0"))
        finally:
            for worker in workers:
                worker.kill()
        assert len(items) == FEEDS * ITEMS  # every item stored, each once (unique per feed and key)
        for i in range(len(PAIRS)):  # one new and one duplicate per syndicated pair, never two new
            assert (verdicts[(i, "new")], verdicts[(i, "duplicate")]) == (1, 1), (PAIRS[i], verdicts)
        requests = Counter(r.path.lstrip("/") for r in server.requests)
        assert set(requests) == {f"feed{f:04d}.xml" for f in range(FEEDS)}
        twice = {path for path, n in requests.items() if n > 1}
        assert all(n <= 2 for n in requests.values())
        assert twice <= {f"feed{name[1:]}.xml" for name in held}, (twice, held)  # only the dead worker's
        assert held, "the killed worker held no feed: the takeover was not tested"
    for worker in workers[1:]:
        assert "Traceback" not in worker.log()
