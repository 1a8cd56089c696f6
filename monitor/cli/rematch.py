"""`monitor rematch`, and what every command that writes or shows matches does about a watch-list edit.

Why: without the daemon, an edit of the watch list used to be invisible: `monitor poll` flagged new items with
the new list while the stored ones kept the old flags, and `items` and `report` showed them as if current. Now
the database records which watch list its matches were made with (monitor.rematch.watch_hash, one key for every
writer): `monitor poll` re-matches the stored items first when that differs (progress on stderr), the read
commands say on stderr that the flags are stale and how to bring them up to date, and `monitor rematch` does it.
"""

from __future__ import annotations

import time
from typing import Any

import click

from monitor.cli import config_option, handle_errors, main, read_config

PROGRESS_EVERY = 1.0  # seconds between progress lines on stderr


def _progress_printer():
    last = [time.monotonic()]

    def progress(p: Any) -> None:
        if time.monotonic() - last[0] >= PROGRESS_EVERY and p.done < p.total:
            last[0] = time.monotonic()
            click.echo(f"rematch: {p.done} of {p.total} items ({100 * p.done // max(p.total, 1)}%)", err=True)

    return progress


def summary(p: Any) -> str:
    return (f"rematch: {p.done} items in {p.seconds:.1f}s; {p.changed} changed, {p.added} flags added, "
            f"{p.removed} removed")


def rematch_if_stale(engine: Any) -> None:
    """Before a poll stores anything: when the stored items were matched with another watch list than the
    engine's, match them again (progress on stderr) and record the list. A fresh database just records it."""
    from monitor import rematch

    store, config = engine.store, engine.config
    if store.meta.matched_with() == rematch.watch_hash(config):
        return
    if not store.items.count():
        with store.transaction():
            store.meta.set_matched_with(rematch.watch_hash(config))
        return
    click.echo(f"rematch: the watch list in {config.path} changed since the stored items were matched; "
               f"matching {store.items.count()} items again first", err=True)
    p = rematch.rematch_to(store, config, engine.matcher, progress=_progress_printer())
    click.echo(summary(p), err=True)


def stale_notice(store: Any, config: Any) -> None:
    """One line on stderr when the flags a read command is about to show were made with another watch list."""
    from monitor.rematch import is_stale

    if store is None or not hasattr(config, "watch") or not is_stale(store, config):
        return
    from monitor.daemon.lock import running_daemon

    fix = ("the running daemon is re-matching them" if running_daemon(config.database)
           else f"run `monitor rematch --config {config.path}` (or `monitor poll`) to match them again")
    click.echo(f"note: flags may be stale: the watch list in {config.path} is not the one the stored items were "
               f"matched with; {fix}", err=True)


@main.command("rematch")
@config_option
@click.option("--force", is_flag=True, help="Match again even when the stored matches are of this watch list.")
@handle_errors
def rematch_cmd(config_path: str, force: bool) -> None:
    """Match every stored item again against the watch list of the config file, so its edits apply to the
    items already stored (`monitor poll` does this by itself before polling, and the daemon after each edit).
    Progress on stderr; only items whose matches changed are rewritten.

    \b
    Example:
        monitor rematch --config config.yaml
    """
    from monitor import rematch
    from monitor.match import Matcher
    from monitor.store import Store, exists

    config = read_config(config_path)
    if not exists(config.database):
        click.echo(f"no database yet ({config.database}): nothing to match")
        return
    store = Store.open(config.database)
    try:
        if not force and store.meta.matched_with() == rematch.watch_hash(config):
            click.echo("rematch: the stored matches are of this watch list already; nothing to do "
                       "(--force to match again anyway)")
            return
        p = rematch.rematch_to(store, config, Matcher(config.watch), progress=_progress_printer())
    finally:
        store.close()
    click.echo(summary(p))
