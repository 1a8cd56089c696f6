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

from monitor.article.accept import accept
from monitor.article.decode import decode_html, not_html
from monitor.article.extract import extract_text
from monitor.text import html_to_text

__all__ = ["PageText", "read_page"]


class PageText(NamedTuple):
    """What a page gave: the article's plain text (accepted) and None, or None and why not (one line)."""

    text: str | None
    reason: str | None


def read_page(body: bytes, content_type: str | None, url: str | None, *, title: str, feed_text: str,
              min_chars: int) -> PageText:
    """The article text of one fetched page, judged against the feed item it was fetched for.

    `feed_text` is the item's own text from the feed (plain text as monitor.analyse.prepare makes it; HTML is
    converted), "" when the feed gave none: then length alone decides. `title` is the item's title: a line of
    the extraction that is just the headline again is dropped, since the item keeps its title apart. When the
    extractor left out the lead but the page shows it (Nastooh-CMS pages put it outside the article body), the
    lead is put back on top: see monitor.article.accept. Never raises on the page's content.
    """
    problem = not_html(body, content_type)
    if problem:
        return PageText(None, problem)
    html = decode_html(body, content_type)
    try:
        text = extract_text(html, url, title)
    except Exception as exc:  # noqa: BLE001 - whatever a page holds, the item keeps its feed text
        return PageText(None, f"extraction failed ({type(exc).__name__}: {str(exc)[:120]})")
    page_text = _PageText(html)
    if text is None or len(text) < min_chars:
        empty = page_text.why_empty()
        if empty:
            return PageText(None, f"no article found ({empty})")
        if text is None:
            return PageText(None, "no article found (no main text among the page's blocks)")
    lead = html_to_text(feed_text) if "<" in feed_text else feed_text
    return PageText(*accept(text, lead, min_chars, page_text))


class _PageText:
    """The page's visible text (scripts, styles, noscript dropped), made only when a verdict needs it."""

    def __init__(self, html: str) -> None:
        self._html, self._text = html, None

    def __call__(self) -> str:
        if self._text is None:
            self._text = html_to_text(self._html)
        return self._text

    def why_empty(self) -> str | None:
        """Why the page has no article at all (a script-only shell, no text), or None when it has text."""
        if len(self().split()) >= _SHELL_WORDS:
            return None
        return "script-only page" if "<script" in self._html.lower() else "no text on the page"


# A page showing fewer words than this (menus included) has no article: a JavaScript shell, an empty template.
_SHELL_WORDS = 40
