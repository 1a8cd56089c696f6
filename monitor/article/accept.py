"""Whether an extracted text is the article the feed item announced: long enough, and holding the feed's lead.

Why both tests: a page may be a cookie wall, a "page not found" in a 200, a live-blog shell or another article
(a CMS that recycles ids, a redirect to the home page). Length alone would store those as the article; the lead
alone would accept a page that is just the lead again. Media Cloud accepts extractions over 200 characters;
here the bound is the caller's (`articles.min_chars`).

The lead test uses the near-duplicate fingerprints of monitor.dedup (the same fold, shingles and winnowing), so
«is the lead in the page» means what «is this item a copy of that one» means. See LEAD_SHARE for the share.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from monitor import dedup
from monitor.text import tokens

__all__ = ["LEAD_SHARE", "LEAD_WORD_SHARE", "MIN_LEAD_FINGERPRINTS", "LeadCheck", "lead_check", "accept"]

# The share of the lead's fingerprints the text (or, failing that, the page: see accept) must hold. Measured
# with bench/articles.py on the 8 gold pages (2 real, 6 fixtures): each page holds 1.00 of its own lead's
# fingerprints in its visible text, while the extraction alone holds 0.00-0.33 of it on the 5 pages whose lead
# the extractor dropped; another page's lead, even on the same topic from the same agency («حزب موتلفه
# اسلامی» meets an ambassador / holds a budget session), is held at 0.00. 0.5 sits in the middle of that gap
# and tolerates a lead the feed edited (a changed figure or a clause cut costs a few fingerprints).
LEAD_SHARE = 0.5
# A lead with fewer fingerprints than this says too little for a share of them (winnowing leaves a 13-word
# lead ONE fingerprint; a 30-word lead, about the 165-character median of Tabnak and Tasnim items, has six): its consecutive word pairs are looked for
# instead, and most of them must be in the text. Measured: YJC's 13-word subtitle has 1.00 of its pairs in its
# page and at most 0.17 in another page, while 8 of its 13 single words were in an unrelated page.
MIN_LEAD_FINGERPRINTS = 3
LEAD_WORD_SHARE = 0.8


class LeadCheck(NamedTuple):
    found: int  # fingerprints (or word pairs, for a short lead) of the lead that the text holds
    total: int  # the lead's fingerprints (or word pairs); 0 when the feed gave no text
    unit: str  # "fingerprints" or "word pairs"

    @property
    def passed(self) -> bool:
        if not self.total:
            return True
        share = LEAD_SHARE if self.unit == "fingerprints" else LEAD_WORD_SHARE
        return self.found >= share * self.total


def lead_check(text: str, lead: str) -> LeadCheck:
    """How much of the feed's lead the text holds (see LEAD_SHARE)."""
    if not lead.strip():
        return LeadCheck(0, 0, "fingerprints")
    (lead_fp, _, _), (text_fp, _, text_fold) = dedup.fingerprints([("", lead), ("", text)])
    hashes = set(lead_fp.hashes)
    if len(hashes) >= MIN_LEAD_FINGERPRINTS:
        return LeadCheck(len(hashes & set(text_fp.hashes)), len(hashes), "fingerprints")
    pairs = _word_pairs(lead)
    if not pairs:
        return LeadCheck(0, 0, "word pairs")
    return LeadCheck(len(pairs & _word_pairs(text)), len(pairs), "word pairs")


def _word_pairs(text: str) -> set[tuple[str, ...]]:
    """The text's consecutive folded word pairs (its one word, for a one-word text). Pairs, not words: a short
    lead's words («در», «را», «استان», «سایت») are in most Persian pages, its pairs only in its own."""
    words = [t.text for t in tokens(text)]
    if len(words) == 1:
        return {(words[0],)}
    return set(zip(words, words[1:]))


def accept(text: str, lead: str, min_chars: int, page_text: Callable[[], str]) -> tuple[str | None, str | None]:
    """(the article text, None) when the extraction is accepted, (None, why not) otherwise.

    The length is the extraction's own: a stub of a page must not pass by the lead put back on it. When the
    extraction lacks the lead but the page's visible text (`page_text`, computed only then) holds it, the
    extractor dropped the lead paragraph (Tasnim's `h3.lead`, Nastooh's `p.summary` outside the articleBody:
    every such fixture page, and khabaronline in the corpus), so the page is the lead's article and the lead
    is put back on top of the text: a name in the lead is a mention in the article too.
    """
    if len(text) < min_chars:
        return None, f"too short ({len(text):,} < {min_chars:,} chars)"
    check = lead_check(text, lead)
    if check.passed:
        return text, None
    if lead_check(page_text(), lead).passed:
        return f"{lead.strip()}\n{text}", None
    return None, f"does not contain the feed's lead ({check.found} of {check.total} {check.unit})"
