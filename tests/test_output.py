"""Output that does what it says (issue 12, points 20-23 and 25), through the real CLI as a subprocess over real
SQLite files: `-o` onto links, FIFOs and devices, failed writes to stdout, control characters from feeds in
every table, one-line errors instead of tracebacks, and the terminal tables' layout and wording."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from monitor.config import load_config
from monitor.rematch import watch_hash

from conftest import REPO, run_cli
from monitor.models import Match
from monitor.store import Store
from test_report import AMANI, PARTY, put

SINCE = ("--since", "2025-11-01")
HOSTILE = "\x1b[H\x1b[J\x1b]0;pwned\x07 \u202eevil\u202c \u2066x\u2069 \x9b31m \x00\x08 حزب موتلفه اسلامی"
CONTROLS = ["\x1b", "\x07", "\x9b", "\u202e", "\u202c", "\u2066", "\u2069", "\x00", "\x08"]


def make_config(tmp: Path, **extra) -> Path:
    shipped = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    raw = {"database": "m.db", "feeds": [{"name": "evil", "url": "https://evil.example/rss"},
                                          {"name": "mehr", "url": "https://mehrnews.com/rss"}],
           "watch": shipped["watch"], **extra}
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def filled(tmp_path) -> Path:
    """A config over a database with one hostile flagged item, one plain one, and a feed error with escapes."""
    config = make_config(tmp_path)
    store = Store.open(tmp_path / "m.db")
    put(store, "evil", "e1", HOSTILE, "https://evil.example/1", "2025-11-20T10:00:00+00:00",
        [Match(PARTY.name, "party", ("حزب موتلفه اسلامی",), 1, HOSTILE)])
    put(store, "mehr", "m1", "دیدار امانی", "https://mehrnews.com/1", "2025-11-21T10:00:00+00:00",
        [Match(AMANI.name, "figure", ("امانی",), 1, "دیدار امانی")])
    with store.transaction():
        store.feeds.sync([("evil", "https://evil.example/rss"), ("mehr", "https://mehrnews.com/rss")])
        store.feeds.save_result("evil", status="error", fetched_at=ago(180), next_poll=ago(-720),
                                next_poll_reason="backoff after 1 failure",
                                error="HTTP 500 \x1b[2J\x1b]0;owned\x07 \u202ereversed")
        store.feeds.save_result("mehr", status="ok", fetched_at="2025-11-21T10:00:00+00:00")
        # The items' matches are this config's watch list, as a poll records it (else read commands say the
        # flags may be stale, a line on stderr of its own).
        store.meta.set_matched_with(watch_hash(load_config(config)))
    store.close()
    return config


def ago(seconds: float) -> str:
    from datetime import datetime, timedelta, timezone

    return (datetime.now(timezone.utc) - timedelta(seconds=seconds)).isoformat(timespec="seconds")


def leftovers(*folders: Path) -> list[str]:
    return [p.name for folder in folders for p in folder.iterdir() if p.name.startswith(".tmp-")]


# ------------------------------------------------------------------------------------------ 20: -o targets
def test_output_onto_a_symlink_writes_through_the_link(filled, tmp_path):
    target_dir = tmp_path / "published"
    target_dir.mkdir()
    target = target_dir / "report.html"
    target.write_text("old")
    link = tmp_path / "latest.html"
    link.symlink_to(target)
    proc = run_cli("report", "--config", str(filled), *SINCE, "--format", "html", "-o", str(link))
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert "</html>" in target.read_text(encoding="utf-8")
    assert leftovers(tmp_path, target_dir) == []


def test_output_onto_a_relative_symlink_chain(filled, tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "real.md").write_text("old")
    (tmp_path / "d" / "mid.md").symlink_to("real.md")
    (tmp_path / "top.md").symlink_to("d/mid.md")
    proc = run_cli("report", "--config", str(filled), *SINCE, "--format", "markdown", "-o", str(tmp_path / "top.md"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "top.md").is_symlink() and (tmp_path / "d" / "mid.md").is_symlink()
    assert (tmp_path / "d" / "real.md").read_text(encoding="utf-8").startswith("# ")


def test_output_onto_a_dangling_symlink_creates_its_target(filled, tmp_path):
    (tmp_path / "out").mkdir()
    link = tmp_path / "r.json"
    link.symlink_to(tmp_path / "out" / "new.json")
    proc = run_cli("report", "--config", str(filled), *SINCE, "--format", "json", "-o", str(link))
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and '"items"' in (tmp_path / "out" / "new.json").read_text(encoding="utf-8")


def test_output_onto_a_fifo_writes_into_it(filled, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    proc = run_cli("report", "--config", str(filled), *SINCE, "--format", "csv", "-o", str(fifo), timeout=60)
    reader.join(10)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert got and got[0].startswith(b"id,feed,")
    assert leftovers(tmp_path) == []


def char_device(tmp_path: Path, minor: int) -> Path:
    """A private copy of /dev/null (minor 3) or /dev/full (minor 7), so no test ever risks the real nodes."""
    path = tmp_path / f"dev{minor}"
    try:
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, minor))
        with open(path, "wb"):
            pass
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a character device here: {exc}")
    return path


def test_output_onto_a_character_device_writes_into_it(filled, tmp_path):
    null = char_device(tmp_path, 3)
    proc = run_cli("report", "--config", str(filled), *SINCE, "--format", "html", "-o", str(null))
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISCHR(os.lstat(null).st_mode), "the device node was replaced by a plain file"
    assert leftovers(tmp_path) == []


def test_output_onto_a_full_device_exits_1_with_one_line(filled, tmp_path):
    full = char_device(tmp_path, 7)
    proc = run_cli("report", "--config", str(filled), *SINCE, "--format", "html", "-o", str(full))
    assert proc.returncode == 1 and stat.S_ISCHR(os.lstat(full).st_mode)
    assert len(proc.stderr.strip().splitlines()) == 1 and str(full) in proc.stderr, proc.stderr


def test_output_dash_is_stdout(filled, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "monitor", "report", "--config", str(filled), *SINCE,
                           "--format", "json", "-o", "-"], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("{") and not (tmp_path / "-").exists()
    table = run_cli("items", "--config", str(filled), "--format", "table", env={"COLUMNS": "100"})
    assert "دیدار امانی" in table.stdout


def test_output_into_a_missing_folder_or_onto_a_directory_is_one_line(filled, tmp_path):
    (tmp_path / "adir").mkdir()
    (tmp_path / "alink").symlink_to(tmp_path / "adir")
    for target in ("adir", "alink", "no/such/folder/r.md"):
        proc = run_cli("report", "--config", str(filled), *SINCE, "-o", str(tmp_path / target))
        assert proc.returncode in (0, 1, 2) and "Traceback" not in proc.stderr, proc.stderr
        assert proc.returncode == 0 or "adir" in proc.stderr or "alink" in proc.stderr, proc.stderr
    assert (tmp_path / "no/such/folder/r.md").exists()


def test_an_interrupted_write_leaves_no_temporary_file(tmp_path):
    """SIGTERM (and SIGINT) while the report is being written: no `.tmp-*` stays, the old file is untouched."""
    config = make_config(tmp_path)
    store = Store.open(tmp_path / "m.db")
    with store.transaction():
        ids = store.items.reserve_ids(20_000)
        store.items.insert_new([{
            "id": i, "feed": "mehr", "key": f"k{i}", "guid": f"k{i}", "link": f"https://mehrnews.com/{i}",
            "title": "دیدار امانی " * 5, "summary": "", "body": "", "published": "2025-11-20T10:00:00+00:00",
            "fetched_at": "2025-11-20T10:00:00+00:00", "status": "new"} for i in ids])
        for i in ids:
            store.matches.replace(i, [Match(AMANI.name, "figure", ("امانی",), 1, "دیدار امانی " * 10)])
    store.close()
    out = tmp_path / "out"
    out.mkdir()
    for sig in (signal.SIGTERM, signal.SIGINT):
        target = out / "r.html"
        target.write_text("old")
        proc = subprocess.Popen([sys.executable, "-m", "monitor", "report", "--config", str(config), *SINCE,
                                 "--format", "html", "-o", str(target)], cwd=REPO, stderr=subprocess.PIPE,
                                stdout=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not leftovers(out) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        assert b"Traceback" not in err, err
        assert leftovers(out) == [], sig
        assert target.read_text() in ("old",) or target.read_text().endswith("</html>\n")


# ------------------------------------------------------------------------------------------ 21: failed stdout
@pytest.mark.parametrize("args", [("report", *SINCE), ("report", *SINCE, "--format", "json"),
                                  ("items",), ("items", "--format", "csv"), ("feeds",), ("feeds", "--format", "json")])
def test_a_failed_write_to_stdout_exits_1_with_one_line(filled, args):
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "monitor", *args[:1], "--config", str(filled), *args[1:]],
                              stdout=full, stderr=subprocess.PIPE, text=True, cwd=REPO)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "stdout" in lines[0] and "Traceback" not in proc.stderr, proc.stderr


def test_a_closed_pipe_exits_1_with_one_line(filled):
    read, write = os.pipe()
    os.close(read)
    proc = subprocess.run([sys.executable, "-m", "monitor", "report", "--config", str(filled), *SINCE],
                          stdout=write, stderr=subprocess.PIPE, text=True, cwd=REPO)
    os.close(write)
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


# ------------------------------------------------------------------------------------------ 22: control characters
@pytest.mark.parametrize("args", [("items",), ("items", "--flagged"), ("feeds",), ("report", *SINCE),
                                  ("report", *SINCE, "--format", "markdown"), ("report", *SINCE, "--group-by", "feed")])
def test_every_table_cleans_control_characters(filled, args):
    proc = run_cli(args[0], "--config", str(filled), *args[1:], env={"COLUMNS": "120"})
    assert proc.returncode == 0, proc.stderr
    found = [repr(c) for c in CONTROLS if c in proc.stdout]
    assert not found, found
    assert "pwned" in proc.stdout or "owned" in proc.stdout or "evil" in proc.stdout  # the text is kept


def test_a_table_written_to_a_file_is_clean_too(filled, tmp_path):
    out = tmp_path / "r.txt"
    assert run_cli("report", "--config", str(filled), *SINCE, "-o", str(out)).returncode == 0
    text = out.read_text(encoding="utf-8")
    assert not [c for c in CONTROLS if c in text] and "evil" in text


# ------------------------------------------------------------------------------------------ 23: one line, no traceback
@pytest.mark.parametrize("value", ["99999999999999999999", "9223372036854775808"])
def test_a_huge_limit_is_a_usage_error(filled, value):
    proc = run_cli("items", "--config", str(filled), "--limit", value)
    assert proc.returncode == 2 and "--limit" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_the_largest_limit_works(filled):
    proc = run_cli("items", "--config", str(filled), "--limit", "9223372036854775807", "--format", "json")
    assert proc.returncode == 0, proc.stderr


def test_a_lock_file_that_is_a_directory_is_one_line(filled, tmp_path):
    (tmp_path / "m.db.lock").mkdir()
    proc = run_cli("run", "--config", str(filled), timeout=60)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "m.db.lock" in proc.stderr
    status = run_cli("status", "--config", str(filled))
    assert "Traceback" not in status.stderr, status.stderr


def test_a_dangling_symlink_in_a_corpus_folder_is_skipped_with_a_warning(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("عنوان خبر\nمتن خبر درباره دیدار امانی با سفیر.\n", encoding="utf-8")
    (corpus / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    config = make_config(tmp_path, corpus=[str(corpus)])
    proc = run_cli("corpus", "--config", str(config), "--format", "json")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert '"good"' in proc.stdout and '"gone"' not in proc.stdout
    warnings = [ln for ln in proc.stderr.splitlines() if "gone.txt" in ln]
    assert len(warnings) == 1, proc.stderr


def test_a_database_from_a_newer_version_is_refused_untouched(filled, tmp_path):
    db = tmp_path / "m.db"
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('monitor', "
                 "'m999_from_the_future', '2030-01-01')")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    for args in (("items",), ("poll",), ("report", *SINCE), ("corpus",)):
        proc = run_cli(args[0], "--config", str(filled), *args[1:])
        assert proc.returncode == 1 and "newer" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert db.read_bytes() == before


def test_another_applications_database_is_refused_untouched(tmp_path):
    db = tmp_path / "m.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO contacts (name) VALUES ('someone')")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    config = make_config(tmp_path)
    for args in (("poll",), ("corpus",), ("items",), ("feeds",)):
        proc = run_cli(args[0], "--config", str(config), *args[1:])
        assert proc.returncode == 1 and "not a monitor database" in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert db.read_bytes() == before
    assert not (tmp_path / "m.db-wal").exists() or (tmp_path / "m.db-wal").stat().st_size == 0
    tables = sqlite3.connect(db).execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    assert tables == [("contacts",)]


# ------------------------------------------------------------------------------------------ 25: layout and words
def test_feeds_fits_80_columns_with_relative_times_and_the_zone(filled):
    from rich.cells import cell_len

    proc = run_cli("feeds", "--config", str(filled), env={"COLUMNS": "80", "TZ": "UTC"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(cell_len(ln) for ln in lines) <= 80, proc.stdout
    assert "3 min ago" in proc.stdout and "in 12 min" in proc.stdout  # relative times near now
    assert "Tehran" in proc.stdout  # the zone of the absolute times is stated
    header = next(ln for ln in lines if "feed" in ln)
    for word in ("feed", "status", "items", "fetched", "next poll"):
        assert word in header  # headers never broken mid-word
    assert "2025-11-21 13:30" in proc.stdout  # an old time is absolute, in Tehran


def test_items_and_report_date_an_item_in_one_stated_zone(filled):
    items = run_cli("items", "--config", str(filled), env={"COLUMNS": "120"}).stdout
    report = run_cli("report", "--config", str(filled), *SINCE, env={"COLUMNS": "120"}).stdout
    # the evil item: 2025-11-20T10:00Z = 13:30 in Tehran
    assert "2025-11-20 13:30" in items and "Tehran" in items, items
    assert "13:30" in report and "Tehran" in report, report


@pytest.mark.parametrize("count", [1, 2])
def test_flagged_item_plural(tmp_path, count):
    config = make_config(tmp_path)
    store = Store.open(tmp_path / "m.db")
    for i in range(count):
        put(store, "mehr", f"m{i}", "دیدار امانی", f"https://mehrnews.com/{i}", "2025-11-21T10:00:00+00:00",
            [Match(AMANI.name, "figure", ("امانی",), 1, "دیدار امانی")])
    store.close()
    want = "1 flagged item" if count == 1 else "2 flagged items"
    for fmt in ("table", "markdown"):
        out = run_cli("report", "--config", str(config), *SINCE, "--format", fmt, env={"COLUMNS": "100"}).stdout
        assert want in out and (count != 1 or "1 flagged items" not in out), out
    items = run_cli("items", "--config", str(config), env={"COLUMNS": "100"}).stdout
    assert (f"{count} item" + ("s" if count != 1 else "")) in items and (count != 1 or "1 items" not in items)


def test_the_demo_prints_the_same_table_as_report():
    proc = run_cli("demo", env={"COLUMNS": "100"}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    # the report's table: its heading line, the counts per watch entry, Jalali (Gregorian) dates
    assert "6 flagged items · " in proc.stdout and "times in Tehran" in proc.stdout
    assert "watch entry" in proc.stdout and "mentions" in proc.stdout
    assert "1404-08-27 19:42 (2025-11-18)" in proc.stdout


def test_a_servers_reason_phrase_of_escape_sequences_reaches_neither_terminal_nor_database(tmp_path):
    """A hostile server's status line «HTTP/1.1 500 ESC[2J ESC]0;owned BEL»: `monitor poll` prints the error and
    stores it as last_error; neither may carry the escapes (the phrase came straight from the server)."""
    from http.server import BaseHTTPRequestHandler

    from conftest import LoopbackServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(500, "\x1b[2J\x1b]0;owned\x07 Broken")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = LoopbackServer(Handler)
    try:
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump({"database": "m.db", "feeds": [{"name": "evil", "url": server.url("x")}],
                                          "watch": []}), encoding="utf-8")
        proc = run_cli("poll", "--config", str(config))
    finally:
        server.close()
    assert proc.returncode == 0 and "evil: error: HTTP 500" in proc.stdout, proc.stdout + proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    stored = sqlite3.connect(tmp_path / "m.db").execute("SELECT last_error FROM feeds").fetchone()[0]
    assert stored.startswith("HTTP 500") and "Broken" in stored and "\x1b" not in stored and "\x07" not in stored
