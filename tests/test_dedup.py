"""Near-duplicate verdicts against a real SQLite shingle index (monitor.store.Store), without the pipeline."""

from __future__ import annotations

import pytest

from conftest import SEEDS
from monitor.dedup import COMMON_SHINGLE_SOURCES, classify, fingerprint, parse_corpus_document
from monitor.store import Store, corpus_source, item_source

SINCE = "2025-01-01T00:00:00+00:00"


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "t.db")
    yield s
    s.close()


def seed(prefix: str):
    return parse_corpus_document(next(SEEDS.glob(f"{prefix}_*.txt")))


def test_common_shingles_reports_hashes_held_by_more_than_the_cap(store):
    with store.transaction():
        for i in range(10):
            store.add_shingles(item_source(i), [1], SINCE)
        store.add_shingles(item_source(99), [2], SINCE)
    assert store.common_shingles([1, 2, 3], more_than=9) == {1}
    assert store.common_shingles([1, 2, 3], more_than=10) == set()


def test_boilerplate_shared_by_many_items_is_not_evidence(store):
    """An item whose only overlap with stored items is a phrase every item of the site carries stays new."""
    header = "به گزارش خبرگزاری نمونه از تهران و به نقل از روابط عمومی این نهاد در روز گذشته"
    with store.transaction():
        for i in range(COMMON_SHINGLE_SOURCES + 1):
            store.add_shingles(item_source(i), fingerprint("", f"{header} خبر شماره {i}").shingles, SINCE)
    body = seed("004").body
    item = fingerprint("", f"{header}\n{body}")
    assert classify(guid=None, link=None, fp=item, known=store, since=SINCE, threshold=0.5) is None
    # ... while the article itself, once known, is recognised through the same header.
    with store.transaction():
        store.add_shingles(corpus_source("004"), fingerprint("", body).shingles, SINCE)
    verdict = classify(guid=None, link=None, fp=item, known=store, since=SINCE, threshold=0.5)
    assert (verdict.kind, verdict.ref, verdict.reason) == ("corpus", "004", "near")
    assert verdict.score > 0.99  # the header's shingles are common, so left out of the share


@pytest.mark.parametrize("lead_of, other", [("001", "003"), ("003", "001")])
def test_a_lead_goes_to_its_own_article_not_to_one_sharing_sentences(store, lead_of, other):
    with store.transaction():
        for ref in ("001", "003"):
            store.add_shingles(corpus_source(ref), fingerprint("", seed(ref).body).shingles, SINCE)
    lead = "\n".join(p for p in seed(lead_of).body.splitlines() if p.strip())[:600]
    verdict = classify(guid=None, link=None, fp=fingerprint("", lead), known=store, since=SINCE, threshold=0.5)
    assert verdict is not None and verdict.ref == lead_of
