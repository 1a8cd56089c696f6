"""`monitor poll` and `monitor demo`: the commands that fetch."""

from __future__ import annotations

import click

from monitor.cli import console, read_config, setup_logging, config_option, handle_errors, main
from monitor.errors import UsageError

# ------------------------------------------------------------------------------------------ poll
@main.command()
@config_option
@click.option("--feed", "feed_names", multiple=True, metavar="NAME", help="Poll only this feed (repeatable).")
@click.option("--force", is_flag=True, help="Poll feeds whose server asked to wait (Retry-After) all the same.")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@handle_errors
def poll(config_path: str, feed_names: tuple[str, ...], force: bool, verbose: int) -> None:
    """Run one poll cycle over the feeds now, then exit.

    A feed whose server answered 429 or 503 with a Retry-After that has not ended is skipped (a line says
    until when), as the daemon would; --force polls it anyway. Other schedules (the interval, backoff) do
    not hold a one-shot poll back.

    Exit 0 when the cycle ran, even if some feeds failed (each failure is recorded on its feed: see
    `monitor feeds`); 2 for a bad config or an unknown feed name; 1 for other fatal errors.

    \b
    Example:
        monitor poll --config config.yaml --feed mehr --feed isna
    """
    setup_logging(verbose)
    config = read_config(config_path)
    feeds = _select_feeds(config, feed_names)
    summary = _run_cycle(config, feeds, honour_retry_after=not force)
    _print_cycle(summary)
    if config.notify:
        _send_alerts(config)


def _send_alerts(config) -> None:
    """The outbox drained once the cycle is committed: immediate alerts, and a digest whose period ended."""
    from monitor.daemon.lock import running_daemon
    from monitor.notify.sender import Sender
    from monitor.report.view import clean
    from monitor.store import Store, is_url

    holder = running_daemon(config.database)
    if holder is not None:  # two senders would send the same rows: the daemon's sender has them already
        click.echo(f"alerts: left to the running daemon (pid {holder.get('pid', '?')})")
        return
    lock = None
    if is_url(config.database):  # PostgreSQL: the worker holding the monitor-wide lock sends (one sender)
        from monitor.store.pg.claims import MonitorLock

        lock = MonitorLock(config.database)
        if not lock.try_acquire():
            click.echo("alerts: left to the running worker that holds the monitor-wide lock")
            return
    store = Store.open(config.database)
    sender = Sender(store, config)
    try:
        done = sender.drain()
    finally:
        sender.close()
        store.close()
        if lock is not None:
            lock.close()
    line = f"alerts: {done.sent} sent, {done.failed} not sent"
    line += "".join(f"; {name}: {why}" for name, why in done.errors.items())
    line += f"; held: {', '.join(done.held)} (quiet hours or backing off)" if done.held else ""
    click.echo(clean(line))


def _select_feeds(config, names: tuple[str, ...]):
    if not names:
        return list(config.feeds)
    by_name = {f.name: f for f in config.feeds}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise UsageError(f"--feed: no feed named {', '.join(map(repr, unknown))} in {config.path} "
                         f"(feeds: {', '.join(by_name) or 'none'})")
    return [by_name[n] for n in names]


def _run_cycle(config, feeds, honour_retry_after: bool = False):
    from monitor.workers import start_farm

    # The workers start first: their imports then run while this process does its own and opens the store.
    farm = start_farm(config, len(feeds), fork=True)  # no database is open yet, no thread runs
    try:
        from monitor.cli.rematch import rematch_if_stale
        from monitor.cli.search import build_index
        from monitor.pipeline import Engine
        from monitor.store import Store

        store = Store.open(config.database)
        try:
            build_index(store)  # a database from before the search index: built once, with a progress bar
            engine = Engine(config, store)
            rematch_if_stale(engine)  # a watch-list edit applies to the stored items before new ones come
            return engine.run_cycle(feeds, runner=farm,  # closes the farm
                                    honour_retry_after=honour_retry_after)
        finally:
            store.close()
    finally:
        if farm is not None:
            farm.close()  # a no-op when the cycle closed it; stops the workers when opening the store failed


def _print_cycle(summary) -> None:
    from monitor.report.view import clean  # feed names and errors reach a terminal: no control characters

    for name, until in summary.waiting.items():
        if not until[:1].isdigit():  # PostgreSQL: a running worker holds the feed (pipeline.Engine._claim)
            click.echo(f"{name}: skipped: {until}")
            continue
        when = until.replace("T", " ").replace("+00:00", " UTC")
        click.echo(f"{name}: skipped: server asked to wait until {when} (Retry-After; --force polls it now)")
    for o in summary.outcomes:
        if o.status == "error":
            click.echo(clean(f"{o.name}: error: {o.error}"))
        elif o.status == "not_modified":
            click.echo(f"{o.name}: not modified")
        else:
            note = f" ({o.error})" if o.error else ""
            click.echo(clean(f"{o.name}: {o.new} new, {o.duplicate} duplicate, {o.flagged} flagged{note}"))
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