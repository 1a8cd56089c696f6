"""An HTML page's main text, with trafilatura: the article, not the menus, related news, tags or comments.

Why trafilatura: it is the maintained extractor that scores best in published comparisons (and Media Cloud's
cascade uses it), it is lxml-based and fast, and it already drops most of the boxes an agency page surrounds
an article with. Options, measured with bench/articles.py on the real and the fixture pages:
  - include_comments=False: reader comments are not the article (a name in a comment is not a mention);
  - include_tables=False: legacy Persian pages (IRNA's, Fars's) lay the whole page out in tables, and with
    tables on trafilatura returns the menus, the sidebar's headlines and the footer flattened into the
    article's cells (worst precision over the gold pages 0.62 with tables on, 0.92 off; the two real gold
    pages score the same either way);
  - deduplicate=False: trafilatura's deduplication keeps ONE cache for the whole process, so the second page
    that shares paragraphs with an earlier one (the same article fetched again, a syndicated copy on another
    site) comes out empty. Measured: the second extraction of each gold page returned nothing;
  - neither favor_precision (it found no text at all on the two legacy table pages) nor favor_recall (worst
    precision 0.82, from menus) nor fast (same text, 8.6 -> 6.8 ms CPU a page, but without the fallback
    extractors that rescue unusual layouts): the default balance, well under the 30 ms a page budget.
readability-lxml, measured the same way, keeps more of the legacy pages' furniture and drops more of the
lead (worst precision 0.82, recall 0.82), so it is not used.

Two repairs after trafilatura, both because of what it leaves on Persian agency pages:
  - lines that are, whole, the text of a link on the page (menu items, breadcrumbs, related headlines, tags)
    or hold no letter or digit at all (the «|» and «>» between menu items) are dropped: a line that is a
    link's text is navigation, never the article's prose, and a watched name in it is not a mention;
  - trafilatura drops every character for which str.isprintable() is False, and that includes the half-space
    (ZWNJ, U+200C) Persian words are full of: «مؤتلفه‌ای‌ها» came out «مؤتلفهایها». The page's half-spaces
    are swapped for a printable stand-in before extraction and back after it.
"""

from __future__ import annotations

import logging
import re

from monitor import analyse
from monitor.text import fold, strip_boilerplate

__all__ = ["extract_text", "EXTRACT_OPTIONS"]

# trafilatura logs ERROR lines of its own for pages it cannot read («lxml parsing failed: Document is empty»,
# «parsed tree length: 1, wrong data type or not valid HTML») without naming the page; the stage already says
# it, with the item, as the page's reason. Silenced unless someone configured the logger on purpose.
if logging.getLogger("trafilatura").level == logging.NOTSET:
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)

EXTRACT_OPTIONS = {"include_comments": False, "include_tables": False, "deduplicate": False}

_ZWNJ = "\u200c"
# Printable, not a letter or space trafilatura treats specially, and never seen in news text; if a page does
# hold it, that page's half-spaces are left to trafilatura (lost) rather than the stand-in mistaken for one.
_STAND_IN = "\u2e3b"  # THREE-EM DASH
_ZWNJ_ENTITY = re.compile(r"&(?:zwnj|#8204|#x200c);", re.I)
# A link text longer than this is a paragraph made a link (rare, but then it is prose): never a reason to drop.
_LINK_WORDS = 30
# What sites put between the entries of a menu row or a breadcrumb.
_SEPARATORS = re.compile(r"\s[|>»›/•·-]\s|[|»›•·،]")


def extract_text(html: str, url: str | None = None, title: str = "") -> str | None:
    """The main text of a page as plain text, one paragraph a line, cleaned as feed text is (lone surrogates,
    control characters, related-headline blocks, source lines: monitor.analyse.clean_text and
    monitor.text.strip_boilerplate), without link-text lines and without a line that is the `title` again
    (the item keeps its title apart); None when no main text is found.

    trafilatura is imported here, on the first page, so commands that read no page never load it."""
    import trafilatura

    protect = _STAND_IN not in html
    if protect:
        html = _ZWNJ_ENTITY.sub(_ZWNJ, html).replace(_ZWNJ, _STAND_IN)
    tree = trafilatura.load_html(html)
    if tree is None:
        return None
    navigation = _link_texts(tree)  # before extract, which prunes the tree it is given
    if title:
        navigation.add(fold(title))
    text = trafilatura.extract(tree, url=url, output_format="txt", **EXTRACT_OPTIONS)
    if not text:
        return None
    if protect:
        text = text.replace(_STAND_IN, _ZWNJ)
    lines = [line.strip() for line in analyse.clean_text(text).splitlines() if not _is_navigation(line, navigation)]
    text = strip_boilerplate("\n".join(lines))
    return text or None


def _is_navigation(line: str, links: set[str]) -> bool:
    """A line with no letter or digit, a line that is a link's text, or a row of link texts between separators
    («صفحه نخست | سیاسی | اقتصادی», a footer repeating the menu as plain text)."""
    key = fold(line)
    if not key or key in links:
        return True
    cells = [fold(cell) for cell in _SEPARATORS.split(line)]
    cells = [cell for cell in cells if cell]
    return len(cells) > 1 and all(cell in links for cell in cells)


def _link_texts(tree) -> set[str]:  # noqa: ANN001 - an lxml HtmlElement; lxml ships no type stubs
    """The fold of every link's text on the page, for links of a headline's length or less."""
    out = set()
    for anchor in tree.iter("a"):
        words = anchor.text_content()
        if words and len(words.split()) <= _LINK_WORDS:
            key = fold(words)
            if key:
                out.add(key)
    return out
