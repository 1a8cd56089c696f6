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
from typing import Any, Callable, Iterable, Iterator, Sequence

from monitor.files import write_private
from monitor.report.view import TEHRAN, clean, plural  # noqa: F401 (plural: public, used by the CLI)

ZONE_NOTE = "times in Tehran (Asia/Tehran)"  # the one zone every table and report shows times in

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
    # Where the judged text came from (feed | page), and how the article page went (ok | failed | null when none
    # was wanted) with its reason.
    record["body_source"] = row.get("body_source") or "feed"
    record["page_status"] = row.get("page_status")
    record["page_reason"] = row.get("page_reason")
    if "triage" in row:  # `monitor items`: the web page's marks (store.triage.attach)
        record["triage"] = row["triage"]
    return record


def _ref(kind: str, ref: str) -> str | int:
    return int(ref) if kind == "item" and ref.isdigit() else ref


def to_json(rows: Iterable[dict[str, Any]], key: str = "items") -> str:
    return json.dumps({key: [item_record(r) for r in rows]}, ensure_ascii=False, indent=2)


CSV_COLUMNS = ("id", "feed", "published", "status", "duplicate_of", "flagged", "watch", "title", "link", "snippet",
               "body_source")


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
            rec["body_source"],
        ])
    return out.getvalue()


def items_table(rows: list[dict[str, Any]], title: str | None = None):
    """A rich Table of items; readable at 80 columns (the title wraps, ids and dates stay narrow)."""
    from rich.table import Table

    from rich import box

    table = Table(title=f"{title} · {ZONE_NOTE}" if title else ZONE_NOTE, box=box.SIMPLE_HEAD, expand=True,
                  pad_edge=False)
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("date (Tehran)", no_wrap=True)
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
        table.add_row(str(rec["id"]), tehran_time(rec["published"] or rec["fetched_at"]), _esc(rec["feed"]), status,
                      cell)
    return table


def tehran_time(value: str | None) -> str:
    """A stored ISO time as "2025-11-20 13:30" in Tehran, the zone the reports use; "" for none."""
    if not value:
        return ""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return clean(value)[:16]
    if when.tzinfo is None:
        from datetime import timezone

        when = when.replace(tzinfo=timezone.utc)
    return f"{when.astimezone(TEHRAN):%Y-%m-%d %H:%M}"


def relative_time(value: str | None, now: datetime) -> str:
    """"3 min ago", "in 12 min", "5 h ago" within two days of now; else the Tehran time; "never" for none."""
    if not value:
        return "never"
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return clean(value)[:16]
    seconds = (when - now).total_seconds() if when.tzinfo else 0.0
    span = abs(seconds)
    if span >= 2 * 86400 or not when.tzinfo:
        return tehran_time(value)
    amount = "now" if span < 30 else f"{round(span / 60)} min" if span < 5370 else f"{round(span / 3600)} h"
    return amount if amount == "now" else f"in {amount}" if seconds > 0 else f"{amount} ago"


def report_table(rows: list[dict[str, Any]], title: str | None = None):
    """Items as one block each with its matches and snippets (`monitor report` itself uses render(rows,
    "table"); the demo does too)."""
    from rich.table import Table

    table = Table(title=title, show_lines=True, expand=False)
    table.add_column("item", overflow="fold", ratio=1)
    for row in rows:
        rec = item_record(row)
        lines = [f"[bold]{_esc(rec['title'])}[/bold]",
                 f"{rec['feed']} · {(rec['published'] or rec['fetched_at'] or '')[:16]} · #{rec['id']}"
                 f" · body: {rec['body_source']}"]
        if rec["link"]:
            lines.append(_esc(readable_link(rec["link"])))
        for m in rec["matches"]:
            lines.append(f"[cyan]{_esc(m['watch'])}[/cyan] ({m['kind']}) ×{m['count']}: {_esc(m['snippet'])}")
        table.add_row("\n".join(lines))
    return table


def feed_health(config: Any, store: Any, *, item_counts: bool = True) -> list[dict[str, Any]]:
    """`monitor feeds`' rows: each configured feed with what the store knows of it (store.feeds.summary), a
    feed never polled with empty fields; the CLI and the web page show the same rows. item_counts=False: without
    each feed's count of items (None), for /metrics, which does not show them."""
    stored = {r["name"]: r for r in store.feeds.summary(item_counts=item_counts)} if store else {}
    return [stored.get(spec.name) or {"name": spec.name, "url": spec.url, "last_fetched": None,
                                      "last_status": None, "last_error": None, "consecutive_failures": 0,
                                      "next_poll": None, "next_poll_reason": None, "items": 0}
            for spec in config.feeds]


def feeds_table(rows: list[dict[str, Any]], now: datetime | None = None):
    """Each feed's health, readable at 80 columns: short headers that never break, times relative to now
    ("3 min ago", "in 12 min"; older ones in Tehran time, as stated in the caption), why the next poll is
    when it is and the last error folded into the one wide column."""
    from rich import box
    from rich.table import Table

    from monitor.dates import now_utc

    now = now or now_utc()
    table = Table(box=box.SIMPLE_HEAD, expand=True, pad_edge=False, caption=f"{ZONE_NOTE}; fails: in a row",
                  caption_justify="left")
    table.add_column("feed", no_wrap=True, max_width=16, overflow="ellipsis")
    table.add_column("status", no_wrap=True)
    table.add_column("items", justify="right", no_wrap=True)
    table.add_column("fails", justify="right", no_wrap=True)
    table.add_column("pages", justify="right", no_wrap=True)  # article pages that failed, in all
    table.add_column("fetched", no_wrap=True)
    table.add_column("next poll", no_wrap=True)
    table.add_column("why · error", overflow="fold", ratio=1, min_width=12)
    for r in rows:
        page_note = f"page: {r['article_last_error']}" if r.get("article_last_error") else None
        note = " · ".join(_esc(x) for x in (r.get("next_poll_reason"), r.get("last_error"), page_note) if x)
        table.add_row(_esc(r["name"]), _esc((r["last_status"] or "never").replace("_", " ")), str(r["items"]),
                      str(r["consecutive_failures"]), str(r.get("article_failures") or 0),
                      relative_time(r["last_fetched"], now),
                      relative_time(r["next_poll"], now), note)
    return table


def readable_link(link: str) -> str:
    """Percent-encoded Persian slugs decoded for people; the stored link is untouched."""
    from urllib.parse import unquote

    try:
        return unquote(link, errors="strict")
    except UnicodeDecodeError:
        return link


def _esc(text: str | None) -> str:
    from rich.markup import escape

    return escape(clean(text))


class CleanHook:
    """A rich render hook (Console.push_render_hook) that removes control characters (view.clean) from every
    text segment printed, while leaving rich's own styling intact: whatever table a command builds, a feed's
    ESC[2J or U+202E never reaches the terminal."""

    def process_renderables(self, renderables: list) -> list:
        return [Cleaned(r) for r in renderables]


class Cleaned:
    """A renderable whose text segments are cleaned (CleanHook)."""

    def __init__(self, renderable: Any) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Any, options: Any) -> Iterator[Any]:
        from rich.segment import Segment

        for seg in console.render(self.renderable, options):
            yield seg if seg.control else Segment(clean(seg.text), seg.style)


def is_renderable(result: Any) -> bool:
    """A rich renderable (a table), as opposed to text or an iterator of text chunks."""
    return not isinstance(result, str) and (hasattr(result, "__rich_console__") or hasattr(result, "__rich__"))


# ------------------------------------------------------------------------------------------ the report
REPORT_FORMATS = ("table", "markdown", "html", "csv", "json", "atom")
EXTENSIONS = {"table": "txt", "markdown": "md", "html": "html", "csv": "csv", "json": "json", "atom": "atom"}


def render(rows: Sequence[dict[str, Any]] | Callable[[], Iterable[dict[str, Any]]], fmt: str, *,
           watch: Iterable[Any] = (), group_by: str | None = None, since: datetime | None = None,
           until: datetime | None = None, generated: datetime | None = None, title: str = "", excel: bool = False,
           feed_key: str = "", stream: bool = False) -> Any:
    """The flagged-items report over rows from store.items.query(flagged=True, ...): a string, or for "table"
    a rich renderable. `watch` (the config's entries) lets snippets mark the matched terms. `stream`: HTML as
    an iterator of chunks (monitor.files.write_private and the CLI's deliver take either); with `rows` a
    callable that reads them again (store.items.iter_query), a streamed HTML report then holds one batch of
    rows at a time. The other formats take all the rows at once."""
    from monitor.report import view

    if callable(rows) and not (fmt == "html" and stream):
        rows = list(rows())
    report = view.build(rows, watch=watch, group_by=group_by, since=since, until=until, generated=generated,
                        title=title)
    if fmt == "html":
        from monitor.report import html

        return html.stream(report) if stream else html.render(report)
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


def with_stories(rows: Iterable[dict[str, Any]], store: Any, batch: int = 500) -> Iterator[dict[str, Any]]:
    """The rows with their story added ("story", "story_title", "carried_by": how many feeds carried it, copies
    included; store.stories.carried), looked up a batch at a time so a streamed report still holds one batch."""
    pending: list[dict[str, Any]] = []
    for row in rows:
        pending.append(row)
        if len(pending) >= batch:
            yield from _storied(pending, store)
            pending = []
    yield from _storied(pending, store)


def _storied(rows: list[dict[str, Any]], store: Any) -> list[dict[str, Any]]:
    found = store.stories.carried(r["id"] for r in rows) if rows else {}
    for r in rows:
        story, title, feeds = found.get(r["id"], (None, "", 0))
        r.update(story=story, story_title=title, carried_by=feeds)
    return rows


def write_scheduled_report(config: Any, store: Any, now: datetime | None = None) -> Path:
    """Write the dated report of config.report (the daemon runs this as a cron job) and return its path.

    It covers the period since the previous run (a day, or a week for "monday at 08:00"), is named by the
    date in the report's time zone (flagged-2025-11-25.html) and is written to a temporary file first and
    renamed, so a web server serving the folder never hands out half a report. `store` may be a read-only
    store: the daemon passes one of its own, so rendering never holds the writer (monitor.daemon.jobs).
    """

    from monitor.dates import now_utc, to_iso
    from monitor.report.view import zone

    settings = config.report
    if settings is None:
        raise ValueError("config.yaml has no report: section")
    now = now or now_utc()
    since = now - timedelta(days=settings.period_days)
    rows = list(with_stories(store.items.query(flagged=True, since=to_iso(since), until=to_iso(now)), store))
    local = now.astimezone(zone(settings.timezone))
    text = render(rows, settings.format, watch=config.watch, since=since, until=now, generated=now,
                  feed_key=f"scheduled:{config.path}", stream=True)
    if is_renderable(text):  # a rich table: rendered plain, as `monitor report --output` does
        text = render_text(text)
    return write_private(Path(settings.output) / f"flagged-{local:%Y-%m-%d}.{EXTENSIONS[settings.format]}", text)


def render_text(renderable: Any, width: int = 100) -> Iterator[str]:
    """A rich renderable as plain text (no colour codes, control characters cleaned), for files: chunk by chunk
    when it is a Group (the report table), so a large report never sits in memory whole."""
    from rich.console import Console, Group

    parts = renderable.renderables if isinstance(renderable, Group) else [renderable]
    for part in parts:
        console = Console(file=io.StringIO(), width=width, soft_wrap=False, color_system=None)
        console.push_render_hook(CleanHook())
        console.print(part)
        yield console.file.getvalue()
