"""Near-duplicate verdicts against a real SQLite fingerprint index (monitor.store.Store), without the pipeline."""

from __future__ import annotations

import re

import pytest

from conftest import SEEDS
from monitor.dedup import COMMON_FINGERPRINT_SOURCES, classify, fingerprint, parse_corpus_document
from monitor.models import Source
from monitor.store import Store

SINCE = "2025-01-01T00:00:00+00:00"


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "t.db")
    yield s
    s.close()


def add_item(store: Store, hashes) -> int:
    """A stored item fetched inside the window, with the given fingerprints."""
    item_id = store.items.reserve_ids(1)[0]
    store.items.insert_new([{"id": item_id, "feed": "f", "key": f"guid:{item_id}", "guid": str(item_id),
                             "title": "", "summary": "", "body": "", "fetched_at": "2025-11-17T00:00:00+00:00",
                             "status": "new"}])
    store.fingerprints.add(Source.item(item_id), hashes)
    return item_id


def add_corpus(store: Store, ref: str, hashes) -> None:
    store.corpus.put({"ref": ref, "path": f"/corpus/{ref}.txt", "mtime": 0.0, "size": 0}, hashes)


def seed(prefix: str):
    return parse_corpus_document(next(SEEDS.glob(f"{prefix}_*.txt")))


def test_boilerplate_shared_by_many_items_is_not_evidence(store):
    """An item whose only overlap with stored items is a phrase every item of the site carries stays new."""
    header = "به گزارش خبرگزاری نمونه از تهران و به نقل از روابط عمومی این نهاد در روز گذشته"
    with store.transaction():
        for i in range(COMMON_FINGERPRINT_SOURCES + 1):
            add_item(store, fingerprint("", f"{header} خبر شماره {i}").hashes)
    body = seed("004").body
    item = fingerprint("", f"{header}\n{body}")
    assert classify(guid=None, link=None, fp=item, known=store, since=SINCE, threshold=0.5) is None
    # ... while the article itself, once known, is recognised through the same header.
    with store.transaction():
        add_corpus(store, "004", fingerprint("", body).hashes)
    verdict = classify(guid=None, link=None, fp=item, known=store, since=SINCE, threshold=0.5)
    assert (verdict.kind, verdict.ref, verdict.reason) == ("corpus", "004", "near")
    assert verdict.score > 0.99  # the header's fingerprints are common, so left out of the share


@pytest.mark.parametrize("lead_of, other", [("001", "003"), ("003", "001")])
def test_a_lead_goes_to_its_own_article_not_to_one_sharing_sentences(store, lead_of, other):
    with store.transaction():
        for ref in ("001", "003"):
            add_corpus(store, ref, fingerprint("", seed(ref).body).hashes)
    lead = "\n".join(p for p in seed(lead_of).body.splitlines() if p.strip())[:600]
    verdict = classify(guid=None, link=None, fp=fingerprint("", lead), known=store, since=SINCE, threshold=0.5)
    assert verdict is not None and verdict.ref == lead_of


def test_probe_is_the_smallest_fingerprints_and_only_for_large_sets():
    from monitor.dedup import probe_fingerprints

    many = frozenset(range(1000, 1100))
    assert probe_fingerprints(many, 0.5) == list(range(1000, 1020))  # (1/2)^20 < 1e-6
    assert len(probe_fingerprints(many, 0.9)) == 6
    assert probe_fingerprints(frozenset(range(30)), 0.5) == list(range(20))
    assert probe_fingerprints(frozenset(range(20)), 0.5) == []  # no more than the probe: ask for all of them
    assert probe_fingerprints(many, 0.05) == []  # a low threshold needs nearly all of them anyway


@pytest.mark.parametrize("shared", [0.5, 0.6, 1.0])
def test_a_half_contained_article_is_still_found_with_the_probe(store, shared):
    """The probe only decides when nothing at all is known; an item sharing `shared` of its text with a known
    article is found, with the exact score, whichever of its fingerprints happen to be the smallest."""
    import random

    rng = random.Random(int(shared * 10))
    vocab = [w for w in seed("003").body.split() if len(w) > 2]
    known = " ".join(rng.choices(vocab, k=600))
    own = " ".join(rng.choices(vocab, k=600))
    words_known, words_own = known.split(), own.split()
    cut = int(400 * shared)
    item = " ".join(words_known[:cut] + words_own[:400 - cut])
    add_corpus(store, "K", fingerprint("", known).hashes)
    fp = fingerprint("", item)
    verdict = classify(guid=None, link=None, fp=fp, known=store, since=SINCE, threshold=0.45)
    assert verdict is not None and verdict.ref == "K" and verdict.score >= 0.45


# ------------------------------------------------------------------- canonical links
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from urllib.parse import quote, urlsplit  # noqa: E402

from monitor.dedup import canonical_link  # noqa: E402

CANONICAL = [
    ("https://news0.example/news/0", "https://news0.example/news/0"),
    ("http://www.isna.ir/news/1404082615/", "https://isna.ir/news/1404082615"),
    ("HTTPS://WWW.Example.COM/A/B", "https://example.com/A/B"),  # the host folds, the path does not
    ("HtTp://x.IR/A?Q=1", "https://x.ir/A?Q=1"),
    ("https://x.ir/a?utm_source=tg&id=5&utm_medium=x#frag", "https://x.ir/a?id=5"),
    ("https://x.ir/a?utm_source=tg", "https://x.ir/a"),
    ("https://x.ir/a?fbclid=1&FBCLID=2&q=ش", "https://x.ir/a?q=%D8%B4"),
    ("https://x.ir/?", "https://x.ir/"), ("https://x.ir/a?#b", "https://x.ir/a"), ("https://x.ir#a?b", "https://x.ir/"),
    ("https://x.ir?a=1&a=2&b=", "https://x.ir/?a=1&a=2&b="), ("https://x.ir/a?b#c#d", "https://x.ir/a?b="),
    ("http://www.tabnak.ir/fa/news/818316/منتجب\u200cنیا", "https://tabnak.ir/fa/news/818316/"
     "%D9%85%D9%86%D8%AA%D8%AC%D8%A8%E2%80%8C%D9%86%DB%8C%D8%A7"),  # raw Persian is percent-encoded
    ("https://x.ir/%d9%86%D9%86/", "https://x.ir/%D9%86%D9%86"),  # either case of hex digits
    ("https://x.ir/%", "https://x.ir/%25"), ("https://x.ir/%zz/%41", "https://x.ir/%25zz/A"),
    ("https://x.ir/a b\n/c", "https://x.ir/ab/c"), (" https://x.ir/a ", "https://x.ir/a"),  # whitespace goes
    ("https://x.ir//", "https://x.ir"), ("https://x.ir///a//", "https://x.ir///a"),
    ("https://x.ir:8080/a", "https://x.ir:8080/a"), ("https://x.ir:443/a", "https://x.ir/a"),
    ("https://x.ir:/a", "https://x.ir/a"), ("https://user:pw@x.ir/a", "https://x.ir/a"),
    ("https://[::1]/a", "https://::1/a"), ("https://ایسنا.ir/a", "https://ایسنا.ir/a"),
    ("https://x.ir/a/./b/../c", "https://x.ir/a/./b/../c"), ("https://x.ir/a;p=1?q", "https://x.ir/a;p=1?q="),
    ("https://x.ir/\x00a", "https://x.ir/%00a"), ("https://x.ir/~a/(b)/*c!$&'+,;=:@", "https://x.ir/~a/(b)/*c!$&'+,;=:@"),
    ("https://x.ir/a\\b", "https://x.ir/a%5Cb"),
    ("https://[::1/a", None), ("ftp://x.ir/a", None), ("//x.ir/a", None), ("/a/b", None), ("news/1", None),
    ("https:x.ir/a", None), ("http:/x.ir", None), ("", None), ("   ", None), (None, None),
]


@pytest.mark.parametrize("link,expected", CANONICAL)
def test_canonical_link(link, expected):
    assert canonical_link(link) == expected


def test_a_link_no_url_parser_reads_has_no_canonical_form():
    """A port out of range or not a number (issue 12, point 2: it failed the whole feed) gives None; the item
    keeps its link as written and is compared by text."""
    for link in ("https://x.ir:99999/a", "http://example.com:99999/a", "https://x.ir:abc/a", "http://[::1/a"):
        assert canonical_link(link) is None, link
    assert canonical_link("https://x.ir:8080/a") == "https://x.ir:8080/a"


_URL_PIECES = st.sampled_from(["http", "https", "HTTP", "hTTps", "ftp", "", ":", "://", "//", "/", "www.", "WWW.",
                               "x", "X.IR", ".ir", "-", "news", ":80", ":8080", ":0", ":x", "@", "[", "]",
                               "?", "#", "&", "=", ";", "%", "%2F", "%d9%86", "%D9%86", "%zz", "utm_source=a",
                               "fbclid", "id=1", "..", ".", "ش", "\u200c", " ", "\n", "\t", "\x00", "~", "+", "é",
                               "\\", "'", "(", ")"])


def _check_canonical(link: str) -> None:
    try:
        out = canonical_link(link)
    except ValueError:  # a bad port or a bad IPv6 host, as urllib says
        return
    if out is None:
        return
    assert out.startswith("https://") and "#" not in out, (link, out)
    query = out.partition("?")[2]
    assert not any(k.lower().startswith("utm_") or k.lower() == "fbclid" for k, _, _ in
                   (pair.partition("=") for pair in query.split("&") if pair)), (link, out)
    if urlsplit(out).path:  # a path of slashes only loses them all (kept as it was: stored links depend on it)
        assert canonical_link(out) == out, (link, out)  # a canonical link is its own canonical form


@settings(max_examples=1500, deadline=None)
@given(st.lists(_URL_PIECES, max_size=14).map("".join))
def test_canonical_link_is_https_without_tracking_and_idempotent(link):
    _check_canonical(link)


@pytest.mark.parametrize("link", ["http://www.", "https://WWW.", "http://www.:8080/x"])
def test_a_host_that_is_only_www_has_no_canonical_form(link):
    """Found by the property above: "http://www." gave "https:///", whose own canonical form is None."""
    assert canonical_link(link) is None
    _check_canonical(link)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(["http://", "https://", "HTTPS://"]),
       st.sampled_from(["x.ir", "www.x.ir", "WWW.News.Example", "a-b.c"]),
       st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=30),
       st.one_of(st.just(""), st.text(alphabet="ab=&?_utmsource%#ش ", max_size=20).map(lambda q: "?" + q)))
def test_canonical_link_of_generated_paths(scheme, host, path, query):
    """Besides the properties above: a path written raw and percent-encoded (upper or lower case) is one link."""
    link = f"{scheme}{host}/{path}{query}"
    _check_canonical(link)
    if not set(path) & set("%?#/") and path == "".join(path.split()):
        encoded = quote(path, safe="")
        assert canonical_link(f"{scheme}{host}/{encoded}{query}") == canonical_link(link)
        lower = re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), encoded)
        assert canonical_link(f"{scheme}{host}/{lower}{query}") == canonical_link(link)


def dup_columns(verdict) -> dict:
    """The verdict's columns of an item row, as a poll stores them (a later verdict names their root)."""
    return {"dup_kind": verdict and verdict.kind, "dup_ref": verdict and verdict.ref,
            "dup_score": verdict and verdict.score, "dup_reason": verdict and verdict.reason}


def _judge_feed(store: Store, items, batch: bool):
    """Store a feed's (guid, link, title, body) items as a poll does: each judged, then stored with its id and,
    when new, its fingerprints. batch: dedup.FeedJudge for the feed; else classify() item by item."""
    from monitor.dedup import FeedJudge, fingerprints

    printed = [fp for fp, _, _ in fingerprints([(title, body) for _, _, title, body in items])]
    verdicts = []
    with store.transaction():
        judge = FeedJudge(store, SINCE, 0.5, [(g, ln, fp) for (g, ln, _, _), fp in zip(items, printed)],
                          feed="f") if batch else None
        for (guid, link, _, _), fp in zip(items, printed):
            item_id = store.items.reserve_ids(1)[0]
            verdict = judge.next(item_id) if batch else \
                classify(guid=guid, link=link, fp=fp, known=store, since=SINCE, threshold=0.5, feed="f")
            n = store.items.count()
            store.items.insert_new([{"id": item_id, "feed": "f", "key": f"k{n}", "guid": guid,
                                     "canonical_link": link, "title": "", "body": "", "status":
                                     "duplicate" if verdict else "new", "body_hash": fp.body_hash or None,
                                     "title_body_hash": fp.title_body_hash or None, **dup_columns(verdict),
                                     "fetched_at": "2025-11-17T00:00:00+00:00"}])
            if verdict is None:
                store.fingerprints.add(Source.item(item_id), fp.hashes)
            verdicts.append(None if verdict is None else (verdict.kind, verdict.ref, verdict.score, verdict.reason))
    return verdicts


def test_a_feed_judged_together_gets_the_verdicts_of_one_by_one(tmp_path):
    """dedup.FeedJudge (one statement per feed, a count of held fingerprints before any full lookup) must give
    exactly classify()'s verdicts, item by item, against the corpus, stored items and the feed's own earlier
    items, whatever mix of copies, partial copies, shared phrases and new text the feed holds."""
    import random

    rng = random.Random(5)
    paras = [p for ref in ("000", "001", "002", "003", "004") for p in seed(ref).body.splitlines() if p.strip()]
    words = " ".join(paras).split()

    def fresh(n: int) -> str:
        return " ".join(rng.choice(words) for _ in range(n))

    def mix(text: str, share: float) -> str:
        own = text.split()
        cut = int(len(own) * share)
        return " ".join(own[:cut]) + " " + fresh(len(own) - cut)

    results = {}
    for batch in (False, True):
        store = Store.open(tmp_path / f"{batch}.db")
        with store.transaction():
            for ref in ("001", "003"):
                add_corpus(store, ref, fingerprint("", seed(ref).body).hashes)
        rng.seed(5)
        stored = [(f"s{i}", None, "", mix(rng.choice(paras), rng.random())) for i in range(30)]
        _judge_feed(store, stored, batch)
        feed = []
        for i in range(60):
            kind = rng.randrange(7)
            if kind == 0:
                body = seed(rng.choice(["001", "003"])).body  # a corpus copy
            elif kind == 1:
                body = rng.choice(stored)[3]  # a stored item again
            elif kind == 2 and feed:
                body = rng.choice(feed)[3]  # an earlier item of this feed
            elif kind == 3:
                body = mix(rng.choice(paras + [s[3] for s in stored]), rng.choice([0.3, 0.45, 0.55, 0.7]))
            elif kind == 4 and feed:
                body = mix(rng.choice(feed)[3], rng.choice([0.4, 0.6]))
            else:
                body = fresh(rng.randrange(5, 120))
            guid = rng.choice([f"g{i}", f"s{rng.randrange(30)}", None])
            feed.append((guid, None, "", body))
        results[batch] = _judge_feed(store, feed, batch)
        store.close()
    assert results[True] == results[False]
    kinds = {v[3] if v else "new" for v in results[True]}
    assert {"new", "near", "guid", "body"} <= kinds, kinds  # the mix reached every path


def test_a_workers_older_view_plus_what_was_stored_after_gives_the_same_verdicts(tmp_path):
    """In a large poll a worker asks its read-only view of the store about a feed's items (held_snapshot) and
    the storing process adds only what it wrote after that view (store.fingerprints.recent_held). Feed G, stored
    after the view was taken, holds copies and partial copies of feed F's articles: F's verdicts must be exactly what
    classify() gives one by one once G is stored, committed or still in the open transaction."""
    import random

    from monitor.dedup import FeedJudge, fingerprints, held_snapshot

    rng = random.Random(11)
    paras = [p for ref in ("000", "002", "004") for p in seed(ref).body.splitlines() if p.strip()]
    words = " ".join(paras).split()

    def fresh(n: int) -> str:
        return " ".join(rng.choice(words) for _ in range(n))

    originals = [fresh(rng.randrange(40, 160)) for _ in range(12)]
    g_items = [(f"g{i}", None, "", o) for i, o in enumerate(originals)]
    f_items = []
    for i, o in enumerate(originals):
        own = o.split()
        cut = int(len(own) * rng.choice([0.3, 0.7, 0.9, 1.0]))
        f_items.append((f"f{i}", None, "", " ".join(own[:cut]) + " " + fresh(len(own) - cut)))
    f_items += [(f"f{i}", None, "", fresh(80)) for i in range(12, 18)]

    def store_feed(store: Store, items, feed: str, judge=None):
        printed = [fp for fp, _, _ in fingerprints([(t, b) for _, _, t, b in items])]
        verdicts = []
        for (guid, link, _, _), fp in zip(items, printed):
            item_id = store.items.reserve_ids(1)[0]
            verdict = judge.next(item_id) if judge else \
                classify(guid=guid, link=link, fp=fp, known=store, since=SINCE, threshold=0.5, feed=feed)
            store.items.insert_new([{"id": item_id, "feed": feed, "key": guid, "guid": guid, "title": "",
                                     "body": "", "status": "duplicate" if verdict else "new",
                                     "body_hash": fp.body_hash or None,
                                     "title_body_hash": fp.title_body_hash or None, **dup_columns(verdict),
                                     "fetched_at": "2025-11-17T00:00:00+00:00"}])
            if verdict is None:
                store.fingerprints.add(Source.item(item_id), fp.hashes)
            verdicts.append(None if verdict is None else (verdict.kind, verdict.ref, verdict.reason))
        return verdicts

    for commit_g in (True, False):
        folder = tmp_path / str(commit_g)
        folder.mkdir()
        expected_store = Store.open(folder / "expected.db")
        with expected_store.transaction():
            add_corpus(expected_store, "000", fingerprint("", seed("000").body).hashes)
        with expected_store.transaction():
            store_feed(expected_store, g_items, "g")
            expected = store_feed(expected_store, f_items, "f")
        expected_store.close()

        store = Store.open(folder / "m.db")
        with store.transaction():
            add_corpus(store, "000", fingerprint("", seed("000").body).hashes)
        view = Store.open(folder / "m.db", readonly=True)
        printed = [fp for fp, _, _ in fingerprints([(t, b) for _, _, t, b in f_items])]
        with view.snapshot():
            snap = held_snapshot(view, SINCE, 0.5, [(g, fp) for (g, _, _, _), fp in zip(f_items, printed)])
        view.close()
        store.fingerprints.track_recent(True)
        with store.transaction():
            store_feed(store, g_items, "g")
            if commit_g:
                store.fingerprints.write_pending()
        with store.transaction():
            judge = FeedJudge(store, SINCE, 0.5, [(g, ln, fp) for (g, ln, _, _), fp in zip(f_items, printed)],
                              snapshot=snap, keys=[g for g, _, _, _ in f_items], feed="f")
            got = store_feed(store, f_items, "f", judge)
        store.close()
        assert got == expected, commit_g
        reasons = [v[2] if v else "new" for v in got]
        assert reasons.count("near") >= 3 and reasons.count("new") >= 6, reasons
