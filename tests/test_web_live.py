"""A driven browser (selenium with Debian's chromium-driver; skipped when either is absent): a flagged item
stored by a `monitor poll` while the page is open shows as the "N new" link without a reload, and following
the link lists it. The poll adds a feed the first poll did not have, into the database the server reads."""

from __future__ import annotations

import os
import re
import shutil
import time

import pytest

from test_search import FEEDS, poll_folder
from conftest import run_json
from test_web import ALL, Served, item_ids, served, polled  # noqa: F401 (fixtures)

CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the test extra)")
pytestmark = pytest.mark.skipif(not (CHROMEDRIVER and CHROMIUM), reason="chromium or chromium-driver is not "
                                "installed (apt-get install chromium chromium-driver; .ci/run does it)")


@pytest.fixture
def browser(tmp_path):
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_AVOID_STATS", "true")  # Selenium Manager: no usage statistics
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", f"--user-data-dir={tmp_path / 'p'}",
                 "--window-size=1000,1400"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_a_flag_stored_by_a_poll_appears_without_a_reload(tmp_path, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    names = sorted(p.name for p in FEEDS.iterdir() if p.suffix in (".xml", ".atom"))
    config = poll_folder(tmp_path, FEEDS, [n for n in names if not n.startswith("mehr")])
    server = Served(config)
    try:
        browser.get(f"{server.url}/?since={ALL}")
        before = item_ids(browser.page_source)
        if not before:
            # Seen once in about 30 runs (cause not found yet): the first load listed nothing. Say what it showed,
            # as a warning in the run's summary, and load it again: what is tested here is what comes after.
            import warnings

            warnings.warn(f"the flagged list's first load listed nothing; it said: "
                          f"{browser.find_element(By.TAG_NAME, 'body').text[:400]!r}")
            time.sleep(1)
            browser.get(f"{server.url}/?since={ALL}")
            before = item_ids(browser.page_source)
        link = browser.find_element(By.ID, "newer")
        assert before and not link.is_displayed()
        poll_folder(tmp_path, FEEDS, names)  # the same database, now with mehr's items too
        WebDriverWait(browser, 40, poll_frequency=0.5).until(lambda d: d.find_element(By.ID, "newer").is_displayed())
        text = browser.find_element(By.ID, "newer").text
        count = int(re.search(r"[۰-۹]+", text).group().translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")))
        assert item_ids(browser.page_source) == before  # not reloaded by itself
        browser.find_element(By.ID, "newer").click()
        WebDriverWait(browser, 20).until(lambda d: "after=" in d.current_url)
        after = item_ids(browser.page_source)  # the link lists exactly the items stored since the page was read
        assert len(after) == count and not set(after) & set(before)
        assert browser.find_element(By.ID, "only-new").is_displayed()
    finally:
        server.stop()


def test_search_finds_a_re_spelled_name_typed_into_the_form(served, polled, browser):  # noqa: F811
    """Typed with Arabic kaf and yeh and a space for the ZWNJ, «كيم جونگ اون» finds the items stored as
    «کیم جونگ‌اون», the same ones `monitor search` finds for the stored spelling, with the name marked."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    stored = {i["id"] for i in run_json("search", "کیم جونگ‌اون", "--config", str(polled), "--format", "json",
                                        "--limit", "500")["items"]}
    assert stored
    browser.get(f"{served.url}/search")
    box = browser.find_element(By.NAME, "q")
    box.send_keys("كيم جونگ اون" + Keys.ENTER)
    WebDriverWait(browser, 20).until(lambda d: "q=" in d.current_url)
    assert set(item_ids(browser.page_source)) == stored
    marked = [m.text for m in browser.find_elements(By.CSS_SELECTOR, "article.item mark")]
    assert marked and all("کیم" in m for m in marked), marked
