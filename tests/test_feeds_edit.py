"""config.yaml edited in place (monitor.feeds.edit): comments and layout kept byte for byte, atomic, a backup."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import REPO, SEEDS
from monitor.config import load_config
from monitor.errors import ConfigError, FeedListError
from monitor.feeds import NewFeed, add_feeds, remove_feed

NEW = [NewFeed("tabnak-2", "https://www.tabnak.ir/fa/rss/1", group="Politics/Iran", comment="تابناک | سیاسی"),
       NewFeed("true", "https://x.ir/rss?a=1&b=«2»", interval="auto", full_text="never")]


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    """The shipped, commented config.yaml, with its corpus path pointing at the seeds."""
    text = (REPO / "config.yaml").read_text(encoding="utf-8").replace("corpus: [fixtures/seeds]", f"corpus: [{SEEDS}]")
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def only_added(before: str, after: str) -> list[str]:
    """The lines of `after` that are not in `before`, asserting every line of `before` is still there, in order."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    added, i = [], 0
    for line in new:
        if i < len(old) and line == old[i]:
            i += 1
        else:
            added.append(line)
    assert i == len(old), "a line of the original is missing or changed"
    return added


def test_adding_to_the_shipped_config_keeps_every_other_byte(shipped: Path):
    before = shipped.read_text(encoding="utf-8")
    config = add_feeds(str(shipped), NEW)
    after = shipped.read_text(encoding="utf-8")
    assert only_added(before, after) == [
        '  - {name: tabnak-2, url: "https://www.tabnak.ir/fa/rss/1", group: "Politics/Iran"}  # تابناک | سیاسی\n',
        '  - {name: "true", url: "https://x.ir/rss?a=1&b=«2»", interval: "auto", full_text: "never"}\n']
    # right after the last feed, before the comment block of the watch list
    assert after.index("tabnak-2") < after.index("# Watch list") and after.index("independent-persian") < after.index("tabnak-2")
    assert [f.name for f in config.feeds][-3:] == ["independent-persian", "tabnak-2", "true"]
    assert config.feeds[-2].group == "Politics/Iran" and config.feeds[-1].interval == "auto"
    assert (shipped.parent / "config.yaml.bak").read_text(encoding="utf-8") == before
    assert sorted(p.name for p in shipped.parent.iterdir()) == ["config.yaml", "config.yaml.bak"]  # no temp left


def test_remove_gives_back_the_file_byte_for_byte(shipped: Path):
    before = shipped.read_bytes()
    add_feeds(str(shipped), NEW)
    remove_feed(str(shipped), "true")
    remove_feed(str(shipped), "tabnak-2")
    assert shipped.read_bytes() == before


BLOCK = """# my feeds
database: state/x.db   # here
feeds:
    -   name: a           # first
        url: https://a.ir/rss
        # a's own note, indented under it

    -   name: b
        url: >-
          https://b.ir/rss

# after the feeds: stays after them
watch: []
"""


def test_block_style_lists_get_block_entries_at_their_indentation(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text(BLOCK, encoding="utf-8")
    add_feeds(str(path), [NewFeed("c", "https://c.ir/rss", group="g", comment="C")])
    after = path.read_text(encoding="utf-8")
    assert only_added(BLOCK, after) == ['    -   name: c  # C\n', '        url: "https://c.ir/rss"\n',
                                        '        group: "g"\n']
    assert after.index("name: c") < after.index("# after the feeds")
    assert [f.url for f in load_config(path).feeds] == ["https://a.ir/rss", "https://b.ir/rss", "https://c.ir/rss"]
    remove_feed(str(path), "a")
    assert "first" not in path.read_text() and "a's own note" not in path.read_text()
    remove_feed(str(path), "c")
    assert path.read_text(encoding="utf-8") == BLOCK.replace(
        "    -   name: a           # first\n        url: https://a.ir/rss\n        # a's own note, indented under it\n", "")


@pytest.mark.parametrize("feeds_text, expected", [
    ("feeds: []   # none yet\n", 'feeds:   # none yet\n  - {name: nu, url: "https://n.ir/rss"}  # N\n'),
    ("feeds:\n", 'feeds:\n  - {name: nu, url: "https://n.ir/rss"}  # N\n'),
    ("feeds: ~\n", 'feeds:\n  - {name: nu, url: "https://n.ir/rss"}  # N\n'),
    ('feeds: [{name: a, url: "https://a.ir"}]  # flow\n',
     'feeds: [{name: a, url: "https://a.ir"}, {name: nu, url: "https://n.ir/rss"}]  # flow\n'),
    ('feeds: [\n  {name: a, url: "https://a.ir"},\n  ]\n',
     'feeds: [\n  {name: a, url: "https://a.ir"},\n  {name: nu, url: "https://n.ir/rss"}]\n'),
])
def test_empty_and_flow_lists(tmp_path: Path, feeds_text: str, expected: str):
    path = tmp_path / "c.yaml"
    path.write_text("# top\n" + feeds_text + "watch: []\n", encoding="utf-8")
    add_feeds(str(path), [NewFeed("nu", "https://n.ir/rss", comment="N")])
    assert path.read_text(encoding="utf-8") == "# top\n" + expected + "watch: []\n"
    assert [f.name for f in load_config(path).feeds][-1] == "nu"


def test_flow_list_remove_first_middle_last(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text('feeds: [{name: a, url: "https://a.ir"}, {name: b, url: "https://b.ir"}, '
                    '{name: c, url: "https://c.ir"}]\n', encoding="utf-8")
    remove_feed(str(path), "b")
    assert path.read_text() == 'feeds: [{name: a, url: "https://a.ir"}, {name: c, url: "https://c.ir"}]\n'
    remove_feed(str(path), "c")
    assert path.read_text() == 'feeds: [{name: a, url: "https://a.ir"}]\n'
    remove_feed(str(path), "a")
    assert path.read_text() == "feeds: []\n"


def test_an_edit_that_would_not_load_writes_nothing(shipped: Path):
    before = shipped.read_bytes()
    with pytest.raises(FeedListError) as err:
        add_feeds(str(shipped), [NewFeed("irna", "https://elsewhere.ir/rss")])  # a duplicate name
    assert "left as it was" in str(err.value) and "duplicate feed name" in str(err.value)
    assert str(shipped) in str(err.value) and ".config-edit-" not in str(err.value)
    assert shipped.read_bytes() == before
    assert sorted(p.name for p in shipped.parent.iterdir()) == ["config.yaml"]


def test_an_invalid_config_is_refused_before_any_edit(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("feeds:\n  - {name: a, url: ftp://a.ir}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c.yaml:2: feeds\[0\].url"):
        add_feeds(str(path), [NewFeed("n", "https://n.ir/rss")])
    with pytest.raises(ConfigError):
        remove_feed(str(path), "a")


def test_unknown_name_mode_symlink_and_bom(tmp_path: Path):
    real = tmp_path / "real.yaml"
    real.write_bytes("\ufeff# با BOM\nfeeds:\n  - {name: a, url: \"https://a.ir\"}\n".encode("utf-8"))
    os.chmod(real, 0o600)
    link = tmp_path / "config.yaml"
    link.symlink_to(real)
    with pytest.raises(FeedListError, match=r"no feed named 'zz' in .*config.yaml \(feeds: a\)"):
        remove_feed(str(link), "zz")
    add_feeds(str(link), [NewFeed("b", "https://b.ir")])
    assert link.is_symlink() and (real.stat().st_mode & 0o777) == 0o600
    assert real.read_bytes() == ("\ufeff# با BOM\nfeeds:\n  - {name: a, url: \"https://a.ir\"}\n"
                                 "  - {name: b, url: \"https://b.ir\"}\n").encode("utf-8")
    assert (tmp_path / "real.yaml.bak").stat().st_mode & 0o777 == 0o600


def test_no_trailing_newline_and_crlf(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_bytes(b'feeds:\r\n  - {name: a, url: "https://a.ir"}')
    add_feeds(str(path), [NewFeed("b", "https://b.ir")])
    assert path.read_bytes() == b'feeds:\r\n  - {name: a, url: "https://a.ir"}\n  - {name: b, url: "https://b.ir"}\n'
    shutil.copy(path, tmp_path / "copy.yaml")
    assert [f.name for f in load_config(tmp_path / "copy.yaml").feeds] == ["a", "b"]
