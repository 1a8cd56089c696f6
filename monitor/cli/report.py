"""`monitor report`: the flagged-items report, in the format each reader uses."""

from __future__ import annotations

from typing import Any

import click

from monitor.cli import read_config, open_readonly, since_option_value, config_option, deliver, handle_errors, main
from monitor.cli.groups import feeds_of_groups, group_option
from monitor.cli.rematch import stale_notice
from monitor.errors import UsageError

REPORT_FORMATS = ("table", "markdown", "html", "csv", "json", "atom")  # as monitor.report.REPORT_FORMATS
WATCH_KINDS = ("party", "figure", "country", "other")  # as monitor.models.WATCH_KINDS


# ------------------------------------------------------------------------------------------ report
@main.command("report")
@config_option
@click.option("--since", metavar="WHEN", default="7d", show_default=True,
              help="24h, 7d, an ISO date, or a Jalali date (1404-08-26); dates are midnight in Tehran.")
@click.option("--until", metavar="WHEN", help="End of the period (exclusive), same forms as --since.")
@click.option("--watch", "watch_names", multiple=True, metavar="NAME", help="Only this watch entry (repeatable).")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(WATCH_KINDS), help="Only entries of this kind.")
@click.option("--feed", "feed_names", multiple=True, metavar="NAME", help="Only items of this feed (repeatable).")
@group_option
@click.option("--group-by", type=click.Choice(("watch", "feed", "day", "story")),
              help="Group the items (story: by event, the most widely carried first).")
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@click.option("--excel", is_flag=True, help="CSV: start with a BOM so Excel shows Persian text.")
@handle_errors
def report_cmd(config_path: str, since: str, until: str | None, watch_names: tuple[str, ...],
               kinds: tuple[str, ...], feed_names: tuple[str, ...], group_by: str | None, fmt: str,
               output: str | None, excel: bool, groups: tuple[str, ...] = ()) -> None:
    """The flagged new items, newest first: what the watch list found, with Jalali dates and the matched
    terms marked. HTML is one self-contained right-to-left page; Atom can be served to feed readers.

    \b
    Example:
        monitor report --since 24h --watch "Motalefeh Islamic Party" --format json -o flagged.json
        monitor report --since 1404-08-26 --group-by watch --format html -o report.html
        monitor report --since 24h --group-by story    # each event once, with how many feeds carried it
        monitor report --since 7d --group agencies     # the feeds of one group (feeds[].group, OPML folders)
    """
    config = read_config(config_path)
    _check_names("--watch", "watch entry", watch_names, {w.name for w in config.watch}, config.path)
    _check_names("--feed", "feed", feed_names, {f.name for f in config.feeds}, config.path)
    grouped = feeds_of_groups(config, groups, feed_names)
    if grouped is not None:
        feed_names = grouped
    since_iso, until_iso = since_option_value(since), _when("--until", until)
    check_period(since, since_iso, until, until_iso)
    store = open_readonly(config)
    stale_notice(store, config)
    from monitor.report import render, with_stories

    def rows() -> Any:  # read again for each pass a streamed report makes (view.StreamedItems)
        return with_stories(store.items.iter_query(flagged=True, since=since_iso, until=until_iso,
                                                   watch=watch_names, feed=feed_names, kind=kinds),
                            store) if store and grouped != () else iter(())
    from datetime import datetime

    key = "|".join([",".join(sorted(watch_names)), ",".join(sorted(feed_names)), ",".join(sorted(kinds))])
    result = render(rows, fmt, watch=config.watch, group_by=group_by,
                    since=datetime.fromisoformat(since_iso) if since_iso else None,
                    until=datetime.fromisoformat(until_iso) if until_iso else None,
                    excel=excel, feed_key=key, stream=True)
    deliver(result, output)


def _check_names(option: str, what: str, given: tuple[str, ...], known: set[str], path: str) -> None:
    unknown = [n for n in given if n not in known]
    if unknown:
        raise UsageError(f"{option}: no {what} named {', '.join(map(repr, unknown))} in {path}")


def check_period(since: str | None, since_iso: str | None, until: str | None = None,
                 until_iso: str | None = None) -> None:
    """Refuse a period that cannot hold anything: --since in the future, or not before --until. Printed as it
    was, such a period reads as a real (backwards) one with nothing in it, which says something untrue."""
    from datetime import datetime

    from monitor.dates import now_utc

    if since_iso and datetime.fromisoformat(since_iso) > now_utc():
        raise UsageError(f"--since {since}: {since_iso} is in the future; nothing has been published since then")
    if since_iso and until_iso and datetime.fromisoformat(since_iso) >= datetime.fromisoformat(until_iso):
        raise UsageError(f"--since {since} ({since_iso}) must be before --until {until} ({until_iso})")


def _when(option: str, value: str | None) -> str | None:
    try:
        return since_option_value(value)
    except UsageError as exc:
        raise UsageError(str(exc).replace("--since", option, 1)) from None
