"""`monitor serve`'s pages in a real headless Chromium (Debian's `chromium`; .ci/run installs it): the DOM it
builds is right to left with every feed text in dir="auto", the hostile items run nothing, and screenshots at
1000 and 390 px (a phone) are written for a person to look at (tests/screenshots/ is not kept: tmp_path)."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest

from test_report_e2e import CHROMIUM, chromium
from test_web import ALL, hostile, item_ids, polled, served  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="the chromium binary is not installed "
                                "(apt-get install chromium; .ci/run does it)")


def dump_dom(url: str, tmp_path: Path) -> str:
    proc = chromium("--virtual-time-budget=3000", "--dump-dom", url, tmp_path=tmp_path)
    assert proc.returncode == 0 and "</html>" in proc.stdout, proc.stderr[-2000:]
    return proc.stdout


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_the_served_page_renders_right_to_left_with_its_items(served, tmp_path):
    page = served.get(f"/?since={ALL}").text
    dom = dump_dom(f"{served.url}/?since={ALL}", tmp_path)
    assert '<html dir="rtl" lang="fa">' in dom
    assert item_ids(dom) == item_ids(page) and item_ids(dom)
    assert dom.count('<h3 dir="auto">') == len(item_ids(page))  # every feed title is in dir="auto"


def test_hostile_items_run_nothing_in_the_browser(hostile, tmp_path):
    server, ids = hostile
    dom = dump_dom(f"{server.url}/?since={ALL}", tmp_path)
    assert "PWNED" not in dom.split("</title>")[0]  # no script retitled the page
    assert "<script>document" not in dom and "document.title='PWNED'" in dom  # shown as text
    item = dump_dom(f"{server.url}/item/{ids['quote']}", tmp_path)
    assert "PWNED" not in item.split("</title>")[0]


@pytest.mark.parametrize("width", [1000, 390])
def test_screenshots(served, tmp_path, width):
    shot = tmp_path / f"flagged-{width}.png"
    proc = chromium(f"--window-size={width},1400", "--hide-scrollbars", f"--screenshot={shot}",
                    "--virtual-time-budget=3000", f"{served.url}/?since={ALL}", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert png_size(shot) == (width, 1400)
    keep = Path("/tmp/web-screenshots")
    keep.mkdir(exist_ok=True)
    shutil.copy(shot, keep / shot.name)  # for a person to look at after the run
