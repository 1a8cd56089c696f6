"""`monitor serve` over a PostgreSQL database: the same pages as over the SQLite database it was copied from
(`monitor migrate --to`, which keeps the ids), and triage marks that persist there across a restart."""

from __future__ import annotations

import re

import httpx
import yaml

from conftest import run_cli, run_json
from test_web import ALL, Served, item_ids, polled  # noqa: F401 (fixture)
from test_web_triage import post, token


def _pg_config(polled, tmp_path, pg_url):
    assert run_cli("migrate", "--config", str(polled), "--to", pg_url).returncode == 0
    raw = yaml.safe_load(polled.read_text(encoding="utf-8"))
    raw["database"] = pg_url
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return config


def _metric(text: str, name: str) -> list[str]:
    return sorted(line for line in text.splitlines() if line.startswith(name))


def test_the_pages_over_postgresql_show_what_they_show_over_sqlite(polled, tmp_path, pg_url):
    config = _pg_config(polled, tmp_path, pg_url)
    sqlite, pg = Served(polled), Served(config)
    try:
        lists = [item_ids(s.get(f"/?since={ALL}").text) for s in (sqlite, pg)]
        assert lists[0] and lists[0] == lists[1]
        found = [item_ids(s.get("/search", params={"q": "موتلفه", "since": ALL}).text) for s in (sqlite, pg)]
        assert found[0] and sorted(found[0]) == sorted(found[1])  # same items; PostgreSQL ranks with ts_rank
        first = lists[0][0]
        pages = [s.get(f"/item/{first}") for s in (sqlite, pg)]
        assert pages[1].status_code == 200
        marks = [sorted(re.findall(r"<mark[^>]*>([^<]+)</mark>", p.text)) for p in pages]
        assert marks[0] and marks[0] == marks[1]
        metrics = [s.get("/metrics").text for s in (sqlite, pg)]
        assert _metric(metrics[0], "monitor_items") == _metric(metrics[1], "monitor_items") != []
        for path in ("/stories?since=", "/feeds", "/chart?since=" + ALL):
            assert pg.get(path).status_code == 200, path
    finally:
        assert "Traceback" not in sqlite.stop()
        assert "Traceback" not in pg.stop()


def test_a_mark_made_over_postgresql_persists_there_across_a_restart(polled, tmp_path, pg_url):
    config = _pg_config(polled, tmp_path, pg_url)
    flagged = run_json("report", "--config", str(config), "--since", ALL, "--format", "json")["items"]
    item = flagged[0]["id"]
    browser = httpx.Client(timeout=30)
    server = Served(config)
    try:
        good = token(server, item, browser)
    finally:
        server.stop()
    server = Served(config)  # a form loaded before the restart posts after it: the secret is in the database
    try:
        assert post(server, item, browser, action="star", csrf=good).status_code in (200, 303)
    finally:
        assert "Traceback" not in server.stop()
    triage = {i["id"]: i["triage"] for i in run_json("items", "--config", str(config), "--format", "json")["items"]}
    assert triage[item]["starred"] is True
