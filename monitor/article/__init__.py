"""The article stage: a fetched page to the article's plain text, or the reason there is none.

Why a stage of its own: real Persian agency feeds carry a lead (Tabnak's and Tasnim's median item text is 165
characters; Fars sends none), so a name in the third paragraph is only found on the page. The stage is pure:
bytes in, text or a reason out. It never fetches (the pipeline does, with the feeds' polite fetcher) and never
touches the store, so it runs in worker processes like the rest of a feed's text work.

    read_page(body, content_type, url, title=..., feed_text=..., min_chars=...) -> PageText
        decode   bytes -> HTML text (BOM, HTTP charset, <meta>, UTF-8, detection)    monitor.article.decode
        extract  HTML -> main text (trafilatura; related news, tags, comments out)   monitor.article.extract
        accept   long enough, and holding the feed's lead                            monitor.article.accept

A page that is not accepted never raises: its PageText has text None and a one-line reason, and the item
keeps its feed text.
"""

from __future__ import annotations

from typing import NamedTuple

from monitor.article.accept import judge
from monitor.article.decode import decode_html, not_html
from monitor.article.extract import extract_text
from monitor.text import fold, html_to_text

__all__ = ["PageText", "read_page"]


class PageText(NamedTuple):
    """What a page gave: the article's plain text (accepted) and None, or None and why not (one line)."""

    text: str | None
    reason: str | None


def read_page(body: bytes, content_type: str | None, url: str | None, *, title: str, feed_text: str,
              min_chars: int) -> PageText:
    """The article text of one fetched page, judged against the feed item it was fetched for.

    `feed_text` is the item's own text from the feed (plain text as monitor.analyse.prepare makes it; HTML is
    converted), "" when the feed gave none: then length alone decides. `title` is the item's title: a first
    line of the extraction that is just the headline again is dropped, since the item keeps its title apart.
    Never raises on the page's content.
    """
    problem = not_html(body, content_type)
    if problem:
        return PageText(None, problem)
    html = decode_html(body, content_type)
    try:
        text = extract_text(html, url)
    except Exception as exc:  # noqa: BLE001 - whatever a page holds, the item keeps its feed text
        return PageText(None, f"extraction failed ({type(exc).__name__}: {str(exc)[:120]})")
    if text is None:
        return PageText(None, f"no article found ({_why_empty(html)})")
    text = _without_headline(text, title)
    lead = html_to_text(feed_text) if "<" in feed_text else feed_text
    reason = judge(text, lead, min_chars)
    if reason:
        return PageText(None, reason)
    return PageText(text, None)


def _without_headline(text: str, title: str) -> str:
    first, _, rest = text.partition("\n")
    if rest and title and fold(first) == fold(title):
        return rest
    return text


def _why_empty(html: str) -> str:
    """A short description of a page with no main text: a script-only shell, or a page without prose."""
    visible = html_to_text(html)
    if len(visible.split()) < 20:
        return "script-only page" if "<script" in html.lower() else "no text on the page"
    return "no main text among the page's blocks"
