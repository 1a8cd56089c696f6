"""Near-duplicate verdicts against a real SQLite shingle index (monitor.store.Store), without the pipeline."""

from __future__ import annotations

import pytest

from conftest import SEEDS
from monitor.dedup import COMMON_SHINGLE_SOURCES, classify, fingerprint, parse_corpus_document
from monitor.store import Store, item_source

SINCE = "2025-01-01T00:00:00+00:00"


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "t.db")
    yield s
    s.close()


def add_item(store: Store, shingles) -> int:
    """A stored item fetched inside the window, with the given fingerprints."""
    n = store._one("SELECT count(*) FROM items")
    item_id = store.insert_item({"feed": "f", "key": f"guid:{n}", "guid": str(n), "title": "", "summary": "",
                                 "body": "", "fetched_at": "2025-11-17T00:00:00+00:00", "status": "new"})
    store.add_shingles(item_source(item_id), shingles)
    return item_id


def add_corpus(store: Store, ref: str, shingles) -> None:
    store.put_corpus_doc({"ref": ref, "path": f"/corpus/{ref}.txt", "mtime": 0.0, "size": 0}, shingles, SINCE)


def seed(prefix: str):
    return parse_corpus_document(next(SEEDS.glob(f"{prefix}_*.txt")))


def test_common_shingles_reports_hashes_held_by_more_than_the_cap(store):
    with store.transaction():
        for i in range(10):
            add_item(store, [1])
        add_item(store, [2])
    assert store.common_shingles([1, 2, 3], more_than=9) == {1}
    assert store.common_shingles([1, 2, 3], more_than=10) == set()


def test_boilerplate_shared_by_many_items_is_not_evidence(store):
    """An item whose only overlap with stored items is a phrase every item of the site carries stays new."""
    header = "به گزارش خبرگزاری نمونه از تهران و به نقل از روابط عمومی این نهاد در روز گذشته"
    with store.transaction():
        for i in range(COMMON_SHINGLE_SOURCES + 1):
            add_item(store, fingerprint("", f"{header} خبر شماره {i}").shingles)
    body = seed("004").body
    item = fingerprint("", f"{header}\n{body}")
    assert classify(guid=None, link=None, fp=item, known=store, since=SINCE, threshold=0.5) is None
    # ... while the article itself, once known, is recognised through the same header.
    with store.transaction():
        add_corpus(store, "004", fingerprint("", body).shingles)
    verdict = classify(guid=None, link=None, fp=item, known=store, since=SINCE, threshold=0.5)
    assert (verdict.kind, verdict.ref, verdict.reason) == ("corpus", "004", "near")
    assert verdict.score > 0.99  # the header's shingles are common, so left out of the share


@pytest.mark.parametrize("lead_of, other", [("001", "003"), ("003", "001")])
def test_a_lead_goes_to_its_own_article_not_to_one_sharing_sentences(store, lead_of, other):
    with store.transaction():
        for ref in ("001", "003"):
            add_corpus(store, ref, fingerprint("", seed(ref).body).shingles)
    lead = "\n".join(p for p in seed(lead_of).body.splitlines() if p.strip())[:600]
    verdict = classify(guid=None, link=None, fp=fingerprint("", lead), known=store, since=SINCE, threshold=0.5)
    assert verdict is not None and verdict.ref == lead_of
