"""Corpus documents: the known articles read from files, each with its hashes and fingerprints. A document is
fingerprinted again only when its file's path, mtime or size changed (index)."""

from __future__ import annotations

from typing import Any, Iterable

from monitor.models import Source
from monitor.store.db import Db
from monitor.store.fingerprints import Fingerprints


class Corpus:
    """The corpus documents of one database (store.corpus)."""

    def __init__(self, db: Db, fingerprints: Fingerprints) -> None:
        self._db, self._fingerprints = db, fingerprints

    def index(self) -> dict[str, tuple[str, float, int]]:
        """ref -> (path, mtime, size) of the corpus documents already fingerprinted."""
        return {r[0]: (r[1], r[2], r[3]) for r in self._db.execute(
            "SELECT ref, path, mtime, size FROM corpus_docs")}

    def put(self, doc: dict[str, Any], hashes: Iterable[int]) -> None:
        """Store a document (a corpus_docs row without `num`) and its fingerprints, instead of any of its ref."""
        ref = doc["ref"]
        self.delete(ref)
        doc = {**doc, "num": (self._db.one("SELECT max(num) FROM corpus_docs") or 0) + 1}
        cols = list(doc)
        self._db.execute(f"INSERT INTO corpus_docs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                         [doc[c] for c in cols])
        self._fingerprints.add(Source.corpus(ref), hashes)

    def forget_all(self) -> None:
        """Every corpus document and its fingerprints: the next cycle reads and fingerprints the files again."""
        self._db.execute("DELETE FROM fingerprints WHERE doc < 0")
        self._db.execute("DELETE FROM corpus_docs")

    def delete(self, ref: str) -> None:
        num = self._db.one("SELECT num FROM corpus_docs WHERE ref = ?", [ref])
        self._db.execute("DELETE FROM corpus_docs WHERE ref = ?", [ref])
        if num is not None:  # a scan of the fingerprint table: corpus files change rarely
            self._db.execute("DELETE FROM fingerprints WHERE doc = ?", [-num])

    def docs(self) -> list[dict[str, Any]]:
        """Every document, by ref: ref, path, title, published, fingerprint_count."""
        keys = ["ref", "path", "title", "published", "fingerprint_count"]
        return [dict(zip(keys, r)) for r in self._db.execute(
            f"SELECT {', '.join(keys)} FROM corpus_docs ORDER BY ref")]


__all__ = ["Corpus"]
