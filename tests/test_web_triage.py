"""Triage on `monitor serve`: POSTs with the page's CSRF token mark an item read, starred or not relevant for
one of its watch entries; the marks live in the database (m012), survive a server restart and show in
`monitor items --format json`; "not relevant" proposes an exclude phrase whose counts are what a real
`monitor rematch` with that phrase in config.yaml then does."""

from __future__ import annotations

import re
import shutil

import httpx
import pytest
import yaml

from conftest import run_cli, run_json
from test_web import ALL, Served, item_ids, polled  # noqa: F401 (fixture)


BROWSER = httpx.Client(timeout=30)  # keeps the session cookie, as a browser does (across restarts too)


def token(server: Served, item_id: int, client: httpx.Client = BROWSER) -> str:
    page = client.get(f"{server.url}/item/{item_id}").text
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def post(server: Served, item_id: int, client: httpx.Client = BROWSER, **form: str) -> httpx.Response:
    return client.post(f"{server.url}/item/{item_id}/triage", data=form)


@pytest.fixture
def own(polled, tmp_path):
    """A copy of the polled database and its config, since triage writes."""
    raw = yaml.safe_load(polled.read_text(encoding="utf-8"))
    shutil.copy(raw["database"], tmp_path / "monitor.db")
    raw["database"] = str(tmp_path / "monitor.db")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return config


def items_triage(config) -> dict[int, dict]:
    return {i["id"]: i["triage"] for i in run_json("items", "--config", str(config), "--format", "json")["items"]}


def test_marks_need_the_csrf_token_and_persist_across_a_restart(own):
    flagged = run_json("report", "--config", str(own), "--since", ALL, "--format", "json")["items"]
    first, second = flagged[0], flagged[1]
    watch = first["matches"][0]["watch"]
    server = Served(own)
    try:
        assert post(server, first["id"], action="star").status_code == 403  # no token
        assert post(server, first["id"], action="star", csrf="forged").status_code == 403
        good = token(server, first["id"])
        assert BROWSER.post(f"{server.url}/item/{first['id']}/triage", data={"action": "star", "csrf": good},
                            headers={"Origin": "https://evil.example"}).status_code == 403
        with httpx.Client(timeout=30) as other:  # the token is this session's: another cookie, or none, fails
            assert post(server, first["id"], other, action="star", csrf=good).status_code == 403
            token(server, first["id"], other)
            assert post(server, first["id"], other, action="star", csrf=good).status_code == 403
        assert items_triage(own)[first["id"]] == {"read": False, "starred": False, "not_relevant": []}
        for form in ({"action": "star"}, {"action": "read"}, {"action": "not_relevant", "watch": watch}):
            assert post(server, first["id"], csrf=good, **form).status_code == 303
        assert post(server, second["id"], csrf=good, action="read").status_code == 303
        assert post(server, 999999, csrf=good, action="read").status_code == 404
        assert post(server, first["id"], csrf=good, action="delete").status_code == 400
    finally:
        server.stop()
    marks = items_triage(own)
    assert marks[first["id"]] == {"read": True, "starred": True, "not_relevant": [watch]}
    assert marks[second["id"]] == {"read": True, "starred": False, "not_relevant": []}
    restarted = Served(own)
    try:
        page = restarted.get(f"/item/{first['id']}").text
        assert 'value="unstar"' in page and 'value="unread"' in page and 'value="relevant"' in page
        # the form loaded before the restart still posts: the secret is the database's, not the process's
        assert post(restarted, first["id"], csrf=good, action="unstar").status_code == 303
        assert post(restarted, first["id"], csrf="0" * 64, action="star").status_code == 403
    finally:
        restarted.stop()
    assert items_triage(own)[first["id"]] == {"read": True, "starred": False, "not_relevant": [watch]}


def test_not_relevant_proposes_an_exclude_whose_counts_a_real_rematch_confirms(own, tmp_path):
    flagged = run_json("report", "--config", str(own), "--since", ALL, "--format", "json")["items"]
    item = flagged[0]
    watch = item["matches"][0]["watch"]
    server = Served(own)
    try:
        assert post(server, item["id"], csrf=token(server, item["id"]), action="not_relevant",
                    watch=watch).status_code == 303
        page = server.get(f"/item/{item['id']}").text
    finally:
        server.stop()
    phrases = re.findall(r'"([^"]+)"', re.search(r'<pre dir="auto" class="exclude">exclude: \[(.+?)\]</pre>',
                                                  page).group(1))
    assert phrases
    counts = re.search(r'<p class="meta">([۰-۹]+) خبرِ ذخیره‌شده.*?؛ ([۰-۹]+) خبر', page)
    loses, unflags = (int(c.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))) for c in counts.groups())
    assert loses >= 1
    raw = yaml.safe_load(own.read_text(encoding="utf-8"))
    assert raw == yaml.safe_load(own.read_text(encoding="utf-8"))  # config.yaml was never edited
    before_matched = {i["id"] for i in run_json("items", "--config", str(own), "--watch", watch,
                                                 "--format", "json")["items"]}
    before_flagged = len(flagged)
    for entry in raw["watch"]:
        if entry["name"] == watch:
            entry["exclude"] = [*entry.get("exclude", []), *phrases]
    own.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert run_cli("rematch", "--config", str(own)).returncode == 0
    after_matched = {i["id"] for i in run_json("items", "--config", str(own), "--watch", watch,
                                                "--format", "json")["items"]}
    after_flagged = len(run_json("report", "--config", str(own), "--since", ALL, "--format", "json")["items"])
    assert item["id"] in before_matched - after_matched
    assert len(before_matched - after_matched) == loses and after_matched <= before_matched
    assert before_flagged - after_flagged == unflags


OLD_ITEM = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>بایگانی</title><link>https://archive.example/</link>
<item><title>سخنرانی قدیمی دمیتری مدودف دربارهٔ انرژی</title>
<description>متن بایگانی‌شده‌ای از سخنان دمیتری مدودف که امروز در خبرخوان آمد.</description>
<pubDate>Mon, 05 Mar 2001 10:00:00 +0000</pubDate><link>https://archive.example/1</link>
<guid>archive-1</guid></item></channel></rss>
"""


def test_new_means_stored_after_the_page_was_read_whatever_its_published_date(own, tmp_path):
    """An item first stored after the page was read but published in 2001 is "1 new" for the all-time list,
    and the link's page (after=) lists exactly it; the 7-day list, which cannot show it, counts none."""
    from monitor.feedserver import FeedServer

    server = Served(own)
    try:
        page = BROWSER.get(f"{server.url}/?since=").text
        after = int(re.search(r'data-after="(\d+)"', page).group(1))
        before_ids = item_ids(page)
        assert after >= max(before_ids)
        assert BROWSER.get(f"{server.url}/api/newer", params={"since": "", "after": after}).json()["count"] == 0
        folder = tmp_path / "archive"
        folder.mkdir()
        (folder / "archive.xml").write_text(OLD_ITEM, encoding="utf-8")
        raw = yaml.safe_load(own.read_text(encoding="utf-8"))
        with FeedServer(folder) as feeds:
            raw["feeds"] = [{"name": "archive", "url": feeds.url("archive.xml")}]
            own.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
            assert run_cli("poll", "--config", str(own)).returncode == 0
        stored = run_json("items", "--config", str(own), "--feed", "archive", "--format", "json")["items"]
        assert len(stored) == 1 and stored[0]["published"].startswith("2001") and stored[0]["matches"]
        new_id = stored[0]["id"]
        answer = BROWSER.get(f"{server.url}/api/newer", params={"since": "", "after": after}).json()
        assert answer == {"count": 1, "newest": new_id}
        assert BROWSER.get(f"{server.url}/api/newer", params={"after": after}).json()["count"] == 0  # 7d
        assert item_ids(BROWSER.get(f"{server.url}/?since=&after={after}").text) == [new_id]
        everything = item_ids(BROWSER.get(f"{server.url}/?since=").text)
        assert everything[-1] == new_id and everything[:-1] == before_ids  # oldest date: last, not first
    finally:
        server.stop()
