"""The chart page: mentions per day per watch entry over the flagged items of the list's filters.

It is the HTML report's chart (monitor.report.chart.svg over monitor.report.view.build's per-day counts), not
a second one: an inline SVG that needs no script; its legend is the counts table, coloured by CSS classes
(site.css .c0 … .c9, the chart's palette order) since the page's Content-Security-Policy allows no inline style.
Unlike the list it counts every flagged item of the period, not the first page of them: the items are streamed
from one statement (store.items.iter_query), only their dates and matches kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from monitor.report import chart, view


def chart_page(site: Any, request: Request) -> Response:
    """GET /chart: the counts and the chart of the filters (since, watch, kind, feed; default the last 7 days)."""
    form, f, errors = site.filters(request)
    svg, counts, days = "", [], 0
    with site.store() as store:
        if store is not None and not errors:
            query = {k: f[k] for k in ("since", "watch", "feed", "kind")}
            since = datetime.fromisoformat(f["since"]) if f["since"] else None
            report = view.build(lambda: store.items.iter_query(flagged=True, **query), watch=(), since=since)
            series = [(w, report.per_day.get(w, {})) for w, _, _ in report.watch_counts]
            svg, days = chart.svg(report.days, series), len(report.days)
            counts = [(f"c{i % len(chart.PALETTE)}", w, items, mentions)
                      for i, (w, items, mentions) in enumerate(report.watch_counts)]
    return site.page(request, "chart.html", 400 if errors else 200, form=form, errors=errors, svg=svg,
                     counts=counts, days=days, **site.choices())


__all__ = ["chart_page"]
