"""Bring your feeds: OPML in and out, a site's feed found from its address, and a catalogue of Persian outlets.

The rooms, each read on its own: opml.py (read and write OPML, problems with their lines), names.py (ASCII names
for feeds that arrive without one), importer.py (what an import adds and skips), edit.py (config.yaml edited in
place, comments and layout kept, atomic, with a backup), discover.py (a page to its feed, proven by parsing),
catalog.py with catalog.csv (package data: outlets, feed addresses, evidence).

Like the other stages this package never prints and never opens the database; monitor/cli/feeds.py does the
talking. Errors are monitor.errors.FeedListError (a UsageError: exit 2), ConfigError for an invalid config.yaml,
FetchError-derived messages wrapped in FeedListError by discovery.
"""

from __future__ import annotations

from monitor.feeds import catalog
from monitor.feeds.discover import Found, discover
from monitor.feeds.edit import NewFeed, add_feeds, backup_path, remove_feed
from monitor.feeds.importer import Plan, canonical, plan_import
from monitor.feeds.names import NameBook
from monitor.feeds.opml import OpmlFeed, Problem, read_opml, write_opml

__all__ = ["catalog", "Found", "discover", "NewFeed", "add_feeds", "backup_path", "remove_feed", "Plan",
           "canonical", "plan_import", "NameBook", "OpmlFeed", "Problem", "read_opml", "write_opml"]
