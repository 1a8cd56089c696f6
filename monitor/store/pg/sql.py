"""The rooms' SQLite SQL in PostgreSQL's spelling, for the statements that differ only mechanically.

What is translated: the placeholders (`?` to `%s`, `:name` to `%(name)s`, a literal `%` doubled, as psycopg
reads `%`), and `INSERT OR IGNORE INTO ...` to `INSERT INTO ... ON CONFLICT DO NOTHING`. Quoted text is left
alone. Anything else that differs (json_each, group_concat, FTS5, the catalogue) is written in both forms in
its room, branched on `db.dialect`: a translation that guessed at those would hide a difference a reader of
the room should see. Translations are cached: the rooms send a few dozen distinct statements.
"""

from __future__ import annotations

import re
from functools import lru_cache

_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|::|:[A-Za-z_]\w*|\?|%")
_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO\b", re.I)


@lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """`sql` (SQLite's spelling, as the rooms write it) as PostgreSQL reads it through psycopg."""
    def swap(m: re.Match) -> str:
        token = m.group(0)
        if token in ("?",):
            return "%s"
        if token == "%":
            return "%%"
        if token == "::" or token[0] in "'\"":
            return token
        return f"%({token[1:]})s"

    out = _TOKEN.sub(swap, sql)
    if _OR_IGNORE.match(out):
        out = _OR_IGNORE.sub("INSERT INTO", out, count=1).rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
    return out


__all__ = ["translate"]
