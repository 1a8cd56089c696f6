"""End to end: the real CLI in a subprocess, feeds served on 127.0.0.1, a real SQLite file.

Expected outcomes come from fixtures/README.md (the fixture author's table, written before this code ran).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml

from conftest import SHARED, FEEDS, REPO, SEEDS, run_cli, run_json

# guid (or link for the item without one) -> (status, corpus ref of the duplicate, flagged watch entries)
EXPECTED = {
    "https://mehrnews.com/x38Kq2": ("duplicate", "002_3b436877025587a2", set()),
    "https://mehrnews.com/x38HzT": ("duplicate", "001_d61598acf822a000", set()),
    "https://mehrnews.com/x38JbW": ("new", None, {"Motalefeh Islamic Party", "Mohammad-Ali Amani"}),
    "https://mehrnews.com/x38KwF": ("new", None, {"Vladimir Putin", "Kim Jong-un", "North Korea"}),
    "https://mehrnews.com/x38KyM": ("new", None, set()),
    "tag:isna.ir,2025-11-20:news/1404082917311": ("duplicate", "003_92515b26929f40ee", set()),
    "urn:uuid:6f1d2c9e-4b7a-4e0f-9a53-2d8c1e7b4a10": ("duplicate", "004_b28f88bb043880d0", set()),
    "tag:isna.ir,2025-11-20:news/1404082917455": ("new", None, {"Motalefeh Islamic Party"}),
    "tag:isna.ir,2025-11-20:news/1404082917502": ("new", None, set()),
    "abna24-fa-1745210": ("duplicate", "000_e3a782698f1fa8ec", set()),
    "abna24-fa-1746032": ("new", None, {"Motalefeh Islamic Party", "Mohammad-Mahdi Tina Tehrani"}),
    "abna24-fa-1746101": ("new", None, set()),
    "https://tn.ai/3448917": ("new", None, {"Mohammad-Ali Amani", "Dmitry Medvedev"}),
    "tasnim-no-guid": ("new", None, {"Dmitry Medvedev", "United Russia"}),
}


def write_config(tmp_path: Path, feeds: dict[str, str], **extra) -> Path:
    shipped = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    raw = {"database": "state/test.db", "corpus": [str(SEEDS)],
           "articles": {"full_text": "never"},  # the fixture items link to real sites: no page leaves loopback
           "feeds": [{"name": n, "url": u} for n, u in feeds.items()], "watch": shipped["watch"], **extra}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def fixture_feeds(server) -> dict[str, str]:
    return {p.stem: server.url(p.name) for p in sorted(FEEDS.iterdir()) if p.suffix in (".xml", ".atom")}


def item_key(item: dict) -> str:
    return item["guid"] or ("tasnim-no-guid" if "3449530" in (item["link"] or "") else item["link"])


def dump(db: Path) -> list:
    conn = sqlite3.connect(db)
    rows = []
    for table in ("items", "matches", "corpus_docs", "fingerprints"):
        rows.append(conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall())
    conn.close()
    return rows


@pytest.fixture
def polled(tmp_path, feed_server):
    config = write_config(tmp_path, fixture_feeds(feed_server))
    proc = run_cli("poll", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    return config, proc, feed_server


def test_first_poll_matches_the_fixture_table(polled):
    config, proc, _ = polled
    assert "items 9 new, 5 duplicate, 6 flagged" in proc.stdout
    items = run_json("items", "--config", str(config), "--format", "json")["items"]
    assert len(items) == 14
    got = {item_key(i): i for i in items}
    assert set(got) == set(EXPECTED)
    for key, (status, ref, flagged) in EXPECTED.items():
        item = got[key]
        assert item["status"] == status, key
        if ref:
            assert item["duplicate_of"]["kind"] == "corpus" and item["duplicate_of"]["ref"] == ref, key
            assert 0 < item["duplicate_of"]["score"] <= 1
        else:
            assert item["duplicate_of"] is None, (key, item["duplicate_of"])
        assert item["flagged"] == bool(flagged), key
        if status == "new":
            assert {m["watch"] for m in item["matches"]} == flagged, key


def _items_as_stored(config: Path) -> list[dict]:
    """`monitor items --format json` of every stored item, with what differs by run alone taken out: ids and
    fetch times, and a duplicate's reference to an item given as that item's (feed, guid, link)."""
    items = run_json("items", "--config", str(config), "--format", "json", "--since", "1990-01-01")["items"]
    by_id = {it["id"]: (it["feed"], it["guid"], it["link"]) for it in items}
    out = []
    for it in items:
        it = {k: v for k, v in it.items() if k not in ("id", "fetched_at")}
        dup = it.get("duplicate_of")
        if dup and dup["kind"] == "item":
            it["duplicate_of"] = {**dup, "ref": by_id[int(dup["ref"])]}
        out.append(it)
    return sorted(out, key=lambda it: (it["feed"], it["guid"] or "", it["link"] or "", it["title"]))


PERSIAN = SHARED / "corpora" / "persian-feeds"


@pytest.mark.skipif(not PERSIAN.is_dir(), reason="../shared/corpora is not beside the repo")
def test_a_poll_with_workers_stores_what_a_poll_without_them_stores(tmp_path, feed_server):
    """The pure step of a refresh runs in threads of the polling process or in worker processes
    (monitor.runner): over the fixtures and the real Persian snapshots, `monitor items --format json` must be
    the same either way, item for item, verdicts, scores, matches and snippets included."""
    from monitor.feedserver import FeedServer

    with FeedServer(PERSIAN) as snapshots:
        feeds = {**fixture_feeds(feed_server),
                 **{p.stem.split("_")[0]: snapshots.url(p.name) for p in sorted(PERSIAN.glob("*.xml"))}}
        stored = {}
        for workers in ("0", "2"):
            folder = tmp_path / f"workers-{workers}"
            folder.mkdir()
            config = write_config(folder, feeds)
            proc = run_cli("poll", "-v", "--config", str(config), env={"MONITOR_WORKERS": workers})
            assert proc.returncode == 0 and f"cycle: {len(feeds)} feeds ({len(feeds)} ok" in proc.stdout, \
                proc.stdout + proc.stderr
            assert ("in 2 worker processes" in proc.stderr) == (workers == "2"), proc.stderr
            stored[workers] = _items_as_stored(config)
    assert len(stored["0"]) > 100 and any(it["status"] == "duplicate" for it in stored["0"])
    assert any(it["flagged"] for it in stored["0"])
    assert stored["0"] == stored["2"]


def test_json_shapes_and_iso_times(polled):
    config, _, _ = polled
    item = run_json("items", "--config", str(config), "--format", "json", "--limit", "1")["items"][0]
    assert list(item) == ["id", "guid", "feed", "title", "link", "published", "fetched_at", "status",
                          "duplicate_of", "flagged", "matches", "body_source", "page_status", "page_reason",
                          "triage"]
    assert item["body_source"] == "feed" and item["page_status"] is None  # full_text never (write_config)
    assert item["triage"] == {"read": False, "starred": False, "not_relevant": []}  # none marked (monitor serve)
    for field in ("published", "fetched_at"):
        assert item[field].endswith("+00:00") and "T" in item[field]
    for m in item["matches"]:
        assert set(m) == {"watch", "kind", "terms", "count", "snippet"} and m["count"] >= 1
    feeds = run_json("feeds", "--config", str(config), "--format", "json")["feeds"]
    assert {f["name"] for f in feeds} == {"mehr", "isna", "abna-1256", "tasnim"}
    for f in feeds:
        assert set(f) == {"name", "url", "last_fetched", "last_status", "last_error", "consecutive_failures",
                          "next_poll", "next_poll_reason", "items", "article_failures", "article_last_error"}
        assert f["last_status"] == "ok" and f["consecutive_failures"] == 0 and f["items"] >= 2


def test_second_poll_is_conditional_and_changes_nothing(polled):
    config, _, server = polled
    db = config.parent / "state" / "test.db"
    before = dump(db)
    first_round = len(server.requests)
    proc = run_cli("poll", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert "0 new, 0 duplicate" in proc.stdout and "4 not modified" in proc.stdout
    second = server.requests[first_round:]
    assert len(second) == 4 and all(r.if_none_match and r.status == 304 for r in second)
    assert dump(db) == before


def test_server_ignoring_validators_still_changes_nothing(tmp_path, httpserver):
    for p in sorted(FEEDS.iterdir()):
        if p.suffix in (".xml", ".atom"):
            httpserver.expect_request(f"/{p.name}").respond_with_data(p.read_bytes(),
                                                                      content_type="application/xml")
    feeds = {p.stem: httpserver.url_for(f"/{p.name}") for p in sorted(FEEDS.iterdir())
             if p.suffix in (".xml", ".atom")}
    config = write_config(tmp_path, feeds)
    assert run_cli("poll", "--config", str(config)).returncode == 0
    db = tmp_path / "state" / "test.db"
    before = dump(db)
    proc = run_cli("poll", "--config", str(config))
    assert proc.returncode == 0 and "items 0 new, 0 duplicate, 0 flagged" in proc.stdout
    assert "4 not modified" in proc.stdout  # same bytes again: hashed, not parsed
    assert dump(db) == before


def test_report_lists_flagged_new_items_newest_first(polled):
    config, _, _ = polled
    items = run_json("report", "--config", str(config), "--format", "json", "--since", "2025-01-01")["items"]
    assert len(items) == 6 and all(i["flagged"] and i["status"] == "new" for i in items)
    dates = [i["published"] for i in items]
    assert dates == sorted(dates, reverse=True)
    only = run_json("report", "--config", str(config), "--format", "json", "--since", "2025-01-01",
                    "--watch", "Dmitry Medvedev")["items"]
    assert len(only) == 2 and all([m["watch"] for m in i["matches"]] == ["Dmitry Medvedev"] for i in only)
    table = run_cli("report", "--config", str(config), "--since", "1404-08-01")
    assert table.returncode == 0 and "6 flagged items" in table.stdout


def test_items_filters_and_csv(polled):
    config, _, _ = polled
    dups = run_json("items", "--config", str(config), "--format", "json", "--status", "duplicate")["items"]
    assert len(dups) == 5
    flagged = run_json("items", "--config", str(config), "--format", "json", "--flagged")["items"]
    assert len(flagged) == 6
    recent = run_json("items", "--config", str(config), "--format", "json", "--since", "2025-11-21")["items"]
    assert {item_key(i) for i in recent} == {"abna24-fa-1746101", "https://tn.ai/3448917", "tasnim-no-guid"}
    csv_out = run_cli("items", "--config", str(config), "--format", "csv")
    lines = csv_out.stdout.strip().splitlines()
    assert lines[0].startswith("id,feed,published,status") and len(lines) == 15


def test_failed_feed_is_recorded_and_others_are_stored(tmp_path, feed_server):
    feeds = {"mehr": feed_server.url("mehr.xml"), "gone": feed_server.url("missing.xml"),
             "refused": "http://127.0.0.1:9/rss"}
    config = write_config(tmp_path, feeds)
    proc = run_cli("poll", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert "2 failed" in proc.stdout
    by_name = {f["name"]: f for f in run_json("feeds", "--config", str(config), "--format", "json")["feeds"]}
    assert by_name["mehr"]["last_status"] == "ok" and by_name["mehr"]["items"] == 5
    assert by_name["gone"]["last_status"] == "error" and "404" in by_name["gone"]["last_error"]
    assert "cannot connect" in by_name["refused"]["last_error"]
    assert by_name["gone"]["consecutive_failures"] == 1 and by_name["gone"]["next_poll"]
    assert by_name["gone"]["next_poll_reason"] == "backoff after 1 failure in a row"  # why it is slowed
    assert by_name["mehr"]["next_poll_reason"] is None  # polled on its plain interval


def test_poll_one_feed_and_unknown_feed(tmp_path, feed_server):
    config = write_config(tmp_path, fixture_feeds(feed_server))
    proc = run_cli("poll", "--config", str(config), "--feed", "tasnim")
    assert proc.returncode == 0 and "tasnim: 2 new" in proc.stdout and "mehr" not in proc.stdout
    bad = run_cli("poll", "--config", str(config), "--feed", "nope")
    assert bad.returncode == 2 and "nope" in bad.stderr and "Traceback" not in bad.stderr


def test_bad_config_exits_2_naming_file_line_and_key(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("feeds:\n  - {name: a, url: 'http://x/rss'}\n  - {name: b, url: 'ftp://x/rss'}\n",
                    encoding="utf-8")
    for command in ("poll", "report", "feeds", "match"):  # items and status still answer: point 19 below
        proc = run_cli(command, "--config", str(path), *(["x"] if command == "match" else []))
        assert proc.returncode == 2, (command, proc.stderr)
        assert "config.yaml:3" in proc.stderr and "feeds[1].url" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_bad_since_and_watch_exit_2(polled):
    config, _, _ = polled
    proc = run_cli("items", "--config", str(config), "--since", "last tuesday")
    assert proc.returncode == 2 and "--since" in proc.stderr
    proc = run_cli("report", "--config", str(config), "--watch", "Nobody")
    assert proc.returncode == 2 and "Nobody" in proc.stderr


def test_unwritable_database_exits_1(tmp_path, feed_server):
    (tmp_path / "state").write_text("a file where the folder should be")
    config = write_config(tmp_path, {"mehr": feed_server.url("mehr.xml")})
    proc = run_cli("poll", "--config", str(config))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "test.db" in proc.stderr


def test_read_commands_before_any_poll(tmp_path):
    config = write_config(tmp_path, {"mehr": "http://127.0.0.1:9/rss"})
    assert run_json("items", "--config", str(config), "--format", "json") == {"items": []}
    assert run_json("report", "--config", str(config), "--format", "json") == {"items": []}
    feeds = run_json("feeds", "--config", str(config), "--format", "json")["feeds"]
    assert feeds[0]["last_status"] is None
    assert not (tmp_path / "state" / "test.db").exists()


def test_match_command(tmp_path):
    config = write_config(tmp_path, {})
    proc = run_cli("match", "--config", str(config), "دیدار محمد علی امانی با سفیر پاکستان در خیابان سامانی")
    assert proc.returncode == 0
    assert "Mohammad-Ali Amani" in proc.stdout and "«محمد علی امانی»" in proc.stdout
    proc = run_cli("match", "--config", str(config), "-", input="باران در خیابان سامانی")
    assert proc.returncode == 0 and "no watch entry matches" in proc.stdout


def test_corpus_command_lists_documents(tmp_path):
    config = write_config(tmp_path, {})
    docs = run_json("corpus", "--config", str(config), "--format", "json")["documents"]
    assert [d["ref"] for d in docs] == sorted(p.stem for p in SEEDS.glob("*.txt"))
    assert all(d["fingerprint_count"] > 50 for d in docs)
    assert all(d["shingle_count"] == d["fingerprint_count"] for d in docs)  # the older name, kept in the JSON


def test_demo_runs_offline_and_prints_flagged_items():
    proc = run_cli("demo")
    assert proc.returncode == 0, proc.stderr
    assert "items 9 new, 5 duplicate, 6 flagged" in proc.stdout
    assert "6 flagged items" in proc.stdout


def test_every_command_help_ends_with_an_example():
    """In process (click's runner): the help's text is what is checked, and a subprocess per command cost 17 s."""
    from click.testing import CliRunner

    from monitor.cli import main

    runner = CliRunner()
    for name in main.commands:
        result = runner.invoke(main, [name, "--help"], prog_name="monitor")
        assert result.exit_code == 0, (name, result.output)
        tail = result.output.strip().split("Options:")[0].strip().splitlines()
        assert any(line.strip().startswith("Example") for line in tail), name
        assert f"monitor {name}" in result.output, name
    assert run_cli("poll", "--help").returncode == 0  # and the real entry point answers too


def test_python_dash_m_and_version():
    proc = run_cli("--version")
    assert proc.returncode == 0 and "0.1.0" in proc.stdout


# ------------------------------------------------------------------------------------------ issue 12, point 17
def test_a_corpus_path_that_does_not_exist_is_a_config_error(tmp_path):
    config = write_config(tmp_path, {}, corpus=[str(SEEDS), str(tmp_path / "seedz")])
    for command in ("poll", "corpus"):
        proc = run_cli(command, "--config", str(config))
        assert proc.returncode == 2, (command, proc.stderr)
        assert "config.yaml:" in proc.stderr and "corpus[1]" in proc.stderr and "seedz" in proc.stderr
        assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_a_corpus_file_without_a_title_line_is_all_body_in_linear_time(tmp_path):
    import random

    rng = random.Random(12)
    words = "مجلس دولت ایران سفیر نشست گفت‌وگو روابط اقتصاد همکاری تهران مسکو پکن".split()
    corpus = tmp_path / "known"
    corpus.mkdir()
    # One paragraph of about 6 MB on a single line, and one after many blank lines: neither has a title line.
    big = " ".join(f"{rng.choice(words)}{rng.randrange(10_000)}" for _ in range(450_000))
    (corpus / "one_line.txt").write_text(big, encoding="utf-8")
    (corpus / "blank_first.txt").write_text("\n" * 300_000 + big[:2_000_000] + "\n" + big[:1000], encoding="utf-8")
    lead = " ".join(words * 3)  # longer than a title: the first paragraph
    (corpus / "lead_first.txt").write_text(f"{lead}\n\n{' '.join(words)}", encoding="utf-8")
    (corpus / "titled.txt").write_text(f"عنوان کوتاه خبر\n\n{lead}", encoding="utf-8")
    config = write_config(tmp_path, {}, corpus=[str(corpus)])
    proc = run_cli("corpus", "--config", str(config), timeout=60)  # the table: it rendered the 6 MB "title"
    assert proc.returncode == 0, proc.stderr
    docs = {d["ref"]: d for d in run_json("corpus", "--config", str(config), "--format", "json")["documents"]}
    assert docs["one_line"]["title"] == "" and docs["one_line"]["fingerprint_count"] > 10_000
    assert docs["blank_first"]["title"] == "" and docs["blank_first"]["fingerprint_count"] > 1_000
    assert docs["lead_first"]["title"] == "" and docs["lead_first"]["fingerprint_count"] > 0
    assert docs["titled"]["title"] == "عنوان کوتاه خبر" and docs["titled"]["fingerprint_count"] > 0


# ------------------------------------------------------------------------------------------ issue 12, point 18
def rss(*items: tuple[str, str, str, str]) -> bytes:
    """An RSS 2.0 body of (guid, title, description, RFC 822 pubDate) items."""
    body = "".join(f"<item><guid isPermaLink=\"false\">{g}</guid><title>{t}</title><description>{d}</description>"
                   f"<pubDate>{p}</pubDate></item>" for g, t, d, p in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
            f"<link>http://example.com/</link><description>d</description>{body}</channel></rss>").encode()


def rfc822(when) -> str:
    from email.utils import format_datetime

    return format_datetime(when)


def test_report_refuses_a_backwards_or_future_period(polled):
    config, _, _ = polled
    for args, words in ((("--since", "2019-01-01", "--until", "2018-01-01"), ("--since", "--until")),
                        (("--since", "2019-01-01", "--until", "2019-01-01"), ("--since", "--until")),
                        (("--since", "1404-09-01", "--until", "1404-08-01"), ("--since", "--until")),
                        (("--since", "2099-01-01"), ("--since", "future")),
                        (("--since", "1499-01-01"), ("--since", "future"))):
        proc = run_cli("report", "--config", str(config), *args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert all(w in proc.stderr for w in words), proc.stderr
    proc = run_cli("items", "--config", str(config), "--since", "2099-01-01")
    assert proc.returncode == 2 and "future" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    # A period that ends in the future is fine: it is the report of everything since.
    assert run_cli("report", "--config", str(config), "--since", "2025-11-01", "--until", "2099-01-01"
                   ).returncode == 0


def test_status_and_report_mean_the_same_today_and_say_which_time(tmp_path, httpserver):
    from datetime import timedelta

    from monitor.dates import now_utc

    now = now_utc()
    httpserver.expect_request("/rss").respond_with_data(rss(
        ("a", "خبر امروز", "دیدار دبیرکل حزب موتلفه اسلامی با سفیر", rfc822(now - timedelta(minutes=5))),
        ("b", "خبر امروز دیگر", "گزارشی از بازار کتاب تهران و نمایشگاه", rfc822(now - timedelta(minutes=9))),
        ("c", "خبر کهنه", "نشست حزب موتلفه اسلامی در هفته گذشته برگزار شد", rfc822(now - timedelta(days=3))),
        ("d", "خبر کهنه دیگر", "سفر گروهی از دانشجویان به شیراز", rfc822(now - timedelta(days=4)))),
        content_type="application/rss+xml")
    config = write_config(tmp_path, {"one": httpserver.url_for("/rss")}, corpus=[])
    assert run_cli("poll", "--config", str(config)).returncode == 0
    status = run_json("status", "--config", str(config), "--format", "json")
    report = run_json("report", "--config", str(config), "--since", "today", "--format", "json")["items"]
    new_today = run_json("items", "--config", str(config), "--status", "new", "--since", "today",
                         "--format", "json")["items"]
    assert (status["new_today"], status["flagged_today"]) == (len(new_today), len(report)) == (2, 1)
    assert status["today"]["by"] == "published" and status["today"]["since"].endswith("+03:30")
    text = run_cli("status", "--config", str(config))
    assert text.returncode == 0 and "published" in text.stdout and "Tehran" in text.stdout
    table = run_cli("report", "--config", str(config), "--since", "today")
    assert table.returncode == 0 and "published" in table.stdout


# ------------------------------------------------------------------------------------------ issue 12, point 19
def test_read_only_commands_that_need_only_the_database_answer_with_an_invalid_config(polled):
    config, _, _ = polled
    before = run_json("items", "--config", str(config), "--format", "json")
    assert len(before["items"]) == 14
    good = config.read_text(encoding="utf-8")
    broken = config.parent / "broken.yaml"
    cases = [  # (text, the key the warning names)
        (good + "schedule: {interval: soon}\n", "schedule.interval"),
        (good.replace("feeds:\n", "feeds:\n- {name: bad, url: 'ftp://x/rss'}\n", 1), "feeds[0].url"),
        (good + "watch: [oops\n", None),  # YAML that does not parse: its `database:` line still does
    ]
    for text, key in cases:
        broken.write_text(text, encoding="utf-8")
        for command in ("items", "status"):
            proc = run_cli(command, "--config", str(broken), "--format", "json")
            assert proc.returncode == 0, (command, key, proc.stderr)
            warning = proc.stderr.strip().splitlines()
            assert len(warning) == 1 and warning[0].startswith("warning: ") and "broken.yaml:" in warning[0]
            assert key is None or key in warning[0], warning
            assert "Traceback" not in proc.stderr
            if command == "items":
                assert run_json_text(proc.stdout) == before
            else:
                assert run_json_text(proc.stdout)["database"] == str(config.parent / "state" / "test.db")
    # Commands that need the feeds or the watch list still refuse, and so does a file whose database is unknown.
    proc = run_cli("report", "--config", str(broken))
    assert proc.returncode == 2 and "broken.yaml:" in proc.stderr
    broken.write_text("database: [a, b]\nfeeds: []\n", encoding="utf-8")
    proc = run_cli("status", "--config", str(broken))
    assert proc.returncode == 2 and "database" in proc.stderr and "Traceback" not in proc.stderr


def run_json_text(text: str) -> dict:
    import json

    return json.loads(text)


# ------------------------------------------------------------------------------------------ issue 12, point 16
def test_titles_are_stored_as_the_feed_wrote_them_and_shown_in_display_form_never_for_latin(tmp_path, httpserver):
    import json

    from datetime import timedelta

    from monitor.dates import now_utc

    when = rfc822(now_utc() - timedelta(hours=1))
    persian = "نشست G20 و حزب موتلفه اسلامی در كشور 1404"  # an Arabic kaf, ASCII digits in Latin and Persian runs
    english = "Motalefeh party at the G20 summit, 2025 (Tehran 3:30)"
    httpserver.expect_request("/rss").respond_with_data(rss(
        ("p", persian, "متن خبر درباره حزب موتلفه اسلامی و نشست G20 در سال 1404", when),
        ("e", english, "خبر حزب موتلفه اسلامی", when)), content_type="application/rss+xml")
    config = write_config(tmp_path, {"one": httpserver.url_for("/rss")}, corpus=[])
    assert run_cli("poll", "--config", str(config)).returncode == 0
    conn = sqlite3.connect(tmp_path / "state" / "test.db")
    stored = {r[0] for r in conn.execute("SELECT title FROM items")}
    conn.close()
    assert stored == {persian, english}  # what the feed said, for quoting
    items = run_json("items", "--config", str(config), "--format", "json")["items"]
    assert {it["title"] for it in items} == {persian, english}
    shown = "نشست G20 و حزب موتلفه اسلامی در کشور ۱۴۰۴"  # display form in the Persian runs only
    for args in (("report", "--since", "today"), ("items",)):
        proc = run_cli(*args, "--config", str(config), env={"COLUMNS": "200"})
        assert proc.returncode == 0, proc.stderr
        out = " ".join(proc.stdout.split())
        assert shown in out and english in out, (args, out)
        assert "G۲۰" not in out and "۲۰۲۵" not in out
    html = run_cli("report", "--config", str(config), "--since", "today", "--format", "html").stdout
    assert shown in html and english in html and "G۲۰" not in html
    report = json.loads(run_cli("report", "--config", str(config), "--since", "today", "--format", "json").stdout)
    assert {it["title"] for it in report["items"]} == {persian, english}  # JSON for programs: as stored
    snippets = [m["snippet"] for it in report["items"] for m in it["matches"]]
    assert any("G20" in s for s in snippets) and not any("G۲۰" in s for s in snippets)
