"""Stories: the new items of different feeds and days that report the same event, grouped under one stable id.

Why not the duplicate fingerprints: outlets write the same event in their own words. Two leads about one
meeting share its names, places, numbers and verbs, but rarely a run of three words in a row, so the word
3-shingles dedup uses (monitor.dedup) fall below any useful containment, while copies are already caught there
(a duplicate joins its root's story without being compared again; see the writer). Here an item is the *bag of
words* of its title and lead, in the same fold as dedup and the matcher (monitor.text.Words), weighted by how
rare each word is among the items of the window (idf), titles counting double; two items are similar by the
cosine of those weights.

What keeps two meetings of the same people apart: names are what every item about them shares, so they are
the words the window holds most often and weigh least; what differs between two meetings (the place, the
date, the topic, the numbers, the verb: «تماس تلفنی» vs «دیدار در مسکو») weighs most. An item joins the story
of its most similar earlier item (single link) when that similarity reaches THRESHOLD and the two are at most
WINDOW apart; else it starts a story of its own. Nothing is re-clustered later, so a story's id (the id of its
first item) never changes. The similarity also shrinks with the time between two items (DECAY): coverage of
one event comes within hours, and the same people meeting again days later must be much more alike to be
one story. The settings were chosen on fixtures/stories/dev.jsonl and checked on heldout.jsonl
(bench/stories.py prints the table).

Pure: no store, no I/O (the store is reached through the StoryRoom protocol, which store.stories satisfies).

  terms.py   signature(): an item's title and lead as terms, stored with it (pack/unpack) so a window can be
             rebuilt without the text work
  index.py   StoryIndex: the window's items, and which story a new item joins; cluster() and pairwise() for
             measuring it
  window.py  the window as read from the store at a poll's start, held as numpy arrays (load), not per item
  assign.py  Assigner: what the writer calls, in the transaction of a feed's items
"""

from monitor.stories.assign import Assigner, StoryRoom
from monitor.stories.index import THRESHOLD, WINDOW, StoryIndex, cluster, pairwise
from monitor.stories.terms import LEAD_WORDS, Signature, pack, signature, unpack

__all__ = ["Assigner", "Signature", "StoryIndex", "StoryRoom", "cluster", "pack", "pairwise", "signature", "unpack",
           "THRESHOLD", "WINDOW", "LEAD_WORDS"]
