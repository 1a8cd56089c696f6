"""The page fetcher (monitor.article.pages) on its own: which items send for their page, the host gate shared by
processes, the deadline that ends a cycle's fetches, and the `articles:` config with its errors."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from monitor.article.pages import DEADLINE_PASSED, HostGate, PageFetcher
from monitor.models import PagePlan, host_of
from monitor.errors import ConfigError
from monitor.models import ArticleSettings, HTTPSettings


def test_which_items_send_for_their_page():
    auto, always, never = PagePlan("auto", 500), PagePlan("always", 500), PagePlan("never", 500)
    assert auto.wants("https://a.ir/1", "کوتاه") and not auto.wants("https://a.ir/1", "x" * 500)
    assert always.wants("https://a.ir/1", "x" * 5000)
    assert not never.wants("https://a.ir/1", "")
    for link in (None, "", "ftp://a.ir/1", "javascript:alert(1)", "/relative/1", "http://"):
        assert not always.wants(link, ""), link
    assert host_of("https://WWW.Mehrnews.com:443/news/1") == "www.mehrnews.com"


def _hammer(gate: HostGate, host: str, counter, most, lock, n: int) -> None:
    for _ in range(n):
        assert gate.enter(host, 2, 0.0, time.monotonic() + 30)
        with lock:
            counter.value += 1
            most.value = max(most.value, counter.value)
        time.sleep(0.01)
        with lock:
            counter.value -= 1
        gate.leave(host)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_the_host_gate_holds_across_processes(method):
    """Four processes, each taking the same host's gate 20 times: never more than per_host (2) inside at once."""
    ctx = multiprocessing.get_context(method)
    gate = HostGate(ctx=ctx)
    counter, most, lock = ctx.RawValue("i", 0), ctx.RawValue("i", 0), ctx.Lock()
    procs = [ctx.Process(target=_hammer, args=(gate, "news.example", counter, most, lock, 20)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert most.value == 2


def test_the_gate_spaces_starts_by_the_delay_and_gives_up_at_the_deadline():
    gate = HostGate()
    starts = []
    for _ in range(3):
        assert gate.enter("a.example", 5, 0.2, time.monotonic() + 10)
        starts.append(time.monotonic())
        gate.leave("a.example")
    assert all(b - a >= 0.2 - 0.01 for a, b in zip(starts, starts[1:]))
    assert gate.enter("b.example", 5, 0.2, time.monotonic() + 10)  # another host does not wait for a.example
    assert gate.enter("c.example", 1, 0.0, time.monotonic() + 10)
    assert not gate.enter("c.example", 1, 0.0, time.monotonic() + 0.1)  # full until the deadline: refused


def test_a_page_not_started_by_the_deadline_is_not_fetched(site_url):
    pages = PageFetcher(HTTPSettings(timeout=5), ArticleSettings(per_host=1, delay=0), HostGate())
    try:
        late = pages.fetch_all([site_url], time.monotonic() - 1)
        on_time = pages.fetch_all([site_url], time.monotonic() + 5)
    finally:
        pages.close()
    assert on_time[0].result is not None and on_time[0].result.body
    assert late[0].result is None and late[0].reason == DEADLINE_PASSED


@pytest.fixture
def site_url():
    from article_site import Site

    site = Site()
    site.routes["/page/x"] = (200, "text/html", b"<html><body><p>x</p></body></html>")
    yield site.url("/page/x")
    site.close()


@pytest.mark.parametrize("text, key", [
    ("articles: {per_host: 0}\n", "articles.per_host"),
    ("articles: {delay: soon}\n", "articles.delay"),
    ("articles: {deadline: 0}\n", "articles.deadline"),
    ("articles: {min_chars: -1}\n", "articles.min_chars"),
    ("articles: {full_text: sometimes}\n", "articles.full_text"),
    ("articles: {pages: 3}\n", "articles.pages"),
])
def test_articles_errors_name_file_line_and_key(tmp_path, text, key):
    from monitor.config import load_config

    path = tmp_path / "config.yaml"
    path.write_text("database: m.db\n" + text + "feeds:\n  - {name: a, url: 'https://a.ir/rss'}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert f"config.yaml:2: {key}: " in str(err.value)


def test_feed_full_text_errors_and_defaults(tmp_path):
    from monitor.config import load_config

    path = tmp_path / "config.yaml"
    path.write_text("feeds:\n  - {name: a, url: 'https://a.ir/rss'}\n  - {name: b, url: 'https://b.ir/rss',"
                    " full_text: always}\n", encoding="utf-8")
    config = load_config(path)
    assert config.articles == ArticleSettings() and config.articles.full_text == "auto"
    assert [f.full_text for f in config.feeds] == [None, "always"]
    path.write_text("feeds:\n  - {name: a, url: 'https://a.ir/rss',\n     full_text: yes}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "config.yaml:3: feeds[0].full_text: " in str(err.value)
