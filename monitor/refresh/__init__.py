"""Refresh one feed: the only place where fetch, parse, dedup, match and store meet, read top to bottom.

Modelled on Miniflux's RefreshFeed, in two steps, because the first needs no database writes and runs wherever
there is a free core while the second needs the one SQLite writer:

1. `fetch_and_analyse(job) -> FeedReply`, pure: the conditional GET, the body hash that tells a re-sent body
   from a new one, the RSS <ttl>, parsing, skipping items already stored, plain text, the new items' article
   pages (monitor.article: fetched politely, within the cycle's deadline, and the pages that failed last time
   once more), fingerprints and watch matches on the title and the judged text (the accepted article's, else
   the feed's), and the near-duplicate questions to a read-only view of the store. Every failure comes back in the
   reply, never as an exception. The same function runs in a worker process (large polls), in a thread of this
   process (small polls) and in the daemon's job threads (monitor.runner says where).
2. `Writer.store(spec, reply) -> FeedOutcome`: in the one writer, judge the new items (dedup.FeedJudge, completed
   with what was written after the view the reply saw), write items, matches, fingerprints and the feed's
   validators together, in one transaction (a savepoint of a commit group in a poll), and plan the next poll.

A feed's validators are saved only in the transaction that stores the items they describe, so a crash loses at
most the uncommitted feeds, which the next poll fetches again; items are unique per (feed, key), so nothing is
ever stored twice.
"""

# The package's two rooms, one per step: step.py (the pure step) and writer.py (the one writer's half). Heavy
# imports (the text stack, article pages, the store, notify) stay where they are first used, in those modules:
# `monitor poll` imports this package before it forks its workers.

from monitor.refresh.step import FeedJob, FeedReply, StoreView, body_hash, fetch_and_analyse
from monitor.refresh.writer import FeedOutcome, Writer, next_poll_at

__all__ = ["FeedJob", "FeedReply", "FeedOutcome", "StoreView", "Writer", "body_hash", "fetch_and_analyse",
           "next_poll_at"]
