"""`/healthz` and `/metrics` of `monitor serve`, over a polled database: health follows the daemon's last
cycle as the daemon records it (written here through the store as monitor.daemon.jobs writes it), metrics
parse with Prometheus' own parser and agree with `monitor feeds` and `monitor items`."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from conftest import run_json
from test_web import Served, polled  # noqa: F401 (fixture)


@pytest.fixture
def own(polled, tmp_path):
    raw = yaml.safe_load(polled.read_text(encoding="utf-8"))
    shutil.copy(raw["database"], tmp_path / "monitor.db")
    raw["database"] = str(tmp_path / "monitor.db")
    raw["schedule"] = {"interval": "5m"}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return config


def last_cycle(config, ago: timedelta) -> None:
    from monitor.store import Store

    store = Store.open(yaml.safe_load(config.read_text(encoding="utf-8"))["database"])
    with store.transaction():
        at = (datetime.now(timezone.utc) - ago).isoformat(timespec="seconds")
        store.meta.set("daemon.last_cycle", json.dumps({"at": at, "summary": "4 feeds ok"}))
    store.close()


def test_healthz_follows_the_daemons_last_cycle(own):
    server = Served(own)
    try:
        none = server.get("/healthz")
        assert none.status_code == 503 and "no daemon cycle" in none.text
        last_cycle(own, timedelta(minutes=2))
        fresh = server.get("/healthz")
        assert fresh.status_code == 200 and "4 feeds ok" in fresh.text
        last_cycle(own, timedelta(minutes=16))  # three 5-minute intervals and more
        stale = server.get("/healthz")
        assert stale.status_code == 503 and "more than 900s" in stale.text
    finally:
        server.stop()


def test_metrics_parse_and_agree_with_the_cli(own):
    from prometheus_client.parser import text_string_to_metric_families

    server = Served(own)
    try:
        answer = server.get("/metrics")
    finally:
        server.stop()
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(answer.text) for s in family.samples}
    feeds = run_json("feeds", "--config", str(own), "--format", "json")["feeds"]
    assert samples[("monitor_feeds", (("status", "ok"),))] == sum(f["last_status"] == "ok" for f in feeds)
    items = run_json("items", "--config", str(own), "--format", "json")["items"]
    assert samples[("monitor_items", (("status", "new"),))] == sum(i["status"] == "new" for i in items)
    assert samples[("monitor_items", (("status", "duplicate"),))] == sum(i["status"] == "duplicate" for i in items)
    assert samples[("monitor_items_flagged", ())] == sum(i["flagged"] for i in items) > 0
