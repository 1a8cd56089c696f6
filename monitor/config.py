"""Load and validate config.yaml into a frozen monitor.models.Config.

Why it looks the way it does:

* The YAML is *composed* (SafeLoader), not loaded, so every value keeps its node and
  every error can name the 1-based line and the key path (`feeds[2].url`). Scalars are
  built with PyYAML's SafeConstructor; any tag outside the safe set (`!!python/object`,
  `!custom`) is rejected before anything is built.
* The schema is a set of tables (`_TOP_LEVEL`, `_HTTP`, `_FEED`, ...). Each entry maps a
  YAML key to a converter and names the dataclass field it fills, so a new key such as
  `report:` or `log:` is one table entry (plus its field on Config).
* Unknown keys are errors at every level, with the allowed keys and the closest match.
  Duplicate keys, which YAML silently lets the last one win, are errors too.
* `load_config` is pure: it reads, checks everything, and only then returns a new
  Config. The daemon calls it again on every change of the file; a bad edit raises
  ConfigError and the old Config stays in use, never a half-applied one.
* A key set to null (`watch:` with every entry commented out) means "use the default";
  required keys still have to have a real value.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, Sequence
from urllib.parse import urlsplit

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from monitor.errors import ConfigError
from monitor.models import (AUTO, FULL_TEXT, WATCH_KINDS, ArticleSettings, Config, DedupSettings, FeedSpec, HTTPSettings,
                            Schedule, WatchEntry)
from monitor.units import parse_duration, parse_size

__all__ = ["load_config", "database_of", "parse_duration", "parse_size", "DEFAULT_DATABASE"]

DEFAULT_DATABASE = "state/monitor.db"
FEED_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
_SEQ, _MAP, _MERGE = _TAG + "seq", _TAG + "map", _TAG + "merge"
# Everything SafeLoader knows how to build, plus merge keys (`<<: *defaults`).
_SAFE_TAGS = frozenset(t for t in yaml.SafeLoader.yaml_constructors if t is not None) | {_MERGE}


# --------------------------------------------------------------------------- context


@dataclass(frozen=True)
class _Ctx:
    """What every converter needs: where errors point and what relative paths are relative to."""

    file: str  # the path as the caller spelled it, for messages
    base: str  # absolute folder of the config file

    def fail(self, node: Node | None, key: str, message: str) -> NoReturn:
        line = node.start_mark.line + 1 if node is not None else None
        raise ConfigError(message, path=self.file, line=line, key=key or None)

    def resolve(self, path: str) -> str:
        """Absolute path for a config-relative one (~ expanded), so the daemon's cwd never matters."""
        return os.path.normpath(os.path.join(self.base, os.path.expanduser(path)))


Converter = Callable[[_Ctx, Node, str], Any]


@dataclass(frozen=True)
class Field:
    """One key of a mapping: how to convert its value and which dataclass field it fills."""

    convert: Converter
    attr: str | None = None  # dataclass field name; None means the same as the key
    required: bool = False


# --------------------------------------------------------------------------- public API


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read, parse and validate the config file; raise ConfigError (never anything else) if it is bad."""
    shown = os.fspath(path)
    absolute = os.path.abspath(shown)
    ctx = _Ctx(file=shown, base=os.path.dirname(absolute))
    root = _compose(ctx, _read_text(ctx, absolute))
    _reject_unsafe_tags(ctx, root)
    if not isinstance(root, MappingNode) or root.tag != _MAP:
        ctx.fail(root, "", f"the top level must be a mapping of keys (database:, feeds:, ...), not {_describe(root)}")
    try:
        values = _mapping(ctx, root, "", _TOP_LEVEL)
    except RecursionError:  # a pathological chain of merges; the composer guards plain nesting
        raise ConfigError("the YAML is nested too deeply", path=ctx.file) from None
    values.setdefault("database", ctx.resolve(DEFAULT_DATABASE))
    values.setdefault("corpus", ())
    values.setdefault("watch", ())
    _check_notify_watch(ctx, root, values)
    return Config(path=absolute, **values)


def database_of(path: str | os.PathLike[str]) -> str | None:
    """The database a config file names, read on its own from a file that may be invalid elsewhere; None when
    the file cannot be read or its `database:` cannot be made out.

    Why: read-only commands that need only the database (`monitor status`, `monitor items`) still answer while
    an invalid edit waits to be fixed (the running daemon keeps its last valid config meanwhile). The value is
    resolved exactly as load_config resolves it; YAML that does not parse is searched for its one top-level
    `database:` line."""
    shown = os.fspath(path)
    absolute = os.path.abspath(shown)
    ctx = _Ctx(file=shown, base=os.path.dirname(absolute))
    try:
        text = _read_text(ctx, absolute)
    except ConfigError:
        return None
    try:
        root: Node | None = _compose(ctx, text)
        pairs = _pairs(ctx, root, "") if isinstance(root, MappingNode) and root.tag == _MAP else None
    except (ConfigError, RecursionError):
        pairs = None
    if pairs is not None:
        found = pairs.get("database")
        if found is None or found[1].tag == _NULL:
            return ctx.resolve(DEFAULT_DATABASE)
        try:
            return _path(ctx, found[1], "database")
        except ConfigError:
            return None
    lines = re.findall(r"^database:[ \t]*(\S.*?)[ \t]*$", text, re.M)
    if len(lines) != 1:
        return None
    try:
        value = yaml.safe_load(lines[0])
    except yaml.YAMLError:
        return None
    return ctx.resolve(value.strip()) if isinstance(value, str) and value.strip() else None


# --------------------------------------------------------------------------- reading and parsing


def _read_text(ctx: _Ctx, absolute: str) -> str:
    """The file as text. A UTF-8 BOM is allowed (Windows editors add one); other encodings are not."""
    try:
        with open(absolute, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        ctx.fail(None, "", "file not found")
    except IsADirectoryError:
        ctx.fail(None, "", "is a folder, not a file")
    except OSError as exc:
        ctx.fail(None, "", f"cannot read the file: {exc.strerror or exc}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"the file is not UTF-8 (bad byte 0x{data[exc.start]:02x}); save it as UTF-8",
                          path=ctx.file, line=line) from None


def _compose(ctx: _Ctx, text: str) -> Node:
    """The YAML node tree, with YAML's own line and column on syntax errors.

    libyaml's loader (CSafeLoader, when PyYAML was built with it) composes first: ten times faster, which on a
    500-feed config is a tenth of a poll with nothing new (speed issue). Its nodes are the same, marks and
    all; on any error the pure-Python loader parses again, so messages stay exactly what it says."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            root = yaml.compose(text, Loader=fast)
        except (yaml.YAMLError, RecursionError, ValueError):
            pass
        else:
            if root is None:
                raise ConfigError("the file is empty; it needs at least `feeds:`", path=ctx.file, line=1)
            return root
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        where = f" (line {line}, column {mark.column + 1}" if mark else ""
        if mark and exc.context_mark and exc.context_mark.line != mark.line:
            where += f"; it started on line {exc.context_mark.line + 1}"
        where += ")" if mark else ""
        what = "; ".join(part for part in (exc.context, exc.problem) if part)
        raise ConfigError(f"YAML syntax error: {what}{where}", path=ctx.file, line=line) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise ConfigError(f"character {exc.character!r} is not allowed in YAML", path=ctx.file, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}", path=ctx.file) from None
    except RecursionError:
        raise ConfigError("the YAML is nested too deeply", path=ctx.file) from None
    if root is None:
        raise ConfigError("the file is empty; it needs at least `feeds:`", path=ctx.file, line=1)
    return root


def _reject_unsafe_tags(ctx: _Ctx, root: Node) -> None:
    """Refuse !!python/object and any other tag SafeLoader would not build, wherever it is.

    Iterative and alias-aware, so a self-referencing anchor cannot loop or blow the stack.
    """
    stack: list[tuple[Node, str]] = [(root, "")]
    seen: set[int] = set()
    while stack:
        node, key = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.tag not in _SAFE_TAGS:
            ctx.fail(node, key, f"the tag {_short_tag(node.tag)} is not allowed; only plain YAML values are")
        if isinstance(node, SequenceNode):
            stack.extend((item, f"{key}[{i}]") for i, item in enumerate(node.value))
        elif isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                child = _join(key, key_node.value if isinstance(key_node, ScalarNode) else "?")
                stack.extend(((key_node, child), (value_node, child)))


# --------------------------------------------------------------------------- generic shapes


def _mapping(ctx: _Ctx, node: Node, key: str, fields: Mapping[str, Field]) -> dict[str, Any]:
    """Convert a mapping by its field table: unknown keys and missing required keys are errors.

    Returns {dataclass field: value} for keys that are present and not null, so callers can
    pass it straight to the dataclass and let its defaults fill the rest.
    """
    if not isinstance(node, MappingNode) or node.tag != _MAP:
        ctx.fail(node, key, f"expected a mapping (key: value lines), got {_describe(node)}")
    pairs = _pairs(ctx, node, key)
    for name, (key_node, _) in pairs.items():
        if name not in fields:
            ctx.fail(key_node, _join(key, name), _unknown_key_message(name, fields))
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        found = pairs.get(name)
        if found is None and spec.required:
            ctx.fail(node, _join(key, name), f"is missing; {_required_keys(fields)}")
        if found is None or (found[1].tag == _NULL and not spec.required):
            continue  # absent or null: the dataclass default applies
        values[spec.attr or name] = spec.convert(ctx, found[1], _join(key, name))
    return values


def _pairs(ctx: _Ctx, node: MappingNode, key: str,
           merging: frozenset[int] = frozenset()) -> dict[str, tuple[Node, Node]]:
    """{key: (key node, value node)}, rejecting duplicate and non-string keys, applying `<<` merges.

    Explicit keys win over merged ones and earlier merges win over later ones, as YAML says.
    `merging` holds the mappings being merged into, so `&a {<<: *a}` is an error, not a hang.
    """
    explicit: dict[str, tuple[Node, Node]] = {}
    merged: dict[str, tuple[Node, Node]] = {}
    merging = merging | {id(node)}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            for source in _merge_sources(ctx, value_node, key):
                if id(source) in merging:
                    ctx.fail(key_node, _join(key, "<<"), "a merge (<<) cannot include the mapping it is in")
                for name, pair in _pairs(ctx, source, key, merging).items():
                    merged.setdefault(name, pair)
            continue
        if not isinstance(key_node, ScalarNode) or key_node.tag != _STR:
            ctx.fail(key_node, key, f"keys must be plain words, not {_describe(key_node)}")
        name = key_node.value
        if name in explicit:
            first = explicit[name][0].start_mark.line + 1
            ctx.fail(key_node, _join(key, name), f"duplicate key {_quote(name)} (first set on line {first})")
        explicit[name] = (key_node, value_node)
    return {**merged, **explicit}


def _merge_sources(ctx: _Ctx, node: Node, key: str) -> list[MappingNode]:
    """The mapping(s) named by a `<<:` merge key."""
    sources = node.value if isinstance(node, SequenceNode) else [node]
    for source in sources:
        if not isinstance(source, MappingNode) or source.tag != _MAP:
            ctx.fail(source, _join(key, "<<"), f"a merge (<<) needs a mapping or a list of mappings, got {_describe(source)}")
    return sources


def _sequence(ctx: _Ctx, node: Node, key: str, *, allow_single: bool) -> list[tuple[Node, str]]:
    """[(item node, item key)] for a list; a lone scalar counts as a one-item list when allowed."""
    if isinstance(node, ScalarNode) and allow_single and node.tag != _NULL:
        return [(node, key)]
    if isinstance(node, ScalarNode) and node.tag == _NULL:
        return []
    if not isinstance(node, SequenceNode) or node.tag != _SEQ:
        ctx.fail(node, key, f"expected a list, got {_describe(node)}")
    return [(item, f"{key}[{i}]") for i, item in enumerate(node.value)]


def _scalar(ctx: _Ctx, node: Node, key: str) -> Any:
    """A scalar node's Python value (str, int, float, bool, None, date...), built the safe way."""
    if not isinstance(node, ScalarNode):
        ctx.fail(node, key, f"expected a single value, got {_describe(node)}")
    try:
        return yaml.constructor.SafeConstructor().construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError) as exc:
        ctx.fail(node, key, f"{_quote(node.value)} is not a valid {_short_tag(node.tag)}: {exc}")


# --------------------------------------------------------------------------- value converters


def _string(ctx: _Ctx, node: Node, key: str) -> str:
    """A non-blank string, stripped. Numbers are refused rather than silently turned into text."""
    value = _scalar(ctx, node, key)
    if value is None:
        ctx.fail(node, key, "cannot be empty")
    if not isinstance(value, str):
        ctx.fail(node, key, f"expected text, got {_describe(node)}; put it in quotes if it is meant as text")
    if not value.strip():
        ctx.fail(node, key, "cannot be empty")
    return value.strip()


def _wordy_string(ctx: _Ctx, node: Node, key: str) -> str:
    """A string with at least one letter or digit: a term of only spaces or punctuation matches everywhere or nowhere."""
    value = _string(ctx, node, key)
    if not any(unicodedata.category(ch)[0] in "LN" for ch in value):
        ctx.fail(node, key, f"{_quote(value)} has no letters or digits")
    return value


def _header_string(ctx: _Ctx, node: Node, key: str) -> str:
    """A string safe to send as an HTTP header value (no line breaks or control characters)."""
    value = _string(ctx, node, key)
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        ctx.fail(node, key, f"{_quote(value)} contains a control character or line break")
    return value


def _path(ctx: _Ctx, node: Node, key: str) -> str:
    return ctx.resolve(_string(ctx, node, key))


def _paths(ctx: _Ctx, node: Node, key: str) -> tuple[str, ...]:
    return tuple(_path(ctx, item, item_key) for item, item_key in _sequence(ctx, node, key, allow_single=True))


def _corpus_paths(ctx: _Ctx, node: Node, key: str) -> tuple[str, ...]:
    """Corpus folders or files that exist: a typo would otherwise turn dedup against the corpus off silently."""
    paths = []
    for item, item_key in _sequence(ctx, node, key, allow_single=True):
        path = _path(ctx, item, item_key)
        if not os.path.exists(path):
            ctx.fail(item, item_key, f"{_quote(path)} does not exist (a folder of .txt files or one .txt file)")
        if not (os.path.isdir(path) or os.path.isfile(path)):
            ctx.fail(item, item_key, f"{_quote(path)} is neither a folder nor a file")
        paths.append(path)
    return tuple(paths)


def _strings(*, allow_empty: bool) -> Converter:
    """A list of words (or a single one); duplicates are dropped, order kept."""

    def convert(ctx: _Ctx, node: Node, key: str) -> tuple[str, ...]:
        items = _sequence(ctx, node, key, allow_single=True)
        if not items and not allow_empty:
            ctx.fail(node, key, "needs at least one entry")
        return tuple(dict.fromkeys(_wordy_string(ctx, item, item_key) for item, item_key in items))

    return convert


def _duration(*, positive: bool) -> Converter:
    def convert(ctx: _Ctx, node: Node, key: str) -> float:
        value = parse_duration(_scalar(ctx, node, key), key=key, path=ctx.file, line=_line(node))
        if positive and value <= 0:
            ctx.fail(node, key, "must be longer than 0 seconds")
        return value

    return convert


def _size(ctx: _Ctx, node: Node, key: str) -> int:
    value = parse_size(_scalar(ctx, node, key), key=key, path=ctx.file, line=_line(node))
    if value <= 0:
        ctx.fail(node, key, "must be more than 0 bytes")
    return value


def _integer(*, minimum: int) -> Converter:
    def convert(ctx: _Ctx, node: Node, key: str) -> int:
        value = _scalar(ctx, node, key)
        if isinstance(value, bool) or not isinstance(value, int):
            ctx.fail(node, key, f"expected a whole number, got {_describe(node)}")
        if value < minimum:
            ctx.fail(node, key, f"must be at least {minimum}, got {value}")
        return value

    return convert


def _number(*, low: float, high: float | None, low_inclusive: bool) -> Converter:
    """A finite int/float in a range; the message spells the range out."""

    def convert(ctx: _Ctx, node: Node, key: str) -> float:
        value = _scalar(ctx, node, key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            ctx.fail(node, key, f"expected a number, got {_describe(node)}")
        too_low = value < low if low_inclusive else value <= low
        if too_low or (high is not None and value > high):
            ctx.fail(node, key, f"must be {_range_text(low, high, low_inclusive)}, got {value}")
        return float(value)

    return convert


def _range_text(low: float, high: float | None, low_inclusive: bool) -> str:
    if high is None:
        return f"{'at least' if low_inclusive else 'more than'} {low:g}"
    return f"{'at least' if low_inclusive else 'more than'} {low:g} and at most {high:g}"


def _url(ctx: _Ctx, node: Node, key: str) -> str:
    """An absolute http(s) URL with a host and no whitespace, the only kind the fetcher can poll."""
    value = _scalar(ctx, node, key)
    if not isinstance(value, str):
        ctx.fail(node, key, f"expected a URL, got {_describe(node)}")
    problem = _url_problem(value)
    if problem:
        ctx.fail(node, key, f"{_quote(value)} is not an http(s) URL: {problem}")
    return value


def _url_problem(value: str) -> str | None:
    """Why `value` is not a usable feed URL, or None when it is."""
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in value):
        return "it contains spaces or control characters (encode a space as %20)"
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https"):
        return "it must start with http:// or https://"
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "the port is not a number from 0 to 65535"
    if not parts.hostname:
        return "it has no host name"
    return None


def _choice(ctx: _Ctx, node: Node, key: str, allowed: Sequence[str], what: str) -> str:
    """A string that must be one of `allowed`; the message lists them."""
    value = _string(ctx, node, key)
    if value not in allowed:
        ctx.fail(node, key, f"{_quote(value)} is not {what}; use one of: {', '.join(allowed)}")
    return value


def _kind(ctx: _Ctx, node: Node, key: str) -> str:
    return _choice(ctx, node, key, WATCH_KINDS, "a kind")


def _feed_name(ctx: _Ctx, node: Node, key: str) -> str:
    """Feed names are used on the command line and in the database, so keep them to plain ASCII tokens."""
    value = _string(ctx, node, key)
    if not FEED_NAME.fullmatch(value):
        ctx.fail(node, key, f"{_quote(value)} is not a valid feed name; use letters, digits, '_', '.', '-', "
                            "starting with a letter or digit")
    return value


def _feed_interval(ctx: _Ctx, node: Node, key: str) -> float | None:
    """A duration, or "auto": the daemon adapts the interval to the feed, between schedule.min/max_interval."""
    if isinstance(node, ScalarNode) and node.tag == _STR and node.value.strip().lower() == AUTO:
        return AUTO
    return _duration(positive=True)(ctx, node, key)


# --------------------------------------------------------------------------- sections


def _section(fields: Mapping[str, Field], build: Callable[..., Any]) -> Converter:
    """A converter for a mapping that becomes one dataclass."""
    return lambda ctx, node, key: build(**_mapping(ctx, node, key, fields))


def _schedule(ctx: _Ctx, node: Node, key: str) -> Schedule:
    """The schedule section; the bounds of `interval: auto` must be in order."""
    schedule = Schedule(**_mapping(ctx, node, key, _SCHEDULE))
    if schedule.min_interval > schedule.max_interval:
        ctx.fail(node, f"{key}.min_interval", f"must not be longer than max_interval "
                                              f"({schedule.min_interval:g}s > {schedule.max_interval:g}s)")
    return schedule


def _named_list(item: Converter, what: str) -> Converter:
    """A list of mappings with a `name`, each name used once (compared case-insensitively)."""

    def convert(ctx: _Ctx, node: Node, key: str) -> tuple[Any, ...]:
        built: list[Any] = []
        seen: dict[str, int] = {}
        for item_node, item_key in _sequence(ctx, node, key, allow_single=False):
            entry = item(ctx, item_node, item_key)
            name_node = _pairs(ctx, item_node, item_key)["name"][1]
            folded = entry.name.casefold()
            if folded in seen:
                ctx.fail(name_node, f"{item_key}.name",
                         f"duplicate {what} name {_quote(entry.name)} (first used on line {seen[folded]})")
            seen[folded] = _line(name_node) or 0
            built.append(entry)
        return tuple(built)

    return convert


_SCHEDULE: dict[str, Field] = {
    "interval": Field(_duration(positive=True)),
    "jitter": Field(_duration(positive=False)),
    "min_interval": Field(_duration(positive=True)),  # bounds of `interval: auto`
    "max_interval": Field(_duration(positive=True)),
}

_HTTP: dict[str, Field] = {
    "timeout": Field(_duration(positive=True)),
    "max_bytes": Field(_size),
    "user_agent": Field(_header_string),
    "concurrency": Field(_integer(minimum=1)),
    "max_redirects": Field(_integer(minimum=0)),
    "max_items": Field(_integer(minimum=1)),
}

_DEDUP: dict[str, Field] = {
    "window_days": Field(_number(low=0, high=None, low_inclusive=False)),
    "threshold": Field(_number(low=0, high=1, low_inclusive=False)),
}

_FEED: dict[str, Field] = {
    "name": Field(_feed_name, required=True),
    "url": Field(_url, required=True),
    "interval": Field(_feed_interval),
    "full_text": Field(lambda ctx, node, key: _choice(ctx, node, key, FULL_TEXT, "a full_text mode")),
}

_ARTICLES: dict[str, Field] = {
    "min_chars": Field(_integer(minimum=0)),
    "per_host": Field(_integer(minimum=1)),
    "delay": Field(_duration(positive=False)),
    "deadline": Field(_duration(positive=True)),
    "full_text": Field(lambda ctx, node, key: _choice(ctx, node, key, FULL_TEXT, "a full_text mode")),
}

_WATCH: dict[str, Field] = {
    "name": Field(_string, required=True),
    "kind": Field(_kind, required=True),
    "terms": Field(_strings(allow_empty=False), required=True),
    "suffixes": Field(_strings(allow_empty=True)),  # [] means no suffixes; absent means the kind's defaults
    "exclude": Field(_strings(allow_empty=True)),
}

# The top level. Adding `report:` or `log:` later is one entry here (and its field on Config).
_TOP_LEVEL: dict[str, Field] = {
    "database": Field(_path),
    "corpus": Field(_corpus_paths),
    "schedule": Field(_schedule),
    "http": Field(_section(_HTTP, HTTPSettings)),
    "dedup": Field(_section(_DEDUP, DedupSettings)),
    "feeds": Field(_named_list(_section(_FEED, FeedSpec), "feed"), required=True),
    "watch": Field(_named_list(_section(_WATCH, WatchEntry), "watch")),
    "report": Field(lambda ctx, node, key: _report(ctx, node, key)),
    "articles": Field(_section(_ARTICLES, ArticleSettings)),
    "notify": Field(lambda ctx, node, key: _named_list(_notify_entry, "notify")(ctx, node, key)),
    "notify_backfill": Field(_duration(positive=False)),
}


# --------------------------------------------------------------------------- report: (the daemon's daily report)

_WEEKDAYS = {"monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu", "friday": "fri",
             "saturday": "sat", "sunday": "sun"}
_EVERY = re.compile(r"(day|daily|" + "|".join(_WEEKDAYS) + r")(?:\s+at\s+(\d{1,2}):(\d{2}))?", re.IGNORECASE)


def _every(ctx: _Ctx, node: Node, key: str) -> dict[str, Any]:
    """"day at 08:00" (daily) or "monday at 08:00" (weekly) to the hour, minute and weekday of a cron job."""
    value = _string(ctx, node, key)
    m = _EVERY.fullmatch(" ".join(value.split()))
    hour, minute = (int(m.group(2)), int(m.group(3))) if m and m.group(2) else (8, 0)
    if not m or hour > 23 or minute > 59:
        ctx.fail(node, key, f"{_quote(value)} is not a schedule; write \"day at 08:00\" or \"monday at 08:00\"")
    day = m.group(1).lower()
    return {"every": value, "hour": hour, "minute": minute,
            "day_of_week": None if day in ("day", "daily") else _WEEKDAYS[day]}


def _report_format(ctx: _Ctx, node: Node, key: str) -> str:
    from monitor.models import REPORT_FORMATS

    return _choice(ctx, node, key, REPORT_FORMATS, "a report format")


def _timezone(ctx: _Ctx, node: Node, key: str) -> str:
    """An IANA zone name that zoneinfo knows (tzdata is a dependency, so this works on every platform)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    value = _string(ctx, node, key)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        ctx.fail(node, key, f"{_quote(value)} is not a time zone; use an IANA name such as Asia/Tehran or UTC")
    return value


_REPORT: dict[str, Field] = {
    "every": Field(_every),
    "format": Field(_report_format),
    "output": Field(_path),
    "timezone": Field(_timezone),
}


def _report(ctx: _Ctx, node: Node, key: str) -> Any:
    from monitor.models import ReportSettings

    values = _mapping(ctx, node, key, _REPORT)
    values.update(values.pop("every", {}))
    values.setdefault("output", ctx.resolve(ReportSettings.output))
    return ReportSettings(**values)


# --------------------------------------------------------------------------- notify: (alert destinations)

_ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_QUIET = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


def _notify_url(ctx: _Ctx, node: Node, key: str) -> tuple[str, str, tuple[str, ...]]:
    """(the real URL, the URL as shown, the secrets in it). `${NAME}` is read from the environment; an unset
    or empty one is an error here, not a failed send at 3 a.m. The shown form keeps `${NAME}` as written and
    masks a password written in the URL itself, so it can be printed anywhere."""
    template = _string(ctx, node, key)
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in template):
        ctx.fail(node, key, "the URL contains spaces or control characters")
    if "://" not in template:
        ctx.fail(node, key, "is not an Apprise URL (service://...; e.g. tgram://, mailto://, json://, ntfy://)")
    secrets: list[str] = []

    def substitute(m: re.Match[str]) -> str:
        value = os.environ.get(m.group(1))
        if not value:
            ctx.fail(node, key, f"${{{m.group(1)}}} is not set in the environment "
                                f"({'empty' if value == '' else 'unset'}); export it before starting the monitor")
        secrets.append(value)
        return value

    url = _ENV_VAR.sub(substitute, template)
    parts = urlsplit(template)
    shown = template
    try:
        password = parts.password
    except ValueError:
        password = None
    if password and not _ENV_VAR.fullmatch(password):
        secrets.append(password)
        shown = shown.replace(f":{password}@", ":****@", 1)
    return url, shown, tuple(secrets)


def _notify_every(ctx: _Ctx, node: Node, key: str) -> dict[str, Any]:
    """A digest's period: "hour" (hourly), or the grammar of report.every ("day at 08:00", "monday at 08:00")."""
    value = _string(ctx, node, key)
    if " ".join(value.lower().split()) in ("hour", "hourly", "every hour"):
        return {"every": value, "hour": None, "minute": 0, "day_of_week": None}
    if not _EVERY.fullmatch(" ".join(value.split())):
        ctx.fail(node, key, f"{_quote(value)} is not a period; write \"hour\", \"day at 08:00\" or "
                            "\"monday at 08:00\"")
    return _every(ctx, node, key)


def _quiet(ctx: _Ctx, node: Node, key: str) -> tuple[int, int]:
    """"00:00-07:00" (Tehran time) as minutes after midnight; a range past midnight ("22:00-06:00") is fine."""
    value = _string(ctx, node, key)
    m = _QUIET.fullmatch(value.strip())
    if m:
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if max(h1, h2) <= 24 and max(m1, m2) <= 59 and (h1 * 60 + m1) != (h2 * 60 + m2):
            return (h1 * 60 + m1) % 1440, (h2 * 60 + m2) % 1440
    ctx.fail(node, key, f"{_quote(value)} is not a quiet period; write \"HH:MM-HH:MM\" in Tehran time, "
                        "e.g. \"00:00-07:00\" (start and end differ)")


def _notify_mode(ctx: _Ctx, node: Node, key: str) -> str:
    from monitor.models import NOTIFY_MODES

    return _choice(ctx, node, key, NOTIFY_MODES, "a notify mode")


def _kinds(ctx: _Ctx, node: Node, key: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_kind(ctx, item, item_key)
                               for item, item_key in _sequence(ctx, node, key, allow_single=True)))


_NOTIFY: dict[str, Field] = {
    "name": Field(_feed_name, required=True),  # used on the command line: `monitor notify test NAME`
    "url": Field(_notify_url, required=True),
    "watch": Field(_strings(allow_empty=False)),
    "kind": Field(_kinds),
    "mode": Field(_notify_mode),
    "every": Field(_notify_every),
    "quiet": Field(_quiet),
}


def _notify_entry(ctx: _Ctx, node: Node, key: str) -> Any:
    from monitor.models import NotifySpec

    values = _mapping(ctx, node, key, _NOTIFY)
    values["url"], values["shown"], values["secrets"] = values.pop("url")
    values.update(values.pop("every", {}))
    return NotifySpec(**values)


def _check_notify_watch(ctx: _Ctx, root: Node, values: dict[str, Any]) -> None:
    """A destination's `watch:` names entries of the watch list: a typo would silently route nothing there."""
    names = {w.name for w in values.get("watch", ())}
    entries = values.get("notify", ())
    if not entries:
        return
    items = _sequence(ctx, _pairs(ctx, root, "")["notify"][1], "notify", allow_single=False)
    for spec, (item_node, item_key) in zip(entries, items):
        for i, name in enumerate(spec.watch):
            if name not in names:
                watch_node = _pairs(ctx, item_node, item_key)["watch"][1]
                at = watch_node.value[i] if isinstance(watch_node, SequenceNode) else watch_node
                close = difflib.get_close_matches(name, sorted(names), n=1, cutoff=0.6)
                hint = f"; did you mean {_quote(close[0])}?" if close else f" (entries: {', '.join(sorted(names)) or 'none'})"
                ctx.fail(at, f"{item_key}.watch", f"{_quote(name)} is not a watch entry's name{hint}")


# --------------------------------------------------------------------------- message helpers


def _unknown_key_message(name: str, fields: Mapping[str, Field]) -> str:
    allowed = sorted(fields)
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    hint = f"; did you mean {_quote(close[0])}?" if close else "."
    return f"unknown key {_quote(name)}{hint} Allowed keys: {', '.join(allowed)}"


def _required_keys(fields: Mapping[str, Field]) -> str:
    """"required here: name, url", so the fix is spelled out in the message."""
    return "required here: " + ", ".join(name for name, spec in fields.items() if spec.required)


def _describe(node: Node | None) -> str:
    """What a node is, in words a person who writes YAML would use."""
    if node is None:
        return "nothing"
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a mapping" if node.tag == _MAP else f"a {_short_tag(node.tag)} mapping"
    names = {_STR: "text", _INT: "a number", _FLOAT: "a number", _BOOL: "true/false", _NULL: "an empty value"}
    kind = names.get(node.tag, f"a {_short_tag(node.tag)} value")
    return kind if node.tag == _NULL else f"{kind} ({_quote(node.value)})"


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _line(node: Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None
