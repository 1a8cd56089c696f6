"""The story method on its own (monitor.stories, pure): measured on the labelled held-out split, and the cases
it exists for. End to end through `monitor poll`: tests/test_stories_e2e.py."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from conftest import FIXTURES

from monitor import stories

SPLITS = FIXTURES / "stories"


def load(split: str) -> list[dict]:
    rows = [json.loads(line) for line in (SPLITS / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
    return sorted(rows, key=lambda r: r["published"])


def clustered(rows: list[dict]) -> list[int]:
    got = stories.cluster((i, datetime.fromisoformat(r["published"]), r["title"], r["body"])
                          for i, r in enumerate(rows))
    return [got[i] for i in range(len(rows))]


def test_held_out_precision_and_recall_stay_above_their_floors():
    """Settings chosen on dev.jsonl only; on heldout.jsonl they measured P 0.81, R 0.90 (F1 0.85;
    bench/stories.py). The split has 133 labelled pairs and about 150 predicted ones. The floors allow one more
    mistake of the kinds seen and no more: one more pair of 4-item stories merged (16 wrong pairs: P to about
    0.72) or one more 4-item story split in two halves (4 pairs lost: R to 0.87)."""
    rows = load("heldout")
    precision, recall, f1 = stories.pairwise([r["story"] for r in rows], clustered(rows))
    assert precision >= 0.70, precision
    assert recall >= 0.85, recall


def item(rows: list[dict], story: str, n: int = 0) -> dict:
    return [r for r in rows if r["story"] == story][n]


def assign_all(pairs: list[tuple[str, str, str]]) -> list[int]:
    """(when, title, body) in order -> story ids."""
    return clustered([{"published": w, "title": t, "body": b} for w, t, b in pairs])


def test_the_same_ministers_meeting_two_days_after_their_phone_call_is_another_story():
    rows = load("dev")
    call, meeting = item(rows, "d01"), item(rows, "d02")
    got = assign_all([(call["published"], call["title"], call["body"]),
                      (meeting["published"], meeting["title"], meeting["body"])])
    assert got[0] != got[1]


def test_one_event_in_other_words_by_another_outlet_is_the_same_story():
    """The earthquake of d08 in five outlets' words (magnitude, casualties, rescue teams, damage first), among
    the other items of its days: the weights are the window's, so it is judged in its stream."""
    rows = load("dev")
    got = clustered(rows)
    from collections import Counter

    story, size = Counter(got[i] for i, r in enumerate(rows) if r["story"] == "d08").most_common(1)[0]
    assert size >= 4  # the fifth, damage to 40 rural homes «در غرب کشور», shares too little: a known miss
    assert all(r["story"] == "d08" for i, r in enumerate(rows) if got[i] == story)


def test_spelling_variants_give_one_signature():
    a = stories.signature("دیدار دبیرکل مؤتلفه با سفیر پاکستان", "محمدعلی امانی با همکاری‌های احزاب")
    b = stories.signature("ديدار دبيركل موتلفه با سفير پاكستان", "محمد‌علی امانی با همکاری های احزاب")
    assert a == b
    assert a.title and a.lead


def test_signatures_survive_the_store_as_bytes():
    sig = stories.signature("زلزله ۵.۱ ریشتری کرمانشاه را لرزاند", "زمین‌لرزه‌ای به بزرگی ۵.۱ ریشتر سرپل ذهاب")
    assert stories.unpack(stories.pack(sig)) == sig
    empty = stories.signature("", "")
    assert stories.unpack(stories.pack(empty)) == empty


def test_the_same_text_beyond_the_window_starts_a_story_of_its_own():
    title, body = "مدارس تهران فردا غیرحضوری شد", "به دلیل آلودگی هوا همه مدارس استان تهران غیرحضوری است"
    start = datetime.fromisoformat("2025-11-23T19:00:00+03:30")
    got = assign_all([(start.isoformat(), title, body),
                      ((start + timedelta(hours=6)).isoformat(), title, body),
                      ((start + stories.WINDOW + timedelta(hours=7)).isoformat(), title, body)])
    assert got[0] == got[1] != got[2]


def test_an_item_with_no_words_is_a_story_of_its_own():
    got = assign_all([("2025-11-23T19:00:00+03:30", "", ""), ("2025-11-23T19:01:00+03:30", "", "")])
    assert got == [0, 1]
