"""Issue 13 end to end: feeds that carry only leads, their article pages on 127.0.0.1, through `monitor poll`
and `monitor run` into a real SQLite file. Names in the article body are flagged, names only in a related-news
box are not, a lead-only copy of a seed whose page is the seed is its duplicate, and every failing page leaves
its item stored from the feed text, flagged on what it has, and tried again once on the next cycle."""

from __future__ import annotations

import json
import sqlite3

import pytest

from article_site import Site, agency_page, feed_xml, prose, write_config
from conftest import SEEDS, run_cli, run_json

MEDVEDEV, PUTIN = "Dmitry Medvedev", "Vladimir Putin"
SEED = SEEDS / "002_3b436877025587a2.txt"


@pytest.fixture
def site():
    s = Site()
    yield s
    s.close()


def article(site: Site, name: str, seed: int, *, body_term: str = "", related: list[str] = (),
            host: str = "127.0.0.1") -> dict:
    """A feed item carrying only its lead, and its page on the site."""
    lead = prose(seed, 35)
    paragraphs = [prose(seed + 1, 60), prose(seed + 2, 40) + body_term + prose(seed + 3, 30), prose(seed + 4, 70)]
    title = "گزارش " + prose(seed + 5, 5)
    site.routes[f"/page/{name}"] = (200, "text/html; charset=utf-8",
                                    agency_page(title, lead, paragraphs, related=list(related),
                                                tags=["سیاست", "اقتصاد"], comments=[prose(seed + 6, 25)]))
    return {"title": title, "link": site.url(f"/page/{name}", host), "guid": name, "lead": lead}


def serve_feed(site: Site, name: str, items: list[dict]) -> str:
    site.routes[f"/feed/{name}"] = (200, "application/rss+xml", feed_xml(items))
    return site.url(f"/feed/{name}")


def items_of(config) -> dict[str, dict]:
    return {i["guid"].rsplit("/", 1)[-1]: i  # the parser resolves a guid against the feed URL
            for i in run_json("items", "--config", str(config), "--format", "json")["items"]}


def watches(item: dict) -> set[str]:
    return {m["watch"] for m in item["matches"]}


def poll(config, *args: str, env: dict | None = None) -> None:
    proc = run_cli("poll", "--config", str(config), *args, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr


def failure_pages(site: Site) -> dict[str, str]:
    """name -> the reason's telling word, for every way a page fails."""
    site.routes["/page/hang"] = site.hang
    site.routes["/page/large"] = (200, "text/html", b"<html><body><p>" + b"x " * (3 * 1024 * 1024) + b"</p>")
    site.routes["/page/pdf"] = (200, "application/pdf", b"%PDF-1.4\n" + b"0" * 2000)
    site.routes["/page/script"] = (200, "text/html; charset=utf-8",
                                   b"<html><head><script src='/app.js'></script></head><body><div id='root'>"
                                   b"</div><script>window.boot()</script></body></html>")
    site.routes["/page/empty"] = (200, "text/html; charset=utf-8",
                                  "<html><body><nav><a href='/'>خانه</a> <a href='/x'>سیاسی</a></nav>"
                                  "<footer>کلیه حقوق محفوظ است</footer></body></html>".encode())
    return {"hang": "deadline", "missing": "404", "large": "limit", "pdf": "pdf", "script": "script",
            "empty": "no article"}


def test_poll_judges_lead_only_items_on_their_article_pages(tmp_path, site):
    items = [article(site, "body", 100, body_term=" دیمیتری مدودف "),
             article(site, "related", 200, related=["دیدار ولادیمیر پوتین با " + prose(9, 5), prose(8, 7)])]
    # A seed republished as a lead of the agency's own words: the lead alone is a new text; the page holds the
    # lead and the seed, so judged on the page the item is the seed's duplicate.
    seed_lead = prose(300, 30)
    seed_paragraphs = [p for p in SEED.read_text(encoding="utf-8").split("\n") if p.strip()]
    site.routes["/page/seed"] = (200, "text/html; charset=utf-8",
                                 agency_page("بازنشر " + prose(301, 4), seed_lead, seed_paragraphs))
    items.append({"title": "بازنشر " + prose(301, 4), "link": site.url("/page/seed"), "guid": "seed",
                  "lead": seed_lead})
    reasons = failure_pages(site)
    for name in reasons:
        items.append({"title": f"خبر {name} " + prose(400 + len(items), 4), "link": site.url(f"/page/{name}"),
                      "guid": name, "lead": prose(500 + len(items), 30) + (" مدودف" if name == "pdf" else "")})
    config = write_config(tmp_path, [{"name": "agency", "url": serve_feed(site, "agency", items)}],
                          articles={"deadline": "4s"}, http={"timeout": 30})  # the hang meets the deadline
    poll(config)

    got = items_of(config)
    assert set(got) == {it["guid"] for it in items}  # every item stored, whatever its page did
    assert got["body"]["body_source"] == "page" and MEDVEDEV in watches(got["body"]) and got["body"]["flagged"]
    assert got["related"]["body_source"] == "page" and PUTIN not in watches(got["related"])
    assert got["seed"]["body_source"] == "page"
    assert got["seed"]["status"] == "duplicate" and got["seed"]["duplicate_of"]["ref"] == SEED.stem
    for name, word in reasons.items():
        item = got[name]
        assert item["body_source"] == "feed" and item["page_status"] == "failed", item
        assert word in item["page_reason"].lower(), item["page_reason"]
        assert item["status"] == "new"
    assert watches(got["pdf"]) == {MEDVEDEV}  # flagged on what it has: the feed's lead
    feed = run_json("feeds", "--config", str(config), "--format", "json")["feeds"][0]
    assert feed["article_failures"] == len(reasons) and feed["article_last_error"]
    assert feed["last_status"] == "ok"


def test_without_pages_the_same_items_are_judged_on_their_leads(tmp_path, site):
    """The control for the test above: the body term and the seed are only found on the pages."""
    items = [article(site, "body", 100, body_term=" دیمیتری مدودف ")]
    config = write_config(tmp_path, [{"name": "agency", "url": serve_feed(site, "agency", items),
                                      "full_text": "never"}])
    poll(config)
    got = items_of(config)["body"]
    assert got["body_source"] == "feed" and got["page_status"] is None and not got["matches"]
    assert site.hits["/page/body"] == 0


def test_full_text_always_fetches_long_feed_texts_and_auto_does_not(tmp_path, site):
    long_a, long_b = article(site, "a", 600, body_term=" مدودف "), article(site, "b", 700, body_term=" مدودف ")
    long_a["lead"] = long_a["lead"] + " " + prose(601, 120)  # well over min_chars: auto keeps the feed's text
    long_b["lead"] = long_b["lead"] + " " + prose(701, 120)
    config = write_config(tmp_path, [{"name": "auto", "url": serve_feed(site, "auto", [long_a])},
                                     {"name": "always", "url": serve_feed(site, "always", [long_b]),
                                      "full_text": "always"}])
    poll(config)
    assert site.hits["/page/a"] == 0 and site.hits["/page/b"] == 1
    got = items_of(config)
    assert got["a"]["body_source"] == "feed" and got["b"]["body_source"] == "page"


def test_a_failed_page_is_tried_once_more_on_the_next_cycle_and_never_again(tmp_path, site):
    late = article(site, "late", 800, body_term=" دیمیتری مدودف ")
    page = site.routes.pop("/page/late")  # 404 on the first cycle
    gone = article(site, "gone", 900)
    site.routes.pop("/page/gone")
    config = write_config(tmp_path, [{"name": "agency", "url": serve_feed(site, "agency", [late, gone])}])
    poll(config)
    first = items_of(config)
    assert first["late"]["page_status"] == "failed" and not first["late"]["flagged"]

    site.routes["/page/late"] = page  # the page is up now; the feed is the same
    poll(config)
    second = items_of(config)
    assert second["late"]["body_source"] == "page" and second["late"]["page_status"] == "ok"
    assert MEDVEDEV in watches(second["late"]) and second["late"]["flagged"]  # a late success updates the flag
    assert second["gone"]["page_status"] == "failed"
    poll(config)
    assert site.hits["/page/late"] == 2 and site.hits["/page/gone"] == 2  # once, then once more, never again
    db = sqlite3.connect(tmp_path / "state" / "test.db")
    assert db.execute("SELECT count(*) FROM items").fetchone()[0] == 2
    assert db.execute("SELECT page_attempts FROM items WHERE guid LIKE '%/gone'").fetchone()[0] == 2


def test_an_item_flagged_on_its_page_only_when_retried_alerts_once(tmp_path, site):
    """A page that fails, then succeeds on the retry and flags its item: the alert is queued in the transaction
    that stores the late flag, and reaches the receiver once; a third poll sends nothing more."""
    from notify_receivers import JSONReceiver

    receiver = JSONReceiver()
    try:
        late = article(site, "late", 800, body_term=" دیمیتری مدودف ")
        page = site.routes.pop("/page/late")  # 404 on the first cycle
        config = write_config(tmp_path, [{"name": "agency", "url": serve_feed(site, "agency", [late])}],
                              notify=[{"name": "desk", "url": receiver.json_url()}])
        poll(config)
        assert receiver.received == []  # judged on its lead: nothing to tell
        site.routes["/page/late"] = page
        poll(config)
        poll(config)
        assert len(receiver.received) == 1, receiver.received
        assert MEDVEDEV in receiver.received[0][1]["message"], receiver.received[0][1]
    finally:
        receiver.close()


@pytest.mark.parametrize("workers", ["0", "2"])
def test_per_host_limit_and_delay_hold_across_the_whole_poll(tmp_path, site, workers):
    """Two hosts (127.0.0.1 and localhost name one server; the server counts by Host header), two feeds per
    host, in worker processes or not: never more than per_host requests in flight to one host, and never two
    starts closer than the delay."""
    site.slow = 0.6  # each page takes this long, so a second request to the host would overlap
    feeds = []
    for f, host in enumerate(["127.0.0.1", "localhost", "127.0.0.1", "localhost"]):
        pages = [article(site, f"f{f}-{i}", 1000 + 100 * f + 10 * i, host=host) for i in range(4)]
        feeds.append({"name": f"f{f}", "url": serve_feed(site, f"f{f}", pages)})
    config = write_config(tmp_path, feeds, articles={"per_host": 2, "delay": "0.4s", "deadline": "60s"})
    poll(config, env={"MONITOR_WORKERS": workers})
    assert sum(1 for i in items_of(config).values() if i["body_source"] == "page") == 16
    for host in ("127.0.0.1", "localhost"):
        starts = sorted(site.starts[host])
        assert len(starts) == 8
        assert site.most[host] == 2, (host, dict(site.most))  # the limit was reached, never passed
        gaps = [b - a for a, b in zip(starts, starts[1:])]
        # The gate spaces the requests' starts; the server sees them after connection setup, whose time varies
        # on a loaded machine by up to ~0.12 s (seen: 0.134 s against a delay of 0.25 s at load 4-8 on 2 cores).
        # Without the delay, two slots start together (~0 s).
        assert min(gaps) >= 0.4 - 0.15, (host, gaps)


def test_reports_show_where_the_body_came_from(tmp_path, site):
    items = [article(site, "body", 100, body_term=" دیمیتری مدودف ")]
    config = write_config(tmp_path, [{"name": "agency", "url": serve_feed(site, "agency", items)}])
    poll(config)
    since = ("--since", "2025-11-01")  # the fixture items are dated in November 2025
    report = run_json("report", "--config", str(config), *since, "--format", "json")["items"][0]
    assert report["body_source"] == "page"
    for fmt in ("csv", "markdown", "html", "atom", "table"):
        out = run_cli("report", "--config", str(config), *since, "--format", fmt)
        assert out.returncode == 0, out.stderr
        assert "page" in out.stdout.lower(), fmt
    items_csv = run_cli("items", "--config", str(config), "--format", "csv").stdout
    assert "body_source" in items_csv.splitlines()[0]


def test_the_daemon_stores_other_feeds_while_one_feeds_pages_hang(tmp_path, site):
    """`monitor run`: a feed whose pages hang holds only itself, until the deadline; the other feed's items are
    stored, judged on their pages, meanwhile; then the hanging feed's items are stored from their leads."""
    from test_daemon import Daemon, wait_for

    good = [article(site, "good", 1100, body_term=" دیمیتری مدودف ")]
    site.routes["/page/stuck"] = site.hang
    stuck = [{"title": "خبر " + prose(1200, 4), "link": site.url("/page/stuck"), "guid": "stuck",
              "lead": prose(1201, 30)}]
    config = write_config(tmp_path, [{"name": "stuck", "url": serve_feed(site, "stuck", stuck)},
                                     {"name": "good", "url": serve_feed(site, "good", good)}],
                          articles={"deadline": "8s"}, http={"timeout": 30}, interval="1h")
    db = tmp_path / "state" / "test.db"

    def rows(sql: str) -> list:
        if not db.exists():
            return []
        conn = sqlite3.connect(db, timeout=10)
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            conn.close()

    daemon = Daemon(config)
    try:
        got = wait_for(lambda: rows("SELECT feed, body_source FROM items"), timeout=30, what="the good feed",
                       daemon=daemon)
        assert got == [("good", "page")]  # stored while the other feed's page still hangs
        assert site.hits["/page/stuck"] == 1
        stuck_row = wait_for(lambda: rows("SELECT body_source, page_status, page_reason FROM items"
                                          " WHERE feed = 'stuck'"), timeout=30, what="the stuck feed", daemon=daemon)
        assert stuck_row[0][:2] == ("feed", "failed") and "deadline" in stuck_row[0][2]
        flagged = rows("SELECT m.watch FROM matches m JOIN items i ON i.id = m.item_id WHERE i.feed = 'good'")
        assert flagged == [(MEDVEDEV,)]
    finally:
        assert daemon.stop() == 0


def test_a_watch_list_edit_rematches_on_the_article_text(tmp_path, site):
    """`monitor rematch` after an edit: a new entry whose term is only in the article body flags the item; one
    whose term is only in the page's related-news box does not (the stored article text has no box)."""
    import yaml

    items = [article(site, "body", 1300, body_term=" کیم جونگ اون ",
                     related=["سفر ولادیمیر پوتین به " + prose(1310, 4)])]
    config = write_config(tmp_path, [{"name": "agency", "url": serve_feed(site, "agency", items)}])
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["watch"] = [w for w in raw["watch"] if w["name"] not in ("Kim Jong-un", PUTIN)]
    config.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    poll(config)
    assert not items_of(config)["body"]["matches"]

    raw["watch"] += [{"name": "Kim", "kind": "figure", "terms": ["کیم جونگ اون"]},
                     {"name": "Putin", "kind": "figure", "terms": ["ولادیمیر پوتین"]}]
    config.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    proc = run_cli("rematch", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert watches(items_of(config)["body"]) == {"Kim"}


def test_the_agency_shaped_fixture_pages_through_a_poll(tmp_path, site):
    """fixtures/pages (the article stage's pages, as Iranian agencies lay them out, two in undeclared or
    meta-declared windows-1256) behind a lead-only feed: each accepted page's watched names in the article are
    flagged, those only in its related news, tags or comments are not; a refused page keeps its item, with the
    reason index.json expects."""
    from conftest import FIXTURES
    from monitor.config import load_config
    from monitor.match import Matcher

    index = json.loads((FIXTURES / "pages" / "index.json").read_text(encoding="utf-8"))
    items = []
    for n, entry in enumerate(index):
        ctype = "text/html" if entry["encoding"] != "utf-8" else "text/html; charset=utf-8"
        site.routes[f"/page/{n}"] = (200, ctype, (FIXTURES / "pages" / entry["file"]).read_bytes())
        items.append({"title": entry["title"], "link": site.url(f"/page/{n}"), "guid": f"p{n}",
                      "lead": entry["lead"]})
    config = write_config(tmp_path, [{"name": "agencies", "url": serve_feed(site, "agencies", items)}])
    poll(config)
    got = items_of(config)
    matcher = Matcher(load_config(config).watch)

    def entries(text: str) -> set[str]:
        return {m.watch for m in matcher.item_matches("", text)}

    for n, entry in enumerate(index):
        item = got[f"p{n}"]
        if entry["expect"]:
            assert item["body_source"] == "feed" and item["page_reason"].startswith(entry["expect"]), item
            continue
        assert item["body_source"] == "page", (entry["file"], item["page_reason"])
        said = entries(" ".join([entry["title"], *entry["gold"]] if isinstance(entry["gold"], list)
                                else [entry["title"], entry["gold"]]))
        assert entries(" ، ".join(entry["in_text"])) <= watches(item), entry["file"]
        assert not (entries(" ، ".join(entry["not_in_text"])) - said) & watches(item), entry["file"]
