"""`monitor search` over article pages (issue 13's stage): a lead-only feed whose pages hold the words, polled
from 127.0.0.1 by `monitor poll`; a page that comes later is indexed again."""

from __future__ import annotations

import pytest

from article_site import Site, write_config
from conftest import run_cli, run_json
from test_articles_e2e import article, poll, serve_feed


@pytest.fixture
def site():
    s = Site()
    yield s
    s.close()


def search(config, query: str) -> list[dict]:
    return run_json("search", query, "--config", str(config), "--format", "json")["items"]


def test_words_only_on_the_article_page_are_found_there(tmp_path, site):
    items = [article(site, "body", 100, body_term=" دیمیتری مدودف "), article(site, "other", 200)]
    config = write_config(tmp_path, [{"name": "agency", "url": serve_feed(site, "agency", items)}])
    poll(config)
    found = search(config, "ديميتري مدودف")  # Arabic yeh: the same word
    assert len(found) == 1 and found[0]["guid"].endswith("/body")
    assert found[0]["hit"]["field"] == "article_text" and "مدودف" in found[0]["hit"]["text"]
    shown = run_json("show", str(found[0]["id"]), "--config", str(config), "--format", "json")
    assert "مدودف" in shown["article_text"] and "مدودف" not in shown["text"]  # the feed carried the lead only


def test_a_page_that_arrives_on_a_later_cycle_is_indexed_again(tmp_path, site):
    late = article(site, "late", 800, body_term=" دیمیتری مدودف ")
    page = site.routes.pop("/page/late")  # 404 on the first cycle
    config = write_config(tmp_path, [{"name": "agency", "url": serve_feed(site, "agency", [late])}])
    poll(config)
    assert search(config, "مدودف") == []
    lead_hits = search(config, late["lead"].split()[3])
    assert len(lead_hits) == 1  # the lead's words are indexed from the first cycle
    site.routes["/page/late"] = page
    poll(config)  # the page is tried again and accepted: the item is queued for its new words
    proc = run_cli("search", "مدودف", "--config", str(config), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    found = [i["id"] for i in run_json("search", "مدودف", "--config", str(config), "--format", "json")["items"]]
    assert found == [lead_hits[0]["id"]]
    assert [i["id"] for i in search(config, late["lead"].split()[3])] == found  # its lead's words stay
