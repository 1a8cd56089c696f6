"""The report as Markdown, for pasting into notes and tickets.

Feed text is inert here too: Markdown renderers pass raw HTML through, so `<`, `>` and `&` become entities, and
the characters that start links, emphasis or code are backslash-escaped. Only http(s) links become links.
"""

from __future__ import annotations

import re

from monitor.report.view import ItemView, Report, Segment, period_text, plural

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def text(value: str) -> str:
    """Feed text as literal Markdown: entities for HTML, backslashes for Markdown syntax, one line."""
    value = re.sub(r"\s+", " ", value)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _SPECIAL.sub(r"\\\1", value)
    return re.sub(r"^([-=>]|\d+\.)", r"\\\1", value)  # not a list item, heading underline or quote


def url(link: str) -> str:
    """A link target that cannot end the (...) early or break the line."""
    return link.replace("(", "%28").replace(")", "%29").replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")


def render(report: Report) -> str:
    lines = [f"# {text(report.title or 'Flagged items')}", ""]
    period = period_text(report)
    lines += [plural(len(report.items), "flagged item") + (f", {period}" if period else "")
              + " (times in Tehran; Jalali and Gregorian dates)", ""]
    if report.watch_counts:
        lines += ["| watch entry | items | mentions |", "|---|---:|---:|"]
        lines += [f"| {text(w)} | {n} | {m} |" for w, n, m in report.watch_counts]
        lines.append("")
    for heading, items in report.groups:
        if heading:
            lines += [f"## {text(heading)} ({len(items)})", ""]
        for it in items:
            lines += _item(it)
    return "\n".join(lines).rstrip() + "\n"


def _item(it: ItemView) -> list[str]:
    title = f"[{text(it.title)}]({url(it.link)})" if it.link else text(it.title)
    meta = f"{text(it.feed)} · {it.jalali} ({it.gregorian})" if it.when else text(it.feed)
    watches = ", ".join(f"{text(m.watch)} ×{m.count}" for m in it.matches)
    lines = [f"- **{title.strip()}**", f"  {meta} · {watches}" + (f" · {it.carried}" if it.carried else "")]
    lines += [f"  > {marked_text(s).strip()}" for s in it.snippets]
    return lines + [""]


def marked_text(segments: list[Segment]) -> str:
    return "".join(f"**{text(s.text)}**" if s.marked else text(s.text) for s in segments)
