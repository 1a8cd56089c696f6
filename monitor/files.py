"""Files the monitor writes for people (reports): atomically, and readable by their owner only.

Reports hold what the user watches for, like the database, so they get the database's 0600 too. A user who
publishes the Atom report through a web server grants read access on purpose (chmod, or a copy).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_private(path: str | os.PathLike, text: str) -> Path:
    """Write text (UTF-8, newlines as given) to path via a temporary file and a rename, mode 0600."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=path.suffix)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
