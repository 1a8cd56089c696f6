"""`monitor feeds import|export|add|remove|catalog` as a user runs them: the real CLI in a subprocess, feeds and
pages on 127.0.0.1, a real config.yaml and SQLite file; and `monitor run` picking an import up."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from conftest import FEEDS, FIXTURES, LoopbackServer, SEEDS, run_cli, run_json
from monitor.config import load_config

OPML = FIXTURES / "opml"
READERS = ("miniflux", "freshrss", "feedly", "inoreader", "newsboat")

CONFIG = f"""# the analyst's own notes: kept byte for byte
database: state/test.db
corpus: [{SEEDS}]
schedule: {{interval: 2s, jitter: 0}}
articles: {{full_text: never}}   # fixture links point at real outlets

feeds:
  - {{name: mehr, url: "https://www.mehrnews.com/rss"}}   # already there: the imports skip it

# watch list below
watch:
  - {{name: Motalefeh Islamic Party, kind: party, terms: [حزب موتلفه اسلامی, موتلفه]}}
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def feeds_cli(*args: str):
    return run_cli("feeds", *args)


def rss(n: int) -> bytes:
    items = "".join(f"<item><title>خبر {n}-{i} دربارهٔ موتلفه</title><link>https://news{n}.example/{i}</link>"
                    f"<guid>n{n}-{i}</guid><description>متن خبر شماره {i} از منبع {n}</description>"
                    f"<pubDate>Mon, 30 Nov 2026 0{i}:00:00 GMT</pubDate></item>" for i in range(1, 3))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>منبع {n}</title>'
            f"<link>https://news{n}.example/</link>{items}</channel></rss>").encode("utf-8")


class FarmHandler(BaseHTTPRequestHandler):
    """/feed/N: a small feed of its own; /site/: a home page whose alternate is /feed/7."""

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/feed/"):
            body, kind = rss(int(self.path.rsplit("/", 1)[1])), "application/rss+xml"
        elif self.path == "/site/":
            body = ('<html><head><link rel="alternate" type="application/rss+xml" href="../feed/7"></head>'
                    "<body>home</body></html>").encode()
            kind = "text/html"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def farm():
    server = LoopbackServer(FarmHandler)
    yield server
    server.close()


def opml_of(urls: list[tuple[str, str, str | None]]) -> str:
    """(title, url, folder) outlines, folders in order of first use."""
    folders: dict[str | None, list[str]] = {}
    for title, url, folder in urls:
        folders.setdefault(folder, []).append(f'<outline type="rss" text="{title}" title="{title}" xmlUrl="{url}"/>')
    body = "".join("".join(lines) if folder is None else f'<outline text="{folder}">{"".join(lines)}</outline>'
                   for folder, lines in folders.items())
    return f'<?xml version="1.0" encoding="UTF-8"?><opml version="2.0"><head/><body>{body}</body></opml>'


def assert_kept(before: str, after: str) -> None:
    """Every line of `before` is in `after`, in order (the import only inserted lines)."""
    lines = iter(after.splitlines())
    assert all(any(line == other for other in lines) for line in before.splitlines())


# ------------------------------------------------------------------------------------------ import
def test_every_readers_export_imports_with_groups_and_a_second_import_skips_all(config: Path):
    for reader in READERS:
        proc = feeds_cli("import", str(OPML / f"{reader}.opml"), "--config", str(config))
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == ""
    loaded = load_config(config)
    assert len(loaded.feeds) == 1 + 12  # 13 distinct feeds in the files; mehr was already there
    by_url = {f.url: f for f in loaded.feeds}
    assert by_url["https://www.isna.ir/rss"].group == "Agencies"
    assert by_url["https://www.independentpersian.com/rss.xml"].group == "News/Iran"
    assert by_url["https://www.tabnak.ir/fa/rss/allnews"].name == "tabnak"
    assert by_url["https://feeds.bbci.co.uk/persian/rss.xml"].name == "bbc-news-farsi"
    assert by_url["https://www.iranintl.com/fa/feed"].name == "iran-international"
    text = config.read_text(encoding="utf-8")
    assert_kept(CONFIG, text)
    assert text.index("iran-international") < text.index("# watch list below")
    again = feeds_cli("import", str(OPML / "miniflux.opml"), "--config", str(config))
    assert again.returncode == 0
    assert again.stdout.splitlines()[-1] == "0 added, 3 skipped"
    assert "skipped https://www.mehrnews.com/rss (" in again.stdout and "already in config.yaml as mehr" in again.stdout
    assert config.read_text(encoding="utf-8") == text


def test_bad_outlines_stop_the_import_each_on_its_line_unless_skipped(config: Path, tmp_path: Path):
    bad = tmp_path / "bad.opml"
    bad.write_text('<?xml version="1.0"?>\n<opml version="2.0">\n<body>\n'
                   '<outline text="ok" xmlUrl="https://ok.example/rss"/>\n'
                   '<outline text="site only" htmlUrl="https://site.example/"/>\n'
                   '<outline text="podcast" xmlUrl="feed://pod.example/rss"/>\n'
                   "</body>\n</opml>\n", encoding="utf-8")
    proc = feeds_cli("import", str(bad), "--config", str(config))
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0] == (f"error: {bad}:5: outline «site only» has no xmlUrl; to find the feed of its site, run "
                        "`monitor feeds add https://site.example/`")
    assert lines[1].startswith(f"{bad}:6: outline «podcast» xmlUrl «feed://pod.example/rss» is not an http(s) URL")
    assert lines[2] == "2 invalid outline(s): nothing imported (--skip-invalid imports the others)"
    assert "Traceback" not in proc.stderr
    assert config.read_text(encoding="utf-8") == CONFIG and not (tmp_path / "config.yaml.bak").exists()
    skipping = feeds_cli("import", str(bad), "--config", str(config), "--skip-invalid")
    assert skipping.returncode == 0, skipping.stderr
    assert f"skipped {bad}:5: outline «site only» has no xmlUrl" in skipping.stdout
    assert skipping.stdout.splitlines()[-1].startswith("1 added, 2 skipped; the previous config is in ")
    assert (tmp_path / "config.yaml.bak").read_text(encoding="utf-8") == CONFIG


def test_malformed_and_missing_files_are_one_line(config: Path, tmp_path: Path):
    broken = tmp_path / "broken.opml"
    broken.write_text('<?xml version="1.0"?>\n<opml><body>\n<outline text="a" xmlUrl="https://a.example/rss">\n'
                      "</body></opml>\n", encoding="utf-8")
    proc = feeds_cli("import", str(broken), "--config", str(config))
    assert proc.returncode == 2
    assert proc.stderr == f"error: {broken}:4: not well-formed XML: mismatched tag (column 3)\n"
    missing = feeds_cli("import", str(tmp_path / "nope.opml"), "--config", str(config))
    assert missing.returncode == 2 and missing.stderr.startswith("error: ") and "cannot read" in missing.stderr
    assert config.read_text(encoding="utf-8") == CONFIG


def test_export_then_import_into_an_empty_config_round_trips(config: Path, tmp_path: Path):
    assert feeds_cli("import", str(OPML / "inoreader.opml"), "--config", str(config)).returncode == 0
    out = tmp_path / "out.opml"
    assert feeds_cli("export", "--config", str(config), "-o", str(out)).returncode == 0
    fresh = tmp_path / "fresh.yaml"
    fresh.write_text("feeds: []\n", encoding="utf-8")
    proc = feeds_cli("import", str(out), "--config", str(fresh))
    assert proc.returncode == 0, proc.stderr
    spec = lambda path: [(f.name, f.url, f.group, f.interval) for f in load_config(path).feeds]  # noqa: E731
    assert sorted(spec(fresh)) == sorted(spec(config))


# ------------------------------------------------------------------------------------------ done when: 50 feeds
def test_a_fifty_feed_opml_import_then_poll_polls_every_one_and_groups_filter(config: Path, tmp_path: Path, farm):
    outlines = [(f"منبع {n}", farm.url(f"feed/{n}"), ("agencies", "analysis", None)[n % 3]) for n in range(50)]
    path = tmp_path / "fifty.opml"
    path.write_text(opml_of(outlines), encoding="utf-8")
    proc = feeds_cli("import", str(path), "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("50 added, 0 skipped")
    config.write_text(config.read_text(encoding="utf-8").replace(
        '  - {name: mehr, url: "https://www.mehrnews.com/rss"}   # already there: the imports skip it\n', ""),
        encoding="utf-8")  # the one real outlet: this test polls loopback only
    poll = run_cli("poll", "--config", str(config))
    assert poll.returncode == 0, poll.stderr
    health = run_json("feeds", "--config", str(config), "--format", "json")["feeds"]
    assert len(health) == 50 and all(f["last_status"] == "ok" and f["items"] == 2 for f in health), health
    agencies = {f.name for f in load_config(config).feeds if f.group == "agencies"}
    items = run_json("items", "--config", str(config), "--group", "agencies", "--format", "json")["items"]
    assert len(items) == 2 * len(agencies) == 34 and {i["feed"] for i in items} == agencies
    one = sorted(agencies)[0]
    both = run_json("items", "--config", str(config), "--group", "agencies", "--feed", one, "--format", "json")
    assert {i["feed"] for i in both["items"]} == {one}
    outside = sorted({f.name for f in load_config(config).feeds} - agencies)[0]
    none = run_json("items", "--config", str(config), "--group", "agencies", "--feed", outside, "--format", "json")
    assert none["items"] == []
    report = run_cli("report", "--config", str(config), "--group", "analysis", "--since", "30d", "--format", "json")
    assert report.returncode == 0, report.stderr
    feeds_in_report = {i["feed"] for i in json.loads(report.stdout)["items"]}
    assert feeds_in_report and feeds_in_report <= {f.name for f in load_config(config).feeds if f.group == "analysis"}
    unknown = run_cli("report", "--config", str(config), "--group", "nope")
    assert unknown.returncode == 2 and "--group: no feed is in a group 'nope'" in unknown.stderr
    assert "groups: agencies, analysis" in unknown.stderr


# ------------------------------------------------------------------------------------------ add, remove, catalog
def test_add_finds_the_feed_of_a_home_page_then_remove_restores_the_file(config: Path, farm):
    proc = feeds_cli("add", farm.url("site/"), "--config", str(config), "--interval", "20m", "--group", "test")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert f"found {farm.url('feed/7')} (<link rel=\"alternate\"> of the page; rss20)" in out
    assert "title: منبع ۷" in out and "2026-11-30  خبر ۷-۲ درباره موتلفه" in out  # shown in display form
    assert "added 127: " in out  # a loopback site's "name" is its address; --name gives a better one
    feed = load_config(config).feeds[-1]
    assert (feed.url, feed.interval, feed.group) == (farm.url("feed/7"), 1200.0, "test")
    again = feeds_cli("add", farm.url("feed/7"), "--config", str(config))
    assert again.returncode == 0 and "already in" in again.stdout and "as 127; nothing added" in again.stdout
    removed = feeds_cli("remove", "127", "--config", str(config))
    assert removed.returncode == 0, removed.stderr
    assert config.read_text(encoding="utf-8") == CONFIG
    gone = feeds_cli("remove", "127", "--config", str(config))
    assert gone.returncode == 2 and gone.stderr.startswith("error: no feed named '127'")


def test_add_errors_are_one_line(config: Path, farm):
    for args, expected in [
        (("add", farm.url("nothing-here")), "HTTP 404"),
        (("add", "ftp://x.example/feed"), "is not an http(s) URL"),
        (("add",), "give a URL or --catalog NAME"),
        (("add", farm.url("feed/1"), "--name", "bad name"), "--name: 'bad name' is not a valid feed name"),
        (("add", farm.url("feed/1"), "--name", "mehr"), "a feed named 'mehr' is already in"),
        (("add", farm.url("feed/1"), "--interval", "soon"), "--interval"),
        (("add", "--catalog", "tabnk"), "no catalogue entry named 'tabnk'; did you mean tabnak"),
    ]:
        proc = feeds_cli(*args, "--config", str(config))
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert len(proc.stderr.splitlines()) == 1 and expected in proc.stderr, (args, proc.stderr)
    assert config.read_text(encoding="utf-8") == CONFIG


def test_catalog_search_folds_persian_and_add_catalog_writes_entries(config: Path):
    found = run_json("feeds", "catalog", "--search", "تابناك", "--format", "json")["catalog"]  # Arabic kaf
    assert [e["name"] for e in found] == ["tabnak"] and "tabnak_allnews_2018-07-21.xml" in found[0]["evidence"]
    agencies = run_json("feeds", "catalog", "--search", "خبرگزاری", "--format", "json")["catalog"]
    assert {"irna", "isna", "mehr", "tasnim", "fars"} <= {e["name"] for e in agencies}
    every = run_json("feeds", "catalog", "--format", "json")["catalog"]
    assert len(every) >= 29 and all(e["evidence"] and e["url"].startswith("http") for e in every)
    proc = feeds_cli("add", "--catalog", "tabnak", "--catalog", "mehr", "--catalog", "isna-tp-14",
                     "--group", "agencies", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert "mehr: already in" in proc.stdout
    added = [(f.name, f.url, f.group) for f in load_config(config).feeds[1:]]
    assert added == [("tabnak", "https://www.tabnak.ir/fa/rss/allnews", "agencies"),
                     ("isna-tp-14", "https://www.isna.ir/rss/tp/14", "agencies")]
    assert "# تابناک, all news (catalogue)" in config.read_text(encoding="utf-8")


def test_feeds_without_a_subcommand_is_the_health_table_as_before(config: Path):
    proc = run_cli("feeds", "--config", str(config))
    assert proc.returncode == 0 and "mehr" in proc.stdout
    rows = run_json("feeds", "--config", str(config), "--format", "json")["feeds"]
    assert [r["name"] for r in rows] == ["mehr"] and set(rows[0]) >= {"last_status", "next_poll", "items"}


# ------------------------------------------------------------------------------------------ the daemon picks it up
def test_a_feed_imported_while_monitor_run_runs_gets_polled(config: Path, tmp_path: Path, farm):
    from test_daemon import Daemon, db_rows, wait_for

    config.write_text(CONFIG.replace('https://www.mehrnews.com/rss', farm.url("feed/1")), encoding="utf-8")
    daemon = Daemon(config)
    try:
        wait_for(lambda: db_rows(config, "SELECT count(*) FROM items WHERE feed = 'mehr'")[0:1] == [(2,)],
                 what="the first feed's items", daemon=daemon)
        path = tmp_path / "more.opml"
        path.write_text(opml_of([("Second", farm.url("feed/2"), "later")]), encoding="utf-8")
        assert feeds_cli("import", str(path), "--config", str(config)).returncode == 0
        wait_for(lambda: db_rows(config, "SELECT count(*) FROM items WHERE feed = 'second'")[0:1] == [(2,)],
                 what="the imported feed's items", daemon=daemon)
    finally:
        assert daemon.stop() == 0
