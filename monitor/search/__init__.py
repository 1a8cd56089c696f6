"""`monitor search`: the query language, the words the index holds, and the reader that asks it.

Why the monitor folds for FTS5 (see monitor/store/search.py): the index holds each item's *folded* words, and a
query is folded the same way, so yeh/kaf, hamza forms, diacritics, digits and ZWNJ-inside-a-word never matter.
Two spelling families cross word boundaries, and are handled here, on the query side, as the matcher
(monitor.match) handles them on the text side, by the *compact* form (the folded words joined with nothing):

  - joined or split names: «محمدعلی» = «محمد علی» = «محمد‌علی», «کیم جونگ‌اون» = «کیم‌جونگ‌اون». A query word or
    phrase matches any run of consecutive indexed words whose concatenation is its compact form. The index is
    asked which pieces of the compact form are words it holds (monitor.store.search.Search.known_terms), and
    the query becomes the OR of every split of it into such words (`alternatives`).
  - the detached affixes («می», «نمی» before, «ها», «های», «ای», «تر», ... after: text.PREFIXES / SUFFIXES) are
    written with a space, a ZWNJ or nothing. Written with a space they are words of their own, and «مؤتلفه» is
    in «مؤتلفه ای ها»; so it must be in «مؤتلفه‌ای‌ها» too: a word of 3 letters or more also matches itself
    with these affixes attached. Nothing else: a hit always starts at a word start and ends at a word end or
    at one of those affixes, so «امانی» never finds «سامانی» or «بی‌امانی».

The pieces: query.py reads the query (its syntax is described there), plan.py makes it an FTS5 expression and
finds its hits in a text, this module holds what the index is given and the reader that asks it.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterator, Sequence

from monitor.search.plan import alternatives, expression, find_hits
from monitor.search.query import Query, QueryError, Unit, parse
from monitor.text import spaced_fold, strip_boilerplate

__all__ = ["Query", "QueryError", "Unit", "alternatives", "catch_up", "expression", "find_hits", "first_hit",
           "index_text", "index_words", "parse", "run", "scheme"]

log = logging.getLogger("monitor.search")


# ------------------------------------------------------------------------------------------ the index's words
def index_text(title: str, body: str, article: str | None = None) -> tuple[str, str, str | None]:
    """What the index holds for an item: the folded words of its title, of its body without related headlines
    and "read more" blocks (as the matcher reads it), and of its article text in the same way (None without
    one), each with spaces between words (store.search.Search.add joins body and article)."""
    words = index_words(title, strip_boilerplate(body))
    return (*words[:2], spaced_fold(strip_boilerplate(article)) if article else None)


def index_words(title: str, core: str) -> tuple[str, str, str | None]:
    """index_text of a title and a body already without its boilerplate (text.strip_boilerplate), no article."""
    return spaced_fold(title), spaced_fold(core), None


# What the indexed words depend on: the fold and word classes of monitor.text (a fingerprint of them, taken
# when first asked) and how a body is stripped and joined here (the version after the colon: bump it when
# index_text changes). Contentless rows come out only with the words they went in with, so another scheme
# empties the index and indexes everything again (catch_up).
_SCHEME_VERSION = "1"
_scheme: str | None = None
SCHEME_KEY = "search_scheme"


def scheme() -> str:
    """The scheme of the words index_text makes now."""
    global _scheme
    if _scheme is None:
        from monitor.text import fold_digest

        _scheme = f"{fold_digest()}:{_SCHEME_VERSION}"  # the fold of every character below U+3000
    return _scheme


def catch_up(store: Any, batch: int = 2000, progress: Callable[[int, int], None] | None = None) -> int:
    """Index the items waiting in the index's queue (a database migrated to it, items re-indexed after their
    article text came), in batches that commit one by one: a crash part-way keeps the batches done. An item
    indexed before is taken out with the words it went in with (its title and body never change; its article
    words are kept), then indexed anew. `progress(done, total)` is called after each batch. Returns how many
    were indexed."""
    if store.meta.get(SCHEME_KEY) != scheme():
        with store.transaction():
            store.search.restart()
            store.meta.set(SCHEME_KEY, scheme())
    total = store.search.pending()
    done = 0
    while total:
        rows = store.search.pending_batch(batch)
        if not rows:
            break
        old, new = [], []
        for item_id, indexed, title, body, article, article_words in rows:
            if title is None:
                continue  # no such item
            if indexed:  # taken out with the words it went in with
                old.append((item_id, *index_words(title, strip_boilerplate(body))[:2], article_words))
            new.append((item_id, *index_text(title, body, article)))
        with store.transaction():
            store.search.index_pending(old, new, [r[0] for r in rows])
        done += len(rows)
        if progress:
            progress(done, total)
    if done:
        log.info("search index: indexed %d stored items", done)
    return done


# ------------------------------------------------------------------------------------------ the reader
def run(store: Any, text: str, *, where: Sequence[str] = (), params: Sequence[Any] = (),
        limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The items matching a query (parse), best first, each an items row with its matches, "rank" (bm25,
    lower is better) and "hit" (the first hit: field, start, end, text as written, snippet; see first_hit).
    `where`/`params`: item filters (store.items.filters)."""
    query = parse(text)
    expr, alts = expression(query, store.search.known_terms)
    rows = store.search.query(expr, where=where, params=params, limit=limit)
    store.items.attach_matches(rows)
    store.triage.attach(rows)  # the items shape carries the web page's marks
    positive = [a for u in query.units(positive_only=True) for a in alts.get(u, [])]
    for row in rows:
        texts = store.search.texts(row["id"])
        row["hit"] = first_hit(texts, positive) if texts else None
        yield row


def first_hit(texts: tuple[str, str, str | None], alts: Sequence[tuple[str, ...]]) -> dict[str, Any] | None:
    """Where an item's first hit is: in the text first, then the article text, then the title (shown beside the
    hit anyway: the text's sentence says more); with the sentence around it in display form, and the
    [start, end) of the hits in that snippet ("marks")."""
    from monitor.match import snippet
    from monitor.report import clean
    from monitor.text import display

    title, body, article = texts
    for field, text in (("text", body), ("article_text", article), ("title", title)):
        if not text:
            continue
        spans = find_hits(text, alts)
        if spans:
            start, end = spans[0]
            shown = clean(display(snippet(text, start, end)))
            return {"field": field, "start": start, "end": end, "text": text[start:end], "snippet": shown,
                    "marks": [list(span) for span in find_hits(shown, alts)]}
    return None
