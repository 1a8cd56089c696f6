"""An HTML page's main text, with trafilatura: the article, not the menus, related news, tags or comments.

Why trafilatura: it is the maintained extractor that scores best in published comparisons (and Media Cloud's
cascade uses it), it is lxml-based and fast, and it already drops the boxes an agency page surrounds an
article with. Options (measured in bench/articles.py; see the module docstring there for the table):
  - include_comments=False: reader comments are not the article (a name in a comment is not a mention);
  - include_tables=True: agency pages put figures (and sometimes whole paragraphs) in tables;
  - deduplicate=True: a teaser repeated in the page is counted once.
Everything else is the default, which is what the numbers chose.

trafilatura drops every character for which str.isprintable() is False, and that includes the half-space
(ZWNJ, U+200C) which Persian words are full of: «مؤتلفه‌ای‌ها» would come out «مؤتلفهایها». The page's
half-spaces are therefore swapped for a printable stand-in before extraction and back after it.
"""

from __future__ import annotations

import re

from monitor import analyse
from monitor.text import strip_boilerplate

__all__ = ["extract_text", "EXTRACT_OPTIONS"]

EXTRACT_OPTIONS = {"include_comments": False, "include_tables": True, "deduplicate": True}

_ZWNJ = "\u200c"
# Printable, not a letter trafilatura treats specially, and never seen in news text; if a page does hold it,
# the half-spaces of that page are left to trafilatura (lost) rather than the stand-in mistaken for one.
_STAND_IN = "\u2e3b"  # THREE-EM DASH
_ZWNJ_ENTITY = re.compile(r"&(?:zwnj|#8204|#x200c);", re.I)
_BLANK_LINES = re.compile(r"\n\s*\n+")


def extract_text(html: str, url: str | None = None) -> str | None:
    """The main text of a page as plain text, one paragraph a line, cleaned as feed text is (lone surrogates,
    control characters, related-headline blocks, source lines: monitor.analyse.clean_text and
    monitor.text.strip_boilerplate); None when trafilatura finds no main text.

    trafilatura is imported here, on the first page, so commands that read no page never load it."""
    import trafilatura

    protect = _STAND_IN not in html
    if protect:
        html = _ZWNJ_ENTITY.sub(_ZWNJ, html).replace(_ZWNJ, _STAND_IN)
    text = trafilatura.extract(html, url=url, output_format="txt", **EXTRACT_OPTIONS)
    if not text:
        return None
    if protect:
        text = text.replace(_STAND_IN, _ZWNJ)
    text = strip_boilerplate(analyse.clean_text(text))
    text = _BLANK_LINES.sub("\n", text).strip()
    return text or None
