"""The YAML side of the config: the file read as text, composed into nodes with their lines, unsafe tags
refused, mappings and lists taken apart, and the Context that makes every error name file, line and key.

Why a module of its own: everything here knows YAML and nothing about the schema, so the converters
(monitor.config.convert) and the section tables (monitor.config.sections) are written against these few
functions, never against PyYAML directly.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from monitor.errors import ConfigError

TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (TAG + t for t in ("str", "int", "float", "bool", "null"))
SEQ, MAP, MERGE = TAG + "seq", TAG + "map", TAG + "merge"
# Everything SafeLoader knows how to build, plus merge keys (`<<: *defaults`).
_SAFE_TAGS = frozenset(t for t in yaml.SafeLoader.yaml_constructors if t is not None) | {MERGE}


# --------------------------------------------------------------------------- context


@dataclass(frozen=True)
class Context:
    """What every converter needs: where errors point and what relative paths are relative to."""

    file: str  # the path as the caller spelled it, for messages
    base: str  # absolute folder of the config file

    def fail(self, node: Node | None, key: str, message: str) -> NoReturn:
        line = node.start_mark.line + 1 if node is not None else None
        raise ConfigError(message, path=self.file, line=line, key=key or None)

    def resolve(self, path: str) -> str:
        """Absolute path for a config-relative one (~ expanded), so the daemon's cwd never matters."""
        return os.path.normpath(os.path.join(self.base, os.path.expanduser(path)))


Converter = Callable[[Context, Node, str], Any]


@dataclass(frozen=True)
class Field:
    """One key of a mapping: how to convert its value and which dataclass field it fills."""

    convert: Converter
    attr: str | None = None  # dataclass field name; None means the same as the key
    required: bool = False



# --------------------------------------------------------------------------- reading and parsing


def read_text(ctx: Context, absolute: str) -> str:
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


def compose(ctx: Context, text: str) -> Node:
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


def reject_unsafe_tags(ctx: Context, root: Node) -> None:
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
                child = join_key(key, key_node.value if isinstance(key_node, ScalarNode) else "?")
                stack.extend(((key_node, child), (value_node, child)))


# --------------------------------------------------------------------------- generic shapes


def mapping(ctx: Context, node: Node, key: str, fields: Mapping[str, Field]) -> dict[str, Any]:
    """Convert a mapping by its field table: unknown keys and missing required keys are errors.

    Returns {dataclass field: value} for keys that are present and not null, so callers can
    pass it straight to the dataclass and let its defaults fill the rest.
    """
    if not isinstance(node, MappingNode) or node.tag != MAP:
        ctx.fail(node, key, f"expected a mapping (key: value lines), got {describe(node)}")
    present = pairs(ctx, node, key)
    for name, (key_node, _) in present.items():
        if name not in fields:
            ctx.fail(key_node, join_key(key, name), _unknown_key_message(name, fields))
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        found = present.get(name)
        if found is None and spec.required:
            ctx.fail(node, join_key(key, name), f"is missing; {_required_keys(fields)}")
        if found is None or (found[1].tag == NULL and not spec.required):
            continue  # absent or null: the dataclass default applies
        values[spec.attr or name] = spec.convert(ctx, found[1], join_key(key, name))
    return values


def pairs(ctx: Context, node: MappingNode, key: str,
           merging: frozenset[int] = frozenset()) -> dict[str, tuple[Node, Node]]:
    """{key: (key node, value node)}, rejecting duplicate and non-string keys, applying `<<` merges.

    Explicit keys win over merged ones and earlier merges win over later ones, as YAML says.
    `merging` holds the mappings being merged into, so `&a {<<: *a}` is an error, not a hang.
    """
    explicit: dict[str, tuple[Node, Node]] = {}
    merged: dict[str, tuple[Node, Node]] = {}
    merging = merging | {id(node)}
    for key_node, value_node in node.value:
        if key_node.tag == MERGE:
            for source in _merge_sources(ctx, value_node, key):
                if id(source) in merging:
                    ctx.fail(key_node, join_key(key, "<<"), "a merge (<<) cannot include the mapping it is in")
                for name, pair in pairs(ctx, source, key, merging).items():
                    merged.setdefault(name, pair)
            continue
        if not isinstance(key_node, ScalarNode) or key_node.tag != STR:
            ctx.fail(key_node, key, f"keys must be plain words, not {describe(key_node)}")
        name = key_node.value
        if name in explicit:
            first = explicit[name][0].start_mark.line + 1
            ctx.fail(key_node, join_key(key, name), f"duplicate key {quote(name)} (first set on line {first})")
        explicit[name] = (key_node, value_node)
    return {**merged, **explicit}


def _merge_sources(ctx: Context, node: Node, key: str) -> list[MappingNode]:
    """The mapping(s) named by a `<<:` merge key."""
    sources = node.value if isinstance(node, SequenceNode) else [node]
    for source in sources:
        if not isinstance(source, MappingNode) or source.tag != MAP:
            ctx.fail(source, join_key(key, "<<"), f"a merge (<<) needs a mapping or a list of mappings, got {describe(source)}")
    return sources


def sequence(ctx: Context, node: Node, key: str, *, allow_single: bool) -> list[tuple[Node, str]]:
    """[(item node, item key)] for a list; a lone scalar counts as a one-item list when allowed."""
    if isinstance(node, ScalarNode) and allow_single and node.tag != NULL:
        return [(node, key)]
    if isinstance(node, ScalarNode) and node.tag == NULL:
        return []
    if not isinstance(node, SequenceNode) or node.tag != SEQ:
        ctx.fail(node, key, f"expected a list, got {describe(node)}")
    return [(item, f"{key}[{i}]") for i, item in enumerate(node.value)]


def scalar(ctx: Context, node: Node, key: str) -> Any:
    """A scalar node's Python value (str, int, float, bool, None, date...), built the safe way."""
    if not isinstance(node, ScalarNode):
        ctx.fail(node, key, f"expected a single value, got {describe(node)}")
    try:
        return yaml.constructor.SafeConstructor().construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError) as exc:
        ctx.fail(node, key, f"{quote(node.value)} is not a valid {_short_tag(node.tag)}: {exc}")



# --------------------------------------------------------------------------- message helpers


def _unknown_key_message(name: str, fields: Mapping[str, Field]) -> str:
    allowed = sorted(fields)
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    hint = f"; did you mean {quote(close[0])}?" if close else "."
    return f"unknown key {quote(name)}{hint} Allowed keys: {', '.join(allowed)}"


def _required_keys(fields: Mapping[str, Field]) -> str:
    """"required here: name, url", so the fix is spelled out in the message."""
    return "required here: " + ", ".join(name for name, spec in fields.items() if spec.required)


def describe(node: Node | None) -> str:
    """What a node is, in words a person who writes YAML would use."""
    if node is None:
        return "nothing"
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a mapping" if node.tag == MAP else f"a {_short_tag(node.tag)} mapping"
    names = {STR: "text", INT: "a number", FLOAT: "a number", BOOL: "true/false", NULL: "an empty value"}
    kind = names.get(node.tag, f"a {_short_tag(node.tag)} value")
    return kind if node.tag == NULL else f"{kind} ({quote(node.value)})"


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(TAG):] if tag.startswith(TAG) else tag


def quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def join_key(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def line_of(node: Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None
