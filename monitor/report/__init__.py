"""Stored items to the shapes people and programs read: JSON, CSV, terminal tables, and the flagged-items report
in every format (render(): table, markdown, html, csv, json, atom).

Pure formatting over rows from store.items.query; returns strings or rich renderables and never prints (the CLI
prints). Nothing here imports hazm, httpx or feedparser, so read-only commands start fast; each format's module
is imported only when that format is asked for.

  view.py      what every format shows: Tehran/Jalali times, safe links, marked snippets, groups, counts
  html.py      one self-contained RTL page (chart.py: its inline SVG chart)
  atom.py      Atom 1.0 for feed readers
  markdown.py  for notes and tickets
  tabular.py   rich table, CSV, JSON
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Sequence

from monitor.files import write_private

ITEM_FIELDS = ("id", "guid", "feed", "title", "link", "published", "fetched_at", "status")


def item_record(row: dict[str, Any]) -> dict[str, Any]:
    """The public JSON shape of one item (a contract: `monitor items --format json`)."""
    record = {k: row.get(k) for k in ITEM_FIELDS}
    record["duplicate_of"] = (
        {"kind": row["dup_kind"], "ref": _ref(row["dup_kind"], row["dup_ref"]), "score": row["dup_score"]}
        if row.get("dup_kind") else None)
    record["flagged"] = row.get("status") == "new" and bool(row.get("matches"))
    record["matches"] = [
        {"watch": m["watch"], "kind": m["kind"], "terms": m["terms"], "count": m["count"], "snippet": m["snippet"]}
        for m in row.get("matches", [])]
    return record


def _ref(kind: str, ref: str) -> str | int:
    return int(ref) if kind == "item" and ref.isdigit() else ref


def to_json(rows: Iterable[dict[str, Any]], key: str = "items") -> str:
    return json.dumps({key: [item_record(r) for r in rows]}, ensure_ascii=False, indent=2)


CSV_COLUMNS = ("id", "feed", "published", "status", "duplicate_of", "flagged", "watch", "title", "link", "snippet")


def to_csv(rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        rec = item_record(row)
        dup = rec["duplicate_of"]
        writer.writerow([
            rec["id"], rec["feed"], rec["published"] or "", rec["status"],
            f"{dup['kind']}:{dup['ref']}" if dup else "", "yes" if rec["flagged"] else "no",
            "; ".join(f"{m['watch']} ({m['count']})" for m in rec["matches"]),
            rec["title"], rec["link"] or "", rec["matches"][0]["snippet"] if rec["matches"] else "",
        ])
    return out.getvalue()


def items_table(rows: list[dict[str, Any]], title: str | None = None):
    """A rich Table of items; readable at 80 columns (the title wraps, ids and dates stay narrow)."""
    from rich.table import Table

    from rich import box

    table = Table(title=title, box=box.SIMPLE_HEAD, expand=True, pad_edge=False)
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("date", no_wrap=True)
    table.add_column("feed", max_width=10, overflow="ellipsis", no_wrap=True)
    table.add_column("status", max_width=12, overflow="ellipsis", no_wrap=True)
    table.add_column("title · watch matches", overflow="fold", ratio=1)
    for row in rows:
        rec = item_record(row)
        dup = rec["duplicate_of"]
        status = rec["status"] if not dup else f"dup {dup['ref']}"
        cell = _esc(rec["title"])
        if rec["matches"]:
            cell += "\n[cyan]" + _esc(", ".join(f"{m['watch']} ×{m['count']}" for m in rec["matches"])) + "[/cyan]"
        table.add_row(str(rec["id"]), (rec["published"] or rec["fetched_at"] or "")[:10], rec["feed"], status, cell)
    return table


def report_table(rows: list[dict[str, Any]], title: str | None = None):
    """The flagged-items report for a terminal: one block per item with its matches and snippets."""
    from rich.table import Table

    table = Table(title=title, show_lines=True, expand=False)
    table.add_column("item", overflow="fold", ratio=1)
    for row in rows:
        rec = item_record(row)
        lines = [f"[bold]{_esc(rec['title'])}[/bold]",
                 f"{rec['feed']} · {(rec['published'] or rec['fetched_at'] or '')[:16]} · #{rec['id']}"]
        if rec["link"]:
            lines.append(_esc(readable_link(rec["link"])))
        for m in rec["matches"]:
            lines.append(f"[cyan]{_esc(m['watch'])}[/cyan] ({m['kind']}) ×{m['count']}: {_esc(m['snippet'])}")
        table.add_row("\n".join(lines))
    return table


def feeds_table(rows: list[dict[str, Any]]):
    from rich.table import Table

    table = Table(expand=False)
    for col in ("name", "last_status", "items", "failures", "last_fetched", "next_poll", "why", "last_error"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["name"], r["last_status"] or "never", str(r["items"]), str(r["consecutive_failures"]),
                      (r["last_fetched"] or "")[:19], (r["next_poll"] or "")[:19],
                      _esc(r.get("next_poll_reason") or ""), _esc(r["last_error"] or ""))
    return table


def readable_link(link: str) -> str:
    """Percent-encoded Persian slugs decoded for people; the stored link is untouched."""
    from urllib.parse import unquote

    try:
        return unquote(link, errors="strict")
    except UnicodeDecodeError:
        return link


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text or "")


# ------------------------------------------------------------------------------------------ the report
REPORT_FORMATS = ("table", "markdown", "html", "csv", "json", "atom")
EXTENSIONS = {"table": "txt", "markdown": "md", "html": "html", "csv": "csv", "json": "json", "atom": "atom"}


def render(rows: Sequence[dict[str, Any]], fmt: str, *, watch: Iterable[Any] = (), group_by: str | None = None,
           since: datetime | None = None, until: datetime | None = None, generated: datetime | None = None,
           title: str = "", excel: bool = False, feed_key: str = "") -> Any:
    """The flagged-items report over rows from store.items.query(flagged=True, ...): a string, or for "table"
    a rich renderable. `watch` (the config's entries) lets snippets mark the matched terms."""
    from monitor.report import view

    report = view.build(rows, watch=watch, group_by=group_by, since=since, until=until, generated=generated,
                        title=title)
    if fmt == "html":
        from monitor.report import html

        return html.render(report)
    if fmt == "atom":
        from monitor.report import atom

        return atom.render(report, key=feed_key)
    if fmt == "markdown":
        from monitor.report import markdown

        return markdown.render(report)
    from monitor.report import tabular

    if fmt == "csv":
        return tabular.to_csv(report, excel=excel)
    if fmt == "json":
        return tabular.to_json(report, rows, group_by)
    if fmt == "table":
        return tabular.table(report)
    raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(REPORT_FORMATS)}")


def write_scheduled_report(config: Any, store: Any, now: datetime | None = None) -> Path:
    """Write the dated report of config.report (the daemon runs this as a cron job) and return its path.

    It covers the period since the previous run (a day, or a week for "monday at 08:00"), is named by the
    date in the report's time zone (flagged-2025-11-25.html) and is written to a temporary file first and
    renamed, so a web server serving the folder never hands out half a report.
    """

    from monitor.dates import now_utc, to_iso
    from monitor.report.view import zone

    settings = config.report
    if settings is None:
        raise ValueError("config.yaml has no report: section")
    now = now or now_utc()
    since = now - timedelta(days=settings.period_days)
    rows = store.items.query(flagged=True, since=to_iso(since), until=to_iso(now))
    local = now.astimezone(zone(settings.timezone))
    text = render(rows, settings.format, watch=config.watch, since=since, until=now, generated=now,
                  feed_key=f"scheduled:{config.path}")
    if not isinstance(text, str):  # a rich table: rendered plain, as `monitor report --output` does
        text = render_text(text)
    return write_private(Path(settings.output) / f"flagged-{local:%Y-%m-%d}.{EXTENSIONS[settings.format]}", text)


def render_text(renderable: Any, width: int = 100) -> str:
    """A rich renderable as plain text (no colour codes), for files."""
    from rich.console import Console

    console = Console(file=io.StringIO(), width=width, soft_wrap=False, color_system=None)
    console.print(renderable)
    return console.file.getvalue()
