"""`/healthz` and `/metrics` for whoever runs the monitor (as Miniflux exposes them).

/healthz answers 200 while the daemon's last cycle (`daemon.last_cycle`, written by monitor.daemon.jobs after
each cycle, what `monitor status` shows) is recent: within three poll intervals, at least 10 minutes; 503 with
the reason otherwise, so a probe or systemd watchdog script sees a daemon that stopped polling.
/metrics is the Prometheus text format, made by prometheus_client (its exposition format is the reference; a
custom collector reads the store at each scrape, nothing is kept between scrapes).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterator

MIN_STALE = 600.0  # seconds


def health(config: Any, store: Any, now: datetime | None = None) -> tuple[bool, str]:
    """(healthy, why): whether the daemon's last cycle is recent."""
    if store is None:
        return False, f"no database yet at {config.database}"
    raw = store.meta.get("daemon.last_cycle")
    if not raw:
        return False, "no daemon cycle recorded yet (is `monitor run` running?)"
    cycle = json.loads(raw)
    at = datetime.fromisoformat(cycle["at"])
    now = now or datetime.now(timezone.utc)
    age = (now - at).total_seconds()
    limit = max(3 * config.schedule.interval, MIN_STALE)
    if age > limit:
        return False, f"the daemon's last cycle was {age:.0f}s ago (at {cycle['at']}), more than {limit:.0f}s"
    return True, f"last cycle {age:.0f}s ago: {cycle.get('summary', '')}"


def metrics(config: Any, store: Any) -> bytes:
    """The Prometheus text of the store's state now."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(config, store))
    return generate_latest(registry)


class _Collector:
    def __init__(self, config: Any, store: Any) -> None:
        self.config, self.store = config, store

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        from monitor.report import feed_health

        rows = feed_health(self.config, self.store, item_counts=False)
        feeds = GaugeMetricFamily("monitor_feeds", "Feeds of config.yaml by their last poll's status",
                                  labels=["status"])
        for status in ("ok", "not_modified", "error", "never"):
            feeds.add_metric([status], sum((r["last_status"] or "never") == status for r in rows))
        yield feeds
        pages = GaugeMetricFamily("monitor_article_failures", "Article pages that failed, per feed", labels=["feed"])
        for r in rows:
            pages.add_metric([r["name"]], r.get("article_failures") or 0)
        yield pages
        if self.store is None:
            return
        counts = self.store.items.status_counts()
        items = GaugeMetricFamily("monitor_items", "Stored items by status", labels=["status"])
        for status in ("new", "duplicate"):
            items.add_metric([status], counts[status])
        yield items
        yield GaugeMetricFamily("monitor_items_flagged", "Stored new items with a watch match",
                                value=counts["flagged"])
        raw = self.store.meta.get("daemon.last_cycle")
        if raw:
            at = datetime.fromisoformat(json.loads(raw)["at"])
            yield GaugeMetricFamily("monitor_last_cycle_timestamp_seconds", "When the daemon's last cycle ended",
                                    value=at.timestamp())
        if self.store.outbox.available():
            alerts = GaugeMetricFamily("monitor_alerts", "Alerts in the outbox, per destination and status",
                                       labels=["destination", "status"])
            for d in self.store.outbox.summary():
                for status in ("pending", "sent", "failed", "retrying"):
                    alerts.add_metric([d["destination"], status], d[status] or 0)
            yield alerts
