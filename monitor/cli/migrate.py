"""`monitor migrate --to DATABASE`: copy the database to another store (SQLite to PostgreSQL, or back)."""

from __future__ import annotations

import os

import click

from monitor.cli import config_option, handle_errors, main, read_config
from monitor.errors import StoreError, UsageError


@main.command("migrate")
@config_option
@click.option("--to", "target", required=True, metavar="DATABASE",
              help="Where to copy to: postgresql://user@host/db, or a SQLite file.")
@click.option("--from", "source", metavar="DATABASE", help="What to copy (default: the config's database:).")
@handle_errors
def migrate_cmd(config_path: str, target: str, source: str | None) -> None:
    """Copy every stored item, match, fingerprint, story, alert and feed state to another database, with a
    progress bar, and check the counts of every table at the end. Interrupted, it resumes where it stopped
    when run again (rows already copied are left alone). Stop the workers writing the source first. The
    search index is rebuilt on the target at its first use (monitor search, a poll, a worker's start).

    \b
    Example:
        monitor migrate --to postgresql://monitor@db.example/monitor
        monitor migrate --from postgresql://monitor@db.example/monitor --to state/copy.db
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from monitor import search
    from monitor.store import Store, exists, is_url
    from monitor.store import copy as store_copy
    from monitor.store.pg import shown

    source = source or read_config(config_path).database
    if not is_url(target):
        target = os.path.abspath(target)
    if is_url(source) or is_url(target):
        same = source == target
    else:
        same = os.path.realpath(source) == os.path.realpath(target)
    if same:
        raise UsageError(f"--to names the database being copied ({shown(source)}): name another one")
    if not exists(source):
        raise StoreError(f"{source}: no database to copy (run `monitor poll` first)")
    src = Store.open(source, readonly=True)
    try:
        dst = Store.open(target)  # creates and migrates the target's schema
        try:
            planned = store_copy.plan(src.db, dst.db)
            before = store_copy.counts(dst.db)
            with Progress(TextColumn("{task.description:<20}"), BarColumn(), MofNCompleteColumn(),
                          TimeRemainingColumn(), transient=False) as bar:
                tasks = {table: bar.add_task(table, total=rows, completed=min(before.get(table, 0), rows))
                         for table, rows in planned}
                try:
                    store_copy.copy(src.db, dst.db, lambda table, n: bar.advance(tasks[table], n))
                    # The search index is built here, not left to its first use: `monitor serve`'s read-only
                    # pages would search an empty index until a poll or `monitor search` ran.
                    index = bar.add_task("search index", total=None)
                    search.catch_up(dst, progress=lambda done, total: bar.update(index, completed=done, total=total))
                except KeyboardInterrupt:
                    raise StoreError("migrate: interrupted; run the same command again to resume") from None
            want, got = store_copy.counts(src.db), store_copy.counts(dst.db)
        finally:
            dst.close()
    finally:
        src.close()
    wrong = [f"{table}: {want[table]} in the source, {got[table]} in the target"
             for table in want if want[table] != got[table]]
    if wrong:
        raise StoreError("migrate: the counts differ (" + "; ".join(wrong) + "); was the source written"
                         " meanwhile, or the target not empty?")
    click.echo(f"migrate: {sum(want.values()):,} rows in {len(want)} tables copied to {shown(target)} and counted"
               " on both sides; the search index is built there")
