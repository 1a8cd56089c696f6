"""The stories' window read at once (StoryIndex.load, monitor.stories.window) leaves the state one-by-one adds
of the same rows leave: every later verdict and similarity is the same, through expiry of the loaded items."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import pytest
from conftest import FIXTURES

from monitor import stories
from monitor.stories.index import StoryIndex
from monitor.stories.terms import pack_member
from monitor.stories.window import micros

START = datetime(2026, 3, 1, tzinfo=timezone.utc)


def _texts() -> list[tuple[str, str]]:
    rows = []
    for split in ("dev", "heldout"):
        for line in (FIXTURES / "stories" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            rows.append((r["title"], r["body"]))
    return rows


def _stream(seed: int, n: int, days: float) -> list[tuple[int, datetime, stories.Signature]]:
    """n items spread over `days`, a few out of date order, some texts twice (stories to join); ids increasing."""
    rng, texts = random.Random(seed), _texts()
    out = []
    for i in range(n):
        title, body = rng.choice(texts)
        when = START + timedelta(days=days * i / n) + timedelta(hours=rng.choice([0, 0, 0, -30, 5]))
        if rng.random() < 0.2:  # another offset, the same instant as stored dates may carry
            when = when.astimezone(timezone(timedelta(hours=3, minutes=30)))
        out.append((1000 + 3 * i, when, stories.signature(title, body)))
    return out


def _assigned(index: StoryIndex, rows) -> list[tuple[int | None, float]]:
    out = []
    for item, when, sig in rows:
        story, score = index.best(when, sig)
        out.append((story, round(score, 12)))
        index.add(item, item if story is None else story, when, sig)
    return out


def _chunks(rows, size: int = 8192):
    """(item, story, datetime, packed) rows as the store yields them: lists of rows with the date in micros."""
    rows = [(item, story, micros(when), packed) for item, story, when, packed in rows]
    return (rows[i:i + size] for i in range(0, len(rows), size))


def test_a_loaded_window_gives_the_verdicts_of_one_by_one_adds():
    stored = _stream(1, 900, days=12)  # long enough that the loading itself expires the oldest
    rows = [(item, item - 3 * (item % 4 == 1), when, stories.pack(sig)) for item, when, sig in stored]
    one, many = StoryIndex(), StoryIndex()
    for item, story, when, packed in rows:
        one.add(item, story, when, stories.unpack(packed))
    many.load(_chunks(rows))
    assert len(one) == len(many) and len(many) < len(rows)
    assert all((item in one) == (item in many) for item, *_ in rows)
    # New items: first within the loaded dates, then later, so the loaded items expire as they are compared.
    new = [(item + offset, when + timedelta(days=d), sig)
           for d, offset, part in ((0, 10_000, _stream(2, 150, days=12)), (9, 20_000, _stream(3, 150, days=12)))
           for item, when, sig in part]
    got, want = _assigned(many, new), _assigned(one, new)
    assert got == want
    assert sum(story is not None for story, _ in got) > 30  # the comparison had verdicts to agree on
    assert len(one) == len(many) and not any(item in many for item, *_ in rows)  # the loaded ones expired


def test_rows_out_of_id_order_are_refused_by_an_empty_index_and_added_one_by_one_to_a_filled_one():
    stored = _stream(4, 200, days=4)
    rows = [(item, item, when, stories.pack(sig)) for item, when, sig in stored]
    one, many = StoryIndex(), StoryIndex()
    with pytest.raises(ValueError, match="increasing id"):
        many.load(_chunks(list(reversed(rows))))
    assert len(many) == 0
    for item, story, when, packed in rows:
        one.add(item, story, when, stories.unpack(packed))
    many.load(_chunks(rows, 64))  # rows as the store yields them
    extra = [(item + 5000, item, when, stories.pack(sig)) for item, when, sig in _stream(5, 50, days=4)]
    many.load(_chunks(list(reversed(extra))))  # onto a filled index: in the order given
    for item, story, when, packed in reversed(extra):
        one.add(item, story, when, stories.unpack(packed))
    assert len(one) == len(many) == 250
    probe = [(item + 90_000, when, sig) for item, when, sig in _stream(6, 60, days=4)]
    assert _assigned(many, probe) == _assigned(one, probe)


def test_more_rows_than_one_chunk_of_arrays_load_as_one_by_one_adds():
    stored = _stream(7, 20_000, days=10)  # past one list of rows (8192): three lists, the first expired
    rows = [(item, item, when, stories.pack(sig)) for item, when, sig in stored]
    one, many = StoryIndex(), StoryIndex()
    for item, story, when, packed in rows:
        one.add(item, story, when, stories.unpack(packed))
    many.load(_chunks(rows))
    assert len(one) == len(many) < 12_000
    probe = [(item + 200_000, when + timedelta(days=3), sig) for item, when, sig in _stream(8, 200, days=10)]
    assert _assigned(many, probe) == _assigned(one, probe)


def test_members_packed_for_the_store_load_as_the_pure_steps_packs_do():
    """pack_member (what a story member stores: each term once, flagged) loads with no sort, and a window of both
    forms (members stored before and after it) gives the same verdicts as one-by-one adds."""
    stored = _stream(9, 3000, days=8)
    assert any(set(sig.title) & set(sig.lead) for _, _, sig in stored)  # leads repeating title terms: the case
    rows = [(item, item, when, stories.pack(sig) if n % 3 == 0 else pack_member(sig))
            for n, (item, when, sig) in enumerate(stored)]
    one, many, members = StoryIndex(), StoryIndex(), StoryIndex()
    for item, story, when, packed in rows:
        one.add(item, story, when, stories.unpack(packed))
    many.load(_chunks(rows, 1000))
    members.load(_chunks([(i, s, w, pack_member(sig)) for (i, s, w, _), (_, _, sig) in zip(rows, stored)], 1000))
    probe = [(item + 300_000, when + timedelta(days=1), sig) for item, when, sig in _stream(10, 300, days=8)]
    want = _assigned(one, list(probe))
    assert _assigned(many, list(probe)) == want and _assigned(members, list(probe)) == want
    assert sum(story is not None for story, _ in want) > 30
