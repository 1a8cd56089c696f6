"""Add feeds to config.yaml and remove them, keeping every other byte of the file as it was.

Why text splicing and not a round-trip YAML library: ruamel.yaml's round trip of the shipped config.yaml,
unchanged, rewrites 135 lines (it reflows long strings and flow mappings past its line width and re-indents the
feed list), and it hangs a comment block that follows the last feed on that feed, so a feed appended after it
lands below the next section's comments. Here the YAML is composed with PyYAML (already the config's library),
whose nodes carry the line and column where each value starts and ends; new entries are inserted as text right
after the last feed entry, in the style the list already uses (one `- {name: ..., url: ...}` line each, or
block mappings), and a removed entry's lines are cut out. Nothing else is touched: comments, blank lines, quoting
and key order outside the added or removed entries stay byte for byte.

Every edit is checked before it lands: the new text is written to a temporary file beside config.yaml, loaded by
the config loader (the file must be valid and hold exactly the feeds expected), the old file is copied to
config.yaml.bak (replacing the previous backup), and the temporary file is renamed over config.yaml (os.replace,
atomic on POSIX): a reader (the daemon's watcher) sees the old file or the new one, never half of one. A config
that is invalid before the edit is refused: its line numbers cannot be trusted to splice.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from typing import Callable, Sequence

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from monitor.config import load_config
from monitor.feeds import marks
from monitor.errors import ConfigError, FeedListError
from monitor.models import Config

__all__ = ["NewFeed", "add_feeds", "remove_feed", "backup_path"]

_PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "y", "n", "null"}


@dataclass(frozen=True)
class NewFeed:
    """A feed entry to write: the config keys, and a comment for the end of its line (its title, say)."""

    name: str
    url: str
    group: str | None = None
    interval: str | None = None
    full_text: str | None = None
    comment: str | None = None


def backup_path(config_path: str) -> str:
    return os.path.realpath(config_path) + ".bak"


def add_feeds(config_path: str, feeds: Sequence[NewFeed]) -> Config:
    """Append `feeds` to the feed list of config_path; returns the new Config. Raises ConfigError when the file
    is invalid as it stands, FeedListError when the edit cannot be made (nothing is written then)."""
    old, text, root = _read(config_path)
    if not feeds:
        return old
    key, seq = _feeds_value(root)
    lines = marks.lines(text)
    if isinstance(seq, SequenceNode) and seq.flow_style and not (seq.value == [] and marks.alone_on_line(lines, seq)):
        entries = ", ".join(_flow(f) for f in feeds)
        at = marks.offset(lines, seq.end_mark.line, seq.end_mark.column) - 1  # the closing "]"
        before = text[:at].rstrip()
        sep = "" if not seq.value or before.endswith(",") else ", "  # `[a, b,]`: a trailing comma is there
        new_text = text[:at] + sep + entries + text[at:]
    elif isinstance(seq, SequenceNode) and seq.value and not seq.flow_style:
        new_text = _append_block(lines, seq, feeds)
    else:  # `feeds:` with nothing, `feeds: ~`, or `feeds: []` alone on its line: becomes a block list
        line_no = key.start_mark.line
        head = lines[line_no]
        if isinstance(seq, ScalarNode) and seq.start_mark.line == line_no and seq.end_mark.index > seq.start_mark.index:
            start, end = seq.start_mark.column, seq.end_mark.column  # `~`, `null`, `[]`
        elif isinstance(seq, SequenceNode):
            start, end = seq.start_mark.column, seq.end_mark.column
        else:  # nothing after the colon (the empty scalar's mark may already be on the next line)
            start = end = head.index(":", key.end_mark.column) + 1
        rest = head[end:].rstrip("\r\n")
        newline = head[len(head.rstrip("\r\n")):] or "\n"
        key_part = head[:start].rstrip()
        indent = " " * (marks.indent(head) + 2)
        body = "".join(f"{indent}- {_flow(f)}{_comment(f)}\n" for f in feeds)
        lines[line_no] = f"{key_part}{rest}{newline}"
        new_text = "".join(lines[:line_no + 1]) + body + "".join(lines[line_no + 1:])
    names = [f.name for f in old.feeds] + [f.name for f in feeds]
    return _replace(config_path, text, new_text, lambda c: [f.name for f in c.feeds] == names)


def remove_feed(config_path: str, name: str) -> Config:
    """Remove the feed called `name` (its lines, with its end-of-line comment and the comment lines indented
    under it); returns the new Config. Raises FeedListError when there is no such feed."""
    old, text, root = _read(config_path)
    _, seq = _feeds_value(root)
    items = seq.value if isinstance(seq, SequenceNode) else []
    index = next((i for i, item in enumerate(items) if _name_of(item) == name), None)
    if index is None:
        known = ", ".join(f.name for f in old.feeds) or "none"
        raise FeedListError(f"no feed named {name!r} in {config_path} (feeds: {known})")
    lines = marks.lines(text)
    item = items[index]
    if seq.flow_style:
        if index + 1 < len(items):
            start, end = marks.start(lines, item), marks.start(lines, items[index + 1])
        elif index > 0:
            start, end = marks.end(lines, items[index - 1]), marks.end(lines, item)
        else:
            start, end = marks.start(lines, item), marks.end(lines, item)
        new_text = text[:start] + text[end:]
    else:
        first, last = marks.dash_line(lines, seq, item), marks.last_line(lines, seq, item)
        new_text = "".join(lines[:first] + lines[last + 1:])
    names = [f.name for f in old.feeds if f.name != name]
    return _replace(config_path, text, new_text, lambda c: [f.name for f in c.feeds] == names)


# ------------------------------------------------------------------------------------------ reading


def _read(config_path: str) -> tuple[Config, str, MappingNode]:
    """The valid config, the file's text (without a UTF-8 BOM: the marks count from after it) and its YAML root."""
    config = load_config(config_path)  # ConfigError (file, line, key) when the file is invalid as it stands
    with open(os.path.realpath(config_path), "rb") as handle:
        text = handle.read().decode("utf-8").removeprefix("\ufeff")
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, MappingNode):
        raise ConfigError("the top level must be a mapping", path=config_path)
    return config, text, root


def _feeds_value(root: MappingNode) -> tuple[Node, Node]:
    """The `feeds` key node and its value node."""
    for key, value in root.value:
        if isinstance(key, ScalarNode) and key.value == "feeds":
            return key, value
    raise ConfigError("feeds is missing")  # load_config has already required it


def _name_of(item: Node) -> str | None:
    if isinstance(item, MappingNode):
        for key, value in item.value:
            if isinstance(key, ScalarNode) and key.value == "name" and isinstance(value, ScalarNode):
                return value.value.strip()
    return None


# ------------------------------------------------------------------------------------------ writing


def _append_block(lines: list[str], seq: SequenceNode, feeds: Sequence[NewFeed]) -> str:
    last = seq.value[-1]
    end = marks.last_line(lines, seq, last)
    dash = " " * seq.start_mark.column
    if isinstance(last, MappingNode) and not last.flow_style:
        key_indent = " " * last.start_mark.column
        body = "".join(_block(f, dash, key_indent) for f in feeds)
    else:
        body = "".join(f"{dash}- {_flow(f)}{_comment(f)}\n" for f in feeds)
    head = lines[:end + 1]
    if head and not head[-1].endswith("\n"):
        head[-1] += "\n"
    return "".join(head) + body + "".join(lines[end + 1:])


def _pairs(feed: NewFeed) -> list[tuple[str, str]]:
    out = [("name", _name(feed.name)), ("url", _quoted(feed.url))]
    for key in ("interval", "full_text", "group"):
        value = getattr(feed, key)
        if value is not None:
            out.append((key, _quoted(value)))
    return out


def _flow(feed: NewFeed) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in _pairs(feed)) + "}"


def _block(feed: NewFeed, dash: str, key_indent: str) -> str:
    first, *rest = _pairs(feed)
    gap = " " * max(1, len(key_indent) - len(dash) - 1)  # `-   name:` keeps the list's own spacing
    text = f"{dash}-{gap}{first[0]}: {first[1]}{_comment(feed)}\n"
    return text + "".join(f"{key_indent}{k}: {v}\n" for k, v in rest)


def _name(name: str) -> str:
    return name if _PLAIN_NAME.fullmatch(name) and name.lower() not in _YAML_WORDS else _quoted(name)


def _quoted(value: str) -> str:
    """A YAML double-quoted scalar (JSON's quoting is a subset), with line and paragraph separators, the BOM and
    control characters escaped, which YAML would otherwise fold or refuse."""
    return "".join(f"\\u{ord(ch):04x}" if unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch == "\ufeff" else ch
                   for ch in json.dumps(value, ensure_ascii=False))


def _comment(feed: NewFeed) -> str:
    if not feed.comment:
        return ""
    text = " ".join("".join(ch if unicodedata.category(ch)[0] != "C" or ch == "\u200c" else " "
                            for ch in feed.comment).split())
    return f"  # {text}" if text else ""


def _replace(config_path: str, old_text: str, new_text: str, check: Callable[[Config], bool]) -> Config:
    """Validate new_text as the config, back up the old file, rename the new one into place."""
    real = os.path.realpath(config_path)
    folder = os.path.dirname(real)
    mode = os.stat(real).st_mode & 0o7777
    with open(real, "rb") as handle:
        had_bom = handle.read(3) == "\ufeff".encode("utf-8")
    fd, temp = tempfile.mkstemp(prefix=".config-edit-", suffix=".yaml", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(("\ufeff" if had_bom else "") + new_text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        try:
            config = load_config(temp)
        except ConfigError as exc:
            raise FeedListError(f"the edited config would not load, so {config_path} was left as it was: "
                                f"{str(exc).replace(temp, config_path)}") from None
        if not check(config):
            raise FeedListError(f"the edited config does not hold the feeds expected, so {config_path} was left "
                                "as it was (please report this)")
        with open(real, "rb") as handle:
            current = handle.read().decode("utf-8")
        bom = "\ufeff" if current.startswith("\ufeff") else ""
        if current != bom + old_text:
            raise FeedListError(f"{config_path} changed while it was being edited; nothing written, run again")
        _write_backup(real, current, mode)
        os.replace(temp, real)
        temp = ""
        return load_config(config_path)
    finally:
        if temp and os.path.exists(temp):
            os.unlink(temp)


def _write_backup(real: str, text: str, mode: int) -> None:
    fd, temp = tempfile.mkstemp(prefix=".config-backup-", dir=os.path.dirname(real))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, real + ".bak")
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
