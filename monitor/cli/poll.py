"""`monitor poll` and `monitor demo`: the commands that fetch."""

from __future__ import annotations

import click

from monitor.cli import console, read_config, setup_logging, config_option, handle_errors, main
from monitor.errors import UsageError

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
    setup_logging(verbose)
    config = read_config(config_path)
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
    from monitor.workers import start_farm

    # The workers start first: their imports then run while this process does its own and opens the store.
    farm = start_farm(config, len(feeds), fork=True)  # no database is open yet, no thread runs
    try:
        from monitor.pipeline import Engine
        from monitor.store import Store

        store = Store.open(config.database)
        try:
            return Engine(config, store).run_cycle(feeds, runner=farm)  # closes the farm
        finally:
            store.close()
    finally:
        if farm is not None:
            farm.close()  # a no-op when the cycle closed it; stops the workers when opening the store failed


def _print_cycle(summary) -> None:
    for o in summary.outcomes:
        if o.status == "error":
            click.echo(f"{o.name}: error: {o.error}")
        elif o.status == "not_modified":
            click.echo(f"{o.name}: not modified")
        else:
            click.echo(f"{o.name}: {o.new} new, {o.duplicate} duplicate, {o.flagged} flagged")
    click.echo(summary.line())


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
    from monitor.report import render

    with run_demo() as (config, summary, rows):
        click.echo(f"demo: polled {len(config.feeds)} fixture feeds served on 127.0.0.1 "
                   f"with the corpus {', '.join(config.corpus)}")
        _print_cycle(summary)
        console().print(render(rows, "table", watch=config.watch))  # what `monitor report` prints