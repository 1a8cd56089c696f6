"""`monitor show ID` end to end: the fixture feeds polled from 127.0.0.1, a chain of copies stored in a real
SQLite file, and the real CLI in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import FEEDS, run_cli, run_json
from test_search import poll_folder


@pytest.fixture(scope="module")
def polled(tmp_path_factory) -> Path:
    return poll_folder(tmp_path_factory.mktemp("show"), FEEDS)


def items(config: Path) -> list[dict]:
    return run_json("items", "--config", str(config), "--format", "json")["items"]


def show(config: Path, item_id: int) -> dict:
    return run_json("show", str(item_id), "--config", str(config), "--format", "json")


def test_a_flagged_item_whole_with_match_positions(polled):
    item = next(i for i in items(polled) if i["flagged"] and i["title"].startswith("امانی"))
    whole = show(polled, item["id"])
    assert {k: whole[k] for k in item} == {**item, "matches": whole["matches"]}  # the items shape, extended
    assert set(whole) - set(item) == {"text", "article_text", "root", "copies", "story"}
    assert whole["text"] and whole["article_text"] is None and whole["root"] is None
    story = whole["story"]  # monitor.stories: the item's story, with how many feeds carried it
    assert set(story) == {"id", "title", "carried_by"} and story["carried_by"] >= 1
    assert story["id"] in {s["id"] for s in run_json("stories", "--config", str(polled), "--since", "2025-01-01",
                                                      "--format", "json")["stories"]
                           if item["id"] in s["items"]}
    texts = {"title": whole["title"], "text": whole["text"]}
    for match in whole["matches"]:
        assert len(match["positions"]) == match["count"]
        for p in match["positions"]:
            assert texts[p["field"]][p["start"]:p["end"]] == p["text"]


def test_a_corpus_copy_names_its_root_and_the_original_lists_nothing_extra(polled):
    dup = next(i for i in items(polled) if i["duplicate_of"] and i["duplicate_of"]["kind"] == "corpus")
    whole = show(polled, dup["id"])
    root = whole["root"]
    assert root["kind"] == "corpus" and root["ref"] == dup["duplicate_of"]["ref"]
    assert root["title"] and root["path"].endswith(".txt") and root["score"] == dup["duplicate_of"]["score"]
    assert dup["id"] not in [c["id"] for c in whole["copies"]]


def test_a_copy_of_a_copy_names_the_first_item_and_every_copy(tmp_path):
    from monitor.store import Store

    config = poll_folder(tmp_path, FEEDS)
    db = yaml.safe_load(config.read_text(encoding="utf-8"))["database"]
    original = next(i for i in items(config) if i["status"] == "new")
    store = Store.open(db)
    try:  # a chain as a database from before verdicts named the root holds it: 101 -> 100 -> original
        with store.transaction():
            base = {"guid": None, "link": None, "canonical_link": None, "title": "نسخه", "summary": "", "body": "متن",
                    "published": None, "fetched_at": "2025-11-25T08:00:00+00:00", "status": "duplicate",
                    "dup_kind": "item", "dup_reason": "body"}
            store.items.insert_new([
                {**base, "id": 100, "feed": "copier", "key": "k100", "dup_ref": str(original["id"]), "dup_score": 0.9},
                {**base, "id": 101, "feed": "copier", "key": "k101", "dup_ref": "100", "dup_score": 0.7},
                {**base, "id": 102, "feed": "other", "key": "k102", "dup_ref": str(original["id"]), "dup_score": 1.0}])
    finally:
        store.close()
    whole = show(config, 101)
    assert whole["root"]["kind"] == "item" and whole["root"]["ref"] == original["id"]
    assert whole["root"]["title"] == original["title"] and whole["root"]["score"] == 0.7  # the weaker of the chain
    assert [c["id"] for c in whole["copies"]] == [100, 102]
    assert [c["id"] for c in show(config, original["id"])["copies"]] == [100, 101, 102]


def test_text_format_and_errors(polled):
    item = next(i for i in items(polled) if i["flagged"])
    proc = run_cli("show", str(item["id"]), "--config", str(polled))
    assert proc.returncode == 0 and f"#{item['id']}" in proc.stdout and "match:" in proc.stdout
    for bad in ("999999", "0", "x"):
        proc = run_cli("show", bad, "--config", str(polled))
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    proc = run_cli("show", "999999", "--config", str(polled))
    assert proc.stderr.strip().splitlines() == [f"error: no item with id 999999 in "
                                                f"{yaml.safe_load(polled.read_text())['database']}"]
    json.loads(run_cli("show", str(item["id"]), "--config", str(polled), "--format", "json").stdout)
