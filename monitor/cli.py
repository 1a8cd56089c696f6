"""The command line: the only code that prints and picks exit codes.

Exit codes: 0 done (a poll whose feeds failed still ran: failures are recorded on each feed); 1 a fatal error
(the database cannot be opened or written); 2 bad input (config.yaml invalid, a bad option value).

Heavy imports (hazm, feedparser, httpx) happen inside the commands that poll, so `items`, `report` and `feeds`
start fast.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click

from monitor.errors import ConfigError, MonitorError, StoreError, UsageError

DEFAULT_CONFIG = "config.yaml"
FORMATS = ("table", "json", "csv")


# ------------------------------------------------------------------------------------------ shared options
def config_option(func: Callable) -> Callable:
    return click.option("--config", "-c", "config_path", default=lambda: os.environ.get("MONITOR_CONFIG",
                        DEFAULT_CONFIG), show_default="config.yaml, or $MONITOR_CONFIG",
                        type=click.Path(dir_okay=False), help="The config file.")(func)


def handle_errors(func: Callable) -> Callable:
    """Turn the monitor's errors into a one-line message and the documented exit code, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (ConfigError, UsageError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except StoreError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except MonitorError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper


def _load(config_path: str):
    from monitor.config import load_config

    return load_config(config_path)


def _since(value: str | None) -> str | None:
    if not value:
        return None
    from monitor.dates import parse_when, to_iso

    try:
        return to_iso(parse_when(value))
    except ValueError as exc:
        raise UsageError(f"--since: {exc}") from None


def _open_readonly(config) -> Any:
    from monitor.store import Store

    if not os.path.exists(config.database):
        return None
    return Store.open(config.database, readonly=True)


def _console():
    from rich.console import Console

    return Console(soft_wrap=False)


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Libraries' chatter (one line per HTTP request, hazm's gensim warm-up) only at -vv.
    for noisy in ("httpx", "httpcore", "gensim", "hazm"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)


# ------------------------------------------------------------------------------------------ the group
@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="persian-news-monitor")
def main() -> None:
    """Persian news monitor: polls the feeds in config.yaml, recognises articles already known however they
    are spelled, flags new items that mention watched parties and figures, and keeps everything in SQLite.

    \b
    Example:
        monitor demo                  # offline: serve the fixture feeds, poll them, print the report
        monitor poll && monitor report --since 24h
    """


# ------------------------------------------------------------------------------------------ poll
@main.command()
@config_option
@click.option("--feed", "feed_names", multiple=True, metavar="NAME", help="Poll only this feed (repeatable).")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@handle_errors
def poll(config_path: str, feed_names: tuple[str, ...], verbose: int) -> None:
    """Run one poll cycle over the feeds now, then exit.

    Exit 0 when the cycle ran, even if some feeds failed (each failure is recorded on its feed: see
    `monitor feeds`); 2 for a bad config or an unknown feed name; 1 for other fatal errors.

    \b
    Example:
        monitor poll --config config.yaml --feed mehr --feed isna
    """
    _setup_logging(verbose)
    config = _load(config_path)
    feeds = _select_feeds(config, feed_names)
    summary = _run_cycle(config, feeds)
    _print_cycle(summary)


def _select_feeds(config, names: tuple[str, ...]):
    if not names:
        return list(config.feeds)
    by_name = {f.name: f for f in config.feeds}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise UsageError(f"--feed: no feed named {', '.join(map(repr, unknown))} in {config.path} "
                         f"(feeds: {', '.join(by_name) or 'none'})")
    return [by_name[n] for n in names]


def _run_cycle(config, feeds):
    from monitor.pipeline import Engine
    from monitor.store import Store

    store = Store.open(config.database)
    try:
        return Engine(config, store).run_cycle(feeds)
    finally:
        store.close()


def _print_cycle(summary) -> None:
    for o in summary.outcomes:
        if o.status == "error":
            click.echo(f"{o.name}: error: {o.error}")
        elif o.status == "not_modified":
            click.echo(f"{o.name}: not modified")
        else:
            click.echo(f"{o.name}: {o.new} new, {o.duplicate} duplicate, {o.flagged} flagged")
    click.echo(summary.line())


# ------------------------------------------------------------------------------------------ items
@main.command()
@config_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--status", type=click.Choice(("new", "duplicate", "all")), default="all", show_default=True)
@click.option("--flagged", is_flag=True, help="Only new items that matched a watch entry.")
@click.option("--since", metavar="WHEN", help="24h, 7d, an ISO date, or a Jalali date (1404-08-26).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many items (newest first).")
@handle_errors
def items(config_path: str, fmt: str, status: str, flagged: bool, since: str | None, limit: int | None) -> None:
    """List stored items, newest first.

    \b
    Example:
        monitor items --status new --flagged --since 24h --format json
    """
    config = _load(config_path)
    since_iso = _since(since)
    store = _open_readonly(config)
    rows = store.query_items(status=status, flagged=flagged, since=since_iso, limit=limit) if store else []
    _emit_items(rows, fmt, key="items", title=f"{len(rows)} items")


def _emit_items(rows: list[dict], fmt: str, *, key: str, title: str, output: str | None = None,
                table_kind: str = "items") -> None:
    from monitor import report

    if fmt == "json":
        text = report.to_json(rows, key=key) + "\n"
    elif fmt == "csv":
        text = report.to_csv(rows)
    else:
        renderable = report.items_table(rows, title) if table_kind == "items" else report.report_table(rows, title)
        if output:
            from rich.console import Console

            with open(output, "w", encoding="utf-8") as fh:
                Console(file=fh, width=100, soft_wrap=False, color_system=None).print(renderable)
            return
        _console().print(renderable)
        return
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


# ------------------------------------------------------------------------------------------ report
@main.command("report")
@config_option
@click.option("--since", metavar="WHEN", default="7d", show_default=True,
              help="24h, 7d, an ISO date, or a Jalali date (1404-08-26).")
@click.option("--watch", "watch_names", multiple=True, metavar="NAME", help="Only this watch entry (repeatable).")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@handle_errors
def report_cmd(config_path: str, since: str, watch_names: tuple[str, ...], fmt: str, output: str | None) -> None:
    """The flagged new items, newest first: what the watch list found.

    \b
    Example:
        monitor report --since 24h --watch "Motalefeh Islamic Party" --format json -o flagged.json
    """
    config = _load(config_path)
    known = {w.name for w in config.watch}
    unknown = [w for w in watch_names if w not in known]
    if unknown:
        raise UsageError(f"--watch: no watch entry named {', '.join(map(repr, unknown))} in {config.path}")
    since_iso = _since(since)
    store = _open_readonly(config)
    rows = store.query_items(flagged=True, since=since_iso, watch=watch_names) if store else []
    _emit_items(rows, fmt, key="items", title=f"{len(rows)} flagged items since {since}", output=output,
                table_kind="report")


# ------------------------------------------------------------------------------------------ feeds
@main.command()
@config_option
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@handle_errors
def feeds(config_path: str, fmt: str) -> None:
    """Each feed's health: last fetch, status, error, failures in a row, next poll, items stored.

    \b
    Example:
        monitor feeds --format json
    """
    import json

    config = _load(config_path)
    store = _open_readonly(config)
    stored = {r["name"]: r for r in store.feeds_summary()} if store else {}
    rows = []
    for spec in config.feeds:
        row = stored.get(spec.name) or {"name": spec.name, "url": spec.url, "last_fetched": None,
                                        "last_status": None, "last_error": None, "consecutive_failures": 0,
                                        "next_poll": None, "items": 0}
        rows.append(row)
    if fmt == "json":
        click.echo(json.dumps({"feeds": rows}, ensure_ascii=False, indent=2))
    else:
        from monitor.report import feeds_table

        _console().print(feeds_table(rows))


# ------------------------------------------------------------------------------------------ match
@main.command()
@config_option
@click.argument("text", required=False)
@handle_errors
def match(config_path: str, text: str | None) -> None:
    """Show which watch entries a text matches, and where: a dry run for editing terms. TEXT, or - for stdin.

    \b
    Example:
        monitor match "دیدار محمد علی امانی با سفیر پاکستان"
        curl -s https://example.com/article | monitor match -
    """
    from monitor.match import Matcher
    from monitor.text import html_to_text

    config = _load(config_path)
    if text is None or text == "-":
        text = sys.stdin.read()
    if "<" in text and ">" in text:
        text = html_to_text(text)
    matcher = Matcher(config.watch)
    hits = matcher.find(text)
    if not hits:
        click.echo("no watch entry matches")
        return
    for hit in hits:
        click.echo(f"{hit.watch} ({hit.kind}) term «{hit.term}» at {hit.start}-{hit.end}: «{text[hit.start:hit.end]}»")
    for m in matcher.matches(text):
        click.echo(f"= {m.watch}: {m.count} mention(s)")


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

    from monitor.pipeline import Engine
    from monitor.store import Store

    config = _load(config_path)
    store = Store.open(config.database)
    try:
        Engine(config, store).sync_corpus()
        docs = store.corpus_docs()
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps({"documents": docs}, ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    table = Table(title=f"{len(docs)} corpus documents")
    for col in ("ref", "shingles", "published", "title"):
        table.add_column(col, overflow="fold")
    for d in docs:
        table.add_row(d["ref"], str(d["shingle_count"]), (d["published"] or "")[:10], d["title"])
    _console().print(table)


# ------------------------------------------------------------------------------------------ demo
@main.command()
@handle_errors
def demo() -> None:
    """Offline demo: serve fixtures/feeds on 127.0.0.1, poll them into a temporary database with the seed
    corpus and the watch list of the shipped config.yaml, and print the flagged-items report.

    \b
    Example:
        monitor demo
    """
    from monitor.demo import run_demo
    from monitor.report import report_table

    with run_demo() as (config, summary, rows):
        click.echo(f"demo: polled {len(config.feeds)} fixture feeds served on 127.0.0.1 "
                   f"with the corpus {', '.join(config.corpus)}")
        _print_cycle(summary)
        _console().print(report_table(rows, f"{len(rows)} flagged items"))

if __name__ == "__main__":
    main()
