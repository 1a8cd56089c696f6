"""Read commands: `items`, `match`, `corpus` (`feeds`: monitor/cli/feeds.py)."""

from __future__ import annotations

import os
import sys
from typing import Any, NamedTuple

import click

from monitor.cli import FORMATS, console, emit_items, read_config, open_readonly, since_option_value, config_option, handle_errors, main
from monitor.cli.groups import feeds_of_groups, group_option
from monitor.cli.rematch import stale_notice
from monitor.cli.report import check_period
from monitor.errors import ConfigError


class DatabaseOnly(NamedTuple):
    """What a command that reads only the database needs of a config file that is invalid elsewhere."""

    path: str
    database: str


def config_for_database(config_path: str) -> Any:
    """The config, or when it is invalid and its `database:` can still be made out, that database (with the
    config error printed as a warning line): commands that only read the database keep answering while an
    invalid edit waits to be fixed. Raises the ConfigError when even the database cannot be found."""
    try:
        return read_config(config_path)
    except ConfigError as exc:
        from monitor.config import database_of

        database = database_of(config_path)
        if database is None:
            raise
        click.echo(f"warning: {exc}; reading {database}, the database it names", err=True)
        return DatabaseOnly(os.path.abspath(config_path), database)

# ------------------------------------------------------------------------------------------ items
@main.command()
@config_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--status", type=click.Choice(("new", "duplicate", "all")), default="all", show_default=True)
@click.option("--flagged", is_flag=True, help="Only new items that matched a watch entry.")
@click.option("--since", metavar="WHEN", help="24h, 7d, an ISO date, or a Jalali date (1404-08-26).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many items (newest first).")
@click.option("--feed", "feed_names", multiple=True, metavar="NAME", help="Only items of this feed (repeatable).")
@click.option("--watch", "watch_names", multiple=True, metavar="NAME",
              help="Only items that matched this watch entry (repeatable).")
@group_option
@handle_errors
def items(config_path: str, fmt: str, status: str, flagged: bool, since: str | None, limit: int | None,
          feed_names: tuple[str, ...] = (), watch_names: tuple[str, ...] = (), groups: tuple[str, ...] = ()) -> None:
    """List stored items, newest first.

    \b
    Example:
        monitor items --status new --flagged --since 24h --format json
        monitor items --feed mehr --watch "Motalefeh Islamic Party"
        monitor items --group agencies --flagged
    """
    config = config_for_database(config_path)
    from monitor.cli.search import check_names

    check_names(config, "--watch", watch_names, "watch")
    check_names(config, "--feed", feed_names, "feeds")
    grouped = feeds_of_groups(config, groups, feed_names)
    since_iso = since_option_value(since)
    check_period(since, since_iso)
    store = open_readonly(config)
    stale_notice(store, config)
    rows = store.items.query(status=status, flagged=flagged, since=since_iso, limit=limit,
                             feed=feed_names if grouped is None else grouped,
                             watch=watch_names) if store and grouped != () else []
    if store:
        store.triage.attach(rows)  # read, starred, not relevant (monitor serve)
    if fmt == "table":  # for people: the display form (JSON and CSV carry the title as the feed wrote it)
        from monitor.display import display

        rows = [{**row, "title": display(row["title"])} for row in rows]
    emit_items(rows, fmt, key="items")


# ------------------------------------------------------------------------------------------ match
@main.command()
@config_option
@click.argument("text", required=False)
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@handle_errors
def match(config_path: str, text: str | None, fmt: str) -> None:
    """Show which watch entries a text matches, and where: a dry run for editing terms. TEXT, or - for stdin.

    The text is printed with every hit highlighted, then one line per entry: mentions, terms found and the
    sentence around the first hit. HTML is converted to text first. Offsets in --format json are character
    offsets into that text.

    \b
    Example:
        monitor match "دیدار محمد علی امانی با سفیر پاکستان"
        curl -s https://example.com/article | monitor match - --format json
    """
    import json

    from monitor.match import Matcher
    from monitor.text import html_to_text

    config = read_config(config_path)
    if text is None or text == "-":
        text = sys.stdin.read()
    if "<" in text and ">" in text:
        text = html_to_text(text)
    matcher = Matcher(config.watch)
    hits = matcher.find(text)
    found = matcher.matches(text)  # snippets as the text has them: the user's own text, not a feed's
    if fmt == "json":
        click.echo(json.dumps({
            "matches": [{"watch": m.watch, "kind": m.kind, "terms": list(m.terms), "count": m.count,
                         "snippet": m.snippet} for m in found],
            "hits": [{"watch": h.watch, "kind": h.kind, "term": h.term, "start": h.start, "end": h.end,
                      "text": text[h.start:h.end]} for h in hits],
        }, ensure_ascii=False, indent=2))
        return
    from rich.text import Text

    out = console()
    if not hits:
        out.print("no watch entry matches", markup=False, highlight=False)
        return
    out.print(_highlighted(text, hits), highlight=False)
    out.print()
    for m in found:
        line = Text()
        line.append(m.watch, style="bold")
        line.append(f" ({m.kind}): {m.count} mention{'s' if m.count != 1 else ''}; terms: ")
        line.append(", ".join(f"«{t}»" for t in m.terms))
        written = dict.fromkeys(" ".join(text[h.start:h.end].split()) for h in hits if h.watch == m.watch)
        line.append("; as written: " + ", ".join(f"«{w}»" for w in written))
        line.append(f"\n    {m.snippet}", style="dim")
        out.print(line, highlight=False)


def _highlighted(text: str, hits):
    """text as a rich Text with the hits' spans styled; text is never parsed as markup, so «[b]» stays literal."""
    from rich.text import Text

    out = Text(text)
    for h in hits:
        out.stylize("bold black on yellow", h.start, h.end)
    return out


# ------------------------------------------------------------------------------------------ corpus
@main.command()
@config_option
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@handle_errors
def corpus(config_path: str, fmt: str) -> None:
    """The known articles from the corpus paths: each document (by file stem), title and fingerprint count.
    New or changed files are fingerprinted first.

    \b
    Example:
        monitor corpus --format json
    """
    import json

    from monitor import housekeeping
    from monitor.store import Store

    config = read_config(config_path)
    store = Store.open(config.database)
    try:
        housekeeping.sync_corpus(config, store)
        docs = store.corpus.docs()
    finally:
        store.close()
    if fmt == "json":
        # shingle_count: the older name of fingerprint_count, kept for scripts that read it.
        docs = [{**d, "shingle_count": d["fingerprint_count"]} for d in docs]
        click.echo(json.dumps({"documents": docs}, ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    table = Table(title=f"{len(docs)} corpus documents")
    for col in ("ref", "fingerprints", "published", "title"):
        table.add_column(col, overflow="fold")
    for d in docs:
        table.add_row(d["ref"], str(d["fingerprint_count"]), (d["published"] or "")[:10], d["title"])
    console().print(table)


