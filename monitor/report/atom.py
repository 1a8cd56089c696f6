"""The flagged items as an Atom 1.0 feed (RFC 4287), so analysts can follow the report in their feed reader.

Entry ids are name-based UUIDs of (feed, guid or link), so an item keeps its id across reports, databases and
machines, and a reader never shows it twice. Entry content is an escaped HTML fragment built from the same
escaped pieces as the HTML report; links only for http(s) URLs.
"""

from __future__ import annotations

import uuid
from html import escape

from monitor.report.html import marked_html
from monitor.report.view import ItemView, Report, clean

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/persian-news-monitor")
GENERATOR = "persian-news-monitor"


def entry_id(it: ItemView) -> str:
    key = it.guid or it.raw_link or str(it.id)
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'item:{it.feed}:{clean(key)}')}"


def feed_id(key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'report:{key}')}"


def _time(value: str | None, fallback: str) -> str:
    """RFC 3339 as stored (UTC with offset); Atom needs a date on every entry."""
    return value or fallback


def render(report: Report, *, key: str = "", self_url: str | None = None) -> str:
    """`key` names what the feed selects (its filters) so two different reports never share a feed id."""
    e = escape
    generated = report.generated.isoformat(timespec="seconds")
    updated = max((it.published_utc for it in report.items if it.published_utc), default=None) or generated
    out = ['<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fa">\n',
           f"<id>{feed_id(key)}</id>\n<title>{e(report.title or 'خبرهای علامت‌خورده')}</title>\n",
           f"<updated>{e(updated)}</updated>\n<author><name>{GENERATOR}</name></author>\n",
           f"<generator>{GENERATOR}</generator>\n"]
    if self_url:
        out.append(f'<link rel="self" type="application/atom+xml" href="{e(self_url)}"/>\n')
    for it in report.items:
        when = _time(it.published_utc, updated)
        out.append(f'<entry>\n<id>{entry_id(it)}</id>\n<title type="text">{e(it.title)}</title>\n'
                   f"<updated>{e(when)}</updated>\n<published>{e(when)}</published>\n")
        if it.link:
            out.append(f'<link rel="alternate" type="text/html" href="{e(it.link)}"/>\n')
        out.append(f"<author><name>{e(it.feed)}</name></author>\n")
        for m in it.matches:
            out.append(f'<category term="{e(m.watch)}" label="{e(m.watch)} ×{m.count}"/>\n')
        out.append(f'<content type="html">{e(_content(it))}</content>\n</entry>\n')
    out.append("</feed>\n")
    return "".join(out)


def _content(it: ItemView) -> str:
    e = escape
    meta = (f"<p><bdi>{e(it.feed)}</bdi> · {e(it.jalali)} ({e(it.gregorian)})"
            + (f" · {e(it.carried)}" if it.carried else "") + "</p>")
    watches = "<p>" + "، ".join(f"<bdi>{e(m.watch)}</bdi> ×{m.count}" for m in it.matches) + "</p>"
    snippets = "".join(f'<p dir="auto">{marked_html(s)}</p>' for s in it.snippets)
    return f'<div dir="rtl" lang="fa">{meta}{watches}{snippets}</div>'
