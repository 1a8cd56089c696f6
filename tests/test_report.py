"""The report formats in process, over a real SQLite file filled through monitor.store.Store: hostile feed
content stays inert in every format, terms are marked, Atom parses cleanly, the scheduled report is dated.
(The CLI, the fixture feeds and headless Chromium are in test_report_e2e.py.)"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

import pytest

from monitor.models import Match, WatchEntry
from monitor.report import render, write_scheduled_report
from monitor.report.view import build, safe_link
from monitor.store import Store

PARTY = WatchEntry("Motalefeh Islamic Party", "party", ("حزب موتلفه اسلامی", "موتلفه"))
AMANI = WatchEntry("Mohammad-Ali Amani", "figure", ("محمدعلی امانی", "امانی"))
WATCH = (PARTY, AMANI)
XSS_TITLE = ("<script>document.title='PWNED'</script><img src=x onerror=\"document.body.appendChild("
             "document.createElement('pwned'))\"> حزب موتلفه اسلامی")
XSS_SNIPPET = ("<script>document.title='PWNED'</script> دیدار حزب موتلفه اسلامی "
               "<svg onload=alert(1)> <a href=\"javascript:alert(1)\">x</a> =HYPERLINK(\"http://evil\")")
HOSTILE_LINKS = ("javascript:document.title='PWNED'", " JaVaScRiPt:alert(1)", "java\tscript:alert(1)",
                 "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "//evil.example/x")


def put(store: Store, feed: str, key: str, title: str, link: str | None, published: str,
        matches: list[Match], status: str = "new", summary: str = "") -> int:
    with store.transaction():
        item_id = store.items.reserve_ids(1)[0]
        store.items.insert_new([{
            "id": item_id, "feed": feed, "key": key, "guid": key, "link": link, "title": title, "summary": summary,
            "body": "", "published": published, "fetched_at": "2025-11-25T08:00:00+00:00", "status": status}])
        store.matches.replace(item_id, matches)
    return item_id


def fill_hostile(store: Store) -> dict[str, int]:
    """One hostile item per bad link, a legitimate one, and a duplicate that must never show."""
    ids = {}
    for i, link in enumerate(HOSTILE_LINKS):
        ids[link] = put(store, "evil", f"evil-{i}", XSS_TITLE, link, f"2025-11-2{i % 3}T10:00:00+00:00",
                        [Match(PARTY.name, "party", ("حزب موتلفه اسلامی",), 2, XSS_SNIPPET)],
                        summary="<iframe src=javascript:alert(1)>")
    ids["quote"] = put(store, "evil", "evil-q", "\"'><script>document.title='PWNED'</script>",
                       "https://evil.example/\"><script>document.title='PWNED'</script>",
                       "2025-11-21T11:00:00+00:00", [Match(AMANI.name, "figure", ("امانی",), 1, "سخنان امانی")])
    ids["good"] = put(store, "mehr", "good", "دیدار محمد علی امانی با مؤتلفه‌ای‌ها",
                      "https://www.mehrnews.com/news/1/%D8%AF%DB%8C%D8%AF%D8%A7%D8%B1", "2025-11-18T16:12:11+00:00",
                      [Match(AMANI.name, "figure", ("محمدعلی امانی",), 1, "دیدار محمد علی امانی با مؤتلفه‌ای‌ها"),
                       Match(PARTY.name, "party", ("موتلفه",), 1, "دیدار محمد علی امانی با مؤتلفه‌ای‌ها")])
    ids["dup"] = put(store, "mehr", "dup", "تکراری", "https://x.example/d", "2025-11-19T10:00:00+00:00",
                     [Match(PARTY.name, "party", ("موتلفه",), 1, "موتلفه")], status="duplicate")
    return ids


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "m.db")
    fill_hostile(s)
    yield s
    s.close()


SAFE_TAGS = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "section",
             "main", "footer", "table", "thead", "tbody", "tr", "th", "td", "span", "bdi", "figure", "figcaption",
             "svg", "line", "text", "g", "polyline", "circle", "article", "a", "time", "ul", "li", "mark"}


def tags(page: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every element and its attributes, as a browser's tokenizer sees them."""
    from html.parser import HTMLParser

    found: list = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, [(a, v or "") for a, v in attrs]))

    Collect().feed(page)
    return found


def rows(store: Store, **kw):
    return store.items.query(flagged=True, **kw)


def test_safe_link_keeps_only_absolute_http_links():
    assert safe_link("https://a.example/x?y=1") == "https://a.example/x?y=1"
    assert safe_link("HTTP://a.example") == "HTTP://a.example"
    for bad in (*HOSTILE_LINKS, "", None, "https://", "mailto:a@b.c", "https://a.example/\x00x y"):
        assert safe_link(bad) is None, bad


def test_html_escapes_everything_and_links_only_http(store):
    page = render(rows(store), "html", watch=WATCH)
    assert page.startswith("<!DOCTYPE html>") and '<html dir="rtl" lang="fa">' in page
    assert "script-src" not in page and "default-src 'none'" in page  # CSP: no script may run at all
    body = page.split("<body>", 1)[1]
    found = tags(page)
    assert {t for t, _ in found} <= SAFE_TAGS, {t for t, _ in found} - SAFE_TAGS
    attrs = [(t, a, v) for t, pairs in found for a, v in pairs]
    assert not [a for _, a, _ in attrs if a.startswith("on") or a in ("src", "srcdoc", "action", "formaction")]
    hrefs = [v for t, a, v in attrs if a in ("href", "xlink:href")]
    assert hrefs and all(t == "a" for t, a, _ in attrs if a == "href"), hrefs
    assert all(h.startswith("https://") for h in hrefs), hrefs
    assert "&lt;script&gt;document.title=&#x27;PWNED&#x27;&lt;/script&gt;" in body  # shown as text
    assert 'href="https://evil.example/&quot;&gt;&lt;script&gt;' in body  # the quote cannot end the attribute


def test_html_marks_terms_found_again_in_the_snippet(store):
    page = render(rows(store), "html", watch=WATCH)
    good = page.split('id="item-', )[1:]
    article = next(a for a in good if "مؤتلفه‌ای‌ها</mark>" in a)
    assert "<mark>محمد علی امانی</mark>" in article  # split spelling of the term «محمدعلی امانی»
    assert "<mark>حزب موتلفه اسلامی</mark>" in page
    assert "۲۷ آبان ۱۴۰۴، ۱۹:۴۲" in article  # 2025-11-18 16:12 UTC in Tehran, Jalali
    assert "(2025-11-18)" in article
    assert "<svg" in page and "<polyline" in page  # the per-day chart


def test_duplicates_never_in_the_report(store):
    got = rows(store)
    assert {r["feed"] for r in got} == {"evil", "mehr"} and all(r["status"] == "new" for r in got)
    assert "تکراری" not in render(got, "html", watch=WATCH)


def test_markdown_is_inert(store):
    md = render(rows(store), "markdown", watch=WATCH)
    assert "<script" not in md and "<img" not in md and "<svg" not in md
    assert "](javascript" not in md.lower() and "](data:" not in md and "](//" not in md
    assert "&lt;script&gt;" in md
    assert "[دیدار محمد علی امانی با مؤتلفه‌ای‌ها](https://www.mehrnews.com/news/1/" in md
    assert "**محمد علی امانی**" in md
    assert "| Motalefeh Islamic Party | 7 | 13 |" in md  # 6 hostile items ×2 + the good one ×1


def test_csv_rows_formula_guard_and_excel_bom(store):
    text = render(rows(store), "csv", watch=WATCH)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == 8 and not text.startswith("\ufeff")
    assert all(not r["snippet"].startswith("=") for r in parsed)
    good = next(r for r in parsed if r["feed"] == "mehr")
    assert good["published_jalali"] == "1404-08-27 19:42" and good["published_date"] == "2025-11-18"
    assert good["watch"] == "Mohammad-Ali Amani (1); Motalefeh Islamic Party (1)"
    formula = render([dict(rows(store)[0], title="=cmd|' /C calc'!A0")], "csv")
    assert ",'=cmd|" in formula  # the title cell starts with a quote: text, not a formula
    excel = render(rows(store), "csv", excel=True)
    assert excel.startswith("\ufeffid,feed,") and "\r\n" in excel


def test_atom_parses_cleanly_with_the_same_items(store):
    feedparser = pytest.importorskip("feedparser")
    got = rows(store)
    xml = render(got, "atom", watch=WATCH, generated=datetime(2025, 11, 25, tzinfo=timezone.utc))
    parsed = feedparser.parse(xml.encode("utf-8"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10" and len(parsed.entries) == len(got)
    assert [e.title for e in parsed.entries] == [r["title"] for r in got]
    links = {e.get("link") for e in parsed.entries}
    assert "https://www.mehrnews.com/news/1/%D8%AF%DB%8C%D8%AF%D8%A7%D8%B1" in links
    # feedparser gives an entry without a link its id as link
    assert all(link.startswith(("https://", "urn:uuid:")) for link in links), links
    assert len({e.id for e in parsed.entries}) == len(got)
    again = feedparser.parse(render(list(reversed(got)), "atom").encode("utf-8"))
    assert {e.id for e in again.entries} == {e.id for e in parsed.entries}  # stable ids
    assert "<script" not in xml and "&lt;script" in xml


def test_json_adds_tehran_times_and_groups(store):
    doc = json.loads(render(rows(store), "json", watch=WATCH))
    assert len(doc["items"]) == 8 and doc["items"][0]["flagged"] is True
    good = next(i for i in doc["items"] if i["feed"] == "mehr")
    assert good["published_jalali"] == "1404-08-27 19:42"
    assert good["published_tehran"] == "2025-11-18T19:42:11+03:30"
    grouped = json.loads(render(rows(store), "json", group_by="watch"))
    assert [(g["name"], g["count"]) for g in grouped["groups"]] == [
        ("Motalefeh Islamic Party", 7), ("Mohammad-Ali Amani", 2)]
    by_feed = json.loads(render(rows(store), "json", group_by="feed"))
    assert [g["name"] for g in by_feed["groups"]] == ["evil", "mehr"]


def test_group_by_day_uses_tehran_days(store):
    report = build(rows(store), group_by="day")
    names = [name for name, _ in report.groups]
    assert names[0] == "1404-09-01 (2025-11-22)" and names[-1] == "1404-08-27 (2025-11-18)"


def test_table_renders_at_80_columns(store):
    from rich.console import Console

    console = Console(file=io.StringIO(), width=80, color_system=None)
    console.print(render(rows(store), "table", watch=WATCH))
    out = console.file.getvalue()
    from rich.cells import cell_len

    assert max(cell_len(line) for line in out.splitlines()) <= 80  # ZWNJ takes no cell
    assert "1404-08-27 19:42 (2025-11-18)" in out and "\x1b" not in out


def test_scheduled_report_is_dated_and_covers_the_last_day(tmp_path, store):
    from monitor.models import Config, ReportSettings

    out = tmp_path / "reports"
    config = Config(path=str(tmp_path / "config.yaml"), database=store.path, corpus=(), feeds=(), watch=WATCH,
                    report=ReportSettings(output=str(out), timezone="Asia/Tehran"))
    now = datetime(2025, 11, 21, 4, 30, tzinfo=timezone.utc)  # 08:00 in Tehran
    path = write_scheduled_report(config, store, now)
    assert path == out / "flagged-2025-11-21.html"
    page = path.read_text(encoding="utf-8")
    assert page.count('<article class="item"') == 2  # published 2025-11-20T10:00 (two hostile) in the last day
    assert not list(out.glob(".tmp-*"))
    assert path.stat().st_mode & 0o777 == 0o600  # what the user watches for stays the user's
    weekly = ReportSettings(output=str(out), format="atom", day_of_week="mon", timezone="UTC")
    atom_path = write_scheduled_report(
        Config(path=config.path, database=store.path, corpus=(), feeds=(), watch=WATCH, report=weekly), store, now)
    assert atom_path.name == "flagged-2025-11-21.atom" and atom_path.read_text().count("<entry>") == 3  # the week to 11-21 04:30 UTC: 2 hostile, the good one
    assert weekly.cron() == {"hour": 8, "minute": 0, "timezone": "UTC", "day_of_week": "mon"}


def test_display_form_is_for_persian_runs_only_never_latin():
    """Issue 12, point 16: display() turned «G20» into «G۲۰» and an English title's year into Persian digits."""
    from monitor.display import display

    cases = {
        "نشست G20 در سال 1404": "نشست G20 در سال ۱۴۰۴",
        "G20 summit, 2025 (Tehran 3:30)": "G20 summit, 2025 (Tehran 3:30)",
        "COVID-19 در ايران 50%": "COVID-19 در ایران ۵۰٪",
        "رشد 50% در G7": "رشد ۵۰٪ در G7",
        "سال 1404 - Reuters": "سال ۱۴۰۴ - Reuters",
        "iPhone 15 در بازار 1404": "iPhone 15 در بازار ۱۴۰۴",
        "Café 2 و كافه 3": "Café 2 و کافه ۳",
        "\u200fBBC\u200e گزارش 12": "BBC گزارش ۱۲",
        "كتاب 12": "کتاب ۱۲",  # no Latin at all: as before
        "2025": "۲۰۲۵",
        "G۲۰": "G۲۰",  # a title stored in display form before stays as it is
    }
    for raw, shown in cases.items():
        assert display(raw) == shown, raw
        assert display(shown) == shown, shown  # applying it again changes nothing


# ------------------------------------------------------------------------------------------ issue 12, point 24
def _elements(page: str):
    """(tag, attrs, text) for every text node: the open elements' (tag, attrs) at that point."""
    from html.parser import HTMLParser

    found: list = []

    class Walk(HTMLParser):
        VOID = {"meta", "line", "circle", "br", "img", "polyline"}

        def __init__(self):
            super().__init__()
            self.stack: list = []

        def handle_starttag(self, tag, attrs):
            if tag not in self.VOID:
                self.stack.append((tag, dict(attrs)))

        def handle_endtag(self, tag):
            while self.stack and self.stack.pop()[0] != tag:
                pass

        def handle_data(self, data):
            if data.strip():
                found.append((list(self.stack), data))

    Walk().feed(page)
    return found


def test_html_every_feed_text_has_its_own_direction(tmp_path):
    """An English title's final period stays at its end: every feed-supplied text sits in dir="auto" or <bdi>."""
    s = Store.open(tmp_path / "m.db")
    english = "Talks with Motalefeh ended."
    put(s, "Reuters EN", "en", english, "https://r.example/1", "2025-11-20T10:00:00+00:00",
        [Match(PARTY.name, "party", ("موتلفه",), 1, "He met Motalefeh leaders (موتلفه) today.")])
    fill_hostile(s)
    rows = s.items.query(flagged=True)
    s.close()
    page = render(rows, "html", watch=WATCH)
    feed_texts = {english, "He met Motalefeh leaders", "Reuters EN", "evil", "mehr"}
    checked = 0
    for stack, data in _elements(page):
        if any(t in data for t in feed_texts) and not any(tag in ("title", "style") for tag, _ in stack):
            checked += 1
            assert any(tag == "bdi" or attrs.get("dir") == "auto" for tag, attrs in stack), (data, stack)
    assert checked >= 5


def _labels(svg: str) -> list[tuple[float, float, str]]:
    """The x-axis labels as (left, right, text), from their x, anchor and estimated width."""
    import re

    from monitor.report.chart import CHAR_WIDTH, FONT, HEIGHT

    out = []
    for x, y, anchor, text in re.findall(r'<text x="([\d.]+)" y="([\d.]+)" text-anchor="(\w+)">([^<]*)</text>', svg):
        if float(y) != HEIGHT - 10:
            continue
        width = len(text) * CHAR_WIDTH * FONT
        left = float(x) - {"start": 0, "middle": width / 2, "end": width}[anchor]
        out.append((left, left + width, text))
    return out


def _report(since: datetime, until: datetime, days: list[str]):
    rows = [{"id": i, "guid": str(i), "feed": "mehr", "title": "t", "link": None, "published": f"{d}T08:00:00+00:00",
             "fetched_at": f"{d}T08:00:00+00:00", "status": "new",
             "matches": [{"watch": PARTY.name, "kind": "party", "terms": ["موتلفه"], "count": 2, "snippet": "موتلفه"}]}
            for i, d in enumerate(days)]
    return build(rows, watch=WATCH, since=since, until=until)


def test_chart_axis_spans_the_requested_period():
    from monitor.report import chart

    report = _report(datetime(2025, 10, 31, 20, 30, tzinfo=timezone.utc),  # 2025-11-01 00:00 in Tehran
                     datetime(2025, 11, 30, 20, 30, tzinfo=timezone.utc), ["2025-11-10", "2025-11-12"])
    assert len(report.days) == 30 and str(report.days[0]) == "2025-11-01" and str(report.days[-1]) == "2025-11-30"
    svg = chart.svg(report.days, [(PARTY.name, report.per_day[PARTY.name])])
    import re

    assert len(re.search(r'points="([^"]*)"', svg).group(1).split()) == 30  # a point per day of the period
    assert _labels(svg)[-1][2] == "۰۹/۰۹"  # 2025-11-30 = 1404-09-09: the period's last day is labelled


def test_chart_labels_carry_the_year_when_the_period_crosses_one():
    from monitor.report import chart

    crossing = _report(datetime(2025, 3, 9, 20, 30, tzinfo=timezone.utc), datetime(2025, 3, 30, tzinfo=timezone.utc),
                       ["2025-03-15", "2025-03-25"])  # Nowruz 1404 is 2025-03-21
    texts = [t for _, _, t in _labels(chart.svg(crossing.days, [(PARTY.name, crossing.per_day[PARTY.name])]))]
    assert any(t.startswith("۱۴۰۳/") for t in texts) and any(t.startswith("۱۴۰۴/") for t in texts), texts
    inside = _report(datetime(2025, 11, 1, tzinfo=timezone.utc), datetime(2025, 11, 20, tzinfo=timezone.utc),
                     ["2025-11-15"])
    texts = [t for _, _, t in _labels(chart.svg(inside.days, [(PARTY.name, inside.per_day[PARTY.name])]))]
    assert texts and all(len(t) == 5 for t in texts), texts


@pytest.mark.parametrize("span", [1, 2, 5, 7, 8, 13, 31, 45, 90, 200, 366, 400, 800, 3000])
def test_chart_labels_never_overlap_and_stay_inside(span):
    from datetime import timedelta

    from monitor.report import chart
    from monitor.report.chart import WIDTH

    since = datetime(2024, 12, 1, tzinfo=timezone.utc)
    until = since + timedelta(days=span)
    report = _report(since, until, [f"{since.date()}"])
    labels = _labels(chart.svg(report.days, [(PARTY.name, report.per_day[PARTY.name])]))
    assert labels
    for (_, right, a), (left, _, b) in zip(labels, labels[1:]):
        assert right <= left, (a, b)
    assert labels[0][0] >= 0 and labels[-1][1] <= WIDTH


def test_html_streams_in_chunks_equal_to_the_page(store):
    rows = store.items.query(flagged=True)
    now = datetime(2025, 11, 25, tzinfo=timezone.utc)
    chunks = render(rows, "html", watch=WATCH, stream=True, generated=now)
    assert not isinstance(chunks, str)
    chunks = list(chunks)
    assert len(chunks) > 1 and "".join(chunks) == render(rows, "html", watch=WATCH, generated=now)


def test_an_html_report_read_from_the_store_as_it_is_written_is_the_same_page(store):
    """rows as a callable (store.items.iter_query, read in batches: 2 here) instead of a list: the counts and
    the chart come from a first pass, the items from a second as they are written; the page is the same, flat
    and grouped, and the items are never all held by the report (view.StreamedItems)."""
    from monitor.report.view import StreamedItems, build

    now = datetime(2025, 11, 25, tzinfo=timezone.utc)
    passes: list[int] = []

    def rows():
        passes.append(1)
        return store.items.iter_query(flagged=True, batch=2)

    assert list(rows()) == store.items.query(flagged=True)
    for group_by in (None, "feed", "watch"):
        streamed = "".join(render(rows, "html", watch=WATCH, stream=True, generated=now, group_by=group_by))
        assert streamed == render(store.items.query(flagged=True), "html", watch=WATCH, generated=now,
                                  group_by=group_by), group_by
    assert isinstance(build(rows, watch=WATCH).items, StreamedItems)
    passes.clear()
    "".join(render(rows, "html", watch=WATCH, stream=True, generated=now))
    assert len(passes) == 2  # one pass for the counts and the chart, one for the items


def test_the_daemons_scheduled_report_does_not_wait_for_the_writer(tmp_path, store):
    """While the writer holds its lock and an open write transaction, the scheduled report is still written:
    it reads from a connection of its own."""
    import sqlite3
    import threading

    import yaml

    from monitor.daemon.service import Daemon

    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"database": store.path, "feeds": [{"name": "mehr", "url": "https://m.example/rss"}],
                                      "watch": [{"name": PARTY.name, "kind": "party", "terms": list(PARTY.terms)}],
                                      "report": {"every": "day at 08:00", "format": "html",
                                                 "output": str(tmp_path / "reports")}}), encoding="utf-8")
    daemon = Daemon(str(config))
    writer = sqlite3.connect(store.path)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE feeds SET last_error = 'busy'")
    with daemon.lock:
        done = threading.Thread(target=daemon.jobs.write_report, daemon=True)
        done.start()
        done.join(30)
        alive = done.is_alive()
    writer.rollback()
    writer.close()
    assert not alive, "the report waited for the writer's lock"
    assert len(list((tmp_path / "reports").glob("flagged-*.html"))) == 1
