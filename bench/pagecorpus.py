"""The article pages the extraction is graded on, and how it is graded: shared by bench/articles.py and
tests/test_article_extract.py, so the bench's table and the tests' thresholds measure the same thing.

Pages: the real ones in ../shared/corpora/article-pages (index.json there; 2 Persian with gold text, 9 Arabic
without) and the fixture pages in fixtures/pages (index.json there; written for this project in the shapes of
Iranian agency pages). For a gold page the item the feed would have sent is known: its title (the gold's first
line for the real pages) and its lead (the gold's second line: the summary the page and the feed carry).

Grading: token precision and recall of the extracted text against the gold text, over the fold of the words
(monitor.text.tokens: spelling variants and half-spaces do not count as differences), as multisets. The gold
text graded against is the article without its title (the item keeps its title apart; the article stage drops
a line that repeats it), lead included.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from monitor.text import tokens

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpora" / "article-pages"
FIXTURES = REPO / "fixtures" / "pages"


@dataclass(frozen=True)
class Page:
    name: str
    path: Path
    source: str  # "corpus" or "fixture"
    title: str = ""
    lead: str = ""
    gold: str | None = None  # the article text without its title, or None when nobody wrote it
    expect: str | None = None  # the start of the reason the page must be refused with, None when accepted
    in_text: tuple[str, ...] = field(default=())  # names the article text must hold
    not_in_text: tuple[str, ...] = field(default=())  # names only in the boxes around it, never in the text

    @property
    def body(self) -> bytes:
        return self.path.read_bytes()


def corpus_pages() -> list[Page]:
    """The real pages (an empty list when the shared corpus is not there)."""
    if not (CORPUS / "index.json").exists():
        return []
    out = []
    for entry in json.loads((CORPUS / "index.json").read_text(encoding="utf-8")):
        title = lead = ""
        gold = None
        if entry.get("gold"):
            lines = (CORPUS / entry["gold"]).read_text(encoding="utf-8").splitlines()
            title, lead, gold = lines[0], lines[1], "\n".join(lines[1:])
        out.append(Page(entry["file"], CORPUS / entry["file"], "corpus", title, lead, gold))
    return out


def fixture_pages() -> list[Page]:
    out = []
    for entry in json.loads((FIXTURES / "index.json").read_text(encoding="utf-8")):
        out.append(Page(entry["file"], FIXTURES / entry["file"], "fixture", entry["title"], entry["lead"],
                        entry["gold"], entry["expect"], tuple(entry["in_text"]), tuple(entry["not_in_text"])))
    return out


def all_pages() -> list[Page]:
    return corpus_pages() + fixture_pages()


def token_scores(extracted: str, gold: str) -> tuple[float, float]:
    """(precision, recall) of the extracted text's folded words against the gold's, as multisets."""
    have = Counter(t.text for t in tokens(extracted))
    want = Counter(t.text for t in tokens(gold))
    common = sum((have & want).values())
    return common / max(1, sum(have.values())), common / max(1, sum(want.values()))
