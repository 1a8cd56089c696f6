"""A watch-list edit seen without the daemon (issue 12, point 13): `monitor poll` re-matches the stored items
first, `monitor items` and `monitor report` say on stderr that the flags are stale and how to fix it, and
`monitor rematch` does it on demand. The real CLI in subprocesses, the fixture feeds on 127.0.0.1, real SQLite."""

from __future__ import annotations

import sqlite3

import pytest
import yaml

from conftest import run_cli, run_json
from test_e2e import fixture_feeds, write_config

MEDVEDEV = "Dmitry Medvedev"


def set_watch(config, watch: list[dict]) -> None:
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["watch"] = watch
    config.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")


def medvedev_flags(config) -> int:
    conn = sqlite3.connect(config.parent / "state" / "test.db")
    try:
        return conn.execute("SELECT count(*) FROM matches WHERE watch = ?", [MEDVEDEV]).fetchone()[0]
    finally:
        conn.close()


def report_watches(config) -> set[str]:
    items = run_json("report", "--config", str(config), "--since", "2000-01-01", "--format", "json")["items"]
    return {m["watch"] for it in items for m in it["matches"]}


@pytest.fixture
def polled(tmp_path, feed_server):
    config = write_config(tmp_path, fixture_feeds(feed_server))
    proc = run_cli("poll", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert "stale" not in proc.stderr and "rematch" not in proc.stderr  # the first poll has nothing to redo
    for command in ("items", "report"):  # nor do the read commands after it
        proc = run_cli(command, "--config", str(config), "--since", "2000-01-01")
        assert proc.returncode == 0 and "stale" not in proc.stderr, proc.stderr
    return config


def test_poll_rematches_after_a_watch_list_edit(polled):
    config = polled
    full = yaml.safe_load(config.read_text(encoding="utf-8"))["watch"]
    assert medvedev_flags(config) == 3 and MEDVEDEV in report_watches(config)
    set_watch(config, [w for w in full if w["name"] != MEDVEDEV])
    proc = run_cli("poll", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert "rematch" in proc.stderr and "14 items" in proc.stderr  # progress on stderr
    assert medvedev_flags(config) == 0 and MEDVEDEV not in report_watches(config)
    # The next poll has nothing to redo; back to the full list, the flags come back.
    proc = run_cli("poll", "--config", str(config))
    assert proc.returncode == 0 and "rematch" not in proc.stderr
    set_watch(config, full)
    assert run_cli("poll", "--config", str(config)).returncode == 0
    assert medvedev_flags(config) == 3


def test_read_commands_say_flags_are_stale_and_rematch_fixes_it(polled):
    config = polled
    full = yaml.safe_load(config.read_text(encoding="utf-8"))["watch"]
    set_watch(config, [w for w in full if w["name"] != MEDVEDEV])
    for args in (("items",), ("items", "--format", "json"), ("report", "--since", "2000-01-01"),
                 ("report", "--since", "2000-01-01", "--format", "json")):
        proc = run_cli(*args, "--config", str(config))
        assert proc.returncode == 0, proc.stderr
        notice = proc.stderr.strip().splitlines()
        assert len(notice) == 1 and "stale" in notice[0] and "monitor rematch" in notice[0], proc.stderr
        assert "config.yaml" in notice[0]
        if "json" in args:
            assert proc.stdout.lstrip().startswith("{")  # stdout stays the document
    assert medvedev_flags(config) == 3  # reading changed nothing

    proc = run_cli("rematch", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert "14 items" in proc.stdout and "3 removed" in proc.stdout
    assert medvedev_flags(config) == 0
    proc = run_cli("report", "--config", str(config), "--since", "2000-01-01")
    assert proc.returncode == 0 and "stale" not in proc.stderr
    # Nothing to do now, unless forced.
    proc = run_cli("rematch", "--config", str(config))
    assert proc.returncode == 0 and "nothing to do" in proc.stdout
    proc = run_cli("rematch", "--config", str(config), "--force")
    assert proc.returncode == 0 and "14 items" in proc.stdout and "0 changed" in proc.stdout


def test_rematch_without_a_database_and_with_a_bad_config(tmp_path):
    config = write_config(tmp_path, {})
    proc = run_cli("rematch", "--config", str(config))
    assert proc.returncode == 0 and "no database yet" in proc.stdout
    assert not (tmp_path / "state" / "test.db").exists()
    config.write_text("feeds: []\nwatch: [{name: x, kind: celebrity, terms: [y]}]\n", encoding="utf-8")
    proc = run_cli("rematch", "--config", str(config))
    assert proc.returncode == 2 and "config.yaml:2" in proc.stderr and "Traceback" not in proc.stderr
