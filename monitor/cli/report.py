"""`monitor report`: the flagged-items report."""

from __future__ import annotations

import click

from monitor.cli import _emit_items, _load, _open_readonly, _since, config_option, handle_errors, main
from monitor.errors import UsageError

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


