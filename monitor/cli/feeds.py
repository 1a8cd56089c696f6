"""`monitor feeds`: each feed's health (no subcommand, as always), and bringing feeds in and out: `import`,
`export`, `add`, `remove`, `catalog`.

The feed-list commands edit config.yaml through monitor.feeds.edit (comments and layout kept, atomic replace,
config.yaml.bak); a running daemon picks the edit up like any other (monitor/daemon/watcher.py).
"""

from __future__ import annotations

import json
import os
from typing import Any

import click

from monitor.cli import config_option, console, deliver, handle_errors, main, open_readonly, read_config
from monitor.errors import FeedListError


def _sub_config(ctx: click.Context, config_path: str | None) -> str:
    """A subcommand's --config, else the one given to `monitor feeds`, else the default."""
    return config_path or (ctx.parent.params.get("config_path") if ctx.parent else None) or \
        os.environ.get("MONITOR_CONFIG", "config.yaml")


sub_config_option = click.option("--config", "-c", "config_path", default=None, type=click.Path(dir_okay=False),
                                 help="The config file (default: config.yaml, or $MONITOR_CONFIG).")


# ------------------------------------------------------------------------------------------ health (the group)
@main.group(invoke_without_command=True)
@config_option
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@click.pass_context
@handle_errors
def feeds(ctx: click.Context, config_path: str, fmt: str) -> None:
    """Each feed's health: last fetch, status, error, failures in a row, next poll, items stored. The
    subcommands bring feeds in and out of config.yaml (see "Bring your feeds" in the README).

    \b
    Example:
        monitor feeds --format json
        monitor feeds import subscriptions.opml     # from Miniflux, FreshRSS, Feedly, Inoreader, newsboat
        monitor feeds add https://www.tabnak.ir/    # finds the site's feed, shows it, adds it
    """
    if ctx.invoked_subcommand is not None:
        return
    config = read_config(config_path)
    store = open_readonly(config)
    from monitor.report import feed_health

    rows = feed_health(config, store)
    if fmt == "json":
        click.echo(json.dumps({"feeds": rows}, ensure_ascii=False, indent=2))
    else:
        from monitor.report import feeds_table

        console().print(feeds_table(rows))


# ------------------------------------------------------------------------------------------ import
@feeds.command("import")
@click.argument("opml_file", type=click.Path(dir_okay=False, allow_dash=True))
@sub_config_option
@click.option("--group", metavar="NAME", help="Put every imported feed in this group (instead of the file's folders).")
@click.option("--skip-invalid", is_flag=True,
              help="Import the valid outlines and skip the invalid ones (default: refuse the whole file).")
@click.option("--dry-run", is_flag=True, help="Say what would be added and skipped; write nothing.")
@click.pass_context
@handle_errors
def import_cmd(ctx: click.Context, opml_file: str, config_path: str | None, group: str | None, skip_invalid: bool,
               dry_run: bool) -> None:
    """Add the feeds of an OPML file (any reader's export) to config.yaml. Folders become each feed's group:;
    feeds already there (same canonical URL) are skipped; new ones get unique ASCII names (the title's slug,
    else the site's name). An invalid outline (no xmlUrl, not http(s)) stops the import, each one reported with
    its line, unless --skip-invalid; nothing is half-written.

    \b
    Example:
        monitor feeds import ~/Downloads/feedly.opml
        monitor feeds import subscriptions.opml --group agencies --dry-run
    """
    from monitor.feeds import add_feeds, plan_import, read_opml

    path = _sub_config(ctx, config_path)
    config = read_config(path)
    data = click.get_binary_stream("stdin").read() if opml_file == "-" else _read_file(opml_file)
    source = "<stdin>" if opml_file == "-" else opml_file
    outlines, problems = read_opml(data, source)
    if problems and not skip_invalid:
        raise FeedListError("\n".join([p.describe(source) for p in problems] +
                                      [f"{len(problems)} invalid outline(s): nothing imported (--skip-invalid "
                                       "imports the others)"]))
    plan = plan_import(outlines, config.feeds, source, group=group.strip() if group else None)
    for outline, why in plan.skip:
        click.echo(f"skipped {outline.url} ({source} line {outline.line}): {why}")
    for problem in problems:
        click.echo(f"skipped {problem.describe(source)}")
    if plan.add and not dry_run:
        add_feeds(path, [new for _, new in plan.add])
    verb = "would add" if dry_run else "added"
    for outline, new in plan.add:
        where = f" [group {new.group}]" if new.group else ""
        click.echo(f"{verb} {new.name}: {new.url}{where}")
    click.echo(f"{len(plan.add)} {'to add' if dry_run else 'added'}, {len(plan.skip) + len(problems)} skipped"
               + ("" if dry_run or not plan.add else f"; the previous config is in {_backup(path)}"))


# ------------------------------------------------------------------------------------------ export
@feeds.command("export")
@sub_config_option
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@click.pass_context
@handle_errors
def export_cmd(ctx: click.Context, config_path: str | None, output: str | None) -> None:
    """The feeds of config.yaml as OPML 2.0, groups as folders, for any other reader (and for `monitor feeds
    import`, which reads the names and intervals back).

    \b
    Example:
        monitor feeds export -o feeds.opml
    """
    from monitor.feeds import write_opml

    config = read_config(_sub_config(ctx, config_path))
    deliver(write_opml(config.feeds), output)


# ------------------------------------------------------------------------------------------ add
@feeds.command("add")
@click.argument("url", required=False)
@sub_config_option
@click.option("--name", metavar="NAME", help="The feed's name (default: from its title or its site).")
@click.option("--interval", metavar="DURATION", help="Its poll interval (10m, 1h, auto; default: schedule.interval).")
@click.option("--group", metavar="NAME", help="Its group.")
@click.option("--catalog", "catalog_names", multiple=True, metavar="NAME",
              help="Add this catalogue entry (repeatable; `monitor feeds catalog` lists them).")
@click.option("--dry-run", is_flag=True, help="Find and show the feed; write nothing.")
@click.pass_context
@handle_errors
def add_cmd(ctx: click.Context, url: str | None, config_path: str | None, name: str | None, interval: str | None,
            group: str | None, catalog_names: tuple[str, ...], dry_run: bool) -> None:
    """Add a feed. URL may be the feed or a page of the site: its feed is found as readers find it
    (<link rel="alternate">, feed links on the page, then /feed, /rss, ...), fetched once to prove it parses,
    and shown (title, newest items) before it is added.

    \b
    Example:
        monitor feeds add https://www.tabnak.ir/ --interval 20m
        monitor feeds add --catalog irna --catalog isna-tp-14 --group agencies
    """
    from monitor.feeds import add_feeds

    path = _sub_config(ctx, config_path)
    config = read_config(path)
    if bool(url) == bool(catalog_names):
        raise FeedListError("give a URL or --catalog NAME (not both)")
    if name and len(catalog_names) > 1:
        raise FeedListError("--name names one feed; give one --catalog entry with it")
    _check_values(name, interval)
    new = _from_catalog(config, catalog_names, name, interval, group) if catalog_names else \
        _discovered(config, url or "", name, interval, group)
    if not new:
        return
    if dry_run:
        for feed in new:
            click.echo(f"would add {feed.name}: {feed.url}")
        return
    add_feeds(path, new)
    for feed in new:
        click.echo(f"added {feed.name}: {feed.url}" + (f" [group {feed.group}]" if feed.group else ""))
    click.echo(f"the previous config is in {_backup(path)}")


def _discovered(config: Any, url: str, name: str | None, interval: str | None, group: str | None) -> list:
    from monitor.display import display
    from monitor.feeds import NameBook, NewFeed, canonical, discover

    found = discover(url, config.http)
    out = console()
    out.print(f"found {found.url} ({found.how}; {found.format})", markup=False, highlight=False)
    out.print(f"title: {display(found.title) or '(none)'}", markup=False, highlight=False)
    for item in found.items:
        when = item.published.date().isoformat() if item.published else "          "
        out.print(f"  {when}  {display(item.title) or item.link or '(untitled)'}", markup=False, highlight=False)
    if not found.items:
        out.print("  (no items yet)", markup=False, highlight=False)
    for other, title in found.also:
        out.print(f"also offered: {other} ({display(title) or 'untitled'})", markup=False, highlight=False)
    existing = {canonical(f.url): f.name for f in config.feeds}
    if canonical(found.url) in existing:
        click.echo(f"already in {config.path} as {existing[canonical(found.url)]}; nothing added")
        return []
    book = NameBook(f.name for f in config.feeds)
    if name and not book.free(name):
        raise FeedListError(f"--name: a feed named {name!r} is already in {config.path}")
    return [NewFeed(name=book.name_for(found.url, found.title, name), url=found.url, group=group,
                    interval=interval, comment=found.title or None)]


def _from_catalog(config: Any, names: tuple[str, ...], name: str | None, interval: str | None,
                  group: str | None) -> list:
    from monitor.feeds import NameBook, NewFeed, canonical, catalog

    existing = {canonical(f.url): f.name for f in config.feeds}
    book = NameBook(f.name for f in config.feeds)
    out = []
    for entry in [catalog.lookup(n) for n in names]:
        if canonical(entry.url) in existing:
            click.echo(f"{entry.name}: already in {config.path} as {existing[canonical(entry.url)]}; skipped")
            continue
        existing[canonical(entry.url)] = entry.name
        wanted = name or entry.name
        if name and not book.free(name):
            raise FeedListError(f"--name: a feed named {name!r} is already in {config.path}")
        out.append(NewFeed(name=book.name_for(entry.url, entry.outlet, wanted), url=entry.url, group=group,
                           interval=interval, comment=f"{entry.outlet_fa}, {entry.section} (catalogue)"))
    return out


def _check_values(name: str | None, interval: str | None) -> None:
    from monitor.config import FEED_NAME
    from monitor.errors import ConfigError

    if name and not FEED_NAME.fullmatch(name):
        raise FeedListError(f"--name: {name!r} is not a valid feed name; use letters, digits, '_', '.', '-', "
                            "starting with a letter or digit")
    if interval and interval.strip().lower() != "auto":
        from monitor.units import parse_duration

        try:
            if parse_duration(interval, key="--interval") <= 0:
                raise FeedListError("--interval: must be longer than 0 seconds")
        except ConfigError as exc:
            raise FeedListError(str(exc).removeprefix("<config>: ")) from None


# ------------------------------------------------------------------------------------------ remove
@feeds.command("remove")
@click.argument("name")
@sub_config_option
@click.pass_context
@handle_errors
def remove_cmd(ctx: click.Context, name: str, config_path: str | None) -> None:
    """Remove a feed from config.yaml (its line or lines; every other line stays). Its stored items stay in
    the database.

    \b
    Example:
        monitor feeds remove tabnak
    """
    from monitor.feeds import remove_feed

    path = _sub_config(ctx, config_path)
    remove_feed(path, name)
    click.echo(f"removed {name}; the previous config is in {_backup(path)}")


# ------------------------------------------------------------------------------------------ catalog
@feeds.command("catalog")
@click.option("--search", "word", metavar="WORD", help="Only entries whose name, outlet (English or Persian), "
              "section or address contain WORD (spelling folded: ي/ی, ك/ک, half-spaces).")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@handle_errors
def catalog_cmd(word: str | None, fmt: str) -> None:
    """The catalogue of Persian outlets known to publish feeds: main and section feeds, each with the evidence
    of where its address was seen. `monitor feeds add --catalog NAME` adds one.

    \b
    Example:
        monitor feeds catalog --search خبرگزاری
        monitor feeds catalog --search tabnak --format json
    """
    from monitor.feeds import catalog

    rows = catalog.search(word)
    if fmt == "json":
        click.echo(json.dumps({"catalog": [{"name": e.name, "outlet": e.outlet, "outlet_fa": e.outlet_fa,
                                            "section": e.section, "url": e.url, "format": e.format,
                                            "evidence": e.evidence} for e in rows]},
                              ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    from monitor.display import display

    table = Table(title=f"{len(rows)} catalogue entr{'y' if len(rows) == 1 else 'ies'}")
    for col in ("name", "outlet", "section", "url"):
        table.add_column(col, overflow="fold")
    for e in rows:
        table.add_row(e.name, f"{e.outlet}\n{display(e.outlet_fa)}", e.section, e.url)
    console().print(table)
    if not rows:
        click.echo(f"nothing matches {word!r}", err=True)


# ------------------------------------------------------------------------------------------ helpers
def _read_file(path: str) -> bytes:
    from monitor.feeds.opml import MAX_BYTES

    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise FeedListError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _backup(path: str) -> str:
    from monitor.feeds import backup_path

    return backup_path(path)
