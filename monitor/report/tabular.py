"""The report for a terminal (rich), a spreadsheet (CSV) and programs (JSON)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Sequence

from monitor.report.view import ItemView, Report, period_text, plural

CSV_COLUMNS = ("id", "feed", "published_utc", "published_jalali", "published_date", "title", "link",
               "watch", "terms", "snippet", "carried_by")
BOM = "\ufeff"
DATED_BY = "items dated by published time (fetched time when the feed gives none)"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: str) -> str:
    """Feed text safe in a spreadsheet: a leading = + - @ would make Excel or LibreOffice run it as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_csv(report: Report, *, excel: bool = False) -> str:
    """A header row and one row per flagged item; `excel` adds the BOM Excel needs to read UTF-8 Persian."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n" if excel else "\n")
    writer.writerow(CSV_COLUMNS)
    for it in report.items:
        writer.writerow([
            it.id, cell(it.feed), it.published_utc or "", it.jalali, it.gregorian, cell(it.title),
            cell(it.raw_link or ""), cell("; ".join(f"{m.watch} ({m.count})" for m in it.matches)),
            cell("; ".join(dict.fromkeys(t for m in it.matches for t in m.terms))),
            cell(" … ".join("".join(s.text for s in snip) for snip in it.snippets)), it.carried_by or "",
        ])
    return (BOM if excel else "") + out.getvalue()


def to_json(report: Report, rows: Sequence[dict[str, Any]], group_by: str | None = None) -> str:
    """`{"items": [...]}` in the shape of `monitor items --format json`, plus Tehran times; grouped when asked:
    `{"group_by": "watch", "groups": [{"name", "count", "items"}], "counts": [{"watch", "items", "mentions"}]}`."""
    from monitor.report import item_record

    records: dict[int, dict[str, Any]] = {}
    for row, it in zip(rows, report.items):
        rec = item_record(row)
        rec["published_jalali"] = it.jalali or None
        rec["published_tehran"] = it.when.isoformat() if it.when else None
        rec["story"] = it.story  # monitor stories' id; null when the item has none yet
        rec["carried_by"] = it.carried_by or None  # feeds that carried its story, copies included
        records[it.id] = rec
    if not group_by:  # exactly the `monitor items` document, so the same code reads both
        return json.dumps({"items": [records[it.id] for it in report.items]}, ensure_ascii=False, indent=2) + "\n"
    doc = {"group_by": group_by, "groups": [
        {"name": name, "count": len(items), "items": [records[it.id] for it in items]}
        for name, items in report.groups],
        "counts": [{"watch": w, "items": n, "mentions": m} for w, n, m in report.watch_counts]}
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def table(report: Report):
    """Rich renderables: the counts per watch entry, then one block per item; readable at 80 columns."""
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from rich import box

    parts: list[Any] = []
    period = period_text(report)
    parts.append(Text(plural(len(report.items), "flagged item") + (f" · {period}" if period else "")
                      + " · times in Tehran (Jalali and Gregorian dates)", style="bold"))
    if period:  # the period, like `monitor status`'s "today", is of published times
        parts.append(Text(DATED_BY, style="dim"))
    if report.watch_counts:
        counts = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        counts.add_column("watch entry", overflow="fold")
        counts.add_column("items", justify="right")
        counts.add_column("mentions", justify="right")
        for w, n, m in report.watch_counts:
            counts.add_row(escape(w), str(n), str(m))
        parts.append(counts)
    for heading, items in report.groups:
        # Grids of GRID_ROWS items: rich lays a table out whole, so one grid of 100,000 rows took minutes and
        # a gigabyte; grids of a few hundred print (and write to a file) one after the other.
        for start in range(0, max(len(items), 1), GRID_ROWS):
            grid = Table(title=escape(f"{heading} ({len(items)})") if heading and not start else None,
                         show_lines=True, show_header=False, expand=True, box=box.SQUARE)
            grid.add_column("item", overflow="fold", ratio=1)
            for it in items[start:start + GRID_ROWS]:
                grid.add_row(_block(it))
            if items or heading:
                parts.append(grid)
    return Group(*parts)


GRID_ROWS = 200


def _block(it: ItemView):
    from rich.text import Text

    from monitor.report import readable_link

    block = Text()
    block.append(it.title, style="bold")
    block.append(f"\n{it.feed} · {it.jalali} ({it.gregorian}) · #{it.id}"
                 + (f" · {it.carried}" if it.carried else ""), style="dim")
    if it.link:
        block.append("\n" + readable_link(it.link), style="blue")
    block.append("\n" + ", ".join(f"{m.watch} ×{m.count}" for m in it.matches), style="cyan")
    for snip in it.snippets:
        block.append("\n")
        for seg in snip:
            block.append(seg.text, style="black on yellow" if seg.marked else "")
    return block
