"""Converters of single values (text, paths, durations, sizes, numbers, URLs, choices, feed names): each takes
(context, node, key), returns the Python value and fails with the node's line and the key.

Why: a section's table names one of these per key, so a rule such as "a duration longer than 0" is written
once and reads the same in every section.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from typing import Sequence
from urllib.parse import urlsplit

from yaml.nodes import Node, ScalarNode

from monitor.config.load import STR, Context, Converter, describe, line_of, quote, scalar, sequence
from monitor.models import AUTO, WATCH_KINDS
from monitor.units import parse_duration, parse_size

FEED_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


# --------------------------------------------------------------------------- value converters


def string(ctx: Context, node: Node, key: str) -> str:
    """A non-blank string, stripped. Numbers are refused rather than silently turned into text."""
    value = scalar(ctx, node, key)
    if value is None:
        ctx.fail(node, key, "cannot be empty")
    if not isinstance(value, str):
        ctx.fail(node, key, f"expected text, got {describe(node)}; put it in quotes if it is meant as text")
    if not value.strip():
        ctx.fail(node, key, "cannot be empty")
    return value.strip()


def wordy_string(ctx: Context, node: Node, key: str) -> str:
    """A string with at least one letter or digit: a term of only spaces or punctuation matches everywhere or nowhere."""
    value = string(ctx, node, key)
    if not any(unicodedata.category(ch)[0] in "LN" for ch in value):
        ctx.fail(node, key, f"{quote(value)} has no letters or digits")
    return value


def header_string(ctx: Context, node: Node, key: str) -> str:
    """A string safe to send as an HTTP header value (no line breaks or control characters)."""
    value = string(ctx, node, key)
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        ctx.fail(node, key, f"{quote(value)} contains a control character or line break")
    return value


def config_path(ctx: Context, node: Node, key: str) -> str:
    return ctx.resolve(string(ctx, node, key))


DATABASE_URL_PREFIXES = ("postgresql://", "postgres://")  # as monitor.store.pg.is_url (config imports no store)


def database_location(ctx: Context, node: Node, key: str) -> str:
    """`database:`: a SQLite file (a path, resolved against the config's folder), or a PostgreSQL URL kept as
    written (postgresql://user@host/db: several monitors then share it)."""
    value = string(ctx, node, key)
    if value.startswith(DATABASE_URL_PREFIXES):
        return value
    if re.match(r"^[a-z][a-z0-9+.-]*://", value, re.I):
        ctx.fail(node, key, f"{quote(value)} is neither a file nor a PostgreSQL URL (postgresql://user@host/db)")
    return ctx.resolve(value)


def corpus_paths(ctx: Context, node: Node, key: str) -> tuple[str, ...]:
    """Corpus folders or files that exist: a typo would otherwise turn dedup against the corpus off silently."""
    paths = []
    for item, item_key in sequence(ctx, node, key, allow_single=True):
        path = config_path(ctx, item, item_key)
        if not os.path.exists(path):
            ctx.fail(item, item_key, f"{quote(path)} does not exist (a folder of .txt files or one .txt file)")
        if not (os.path.isdir(path) or os.path.isfile(path)):
            ctx.fail(item, item_key, f"{quote(path)} is neither a folder nor a file")
        paths.append(path)
    return tuple(paths)


def strings(*, allow_empty: bool) -> Converter:
    """A list of words (or a single one); duplicates are dropped, order kept."""

    def convert(ctx: Context, node: Node, key: str) -> tuple[str, ...]:
        items = sequence(ctx, node, key, allow_single=True)
        if not items and not allow_empty:
            ctx.fail(node, key, "needs at least one entry")
        return tuple(dict.fromkeys(wordy_string(ctx, item, item_key) for item, item_key in items))

    return convert


def duration(*, positive: bool) -> Converter:
    def convert(ctx: Context, node: Node, key: str) -> float:
        value = parse_duration(scalar(ctx, node, key), key=key, path=ctx.file, line=line_of(node))
        if positive and value <= 0:
            ctx.fail(node, key, "must be longer than 0 seconds")
        return value

    return convert


def size(ctx: Context, node: Node, key: str) -> int:
    value = parse_size(scalar(ctx, node, key), key=key, path=ctx.file, line=line_of(node))
    if value <= 0:
        ctx.fail(node, key, "must be more than 0 bytes")
    return value


def integer(*, minimum: int) -> Converter:
    def convert(ctx: Context, node: Node, key: str) -> int:
        value = scalar(ctx, node, key)
        if isinstance(value, bool) or not isinstance(value, int):
            ctx.fail(node, key, f"expected a whole number, got {describe(node)}")
        if value < minimum:
            ctx.fail(node, key, f"must be at least {minimum}, got {value}")
        return value

    return convert


def number(*, low: float, high: float | None, low_inclusive: bool) -> Converter:
    """A finite int/float in a range; the message spells the range out."""

    def convert(ctx: Context, node: Node, key: str) -> float:
        value = scalar(ctx, node, key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            ctx.fail(node, key, f"expected a number, got {describe(node)}")
        too_low = value < low if low_inclusive else value <= low
        if too_low or (high is not None and value > high):
            ctx.fail(node, key, f"must be {_range_text(low, high, low_inclusive)}, got {value}")
        return float(value)

    return convert


def _range_text(low: float, high: float | None, low_inclusive: bool) -> str:
    if high is None:
        return f"{'at least' if low_inclusive else 'more than'} {low:g}"
    return f"{'at least' if low_inclusive else 'more than'} {low:g} and at most {high:g}"


def http_url(ctx: Context, node: Node, key: str) -> str:
    """An absolute http(s) URL with a host and no whitespace, the only kind the fetcher can poll."""
    value = scalar(ctx, node, key)
    if not isinstance(value, str):
        ctx.fail(node, key, f"expected a URL, got {describe(node)}")
    problem = url_problem(value)
    if problem:
        ctx.fail(node, key, f"{quote(value)} is not an http(s) URL: {problem}")
    return value


def url_problem(value: str) -> str | None:
    """Why `value` is not a usable feed URL, or None when it is (also the feeds commands' check of an OPML
    outline's or a typed address, so both refuse exactly what config.yaml would)."""
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


def choice(ctx: Context, node: Node, key: str, allowed: Sequence[str], what: str) -> str:
    """A string that must be one of `allowed`; the message lists them."""
    value = string(ctx, node, key)
    if value not in allowed:
        ctx.fail(node, key, f"{quote(value)} is not {what}; use one of: {', '.join(allowed)}")
    return value


def kind(ctx: Context, node: Node, key: str) -> str:
    return choice(ctx, node, key, WATCH_KINDS, "a kind")


def feed_name(ctx: Context, node: Node, key: str) -> str:
    """Feed names are used on the command line and in the database, so keep them to plain ASCII tokens."""
    value = string(ctx, node, key)
    if not FEED_NAME.fullmatch(value):
        ctx.fail(node, key, f"{quote(value)} is not a valid feed name; use letters, digits, '_', '.', '-', "
                            "starting with a letter or digit")
    return value


def feed_interval(ctx: Context, node: Node, key: str) -> float | None:
    """A duration, or "auto": the daemon adapts the interval to the feed, between schedule.min/max_interval."""
    if isinstance(node, ScalarNode) and node.tag == STR and node.value.strip().lower() == AUTO:
        return AUTO
    return duration(positive=True)(ctx, node, key)

