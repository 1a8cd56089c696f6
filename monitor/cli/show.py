"""`monitor show ID`: one stored item whole (monitor.show)."""

from __future__ import annotations

from typing import Any

import click

from monitor.cli import config_option, console, deliver, handle_errors, main, open_readonly
from monitor.cli.read import config_for_database
from monitor.errors import StoreError


@main.command("show")
@config_option
@click.argument("item_id", metavar="ID", type=click.IntRange(min=1))
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@handle_errors
def show_cmd(config_path: str, item_id: int, fmt: str) -> None:
    """One stored item whole: its feed text (and article text), where each watch entry matched, what it is a
    copy of (followed to the original), its other copies, and its story. ID is the id `items`, `report` and
    `search` print.

    \b
    Example:
        monitor show 42
        monitor show 42 --format json
    """
    from monitor.show import item_whole

    config = config_for_database(config_path)
    store = open_readonly(config)
    if store is None:
        raise StoreError(f"{config.database}: no database yet (run `monitor poll` first)")
    matcher = None
    if hasattr(config, "watch"):
        from monitor.match import Matcher

        matcher = Matcher(config.watch)
    try:
        record = item_whole(store, item_id, matcher)
    finally:
        store.close()
    if fmt == "json":
        import json

        deliver(json.dumps(record, ensure_ascii=False, indent=2) + "\n", None)
    else:
        _print(record)


def _print(record: dict[str, Any]) -> None:
    from rich.text import Text

    from monitor.display import display
    from monitor.report import clean, tehran_time

    out = console()
    head = Text()
    head.append(f"#{record['id']} ", style="bold")
    head.append(clean(display(record["title"])), style="bold")
    head.append(f"\n{record['feed']} · {tehran_time(record['published'] or record['fetched_at'])} (Tehran) · "
                f"{record['status']}{' · flagged' if record['flagged'] else ''}")
    if record["link"]:
        head.append(f"\n{clean(record['link'])}")
    out.print(head, highlight=False)
    for m in record["matches"]:
        where = ", ".join(f"{p['field']} {p['start']}-{p['end']} «{clean(p['text'])}»" for p in m.get("positions", []))
        out.print(Text(f"match: {m['watch']} ({m['kind']}) ×{m['count']}" + (f": {where}" if where else "")),
                  highlight=False)
    root = record["root"]
    if root:
        name = root["ref"] if root["kind"] == "corpus" else f"item #{root['ref']}"
        title = f" «{clean(display(root['title']))}»" if root.get("title") else ""
        score = f" (score {root['score']:.2f})" if root.get("score") is not None else ""
        out.print(Text(f"copy of: {root['kind']} {name}{title}{score}"), highlight=False)
    for c in record["copies"]:
        out.print(Text(f"copy: #{c['id']} {c['feed']} «{clean(display(c['title']))}»"), highlight=False)
    story = record["story"]
    if story:
        out.print(Text(f"story #{story['id']}: «{clean(display(story['title']))}», carried by {story['carried_by']} "
                       f"feed{'s' if story['carried_by'] != 1 else ''}"), highlight=False)
    for label, key in (("text", "text"), ("article text", "article_text")):
        if record[key]:
            out.print(Text(f"\n— {label} —\n{clean(display(record[key]))}"), highlight=False)
