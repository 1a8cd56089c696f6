"""An alert or a digest as the text a service shows: fitted to its length limit, in its format, readable.

* Right-to-left titles and snippets hold Latin names («G20», «Putin»): each feed-supplied text is a bidi isolate
  (U+2068 ... U+2069), so a Latin run never drags the punctuation or the next field to the wrong side, and
  the feed's own direction controls are removed first (a feed could otherwise reverse the line).
* Telegram renders a small HTML subset (b, i, a, code): HTML services get <b>, <i> and <a href> only, every feed
  text escaped; the others get plain text.
* Each service has a length limit (Telegram 4,096 characters): snippets are shortened first, then a digest's
  items are left out with a line saying how many.
* Every message ends with its stable id (the outbox row, or the digest's period), so a reader can tell the one
  copy a crash may send twice.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from monitor.display import display
from monitor.report.view import clean, jalali_words, safe_link

FSI, PDI = "\u2068", "\u2069"
ELLIPSIS = "…"


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    ref: str  # the stable id printed at the end


def isolate(text: str | None) -> str:
    """Feed text as one bidi isolate: its own direction marks gone, one line."""
    text = " ".join(clean(text).split())
    return f"{FSI}{text}{PDI}" if text else ""


def _when(row: dict[str, Any]) -> str:
    value = row.get("published") or row.get("fetched_at")
    try:
        return jalali_words(datetime.fromisoformat(value)) if value else ""
    except ValueError:
        return ""


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:max(0, limit - 1)].rstrip() + ELLIPSIS


class _Format:
    """Plain text or Telegram's HTML subset: the few pieces a message is made of."""

    def __init__(self, html_mode: bool) -> None:
        self.html = html_mode

    def text(self, value: str) -> str:
        return html.escape(value, quote=False) if self.html else value

    def lines(self, lines: Sequence[str]) -> str:
        """Lines joined: an HTML body needs <br/> (email clients fold a bare newline; Telegram's reducer in
        Apprise turns <br/> into its newline)."""
        return ("<br/>\n" if self.html else "\n").join(lines)

    def bold(self, value: str) -> str:
        return f"<b>{self.text(value)}</b>" if self.html else value

    def italic(self, value: str) -> str:
        return f"<i>{self.text(value)}</i>" if self.html else value

    def link(self, url: str | None, label: str) -> str:
        url = safe_link(url)
        if url is None:
            return ""
        if self.html:
            return f'<a href="{html.escape(url, quote=True)}">{self.text(label)}</a>'
        return url


def alert(row: dict[str, Any], matches: Sequence[dict[str, Any]], *, html_mode: bool, max_len: int,
          ref: str) -> Message:
    """One flagged item: title, feed, Tehran time as a Jalali date, each watch entry with its snippet, the link."""
    f = _Format(html_mode)
    title = isolate(display(row.get("title") or "")) or "(no title)"
    head = f"{f.italic(isolate(row['feed']))} · {f.text(_when(row))}"
    link = f.link(row.get("link"), "پیوند")
    tail = f"{f.text('id ' + ref)}"
    fixed = [head, link, tail]
    budget = max_len - len(title) - sum(len(x) + 1 for x in fixed) - 8
    per = max(40, budget // max(1, len(matches)))
    while True:
        lines = [f"• {f.bold(isolate(m['watch']))} ×{m['count']}: "
                 f"{f.text(isolate(_shorten(display(m.get('snippet') or ''), per)))}" for m in matches]
        body = f.lines([x for x in (head, *lines, link, tail) if x])
        if len(title) + len(body) + 2 <= max_len or per <= 10:
            break
        per = per * 2 // 3
    if len(title) + len(body) + 2 > max_len:  # a service with a tiny limit: the essentials only
        body = f.lines([x for x in (head, link, tail) if x])
    return Message(title=_shorten(title, max_len // 2), body=body, ref=ref)


def digest(rows: Sequence[dict[str, Any]], matches_of: Any, *, html_mode: bool, max_len: int, ref: str,
           period: str) -> Message:
    """A period's flagged items grouped by watch entry (most items first), each group newest first, with
    counts and how many other feeds carried each story. `matches_of(row)` gives the matches shown for a row."""
    f = _Format(html_mode)
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        for m in matches_of(row):
            groups.setdefault(m["watch"], []).append(row)
    order = sorted(groups, key=lambda w: (-len(groups[w]), w))
    title = f"{len(rows)} flagged item{'s' if len(rows) != 1 else ''} · {period}"
    tail = f.text("id " + ref)
    lines: list[str] = []
    used = len(title) + len(tail) + 2
    left = 0
    for watch in order:
        items = sorted(groups[watch], key=lambda r: r.get("published") or r.get("fetched_at") or "", reverse=True)
        header = f"■ {f.bold(isolate(watch))} ({len(items)})"
        if used + len(header) + 40 > max_len:
            left += len(items)
            continue
        lines.extend(["", header] if lines else [header])
        used += len(header) + 8
        for row in items:
            also = f" · also carried by {row['also_carried_by']} feed{'s' if row['also_carried_by'] != 1 else ''}" \
                if row.get("also_carried_by") else ""
            link = f.link(row.get("link"), "پیوند")
            line = (f"• {f.text(isolate(_shorten(display(row.get('title') or ''), 200)))} — "
                    f"{f.italic(isolate(row['feed']))} · {f.text(_when(row) + also)}" + (f" {link}" if link else ""))
            if used + len(line) + 60 > max_len:
                left += 1
                continue
            lines.append(line)
            used += len(line) + 6
    if left:
        lines.append(f.text(f"… and {left} more (monitor report)"))
    body = f.lines([*lines, "", tail])
    return Message(title=title, body=body, ref=ref)


__all__ = ["ELLIPSIS", "FSI", "Message", "PDI", "alert", "digest", "isolate"]
