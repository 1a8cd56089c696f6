"""`monitor serve` over HTTP: the real command as a subprocess on a free 127.0.0.1 port, over a database made
by a real `monitor poll` of the fixture feeds (and one with hostile items stored straight into it), asked
with httpx. The pages must show what `monitor report`, `search`, `show`, `stories` and `feeds` compute."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from conftest import REPO, run_cli, run_json
from test_report_e2e import hostile_database
from test_search import FEEDS, poll_folder

ALL = "2000-01-01"  # a `since` before every fixture item (they are from 2025)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """`monitor serve --config CONFIG` on a free loopback port until stop()."""

    def __init__(self, config: Path, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "monitor", "serve", "--config", str(config),
                                      "--port", str(self.port), *extra], cwd=REPO,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"monitor serve exited: {self.proc.stderr.read()}")
            try:
                httpx.get(self.url + "/static/live.js", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("monitor serve did not answer within 30 s")

    def get(self, path: str, **kw) -> httpx.Response:
        return httpx.get(self.url + path, timeout=30, **kw)

    def stop(self) -> str:
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err


@pytest.fixture(scope="module")
def polled(tmp_path_factory) -> Path:
    return poll_folder(tmp_path_factory.mktemp("web"), FEEDS)


@pytest.fixture(scope="module")
def served(polled):
    server = Served(polled)
    yield server
    err = server.stop()
    assert "Traceback" not in err, err


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    config, ids = hostile_database(tmp_path_factory.mktemp("hostile"))
    server = Served(config)
    yield server, ids
    server.stop()


def item_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<article class="item" id="item-(\d+)"', page)]


def test_flagged_page_lists_what_the_report_lists_newest_first(served, polled):
    expected = [i["id"] for i in run_json("report", "--config", str(polled), "--since", ALL, "--format", "json")
                ["items"]]
    page = served.get(f"/?since={ALL}")
    assert page.status_code == 200
    assert expected and item_ids(page.text) == expected
    assert '<html dir="rtl" lang="fa">' in page.text and 'name="viewport"' in page.text


@pytest.mark.parametrize("key", ["watch", "feed", "kind"])
def test_flagged_page_filters_as_the_report_does(served, polled, key):
    config = yaml.safe_load(polled.read_text(encoding="utf-8"))
    value = {"watch": "Motalefeh Islamic Party", "feed": config["feeds"][0]["name"], "kind": "figure"}[key]
    expected = [i["id"] for i in run_json("report", "--config", str(polled), "--since", ALL, f"--{key}", value,
                                          "--format", "json")["items"]]
    got = item_ids(served.get("/", params={"since": ALL, key: value}).text)
    assert expected and got == expected


def test_a_story_filter_shows_only_that_storys_items(served, polled):
    stories = run_json("stories", "--config", str(polled), "--since", ALL, "--format", "json")["stories"]
    story = max(stories, key=lambda s: len(s["items"]))
    got = item_ids(served.get("/", params={"since": ALL, "story": story["id"]}).text)
    assert got and set(got) <= set(story["items"])


def test_bad_filters_are_one_line_errors_not_tracebacks(served):
    for query, words in (({"since": "bogus"}, "since:"), ({"watch": "Nobody"}, "no watch entry named"),
                         ({"story": "x"}, "not a story id")):
        page = served.get("/", params=query)
        assert page.status_code == 400
        errors = re.findall(r'<p class="error"[^>]*>([^<]*)</p>', page.text)
        assert len(errors) == 1 and words in errors[0]


def test_newer_counts_the_flags_stored_after_an_id(served, polled):
    listed = [i["id"] for i in run_json("report", "--config", str(polled), "--since", ALL, "--format", "json")["items"]]
    flagged = sorted(listed)
    last = max(i["id"] for i in run_json("items", "--config", str(polled), "--format", "json")["items"])
    assert served.get("/api/newer", params={"since": ALL, "after": 0}).json() == {"count": len(flagged),
                                                                                   "newest": last}
    middle = flagged[len(flagged) // 2]
    answer = served.get("/api/newer", params={"since": ALL, "after": middle}).json()
    assert answer == {"count": len([i for i in flagged if i > middle]), "newest": last}
    page = served.get(f"/?since={ALL}").text
    assert f'data-after="{last}"' in page  # what live.js asks from: the last id stored when the page was read
    # the link's page: those, and only those, in the list's order
    assert item_ids(served.get(f"/?since={ALL}&after={middle}").text) == [i for i in listed if i > middle]


def test_search_page_finds_what_monitor_search_finds_however_spelled(served, polled):
    expected = {i["id"] for i in run_json("search", "مؤتلفه", "--config", str(polled), "--format", "json",
                                          "--limit", "500")["items"]}
    assert expected
    for spelling in ("مؤتلفه", "موتلفه", "مؤتلفه"):
        assert set(item_ids(served.get("/search", params={"q": spelling}).text)) == expected
    bad = served.get("/search", params={"q": '"never closed'})
    assert bad.status_code == 400 and "never closed" in bad.text


def test_item_page_shows_what_monitor_show_computes(served, polled):
    flagged = run_json("report", "--config", str(polled), "--since", ALL, "--format", "json")["items"]
    record = run_json("show", str(flagged[0]["id"]), "--config", str(polled), "--format", "json")
    page = served.get(f"/item/{record['id']}").text
    for m in record["matches"]:
        assert m["watch"] in page
    assert "<mark>" in page
    assert served.get("/item/999999").status_code == 404


def test_stories_and_feeds_pages(served, polled):
    stories = run_json("stories", "--config", str(polled), "--since", ALL, "--format", "json")["stories"]
    page = served.get("/stories", params={"since": ALL}).text
    assert [int(i) for i in re.findall(r'<h3 dir="auto"><a href="/item/(\d+)"', page)] == [s["id"] for s in stories]
    feeds = run_json("feeds", "--config", str(polled), "--format", "json")["feeds"]
    page = served.get("/feeds").text
    for f in feeds:
        assert f"<bdi>{f['name']}</bdi>" in page
    assert page.count("<tr>") == len(feeds) + 1


def test_security_headers_on_every_response(served):
    for path in ("/", "/search?q=x", "/static/live.js", "/item/999999", "/api/newer?after=0"):
        headers = served.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"


def test_no_inline_script_or_handler_in_any_page(served):
    for path in (f"/?since={ALL}", "/search?q=%D9%85%D9%88%D8%AA%D9%84%D9%81%D9%87", "/stories?since=", "/feeds",
                 "/item/1", f"/chart?since={ALL}"):
        page = served.get(path).text
        scripts = re.findall(r"<script\b[^>]*>", page)
        assert scripts == ['<script src="/static/live.js" defer>'], path
        assert not re.search(r"\son[a-z]+=", page), path
        assert not re.search(r"\sstyle=|<style", page), path  # style-src 'self': an inline style would not apply


def test_hostile_titles_are_text_and_javascript_links_are_not_links(hostile):
    server, ids = hostile
    page = server.get(f"/?since={ALL}").text
    assert "<script>document.title" not in page and "&lt;script&gt;" in page
    assert not re.search(r'href="\s*(javascript|data|vbscript):', page, re.I)
    links = re.findall(r'href="([^"]*)"', page)
    assert all(l.startswith(("/", "http://", "https://")) for l in links), links
    item = server.get(f"/item/{ids['quote']}").text
    assert "<script>document.title" not in item and "&lt;script&gt;" in item


def test_beyond_loopback_without_a_password_refuses_to_start(polled):
    proc = run_cli("serve", "--config", str(polled), "--host", "0.0.0.0", "--port", str(free_port()), timeout=30)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "password_file" in lines[0] and "0.0.0.0" in lines[0]


def test_a_password_file_guards_every_page(polled, tmp_path):
    pw = tmp_path / "web.pw"
    made = run_cli("serve", "--set-password", str(pw), input="s3cret pass\n", timeout=30)
    assert made.returncode == 0, made.stderr
    assert pw.read_text().startswith("scrypt$") and "s3cret" not in pw.read_text()
    raw = yaml.safe_load(polled.read_text(encoding="utf-8"))
    raw["serve"] = {"password_file": str(pw)}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    server = Served(config)
    try:
        assert server.get("/").status_code == 401
        assert server.get("/", auth=("any", "wrong")).status_code == 401
        assert server.get("/", auth=("any", "s3cret pass")).status_code == 200
    finally:
        server.stop()


def test_a_bad_password_file_and_bad_serve_config_are_one_line_errors(polled, tmp_path):
    raw = yaml.safe_load(polled.read_text(encoding="utf-8"))
    (tmp_path / "plain.pw").write_text("hunter2\n")
    for serve, words in (({"password_file": str(tmp_path / "plain.pw")}, "not a scrypt password hash"),
                         ({"port": 70000}, "serve.port"), ({"colour": "red"}, "colour")):
        raw["serve"] = serve
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        proc = run_cli("serve", "--config", str(config), "--port", str(free_port()), timeout=30)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0], lines


def test_chart_page_is_the_reports_chart_over_every_flagged_item_of_the_filters(served, polled):
    from monitor.report import chart

    expected = run_json("report", "--config", str(polled), "--since", ALL, "--format", "json",
                        "--group-by", "watch")["counts"]
    page = served.get(f"/chart?since={ALL}")
    assert page.status_code == 200
    rows = re.findall(r'<tr><td><span class="swatch (c\d)"></span><bdi dir="auto">([^<]+)</bdi></td>'
                      r'<td class="n">([۰-۹]+)</td><td class="n">([۰-۹]+)</td></tr>', page.text)
    digits = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")
    assert [{"watch": w, "items": int(n.translate(digits)), "mentions": int(m.translate(digits))}
            for _, w, n, m in rows] == expected
    svg = re.search(r"<svg class=\"chart\".*?</svg>", page.text, re.S).group(0)
    assert [t for t in re.findall(r"<title>([^<]+)</title>", svg)] == [c["watch"] for c in expected]
    css = served.get("/static/site.css").text  # the legend's colours are the chart's lines' colours
    for index, (cls, *_) in enumerate(rows):
        assert f".{cls} {{ background: {chart.colour(index)}; }}" in css
        assert f'<g stroke="{chart.colour(index)}"' in svg
    one = expected[-1]["watch"]
    narrowed = served.get("/chart", params={"since": ALL, "watch": one}).text
    assert re.findall(r"<title>([^<]+)</title>", narrowed.split("<svg", 1)[1]) == [one]
    assert served.get("/chart?since=nonsense").status_code == 400
