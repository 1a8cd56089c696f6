"""`monitor report` end to end: the real CLI over a database filled by `monitor poll` from the fixture feeds
(fixtures/README.md has the expected flags), every format with its filters, and the HTML opened in a real
headless Chromium (Debian's `chromium`; .ci/run installs it) to see it render right to left, show every
flagged item and run no script, with hostile items inserted straight into a second database."""

from __future__ import annotations

import csv
import io
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
import yaml

from conftest import FEEDS, REPO, run_cli, run_json
from monitor.display import display
from monitor.store import Store
from test_e2e import fixture_feeds, write_config
from test_report import SAFE_TAGS, fill_hostile, tags

SINCE = ("--since", "2025-11-01")  # the fixture items are from November 2025
FLAGGED_TITLES_PER_WATCH = {"Motalefeh Islamic Party": 3, "Mohammad-Ali Amani": 2, "Dmitry Medvedev": 2,
                            "Mohammad-Mahdi Tina Tehrani": 1, "Vladimir Putin": 1, "Kim Jong-un": 1,
                            "North Korea": 1, "United Russia": 1}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="the chromium binary is not installed "
                                    "(apt-get install chromium; .ci/run does it)")


@pytest.fixture(scope="module")
def polled(tmp_path_factory):
    """One poll of the four fixture feeds for the whole module: polling costs seconds (hazm)."""
    from monitor.feedserver import FeedServer

    tmp = tmp_path_factory.mktemp("polled")
    with FeedServer(FEEDS) as server:
        config = write_config(tmp, fixture_feeds(server))
        proc = run_cli("poll", "--config", str(config))
        assert proc.returncode == 0, proc.stderr
    return config


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return hostile_database(tmp_path_factory.mktemp("hostile"))


def hostile_database(tmp: Path) -> tuple[Path, dict]:
    """A config and a database in `tmp` holding fill_hostile's items: (config path, their ids)."""
    shipped = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config = tmp / "config.yaml"
    config.write_text(yaml.safe_dump({"database": "h.db", "feeds": [
        {"name": "evil", "url": "https://evil.example/rss"}, {"name": "mehr", "url": "https://mehrnews.com/rss"}],
        "watch": shipped["watch"]}, allow_unicode=True), encoding="utf-8")
    store = Store.open(tmp / "h.db")
    ids = fill_hostile(store)
    store.close()
    return config, ids


def report(config: Path, *args: str) -> dict:
    return run_json("report", "--config", str(config), "--format", "json", *args)


# ------------------------------------------------------------------------------------------ filters
def test_json_report_has_the_six_flagged_items(polled):
    doc = report(polled, *SINCE)
    assert len(doc["items"]) == 6 and all(i["flagged"] and i["status"] == "new" for i in doc["items"])
    counts: dict[str, int] = {}
    for item in doc["items"]:
        for m in item["matches"]:
            counts[m["watch"]] = counts.get(m["watch"], 0) + 1
    assert counts == FLAGGED_TITLES_PER_WATCH
    first = doc["items"][0]  # newest: tasnim's Medvedev item, 2025-11-22 12:01 UTC
    assert first["feed"] == "tasnim" and first["published_jalali"] == "1404-09-01 15:31"


def test_default_since_is_the_last_week(polled):
    assert report(polled)["items"] == []  # the fixture items are a year old


@pytest.mark.parametrize("args, expected", [
    (("--watch", "Motalefeh Islamic Party"), 3),
    (("--watch", "Vladimir Putin", "--watch", "United Russia"), 2),
    (("--kind", "country"), 1),
    (("--kind", "figure"), 5),
    (("--feed", "tasnim"), 2),
    (("--feed", "mehr", "--watch", "Mohammad-Ali Amani"), 1),
    (("--until", "2025-11-20"), 2),  # Tehran midnight: rows 3 and 4
    (("--since", "1404-08-29"), 4),  # Jalali = 2025-11-20 in Tehran: rows 8, 11, 13, 14
    (("--since", "1404-08-29", "--until", "2025-11-21T12:00:00+03:30"), 2),
])
def test_filters(polled, args, expected):
    items = report(polled, *SINCE, *args)["items"]
    assert len(items) == expected, [i["title"] for i in items]
    if "--watch" in args:
        wanted = {args[i + 1] for i, a in enumerate(args) if a == "--watch"}
        assert all({m["watch"] for m in i["matches"]} <= wanted for i in items)


def test_group_by_watch_and_day(polled):
    doc = report(polled, *SINCE, "--group-by", "watch")
    assert {g["name"]: g["count"] for g in doc["groups"]} == FLAGGED_TITLES_PER_WATCH
    assert {c["watch"]: c["items"] for c in doc["counts"]} == FLAGGED_TITLES_PER_WATCH
    days = report(polled, *SINCE, "--group-by", "day")["groups"]
    assert [g["name"] for g in days][0] == "1404-09-01 (2025-11-22)" and sum(g["count"] for g in days) == 6


@pytest.mark.parametrize("args, message", [
    (("--feed", "nope"), "no feed named 'nope'"), (("--watch", "Nobody"), "no watch entry named 'Nobody'"),
    (("--until", "soon"), "--until:"), (("--since", "1404-13-01"), "--since:"), (("--group-by", "x"), "")])
def test_bad_input_exits_2(polled, args, message):
    proc = run_cli("report", "--config", str(polled), *args)
    assert proc.returncode == 2 and message in proc.stderr


# ------------------------------------------------------------------------------------------ formats
def test_csv_and_excel(polled, tmp_path):
    out = tmp_path / "r.csv"
    assert run_cli("report", "--config", str(polled), *SINCE, "--format", "csv", "--excel", "-o", str(out),
                   "--watch", "Dmitry Medvedev").returncode == 0
    raw = out.read_bytes()
    assert out.stat().st_mode & 0o777 == 0o600
    assert raw.startswith(b"\xef\xbb\xbfid,feed,published_utc,published_jalali")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["feed"] for r in rows] == ["tasnim", "tasnim"] and all("Dmitry Medvedev" in r["watch"] for r in rows)
    plain = run_cli("report", "--config", str(polled), *SINCE, "--format", "csv").stdout
    assert not plain.startswith("\ufeff") and len(list(csv.DictReader(io.StringIO(plain)))) == 6


def test_markdown(polled):
    md = run_cli("report", "--config", str(polled), *SINCE, "--format", "markdown", "--group-by", "feed").stdout
    assert md.startswith("# ") and "| Motalefeh Islamic Party | 3 | 10 |" in md
    assert md.count("\n- **[") == 6 and "## tasnim (2)" in md and "**مؤتلفه‌ای‌ها**" in md


def test_table_fits_80_columns(polled):
    from rich.cells import cell_len

    proc = run_cli("report", "--config", str(polled), *SINCE, env={"COLUMNS": "80"})
    assert proc.returncode == 0
    assert max(cell_len(line) for line in proc.stdout.splitlines()) <= 80
    assert "1404-08-27 19:42 (2025-11-18)" in proc.stdout and "6 flagged items" in proc.stdout


def test_atom_output_parses_with_the_same_items(polled, tmp_path):
    import feedparser

    out = tmp_path / "flagged.atom"
    assert run_cli("report", "--config", str(polled), *SINCE, "--format", "atom", "-o", str(out)).returncode == 0
    parsed = feedparser.parse(out.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    items = report(polled, *SINCE)["items"]
    assert [e.title for e in parsed.entries] == [display(i["title"]) for i in items]  # JSON: as the feed wrote it
    assert [e.link for e in parsed.entries] == [i["link"] for i in items]
    assert all(e.updated_parsed for e in parsed.entries)
    again = feedparser.parse(run_cli("report", "--config", str(polled), *SINCE, "--format", "atom").stdout)
    assert [e.id for e in again.entries] == [e.id for e in parsed.entries]


# ------------------------------------------------------------------------------------------ Chromium
def chromium(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=90)


def dump_dom(page: Path, tmp_path: Path) -> str:
    proc = chromium("--virtual-time-budget=2000", "--dump-dom", page.as_uri(), tmp_path=tmp_path)
    assert proc.returncode == 0 and "</html>" in proc.stdout, proc.stderr[-2000:]
    return proc.stdout


def html_report(config: Path, out: Path, *args: str) -> Path:
    proc = run_cli("report", "--config", str(config), *SINCE, "--format", "html", "-o", str(out), *args)
    assert proc.returncode == 0, proc.stderr
    return out


@needs_chromium
def test_chromium_runs_scripts_in_this_harness(tmp_path):
    """The control: a page whose script does run changes its title and adds an element in the dumped DOM, so
    the absence of both in the report's DOM below means no script ran, not that the harness cannot tell."""
    page = tmp_path / "control.html"
    page.write_text("<!DOCTYPE html><html><head><title>ok</title></head><body><script>document.title='PWNED';"
                    "document.body.appendChild(document.createElement('pwned'))</script></body></html>")
    dom = dump_dom(page, tmp_path)
    assert "<title>PWNED</title>" in dom and "<pwned>" in dom


@needs_chromium
def test_chromium_shows_every_flagged_item_right_to_left(polled, tmp_path):
    page = html_report(polled, tmp_path / "report.html")
    dom = dump_dom(page, tmp_path)
    assert re.search(r'<html dir="rtl" lang="fa">', dom)
    for item in report(polled, *SINCE)["items"]:
        assert f'id="item-{item["id"]}"' in dom
        assert display(item["title"]).replace("&", "&amp;") in dom
    assert dom.count("<mark>") >= 14 and "<svg" in dom
    shot = tmp_path / "report.png"
    proc = chromium("--window-size=1000,1400", "--hide-scrollbars", f"--screenshot={shot}", page.as_uri(),
                    tmp_path=tmp_path)
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    width, pixels = read_png(shot.read_bytes(), max_rows=60)
    # The heading is right-aligned in a centred column: its ink starts right of the middle, ends near the right.
    left, right = ink_columns(width, pixels[15:60])
    assert left > width // 2 and right > width * 0.85, (left, right, width)


@needs_chromium
def test_chromium_hostile_items_stay_inert(hostile, tmp_path):
    config, ids = hostile
    page = html_report(config, tmp_path / "hostile.html")
    dom = dump_dom(page, tmp_path)
    assert re.search(r"<title>[^<]*</title>", dom) and "<title>PWNED" not in dom
    assert "<pwned" not in dom.lower() and "<script" not in dom.lower() and "<img" not in dom
    found = tags(dom)  # the elements and attributes Chromium built, as its serializer wrote them
    assert {t for t, _ in found} <= SAFE_TAGS
    attrs = [(a, v) for _, pairs in found for a, v in pairs]
    assert not [a for a, _ in attrs if a.startswith("on") or a in ("src", "srcdoc")]
    assert all(v.startswith("https://") for a, v in attrs if a == "href")
    for item_id in ids.values():
        if item_id != ids["dup"]:
            assert f'id="item-{item_id}"' in dom
    assert f'id="item-{ids["dup"]}"' not in dom
    assert "document.title='PWNED'" in dom  # the hostile text is shown, as text


# ------------------------------------------------------------------------------------------ PNG pixels
def read_png(data: bytes, max_rows: int) -> tuple[int, list[bytes]]:
    """The first rows of an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes), as RGB bytes per row."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(min(height, max_rows)):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(b"".join(bytes(line[x * bpp:x * bpp + 3]) for x in range(width)))
        prev = line
    return width, rows


def ink_columns(width: int, rows: list[bytes]) -> tuple[int, int]:
    """The leftmost and rightmost dark pixel in the given rows."""
    xs = [x for row in rows for x in range(width) if sum(row[3 * x:3 * x + 3]) < 200]
    assert xs, "no ink in the heading band"
    return min(xs), max(xs)
