"""Where a YAML value stands in its text: lines as PyYAML counts them, offsets, and the extent of a list entry.

Why a module: monitor.feeds.edit splices config.yaml at these positions, and each rule here (a block
collection's end mark lies past the comments after it; a block scalar ends at the start of the next line;
comment lines indented under an entry belong to it) is one a splice must get exactly right.
"""

from __future__ import annotations

import re
from typing import Iterator

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["lines", "offset", "start", "end", "content_end", "indent", "last_line", "dash_line", "alone_on_line"]



_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")  # what PyYAML's reader counts as a line break


def lines(text: str) -> list[str]:
    """The text's lines, each with its break, split where PyYAML counts lines (str.splitlines also splits at
    form feeds and other characters YAML does not), so a mark's line indexes this list."""
    out, at = [], 0
    for m in _BREAK.finditer(text):
        out.append(text[at:m.end()])
        at = m.end()
    if at < len(text):
        out.append(text[at:])
    return out


def offset(lines: list[str], line: int, column: int) -> int:
    return sum(len(l) for l in lines[:line]) + column


def start(lines: list[str], node: Node) -> int:
    return offset(lines, node.start_mark.line, node.start_mark.column)


def end(lines: list[str], node: Node) -> int:
    line, column = content_end(node)
    return offset(lines, line, column)


def walk(node: Node, seen: set[int] | None = None) -> Iterator[Node]:
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    yield node
    if isinstance(node, SequenceNode):
        for child in node.value:
            yield from walk(child, seen)
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            yield from walk(key, seen)
            yield from walk(value, seen)


def content_end(node: Node) -> tuple[int, int]:
    """Where the entry's own text ends: the furthest end of its scalars and flow collections. (A block
    collection's end mark is where the next token starts, past the comments and blank lines after it.)"""
    ends = [(n.end_mark.line, n.end_mark.column) for n in walk(node)
            if isinstance(n, ScalarNode) or getattr(n, "flow_style", False)]
    return max(ends) if ends else (node.start_mark.line, node.start_mark.column)


def indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def last_line(lines: list[str], seq: SequenceNode, item: Node) -> int:
    """The last line of a block list entry: its content, then comment lines indented deeper than its dash."""
    line, column = content_end(item)
    if column == 0 and line > item.start_mark.line:
        line -= 1  # a block scalar's end is the start of the line after it
    while line > item.start_mark.line and not lines[line].strip():
        line -= 1
    dash = seq.start_mark.column
    while line + 1 < len(lines) and is_comment(lines[line + 1]) and indent(lines[line + 1]) > dash:
        line += 1
    return line


def dash_line(lines: list[str], seq: SequenceNode, item: Node) -> int:
    line, dash = item.start_mark.line, seq.start_mark.column
    while line > 0 and lines[line][dash:dash + 1] != "-":
        line -= 1
    return line


def alone_on_line(lines: list[str], seq: SequenceNode) -> bool:
    """`feeds: []` with nothing but a comment after it: turned into a block list rather than filled in place."""
    if seq.start_mark.line != seq.end_mark.line:
        return False
    rest = lines[seq.end_mark.line][seq.end_mark.column:].strip()
    return not rest or rest.startswith("#")
