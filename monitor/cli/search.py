"""`monitor search`: every stored item through Persian spelling (monitor.search), as a table, JSON or CSV."""

from __future__ import annotations

import sys
from typing import Any

import click

from monitor.cli import FORMATS, config_option, deliver, handle_errors, main, since_option_value
from monitor.cli.read import config_for_database
from monitor.cli.report import check_period
from monitor.errors import UsageError


@main.command("search")
@config_option
@click.argument("query")
@click.option("--since", metavar="WHEN", help="24h, 7d, an ISO date, or a Jalali date (1404-08-26).")
@click.option("--until", metavar="WHEN", help="End of the period (exclusive), same forms as --since.")
@click.option("--feed", "feed_names", multiple=True, metavar="NAME", help="Only items of this feed (repeatable).")
@click.option("--watch", "watch_names", multiple=True, metavar="NAME",
              help="Only items that matched this watch entry (repeatable).")
@click.option("--status", type=click.Choice(("new", "duplicate", "all")), default="all", show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="At most this many items.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@handle_errors
def search_cmd(config_path: str, query: str, since: str | None, until: str | None, feed_names: tuple[str, ...],
               watch_names: tuple[str, ...], status: str, limit: int, fmt: str) -> None:
    """Search every stored item's title and text, whatever its spelling: yeh/kaf, hamza forms, diacritics,
    digits, half-spaces and joined or split names («محمدعلی», «محمد علی») all find the same items, and a word
    is never found inside a longer one («امانی» is not in «سامانی»). Best matches first (bm25), then newest.

    QUERY: words (all must occur), "a phrase", AND, OR, NOT (a NOT b), ( ), and a trailing * for a prefix.

    \b
    Example:
        monitor search 'مؤتلفه AND "محمد علی امانی"' --since 30d
        monitor search 'امان* NOT سامانی' --feed mehr --format json
    """
    from monitor.store import Store

    config = config_for_database(config_path)
    check_names(config, "--watch", watch_names, "watch")
    check_names(config, "--feed", feed_names, "feeds")
    since_iso = since_option_value(since)
    try:
        until_iso = since_option_value(until)
    except UsageError as exc:
        raise UsageError(str(exc).replace("--since", "--until", 1)) from None
    check_period(since, since_iso, until, until_iso)
    from monitor import search

    parsed = search.parse(query)  # a query that is not one is refused before the database is opened
    from monitor.store import exists

    if not exists(config.database):
        rows: list[dict[str, Any]] = []
    else:
        store = Store.open(config.database, readonly=True)
        if not store.search.exists() or store.search.pending():
            store.close()
            store = Store.open(config.database)  # migrates: the index arrives, and is built once, below
            build_index(store)
        try:
            where, params = store.items.filters(status=status, since=since_iso, until=until_iso,
                                                watch=watch_names, feed=feed_names)
            rows = list(search.run(store, parsed.text, where=where, params=params, limit=limit))
        finally:
            store.close()
    if fmt == "json":
        import json

        from monitor.report import item_record

        deliver(json.dumps({"query": query, "items": [{**item_record(r), "rank": r["rank"], "hit": r["hit"]}
                                                       for r in rows]}, ensure_ascii=False, indent=2) + "\n", None)
    elif fmt == "csv":
        deliver(_csv(rows), None)
    else:
        deliver(_table(rows, query), None)


def check_names(config: Any, option: str, given: tuple[str, ...], attr: str) -> None:
    """Refuse a --watch or --feed name the config does not have (exit 2), as `report` does."""
    known = {x.name for x in getattr(config, attr, ())}
    if not hasattr(config, attr):  # an invalid config: only its database could be read, names are not checked
        return
    unknown = [n for n in given if n not in known]
    if unknown:
        what = "watch entry" if attr == "watch" else "feed"
        raise UsageError(f"{option}: no {what} named {', '.join(map(repr, unknown))} in {config.path}")


def build_index(store: Any) -> int:
    """Index the stored items the search index lacks (a database from before it), with a progress bar on
    stderr when it is a terminal, else one line at the end."""
    from monitor import search

    total = store.search.pending()
    if not total:
        return 0
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("building the search index", total=total)
            done = search.catch_up(store, progress=lambda d, t: bar.update(task, completed=d))
    else:
        done = search.catch_up(store)
    click.echo(f"search index: {done:,} stored item{'s' if done != 1 else ''} indexed", err=True)
    return done


CSV_COLUMNS = ("rank", "hit", "hit_snippet")


def _csv(rows: list[dict[str, Any]]) -> str:
    """The items CSV (monitor.report.to_csv), each row with its rank, the hit as written and its snippet."""
    import csv
    import io

    from monitor.report import to_csv
    from monitor.report.tabular import cell

    base = to_csv(rows).splitlines()
    reader = csv.reader(base)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(next(reader) + list(CSV_COLUMNS))
    for row, record in zip(reader, rows):
        hit = record["hit"] or {}
        writer.writerow(row + [f"{record['rank']:.3f}", cell(hit.get("text", "")), cell(hit.get("snippet", ""))])
    return out.getvalue()


def _table(rows: list[dict[str, Any]], query: str):
    """A rich table: id, date, feed, the title and the snippet with the hits marked (display text)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from monitor.display import display
    from monitor.report import ZONE_NOTE, plural, tehran_time
    from monitor.report.view import clean

    table = Table(title=f"{plural(len(rows), 'item')} for {clean(query)} · {ZONE_NOTE}", box=box.SIMPLE_HEAD,
                  expand=True, pad_edge=False)
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("date (Tehran)", no_wrap=True)
    table.add_column("feed", max_width=10, overflow="ellipsis", no_wrap=True)
    table.add_column("title · hit", overflow="fold", ratio=1)
    for row in rows:
        cell = Text(clean(display(row["title"])))
        hit = row["hit"]
        if hit and hit["field"] == "title":  # the title is the snippet: marked in place
            for start, end in hit["marks"]:
                cell.stylize("bold black on yellow", start, end)
        elif hit:  # its snippet is cleaned already, so the marks' offsets hold
            snippet = Text("\n" + hit["snippet"], style="dim")
            for start, end in hit["marks"]:
                snippet.stylize("bold black on yellow", start + 1, end + 1)
            cell.append_text(snippet)
        table.add_row(str(row["id"]), tehran_time(row["published"] or row["fetched_at"]), clean(row["feed"]), cell)
    return table
