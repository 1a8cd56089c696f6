"""`--group` of `monitor items` and `monitor report`: a group of config.yaml's feeds (feeds[].group, the folders
of an OPML import) as the feed names the store filters on. Config-side only: the database knows feeds, not
groups, so regrouping feeds needs no migration and applies to items stored before.
"""

from __future__ import annotations

from typing import Any

import click

group_option = click.option("--group", "groups", multiple=True, metavar="NAME",
                            help="Only items of the feeds in this group (config.yaml's feeds[].group; a group "
                                 "includes its subgroups, \"news\" takes \"news/iran\"; repeatable).")


def feeds_of_groups(config: Any, groups: tuple[str, ...], feed_names: tuple[str, ...]) -> tuple[str, ...] | None:
    """The feed names to filter on: --feed's, narrowed to the feeds of --group (None: no group given). An empty
    tuple means nothing can match (the caller must not read it as "no filter"). UsageError for a group no feed
    is in."""
    from monitor.errors import UsageError

    if not groups:
        return None
    if not hasattr(config, "feeds"):
        raise UsageError("--group needs a valid config (it maps feeds to groups); fix the config error above")
    known = sorted({f.group for f in config.feeds if f.group})
    chosen: set[str] = set()
    for group in groups:
        wanted = group.strip().strip("/").casefold()
        members = {f.name for f in config.feeds if f.group and
                   (f.group.casefold() == wanted or f.group.casefold().startswith(wanted + "/"))}
        if not members:
            raise UsageError(f"--group: no feed is in a group {group!r} in {config.path} "
                             f"(groups: {', '.join(known) or 'none; set feeds[].group or import an OPML file'})")
        chosen |= members
    if feed_names:
        chosen &= set(feed_names)
    return tuple(sorted(chosen))
