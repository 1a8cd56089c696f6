"""`monitor stories`: the events the feeds carried, each with the items and feeds that reported it."""

from __future__ import annotations

import json

import click

from monitor.cli import config_option, deliver, handle_errors, main, open_readonly, read_config, since_option_value
from monitor.cli.report import _check_names, check_period


@main.command("stories")
@config_option
@click.option("--since", metavar="WHEN", default="7d", show_default=True,
              help="Stories first seen since: 24h, 7d, an ISO date, or a Jalali date (1404-08-26).")
@click.option("--watch", "watch_names", multiple=True, metavar="NAME",
              help="Only stories with an item that matched this watch entry (repeatable).")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@handle_errors
def stories_cmd(config_path: str, since: str, watch_names: tuple[str, ...], fmt: str) -> None:
    """Stories: new items of different feeds and days about the same event, newest first, with the feeds that
    carried each (syndicated copies included). Every stored new item is in exactly one story.

    \b
    Example:
        monitor stories --since 24h
        monitor stories --since 7d --watch "Motalefeh Islamic Party" --format json
    """
    config = read_config(config_path)
    _check_names("--watch", "watch entry", watch_names, {w.name for w in config.watch}, config.path)
    since_iso = since_option_value(since)
    check_period(since, since_iso)
    store = open_readonly(config)
    if store is not None and not store.stories.available():
        click.echo("note: this database has no stories yet; the next `monitor poll` gives every stored item its"
                   " story", err=True)
    found = store.stories.query(since=since_iso, watch=watch_names) if store else []
    if fmt == "json":
        deliver(json.dumps({"stories": found}, ensure_ascii=False, indent=2) + "\n", None)
        return
    deliver(_table(found), None)


def _table(found: list[dict]):
    """A rich table, readable at 80 columns: the most widely carried stories are the ones to read first, but
    the order is by date, as the JSON's, so a story keeps its place while it grows."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from monitor.display import display
    from monitor.report import ZONE_NOTE, clean, plural, tehran_time

    table = Table(title=f"{plural(len(found), 'story', 'stories')} · {ZONE_NOTE}", box=box.SIMPLE_HEAD,
                  expand=True, pad_edge=False)
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("first seen", no_wrap=True)
    table.add_column("feeds", justify="right", no_wrap=True)
    table.add_column("items", justify="right", no_wrap=True)
    table.add_column("title · carried by", overflow="fold", ratio=1)
    for s in found:
        cell = escape(display(clean(s["title"])) or "(no title)")
        cell += "\n[dim]" + escape(", ".join(clean(f) for f in s["feeds"])) + "[/dim]"
        table.add_row(str(s["id"]), tehran_time(s["first_seen"]), str(len(s["feeds"])),
                      str(len(s["items"]) + len(s["copies"])), cell)
    return table
